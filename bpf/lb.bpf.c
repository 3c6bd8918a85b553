// SPDX-License-Identifier: GPL-2.0
/*
 * The L4 balancer (docs/lb.md, "Datapath"): TC ingress, tc_lb on Ethernet
 * devices and tc_lb_l3 on a TUN. A packet to a VIP is rewritten to its
 * flow's backend (lb_ct, or a new flow picked through the service's Maglev
 * table; nat = full rewrites its source too), a reply from a backend back
 * to the VIP (lb_rev), an ICMP error about a flow with its quote; the
 * rewritten packet leaves through the FIB and bpf_redirect_neigh or the
 * stack. A SYN without a healthy backend is answered with a RST. Everything
 * else passes untouched.
 */
#include <linux/bpf.h>
#include <linux/errno.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <stdbool.h>

#include "abi/lb.h"
#include "abi/stats.h"

#ifndef AF_INET
#define AF_INET 2
#define AF_INET6 10
#endif

/* An inner table's entry without a backend (lib/lb/maglev.h's MAGLEV_EMPTY). */
#define LB_SLOT_EMPTY 0xffffffffU
#define LB_NSEC_PER_SEC 1000000000ULL

/* 0 -> struct lb_config; the daemon writes it, the program reads it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_config);
} lb_config SEC(".maps");

/* (VIP, port, proto) -> service and NAT mode; the daemon writes, the program reads. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_VIPS_MAX);
	__type(key, struct lb_vip_key);
	__type(value, struct lb_vip_val);
} lb_vips SEC(".maps");

/* backend slot -> address, port, snat range, state; the daemon writes, the program reads. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_BACKENDS_MAX);
	__type(key, __u32);
	__type(value, struct lb_backend);
} lb_backends SEC(".maps");

struct lb_ring {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_RING_SIZE);
	__type(key, __u32);
	__type(value, __u32);
};

/* service -> its Maglev table (slot -> backend), swapped whole by the daemon. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, LB_SERVICES_MAX);
	__type(key, __u32);
	__array(values, struct lb_ring);
} lb_rings SEC(".maps");

/* client -> VIP tuple -> the forward half; the program inserts, the daemon expires. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_FLOWS_MAX);
	__type(key, struct lb_tuple);
	__type(value, struct lb_ct_val);
} lb_ct SEC(".maps");

/* backend -> client|snat tuple -> the whole flow; the program inserts, the daemon expires. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_FLOWS_MAX);
	__type(key, struct lb_tuple);
	__type(value, struct lb_rev_val);
} lb_rev SEC(".maps");

/* enum lb_stat -> packets, bytes; the program counts, the daemon sums the CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_STAT_MAX);
	__type(key, __u32);
	__type(value, struct cg_counter);
} lb_stats SEC(".maps");

/* backend slot -> packets, bytes, new flows; the program counts, the daemon reads. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_BACKENDS_MAX);
	__type(key, __u32);
	__type(value, struct lb_be_counter);
} lb_be_stats SEC(".maps");

/* service -> refusals (no backend, flows full); the program counts, the daemon reads. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_SERVICES_MAX);
	__type(key, __u32);
	__type(value, struct lb_svc_counter);
} lb_svc_stats SEC(".maps");

/* What the parser found: the tuple as the packet carries it and where to rewrite. */
struct lb_pkt {
	struct lb_tuple t;
	__u32 l3;   /* offset of the IP header */
	__u32 l4;   /* offset of the TCP/UDP header */
	__u32 csum; /* offset of the L4 checksum */
	__u32 len;  /* skb->len, for the byte counters */
	__u8 v6;
	__u8 tcp_flags;
	__u8 frag;     /* IPv4 fragment (any part) */
	__u8 l4_flags; /* BPF_F_MARK_MANGLED_0 for UDP over IPv4 */
};

static __always_inline void lb_count(__u32 stat, __u64 bytes)
{
	struct cg_counter *c = bpf_map_lookup_elem(&lb_stats, &stat);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

static __always_inline void lb_be_count(__u32 slot, __u64 bytes, int new_flow)
{
	struct lb_be_counter *c = bpf_map_lookup_elem(&lb_be_stats, &slot);

	if (c) {
		c->packets++;
		c->bytes += bytes;
		c->flows += new_flow;
	}
}

/*
 * The IP header at @off: 0 on a device without a link-layer header (l3: a
 * TUN, skb->protocol tells IPv4 from IPv6), ETH_HLEN after Ethernet.
 */
#define LB_L3_OFF(l3) ((l3) ? 0 : ETH_HLEN)

/* lb_parse: an ICMP (ICMPv6) message, p->l4 its header; the tuple has no ports. */
#define LB_PARSE_ICMP 1

/*
 * Ethernet (or nothing: @l3), then IPv4 (options allowed) or IPv6 (no
 * extension headers), then TCP/UDP (0) or ICMP (LB_PARSE_ICMP).
 */
static __always_inline int lb_parse(struct __sk_buff *skb, struct lb_pkt *p, const bool l3)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__be16 proto;
	__u32 l4;

	if (l3) {
		proto = skb->protocol;
	} else {
		struct ethhdr *eth = data;

		if ((void *)(eth + 1) > end)
			return -1;
		proto = eth->h_proto;
	}
	p->l3 = LB_L3_OFF(l3);
	p->len = skb->len;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = data + LB_L3_OFF(l3);

		if ((void *)(ip + 1) > end || ip->ihl < 5)
			return -1;
		p->t.proto = ip->protocol;
		p->t.src[10] = p->t.src[11] = 0xff;
		p->t.dst[10] = p->t.dst[11] = 0xff;
		__builtin_memcpy(&p->t.src[12], &ip->saddr, 4);
		__builtin_memcpy(&p->t.dst[12], &ip->daddr, 4);
		p->frag = (ip->frag_off & bpf_htons(0x3fff)) != 0;
		l4 = LB_L3_OFF(l3) + ip->ihl * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + LB_L3_OFF(l3);

		if ((void *)(ip6 + 1) > end)
			return -1;
		p->v6 = 1;
		p->t.proto = ip6->nexthdr;
		__builtin_memcpy(p->t.src, &ip6->saddr, 16);
		__builtin_memcpy(p->t.dst, &ip6->daddr, 16);
		l4 = LB_L3_OFF(l3) + sizeof(*ip6);
	} else {
		return -1;
	}
	if (p->t.proto == (p->v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP)) {
		if (p->frag || l4 > 128)
			return -1;
		p->l4 = l4;
		return LB_PARSE_ICMP;
	}
	if (p->t.proto != IPPROTO_TCP && p->t.proto != IPPROTO_UDP)
		return -1;
	if (p->frag)
		return 0;
	if (l4 > 128)
		return -1;
	p->l4 = l4;
	if (p->t.proto == IPPROTO_TCP) {
		struct tcphdr *th = data + l4;

		if ((void *)(th + 1) > end)
			return -1;
		p->t.sport = th->source;
		p->t.dport = th->dest;
		p->tcp_flags = ((__u8 *)th)[13];
		p->csum = l4 + 16;
	} else {
		struct udphdr *uh = data + l4;

		if ((void *)(uh + 1) > end)
			return -1;
		p->t.sport = uh->source;
		p->t.dport = uh->dest;
		p->csum = l4 + 6;
		if (!p->v6)
			p->l4_flags = BPF_F_MARK_MANGLED_0;
	}
	return 0;
}

