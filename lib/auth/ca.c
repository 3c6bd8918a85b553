// SPDX-License-Identifier: GPL-2.0
/* The CA, gateway and device certificates (Ed25519 or P-256) and CSR signing, OpenSSL's API. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "lib/auth/ca.h"
#include "lib/auth/identity.h"
#include "lib/auth/proto.h"
#include "lib/auth/tls.h"
#include "lib/base/file.h"

#define DAY_SECS (24L * 3600L)

enum leaf_kind {
	LEAF_SERVER,
	LEAF_CLIENT,
};

bool ca_device_name_ok(const char *name)
{
	return name && proto_name_ok(name) && strcmp(name, "ca") && strcmp(name, "gateway");
}

static bool gw_name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		char c = s[i];

		if (i >= CA_GW_NAME_MAX - 1)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-'))
			return false;
	}
	return i > 0 && s[0] != '.' && s[0] != '-';
}

static int path_join(char *buf, size_t len, const char *dir, const char *name, const char *ext)
{
	int n = snprintf(buf, len, "%s/%s%s", dir, name, ext);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int ca_key_type_parse(const char *s, enum ca_key_type *out)
{
	if (s && !strcmp(s, "ed25519"))
		*out = CA_KEY_ED25519;
	else if (s && !strcmp(s, "p256"))
		*out = CA_KEY_P256;
	else
		return -EINVAL;
	return 0;
}

static EVP_PKEY *key_new(enum ca_key_type t)
{
	return t == CA_KEY_P256 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", SN_X9_62_prime256v1)
				: EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
}

static const char *key_type_str(enum ca_key_type t)
{
	return t == CA_KEY_P256 ? "P-256" : "Ed25519";
}

/* Ed25519 signs the whole message (no digest); ECDSA signs its SHA-256. */
static const EVP_MD *sign_md(EVP_PKEY *signer)
{
	return EVP_PKEY_get_id(signer) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
}

/* A random positive 128-bit serial (RFC 5280 allows up to 20 octets). */
static int serial_set(X509 *x)
{
	unsigned char b[16];
	ASN1_INTEGER *ai = NULL;
	BIGNUM *bn = NULL;
	int ret = -EIO;

	if (RAND_bytes(b, sizeof(b)) != 1)
		goto out;
	b[0] &= 0x7f;
	b[0] |= 0x40; /* nonzero, and always 16 octets */
	bn = BN_bin2bn(b, sizeof(b), NULL);
	ai = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	if (!ai || X509_set_serialNumber(x, ai) != 1)
		goto out;
	ret = 0;
out:
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return ret;
}

static int ext_add(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	int ret = -EINVAL;

	if (ext && X509_add_ext(x, ext, -1) == 1)
		ret = 0;
	X509_EXTENSION_free(ext);
	return ret;
}

/*
 * One certificate for pkey with subject (copied), valid from a day ago for
 * days days. issuer/ikey NULL = self-signed. exts = name, value pairs in
 * OpenSSL's extension config syntax (values built only from validated input).
 */
static X509 *cert_make(EVP_PKEY *pkey, const X509_NAME *subject, X509 *issuer, EVP_PKEY *ikey,
		       long days, const char *const *exts, size_t nexts)
{
	X509V3_CTX v3;
	X509 *x = X509_new();
	size_t i;

	if (!x)
		return NULL;
	if (X509_set_version(x, X509_VERSION_3) != 1 || serial_set(x) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -DAY_SECS) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) ||
	    X509_set_pubkey(x, pkey) != 1 || X509_set_subject_name(x, subject) != 1 ||
	    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : subject) != 1)
		goto fail;
	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	for (i = 0; i + 1 < nexts; i += 2) {
		int nid = OBJ_txt2nid(exts[i]);

		if (nid == NID_undef || ext_add(x, &v3, nid, exts[i + 1]))
			goto fail;
	}
	if (!ikey)
		ikey = pkey;
	if (X509_sign(x, ikey, sign_md(ikey)) <= 0)
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

/* A subject of O=groups[i]... then CN=cn. NULL on failure; X509_NAME_free it. */
static X509_NAME *subject_new(const char *cn, const char *const *groups, size_t ngroups)
{
	X509_NAME *n = X509_NAME_new();
	size_t i;

	for (i = 0; n && i < ngroups; i++)
		if (X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8,
					       (const unsigned char *)groups[i], -1, -1, 0) != 1)
			goto fail;
	if (n && X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
					    -1, 0) == 1)
		return n;
fail:
	X509_NAME_free(n);
	return NULL;
}

