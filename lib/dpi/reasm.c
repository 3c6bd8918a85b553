// SPDX-License-Identifier: GPL-2.0
/* reasm: serial-number arithmetic (RFC 1982) so streams survive sequence wraparound. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dpi/decode.h"
#include "lib/dpi/reasm.h"

struct reasm_seg {
	struct reasm_seg *next;
	uint32_t seq, len;
	uint8_t data[];
};

/* Segments further ahead than this are garbage, not out of order. */
#define REASM_WINDOW (1u << 30)

static inline int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

void reasm_init(struct reasm *r, const struct reasm_opts *o, const struct reasm_cb *cb)
{
	memset(r, 0, sizeof(*r));
	r->o = *o;
	r->cb = *cb;
}

static void deliver(struct reasm *r, struct reasm_dir *d, int dir, const uint8_t *p, size_t len,
		    void *ctx)
{
	if (!len)
		return;
	d->next += (uint32_t)len;
	if (r->cb.data)
		r->cb.data(ctx, dir, p, len);
}

static void gap(struct reasm *r, struct reasm_dir *d, int dir, uint32_t len, void *ctx)
{
	if (!len)
		return;
	d->next += len;
	d->gaps++;
	r->st.gaps++;
	r->st.gap_bytes += len;
	if (r->cb.gap)
		r->cb.gap(ctx, dir, len);
}

/* What a queued segment of len bytes is charged against the caps. */
static size_t seg_cost(size_t len)
{
	return len + REASM_SEG_OVERHEAD;
}

/* Free s, already unlinked from the head of d->q. */
static void seg_free(struct reasm *r, struct reasm_dir *d, struct reasm_seg *s)
{
	if (d->q_tail == s)
		d->q_tail = NULL;
	d->buffered -= (uint32_t)seg_cost(s->len);
	r->st.buffered -= seg_cost(s->len);
	free(s);
}

/* Deliver queued segments that are now in order; trim what was already delivered. */
static void drain(struct reasm *r, struct reasm_dir *d, int dir, void *ctx)
{
	struct reasm_seg *s;

	while ((s = d->q) && seq_diff(s->seq, d->next) <= 0) {
		int32_t behind = seq_diff(d->next, s->seq);

		d->q = s->next;
		if ((uint32_t)behind < s->len)
			deliver(r, d, dir, s->data + behind, s->len - (uint32_t)behind, ctx);
		seg_free(r, d, s);
	}
	if ((d->flags & REASM_FIN) && !(d->flags & REASM_CLOSED) && d->next == d->fin_seq) {
		d->flags |= REASM_CLOSED;
		reasm_drop(r, d);
	}
}

/*
 * Deliver the part of [seq, seq+len) at or after next (seq <= next). Bytes
 * already queued arrived first and win, so the segment is cut around them.
 */
static void deliver_seg(struct reasm *r, struct reasm_dir *d, int dir, uint32_t seq,
			const uint8_t *data, size_t len, void *ctx)
{
	uint32_t end = seq + (uint32_t)len, start, limit;

	/*
	 * Queued bytes at or behind next (a gap or a cap skip moved next past
	 * them) arrived first: they go first, and the queue's head is then
	 * always after next, so limit > start below.
	 */
	drain(r, d, dir, ctx);
	while (seq_diff(end, d->next) > 0 && seq_diff(d->next, seq) >= 0) {
		start = d->next;
		limit = end;
		if (d->q && seq_diff(d->q->seq, limit) < 0) {
			limit = d->q->seq;
			r->st.overlaps++;
		}
		deliver(r, d, dir, data + (start - seq), limit - start, ctx);
		drain(r, d, dir, ctx);
	}
}

/* Jump over the hole before the first queued segment. */
static void skip_to_queue(struct reasm *r, struct reasm_dir *d, int dir, void *ctx)
{
	if (!d->q)
		return;
	if (seq_diff(d->q->seq, d->next) > 0)
		gap(r, d, dir, d->q->seq - d->next, ctx);
	drain(r, d, dir, ctx);
}

static bool over_cap(const struct reasm *r, const struct reasm_dir *d, size_t len)
{
	return d->buffered + len > r->o.max_flow_bytes ||
	       r->st.buffered + len > r->o.max_total_bytes;
}

/*
 * Queue [seq, seq+len) minus whatever is already queued (first data wins).
 * A segment spanning queued ones is cut into pieces, each charged its
 * overhead, so the caller's cap check may not cover them all: a piece that
 * would break a cap is not queued, nor is the rest (a cap skip; the hole
 * becomes a gap like any other).
 */
