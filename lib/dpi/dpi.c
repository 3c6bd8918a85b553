// SPDX-License-Identifier: GPL-2.0
/* dpi: the pipeline decode -> defrag -> flow -> TCP reassembly -> application parsers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/dpi/dpi.h"
#include "lib/dpi/quic.h"

#define NS 1000000000ull

enum app_kind {
	APP_NONE = 0, /* not decided yet */
	APP_HTTP,
	APP_TLS,
	APP_DNS,
	APP_QUIC,
	APP_OTHER, /* given up */
};

/* Detection looks at this many stream chunks before giving up. */
#define APP_TRIES 4
/*
 * A stream start too short to tell ("GE", a lone 0x16) is held until more
 * bytes come, so a request line split after any byte is still recognised.
 * The longest start to tell apart is "UNSUBSCRIBE " (12 bytes).
 */
#define APP_PREFIX_MAX 16

struct flow_app {
	struct dpi *dpi;
	struct flow *flow;
	uint8_t kind, tries, tls_dir;
	struct http_conn *http;
	struct tls_stream *tls;
	struct quic_conn *quic;
	struct dns_tcp *dns[2];
	/* ctx of the DNS-over-TCP callbacks, one per direction */
	struct dns_dir {
		struct flow_app *app;
	} dns_ctx[2];
	uint8_t pre_len[2]; /* stream start held while undecided, per direction */
	uint8_t pre[2][APP_PREFIX_MAX];
	size_t mem; /* parser heap last charged to dpi.parser_mem */
};

struct dpi {
	struct dpi_opts o;
	struct flow_table *flows;
	struct defrag *defrag;
	struct reasm reasm;
	struct dpi_counters c;
	uint64_t now_ns; /* packet clock: never goes back */
	uint64_t next_id;
	struct flow *cur; /* flow whose stream callbacks are running */
	uint64_t cur_ts;
	uint64_t parser_mem; /* sum of flow_app.mem: what max_parser_mem bounds */
	uint8_t hash_key[FLOW_HASH_KEY_LEN];
	struct dns_msg dnsmsg; /* scratch for UDP DNS (17 KiB: not on the stack) */
};

void dpi_opts_default(struct dpi_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_flows = 262144;
	o->max_flow_buffer = 1u << 20;
	o->max_total_buffer = 256u << 20;
	o->tcp_idle_ns = 300 * NS;
	o->udp_idle_ns = 60 * NS;
	o->closed_linger_ns = 10 * NS;
	o->frag_max_datagrams = 4096;
	o->frag_max_frags = 64;
	o->frag_max_bytes = 32u << 20;
	o->frag_timeout_ns = 30 * NS;
	o->max_parser_mem = 64u << 20;
}

static void stream_data(void *ctx, int dir, const uint8_t *data, size_t len);
static void stream_gap(void *ctx, int dir, uint32_t len);

struct dpi *dpi_new(const struct dpi_opts *o)
{
	struct defrag_opts fo = {
		.max_datagrams = o->frag_max_datagrams,
		.max_frags = o->frag_max_frags,
		.max_bytes = o->frag_max_bytes,
		.timeout_ns = o->frag_timeout_ns,
	};
	struct reasm_opts ro = {
		.max_flow_bytes = o->max_flow_buffer,
		.max_total_bytes = o->max_total_buffer,
	};
	struct reasm_cb rcb = { .data = stream_data, .gap = stream_gap };
	struct dpi *d = NULL;
	int err = 0;

	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->o = *o;
	d->next_id = 1;
	if (sodium_init() < 0) {
		err = EIO;
		goto out;
	}
	/* flow ids and output order do not depend on the hash, so the output stays the same */
	randombytes_buf(d->hash_key, sizeof(d->hash_key));
	d->flows = flow_table_new(o->max_flows);
	if (!d->flows) {
		err = errno;
		goto out;
	}
	d->defrag = defrag_new(&fo);
	if (!d->defrag) {
		err = errno;
		goto out;
	}
	reasm_init(&d->reasm, &ro, &rcb);
out:
	if (err) {
		dpi_free(d);
		errno = err;
		return NULL;
	}
	return d;
}

