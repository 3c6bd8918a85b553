/* SPDX-License-Identifier: GPL-2.0 */
/* Timing a BPF program with BPF_PROG_TEST_RUN, for the benchmarks in bench/. */
#ifndef CG_TESTS_PROG_TIME_H
#define CG_TESTS_PROG_TIME_H

#include <linux/types.h>
#include <stddef.h>

/*
 * Runs prog_fd over data[0..len) `repeat` times per run (the kernel reports
 * the mean ns per packet), `runs` times (at most 64), and returns the median
 * of the runs. Returns 0 when a run fails or a return code is not want_ret
 * (the reason printed on stderr).
 */
__u64 prog_time_median(int prog_fd, const void *data, size_t len, __u32 want_ret, unsigned int runs,
		       unsigned int repeat);

#endif
