// SPDX-License-Identifier: GPL-2.0
/* SPA: build/parse/verify, every verdict, clock-skew edges, replay cache, device certificates. */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/x509_vfy.h>

#include "lib/auth/spa.h"
#include "tests/lib/t.h"
#include "tests/lib/tcert.h"

#define NOW 1700000000ULL
#define TD "capgate"

static EVP_PKEY *dev_key, *other_key;

static int keys(void)
{
	if (!dev_key)
		dev_key = tcert_key();
	if (!other_key)
		other_key = tcert_key();
	return dev_key && other_key;
}

static size_t build(const char *dev, uint64_t ts, uint8_t *out)
{
	int n = spa_build(dev, IPPROTO_TCP, 8443, ts, dev_key, out, SPA_MAX_LEN);

	return n > 0 ? (size_t)n : 0;
}

static void test_roundtrip(void)
{
	uint8_t pkt[SPA_MAX_LEN], pkt2[SPA_MAX_LEN];
	struct spa_msg m, m2;
	size_t n;

	if (!ASSERT_TRUE(keys(), "keys"))
		return;
	n = build("dev1", NOW, pkt);
	ASSERT_EQ(n, 98 + 4, "length");
	ASSERT_MEMEQ(pkt,
		     "CGSPA1\x04"
		     "dev1",
		     11, "magic and name");
	if (!ASSERT_EQ(spa_parse(pkt, n, &m), SPA_OK, "parse"))
		return;
	ASSERT_STREQ(m.name, "dev1", "key name");
	ASSERT_EQ(m.time_s, NOW, "time");
	ASSERT_EQ(m.proto, IPPROTO_TCP, "proto");
	ASSERT_EQ(m.port, 8443, "port");
	ASSERT_EQ(m.signed_len, n - SPA_SIG_LEN, "signed_len");
	ASSERT_MEMEQ(m.nonce, pkt + 11 + 8, SPA_NONCE_LEN, "nonce");
	ASSERT_EQ(spa_verify(pkt, n, &m, dev_key), SPA_OK, "verify");
	/* A second packet gets a fresh nonce. */
	build("dev1", NOW, pkt2);
	spa_parse(pkt2, n, &m2);
	ASSERT_TRUE(memcmp(m.nonce, m2.nonce, SPA_NONCE_LEN) != 0, "fresh nonce");
	/* Longest names: a device of 63, and an app key name of 63@63 = 127 bytes. */
	n = build("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.", NOW, pkt);
	ASSERT_EQ(n, 0, "64 chars refused");
	n = build("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", NOW, pkt);
	ASSERT_EQ(n, SPA_MAX_LEN - 64, "63 chars: a packet as before key names");
	ASSERT_EQ(spa_parse(pkt, n, &m), SPA_OK, "parse 63");
	ASSERT_EQ(spa_verify(pkt, n, &m, dev_key), SPA_OK, "verify 63");
	n = build("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@"
		  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
		  NOW, pkt);
	ASSERT_EQ(n, SPA_MAX_LEN, "63@63: 127 bytes");
	ASSERT_EQ(pkt[6], 127, "length byte");
	ASSERT_EQ(spa_parse(pkt, n, &m), SPA_OK, "parse 127");
	ASSERT_STREQ(m.name + 63,
		     "@abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
		     "the app part");
	ASSERT_EQ(spa_verify(pkt, n, &m, dev_key), SPA_OK, "verify 127");
}

static void test_build_errors(void)
{
	static const char *const bad_names[] = { "", ".", "..", "a b", "dev/1", "dev\n", "é" };
	EVP_PKEY *x25519 = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	uint8_t out[SPA_MAX_LEN];
	size_t i;

	if (!ASSERT_TRUE(keys() && x25519, "keys"))
		goto out;
	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		ASSERT_EQ(spa_build(bad_names[i], 6, 1, NOW, dev_key, out, sizeof(out)), -EINVAL,
			  bad_names[i]);
	ASSERT_EQ(spa_build(NULL, 6, 1, NOW, dev_key, out, sizeof(out)), -EINVAL, "NULL name");
	ASSERT_EQ(spa_build("d", 1, 1, NOW, dev_key, out, sizeof(out)), -EINVAL, "icmp");
	ASSERT_EQ(spa_build("d", 17, 0, NOW, dev_key, out, sizeof(out)), -EINVAL, "port 0");
	ASSERT_EQ(spa_build("d", 17, 1, NOW, NULL, out, sizeof(out)), -EINVAL, "no key");
	ASSERT_EQ(spa_build("d", 17, 1, NOW, x25519, out, sizeof(out)), -EINVAL, "not Ed25519");
	ASSERT_EQ(spa_build("d", 17, 1, NOW, dev_key, out, 98), -ENOSPC, "cap one short");
	ASSERT_EQ(spa_build("d", 17, 1, NOW, dev_key, out, 99), 99, "cap exact");
	ASSERT_TRUE(spa_name_ok("dev-1.a_b"), "name ok");
	ASSERT_TRUE(spa_name_ok("dev-1@sensor"), "an app's key name");
	ASSERT_TRUE(!spa_name_ok("dev1@"), "an empty app");
	ASSERT_TRUE(!spa_name_ok("@sensor"), "an empty device");
	ASSERT_TRUE(!spa_name_ok("a@b@c"), "two @");
out:
	EVP_PKEY_free(x25519);
}