static void app_free(struct flow_app *a)
{
	if (!a)
		return;
	http_conn_free(a->http);
	tls_stream_free(a->tls);
	quic_conn_free(a->quic);
	dns_tcp_free(a->dns[0]);
	dns_tcp_free(a->dns[1]);
	free(a);
}

static void flow_free(struct dpi *d, struct flow *f)
{
	reasm_drop(&d->reasm, &f->rd[0]);
	reasm_drop(&d->reasm, &f->rd[1]);
	if (f->app_state)
		d->parser_mem -= f->app_state->mem;
	app_free(f->app_state);
	free(f);
}

void dpi_free(struct dpi *d)
{
	struct flow *f;
	int l;

	if (!d)
		return;
	if (d->flows) {
		for (l = 0; l < FLOW_LRU_N; l++) {
			while ((f = flow_table_oldest(d->flows, l))) {
				flow_table_remove(d->flows, f);
				flow_free(d, f);
			}
		}
	}
	flow_table_free(d->flows);
	defrag_free(d->defrag);
	free(d);
}

static void emit(struct dpi *d, struct dpi_event *ev)
{
	d->c.app_events++;
	if (d->o.cb.on_app_event)
		d->o.cb.on_app_event(d->o.ctx, ev);
}

/* ---- application glue -------------------------------------------------- */

static void http_cb(void *ctx, const struct http_event *hev)
{
	struct flow_app *a = ctx;
	struct dpi_event ev = {
		.type = DPI_EV_HTTP,
		.ts_ns = hev->ts,
		.flow = a->flow,
		.http = hev,
		.transport = "tcp",
	};

	emit(a->dpi, &ev);
}

static void dns_emit(struct dpi *d, struct flow *f, const struct dns_msg *m, const char *transport,
		     uint64_t ts)
{
	struct dpi_event ev = {
		.type = DPI_EV_DNS,
		.ts_ns = ts,
		.flow = f,
		.dns = m,
		.transport = transport,
	};

	if (m->truncated)
		d->c.dns_truncated++;
	emit(d, &ev);
}

static void dns_tcp_cb(void *ctx, enum dns_outcome oc, const struct dns_msg *msg)
{
	struct flow_app *a = ((struct dns_dir *)ctx)->app;

	if (!msg) {
		a->dpi->c.app_errors++;
		return;
	}
	(void)oc;
	dns_emit(a->dpi, a->flow, msg, "tcp", a->dpi->cur_ts);
}

static bool is_dns_port(uint16_t p)
{
	return p == 53 || p == 5353 || p == 5355;
}

static struct flow_app *app_get(struct dpi *d, struct flow *f)
{
	struct flow_app *a = f->app_state;

	if (a)
		return a;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->dpi = d;
	a->flow = f;
	a->dns_ctx[0].app = a;
	a->dns_ctx[1].app = a;
	f->app_state = a;
	return a;
}

/* Decide the protocol of a TCP stream from its first bytes (ports only for DNS). */
static void app_detect_tcp(struct dpi *d, struct flow *f, struct flow_app *a, int dir,
			   const uint8_t *data, size_t len)
{
	if (is_dns_port(f->key.port[0]) || is_dns_port(f->key.port[1])) {
		a->dns[0] = dns_tcp_new(dns_tcp_cb, &a->dns_ctx[0]);
		a->dns[1] = dns_tcp_new(dns_tcp_cb, &a->dns_ctx[1]);
		if (a->dns[0] && a->dns[1]) {
			a->kind = APP_DNS;
			f->app = "dns";
			return;
		}
	} else if (http_sniff(data, len)) {
		a->http = http_conn_new(http_cb, a);
		if (a->http) {
			a->kind = APP_HTTP;
			f->app = "http";
			return;
		}
	} else if (len >= 2 && data[0] == 0x16 && data[1] == 3) {
		a->tls = tls_stream_new();
		if (a->tls) {
			a->kind = APP_TLS;
			a->tls_dir = (uint8_t)dir;
			f->app = "tls";
			return;
		}
	}
	if (++a->tries >= APP_TRIES)
		a->kind = APP_OTHER;
	(void)d;
}

