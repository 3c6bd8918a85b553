/* SPDX-License-Identifier: GPL-2.0 */
/* Knock profiles, per-source knock progress and open doors. */
#ifndef CG_ABI_KNOCK_H
#define CG_ABI_KNOCK_H

#include <linux/types.h>

#define CG_KNOCK_MAX_STEPS 8
#define CG_KNOCK_MAX_TARGETS 8
#define CG_KNOCK_MAX_PROFILES 16

/* A protocol and a port: a knock step, a door target or an open service. */
struct cg_port {
	__u8 proto; /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad;
	__be16 port;
};
_Static_assert(sizeof(struct cg_port) == 4, "abi");

/* Prefixes in a destination set (struct cg_dests). */
#define CG_DEST_MAX 8

/* A prefix: IPv4 as ::ffff:a.b.c.d with plen counted in 128 bits (an IPv4 /24 is 120). */
struct cg_prefix {
	__u8 addr[16]; /* bits beyond plen are zero */
	__u8 plen;     /* 0..128 */
	__u8 pad[3];
};
_Static_assert(sizeof(struct cg_prefix) == 20, "abi");

/*
 * Where an open service or a door leads (`to =`, docs/config.md): the
 * gateway's own addresses (self, the gate_local map) and/or n prefixes. A
 * packet matches when its destination is one of them; an empty set (self 0,
 * n 0) matches nothing. A prefix matches packets of its own family only.
 */
struct cg_dests {
	__u8 self; /* 1: the gateway's own addresses */
	__u8 n;	   /* prefixes in p[], 0..CG_DEST_MAX */
	__u8 pad[2];
	struct cg_prefix p[CG_DEST_MAX];
};
_Static_assert(sizeof(struct cg_dests) == 164, "abi");

/* One knock profile, part of struct gate_config. */
struct knock_profile {
	__u32 nsteps;	       /* 1..CG_KNOCK_MAX_STEPS */
	__u32 ntargets;	       /* 1..CG_KNOCK_MAX_TARGETS */
	__u64 step_timeout_ns; /* max gap between two steps */
	__u64 open_for_ns;     /* how long the door stays open */
	struct cg_port steps[CG_KNOCK_MAX_STEPS];
	struct cg_port targets[CG_KNOCK_MAX_TARGETS];
	struct cg_dests to; /* where its doors lead (default: self) */
	__u8 pad[4];
};
_Static_assert(sizeof(struct knock_profile) == 256, "abi");

/*
 * knock_state: source address (IPv4 as ::ffff:a.b.c.d) -> progress in every
 * profile. Written by the gate; read and cleared by the daemon.
 */
struct knock_state {
	__u64 last_ns[CG_KNOCK_MAX_PROFILES]; /* coarse time of the last right step */
	__u8 step[CG_KNOCK_MAX_PROFILES];     /* steps done so far, 0 = none */
	__u32 seq; /* bumped by every write: a write based on an older copy is refused */
	__u32 pad;
};
_Static_assert(sizeof(struct knock_state) == 152, "abi");

/*
 * knock_open: (source, proto, port) -> door. Written by the gate when a
 * sequence completes (and by the daemon for SPA); read by the gate; listed,
 * closed and expired by the daemon.
 */
struct knock_open_key {
	__u8 addr[16];
	struct cg_port port;
};
_Static_assert(sizeof(struct knock_open_key) == 20, "abi");

/* knock_open_val.profile of a door a valid SPA packet opened: it leads to the gateway only. */
#define CG_DOOR_SPA 0xffffffffU

struct knock_open_val {
	__u64 expires_ns; /* CLOCK_MONOTONIC(_COARSE) ns the door closes */
	__u32 profile;	  /* index in gate_config.profiles */
	__u32 pad;
};
_Static_assert(sizeof(struct knock_open_val) == 16, "abi");

#endif
