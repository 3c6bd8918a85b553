// SPDX-License-Identifier: GPL-2.0
/* parse_u32 and parse_duration as tables. */
#include <errno.h>

#include "lib/base/parse_num.h"
#include "tests/lib/t.h"

static void test_parse_u32(void)
{
	static const struct {
		const char *s;
		uint32_t min, max;
		int want;
		uint32_t v;
	} t[] = {
		{ "0", 0, 10, 0, 0 },
		{ "10", 0, 10, 0, 10 },
		{ "11", 0, 10, -ERANGE, 0 },
		{ "4", 5, 10, -ERANGE, 0 },
		{ "4294967295", 0, UINT32_MAX, 0, UINT32_MAX },
		{ "4294967296", 0, UINT32_MAX, -ERANGE, 0 },
		{ "99999999999999999999999", 0, UINT32_MAX, -ERANGE, 0 },
		{ "", 0, 10, -EINVAL, 0 },
		{ " 1", 0, 10, -EINVAL, 0 },
		{ "1 ", 0, 10, -EINVAL, 0 },
		{ "+1", 0, 10, -EINVAL, 0 },
		{ "-1", 0, 10, -EINVAL, 0 },
		{ "01", 0, 10, -EINVAL, 0 },
		{ "00", 0, 10, -EINVAL, 0 },
		{ "0x1", 0, 10, -EINVAL, 0 },
		{ "1a", 0, 10, -EINVAL, 0 },
		{ "1.0", 0, 10, -EINVAL, 0 },
	};
	size_t i;
	uint32_t v;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		v = 12345;
		if (!ASSERT_EQ(parse_u32(t[i].s, t[i].min, t[i].max, &v), t[i].want, t[i].s))
			continue;
		ASSERT_EQ(v, t[i].want ? 12345 : t[i].v, t[i].s);
	}
	ASSERT_EQ(parse_u32(NULL, 0, 1, &v), -EINVAL, "NULL");
}

static void test_parse_duration(void)
{
	static const struct {
		const char *s;
		int want;
		uint64_t ns;
	} t[] = {
		{ "30", 0, 30 * NS_PER_SEC },
		{ "30s", 0, 30 * NS_PER_SEC },
		{ "5m", 0, 300 * NS_PER_SEC },
		{ "1h", 0, 3600 * NS_PER_SEC },
		{ "0", 0, 0 },
		{ "24h", 0, 86400 * NS_PER_SEC },
		{ "25h", -ERANGE, 0 },
		{ "4294967295h", -ERANGE, 0 },
		{ "4294967296", -ERANGE, 0 },
		{ "12345678901234567890s", -ERANGE, 0 },
		{ "", -EINVAL, 0 },
		{ "s", -EINVAL, 0 },
		{ "5ms", -EINVAL, 0 },
		{ "5 s", -EINVAL, 0 },
		{ " 5s", -EINVAL, 0 },
		{ "5S", -EINVAL, 0 },
		{ "5d", -EINVAL, 0 },
		{ "05s", -EINVAL, 0 },
		{ "-5s", -EINVAL, 0 },
		{ "1.5h", -EINVAL, 0 },
	};
	size_t i;
	uint64_t ns;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ns = 777;
		if (!ASSERT_EQ(parse_duration(t[i].s, 0, 86400 * NS_PER_SEC, &ns), t[i].want,
			       t[i].s))
			continue;
		ASSERT_EQ(ns, t[i].want ? 777 : t[i].ns, t[i].s);
	}
	ASSERT_EQ(parse_duration("0s", NS_PER_SEC, 2 * NS_PER_SEC, &ns), -ERANGE, "below min");
	ASSERT_EQ(parse_duration("2s", NS_PER_SEC, 2 * NS_PER_SEC, &ns), 0, "at max");
}

T_MAIN(T_CASE(test_parse_u32), T_CASE(test_parse_duration))
