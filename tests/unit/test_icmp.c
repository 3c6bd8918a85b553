// SPDX-License-Identifier: GPL-2.0
/* icmp_too_big (fields, quotes, checksums checked independently, the no-ICMP cases) and icmp_limit.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "lib/tunnel/icmp.h"
#include "tests/lib/t.h"

static const uint8_t gw4[16] = { [10] = 0xff, [11] = 0xff, 100, 64, 0, 1 };
static const uint8_t gw6[16] = { 0xfd, 0, 0, 0x64, [15] = 1 };

/* RFC 1071 verification, not the library's code: a 64-bit sum of big-endian words must fold to
 * 0xffff. */
static bool csum_ok(const uint8_t *p, size_t n, uint64_t pseudo)
{
	uint64_t s = pseudo;
	size_t i;

	for (i = 0; i < n; i++)
		s += i % 2 ? p[i] : (uint64_t)p[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

static uint64_t pseudo6(const uint8_t *ip6)
{
	uint64_t s = 0;
	size_t i;

	for (i = 8; i < 40; i += 2)
		s += (uint64_t)ip6[i] << 8 | ip6[i + 1];
	return s + ((uint64_t)ip6[4] << 8 | ip6[5]) + 58;
}

/* An IPv4 packet of len bytes: src 10.10.2.2 -> 100.64.0.7, proto, DF and offset as given. */
static size_t v4(uint8_t *p, size_t len, uint8_t proto, uint16_t frag)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + 3);
	memcpy(p, "\x45\x00", 2);
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[6] = (uint8_t)(frag >> 8);
	p[7] = (uint8_t)frag;
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, "\x0a\x0a\x02\x02\x64\x40\x00\x07", 8);
	return len;
}

/* An IPv6 packet of len bytes: fd00:2::2 -> fd00:64::7, next header nh. */
static size_t v6(uint8_t *p, size_t len, uint8_t nh)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 5 + 1);
	memset(p, 0, 40);
	p[0] = 0x60;
	p[4] = (uint8_t)((len - 40) >> 8);
	p[5] = (uint8_t)(len - 40);
	p[6] = nh;
	p[7] = 64;
	memcpy(p + 8, "\xfd\x00\x00\x02", 4);
	p[23] = 2;
	memcpy(p + 24, "\xfd\x00\x00\x64", 4);
	p[39] = 7;
	return len;
}

static void test_v4_fields(void)
{
	uint8_t in[1500], out[ICMP_TOO_BIG_MAX];
	size_t n = v4(in, 1500, 6, 0x4000);
	int got;

	got = icmp_too_big(in, n, 1400, gw4, out, sizeof(out));
	if (!ASSERT_EQ(got, 576, "576 bytes in all"))
		return;
	ASSERT_EQ(out[0], 0x45, "IPv4, IHL 5");
	ASSERT_EQ(out[2] << 8 | out[3], 576, "total length");
	ASSERT_EQ(out[9], 1, "ICMP");
	ASSERT_EQ(out[8], 64, "TTL");
	ASSERT_MEMEQ(out + 12, gw4 + 12, 4, "from");
	ASSERT_MEMEQ(out + 16, in + 12, 4, "to the inner source");
	ASSERT_TRUE(csum_ok(out, 20, 0), "IP header checksum");
	ASSERT_EQ(out[20], 3, "type 3");
	ASSERT_EQ(out[21], 4, "code 4");
	ASSERT_EQ(out[24] << 8 | out[25], 0, "unused");
	ASSERT_EQ(out[26] << 8 | out[27], 1400, "next-hop MTU");
	ASSERT_TRUE(csum_ok(out + 20, 556, 0), "ICMP checksum");
	ASSERT_MEMEQ(out + 28, in, 548, "quotes the first 548 bytes");

	/* A short packet is quoted whole; odd lengths checksum right. */
	n = v4(in, 101, 17, 0x4000);
	ASSERT_EQ(icmp_too_big(in, n, 68, gw4, out, sizeof(out)), 129, "all of 101 bytes");
	ASSERT_EQ(out[26] << 8 | out[27], 68, "MTU 68");
	ASSERT_TRUE(csum_ok(out + 20, 109, 0), "ICMP checksum, odd length");
	ASSERT_MEMEQ(out + 28, in, 101, "quote");
	/* ICMP echo is not an error: it gets one; so does a first fragment (MF set). */
	n = v4(in, 1500, 1, 0x4000);
	in[20] = 8;
	ASSERT_EQ(icmp_too_big(in, n, 1400, gw4, out, sizeof(out)), 576, "echo request");
	n = v4(in, 1500, 17, 0x4000 | 0x2000);
	ASSERT_EQ(icmp_too_big(in, n, 1400, gw4, out, sizeof(out)), 576, "first fragment");
}