/* One structural fault per row, made by editing a valid "dev1" packet (102 bytes). */
static void test_parse_table(void)
{
	static const struct {
		const char *name;
		int at; /* byte to set, -1 none */
		uint8_t val;
		int dlen; /* length change */
		enum spa_verdict want;
	} cases[] = {
		{ "valid", -1, 0, 0, SPA_OK },
		{ "magic", 0, 'X', 0, SPA_MALFORMED },
		{ "version", 5, '2', 0, SPA_MALFORMED },
		{ "name length 0", 6, 0, 0, SPA_MALFORMED },
		{ "name length 128", 6, 128, 0, SPA_MALFORMED },
		{ "name length 255", 6, 255, 0, SPA_MALFORMED },
		{ "name length 5 (shifts the rest)", 6, 5, 0, SPA_MALFORMED },
		{ "name char space", 8, ' ', 0, SPA_MALFORMED },
		{ "name char slash", 8, '/', 0, SPA_MALFORMED },
		{ "name char NUL", 8, 0, 0, SPA_MALFORMED },
		{ "proto 0", 11 + 8 + 16, 0, 0, SPA_MALFORMED },
		{ "proto icmp", 11 + 8 + 16, 1, 0, SPA_MALFORMED },
		{ "proto udp", 11 + 8 + 16, 17, 0, SPA_OK },
		{ "trailing byte", -1, 0, 1, SPA_MALFORMED },
		{ "one short", -1, 0, -1, SPA_MALFORMED },
	};
	uint8_t pkt[SPA_MAX_LEN + 1];
	struct spa_msg m = { .port = 7 };
	size_t i, n;

	if (!ASSERT_TRUE(keys(), "keys"))
		return;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = build("dev1", NOW, pkt);
		pkt[n] = 0;
		if (cases[i].at >= 0)
			pkt[cases[i].at] = cases[i].val;
		ASSERT_EQ(spa_parse(pkt, (size_t)((int)n + cases[i].dlen), &m), cases[i].want,
			  cases[i].name);
	}
	/* Port 0, in place. */
	n = build("dev1", NOW, pkt);
	pkt[11 + 8 + 16 + 1] = 0;
	pkt[11 + 8 + 16 + 2] = 0;
	m.port = 7;
	ASSERT_EQ(spa_parse(pkt, n, &m), SPA_MALFORMED, "port 0");
	ASSERT_EQ(m.port, 7, "untouched on error");
	ASSERT_EQ(spa_parse(NULL, 0, &m), SPA_MALFORMED, "NULL");
}

static void test_truncated_every_length(void)
{
	uint8_t pkt[SPA_MAX_LEN];
	struct spa_msg m;
	size_t n, len, bad = 0;

	if (!ASSERT_TRUE(keys(), "keys"))
		return;
	n = build("device-7", NOW, pkt);
	for (len = 0; len < n; len++)
		bad += spa_parse(pkt, len, &m) != SPA_MALFORMED;
	ASSERT_EQ(bad, 0, "truncations");
}

/* Every bit of every byte: refused as malformed, or as a bad signature; never accepted. */
static void test_flipped_bits(void)
{
	uint8_t pkt[SPA_MAX_LEN];
	struct spa_msg m;
	size_t n, i, b, accepted = 0, sigfail = 0;

	if (!ASSERT_TRUE(keys(), "keys"))
		return;
	n = build("dev1", NOW, pkt);
	for (i = 0; i < n; i++) {
		for (b = 0; b < 8; b++) {
			pkt[i] ^= (uint8_t)(1 << b);
			if (spa_parse(pkt, n, &m) == SPA_OK) {
				if (spa_verify(pkt, n, &m, dev_key) == SPA_OK)
					accepted++;
				else
					sigfail++;
			}
			pkt[i] ^= (uint8_t)(1 << b);
		}
	}
	ASSERT_EQ(accepted, 0, "accepted a flipped packet");
	ASSERT_TRUE(sigfail > 8 * (8 + 16 + 64), "most flips reach the signature check");
}

static void test_verify_verdicts(void)
{
	EVP_PKEY *x25519 = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	uint8_t pkt[SPA_MAX_LEN], pkt2[SPA_MAX_LEN];
	struct spa_msg m, m2;
	size_t n;

	if (!ASSERT_TRUE(keys() && x25519, "keys"))
		goto out;
	n = build("dev1", NOW, pkt);
	spa_parse(pkt, n, &m);
	ASSERT_EQ(spa_verify(pkt, n, &m, dev_key), SPA_OK, "ok");
	ASSERT_EQ(spa_verify(pkt, n, &m, other_key), SPA_BAD_SIGNATURE, "wrong key");
	ASSERT_EQ(spa_verify(pkt, n, &m, NULL), SPA_UNKNOWN_DEVICE, "no key");
	ASSERT_EQ(spa_verify(pkt, n, &m, x25519), SPA_UNKNOWN_DEVICE, "not Ed25519");
	ASSERT_EQ(spa_verify(pkt, n - 1, &m, dev_key), SPA_MALFORMED, "truncated");
	/* m must describe pkt. */
	build("dev1", NOW, pkt2);
	spa_parse(pkt2, n, &m2);
	ASSERT_EQ(spa_verify(pkt, n, &m2, dev_key), SPA_MALFORMED, "other message");
	m2 = m;
	m2.port++;
	ASSERT_EQ(spa_verify(pkt, n, &m2, dev_key), SPA_MALFORMED, "edited message");
	ASSERT_EQ(spa_verify(pkt, n, NULL, dev_key), SPA_MALFORMED, "NULL message");
	/* Signature replaced by one over another packet. */
	memcpy(pkt + n - SPA_SIG_LEN, pkt2 + n - SPA_SIG_LEN, SPA_SIG_LEN);
	spa_parse(pkt, n, &m);
	ASSERT_EQ(spa_verify(pkt, n, &m, dev_key), SPA_BAD_SIGNATURE, "swapped signature");
out:
	EVP_PKEY_free(x25519);
}

/* s of a P-256 packet's r || s signature as a BIGNUM, and P-256's order n. */
static BIGNUM *sig_s(const uint8_t *pkt, size_t n)
{
	return BN_bin2bn(pkt + n - 32, 32, NULL);
}

static BIGNUM *p256_n(void)
{
	EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	BIGNUM *n = g ? BN_dup(EC_GROUP_get0_order(g)) : NULL;

	EC_GROUP_free(g);
	return n;
}

/* OpenSSL's own verdict on a raw r || s signature (DER for it), bypassing spa_verify. */
static int openssl_verifies(EVP_PKEY *pub, const uint8_t *pkt, size_t n)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *der = NULL;
	int dl, ok = 0;

	if (es && ctx &&
	    ECDSA_SIG_set0(es, BN_bin2bn(pkt + n - 64, 32, NULL),
			   BN_bin2bn(pkt + n - 32, 32, NULL)) &&
	    (dl = i2d_ECDSA_SIG(es, &der)) > 0 &&
	    EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pub) == 1)
		ok = EVP_DigestVerify(ctx, der, (size_t)dl, pkt, n - 64) == 1;
	OPENSSL_free(der);
	EVP_MD_CTX_free(ctx);
	ECDSA_SIG_free(es);
	return ok;
}

