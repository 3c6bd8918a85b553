// SPDX-License-Identifier: GPL-2.0
/* capgate token new: the bearer token a TCP REST API needs (lib/api/token.c). */
#include <stdio.h>
#include <string.h>

#include "cmd/capgate/cmd.h"
#include "lib/api/token.h"

#define TOKEN_USAGE "capgate token new [--file PATH] [--force]"

enum {
	OPT_FORCE = 256,
};

struct token_opts {
	const char *file;
	bool force;
};

static const struct token_opts token_defaults = {
	.file = "/etc/capgate/api.token",
};

static const struct cg_opt token_table[] = {
	{ "file", 'f', required_argument, "PATH",
	  "where to write it (default /etc/capgate/api.token); [gateway] api_token_file names it" },
	{ "force", OPT_FORCE, no_argument, NULL, "replace an existing file" },
};

static int token_opt(int val, const char *arg, void *ctx)
{
	struct token_opts *o = ctx;

	switch (val) {
	case 'f':
		o->file = arg;
		return 0;
	case OPT_FORCE:
		o->force = true;
		return 0;
	}
	return -1;
}

int cmd_token(int argc, char **argv, const struct cg_global *g)
{
	struct token_opts o = token_defaults;
	char err[512] = "";
	int ret;

	(void)g;
	ret = opts_parse(argc, argv, TOKEN_USAGE, token_table,
			 sizeof(token_table) / sizeof(token_table[0]), token_opt, &o);
	if (ret)
		return ret == 1 ? 0 : 2;
	if (argc - optind != 1 || strcmp(argv[optind], "new")) {
		fprintf(stderr, "usage: %s\n", TOKEN_USAGE);
		return 2;
	}
	if (api_token_new(o.file, o.force, err, sizeof(err))) {
		fprintf(stderr, "capgate: token new: %s\n", err);
		return 1;
	}
	fprintf(stderr,
		"wrote a new API token (%d random bytes as %d hex characters, mode 0600):\n",
		API_TOKEN_BYTES, 2 * API_TOKEN_BYTES);
	printf("%s\n", o.file);
	return 0;
}
