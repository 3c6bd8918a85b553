// SPDX-License-Identifier: GPL-2.0
/* Decoder as a table: link types, VLANs, IPv6 extension headers, tunnels; every truncation is safe.
 */
#include <string.h>

#include "lib/dpi/decode.h"
#include "tests/lib/dpi_pkt.h"
#include "tests/lib/t.h"

#define MAXP 512

struct dcase {
	const char *name;
	int linktype;
	size_t (*build)(uint8_t *buf);
	enum dec_status want;
	uint8_t af, proto, depth, nvlan;
	uint16_t sport, dport;
	size_t payload_len;
};

static const struct tpkt inner_tcp4 = { .af = 4,
					.src = "10.0.0.1",
					.dst = "10.0.0.2",
					.proto = 6,
					.sport = 40000,
					.dport = 80,
					.flags = 0x18,
					.seq = 1,
					.payload = "GET /",
					.plen = 5 };
static const struct tpkt inner_udp6 = { .af = 6,
					.src = "2001:db8::1",
					.dst = "2001:db8::2",
					.proto = 17,
					.sport = 5353,
					.dport = 53,
					.payload = "abc",
					.plen = 3 };

static size_t b_eth_tcp4(uint8_t *b)
{
	return tpkt_build(b, MAXP, &inner_tcp4);
}

static size_t b_eth_vlan_udp6(uint8_t *b)
{
	struct tpkt p = inner_udp6;

	p.vlan = 42;
	return tpkt_build(b, MAXP, &p);
}

static size_t b_qinq(uint8_t *b)
{
	size_t n = b_eth_vlan_udp6(b);

	/* insert an 802.1ad outer tag before the 802.1Q one */
	memmove(b + 16, b + 12, n - 12);
	b[12] = 0x88, b[13] = 0xa8, b[14] = 0x00, b[15] = 7;
	return n + 4;
}

static size_t b_ipv4_options(uint8_t *b)
{
	size_t n = b_eth_tcp4(b);

	/* IHL 6: one 4-byte option (NOP NOP NOP EOL) */
	memmove(b + 14 + 24, b + 14 + 20, n - 34);
	memcpy(b + 14 + 20, "\x01\x01\x01\x00", 4);
	b[14] = 0x46;
	b[14 + 3] += 4;
	return n + 4;
}

static size_t b_ipv6_ext(uint8_t *b)
{
	size_t n = tpkt_build(b, MAXP, &inner_udp6);
	static const uint8_t hbh[8] = { 60, 0, 1, 4, 0, 0, 0, 0 }; /* next: dest opts */
	static const uint8_t dst[8] = { 17, 0, 1, 4, 0, 0, 0, 0 }; /* next: UDP */

	memmove(b + 54 + 16, b + 54, n - 54);
	memcpy(b + 54, hbh, 8);
	memcpy(b + 62, dst, 8);
	b[14 + 6] = 0;
	b[14 + 5] += 16;
	return n + 16;
}

static size_t b_arp(uint8_t *b)
{
	memset(b, 0, 42);
	b[12] = 0x08, b[13] = 0x06;
	b[15] = 1, b[16] = 8, b[18] = 6, b[19] = 4, b[21] = 1;
	return 42;
}

/* the IP packet of inner_tcp4 behind a link header of hl bytes */
static size_t ip_behind(uint8_t *b, const void *hdr, size_t hl)
{
	uint8_t tmp[MAXP];
	size_t n = tpkt_build(tmp, MAXP, &inner_tcp4);

	memcpy(b, hdr, hl);
	memcpy(b + hl, tmp + 14, n - 14);
	return hl + n - 14;
}

static size_t b_null_le(uint8_t *b)
{
	return ip_behind(b, "\x02\x00\x00\x00", 4);
}

static size_t b_null_be(uint8_t *b)
{
	return ip_behind(b, "\x00\x00\x00\x02", 4);
}

static size_t b_raw(uint8_t *b)
{
	return ip_behind(b, "", 0);
}

static size_t b_ppp(uint8_t *b)
{
	return ip_behind(b, "\xff\x03\x00\x21", 4);
}

static size_t b_sll(uint8_t *b)
{
	return ip_behind(b, "\x00\x00\x00\x01\x00\x06\x00\x01\x02\x03\x04\x05\x00\x00\x08\x00", 16);
}

static size_t b_sll2(uint8_t *b)
{
	return ip_behind(b,
			 "\x08\x00\x00\x00\x00\x00\x00\x02\x00\x01\x00\x06\x00\x01\x02\x03\x04"
			 "\x05\x00\x00",
			 20);
}