/* P-256 device keys: the same layout, r || s with a low s, every tampering refused. */
static void test_p256(void)
{
	EVP_PKEY *k = tcert_key_of("p256"), *k2 = tcert_key_of("p256"),
		 *p384 = tcert_key_of("p384");
	uint8_t pkt[SPA_MAX_LEN], bad[SPA_MAX_LEN], out[SPA_MAX_LEN];
	BIGNUM *order = p256_n(), *half = BN_new(), *s = NULL, *hs = BN_new();
	uint8_t zero[32], ones[32], nbytes[32];
	const struct {
		size_t at; /* 0 = r, 32 = s */
		const uint8_t *val;
		const char *name;
	} ranges[] = {
		{ 0, zero, "r = 0" },
		{ 32, zero, "s = 0" },
		{ 0, nbytes, "r = n" },
		{ 0, ones, "r > n" },
	};
	size_t n, i, b, accepted = 0;
	struct spa_msg m;
	int r, high = 0;

	if (!ASSERT_TRUE(keys() && k && k2 && p384 && order && half && hs &&
				 BN_rshift1(half, order),
			 "keys"))
		goto out;
	r = spa_build("dev1", IPPROTO_TCP, 8443, NOW, k, pkt, sizeof(pkt));
	if (!ASSERT_EQ(r, 98 + 4, "same length as Ed25519"))
		goto out;
	n = (size_t)r;
	ASSERT_EQ(spa_parse(pkt, n, &m), SPA_OK, "parse");
	ASSERT_EQ(spa_verify(pkt, n, &m, k), SPA_OK, "verify");
	ASSERT_EQ(spa_verify(pkt, n, &m, k2), SPA_BAD_SIGNATURE, "another P-256 key");
	ASSERT_EQ(spa_verify(pkt, n, &m, dev_key), SPA_BAD_SIGNATURE, "an Ed25519 key");
	ASSERT_EQ(spa_verify(pkt, n, &m, p384), SPA_UNKNOWN_DEVICE, "a P-384 key");
	ASSERT_EQ(spa_build("dev1", IPPROTO_TCP, 1, NOW, p384, out, sizeof(out)), -EINVAL,
		  "P-384 does not sign");
	/* Every bit of every byte. */
	for (i = 0; i < n; i++) {
		for (b = 0; b < 8; b++) {
			memcpy(bad, pkt, n);
			bad[i] ^= (uint8_t)(1 << b);
			if (spa_parse(bad, n, &m) == SPA_OK && spa_verify(bad, n, &m, k) == SPA_OK)
				accepted++;
		}
	}
	ASSERT_EQ(accepted, 0, "accepted a flipped packet");
	/* Signatures are made with a low s: raw ECDSA gives a high one half the time. */
	for (i = 0; i < 64; i++) {
		n = (size_t)spa_build("dev1", IPPROTO_TCP, 8443, NOW, k, pkt, sizeof(pkt));
		BN_free(s);
		s = sig_s(pkt, n);
		high += s && BN_cmp(s, half) > 0;
	}
	ASSERT_EQ(high, 0, "every s <= n/2");
	/* n - s: the same signature, which OpenSSL accepts, refused here. */
	memcpy(bad, pkt, n);
	if (ASSERT_TRUE(s && BN_sub(hs, order, s) && BN_bn2binpad(hs, bad + n - 32, 32) == 32,
			"high s")) {
		ASSERT_TRUE(openssl_verifies(k, bad, n), "OpenSSL takes the high s");
		spa_parse(bad, n, &m);
		ASSERT_EQ(spa_verify(bad, n, &m, k), SPA_BAD_SIGNATURE, "high s refused");
	}
	/* r or s of 0, or r >= n: out of range, refused (by OpenSSL). */
	memset(zero, 0, sizeof(zero));
	memset(ones, 0xff, sizeof(ones));
	BN_bn2binpad(order, nbytes, 32);
	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		memcpy(bad, pkt, n);
		memcpy(bad + n - 64 + ranges[i].at, ranges[i].val, 32);
		spa_parse(bad, n, &m);
		ASSERT_EQ(spa_verify(bad, n, &m, k), SPA_BAD_SIGNATURE, ranges[i].name);
	}
out:
	BN_free(s);
	BN_free(hs);
	BN_free(half);
	BN_free(order);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(p384);
}

static struct spa_msg msg_at(const char *dev, uint64_t ts, uint8_t nonce_byte)
{
	struct spa_msg m = { .time_s = ts, .proto = IPPROTO_TCP, .port = 8443 };

	snprintf(m.name, sizeof(m.name), "%s", dev);
	memset(m.nonce, nonce_byte, sizeof(m.nonce));
	return m;
}

static void test_replay_and_skew(void)
{
	static const struct {
		const char *name;
		const char *dev;
		int64_t dt; /* time_s - now */
		uint8_t nonce;
		enum spa_verdict want;
	} cases[] = {
		{ "fresh", "dev1", 0, 1, SPA_OK },
		{ "same nonce again", "dev1", 0, 1, SPA_REPLAY },
		{ "same nonce, later time", "dev1", 5, 1, SPA_REPLAY },
		{ "same nonce, other device", "dev2", 0, 1, SPA_OK },
		{ "30 s behind", "dev1", -30, 2, SPA_OK },
		{ "30 s ahead", "dev1", 30, 3, SPA_OK },
		{ "31 s behind", "dev1", -31, 4, SPA_CLOCK_SKEW },
		{ "31 s ahead", "dev1", 31, 5, SPA_CLOCK_SKEW },
		{ "skew is checked first", "dev1", 31, 1, SPA_CLOCK_SKEW },
		{ "refused nonce was not recorded", "dev1", 0, 4, SPA_OK },
		{ "far future", "dev1", 1000000, 6, SPA_CLOCK_SKEW },
	};
	struct spa_replay *c = spa_replay_new(8, 64);
	struct spa_msg m;
	size_t i;

	if (!ASSERT_TRUE(c != NULL, "new"))
		return;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m = msg_at(cases[i].dev, (uint64_t)((int64_t)NOW + cases[i].dt), cases[i].nonce);
		ASSERT_EQ(spa_replay_check(c, &m, NOW, SPA_WINDOW_S), cases[i].want, cases[i].name);
	}
	ASSERT_EQ(spa_replay_count(c), 5, "recorded");
	m = msg_at("dev1", 31, 9);
	ASSERT_EQ(spa_replay_check(c, &m, 0, SPA_WINDOW_S), SPA_CLOCK_SKEW, "ts ahead of now 0");
	m = msg_at("dev1", UINT64_MAX, 9);
	ASSERT_EQ(spa_replay_check(c, &m, 0, SPA_WINDOW_S), SPA_CLOCK_SKEW, "ts max");
	ASSERT_EQ(spa_replay_check(NULL, &m, 0, SPA_WINDOW_S), SPA_MALFORMED, "NULL cache");
	spa_replay_free(c);
}

