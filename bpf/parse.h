/* SPDX-License-Identifier: GPL-2.0 */
/* Packet parsing for the gate: cursor helpers from Ethernet to the L4 ports. */
#ifndef CG_BPF_PARSE_H
#define CG_BPF_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/icmpv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "abi/scope.h"
#include "bpf/bound.h"

/*
 * Every helper that reads a header checks its bounds right before the read,
 * against the cursor's end (data_end, for the verifier) and, from layer 3 on,
 * against the IP datagram's end (cursor_beyond), and moves the cursor past
 * the header only when the whole header is there. Helpers return the next
 * protocol (an ethertype in network order or an IP protocol number) or
 * CG_PARSE_ERR.
 */
#define CG_PARSE_ERR (-1)

#define CG_VLAN_MAX 2	  /* 802.1ad outer + 802.1Q inner */
#define CG_IPV6_EXT_MAX 6 /* extension headers walked before giving up */

/* Where a packet stands in IP fragmentation (struct cg_pkt.frag). */
enum cg_frag {
	CG_FRAG_NONE = 0, /* a whole datagram */
	CG_FRAG_FIRST,	  /* offset 0, more fragments: has the L4 header */
	CG_FRAG_LATER,	  /* offset != 0: no L4 header, judged by gate_frags */
};

struct cursor {
	void *pos;
	void *end;
	void *base; /* the frame's first byte: cursor_settle() */
	/*
	 * Where the IP datagram ends, as an offset from base: set by the IP
	 * parsers from the total / payload length. Bytes after it (Ethernet
	 * padding, a trailer) are not part of the packet, and no header may
	 * reach into them (RFC 1858, RFC 7112). The verifier only learns
	 * bounds from compares with data_end, hence an offset next to end.
	 */
	__u32 lim;
};

/* No header the gate parses ends farther into a frame than this. */
#define CG_PARSE_MAX_OFF 0xfff

/*
 * Make the verifier forget how the cursor got where it is. Each path
 * through the VLAN tags and IPv6 extension headers leaves the cursor with
 * different known bounds, and the verifier walks everything after once per
 * such state (5^6 paths through six extension headers). Passing the offset
 * through a misaligned stack slot turns it into a plain number below
 * CG_PARSE_MAX_OFF, the same on every path, so the paths merge. Costs a
 * store and a load.
 */
static __always_inline int cursor_settle(struct cursor *c)
{
	volatile __u16 slot[4] __attribute__((aligned(8)));
	__u64 off = c->pos - c->base;

	if (off > CG_PARSE_MAX_OFF)
		return CG_PARSE_ERR;
	slot[1] = off;
	off = slot[1];
	if (off > CG_PARSE_MAX_OFF)
		return CG_PARSE_ERR;
	c->pos = c->base + off;
	return 0;
}

/* 1 if a header ending at @hdr_end reaches past the IP datagram (cursor.lim). */
static __always_inline int cursor_beyond(const struct cursor *c, const void *hdr_end)
{
	return (__u64)(hdr_end - c->base) > c->lim;
}

/* 802.1Q / 802.1ad tag (not in the UAPI headers). */
struct cg_vlanhdr {
	__be16 tci;
	__be16 proto;
};

/*
 * ICMP header (RFC 792). linux/icmp.h would pull in libc through linux/if.h,
 * so the few values the gate needs are spelled out here.
 */
struct cg_icmphdr {
	__u8 type;
	__u8 code;
	__sum16 csum;
	__be16 id; /* echo request/reply */
	__be16 seq;
};

#define CG_ICMP_ECHOREPLY 0
#define CG_ICMP_DEST_UNREACH 3
#define CG_ICMP_FRAG_NEEDED 4 /* code of DEST_UNREACH: path MTU */
#define CG_ICMP_ECHO 8

/* IPv4 frag_off bits (the kernel's IP_MF/IP_OFFSET are not UAPI). */
#define CG_IP_MF 0x2000
#define CG_IP_OFFSET 0x1fff

