// SPDX-License-Identifier: GPL-2.0
/* Real TLS 1.3 handshakes over a socketpair with certificates from lib/auth/ca.c. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "lib/auth/ca.h"
#include "lib/auth/identity.h"
#include "lib/auth/tls.h"
#include "tests/lib/t.h"
#include "tests/lib/tcert.h"

static char dir_a[64], dir_b[64];
static bool ready;

static void rm_dir(const char *d)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", d);
}

static void cleanup(void)
{
	rm_dir(dir_a);
	rm_dir(dir_b);
}

/* Two CAs: A (gateway "gw" with IP 127.0.0.1, devices dev1 and dev3) and B (device dev1). */
static bool setup(void)
{
	static const char *const ips[] = { "127.0.0.1" };
	char err[256];

	if (ready)
		return true;
	strcpy(dir_a, "/tmp/capgate-tls-a-XXXXXX");
	strcpy(dir_b, "/tmp/capgate-tls-b-XXXXXX");
	if (!mkdtemp(dir_a) || !mkdtemp(dir_b))
		return false;
	atexit(cleanup);
	if (ca_init(dir_a, "gw", ips, 1, err, sizeof(err)) ||
	    ca_issue(dir_a, "dev1", err, sizeof(err)) ||
	    ca_issue(dir_a, "dev3", err, sizeof(err)) ||
	    ca_init(dir_b, "gw", ips, 1, err, sizeof(err)) ||
	    ca_issue(dir_b, "dev1", err, sizeof(err))) {
		fprintf(stderr, "setup: %s\n", err);
		return false;
	}
	ready = true;
	return true;
}

static const char *p(const char *dir, const char *file)
{
	static char buf[4][128];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, file);
	return buf[i];
}

struct pair {
	SSL *c, *s;
	int cfd, sfd;
	int crc, src; /* 1 = handshake done, 0 = failed */
	/* why each end failed: the first OpenSSL reason it queued (0 if none) */
	int creason, sreason;
	long cverify, sverify; /* SSL_get_verify_result() of each end's view of its peer */
};

/* The reason of the first error the end that just failed queued; clears the queue. */
static int fail_reason(void)
{
	int r = ERR_GET_REASON(ERR_peek_error());

	ERR_clear_error();
	return r;
}

/* Drives both ends over a non-blocking socketpair until each finished or failed. */
static void handshake(SSL_CTX *cctx, SSL_CTX *sctx, const char *expect, struct pair *pp)
{
	int sv[2], i, r;
	bool cdone = false, sdone = false;

	memset(pp, 0, sizeof(*pp));
	ERR_clear_error();
	if (!ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0, "socketpair"))
		return;
	pp->cfd = sv[0];
	pp->sfd = sv[1];
	pp->c = SSL_new(cctx);
	pp->s = SSL_new(sctx);
	SSL_set_fd(pp->c, sv[0]);
	SSL_set_fd(pp->s, sv[1]);
	if (expect)
		tls_client_expect(pp->c, expect);
	for (i = 0; i < 1000 && !(cdone && sdone); i++) {
		if (!cdone) {
			r = SSL_connect(pp->c);
			if (r == 1) {
				cdone = true;
				pp->crc = 1;
			} else if (SSL_get_error(pp->c, r) != SSL_ERROR_WANT_READ) {
				cdone = true;
				pp->creason = fail_reason();
			}
		}
		if (!sdone) {
			r = SSL_accept(pp->s);
			if (r == 1) {
				sdone = true;
				pp->src = 1;
			} else if (SSL_get_error(pp->s, r) != SSL_ERROR_WANT_READ) {
				sdone = true;
				pp->sreason = fail_reason();
			}
		}
	}
	/* TLS 1.3: the server judges the client certificate after the client finished. */
	if (pp->crc && !pp->src) {
		char b[16];

		r = SSL_read(pp->c, b, sizeof(b));
		if (r <= 0 && SSL_get_error(pp->c, r) != SSL_ERROR_WANT_READ) {
			pp->crc = 0;
			pp->creason = fail_reason();
		}
	}
	pp->cverify = SSL_get_verify_result(pp->c);
	pp->sverify = SSL_get_verify_result(pp->s);
	ERR_clear_error();
}

