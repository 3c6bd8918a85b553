// SPDX-License-Identifier: GPL-2.0
/* Test packet builder: checksums are left zero (the analyzer does not verify them). */
#include <arpa/inet.h>
#include <string.h>

#include "tests/lib/dpi_pkt.h"

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

size_t tpkt_build(uint8_t *buf, size_t cap, const struct tpkt *p)
{
	size_t n = 0, l4len, iplen_at, ipstart;
	uint8_t l4[20];

	if (cap < 14 + 4 + 48 + 20 + p->plen)
		return 0;
	memset(buf, 0, 12);
	buf[5] = 1;
	buf[11] = 2;
	n = 12;
	if (p->vlan) {
		put16(buf + n, 0x8100);
		put16(buf + n + 2, p->vlan);
		n += 4;
	}
	put16(buf + n, p->af == 4 ? 0x0800 : 0x86dd);
	n += 2;
	l4len = 0;
	if (!p->frag) {
		memset(l4, 0, sizeof(l4));
		if (p->proto == 6) {
			put16(l4, p->sport);
			put16(l4 + 2, p->dport);
			put32(l4 + 4, p->seq);
			put32(l4 + 8, p->ack);
			l4[12] = 5 << 4;
			l4[13] = p->flags;
			put16(l4 + 14, 65535);
			l4len = 20;
		} else if (p->proto == 17) {
			put16(l4, p->sport);
			put16(l4 + 2, p->dport);
			put16(l4 + 4, (uint16_t)(8 + p->plen));
			l4len = 8;
		} else {
			l4[0] = (uint8_t)p->sport; /* type */
			l4len = 8;
		}
	}
	ipstart = n;
	if (p->af == 4) {
		buf[n] = 0x45;
		buf[n + 1] = 0;
		iplen_at = n + 2;
		put16(buf + n + 4, (uint16_t)p->id);
		put16(buf + n + 6, (uint16_t)((p->mf ? 0x2000 : 0) | (p->frag_off / 8)));
		buf[n + 8] = 64;
		buf[n + 9] = p->proto;
		put16(buf + n + 10, 0);
		inet_pton(AF_INET, p->src, buf + n + 12);
		inet_pton(AF_INET, p->dst, buf + n + 16);
		n += 20;
		put16(buf + iplen_at, (uint16_t)(20 + l4len + p->plen));
	} else {
		size_t fh = p->frag ? 8 : 0;

		put32(buf + n, 6u << 28);
		put16(buf + n + 4, (uint16_t)(fh + l4len + p->plen));
		buf[n + 6] = p->frag ? 44 : p->proto;
		buf[n + 7] = 64;
		inet_pton(AF_INET6, p->src, buf + n + 8);
		inet_pton(AF_INET6, p->dst, buf + n + 24);
		n += 40;
		if (p->frag) {
			buf[n] = p->proto;
			buf[n + 1] = 0;
			put16(buf + n + 2, (uint16_t)(p->frag_off | (p->mf ? 1 : 0)));
			put32(buf + n + 4, p->id);
			n += 8;
		}
	}
	(void)ipstart;
	memcpy(buf + n, l4, l4len);
	n += l4len;
	if (p->plen)
		memcpy(buf + n, p->payload, p->plen);
	return n + p->plen;
}