/*
 * The parsers of a flow took the analyzer past max_parser_mem: they stop and
 * their memory goes. Requests already parsed are still reported; the flow
 * keeps its app name and goes on as streams only.
 */
static void app_evict(struct dpi *d, struct flow_app *a)
{
	if (a->http)
		http_conn_end(a->http);
	http_conn_free(a->http);
	tls_stream_free(a->tls);
	quic_conn_free(a->quic);
	dns_tcp_free(a->dns[0]);
	dns_tcp_free(a->dns[1]);
	a->http = NULL;
	a->tls = NULL;
	a->quic = NULL;
	a->dns[0] = a->dns[1] = NULL;
	a->kind = APP_OTHER;
	d->parser_mem -= a->mem;
	a->mem = 0;
	d->c.parser_evicted++;
}

/* Charge what a's parsers hold now to the budget; evict them if that breaks it. */
static void app_charge(struct dpi *d, struct flow_app *a)
{
	size_t mem = http_conn_mem(a->http) + tls_stream_mem(a->tls) + quic_conn_mem(a->quic) +
		     dns_tcp_mem(a->dns[0]) + dns_tcp_mem(a->dns[1]);

	d->parser_mem = d->parser_mem - a->mem + mem;
	a->mem = mem;
	if (d->parser_mem > d->o.max_parser_mem)
		app_evict(d, a);
}

/* Could these first bytes of a stream still become HTTP or TLS with more data? */
static bool app_undecided(const struct flow *f, const uint8_t *p, size_t len)
{
	if (is_dns_port(f->key.port[0]) || is_dns_port(f->key.port[1]))
		return false; /* decided by the port */
	return http_sniff_partial(p, len) || (len == 1 && p[0] == 0x16);
}

static void app_feed(struct dpi *d, struct flow *f, struct flow_app *a, int dir,
		     const uint8_t *data, size_t len)
{
	struct tls_hello hello;

	switch (a->kind) {
	case APP_HTTP:
		if (http_conn_feed(a->http, dir, data, len, d->cur_ts))
			d->c.app_errors++;
		break;
	case APP_DNS:
		if (dns_tcp_feed(a->dns[dir], data, len))
			d->c.app_errors++;
		break;
	case APP_TLS:
		if (dir != a->tls_dir)
			break;
		switch (tls_stream_feed(a->tls, data, len, &hello)) {
		case TLS_OK: {
			struct dpi_event ev = {
				.type = DPI_EV_TLS,
				.ts_ns = d->cur_ts,
				.flow = f,
				.hello = &hello,
				.transport = "tcp",
			};

			emit(d, &ev);
			break;
		}
		case TLS_MORE:
		case TLS_DONE:
			break;
		default:
			d->c.app_errors++;
			break;
		}
		break;
	default:
		break;
	}
}

static void app_tcp_data(struct dpi *d, struct flow *f, int dir, const uint8_t *data, size_t len)
{
	struct flow_app *a = app_get(d, f);
	uint8_t head[APP_PREFIX_MAX];
	size_t pre, n;

	if (!a)
		return;
	if (a->kind == APP_NONE) {
		pre = a->pre_len[dir];
		n = len < APP_PREFIX_MAX - pre ? len : APP_PREFIX_MAX - pre;
		memcpy(head, a->pre[dir], pre);
		memcpy(head + pre, data, n);
		if (n == len && app_undecided(f, head, pre + n)) {
			memcpy(a->pre[dir] + pre, data, n);
			a->pre_len[dir] = (uint8_t)(pre + n);
			return;
		}
		app_detect_tcp(d, f, a, dir, head, pre + n);
		if (a->kind == APP_NONE)
			a->pre_len[dir] = 0; /* not a start after all */
	}
	if (a->pre_len[dir]) {
		/* the held start goes first (the peer's bytes may have decided the parser) */
		pre = a->pre_len[dir];
		a->pre_len[dir] = 0;
		app_feed(d, f, a, dir, a->pre[dir], pre);
	}
	app_feed(d, f, a, dir, data, len);
	app_charge(d, a);
}

