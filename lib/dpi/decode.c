// SPDX-License-Identifier: GPL-2.0
/* decode: link, VLAN, ARP, IPv4/IPv6, ICMP, TCP, UDP and tunnel (6in4, GRE, VXLAN, GTP-U) headers.
 */
#include <string.h>

#include "lib/base/rd.h"
#include "lib/dpi/decode.h"

#define ETH_P_IPV4 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_VLAN 0x8100
#define ETH_P_QINQ 0x88a8
#define ETH_P_QINQ_OLD 0x9100
#define ETH_P_IPV6 0x86dd
#define ETH_P_PPPOE 0x8864
#define ETH_P_MPLS 0x8847
#define ETH_P_MPLS_MC 0x8848
#define ETH_P_TEB 0x6558

#define PORT_VXLAN 4789
#define PORT_GTPU 2152

static enum dec_status dec_ether(struct dec_pkt *pkt, struct rd *r);
static enum dec_status dec_ethertype(struct dec_pkt *pkt, uint16_t type, struct rd *r);
static enum dec_status dec_ip(struct dec_pkt *pkt, struct rd *r);

static enum dec_status bad(struct dec_pkt *pkt, enum dec_err err)
{
	pkt->err = err;
	return DEC_BAD;
}

static enum dec_status tunnel_enter(struct dec_pkt *pkt)
{
	if (pkt->depth >= DEC_MAX_DEPTH)
		return bad(pkt, DEC_ERR_DEPTH);
	pkt->depth++;
	pkt->seen |= DEC_SEEN_TUNNEL;
	return DEC_OK;
}

/*
 * The window scale option of a SYN's options (RFC 7323 2.2: kind 3, length 3,
 * a shift above 14 is taken as 14), or DEC_NO_WSCALE. Stops at the end-of-list
 * option or at a malformed one.
 */
static uint8_t tcp_wscale(struct rd *o)
{
	uint8_t kind, len, shift;

	while (!rd_u8(o, &kind) && kind != 0) {
		if (kind == 1)
			continue;
		if (rd_u8(o, &len) || len < 2)
			break;
		if (kind == 3 && len == 3 && !rd_u8(o, &shift))
			return shift > 14 ? 14 : shift;
		if (rd_skip(o, (size_t)len - 2))
			break;
	}
	return DEC_NO_WSCALE;
}

/* IP by its version nibble (raw IP links, MPLS, GTP-U). */
static enum dec_status dec_ip(struct dec_pkt *pkt, struct rd *r)
{
	uint8_t v;

	if (rd_peek_u8(r, 0, &v))
		return bad(pkt, DEC_ERR_IPV4);
	if (v >> 4 == 4)
		return dec_ethertype(pkt, ETH_P_IPV4, r);
	if (v >> 4 == 6)
		return dec_ethertype(pkt, ETH_P_IPV6, r);
	return DEC_UNSUPPORTED;
}

/* RFC 792/4443 errors quote the offending header: counted (tshark does), no flow. */
static void dec_quoted(struct dec_pkt *pkt, struct rd *r, bool v6)
{
	uint8_t vihl, proto = 0;
	struct rd q = *r;

	if (rd_peek_u8(&q, 0, &vihl))
		return;
	if (!v6 && vihl >> 4 == 4) {
		if (rd_peek_u8(&q, 9, &proto) || rd_skip(&q, (size_t)(vihl & 15) * 4))
			return;
	} else if (v6 && vihl >> 4 == 6) {
		if (rd_peek_u8(&q, 6, &proto) || rd_skip(&q, 40))
			return;
	} else {
		return;
	}
	if (proto == 6 && rd_left(&q) >= 4)
		pkt->seen |= DEC_SEEN_TCP;
	else if (proto == 17 && rd_left(&q) >= 4)
		pkt->seen |= DEC_SEEN_UDP;
}

static enum dec_status dec_icmp(struct dec_pkt *pkt, struct rd *r, bool v6)
{
	uint8_t type, code;