static void test_replay_bounded(void)
{
	struct spa_replay *c = spa_replay_new(1, 2);
	struct spa_msg m;

	if (!ASSERT_TRUE(c != NULL, "new"))
		return;
	m = msg_at("d", NOW, 1);
	ASSERT_EQ(spa_replay_check(c, &m, NOW, 30), SPA_OK, "a");
	m = msg_at("d", NOW + 61, 2);
	ASSERT_EQ(spa_replay_check(c, &m, NOW + 61, 30), SPA_OK, "b");
	/* Full: a is more than 2 x window old and goes quietly. */
	m = msg_at("d", NOW + 61, 3);
	ASSERT_EQ(spa_replay_check(c, &m, NOW + 61, 30), SPA_OK, "c");
	ASSERT_EQ(spa_replay_evicted(c), 0, "expired, not evicted");
	ASSERT_EQ(spa_replay_count(c), 2, "count");
	/* Full of live entries: the oldest goes and is counted. */
	m = msg_at("d", NOW + 62, 4);
	ASSERT_EQ(spa_replay_check(c, &m, NOW + 62, 30), SPA_OK, "d");
	ASSERT_EQ(spa_replay_evicted(c), 1, "evicted");
	ASSERT_EQ(spa_replay_count(c), 2, "bounded");
	m = msg_at("d", NOW + 62, 4);
	ASSERT_EQ(spa_replay_check(c, &m, NOW + 62, 30), SPA_REPLAY, "newest kept");
	spa_replay_free(c);
	spa_replay_free(NULL);
	errno = 0;
	ASSERT_TRUE(spa_replay_new(0, 2) == NULL && errno == EINVAL, "0 devices");
	errno = 0;
	ASSERT_TRUE(spa_replay_new(2, 0) == NULL && errno == EINVAL, "0 per device");
	errno = 0;
	ASSERT_TRUE(spa_replay_new(SIZE_MAX / 2, 1024) == NULL && errno == EINVAL, "too large");
}

/* Build, parse, verify and check in the order the daemon runs them. */
static void test_full_path(void)
{
	struct spa_replay *c = spa_replay_new(4, 16);
	uint8_t pkt[SPA_MAX_LEN];
	struct spa_msg m;
	size_t n;

	if (!ASSERT_TRUE(keys() && c, "setup"))
		goto out;
	n = build("dev1", NOW - 3, pkt);
	ASSERT_EQ(spa_parse(pkt, n, &m), SPA_OK, "parse");
	ASSERT_EQ(spa_verify(pkt, n, &m, dev_key), SPA_OK, "verify");
	ASSERT_EQ(spa_replay_check(c, &m, NOW, SPA_WINDOW_S), SPA_OK, "first");
	/* The same datagram captured and sent again. */
	ASSERT_EQ(spa_parse(pkt, n, &m), SPA_OK, "parse again");
	ASSERT_EQ(spa_verify(pkt, n, &m, dev_key), SPA_OK, "still signed");
	ASSERT_EQ(spa_replay_check(c, &m, NOW + 1, SPA_WINDOW_S), SPA_REPLAY, "replayed");
	ASSERT_EQ(spa_replay_check(c, &m, NOW + 40, SPA_WINDOW_S), SPA_CLOCK_SKEW, "late");
out:
	spa_replay_free(c);
}

static void test_names(void)
{
	static const char *const want[SPA_MAX] = {
		"ok",	      "malformed", "unknown_device", "bad_signature",
		"clock_skew", "replay",	   "stale",	     "busy"
	};
	int v;

	for (v = 0; v < SPA_MAX; v++)
		ASSERT_STREQ(spa_verdict_str(v), want[v], "name");
	ASSERT_STREQ(spa_verdict_str(SPA_MAX), "?", "max");
}

/* A device certificate of the default trust domain with extendedKeyUsage eku, valid valid_s. */
static X509 *leaf(const char *device, const char *eku, long valid_s, EVP_PKEY *key, X509 *issuer,
		  EVP_PKEY *issuer_key)
{
	char san[128];
	struct tcert_spec sp = {
		.cn = device, .leaf = 1, .san = san, .eku = eku, .valid_s = valid_s
	};

	snprintf(san, sizeof(san), "URI:spiffe://" TD "/device/%s", device);
	return tcert_new(&sp, key, issuer, issuer_key);
}

