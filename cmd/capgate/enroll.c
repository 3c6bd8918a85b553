// SPDX-License-Identifier: GPL-2.0
/* capgate enroll: the device makes its key and gets its certificate with a one-time token. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cmd/capgate/cmd.h"
#include "lib/agent/enroll.h"
#include "lib/auth/token.h"
#include "lib/base/parse_num.h"

#define ENROLL_USAGE                                                                \
	"capgate enroll --gateway ADDR (--token T | --token-file FILE) --dir DIR\n" \
	"               [--key-type ed25519|p256] [--port P] [--spa-port P] [--timeout D]"

enum {
	OPT_TOKEN_FILE = 256,
	OPT_KEY_TYPE,
	OPT_SPA_PORT,
	OPT_TIMEOUT,
};

struct enroll_opts {
	struct enroll_cfg cfg;
	const char *token_file;
	char token[TOKEN_STR_LEN + 2];
};

static const struct cg_opt enroll_table[] = {
	{ "gateway", 'g', required_argument, "ADDR", "the gateway's IP address" },
	{ "token", 't', required_argument, "T", "the token `capgate ca token` printed" },
	{ "token-file", OPT_TOKEN_FILE, required_argument, "FILE",
	  "read the token from FILE (keeps it out of the process list)" },
	{ "dir", 'd', required_argument, "DIR", "where the key and certificates go" },
	{ "key-type", OPT_KEY_TYPE, required_argument, "TYPE", "ed25519 (default) or p256" },
	{ "port", 'p', required_argument, "P", "the gateway's TLS auth port (default 8443)" },
	{ "spa-port", OPT_SPA_PORT, required_argument, "P",
	  "the gateway's SPA port (default 62201)" },
	{ "timeout", OPT_TIMEOUT, required_argument, "D",
	  "how long to wait for the gateway (default 10s)" },
};

static int port_opt(const char *arg, uint16_t *out)
{
	uint32_t v;

	if (parse_u32(arg, 1, 65535, &v)) {
		fprintf(stderr, "capgate: bad port \"%s\"\n", arg);
		return -1;
	}
	*out = (uint16_t)v;
	return 0;
}

static int enroll_opt(int val, const char *arg, void *ctx)
{
	struct enroll_opts *o = ctx;

	switch (val) {
	case 'g':
		o->cfg.gateway = arg;
		return 0;
	case 't':
		o->cfg.token = arg;
		return 0;
	case OPT_TOKEN_FILE:
		o->token_file = arg;
		return 0;
	case 'd':
		o->cfg.dir = arg;
		return 0;
	case OPT_KEY_TYPE:
		if (ca_key_type_parse(arg, &o->cfg.key_type)) {
			fprintf(stderr, "capgate: bad key type \"%s\": want ed25519 or p256\n",
				arg);
			return -1;
		}
		return 0;
	case 'p':
		return port_opt(arg, &o->cfg.port);
	case OPT_SPA_PORT:
		return port_opt(arg, &o->cfg.spa_port);
	case OPT_TIMEOUT:
		if (parse_duration(arg, NS_PER_SEC, 600 * NS_PER_SEC, &o->cfg.timeout_ns)) {
			fprintf(stderr, "capgate: --timeout: 1s to 10m\n");
			return -1;
		}
		return 0;
	}
	return -1;
}

/* The token file's first line into o->token. 0 or -1 with a message. */
static int token_read(struct enroll_opts *o)
{
	FILE *f = fopen(o->token_file, "re");
	char *nl;

	if (!f || !fgets(o->token, sizeof(o->token), f)) {
		fprintf(stderr, "capgate enroll: %s: cannot read a token\n", o->token_file);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	nl = strchr(o->token, '\n');
	if (nl)
		*nl = '\0';
	o->cfg.token = o->token;
	return 0;
}

int cmd_enroll(int argc, char **argv, const struct cg_global *g)
{
	struct enroll_opts o = { .cfg = { .port = 8443, .spa_port = 62201 } };
	struct enroll_result r;
	char err[512] = "";
	uint32_t i;
	int ret;

	(void)g;
	ret = opts_parse(argc, argv, ENROLL_USAGE, enroll_table,
			 sizeof(enroll_table) / sizeof(enroll_table[0]), enroll_opt, &o);
	if (ret)
		return ret == 1 ? 0 : 2;
	if (optind != argc || !o.cfg.gateway || !o.cfg.dir || !o.cfg.token == !o.token_file) {
		fprintf(stderr, "usage: %s\n", ENROLL_USAGE);
		return 2;
	}
	if (o.token_file && token_read(&o))
		return 1;
	ret = agent_enroll(&o.cfg, &r, err, sizeof(err));
	sodium_memzero(o.token, sizeof(o.token));
	if (ret) {
		fprintf(stderr, "capgate enroll: %s\n", err);
		return 1;
	}
	printf("enrolled as %s\n", r.uri);
	if (r.id.ngroups) {
		printf("groups:");
		for (i = 0; i < r.id.ngroups; i++)
			printf(" %s", r.id.groups[i]);
		printf("\n");
	}
	printf("key  %s (made here, mode 0600)\ncert %s\nca   %s\n", r.key_path, r.cert_path,
	       r.ca_path);
	return 0;
}
