/* SPDX-License-Identifier: GPL-2.0 */
/* Which bpf test covers which reason: test_cap.c the capability stage, test_gate.c the others. */
#ifndef CG_TESTS_BPF_CAP_REASONS_H
#define CG_TESTS_BPF_CAP_REASONS_H

#include <stdbool.h>

#include "abi/stats.h"

_Static_assert(CG_STAT_MAX <= 64, "reasons_seen masks are 64 bits");

/*
 * The capability stage's reasons: PASS_CAP and PASS_ENCRYPTED, the drop
 * reasons from DROP_CAP_MALFORMED to DROP_OUT_OF_SCOPE, the verified
 * DROP_REPLAY, DROP_WRONG_MODE and KEEPALIVE.
 * test_cap.c must produce each of them, test_gate.c every other one.
 */
static inline bool cap_reason(int k)
{
	return k == CG_STAT_PASS_CAP || k == CG_STAT_PASS_ENCRYPTED ||
	       (k >= CG_STAT_DROP_CAP_MALFORMED && k <= CG_STAT_DROP_OUT_OF_SCOPE) ||
	       k == CG_STAT_DROP_REPLAY || k == CG_STAT_DROP_WRONG_MODE || k == CG_STAT_KEEPALIVE;
}

#endif
