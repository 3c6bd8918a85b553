// SPDX-License-Identifier: GPL-2.0
/* inner_parse / inner_check without privileges: one row per verdict (the gate's agreement:
 * test_cap). */
#include <netinet/in.h>
#include <string.h>

#include "lib/base/addr.h"
#include "lib/tunnel/inner.h"
#include "tests/lib/pkt.h"
#include "tests/lib/t.h"

/* The row macros give defaults that a row overrides (.src, .dport). */
#pragma GCC diagnostic ignored "-Woverride-init"

struct row {
	const char *name;
	struct pkt_spec s;
	int opt_at, opt_val; /* a byte to set, from the IP header (0: none) */
	enum tun_verdict want;
	int v4_session; /* the session's vip is 100.64.0.2 (else fd00:64::2) */
};

#define V4(...)                                                                             \
	{                                                                                   \
		.family = 4, .src = "100.64.0.2", .dst = "10.10.2.2", .proto = IPPROTO_TCP, \
		.sport = 50000, .dport = 80, __VA_ARGS__                                    \
	}
#define V6(...)                                                                                   \
	{                                                                                         \
		.family = 6, .src = "fd00:64::2", .dst = "2001:db8:10::80", .proto = IPPROTO_UDP, \
		.sport = 50000, .dport = 53, __VA_ARGS__                                          \
	}

static const struct row rows[] = {
	{ "v4 tcp", V4(), 0, 0, TUN_OK, 0 },
	{ "v6 udp", V6(), 0, 0, TUN_OK, 0 },
	{ "v4 lsrr", V4(.ip_opt_len = 4), 20, 131, TUN_SOURCE_ROUTE, 0 },
	{ "v4 option in the last byte", V4(.ip_opt_len = 4), 23, 7, TUN_SHORT, 0 },
	{ "v6 routing, segments left", V6(.next_ext = 1, .ext = { { IPPROTO_ROUTING, 24 } }), 43, 1,
	  TUN_SOURCE_ROUTE, 0 },
	{ "version 5", V4(), 0, 0x55, TUN_BAD_TYPE, 0 },
	{ "v4 tcp cut", V4(.no_l4 = 1, .payload_len = 19), 0, 0, TUN_SHORT, 0 },
	{ "v4 later fragment, no l4", V4(.frag = 1, .frag_off = 5, .no_l4 = 1), 0, 0, TUN_OK, 0 },
	{ "v4 tcp to port 22", V4(.dport = 22), 0, 0, TUN_OUT_OF_SCOPE, 0 },
	{ "v4 spoofed", V4(.src = "100.64.0.3"), 0, 0, TUN_SPOOFED, 0 },
	{ "v6 from ::ffff:vip", V6(.src = "::ffff:100.64.0.2", .dst = "::ffff:10.10.2.2"), 0, 0,
	  TUN_SPOOFED, .v4_session = 1 },
};

static void test_rows(void)
{
	struct cg_scope sc[2] = {
		{ .plen = 128, .proto = IPPROTO_TCP, .port_lo = 80, .port_hi = 80 }, { .plen = 64 }
	};
	uint8_t vip4[16], vip6[16];
	enum tun_verdict got;
	struct cg_inner in;
	struct pkt p;
	size_t i;

	addr_parse_mapped("10.10.2.2", sc[0].addr);
	addr_parse_mapped("2001:db8:10::", sc[1].addr);
	addr_parse_mapped("100.64.0.2", vip4);
	addr_parse_mapped("fd00:64::2", vip6);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];

		if (!ASSERT_EQ(pkt_build(&r->s, &p), 0, r->name))
			continue;
		if (r->opt_val)
			p.data[p.l3_off + r->opt_at] = (uint8_t)r->opt_val;
		got = inner_parse(p.data + p.l3_off, p.len - p.l3_off, &in);
		if (got == TUN_OK)
			got = inner_check(&in, r->s.family == 4 || r->v4_session ? vip4 : vip6, sc,
					  2);
		ASSERT_EQ(got, r->want, r->name);
	}
}

/* Every length short of a whole packet is refused, and the out-parameter is left alone. */
static void test_truncations(void)
{
	struct pkt_spec s = V4(.ip_opt_len = 8, .payload_len = 5);
	struct cg_inner in, before;
	size_t len, bad = 0;
	struct pkt p;

	if (!ASSERT_EQ(pkt_build(&s, &p), 0, "build"))
		return;
	memset(&in, 0x5a, sizeof(in));
	before = in;
	for (len = 0; len < p.len - p.l3_off; len++)
		bad += inner_parse(p.data + p.l3_off, len, &in) == TUN_OK;
	ASSERT_EQ(bad, 0, "truncated refused");
	ASSERT_MEMEQ(&in, &before, sizeof(in), "out untouched");
	ASSERT_EQ(inner_parse(p.data + p.l3_off, p.len - p.l3_off, &in), TUN_OK, "whole");
	ASSERT_EQ(in.dport, 80, "dport host order");
}

T_MAIN(T_CASE(test_rows), T_CASE(test_truncations))
