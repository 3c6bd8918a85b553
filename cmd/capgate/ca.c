// SPDX-License-Identifier: GPL-2.0
/* capgate ca init|issue|token: a CA, certificates (lib/auth/ca.c), enrollment tokens (token.c). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd/capgate/cmd.h"
#include "lib/auth/ca.h"
#include "lib/auth/token.h"
#include "lib/base/parse_num.h"

#define CA_USAGE                                                                            \
	"capgate ca init --dir DIR --gateway NAME [--ip ADDR]... [--force]\n"               \
	"       capgate ca issue --dir DIR --device NAME [--force]\n"                       \
	"       capgate ca token --dir DIR --device NAME [--app APP] [--group G]... --ttl " \
	"DURATION"

enum {
	OPT_FORCE = 256,
	OPT_APP,
	OPT_GROUP,
	OPT_TTL,
};

struct ca_opts {
	const char *dir;
	const char *gateway;
	const char *device;
	const char *ips[CA_MAX_IPS];
	size_t nips;
	const char *app;
	const char *groups[TOKEN_GROUPS_MAX];
	size_t ngroups;
	uint64_t ttl_ns;
	bool force;
};

static const struct ca_opts ca_defaults = {
	.dir = NULL,
};

static const struct cg_opt ca_table[] = {
	{ "dir", 'd', required_argument, "DIR", "where the CA and certificates live" },
	{ "gateway", 'g', required_argument, "NAME",
	  "init: the gateway's name (certificate CN and DNS SAN)" },
	{ "ip", 'i', required_argument, "ADDR",
	  "init: an address of the gateway for the SAN (repeatable)" },
	{ "device", 'n', required_argument, "NAME", "issue: device name, [A-Za-z0-9_.-] <= 63" },
	{ "force", OPT_FORCE, no_argument, NULL, "replace existing key and certificate files" },
	{ "app", OPT_APP, required_argument, "APP", "token: the app the certificate is for" },
	{ "group", OPT_GROUP, required_argument, "G", "token: a group of the device (repeatable)" },
	{ "ttl", OPT_TTL, required_argument, "DURATION",
	  "token: how long it may be used (30m, 1h; at most 168h)" },
};

static int ca_opt(int val, const char *arg, void *ctx)
{
	struct ca_opts *o = ctx;

	switch (val) {
	case 'd':
		o->dir = arg;
		return 0;
	case 'g':
		o->gateway = arg;
		return 0;
	case 'n':
		o->device = arg;
		return 0;
	case 'i':
		if (o->nips == CA_MAX_IPS) {
			fprintf(stderr, "capgate: at most %d --ip addresses\n", CA_MAX_IPS);
			return -1;
		}
		o->ips[o->nips++] = arg;
		return 0;
	case OPT_FORCE:
		o->force = true;
		return 0;
	case OPT_APP:
		o->app = arg;
		return 0;
	case OPT_GROUP:
		if (o->ngroups == TOKEN_GROUPS_MAX) {
			fprintf(stderr, "capgate: at most %d --group\n", TOKEN_GROUPS_MAX);
			return -1;
		}
		o->groups[o->ngroups++] = arg;
		return 0;
	case OPT_TTL:
		if (parse_duration(arg, NS_PER_SEC, TOKEN_TTL_MAX_S * NS_PER_SEC, &o->ttl_ns)) {
			fprintf(stderr, "capgate: --ttl: 1s to 168h\n");
			return -1;
		}
		return 0;
	}
	return -1;
}

/* Prints the token on stdout (and nothing else there: scripts take it as it is). */
static int ca_token(const struct ca_opts *o)
{
	char tok[TOKEN_STR_LEN + 1], err[512] = "";
	int ret;

	ret = token_create(o->dir, o->device, o->app ? o->app : "", o->groups, o->ngroups,
			   o->ttl_ns / NS_PER_SEC, (uint64_t)time(NULL), tok, sizeof(tok), err,
			   sizeof(err));
	if (ret) {
		fprintf(stderr, "capgate: ca token: %s\n", err);
		return 1;
	}
	printf("%s\n", tok);
	fprintf(stderr, "token for %s%s%s, valid %llu s, one use (record in %s/tokens/)\n",
		o->device, o->app ? "@" : "", o->app ? o->app : "",
		(unsigned long long)(o->ttl_ns / NS_PER_SEC), o->dir);
	return 0;
}

int cmd_ca(int argc, char **argv, const struct cg_global *g)
{
	struct ca_opts o = ca_defaults;
	char err[512] = "";
	const char *verb;
	unsigned int flags;
	int n, ret;

	(void)g;
	ret = opts_parse(argc, argv, CA_USAGE, ca_table, sizeof(ca_table) / sizeof(ca_table[0]),
			 ca_opt, &o);
	if (ret)
		return ret == 1 ? 0 : 2;
	n = argc - optind;
	verb = n == 1 ? argv[optind] : "";
	flags = o.force ? CA_FORCE : 0;
	if (!strcmp(verb, "init") && o.dir && o.gateway && !o.device) {
		ret = ca_init_flags(o.dir, o.gateway, o.ips, o.nips, flags, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "capgate: ca init: %s\n", err);
			return 1;
		}
		fprintf(stderr,
			"wrote %s/ca.crt, ca.key, gateway.crt, gateway.key (keys mode 0600)\n",
			o.dir);
		return 0;
	}
	if (!strcmp(verb, "issue") && o.dir && o.device && !o.gateway && !o.nips) {
		ret = ca_issue_flags(o.dir, o.device, flags, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "capgate: ca issue: %s\n", err);
			return 1;
		}
		fprintf(stderr, "wrote %s/%s.crt and %s.key (key mode 0600)\n", o.dir, o.device,
			o.device);
		return 0;
	}
	if (!strcmp(verb, "token") && o.dir && o.device && o.ttl_ns && !o.gateway && !o.nips &&
	    !o.force)
		return ca_token(&o);
	fprintf(stderr, "usage: %s\n", CA_USAGE);
	return 2;
}
