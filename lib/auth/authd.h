/* SPDX-License-Identifier: GPL-2.0 */
/* The privileged side of auth: SPA, the auth worker's requests, sessions, the return path. */
#ifndef CG_AUTH_AUTHD_H
#define CG_AUTH_AUTHD_H

#include <poll.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/config/gateway.h"

struct authd;
struct revocation;

/*
 * Starts what [auth] asks for: the SPA socket, the unprivileged TLS worker
 * and the data path (lib/tunnel/path.h: the TUN with the pool's first
 * address and the pool routed into it, its workers and data sockets).
 * sessions_fd is the gate's tun_sessions map, rescope_fd its xdp_rescope
 * program (new scopes for a live session), windows_fd its tun_windows
 * map (encrypted sessions' replay windows), doors_fd its knock_open map. Returns NULL with errno
 * set and a reason in err. Whatever authd_new() returns, authd_free() releases (stopping the
 * worker, deleting every session it installed and wiping every key).
 */
struct authd *authd_new(const struct gw_config *cfg, int sessions_fd, int rescope_fd,
			int windows_fd, int doors_fd, char *err, size_t errlen);
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
 * Revokes what r names (lib/auth/revoke.h: kind and fields): saved to
 * revocations.json first, then in force at once: every session it covers
 * ends (map entry, address, keys) and its channel is closed with reason
 * "revoked"; new handshakes of it are denied "revoked", SPA packets of a
 * revoked device refused. 0 and *out the new entry as JSON; -EEXIST (*out:
 * the entry there), -EINVAL, -ENOSPC, -EIO (not saved: nothing changed).
 */
int authd_revoke_add(struct authd *a, const struct revocation *r, json_t **out);
/* Removes revocation id (saved first): new handshakes of it may succeed. 0, -ENOENT, -EIO. */
int authd_revoke_del(struct authd *a, uint32_t id);
/* [{"id":1,"device":"dev1","time":..,"note":".."}, {"id":2,"serial":"0a1b",..}] */
int authd_revocations(struct authd *a, json_t **out);

/* What judging the live sessions again did. */
struct authd_rejudged {
	size_t kept;	 /* untouched: same slot, keys and scopes */
	size_t rescoped; /* new scopes in the gate's entry and the data path, session kept */
	size_t revoked;	 /* no longer allowed (or its mode): ended with reason "policy" */
};

/*
 * Takes a new config (its [service] and [allow]: the caller has checked that
 * nothing else changed; cfg must outlive a or the next call) and judges
 * every live session again (authd_rejudge).
 */
void authd_set_config(struct authd *a, const struct gw_config *cfg, struct authd_rejudged *out);
/*
 * Judges every live session again against the policy in force: one that lost
 * its allowance ends (reason "policy", counted sessions_revoked_by_policy),
 * one whose scopes changed gets them in the gate's map entry and the data
 * path at once (sessions_rescoped), the rest carry on untouched.
 */
void authd_rejudge(struct authd *a, struct authd_rejudged *out);

/*
 * Sets the groups device holds through the API (n = 0: none), saved to
 * devices.json first (lib/auth/registry.h: registry_set's errors), then
 * judges the live sessions again as a reload does (*out).
 */
int authd_device_groups(struct authd *a, const char *device, const char *const *groups, size_t n,
			struct authd_rejudged *out);
/* {"dev1":["sensors","floor2"], ...}: the groups set through the API. */
int authd_devices(struct authd *a, json_t **out);

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
