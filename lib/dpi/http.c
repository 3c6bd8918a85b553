// SPDX-License-Identifier: GPL-2.0
/* HTTP/1.x message framing (RFC 9112): start line, Host, Content-Length, chunked bodies. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/base/rd.h"
#include "lib/dpi/http.h"

#define HTTP_METHOD_MAX 24
#define HTTP_CHUNK_LINE_MAX 4096
#define HTTP_BODY_MAX (1ULL << 48) /* a larger Content-Length or chunk size is refused */

/* Parser position inside one direction's stream. */
enum http_pos {
	P_START,      /* between messages: blank lines are skipped */
	P_HDR,	      /* collecting the start line and headers into buf */
	P_BODY_LEN,   /* skipping a Content-Length body: left bytes */
	P_BODY_EOF,   /* response body delimited by the end of the connection */
	P_CHUNK_SIZE, /* chunk-size [; ext] CRLF */
	P_CHUNK_DATA, /* chunk data: left bytes */
	P_CHUNK_END,  /* CRLF after chunk data */
	P_TRAILER,    /* trailer fields up to the empty line */
};

struct http_req {
	struct http_req *next;
	size_t mem;  /* bytes allocated for it */
	bool silent; /* stands for an oversize request, keeps responses in order; not emitted */
	bool head, connect;
	uint64_t ts;
	const char *method, *host, *uri; /* into data */
	char data[];
};

struct http_dir {
	enum http_outcome oc;
	enum http_pos pos;
	bool seen;    /* a valid message was parsed: later garbage is malformed, not "not HTTP" */
	bool decided; /* the start of the current message looked plausible */
	bool line_empty; /* nothing but CR since the last LF */
	uint8_t *buf;	 /* header bytes of the current message */
	size_t have, cap;
	uint64_t left;	/* body or chunk bytes still to skip */
	uint64_t chunk; /* chunk-size being read */
	bool chunk_digit, chunk_ext;
	size_t line_len; /* chunk-size and trailer line lengths, capped */
};

struct http_conn {
	http_event_fn cb;
	void *ctx;
	struct http_dir d[2];
	struct http_req *head, *tail;
	unsigned int npending;
	size_t pending_mem; /* bytes of the requests in head..tail */
	struct http_stats st;
};

/* What the header block of one message said. */
struct http_msg {
	bool is_req;
	struct rd method, uri, host; /* request line and Host value */
	int status;
	bool has_host, has_len, chunked;
	uint64_t len;
};

const char *http_outcome_str(enum http_outcome oc)
{
	static const char *const names[] = {
		[HTTP_OK] = "ok",
		[HTTP_RESYNC] = "resync",
		[HTTP_NOT_HTTP] = "not_http",
		[HTTP_MALFORMED] = "malformed",
		[HTTP_UPGRADED] = "upgraded",
	};

	if ((unsigned int)oc < sizeof(names) / sizeof(names[0]) && names[oc])
		return names[oc];
	return "unknown";
}

static bool is_method_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
}

/* Does r start with the literal s? Consumes it if so. */
static bool eat(struct rd *r, const char *s)
{
	size_t n = strlen(s);

	if (rd_left(r) < n || memcmp(rd_cur(r), s, n) != 0)
		return false;
	return rd_skip(r, n) == 0;
}

static const char *const sniff_starts[] = {
	"GET ",	      "POST ",	      "HEAD ",	 "PUT ",      "DELETE ",    "OPTIONS ",
	"TRACE ",     "CONNECT ",     "PATCH ",	 "PROPFIND ", "PROPPATCH ", "MKCOL ",
	"COPY ",      "MOVE ",	      "LOCK ",	 "UNLOCK ",   "NOTIFY ",    "M-SEARCH ",
	"SUBSCRIBE ", "UNSUBSCRIBE ", "REPORT ", "SEARCH ",   "HTTP/1.",
};

bool http_sniff(const uint8_t *data, size_t len)
{
	struct rd r;
	size_t i;

	for (i = 0; i < sizeof(sniff_starts) / sizeof(sniff_starts[0]); i++) {
		rd_init(&r, data, len);
		if (eat(&r, sniff_starts[i]))
			return true;
	}
	return false;
}

