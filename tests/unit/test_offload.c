// SPDX-License-Identifier: GPL-2.0
/* Offloads: split and coalesce against an independent checksum and the original bytes; field
 * failures. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/base/addr.h"
#include "lib/tunnel/offload.h"
#include "lib/tunnel/tun.h"
#include "tests/lib/pkt.h"
#include "tests/lib/t.h"

#define BIG 70000
#define STRIDE 2048

/* One test packet: TCP or UDP over IPv4 or IPv6 between two fixed hosts. */
struct seg {
	int v6;
	uint8_t proto; /* 0: TCP */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags; /* 0: ACK */
	uint16_t id, win;
	uint8_t tos, ttl;
	int no_df;
	uint8_t opt_len; /* TCP options (NOPs, or opt[]) */
	const uint8_t *opt;
	const uint8_t *payload;
	size_t plen;
	const char *src, *dst; /* IPv4 only; NULL: 10.0.0.1 -> 10.0.0.2 */
};

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The pseudo-header's sum, for the L4 length l4len (RFC 768 / RFC 8200 8.1). */
static uint32_t pseudo(const uint8_t *ip, size_t l4len)
{
	int v6 = ip[0] >> 4 == 6;
	const uint8_t *a = ip + (v6 ? 8 : 12);
	uint32_t s = 0;
	size_t i, alen = v6 ? 32 : 8;

	for (i = 0; i < alen; i += 2)
		s += (uint32_t)(a[i] << 8 | a[i + 1]);
	return s + (v6 ? ip[6] : ip[9]) + (uint32_t)l4len;
}

static size_t ihl_of(const uint8_t *ip)
{
	return ip[0] >> 4 == 6 ? 40 : (size_t)(ip[0] & 15) * 4;
}

/* Independent verifier: IP lengths, the IPv4 header checksum and the full L4 checksum. */
static bool valid(const uint8_t *p, size_t len)
{
	size_t ihl = ihl_of(p);

	if (p[0] >> 4 == 4 && ((size_t)(p[2] << 8 | p[3]) != len || pkt_csum(p, 20, 0) != 0))
		return false;
	if (p[0] >> 4 == 6 && (size_t)(p[4] << 8 | p[5]) + 40 != len)
		return false;
	return pkt_csum(p + ihl, len - ihl, pseudo(p, len - ihl)) == 0;
}

static size_t build(uint8_t *b, const struct seg *s)
{
	uint8_t proto = s->proto ? s->proto : IPPROTO_TCP, *l4;
	size_t ihl = s->v6 ? 40 : 20, l4h = proto == IPPROTO_TCP ? 20u + s->opt_len : 8, len;

	len = ihl + l4h + s->plen;
	memset(b, 0, ihl + l4h);
	if (s->v6) {
		b[0] = 0x60 | s->tos >> 4;
		b[1] = (uint8_t)(s->tos << 4);
		put16(b + 4, (uint32_t)(len - 40));
		b[6] = proto;
		b[7] = s->ttl ? s->ttl : 64;
		inet_pton(AF_INET6, "fd00::1", b + 8);
		inet_pton(AF_INET6, "fd00::2", b + 24);
	} else {
		b[0] = 0x45;
		b[1] = s->tos;
		put16(b + 2, (uint32_t)len);
		put16(b + 4, s->id);
		put16(b + 6, s->no_df ? 0 : 0x4000);
		b[8] = s->ttl ? s->ttl : 64;
		b[9] = proto;
		inet_pton(AF_INET, s->src ? s->src : "10.0.0.1", b + 12);
		inet_pton(AF_INET, s->dst ? s->dst : "10.0.0.2", b + 16);
		put16(b + 10, pkt_csum(b, 20, 0));
	}
	l4 = b + ihl;
	put16(l4, s->sport ? s->sport : 1000);
	put16(l4 + 2, s->dport ? s->dport : 2000);
	if (proto == IPPROTO_TCP) {
		put32(l4 + 4, s->seq);
		put32(l4 + 8, s->ack);
		l4[12] = (uint8_t)((l4h / 4) << 4);
		l4[13] = s->flags ? s->flags : 0x10;
		put16(l4 + 14, s->win ? s->win : 1000);
		if (s->opt)
			memcpy(l4 + 20, s->opt, s->opt_len);
		else
			memset(l4 + 20, 1, s->opt_len);
	} else {
		put16(l4 + 4, (uint32_t)(l4h + s->plen));
	}
	if (s->payload)
		memcpy(l4 + l4h, s->payload, s->plen);
	else
		memset(l4 + l4h, 0x5a, s->plen);
	put16(l4 + (proto == IPPROTO_TCP ? 16 : 6),
	      pkt_csum(l4, len - ihl, pseudo(b, len - ihl)) ?: 0xffff);
	return len;
}

static uint8_t payload[BIG];

static void fill_payload(void)
{
	size_t i;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + i / 251);
}

/*
 * A super-packet as the kernel hands it: headers of the first segment with
 * the whole length, NEEDS_CSUM and the pseudo-header sum in the L4 field.
 */
static size_t super(uint8_t *b, struct virtio_net_hdr *h, const struct seg *s, uint16_t gso)
{
	size_t len = build(b, s), ihl = ihl_of(b), at = ihl + (s->proto == IPPROTO_UDP ? 6 : 16);
	uint32_t ps = pseudo(b, len - ihl);

	while (ps >> 16)
		ps = (ps & 0xffff) + (ps >> 16);
	put16(b + at, ps);
	memset(h, 0, sizeof(*h));
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->gso_type = s->proto == IPPROTO_UDP ? VIRTIO_NET_HDR_GSO_UDP_L4
		      : s->v6		      ? VIRTIO_NET_HDR_GSO_TCPV6
					      : VIRTIO_NET_HDR_GSO_TCPV4;
	h->gso_size = gso;
	h->hdr_len = (uint16_t)(ihl + (s->proto == IPPROTO_UDP ? 8 : 20u + s->opt_len));
	h->csum_start = (uint16_t)ihl;
	h->csum_offset = s->proto == IPPROTO_UDP ? 6 : 16;
	return len;
}

