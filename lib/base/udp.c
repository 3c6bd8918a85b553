// SPDX-License-Identifier: GPL-2.0
/* UDP sockets: bound (gateway ports) or connected (the agent's). */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/base/udp.h"

static int udp_new(void)
{
	int fd, zero = 0;

	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	return fd;
}

int udp_bind(uint16_t port, bool reuseport)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	int fd = udp_new(), one = 1, e;

	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if ((reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one))) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

int udp_connect(const uint8_t addr[16], uint16_t port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	int fd = udp_new(), e;

	if (fd < 0)
		return fd;
	memcpy(&sa.sin6_addr, addr, 16);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

int udp_send_once(const uint8_t addr[16], uint16_t port, const void *buf, size_t len)
{
	int fd = udp_connect(addr, port), err = 0;

	if (fd < 0)
		return fd;
	if (send(fd, buf, len, 0) != (ssize_t)len)
		err = -errno;
	close(fd);
	return err;
}
