/* SPDX-License-Identifier: GPL-2.0 */
/* Prefix matching (abi/scope.h's scope_prefix_match): destination sets, the gateway's addresses. */
#ifndef CG_BPF_PREFIX_H
#define CG_BPF_PREFIX_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "abi/knock.h"
#include "abi/scope.h"
#include "bpf/maps.h"
#include "bpf/parse.h"

/* 1 if @a (a packet's source or destination, family @v6) is in one of @d's prefixes. */
static __always_inline int dests_prefix_match(const struct cg_dests *d, const __u8 *a, int v6)
{
	__u32 i, n = d->n;
	__u64 hi, lo;

	scope_addr_words(a, &hi, &lo);
	for (i = 0; i < CG_DEST_MAX; i++) {
		if (i >= n)
			break;
		if (scope_prefix_match(d->p[i].addr, d->p[i].plen, hi, lo, v6))
			return 1;
	}
	return 0;
}

/* 1 if the packet's destination is one of the gateway's own addresses. */
static __always_inline int dst_is_local(const struct cg_pkt *p)
{
	return bpf_map_lookup_elem(&gate_local, p->dst) != NULL;
}

/*
 * 1 if the packet's destination is in the set: one of the gateway's own
 * addresses (gate_local) when d->self, or in one of its prefixes. A global
 * function: checked once, not once per caller's state (d and p may be NULL
 * to the verifier).
 */
__attribute__((noinline)) int dests_match(const struct cg_dests *d, const struct cg_pkt *p)
{
	if (!d || !p)
		return 0;
	if (d->self && dst_is_local(p))
		return 1;
	return dests_prefix_match(d, p->dst, p->v6);
}

#endif
