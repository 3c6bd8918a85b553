// SPDX-License-Identifier: GPL-2.0
/* IP reassembly as tables: order, duplicates, overlaps (first wins), limits, timeouts. */
#include <string.h>

#include "lib/dpi/defrag.h"
#include "tests/lib/t.h"

#define NS 1000000000ull
#define A8 "AAAAAAAA"
#define B8 "BBBBBBBB"
#define X8 "XXXXXXXX"

struct fstep {
	uint64_t t_s;
	uint32_t id;
	uint32_t off;
	bool mf;
	const char *data;
	enum defrag_verdict want;
};

struct fcase {
	const char *name;
	uint32_t max_frags, max_dgrams;
	struct fstep steps[8];
	const char *want; /* payload of the last DEFRAG_DONE, or NULL */
	uint64_t want_overlaps, want_timeouts, want_evicted;
};

static const struct fcase fcases[] = {
	{ "in_order",
	  64,
	  16,
	  { { 0, 1, 0, true, A8, DEFRAG_HELD }, { 0, 1, 8, false, "BB", DEFRAG_DONE } },
	  A8 "BB",
	  0,
	  0,
	  0 },
	{ "reversed",
	  64,
	  16,
	  { { 0, 1, 16, false, "CC", DEFRAG_HELD },
	    { 0, 1, 8, true, B8, DEFRAG_HELD },
	    { 0, 1, 0, true, A8, DEFRAG_DONE } },
	  A8 B8 "CC",
	  0,
	  0,
	  0 },
	{ "duplicate",
	  64,
	  16,
	  { { 0, 1, 0, true, A8, DEFRAG_HELD },
	    { 0, 1, 0, true, A8, DEFRAG_DUP },
	    { 0, 1, 8, false, "BB", DEFRAG_DONE } },
	  A8 "BB",
	  0,
	  0,
	  0 },
	{ "overlap_exact_first_wins",
	  64,
	  16,
	  { { 0, 1, 0, true, A8, DEFRAG_HELD },
	    { 0, 1, 0, true, X8, DEFRAG_OVERLAP },
	    { 0, 1, 8, false, "BB", DEFRAG_DONE } },
	  A8 "BB",
	  1,
	  0,
	  0 },
	{ "overlap_partial_first_wins",
	  64,
	  16,
	  { { 0, 1, 0, true, A8 A8, DEFRAG_HELD },
	    { 0, 1, 8, true, X8 X8, DEFRAG_OVERLAP },
	    { 0, 1, 16, false, "CC", DEFRAG_DONE } },
	  A8 A8 "CC",
	  1,
	  0,
	  0 },
	{ "two_last_fragments",
	  64,
	  16,
	  { { 0, 1, 8, false, "BB", DEFRAG_HELD },
	    { 0, 1, 16, false, "CC", DEFRAG_OVERLAP },
	    { 0, 1, 0, true, A8, DEFRAG_DONE } },
	  A8 "BB",
	  1,
	  0,
	  0 },
	{ "beyond_last_fragment",
	  64,
	  16,
	  { { 0, 1, 8, false, "BB", DEFRAG_HELD },
	    { 0, 1, 16, true, A8, DEFRAG_OVERLAP },
	    { 0, 1, 0, true, A8, DEFRAG_DONE } },
	  A8 "BB",
	  1,
	  0,
	  0 },
	{ "too_big",
	  64,
	  16,
	  { { 0, 1, 65512, false, A8 B8, DEFRAG_TOO_BIG }, { 0, 1, 0, true, A8, DEFRAG_REFUSED } },
	  NULL,
	  0,
	  0,
	  0 },
	{ "too_many",
	  2,
	  16,
	  { { 0, 1, 0, true, A8, DEFRAG_HELD },
	    { 0, 1, 8, true, B8, DEFRAG_HELD },
	    { 0, 1, 16, false, "CC", DEFRAG_TOO_MANY },
	    { 0, 1, 24, false, "CC", DEFRAG_REFUSED } },
	  NULL,
	  0,
	  0,
	  0 },
	{ "timeout",
	  64,
	  16,
	  { { 0, 1, 0, true, A8, DEFRAG_HELD }, { 31, 1, 8, false, "BB", DEFRAG_HELD } },
	  NULL,
	  0,
	  1,
	  0 },
	{ "within_timeout",
	  64,
	  16,
	  { { 0, 1, 0, true, A8, DEFRAG_HELD }, { 29, 1, 8, false, "BB", DEFRAG_DONE } },
	  A8 "BB",
	  0,
	  0,
	  0 },
	{ "max_datagrams_evicts_oldest",
	  64,
	  2,
	  { { 0, 1, 0, true, A8, DEFRAG_HELD },
	    { 0, 2, 0, true, A8, DEFRAG_HELD },
	    { 0, 3, 0, true, A8, DEFRAG_HELD },
	    { 0, 1, 8, false, "BB", DEFRAG_HELD },
	    { 0, 3, 8, false, "CC", DEFRAG_DONE } },
	  A8 "CC",
	  0,
	  0,
	  2 },
	{ "ids_kept_apart",
	  64,
	  16,
	  { { 0, 1, 0, true, A8, DEFRAG_HELD },
	    { 0, 2, 0, true, X8, DEFRAG_HELD },
	    { 0, 2, 8, false, "YY", DEFRAG_DONE },
	    { 0, 1, 8, false, "BB", DEFRAG_DONE } },
	  A8 "BB",
	  0,
	  0,
	  0 },
};