/* One's complement sum of 32-bit words (RFC 1071), carries folded back in. */
static __always_inline __u32 lb_csum_add(__u32 sum, __u32 w)
{
	sum += w;
	return sum + (sum < w);
}

/* @sum folded to 16 bits (not inverted). */
static __always_inline __u16 lb_csum_fold16(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)((sum & 0xffff) + (sum >> 16));
}

/* Two checksum values equal in one's complement (0x0000 and 0xffff are both zero). */
static __always_inline int lb_csum_eq(__u16 a, __u16 b)
{
	return a == b || (__u16)(a + 1) + (__u16)(b + 1) == 1;
}

/*
 * Rewrite both addresses to @src and @dst (16-byte form; pass the tuple's own
 * for one that stays) and both ports (network order). The hot path, so the
 * header is written directly and the IPv4 header checksum computed here
 * (RFC 1624: HC' = ~(~HC + ~m + m'), the words as the packet holds them).
 * The L4 checksum goes through bpf_l4_csum_replace, which knows what the
 * field holds: the addresses through the pseudo header (BPF_F_PSEUDO_HDR:
 * for CHECKSUM_PARTIAL the field is the pseudo header's sum only), the
 * ports without it.
 */
static __always_inline int lb_rewrite(struct __sk_buff *skb, const struct lb_pkt *p,
				      const __u8 *src, const __u8 *dst, __u16 sport, __u16 dport,
				      const bool l3)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u32 newp = (__u32)sport | (__u32)dport << 16, oldp, d = 0, ps;
	__u16 *csum, f0, f1;
	__u32 *ports;
	int i;

	/* ps: the old pseudo header's sum (proto, L4 length, then the addresses below). */
	ps = bpf_htons(p->t.proto);
	if (p->v6) {
		struct ipv6hdr *ip6 = data + LB_L3_OFF(l3);
		const __u32 *ns = (const __u32 *)src, *nd = (const __u32 *)dst;
		__u32 *a;

		if ((void *)(ip6 + 1) > end)
			return -1;
		ps = lb_csum_add(ps, ip6->payload_len);
		a = (__u32 *)&ip6->saddr;
#pragma unroll
		for (i = 0; i < 4; i++) {
			ps = lb_csum_add(lb_csum_add(ps, a[i]), a[i + 4]);
			d = lb_csum_add(lb_csum_add(d, ~a[i]), ns[i]);
			d = lb_csum_add(lb_csum_add(d, ~a[i + 4]), nd[i]);
			a[i] = ns[i];
			a[i + 4] = nd[i];
		}
	} else {
		struct iphdr *ip = data + LB_L3_OFF(l3);
		__u32 ns, nd;

		if ((void *)(ip + 1) > end)
			return -1;
		__builtin_memcpy(&ns, src + 12, 4);
		__builtin_memcpy(&nd, dst + 12, 4);
		ps = lb_csum_add(lb_csum_add(ps, ip->saddr), ip->daddr);
		ps = lb_csum_add(ps, bpf_htons(bpf_ntohs(ip->tot_len) - (__u16)(ip->ihl * 4)));
		d = lb_csum_add(lb_csum_add(d, ~ip->saddr), ns);
		d = lb_csum_add(lb_csum_add(d, ~ip->daddr), nd);
		ip->check = ~lb_csum_fold16(lb_csum_add(d, (__u16)~ip->check));
		ip->saddr = ns;
		ip->daddr = nd;
	}
	ports = data + (p->l4 & 0xff);
	csum = data + (p->csum & 0xff);
	if ((void *)(ports + 1) > end || (void *)(csum + 1) > end)
		return -1;
	oldp = *ports;
	*ports = newp;
	f0 = *csum;
	if (bpf_l4_csum_replace(skb, p->csum, 0, d, BPF_F_PSEUDO_HDR | p->l4_flags))
		return -1;
	/*
	 * The ports stay out of a CHECKSUM_PARTIAL field and go into any other.
	 * Which one the helper saw shows in what it made of the field: f0 + d
	 * (partial: the pseudo header's sum) or ~(~f0 + d). The two differ
	 * unless d is 0 (mod 0xffff), so the port change is folded in here, a
	 * helper call saved; when they cannot be told apart, or for UDP over
	 * IPv4 (the zero checksum's rules), the helper does it.
	 *
	 * A partial update of a field that did not hold the old pseudo header's
	 * sum is a stale CHECKSUM_PARTIAL: the skb kept the state of a header
	 * stripped in front of this one (an integrity tunnel's outer UDP,
	 * decapsulated in XDP), while its field holds a whole checksum. That
	 * field gets a whole checksum's update, ports included.
	 */
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	csum = data + (p->csum & 0xff);
	if (!p->l4_flags && lb_csum_fold16(d) != 0xffff && lb_csum_fold16(d) &&
	    (void *)(csum + 1) <= end) {
		f1 = *csum;
		if (lb_csum_eq(f1, lb_csum_fold16(lb_csum_add(d, f0)))) {
			if (lb_csum_eq(f0, lb_csum_fold16(ps)))
				return 0; /* partial: the ports are not in it */
			f1 = ~lb_csum_fold16(lb_csum_add(d, (__u16)~f0));
			*csum = f1; /* stale partial: a whole checksum, the ports below */
		} else if (!lb_csum_eq(f1, ~lb_csum_fold16(lb_csum_add(d, (__u16)~f0)))) {
			goto helper;
		}
		if (oldp != newp)
			*csum = ~lb_csum_fold16(lb_csum_add(lb_csum_add(~oldp, newp), (__u16)~f1));
		return 0;
	}
