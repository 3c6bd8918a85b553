// SPDX-License-Identifier: GPL-2.0
/* The log limiter: one line per interval per kind, the others counted and reported. */
#include "lib/base/log.h"
#include "tests/lib/t.h"

#define S 1000000000ULL

/* One kind of message over time, as numbered rows: pass or held back, and the count reported. */
static void test_limit_table(void)
{
	static const struct {
		uint64_t now_ns;
		int flush; /* 1: a tick, not a line */
		bool want_pass;
		uint64_t want_suppressed; /* reported with the line or by the tick */
	} rows[] = {
		{ 100, 0, true, 0 },	     /* first line passes */
		{ 101, 0, false, 0 },	     /* held back */
		{ 5 * S, 0, false, 0 },	     /* still within 5 s of the first */
		{ 5 * S + 99, 1, false, 0 }, /* a tick inside the interval reports nothing */
		{ 5 * S + 100, 0, true, 2 }, /* the interval is over: passes, says 2 */
		{ 5 * S + 101, 0, false, 0 },
		{ 11 * S, 1, false, 1 },     /* the flood stopped: the tick reports 1 */
		{ 11 * S + 1, 1, false, 0 }, /* and only once */
		{ 12 * S, 0, false, 0 },     /* the summary counted as the line */
		{ 16 * S, 0, true, 1 },
		{ 30 * S, 1, false, 0 }, /* nothing held back: the tick is silent */
		{ 30 * S, 0, true, 0 },
	};
	struct log_limit l = { 0 };
	uint64_t n;
	size_t i;
	char name[32];

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(name, sizeof(name), "row %zu", i);
		if (rows[i].flush) {
			ASSERT_EQ(log_limit_flush(&l, rows[i].now_ns, 5 * S),
				  rows[i].want_suppressed, name);
			continue;
		}
		n = 77;
		ASSERT_EQ(log_limit_pass(&l, rows[i].now_ns, 5 * S, &n), rows[i].want_pass, name);
		ASSERT_EQ(n, rows[i].want_pass ? rows[i].want_suppressed : 77, name);
	}
}

/* 100,000 lines in one interval: one passes, the next reports all the others. */
static void test_limit_flood(void)
{
	struct log_limit l = { 0 };
	uint64_t n = 0, passed = 0, i;

	for (i = 0; i < 100000; i++)
		passed += log_limit_pass(&l, S + i, 5 * S, &n);
	ASSERT_EQ(passed, 1, "one line");
	ASSERT_TRUE(log_limit_pass(&l, 6 * S, 5 * S, &n), "next interval");
	ASSERT_EQ(n, 99999, "all counted");
}

T_MAIN(T_CASE(test_limit_table), T_CASE(test_limit_flood))
