/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the gate's stages: the "keep going" sentinel and the verdict counter. */
#ifndef CG_BPF_COMMON_H
#define CG_BPF_COMMON_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "bpf/maps.h"

/*
 * A stage returns an enum cg_stat (the packet's verdict and reason) or
 * CG_CONTINUE when it has no opinion and the next stage decides (Katran's
 * FURTHER_PROCESSING).
 */
#define CG_CONTINUE (-1)

#define CG_NSEC_PER_SEC 1000000000ULL

/*
 * The gate's clock: CLOCK_MONOTONIC_COARSE (the jiffies-updated copy of
 * CLOCK_MONOTONIC, same base, one tick of resolution). bpf_ktime_get_ns()
 * costs 20-30 ns a call in a VM; this one is a plain load. User space that
 * reads CLOCK_MONOTONIC is ahead of it by less than one tick (1-10 ms), so
 * a door, flow or session lives up to one tick longer in the gate than the
 * daemon computes (docs/datapath.md, "Time").
 */
static __always_inline __u64 gate_clock(void)
{
	return bpf_ktime_get_coarse_ns();
}

/*
 * The packet's time, read on first use and then kept in *now (0 = not read
 * yet): the open-service, default and knock-noise paths need no time.
 */
static __always_inline __u64 gate_now(__u64 *now)
{
	if (!*now)
		*now = gate_clock();
	return *now;
}

/*
 * How long before @now the gate stamped @then; 0 if @then is later. Another
 * CPU may store a newer stamp (a flow's last_ns, a knock step) after this one
 * read its clock: that entry is fresh, while now - then would wrap to 2^64
 * and delete it or time it out.
 */
static __always_inline __u64 gate_age(__u64 now, __u64 then)
{
	return now > then ? now - then : 0;
}

/* The enum is ordered: every PASS reason comes before CG_STAT_DROP_MALFORMED. */
static __always_inline int stat_is_pass(int reason)
{
	return reason >= 0 && reason < CG_STAT_DROP_MALFORMED;
}

/* Count one packet of @bytes under @reason. Per-CPU, so no atomics. */
static __always_inline void stat_count(__u32 reason, __u64 bytes)
{
	struct cg_counter *c = bpf_map_lookup_elem(&gate_stats, &reason);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

#endif