helper:
	if (oldp == newp)
		return 0;
	if (bpf_l4_csum_replace(skb, p->csum, oldp, newp, sizeof(newp) | p->l4_flags))
		return -1;
	return 0;
}

/* A fast mix of the 5-tuple (murmur3's finalizer over its words), seeded. */
static __always_inline __u32 lb_hash(const struct lb_tuple *t, __u32 seed)
{
	const __u32 *w = (const __u32 *)t;
	__u32 h = seed;
	int i;

#pragma unroll
	for (i = 0; i < (int)(sizeof(*t) / 4); i++) {
		__u32 k = w[i] * 0xcc9e2d51U;

		k = (k << 15) | (k >> 17);
		h ^= k * 0x1b873593U;
		h = ((h << 13) | (h >> 19)) * 5 + 0xe6546b64U;
	}
	h ^= h >> 16;
	h *= 0x85ebca6bU;
	h ^= h >> 13;
	h *= 0xc2b2ae35U;
	return h ^ (h >> 16);
}

static __always_inline __u8 lb_tcp_bits(const struct lb_pkt *p, int fwd)
{
	__u8 f = 0;

	if (p->t.proto != IPPROTO_TCP)
		return fwd ? 0 : LB_F_EST;
	if (p->tcp_flags & 0x04)
		f |= LB_F_RST;
	if (p->tcp_flags & 0x01)
		f |= fwd ? LB_F_FIN_FWD : LB_F_FIN_REV;
	if (!fwd && (p->tcp_flags & 0x12) == 0x12)
		f |= LB_F_EST;
	return f;
}

static __always_inline int lb_closed(__u8 flags)
{
	return (flags & LB_F_RST) ||
	       (flags & (LB_F_FIN_FWD | LB_F_FIN_REV)) == (LB_F_FIN_FWD | LB_F_FIN_REV);
}

/* The service's Maglev table at @h: a backend slot, or LB_SLOT_EMPTY (none, or not UP). */
static __always_inline __u32 lb_pick(__u32 h, __u32 svc)
{
	__u32 idx = h % LB_RING_SIZE;
	struct lb_backend *be;
	void *ring;
	__u32 *slot;
	__u32 s;

	ring = bpf_map_lookup_elem(&lb_rings, &svc);
	if (!ring)
		return LB_SLOT_EMPTY;
	slot = bpf_map_lookup_elem(ring, &idx);
	if (!slot || *slot >= LB_BACKENDS_MAX)
		return LB_SLOT_EMPTY;
	s = *slot;
	be = bpf_map_lookup_elem(&lb_backends, &s);
	if (!be || be->state != LB_BE_UP)
		return LB_SLOT_EMPTY;
	return s;
}

/* 16-byte addresses equal (clang 14 emits no inline memcmp for BPF). */
static __always_inline int lb_addr_eq(const __u8 *a, const __u8 *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1];
}

/* The reverse half @rv is the flow @p (client:cport -> VIP:vport). */
static __always_inline int lb_rev_is(const struct lb_rev_val *rv, const struct lb_pkt *p)
{
	return rv->cport == p->t.sport && rv->vport == p->t.dport &&
	       lb_addr_eq(rv->client, p->t.src) && lb_addr_eq(rv->vip, p->t.dst);
}

/*
 * A forward packet without a forward half. Its backend is the one the
 * service's table gives its hash now. A SYN (or any UDP datagram) opens a new
 * flow there: the reverse half first (never evicted; E2BIG refuses the flow
 * with nothing written), then the forward half. Any forward packet also finds
 * a reverse half of this same flow (its forward half was evicted from the
 * LRU) and rebuilds the forward half from it (CT_RESTORED). nat = full tries
 * LB_NAT_PROBES ports of the backend's range, from a hash of the 5-tuple on,
 * for both: the same flow meets the same ports in the same order. Returns the
 * stat the packet counts under; *slot and *ct are the flow's on FWD_NEW and
 * CT_RESTORED.
 */
