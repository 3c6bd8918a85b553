/* SPDX-License-Identifier: GPL-2.0 */
/* Anti-replay window (RFC 6479, as WireGuard's counter.c), shared by the XDP gate and user space.
 */
#ifndef CG_ABI_REPLAY_H
#define CG_ABI_REPLAY_H

#include <linux/types.h>

#include "abi/tunnel.h"

/*
 * The window is a ring of CG_REPLAY_WORDS 64-bit blocks (8192 bits) plus the
 * highest counter accepted so far, top (0 = nothing accepted yet). Bit
 * (c % 64) of block ((c / 64) % CG_REPLAY_WORDS) records counter c.
 *
 * As in RFC 6479 and WireGuard, the block that holds top is shared with
 * counters up to 63 above it, so one block of the ring is "redundant": a
 * counter is inside the window when top - counter <= CG_REPLAY_BEHIND, that
 * is 8192 - 64 = 8128 packets behind the highest one. Older counters are
 * refused without looking at the bitmap; newer ones are always inside.
 *
 * Refused: counter 0 (counters start at 1), a counter more than
 * CG_REPLAY_BEHIND behind top, and a counter whose bit is already set.
 *
 * Both functions are pure (no helper calls, no division, loops bounded by
 * CG_REPLAY_WORDS), so the gate can run them under the session's
 * bpf_spin_lock. replay_accept needs the caller to serialise access to one
 * window. replay_would_accept may run without the lock, racing a writer (the
 * gate's pre-check before the tag): it reads top once and then the counter's
 * block, and replay_accept clears blocks before it moves top and sets the bit
 * after. Where stores and loads stay in order (x86), a reader then sees a
 * block at least as new as the top it read, and refuses only what the
 * writer's state refuses too (a block newer than the top read holds counters
 * so far ahead that the counter is already too old for the new top). Where
 * they may not (arm64), a reader racing a writer of the same session could
 * refuse a fresh counter as a replay, so the gate reads without the lock on
 * x86 only (bpf/cap.h). Never the reverse: what is accepted is decided by
 * replay_accept alone.
 */
#define CG_REPLAY_BEHIND (CG_REPLAY_WINDOW - 64)
#define CG_REPLAY_BLOCK_SHIFT 6 /* log2(64) */

#if defined(__bpf__)
#define CG_REPLAY_INLINE static inline __attribute__((always_inline))
#else
#define CG_REPLAY_INLINE static inline
#endif
/* Keeps the compiler from moving memory accesses across it (the order above). */
#define CG_REPLAY_ORDER() __asm__ __volatile__("" ::: "memory")

_Static_assert((CG_REPLAY_WORDS & (CG_REPLAY_WORDS - 1)) == 0, "replay ring is a power of two");
_Static_assert(CG_REPLAY_WORDS * 64 == CG_REPLAY_WINDOW, "replay ring size");

/*
 * A window on its own, for user space (the client's gateway-to-client
 * direction). The gate keeps the same two fields inside struct cg_session.
 */
struct cg_replay_window {
	__u64 top;
	__u64 bitmap[CG_REPLAY_WORDS];
};
_Static_assert(sizeof(struct cg_replay_window) == 8 + 8 * CG_REPLAY_WORDS, "abi");

/* 1 if counter would be accepted now, 0 if refused. Reads only; the lock is optional (above). */
CG_REPLAY_INLINE int replay_would_accept(const __u64 *top, const __u64 *bitmap, __u64 counter)
{
	__u64 t = *(const volatile __u64 *)top, block;

	if (counter == 0)
		return 0;
	if (counter > t)
		return 1;
	if (t - counter > CG_REPLAY_BEHIND)
		return 0;
	block = (counter >> CG_REPLAY_BLOCK_SHIFT) & (CG_REPLAY_WORDS - 1);
	CG_REPLAY_ORDER();
	return !(((const volatile __u64 *)bitmap)[block] & (1ULL << (counter & 63)));
}

/*
 * Accept counter: 1 if it was accepted and is now recorded, 0 if refused (the
 * window is then unchanged). Moving top forward clears the blocks skipped
 * over, at most the whole ring.
 */
CG_REPLAY_INLINE int replay_accept(__u64 *top, __u64 *bitmap, __u64 counter)
{
	__u64 block, cur, n, bit;
	__u32 i;

	if (counter == 0)
		return 0;
	if (counter <= *top && *top - counter > CG_REPLAY_BEHIND)
		return 0;
	block = counter >> CG_REPLAY_BLOCK_SHIFT;
	if (counter > *top) {
		cur = *top >> CG_REPLAY_BLOCK_SHIFT;
		n = block - cur;
		for (i = 1; i <= CG_REPLAY_WORDS; i++) {
			if (i > n)
				break;
			bitmap[(cur + i) & (CG_REPLAY_WORDS - 1)] = 0;
		}
		CG_REPLAY_ORDER();
		*(volatile __u64 *)top = counter;
		CG_REPLAY_ORDER();
	}
	block &= CG_REPLAY_WORDS - 1;
	bit = 1ULL << (counter & 63);
	if (bitmap[block] & bit)
		return 0;
	bitmap[block] |= bit;
	return 1;
}

#endif
