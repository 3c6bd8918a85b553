// SPDX-License-Identifier: GPL-2.0
/* Test certificates made with OpenSSL's API (Ed25519 keys, CA and leaves). */
#include <stdio.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tests/lib/tcert.h"

EVP_PKEY *tcert_key(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (!e)
		return 0;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

X509 *tcert_make(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, int ca,
		 const char *eku, long valid_s)
{
	static long serial = 1;
	X509_NAME *name;
	X509 *x;

	x = X509_new();
	if (!x)
		return NULL;
	name = X509_get_subject_name(x);
	if (!X509_set_version(x, 2) || !ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), valid_s) || !X509_set_pubkey(x, key) ||
	    (cn && !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn,
					       -1, -1, 0)) ||
	    !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name))
		goto fail;
	if (ca && (!add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE") ||
		   !add_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign") ||
		   !add_ext(x, issuer, NID_subject_key_identifier, "hash")))
		goto fail;
	if (eku && !add_ext(x, issuer, NID_ext_key_usage, eku))
		goto fail;
	if (!X509_sign(x, issuer ? issuer_key : key, NULL))
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

int tcert_write(const char *path, X509 *x)
{
	FILE *f = fopen(path, "we");
	int ok;

	if (!f)
		return -1;
	ok = PEM_write_X509(f, x);
	return fclose(f) == 0 && ok ? 0 : -1;
}

X509_CRL *tcert_crl(X509 *issuer, EVP_PKEY *key, X509 *const *revoked, size_t n, long next_s)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *last = ASN1_TIME_adj(NULL, time(NULL), 0, -3600);
	ASN1_TIME *next = ASN1_TIME_adj(NULL, time(NULL), 0, next_s);
	int ok = crl && last && next && X509_CRL_set_version(crl, 1) &&
		 X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) &&
		 X509_CRL_set1_lastUpdate(crl, last) && X509_CRL_set1_nextUpdate(crl, next);
	size_t i;

	for (i = 0; ok && i < n; i++) {
		X509_REVOKED *r = X509_REVOKED_new();

		ok = r && X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(revoked[i])) &&
		     X509_REVOKED_set_revocationDate(r, last) && X509_CRL_add0_revoked(crl, r);
		if (!ok)
			X509_REVOKED_free(r);
	}
	ok = ok && X509_CRL_sort(crl) && X509_CRL_sign(crl, key, NULL) > 0;
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	if (!ok) {
		X509_CRL_free(crl);
		return NULL;
	}
	return crl;
}

int tcert_write_crl(const char *path, X509_CRL *crl, int der)
{
	FILE *f = fopen(path, der ? "wb" : "ab");
	int ok = f && (der ? i2d_X509_CRL_fp(f, crl) : PEM_write_X509_CRL(f, crl));

	if (f && fclose(f))
		ok = 0;
	return ok ? 0 : -1;
}
