/* SPDX-License-Identifier: GPL-2.0 */
/* reasm: TCP stream reassembly per direction; first data wins, gaps are reported. */
#ifndef CG_DPI_REASM_H
#define CG_DPI_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Callbacks of one reassembler. data() gets in-order bytes exactly once;
 * gap() says len bytes of the stream are missing at this point (lost in the
 * capture, or skipped because a buffer cap was hit). ctx is the pointer
 * passed to each reasm_* call (the flow, usually); dir is 0 or 1.
 */
struct reasm_cb {
	void (*data)(void *ctx, int dir, const uint8_t *data, size_t len);
	void (*gap)(void *ctx, int dir, uint32_t len);
};

/*
 * What one queued segment costs beyond its payload (its header and the
 * allocator's), charged against the caps along with the payload. Without it,
 * 1-byte segments with holes between them would hold ~50 times the cap.
 */
#define REASM_SEG_OVERHEAD 48

struct reasm_opts {
	size_t max_flow_bytes;	/* out-of-order bytes buffered per direction (with overhead) */
	size_t max_total_bytes; /* out-of-order bytes buffered in all (with overhead) */
};

/*
 * cap_skips counts each time a cap was hit (the stream skipped ahead, or the
 * rest of a segment was not queued); either way the missing bytes become a gap.
 */
struct reasm_stats {
	uint64_t in_order, queued, retrans, overlaps, gaps, gap_bytes, cap_skips, nomem;
	uint64_t buffered, peak_buffered; /* bytes charged now / at most: payload + overhead */
};

struct reasm {
	struct reasm_opts o;
	struct reasm_cb cb;
	struct reasm_stats st;
};

struct reasm_seg;

enum {
	REASM_INIT = 1U << 0,	/* next is known */
	REASM_SYN = 1U << 1,	/* a SYN was seen: isn valid */
	REASM_FIN = 1U << 2,	/* a FIN was seen: fin_seq valid */
	REASM_CLOSED = 1U << 3, /* FIN reached in order, or RST: no more data */
	REASM_RST = 1U << 4,
};

/* State of one direction of a stream; zero-initialised means "nothing seen". */
struct reasm_dir {
	uint32_t flags; /* REASM_* */
	uint32_t isn, next, fin_seq;
	uint32_t buffered;	  /* bytes charged for q: payload + REASM_SEG_OVERHEAD each */
	uint32_t gaps;		  /* gaps reported */
	struct reasm_seg *q;	  /* out-of-order segments, sorted, never overlapping */
	struct reasm_seg *q_tail; /* last of q (appending is the common case) */
};

/* Initialise a reassembler (no allocation; nothing to free). */
void reasm_init(struct reasm *r, const struct reasm_opts *o, const struct reasm_cb *cb);

/*
 * One TCP segment of direction dir (flags are DEC_TCP_*). In-order bytes go to
 * cb.data at once without copying; out-of-order bytes are copied into the
 * queue (bounded by the caps, which charge REASM_SEG_OVERHEAD per queued
 * segment: when a cap is hit the stream skips ahead to the queued data,
 * reporting a gap, or the rest of the segment is not queued). Returns 0, or
 * -ENOMEM when a segment could not be queued (counted; the bytes are later
 * reported as a gap).
 */
int reasm_segment(struct reasm *r, struct reasm_dir *d, int dir, uint32_t seq, uint8_t flags,
		  const uint8_t *data, size_t len, void *ctx);

/*
 * The peer acknowledged up to ack in direction dir: bytes before it that were
 * never seen are a gap, so queued data behind them is delivered.
 */
void reasm_ack(struct reasm *r, struct reasm_dir *d, int dir, uint32_t ack, void *ctx);

/* End of stream: deliver what is queued (with gaps) and free the queue. */
void reasm_flush(struct reasm *r, struct reasm_dir *d, int dir, void *ctx);

/* Free the queue without delivering anything. */
void reasm_drop(struct reasm *r, struct reasm_dir *d);

#endif