bool http_sniff_partial(const uint8_t *data, size_t len)
{
	size_t i;

	for (i = 0; len && i < sizeof(sniff_starts) / sizeof(sniff_starts[0]); i++) {
		if (len < strlen(sniff_starts[i]) && memcmp(data, sniff_starts[i], len) == 0)
			return true;
	}
	return false;
}

/* -1: cannot start an HTTP message, 0: undecided yet, 1: plausible. */
static int start_check(const uint8_t *b, size_t n)
{
	static const char resp[] = "HTTP/";
	struct rd r;
	size_t i;
	uint8_t c;

	if (n == 0)
		return 0;
	if (memcmp(b, resp, n < 5 ? n : 5) == 0)
		return n >= 5 ? 1 : 0;
	rd_init(&r, b, n);
	for (i = 0; !rd_u8(&r, &c); i++) {
		if (c == ' ')
			return i > 0 ? 1 : -1;
		if (!is_method_char(c) || i >= HTTP_METHOD_MAX)
			return -1;
	}
	return 0;
}

/* The next line of r without its CR LF; false at the end of r. */
static bool next_line(struct rd *r, struct rd *line)
{
	const uint8_t *nl;
	uint8_t c;
	size_t n;

	if (!rd_left(r))
		return false;
	nl = memchr(rd_cur(r), '\n', rd_left(r));
	n = nl ? (size_t)(nl - rd_cur(r)) : rd_left(r);
	if (rd_sub(r, n, line) || (nl && rd_skip(r, 1)))
		return false;
	if (n && !rd_peek_u8(line, n - 1, &c) && c == '\r')
		line->len--;
	return true;
}

/* Bytes of r up to (not including) the first c; consumes them and the c. */
static bool take_until(struct rd *r, uint8_t c, struct rd *tok)
{
	const uint8_t *hit = memchr(rd_cur(r), c, rd_left(r));

	if (!hit || rd_sub(r, (size_t)(hit - rd_cur(r)), tok))
		return false;
	return rd_skip(r, 1) == 0;
}

static void trim(struct rd *v)
{
	uint8_t c;

	while (!rd_peek_u8(v, 0, &c) && (c == ' ' || c == '\t'))
		rd_skip(v, 1);
	while (rd_left(v) && !rd_peek_u8(v, rd_left(v) - 1, &c) && (c == ' ' || c == '\t'))
		v->len--;
}

static bool name_is(const struct rd *name, const char *s)
{
	size_t n = strlen(s);

	return rd_left(name) == n && strncasecmp((const char *)rd_cur(name), s, n) == 0;
}

static bool parse_u64_dec(struct rd v, uint64_t *out)
{
	uint64_t x = 0;
	uint8_t c;

	if (!rd_left(&v))
		return false;
	while (!rd_u8(&v, &c)) {
		if (c < '0' || c > '9' || x > HTTP_BODY_MAX)
			return false;
		x = x * 10 + (c - '0');
	}
	*out = x;
	return true;
}

/* "HTTP/1.x" */
static bool parse_version(struct rd *r)
{
	uint8_t c;

	return eat(r, "HTTP/1.") && !rd_u8(r, &c) && c >= '0' && c <= '9';
}

