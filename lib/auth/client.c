// SPDX-License-Identifier: GPL-2.0
/* Client control channel: dial, mutual TLS, hello -> capability, keepalive, renew, bye. */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <sodium.h>

#include "lib/auth/client.h"
#include "lib/auth/tls.h"
#include "lib/auth/token.h"
#include "lib/tunnel/aead.h"

#define DEF_TIMEOUT_NS (10ULL * 1000000000ULL)

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * A library must not kill its caller with SIGPIPE when the gateway vanishes
 * mid-write (OpenSSL writes with write(2), not send(MSG_NOSIGNAL)): each
 * public call blocks SIGPIPE in this thread and discards one it raised.
 */
static void sigpipe_block(sigset_t *old)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &s, old);
}

static void sigpipe_restore(const sigset_t *old)
{
	struct timespec zero = { 0, 0 };
	sigset_t s, pend;

	sigemptyset(&s);
	sigaddset(&s, SIGPIPE);
	if (!sigismember(old, SIGPIPE) && !sigpending(&pend) && sigismember(&pend, SIGPIPE))
		while (sigtimedwait(&s, NULL, &zero) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

/* 0 when fd is ready for events, -ETIMEDOUT past the deadline. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	uint64_t now;
	int n;

	for (;;) {
		now = now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)((deadline - now) / 1000000ULL + 1));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int dial_one(const struct addrinfo *ai, uint64_t deadline)
{
	socklen_t sl = sizeof(int);
	int fd, err = 0, one = 1;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
		err = -errno;
		goto fail;
	}
	err = wait_fd(fd, POLLOUT, deadline);
	if (err)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl)) {
		err = -errno;
		goto fail;
	}
	if (err) {
		err = -err;
		goto fail;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
fail:
	close(fd);
	return err;
}

static int dial(const struct authc_cfg *cfg, uint64_t deadline, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	char port[8];
	int fd = -ENOENT, gai;

	snprintf(port, sizeof(port), "%u", cfg->port);
	gai = getaddrinfo(cfg->gateway, port, &hints, &res);
	if (gai) {
		snprintf(err, errlen, "%s: %s", cfg->gateway, gai_strerror(gai));
		return gai == EAI_AGAIN ? -EAGAIN : -ENOENT;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = dial_one(ai, deadline);
		if (fd >= 0 || fd == -ETIMEDOUT)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "%s port %u: %s", cfg->gateway, cfg->port, strerror(-fd));
	return fd;
}

/* SSL_get_error after r: 0 = retry after waiting, else -errno. */
static int ssl_wait(struct authc *c, int r, uint64_t deadline)
{
	int e = SSL_get_error(c->ssl, r);

	if (e == SSL_ERROR_WANT_READ)
		return wait_fd(c->fd, POLLIN, deadline);
	if (e == SSL_ERROR_WANT_WRITE)
		return wait_fd(c->fd, POLLOUT, deadline);
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0))
		return -ECONNRESET;
	return -EPROTO;
}

static int flush(struct authc *c)
{
	int n, e;

	while (c->txlen) {
		ERR_clear_error();
		n = SSL_write(c->ssl, c->tx, (int)c->txlen);
		if (n > 0) {
			memmove(c->tx, c->tx + n, c->txlen - (size_t)n);
			c->txlen -= (size_t)n;
			continue;
		}
		e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
			return 0;
		return -EPIPE;
	}
	return 0;
}

static int queue_msg(struct authc *c, const struct proto_msg *m)
{
	int err = proto_append(m, c->tx, sizeof(c->tx), &c->txlen);

	return err ? err : flush(c);
}

/* Queues a message of type; hello (hello given) carries its app and resume, and c->offer. */
static int queue(struct authc *c, uint32_t type, const struct authc_cfg *hello)
{
	struct proto_msg m = { .type = type };

	if (hello) {
		snprintf(m.u.hello.app, sizeof(m.u.hello.app), "%s", hello->app ? hello->app : "");
		m.u.hello.offer = c->offer;
		m.u.hello.resume = hello->resume;
	}
	return queue_msg(c, &m);
}

