// SPDX-License-Identifier: GPL-2.0
/* TCP reassembly as tables: order, duplicates, overlaps (first wins), gaps, wraparound, RST, caps.
 */
#include <stdio.h>
#include <string.h>

#include "lib/dpi/decode.h"
#include "lib/dpi/reasm.h"
#include "tests/lib/t.h"

/* What the callbacks saw for direction 0: data as is, each gap as "[len]". */
struct sink {
	char out[256];
	size_t n;
	unsigned int gaps;
};

static void sink_put(struct sink *s, const char *p, size_t len)
{
	if (s->n + len >= sizeof(s->out))
		len = sizeof(s->out) - 1 - s->n;
	memcpy(s->out + s->n, p, len);
	s->n += len;
	s->out[s->n] = '\0';
}

static void on_data(void *ctx, int dir, const uint8_t *data, size_t len)
{
	if (dir == 0)
		sink_put(ctx, (const char *)data, len);
}

static void on_gap(void *ctx, int dir, uint32_t len)
{
	char buf[32];
	struct sink *s = ctx;

	if (dir != 0)
		return;
	s->gaps++;
	snprintf(buf, sizeof(buf), "[%u]", len);
	sink_put(s, buf, strlen(buf));
}

/* One step: a segment of direction dir, or (ack != 0 with dir 1) an ACK from the peer. */
struct step {
	int dir;
	uint32_t seq;
	uint8_t flags;
	const char *data;
	uint32_t ack; /* dir 1 only: acknowledges direction 0 up to ack */
};

#define SYN DEC_TCP_SYN
#define FIN DEC_TCP_FIN
#define RST DEC_TCP_RST
#define ACK DEC_TCP_ACK
#define W 0xfffffffdu /* ISN close to the wrap */
#define MAXSTEPS 8

struct rcase {
	const char *name;
	size_t max_flow, max_total;
	struct step steps[MAXSTEPS];
	bool flush; /* reasm_flush at the end */
	const char *want;
	unsigned int want_gaps;
	uint64_t want_buffered; /* bytes still queued before any flush */
};

#define BIG 1 << 20
/*
 * Each queued segment is charged REASM_SEG_OVERHEAD besides its payload, so
 * caps and buffered counts are written as SEG + payload bytes: a cap of
 * SEG + 4 holds one segment of 4 bytes.
 */
#define SEG REASM_SEG_OVERHEAD