static void app_tcp_gap(struct dpi *d, struct flow *f, int dir, uint32_t len)
{
	struct flow_app *a = f->app_state;

	if (!a)
		return;
	a->pre_len[dir] = 0; /* a held start is not followed by the next bytes any more */
	switch (a->kind) {
	case APP_HTTP:
		http_conn_gap(a->http, dir, len);
		break;
	case APP_DNS:
		dns_tcp_gap(a->dns[dir]);
		break;
	case APP_TLS:
		if (dir == a->tls_dir)
			tls_stream_gap(a->tls);
		break;
	default:
		break;
	}
	app_charge(d, a);
}

/* A QUIC long header of a version whose Initial keys we can derive. */
static bool quic_sniff(const uint8_t *p, size_t len)
{
	uint32_t v;

	if (len < 7 || (p[0] & 0xc0) != 0xc0)
		return false;
	v = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
	return quic_version_supported(v);
}

static void app_quic(struct dpi *d, struct flow *f, int dir, const struct dec_pkt *pkt, uint64_t ts)
{
	struct flow_app *a = f->app_state;
	struct tls_hello hello;

	if (!a) {
		if (!quic_sniff(pkt->payload, pkt->payload_len) || !(a = app_get(d, f)))
			return;
		a->quic = quic_conn_new();
		if (!a->quic) {
			a->kind = APP_OTHER;
			return;
		}
		a->kind = APP_QUIC;
		a->tls_dir = (uint8_t)dir;
		f->app = "quic";
	}
	if (a->kind != APP_QUIC || dir != a->tls_dir)
		return;
	switch (quic_conn_feed(a->quic, pkt->payload, pkt->payload_len, &hello)) {
	case QUIC_OK: {
		struct dpi_event ev = {
			.type = DPI_EV_QUIC,
			.ts_ns = ts,
			.flow = f,
			.hello = &hello,
			.transport = "udp",
		};

		emit(d, &ev);
		break;
	}
	case QUIC_BAD_HELLO:
	case QUIC_TOO_BIG:
	case QUIC_FAR_CRYPTO:
		d->c.app_errors++;
		break;
	default:
		break;
	}
	app_charge(d, a);
}

static void app_udp(struct dpi *d, struct flow *f, int dir, const struct dec_pkt *pkt, uint64_t ts)
{
	if (!is_dns_port(pkt->sport) && !is_dns_port(pkt->dport)) {
		app_quic(d, f, dir, pkt, ts);
	} else {
		if (dns_reportable(dns_parse(pkt->payload, pkt->payload_len, &d->dnsmsg),
				   &d->dnsmsg)) {
			f->app = "dns";
			dns_emit(d, f, &d->dnsmsg, "udp", ts);
		} else {
			d->c.app_errors++;
		}
	}
}

/* ---- stream callbacks (ctx is the dpi; d->cur is the flow) -------------- */

static void stream_data(void *ctx, int dir, const uint8_t *data, size_t len)
{
	struct dpi *d = ctx;
	struct flow *f = d->cur;

	if (d->o.cb.on_stream_data)
		d->o.cb.on_stream_data(d->o.ctx, f, dir, data, len);
	if (!d->o.no_apps)
		app_tcp_data(d, f, dir, data, len);
}

