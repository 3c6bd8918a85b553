/* SPDX-License-Identifier: GPL-2.0 */
/* The offloads of the fast data path: TUN vnet headers (TSO/USO in, GRO out), UDP GSO/GRO. */
#ifndef CG_TUNNEL_OFFLOAD_H
#define CG_TUNNEL_OFFLOAD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <linux/if_tun.h>
#include <linux/virtio_net.h>

/* Newer than Debian 12's UAPI headers (Linux 6.2). */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

/*
 * Every read from and write to a TUN opened with TUN_OPEN_VNET_HDR starts
 * with this header (10 bytes, fields in host order: TUN's default without
 * TUNSETVNETBE/LE). Writes need it too: zeroed means "a plain packet".
 */
#define OFFLOAD_VNET_HDR_LEN sizeof(struct virtio_net_hdr)

/*
 * Set the vnet header size (TUNSETVNETHDRSZ) and ask for the offloads, the
 * most first: CSUM|TSO4|TSO6|USO4|USO6, then without USO (kernels < 6.2),
 * then CSUM only, then none. *got = the TUN_F_* bits the kernel took (0:
 * every packet is read whole and checksummed). fd must come from tun_open
 * with TUN_OPEN_VNET_HDR; every queue of a device takes the same call.
 * Returns 0 or -errno (the header size refused, or even "none" refused).
 */
int tun_offload_enable(int fd, unsigned int *got);

/*
 * What comes in from the TUN: h and pkt[0..len) as one read gave them
 * (after the OFFLOAD_VNET_HDR_LEN bytes) -> complete IP packets, packet i at
 * out + i * stride, its length in lens[i]. A GSO packet (TCPV4, TCPV6,
 * UDP_L4) becomes its segments: IP total/payload length per segment, IPv4
 * id + i and a new header checksum, TCP seq advanced by the payload before
 * it, FIN and PSH on the last segment only, CWR on the first only, UDP
 * length per segment, and the full L4 checksum. A GSO_NONE packet is one
 * packet; with NEEDS_CSUM its checksum is completed at csum_start +
 * csum_offset. Nothing else is changed.
 *
 * The header's numbers are checked against the packet, never trusted:
 * -EINVAL for an unknown gso_type or one that does not match the IP version
 * or protocol, gso_size 0 with a GSO type, csum_start/csum_offset outside the
 * packet (or, for GSO, not the L4 header's checksum), hdr_len beyond the
 * packet, IP lengths that disagree with len, an IPv4 fragment or options
 * beyond the header, IPv6 extension headers with GSO, a TCP data offset
 * outside 20..60, no payload, a segment longer than stride, more than max
 * segments. hdr_len itself is not used (the kernel may set it to the whole
 * first packet on the forward path): the headers are measured.
 * Returns the number of packets (>= 1) or -EINVAL; out is undefined then.
 * out may equal pkt for GSO_NONE (finished in place); for GSO out must not
 * overlap pkt. No allocation.
 */
int gso_split(const struct virtio_net_hdr *h, const uint8_t *pkt, size_t len, uint8_t *out,
	      size_t stride, size_t *lens, size_t max);

/*
 * What goes out to the TUN: a batch of inner IP packets -> fewer writes.
 * Each output is writev({&hdr, OFFLOAD_VNET_HDR_LEN}, {data, len}). data
 * points into an input packet (hdr all zero: a plain packet) or into the
 * struct gro's arena (a super-packet: gso_type TCPV4/TCPV6/UDP_L4, gso_size
 * = the segments' payload, NEEDS_CSUM with csum_start = the IP header,
 * csum_offset 16 or 6, hdr_len = IP + L4 header, the L4 checksum field =
 * the folded pseudo-header sum over the super-packet's L4 length). nsegs is
 * how many inputs it carries. Valid until the next gro_coalesce on g.
 */
struct gro_out {
	struct virtio_net_hdr hdr;
	const uint8_t *data;
	size_t len;
	size_t nsegs;
};

/* Flows tracked per batch; packets of further flows go out uncoalesced. */
#define GRO_FLOWS 64
/* Segments in one super-packet at most (the kernel's GRO takes 64 too). */
#define GRO_MAX_SEGS 64

enum gro_flags {
	GRO_TCP = 1U << 0, /* coalesce TCP (the TUN took TSO4/TSO6) */
	GRO_UDP = 1U << 1, /* coalesce UDP (the TUN took USO4/USO6) */
};

struct gro;

/*
 * Tables for batches of up to batch packets and an arena of arena bytes for
 * the super-packets (the sum of a batch's packet lengths is always enough;
 * when the arena runs out the rest goes out uncoalesced). flags: enum
 * gro_flags. NULL and errno on failure. gro_free(g) releases, NULL is fine.
 * One per worker: not thread-safe.
 */
struct gro *gro_new(size_t batch, size_t arena, unsigned int flags);
void gro_free(struct gro *g);