static const struct rcase rcases[] = {
	{ "in_order",
	  BIG,
	  BIG,
	  { { 0, 999, SYN, "", 0 }, { 0, 1000, 0, "AB", 0 }, { 0, 1002, 0, "CD", 0 } },
	  true,
	  "ABCD",
	  0,
	  0 },
	{ "reordered",
	  BIG,
	  BIG,
	  { { 0, 999, SYN, "", 0 },
	    { 0, 1004, 0, "EF", 0 },
	    { 0, 1002, 0, "CD", 0 },
	    { 0, 1000, 0, "AB", 0 } },
	  true,
	  "ABCDEF",
	  0,
	  0 },
	{ "duplicate",
	  BIG,
	  BIG,
	  { { 0, 999, SYN, "", 0 },
	    { 0, 1000, 0, "AB", 0 },
	    { 0, 1000, 0, "AB", 0 },
	    { 0, 1002, 0, "CD", 0 } },
	  true,
	  "ABCD",
	  0,
	  0 },
	{ "syn_retransmit",
	  BIG,
	  BIG,
	  { { 0, 999, SYN, "", 0 }, { 0, 999, SYN, "", 0 }, { 0, 1000, 0, "AB", 0 } },
	  true,
	  "AB",
	  0,
	  0 },
	/* suricata-verify eve-overlap-payload-01: re-sent bytes differ, the first copy wins */
	{ "overlap_exact_delivered",
	  BIG,
	  BIG,
	  { { 0, 999, SYN, "", 0 }, { 0, 1000, 0, "GOOD", 0 }, { 0, 1000, 0, "EVIL", 0 } },
	  true,
	  "GOOD",
	  0,
	  0 },
	{ "overlap_exact_queued",
	  BIG,
	  BIG,
	  { { 0, 999, SYN, "", 0 },
	    { 0, 1002, 0, "OD", 0 },
	    { 0, 1002, 0, "IL", 0 },
	    { 0, 1000, 0, "GO", 0 } },
	  true,
	  "GOOD",
	  0,
	  0 },
	{ "overlap_partial_delivered",
	  BIG,
	  BIG,
	  { { 0, 999, SYN, "", 0 }, { 0, 1000, 0, "ABCD", 0 }, { 0, 1002, 0, "xxEF", 0 } },
	  true,
	  "ABCDEF",
	  0,
	  0 },
	{ "overlap_partial_queued",
	  BIG,
	  BIG,
	  { { 0, 999, SYN, "", 0 },
	    { 0, 1004, 0, "EFGH", 0 },
	    { 0, 1002, 0, "zzxxxxIJ", 0 },
	    { 0, 1000, 0, "AB", 0 } },
	  true,
	  "ABzzEFGHIJ",
	  0,
	  0 },
	/* suricata-verify eve-payload-04: 'XXX' over 'GOOD' */
	{ "overlap_partial_sv04",
	  BIG,
	  BIG,
	  { { 0, 999, SYN, "", 0 }, { 0, 1001, 0, "OOD", 0 }, { 0, 1000, 0, "GXXX", 0 } },
	  true,
	  "GOOD",
	  0,
	  0 },
	{ "overlap_spanning_two",
	  BIG,
	  BIG,
	  { { 0, 999, SYN, "", 0 },
	    { 0, 1002, 0, "CD", 0 },
	    { 0, 1006, 0, "GH", 0 },
	    { 0, 1000, 0, "ABxxEFxxIJ", 0 } },
	  true,
	  "ABCDEFGHIJ",
	  0,
	  0 },
	/* suricata-verify eve-payload-05: a 4-byte hole stays a hole */
	{ "gap_at_flush",
	  BIG,
	  BIG,
	  { { 0, 999, SYN, "", 0 }, { 0, 1000, 0, "VERY", 0 }, { 0, 1008, 0, "DATA", 0 } },
	  true,
	  "VERY[4]DATA",
	  1,
	  SEG + 4 },
	{ "gap_no_flush_holds",
	  BIG,
	  BIG,
	  { { 0, 999, SYN, "", 0 }, { 0, 1000, 0, "VERY", 0 }, { 0, 1008, 0, "DATA", 0 } },
	  false,
	  "VERY",
	  0,
	  SEG + 4 },
	{ "gap_by_ack",
	  BIG,
	  BIG,
	  { { 0, 999, SYN, "", 0 },
	    { 0, 1000, 0, "AB", 0 },
	    { 0, 1004, 0, "EF", 0 },
	    { 1, 5000, ACK, "", 1006 } },
	  false,
	  "AB[2]EF",
	  1,
	  0 },
	{ "gap_by_ack_nothing_queued",
	  BIG,
	  BIG,
	  { { 0, 999, SYN, "", 0 }, { 0, 1000, 0, "AB", 0 }, { 1, 5000, ACK, "", 1010 } },
	  false,
	  "AB[8]",
	  1,
	  0 },
	{ "ack_of_fin_is_no_gap",
	  BIG,
	  BIG,
	  { { 0, 999, SYN, "", 0 }, { 0, 1000, FIN, "AB", 0 }, { 1, 5000, ACK, "", 1003 } },
	  false,
	  "AB",
	  0,
	  0 },
	{ "wraparound",
	  BIG,
	  BIG,
	  { { 0, W, SYN, "", 0 },
	    { 0, W + 1, 0, "AB", 0 },
	    { 0, W + 3, 0, "CD", 0 },
	    { 0, W + 5, 0, "EF", 0 } },
	  true,
	  "ABCDEF",
	  0,
	  0 },
	{ "wraparound_reordered",
	  BIG,
	  BIG,
	  { { 0, W, SYN, "", 0 },
	    { 0, W + 5, 0, "EF", 0 },
	    { 0, W + 3, 0, "CD", 0 },
	    { 0, W + 1, 0, "AB", 0 } },
	  true,
	  "ABCDEF",
	  0,
	  0 },
	{ "midstream_start",
	  BIG,
	  BIG,
	  { { 0, 5000, 0, "AB", 0 }, { 0, 5002, 0, "CD", 0 } },
	  true,
	  "ABCD",
	  0,
	  0 },
	{ "rst_flushes_and_closes",
	  BIG,
	  BIG,
	  { { 0, 999, SYN, "", 0 },
	    { 0, 1000, 0, "AB", 0 },
	    { 0, 1004, 0, "EF", 0 },
	    { 0, 1006, RST, "", 0 },
	    { 0, 1002, 0, "CD", 0 } },
	  false,
	  "AB[2]EF",
	  1,
	  0 },
	{ "data_after_fin_ignored",
	  BIG,
	  BIG,
	  { { 0, 999, SYN, "", 0 }, { 0, 1000, FIN, "AB", 0 }, { 0, 1003, 0, "CD", 0 } },
	  true,
	  "AB",
	  0,
	  0 },
	{ "fin_out_of_order",
	  BIG,
	  BIG,
	  { { 0, 999, SYN, "", 0 }, { 0, 1002, FIN, "CD", 0 }, { 0, 1000, 0, "AB", 0 } },
	  true,
	  "ABCD",
	  0,
	  0 },
	{ "flow_cap_skips_ahead",
	  SEG + 4,
	  BIG,
	  { { 0, 999, SYN, "", 0 },
	    { 0, 1000, 0, "AB", 0 },
	    { 0, 1004, 0, "EFGH", 0 },
	    { 0, 1010, 0, "KL", 0 } },
	  true,
	  "AB[2]EFGH[2]KL",
	  2,
	  SEG + 2 },
	{ "total_cap_skips_ahead",
	  BIG,
	  SEG + 3,
	  { { 0, 999, SYN, "", 0 },
	    { 0, 1000, 0, "AB", 0 },
	    { 0, 1004, 0, "EF", 0 },
	    { 0, 1008, 0, "IJ", 0 } },
	  true,
	  "AB[2]EF[2]IJ",
	  2,
	  SEG + 2 },
	{ "oversize_segment_skips",
	  BIG,
	  SEG + 2,
	  { { 0, 999, SYN, "", 0 }, { 0, 1000, 0, "AB", 0 }, { 0, 1004, 0, "EFGH", 0 } },
	  true,
	  "AB[2]EFGH",
	  1,
	  0 },
	/* 1-byte segments are charged their overhead: the third one hits the cap */
	{ "overhead_counts",
	  2 * (SEG + 1),
	  BIG,
	  { { 0, 999, SYN, "", 0 },
	    { 0, 1000, 0, "A", 0 },
	    { 0, 1002, 0, "C", 0 },
	    { 0, 1004, 0, "E", 0 },
	    { 0, 1006, 0, "G", 0 } },
	  true,
	  "A[1]C[1]E[1]G",
	  3,
	  2 * (SEG + 1) },
	/* "DxF" fills two holes: the piece F would break the cap, so it is not queued */
	{ "pieces_charged",
	  3 * SEG + 5,
	  BIG,
	  { { 0, 999, SYN, "", 0 },
	    { 0, 1002, 0, "C", 0 },
	    { 0, 1004, 0, "E", 0 },
	    { 0, 1003, 0, "DxF", 0 },
	    { 0, 1000, 0, "AB", 0 },
	    { 0, 1006, 0, "GH", 0 } },
	  true,
	  "ABCDE[1]GH",
	  1,
	  SEG + 2 },
	{ "garbage_far_ahead_ignored",
	  BIG,
	  BIG,
	  { { 0, 999, SYN, "", 0 }, { 0, 1000, 0, "AB", 0 }, { 0, 1000 + (1u << 31), 0, "ZZ", 0 } },
	  true,
	  "AB",
	  0,
	  0 },
	/* exactly 2^31 from next: the serial difference is INT32_MIN, taken as behind */
	{ "garbage_half_the_space_away",
	  BIG,
	  BIG,
	  { { 0, 999, SYN, "", 0 }, { 0, 1000, 0, "AB", 0 }, { 0, 1002 + (1u << 31), 0, "ZZ", 0 } },
	  true,
	  "AB",
	  0,
	  0 },
};

