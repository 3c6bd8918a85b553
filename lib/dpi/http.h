/* SPDX-License-Identifier: GPL-2.0 */
/* HTTP/1.x per TCP connection: requests matched to responses, keep-alive, pipelining, bodies
 * skipped. */
#ifndef CG_DPI_HTTP_H
#define CG_DPI_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_HDR_MAX 16384  /* bytes of one message's start line + headers that are buffered */
#define HTTP_PENDING_MAX 64 /* requests waiting for a response; the oldest is emitted beyond */

/*
 * One request. Strings are NUL-terminated, valid only during the callback,
 * printable ASCII ('?' replaces other bytes); host is "" without a Host
 * header. status is the final (non-1xx) response status, or 0 when no
 * response was seen. ts is the value passed to the http_conn_feed() call that
 * completed the request's headers.
 */
struct http_event {
	const char *method, *host, *uri;
	int status;
	uint64_t ts;
};

/* Called once per request: when its response headers arrive, or at http_conn_end(). */
typedef void (*http_event_fn)(void *ctx, const struct http_event *ev);

/*
 * Where one direction's parser stands. The role of a direction (client or
 * server) comes from its content, not from the dir index, so a capture that
 * starts with the response, or with the roles swapped, still works.
 */
enum http_outcome {
	HTTP_OK = 0, /* parsing */
	HTTP_RESYNC, /* after a gap or an oversize header: waiting for data that starts a message */
	HTTP_NOT_HTTP,	/* the first bytes are not an HTTP/1.x start line: stopped */
	HTTP_MALFORMED, /* bad start line, Content-Length or chunk framing: stopped */
	HTTP_UPGRADED,	/* 101 Switching Protocols or CONNECT 2xx: not HTTP any more: stopped */
};

/* Counters of one connection (both directions). */
struct http_stats {
	uint64_t requests;  /* request headers parsed */
	uint64_t responses; /* final responses parsed */
	uint64_t unmatched; /* responses with no pending request (capture began mid-connection) */
	uint64_t oversize;  /* messages given up because their header exceeded HTTP_HDR_MAX */
	uint64_t gaps;	    /* gaps reported */
	uint64_t gaps_skipped; /* gaps that fell inside a body of known length (no loss of sync) */
	uint64_t resyncs;      /* times parsing resumed after HTTP_RESYNC */
	uint64_t flushed;      /* requests emitted without status because the queue was full */
};

struct http_conn;

/* A new connection parser, or NULL with errno = ENOMEM. Release with http_conn_free(). */
struct http_conn *http_conn_new(http_event_fn cb, void *ctx);

/* Frees the parser without emitting pending requests (call http_conn_end() first). NULL is allowed.
 */
void http_conn_free(struct http_conn *c);

/*
 * Bytes of heap c holds now (the connection, its header buffers, its
 * pending requests), for memory budgets; 0 for NULL.
 */
size_t http_conn_mem(const struct http_conn *c);

/*
 * Feed in-order stream bytes of direction dir (0 or 1). Returns 0, or
 * -ENOMEM (the connection stops parsing) or -EINVAL (bad dir).
 */
int http_conn_feed(struct http_conn *c, int dir, const uint8_t *data, size_t len, uint64_t ts);

/*
 * len bytes of direction dir were lost (len 0: unknown amount, or a
 * capture that starts mid-stream). Inside a body of known length the parser
 * just skips them; otherwise the partial message is dropped and the
 * direction waits in HTTP_RESYNC for a segment that starts with a request
 * or status line.
 */
void http_conn_gap(struct http_conn *c, int dir, uint64_t len);

/* The connection ended: emit every pending request (status 0). Idempotent. */
void http_conn_end(struct http_conn *c);

enum http_outcome http_conn_state(const struct http_conn *c, int dir);
const struct http_stats *http_conn_stats(const struct http_conn *c);
const char *http_outcome_str(enum http_outcome oc);

/* True if data starts like an HTTP/1.x request ("GET ", "POST ", ...) or response ("HTTP/1."). */
bool http_sniff(const uint8_t *data, size_t len);

/*
 * True if data (len > 0) is a proper prefix of a start http_sniff() accepts
 * ("GE", "HTTP/"): more bytes of the stream are needed to decide.
 */
bool http_sniff_partial(const uint8_t *data, size_t len);

#endif
