// SPDX-License-Identifier: GPL-2.0
/* capgate's CA: files and modes, chains that verify, extensions, refusals. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "lib/auth/ca.h"
#include "lib/auth/identity.h"
#include "tests/lib/t.h"
#include "tests/lib/tcert.h"

static char dir[64];

static void rm_dir(const char *d)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", d);
}

static bool mkdir_tmp(void)
{
	strcpy(dir, "/tmp/capgate-ca-XXXXXX");
	return mkdtemp(dir) != NULL;
}

static X509 *load_cert(const char *name)
{
	char path[128];
	X509 *x;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

static int file_mode(const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (stat(path, &st))
		return -1;
	return (int)(st.st_mode & 07777);
}

/* X509_verify_cert of leaf against ca with the given purpose. */
static int verify(X509 *ca, X509 *leaf, int purpose, const char *ip)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok = -1;

	if (!st || !ctx || X509_STORE_add_cert(st, ca) != 1 ||
	    X509_STORE_CTX_init(ctx, st, leaf, NULL) != 1)
		goto out;
	X509_STORE_CTX_set_purpose(ctx, purpose);
	if (ip)
		X509_VERIFY_PARAM_set1_ip_asc(X509_STORE_CTX_get0_param(ctx), ip);
	ok = X509_verify_cert(ctx) == 1 ? 0 : X509_STORE_CTX_get_error(ctx);
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return ok;
}

static void test_init_issue(void)
{
	static const char *const ips[] = { "127.0.0.1", "10.10.1.1", "::1" };
	static const char *const files[] = { "ca.crt", "gateway.crt", "dev1.crt" };
	static const char *const keys[] = { "ca.key", "gateway.key", "dev1.key" };
	X509 *ca = NULL, *gw = NULL, *dev = NULL;
	char err[256] = "";
	EVP_PKEY *pk;
	size_t i;

	if (!ASSERT_TRUE(mkdir_tmp(), "mkdtemp"))
		return;
	if (!ASSERT_EQ(ca_init(dir, "gw.example", ips, 3, err, sizeof(err)), 0, err) ||
	    !ASSERT_EQ(ca_issue(dir, "dev1", err, sizeof(err)), 0, err))
		goto out;
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(file_mode(keys[i]), 0600, keys[i]);
		ASSERT_EQ(file_mode(files[i]), 0644, files[i]);
	}
	ca = load_cert("ca.crt");
	gw = load_cert("gateway.crt");
	dev = load_cert("dev1.crt");
	if (!ASSERT_TRUE(ca && gw && dev, "certificates load"))
		goto out;
	pk = X509_get0_pubkey(dev);
	ASSERT_EQ(pk ? EVP_PKEY_get_id(pk) : 0, EVP_PKEY_ED25519, "Ed25519");
	ASSERT_EQ(X509_get_version(ca), X509_VERSION_3, "v3");
	ASSERT_TRUE(X509_check_ca(ca) >= 1, "CA:TRUE");
	ASSERT_EQ(X509_check_ca(dev), 0, "device is not a CA");
	ASSERT_TRUE(X509_get_key_usage(ca) & KU_KEY_CERT_SIGN, "keyCertSign");
	ASSERT_TRUE(X509_get_extended_key_usage(gw) & XKU_SSL_SERVER, "serverAuth");
	ASSERT_TRUE(X509_get_extended_key_usage(dev) & XKU_SSL_CLIENT, "clientAuth");
	ASSERT_EQ(X509_get_extended_key_usage(dev) & XKU_SSL_SERVER, 0, "device not serverAuth");
	ASSERT_EQ(X509_check_host(gw, "gw.example", 0, 0, NULL), 1, "DNS SAN");
	ASSERT_EQ(X509_check_ip_asc(gw, "10.10.1.1", 0), 1, "IP SAN");
	ASSERT_EQ(X509_check_ip_asc(gw, "::1", 0), 1, "IPv6 SAN");
	ASSERT_EQ(X509_check_ip_asc(gw, "10.10.1.2", 0), 0, "other IP");
	ASSERT_EQ(verify(ca, gw, X509_PURPOSE_SSL_SERVER, "127.0.0.1"), 0, "gateway chain");
	ASSERT_EQ(verify(ca, dev, X509_PURPOSE_SSL_CLIENT, NULL), 0, "device chain");
	ASSERT_TRUE(verify(ca, dev, X509_PURPOSE_SSL_SERVER, NULL) != 0,
		    "device cert is no server cert");
	ASSERT_TRUE(verify(ca, gw, X509_PURPOSE_SSL_CLIENT, NULL) != 0,
		    "gateway cert is no client cert");
	ASSERT_TRUE(ASN1_STRING_length(X509_get0_serialNumber(dev)) == 16, "128-bit serial");
	ASSERT_TRUE(ASN1_INTEGER_cmp(X509_get0_serialNumber(dev), X509_get0_serialNumber(gw)),
		    "serials differ");