static bool run_case(const struct rcase *c)
{
	struct reasm_opts o = { .max_flow_bytes = c->max_flow, .max_total_bytes = c->max_total };
	struct reasm_cb cb = { .data = on_data, .gap = on_gap };
	struct reasm_dir d[2];
	struct sink s = { .n = 0 };
	struct reasm r;
	bool ok = true;
	size_t i;

	memset(d, 0, sizeof(d));
	reasm_init(&r, &o, &cb);
	for (i = 0; i < MAXSTEPS && c->steps[i].data; i++) {
		const struct step *st = &c->steps[i];

		if (st->dir == 1 && st->ack)
			reasm_ack(&r, &d[0], 0, st->ack, &s);
		reasm_segment(&r, &d[st->dir], st->dir, st->seq, st->flags,
			      (const uint8_t *)st->data, strlen(st->data), &s);
	}
	ok &= ASSERT_EQ(r.st.buffered, c->want_buffered, c->name);
	if (c->flush)
		reasm_flush(&r, &d[0], 0, &s);
	ok &= ASSERT_STREQ(s.out, c->want, c->name);
	ok &= ASSERT_EQ(s.gaps, c->want_gaps, c->name);
	ok &= ASSERT_EQ(d[0].gaps, c->want_gaps, c->name);
	reasm_drop(&r, &d[0]);
	reasm_drop(&r, &d[1]);
	ok &= ASSERT_EQ(r.st.buffered, 0, c->name);
	return ok;
}

