// SPDX-License-Identifier: GPL-2.0
/* HTTP/1.x parser: scripted connections fed whole and byte by byte, gaps, every outcome. */
#include <errno.h>
#include <stdlib.h>

#include "lib/dpi/http.h"
#include "tests/lib/t.h"

#define MAXEV 80

struct seen {
	unsigned int n;
	char ev[MAXEV][128];
	uint64_t ts[MAXEV];
};

static void on_event(void *ctx, const struct http_event *e)
{
	struct seen *s = ctx;

	if (s->n < MAXEV) {
		snprintf(s->ev[s->n], sizeof(s->ev[0]), "%.20s %.40s %.50s %d", e->method, e->host,
			 e->uri, e->status);
		s->ts[s->n] = e->ts;
	}
	s->n++;
}

/* A script step: bytes of one direction, or a gap of n bytes (0: unknown). */
enum step_kind { S_END = 0, S_DATA, S_GAP };

struct step {
	enum step_kind kind;
	int dir;
	const char *data;
	uint64_t gap;
};

#define C2S(s)                  \
	{                       \
		S_DATA, 0, s, 0 \
	}
#define S2C(s)                  \
	{                       \
		S_DATA, 1, s, 0 \
	}
#define GAP(d, n)                 \
	{                         \
		S_GAP, d, NULL, n \
	}

