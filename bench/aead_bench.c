// SPDX-License-Identifier: GPL-2.0
/* ns per sealed packet: capgate's AEAD (OpenSSL EVP, lib/tunnel/aead) against libsodium's. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "lib/tunnel/aead.h"

/* Each figure: the median of RUNS batches of CALLS seals, a fresh counter each. */
#define RUNS 11
#define CALLS 50000

static uint8_t key[CG_AEAD_KEY_LEN] = { 1 }, ad[16] = { 2 }, msg[1500], out[1500];

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* One seal of @len bytes with counter @ctr: capgate's (@a) or, with a NULL @a, libsodium's. */
static void seal(struct aead *a, enum cg_cipher c, const crypto_aead_aes256gcm_state *st,
		 uint64_t ctr, size_t len, uint8_t *tag)
{
	uint8_t nonce[CG_AEAD_NONCE_LEN];
	unsigned long long tl;

	if (a) {
		aead_seal(a, ctr, ad, sizeof(ad), msg, len, out, tag);
		return;
	}
	aead_nonce(ctr, nonce);
	if (c == CG_CIPHER_CHACHA20_POLY1305)
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(out, tag, &tl, msg, len, ad,
								   sizeof(ad), NULL, nonce, key);
	else
		crypto_aead_aes256gcm_encrypt_detached_afternm(out, tag, &tl, msg, len, ad,
							       sizeof(ad), NULL, nonce, st);
}

static double time_seal(struct aead *a, enum cg_cipher c, const crypto_aead_aes256gcm_state *st,
			size_t len)
{
	double ns[RUNS], t;
	uint64_t ctr = 1;
	uint8_t tag[16];
	int r, i;

	for (r = 0; r < RUNS; r++) {
		uint64_t t0 = mono_ns();

		for (i = 0; i < CALLS; i++)
			seal(a, c, st, ctr++, len, tag);
		ns[r] = (double)(mono_ns() - t0) / CALLS;
	}
	for (r = 1; r < RUNS; r++)
		for (i = r; i > 0 && ns[i] < ns[i - 1]; i--) {
			t = ns[i];
			ns[i] = ns[i - 1];
			ns[i - 1] = t;
		}
	return ns[RUNS / 2];
}

int main(void)
{
	static const size_t sizes[] = { 64, 512, 1400 };
	static const enum cg_cipher ciphers[] = { CG_CIPHER_CHACHA20_POLY1305,
						  CG_CIPHER_AES256_GCM };
	crypto_aead_aes256gcm_state st;
	size_t i, k;

	if (sodium_init() < 0)
		return 1;
	memset(msg, 7, sizeof(msg));
	printf("AEAD seal, ns a packet: median of %d x %d seals, 16-byte header as additional "
	       "data\n\n",
	       RUNS, CALLS);
	printf("| %-18s | %5s | %17s | %13s | %5s |\n", "cipher", "bytes", "capgate (OpenSSL)",
	       "libsodium", "ratio");
	printf("|--------------------|-------|-------------------|---------------|-------|\n");
	for (k = 0; k < sizeof(ciphers) / sizeof(ciphers[0]); k++) {
		struct aead *a;

		if (ciphers[k] == CG_CIPHER_AES256_GCM) {
			if (!aead_aes_available()) {
				printf("| %-18s | no AES instructions on this CPU |\n",
				       cipher_name(ciphers[k]));
				continue;
			}
			crypto_aead_aes256gcm_beforenm(&st, key);
		}
		a = aead_new(ciphers[k], key, true);
		if (!a)
			return 1;
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			double ours = time_seal(a, ciphers[k], &st, sizes[i]);
			double theirs = time_seal(NULL, ciphers[k], &st, sizes[i]);

			printf("| %-18s | %5zu | %17.0f | %13.0f | %5.2f |\n",
			       cipher_name(ciphers[k]), sizes[i], ours, theirs, theirs / ours);
		}
		aead_free(a);
	}
	return 0;
}
