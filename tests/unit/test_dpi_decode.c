// SPDX-License-Identifier: GPL-2.0
/* Decoder as a table: link types, VLANs, IPv6 extension headers, tunnels; every truncation is safe.
 */
#include <netinet/in.h>
#include <string.h>

#include "lib/dpi/decode.h"
#include "tests/lib/pkt.h"
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

static const struct pkt_spec inner_tcp4 = { .family = 4,
					    .src = "10.0.0.1",
					    .dst = "10.0.0.2",
					    .proto = IPPROTO_TCP,
					    .sport = 40000,
					    .dport = 80,
					    .tcp_flags = 0x18,
					    .seq = 1,
					    .payload = (const uint8_t *)"GET /",
					    .payload_len = 5 };
static const struct pkt_spec inner_udp6 = { .family = 6,
					    .src = "2001:db8::1",
					    .dst = "2001:db8::2",
					    .proto = IPPROTO_UDP,
					    .sport = 5353,
					    .dport = 53,
					    .payload = (const uint8_t *)"abc",
					    .payload_len = 3 };

/* Builds @s into b[0..MAXP); returns the frame length, 0 if it cannot be built. */
static size_t build(uint8_t *b, const struct pkt_spec *s)
{
	struct pkt p;

	if (pkt_build(s, &p) || p.len > MAXP)
		return 0;
	memcpy(b, p.data, p.len);
	return p.len;
}

static size_t b_eth_tcp4(uint8_t *b)
{
	return build(b, &inner_tcp4);
}

static size_t b_eth_vlan_udp6(uint8_t *b)
{
	struct pkt_spec s = inner_udp6;

	s.nvlan = 1;
	s.vlan[0] = (struct pkt_vlan){ 0x8100, 42 };
	return build(b, &s);
}

static size_t b_qinq(uint8_t *b)
{
	struct pkt_spec s = inner_udp6;

	s.nvlan = 2;
	s.vlan[0] = (struct pkt_vlan){ 0x88a8, 7 };
	s.vlan[1] = (struct pkt_vlan){ 0x8100, 42 };
	return build(b, &s);
}

static size_t b_ipv4_options(uint8_t *b)
{
	struct pkt_spec s = inner_tcp4;

	s.ip_opt_len = 4;
	return build(b, &s);
}

static size_t b_ipv6_ext(uint8_t *b)
{
	struct pkt_spec s = inner_udp6;

	s.next_ext = 2;
	s.ext[0] = (struct pkt_ext){ IPPROTO_HOPOPTS, 8 };
	s.ext[1] = (struct pkt_ext){ IPPROTO_DSTOPTS, 8 };
	return build(b, &s);
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
	size_t n = build(tmp, &inner_tcp4);

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
		      const struct pkt_spec *inner, bool keep_eth)
{
	uint8_t in[MAXP], pl[MAXP];
	size_t n = build(in, inner), skip = keep_eth ? 0 : 14;
	struct pkt_spec outer = { .family = 4,
				  .src = "192.0.2.1",
				  .dst = "192.0.2.2",
				  .proto = proto,
				  .sport = 1234,
				  .dport = dport };

	memcpy(pl, hdr, hl);
	memcpy(pl + hl, in + skip, n - skip);
	outer.payload = pl;
	outer.payload_len = hl + n - skip;
	return build(b, &outer);
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

/* a fragment: the raw IP payload, no L4 header */
static size_t b_frag6(uint8_t *b)
{
	struct pkt_spec s = inner_udp6;

	s.frag = 1;
	s.frag_more = 1;
	s.frag_id = 9;
	s.no_l4 = 1;
	s.payload = (const uint8_t *)"12345678";
	s.payload_len = 8;
	return build(b, &s);
}

static size_t b_frag4(uint8_t *b)
{
	struct pkt_spec s = inner_tcp4;

	s.frag = 1;
	s.frag_off = 1; /* 8 bytes */
	s.frag_id = 9;
	s.no_l4 = 1;
	s.payload = (const uint8_t *)"12345678";
	s.payload_len = 8;
	return build(b, &s);
}

static size_t b_icmp_err(uint8_t *b)
{
	static const struct pkt_spec quoted = { .family = 4,
						.src = "10.0.0.2",
						.dst = "10.0.0.1",
						.proto = IPPROTO_UDP,
						.sport = 53,
						.dport = 999 };
	struct pkt_spec s = { .family = 4,
			      .src = "10.0.0.9",
			      .dst = "10.0.0.2",
			      .proto = IPPROTO_ICMP,
			      .icmp_type = 3 };
	uint8_t q[MAXP];
	size_t n = build(q, &quoted);

	s.payload = q + 14;
	s.payload_len = n - 14;
	return build(b, &s);
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
