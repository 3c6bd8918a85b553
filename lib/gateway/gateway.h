/* SPDX-License-Identifier: GPL-2.0 */
/* The gateway daemon: its state, its lifecycle, and what it hands the REST API. */
#ifndef CG_GATEWAY_H
#define CG_GATEWAY_H

#include <poll.h>
#include <stdbool.h>

#include <jansson.h>

#include "lib/config/gateway.h"

struct gateway;
struct api_ops;

/*
 * Starts a gateway: loads or reuses the pinned maps, restores the rules from
 * state_dir, writes the config into the maps and attaches XDP to the
 * interface. Returns the gateway, or NULL with errno set and a reason in err.
 * Free with gateway_free(), which detaches (detach=true) or leaves XDP
 * enforcing with the pinned state (detach=false, for a crash-like exit).
 */
struct gateway *gateway_start(const struct gw_config *cfg, char *err, size_t errlen);
void gateway_free(struct gateway *gw, bool detach);

/*
 * True if this start attached XDP anew; false if it took over the pinned
 * link of an earlier run, which must keep enforcing when this start fails.
 */
bool gateway_attached_anew(const struct gateway *gw);

/* The config file gateway_reload reads (the one the daemon started from). */
void gateway_set_config_path(struct gateway *gw, const char *path);

/*
 * Reads the config file again (SIGHUP, POST /v1/reload). The whole file is
 * parsed and checked first; if anything but its [service] and [allow]
 * sections changed, nothing changes and -EBUSY says which key needs a
 * restart; a file that does not load is -EINVAL; both with the reason in err,
 * logged and counted (reload_failed). Else the new policy is in force and
 * every live session judged again (lib/auth/authd.h: authd_set_config):
 * *out {"sessions_kept":N,"sessions_rescoped":N,"sessions_revoked":N}.
 */
int gateway_reload(struct gateway *gw, json_t **out, char *err, size_t errlen);

/* Periodic work (expire doors and flows). Call about once a second. */
void gateway_tick(struct gateway *gw);

/* What the REST API may call on a gateway (lib/api/api.h): give it to api_new(). */
extern const struct api_ops gateway_api_ops;

/*
 * The fds the daemon polls for the gateway's own work (auth worker, SPA,
 * return path, health checks): writes at most max, returns how many. gateway_process serves
 * those whose revents are set.
 */
int gateway_pollfds(struct gateway *gw, struct pollfd *p, int max);
void gateway_process(struct gateway *gw, const struct pollfd *p, int n);

/* ms until the gateway's next timed work (a health check), -1 for none: a poll's timeout. */
int gateway_timeout_ms(const struct gateway *gw);

#ifdef CG_TESTING
/* Test builds (SIGUSR2): the auth worker makes a system call its filter refuses. */
void gateway_test_worker_syscall(struct gateway *gw);
#endif

#endif
