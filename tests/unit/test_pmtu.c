// SPDX-License-Identifier: GPL-2.0
/* Path MTU from the kernel: icmp_too_big written into a real TUN reaches a PMTUDISC_DO socket's
 * error queue (pmtu_read_errqueue), then local EMSGSIZE, IP_MTU and the interface (root, netns).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/errqueue.h>

#include "lib/base/addr.h"
#include "lib/tunnel/icmp.h"
#include "lib/tunnel/pmtu.h"
#include "lib/tunnel/tun.h"
#include "tests/lib/t.h"

static void test_arguments(void)
{
	struct pmtu_event ev;
	unsigned int mtu;
	int fam, fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ASSERT_EQ(pmtu_socket_setup(fd, AF_UNIX), -EINVAL, "family");
	ASSERT_EQ(pmtu_socket_setup(fd, AF_INET6), 0, "setup");
	ASSERT_EQ(pmtu_read_errqueue(fd, &ev), -EAGAIN, "empty queue");
	ASSERT_EQ(pmtu_read_errqueue(fd, NULL), -EINVAL, "NULL");
	ASSERT_EQ(pmtu_of_socket(fd, &mtu, &fam), -ENOTCONN, "not connected");
	ASSERT_EQ(pmtu_of_iface("cg-no-such-if", &mtu, &fam), -ENODEV, "no such interface");
	ASSERT_EQ(pmtu_of_iface("a-name-longer-than-15", &mtu, &fam), -EINVAL, "long name");
	close(fd);
	ASSERT_EQ(pmtu_socket_setup(-1, AF_INET), -EBADF, "bad fd");
}

static void sin6_of(const char *a, uint16_t port, struct sockaddr_in6 *s)
{
	uint8_t m[16] = { [10] = 0xff, [11] = 0xff };

	memset(s, 0, sizeof(*s));
	s->sin6_family = AF_INET6;
	s->sin6_port = htons(port);
	if (inet_pton(AF_INET, a, m + 12) == 1)
		memcpy(&s->sin6_addr, m, 16);
	else
		inet_pton(AF_INET6, a, &s->sin6_addr);
}

/* An IPv6 address becomes a source once it is no longer tentative: bind() says when. */
static bool v6_ready(const char *a)
{
	struct pollfd none = { .fd = -1 };
	struct sockaddr_in6 s;
	int fd, i, ok = 0;

	sin6_of(a, 0, &s);
	for (i = 0; i < 30 && !ok; i++) {
		fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		ok = fd >= 0 && bind(fd, (struct sockaddr *)&s, sizeof(s)) == 0;
		close(fd);
		if (!ok)
			poll(&none, 1, 100);
	}
	return ok;
}

/* The next packet from the TUN of at least min bytes. */
static ssize_t read_big(int fd, uint8_t *buf, size_t cap, size_t min)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int i;

	for (i = 0; i < 30; i++) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(fd, buf, cap);
		if (n >= (ssize_t)min)
			return n;
	}
	return -1;
}

/*
 * Send 1400 bytes to dst from the PMTUDISC_DO socket s, answer the packet
 * the TUN gets with icmp_too_big(mtu, from), and expect the event.
 */
static const char *round_trip(int tun, int s, const char *dst, const char *from, unsigned int mtu,
			      int family, uint8_t origin)
{
	static uint8_t payload[1400], pkt[2048], icmp[ICMP_TOO_BIG_MAX];
	struct pollfd p = { .fd = s, .events = 0 };
	struct sockaddr_in6 to, f;
	struct pmtu_event ev;
	ssize_t n;
	int len;

	sin6_of(dst, 9999, &to);
	sin6_of(from, 0, &f);
	if (sendto(s, payload, sizeof(payload), 0, (struct sockaddr *)&to, sizeof(to)) != 1400)
		return "send 1400 bytes";
	n = read_big(tun, pkt, sizeof(pkt), 1400);
	if (n < 0)
		return "the packet on the TUN";
	if (family == AF_INET && !(pkt[6] & 0x40))
		return "DF set by IP_PMTUDISC_DO";
	len = icmp_too_big(pkt, (size_t)n, mtu, f.sin6_addr.s6_addr, icmp, sizeof(icmp));
	if (len <= 0)
		return "icmp_too_big";
	if (write(tun, icmp, (size_t)len) != len)
		return "write the ICMP into the TUN";
	if (poll(&p, 1, 2000) != 1 || !(p.revents & POLLERR))
		return "POLLERR: the kernel took the ICMP";
	if (pmtu_read_errqueue(s, &ev))
		return "pmtu_read_errqueue";
	if (ev.mtu != mtu || ev.family != family || ev.origin != origin || ev.port != 9999 ||
	    memcmp(ev.addr, &to.sin6_addr, 16))
		return "the event: mtu, family, origin, peer";
	if (pmtu_read_errqueue(s, &ev) != -EAGAIN)
		return "one event only";
	/* Now the kernel knows: the same send is refused here, with a local event. */
	if (sendto(s, payload, sizeof(payload), 0, (struct sockaddr *)&to, sizeof(to)) != -1 ||
	    errno != EMSGSIZE)
		return "second send: EMSGSIZE";
	if (pmtu_read_errqueue(s, &ev) || ev.mtu != mtu || ev.origin != SO_EE_ORIGIN_LOCAL ||
	    memcmp(ev.addr, &to.sin6_addr, 16))
		return "local event";
	return NULL;
}

