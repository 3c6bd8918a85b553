// SPDX-License-Identifier: GPL-2.0
/* defrag: datagrams keyed by (af, src, dst, id, proto), fragments kept sorted by offset. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dpi/defrag.h"

#define NIL UINT32_MAX
#define MAX_PAYLOAD 65535

struct frag {
	struct frag *next;
	uint32_t off, len;
	uint8_t data[];
};

struct dg {
	uint8_t af, proto;
	bool refused, in_use;
	uint32_t id;
	uint8_t src[16], dst[16];
	uint64_t first_ns;
	uint32_t hnext;	     /* hash chain */
	uint32_t prev, next; /* age list, oldest first */
	uint32_t nfrags;
	uint32_t total;	    /* payload length once the last fragment is seen, else 0 */
	struct frag *frags; /* sorted by offset, never overlapping */
};

struct defrag {
	struct defrag_opts o;
	struct dg *dgs;
	uint32_t *buckets;
	uint32_t nbuckets;   /* power of two */
	uint32_t free_head;  /* free slots chained through hnext */
	uint32_t old, young; /* age list ends */
	struct defrag_stats st;
	uint8_t out[MAX_PAYLOAD];
};

static uint32_t dg_hash(uint8_t af, const uint8_t *src, const uint8_t *dst, uint32_t id,
			uint8_t proto)
{
	uint32_t h = 2166136261u ^ af ^ (uint32_t)proto << 8;
	size_t i, n = af == 4 ? 4 : 16;

	for (i = 0; i < n; i++)
		h = (h ^ src[i]) * 16777619u;
	for (i = 0; i < n; i++)
		h = (h ^ dst[i]) * 16777619u;
	h = (h ^ id) * 16777619u;
	return h ^ h >> 15;
}

struct defrag *defrag_new(const struct defrag_opts *opts)
{
	struct defrag *d;
	uint32_t i;