static void pair_free(struct pair *pp)
{
	SSL_free(pp->c);
	SSL_free(pp->s);
	if (pp->c || pp->s) {
		close(pp->cfd);
		close(pp->sfd);
	}
}

static SSL_CTX *server_a(void)
{
	char err[256];
	SSL_CTX *ctx = tls_server_ctx(p(dir_a, "ca.crt"), p(dir_a, "gateway.crt"),
				      p(dir_a, "gateway.key"), err, sizeof(err));

	if (!ctx)
		fprintf(stderr, "server ctx: %s\n", err);
	return ctx;
}

static SSL_CTX *client(const char *dir, const char *dev)
{
	char err[256], crt[64], key[64];
	SSL_CTX *ctx;

	snprintf(crt, sizeof(crt), "%s.crt", dev);
	snprintf(key, sizeof(key), "%s.key", dev);
	ctx = tls_client_ctx(p(dir_a, "ca.crt"), p(dir, crt), p(dir, key), err, sizeof(err));
	if (!ctx)
		fprintf(stderr, "client ctx: %s\n", err);
	return ctx;
}

static void test_handshake_and_exporter(void)
{
	uint8_t c1[64], s1[64], c2[64], s2[64];
	SSL_CTX *s = NULL, *c = NULL;
	struct pair pp;
	struct identity id;

	if (!ASSERT_TRUE(setup(), "setup"))
		return;
	s = server_a();
	c = client(dir_a, "dev1");
	if (!ASSERT_TRUE(s && c, "contexts"))
		goto out;
	handshake(c, s, "127.0.0.1", &pp);
	ASSERT_EQ(pp.crc, 1, "client done");
	ASSERT_EQ(pp.src, 1, "server done");
	if (pp.crc && pp.src) {
		ASSERT_EQ(SSL_version(pp.s), TLS1_3_VERSION, "TLS 1.3");
		ASSERT_EQ(identity_from_cert(SSL_get0_peer_certificate(pp.s),
					     CG_TRUST_DOMAIN_DEFAULT, &id),
			  IDENTITY_OK, "the device certificate's identity");
		ASSERT_STREQ(id.device, "dev1", "device");
		ASSERT_STREQ(id.app, "", "a device certificate");
		ASSERT_EQ(tls_export_material(pp.c, 1, c1), 0, "client exporter 1");
		ASSERT_EQ(tls_export_material(pp.s, 1, s1), 0, "server exporter 1");
		ASSERT_EQ(tls_export_material(pp.c, 2, c2), 0, "client exporter 2");
		ASSERT_EQ(tls_export_material(pp.s, 2, s2), 0, "server exporter 2");
		ASSERT_MEMEQ(c1, s1, 64, "same id: same material");
		ASSERT_MEMEQ(c2, s2, 64, "same id 2: same material");
		ASSERT_TRUE(memcmp(c1, c2, 64) != 0, "other id: other material");
	}
	pair_free(&pp);
	/* The SAN DNS name works too; a name or IP the certificate lacks does not. */
	handshake(c, s, "gw", &pp);
	ASSERT_EQ(pp.crc, 1, "DNS name");
	pair_free(&pp);
	handshake(c, s, "127.0.0.2", &pp);
	ASSERT_EQ(pp.crc, 0, "wrong IP refused");
	ASSERT_EQ(pp.cverify, X509_V_ERR_IP_ADDRESS_MISMATCH, "for the IP address");
	pair_free(&pp);
	handshake(c, s, "evil.example", &pp);
	ASSERT_EQ(pp.crc, 0, "wrong name refused");
	ASSERT_EQ(pp.cverify, X509_V_ERR_HOSTNAME_MISMATCH, "for the name");
	pair_free(&pp);
out:
	SSL_CTX_free(s);
	SSL_CTX_free(c);
}

