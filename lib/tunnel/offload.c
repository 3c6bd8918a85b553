// SPDX-License-Identifier: GPL-2.0
/* TUN vnet-header offloads (segmenting what the kernel hands us, coalescing what we hand it). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>

#include "lib/base/log.h"
#include "lib/tunnel/offload.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_CWR 0x80

#define IP4_DF 0x4000
#define IP4_FRAG 0x3fff /* MF and the offset */
#define IP_MAX 65535

int tun_offload_enable(int fd, unsigned int *got)
{
	static const unsigned int tries[] = {
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
		TUN_F_CSUM,
		0,
	};
	int hdrsz = (int)OFFLOAD_VNET_HDR_LEN, err = -EINVAL;
	size_t i;

	if (ioctl(fd, TUNSETVNETHDRSZ, &hdrsz) < 0)
		return -errno;
	for (i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)tries[i]) == 0) {
			*got = tries[i];
			return 0;
		}
		err = -errno;
	}
	return err;
}

/* ---- checksums (RFC 1071), sums kept as big-endian 16-bit values ---------- */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * The one's-complement sum of p[0..n) as a big-endian 16-bit value, plus
 * seed, not yet folded. Native 32-bit words (the sum does not depend on the
 * byte order but for a swap at the end, RFC 1071 2(B)).
 */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t seed)
{
	uint64_t s = 0;
	uint32_t w;
	uint16_t h;

	for (; n >= 4; p += 4, n -= 4) {
		memcpy(&w, p, 4);
		s += w;
	}
	if (n >= 2) {
		memcpy(&h, p, 2);
		s += h;
		p += 2;
		n -= 2;
	}
	if (n) {
		uint8_t last[2] = { p[0], 0 };

		memcpy(&h, last, 2);
		s += h;
	}
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint32_t)ntohs((uint16_t)s) + seed;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The pseudo-header's addresses and protocol (RFC 768, RFC 8200 8.1); add the L4 length. */
static uint32_t pseudo_base(const uint8_t *ip, int v6, uint8_t proto)
{
	return v6 ? sum16(ip + 8, 32, proto) : sum16(ip + 12, 8, proto);
}

/* ---- the IP and L4 headers of one packet ---------------------------------- */

struct hdrs {
	uint8_t v6;
	uint8_t proto;
	uint16_t ihl; /* IP header length: where L4 starts */
	uint16_t hl;  /* IP + L4 header length */
};

/*
 * IPv4 (header within len, total length = len) or IPv6 (payload length +
 * 40 = len, L4 right after the fixed header), then a TCP (data offset
 * 20..60) or UDP header within len. 0 or -EINVAL.
 */
static int parse_hdrs(const uint8_t *p, size_t len, struct hdrs *h)
{
	size_t l4h;

	if (len < 20)
		return -EINVAL;
	if (p[0] >> 4 == 4) {
		h->v6 = 0;
		h->ihl = (uint16_t)((p[0] & 15) * 4);
		if (h->ihl < 20 || h->ihl > len || get16(p + 2) != len)
			return -EINVAL;
		if (get16(p + 6) & IP4_FRAG)
			return -EINVAL;
		h->proto = p[9];
	} else if (p[0] >> 4 == 6) {
		h->v6 = 1;
		h->ihl = 40;
		if (len < 40 || (size_t)get16(p + 4) + 40 != len)
			return -EINVAL;
		h->proto = p[6];
	} else {
		return -EINVAL;
	}
	if (h->proto == IPPROTO_TCP) {
		if (len < (size_t)h->ihl + 20)
			return -EINVAL;
		l4h = (size_t)(p[h->ihl + 12] >> 4) * 4;
		if (l4h < 20)
			return -EINVAL;
	} else if (h->proto == IPPROTO_UDP) {
		l4h = 8;
	} else {
		return -EINVAL;
	}
	if ((size_t)h->ihl + l4h > len)
		return -EINVAL;
	h->hl = (uint16_t)(h->ihl + l4h);
	return 0;
}

/* ---- split ------------------------------------------------------------------ */

/* Complete a NEEDS_CSUM checksum: the field holds the pseudo-header sum (skb_checksum_help). */
static int csum_complete(uint8_t *p, size_t len, size_t start, size_t off)
{
	uint16_t c;

	if (start >= len || off > len - start || len - start - off < 2)
		return -EINVAL;
	c = (uint16_t)~fold(sum16(p + start, len - start, 0));
	put16(p + start + off, c ? c : 0xffff);
	return 0;
}

