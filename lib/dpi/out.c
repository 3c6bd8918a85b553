// SPDX-License-Identifier: GPL-2.0
/* out: one compact JSON object per line, keys in the order the issue lists them. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dpi/out.h"

struct out {
	FILE *fp;
	unsigned int flags;
	int err;
};

struct out *out_new(FILE *fp, unsigned int flags)
{
	struct out *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->fp = fp;
	o->flags = flags;
	return o;
}

void out_free(struct out *o)
{
	free(o);
}

double out_ts(uint64_t ns)
{
	/* microsecond resolution keeps the number exact enough in a double */
	return (double)(ns / 1000) / 1e6;
}

const char *out_proto_str(unsigned int proto, char buf[8])
{
	switch (proto) {
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 1:
		return "icmp";
	case 58:
		return "icmpv6";
	default:
		snprintf(buf, 8, "%u", proto & 0xff);
		return buf;
	}
}

/*
 * The writer goes straight to the (buffered) stream: no JSON tree, no
 * allocation per line. Strings from the parsers are printable ASCII already;
 * anything else is escaped anyway, so every line is valid JSON.
 */
static void raw(struct out *o, const char *s, size_t n)
{
	fwrite_unlocked(s, 1, n, o->fp);
}

#define LIT(o, s) raw((o), (s), sizeof(s) - 1)

static void str(struct out *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run;
	char esc[6] = { '\\', 'u', '0', '0' };

	putc_unlocked('"', o->fp);
	for (run = s; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			continue;
		raw(o, run, (size_t)(s - run));
		run = s + 1;
		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			raw(o, esc, 2);
			esc[1] = 'u';
		} else {
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			raw(o, esc, 6);
		}
	}
	raw(o, run, (size_t)(s - run));
	putc_unlocked('"', o->fp);
}

static void str_or_null(struct out *o, const char *s)
{
	if (s && *s)
		str(o, s);
	else
		LIT(o, "null");
}