out:
	X509_free(ca);
	X509_free(gw);
	X509_free(dev);
	rm_dir(dir);
}

static void test_other_ca_does_not_verify(void)
{
	char err[256] = "", first[64];
	X509 *ca1 = NULL, *dev2 = NULL;

	if (!ASSERT_TRUE(mkdir_tmp(), "mkdtemp"))
		return;
	ASSERT_EQ(ca_init(dir, "gw", NULL, 0, err, sizeof(err)), 0, err);
	ca1 = load_cert("ca.crt");
	strcpy(first, dir);
	if (!ASSERT_TRUE(mkdir_tmp(), "mkdtemp 2"))
		goto out;
	ASSERT_EQ(ca_init(dir, "gw", NULL, 0, err, sizeof(err)), 0, err);
	ASSERT_EQ(ca_issue(dir, "dev2", err, sizeof(err)), 0, err);
	dev2 = load_cert("dev2.crt");
	if (ASSERT_TRUE(ca1 && dev2, "load"))
		ASSERT_TRUE(verify(ca1, dev2, X509_PURPOSE_SSL_CLIENT, NULL) != 0,
			    "foreign device refused");
	rm_dir(dir);
out:
	rm_dir(first);
	X509_free(ca1);
	X509_free(dev2);
}

static void test_refuse_overwrite(void)
{
	char err[256] = "";
	X509 *a = NULL, *b = NULL;

	if (!ASSERT_TRUE(mkdir_tmp(), "mkdtemp"))
		return;
	ASSERT_EQ(ca_init(dir, "gw", NULL, 0, err, sizeof(err)), 0, err);
	ASSERT_EQ(ca_issue(dir, "dev1", err, sizeof(err)), 0, err);
	a = load_cert("ca.crt");
	ASSERT_EQ(ca_init(dir, "gw", NULL, 0, err, sizeof(err)), -EEXIST, "init twice");
	ASSERT_TRUE(strstr(err, "exists") != NULL, err);
	ASSERT_EQ(ca_issue(dir, "dev1", err, sizeof(err)), -EEXIST, "issue twice");
	b = load_cert("ca.crt");
	if (ASSERT_TRUE(a && b, "load"))
		ASSERT_EQ(X509_cmp(a, b), 0, "CA untouched");
	X509_free(b);
	b = NULL;
	ASSERT_EQ(ca_issue_with(dir, &(struct ca_issue_args){ .device = "dev1", .flags = CA_FORCE },
				err, sizeof(err)),
		  0, "issue --force");
	ASSERT_EQ(file_mode("dev1.key"), 0600, "forced key mode");
	ASSERT_EQ(ca_init_with(dir, &(struct ca_init_args){ .gw_name = "gw", .flags = CA_FORCE },
			       err, sizeof(err)),
		  0, "init --force");
	b = load_cert("ca.crt");
	if (ASSERT_TRUE(b != NULL, "load"))
		ASSERT_TRUE(X509_cmp(a, b) != 0, "new CA");
	X509_free(a);
	X509_free(b);
	rm_dir(dir);
}

