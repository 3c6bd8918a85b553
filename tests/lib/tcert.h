/* SPDX-License-Identifier: GPL-2.0 */
/* Test certificates: keys of each type, CAs, intermediates and leaves made with OpenSSL's API. */
#ifndef CG_TESTS_TCERT_H
#define CG_TESTS_TCERT_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* A new Ed25519 key, or NULL. EVP_PKEY_free it. */
EVP_PKEY *tcert_key(void);

/* A new key of type "ed25519", "p256", "p384" or "rsa" (2048 bits), or NULL. */
EVP_PKEY *tcert_key_of(const char *type);

/*
 * A certificate for key with subject CN=cn (cn NULL: no CN), valid from an
 * hour ago for valid_s seconds (negative: already expired), signed by
 * issuer/issuer_key or self-signed if issuer is NULL. ca adds
 * basicConstraints CA:TRUE and keyUsage keyCertSign; eku (e.g. "clientAuth",
 * "serverAuth") adds an extendedKeyUsage. Returns NULL on failure; X509_free.
 */
X509 *tcert_make(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, int ca,
		 const char *eku, long valid_s);

/* All of tcert_make's choices and more; zero fields are left out. */
struct tcert_spec {
	const char *cn;		   /* NULL: no CN */
	const char *const *groups; /* subject O entries, before the CN */
	size_t ngroups;
	int ca;	  /* basicConstraints critical CA:TRUE, keyUsage keyCertSign cRLSign */
	int leaf; /* basicConstraints critical CA:FALSE, keyUsage critical digitalSignature */
	const char *san; /* subjectAltName in OpenSSL's syntax, e.g. "URI:spiffe://td/device/x" */
	const char *eku; /* extendedKeyUsage, e.g. "clientAuth" */
	long valid_s;	 /* from an hour ago, for this long (negative: expired) */
};

/* The certificate spec describes, for key, signed as tcert_make signs. NULL on failure. */
X509 *tcert_new(const struct tcert_spec *spec, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key);

/*
 * A device (app "" or NULL) or app certificate as `capgate ca issue` makes
 * it: URI SAN spiffe://td/device/DEVICE[/app/APP], CN=DEVICE, clientAuth,
 * valid for an hour.
 */
X509 *tcert_device(const char *td, const char *device, const char *app, EVP_PKEY *key, X509 *issuer,
		   EVP_PKEY *issuer_key);

/* Write x as PEM to path. Returns 0 or -1. */
int tcert_write(const char *path, X509 *x);

/* Write n certificates to path, one PEM after the other (a leaf, then its intermediates). */
int tcert_write_chain(const char *path, X509 *const *certs, size_t n);

/* Write key as PEM to path, mode 0600. Returns 0 or -1. */
int tcert_write_key(const char *path, EVP_PKEY *key);

#endif
