/* SPDX-License-Identifier: GPL-2.0 */
/* decode: stateless link/network/transport decoding of one packet, tunnels included. */
#ifndef CG_DPI_DECODE_H
#define CG_DPI_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Link types (pcap DLT_* and LINKTYPE_* numbers; both spellings of raw IP). */
enum dec_link {
	DEC_LINK_NULL = 0,
	DEC_LINK_ETH = 1,
	DEC_LINK_PPP = 9,
	DEC_LINK_RAW = 12,
	DEC_LINK_RAW_BSD = 14,
	DEC_LINK_PPP_SERIAL = 50,
	DEC_LINK_RAW_LT = 101,
	DEC_LINK_LOOP = 108,
	DEC_LINK_SLL = 113,
	DEC_LINK_IPV4 = 228,
	DEC_LINK_IPV6 = 229,
	DEC_LINK_SLL2 = 276,
};

/* Outcome of decoding; DEC_BAD is what the summary counts as "malformed". */
enum dec_status {
	DEC_OK = 0,	 /* transport (or ICMP) decoded: flow fields valid */
	DEC_FRAG,	 /* an IP fragment: pkt->frag valid, hand it to defrag */
	DEC_NOIP,	 /* ARP or another non-IP frame: counted, no flow */
	DEC_UNSUPPORTED, /* unknown link type or protocol: counted, no flow */
	DEC_BAD,	 /* malformed: a header is cut short or inconsistent */
};

/* Why DEC_BAD (for tests and counters). */
enum dec_err {
	DEC_ERR_NONE = 0,
	DEC_ERR_LINK,
	DEC_ERR_VLAN,
	DEC_ERR_ARP,
	DEC_ERR_IPV4,
	DEC_ERR_IPV6,
	DEC_ERR_IPV6_EXT,
	DEC_ERR_TCP,
	DEC_ERR_UDP,
	DEC_ERR_ICMP,
	DEC_ERR_TUNNEL,
	DEC_ERR_DEPTH,
};

/* Layers seen anywhere in the frame (tshark's display-filter sense). */
enum {
	DEC_SEEN_VLAN = 1U << 0,
	DEC_SEEN_ARP = 1U << 1,
	DEC_SEEN_IPV4 = 1U << 2,
	DEC_SEEN_IPV6 = 1U << 3,
	DEC_SEEN_TCP = 1U << 4,
	DEC_SEEN_UDP = 1U << 5,
	DEC_SEEN_ICMP = 1U << 6,
	DEC_SEEN_ICMP6 = 1U << 7,
	DEC_SEEN_TUNNEL = 1U << 8,
	DEC_SEEN_FRAG4 = 1U << 9,
	DEC_SEEN_FRAG6 = 1U << 10,
};

#define DEC_MAX_VLAN 4
#define DEC_MAX_DEPTH 4

enum {
	DEC_TCP_FIN = 0x01,
	DEC_TCP_SYN = 0x02,
	DEC_TCP_RST = 0x04,
	DEC_TCP_PSH = 0x08,
	DEC_TCP_ACK = 0x10,
};

/* One IP fragment, as found by the decoder. Pointers borrow the packet. */
struct dec_frag {
	uint8_t af;    /* 4 or 6 */
	uint8_t proto; /* upper-layer protocol (IPv6: next header after the fragment header) */
	bool mf;
	uint32_t id;
	uint32_t offset;     /* bytes */
	const uint8_t *data; /* fragment payload */
	size_t len;
};

/*
 * The decoded packet. Addresses, ports and payload are those of the innermost
 * IP packet: flows are built from what the tunnel carries, not the tunnel.
 * All pointers borrow the buffer given to dec_packet().
 */
#define DEC_NO_WSCALE 0xff

struct dec_pkt {
	uint32_t seen;		     /* DEC_SEEN_* */
	uint16_t vlan[DEC_MAX_VLAN]; /* VLAN ids, outermost first */
	uint8_t nvlan;
	uint8_t depth;		  /* tunnels crossed */
	uint8_t af;		  /* 4, 6, or 0 */
	uint8_t proto;		  /* IP protocol of the innermost packet */
	uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes */
	uint16_t sport, dport;	  /* ICMP: type, code */
	uint8_t tcp_flags;
	uint8_t tcp_wscale; /* window scale option of a SYN (RFC 7323), DEC_NO_WSCALE without */
	uint16_t tcp_win;   /* the window field as sent (unscaled) */
	uint32_t seq, ack;
	bool truncated; /* the capture cut the payload short (snaplen) */
	enum dec_err err;
	const uint8_t *payload; /* transport payload */
	size_t payload_len;
	struct dec_frag frag; /* valid after DEC_FRAG */
};

/* Decode one frame. Never reads outside data[0..len). Fills *pkt (always). */
enum dec_status dec_packet(struct dec_pkt *pkt, int linktype, const uint8_t *data, size_t len);

/*
 * Continue decoding a reassembled datagram: data is the IP payload of
 * protocol proto for the addresses already in pkt (after DEC_FRAG).
 */
enum dec_status dec_l4(struct dec_pkt *pkt, uint8_t proto, const uint8_t *data, size_t len);

#endif