	pkt->seen |= v6 ? DEC_SEEN_ICMP6 : DEC_SEEN_ICMP;
	if (rd_u8(r, &type) || rd_u8(r, &code) || rd_skip(r, 2))
		return bad(pkt, DEC_ERR_ICMP);
	pkt->sport = type;
	pkt->dport = code;
	pkt->payload = rd_cur(r);
	pkt->payload_len = rd_left(r);
	if (!v6 && (type == 3 || type == 4 || type == 5 || type == 11 || type == 12)) {
		struct rd q = *r;

		if (!rd_skip(&q, 4))
			dec_quoted(pkt, &q, false);
	} else if (v6 && type >= 1 && type <= 4) {
		struct rd q = *r;

		if (!rd_skip(&q, 4))
			dec_quoted(pkt, &q, true);
	}
	return DEC_OK;
}

static enum dec_status dec_gre(struct dec_pkt *pkt, struct rd *r)
{
	uint16_t flags, proto;
	enum dec_status st;
	size_t skip = 0;

	if (rd_u16be(r, &flags) || rd_u16be(r, &proto))
		return bad(pkt, DEC_ERR_TUNNEL);
	if ((flags & 7) == 0) {
		skip += (flags & 0x8000) ? 4 : 0; /* C: checksum + reserved1 */
		skip += (flags & 0x2000) ? 4 : 0; /* K: key */
		skip += (flags & 0x1000) ? 4 : 0; /* S: sequence number */
	} else if ((flags & 7) == 1) {
		/* RFC 2637 enhanced GRE (PPTP): key always, S and A optional */
		skip = 4 + ((flags & 0x1000) ? 4 : 0) + ((flags & 0x0080) ? 4 : 0);
	} else {
		return DEC_UNSUPPORTED;
	}
	if (rd_skip(r, skip))
		return bad(pkt, DEC_ERR_TUNNEL);
	if ((st = tunnel_enter(pkt)) != DEC_OK)
		return st;
	if (proto == ETH_P_TEB)
		return dec_ether(pkt, r);
	if (proto == 0x880b) { /* PPP in enhanced GRE */
		uint16_t pp;

		if (rd_left(r) >= 2 && rd_cur(r)[0] == 0xff && rd_cur(r)[1] == 0x03)
			rd_skip(r, 2);
		if (rd_u16be(r, &pp))
			return bad(pkt, DEC_ERR_TUNNEL);
		if (pp == 0x0021)
			return dec_ethertype(pkt, ETH_P_IPV4, r);
		if (pp == 0x0057)
			return dec_ethertype(pkt, ETH_P_IPV6, r);
		return DEC_UNSUPPORTED;
	}
	return dec_ethertype(pkt, proto, r);
}

static enum dec_status dec_vxlan(struct dec_pkt *pkt, struct rd *r)
{
	uint8_t flags;
	enum dec_status st;

	if (rd_u8(r, &flags) || rd_skip(r, 7))
		return bad(pkt, DEC_ERR_TUNNEL);
	if (!(flags & 0x08)) /* I flag: a valid VNI */
		return DEC_OK;
	if ((st = tunnel_enter(pkt)) != DEC_OK)
		return st;
	return dec_ether(pkt, r);
}

/* 3GPP TS 29.281: G-PDU carries a user IP packet. */
static enum dec_status dec_gtpu(struct dec_pkt *pkt, struct rd *r)
{
	uint8_t flags, type, next;
	uint16_t len;
	enum dec_status st;