/* Start line and the header fields we use; false if the start line is not HTTP/1.x. */
static bool parse_header(const uint8_t *buf, size_t len, struct http_msg *m, bool first_line_only)
{
	struct rd r, line, name, v;
	uint8_t c, d[3];
	uint64_t cl;
	size_t i;

	memset(m, 0, sizeof(*m));
	rd_init(&r, buf, len);
	if (!next_line(&r, &line))
		return false;
	if (eat(&line, "HTTP/")) {
		/* status-line = HTTP-version SP status-code SP [ reason-phrase ] */
		rd_init(&line, line.p, line.len);
		if (!parse_version(&line) || !eat(&line, " ") || rd_bytes(&line, d, 3))
			return false;
		for (i = 0; i < 3; i++) {
			if (d[i] < '0' || d[i] > '9')
				return false;
		}
		if (d[0] < '1' || d[0] > '5' || (rd_left(&line) && !eat(&line, " ")))
			return false;
		m->status = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
	} else {
		/* request-line = method SP request-target SP HTTP-version */
		if (!take_until(&line, ' ', &m->method) || !rd_left(&m->method) ||
		    rd_left(&m->method) > HTTP_METHOD_MAX)
			return false;
		for (v = m->method; !rd_u8(&v, &c);) {
			if (!is_method_char(c))
				return false;
		}
		if (!take_until(&line, ' ', &m->uri) || !rd_left(&m->uri))
			return false;
		if (!parse_version(&line) || rd_left(&line))
			return false;
		m->is_req = true;
	}
	if (first_line_only)
		return true;
	while (next_line(&r, &line) && rd_left(&line)) {
		if (!rd_peek_u8(&line, 0, &c) && (c == ' ' || c == '\t'))
			continue; /* obs-fold continuation */
		if (!take_until(&line, ':', &name))
			continue;
		v = line;
		trim(&v);
		if (name_is(&name, "host") && !m->has_host) {
			m->host = v;
			m->has_host = true;
		} else if (name_is(&name, "content-length")) {
			if (!parse_u64_dec(v, &cl) || (m->has_len && cl != m->len)) {
				m->status = -1;
				return true;
			}
			m->len = cl;
			m->has_len = true;
		} else if (name_is(&name, "transfer-encoding")) {
			/* chunked must be the final coding */
			m->chunked = rd_left(&v) >= 7 &&
				     strncasecmp((const char *)rd_cur(&v) + rd_left(&v) - 7,
						 "chunked", 7) == 0;
		}
	}
	return true;
}

/* Copy r as printable ASCII into dst, '?' for other bytes. */
static char *put_text(char *dst, struct rd r)
{
	uint8_t c;

	while (!rd_u8(&r, &c))
		*dst++ = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	*dst++ = '\0';
	return dst;
}

static void emit(struct http_conn *c, struct http_req *q, int status)
{
	struct http_event ev;

	if (!q->silent) {
		ev.method = q->method;
		ev.host = q->host;
		ev.uri = q->uri;
		ev.status = status;
		ev.ts = q->ts;
		c->cb(c->ctx, &ev);
	}
	free(q);
}

static struct http_req *pop(struct http_conn *c)
{
	struct http_req *q = c->head;

	if (q) {
		c->head = q->next;
		if (!c->head)
			c->tail = NULL;
		c->npending--;
		c->pending_mem -= q->mem;
	}
	return q;
}

static int push(struct http_conn *c, const struct http_msg *m, bool silent, uint64_t ts)
{
	size_t n = silent ? 3 : rd_left(&m->method) + rd_left(&m->uri) + rd_left(&m->host) + 3;
	struct http_req *q = calloc(1, sizeof(*q) + n);
	char *p;

	if (!q)
		return -ENOMEM;
	q->mem = sizeof(*q) + n;
	q->silent = silent;
	q->ts = ts;
	q->head = name_is(&m->method, "HEAD");
	q->connect = name_is(&m->method, "CONNECT");
	p = q->data;
	q->method = p;
	p = silent ? p + 1 : put_text(p, m->method);
	q->uri = p;
	p = silent ? p + 1 : put_text(p, m->uri);
	q->host = p;
	if (!silent)
		put_text(p, m->has_host ? m->host : (struct rd){ 0 });
	if (c->npending >= HTTP_PENDING_MAX) {
		c->st.flushed++;
		emit(c, pop(c), 0);
	}
	if (c->tail)
		c->tail->next = q;
	else
		c->head = q;
	c->tail = q;
	c->npending++;
	c->pending_mem += q->mem;
	return 0;
}

static void stop_both(struct http_conn *c, enum http_outcome oc)
{
	c->d[0].oc = oc;
	c->d[1].oc = oc;
}

/* A response's start line (and headers when complete): match it to the oldest request. */
static void on_response(struct http_conn *c, struct http_dir *d, const struct http_msg *m,
			bool complete)
{
	struct http_req *q;
	bool head, connect;

	d->pos = P_START;
	if (m->status >= 100 && m->status < 200 && m->status != 101)
		return; /* interim: the final response follows */
	c->st.responses++;
	q = pop(c);
	if (!q)
		c->st.unmatched++;
	head = q && q->head;
	connect = q && q->connect;
	if (q)
		emit(c, q, m->status);
	if (m->status == 101 || (connect && m->status / 100 == 2)) {
		stop_both(c, HTTP_UPGRADED);
		return;
	}
	if (!complete || head || m->status == 204 || m->status == 304)
		return;
	if (m->chunked) {
		d->pos = P_CHUNK_SIZE;
	} else if (m->has_len) {
		d->left = m->len;
		d->pos = m->len ? P_BODY_LEN : P_START;
	} else {
		d->pos = P_BODY_EOF;
	}
}

