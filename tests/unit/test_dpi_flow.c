// SPDX-License-Identifier: GPL-2.0
/* Flow table and pipeline: FIN/RST ends, 4-tuple reuse, idle expiry, eviction, memory caps. */
#include <netinet/in.h>
#include <string.h>

#include "lib/dpi/dpi.h"
#include "tests/lib/pkt.h"
#include "tests/lib/t.h"
#include "tests/unit/dpi_hello.h"

#define NS 1000000000ull
#define MAXF 16

struct rec {
	struct flow ended[MAXF];
	size_t nended, total_ended;
	char stream[2][128];
	size_t slen[2];
	unsigned int gaps;
	unsigned int nhttp, ntls;
	int status;
	char host[64], uri[64], sni[TLS_SNI_MAX + 1];
};

static void on_app(void *ctx, const struct dpi_event *ev)
{
	struct rec *r = ctx;

	if (ev->type == DPI_EV_HTTP) {
		r->nhttp++;
		r->status = ev->http->status;
		snprintf(r->host, sizeof(r->host), "%s", ev->http->host);
		snprintf(r->uri, sizeof(r->uri), "%s", ev->http->uri);
	} else if (ev->type == DPI_EV_TLS) {
		r->ntls++;
		snprintf(r->sni, sizeof(r->sni), "%s", ev->hello->sni);
	}
}

static void on_end(void *ctx, const struct flow *f)
{
	struct rec *r = ctx;

	if (r->nended < MAXF)
		r->ended[r->nended++] = *f;
	r->total_ended++;
}

static void on_data(void *ctx, const struct flow *f, int dir, const uint8_t *data, size_t len)
{
	struct rec *r = ctx;

	(void)f;
	if (r->slen[dir] + len < sizeof(r->stream[dir])) {
		memcpy(r->stream[dir] + r->slen[dir], data, len);
		r->slen[dir] += len;
	}
}

static void on_gap(void *ctx, const struct flow *f, int dir, uint32_t len)
{
	struct rec *r = ctx;

	(void)f, (void)dir, (void)len;
	r->gaps++;
}

static struct dpi *mk(struct rec *r, uint32_t max_flows)
{
	struct dpi_opts o;

	memset(r, 0, sizeof(*r));
	dpi_opts_default(&o);
	o.max_flows = max_flows;
	o.cb.on_flow_end = on_end;
	o.cb.on_stream_data = on_data;
	o.cb.on_gap = on_gap;
	o.cb.on_app_event = on_app;
	o.ctx = r;
	return dpi_new(&o);
}

/* c2s: client 10.0.0.1:40000 -> server 10.0.0.2:80; win 0 is 65535, wscale is shift + 1 */
static void tcp_win(struct dpi *d, uint64_t t, bool c2s, uint8_t flags, uint32_t seq, uint32_t ack,
		    uint16_t win, int wscale, const char *data)
{
	struct pkt_spec s = { .family = 4,
			      .src = c2s ? "10.0.0.1" : "10.0.0.2",
			      .dst = c2s ? "10.0.0.2" : "10.0.0.1",
			      .proto = IPPROTO_TCP,
			      .sport = c2s ? 40000 : 80,
			      .dport = c2s ? 80 : 40000,
			      .tcp_flags = flags,
			      .seq = seq,
			      .ack = ack,
			      .tcp_win = win,
			      .tcp_wscale = wscale,
			      .payload = (const uint8_t *)data,
			      .payload_len = data ? strlen(data) : 0 };
	struct pkt p;

	if (ASSERT_EQ(pkt_build(&s, &p), 0, "tcp packet"))
		dpi_packet(d, t, DEC_LINK_ETH, p.data, p.len, p.len);
}

static void tcp(struct dpi *d, uint64_t t, bool c2s, uint8_t flags, uint32_t seq, uint32_t ack,
		const char *data)
{
	tcp_win(d, t, c2s, flags, seq, ack, 0, 0, data);
}

