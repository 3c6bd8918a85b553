// SPDX-License-Identifier: GPL-2.0
/* QUIC Initial: RFC 9001/9369 key and packet vectors, real captures, sealed edge cases, outcomes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "lib/dpi/quic.h"
#include "tests/lib/t.h"
#include "tests/unit/dpi_hello.h"
#include "tests/unit/dpi_quic_vectors.h"

static const uint8_t rfc_dcid[] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };

/* RFC 9001 A.1 and RFC 9369 A.1: client Initial keys for DCID 0x8394c8f03e515708. */
static void test_initial_keys(void)
{
	static const struct {
		uint32_t version;
		const char *key, *iv, *hp;
	} cases[] = {
		{ QUIC_V1, "1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c",
		  "9f50449e04a0e810283a1e9933adedd2" },
		{ QUIC_V2, "8b1a0bc121284290a29e0971b5cd045d", "91f73e2351d8fa91660e909f",
		  "45b95e15235d6f45a6b19cbcb0294ba9" },
	};
	struct quic_keys k;
	uint8_t want[16];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!ASSERT_EQ(quic_initial_keys(cases[i].version, rfc_dcid, sizeof(rfc_dcid), &k),
			       0, "derive"))
			continue;
		unhex(cases[i].key, want, sizeof(want));
		ASSERT_MEMEQ(k.key, want, 16, "key");
		unhex(cases[i].iv, want, sizeof(want));
		ASSERT_MEMEQ(k.iv, want, 12, "iv");
		unhex(cases[i].hp, want, sizeof(want));
		ASSERT_MEMEQ(k.hp, want, 16, "hp");
	}
	ASSERT_EQ(quic_initial_keys(0x12345678, rfc_dcid, sizeof(rfc_dcid), &k), -EINVAL,
		  "unknown version");
	ASSERT_EQ(quic_initial_keys(QUIC_V1, rfc_dcid, 21, &k), -EINVAL, "dcid 21");
	ASSERT_TRUE(quic_version_supported(QUIC_DRAFT29), "draft-29");
	ASSERT_TRUE(!quic_version_supported(0xff00001c), "draft-28");
}

/* Feed datagrams in order into one connection; per[i] is the outcome of datagram i. */
static void feed_hex(const char *const *dg, size_t n, struct tls_hello *h, enum quic_outcome *per)
{
	struct quic_conn *c = quic_conn_new();
	static uint8_t b[4096];
	size_t i, len;

	for (i = 0; c && i < n; i++) {
		len = unhex(dg[i], b, sizeof(b));
		per[i] = quic_conn_feed(c, b, len, h);
	}
	quic_conn_free(c);
}

/*
 * Whole datagrams: the RFC A.2 packets and Initials cut from the captures.
 * quic-29: a is answered by a Retry, b uses the Retry's SCID as DCID (its
 * own keys), c has the server-chosen DCID but b's keys.
 */
static void test_packets(void)
{
	static const struct {
		const char *name;
		const char *dg[3];
		enum quic_outcome want[3];
		const char *sni, *alpn0;
	} cases[] = {
		{ "rfc9001 a.2 (v1)", { rfc9001_a2 }, { QUIC_OK }, "example.com", NULL },
		{ "rfc9369 a.2 (v2)", { rfc9369_a2 }, { QUIC_OK }, "example.com", NULL },
		{ "quic-v2.pcapng", { qv2_a }, { QUIC_OK }, "test", NULL },
		{ "quic-29 a b c",
		  { q29_a, q29_b, q29_c },
		  { QUIC_OK, QUIC_DONE, QUIC_DONE },
		  "localhost",
		  "h3-29" },
		{ "quic-29 b after retry", { q29_b }, { QUIC_OK }, "localhost", "h3-29" },
		{ "quic-29 c then b",
		  { q29_c, q29_b },
		  { QUIC_DECRYPT_FAILED, QUIC_OK },
		  "localhost",
		  "h3-29" },
		{ "frag-unordered",
		  { qfu_a, qfu_b },
		  { QUIC_MORE, QUIC_OK },
		  "mastodon.social",
		  "h3" },
		{ "frag-unordered reversed",
		  { qfu_b, qfu_a },
		  { QUIC_MORE, QUIC_OK },
		  "mastodon.social",
		  "h3" },
		{ "frag-unordered first only", { qfu_a }, { QUIC_MORE }, "", NULL },
		{ "frag-unordered second only", { qfu_b }, { QUIC_MORE }, "", NULL },
	};
	enum quic_outcome per[3];
	struct tls_hello h;
	size_t i, j, n;
	char name[96];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (n = 0; n < 3 && cases[i].dg[n]; n++)
			;
		memset(&h, 0, sizeof(h));
		memset(per, 0xff, sizeof(per));
		feed_hex(cases[i].dg, n, &h, per);
		for (j = 0; j < n; j++) {
			snprintf(name, sizeof(name), "%s: datagram %zu", cases[i].name, j);
			ASSERT_EQ(per[j], cases[i].want[j], name);
		}
		ASSERT_STREQ(h.sni, cases[i].sni, cases[i].name);
		if (cases[i].alpn0)
			ASSERT_STREQ(h.alpn[0], cases[i].alpn0, cases[i].name);
	}
}