/* A directory of certificates: dev1 good, and one for each way to be refused. */
static void test_device_key(void)
{
	EVP_PKEY *ca_key = tcert_key(), *ca2_key = tcert_key(), *ec = NULL, *k2 = tcert_key();
	EVP_PKEY *p256 = tcert_key_of("p256");
	X509 *ca = NULL, *ca2 = NULL, *x = NULL, *inter = NULL;
	X509_STORE *store = X509_STORE_new();
	char dir[] = "/tmp/cg-spa-XXXXXX", path[128], err[256];
	struct spa_keys *kc = NULL;
	uint8_t pkt[SPA_MAX_LEN];
	struct identity id;
	struct spa_msg m;
	EVP_PKEY *pk;
	FILE *f;
	size_t n;
	int made = 0;
	static const struct {
		const char *device;
		int use_ca;
		int want_errno; /* 0: key returned */
	} cases[] = {
		{ "dev1", 1, 0 },
		{ "dev1", 0, 0 },
		{ "dev1@sensor", 1, 0 },
		{ "copied", 1, EBADMSG },
		{ "dev2@sensor", 1, EBADMSG },
		{ "noid", 1, EBADMSG },
		{ "otherdomain", 1, EBADMSG },
		{ "otherca", 1, EKEYREJECTED },
		{ "otherca", 0, 0 },
		{ "expired", 1, EKEYREJECTED },
		{ "server", 1, EKEYREJECTED },
		{ "p256", 1, 0 },
		{ "chained", 1, 0 },
		{ "unchained", 1, EKEYREJECTED },
		{ "p384", 1, EBADMSG },
		{ "garbage", 1, EBADMSG },
		{ "missing", 1, ENOENT },
		{ "../dev1", 1, EINVAL },
		{ "..", 1, EINVAL },
	};
	size_t i;

	if (!ASSERT_TRUE(keys() && ca_key && ca2_key && k2 && store && mkdtemp(dir), "setup"))
		goto out;
	made = 1;
	ec = tcert_key_of("p384");
	ca = tcert_make("capgate ca", ca_key, NULL, NULL, 1, NULL, 3600);
	ca2 = tcert_make("capgate ca", ca2_key, NULL, NULL, 1, NULL, 3600);
	if (!ASSERT_TRUE(ec && p256 && ca && ca2 && X509_STORE_add_cert(store, ca) == 1, "ca"))
		goto out;
#define WRITE(name, cert)                                                  \
	do {                                                               \
		x = (cert);                                                \
		snprintf(path, sizeof(path), "%s/%s.crt", dir, name);      \
		ASSERT_TRUE(x &&tcert_write(path, x) == 0, "write " name); \
		X509_free(x);                                              \
		x = NULL;                                                  \
	} while (0)
	WRITE("dev1", tcert_device(TD, "dev1", NULL, dev_key, ca, ca_key));
	WRITE("dev1@sensor", tcert_device(TD, "dev1", "sensor", k2, ca, ca_key));
	/* Files copied under another key name: the name grants nothing. */
	WRITE("copied", tcert_device(TD, "dev1", NULL, k2, ca, ca_key));
	WRITE("dev2@sensor", tcert_device(TD, "dev2", "shell", k2, ca, ca_key));
	WRITE("noid", tcert_make("noid", k2, ca, ca_key, 0, "clientAuth", 3600));
	WRITE("otherdomain", tcert_device("example.org", "otherdomain", NULL, k2, ca, ca_key));
	WRITE("otherca", tcert_device(TD, "otherca", NULL, k2, ca2, ca2_key));
	WRITE("expired", leaf("expired", "clientAuth", -60, k2, ca, ca_key));
	WRITE("server", leaf("server", "serverAuth", 3600, k2, ca, ca_key));
	WRITE("p384", tcert_device(TD, "p384", NULL, ec, ca, ca_key));
	WRITE("p256", tcert_device(TD, "p256", NULL, p256, ca, ca_key));
#undef WRITE
	/* Under an intermediate: the file holds leaf then intermediate, or the leaf alone. */
	inter = tcert_make("issuing", k2, ca, ca_key, 1, NULL, 3600);
	x = inter ? tcert_device(TD, "chained", NULL, p256, inter, k2) : NULL;
	{
		X509 *both[] = { x, inter };

		snprintf(path, sizeof(path), "%s/chained.crt", dir);
		ASSERT_TRUE(x && tcert_write_chain(path, both, 2) == 0, "write chained");
	}
	X509_free(x);
	x = inter ? tcert_device(TD, "unchained", NULL, p256, inter, k2) : NULL;
	snprintf(path, sizeof(path), "%s/unchained.crt", dir);
	ASSERT_TRUE(x && tcert_write(path, x) == 0, "write unchained");
	X509_free(x);
	x = NULL;
	snprintf(path, sizeof(path), "%s/garbage.crt", dir);
	f = fopen(path, "w");
	if (f) {
		fputs("not a certificate\n", f);
		fclose(f);
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[96];

		snprintf(name, sizeof(name), "%s%s", cases[i].device,
			 cases[i].use_ca ? " (with CA)" : " (no CA)");
		errno = 0;
		err[0] = 0;
		/* A cache of its own: one store per cache, and here each case has its own. */
		spa_keys_free(kc);
		kc = spa_keys_new(4);
		memset(&id, 0, sizeof(id));
		pk = spa_keys_get(kc, dir, cases[i].device, cases[i].use_ca ? store : NULL, TD,
				  (uint64_t)time(NULL), &id, err, sizeof(err));
		if (cases[i].want_errno == 0) {
			char kn[CG_KEY_NAME_MAX] = "";

			ASSERT_TRUE(pk != NULL, name);
			identity_key_name(id.device, id.app, kn, sizeof(kn));
			ASSERT_STREQ(kn, cases[i].device, "the certificate's identity");
		} else {
			ASSERT_TRUE(pk == NULL, name);
			ASSERT_EQ(errno, cases[i].want_errno, name);
			ASSERT_TRUE(err[0] != 0, name);
		}
	}
	/* The loaded key verifies what the device's private key signed. */
	pk = spa_keys_get(kc, dir, "dev1", store, TD, (uint64_t)time(NULL), NULL, err, sizeof(err));
	n = build("dev1", NOW, pkt);
	if (ASSERT_TRUE(pk && n, "dev1 key")) {
		spa_parse(pkt, n, &m);
		ASSERT_EQ(spa_verify(pkt, n, &m, pk), SPA_OK, "verifies");
	}
	/* A P-256 device under an Ed25519 CA. */
	pk = spa_keys_get(kc, dir, "p256", store, TD, (uint64_t)time(NULL), NULL, err, sizeof(err));
	n = (size_t)spa_build("p256", IPPROTO_UDP, 53, NOW, p256, pkt, sizeof(pkt));
	if (ASSERT_TRUE(pk && n == SPA_MIN_LEN + 3, "p256 key")) {
		spa_parse(pkt, n, &m);
		ASSERT_EQ(spa_verify(pkt, n, &m, pk), SPA_OK, "P-256 verifies");
	}
out:
	spa_keys_free(kc);
	for (i = 0; made && i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s.crt", dir, cases[i].device);
		unlink(path);
	}
	if (made)
		rmdir(dir);
	X509_free(ca);
	X509_free(ca2);
	X509_free(inter);
	X509_STORE_free(store);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(ca2_key);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(p256);
}

