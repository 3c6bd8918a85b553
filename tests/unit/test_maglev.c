// SPDX-License-Identifier: GPL-2.0
/* The Maglev builder: balance, weights, disruption on removal and addition, errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/lb.h"
#include "lib/lb/maglev.h"
#include "tests/lib/t.h"

static char names[128][32];

static void backends(struct maglev_backend *b, size_t n, size_t from)
{
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "10.0.%zu.%zu:80", (from + i) / 250,
			 (from + i) % 250 + 1);
		b[i] = (struct maglev_backend){ .name = names[i],
						.weight = 1,
						.slot = (uint32_t)(from + i) };
	}
}

static void count(const uint32_t *t, uint32_t *c, size_t n)
{
	uint32_t i;

	memset(c, 0, n * sizeof(*c));
	for (i = 0; i < LB_RING_SIZE; i++)
		if (t[i] < n)
			c[t[i]]++;
}

static void test_balance(void)
{
	static uint32_t t[LB_RING_SIZE], c[128];
	struct maglev_backend b[100];
	size_t sizes[] = { 3, 10, 100 }, k, i;

	for (k = 0; k < 3; k++) {
		size_t n = sizes[k];
		double want = (double)LB_RING_SIZE / (double)n;

		backends(b, n, 0);
		if (!ASSERT_EQ(maglev_build(b, n, 0, t, LB_RING_SIZE), 0, "build"))
			return;
		count(t, c, n);
		for (i = 0; i < n; i++)
			if (!ASSERT_TRUE(c[i] > want * 0.97 && c[i] < want * 1.03, "within 3 %")) {
				fprintf(stderr, "n=%zu backend %zu has %u of %.0f\n", n, i, c[i],
					want);
				return;
			}
	}
}

static void test_weights(void)
{
	static uint32_t t[LB_RING_SIZE], c[3];
	struct maglev_backend b[3];
	int i;

	backends(b, 3, 0);
	for (i = 0; i < 3; i++)
		b[i].weight = (uint32_t)i + 1;
	ASSERT_EQ(maglev_build(b, 3, 7, t, LB_RING_SIZE), 0, "build");
	count(t, c, 3);
	for (i = 0; i < 3; i++) {
		double share = (double)c[i] / LB_RING_SIZE, want = (i + 1) / 6.0;

		if (!ASSERT_TRUE(share > want - 0.02 && share < want + 0.02, "share within 2 %"))
			fprintf(stderr, "weight %d: share %.4f, want %.4f\n", i + 1, share, want);
	}
}

/* Entries that changed owner between two tables, other than those of `gone` (or to `added`). */
static size_t moved(const uint32_t *a, const uint32_t *b, uint32_t gone, uint32_t added)
{
	size_t i, n = 0;

	for (i = 0; i < LB_RING_SIZE; i++)
		if (a[i] != b[i] && a[i] != gone && b[i] != added)
			n++;
	return n;
}

static void test_disruption(void)
{
	static uint32_t before[LB_RING_SIZE], after[LB_RING_SIZE];
	struct maglev_backend b[101];
	size_t sizes[] = { 3, 10, 100 }, k, i, to_new;

	for (k = 0; k < 3; k++) {
		size_t n = sizes[k];

		backends(b, n, 0);
		ASSERT_EQ(maglev_build(b, n, 0, before, LB_RING_SIZE), 0, "build");
		/* Remove backend 1: only its entries should move, plus at most 1 %. */
		memmove(&b[1], &b[2], (n - 2) * sizeof(b[0]));
		ASSERT_EQ(maglev_build(b, n - 1, 0, after, LB_RING_SIZE), 0, "build without one");
		if (!ASSERT_TRUE(moved(before, after, 1, UINT32_MAX) <= LB_RING_SIZE / 100,
				 "removal moves <= 1 % beyond the removed backend's entries"))
			fprintf(stderr, "n=%zu: %zu extra moved\n", n,
				moved(before, after, 1, UINT32_MAX));
		/* Add one to n: at most 1/(n+1) + 1 % of entries move, all of them to it. */
		backends(b, n + 1, 0);
		ASSERT_EQ(maglev_build(b, n, 0, before, LB_RING_SIZE), 0, "build n");
		ASSERT_EQ(maglev_build(b, n + 1, 0, after, LB_RING_SIZE), 0, "build n + 1");
		for (i = 0, to_new = 0; i < LB_RING_SIZE; i++)
			to_new += before[i] != after[i];
		if (!ASSERT_TRUE((double)to_new / LB_RING_SIZE <= 1.0 / (double)(n + 1) + 0.01,
				 "addition moves <= 1/(n+1) + 1 %"))
			fprintf(stderr, "n=%zu: %zu moved\n", n, to_new);
		ASSERT_TRUE(moved(before, after, UINT32_MAX, (uint32_t)n) <= LB_RING_SIZE / 100,
			    "what moves goes to the new backend (<= 1 % elsewhere)");
	}
}

static void test_deterministic_and_errors(void)
{
	static uint32_t a[LB_RING_SIZE], c[LB_RING_SIZE];
	struct maglev_backend b[3];
	uint32_t small[10];
	size_t i;

	backends(b, 3, 0);
	ASSERT_EQ(maglev_build(b, 3, 42, a, LB_RING_SIZE), 0, "build");
	ASSERT_EQ(maglev_build(b, 3, 42, c, LB_RING_SIZE), 0, "again");
	ASSERT_TRUE(!memcmp(a, c, sizeof(a)), "the same table");
	ASSERT_EQ(maglev_build(b, 3, 43, c, LB_RING_SIZE), 0, "other seed");
	ASSERT_TRUE(memcmp(a, c, sizeof(a)), "another table");
	ASSERT_EQ(maglev_build(b, 3, 0, small, 10), -EINVAL, "size not a prime");
	ASSERT_EQ(maglev_build(b, 3, 0, small, 2), -EINVAL, "more backends than entries");
	ASSERT_EQ(maglev_build(b, 3, 0, small, 1), -EINVAL, "size 1");
	for (i = 0; i < 3; i++)
		b[i].weight = 0;
	ASSERT_EQ(maglev_build(b, 3, 0, a, LB_RING_SIZE), 0, "no weight");
	for (i = 0; i < LB_RING_SIZE; i++)
		if (!ASSERT_EQ(a[i], MAGLEV_EMPTY, "every entry empty"))
			break;
	ASSERT_TRUE(maglev_is_prime(65537) && !maglev_is_prime(65535) && maglev_is_prime(2),
		    "primes");
}

T_MAIN(T_CASE(test_balance), T_CASE(test_weights), T_CASE(test_disruption),
       T_CASE(test_deterministic_and_errors))
