// SPDX-License-Identifier: GPL-2.0
/* QUIC Initial: key derivation, header protection, AEAD (OpenSSL), frames, CRYPTO reassembly. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "lib/base/rd.h"
#include "lib/dpi/quic.h"

#define QUIC_TAG_LEN 16
#define QUIC_SAMPLE_LEN 16

/* Frame types allowed in Initial packets (RFC 9000 12.4, table 3). */
enum {
	QF_PADDING = 0x00,
	QF_PING = 0x01,
	QF_ACK = 0x02,
	QF_ACK_ECN = 0x03,
	QF_CRYPTO = 0x06,
	QF_CLOSE = 0x1c,
	QF_CLOSE_APP = 0x1d,
};

struct quic_conn {
	bool have_keys, done;
	uint32_t version;
	uint8_t dcid[QUIC_CID_MAX];
	size_t dcid_len;
	struct quic_keys keys;
	uint8_t *buf;  /* CRYPTO stream bytes [0, cap) */
	uint8_t *seen; /* one bit per byte of buf: received */
	size_t cap;
	size_t contig; /* [0, contig) all received */
};

/* Per-version constants: initial_salt and the HKDF label prefix. */
struct quic_version_info {
	uint32_t version;
	uint8_t salt[20];
	const char *key_label, *iv_label, *hp_label;
	uint8_t initial_type; /* long packet type bits of Initial */
	uint8_t retry_type;
};

static const struct quic_version_info versions[] = {
	{ QUIC_V1,
	  { 0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
	    0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a },
	  "quic key",
	  "quic iv",
	  "quic hp",
	  0,
	  3 },
	{ QUIC_V2,
	  { 0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
	    0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9 },
	  "quicv2 key",
	  "quicv2 iv",
	  "quicv2 hp",
	  1,
	  0 },
	{ QUIC_DRAFT29,
	  { 0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
	    0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99 },
	  "quic key",
	  "quic iv",
	  "quic hp",
	  0,
	  3 },
};

const char *quic_outcome_str(enum quic_outcome oc)
{
	static const char *const names[] = {
		[QUIC_OK] = "ok",
		[QUIC_MORE] = "more",
		[QUIC_NOT_INITIAL] = "not_initial",
		[QUIC_UNSUPPORTED_VERSION] = "unsupported_version",
		[QUIC_MALFORMED] = "malformed",
		[QUIC_DECRYPT_FAILED] = "decrypt_failed",
		[QUIC_BAD_FRAME] = "bad_frame",
		[QUIC_BAD_HELLO] = "bad_hello",
		[QUIC_TOO_BIG] = "too_big",
		[QUIC_DONE] = "done",
		[QUIC_FAR_CRYPTO] = "far_crypto",
	};

	if ((unsigned int)oc < sizeof(names) / sizeof(names[0]) && names[oc])
		return names[oc];
	return "unknown";
}

static const struct quic_version_info *version_info(uint32_t version)
{
	size_t i;

	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		if (versions[i].version == version)
			return &versions[i];
	}
	return NULL;
}

bool quic_version_supported(uint32_t version)
{
	return version_info(version) != NULL;
}

/* A variable-length integer (RFC 9000 16); consumes nothing on failure. */
static int rd_varint(struct rd *r, uint64_t *v)
{
	uint64_t q = 0;
	uint32_t d = 0;
	uint16_t w = 0;
	uint8_t b = 0;
	int err;

	if ((err = rd_peek_u8(r, 0, &b)))
		return err;
	switch (b >> 6) {
	case 0:
		if ((err = rd_u8(r, &b)))
			return err;
		q = b;
		break;
	case 1:
		if ((err = rd_u16be(r, &w)))
			return err;
		q = w & 0x3fff;
		break;
	case 2:
		if ((err = rd_u32be(r, &d)))
			return err;
		q = d & 0x3fffffff;
		break;
	default:
		if ((err = rd_u64be(r, &q)))
			return err;
		q &= 0x3fffffffffffffffULL;
		break;
	}
	*v = q;
	return 0;
}