static uint8_t in[BIG], out[64 * STRIDE];
static size_t lens[64];

/* Split s (payload plen) in gso pieces and check each against the original. */
static void check_split(struct seg s, uint16_t gso, const char *what)
{
	struct virtio_net_hdr h;
	size_t len, i, off, hl, want;
	int n;

	s.payload = payload;
	len = super(in, &h, &s, gso);
	hl = h.hdr_len;
	want = (s.plen + gso - 1) / gso;
	n = gso_split(&h, in, len, out, STRIDE, lens, 64);
	if (!ASSERT_EQ(n, want, what))
		return;
	for (i = 0, off = 0; i < (size_t)n; i++, off += gso) {
		const uint8_t *o = out + i * STRIDE, *l4 = o + h.csum_start;
		size_t plen = s.plen - off < gso ? s.plen - off : gso;

		ASSERT_EQ(lens[i], hl + plen, what);
		ASSERT_TRUE(valid(o, lens[i]), what);
		ASSERT_MEMEQ(o + hl, payload + off, plen, what);
		if (!s.v6)
			ASSERT_EQ(o[4] << 8 | o[5], (uint16_t)(s.id + i), what);
		if (s.proto == IPPROTO_UDP) {
			ASSERT_EQ(l4[4] << 8 | l4[5], 8 + plen, what);
			continue;
		}
		ASSERT_EQ(get32(l4 + 4), (uint32_t)(s.seq + off), what);
		ASSERT_EQ(l4[13] & 0x09, i + 1 == (size_t)n ? (s.flags & 0x09) : 0, what);
		ASSERT_EQ(l4[13] & 0x80, i == 0 ? (s.flags & 0x80) : 0, what);
		ASSERT_MEMEQ(l4 + 20, in + h.csum_start + 20, s.opt_len, what);
	}
}

static void test_split(void)
{
	fill_payload();
	check_split((struct seg){ .seq = 0xfffff000, .id = 0xfffe, .flags = 0x99, .plen = 5000 },
		    1400, "tcp4, seq and id wrap, CWR|PSH|FIN");
	check_split((struct seg){ .v6 = 1, .seq = 7, .flags = 0x18, .opt_len = 12, .plen = 4200 },
		    1388, "tcp6 with options");
	check_split((struct seg){ .seq = 1, .plen = 2800 }, 1400, "tcp4 exact multiple");
	check_split((struct seg){ .proto = IPPROTO_UDP, .id = 9, .plen = 3000 }, 1200, "uso4");
	check_split((struct seg){ .v6 = 1, .proto = IPPROTO_UDP, .plen = 1201 }, 1200, "uso6");
	check_split((struct seg){ .plen = 1400 * 46 }, 1400, "tcp4 64 KiB");
}

/* GSO_NONE with NEEDS_CSUM: completed (also in place); without: copied as is. */
static void test_split_none(void)
{
	struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM };
	struct seg s = { .v6 = 1, .proto = IPPROTO_UDP, .plen = 333 };
	size_t len;

	fill_payload();
	s.payload = payload;
	len = super(in, &h, &s, 0);
	h.gso_type = VIRTIO_NET_HDR_GSO_NONE;
	ASSERT_TRUE(!valid(in, len), "partial checksum is not yet valid");
	ASSERT_EQ(gso_split(&h, in, len, out, STRIDE, lens, 1), 1, "one packet");
	ASSERT_EQ(lens[0], len, "length");
	ASSERT_TRUE(valid(out, len), "completed");
	ASSERT_EQ(gso_split(&h, in, len, in, STRIDE, lens, 1), 1, "in place");
	ASSERT_TRUE(valid(in, len), "completed in place");
	h.flags = 0;
	in[len - 1] ^= 1; /* no NEEDS_CSUM: nothing is touched, even a bad checksum */
	ASSERT_EQ(gso_split(&h, in, len, out, STRIDE, lens, 1), 1, "plain");
	ASSERT_MEMEQ(out, in, len, "plain copied as is");
}

static void test_split_refused(void)
{
	struct seg s = { .seq = 1, .plen = 3000 };
	struct virtio_net_hdr h0, h;
	size_t len;

	len = super(in, &h0, &s, 1000);
#define BAD(field, value, name)                                                          \
	do {                                                                             \
		h = h0;                                                                  \
		h.field = (value);                                                       \
		ASSERT_EQ(gso_split(&h, in, len, out, STRIDE, lens, 64), -EINVAL, name); \
	} while (0)
	BAD(gso_size, 0, "gso_size 0");
	BAD(gso_type, VIRTIO_NET_HDR_GSO_TCPV6, "TCPV6 on IPv4");
	BAD(gso_type, VIRTIO_NET_HDR_GSO_UDP_L4, "UDP_L4 on TCP");
	BAD(gso_type, VIRTIO_NET_HDR_GSO_UDP, "UFO");
	BAD(gso_type, 9, "unknown type");
	BAD(csum_start, 24, "csum_start not the L4 header");
	BAD(csum_offset, 6, "csum_offset not TCP's");
	BAD(hdr_len, (uint16_t)(len + 1), "hdr_len beyond the packet");
	BAD(gso_size, 2100, "segment wider than stride");
#undef BAD
	ASSERT_EQ(gso_split(&h0, in, len, out, STRIDE, lens, 2), -EINVAL, "more than max");
	ASSERT_EQ(gso_split(&h0, in, len - 1, out, STRIDE, lens, 64), -EINVAL, "short read");
	ASSERT_EQ(gso_split(&h0, in, len, out, STRIDE, lens, 64), 3, "the good header passes");
	h = h0;
	h.gso_type = VIRTIO_NET_HDR_GSO_NONE;
	h.csum_start = (uint16_t)len;
	ASSERT_EQ(gso_split(&h, in, len, out, STRIDE, lens, 1), -EINVAL, "csum_start at the end");
	h.csum_start = (uint16_t)(len - 1);
	h.csum_offset = 0;
	ASSERT_EQ(gso_split(&h, in, len, out, STRIDE, lens, 1), -EINVAL, "field past the end");
	h.csum_start = 20;
	h.csum_offset = 0xffff;
	ASSERT_EQ(gso_split(&h, in, len, out, STRIDE, lens, 1), -EINVAL, "csum_offset huge");
	h.flags = 0;
	ASSERT_EQ(gso_split(&h, in, len, out, 100, lens, 1), -EINVAL, "plain wider than stride");
}

