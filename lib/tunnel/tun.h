/* SPDX-License-Identifier: GPL-2.0 */
/* TUN devices, their address, MTU and routes (ioctl and rtnetlink; no ip(8)). */
#ifndef CG_TUNNEL_TUN_H
#define CG_TUNNEL_TUN_H

#include <stddef.h>

#include "lib/base/addr.h"

enum tun_open_flags {
	TUN_OPEN_VNET_HDR = 1U << 0,	/* IFF_VNET_HDR: a virtio_net_hdr before each packet */
	TUN_OPEN_MULTI_QUEUE = 1U << 1, /* IFF_MULTI_QUEUE: one fd (queue) per worker */
};

/*
 * MTUs of the tunnel (docs/tunnel.md, "MTU"). TUN_MTU_FALLBACK is what a TUN
 * gets when the outer path's MTU cannot be learnt; TUN_MTU_MIN is the least
 * an IPv4 host must take (RFC 791) and TUN_MTU_MIN_V6 the least IPv6 allows
 * (RFC 8200): below it the kernel turns IPv6 off on the device.
 */
#define TUN_MTU_FALLBACK 1400
#define TUN_MTU_MIN 68
#define TUN_MTU_MIN_V6 1280

/*
 * The inner MTU that fits an outer path of outer_mtu bytes reached over
 * outer_family (AF_INET or AF_INET6): outer_mtu minus the outer IP header
 * (20 or 40), UDP (8) and the tunnel's header and tag (WIRE_OVERHEAD, 32):
 * 1500 gives 1440 over IPv4 and 1420 over IPv6. Not clamped up: an inner MTU
 * below TUN_MTU_MIN_V6 (an IPv6 outer path under 1360, IPv4 under 1340) is
 * returned as it is and carries IPv4 only. 0 when even TUN_MTU_MIN does not
 * fit, for another family, or for outer_mtu above 65535.
 */
unsigned int tun_mtu_for(int outer_family, unsigned int outer_mtu);

/*
 * Create a TUN device (IFF_TUN | IFF_NO_PI: the fd reads and writes bare IP
 * packets), non-blocking and close-on-exec. name may contain "%d" or be NULL
 * or "" (the kernel picks "tunN"); the actual name goes to actual (len >=
 * IFNAMSIZ). flags: enum tun_open_flags (0: one queue, no vnet header).
 * With TUN_OPEN_MULTI_QUEUE, calling again with the actual name and the same
 * flags opens one more queue of that device (the kernel spreads flows over
 * the queues). Returns the fd or -errno. The device is not persistent:
 * closing its last fd deletes it, with its addresses and routes.
 */
int tun_open(const char *name, unsigned int flags, char *actual, size_t len);

/*
 * Give ifname an address (if addr is not NULL: addr->addr is the address,
 * host bits allowed, and addr->plen its prefix), set the MTU (if mtu != 0)
 * and bring it up. An address already present is not an error. Returns 0 or
 * -errno (-ENODEV: no such interface).
 */
int tun_configure(const char *ifname, const struct cidr *addr, unsigned int mtu);

/*
 * Turns IPv6 off on ifname, for a tunnel that carries IPv4 only: otherwise
 * the kernel sends router solicitations and MLD reports from a link-local
 * address into it, which the gate refuses (their source is not the session's
 * address) and counts. 0 (also when the kernel has no IPv6) or -errno.
 */
int tun_no_ipv6(const char *ifname);

/*
 * Route dst (IPv4 or IPv6) to ifname in the main table. The same route
 * already present is not an error; a different route to dst (another
 * interface) is -EEXIST. Returns 0 or -errno.
 */
int route_add(const struct cidr *dst, const char *ifname);

/* Remove that route. Returns 0, -ENOENT if there is none, or -errno. */
int route_del(const struct cidr *dst, const char *ifname);

#endif