static void test_other_ca_refused(void)
{
	SSL_CTX *s = NULL, *c = NULL;
	struct pair pp;

	if (!ASSERT_TRUE(setup(), "setup"))
		return;
	s = server_a();
	c = client(dir_b, "dev1"); /* trusts A, but its certificate is from B */
	if (!ASSERT_TRUE(s && c, "contexts"))
		goto out;
	handshake(c, s, "127.0.0.1", &pp);
	ASSERT_EQ(pp.src, 0, "server refuses a certificate from another CA");
	ASSERT_EQ(pp.sverify, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, "unknown issuer");
	ASSERT_EQ(pp.crc, 0, "client sees the refusal");
	ASSERT_EQ(pp.creason, SSL_R_TLSV1_ALERT_UNKNOWN_CA, "as an unknown_ca alert");
	pair_free(&pp);
out:
	SSL_CTX_free(s);
	SSL_CTX_free(c);
}

static void test_no_client_cert_refused(void)
{
	SSL_CTX *s = NULL, *c = NULL;
	struct pair pp;

	if (!ASSERT_TRUE(setup(), "setup"))
		return;
	s = server_a();
	c = SSL_CTX_new(TLS_client_method());
	if (!ASSERT_TRUE(s && c, "contexts"))
		goto out;
	SSL_CTX_load_verify_locations(c, p(dir_a, "ca.crt"), NULL);
	SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
	handshake(c, s, NULL, &pp);
	ASSERT_EQ(pp.src, 0, "no client certificate: refused");
	ASSERT_EQ(pp.sreason, SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE,
		  "for the missing certificate");
	pair_free(&pp);
out:
	SSL_CTX_free(s);
	SSL_CTX_free(c);
}

static void test_tls12_refused(void)
{
	SSL_CTX *s = NULL, *c = NULL;
	struct pair pp;

	if (!ASSERT_TRUE(setup(), "setup"))
		return;
	s = server_a();
	c = client(dir_a, "dev1");
	if (!ASSERT_TRUE(s && c, "contexts"))
		goto out;
	SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(c, TLS1_2_VERSION);
	handshake(c, s, NULL, &pp);
	ASSERT_EQ(pp.src, 0, "TLS 1.2 refused");
	ASSERT_EQ(pp.sreason, SSL_R_UNSUPPORTED_PROTOCOL, "for its version");
	pair_free(&pp);
out:
	SSL_CTX_free(s);
	SSL_CTX_free(c);
}

/* A device certificate (clientAuth only) cannot pose as the gateway. */
static void test_device_cert_as_server_refused(void)
{
	SSL_CTX *s = NULL, *c = NULL;
	struct pair pp;
	char err[256];

	if (!ASSERT_TRUE(setup(), "setup"))
		return;
	s = tls_server_ctx(p(dir_a, "ca.crt"), p(dir_a, "dev3.crt"), p(dir_a, "dev3.key"), err,
			   sizeof(err));
	c = client(dir_a, "dev1");
	if (!ASSERT_TRUE(s && c, "contexts"))
		goto out;
	handshake(c, s, NULL, &pp);
	ASSERT_EQ(pp.crc, 0, "client refuses a non-serverAuth certificate");
	ASSERT_EQ(pp.cverify, X509_V_ERR_INVALID_PURPOSE, "for its purpose");
	pair_free(&pp);
out:
	SSL_CTX_free(s);
	SSL_CTX_free(c);
}

static void test_key_mode_refused(void)
{
	char err[256] = "", key[128];
	SSL_CTX *s;

	if (!ASSERT_TRUE(setup(), "setup"))
		return;
	snprintf(key, sizeof(key), "%s/gateway.key", dir_a);
	chmod(key, 0640);
	s = tls_server_ctx(p(dir_a, "ca.crt"), p(dir_a, "gateway.crt"), key, err, sizeof(err));
	ASSERT_TRUE(s == NULL, "group-readable key refused");
	ASSERT_EQ(errno, EPERM, "EPERM");
	ASSERT_TRUE(strstr(err, "chmod 600") != NULL, err);
	SSL_CTX_free(s);
	chmod(key, 0604);
	s = tls_client_ctx(p(dir_a, "ca.crt"), p(dir_a, "gateway.crt"), key, err, sizeof(err));
	ASSERT_TRUE(s == NULL, "other-readable key refused (client)");
	SSL_CTX_free(s);
	chmod(key, 0600);
	s = tls_server_ctx(p(dir_a, "ca.crt"), p(dir_a, "gateway.crt"), p(dir_a, "dev1.key"), err,
			   sizeof(err));
	ASSERT_TRUE(s == NULL, "key of another certificate refused");
	SSL_CTX_free(s);
	s = tls_server_ctx(p(dir_a, "ca.crt"), p(dir_a, "gateway.crt"), p(dir_a, "nope.key"), err,
			   sizeof(err));
	ASSERT_TRUE(s == NULL, "missing key");
	ASSERT_EQ(errno, ENOENT, "ENOENT");
	SSL_CTX_free(s);
}

