// SPDX-License-Identifier: GPL-2.0
/* Certificate revocation lists, verified against the CA and held as (issuer, serial) pairs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "lib/auth/crl.h"
#include "lib/base/hindex.h"

struct crl_entry {
	uint8_t issuer[CG_ISSUER_LEN];
	uint8_t serial[CG_SERIAL_MAX];
	uint8_t serial_len;
};

struct crl_set {
	struct crl_entry *e;
	size_t n, cap;
	struct hindex idx;
	size_t lists, expired;
};

static uint64_t key_hash(const struct crl_entry *k)
{
	return hindex_hash(hindex_hash(HINDEX_SEED, k->issuer, sizeof(k->issuer)), k->serial,
			   k->serial_len);
}

static uint64_t entry_hash(const void *ctx, size_t i)
{
	return key_hash(&((const struct crl_set *)ctx)->e[i]);
}

static bool entry_eq(const void *ctx, size_t i, const void *key)
{
	const struct crl_entry *e = &((const struct crl_set *)ctx)->e[i], *k = key;

	return e->serial_len == k->serial_len && !memcmp(e->serial, k->serial, k->serial_len) &&
	       !memcmp(e->issuer, k->issuer, sizeof(k->issuer));
}

bool crl_revoked(const struct crl_set *c, const uint8_t issuer[CG_ISSUER_LEN],
		 const uint8_t *serial, size_t serial_len)
{
	struct crl_entry k = { .serial_len = (uint8_t)serial_len };

	if (!c || !serial_len || serial_len > CG_SERIAL_MAX)
		return false;
	memcpy(k.issuer, issuer, sizeof(k.issuer));
	memcpy(k.serial, serial, serial_len);
	return hindex_find(&c->idx, key_hash(&k), entry_eq, c, &k) >= 0;
}

static int add(struct crl_set *c, const struct crl_entry *k)
{
	if (hindex_find(&c->idx, key_hash(k), entry_eq, c, k) >= 0)
		return 0; /* listed twice (two CRLs of one issuer) */
	if (c->n == c->cap || !c->e) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct crl_entry *e = realloc(c->e, cap * sizeof(*e));

		if (!e)
			return -ENOMEM;
		c->e = e;
		c->cap = cap;
	}
	if ((c->n + 1) * 2 > c->idx.nslots && hindex_build(&c->idx, c->n, c->n + 1, entry_hash, c))
		return -ENOMEM;
	c->e[c->n] = *k;
	hindex_put(&c->idx, c->n, key_hash(k));
	c->n++;
	return 0;
}

/* The CA file's certificates. NULL (err) if it holds none. */
static STACK_OF(X509) * ca_certs(const char *path, char *err, size_t errlen)
{
	STACK_OF(X509) *st = sk_X509_new_null();
	FILE *f = fopen(path, "re");
	X509 *x;

	while (st && f && (x = PEM_read_X509(f, NULL, NULL, NULL)))
		if (!sk_X509_push(st, x))
			X509_free(x);
	if (f)
		fclose(f);
	ERR_clear_error();
	if (!st || !sk_X509_num(st)) {
		snprintf(err, errlen, "CA %s: no certificate", path);
		sk_X509_pop_free(st, X509_free);
		return NULL;
	}
	return st;
}

