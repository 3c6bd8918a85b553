// SPDX-License-Identifier: GPL-2.0
/* Backend names (lib/lb/lb.c): ADDR:PORT[@W] parsed, refused with the reason, formatted back. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "abi/lb.h"
#include "lib/lb/lb.h"
#include "tests/lib/t.h"

static const uint8_t v4_10_10_2_2[16] = { [10] = 0xff, [11] = 0xff, 10, 10, 2, 2 };
static const uint8_t v6_fd00_2__2[16] = { 0xfd, 0x00, 0x00, 0x02, [15] = 2 };
static const uint8_t v6_loop[16] = { [15] = 1 };
static const uint8_t v6_all_f[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
				      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* Accepted: the address, port and weight read, and the name formatted back (no weight). */
static const struct {
	const char *s;
	bool with_weight;
	const uint8_t *addr;
	uint16_t port;
	uint32_t weight;
	const char *formatted;
} good[] = {
	{ "10.10.2.2:80", false, v4_10_10_2_2, 80, 1, "10.10.2.2:80" },
	{ "10.10.2.2:80", true, v4_10_10_2_2, 80, 1, "10.10.2.2:80" },
	{ "10.10.2.2:1", false, v4_10_10_2_2, 1, 1, "10.10.2.2:1" },
	{ "10.10.2.2:65535", false, v4_10_10_2_2, 65535, 1, "10.10.2.2:65535" },
	{ "10.10.2.2:80@0", true, v4_10_10_2_2, 80, 0, "10.10.2.2:80" },
	{ "10.10.2.2:80@1", true, v4_10_10_2_2, 80, 1, "10.10.2.2:80" },
	{ "10.10.2.2:80@2", true, v4_10_10_2_2, 80, 2, "10.10.2.2:80" },
	{ "10.10.2.2:80@100", true, v4_10_10_2_2, 80, 100, "10.10.2.2:80" },
	{ "[fd00:2::2]:80", false, v6_fd00_2__2, 80, 1, "[fd00:2::2]:80" },
	{ "[fd00:2::2]:80@0", true, v6_fd00_2__2, 80, 0, "[fd00:2::2]:80" },
	{ "[fd00:2::2]:443@100", true, v6_fd00_2__2, 443, 100, "[fd00:2::2]:443" },
	{ "[::1]:8080", false, v6_loop, 8080, 1, "[::1]:8080" },
	/* the canonical text comes back whatever the spelling */
	{ "[FD00:0002:0:0::0002]:80", false, v6_fd00_2__2, 80, 1, "[fd00:2::2]:80" },
	{ "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535@100", true, v6_all_f, 65535, 100,
	  "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535" },
	/* an IPv4-mapped IPv6 address is that IPv4 address (one 16-byte form for both) */
	{ "[::ffff:10.10.2.2]:80", false, v4_10_10_2_2, 80, 1, "10.10.2.2:80" },
};

static void test_good(void)
{
	char buf[LB_BE_STRLEN];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct lb_be b = { .drain = true };
		const char *why = "untouched";

		if (!ASSERT_EQ(lb_be_parse(good[i].s, good[i].with_weight, &b, &why), 0, good[i].s))
			continue;
		ASSERT_STREQ(why, "untouched", "no reason on success");
		ASSERT_MEMEQ(b.addr, good[i].addr, 16, good[i].s);
		ASSERT_EQ(b.port, good[i].port, good[i].s);
		ASSERT_EQ(b.weight, good[i].weight, good[i].s);
		ASSERT_TRUE(!b.drain, "drain false");
		lb_be_format(&b, buf, sizeof(buf));
		ASSERT_STREQ(buf, good[i].formatted, good[i].s);
	}
}

