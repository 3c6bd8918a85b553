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
	ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!ctx) {
		e = ENOMEM;
		snprintf(err, errlen, "%s", tls_err_text("SSL_CTX_new", why, sizeof(why)));
		goto out;
	}
	/* TLS 1.3 only, Ed25519 and ECDSA P-256 signatures only (handshake and certificates). */
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set1_sigalgs_list(ctx, TLS_SIGALGS)) {
		snprintf(err, errlen, "%s", tls_err_text("TLS settings", why, sizeof(why)));
		goto fail;
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
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
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
