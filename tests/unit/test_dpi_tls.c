// SPDX-License-Identifier: GPL-2.0
/* TLS ClientHello parser: handshake messages, record reassembly across segments, every outcome. */
#include <stdlib.h>

#include "lib/dpi/tls.h"
#include "tests/lib/t.h"
#include "tests/unit/dpi_hello.h"

static uint8_t hs[80000], recs[90000];

/* Feed the stream in pieces of step bytes; returns the first non-MORE outcome (or MORE). */
static enum tls_outcome feed_steps(const uint8_t *b, size_t len, size_t step, struct tls_hello *h)
{
	struct tls_stream *s = tls_stream_new();
	enum tls_outcome oc = TLS_MORE;
	size_t off, n;

	if (!s)
		return TLS_MALFORMED;
	for (off = 0; off < len && oc == TLS_MORE; off += n) {
		n = len - off < step ? len - off : step;
		oc = tls_stream_feed(s, b + off, n, h);
	}
	if (oc != TLS_MORE && tls_stream_feed(s, b, 1, h) != TLS_DONE)
		oc = TLS_DONE; /* a final outcome must be followed by DONE: make the test fail */
	tls_stream_free(s);
	return oc;
}

static void test_hello_parse(void)
{
	static const char *const alpn[] = { "h2", "http/1.1" };
	struct tls_hello h;
	size_t n;

	n = build_hello(hs, "example.com", alpn, 2, 0);
	ASSERT_EQ(tls_client_hello_parse(hs, n, &h), TLS_OK, "parse");
	ASSERT_STREQ(h.sni, "example.com", "sni");
	ASSERT_EQ(h.nalpn, 2, "nalpn");
	ASSERT_STREQ(h.alpn[0], "h2", "alpn0");
	ASSERT_STREQ(h.alpn[1], "http/1.1", "alpn1");
	/* trailing bytes after the message are not ours */
	hs[n] = 0x16;
	ASSERT_EQ(tls_client_hello_parse(hs, n + 1, &h), TLS_OK, "trailing");

	n = build_hello(hs, NULL, NULL, 0, 0);
	ASSERT_EQ(tls_client_hello_parse(hs, n, &h), TLS_OK, "no ext");
	ASSERT_STREQ(h.sni, "", "no sni");
	ASSERT_EQ(h.nalpn, 0, "no alpn");
}

/* Every prefix of a valid hello is MORE, never an error. */
static void test_hello_prefixes(void)
{
	static const char *const alpn[] = { "h3" };
	struct tls_hello h;
	size_t n, i;
	bool ok = true;

	n = build_hello(hs, "a.example", alpn, 1, 100);
	for (i = 0; i < n; i++)
		ok &= tls_client_hello_parse(hs, i, &h) == TLS_MORE;
	ASSERT_TRUE(ok, "prefixes are MORE");
	ASSERT_EQ(tls_client_hello_parse(hs, n, &h), TLS_OK, "whole");
}

static void test_hello_sanitize(void)
{
	struct tls_hello h;
	size_t n;

	n = build_hello(hs, "bad\x01name\x7f", NULL, 0, 0);
	ASSERT_EQ(tls_client_hello_parse(hs, n, &h), TLS_OK, "parse");
	ASSERT_STREQ(h.sni, "bad?name?", "non-printable replaced");
}

/* Negative cases, one per outcome. */
static void test_hello_outcomes(void)
{
	static const struct {
		const char *name;
		size_t at; /* byte to change (0 = none) */
		uint8_t val;
		int cut; /* bytes removed from the end */
		enum tls_outcome want;
	} cases[] = {
		{ "server hello", 0, 2, 0, TLS_NOT_HELLO },
		{ "length 64k", 1, 0x01, 0, TLS_TOO_BIG },
		{ "session id 33", 4 + 2 + 32, 33, 0, TLS_MALFORMED },
		{ "version 2.x", 4, 2, 0, TLS_MALFORMED },
		{ "ext len overruns", 4 + 2 + 32 + 1 + 32 + 4 + 2, 0xff, 0, TLS_MALFORMED },
		{ "sni list overruns", 4 + 2 + 32 + 1 + 32 + 4 + 2 + 2 + 4 + 1, 0xff, 0,
		  TLS_MALFORMED },
		{ "truncated", 0, 1, 1, TLS_MORE },
	};
	struct tls_hello h;
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = build_hello(hs, "example.com", NULL, 0, 0);
		hs[cases[i].at] = cases[i].val;
		ASSERT_EQ(tls_client_hello_parse(hs, n - cases[i].cut, &h), cases[i].want,
			  cases[i].name);
	}
}