	if (rd_u8(r, &flags) || rd_u8(r, &type) || rd_u16be(r, &len) || rd_skip(r, 4))
		return bad(pkt, DEC_ERR_TUNNEL);
	if (flags >> 5 != 1 || !(flags & 0x10) || type != 0xff)
		return DEC_OK; /* not a G-PDU: plain UDP */
	if (flags & 0x07) {
		if (rd_skip(r, 3) || rd_u8(r, &next))
			return bad(pkt, DEC_ERR_TUNNEL);
		while ((flags & 0x04) && next) {
			uint8_t elen;

			if (rd_u8(r, &elen) || !elen || rd_skip(r, (size_t)elen * 4 - 2) ||
			    rd_u8(r, &next))
				return bad(pkt, DEC_ERR_TUNNEL);
		}
	}
	if ((st = tunnel_enter(pkt)) != DEC_OK)
		return st;
	return dec_ip(pkt, r);
}

enum dec_status dec_l4(struct dec_pkt *pkt, uint8_t proto, const uint8_t *data, size_t len)
{
	struct rd r;
	enum dec_status st;

	rd_init(&r, data, len);
	pkt->payload = NULL;
	pkt->payload_len = 0;
	/* IPv6 extension headers after a fragment header (reassembled datagrams) */
	while (pkt->af == 6 && (proto == 0 || proto == 43 || proto == 60 || proto == 51)) {
		uint8_t next, elen;

		if (rd_u8(&r, &next) || rd_u8(&r, &elen) ||
		    rd_skip(&r, proto == 51 ? (size_t)elen * 4 + 6 : (size_t)elen * 8 + 6))
			return bad(pkt, DEC_ERR_IPV6_EXT);
		proto = next;
	}
	pkt->proto = proto;
	switch (proto) {
	case 6: {
		uint16_t sport, dport, win;
		uint32_t seq, ack;
		uint8_t off, flags;
		struct rd opts;

		pkt->seen |= DEC_SEEN_TCP;
		if (rd_u16be(&r, &sport) || rd_u16be(&r, &dport) || rd_u32be(&r, &seq) ||
		    rd_u32be(&r, &ack) || rd_u8(&r, &off) || rd_u8(&r, &flags) ||
		    rd_u16be(&r, &win) || rd_skip(&r, 4))
			return bad(pkt, DEC_ERR_TCP);
		if ((off >> 4) < 5 || rd_sub(&r, (size_t)(off >> 4) * 4 - 20, &opts))
			return bad(pkt, DEC_ERR_TCP);
		pkt->sport = sport;
		pkt->dport = dport;
		pkt->seq = seq;
		pkt->ack = ack;
		pkt->tcp_flags = flags;
		pkt->tcp_win = win;
		pkt->tcp_wscale = (flags & DEC_TCP_SYN) ? tcp_wscale(&opts) : DEC_NO_WSCALE;
		pkt->payload = rd_cur(&r);
		pkt->payload_len = rd_left(&r);
		return DEC_OK;
	}
	case 17: {
		uint16_t sport, dport, ulen;
		size_t plen;

		pkt->seen |= DEC_SEEN_UDP;
		if (rd_u16be(&r, &sport) || rd_u16be(&r, &dport) || rd_u16be(&r, &ulen) ||
		    rd_skip(&r, 2))
			return bad(pkt, DEC_ERR_UDP);
		if (ulen < 8 && ulen != 0) /* 0: jumbogram (RFC 2675) */
			return bad(pkt, DEC_ERR_UDP);
		plen = ulen ? (size_t)ulen - 8 : rd_left(&r);
		if (plen > rd_left(&r)) {
			pkt->truncated = true;
			plen = rd_left(&r);
		}
		pkt->sport = sport;
		pkt->dport = dport;
		pkt->payload = rd_cur(&r);
		pkt->payload_len = plen;
		if (sport == PORT_VXLAN || dport == PORT_VXLAN || sport == PORT_GTPU ||
		    dport == PORT_GTPU) {
			struct rd t;
			uint8_t saved_af = pkt->af;
			uint8_t src[16], dst[16];

			memcpy(src, pkt->src, 16);
			memcpy(dst, pkt->dst, 16);
			rd_init(&t, pkt->payload, plen);
			st = (dport == PORT_VXLAN || sport == PORT_VXLAN) ? dec_vxlan(pkt, &t)
									  : dec_gtpu(pkt, &t);
			if (st == DEC_OK && pkt->proto == 17 && pkt->sport == sport &&
			    pkt->dport == dport && pkt->af == saved_af)
				return DEC_OK; /* not a tunnel after all */
			return st;
		}
		return DEC_OK;
	}
	case 1:
		return dec_icmp(pkt, &r, false);
	case 58:
		return dec_icmp(pkt, &r, true);
	case 4: /* IPIP */
		if ((st = tunnel_enter(pkt)) != DEC_OK)
			return st;
		return dec_ethertype(pkt, ETH_P_IPV4, &r);
	case 41: /* 6in4 */
		if ((st = tunnel_enter(pkt)) != DEC_OK)
			return st;
		return dec_ethertype(pkt, ETH_P_IPV6, &r);
	case 47:
		return dec_gre(pkt, &r);
	default:
		pkt->payload = data;
		pkt->payload_len = len;
		return DEC_UNSUPPORTED;
	}
}

