/* SPDX-License-Identifier: GPL-2.0 */
/* The gateway's balancer (docs/lb.md): tc_lb attached, its maps kept, health checks, the API. */
#ifndef CG_GATEWAY_LB_H
#define CG_GATEWAY_LB_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/config/gateway.h"
#include "lib/lb/lb.h"

struct gw_lb;

/* True if cfg has a balanced service ([service] with backends). */
bool gw_lb_configured(const struct gw_config *cfg);

/*
 * Starts the balancer of cfg's balanced services: loads tc_lb with its maps
 * pinned in pin_dir (an earlier run's are adopted: flows, backend slots,
 * counters), merges the config with state_path (lb.json), fills the maps and
 * attaches TC ingress on cfg->iface and cfg->lb_ifaces. Returns NULL with errno set and a reason
 * in err. Without balanced services: NULL, errno 0, and every attachment of
 * an earlier run's balancer removed.
 */
struct gw_lb *gw_lb_new(const struct gw_config *cfg, const char *pin_dir, const char *state_path,
			char *err, size_t errlen);

/*
 * The [auth] return-path TUN (ifindex): tc_lb_l3 on its ingress balances
 * the inner packets of encrypted sessions, and replies toward it go through
 * the stack (lb_config.tun_ifindex), which routes them into their session.
 * 0 or a negative errno with the reason in err.
 */
int gw_lb_set_tun(struct gw_lb *lb, int ifindex, char *err, size_t errlen);

/* Stops the checks; detach: removes the TC filters (else they go on balancing, pinned). */
void gw_lb_free(struct gw_lb *lb, bool detach);

/*
 * Applies a reloaded config's balanced services (the same merge as at
 * start; cfg must have some and stay where it is, the gateway's own).
 * Refused with the reason in err: -ENOSPC, -EIO (lb.json or a map write).
 */
int gw_lb_reload(struct gw_lb *lb, const struct gw_config *cfg, char *err, size_t errlen);

/* The VIPs (16-byte form), which count as the gateway's own addresses; returns how many. */
size_t gw_lb_vips(const struct gw_lb *lb, uint8_t (*out)[16], size_t max);

/* Once a second: frees idle and closed flows, counts flows per backend, frees slots. */
void gw_lb_tick(struct gw_lb *lb);

/* The health checks in flight (fds to poll); gw_lb_process runs the due ones. */
int gw_lb_pollfds(struct gw_lb *lb, struct pollfd *p, int max);
void gw_lb_process(struct gw_lb *lb, const struct pollfd *p, int n);
/* ms until the next check is due (-1: none). */
int gw_lb_timeout_ms(const struct gw_lb *lb);

/* The API's operations (lib/api/api.h: lb_list, lb_backend_add/set/del). */
int gw_lb_list(struct gw_lb *lb, json_t **out);
int gw_lb_add(struct gw_lb *lb, const char *svc, const struct lb_be *be, json_t **out);
int gw_lb_set(struct gw_lb *lb, const char *svc, const struct lb_be *be,
	      const struct lb_be_patch *patch, json_t **out);
int gw_lb_del(struct gw_lb *lb, const char *svc, const struct lb_be *be);

/* Prometheus lines (capgate_lb_*) appended to *buf (lib/base/strbuf.h); gw labels them. */
int gw_lb_metrics(struct gw_lb *lb, const char *gw, char **buf);

#endif