/* The CRLs of path: PEM (one or more), else one DER. NULL (err) if none. */
static STACK_OF(X509_CRL) * read_crls(const char *path, char *err, size_t errlen)
{
	STACK_OF(X509_CRL) *st = sk_X509_CRL_new_null();
	BIO *b = BIO_new_file(path, "rb");
	unsigned long e;
	X509_CRL *c;

	ERR_clear_error();
	while (st && b && (c = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL)))
		if (!sk_X509_CRL_push(st, c))
			X509_CRL_free(c);
	/* PEM ends at a clean end of file only: a block cut short (a file half written) is none. */
	e = ERR_peek_last_error();
	if (st && b && sk_X509_CRL_num(st) &&
	    !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
		snprintf(err, errlen, "CRL %s: the PEM block after the %d-th does not parse", path,
			 sk_X509_CRL_num(st));
		ERR_clear_error();
		BIO_free(b);
		sk_X509_CRL_pop_free(st, X509_CRL_free);
		return NULL;
	}
	if (st && b && !sk_X509_CRL_num(st) && BIO_reset(b) == 0 &&
	    (c = d2i_X509_CRL_bio(b, NULL)) && !sk_X509_CRL_push(st, c))
		X509_CRL_free(c);
	BIO_free(b);
	ERR_clear_error();
	if (!st || !sk_X509_CRL_num(st)) {
		snprintf(err, errlen, "CRL %s: %s", path,
			 b ? "no CRL in it (PEM or DER)" : "cannot be read");
		sk_X509_CRL_free(st);
		return NULL;
	}
	return st;
}

/* Verifies crl (the i-th of path) with the CA certificate of its issuer; adds its serials. */
static int take(struct crl_set *c, X509_CRL *crl, int i, STACK_OF(X509) * cas, const char *path,
		char *err, size_t errlen)
{
	const X509_NAME *issuer = X509_CRL_get_issuer(crl);
	const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
	STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(crl);
	struct crl_entry k = { 0 };
	EVP_PKEY *key = NULL;
	bool named = false;
	int j;

	/* Every CA of that name (an old and a new key while it rolls over), until one verifies. */
	for (j = 0; !key && j < sk_X509_num(cas); j++) {
		if (X509_NAME_cmp(X509_get_subject_name(sk_X509_value(cas, j)), issuer))
			continue;
		named = true;
		if (X509_CRL_verify(crl, X509_get0_pubkey(sk_X509_value(cas, j))) == 1)
			key = X509_get0_pubkey(sk_X509_value(cas, j));
	}
	if (!key) {
		ERR_clear_error();
		snprintf(err, errlen, "CRL %s (#%d): %s", path, i + 1,
			 named ? "its signature does not verify with the CA's key"
			       : "not issued by a certificate of the CA file");
		return -EKEYREJECTED;
	}
	if (identity_name_sha256(issuer, k.issuer)) {
		snprintf(err, errlen, "CRL %s (#%d): cannot hash its issuer", path, i + 1);
		return -EIO;
	}
	if (next && X509_cmp_time(next, NULL) < 0)
		c->expired++;
	for (j = 0; j < sk_X509_REVOKED_num(rev); j++) {
		if (identity_serial_bytes(
			    X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(rev, j)), k.serial,
			    &k.serial_len))
			continue; /* longer than any certificate this gateway accepts */
		if (add(c, &k)) {
			snprintf(err, errlen, "CRL %s: out of memory", path);
			return -ENOMEM;
		}
	}
	c->lists++;
	return 0;
}

struct crl_set *crl_load(const char *path, const char *ca_path, char *err, size_t errlen)
{
	struct crl_set *c = calloc(1, sizeof(*c));
	STACK_OF(X509) *cas = ca_certs(ca_path, err, errlen);
	STACK_OF(X509_CRL) *crls = cas ? read_crls(path, err, errlen) : NULL;
	int i, e = c ? 0 : -ENOMEM;

	if (!c)
		snprintf(err, errlen, "out of memory");
	else if (!crls)
		e = -EINVAL;
	for (i = 0; !e && i < sk_X509_CRL_num(crls); i++)
		e = take(c, sk_X509_CRL_value(crls, i), i, cas, path, err, errlen);
	sk_X509_pop_free(cas, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	if (e) {
		crl_free(c);
		errno = -e;
		return NULL;
	}
	return c;
}

void crl_free(struct crl_set *c)
{
	if (!c)
		return;
	free(c->e);
	hindex_free(&c->idx);
	free(c);
}

size_t crl_serials(const struct crl_set *c)
{
	return c ? c->n : 0;
}

size_t crl_lists(const struct crl_set *c)
{
	return c ? c->lists : 0;
}

size_t crl_expired(const struct crl_set *c)
{
	return c ? c->expired : 0;
}
