// SPDX-License-Identifier: GPL-2.0
/* capgate gateway: the daemon (XDP gate + REST API) in the foreground. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cmd/capgate/cmd.h"
#include "lib/api/api.h"
#include "lib/base/log.h"
#include "lib/config/gateway.h"
#include "lib/gateway/gateway.h"

/* The signalfd, the API, the auth worker's fds and one health check per backend. */
#define POLL_MAX (8 + LB_BACKENDS_MAX)

struct gateway_opts {
	const char *config;
};

static const struct gateway_opts defaults = {
	.config = "/etc/capgate/gateway.ini",
};

static const struct cg_opt gateway_opts_table[] = {
	{ "config", 'c', required_argument, "FILE",
	  "gateway config (default /etc/capgate/gateway.ini)" },
};

static int handle(int val, const char *arg, void *ctx)
{
	struct gateway_opts *o = ctx;

	if (val == 'c') {
		o->config = arg;
		return 0;
	}
	return -1;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int cmd_gateway(int argc, char **argv, const struct cg_global *g)
{
	struct gateway_opts o = defaults;
	struct gw_config cfg;
	struct gateway *gw = NULL;
	struct api *api = NULL;
	struct signalfd_siginfo si;
	char err[512];
	sigset_t mask;
	int sfd = -1, ret = 1, e;
	bool running = false;
	uint64_t next_tick;

	if (g->config)
		o.config = g->config;
	e = opts_parse(argc, argv, "capgate gateway --config FILE", gateway_opts_table,
		       sizeof(gateway_opts_table) / sizeof(gateway_opts_table[0]), handle, &o);
	if (e)
		return e == 1 ? 0 : 2;
	if (optind != argc) {
		fprintf(stderr, "capgate gateway: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	e = config_load(o.config, &cfg, err, sizeof(err));
	if (e) {
		log_err("%s", err);
		return 1;
	}

	/* Signals arrive through the poll loop, never in the middle of a map update. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
#ifdef CG_TESTING
	sigaddset(&mask, SIGUSR2); /* the auth worker's forbidden system call (test builds) */
#endif
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		log_errno(-errno, "signalfd");
		goto out;
	}

	gw = gateway_start(&cfg, err, sizeof(err));
	if (!gw) {
		log_err("%s", err);
		goto out;
	}
	gateway_set_config_path(gw, o.config);
	api = api_new(&gateway_api_ops, gw,
		      &(struct api_conf){ .addr = cfg.api,
					  .token_file = cfg.api_token_file,
					  .metrics_public = cfg.metrics_public },
		      err, sizeof(err));
	if (!api) {
		log_err("REST API: %s", err);
		goto out;
	}
	log_info("REST API on %s", cfg.api);
	running = true;

	next_tick = mono_ms() + 1000;
	for (;;) {
		struct pollfd p[POLL_MAX] = { { .fd = sfd, .events = POLLIN },
					      { .fd = api_fd(api), .events = POLLIN } };
		uint64_t now = mono_ms();
		int tmo = next_tick > now ? (int)(next_tick - now) : 0, at = api_timeout_ms(api);
		int gt = gateway_timeout_ms(gw), n = 2 + gateway_pollfds(gw, p + 2, POLL_MAX - 2);

		if (at >= 0 && at < tmo)
			tmo = at;
		if (gt >= 0 && gt < tmo)
			tmo = gt;
		if (poll(p, n, tmo) < 0 && errno != EINTR) {
			log_errno(-errno, "poll");
			goto out;
		}
		if (p[0].revents & POLLIN) {
			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				continue;
#ifdef CG_TESTING
			if (si.ssi_signo == SIGUSR2) {
				gateway_test_worker_syscall(gw);
				continue;
			}
#endif
			if (si.ssi_signo == SIGHUP) {
				json_t *res = NULL;

				/* gateway_reload logs the outcome, a refusal with its reason. */
				if (!gateway_reload(gw, &res, err, sizeof(err)))
					json_decref(res);
				continue;
			}
			log_info("%s: detaching and exiting", strsignal(si.ssi_signo));
			break;
		}
		api_process(api);
		gateway_process(gw, p + 2, n - 2);
		if (mono_ms() >= next_tick) {
			gateway_tick(gw);
			next_tick = mono_ms() + 1000;
		}
	}
	ret = 0;
out:
	api_free(api);
	/*
	 * Only a signal detaches. A start that fails after taking over the pinned
	 * link of an earlier run leaves it enforcing, as gateway_start() does, and
	 * a failure while running is a crash: fail closed.
	 */
	gateway_free(gw, ret == 0 || (gw && !running && gateway_attached_anew(gw)));
	if (sfd >= 0)
		close(sfd);
	return ret;
}