static const char *netns_steps(void)
{
	/* Interface addresses with host bits, and the routes into the TUN. */
	struct cidr a4 = { .family = AF_INET, .plen = 24, .addr = { 10, 99, 0, 1 } };
	struct cidr r4 = { .family = AF_INET, .plen = 16, .addr = { 10, 123 } };
	struct cidr a6 = { .family = AF_INET6, .plen = 64, .addr = { 0xfd, 0, 0, 0x99, [15] = 1 } };
	struct cidr r6 = { .family = AF_INET6, .plen = 64, .addr = { 0xfd, 0, 0x01, 0x23 } };
	struct sockaddr_in6 to;
	char name[IFNAMSIZ], path[128];
	unsigned int mtu = 0;
	FILE *f;
	const char *why;
	int tun, s, c, fam = 0;

	tun = tun_open("cgpmtu%d", 0, name, sizeof(name));
	if (tun < 0)
		return "tun_open";
	if ((errno = -tun_configure("lo", NULL, 0)) || (errno = -tun_configure(name, &a4, 1500)))
		return "tun_configure";
	if (pmtu_of_iface(name, &mtu, &fam) || mtu != 1500 || fam != AF_INET)
		return "pmtu_of_iface: 1500, IPv4 only";
	/* No duplicate address detection, so the address is soon a source (v6_ready). */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/accept_dad", name);
	f = fopen(path, "w");
	if (!f || fputs("0", f) == EOF || fclose(f))
		return "accept_dad";
	if (tun_configure(name, &a6, 0) || route_add(&r4, name) || route_add(&r6, name))
		return "TUN v6, routes";
	if (!v6_ready("fd00:99::1"))
		return "fd00:99::1 still tentative";
	if (pmtu_of_iface(name, &mtu, &fam) || mtu != 1500 || fam != AF_INET6)
		return "pmtu_of_iface: a global IPv6 address";
	s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || pmtu_socket_setup(s, AF_INET6))
		return "socket";
	why = round_trip(tun, s, "10.123.0.5", "10.99.0.2", 1300, AF_INET, SO_EE_ORIGIN_ICMP);
	if (why)
		return why;
	why = round_trip(tun, s, "fd00:123::5", "fd00:99::2", 1280, AF_INET6, SO_EE_ORIGIN_ICMP6);
	if (why)
		return why;
	/* A connected socket's route now carries the learnt MTU. */
	c = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	sin6_of("10.123.0.5", 9999, &to);
	if (c < 0 || connect(c, (struct sockaddr *)&to, sizeof(to)))
		return "connect";
	if (pmtu_of_socket(c, &mtu, &fam) || mtu != 1300 || fam != AF_INET)
		return "pmtu_of_socket: the learnt 1300";
	close(c);
	c = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	sin6_of("fd00:123::9", 9999, &to);
	if (c < 0 || connect(c, (struct sockaddr *)&to, sizeof(to)))
		return "connect v6";
	if (pmtu_of_socket(c, &mtu, &fam) || mtu != 1500 || fam != AF_INET6)
		return "pmtu_of_socket: another peer, the interface's 1500";
	close(c);
	close(s);
	close(tun);
	return NULL;
}

static void test_netns(void)
{
	t_in_netns(netns_steps);
}

T_MAIN(T_CASE(test_arguments), T_CASE(test_netns))
