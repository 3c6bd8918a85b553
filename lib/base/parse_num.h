/* SPDX-License-Identifier: GPL-2.0 */
/* Strict number and duration parsing: every number from a user goes through here. */
#ifndef CG_BASE_PARSE_NUM_H
#define CG_BASE_PARSE_NUM_H

#include <stdint.h>

/*
 * Decimal only, no sign, no leading/trailing space, value in [min, max].
 * Returns 0 and writes *out, -EINVAL (not a number) or -ERANGE (out of range).
 */
int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);

/*
 * A duration: a decimal number with a unit s, m or h ("30s", "5m", "1h"); a
 * bare number means seconds. Value in [min_ns, max_ns]. Returns 0 and writes
 * *out_ns, -EINVAL or -ERANGE.
 */
int parse_duration(const char *s, uint64_t min_ns, uint64_t max_ns, uint64_t *out_ns);

#define NS_PER_SEC 1000000000ULL

#endif