static __always_inline int lb_new_flow(const struct lb_pkt *p, const struct lb_vip_val *vip,
				       const struct lb_config *cfg, int syn, __u64 now,
				       __u32 *slotp, struct lb_ct_val *ct)
{
	__u32 h = lb_hash(&p->t, cfg->seed);
	int full = vip->nat == LB_NAT_FULL;
	struct lb_tuple rk = {};
	struct lb_rev_val rv = {};
	struct lb_backend *be;
	struct lb_rev_val *old;
	__u32 slot, range = 1, i;
	__u8 flags = 0;
	int stat = -1;
	long err;

	slot = lb_pick(h, vip->svc);
	be = slot == LB_SLOT_EMPTY ? NULL : bpf_map_lookup_elem(&lb_backends, &slot);
	if (!be)
		return syn ? LB_STAT_DROP_NO_BACKEND : LB_STAT_NO_FLOW;
	__builtin_memcpy(rk.src, be->addr, 16);
	__builtin_memcpy(rk.dst, full ? be->snat : p->t.src, 16);
	rk.sport = be->port ? be->port : p->t.dport;
	rk.dport = p->t.sport;
	rk.proto = p->t.proto;
	if (full) {
		if (!be->snat_lo || be->snat_hi < be->snat_lo)
			return syn ? LB_STAT_DROP_NAT_PORTS : LB_STAT_NO_FLOW;
		range = (__u32)be->snat_hi - be->snat_lo + 1;
		h = (h << 16) | (h >> 16); /* other bits than the table's index */
	}
	rv.last_ns = now;
	__builtin_memcpy(rv.client, p->t.src, 16);
	__builtin_memcpy(rv.vip, p->t.dst, 16);
	rv.cport = p->t.sport;
	rv.vport = p->t.dport;
	rv.backend = slot;
	rv.svc = vip->svc;
	rv.nat = vip->nat;
	for (i = 0; i < LB_NAT_PROBES; i++) {
		if (full)
			rk.dport = bpf_htons(be->snat_lo + (h + i) % range);
		if (syn) {
			err = bpf_map_update_elem(&lb_rev, &rk, &rv, BPF_NOEXIST);
			if (err == -E2BIG)
				return LB_STAT_DROP_FLOWS_FULL;
			if (!err) {
				stat = LB_STAT_FWD_NEW;
				break;
			}
		}
		old = bpf_map_lookup_elem(&lb_rev, &rk);
		if (old && lb_rev_is(old, p)) {
			/* A SYN on the 5-tuple of a closed flow opens it anew. */
			if (syn && p->t.proto == IPPROTO_TCP)
				old->flags = 0;
			old->last_ns = now;
			flags = old->flags;
			stat = LB_STAT_CT_RESTORED;
			break;
		}
		if (!full)
			break;
	}
	if (stat < 0)
		return syn ? LB_STAT_DROP_NAT_PORTS : LB_STAT_NO_FLOW;
	__builtin_memset(ct, 0, sizeof(*ct));
	ct->last_ns = now;
	ct->backend = slot;
	ct->svc = vip->svc;
	ct->nat = vip->nat;
	ct->flags = flags;
	if (full) {
		__builtin_memcpy(ct->snat, be->snat, 16);
		ct->snat_port = rk.dport;
	}
	bpf_map_update_elem(&lb_ct, &p->t, ct, BPF_ANY);
	*slotp = slot;
	return stat;
}

/*
 * Send a rewritten packet on without the stack when the FIB knows where: the
 * route lookup of the ingress device (forwarding must be on there; tot_len
 * checks the route's MTU), the TTL / hop limit decremented as a router does,
 * and bpf_redirect_neigh to the egress with the FIB's nexthop (it resolves
 * the neighbour itself: NO_NEIGH is sent too). Everything else goes to the
 * stack unchanged (LB_STAT_STACK): LB_CFG_NO_REDIRECT, TTL <= 1 (the stack
 * answers with time exceeded), no route, forwarding off, fragmentation
 * needed (the stack answers), and the gateway's TUN (its tunnel session's
 * return path is in user space).
 */
static __always_inline int lb_xmit(struct __sk_buff *skb, const struct lb_pkt *p,
				   const struct lb_config *cfg, const bool l3)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct bpf_fib_lookup fib = {};
	struct bpf_redir_neigh nh = {};
	long rc;

	if (cfg->flags & LB_CFG_NO_REDIRECT)
		goto stack;
	fib.ifindex = skb->ingress_ifindex;
	fib.l4_protocol = p->t.proto;
	if (p->t.proto != IPPROTO_ICMP && p->t.proto != IPPROTO_ICMPV6) {
		/* The rewritten ports, for FIB rules that match them. */
		__be16 *ports = data + (p->l4 & 0xff);

		if ((void *)(ports + 2) > end)
			goto stack;
		fib.sport = ports[0];
		fib.dport = ports[1];
	}
	if (!p->v6) {
		struct iphdr *ip = data + LB_L3_OFF(l3);

		if ((void *)(ip + 1) > end || ip->ttl <= 1)
			goto stack;
		fib.family = AF_INET;
		fib.tos = ip->tos;
		fib.tot_len = bpf_ntohs(ip->tot_len);
		fib.ipv4_src = ip->saddr;
		fib.ipv4_dst = ip->daddr;
	} else {
		struct ipv6hdr *ip6 = data + LB_L3_OFF(l3);

		if ((void *)(ip6 + 1) > end || ip6->hop_limit <= 1)
			goto stack;
		fib.family = AF_INET6;
		fib.flowinfo = *(__be32 *)ip6 & bpf_htonl(0x0fffffff);
		fib.tot_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
		__builtin_memcpy(fib.ipv6_src, &ip6->saddr, 16);
		__builtin_memcpy(fib.ipv6_dst, &ip6->daddr, 16);
	}
	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if ((rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH) ||
	    (cfg->tun_ifindex && fib.ifindex == cfg->tun_ifindex))
		goto stack;
	/*
	 * bpf_redirect_neigh wants an Ethernet header to replace (the kernel's
	 * __bpf_redirect_neigh drops an skb without one): a TUN's packet gets
	 * a blank one pushed (bpf_skb_change_head, made for this), which the
	 * neighbour output rewrites. Else the lookup changed no packet data.
	 */
	if (l3) {
		if (bpf_skb_change_head(skb, ETH_HLEN, 0))
			goto stack;
		data = (void *)(long)skb->data;
		end = (void *)(long)skb->data_end;
	}
	if (!p->v6) {
		struct iphdr *ip = data + ETH_HLEN;
		__u32 check;

		if ((void *)(ip + 1) > end)
			goto bad;
		/* RFC 1624, as the kernel's ip_decrease_ttl: TTL is the high byte of word 4. */
		check = ip->check + bpf_htons(0x0100);
		ip->check = check + (check >= 0xffff);
		ip->ttl--;
	} else {
		struct ipv6hdr *ip6 = data + ETH_HLEN;

		if ((void *)(ip6 + 1) > end)
			goto bad;
		ip6->hop_limit--;
	}
	nh.nh_family = fib.family;
	if (fib.family == AF_INET)
		nh.ipv4_nh = fib.ipv4_dst;
	else
		__builtin_memcpy(nh.ipv6_nh, fib.ipv6_dst, 16);
	lb_count(LB_STAT_REDIRECT, p->len);
	return bpf_redirect_neigh(fib.ifindex, &nh, sizeof(nh), 0);
