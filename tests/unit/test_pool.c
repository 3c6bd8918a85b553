// SPDX-License-Identifier: GPL-2.0
/* Virtual address pool: lowest free first, reuse, exhaustion, reserved addresses, /30, /8. */
#include <errno.h>
#include <stdio.h>

#include "lib/auth/pool.h"
#include "tests/lib/t.h"

static struct vip_pool *make(const char *prefix)
{
	const char *why = "";
	struct cidr c;

	if (!ASSERT_EQ(cidr_parse(prefix, &c, &why), 0, why))
		return NULL;
	return pool_new(&c);
}

static bool addr_is(const uint8_t a[16], const char *want, const char *name)
{
	char buf[CG_ADDRSTRLEN];

	addr_format_mapped(a, buf, sizeof(buf));
	return ASSERT_STREQ(buf, want, name);
}

static const uint8_t *mapped(const char *s)
{
	static uint8_t a[16];

	addr_parse_mapped(s, a);
	return a;
}

/* The whole life of a /30: one client address. */
static void test_slash30(void)
{
	struct vip_pool *p = make("192.0.2.4/30");
	uint8_t a[16], b[16];

	if (!ASSERT_TRUE(p != NULL, "pool"))
		return;
	ASSERT_EQ(pool_size(p), 1, "size");
	pool_gateway_addr(p, a);
	addr_is(a, "192.0.2.5", "gateway address");
	ASSERT_EQ(pool_alloc(p, a), 0, "alloc");
	addr_is(a, "192.0.2.6", "the one client address");
	memset(b, 0x77, sizeof(b));
	ASSERT_EQ(pool_alloc(p, b), -ENOSPC, "exhausted");
	ASSERT_EQ(b[0], 0x77, "out untouched");
	ASSERT_EQ(pool_used(p), 1, "used");
	ASSERT_EQ(pool_release(p, a), 0, "release");
	ASSERT_EQ(pool_release(p, a), -ENOENT, "release twice");
	ASSERT_EQ(pool_alloc(p, b), 0, "reuse");
	ASSERT_MEMEQ(a, b, 16, "same address again");
	pool_free(p);
}

/* A /24 in order; the table says what each step does. */
static void test_sequence(void)
{
	static const struct {
		char op;	  /* a: alloc, r: release */
		const char *addr; /* alloc: the address wanted; release: the one given */
		int want;
	} t[] = {
		{ 'a', "100.64.0.2", 0 },
		{ 'a', "100.64.0.3", 0 },
		{ 'a', "100.64.0.4", 0 },
		{ 'r', "100.64.0.3", 0 },
		{ 'r', "100.64.0.3", -ENOENT },
		{ 'a', "100.64.0.3", 0 }, /* lowest free: the hole is filled first */
		{ 'a', "100.64.0.5", 0 },
		{ 'r', "100.64.0.2", 0 },
		{ 'r', "100.64.0.4", 0 },
		{ 'a', "100.64.0.2", 0 },
		{ 'a', "100.64.0.4", 0 },
		{ 'a', "100.64.0.6", 0 },
		/* not client addresses */
		{ 'r', "100.64.0.0", -ENOENT },	  /* network */
		{ 'r', "100.64.0.1", -ENOENT },	  /* gateway */
		{ 'r', "100.64.0.255", -ENOENT }, /* broadcast */
		{ 'r', "100.64.1.2", -ENOENT },	  /* outside */
		{ 'r', "100.63.255.255", -ENOENT },
		{ 'r', "::100.64.0.2", -ENOENT }, /* IPv4-compatible, not mapped */
		{ 'r', "2001:db8::2", -ENOENT },
		{ 'r', "100.64.0.200", -ENOENT }, /* in the pool, never allocated */
	};
	struct vip_pool *p = make("100.64.0.0/24");
	uint8_t a[16];
	char name[64];
	size_t i, used = 0;

	if (!ASSERT_TRUE(p != NULL, "pool"))
		return;
	ASSERT_EQ(pool_size(p), 253, "size .2 to .254");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(name, sizeof(name), "step %zu %c %s", i + 1, t[i].op, t[i].addr);
		if (t[i].op == 'a') {
			if (ASSERT_EQ(pool_alloc(p, a), t[i].want, name))
				addr_is(a, t[i].addr, name);
			used++;
			ASSERT_TRUE(pool_is_allocated(p, a), name);
		} else {
			ASSERT_EQ(pool_release(p, mapped(t[i].addr)), t[i].want, name);
			used -= t[i].want == 0;
			ASSERT_TRUE(!pool_is_allocated(p, mapped(t[i].addr)), name);
		}
		ASSERT_EQ(pool_used(p), used, name);
	}
	pool_free(p);
}

