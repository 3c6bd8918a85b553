// SPDX-License-Identifier: GPL-2.0
/* Inner packets: the gate's parse (bpf/cap.h, bpf/parse.h) over a buffer, and abi/scope.h. */
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

#include "lib/base/rd.h"
#include "lib/tunnel/inner.h"

/* As bpf/parse.h: extension headers walked, IPv4 option numbers, fragment bits. */
#define EXT_MAX 6
#define OPTS_MAX 40
#define OPT_END 0
#define OPT_NOOP 1
#define OPT_LSRR 131
#define OPT_SSRR 137
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff

/*
 * ip4_opts_source_route (bpf/parse.h) step for step: 1 on LSRR or SSRR, -1
 * for an option that runs past the end or whose length is below 2 (a length
 * byte past the end reads as 0, as in the gate's zeroed copy), else 0. Only
 * bytes up to the first END are looked at.
 */
static int opts_source_route(const struct rd *o)
{
	size_t i = 0, k, len = rd_left(o);
	uint8_t t, n;

	for (k = 0; k < OPTS_MAX; k++) {
		if (i >= len || i >= OPTS_MAX - 1)
			break;
		if (rd_peek_u8(o, i, &t))
			return -1;
		if (t == OPT_END)
			break;
		if (t == OPT_NOOP) {
			i++;
			continue;
		}
		if (t == OPT_LSRR || t == OPT_SSRR)
			return 1;
		if (rd_peek_u8(o, i + 1, &n))
			n = 0;
		if (n < 2 || i + n > len)
			return -1;
		i += n;
	}
	/* A last byte that is neither END nor NOOP cannot hold its length. */
	if (i != len - 1)
		return 0;
	if (rd_peek_u8(o, i, &t) || (t != OPT_END && t != OPT_NOOP))
		return -1;
	return 0;
}

static void mapped(const uint8_t v4[4], uint8_t out[16])
{
	memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	memcpy(out + 12, v4, 4);
}

/* parse_iphdr: the header, r left after it; *src_route from the options. */
static enum tun_verdict parse_v4(struct rd *r, size_t len, struct cg_inner *in, int *src_route)
{
	uint8_t vihl, proto, a[4], b[4];
	uint16_t tot, frag;
	size_t hlen;
	struct rd opts;
	int sr;

	if (rd_u8(r, &vihl) || rd_skip(r, 1) || rd_u16be(r, &tot) || rd_skip(r, 2) ||
	    rd_u16be(r, &frag) || rd_skip(r, 1) || rd_u8(r, &proto) || rd_skip(r, 2) ||
	    rd_bytes(r, a, 4) || rd_bytes(r, b, 4))
		return TUN_SHORT;
	hlen = (size_t)(vihl & 0x0f) * 4;
	if (tot != len || hlen < 20 || tot < hlen)
		return TUN_SHORT;
	if (rd_sub(r, hlen - 20, &opts))
		return TUN_SHORT;
	mapped(a, in->src);
	mapped(b, in->dst);
	in->v6 = 0;
	in->proto = proto;
	in->later_frag = (frag & IP_OFFSET) != 0;
	sr = rd_left(&opts) ? opts_source_route(&opts) : 0;
	if (sr < 0)
		return TUN_SHORT;
	*src_route = sr;
	return TUN_OK;
}

/* The extension headers parse_ip6hdr walks by their length byte. */
static bool ext_with_len(uint8_t nh)
{
	return nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS ||
	       nh == IPPROTO_AH;
}

/* parse_ip6hdr: the header chain, r left at the L4 header (or a later fragment's payload). */
static enum tun_verdict parse_v6(struct rd *r, size_t len, struct cg_inner *in, int *src_route)
{
	uint8_t nexthdr, nh, hlen, segleft;
	uint16_t plen, frag;
	size_t elen;
	int i;

