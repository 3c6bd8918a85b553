// SPDX-License-Identifier: GPL-2.0
/*
 * The L4 balancer (docs/lb.md, "Datapath"): TC ingress. A packet to a VIP
 * is rewritten to its flow's backend (lb_ct, or a new flow picked through the
 * service's Maglev table), a reply from a backend back to the VIP (lb_rev).
 * Everything else passes untouched.
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

#include "abi/lb.h"
#include "abi/stats.h"

/* An inner table's entry without a backend (lib/lb/maglev.h's MAGLEV_EMPTY). */
#define LB_SLOT_EMPTY 0xffffffffU
#define LB_NSEC_PER_SEC 1000000000ULL

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_config);
} lb_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_VIPS_MAX);
	__type(key, struct lb_vip_key);
	__type(value, struct lb_vip_val);
} lb_vips SEC(".maps");

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

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, LB_SERVICES_MAX);
	__type(key, __u32);
	__array(values, struct lb_ring);
} lb_rings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_FLOWS_MAX);
	__type(key, struct lb_tuple);
	__type(value, struct lb_ct_val);
} lb_ct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_FLOWS_MAX);
	__type(key, struct lb_tuple);
	__type(value, struct lb_rev_val);
} lb_rev SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_STAT_MAX);
	__type(key, __u32);
	__type(value, struct cg_counter);
} lb_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_BACKENDS_MAX);
	__type(key, __u32);
	__type(value, struct lb_be_counter);
} lb_be_stats SEC(".maps");

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

static __always_inline void lb_no_backend(__u32 svc)
{
	struct lb_svc_counter *c = bpf_map_lookup_elem(&lb_svc_stats, &svc);

	if (c)
		c->no_backend++;
}

