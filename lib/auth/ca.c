// SPDX-License-Identifier: GPL-2.0
/* Ed25519 CA, gateway and device certificates through OpenSSL's X509 API. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
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

static EVP_PKEY *key_new(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
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
 * One certificate for pkey named cn, valid from a day ago for days days.
 * issuer/ikey NULL = self-signed. exts = name, value pairs in OpenSSL's
 * extension config syntax (values built only from validated input).
 */
static X509 *cert_make(EVP_PKEY *pkey, const char *cn, X509 *issuer, EVP_PKEY *ikey, long days,
		       const char *const *exts, size_t nexts)
{
	X509V3_CTX v3;
	X509 *x = X509_new();
	X509_NAME *name;
	size_t i;

	if (!x)
		return NULL;
	if (X509_set_version(x, X509_VERSION_3) != 1 || serial_set(x) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -DAY_SECS) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) ||
	    X509_set_pubkey(x, pkey) != 1)
		goto fail;
	name = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
				       0) != 1)
		goto fail;
	if (X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) != 1)
		goto fail;
	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	for (i = 0; i + 1 < nexts; i += 2) {
		int nid = OBJ_txt2nid(exts[i]);

		if (nid == NID_undef || ext_add(x, &v3, nid, exts[i + 1]))
			goto fail;
	}
	/* Ed25519 signs the whole message: no digest. */
	if (X509_sign(x, ikey ? ikey : pkey, NULL) <= 0)
		goto fail;
	return x;
fail:
	X509_free(x);
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

int ca_init_flags(const char *dir, const char *gw_name, const char *const *ips, size_t nips,
		  unsigned int flags, char *err, size_t errlen)
{
	char san[CA_GW_NAME_MAX + CA_MAX_IPS * 56], kpath[4096], cpath[4096];
	const char *ca_exts[] = {
		"basicConstraints",
		"critical,CA:TRUE",
		"keyUsage",
		"critical,keyCertSign,cRLSign",
		"subjectKeyIdentifier",
		"hash",
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
	X509 *ca = NULL, *gw = NULL;
	unsigned char a[16];
	size_t i, off;
	int ret = -EINVAL, n;

	if (!gw_name || !gw_name_ok(gw_name)) {
		snprintf(err, errlen, "bad gateway name \"%s\": want 1..253 of [A-Za-z0-9.-]",
			 gw_name ? gw_name : "");
		goto out;
	}
	if (nips > CA_MAX_IPS) {
		snprintf(err, errlen, "at most %d --ip addresses", CA_MAX_IPS);
		goto out;
	}
	off = (size_t)snprintf(san, sizeof(san), "DNS:%s", gw_name);
	for (i = 0; i < nips; i++) {
		/* Checked as an address first: the value becomes config text for OpenSSL. */
		if (inet_pton(AF_INET, ips[i], a) != 1 && inet_pton(AF_INET6, ips[i], a) != 1) {
			snprintf(err, errlen, "bad --ip \"%s\": not an IPv4 or IPv6 address",
				 ips[i]);
			goto out;
		}
		n = snprintf(san + off, sizeof(san) - off, ",IP:%s", ips[i]);
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
	cakey = key_new();
	gwkey = key_new();
	if (!cakey || !gwkey) {
		snprintf(err, errlen, "Ed25519 key generation failed");
		goto out;
	}
	ca = cert_make(cakey, "capgate CA", NULL, NULL, CA_DAYS, ca_exts,
		       sizeof(ca_exts) / sizeof(ca_exts[0]));
	gw = ca ? cert_make(gwkey, gw_name, ca, cakey, CA_LEAF_DAYS, gw_exts,
			    sizeof(gw_exts) / sizeof(gw_exts[0]))
		: NULL;
	if (!ca || !gw) {
		char why[256];

		snprintf(err, errlen, "%s", tls_err_text("certificate", why, sizeof(why)));
		goto out;
	}
	/* Without --force, check every target before writing anything. */
	if (!(flags & CA_FORCE) && ((ret = pair_absent(dir, "ca", err, errlen)) ||
				    (ret = pair_absent(dir, "gateway", err, errlen))))
		goto out;
	ret = pair_write(dir, "ca", cakey, ca, flags, err, errlen);
	if (ret)
		goto out;
	ret = pair_write(dir, "gateway", gwkey, gw, flags, err, errlen);
	if (ret) {
		unlink(kpath);
		unlink(cpath);
	}
out:
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(gwkey);
	X509_free(ca);
	X509_free(gw);
	return ret;
}

int ca_init(const char *dir, const char *gw_name, const char *const *ips, size_t nips, char *err,
	    size_t errlen)
{
	return ca_init_flags(dir, gw_name, ips, nips, 0, err, errlen);
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

int ca_issue_flags(const char *dir, const char *device, unsigned int flags, char *err,
		   size_t errlen)
{
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
	};
	char kpath[4096], cpath[4096];
	EVP_PKEY *cakey = NULL, *key = NULL;
	X509 *ca = NULL, *x = NULL;
	int ret = -EINVAL;

	if (!ca_device_name_ok(device)) {
		snprintf(err, errlen,
			 "bad device name \"%s\": want 1..63 of [A-Za-z0-9_.-], not \"ca\" or "
			 "\"gateway\"",
			 device ? device : "");
		goto out;
	}
	if ((ret = path_join(kpath, sizeof(kpath), dir, "ca", ".key")) ||
	    (ret = path_join(cpath, sizeof(cpath), dir, "ca", ".crt"))) {
		snprintf(err, errlen, "%s: path too long", dir);
		goto out;
	}
	ret = -EINVAL;
	ca = cert_read(cpath, err, errlen);
	if (!ca)
		goto out;
	cakey = tls_load_key(kpath, err, errlen);
	if (!cakey) {
		ret = -errno;
		goto out;
	}
	if (X509_check_private_key(ca, cakey) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "%s does not match %s", kpath, cpath);
		goto out;
	}
	ret = -EIO;
	key = key_new();
	x = key ? cert_make(key, device, ca, cakey, CA_LEAF_DAYS, exts,
			    sizeof(exts) / sizeof(exts[0]))
		: NULL;
	if (!x) {
		char why[256];

		snprintf(err, errlen, "%s", tls_err_text("certificate", why, sizeof(why)));
		goto out;
	}
	ret = pair_write(dir, device, key, x, flags, err, errlen);
out:
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(key);
	X509_free(ca);
	X509_free(x);
	return ret;
}

int ca_issue(const char *dir, const char *device, char *err, size_t errlen)
{
	return ca_issue_flags(dir, device, 0, err, errlen);
}
