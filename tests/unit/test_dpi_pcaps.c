// SPDX-License-Identifier: GPL-2.0
/*
 * Every capture of tests/pcaps (made here by tests/pcaps/make.sh) and, where it is present,
 * of ../shared/pcaps through the library, against the tshark oracle in their expected/.
 */
#define _GNU_SOURCE /* asprintf */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/dpi/dpi.h"
#include "lib/dpi/input.h"
#include "tests/lib/t.h"

/*
 * Our own captures, always there; the shared corpus beside the project where present
 * (CG_SHARED_PCAPS names it elsewhere, e.g. from a git worktree).
 */
#define OWN CG_SRCDIR "/tests/pcaps"
#define SHARED_DEFAULT CG_SRCDIR "/../shared/pcaps"
#define OWN_CAPTURES 10
#define SHARED_CAPTURES 50

/*
 * Where capgate deliberately differs from tshark: the value capgate must
 * give instead. Each line is explained in docs/dpi.md ("Differences from
 * tshark"), in the same order.
 */
struct diff {
	const char *file, *field;
	long long value;
};

static const struct diff diffs[] = {
	/* tshark also counts the 3 custom/unknown blocks of this pcapng as records */
	{ "gopacket__pcapng_be_test202.pcapng", "packets", 8 },
	/* a DNS event needs at least a whole first question (tshark lists a partial one too) */
	{ "ndpi__fuzz-2006-06-26-2594.pcap", "dns", 252 },
	/* tshark's "malformed" is any dissector exception (mostly DNS here); ours is a bad header
	 */
	{ "ndpi__fuzz-2006-06-26-2594.pcap", "malformed", 8 },
	{ "ndpi__fuzz-2006-06-26-2594.pcap", "ipv6", 0 },
	/* more than 64 fragments per datagram (all overlapping garbage) are refused */
	{ "ndpi__ip_fragmented_garbage.pcap", "tcp", 0 },
	{ "ndpi__ip_fragmented_garbage.pcap", "tcp_conversations", 0 },
	{ "ndpi__ip_fragmented_garbage.pcap", "reassembled", 0 },
	/* one DNS event per message; tshark lists one entry per question (mDNS has many) */
	{ "ndpi__iphone.pcap", "dns", 55 },
	{ "sv__dns-tcp-multirequest-buffer__dns-tcp-multirequest-buffer.pcap", "dns", 40 },
	/* one SNI per QUIC connection; tshark also shows the retransmitted Initial */
	{ "ndpi__quic-29.pcap", "sni", 1 },
};

static bool diff_for(const char *file, const char *field, long long *v)
{
	size_t i;

	for (i = 0; i < sizeof(diffs) / sizeof(diffs[0]); i++) {
		if (!strcmp(diffs[i].file, file) && !strcmp(diffs[i].field, field)) {
			*v = diffs[i].value;
			return true;
		}
	}
	return false;
}

struct keyrec {
	struct flow_key *keys;
	size_t n, cap;
};

/* One DNS event's first question, "name/qtype" (tshark's dns.qry.name and dns.qry.type). */
#define MAX_QUESTIONS 128

struct run {
	struct keyrec conv;
	long long http, dns;
	char *question[MAX_QUESTIONS];
	size_t nquestion;
	char *sni[64];
	size_t nsni;
	char stream[2][4096];
	size_t slen[2];
};

static void on_end(void *ctx, const struct flow *f)
{
	struct run *r = ctx;
	struct keyrec *k = &r->conv;

	if (f->key.proto != 6 && f->key.proto != 17)
		return;
	if (k->n == k->cap) {
		size_t ncap = k->cap ? k->cap * 2 : 256;
		struct flow_key *nk = realloc(k->keys, ncap * sizeof(*nk));

		if (!nk)
			return;
		k->keys = nk;
		k->cap = ncap;
	}
	k->keys[k->n++] = f->key;
}