static int enqueue(struct reasm *r, struct reasm_dir *d, uint32_t seq, const uint8_t *p, size_t len)
{
	struct reasm_seg **pp = &d->q, *s;
	uint32_t end = seq + (uint32_t)len;
	bool overlapped = false;

	/* at or after the end of the queue (in order with holes): no walk, so no quadratic cost */
	if (d->q_tail && seq_diff(seq, d->q_tail->seq + d->q_tail->len) >= 0)
		pp = &d->q_tail->next;
	while (seq_diff(end, seq) > 0) {
		uint32_t piece_end = end;

		/* skip queued segments that end before seq */
		while (*pp && seq_diff((*pp)->seq + (*pp)->len, seq) <= 0)
			pp = &(*pp)->next;
		if (*pp && seq_diff((*pp)->seq, seq) <= 0) {
			/* seq is inside a queued segment: the older bytes win */
			uint32_t qend = (*pp)->seq + (*pp)->len;

			overlapped = true;
			p += qend - seq;
			seq = qend;
			continue;
		}
		if (*pp && seq_diff((*pp)->seq, end) < 0) {
			piece_end = (*pp)->seq;
			overlapped = true;
		}
		if (over_cap(r, d, seg_cost(piece_end - seq))) {
			r->st.cap_skips++;
			break;
		}
		s = malloc(sizeof(*s) + (piece_end - seq));
		if (!s) {
			r->st.nomem++;
			return -ENOMEM;
		}
		s->seq = seq;
		s->len = piece_end - seq;
		memcpy(s->data, p, s->len);
		s->next = *pp;
		*pp = s;
		pp = &s->next;
		if (!s->next)
			d->q_tail = s;
		d->buffered += (uint32_t)seg_cost(s->len);
		r->st.buffered += seg_cost(s->len);
		if (r->st.buffered > r->st.peak_buffered)
			r->st.peak_buffered = r->st.buffered;
		p += s->len;
		seq = piece_end;
	}
	if (overlapped)
		r->st.overlaps++;
	return 0;
}

int reasm_segment(struct reasm *r, struct reasm_dir *d, int dir, uint32_t seq, uint8_t flags,
		  const uint8_t *data, size_t len, void *ctx)
{
	int32_t off;
	int err = 0;

	if (d->flags & REASM_CLOSED)
		return 0;
	if (flags & DEC_TCP_SYN) {
		if (!(d->flags & REASM_SYN)) {
			d->flags |= REASM_SYN;
			d->isn = seq;
			if (!(d->flags & REASM_INIT) || seq_diff(seq + 1, d->next) > 0) {
				d->next = seq + 1;
				d->flags |= REASM_INIT;
			}
		}
		seq++; /* SYN occupies one sequence number (data on SYN follows it) */
	}
	if (!(d->flags & REASM_INIT)) {
		/* mid-stream start: the first segment seen defines the stream start */
		d->next = seq;
		d->flags |= REASM_INIT;
	}
	if (len > REASM_WINDOW)
		len = REASM_WINDOW;
	if (flags & DEC_TCP_FIN && !(d->flags & REASM_FIN)) {
		d->flags |= REASM_FIN;
		d->fin_seq = seq + (uint32_t)len;
	}
	off = seq_diff(seq, d->next);
	if (off > 0 && len && (uint32_t)off < REASM_WINDOW && over_cap(r, d, seg_cost(len))) {
		/* a cap is hit: skip ahead to the queued data, then to this segment */
		r->st.cap_skips++;
		while (over_cap(r, d, seg_cost(len)) && d->q)
			skip_to_queue(r, d, dir, ctx);
		off = seq_diff(seq, d->next);
		if (off > 0 && over_cap(r, d, seg_cost(len))) {
			gap(r, d, dir, (uint32_t)off, ctx);
			off = 0;
		}
	}
	if (off <= 0) {
		uint32_t behind = d->next - seq; /* -off, defined for INT32_MIN too */

		if (behind >= len) {
			if (len)
				r->st.retrans++;
		} else {
			if (behind)
				r->st.overlaps++;
			r->st.in_order++;
			deliver_seg(r, d, dir, seq, data, len, ctx);
		}
		drain(r, d, dir, ctx);
	} else if (len && (uint32_t)off < REASM_WINDOW) {
		r->st.queued++;
		err = enqueue(r, d, seq, data, len);
	} else if (!len && (flags & DEC_TCP_FIN) && !d->q && (uint32_t)off < REASM_WINDOW) {
		/* FIN after lost data and nothing queued: the hole is a gap */
		gap(r, d, dir, (uint32_t)off, ctx);
		drain(r, d, dir, ctx);
	}
	if (flags & DEC_TCP_RST) {
		d->flags |= REASM_RST;
		reasm_flush(r, d, dir, ctx);
	}
	return err;
}

void reasm_ack(struct reasm *r, struct reasm_dir *d, int dir, uint32_t ack, void *ctx)
{
	uint32_t limit = ack;

	if (!(d->flags & REASM_INIT) || (d->flags & REASM_CLOSED))
		return;
	if ((d->flags & REASM_FIN) && seq_diff(limit, d->fin_seq) > 0)
		limit = d->fin_seq;
	if (seq_diff(limit, d->next) <= 0 || (uint32_t)seq_diff(limit, d->next) >= REASM_WINDOW)
		return;
	while (d->q && seq_diff(d->q->seq, limit) <= 0)
		skip_to_queue(r, d, dir, ctx);
	if (seq_diff(limit, d->next) > 0) {
		gap(r, d, dir, limit - d->next, ctx);
		drain(r, d, dir, ctx);
	}
}

void reasm_flush(struct reasm *r, struct reasm_dir *d, int dir, void *ctx)
{
	while (d->q)
		skip_to_queue(r, d, dir, ctx);
	d->flags |= REASM_CLOSED;
}

void reasm_drop(struct reasm *r, struct reasm_dir *d)
{
	struct reasm_seg *s;

	while ((s = d->q)) {
		d->q = s->next;
		seg_free(r, d, s);
	}
}