static int split_none(const struct virtio_net_hdr *h, const uint8_t *pkt, size_t len, uint8_t *out,
		      size_t stride, size_t *lens)
{
	int err;

	if (len > stride)
		return -EINVAL;
	if (out != pkt)
		memcpy(out, pkt, len);
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    (err = csum_complete(out, len, h->csum_start, h->csum_offset)))
		return err;
	lens[0] = len;
	return 1;
}

int gso_split(const struct virtio_net_hdr *h, const uint8_t *pkt, size_t len, uint8_t *out,
	      size_t stride, size_t *lens, size_t max)
{
	unsigned int type;
	size_t payload, segs, gso, off, plen, tl, i, csum_at;
	uint32_t base, seq0 = 0;
	uint16_t id0;
	struct hdrs hd;
	uint8_t *o, *l4;
	uint16_t c;

	if (!h || !pkt || !out || !lens || !max)
		return -EINVAL;
	type = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	if (type == VIRTIO_NET_HDR_GSO_NONE)
		return split_none(h, pkt, len, out, stride, lens);
	gso = h->gso_size;
	if (!gso || h->hdr_len > len || parse_hdrs(pkt, len, &hd))
		return -EINVAL;
	if (!(type == VIRTIO_NET_HDR_GSO_TCPV4 && !hd.v6 && hd.proto == IPPROTO_TCP) &&
	    !(type == VIRTIO_NET_HDR_GSO_TCPV6 && hd.v6 && hd.proto == IPPROTO_TCP) &&
	    !(type == VIRTIO_NET_HDR_GSO_UDP_L4 && hd.proto == IPPROTO_UDP))
		return -EINVAL;
	csum_at = hd.proto == IPPROTO_TCP ? 16 : 6;
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    (h->csum_start != hd.ihl || h->csum_offset != csum_at))
		return -EINVAL;
	payload = len - hd.hl;
	if (!payload)
		return -EINVAL;
	segs = (payload + gso - 1) / gso;
	if (segs > max || hd.hl + (gso < payload ? gso : payload) > stride)
		return -EINVAL;

	base = pseudo_base(pkt, hd.v6, hd.proto);
	id0 = get16(pkt + 4);
	if (hd.proto == IPPROTO_TCP)
		seq0 = get32(pkt + hd.ihl + 4);
	for (i = 0, off = 0; i < segs; i++, off += gso) {
		o = out + i * stride;
		l4 = o + hd.ihl;
		plen = payload - off < gso ? payload - off : gso;
		tl = hd.hl + plen;
		memcpy(o, pkt, hd.hl);
		memcpy(o + hd.hl, pkt + hd.hl + off, plen);
		if (hd.v6) {
			put16(o + 4, (uint32_t)(tl - 40));
		} else {
			put16(o + 2, (uint32_t)tl);
			put16(o + 4, (uint16_t)(id0 + i));
			put16(o + 10, 0);
			put16(o + 10, (uint16_t)~fold(sum16(o, hd.ihl, 0)));
		}
		if (hd.proto == IPPROTO_TCP) {
			put32(l4 + 4, seq0 + (uint32_t)off);
			if (i + 1 < segs)
				l4[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
			if (i)
				l4[13] &= (uint8_t)~TCP_CWR;
		} else {
			put16(l4 + 4, (uint32_t)(tl - hd.ihl));
		}
		put16(l4 + csum_at, 0);
		c = (uint16_t)~fold(sum16(l4, tl - hd.ihl, base + (uint32_t)(tl - hd.ihl)));
		if (!c && hd.proto == IPPROTO_UDP)
			c = 0xffff;
		put16(l4 + csum_at, c);
		lens[i] = tl;
	}
	return (int)segs;
}

/* ---- coalesce --------------------------------------------------------------- */

/* Version, protocol, ports and addresses: what makes packets one flow. */
struct flow_key {
	uint8_t v6;
	uint8_t proto;
	uint8_t ports[4];
	uint8_t addrs[32];
	uint8_t pad[2];
};

struct gro_flow {
	struct flow_key key;
	uint32_t hash;
	int32_t grp; /* the group packets of this flow may still join, or -1 */
};

