// SPDX-License-Identifier: GPL-2.0
/* TUN devices and their addresses, MTU and routes, through ioctl and rtnetlink. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_addr.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "lib/tunnel/tun.h"
#include "lib/tunnel/wire.h"

unsigned int tun_mtu_for(int outer_family, unsigned int outer_mtu)
{
	unsigned int ip = outer_family == AF_INET ? 20 : outer_family == AF_INET6 ? 40 : 0;
	unsigned int overhead = ip + 8 + WIRE_OVERHEAD;

	if (!ip || outer_mtu > 65535 || outer_mtu < overhead + TUN_MTU_MIN)
		return 0;
	return outer_mtu - overhead;
}

int tun_open(const char *name, unsigned int flags, char *actual, size_t len)
{
	struct ifreq ifr = { 0 };
	int fd = -1, ret;

	if (!actual || len < IFNAMSIZ || (name && strlen(name) >= IFNAMSIZ) ||
	    (flags & ~(unsigned int)(TUN_OPEN_VNET_HDR | TUN_OPEN_MULTI_QUEUE)))
		return -EINVAL;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (flags & TUN_OPEN_VNET_HDR)
		ifr.ifr_flags |= IFF_VNET_HDR;
	if (flags & TUN_OPEN_MULTI_QUEUE)
		ifr.ifr_flags |= IFF_MULTI_QUEUE;
	if (name)
		memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ret = -errno;
		goto out;
	}
	snprintf(actual, len, "%.*s", IFNAMSIZ - 1, ifr.ifr_name);
	ret = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

/* A netlink request: header, family header and attributes in one buffer. */
struct nl_req {
	struct nlmsghdr *h;
	union {
		struct nlmsghdr align;
		uint8_t buf[512];
	} u;
};

static void *nl_init(struct nl_req *q, uint16_t type, uint16_t flags, size_t famlen)
{
	memset(&q->u, 0, sizeof(q->u));
	q->h = &q->u.align;
	q->h->nlmsg_type = type;
	q->h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	q->h->nlmsg_len = (uint32_t)NLMSG_LENGTH(famlen);
	return NLMSG_DATA(q->h);
}

static int nl_attr(struct nl_req *q, uint16_t type, const void *data, size_t len)
{
	size_t off = NLMSG_ALIGN(q->h->nlmsg_len);
	struct rtattr *a;

	if (off + RTA_SPACE(len) > sizeof(q->u.buf))
		return -ENOSPC;
	a = (struct rtattr *)(q->u.buf + off);
	a->rta_type = type;
	a->rta_len = (uint16_t)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	q->h->nlmsg_len = (uint32_t)(off + RTA_SPACE(len));
	return 0;
}

/*
 * Send one request and wait for its ack. For a dump, match() sees each
 * message and the result is 0 if one matched, -ENOENT if none did.
 */
static int nl_talk(struct nl_req *q, int (*match)(const struct nlmsghdr *, const void *),
		   const void *arg)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	union {
		struct nlmsghdr align;
		uint8_t buf[16384];
	} rx;
	int fd = -1, ret = -EIO, found = 0;
	struct nlmsghdr *h;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	q->h->nlmsg_seq = 1;
	if (sendto(fd, q->u.buf, q->h->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		goto out;
	}
	for (;;) {
		n = recv(fd, rx.buf, sizeof(rx.buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		for (h = &rx.align; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != 1)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					goto out;
				ret = e->error;
				goto out;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				ret = found ? 0 : -ENOENT;
				goto out;
			}
			if (match && match(h, arg))
				found = 1;
		}
	}
out:
	close(fd);
	return ret;
}