/* Random headers and damaged packets in exact-size buffers: refused or split, never out of bounds.
 */
static void test_split_fuzz(void)
{
	struct seg s = { .seq = 1, .plen = 3000 };
	struct virtio_net_hdr h0, h;
	uint8_t *p, *o;
	size_t len, cut, i;
	int n, k;

	srand(11);
	for (k = 0; k < 20000; k++) {
		s.v6 = k & 1;
		s.proto = k & 2 ? IPPROTO_UDP : 0;
		s.plen = (size_t)(rand() % 3000);
		len = super(in, &h0, &s, (uint16_t)(1 + rand() % 1500));
		h = h0;
		switch (k % 4) {
		case 0:
			memcpy(&h,
			       (uint8_t[10]){ (uint8_t)rand(), (uint8_t)rand(), (uint8_t)rand(),
					      (uint8_t)rand(), (uint8_t)rand(), (uint8_t)rand(),
					      (uint8_t)rand(), (uint8_t)rand(), (uint8_t)rand(),
					      (uint8_t)rand() },
			       sizeof(h));
			break;
		case 1:
			((uint8_t *)&h)[rand() % sizeof(h)] ^= (uint8_t)(1 + rand() % 255);
			break;
		case 2:
			for (i = 0; i < 4; i++)
				in[(size_t)rand() % 80] = (uint8_t)rand();
			break;
		}
		cut = len - (k % 8 == 3 ? (size_t)rand() % len : 0);
		p = malloc(cut ? cut : 1);
		o = malloc(8 * 1500);
		if (!p || !o)
			abort();
		memcpy(p, in, cut);
		n = gso_split(&h, p, cut, o, 1500, lens, 8);
		if (!ASSERT_TRUE(n == -EINVAL || (n >= 1 && n <= 8), "result"))
			break;
		for (i = 0; n > 0 && i < (size_t)n; i++)
			ASSERT_TRUE(lens[i] <= 1500, "segment within stride");
		free(p);
		free(o);
	}
}

/* ---- coalesce ----------------------------------------------------------------- */

static uint8_t bufs[128][STRIDE];
static struct iovec iov[128];
static struct gro_out go[128];

static void add(size_t i, struct seg s)
{
	iov[i].iov_base = bufs[i];
	iov[i].iov_len = build(bufs[i], &s);
}

/* n segments of one TCP v4 flow, 1000 bytes each, in order. */
static void run(size_t n, uint32_t seq)
{
	size_t i;

	for (i = 0; i < n; i++)
		add(i, (struct seg){ .seq = seq + (uint32_t)(i * 1000),
				     .id = (uint16_t)i,
				     .payload = payload + i * 1000,
				     .plen = 1000 });
}

static bool zero_hdr(const struct gro_out *o)
{
	static const struct virtio_net_hdr z;

	return !memcmp(&o->hdr, &z, sizeof(z));
}

/* Outputs' segment counts and, for plain outputs, the input they are. */
static bool shape(int got, const size_t *want, size_t n)
{
	size_t i;

	if (got != (int)n)
		return false;
	for (i = 0; i < n; i++)
		if (go[i].nsegs != want[i] || (want[i] == 1 && !zero_hdr(&go[i])))
			return false;
	return true;
}

/* Output o split back must give exactly inputs first.. (in order). */
static bool splits_to(const struct gro_out *o, size_t first)
{
	int n, i;

	if (o->nsegs == 1)
		return zero_hdr(o) && o->len == iov[first].iov_len &&
		       !memcmp(o->data, iov[first].iov_base, o->len);
	n = gso_split(&o->hdr, o->data, o->len, out, STRIDE, lens, 64);
	if (n != (int)o->nsegs)
		return false;
	for (i = 0; i < n; i++)
		if (lens[i] != iov[first + i].iov_len ||
		    memcmp(out + i * STRIDE, iov[first + i].iov_base, lens[i]))
			return false;
	return true;
}