/* Sends what is queued, waiting for the socket until the deadline. */
static int drain(struct authc *c, uint64_t deadline)
{
	int ret = 0;

	while (!ret && c->txlen) {
		ret = wait_fd(c->fd, POLLOUT, deadline);
		if (!ret)
			ret = flush(c);
	}
	return ret;
}

static void close_nopipe(struct authc *c, bool send_bye);

/* Derives the keys of a new capability from this connection's exporter. */
static int cap_keys(struct authc *c, const struct cap_msg *cap, struct session_keys *keys)
{
	uint8_t material[TLS_MATERIAL_LEN];
	int ret;

	ret = tls_export_material(c->ssl, cap->session, material);
	if (!ret)
		ret = keys_derive(material, keys);
	sodium_memzero(material, sizeof(material));
	return ret;
}

/* Next whole message, blocking until the deadline. */
static int read_msg(struct authc *c, struct proto_msg *m, uint64_t deadline)
{
	enum proto_verdict v;
	size_t used;
	int n, err;

	for (;;) {
		while (c->inoff < c->inlen) {
			v = proto_rx_feed(&c->rx, c->in + c->inoff, c->inlen - c->inoff, &used, m);
			c->inoff += used;
			if (v == PROTO_OK)
				return 0;
			if (v != PROTO_MORE)
				return -EPROTO;
		}
		ERR_clear_error();
		n = SSL_read(c->ssl, c->in, sizeof(c->in));
		if (n > 0) {
			c->inoff = 0;
			c->inlen = (size_t)n;
			continue;
		}
		err = ssl_wait(c, n, deadline);
		if (err)
			return err;
	}
}

/* Dials cfg's gateway and runs the TLS handshake of c->ctx, checking the name tls_client_expect
 * sets. 0, or -errno with a reason (-EACCES: the handshake was refused or failed). */
static int tls_open(struct authc *c, const struct authc_cfg *cfg, uint64_t deadline, char *err,
		    size_t errlen)
{
	char why[512];
	int ret, r;

	c->fd = dial(cfg, deadline, err, errlen);
	if (c->fd < 0)
		return c->fd;
	c->ssl = SSL_new(c->ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    tls_client_expect(c->ssl, cfg->name ? cfg->name : cfg->gateway)) {
		snprintf(err, errlen, "%s", tls_err_text("TLS setup", why, sizeof(why)));
		return -EPROTO;
	}
	for (;;) {
		ERR_clear_error();
		r = SSL_connect(c->ssl);
		if (r == 1)
			return 0;
		ret = ssl_wait(c, r, deadline);
		if (ret) {
			long vr = SSL_get_verify_result(c->ssl);

			if (vr != X509_V_OK)
				snprintf(err, errlen, "gateway certificate: %s",
					 X509_verify_cert_error_string(vr));
			else
				snprintf(err, errlen, "%s",
					 tls_err_text("TLS handshake", why, sizeof(why)));
			return ret == -ETIMEDOUT ? ret : -EACCES;
		}
	}
}