static int on_header(struct http_conn *c, struct http_dir *d, uint64_t ts)
{
	struct http_msg m;
	int err;

	if (!parse_header(d->buf, d->have, &m, false)) {
		d->oc = d->seen ? HTTP_MALFORMED : HTTP_NOT_HTTP;
		return 0;
	}
	if (m.status < 0) {
		d->oc = HTTP_MALFORMED; /* conflicting or bad Content-Length */
		return 0;
	}
	d->seen = true;
	if (!m.is_req) {
		on_response(c, d, &m, true);
		return 0;
	}
	c->st.requests++;
	if ((err = push(c, &m, false, ts)))
		return err;
	d->pos = P_START;
	if (m.chunked) {
		d->pos = P_CHUNK_SIZE;
	} else if (m.has_len && m.len) {
		d->left = m.len;
		d->pos = P_BODY_LEN;
	}
	return 0;
}

static void resync(struct http_dir *d)
{
	d->oc = HTTP_RESYNC;
	d->pos = P_START;
	d->have = 0;
}

/* The header outgrew HTTP_HDR_MAX: keep request/response order, then wait for a new message. */
static int on_oversize(struct http_conn *c, struct http_dir *d, uint64_t ts)
{
	struct http_msg m;
	int err = 0;

	c->st.oversize++;
	if (parse_header(d->buf, d->have, &m, true)) {
		d->seen = true;
		if (m.is_req) {
			c->st.requests++;
			err = push(c, &m, true, ts);
		} else {
			on_response(c, d, &m, false);
		}
	}
	if (d->oc == HTTP_OK)
		resync(d);
	return err;
}

static int hdr_byte(struct http_conn *c, struct http_dir *d, uint8_t b, uint64_t ts)
{
	uint8_t *nb;
	size_t ncap;
	int chk;

	if (d->have == HTTP_HDR_MAX)
		return on_oversize(c, d, ts);
	if (d->have == d->cap) {
		ncap = d->cap ? d->cap * 2 : 1024;
		if (ncap > HTTP_HDR_MAX)
			ncap = HTTP_HDR_MAX;
		nb = realloc(d->buf, ncap);
		if (!nb)
			return -ENOMEM;
		d->buf = nb;
		d->cap = ncap;
	}
	d->buf[d->have++] = b;
	if (!d->decided) {
		chk = start_check(d->buf, d->have);
		if (chk < 0) {
			d->oc = d->seen ? HTTP_MALFORMED : HTTP_NOT_HTTP;
			return 0;
		}
		d->decided = chk > 0;
	}
	if (b == '\n') {
		if (d->line_empty)
			return on_header(c, d, ts);
		d->line_empty = true;
	} else if (b != '\r') {
		d->line_empty = false;
	}
	return 0;
}

/* One byte of a chunk-size line: hex digits, then an optional extension. */
static void chunk_size_byte(struct http_dir *d, uint8_t b)
{
	int v = -1;

	if (b == '\n') {
		if (!d->chunk_digit) {
			d->oc = HTTP_MALFORMED;
			return;
		}
		d->left = d->chunk;
		d->pos = d->chunk ? P_CHUNK_DATA : P_TRAILER;
		d->line_empty = true;
		d->chunk = 0;
		d->chunk_digit = d->chunk_ext = false;
		d->line_len = 0;
		return;
	}
	if (++d->line_len > HTTP_CHUNK_LINE_MAX) {
		d->oc = HTTP_MALFORMED;
		return;
	}
	if (b == '\r' || d->chunk_ext)
		return;
	if (b >= '0' && b <= '9')
		v = b - '0';
	else if (b >= 'a' && b <= 'f')
		v = b - 'a' + 10;
	else if (b >= 'A' && b <= 'F')
		v = b - 'A' + 10;
	if (v >= 0 && d->chunk <= HTTP_BODY_MAX) {
		d->chunk = d->chunk * 16 + (uint64_t)v;
		d->chunk_digit = true;
	} else if ((b == ';' || b == ' ' || b == '\t') && d->chunk_digit) {
		d->chunk_ext = true;
	} else {
		d->oc = HTTP_MALFORMED;
	}
}

