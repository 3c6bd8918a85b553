// SPDX-License-Identifier: GPL-2.0
/* Encrypted mode's AEAD through OpenSSL EVP, one context per direction's key. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "lib/tunnel/aead.h"

struct aead {
	EVP_CIPHER_CTX *ctx;
	bool seal;
};

static const EVP_CIPHER *cipher_of(enum cg_cipher cipher)
{
	switch (cipher) {
	case CG_CIPHER_CHACHA20_POLY1305:
		return EVP_chacha20_poly1305();
	case CG_CIPHER_AES256_GCM:
		return EVP_aes_256_gcm();
	}
	return NULL;
}

const char *cipher_name(enum cg_cipher cipher)
{
	switch (cipher) {
	case CG_CIPHER_CHACHA20_POLY1305:
		return "chacha20-poly1305";
	case CG_CIPHER_AES256_GCM:
		return "aes-256-gcm";
	}
	return NULL;
}

enum cg_cipher cipher_by_name(const char *name)
{
	enum cg_cipher c;

	for (c = CG_CIPHER_CHACHA20_POLY1305; cipher_name(c); c++)
		if (!strcmp(cipher_name(c), name))
			return c;
	return 0;
}

bool aead_aes_available(void)
{
	/* libsodium's probe: AES-NI and PCLMULQDQ (x86), or the ARMv8 crypto extensions. */
	return sodium_init() >= 0 && crypto_aead_aes256gcm_is_available();
}

struct aead *aead_new(enum cg_cipher cipher, const uint8_t key[CG_AEAD_KEY_LEN], bool seal)
{
	const EVP_CIPHER *c = cipher_of(cipher);
	struct aead *a;
	int ok;

	if (!c || !key) {
		errno = EINVAL;
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a || !(a->ctx = EVP_CIPHER_CTX_new())) {
		free(a);
		errno = ENOMEM;
		return NULL;
	}
	a->seal = seal;
	ok = seal ? EVP_EncryptInit_ex(a->ctx, c, NULL, key, NULL)
		  : EVP_DecryptInit_ex(a->ctx, c, NULL, key, NULL);
	if (ok != 1 || EVP_CIPHER_CTX_iv_length(a->ctx) != CG_AEAD_NONCE_LEN) {
		aead_free(a);
		errno = EIO;
		return NULL;
	}
	return a;
}

int aead_set_key(struct aead *a, enum cg_cipher cipher, const uint8_t key[CG_AEAD_KEY_LEN])
{
	const EVP_CIPHER *c = cipher_of(cipher);
	int ok;

	if (!a || !c || !key)
		return -EINVAL;
	ok = a->seal ? EVP_EncryptInit_ex(a->ctx, c, NULL, key, NULL)
		     : EVP_DecryptInit_ex(a->ctx, c, NULL, key, NULL);
	return ok == 1 ? 0 : -EIO;
}

void aead_free(struct aead *a)
{
	if (!a)
		return;
	EVP_CIPHER_CTX_free(a->ctx); /* clears the key schedule */
	free(a);
}

void aead_nonce(uint64_t counter, uint8_t nonce[CG_AEAD_NONCE_LEN])
{
	int i;

	memset(nonce, 0, 4);
	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (56 - 8 * i));
}

static bool args_ok(const struct aead *a, bool seal, const uint8_t *ad, size_t adlen,
		    const uint8_t *in, size_t len, const uint8_t *out)
{
	return a && a->seal == seal && (ad || !adlen) && (in || !len) && (out || !len) &&
	       adlen <= INT_MAX && len <= INT_MAX;
}

int aead_seal_nonce(struct aead *a, const uint8_t nonce[CG_AEAD_NONCE_LEN], const uint8_t *ad,
		    size_t adlen, const uint8_t *in, size_t len, uint8_t *out,
		    uint8_t tag[CG_AEAD_TAG_LEN])
{
	int n;

	if (!args_ok(a, true, ad, adlen, in, len, out) || !nonce || !tag)
		return -EINVAL;
	if (EVP_EncryptInit_ex(a->ctx, NULL, NULL, NULL, nonce) != 1 ||
	    (adlen && EVP_EncryptUpdate(a->ctx, NULL, &n, ad, (int)adlen) != 1) ||
	    (len && EVP_EncryptUpdate(a->ctx, out, &n, in, (int)len) != 1) ||
	    EVP_EncryptFinal_ex(a->ctx, out + len, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_GET_TAG, CG_AEAD_TAG_LEN, tag) != 1)
		return -EIO;
	return 0;
}

int aead_open_nonce(struct aead *a, const uint8_t nonce[CG_AEAD_NONCE_LEN], const uint8_t *ad,
		    size_t adlen, const uint8_t *in, size_t len, uint8_t *out,
		    const uint8_t tag[CG_AEAD_TAG_LEN])
{
	uint8_t t[CG_AEAD_TAG_LEN];
	int n, err = 0;

	if (!args_ok(a, false, ad, adlen, in, len, out) || !nonce || !tag)
		return -EINVAL;
	memcpy(t, tag, sizeof(t));
	if (EVP_DecryptInit_ex(a->ctx, NULL, NULL, NULL, nonce) != 1 ||
	    EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_TAG, CG_AEAD_TAG_LEN, t) != 1 ||
	    (adlen && EVP_DecryptUpdate(a->ctx, NULL, &n, ad, (int)adlen) != 1) ||
	    (len && EVP_DecryptUpdate(a->ctx, out, &n, in, (int)len) != 1))
		err = -EIO;
	else if (EVP_DecryptFinal_ex(a->ctx, out + len, &n) != 1)
		err = -EBADMSG;
	/* No unauthenticated plaintext leaves. */
	if (err && len)
		OPENSSL_cleanse(out, len);
	return err;
}

int aead_seal(struct aead *a, uint64_t counter, const uint8_t *ad, size_t adlen, const uint8_t *in,
	      size_t len, uint8_t *out, uint8_t tag[CG_AEAD_TAG_LEN])
{
	uint8_t nonce[CG_AEAD_NONCE_LEN];

	if (!counter || counter > CG_AEAD_COUNTER_MAX)
		return -ERANGE;
	aead_nonce(counter, nonce);
	return aead_seal_nonce(a, nonce, ad, adlen, in, len, out, tag);
}

int aead_open(struct aead *a, uint64_t counter, const uint8_t *ad, size_t adlen, const uint8_t *in,
	      size_t len, uint8_t *out, const uint8_t tag[CG_AEAD_TAG_LEN])
{
	uint8_t nonce[CG_AEAD_NONCE_LEN];

	if (!counter || counter > CG_AEAD_COUNTER_MAX)
		return -ERANGE;
	aead_nonce(counter, nonce);
	return aead_open_nonce(a, nonce, ad, adlen, in, len, out, tag);
}
