// SPDX-License-Identifier: GPL-2.0
/* TLS 1.3 contexts with mutual Ed25519 certificates, peer names and the exporter. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "lib/auth/tls.h"

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

/* "uid 0 (root)", or "uid N" if no user has that id. */
static const char *uid_text(uid_t uid, char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char names[1024];

	if (getpwuid_r(uid, &pw, names, sizeof(names), &res) || !res)
		snprintf(buf, len, "uid %u", (unsigned int)uid);
	else
		snprintf(buf, len, "uid %u (%s)", (unsigned int)uid, res->pw_name);
	return buf;
}

EVP_PKEY *tls_load_key(const char *path, char *err, size_t errlen)
{
	EVP_PKEY *pkey = NULL;
	FILE *f = NULL;
	struct stat st;
	int fd = -1, e = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		goto out;
	}
	if (fstat(fd, &st)) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		e = EINVAL;
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	/* STYLE §5: a key others can read is a key others may have. */
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		e = EPERM;
		snprintf(err, errlen,
			 "%s: mode %04o: a private key must not be accessible by group or others "
			 "(chmod 600)",
			 path, (unsigned int)(st.st_mode & 07777));
		goto out;
	}
	/* A key another user can rewrite is theirs to choose, whatever its mode. */
	if (st.st_uid != geteuid()) {
		char have[64], want[64];

		e = EPERM;
		snprintf(err, errlen,
			 "%s: owned by %s, expected %s (the user capgate runs as): a key another "
			 "user can rewrite is refused (chown)",
			 path, uid_text(st.st_uid, have, sizeof(have)),
			 uid_text(geteuid(), want, sizeof(want)));
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
	if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
		e = EINVAL;
		snprintf(err, errlen, "%s: not an Ed25519 key", path);
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
	/* TLS 1.3 only, Ed25519 signatures only (handshake and certificates). */
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set1_sigalgs_list(ctx, "ed25519")) {
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
	SSL_CTX_set_verify_depth(ctx, 2);
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

int tls_peer_cn(SSL *ssl, char *buf, size_t len)
{
	X509 *peer = NULL;
	X509_NAME *name;
	X509_NAME_ENTRY *ent;
	ASN1_STRING *data;
	unsigned char *utf8 = NULL;
	int idx, n, ret = -ENOENT;

	if (SSL_get_verify_result(ssl) != X509_V_OK)
		goto out;
	peer = SSL_get1_peer_certificate(ssl);
	if (!peer)
		goto out;
	name = X509_get_subject_name(peer);
	idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (idx < 0)
		goto out;
	ret = -EINVAL;
	if (X509_NAME_get_index_by_NID(name, NID_commonName, idx) >= 0)
		goto out;
	ent = X509_NAME_get_entry(name, idx);
	data = ent ? X509_NAME_ENTRY_get_data(ent) : NULL;
	n = data ? ASN1_STRING_to_UTF8(&utf8, data) : -1;
	if (n < 0)
		goto out;
	if (memchr(utf8, '\0', (size_t)n))
		goto out;
	ret = -ENAMETOOLONG;
	if ((size_t)n >= len)
		goto out;
	memcpy(buf, utf8, (size_t)n);
	buf[n] = '\0';
	ret = 0;
out:
	OPENSSL_free(utf8);
	X509_free(peer);
	return ret;
}

int tls_serial_bytes(const ASN1_INTEGER *serial, uint8_t out[TLS_SERIAL_MAX], uint8_t *len)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
	int n = bn ? BN_num_bytes(bn) : -1, ret = -EINVAL;

	if (n >= 0 && n <= TLS_SERIAL_MAX) {
		if (n == 0)
			out[n++] = 0;
		else
			BN_bn2bin(bn, out);
		*len = (uint8_t)n;
		ret = 0;
	}
	BN_free(bn);
	return ret;
}

int tls_name_sha256(const X509_NAME *name, uint8_t out[TLS_ISSUER_LEN])
{
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	int n = i2d_X509_NAME(name, &der), ok;

	ok = n > 0 && EVP_Digest(der, (size_t)n, out, &mdlen, EVP_sha256(), NULL) == 1 &&
	     mdlen == TLS_ISSUER_LEN;
	OPENSSL_free(der);
	return ok ? 0 : -EIO;
}

int tls_peer_serial(SSL *ssl, uint8_t serial[TLS_SERIAL_MAX], uint8_t *serial_len,
		    uint8_t issuer[TLS_ISSUER_LEN])
{
	X509 *peer =
		SSL_get_verify_result(ssl) == X509_V_OK ? SSL_get1_peer_certificate(ssl) : NULL;
	int ret =
		peer ? tls_serial_bytes(X509_get0_serialNumber(peer), serial, serial_len) : -ENOENT;

	if (!ret)
		ret = tls_name_sha256(X509_get_issuer_name(peer), issuer);
	X509_free(peer);
	return ret;
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
