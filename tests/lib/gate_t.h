/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the BPF_PROG_TEST_RUN tests of the gate (tests/bpf/). */
#ifndef CG_TESTS_GATE_T_H
#define CG_TESTS_GATE_T_H

#include <bpf/libbpf.h>

#include "abi/stats.h"

struct gate_bpf;

/* The gate's clock: bpf_ktime_get_coarse_ns() is CLOCK_MONOTONIC_COARSE. */
__u64 gate_now_ns(void);

/* Deletes every entry of a hash, LRU or trie map (keys up to 64 bytes). */
void gate_map_clear(const struct bpf_map *m);

/* gate_stats summed over the CPUs, into out[enum cg_stat]. */
void gate_sum_stats(const struct gate_bpf *skel, struct cg_counter out[CG_STAT_MAX]);

/* Marks the running case skipped, with the reason the skeleton did not load. */
void gate_skip_case(void);

#endif
