// SPDX-License-Identifier: GPL-2.0
/* The XDP gate (xdp_gate), its TC egress companion (tc_gate_out), and xdp_rescope. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bpf/maps.h"
#include "bpf/bound.h"
#include "bpf/common.h"
#include "bpf/parse.h"
#include "bpf/fw.h"
#include "bpf/flow.h"
#include "bpf/knock.h"
#include "bpf/cap.h"
#include "bpf/prefix.h"
#include "bpf/sieve.h"

/*
 * Decision order of xdp_gate (docs/datapath.md explains each step). The first
 * step that decides gives the verdict; every packet is counted once, at out:.
 *
 *  1 L2: Ethernet, up to two VLAN tags. Not IPv4/IPv6 -> PASS_NON_IP.
 *  2 L3: IPv4 (options skipped) / IPv6 (extension headers). ICMPv6 neighbour
 *    discovery (133-137) -> PASS_ND, before the rules: the host must stay
 *    reachable at layer 2.
 *  2b Sources that never come from outside: the pool and the internal
 *    prefixes -> DROP_SPOOFED_POOL / DROP_SPOOFED_INTERNAL.
 *  2c Sieve (default drop): TCP/UDP to a port nothing uses, from a source no
 *    rule covers and with no knock state -> DROP_DEFAULT before the rules
 *    (bpf/sieve.h). Taken after the data-port test of 5a.
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
 *  5b SPA packets over their source's rate -> DROP_SPA_RATE.
 *  6 Open service: open_ports (proto, dport), destination in its set ->
 *    PASS_OPEN. One small hash, before the two below: they would pass the
 *    packet too.
 *  7 Flows: known 5-tuple, active within flow_timeout_ns -> PASS_FLOW.
 *  8 Door: knock_open (source, proto, dport) not expired, leading to the
 *    destination -> the 5-tuple becomes a flow, PASS_KNOCK.
 *  9 Path-MTU ICMP errors (ICMP 3/4, ICMPv6 2) about a known flow ->
 *    PASS_ICMP_ERROR.
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

/*
 * Step 2b: sources that cannot come from outside. A client's virtual address
 * arrives only as the inner source of a verified tunnel packet, which the
 * capability stage decapsulates after this step; an internal prefix only on
 * the inside. The daemon loosens rp_filter on this interface (decapsulated
 * packets carry pool sources), so the kernel would not refuse them.
 */
static __always_inline int inside_check(const struct cg_pkt *p, const struct gate_config *cfg)
{
	__u64 hi, lo;

	if (!cfg)
		return CG_CONTINUE;
	if (cfg->pool.plen) {
		scope_addr_words(p->src, &hi, &lo);
		if (scope_prefix_match(cfg->pool.addr, cfg->pool.plen, hi, lo, p->v6))
			return CG_STAT_DROP_SPOOFED_POOL;
	}
	if (cfg->internal.n && dests_prefix_match(&cfg->internal, p->src, p->v6))
		return CG_STAT_DROP_SPOOFED_INTERNAL;
	return CG_CONTINUE;
}

/*
 * Before step 6: SPA packets (UDP to gate_config.spa_port) are limited per
 * source, so a flood from one address never reaches the daemon, which
 * verifies a signature for each. GCRA: the source's next packet is due at
 * tat; one more than spa_burst ahead of the clock is refused. Two CPUs may
 * race on one source's tat and let a packet more through: a limit, not a
 * count.
 */
static __always_inline int spa_rate_check(const struct cg_pkt *p, const struct gate_config *cfg,
					  __u64 *now)
{
	__u64 t, tat, *v, burst;

	if (!cfg->spa_port || p->proto != IPPROTO_UDP || p->dport != cfg->spa_port)
		return CG_CONTINUE;
	t = gate_now(now);
	burst = (__u64)cfg->spa_burst * cfg->spa_interval_ns;
	v = bpf_map_lookup_elem(&spa_rate, p->src);
	if (!v) {
		tat = t + cfg->spa_interval_ns;
		bpf_map_update_elem(&spa_rate, p->src, &tat, BPF_ANY);
		return CG_CONTINUE;
	}
	tat = *v > t ? *v : t;
	if (tat + cfg->spa_interval_ns > t + burst)
		return CG_STAT_DROP_SPA_RATE;
	*v = tat + cfg->spa_interval_ns;
	return CG_CONTINUE;
}

