// SPDX-License-Identifier: GPL-2.0
/* CRLs: verified against the CA file, serial lookup by issuer, PEM and DER, refusals. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "lib/auth/crl.h"
#include "tests/lib/t.h"
#include "tests/lib/tcert.h"

static char dir[64], ca_path[96], crl_path[96];

static bool fresh(void)
{
	strcpy(dir, "/tmp/capgate-crl-XXXXXX");
	if (!mkdtemp(dir))
		return false;
	snprintf(ca_path, sizeof(ca_path), "%s/ca.crt", dir);
	snprintf(crl_path, sizeof(crl_path), "%s/ca.crl", dir);
	return true;
}

static void cleanup(void)
{
	unlink(ca_path);
	unlink(crl_path);
	rmdir(dir);
}

/* The certificate's serial and issuer as the worker reports them. */
static bool revoked(const struct crl_set *c, X509 *x)
{
	uint8_t ser[CG_SERIAL_MAX], iss[CG_ISSUER_LEN], n = 0;

	if (identity_serial_bytes(X509_get_serialNumber(x), ser, &n) ||
	    identity_name_sha256(X509_get_issuer_name(x), iss))
		return false;
	return crl_revoked(c, iss, ser, n);
}

static void test_crl(void)
{
	EVP_PKEY *cak = tcert_key(), *ca2k = tcert_key(), *k = tcert_key();
	X509 *ca = tcert_make("capgate CA", cak, NULL, NULL, 1, NULL, 86400);
	/* Another CA of the same name: its CRLs must not pass as the real one's. */
	X509 *ca2 = tcert_make("capgate CA", ca2k, NULL, NULL, 1, NULL, 86400);
	X509 *d1 = tcert_make("dev1", k, ca, cak, 0, "clientAuth", 86400);
	X509 *d2 = tcert_make("dev2", k, ca, cak, 0, "clientAuth", 86400);
	X509 *o1 = tcert_make("dev1", k, ca2, ca2k, 0, "clientAuth", 86400);
	X509_CRL *crl = NULL, *bad = NULL, *old = NULL;
	struct crl_set *c;
	char err[256] = "";

	if (!ASSERT_TRUE(fresh(), "tmp dir") || !ASSERT_TRUE(ca && ca2 && d1 && d2 && o1, "certs"))
		goto out;
	tcert_write(ca_path, ca);
	crl = tcert_crl(ca, cak, &d1, 1, 86400);
	if (!ASSERT_TRUE(crl != NULL, "crl") ||
	    !ASSERT_EQ(tcert_write_crl(crl_path, crl, 0), 0, "w"))
		goto out;
	c = crl_load(crl_path, ca_path, err, sizeof(err));
	if (ASSERT_TRUE(c != NULL, err)) {
		ASSERT_TRUE(revoked(c, d1), "dev1 listed");
		ASSERT_TRUE(!revoked(c, d2), "dev2 not");
		ASSERT_TRUE(!revoked(c, o1), "the same serial of another issuer: not");
		ASSERT_EQ(crl_serials(c), 1, "one serial");
		ASSERT_EQ(crl_expired(c), 0, "current");
	}
	crl_free(c);

	/* DER. */
	unlink(crl_path);
	tcert_write_crl(crl_path, crl, 1);
	c = crl_load(crl_path, ca_path, err, sizeof(err));
	if (ASSERT_TRUE(c != NULL, err))
		ASSERT_TRUE(revoked(c, d1), "DER: dev1 listed");
	crl_free(c);

	/* Signed by another key under the same name: refused, with the reason. */
	unlink(crl_path);
	bad = tcert_crl(ca, ca2k, &d2, 1, 86400);
	tcert_write_crl(crl_path, crl, 0);
	tcert_write_crl(crl_path, bad, 0);
	c = crl_load(crl_path, ca_path, err, sizeof(err));
	ASSERT_TRUE(c == NULL, "a CRL the CA did not sign refuses the whole file");
	ASSERT_TRUE(strstr(err, "does not verify") != NULL, err);
	ASSERT_TRUE(strstr(err, "#2") != NULL, "names which one");
	crl_free(c);

	/* Of an issuer the CA file does not hold. */
	unlink(crl_path);
	X509_CRL_free(bad);
	bad = tcert_crl(d1, k, &d2, 1, 86400);
	tcert_write_crl(crl_path, bad, 0);
	c = crl_load(crl_path, ca_path, err, sizeof(err));
	ASSERT_TRUE(c == NULL, "another issuer refused");
	ASSERT_TRUE(strstr(err, "not issued by") != NULL, err);

	/* Past its nextUpdate: honoured, and said. Two CRLs of one issuer: both count. */
	unlink(crl_path);
	old = tcert_crl(ca, cak, &d2, 1, -60);
	tcert_write_crl(crl_path, crl, 0);
	tcert_write_crl(crl_path, old, 0);
	c = crl_load(crl_path, ca_path, err, sizeof(err));
	if (ASSERT_TRUE(c != NULL, err)) {
		ASSERT_EQ(crl_expired(c), 1, "one expired");
		ASSERT_EQ(crl_lists(c), 2, "two CRLs");
		ASSERT_TRUE(revoked(c, d2), "the expired one still honoured");
		ASSERT_TRUE(revoked(c, d1), "and the other");
	}
	crl_free(c);

	/* A CA rolling over: two certificates of its name; its CRL verifies with the second. */
	unlink(crl_path);
	unlink(ca_path);
	tcert_write_crl(crl_path, crl, 0);
	{
		FILE *f = fopen(ca_path, "w");

		if (ASSERT_TRUE(f != NULL, ca_path)) {
			PEM_write_X509(f, ca2);
			PEM_write_X509(f, ca);
			fclose(f);
		}
	}
	c = crl_load(crl_path, ca_path, err, sizeof(err));
	if (ASSERT_TRUE(c != NULL, err))
		ASSERT_TRUE(revoked(c, d1), "verified by the CA of that name that signed it");
	crl_free(c);

	/* A file half written: the first CRL whole, the second cut short: refused whole. */
	{
		char pem[8192];
		FILE *f;
		size_t n;

		unlink(crl_path);
		tcert_write_crl(crl_path, old, 0);
		f = fopen(crl_path, "r");
		n = f ? fread(pem, 1, sizeof(pem), f) : 0;
		if (f)
			fclose(f);
		unlink(crl_path);
		tcert_write_crl(crl_path, crl, 0);
		f = fopen(crl_path, "a");
		if (ASSERT_TRUE(f && n > 40, "append")) {
			fwrite(pem, 1, n / 2, f);
			fclose(f);
		}
		c = crl_load(crl_path, ca_path, err, sizeof(err));
		ASSERT_TRUE(c == NULL, "a PEM block cut short refuses the file");
		ASSERT_TRUE(strstr(err, "does not parse") != NULL, err);
		crl_free(c);
	}

	/* Nothing usable. */
	unlink(crl_path);
	c = crl_load(crl_path, ca_path, err, sizeof(err));
	ASSERT_TRUE(c == NULL && strstr(err, "cannot be read"), "missing file");
	tcert_write(crl_path, d1);
	c = crl_load(crl_path, ca_path, err, sizeof(err));
	ASSERT_TRUE(c == NULL && strstr(err, "no CRL"), "not a CRL");
out:
	X509_CRL_free(crl);
	X509_CRL_free(bad);
	X509_CRL_free(old);
	X509_free(ca);
	X509_free(ca2);
	X509_free(d1);
	X509_free(d2);
	X509_free(o1);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(ca2k);
	EVP_PKEY_free(k);
	cleanup();
}

T_MAIN(T_CASE(test_crl))
