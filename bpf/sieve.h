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
 * The sieve's facts about the source, before any L4 parse: the sieve's sets when it
 * is on, the default is drop, the packet is TCP or UDP and not a later
 * fragment, no rule's prefix covers its source's first 16 bits and its
 * source is not in the knock bloom; then only its port decides
 * (sieve_check). NULL sends the packet down the full path: a source a rule
 * covers pays one inlined lookup and a load here.
 */
static __always_inline const struct gate_sieve *sieve_source(const struct cg_pkt *p,
							     const struct gate_config *cfg)
{
	const struct gate_sieve *s;
	__u32 pfx, b;

	if (!cfg || cfg->default_action != GATE_DEFAULT_DROP || p->frag == CG_FRAG_LATER ||
	    (p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP))
		return NULL;
	s = sieve_get();
	if (!s || !s->on)
		return NULL;
	pfx = sieve_pfx(p->src, p->v6);
	if (s->rules[p->v6 ? 1 : 0][pfx >> 6] & (1ULL << (pfx & 63)))
		return NULL;
	b = sieve_knock_bit(p->src);
	if ((s->knock[0][b >> 6] | s->knock[1][b >> 6]) & (1ULL << (b & 63)))
		return NULL;
	return s;
}

/*
 * CG_STAT_DROP_DEFAULT for a packet sieve_source() gave the sets @s for, whose
 * destination port no open service, knock step, door, SPA or flow uses:
 * nothing after the sieve could admit it, so this is the verdict the full
 * path gives, from loads of one array value instead of five hash lookups.
 * Else CG_CONTINUE, also for an L4 header (at @c) that is not whole
 * (parse_l4's test): a malformed one is the full path's to judge. Inline and
 * without a cursor copy: a call costs more here than the sieve's loads.
 */
static __always_inline int sieve_check(const struct cursor *c, const struct cg_pkt *p,
				       const struct gate_sieve *s)
{
	struct tcphdr *th = c->pos;
	struct udphdr *uh = c->pos;
	__u32 pr = sieve_proto(p->proto);
	__u16 port;
	__u64 bit;

	if (pr == SIEVE_UDP) {
		if (!udp_whole(c, uh))
			return CG_CONTINUE;
		port = uh->dest;
	} else {
		if (!tcp_whole(c, th))
			return CG_CONTINUE;
		port = th->dest;
	}
	bit = 1ULL << (port & 63);
	if ((s->want[pr][port >> 6] | s->flow[0][pr][port >> 6] | s->flow[1][pr][port >> 6]) & bit)
		return CG_CONTINUE;
	return CG_STAT_DROP_DEFAULT;
}

#endif