/* A 0600 key another user owns can be rewritten by that user: refused, naming both owners. */
static void test_key_owner_refused(void)
{
	char err[512] = "", key[128], want[64];
	struct passwd *nobody = getpwnam("nobody");
	SSL_CTX *s;

	if (!ASSERT_TRUE(setup(), "setup"))
		return;
	if (geteuid() != 0 || !nobody) {
		T_SKIP("needs root and a user nobody to give a key away");
		return;
	}
	snprintf(key, sizeof(key), "%s/gateway.key", dir_a);
	if (!ASSERT_EQ(chown(key, nobody->pw_uid, (gid_t)-1), 0, "chown nobody"))
		return;
	errno = 0;
	s = tls_server_ctx(p(dir_a, "ca.crt"), p(dir_a, "gateway.crt"), key, err, sizeof(err));
	ASSERT_TRUE(s == NULL, "key owned by nobody refused");
	ASSERT_EQ(errno, EPERM, "EPERM");
	ASSERT_TRUE(strstr(err, key) != NULL, err);
	snprintf(want, sizeof(want), "owned by uid %u (nobody)", (unsigned int)nobody->pw_uid);
	ASSERT_TRUE(strstr(err, want) != NULL, err);
	ASSERT_TRUE(strstr(err, "expected uid 0 (root)") != NULL, err);
	SSL_CTX_free(s);
	ASSERT_EQ(chown(key, geteuid(), (gid_t)-1), 0, "chown back");
	s = tls_server_ctx(p(dir_a, "ca.crt"), p(dir_a, "gateway.crt"), key, err, sizeof(err));
	ASSERT_TRUE(s != NULL, err);
	SSL_CTX_free(s);
}

/* The type of the key the peer signed the handshake with (EVP_PKEY_ED25519, EVP_PKEY_EC). */
static int peer_sig_type(SSL *ssl)
{
	int nid = 0;

	return SSL_get_peer_signature_type_nid(ssl, &nid) == 1 ? nid : -1;
}

