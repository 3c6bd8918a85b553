// SPDX-License-Identifier: GPL-2.0
/* An open-addressing hash index over an array the caller owns: entry i by its key's hash. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/hindex.h"

uint64_t hindex_hash(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ULL;
	return h;
}

void hindex_put(struct hindex *h, size_t i, uint64_t hash)
{
	size_t k = hash & (h->nslots - 1);

	while (h->slots[k])
		k = (k + 1) & (h->nslots - 1);
	h->slots[k] = (uint32_t)i + 1;
}

int hindex_build(struct hindex *h, size_t n, size_t want, hindex_hash_fn hash, const void *ctx)
{
	size_t nslots = 16, i;
	uint32_t *slots;

	while (nslots < want * 2)
		nslots *= 2;
	if (nslots > h->nslots) {
		slots = calloc(nslots, sizeof(*slots));
		if (!slots)
			return -ENOMEM;
		free(h->slots);
		h->slots = slots;
		h->nslots = nslots;
	} else {
		memset(h->slots, 0, h->nslots * sizeof(*h->slots));
	}
	for (i = 0; i < n; i++)
		hindex_put(h, i, hash(ctx, i));
	return 0;
}

long hindex_find(const struct hindex *h, uint64_t hash, hindex_eq_fn eq, const void *ctx,
		 const void *key)
{
	size_t k;

	if (!h->nslots)
		return -1;
	for (k = hash & (h->nslots - 1); h->slots[k]; k = (k + 1) & (h->nslots - 1))
		if (eq(ctx, h->slots[k] - 1, key))
			return (long)h->slots[k] - 1;
	return -1;
}

void hindex_free(struct hindex *h)
{
	free(h->slots);
	h->slots = NULL;
	h->nslots = 0;
}
