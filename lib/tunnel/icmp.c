// SPDX-License-Identifier: GPL-2.0
/* ICMP "fragmentation needed" and ICMPv6 "packet too big" for inner packets, and their rate limit.
 */
#include <errno.h>
#include <string.h>

#include "lib/base/addr.h"
#include "lib/base/rd.h"
#include "lib/tunnel/icmp.h"

#define NS_PER_S 1000000000ULL
#define IP4_DF 0x4000
#define IP4_OFFSET 0x1fff
#define TTL 64

static uint32_t sum_add(uint32_t s, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

static void put_csum(uint8_t *at, uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	s = ~s & 0xffff;
	at[0] = (uint8_t)(s >> 8);
	at[1] = (uint8_t)s;
}

static void put_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* RFC 1812 §4.3.2.7: no error about a datagram whose source is not one host. */
static bool v4_not_a_host(const uint8_t a[4])
{
	return a[0] == 0 || a[0] == 127 || a[0] >= 224;
}

static bool v4_error_type(uint8_t t)
{
	return t == 3 || t == 4 || t == 5 || t == 11 || t == 12;
}

/* hdr zeroed bytes, then as much of the packet as keeps the whole within max: its length. */
static int quote(struct rd *r, size_t len, size_t hdr, size_t max, uint8_t *out, size_t cap)
{
	size_t q = len < max - hdr ? len : max - hdr;

	if (cap < hdr + q)
		return -ENOSPC;
	if (rd_bytes(r, out + hdr, q))
		return -EINVAL;
	memset(out, 0, hdr);
	return (int)(hdr + q);
}

static int too_big_v4(struct rd *r, size_t len, unsigned int mtu, const uint8_t *from, uint8_t *out,
		      size_t cap)
{
	uint8_t vihl, proto, type, src[4], dst[4];
	size_t ihl, total;
	uint16_t frag;
	int n;

	if (rd_peek_u8(r, 0, &vihl) || rd_peek_u16be(r, 6, &frag) || rd_peek_u8(r, 9, &proto) ||
	    rd_seek(r, 12) || rd_bytes(r, src, 4) || rd_bytes(r, dst, 4) || rd_seek(r, 0))
		return -EINVAL;
	ihl = (size_t)(vihl & 0x0f) * 4;
	if (ihl < 20 || ihl > len || !addr_is_v4mapped(from))
		return -EINVAL;
	if (mtu < 68)
		return -ERANGE;
	if (len <= mtu)
		return -EINVAL;
	if ((frag & IP4_OFFSET) || !(frag & IP4_DF) || v4_not_a_host(src) || dst[0] >= 224)
		return 0;
	if (proto == 1 && (rd_peek_u8(r, ihl, &type) || v4_error_type(type)))
		return 0;
	n = quote(r, len, 28, ICMP_TOO_BIG_MAX_V4, out, cap);
	if (n < 0)
		return n;
	total = (size_t)n;
	out[0] = 0x45;
	out[1] = 0xc0; /* precedence "internetwork control", as the kernel's own errors */
	put_be16(out + 2, (uint32_t)total);
	put_be16(out + 6, IP4_DF);
	out[8] = TTL;
	out[9] = 1;
	memcpy(out + 12, from + 12, 4);
	memcpy(out + 16, src, 4);
	put_csum(out + 10, sum_add(0, out, 20));
	out[20] = 3; /* destination unreachable */
	out[21] = 4; /* fragmentation needed and DF set */
	put_be16(out + 26, mtu > 0xffff ? 0xffff : mtu);
	put_csum(out + 22, sum_add(0, out + 20, total - 20));
	return (int)total;
}

/*
 * Walks the extension headers to the upper layer: its protocol and offset.
 * 0, 1 for a non-first fragment, or -EINVAL (truncated).
 */
static int v6_upper(const struct rd *r, uint8_t *nh, size_t *off)
{
	uint8_t hl;
	uint16_t fo;
	int i;

	for (i = 0; i < 8; i++) {
		switch (*nh) {
		case 0:	 /* hop-by-hop options */
		case 43: /* routing */
		case 60: /* destination options */
			if (rd_peek_u8(r, *off + 1, &hl))
				return -EINVAL;
			if (rd_peek_u8(r, *off, nh))
				return -EINVAL;
			*off += ((size_t)hl + 1) * 8;
			break;
		case 44: /* fragment */
			if (rd_peek_u16be(r, *off + 2, &fo) || rd_peek_u8(r, *off, nh))
				return -EINVAL;
			if (fo & 0xfff8)
				return 1;
			*off += 8;
			break;
		case 51: /* authentication header */
			if (rd_peek_u8(r, *off + 1, &hl) || rd_peek_u8(r, *off, nh))
				return -EINVAL;
			*off += ((size_t)hl + 2) * 4;
			break;
		default:
			return *off <= rd_left(r) ? 0 : -EINVAL;
		}
	}
	return *off <= rd_left(r) ? 0 : -EINVAL;
}

static bool v6_not_a_host(const uint8_t a[16])
{
	static const uint8_t zero[16], loop[16] = { [15] = 1 };

	return a[0] == 0xff || !memcmp(a, zero, 16) || !memcmp(a, loop, 16);
}

static int too_big_v6(struct rd *r, size_t len, unsigned int mtu, const uint8_t *from, uint8_t *out,
		      size_t cap)
{
	uint8_t nh, type, src[16], pseudo[40] = { 0 };
	size_t off = 40, total;
	uint32_t s;
	int e, n;

	if (rd_peek_u8(r, 6, &nh) || rd_seek(r, 8) || rd_bytes(r, src, 16) || rd_skip(r, 16) ||
	    rd_seek(r, 0) || addr_is_v4mapped(from))
		return -EINVAL;
	if (mtu < 1280)
		return -ERANGE;
	if (len <= mtu)
		return -EINVAL;
	e = v6_upper(r, &nh, &off);
	if (e)
		return e < 0 ? e : 0;
	if (v6_not_a_host(src))
		return 0;
	if (nh == 58 && (rd_peek_u8(r, off, &type) || type < 128))
		return 0;
	n = quote(r, len, 48, ICMP_TOO_BIG_MAX, out, cap);
	if (n < 0)
		return n;
	total = (size_t)n;
	out[0] = 0x60;
	put_be16(out + 4, (uint32_t)(total - 40));
	out[6] = 58;
	out[7] = TTL;
	memcpy(out + 8, from, 16);
	memcpy(out + 24, src, 16);
	out[40] = 2; /* packet too big */
	out[44] = (uint8_t)(mtu >> 24);
	out[45] = (uint8_t)(mtu >> 16);
	out[46] = (uint8_t)(mtu >> 8);
	out[47] = (uint8_t)mtu;
	/* RFC 8200 §8.1: source, destination, upper-layer length (32 bits), zeros, next header. */
	put_be16(pseudo + 2, (uint32_t)(total - 40));
	pseudo[7] = 58;
	s = sum_add(sum_add(0, out + 8, 32), pseudo, 8);
	put_csum(out + 42, sum_add(s, out + 40, total - 40));
	return (int)total;
}

int icmp_too_big(const uint8_t *inner, size_t len, unsigned int mtu, const uint8_t *from,
		 uint8_t *out, size_t cap)
{
	uint8_t v;
	struct rd r;

	if (!inner || !from || !out)
		return -EINVAL;
	rd_init(&r, inner, len);
	if (rd_peek_u8(&r, 0, &v))
		return -EINVAL;
	if (v >> 4 == 4)
		return too_big_v4(&r, len, mtu, from, out, cap);
	if (v >> 4 == 6)
		return too_big_v6(&r, len, mtu, from, out, cap);
	return -EINVAL;
}

int icmp_limit_init(struct icmp_limit *l, unsigned int rate, unsigned int burst, uint64_t now_ns)
{
	if (!l || !rate || !burst || rate > NS_PER_S)
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	l->per_token_ns = NS_PER_S / rate;
	l->max_ns = l->per_token_ns * burst;
	l->tokens_ns = l->max_ns;
	l->last_ns = now_ns;
	return 0;
}

bool icmp_limit_take(struct icmp_limit *l, uint64_t now_ns)
{
	if (now_ns > l->last_ns) {
		if (now_ns - l->last_ns >= l->max_ns - l->tokens_ns)
			l->tokens_ns = l->max_ns;
		else
			l->tokens_ns += now_ns - l->last_ns;
		l->last_ns = now_ns;
	}
	if (l->tokens_ns < l->per_token_ns) {
		l->suppressed++;
		return false;
	}
	l->tokens_ns -= l->per_token_ns;
	l->sent++;
	return true;
}