/* Packets that go out as one: a chain through gro.next from head to tail. */
struct gro_grp {
	int32_t head, tail;
	uint32_t count;
	uint32_t bytes;	   /* of the super-packet: headers once, every payload */
	uint32_t next_seq; /* TCP: the seq the next segment must have */
	uint16_t gso;	   /* payload of the first segment */
	uint8_t closed;	   /* a shorter segment or PSH ended it */
	struct hdrs h;
};

/* One output of the last batch: its first packet and how many it carries. */
struct gro_slot {
	int32_t first;
	uint32_t count;
};

struct gro {
	size_t batch, arena_cap;
	unsigned int flags;
	uint8_t *arena;
	struct gro_grp *grp;
	struct gro_slot *slot;
	int32_t *next;
	size_t nslots;
	const struct iovec *pkts;
	struct gro_flow flows[GRO_FLOWS];
};

struct gro *gro_new(size_t batch, size_t arena, unsigned int flags)
{
	struct gro *g;

	if (!batch || batch > INT32_MAX) {
		errno = EINVAL;
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->batch = batch;
	g->arena_cap = arena;
	g->flags = flags;
	g->arena = malloc(arena ? arena : 1);
	g->grp = calloc(batch, sizeof(*g->grp));
	g->slot = calloc(batch, sizeof(*g->slot));
	g->next = calloc(batch, sizeof(*g->next));
	if (!g->arena || !g->grp || !g->slot || !g->next) {
		gro_free(g);
		errno = ENOMEM;
		return NULL;
	}
	return g;
}

void gro_free(struct gro *g)
{
	if (!g)
		return;
	free(g->arena);
	free(g->grp);
	free(g->slot);
	free(g->next);
	free(g);
}

void gro_set_flags(struct gro *g, unsigned int flags)
{
	g->flags = flags;
}

static uint32_t key_hash(const struct flow_key *k)
{
	uint32_t h = 2166136261u, w;
	size_t i;

	for (i = 0; i < sizeof(*k); i += 4) {
		memcpy(&w, (const uint8_t *)k + i, 4);
		h = (h ^ w) * 16777619u;
	}
	return h ^ (h >> 15);
}

/*
 * The flow of a TCP or UDP packet whose ports can be read (no fragment),
 * or -1: then it belongs to no flow and simply goes out alone.
 */
static int flow_key_of(const uint8_t *p, size_t len, struct flow_key *k)
{
	size_t ihl;

	memset(k, 0, sizeof(*k));
	if (len >= 40 && p[0] >> 4 == 6) {
		k->v6 = 1;
		k->proto = p[6];
		ihl = 40;
		memcpy(k->addrs, p + 8, 32);
	} else if (len >= 20 && p[0] >> 4 == 4) {
		k->proto = p[9];
		ihl = (size_t)(p[0] & 15) * 4;
		if (get16(p + 6) & IP4_FRAG)
			return -1;
		memcpy(k->addrs, p + 12, 8);
	} else {
		return -1;
	}
	if ((k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP) || ihl < 20 || len < ihl + 4)
		return -1;
	memcpy(k->ports, p + ihl, 4);
	return 0;
}

/*
 * Whether p may be part of a super-packet at all (the headers it would
 * share are checked against the group's head in can_join): well-formed,
 * no IPv4 options, DF and no fragment, the protocol enabled, TCP with ACK
 * or ACK|PSH only, payload, and correct checksums.
 */
static bool candidate(const struct gro *g, const uint8_t *p, size_t len, struct hdrs *h)
{
	uint32_t l4len;
	uint16_t c;
	uint8_t fl;

	if (len > IP_MAX || parse_hdrs(p, len, h) || len == h->hl)
		return false;
	if (h->proto == IPPROTO_TCP && !(g->flags & GRO_TCP))
		return false;
	if (h->proto == IPPROTO_UDP && !(g->flags & GRO_UDP))
		return false;
	if (!h->v6 && (h->ihl != 20 || !(get16(p + 6) & IP4_DF) || fold(sum16(p, 20, 0)) != 0xffff))
		return false;
	l4len = (uint32_t)(len - h->ihl);
	if (h->proto == IPPROTO_TCP) {
		fl = p[h->ihl + 13];
		if ((fl & ~TCP_PSH) != TCP_ACK)
			return false;
	} else {
		if (get16(p + h->ihl + 4) != l4len || get16(p + h->ihl + 6) == 0)
			return false;
	}
	c = fold(sum16(p + h->ihl, l4len, pseudo_base(p, h->v6, h->proto) + l4len));
	return c == 0xffff;
}

/* p (a candidate of grp's flow, payload plen) may follow grp's last segment. */
static bool can_join(const struct gro_grp *gr, const uint8_t *head, const uint8_t *p,
		     const struct hdrs *h, size_t plen)
{
	const uint8_t *t1 = head + gr->h.ihl, *t2 = p + h->ihl;

	if (gr->closed || h->hl != gr->h.hl || plen > gr->gso || gr->count >= GRO_MAX_SEGS ||
	    gr->bytes + plen > IP_MAX)
		return false;
	if (h->v6) {
		if (memcmp(head, p, 4) || head[7] != p[7])
			return false;
	} else if (head[1] != p[1] || head[8] != p[8] || (head[6] & 0xe0) != (p[6] & 0xe0)) {
		return false;
	}
	if (h->proto == IPPROTO_UDP)
		return true;
	return get32(t2 + 4) == gr->next_seq && !memcmp(t1 + 8, t2 + 8, 4) && /* ack */
	       !memcmp(t1 + 14, t2 + 14, 2) &&				      /* window */
	       !memcmp(t1 + 20, t2 + 20, h->hl - h->ihl - 20u) &&	      /* options */
	       !(t1[13] & TCP_PSH);
}

static void grp_start(struct gro_grp *gr, int32_t i, const uint8_t *p, size_t len,
		      const struct hdrs *h)
{
	size_t plen = len - h->hl;

	gr->head = gr->tail = i;
	gr->count = 1;
	gr->bytes = (uint32_t)len;
	gr->gso = (uint16_t)plen;
	gr->h = *h;
	gr->closed = h->proto == IPPROTO_TCP && (p[h->ihl + 13] & TCP_PSH);
	if (h->proto == IPPROTO_TCP)
		gr->next_seq = get32(p + h->ihl + 4) + (uint32_t)plen;
}

static void grp_add(struct gro *g, struct gro_grp *gr, int32_t i, const uint8_t *p, size_t len)
{
	size_t plen = len - gr->h.hl;

	g->next[gr->tail] = i;
	gr->tail = i;
	gr->count++;
	gr->bytes += (uint32_t)plen;
	gr->next_seq += (uint32_t)plen;
	if (plen < gr->gso || (gr->h.proto == IPPROTO_TCP && (p[gr->h.ihl + 13] & TCP_PSH)))
		gr->closed = 1;
}

static struct gro_flow *flow_find(struct gro *g, size_t *nflows, const struct flow_key *k)
{
	uint32_t hash = key_hash(k);
	size_t f;

