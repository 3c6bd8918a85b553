/* SPDX-License-Identifier: GPL-2.0 */
/* Maglev consistent hashing (Eisenbud et al., NSDI 2016, section 3.4): the lookup table. */
#ifndef CG_LB_MAGLEV_H
#define CG_LB_MAGLEV_H

#include <stddef.h>
#include <stdint.h>

/* The table's empty entry: no backend (every weight 0). Same value as the datapath's. */
#define MAGLEV_EMPTY UINT32_MAX

/* One backend as the builder sees it: a stable name to hash, a weight, the slot to write. */
struct maglev_backend {
	const char *name; /* "ADDR:PORT" or any text stable across rebuilds */
	uint32_t weight;  /* 0: not in the table */
	uint32_t slot;	  /* the value written to the table (lb_backends index) */
};

/*
 * Fills table[0..size) (size a prime) with the slots of the backends of
 * weight > 0, in proportion to their weights, by the paper's population:
 * backend i's permutation has offset = h1(name) % size, skip = h2(name) %
 * (size - 1) + 1 (h1, h2: SipHash-2-4 of the name under two keys derived from
 * seed, libsodium's crypto_shorthash); a backend of weight w takes w turns
 * per round. Deterministic for the same input (order of backends[] included).
 * With no backend of weight > 0 every entry is MAGLEV_EMPTY.
 * Returns 0, -EINVAL (size not a prime, size < 2, n > size, a weight sum
 * over size), -ENOMEM.
 */
int maglev_build(const struct maglev_backend *backends, size_t n, uint32_t seed, uint32_t *table,
		 uint32_t size);

/* True if n is prime (trial division; for sizes up to 2^32). */
int maglev_is_prime(uint32_t n);

#endif
