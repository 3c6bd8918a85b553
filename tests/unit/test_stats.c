// SPDX-License-Identifier: GPL-2.0
/* Counter names: every enum cg_stat has a unique name that matches its verdict. */
#include "lib/stats.h"
#include "tests/lib/t.h"

static void test_every_stat_named(void)
{
	unsigned int i, j;

	for (i = 0; i < CG_STAT_MAX; i++) {
		const char *n = stat_name(i);

		if (!ASSERT_TRUE(n != NULL, "named"))
			return;
		ASSERT_EQ(strncmp(n, stat_is_pass(i) ? "pass_" : "drop_", 5), 0, n);
		for (j = 0; j < i; j++)
			ASSERT_TRUE(strcmp(n, stat_name(j)) != 0, n);
	}
	ASSERT_TRUE(stat_name(CG_STAT_MAX) == NULL, "out of range");
	ASSERT_STREQ(stat_reason(CG_STAT_DROP_KNOCK_WRONG), "knock_wrong", "reason");
}

T_MAIN(T_CASE(test_every_stat_named))
