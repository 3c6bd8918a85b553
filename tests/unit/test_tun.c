// SPDX-License-Identifier: GPL-2.0
/* TUN device, address, MTU and routes: argument checks, and a real device in a fresh netns (root).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/base/addr.h"
#include "lib/tunnel/tun.h"
#include "tests/lib/t.h"

static struct cidr pfx(const char *s)
{
	struct cidr c = { 0 };
	const char *why;

	cidr_parse(s, &c, &why);
	return c;
}

static void test_arguments(void)
{
	struct cidr bad = { .family = AF_INET, .plen = 33 }, ok = pfx("10.1.0.0/16");
	char name[IFNAMSIZ];

	ASSERT_EQ(tun_open("a-name-longer-than-15", 0, name, sizeof(name)), -EINVAL, "long name");
	ASSERT_EQ(tun_open("x", 0, name, 4), -EINVAL, "small buffer");
	ASSERT_EQ(tun_open("x", 0, NULL, 0), -EINVAL, "NULL buffer");
	ASSERT_EQ(tun_open("x", 1U << 7, name, sizeof(name)), -EINVAL, "unknown flag");
	ASSERT_EQ(route_add(&bad, "lo"), -EINVAL, "plen 33");
	ASSERT_EQ(route_add(NULL, "lo"), -EINVAL, "NULL");
	bad.family = AF_UNIX;
	bad.plen = 8;
	ASSERT_EQ(route_del(&bad, "lo"), -EINVAL, "family");
	ASSERT_EQ(route_add(&ok, "cg-no-such-if"), -ENODEV, "no such interface");
	ASSERT_EQ(route_del(&ok, "cg-no-such-if"), -ENODEV, "no such interface (del)");
	ASSERT_EQ(tun_configure("cg-no-such-if", NULL, 0), -ENODEV, "configure");
	ASSERT_EQ(tun_configure(NULL, NULL, 0), -EINVAL, "NULL name");
}

static void test_mtu_for(void)
{
	static const struct {
		int family;
		unsigned int outer, want;
	} rows[] = {
		{ AF_INET, 1500, 1440 },  { AF_INET6, 1500, 1420 }, { AF_INET, 1400, 1340 },
		{ AF_INET6, 1400, 1320 }, { AF_INET6, 1360, 1280 }, { AF_INET6, 1359, 1279 },
		{ AF_INET, 9000, 8940 },  { AF_INET, 128, 68 },	    { AF_INET, 127, 0 },
		{ AF_INET6, 147, 0 },	  { AF_INET6, 148, 68 },    { AF_INET, 65535, 65475 },
		{ AF_INET, 65536, 0 },	  { AF_UNIX, 1500, 0 },	    { AF_INET, 0, 0 },
	};
	char name[64];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(name, sizeof(name), "family %d, outer %u", rows[i].family, rows[i].outer);
		ASSERT_EQ(tun_mtu_for(rows[i].family, rows[i].outer), rows[i].want, name);
	}
}

/* Read packets from the TUN until one with IP version ver and L4 proto arrives. */
static ssize_t read_packet(int fd, uint8_t *buf, size_t cap, int ver, uint8_t proto)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int i;

	for (i = 0; i < 50; i++) {
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(fd, buf, cap);
		if (n < 20 || buf[0] >> 4 != ver)
			continue;
		if (ver == 4 && buf[9] == proto)
			return n;
		if (ver == 6 && n >= 40 && buf[6] == proto)
			return n;
	}
	return -1;
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static int sock_to(int family, const char *addr, uint16_t port, const char *msg)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd, r;

	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		inet_pton(AF_INET, addr, &s4->sin_addr);
		len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &s6->sin6_addr);
		len = sizeof(*s6);
	}
	r = (int)sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&ss, len);
	close(fd);
	return r;
}

/* A second queue of one device; the device goes with its last queue. */
static const char *multi_queue_steps(void)
{
	const unsigned int fl = TUN_OPEN_MULTI_QUEUE | TUN_OPEN_VNET_HDR;
	char name[IFNAMSIZ], again[IFNAMSIZ];
	int q0, q1;

	q0 = tun_open("cgmq%d", fl, name, sizeof(name));
	if (q0 < 0)
		return "tun_open multi-queue";
	q1 = tun_open(name, fl, again, sizeof(again));
	if (q1 < 0 || strcmp(name, again))
		return "second queue of the same device";
	if (tun_open(name, TUN_OPEN_VNET_HDR, again, sizeof(again)) != -EINVAL)
		return "a single-queue open of a multi-queue device: want -EINVAL";
	close(q0);
	if (if_nametoindex(name) == 0)
		return "device gone with one queue left";
	close(q1);
	if (if_nametoindex(name) != 0)
		return "device still there after its last queue";
	return NULL;
}

