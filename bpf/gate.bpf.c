// SPDX-License-Identifier: GPL-2.0
/* The XDP gate (xdp_gate) and its TC egress companion (tc_gate_out). */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bpf/maps.h"
#include "bpf/common.h"
#include "bpf/parse.h"
#include "bpf/fw.h"
#include "bpf/flow.h"
#include "bpf/knock.h"
#include "bpf/cap.h"

/*
 * Decision order of xdp_gate (docs/datapath.md explains each step). The first
 * step that decides gives the verdict; every packet is counted once, at out:.
 *
 *  1 L2: Ethernet, up to two VLAN tags. Not IPv4/IPv6 -> PASS_NON_IP.
 *  2 L3: IPv4 (options skipped) / IPv6 (extension headers). ICMPv6 neighbour
 *    discovery (133-137) -> PASS_ND, before the rules: the host must stay
 *    reachable at layer 2.
 *  3 Rules: longest-prefix match of the source -> PASS_RULE / DROP_RULE. A drop
 *    rule beats everything below: open services, doors, flows and tunnels.
 *    The per-CPU fw_cache answers for sources seen under the current fw_gen.
 *    A UDP packet to the data port goes to the capability stage (5a) first,
 *    which checks its form and session and then runs this step itself: an
 *    allow rule does not bypass the stage, a drop rule blocks the tunnel.
 *  4 Later fragments (offset != 0): PASS_FRAGMENT if the first fragment of the
 *    datagram passed (gate_frags), else DROP_FRAGMENT. A first fragment is
 *    judged on its ports below and, if it passes, recorded in gate_frags.
 *  5 L4: TCP/UDP ports, ICMP type and echo id.
 *  5a Capability: UDP to gate_config.data_port (if not 0) -> bpf/cap.h
 *    decides, always: PASS_CAP (decapsulated) or one DROP_* per refusal.
 *  6 Open service: open_ports (proto, dport) -> PASS_OPEN. One small hash,
 *    before the two below: they would pass the packet too.
 *  7 Flows: known 5-tuple, active within flow_timeout_ns -> PASS_FLOW.
 *  8 Door: knock_open (source, proto, dport) not expired -> the 5-tuple
 *    becomes a flow, PASS_KNOCK.
 *  9 Path-MTU ICMP errors (ICMP 3/4, ICMPv6 2) -> PASS_ICMP_ERROR.
 * 10 Knock state machine (TCP/UDP) -> DROP_KNOCK_OPEN / _STEP / _WRONG /
 *    _TIMEOUT; the knock packet itself is always consumed.
 * 11 Default: gate_config.default_action -> PASS_DEFAULT / DROP_DEFAULT.
 * Truncated or inconsistent headers at any layer -> DROP_MALFORMED.
 */

/* Step 2 (IPv6): neighbour discovery must reach the host whatever the rules say. */
static __always_inline int nd_check(const struct cursor *c, const struct cg_pkt *p)
{
	struct icmp6hdr *ih = c->pos;

	if (!p->v6 || p->proto != IPPROTO_ICMPV6 || p->frag == CG_FRAG_LATER)
		return CG_CONTINUE;
	/* Too short for ICMPv6: the L4 step will call it malformed. */
	if ((void *)(ih + 1) > c->end || cursor_beyond(c, ih + 1))
		return CG_CONTINUE;
	if (ih->icmp6_type >= CG_ND_FIRST && ih->icmp6_type <= CG_ND_LAST)
		return CG_STAT_PASS_ND;
	return CG_CONTINUE;
}

/* Step 9: without these, path-MTU discovery breaks and connections stall. */
static __always_inline int icmp_error_check(const struct cg_pkt *p)
{
	if (!p->v6 && p->proto == IPPROTO_ICMP && p->icmp_type == CG_ICMP_DEST_UNREACH &&
	    p->icmp_code == CG_ICMP_FRAG_NEEDED)
		return CG_STAT_PASS_ICMP_ERROR;
	if (p->v6 && p->proto == IPPROTO_ICMPV6 && p->icmp_type == ICMPV6_PKT_TOOBIG)
		return CG_STAT_PASS_ICMP_ERROR;
	return CG_CONTINUE;
}

/*
 * Step 5a's test, made before the rules: a UDP packet to the data port is a
 * tunnel packet, and only the capability stage may decapsulate it. The stage
 * runs the rules itself once the session is known. (A truncated UDP header
 * is left to the steps below.)
 */
static __always_inline int cap_port(const struct cursor *c, const struct cg_pkt *p,
				    const struct gate_config *cfg)
{
	struct udphdr *uh = c->pos;

	if (!cfg || !cfg->data_port || p->proto != IPPROTO_UDP || p->frag == CG_FRAG_LATER)
		return 0;
	if ((void *)(uh + 1) > c->end || cursor_beyond(c, uh + 1))
		return 0;
	return uh->dest == cfg->data_port;
}

/*
 * Steps 5 to 11 (5a was taken before the rules), for a whole datagram or a
 * first fragment. The time is read only by a stage that finds state to
 * compare it with (gate_now).
 */
