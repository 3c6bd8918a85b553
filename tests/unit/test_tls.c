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

#include "lib/auth/ca.h"
#include "lib/auth/identity.h"
#include "lib/auth/tls.h"
#include "tests/lib/t.h"

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
};

/* Drives both ends over a non-blocking socketpair until each finished or failed. */
static void handshake(SSL_CTX *cctx, SSL_CTX *sctx, const char *expect, struct pair *pp)
{
	int sv[2], i, r;
	bool cdone = false, sdone = false;

	memset(pp, 0, sizeof(*pp));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv))
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
			}
		}
		if (!sdone) {
			r = SSL_accept(pp->s);
			if (r == 1) {
				sdone = true;
				pp->src = 1;
			} else if (SSL_get_error(pp->s, r) != SSL_ERROR_WANT_READ) {
				sdone = true;
			}
		}
	}
	/* TLS 1.3: the server judges the client certificate after the client finished. */
	if (pp->crc && !pp->src) {
		char b[16];

		r = SSL_read(pp->c, b, sizeof(b));
		if (r <= 0 && SSL_get_error(pp->c, r) != SSL_ERROR_WANT_READ)
			pp->crc = 0;
	}
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
	pair_free(&pp);
	handshake(c, s, "evil.example", &pp);
	ASSERT_EQ(pp.crc, 0, "wrong name refused");
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
	ASSERT_EQ(pp.crc, 0, "client sees the refusal");
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

T_MAIN(T_CASE(test_handshake_and_exporter), T_CASE(test_other_ca_refused),
       T_CASE(test_no_client_cert_refused), T_CASE(test_tls12_refused),
       T_CASE(test_device_cert_as_server_refused), T_CASE(test_key_mode_refused),
       T_CASE(test_key_owner_refused))
