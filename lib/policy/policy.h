/* SPDX-License-Identifier: GPL-2.0 */
/* Policy evaluation: (device, app) -> the scopes of every [allow] section that matches. */
#ifndef CG_POLICY_H
#define CG_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "abi/tunnel.h"
#include "lib/config/gateway.h"

/* Why a (device, app) pair gets a session or not: one log line per auth decision. */
enum policy_verdict {
	POLICY_OK = 0,
	POLICY_UNKNOWN_DEVICE,	/* no [allow] section names the device */
	POLICY_APP_NOT_ALLOWED, /* sections name the device, none with this app */
};

/* "ok", "unknown_device", "app_not_allowed" (for logs, stats and JSON). */
const char *policy_verdict_str(enum policy_verdict v);

/* The verdict for (device, app): POLICY_OK when at least one [allow] matches. */
enum policy_verdict policy_check(const struct gw_config *cfg, const char *device, const char *app);

/* True if any [allow] section names the device (SPA accepts only those). */
bool policy_device_known(const struct gw_config *cfg, const char *device);

/*
 * The union of the scopes of every [allow] whose device list holds device and
 * whose app equals app (both compared exactly). A service becomes one scope
 * per port range (one for ICMP, ports 0); IPv4 addresses as ::ffff:a.b.c.d
 * with plen + 96; identical scopes appear once; order: sections, services,
 * ranges as in the file. Returns 0 and writes out[0..*n), -EACCES when no
 * section matches (policy_check says why), -E2BIG if more than max (which
 * counts as at most CG_MAX_SCOPES: a session holds no more). out and *n are
 * written only on success.
 */
int policy_scopes(const struct gw_config *cfg, const char *device, const char *app,
		  struct cg_scope *out, size_t max, size_t *n);

/*
 * The scopes of one [allow] section (index in cfg->policies), same form.
 * 0, -EINVAL (no such section) or -E2BIG; out and *n written only on success.
 */
int policy_scopes_of(const struct gw_config *cfg, size_t policy, struct cg_scope *out, size_t max,
		     size_t *n);

#endif
