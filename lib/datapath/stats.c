// SPDX-License-Identifier: GPL-2.0
/* Names of the gate's verdict counters, in enum cg_stat order. */
#include <stddef.h>
#include <string.h>

#include "lib/datapath/stats.h"

static const char *const names[CG_STAT_MAX] = {
	[CG_STAT_PASS_NON_IP] = "pass_non_ip",
	[CG_STAT_PASS_ND] = "pass_nd",
	[CG_STAT_PASS_RULE] = "pass_rule",
	[CG_STAT_PASS_FLOW] = "pass_flow",
	[CG_STAT_PASS_KNOCK] = "pass_knock",
	[CG_STAT_PASS_OPEN] = "pass_open",
	[CG_STAT_PASS_FRAGMENT] = "pass_fragment",
	[CG_STAT_PASS_ICMP_ERROR] = "pass_icmp_error",
	[CG_STAT_PASS_DEFAULT] = "pass_default",
	[CG_STAT_PASS_CAP] = "pass_cap",
	[CG_STAT_PASS_ENCRYPTED] = "pass_encrypted",
	[CG_STAT_DROP_MALFORMED] = "drop_malformed",
	[CG_STAT_DROP_RULE] = "drop_rule",
	[CG_STAT_DROP_FRAGMENT] = "drop_fragment",
	[CG_STAT_DROP_KNOCK_STEP] = "drop_knock_step",
	[CG_STAT_DROP_KNOCK_OPEN] = "drop_knock_open",
	[CG_STAT_DROP_KNOCK_WRONG] = "drop_knock_wrong",
	[CG_STAT_DROP_KNOCK_TIMEOUT] = "drop_knock_timeout",
	[CG_STAT_DROP_DEFAULT] = "drop_default",
	[CG_STAT_DROP_CAP_MALFORMED] = "drop_cap_malformed",
	[CG_STAT_DROP_UNKNOWN_SESSION] = "drop_unknown_session",
	[CG_STAT_DROP_EXPIRED_UNVERIFIED] = "drop_expired_unverified",
	[CG_STAT_DROP_REPLAY_UNVERIFIED] = "drop_replay_unverified",
	[CG_STAT_DROP_BAD_TAG] = "drop_bad_tag",
	[CG_STAT_DROP_SPOOFED_SOURCE] = "drop_spoofed_source",
	[CG_STAT_DROP_OUT_OF_SCOPE] = "drop_out_of_scope",
	[CG_STAT_DROP_SPOOFED_POOL] = "drop_spoofed_pool",
	[CG_STAT_DROP_SPOOFED_INTERNAL] = "drop_spoofed_internal",
	[CG_STAT_DROP_SPA_RATE] = "drop_spa_rate",
	[CG_STAT_DROP_REPLAY] = "drop_replay",
	[CG_STAT_DROP_SOURCE_ROUTE] = "drop_source_route",
	[CG_STAT_DROP_WRONG_MODE] = "drop_wrong_mode",
	[CG_STAT_KEEPALIVE] = "drop_keepalive",
};

const char *stat_name(unsigned int stat)
{
	return stat < CG_STAT_MAX ? names[stat] : NULL;
}

bool stat_is_pass(unsigned int stat)
{
	return stat < CG_STAT_DROP_MALFORMED;
}

const char *stat_reason(unsigned int stat)
{
	const char *n = stat_name(stat);

	return n ? strchr(n, '_') + 1 : NULL;
}
