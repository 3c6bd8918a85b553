// SPDX-License-Identifier: GPL-2.0
/* SPIFFE identities: the URI rules, the X509-SVID leaf rules, groups, serials, key names. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "lib/auth/identity.h"
#include "lib/auth/revoke.h"
#include "tests/lib/t.h"
#include "tests/lib/tcert.h"

#define TD "example.org"

static const struct {
	const char *uri;
	enum identity_verdict want;
	const char *device, *app;
} uris[] = {
	{ "spiffe://example.org/device/dev1", IDENTITY_OK, "dev1", "" },
	{ "spiffe://example.org/device/dev1/app/cam", IDENTITY_OK, "dev1", "cam" },
	{ "spiffe://example.org/device/a.b_c-9/app/A.b_-", IDENTITY_OK, "a.b_c-9", "A.b_-" },
	{ "SPIFFE://example.org/device/dev1", IDENTITY_NOT_SPIFFE, NULL, NULL },
	{ "spiffe:/example.org/device/dev1", IDENTITY_NOT_SPIFFE, NULL, NULL },
	{ "https://example.org/device/dev1", IDENTITY_NOT_SPIFFE, NULL, NULL },
	{ "spiffe://", IDENTITY_BAD_TRUST_DOMAIN, NULL, NULL },
	{ "spiffe:///device/dev1", IDENTITY_BAD_TRUST_DOMAIN, NULL, NULL },
	{ "spiffe://Example.org/device/dev1", IDENTITY_BAD_TRUST_DOMAIN, NULL, NULL },
	{ "spiffe://example.org:443/device/dev1", IDENTITY_BAD_TRUST_DOMAIN, NULL, NULL },
	{ "spiffe://user@example.org/device/dev1", IDENTITY_BAD_TRUST_DOMAIN, NULL, NULL },
	{ "spiffe://exa%6dple.org/device/dev1", IDENTITY_BAD_TRUST_DOMAIN, NULL, NULL },
	{ "spiffe://example.com/device/dev1", IDENTITY_WRONG_TRUST_DOMAIN, NULL, NULL },
	{ "spiffe://example.org.evil/device/dev1", IDENTITY_WRONG_TRUST_DOMAIN, NULL, NULL },
	{ "spiffe://example.or/device/dev1", IDENTITY_WRONG_TRUST_DOMAIN, NULL, NULL },
	{ "spiffe://example.org", IDENTITY_BAD_PATH, NULL, NULL },
	{ "spiffe://example.org/", IDENTITY_BAD_PATH, NULL, NULL },
	{ "spiffe://example.org/device/dev1/", IDENTITY_BAD_PATH, NULL, NULL },
	{ "spiffe://example.org/device//dev1", IDENTITY_BAD_PATH, NULL, NULL },
	{ "spiffe://example.org/device/./dev1", IDENTITY_BAD_PATH, NULL, NULL },
	{ "spiffe://example.org/device/../dev1", IDENTITY_BAD_PATH, NULL, NULL },
	{ "spiffe://example.org/device/..", IDENTITY_BAD_PATH, NULL, NULL },
	{ "spiffe://example.org/device/dev%31", IDENTITY_BAD_PATH, NULL, NULL },
	{ "spiffe://example.org/device/dev1?x=1", IDENTITY_BAD_PATH, NULL, NULL },
	{ "spiffe://example.org/device/dev1#frag", IDENTITY_BAD_PATH, NULL, NULL },
	{ "spiffe://example.org/device/dev 1", IDENTITY_BAD_PATH, NULL, NULL },
	{ "spiffe://example.org/device/dev@1", IDENTITY_BAD_PATH, NULL, NULL },
	{ "spiffe://example.org/device", IDENTITY_NOT_DEVICE, NULL, NULL },
	{ "spiffe://example.org/Device/dev1", IDENTITY_NOT_DEVICE, NULL, NULL },
	{ "spiffe://example.org/workload/dev1", IDENTITY_NOT_DEVICE, NULL, NULL },
	{ "spiffe://example.org/device/dev1/app", IDENTITY_NOT_DEVICE, NULL, NULL },
	{ "spiffe://example.org/device/dev1/apps/cam", IDENTITY_NOT_DEVICE, NULL, NULL },
	{ "spiffe://example.org/device/dev1/app/cam/x", IDENTITY_NOT_DEVICE, NULL, NULL },
	{ "spiffe://example.org/device/"
	  "a123456789012345678901234567890123456789012345678901234567890123",
	  IDENTITY_NOT_DEVICE, NULL, NULL }, /* 64 characters: longer than a name */
};