/* Mixed key types: each end signs with its own key, whatever type the CA's key is. */
static void test_key_types_mixed(void)
{
	static const char *const ips[] = { "127.0.0.1" };
	static const struct {
		enum ca_key_type ca, gw, dev;
		const char *name;
	} cases[] = {
		{ CA_KEY_P256, CA_KEY_P256, CA_KEY_P256, "all P-256" },
		{ CA_KEY_ED25519, CA_KEY_ED25519, CA_KEY_P256, "P-256 device, Ed25519 CA" },
		{ CA_KEY_P256, CA_KEY_ED25519, CA_KEY_ED25519, "Ed25519 device, P-256 CA" },
		{ CA_KEY_P256, CA_KEY_P256, CA_KEY_ED25519, "Ed25519 device, P-256 gateway" },
	};
	char d[] = "/tmp/capgate-tls-mix-XXXXXX", err[256];
	size_t i;

	if (!ASSERT_TRUE(mkdtemp(d) != NULL, "mkdtemp"))
		return;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ca_init_args ia = { .gw_name = "gw",
						 .ips = ips,
						 .nips = 1,
						 .key_type = cases[i].ca,
						 .gw_key_type = cases[i].gw,
						 .flags = CA_FORCE };
		const struct ca_issue_args da = { .device = "dev1",
						  .key_type = cases[i].dev,
						  .flags = CA_FORCE };
		SSL_CTX *sc = NULL, *cc = NULL;
		struct pair pp;

		if (!ASSERT_EQ(ca_init_with(d, &ia, err, sizeof(err)), 0, err) ||
		    !ASSERT_EQ(ca_issue_with(d, &da, err, sizeof(err)), 0, err))
			break;
		sc = tls_server_ctx(p(d, "ca.crt"), p(d, "gateway.crt"), p(d, "gateway.key"), err,
				    sizeof(err));
		ASSERT_TRUE(sc != NULL, err);
		cc = tls_client_ctx(p(d, "ca.crt"), p(d, "dev1.crt"), p(d, "dev1.key"), err,
				    sizeof(err));
		ASSERT_TRUE(cc != NULL, err);
		if (sc && cc) {
			handshake(cc, sc, "127.0.0.1", &pp);
			ASSERT_TRUE(pp.crc && pp.src, cases[i].name);
			if (pp.crc && pp.src) {
				ASSERT_EQ(peer_sig_type(pp.s),
					  cases[i].dev == CA_KEY_P256 ? EVP_PKEY_EC
								      : EVP_PKEY_ED25519,
					  "device's signature");
				ASSERT_EQ(peer_sig_type(pp.c),
					  cases[i].gw == CA_KEY_P256 ? EVP_PKEY_EC
								     : EVP_PKEY_ED25519,
					  "gateway's signature");
			}
			pair_free(&pp);
		}
		SSL_CTX_free(sc);
		SSL_CTX_free(cc);
	}
	rm_dir(d);
}

/* Keys capgate does not take are refused when loaded, with the reason. */
static void test_key_type_refused(void)
{
	static const struct {
		const char *type, *why;
	} cases[] = { { "p384", "secp384r1" }, { "rsa", "RSA" } };
	char d[] = "/tmp/capgate-tls-kt-XXXXXX", err[256];
	EVP_PKEY *k = NULL;
	SSL_CTX *ctx;
	size_t i;

	if (!ASSERT_TRUE(setup() && mkdtemp(d) != NULL, "setup"))
		return;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		k = tcert_key_of(cases[i].type);
		if (!ASSERT_TRUE(k && tcert_write_key(p(d, "k.key"), k) == 0, "key"))
			break;
		errno = 0;
		err[0] = '\0';
		ctx = tls_server_ctx(p(dir_a, "ca.crt"), p(dir_a, "gateway.crt"), p(d, "k.key"),
				     err, sizeof(err));
		ASSERT_TRUE(ctx == NULL, cases[i].type);
		ASSERT_EQ(errno, EINVAL, "EINVAL");
		ASSERT_TRUE(strstr(err, cases[i].why) && strstr(err, "Ed25519 or ECDSA P-256"),
			    err);
		SSL_CTX_free(ctx);
		EVP_PKEY_free(k);
		k = NULL;
	}
	EVP_PKEY_free(k);
	rm_dir(d);
}

/* A P-384 device under the right CA: it cannot sign the handshake with a sigalg we accept. */
static void test_p384_peer_refused(void)
{
	char d[] = "/tmp/capgate-tls-384-XXXXXX";
	EVP_PKEY *cak = NULL, *k = tcert_key_of("p384");
	SSL_CTX *s = NULL, *c = NULL;
	X509 *ca = NULL, *x = NULL;
	struct pair pp;
	FILE *f;

	if (!ASSERT_TRUE(setup() && k && mkdtemp(d) != NULL, "setup"))
		goto out;
	f = fopen(p(dir_a, "ca.key"), "re");
	cak = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	f = fopen(p(dir_a, "ca.crt"), "re");
	ca = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	x = ca && cak ? tcert_device("capgate", "dev384", NULL, k, ca, cak) : NULL;
	if (!ASSERT_TRUE(x && tcert_write(p(d, "c.crt"), x) == 0, "P-384 device certificate"))
		goto out;
	s = server_a();
	c = SSL_CTX_new(TLS_client_method());
	if (!ASSERT_TRUE(s && c, "contexts"))
		goto out;
	/* A plain OpenSSL client with its defaults, so only the gateway's settings refuse it. */
	SSL_CTX_use_certificate_file(c, p(d, "c.crt"), SSL_FILETYPE_PEM);
	SSL_CTX_use_PrivateKey(c, k);
	SSL_CTX_load_verify_locations(c, p(dir_a, "ca.crt"), NULL);
	handshake(c, s, NULL, &pp);
	ASSERT_EQ(pp.src, 0, "server refuses a P-384 client");
	/* no signature algorithm the gateway offers fits the key: the client sends no certificate
	 */
	ASSERT_EQ(pp.sreason, SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE, "without a certificate");
	ASSERT_EQ(pp.creason, SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED,
		  "certificate_required alert");
	pair_free(&pp);
out:
	SSL_CTX_free(s);
	SSL_CTX_free(c);
	X509_free(ca);
	X509_free(x);
	EVP_PKEY_free(cak);
	EVP_PKEY_free(k);
	rm_dir(d);
}

