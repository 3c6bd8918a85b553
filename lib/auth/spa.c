// SPDX-License-Identifier: GPL-2.0
/* Single packet authorization: Ed25519 or P-256 signed requests, parsed with rd, a nonce cache. */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "lib/auth/identity.h"
#include "lib/auth/spa.h"
#include "lib/auth/tls.h"
#include "lib/auth/token.h"
#include "lib/base/file.h"
#include "lib/base/rd.h"

static const char *const verdict_names[SPA_MAX] = {
	[SPA_OK] = "ok",
	[SPA_MALFORMED] = "malformed",
	[SPA_UNKNOWN_DEVICE] = "unknown_device",
	[SPA_BAD_SIGNATURE] = "bad_signature",
	[SPA_CLOCK_SKEW] = "clock_skew",
	[SPA_REPLAY] = "replay",
	[SPA_STALE] = "stale",
	[SPA_BUSY] = "busy",
};

const char *spa_verdict_str(enum spa_verdict v)
{
	return (unsigned int)v < SPA_MAX ? verdict_names[v] : "?";
}

int spa_name_ok(const char *name)
{
	char device[CG_NAME_MAX], app[CG_NAME_MAX];

	/* DEVICE or DEVICE@APP: never "." or "..", which would name a directory. */
	return name && identity_key_name_split(name, device, app) == 0;
}

static int proto_port_ok(uint8_t proto, uint16_t port)
{
	return (proto == IPPROTO_TCP || proto == IPPROTO_UDP) && port != 0;
}

static bool key_ok(EVP_PKEY *k)
{
	char why[128];

	return k && tls_key_ok(k, why, sizeof(why));
}

static bool is_ed25519(EVP_PKEY *k)
{
	return EVP_PKEY_get_id(k) == EVP_PKEY_ED25519;
}

#define P256_LEN 32 /* bytes of r and of s */

/* P-256's group order n, and n/2: an s above it is the high twin of a valid s. */
static bool p256_order(BIGNUM *n, BIGNUM *half)
{
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	bool ok = g && BN_copy(n, EC_GROUP_get0_order(g)) && BN_rshift1(half, n);

	EC_GROUP_free(g);
	return ok;
}

/*
 * ECDSA P-256 over SHA-256 of msg, as r || s (IEEE P1363) with s low
 * (s <= n/2; n - s is the same signature's other encoding), so each
 * signature has one form.
 */
static int p256_sign(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t sig[SPA_SIG_LEN])
{
	unsigned char der[80];
	const unsigned char *p = der;
	BIGNUM *n = BN_new(), *half = BN_new(), *low = NULL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	const BIGNUM *r, *s;
	ECDSA_SIG *es = NULL;
	size_t dl = sizeof(der);
	int ret = -EIO;

	if (!n || !half || !ctx || !p256_order(n, half) ||
	    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, der, &dl, msg, len) != 1 ||
	    !(es = d2i_ECDSA_SIG(NULL, &p, (long)dl)))
		goto out;
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_cmp(s, half) > 0) {
		low = BN_new();
		if (!low || !BN_sub(low, n, s))
			goto out;
		s = low;
	}
	if (BN_bn2binpad(r, sig, P256_LEN) != P256_LEN ||
	    BN_bn2binpad(s, sig + P256_LEN, P256_LEN) != P256_LEN)
		goto out;
	ret = 0;
out:
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(ctx);
	BN_free(low);
	BN_free(half);
	BN_free(n);
	return ret;
}

/*
 * r || s back to DER for OpenSSL, which refuses r or s of 0 or >= n; a high
 * s is refused here (p256_sign never makes one). 0 if the signature verifies.
 */
