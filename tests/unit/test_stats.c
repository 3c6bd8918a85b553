// SPDX-License-Identifier: GPL-2.0
/* Counter names: every enum cg_stat has a unique name that matches its verdict. */
#include "lib/datapath/stats.h"
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
	/* The capability stage's refusals, as the issue names them. */
	ASSERT_TRUE(stat_is_pass(CG_STAT_PASS_CAP), "pass_cap passes");
	ASSERT_STREQ(stat_reason(CG_STAT_PASS_CAP), "cap", "pass_cap");
	ASSERT_STREQ(stat_reason(CG_STAT_DROP_CAP_MALFORMED), "cap_malformed", "malformed");
	ASSERT_STREQ(stat_reason(CG_STAT_DROP_UNKNOWN_SESSION), "unknown_session", "unknown");
	ASSERT_STREQ(stat_reason(CG_STAT_DROP_EXPIRED_UNVERIFIED), "expired_unverified", "expired");
	ASSERT_STREQ(stat_reason(CG_STAT_DROP_REPLAY_UNVERIFIED), "replay_unverified", "replay");
	ASSERT_STREQ(stat_reason(CG_STAT_DROP_REPLAY), "replay", "verified replay");
	ASSERT_STREQ(stat_reason(CG_STAT_DROP_BAD_TAG), "bad_tag", "bad_tag");
	ASSERT_STREQ(stat_reason(CG_STAT_DROP_SPOOFED_SOURCE), "spoofed_source", "spoofed");
	ASSERT_STREQ(stat_reason(CG_STAT_DROP_OUT_OF_SCOPE), "out_of_scope", "scope");
	ASSERT_STREQ(stat_reason(CG_STAT_DROP_SPOOFED_POOL), "spoofed_pool", "pool");
	ASSERT_STREQ(stat_reason(CG_STAT_DROP_SPOOFED_INTERNAL), "spoofed_internal", "internal");
	ASSERT_STREQ(stat_reason(CG_STAT_DROP_SPA_RATE), "spa_rate", "spa rate");
	/* Encrypted mode (bpf/cap.h: cap_encrypted). */
	ASSERT_TRUE(stat_is_pass(CG_STAT_PASS_ENCRYPTED), "pass_encrypted passes");
	ASSERT_STREQ(stat_name(CG_STAT_PASS_ENCRYPTED), "pass_encrypted", "encrypted");
	ASSERT_STREQ(stat_name(CG_STAT_DROP_WRONG_MODE), "drop_wrong_mode", "wrong mode");
}

T_MAIN(T_CASE(test_every_stat_named))
