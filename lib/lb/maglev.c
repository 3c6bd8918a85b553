// SPDX-License-Identifier: GPL-2.0
/* Maglev consistent hashing: the lookup table (Eisenbud et al., NSDI 2016, 3.4). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/lb/maglev.h"

int maglev_is_prime(uint32_t n)
{
	uint32_t d;

	if (n < 2)
		return 0;
	for (d = 2; (uint64_t)d * d <= n; d++)
		if (n % d == 0)
			return 0;
	return 1;
}

/* h1/h2: SipHash-2-4 of the name under two keys made from the seed. */
static uint64_t name_hash(const char *name, uint32_t seed, uint8_t which)
{
	unsigned char key[crypto_shorthash_KEYBYTES] = { 0 }, out[crypto_shorthash_BYTES];
	uint64_t h;

	memcpy(key, &seed, sizeof(seed));
	key[sizeof(seed)] = which;
	crypto_shorthash(out, (const unsigned char *)name, strlen(name), key);
	memcpy(&h, out, sizeof(h));
	return h;
}

int maglev_build(const struct maglev_backend *b, size_t n, uint32_t seed, uint32_t *table,
		 uint32_t size)
{
	uint64_t *offset = NULL, *skip = NULL, *next = NULL, wsum = 0;
	uint32_t filled = 0, i;
	size_t k;
	uint32_t turn;

	if (size < 2 || !maglev_is_prime(size) || n > size)
		return -EINVAL;
	for (k = 0; k < n; k++)
		wsum += b[k].weight;
	if (wsum > size)
		return -EINVAL;
	for (i = 0; i < size; i++)
		table[i] = MAGLEV_EMPTY;
	if (!wsum)
		return 0;
	offset = calloc(n, sizeof(*offset));
	skip = calloc(n, sizeof(*skip));
	next = calloc(n, sizeof(*next));
	if (!offset || !skip || !next) {
		free(offset);
		free(skip);
		free(next);
		return -ENOMEM;
	}
	for (k = 0; k < n; k++) {
		offset[k] = name_hash(b[k].name, seed, 1) % size;
		skip[k] = name_hash(b[k].name, seed, 2) % (size - 1) + 1;
	}
	/* Each round, a backend of weight w takes w turns: the next free entry of its permutation.
	 */
	while (filled < size) {
		for (k = 0; k < n && filled < size; k++) {
			for (turn = 0; turn < b[k].weight && filled < size; turn++) {
				uint32_t c;

				do {
					c = (uint32_t)((offset[k] + next[k] * skip[k]) % size);
					next[k]++;
				} while (table[c] != MAGLEV_EMPTY);
				table[c] = b[k].slot;
				filled++;
			}
		}
	}
	free(offset);
	free(skip);
	free(next);
	return 0;
}
