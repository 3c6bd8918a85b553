/* SPDX-License-Identifier: GPL-2.0 */
/* Virtual address pool: the clients' addresses out of [auth] pool, lowest free first. */
#ifndef CG_AUTH_POOL_H
#define CG_AUTH_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/addr.h"

/*
 * An IPv4 prefix /8../30. Not handed out: the network address, the broadcast
 * address and the first host address, which the gateway's TUN takes. A /24
 * gives clients .2 to .254 (253 addresses), a /30 exactly one (.2).
 * Addresses are in the 16-byte mapped form (::ffff:a.b.c.d).
 */
struct vip_pool;

/*
 * A pool over the prefix, all free. Returns NULL with errno EINVAL (not IPv4
 * /8../30) or ENOMEM. pool_free releases it.
 */
struct vip_pool *pool_new(const struct cidr *prefix);

/* Frees the pool and every address in it. Accepts NULL. */
void pool_free(struct vip_pool *pool);

/* Takes the lowest free client address into out. 0, or -ENOSPC (out untouched). */
int pool_alloc(struct vip_pool *pool, uint8_t out[16]);

/* Gives an address back. 0, or -ENOENT if it is not a client address now allocated. */
int pool_release(struct vip_pool *pool, const uint8_t addr[16]);

/* Gives every address back. */
void pool_release_all(struct vip_pool *pool);

/* True if addr is a client address of the pool that is allocated. */
bool pool_is_allocated(const struct vip_pool *pool, const uint8_t addr[16]);

/* Addresses allocated now / client addresses in all (2^(32-plen) - 3). */
size_t pool_used(const struct vip_pool *pool);
size_t pool_size(const struct vip_pool *pool);

/* The first host address (network + 1): the gateway's own address in the pool. */
void pool_gateway_addr(const struct vip_pool *pool, uint8_t out[16]);

#endif