static void test_uris(void)
{
	struct identity id;
	size_t i;

	for (i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
		memset(&id, 0x5a, sizeof(id));
		if (!ASSERT_STREQ(identity_verdict_str(identity_parse_uri(
					  uris[i].uri, strlen(uris[i].uri), TD, &id)),
				  identity_verdict_str(uris[i].want), uris[i].uri))
			continue;
		if (uris[i].want == IDENTITY_OK) {
			ASSERT_STREQ(id.device, uris[i].device, uris[i].uri);
			ASSERT_STREQ(id.app, uris[i].app, uris[i].uri);
		} else {
			ASSERT_EQ(id.device[0], 0x5a, "untouched on a refusal");
		}
	}
	/* Bytes, not C strings: a NUL inside is refused, and nothing past len is read. */
	ASSERT_EQ(identity_parse_uri("spiffe://example.org/device/a\0b", 31, TD, &id),
		  IDENTITY_URI_NUL, "embedded NUL");
	ASSERT_EQ(identity_parse_uri("spiffe://example.org/device/dev1/app/x", 32, TD, &id),
		  IDENTITY_OK, "length, not the terminator");
	ASSERT_STREQ(id.app, "", "the app past len is not read");
	{
		static char big[CG_SPIFFE_ID_MAX + 2];

		memset(big, 'a', sizeof(big) - 1);
		memcpy(big, "spiffe://example.org/device/", 28);
		ASSERT_EQ(identity_parse_uri(big, sizeof(big) - 1, TD, &id), IDENTITY_URI_TOO_LONG,
			  "over 2048 bytes");
	}
	{
		char td[CG_TRUST_DOMAIN_MAX + 2];

		memset(td, 'a', sizeof(td) - 1);
		td[sizeof(td) - 1] = '\0';
		ASSERT_TRUE(!trust_domain_valid(td), "256-byte trust domain");
		td[CG_TRUST_DOMAIN_MAX] = '\0';
		ASSERT_TRUE(trust_domain_valid(td), "255-byte trust domain");
		ASSERT_TRUE(!trust_domain_valid(""), "empty trust domain");
		ASSERT_TRUE(!trust_domain_valid("Caps"), "uppercase trust domain");
	}
}

/* ---- certificates --------------------------------------------------------- */

static EVP_PKEY *ca_key, *leaf_key;
static X509 *ca;