/* ICMPv6 neighbour discovery, RFC 4861: router solicitation .. redirect. */
#define CG_ND_FIRST 133
#define CG_ND_LAST 137

/* IPv6 fragment header, RFC 8200 4.5 (not in the UAPI headers). */
struct cg_frag6hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset in 8-byte units << 3 | M */
	__be32 id;
};

/*
 * What the gate needs from a packet. Addresses are 16 bytes, IPv4 as
 * ::ffff:a.b.c.d, so one set of maps and one code path serves both families.
 * For ICMP echo, sport and dport both hold the echo identifier: that is what
 * tells two pings apart, as ports do for TCP and UDP.
 */
struct cg_pkt {
	__u8 src[16];
	__u8 dst[16];
	__u32 frag_id; /* IPv4 id or IPv6 fragment id (network order bytes) */
	__be16 sport;
	__be16 dport;
	__u8 proto; /* L4 protocol (after IPv6 extension headers) */
	__u8 v6;
	__u8 frag;	/* enum cg_frag */
	__u8 has_ports; /* sport/dport are valid (TCP, UDP, ICMP echo) */
	__u8 icmp_type;
	__u8 icmp_code;
	__u8 tcp_flags; /* byte 13 of the TCP header: CWR..FIN */
	/*
	 * A source route (an IPv6 routing header with segments left, IPv4 LSRR or
	 * SSRR): dst is a waypoint, not where the packet goes.
	 */
	__u8 src_route;
	__u8 ip_optlen; /* bytes of IPv4 options (0..40), for ip4_opts_source_route */
	__u8 pad[3];
};

#define CG_TCP_SYN 0x02
#define CG_TCP_ACK 0x10

/* Ethernet and up to CG_VLAN_MAX tags. Returns the ethertype of the payload. */
static __always_inline int parse_ethhdr(struct cursor *c)
{
	struct ethhdr *eth = c->pos;
	struct cg_vlanhdr *vh;
	__be16 proto;
	int i;

	if ((void *)(eth + 1) > c->end)
		return CG_PARSE_ERR;
	proto = eth->h_proto;
	c->pos = eth + 1;

#pragma unroll
	for (i = 0; i < CG_VLAN_MAX; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		vh = c->pos;
		if ((void *)(vh + 1) > c->end)
			return CG_PARSE_ERR;
		proto = vh->proto;
		c->pos = vh + 1;
	}
	/*
	 * A third tag is not parsed: refuse it rather than let a VLAN-wrapped
	 * IP packet past the gate as "not IP".
	 */
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD))
		return CG_PARSE_ERR;
	return proto;
}

static __always_inline void addr_v4_mapped(__u8 *dst16, __be32 addr)
{
	__u32 *w = (__u32 *)dst16;

	w[0] = 0;
	w[1] = 0;
	w[2] = bpf_htonl(0x0000ffff);
	w[3] = addr;
}

/*
 * IPv4 header with options. Fills addresses and fragment state and sets the
 * datagram's end (c->lim) from the total length. Returns the IP protocol.
 * Inconsistent headers (version, ihl < 5, total length shorter than the
 * header or longer than the frame) are errors. (Source route options are not
 * looked for yet: a walk over the options took the program past the
 * verifier's budget.)
 */
