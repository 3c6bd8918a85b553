// SPDX-License-Identifier: GPL-2.0
/* The outer path's MTU: SIOCGIFMTU, IP(V6)_MTU of a connected socket, the socket error queue. */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/errqueue.h>

#include "lib/base/addr.h"
#include "lib/base/log.h"
#include "lib/tunnel/pmtu.h"
#include "lib/tunnel/tun.h"

static int has_global_v6(const char *ifname, int *has)
{
	struct ifaddrs *ifs = NULL, *i;
	const struct sockaddr_in6 *s6;

	if (getifaddrs(&ifs))
		return -errno;
	*has = 0;
	for (i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6 ||
		    strcmp(i->ifa_name, ifname) != 0)
			continue;
		s6 = (const struct sockaddr_in6 *)i->ifa_addr;
		if (!IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr))
			*has = 1;
	}
	freeifaddrs(ifs);
	return 0;
}

int pmtu_of_iface(const char *ifname, unsigned int *mtu, int *family)
{
	struct ifreq ifr = { 0 };
	int fd, err = 0, v6 = 0;

	if (!ifname || !mtu || !family || strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0)
		err = -errno;
	close(fd);
	if (!err)
		err = has_global_v6(ifname, &v6);
	if (err)
		return err;
	*mtu = (unsigned int)ifr.ifr_mtu;
	*family = v6 ? AF_INET6 : AF_INET;
	return 0;
}

int pmtu_of_socket(int fd, unsigned int *mtu, int *family)
{
	struct sockaddr_in6 peer;
	socklen_t len = sizeof(peer);
	int v, f;

	if (!mtu || !family)
		return -EINVAL;
	if (getpeername(fd, (struct sockaddr *)&peer, &len))
		return -errno;
	len = sizeof(v);
	if (peer.sin6_family == AF_INET6) {
		f = IN6_IS_ADDR_V4MAPPED(&peer.sin6_addr) ? AF_INET : AF_INET6;
		if (getsockopt(fd, IPPROTO_IPV6, IPV6_MTU, &v, &len))
			return -errno;
	} else if (peer.sin6_family == AF_INET) {
		f = AF_INET;
		if (getsockopt(fd, IPPROTO_IP, IP_MTU, &v, &len))
			return -errno;
	} else {
		return -EAFNOSUPPORT;
	}
	*mtu = (unsigned int)v;
	*family = f;
	return 0;
}

unsigned int pmtu_tun_mtu(int err, unsigned int outer, int family, const char *what)
{
	unsigned int mtu = err ? 0 : tun_mtu_for(family, outer);

	if (err)
		log_errno(err, "MTU of the %s unknown; the TUN gets %u", what, TUN_MTU_FALLBACK);
	else if (!mtu)
		log_warn("MTU %u of the %s leaves no room for the tunnel; the TUN gets %u", outer,
			 what, TUN_MTU_FALLBACK);
	return mtu ? mtu : TUN_MTU_FALLBACK;
}

int pmtu_socket_setup(int fd, int family)
{
	int one = 1, v4 = IP_PMTUDISC_DO, v6 = IPV6_PMTUDISC_DO;

	if (family != AF_INET && family != AF_INET6)
		return -EINVAL;
	if (family == AF_INET6 &&
	    (setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v6, sizeof(v6)) ||
	     setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one))))
		return -errno;
	/* On an AF_INET6 socket these govern its IPv4-mapped peers. */
	if (setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v4, sizeof(v4)) ||
	    setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one)))
		return -errno;
	return 0;
}

/* The peer from msg_name: the destination of the packet the error is about. */
static int event_peer(const struct sockaddr_storage *ss, socklen_t len, struct pmtu_event *ev)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

	if (ss->ss_family == AF_INET6 && len >= sizeof(*s6)) {
		memcpy(ev->addr, &s6->sin6_addr, 16);
		ev->port = ntohs(s6->sin6_port);
		ev->family = addr_is_v4mapped(ev->addr) ? AF_INET : AF_INET6;
		return 0;
	}
	if (ss->ss_family == AF_INET && len >= sizeof(*s4)) {
		memset(ev->addr, 0, 10);
		ev->addr[10] = 0xff;
		ev->addr[11] = 0xff;
		memcpy(ev->addr + 12, &s4->sin_addr, 4);
		ev->port = ntohs(s4->sin_port);
		ev->family = AF_INET;
		return 0;
	}
	return -EAFNOSUPPORT;
}

int pmtu_read_errqueue(int fd, struct pmtu_event *ev)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct sock_extended_err) +
				    sizeof(struct sockaddr_in6))];
		struct cmsghdr align;
	} ctl;
	const struct sock_extended_err *ee;
	struct sockaddr_storage name;
	struct pmtu_event e;
	struct cmsghdr *c;
	struct msghdr msg;
	uint8_t data[64];
	struct iovec iov;

	if (!ev)
		return -EINVAL;
	for (;;) {
		memset(&msg, 0, sizeof(msg));
		iov.iov_base = data;
		iov.iov_len = sizeof(data);
		msg.msg_name = &name;
		msg.msg_namelen = sizeof(name);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (!(c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) &&
			    !(c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR))
				continue;
			ee = (const struct sock_extended_err *)CMSG_DATA(c);
			if (ee->ee_errno != EMSGSIZE || (ee->ee_origin != SO_EE_ORIGIN_ICMP &&
							 ee->ee_origin != SO_EE_ORIGIN_ICMP6 &&
							 ee->ee_origin != SO_EE_ORIGIN_LOCAL))
				continue;
			memset(&e, 0, sizeof(e));
			if (event_peer(&name, msg.msg_namelen, &e))
				continue;
			e.mtu = ee->ee_info;
			e.origin = ee->ee_origin;
			*ev = e;
			return 0;
		}
	}
}
