/* SPDX-License-Identifier: GPL-2.0 */
/* The gateway's own addresses in the gate_local map: the "self" of open services and doors. */
#ifndef CG_DATAPATH_LOCAL_H
#define CG_DATAPATH_LOCAL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Makes the map (fd: gate_local, 16-byte key -> __u32) hold exactly the
 * IPv4 and IPv6 addresses of every interface of this network namespace
 * (getifaddrs), IPv4 as ::ffff:a.b.c.d, and the nextra addresses of extra
 * (the balancer's VIPs, which are the gateway's too): adds the new ones before it removes
 * the gone ones, so an address that stays is never missing. At most
 * CG_LOCAL_MAX (abi/gate.h) addresses; more is -E2BIG, with the first
 * CG_LOCAL_MAX written. Returns the number of addresses or a negative errno.
 */
int local_addrs_sync(int fd, const uint8_t (*extra)[16], size_t nextra);

#endif