static void test_coalesce_in_order(void)
{
	struct gro *g = gro_new(128, 128 * STRIDE, GRO_TCP | GRO_UDP);
	const uint8_t *d;
	uint32_t ps;
	int n;

	fill_payload();
	run(4, 100);
	memset(go, 0xaa, sizeof(go));
	n = gro_coalesce(g, iov, 4, go, 128);
	if (!ASSERT_TRUE(shape(n, (size_t[]){ 4 }, 1), "one super-packet of 4"))
		goto out;
	d = go[0].data;
	ASSERT_EQ(go[0].len, 40 + 4000, "length");
	ASSERT_EQ(d[2] << 8 | d[3], 4040, "IP total length");
	ASSERT_EQ(pkt_csum(d, 20, 0), 0, "IP header checksum");
	ASSERT_EQ(go[0].hdr.gso_type, VIRTIO_NET_HDR_GSO_TCPV4, "gso_type");
	ASSERT_EQ(go[0].hdr.gso_size, 1000, "gso_size");
	ASSERT_EQ(go[0].hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM, "NEEDS_CSUM");
	ASSERT_EQ(go[0].hdr.hdr_len, 40, "hdr_len");
	ASSERT_EQ(go[0].hdr.csum_start, 20, "csum_start");
	ASSERT_EQ(go[0].hdr.csum_offset, 16, "csum_offset");
	ps = pseudo(d, 4020);
	while (ps >> 16)
		ps = (ps & 0xffff) + (ps >> 16);
	ASSERT_EQ(d[36] << 8 | d[37], ps, "L4 field = pseudo-header sum");
	ASSERT_MEMEQ(d + 40, payload, 4000, "payloads in order");
	ASSERT_TRUE(splits_to(&go[0], 0), "split gives the inputs back");
	ASSERT_EQ(gro_explode(g, 0, go + 1, 4), 4, "explode");
	ASSERT_TRUE(go[1].data == iov[0].iov_base && go[4].data == iov[3].iov_base &&
			    zero_hdr(&go[2]) && go[3].len == iov[2].iov_len,
		    "explode gives the inputs, headers zeroed");
	ASSERT_EQ(gro_explode(g, 0, go + 1, 3), -EINVAL, "explode: room");
	ASSERT_EQ(gro_explode(g, 1, go + 1, 4), -EINVAL, "explode: no such output");
	ASSERT_EQ(gro_coalesce(g, iov, 129, go, 129), -EINVAL, "over the batch");
	ASSERT_EQ(gro_coalesce(g, iov, 4, go, 3), -EINVAL, "out too small");
out:
	gro_free(g);
}

/* Each row: a batch built by setup, the outputs' segment counts, in order. */
struct row {
	const char *name;
	void (*setup)(void);
	size_t n;
	size_t want[8];
	size_t nwant;
};

static void gap(void)
{
	run(4, 100);
	add(2, (struct seg){ .seq = 100 + 3000 + 1, .plen = 1000 });
	add(3, (struct seg){ .seq = 100 + 4000 + 1, .plen = 1000 });
}

static void reordered(void)
{
	run(4, 100);
	add(1, (struct seg){ .seq = 2100, .plen = 1000 });
	add(2, (struct seg){ .seq = 1100, .plen = 1000 });
}

static void psh_last(void)
{
	run(3, 100);
	add(2, (struct seg){ .seq = 2100, .flags = 0x18, .plen = 1000 });
}

static void psh_middle(void)
{
	run(4, 100);
	add(1, (struct seg){ .seq = 1100, .flags = 0x18, .plen = 1000 });
}

static void fin_last(void)
{
	run(3, 100);
	add(2, (struct seg){ .seq = 2100, .flags = 0x11, .plen = 1000 });
}

static void syn_rst_urg(void)
{
	run(4, 100);
	add(1, (struct seg){ .seq = 1100, .flags = 0x04 | 0x10, .plen = 1000 });
	add(2, (struct seg){ .seq = 2100, .flags = 0x20 | 0x10, .plen = 1000 });
	add(3, (struct seg){ .seq = 3100, .flags = 0x02, .plen = 1000 });
}

static void mixed_flows(void)
{
	size_t i;

	for (i = 0; i < 6; i++)
		add(i, (struct seg){ .sport = (uint16_t)(i % 2 ? 7 : 8),
				     .seq = (uint32_t)(i / 2 * 1000),
				     .plen = 1000 });
	add(6, (struct seg){ .proto = IPPROTO_ICMP, .plen = 10 });
}

static void shorter_last(void)
{
	run(3, 100);
	add(2, (struct seg){ .seq = 2100, .plen = 500 });
}

static void shorter_middle(void)
{
	run(3, 100);
	add(1, (struct seg){ .seq = 1100, .plen = 500 });
	add(2, (struct seg){ .seq = 1600, .plen = 1000 });
}

static void longer_later(void)
{
	run(2, 100);
	add(1, (struct seg){ .seq = 1100, .plen = 1001 });
}

static void df_off(void)
{
	add(0, (struct seg){ .seq = 0, .no_df = 1, .plen = 1000 });
	add(1, (struct seg){ .seq = 1000, .no_df = 1, .plen = 1000 });
}

static void options_differ(void)
{
	static const uint8_t ts1[12] = { 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2 };
	static const uint8_t ts2[12] = { 1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 2 };

	add(0, (struct seg){ .seq = 0, .opt_len = 12, .opt = ts1, .plen = 1000 });
	add(1, (struct seg){ .seq = 1000, .opt_len = 12, .opt = ts1, .plen = 1000 });
	add(2, (struct seg){ .seq = 2000, .opt_len = 12, .opt = ts2, .plen = 1000 });
	add(3, (struct seg){ .seq = 3000, .opt_len = 8, .plen = 1000 });
}

static void ip_fields_differ(void)
{
	add(0, (struct seg){ .seq = 0, .plen = 1000 });
	add(1, (struct seg){ .seq = 1000, .tos = 4, .plen = 1000 });
	add(2, (struct seg){ .seq = 2000, .tos = 4, .ttl = 3, .plen = 1000 });
	add(3, (struct seg){ .seq = 3000, .tos = 4, .ttl = 3, .ack = 1, .plen = 1000 });
	add(4, (struct seg){ .seq = 4000, .tos = 4, .ttl = 3, .ack = 1, .win = 5, .plen = 1000 });
}

static void bad_checksum(void)
{
	run(4, 100);
	bufs[2][100] ^= 0xff;
}

static void pure_ack_between(void)
{
	run(4, 100);
	add(2, (struct seg){ .seq = 2100 });
	add(3, (struct seg){ .seq = 2100, .plen = 1000 });
}

static void udp_v6(void)
{
	size_t i;

	for (i = 0; i < 4; i++)
		add(i, (struct seg){ .v6 = 1, .proto = IPPROTO_UDP, .plen = i == 3 ? 10 : 1200 });
	add(4, (struct seg){ .v6 = 1, .proto = IPPROTO_UDP, .plen = 1200 });
}

static void udp_zero_csum(void)
{
	add(0, (struct seg){ .proto = IPPROTO_UDP, .plen = 100 });
	add(1, (struct seg){ .proto = IPPROTO_UDP, .plen = 100 });
	bufs[1][26] = bufs[1][27] = 0;
}

