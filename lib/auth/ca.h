/* SPDX-License-Identifier: GPL-2.0 */
/* A small CA (Ed25519 or P-256): the gateway's and devices' certificates, CSR signing. */
#ifndef CG_AUTH_CA_H
#define CG_AUTH_CA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#define CA_NAME_MAX 64	   /* device names: 1..63 of [A-Za-z0-9_.-] */
#define CA_GW_NAME_MAX 254 /* gateway DNS name: 1..253 of [A-Za-z0-9.-] */
#define CA_MAX_IPS 16
#define CA_DAYS 3650	 /* CA: from 1 day back to 10 years ahead */
#define CA_LEAF_DAYS 730 /* gateway and devices: 1 day back to 2 years ahead */
#define CA_CSR_MAX 16384 /* bytes of a CSR, PEM or DER */

enum ca_flags {
	CA_FORCE = 1U << 0, /* replace existing files instead of refusing */
};

/* The key types capgate makes and accepts (tls_key_ok): the default is Ed25519. */
enum ca_key_type {
	CA_KEY_ED25519 = 0,
	CA_KEY_P256,
};

/* "ed25519" or "p256" into *out: 0, or -EINVAL. */
int ca_key_type_parse(const char *s, enum ca_key_type *out);

struct ca_init_args {
	const char *gw_name;	      /* certificate CN and DNS SAN */
	const char *const *ips;	      /* IP SANs of the gateway */
	size_t nips;		      /* at most CA_MAX_IPS */
	const char *trust_domain;     /* NULL = CG_TRUST_DOMAIN_DEFAULT */
	enum ca_key_type key_type;    /* the CA's key */
	enum ca_key_type gw_key_type; /* the gateway's key */
	unsigned int flags;	      /* CA_FORCE */
};

/*
 * Makes dir (0700 if it does not exist) and writes dir/ca.crt, ca.key,
 * gateway.crt and gateway.key. The CA is self-signed (basicConstraints
 * CA:TRUE critical, keyUsage keyCertSign cRLSign, subjectAltName
 * URI:spiffe://TRUST_DOMAIN); the gateway certificate has CN=gw_name,
 * subjectAltName DNS:gw_name and IP:ips[i], extendedKeyUsage serverAuth.
 * Key files 0600 created with O_EXCL: an existing file is refused (-EEXIST)
 * unless CA_FORCE. Returns 0 or -errno with a reason in err; on failure no
 * new file is left behind.
 */
int ca_init_with(const char *dir, const struct ca_init_args *a, char *err, size_t errlen);
/* ca_init_with Ed25519 keys, trust domain "capgate", no flags. */
int ca_init(const char *dir, const char *gw_name, const char *const *ips, size_t nips, char *err,
	    size_t errlen);

struct ca_issue_args {
	const char *device;	   /* 1..63 name, not "ca" or "gateway" */
	const char *app;	   /* NULL or "" = the device's own certificate */
	const char *const *groups; /* subject O entries: names, no duplicates */
	size_t ngroups;		   /* at most CG_CERT_GROUPS_MAX */
	enum ca_key_type key_type;
	unsigned int flags; /* CA_FORCE */
};

/*
 * Makes a key and writes dir/KEYNAME.crt and dir/KEYNAME.key (KEYNAME =
 * identity_key_name: DEVICE or DEVICE@APP), the certificate signed by
 * dir/ca.crt + ca.key as ca_signer_sign makes it. 0 or -errno as above.
 */
int ca_issue_with(const char *dir, const struct ca_issue_args *a, char *err, size_t errlen);
/* ca_issue_with an Ed25519 device certificate without app or groups. */
int ca_issue(const char *dir, const char *device, char *err, size_t errlen);

/* True if name is a valid device name (1..63 of [A-Za-z0-9_.-]), not "ca" or "gateway". */
bool ca_device_name_ok(const char *name);

/* ca.crt + ca.key of a CA dir, loaded once (key checked: 0600, owner) */
struct ca_signer;
struct ca_signer *ca_signer_open(const char *dir, char *err, size_t errlen);
void ca_signer_free(struct ca_signer *s);
/* The trust domain the signer's leaves carry (from ca.crt's URI SAN). */
const char *ca_signer_trust_domain(const struct ca_signer *s);

/*
 * CSR bytes (PEM or DER, at most CA_CSR_MAX) -> X509_REQ with its
 * self-signature verified and an Ed25519 or P-256 key; NULL with a reason in
 * err. X509_REQ_free it.
 */
X509_REQ *ca_csr_parse(const uint8_t *buf, size_t len, char *err, size_t errlen);

/*
 * The leaf for (device, app "" for none, groups) with req's public key, as
 * `ca issue` makes; the CSR's subject and extensions are ignored: the caller
 * (the operator, or the token) decides the identity. 0 or -errno with a
 * reason; *out (X509_free it) only on 0.
 */
int ca_signer_sign(struct ca_signer *s, X509_REQ *req, const char *device, const char *app,
		   const char *const *groups, size_t ngroups, X509 **out, char *err, size_t errlen);

/* A new key of type t (a device makes its own: capgate enroll), or NULL. EVP_PKEY_free it. */
EVP_PKEY *ca_key_new(enum ca_key_type t);

/* Writes key as PEM to path (0600, O_EXCL, fsync'd). 0 or -errno with a reason. */
int ca_key_write(const char *path, EVP_PKEY *key, char *err, size_t errlen);

/* Writes x as PEM to path (0644, O_EXCL; CA_FORCE replaces a file). 0 or -errno with a reason. */
int ca_cert_write(const char *path, X509 *x, unsigned int flags, char *err, size_t errlen);

#endif