static void test_v6_fields(void)
{
	uint8_t in[1500], out[ICMP_TOO_BIG_MAX];
	size_t n = v6(in, 1500, 6);
	int got;

	got = icmp_too_big(in, n, 1420 - 40, gw6, out, sizeof(out));
	if (!ASSERT_EQ(got, 1280, "fills 1280"))
		return;
	ASSERT_EQ(out[0] >> 4, 6, "IPv6");
	ASSERT_EQ(out[4] << 8 | out[5], 1240, "payload length");
	ASSERT_EQ(out[6], 58, "ICMPv6");
	ASSERT_EQ(out[7], 64, "hop limit");
	ASSERT_MEMEQ(out + 8, gw6, 16, "from");
	ASSERT_MEMEQ(out + 24, in + 8, 16, "to the inner source");
	ASSERT_EQ(out[40], 2, "type 2");
	ASSERT_EQ(out[41], 0, "code 0");
	ASSERT_EQ((uint32_t)out[44] << 24 | out[45] << 16 | out[46] << 8 | out[47], 1380, "MTU");
	ASSERT_TRUE(csum_ok(out + 40, 1240, pseudo6(out)), "checksum with the pseudo-header");
	ASSERT_MEMEQ(out + 48, in, 1232, "quotes 1232 bytes");

	n = v6(in, 1281, 17);
	ASSERT_EQ(icmp_too_big(in, n, 1280, gw6, out, sizeof(out)), 1280,
		  "1281 bytes: 1232 quoted");
	n = v6(in, 1500, 58);
	in[40] = 128;
	ASSERT_EQ(icmp_too_big(in, n, 1280, gw6, out, sizeof(out)), 1280, "echo request");
	n = v6(in, 1500, 17);
	in[24] = 0xff;
	ASSERT_EQ(icmp_too_big(in, n, 1280, gw6, out, sizeof(out)), 1280,
		  "multicast destination: sent (RFC 4443 2.4 e)");
	ASSERT_TRUE(csum_ok(out + 40, 1240, pseudo6(out)), "checksum");
}

/* Hop-by-hop, then a fragment header: a first fragment gets one, a later one does not. */
static void test_v6_ext(void)
{
	uint8_t in[1500], out[ICMP_TOO_BIG_MAX];
	size_t n = v6(in, 1500, 0);

	in[40] = 44; /* hop-by-hop: next = fragment, 8 bytes */
	in[41] = 0;
	in[48] = 17; /* fragment: next = UDP */
	in[49] = 0;
	in[50] = 0;
	in[51] = 1; /* offset 0, M */
	ASSERT_EQ(icmp_too_big(in, n, 1280, gw6, out, sizeof(out)), 1280, "first fragment");
	in[50] = 0x05;
	in[51] = 0x00;
	ASSERT_EQ(icmp_too_big(in, n, 1280, gw6, out, sizeof(out)), 0, "non-first fragment");
	in[48] = 58;
	in[50] = 0;
	in[56] = 1; /* an ICMPv6 error behind the extension headers */
	ASSERT_EQ(icmp_too_big(in, n, 1280, gw6, out, sizeof(out)), 0, "ICMPv6 error behind ext");
	n = v6(in, 1300, 60);
	in[41] = 200; /* destination options that run past the end */
	ASSERT_EQ(icmp_too_big(in, n, 1280, gw6, out, sizeof(out)), -EINVAL, "truncated ext");
}