static void on_event(void *ctx, const struct dpi_event *ev)
{
	struct run *r = ctx;

	switch (ev->type) {
	case DPI_EV_HTTP:
		r->http++;
		break;
	case DPI_EV_DNS:
		r->dns++;
		if (r->nquestion < MAX_QUESTIONS && asprintf(&r->question[r->nquestion], "%s/%u",
							     ev->dns->name, ev->dns->qtype) >= 0)
			r->nquestion++;
		break;
	case DPI_EV_TLS:
	case DPI_EV_QUIC:
		if (ev->hello->sni[0] && r->nsni < 64)
			r->sni[r->nsni++] = strdup(ev->hello->sni);
		break;
	}
}

static void on_data(void *ctx, const struct flow *f, int dir, const uint8_t *data, size_t len)
{
	struct run *r = ctx;

	(void)f;
	if (r->slen[dir] + len < sizeof(r->stream[dir])) {
		memcpy(r->stream[dir] + r->slen[dir], data, len);
		r->slen[dir] += len;
	}
}

static void on_gap(void *ctx, const struct flow *f, int dir, uint32_t len)
{
	struct run *r = ctx;
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "[%u bytes missing]", len);

	(void)f;
	if (r->slen[dir] + (size_t)n < sizeof(r->stream[dir])) {
		memcpy(r->stream[dir] + r->slen[dir], buf, (size_t)n);
		r->slen[dir] += (size_t)n;
	}
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct flow_key));
}