static const struct {
	const char *name;
	struct step steps[8];
	const char *want[6];	    /* events, in order */
	enum http_outcome st0, st1; /* final state of each direction */
} cases[] = {
	{ "get 200",
	  { C2S("GET /a HTTP/1.1\r\nHost: example.com\r\n\r\n"),
	    S2C("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello") },
	  { "GET example.com /a 200" },
	  HTTP_OK,
	  HTTP_OK },
	{ "keep-alive",
	  { C2S("GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"),
	    S2C("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"),
	    C2S("POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody"),
	    S2C("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n") },
	  { "GET h /1 200", "POST h /2 404" },
	  HTTP_OK,
	  HTTP_OK },
	{ "pipelining",
	  { C2S("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
		"DELETE /3 HTTP/1.1\r\nHost: h\r\n\r\n"),
	    S2C("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		"4\r\nabcd\r\n0\r\n\r\n"
		"HTTP/1.1 301 Moved\r\nContent-Length: 2\r\n\r\nxy"
		"HTTP/1.1 204 No Content\r\n\r\n") },
	  { "GET h /1 200", "GET h /2 301", "DELETE h /3 204" },
	  HTTP_OK,
	  HTTP_OK },
	{ "head has no body",
	  { C2S("HEAD /x HTTP/1.1\r\nHost: h\r\n\r\nGET /y HTTP/1.1\r\nHost: h\r\n\r\n"),
	    S2C("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz") },
	  { "HEAD h /x 200", "GET h /y 200" },
	  HTTP_OK,
	  HTTP_OK },
	{ "304 and 100 continue",
	  { C2S("PUT /u HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"),
	    S2C("HTTP/1.1 100 Continue\r\n\r\n"), C2S("ok"),
	    S2C("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"),
	    C2S("GET /c HTTP/1.1\r\nHost: h\r\n\r\n"),
	    S2C("HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n") },
	  { "PUT h /u 201", "GET h /c 304" },
	  HTTP_OK,
	  HTTP_OK },
	{ "starts with a response",
	  { S2C("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbody"),
	    C2S("GET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
	    S2C("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") },
	  { "GET h /next 200" },
	  HTTP_OK,
	  HTTP_OK },
	{ "no response",
	  { C2S("GET /a HTTP/1.0\r\n\r\n"),
	    C2S("GET /b HTTP/1.0\r\nhOsT:   spaced.example  \r\n\r\n") },
	  { "GET  /a 0", "GET spaced.example /b 0" },
	  HTTP_OK,
	  HTTP_OK },
	{ "chunked with extensions and trailer",
	  { C2S("POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
		"A;name=v\r\n0123456789\r\n1 \r\nx\r\n0\r\nTrailer: t\r\n\r\n"
		"GET /after HTTP/1.1\r\nHost: h\r\n\r\n"),
	    S2C("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n"
		"Content-Length: 0\r\n\r\n") },
	  { "POST h /p 200", "GET h /after 200" },
	  HTTP_OK,
	  HTTP_OK },
	{ "body until close",
	  { C2S("GET /a HTTP/1.0\r\nHost: h\r\n\r\nGET /b HTTP/1.0\r\nHost: h\r\n\r\n"),
	    S2C("HTTP/1.0 200 OK\r\n\r\nHTTP/1.1 500 looks like a response but is body\r\n\r\n") },
	  { "GET h /a 200", "GET h /b 0" },
	  HTTP_OK,
	  HTTP_OK },
	{ "lf only",
	  { C2S("GET /lf HTTP/1.1\nHost: h\n\n"), S2C("HTTP/1.1 200 OK\nContent-Length: 1\n\nx") },
	  { "GET h /lf 200" },
	  HTTP_OK,
	  HTTP_OK },
	{ "roles swapped",
	  { S2C("GET /s HTTP/1.1\r\nHost: h\r\n\r\n"), C2S("HTTP/1.1 403 Forbidden\r\n\r\n") },
	  { "GET h /s 403" },
	  HTTP_OK,
	  HTTP_OK },
	{ "gap inside a body",
	  { C2S("GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"),
	    S2C("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab"), GAP(1, 4), S2C("cdef"),
	    C2S("GET /2 HTTP/1.1\r\nHost: h\r\n\r\n"), S2C("HTTP/1.1 202 OK\r\n\r\n") },
	  { "GET h /1 200", "GET h /2 202" },
	  HTTP_OK,
	  HTTP_OK },
	{ "gap inside a chunk",
	  { C2S("GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"),
	    S2C("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nab"), GAP(1, 6),
	    S2C("\r\n0\r\n\r\n"), C2S("GET /2 HTTP/1.1\r\nHost: h\r\n\r\n"),
	    S2C("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") },
	  { "GET h /1 200", "GET h /2 200" },
	  HTTP_OK,
	  HTTP_OK },
	{ "gap in a header resyncs",
	  { C2S("GET /1 HTTP/1.1\r\nHo"), GAP(0, 10), C2S("garbage\r\n\r\n"),
	    C2S("GET /2 HTTP/1.1\r\nHost: h\r\n\r\n"), S2C("HTTP/1.1 200 OK\r\n\r\n") },
	  { "GET h /2 200" },
	  HTTP_OK,
	  HTTP_OK },
	{ "gap past a body resyncs",
	  { C2S("GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"),
	    S2C("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"), GAP(1, 50), S2C("tail"),
	    C2S("GET /2 HTTP/1.1\r\nHost: h\r\n\r\n"), S2C("HTTP/1.1 200 OK\r\n\r\n") },
	  { "GET h /1 200", "GET h /2 200" },
	  HTTP_OK,
	  HTTP_OK },
	{ "mid-stream start",
	  { GAP(1, 0), S2C("rest of some body"), C2S("GET /m HTTP/1.1\r\nHost: h\r\n\r\n"),
	    S2C("HTTP/1.1 200 OK\r\n\r\n") },
	  { "GET h /m 200" },
	  HTTP_OK,
	  HTTP_OK },
	{ "not http",
	  { C2S("\x16\x03\x01\x02\x00\x01\x00\x01\xfc"), S2C("SSH-2.0-OpenSSH\r\n") },
	  { NULL },
	  HTTP_NOT_HTTP,
	  HTTP_NOT_HTTP },
	{ "bad content-length",
	  { C2S("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 12abc\r\n\r\n") },
	  { NULL },
	  HTTP_MALFORMED,
	  HTTP_OK },
	{ "conflicting content-length",
	  { C2S("GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
	    S2C("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n") },
	  { "GET h / 0" },
	  HTTP_OK,
	  HTTP_MALFORMED },
	{ "bad chunk size",
	  { C2S("GET / HTTP/1.1\r\nHost: h\r\n\r\n"),
	    S2C("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") },
	  { "GET h / 200" },
	  HTTP_OK,
	  HTTP_MALFORMED },
	{ "bad status line after a good message",
	  { C2S("GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"),
	    S2C("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 2x0 OK\r\n\r\n") },
	  { "GET h / 200", "GET  /2 0" },
	  HTTP_OK,
	  HTTP_MALFORMED },
	{ "bad version", { C2S("GET / HTTP/2.0\r\n\r\n") }, { NULL }, HTTP_NOT_HTTP, HTTP_OK },
	{ "websocket upgrade",
	  { C2S("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n"),
	    S2C("HTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x05hello"), C2S("\x81\x85zzzz") },
	  { "GET h /ws 101" },
	  HTTP_UPGRADED,
	  HTTP_UPGRADED },
	{ "connect tunnel",
	  { C2S("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n"),
	    S2C("HTTP/1.1 200 Connection established\r\n\r\n"), C2S("\x16\x03\x01") },
	  { "CONNECT h:443 h:443 200" },
	  HTTP_UPGRADED,
	  HTTP_UPGRADED },
	{ "non-printable uri bytes",
	  { C2S("GET /\x01\xff HTTP/1.1\r\nHost: h\x7f\r\n\r\n") },
	  { "GET h? /?? 0" },
	  HTTP_OK,
	  HTTP_OK },
};

static void run_case(size_t i, bool bytewise)
{
	struct seen s = { 0 };
	const struct step *st;
	struct http_conn *c;
	size_t j, k, n, nwant;
	char name[128];

	c = http_conn_new(on_event, &s);
	if (!ASSERT_TRUE(c != NULL, "new"))
		return;
	for (j = 0; j < 8; j++) {
		st = &cases[i].steps[j];
		if (st->kind == S_END)
			break;
		if (st->kind == S_GAP) {
			http_conn_gap(c, st->dir, st->gap);
			continue;
		}
		n = strlen(st->data);
		if (!bytewise) {
			http_conn_feed(c, st->dir, (const uint8_t *)st->data, n, j);
			continue;
		}
		for (k = 0; k < n; k++)
			http_conn_feed(c, st->dir, (const uint8_t *)st->data + k, 1, j);
	}
	snprintf(name, sizeof(name), "%s%s", cases[i].name, bytewise ? " (bytewise)" : "");
	ASSERT_EQ(http_conn_state(c, 0), cases[i].st0, name);
	ASSERT_EQ(http_conn_state(c, 1), cases[i].st1, name);
	http_conn_end(c);
	http_conn_end(c);
	http_conn_free(c);
	for (nwant = 0; nwant < 6 && cases[i].want[nwant]; nwant++)
		;
	if (!ASSERT_EQ(s.n, nwant, name))
		return;
	for (j = 0; j < nwant; j++)
		ASSERT_STREQ(s.ev[j], cases[i].want[j], name);
}

static void test_scripts(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(i, false);
}

/* Bytewise feeding would break "mid-stream start" and "gap ... resyncs" only by design. */
static void test_scripts_bytewise(void)
{
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strstr(cases[i].name, "resync") || strstr(cases[i].name, "mid-stream"))
			continue;
		run_case(i, true);
	}
}

