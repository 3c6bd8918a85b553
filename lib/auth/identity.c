// SPDX-License-Identifier: GPL-2.0
/* SPIFFE IDs from X.509 certificates, by the X509-SVID and SPIFFE-ID rules. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "lib/auth/identity.h"

#define SPIFFE_SCHEME "spiffe://"
#define SEG_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

static const char *const verdict_names[IDENTITY_MAX] = {
	[IDENTITY_OK] = "ok",
	[IDENTITY_NO_SAN] = "no_san",
	[IDENTITY_SAN_REPEATED] = "san_repeated",
	[IDENTITY_SAN_UNDECODABLE] = "san_undecodable",
	[IDENTITY_NO_URI] = "no_uri",
	[IDENTITY_MANY_URIS] = "many_uris",
	[IDENTITY_URI_NUL] = "uri_nul",
	[IDENTITY_URI_TOO_LONG] = "uri_too_long",
	[IDENTITY_NOT_SPIFFE] = "not_spiffe",
	[IDENTITY_BAD_TRUST_DOMAIN] = "bad_trust_domain",
	[IDENTITY_WRONG_TRUST_DOMAIN] = "wrong_trust_domain",
	[IDENTITY_BAD_PATH] = "bad_path",
	[IDENTITY_NOT_DEVICE] = "not_a_device",
	[IDENTITY_SAN_NOT_CRITICAL] = "san_not_critical",
	[IDENTITY_BASIC_CONSTRAINTS] = "basic_constraints",
	[IDENTITY_NOT_LEAF] = "not_leaf",
	[IDENTITY_KEY_USAGE] = "key_usage",
	[IDENTITY_GROUPS] = "groups",
	[IDENTITY_SERIAL] = "serial",
};

const char *identity_verdict_str(enum identity_verdict v)
{
	return (unsigned int)v < IDENTITY_MAX ? verdict_names[v] : "?";
}

/* n bytes of s, all from set. */
static bool all_of(const char *s, size_t n, const char *set)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!s[i] || !strchr(set, s[i]))
			return false;
	return true;
}

/* A path segment of n bytes: 1+ of SEG_CHARS, not "." or "..". */
static bool segment_ok(const char *s, size_t n)
{
	return n > 0 && all_of(s, n, SEG_CHARS) && !(n == 1 && s[0] == '.') &&
	       !(n == 2 && s[0] == '.' && s[1] == '.');
}

/* The segment s[0..n) as a name into out, zero-padded (a struct identity has no stray bytes). */
static bool take_name(const char *s, size_t n, char out[CG_NAME_MAX])
{
	if (n >= CG_NAME_MAX)
		return false;
	memset(out, 0, CG_NAME_MAX);
	memcpy(out, s, n);
	out[n] = '\0';
	return name_valid(out);
}

enum identity_verdict identity_parse_uri(const char *uri, size_t len, const char *td,
					 struct identity *out)
{
	const size_t sl = sizeof(SPIFFE_SCHEME) - 1;
	const char *seg[5], *p, *end = uri + len, *slash;
	char device[CG_NAME_MAX], app[CG_NAME_MAX] = "";
	size_t segn[5], nseg = 0, tdn;

	if (memchr(uri, '\0', len))
		return IDENTITY_URI_NUL;
	if (len > CG_SPIFFE_ID_MAX)
		return IDENTITY_URI_TOO_LONG;
	/* The scheme is compared exactly: SPIFFE IDs are lowercase "spiffe". */
	if (len < sl || memcmp(uri, SPIFFE_SCHEME, sl))
		return IDENTITY_NOT_SPIFFE;
	p = uri + sl;
	slash = memchr(p, '/', (size_t)(end - p));
	tdn = (size_t)((slash ? slash : end) - p);
	/* Userinfo ('@'), a port (':') and uppercase fall outside TRUST_DOMAIN_CHARS. */
	if (tdn == 0 || tdn > CG_TRUST_DOMAIN_MAX || !all_of(p, tdn, TRUST_DOMAIN_CHARS))
		return IDENTITY_BAD_TRUST_DOMAIN;
	if (strlen(td) != tdn || memcmp(p, td, tdn))
		return IDENTITY_WRONG_TRUST_DOMAIN;
	/* A leaf's ID has a path (X509-SVID §3.1); every segment is checked before its meaning. */
	if (!slash)
		return IDENTITY_BAD_PATH;
	for (p = slash; p < end;) {
		const char *s = p + 1, *e = memchr(s, '/', (size_t)(end - s));
		size_t n = (size_t)((e ? e : end) - s);

		if (!segment_ok(s, n))
			return IDENTITY_BAD_PATH;
		if (nseg < 5) {
			seg[nseg] = s;
			segn[nseg] = n;
		}
		nseg++;
		p = s + n;
	}
	if ((nseg != 2 && nseg != 4) || segn[0] != 6 || memcmp(seg[0], "device", 6) ||
	    !take_name(seg[1], segn[1], device))
		return IDENTITY_NOT_DEVICE;
	if (nseg == 4 &&
	    (segn[2] != 3 || memcmp(seg[2], "app", 3) || !take_name(seg[3], segn[3], app)))
		return IDENTITY_NOT_DEVICE;
	memcpy(out->device, device, sizeof(device));
	memcpy(out->app, app, sizeof(app));
	return IDENTITY_OK;
}