static long long distinct(struct keyrec *k, uint8_t proto)
{
	long long n = 0;
	size_t i;

	if (k->n)
		qsort(k->keys, k->n, sizeof(*k->keys), key_cmp);
	for (i = 0; i < k->n; i++)
		if (k->keys[i].proto == proto && (i == 0 || key_cmp(&k->keys[i], &k->keys[i - 1])))
			n++;
	return n;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run one capture; returns input_next's last status (0 at a clean end). */
static int run_file(const char *path, struct run *r, struct dpi_counters *c)
{
	struct input_opts io = { .file = path };
	struct input *in = NULL;
	struct dpi_opts o;
	struct dpi *d = NULL;
	struct input_pkt p;
	char err[256];
	int rc;

	dpi_opts_default(&o);
	o.cb.on_flow_end = on_end;
	o.cb.on_app_event = on_event;
	o.cb.on_stream_data = on_data;
	o.cb.on_gap = on_gap;
	o.ctx = r;
	d = dpi_new(&o);
	if (!d)
		return -ENOMEM;
	rc = input_open(&in, &io, err, sizeof(err));
	if (rc == 0) {
		while ((rc = input_next(in, &p)) == 1)
			dpi_packet(d, p.ts_ns, p.linktype, p.data, p.caplen, p.wirelen);
	}
	dpi_flush(d);
	*c = *dpi_counters(d);
	input_close(in);
	dpi_free(d);
	return rc;
}

static long long jint(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* tshark rows minus the outer UDP of VXLAN and GTP-U tunnels (we build flows from the inner
 * packet). */
static long long tshark_convs(json_t *e, const char *list)
{
	json_t *l = json_object_get(e, list), *row;
	long long n = 0;
	size_t i;

	json_array_foreach(l, i, row)
	{
		const char *a = json_string_value(json_object_get(row, "a"));
		const char *b = json_string_value(json_object_get(row, "b"));
		const char *pa = a ? strrchr(a, ':') : NULL, *pb = b ? strrchr(b, ':') : NULL;

		if (pa && pb &&
		    (!strcmp(pa, ":4789") || !strcmp(pb, ":4789") || !strcmp(pa, ":2152") ||
		     !strcmp(pb, ":2152")))
			continue;
		n++;
	}
	return n;
}

static void run_free(struct run *r)
{
	size_t i;

	for (i = 0; i < r->nsni; i++)
		free(r->sni[i]);
	for (i = 0; i < r->nquestion; i++)
		free(r->question[i]);
	free(r->conv.keys);
	free(r);
}

static void check(const char *file, const char *field, long long got, long long want)
{
	char name[600];

	diff_for(file, field, &want);
	if (want < 0) /* not compared (see docs/dpi.md) */
		return;
	snprintf(name, sizeof(name), "%s: %s", file, field);
	ASSERT_EQ(got, want, name);
}

static void one_capture(const char *dir, const char *file, json_t *e)
{
	json_t *counts = json_object_get(e, "counts"), *fr = json_object_get(e, "ip_fragments");
	json_t *arr, *it;
	struct run *r = calloc(1, sizeof(*r));
	struct dpi_counters c;
	char path[512], name[600];
	long long n, frames;
	char *want_sni[64];
	size_t i, nw = 0;
	int rc;

	if (!r)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	rc = run_file(path, r, &c);
	snprintf(name, sizeof(name), "%s: read status", file);
	/* test901 (a second section of version 2.0) ends in an error, as with tshark */
	if (jint(json_object_get(e, "tshark_exit"), "fields_pass") == 0)
		ASSERT_EQ(rc, 0, name);
	else
		ASSERT_EQ(rc, -EIO, name);
	check(file, "packets", (long long)c.packets, jint(counts, "packets"));
	check(file, "ipv4", (long long)c.ipv4, jint(counts, "ipv4_packets"));
	check(file, "ipv6", (long long)c.ipv6, jint(counts, "ipv6_packets"));
	check(file, "tcp", (long long)c.tcp, jint(counts, "tcp_packets"));
	check(file, "udp", (long long)c.udp, jint(counts, "udp_packets"));
	check(file, "icmp", (long long)c.icmp, jint(counts, "icmp_packets"));
	check(file, "icmpv6", (long long)c.icmp6, jint(counts, "icmpv6_packets"));
	check(file, "arp", (long long)c.arp, jint(counts, "arp_packets"));
	check(file, "vlan", (long long)c.vlan, jint(counts, "vlan_packets"));
	check(file, "malformed", (long long)c.malformed, jint(counts, "malformed_packets"));
	check(file, "tcp_conversations", distinct(&r->conv, 6),
	      tshark_convs(e, "tcp_conversation_list"));
	check(file, "udp_conversations", distinct(&r->conv, 17),
	      tshark_convs(e, "udp_conversation_list"));
	check(file, "fragments", (long long)c.fragments,
	      jint(fr, "ipv4_fragment_packets") + jint(fr, "ipv6_fragment_packets"));
	check(file, "reassembled", (long long)c.reassembled,
	      jint(fr, "ipv4_reassembled_datagrams") + jint(fr, "ipv6_reassembled_datagrams"));
	/* HTTP/1.x over TCP requests (SSDP over UDP is not HTTP/1.x over TCP) */
	n = 0;
	json_array_foreach(json_object_get(e, "http_requests"), i, it) n +=
		!strcmp(json_string_value(json_object_get(it, "transport")), "tcp");
	check(file, "http", r->http, n);
	/* DNS: one event per message, tshark one entry per question: compare with its frames */
	frames = 0;
	arr = json_object_get(e, "dns");
	json_array_foreach(arr, i,
			   it) if (i == 0 || jint(it, "frame") != jint(json_array_get(arr, i - 1),
								       "frame")) frames++;
	check(file, "dns", r->dns, frames);
	/* SNI: the same names (tshark lists each ClientHello) */
	json_array_foreach(json_object_get(e, "tls_sni"), i, it) if (nw < 64) want_sni[nw++] =
		(char *)json_string_value(json_object_get(it, "sni"));
	check(file, "sni", (long long)r->nsni, (long long)nw);
	if (r->nsni)
		qsort(r->sni, r->nsni, sizeof(char *), str_cmp);
	for (i = 0; i < r->nsni; i++) {
		bool found = false;
		size_t j;

		for (j = 0; j < nw; j++)
			found |= !strcmp(r->sni[i], want_sni[j]);
		snprintf(name, sizeof(name), "%s: sni %s", file, r->sni[i]);
		ASSERT_TRUE(found, name);
	}
	run_free(r);
}

static const char *shared_dir(void)
{
	const char *d = getenv("CG_SHARED_PCAPS");

	return d && *d ? d : SHARED_DEFAULT;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n > k && !strcmp(s + n - k, suffix);
}

/* Every capture of DIR against DIR/expected/<capture>.json; a capture without one fails. */
static void compare_dir(const char *dir, int want)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char name[600];
	int n = 0;

	if (!ASSERT_TRUE(d != NULL, dir))
		return;
	while ((de = readdir(d))) {
		char path[1024];
		json_error_t jerr;
		json_t *e;

		if (!has_suffix(de->d_name, ".pcap") && !has_suffix(de->d_name, ".pcapng"))
			continue;
		snprintf(path, sizeof(path), "%s/expected/%s.json", dir, de->d_name);
		e = json_load_file(path, 0, &jerr);
		if (!ASSERT_TRUE(e != NULL, path))
			continue;
		one_capture(dir, de->d_name, e);
		json_decref(e);
		n++;
	}
	closedir(d);
	snprintf(name, sizeof(name), "%s: captures compared", dir);
	ASSERT_EQ(n, want, name);
}

static void test_pcaps_vs_tshark(void)
{
	compare_dir(OWN, OWN_CAPTURES);
	char exp[512];

	compare_dir(OWN, OWN_CAPTURES);
	/* the shared corpus is a cross-check beside the project, not part of a clone */
	snprintf(exp, sizeof(exp), "%s/expected", shared_dir());
	if (access(exp, R_OK) == 0)
		compare_dir(shared_dir(), SHARED_CAPTURES);
	else
		printf("# %s absent: only tests/pcaps compared\n", shared_dir());
}

/*
 * DNS messages cut short or malformed after their question: each gives an
 * event with the first question tshark reports for its frame (the same
 * names and types, frame for frame), flagged truncated. Without it these
 * captures lose their truncated messages (and badpackets 25 of its 83).
 * Our own capture always, the shared ones where present.
 */
static void test_dns_questions_vs_tshark(void)
{
	static const struct {
		bool shared;
		const char *file;
		uint64_t truncated;
	} cases[] = {
		/* every answer cut by the snap length after its question */
		{ false, "dns_trunc.pcap", 4 },
		{ true, "ndpi__badpackets.pcap", 25 },
		{ true, "ndpi__malformed_dns.pcap", 4 },
		{ true, "ndpi__dns_fragmented.pcap", 0 }, /* over TCP and fragmented UDP; DNSKEY */
	};
	size_t i, j;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run *r = calloc(1, sizeof(*r));
		char path[512], name[600], *want[MAX_QUESTIONS];
		struct dpi_counters c;
		json_error_t jerr;
		json_t *e, *arr, *it;
		const char *dir = cases[i].shared ? shared_dir() : OWN;
		size_t nwant = 0;
		long long frame = -1;

		if (!r)
			return;
		snprintf(path, sizeof(path), "%s/expected/%s.json", dir, cases[i].file);
		e = json_load_file(path, 0, &jerr);
		if (!e && cases[i].shared) {
			/* as test_pcaps_vs_tshark: a cross-check where the corpus is present */
			free(r);
			continue;
		}
		if (!ASSERT_TRUE(e != NULL, path)) {
			free(r);
			continue;
		}
		/* tshark lists every question; the first of each frame is the event's */
		arr = json_object_get(e, "dns");
		json_array_foreach(arr, j, it)
		{
			if (jint(it, "frame") == frame || nwant == MAX_QUESTIONS)
				continue;
			frame = jint(it, "frame");
			if (asprintf(&want[nwant], "%s/%lld",
				     json_string_value(json_object_get(it, "name")),
				     jint(it, "type")) >= 0)
				nwant++;
		}
		json_decref(e);
		snprintf(path, sizeof(path), "%s/%s", dir, cases[i].file);
		ASSERT_EQ(run_file(path, r, &c), 0, cases[i].file);
		snprintf(name, sizeof(name), "%s: messages (tshark's frames)", cases[i].file);
		ASSERT_EQ(r->nquestion, nwant, name);
		qsort(want, nwant, sizeof(char *), str_cmp);
		if (r->nquestion)
			qsort(r->question, r->nquestion, sizeof(char *), str_cmp);
		for (j = 0; j < nwant && j < r->nquestion; j++) {
			snprintf(name, sizeof(name), "%s: question", cases[i].file);
			if (!ASSERT_STREQ(r->question[j], want[j], name))
				break;
		}
		snprintf(name, sizeof(name), "%s: truncated", cases[i].file);
		ASSERT_EQ(c.dns_truncated, cases[i].truncated, name);
		for (j = 0; j < nwant; j++)
			free(want[j]);
		run_free(r);
	}
}

