/* SPDX-License-Identifier: GPL-2.0 */
/* The sieve: drop, before the rules, what no later step could admit; and its marks. */
#ifndef CG_BPF_SIEVE_H
#define CG_BPF_SIEVE_H

#include "abi/gate.h"
#include "abi/sieve.h"
#include "bpf/bound.h"
#include "bpf/common.h"
#include "bpf/maps.h"
#include "bpf/parse.h"

static __always_inline struct gate_sieve *sieve_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&gate_sieve, &zero);
}

/* Set @bit in *@w unless it is set: the common case is a read, not a locked write. */
static __always_inline void sieve_or(__u64 *w, __u64 bit)
{
	if (!(*w & bit))
		__sync_fetch_and_or(w, bit);
}

/*
 * A flow with destination port @dport (ingress orientation) was written: its
 * port stays in the sieve's flow set for at least one rotation period. Called
 * wherever a flow's last_ns is written, so a flow the gate would pass is
 * always in the set (docs/datapath.md, "The sieve").
 */
static __always_inline void sieve_mark_flow(__u8 proto, __be16 dport)
{
	struct gate_sieve *s;
	__u16 port = dport;

	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return;
	s = sieve_get();
	if (s)
		sieve_or(&s->flow[s->gen & 1][sieve_proto(proto)][port >> 6], 1ULL << (port & 63));
}

/* @src's knock state was written: it stays in the bloom for at least one rotation period. */
static __always_inline void sieve_mark_knock(const __u8 *src)
{
	struct gate_sieve *s = sieve_get();
	__u32 b = sieve_knock_bit(src);

	if (s)
		sieve_or(&s->knock[s->gen & 1][b >> 6], 1ULL << (b & 63));
}

/*
 * CG_STAT_DROP_DEFAULT for a packet that no later step could admit, else
 * CG_CONTINUE. Only with default drop and the sieve on, for TCP and UDP with
 * a whole L4 header (at @off, the datagram ending at @lim; a malformed one is
 * the full path's to judge), not later fragments (gate_frags decides them).
 * Nothing could admit the packet when its destination port is none that an
 * open service, knock step, door, SPA or flow uses, no rule's prefix covers
 * its source's first 16 bits, and its source has no knock state that a
 * wrong port would reset: the verdict the full path gives (DROP_DEFAULT),
 * from loads of one array value instead of five hash lookups.
 *
 * A global function, like icmp_error_check: verified once, not once per
 * state of xdp_gate's later stages, and its cursor is not part of the frame
 * the capability stage's call chain shares.
 */
__attribute__((noinline)) int sieve_check(struct xdp_md *ctx, __u32 off, __u32 lim,
					  struct cg_pkt *p)
{
	const struct gate_config *cfg;
	const struct gate_sieve *s;
	__u32 pr, pfx, b, zero = 0;
	struct cursor c;
	__u16 port;
	__u64 bit;

	cfg = bpf_map_lookup_elem(&gate_config, &zero);
	if (!ctx || !p || !cfg || cfg->default_action != GATE_DEFAULT_DROP ||
	    p->frag == CG_FRAG_LATER || (p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP))
		return CG_CONTINUE;
	s = sieve_get();
	if (!s || !s->on || off > CG_PARSE_MAX_OFF)
		return CG_CONTINUE;
	bpf_bound(off, 0xfff); /* CG_PARSE_MAX_OFF, for the verifier */
	c.base = (void *)(long)ctx->data;
	c.end = (void *)(long)ctx->data_end;
	c.pos = c.base + off;
	c.lim = lim;
	if (parse_l4(&c, p) < 0)
		return CG_CONTINUE;
	port = p->dport;
	pr = sieve_proto(p->proto);
	bit = 1ULL << (port & 63);
	if ((s->want[pr][port >> 6] | s->flow[0][pr][port >> 6] | s->flow[1][pr][port >> 6]) & bit)
		return CG_CONTINUE;
	pfx = sieve_pfx(p->src, p->v6);
	if (s->rules[p->v6 ? 1 : 0][pfx >> 6] & (1ULL << (pfx & 63)))
		return CG_CONTINUE;
	b = sieve_knock_bit(p->src);
	if ((s->knock[0][b >> 6] | s->knock[1][b >> 6]) & (1ULL << (b & 63)))
		return CG_CONTINUE;
	return CG_STAT_DROP_DEFAULT;
}

#endif