static enum dec_status dec_ipv4(struct dec_pkt *pkt, struct rd *r)
{
	uint8_t vihl, proto;
	uint16_t tot, id, frag;
	size_t hl, plen;
	const uint8_t *a;

	pkt->seen |= DEC_SEEN_IPV4;
	if (rd_u8(r, &vihl) || rd_skip(r, 1) || rd_u16be(r, &tot) || rd_u16be(r, &id) ||
	    rd_u16be(r, &frag) || rd_skip(r, 1) || rd_u8(r, &proto) || rd_skip(r, 2))
		return bad(pkt, DEC_ERR_IPV4);
	hl = (size_t)(vihl & 15) * 4;
	if (vihl >> 4 != 4 || hl < 20 || tot < hl)
		return bad(pkt, DEC_ERR_IPV4);
	if (rd_ptr(r, 4, &a))
		return bad(pkt, DEC_ERR_IPV4);
	memset(pkt->src, 0, 16);
	memcpy(pkt->src, a, 4);
	if (rd_ptr(r, 4, &a))
		return bad(pkt, DEC_ERR_IPV4);
	memset(pkt->dst, 0, 16);
	memcpy(pkt->dst, a, 4);
	if (rd_skip(r, hl - 20)) /* options */
		return bad(pkt, DEC_ERR_IPV4);
	pkt->af = 4;
	plen = tot - hl;
	if (plen > rd_left(r)) {
		pkt->truncated = true;
		plen = rd_left(r);
	}
	if (frag & 0x3fff) { /* MF or an offset */
		pkt->seen |= DEC_SEEN_FRAG4;
		pkt->proto = proto;
		pkt->frag.af = 4;
		pkt->frag.proto = proto;
		pkt->frag.mf = frag & 0x2000;
		pkt->frag.id = id;
		pkt->frag.offset = (uint32_t)(frag & 0x1fff) * 8;
		pkt->frag.data = rd_cur(r);
		pkt->frag.len = plen;
		return DEC_FRAG;
	}
	return dec_l4(pkt, proto, rd_cur(r), plen);
}

static enum dec_status dec_ipv6(struct dec_pkt *pkt, struct rd *r)
{
	uint32_t vtc;
	uint16_t plen16;
	uint8_t nh;
	const uint8_t *a;
	struct rd p;
	size_t plen;
	int n;