/* DIR/FILE's first-direction TCP stream (with gaps marked) is WANT */
static void stream_is(const char *dir, const char *file, const char *want)
{
	struct run *r = calloc(1, sizeof(*r));
	struct dpi_counters c;
	char path[512];

	if (!r)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	ASSERT_EQ(run_file(path, r, &c), 0, path);
	r->stream[0][r->slen[0]] = '\0';
	ASSERT_STREQ(r->stream[0], want, path);
	run_free(r);
}

/*
 * Our crafted segments (tests/pcaps/make.sh, craft), then the suricata-verify case of the
 * same shape where the shared corpus is present (facts from its test.yaml).
 */
static void stream_cases(const char *own, const char *sv, const char *want)
{
	char path[512];

	stream_is(OWN, own, want);
	snprintf(path, sizeof(path), "%s/%s", shared_dir(), sv);
	if (access(path, R_OK) == 0)
		stream_is(shared_dir(), sv, want);
}

static void test_overlap_first_wins(void)
{
	stream_cases("tcp_overlap.pcap", "sv__eve-overlap-payload-01__tcp-overlap.pcap", "GOOD");
}

static void test_partial_overlap(void)
{
	stream_cases("tcp_overlap_partial.pcap",
		     "sv__eve-payload-04-partial-overlap__tcp-overlap2.pcap", "GOOD");
}