static void test_reasm_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(rcases) / sizeof(rcases[0]); i++)
		run_case(&rcases[i]);
}

/* Every permutation of five segments gives the same stream. */
static void test_reasm_permutations(void)
{
	static const char *seg[5] = { "AB", "CD", "EF", "GH", "IJ" };
	int perm[5] = { 0, 1, 2, 3, 4 }, n = 0;
	struct reasm_opts o = { BIG, BIG };
	struct reasm_cb cb = { .data = on_data, .gap = on_gap };

	for (;;) {
		struct reasm_dir d[2];
		struct sink s = { .n = 0 };
		struct reasm r;
		int i, j, k;

		memset(d, 0, sizeof(d));
		reasm_init(&r, &o, &cb);
		reasm_segment(&r, &d[0], 0, 99, SYN, NULL, 0, &s);
		for (i = 0; i < 5; i++)
			reasm_segment(&r, &d[0], 0, 100 + 2 * (uint32_t)perm[i], 0,
				      (const uint8_t *)seg[perm[i]], 2, &s);
		if (!ASSERT_STREQ(s.out, "ABCDEFGHIJ", "permutation"))
			break;
		n++;
		/* next permutation (lexicographic) */
		for (i = 3; i >= 0 && perm[i] > perm[i + 1]; i--)
			;
		if (i < 0)
			break;
		for (j = 4; perm[j] < perm[i]; j--)
			;
		k = perm[i], perm[i] = perm[j], perm[j] = k;
		for (j = i + 1, k = 4; j < k; j++, k--) {
			int t = perm[j];

			perm[j] = perm[k];
			perm[k] = t;
		}
	}
	ASSERT_EQ(n, 120, "permutations run");
}