/* Appends a SAN extension (crit 0/1) with the given URI entries (len bytes each) and a DNS name. */
static int add_san(X509 *x, int crit, const char *const *uri, const size_t *len, size_t n, bool dns)
{
	GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
	size_t i;
	int ok = gens != NULL;

	for (i = 0; ok && i <= n; i++) {
		GENERAL_NAME *g = GENERAL_NAME_new();
		ASN1_IA5STRING *s = ASN1_IA5STRING_new();

		if (i == n && !dns) {
			GENERAL_NAME_free(g);
			ASN1_IA5STRING_free(s);
			break;
		}
		ok = g && s &&
		     ASN1_STRING_set(s, i < n ? uri[i] : "dev1.example.org",
				     i < n ? (int)len[i] : -1);
		if (ok) {
			GENERAL_NAME_set0_value(g, i < n ? GEN_URI : GEN_DNS, s);
			s = NULL;
			ok = sk_GENERAL_NAME_push(gens, g) > 0;
		}
		if (!ok) {
			GENERAL_NAME_free(g);
			ASN1_IA5STRING_free(s);
		}
	}
	ok = ok && X509_add1_ext_i2d(x, NID_subject_alt_name, gens, crit, X509V3_ADD_APPEND) == 1;
	GENERAL_NAMES_free(gens);
	return ok;
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx(&v3, ca, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	ok = e && X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

enum leaf_shape {
	LEAF_GOOD = 0,
	LEAF_NO_SAN,
	LEAF_TWO_SANS,
	LEAF_BAD_SAN_DER,
	LEAF_TWO_URIS,
	LEAF_NUL_URI,
	LEAF_DNS_ONLY,
	LEAF_NO_SUBJECT,      /* and a non-critical SAN */
	LEAF_NO_SUBJECT_CRIT, /* and a critical one: fine */
	LEAF_NO_BC,
	LEAF_CA_TRUE,
	LEAF_NO_KU,
	LEAF_KU_NOT_CRITICAL,
	LEAF_KU_CERTSIGN,
	LEAF_KU_CRLSIGN,
	LEAF_KU_NO_DIGSIG,
	LEAF_GROUPS,	  /* O=sensors O=floor-2 O="ACME Corp" O=sensors */
	LEAF_MANY_GROUPS, /* nine */
	LEAF_NUL_GROUP,
	LEAF_BMP_GROUP, /* O=sensors as a BMPString (UCS-2: NUL bytes in its encoding) */
	LEAF_NEG_SERIAL,
};

static X509 *leaf(enum leaf_shape shape, const char *uri)
{
	const char *one[2] = { uri, "spiffe://example.org/device/other" };
	size_t lens[2] = { strlen(uri), 33 };
	X509 *x = tcert_make(shape == LEAF_NO_SUBJECT || shape == LEAF_NO_SUBJECT_CRIT ? NULL
										       : "dev1",
			     leaf_key, ca, ca_key, 0, "clientAuth", 3600);
	X509_NAME *name;
	int ok = x != NULL, i;

	if (!ok)
		return NULL;
	name = X509_get_subject_name(x);
	switch (shape) {
	case LEAF_NO_SAN:
		break;
	case LEAF_TWO_SANS:
		ok = add_san(x, 0, one, lens, 1, false) && add_san(x, 0, one, lens, 1, false);
		break;
	case LEAF_BAD_SAN_DER: {
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
		X509_EXTENSION *e = NULL;

		ok = os &&
		     ASN1_OCTET_STRING_set(os, (const unsigned char *)"\x30\x05\x86\x09x", 5) &&
		     (e = X509_EXTENSION_create_by_NID(NULL, NID_subject_alt_name, 0, os)) &&
		     X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
		ASN1_OCTET_STRING_free(os);
		break;
	}
	case LEAF_TWO_URIS:
		ok = add_san(x, 0, one, lens, 2, true);
		break;
	case LEAF_NUL_URI:
		lens[0] = strlen(uri) + 2; /* "…dev1\0x" */
		ok = add_san(x, 0, one, lens, 1, false);
		break;
	case LEAF_DNS_ONLY:
		ok = add_san(x, 0, one, lens, 0, true);
		break;
	case LEAF_NO_SUBJECT_CRIT:
		ok = add_san(x, 1, one, lens, 1, false);
		break;
	default:
		ok = add_san(x, 0, one, lens, 1, true);
		break;
	}
	if (ok && shape != LEAF_NO_BC)
		ok = add_ext(x, NID_basic_constraints,
			     shape == LEAF_CA_TRUE ? "critical,CA:TRUE" : "critical,CA:FALSE");
	if (ok && shape != LEAF_NO_KU)
		ok = add_ext(x, NID_key_usage,
			     shape == LEAF_KU_NOT_CRITICAL ? "digitalSignature"
			     : shape == LEAF_KU_CERTSIGN   ? "critical,digitalSignature,keyCertSign"
			     : shape == LEAF_KU_CRLSIGN	   ? "critical,digitalSignature,cRLSign"
			     : shape == LEAF_KU_NO_DIGSIG  ? "critical,keyAgreement"
							   : "critical,digitalSignature");
	if (ok && shape == LEAF_GROUPS) {
		static const char *const o[] = { "sensors", "floor-2", "ACME Corp", "sensors" };

		for (i = 0; ok && i < 4; i++)
			ok = X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
							(const unsigned char *)o[i], -1, -1, 0);
	}
	for (i = 0; ok && shape == LEAF_MANY_GROUPS && i < 9; i++) {
		char g[8];

		snprintf(g, sizeof(g), "g%d", i);
		ok = X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)g,
						-1, -1, 0);
	}
	if (ok && shape == LEAF_NUL_GROUP)
		ok = X509_NAME_add_entry_by_txt(name, "O", V_ASN1_UTF8STRING,
						(const unsigned char *)"a\0b", 3, -1, 0);
	if (ok && shape == LEAF_BMP_GROUP)
		ok = X509_NAME_add_entry_by_txt(name, "O", V_ASN1_BMPSTRING,
						(const unsigned char *)"\0s\0e\0n\0s\0o\0r\0s", 14,
						-1, 0);
	if (ok && shape == LEAF_NEG_SERIAL)
		ok = ASN1_INTEGER_set(X509_get_serialNumber(x), -5);
	if (!ok || !X509_sign(x, ca_key, NULL)) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static const struct {
	enum leaf_shape shape;
	enum identity_verdict want;
	const char *name;
} shapes[] = {
	{ LEAF_GOOD, IDENTITY_OK, "a good leaf (URI + DNS SAN)" },
	{ LEAF_NO_SAN, IDENTITY_NO_SAN, "no SAN" },
	{ LEAF_TWO_SANS, IDENTITY_SAN_REPEATED, "two SAN extensions" },
	{ LEAF_BAD_SAN_DER, IDENTITY_SAN_UNDECODABLE, "a SAN that does not decode" },
	{ LEAF_TWO_URIS, IDENTITY_MANY_URIS, "two URIs" },
	{ LEAF_NUL_URI, IDENTITY_URI_NUL, "a URI with a NUL" },
	{ LEAF_DNS_ONLY, IDENTITY_NO_URI, "DNS names only" },
	{ LEAF_NO_SUBJECT, IDENTITY_SAN_NOT_CRITICAL, "no subject, SAN not critical" },
	{ LEAF_NO_SUBJECT_CRIT, IDENTITY_OK, "no subject, SAN critical" },
	{ LEAF_NO_BC, IDENTITY_BASIC_CONSTRAINTS, "no basicConstraints" },
	{ LEAF_CA_TRUE, IDENTITY_NOT_LEAF, "cA=true" },
	{ LEAF_NO_KU, IDENTITY_KEY_USAGE, "no keyUsage" },
	{ LEAF_KU_NOT_CRITICAL, IDENTITY_KEY_USAGE, "keyUsage not critical" },
	{ LEAF_KU_CERTSIGN, IDENTITY_KEY_USAGE, "keyCertSign" },
	{ LEAF_KU_CRLSIGN, IDENTITY_KEY_USAGE, "cRLSign" },
	{ LEAF_KU_NO_DIGSIG, IDENTITY_KEY_USAGE, "no digitalSignature" },
	{ LEAF_GROUPS, IDENTITY_OK, "groups" },
	{ LEAF_MANY_GROUPS, IDENTITY_GROUPS, "nine groups" },
	{ LEAF_NUL_GROUP, IDENTITY_GROUPS, "a group with a NUL" },
	{ LEAF_BMP_GROUP, IDENTITY_OK, "a group in a BMPString" },
	{ LEAF_NEG_SERIAL, IDENTITY_SERIAL, "a negative serial" },
};

