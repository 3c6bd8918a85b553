// SPDX-License-Identifier: GPL-2.0
/* DNS parser: real messages, names and compression, every outcome, TCP framing split every way. */
#define _GNU_SOURCE /* open_memstream */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/dpi/dns.h"
#include "lib/dpi/dpi.h"
#include "lib/dpi/out.h"
#include "tests/lib/pkt.h"
#include "tests/lib/t.h"
#include "tests/unit/dpi_dns_vectors.h"
#include "tests/unit/dpi_hello.h"

static struct dns_msg msg;
static uint8_t buf[4096];

/* Real messages from the captures. */
static void test_real(void)
{
	static const struct {
		const char *name, *hex;
		int qr;
		const char *qname, *qtype;
		unsigned int nanswers;
		const char *first, *last;
	} cases[] = {
		{ "A query", dns_udp_a_q, 0, "google.com", "A", 0, NULL, NULL },
		{ "A response", dns_udp_a, 1, "google.com", "A", 12, "216.197.242.244",
		  "216.197.242.245" },
		{ "AAAA response", dns_udp_aaaa, 1, "google.com", "AAAA", 1,
		  "2607:f8b0:400f:801::200e", "2607:f8b0:400f:801::200e" },
		{ "MX response", dns_udp_mx, 1, "google.com", "MX", 5, "aspmx.l.google.com",
		  "alt4.aspmx.l.google.com" },
	};
	char t[DNS_TYPE_STR_MAX];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = unhex(cases[i].hex, buf, sizeof(buf));
		if (!ASSERT_EQ(dns_parse(buf, n, &msg), DNS_OK, cases[i].name))
			continue;
		ASSERT_EQ(msg.qr, cases[i].qr, cases[i].name);
		ASSERT_EQ(msg.rcode, 0, cases[i].name);
		ASSERT_TRUE(msg.has_question, cases[i].name);
		ASSERT_STREQ(msg.name, cases[i].qname, cases[i].name);
		ASSERT_STREQ(dns_type_str(msg.qtype, t), cases[i].qtype, cases[i].name);
		if (!ASSERT_EQ(msg.nanswers, cases[i].nanswers, cases[i].name) || !msg.nanswers)
			continue;
		ASSERT_STREQ(msg.answers[0], cases[i].first, cases[i].name);
		ASSERT_STREQ(msg.answers[msg.nanswers - 1], cases[i].last, cases[i].name);
	}
	n = unhex(dns_udp_a, buf, sizeof(buf));
	dns_parse(buf, n, &msg);
	ASSERT_EQ(msg.id, 0x1a2d, "id");
}

/*
 * RR type names: the whole IANA "Resource Record (RR) TYPEs" registry, as
 * dig and tshark print them (checked against tshark 4.0's table, which
 * lacks the newest entries and says "*" for ANY), and every other value in
 * the RFC 3597 form.
 */