static __always_inline int parse_iphdr(struct cursor *c, struct cg_pkt *p)
{
	struct iphdr *iph = c->pos;
	__u32 hlen, tot;

	if ((void *)(iph + 1) > c->end)
		return CG_PARSE_ERR;
	if (iph->version != 4 || iph->ihl < 5)
		return CG_PARSE_ERR;
	hlen = iph->ihl * 4;
	tot = bpf_ntohs(iph->tot_len);
	if (tot < hlen || c->pos + tot > c->end)
		return CG_PARSE_ERR;

	c->lim = (c->pos - c->base) + tot;
	addr_v4_mapped(p->src, iph->saddr);
	addr_v4_mapped(p->dst, iph->daddr);
	p->v6 = 0;
	p->proto = iph->protocol;
	p->frag_id = iph->id;
	p->ip_optlen = hlen - sizeof(*iph);
	if (iph->frag_off & bpf_htons(CG_IP_OFFSET))
		p->frag = CG_FRAG_LATER;
	else if (iph->frag_off & bpf_htons(CG_IP_MF))
		p->frag = CG_FRAG_FIRST;
	else
		p->frag = CG_FRAG_NONE;
	c->pos += hlen;
	return iph->protocol;
}

/*
 * IPv6 header and its extension headers (hop-by-hop, routing, destination
 * options, fragment, AH), at most CG_IPV6_EXT_MAX of them, inside the
 * datagram (c->lim, from the payload length). Returns the upper protocol. For a later fragment it
 * stops at the fragment header: what follows is payload, not a header. More extension headers than
 * the limit is an error: the L4 header cannot be found, so the packet cannot be judged (RFC 8200
 * expects at most one of each, except destination options twice).
 */
static __always_inline int parse_ip6hdr(struct cursor *c, struct cg_pkt *p)
{
	struct ipv6hdr *ip6h = c->pos;
	struct ipv6_opt_hdr *oh;
	struct cg_frag6hdr *fh;
	__u32 plen, len;
	__u8 nexthdr;
	int i;

	if ((void *)(ip6h + 1) > c->end)
		return CG_PARSE_ERR;
	if (ip6h->version != 6)
		return CG_PARSE_ERR;
	/*
	 * Payload length 0 is taken as it reads, no payload: a jumbogram (RFC
	 * 2675) needs a link MTU above 65,575 bytes, which Ethernet lacks, so
	 * its headers reach past a 40-byte datagram and it is malformed.
	 */
	plen = bpf_ntohs(ip6h->payload_len);
	if (c->pos + sizeof(*ip6h) + plen > c->end)
		return CG_PARSE_ERR;
	c->lim = (c->pos - c->base) + sizeof(*ip6h) + plen;

	__builtin_memcpy(p->src, &ip6h->saddr, 16);
	__builtin_memcpy(p->dst, &ip6h->daddr, 16);
	p->v6 = 1;
	p->frag = CG_FRAG_NONE;
	nexthdr = ip6h->nexthdr;
	c->pos = ip6h + 1;

#pragma unroll
	for (i = 0; i < CG_IPV6_EXT_MAX; i++) {
		switch (nexthdr) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case IPPROTO_AH:
			oh = c->pos;
			if ((void *)(oh + 1) > c->end || cursor_beyond(c, oh + 1))
				return CG_PARSE_ERR;
			/* AH counts 4-byte words minus 2; the others 8-byte words minus 1. */
			if (nexthdr == IPPROTO_AH)
				len = (oh->hdrlen + 2) * 4;
			else
				len = (oh->hdrlen + 1) * 8;
			if (c->pos + len > c->end || cursor_beyond(c, c->pos + len))
				return CG_PARSE_ERR;
			/* Routing header (RFC 8200 4.4): byte 3 is segments left. */
			if (nexthdr == IPPROTO_ROUTING) {
				if ((void *)oh + 4 > c->end)
					return CG_PARSE_ERR;
				if (((__u8 *)oh)[3])
					p->src_route = 1;
			}
			nexthdr = oh->nexthdr;
			c->pos += len;
			if (cursor_settle(c))
				return CG_PARSE_ERR;
			break;
		case IPPROTO_FRAGMENT:
			fh = c->pos;
			if ((void *)(fh + 1) > c->end || cursor_beyond(c, fh + 1))
				return CG_PARSE_ERR;
			nexthdr = fh->nexthdr;
			p->frag_id = fh->id;
			c->pos = fh + 1;
			if (cursor_settle(c))
				return CG_PARSE_ERR;
			if (fh->frag_off & bpf_htons(0xfff8)) {
				p->frag = CG_FRAG_LATER;
				p->proto = nexthdr;
				return nexthdr;
			}
			/* An atomic fragment (offset 0, no M) is a whole datagram. */
			if (fh->frag_off & bpf_htons(1))
				p->frag = CG_FRAG_FIRST;
			break;
		default:
			p->proto = nexthdr;
			return nexthdr;
		}
	}
	/* CG_IPV6_EXT_MAX headers walked; the next must be the upper protocol. */
	switch (nexthdr) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
	case IPPROTO_FRAGMENT:
		return CG_PARSE_ERR;
	}
	p->proto = nexthdr;
	return nexthdr;
}

