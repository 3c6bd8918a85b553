/* SPDX-License-Identifier: GPL-2.0 */
/* SipHash-2-4-128 reference (Aumasson & Bernstein) and the paper's test vectors, for tests. */
#ifndef CG_TESTS_SIPREF_H
#define CG_TESTS_SIPREF_H

#include <stddef.h>
#include <stdint.h>

/*
 * The reference vectors (vectors.h of github.com/veorq/SipHash,
 * vectors_sip128): key 00 01 .. 0f, message i = the i bytes 00 01 .. (i-1),
 * output 16 bytes. Any SipHash-2-4-128 (libsodium's
 * crypto_shorthash_siphashx24, the gate's BPF one) must reproduce them.
 */
#define SIPREF_NVECTORS 64
extern const uint8_t sipref_key[16];
extern const uint8_t sipref_vectors128[SIPREF_NVECTORS][16];

/* Fill buf with the vectors' message pattern: buf[i] = i & 0xff. */
void sipref_msg(uint8_t *buf, size_t len);

/*
 * SipHash-2-4 with 128-bit output, written after the paper's reference
 * code: an implementation independent of libsodium, to compare against.
 */
void sipref_128(const uint8_t *in, size_t len, const uint8_t key[16], uint8_t out[16]);

#endif