	pkt->seen |= DEC_SEEN_IPV6;
	if (rd_u32be(r, &vtc) || rd_u16be(r, &plen16) || rd_u8(r, &nh) || rd_skip(r, 1))
		return bad(pkt, DEC_ERR_IPV6);
	if (vtc >> 28 != 6)
		return bad(pkt, DEC_ERR_IPV6);
	if (rd_ptr(r, 16, &a))
		return bad(pkt, DEC_ERR_IPV6);
	memcpy(pkt->src, a, 16);
	if (rd_ptr(r, 16, &a))
		return bad(pkt, DEC_ERR_IPV6);
	memcpy(pkt->dst, a, 16);
	pkt->af = 6;
	plen = plen16 ? plen16 : rd_left(r); /* 0: jumbo payload (RFC 2675) */
	if (plen > rd_left(r)) {
		pkt->truncated = true;
		plen = rd_left(r);
	}
	rd_init(&p, rd_cur(r), plen);
	for (n = 0; n < 16; n++) {
		uint8_t next, elen;
		uint16_t offflags;
		uint32_t id;

		switch (nh) {
		case 0:	  /* hop-by-hop */
		case 43:  /* routing */
		case 60:  /* destination options */
		case 135: /* mobility */
			if (rd_u8(&p, &next) || rd_u8(&p, &elen) ||
			    rd_skip(&p, (size_t)elen * 8 + 6))
				return bad(pkt, DEC_ERR_IPV6_EXT);
			nh = next;
			continue;
		case 51: /* AH: length in 4-octet units minus 2 */
			if (rd_u8(&p, &next) || rd_u8(&p, &elen) ||
			    rd_skip(&p, (size_t)elen * 4 + 6))
				return bad(pkt, DEC_ERR_IPV6_EXT);
			nh = next;
			continue;
		case 44: /* fragment */
			if (rd_u8(&p, &next) || rd_skip(&p, 1) || rd_u16be(&p, &offflags) ||
			    rd_u32be(&p, &id))
				return bad(pkt, DEC_ERR_IPV6_EXT);
			if ((offflags & 0xfff9) == 0) /* atomic fragment (RFC 6946) */ {
				nh = next;
				continue;
			}
			pkt->seen |= DEC_SEEN_FRAG6;
			pkt->proto = next;
			pkt->frag.af = 6;
			pkt->frag.proto = next;
			pkt->frag.mf = offflags & 1;
			pkt->frag.id = id;
			pkt->frag.offset = offflags & 0xfff8;
			pkt->frag.data = rd_cur(&p);
			pkt->frag.len = rd_left(&p);
			return DEC_FRAG;
		case 59: /* no next header */
			pkt->proto = nh;
			return DEC_UNSUPPORTED;
		default:
			return dec_l4(pkt, nh, rd_cur(&p), rd_left(&p));
		}
	}
	return bad(pkt, DEC_ERR_IPV6_EXT);
}

static enum dec_status dec_arp(struct dec_pkt *pkt, struct rd *r)
{
	pkt->seen |= DEC_SEEN_ARP;
	if (rd_skip(r, 8)) /* htype ptype hlen plen oper */
		return bad(pkt, DEC_ERR_ARP);
	return DEC_NOIP;
}

static enum dec_status dec_ethertype(struct dec_pkt *pkt, uint16_t type, struct rd *r)
{
	for (;;) {
		switch (type) {
		case ETH_P_IPV4:
			return dec_ipv4(pkt, r);
		case ETH_P_IPV6:
			return dec_ipv6(pkt, r);
		case ETH_P_ARP:
			return dec_arp(pkt, r);
		case ETH_P_VLAN:
		case ETH_P_QINQ:
		case ETH_P_QINQ_OLD: {
			uint16_t tci;

			pkt->seen |= DEC_SEEN_VLAN;
			if (rd_u16be(r, &tci) || rd_u16be(r, &type))
				return bad(pkt, DEC_ERR_VLAN);
			if (pkt->nvlan < DEC_MAX_VLAN)
				pkt->vlan[pkt->nvlan++] = tci & 0x0fff;
			continue;
		}
		case ETH_P_PPPOE: {
			uint16_t pp;

			if (rd_skip(r, 6) || rd_u16be(r, &pp))
				return bad(pkt, DEC_ERR_LINK);
			if (pp == 0x0021)
				type = ETH_P_IPV4;
			else if (pp == 0x0057)
				type = ETH_P_IPV6;
			else
				return DEC_UNSUPPORTED;
			continue;
		}
		case ETH_P_MPLS:
		case ETH_P_MPLS_MC: {
			uint32_t label;
			int i;

			for (i = 0; i < 16; i++) {
				if (rd_u32be(r, &label))
					return bad(pkt, DEC_ERR_LINK);
				if (label & 0x100) /* bottom of stack */
					return dec_ip(pkt, r);
			}
			return bad(pkt, DEC_ERR_LINK);
		}
		default:
			return DEC_UNSUPPORTED;
		}
	}
}