static __always_inline int gate_l4(struct cursor *c, struct cg_pkt *p,
				   const struct gate_config *cfg)
{
	int ports = p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP;
	__u64 now = 0;
	int r;

	if (parse_l4(c, p) < 0)
		return CG_STAT_DROP_MALFORMED;
	if (!cfg)
		return CG_STAT_DROP_DEFAULT; /* no configuration: fail closed */

	if (ports) {
		r = open_check(p);
		if (r != CG_CONTINUE)
			return r;
	}
	if (p->has_ports) {
		r = flow_check(p, cfg, &now);
		if (r != CG_CONTINUE)
			return r;
	}
	if (ports) {
		r = door_check(p, &now);
		if (r != CG_CONTINUE)
			return r;
	}
	r = icmp_error_check(p);
	if (r != CG_CONTINUE)
		return r;
	if (ports) {
		r = knock_check(p, cfg, now);
		if (r != CG_CONTINUE)
			return r;
	}
	return cfg->default_action == GATE_DEFAULT_PASS ? CG_STAT_PASS_DEFAULT
							: CG_STAT_DROP_DEFAULT;
}

SEC("xdp")
int xdp_gate(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct cursor c = { .pos = data, .end = data_end, .base = data };
	const struct gate_config *cfg;
	__u32 zero = 0, gen, len = data_end - data;
	struct cg_pkt p = {};
	int reason, proto;

	proto = parse_l2l3(&c, &p);
	if (proto < 0) {
		reason = CG_STAT_DROP_MALFORMED;
		goto out;
	}
	if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6)) {
		reason = CG_STAT_PASS_NON_IP;
		goto out;
	}

	/* The header's destination is a waypoint: nothing below may judge it. */
	if (p.src_route) {
		reason = CG_STAT_DROP_SOURCE_ROUTE;
		goto out;
	}
	reason = nd_check(&c, &p);
	if (reason != CG_CONTINUE)
		goto out;
	/* One verifier state for the stages below, whatever the headers were. */
	if (cursor_settle(&c)) {
		reason = CG_STAT_DROP_MALFORMED;
		goto out;
	}
	/*
	 * fw_gen is read once, before the tries: a rule change that lands after
	 * this read bumps it, so what fw_check caches now is already stale.
	 */
	cfg = bpf_map_lookup_elem(&gate_config, &zero);
	gen = cfg ? *(volatile const __u32 *)&cfg->fw_gen : 0;
	/* The capability stage may move the packet: no packet pointer is used after this. */
	if (cap_port(&c, &p, cfg)) {
		reason = cap_stage(ctx, &p, c.pos - c.base, c.lim, gen);
		goto out;
	}
	reason = fw_check(&p, gen);
	if (reason != CG_CONTINUE)
		goto out;
	if (p.frag == CG_FRAG_LATER) {
		reason = frag_check(&p);
		goto out;
	}
	reason = gate_l4(&c, &p, cfg);
	if (p.frag == CG_FRAG_FIRST && stat_is_pass(reason))
		frag_record(&p);
out:
	stat_count(reason, len);
	return stat_is_pass(reason) ? XDP_PASS : XDP_DROP;
}

/*
 * Egress: remember connections that leave through the interface, in the
 * orientation of their replies, so the gate lets the replies in (step 7).
 * TCP creates a flow only on a SYN without ACK (an opening connection); UDP
 * and ICMP echo requests create one on any packet. Existing flows are
 * refreshed by any packet, but at most once a second, to keep the egress path
 * to one lookup in the common case. Never refuses a packet, so it counts
 * nothing: gate_stats holds ingress verdicts.
 */
SEC("tc")
int tc_gate_out(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct cursor c = { .pos = data, .end = data_end, .base = data };
	struct flow_val nv, *v;
	struct cg_pkt p = {};
	struct flow_key k;
	int proto, create;
	__u64 now;

	proto = parse_l2l3(&c, &p);
	if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6))
		goto out;
	if (p.frag == CG_FRAG_LATER || parse_l4(&c, &p) < 0)
		goto out;

	switch (p.proto) {
	case IPPROTO_TCP:
		create = (p.tcp_flags & (CG_TCP_SYN | CG_TCP_ACK)) == CG_TCP_SYN;
		break;
	case IPPROTO_UDP:
		create = 1;
		break;
	case IPPROTO_ICMP:
		if (p.v6 || p.icmp_type != CG_ICMP_ECHO)
			goto out;
		create = 1;
		break;
	case IPPROTO_ICMPV6:
		if (!p.v6 || p.icmp_type != ICMPV6_ECHO_REQUEST)
			goto out;
		create = 1;
		break;
	default:
		goto out;
	}

	flow_key_reply(&k, &p);
	now = gate_clock();
	v = bpf_map_lookup_elem(&gate_flows, &k);
	if (v) {
		if (gate_age(now, v->last_ns) >= CG_NSEC_PER_SEC)
			v->last_ns = now;
		goto out;
	}
	if (create) {
		nv.last_ns = now;
		bpf_map_update_elem(&gate_flows, &k, &nv, BPF_ANY);
	}
out:
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
