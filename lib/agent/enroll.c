// SPDX-License-Identifier: GPL-2.0
/* capgate enroll: key and CSR on the device, SPA with the token, the pinned TLS exchange. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "lib/agent/enroll.h"
#include "lib/auth/client.h"
#include "lib/auth/spa.h"
#include "lib/auth/tls.h"
#include "lib/auth/token.h"
#include "lib/base/addr.h"
#include "lib/base/udp.h"

/* A CSR for key as PEM into buf: the CA ignores its subject, the token names the device. */
static int csr_pem(EVP_PKEY *key, char *buf, size_t cap)
{
	X509_REQ *req = X509_REQ_new();
	BIO *b = BIO_new(BIO_s_mem());
	X509_NAME *name;
	int ret = -EIO;

	if (!req || !b || X509_REQ_set_version(req, 0) != 1 || X509_REQ_set_pubkey(req, key) != 1)
		goto out;
	name = X509_REQ_get_subject_name(req);
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				       (const unsigned char *)"capgate-enroll", -1, -1, 0) != 1)
		goto out;
	/* Ed25519 signs the message itself (no digest); P-256 with SHA-256. */
	if (X509_REQ_sign(req, key,
			  EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256()) <= 0 ||
	    PEM_write_bio_X509_REQ(b, req) != 1)
		goto out;
	ret = tls_bio_text(b, buf, cap);
out:
	ERR_clear_error();
	BIO_free(b);
	X509_REQ_free(req);
	return ret;
}

/* The token's SPA packet (CGSPT1) to the gateway: it opens the auth port for this source. */
static int spa_send(const struct enroll_cfg *cfg, const uint8_t gw[16], const struct token *t)
{
	uint8_t key[TOKEN_SPA_KEY_LEN], pkt[SPA_MAX_LEN];
	char id[TOKEN_ID_HEX + 1];
	int n;

	token_id_hex(t, id, sizeof(id));
	n = token_spa_key(t->secret, key);
	if (!n)
		n = spa_build_token(id, IPPROTO_TCP, cfg->port, (uint64_t)time(NULL), key, pkt,
				    sizeof(pkt));
	sodium_memzero(key, sizeof(key));
	if (n < 0)
		return n;
	return udp_send_once(gw, cfg->spa_port, pkt, (size_t)n);
}

/* The CA at path: written if absent, else it must be the same key (the token's). */
static int ca_install(const char *path, X509 *ca, char *err, size_t errlen)
{
	uint8_t have[TOKEN_HASH_LEN], want[TOKEN_HASH_LEN];
	int ret = ca_cert_write(path, ca, 0, err, errlen);

	if (ret != -EEXIST)
		return ret;
	if (token_spki_hash_file(path, have) || token_spki_hash(ca, want) ||
	    memcmp(have, want, sizeof(have))) {
		snprintf(err, errlen, "%s holds another CA than the token's", path);
		return -EEXIST;
	}
	return 0;
}

/* The certificate's files: DIR/KEYNAME.crt, the key linked to DIR/KEYNAME.key, DIR/ca.crt. */
static int install(const struct enroll_cfg *cfg, const char *tmpkey, X509 *cert, X509 *ca,
		   struct enroll_result *r, char *err, size_t errlen)
{
	char td[CG_TRUST_DOMAIN_MAX + 1], key[CG_KEY_NAME_MAX];
	int ret;