/*
 * The flow a path-MTU error is about, in the gate's ingress orientation: the
 * error quotes the IP header and first 8 bytes of a packet this side sent,
 * so the flow's source is the quoted destination. The quote starts @off
 * bytes into the frame (just after the ICMP header). Returns 0 and fills @e,
 * or -1 when the quote has no TCP/UDP ports (a later fragment, IPv6
 * extension headers, another protocol, truncated) or was not sent by the
 * error's destination.
 */
static __always_inline int icmp_quoted_flow(struct xdp_md *ctx, __u32 off, const struct cg_pkt *p,
					    struct cg_pkt *e)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__be16 *ports;

	if (off > CG_PARSE_MAX_OFF)
		return -1;
	bpf_bound(off, 0xfff); /* CG_PARSE_MAX_OFF, for the verifier */
	if (!p->v6) {
		struct iphdr *ip = data + off;

		if ((void *)(ip + 1) > data_end || ip->version != 4 || ip->ihl < 5 ||
		    (ip->frag_off & bpf_htons(CG_IP_OFFSET)))
			return -1;
		e->proto = ip->protocol;
		addr_v4_mapped(e->src, ip->daddr);
		addr_v4_mapped(e->dst, ip->saddr);
		ports = (void *)ip + ip->ihl * 4;
	} else {
		struct ipv6hdr *ip6 = data + off;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		e->proto = ip6->nexthdr;
		__builtin_memcpy(e->src, &ip6->daddr, 16);
		__builtin_memcpy(e->dst, &ip6->saddr, 16);
		ports = (void *)(ip6 + 1);
	}
	if ((void *)(ports + 2) > data_end)
		return -1;
	if (e->proto != IPPROTO_TCP && e->proto != IPPROTO_UDP)
		return -1;
	e->v6 = p->v6;
	e->sport = ports[1];
	e->dport = ports[0];
	return scope_addr_eq(e->dst, p->dst) ? 0 : -1;
}

/*
 * Step 9: path-MTU errors (ICMP 3/4, ICMPv6 2), without which connections
 * stall, for flows the gate knows only: a flow in gate_flows, an open
 * service that leads to the quoted sender, or a peer with an allow rule.
 * Anyone can forge an error; it must not reach a host the gate keeps dark.
 * @off is the offset of the quote. A global function: its frame is not part
 * of xdp_gate's, which the capability stage's call chain shares.
 */
