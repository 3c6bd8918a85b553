/* SPDX-License-Identifier: GPL-2.0 */
/* The inner source and scope check, one definition for the XDP gate and the daemon (AEAD mode). */
#ifndef CG_ABI_SCOPE_H
#define CG_ABI_SCOPE_H

#include <linux/types.h>

#include "abi/tunnel.h"

/*
 * What the check needs from an inner packet, filled by whoever parsed it:
 * the gate's cap_stage (bpf/cap.h) from its cursor parse, user space by
 * inner_parse() (lib/tunnel/inner.h), which judges the bytes exactly as the
 * gate does. Addresses are 16 bytes, IPv4 as ::ffff:a.b.c.d (4-byte aligned:
 * the gate reads them a word at a time).
 */
struct cg_inner {
	__u8 src[16];
	__u8 dst[16];
	__u8 v6;	 /* 1: an IPv6 packet, 0: IPv4 */
	__u8 proto;	 /* L4 protocol (after IPv6 extension headers) */
	__u8 later_frag; /* a fragment with offset != 0: no L4 header, no ports */
	__u8 pad;
	__u16 dport; /* host order; read only for TCP and UDP, not for a later fragment */
	__u8 pad2[2];
};
_Static_assert(sizeof(struct cg_inner) == 40, "abi");

/*
 * Everything here is pure (no helper calls, loops bounded by CG_MAX_SCOPES),
 * so the gate inlines it where it stood before. The one difference between
 * the two sides is how a 32-bit word is loaded: the gate's fields are
 * aligned and the verifier wants one load, user space may hand any buffer
 * (memcpy, one load on x86 too).
 */
#if defined(__bpf__)
#define CG_SCOPE_INLINE static inline __attribute__((always_inline))
#else
#define CG_SCOPE_INLINE static inline
#endif

/* IPPROTO_TCP and IPPROTO_UDP, without <netinet/in.h> or <linux/in.h> in abi/. */
#define CG_SCOPE_TCP 6
#define CG_SCOPE_UDP 17

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define CG_SCOPE_W2_V4MAPPED 0xffff0000U /* bytes 00 00 ff ff, loaded little-endian */
#else
#define CG_SCOPE_W2_V4MAPPED 0x0000ffffU
#endif

/* The 32 bits at @p as stored (no byte swap). */
CG_SCOPE_INLINE __u32 scope_load32(const __u8 *p)
{
#if defined(__bpf__)
	return *(const __u32 *)p;
#else
	__u32 w;

	__builtin_memcpy(&w, p, sizeof(w));
	return w;
#endif
}

/* The 32 bits at @p read big-endian. */
CG_SCOPE_INLINE __u32 scope_be32(const __u8 *p)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap32(scope_load32(p));
#else
	return scope_load32(p);
#endif
}

/* 1 if the 16-byte addresses are equal. */
CG_SCOPE_INLINE int scope_addr_eq(const __u8 *a, const __u8 *b)
{
	return !((scope_load32(a) ^ scope_load32(b)) | (scope_load32(a + 4) ^ scope_load32(b + 4)) |
		 (scope_load32(a + 8) ^ scope_load32(b + 8)) |
		 (scope_load32(a + 12) ^ scope_load32(b + 12)));
}

/* 1 if the 16 bytes are an IPv4-mapped address (::ffff:a.b.c.d). */
CG_SCOPE_INLINE int scope_addr_v4mapped(const __u8 *a)
{
	return !(scope_load32(a) | scope_load32(a + 4) |
		 (scope_load32(a + 8) ^ CG_SCOPE_W2_V4MAPPED));
}

/* The 16 bytes at @a as two host-order words, most significant first (for prefix masks). */
CG_SCOPE_INLINE void scope_addr_words(const __u8 *a, __u64 *hi, __u64 *lo)
{
	*hi = (__u64)scope_be32(a) << 32 | scope_be32(a + 4);
	*lo = (__u64)scope_be32(a + 8) << 32 | scope_be32(a + 12);
}

/*
 * 1 if the address (ahi, alo) of a packet of family @v6 is inside the prefix
 * @addr/@plen (16 bytes, IPv4 as ::ffff:a.b.c.d, plen in 128 bits). A prefix
 * matches addresses of its own family only: an IPv6 prefix that covers
 * ::ffff:0:0/96 (::/0 for one) must not match every IPv4 address, and an
 * IPv4 prefix no IPv6 packet to or from an IPv4-mapped address. The gate
 * uses it for the pool, the internal prefixes and destination sets too.
 */
CG_SCOPE_INLINE int scope_prefix_match(const __u8 *addr, __u32 plen, __u64 ahi, __u64 alo, int v6)
{
	__u64 phi, plo, mhi, mlo;

	if (plen > 128)
		return 0;
	scope_addr_words(addr, &phi, &plo);
	if ((plen >= 96 && !phi && (plo >> 32) == 0xffff) == !!v6)
		return 0;
	mhi = plen >= 64 ? ~0ULL : plen ? ~0ULL << (64 - plen) : 0;
	mlo = plen <= 64 ? 0 : ~0ULL << (128 - plen);
	return !(((ahi ^ phi) & mhi) | ((alo ^ plo) & mlo));
}

/*
 * 1 if the inner packet is inside @sc: the destination (dhi, dlo: in->dst as
 * scope_addr_words gives it) is in the prefix, the protocol matches (scope
 * proto 0 = any), and for a TCP or UDP scope the destination port is in
 * [port_lo, port_hi]. A later fragment carries no ports: it matches on
 * destination and protocol alone (its datagram cannot be reassembled without
 * the first fragment, which the port range judged). The cheap tests come
 * first: a scope of another protocol or port range, the usual miss among a
 * session's scopes, is refused before its prefix is loaded.
 */
CG_SCOPE_INLINE int scope_match(const struct cg_scope *sc, __u64 dhi, __u64 dlo,
				const struct cg_inner *in)
{
	if (sc->proto && sc->proto != in->proto)
		return 0;
	if ((sc->proto == CG_SCOPE_TCP || sc->proto == CG_SCOPE_UDP) && !in->later_frag &&
	    (in->dport < sc->port_lo || in->dport > sc->port_hi))
		return 0;
	return scope_prefix_match(sc->addr, sc->plen, dhi, dlo, in->v6);
}

/* 1 if the inner packet is inside one of the first @n (at most CG_MAX_SCOPES) of @scopes. */
CG_SCOPE_INLINE int scope_any(const struct cg_scope *scopes, __u32 n, const struct cg_inner *in)
{
	__u64 dhi, dlo;
	__u32 i;

	scope_addr_words(in->dst, &dhi, &dlo);
	for (i = 0; i < CG_MAX_SCOPES; i++) {
		if (i >= n)
			break;
		if (scope_match(&scopes[i], dhi, dlo, in))
			return 1;
	}
	return 0;
}

/*
 * 1 if the inner source is the session's virtual address @vip (16 bytes,
 * IPv4 as ::ffff:a.b.c.d): the same address and the same family, so an IPv6
 * packet from ::ffff:<vip> is not the client's.
 */
CG_SCOPE_INLINE int scope_source_ok(const struct cg_inner *in, const __u8 *vip)
{
	return scope_addr_eq(in->src, vip) && !(in->v6 && scope_addr_v4mapped(in->src));
}

#endif