/*
 * TCP: ports and flags. The data offset must cover at least the fixed header,
 * and the options it counts must end inside the datagram too.
 */
/*
 * 1 if the TCP header at @th is whole, inside the frame and the datagram:
 * the data offset covers at least the fixed header, and the options it
 * counts end inside the datagram too.
 */
static __always_inline int tcp_whole(const struct cursor *c, struct tcphdr *th)
{
	if ((void *)(th + 1) > c->end || cursor_beyond(c, th + 1))
		return 0;
	return th->doff >= 5 && !cursor_beyond(c, (void *)th + th->doff * 4);
}

static __always_inline int parse_tcphdr(struct cursor *c, struct cg_pkt *p)
{
	struct tcphdr *th = c->pos;

	if (!tcp_whole(c, th))
		return CG_PARSE_ERR;
	p->sport = th->source;
	p->dport = th->dest;
	p->tcp_flags = ((__u8 *)th)[13];
	p->has_ports = 1;
	c->pos = th + 1;
	return 0;
}

/* 1 if the UDP header at @uh is whole, inside the frame and the datagram. */
static __always_inline int udp_whole(const struct cursor *c, struct udphdr *uh)
{
	return (void *)(uh + 1) <= c->end && !cursor_beyond(c, uh + 1);
}

static __always_inline int parse_udphdr(struct cursor *c, struct cg_pkt *p)
{
	struct udphdr *uh = c->pos;

	if (!udp_whole(c, uh))
		return CG_PARSE_ERR;
	p->sport = uh->source;
	p->dport = uh->dest;
	p->has_ports = 1;
	c->pos = uh + 1;
	return 0;
}

/* ICMP: type, code and, for echo request/reply, the identifier as both ports. */
static __always_inline int parse_icmphdr(struct cursor *c, struct cg_pkt *p)
{
	struct cg_icmphdr *ih = c->pos;

	if ((void *)(ih + 1) > c->end || cursor_beyond(c, ih + 1))
		return CG_PARSE_ERR;
	p->icmp_type = ih->type;
	p->icmp_code = ih->code;
	if (ih->type == CG_ICMP_ECHO || ih->type == CG_ICMP_ECHOREPLY) {
		p->sport = ih->id;
		p->dport = ih->id;
		p->has_ports = 1;
	}
	c->pos = ih + 1;
	return 0;
}

static __always_inline int parse_icmp6hdr(struct cursor *c, struct cg_pkt *p)
{
	struct icmp6hdr *ih = c->pos;

	if ((void *)(ih + 1) > c->end || cursor_beyond(c, ih + 1))
		return CG_PARSE_ERR;
	p->icmp_type = ih->icmp6_type;
	p->icmp_code = ih->icmp6_code;
	if (ih->icmp6_type == ICMPV6_ECHO_REQUEST || ih->icmp6_type == ICMPV6_ECHO_REPLY) {
		p->sport = ih->icmp6_identifier;
		p->dport = ih->icmp6_identifier;
		p->has_ports = 1;
	}
	c->pos = ih + 1;
	return 0;
}