static int p256_verify(EVP_PKEY *pub, const uint8_t *msg, size_t len,
		       const uint8_t sig[SPA_SIG_LEN])
{
	BIGNUM *n = BN_new(), *half = BN_new(), *r = BN_bin2bn(sig, P256_LEN, NULL),
	       *s = BN_bin2bn(sig + P256_LEN, P256_LEN, NULL);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	ECDSA_SIG *es = ECDSA_SIG_new();
	unsigned char *der = NULL;
	int dl, ret = -EBADMSG;

	if (!n || !half || !r || !s || !ctx || !es || !p256_order(n, half) || BN_cmp(s, half) > 0 ||
	    ECDSA_SIG_set0(es, r, s) != 1)
		goto out;
	r = s = NULL; /* es owns them */
	dl = i2d_ECDSA_SIG(es, &der);
	if (dl > 0 && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub) == 1 &&
	    EVP_DigestVerify(ctx, der, (size_t)dl, msg, len) == 1)
		ret = 0;
out:
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(ctx);
	BN_free(r);
	BN_free(s);
	BN_free(half);
	BN_free(n);
	return ret;
}

/* Ed25519 (pure, RFC 8032) or P-256 as above: 0 or -EIO. */
static int sig_make(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t sig[SPA_SIG_LEN])
{
	EVP_MD_CTX *ctx;
	size_t siglen = SPA_SIG_LEN;
	int ret = -EIO;

	if (!is_ed25519(key))
		return p256_sign(key, msg, len, sig);
	ctx = EVP_MD_CTX_new();
	if (ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestSign(ctx, sig, &siglen, msg, len) == 1 && siglen == SPA_SIG_LEN)
		ret = 0;
	EVP_MD_CTX_free(ctx);
	return ret;
}