/* HKDF (RFC 5869) with SHA-256 in one mode: extract (salt, ikm) or expand (prk, info). */
static int hkdf(int mode, const uint8_t *key, size_t keylen, const uint8_t *salt, size_t saltlen,
		const uint8_t *info, size_t infolen, uint8_t *out, size_t outlen)
{
	EVP_KDF_CTX *kctx = NULL;
	EVP_KDF *kdf = NULL;
	OSSL_PARAM params[6], *p = params;
	int ret = -EIO;

	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (!kdf)
		goto out;
	kctx = EVP_KDF_CTX_new(kdf);
	if (!kctx)
		goto out;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, keylen);
	if (salt)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt,
							 saltlen);
	if (info)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info,
							 infolen);
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, outlen, params) != 1)
		goto out;
	ret = 0;
out:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return ret;
}

/* HKDF-Expand-Label (RFC 8446 7.1) with an empty context. */
static int expand_label(const uint8_t secret[32], const char *label, uint8_t *out, size_t outlen)
{
	static const char prefix[] = "tls13 ";
	uint8_t info[2 + 1 + 255 + 1];
	size_t llen = strlen(label), n = 0;

	if (sizeof(prefix) - 1 + llen > 255)
		return -EINVAL;
	/* HkdfLabel: u16 length, opaque label<7..255> = "tls13 " + label, opaque context<0..255> */
	info[n++] = (uint8_t)(outlen >> 8);
	info[n++] = (uint8_t)outlen;
	info[n++] = (uint8_t)(sizeof(prefix) - 1 + llen);
	memcpy(info + n, prefix, sizeof(prefix) - 1);
	n += sizeof(prefix) - 1;
	memcpy(info + n, label, llen);
	n += llen;
	info[n++] = 0;
	return hkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, secret, 32, NULL, 0, info, n, out, outlen);
}

int quic_initial_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len,
		      struct quic_keys *keys)
{
	const struct quic_version_info *vi = version_info(version);
	uint8_t initial[32], client[32];
	struct quic_keys k;
	int err = -EINVAL;

	if (!vi || dcid_len > QUIC_CID_MAX)
		goto out;
	/* initial_secret = HKDF-Extract(initial_salt, client_dst_connection_id) */
	if ((err = hkdf(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, dcid, dcid_len, vi->salt, sizeof(vi->salt),
			NULL, 0, initial, sizeof(initial))))
		goto out;
	/* client_initial_secret = HKDF-Expand-Label(initial_secret, "client in", "", 32) */
	if ((err = expand_label(initial, "client in", client, sizeof(client))) ||
	    (err = expand_label(client, vi->key_label, k.key, sizeof(k.key))) ||
	    (err = expand_label(client, vi->iv_label, k.iv, sizeof(k.iv))) ||
	    (err = expand_label(client, vi->hp_label, k.hp, sizeof(k.hp))))
		goto out;
	*keys = k;
out:
	OPENSSL_cleanse(initial, sizeof(initial));
	OPENSSL_cleanse(client, sizeof(client));
	OPENSSL_cleanse(&k, sizeof(k));
	return err;
}

/* AES-128-ECB of one block: the header protection mask (RFC 9001 5.4.3). */
static int hp_mask(const uint8_t hp[16], const uint8_t *sample, uint8_t mask[16])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int outl = 0, ret = -EIO;

	if (!ctx)
		goto out;
	if (EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, hp, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_EncryptUpdate(ctx, mask, &outl, sample, QUIC_SAMPLE_LEN) != 1 || outl != 16)
		goto out;
	ret = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return ret;
}

/* AES-128-GCM open in place; -EBADMSG when the tag does not verify. */
static int aead_open(const struct quic_keys *k, uint64_t pn, const uint8_t *aad, size_t aadlen,
		     uint8_t *data, size_t len, const uint8_t *tag)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t nonce[12];
	int outl = 0, ret = -EIO;
	size_t i;

	if (!ctx)
		goto out;
	/* nonce = iv XOR the packet number, left-padded to 12 bytes */
	memcpy(nonce, k->iv, sizeof(nonce));
	for (i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
	if (EVP_DecryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, sizeof(nonce), NULL) != 1 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, k->key, nonce) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &outl, aad, (int)aadlen) != 1 ||
	    EVP_DecryptUpdate(ctx, data, &outl, data, (int)len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, QUIC_TAG_LEN, (void *)tag) != 1)
		goto out;
	ret = EVP_DecryptFinal_ex(ctx, data + outl, &outl) == 1 ? 0 : -EBADMSG;