/*
 * In d: gw.crt/gw.key (serverAuth, IP 127.0.0.1) and dev.crt/dev.key (a
 * device) of the given key types, both signed by chain[depth]; each
 * certificate file holds the leaf then chain[depth..1] (the root chain[0]
 * stays out), the device's only if dev_intermediates.
 */
static bool leaves_write(const char *d, X509 *const *chain, EVP_PKEY *const *keys, int depth,
			 const char *gw_type, const char *dev_type, bool dev_intermediates)
{
	const struct tcert_spec gws = { .cn = "gw",
					.leaf = 1,
					.san = "DNS:gw,IP:127.0.0.1",
					.eku = "serverAuth",
					.valid_s = 3600 };
	EVP_PKEY *gwk = tcert_key_of(gw_type), *devk = tcert_key_of(dev_type);
	X509 *files[TLS_VERIFY_DEPTH + 2], *gw = NULL, *dev = NULL;
	bool ok = false;
	int i;

	gw = gwk ? tcert_new(&gws, gwk, chain[depth], keys[depth]) : NULL;
	dev = devk ? tcert_device("corp.example", "dev1", NULL, devk, chain[depth], keys[depth])
		   : NULL;
	if (!gw || !dev)
		goto out;
	for (i = 0; i < depth; i++)
		files[i + 1] = chain[depth - i];
	files[0] = gw;
	if (tcert_write_chain(p(d, "gw.crt"), files, (size_t)depth + 1))
		goto out;
	files[0] = dev;
	ok = tcert_write_chain(p(d, "dev.crt"), files, dev_intermediates ? (size_t)depth + 1 : 1) ==
		     0 &&
	     tcert_write_key(p(d, "gw.key"), gwk) == 0 &&
	     tcert_write_key(p(d, "dev.key"), devk) == 0;
out:
	X509_free(gw);
	X509_free(dev);
	EVP_PKEY_free(gwk);
	EVP_PKEY_free(devk);
	return ok;
}

/*
 * A handshake between the files leaves_write wrote, each end trusting
 * d/root.crt only; *gw_verify is the device's verdict on the gateway's chain.
 */
static bool pki_handshake(const char *d, struct pair *pp, long *gw_verify)
{
	SSL_CTX *s, *c;
	char err[256];

	s = tls_server_ctx(p(d, "root.crt"), p(d, "gw.crt"), p(d, "gw.key"), err, sizeof(err));
	ASSERT_TRUE(s != NULL, err);
	c = tls_client_ctx(p(d, "root.crt"), p(d, "dev.crt"), p(d, "dev.key"), err, sizeof(err));
	ASSERT_TRUE(c != NULL, err);
	if (s && c) {
		handshake(c, s, "127.0.0.1", pp);
		*gw_verify = pp->c ? SSL_get_verify_result(pp->c) : -1;
		pair_free(pp);
	}
	SSL_CTX_free(s);
	SSL_CTX_free(c);
	return s && c;
}

/*
 * An enterprise PKI: root -> intermediates -> leaves, key types alternating.
 * Up to TLS_VERIFY_DEPTH intermediates verify, one more does not, and a
 * device whose file lacks its intermediate is refused.
 */