stack:
	lb_count(LB_STAT_STACK, p->len);
	return TC_ACT_OK;
bad:
	/* Not reached: the header was there before the push. */
	lb_count(LB_STAT_DROP_MALFORMED, p->len);
	return TC_ACT_SHOT;
}

struct lb_rst4 {
	struct iphdr ip;
	struct tcphdr th;
};

struct lb_rst6 {
	struct ipv6hdr ip;
	struct tcphdr th;
};

/*
 * No healthy backend for a SYN: the packet becomes the RST|ACK the VIP
 * would send (RFC 9293 3.10.7.1: SEQ 0, ACK = SEG.SEQ + SEG.LEN with the SYN
 * counted), written over it: addresses, ports and MACs swapped, IP options,
 * TCP options and payload cut (bpf_skb_change_tail), both checksums computed
 * for the new packet. 0, or -1 when the SYN cannot be read (nothing sent).
 */
static __always_inline int lb_refuse(struct __sk_buff *skb, const struct lb_pkt *p, const bool l3)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u32 l4 = p->l4 & 0xff, seg, hlen;
	struct lb_rst4 r4 = {};
	struct lb_rst6 r6 = {};
	struct tcphdr *th, *rt;
	__u8 mac[12];
	__s64 sum;

	if (!l3) {
		struct ethhdr *eth = data;

		if ((void *)(eth + 1) > end)
			return -1;
		__builtin_memcpy(mac, eth->h_source, 6);
		__builtin_memcpy(mac + 6, eth->h_dest, 6);
	}
	th = data + l4;
	if ((void *)(th + 1) > end || th->doff < 5)
		return -1;
	/* SEG.LEN: the SYN, a FIN, and the payload. */
	seg = 1 + th->fin - th->doff * 4;
	rt = p->v6 ? &r6.th : &r4.th;
	rt->source = th->dest;
	rt->dest = th->source;
	rt->doff = 5;
	rt->rst = 1;
	rt->ack = 1;
	if (!p->v6) {
		struct iphdr *ip = data + LB_L3_OFF(l3);

		if ((void *)(ip + 1) > end)
			return -1;
		seg += bpf_ntohs(ip->tot_len) - ip->ihl * 4;
		rt->ack_seq = bpf_htonl(bpf_ntohl(th->seq) + seg);
		r4.ip.version = 4;
		r4.ip.ihl = 5;
		r4.ip.tot_len = bpf_htons(sizeof(r4));
		r4.ip.frag_off = bpf_htons(0x4000); /* DF */
		r4.ip.ttl = 64;
		r4.ip.protocol = IPPROTO_TCP;
		r4.ip.saddr = ip->daddr;
		r4.ip.daddr = ip->saddr;
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&r4.ip, sizeof(r4.ip), 0);
		r4.ip.check = (__u16)~lb_csum_fold16(sum);
		/* Pseudo header: the addresses, then zero, protocol and TCP length as one word. */
		sum = bpf_csum_diff(NULL, 0, &r4.ip.saddr, 8,
				    bpf_htonl(IPPROTO_TCP << 16 | sizeof(struct tcphdr)));
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&r4.th, sizeof(r4.th), sum);
		r4.th.check = (__u16)~lb_csum_fold16(sum);
		hlen = sizeof(r4);
	} else {
		struct ipv6hdr *ip6 = data + LB_L3_OFF(l3);

		if ((void *)(ip6 + 1) > end)
			return -1;
		seg += bpf_ntohs(ip6->payload_len);
		rt->ack_seq = bpf_htonl(bpf_ntohl(th->seq) + seg);
		r6.ip.version = 6;
		r6.ip.payload_len = bpf_htons(sizeof(r6.th));
		r6.ip.nexthdr = IPPROTO_TCP;
		r6.ip.hop_limit = 64;
		r6.ip.saddr = ip6->daddr;
		r6.ip.daddr = ip6->saddr;
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&r6.ip.saddr, 32,
				    bpf_htonl(sizeof(struct tcphdr)) + bpf_htonl(IPPROTO_TCP));
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&r6.th, sizeof(r6.th), sum);
		r6.th.check = (__u16)~lb_csum_fold16(sum);
		hlen = sizeof(r6);
	}
	if (bpf_skb_change_tail(skb, LB_L3_OFF(l3) + hlen, 0))
		return -1;
	if (!l3 && bpf_skb_store_bytes(skb, 0, mac, sizeof(mac), 0))
		return -1;
	if (p->v6)
		return bpf_skb_store_bytes(skb, LB_L3_OFF(l3), &r6, sizeof(r6), 0) ? -1 : 0;
	return bpf_skb_store_bytes(skb, LB_L3_OFF(l3), &r4, sizeof(r4), 0) ? -1 : 0;
}

