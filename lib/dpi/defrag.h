/* SPDX-License-Identifier: GPL-2.0 */
/* defrag: IPv4 and IPv6 fragment reassembly with timeouts and hard limits. */
#ifndef CG_DPI_DEFRAG_H
#define CG_DPI_DEFRAG_H

#include <stddef.h>
#include <stdint.h>

#include "lib/dpi/decode.h"

struct defrag_opts {
	uint32_t max_datagrams; /* datagrams in progress at once; the oldest is evicted */
	uint32_t max_frags;	/* fragments per datagram */
	uint64_t max_bytes;	/* fragment bytes held in all */
	uint64_t timeout_ns;	/* since the first fragment, in packet time */
};

/* What happened to one fragment. */
enum defrag_verdict {
	DEFRAG_HELD = 0, /* stored, datagram incomplete */
	DEFRAG_DONE,	 /* datagram complete: *out is its payload */
	DEFRAG_DUP,	 /* exact duplicate of a held fragment: ignored */
	DEFRAG_OVERLAP,	 /* overlaps a held fragment differently: this fragment refused (first wins)
			  */
	DEFRAG_TOO_MANY, /* more than max_frags: datagram refused */
	DEFRAG_TOO_BIG,	 /* beyond 65535 bytes: datagram refused */
	DEFRAG_REFUSED,	 /* belongs to a datagram already refused */
	DEFRAG_NOMEM,	 /* byte cap or allocation failure: fragment dropped */
};

struct defrag_stats {
	uint64_t fragments, reassembled, dups, overlaps, too_many, too_big, refused, nomem;
	uint64_t timeouts, evicted;
	uint64_t held_bytes, peak_bytes; /* fragment payload bytes held now / at most */
	uint32_t active, peak_active;	 /* datagrams in progress now / at most */
};

struct defrag;

/* Returns a new reassembler, or NULL with errno set. Free with defrag_free(). */
struct defrag *defrag_new(const struct defrag_opts *opts);
void defrag_free(struct defrag *d);

/*
 * Add one fragment from the IP addresses src/dst (16 bytes each, IPv4 in the
 * first 4) at packet time ts_ns. On DEFRAG_DONE, *out and *out_len hold the
 * reassembled IP payload; the buffer belongs to d and stays valid until the
 * next call on d. The out-parameters are written only on DEFRAG_DONE.
 */
enum defrag_verdict defrag_add(struct defrag *d, uint64_t ts_ns, const uint8_t *src,
			       const uint8_t *dst, const struct dec_frag *f, const uint8_t **out,
			       size_t *out_len);

/* Drop datagrams older than the timeout at time now_ns (counted as timeouts). */
void defrag_expire(struct defrag *d, uint64_t now_ns);

const struct defrag_stats *defrag_stats(const struct defrag *d);

#endif
