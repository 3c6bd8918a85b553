// SPDX-License-Identifier: GPL-2.0
/* Test packet builder (see pkt.h): writes each layer, then fixes lengths and checksums. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "tests/lib/pkt.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static uint32_t sum16(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *b = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

uint16_t pkt_csum(const void *data, size_t len, uint32_t sum)
{
	sum = sum16(data, len, sum);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* Pseudo-header sum (RFC 768 / RFC 8200 8.1) for the L4 checksum. */
static uint32_t pseudo_sum(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
			   size_t l4len)
{
	size_t alen = family == 6 ? 16 : 4;
	uint32_t sum = 0;

	sum = sum16(src, alen, sum);
	sum = sum16(dst, alen, sum);
	sum += proto;
	sum += (uint32_t)l4len;
	return sum;
}

static size_t l4_hdr_len(const struct pkt_spec *s)
{
	if (s->no_l4)
		return 0;
	switch (s->proto) {
	case IPPROTO_TCP:
		return s->tcp_wscale ? 24 : 20;
	case IPPROTO_UDP:
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return 8;
	}
	return 0;
}

/* Writes the L4 header and payload at @l4; returns bytes written. */
static size_t put_l4(const struct pkt_spec *s, uint8_t *l4)
{
	size_t hlen = l4_hdr_len(s);

	memset(l4, 0, hlen);
	if (s->payload)
		memcpy(l4 + hlen, s->payload, s->payload_len);
	else
		memset(l4 + hlen, 0, s->payload_len);
	if (s->no_l4)
		return hlen + s->payload_len;

	switch (s->proto) {
	case IPPROTO_TCP:
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put32(l4 + 4, s->seq);
		put32(l4 + 8, s->ack);
		l4[12] = (uint8_t)(hlen / 4) << 4; /* data offset */
		l4[13] = s->tcp_flags ? s->tcp_flags : 0x02;
		put16(l4 + 14, s->tcp_win ? s->tcp_win : 65535);
		if (s->tcp_wscale) {
			l4[20] = 1; /* NOP */
			l4[21] = 3;
			l4[22] = 3;
			l4[23] = (uint8_t)(s->tcp_wscale - 1);
		}
		break;
	case IPPROTO_UDP:
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put16(l4 + 4, hlen + s->payload_len);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		l4[0] = s->icmp_type;
		l4[1] = s->icmp_code;
		put16(l4 + 4, s->icmp_id);
		put16(l4 + 6, s->icmp_seq);
		break;
	}
	return hlen + s->payload_len;
}

/* L4 checksum, once addresses and lengths are known. ICMPv4 has no pseudo-header. */
static void fix_l4_csum(const struct pkt_spec *s, uint8_t *l4, size_t l4len, const uint8_t *src,
			const uint8_t *dst)
{
	uint32_t ps = pseudo_sum(s->family, src, dst, s->proto, l4len);

	if (s->no_l4)
		return;
	switch (s->proto) {
	case IPPROTO_TCP:
		put16(l4 + 16, pkt_csum(l4, l4len, ps));
		break;
	case IPPROTO_UDP:
		put16(l4 + 6, pkt_csum(l4, l4len, ps) ?: 0xffff);
		break;
	case IPPROTO_ICMP:
		put16(l4 + 2, pkt_csum(l4, l4len, 0));
		break;
	case IPPROTO_ICMPV6:
		put16(l4 + 2, pkt_csum(l4, l4len, ps));
		break;
	}
}

static int build_v4(const struct pkt_spec *s, struct pkt *out)
{
	uint8_t *ip = out->data + out->l3_off;
	size_t hlen = 20 + s->ip_opt_len, l4len;
	uint16_t frag = 0;

	if (s->ip_opt_len % 4 || s->ip_opt_len > 40)
		return -EINVAL;
	if (out->l3_off + hlen + l4_hdr_len(s) + s->payload_len > PKT_MAX)
		return -EINVAL;
	memset(ip, 0, hlen);
	ip[0] = 0x40 | hlen / 4;
	put16(ip + 4, s->frag_id & 0xffff);
	if (s->frag)
		frag = (s->frag_more ? 0x2000 : 0) | (s->frag_off & 0x1fff);
	put16(ip + 6, frag);
	ip[8] = s->ttl ? s->ttl : 64;
	ip[9] = s->proto;
	if (inet_pton(AF_INET, s->src, ip + 12) != 1 || inet_pton(AF_INET, s->dst, ip + 16) != 1)
		return -EINVAL;
	memset(ip + 20, 1, s->ip_opt_len); /* NOP options */

	out->l4_off = out->l3_off + hlen;
	l4len = put_l4(s, out->data + out->l4_off);
	put16(ip + 2, hlen + l4len);
	put16(ip + 10, pkt_csum(ip, hlen, 0));
	fix_l4_csum(s, out->data + out->l4_off, l4len, ip + 12, ip + 16);
	out->len = out->l4_off + l4len;
	return 0;
}