/*
 * The L4 header of a whole datagram or first fragment. Protocols without
 * ports (GRE, ESP, ...) are not an error: they have no L4 fields to judge.
 */
static __always_inline int parse_l4(struct cursor *c, struct cg_pkt *p)
{
	switch (p->proto) {
	case IPPROTO_TCP:
		return parse_tcphdr(c, p);
	case IPPROTO_UDP:
		return parse_udphdr(c, p);
	case IPPROTO_ICMP:
		return p->v6 ? 0 : parse_icmphdr(c, p);
	case IPPROTO_ICMPV6:
		return p->v6 ? parse_icmp6hdr(c, p) : 0;
	}
	return 0;
}

#define CG_IP4_OPTS_MAX 40
#define CG_IPOPT_END 0
#define CG_IPOPT_NOOP 1
#define CG_IPOPT_LSRR 131
#define CG_IPOPT_SSRR 137

/*
 * 1 if the @len bytes of IPv4 options at @off in the frame hold a loose or
 * strict source route (RFC 791), -1 if they are malformed (an option that
 * runs past the end, a length below 2), else 0. A global function with its
 * own copy of the options (bpf_xdp_load_bytes): the verifier walks the loop
 * once, not once per path of its caller.
 */
__attribute__((noinline)) int ip4_opts_source_route(struct xdp_md *ctx, __u32 off, __u32 len)
{
	__u8 b[64]; /* a power of two above CG_IP4_OPTS_MAX, for the bound below */
	__u32 i = 0, k, n, t;

	if (!ctx || !len)
		return 0;
	if (len > CG_IP4_OPTS_MAX || off > 0xfff)
		return -1;
	__builtin_memset(b, 0, sizeof(b));
	n = len - 1;
	bpf_bound(n, 63); /* the verifier needs 1..64 on the very register it is given */
	if (bpf_xdp_load_bytes(ctx, off, b, n + 1))
		return -1;
	for (k = 0; k < CG_IP4_OPTS_MAX; k++) {
		if (i >= len || i >= CG_IP4_OPTS_MAX - 1)
			break;
		bpf_bound(i, 63);
		t = b[i];
		if (t == CG_IPOPT_END)
			break;
		if (t == CG_IPOPT_NOOP) {
			i++;
			continue;
		}
		if (t == CG_IPOPT_LSRR || t == CG_IPOPT_SSRR)
			return 1;
		n = i + 1;
		bpf_bound(n, 63);
		n = b[n];
		if (n < 2 || i + n > len)
			return -1;
		i += n;
	}
	/* A last byte that is neither END nor NOOP cannot hold its length. */
	if (i != len - 1)
		return 0;
	bpf_bound(i, 63);
	if (b[i] != CG_IPOPT_END && b[i] != CG_IPOPT_NOOP)
		return -1;
	return 0;
}

/*
 * Ethernet (with tags) and IP. Returns the ethertype: ETH_P_IP / ETH_P_IPV6
 * (network order) with p filled, another ethertype for non-IP, or
 * CG_PARSE_ERR for a truncated or inconsistent header.
 *
 * An IPv6 packet from an IPv4-mapped source is an error: the maps hold IPv4
 * sources as ::ffff:a.b.c.d, so it would read and write the state of that
 * IPv4 source (its cached rule verdict, knock progress, doors, flows). Such
 * a source must not appear on the wire (RFC 4291 2.5.5.2); Linux drops it too.
 */
static __always_inline int parse_l2l3(struct cursor *c, struct cg_pkt *p)
{
	int proto = parse_ethhdr(c);

	if (proto == bpf_htons(ETH_P_IP)) {
		if (parse_iphdr(c, p) < 0)
			return CG_PARSE_ERR;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		if (parse_ip6hdr(c, p) < 0 || scope_addr_v4mapped(p->src))
			return CG_PARSE_ERR;
	}
	return proto;
}

#endif
