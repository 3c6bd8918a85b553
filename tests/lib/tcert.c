// SPDX-License-Identifier: GPL-2.0
/* Test certificates made with OpenSSL's API: keys of each type, CAs, intermediates, leaves. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tests/lib/tcert.h"

EVP_PKEY *tcert_key(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
}

EVP_PKEY *tcert_key_of(const char *type)
{
	if (!type || !strcmp(type, "ed25519"))
		return tcert_key();
	if (!strcmp(type, "p256"))
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (!strcmp(type, "p384"))
		return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	if (!strcmp(type, "rsa"))
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	return NULL;
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

X509 *tcert_new(const struct tcert_spec *sp, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key)
{
	static long serial = 1;
	EVP_PKEY *signer = issuer ? issuer_key : key;
	X509_NAME *name;
	X509 *x;
	size_t i;

	x = X509_new();
	if (!x)
		return NULL;
	name = X509_get_subject_name(x);
	if (!X509_set_version(x, 2) || !ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), sp->valid_s) || !X509_set_pubkey(x, key))
		goto fail;
	for (i = 0; i < sp->ngroups; i++)
		if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
						(const unsigned char *)sp->groups[i], -1, -1, 0))
			goto fail;
	if ((sp->cn && !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
						   (const unsigned char *)sp->cn, -1, -1, 0)) ||
	    !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name))
		goto fail;
	if (sp->ca && (!add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE") ||
		       !add_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign") ||
		       !add_ext(x, issuer, NID_subject_key_identifier, "hash")))
		goto fail;
	if (sp->leaf && (!add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE") ||
			 !add_ext(x, issuer, NID_key_usage, "critical,digitalSignature")))
		goto fail;
	if (sp->san && !add_ext(x, issuer, NID_subject_alt_name, sp->san))
		goto fail;
	if (sp->eku && !add_ext(x, issuer, NID_ext_key_usage, sp->eku))
		goto fail;
	/* Ed25519 signs the message itself, ECDSA and RSA its SHA-256. */
	if (!X509_sign(x, signer,
		       EVP_PKEY_get_id(signer) == EVP_PKEY_ED25519 ? NULL : EVP_sha256()))
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

X509 *tcert_make(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, int ca,
		 const char *eku, long valid_s)
{
	const struct tcert_spec sp = { .cn = cn, .ca = ca, .eku = eku, .valid_s = valid_s };

	return tcert_new(&sp, key, issuer, issuer_key);
}

X509 *tcert_device(const char *td, const char *device, const char *app, EVP_PKEY *key, X509 *issuer,
		   EVP_PKEY *issuer_key)
{
	char san[512];
	struct tcert_spec sp = {
		.cn = device, .leaf = 1, .san = san, .eku = "clientAuth", .valid_s = 3600
	};

	if (app && *app)
		snprintf(san, sizeof(san), "URI:spiffe://%s/device/%s/app/%s", td, device, app);
	else
		snprintf(san, sizeof(san), "URI:spiffe://%s/device/%s", td, device);
	return tcert_new(&sp, key, issuer, issuer_key);
}

int tcert_write_chain(const char *path, X509 *const *certs, size_t n)
{
	FILE *f = fopen(path, "we");
	int ok = 1;
	size_t i;

	if (!f)
		return -1;
	for (i = 0; i < n && ok; i++)
		ok = certs[i] && PEM_write_X509(f, certs[i]);
	return fclose(f) == 0 && ok ? 0 : -1;
}

int tcert_write(const char *path, X509 *x)
{
	return tcert_write_chain(path, &x, 1);
}

int tcert_write_key(const char *path, EVP_PKEY *key)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int ok;

	if (!f) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ok = fchmod(fd, 0600) == 0 && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	return fclose(f) == 0 && ok ? 0 : -1;
}