static void udp(struct dpi *d, uint64_t t, uint32_t client, uint16_t sport)
{
	char src[32];
	struct pkt_spec s = { .family = 4,
			      .src = src,
			      .dst = "10.0.0.2",
			      .proto = IPPROTO_UDP,
			      .sport = sport,
			      .dport = 9999,
			      .payload = (const uint8_t *)"x",
			      .payload_len = 1 };
	struct pkt p;

	snprintf(src, sizeof(src), "10.%u.%u.%u", client >> 16 & 255, client >> 8 & 255,
		 client & 255);
	if (ASSERT_EQ(pkt_build(&s, &p), 0, "udp packet"))
		dpi_packet(d, t, DEC_LINK_ETH, p.data, p.len, p.len);
}

#define S 0x02
#define A 0x10
#define F 0x01
#define R 0x04
#define P 0x08

static void test_fin_then_reuse(void)
{
	struct rec r;
	struct dpi *d = mk(&r, 100);

	tcp(d, 1 * NS, true, S, 100, 0, NULL);
	tcp(d, 1 * NS, false, S | A, 900, 101, NULL);
	tcp(d, 1 * NS, true, A | P, 101, 901, "hello");
	tcp(d, 1 * NS, true, F | A, 106, 901, NULL);
	tcp(d, 1 * NS, false, F | A, 901, 107, NULL);
	tcp(d, 1 * NS, true, A, 107, 902, NULL);
	ASSERT_EQ(r.nended, 0, "closed flow lingers for late packets");
	tcp(d, 2 * NS, true, S, 5000, 0, NULL); /* same 4-tuple, new ISN */
	ASSERT_EQ(r.nended, 1, "reuse ends the old flow");
	ASSERT_STREQ(flow_end_str(r.ended[0].end), "fin", "end reason");
	ASSERT_EQ(r.ended[0].pkts[0], 4, "client packets");
	ASSERT_EQ(r.ended[0].pkts[1], 2, "server packets");
	ASSERT_EQ(r.ended[0].init_side, 0, "client is src");
	ASSERT_EQ(dpi_counters(d)->reused, 1, "reuse counted");
	dpi_flush(d);
	ASSERT_EQ(r.nended, 2, "new flow ends at flush");
	ASSERT_STREQ(flow_end_str(r.ended[1].end), "eof", "eof");
	ASSERT_TRUE(r.ended[1].id != r.ended[0].id, "new id");
	ASSERT_MEMEQ(r.stream[0], "hello", 5, "stream data");
	dpi_free(d);
}

/* The server's FIN is missing from the capture: a new SYN on the 4-tuple is still a new flow. */
static void test_half_closed_reuse(void)
{
	struct rec r;
	struct dpi *d = mk(&r, 100);

	tcp(d, 1 * NS, true, S, 100, 0, NULL);
	tcp(d, 1 * NS, false, S | A, 900, 101, NULL);
	tcp(d, 1 * NS, true, A | P, 101, 901, "hello");
	tcp(d, 1 * NS, true, F | A, 106, 901, NULL);
	tcp(d, 2 * NS, true, S, 5000, 0, NULL); /* same 4-tuple, new ISN */
	tcp(d, 2 * NS, true, S, 5000, 0, NULL); /* its retransmission stays in the new flow */
	tcp(d, 2 * NS, false, S | A, 7000, 5001, NULL);
	tcp(d, 2 * NS, true, A | P, 5001, 7001, "GET /b HTTP/1.1\r\n\r\n");
	ASSERT_EQ(r.nended, 1, "reuse ends the old flow");
	ASSERT_EQ(dpi_counters(d)->reused, 1, "reuse counted");
	dpi_flush(d);
	ASSERT_EQ(r.nended, 2, "two flows");
	ASSERT_EQ(r.ended[1].pkts[0], 3, "new flow's client packets");
	ASSERT_EQ(r.nhttp, 1, "new connection's request parsed");
	ASSERT_STREQ(r.uri, "/b", "its uri");
	dpi_free(d);
}

