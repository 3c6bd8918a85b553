// SPDX-License-Identifier: GPL-2.0
/* Helpers shared by the BPF_PROG_TEST_RUN tests of the gate (tests/bpf/). */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "gate.skel.h"

#include "tests/lib/gate_t.h"
#include "tests/lib/t.h"

__u64 gate_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

void gate_map_clear(const struct bpf_map *m)
{
	__u8 key[64], next[64];
	int fd = bpf_map__fd(m);

	while (bpf_map_get_next_key(fd, NULL, next) == 0) {
		memcpy(key, next, sizeof(key));
		if (bpf_map_delete_elem(fd, key))
			break;
	}
}

void gate_sum_stats(const struct gate_bpf *skel, struct cg_counter out[CG_STAT_MAX])
{
	int ncpus = libbpf_num_possible_cpus();
	struct cg_counter v[ncpus];
	__u32 r;
	int i;

	memset(out, 0, sizeof(struct cg_counter) * CG_STAT_MAX);
	for (r = 0; r < CG_STAT_MAX; r++) {
		if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.gate_stats), &r, v))
			continue;
		for (i = 0; i < ncpus; i++) {
			out[r].packets += v[i].packets;
			out[r].bytes += v[i].bytes;
		}
	}
}

void gate_skip_case(void)
{
	T_SKIP(geteuid() ? "needs root" : "gate.bpf.o did not load");
}
