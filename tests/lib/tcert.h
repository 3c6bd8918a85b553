/* SPDX-License-Identifier: GPL-2.0 */
/* Test certificates: Ed25519 keys, a CA and leaves made with OpenSSL's API, in memory. */
#ifndef CG_TESTS_TCERT_H
#define CG_TESTS_TCERT_H

#include <openssl/evp.h>
#include <openssl/x509.h>

/* A new Ed25519 key, or NULL. EVP_PKEY_free it. */
EVP_PKEY *tcert_key(void);

/*
 * A certificate for key with subject CN=cn (cn NULL: no CN), valid from an
 * hour ago for valid_s seconds (negative: already expired), signed by
 * issuer/issuer_key or self-signed if issuer is NULL. ca adds
 * basicConstraints CA:TRUE and keyUsage keyCertSign; eku (e.g. "clientAuth",
 * "serverAuth") adds an extendedKeyUsage. Returns NULL on failure; X509_free.
 */
X509 *tcert_make(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, int ca,
		 const char *eku, long valid_s);

/*
 * A CRL of issuer listing the serials of revoked[0..n), signed with key
 * (issuer's, or another one for a CRL that must not verify), next update in
 * next_s seconds (negative: past). NULL on failure; X509_CRL_free.
 */
X509_CRL *tcert_crl(X509 *issuer, EVP_PKEY *key, X509 *const *revoked, size_t n, long next_s);

/* Appends crl to path as PEM (der = 0) or writes it as DER. Returns 0 or -1. */
int tcert_write_crl(const char *path, X509_CRL *crl, int der);

/* Write x as PEM to path. Returns 0 or -1. */
int tcert_write(const char *path, X509 *x);

#endif