static const struct {
	const char *name;
	int want;
} device_names[] = {
	{ "dev1", 0 },
	{ "a.b-c_d", 0 },
	{ "", -EINVAL },
	{ "../x", -EINVAL },
	{ "a b", -EINVAL },
	{ "ca", -EINVAL },
	{ "gateway", -EINVAL },
	{ "dev1,IP:1.2.3.4", -EINVAL },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", -EINVAL },
};

static void test_refusals(void)
{
	static const char *const bad_ip[] = { "1.2.3.4,DNS:evil" };
	char err[256] = "";
	size_t i;

	if (!ASSERT_TRUE(mkdir_tmp(), "mkdtemp"))
		return;
	ASSERT_EQ(ca_issue(dir, "dev1", err, sizeof(err)), -EINVAL, "no CA yet");
	ASSERT_EQ(ca_init(dir, "gw", bad_ip, 1, err, sizeof(err)), -EINVAL, "bad --ip");
	ASSERT_EQ(ca_init(dir, "gw,DNS:x", NULL, 0, err, sizeof(err)), -EINVAL, "bad name");
	ASSERT_EQ(ca_init(dir, "gw", NULL, 0, err, sizeof(err)), 0, err);
	for (i = 0; i < sizeof(device_names) / sizeof(device_names[0]); i++)
		ASSERT_EQ(ca_issue(dir, device_names[i].name, err, sizeof(err)),
			  device_names[i].want, device_names[i].name);
	/* A CA key others can read is refused (STYLE §5). */
	{
		char path[128];

		snprintf(path, sizeof(path), "%s/ca.key", dir);
		chmod(path, 0640);
		ASSERT_EQ(ca_issue(dir, "dev9", err, sizeof(err)), -EPERM, "group-readable CA key");
		ASSERT_EQ(file_mode("dev9.key"), -1, "nothing written");
	}
	rm_dir(dir);
}

/* The subject's entries of nid, in order, joined with ','. */
static void subject_text(X509 *x, int nid, char *buf, size_t len)
{
	const X509_NAME *n = X509_get_subject_name(x);
	int i = -1;

	buf[0] = '\0';
	while ((i = X509_NAME_get_index_by_NID(n, nid, i)) >= 0) {
		const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));

		snprintf(buf + strlen(buf), len - strlen(buf), "%s%.*s", buf[0] ? "," : "",
			 ASN1_STRING_length(s), (const char *)ASN1_STRING_get0_data(s));
	}
}