static void test_gap(void)
{
	stream_cases("tcp_gap.pcap", "sv__eve-payload-05-tcp-data-gap__tcp-simple-gap2.pcap",
		     "VERY[4 bytes missing]DATA");
}

/* Retransmissions with later data between: the client's stream is tshark's (follow,tcp,raw). */
static void test_retransmitted_stream(void)
{
	char want[4096];
	FILE *f = fopen(OWN "/expected/tcp_reorder.pcap.stream", "rb");
	size_t n;

	if (!ASSERT_TRUE(f != NULL, "tcp_reorder.pcap.stream"))
		return;
	n = fread(want, 1, sizeof(want) - 1, f);
	fclose(f);
	want[n] = '\0';
	ASSERT_TRUE(n > 2000, "the oracle holds the request");
	stream_is(OWN, "tcp_reorder.pcap", want);
}

static void test_unreadable_file(void)
{
	struct input_opts io = { .file = OWN "/oracle.sh" };
	struct input *in = NULL;
	char err[256] = "";

	ASSERT_TRUE(input_open(&in, &io, err, sizeof(err)) < 0, "not a capture");
	ASSERT_TRUE(strstr(err, "cannot read capture") != NULL, err);
	io.file = OWN "/does-not-exist.pcap";
	ASSERT_TRUE(input_open(&in, &io, err, sizeof(err)) < 0, "missing file");
}

T_MAIN(T_CASE(test_pcaps_vs_tshark), T_CASE(test_dns_questions_vs_tshark),
       T_CASE(test_overlap_first_wins), T_CASE(test_partial_overlap), T_CASE(test_gap),
       T_CASE(test_retransmitted_stream), T_CASE(test_unreadable_file))
