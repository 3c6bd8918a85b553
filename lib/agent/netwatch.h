/* SPDX-License-Identifier: GPL-2.0 */
/* The client's own network: rtnetlink change events, and whether a channel's source moved. */
#ifndef CG_AGENT_NETWATCH_H
#define CG_AGENT_NETWATCH_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A NETLINK_ROUTE socket subscribed to link, address and route changes,
 * IPv4 and IPv6 (RTMGRP_LINK, RTMGRP_IPV4/6_IFADDR, RTMGRP_IPV4/6_ROUTE);
 * non-blocking, close-on-exec. Poll it for POLLIN. The fd, or -errno.
 */
int netwatch_open(void);

/* Reads every queued event. True if any came (or the queue overflowed: something changed). */
bool netwatch_drain(int fd);

/*
 * Whether the network under the connected socket fd moved away from it: its
 * local address is no longer this host's, the kernel has no route to its
 * peer any more (ENETUNREACH, EHOSTUNREACH), or would reach the peer from another address (other
 * than except, 16 bytes IPv4-mapped, the tunnel's own address; NULL = none). Only route lookups,
 * nothing is sent. False if fd's addresses cannot be read.
 */
bool netwatch_moved(int fd, const uint8_t except[16]);

#endif