static int feed_dir(struct http_conn *c, struct http_dir *d, struct rd *r, uint64_t ts)
{
	uint64_t n;
	uint8_t b;
	int err;

	while (rd_left(r) && d->oc == HTTP_OK) {
		switch (d->pos) {
		case P_START:
			if (rd_peek_u8(r, 0, &b))
				return 0;
			if (b == '\r' || b == '\n') {
				rd_skip(r, 1);
				break;
			}
			d->pos = P_HDR;
			d->have = 0;
			d->decided = false;
			d->line_empty = false;
			break;
		case P_HDR:
			if (rd_u8(r, &b))
				return 0;
			if ((err = hdr_byte(c, d, b, ts)))
				return err;
			break;
		case P_BODY_LEN:
		case P_CHUNK_DATA:
			n = d->left < rd_left(r) ? d->left : rd_left(r);
			rd_skip(r, (size_t)n);
			d->left -= n;
			if (!d->left)
				d->pos = d->pos == P_BODY_LEN ? P_START : P_CHUNK_END;
			break;
		case P_BODY_EOF:
			rd_skip(r, rd_left(r));
			break;
		case P_CHUNK_SIZE:
			if (rd_u8(r, &b))
				return 0;
			chunk_size_byte(d, b);
			break;
		case P_CHUNK_END:
			if (rd_u8(r, &b))
				return 0;
			if (b == '\n')
				d->pos = P_CHUNK_SIZE;
			else if (b != '\r')
				d->oc = HTTP_MALFORMED;
			break;
		case P_TRAILER:
			if (rd_u8(r, &b))
				return 0;
			if (++d->line_len > HTTP_HDR_MAX) {
				d->oc = HTTP_MALFORMED;
			} else if (b == '\n') {
				if (d->line_empty) {
					d->pos = P_START;
					d->line_len = 0;
				}
				d->line_empty = true;
			} else if (b != '\r') {
				d->line_empty = false;
			}
			break;
		}
	}
	return 0;
}

struct http_conn *http_conn_new(http_event_fn cb, void *ctx)
{
	struct http_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->cb = cb;
	c->ctx = ctx;
	return c;
}

void http_conn_free(struct http_conn *c)
{
	struct http_req *q;

	if (!c)
		return;
	while ((q = pop(c)))
		free(q);
	free(c->d[0].buf);
	free(c->d[1].buf);
	free(c);
}

size_t http_conn_mem(const struct http_conn *c)
{
	if (!c)
		return 0;
	return sizeof(*c) + c->d[0].cap + c->d[1].cap + c->pending_mem;
}

int http_conn_feed(struct http_conn *c, int dir, const uint8_t *data, size_t len, uint64_t ts)
{
	struct http_dir *d;
	struct rd r;
	int err;

	if (dir != 0 && dir != 1)
		return -EINVAL;
	d = &c->d[dir];
	if (d->oc == HTTP_RESYNC && len) {
		if (!http_sniff(data, len))
			return 0;
		d->oc = HTTP_OK;
		c->st.resyncs++;
	}
	rd_init(&r, data, len);
	err = feed_dir(c, d, &r, ts);
	if (err)
		stop_both(c, HTTP_MALFORMED);
	return err;
}

void http_conn_gap(struct http_conn *c, int dir, uint64_t len)
{
	struct http_dir *d;

	if (dir != 0 && dir != 1)
		return;
	d = &c->d[dir];
	c->st.gaps++;
	if (d->oc != HTTP_OK)
		return;
	switch (d->pos) {
	case P_BODY_EOF:
		c->st.gaps_skipped++;
		return;
	case P_BODY_LEN:
	case P_CHUNK_DATA:
		if (len && len <= d->left) {
			d->left -= len;
			if (!d->left)
				d->pos = d->pos == P_BODY_LEN ? P_START : P_CHUNK_END;
			c->st.gaps_skipped++;
			return;
		}
		break;
	default:
		break;
	}
	resync(d);
}

void http_conn_end(struct http_conn *c)
{
	struct http_req *q;

	while ((q = pop(c)))
		emit(c, q, 0);
}

enum http_outcome http_conn_state(const struct http_conn *c, int dir)
{
	return c->d[dir & 1].oc;
}

const struct http_stats *http_conn_stats(const struct http_conn *c)
{
	return &c->st;
}
