/* SPDX-License-Identifier: GPL-2.0 */
/* TLS 1.3 with mutual Ed25519 X.509 certificates (OpenSSL), and the keying-material exporter. */
#ifndef CG_AUTH_TLS_H
#define CG_AUTH_TLS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "lib/tunnel/keys.h" /* CG_EXPORTER_LABEL, CG_EXPORTER_LEN (DESIGN §3) */

#define TLS_MATERIAL_LEN CG_EXPORTER_LEN

/*
 * Server context: TLS 1.3 only, Ed25519 signatures only, a client
 * certificate chaining to ca is required (SSL_VERIFY_PEER |
 * SSL_VERIFY_FAIL_IF_NO_PEER_CERT, purpose sslclient so a clientAuth EKU),
 * no session tickets or resumption. The key file must not be readable by
 * group or others. Returns a new SSL_CTX (SSL_CTX_free it), or NULL with
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
 * The verified peer certificate's subject CN into buf (NUL-terminated).
 * Returns 0, -ENOENT (no verified certificate or no CN), -ENAMETOOLONG, or
 * -EINVAL (a CN with an embedded NUL or more than one CN).
 */
int tls_peer_cn(SSL *ssl, char *buf, size_t len);

#define TLS_SERIAL_MAX 20 /* bytes of a certificate serial (RFC 5280) */
#define TLS_ISSUER_LEN 32 /* SHA-256 of an issuer name's DER */

/*
 * A certificate serial as its big-endian magnitude without leading zero
 * bytes (zero: one byte). 0, or -EINVAL for one longer than TLS_SERIAL_MAX.
 */
int tls_serial_bytes(const ASN1_INTEGER *serial, uint8_t out[TLS_SERIAL_MAX], uint8_t *len);
/* SHA-256 of the name's DER encoding (how revocations name an issuer). 0 or -EIO. */
int tls_name_sha256(const X509_NAME *name, uint8_t out[TLS_ISSUER_LEN]);
/*
 * The verified peer certificate's serial (tls_serial_bytes) and issuer
 * (tls_name_sha256). 0, -ENOENT (no verified certificate), -EINVAL or -EIO.
 */
int tls_peer_serial(SSL *ssl, uint8_t serial[TLS_SERIAL_MAX], uint8_t *serial_len,
		    uint8_t issuer[TLS_ISSUER_LEN]);

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
 * Opens a private key file, refusing (EPERM) one readable or writable by
 * group or others or owned by another user than the effective uid (root for
 * the daemon), and reads the PEM key from that same open file. Returns
 * the key (EVP_PKEY_free it) or NULL with errno set and a reason in err.
 */
EVP_PKEY *tls_load_key(const char *path, char *err, size_t errlen);

#endif