/* The ts of an event is the one of the feed that completed the request. */
static void test_event_ts(void)
{
	struct seen s = { 0 };
	struct http_conn *c = http_conn_new(on_event, &s);
	static const char req[] = "GET /t HTTP/1.1\r\nHost: h\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\n\r\n";

	if (!ASSERT_TRUE(c != NULL, "new"))
		return;
	http_conn_feed(c, 0, (const uint8_t *)req, 10, 100);
	http_conn_feed(c, 0, (const uint8_t *)req + 10, sizeof(req) - 11, 200);
	http_conn_feed(c, 1, (const uint8_t *)resp, sizeof(resp) - 1, 300);
	ASSERT_EQ(http_conn_feed(c, 2, (const uint8_t *)resp, 1, 0), -EINVAL, "bad dir");
	http_conn_free(c);
	ASSERT_EQ(s.n, 1, "one");
	ASSERT_EQ(s.ts[0], 200, "ts");
}

/* Oversize header: counted, request order kept, parsing resumes with the next message. */
static void test_oversize(void)
{
	struct seen s = { 0 };
	struct http_conn *c = http_conn_new(on_event, &s);
	static const char big_start[] = "GET /big HTTP/1.1\r\nHost: h\r\nX-Pad: ";
	static const char next[] = "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
				   "HTTP/1.1 203 OK\r\nContent-Length: 0\r\n\r\n";
	char *pad = malloc(HTTP_HDR_MAX + 10);

	if (!ASSERT_TRUE(c != NULL && pad != NULL, "alloc"))
		goto out;
	memset(pad, 'p', HTTP_HDR_MAX + 10);
	http_conn_feed(c, 0, (const uint8_t *)big_start, sizeof(big_start) - 1, 1);
	http_conn_feed(c, 0, (const uint8_t *)pad, HTTP_HDR_MAX + 10, 2);
	ASSERT_EQ(http_conn_state(c, 0), HTTP_RESYNC, "resync");
	http_conn_feed(c, 0, (const uint8_t *)"\r\n\r\n", 4, 3);
	http_conn_feed(c, 0, (const uint8_t *)next, sizeof(next) - 1, 4);
	http_conn_feed(c, 1, (const uint8_t *)resp, sizeof(resp) - 1, 5);
	ASSERT_EQ(http_conn_stats(c)->oversize, 1, "counted");
	ASSERT_EQ(http_conn_stats(c)->requests, 2, "requests");
	ASSERT_EQ(http_conn_stats(c)->resyncs, 1, "resyncs");
	ASSERT_EQ(s.n, 1, "one event (the oversize request is not reported)");
	ASSERT_STREQ(s.ev[0], "GET h /next 203", "second response matched to second request");
out:
	free(pad);
	http_conn_free(c);
}