/* Device A's flood dated now+30 evicts only A's own nonces: B's earlier packet stays refused. */
static void test_replay_fair_share(void)
{
	struct spa_replay *c = spa_replay_new(4, 4);
	struct spa_msg m;
	int i;

	if (!ASSERT_TRUE(c != NULL, "new"))
		return;
	m = msg_at("devB", NOW - 10, 0xb0);
	ASSERT_EQ(spa_replay_check(c, &m, NOW, SPA_WINDOW_S), SPA_OK, "B first");
	for (i = 0; i < 100; i++) {
		m = msg_at("devA", NOW + SPA_WINDOW_S, (uint8_t)i);
		ASSERT_EQ(spa_replay_check(c, &m, NOW, SPA_WINDOW_S), SPA_OK, "A flood");
	}
	m = msg_at("devB", NOW - 10, 0xb0);
	ASSERT_EQ(spa_replay_check(c, &m, NOW, SPA_WINDOW_S), SPA_REPLAY, "B replay refused");
	ASSERT_EQ(spa_replay_evicted(c), 100 - 4, "only A's own evicted");
	ASSERT_EQ(spa_replay_count(c), 4 + 1, "A's share and B's entry");
	spa_replay_free(c);
}

/* Every device slot in use: a new device is refused until one's entries and mark expire. */
static void test_replay_busy(void)
{
	struct spa_replay *c = spa_replay_new(1, 4);
	struct spa_msg m;

	if (!ASSERT_TRUE(c != NULL, "new"))
		return;
	m = msg_at("devA", NOW, 1);
	ASSERT_EQ(spa_replay_check(c, &m, NOW, SPA_WINDOW_S), SPA_OK, "A");
	m = msg_at("devB", NOW, 1);
	ASSERT_EQ(spa_replay_check(c, &m, NOW, SPA_WINDOW_S), SPA_BUSY, "B: no slot");
	ASSERT_EQ(spa_replay_check(c, &m, NOW + 2 * SPA_WINDOW_S, SPA_WINDOW_S), SPA_CLOCK_SKEW,
		  "skew is checked first");
	m = msg_at("devB", NOW + 2 * SPA_WINDOW_S + 1, 1);
	ASSERT_EQ(spa_replay_check(c, &m, NOW + 2 * SPA_WINDOW_S + 1, SPA_WINDOW_S), SPA_OK,
		  "B once A's entries and mark are out of the window");
	spa_replay_free(c);
}

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int ok = f && fputs(text, f) >= 0;

	if (f && fclose(f))
		ok = 0;
	return ok ? 0 : -1;
}

/* A restart: the packets the previous run accepted (also future-dated ones) are stale. */
static void test_replay_restart(void)
{
	struct spa_replay *c1 = spa_replay_new(4, 8), *c2 = spa_replay_new(4, 8);
	char dir[] = "/tmp/cg-spa-state-XXXXXX", path[96], err[256];
	struct spa_msg p = msg_at("dev1", NOW - 3, 1), q = msg_at("dev2", NOW + 20, 2), m;
	struct stat st;

	if (!ASSERT_TRUE(c1 && c2 && mkdtemp(dir), "setup"))
		goto out;
	snprintf(path, sizeof(path), "%s/spa_seen.json", dir);
	ASSERT_EQ(spa_replay_load(c1, path, NOW, SPA_WINDOW_S, err, sizeof(err)), 0, "no file");
	ASSERT_EQ(spa_replay_check(c1, &p, NOW, SPA_WINDOW_S), SPA_OK, "P");
	ASSERT_TRUE(spa_replay_dirty(c1), "dirty");
	ASSERT_EQ(spa_replay_check(c1, &q, NOW, SPA_WINDOW_S), SPA_OK, "Q, dated ahead");
	ASSERT_EQ(spa_replay_save(c1, path, NOW, SPA_WINDOW_S), 0, "save");
	ASSERT_TRUE(!spa_replay_dirty(c1), "clean after save");
	m = msg_at("dev1", NOW - 5, 3);
	ASSERT_EQ(spa_replay_check(c1, &m, NOW, SPA_WINDOW_S), SPA_OK, "older: not dirty");
	ASSERT_TRUE(!spa_replay_dirty(c1), "the mark did not rise");
	ASSERT_TRUE(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "mode 0600");

	/* The next run. */
	ASSERT_EQ(spa_replay_load(c2, path, NOW + 5, SPA_WINDOW_S, err, sizeof(err)), 0, err);
	ASSERT_EQ(spa_replay_check(c2, &p, NOW + 5, SPA_WINDOW_S), SPA_STALE, "P replayed");
	ASSERT_EQ(spa_replay_check(c2, &q, NOW + 5, SPA_WINDOW_S), SPA_STALE, "Q replayed");
	m = msg_at("dev1", NOW - 3, 9);
	ASSERT_EQ(spa_replay_check(c2, &m, NOW + 5, SPA_WINDOW_S), SPA_STALE,
		  "dated in P's second: stale (one retry)");
	m = msg_at("dev1", NOW + 5, 9);
	ASSERT_EQ(spa_replay_check(c2, &m, NOW + 5, SPA_WINDOW_S), SPA_OK, "fresh dev1");
	m = msg_at("dev2", NOW + 21, 9);
	ASSERT_EQ(spa_replay_check(c2, &m, NOW + 5, SPA_WINDOW_S), SPA_OK, "dev2 after its mark");
	m = msg_at("dev3", NOW - 3, 1);
	ASSERT_EQ(spa_replay_check(c2, &m, NOW + 5, SPA_WINDOW_S), SPA_OK, "device not in file");
	ASSERT_EQ(spa_replay_check(c2, &m, NOW + 5, SPA_WINDOW_S), SPA_REPLAY, "replay in-run");
	/* Marks out of the window are not written: nothing left to refuse. */
	ASSERT_EQ(spa_replay_save(c2, path, NOW + 1000, SPA_WINDOW_S), 0, "save later");
	spa_replay_free(c1);
	c1 = spa_replay_new(4, 8);
	ASSERT_EQ(spa_replay_load(c1, path, NOW + 1000, SPA_WINDOW_S, err, sizeof(err)), 0, err);
	ASSERT_EQ(spa_replay_count(c1), 0, "empty");
out:
	unlink(path);
	rmdir(dir);
	spa_replay_free(c1);
	spa_replay_free(c2);
}

