// SPDX-License-Identifier: GPL-2.0
/* Encrypted mode's AEAD: RFC 8439's vector, libsodium as the oracle, counter limits, bad input. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "lib/tunnel/aead.h"
#include "tests/lib/t.h"

static size_t unhex(const char *h, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned int b;

	while (h[0] && h[1] && n < max && sscanf(h, "%2x", &b) == 1) {
		out[n++] = (uint8_t)b;
		h += 2;
	}
	return n;
}

/* RFC 8439 §2.8.2. */
static void test_rfc8439_vector(void)
{
	static const char pt[] = "Ladies and Gentlemen of the class of '99: If I could offer you "
				 "only one tip for the future, sunscreen would be it.";
	uint8_t key[32], nonce[12], ad[12], ct[sizeof(pt)], want[sizeof(pt)], tag[16], wtag[16],
		back[sizeof(pt)];
	size_t len = sizeof(pt) - 1;
	struct aead *s, *o;

	unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", key, 32);
	unhex("070000004041424344454647", nonce, 12);
	unhex("50515253c0c1c2c3c4c5c6c7", ad, 12);
	ASSERT_EQ(unhex("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8c"
			"a9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c98"
			"03aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586"
			"cec64b6116",
			want, sizeof(want)),
		  len, "vector length");
	unhex("1ae10b594f09e26a7e902ecbd0600691", wtag, 16);
	s = aead_new(CG_CIPHER_CHACHA20_POLY1305, key, true);
	o = aead_new(CG_CIPHER_CHACHA20_POLY1305, key, false);
	if (!ASSERT_TRUE(s && o, "contexts"))
		goto out;
	ASSERT_EQ(aead_seal_nonce(s, nonce, ad, sizeof(ad), (const uint8_t *)pt, len, ct, tag), 0,
		  "seal");
	ASSERT_MEMEQ(ct, want, len, "ciphertext");
	ASSERT_MEMEQ(tag, wtag, 16, "tag");
	ASSERT_EQ(aead_open_nonce(o, nonce, ad, sizeof(ad), ct, len, back, tag), 0, "open");
	ASSERT_MEMEQ(back, pt, len, "plaintext");
out:
	aead_free(s);
	aead_free(o);
}