	for (f = 0; f < *nflows; f++)
		if (g->flows[f].hash == hash && !memcmp(&g->flows[f].key, k, sizeof(*k)))
			return &g->flows[f];
	if (*nflows == GRO_FLOWS)
		return NULL;
	f = (*nflows)++;
	g->flows[f].key = *k;
	g->flows[f].hash = hash;
	g->flows[f].grp = -1;
	return &g->flows[f];
}

/* Build group gr's super-packet at d (gr->bytes of room) and its vnet header. */
static void build_super(const struct gro *g, const struct gro_grp *gr, uint8_t *d,
			struct gro_out *o)
{
	const struct hdrs *h = &gr->h;
	const uint8_t *last = g->pkts[gr->tail].iov_base;
	uint32_t l4len = gr->bytes - h->ihl;
	size_t at = h->hl;
	int32_t i;

	memcpy(d, g->pkts[gr->head].iov_base, h->hl);
	for (i = gr->head;; i = g->next[i]) {
		size_t plen = g->pkts[i].iov_len - h->hl;

		memcpy(d + at, (const uint8_t *)g->pkts[i].iov_base + h->hl, plen);
		at += plen;
		if (i == gr->tail)
			break;
	}
	memset(&o->hdr, 0, sizeof(o->hdr));
	if (h->v6) {
		put16(d + 4, l4len);
	} else {
		put16(d + 2, gr->bytes);
		put16(d + 10, 0);
		put16(d + 10, (uint16_t)~fold(sum16(d, h->ihl, 0)));
	}
	if (h->proto == IPPROTO_TCP) {
		d[h->ihl + 13] |= last[h->ihl + 13] & TCP_PSH;
		o->hdr.gso_type = h->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
		o->hdr.csum_offset = 16;
	} else {
		put16(d + h->ihl + 4, l4len);
		o->hdr.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
		o->hdr.csum_offset = 6;
	}
	/* CHECKSUM_PARTIAL: the kernel sums from csum_start and folds into this seed. */
	put16(d + h->ihl + o->hdr.csum_offset, fold(pseudo_base(d, h->v6, h->proto) + l4len));
	o->hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	o->hdr.hdr_len = h->hl;
	o->hdr.gso_size = gr->gso;
	o->hdr.csum_start = h->ihl;
	o->data = d;
	o->len = gr->bytes;
	o->nsegs = gr->count;
}

static void emit_alone(struct gro *g, int32_t i, struct gro_out *o)
{
	memset(&o->hdr, 0, sizeof(o->hdr));
	o->data = g->pkts[i].iov_base;
	o->len = g->pkts[i].iov_len;
	o->nsegs = 1;
	g->slot[g->nslots].first = i;
	g->slot[g->nslots].count = 1;
	g->nslots++;
}

int gro_coalesce(struct gro *g, const struct iovec *pkts, size_t n, struct gro_out *out, size_t max)
{
	size_t i, ngrp = 0, nflows = 0, used = 0;
	struct flow_key k;
	struct gro_flow *f;
	struct gro_grp *gr;
	struct hdrs h;
	int32_t j;

	if (!g || (n && (!pkts || !out)) || n > g->batch || max < n)
		return -EINVAL;
	g->pkts = pkts;
	g->nslots = 0;
	for (i = 0; i < n; i++) {
		const uint8_t *p = pkts[i].iov_base;
		size_t len = pkts[i].iov_len;

		g->next[i] = -1;
		f = g->flags && p && !flow_key_of(p, len, &k) ? flow_find(g, &nflows, &k) : NULL;
		gr = &g->grp[ngrp];
		if (!f || !candidate(g, p, len, &h)) {
			/* Alone; in a flow it also ends the flow's super-packet (order). */
			if (f)
				f->grp = -1;
			gr->head = gr->tail = (int32_t)i;
			gr->count = 1;
			ngrp++;
			continue;
		}
		if (f->grp >= 0 && can_join(&g->grp[f->grp], pkts[g->grp[f->grp].head].iov_base, p,
					    &h, len - h.hl)) {
			grp_add(g, &g->grp[f->grp], (int32_t)i, p, len);
			continue;
		}
		grp_start(gr, (int32_t)i, p, len, &h);
		f->grp = (int32_t)ngrp++;
	}
	/* Groups were made in the order of their first packet, and so go out. */
	for (i = 0; i < ngrp; i++) {
		gr = &g->grp[i];
		if (gr->count == 1 || g->arena_cap - used < gr->bytes) {
			for (j = gr->head; j >= 0; j = g->next[j])
				emit_alone(g, j, &out[g->nslots]);
			continue;
		}
		build_super(g, gr, g->arena + used, &out[g->nslots]);
		used += gr->bytes;
		g->slot[g->nslots].first = gr->head;
		g->slot[g->nslots].count = gr->count;
		g->nslots++;
	}
	return (int)g->nslots;
}

int gro_explode(const struct gro *g, size_t j, struct gro_out *out, size_t max)
{
	const struct gro_slot *s;
	size_t k = 0;
	int32_t i;

	if (!g || j >= g->nslots || max < g->slot[j].count)
		return -EINVAL;
	s = &g->slot[j];
	for (i = s->first; i >= 0 && k < s->count; i = g->next[i], k++) {
		memset(&out[k].hdr, 0, sizeof(out[k].hdr));
		out[k].data = g->pkts[i].iov_base;
		out[k].len = g->pkts[i].iov_len;
		out[k].nsegs = 1;
	}
	return (int)k;
}

/* ---- UDP sockets ------------------------------------------------------------ */

int udp_gso_probe(int fd)
{
	int zero = 0;

	return setsockopt(fd, SOL_UDP, UDP_SEGMENT, &zero, sizeof(zero)) ? -errno : 0;
}

/* Linux 5.12 has the UDP GRO fixes wireguard-go waits for too (getsockopt UDP_GRO). */
static bool kernel_at_least(unsigned int maj, unsigned int min)
{
	struct utsname u;
	unsigned int a = 0, b = 0;

	if (uname(&u) || sscanf(u.release, "%u.%u", &a, &b) != 2)
		return false;
	return a > maj || (a == maj && b >= min);
}

int udp_gro_enable(int fd)
{
	int one = 1;

	if (!kernel_at_least(5, 12))
		return -EOPNOTSUPP;
	return setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) ? -errno : 0;
}