static void test_type_names(void)
{
	static const struct {
		uint16_t type;
		const char *want;
	} named[] = {
		{ 1, "A" },	    { 2, "NS" },      { 3, "MD" },	    { 4, "MF" },
		{ 5, "CNAME" },	    { 6, "SOA" },     { 7, "MB" },	    { 8, "MG" },
		{ 9, "MR" },	    { 10, "NULL" },   { 11, "WKS" },	    { 12, "PTR" },
		{ 13, "HINFO" },    { 14, "MINFO" },  { 15, "MX" },	    { 16, "TXT" },
		{ 17, "RP" },	    { 18, "AFSDB" },  { 19, "X25" },	    { 20, "ISDN" },
		{ 21, "RT" },	    { 22, "NSAP" },   { 23, "NSAP-PTR" },   { 24, "SIG" },
		{ 25, "KEY" },	    { 26, "PX" },     { 27, "GPOS" },	    { 28, "AAAA" },
		{ 29, "LOC" },	    { 30, "NXT" },    { 31, "EID" },	    { 32, "NIMLOC" },
		{ 33, "SRV" },	    { 34, "ATMA" },   { 35, "NAPTR" },	    { 36, "KX" },
		{ 37, "CERT" },	    { 38, "A6" },     { 39, "DNAME" },	    { 40, "SINK" },
		{ 41, "OPT" },	    { 42, "APL" },    { 43, "DS" },	    { 44, "SSHFP" },
		{ 45, "IPSECKEY" }, { 46, "RRSIG" },  { 47, "NSEC" },	    { 48, "DNSKEY" },
		{ 49, "DHCID" },    { 50, "NSEC3" },  { 51, "NSEC3PARAM" }, { 52, "TLSA" },
		{ 53, "SMIMEA" },   { 55, "HIP" },    { 56, "NINFO" },	    { 57, "RKEY" },
		{ 58, "TALINK" },   { 59, "CDS" },    { 60, "CDNSKEY" },    { 61, "OPENPGPKEY" },
		{ 62, "CSYNC" },    { 63, "ZONEMD" }, { 64, "SVCB" },	    { 65, "HTTPS" },
		{ 66, "DSYNC" },    { 67, "HHIT" },   { 68, "BRID" },	    { 99, "SPF" },
		{ 100, "UINFO" },   { 101, "UID" },   { 102, "GID" },	    { 103, "UNSPEC" },
		{ 104, "NID" },	    { 105, "L32" },   { 106, "L64" },	    { 107, "LP" },
		{ 108, "EUI48" },   { 109, "EUI64" }, { 128, "NXNAME" },    { 249, "TKEY" },
		{ 250, "TSIG" },    { 251, "IXFR" },  { 252, "AXFR" },	    { 253, "MAILB" },
		{ 254, "MAILA" },   { 255, "ANY" },   { 256, "URI" },	    { 257, "CAA" },
		{ 258, "AVC" },	    { 259, "DOA" },   { 260, "AMTRELAY" },  { 261, "RESINFO" },
		{ 262, "WALLET" },  { 263, "CLA" },   { 264, "IPN" },	    { 32768, "TA" },
		{ 32769, "DLV" },
	};
	char t[DNS_TYPE_STR_MAX], want[DNS_TYPE_STR_MAX], name[32];
	size_t i = 0;
	uint32_t type;
	bool ok = true;

	for (type = 0; type <= 0xffff; type++) {
		if (i < sizeof(named) / sizeof(named[0]) && named[i].type == type)
			snprintf(want, sizeof(want), "%s", named[i++].want);
		else
			snprintf(want, sizeof(want), "TYPE%u", type);
		if (strcmp(dns_type_str((uint16_t)type, t), want)) {
			snprintf(name, sizeof(name), "type %u", type);
			ok = ASSERT_STREQ(dns_type_str((uint16_t)type, t), want, name) && ok;
		}
	}
	ASSERT_EQ(i, sizeof(named) / sizeof(named[0]), "the table is in order");
	ASSERT_TRUE(ok, "every type");
	/* the examples users meet */
	ASSERT_STREQ(dns_type_str(48, t), "DNSKEY", "DNSKEY");
	ASSERT_STREQ(dns_type_str(65, t), "HTTPS", "HTTPS");
	ASSERT_STREQ(dns_type_str(54, t), "TYPE54", "unassigned");
	ASSERT_STREQ(dns_type_str(65280, t), "TYPE65280", "private use");
}

/* Header: id 0x1234, flags, qd, an counts; ns = ar = 0. */
static size_t hdr(uint8_t *b, uint16_t flags, uint16_t qd, uint16_t an)
{
	size_t o = put16(b, 0, 0x1234);

	o = put16(b, o, flags);
	o = put16(b, o, qd);
	o = put16(b, o, an);
	o = put16(b, o, 0);
	return put16(b, o, 0);
}

/* RR header after its name: type, class IN, ttl 60, rdlength. */
static size_t rr(uint8_t *b, size_t o, uint16_t type, uint16_t rdlen)
{
	o = put16(b, o, type);
	o = put16(b, o, 1);
	o = put16(b, o, 0);
	o = put16(b, o, 60);
	return put16(b, o, rdlen);
}