static void test_rst(void)
{
	struct rec r;
	struct dpi *d = mk(&r, 100);

	tcp(d, 1 * NS, true, S, 100, 0, NULL);
	tcp(d, 1 * NS, false, R | A, 0, 101, NULL);
	tcp(d, 1 * NS, true, S, 100, 0, NULL); /* retransmitted SYN: same flow */
	dpi_flush(d);
	ASSERT_EQ(r.nended, 1, "one flow");
	ASSERT_STREQ(flow_end_str(r.ended[0].end), "rst", "rst");
	ASSERT_EQ(r.ended[0].pkts[0], 2, "syn retransmission in the flow");
	dpi_free(d);
}

/* Refused RSTs of d by reason: window and ack. */
static bool rst_refused(struct dpi *d, uint64_t window, uint64_t ack, const char *name)
{
	const struct dpi_counters *c = dpi_counters(d);

	return ASSERT_EQ(c->rst_refused_window, window, name) &&
	       ASSERT_EQ(c->rst_refused_ack, ack, name);
}

/*
 * RFC 5961: a RST outside the receiver's window is ignored and counted, so
 * an injected one does not end the flow or blind a direction; one inside
 * the window ends it.
 */
static void test_rst_outside_window(void)
{
	struct rec r;
	struct dpi *d = mk(&r, 100);

	tcp(d, 1 * NS, true, S, 100, 0, NULL);
	tcp(d, 1 * NS, false, S | A, 900, 101, NULL);
	tcp(d, 1 * NS, true, A | P, 101, 901, "hello");
	tcp(d, 1 * NS, false, A, 901, 106, NULL);
	tcp(d, 1 * NS, false, R | A, 901 + 100000, 106, NULL); /* past the client's 65535 */
	tcp(d, 1 * NS, true, R, 106 + 0x80000000u, 0, NULL);   /* half the space away */
	tcp(d, 1 * NS, true, R, 105, 0, NULL); /* behind what was sent and acknowledged */
	rst_refused(d, 3, 0, "three refused: outside the window");
	tcp(d, 1 * NS, true, A | P, 106, 901, "world");
	tcp(d, 1 * NS, false, A | P, 901, 111, "ok");
	ASSERT_EQ(r.nended, 0, "not ended by them");
	ASSERT_MEMEQ(r.stream[0], "helloworld", 10, "client direction not blinded");
	ASSERT_MEMEQ(r.stream[1], "ok", 2, "server direction not blinded");
	tcp(d, 1 * NS, false, R | A, 903 + 1000, 111, NULL); /* inside the window */
	rst_refused(d, 3, 0, "accepted");
	dpi_flush(d);
	ASSERT_EQ(r.nended, 1, "one flow");
	ASSERT_STREQ(flow_end_str(r.ended[0].end), "rst", "ended by the in-window RST");
	dpi_free(d);
}

/*
 * RSTs in steps: after each step the refused counters (window, ack) have the
 * given totals; the last RST of each case is taken and ends the flow.
 */
struct rst_step {
	bool c2s;
	uint8_t flags;
	uint32_t seq, ack;
	const char *data;
	uint64_t window, ack_refused;
};