/*
 * A test-side sealer (RFC 9001 5.3, 5.4) for crafted payloads: v1 or v2 long
 * header Initial, 4-byte packet number, DCID rfc_dcid, empty SCID and token.
 */
static size_t seal(uint32_t version, const uint8_t *pl, size_t pllen, uint32_t pn, uint8_t *out)
{
	uint8_t first = version == QUIC_V2 ? 0xd3 : 0xc3, nonce[12], mask[16];
	EVP_CIPHER_CTX *ctx;
	struct quic_keys k;
	size_t o = 0, pn_off, i;
	int outl;

	if (quic_initial_keys(version, rfc_dcid, sizeof(rfc_dcid), &k))
		return 0;
	out[o++] = first;
	for (i = 0; i < 4; i++)
		out[o++] = (uint8_t)(version >> (24 - 8 * i));
	out[o++] = sizeof(rfc_dcid);
	memcpy(out + o, rfc_dcid, sizeof(rfc_dcid));
	o += sizeof(rfc_dcid);
	out[o++] = 0; /* scid */
	out[o++] = 0; /* token */
	o = put16(out, o, 0x4000 | (4 + pllen + 16));
	pn_off = o;
	for (i = 0; i < 4; i++)
		out[o++] = (uint8_t)(pn >> (24 - 8 * i));
	memcpy(nonce, k.iv, 12);
	for (i = 0; i < 4; i++)
		nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
	ctx = EVP_CIPHER_CTX_new();
	EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, k.key, nonce);
	EVP_EncryptUpdate(ctx, NULL, &outl, out, (int)o);
	EVP_EncryptUpdate(ctx, out + o, &outl, pl, (int)pllen);
	EVP_EncryptFinal_ex(ctx, out + o + pllen, &outl);
	EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out + o + pllen);
	EVP_CIPHER_CTX_free(ctx);
	o += pllen + 16;
	ctx = EVP_CIPHER_CTX_new();
	EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, k.hp, NULL);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	EVP_EncryptUpdate(ctx, mask, &outl, out + pn_off + 4, 16);
	EVP_CIPHER_CTX_free(ctx);
	out[0] ^= mask[0] & 0x0f;
	for (i = 0; i < 4; i++)
		out[pn_off + i] ^= mask[1 + i];
	return o;
}

/* A CRYPTO frame (type, 2-byte varint offset and length) of hello[off..off+n). */
static size_t crypto_frame(uint8_t *b, size_t o, const uint8_t *hello, size_t off, size_t n)
{
	b[o++] = 0x06;
	o = put16(b, o, 0x4000 | off);
	o = put16(b, o, 0x4000 | n);
	memcpy(b + o, hello + off, n);
	return o + n;
}

static uint8_t hello[70000], pl[8000], pkt[9000];