/* Crafted messages: one row per behaviour or outcome. */
static void test_crafted(void)
{
	static const struct {
		const char *name;
		const char *hex; /* after the 12-byte header */
		uint16_t flags, qd, an;
		enum dns_outcome want;
		const char *qname, *answer0;
	} cases[] = {
		{ "root name",
		  "00"
		  "0002"
		  "0001",
		  0, 1, 0, DNS_OK, ".", NULL },
		{ "escaped label",
		  "03612e62"
		  "02005c"
		  "00"
		  "0001"
		  "0001",
		  0, 1, 0, DNS_OK, "a\\.b.\\000\\\\", NULL },
		{ "no question", "", 0x8180, 0, 0, DNS_OK, "", NULL },
		{ "rcode nxdomain",
		  "0161"
		  "00"
		  "0001"
		  "0001",
		  0x8183, 1, 0, DNS_OK, "a", NULL },
		{ "cname then a",
		  "0161"
		  "00"
		  "0001"
		  "0001"
		  "c00c"
		  "0005"
		  "0001"
		  "0000003c"
		  "0004"
		  "0162c00c"
		  "c013"
		  "0001"
		  "0001"
		  "0000003c"
		  "0004"
		  "01020304",
		  0x8180, 1, 2, DNS_OK, "a", "b.a" },
		{ "ptr and ns",
		  "0161"
		  "00"
		  "000c"
		  "0001"
		  "c00c"
		  "000c"
		  "0001"
		  "0000003c"
		  "0002"
		  "c00c"
		  "c00c"
		  "0002"
		  "0001"
		  "0000003c"
		  "0005"
		  "026e7300"
		  "00",
		  0x8180, 1, 2, DNS_OK, "a", "a" },
		{ "txt skipped",
		  "0161"
		  "00"
		  "0010"
		  "0001"
		  "c00c"
		  "0010"
		  "0001"
		  "0000003c"
		  "0002"
		  "0178",
		  0x8180, 1, 1, DNS_OK, "a", NULL },
		{ "header short", "", 0, 0, 0, DNS_SHORT, NULL, NULL },
		{ "question cut", "0361", 0, 1, 0, DNS_SHORT, NULL, NULL },
		{ "qtype cut",
		  "016100"
		  "00",
		  0, 1, 0, DNS_SHORT, NULL, NULL },
		{ "answer cut",
		  "0161"
		  "00"
		  "0001"
		  "0001"
		  "c00c"
		  "0001",
		  0x8180, 1, 1, DNS_SHORT, NULL, NULL },
		{ "rdata past end",
		  "0161"
		  "00"
		  "0001"
		  "0001"
		  "c00c"
		  "0001"
		  "0001"
		  "0000003c"
		  "0004"
		  "0102",
		  0x8180, 1, 1, DNS_SHORT, NULL, NULL },
		{ "label type 01",
		  "4161"
		  "00"
		  "0001"
		  "0001",
		  0, 1, 0, DNS_BAD_NAME, NULL, NULL },
		{ "label type 10",
		  "8161"
		  "00"
		  "0001"
		  "0001",
		  0, 1, 0, DNS_BAD_NAME, NULL, NULL },
		{ "pointer to itself",
		  "c00c"
		  "0001"
		  "0001",
		  0, 1, 0, DNS_BAD_NAME, NULL, NULL },
		{ "forward pointer",
		  "c010"
		  "0001"
		  "0001"
		  "00",
		  0, 1, 0, DNS_BAD_NAME, NULL, NULL },
		{ "pointer past end",
		  "0161"
		  "00"
		  "0001"
		  "0001"
		  "c0ff"
		  "0001"
		  "0001"
		  "0000003c"
		  "0004"
		  "01020304",
		  0x8180, 1, 1, DNS_BAD_NAME, NULL, NULL },
		{ "a rdlen 5",
		  "0161"
		  "00"
		  "0001"
		  "0001"
		  "c00c"
		  "0001"
		  "0001"
		  "0000003c"
		  "0005"
		  "0102030405",
		  0x8180, 1, 1, DNS_BAD_RDATA, NULL, NULL },
		{ "aaaa rdlen 4",
		  "0161"
		  "00"
		  "001c"
		  "0001"
		  "c00c"
		  "001c"
		  "0001"
		  "0000003c"
		  "0004"
		  "01020304",
		  0x8180, 1, 1, DNS_BAD_RDATA, NULL, NULL },
		{ "cname overruns rdata",
		  "0161"
		  "00"
		  "0005"
		  "0001"
		  "c00c"
		  "0005"
		  "0001"
		  "0000003c"
		  "0002"
		  "0362636400",
		  0x8180, 1, 1, DNS_BAD_RDATA, NULL, NULL },
		{ "mx without preference",
		  "0161"
		  "00"
		  "000f"
		  "0001"
		  "c00c"
		  "000f"
		  "0001"
		  "0000003c"
		  "0001"
		  "00",
		  0x8180, 1, 1, DNS_BAD_RDATA, NULL, NULL },
	};
	char name[80];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = hdr(buf, cases[i].flags, cases[i].qd, cases[i].an);
		n += unhex(cases[i].hex, buf + n, sizeof(buf) - n);
		if (cases[i].want == DNS_SHORT && !cases[i].qd)
			n = 11;
		snprintf(name, sizeof(name), "%s", cases[i].name);
		if (!ASSERT_EQ(dns_parse(buf, n, &msg), cases[i].want, name) ||
		    cases[i].want != DNS_OK)
			continue;
		ASSERT_STREQ(msg.name, cases[i].qname, name);
		ASSERT_EQ(msg.has_question, cases[i].qd > 0, name);
		ASSERT_EQ(msg.rcode, cases[i].flags & 0xf, name);
		if (cases[i].answer0)
			ASSERT_STREQ(msg.answers[0], cases[i].answer0, name);
		else
			ASSERT_EQ(msg.nanswers, 0, name);
	}
}