/* Every certificate `ca issue` makes has the identity it was asked for, in its trust domain. */
static void test_identities(void)
{
	static const char *const groups[] = { "sensors", "floor-2" };
	const struct ca_init_args init = { .gw_name = "gw", .trust_domain = "example.org" };
	const struct ca_issue_args dev = { .device = "dev1" };
	const struct ca_issue_args app = {
		.device = "dev1", .app = "web", .groups = groups, .ngroups = 2
	};
	X509 *ca = NULL, *d = NULL, *a = NULL;
	char err[256] = "", td[CG_TRUST_DOMAIN_MAX + 1] = "", text[256];
	struct identity id;

	if (!ASSERT_TRUE(mkdir_tmp(), "mkdtemp"))
		return;
	if (!ASSERT_EQ(ca_init_with(dir, &init, err, sizeof(err)), 0, err) ||
	    !ASSERT_EQ(ca_issue_with(dir, &dev, err, sizeof(err)), 0, err) ||
	    !ASSERT_EQ(ca_issue_with(dir, &app, err, sizeof(err)), 0, err))
		goto out;
	ASSERT_EQ(file_mode("dev1@web.key"), 0600, "app key file");
	ca = load_cert("ca.crt");
	d = load_cert("dev1.crt");
	a = load_cert("dev1@web.crt");
	if (!ASSERT_TRUE(ca && d && a, "certificates load"))
		goto out;
	ASSERT_EQ(identity_ca_trust_domain(ca, td), IDENTITY_OK, "CA's URI SAN");
	ASSERT_STREQ(td, "example.org", "CA's trust domain");
	ASSERT_EQ(identity_from_cert(d, "example.org", &id), IDENTITY_OK, "device identity");
	ASSERT_STREQ(id.device, "dev1", "device");
	ASSERT_STREQ(id.app, "", "no app");
	ASSERT_EQ(id.ngroups, 0, "no groups");
	ASSERT_EQ(identity_from_cert(a, "example.org", &id), IDENTITY_OK, "app identity");
	ASSERT_STREQ(id.device, "dev1", "app's device");
	ASSERT_STREQ(id.app, "web", "app");
	if (ASSERT_EQ(id.ngroups, 2, "groups")) {
		ASSERT_STREQ(id.groups[0], "sensors", "group 0");
		ASSERT_STREQ(id.groups[1], "floor-2", "group 1");
	}
	subject_text(a, NID_commonName, text, sizeof(text));
	ASSERT_STREQ(text, "dev1@web", "CN");
	subject_text(a, NID_organizationName, text, sizeof(text));
	ASSERT_STREQ(text, "sensors,floor-2", "O entries");
	ASSERT_EQ(identity_from_cert(a, "capgate", &id), IDENTITY_WRONG_TRUST_DOMAIN,
		  "another trust domain");
	ASSERT_EQ(verify(ca, a, X509_PURPOSE_SSL_CLIENT, NULL), 0, "app chain");
	ASSERT_TRUE(X509_get_extended_key_usage(a) & XKU_SSL_CLIENT, "clientAuth");
	ASSERT_EQ(X509_get_extended_key_usage(a) & XKU_SSL_SERVER, 0, "not serverAuth");
	ASSERT_TRUE(verify(ca, a, X509_PURPOSE_SSL_SERVER, NULL) != 0, "app cert is no server");
	/* The gateway's certificate is no device, whatever its SAN: it has no clientAuth. */
	X509_free(d);
	d = load_cert("gateway.crt");
	ASSERT_TRUE(d && verify(ca, d, X509_PURPOSE_SSL_CLIENT, NULL) != 0, "gateway no client");
out:
	X509_free(ca);
	X509_free(d);
	X509_free(a);
	rm_dir(dir);
}

static void test_default_trust_domain(void)
{
	char err[256] = "";
	struct identity id;
	X509 *x = NULL;

	if (!ASSERT_TRUE(mkdir_tmp(), "mkdtemp"))
		return;
	ASSERT_EQ(ca_init(dir, "gw", NULL, 0, err, sizeof(err)), 0, err);
	ASSERT_EQ(ca_issue(dir, "dev1", err, sizeof(err)), 0, err);
	x = load_cert("dev1.crt");
	if (ASSERT_TRUE(x != NULL, "load"))
		ASSERT_EQ(identity_from_cert(x, CG_TRUST_DOMAIN_DEFAULT, &id), IDENTITY_OK,
			  "spiffe://capgate/device/dev1");
	X509_free(x);
	rm_dir(dir);
}