static void too_big(void)
{
	size_t i;

	for (i = 0; i < 50; i++)
		add(i, (struct seg){ .seq = (uint32_t)(i * 1400), .plen = 1400 });
}

static const struct row rows[] = {
	{ "gap", gap, 4, { 2, 2 }, 2 },
	{ "reordered segment", reordered, 4, { 1, 1, 1, 1 }, 4 },
	{ "PSH on the last", psh_last, 3, { 3 }, 1 },
	{ "PSH in the middle ends it", psh_middle, 4, { 2, 2 }, 2 },
	{ "FIN goes alone", fin_last, 3, { 2, 1 }, 2 },
	{ "RST, URG, SYN go alone", syn_rst_urg, 4, { 1, 1, 1, 1 }, 4 },
	{ "mixed flows, ICMP alone", mixed_flows, 7, { 3, 3, 1 }, 3 },
	{ "shorter last", shorter_last, 3, { 3 }, 1 },
	{ "nothing after a shorter one", shorter_middle, 3, { 2, 1 }, 2 },
	{ "no longer after the first", longer_later, 2, { 1, 1 }, 2 },
	{ "IPv4 DF off", df_off, 2, { 1, 1 }, 2 },
	{ "TCP options differ", options_differ, 4, { 2, 1, 1 }, 3 },
	{ "TOS, TTL, ack, window differ", ip_fields_differ, 5, { 1, 1, 1, 1, 1 }, 5 },
	{ "bad L4 checksum alone", bad_checksum, 4, { 2, 1, 1 }, 3 },
	{ "pure ACK ends it", pure_ack_between, 4, { 2, 1, 1 }, 3 },
	{ "UDP v6 (USO)", udp_v6, 5, { 4, 1 }, 2 },
	{ "UDP without checksum alone", udp_zero_csum, 2, { 1, 1 }, 2 },
	{ "64 KiB at most", too_big, 50, { 46, 4 }, 2 },
};

/* IPv4 ids = the batch index, as a sender's would run (a split numbers them so). */
static void renumber(size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (bufs[i][0] >> 4 != 4)
			continue;
		put16(bufs[i] + 4, (uint32_t)i);
		put16(bufs[i] + 10, 0);
		put16(bufs[i] + 10, pkt_csum(bufs[i], 20, 0));
	}
}

static void test_coalesce_rules(void)
{
	struct gro *g = gro_new(128, 128 * STRIDE, GRO_TCP | GRO_UDP);
	size_t r, j, first;
	int n;

	fill_payload();
	for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		rows[r].setup();
		renumber(rows[r].n);
		memset(go, 0xaa, sizeof(go));
		n = gro_coalesce(g, iov, rows[r].n, go, 128);
		if (!ASSERT_TRUE(shape(n, rows[r].want, rows[r].nwant), rows[r].name)) {
			fprintf(stderr, "  got %d outputs:", n);
			for (j = 0; n > 0 && j < (size_t)n; j++)
				fprintf(stderr, " %zu", go[j].nsegs);
			fputc('\n', stderr);
			continue;
		}
		/* Single-flow rows: outputs back to back are the inputs, in order. */
		for (j = 0, first = 0; j < (size_t)n && rows[r].setup != mixed_flows; j++) {
			ASSERT_TRUE(splits_to(&go[j], first), rows[r].name);
			first += go[j].nsegs;
		}
	}
	gro_free(g);
}

/* What the TUN did not take stays plain: UDP without GRO_UDP, all with 0, a full arena. */
static void test_coalesce_off(void)
{
	struct gro *g = gro_new(16, 16 * STRIDE, GRO_TCP), *tiny = gro_new(16, 3000, GRO_TCP);
	size_t i;
	int n;

	udp_v6();
	ASSERT_TRUE(shape(gro_coalesce(g, iov, 5, go, 16), (size_t[]){ 1, 1, 1, 1, 1 }, 5),
		    "UDP needs GRO_UDP");
	run(4, 100);
	gro_set_flags(g, 0);
	memset(go, 0xaa, sizeof(go));
	n = gro_coalesce(g, iov, 4, go, 16);
	ASSERT_TRUE(shape(n, (size_t[]){ 1, 1, 1, 1 }, 4), "flags 0: all plain");
	for (i = 0; i < 4; i++)
		ASSERT_TRUE(go[i].data == iov[i].iov_base, "plain outputs point at the inputs");
	gap();
	n = gro_coalesce(tiny, iov, 4, go, 16);
	ASSERT_TRUE(shape(n, (size_t[]){ 2, 1, 1 }, 3), "arena full: the rest plain");
	ASSERT_TRUE(splits_to(&go[0], 0) && splits_to(&go[1], 2) && splits_to(&go[2], 3),
		    "arena full: same packets");
	gro_free(g);
	gro_free(tiny);
}

/*
 * Random batches of several flows (v4/v6, TCP/UDP, gaps, PSH, short
 * segments): every output split back, then per flow, gives exactly that
 * flow's inputs in their order.
 */