static int authc_connect_nopipe(const struct authc_cfg *cfg, struct authc *out, char *err,
				size_t errlen)
{
	uint64_t deadline = now_ns() + (cfg->timeout_ns ? cfg->timeout_ns : DEF_TIMEOUT_NS);
	struct authc *c = NULL;
	struct proto_msg m;
	char why[512];
	int ret = -ENOMEM;

	if (!cfg->gateway || (cfg->app && cfg->app[0] && !proto_name_ok(cfg->app))) {
		snprintf(err, errlen, "bad app name \"%s\": want 1..63 of [A-Za-z0-9_.-]",
			 cfg->app ? cfg->app : "");
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	c->fd = -1;
	proto_rx_init(&c->rx);
	proto_offer_make(&c->offer, cfg->mode, cfg->cipher, aead_aes_available());
	c->ctx = tls_client_ctx(cfg->ca, cfg->cert, cfg->key, err, errlen);
	if (!c->ctx) {
		ret = -errno;
		goto out;
	}
	ret = tls_open(c, cfg, deadline, err, errlen);
	if (ret)
		goto out;
	ret = queue(c, PROTO_HELLO, cfg);
	if (!ret)
		ret = drain(c, deadline);
	if (ret) {
		/* A refused certificate: the gateway's alert is waiting to be read. */
		if (read_msg(c, &m, deadline) == -EPROTO) {
			snprintf(err, errlen, "%s", tls_err_text("refused", why, sizeof(why)));
			ret = -EACCES;
		} else {
			snprintf(err, errlen, "sending hello: %s", strerror(-ret));
		}
		goto out;
	}
	/* TLS 1.3: a refused client certificate shows up here, as an alert. */
	ret = read_msg(c, &m, deadline);
	if (ret) {
		snprintf(err, errlen, "waiting for the capability: %s",
			 ret == -EPROTO ? tls_err_text("refused", why, sizeof(why))
					: strerror(-ret));
		if (ret == -EPROTO)
			ret = -EACCES;
		goto out;
	}
	if (m.type == PROTO_ERROR) {
		snprintf(err, errlen, "gateway refused: %s", m.u.error.reason);
		ret = -EACCES;
		goto out;
	}
	if (m.type != PROTO_CAPABILITY) {
		snprintf(err, errlen, "gateway sent %s, not a capability", proto_type_str(m.type));
		ret = -EPROTO;
		goto out;
	}
	ret = proto_cap_accept(&c->offer, &m.u.cap, err, errlen);
	if (ret)
		goto out;
	c->cap = m.u.cap;
	ret = cap_keys(c, &c->cap, &c->keys);
	if (ret) {
		snprintf(err, errlen, "deriving the session keys failed");
		goto out;
	}
	*out = *c;
	/* The rx buffer and SSL pointers now belong to *out. */
	sodium_memzero(c, sizeof(*c));
	free(c);
	c = NULL;
	ret = 0;
out:
	if (c) {
		close_nopipe(c, false);
		free(c);
	}
	return ret;
}

int authc_fd(const struct authc *c)
{
	return c->fd;
}

bool authc_want_write(const struct authc *c)
{
	return c->txlen > 0;
}

static int authc_process_nopipe(struct authc *c, struct authc_event *ev)
{
	struct authc_event e = { .type = AUTHC_EV_NONE };
	enum proto_verdict v;
	struct proto_msg m;
	size_t used;
	int n, r, ret = 0;

	if (!c->ssl)
		return -ENOTCONN;
	if (flush(c)) {
		e.type = AUTHC_EV_CLOSED;
		goto done;
	}
	for (;;) {
		while (c->inoff < c->inlen) {
			v = proto_rx_feed(&c->rx, c->in + c->inoff, c->inlen - c->inoff, &used, &m);
			c->inoff += used;
			if (v == PROTO_MORE)
				continue;
			if (v != PROTO_OK) {
				e.type = AUTHC_EV_CLOSED;
				snprintf(e.reason, sizeof(e.reason), "protocol: %s",
					 proto_verdict_str(v));
				goto done;
			}
			switch (m.type) {
			case PROTO_KEEPALIVE_ACK:
				e.type = AUTHC_EV_KEEPALIVE_ACK;
				break;
			case PROTO_CAPABILITY:
				if (!c->renewing) {
					e.type = AUTHC_EV_CLOSED;
					snprintf(e.reason, sizeof(e.reason),
						 "protocol: capability without renew");
					break;
				}
				/* A renewal is held to the offer as the first one was. */
				if (proto_cap_accept(&c->offer, &m.u.cap, e.reason,
						     sizeof(e.reason))) {
					e.type = AUTHC_EV_CLOSED;
					break;
				}
				r = cap_keys(c, &m.u.cap, &e.keys);
				if (r) {
					ret = r;
					goto done;
				}
				e.type = AUTHC_EV_RENEWED;
				e.cap = m.u.cap;
				c->cap = m.u.cap;
				keys_wipe(&c->keys);
				c->keys = e.keys;
				c->renewing = false;
				break;
			case PROTO_ERROR:
				e.type = AUTHC_EV_ERROR;
				memcpy(e.reason, m.u.error.reason, sizeof(e.reason));
				break;
			case PROTO_BYE:
				e.type = AUTHC_EV_CLOSED;
				snprintf(e.reason, sizeof(e.reason), "bye");
				break;
			default:
				e.type = AUTHC_EV_CLOSED;
				snprintf(e.reason, sizeof(e.reason), "protocol: unexpected %s",
					 proto_type_str(m.type));
				break;
			}
			goto done;
		}
		ERR_clear_error();
		n = SSL_read(c->ssl, c->in, sizeof(c->in));
		if (n > 0) {
			c->inoff = 0;
			c->inlen = (size_t)n;
			continue;
		}
		r = SSL_get_error(c->ssl, n);
		if (r == SSL_ERROR_WANT_READ || r == SSL_ERROR_WANT_WRITE)
			goto done;
		e.type = AUTHC_EV_CLOSED;
		snprintf(e.reason, sizeof(e.reason), "%s",
			 r == SSL_ERROR_ZERO_RETURN ? "closed by the gateway" : "connection lost");
		ERR_clear_error();
		goto done;
	}
done:
	if (!ret)
		*ev = e;
	sodium_memzero(&e, sizeof(e));
	return ret;
}

static int authc_keepalive_nopipe(struct authc *c)
{
	if (!c->ssl)
		return -ENOTCONN;
	return queue(c, PROTO_KEEPALIVE, NULL);
}

static int authc_renew_nopipe(struct authc *c)
{
	int err;

	if (!c->ssl)
		return -ENOTCONN;
	if (c->renewing)
		return -EALREADY;
	err = queue(c, PROTO_RENEW, NULL);
	if (!err)
		c->renewing = true;
	return err;
}

static void close_nopipe(struct authc *c, bool send_bye)
{
	if (!c || !c->ctx)
		return;
	if (c->ssl) {
		if (send_bye && !queue(c, PROTO_BYE, NULL))
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	ERR_clear_error();
	keys_wipe(&c->keys);
	sodium_memzero(c, sizeof(*c));
	c->fd = -1;
}

int authc_connect(const struct authc_cfg *cfg, struct authc *out, char *err, size_t errlen)
{
	sigset_t old;
	int ret;

	sigpipe_block(&old);
	ret = authc_connect_nopipe(cfg, out, err, errlen);
	sigpipe_restore(&old);
	return ret;
}

/* The PEM certificate s as an X509, or NULL. */
static X509 *pem_cert(const char *s)
{
	BIO *b = BIO_new_mem_buf(s, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;

	BIO_free(b);
	return x;
}

static int authc_enroll_nopipe(const struct authc_cfg *cfg, const char *token, const char *csr,
			       X509 **cert, X509 **ca, char *err, size_t errlen)
{
	uint64_t deadline = now_ns() + (cfg->timeout_ns ? cfg->timeout_ns : DEF_TIMEOUT_NS);
	struct proto_msg *m = calloc(1, sizeof(*m));
	struct authc *c = calloc(1, sizeof(*c));
	X509 *pinned = NULL, *leaf = NULL;
	struct token t;
	char why[256];
	int ret = -ENOMEM;

	if (!m || !c) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	c->fd = -1;
	proto_rx_init(&c->rx);
	ret = -EINVAL;
	if (!token || token_parse(token, strlen(token), &t) != TOKEN_OK) {
		snprintf(err, errlen, "not a token (cg1.<id>.<secret>.<ca hash>)");
		goto out;
	}
	m->type = PROTO_ENROLL;
	if (snprintf(m->u.enroll.token, sizeof(m->u.enroll.token), "%s", token) < 0 ||
	    snprintf(m->u.enroll.csr, sizeof(m->u.enroll.csr), "%s", csr) >=
		    (int)sizeof(m->u.enroll.csr) ||
	    !proto_msg_ok(m)) {
		snprintf(err, errlen, "the CSR is not one PEM block of at most %d bytes",
			 PROTO_CSR_MAX - 1);
		goto out;
	}
	c->ctx = tls_enroll_ctx(err, errlen);
	if (!c->ctx) {
		ret = -errno;
		goto out;
	}
	ret = tls_open(c, cfg, deadline, err, errlen);
	if (ret)
		goto out;
	/* No trust on first use: the gateway proves the token's CA before the token leaves. */
	ret = tls_pin_verify(c->ssl, t.ca_hash, &pinned, err, errlen);
	if (ret)
		goto out;
	ret = queue_msg(c, m);
	if (!ret)
		ret = drain(c, deadline);
	if (!ret)
		ret = read_msg(c, m, deadline);
	if (ret) {
		snprintf(err, errlen, "waiting for the certificate: %s",
			 ret == -EPROTO ? tls_err_text("refused", why, sizeof(why))
					: strerror(-ret));
		goto out;
	}
	ret = -EACCES;
	if (m->type == PROTO_ERROR) {
		snprintf(err, errlen, "gateway refused: %s", m->u.error.reason);
		goto out;
	}
	ret = -EPROTO;
	if (m->type != PROTO_ENROLLED) {
		snprintf(err, errlen, "gateway sent %s, not enrolled", proto_type_str(m->type));
		goto out;
	}
	/* The certificate must come from the pinned CA, whatever the gateway says its CA is. */
	leaf = pem_cert(m->u.enrolled.cert);
	if (!leaf || X509_verify(leaf, X509_get0_pubkey(pinned)) != 1) {
		snprintf(err, errlen,
			 "the certificate the gateway sent is not signed by the CA "
			 "of the token");
		goto out;
	}
	*cert = leaf;
	*ca = pinned;
	leaf = pinned = NULL;
	ret = 0;
out:
	ERR_clear_error();
	X509_free(leaf);
	X509_free(pinned);
	sodium_memzero(&t, sizeof(t));
	if (m) {
		sodium_memzero(m, sizeof(*m));
		free(m);
	}
	if (c) {
		close_nopipe(c, false);
		free(c);
	}
	return ret;
}

int authc_enroll(const struct authc_cfg *cfg, const char *token, const char *csr, X509 **cert,
		 X509 **ca, char *err, size_t errlen)
{
	sigset_t old;
	int ret;

	sigpipe_block(&old);
	ret = authc_enroll_nopipe(cfg, token, csr, cert, ca, err, errlen);
	sigpipe_restore(&old);
	return ret;
}

int authc_process(struct authc *c, struct authc_event *ev)
{
	sigset_t old;
	int ret;

	sigpipe_block(&old);
	ret = authc_process_nopipe(c, ev);
	sigpipe_restore(&old);
	return ret;
}

int authc_keepalive(struct authc *c)
{
	sigset_t old;
	int ret;

	sigpipe_block(&old);
	ret = authc_keepalive_nopipe(c);
	sigpipe_restore(&old);
	return ret;
}

int authc_renew(struct authc *c)
{
	sigset_t old;
	int ret;

	sigpipe_block(&old);
	ret = authc_renew_nopipe(c);
	sigpipe_restore(&old);
	return ret;
}

void authc_close(struct authc *c, bool send_bye)
{
	sigset_t old;

	sigpipe_block(&old);
	close_nopipe(c, send_bye);
	sigpipe_restore(&old);
}