static const struct {
	const char *name;
	struct rst_step step[6];
} rst_cases[] = {
	/*
	 * The receiver's RCV.NXT lies between its last acknowledgment and the
	 * sender's bytes seen: with "hello" in flight (not yet acknowledged), a
	 * RST at the acknowledged point is in the window (a firewall resetting
	 * on the sender's behalf sends that), one before it is not.
	 */
	{ "bytes_in_flight",
	  { { true, S, 100, 0, NULL, 0, 0 },
	    { false, S | A, 900, 101, NULL, 0, 0 },
	    { true, A | P, 101, 901, "hello", 0, 0 },
	    { true, R, 100, 0, NULL, 1, 0 },
	    { true, R, 101, 0, NULL, 1, 0 } } },
	/*
	 * A capture that starts mid-stream with one side's data: the other
	 * side's RST answers it as RFC 793 says (sequence number = the
	 * acknowledgment received, no ACK bit), checked against that
	 * acknowledgment and the window.
	 */
	{ "midstream",
	  { { true, A | P, 101, 5000, "hello", 0, 0 },
	    { false, R, 5000 + 70000, 0, NULL, 1, 0 },
	    { false, R, 5000, 0, NULL, 1, 0 } } },
	/* before its sender sent anything, a RST must acknowledge the peer's SYN (SYN-SENT) */
	{ "answer_to_syn",
	  { { true, S, 100, 0, NULL, 0, 0 },
	    { false, R | A, 0, 5555, NULL, 0, 1 },
	    { false, R, 0, 0, NULL, 0, 2 },
	    { false, R | A, 0, 101, NULL, 0, 2 } } },
};

static void test_rst_cases(void)
{
	struct rec r;
	size_t i, j;

	for (i = 0; i < sizeof(rst_cases) / sizeof(rst_cases[0]); i++) {
		struct dpi *d = mk(&r, 100);
		char name[96];

		for (j = 0; j < 6 && rst_cases[i].step[j].flags; j++) {
			const struct rst_step *st = &rst_cases[i].step[j];

			tcp(d, 1 * NS, st->c2s, st->flags, st->seq, st->ack, st->data);
			snprintf(name, sizeof(name), "%s: step %zu", rst_cases[i].name, j + 1);
			rst_refused(d, st->window, st->ack_refused, name);
		}
		dpi_flush(d);
		snprintf(name, sizeof(name), "%s: ended by the last RST", rst_cases[i].name);
		ASSERT_TRUE(r.nended == 1 && r.ended[0].end == FLOW_END_RST, name);
		dpi_free(d);
	}
}

/* The window is scaled once both SYNs carried the option (RFC 7323); the SYN's own is not. */
static void test_rst_scaled_window(void)
{
	struct rec r;
	struct dpi *d;
	int scaled;

	for (scaled = 0; scaled < 2; scaled++) {
		d = mk(&r, 100);
		tcp_win(d, 1 * NS, true, S, 100, 0, 65535, scaled ? 8 : 0, NULL);
		tcp_win(d, 1 * NS, false, S | A, 900, 101, 65535, scaled ? 8 : 0, NULL);
		tcp_win(d, 1 * NS, true, A, 101, 901, 1024, 0, NULL); /* 131072 bytes if scaled */
		tcp(d, 1 * NS, false, R | A, 901 + 100000, 101, NULL);
		rst_refused(d, scaled ? 0 : 1, 0,
			    scaled ? "inside the scaled window" : "outside 1024 bytes");
		dpi_free(d);
	}
}

static void test_closed_linger_expires(void)
{
	struct rec r;
	struct dpi *d = mk(&r, 100);

	tcp(d, 1 * NS, true, S, 100, 0, NULL);
	tcp(d, 1 * NS, false, R | A, 0, 101, NULL);
	udp(d, 20 * NS, 1, 1000); /* time passes */
	ASSERT_EQ(r.nended, 1, "closed flow ended after the linger time");
	ASSERT_STREQ(flow_end_str(r.ended[0].end), "rst", "keeps its reason");
	dpi_flush(d);
	dpi_free(d);
}

static void test_midstream_direction(void)
{
	struct rec r;
	struct dpi *d = mk(&r, 100);

	tcp(d, 1 * NS, false, A | P, 900, 101, "HTTP/1.1 200 OK\r\n");
	tcp(d, 1 * NS, true, A, 101, 917, NULL);
	dpi_flush(d);
	ASSERT_EQ(r.nended, 1, "one flow");
	ASSERT_EQ(r.ended[0].init_side, r.ended[0].key.addr[0][3] == 1 ? 0 : 1,
		  "client from the well-known port");
	ASSERT_EQ(r.ended[0].pkts[1], 1, "response counted as server->client");
	dpi_free(d);
}