static bool sig_ok(EVP_PKEY *pub, const uint8_t *msg, size_t len, const uint8_t sig[SPA_SIG_LEN])
{
	EVP_MD_CTX *ctx;
	bool ok;

	if (!is_ed25519(pub))
		return p256_verify(pub, msg, len, sig) == 0;
	ctx = EVP_MD_CTX_new();
	ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pub) == 1 &&
	     EVP_DigestVerify(ctx, sig, SPA_SIG_LEN, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* Everything before the signature or MAC into out; its length. The caller checked cap. */
static size_t body_write(const char *magic, const char *name, uint8_t proto, uint16_t port,
			 uint64_t now_s, uint8_t *out)
{
	size_t n = strlen(name), i;
	uint8_t *p = out;

	memcpy(p, magic, SPA_MAGIC_LEN);
	p += SPA_MAGIC_LEN;
	*p++ = (uint8_t)n;
	memcpy(p, name, n);
	p += n;
	for (i = 0; i < 8; i++)
		*p++ = (uint8_t)(now_s >> (56 - 8 * i));
	randombytes_buf(p, SPA_NONCE_LEN);
	p += SPA_NONCE_LEN;
	*p++ = proto;
	*p++ = (uint8_t)(port >> 8);
	*p++ = (uint8_t)port;
	return (size_t)(p - out);
}

static size_t body_len(const char *name)
{
	return SPA_MAGIC_LEN + 1 + strlen(name) + 8 + SPA_NONCE_LEN + 3;
}

int spa_build(const char *name, uint8_t proto, uint16_t port, uint64_t now_s, EVP_PKEY *key,
	      uint8_t *out, size_t cap)
{
	size_t body;

	if (!spa_name_ok(name) || !proto_port_ok(proto, port) || !key_ok(key) || !out)
		return -EINVAL;
	if (cap < body_len(name) + SPA_SIG_LEN)
		return -ENOSPC;
	if (sodium_init() < 0)
		return -EIO;
	body = body_write(SPA_MAGIC, name, proto, port, now_s, out);
	if (sig_make(key, out, body, out + body))
		return -EIO;
	return (int)(body + SPA_SIG_LEN);
}

int spa_build_token(const char *id, uint8_t proto, uint16_t port, uint64_t now_s,
		    const uint8_t key[SPA_TOKEN_KEY_LEN], uint8_t *out, size_t cap)
{
	size_t body;

	_Static_assert(SPA_SIG_LEN == crypto_auth_hmacsha512_BYTES, "the MAC fills the sig");
	_Static_assert(SPA_TOKEN_KEY_LEN == crypto_auth_hmacsha512_KEYBYTES, "key size");
	if (!token_id_ok(id) || !proto_port_ok(proto, port) || !key || !out)
		return -EINVAL;
	if (cap < body_len(id) + SPA_SIG_LEN)
		return -ENOSPC;
	if (sodium_init() < 0)
		return -EIO;
	body = body_write(SPA_TOKEN_MAGIC, id, proto, port, now_s, out);
	crypto_auth_hmacsha512(out + body, out, body, key);
	return (int)(body + SPA_SIG_LEN);
}

enum spa_verdict spa_parse(const uint8_t *pkt, size_t len, struct spa_msg *m)
{
	struct spa_msg w = { 0 };
	uint8_t magic[SPA_MAGIC_LEN], n;
	struct rd r;

	rd_init(&r, pkt, len);
	if (rd_bytes(&r, magic, sizeof(magic)))
		return SPA_MALFORMED;
	if (!memcmp(magic, SPA_TOKEN_MAGIC, SPA_MAGIC_LEN))
		w.token = true;
	else if (memcmp(magic, SPA_MAGIC, SPA_MAGIC_LEN) != 0)
		return SPA_MALFORMED;
	if (rd_u8(&r, &n) || n < 1 || n > SPA_NAME_MAX || rd_bytes(&r, w.name, n) ||
	    strlen(w.name) != n || !spa_name_ok(w.name) || (w.token && !token_id_ok(w.name)))
		return SPA_MALFORMED;
	if (rd_u64be(&r, &w.time_s) || rd_bytes(&r, w.nonce, SPA_NONCE_LEN) ||
	    rd_u8(&r, &w.proto) || rd_u16be(&r, &w.port) || !proto_port_ok(w.proto, w.port))
		return SPA_MALFORMED;
	w.signed_len = r.off;
	if (rd_left(&r) != SPA_SIG_LEN || rd_bytes(&r, w.sig, SPA_SIG_LEN))
		return SPA_MALFORMED;
	*m = w;
	return SPA_OK;
}

/* pkt parses to exactly m: the packet a verifier checks is the one the caller looked at. */
static bool same_msg(const uint8_t *pkt, size_t len, const struct spa_msg *m)
{
	struct spa_msg w;

	return m && spa_parse(pkt, len, &w) == SPA_OK && w.token == m->token &&
	       strcmp(w.name, m->name) == 0 && w.time_s == m->time_s &&
	       memcmp(w.nonce, m->nonce, SPA_NONCE_LEN) == 0 && w.proto == m->proto &&
	       w.port == m->port && w.signed_len == m->signed_len &&
	       memcmp(w.sig, m->sig, SPA_SIG_LEN) == 0;
}

enum spa_verdict spa_verify(const uint8_t *pkt, size_t len, const struct spa_msg *m, EVP_PKEY *pub)
{
	if (!same_msg(pkt, len, m) || m->token)
		return SPA_MALFORMED;
	if (!key_ok(pub))
		return SPA_UNKNOWN_DEVICE;
	return sig_ok(pub, pkt, m->signed_len, m->sig) ? SPA_OK : SPA_BAD_SIGNATURE;
}

enum spa_verdict spa_verify_token(const uint8_t *pkt, size_t len, const struct spa_msg *m,
				  const uint8_t key[SPA_TOKEN_KEY_LEN])
{
	if (!same_msg(pkt, len, m) || !m->token || !key)
		return SPA_MALFORMED;
	if (sodium_init() < 0 || crypto_auth_hmacsha512_verify(m->sig, pkt, m->signed_len, key))
		return SPA_BAD_SIGNATURE;
	return SPA_OK;
}

struct spa_seen {
	uint8_t nonce[SPA_NONCE_LEN];
	uint64_t time_s;
};

/* One key name's share of the cache: its nonces, its marks. */
struct spa_dev {
	char name[SPA_NAME_MAX + 1]; /* "" = free slot */
	uint64_t floor_s;	     /* the previous run's mark: packets dated <= it are stale */
	uint64_t mark_s;	     /* latest time accepted (or the floor), what save writes */
	size_t n;
	struct spa_seen *e; /* per_device entries */
};

struct spa_replay {
	size_t ndev, per_dev;
	uint64_t evicted;
	bool dirty;
	struct spa_dev *d;
	struct spa_seen *e;
};

struct spa_replay *spa_replay_new(size_t devices, size_t per_device)
{
	struct spa_replay *c;
	size_t i;

	if (!devices || !per_device || devices > SIZE_MAX / sizeof(struct spa_dev) ||
	    per_device > SIZE_MAX / sizeof(struct spa_seen) / devices) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->d = calloc(devices, sizeof(*c->d));
	c->e = calloc(devices * per_device, sizeof(*c->e));
	if (!c->d || !c->e) {
		spa_replay_free(c);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < devices; i++)
		c->d[i].e = c->e + i * per_device;
	c->ndev = devices;
	c->per_dev = per_device;
	return c;
}

void spa_replay_free(struct spa_replay *c)
{
	if (!c)
		return;
	free(c->d);
	free(c->e);
	free(c);
}

size_t spa_replay_count(const struct spa_replay *c)
{
	size_t i, n = 0;

	for (i = 0; c && i < c->ndev; i++)
		n += c->d[i].n;
	return n;
}

uint64_t spa_replay_evicted(const struct spa_replay *c)
{
	return c ? c->evicted : 0;
}

bool spa_replay_dirty(const struct spa_replay *c)
{
	return c && c->dirty;
}

static uint64_t absdiff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

static uint64_t twice(uint64_t window_s)
{
	return window_s > UINT64_MAX / 2 ? UINT64_MAX : 2 * window_s;
}

/* Drop entries a replay of which the clock check refuses anyway (with margin). */
static void expire(struct spa_dev *d, uint64_t now_s, uint64_t window_s)
{
	uint64_t keep = twice(window_s);
	size_t i = 0;

	while (i < d->n) {
		if (absdiff(now_s, d->e[i].time_s) > keep)
			d->e[i] = d->e[--d->n];
		else
			i++;
	}
}

/* A mark still matters while a packet dated at it could pass the clock check. */
static bool mark_live(uint64_t mark_s, uint64_t now_s, uint64_t window_s)
{
	return mark_s && (mark_s >= now_s || now_s - mark_s <= window_s);
}

/* name's slot, or a free (or reusable) one named name, or NULL if all are in use. */
static struct spa_dev *dev_slot(struct spa_replay *c, const char *name, uint64_t now_s,
				uint64_t window_s)
{
	struct spa_dev *free_slot = NULL, *d;
	size_t i;

	for (i = 0; i < c->ndev; i++) {
		d = &c->d[i];
		if (!strcmp(d->name, name))
			return d;
		if (free_slot)
			continue;
		if (d->name[0])
			expire(d, now_s, window_s);
		if (!d->name[0] || (!d->n && !mark_live(d->mark_s, now_s, window_s)))
			free_slot = d;
	}
	if (free_slot) {
		memset(free_slot->name, 0, sizeof(free_slot->name));
		snprintf(free_slot->name, sizeof(free_slot->name), "%s", name);
		free_slot->floor_s = free_slot->mark_s = 0;
		free_slot->n = 0;
	}
	return free_slot;
}

enum spa_verdict spa_replay_check(struct spa_replay *c, const struct spa_msg *m, uint64_t now_s,
				  uint64_t window_s)
{
	struct spa_dev *d;
	size_t i, oldest;

	if (!c || !m)
		return SPA_MALFORMED;
	if (absdiff(now_s, m->time_s) > window_s)
		return SPA_CLOCK_SKEW;
	d = dev_slot(c, m->name, now_s, window_s);
	if (!d)
		return SPA_BUSY;
	if (m->time_s <= d->floor_s)
		return SPA_STALE;
	for (i = 0; i < d->n; i++)
		if (memcmp(d->e[i].nonce, m->nonce, SPA_NONCE_LEN) == 0)
			return SPA_REPLAY;
	if (d->n == c->per_dev)
		expire(d, now_s, window_s);
	if (d->n == c->per_dev) {
		oldest = 0;
		for (i = 1; i < d->n; i++)
			if (d->e[i].time_s < d->e[oldest].time_s)
				oldest = i;
		d->e[oldest] = d->e[--d->n];
		c->evicted++;
	}
	memcpy(d->e[d->n].nonce, m->nonce, SPA_NONCE_LEN);
	d->e[d->n].time_s = m->time_s;
	d->n++;
	if (m->time_s > d->mark_s) {
		d->mark_s = m->time_s;
		c->dirty = true;
	}
	return SPA_OK;
}

#define SPA_STATE_VERSION 1

int spa_replay_save(struct spa_replay *c, const char *path, uint64_t now_s, uint64_t window_s)
{
	json_t *devs = json_object(), *root = NULL;
	size_t i;
	int ret;

	if (!devs)
		return -ENOMEM;
	for (i = 0; i < c->ndev; i++) {
		const struct spa_dev *d = &c->d[i];

		if (d->name[0] && mark_live(d->mark_s, now_s, window_s) &&
		    json_object_set_new(devs, d->name, json_integer((json_int_t)d->mark_s))) {
			json_decref(devs);
			return -ENOMEM;
		}
	}
	root = json_pack("{s:i, s:o}", "version", SPA_STATE_VERSION, "devices", devs);
	ret = root ? file_write_json(path, root) : -ENOMEM;
	json_decref(root);
	if (!ret)
		c->dirty = false;
	return ret;
}

int spa_replay_load(struct spa_replay *c, const char *path, uint64_t now_s, uint64_t window_s,
		    char *err, size_t errlen)
{
	json_t *root = NULL, *devs, *v;
	json_error_t je;
	const char *name;
	struct spa_dev *d;
	json_int_t mark;
	FILE *f;
	int ret = -EINVAL;

	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	fclose(f);
	if (!root) {
		snprintf(err, errlen, "%s:%d: %s", path, je.line, je.text);
		goto out;
	}
	devs = json_object_get(root, "devices");
	if (json_object_size(root) != 2 ||
	    json_integer_value(json_object_get(root, "version")) != SPA_STATE_VERSION ||
	    !json_is_object(devs)) {
		snprintf(err, errlen, "%s: not a version %d SPA state file", path,
			 SPA_STATE_VERSION);
		goto out;
	}
	json_object_foreach(devs, name, v)
	{
		mark = json_integer_value(v);
		if (!spa_name_ok(name) || !json_is_integer(v) || mark <= 0) {
			snprintf(err, errlen, "%s: device \"%.127s\": bad entry", path, name);
			goto out;
		}
		if (!mark_live((uint64_t)mark, now_s, window_s))
			continue;
		d = dev_slot(c, name, now_s, window_s);
		if (!d) {
			ret = -ENOSPC;
			snprintf(err, errlen, "%s: more than %zu devices", path, c->ndev);
			goto out;
		}
		if ((uint64_t)mark > now_s + window_s)
			mark = (json_int_t)(now_s + window_s);
		d->floor_s = d->mark_s = (uint64_t)mark;
	}
	c->dirty = false;
	ret = 0;
out:
	json_decref(root);
	return ret;
}

/* The checked key of the certificate at path; st and *not_after describe the file read. */
static EVP_PKEY *load_key(const char *path, const char *name, X509_STORE *ca, const char *td,
			  struct identity *ident, struct stat *st, uint64_t *not_after, char *err,
			  size_t errlen)
{
	char got[CG_KEY_NAME_MAX];
	enum identity_verdict iv;
	X509_STORE_CTX *sctx = NULL;
	EVP_PKEY *ret = NULL, *pk = NULL;
	STACK_OF(X509) *chain = NULL;
	char why[128];
	X509 *cert = NULL, *x;
	struct tm tm;
	FILE *f = NULL;
	int e = 0;

	f = fopen(path, "re");
	if (!f || fstat(fileno(f), st)) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		goto out;
	}
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	if (!cert) {
		e = EBADMSG;
		snprintf(err, errlen, "%s: not a PEM certificate", path);
		goto out;
	}
	/* The file's name grants nothing: the certificate must be that key name's. */
	iv = identity_from_cert(cert, td, ident);
	if (iv != IDENTITY_OK) {
		e = EBADMSG;
		snprintf(err, errlen, "%s: no identity: %s", path, identity_verdict_str(iv));
		goto out;
	}
	if (identity_key_name(ident->device, ident->app, got, sizeof(got)) || strcmp(got, name)) {
		e = EBADMSG;
		snprintf(err, errlen, "%s: the certificate is %s's, not %s's", path, got, name);
		goto out;
	}
	/* The intermediates that follow the leaf, as in the file the device presents in TLS. */
	chain = sk_X509_new_null();
	while (chain && sk_X509_num(chain) < TLS_VERIFY_DEPTH &&
	       (x = PEM_read_X509(f, NULL, NULL, NULL)))
		if (!sk_X509_push(chain, x)) {
			X509_free(x);
			break;
		}
	ERR_clear_error(); /* the end of the file */
	if (ca) {
		sctx = X509_STORE_CTX_new();
		if (!chain || !sctx || !X509_STORE_CTX_init(sctx, ca, cert, chain) ||
		    !X509_STORE_CTX_set_purpose(sctx, X509_PURPOSE_SSL_CLIENT)) {
			e = ENOMEM;
			snprintf(err, errlen, "cannot set up certificate check");
			goto out;
		}
		X509_VERIFY_PARAM_set_depth(X509_STORE_CTX_get0_param(sctx), TLS_VERIFY_DEPTH);
		if (X509_verify_cert(sctx) != 1) {
			e = EKEYREJECTED;
			snprintf(err, errlen, "%s: %s", path,
				 X509_verify_cert_error_string(X509_STORE_CTX_get_error(sctx)));
			goto out;
		}
	}
	if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) {
		e = EBADMSG;
		snprintf(err, errlen, "%s: unreadable notAfter", path);
		goto out;
	}
	*not_after = (uint64_t)timegm(&tm);
	pk = X509_get_pubkey(cert);
	if (!pk || !tls_key_ok(pk, why, sizeof(why))) {
		e = EBADMSG;
		snprintf(err, errlen, "%s: the key is %s", path, pk ? why : "unreadable");
		goto out;
	}
	ret = pk;
	pk = NULL;