static void test_intermediates(void)
{
	static const char *const types[] = { "ed25519", "p256" };
	char d[] = "/tmp/capgate-tls-int-XXXXXX";
	EVP_PKEY *keys[TLS_VERIFY_DEPTH + 2] = { 0 };
	X509 *chain[TLS_VERIFY_DEPTH + 2] = { 0 };
	struct pair pp;
	long gw_verify;
	int depth, i;
	bool ok = true;

	if (!ASSERT_TRUE(mkdtemp(d) != NULL, "mkdtemp"))
		return;
	/* chain[0] the root, chain[i] signed by chain[i - 1]. */
	for (i = 0; ok && i < TLS_VERIFY_DEPTH + 2; i++) {
		char cn[32];
		const struct tcert_spec cas = { .cn = cn, .ca = 1, .valid_s = 3600 };

		snprintf(cn, sizeof(cn), i ? "Corp Issuing CA %d" : "Corp Root CA", i);
		keys[i] = tcert_key_of(types[i % 2]);
		chain[i] = keys[i] ? tcert_new(&cas, keys[i], i ? chain[i - 1] : NULL,
					       i ? keys[i - 1] : NULL)
				   : NULL;
		ok = chain[i] != NULL;
	}
	if (!ASSERT_TRUE(ok && tcert_write(p(d, "root.crt"), chain[0]) == 0, "CAs"))
		goto out;
	for (depth = 1; depth <= TLS_VERIFY_DEPTH + 1; depth++) {
		if (!ASSERT_TRUE(leaves_write(d, chain, keys, depth, types[depth % 2],
					      types[(depth + 1) % 2], true),
				 "leaves") ||
		    !pki_handshake(d, &pp, &gw_verify))
			goto out;
		if (depth <= TLS_VERIFY_DEPTH) {
			ASSERT_TRUE(pp.crc && pp.src, "verifies");
		} else {
			ASSERT_EQ(gw_verify, X509_V_ERR_CERT_CHAIN_TOO_LONG,
				  "one too deep: the device refuses");
			ASSERT_EQ(pp.src, 0, "one too deep: the gateway's handshake fails");
			/* the device refused first: the gateway ends on its alert */
			ASSERT_EQ(pp.sreason, SSL_R_TLSV1_ALERT_UNKNOWN_CA,
				  "one too deep: on the device's unknown_ca alert");
		}
	}
	if (ASSERT_TRUE(leaves_write(d, chain, keys, 1, "p256", "ed25519", false), "leaf alone") &&
	    pki_handshake(d, &pp, &gw_verify)) {
		ASSERT_EQ(gw_verify, X509_V_OK, "the gateway's chain verifies");
		ASSERT_EQ(pp.src, 0, "a device without its intermediate is refused");
		ASSERT_EQ(pp.sverify, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, "no issuer");
	}
out:
	for (i = 0; i < TLS_VERIFY_DEPTH + 2; i++) {
		X509_free(chain[i]);
		EVP_PKEY_free(keys[i]);
	}
	rm_dir(d);
}

static X509 *pem_cert(const char *path)
{
	FILE *f = fopen(path, "re");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	return x;
}

/* The bytes of a small file into buf; the length, or 0. */
static size_t file_bytes(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "re");
	size_t n = f ? fread(buf, 1, cap, f) : 0;

	if (f)
		fclose(f);
	return n < cap ? n : 0;
}

/*
 * An enterprise PKI from the openssl CLI (tests/lib/pki_openssl.sh): root ->
 * issuing CA -> gateway and device, chain files. The device's identity reads
 * back; capgate, given the issuing CA's key as its CA dir, signs a CSR the
 * device made (ignoring the identity the CSR asks for), and that device
 * connects too.
 */