/* Creates path with O_EXCL and writes the key (mode 0600) or certificate (0644). */
static int write_pem(const char *path, EVP_PKEY *key, X509 *cert, char *err, size_t errlen)
{
	FILE *f = NULL;
	int fd, ret = 0, ok;

	fd = file_create(path, key ? 0600 : 0644, err, errlen);
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	f = fdopen(fd, "w");
	if (!f) {
		ret = -errno;
		close(fd);
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		goto unlink;
	}
	ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
		 : PEM_write_X509(f, cert);
	if (fflush(f) || fsync(fileno(f)))
		ok = 0;
	if (fclose(f))
		ok = 0;
	if (ok == 1)
		goto out;
	ret = -EIO;
	snprintf(err, errlen, "%s: write failed", path);
unlink:
	unlink(path);
out:
	return ret;
}

static int mkdir_private(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0 || errno == EEXIST) {
		if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
		snprintf(err, errlen, "%s: not a directory", dir);
		return -ENOTDIR;
	}
	snprintf(err, errlen, "%s: %s", dir, strerror(errno));
	return -errno;
}

/* 0 if neither dir/name.key nor dir/name.crt exists, else -EEXIST (or -errno) with err set. */
static int pair_absent(const char *dir, const char *name, char *err, size_t errlen)
{
	char kpath[4096], cpath[4096];
	int ret;

	if ((ret = path_join(kpath, sizeof(kpath), dir, name, ".key")) ||
	    (ret = path_join(cpath, sizeof(cpath), dir, name, ".crt"))) {
		snprintf(err, errlen, "%s: path too long", dir);
		return ret;
	}
	ret = file_make_room(kpath, false, err, errlen);
	return ret ? ret : file_make_room(cpath, false, err, errlen);
}

/* Writes name.key and name.crt in dir, refusing existing files; none left on failure. */
static int pair_write(const char *dir, const char *name, EVP_PKEY *key, X509 *cert,
		      unsigned int flags, char *err, size_t errlen)
{
	char kpath[4096], cpath[4096];
	int ret;

	if ((ret = path_join(kpath, sizeof(kpath), dir, name, ".key")) ||
	    (ret = path_join(cpath, sizeof(cpath), dir, name, ".crt"))) {
		snprintf(err, errlen, "%s: path too long", dir);
		return ret;
	}
	if ((ret = file_make_room(kpath, flags & CA_FORCE, err, errlen)) ||
	    (ret = file_make_room(cpath, flags & CA_FORCE, err, errlen)))
		return ret;
	ret = write_pem(kpath, key, NULL, err, errlen);
	if (ret)
		return ret;
	ret = write_pem(cpath, NULL, cert, err, errlen);
	if (ret)
		unlink(kpath);
	return ret;
}

EVP_PKEY *ca_key_new(enum ca_key_type t)
{
	return key_new(t);
}

int ca_key_write(const char *path, EVP_PKEY *key, char *err, size_t errlen)
{
	return write_pem(path, key, NULL, err, errlen);
}

int ca_cert_write(const char *path, X509 *x, unsigned int flags, char *err, size_t errlen)
{
	int ret = file_make_room(path, flags & CA_FORCE, err, errlen);

	return ret ? ret : write_pem(path, NULL, x, err, errlen);
}