static void test_overlap_through_pipeline(void)
{
	struct rec r;
	struct dpi *d = mk(&r, 100);

	tcp(d, 1 * NS, true, S, 100, 0, NULL);
	tcp(d, 1 * NS, true, A | P, 105, 0, "DATA");
	tcp(d, 1 * NS, true, A | P, 101, 0, "GOOD");
	tcp(d, 1 * NS, true, A | P, 101, 0, "EVIL");
	tcp(d, 1 * NS, true, A | P, 111, 0, "MORE"); /* hole at 109..110 */
	dpi_flush(d);
	ASSERT_EQ(r.slen[0], 12, "stream length");
	ASSERT_MEMEQ(r.stream[0], "GOODDATAMORE", 12, "first data wins");
	ASSERT_EQ(r.gaps, 1, "gap reported");
	ASSERT_EQ(r.ended[0].gaps, 1, "gap in flow record");
	dpi_free(d);
}

/* The protocol is told from a stream's start even when its first segment is one byte long. */
static void test_app_start_split(void)
{
	struct rec r;
	struct dpi *d = mk(&r, 100);

	tcp(d, 1 * NS, true, S, 100, 0, NULL);
	tcp(d, 1 * NS, false, S | A, 900, 101, NULL);
	tcp(d, 1 * NS, true, A | P, 101, 901, "G");
	tcp(d, 1 * NS, true, A | P, 102, 901, "E");
	tcp(d, 1 * NS, true, A | P, 103, 901, "T /a HTTP/1.1\r\nHost: example.com\r\n\r\n");
	tcp(d, 2 * NS, false, A | P, 901, 140, "HTTP/");
	tcp(d, 2 * NS, false, A | P, 906, 140, "1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	dpi_flush(d);
	ASSERT_EQ(r.nhttp, 1, "request seen");
	ASSERT_EQ(r.status, 200, "status");
	ASSERT_STREQ(r.host, "example.com", "host");
	ASSERT_STREQ(r.uri, "/a", "uri");
	ASSERT_STREQ(r.ended[0].app, "http", "flow app");
	dpi_free(d);
}

static void test_tls_start_split(void)
{
	static const char *const alpn[] = { "h2" };
	uint8_t hello[600], rec[700];
	size_t n, i, at = 0;
	struct rec r;
	struct dpi *d = mk(&r, 100);
	struct pkt_spec s = { .family = 4,
			      .src = "10.0.0.1",
			      .dst = "10.0.0.2",
			      .proto = IPPROTO_TCP,
			      .sport = 40000,
			      .dport = 443,
			      .tcp_flags = A | P };
	struct pkt p;

	n = build_hello(hello, "split.example", alpn, 1, 0);
	rec[0] = 0x16, rec[1] = 3, rec[2] = 1;
	put16(rec, 3, n);
	memcpy(rec + 5, hello, n);
	n += 5;
	/* one byte, then the rest */
	for (i = 0; i < 2; i++) {
		s.seq = 101 + (uint32_t)at;
		s.payload = rec + at;
		s.payload_len = i ? n - 1 : 1;
		if (ASSERT_EQ(pkt_build(&s, &p), 0, "tls packet"))
			dpi_packet(d, NS, DEC_LINK_ETH, p.data, p.len, p.len);
		at += s.payload_len;
	}
	dpi_flush(d);
	ASSERT_EQ(r.ntls, 1, "ClientHello seen");
	ASSERT_STREQ(r.sni, "split.example", "sni");
	dpi_free(d);
}

static void test_udp_idle(void)
{
	struct rec r;
	struct dpi *d = mk(&r, 100);

	udp(d, 1 * NS, 1, 40000);
	udp(d, 30 * NS, 1, 40000);
	udp(d, 95 * NS, 1, 40000);
	ASSERT_EQ(r.nended, 1, "idle flow ended");
	ASSERT_STREQ(flow_end_str(r.ended[0].end), "idle", "idle");
	ASSERT_EQ(r.ended[0].pkts[0], 2, "packets before idle");
	dpi_flush(d);
	ASSERT_EQ(dpi_counters(d)->flows, 2, "two flows");
	dpi_free(d);
}

static void test_evict_lru(void)
{
	struct rec r;
	struct dpi *d = mk(&r, 2);

	udp(d, 1 * NS, 1, 1000);
	udp(d, 2 * NS, 2, 1000);
	udp(d, 3 * NS, 1, 1000); /* flow 1 is now the most recent */
	udp(d, 4 * NS, 3, 1000);
	ASSERT_EQ(r.nended, 1, "one evicted");
	ASSERT_STREQ(flow_end_str(r.ended[0].end), "evicted", "reason");
	ASSERT_EQ(r.ended[0].id, 2, "least recently used went");
	ASSERT_EQ(dpi_counters(d)->evicted, 1, "counted");
	dpi_flush(d);
	dpi_free(d);
}

/* Memory: floods of flows, out-of-order bytes and fragments stay under the caps and finish. */
static void test_memory_flood(void)
{
	struct dpi_opts o;
	struct rec r;
	struct dpi *d;
	static uint8_t junk[1000];
	struct pkt p;
	uint32_t i;

	memset(&r, 0, sizeof(r));
	memset(junk, 'j', sizeof(junk));
	dpi_opts_default(&o);
	o.max_flows = 1000;
	o.max_flow_buffer = 8 * 1024;
	o.max_total_buffer = 64 * 1024;
	o.frag_max_datagrams = 100;
	o.frag_max_bytes = 256 * 1024;
	o.cb.on_flow_end = on_end;
	o.ctx = &r;
	d = dpi_new(&o);
	if (!ASSERT_TRUE(d != NULL, "new"))
		return;
	for (i = 0; i < 100000; i++) {
		char src[32];
		uint32_t fl = i / 7, k = i % 7;
		struct pkt_spec s = { .family = 4,
				      .src = src,
				      .dst = "10.255.0.1",
				      .proto = IPPROTO_TCP,
				      .sport = 40000,
				      .dport = 80,
				      .tcp_flags = A,
				      .seq = 1000 + (k ? (k + 1) * 1500 : 0),
				      .payload = junk,
				      .payload_len = sizeof(junk) };

		/* TCP flows: one segment, then six out of order */
		snprintf(src, sizeof(src), "10.%u.%u.%u", fl >> 16 & 255, fl >> 8 & 255, fl & 255);
		if (!ASSERT_EQ(pkt_build(&s, &p), 0, "tcp packet"))
			break;
		dpi_packet(d, (uint64_t)i * 1000, DEC_LINK_ETH, p.data, p.len, p.len);
		if (i % 3 == 0) {
			/* and fragments that never complete */
			struct pkt_spec fs = { .family = 4,
					       .src = src,
					       .dst = "10.255.0.2",
					       .proto = IPPROTO_UDP,
					       .frag = 1,
					       .frag_more = 1,
					       .frag_id = i,
					       .frag_off = 1480 / 8,
					       .no_l4 = 1,
					       .payload = junk,
					       .payload_len = 800 };

			if (!ASSERT_EQ(pkt_build(&fs, &p), 0, "fragment"))
				break;
			dpi_packet(d, (uint64_t)i * 1000, DEC_LINK_ETH, p.data, p.len, p.len);
		}
		ASSERT_TRUE(dpi_flows_active(d) <= 1000, "flow cap");
	}
	ASSERT_TRUE(dpi_reasm_stats(d)->peak_buffered <= 64 * 1024, "reassembly cap");
	ASSERT_TRUE(dpi_reasm_stats(d)->cap_skips > 0, "cap skips counted");
	ASSERT_TRUE(dpi_defrag_stats(d)->peak_active <= 100, "datagram cap");
	ASSERT_TRUE(dpi_defrag_stats(d)->peak_bytes <= 256 * 1024, "fragment byte cap");
	ASSERT_TRUE(dpi_counters(d)->evicted >= 13000, "evictions counted");
	dpi_flush(d);
	ASSERT_EQ(r.total_ended, dpi_counters(d)->flows, "every flow ended once");
	ASSERT_EQ(dpi_reasm_stats(d)->buffered, 0, "nothing left buffered");
	dpi_free(d);
}

/* A TCP packet of client 10.0.0.1:cport <-> 10.0.0.2:80. */
static void tcp_port(struct dpi *d, uint64_t t, uint16_t cport, bool c2s, uint8_t flags,
		     uint32_t seq, uint32_t ack, const char *data)
{
	struct pkt_spec s = { .family = 4,
			      .src = c2s ? "10.0.0.1" : "10.0.0.2",
			      .dst = c2s ? "10.0.0.2" : "10.0.0.1",
			      .proto = IPPROTO_TCP,
			      .sport = c2s ? cport : 80,
			      .dport = c2s ? 80 : cport,
			      .tcp_flags = flags,
			      .seq = seq,
			      .ack = ack,
			      .payload = (const uint8_t *)data,
			      .payload_len = data ? strlen(data) : 0 };
	struct pkt p;

	if (ASSERT_EQ(pkt_build(&s, &p), 0, "tcp packet"))
		dpi_packet(d, t, DEC_LINK_ETH, p.data, p.len, p.len);
}

static struct dpi *mk_budget(struct rec *r, uint64_t max_parser_mem)
{
	struct dpi_opts o;

	memset(r, 0, sizeof(*r));
	dpi_opts_default(&o);
	o.max_parser_mem = max_parser_mem;
	o.cb.on_flow_end = on_end;
	o.cb.on_app_event = on_app;
	o.ctx = r;
	return dpi_new(&o);
}

/* "GET /big HTTP/1.1\r\nX: xxx..." of 1400 bytes, a header that has not ended. */
static const char *big_header(void)
{
	static char h[1401];

	memset(h, 'x', sizeof(h) - 1);
	memcpy(h, "GET /big HTTP/1.1\r\nX: ", 22);
	return h;
}

/* 1400 more bytes of that header line. */
static const char *more_header(void)
{
	static char h[1401];

	memset(h, 'x', sizeof(h) - 1);
	return h;
}

/*
 * 40 connections each hold an unfinished 2800-byte header under a 32 KiB
 * parser budget: the sum never passes it, and each flow that would have
 * taken it past lost its parser (counted); their streams go on.
 */
static void test_parser_budget(void)
{
	const uint64_t max = 32 << 10;
	struct rec r;
	struct dpi *d = mk_budget(&r, max);
	bool under = true;
	uint16_t i;

	if (!ASSERT_TRUE(d != NULL, "new"))
		return;
	for (i = 0; i < 40; i++) {
		tcp_port(d, 1 * NS, 41000 + i, true, S, 100, 0, NULL);
		tcp_port(d, 1 * NS, 41000 + i, false, S | A, 900, 101, NULL);
		tcp_port(d, 1 * NS, 41000 + i, true, A | P, 101, 901, big_header());
		under &= dpi_parser_mem(d) <= max;
		tcp_port(d, 1 * NS, 41000 + i, true, A | P, 1501, 901, more_header());
		under &= dpi_parser_mem(d) <= max;
	}
	ASSERT_TRUE(under, "parser memory under the budget after every packet");
	/* a parser holds 4 KiB and more: at most 8 fit, the others were evicted */
	ASSERT_TRUE(dpi_counters(d)->parser_evicted >= 32, "evictions counted");
	ASSERT_TRUE(dpi_counters(d)->parser_evicted < 40, "the first parsers kept");
	ASSERT_TRUE(dpi_parser_mem(d) > 0, "kept parsers charged");
	dpi_flush(d);
	ASSERT_EQ(r.total_ended, 40, "every flow ended");
	ASSERT_EQ(dpi_parser_mem(d), 0, "all released");
	dpi_free(d);
}

/* The flow that breaks the budget still reports the request it had parsed, once. */
static void test_parser_budget_reports(void)
{
	struct rec r;
	struct dpi *d = mk_budget(&r, 2048);

	if (!ASSERT_TRUE(d != NULL, "new"))
		return;
	tcp(d, 1 * NS, true, S, 100, 0, NULL);
	tcp(d, 1 * NS, false, S | A, 900, 101, NULL);
	tcp(d, 1 * NS, true, A | P, 101, 901, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
	ASSERT_EQ(dpi_counters(d)->parser_evicted, 0, "first request fits");
	ASSERT_EQ(r.nhttp, 0, "pending until its response");
	tcp(d, 1 * NS, true, A | P, 129, 901, big_header());
	ASSERT_EQ(dpi_counters(d)->parser_evicted, 1, "evicted");
	ASSERT_EQ(dpi_parser_mem(d), 0, "its memory released");
	ASSERT_EQ(r.nhttp, 1, "pending request reported");
	ASSERT_STREQ(r.uri, "/a", "its uri");
	ASSERT_EQ(r.status, 0, "no status");
	tcp(d, 1 * NS, false, A | P, 901, 1529, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	dpi_flush(d);
	ASSERT_EQ(r.nhttp, 1, "not reported again");
	ASSERT_EQ(r.nended, 1, "flow ended");
	ASSERT_STREQ(r.ended[0].app, "http", "app kept in the flow record");
	dpi_free(d);
}

/*
 * The flow hash is keyed per analyzer: the same flow hashes differently in
 * two of them (so colliding keys cannot be precomputed), with the same id.
 */
static void test_hash_seeded(void)
{
	static const uint8_t k1[FLOW_HASH_KEY_LEN] = { 1 }, k2[FLOW_HASH_KEY_LEN] = { 2 };
	struct rec r1, r2;
	struct dpi *d1 = mk(&r1, 100), *d2 = mk(&r2, 100);
	struct flow_key key;

	if (!ASSERT_TRUE(d1 && d2, "new"))
		goto out;
	tcp(d1, 1 * NS, true, S, 100, 0, NULL);
	tcp(d2, 1 * NS, true, S, 100, 0, NULL);
	dpi_flush(d1);
	dpi_flush(d2);
	if (!ASSERT_EQ(r1.nended + r2.nended, 2, "one flow each"))
		goto out;
	ASSERT_EQ(r1.ended[0].id, r2.ended[0].id, "same id");
	ASSERT_TRUE(r1.ended[0].hash != r2.ended[0].hash, "different hash");
	key = r1.ended[0].key;
	ASSERT_EQ(flow_key_hash(&key, k1), flow_key_hash(&key, k1), "deterministic per key");
	ASSERT_TRUE(flow_key_hash(&key, k1) != flow_key_hash(&key, k2), "depends on the key");
out:
	dpi_free(d1);
	dpi_free(d2);
}

T_MAIN(T_CASE(test_fin_then_reuse), T_CASE(test_half_closed_reuse), T_CASE(test_rst),
       T_CASE(test_rst_outside_window), T_CASE(test_rst_cases), T_CASE(test_rst_scaled_window),
       T_CASE(test_closed_linger_expires), T_CASE(test_midstream_direction),
       T_CASE(test_overlap_through_pipeline), T_CASE(test_app_start_split),
       T_CASE(test_tls_start_split), T_CASE(test_udp_idle), T_CASE(test_evict_lru),
       T_CASE(test_memory_flood), T_CASE(test_parser_budget), T_CASE(test_parser_budget_reports),
       T_CASE(test_hash_seeded))