/*
 * Coalesce pkts[0..n) (each one inner IPv4 or IPv6 packet; not changed) into
 * out. TCP packets coalesce when they are of one flow (addresses, ports),
 * with consecutive sequence numbers, the same ack and window, flags ACK or
 * ACK|PSH (PSH only on the last: no SYN, FIN, RST, URG, ECE, CWR), the same
 * TCP options, the same IPv4 TOS/TTL/DF (DF set, no fragment, no IP
 * options) or IPv6 traffic class/flow label/hop limit (no extension header),
 * a valid IP and L4 checksum (the kernel trusts NEEDS_CSUM, so a damaged
 * packet must not hide inside one), the same payload length except a
 * shorter last, 64 KiB and GRO_MAX_SEGS at most. UDP likewise (no seq; a
 * zero IPv4 UDP checksum is not coalesced), only with GRO_UDP. Packets of a
 * flow keep their order: a packet that cannot join its flow's super-packet
 * ends it. Outputs are ordered by their first packet. With flags 0 (or
 * after gro_set_flags(g, 0)) every packet goes out alone.
 * Returns the number of outputs (<= n) or -EINVAL if n > batch or max < n.
 * No allocation.
 */
int gro_coalesce(struct gro *g, const struct iovec *pkts, size_t n, struct gro_out *out,
		 size_t max);

/* Change what g coalesces from the next batch on (a field failure turned one off). */
void gro_set_flags(struct gro *g, unsigned int flags);

/*
 * The packets of output j of the last gro_coalesce, each alone with a zeroed
 * header, into out (room for max): for a super-packet the TUN refused.
 * Returns how many, or -EINVAL (no such output, or max too small).
 */
int gro_explode(const struct gro *g, size_t j, struct gro_out *out, size_t max);

/*
 * UDP sockets. udp_gso_probe: 0 if the kernel takes UDP_SEGMENT on fd
 * (setsockopt of 0, which sets no default size), else -errno.
 * udp_gro_enable: turns UDP_GRO on (received datagrams may then be several
 * same-size segments back to back, the size in a cmsg); 0 or -errno, and
 * -EOPNOTSUPP on kernels before 5.12, whose UDP GRO is too buggy to use.
 */
int udp_gso_probe(int fd);
int udp_gro_enable(int fd);

/* Control buffer room for one UDP_SEGMENT or UDP_GRO cmsg. */
#define UDP_OFFLOAD_CMSG_SPACE CMSG_SPACE(sizeof(uint16_t))

/*
 * Make m's control data one UDP_SEGMENT cmsg of gso_size, in buf (room for
 * UDP_OFFLOAD_CMSG_SPACE, aligned for struct cmsghdr): sendmsg/sendmmsg then
 * cuts m's payload into datagrams of gso_size (the last may be shorter).
 */
void udp_gso_cmsg(struct msghdr *m, void *buf, uint16_t gso_size);

/* The segment size in m's UDP_GRO cmsg after recvmsg/recvmmsg, or 0 (one datagram). */
size_t udp_gro_size(const struct msghdr *m);

/*
 * Run-time state of the offloads, shared by the workers of one process (the
 * switches and counters are atomic; they move only on a field failure).
 * Counters (enum offload_counter, names from offload_counter_name):
 * tun_coalesce_off   a coalesced write refused with EINVAL: coalescing off
 * udp_gso_off        sendmmsg with UDP_SEGMENT gave EIO (egress has no
 *                    checksum offload): UDP GSO off
 * udp_gso_emsgsize   a GSO batch refused with EMSGSIZE (path MTU below the
 *                    segment): that batch resent unsegmented, GSO stays on
 * bad_vnet_hdr       gso_split refused a packet from the TUN (the caller
 *                    counts it with offload_count and drops the packet)
 */
enum offload_counter {
	OFFLOAD_TUN_COALESCE_OFF,
	OFFLOAD_UDP_GSO_OFF,
	OFFLOAD_UDP_GSO_EMSGSIZE,
	OFFLOAD_BAD_VNET_HDR,
	OFFLOAD_NCOUNTERS,
};

struct offload {
	atomic_bool tun_coalesce; /* write super-packets to the TUN */
	atomic_bool udp_gso;	  /* send batches with UDP_SEGMENT */
	atomic_uint_fast64_t counters[OFFLOAD_NCOUNTERS];
};

/* Start state: each switch as the probes found it (tun_coalesce: the TUN took TSO or USO). */
void offload_init(struct offload *o, bool tun_coalesce, bool udp_gso);

const char *offload_counter_name(enum offload_counter c);
void offload_count(struct offload *o, enum offload_counter c);

/* What the caller does after a failed write or send. */
enum offload_action {
	OFFLOAD_FAIL,	     /* not the offload's doing: handle err as usual */
	OFFLOAD_RETRY_PLAIN, /* send/write the same packets again without the offload */
};

/*
 * A TUN write of output of gro_coalesce failed with err (-errno).
 * -EINVAL on a super-packet: coalescing goes off for good (one log line, the
 * first time, and tun_coalesce_off), and the caller writes gro_explode's
 * packets instead (and calls gro_set_flags(g, 0) in each worker, which
 * should check o->tun_coalesce per batch). Otherwise OFFLOAD_FAIL.
 */
enum offload_action offload_tun_write_failed(struct offload *o, const struct gro_out *w, int err);

/*
 * sendmsg/sendmmsg of a batch failed with err (-errno); gso says whether it
 * carried UDP_SEGMENT. -EIO with gso: UDP GSO off for good (one log line,
 * udp_gso_off), resend plain. -EMSGSIZE with gso: udp_gso_emsgsize, resend
 * that batch plain, GSO stays on. Otherwise OFFLOAD_FAIL.
 */
enum offload_action offload_udp_send_failed(struct offload *o, bool gso, int err);

#endif
