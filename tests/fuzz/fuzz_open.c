// SPDX-License-Identifier: GPL-2.0
/* libFuzzer harness for the open path at the crypto level: wire_parse, then aead_open, fixed keys.
 *
 * Arbitrary bytes are parsed as a tunnel packet and opened with each cipher
 * (AES-256-GCM where the CPU has it) under a fixed key. Never a crash, and
 * never an accept of a packet the key did not seal: an accepted packet must
 * seal back, from its plaintext, to exactly its bytes (the AEAD is
 * deterministic for one key and nonce), and libsodium must agree with every
 * verdict. A refusal leaves no plaintext. wire_parse refuses the encrypted
 * flag until the data path takes it, so the seeds carry both flag values.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/tunnel/aead.h"
#include "lib/tunnel/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The seeds in tests/fuzz/seeds/fuzz_open/ are sealed with this key. */
static const uint8_t fixed_key[CG_AEAD_KEY_LEN] = {
	0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a,
	0x8b, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95,
	0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f,
};

#define MAX_INNER 65536

struct side {
	enum cg_cipher cipher;
	struct aead *open, *seal;
};

static int oracle(enum cg_cipher c, const struct wire_view *v, const uint8_t *hdr, uint8_t *out)
{
	uint8_t nonce[CG_AEAD_NONCE_LEN];

	aead_nonce(v->counter, nonce);
	if (c == CG_CIPHER_CHACHA20_POLY1305)
		return crypto_aead_chacha20poly1305_ietf_decrypt_detached(
			out, NULL, v->inner, v->inner_len, v->tag, hdr, CG_TUN_HDR_LEN, nonce,
			fixed_key);
	return crypto_aead_aes256gcm_decrypt_detached(out, NULL, v->inner, v->inner_len, v->tag,
						      hdr, CG_TUN_HDR_LEN, nonce, fixed_key);
}

static void open_one(struct side *s, const uint8_t *pkt, const struct wire_view *v)
{
	static uint8_t plain[MAX_INNER], again[MAX_INNER], ref[MAX_INNER];
	uint8_t tag[CG_AEAD_TAG_LEN];
	int got, want;
	size_t i;

	memset(plain, 0xa5, v->inner_len);
	got = aead_open(s->open, v->counter, pkt, CG_TUN_HDR_LEN, v->inner, v->inner_len, plain,
			v->tag);
	if (v->counter == 0 || v->counter > CG_AEAD_COUNTER_MAX) {
		if (got != -ERANGE)
			abort();
		return;
	}
	want = oracle(s->cipher, v, pkt, ref);
	if (got != 0 && got != -EBADMSG)
		abort();
	if ((got == 0) != (want == 0))
		abort();
	if (got) {
		for (i = 0; i < v->inner_len; i++)
			if (plain[i])
				abort();
		return;
	}
	if (memcmp(plain, ref, v->inner_len) ||
	    aead_seal(s->seal, v->counter, pkt, CG_TUN_HDR_LEN, plain, v->inner_len, again, tag) ||
	    memcmp(again, v->inner, v->inner_len) || memcmp(tag, v->tag, CG_AEAD_TAG_LEN))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct side sides[2];
	static size_t nsides;
	struct wire_view v;
	size_t i;

	if (!nsides) {
		if (sodium_init() < 0)
			abort();
		sides[nsides++] = (struct side){ CG_CIPHER_CHACHA20_POLY1305 };
		if (aead_aes_available() && crypto_aead_aes256gcm_is_available())
			sides[nsides++] = (struct side){ CG_CIPHER_AES256_GCM };
		for (i = 0; i < nsides; i++) {
			sides[i].open = aead_new(sides[i].cipher, fixed_key, false);
			sides[i].seal = aead_new(sides[i].cipher, fixed_key, true);
			if (!sides[i].open || !sides[i].seal)
				abort();
		}
	}
	if (wire_parse(data, size, &v) != TUN_OK || v.inner_len > MAX_INNER)
		return 0;
	for (i = 0; i < nsides; i++)
		open_one(&sides[i], data, &v);
	return 0;
}
