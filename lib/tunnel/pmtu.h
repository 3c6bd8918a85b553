/* SPDX-License-Identifier: GPL-2.0 */
/* The outer path's MTU: of an interface, of a route, and as the kernel learns it per peer. */
#ifndef CG_TUNNEL_PMTU_H
#define CG_TUNNEL_PMTU_H

#include <stdint.h>

/*
 * The MTU of interface ifname, and the outer family its worst-case client
 * comes over: AF_INET6 if ifname has a global (not link-local) IPv6 address,
 * else AF_INET. Feed both to tun_mtu_for. 0 or -errno (-ENODEV: no such
 * interface); the out-parameters are written only on success.
 */
int pmtu_of_iface(const char *ifname, unsigned int *mtu, int *family);

/*
 * The path MTU of the route a connected socket uses (IP_MTU or IPV6_MTU, an
 * IPv4-mapped peer of an AF_INET6 socket included): the outgoing interface's
 * MTU, a route's mtu attribute, or what the kernel learnt for that peer.
 * *family is the peer's outer family (AF_INET for an IPv4-mapped peer).
 * 0 or -errno (-ENOTCONN); out-parameters written only on success.
 */
int pmtu_of_socket(int fd, unsigned int *mtu, int *family);

/*
 * The TUN MTU for an outer path that pmtu_of_iface or pmtu_of_socket
 * measured (err is what it returned, outer and family what it wrote):
 * tun_mtu_for(family, outer), or TUN_MTU_FALLBACK with a warning that says
 * why, naming the path with what ("interface ext0", "route to 10.0.0.1").
 */
unsigned int pmtu_tun_mtu(int err, unsigned int outer, int family, const char *what);

/*
 * Path MTU discovery on an unconnected UDP socket of family (AF_INET, or
 * AF_INET6, which also covers IPv4-mapped peers): IP(V6)_PMTUDISC_DO, so the
 * kernel never fragments an outer packet and sets DF, and IP(V6)_RECVERR, so
 * a "fragmentation needed" / "packet too big" for a peer, or a send larger
 * than what the kernel already knows of that peer's path (sendmsg then fails
 * with EMSGSIZE and nothing is sent), is queued on the error queue with the
 * MTU. The socket is then readable with POLLERR, and the next recvmsg,
 * recvmmsg or sendmsg on it fails once with the error's errno (EMSGSIZE,
 * also ECONNREFUSED or EHOSTUNREACH for other ICMP errors): a worker loop
 * treats those as "drain the error queue" (pmtu_read_errqueue), which clears
 * them, and goes on. 0 or -errno (-EINVAL: another family).
 */
int pmtu_socket_setup(int fd, int family);

/* One path MTU learnt for a peer. */
struct pmtu_event {
	uint8_t addr[16]; /* the peer the too-big packet was for; IPv4 as ::ffff:a.b.c.d */
	uint16_t port;	  /* its port (host order); 0 for a local error on an unconnected socket */
	int family;	  /* the outer family to that peer: AF_INET (also IPv4-mapped), AF_INET6 */
	unsigned int mtu; /* the outer path MTU (ee_info); tun_mtu_for(family, mtu) is the inner */
	uint8_t origin;	  /* SO_EE_ORIGIN_ICMP (a router), _ICMP6, or _LOCAL (own route/PMTU) */
};

/*
 * Reads the socket's error queue (MSG_ERRQUEUE, never blocks) until it finds
 * a path MTU error (ee_errno EMSGSIZE, from ICMP, ICMPv6 or the local stack)
 * and writes it to *ev: 0. Other queued errors (port or host unreachable)
 * are consumed and skipped: the MTU is what the data path acts on. -EAGAIN
 * when the queue holds no (more) path MTU error; -errno otherwise. The path
 * MTU belongs to the peer's address: the kernel caches it per destination
 * (net.ipv4.route.mtu_expires, 10 min by default) and refuses larger sends
 * to it until then, so a caller keeps it per endpoint for as long.
 */
int pmtu_read_errqueue(int fd, struct pmtu_event *ev);

#endif
