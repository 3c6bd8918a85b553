/* SPDX-License-Identifier: GPL-2.0 */
/* A synthetic fleet and a policy over it, for tests/unit/test_policy.c and bench/policy_bench.c. */
#ifndef CG_TESTS_FLEET_H
#define CG_TESTS_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include "lib/policy/policy.h"

#define FLEET_DEVICES 10000
#define FLEET_SECTIONS 100
#define FLEET_DEVICE_GROUPS 2

struct fleet_device {
	char name[CG_NAME_MAX];
	const char *groups[FLEET_DEVICE_GROUPS];
	size_t ngroups;
};

/*
 * FLEET_DEVICES devices in four naming schemes (sensor-00001, cam-0001,
 * node-7-x, gw-3.site42), about 30% of them in one or two groups, and
 * FLEET_SECTIONS [allow] sections mixing exact names, @names, patterns,
 * #groups and group =, apps by name and pattern and none, over 16 services
 * of one scope each.
 */
struct fleet {
	struct fleet_device dev[FLEET_DEVICES];
	struct policy policy;
	uint64_t rng;
	const char *extra[1]; /* fleet_subject's group from the API */
};

/* Builds *f from seed (the same seed, the same fleet). 0, or policy_add's error. */
int fleet_build(struct fleet *f, uint64_t seed);

/* The next number of f's generator (xorshift64*). */
uint64_t fleet_rand(struct fleet *f);

/*
 * A random subject into *s: mostly a device of the fleet with its groups,
 * sometimes a name outside it or extra groups; app "", a1, b2, a7 or zz.
 * s points into f and buf (CG_NAME_MAX bytes), valid until the next call.
 */
void fleet_subject(struct fleet *f, struct policy_subject *s, char *buf);

#endif
