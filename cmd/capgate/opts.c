// SPDX-License-Identifier: GPL-2.0
/* Option tables: getopt_long built from a struct cg_opt table, help generated from it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/capgate/cmd.h"

#define HELP_VAL 'h'

void opts_usage(const char *usage, const struct cg_opt *opts, size_t n)
{
	char left[64];
	size_t i;

	if (usage)
		fprintf(stderr, "usage: %s\n", usage);
	fprintf(stderr, "\nOptions:\n");
	for (i = 0; i < n; i++) {
		int len = 0;

		if (opts[i].val > 0 && opts[i].val < 256)
			len = snprintf(left, sizeof(left), "-%c, ", opts[i].val);
		else
			len = snprintf(left, sizeof(left), "    ");
		snprintf(left + len, sizeof(left) - (size_t)len, "--%s%s%s", opts[i].name,
			 opts[i].has_arg ? " " : "",
			 opts[i].has_arg && opts[i].arg ? opts[i].arg : "");
		fprintf(stderr, "  %-24s %s\n", left, opts[i].help);
	}
	fprintf(stderr, "  %-24s %s\n", "-h, --help", "show this help");
}

int opts_parse(int argc, char **argv, const char *usage, const struct cg_opt *opts, size_t n,
	       int (*handle)(int val, const char *arg, void *ctx), void *ctx)
{
	struct option *lo = NULL;
	char *so = NULL;
	size_t i, k = 0;
	int c, ret = 2;

	lo = calloc(n + 2, sizeof(*lo));
	so = calloc(3 * n + 4, 1);
	if (!lo || !so) {
		fprintf(stderr, "capgate: out of memory\n");
		goto out;
	}
	so[k++] = ':'; /* report a missing argument as ':' */
	for (i = 0; i < n; i++) {
		lo[i].name = opts[i].name;
		lo[i].has_arg = opts[i].has_arg;
		lo[i].val = opts[i].val;
		if (opts[i].val > 0 && opts[i].val < 256) {
			so[k++] = (char)opts[i].val;
			if (opts[i].has_arg == required_argument)
				so[k++] = ':';
		}
	}
	lo[n].name = "help";
	lo[n].val = HELP_VAL;
	so[k++] = HELP_VAL;

	opterr = 0;
	for (;;) {
		c = getopt_long(argc, argv, so, lo, NULL);
		if (c == -1)
			break;
		if (c == HELP_VAL) {
			if (usage)
				opts_usage(usage, opts, n);
			ret = 1;
			goto out;
		}
		if (c == '?' || c == ':') {
			const char *what = optind > 0 && optind - 1 < argc ? argv[optind - 1] : "?";

			if (optopt && optopt < 256 && c == '?')
				fprintf(stderr, "capgate: unknown option -%c\n", optopt);
			else if (c == '?')
				fprintf(stderr, "capgate: unknown option %s\n", what);
			else
				fprintf(stderr, "capgate: option %s needs an argument\n", what);
			if (usage)
				fprintf(stderr, "usage: %s (--help for more)\n", usage);
			goto out;
		}
		if (handle(c, optarg, ctx))
			goto out;
	}
	ret = 0;
out:
	free(lo);
	free(so);
	return ret;
}
