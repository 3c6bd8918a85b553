// SPDX-License-Identifier: GPL-2.0
/* SipHash-2-4-128: libsodium and the reference code against the paper's vectors and each other. */
#include <sodium.h>

#include "tests/lib/sipref.h"
#include "tests/lib/t.h"

#define MAX_LEN 1500

static void test_libsodium_vectors(void)
{
	uint8_t msg[SIPREF_NVECTORS], out[16];
	char name[32];
	size_t i;

	sipref_msg(msg, sizeof(msg));
	for (i = 0; i < SIPREF_NVECTORS; i++) {
		snprintf(name, sizeof(name), "vector %zu", i);
		crypto_shorthash_siphashx24(out, msg, i, sipref_key);
		ASSERT_MEMEQ(out, sipref_vectors128[i], 16, name);
	}
}

static void test_reference_vectors(void)
{
	uint8_t msg[SIPREF_NVECTORS], out[16];
	char name[32];
	size_t i;

	sipref_msg(msg, sizeof(msg));
	for (i = 0; i < SIPREF_NVECTORS; i++) {
		snprintf(name, sizeof(name), "vector %zu", i);
		sipref_128(msg, i, sipref_key, out);
		ASSERT_MEMEQ(out, sipref_vectors128[i], 16, name);
	}
}

/* Every length 0..1500, three keys, two message patterns: both implementations agree. */
static void test_libsodium_vs_reference(void)
{
	static uint8_t msg[MAX_LEN], rnd[MAX_LEN];
	uint8_t keys[3][16], a[16], b[16];
	size_t len, k, bad = 0;

	sipref_msg(msg, sizeof(msg));
	randombytes_buf(rnd, sizeof(rnd));
	memcpy(keys[0], sipref_key, 16);
	memset(keys[1], 0xff, 16);
	randombytes_buf(keys[2], 16);
	for (k = 0; k < 3; k++) {
		for (len = 0; len <= MAX_LEN; len++) {
			crypto_shorthash_siphashx24(a, msg, len, keys[k]);
			sipref_128(msg, len, keys[k], b);
			bad += memcmp(a, b, 16) != 0;
			crypto_shorthash_siphashx24(a, rnd, len, keys[k]);
			sipref_128(rnd, len, keys[k], b);
			bad += memcmp(a, b, 16) != 0;
		}
	}
	ASSERT_EQ(bad, 0, "mismatching lengths");
}

/* One bit of key or message changes the tag (a stuck implementation would not). */
static void test_sensitivity(void)
{
	uint8_t msg[64], key[16], a[16], b[16];

	sipref_msg(msg, sizeof(msg));
	memcpy(key, sipref_key, 16);
	crypto_shorthash_siphashx24(a, msg, sizeof(msg), key);
	key[15] ^= 0x80;
	crypto_shorthash_siphashx24(b, msg, sizeof(msg), key);
	ASSERT_TRUE(memcmp(a, b, 16) != 0, "key bit");
	key[15] ^= 0x80;
	msg[63] ^= 1;
	crypto_shorthash_siphashx24(b, msg, sizeof(msg), key);
	ASSERT_TRUE(memcmp(a, b, 16) != 0, "message bit");
}

T_MAIN(T_CASE(test_libsodium_vectors), T_CASE(test_reference_vectors),
       T_CASE(test_libsodium_vs_reference), T_CASE(test_sensitivity))