void udp_gso_cmsg(struct msghdr *m, void *buf, uint16_t gso_size)
{
	struct cmsghdr *c = buf;

	memset(buf, 0, UDP_OFFLOAD_CMSG_SPACE);
	c->cmsg_level = SOL_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(gso_size));
	memcpy(CMSG_DATA(c), &gso_size, sizeof(gso_size));
	m->msg_control = buf;
	m->msg_controllen = UDP_OFFLOAD_CMSG_SPACE;
}

size_t udp_gro_size(const struct msghdr *m)
{
	struct cmsghdr *c;
	int v = 0;

	for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR((struct msghdr *)m, c)) {
		if (c->cmsg_level != SOL_UDP || c->cmsg_type != UDP_GRO)
			continue;
		/* The kernel puts an int (udp_cmsg_recv). */
		if (c->cmsg_len >= CMSG_LEN(sizeof(int)))
			memcpy(&v, CMSG_DATA(c), sizeof(int));
		return v > 0 ? (size_t)v : 0;
	}
	return 0;
}

/* ---- field failures ---------------------------------------------------------- */

static const char *const counter_names[OFFLOAD_NCOUNTERS] = {
	[OFFLOAD_TUN_COALESCE_OFF] = "tun_coalesce_off",
	[OFFLOAD_UDP_GSO_OFF] = "udp_gso_off",
	[OFFLOAD_UDP_GSO_EMSGSIZE] = "udp_gso_emsgsize",
	[OFFLOAD_BAD_VNET_HDR] = "bad_vnet_hdr",
};

