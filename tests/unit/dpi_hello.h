/* SPDX-License-Identifier: GPL-2.0 */
/* Test-only builders: a TLS ClientHello with chosen SNI/ALPN/padding, and record framing. */
#ifndef CG_TESTS_DPI_HELLO_H
#define CG_TESTS_DPI_HELLO_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline size_t put16(uint8_t *b, size_t o, size_t v)
{
	b[o] = (uint8_t)(v >> 8);
	b[o + 1] = (uint8_t)v;
	return o + 2;
}

/*
 * A ClientHello handshake message (type 1, u24 length, body) into b: TLS 1.2
 * legacy version, a 32-byte session id, one suite, then server_name (if sni),
 * ALPN (if nalpn) and a padding extension of pad bytes. Returns its length.
 */
static inline size_t build_hello(uint8_t *b, const char *sni, const char *const *alpn, size_t nalpn,
				 size_t pad)
{
	size_t o = 4, ext_at, at, i, n;

	o = put16(b, o, 0x0303);
	memset(b + o, 0xab, 32); /* random */
	o += 32;
	b[o++] = 32; /* legacy_session_id */
	memset(b + o, 0xcd, 32);
	o += 32;
	o = put16(b, o, 2);
	o = put16(b, o, 0x1301);
	b[o++] = 1; /* compression methods: null */
	b[o++] = 0;
	ext_at = o;
	o += 2;
	if (sni) {
		n = strlen(sni);
		o = put16(b, o, 0); /* server_name */
		o = put16(b, o, n + 5);
		o = put16(b, o, n + 3);
		b[o++] = 0; /* host_name */
		o = put16(b, o, n);
		memcpy(b + o, sni, n);
		o += n;
	}
	if (nalpn) {
		o = put16(b, o, 16); /* application_layer_protocol_negotiation */
		at = o;
		o += 4;
		for (i = 0; i < nalpn; i++) {
			n = strlen(alpn[i]);
			b[o++] = (uint8_t)n;
			memcpy(b + o, alpn[i], n);
			o += n;
		}
		put16(b, at, o - at - 2);
		put16(b, at + 2, o - at - 4);
	}
	if (pad) {
		o = put16(b, o, 21); /* padding */
		o = put16(b, o, pad);
		memset(b + o, 0, pad);
		o += pad;
	}
	put16(b, ext_at, o - ext_at - 2);
	b[0] = 1;
	b[1] = (uint8_t)((o - 4) >> 16);
	b[2] = (uint8_t)((o - 4) >> 8);
	b[3] = (uint8_t)(o - 4);
	return o;
}

/* Wrap hs[0..len) into handshake records of at most rec bytes each. Returns the length. */
static inline size_t build_records(uint8_t *out, const uint8_t *hs, size_t len, size_t rec)
{
	size_t o = 0, off, n;

	for (off = 0; off < len; off += n) {
		n = len - off < rec ? len - off : rec;
		out[o++] = 22;
		out[o++] = 3;
		out[o++] = 1;
		o = put16(out, o, n);
		memcpy(out + o, hs + off, n);
		o += n;
	}
	return o;
}

/* Decode hex text (no separators) into out; returns the byte count. */
static inline size_t unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;
	int hi, lo;

	while (s[0] && s[1] && n < max) {
		hi = s[0] <= '9' ? s[0] - '0' : (s[0] | 0x20) - 'a' + 10;
		lo = s[1] <= '9' ? s[1] - '0' : (s[1] | 0x20) - 'a' + 10;
		out[n++] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	return n;
}

#endif