	if (identity_ca_trust_domain(ca, td) != IDENTITY_OK ||
	    identity_from_cert(cert, td, &r->id) != IDENTITY_OK ||
	    identity_key_name(r->id.device, r->id.app, key, sizeof(key)) ||
	    identity_uri(td, r->id.device, r->id.app, r->uri, sizeof(r->uri))) {
		snprintf(err, errlen, "the certificate carries no valid identity");
		return -EBADMSG;
	}
	snprintf(r->cert_path, sizeof(r->cert_path), "%s/%s.crt", cfg->dir, key);
	snprintf(r->key_path, sizeof(r->key_path), "%s/%s.key", cfg->dir, key);
	snprintf(r->ca_path, sizeof(r->ca_path), "%s/ca.crt", cfg->dir);
	ret = ca_install(r->ca_path, ca, err, errlen);
	if (!ret)
		ret = ca_cert_write(r->cert_path, cert, 0, err, errlen);
	if (ret)
		return ret;
	if (link(tmpkey, r->key_path)) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s (the certificate is %s)", r->key_path,
			 strerror(errno), r->cert_path);
		return ret;
	}
	unlink(tmpkey);
	return 0;
}

int agent_enroll(const struct enroll_cfg *cfg, struct enroll_result *res, char *err, size_t errlen)
{
	struct authc_cfg ac = {
		.gateway = cfg->gateway,
		.port = cfg->port,
		.timeout_ns = cfg->timeout_ns,
	};
	char tmpkey[PATH_MAX], id[TOKEN_ID_HEX + 1], csr[PROTO_CSR_MAX];
	struct enroll_result r = { 0 };
	X509 *cert = NULL, *ca = NULL;
	EVP_PKEY *key = NULL;
	bool keep_key = false;
	uint8_t gw[16];
	struct token t;
	int ret = -EINVAL;

	tmpkey[0] = '\0';
	if (!cfg->token || token_parse(cfg->token, strlen(cfg->token), &t) != TOKEN_OK) {
		snprintf(err, errlen, "not a token (cg1.<id>.<secret>.<ca hash>)");
		goto out;
	}
	if (!cfg->gateway || addr_parse_mapped(cfg->gateway, gw)) {
		snprintf(err, errlen, "--gateway: \"%s\" is not an IP address",
			 cfg->gateway ? cfg->gateway : "");
		goto out;
	}
	if (mkdir(cfg->dir, 0700) && errno != EEXIST) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", cfg->dir, strerror(errno));
		goto out;
	}
	token_id_hex(&t, id, sizeof(id));
	snprintf(tmpkey, sizeof(tmpkey), "%s/.enroll-%s.key", cfg->dir, id);
	key = ca_key_new(cfg->key_type);
	if (!key) {
		ret = -EIO;
		snprintf(err, errlen, "cannot make a key");
		goto out;
	}
	ret = ca_key_write(tmpkey, key, err, errlen);
	if (ret) {
		tmpkey[0] = '\0'; /* not ours to remove */
		goto out;
	}
	ret = csr_pem(key, csr, sizeof(csr));
	if (ret) {
		snprintf(err, errlen, "cannot make the CSR");
		goto out;
	}
	ret = spa_send(cfg, gw, &t);
	if (ret) {
		snprintf(err, errlen, "SPA to %s udp/%u: %s", cfg->gateway, cfg->spa_port,
			 strerror(-ret));
		goto out;
	}
	ret = authc_enroll(&ac, cfg->token, csr, &cert, &ca, err, errlen);
	if (ret == -ETIMEDOUT) {
		/* SPA is silent: a token the gateway will not take leaves its auth port dark. */
		size_t n = strlen(err);

		snprintf(err + n, errlen - n,
			 " (no answer: the gateway drops the SPA of a token that is spent, expired "
			 "or not its own)");
	}
	if (ret)
		goto out;
	keep_key = true;
	ret = install(cfg, tmpkey, cert, ca, &r, err, errlen);
	if (ret) {
		size_t n = strlen(err);

		snprintf(err + n, errlen - n, "; the key stays at %s", tmpkey);
		goto out;
	}
	*res = r;
out:
	if (tmpkey[0] && !keep_key)
		unlink(tmpkey);
	EVP_PKEY_free(key);
	X509_free(cert);
	X509_free(ca);
	sodium_memzero(&t, sizeof(t));
	return ret;
}
