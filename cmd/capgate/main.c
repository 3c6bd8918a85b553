// SPDX-License-Identifier: GPL-2.0
/* capgate: one binary, a table of subcommands (as wg and xdp-filter). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/capgate/cmd.h"
#include "lib/auth/privsep.h"
#include "lib/base/log.h"

struct subcommand {
	const char *name;
	int (*fn)(int argc, char **argv, const struct cg_global *g);
	const char *help;
};

static const struct subcommand subcommands[] = {
	{ "gateway", cmd_gateway, "run the gateway daemon (XDP gate, REST API)" },
	{ "connect", cmd_connect, "run the client agent: SPA, mutual TLS, the tunnel" },
	{ "session", cmd_session, "list and revoke sessions" },
	{ "device", cmd_device, "revoke devices, apps, certificates; set device groups" },
	{ "rule", cmd_rule, "list, add and delete CIDR rules" },
	{ "knock", cmd_knock, "list knock profiles and open doors; send a knock" },
	{ "lb", cmd_lb, "list balanced services; add, remove, drain and weigh their backends" },
	{ "stats", cmd_stats, "show packet counters by verdict and reason" },
	{ "dpi", cmd_dpi, "analyze traffic from a capture file or an interface" },
	{ "ca", cmd_ca, "make a CA, the gateway's and devices' certificates, enrollment tokens" },
	{ "enroll", cmd_enroll, "on a device: make its key and get its certificate with a token" },
	{ "token", cmd_token, "make the bearer token a TCP REST API needs" },
	{ "demo", cmd_demo, "build a client/gateway/server topology and show it working" },
};

static const struct cg_opt global_opts[] = {
	{ "json", 'j', no_argument, NULL, "print listings as JSON" },
	{ "api", 'a', required_argument, "ADDR",
	  "REST API address: unix:/PATH, IPV4:PORT or [IPV6]:PORT (default: the --config file's "
	  "api, else $CAPGATE_API, else the only socket in /run/capgate)" },
	{ "config", 'c', required_argument, "FILE",
	  "the gateway config whose api (and api_token_file) to use" },
	{ "token-file", 't', required_argument, "FILE",
	  "bearer token for a TCP API (default: the config's api_token_file, else "
	  "$CAPGATE_TOKEN_FILE)" },
	{ "verbose", 'v', no_argument, NULL, "more logging (repeat for debug)" },
};

static void usage(void)
{
	size_t i;

	opts_usage("capgate [OPTIONS] COMMAND [ARGS...]", global_opts,
		   sizeof(global_opts) / sizeof(global_opts[0]));
	fprintf(stderr, "\nCommands:\n");
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(stderr, "  %-10s %s\n", subcommands[i].name, subcommands[i].help);
	fprintf(stderr, "\n'capgate COMMAND --help' shows the options of a command.\n");
}

static int handle_global(int val, const char *arg, void *ctx)
{
	struct cg_global *g = ctx;

	switch (val) {
	case 'j':
		g->json = true;
		return 0;
	case 'a':
		g->api = arg;
		return 0;
	case 'c':
		g->config = arg;
		return 0;
	case 't':
		g->token_file = arg;
		return 0;
	case 'v':
		g->verbose++;
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct cg_global g = { 0 };
	size_t i;
	int err;

	/* The gateway's TLS worker is this program started again (authw_start). */
	authw_worker_entry(argc, argv);
	if (argc < 2) {
		usage();
		return 2;
	}
	/* Global options stop at the first operand, the subcommand. */
	setenv("POSIXLY_CORRECT", "1", 1);
	err = opts_parse(argc, argv, NULL, global_opts,
			 sizeof(global_opts) / sizeof(global_opts[0]), handle_global, &g);
	unsetenv("POSIXLY_CORRECT");
	if (err == 1) {
		usage();
		return 0;
	}
	if (err)
		return 2;
	if (optind >= argc) {
		usage();
		return 2;
	}
	log_set_level(g.verbose >= 2 ? LOG_LVL_DEBUG : LOG_LVL_INFO);
	log_setup_libbpf();

	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
		if (strcmp(argv[optind], subcommands[i].name) == 0) {
			char **sub = argv + optind;
			int subc = argc - optind;

			optind = 0; /* GNU getopt: reinitialise for the subcommand */
			return subcommands[i].fn(subc, sub, &g);
		}
	}
	fprintf(stderr, "capgate: unknown command \"%s\"\n", argv[optind]);
	usage();
	return 2;
}