int ca_init_with(const char *dir, const struct ca_init_args *a, char *err, size_t errlen)
{
	char san[CA_GW_NAME_MAX + CA_MAX_IPS * 56], kpath[4096], cpath[4096];
	char ca_san[sizeof("URI:spiffe://") + CG_TRUST_DOMAIN_MAX];
	const char *td = a->trust_domain ? a->trust_domain : CG_TRUST_DOMAIN_DEFAULT;
	const char *ca_exts[] = {
		"basicConstraints",
		"critical,CA:TRUE",
		"keyUsage",
		"critical,keyCertSign,cRLSign",
		"subjectKeyIdentifier",
		"hash",
		"subjectAltName",
		ca_san,
	};
	const char *gw_exts[] = {
		"basicConstraints",
		"critical,CA:FALSE",
		"keyUsage",
		"critical,digitalSignature",
		"extendedKeyUsage",
		"serverAuth",
		"subjectKeyIdentifier",
		"hash",
		"authorityKeyIdentifier",
		"keyid",
		"subjectAltName",
		san,
	};
	EVP_PKEY *cakey = NULL, *gwkey = NULL;
	X509_NAME *ca_name = NULL, *gw_name = NULL;
	X509 *ca = NULL, *gw = NULL;
	unsigned char addr[16];
	size_t i, off;
	int ret = -EINVAL, n;

	if (!a->gw_name || !gw_name_ok(a->gw_name)) {
		snprintf(err, errlen, "bad gateway name \"%s\": want 1..253 of [A-Za-z0-9.-]",
			 a->gw_name ? a->gw_name : "");
		goto out;
	}
	/* Checked first: the value becomes config text for OpenSSL. */
	if (!trust_domain_valid(td)) {
		snprintf(err, errlen, "bad trust domain \"%s\": want 1..%d of [a-z0-9._-]", td,
			 CG_TRUST_DOMAIN_MAX);
		goto out;
	}
	snprintf(ca_san, sizeof(ca_san), "URI:spiffe://%s", td);
	if (a->nips > CA_MAX_IPS) {
		snprintf(err, errlen, "at most %d --ip addresses", CA_MAX_IPS);
		goto out;
	}
	off = (size_t)snprintf(san, sizeof(san), "DNS:%s", a->gw_name);
	for (i = 0; i < a->nips; i++) {
		/* Checked as an address first: the value becomes config text for OpenSSL. */
		if (inet_pton(AF_INET, a->ips[i], addr) != 1 &&
		    inet_pton(AF_INET6, a->ips[i], addr) != 1) {
			snprintf(err, errlen, "bad --ip \"%s\": not an IPv4 or IPv6 address",
				 a->ips[i]);
			goto out;
		}
		n = snprintf(san + off, sizeof(san) - off, ",IP:%s", a->ips[i]);
		if (n < 0 || (size_t)n >= sizeof(san) - off)
			goto out;
		off += (size_t)n;
	}
	ret = mkdir_private(dir, err, errlen);
	if (ret)
		goto out;
	if ((ret = path_join(kpath, sizeof(kpath), dir, "ca", ".key")) ||
	    (ret = path_join(cpath, sizeof(cpath), dir, "ca", ".crt"))) {
		snprintf(err, errlen, "%s: path too long", dir);
		goto out;
	}
	ret = -EIO;
	cakey = key_new(a->key_type);
	gwkey = key_new(a->gw_key_type);
	if (!cakey || !gwkey) {
		snprintf(err, errlen, "%s key generation failed",
			 key_type_str(cakey ? a->gw_key_type : a->key_type));
		goto out;
	}
	ca_name = subject_new("capgate CA", NULL, 0);
	gw_name = subject_new(a->gw_name, NULL, 0);
	ca = ca_name ? cert_make(cakey, ca_name, NULL, NULL, CA_DAYS, ca_exts,
				 sizeof(ca_exts) / sizeof(ca_exts[0]))
		     : NULL;
	gw = ca && gw_name ? cert_make(gwkey, gw_name, ca, cakey, CA_LEAF_DAYS, gw_exts,
				       sizeof(gw_exts) / sizeof(gw_exts[0]))
			   : NULL;
	if (!ca || !gw) {
		char why[256];

		snprintf(err, errlen, "%s", tls_err_text("certificate", why, sizeof(why)));
		goto out;
	}
	/* Without --force, check every target before writing anything. */
	if (!(a->flags & CA_FORCE) && ((ret = pair_absent(dir, "ca", err, errlen)) ||
				       (ret = pair_absent(dir, "gateway", err, errlen))))
		goto out;
	ret = pair_write(dir, "ca", cakey, ca, a->flags, err, errlen);
	if (ret)
		goto out;
	ret = pair_write(dir, "gateway", gwkey, gw, a->flags, err, errlen);
	if (ret) {
		unlink(kpath);
		unlink(cpath);
	}
out:
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(gwkey);
	X509_NAME_free(ca_name);
	X509_NAME_free(gw_name);
	X509_free(ca);
	X509_free(gw);
	return ret;
}

int ca_init(const char *dir, const char *gw_name, const char *const *ips, size_t nips, char *err,
	    size_t errlen)
{
	const struct ca_init_args a = { .gw_name = gw_name, .ips = ips, .nips = nips };

	return ca_init_with(dir, &a, err, errlen);
}

static X509 *cert_read(const char *path, char *err, size_t errlen)
{
	X509 *x = NULL;
	FILE *f = fopen(path, "re");

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x)
		snprintf(err, errlen, "%s: not a PEM certificate", path);
	return x;
}

struct ca_signer {
	X509 *ca;
	EVP_PKEY *key;
	char td[CG_TRUST_DOMAIN_MAX + 1];
};

