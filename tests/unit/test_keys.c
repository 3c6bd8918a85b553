// SPDX-License-Identifier: GPL-2.0
/* Session keys: known-answer split and KDF, and equal keys on both ends of a real TLS 1.3
 * connection. */
#include <errno.h>

#include <openssl/ssl.h>
#include <sodium.h>

#include "lib/tunnel/keys.h"
#include "tests/lib/t.h"
#include "tests/lib/tcert.h"

/*
 * material = 00 01 .. 3f. The AEAD keys were computed independently with
 * Python's hashlib.blake2b(key=material[32:], digest_size=32,
 * salt=LE64(id) || 0^8, person=b"capgate1" || 0^8), which is what
 * crypto_kdf_derive_from_key is defined as.
 */
static const uint8_t kat_c2s[32] = { 0x0b, 0x5b, 0x3f, 0x1d, 0xac, 0xbb, 0x5b, 0xd8,
				     0x3f, 0xbb, 0x8e, 0x98, 0x18, 0x88, 0x2a, 0xe3,
				     0xcf, 0xfd, 0x03, 0x85, 0x28, 0x50, 0xe7, 0x38,
				     0xca, 0xee, 0xb0, 0xa5, 0x19, 0x6f, 0xae, 0x28 };
static const uint8_t kat_s2c[32] = { 0x62, 0x3c, 0x88, 0x38, 0xa1, 0x02, 0x5e, 0xe9,
				     0xa2, 0x71, 0xd4, 0xd6, 0x75, 0x11, 0xee, 0xf2,
				     0x19, 0xab, 0x2c, 0x28, 0x37, 0xfe, 0x45, 0x62,
				     0x93, 0x83, 0x62, 0x45, 0xe6, 0xa8, 0x20, 0xcc };

static void test_known_answer(void)
{
	uint8_t material[CG_EXPORTER_LEN], want[16];
	struct session_keys k;
	size_t i;

	for (i = 0; i < sizeof(material); i++)
		material[i] = (uint8_t)i;
	if (!ASSERT_EQ(keys_derive(material, &k), 0, "derive"))
		return;
	for (i = 0; i < 16; i++)
		want[i] = (uint8_t)i;
	ASSERT_MEMEQ(k.c2s_mac, want, 16, "c2s mac");
	for (i = 0; i < 16; i++)
		want[i] = (uint8_t)(16 + i);
	ASSERT_MEMEQ(k.s2c_mac, want, 16, "s2c mac");
	ASSERT_MEMEQ(k.aead_c2s, kat_c2s, 32, "aead c2s");
	ASSERT_MEMEQ(k.aead_s2c, kat_s2c, 32, "aead s2c");
	keys_wipe(&k);
	ASSERT_TRUE(sodium_is_zero((const unsigned char *)&k, sizeof(k)), "wiped");
	keys_wipe(NULL);
}

static void test_errors(void)
{
	struct session_keys k = { .c2s_mac = { 7 } };
	uint8_t material[CG_EXPORTER_LEN] = { 0 };

	ASSERT_EQ(keys_derive(NULL, &k), -EINVAL, "NULL material");
	ASSERT_EQ(keys_derive(material, NULL), -EINVAL, "NULL out");
	ASSERT_EQ(keys_export(NULL, 1, &k), -EINVAL, "NULL ssl");
	ASSERT_EQ(k.c2s_mac[0], 7, "untouched");
}

static void test_context(void)
{
	uint8_t ctx[4], want[4] = { 0xde, 0xad, 0xbe, 0xef };

	keys_exporter_context(0xdeadbeef, ctx);
	ASSERT_MEMEQ(ctx, want, 4, "big-endian");
	ASSERT_STREQ(CG_EXPORTER_LABEL, "EXPORTER-capgate-v1", "label");
}

/* A mutual-TLS 1.3 connection between two SSL objects over a BIO pair. */
struct tls_pair {
	EVP_PKEY *ca_key, *srv_key, *cli_key;
	X509 *ca, *srv, *cli;
	SSL_CTX *sctx, *cctx;
	SSL *s, *c;
};

static SSL_CTX *ctx_for(const SSL_METHOD *m, X509 *ca, X509 *cert, EVP_PKEY *key)
{
	SSL_CTX *ctx = SSL_CTX_new(m);

	if (!ctx)
		return NULL;
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
	    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return ctx;
}