__attribute__((noinline)) int icmp_error_check(struct xdp_md *ctx, __u32 off,
					       const struct cg_pkt *p)
{
	struct cg_pkt e = {};
	struct flow_key k;
	__u32 slot;

	if (!p)
		return CG_CONTINUE;
	if (!p->v6 && (p->proto != IPPROTO_ICMP || p->icmp_type != CG_ICMP_DEST_UNREACH ||
		       p->icmp_code != CG_ICMP_FRAG_NEEDED))
		return CG_CONTINUE;
	if (p->v6 && (p->proto != IPPROTO_ICMPV6 || p->icmp_type != ICMPV6_PKT_TOOBIG))
		return CG_CONTINUE;
	if (icmp_quoted_flow(ctx, off, p, &e))
		return CG_CONTINUE;
	flow_key_ingress(&k, &e);
	if (bpf_map_lookup_elem(&gate_flows, &k) || open_check(&e) == CG_STAT_PASS_OPEN ||
	    fw_lookup(&e, &slot) == FW_ACT_ALLOW)
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
static __always_inline int gate_l4(struct xdp_md *ctx, struct cursor *c, struct cg_pkt *p,
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
		r = spa_rate_check(p, cfg, &now);
		if (r != CG_CONTINUE)
			return r;
		r = open_check(p);
		if (r != CG_CONTINUE)
			return r;
	}
	if (p->has_ports) {
		r = flow_check(p, cfg, &now);
		if (r == CG_CONTINUE && ports)
			r = door_check(p, cfg, &now);
		if (r != CG_CONTINUE) {
			/* The flow's last_ns was written (a door makes one): docs/datapath.md. */
			sieve_mark_flow(p->proto, p->dport);
			return r;
		}
	}
	r = icmp_error_check(ctx, c->pos - c->base, p);
	if (r != CG_CONTINUE)
		return r;
	if (ports) {
		r = knock_check(p, cfg, now);
		if (r != CG_CONTINUE) {
			/*
			 * The source may have state now that a packet to any port
			 * changes: the sieve must let its packets by (a superset:
			 * a retransmit marks too).
			 */
			sieve_mark_knock(p->src);
			return r;
		}
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
	const struct gate_sieve *sv;
	__u32 zero = 0, gen, len = data_end - data;
	struct cg_pkt p = {};
	int reason, proto, r;

	proto = parse_l2l3(&c, &p);
	if (proto < 0) {
		reason = CG_STAT_DROP_MALFORMED;
		goto out;
	}
	if (proto != bpf_htons(ETH_P_IP) && proto != bpf_htons(ETH_P_IPV6)) {
		reason = CG_STAT_PASS_NON_IP;
		goto out;
	}

	if (p.ip_optlen) {
		r = ip4_opts_source_route(ctx, c.pos - c.base - p.ip_optlen, p.ip_optlen);
		if (r < 0) {
			reason = CG_STAT_DROP_MALFORMED;
			goto out;
		}
		p.src_route |= r;
	}
	/* The header's destination is a waypoint: nothing below may judge it. */
	if (p.src_route) {
		reason = CG_STAT_DROP_SOURCE_ROUTE;
		goto out;
	}
	reason = nd_check(&c, &p);
	if (reason != CG_CONTINUE)
		goto out;
	cfg = bpf_map_lookup_elem(&gate_config, &zero);
	reason = inside_check(&p, cfg);
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
	gen = cfg ? *(volatile const __u32 *)&cfg->fw_gen : 0;
	/* The capability stage may move the packet: no packet pointer is used after this. */
	if (cap_port(&c, &p, cfg)) {
		reason = cap_is_keepalive(&c) ? cap_keepalive(ctx, &p, c.pos - c.base, c.lim, gen)
					      : cap_stage(ctx, &p, c.pos - c.base, c.lim, gen);
		goto out;
	}
	sv = sieve_source(&p, cfg);
	if (sv) {
		reason = sieve_check(&c, &p, sv);
		if (reason != CG_CONTINUE)
			goto out;
	}
	reason = fw_check(&p, gen);
	if (reason != CG_CONTINUE)
		goto out;
	if (p.frag == CG_FRAG_LATER) {
		reason = frag_check(&p);
		goto out;
	}
	reason = gate_l4(ctx, &c, &p, cfg);
	if (p.frag == CG_FRAG_FIRST && stat_is_pass(reason))
		frag_record(&p);
out:
	stat_count(reason, len);
	return stat_is_pass(reason) ? XDP_PASS : XDP_DROP;
}

/*
 * Not attached: the daemon runs it (BPF_PROG_TEST_RUN, lib/datapath/sessmap.c
 * sessmap_set_scopes) with a struct cg_rescope as the packet, to give a live
 * session new scopes. A write of the whole entry from user space would put
 * back the replay window, endpoint and counters as they were when it was
 * read, and a packet the gate accepted in between could then be replayed
 * once; this copies only nscopes and scopes, under the entry's lock, under
 * which cap_stage also matches them (abi/tunnel.h, struct cg_rescope).
 */
SEC("xdp")
int xdp_rescope(struct xdp_md *ctx)
{
	const struct cg_rescope *r = (void *)(long)ctx->data;
	struct cg_session *s;
	__u32 slot;

	if ((void *)(r + 1) > (void *)(long)ctx->data_end || !r->id || r->nscopes > CG_MAX_SCOPES)
		return XDP_ABORTED;
	slot = CG_SESSION_SLOT(r->id);
	s = bpf_map_lookup_elem(&tun_sessions, &slot);
	if (!s)
		return XDP_ABORTED;
	bpf_spin_lock(&s->lock);
	if (s->id != r->id) {
		bpf_spin_unlock(&s->lock);
		return XDP_DROP;
	}
	s->nscopes = r->nscopes;
	__builtin_memcpy(s->scopes, r->scopes, sizeof(s->scopes));
	bpf_spin_unlock(&s->lock);
	return XDP_PASS;
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
		if (gate_age(now, v->last_ns) >= CG_NSEC_PER_SEC) {
			v->last_ns = now;
			sieve_mark_flow(k.proto, k.dport);
		}
		goto out;
	}
	if (create) {
		nv.last_ns = now;
		bpf_map_update_elem(&gate_flows, &k, &nv, BPF_ANY);
		sieve_mark_flow(k.proto, k.dport);
	}
out:
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