/* Name length: 255 wire bytes pass, 256 do not (three 63-byte labels, one of last bytes, root). */
static void test_name_length(void)
{
	static const struct {
		size_t last;
		enum dns_outcome want;
	} cases[] = { { 61, DNS_OK }, { 62, DNS_BAD_NAME } };
	size_t n, i, j;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = hdr(buf, 0, 1, 0);
		for (j = 0; j < 3; j++) {
			buf[n++] = 63;
			memset(buf + n, 'a', 63);
			n += 63;
		}
		buf[n++] = (uint8_t)cases[i].last;
		memset(buf + n, 'b', cases[i].last);
		n += cases[i].last;
		buf[n++] = 0;
		n = put16(buf, n, 1);
		n = put16(buf, n, 1);
		ASSERT_EQ(dns_parse(buf, n, &msg), cases[i].want, "name length");
	}
}

/* A chain of backward pointers: 32 hops are followed, 33 are refused. */
static void test_pointer_hops(void)
{
	static const struct {
		size_t chain;
		enum dns_outcome want;
	} cases[] = { { 1, DNS_OK }, { 31, DNS_OK }, { 32, DNS_BAD_NAME }, { 200, DNS_BAD_NAME } };
	size_t n, i, j, rdata, last;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = hdr(buf, 0x8180, 1, 2);
		n += unhex("0161"
			   "00"
			   "0001"
			   "0001",
			   buf + n, 16); /* question "a" at 12 */
		/* RR 1, type 99 (skipped): rdata is the chain, each pointer to the one before */
		buf[n++] = 0;
		n = rr(buf, n, 99, (uint16_t)(2 * cases[i].chain));
		rdata = n;
		for (j = 0; j < cases[i].chain; j++)
			n = put16(buf, n, 0xc000 | (j ? rdata + 2 * (j - 1) : 12));
		last = rdata + 2 * (cases[i].chain - 1);
		/* RR 2, an A record named by a pointer to the chain's end */
		n = put16(buf, n, 0xc000 | last);
		n = rr(buf, n, 1, 4);
		n += unhex("0a000001", buf + n, 4);
		if (!ASSERT_EQ(dns_parse(buf, n, &msg), cases[i].want, "hops") ||
		    cases[i].want != DNS_OK)
			continue;
		ASSERT_STREQ(msg.answers[0], "10.0.0.1", "answer");
	}
}

/* More answers than DNS_ANSWERS_MAX: kept up to the cap, the rest counted. */
static void test_answer_cap(void)
{
	size_t n, i;

	n = hdr(buf, 0x8180, 1, 20);
	n += unhex("0161"
		   "00"
		   "0001"
		   "0001",
		   buf + n, 16);
	for (i = 0; i < 20; i++) {
		n = put16(buf, n, 0xc00c);
		n = rr(buf, n, 1, 4);
		buf[n++] = 10;
		buf[n++] = 0;
		buf[n++] = 0;
		buf[n++] = (uint8_t)i;
	}
	if (!ASSERT_EQ(dns_parse(buf, n, &msg), DNS_OK, "parse"))
		return;
	ASSERT_EQ(msg.nanswers, DNS_ANSWERS_MAX, "kept");
	ASSERT_EQ(msg.answers_dropped, 4, "dropped");
	ASSERT_STREQ(msg.answers[15], "10.0.0.15", "last kept");
}

/*
 * Every prefix of a real response that cuts the header, question or answers
 * fails cleanly; the last 11 bytes are the EDNS OPT record of the additional
 * section, which is not parsed. A prefix that holds the whole first question
 * is reported, truncated, with that question (what the snap length leaves);
 * a shorter one is not.
 */