out:
	EVP_PKEY_free(pk);
	X509_STORE_CTX_free(sctx);
	sk_X509_pop_free(chain, X509_free);
	X509_free(cert);
	if (f)
		fclose(f);
	if (!ret)
		errno = e;
	return ret;
}

struct spa_key {
	char name[SPA_NAME_MAX + 1]; /* "" = free */
	EVP_PKEY *key;		     /* NULL: the file was refused (errno_, err) */
	struct identity ident;	     /* the certificate's, with a key */
	struct stat id;		     /* of the file the key (or refusal) came from */
	uint64_t until_s;	     /* served until then: notAfter, or the retry of a refusal */
	int errno_;
	char *err; /* the refusal's reason, malloc'd (NULL with a key) */
};

struct spa_keys {
	size_t cap; /* a power of two, at least twice the devices */
	uint64_t loads;
	struct spa_key *k;
};

struct spa_keys *spa_keys_new(size_t devices)
{
	struct spa_keys *t;
	size_t cap = 2;

	if (!devices || devices > SIZE_MAX / 4 / sizeof(struct spa_key)) {
		errno = EINVAL;
		return NULL;
	}
	while (cap < 2 * devices)
		cap *= 2;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->k = calloc(cap, sizeof(*t->k));
	if (!t->k) {
		free(t);
		return NULL;
	}
	t->cap = cap;
	return t;
}