/* A damaged state file is refused with its reason, never half-read. */
static void test_replay_load_refusals(void)
{
	static const struct {
		const char *name, *text;
		int want;
	} cases[] = {
		{ "not json", "{", -EINVAL },
		{ "empty object", "{}", -EINVAL },
		{ "version 2", "{\"version\":2,\"devices\":{}}", -EINVAL },
		{ "extra key", "{\"version\":1,\"devices\":{},\"x\":1}", -EINVAL },
		{ "bad name", "{\"version\":1,\"devices\":{\"a b\":1700000000}}", -EINVAL },
		{ "mark string", "{\"version\":1,\"devices\":{\"d\":\"1\"}}", -EINVAL },
		{ "mark 0", "{\"version\":1,\"devices\":{\"d\":0}}", -EINVAL },
		{ "duplicate", "{\"version\":1,\"devices\":{\"d\":1700000000,\"d\":1700000001}}",
		  -EINVAL },
		{ "too many",
		  "{\"version\":1,\"devices\":{\"a\":1700000000,\"b\":1700000000,\"c\":1700000000}"
		  "}",
		  -ENOSPC },
		{ "ok", "{\"version\":1,\"devices\":{\"a\":1700000000,\"b\":1700000000}}", 0 },
	};
	char dir[] = "/tmp/cg-spa-state-XXXXXX", path[96], err[256];
	struct spa_replay *c;
	size_t i;

	if (!ASSERT_TRUE(mkdtemp(dir) != NULL, "dir"))
		return;
	snprintf(path, sizeof(path), "%s/spa_seen.json", dir);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = spa_replay_new(2, 4);
		err[0] = 0;
		if (ASSERT_TRUE(c && write_text(path, cases[i].text) == 0, cases[i].name)) {
			ASSERT_EQ(spa_replay_load(c, path, NOW, SPA_WINDOW_S, err, sizeof(err)),
				  cases[i].want, cases[i].name);
			ASSERT_TRUE(cases[i].want == 0 || strstr(err, path) != NULL, cases[i].name);
		}
		spa_replay_free(c);
	}
	/* A mark far ahead stands for now + window: the device is not locked out for long. */
	c = spa_replay_new(2, 4);
	if (ASSERT_TRUE(c && write_text(path, "{\"version\":1,\"devices\":{\"d\":1700001000}}") ==
					0,
			"far ahead")) {
		struct spa_msg m = msg_at("d", NOW + 2 * SPA_WINDOW_S + 1, 1);

		ASSERT_EQ(spa_replay_load(c, path, NOW, SPA_WINDOW_S, err, sizeof(err)), 0, err);
		ASSERT_EQ(spa_replay_check(c, &m, NOW + 2 * SPA_WINDOW_S + 1, SPA_WINDOW_S), SPA_OK,
			  "mark clamped to now + window");
	}
	spa_replay_free(c);
	unlink(path);
	rmdir(dir);
}

/* Does pk verify a packet signed by key? */
static bool verifies(EVP_PKEY *pk, EVP_PKEY *key)
{
	uint8_t pkt[SPA_MAX_LEN];
	struct spa_msg m;
	int n = spa_build("dev1", IPPROTO_TCP, 8443, NOW, key, pkt, sizeof(pkt));

	return pk && n > 0 && spa_parse(pkt, (size_t)n, &m) == SPA_OK &&
	       spa_verify(pkt, (size_t)n, &m, pk) == SPA_OK;
}

/*
 * The key cache: read once per certificate file; a rewritten file is read
 * again, a revoked (other CA), expired or removed one stops at once, and a
 * refusal is kept a second for the same file.
 */
