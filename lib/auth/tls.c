// SPDX-License-Identifier: GPL-2.0
/* TLS 1.3 contexts with mutual Ed25519 or P-256 certificates, peer names and the exporter. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "lib/auth/tls.h"
#include "lib/auth/token.h"
#include "lib/base/file.h"

const char *tls_err_text(const char *prefix, char *buf, size_t len)
{
	unsigned long e;
	size_t off;
	int n;

	if (!len)
		return buf;
	n = snprintf(buf, len, "%s", prefix ? prefix : "tls");
	off = n < 0 ? 0 : ((size_t)n < len ? (size_t)n : len - 1);
	while ((e = ERR_get_error()) != 0) {
		char one[256];

		ERR_error_string_n(e, one, sizeof(one));
		n = snprintf(buf + off, len - off, "%s%s", off ? "; " : "", one);
		if (n < 0 || (size_t)n >= len - off) {
			off = len - 1;
			continue; /* keep draining the queue */
		}
		off += (size_t)n;
	}
	return buf;
}

bool tls_key_ok(const EVP_PKEY *pkey, char *why, size_t len)
{
	char curve[64] = "";

	if (!pkey) {
		snprintf(why, len, "no key");
		return false;
	}
	if (EVP_PKEY_get_id(pkey) == EVP_PKEY_ED25519)
		return true;
	if (EVP_PKEY_get_id(pkey) == EVP_PKEY_EC) {
		if (EVP_PKEY_get_group_name(pkey, curve, sizeof(curve), NULL) == 1 &&
		    !strcmp(curve, SN_X9_62_prime256v1))
			return true;
		snprintf(why, len,
			 "an EC key on curve %s: capgate takes Ed25519 or ECDSA P-256 keys",
			 curve[0] ? curve : "(unknown)");
		return false;
	}
	snprintf(why, len, "a%s %s key: capgate takes Ed25519 or ECDSA P-256 keys",
		 EVP_PKEY_get_id(pkey) == EVP_PKEY_RSA ? "n" : "",
		 EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "unknown");
	return false;
}

EVP_PKEY *tls_load_key(const char *path, char *err, size_t errlen)
{
	char why_key[128];
	EVP_PKEY *pkey = NULL;
	FILE *f = NULL;
	int fd = -1, e = 0;

	fd = file_open_secret(path, "a private key", err, errlen);
	if (fd < 0) {
		e = -fd;
		goto out;
	}
	f = fdopen(fd, "r");
	if (!f) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		goto out;
	}
	fd = -1;
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	if (!pkey) {
		char why[256];

		e = EINVAL;
		snprintf(err, errlen, "%s: %s", path,
			 tls_err_text("not a PEM private key", why, sizeof(why)));
		goto out;
	}
	if (!tls_key_ok(pkey, why_key, sizeof(why_key))) {
		e = EINVAL;
		snprintf(err, errlen, "%s: %s", path, why_key);
		EVP_PKEY_free(pkey);
		pkey = NULL;
		goto out;
	}
out:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (!pkey)
		errno = e ? e : EINVAL;
	return pkey;
}

/* TLS 1.3 only, the signature algorithms, no resumption: what every capgate context holds. */
static SSL_CTX *ctx_base(bool server, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	char why[512];

	if (!ctx) {
		snprintf(err, errlen, "%s", tls_err_text("SSL_CTX_new", why, sizeof(why)));
		errno = ENOMEM;
		return NULL;
	}
	/* TLS 1.3 only, Ed25519 and ECDSA P-256 signatures only (handshake and certificates). */
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set1_sigalgs_list(ctx, TLS_SIGALGS)) {
		snprintf(err, errlen, "%s", tls_err_text("TLS settings", why, sizeof(why)));
		SSL_CTX_free(ctx);
		errno = EINVAL;
		return NULL;
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return ctx;
}

static SSL_CTX *ctx_new(bool server, const char *ca, const char *cert, const char *key, char *err,
			size_t errlen)
{
	char why[512];
	SSL_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	int e = EINVAL;

	ERR_clear_error();
	pkey = tls_load_key(key, err, errlen);
	if (!pkey) {
		e = errno;
		goto out;
	}
	ctx = ctx_base(server, err, errlen);
	if (!ctx) {
		e = errno;
		goto out;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		snprintf(err, errlen, "%s: %s", cert,
			 tls_err_text("certificate", why, sizeof(why)));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey(ctx, pkey) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "%s: %s", key,
			 tls_err_text("key does not match the certificate", why, sizeof(why)));
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		snprintf(err, errlen, "%s: %s", ca, tls_err_text("CA", why, sizeof(why)));
		goto fail;
	}
	SSL_CTX_set_verify_depth(ctx, TLS_VERIFY_DEPTH);
	if (server) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);

		if (!names) {
			snprintf(err, errlen, "%s: %s", ca,
				 tls_err_text("CA names", why, sizeof(why)));
			goto fail;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
		/* Every connection authenticates in full: no tickets to resume with. */
		SSL_CTX_set_num_tickets(ctx, 0);
		if (!SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT)) {
			snprintf(err, errlen, "%s", tls_err_text("purpose", why, sizeof(why)));
			goto fail;
		}
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (!SSL_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER)) {
			snprintf(err, errlen, "%s", tls_err_text("purpose", why, sizeof(why)));
			goto fail;
		}
	}
	goto out;
fail:
	SSL_CTX_free(ctx);
	ctx = NULL;
	e = EINVAL;
