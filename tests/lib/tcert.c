// SPDX-License-Identifier: GPL-2.0
/* Test certificates made with OpenSSL's API (Ed25519 keys, CA and leaves). */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

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

/* A certificate as tcert_make, and with uri an identity's leaf (tcert_make_id). */
static X509 *make(const char *uri, const char *cn, EVP_PKEY *key, X509 *issuer,
		  EVP_PKEY *issuer_key, int ca, const char *eku, long valid_s)
{
	char san[2100];
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
	snprintf(san, sizeof(san), "URI:%s", uri ? uri : "");
	if (uri && (!add_ext(x, issuer, NID_subject_alt_name, san) ||
		    !add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE") ||
		    !add_ext(x, issuer, NID_key_usage, "critical,digitalSignature")))
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

X509 *tcert_make(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, int ca,
		 const char *eku, long valid_s)
{
	return make(NULL, cn, key, issuer, issuer_key, ca, eku, valid_s);
}

X509 *tcert_make_id(const char *uri, const char *cn, EVP_PKEY *key, X509 *issuer,
		    EVP_PKEY *issuer_key, const char *eku, long valid_s)
{
	return make(uri, cn, key, issuer, issuer_key, 0, eku, valid_s);
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

int tcert_issue_plain(const char *dir, const char *name)
{
	char path[PATH_MAX];
	EVP_PKEY *ca_key = NULL, *key = tcert_key();
	X509 *ca = NULL, *x = NULL;
	FILE *f;
	int fd, ret = -1;

	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	f = fopen(path, "re");
	ca = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "%s/ca.key", dir);
	f = fopen(path, "re");
	ca_key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	x = ca && ca_key && key ? tcert_make(name, key, ca, ca_key, 0, "clientAuth", 3600) : NULL;
	snprintf(path, sizeof(path), "%s/%s.crt", dir, name);
	if (!x || tcert_write(path, x))
		goto out;
	snprintf(path, sizeof(path), "%s/%s.key", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		goto out;
	}
	ret = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1 ? 0 : -1;
	if (fclose(f))
		ret = -1;
out:
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(key);
	return ret;
}