/* CRYPTO split in three, sent in every order, with ACK/PING/PADDING/CLOSE frames around. */
static void test_crypto_reorder(void)
{
	static const char *const alpn[] = { "h3", "h3-29" };
	static const int orders[][3] = { { 0, 1, 2 }, { 2, 1, 0 }, { 1, 2, 0 }, { 2, 0, 1 } };
	static const uint8_t extra[] = {
		0x01, 0x02, 0x05, 0x00, 0x01, 0x02, 0x01, 0x01, 0x00, 0x00
	};
	size_t n, third, i, j, o, m;
	struct quic_conn *c;
	enum quic_outcome oc;
	struct tls_hello h;
	int part;

	n = build_hello(hello, "reorder.example", alpn, 2, 1500);
	third = n / 3;
	for (i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
		c = quic_conn_new();
		if (!ASSERT_TRUE(c != NULL, "new"))
			return;
		for (j = 0; j < 3; j++) {
			part = orders[i][j];
			o = 0;
			memcpy(pl, extra,
			       sizeof(extra)); /* PING, ACK(5,0,1 range 2,(1,1)), PADDING */
			o = sizeof(extra);
			o = crypto_frame(pl, o, hello, (size_t)part * third,
					 part == 2 ? n - 2 * third : third);
			/* a duplicate of the first bytes: first data wins */
			o = crypto_frame(pl, o, hello, 0, 10);
			pl[o++] = 0x1c; /* CONNECTION_CLOSE: code 0, frame type 0, reason "x" */
			pl[o++] = 0;
			pl[o++] = 0;
			pl[o++] = 1;
			pl[o++] = 'x';
			memset(pl + o, 0, 40);
			o += 40;
			m = seal(j % 2 ? QUIC_V2 : QUIC_V1, pl, o, (uint32_t)j, pkt);
			oc = quic_conn_feed(c, pkt, m, &h);
			/* switching versions re-derives keys and restarts the stream */
			if (j % 2)
				break;
		}
		ASSERT_EQ(oc, QUIC_MORE, "version switch restarts");
		quic_conn_free(c);

		c = quic_conn_new();
		for (j = 0; j < 3; j++) {
			part = orders[i][j];
			o = crypto_frame(pl, 0, hello, (size_t)part * third,
					 part == 2 ? n - 2 * third : third);
			m = seal(QUIC_V1, pl, o, (uint32_t)j, pkt);
			oc = quic_conn_feed(c, pkt, m, &h);
			if (j < 2)
				ASSERT_EQ(oc, QUIC_MORE, "partial");
		}
		if (ASSERT_EQ(oc, QUIC_OK, "complete")) {
			ASSERT_STREQ(h.sni, "reorder.example", "sni");
			ASSERT_EQ(h.nalpn, 2, "nalpn");
			ASSERT_STREQ(h.alpn[1], "h3-29", "alpn");
		}
		ASSERT_EQ(quic_conn_feed(c, pkt, m, &h), QUIC_DONE, "done");
		quic_conn_free(c);
	}
}