/* More pending requests than HTTP_PENDING_MAX: the oldest are emitted without status. */
static void test_pending_cap(void)
{
	struct seen s = { 0 };
	struct http_conn *c = http_conn_new(on_event, &s);
	static const char req[] = "GET /q HTTP/1.1\r\nHost: h\r\n\r\n";
	int i;

	if (!ASSERT_TRUE(c != NULL, "new"))
		return;
	for (i = 0; i < HTTP_PENDING_MAX + 6; i++)
		http_conn_feed(c, 0, (const uint8_t *)req, sizeof(req) - 1, (uint64_t)i);
	ASSERT_EQ(s.n, 6, "flushed early");
	ASSERT_EQ(http_conn_stats(c)->flushed, 6, "counted");
	http_conn_end(c);
	ASSERT_EQ(s.n, HTTP_PENDING_MAX + 6, "all at end");
	http_conn_free(c);
	http_conn_free(NULL);
}

static void test_stats_and_names(void)
{
	struct seen s = { 0 };
	struct http_conn *c = http_conn_new(on_event, &s);
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";

	if (!ASSERT_TRUE(c != NULL, "new"))
		return;
	http_conn_feed(c, 1, (const uint8_t *)resp, sizeof(resp) - 1, 0);
	http_conn_gap(c, 1, 4);
	http_conn_gap(c, 1, 100);
	ASSERT_EQ(http_conn_stats(c)->unmatched, 1, "unmatched");
	ASSERT_EQ(http_conn_stats(c)->gaps, 2, "gaps");
	ASSERT_EQ(http_conn_stats(c)->gaps_skipped, 1, "skipped");
	ASSERT_EQ(http_conn_state(c, 1), HTTP_RESYNC, "resync");
	http_conn_free(c);
	ASSERT_TRUE(http_sniff((const uint8_t *)"M-SEARCH * HTTP/1.1", 19), "ssdp");
	ASSERT_TRUE(!http_sniff((const uint8_t *)"GE", 2), "short");
	ASSERT_TRUE(http_sniff_partial((const uint8_t *)"GE", 2), "short: undecided");
	ASSERT_TRUE(http_sniff_partial((const uint8_t *)"HTTP/", 5), "status line: undecided");
	ASSERT_TRUE(!http_sniff_partial((const uint8_t *)"GET ", 4), "whole start: decided");
	ASSERT_TRUE(!http_sniff_partial((const uint8_t *)"GX", 2), "no start: decided");
	ASSERT_STREQ(http_outcome_str(HTTP_UPGRADED), "upgraded", "name");
}

T_MAIN(T_CASE(test_scripts), T_CASE(test_scripts_bytewise), T_CASE(test_event_ts),
       T_CASE(test_oversize), T_CASE(test_pending_cap), T_CASE(test_stats_and_names))
