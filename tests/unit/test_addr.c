// SPDX-License-Identifier: GPL-2.0
/* CIDR and address parsing/formatting: accepted forms, canonical text, every refusal. */
#include <errno.h>
#include <sys/socket.h>

#include "lib/base/addr.h"
#include "tests/lib/t.h"

static void test_cidr_ok(void)
{
	static const struct {
		const char *s, *canon;
		int family, plen;
	} t[] = {
		{ "192.168.3.0/24", "192.168.3.0/24", AF_INET, 24 },
		{ "10.0.0.0/8", "10.0.0.0/8", AF_INET, 8 },
		{ "0.0.0.0/0", "0.0.0.0/0", AF_INET, 0 },
		{ "10.1.2.3", "10.1.2.3/32", AF_INET, 32 },
		{ "10.1.2.3/32", "10.1.2.3/32", AF_INET, 32 },
		{ "10.1.2.2/31", "10.1.2.2/31", AF_INET, 31 },
		{ "10.1.2.0/23", "10.1.2.0/23", AF_INET, 23 },
		{ "2001:db8::/32", "2001:db8::/32", AF_INET6, 32 },
		{ "2001:DB8:0:0::/64", "2001:db8::/64", AF_INET6, 64 },
		{ "::/0", "::/0", AF_INET6, 0 },
		{ "::1", "::1/128", AF_INET6, 128 },
		{ "fe80::/10", "fe80::/10", AF_INET6, 10 },
		{ "2001:db8::8000/113", "2001:db8::8000/113", AF_INET6, 113 },
		{ "::ffff:10.0.0.0/104", "::ffff:10.0.0.0/104", AF_INET6, 104 },
	};
	struct cidr c;
	char buf[CG_ADDRSTRLEN];
	const char *why = NULL;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (!ASSERT_EQ(cidr_parse(t[i].s, &c, &why), 0, t[i].s))
			continue;
		ASSERT_EQ(c.family, t[i].family, t[i].s);
		ASSERT_EQ(c.plen, t[i].plen, t[i].s);
		cidr_format(&c, buf, sizeof(buf));
		ASSERT_STREQ(buf, t[i].canon, t[i].s);
	}
	cidr_parse("192.168.3.0/24", &c, &why);
	ASSERT_MEMEQ(c.addr, "\xc0\xa8\x03\0\0\0\0\0\0\0\0\0\0\0\0\0", 16,
		     "v4 bytes first, rest 0");
}

static void test_cidr_refused(void)
{
	static const struct {
		const char *s, *why;
	} t[] = {
		{ "", "empty prefix" },
		{ "10.0.0.0/", "no prefix length after \"/\"" },
		{ "/8", "no address before \"/\"" },
		{ "10.0.0.0/33", "prefix length above 32" },
		{ "2001:db8::/129", "prefix length above 128" },
		{ "10.0.0.0/08", "prefix length is not a decimal number without leading zeros" },
		{ "10.0.0.0/-1", "prefix length is not a decimal number without leading zeros" },
		{ "10.0.0.0/+8", "prefix length is not a decimal number without leading zeros" },
		{ "10.0.0.0/8 ", "prefix length is not a decimal number without leading zeros" },
		{ "10.0.0.0/8/8", "prefix length is not a decimal number without leading zeros" },
		{ "10.0.0.0/ 8", "prefix length is not a decimal number without leading zeros" },
		{ "10.0.0.1/8", "host bits set beyond the prefix length" },
		{ "10.0.0.1/31", "host bits set beyond the prefix length" },
		{ "2001:db8::1/64", "host bits set beyond the prefix length" },
		{ "1.2.3.4/0", "host bits set beyond the prefix length" },
		{ " 10.0.0.0/8", "not an IPv4 address" },
		{ "10.0.0/8", "not an IPv4 address" },
		{ "10.0.0.256", "not an IPv4 address" },
		{ "010.0.0.0/8", "not an IPv4 address" },
		{ "10.0.0.0x/8", "not an IPv4 address" },
		{ "host.example", "not an IPv4 address" },
		{ "2001:db8::g/32", "not an IPv6 address" },
		{ "fe80::1%eth0", "not an IPv6 address" },
		{ "1:2:3:4:5:6:7:8:9", "not an IPv6 address" },
		{ "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd/128",
		  "too long for an address or prefix" },
	};
	struct cidr c, before;
	const char *why;
	size_t i;

	memset(&before, 0x5a, sizeof(before));
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		c = before;
		why = NULL;
		if (!ASSERT_EQ(cidr_parse(t[i].s, &c, &why), -EINVAL, t[i].s))
			continue;
		ASSERT_STREQ(why, t[i].why, t[i].s);
		ASSERT_MEMEQ(&c, &before, sizeof(c), "out untouched");
	}
}

static void test_mapped(void)
{
	static const struct {
		const char *s, *text;
		bool v4;
	} t[] = {
		{ "10.0.0.2", "10.0.0.2", true },
		{ "::ffff:10.0.0.2", "10.0.0.2", true },
		{ "2001:db8::1", "2001:db8::1", false },
		{ "::", "::", false },
	};
	static const char *const bad[] = { "", "10.0.0.0/8", "10.0.0.256", "x", " ::1", "::1 " };
	uint8_t a[16], keep[16];
	char buf[CG_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (!ASSERT_EQ(addr_parse_mapped(t[i].s, a), 0, t[i].s))
			continue;
		ASSERT_EQ(addr_is_v4mapped(a), t[i].v4, t[i].s);
		addr_format_mapped(a, buf, sizeof(buf));
		ASSERT_STREQ(buf, t[i].text, t[i].s);
	}
	addr_parse_mapped("192.0.2.1", a);
	ASSERT_MEMEQ(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\0\x02\x01", 16, "::ffff:192.0.2.1");
	memset(keep, 7, sizeof(keep));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(a, keep, sizeof(a));
		ASSERT_EQ(addr_parse_mapped(bad[i], a), -EINVAL, bad[i]);
		ASSERT_MEMEQ(a, keep, sizeof(a), "out untouched");
	}
}

T_MAIN(T_CASE(test_cidr_ok), T_CASE(test_cidr_refused), T_CASE(test_mapped))