/* One datagram per outcome. */
static void test_outcomes(void)
{
	static uint8_t d[2000];
	struct quic_conn *c;
	struct tls_hello h;
	size_t n, o, m;

	c = quic_conn_new();
	if (!ASSERT_TRUE(c != NULL, "new"))
		return;
	/* short header */
	memset(d, 0x41, 40);
	ASSERT_EQ(quic_conn_feed(c, d, 40, &h), QUIC_NOT_INITIAL, "short header");
	/* version negotiation */
	memcpy(d, "\xc0\x00\x00\x00\x00\x00\x00", 7);
	ASSERT_EQ(quic_conn_feed(c, d, 7, &h), QUIC_NOT_INITIAL, "version negotiation");
	/* v1 Handshake packet (type 2): walked, not opened */
	memcpy(d, "\xe0\x00\x00\x00\x01\x00\x00\x04\x00\x00\x00\x00", 12);
	ASSERT_EQ(quic_conn_feed(c, d, 12, &h), QUIC_NOT_INITIAL, "handshake");
	/* v1 Retry */
	memcpy(d, "\xf0\x00\x00\x00\x01\x00\x00", 7);
	ASSERT_EQ(quic_conn_feed(c, d, 7, &h), QUIC_NOT_INITIAL, "retry");
	/* unknown version */
	memcpy(d, "\xc0\x1a\x2a\x3a\x4a\x00\x00", 7);
	ASSERT_EQ(quic_conn_feed(c, d, 7, &h), QUIC_UNSUPPORTED_VERSION, "version");
	/* DCID length 21 */
	memcpy(d, "\xc0\x00\x00\x00\x01\x15", 6);
	ASSERT_EQ(quic_conn_feed(c, d, 40, &h), QUIC_MALFORMED, "dcid 21");
	/* Length beyond the datagram */
	memcpy(d, "\xc0\x00\x00\x00\x01\x00\x00\x00\x44\x00", 10);
	ASSERT_EQ(quic_conn_feed(c, d, 40, &h), QUIC_MALFORMED, "length");
	/* Length too short for the header protection sample */
	memcpy(d, "\xc0\x00\x00\x00\x01\x00\x00\x00\x05\x00\x00\x00\x00\x00", 14);
	ASSERT_EQ(quic_conn_feed(c, d, 14, &h), QUIC_MALFORMED, "no sample");
	/* tampered RFC packet */
	n = unhex(rfc9001_a2, d, sizeof(d));
	d[n - 40] ^= 1;
	ASSERT_EQ(quic_conn_feed(c, d, n, &h), QUIC_DECRYPT_FAILED, "tampered");
	quic_conn_free(c);

	/* a STREAM frame inside an Initial */
	c = quic_conn_new();
	n = build_hello(hello, "x.example", NULL, 0, 0);
	o = crypto_frame(pl, 0, hello, 0, 10);
	pl[o++] = 0x08;
	memset(pl + o, 0, 30);
	o += 30;
	m = seal(QUIC_V1, pl, o, 0, pkt);
	ASSERT_EQ(quic_conn_feed(c, pkt, m, &h), QUIC_BAD_FRAME, "stream frame");
	/* the CRYPTO bytes before the bad frame were kept */
	o = crypto_frame(pl, 0, hello, 10, n - 10);
	m = seal(QUIC_V1, pl, o, 1, pkt);
	ASSERT_EQ(quic_conn_feed(c, pkt, m, &h), QUIC_OK, "rest");
	ASSERT_STREQ(h.sni, "x.example", "sni");
	quic_conn_free(c);

	/* CRYPTO length beyond the payload */
	c = quic_conn_new();
	o = crypto_frame(pl, 0, hello, 0, 10);
	pl[4] = 0x7f;
	m = seal(QUIC_V1, pl, o + 30, 0, pkt);
	ASSERT_EQ(quic_conn_feed(c, pkt, m, &h), QUIC_BAD_FRAME, "crypto overrun");
	quic_conn_free(c);

	/* not a ClientHello */
	c = quic_conn_new();
	hello[0] = 2;
	o = crypto_frame(pl, 0, hello, 0, n);
	m = seal(QUIC_V1, pl, o, 0, pkt);
	ASSERT_EQ(quic_conn_feed(c, pkt, m, &h), QUIC_BAD_HELLO, "server hello");
	ASSERT_EQ(quic_conn_feed(c, pkt, m, &h), QUIC_DONE, "done after bad hello");
	quic_conn_free(c);

	/* a ClientHello over the cap */
	c = quic_conn_new();
	n = build_hello(hello, "big.example", NULL, 0, 66000);
	o = crypto_frame(pl, 0, hello, 0, 1000);
	m = seal(QUIC_V2, pl, o, 0, pkt);
	ASSERT_EQ(quic_conn_feed(c, pkt, m, &h), QUIC_TOO_BIG, "too big");
	quic_conn_free(c);
	quic_conn_free(NULL);
}

/* A CRYPTO frame (type, 4-byte varint offset, 2-byte length) of n bytes of x at off. */
static size_t crypto_frame_far(uint8_t *b, size_t o, uint32_t off, size_t n)
{
	b[o++] = 0x06;
	b[o++] = (uint8_t)(0x80 | off >> 24);
	b[o++] = (uint8_t)(off >> 16);
	b[o++] = (uint8_t)(off >> 8);
	b[o++] = (uint8_t)off;
	o = put16(b, o, 0x4000 | n);
	memset(b + o, 'x', n);
	return o + n;
}

/*
 * CRYPTO data far past what was received is refused, so it allocates
 * nothing big: a frame at offset 65000 used to cost a 72 KiB buffer.
 */
