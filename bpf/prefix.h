/* SPDX-License-Identifier: GPL-2.0 */
/* Prefix matching: session scopes, destination sets, the pool and the internal prefixes. */
#ifndef CG_BPF_PREFIX_H
#define CG_BPF_PREFIX_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "abi/knock.h"
#include "bpf/maps.h"
#include "bpf/parse.h"

/* The 16 bytes at @a as two host-order words, most significant first (for prefix masks). */
static __always_inline void addr_words(const __u8 *a, __u64 *hi, __u64 *lo)
{
	const __u32 *w = (const __u32 *)a;

	*hi = (__u64)bpf_ntohl(w[0]) << 32 | bpf_ntohl(w[1]);
	*lo = (__u64)bpf_ntohl(w[2]) << 32 | bpf_ntohl(w[3]);
}

/*
 * 1 if the address (ahi, alo) of a packet of family @v6 is inside the prefix
 * @addr/@plen (16 bytes, IPv4 as ::ffff:a.b.c.d, plen in 128 bits). A prefix
 * matches addresses of its own family only: an IPv6 prefix that covers
 * ::ffff:0:0/96 (::/0 for one) must not match every IPv4 address, and an
 * IPv4 prefix no IPv6 packet to or from an IPv4-mapped address.
 */
static __always_inline int prefix_match(const __u8 *addr, __u32 plen, __u64 ahi, __u64 alo, int v6)
{
	__u64 phi, plo, mhi, mlo;

	if (plen > 128)
		return 0;
	addr_words(addr, &phi, &plo);
	if ((plen >= 96 && !phi && (plo >> 32) == 0xffff) == !!v6)
		return 0;
	mhi = plen >= 64 ? ~0ULL : plen ? ~0ULL << (64 - plen) : 0;
	mlo = plen <= 64 ? 0 : ~0ULL << (128 - plen);
	return !(((ahi ^ phi) & mhi) | ((alo ^ plo) & mlo));
}

/* 1 if @a (a packet's source or destination, family @v6) is in one of @d's prefixes. */
static __always_inline int dests_prefix_match(const struct cg_dests *d, const __u8 *a, int v6)
{
	__u32 i, n = d->n;
	__u64 hi, lo;

	addr_words(a, &hi, &lo);
	for (i = 0; i < CG_DEST_MAX; i++) {
		if (i >= n)
			break;
		if (prefix_match(d->p[i].addr, d->p[i].plen, hi, lo, v6))
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