static void test_exhaust_and_release_all(void)
{
	struct vip_pool *p = make("10.1.0.0/22");
	uint8_t a[16];
	size_t i, n = 0;

	if (!ASSERT_TRUE(p != NULL, "pool"))
		return;
	ASSERT_EQ(pool_size(p), 1021, "size");
	for (i = 0; i < 1021; i++)
		n += pool_alloc(p, a) == 0;
	ASSERT_EQ(n, 1021, "all allocated");
	addr_is(a, "10.1.3.254", "last one: below the broadcast");
	ASSERT_EQ(pool_alloc(p, a), -ENOSPC, "exhausted");
	ASSERT_EQ(pool_alloc(p, a), -ENOSPC, "still exhausted");
	ASSERT_EQ(pool_release(p, mapped("10.1.2.0")), 0, "release one in the middle");
	ASSERT_EQ(pool_alloc(p, a), 0, "then one is free");
	addr_is(a, "10.1.2.0", "that one");
	ASSERT_TRUE(pool_is_allocated(p, mapped("10.1.0.64")), "bit 62 (word edge)");
	ASSERT_TRUE(pool_is_allocated(p, mapped("10.1.0.65")), "bit 63 (word edge)");
	ASSERT_TRUE(pool_is_allocated(p, mapped("10.1.0.66")), "bit 64 (word edge)");
	pool_release_all(p);
	ASSERT_EQ(pool_used(p), 0, "none used");
	ASSERT_TRUE(!pool_is_allocated(p, mapped("10.1.0.2")), "first free");
	ASSERT_EQ(pool_alloc(p, a), 0, "alloc after release_all");
	addr_is(a, "10.1.0.2", "from the start");
	pool_free(p);
}

static void test_big(void)
{
	struct vip_pool *p = make("10.0.0.0/8");
	uint8_t a[16];

	if (!ASSERT_TRUE(p != NULL, "pool"))
		return;
	ASSERT_EQ(pool_size(p), (1U << 24) - 3, "size");
	pool_gateway_addr(p, a);
	addr_is(a, "10.0.0.1", "gateway");
	ASSERT_EQ(pool_alloc(p, a), 0, "alloc");
	addr_is(a, "10.0.0.2", "first");
	ASSERT_EQ(pool_release(p, mapped("10.255.255.254")), -ENOENT, "last, free");
	ASSERT_EQ(pool_release(p, mapped("10.255.255.255")), -ENOENT, "broadcast");
	pool_free(p);
}

static void test_refused(void)
{
	static const char *const bad[] = { "10.0.0.0/7", "10.0.0.0/31", "10.0.0.1/32",
					   "2001:db8::/64" };
	const char *why = "";
	struct cidr c;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (!ASSERT_EQ(cidr_parse(bad[i], &c, &why), 0, bad[i]))
			continue;
		errno = 0;
		ASSERT_TRUE(pool_new(&c) == NULL, bad[i]);
		ASSERT_EQ(errno, EINVAL, bad[i]);
	}
	pool_free(NULL);
}

T_MAIN(T_CASE(test_slash30), T_CASE(test_sequence), T_CASE(test_exhaust_and_release_all),
       T_CASE(test_big), T_CASE(test_refused))