static void test_crypto_far(void)
{
	struct quic_conn *c;
	struct tls_hello h;
	size_t n, o, m, base;

	c = quic_conn_new();
	if (!ASSERT_TRUE(c != NULL, "new"))
		return;
	base = quic_conn_mem(c);
	o = crypto_frame_far(pl, 0, 65000, 100);
	memset(pl + o, 0, 40);
	m = seal(QUIC_V1, pl, o + 40, 0, pkt);
	ASSERT_EQ(quic_conn_feed(c, pkt, m, &h), QUIC_FAR_CRYPTO, "offset 65000 refused");
	ASSERT_EQ(quic_conn_mem(c), base, "nothing allocated");
	/* just past the window: refused; just inside it: kept, in a buffer of about the window */
	o = crypto_frame_far(pl, 0, QUIC_CRYPTO_WINDOW, 100);
	m = seal(QUIC_V1, pl, o + 40, 1, pkt);
	ASSERT_EQ(quic_conn_feed(c, pkt, m, &h), QUIC_FAR_CRYPTO, "window end refused");
	ASSERT_EQ(quic_conn_mem(c), base, "still nothing");
	o = crypto_frame_far(pl, 0, QUIC_CRYPTO_WINDOW - 100, 100);
	m = seal(QUIC_V1, pl, o + 40, 2, pkt);
	ASSERT_EQ(quic_conn_feed(c, pkt, m, &h), QUIC_MORE, "inside the window kept");
	ASSERT_TRUE(quic_conn_mem(c) <= base + QUIC_CRYPTO_WINDOW + QUIC_CRYPTO_WINDOW / 8,
		    "bounded by the window");
	/* a frame straddling the window end: the part inside is kept, the rest refused */
	o = crypto_frame_far(pl, 0, QUIC_CRYPTO_WINDOW - 10, 100);
	m = seal(QUIC_V1, pl, o + 40, 3, pkt);
	ASSERT_EQ(quic_conn_feed(c, pkt, m, &h), QUIC_FAR_CRYPTO, "straddling");
	ASSERT_TRUE(quic_conn_mem(c) <= base + QUIC_CRYPTO_WINDOW + QUIC_CRYPTO_WINDOW / 8,
		    "still bounded");
	/* the hello itself still completes */
	n = build_hello(hello, "far.example", NULL, 0, 0);
	o = crypto_frame(pl, 0, hello, 0, n);
	m = seal(QUIC_V1, pl, o, 4, pkt);
	ASSERT_EQ(quic_conn_feed(c, pkt, m, &h), QUIC_OK, "hello");
	ASSERT_STREQ(h.sni, "far.example", "sni");
	ASSERT_EQ(quic_conn_mem(c), base, "freed when done");
	quic_conn_free(c);
	ASSERT_EQ(quic_conn_mem(NULL), 0, "NULL");
	ASSERT_STREQ(quic_outcome_str(QUIC_FAR_CRYPTO), "far_crypto", "name");
}

/*
 * Every prefix of a real Initial, each length from 0 to the whole but one,
 * in a heap buffer of exactly that length (so ASan sees a read past the
 * cut): no crash, and each is refused as cut short (QUIC_MALFORMED: the
 * header or its Length runs past the datagram), never taken, held, or sent
 * on to decryption; the empty datagram is no Initial at all. Then the
 * whole one is taken, and every 13th byte flipped: never OK.
 */
static void test_truncations(void)
{
	static uint8_t d[2000];
	struct quic_conn *c;
	struct tls_hello h;
	enum quic_outcome oc, want;
	size_t n, i, wrong = 0;
	uint8_t *cut;
	bool ok = true;

	n = unhex(rfc9001_a2, d, sizeof(d));
	for (i = 0; i < n; i++) {
		want = i == 0 ? QUIC_NOT_INITIAL : QUIC_MALFORMED;
		cut = malloc(i ? i : 1);
		c = quic_conn_new();
		if (!ASSERT_TRUE(cut && c, "alloc")) {
			free(cut);
			quic_conn_free(c);
			return;
		}
		memcpy(cut, d, i);
		oc = quic_conn_feed(c, cut, i, &h);
		if (oc != want && wrong++ < 8)
			fprintf(stderr, "  prefix %zu: %s, want %s\n", i, quic_outcome_str(oc),
				quic_outcome_str(want));
		quic_conn_free(c);
		free(cut);
	}
	ASSERT_EQ(wrong, 0, "every prefix refused as cut short");
	c = quic_conn_new();
	ASSERT_EQ(quic_conn_feed(c, d, n, &h), QUIC_OK, "the whole one");
	quic_conn_free(c);
	ok = true;
	for (i = 0; i < n; i += 13) {
		d[i] ^= 0x5a;
		c = quic_conn_new();
		ok &= quic_conn_feed(c, d, n, &h) != QUIC_OK;
		quic_conn_free(c);
		d[i] ^= 0x5a;
	}
	ASSERT_TRUE(ok, "flips");
	ASSERT_STREQ(quic_outcome_str(QUIC_TOO_BIG), "too_big", "name");
}

T_MAIN(T_CASE(test_initial_keys), T_CASE(test_packets), T_CASE(test_crypto_reorder),
       T_CASE(test_outcomes), T_CASE(test_crypto_far), T_CASE(test_truncations))