struct none {
	const char *name;
	int family;
	uint8_t proto;
	uint16_t frag;
	size_t at; /* byte to set, 0 for none */
	uint8_t val;
	bool zero_src;
};

#define V4(n, p, f, ...)                                                         \
	{                                                                        \
		.name = (n), .family = 4, .proto = (p), .frag = (f), __VA_ARGS__ \
	}
#define V6(n, p, ...)                                               \
	{                                                           \
		.name = (n), .family = 6, .proto = (p), __VA_ARGS__ \
	}

static void test_no_icmp(void)
{
	static const struct none rows[] = {
		V4("v4 without DF", 17, 0),
		V4("v4 non-first fragment", 17, 0x4000 | 185),
		V4("v4 ICMP dest unreachable", 1, 0x4000, .at = 20, .val = 3),
		V4("v4 ICMP time exceeded", 1, 0x4000, .at = 20, .val = 11),
		V4("v4 ICMP redirect", 1, 0x4000, .at = 20, .val = 5),
		V4("v4 ICMP source quench", 1, 0x4000, .at = 20, .val = 4),
		V4("v4 ICMP parameter problem", 1, 0x4000, .at = 20, .val = 12),
		V4("v4 source 0.0.0.0", 17, 0x4000, .zero_src = true),
		V4("v4 source multicast", 17, 0x4000, .at = 12, .val = 224),
		V4("v4 source broadcast", 17, 0x4000, .at = 12, .val = 255),
		V4("v4 source loopback", 17, 0x4000, .at = 12, .val = 127),
		V4("v4 destination multicast", 17, 0x4000, .at = 16, .val = 239),
		V4("v4 destination broadcast", 17, 0x4000, .at = 16, .val = 255),
		V6("v6 ICMPv6 destination unreachable", 58, .at = 40, .val = 1),
		V6("v6 ICMPv6 packet too big", 58, .at = 40, .val = 2),
		V6("v6 ICMPv6 time exceeded", 58, .at = 40, .val = 3),
		V6("v6 ICMPv6 parameter problem", 58, .at = 40, .val = 4),
		V6("v6 source multicast", 17, .at = 8, .val = 0xff),
		V6("v6 source unspecified", 17, .zero_src = true),
		V6("v6 source ::1", 17, .zero_src = true, .at = 23, .val = 1),
	};
	uint8_t in[1500], out[ICMP_TOO_BIG_MAX], before[ICMP_TOO_BIG_MAX];
	size_t i, n;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct none *r = &rows[i];

		n = r->family == 4 ? v4(in, 1500, r->proto, r->frag) : v6(in, 1500, r->proto);
		if (r->zero_src)
			memset(in + (r->family == 4 ? 12 : 8), 0, r->family == 4 ? 4 : 16);
		if (r->at)
			in[r->at] = r->val;
		memset(out, 0xa5, sizeof(out));
		memcpy(before, out, sizeof(out));
		ASSERT_EQ(icmp_too_big(in, n, 1280, r->family == 4 ? gw4 : gw6, out, sizeof(out)),
			  0, r->name);
		ASSERT_MEMEQ(out, before, sizeof(out), r->name);
	}
}