/* The one URI SAN of x, copied into buf (*len bytes, not NUL-terminated), or why not. */
static enum identity_verdict one_uri(X509 *x, char buf[CG_SPIFFE_ID_MAX], size_t *len)
{
	const ASN1_IA5STRING *found = NULL;
	enum identity_verdict v = IDENTITY_OK;
	GENERAL_NAMES *names;
	int crit = 0, i, n, l;

	names = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	if (!names)
		return crit == -1   ? IDENTITY_NO_SAN
		       : crit == -2 ? IDENTITY_SAN_REPEATED
				    : IDENTITY_SAN_UNDECODABLE;
	/* X509-SVID §3.1: without a subject, the SAN must be critical (RFC 5280 §4.1.2.6). */
	if (X509_NAME_entry_count(X509_get_subject_name(x)) == 0 && crit != 1)
		v = IDENTITY_SAN_NOT_CRITICAL;
	n = sk_GENERAL_NAME_num(names);
	for (i = 0; i < n && v == IDENTITY_OK; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);

		if (g->type != GEN_URI)
			continue; /* other SAN types are allowed (X509-SVID §2) */
		if (found)
			v = IDENTITY_MANY_URIS;
		found = g->d.uniformResourceIdentifier;
	}
	if (v == IDENTITY_OK && !found)
		v = IDENTITY_NO_URI;
	if (v == IDENTITY_OK) {
		l = ASN1_STRING_length(found);
		if (l < 0 || l > CG_SPIFFE_ID_MAX) {
			v = IDENTITY_URI_TOO_LONG;
		} else {
			memcpy(buf, ASN1_STRING_get0_data(found), (size_t)l);
			*len = (size_t)l;
		}
	}
	GENERAL_NAMES_free(names);
	return v;
}

enum identity_verdict identity_ca_trust_domain(X509 *ca, char td[CG_TRUST_DOMAIN_MAX + 1])
{
	const size_t sl = sizeof(SPIFFE_SCHEME) - 1;
	char uri[CG_SPIFFE_ID_MAX];
	enum identity_verdict v;
	size_t len = 0, n;

	v = one_uri(ca, uri, &len);
	if (v != IDENTITY_OK)
		return v;
	if (memchr(uri, '\0', len))
		return IDENTITY_URI_NUL;
	if (len < sl || memcmp(uri, SPIFFE_SCHEME, sl))
		return IDENTITY_NOT_SPIFFE;
	n = len - sl;
	/* A signing certificate's ID is its trust domain alone. */
	if (memchr(uri + sl, '/', n))
		return IDENTITY_BAD_PATH;
	if (n == 0 || n > CG_TRUST_DOMAIN_MAX || !all_of(uri + sl, n, TRUST_DOMAIN_CHARS))
		return IDENTITY_BAD_TRUST_DOMAIN;
	memcpy(td, uri + sl, n);
	td[n] = '\0';
	return IDENTITY_OK;
}

/* basicConstraints present once, decodable, cA false. */
static enum identity_verdict leaf_constraints(X509 *x)
{
	BASIC_CONSTRAINTS *bc;
	int crit = 0;
	bool ca;

	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	if (!bc)
		return IDENTITY_BASIC_CONSTRAINTS;
	ca = bc->ca != 0;
	BASIC_CONSTRAINTS_free(bc);
	return ca ? IDENTITY_NOT_LEAF : IDENTITY_OK;
}

/* keyUsage present once, critical, digitalSignature, no keyCertSign/cRLSign (§4.3). */
static enum identity_verdict leaf_key_usage(X509 *x)
{
	ASN1_BIT_STRING *ku;
	int crit = 0;
	bool ok;

	ku = X509_get_ext_d2i(x, NID_key_usage, &crit, NULL);
	if (!ku)
		return IDENTITY_KEY_USAGE;
	/* Bits of RFC 5280 §4.2.1.3: digitalSignature (0), keyCertSign (5), cRLSign (6). */
	ok = crit == 1 && ASN1_BIT_STRING_get_bit(ku, 0) && !ASN1_BIT_STRING_get_bit(ku, 5) &&
	     !ASN1_BIT_STRING_get_bit(ku, 6);
	ASN1_BIT_STRING_free(ku);
	return ok ? IDENTITY_OK : IDENTITY_KEY_USAGE;
}