void ca_signer_free(struct ca_signer *s)
{
	if (!s)
		return;
	X509_free(s->ca);
	EVP_PKEY_free(s->key);
	free(s);
}

const char *ca_signer_trust_domain(const struct ca_signer *s)
{
	return s->td;
}

struct ca_signer *ca_signer_open(const char *dir, char *err, size_t errlen)
{
	char kpath[4096], cpath[4096];
	struct ca_signer *s = NULL;
	enum identity_verdict v;
	int e = EINVAL;

	if (path_join(kpath, sizeof(kpath), dir, "ca", ".key") ||
	    path_join(cpath, sizeof(cpath), dir, "ca", ".crt")) {
		snprintf(err, errlen, "%s: path too long", dir);
		e = ENAMETOOLONG;
		goto fail;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		e = ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	s->ca = cert_read(cpath, err, errlen);
	if (!s->ca)
		goto fail;
	s->key = tls_load_key(kpath, err, errlen);
	if (!s->key) {
		e = errno;
		goto fail;
	}
	if (X509_check_private_key(s->ca, s->key) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "%s does not match %s", kpath, cpath);
		goto fail;
	}
	v = identity_ca_trust_domain(s->ca, s->td);
	/* A CA made before trust domains (no SAN) is of the default one. */
	if (v == IDENTITY_NO_SAN)
		snprintf(s->td, sizeof(s->td), "%s", CG_TRUST_DOMAIN_DEFAULT);
	else if (v != IDENTITY_OK) {
		snprintf(err, errlen, "%s: no trust domain in its URI SAN (%s): want spiffe://TD",
			 cpath, identity_verdict_str(v));
		goto fail;
	}
	return s;
fail:
	ca_signer_free(s);
	errno = e;
	return NULL;
}

/* groups: valid names, at most CG_CERT_GROUPS_MAX, each once. 0 or -EINVAL with a reason. */
static int groups_ok(const char *const *groups, size_t n, char *err, size_t errlen)
{
	size_t i, j;

	if (n > CG_CERT_GROUPS_MAX) {
		snprintf(err, errlen, "%zu groups: a certificate carries at most %d", n,
			 CG_CERT_GROUPS_MAX);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (!groups[i] || !name_valid(groups[i])) {
			snprintf(err, errlen, "bad group \"%s\": want %s",
				 groups[i] ? groups[i] : "", NAME_RULE);
			return -EINVAL;
		}
		for (j = 0; j < i; j++)
			if (!strcmp(groups[i], groups[j])) {
				snprintf(err, errlen, "group \"%s\" given twice", groups[i]);
				return -EINVAL;
			}
	}
	return 0;
}

/*
 * The one leaf maker (`ca issue` and CSR signing): pub's certificate for
 * spiffe://TD/device/DEVICE[/app/APP], subject O=groups... CN=KEYNAME,
 * basicConstraints critical CA:FALSE, keyUsage critical digitalSignature,
 * extendedKeyUsage clientAuth, checked with identity_from_cert before it is
 * returned.
 */
static int leaf_make(struct ca_signer *s, EVP_PKEY *pub, const char *device, const char *app,
		     const char *const *groups, size_t ngroups, X509 **out, char *err,
		     size_t errlen)
{
	char uri[CG_SPIFFE_ID_MAX], san[CG_SPIFFE_ID_MAX + 8], cn[CG_KEY_NAME_MAX], why[256];
	const char *exts[] = {
		"basicConstraints",
		"critical,CA:FALSE",
		"keyUsage",
		"critical,digitalSignature",
		"extendedKeyUsage",
		"clientAuth",
		"subjectKeyIdentifier",
		"hash",
		"authorityKeyIdentifier",
		"keyid",
		"subjectAltName",
		san,
	};
	struct identity id;
	enum identity_verdict v;
	X509_NAME *subject = NULL;
	X509 *x = NULL;
	int ret = -EINVAL;

	if (!app)
		app = "";
	if (!ca_device_name_ok(device)) {
		snprintf(err, errlen, "bad device name \"%s\": want %s, not \"ca\" or \"gateway\"",
			 device ? device : "", NAME_RULE);
		goto out;
	}
	if (*app && !name_valid(app)) {
		snprintf(err, errlen, "bad app name \"%s\": want %s", app, NAME_RULE);
		goto out;
	}
	if ((ret = groups_ok(groups, ngroups, err, errlen)))
		goto out;
	if (!tls_key_ok(pub, why, sizeof(why))) {
		snprintf(err, errlen, "the certificate's key is %s", why);
		ret = -EINVAL;
		goto out;
	}
	/* Names and trust domain are validated: safe as OpenSSL config text. */
	if (identity_uri(s->td, device, app, uri, sizeof(uri)) ||
	    identity_key_name(device, app, cn, sizeof(cn))) {
		snprintf(err, errlen, "identity too long");
		ret = -EINVAL;
		goto out;
	}
	snprintf(san, sizeof(san), "URI:%s", uri);
	ret = -EIO;
	subject = subject_new(cn, groups, ngroups);
	x = subject ? cert_make(pub, subject, s->ca, s->key, CA_LEAF_DAYS, exts,
				sizeof(exts) / sizeof(exts[0]))
		    : NULL;
	if (!x) {
		snprintf(err, errlen, "%s", tls_err_text("certificate", why, sizeof(why)));
		goto out;
	}
	/* What the gateway will read back is what was asked for, or nothing leaves here. */
	v = identity_from_cert(x, s->td, &id);
	if (v != IDENTITY_OK || strcmp(id.device, device) || strcmp(id.app, app) ||
	    id.ngroups != ngroups) {
		snprintf(err, errlen, "made a certificate without the identity asked for (%s)",
			 identity_verdict_str(v));
		goto out;
	}
	*out = x;
	x = NULL;
	ret = 0;
out:
	X509_NAME_free(subject);
	X509_free(x);
	return ret;
}