/* outer IPv4 (proto) around hdr + inner frame (minus its Ethernet header unless keep_eth) */
static size_t tunnel4(uint8_t *b, uint8_t proto, uint16_t dport, const void *hdr, size_t hl,
		      const struct tpkt *inner, bool keep_eth)
{
	uint8_t in[MAXP], pl[MAXP];
	size_t n = tpkt_build(in, MAXP, inner), skip = keep_eth ? 0 : 14;
	struct tpkt outer = { .af = 4,
			      .src = "192.0.2.1",
			      .dst = "192.0.2.2",
			      .proto = proto,
			      .sport = 1234,
			      .dport = dport,
			      .frag = proto != 17 };

	memcpy(pl, hdr, hl);
	memcpy(pl + hl, in + skip, n - skip);
	outer.payload = pl;
	outer.plen = hl + n - skip;
	return tpkt_build(b, MAXP, &outer);
}

static size_t b_6in4(uint8_t *b)
{
	return tunnel4(b, 41, 0, "", 0, &inner_udp6, false);
}

static size_t b_gre_key(uint8_t *b)
{
	return tunnel4(b, 47, 0, "\x20\x00\x08\x00\x00\x00\x00\x07", 8, &inner_tcp4, false);
}

static size_t b_gre_teb(uint8_t *b)
{
	return tunnel4(b, 47, 0, "\x00\x00\x65\x58", 4, &inner_tcp4, true);
}

static size_t b_vxlan(uint8_t *b)
{
	return tunnel4(b, 17, 4789, "\x08\x00\x00\x00\x00\x00\x01\x00", 8, &inner_udp6, true);
}

static size_t b_gtpu(uint8_t *b)
{
	return tunnel4(b, 17, 2152, "\x30\xff\x00\x00\x00\x00\x00\x01", 8, &inner_tcp4, false);
}

static size_t b_frag6(uint8_t *b)
{
	struct tpkt p = inner_udp6;

	p.frag = true;
	p.mf = true;
	p.id = 9;
	p.payload = "12345678";
	p.plen = 8;
	return tpkt_build(b, MAXP, &p);
}

static size_t b_frag4(uint8_t *b)
{
	struct tpkt p = inner_tcp4;

	p.frag = true;
	p.frag_off = 8;
	p.id = 9;
	p.payload = "12345678";
	p.plen = 8;
	return tpkt_build(b, MAXP, &p);
}

static size_t b_icmp_err(uint8_t *b)
{
	uint8_t q[MAXP], pl[MAXP];
	size_t n = tpkt_build(q, MAXP,
			      &(struct tpkt){ .af = 4,
					      .src = "10.0.0.2",
					      .dst = "10.0.0.1",
					      .proto = 17,
					      .sport = 53,
					      .dport = 999 });
	struct tpkt p = { .af = 4, .src = "10.0.0.9", .dst = "10.0.0.2", .proto = 1, .sport = 3 };

	memcpy(pl, q + 14, n - 14);
	p.payload = pl;
	p.plen = n - 14;
	return tpkt_build(b, MAXP, &p);
}