out:
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(nonce, sizeof(nonce));
	return ret;
}

/*
 * Remove header protection and decrypt a copy of one Initial packet
 * (pkt[0..len), packet number at pn_off). On success *pt / *ptlen is the
 * plaintext inside *copy, which the caller frees.
 */
static int unprotect(const struct quic_keys *k, const uint8_t *pkt, size_t len, size_t pn_off,
		     uint8_t **copy, const uint8_t **pt, size_t *ptlen)
{
	uint8_t mask[16], *b = NULL;
	size_t pn_len, hdr_len, i;
	uint64_t pn = 0;
	int err;

	/* the sample starts 4 bytes after the packet number field (RFC 9001 5.4.2) */
	if (pn_off + 4 + QUIC_SAMPLE_LEN > len) {
		err = -EINVAL;
		goto out;
	}
	b = malloc(len);
	if (!b) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(b, pkt, len);
	if ((err = hp_mask(k->hp, b + pn_off + 4, mask)))
		goto out;
	b[0] ^= mask[0] & 0x0f; /* long header: 4 bits protected */
	pn_len = (size_t)(b[0] & 0x03) + 1;
	for (i = 0; i < pn_len; i++) {
		b[pn_off + i] ^= mask[1 + i];
		pn = pn << 8 | b[pn_off + i];
	}
	hdr_len = pn_off + pn_len;
	if (hdr_len + QUIC_TAG_LEN > len) {
		err = -EINVAL;
		goto out;
	}
	err = aead_open(k, pn, b, hdr_len, b + hdr_len, len - hdr_len - QUIC_TAG_LEN,
			b + len - QUIC_TAG_LEN);
	if (err)
		goto out;
	*copy = b;
	*pt = b + hdr_len;
	*ptlen = len - hdr_len - QUIC_TAG_LEN;
	b = NULL;
out:
	free(b);
	OPENSSL_cleanse(mask, sizeof(mask));
	return err;
}

static void crypto_reset(struct quic_conn *c)
{
	free(c->buf);
	free(c->seen);
	c->buf = c->seen = NULL;
	c->cap = c->contig = 0;
}

/*
 * Store CRYPTO bytes at off; first data wins. Bytes past QUIC_CRYPTO_MAX are
 * not kept (the hello parser reports it too big), nor are bytes
 * QUIC_CRYPTO_WINDOW or more past the contiguous prefix: then returns 1 (the
 * caller counts it). Returns 0 or -ENOMEM otherwise.
 */
static int crypto_add(struct quic_conn *c, uint64_t off, const uint8_t *data, size_t len)
{
	uint64_t end = off + len, limit = c->contig + QUIC_CRYPTO_WINDOW;
	size_t ncap, i, at;
	uint8_t *nb, *ns;
	int ret = 0;

	if (off >= QUIC_CRYPTO_MAX || len == 0)
		return 0;
	if (end > QUIC_CRYPTO_MAX)
		end = QUIC_CRYPTO_MAX;
	if (end > limit) {
		ret = 1;
		if (off >= limit)
			return ret;
		end = limit;
	}
	if (end > c->cap) {
		ncap = ((size_t)end + 4095) & ~(size_t)4095;
		nb = realloc(c->buf, ncap);
		if (!nb)
			return -ENOMEM;
		c->buf = nb;
		ns = realloc(c->seen, ncap / 8);
		if (!ns)
			return -ENOMEM;
		memset(ns + c->cap / 8, 0, (ncap - c->cap) / 8);
		c->seen = ns;
		c->cap = ncap;
	}
	for (i = 0; i < end - off; i++) {
		at = (size_t)off + i;
		if (c->seen[at / 8] & (1u << (at % 8)))
			continue;
		c->buf[at] = data[i];
		c->seen[at / 8] |= (uint8_t)(1u << (at % 8));
	}
	while (c->contig < c->cap && (c->seen[c->contig / 8] & (1u << (c->contig % 8))))
		c->contig++;
	return ret;
}

