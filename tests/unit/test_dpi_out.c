// SPDX-License-Identifier: GPL-2.0
/* The JSON lines exactly as issue 4 specifies them (other tools read this output). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dpi/out.h"
#include "tests/lib/t.h"

#define NS 1000000000ull

static struct flow *sample_flow(void)
{
	static struct flow f;

	memset(&f, 0, sizeof(f));
	f.key.af = 4;
	f.key.proto = 6;
	/* key side 1 is the initiator here: src must come from side 1 */
	f.key.addr[0][0] = 10, f.key.addr[0][3] = 2;
	f.key.addr[1][0] = 10, f.key.addr[1][3] = 1;
	f.key.port[0] = 80;
	f.key.port[1] = 40000;
	f.init_side = 1;
	f.id = 7;
	f.first_ns = 1 * NS + 500000000;
	f.last_ns = 2 * NS + 250000;
	f.pkts[0] = 12, f.pkts[1] = 10;
	f.bytes[0] = 900, f.bytes[1] = 5000;
	f.end = FLOW_END_FIN;
	f.app = "http";
	return &f;
}

static char *render(unsigned int flags, void (*fn)(struct out *o))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	struct out *o = out_new(fp, flags);

	fn(o);
	out_free(o);
	fclose(fp);
	return buf;
}

static void put_http(struct out *o)
{
	struct http_event h = {
		.method = "GET", .host = "example.com", .uri = "/a", .status = 200
	};
	struct http_event h2 = { .method = "POST", .host = "", .uri = "/b", .status = 0 };
	struct dpi_event ev = {
		.type = DPI_EV_HTTP, .ts_ns = 1 * NS + 500000000, .flow = sample_flow(), .http = &h
	};

	out_event(o, &ev);
	ev.http = &h2;
	out_event(o, &ev);
}

/* m: a UDP DNS message of the sample flow at 3 s, filled by fill() */
static void put_dns_msg(struct out *o, void (*fill)(struct dns_msg *m))
{
	static struct dns_msg m;
	struct dpi_event ev = { .type = DPI_EV_DNS,
				.ts_ns = 3 * NS,
				.flow = sample_flow(),
				.dns = &m,
				.transport = "udp" };

	memset(&m, 0, sizeof(m));
	fill(&m);
	out_event(o, &ev);
}

static void fill_dns(struct dns_msg *m)
{
	m->id = 4660;
	m->has_question = true;
	m->qtype = 1;
	strcpy(m->name, "example.com");
	m->nanswers = 1;
	strcpy(m->answers[0], "93.184.216.34");
}

/* A response cut after its question (snap length): what parsed, flagged, with a DNSSEC type. */
static void fill_dns_truncated(struct dns_msg *m)
{
	m->id = 1;
	m->qr = 1;
	m->has_question = true;
	m->truncated = true;
	m->qtype = 48;
	strcpy(m->name, "example.com");
}

static void put_dns(struct out *o)
{
	put_dns_msg(o, fill_dns);
}

static void put_dns_truncated(struct out *o)
{
	put_dns_msg(o, fill_dns_truncated);
}

static void put_tls(struct out *o)
{
	static struct tls_hello h;
	struct dpi_event ev = {
		.type = DPI_EV_TLS, .ts_ns = 4 * NS, .flow = sample_flow(), .hello = &h
	};

	memset(&h, 0, sizeof(h));
	strcpy(h.sni, "example.com");
	h.nalpn = 1;
	strcpy(h.alpn[0], "h2");
	out_event(o, &ev);
	ev.type = DPI_EV_QUIC;
	strcpy(h.alpn[0], "h3");
	out_event(o, &ev);
}

static void put_flow(struct out *o)
{
	struct flow *f = sample_flow();

	out_flow(o, f);
	f->nvlan = 2, f->vlan[0] = 100, f->vlan[1] = 7;
	f->key.proto = 17, f->end = FLOW_END_IDLE, f->app = NULL, f->gaps = 3;
	out_flow(o, f);
}

static void put_summary(struct out *o)
{
	struct dpi_counters c = { .packets = 10,
				  .bytes = 1000,
				  .ipv4 = 8,
				  .ipv6 = 2,
				  .tcp = 5,
				  .udp = 4,
				  .icmp = 1,
				  .icmp6 = 1,
				  .arp = 0,
				  .fragments = 2,
				  .reassembled = 1,
				  .flows = 3,
				  .malformed = 1,
				  .evicted = 0,
				  .parser_evicted = 7,
				  .dns_truncated = 5,
				  .rst_refused_window = 6,
				  .rst_refused_ack = 4 };

	out_summary(o, &c, 0.5, NULL);
}

static void put_all(struct out *o)
{
	put_http(o);
	put_flow(o);
	put_summary(o);
}

static void test_out_http(void)
{
	char *s = render(0, put_http);

	ASSERT_STREQ(s,
		     "{\"type\":\"http\",\"ts\":1.5,\"flow\":7,\"method\":\"GET\",\"host\":"
		     "\"example.com\",\"uri\":\"/a\",\"status\":200}\n"
		     "{\"type\":\"http\",\"ts\":1.5,\"flow\":7,\"method\":\"POST\",\"host\":null,"
		     "\"uri\":\"/b\"}\n",
		     "http");
	free(s);
}