void spa_keys_free(struct spa_keys *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->cap; i++) {
		EVP_PKEY_free(t->k[i].key);
		free(t->k[i].err);
	}
	free(t->k);
	free(t);
}

uint64_t spa_keys_loads(const struct spa_keys *t)
{
	return t ? t->loads : 0;
}

/* FNV-1a: the names are the policy's, not chosen per packet by a stranger. */
static size_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 1099511628211ULL;
	return (size_t)h;
}

/* name's slot, or a free one, or (table full) its home slot, emptied. */
static struct spa_key *key_slot(struct spa_keys *t, const char *name)
{
	size_t home = name_hash(name) & (t->cap - 1), i, j;
	struct spa_key *k;

	for (i = 0; i < t->cap; i++) {
		j = (home + i) & (t->cap - 1);
		if (!t->k[j].name[0] || !strcmp(t->k[j].name, name))
			return &t->k[j];
	}
	k = &t->k[home];
	EVP_PKEY_free(k->key);
	free(k->err);
	memset(k, 0, sizeof(*k));
	return k;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

EVP_PKEY *spa_keys_get(struct spa_keys *t, const char *dir, const char *name, X509_STORE *ca,
		       const char *trust_domain, uint64_t now_s, struct identity *ident, char *err,
		       size_t errlen)
{
	char path[PATH_MAX];
	struct spa_key *k;
	struct stat st;
	uint64_t not_after = 0;

	if (!t || !dir || !trust_domain || !spa_name_ok(name)) {
		snprintf(err, errlen, "invalid key name");
		errno = EINVAL;
		return NULL;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.crt", dir, name) >= sizeof(path)) {
		snprintf(err, errlen, "path too long");
		errno = ENAMETOOLONG;
		return NULL;
	}
	k = key_slot(t, name);
	if (!k->name[0])
		snprintf(k->name, sizeof(k->name), "%s", name);
	/* A file gone or not ours to read stops the key at once. */
	if (stat(path, &st)) {
		int e = errno;

		EVP_PKEY_free(k->key);
		k->key = NULL;
		k->until_s = 0;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		errno = e;
		return NULL;
	}
	if (!k->until_s || !same_file(&st, &k->id) || now_s >= k->until_s) {
		char why[PATH_MAX + 256];

		EVP_PKEY_free(k->key);
		free(k->err);
		k->err = NULL;
		t->loads++;
		k->key = load_key(path, name, ca, trust_domain, &k->ident, &k->id, &not_after, why,
				  sizeof(why));
		/* By the caller's clock too, so a key never outlives its certificate here. */
		if (k->key && now_s >= not_after) {
			EVP_PKEY_free(k->key);
			k->key = NULL;
			snprintf(why, sizeof(why), "%s: certificate has expired", path);
			errno = EKEYREJECTED;
		}
		k->errno_ = k->key ? 0 : errno;
		k->until_s = k->key ? not_after : now_s + SPA_KEYS_RETRY_S;
		/* Unreadable: nothing to compare with next time, so read again. */
		if (!k->key && (k->errno_ == ENOENT || k->errno_ == EACCES))
			k->until_s = 0;
		if (!k->key && !(k->err = strdup(why))) {
			k->until_s = 0;
			snprintf(err, errlen, "out of memory");
			errno = ENOMEM;
			return NULL;
		}
	}
	if (!k->key) {
		snprintf(err, errlen, "%s", k->err);
		errno = k->errno_;
	} else if (ident) {
		*ident = k->ident;
	}
	return k->key;
}
