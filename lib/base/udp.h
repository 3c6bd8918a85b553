/* SPDX-License-Identifier: GPL-2.0 */
/* UDP sockets of the gateway and the agent: dual-stack, non-blocking, close-on-exec. */
#ifndef CG_BASE_UDP_H
#define CG_BASE_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * An AF_INET6 socket (IPv4 too, as ::ffff:a.b.c.d) bound to port on every
 * address; with reuseport, SO_REUSEPORT, so that several sockets share the
 * port and the kernel spreads flows over them (by their addresses and ports).
 * Returns the fd or -errno.
 */
int udp_bind(uint16_t port, bool reuseport);

/* An AF_INET6 socket connected to addr (16 bytes, IPv4-mapped for IPv4) and port. fd or -errno. */
int udp_connect(const uint8_t addr[16], uint16_t port);

/* One datagram of len bytes to addr and port, from a socket of its own. 0 or -errno. */
int udp_send_once(const uint8_t addr[16], uint16_t port, const void *buf, size_t len);

#endif