static void test_prefixes(void)
{
	char name[DNS_TEXT_MAX];
	size_t n, i, qend;
	bool ok = true, reported = true, unreported = true;
	uint16_t qtype;

	n = unhex(dns_udp_mx, buf, sizeof(buf));
	if (!ASSERT_EQ(dns_parse(buf, n, &msg), DNS_OK, "whole"))
		return;
	snprintf(name, sizeof(name), "%s", msg.name);
	qtype = msg.qtype;
	qend = 12 + strlen(name) + 2 +
	       4; /* header, labels with their lengths and the root, type, class */
	for (i = 0; i < n - 11; i++) {
		enum dns_outcome oc = dns_parse(buf, i, &msg);

		ok &= oc != DNS_OK;
		if (i < qend)
			unreported &= !dns_reportable(oc, &msg);
		else
			reported &= dns_reportable(oc, &msg) && msg.truncated &&
				    !strcmp(msg.name, name) && msg.qtype == qtype;
	}
	ASSERT_TRUE(ok, "prefixes");
	ASSERT_TRUE(unreported, "cut inside the header or the question: no event");
	ASSERT_TRUE(reported, "cut after the question: reported truncated with it");
	ASSERT_EQ(dns_parse(buf, n - 11, &msg), DNS_OK, "without additional");
	ASSERT_TRUE(dns_reportable(DNS_OK, &msg) && !msg.truncated, "complete: not truncated");
}

struct tcp_seen {
	unsigned int ok, gap, bad, truncated;
	char names[32][32];
};

static void on_msg(void *ctx, enum dns_outcome oc, const struct dns_msg *m)
{
	struct tcp_seen *s = ctx;

	if (oc == DNS_OK && m) {
		if (s->ok < 32)
			snprintf(s->names[s->ok], sizeof(s->names[0]), "%.31s", m->name);
		s->ok++;
	} else if (oc == DNS_GAP) {
		s->gap++;
	} else {
		s->bad++;
		if (m && m->truncated && !strcmp(m->name, "aaa"))
			s->truncated++;
	}
}

/* TCP: 20 framed queries in one segment, fed whole and split at every step size. */
static void test_tcp_split(void)
{
	static const size_t steps[] = { 1, 2, 3, 7, 31, 32, 33, 100, 649, 650 };
	struct tcp_seen s;
	struct dns_tcp *t;
	size_t n, i, off, k;
	char name[64];

	n = unhex(dns_tcp_multi, buf, sizeof(buf));
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		memset(&s, 0, sizeof(s));
		t = dns_tcp_new(on_msg, &s);
		if (!ASSERT_TRUE(t != NULL, "new"))
			return;
		for (off = 0; off < n; off += k) {
			k = n - off < steps[i] ? n - off : steps[i];
			dns_tcp_feed(t, buf + off, k);
		}
		dns_tcp_free(t);
		snprintf(name, sizeof(name), "step %zu", steps[i]);
		ASSERT_EQ(s.ok, 20, name);
		ASSERT_EQ(s.bad + s.gap, 0, name);
		ASSERT_STREQ(s.names[0], "0.google.com", name);
		ASSERT_STREQ(s.names[19], "19.google.com", name);
	}
	/* a response split byte by byte */
	memset(&s, 0, sizeof(s));
	t = dns_tcp_new(on_msg, &s);
	n = unhex(dns_tcp_google, buf, sizeof(buf));
	for (off = 0; off < n; off++)
		dns_tcp_feed(t, buf + off, 1);
	dns_tcp_free(t);
	ASSERT_EQ(s.ok, 1, "response");
	ASSERT_STREQ(s.names[0], "www.google.com", "response name");
}

#ifdef __SANITIZE_ADDRESS__
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

/* Memory follows the bytes received: a length prefix of 65535 and one byte cost little. */
static void test_tcp_memory(void)
{
#ifdef __SANITIZE_ADDRESS__
	static struct dns_tcp *t[256];
	struct tcp_seen s = { 0 };
	size_t before, used, i;

	before = __sanitizer_get_current_allocated_bytes();
	for (i = 0; i < 256; i++) {
		t[i] = dns_tcp_new(on_msg, &s);
		if (!ASSERT_TRUE(t[i] != NULL, "new"))
			return;
		dns_tcp_feed(t[i], (const uint8_t *)"\xff\xff\x12", 3);
	}
	used = __sanitizer_get_current_allocated_bytes() - before;
	ASSERT_TRUE(used < 256 * 2048, "under 2 KiB per direction");
	for (i = 0; i < 256; i++)
		dns_tcp_free(t[i]);
	ASSERT_EQ(s.ok + s.bad + s.gap, 0, "nothing complete");
#else
	T_SKIP("needs ASan's allocator statistics");
#endif
}