/* The subject's O entries that are valid names, once each. */
static enum identity_verdict subject_groups(X509 *x, struct identity *id)
{
	const X509_NAME *name = X509_get_subject_name(x);
	int i = -1;

	while ((i = X509_NAME_get_index_by_NID(name, NID_organizationName, i)) >= 0) {
		const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
		unsigned char *d = NULL;
		char g[CG_NAME_MAX];
		bool is_name;
		uint32_t k;
		int l;

		/* As UTF-8 whatever the string type (a BMPString's UCS-2 holds NUL bytes). */
		l = ASN1_STRING_to_UTF8(&d, s);
		if (l < 0 || memchr(d, '\0', (size_t)l)) {
			OPENSSL_free(d);
			return IDENTITY_GROUPS;
		}
		/* Not a name (a company name of an external PKI, say): not a group. */
		is_name = take_name((const char *)d, (size_t)l, g);
		OPENSSL_free(d);
		if (!is_name)
			continue;
		for (k = 0; k < id->ngroups; k++)
			if (!strcmp(id->groups[k], g))
				break;
		if (k < id->ngroups)
			continue;
		if (id->ngroups == CG_CERT_GROUPS_MAX)
			return IDENTITY_GROUPS;
		memcpy(id->groups[id->ngroups++], g, sizeof(g));
	}
	return IDENTITY_OK;
}

int identity_serial_bytes(const ASN1_INTEGER *serial, uint8_t out[CG_SERIAL_MAX], uint8_t *len)
{
	BIGNUM *bn;
	int n, ret = -EINVAL;

	if (ASN1_STRING_type(serial) != V_ASN1_INTEGER)
		return -EINVAL;
	bn = ASN1_INTEGER_to_BN(serial, NULL);
	n = bn ? BN_num_bytes(bn) : -1;
	if (n >= 0 && n <= CG_SERIAL_MAX) {
		if (n == 0)
			out[n++] = 0;
		else
			BN_bn2bin(bn, out);
		*len = (uint8_t)n;
		ret = 0;
	}
	BN_free(bn);
	return ret;
}

int identity_name_sha256(const X509_NAME *name, uint8_t out[CG_ISSUER_LEN])
{
	unsigned char *der = NULL;
	int n = i2d_X509_NAME(name, &der);

	if (n > 0)
		SHA256(der, (size_t)n, out);
	OPENSSL_free(der);
	return n > 0 ? 0 : -EIO;
}

static enum identity_verdict serial_issuer(X509 *x, struct identity *id)
{
	if (identity_serial_bytes(X509_get0_serialNumber(x), id->serial, &id->serial_len) ||
	    identity_name_sha256(X509_get_issuer_name(x), id->issuer))
		return IDENTITY_SERIAL;
	return IDENTITY_OK;
}

enum identity_verdict identity_from_cert(X509 *leaf, const char *td, struct identity *out)
{
	char uri[CG_SPIFFE_ID_MAX];
	struct identity id;
	enum identity_verdict v;
	size_t len = 0;

	memset(&id, 0, sizeof(id));
	v = one_uri(leaf, uri, &len);
	if (v == IDENTITY_OK)
		v = identity_parse_uri(uri, len, td, &id);
	if (v == IDENTITY_OK)
		v = leaf_constraints(leaf);
	if (v == IDENTITY_OK)
		v = leaf_key_usage(leaf);
	if (v == IDENTITY_OK)
		v = subject_groups(leaf, &id);
	if (v == IDENTITY_OK)
		v = serial_issuer(leaf, &id);
	if (v == IDENTITY_OK)
		*out = id;
	else
		memset(out, 0, sizeof(*out));
	return v;
}

int identity_uri(const char *td, const char *device, const char *app, char *buf, size_t len)
{
	int n;

	if (!trust_domain_valid(td) || !name_valid(device) || (*app && !name_valid(app)))
		return -EINVAL;
	n = *app ? snprintf(buf, len, SPIFFE_SCHEME "%s/device/%s/app/%s", td, device, app)
		 : snprintf(buf, len, SPIFFE_SCHEME "%s/device/%s", td, device);
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

int identity_key_name(const char *device, const char *app, char *buf, size_t len)
{
	int n = *app ? snprintf(buf, len, "%s@%s", device, app) : snprintf(buf, len, "%s", device);

	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

int identity_key_name_split(const char *key, char device[CG_NAME_MAX], char app[CG_NAME_MAX])
{
	const char *at = strchr(key, '@');
	size_t dn = at ? (size_t)(at - key) : strlen(key);
	char d[CG_NAME_MAX], a[CG_NAME_MAX] = "";

	if (!take_name(key, dn, d) || (at && !take_name(at + 1, strlen(at + 1), a)))
		return -EINVAL;
	memcpy(device, d, sizeof(d));
	memcpy(app, a, sizeof(a));
	return 0;
}