static void pair_free(struct tls_pair *p)
{
	SSL_free(p->s);
	SSL_free(p->c);
	SSL_CTX_free(p->sctx);
	SSL_CTX_free(p->cctx);
	X509_free(p->ca);
	X509_free(p->srv);
	X509_free(p->cli);
	EVP_PKEY_free(p->ca_key);
	EVP_PKEY_free(p->srv_key);
	EVP_PKEY_free(p->cli_key);
}

static int pair_connect(struct tls_pair *p)
{
	BIO *bs = NULL, *bc = NULL;
	int i, sdone = 0, cdone = 0, r;

	p->ca_key = tcert_key();
	p->srv_key = tcert_key();
	p->cli_key = tcert_key();
	if (!p->ca_key || !p->srv_key || !p->cli_key)
		return -1;
	p->ca = tcert_make("test ca", p->ca_key, NULL, NULL, 1, NULL, 3600);
	p->srv = tcert_make("gateway", p->srv_key, p->ca, p->ca_key, 0, "serverAuth", 3600);
	p->cli = tcert_make("dev1", p->cli_key, p->ca, p->ca_key, 0, "clientAuth", 3600);
	if (!p->ca || !p->srv || !p->cli)
		return -1;
	p->sctx = ctx_for(TLS_server_method(), p->ca, p->srv, p->srv_key);
	p->cctx = ctx_for(TLS_client_method(), p->ca, p->cli, p->cli_key);
	if (!p->sctx || !p->cctx)
		return -1;
	p->s = SSL_new(p->sctx);
	p->c = SSL_new(p->cctx);
	if (!p->s || !p->c || !BIO_new_bio_pair(&bs, 0, &bc, 0))
		return -1;
	SSL_set_bio(p->s, bs, bs);
	SSL_set_bio(p->c, bc, bc);
	SSL_set_accept_state(p->s);
	SSL_set_connect_state(p->c);
	for (i = 0; i < 100 && !(sdone && cdone); i++) {
		if (!cdone) {
			r = SSL_do_handshake(p->c);
			if (r == 1)
				cdone = 1;
			else if (SSL_get_error(p->c, r) != SSL_ERROR_WANT_READ)
				return -1;
		}
		if (!sdone) {
			r = SSL_do_handshake(p->s);
			if (r == 1)
				sdone = 1;
			else if (SSL_get_error(p->s, r) != SSL_ERROR_WANT_READ)
				return -1;
		}
	}
	return sdone && cdone ? 0 : -1;
}

static void test_both_ends_equal(void)
{
	struct session_keys ks, kc, k2;
	struct tls_pair p = { 0 };

	if (!ASSERT_EQ(pair_connect(&p), 0, "handshake"))
		goto out;
	ASSERT_EQ(SSL_version(p.c), TLS1_3_VERSION, "TLS 1.3");
	if (!ASSERT_EQ(keys_export(p.s, 0x01020304, &ks), 0, "server") ||
	    !ASSERT_EQ(keys_export(p.c, 0x01020304, &kc), 0, "client"))
		goto out;
	ASSERT_MEMEQ(&ks, &kc, sizeof(ks), "equal keys");
	ASSERT_TRUE(memcmp(ks.c2s_mac, ks.s2c_mac, 16) != 0, "directions differ");
	ASSERT_TRUE(memcmp(ks.aead_c2s, ks.aead_s2c, 32) != 0, "aead directions differ");
	/* A renewal (new session id) over the same connection gets new keys. */
	if (ASSERT_EQ(keys_export(p.c, 0x01020305, &k2), 0, "renewal"))
		ASSERT_TRUE(memcmp(&k2, &kc, sizeof(k2)) != 0, "keys depend on the session id");
	keys_wipe(&ks);
	keys_wipe(&kc);
	keys_wipe(&k2);
out:
	pair_free(&p);
}

static void test_export_before_handshake(void)
{
	struct session_keys k = { .c2s_mac = { 7 } };
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;

	if (ASSERT_TRUE(ssl != NULL, "ssl")) {
		ASSERT_EQ(keys_export(ssl, 1, &k), -EIO, "no handshake yet");
		ASSERT_EQ(k.c2s_mac[0], 7, "untouched");
	}
	SSL_free(ssl);
	SSL_CTX_free(ctx);
}

T_MAIN(T_CASE(test_known_answer), T_CASE(test_errors), T_CASE(test_context),
       T_CASE(test_both_ends_equal), T_CASE(test_export_before_handshake))