static void test_tcp_gap_and_bad(void)
{
	struct tcp_seen s = { 0 };
	struct dns_tcp *t;
	size_t n;

	n = unhex(dns_tcp_multi, buf, sizeof(buf));
	t = dns_tcp_new(on_msg, &s);
	if (!ASSERT_TRUE(t != NULL, "new"))
		return;
	dns_tcp_feed(t, buf, 100); /* 3 whole queries (32 bytes each) and part of the 4th */
	dns_tcp_gap(t);
	dns_tcp_feed(t, buf + 200, n - 200);
	dns_tcp_gap(t);
	dns_tcp_free(t);
	ASSERT_EQ(s.ok, 3, "before the gap");
	ASSERT_EQ(s.gap, 1, "one gap report");

	/* a framed message that is not DNS, then a good one: framing survives */
	memset(&s, 0, sizeof(s));
	t = dns_tcp_new(on_msg, &s);
	dns_tcp_feed(t, (const uint8_t *)"\x00\x03\xff\xff\xff\x00\x00", 7);
	dns_tcp_feed(t, buf, 32);
	dns_tcp_free(t);
	dns_tcp_free(NULL);
	ASSERT_EQ(s.bad, 2, "short + empty");
	ASSERT_EQ(s.ok, 1, "good after bad");
	ASSERT_STREQ(dns_outcome_str(DNS_BAD_RDATA), "bad_rdata", "name");
}

/* An error outcome keeps what was read before it: the first question of a malformed response. */
static void test_partial(void)
{
	size_t n, i;

	n = hdr(buf, 0x8180, 2, 0);
	n += unhex("0361616100"
		   "0001"
		   "0001",
		   buf + n, 16);
	for (i = 0; i < 5; i++) {
		buf[n++] = 63;
		memset(buf + n, 'x', 63);
		n += 63;
	}
	buf[n++] = 0;
	n = put16(buf, n, 1);
	n = put16(buf, n, 1);
	ASSERT_EQ(dns_parse(buf, n, &msg), DNS_BAD_NAME, "second question too long");
	ASSERT_TRUE(msg.has_question, "first question kept");
	ASSERT_TRUE(dns_reportable(DNS_BAD_NAME, &msg) && msg.truncated, "reported truncated");
	/* the same message framed over TCP reaches the callback with its question */
	{
		struct tcp_seen s = { 0 };
		struct dns_tcp *t = dns_tcp_new(on_msg, &s);
		uint8_t len[2] = { (uint8_t)(n >> 8), (uint8_t)n };

		if (!ASSERT_TRUE(t != NULL, "new"))
			return;
		dns_tcp_feed(t, len, 2);
		dns_tcp_feed(t, buf, n);
		dns_tcp_free(t);
		ASSERT_EQ(s.truncated, 1, "tcp: reported truncated");
	}
	ASSERT_STREQ(msg.name, "aaa", "name");
	ASSERT_EQ(msg.qtype, 1, "qtype");
	ASSERT_EQ(msg.id, 0x1234, "id");

	n = hdr(buf, 0x8180, 1, 0);
	n += unhex("03616161c0ff", buf + n, 16);
	ASSERT_EQ(dns_parse(buf, n, &msg), DNS_BAD_NAME, "bad first name");
	ASSERT_TRUE(!msg.has_question, "no question");
	ASSERT_STREQ(msg.name, "", "name cleared");
	ASSERT_TRUE(!dns_reportable(DNS_BAD_NAME, &msg), "nothing to report");
	ASSERT_EQ(dns_parse(buf, 5, &msg), DNS_SHORT, "inside the header");
	ASSERT_TRUE(!msg.has_question && !dns_reportable(DNS_SHORT, &msg), "no stale question");
}

/* The JSON lines of the DNS events of a pipeline (ctx: the writer). */
static void write_event(void *ctx, const struct dpi_event *ev)
{
	out_event(ctx, ev);
}

