// SPDX-License-Identifier: GPL-2.0
/* The anti-replay window of abi/replay.h as a numbered table (as WireGuard's counter.c). */
#include <stdint.h>

#include "abi/replay.h"
#include "tests/lib/t.h"

struct window {
	__u64 top;
	__u64 bitmap[CG_REPLAY_WORDS];
};

static struct window w;
static unsigned int step;

/*
 * T(n, want): counter n against the window. would_accept must predict
 * accept, and a refused counter must leave the window unchanged.
 */
static void t(__u64 n, int want)
{
	struct window before = w;
	char name[64];
	int pred, got;

	step++;
	snprintf(name, sizeof(name), "T%u counter %llu", step, (unsigned long long)n);
	pred = replay_would_accept(&w.top, w.bitmap, n);
	got = replay_accept(&w.top, w.bitmap, n);
	ASSERT_EQ(got, want, name);
	ASSERT_EQ(pred, got, name);
	if (!got)
		ASSERT_MEMEQ(&w, &before, sizeof(w), name);
}

#define T(n, want) t((n), (want))
#define W CG_REPLAY_WINDOW
#define B CG_REPLAY_BEHIND /* 8128: furthest behind top still accepted */

static void reset(void)
{
	memset(&w, 0, sizeof(w));
	step = 0;
}

static void test_table(void)
{
	reset();
	/* zero, in order, duplicates */
	T(0, 0);
	T(1, 1);
	T(1, 0);
	T(2, 1);
	T(3, 1);
	T(2, 0);
	/* reordered */
	T(9, 1);
	T(8, 1);
	T(7, 1);
	T(7, 0);
	T(4, 1);
	T(0, 0);
	/* far future, then the window edges behind it */
	T(W, 1);	 /* 8192 */
	T(W - B, 1);	 /* 64: exactly B behind */
	T(W - B - 1, 0); /* 63: B + 1 behind */
	T(W - B, 0);	 /* duplicate at the edge */
	T(5, 0);	 /* far past */
	T(W + 1, 1);
	T(W + 1 - B, 1);	 /* 65: exactly B behind the new top */
	T(W + 1 - B, 0);	 /* and now seen */
	T(2 * W + 3, 1);	 /* jump more than a ring */
	T(W + 1, 0);		 /* far past */
	T(2 * W + 3 - B, 1);	 /* edge again */
	T(2 * W + 3 - B - 1, 0); /* past the edge */
	T(2 * W + 2, 1);	 /* just below top */
	T(2 * W + 3, 0);	 /* top itself, duplicate */
	T(2 * W + 4, 1);	 /* just above top */
	/* wraparound of the ring: counters 64 apart land in the same block index */
	T(3 * W, 1);
	T(3 * W - 64 * (CG_REPLAY_WORDS - 1), 1); /* same word as 2W + 64, cleared */
	T(3 * W - 1, 1);
	T(3 * W + 63, 1);     /* same block as top */
	T(3 * W + 64, 1);     /* next block: reuses the block of 2W + 64 */
	T(2 * W + 64 + 1, 0); /* now out of the window */
	T(3 * W + 64 - B, 1);
	T(3 * W + 64 - B, 0);
	/* the top end of the counter space */
	T(UINT64_MAX - 1, 1);
	T(UINT64_MAX, 1);
	T(UINT64_MAX, 0);
	T(UINT64_MAX - B, 1);
	T(UINT64_MAX - B - 1, 0);
	T(3 * W, 0);
}

/* Every counter of a long in-order run, then each once more: all new, then all duplicates. */
static void test_in_order_run(void)
{
	__u64 i, bad = 0;

	reset();
	for (i = 1; i <= 3 * W; i++)
		bad += !replay_accept(&w.top, w.bitmap, i);
	ASSERT_EQ(bad, 0, "in order");
	for (i = 3 * W - B; i <= 3 * W; i++)
		bad += replay_accept(&w.top, w.bitmap, i);
	for (i = 1; i < 3 * W - B; i++)
		bad += replay_would_accept(&w.top, w.bitmap, i);
	ASSERT_EQ(bad, 0, "replays");
}

/* The whole window received backwards after its top: every one accepted once. */
static void test_reverse_window(void)
{
	__u64 top = 100000, i, bad = 0;

	reset();
	T(top, 1);
	for (i = top - 1; i >= top - B; i--)
		bad += !replay_accept(&w.top, w.bitmap, i);
	ASSERT_EQ(bad, 0, "backwards");
	for (i = top - B; i <= top; i++)
		bad += replay_accept(&w.top, w.bitmap, i);
	ASSERT_EQ(bad, 0, "again");
	T(top - B - 1, 0);
}

/* A window with bits set everywhere: a far jump must clear the whole ring. */
static void test_jump_clears_ring(void)
{
	__u64 i, bad = 0;

	reset();
	memset(w.bitmap, 0xff, sizeof(w.bitmap));
	w.top = 10 * W;
	T(10 * W, 0);
	T(20 * W, 1);
	for (i = 20 * W - B; i < 20 * W; i++)
		bad += !replay_would_accept(&w.top, w.bitmap, i);
	ASSERT_EQ(bad, 0, "cleared");
}

T_MAIN(T_CASE(test_table), T_CASE(test_in_order_run), T_CASE(test_reverse_window),
       T_CASE(test_jump_clears_ring))