	if (!opts->max_datagrams || opts->max_datagrams > (1u << 24) || !opts->max_frags) {
		errno = EINVAL;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->o = *opts;
	d->nbuckets = 1;
	while (d->nbuckets < opts->max_datagrams * 2)
		d->nbuckets <<= 1;
	d->dgs = calloc(opts->max_datagrams, sizeof(*d->dgs));
	d->buckets = malloc(sizeof(*d->buckets) * d->nbuckets);
	if (!d->dgs || !d->buckets) {
		defrag_free(d);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < d->nbuckets; i++)
		d->buckets[i] = NIL;
	for (i = 0; i < opts->max_datagrams; i++)
		d->dgs[i].hnext = i + 1 < opts->max_datagrams ? i + 1 : NIL;
	d->free_head = 0;
	d->old = d->young = NIL;
	return d;
}

static void frags_free(struct defrag *d, struct dg *g)
{
	struct frag *f = g->frags, *n;

	while (f) {
		n = f->next;
		d->st.held_bytes -= f->len;
		free(f);
		f = n;
	}
	g->frags = NULL;
	g->nfrags = 0;
}

void defrag_free(struct defrag *d)
{
	uint32_t i;

	if (!d)
		return;
	if (d->dgs)
		for (i = 0; i < d->o.max_datagrams; i++)
			frags_free(d, &d->dgs[i]);
	free(d->dgs);
	free(d->buckets);
	free(d);
}

static void dg_release(struct defrag *d, uint32_t idx)
{
	struct dg *g = &d->dgs[idx];
	uint32_t b = dg_hash(g->af, g->src, g->dst, g->id, g->proto) & (d->nbuckets - 1);
	uint32_t *pp = &d->buckets[b];

	while (*pp != NIL && *pp != idx)
		pp = &d->dgs[*pp].hnext;
	if (*pp == idx)
		*pp = g->hnext;
	if (g->prev != NIL)
		d->dgs[g->prev].next = g->next;
	else
		d->old = g->next;
	if (g->next != NIL)
		d->dgs[g->next].prev = g->prev;
	else
		d->young = g->prev;
	frags_free(d, g);
	g->in_use = false;
	g->hnext = d->free_head;
	d->free_head = idx;
	d->st.active--;
}

void defrag_expire(struct defrag *d, uint64_t now_ns)
{
	while (d->old != NIL && now_ns - d->dgs[d->old].first_ns > d->o.timeout_ns &&
	       now_ns >= d->dgs[d->old].first_ns) {
		if (!d->dgs[d->old].refused)
			d->st.timeouts++;
		dg_release(d, d->old);
	}
}

static uint32_t dg_find(struct defrag *d, uint32_t h, const uint8_t *src, const uint8_t *dst,
			const struct dec_frag *f)
{
	uint32_t i = d->buckets[h & (d->nbuckets - 1)];

	while (i != NIL) {
		struct dg *g = &d->dgs[i];

		if (g->af == f->af && g->proto == f->proto && g->id == f->id &&
		    !memcmp(g->src, src, 16) && !memcmp(g->dst, dst, 16))
			return i;
		i = g->hnext;
	}
	return NIL;
}

static uint32_t dg_create(struct defrag *d, uint32_t h, uint64_t ts_ns, const uint8_t *src,
			  const uint8_t *dst, const struct dec_frag *f)
{
	uint32_t idx, b = h & (d->nbuckets - 1);
	struct dg *g;

	if (d->free_head == NIL) {
		d->st.evicted++;
		dg_release(d, d->old);
	}
	idx = d->free_head;
	g = &d->dgs[idx];
	d->free_head = g->hnext;
	memset(g, 0, sizeof(*g));
	g->in_use = true;
	g->af = f->af;
	g->proto = f->proto;
	g->id = f->id;
	memcpy(g->src, src, 16);
	memcpy(g->dst, dst, 16);
	g->first_ns = ts_ns;
	g->hnext = d->buckets[b];
	d->buckets[b] = idx;
	g->next = NIL;
	g->prev = d->young;
	if (d->young != NIL)
		d->dgs[d->young].next = idx;
	else
		d->old = idx;
	d->young = idx;
	if (++d->st.active > d->st.peak_active)
		d->st.peak_active = d->st.active;
	return idx;
}

/* Refuse the datagram (too big, too many pieces): its fragments go, the entry stays until timeout.
 */
static enum defrag_verdict refuse(struct defrag *d, struct dg *g, enum defrag_verdict v)
{
	frags_free(d, g);
	g->refused = true;
	return v;
}

enum defrag_verdict defrag_add(struct defrag *d, uint64_t ts_ns, const uint8_t *src,
			       const uint8_t *dst, const struct dec_frag *f, const uint8_t **out,
			       size_t *out_len)
{
	uint32_t h, idx, end, max = f->af == 4 ? MAX_PAYLOAD - 20 : MAX_PAYLOAD;
	struct frag **pp, *nf;
	struct dg *g;
	uint32_t covered;

	d->st.fragments++;
	defrag_expire(d, ts_ns);
	h = dg_hash(f->af, src, dst, f->id, f->proto);
	idx = dg_find(d, h, src, dst, f);
	if (idx == NIL)
		idx = dg_create(d, h, ts_ns, src, dst, f);
	g = &d->dgs[idx];
	if (g->refused) {
		d->st.refused++;
		return DEFRAG_REFUSED;
	}
	if (f->len > max || f->offset > max - f->len) {
		d->st.too_big++;
		return refuse(d, g, DEFRAG_TOO_BIG);
	}
	end = f->offset + (uint32_t)f->len;
	/*
	 * Overlaps: the fragment that came first wins, as in TCP reassembly;
	 * the later one is refused and counted, the datagram goes on.
	 */
	if (!f->mf && g->total && g->total != end) {
		d->st.overlaps++;
		return DEFRAG_OVERLAP;
	}
	if (g->total && end > g->total) {
		d->st.overlaps++;
		return DEFRAG_OVERLAP;
	}
	if (!f->mf) {
		for (nf = g->frags; nf; nf = nf->next) {
			if (nf->off + nf->len > end) {
				d->st.overlaps++;
				return DEFRAG_OVERLAP;
			}
		}
	}
	for (pp = &g->frags; *pp && (*pp)->off + (*pp)->len <= f->offset; pp = &(*pp)->next)
		;
	if (*pp && (*pp)->off < end) {
		if ((*pp)->off == f->offset && (*pp)->len == f->len &&
		    !memcmp((*pp)->data, f->data, f->len)) {
			d->st.dups++;
			return DEFRAG_DUP;
		}
		d->st.overlaps++;
		return DEFRAG_OVERLAP;
	}
	if (f->len == 0 && f->mf) { /* an empty middle fragment carries nothing */
		d->st.dups++;
		return DEFRAG_DUP;
	}
	if (g->nfrags >= d->o.max_frags) {
		d->st.too_many++;
		return refuse(d, g, DEFRAG_TOO_MANY);
	}
	if (d->st.held_bytes + f->len > d->o.max_bytes) {
		d->st.nomem++;
		return DEFRAG_NOMEM;
	}
	nf = malloc(sizeof(*nf) + f->len);
	if (!nf) {
		d->st.nomem++;
		return DEFRAG_NOMEM;
	}
	nf->off = f->offset;
	nf->len = (uint32_t)f->len;
	if (f->len)
		memcpy(nf->data, f->data, f->len);
	nf->next = *pp;
	*pp = nf;
	g->nfrags++;
	d->st.held_bytes += f->len;
	if (d->st.held_bytes > d->st.peak_bytes)
		d->st.peak_bytes = d->st.held_bytes;
	if (!f->mf)
		g->total = end;
	if (!g->total)
		return DEFRAG_HELD;
	covered = 0;
	for (nf = g->frags; nf; nf = nf->next) {
		if (nf->off != covered)
			return DEFRAG_HELD;
		covered += nf->len;
	}
	if (covered != g->total)
		return DEFRAG_HELD;
	for (nf = g->frags; nf; nf = nf->next)
		memcpy(d->out + nf->off, nf->data, nf->len);
	*out = d->out;
	*out_len = covered;
	d->st.reassembled++;
	dg_release(d, idx);
	return DEFRAG_DONE;
}

const struct defrag_stats *defrag_stats(const struct defrag *d)
{
	return &d->st;
}