/*
 * A real response (google.com A, 12 answers) as a UDP datagram through the
 * whole pipeline, cut by the snap length or damaged after its question: the
 * event holds what parsed before the cut, flagged truncated, as tshark and
 * Zeek report such a message; a cut inside the header or the question gives
 * no event (an app error). The message: header 12 bytes, question to 28,
 * then 16 bytes per answer.
 */
static void test_truncated_through_pipeline(void)
{
#define DNS_LINE                                                                  \
	"{\"type\":\"dns\",\"ts\":1.0,\"flow\":1,\"transport\":\"udp\",\"qr\":1," \
	"\"id\":6701,\"name\":\"google.com\",\"qtype\":\"A\",\"rcode\":0,"
	static const struct {
		const char *name;
		size_t cut;	  /* DNS bytes captured (the snap length), 0: all */
		int bad_at;	  /* a byte set to 0xff (-1: none) */
		const char *want; /* the line, or NULL: no event */
	} cases[] = {
		{ "whole", 0, -1, NULL },
		{ "cut in the third answer", 28 + 2 * 16 + 5, -1,
		  DNS_LINE "\"answers\":[\"216.197.242.244\",\"216.197.242.217\"],"
			   "\"truncated\":true}\n" },
		{ "cut after the question", 28, -1,
		  DNS_LINE "\"answers\":[],\"truncated\":true}\n" },
		{ "fourth answer's name points past the end", 0, 28 + 3 * 16 + 1,
		  DNS_LINE "\"answers\":[\"216.197.242.244\",\"216.197.242.217\","
			   "\"216.197.242.216\"],\"truncated\":true}\n" },
		{ "cut in the question's type", 26, -1, NULL },
		{ "cut in the name", 20, -1, NULL },
		{ "cut in the header", 5, -1, NULL },
	};
	uint8_t dns[512];
	size_t n = unhex(dns_udp_a, dns, sizeof(dns)), i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pkt_spec sp = { .family = 4,
				       .src = "10.0.0.53",
				       .dst = "10.0.0.1",
				       .proto = IPPROTO_UDP,
				       .sport = 53,
				       .dport = 40000,
				       .payload = dns,
				       .payload_len = n };
		char *line = NULL, name[96];
		size_t len = 0, caplen;
		FILE *fp = open_memstream(&line, &len);
		struct out *o = fp ? out_new(fp, 0) : NULL;
		struct dpi_opts opts;
		struct dpi *d = NULL;
		struct pkt p;

		snprintf(name, sizeof(name), "pipeline: %s", cases[i].name);
		dpi_opts_default(&opts);
		opts.cb.on_app_event = write_event;
		opts.ctx = o;
		if (!ASSERT_TRUE(o && (d = dpi_new(&opts)) && !pkt_build(&sp, &p), name))
			goto next;
		if (cases[i].bad_at >= 0)
			p.data[p.l4_off + 8 + (size_t)cases[i].bad_at] = 0xff;
		caplen = cases[i].cut ? p.l4_off + 8 + cases[i].cut : p.len;
		dpi_packet(d, 1000000000ull, DEC_LINK_ETH, p.data, caplen, p.len);
		fflush(fp);
		if (!cases[i].want) {
			/* the whole message: not truncated, all 12 answers; a cut before: nothing
			 */
			if (!cases[i].cut)
				ASSERT_TRUE(len && !strstr(line, "truncated") &&
						    strstr(line, "\"216.197.242.245\"]}"),
					    name);
			else
				ASSERT_EQ(len, 0, name);
			ASSERT_EQ(dpi_counters(d)->app_errors, cases[i].cut ? 1 : 0, name);
		} else {
			ASSERT_STREQ(line, cases[i].want, name);
			ASSERT_EQ(dpi_counters(d)->app_errors, 0, name);
		}
		ASSERT_EQ(dpi_counters(d)->dns_truncated, cases[i].want ? 1 : 0, name);
	next:
		dpi_free(d);
		out_free(o);
		if (fp)
			fclose(fp);
		free(line);
	}
#undef DNS_LINE
}

T_MAIN(T_CASE(test_real), T_CASE(test_type_names), T_CASE(test_crafted), T_CASE(test_name_length),
       T_CASE(test_pointer_hops), T_CASE(test_answer_cap), T_CASE(test_prefixes),
       T_CASE(test_tcp_split), T_CASE(test_tcp_memory), T_CASE(test_tcp_gap_and_bad),
       T_CASE(test_partial), T_CASE(test_truncated_through_pipeline))