/* Ethernet, then IPv4 (options allowed) or IPv6 (no extension headers), then TCP/UDP. */
static __always_inline int lb_parse(struct __sk_buff *skb, struct lb_pkt *p)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u32 l4;

	if ((void *)(eth + 1) > end)
		return -1;
	p->l3 = sizeof(*eth);
	p->len = skb->len;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->ihl < 5)
			return -1;
		p->t.proto = ip->protocol;
		p->t.src[10] = p->t.src[11] = 0xff;
		p->t.dst[10] = p->t.dst[11] = 0xff;
		__builtin_memcpy(&p->t.src[12], &ip->saddr, 4);
		__builtin_memcpy(&p->t.dst[12], &ip->daddr, 4);
		p->frag = (ip->frag_off & bpf_htons(0x3fff)) != 0;
		l4 = p->l3 + ip->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return -1;
		p->v6 = 1;
		p->t.proto = ip6->nexthdr;
		__builtin_memcpy(p->t.src, &ip6->saddr, 16);
		__builtin_memcpy(p->t.dst, &ip6->daddr, 16);
		l4 = p->l3 + sizeof(*ip6);
	} else {
		return -1;
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

/*
 * Rewrite an address (src: 0, dst: 1) to @addr (16-byte form) with
 * incremental checksums: the IPv4 header's, and the L4 one through the
 * pseudo header (right for CHECKSUM_PARTIAL too).
 */
static __always_inline int lb_set_addr(struct __sk_buff *skb, const struct lb_pkt *p, int dst,
				       const __u8 *old, const __u8 *addr)
{
	__u32 len = p->v6 ? 16 : 4;
	__u32 skip = p->v6 ? 0 : 12;
	__u32 off = p->l3 + (p->v6 ? 8 + dst * 16 : 12 + dst * 4);
	__s64 diff;

	diff = bpf_csum_diff((__be32 *)(old + skip), len, (__be32 *)(addr + skip), len, 0);
	if (diff < 0)
		return -1;
	if (!p->v6 && bpf_l3_csum_replace(skb, p->l3 + 10, 0, diff, 0))
		return -1;
	if (bpf_l4_csum_replace(skb, p->csum, 0, diff, BPF_F_PSEUDO_HDR | p->l4_flags))
		return -1;
	return bpf_skb_store_bytes(skb, off, addr + skip, len, 0);
}

/* Rewrite a port (src: 0, dst: 1), network order, with the L4 checksum. */
static __always_inline int lb_set_port(struct __sk_buff *skb, const struct lb_pkt *p, int dst,
				       __u16 old, __u16 port)
{
	if (old == port)
		return 0;
	if (bpf_l4_csum_replace(skb, p->csum, old, port, sizeof(port) | p->l4_flags))
		return -1;
	return bpf_skb_store_bytes(skb, p->l4 + dst * 2, &port, sizeof(port), 0);
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

/* Pick a backend slot through the service's Maglev table; LB_SLOT_EMPTY: none up. */
static __always_inline __u32 lb_pick(const struct lb_pkt *p, __u32 svc, __u32 seed)
{
	__u32 idx = lb_hash(&p->t, seed) % LB_RING_SIZE;
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

/*
 * A new flow to backend @slot: the reverse half first (never evicted; E2BIG
 * refuses the flow with nothing written), then the forward half. An existing
 * reverse half of this same flow (its forward half was evicted) is taken.
 * Returns the stat the packet counts under.
 */
static __always_inline int lb_new_flow(const struct lb_pkt *p, const struct lb_vip_val *vip,
				       __u32 slot, const struct lb_backend *be, __u64 now,
				       struct lb_ct_val *ct)
{
	struct lb_tuple rk = {};
	struct lb_rev_val rv = {};
	struct lb_rev_val *old;
	int stat = LB_STAT_FWD_NEW;
	long err;

	__builtin_memcpy(rk.src, be->addr, 16);
	__builtin_memcpy(rk.dst, p->t.src, 16);
	rk.sport = be->port ? be->port : p->t.dport;
	rk.dport = p->t.sport;
	rk.proto = p->t.proto;
	rv.last_ns = now;
	__builtin_memcpy(rv.client, p->t.src, 16);
	__builtin_memcpy(rv.vip, p->t.dst, 16);
	rv.cport = p->t.sport;
	rv.vport = p->t.dport;
	rv.backend = slot;
	rv.svc = vip->svc;
	rv.nat = LB_NAT_DNAT;
	err = bpf_map_update_elem(&lb_rev, &rk, &rv, BPF_NOEXIST);
	if (err == -E2BIG)
		return LB_STAT_DROP_FLOWS_FULL;
	if (err) {
		old = bpf_map_lookup_elem(&lb_rev, &rk);
		if (!old || old->cport != rv.cport || old->vport != rv.vport ||
		    !lb_addr_eq(old->client, rv.client) || !lb_addr_eq(old->vip, rv.vip))
			return LB_STAT_DROP_NAT_PORTS;
		old->last_ns = now;
		stat = LB_STAT_CT_RESTORED;
	}
	__builtin_memset(ct, 0, sizeof(*ct));
	ct->last_ns = now;
	ct->backend = slot;
	ct->svc = vip->svc;
	ct->nat = LB_NAT_DNAT;
	bpf_map_update_elem(&lb_ct, &p->t, ct, BPF_ANY);
	return stat;
}

static __always_inline int lb_forward(struct __sk_buff *skb, struct lb_pkt *p,
				      const struct lb_vip_val *vip, const struct lb_config *cfg)
{
	int syn = p->t.proto == IPPROTO_UDP || (p->tcp_flags & 0x12) == 0x02;
	__u64 now = bpf_ktime_get_coarse_ns();
	struct lb_backend *be = NULL;
	struct lb_ct_val nct, *ct;
	int stat = LB_STAT_FWD;
	__u32 slot;

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
		if (!syn)
			return TC_ACT_OK; /* a stray TCP segment: the stack answers it */
		slot = lb_pick(p, vip->svc, cfg->seed);
		be = slot == LB_SLOT_EMPTY ? NULL : bpf_map_lookup_elem(&lb_backends, &slot);
		if (!be) {
			lb_no_backend(vip->svc);
			lb_count(LB_STAT_DROP_NO_BACKEND, p->len);
			return TC_ACT_SHOT;
		}
		stat = lb_new_flow(p, vip, slot, be, now, &nct);
		if (stat != LB_STAT_FWD_NEW && stat != LB_STAT_CT_RESTORED) {
			if (stat == LB_STAT_DROP_FLOWS_FULL) {
				struct lb_svc_counter *c =
					bpf_map_lookup_elem(&lb_svc_stats, &vip->svc);

				if (c)
					c->flows_full++;
			}
			lb_count(stat, p->len);
			return TC_ACT_SHOT;
		}
		ct = &nct;
	} else if (now - ct->last_ns > LB_NSEC_PER_SEC || lb_tcp_bits(p, 1) & ~ct->flags) {
		ct->last_ns = now;
		ct->flags |= lb_tcp_bits(p, 1);
	}
	if (lb_set_addr(skb, p, 1, p->t.dst, be->addr) ||
	    lb_set_port(skb, p, 1, p->t.dport, be->port ? be->port : p->t.dport)) {
		lb_count(LB_STAT_DROP_MALFORMED, p->len);
		return TC_ACT_SHOT;
	}
	lb_count(stat, p->len);
	lb_be_count(slot, p->len, stat != LB_STAT_FWD);
	lb_count(LB_STAT_STACK, p->len);
	return TC_ACT_OK;
}

static __always_inline int lb_reverse(struct __sk_buff *skb, struct lb_pkt *p,
				      struct lb_rev_val *rv)
{
	__u8 bits = lb_tcp_bits(p, 0);
	__u64 now = bpf_ktime_get_coarse_ns();

	if (now - rv->last_ns > LB_NSEC_PER_SEC || (bits & ~rv->flags)) {
		rv->last_ns = now;
		rv->flags |= bits;
	}
	if (lb_set_addr(skb, p, 0, p->t.src, rv->vip) ||
	    lb_set_port(skb, p, 0, p->t.sport, rv->vport)) {
		lb_count(LB_STAT_DROP_MALFORMED, p->len);
		return TC_ACT_SHOT;
	}
	lb_count(LB_STAT_REV, p->len);
	lb_be_count(rv->backend, p->len, 0);
	lb_count(LB_STAT_STACK, p->len);
	return TC_ACT_OK;
}

SEC("tc")
int tc_lb(struct __sk_buff *skb)
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
	if (lb_parse(skb, &p))
		return TC_ACT_OK;
	__builtin_memcpy(vk.addr, p.t.dst, 16);
	vk.port = p.t.dport;
	vk.proto = p.t.proto;
	vip = bpf_map_lookup_elem(&lb_vips, &vk);
	if (vip)
		return lb_forward(skb, &p, vip, cfg);
	if (p.frag)
		return TC_ACT_OK;
	rv = bpf_map_lookup_elem(&lb_rev, &p.t);
	if (rv)
		return lb_reverse(skb, &p, rv);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