static __always_inline int lb_forward(struct __sk_buff *skb, struct lb_pkt *p,
				      const struct lb_vip_val *vip, const struct lb_config *cfg,
				      const bool l3)
{
	int syn = p->t.proto == IPPROTO_UDP || (p->tcp_flags & 0x12) == 0x02;
	__u64 now = bpf_ktime_get_coarse_ns();
	struct lb_backend *be = NULL;
	struct lb_ct_val nct, *ct;
	int stat = LB_STAT_FWD;
	__u32 slot = 0;

	ct = bpf_map_lookup_elem(&lb_ct, &p->t);
	if (ct) {
		slot = ct->backend;
		be = bpf_map_lookup_elem(&lb_backends, &slot);
		/* A dead backend's UDP flows and a new SYN on a closed or dead flow re-pick. */
		if (!be || (be->state == LB_BE_DOWN && syn) ||
		    (p->t.proto == IPPROTO_TCP && syn && lb_closed(ct->flags)))
			ct = NULL;
	}
	if (!ct) {
		stat = lb_new_flow(p, vip, cfg, syn, now, &slot, &nct);
		if (stat == LB_STAT_NO_FLOW) {
			/* A stray segment, or a flow whose slot moved: the stack answers. */
			lb_count(stat, p->len);
			return TC_ACT_OK;
		}
		be = stat == LB_STAT_FWD_NEW || stat == LB_STAT_CT_RESTORED
			     ? bpf_map_lookup_elem(&lb_backends, &slot)
			     : NULL;
		if (!be) {
			struct lb_svc_counter *c = bpf_map_lookup_elem(&lb_svc_stats, &vip->svc);

			if (stat == LB_STAT_FWD_NEW || stat == LB_STAT_CT_RESTORED)
				stat = LB_STAT_DROP_NO_BACKEND;
			if (c && stat == LB_STAT_DROP_NO_BACKEND)
				c->no_backend++;
			if (c && stat == LB_STAT_DROP_FLOWS_FULL)
				c->flows_full++;
			if (stat == LB_STAT_DROP_NO_BACKEND && p->t.proto == IPPROTO_TCP &&
			    !lb_refuse(skb, p, l3)) {
				lb_count(LB_STAT_REFUSED_RST, p->len);
				return bpf_redirect(skb->ifindex, 0);
			}
			lb_count(stat, p->len);
			return TC_ACT_SHOT;
		}
		ct = &nct;
	} else if (now - ct->last_ns > LB_NSEC_PER_SEC || lb_tcp_bits(p, 1) & ~ct->flags) {
		ct->last_ns = now;
		ct->flags |= lb_tcp_bits(p, 1);
	}
	if (ct->nat == LB_NAT_FULL ? lb_rewrite(skb, p, ct->snat, be->addr, ct->snat_port,
						be->port ? be->port : p->t.dport, l3)
				   : lb_rewrite(skb, p, p->t.src, be->addr, p->t.sport,
						be->port ? be->port : p->t.dport, l3)) {
		lb_count(LB_STAT_DROP_MALFORMED, p->len);
		return TC_ACT_SHOT;
	}
	lb_count(stat, p->len);
	lb_be_count(slot, p->len, stat == LB_STAT_FWD_NEW);
	return lb_xmit(skb, p, cfg, l3);
}

static __always_inline int lb_reverse(struct __sk_buff *skb, struct lb_pkt *p,
				      struct lb_rev_val *rv, const struct lb_config *cfg,
				      const bool l3)
{
	__u8 bits = lb_tcp_bits(p, 0);
	__u64 now = bpf_ktime_get_coarse_ns();

	if (now - rv->last_ns > LB_NSEC_PER_SEC || (bits & ~rv->flags)) {
		rv->last_ns = now;
		rv->flags |= bits;
	}
	if (rv->nat == LB_NAT_FULL
		    ? lb_rewrite(skb, p, rv->vip, rv->client, rv->vport, rv->cport, l3)
		    : lb_rewrite(skb, p, rv->vip, p->t.dst, rv->vport, p->t.dport, l3)) {
		lb_count(LB_STAT_DROP_MALFORMED, p->len);
		return TC_ACT_SHOT;
	}
	lb_count(LB_STAT_REV, p->len);
	lb_be_count(rv->backend, p->len, 0);
	return lb_xmit(skb, p, cfg, l3);
}

/* The ICMP errors translated: unreachable (fragmentation needed too), time exceeded. */
static __always_inline int lb_icmp_error(__u8 type, int v6)
{
	if (v6) /* destination unreachable, packet too big, time exceeded */
		return type == 1 || type == 2 || type == 3;
	return type == 3 || type == 11;
}

/* An old and a new 16-bit field folded into the checksum at @csum (plain, or ICMP's). */
static __always_inline int lb_csum_field(struct __sk_buff *skb, __u32 csum, __u16 from, __u16 to)
{
	return from == to ? 0 : (int)bpf_l4_csum_replace(skb, csum, from, to, sizeof(to));
}

