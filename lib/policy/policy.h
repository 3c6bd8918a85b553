/* SPDX-License-Identifier: GPL-2.0 */
/* Who may reach what: [service] and [allow] sections, and (device, app) -> their scopes. */
#ifndef CG_POLICY_H
#define CG_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/tunnel.h"
#include "lib/base/addr.h"
#include "lib/base/name.h"

#define CG_SERVICES_MAX 64
#define CG_POLICIES_MAX 32
#define CG_POLICY_DEVICES_MAX 32
#define CG_POLICY_SERVICES_MAX 16
#define CG_SERVICE_PORTS_MAX 8

/* "80", "443", "8000-8100": one inclusive range, host order. */
struct port_range {
	uint16_t lo, hi;
};

/* [service NAME]: what a session may reach (becomes cg_scope entries). */
struct service_cfg {
	char name[CG_NAME_MAX];
	uint8_t proto;	  /* IPPROTO_TCP / IPPROTO_UDP / IPPROTO_ICMP (ICMPv6 for IPv6 addresses) */
	struct cidr addr; /* address = 10.10.2.2 or 10.10.2.0/24 (host bits refused) */
	struct port_range ports[CG_SERVICE_PORTS_MAX]; /* ports = 80 443 8000-8100; none for ICMP */
	size_t nports;
};

/* [allow NAME]: which devices, with which application, reach which services. */
struct policy_cfg {
	char name[CG_NAME_MAX];
	char devices[CG_POLICY_DEVICES_MAX][CG_NAME_MAX]; /* device = dev1 dev2 (certificate CNs) */
	size_t ndevices;
	char app[CG_NAME_MAX];			   /* app = sensor */
	uint32_t services[CG_POLICY_SERVICES_MAX]; /* services = web echo: indexes in services[] */
	size_t nservices;
	uint8_t mode; /* mode = encrypted (CG_TUN_F_ENCRYPTED, the default) | integrity (0) */
};

/*
 * The [service] and [allow] sections of a gateway config (lib/config fills
 * it; each policy's services are indexes in services[], resolved by the
 * config's checks).
 */
struct policy {
	struct service_cfg services[CG_SERVICES_MAX];
	size_t nservices;
	struct policy_cfg policies[CG_POLICIES_MAX];
	size_t npolicies;
};

/* Why a (device, app) pair gets a session or not: one log line per auth decision. */
enum policy_verdict {
	POLICY_OK = 0,
	POLICY_UNKNOWN_DEVICE,	/* no [allow] section names the device */
	POLICY_APP_NOT_ALLOWED, /* sections name the device, none with this app */
};

/* "ok", "unknown_device", "app_not_allowed" (for logs, stats and JSON). */
const char *policy_verdict_str(enum policy_verdict v);

/*
 * The verdict for (device, app): POLICY_OK when at least one [allow] matches.
 * Then *mode (if mode is not NULL) is the tunnel mode those sections grant:
 * CG_TUN_F_ENCRYPTED if any of them says encrypted (the stricter wins), 0
 * (integrity) only if all of them say integrity. *mode is untouched on a
 * refusal.
 */
enum policy_verdict policy_check(const struct policy *policy, const char *device, const char *app,
				 uint8_t *mode);

/* True if any [allow] section names the device (SPA accepts only those). */
bool policy_device_known(const struct policy *policy, const char *device);

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
int policy_scopes(const struct policy *policy, const char *device, const char *app,
		  struct cg_scope *out, size_t max, size_t *n);

/*
 * The scopes of one [allow] section (section: an index in policy->policies), same form.
 * 0, -EINVAL (no such section) or -E2BIG; out and *n written only on success.
 */
int policy_scopes_of(const struct policy *policy, size_t section, struct cg_scope *out, size_t max,
		     size_t *n);

#endif