static enum dec_status dec_ether(struct dec_pkt *pkt, struct rd *r)
{
	uint16_t type;

	if (rd_skip(r, 12) || rd_u16be(r, &type))
		return bad(pkt, DEC_ERR_LINK);
	if (type < 0x0600) /* 802.3 length: LLC/SNAP, not decoded */
		return DEC_UNSUPPORTED;
	return dec_ethertype(pkt, type, r);
}

enum dec_status dec_packet(struct dec_pkt *pkt, int linktype, const uint8_t *data, size_t len)
{
	struct rd r;
	uint32_t fam;
	uint16_t type;

	memset(pkt, 0, offsetof(struct dec_pkt, src));
	pkt->proto = 0;
	pkt->sport = pkt->dport = 0;
	pkt->tcp_flags = 0;
	pkt->tcp_wscale = DEC_NO_WSCALE;
	pkt->tcp_win = 0;
	pkt->truncated = false;
	pkt->err = DEC_ERR_NONE;
	pkt->payload = NULL;
	pkt->payload_len = 0;
	rd_init(&r, data, len);
	switch (linktype) {
	case DEC_LINK_ETH:
		return dec_ether(pkt, &r);
	case DEC_LINK_NULL:
	case DEC_LINK_LOOP:
		/* NULL: host byte order of the capturing machine; LOOP: network order */
		if (linktype == DEC_LINK_NULL ? rd_u32le(&r, &fam) : rd_u32be(&r, &fam))
			return bad(pkt, DEC_ERR_LINK);
		if (fam > 0xffff)
			fam = __builtin_bswap32(fam);
		if (fam == 2)
			return dec_ethertype(pkt, ETH_P_IPV4, &r);
		if (fam == 10 || fam == 24 || fam == 28 || fam == 30)
			return dec_ethertype(pkt, ETH_P_IPV6, &r);
		return DEC_UNSUPPORTED;
	case DEC_LINK_RAW:
	case DEC_LINK_RAW_BSD:
	case DEC_LINK_RAW_LT:
		return dec_ip(pkt, &r);
	case DEC_LINK_IPV4:
		return dec_ethertype(pkt, ETH_P_IPV4, &r);
	case DEC_LINK_IPV6:
		return dec_ethertype(pkt, ETH_P_IPV6, &r);
	case DEC_LINK_SLL:
		if (rd_skip(&r, 14) || rd_u16be(&r, &type))
			return bad(pkt, DEC_ERR_LINK);
		return dec_ethertype(pkt, type, &r);
	case DEC_LINK_SLL2:
		if (rd_u16be(&r, &type) || rd_skip(&r, 18))
			return bad(pkt, DEC_ERR_LINK);
		return dec_ethertype(pkt, type, &r);
	case DEC_LINK_PPP:
	case DEC_LINK_PPP_SERIAL: {
		uint8_t b0;

		if (!rd_peek_u8(&r, 0, &b0) && b0 == 0xff) /* HDLC address + control */
			rd_skip(&r, 2);
		if (rd_u16be(&r, &type))
			return bad(pkt, DEC_ERR_LINK);
		if (type == 0x0021)
			return dec_ethertype(pkt, ETH_P_IPV4, &r);
		if (type == 0x0057)
			return dec_ethertype(pkt, ETH_P_IPV6, &r);
		return DEC_UNSUPPORTED;
	}
	default:
		return DEC_UNSUPPORTED;
	}
}