/*
 * An ICMP error about a balanced flow, translated with its quote so PMTU
 * discovery and unreachables work through the balancer:
 *  - from the backend side about a forwarded packet: the quote is
 *    (client | snat) -> backend, found in lb_rev with it reversed; the quote
 *    becomes client -> VIP, the outer destination the client, an outer
 *    source that is the backend the VIP (LB_STAT_ICMP_REV);
 *  - from the client side about a reply: the quote is VIP -> client, the
 *    VIP's flow in lb_ct with it reversed; the quote becomes backend ->
 *    (client | snat), the outer destination the backend, the outer source
 *    the snat address for full NAT (LB_STAT_ICMP_FWD).
 * Checksums incrementally: the outer IPv4 header's, ICMP's (IPv4: the
 * message only; ICMPv6: also its pseudo header), the quoted IPv4 header's
 * and the quoted TCP/UDP checksum when the quote holds it (a zero UDP one
 * stays zero). A quote naming no balanced flow passes untouched; one naming
 * a flow that cannot be translated (its L4 checksum cut in half, a helper
 * failing) is dropped, LB_STAT_DROP_MALFORMED: nothing half-applied.
 */
static __always_inline int lb_icmp(struct __sk_buff *skb, struct lb_pkt *p,
				   const struct lb_config *cfg, const bool l3)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u32 icmp = p->l4 & 0xff, q3 = icmp + 8, q4, qcsum = 0, slot, len;
	__u16 ipc0 = 0, ipc1 = 0, l4c0 = 0, l4c1 = 0;
	const __u8 *nqs, *nqd, *nos, *nod;
	__u8 na[32], oa[32], *ih;
	__u32 oldp, newp, alen = p->v6 ? 16 : 4, askip = p->v6 ? 0 : 12;
	struct lb_tuple q = {}, rk = {};
	struct lb_vip_key vk = {};
	__u16 nqsp, nqdp;
	__s64 diff;
	int stat;

	ih = data + icmp;
	if ((void *)(ih + 8) > end || !lb_icmp_error(ih[0], p->v6))
		return TC_ACT_OK;
	if (!p->v6) {
		struct iphdr *qip = data + q3;

		if ((void *)(qip + 1) > end || qip->version != 4 || qip->ihl < 5 ||
		    (qip->frag_off & bpf_htons(0x1fff)))
			return TC_ACT_OK;
		q.proto = qip->protocol;
		q.src[10] = q.src[11] = q.dst[10] = q.dst[11] = 0xff;
		__builtin_memcpy(&q.src[12], &qip->saddr, 4);
		__builtin_memcpy(&q.dst[12], &qip->daddr, 4);
		q4 = q3 + qip->ihl * 4;
	} else {
		struct ipv6hdr *qip6 = data + q3;

		if ((void *)(qip6 + 1) > end || qip6->version != 6)
			return TC_ACT_OK;
		q.proto = qip6->nexthdr;
		__builtin_memcpy(q.src, &qip6->saddr, 16);
		__builtin_memcpy(q.dst, &qip6->daddr, 16);
		q4 = q3 + sizeof(*qip6);
	}
	if (q.proto != IPPROTO_TCP && q.proto != IPPROTO_UDP)
		return TC_ACT_OK;
	q4 &= 0xff;
	ih = data + q4;
	if ((void *)(ih + 4) > end)
		return TC_ACT_OK; /* no ports: it names no flow */
	__builtin_memcpy(&q.sport, ih, 2);
	__builtin_memcpy(&q.dport, ih + 2, 2);

	__builtin_memcpy(rk.src, q.dst, 16);
	__builtin_memcpy(rk.dst, q.src, 16);
	rk.sport = q.dport;
	rk.dport = q.sport;
	rk.proto = q.proto;
	__builtin_memcpy(vk.addr, q.src, 16);
	vk.port = q.sport;
	vk.proto = q.proto;
	if (bpf_map_lookup_elem(&lb_vips, &vk)) {
		struct lb_ct_val *ct = bpf_map_lookup_elem(&lb_ct, &rk);
		struct lb_backend *be;

		if (!ct || !lb_addr_eq(p->t.dst, q.src))
			return TC_ACT_OK;
		slot = ct->backend;
		be = bpf_map_lookup_elem(&lb_backends, &slot);
		if (!be)
			return TC_ACT_OK;
		nqs = be->addr;
		nqsp = be->port ? be->port : q.sport;
		nqd = ct->nat == LB_NAT_FULL ? ct->snat : q.dst;
		nqdp = ct->nat == LB_NAT_FULL ? ct->snat_port : q.dport;
		nod = be->addr;
		nos = ct->nat == LB_NAT_FULL ? ct->snat : p->t.src;
		stat = LB_STAT_ICMP_FWD;
	} else {
		struct lb_rev_val *rv = bpf_map_lookup_elem(&lb_rev, &rk);

		if (!rv || !lb_addr_eq(p->t.dst, q.src))
			return TC_ACT_OK;
		slot = rv->backend;
		nqd = rv->vip;
		nqdp = rv->vport;
		nqs = rv->nat == LB_NAT_FULL ? rv->client : q.src;
		nqsp = rv->nat == LB_NAT_FULL ? rv->cport : q.sport;
		nod = rv->nat == LB_NAT_FULL ? rv->client : p->t.dst;
		nos = lb_addr_eq(p->t.src, q.dst) ? rv->vip : p->t.src;
		stat = LB_STAT_ICMP_REV;
	}

	/* Where the quote's L4 checksum is, if it quotes all of it. */
	len = (__u32)((long)end - (long)data);
	qcsum = q4 + (q.proto == IPPROTO_TCP ? 16 : 6);
	if (qcsum + 1 == len)
		goto bad; /* cut in half */
	if (qcsum + 2 > len)
		qcsum = 0;
	if (qcsum) {
		ih = data + qcsum;
		if ((void *)(ih + 2) > end)
			goto bad;
		__builtin_memcpy(&l4c0, ih, 2);
		if (q.proto == IPPROTO_UDP && !l4c0)
			qcsum = 0; /* sent without a checksum: stays 0 */
	}
	if (!p->v6) {
		ih = data + q3;
		if ((void *)(ih + 12) > end)
			goto bad;
		__builtin_memcpy(&ipc0, ih + 10, 2);
	}

	/* The quote: addresses, then ports, with its own checksums. */
	__builtin_memcpy(oa, &q.src[askip], 4);
	__builtin_memcpy(oa + 4, &q.dst[askip], 4);
	__builtin_memcpy(na, nqs + askip, 4);
	__builtin_memcpy(na + 4, nqd + askip, 4);
	if (p->v6) {
		__builtin_memcpy(oa, q.src, 16);
		__builtin_memcpy(oa + 16, q.dst, 16);
		__builtin_memcpy(na, nqs, 16);
		__builtin_memcpy(na + 16, nqd, 16);
	}
	oldp = (__u32)q.sport | (__u32)q.dport << 16;
	newp = (__u32)nqsp | (__u32)nqdp << 16;
	diff = bpf_csum_diff((__be32 *)oa, alen * 2, (__be32 *)na, alen * 2, 0);
	if (diff < 0)
		goto bad;
	if (!p->v6 && bpf_l3_csum_replace(skb, q3 + 10, 0, diff, 0))
		goto bad;
	if (qcsum && (bpf_l3_csum_replace(skb, qcsum, 0, diff, 0) ||
		      bpf_l3_csum_replace(skb, qcsum, oldp, newp, sizeof(newp))))
		goto bad;
	if (bpf_skb_store_bytes(skb, q3 + (p->v6 ? 8 : 12), na, alen * 2, 0) ||
	    bpf_skb_store_bytes(skb, q4, &newp, sizeof(newp), 0))
		goto bad;
	if ((!p->v6 && bpf_skb_load_bytes(skb, q3 + 10, &ipc1, 2)) ||
	    (qcsum && bpf_skb_load_bytes(skb, qcsum, &l4c1, 2)))
		goto bad;
	/* ICMP's checksum covers all of the quote's changes. */
	if (bpf_l4_csum_replace(skb, icmp + 2, 0, diff, 0) ||
	    bpf_l4_csum_replace(skb, icmp + 2, oldp, newp, sizeof(newp)) ||
	    lb_csum_field(skb, icmp + 2, ipc0, ipc1) || lb_csum_field(skb, icmp + 2, l4c0, l4c1))
		goto bad;

	/* The outer addresses: the IPv4 header's checksum, or ICMPv6's pseudo header. */
	__builtin_memcpy(oa, &p->t.src[askip], 4);
	__builtin_memcpy(oa + 4, &p->t.dst[askip], 4);
	__builtin_memcpy(na, nos + askip, 4);
	__builtin_memcpy(na + 4, nod + askip, 4);
	if (p->v6) {
		__builtin_memcpy(oa, p->t.src, 32);
		__builtin_memcpy(na, nos, 16);
		__builtin_memcpy(na + 16, nod, 16);
	}
	diff = bpf_csum_diff((__be32 *)oa, alen * 2, (__be32 *)na, alen * 2, 0);
	if (diff < 0)
		goto bad;
	if (p->v6 ? bpf_l4_csum_replace(skb, icmp + 2, 0, diff, BPF_F_PSEUDO_HDR)
		  : bpf_l3_csum_replace(skb, p->l3 + 10, 0, diff, 0))
		goto bad;
	if (bpf_skb_store_bytes(skb, p->l3 + (p->v6 ? 8 : 12), na, alen * 2, 0))
		goto bad;
	lb_count(stat, p->len);
	lb_be_count(slot, p->len, 0);
	return lb_xmit(skb, p, cfg, l3);