static void test_openssl_pki(void)
{
	char d[] = "/tmp/capgate-tls-ossl-XXXXXX", cmd[128], err[256];
	X509 *leaf = NULL, *issuing = NULL, *x = NULL;
	struct ca_signer *signer = NULL;
	uint8_t csr[CA_CSR_MAX];
	SSL_CTX *s = NULL, *c = NULL;
	X509_REQ *req = NULL;
	struct identity id;
	struct pair pp;
	size_t n;

	if (!ASSERT_TRUE(mkdtemp(d) != NULL, "mkdtemp"))
		return;
	snprintf(cmd, sizeof(cmd), "tests/lib/pki_openssl.sh %s", d);
	if (!ASSERT_EQ(system(cmd), 0, "tests/lib/pki_openssl.sh (run from the repository)"))
		goto out;
	s = tls_server_ctx(p(d, "root.crt"), p(d, "gw.crt"), p(d, "gw.key"), err, sizeof(err));
	ASSERT_TRUE(s != NULL, err);
	c = tls_client_ctx(p(d, "root.crt"), p(d, "dev1.crt"), p(d, "dev1.key"), err, sizeof(err));
	ASSERT_TRUE(c != NULL, err);
	if (!s || !c)
		goto out;
	handshake(c, s, "127.0.0.1", &pp);
	ASSERT_TRUE(pp.crc && pp.src, "openssl-made chains");
	pair_free(&pp);
	leaf = pem_cert(p(d, "dev1.leaf"));
	if (ASSERT_TRUE(leaf != NULL, "dev1.leaf")) {
		ASSERT_EQ(identity_from_cert(leaf, "corp.example", &id), IDENTITY_OK, "identity");
		ASSERT_STREQ(id.device, "dev1", "device");
		ASSERT_TRUE(id.ngroups == 1 && !strcmp(id.groups[0], "sensors"),
			    "groups: sensors (\"ACME Corp\" is no name)");
	}
	/* capgate signs with the issuing CA: a CA dir of its certificate and key. */
	issuing = pem_cert(p(d, "issuing.crt"));
	if (!ASSERT_TRUE(issuing && tcert_write(p(d, "ca.crt"), issuing) == 0 &&
				 rename(p(d, "issuing.key"), p(d, "ca.key")) == 0,
			 "CA dir"))
		goto out;
	signer = ca_signer_open(d, err, sizeof(err));
	n = file_bytes(p(d, "dev2.csr"), csr, sizeof(csr));
	req = n ? ca_csr_parse(csr, n, err, sizeof(err)) : NULL;
	if (!ASSERT_TRUE(signer && req, err) ||
	    !ASSERT_EQ(ca_signer_sign(signer, req, "dev2", "", NULL, 0, &x, err, sizeof(err)), 0,
		       err))
		goto out;
	ASSERT_STREQ(ca_signer_trust_domain(signer), "corp.example", "the issuing CA's domain");
	ASSERT_EQ(identity_from_cert(x, "corp.example", &id), IDENTITY_OK, "dev2 identity");
	ASSERT_STREQ(id.device, "dev2", "the operator's name, not the CSR's admin");
	{
		X509 *chain[] = { x, issuing };

		ASSERT_EQ(tcert_write_chain(p(d, "dev2.crt"), chain, 2), 0, "dev2.crt");
	}
	SSL_CTX_free(c);
	c = tls_client_ctx(p(d, "root.crt"), p(d, "dev2.crt"), p(d, "dev2.key"), err, sizeof(err));
	if (ASSERT_TRUE(c != NULL, err)) {
		handshake(c, s, "127.0.0.1", &pp);
		ASSERT_TRUE(pp.crc && pp.src, "a CSR signed by capgate under the enterprise root");
		pair_free(&pp);
	}
out:
	SSL_CTX_free(s);
	SSL_CTX_free(c);
	X509_free(leaf);
	X509_free(issuing);
	X509_free(x);
	X509_REQ_free(req);
	ca_signer_free(signer);
	rm_dir(d);
}

T_MAIN(T_CASE(test_handshake_and_exporter), T_CASE(test_other_ca_refused),
       T_CASE(test_no_client_cert_refused), T_CASE(test_tls12_refused),
       T_CASE(test_device_cert_as_server_refused), T_CASE(test_key_mode_refused),
       T_CASE(test_key_owner_refused), T_CASE(test_key_types_mixed), T_CASE(test_key_type_refused),
       T_CASE(test_p384_peer_refused), T_CASE(test_intermediates), T_CASE(test_openssl_pki))
