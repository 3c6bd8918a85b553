// SPDX-License-Identifier: GPL-2.0
/* Timing a BPF program with BPF_PROG_TEST_RUN, for the benchmarks in bench/. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <bpf/bpf.h>

#include "tests/lib/prog_time.h"

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

__u64 prog_time_median(int prog_fd, const void *data, size_t len, __u32 want_ret, unsigned int runs,
		       unsigned int repeat)
{
	__u64 ns[64];
	unsigned int i;

	if (!runs || runs > 64)
		return 0;
	for (i = 0; i < runs; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = (__u32)len,
			    .repeat = repeat);

		if (bpf_prog_test_run_opts(prog_fd, &o) || o.retval != want_ret) {
			fprintf(stderr, "test run failed: err %d retval %u\n", -errno, o.retval);
			return 0;
		}
		ns[i] = o.duration;
	}
	qsort(ns, runs, sizeof(ns[0]), cmp_u64);
	return ns[runs / 2];
}
