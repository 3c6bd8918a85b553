// SPDX-License-Identifier: GPL-2.0
/* TLS ClientHello: record reassembly and the server_name / ALPN extensions (RFC 8446, 6066, 7301).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/rd.h"
#include "lib/dpi/tls.h"

#define TLS_CT_HANDSHAKE 22
#define TLS_HS_CLIENT_HELLO 1
#define TLS_EXT_SERVER_NAME 0
#define TLS_EXT_ALPN 16
#define TLS_REC_MAX (16384 + 2048) /* TLSCiphertext limit; plaintext hellos are smaller */

struct tls_stream {
	uint8_t hdr[5]; /* record header being collected */
	size_t hdr_have;
	size_t rec_left; /* body bytes of the current record still to come */
	uint8_t *buf;	 /* handshake bytes, at most TLS_HELLO_MAX */
	size_t have, cap;
	bool done;
};

const char *tls_outcome_str(enum tls_outcome oc)
{
	static const char *const names[] = {
		[TLS_OK] = "ok",
		[TLS_MORE] = "more",
		[TLS_NOT_HELLO] = "not_hello",
		[TLS_MALFORMED] = "malformed",
		[TLS_TOO_BIG] = "too_big",
		[TLS_GAP] = "gap",
		[TLS_DONE] = "done",
	};

	if ((unsigned int)oc < sizeof(names) / sizeof(names[0]) && names[oc])
		return names[oc];
	return "unknown";
}