static void stream_gap(void *ctx, int dir, uint32_t len)
{
	struct dpi *d = ctx;
	struct flow *f = d->cur;

	f->gaps++;
	if (d->o.cb.on_gap)
		d->o.cb.on_gap(d->o.ctx, f, dir, len);
	if (!d->o.no_apps)
		app_tcp_gap(d, f, dir, len);
}

/* ---- flows ------------------------------------------------------------- */

/* Key side s maps to flow direction: 0 for the initiator. */
static int flow_dir(const struct flow *f, int side)
{
	return side == f->init_side ? 0 : 1;
}

static void flow_end(struct dpi *d, struct flow *f, enum flow_end why)
{
	struct flow *saved = d->cur;
	uint64_t saved_ts = d->cur_ts;
	int dir;

	flow_table_remove(d->flows, f);
	if (!f->end || why == FLOW_END_EVICTED)
		f->end = (uint8_t)why;
	if (why == FLOW_END_IDLE)
		d->c.idle_ended++;
	d->cur = f;
	d->cur_ts = f->last_ns;
	for (dir = 0; dir < 2; dir++)
		reasm_flush(&d->reasm, &f->rd[dir], dir, d);
	if (f->app_state && f->app_state->http)
		http_conn_end(f->app_state->http);
	d->cur = saved;
	d->cur_ts = saved_ts;
	if (d->o.cb.on_flow_end)
		d->o.cb.on_flow_end(d->o.ctx, f);
	flow_free(d, f);
}

static void expire(struct dpi *d, uint64_t now)
{
	static const uint8_t lists[] = { FLOW_LRU_TCP, FLOW_LRU_OTHER, FLOW_LRU_CLOSED };
	size_t i;

	for (i = 0; i < sizeof(lists); i++) {
		uint64_t tmo = lists[i] == FLOW_LRU_TCP	    ? d->o.tcp_idle_ns
			       : lists[i] == FLOW_LRU_OTHER ? d->o.udp_idle_ns
							    : d->o.closed_linger_ns;
		struct flow *f;

		while ((f = flow_table_oldest(d->flows, lists[i])) && now > f->last_ns &&
		       now - f->last_ns > tmo)
			flow_end(d, f, f->end ? (enum flow_end)f->end : FLOW_END_IDLE);
	}
}

static void evict_one(struct dpi *d)
{
	struct flow *best = NULL, *f;
	int l;

	for (l = 0; l < FLOW_LRU_N; l++) {
		f = flow_table_oldest(d->flows, l);
		if (f && (!best || f->last_ns < best->last_ns ||
			  (l == FLOW_LRU_CLOSED && f->last_ns <= best->last_ns)))
			best = f;
	}
	if (!best)
		return;
	if (best->lru == FLOW_LRU_CLOSED) { /* already closed: it just ends early */
		flow_end(d, best, (enum flow_end)best->end);
		return;
	}
	d->c.evicted++;
	flow_end(d, best, FLOW_END_EVICTED);
}

static struct flow *flow_create(struct dpi *d, const struct flow_key *key, uint32_t hash, int side,
				const struct dec_pkt *pkt, uint64_t ts)
{
	struct flow *f;

	if (flow_table_count(d->flows) >= flow_table_max(d->flows))
		evict_one(d);
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->key = *key;
	f->hash = hash;
	f->id = d->next_id++;
	f->first_ns = f->last_ns = ts;
	f->wscale[0] = f->wscale[1] = DEC_NO_WSCALE;
	/*
	 * The initiator: the SYN sender; the receiver of a SYN-ACK; otherwise
	 * the sender, unless it talks from a well-known port to a high one.
	 */
	f->init_side = (uint8_t)side;
	if (pkt->proto == 6 && (pkt->tcp_flags & (DEC_TCP_SYN | DEC_TCP_ACK)) == DEC_TCP_SYN)
		f->init_side = (uint8_t)side;
	else if (pkt->proto == 6 &&
		 (pkt->tcp_flags & (DEC_TCP_SYN | DEC_TCP_ACK)) == (DEC_TCP_SYN | DEC_TCP_ACK))
		f->init_side = (uint8_t)!side;
	else if ((pkt->proto == 6 || pkt->proto == 17) && pkt->sport < 1024 && pkt->dport >= 1024)
		f->init_side = (uint8_t)!side;
	f->nvlan = pkt->nvlan;
	memcpy(f->vlan, pkt->vlan, sizeof(f->vlan));
	if (flow_table_insert(d->flows, f)) {
		free(f);
		return NULL;
	}
	d->c.flows++;
	if (key->proto == 6)
		d->c.tcp_flows++;
	else if (key->proto == 17)
		d->c.udp_flows++;
	return f;
}