static bool setup(void)
{
	ca_key = tcert_key();
	leaf_key = tcert_key();
	ca = ca_key ? tcert_make("capgate CA", ca_key, NULL, NULL, 1, NULL, 3600) : NULL;
	return ca && leaf_key;
}

static void teardown(void)
{
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(leaf_key);
}

static void test_leaves(void)
{
	struct identity id;
	size_t i;

	if (!ASSERT_TRUE(setup(), "test CA"))
		return;
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		X509 *x = leaf(shapes[i].shape, "spiffe://example.org/device/dev1/app/cam\0x");

		if (!ASSERT_TRUE(x != NULL, shapes[i].name))
			continue;
		memset(&id, 0x5a, sizeof(id));
		ASSERT_STREQ(identity_verdict_str(identity_from_cert(x, TD, &id)),
			     identity_verdict_str(shapes[i].want), shapes[i].name);
		if (shapes[i].want == IDENTITY_OK) {
			ASSERT_STREQ(id.device, "dev1", shapes[i].name);
			ASSERT_STREQ(id.app, "cam", shapes[i].name);
			if (shapes[i].shape == LEAF_BMP_GROUP)
				ASSERT_TRUE(id.ngroups == 1 && !strcmp(id.groups[0], "sensors"),
					    "BMPString group read as UTF-8");
		} else {
			ASSERT_EQ(id.device[0] | id.ngroups | id.serial_len, 0,
				  "zeroed on refusal");
		}
		X509_free(x);
	}
	teardown();
}

