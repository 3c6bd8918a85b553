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
 * Enrollment mode for a server context: a client may come without a
 * certificate (SSL_VERIFY_PEER without FAIL_IF_NO_PEER_CERT: one it sends is
 * still verified), and the first certificate of the file ca is sent in the
 * chain, for an enrolling device to pin (tls_pin_verify). 0 or -errno with a
 * reason in err.
 */
int tls_server_enroll(SSL_CTX *ctx, const char *ca, char *err, size_t errlen);

/*
 * An enrolling device's context: the same TLS settings, no certificate, and
 * no verification by the handshake (SSL_VERIFY_NONE): the caller runs
 * tls_pin_verify after SSL_connect and before it sends anything. NULL with
 * errno set and a reason in err.
 */
SSL_CTX *tls_enroll_ctx(char *err, size_t errlen);

/*
 * The gateway of a finished handshake, checked against a pinned CA: a CA
 * certificate in the presented chain whose SubjectPublicKeyInfo SHA-256 is
 * hash becomes the only trust anchor, and the leaf must verify to it
 * (X509_verify_cert, purpose sslserver, the names tls_client_expect set on
 * ssl). Returns 0 and *ca (the anchor, X509_free it), or -EACCES with the
 * reason in err.
 */
int tls_pin_verify(SSL *ssl, const uint8_t hash[32], X509 **ca, char *err, size_t errlen);

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

/* The first PEM certificate of the file at path, or NULL with errno set (EBADMSG: none). */
X509 *tls_cert_file(const char *path);

/* What the memory BIO b holds, as a NUL-terminated string into buf. 0 or -EMSGSIZE. */
int tls_bio_text(BIO *b, char *buf, size_t cap);

/*
 * Opens a private key file, refusing (EPERM) one readable or writable by
 * group or others or owned by another user than the effective uid (root for
 * the daemon), and reads the PEM key from that same open file. Returns
 * the key (Ed25519 or P-256, tls_key_ok; EVP_PKEY_free it) or NULL with errno set and a reason in
 * err.
 */
EVP_PKEY *tls_load_key(const char *path, char *err, size_t errlen);

#endif