out:
	EVP_PKEY_free(pkey);
	if (!ctx)
		errno = e;
	return ctx;
}

SSL_CTX *tls_server_ctx(const char *ca, const char *cert, const char *key, char *err, size_t errlen)
{
	return ctx_new(true, ca, cert, key, err, errlen);
}

SSL_CTX *tls_client_ctx(const char *ca, const char *cert, const char *key, char *err, size_t errlen)
{
	return ctx_new(false, ca, cert, key, err, errlen);
}

int tls_client_expect(SSL *ssl, const char *host)
{
	unsigned char a[16];
	X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);

	if (!host || !*host || !vp)
		return -EINVAL;
	if (inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1) {
		if (X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1)
			return -EINVAL;
		return 0;
	}
	X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (SSL_set1_host(ssl, host) != 1 || SSL_set_tlsext_host_name(ssl, host) != 1)
		return -EINVAL;
	return 0;
}

int tls_export_material(SSL *ssl, uint32_t session_id, uint8_t out[TLS_MATERIAL_LEN])
{
	uint8_t ctx[4] = { (uint8_t)(session_id >> 24), (uint8_t)(session_id >> 16),
			   (uint8_t)(session_id >> 8), (uint8_t)session_id };
	uint8_t m[TLS_MATERIAL_LEN];
	int ret = -EIO;

	if (!SSL_is_init_finished(ssl))
		goto out;
	if (SSL_export_keying_material(ssl, m, sizeof(m), CG_EXPORTER_LABEL,
				       strlen(CG_EXPORTER_LABEL), ctx, sizeof(ctx), 1) != 1)
		goto out;
	memcpy(out, m, sizeof(m));
	ret = 0;
out:
	sodium_memzero(m, sizeof(m));
	return ret;
}

X509 *tls_cert_file(const char *path)
{
	FILE *f = fopen(path, "re");
	X509 *x;
	int e;

	if (!f)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	e = errno;
	fclose(f);
	ERR_clear_error();
	errno = x ? e : EBADMSG;
	return x;
}

int tls_bio_text(BIO *b, char *buf, size_t cap)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);

	if (n < 0 || (size_t)n >= cap)
		return -EMSGSIZE;
	memcpy(buf, p, (size_t)n);
	buf[n] = '\0';
	return 0;
}

int tls_server_enroll(SSL_CTX *ctx, const char *ca, char *err, size_t errlen)
{
	X509 *x = tls_cert_file(ca);
	int ret = -EINVAL;

	if (!x && errno != EBADMSG) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", ca, strerror(errno));
		return ret;
	}
	if (!x || SSL_CTX_add1_chain_cert(ctx, x) != 1) {
		char why[256];

		snprintf(err, errlen, "%s: %s", ca,
			 tls_err_text("CA for the chain", why, sizeof(why)));
		goto out;
	}
	/* A certificate, if sent, is still verified in full; only its absence is let through. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	ret = 0;
out:
	X509_free(x);
	return ret;
}

SSL_CTX *tls_enroll_ctx(char *err, size_t errlen)
{
	SSL_CTX *ctx = ctx_base(false, err, errlen);

	/* Nothing verified by the handshake: tls_pin_verify does it, before a byte is sent. */
	if (ctx)
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;
}

/* The certificate of chain whose SPKI SHA-256 is hash, and that is a CA; NULL if none. */
static X509 *chain_find(STACK_OF(X509) * chain, const uint8_t hash[TOKEN_HASH_LEN])
{
	uint8_t h[TOKEN_HASH_LEN];
	int i;

	for (i = 0; i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);

		if (!token_spki_hash(x, h) && !CRYPTO_memcmp(h, hash, sizeof(h)) &&
		    X509_check_ca(x) == 1)
			return x;
	}
	return NULL;
}

int tls_pin_verify(SSL *ssl, const uint8_t hash[TOKEN_HASH_LEN], X509 **ca, char *err,
		   size_t errlen)
{
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	X509_STORE_CTX *sctx = NULL;
	X509_STORE *store = NULL;
	X509 *leaf = SSL_get0_peer_certificate(ssl), *anchor;
	int ret = -EACCES;

	anchor = chain ? chain_find(chain, hash) : NULL;
	if (!leaf || !anchor) {
		snprintf(err, errlen,
			 "the gateway presented no CA certificate with the token's hash: not the "
			 "gateway the token was made for");
		goto out;
	}
	store = X509_STORE_new();
	sctx = X509_STORE_CTX_new();
	if (!store || !sctx || X509_STORE_add_cert(store, anchor) != 1 ||
	    X509_STORE_CTX_init(sctx, store, leaf, chain) != 1 ||
	    X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(sctx), SSL_get0_param(ssl)) != 1 ||
	    X509_STORE_CTX_set_purpose(sctx, X509_PURPOSE_SSL_SERVER) != 1) {
		ret = -ENOMEM;
		tls_err_text("verify setup", err, errlen);
		goto out;
	}
	X509_STORE_CTX_set_depth(sctx, TLS_VERIFY_DEPTH);
	if (X509_verify_cert(sctx) != 1) {
		snprintf(err, errlen, "gateway certificate: %s",
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(sctx)));
		goto out;
	}
	if (!X509_up_ref(anchor))
		goto out;
	*ca = anchor;
	ret = 0;
out:
	X509_STORE_CTX_free(sctx);
	X509_STORE_free(store);
	ERR_clear_error();
	return ret;
}
