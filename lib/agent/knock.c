// SPDX-License-Identifier: GPL-2.0
/* Port knocking, client side: one SYN or one datagram per step. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/agent/knock.h"
#include "lib/base/portspec.h"

static void pause_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int send_step(const struct addrinfo *ai, const struct cg_port *step)
{
	struct sockaddr_storage sa;
	static const char payload = 0;
	int fd = -1, ret;

	memcpy(&sa, ai->ai_addr, ai->ai_addrlen);
	if (sa.ss_family == AF_INET)
		((struct sockaddr_in *)&sa)->sin_port = step->port;
	else
		((struct sockaddr_in6 *)&sa)->sin6_port = step->port;

	if (step->proto == IPPROTO_TCP)
		fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	else
		fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	if (step->proto == IPPROTO_TCP) {
		/*
		 * connect() sends the SYN before it returns EINPROGRESS; closing
		 * a socket in SYN-SENT sends nothing more, so no retransmission
		 * can be taken for a second knock.
		 */
		if (connect(fd, (struct sockaddr *)&sa, ai->ai_addrlen) && errno != EINPROGRESS &&
		    errno != ECONNREFUSED) {
			ret = -errno;
			goto out;
		}
	} else if (sendto(fd, &payload, 1, 0, (struct sockaddr *)&sa, ai->ai_addrlen) != 1) {
		ret = -errno;
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

int knock_send(const char *host, const struct cg_port *steps, size_t n, unsigned int gap_ms,
	       char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM };
	struct addrinfo *res = NULL;
	char port[16];
	size_t i;
	int ret, gai;

	if (!host || !*host || !n) {
		snprintf(err, errlen, "no host or no knock steps");
		return -EINVAL;
	}
	for (i = 0; i < n; i++)
		if ((steps[i].proto != IPPROTO_TCP && steps[i].proto != IPPROTO_UDP) ||
		    !steps[i].port) {
			snprintf(err, errlen, "step %zu: not a tcp or udp port", i + 1);
			return -EINVAL;
		}
	gai = getaddrinfo(host, NULL, &hints, &res);
	if (gai) {
		ret = gai == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
		snprintf(err, errlen, "%s: %s", host,
			 gai == EAI_SYSTEM ? strerror(-ret) : gai_strerror(gai));
		res = NULL;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (i && gap_ms)
			pause_ms(gap_ms);
		ret = send_step(res, &steps[i]);
		if (ret) {
			port_format(&steps[i], port, sizeof(port));
			snprintf(err, errlen, "%s %s: %s", host, port, strerror(-ret));
			goto out;
		}
	}
	ret = 0;
out:
	if (res)
		freeaddrinfo(res);
	return ret;
}
