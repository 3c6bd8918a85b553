// SPDX-License-Identifier: GPL-2.0
/* capgate connect: the client agent in the foreground. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cmd/capgate/cmd.h"
#include "lib/agent/agent.h"
#include "lib/base/log.h"
#include "lib/config/client.h"

struct connect_opts {
	const char *config;
};

static const struct connect_opts defaults = {
	.config = "/etc/capgate/client.ini",
};

static const struct cg_opt connect_opts_table[] = {
	{ "config", 'c', required_argument, "FILE",
	  "client config (default /etc/capgate/client.ini)" },
};

static int handle(int val, const char *arg, void *ctx)
{
	struct connect_opts *o = ctx;

	if (val == 'c') {
		o->config = arg;
		return 0;
	}
	return -1;
}

int cmd_connect(int argc, char **argv, const struct cg_global *g)
{
	struct connect_opts o = defaults;
	struct client_config cfg;
	char err[512];
	sigset_t mask;
	int sfd, e;

	(void)g;
	e = opts_parse(argc, argv, "capgate connect --config FILE", connect_opts_table,
		       sizeof(connect_opts_table) / sizeof(connect_opts_table[0]), handle, &o);
	if (e)
		return e == 1 ? 0 : 2;
	if (optind != argc) {
		fprintf(stderr, "capgate connect: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	e = client_config_load(o.config, &cfg, err, sizeof(err));
	if (e) {
		log_err("%s", err);
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		log_errno(-errno, "signalfd");
		return 1;
	}
	e = agent_run(&cfg, sfd);
	close(sfd);
	return e ? 1 : 0;
}