/* The steps run in the child, inside its own network namespace; NULL or the failing step. */
static const char *netns_steps(void)
{
	struct cidr a4 = pfx("10.99.0.1/32"), r4 = pfx("10.123.0.0/16");
	struct cidr a6 = pfx("fd00:99::1/128"), r6 = pfx("fd00:123::/64");
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(7777) };
	struct pollfd p = { .events = POLLIN };
	struct ifreq ifr = { 0 };
	char name[IFNAMSIZ], got[16];
	uint8_t pkt[2048], in[32] = { 0x45, 0,	  0,   32, 0, 0,  0x40, 0,   64,  17,	0,
				      0,    10,	  123, 0,  5, 10, 99,	0,   1,	  0x15, 0xb3,
				      0x1e, 0x61, 0,   12, 0, 0,  'p',	'i', 'n', 'g' };
	int fd, s = -1, ctl;
	ssize_t n;

	fd = tun_open("cgtest%d", 0, name, sizeof(name));
	if (fd < 0)
		return "tun_open";
	if (strncmp(name, "cgtest", 6) != 0)
		return "tun name";
	a4.plen = 24; /* an interface address may have host bits */
	a6.plen = 64;
	if (tun_configure("lo", NULL, 0))
		return "lo up";
	if (tun_configure(name, &a4, 1400) || tun_configure(name, &a4, 1400))
		return "configure v4 (twice)";
	if (tun_configure(name, &a6, 0))
		return "configure v6";
	ctl = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ctl < 0 || ioctl(ctl, SIOCGIFMTU, &ifr) || ifr.ifr_mtu != 1400)
		return "mtu";
	if (ioctl(ctl, SIOCGIFFLAGS, &ifr) || !(ifr.ifr_flags & IFF_UP))
		return "up";
	close(ctl);
	if (route_add(&r4, name) || route_add(&r4, name))
		return "route_add v4 (twice)";
	if (route_add(&r4, "lo") != -EEXIST)
		return "route_add v4 to another interface: want -EEXIST";
	if (route_add(&r6, name) || route_add(&r6, name))
		return "route_add v6 (twice)";

	/* Out through the route: the packet shows up on the fd. */
	if (sock_to(AF_INET, "10.123.0.5", 9999, "hello") != 5)
		return "send v4";
	n = read_packet(fd, pkt, sizeof(pkt), 4, IPPROTO_UDP);
	if (n != 20 + 8 + 5 || memcmp(pkt + 16, "\x0a\x7b\x00\x05", 4) ||
	    memcmp(pkt + 28, "hello", 5))
		return "v4 packet on the fd";
	if (sock_to(AF_INET6, "fd00:123::5", 9999, "hello6") != 6)
		return "send v6";
	n = read_packet(fd, pkt, sizeof(pkt), 6, IPPROTO_UDP);
	if (n != 40 + 8 + 6 || memcmp(pkt + 40 + 8, "hello6", 6))
		return "v6 packet on the fd";

	/* In through the fd: a written packet reaches a local socket. */
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, "10.99.0.1", &sin.sin_addr);
	if (s < 0 || bind(s, (struct sockaddr *)&sin, sizeof(sin)))
		return "bind";
	in[10] = (uint8_t)(csum(in, 20) >> 8);
	in[11] = (uint8_t)csum(in, 20);
	if (write(fd, in, sizeof(in)) != (ssize_t)sizeof(in))
		return "write to the fd";
	p.fd = s;
	if (poll(&p, 1, 2000) != 1 || recv(s, got, sizeof(got), 0) != 4 || memcmp(got, "ping", 4))
		return "packet written to the fd not received";
	close(s);

	if (route_del(&r4, name) || route_del(&r4, name) != -ENOENT)
		return "route_del v4 (then -ENOENT)";
	if (route_del(&r6, name) || route_del(&r6, name) != -ENOENT)
		return "route_del v6 (then -ENOENT)";
	close(fd);
	if (if_nametoindex(name) != 0)
		return "device still there after close";
	return multi_queue_steps();
}

static void test_netns(void)
{
	t_in_netns(netns_steps);
}

T_MAIN(T_CASE(test_arguments), T_CASE(test_mtu_for), T_CASE(test_netns))