static void test_coalesce_roundtrip(void)
{
	struct gro *g = gro_new(64, 64 * STRIDE, GRO_TCP | GRO_UDP);
	uint32_t seq[4];
	uint16_t id[4];
	size_t i, j, k, n, pos[4], seen[4];
	int iter, no, ns, f, supers = 0;

	srand(7);
	fill_payload();
	for (iter = 0; iter < 500; iter++) {
		n = 1 + (size_t)rand() % 64;
		memset(seq, 0, sizeof(seq));
		memset(id, 0, sizeof(id));
		for (i = 0; i < n; i++) {
			f = rand() % 4;
			struct seg s = { .v6 = f & 1,
					 .proto = f & 2 ? IPPROTO_UDP : 0,
					 .sport = (uint16_t)(10 + f),
					 .seq = seq[f],
					 .id = id[f],
					 .payload = payload + i * 7,
					 .plen = rand() % 4 ? 1200 : (size_t)(1 + rand() % 1300) };
			if (rand() % 10 == 0)
				s.flags = 0x18;
			if (rand() % 15 == 0)
				s.seq += 1; /* a gap */
			add(i, s);
			seq[f] = s.seq + (uint32_t)s.plen;
			id[f]++;
		}
		no = gro_coalesce(g, iov, n, go, 64);
		if (!ASSERT_TRUE(no >= 1 && (size_t)no <= n, "outputs"))
			break;
		memset(seen, 0, sizeof(seen));
		memset(pos, 0, sizeof(pos));
		for (j = 0; j < (size_t)no; j++) {
			ns = go[j].nsegs == 1
				     ? (memcpy(out, go[j].data, go[j].len), lens[0] = go[j].len, 1)
				     : gso_split(&go[j].hdr, go[j].data, go[j].len, out, STRIDE,
						 lens, 64);
			supers += ns > 1;
			if (!ASSERT_EQ(ns, go[j].nsegs, "split count"))
				goto out;
			for (k = 0; k < (size_t)ns; k++) {
				const uint8_t *o = out + k * STRIDE;

				f = (o[ihl_of(o) + 1]) - 10;
				/* the next input of flow f */
				while (pos[f] < n &&
				       ((const uint8_t *)iov[pos[f]].iov_base)[ihl_of(o) + 1] !=
					       10 + f)
					pos[f]++;
				if (!ASSERT_TRUE(pos[f] < n && lens[k] == iov[pos[f]].iov_len &&
							 !memcmp(o, iov[pos[f]].iov_base, lens[k]),
						 "flow order and bytes"))
					goto out;
				pos[f]++;
				seen[f]++;
			}
		}
		for (f = 0, k = 0; f < 4; f++)
			k += seen[f];
		ASSERT_EQ(k, n, "every packet out once");
	}
	ASSERT_TRUE(supers > 500, "batches did coalesce");
out:
	gro_free(g);
}

static void test_field_failures(void)
{
	struct gro_out super = { .hdr = { .gso_type = VIRTIO_NET_HDR_GSO_TCPV4 } }, plain = { 0 };
	struct offload o;

	offload_init(&o, true, true);
	ASSERT_EQ(offload_tun_write_failed(&o, &plain, -EINVAL), OFFLOAD_FAIL, "EINVAL, plain");
	ASSERT_EQ(offload_tun_write_failed(&o, &super, -EAGAIN), OFFLOAD_FAIL, "EAGAIN");
	ASSERT_TRUE(atomic_load(&o.tun_coalesce), "still on");
	ASSERT_EQ(offload_tun_write_failed(&o, &super, -EINVAL), OFFLOAD_RETRY_PLAIN, "EINVAL");
	ASSERT_EQ(offload_tun_write_failed(&o, &super, -EINVAL), OFFLOAD_RETRY_PLAIN, "again");
	ASSERT_TRUE(!atomic_load(&o.tun_coalesce), "coalescing off");
	ASSERT_EQ(atomic_load(&o.counters[OFFLOAD_TUN_COALESCE_OFF]), 1, "counted once");

	ASSERT_EQ(offload_udp_send_failed(&o, false, -EIO), OFFLOAD_FAIL, "EIO without GSO");
	ASSERT_EQ(offload_udp_send_failed(&o, true, -EMSGSIZE), OFFLOAD_RETRY_PLAIN, "EMSGSIZE");
	ASSERT_EQ(offload_udp_send_failed(&o, true, -EMSGSIZE), OFFLOAD_RETRY_PLAIN, "EMSGSIZE");
	ASSERT_TRUE(atomic_load(&o.udp_gso), "GSO stays on after EMSGSIZE");
	ASSERT_EQ(atomic_load(&o.counters[OFFLOAD_UDP_GSO_EMSGSIZE]), 2, "each batch counted");
	ASSERT_EQ(offload_udp_send_failed(&o, true, -ENOBUFS), OFFLOAD_FAIL, "ENOBUFS");
	ASSERT_EQ(offload_udp_send_failed(&o, true, -EIO), OFFLOAD_RETRY_PLAIN, "EIO");
	ASSERT_EQ(offload_udp_send_failed(&o, true, -EIO), OFFLOAD_RETRY_PLAIN, "EIO again");
	ASSERT_TRUE(!atomic_load(&o.udp_gso), "GSO off");
	ASSERT_EQ(atomic_load(&o.counters[OFFLOAD_UDP_GSO_OFF]), 1, "counted once");

	offload_count(&o, OFFLOAD_BAD_VNET_HDR);
	ASSERT_EQ(atomic_load(&o.counters[OFFLOAD_BAD_VNET_HDR]), 1, "bad_vnet_hdr");
	ASSERT_STREQ(offload_counter_name(OFFLOAD_TUN_COALESCE_OFF), "tun_coalesce_off", "name");
	ASSERT_STREQ(offload_counter_name(OFFLOAD_UDP_GSO_OFF), "udp_gso_off", "name");
	ASSERT_STREQ(offload_counter_name(OFFLOAD_UDP_GSO_EMSGSIZE), "udp_gso_emsgsize", "name");
	ASSERT_STREQ(offload_counter_name(OFFLOAD_BAD_VNET_HDR), "bad_vnet_hdr", "name");
}

/* ---- the real kernel, in a private netns ------------------------------------- */

#define PEER "10.77.0.2"
#define LOCAL "10.77.0.1"
#define PEER_PORT 5000
#define PEER_ISN 1000u

/* The emulated peer's side of one TCP connection through the TUN. */
struct conn {
	int tun, sock;
	uint16_t lport;
	uint32_t local_next; /* the next seq we expect from the local socket */
	uint32_t peer_next;  /* the next seq we send */
	int offloads;
	int saw_gso, saw_vnet;
	uint8_t rx[BIG + 10];
};

