// SPDX-License-Identifier: GPL-2.0
/* capgate ca init|issue: make a CA, the gateway's and devices' certificates (lib/auth/ca.c). */
#include <stdio.h>
#include <string.h>

#include "cmd/capgate/cmd.h"
#include "lib/auth/ca.h"

#define CA_USAGE                                                              \
	"capgate ca init --dir DIR --gateway NAME [--ip ADDR]... [--force]\n" \
	"       capgate ca issue --dir DIR --device NAME [--force]"

enum {
	OPT_FORCE = 256,
};

struct ca_opts {
	const char *dir;
	const char *gateway;
	const char *device;
	const char *ips[CA_MAX_IPS];
	size_t nips;
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
	}
	return -1;
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
	fprintf(stderr, "usage: %s\n", CA_USAGE);
	return 2;
}
