/* SPDX-License-Identifier: GPL-2.0 */
/* Knock stage: open doors, open services and the per-source knock state machine. */
#ifndef CG_BPF_KNOCK_H
#define CG_BPF_KNOCK_H

#include "bpf/bound.h"
#include "bpf/common.h"
#include "bpf/flow.h"
#include "bpf/parse.h"
#include "bpf/prefix.h"
#include "bpf/sieve.h" /* sieve_knock_bit */

static __always_inline int port_eq(const struct cg_port *cp, const struct cg_pkt *p)
{
	return cp->proto == p->proto && cp->port == p->dport;
}

/*
 * 1 if a door of @profile leads to the packet's destination: a door of a
 * knock profile to the profile's `to`, a door a valid SPA opened (CG_DOOR_SPA)
 * to the gateway's own addresses only.
 */
static __always_inline int door_leads_to(__u32 profile, const struct gate_config *cfg,
					 const struct cg_pkt *p)
{
	if (profile == CG_DOOR_SPA)
		return dst_is_local(p);
	if (profile >= CG_KNOCK_MAX_PROFILES)
		return 0;
	return dests_match(&cfg->profiles[profile].to, p);
}

/*
 * CG_STAT_PASS_KNOCK when a door is open for (source, proto, dport) and leads
 * to the packet's destination. The packet's 5-tuple becomes a flow, so the
 * connection outlives the door. The time is read only when a door exists
 * (gate_now).
 */
static __always_inline int door_check(const struct cg_pkt *p, const struct gate_config *cfg,
				      __u64 *now)
{
	struct knock_open_key k = {};
	struct knock_open_val *v;

	__builtin_memcpy(k.addr, p->src, 16);
	k.port.proto = p->proto;
	k.port.port = p->dport;
	v = bpf_map_lookup_elem(&knock_open, &k);
	if (!v || gate_now(now) >= v->expires_ns || !door_leads_to(v->profile, cfg, p))
		return CG_CONTINUE;
	flow_add(p, *now);
	return CG_STAT_PASS_KNOCK;
}

/* CG_STAT_PASS_OPEN when (proto, dport) is an open service that leads to the destination. */
static __always_inline int open_check(const struct cg_pkt *p)
{
	struct cg_port k = { .proto = p->proto, .port = p->dport };

	if (dests_match(bpf_map_lookup_elem(&open_ports, &k), p))
		return CG_STAT_PASS_OPEN;
	return CG_CONTINUE;
}

/* What a packet did to the knock state, in the order of verdict priority. */
enum knock_event {
	KNOCK_EV_TIMEOUT = 1 << 0, /* progress was older than step_timeout */
	KNOCK_EV_WRONG = 1 << 1,   /* progress reset by a packet off the sequence */
	KNOCK_EV_STEP = 1 << 2,	   /* right step, or a retransmit of the last one */
	KNOCK_EV_OPEN = 1 << 3,	   /* last step: a door was opened */
};

/* Open the doors of profile @i for @src until now + open_for_ns. */
static __always_inline void knock_open_doors(const struct knock_profile *prof, __u32 i,
					     const __u8 *src, __u64 now)
{
	struct knock_open_val v = { .expires_ns = now + prof->open_for_ns, .profile = i };
	struct knock_open_key k = {};
	__u32 t;

	__builtin_memcpy(k.addr, src, 16);
	for (t = 0; t < CG_KNOCK_MAX_TARGETS; t++) {
		if (t >= prof->ntargets)
			break;
		k.port.proto = prof->targets[t].proto;
		k.port.port = prof->targets[t].port;
		bpf_map_update_elem(&knock_open, &k, &v, BPF_ANY);
	}
}

/* State shared by knock_check and the per-profile callback. */
struct knock_ctx {
	const struct cg_pkt *p;
	const struct gate_config *cfg;
	struct knock_state *st; /* a copy of the source's state, written back once */
	__u64 now;		/* 0 until read: gate_now(&kc->now) */
	__u32 ev;		/* enum knock_event bits */
	__u32 changed;		/* st differs from the map */
	__u32 open;		/* bit per profile whose doors open, once st is written */
};

