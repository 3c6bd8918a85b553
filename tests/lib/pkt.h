/* SPDX-License-Identifier: GPL-2.0 */
/* Test packet builder: Ethernet, VLAN tags, IPv4/IPv6 (options, extension headers), L4. */
#ifndef CG_TESTS_PKT_H
#define CG_TESTS_PKT_H

#include <stddef.h>
#include <stdint.h>

#define PKT_MAX 2048
#define PKT_MAX_VLAN 2
#define PKT_MAX_EXT 8

/*
 * What to build, layer by layer; zero fields take sensible defaults (MACs
 * 02:00:00:00:00:01/02, TTL 64, TCP flags SYN, no payload). Ports, ids and
 * addresses are given in host order / as text and written in network order.
 */
struct pkt_vlan {
	uint16_t tpid; /* 0x8100 (802.1Q) or 0x88a8 (802.1ad) */
	uint16_t vid;
};

/* One IPv6 extension header. len is the header's total size in bytes. */
struct pkt_ext {
	uint8_t type; /* IPPROTO_HOPOPTS, _ROUTING, _DSTOPTS, _AH; fragment is separate */
	uint16_t len; /* multiple of 8 (AH: multiple of 4), at least 8 */
};

struct pkt_spec {
	/* L2 */
	int nvlan;
	struct pkt_vlan vlan[PKT_MAX_VLAN];
	uint16_t ethertype; /* set for a non-IP frame (e.g. 0x0806 ARP); 0: from family */

	/* L3: family 4 or 6, addresses as text ("10.0.0.1", "2001:db8::1") */
	int family;
	const char *src;
	const char *dst;
	uint8_t ttl;
	uint8_t ip_opt_len; /* IPv4 options bytes (multiple of 4, <= 40), NOP-filled */
	int next_ext;
	struct pkt_ext ext[PKT_MAX_EXT]; /* IPv6 extension headers, in order */
	int ext_after_frag; /* IPv6: the last ext_after_frag of ext[] follow the fragment header */
	int frag;	    /* add fragmentation: IPv4 flags/offset, or an IPv6 fragment header */
	uint16_t frag_off;  /* fragment offset in 8-byte units */
	int frag_more;	    /* MF / M bit */
	uint32_t frag_id;   /* IPv4 uses the low 16 bits */

	/* L4: IPPROTO_TCP, _UDP, _ICMP, _ICMPV6, or any other number (payload only) */
	uint8_t proto;
	uint16_t sport;
	uint16_t dport;
	uint8_t tcp_flags; /* 0 means SYN */
	uint32_t seq;	   /* TCP sequence and acknowledgment numbers, as given */
	uint32_t ack;
	uint16_t tcp_win; /* 0 means 65535 */
	int tcp_wscale;	  /* a window scale option (NOP + kind 3) with shift tcp_wscale - 1 */
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint16_t icmp_id; /* echo identifier */
	uint16_t icmp_seq;
	int no_l4; /* write no L4 header (a later fragment: payload only) */

	/* payload after the L4 header: bytes, or payload_len zero bytes if NULL */
	const uint8_t *payload;
	size_t payload_len;
};

struct pkt {
	uint8_t data[PKT_MAX];
	size_t len;
	size_t l3_off; /* offset of the IP header (or the payload of a non-IP frame) */
	size_t l4_off; /* offset of the L4 header (after extension headers) */
};

/*
 * Build @s into @out with consistent lengths and checksums (IPv4 header,
 * TCP/UDP/ICMP/ICMPv6). Returns 0, or -EINVAL for a bad address or a spec
 * that does not fit; @out is undefined then.
 */
int pkt_build(const struct pkt_spec *s, struct pkt *out);

/* Cut the frame to @len bytes (no-op if it is shorter already). */
void pkt_truncate(struct pkt *p, size_t len);

/* RFC 1071 Internet checksum of @len bytes, folded and inverted, seeded with @sum. */
uint16_t pkt_csum(const void *data, size_t len, uint32_t sum);

#endif