static void u64(struct out *o, uint64_t v)
{
	char b[20];
	size_t i = sizeof(b);

	do {
		b[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	raw(o, b + i, sizeof(b) - i);
}

/* Seconds with microsecond resolution: "1.5", "3.0", "1700000000.123456". */
static void secs(struct out *o, uint64_t us)
{
	char f[7];
	uint32_t frac = (uint32_t)(us % 1000000);
	int n = 6, i;

	u64(o, us / 1000000);
	for (i = 5; i >= 0; i--, frac /= 10)
		f[i + 1] = (char)('0' + frac % 10);
	f[0] = '.';
	while (n > 1 && f[n] == '0')
		n--;
	raw(o, f, (size_t)n + 1);
}

static void strs(struct out *o, const char names[][TLS_ALPN_NAME_MAX], unsigned int n)
{
	unsigned int i;

	putc_unlocked('[', o->fp);
	for (i = 0; i < n; i++) {
		if (i)
			putc_unlocked(',', o->fp);
		str(o, names[i]);
	}
	putc_unlocked(']', o->fp);
}

/* Ends the line; the stream's error state is sticky. */
static int eol(struct out *o)
{
	putc_unlocked('\n', o->fp);
	if (!o->err && ferror(o->fp))
		o->err = -EIO;
	return o->err;
}

static bool quiet(const struct out *o)
{
	return o->flags & (OUT_SUMMARY_ONLY | OUT_QUIET);
}

/* Every event line starts {"type":..,"ts":..,"flow":.. */
static void event_head(struct out *o, const char *type, const struct dpi_event *ev)
{
	LIT(o, "{\"type\":");
	str(o, type);
	LIT(o, ",\"ts\":");
	secs(o, ev->ts_ns / 1000);
	LIT(o, ",\"flow\":");
	u64(o, ev->flow->id);
}

int out_event(struct out *o, const struct dpi_event *ev)
{
	char tbuf[DNS_TYPE_STR_MAX];
	const struct dns_msg *m = ev->dns;
	unsigned int i;

	if (quiet(o))
		return 0;
	switch (ev->type) {
	case DPI_EV_HTTP:
		event_head(o, "http", ev);
		LIT(o, ",\"method\":");
		str(o, ev->http->method);
		LIT(o, ",\"host\":");
		str_or_null(o, ev->http->host);
		LIT(o, ",\"uri\":");
		str(o, ev->http->uri);
		if (ev->http->status) {
			LIT(o, ",\"status\":");
			u64(o, ev->http->status);
		}
		break;
	case DPI_EV_DNS:
		event_head(o, "dns", ev);
		LIT(o, ",\"transport\":");
		str(o, ev->transport);
		LIT(o, ",\"qr\":");
		u64(o, m->qr);
		LIT(o, ",\"id\":");
		u64(o, m->id);
		LIT(o, ",\"name\":");
		if (m->has_question)
			str(o, m->name);
		else
			LIT(o, "null");
		LIT(o, ",\"qtype\":");
		if (m->has_question)
			str(o, dns_type_str(m->qtype, tbuf));
		else
			LIT(o, "null");
		LIT(o, ",\"rcode\":");
		u64(o, m->rcode);
		LIT(o, ",\"answers\":[");
		for (i = 0; i < m->nanswers && i < DNS_ANSWERS_MAX; i++) {
			if (i)
				putc_unlocked(',', o->fp);
			str(o, m->answers[i]);
		}
		putc_unlocked(']', o->fp);
		if (m->truncated)
			LIT(o, ",\"truncated\":true");
		break;
	case DPI_EV_TLS:
	case DPI_EV_QUIC:
		event_head(o, ev->type == DPI_EV_TLS ? "tls" : "quic", ev);
		LIT(o, ",\"sni\":");
		str_or_null(o, ev->hello->sni);
		LIT(o, ",\"alpn\":");
		strs(o, ev->hello->alpn,
		     ev->hello->nalpn < TLS_ALPN_MAX ? ev->hello->nalpn : TLS_ALPN_MAX);
		break;
	}
	putc_unlocked('}', o->fp);
	return eol(o);
}

static void addr(struct out *o, uint8_t af, const uint8_t *a)
{
	char buf[INET6_ADDRSTRLEN];

	if (inet_ntop(af == 4 ? AF_INET : AF_INET6, a, buf, sizeof(buf)))
		str(o, buf);
	else
		LIT(o, "null");
}

static void pair(struct out *o, uint64_t a, uint64_t b)
{
	putc_unlocked('[', o->fp);
	u64(o, a);
	putc_unlocked(',', o->fp);
	u64(o, b);
	putc_unlocked(']', o->fp);
}

int out_flow(struct out *o, const struct flow *f)
{
	int s = f->init_side, r = !f->init_side;
	char pbuf[8];
	unsigned int i;

	if (quiet(o))
		return 0;
	LIT(o, "{\"type\":\"flow\",\"id\":");
	u64(o, f->id);
	LIT(o, ",\"proto\":");
	str(o, out_proto_str(f->key.proto, pbuf));
	LIT(o, ",\"src\":");
	addr(o, f->key.af, f->key.addr[s]);
	LIT(o, ",\"sport\":");
	u64(o, f->key.port[s]);
	LIT(o, ",\"dst\":");
	addr(o, f->key.af, f->key.addr[r]);
	LIT(o, ",\"dport\":");
	u64(o, f->key.port[r]);
	LIT(o, ",\"vlan\":[");
	for (i = 0; i < f->nvlan && i < DEC_MAX_VLAN; i++) {
		if (i)
			putc_unlocked(',', o->fp);
		u64(o, f->vlan[i]);
	}
	LIT(o, "],\"first\":");
	secs(o, f->first_ns / 1000);
	LIT(o, ",\"last\":");
	secs(o, f->last_ns / 1000);
	LIT(o, ",\"packets\":");
	pair(o, f->pkts[0], f->pkts[1]);
	LIT(o, ",\"bytes\":");
	pair(o, f->bytes[0], f->bytes[1]);
	LIT(o, ",\"end\":");
	str(o, flow_end_str(f->end));
	LIT(o, ",\"app\":");
	str_or_null(o, f->app);
	LIT(o, ",\"gaps\":");
	u64(o, f->gaps);
	putc_unlocked('}', o->fp);
	return eol(o);
}

int out_summary(struct out *o, const struct dpi_counters *c, double elapsed_s,
		const uint64_t *dropped)
{
	const struct {
		const char *key; /* with its leading comma and quotes */
		uint64_t v;
	} f[] = {
		{ ",\"packets\":", c->packets },
		{ ",\"bytes\":", c->bytes },
		{ ",\"ipv4\":", c->ipv4 },
		{ ",\"ipv6\":", c->ipv6 },
		{ ",\"tcp\":", c->tcp },
		{ ",\"udp\":", c->udp },
		{ ",\"icmp\":", c->icmp + c->icmp6 },
		{ ",\"arp\":", c->arp },
		{ ",\"fragments\":", c->fragments },
		{ ",\"reassembled\":", c->reassembled },
		{ ",\"flows\":", c->flows },
		{ ",\"malformed\":", c->malformed },
		{ ",\"evicted\":", c->evicted },
	};
	size_t i;

	if (o->flags & OUT_QUIET)
		return 0;
	LIT(o, "{\"type\":\"summary\"");
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		raw(o, f[i].key, strlen(f[i].key));
		u64(o, f[i].v);
	}
	if (dropped) {
		LIT(o, ",\"dropped\":");
		u64(o, *dropped);
	}
	LIT(o, ",\"elapsed_s\":");
	secs(o, elapsed_s > 0 ? (uint64_t)(elapsed_s * 1e6 + 0.5) : 0);
	/* fields beyond the fixed list come after it, so its prefix stays as specified */
	LIT(o, ",\"parser_evicted\":");
	u64(o, c->parser_evicted);
	LIT(o, ",\"dns_truncated\":");
	u64(o, c->dns_truncated);
	LIT(o, ",\"rst_refused_window\":");
	u64(o, c->rst_refused_window);
	LIT(o, ",\"rst_refused_ack\":");
	u64(o, c->rst_refused_ack);
	putc_unlocked('}', o->fp);
	return eol(o);
}
