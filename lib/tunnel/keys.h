/* SPDX-License-Identifier: GPL-2.0 */
/* Session keys from the TLS exporter (DESIGN.md §3): MAC keys per direction, AEAD keys via the KDF.
 */
#ifndef CG_TUNNEL_KEYS_H
#define CG_TUNNEL_KEYS_H

#include <stdint.h>

#include <openssl/ssl.h>

/* SSL_export_keying_material label; the context is the session id, 4 bytes big-endian. */
#define CG_EXPORTER_LABEL "EXPORTER-capgate-v1"
#define CG_EXPORTER_LEN 64
#define CG_EXPORTER_CTX_LEN 4
/* crypto_kdf context and subkey ids for the per-direction AEAD keys. */
#define CG_KDF_CONTEXT "capgate1"
#define CG_KDF_ID_C2S 1
#define CG_KDF_ID_S2C 2

/*
 * Everything one session needs, both directions. Both ends derive the same
 * struct: the client seals with c2s_mac and verifies with s2c_mac, the
 * gateway the other way round. Wipe with keys_wipe().
 */
struct session_keys {
	uint8_t c2s_mac[16];  /* SipHash key, client -> gateway (the gate's cg_session.key) */
	uint8_t s2c_mac[16];  /* SipHash key, gateway -> client */
	uint8_t aead_c2s[32]; /* ChaCha20-Poly1305 keys, for encrypted mode */
	uint8_t aead_s2c[32];
};

/*
 * material = the 64 exporter bytes: c2s MAC key (16) || s2c MAC key (16) ||
 * AEAD key (32). The AEAD key is not used directly: each direction gets
 * crypto_kdf_derive_from_key(32, id, "capgate1", AEAD key) with id 1 (c2s)
 * or 2 (s2c). Returns 0 and writes *out, or -EINVAL/-EIO (*out untouched).
 */
int keys_derive(const uint8_t material[CG_EXPORTER_LEN], struct session_keys *out);

/* The exporter context for a session id: its 4 bytes, big-endian. */
void keys_exporter_context(uint32_t session_id, uint8_t ctx[CG_EXPORTER_CTX_LEN]);

/*
 * SSL_export_keying_material(ssl, 64, CG_EXPORTER_LABEL, context of
 * session_id) then keys_derive. Call it on both ends of the established TLS
 * connection. Returns 0 and writes *out, -EINVAL, or -EIO if the exporter
 * fails (handshake not complete).
 */
int keys_export(SSL *ssl, uint32_t session_id, struct session_keys *out);

/* Zero the keys (sodium_memzero). NULL is fine. */
void keys_wipe(struct session_keys *k);

#endif
