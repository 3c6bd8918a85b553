/* SPDX-License-Identifier: GPL-2.0 */
/* The gateway daemon's state and the operations the REST API calls on it. */
#ifndef CG_GATEWAY_H
#define CG_GATEWAY_H

#include <poll.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/base/addr.h"
#include "lib/config/gateway.h"

struct gateway;

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

/* Periodic work (expire doors and flows). Call about once a second. */
void gateway_tick(struct gateway *gw);

/*
 * The operations below back the REST API. Each returns 0 or a negative errno;
 * where it has an out-parameter it writes a new JSON value the caller owns
 * (json_decref) on success only. A refused operation changes nothing.
 */

/* [{"id":1,"cidr":"192.168.3.0/24","action":"drop","hits":0}, ...] */
int gw_rules_list(struct gateway *gw, json_t **out);

/*
 * Adds a rule: persisted first (atomically), then written to the datapath.
 * -EEXIST if a rule has the same prefix (*out is then that rule), -ENOSPC when
 * full, -EIO if the state could not be saved or the map not written.
 */
int gw_rule_add(struct gateway *gw, const struct cidr *c, uint32_t action, json_t **out);

/* Deletes rule id. -ENOENT if there is none, -EIO on a save/map failure. */
int gw_rule_del(struct gateway *gw, uint32_t id);

/*
 * {"profiles":[{"name":"ssh","sequence":["tcp/7000",...],"step_timeout":5,
 *   "open":["tcp/22"],"open_for":30}],
 *  "open":[{"source":"10.0.0.2","profile":"ssh","target":"tcp/22","expires_in":27}]}
 */
int gw_knock_list(struct gateway *gw, json_t **out);

/* Closes every door open for this source (16-byte form). -ENOENT if none. */
int gw_knock_close(struct gateway *gw, const uint8_t addr[16]);

/*
 * {"gateway":"edge1","interface":"ext0","xdp_mode":"native","default":"drop",
 *  "packets":{"pass":N,"drop":N},
 *  "reasons":{"pass_open":{"packets":N,"bytes":N}, ... every enum cg_stat},
 *  "rules":N,"doors_open":N}
 */
int gw_stats(struct gateway *gw, json_t **out);

/* Prometheus text exposition of the same (malloc'd, NUL-terminated). */
int gw_metrics(struct gateway *gw, char **out);

/*
 * [{"id":..,"device":"dev1","app":"sensor","vip":"100.64.0.2",
 *   "endpoint":"10.10.1.2:40000","expires_in":590,"scopes":[...],
 *   "rx_packets":..,"tx_packets":..}]; [] without [auth].
 */
int gw_sessions_list(struct gateway *gw, json_t **out);

/* Revokes a session at once. -ENOENT if there is none. */
int gw_session_revoke(struct gateway *gw, uint32_t id);

/*
 * The fds the daemon polls for the gateway's own work (auth worker, SPA,
 * return path): writes at most max, returns how many. gateway_process serves
 * those whose revents are set.
 */
int gateway_pollfds(struct gateway *gw, struct pollfd *p, int max);
void gateway_process(struct gateway *gw, const struct pollfd *p, int n);

#endif