/* The next TCP packet from the local socket to the peer: its vnet header and bytes. */
static ssize_t peer_read(struct conn *c, struct virtio_net_hdr *h, const uint8_t **pkt)
{
	struct pollfd p = { .fd = c->tun, .events = POLLIN };
	ssize_t n;

	while (poll(&p, 1, 3000) == 1) {
		n = read(c->tun, c->rx, sizeof(c->rx));
		if (n < (ssize_t)(10 + 40) || c->rx[10] != 0x45 || c->rx[10 + 9] != IPPROTO_TCP)
			continue;
		memcpy(h, c->rx, 10);
		if (h->flags || h->gso_type)
			c->saw_vnet = 1;
		*pkt = c->rx + 10;
		return n - 10;
	}
	return -1;
}

static int peer_write(struct conn *c, const struct virtio_net_hdr *h, const void *d, size_t len)
{
	struct virtio_net_hdr z = { 0 };
	struct iovec v[2] = { { h ? (void *)h : &z, 10 }, { (void *)d, len } };

	return writev(c->tun, v, 2) == (ssize_t)(10 + len) ? 0 : -1;
}

static int peer_send(struct conn *c, uint8_t flags, const uint8_t *opt, uint8_t opt_len)
{
	uint8_t b[100];
	size_t len = build(b, &(struct seg){ .src = PEER,
					     .dst = LOCAL,
					     .sport = PEER_PORT,
					     .dport = c->lport,
					     .seq = c->peer_next,
					     .ack = c->local_next,
					     .flags = flags,
					     .win = 65535,
					     .opt = opt,
					     .opt_len = opt_len });

	return peer_write(c, NULL, b, len);
}

static const char *handshake(struct conn *c, const char *ifname)
{
	static const uint8_t mss[4] = { 2, 4, 1400 >> 8, 1400 & 0xff };
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(PEER_PORT) };
	struct pollfd p = { .events = POLLOUT };
	struct cidr a = { .family = AF_INET, .plen = 24 };
	struct virtio_net_hdr h;
	const uint8_t *pkt;
	int err = 0;
	socklen_t el = sizeof(err);

	inet_pton(AF_INET, LOCAL, a.addr);
	if (tun_no_ipv6(ifname) || tun_configure(ifname, &a, 1500))
		return "configure the TUN";
	inet_pton(AF_INET, PEER, &sa.sin_addr);
	c->sock = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->sock < 0 ||
	    (connect(c->sock, (struct sockaddr *)&sa, sizeof(sa)) && errno != EINPROGRESS))
		return "connect";
	if (peer_read(c, &h, &pkt) < 0 || pkt[20 + 13] != 0x02)
		return "SYN from the local socket";
	c->lport = (uint16_t)(pkt[20] << 8 | pkt[21]);
	c->local_next = get32(pkt + 24) + 1;
	c->peer_next = PEER_ISN;
	if (peer_send(c, 0x12, mss, 4))
		return "write SYN-ACK";
	c->peer_next++;
	p.fd = c->sock;
	if (poll(&p, 1, 3000) != 1 || getsockopt(c->sock, SOL_SOCKET, SO_ERROR, &err, &el) || err)
		return "connection established";
	if (peer_read(c, &h, &pkt) < 0 || pkt[20 + 13] != 0x10)
		return "ACK of the handshake";
	return NULL;
}

/* The local socket sends total bytes; we read them off the TUN, split, check and ACK them. */
static const char *read_side(struct conn *c, size_t total)
{
	struct virtio_net_hdr h;
	const uint8_t *pkt;
	size_t sent = 0, got = 0, i, plen;
	ssize_t n, len;
	int segs;

	while (got < total) {
		n = send(c->sock, payload + sent, total - sent, MSG_DONTWAIT);
		if (n > 0)
			sent += (size_t)n;
		len = peer_read(c, &h, &pkt);
		if (len < 0)
			return "data from the local socket (timeout)";
		if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE)
			c->saw_gso = 1;
		segs = gso_split(&h, pkt, (size_t)len, out, STRIDE, lens, 64);
		if (segs < 1)
			return "gso_split refused what the kernel gave";
		for (i = 0; i < (size_t)segs; i++) {
			const uint8_t *o = out + i * STRIDE;
			uint32_t seq = get32(o + 24);

			if (!valid(o, lens[i]))
				return "segment with a bad checksum or length";
			plen = lens[i] - 20 - (size_t)(o[32] >> 4) * 4;
			if (plen > 1400)
				return "segment above the MSS";
			if (!plen || seq != c->local_next) {
				if ((int32_t)(seq - c->local_next) > 0)
					return "a segment missing";
				continue; /* a pure ACK or a retransmission */
			}
			if (memcmp(o + lens[i] - plen, payload + got, plen))
				return "segment payload differs";
			got += plen;
			c->local_next += (uint32_t)plen;
		}
		if (peer_send(c, 0x10, NULL, 0))
			return "write ACK";
	}
	return NULL;
}

