// SPDX-License-Identifier: GPL-2.0
/* A synthetic fleet and a policy over it (tests/lib/fleet.h). */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "tests/lib/fleet.h"

static const char *const groups[] = {
	"fleet", "cameras", "lab", "g00", "g01", "g02", "g03", "g04", "g05", "g06", "g07", "g08",
	"g09",	 "g10",	    "g11", "g12", "g13", "g14", "g15", "g16", "g17", "g18", "g19",
};
#define NGROUPS (sizeof(groups) / sizeof(groups[0]))

static const char *const apps[] = { "", "a1", "b2", "a7", "zz" };

/* Patterns of the sections, cycled: some cover a few devices, some thousands, some none. */
static const char *const patterns[] = {
	"sensor-0001?", "cam-00*",   "gw-?.site4*", "*-3-x",   "node-1?-x", "sensor-*7",
	"cam-?1?2",	"gw-*.site", "sensor-1*",   "*.site9", "n?de-*",    "cam-9999",
};
#define NPATTERNS (sizeof(patterns) / sizeof(patterns[0]))

uint64_t fleet_rand(struct fleet *f)
{
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 2685821657736338717ULL;
}

static void name_of(size_t i, char *buf)
{
	if (i < 4000)
		snprintf(buf, CG_NAME_MAX, "sensor-%05zu", i);
	else if (i < 7000)
		snprintf(buf, CG_NAME_MAX, "cam-%04zu", i - 4000);
	else if (i < 9000)
		snprintf(buf, CG_NAME_MAX, "node-%zu-x", i - 7000);
	else
		snprintf(buf, CG_NAME_MAX, "gw-%zu.site%zu", (i - 9000) % 10, (i - 9000) / 10);
}

static void services(struct policy *p)
{
	struct service_cfg *s;
	size_t i;

	for (i = 0; i < 16; i++) {
		s = &p->services[i];
		snprintf(s->name, sizeof(s->name), "s%zu", i);
		s->proto = IPPROTO_TCP;
		s->addr.family = AF_INET;
		s->addr.addr[0] = 10;
		s->addr.addr[3] = (uint8_t)i;
		s->addr.plen = 32;
		s->ports[0].lo = s->ports[0].hi = (uint16_t)(1000 + i);
		s->nports = 1;
	}
	p->nservices = 16;
}

/* Section i's device and group selectors (by i % 5) and apps (by i % 4). */
static int section(struct fleet *f, size_t i)
{
	struct policy *p = &f->policy;
	const char *why;
	char sel[CG_NAME_MAX + 1];
	size_t k;
	int err = 0;

	for (k = 0; !err && k < (i % 5 == 0 ? 20 : i % 5 == 3 ? 5 : 0); k++) {
		snprintf(sel, sizeof(sel), "%s%s", k % 2 ? "@" : "",
			 f->dev[fleet_rand(f) % FLEET_DEVICES].name);
		err = policy_add(p, i, POLICY_KEY_DEVICE, sel, &why);
		if (err == -EEXIST) /* the same device drawn twice */
			err = 0;
	}
	if (!err && (i % 5 == 1 || i % 5 == 3))
		err = policy_add(p, i, POLICY_KEY_DEVICE, patterns[i / 5 % NPATTERNS], &why);
	if (!err && (i % 5 == 2 || i % 5 == 3)) {
		snprintf(sel, sizeof(sel), "#%s", groups[3 + i % (NGROUPS - 3)]);
		err = policy_add(p, i, POLICY_KEY_DEVICE, sel, &why);
	}
	if (!err && i % 5 == 4)
		err = policy_add(p, i, POLICY_KEY_GROUP, groups[i % 3], &why);
	if (!err && i % 4 == 1)
		err = policy_add(p, i, POLICY_KEY_APP, "a1", &why);
	if (!err && i % 4 == 2)
		err = policy_add(p, i, POLICY_KEY_APP, i % 8 == 2 ? "a*" : "*", &why);
	if (!err && i % 4 == 3 && !(err = policy_add(p, i, POLICY_KEY_APP, "a1", &why)))
		err = policy_add(p, i, POLICY_KEY_APP, "b?", &why);
	return err;
}

int fleet_build(struct fleet *f, uint64_t seed)
{
	struct policy *p = &f->policy;
	struct policy_cfg *pol;
	struct fleet_device *d;
	size_t i;
	int err;

	memset(f, 0, sizeof(*f));
	f->rng = seed | 1;
	for (i = 0; i < FLEET_DEVICES; i++) {
		d = &f->dev[i];
		name_of(i, d->name);
		if (fleet_rand(f) % 10 < 3) {
			d->groups[d->ngroups++] = groups[fleet_rand(f) % NGROUPS];
			if (fleet_rand(f) % 3 == 0 &&
			    (d->groups[1] = groups[fleet_rand(f) % NGROUPS]) != d->groups[0])
				d->ngroups++;
		}
	}
	services(p);
	for (i = 0; i < FLEET_SECTIONS; i++) {
		pol = &p->policies[p->npolicies++];
		snprintf(pol->name, sizeof(pol->name), "sec%zu", i);
		pol->mode = i % 3 ? CG_TUN_F_ENCRYPTED : 0;
		pol->services[pol->nservices++] = (uint32_t)(i % 16);
		pol->services[pol->nservices++] = (uint32_t)(i * 7 % 16);
		err = section(f, i);
		if (err)
			return err;
	}
	return 0;
}

void fleet_subject(struct fleet *f, struct policy_subject *s, char *buf)
{
	const struct fleet_device *d = &f->dev[fleet_rand(f) % FLEET_DEVICES];

	s->app = apps[fleet_rand(f) % (sizeof(apps) / sizeof(apps[0]))];
	s->device = d->name;
	s->groups = d->groups;
	s->ngroups = d->ngroups;
	switch (fleet_rand(f) % 10) {
	case 0: /* not in the fleet, no groups */
		snprintf(buf, CG_NAME_MAX, "%s%c", d->name, (char)('a' + fleet_rand(f) % 26));
		s->device = buf;
		s->ngroups = 0;
		break;
	case 1: /* a group from the API, not in the certificate */
		f->extra[0] = groups[fleet_rand(f) % NGROUPS];
		s->groups = f->extra;
		s->ngroups = 1;
		break;
	default:
		break;
	}
}