static void test_group_refusals(void)
{
	static const char *const nine[] = { "g1", "g2", "g3", "g4", "g5", "g6", "g7", "g8", "g9" };
	static const char *const dup[] = { "a", "b", "a" };
	static const char *const bad[] = { "ok", "Acme, Inc." };
	static const struct {
		const char *const *g;
		size_t n;
		const char *app;
		const char *what;
	} cases[] = {
		{ nine, 9, NULL, "9 groups" },
		{ dup, 3, NULL, "a group twice" },
		{ bad, 2, NULL, "a group that is not a name" },
		{ NULL, 0, "a/b", "an app that is not a name" },
		{ NULL, 0, "..", "app .." },
	};
	const struct ca_issue_args eight = { .device = "dev8", .groups = nine, .ngroups = 8 };
	char err[256] = "";
	size_t i;

	if (!ASSERT_TRUE(mkdir_tmp(), "mkdtemp"))
		return;
	ASSERT_EQ(ca_init_with(dir, &(struct ca_init_args){ .gw_name = "gw", .trust_domain = "A" },
			       err, sizeof(err)),
		  -EINVAL, "uppercase trust domain");
	ASSERT_EQ(
		ca_init_with(dir,
			     &(struct ca_init_args){ .gw_name = "gw", .trust_domain = "td,URI:x" },
			     err, sizeof(err)),
		-EINVAL, "trust domain with config syntax");
	ASSERT_EQ(file_mode("ca.crt"), -1, "nothing written");
	ASSERT_EQ(ca_init(dir, "gw", NULL, 0, err, sizeof(err)), 0, err);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ca_issue_args a = { .device = "dev1",
						 .app = cases[i].app,
						 .groups = cases[i].g,
						 .ngroups = cases[i].n };

		ASSERT_EQ(ca_issue_with(dir, &a, err, sizeof(err)), -EINVAL, cases[i].what);
	}
	ASSERT_EQ(file_mode("dev1.crt"), -1, "no certificate written");
	ASSERT_EQ(ca_issue_with(dir, &eight, err, sizeof(err)), 0, err);
	rm_dir(dir);
}

/*
 * A CSR for key, signed by signer (key if NULL: a CSR whose self-signature
 * is another key's does not verify), asking in its own subject and SAN for
 * the identity of "admin". PEM or DER into buf; its length, or 0.
 */
static size_t csr_make(EVP_PKEY *key, EVP_PKEY *signer, bool pem, uint8_t *buf, size_t cap)
{
	X509_REQ *req = X509_REQ_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509_EXTENSION *san = NULL;
	X509V3_CTX v3;
	BIO *bio = BIO_new(BIO_s_mem());
	EVP_PKEY *sk = signer ? signer : key;
	char *data;
	long n = 0;

	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, NULL, NULL, req, NULL, 0);
	san = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
				  "URI:spiffe://capgate/device/admin");
	if (!req || !exts || !bio || !san || !sk_X509_EXTENSION_push(exts, san) ||
	    !X509_REQ_set_pubkey(req, key) ||
	    !X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_ASC,
					(const unsigned char *)"admin", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "O", MBSTRING_ASC,
					(const unsigned char *)"admins", -1, -1, 0) ||
	    !X509_REQ_add_extensions(req, exts))
		goto out;
	san = NULL;
	if (!X509_REQ_sign(req, sk, EVP_PKEY_get_id(sk) == EVP_PKEY_ED25519 ? NULL : EVP_sha256()))
		goto out;
	if (!(pem ? PEM_write_bio_X509_REQ(bio, req) : i2d_X509_REQ_bio(bio, req)))
		goto out;
	n = BIO_get_mem_data(bio, &data);
	if (n <= 0 || (size_t)n > cap)
		n = 0;
	else
		memcpy(buf, data, (size_t)n);
out:
	if (san)
		X509_EXTENSION_free(san);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	BIO_free(bio);
	return (size_t)n;
}