void offload_init(struct offload *o, bool tun_coalesce, bool udp_gso)
{
	size_t i;

	atomic_init(&o->tun_coalesce, tun_coalesce);
	atomic_init(&o->udp_gso, udp_gso);
	for (i = 0; i < OFFLOAD_NCOUNTERS; i++)
		atomic_init(&o->counters[i], 0);
}

const char *offload_counter_name(enum offload_counter c)
{
	return (unsigned int)c < OFFLOAD_NCOUNTERS ? counter_names[c] : "?";
}

void offload_count(struct offload *o, enum offload_counter c)
{
	if ((unsigned int)c < OFFLOAD_NCOUNTERS)
		atomic_fetch_add_explicit(&o->counters[c], 1, memory_order_relaxed);
}

enum offload_action offload_tun_write_failed(struct offload *o, const struct gro_out *w, int err)
{
	if (err != -EINVAL || w->hdr.gso_type == VIRTIO_NET_HDR_GSO_NONE)
		return OFFLOAD_FAIL;
	/* Several workers may see it at once: one of them turns it off and says so. */
	if (atomic_exchange(&o->tun_coalesce, false)) {
		offload_count(o, OFFLOAD_TUN_COALESCE_OFF);
		log_warn("offload: the TUN refused a coalesced packet (EINVAL): coalescing off");
	}
	return OFFLOAD_RETRY_PLAIN;
}

enum offload_action offload_udp_send_failed(struct offload *o, bool gso, int err)
{
	if (!gso)
		return OFFLOAD_FAIL;
	if (err == -EMSGSIZE) {
		offload_count(o, OFFLOAD_UDP_GSO_EMSGSIZE);
		return OFFLOAD_RETRY_PLAIN;
	}
	if (err != -EIO)
		return OFFLOAD_FAIL;
	if (atomic_exchange(&o->udp_gso, false)) {
		offload_count(o, OFFLOAD_UDP_GSO_OFF);
		log_warn("offload: sendmmsg with UDP_SEGMENT gave EIO (egress without checksum "
			 "offload): UDP GSO off");
	}
	return OFFLOAD_RETRY_PLAIN;
}
