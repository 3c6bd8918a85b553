// SPDX-License-Identifier: GPL-2.0
/* Policy evaluation: [allow] sections matched by device and app, [service] into cg_scope. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/policy/policy.h"

const char *policy_verdict_str(enum policy_verdict v)
{
	switch (v) {
	case POLICY_OK:
		return "ok";
	case POLICY_UNKNOWN_DEVICE:
		return "unknown_device";
	case POLICY_APP_NOT_ALLOWED:
		return "app_not_allowed";
	}
	return "unknown";
}

static bool names_device(const struct policy_cfg *pol, const char *device)
{
	size_t i;

	for (i = 0; i < pol->ndevices; i++)
		if (!strcmp(pol->devices[i], device))
			return true;
	return false;
}

static bool matches(const struct policy_cfg *pol, const char *device, const char *app)
{
	return !strcmp(pol->app, app) && names_device(pol, device);
}

bool policy_device_known(const struct policy *policy, const char *device)
{
	size_t i;

	for (i = 0; i < policy->npolicies; i++)
		if (names_device(&policy->policies[i], device))
			return true;
	return false;
}

enum policy_verdict policy_check(const struct policy *policy, const char *device, const char *app,
				 uint8_t *mode)
{
	uint8_t m = 0;
	bool found = false;
	size_t i;

	/* Several sections may match: the stricter mode wins (encrypted over integrity). */
	for (i = 0; i < policy->npolicies; i++) {
		if (!matches(&policy->policies[i], device, app))
			continue;
		found = true;
		m |= policy->policies[i].mode;
	}
	if (!found)
		return policy_device_known(policy, device) ? POLICY_APP_NOT_ALLOWED
							   : POLICY_UNKNOWN_DEVICE;
	if (mode)
		*mode = m;
	return POLICY_OK;
}

/* Range r of svc (ICMP: r is ignored) as a scope. */
static void service_scope(const struct service_cfg *svc, size_t r, struct cg_scope *s)
{
	memset(s, 0, sizeof(*s));
	cidr_to_mapped(&svc->addr, s->addr, &s->plen);
	s->proto = svc->proto;
	if (svc->nports) {
		s->port_lo = svc->ports[r].lo;
		s->port_hi = svc->ports[r].hi;
	}
}

/* Appends the scopes of pol to out[*n..max) that are not there yet. 0 or -E2BIG. */
static int add_policy(const struct policy *policy, const struct policy_cfg *pol,
		      struct cg_scope *out, size_t max, size_t *n)
{
	const struct service_cfg *svc;
	struct cg_scope s;
	size_t i, r, k, nr;

	for (i = 0; i < pol->nservices; i++) {
		if (pol->services[i] >= policy->nservices)
			return -EINVAL;
		svc = &policy->services[pol->services[i]];
		nr = svc->nports ? svc->nports : 1;
		for (r = 0; r < nr; r++) {
			service_scope(svc, r, &s);
			for (k = 0; k < *n; k++)
				if (!memcmp(&out[k], &s, sizeof(s)))
					break;
			if (k < *n)
				continue;
			if (*n == max)
				return -E2BIG;
			out[(*n)++] = s;
		}
	}
	return 0;
}

int policy_scopes(const struct policy *policy, const char *device, const char *app,
		  struct cg_scope *out, size_t max, size_t *n)
{
	struct cg_scope tmp[CG_MAX_SCOPES];
	size_t i, cnt = 0, lim = max < CG_MAX_SCOPES ? max : CG_MAX_SCOPES;
	bool found = false;
	int err;

	for (i = 0; i < policy->npolicies; i++) {
		if (!matches(&policy->policies[i], device, app))
			continue;
		found = true;
		err = add_policy(policy, &policy->policies[i], tmp, lim, &cnt);
		if (err)
			return err;
	}
	if (!found)
		return -EACCES;
	memcpy(out, tmp, cnt * sizeof(tmp[0]));
	*n = cnt;
	return 0;
}

int policy_scopes_of(const struct policy *policy, size_t section, struct cg_scope *out, size_t max,
		     size_t *n)
{
	struct cg_scope tmp[CG_MAX_SCOPES];
	size_t cnt = 0, lim = max < CG_MAX_SCOPES ? max : CG_MAX_SCOPES;
	int err;

	if (section >= policy->npolicies)
		return -EINVAL;
	err = add_policy(policy, &policy->policies[section], tmp, lim, &cnt);
	if (err)
		return err;
	memcpy(out, tmp, cnt * sizeof(tmp[0]));
	*n = cnt;
	return 0;
}