/* Frames of one decrypted Initial payload (RFC 9000 19). */
static enum quic_outcome parse_frames(struct quic_conn *c, const uint8_t *pt, size_t len)
{
	uint64_t type, a, b, n, i;
	const uint8_t *data;
	bool far = false;
	struct rd r;
	int err;

	rd_init(&r, pt, len);
	while (rd_left(&r)) {
		if (rd_varint(&r, &type))
			return QUIC_BAD_FRAME;
		switch (type) {
		case QF_PADDING:
		case QF_PING:
			break;
		case QF_ACK:
		case QF_ACK_ECN:
			/* largest, delay, range count, first range, then (gap, length) pairs */
			if (rd_varint(&r, &a) || rd_varint(&r, &b) || rd_varint(&r, &n) ||
			    rd_varint(&r, &a))
				return QUIC_BAD_FRAME;
			for (i = 0; i < n; i++) {
				if (rd_varint(&r, &a) || rd_varint(&r, &b))
					return QUIC_BAD_FRAME;
			}
			if (type == QF_ACK_ECN &&
			    (rd_varint(&r, &a) || rd_varint(&r, &a) || rd_varint(&r, &a)))
				return QUIC_BAD_FRAME;
			break;
		case QF_CRYPTO:
			if (rd_varint(&r, &a) || rd_varint(&r, &n) || n > rd_left(&r) ||
			    rd_ptr(&r, (size_t)n, &data))
				return QUIC_BAD_FRAME;
			err = crypto_add(c, a, data, (size_t)n);
			if (err < 0)
				return QUIC_TOO_BIG;
			far |= err > 0;
			break;
		case QF_CLOSE:
		case QF_CLOSE_APP:
			/* error code, [frame type], reason phrase length, reason phrase */
			if (rd_varint(&r, &a) || (type == QF_CLOSE && rd_varint(&r, &a)) ||
			    rd_varint(&r, &n) || n > rd_left(&r) || rd_skip(&r, (size_t)n))
				return QUIC_BAD_FRAME;
			break;
		default:
			/* not allowed in Initial, and its length is unknown: stop here */
			return QUIC_BAD_FRAME;
		}
	}
	return far ? QUIC_FAR_CRYPTO : QUIC_MORE;
}

static enum quic_outcome finish(struct quic_conn *c, enum quic_outcome oc)
{
	c->done = true;
	crypto_reset(c);
	return oc;
}

/* Is the contiguous CRYPTO prefix a complete ClientHello yet? */
static enum quic_outcome check_hello(struct quic_conn *c, struct tls_hello *hello)
{
	switch (tls_client_hello_parse(c->buf, c->contig, hello)) {
	case TLS_OK:
		return finish(c, QUIC_OK);
	case TLS_MORE:
		return QUIC_MORE;
	case TLS_TOO_BIG:
		return finish(c, QUIC_TOO_BIG);
	default:
		return finish(c, QUIC_BAD_HELLO);
	}
}

/*
 * One long-header packet at r's position; r is moved past it. *stop is set
 * when the rest of the datagram cannot be walked.
 */