static void test_nonce_layout(void)
{
	static const uint8_t want[12] = { 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t n[12];

	aead_nonce(0x0102030405060708ULL, n);
	ASSERT_MEMEQ(n, want, 12, "4 zero bytes || counter, big-endian");
}

/* libsodium, the oracle: 0 if it opens (seal == false) or seals what it is given. */
static int oracle(enum cg_cipher c, bool seal, const uint8_t *key, const uint8_t *nonce,
		  const uint8_t *ad, size_t adlen, const uint8_t *in, size_t len, uint8_t *out,
		  uint8_t *tag)
{
	unsigned long long tl;

	if (c == CG_CIPHER_CHACHA20_POLY1305)
		return seal ? crypto_aead_chacha20poly1305_ietf_encrypt_detached(
				      out, tag, &tl, in, len, ad, adlen, NULL, nonce, key)
			    : crypto_aead_chacha20poly1305_ietf_decrypt_detached(
				      out, NULL, in, len, tag, ad, adlen, nonce, key);
	return seal ? crypto_aead_aes256gcm_encrypt_detached(out, tag, &tl, in, len, ad, adlen,
							     NULL, nonce, key)
		    : crypto_aead_aes256gcm_decrypt_detached(out, NULL, in, len, tag, ad, adlen,
							     nonce, key);
}

/* A few thousand random packets each way: sealed by one library, opened by the other. */
static void cross(enum cg_cipher c)
{
	uint8_t key[32], ad[16], pt[1500], ct[1500], back[1500], tag[16], nonce[12];
	int i, fails = 0;

	for (i = 0; i < 3000 && fails < 5; i++) {
		struct aead *s, *o;
		uint64_t ctr;
		size_t len = randombytes_uniform(sizeof(pt) + 1);

		randombytes_buf(key, sizeof(key));
		randombytes_buf(ad, sizeof(ad));
		randombytes_buf(pt, len);
		randombytes_buf(&ctr, sizeof(ctr));
		ctr = (ctr & CG_AEAD_COUNTER_MAX) | 1;
		aead_nonce(ctr, nonce);
		s = aead_new(c, key, true);
		o = aead_new(c, key, false);
		if (!s || !o || aead_seal(s, ctr, ad, sizeof(ad), pt, len, ct, tag) ||
		    oracle(c, false, key, nonce, ad, sizeof(ad), ct, len, back, tag) ||
		    memcmp(back, pt, len))
			fails++;
		else if (oracle(c, true, key, nonce, ad, sizeof(ad), pt, len, ct, tag) ||
			 aead_open(o, ctr, ad, sizeof(ad), ct, len, back, tag) ||
			 memcmp(back, pt, len))
			fails++;
		aead_free(s);
		aead_free(o);
	}
	ASSERT_EQ(fails, 0, cipher_name(c));
}

static void test_cross_library(void)
{
	cross(CG_CIPHER_CHACHA20_POLY1305);
	if (aead_aes_available())
		cross(CG_CIPHER_AES256_GCM);
	else
		T_SKIP("no AES instructions: AES-256-GCM not tested");
}

static void test_counter_limits(void)
{
	uint8_t key[32] = { 1 }, pt[8] = { 7 }, ct[8], tag[16];
	struct aead *s = aead_new(CG_CIPHER_CHACHA20_POLY1305, key, true);

	if (!ASSERT_TRUE(s != NULL, "context"))
		return;
	memset(ct, 0xaa, sizeof(ct));
	ASSERT_EQ(aead_seal(s, 0, NULL, 0, pt, sizeof(pt), ct, tag), -ERANGE, "counter 0");
	ASSERT_EQ(aead_seal(s, CG_AEAD_COUNTER_MAX + 1, NULL, 0, pt, sizeof(pt), ct, tag), -ERANGE,
		  "past 2^60 - 1");
	ASSERT_EQ(aead_seal(s, UINT64_MAX, NULL, 0, pt, sizeof(pt), ct, tag), -ERANGE, "2^64 - 1");
	ASSERT_EQ(ct[0], 0xaa, "nothing written when refused");
	ASSERT_EQ(aead_seal(s, CG_AEAD_COUNTER_MAX, NULL, 0, pt, sizeof(pt), ct, tag), 0,
		  "the last counter");
	ASSERT_EQ(aead_seal(s, 1, NULL, 0, pt, sizeof(pt), ct, tag), 0, "the first counter");
	aead_free(s);
}

static void bad_input(enum cg_cipher c, enum cg_cipher other)
{
	uint8_t key[32], key2[32], ad[16] = { 1 }, pt[100], ct[100], back[100], tag[16], t2[16];
	uint8_t zero[100] = { 0 };
	struct aead *s, *o, *o2, *ow;

	randombytes_buf(key, sizeof(key));
	randombytes_buf(key2, sizeof(key2));
	randombytes_buf(pt, sizeof(pt));
	s = aead_new(c, key, true);
	o = aead_new(c, key, false);
	o2 = aead_new(c, key2, false);
	ow = aead_new(other, key, false);
	if (!ASSERT_TRUE(s && o && o2 && ow, "contexts"))
		goto out;
	ASSERT_EQ(aead_seal(s, 9, ad, sizeof(ad), pt, sizeof(pt), ct, tag), 0, "seal");
	memcpy(t2, tag, 16);
	t2[15] ^= 1;
	ASSERT_EQ(aead_open(o, 9, ad, sizeof(ad), ct, sizeof(ct), back, t2), -EBADMSG, "bad tag");
	ASSERT_MEMEQ(back, zero, sizeof(back), "no plaintext after a bad tag");
	ad[0] ^= 1;
	ASSERT_EQ(aead_open(o, 9, ad, sizeof(ad), ct, sizeof(ct), back, tag), -EBADMSG,
		  "header changed");
	ad[0] ^= 1;
	ASSERT_EQ(aead_open(o, 10, ad, sizeof(ad), ct, sizeof(ct), back, tag), -EBADMSG,
		  "other counter");
	ASSERT_EQ(aead_open(o, 9, ad, sizeof(ad), ct, sizeof(ct) - 1, back, tag), -EBADMSG,
		  "short");
	ASSERT_EQ(aead_open(o2, 9, ad, sizeof(ad), ct, sizeof(ct), back, tag), -EBADMSG,
		  "the other direction's key");
	ASSERT_EQ(aead_open(ow, 9, ad, sizeof(ad), ct, sizeof(ct), back, tag), -EBADMSG,
		  "the other cipher");
	ASSERT_EQ(aead_open(o, 0, ad, sizeof(ad), ct, sizeof(ct), back, tag), -ERANGE, "counter 0");
	ASSERT_EQ(aead_seal(o, 9, ad, sizeof(ad), pt, sizeof(pt), ct, tag), -EINVAL,
		  "an opener does not seal");
	ASSERT_EQ(aead_open(s, 9, ad, sizeof(ad), ct, sizeof(ct), back, tag), -EINVAL,
		  "a sealer does not open");
	ASSERT_EQ(aead_open(o, 9, ad, sizeof(ad), ct, sizeof(ct), back, tag), 0, "genuine");
	ASSERT_MEMEQ(back, pt, sizeof(pt), "plaintext");
	/* In place, and an empty payload (a tag over the header alone). */
	memcpy(back, pt, sizeof(pt));
	ASSERT_EQ(aead_seal(s, 11, ad, sizeof(ad), back, sizeof(back), back, tag), 0, "in place");
	ASSERT_EQ(aead_open(o, 11, ad, sizeof(ad), back, sizeof(back), back, tag), 0,
		  "open in place");
	ASSERT_MEMEQ(back, pt, sizeof(pt), "in place round trip");
	ASSERT_EQ(aead_seal(s, 12, ad, sizeof(ad), NULL, 0, NULL, tag), 0, "empty");
	ASSERT_EQ(aead_open(o, 12, ad, sizeof(ad), NULL, 0, NULL, tag), 0, "open empty");
out:
	aead_free(s);
	aead_free(o);
	aead_free(o2);
	aead_free(ow);
}

static void test_bad_input(void)
{
	uint8_t key[32] = { 0 };

	bad_input(CG_CIPHER_CHACHA20_POLY1305, CG_CIPHER_AES256_GCM);
	bad_input(CG_CIPHER_AES256_GCM, CG_CIPHER_CHACHA20_POLY1305);
	errno = 0;
	ASSERT_TRUE(aead_new((enum cg_cipher)3, key, true) == NULL && errno == EINVAL,
		    "unknown cipher");
	ASSERT_TRUE(aead_new(CG_CIPHER_AES256_GCM, NULL, true) == NULL, "no key");
	ASSERT_TRUE(cipher_name((enum cg_cipher)0) == NULL, "integrity mode has no cipher name");
	ASSERT_STREQ(cipher_name(CG_CIPHER_AES256_GCM), "aes-256-gcm", "name");
}

/* The names the configs and the control protocol use, both ways; nothing else is one. */
static void test_cipher_by_name(void)
{
	ASSERT_EQ(cipher_by_name("chacha20-poly1305"), CG_CIPHER_CHACHA20_POLY1305, "chacha");
	ASSERT_EQ(cipher_by_name("aes-256-gcm"), CG_CIPHER_AES256_GCM, "aes");
	ASSERT_EQ(cipher_by_name("AES-256-GCM"), 0, "case matters");
	ASSERT_EQ(cipher_by_name("aes-256-gcm "), 0, "exact");
	ASSERT_EQ(cipher_by_name(""), 0, "empty");
	ASSERT_EQ(cipher_by_name("integrity"), 0, "integrity is a mode, not a cipher");
}

int main(int argc, char **argv)
{
	static const struct t_case cases[] = {
		T_CASE(test_rfc8439_vector), T_CASE(test_nonce_layout), T_CASE(test_cross_library),
		T_CASE(test_counter_limits), T_CASE(test_bad_input),	T_CASE(test_cipher_by_name),
	};

	if (sodium_init() < 0)
		return 1;
	return t_main(__FILE__, cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