struct flood {
	uint64_t bytes, gaps;
};

static void flood_data(void *ctx, int dir, const uint8_t *data, size_t len)
{
	(void)dir;
	(void)data;
	((struct flood *)ctx)->bytes += len;
}

static void flood_gap(void *ctx, int dir, uint32_t len)
{
	(void)dir;
	(void)len;
	((struct flood *)ctx)->gaps++;
}

/*
 * 1-byte segments, each after a 1-byte hole, under a 64 KiB cap: what is
 * held (segments fed minus bytes delivered by skipping ahead) costs at most
 * the cap with each segment's overhead counted, every skip is a gap, and
 * all of it comes out at the end.
 */
static void test_reasm_flood_overhead(void)
{
	struct reasm_opts o = { .max_flow_bytes = 64 << 10, .max_total_bytes = BIG };
	struct reasm_cb cb = { .data = flood_data, .gap = flood_gap };
	const uint32_t n = 10000;
	struct flood f = { 0, 0 };
	struct reasm_dir d;
	struct reasm r;
	uint8_t b = 'x';
	uint64_t held;
	uint32_t i;

	memset(&d, 0, sizeof(d));
	reasm_init(&r, &o, &cb);
	reasm_segment(&r, &d, 0, 0, SYN, NULL, 0, &f);
	for (i = 0; i < n; i++)
		reasm_segment(&r, &d, 0, 2 + 2 * i, 0, &b, 1, &f);
	held = n - f.bytes;
	ASSERT_TRUE(held * (1 + SEG) <= o.max_flow_bytes, "held segments fit the cap");
	ASSERT_TRUE(r.st.peak_buffered <= o.max_flow_bytes, "peak under the cap");
	ASSERT_EQ(r.st.buffered, held * (1 + SEG), "buffered charges overhead");
	ASSERT_TRUE(r.st.cap_skips > 0, "cap hit");
	ASSERT_EQ(f.gaps, f.bytes, "one gap per skipped hole");
	reasm_flush(&r, &d, 0, &f);
	ASSERT_EQ(f.bytes, n, "every byte delivered");
	ASSERT_EQ(f.gaps, n, "every hole a gap");
	ASSERT_EQ(r.st.buffered, 0, "nothing held");
}

/*
 * A million 1-byte segments with holes under the default 1 MiB cap: each
 * one is appended at the tail of a queue of ~21000 segments. Walking the
 * queue from its head for each would take ~10^10 steps; this finishes in
 * well under a second by design.
 */
static void test_reasm_flood_tail(void)
{
	struct reasm_opts o = { .max_flow_bytes = BIG, .max_total_bytes = 256 << 20 };
	struct reasm_cb cb = { .data = flood_data, .gap = flood_gap };
	const uint32_t n = 1000000;
	struct flood f = { 0, 0 };
	struct reasm_dir d;
	struct reasm r;
	uint8_t b = 'x';
	uint32_t i;

	memset(&d, 0, sizeof(d));
	reasm_init(&r, &o, &cb);
	reasm_segment(&r, &d, 0, 0, SYN, NULL, 0, &f);
	for (i = 0; i < n; i++)
		reasm_segment(&r, &d, 0, 2 + 2 * i, 0, &b, 1, &f);
	ASSERT_TRUE(r.st.peak_buffered <= o.max_flow_bytes, "peak under the cap");
	ASSERT_TRUE((n - f.bytes) * (1 + SEG) <= o.max_flow_bytes, "held segments fit the cap");
	reasm_drop(&r, &d);
	ASSERT_EQ(r.st.buffered, 0, "dropped");
}

T_MAIN(T_CASE(test_reasm_table), T_CASE(test_reasm_permutations), T_CASE(test_reasm_flood_overhead),
       T_CASE(test_reasm_flood_tail))
