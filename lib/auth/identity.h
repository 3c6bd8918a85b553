/* SPDX-License-Identifier: GPL-2.0 */
/* Who a certificate says it is: its SPIFFE ID (X509-SVID rules), groups, serial and issuer. */
#ifndef CG_AUTH_IDENTITY_H
#define CG_AUTH_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "lib/base/name.h"

#define CG_CERT_GROUPS_MAX 8  /* groups a certificate may carry (subject O entries) */
#define CG_SERIAL_MAX 20      /* RFC 5280 §4.1.2.2: serials are at most 20 octets */
#define CG_ISSUER_LEN 32      /* SHA-256 of an issuer name's DER */
#define CG_SPIFFE_ID_MAX 2048 /* SPIFFE-ID §2.3 */
/* Key names: "DEVICE" or "DEVICE@APP" (NUL included). */
#define CG_KEY_NAME_MAX (2 * CG_NAME_MAX)

/*
 * The identity of a verified leaf certificate:
 *   spiffe://TRUST_DOMAIN/device/NAME           a device (app "")
 *   spiffe://TRUST_DOMAIN/device/NAME/app/APP   an application on that device
 */
struct identity {
	char device[CG_NAME_MAX];
	char app[CG_NAME_MAX];			      /* "" = the device's own certificate */
	char groups[CG_CERT_GROUPS_MAX][CG_NAME_MAX]; /* the subject's O entries that are names */
	uint32_t ngroups;
	uint8_t serial[CG_SERIAL_MAX]; /* the serial's big-endian magnitude, as encoded */
	uint8_t serial_len;	       /* 1..CG_SERIAL_MAX */
	uint8_t issuer[CG_ISSUER_LEN]; /* identity_name_sha256 of the issuer */
};

/* Why a certificate has no identity capgate accepts: one name each for logs and counters. */
enum identity_verdict {
	IDENTITY_OK = 0,
	IDENTITY_NO_SAN,	     /* no subjectAltName extension */
	IDENTITY_SAN_REPEATED,	     /* the extension appears more than once */
	IDENTITY_SAN_UNDECODABLE,    /* present but not a valid GeneralNames */
	IDENTITY_NO_URI,	     /* no URI entry among the names */
	IDENTITY_MANY_URIS,	     /* more than one URI entry (X509-SVID §2) */
	IDENTITY_URI_NUL,	     /* the URI holds a NUL byte */
	IDENTITY_URI_TOO_LONG,	     /* over CG_SPIFFE_ID_MAX bytes */
	IDENTITY_NOT_SPIFFE,	     /* not "spiffe://..." */
	IDENTITY_BAD_TRUST_DOMAIN,   /* empty, too long, a port, userinfo or a character outside
					[a-z0-9._-] */
	IDENTITY_WRONG_TRUST_DOMAIN, /* a valid trust domain, not ours */
	IDENTITY_BAD_PATH,	     /* none, empty or dot segments, a trailing slash, a character
					outside [A-Za-z0-9._-], a query or fragment */
	IDENTITY_NOT_DEVICE,	     /* a valid SPIFFE ID that is not /device/NAME[/app/APP] */
	IDENTITY_SAN_NOT_CRITICAL,   /* empty subject and a non-critical SAN (X509-SVID §3.1) */
	IDENTITY_BASIC_CONSTRAINTS,  /* absent, repeated or undecodable basicConstraints */
	IDENTITY_NOT_LEAF,	     /* cA=true */
	IDENTITY_KEY_USAGE,	     /* keyUsage absent, not critical, without digitalSignature,
					or with keyCertSign or cRLSign (X509-SVID §4.3) */
	IDENTITY_GROUPS,	     /* more than CG_CERT_GROUPS_MAX groups, or an O with a NUL
					or not convertible to UTF-8 */
	IDENTITY_SERIAL,	     /* serial negative, empty or over 20 octets */
	IDENTITY_MAX
};

/* "ok", "no_san", "san_repeated", ...: stable names for logs, counters and tests. */
const char *identity_verdict_str(enum identity_verdict v);

/*
 * Parses a SPIFFE ID of len bytes (not NUL-terminated; a NUL inside is
 * IDENTITY_URI_NUL) and checks it names a device or an app of trust domain
 * td. On IDENTITY_OK writes out->device and out->app (the rest of *out is
 * untouched); on a refusal *out is untouched.
 */
enum identity_verdict identity_parse_uri(const char *uri, size_t len, const char *td,
					 struct identity *out);

/*
 * The identity of leaf (its chain already verified): exactly one URI SAN,
 * read with X509_get_ext_d2i and its crit result (absent, repeated,
 * undecodable), a SPIFFE ID of trust domain td, basicConstraints cA=false,
 * keyUsage critical with digitalSignature and without keyCertSign/cRLSign;
 * groups from the subject's O entries (values that are not names are
 * skipped), the serial and the issuer's hash. *out is fully written on
 * IDENTITY_OK (every byte past a name's NUL, past ngroups and serial_len
 * zero, so it crosses the worker's request table as it is) and zeroed on a
 * refusal.
 */
enum identity_verdict identity_from_cert(X509 *leaf, const char *td, struct identity *out);

/*
 * The trust domain of a CA certificate whose one URI SAN is "spiffe://TD"
 * (no path), into td. IDENTITY_NO_SAN if it has no SAN at all, else the
 * reason as for a leaf; td is written only on IDENTITY_OK.
 */
enum identity_verdict identity_ca_trust_domain(X509 *ca, char td[CG_TRUST_DOMAIN_MAX + 1]);

/* "spiffe://TD/device/NAME[/app/APP]" into buf. 0, or -ENOSPC / -EINVAL (bad names). */
int identity_uri(const char *td, const char *device, const char *app, char *buf, size_t len);

/* "NAME" or "NAME@APP" (the file stem of its certificate, and its SPA name). 0 or -ENOSPC. */
int identity_key_name(const char *device, const char *app, char *buf, size_t len);

/*
 * The reverse: splits a key name into device and app ("" if none). 0, or
 * -EINVAL if either part is not a valid name or there is more than one '@'.
 */
int identity_key_name_split(const char *key, char device[CG_NAME_MAX], char app[CG_NAME_MAX]);

/*
 * A certificate serial as its big-endian magnitude without leading zero
 * bytes (zero: one byte), the form revocations and CRLs compare. 0, or
 * -EINVAL for a negative one or one longer than CG_SERIAL_MAX.
 */
int identity_serial_bytes(const ASN1_INTEGER *serial, uint8_t out[CG_SERIAL_MAX], uint8_t *len);

/* SHA-256 of the name's DER encoding (how revocations and CRLs name an issuer). 0 or -EIO. */
int identity_name_sha256(const X509_NAME *name, uint8_t out[CG_ISSUER_LEN]);

#endif