static void test_out_dns(void)
{
	char *s = render(0, put_dns);

	ASSERT_STREQ(s,
		     "{\"type\":\"dns\",\"ts\":3.0,\"flow\":7,\"transport\":\"udp\",\"qr\":0,"
		     "\"id\":4660,\"name\":\"example.com\",\"qtype\":\"A\",\"rcode\":0,"
		     "\"answers\":[\"93.184.216.34\"]}\n",
		     "dns");
	free(s);
	s = render(0, put_dns_truncated);
	ASSERT_STREQ(s,
		     "{\"type\":\"dns\",\"ts\":3.0,\"flow\":7,\"transport\":\"udp\",\"qr\":1,"
		     "\"id\":1,\"name\":\"example.com\",\"qtype\":\"DNSKEY\",\"rcode\":0,"
		     "\"answers\":[],\"truncated\":true}\n",
		     "truncated dns");
	free(s);
}

static void test_out_tls_quic(void)
{
	char *s = render(0, put_tls);

	ASSERT_STREQ(s,
		     "{\"type\":\"tls\",\"ts\":4.0,\"flow\":7,\"sni\":\"example.com\",\"alpn\":"
		     "[\"h2\"]}\n"
		     "{\"type\":\"quic\",\"ts\":4.0,\"flow\":7,\"sni\":\"example.com\",\"alpn\":"
		     "[\"h3\"]}\n",
		     "tls");
	free(s);
}

static void test_out_flow(void)
{
	char *s = render(0, put_flow);

	ASSERT_STREQ(s,
		     "{\"type\":\"flow\",\"id\":7,\"proto\":\"tcp\",\"src\":\"10.0.0.1\",\"sport\":"
		     "40000,\"dst\":\"10.0.0.2\",\"dport\":80,\"vlan\":[],\"first\":1.5,\"last\":"
		     "2.00025,\"packets\":[12,10],\"bytes\":[900,5000],\"end\":\"fin\",\"app\":"
		     "\"http\",\"gaps\":0}\n"
		     "{\"type\":\"flow\",\"id\":7,\"proto\":\"udp\",\"src\":\"10.0.0.1\",\"sport\":"
		     "40000,\"dst\":\"10.0.0.2\",\"dport\":80,\"vlan\":[100,7],\"first\":1.5,"
		     "\"last\":2.00025,\"packets\":[12,10],\"bytes\":[900,5000],\"end\":\"idle\","
		     "\"app\":null,\"gaps\":3}\n",
		     "flow");
	free(s);
}

static void test_out_summary(void)
{
	char *s = render(0, put_summary);

	ASSERT_STREQ(s,
		     "{\"type\":\"summary\",\"packets\":10,\"bytes\":1000,\"ipv4\":8,\"ipv6\":2,"
		     "\"tcp\":5,\"udp\":4,\"icmp\":2,\"arp\":0,\"fragments\":2,\"reassembled\":1,"
		     "\"flows\":3,\"malformed\":1,\"evicted\":0,\"elapsed_s\":0.5,"
		     "\"parser_evicted\":7,\"dns_truncated\":5,\"rst_refused_window\":6,"
		     "\"rst_refused_ack\":4}\n",
		     "summary");
	free(s);
}

static void put_live_summary(struct out *o)
{
	struct dpi_counters c = { .packets = 3 };
	uint64_t dropped = 42;

	out_summary(o, &c, 1700000000.000001, &dropped);
}

static void test_out_summary_live(void)
{
	char *s = render(0, put_live_summary);

	ASSERT_STREQ(s,
		     "{\"type\":\"summary\",\"packets\":3,\"bytes\":0,\"ipv4\":0,\"ipv6\":0,"
		     "\"tcp\":0,\"udp\":0,\"icmp\":0,\"arp\":0,\"fragments\":0,\"reassembled\":0,"
		     "\"flows\":0,\"malformed\":0,\"evicted\":0,\"dropped\":42,"
		     "\"elapsed_s\":1700000000.000001,\"parser_evicted\":0,\"dns_truncated\":0,"
		     "\"rst_refused_window\":0,\"rst_refused_ack\":0}\n",
		     "live summary: dropped, microseconds");
	free(s);
}

/* Bytes the parsers never hand out are escaped anyway: every line stays valid JSON. */
static void put_odd_http(struct out *o)
{
	struct http_event h = { .method = "GET", .host = "a\"b\\c", .uri = "/\x01\x7f\xff" };
	struct dpi_event ev = {
		.type = DPI_EV_HTTP, .ts_ns = 1000, .flow = sample_flow(), .http = &h
	};

	out_event(o, &ev);
}

static void test_out_escapes(void)
{
	char *s = render(0, put_odd_http);

	ASSERT_STREQ(s,
		     "{\"type\":\"http\",\"ts\":0.000001,\"flow\":7,\"method\":\"GET\",\"host\":"
		     "\"a\\\"b\\\\c\",\"uri\":\"/\\u0001\\u007f\\u00ff\"}\n",
		     "escapes");
	free(s);
}

static void test_out_modes(void)
{
	char *s = render(OUT_SUMMARY_ONLY, put_all);

	ASSERT_TRUE(!strncmp(s, "{\"type\":\"summary\"", 17) && !strchr(s, '\n')[1],
		    "--summary: one line");
	free(s);
	s = render(OUT_QUIET, put_all);
	ASSERT_STREQ(s, "", "-q: nothing");
	free(s);
}

T_MAIN(T_CASE(test_out_http), T_CASE(test_out_dns), T_CASE(test_out_tls_quic),
       T_CASE(test_out_flow), T_CASE(test_out_summary), T_CASE(test_out_summary_live),
       T_CASE(test_out_escapes), T_CASE(test_out_modes))