/* Refused: -EINVAL, the reason, *out untouched. */
static const struct {
	const char *s;
	bool with_weight;
	const char *why;
} bad[] = {
	{ "", true, "expected ADDR:PORT (IPv6 as [ADDR]:PORT)" },
	{ "10.10.2.2", true, "expected ADDR:PORT (IPv6 as [ADDR]:PORT)" },
	{ "10.10.2.2@2", true, "expected ADDR:PORT (IPv6 as [ADDR]:PORT)" },
	{ "10.10.2.2:", true, "the port must be 1..65535" },
	{ "10.10.2.2:@2", true, "the port must be 1..65535" },
	{ "10.10.2.2:0", true, "the port must be 1..65535" },
	{ "10.10.2.2:65536", true, "the port must be 1..65535" },
	{ "10.10.2.2:99999999999999999999", true, "the port must be 1..65535" },
	{ "10.10.2.2:080", true, "the port must be 1..65535" },
	{ "10.10.2.2:+80", true, "the port must be 1..65535" },
	{ "10.10.2.2:-1", true, "the port must be 1..65535" },
	{ "10.10.2.2: 80", true, "the port must be 1..65535" },
	{ "10.10.2.2:0x50", true, "the port must be 1..65535" },
	{ "10.10.2.2:http", true, "the port must be 1..65535" },
	{ ":80", true, "bad address" },
	{ "10.10.2.256:80", true, "bad address" },
	{ "10.10.2:80", true, "bad address" },
	{ "010.10.2.2:80", true, "bad address" },
	{ "backend1:80", true, "bad address" },
	{ "10.10.2.2/32:80", true, "bad address" },
	{ "[fd00:2::g]:80", true, "bad address" },
	{ "[fe80::1%eth0]:80", true, "bad address" },
	{ "[fd00:2::2:3:4:5:6:7:8]:80", true, "bad address" },
	{ "[0123456789012345678901234567890123456789012345:1]:80", true, "bad address" },
	/* IPv6 needs its brackets; brackets hold IPv6 only */
	{ "fd00:2::2:80", true, "expected ADDR:PORT (IPv6 as [ADDR]:PORT)" },
	{ "::1:80", true, "expected ADDR:PORT (IPv6 as [ADDR]:PORT)" },
	{ "[10.10.2.2]:80", true, "brackets are for IPv6 addresses only" },
	{ "[]:80", true, "brackets are for IPv6 addresses only" },
	{ "[fd00:2::2]", true, "expected [IPV6]:PORT" },
	{ "[fd00:2::2]80", true, "expected [IPV6]:PORT" },
	{ "[fd00:2::2:80", true, "expected [IPV6]:PORT" },
	{ "[fd00:2::2]:", true, "the port must be 1..65535" },
	{ "[fd00:2::2]:0", true, "the port must be 1..65535" },
	{ "[fd00:2::2]:65536", true, "the port must be 1..65535" },
	/* weights */
	{ "10.10.2.2:80@101", true, "the weight must be 0..100" },
	{ "10.10.2.2:80@", true, "the weight must be 0..100" },
	{ "10.10.2.2:80@-1", true, "the weight must be 0..100" },
	{ "10.10.2.2:80@01", true, "the weight must be 0..100" },
	{ "10.10.2.2:80@2x", true, "the weight must be 0..100" },
	{ "10.10.2.2:80@2@3", true, "the weight must be 0..100" },
	{ "10.10.2.2:80@4294967296", true, "the weight must be 0..100" },
	{ "[fd00:2::2]:80@101", true, "the weight must be 0..100" },
	{ "10.10.2.2:80@2", false, "a weight is not taken here" },
	{ "10.10.2.2:80@0", false, "a weight is not taken here" },
	{ "[fd00:2::2]:80@1", false, "a weight is not taken here" },
	{ "10.10.2.2:80@", false, "a weight is not taken here" },
	/* trailing junk */
	{ "10.10.2.2:80 ", true, "the port must be 1..65535" },
	{ "10.10.2.2:80x", true, "the port must be 1..65535" },
	{ "10.10.2.2:80:81", true, "expected ADDR:PORT (IPv6 as [ADDR]:PORT)" },
	{ "10.10.2.2:80/tcp", true, "the port must be 1..65535" },
	{ "[fd00:2::2]:80]", true, "the port must be 1..65535" },
	{ " 10.10.2.2:80", true, "bad address" },
};

