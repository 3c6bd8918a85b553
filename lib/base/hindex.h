/* SPDX-License-Identifier: GPL-2.0 */
/* An open-addressing hash index over an array the caller owns: entry i by its key's hash. */
#ifndef CG_BASE_HINDEX_H
#define CG_BASE_HINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The caller keeps its entries in an array and tells the index each one's
 * hash (hindex_hash); the index holds their positions, at most half full.
 * Zeroed: an empty index.
 */
struct hindex {
	uint32_t *slots; /* entry index + 1, 0 = empty */
	size_t nslots;	 /* 0 or a power of two */
};

/* FNV-1a 64 of n bytes, continuing from h (start with HINDEX_SEED). */
#define HINDEX_SEED 0xcbf29ce484222325ULL
uint64_t hindex_hash(uint64_t h, const void *p, size_t n);

/* hash(ctx, i): entry i's hash; eq(ctx, i, key): entry i has this key. */
typedef uint64_t (*hindex_hash_fn)(const void *ctx, size_t i);
typedef bool (*hindex_eq_fn)(const void *ctx, size_t i, const void *key);

/*
 * Indexes entries 0..n-1 in a table with room for at least want entries
 * (want >= n): a new table only if the one there is too small. 0 or -ENOMEM
 * (the index is then unchanged).
 */
int hindex_build(struct hindex *h, size_t n, size_t want, hindex_hash_fn hash, const void *ctx);
/* Adds entry i (the table has room: built with want > i). */
void hindex_put(struct hindex *h, size_t i, uint64_t hash);
/* The index of the entry with key (and this hash), or -1. */
long hindex_find(const struct hindex *h, uint64_t hash, hindex_eq_fn eq, const void *ctx,
		 const void *key);
void hindex_free(struct hindex *h);

#endif