static bool tcp_closed(const struct flow *f)
{
	if ((f->rd[0].flags | f->rd[1].flags) & REASM_RST)
		return true;
	return (f->rd[0].flags & REASM_FIN) && (f->rd[1].flags & REASM_FIN);
}

/*
 * Note what dir's segment says of its receive side: the window it advertises,
 * in bytes (a SYN's window is never scaled, RFC 7323 2.2; later ones are once
 * both SYNs carried the option), and what it acknowledges.
 */
static void note_rcv(struct flow *f, int dir, const struct dec_pkt *pkt)
{
	uint32_t w = pkt->tcp_win;

	if (pkt->tcp_flags & DEC_TCP_SYN)
		f->wscale[dir] = pkt->tcp_wscale;
	else if (f->wscale[0] != DEC_NO_WSCALE && f->wscale[1] != DEC_NO_WSCALE)
		w <<= f->wscale[dir];
	f->win[dir] = w;
	f->win_seen[dir] = true;
	if (pkt->tcp_flags & DEC_TCP_ACK) {
		f->ack[dir] = pkt->ack;
		f->ack_seen[dir] = true;
	}
}

/* Why a RST is not taken; each reason has its counter. */
enum rst_verdict {
	RST_OK,
	RST_WINDOW, /* sequence number outside the receiver's window */
	RST_ACK,    /* an answer to a SYN that does not acknowledge it */
};

/*
 * RFC 5961 3.2 for a passive observer: a RST is taken only if its sequence
 * number lies in the receiver's window, [RCV.NXT, RCV.NXT + RCV.WND). The
 * capture does not see RCV.NXT: it lies between the receiver's last
 * acknowledgment and the sender's next sequence number seen so far (a
 * capture near the sender sees bytes the receiver has not got yet; one that
 * lost the sender's segments lags behind), so the RST must fall between the
 * lower of the two and the higher plus the window. The acknowledgment counts
 * only within one window of the sender's bytes (a bogus one cannot widen the
 * range further). An endpoint answers an in-window RST that is not an exact
 * match with a challenge ACK; a passive analyzer cannot know RCV.NXT exactly,
 * so it takes the whole window. Before anything of the sender or any
 * acknowledgment of the receiver was seen, a RST must acknowledge what the
 * receiver sent (RFC 793 SYN-SENT: its SYN), unless nothing of the
 * connection was seen at all.
 */
static enum rst_verdict rst_check(const struct flow *f, int dir, const struct dec_pkt *pkt)
{
	const struct reasm_dir *snd = &f->rd[dir], *rcv = &f->rd[!dir];
	/* the receiver's window; the largest unscaled one while it has not advertised one */
	uint32_t w = f->win_seen[!dir] ? f->win[!dir] : 65535, lo, hi;
	bool acked = f->ack_seen[!dir];

	if (!w)
		w = 1; /* a zero window takes RCV.NXT only */
	if (snd->flags & REASM_INIT) {
		lo = hi = snd->next;
		if (acked && f->ack[!dir] - snd->next <= w)
			hi = f->ack[!dir];
		else if (acked && snd->next - f->ack[!dir] <= w)
			lo = f->ack[!dir];
	} else if (acked) {
		lo = hi = f->ack[!dir];
	} else if (rcv->flags & REASM_INIT) {
		return (pkt->tcp_flags & DEC_TCP_ACK) && pkt->ack == rcv->next ? RST_OK : RST_ACK;
	} else {
		return RST_OK;
	}
	return pkt->seq - lo < hi - lo + w ? RST_OK : RST_WINDOW;
}

