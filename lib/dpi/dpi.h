/* SPDX-License-Identifier: GPL-2.0 */
/* dpi: the analyzer library: packets in, flows, streams and application events out through
 * callbacks. */
#ifndef CG_DPI_DPI_H
#define CG_DPI_DPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/dpi/decode.h"
#include "lib/dpi/defrag.h"
#include "lib/dpi/dns.h"
#include "lib/dpi/flow.h"
#include "lib/dpi/http.h"
#include "lib/dpi/reasm.h"
#include "lib/dpi/tls.h"

enum dpi_event_type {
	DPI_EV_HTTP = 0,
	DPI_EV_DNS,
	DPI_EV_TLS,
	DPI_EV_QUIC,
};

/*
 * One application event. Pointers are valid only during the callback.
 * http: one per request (status 0 when no response was seen); dns: one per
 * message, transport "udp" or "tcp"; tls and quic: one per ClientHello.
 */
struct dpi_event {
	enum dpi_event_type type;
	uint64_t ts_ns;
	const struct flow *flow;
	const struct http_event *http;
	const struct dns_msg *dns;
	const char *transport;
	const struct tls_hello *hello; /* DPI_EV_TLS and DPI_EV_QUIC */
};

/*
 * Callbacks, all optional; ctx is dpi_opts.ctx. Pointers are valid only
 * during the call. on_flow_end is called once per flow, after its last
 * stream data, gaps and events. Stream data is in order per direction;
 * dir 0 is initiator -> responder.
 */
struct dpi_callbacks {
	void (*on_packet)(void *ctx, uint64_t ts_ns, enum dec_status st, const struct dec_pkt *pkt,
			  const struct flow *f);
	void (*on_flow_end)(void *ctx, const struct flow *f);
	void (*on_stream_data)(void *ctx, const struct flow *f, int dir, const uint8_t *data,
			       size_t len);
	void (*on_gap)(void *ctx, const struct flow *f, int dir, uint32_t len);
	void (*on_app_event)(void *ctx, const struct dpi_event *ev);
};

struct dpi_opts {
	uint32_t max_flows;	   /* flows at once; the least recently used is evicted beyond */
	uint64_t max_flow_buffer;  /* out-of-order TCP bytes buffered per direction */
	uint64_t max_total_buffer; /* out-of-order TCP bytes buffered in all */
	uint64_t tcp_idle_ns, udp_idle_ns; /* idle timeouts (packet time, or wall time live) */
	uint64_t closed_linger_ns; /* a TCP flow stays this long after FIN/RST for late packets */
	uint32_t frag_max_datagrams, frag_max_frags;
	uint64_t frag_max_bytes, frag_timeout_ns;
	/*
	 * Heap held by all flows' application parsers (HTTP header buffers and
	 * pending requests, DNS-over-TCP, TLS and QUIC ClientHello buffers).
	 * The flow whose parser takes the sum past it loses its parser.
	 */
	uint64_t max_parser_mem;
	bool no_apps; /* no application parsing (flows and streams only) */
	struct dpi_callbacks cb;
	void *ctx;
};

/* Everything the summary reports. Layer counters count frames containing the layer anywhere. */
struct dpi_counters {
	uint64_t packets, bytes;
	uint64_t ipv4, ipv6, tcp, udp, icmp, icmp6, arp, vlan, tunneled;
	uint64_t fragments;		      /* IP fragment frames */
	uint64_t reassembled;		      /* datagrams completed */
	uint64_t flows, tcp_flows, udp_flows; /* flows created */
	uint64_t malformed, unsupported, truncated;
	uint64_t evicted, idle_ended, reused;
	uint64_t app_events, app_errors;
	uint64_t parser_evicted; /* flows whose parser was stopped by max_parser_mem */
	uint64_t dns_truncated;	 /* DNS events of messages cut short after the question */
	/* TCP RSTs ignored, by reason (docs/dpi.md "RST"): */
	uint64_t rst_refused_window; /* sequence number outside the receiver's window (RFC 5961) */
	uint64_t rst_refused_ack;    /* answer to a SYN that does not acknowledge it (RFC 793) */
};

struct dpi;

/* Fill *o with the defaults (documented in docs/dpi.md). */
void dpi_opts_default(struct dpi_opts *o);

/* A new analyzer, or NULL with errno set. Free with dpi_free() (after dpi_flush()). */
struct dpi *dpi_new(const struct dpi_opts *o);
/* Frees everything; flows still open are freed without callbacks. NULL is allowed. */
void dpi_free(struct dpi *d);

/*
 * One captured frame: ts_ns since the epoch, linktype a DLT/LINKTYPE number,
 * data[0..caplen) the captured bytes, wirelen the length on the wire. The
 * buffer is only borrowed for the call. Returns the decode status (DEC_BAD
 * frames are counted as malformed; nothing in data can make this fail).
 */
enum dec_status dpi_packet(struct dpi *d, uint64_t ts_ns, int linktype, const uint8_t *data,
			   size_t caplen, size_t wirelen);

/* Expire idle flows at wall time now_ns (live capture when no packets arrive). */
void dpi_tick(struct dpi *d, uint64_t now_ns);

/* End of input: every flow still open ends ("eof", or fin/rst if it closed). */
void dpi_flush(struct dpi *d);

const struct dpi_counters *dpi_counters(const struct dpi *d);
const struct defrag_stats *dpi_defrag_stats(const struct dpi *d);
const struct reasm_stats *dpi_reasm_stats(const struct dpi *d);
uint32_t dpi_flows_active(const struct dpi *d);
/* Heap held by application parsers now (what max_parser_mem bounds). */
uint64_t dpi_parser_mem(const struct dpi *d);

#endif