/* Record reassembly: segment sizes x record sizes, including byte by byte. */
static void test_stream_table(void)
{
	static const char *const alpn[] = { "h2" };
	static const struct {
		size_t pad, rec, step;
	} cases[] = {
		{ 0, 16384, 100000 },	{ 0, 16384, 1 },   { 0, 7, 3 },
		{ 3000, 300, 300 },	{ 3000, 1000, 1 }, { 30000, 16384, 1024 },
		{ 60000, 16384, 1460 },
	};
	struct tls_hello h;
	size_t i, n, m;
	char name[64];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "pad %zu rec %zu step %zu", cases[i].pad, cases[i].rec,
			 cases[i].step);
		n = build_hello(hs, "many.segments.example", alpn, 1, cases[i].pad);
		m = build_records(recs, hs, n, cases[i].rec);
		memset(&h, 0, sizeof(h));
		if (ASSERT_EQ(feed_steps(recs, m, cases[i].step, &h), TLS_OK, name)) {
			ASSERT_STREQ(h.sni, "many.segments.example", name);
			ASSERT_STREQ(h.alpn[0], "h2", name);
		}
	}
}

static void test_stream_outcomes(void)
{
	struct tls_stream *s;
	struct tls_hello h;
	size_t n, m;

	/* HTTP on port 443 */
	ASSERT_EQ(feed_steps((const uint8_t *)"GET / HTTP/1.1\r\n", 16, 16, &h), TLS_NOT_HELLO,
		  "http");
	/* application data before any handshake */
	ASSERT_EQ(feed_steps((const uint8_t *)"\x17\x03\x03\x00\x01x", 6, 1, &h), TLS_NOT_HELLO,
		  "appdata");
	/* zero-length record */
	ASSERT_EQ(feed_steps((const uint8_t *)"\x16\x03\x01\x00\x00", 5, 5, &h), TLS_MALFORMED,
		  "empty record");
	/* over the cap: a 70000-byte hello */
	n = build_hello(hs, "big.example", NULL, 0, 70000);
	m = build_records(recs, hs, n, 16384);
	ASSERT_EQ(feed_steps(recs, m, 1460, &h), TLS_TOO_BIG, "too big");
	/* a gap before the hello completed: no SNI, even if the rest arrives */
	n = build_hello(hs, "gap.example", NULL, 0, 3000);
	m = build_records(recs, hs, n, 16384);
	s = tls_stream_new();
	if (!ASSERT_TRUE(s != NULL, "new"))
		return;
	ASSERT_EQ(tls_stream_feed(s, recs, 1000, &h), TLS_MORE, "first part");
	ASSERT_EQ(tls_stream_gap(s), TLS_GAP, "gap");
	ASSERT_EQ(tls_stream_feed(s, recs + 2000, m - 2000, &h), TLS_DONE, "after gap");
	ASSERT_EQ(tls_stream_gap(s), TLS_DONE, "second gap");
	tls_stream_free(s);
	tls_stream_free(NULL);
}

static void test_outcome_names(void)
{
	ASSERT_STREQ(tls_outcome_str(TLS_OK), "ok", "ok");
	ASSERT_STREQ(tls_outcome_str(TLS_GAP), "gap", "gap");
	ASSERT_STREQ(tls_outcome_str((enum tls_outcome)99), "unknown", "unknown");
}

T_MAIN(T_CASE(test_hello_parse), T_CASE(test_hello_prefixes), T_CASE(test_hello_sanitize),
       T_CASE(test_hello_outcomes), T_CASE(test_stream_table), T_CASE(test_stream_outcomes),
       T_CASE(test_outcome_names))