/* Copy n bytes from r as printable ASCII text ('?' for anything else). */
static int copy_text(struct rd *r, size_t n, char *dst, size_t dstsz)
{
	size_t i;
	uint8_t c;

	if (n >= dstsz || rd_left(r) < n)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (rd_u8(r, &c))
			return -EINVAL;
		dst[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	dst[n] = '\0';
	return 0;
}

/* server_name: ServerNameList { u16 len; { u8 type; u16 len; name }* }; the first host_name wins.
 */
static int parse_sni(struct rd *ext, struct tls_hello *h)
{
	struct rd list;
	uint16_t llen, nlen;
	uint8_t type;
	int err;

	if ((err = rd_u16be(ext, &llen)) || (err = rd_sub(ext, llen, &list)))
		return err;
	while (rd_left(&list)) {
		if ((err = rd_u8(&list, &type)) || (err = rd_u16be(&list, &nlen)))
			return err;
		if (type == 0 && !h->sni[0] && nlen <= TLS_SNI_MAX) {
			if ((err = copy_text(&list, nlen, h->sni, sizeof(h->sni))))
				return err;
		} else if ((err = rd_skip(&list, nlen))) {
			return err;
		}
	}
	return 0;
}

/* ALPN: ProtocolNameList { u16 len; { u8 len; name }* }. */
static int parse_alpn(struct rd *ext, struct tls_hello *h)
{
	struct rd list;
	uint16_t llen;
	uint8_t nlen;
	int err;

	if ((err = rd_u16be(ext, &llen)) || (err = rd_sub(ext, llen, &list)))
		return err;
	while (rd_left(&list)) {
		if ((err = rd_u8(&list, &nlen)))
			return err;
		if (h->nalpn < TLS_ALPN_MAX && nlen < TLS_ALPN_NAME_MAX) {
			if ((err = copy_text(&list, nlen, h->alpn[h->nalpn], TLS_ALPN_NAME_MAX)))
				return err;
			h->nalpn++;
		} else if ((err = rd_skip(&list, nlen))) {
			return err;
		}
	}
	return 0;
}

enum tls_outcome tls_client_hello_parse(const uint8_t *msg, size_t len, struct tls_hello *hello)
{
	struct tls_hello h = { 0 };
	struct rd r, body, exts, ext;
	uint8_t type, sid_len, comp_len;
	uint16_t version, cs_len, exts_len, etype, elen;
	uint32_t mlen;

	rd_init(&r, msg, len);
	if (rd_u8(&r, &type))
		return TLS_MORE;
	if (type != TLS_HS_CLIENT_HELLO)
		return TLS_NOT_HELLO;
	if (rd_u24be(&r, &mlen))
		return TLS_MORE;
	if (mlen > TLS_HELLO_MAX - 4)
		return TLS_TOO_BIG;
	if (rd_sub(&r, mlen, &body))
		return TLS_MORE;

	/* legacy_version, random, legacy_session_id, cipher_suites, legacy_compression_methods */
	if (rd_u16be(&body, &version) || rd_skip(&body, 32) || rd_u8(&body, &sid_len) ||
	    sid_len > 32 || rd_skip(&body, sid_len) || rd_u16be(&body, &cs_len) ||
	    rd_skip(&body, cs_len) || rd_u8(&body, &comp_len) || rd_skip(&body, comp_len))
		return TLS_MALFORMED;
	if ((version >> 8) != 3)
		return TLS_MALFORMED;
	/* extensions are optional before TLS 1.3 */
	if (rd_left(&body) == 0)
		goto out;
	if (rd_u16be(&body, &exts_len) || rd_sub(&body, exts_len, &exts))
		return TLS_MALFORMED;
	while (rd_left(&exts)) {
		if (rd_u16be(&exts, &etype) || rd_u16be(&exts, &elen) || rd_sub(&exts, elen, &ext))
			return TLS_MALFORMED;
		if (etype == TLS_EXT_SERVER_NAME && parse_sni(&ext, &h))
			return TLS_MALFORMED;
		if (etype == TLS_EXT_ALPN && parse_alpn(&ext, &h))
			return TLS_MALFORMED;
	}
out:
	*hello = h;
	return TLS_OK;
}

struct tls_stream *tls_stream_new(void)
{
	return calloc(1, sizeof(struct tls_stream));
}

void tls_stream_free(struct tls_stream *s)
{
	if (!s)
		return;
	free(s->buf);
	free(s);
}

size_t tls_stream_mem(const struct tls_stream *s)
{
	if (!s)
		return 0;
	return sizeof(*s) + s->cap;
}

/* A final outcome: remember it and drop the buffer. */
static enum tls_outcome finish(struct tls_stream *s, enum tls_outcome oc)
{
	s->done = true;
	free(s->buf);
	s->buf = NULL;
	s->have = s->cap = 0;
	return oc;
}

static int append(struct tls_stream *s, const uint8_t *p, size_t n)
{
	size_t want = s->have + n;
	uint8_t *nb;

	if (want > TLS_HELLO_MAX)
		want = TLS_HELLO_MAX;
	if (want > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 2048;

		while (ncap < want)
			ncap *= 2;
		if (ncap > TLS_HELLO_MAX)
			ncap = TLS_HELLO_MAX;
		nb = realloc(s->buf, ncap);
		if (!nb)
			return -ENOMEM;
		s->buf = nb;
		s->cap = ncap;
	}
	n = want - s->have;
	memcpy(s->buf + s->have, p, n);
	s->have += n;
	return 0;
}

enum tls_outcome tls_stream_feed(struct tls_stream *s, const uint8_t *data, size_t len,
				 struct tls_hello *hello)
{
	enum tls_outcome oc;
	const uint8_t *p;
	struct rd r, h;
	uint16_t rlen;
	uint8_t ct, major;
	size_t n;

	if (s->done)
		return TLS_DONE;
	rd_init(&r, data, len);
	while (rd_left(&r)) {
		if (s->rec_left == 0) {
			n = sizeof(s->hdr) - s->hdr_have;
			if (n > rd_left(&r))
				n = rd_left(&r);
			if (rd_bytes(&r, s->hdr + s->hdr_have, n))
				return finish(s, TLS_MALFORMED);
			s->hdr_have += n;
			/* TLSPlaintext: u8 type, u16 version, u16 length */
			rd_init(&h, s->hdr, s->hdr_have);
			if (!rd_u8(&h, &ct) && ct != TLS_CT_HANDSHAKE)
				return finish(s, TLS_NOT_HELLO);
			if (!rd_u8(&h, &major) && major != 3)
				return finish(s, TLS_NOT_HELLO);
			if (s->hdr_have < sizeof(s->hdr))
				break;
			if (rd_skip(&h, 1) || rd_u16be(&h, &rlen))
				return finish(s, TLS_MALFORMED);
			if (rlen == 0 || rlen > TLS_REC_MAX)
				return finish(s, TLS_MALFORMED);
			s->rec_left = rlen;
			s->hdr_have = 0;
			continue;
		}
		n = s->rec_left < rd_left(&r) ? s->rec_left : rd_left(&r);
		if (rd_ptr(&r, n, &p))
			return finish(s, TLS_MALFORMED);
		s->rec_left -= n;
		if (s->have + n > TLS_HELLO_MAX)
			return finish(s, TLS_TOO_BIG);
		if (append(s, p, n))
			return finish(s, TLS_TOO_BIG);
		oc = tls_client_hello_parse(s->buf, s->have, hello);
		if (oc != TLS_MORE)
			return finish(s, oc);
	}
	return TLS_MORE;
}

enum tls_outcome tls_stream_gap(struct tls_stream *s)
{
	if (s->done)
		return TLS_DONE;
	return finish(s, TLS_GAP);
}
