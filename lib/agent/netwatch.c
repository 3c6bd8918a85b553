// SPDX-License-Identifier: GPL-2.0
/* The client's own network: rtnetlink change events, and whether a channel's source moved. */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/agent/netwatch.h"
#include "lib/base/addr.h"

int netwatch_open(void)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR |
			     RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE,
	};
	int fd, e;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

bool netwatch_drain(int fd)
{
	char buf[8192];
	bool any = false;
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0) {
			any = true;
			continue;
		}
		/* Events lost to a full queue are changes too. */
		if (n < 0 && errno == ENOBUFS) {
			any = true;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return any;
	}
}

/* A datagram socket of ss's family bound to ss's address (port 0): 0, or -errno (-EADDRNOTAVAIL).
 */
static int still_local(const struct sockaddr_storage *ss, socklen_t len)
{
	struct sockaddr_storage a = *ss;
	int fd, e = 0;

	if (a.ss_family == AF_INET)
		((struct sockaddr_in *)&a)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&a)->sin6_port = 0;
	fd = socket(a.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&a, len))
		e = -errno;
	close(fd);
	return e;
}

/* The source the kernel picks now to reach peer (a UDP connect: a route lookup, no packet). */
static int source_for(const struct sockaddr_storage *peer, socklen_t len, uint8_t src[16])
{
	struct sockaddr_storage s;
	socklen_t slen = sizeof(s);
	int fd, e = 0;

	fd = socket(peer->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)peer, len) ||
	    getsockname(fd, (struct sockaddr *)&s, &slen))
		e = -errno;
	else
		e = addr_sockaddr_mapped((struct sockaddr *)&s, src);
	close(fd);
	return e;
}

bool netwatch_moved(int fd, const uint8_t except[16])
{
	struct sockaddr_storage local, peer;
	socklen_t llen = sizeof(local), plen = sizeof(peer);
	uint8_t have[16], now[16];
	int e;

	if (getsockname(fd, (struct sockaddr *)&local, &llen) ||
	    getpeername(fd, (struct sockaddr *)&peer, &plen) ||
	    addr_sockaddr_mapped((struct sockaddr *)&local, have))
		return false;
	if (still_local(&local, llen) == -EADDRNOTAVAIL)
		return true;
	e = source_for(&peer, plen, now);
	if (e)
		return e == -ENETUNREACH || e == -EHOSTUNREACH;
	return memcmp(now, have, 16) && !(except && !memcmp(now, except, 16));
}
