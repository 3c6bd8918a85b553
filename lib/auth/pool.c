// SPDX-License-Identifier: GPL-2.0
/* Virtual address pool: a bitmap over the client addresses and a lowest-free hint. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/auth/pool.h"

/*
 * Client address i (0-based) is network + 2 + i, for i < size. Every index
 * below hint is allocated, so the lowest free one is found from hint on.
 */
struct vip_pool {
	uint32_t network; /* host order */
	uint32_t size;
	uint32_t used;
	uint32_t hint;
	uint64_t bits[]; /* bit i set: client address i allocated */
};

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static void to_mapped(uint32_t host, uint8_t out[16])
{
	uint32_t be = htonl(host);

	memcpy(out, v4mapped, sizeof(v4mapped));
	memcpy(out + 12, &be, 4);
}

/* Index of a client address of the pool, or -1. */
static int64_t index_of(const struct vip_pool *pool, const uint8_t addr[16])
{
	uint32_t be, a;

	if (memcmp(addr, v4mapped, sizeof(v4mapped)))
		return -1;
	memcpy(&be, addr + 12, 4);
	a = ntohl(be);
	if (a < pool->network + 2 || a - (pool->network + 2) >= pool->size)
		return -1;
	return (int64_t)(a - (pool->network + 2));
}

static bool bit_get(const struct vip_pool *pool, uint32_t i)
{
	return pool->bits[i / 64] & (1ULL << (i % 64));
}

struct vip_pool *pool_new(const struct cidr *prefix)
{
	struct vip_pool *pool;
	uint32_t net, size;
	size_t words;

	if (prefix->family != AF_INET || prefix->plen < 8 || prefix->plen > 30) {
		errno = EINVAL;
		return NULL;
	}
	memcpy(&net, prefix->addr, 4);
	size = (1U << (32 - prefix->plen)) - 3;
	words = (size + 63) / 64;
	pool = calloc(1, sizeof(*pool) + words * sizeof(pool->bits[0]));
	if (!pool)
		return NULL;
	pool->network = ntohl(net) & ~((1U << (32 - prefix->plen)) - 1);
	pool->size = size;
	return pool;
}

void pool_free(struct vip_pool *pool)
{
	free(pool);
}

int pool_alloc(struct vip_pool *pool, uint8_t out[16])
{
	uint32_t w, i, words = (pool->size + 63) / 64;
	uint64_t free_bits;

	for (w = pool->hint / 64; w < words; w++) {
		free_bits = ~pool->bits[w];
		if (w == pool->hint / 64)
			free_bits &= ~0ULL << (pool->hint % 64);
		if (!free_bits)
			continue;
		i = w * 64 + (uint32_t)__builtin_ctzll(free_bits);
		if (i >= pool->size)
			break;
		pool->bits[w] |= 1ULL << (i % 64);
		pool->used++;
		pool->hint = i + 1;
		to_mapped(pool->network + 2 + i, out);
		return 0;
	}
	pool->hint = pool->size;
	return -ENOSPC;
}

int pool_release(struct vip_pool *pool, const uint8_t addr[16])
{
	int64_t idx = index_of(pool, addr);
	uint32_t i;

	if (idx < 0 || !bit_get(pool, (uint32_t)idx))
		return -ENOENT;
	i = (uint32_t)idx;
	pool->bits[i / 64] &= ~(1ULL << (i % 64));
	pool->used--;
	if (i < pool->hint)
		pool->hint = i;
	return 0;
}

void pool_release_all(struct vip_pool *pool)
{
	memset(pool->bits, 0, (pool->size + 63) / 64 * sizeof(pool->bits[0]));
	pool->used = 0;
	pool->hint = 0;
}

bool pool_is_allocated(const struct vip_pool *pool, const uint8_t addr[16])
{
	int64_t idx = index_of(pool, addr);

	return idx >= 0 && bit_get(pool, (uint32_t)idx);
}

size_t pool_used(const struct vip_pool *pool)
{
	return pool->used;
}

size_t pool_size(const struct vip_pool *pool)
{
	return pool->size;
}

void pool_gateway_addr(const struct vip_pool *pool, uint8_t out[16])
{
	to_mapped(pool->network + 1, out);
}