/*
 * One profile of the knock state machine, a bpf_loop() callback: the verifier
 * checks the body once instead of once per profile and per path through the
 * previous profiles (an unrolled or plain loop over 16 profiles with this
 * many branches exceeds its one-million-instruction budget).
 */
static long knock_profile(__u32 i, void *data)
{
	struct knock_ctx *kc = data;
	const struct cg_pkt *p = kc->p;
	const struct knock_profile *prof;
	struct knock_state *st = kc->st;
	__u32 s, nsteps;

	if (i >= CG_KNOCK_MAX_PROFILES)
		return 1;
	prof = &kc->cfg->profiles[i];
	nsteps = prof->nsteps;
	if (nsteps == 0 || nsteps > CG_KNOCK_MAX_STEPS)
		return 0;
	s = st->step[i];
	/* Progress left over from a profile that got shorter. */
	if (s > nsteps) {
		s = 0;
		st->step[i] = 0;
		kc->changed = 1;
	}
	if (s > 0 && gate_age(gate_now(&kc->now), st->last_ns[i]) > prof->step_timeout_ns) {
		/* A completed sequence just ends: nothing failed. */
		if (s < nsteps)
			kc->ev |= KNOCK_EV_TIMEOUT;
		s = 0;
		st->step[i] = 0;
		kc->changed = 1;
	}
	/*
	 * Done (s == nsteps) until the step timeout: the door is open, and the
	 * last step again is its retransmit (a TCP SYN retry), consumed as a
	 * step rather than left to the default. Anything else is judged from
	 * step 0: the first step starts anew, other packets are not knocks.
	 */
	if (s == nsteps) {
		if (port_eq(&prof->steps[(s - 1) & (CG_KNOCK_MAX_STEPS - 1)], p)) {
			kc->ev |= KNOCK_EV_STEP;
			return 0;
		}
		s = 0;
	}

	if (port_eq(&prof->steps[s & (CG_KNOCK_MAX_STEPS - 1)], p)) {
		s++;
		st->last_ns[i] = gate_now(&kc->now);
		kc->changed = 1;
		kc->ev |= KNOCK_EV_STEP;
		if (s == nsteps) {
			kc->open |= 1U << i;
			kc->ev |= KNOCK_EV_OPEN;
		}
		st->step[i] = s;
	} else if (s > 0 && port_eq(&prof->steps[(s - 1) & (CG_KNOCK_MAX_STEPS - 1)], p)) {
		/* The previous step again: a retransmit, not a wrong knock. */
		kc->ev |= KNOCK_EV_STEP;
	} else if (s > 0) {
		kc->ev |= KNOCK_EV_WRONG;
		kc->changed = 1;
		if (port_eq(&prof->steps[0], p)) {
			st->step[i] = 1;
			st->last_ns[i] = gate_now(&kc->now);
		} else {
			st->step[i] = 0;
		}
	}
	return 0;
}

/* bpf_loop() callback: the doors of profile @i if its bit is in kc->open. */
static long knock_open_profile(__u32 i, void *data)
{
	struct knock_ctx *kc = data;

	if (i >= CG_KNOCK_MAX_PROFILES)
		return 1;
	bpf_bound(i, 15); /* CG_KNOCK_MAX_PROFILES - 1 */
	if (kc->open & (1U << i))
		knock_open_doors(&kc->cfg->profiles[i], i, kc->p->src, kc->now);
	return 0;
}

/* The stripe of knock_locks that guards @src's state. */
static __always_inline struct knock_lock *knock_lock_of(const __u8 *src)
{
	__u32 h = sieve_knock_bit(src) >> (18 - 10); /* log2(CG_KNOCK_LOCKS) */

	return bpf_map_lookup_elem(&knock_locks, &h);
}

/* Times the state machine runs again when another CPU wrote the source's state meanwhile. */
#define CG_KNOCK_TRIES 2