static enum quic_outcome one_packet(struct quic_conn *c, struct rd *r, struct tls_hello *hello,
				    bool *stop)
{
	const struct quic_version_info *vi;
	const uint8_t *pkt, *dcid, *pt;
	struct quic_keys k;
	uint8_t first, dlen, slen, type, *copy = NULL;
	uint64_t tok_len, length;
	size_t start = r->off, pn_off, ptlen;
	enum quic_outcome oc;
	uint32_t version;
	struct rd p = *r;
	bool fresh;
	int err;

	*stop = true;
	memset(&k, 0, sizeof(k));
	/* Long Header: first byte, version, DCID len + DCID, SCID len + SCID */
	if (rd_u8(&p, &first) || rd_u32be(&p, &version)) {
		oc = QUIC_MALFORMED;
		goto out;
	}
	if (!(first & 0x80) || version == 0) {
		oc = QUIC_NOT_INITIAL;
		goto out;
	}
	vi = version_info(version);
	if (!vi) {
		oc = QUIC_UNSUPPORTED_VERSION;
		goto out;
	}
	if (rd_u8(&p, &dlen) || dlen > QUIC_CID_MAX || rd_ptr(&p, dlen, &dcid) ||
	    rd_u8(&p, &slen) || slen > QUIC_CID_MAX || rd_skip(&p, slen)) {
		oc = QUIC_MALFORMED;
		goto out;
	}
	type = (first >> 4) & 0x03;
	if (type == vi->retry_type) {
		oc = QUIC_NOT_INITIAL;
		goto out;
	}
	if (type == vi->initial_type && (rd_varint(&p, &tok_len) || rd_skip(&p, tok_len))) {
		oc = QUIC_MALFORMED;
		goto out;
	}
	/* the header protection sample needs 4 + 16 bytes after the packet number offset */
	if (rd_varint(&p, &length) || length > rd_left(&p) ||
	    (type == vi->initial_type && length < 4 + QUIC_SAMPLE_LEN)) {
		oc = QUIC_MALFORMED;
		goto out;
	}
	pn_off = p.off - start;
	if (rd_skip(&p, (size_t)length)) {
		oc = QUIC_MALFORMED;
		goto out;
	}
	*r = p;
	*stop = false;
	if (type != vi->initial_type) {
		oc = QUIC_NOT_INITIAL; /* 0-RTT or Handshake: not ours to open */
		goto out;
	}
	p = *r;
	if (rd_seek(&p, start) || rd_ptr(&p, r->off - start, &pkt)) {
		oc = QUIC_MALFORMED;
		goto out;
	}

	fresh = !c->have_keys || c->version != version || c->dcid_len != dlen ||
		memcmp(c->dcid, dcid, dlen) != 0;
	err = -EBADMSG;
	if (c->have_keys)
		err = unprotect(&c->keys, pkt, r->off - start, pn_off, &copy, &pt, &ptlen);
	if (err && fresh) {
		/* keys of this packet's own DCID: a first packet, a Retry, or a new connection */
		if (quic_initial_keys(version, dcid, dlen, &k)) {
			oc = QUIC_DECRYPT_FAILED;
			goto out;
		}
		err = unprotect(&k, pkt, r->off - start, pn_off, &copy, &pt, &ptlen);
		if (!err) {
			if (c->have_keys)
				crypto_reset(c);
			c->keys = k;
			c->have_keys = true;
			c->version = version;
			c->dcid_len = dlen;
			memcpy(c->dcid, dcid, dlen);
		}
	}
	if (err) {
		oc = err == -ENOMEM ? QUIC_TOO_BIG : QUIC_DECRYPT_FAILED;
		goto out;
	}
	oc = parse_frames(c, pt, ptlen);
	if (oc == QUIC_TOO_BIG) {
		oc = finish(c, oc);
		goto out;
	}
	if (c->contig) {
		enum quic_outcome h = check_hello(c, hello);

		if (h != QUIC_MORE || oc == QUIC_MORE)
			oc = h;
	}
out:
	free(copy);
	OPENSSL_cleanse(&k, sizeof(k));
	return oc;
}

size_t quic_conn_mem(const struct quic_conn *c)
{
	if (!c)
		return 0;
	return sizeof(*c) + c->cap + c->cap / 8;
}

struct quic_conn *quic_conn_new(void)
{
	return calloc(1, sizeof(struct quic_conn));
}

void quic_conn_free(struct quic_conn *c)
{
	if (!c)
		return;
	crypto_reset(c);
	OPENSSL_cleanse(&c->keys, sizeof(c->keys));
	free(c);
}

enum quic_outcome quic_conn_feed(struct quic_conn *c, const uint8_t *dgram, size_t len,
				 struct tls_hello *hello)
{
	enum quic_outcome oc, best = QUIC_NOT_INITIAL;
	bool first = true, stop = false;
	struct rd r;
	uint8_t b;

	if (c->done)
		return QUIC_DONE;
	rd_init(&r, dgram, len);
	/* coalesced packets (RFC 9000 12.2); trailing padding has no long-header bit */
	while (!stop && !rd_peek_u8(&r, 0, &b) && (b & 0x80)) {
		oc = one_packet(c, &r, hello, &stop);
		if (oc == QUIC_OK || c->done)
			return oc;
		if (first || best == QUIC_NOT_INITIAL)
			best = oc;
		first = false;
	}
	return best;
}