/* The IPv6 fragment header at *off, chained from **nh. */
static int put_frag6(const struct pkt_spec *s, struct pkt *out, size_t *off, uint8_t **nh)
{
	uint8_t *h = out->data + *off;

	if (*off + 8 > PKT_MAX)
		return -EINVAL;
	memset(h, 0, 8);
	**nh = IPPROTO_FRAGMENT;
	*nh = h;
	put16(h + 2, (uint16_t)(s->frag_off << 3) | (s->frag_more ? 1 : 0));
	put32(h + 4, s->frag_id);
	*off += 8;
	return 0;
}

static int build_v6(const struct pkt_spec *s, struct pkt *out)
{
	uint8_t *ip = out->data + out->l3_off, *h, *nh;
	size_t off = out->l3_off + 40, l4len;
	int i;

	memset(ip, 0, 40);
	ip[0] = 0x60;
	ip[7] = s->ttl ? s->ttl : 64;
	if (inet_pton(AF_INET6, s->src, ip + 8) != 1 || inet_pton(AF_INET6, s->dst, ip + 24) != 1)
		return -EINVAL;
	nh = ip + 6; /* where the next "next header" value goes */

	if (s->ext_after_frag < 0 || s->ext_after_frag > s->next_ext ||
	    (s->ext_after_frag && !s->frag))
		return -EINVAL;
	for (i = 0; i < s->next_ext && i < PKT_MAX_EXT; i++) {
		const struct pkt_ext *e = &s->ext[i];

		if (i == s->next_ext - s->ext_after_frag && put_frag6(s, out, &off, &nh))
			return -EINVAL;

		if (e->len < 8 || e->len % (e->type == IPPROTO_AH ? 4 : 8) ||
		    off + e->len > PKT_MAX)
			return -EINVAL;
		h = out->data + off;
		memset(h, 0, e->len);
		*nh = e->type;
		nh = h;
		h[1] = e->type == IPPROTO_AH ? e->len / 4 - 2 : e->len / 8 - 1;
		/* Options area: a PadN option covering it keeps the header valid. */
		if (e->type != IPPROTO_AH && e->type != IPPROTO_ROUTING) {
			h[2] = 1;
			h[3] = e->len - 4;
		}
		off += e->len;
	}
	if (s->frag && !s->ext_after_frag && put_frag6(s, out, &off, &nh))
		return -EINVAL;
	*nh = s->proto;
	if (off + l4_hdr_len(s) + s->payload_len > PKT_MAX)
		return -EINVAL;

	out->l4_off = off;
	l4len = put_l4(s, out->data + off);
	put16(ip + 4, off + l4len - out->l3_off - 40);
	fix_l4_csum(s, out->data + off, l4len, ip + 8, ip + 24);
	out->len = off + l4len;
	return 0;
}

int pkt_build(const struct pkt_spec *s, struct pkt *out)
{
	static const uint8_t dmac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const uint8_t smac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	uint16_t etype;
	size_t off = 12;
	int i;

	if (s->nvlan < 0 || s->nvlan > PKT_MAX_VLAN)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	memcpy(out->data, dmac, 6);
	memcpy(out->data + 6, smac, 6);
	for (i = 0; i < s->nvlan; i++) {
		put16(out->data + off, s->vlan[i].tpid);
		put16(out->data + off + 2, s->vlan[i].vid & 0x0fff);
		off += 4;
	}
	if (s->ethertype)
		etype = s->ethertype;
	else
		etype = s->family == 6 ? 0x86dd : 0x0800;
	put16(out->data + off, etype);
	out->l3_off = off + 2;

	if (s->ethertype) {
		/* Non-IP frame: the payload follows the ethertype. */
		if (out->l3_off + s->payload_len > PKT_MAX)
			return -EINVAL;
		if (s->payload)
			memcpy(out->data + out->l3_off, s->payload, s->payload_len);
		out->l4_off = out->l3_off;
		out->len = out->l3_off + s->payload_len;
		return 0;
	}
	if (s->family == 4)
		return build_v4(s, out);
	if (s->family == 6)
		return build_v6(s, out);
	return -EINVAL;
}

void pkt_truncate(struct pkt *p, size_t len)
{
	if (len < p->len)
		p->len = len;
}