static void test_keys_cache(void)
{
	EVP_PKEY *ca_key = tcert_key(), *ca2_key = tcert_key(), *k2 = tcert_key(), *pk;
	X509 *ca = NULL, *ca2 = NULL, *x = NULL;
	X509_STORE *store = X509_STORE_new();
	char dir[] = "/tmp/cg-spa-keys-XXXXXX", path[128], err[256];
	uint64_t now = (uint64_t)time(NULL);
	struct spa_keys *kc = spa_keys_new(8);
	int i, made = 0;

	if (!ASSERT_TRUE(keys() && ca_key && ca2_key && k2 && store && kc && mkdtemp(dir), "setup"))
		goto out;
	made = 1;
	snprintf(path, sizeof(path), "%s/dev1.crt", dir);
	ca = tcert_make("capgate ca", ca_key, NULL, NULL, 1, NULL, 3600);
	ca2 = tcert_make("capgate ca", ca2_key, NULL, NULL, 1, NULL, 3600);
	if (!ASSERT_TRUE(ca && ca2 && X509_STORE_add_cert(store, ca) == 1, "ca"))
		goto out;
#define PUT(cert)                                                           \
	do {                                                                \
		x = (cert);                                                 \
		ASSERT_TRUE(x &&tcert_write(path, x) == 0, "write " #cert); \
		X509_free(x);                                               \
		x = NULL;                                                   \
	} while (0)
	PUT(leaf("dev1", "clientAuth", 7200, dev_key, ca, ca_key));
	for (i = 0; i < 1000; i++)
		pk = spa_keys_get(kc, dir, "dev1", store, TD, now, NULL, err, sizeof(err));
	ASSERT_TRUE(verifies(pk, dev_key), "dev1's key");
	ASSERT_EQ(spa_keys_loads(kc), 1, "read once for 1000 packets");

	/* Rewritten in place with another key: the change is seen on the next packet. */
	PUT(leaf("dev1", "clientAuth", 7200, k2, ca, ca_key));
	pk = spa_keys_get(kc, dir, "dev1", store, TD, now, NULL, err, sizeof(err));
	ASSERT_TRUE(verifies(pk, k2) && !verifies(pk, dev_key), "the new key, not the old");
	ASSERT_EQ(spa_keys_loads(kc), 2, "read again");

	/* Replaced by one the CA did not sign: refused at once, and for a second from cache. */
	PUT(leaf("dev1", "clientAuth", 7200, dev_key, ca2, ca2_key));
	errno = 0;
	ASSERT_TRUE(spa_keys_get(kc, dir, "dev1", store, TD, now, NULL, err, sizeof(err)) == NULL,
		    "revoked");
	ASSERT_EQ(errno, EKEYREJECTED, "chain");
	errno = 0;
	ASSERT_TRUE(spa_keys_get(kc, dir, "dev1", store, TD, now, NULL, err, sizeof(err)) == NULL,
		    "again");
	ASSERT_EQ(errno, EKEYREJECTED, "the kept refusal says why");
	ASSERT_TRUE(strstr(err, path) != NULL, err);
	ASSERT_EQ(spa_keys_loads(kc), 3, "the refusal is kept");
	ASSERT_TRUE(spa_keys_get(kc, dir, "dev1", store, TD, now + SPA_KEYS_RETRY_S, NULL, err,
				 sizeof(err)) == NULL,
		    "retried later");
	ASSERT_EQ(spa_keys_loads(kc), 4, "read after the retry time");

	/* Removed: stops at once; back: works again. */
	PUT(leaf("dev1", "clientAuth", 7200, dev_key, ca, ca_key));
	ASSERT_TRUE(verifies(spa_keys_get(kc, dir, "dev1", store, TD, now, NULL, err, sizeof(err)),
			     dev_key),
		    "good again");
	unlink(path);
	errno = 0;
	ASSERT_TRUE(spa_keys_get(kc, dir, "dev1", store, TD, now, NULL, err, sizeof(err)) == NULL,
		    "removed");
	ASSERT_EQ(errno, ENOENT, "ENOENT");
	PUT(leaf("dev1", "clientAuth", 7200, dev_key, ca, ca_key));
	ASSERT_TRUE(spa_keys_get(kc, dir, "dev1", store, TD, now, NULL, err, sizeof(err)) != NULL,
		    "back");

	/* Expired (it is valid for another hour): a cached key stops at notAfter. */
	errno = 0;
	ASSERT_TRUE(spa_keys_get(kc, dir, "dev1", store, TD, now + 3 * 3600, NULL, err,
				 sizeof(err)) == NULL,
		    "expired");
	ASSERT_EQ(errno, EKEYREJECTED, "expired: rejected");
#undef PUT
out:
	if (made) {
		unlink(path);
		rmdir(dir);
	}
	spa_keys_free(kc);
	spa_keys_free(NULL);
	X509_free(ca);
	X509_free(ca2);
	X509_STORE_free(store);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(ca2_key);
	EVP_PKEY_free(k2);
}

/* A token's packet (CGSPT1): HMAC under the token's key, its own domain apart from signatures. */
static void test_token_packet(void)
{
	uint8_t key[SPA_TOKEN_KEY_LEN], other[SPA_TOKEN_KEY_LEN], pkt[SPA_MAX_LEN],
		sig[SPA_MAX_LEN];
	struct spa_msg m;
	int n, ns;

	if (!ASSERT_TRUE(keys(), "keys"))
		return;
	memset(key, 0x5a, sizeof(key));
	memset(other, 0x5b, sizeof(other));
	n = spa_build_token("0123456789abcdef", IPPROTO_TCP, 8443, NOW, key, pkt, sizeof(pkt));
	if (!ASSERT_EQ(n, 114, "length"))
		return;
	ASSERT_MEMEQ(pkt, "CGSPT1\x10", 7, "magic, id length");
	if (!ASSERT_EQ(spa_parse(pkt, (size_t)n, &m), SPA_OK, "parse"))
		return;
	ASSERT_TRUE(m.token, "a token's");
	ASSERT_STREQ(m.name, "0123456789abcdef", "id");
	ASSERT_EQ(spa_verify_token(pkt, (size_t)n, &m, key), SPA_OK, "MAC");
	ASSERT_EQ(spa_verify_token(pkt, (size_t)n, &m, other), SPA_BAD_SIGNATURE, "other key");
	ASSERT_EQ(spa_verify(pkt, (size_t)n, &m, dev_key), SPA_MALFORMED, "not for spa_verify");
	pkt[20] ^= 1; /* the time */
	ASSERT_EQ(spa_parse(pkt, (size_t)n, &m), SPA_OK, "parse altered");
	ASSERT_EQ(spa_verify_token(pkt, (size_t)n, &m, key), SPA_BAD_SIGNATURE, "altered time");
	/* A signed packet is not a token's, even under a MAC key. */
	ns = spa_build("0123456789abcdef", IPPROTO_TCP, 8443, NOW, dev_key, sig, sizeof(sig));
	if (ASSERT_TRUE(ns > 0, "signed") && ASSERT_EQ(spa_parse(sig, (size_t)ns, &m), SPA_OK, "p"))
		ASSERT_EQ(spa_verify_token(sig, (size_t)ns, &m, key), SPA_MALFORMED, "signed one");
	/* A token packet's name must be a token id. */
	ASSERT_EQ(spa_build_token("dev1", IPPROTO_TCP, 8443, NOW, key, pkt, sizeof(pkt)), -EINVAL,
		  "build: not an id");
	n = spa_build("dev1", IPPROTO_TCP, 8443, NOW, dev_key, pkt, sizeof(pkt));
	memcpy(pkt, "CGSPT1", 6);
	ASSERT_EQ(spa_parse(pkt, (size_t)n, &m), SPA_MALFORMED, "parse: not an id");
	ASSERT_EQ(spa_build_token("0123456789abcdef", IPPROTO_TCP, 8443, NOW, key, pkt, 113),
		  -ENOSPC, "short buffer");
}

static void test_cleanup(void)
{
	EVP_PKEY_free(dev_key);
	EVP_PKEY_free(other_key);
	dev_key = other_key = NULL;
}

T_MAIN(T_CASE(test_roundtrip), T_CASE(test_build_errors), T_CASE(test_parse_table),
       T_CASE(test_truncated_every_length), T_CASE(test_flipped_bits), T_CASE(test_verify_verdicts),
       T_CASE(test_p256), T_CASE(test_replay_and_skew), T_CASE(test_replay_bounded),
       T_CASE(test_full_path), T_CASE(test_names), T_CASE(test_device_key),
       T_CASE(test_replay_fair_share), T_CASE(test_keys_cache), T_CASE(test_replay_busy),
       T_CASE(test_replay_restart), T_CASE(test_replay_load_refusals), T_CASE(test_token_packet),
       T_CASE(test_cleanup))