static int ifindex_of(const char *ifname, int *idx)
{
	unsigned int i;

	if (!ifname || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	i = if_nametoindex(ifname);
	if (!i)
		return -ENODEV;
	*idx = (int)i;
	return 0;
}

static size_t family_len(const struct cidr *c)
{
	return c->family == AF_INET ? 4 : 16;
}

static int cidr_ok(const struct cidr *c)
{
	if (!c || (c->family != AF_INET && c->family != AF_INET6))
		return 0;
	return c->plen <= (c->family == AF_INET ? 32 : 128);
}

int tun_no_ipv6(const char *ifname)
{
	char path[96];
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno; /* no IPv6 in this kernel: nothing to do */
	if (write(fd, "1", 1) != 1)
		err = -errno;
	close(fd);
	return err;
}

int tun_configure(const char *ifname, const struct cidr *addr, unsigned int mtu)
{
	struct ifaddrmsg *ifa;
	struct ifinfomsg *ifi;
	struct nl_req q;
	int idx, err;

	if (addr && !cidr_ok(addr))
		return -EINVAL;
	if ((err = ifindex_of(ifname, &idx)))
		return err;
	if (addr) {
		ifa = nl_init(&q, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, sizeof(*ifa));
		ifa->ifa_family = addr->family;
		ifa->ifa_prefixlen = addr->plen;
		ifa->ifa_scope = RT_SCOPE_UNIVERSE;
		ifa->ifa_index = (uint32_t)idx;
		if ((err = nl_attr(&q, IFA_LOCAL, addr->addr, family_len(addr))) ||
		    (err = nl_attr(&q, IFA_ADDRESS, addr->addr, family_len(addr))) ||
		    (err = nl_talk(&q, NULL, NULL)))
			return err;
	}
	ifi = nl_init(&q, RTM_NEWLINK, 0, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = idx;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	if (mtu && (err = nl_attr(&q, IFLA_MTU, &mtu, sizeof(mtu))))
		return err;
	return nl_talk(&q, NULL, NULL);
}

static void *route_init(struct nl_req *q, uint16_t type, uint16_t flags, const struct cidr *dst)
{
	struct rtmsg *rt = nl_init(q, type, flags, sizeof(*rt));

	rt->rtm_family = dst->family;
	rt->rtm_dst_len = dst->plen;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_STATIC;
	rt->rtm_scope = RT_SCOPE_LINK;
	rt->rtm_type = RTN_UNICAST;
	return rt;
}

struct route_match {
	const struct cidr *dst;
	int oif;
};

/* A main-table route with exactly dst and the wanted oif. */
static int route_is(const struct nlmsghdr *h, const void *arg)
{
	const struct route_match *m = arg;
	const struct rtmsg *rt = NLMSG_DATA(h);
	const struct rtattr *a;
	int len, oif = 0, dst_ok;
	uint32_t table;

	if (h->nlmsg_type != RTM_NEWROUTE || h->nlmsg_len < NLMSG_LENGTH(sizeof(*rt)))
		return 0;
	if (rt->rtm_family != m->dst->family || rt->rtm_dst_len != m->dst->plen)
		return 0;
	table = rt->rtm_table;
	dst_ok = m->dst->plen == 0;
	len = (int)RTM_PAYLOAD(h);
	for (a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) == sizeof(int))
			memcpy(&oif, RTA_DATA(a), sizeof(int));
		else if (a->rta_type == RTA_TABLE && RTA_PAYLOAD(a) == sizeof(table))
			memcpy(&table, RTA_DATA(a), sizeof(table));
		else if (a->rta_type == RTA_DST && RTA_PAYLOAD(a) == family_len(m->dst))
			dst_ok = memcmp(RTA_DATA(a), m->dst->addr, family_len(m->dst)) == 0;
	}
	return table == RT_TABLE_MAIN && dst_ok && oif == m->oif;
}

int route_add(const struct cidr *dst, const char *ifname)
{
	struct route_match m = { .dst = dst };
	struct rtmsg *rt;
	struct nl_req q;
	int err;

	if (!cidr_ok(dst))
		return -EINVAL;
	if ((err = ifindex_of(ifname, &m.oif)))
		return err;
	route_init(&q, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, dst);
	if ((dst->plen && (err = nl_attr(&q, RTA_DST, dst->addr, family_len(dst)))) ||
	    (err = nl_attr(&q, RTA_OIF, &m.oif, sizeof(m.oif))))
		return err;
	err = nl_talk(&q, NULL, NULL);
	if (err != -EEXIST)
		return err;
	/* Something is there: fine if it is this very route. */
	rt = nl_init(&q, RTM_GETROUTE, NLM_F_DUMP, sizeof(*rt));
	rt->rtm_family = dst->family;
	err = nl_talk(&q, route_is, &m);
	return err == -ENOENT ? -EEXIST : err;
}

int route_del(const struct cidr *dst, const char *ifname)
{
	struct nl_req q;
	int err, idx;

	if (!cidr_ok(dst))
		return -EINVAL;
	if ((err = ifindex_of(ifname, &idx)))
		return err;
	route_init(&q, RTM_DELROUTE, 0, dst);
	/* Deleting matches on these; leave scope and protocol open. */
	((struct rtmsg *)NLMSG_DATA(q.h))->rtm_scope = RT_SCOPE_NOWHERE;
	((struct rtmsg *)NLMSG_DATA(q.h))->rtm_protocol = 0;
	if ((dst->plen && (err = nl_attr(&q, RTA_DST, dst->addr, family_len(dst)))) ||
	    (err = nl_attr(&q, RTA_OIF, &idx, sizeof(idx))))
		return err;
	err = nl_talk(&q, NULL, NULL);
	return err == -ESRCH ? -ENOENT : err;
}
