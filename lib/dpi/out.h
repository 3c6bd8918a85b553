/* SPDX-License-Identifier: GPL-2.0 */
/* out: the JSON-lines output of `capgate dpi` (http, dns, tls, quic, flow and summary objects). */
#ifndef CG_DPI_OUT_H
#define CG_DPI_OUT_H

#include <stdint.h>
#include <stdio.h>

#include "lib/dpi/dpi.h"

enum {
	OUT_SUMMARY_ONLY = 1U << 0, /* --summary: only the summary line */
	OUT_QUIET = 1U << 1,	    /* -q: nothing */
};

struct out;

/* A writer on fp (not owned: the caller closes it), or NULL with errno set. */
struct out *out_new(FILE *fp, unsigned int flags);
/* Frees the writer; NULL is allowed. */
void out_free(struct out *o);

/* Each writes one line. Return 0, or -EIO when the stream failed (sticky). */
int out_event(struct out *o, const struct dpi_event *ev);
int out_flow(struct out *o, const struct flow *f);
/* The summary; @dropped (live captures: packets the kernel dropped) adds "dropped", NULL omits it.
 */
int out_summary(struct out *o, const struct dpi_counters *c, double elapsed_s,
		const uint64_t *dropped);

/* Protocol name for the flow "proto" field: "tcp", "udp", "icmp", "icmpv6", else the number. */
const char *out_proto_str(unsigned int proto, char buf[8]);
/* Seconds as a JSON number from nanoseconds. */
double out_ts(uint64_t ns);

#endif