/* The peer sends 8 segments, coalesced (or not); the local socket must read them all. */
static const char *write_side(struct conn *c)
{
	struct gro *g = gro_new(16, 16 * STRIDE, c->offloads ? GRO_TCP : 0);
	struct pollfd p = { .fd = c->sock, .events = POLLIN };
	struct virtio_net_hdr h;
	const uint8_t *pkt;
	uint8_t rcv[8000];
	size_t got = 0, i;
	ssize_t n;
	int no;

	if (!g)
		return "gro_new";
	for (i = 0; i < 8; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len =
			build(bufs[i], &(struct seg){ .src = PEER,
						      .dst = LOCAL,
						      .sport = PEER_PORT,
						      .dport = c->lport,
						      .seq = c->peer_next + (uint32_t)i * 1000,
						      .ack = c->local_next,
						      .win = 65535,
						      .flags = i == 7 ? 0x18 : 0x10,
						      .id = (uint16_t)i,
						      .payload = payload + 777 + i * 1000,
						      .plen = 1000 });
	}
	no = gro_coalesce(g, iov, 8, go, 16);
	if (no != (c->offloads ? 1 : 8))
		return "coalesced into the expected number of writes";
	for (i = 0; i < (size_t)no; i++)
		if (peer_write(c, &go[i].hdr, go[i].data, go[i].len))
			return "the TUN refused a write";
	gro_free(g);
	while (got < sizeof(rcv) && poll(&p, 1, 3000) == 1) {
		n = recv(c->sock, rcv + got, sizeof(rcv) - got, 0);
		if (n <= 0)
			return "recv";
		got += (size_t)n;
	}
	if (got != sizeof(rcv) || memcmp(rcv, payload + 777, sizeof(rcv)))
		return "the local socket did not get the 8000 bytes in order";
	c->peer_next += 8000;
	while (peer_read(c, &h, &pkt) > 0)
		if (get32(pkt + 28) == c->peer_next)
			return NULL;
	return "the kernel's ACK of all 8000 bytes";
}

static const char *tun_steps(int offloads)
{
	struct conn c = { .offloads = offloads, .sock = -1 };
	char name[IFNAMSIZ];
	unsigned int got = 0;
	const char *why;

	fill_payload();
	if (tun_configure("lo", NULL, 0))
		return "lo up";
	c.tun = tun_open("cgoff%d", TUN_OPEN_VNET_HDR, name, sizeof(name));
	if (c.tun < 0)
		return "tun_open with a vnet header";
	if (offloads &&
	    (tun_offload_enable(c.tun, &got) || !(got & TUN_F_TSO4) || !(got & TUN_F_CSUM)))
		return "tun_offload_enable: TSO4 and CSUM";
	if ((why = handshake(&c, name)) || (why = read_side(&c, 60000)) || (why = write_side(&c)))
		return why;
	if (offloads && !c.saw_gso)
		return "no TSO super-packet came out of the TUN";
	if (!offloads && c.saw_vnet)
		return "a vnet header with offloads off";
	close(c.sock);
	close(c.tun);
	return NULL;
}

static const char *tun_steps_on(void)
{
	return tun_steps(1);
}

static const char *tun_steps_off(void)
{
	return tun_steps(0);
}

/* TSO read from a real TUN and split; a coalesced write delivered to a real socket. */
static void test_kernel_tun(void)
{
	t_in_netns(tun_steps_on);
}

/* The same connection with every offload off: plain packets both ways, zeroed headers. */
static void test_kernel_tun_offloads_off(void)
{
	t_in_netns(tun_steps_off);
}

/* UDP_SEGMENT on the sender, UDP_GRO on one receiver, none on the other (loopback). */
static const char *udp_steps(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	union {
		struct cmsghdr align;
		uint8_t b[UDP_OFFLOAD_CMSG_SPACE];
	} ctl, rctl;
	struct pollfd p = { .events = POLLIN };
	struct iovec v = { payload, 4000 }, rv;
	struct msghdr m = { .msg_iov = &v, .msg_iovlen = 1 }, rm;
	uint8_t rcv[8000];
	int tx, rx[2], i;
	ssize_t n;

	fill_payload();
	if (tun_configure("lo", NULL, 0))
		return "lo up";
	tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (tx < 0 || udp_gso_probe(tx))
		return "udp_gso_probe";
	for (i = 0; i < 2; i++) {
		rx[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		a.sin_port = htons((uint16_t)(6000 + i));
		if (rx[i] < 0 || bind(rx[i], (struct sockaddr *)&a, sizeof(a)))
			return "bind";
	}
	if (udp_gro_enable(rx[0]))
		return "udp_gro_enable";
	for (i = 0; i < 2; i++) {
		a.sin_port = htons((uint16_t)(6000 + i));
		m.msg_name = &a;
		m.msg_namelen = sizeof(a);
		udp_gso_cmsg(&m, ctl.b, 1000);
		if (sendmsg(tx, &m, 0) != 4000)
			return "sendmsg with UDP_SEGMENT";
	}
	/* With GRO: the 4 segments in one read, the segment size in the cmsg. */
	rv = (struct iovec){ rcv, sizeof(rcv) };
	rm = (struct msghdr){ .msg_iov = &rv,
			      .msg_iovlen = 1,
			      .msg_control = rctl.b,
			      .msg_controllen = sizeof(rctl.b) };
	p.fd = rx[0];
	if (poll(&p, 1, 3000) != 1 || recvmsg(rx[0], &rm, 0) != 4000 || memcmp(rcv, payload, 4000))
		return "GRO receiver: one read of 4000 bytes";
	if (udp_gro_size(&rm) != 1000)
		return "udp_gro_size";
	/* Without: 4 datagrams of 1000, and no cmsg. */
	p.fd = rx[1];
	for (i = 0; i < 4; i++) {
		rm.msg_control = rctl.b;
		rm.msg_controllen = sizeof(rctl.b);
		if (poll(&p, 1, 3000) != 1 || (n = recvmsg(rx[1], &rm, 0)) != 1000 ||
		    memcmp(rcv, payload + i * 1000, 1000) || udp_gro_size(&rm) != 0)
			return "plain receiver: 4 datagrams of 1000";
	}
	close(tx);
	close(rx[0]);
	close(rx[1]);
	return NULL;
}

static void test_kernel_udp(void)
{
	t_in_netns(udp_steps);
}

T_MAIN(T_CASE(test_split), T_CASE(test_split_none), T_CASE(test_split_refused),
       T_CASE(test_split_fuzz), T_CASE(test_coalesce_in_order), T_CASE(test_coalesce_rules),
       T_CASE(test_coalesce_off), T_CASE(test_coalesce_roundtrip), T_CASE(test_field_failures),
       T_CASE(test_kernel_tun), T_CASE(test_kernel_tun_offloads_off), T_CASE(test_kernel_udp))