/* A CSR of either key type is signed into the identity the operator names, not its own. */
static void test_csr_sign(void)
{
	static const char *const types[] = { "ed25519", "p256" };
	static const char *const groups[] = { "cams" };
	uint8_t buf[CA_CSR_MAX];
	char err[256] = "", text[128];
	struct ca_signer *s = NULL;
	struct identity id;
	X509 *ca = NULL, *x;
	size_t i, n;

	if (!ASSERT_TRUE(mkdir_tmp(), "mkdtemp"))
		return;
	if (!ASSERT_EQ(ca_init_with(dir,
				    &(struct ca_init_args){ .gw_name = "gw",
							    .trust_domain = "corp.example",
							    .key_type = CA_KEY_P256 },
				    err, sizeof(err)),
		       0, err))
		goto out;
	s = ca_signer_open(dir, err, sizeof(err));
	ca = load_cert("ca.crt");
	if (!ASSERT_TRUE(s && ca, err))
		goto out;
	ASSERT_STREQ(ca_signer_trust_domain(s), "corp.example", "trust domain from ca.crt");
	for (i = 0; i < 4; i++) {
		EVP_PKEY *k = tcert_key_of(types[i % 2]);
		X509_REQ *req;

		n = k ? csr_make(k, NULL, i >= 2, buf, sizeof(buf)) : 0;
		req = n ? ca_csr_parse(buf, n, err, sizeof(err)) : NULL;
		if (!ASSERT_TRUE(req != NULL, err)) {
			EVP_PKEY_free(k);
			continue;
		}
		x = NULL;
		ASSERT_EQ(ca_signer_sign(s, req, "cam7", "rtsp", groups, 1, &x, err, sizeof(err)),
			  0, err);
		if (ASSERT_TRUE(x != NULL, types[i % 2])) {
			/* OK: one SAN, one URI; the CSR's "admin" SAN was not copied. */
			ASSERT_EQ(identity_from_cert(x, "corp.example", &id), IDENTITY_OK,
				  "identity");
			ASSERT_STREQ(id.device, "cam7", "the operator's device, not the CSR's");
			ASSERT_STREQ(id.app, "rtsp", "the operator's app");
			ASSERT_TRUE(id.ngroups == 1 && !strcmp(id.groups[0], "cams"),
				    "the operator's groups only");
			subject_text(x, NID_commonName, text, sizeof(text));
			ASSERT_STREQ(text, "cam7@rtsp", "CN");
			ASSERT_EQ(EVP_PKEY_eq(X509_get0_pubkey(x), k), 1, "the CSR's key");
			ASSERT_EQ(verify(ca, x, X509_PURPOSE_SSL_CLIENT, NULL), 0,
				  "chains to the CA");
		}
		X509_free(x);
		X509_REQ_free(req);
		EVP_PKEY_free(k);
	}
out:
	ca_signer_free(s);
	X509_free(ca);
	rm_dir(dir);
}

static void test_csr_refusals(void)
{
	EVP_PKEY *k = tcert_key_of("p256"), *other = tcert_key_of("p256");
	EVP_PKEY *p384 = tcert_key_of("p384"), *rsa = tcert_key_of("rsa");
	uint8_t buf[CA_CSR_MAX + 1];
	char err[256] = "";
	X509_REQ *req;
	size_t n;

	if (!ASSERT_TRUE(k && other && p384 && rsa, "keys"))
		goto out;
	n = csr_make(k, other, false, buf, sizeof(buf));
	req = n ? ca_csr_parse(buf, n, err, sizeof(err)) : NULL;
	ASSERT_TRUE(n && !req && strstr(err, "self-signature"), "signed by another key");
	X509_REQ_free(req);
	n = csr_make(k, NULL, false, buf, sizeof(buf));
	buf[n - 1] ^= 1; /* the signature's last byte */
	req = n ? ca_csr_parse(buf, n, err, sizeof(err)) : NULL;
	ASSERT_TRUE(!req && strstr(err, "self-signature"), "a flipped signature bit");
	X509_REQ_free(req);
	buf[n - 1] ^= 1;
	buf[n] = 0;
	req = ca_csr_parse(buf, n + 1, err, sizeof(err));
	ASSERT_TRUE(!req && strstr(err, "after the CSR"), "a trailing byte");
	X509_REQ_free(req);
	n = csr_make(p384, NULL, true, buf, sizeof(buf));
	req = n ? ca_csr_parse(buf, n, err, sizeof(err)) : NULL;
	ASSERT_TRUE(n && !req && strstr(err, "secp384r1"), "a P-384 key");
	X509_REQ_free(req);
	n = csr_make(rsa, NULL, false, buf, sizeof(buf));
	req = n ? ca_csr_parse(buf, n, err, sizeof(err)) : NULL;
	ASSERT_TRUE(n && !req && strstr(err, "RSA"), "an RSA key");
	X509_REQ_free(req);
	req = ca_csr_parse((const uint8_t *)"-----BEGIN nothing", 18, err, sizeof(err));
	ASSERT_TRUE(!req && err[0], "not a CSR");
	X509_REQ_free(req);
	req = ca_csr_parse(buf, 0, err, sizeof(err));
	ASSERT_TRUE(!req, "empty");
	X509_REQ_free(req);
	req = ca_csr_parse(buf, sizeof(buf), err, sizeof(err));
	ASSERT_TRUE(!req && strstr(err, "want 1..16384"), "too long");
	X509_REQ_free(req);
out:
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(rsa);
}