bad:
	lb_count(LB_STAT_DROP_MALFORMED, p->len);
	return TC_ACT_SHOT;
}

/* Both programs' body: @l3 (a constant) says whether an Ethernet header comes first. */
static __always_inline int lb_main(struct __sk_buff *skb, const bool l3)
{
	struct lb_pkt p = {};
	struct lb_vip_key vk = {};
	struct lb_config *cfg;
	struct lb_vip_val *vip;
	struct lb_rev_val *rv;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&lb_config, &zero);
	if (!cfg || !cfg->enabled)
		return TC_ACT_OK;
	switch (lb_parse(skb, &p, l3)) {
	case 0:
		break;
	case LB_PARSE_ICMP:
		return lb_icmp(skb, &p, cfg, l3);
	default:
		return TC_ACT_OK;
	}
	__builtin_memcpy(vk.addr, p.t.dst, 16);
	vk.port = p.t.dport;
	vk.proto = p.t.proto;
	vip = bpf_map_lookup_elem(&lb_vips, &vk);
	if (vip)
		return lb_forward(skb, &p, vip, cfg, l3);
	if (p.frag)
		return TC_ACT_OK;
	rv = bpf_map_lookup_elem(&lb_rev, &p.t);
	if (rv)
		return lb_reverse(skb, &p, rv, cfg, l3);
	return TC_ACT_OK;
}

/* Ethernet devices. */
SEC("tc")
int tc_lb(struct __sk_buff *skb)
{
	return lb_main(skb, false);
}

/* Devices without a link-layer header (IFF_TUN): skb->data is the IP header. */
SEC("tc")
int tc_lb_l3(struct __sk_buff *skb)
{
	return lb_main(skb, true);
}

char LICENSE[] SEC("license") = "GPL";
