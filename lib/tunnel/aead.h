/* SPDX-License-Identifier: GPL-2.0 */
/* Encrypted mode's AEAD (DESIGN.md §3): seal and open one packet under one direction's key. */
#ifndef CG_TUNNEL_AEAD_H
#define CG_TUNNEL_AEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CG_AEAD_KEY_LEN 32
#define CG_AEAD_NONCE_LEN 12
#define CG_AEAD_TAG_LEN 16
/*
 * The last counter a sender may use under one key: it renews its session
 * before, and refuses to send past it rather than wrap (DESIGN.md §3).
 */
#define CG_AEAD_COUNTER_MAX ((1ULL << 60) - 1)

/* The capability names one (wire value; 0 is integrity mode, no AEAD). */
enum cg_cipher {
	CG_CIPHER_CHACHA20_POLY1305 = 1, /* RFC 8439, everywhere */
	CG_CIPHER_AES256_GCM = 2,	 /* where both ends have AES instructions */
};

/*
 * One direction's key, ready to seal or open: an OpenSSL EVP context set up
 * once with cipher and key, so a packet costs the nonce and the data only
 * (docs/tunnel.md says why OpenSSL and not libsodium, with the numbers).
 * Not thread-safe: one per worker and direction.
 */
struct aead;

/* NULL with errno EINVAL (unknown cipher, NULL key) or ENOMEM/EIO. */
struct aead *aead_new(enum cg_cipher cipher, const uint8_t key[CG_AEAD_KEY_LEN], bool seal);
/*
 * Puts another key (and cipher) in place, for a worker that serves many
 * sessions with one context per direction. 0, -EINVAL or -EIO.
 */
int aead_set_key(struct aead *a, enum cg_cipher cipher, const uint8_t key[CG_AEAD_KEY_LEN]);
/* Wipes the key schedule. NULL is fine. */
void aead_free(struct aead *a);

/* The wire nonce of a counter: 4 zero bytes || counter, big-endian. */
void aead_nonce(uint64_t counter, uint8_t nonce[CG_AEAD_NONCE_LEN]);

/*
 * Seal @len bytes of @in into @out (the same length; in == out is fine) and
 * write the tag, with additional data @ad (the tunnel header). Counter 0 and
 * counters past CG_AEAD_COUNTER_MAX are refused (-ERANGE) before anything is
 * written; -EINVAL for an opener or bad arguments, -EIO if OpenSSL fails.
 */
int aead_seal(struct aead *a, uint64_t counter, const uint8_t *ad, size_t adlen, const uint8_t *in,
	      size_t len, uint8_t *out, uint8_t tag[CG_AEAD_TAG_LEN]);

/*
 * Open: -EBADMSG if the tag does not verify (@out then holds no plaintext:
 * it is zeroed), -ERANGE for counter 0 or past the limit, -EINVAL, -EIO.
 */
int aead_open(struct aead *a, uint64_t counter, const uint8_t *ad, size_t adlen, const uint8_t *in,
	      size_t len, uint8_t *out, const uint8_t tag[CG_AEAD_TAG_LEN]);

/* The same with a whole 12-byte nonce, for test vectors (RFC 8439 §2.8.2). */
int aead_seal_nonce(struct aead *a, const uint8_t nonce[CG_AEAD_NONCE_LEN], const uint8_t *ad,
		    size_t adlen, const uint8_t *in, size_t len, uint8_t *out,
		    uint8_t tag[CG_AEAD_TAG_LEN]);
int aead_open_nonce(struct aead *a, const uint8_t nonce[CG_AEAD_NONCE_LEN], const uint8_t *ad,
		    size_t adlen, const uint8_t *in, size_t len, uint8_t *out,
		    const uint8_t tag[CG_AEAD_TAG_LEN]);

/* True if this CPU has the instructions AES-256-GCM needs to be fast and constant-time. */
bool aead_aes_available(void);

/* "chacha20-poly1305", "aes-256-gcm", or NULL. */
const char *cipher_name(enum cg_cipher cipher);
/* The cipher cipher_name() calls name (exactly, case matters), or 0 for any other string. */
enum cg_cipher cipher_by_name(const char *name);

#endif
