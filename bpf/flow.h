/* SPDX-License-Identifier: GPL-2.0 */
/* Flow and fragment tracking: established 5-tuples and allowed IP datagrams. */
#ifndef CG_BPF_FLOW_H
#define CG_BPF_FLOW_H

#include "bpf/common.h"
#include "bpf/parse.h"

/*
 * The packet's 5-tuple in ingress orientation (src = the packet's source),
 * with its ICMP type (0 for TCP and UDP: the parser sets it for ICMP only).
 */
static __always_inline void flow_key_ingress(struct flow_key *k, const struct cg_pkt *p)
{
	__builtin_memcpy(k->src, p->src, 16);
	__builtin_memcpy(k->dst, p->dst, 16);
	k->sport = p->sport;
	k->dport = p->dport;
	k->proto = p->proto;
	k->type = p->icmp_type;
	k->pad[0] = 0;
	k->pad[1] = 0;
}

/*
 * The reply direction of an outgoing TCP or UDP packet or echo request, as
 * the gate will see it on ingress: the peer (the packet's destination) is the
 * source, and for ICMP the type is the echo reply's (ICMP 0, ICMPv6 129), so
 * an echo request from the peer finds no flow.
 */
static __always_inline void flow_key_reply(struct flow_key *k, const struct cg_pkt *p)
{
	__builtin_memcpy(k->src, p->dst, 16);
	__builtin_memcpy(k->dst, p->src, 16);
	k->sport = p->dport;
	k->dport = p->sport;
	k->proto = p->proto;
	/* ICMP's echo reply is type 0, like TCP's and UDP's "no type". */
	k->type = p->proto == IPPROTO_ICMPV6 ? ICMPV6_ECHO_REPLY : 0;
	k->pad[0] = 0;
	k->pad[1] = 0;
}

/*
 * CG_STAT_PASS_FLOW for a packet of a known flow that was active within the
 * configured idle timeout (and refresh it), else CG_CONTINUE. An idle flow is
 * deleted, so a late packet cannot bring it back. The time is read only when
 * the flow exists (gate_now).
 */
static __always_inline int flow_check(const struct cg_pkt *p, const struct gate_config *cfg,
				      __u64 *now)
{
	struct flow_key k;
	struct flow_val *v;
	__u64 t;

	flow_key_ingress(&k, p);
	v = bpf_map_lookup_elem(&gate_flows, &k);
	if (!v)
		return CG_CONTINUE;
	t = gate_now(now);
	if (gate_age(t, v->last_ns) > cfg->flow_timeout_ns) {
		bpf_map_delete_elem(&gate_flows, &k);
		return CG_CONTINUE;
	}
	v->last_ns = t;
	return CG_STAT_PASS_FLOW;
}

/* Remember the packet's 5-tuple as a flow (a door let its first packet in). */
static __always_inline void flow_add(const struct cg_pkt *p, __u64 now)
{
	struct flow_val v = { .last_ns = now };
	struct flow_key k;

	flow_key_ingress(&k, p);
	bpf_map_update_elem(&gate_flows, &k, &v, BPF_ANY);
}

/*
 * The datagram a fragment belongs to. An IPv4 id is unique per (src, dst,
 * protocol) (RFC 791), an IPv6 fragment id per (src, dst) (RFC 8200 4.5),
 * and the protocol is not known alike in every IPv6 fragment: the first one
 * has the upper protocol, a later one only the fragment header's next header
 * (a destination options header, say, when extension headers follow the
 * fragment header). So IPv6 fragments are keyed without it (proto 0).
 */
static __always_inline void frag_key_of(struct frag_key *k, const struct cg_pkt *p)
{
	__builtin_memcpy(k->src, p->src, 16);
	__builtin_memcpy(k->dst, p->dst, 16);
	k->id = p->frag_id;
	k->proto = p->v6 ? 0 : p->proto;
	k->pad[0] = 0;
	k->pad[1] = 0;
	k->pad[2] = 0;
}

/*
 * A later fragment carries no ports, so it cannot be judged by itself: it
 * passes only if the first fragment of its datagram passed. Fragments that
 * arrive before their first fragment are dropped; the sender retransmits.
 */
static __always_inline int frag_check(const struct cg_pkt *p)
{
	struct frag_key k;

	frag_key_of(&k, p);
	if (bpf_map_lookup_elem(&gate_frags, &k))
		return CG_STAT_PASS_FRAGMENT;
	return CG_STAT_DROP_FRAGMENT;
}

/* The first fragment of @p passed: let its later fragments through. */
static __always_inline void frag_record(const struct cg_pkt *p)
{
	struct frag_val v = { .seen_ns = gate_clock() };
	struct frag_key k;

	frag_key_of(&k, p);
	bpf_map_update_elem(&gate_frags, &k, &v, BPF_ANY);
}

#endif