static void tcp_packet(struct dpi *d, struct flow *f, int dir, const struct dec_pkt *pkt)
{
	int err;

	if ((pkt->tcp_flags & DEC_TCP_RST) && !(f->rd[dir].flags & REASM_CLOSED)) {
		switch (rst_check(f, dir, pkt)) {
		case RST_WINDOW:
			d->c.rst_refused_window++;
			return;
		case RST_ACK:
			d->c.rst_refused_ack++;
			return;
		case RST_OK:
			break;
		}
	}
	note_rcv(f, dir, pkt);
	d->cur = f;
	if (pkt->tcp_flags & DEC_TCP_ACK)
		reasm_ack(&d->reasm, &f->rd[!dir], !dir, pkt->ack, d);
	err = reasm_segment(&d->reasm, &f->rd[dir], dir, pkt->seq, pkt->tcp_flags, pkt->payload,
			    pkt->payload_len, d);
	(void)err; /* counted in the reassembler's stats */
	d->cur = NULL;
	if (f->lru != FLOW_LRU_CLOSED && tcp_closed(f)) {
		f->end = ((f->rd[0].flags | f->rd[1].flags) & REASM_RST) ? FLOW_END_RST
									 : FLOW_END_FIN;
		flow_table_move(d->flows, f, FLOW_LRU_CLOSED);
	}
}

/*
 * A SYN with a new ISN on a closed flow, or on one that is closing (a FIN
 * seen: the peer's FIN or the final ACK may be missing from the capture),
 * starts a new flow. Otherwise the closed direction would drop the new
 * connection's bytes until the old flow idles out.
 */
static bool tcp_reused(const struct flow *f, int dir, const struct dec_pkt *pkt)
{
	if ((pkt->tcp_flags & (DEC_TCP_SYN | DEC_TCP_ACK)) != DEC_TCP_SYN)
		return false;
	if (f->lru != FLOW_LRU_CLOSED && !((f->rd[0].flags | f->rd[1].flags) & REASM_FIN))
		return false;
	/* a retransmitted SYN (same ISN) still belongs to the old flow */
	return !(f->rd[dir].flags & REASM_SYN) || f->rd[dir].isn != pkt->seq;
}

static void flow_packet(struct dpi *d, uint64_t ts, const struct dec_pkt *pkt, size_t wirelen,
			struct flow **out)
{
	struct flow_key key;
	struct flow *f;
	uint32_t hash;
	int side, dir;

	if (flow_key_make(pkt, &key, &side))
		return;
	hash = flow_key_hash(&key, d->hash_key);
	f = flow_table_lookup(d->flows, &key, hash);
	if (f && key.proto == 6 && tcp_reused(f, flow_dir(f, side), pkt)) {
		d->c.reused++;
		flow_end(d, f, (enum flow_end)f->end ? (enum flow_end)f->end : FLOW_END_FIN);
		f = NULL;
	}
	if (!f) {
		f = flow_create(d, &key, hash, side, pkt, ts);
		if (!f)
			return;
	}
	*out = f;
	dir = flow_dir(f, side);
	f->pkts[dir]++;
	f->bytes[dir] += wirelen;
	if (ts > f->last_ns)
		f->last_ns = ts;
	flow_table_touch(d->flows, f);
	if (key.proto == 6) {
		tcp_packet(d, f, dir, pkt);
	} else if (key.proto == 17 && !d->o.no_apps && pkt->payload_len) {
		app_udp(d, f, dir, pkt, ts);
	}
}

