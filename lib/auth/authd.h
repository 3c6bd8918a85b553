/* SPDX-License-Identifier: GPL-2.0 */
/* The privileged side of auth: SPA, the auth worker's requests, sessions, the return path. */
#ifndef CG_AUTH_AUTHD_H
#define CG_AUTH_AUTHD_H

#include <poll.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/config/gateway.h"

struct authd;

/*
 * Starts what [auth] asks for: the SPA socket, the unprivileged TLS worker
 * and the data path (lib/tunnel/path.h: the TUN with the pool's first
 * address and the pool routed into it, its workers and data sockets).
 * sessions_fd is the gate's tun_sessions map, windows_fd its tun_windows
 * map (encrypted sessions' replay windows), doors_fd its knock_open map. Returns NULL with errno
 * set and a reason in err. Whatever authd_new() returns, authd_free() releases (stopping the
 * worker, deleting every session it installed and wiping every key).
 */
struct authd *authd_new(const struct gw_config *cfg, int sessions_fd, int windows_fd, int doors_fd,
			char *err, size_t errlen);
void authd_free(struct authd *a);

/* The fds to poll for POLLIN: writes at most max entries, returns how many. */
int authd_pollfds(const struct authd *a, struct pollfd *p, int max);
/* Serves whatever is ready on the fds authd_pollfds gave (with revents filled). */
void authd_process(struct authd *a, const struct pollfd *p, int n);
/* Expires sessions; call about once a second. */
void authd_tick(struct authd *a);

/*
 * [{"id":..,"device":"dev1","app":"sensor","vip":"100.64.0.2",
 *   "endpoint":"10.10.1.2:40000","expires_in":590,"scopes":[...],
 *   "rx_packets":..,"tx_packets":..}]
 */
int authd_sessions(struct authd *a, json_t **out);
/* Revokes a session at once (map entry, address, keys) and closes its client. -ENOENT if none. */
int authd_revoke(struct authd *a, uint32_t id);
/*
 * {"spa":{"ok":N,...},"auth":{"granted":N,...},"return_path":{...},
 *  "worker":{"died":N,"sigsys":N,"restarted":N,"start_failed":N,"pid":N|null},"sessions":N}
 */
int authd_stats(struct authd *a, json_t **out);
/* The same as Prometheus text lines, appended to *buf (malloc'd). */
int authd_metrics(struct authd *a, const char *gw_name, char **buf);

#ifdef CG_TESTING
/* Test builds: asks the worker for a system call its seccomp filter refuses (SIGSYS). */
void authd_test_worker_syscall(struct authd *a);
#endif

#endif