	if (rd_skip(r, 4) || rd_u16be(r, &plen) || rd_u8(r, &nexthdr) || rd_skip(r, 1) ||
	    rd_bytes(r, in->src, 16) || rd_bytes(r, in->dst, 16))
		return TUN_SHORT;
	/* Payload length 0 is no payload: no jumbograms (bpf/parse.h). */
	if ((size_t)plen + 40 != len)
		return TUN_SHORT;
	in->v6 = 1;
	in->later_frag = 0;
	for (i = 0; i < EXT_MAX; i++) {
		if (nexthdr == IPPROTO_FRAGMENT) {
			if (rd_u8(r, &nh) || rd_skip(r, 1) || rd_u16be(r, &frag) || rd_skip(r, 4))
				return TUN_SHORT;
			nexthdr = nh;
			if (frag & 0xfff8) {
				in->later_frag = 1;
				break;
			}
			continue;
		}
		if (!ext_with_len(nexthdr))
			break;
		if (rd_peek_u8(r, 0, &nh) || rd_peek_u8(r, 1, &hlen))
			return TUN_SHORT;
		/* AH counts 4-byte words minus 2; the others 8-byte words minus 1. */
		elen = nexthdr == IPPROTO_AH ? ((size_t)hlen + 2) * 4 : ((size_t)hlen + 1) * 8;
		if (elen > rd_left(r))
			return TUN_SHORT;
		/* Routing header (RFC 8200 4.4): byte 3 is segments left. */
		if (nexthdr == IPPROTO_ROUTING && !rd_peek_u8(r, 3, &segleft) && segleft)
			*src_route = 1;
		rd_skip(r, elen);
		nexthdr = nh;
	}
	/*
	 * A later fragment's payload follows its fragment header; otherwise, after
	 * EXT_MAX headers, the next must be the upper protocol.
	 */
	if (!in->later_frag && (ext_with_len(nexthdr) || nexthdr == IPPROTO_FRAGMENT))
		return TUN_SHORT;
	in->proto = nexthdr;
	return TUN_OK;
}

/* parse_l4: the L4 header complete inside the packet; the TCP/UDP destination port. */
static enum tun_verdict parse_l4(struct rd *r, struct cg_inner *in)
{
	uint16_t dport;
	uint8_t doff;

	switch (in->proto) {
	case IPPROTO_TCP:
		if (rd_left(r) < 20 || rd_peek_u16be(r, 2, &dport) || rd_peek_u8(r, 12, &doff))
			return TUN_SHORT;
		if (doff >> 4 < 5 || (size_t)(doff >> 4) * 4 > rd_left(r))
			return TUN_SHORT;
		in->dport = dport;
		return TUN_OK;
	case IPPROTO_UDP:
		if (rd_left(r) < 8 || rd_peek_u16be(r, 2, &dport))
			return TUN_SHORT;
		in->dport = dport;
		return TUN_OK;
	case IPPROTO_ICMP:
		return in->v6 || rd_left(r) >= 8 ? TUN_OK : TUN_SHORT;
	case IPPROTO_ICMPV6:
		return !in->v6 || rd_left(r) >= 8 ? TUN_OK : TUN_SHORT;
	}
	return TUN_OK;
}

enum tun_verdict inner_parse(const uint8_t *pkt, size_t len, struct cg_inner *out)
{
	struct cg_inner in;
	enum tun_verdict ret;
	int src_route = 0;
	uint8_t b;
	struct rd r;

	memset(&in, 0, sizeof(in));
	rd_init(&r, pkt, len);
	if (rd_peek_u8(&r, 0, &b))
		return TUN_SHORT;
	if (b >> 4 == 4)
		ret = parse_v4(&r, len, &in, &src_route);
	else if (b >> 4 == 6)
		ret = parse_v6(&r, len, &in, &src_route);
	else
		return TUN_BAD_TYPE;
	if (ret == TUN_OK && !in.later_frag)
		ret = parse_l4(&r, &in);
	if (ret != TUN_OK)
		return ret;
	/* The scope is judged on the destination, which a source route makes a waypoint. */
	if (src_route)
		return TUN_SOURCE_ROUTE;
	*out = in;
	return TUN_OK;
}

enum tun_verdict inner_check(const struct cg_inner *in, const uint8_t vip[16],
			     const struct cg_scope *scopes, uint32_t n)
{
	if (!scope_source_ok(in, vip))
		return TUN_SPOOFED;
	if (!scope_any(scopes, n, in))
		return TUN_OUT_OF_SCOPE;
	return TUN_OK;
}