/*
 * Run the packet (TCP or UDP) through every knock profile. One lookup of the
 * source's state serves all profiles. Returns a DROP_KNOCK_* reason when the
 * packet was knock-related (it is consumed), else CG_CONTINUE.
 *
 * A packet off the sequence from a source with progress resets that progress
 * ("wrong"): a sequential port sweep therefore never gets past step one. The
 * previous step seen again is a retransmit (a TCP SYN retry) and is ignored.
 * A source with no state gets one only when it hits some profile's first
 * step, so a spoofed flood cannot fill the LRU and evict real knockers.
 * The time is read only by a profile that needs it (progress or a match).
 *
 * Two CPUs may judge packets of one source at once. The profiles run on a
 * copy (bpf_loop calls a helper, which no lock may span); the copy is taken,
 * and written back only if the state's seq is still the copy's, under the
 * source's stripe of knock_locks (an LRU value cannot hold the lock). A
 * write that lost the race runs the profiles again on the new state, up to
 * CG_KNOCK_TRIES times, then consumes the packet as a step without changing
 * anything. A new source's state is created with BPF_NOEXIST, which loses
 * the same way. Doors open only after the write, so each completed sequence
 * opens them once.
 *
 * A global function (p and cfg may then be NULL to the verifier): checked
 * once instead of once per state of the caller, and its copy of the state is
 * not part of xdp_gate's frame, which must leave room for the capability
 * stage's calls (512 bytes of stack for the whole chain).
 */
__attribute__((noinline)) int knock_check(const struct cg_pkt *p, const struct gate_config *cfg,
					  __u64 now)
{
	struct knock_ctx kc = { .p = p, .cfg = cfg, .now = now };
	struct knock_state st, *ks;
	struct knock_lock *lk;
	__u32 n, seq, t, done = 0;

	if (!p || !cfg)
		return CG_CONTINUE;
	n = cfg->nprofiles;
	if (n == 0)
		return CG_CONTINUE;
	if (n > CG_KNOCK_MAX_PROFILES)
		n = CG_KNOCK_MAX_PROFILES;
	lk = knock_lock_of(p->src);
	if (!lk)
		return CG_CONTINUE;
	kc.st = &st;

	for (t = 0; t < CG_KNOCK_TRIES && !done; t++) {
		ks = bpf_map_lookup_elem(&knock_state, p->src);
		if (ks) {
			bpf_spin_lock(&lk->lock);
			__builtin_memcpy(&st, ks, sizeof(st));
			bpf_spin_unlock(&lk->lock);
		} else {
			__builtin_memset(&st, 0, sizeof(st));
		}
		seq = st.seq;
		kc.ev = 0;
		kc.changed = 0;
		kc.open = 0;
		bpf_loop(n, knock_profile, &kc, 0);
		if (!kc.changed)
			break;
		st.seq = seq + 1;
		if (ks) {
			bpf_spin_lock(&lk->lock);
			if (ks->seq == seq) {
				__builtin_memcpy(ks, &st, sizeof(st));
				done = 1;
			}
			bpf_spin_unlock(&lk->lock);
		} else if (!bpf_map_update_elem(&knock_state, p->src, &st, BPF_NOEXIST)) {
			done = 1;
		}
	}
	if (kc.changed && !done)
		return CG_STAT_DROP_KNOCK_STEP; /* lost every race: consumed, nothing changed */
	if (kc.open)
		bpf_loop(n, knock_open_profile, &kc, 0);

	if (kc.ev & KNOCK_EV_OPEN)
		return CG_STAT_DROP_KNOCK_OPEN;
	if (kc.ev & KNOCK_EV_STEP)
		return CG_STAT_DROP_KNOCK_STEP;
	if (kc.ev & KNOCK_EV_WRONG)
		return CG_STAT_DROP_KNOCK_WRONG;
	if (kc.ev & KNOCK_EV_TIMEOUT)
		return CG_STAT_DROP_KNOCK_TIMEOUT;
	return CG_CONTINUE;
}

#endif