static void test_errors(void)
{
	uint8_t in[1500], out[ICMP_TOO_BIG_MAX], before[ICMP_TOO_BIG_MAX];
	size_t n = v4(in, 1500, 6, 0x4000);

	ASSERT_EQ(icmp_too_big(in, n, 1500, gw4, out, sizeof(out)), -EINVAL, "it fits");
	ASSERT_EQ(icmp_too_big(in, n, 67, gw4, out, sizeof(out)), -ERANGE, "v4 mtu below 68");
	ASSERT_EQ(icmp_too_big(in, n, 1400, gw6, out, sizeof(out)), -EINVAL, "from is IPv6");
	ASSERT_EQ(icmp_too_big(in, 19, 1, gw4, out, sizeof(out)), -EINVAL, "v4 truncated header");
	in[0] = 0x44;
	ASSERT_EQ(icmp_too_big(in, n, 1400, gw4, out, sizeof(out)), -EINVAL, "IHL 4");
	in[0] = 0x55;
	ASSERT_EQ(icmp_too_big(in, n, 1400, gw4, out, sizeof(out)), -EINVAL, "version 5");
	ASSERT_EQ(icmp_too_big(in, 0, 1400, gw4, out, sizeof(out)), -EINVAL, "empty");
	ASSERT_EQ(icmp_too_big(NULL, n, 1400, gw4, out, sizeof(out)), -EINVAL, "NULL");
	n = v4(in, 1500, 1, 0x4000);
	ASSERT_EQ(icmp_too_big(in, 20, 1, gw4, out, sizeof(out)), -ERANGE, "mtu checked first");
	ASSERT_EQ(icmp_too_big(in, 20, 68, gw4, out, sizeof(out)), -EINVAL, "20 bytes fit 68");
	n = v4(in, 1500, 6, 0x4000);
	memset(out, 0x5a, sizeof(out));
	memcpy(before, out, sizeof(out));
	ASSERT_EQ(icmp_too_big(in, n, 1400, gw4, out, 575), -ENOSPC, "v4 cap 575");
	ASSERT_MEMEQ(out, before, sizeof(out), "out untouched");
	n = v6(in, 1500, 6);
	ASSERT_EQ(icmp_too_big(in, n, 1279, gw6, out, sizeof(out)), -ERANGE, "v6 mtu below 1280");
	ASSERT_EQ(icmp_too_big(in, n, 1400, gw4, out, sizeof(out)), -EINVAL, "from is IPv4");
	ASSERT_EQ(icmp_too_big(in, 39, 1280, gw6, out, sizeof(out)), -EINVAL, "v6 truncated");
	ASSERT_EQ(icmp_too_big(in, n, 1400, gw6, out, 1279), -ENOSPC, "v6 cap 1279");
	ASSERT_MEMEQ(out, before, sizeof(out), "out untouched (v6)");
}

static void test_limit(void)
{
	const uint64_t ms = 1000000, t0 = 5000 * ms;
	struct icmp_limit l;
	int i, ok = 0;

	ASSERT_EQ(icmp_limit_init(&l, 0, 10, t0), -EINVAL, "rate 0");
	ASSERT_EQ(icmp_limit_init(&l, 100, 0, t0), -EINVAL, "burst 0");
	if (!ASSERT_EQ(icmp_limit_init(&l, 100, 10, t0), 0, "init"))
		return;
	for (i = 0; i < 1000; i++)
		ok += icmp_limit_take(&l, t0);
	ASSERT_EQ(ok, 10, "a burst of 10 at once");
	ASSERT_EQ(l.sent, 10, "sent");
	ASSERT_EQ(l.suppressed, 990, "suppressed");
	ASSERT_TRUE(!icmp_limit_take(&l, t0 + 9 * ms), "9 ms later: not yet");
	ASSERT_TRUE(icmp_limit_take(&l, t0 + 10 * ms), "10 ms later: one");
	ASSERT_TRUE(!icmp_limit_take(&l, t0 + 10 * ms), "and only one");
	/* One second of a flood: 100 go out, in steps of 1 ms. */
	ok = 0;
	for (i = 1; i <= 1000; i++)
		ok += icmp_limit_take(&l, t0 + 10 * ms + (uint64_t)i * ms);
	ASSERT_EQ(ok, 100, "100 per second under a flood");
	ASSERT_TRUE(!icmp_limit_take(&l, t0), "a clock that went back gives nothing");
	ok = 0;
	for (i = 0; i < 100; i++)
		ok += icmp_limit_take(&l, t0 + 3600000 * ms);
	ASSERT_EQ(ok, 10, "an hour idle refills only the burst");
	ASSERT_EQ(l.sent + l.suppressed, 1000 + 3 + 1000 + 1 + 100, "every call counted once");
	ASSERT_EQ(icmp_limit_init(&l, 1, 1, UINT64_MAX - 1), 0, "near the end of the clock");
	ASSERT_TRUE(icmp_limit_take(&l, UINT64_MAX), "no overflow");
}

T_MAIN(T_CASE(test_v4_fields), T_CASE(test_v6_fields), T_CASE(test_v6_ext), T_CASE(test_no_icmp),
       T_CASE(test_errors), T_CASE(test_limit))