int ca_signer_sign(struct ca_signer *s, X509_REQ *req, const char *device, const char *app,
		   const char *const *groups, size_t ngroups, X509 **out, char *err, size_t errlen)
{
	EVP_PKEY *pub = req ? X509_REQ_get0_pubkey(req) : NULL;

	if (!s || !pub) {
		snprintf(err, errlen, "no signer or no public key in the request");
		return -EINVAL;
	}
	return leaf_make(s, pub, device, app, groups, ngroups, out, err, errlen);
}

X509_REQ *ca_csr_parse(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	static const char pem[] = "-----BEGIN";
	const unsigned char *p = buf;
	X509_REQ *req = NULL;
	EVP_PKEY *pub;
	char why[256];
	BIO *bio;

	if (!buf || !len || len > CA_CSR_MAX) {
		snprintf(err, errlen, "a CSR of %zu bytes: want 1..%d", len, CA_CSR_MAX);
		return NULL;
	}
	ERR_clear_error();
	if (len >= sizeof(pem) - 1 && !memcmp(buf, pem, sizeof(pem) - 1)) {
		bio = BIO_new_mem_buf(buf, (int)len);
		req = bio ? PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
	} else {
		req = d2i_X509_REQ(NULL, &p, (long)len);
		if (req && p != buf + len) {
			snprintf(err, errlen, "%zu bytes after the CSR's DER",
				 len - (size_t)(p - buf));
			goto fail;
		}
	}
	if (!req) {
		snprintf(err, errlen, "%s", tls_err_text("not a PEM or DER CSR", why, sizeof(why)));
		goto fail;
	}
	pub = X509_REQ_get0_pubkey(req);
	if (!tls_key_ok(pub, why, sizeof(why))) {
		snprintf(err, errlen, "the CSR's key is %s", why);
		goto fail;
	}
	/* Its signature proves the sender holds the key the certificate will name. */
	if (X509_REQ_verify(req, pub) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "the CSR's self-signature does not verify");
		goto fail;
	}
	return req;
fail:
	ERR_clear_error();
	X509_REQ_free(req);
	return NULL;
}

int ca_issue_with(const char *dir, const struct ca_issue_args *a, char *err, size_t errlen)
{
	char keyname[CG_KEY_NAME_MAX];
	const char *app = a->app ? a->app : "";
	struct ca_signer *s = NULL;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	int ret;

	s = ca_signer_open(dir, err, errlen);
	if (!s)
		return -errno;
	ret = -EIO;
	key = key_new(a->key_type);
	if (!key) {
		snprintf(err, errlen, "%s key generation failed", key_type_str(a->key_type));
		goto out;
	}
	ret = leaf_make(s, key, a->device, app, a->groups, a->ngroups, &x, err, errlen);
	if (ret)
		goto out;
	identity_key_name(a->device, app, keyname, sizeof(keyname));
	ret = pair_write(dir, keyname, key, x, a->flags, err, errlen);
out:
	ca_signer_free(s);
	EVP_PKEY_free(key);
	X509_free(x);
	return ret;
}

int ca_issue(const char *dir, const char *device, char *err, size_t errlen)
{
	const struct ca_issue_args a = { .device = device };

	return ca_issue_with(dir, &a, err, errlen);
}
