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
 * The same for a leaf with an identity: subjectAltName URI:uri (a SPIFFE
 * ID), basicConstraints CA:FALSE and keyUsage digitalSignature, both
 * critical (what X509-SVID asks of a leaf).
 */
X509 *tcert_make_id(const char *uri, const char *cn, EVP_PKEY *key, X509 *issuer,
		    EVP_PKEY *issuer_key, const char *eku, long valid_s);

/* Write x as PEM to path. Returns 0 or -1. */
int tcert_write(const char *path, X509 *x);

/*
 * A device certificate without an identity (no subjectAltName), as an old
 * capgate made them: CN=name, clientAuth, a new Ed25519 key, signed by
 * dir/ca.crt + ca.key; written to dir/NAME.crt and dir/NAME.key (0600).
 * Returns 0 or -1.
 */
int tcert_issue_plain(const char *dir, const char *name);

#endif