static const struct dcase dcases[] = {
	{ "eth_tcp4", DEC_LINK_ETH, b_eth_tcp4, DEC_OK, 4, 6, 0, 0, 40000, 80, 5 },
	{ "eth_vlan_udp6", DEC_LINK_ETH, b_eth_vlan_udp6, DEC_OK, 6, 17, 0, 1, 5353, 53, 3 },
	{ "qinq", DEC_LINK_ETH, b_qinq, DEC_OK, 6, 17, 0, 2, 5353, 53, 3 },
	{ "ipv4_options", DEC_LINK_ETH, b_ipv4_options, DEC_OK, 4, 6, 0, 0, 40000, 80, 5 },
	{ "ipv6_ext_headers", DEC_LINK_ETH, b_ipv6_ext, DEC_OK, 6, 17, 0, 0, 5353, 53, 3 },
	{ "arp", DEC_LINK_ETH, b_arp, DEC_NOIP, 0, 0, 0, 0, 0, 0, 0 },
	{ "null_le", DEC_LINK_NULL, b_null_le, DEC_OK, 4, 6, 0, 0, 40000, 80, 5 },
	{ "null_be", DEC_LINK_NULL, b_null_be, DEC_OK, 4, 6, 0, 0, 40000, 80, 5 },
	{ "loop", DEC_LINK_LOOP, b_null_be, DEC_OK, 4, 6, 0, 0, 40000, 80, 5 },
	{ "raw", DEC_LINK_RAW, b_raw, DEC_OK, 4, 6, 0, 0, 40000, 80, 5 },
	{ "raw_linktype_101", DEC_LINK_RAW_LT, b_raw, DEC_OK, 4, 6, 0, 0, 40000, 80, 5 },
	{ "ipv4_linktype", DEC_LINK_IPV4, b_raw, DEC_OK, 4, 6, 0, 0, 40000, 80, 5 },
	{ "ppp", DEC_LINK_PPP, b_ppp, DEC_OK, 4, 6, 0, 0, 40000, 80, 5 },
	{ "sll", DEC_LINK_SLL, b_sll, DEC_OK, 4, 6, 0, 0, 40000, 80, 5 },
	{ "sll2", DEC_LINK_SLL2, b_sll2, DEC_OK, 4, 6, 0, 0, 40000, 80, 5 },
	{ "6in4", DEC_LINK_ETH, b_6in4, DEC_OK, 6, 17, 1, 0, 5353, 53, 3 },
	{ "gre_key", DEC_LINK_ETH, b_gre_key, DEC_OK, 4, 6, 1, 0, 40000, 80, 5 },
	{ "gre_teb", DEC_LINK_ETH, b_gre_teb, DEC_OK, 4, 6, 1, 0, 40000, 80, 5 },
	{ "vxlan", DEC_LINK_ETH, b_vxlan, DEC_OK, 6, 17, 1, 0, 5353, 53, 3 },
	{ "gtpu", DEC_LINK_ETH, b_gtpu, DEC_OK, 4, 6, 1, 0, 40000, 80, 5 },
	{ "frag6", DEC_LINK_ETH, b_frag6, DEC_FRAG, 6, 17, 0, 0, 0, 0, 0 },
	{ "frag4", DEC_LINK_ETH, b_frag4, DEC_FRAG, 4, 6, 0, 0, 0, 0, 0 },
	{ "icmp_error", DEC_LINK_ETH, b_icmp_err, DEC_OK, 4, 1, 0, 0, 3, 0, 32 },
	{ "unknown_link", 9999, b_eth_tcp4, DEC_UNSUPPORTED, 0, 0, 0, 0, 0, 0, 0 },
};

static void test_decode_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(dcases) / sizeof(dcases[0]); i++) {
		const struct dcase *c = &dcases[i];
		uint8_t buf[MAXP];
		struct dec_pkt pkt;
		size_t n = c->build(buf);
		enum dec_status st;

		if (!ASSERT_TRUE(n > 0, c->name))
			continue;
		st = dec_packet(&pkt, c->linktype, buf, n);
		ASSERT_EQ(st, c->want, c->name);
		if (st != DEC_OK && st != DEC_FRAG)
			continue;
		ASSERT_EQ(pkt.af, c->af, c->name);
		ASSERT_EQ(pkt.proto, c->proto, c->name);
		ASSERT_EQ(pkt.depth, c->depth, c->name);
		ASSERT_EQ(pkt.nvlan, c->nvlan, c->name);
		if (st == DEC_FRAG) {
			ASSERT_EQ(pkt.frag.len, 8, c->name);
			continue;
		}
		ASSERT_EQ(pkt.sport, c->sport, c->name);
		ASSERT_EQ(pkt.dport, c->dport, c->name);
		ASSERT_EQ(pkt.payload_len, c->payload_len, c->name);
		if (c->proto == 1) /* the quoted UDP header counts as UDP, as in tshark */
			ASSERT_TRUE(pkt.seen & DEC_SEEN_UDP, c->name);
	}
}

/* Every prefix of every case: no read outside the buffer (ASan), payload inside it. */
static void test_decode_truncated(void)
{
	size_t i, len;

	for (i = 0; i < sizeof(dcases) / sizeof(dcases[0]); i++) {
		const struct dcase *c = &dcases[i];
		uint8_t full[MAXP];
		size_t n = c->build(full);

		for (len = 0; len < n; len++) {
			uint8_t *buf = len ? malloc(len) : NULL;
			struct dec_pkt pkt;
			enum dec_status st;

			if (len)
				memcpy(buf, full, len);
			st = dec_packet(&pkt, c->linktype, buf, len);
			if (st == DEC_OK && pkt.payload_len)
				ASSERT_TRUE(pkt.payload >= buf &&
						    pkt.payload + pkt.payload_len <= buf + len,
					    c->name);
			if (st == DEC_BAD)
				ASSERT_TRUE(pkt.err != DEC_ERR_NONE, c->name);
			free(buf);
		}
	}
}

T_MAIN(T_CASE(test_decode_table), T_CASE(test_decode_truncated))