static void test_defrag_table(void)
{
	static const uint8_t src[16] = { 10, 0, 0, 1 }, dst[16] = { 10, 0, 0, 2 };
	size_t i, j;

	for (i = 0; i < sizeof(fcases) / sizeof(fcases[0]); i++) {
		const struct fcase *c = &fcases[i];
		struct defrag_opts o = { .max_datagrams = c->max_dgrams,
					 .max_frags = c->max_frags,
					 .max_bytes = 1 << 20,
					 .timeout_ns = 30 * NS };
		struct defrag *d = defrag_new(&o);
		char got[128] = "";

		if (!ASSERT_TRUE(d != NULL, c->name))
			continue;
		for (j = 0; j < 8 && c->steps[j].data; j++) {
			const struct fstep *s = &c->steps[j];
			struct dec_frag f = { .af = 4,
					      .proto = 17,
					      .mf = s->mf,
					      .id = s->id,
					      .offset = s->off,
					      .data = (const uint8_t *)s->data,
					      .len = strlen(s->data) };
			const uint8_t *out = NULL;
			size_t len = 0;
			enum defrag_verdict v;

			v = defrag_add(d, s->t_s * NS, src, dst, &f, &out, &len);
			ASSERT_EQ(v, s->want, c->name);
			if (v == DEFRAG_DONE && len < sizeof(got)) {
				memcpy(got, out, len);
				got[len] = '\0';
			}
		}
		if (c->want)
			ASSERT_STREQ(got, c->want, c->name);
		ASSERT_EQ(defrag_stats(d)->overlaps, c->want_overlaps, c->name);
		ASSERT_EQ(defrag_stats(d)->timeouts, c->want_timeouts, c->name);
		ASSERT_EQ(defrag_stats(d)->evicted, c->want_evicted, c->name);
		defrag_free(d);
	}
}

/* A flood of never-completed datagrams stays within the caps. */
static void test_defrag_flood(void)
{
	struct defrag_opts o = {
		.max_datagrams = 100, .max_frags = 4, .max_bytes = 64 * 1024, .timeout_ns = 30 * NS
	};
	static const uint8_t src[16] = { 10, 0, 0, 1 }, dst[16] = { 10, 0, 0, 2 };
	static uint8_t junk[1480];
	struct defrag *d = defrag_new(&o);
	const struct defrag_stats *st;
	uint32_t i;

	if (!ASSERT_TRUE(d != NULL, "new"))
		return;
	for (i = 0; i < 200000; i++) {
		struct dec_frag f = { .af = 4,
				      .proto = 17,
				      .mf = true,
				      .id = i % 5000,
				      .offset = (i / 5000) % 32 * 1480,
				      .data = junk,
				      .len = sizeof(junk) };
		const uint8_t *out;
		size_t len;

		defrag_add(d, (uint64_t)i * 1000, src, dst, &f, &out, &len);
	}
	st = defrag_stats(d);
	ASSERT_TRUE(st->peak_active <= 100, "datagram cap");
	ASSERT_TRUE(st->peak_bytes <= 64 * 1024, "byte cap");
	ASSERT_TRUE(st->evicted > 0, "evictions counted");
	ASSERT_TRUE(st->nomem + st->too_many > 0, "refusals counted");
	defrag_free(d);
}

T_MAIN(T_CASE(test_defrag_table), T_CASE(test_defrag_flood))