static void test_groups_serial_issuer(void)
{
	unsigned char *der = NULL, h[32];
	struct identity id;
	char hex[2 * CG_SERIAL_MAX + 1];
	X509 *x;
	int dl;

	if (!ASSERT_TRUE(setup(), "test CA"))
		return;
	x = leaf(LEAF_GROUPS, "spiffe://example.org/device/dev1");
	if (ASSERT_TRUE(x != NULL, "leaf") &&
	    ASSERT_EQ(identity_from_cert(x, TD, &id), IDENTITY_OK, "identity")) {
		ASSERT_STREQ(id.app, "", "a device certificate has no app");
		/* "ACME Corp" is no name: skipped; the repeated "sensors" counts once. */
		ASSERT_EQ(id.ngroups, 2, "groups");
		ASSERT_STREQ(id.groups[0], "sensors", "first group");
		ASSERT_STREQ(id.groups[1], "floor-2", "second group");
		ASSERT_EQ(id.serial_len, ASN1_STRING_length(X509_get0_serialNumber(x)), "serial");
		ASSERT_MEMEQ(id.serial, ASN1_STRING_get0_data(X509_get0_serialNumber(x)),
			     id.serial_len, "serial bytes");
		revoke_serial_format(id.serial, id.serial_len, hex, sizeof(hex));
		ASSERT_EQ(strlen(hex), 2 * id.serial_len, "serial hex");
		dl = i2d_X509_NAME(X509_get_subject_name(ca), &der);
		SHA256(der, (size_t)dl, h);
		OPENSSL_free(der);
		ASSERT_MEMEQ(id.issuer, h, 32, "issuer = SHA-256 of the CA's name");
	}
	X509_free(x);
	teardown();
}

static void test_key_names(void)
{
	char buf[CG_KEY_NAME_MAX], d[CG_NAME_MAX], a[CG_NAME_MAX];

	ASSERT_EQ(identity_key_name("dev1", "", buf, sizeof(buf)), 0, "device key name");
	ASSERT_STREQ(buf, "dev1", "device key name");
	ASSERT_EQ(identity_key_name("dev1", "cam", buf, sizeof(buf)), 0, "app key name");
	ASSERT_STREQ(buf, "dev1@cam", "app key name");
	ASSERT_EQ(identity_key_name("dev1", "cam", buf, 8), -ENOSPC, "too small");
	ASSERT_EQ(identity_key_name_split("dev1@cam", d, a), 0, "split");
	ASSERT_STREQ(d, "dev1", "split device");
	ASSERT_STREQ(a, "cam", "split app");
	ASSERT_EQ(identity_key_name_split("dev1", d, a), 0, "split device only");
	ASSERT_STREQ(a, "", "no app");
	ASSERT_EQ(identity_key_name_split("dev1@cam@x", d, a), -EINVAL, "two @");
	ASSERT_EQ(identity_key_name_split("@cam", d, a), -EINVAL, "no device");
	ASSERT_EQ(identity_key_name_split("dev1@", d, a), -EINVAL, "empty app");
	ASSERT_EQ(identity_key_name_split("..@cam", d, a), -EINVAL, "dot-dot device");
	ASSERT_EQ(identity_uri("example.org", "dev1", "cam", buf, sizeof(buf)), 0, "uri");
	ASSERT_STREQ(buf, "spiffe://example.org/device/dev1/app/cam", "uri");
	ASSERT_EQ(identity_uri("Example", "dev1", "", buf, sizeof(buf)), -EINVAL, "bad domain");
	ASSERT_EQ(identity_uri("example.org", "dev 1", "", buf, sizeof(buf)), -EINVAL, "bad name");
}

T_MAIN(T_CASE(test_uris), T_CASE(test_leaves), T_CASE(test_groups_serial_issuer),
       T_CASE(test_key_names))
