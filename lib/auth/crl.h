/* SPDX-License-Identifier: GPL-2.0 */
/* Certificate revocation lists, verified against the CA and held as (issuer, serial) pairs. */
#ifndef CG_AUTH_CRL_H
#define CG_AUTH_CRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/auth/identity.h"

/*
 * The privileged parent checks a handshake's certificate against this set,
 * by the (issuer name's SHA-256, serial) the worker reports: OpenSSL cannot
 * replace a CRL inside an X509_STORE, and the file stays out of the
 * sandboxed worker.
 */
struct crl_set;

/*
 * Reads every CRL in path (PEM: one or more; or one DER) and verifies each
 * one's signature with the certificate of ca_path (a PEM file of one or more)
 * whose subject is the CRL's issuer. NULL with errno and the reason in err: a
 * file that does not read, a CRL no CA certificate signed. A CRL past its
 * nextUpdate still counts (crl_expired says so).
 */
struct crl_set *crl_load(const char *path, const char *ca_path, char *err, size_t errlen);
void crl_free(struct crl_set *c);

/* True if a CRL of this issuer lists this serial (identity_serial_bytes form). */
bool crl_revoked(const struct crl_set *c, const uint8_t issuer[CG_ISSUER_LEN],
		 const uint8_t *serial, size_t serial_len);

/* Serials listed, CRLs read; how many CRLs were past their nextUpdate at load. */
size_t crl_serials(const struct crl_set *c);
size_t crl_lists(const struct crl_set *c);
size_t crl_expired(const struct crl_set *c);

#endif