static void test_bad(void)
{
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct lb_be b = { .port = 7, .weight = 77 }, want = b;
		const char *why = NULL;
		char name[96];

		snprintf(name, sizeof(name), "\"%s\" (with_weight %d)", bad[i].s,
			 bad[i].with_weight);
		ASSERT_EQ(lb_be_parse(bad[i].s, bad[i].with_weight, &b, &why), -EINVAL, name);
		ASSERT_STREQ(why, bad[i].why, name);
		ASSERT_MEMEQ(&b, &want, sizeof(b), "out untouched");
	}
}

/* format(parse(x)) == x for every canonical name, and parse(format(b)) is b. */
static void test_round_trip(void)
{
	static const char *const names[] = {
		"10.10.2.2:80",
		"0.0.0.0:1",
		"255.255.255.255:65535",
		"192.168.1.10:53",
		"[fd00:2::2]:80",
		"[::1]:1",
		"[2001:db8::]:22",
		"[::]:443",
		"[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
		"[fe80::1:2]:8443",
	};
	char buf[LB_BE_STRLEN];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct lb_be a, b;
		const char *why = NULL;

		if (!ASSERT_EQ(lb_be_parse(names[i], false, &a, &why), 0, names[i]))
			continue;
		lb_be_format(&a, buf, sizeof(buf));
		ASSERT_STREQ(buf, names[i], "format(parse(x)) == x");
		if (!ASSERT_EQ(lb_be_parse(buf, true, &b, &why), 0, buf))
			continue;
		ASSERT_TRUE(lb_be_same(&a, &b), buf);
		ASSERT_EQ(b.weight, 1, "default weight");
	}
}

/* A short buffer gets a cut, NUL-terminated name. */
static void test_format_short(void)
{
	struct lb_be b;
	const char *why = NULL;
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	if (ASSERT_EQ(lb_be_parse("10.10.2.2:80", false, &b, &why), 0, "parse")) {
		lb_be_format(&b, buf, sizeof(buf));
		ASSERT_STREQ(buf, "10.10.2", "cut and terminated");
	}
}

/* Same backend: address and port; weight and drain do not count. */
static void test_same(void)
{
	static const struct {
		const char *a, *b;
		bool same;
	} pairs[] = {
		{ "10.10.2.2:80@1", "10.10.2.2:80@5", true },
		{ "10.10.2.2:80", "[::ffff:10.10.2.2]:80", true },
		{ "[fd00:2::2]:80", "[fd00:2:0::2]:80@3", true },
		{ "10.10.2.2:80", "10.10.2.2:81", false },
		{ "10.10.2.2:80", "10.10.2.3:80", false },
		{ "[fd00:2::2]:80", "[fd00:2::3]:80", false },
		/* the same last four bytes in IPv4 and IPv6 are different addresses */
		{ "10.10.2.2:80", "[::a0a:202]:80", false },
	};
	size_t i;

	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		struct lb_be a, b;
		const char *why = NULL;

		if (!ASSERT_EQ(lb_be_parse(pairs[i].a, true, &a, &why), 0, pairs[i].a) ||
		    !ASSERT_EQ(lb_be_parse(pairs[i].b, true, &b, &why), 0, pairs[i].b))
			continue;
		b.drain = !a.drain;
		ASSERT_EQ(lb_be_same(&a, &b), pairs[i].same, pairs[i].a);
		ASSERT_EQ(lb_be_same(&b, &a), pairs[i].same, "symmetric");
	}
}

/* Every datapath counter has its own name (the API's and the metrics' keys). */
static void test_stat_names(void)
{
	unsigned int i, j;

	for (i = 0; i < LB_STAT_MAX; i++) {
		ASSERT_TRUE(strcmp(lb_stat_name(i), "unknown") != 0, "named");
		for (j = 0; j < i; j++)
			ASSERT_TRUE(strcmp(lb_stat_name(i), lb_stat_name(j)) != 0, lb_stat_name(i));
	}
	ASSERT_STREQ(lb_stat_name(LB_STAT_MAX), "unknown", "past the end");
	ASSERT_STREQ(lb_stat_name(LB_STAT_DROP_NO_BACKEND), "drop_no_backend", "one by name");
}

T_MAIN(T_CASE(test_good), T_CASE(test_bad), T_CASE(test_round_trip), T_CASE(test_format_short),
       T_CASE(test_same), T_CASE(test_stat_names))