enum dec_status dpi_packet(struct dpi *d, uint64_t ts_ns, int linktype, const uint8_t *data,
			   size_t caplen, size_t wirelen)
{
	struct dec_pkt pkt;
	struct flow *f = NULL;
	enum dec_status st;
	int round;

	d->c.packets++;
	d->c.bytes += wirelen;
	if (ts_ns > d->now_ns)
		d->now_ns = ts_ns;
	d->cur_ts = ts_ns;
	expire(d, d->now_ns);
	st = dec_packet(&pkt, linktype, data, caplen);
	if (st == DEC_FRAG)
		d->c.fragments++;
	/* twice at most: a tunnel may carry fragments inside a reassembled datagram */
	for (round = 0; st == DEC_FRAG && round < 2; round++) {
		const uint8_t *dg;
		size_t dglen;

		if (pkt.truncated && pkt.frag.offset == 0) {
			/* cut by the snaplen, never complete; its transport header is here */
			st = dec_l4(&pkt, pkt.frag.proto, pkt.frag.data, pkt.frag.len);
		} else if (defrag_add(d->defrag, d->now_ns, pkt.src, pkt.dst, &pkt.frag, &dg,
				      &dglen) == DEFRAG_DONE) {
			d->c.reassembled++;
			st = dec_l4(&pkt, pkt.frag.proto, dg, dglen);
		} else {
			break;
		}
	}
	if (pkt.seen & DEC_SEEN_IPV4)
		d->c.ipv4++;
	if (pkt.seen & DEC_SEEN_IPV6)
		d->c.ipv6++;
	if (pkt.seen & DEC_SEEN_TCP)
		d->c.tcp++;
	if (pkt.seen & DEC_SEEN_UDP)
		d->c.udp++;
	if (pkt.seen & DEC_SEEN_ICMP)
		d->c.icmp++;
	if (pkt.seen & DEC_SEEN_ICMP6)
		d->c.icmp6++;
	if (pkt.seen & DEC_SEEN_ARP)
		d->c.arp++;
	if (pkt.seen & DEC_SEEN_VLAN)
		d->c.vlan++;
	if (pkt.seen & DEC_SEEN_TUNNEL)
		d->c.tunneled++;
	if (pkt.truncated)
		d->c.truncated++;
	switch (st) {
	case DEC_OK:
		flow_packet(d, ts_ns, &pkt, wirelen, &f);
		break;
	case DEC_BAD:
		d->c.malformed++;
		break;
	case DEC_UNSUPPORTED:
		d->c.unsupported++;
		break;
	default:
		break;
	}
	if (d->o.cb.on_packet)
		d->o.cb.on_packet(d->o.ctx, ts_ns, st, &pkt, f);
	return st;
}

void dpi_tick(struct dpi *d, uint64_t now_ns)
{
	if (now_ns > d->now_ns)
		d->now_ns = now_ns;
	expire(d, d->now_ns);
	defrag_expire(d->defrag, d->now_ns);
}

void dpi_flush(struct dpi *d)
{
	struct flow *best;
	int l;

	/* in creation-independent but deterministic order: oldest activity first */
	for (;;) {
		best = NULL;
		for (l = 0; l < FLOW_LRU_N; l++) {
			struct flow *f = flow_table_oldest(d->flows, l);

			if (f && (!best || f->last_ns < best->last_ns ||
				  (f->last_ns == best->last_ns && f->id < best->id)))
				best = f;
		}
		if (!best)
			break;
		flow_end(d, best, best->end ? (enum flow_end)best->end : FLOW_END_EOF);
	}
}

const struct dpi_counters *dpi_counters(const struct dpi *d)
{
	return &d->c;
}

const struct defrag_stats *dpi_defrag_stats(const struct dpi *d)
{
	return defrag_stats(d->defrag);
}

const struct reasm_stats *dpi_reasm_stats(const struct dpi *d)
{
	return &d->reasm.st;
}

uint32_t dpi_flows_active(const struct dpi *d)
{
	return flow_table_count(d->flows);
}

uint64_t dpi_parser_mem(const struct dpi *d)
{
	return d->parser_mem;
}
