/* SPDX-License-Identifier: GPL-2.0 */
/* TLS 1.3 with mutual Ed25519 or P-256 X.509 certificates (OpenSSL), the keying exporter. */
#ifndef CG_AUTH_TLS_H
#define CG_AUTH_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "lib/tunnel/keys.h" /* CG_EXPORTER_LABEL, CG_EXPORTER_LEN (DESIGN §3) */

#define TLS_MATERIAL_LEN CG_EXPORTER_LEN

/* The signature algorithms of handshakes and certificates, both ends. */
#define TLS_SIGALGS "ed25519:ecdsa_secp256r1_sha256"
/* Intermediate CAs a chain may have between the leaf and the trust anchor. */
#define TLS_VERIFY_DEPTH 4

/*
 * Server context: TLS 1.3 only, TLS_SIGALGS signatures only, a client
 * certificate chaining to ca is required (SSL_VERIFY_PEER |
 * SSL_VERIFY_FAIL_IF_NO_PEER_CERT, purpose sslclient so a clientAuth EKU),
 * no session tickets or resumption. cert may hold the leaf followed by its
 * intermediates (sent to the peer); ca the trust anchors; chains up to
 * TLS_VERIFY_DEPTH intermediates deep. The key (Ed25519 or P-256) file must
 * not be readable by group or others. Returns a new SSL_CTX (SSL_CTX_free it), or NULL with
 * errno set and a reason in err.
 */
SSL_CTX *tls_server_ctx(const char *ca, const char *cert, const char *key, char *err,
			size_t errlen);

/*
 * Client context: the same settings; verifies the gateway's certificate
 * against ca (purpose sslserver, so a serverAuth EKU). The name check is per
 * connection: tls_client_expect(). Returns a new SSL_CTX or NULL as above.
 */
SSL_CTX *tls_client_ctx(const char *ca, const char *cert, const char *key, char *err,
			size_t errlen);

/*
 * The gateway certificate must name host: an IP address is checked against
 * the SAN's IP entries, anything else against its DNS entries (and sent as
 * SNI). Returns 0 or -EINVAL.
 */
int tls_client_expect(SSL *ssl, const char *host);

/*
 * 64 bytes of keying material (RFC 8446 §7.5) with label CG_EXPORTER_LABEL and
 * context = the session id as 4 big-endian bytes. Both ends of one connection
 * get the same bytes for the same id. Returns 0 or -EIO; out is written only
 * on success. The caller wipes out.
 */
int tls_export_material(SSL *ssl, uint32_t session_id, uint8_t out[TLS_MATERIAL_LEN]);

/*
 * The OpenSSL error queue as one line ("prefix: reason; reason") into buf,
 * emptying the queue. Returns buf.
 */
const char *tls_err_text(const char *prefix, char *buf, size_t len);

/*
 * True if pkey is Ed25519 or EC on P-256 (prime256v1), the key types capgate
 * uses everywhere; else false with the reason in why ("an RSA key: ...",
 * "an EC key on curve secp384r1: ...").
 */
bool tls_key_ok(const EVP_PKEY *pkey, char *why, size_t len);

/*
 * Opens a private key file, refusing (EPERM) one readable or writable by
 * group or others or owned by another user than the effective uid (root for
 * the daemon), and reads the PEM key from that same open file. Returns
 * the key (Ed25519 or P-256, tls_key_ok; EVP_PKEY_free it) or NULL with errno set and a reason in
 * err.
 */
EVP_PKEY *tls_load_key(const char *path, char *err, size_t errlen);

#endif