static void test_key_types(void)
{
	const struct ca_init_args init = { .gw_name = "gw",
					   .key_type = CA_KEY_P256,
					   .gw_key_type = CA_KEY_ED25519 };
	const struct ca_issue_args p256 = { .device = "dev1", .key_type = CA_KEY_P256 };
	X509 *ca = NULL, *gw = NULL, *dev = NULL;
	enum ca_key_type t = CA_KEY_P256;
	char err[256] = "", curve[32] = "";
	struct identity id;

	ASSERT_TRUE(ca_key_type_parse("ed25519", &t) == 0 && t == CA_KEY_ED25519, "ed25519");
	ASSERT_TRUE(ca_key_type_parse("p256", &t) == 0 && t == CA_KEY_P256, "p256");
	ASSERT_EQ(ca_key_type_parse("rsa", &t), -EINVAL, "rsa");
	ASSERT_EQ(ca_key_type_parse("P-256", &t), -EINVAL, "P-256 is spelt p256");
	if (!ASSERT_TRUE(mkdir_tmp(), "mkdtemp"))
		return;
	if (!ASSERT_EQ(ca_init_with(dir, &init, err, sizeof(err)), 0, err) ||
	    !ASSERT_EQ(ca_issue_with(dir, &p256, err, sizeof(err)), 0, err))
		goto out;
	ca = load_cert("ca.crt");
	gw = load_cert("gateway.crt");
	dev = load_cert("dev1.crt");
	if (!ASSERT_TRUE(ca && gw && dev, "load"))
		goto out;
	ASSERT_EQ(EVP_PKEY_get_id(X509_get0_pubkey(ca)), EVP_PKEY_EC, "CA key EC");
	EVP_PKEY_get_group_name(X509_get0_pubkey(ca), curve, sizeof(curve), NULL);
	ASSERT_STREQ(curve, "prime256v1", "CA key P-256");
	ASSERT_EQ(X509_get_signature_nid(ca), NID_ecdsa_with_SHA256, "CA self-signed ECDSA");
	ASSERT_EQ(EVP_PKEY_get_id(X509_get0_pubkey(gw)), EVP_PKEY_ED25519, "gateway key");
	ASSERT_EQ(X509_get_signature_nid(gw), NID_ecdsa_with_SHA256, "gateway signed by the CA");
	ASSERT_EQ(EVP_PKEY_get_id(X509_get0_pubkey(dev)), EVP_PKEY_EC, "device key EC");
	ASSERT_EQ(verify(ca, dev, X509_PURPOSE_SSL_CLIENT, NULL), 0, "device chain");
	ASSERT_EQ(identity_from_cert(dev, CG_TRUST_DOMAIN_DEFAULT, &id), IDENTITY_OK, "identity");
out:
	X509_free(ca);
	X509_free(gw);
	X509_free(dev);
	rm_dir(dir);
}

T_MAIN(T_CASE(test_init_issue), T_CASE(test_other_ca_does_not_verify),
       T_CASE(test_refuse_overwrite), T_CASE(test_refusals), T_CASE(test_identities),
       T_CASE(test_default_trust_domain), T_CASE(test_group_refusals), T_CASE(test_csr_sign),
       T_CASE(test_csr_refusals), T_CASE(test_key_types))
