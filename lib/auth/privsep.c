// SPDX-License-Identifier: GPL-2.0
/* The auth worker: unprivileged, one poll loop for every TLS client; fixed request table. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <sodium.h>

#include "lib/auth/privsep.h"
#include "lib/auth/sandbox.h"
#include "lib/base/addr.h"
#include "lib/base/log.h"
#include "lib/base/parse_num.h"
#include "lib/config/gateway.h"

#define DEF_HANDSHAKE_NS (10ULL * 1000000000ULL)
#define DEF_MAX_CLIENTS 1024U
#define READY_TIMEOUT_MS 5000
#define TX_CAP 12288 /* room for enrolled{}: two PEM certificates, escaped */
/*
 * RLIMIT_DATA beyond what the worker holds when it sandboxes itself: a TLS 1.3
 * connection in OpenSSL (read and write buffers, handshake state, the peer's
 * certificate) plus struct client (its tx queue and frame buffer) stay well
 * under this per client; the base covers OpenSSL's and libc's own growth.
 */
#define DATA_PER_CLIENT (256U * 1024U)
#define DATA_BASE (64ULL << 20)
#if defined(__SANITIZE_ADDRESS__)
/* Test builds: ASan keeps freed memory in a 256 MiB quarantine, and adds redzones. */
#define DATA_SANITIZER (512ULL << 20)
#else
#define DATA_SANITIZER 0ULL
#endif

static const char *const reason_names[AUTHW_R_MAX] = {
	[AUTHW_R_OK] = "ok",
	[AUTHW_R_HANDSHAKE] = "handshake",
	[AUTHW_R_IDENTITY] = "identity",
	[AUTHW_R_PROTOCOL] = "protocol",
	[AUTHW_R_TIMEOUT] = "timeout",
	[AUTHW_R_CLOSED] = "closed",
	[AUTHW_R_BYE] = "bye",
	[AUTHW_R_POLICY] = "policy",
	[AUTHW_R_POOL] = "pool",
	[AUTHW_R_INTERNAL] = "internal",
	[AUTHW_R_KILLED] = "killed",
	[AUTHW_R_BUSY] = "busy",
	[AUTHW_R_LIMIT] = "limit",
	[AUTHW_R_TOO_EARLY] = "too_early",
	[AUTHW_R_APP_MISMATCH] = "app_mismatch",
	[AUTHW_R_REVOKED] = "revoked",
	[AUTHW_R_NO_CERT] = "no_certificate",
	[AUTHW_R_ENROLL] = "enroll",
	[AUTHW_R_ENROLLED] = "enrolled",
};

const char *authw_enroll_status_str(uint32_t status)
{
	if (status == AUTHW_E_BAD_CSR)
		return "bad_csr";
	if (status == AUTHW_E_INTERNAL)
		return "internal";
	if (status == AUTHW_E_REVOKED)
		return "revoked";
	if (status == AUTHW_E_EXISTS)
		return "exists";
	return status < TOKEN_MAX ? token_verdict_str(status) : "?";
}

const char *authw_reason_str(uint32_t reason)
{
	if (reason >= AUTHW_R_MAX)
		return "?";
	return reason_names[reason];
}

/* ---- the fixed tables --------------------------------------------------- */

static bool zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static bool name_field_ok(const char *s, size_t cap)
{
	const char *nul = memchr(s, '\0', cap);

	/* NUL-terminated, valid, and nothing hidden after the terminator. */
	return nul && proto_name_ok(s) && zero(nul, cap - (size_t)(nul - s));
}

/* What identity_from_cert writes: valid names, counts in range, every unused byte zero. */
static bool identity_ok(const struct identity *id)
{
	size_t tail = offsetof(struct identity, issuer) + sizeof(id->issuer);
	uint32_t i;

	if (!name_field_ok(id->device, sizeof(id->device)) ||
	    !(zero(id->app, sizeof(id->app)) || name_field_ok(id->app, sizeof(id->app))) ||
	    id->ngroups > CG_CERT_GROUPS_MAX || id->serial_len < 1 ||
	    id->serial_len > CG_SERIAL_MAX ||
	    !zero(id->serial + id->serial_len, CG_SERIAL_MAX - id->serial_len) ||
	    !zero((const uint8_t *)id + tail, sizeof(*id) - tail))
		return false;
	for (i = 0; i < CG_CERT_GROUPS_MAX; i++)
		if (i < id->ngroups ? !name_field_ok(id->groups[i], sizeof(id->groups[i]))
				    : !zero(id->groups[i], sizeof(id->groups[i])))
			return false;
	return true;
}

/* One PEM block of label, NUL-terminated, zero after the NUL. */
static bool pem_field_ok(const char *s, size_t cap, const char *label)
{
	const char *nul = memchr(s, '\0', cap);

	return nul && proto_pem_ok(s, cap, label) && zero(nul, cap - (size_t)(nul - s));
}

static bool token_field_ok(const char *s, size_t cap)
{
	const char *nul = memchr(s, '\0', cap);
	struct token t;
	bool ok;

	ok = nul && token_parse(s, (size_t)(nul - s), &t) == TOKEN_OK &&
	     zero(nul, cap - (size_t)(nul - s));
	sodium_memzero(&t, sizeof(t));
	return ok;
}

static bool enrolled_ok(const struct authw_enrolled *e)
{
	if (!e->conn || e->status >= AUTHW_E_MAX)
		return false;
	if (e->status != AUTHW_E_OK)
		return zero(e->cert, sizeof(e->cert)) && zero(e->ca, sizeof(e->ca));
	return pem_field_ok(e->cert, sizeof(e->cert), "CERTIFICATE") &&
	       pem_field_ok(e->ca, sizeof(e->ca), "CERTIFICATE");
}

/* The capability a grant becomes (g->nscopes <= CG_MAX_SCOPES). */
static void grant_cap(const struct authw_grant *g, struct cap_msg *c)
{
	memset(c, 0, sizeof(*c));
	c->session = g->session;
	c->expires_in = g->expires_in_s;
	memcpy(c->vip, g->vip, sizeof(c->vip));
	c->nscopes = g->nscopes;
	memcpy(c->scopes, g->scopes, g->nscopes * sizeof(g->scopes[0]));
	c->keepalive = g->keepalive_s;
	c->data_port = g->data_port;
	c->mode = g->mode;
	c->cipher = g->cipher;
}

static bool grant_ok(const struct authw_grant *g)
{
	struct proto_msg m = { .type = PROTO_CAPABILITY };

	if (!g->conn || g->nscopes > CG_MAX_SCOPES)
		return false;
	grant_cap(g, &m.u.cap);
	return proto_msg_ok(&m);
}

struct table_ent {
	uint32_t type;
	size_t size;
};

static const struct table_ent worker_table[] = {
	{ AUTHW_READY, sizeof(struct authw_ready) },
	{ AUTHW_SESSION_REQUEST, sizeof(struct authw_session_request) },
	{ AUTHW_SESSION_INSTALL, sizeof(struct authw_session_install) },
	{ AUTHW_SESSION_REVOKE, sizeof(struct authw_session_revoke) },
	{ AUTHW_SESSION_RENEW, sizeof(struct authw_session_renew) },
	{ AUTHW_ENROLL_REQUEST, sizeof(struct authw_enroll_request) },
};

static const struct table_ent parent_table[] = {
	{ AUTHW_GRANT, sizeof(struct authw_grant) },
	{ AUTHW_DENY, sizeof(struct authw_deny) },
	{ AUTHW_INSTALLED, sizeof(struct authw_installed) },
	{ AUTHW_KILL, sizeof(struct authw_kill) },
	{ AUTHW_ENROLLED, sizeof(struct authw_enrolled) },
#ifdef CG_TESTING
	{ AUTHW_TEST_SYSCALL, sizeof(struct authw_test_syscall) },
#endif
};

static int table_check(const struct table_ent *t, size_t n, const void *buf, size_t len,
		       union authw_msg *m, uint32_t *type)
{
	uint32_t ty;
	size_t i;

	if (!buf || len < sizeof(uint32_t))
		return -EINVAL;
	memcpy(&ty, buf, sizeof(ty));
	for (i = 0; i < n; i++)
		if (t[i].type == ty)
			break;
	if (i == n)
		return -EINVAL;
	if (len != t[i].size)
		return -EBADMSG;
	/* A copy: the caller's buffer may be unaligned. */
	memset(m, 0, sizeof(*m));
	memcpy(m, buf, len);
	*type = ty;
	return 0;
}

int authw_msg_check(const void *buf, size_t len, uint32_t *type)
{
	union authw_msg m;
	uint32_t ty = 0;
	bool ok = false;
	int ret;

	ret = table_check(worker_table, sizeof(worker_table) / sizeof(worker_table[0]), buf, len,
			  &m, &ty);
	if (ret)
		goto out;
	switch (ty) {
	case AUTHW_READY:
		ok = m.ready.pid > 1;
		break;
	case AUTHW_SESSION_REQUEST:
		ok = m.req.conn && !m.req.pad && proto_offer_ok(&m.req.offer) &&
		     identity_ok(&m.req.id);
		break;
	case AUTHW_SESSION_INSTALL:
		ok = m.install.conn && m.install.session;
		break;
	case AUTHW_SESSION_REVOKE:
		ok = m.revoke.conn && !m.revoke.pad && m.revoke.reason < AUTHW_R_MAX &&
		     m.revoke.reason != AUTHW_R_OK;
		break;
	case AUTHW_SESSION_RENEW:
		ok = m.renew.conn && m.renew.old_session;
		break;
	case AUTHW_ENROLL_REQUEST:
		ok = m.enroll.conn && !m.enroll.pad && zero(m.enroll.pad2, sizeof(m.enroll.pad2)) &&
		     token_field_ok(m.enroll.token, sizeof(m.enroll.token)) &&
		     pem_field_ok(m.enroll.csr, sizeof(m.enroll.csr), "CERTIFICATE REQUEST");
		break;
	}
	ret = ok ? 0 : -EBADMSG;
	if (!ret)
		*type = ty;
out:
	sodium_memzero(&m, sizeof(m));
	return ret;
}

int authw_reply_check(const void *buf, size_t len, uint32_t *type)
{
	union authw_msg m;
	uint32_t ty = 0;
	bool ok = false;
	int ret;

	ret = table_check(parent_table, sizeof(parent_table) / sizeof(parent_table[0]), buf, len,
			  &m, &ty);
	if (ret)
		return ret;
	switch (ty) {
	case AUTHW_GRANT:
		ok = grant_ok(&m.grant);
		break;
	case AUTHW_DENY:
		ok = m.deny.conn && m.deny.reason > AUTHW_R_OK && m.deny.reason < AUTHW_R_MAX;
		break;
	case AUTHW_INSTALLED:
		ok = m.installed.conn && m.installed.session;
		break;
	case AUTHW_KILL:
		ok = m.kill.session != 0 && !m.kill.pad &&
		     (m.kill.reason == AUTHW_R_KILLED || m.kill.reason == AUTHW_R_REVOKED ||
		      m.kill.reason == AUTHW_R_POLICY);
		break;
	case AUTHW_ENROLLED:
		ok = enrolled_ok(&m.enrolled);
		break;
#ifdef CG_TESTING
	case AUTHW_TEST_SYSCALL:
		ok = !m.test.pad;
		break;
#endif
	}
	if (!ok)
		return -EBADMSG;
	*type = ty;
	return 0;
}

int authw_conn_step(enum authw_conn_state *st, uint32_t type)
{
	enum authw_conn_state s = *st, next = s;
	bool ok = false;

	switch (type) {
	case AUTHW_SESSION_REQUEST:
		ok = s == AUTHW_CS_NEW;
		next = AUTHW_CS_REQUESTED;
		break;
	case AUTHW_GRANT:
		ok = s == AUTHW_CS_REQUESTED;
		next = AUTHW_CS_GRANTED;
		break;
	case AUTHW_DENY:
		ok = s == AUTHW_CS_REQUESTED || s == AUTHW_CS_INSTALLING;
		next = AUTHW_CS_DENIED;
		break;
	case AUTHW_SESSION_INSTALL:
		ok = s == AUTHW_CS_GRANTED;
		next = AUTHW_CS_INSTALLING;
		break;
	case AUTHW_INSTALLED:
		ok = s == AUTHW_CS_INSTALLING;
		next = AUTHW_CS_ACTIVE;
		break;
	case AUTHW_SESSION_RENEW:
		ok = s == AUTHW_CS_ACTIVE;
		next = AUTHW_CS_REQUESTED;
		break;
	case AUTHW_KILL:
		ok = s == AUTHW_CS_REQUESTED || s == AUTHW_CS_GRANTED || s == AUTHW_CS_INSTALLING ||
		     s == AUTHW_CS_ACTIVE;
		break;
	case AUTHW_SESSION_REVOKE:
		ok = s != AUTHW_CS_DONE;
		next = AUTHW_CS_DONE;
		break;
	case AUTHW_ENROLL_REQUEST:
		ok = s == AUTHW_CS_NEW;
		next = AUTHW_CS_ENROLLING;
		break;
	case AUTHW_ENROLLED:
		ok = s == AUTHW_CS_ENROLLING;
		next = AUTHW_CS_DONE;
		break;
	}
	if (!ok)
		return -EPROTO;
	*st = next;
	return 0;
}

/*
 * The datagram's length (> 0) or a negative errno. Success is the length itself,
 * not "no errno": clang 14's analyzer does not know errno is nonzero after a failed
 * recv(), so an out-parameter paired with "return -errno" looks possibly unwritten.
 */
static int dgram_recv(int fd, void *buf, size_t cap, int flags)
{
	ssize_t n;

	do {
		n = recv(fd, buf, cap, flags | MSG_TRUNC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	if ((size_t)n > cap || n > INT_MAX)
		return -EMSGSIZE;
	return (int)n;
}

int authw_recv(int fd, void *buf, size_t cap, size_t *len)
{
	int n = dgram_recv(fd, buf, cap, 0);

	if (n < 0)
		return n;
	*len = (size_t)n;
	return 0;
}

int authw_send(int fd, const void *msg, size_t len)
{
	ssize_t n;

	do {
		n = send(fd, msg, len, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

/* ---- the worker --------------------------------------------------------- */

enum cstate {
	C_HANDSHAKE,
	C_HELLO,	  /* TLS up, waiting for hello */
	C_WAIT_GRANT,	  /* REQUEST or RENEW sent */
	C_WAIT_INSTALLED, /* INSTALL sent */
	C_ACTIVE,
	C_ENROLL,	 /* TLS up without a certificate: waiting for enroll, nothing else */
	C_WAIT_ENROLLED, /* ENROLL_REQUEST sent */
};

struct client {
	uint64_t conn;
	int fd;
	SSL *ssl;
	enum cstate st;
	bool want_write;  /* the handshake or a write waits for POLLOUT */
	bool told_parent; /* a REQUEST went out: the parent is owed one REVOKE */
	char peer[CG_ADDRSTRLEN + 8];
	uint8_t peer_addr[16];
	uint16_t peer_port;
	struct identity id; /* the certificate's, once the handshake is done */
	uint32_t session;   /* installed and told to the client */
	uint32_t pending;   /* granted, being installed */
	struct cap_msg cap; /* the capability to send once installed */
	uint64_t deadline_ns;
	size_t txlen;
	uint8_t tx[TX_CAP];
	struct proto_rx rx;
};

struct worker {
	SSL_CTX *ctx;
	const char *trust_domain;
	int lfd, pfd;
	uint64_t dead_after_ns, handshake_ns;
	uint32_t max, n;
	uint64_t next_conn;
	struct client **cl;  /* max slots */
	struct pollfd *pfds; /* 2 + max */
	uint64_t *pconn;     /* conn id behind each pollfd */
	uint32_t *pslot;
	bool enroll; /* clients without a certificate may enroll */
	bool stop;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void to_parent(struct worker *w, const void *msg, size_t len)
{
	int err = authw_send(w->pfd, msg, len);

	if (err) {
		log_errno(err, "auth worker: cannot reach the parent");
		w->stop = true;
	}
}

static void peer_format(struct client *c, const struct sockaddr_storage *ss)
{
	char a[CG_ADDRSTRLEN];

	memset(c->peer_addr, 0, sizeof(c->peer_addr));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		c->peer_addr[10] = 0xff;
		c->peer_addr[11] = 0xff;
		memcpy(c->peer_addr + 12, &s4->sin_addr, 4);
		c->peer_port = ntohs(s4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		memcpy(c->peer_addr, &s6->sin6_addr, 16);
		c->peer_port = ntohs(s6->sin6_port);
	}
	addr_format_mapped(c->peer_addr, a, sizeof(a));
	snprintf(c->peer, sizeof(c->peer), addr_is_v4mapped(c->peer_addr) ? "%s:%u" : "[%s]:%u", a,
		 c->peer_port);
}

/* Writes what is queued; 0, or -EPIPE when the connection is gone. */
static int client_flush(struct client *c)
{
	int n, e;

	c->want_write = false;
	while (c->txlen) {
		ERR_clear_error();
		n = SSL_write(c->ssl, c->tx, (int)c->txlen);
		if (n > 0) {
			memmove(c->tx, c->tx + n, c->txlen - (size_t)n);
			c->txlen -= (size_t)n;
			continue;
		}
		e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
			c->want_write = e == SSL_ERROR_WANT_WRITE;
			return 0;
		}
		ERR_clear_error();
		return -EPIPE;
	}
	return 0;
}

static int client_send(struct client *c, const struct proto_msg *m)
{
	int err = proto_append(m, c->tx, sizeof(c->tx), &c->txlen);

	return err ? err : client_flush(c);
}

static struct client *find_conn(struct worker *w, uint64_t conn)
{
	uint32_t i;

	for (i = 0; i < w->max; i++)
		if (w->cl[i] && w->cl[i]->conn == conn)
			return w->cl[i];
	return NULL;
}

static struct client *find_session(struct worker *w, uint32_t session)
{
	uint32_t i;

	for (i = 0; i < w->max; i++)
		if (w->cl[i] && (w->cl[i]->session == session || w->cl[i]->pending == session))
			return w->cl[i];
	return NULL;
}

/* Ends a client: error message (if TLS is up), REVOKE if the parent knows it, one log line. */
static void client_close(struct worker *w, struct client *c, uint32_t reason, const char *detail)
{
	uint32_t i;

	if (c->st != C_HANDSHAKE) {
		if (reason != AUTHW_R_BYE && reason != AUTHW_R_CLOSED &&
		    reason != AUTHW_R_ENROLLED) {
			struct proto_msg m = { .type = PROTO_ERROR };

			/* A refused enrollment says why: the device has nothing else to go on. */
			if (reason == AUTHW_R_ENROLL && detail)
				snprintf(m.u.error.reason, sizeof(m.u.error.reason), "enroll: %s",
					 detail);
			else
				snprintf(m.u.error.reason, sizeof(m.u.error.reason), "%s",
					 authw_reason_str(reason));
			client_send(c, &m);
		}
		if (reason != AUTHW_R_CLOSED)
			SSL_shutdown(c->ssl);
	}
	if (c->told_parent) {
		struct authw_session_revoke r = {
			.type = AUTHW_SESSION_REVOKE,
			.session = c->session ? c->session : c->pending,
			.conn = c->conn,
			.reason = reason,
		};

		to_parent(w, &r, sizeof(r));
	}
	if (reason == AUTHW_R_ENROLLED)
		log_info("auth: %s enrolled (no certificate before)", c->peer);
	else if (c->session)
		log_info("auth: %s device=%s app=%s session=%u end reason=%s%s%s", c->peer,
			 c->id.device, c->id.app[0] ? c->id.app : "-", c->session,
			 authw_reason_str(reason), detail ? " " : "", detail ? detail : "");
	else
		log_info("auth: %s device=%s app=%s refused reason=%s%s%s", c->peer,
			 c->id.device[0] ? c->id.device : "-", c->id.app[0] ? c->id.app : "-",
			 authw_reason_str(reason), detail ? " " : "", detail ? detail : "");
	ERR_clear_error();
	for (i = 0; i < w->max; i++)
		if (w->cl[i] == c)
			w->cl[i] = NULL;
	SSL_free(c->ssl);
	close(c->fd);
	sodium_memzero(c, sizeof(*c));
	free(c);
	w->n--;
}

static void client_wait(struct worker *w, struct client *c, enum cstate st)
{
	c->st = st;
	c->deadline_ns = now_ns() + w->handshake_ns;
}

/* A client without a certificate: enroll goes to the parent, anything else ends it (true). */
static bool client_enroll(struct worker *w, struct client *c, const struct proto_msg *m)
{
	struct authw_enroll_request r = {
		.type = AUTHW_ENROLL_REQUEST,
		.conn = c->conn,
		.peer_port = c->peer_port,
	};

	if (m->type != PROTO_ENROLL) {
		/* Told to the parent, which counts it: session 0, the conn it never heard of. */
		c->told_parent = true;
		client_close(w, c, AUTHW_R_NO_CERT, proto_type_str(m->type));
		return true;
	}
	memcpy(r.peer_addr, c->peer_addr, sizeof(r.peer_addr));
	memcpy(r.token, m->u.enroll.token, sizeof(r.token));
	memcpy(r.csr, m->u.enroll.csr, sizeof(r.csr));
	client_wait(w, c, C_WAIT_ENROLLED);
	to_parent(w, &r, sizeof(r));
	sodium_memzero(&r, sizeof(r));
	return false;
}

/* Returns true if c was closed. */
static bool client_msg(struct worker *w, struct client *c, const struct proto_msg *m)
{
	struct proto_msg ack = { .type = PROTO_KEEPALIVE_ACK };

	if (c->st == C_ENROLL)
		return client_enroll(w, c, m);
	if (m->type == PROTO_BYE) {
		client_close(w, c, AUTHW_R_BYE, NULL);
		return true;
	}
	switch (c->st) {
	case C_HELLO:
		if (m->type == PROTO_HELLO) {
			struct authw_session_request r;

			/* hello's "app" is optional; given, it must be the certificate's. */
			if (m->u.hello.app[0] && strcmp(m->u.hello.app, c->id.app)) {
				char why[2 * PROTO_NAME_MAX + 48];

				snprintf(why, sizeof(why), "(hello app %s, certificate app %s)",
					 m->u.hello.app, c->id.app[0] ? c->id.app : "none");
				c->told_parent = true; /* a REVOKE for session 0: counted */
				client_close(w, c, AUTHW_R_APP_MISMATCH, why);
				return true;
			}
			memset(&r, 0, sizeof(r));
			r.type = AUTHW_SESSION_REQUEST;
			r.conn = c->conn;
			r.peer_port = c->peer_port;
			r.resume = m->u.hello.resume;
			r.id = c->id;
			memcpy(r.peer_addr, c->peer_addr, sizeof(r.peer_addr));
			r.offer = m->u.hello.offer;
			c->told_parent = true;
			client_wait(w, c, C_WAIT_GRANT);
			to_parent(w, &r, sizeof(r));
			return false;
		}
		break;
	case C_ACTIVE:
		if (m->type == PROTO_RENEW) {
			struct authw_session_renew r = {
				.type = AUTHW_SESSION_RENEW,
				.old_session = c->session,
				.conn = c->conn,
			};

			client_wait(w, c, C_WAIT_GRANT);
			to_parent(w, &r, sizeof(r));
			return false;
		}
		/* fallthrough */
	case C_WAIT_GRANT:
	case C_WAIT_INSTALLED:
		/* Keepalives keep flowing while a renewal is under way. */
		if (m->type == PROTO_KEEPALIVE && c->session) {
			if (c->st == C_ACTIVE)
				c->deadline_ns = now_ns() + w->dead_after_ns;
			if (client_send(c, &ack)) {
				client_close(w, c, AUTHW_R_CLOSED, NULL);
				return true;
			}
			return false;
		}
		break;
	case C_HANDSHAKE:
	case C_ENROLL:
	case C_WAIT_ENROLLED:
		break;
	}
	client_close(w, c, AUTHW_R_PROTOCOL, proto_type_str(m->type));
	return true;
}

static void client_read(struct worker *w, struct client *c)
{
	uint8_t buf[4096];
	struct proto_msg m;
	enum proto_verdict v;
	size_t off, used;
	int n, e;

	for (;;) {
		ERR_clear_error();
		n = SSL_read(c->ssl, buf, sizeof(buf));
		if (n <= 0) {
			e = SSL_get_error(c->ssl, n);
			if (e == SSL_ERROR_WANT_READ)
				return;
			if (e == SSL_ERROR_WANT_WRITE) {
				c->want_write = true;
				return;
			}
			client_close(w, c, AUTHW_R_CLOSED, NULL);
			return;
		}
		for (off = 0; off < (size_t)n; off += used) {
			used = 0;
			v = proto_rx_feed(&c->rx, buf + off, (size_t)n - off, &used, &m);
			if (v == PROTO_MORE)
				break;
			if (v != PROTO_OK) {
				client_close(w, c, AUTHW_R_PROTOCOL, proto_verdict_str(v));
				sodium_memzero(buf, sizeof(buf));
				return;
			}
			if (client_msg(w, c, &m)) {
				sodium_memzero(buf, sizeof(buf));
				return;
			}
		}
	}
}

static void client_handshake(struct worker *w, struct client *c)
{
	enum identity_verdict v;
	char why[256];
	X509 *leaf;
	long vr;
	int r, e;

	ERR_clear_error();
	r = SSL_accept(c->ssl);
	if (r != 1) {
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			c->want_write = e == SSL_ERROR_WANT_WRITE;
			return;
		}
		vr = SSL_get_verify_result(c->ssl);
		if (vr != X509_V_OK)
			snprintf(why, sizeof(why), "certificate: %s",
				 X509_verify_cert_error_string(vr));
		else
			tls_err_text("tls", why, sizeof(why));
		client_close(w, c, AUTHW_R_HANDSHAKE, why);
		return;
	}
	c->want_write = false;
	/* Only in enroll mode does a handshake without a certificate succeed (tls_server_enroll).
	 */
	if (w->enroll && !SSL_get0_peer_certificate(c->ssl)) {
		c->st = C_ENROLL;
		client_read(w, c);
		return;
	}
	c->st = C_HELLO; /* TLS is up: a refusal tells the client why; the deadline runs on */
	/* The handshake verified the chain: who it is comes from the leaf alone. */
	leaf = SSL_get0_peer_certificate(c->ssl);
	v = leaf ? identity_from_cert(leaf, w->trust_domain, &c->id) : IDENTITY_NO_SAN;
	if (v != IDENTITY_OK) {
		snprintf(why, sizeof(why), "(%s)", identity_verdict_str(v));
		c->told_parent = true; /* a REVOKE for session 0: the parent counts it */
		client_close(w, c, AUTHW_R_IDENTITY, why);
		return;
	}
	client_read(w, c);
}

static void do_accept(struct worker *w)
{
	/*
	 * accept4() always fills ss. It starts zeroed because clang's analyzer misses that
	 * write: glibc passes it through a transparent union (__SOCKADDR_ARG, LLVM #58992).
	 */
	struct sockaddr_storage ss = { 0 };
	struct client *c;
	socklen_t sl;
	uint32_t i;
	int fd, one = 1;

	for (;;) {
		sl = sizeof(ss);
		fd = accept4(w->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_errno(-errno, "auth worker: accept");
			return;
		}
		c = w->n < w->max ? calloc(1, sizeof(*c)) : NULL;
		if (c)
			c->ssl = SSL_new(w->ctx);
		if (!c || !c->ssl || SSL_set_fd(c->ssl, fd) != 1) {
			struct client tmp = { 0 };

			peer_format(&tmp, &ss);
			log_info("auth: %s refused reason=%s", tmp.peer,
				 authw_reason_str(AUTHW_R_BUSY));
			if (c)
				SSL_free(c->ssl);
			free(c);
			close(fd);
			ERR_clear_error();
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->fd = fd;
		c->conn = ++w->next_conn;
		c->st = C_HANDSHAKE;
		c->deadline_ns = now_ns() + w->handshake_ns;
		proto_rx_init(&c->rx);
		peer_format(c, &ss);
		for (i = 0; i < w->max; i++)
			if (!w->cl[i])
				break;
		w->cl[i] = c;
		w->n++;
	}
}

static void parent_grant(struct worker *w, const struct authw_grant *g)
{
	struct client *c = find_conn(w, g->conn);
	struct authw_session_install in = { .type = AUTHW_SESSION_INSTALL };

	if (!c)
		return; /* closed meanwhile: its REVOKE is on the way to the parent */
	if (c->st != C_WAIT_GRANT || g->session == c->session || find_session(w, g->session)) {
		client_close(w, c, AUTHW_R_INTERNAL, "(unexpected grant)");
		return;
	}
	grant_cap(g, &c->cap);
	in.session = g->session;
	in.conn = c->conn;
	if (tls_export_material(c->ssl, g->session, in.material)) {
		client_close(w, c, AUTHW_R_INTERNAL, "(exporter)");
		goto out;
	}
	c->pending = g->session;
	client_wait(w, c, C_WAIT_INSTALLED);
	to_parent(w, &in, sizeof(in));
out:
	sodium_memzero(&in, sizeof(in));
}

static void parent_installed(struct worker *w, const struct authw_installed *in)
{
	struct client *c = find_conn(w, in->conn);
	struct proto_msg m = { .type = PROTO_CAPABILITY };
	char vip[CG_ADDRSTRLEN];
	uint32_t old;

	if (!c)
		return;
	if (c->st != C_WAIT_INSTALLED || in->session != c->pending) {
		client_close(w, c, AUTHW_R_INTERNAL, "(unexpected installed)");
		return;
	}
	old = c->session;
	c->session = c->pending;
	c->pending = 0;
	c->st = C_ACTIVE;
	c->deadline_ns = now_ns() + w->dead_after_ns;
	m.u.cap = c->cap;
	addr_format_mapped(c->cap.vip, vip, sizeof(vip));
	if (old)
		log_info("auth: %s device=%s app=%s renewed session=%u old=%u vip=%s", c->peer,
			 c->id.device, c->id.app[0] ? c->id.app : "-", c->session, old, vip);
	else
		log_info("auth: %s device=%s app=%s granted session=%u vip=%s reason=ok", c->peer,
			 c->id.device, c->id.app[0] ? c->id.app : "-", c->session, vip);
	if (client_send(c, &m))
		client_close(w, c, AUTHW_R_CLOSED, NULL);
}

static void parent_enrolled(struct worker *w, const struct authw_enrolled *e)
{
	struct client *c = find_conn(w, e->conn);
	struct proto_msg m = { .type = PROTO_ENROLLED };

	if (!c)
		return;
	if (c->st != C_WAIT_ENROLLED) {
		client_close(w, c, AUTHW_R_INTERNAL, "(unexpected enrolled)");
		return;
	}
	if (e->status != AUTHW_E_OK) {
		client_close(w, c, AUTHW_R_ENROLL, authw_enroll_status_str(e->status));
		return;
	}
	memcpy(m.u.enrolled.cert, e->cert, sizeof(m.u.enrolled.cert));
	memcpy(m.u.enrolled.ca, e->ca, sizeof(m.u.enrolled.ca));
	if (client_send(c, &m))
		client_close(w, c, AUTHW_R_CLOSED, NULL);
	else
		client_close(w, c, AUTHW_R_ENROLLED, NULL);
}

static void parent_msg(struct worker *w)
{
	union authw_msg m;
	uint32_t type;
	size_t len;
	int n, err;
	struct client *c;

	for (;;) {
		n = dgram_recv(w->pfd, &m, sizeof(m), MSG_DONTWAIT);
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			return;
		if (n < 0) {
			if (n != -EPIPE)
				log_errno(n, "auth worker: parent socket");
			w->stop = true;
			return;
		}
		len = (size_t)n;
		err = authw_reply_check(&m, len, &type);
		if (err) {
			log_err("auth worker: refused a message from the parent (%zu bytes)", len);
			continue;
		}
		switch (type) {
		case AUTHW_GRANT:
			parent_grant(w, &m.grant);
			break;
		case AUTHW_INSTALLED:
			parent_installed(w, &m.installed);
			break;
		case AUTHW_ENROLLED:
			parent_enrolled(w, &m.enrolled);
			break;
		case AUTHW_DENY:
			c = find_conn(w, m.deny.conn);
			if (c)
				client_close(w, c, m.deny.reason, NULL);
			break;
		case AUTHW_KILL:
			c = find_session(w, m.kill.session);
			if (c)
				client_close(w, c, m.kill.reason, NULL);
			break;
#ifdef CG_TESTING
		case AUTHW_TEST_SYSCALL:
			/* socket(): the worker has no business opening a connection of its own. */
			log_info("auth worker: test request: socket()");
			n = socket(AF_INET, SOCK_DGRAM, 0);
			log_err("auth worker: socket() returned %d: the filter let it through", n);
			if (n >= 0)
				close(n);
			break;
#endif
		}
	}
}

static void expire(struct worker *w, uint64_t now)
{
	uint32_t i;

	for (i = 0; i < w->max; i++) {
		struct client *c = w->cl[i];

		if (c && now >= c->deadline_ns)
			client_close(w, c,
				     c->st == C_WAIT_GRANT || c->st == C_WAIT_INSTALLED ||
						     c->st == C_WAIT_ENROLLED
					     ? AUTHW_R_INTERNAL
					     : AUTHW_R_TIMEOUT,
				     c->st == C_ACTIVE ? "(silent)" : NULL);
	}
}

static int worker_loop(struct worker *w)
{
	uint64_t now, next;
	uint32_t i, k;
	int n, tmo;

	while (!w->stop) {
		now = now_ns();
		expire(w, now);
		next = UINT64_MAX;
		w->pfds[0] = (struct pollfd){ .fd = w->pfd, .events = POLLIN };
		w->pfds[1] = (struct pollfd){ .fd = w->lfd, .events = POLLIN };
		k = 2;
		for (i = 0; i < w->max; i++) {
			struct client *c = w->cl[i];

			if (!c)
				continue;
			w->pfds[k].fd = c->fd;
			w->pfds[k].events = c->want_write || c->txlen ? POLLOUT : 0;
			if (!c->want_write)
				w->pfds[k].events |= POLLIN;
			w->pfds[k].revents = 0;
			w->pconn[k] = c->conn;
			w->pslot[k] = i;
			k++;
			if (c->deadline_ns < next)
				next = c->deadline_ns;
		}
		tmo = -1;
		if (next != UINT64_MAX)
			tmo = next <= now ? 0 : (int)((next - now) / 1000000ULL + 1);
		n = poll(w->pfds, k, tmo);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_errno(-errno, "auth worker: poll");
			return 1;
		}
		if (w->pfds[0].revents)
			parent_msg(w);
		for (i = 2; i < k && !w->stop; i++) {
			struct client *c = w->cl[w->pslot[i]];

			if (!w->pfds[i].revents || !c || c->conn != w->pconn[i])
				continue;
			if (c->st == C_HANDSHAKE) {
				client_handshake(w, c);
				continue;
			}
			if (c->txlen && client_flush(c)) {
				client_close(w, c, AUTHW_R_CLOSED, NULL);
				continue;
			}
			client_read(w, c);
		}
		if (w->pfds[1].revents && !w->stop)
			do_accept(w);
	}
	return 0;
}

/* ---- privilege drop and start ------------------------------------------- */

static int caps_empty(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	int i;

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return -errno;
	for (i = 0; i < 2; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable)
			return -EPERM;
	return 0;
}

static int drop_privs(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	int cap;

	/* Empty the bounding set while we still hold CAP_SETPCAP. */
	for (cap = 0; cap < 64; cap++) {
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)) {
			if (errno == EINVAL)
				break;
			return -errno;
		}
	}
	if (setgroups(0, NULL) || setresgid(gid, gid, gid) || setresuid(uid, uid, uid))
		return -errno;
	/* Credentials changed: the kernel reset these, so set them after. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		return -errno;
	/* Prove it: there is no way back. */
	if (setuid(0) != -1 || setgid(0) != -1 || setgroups(0, NULL) != -1)
		return -EPERM;
	if (getresuid(&ru, &eu, &su) || getresgid(&rg, &eg, &sg))
		return -errno;
	if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid)
		return -EPERM;
	return caps_empty();
}

static void reset_signals(pid_t parent)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD };
	sigset_t none;
	size_t i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	signal(SIGPIPE, SIG_IGN); /* SSL_write on a dead socket */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != parent)
		_exit(1);
}

/* stderr and stdout become the log socket, one line per datagram, never blocking. */
static int log_to_parent(int logfd)
{
	static char line[1024];

	if (dup2(logfd, STDERR_FILENO) < 0 || dup2(logfd, STDOUT_FILENO) < 0 ||
	    fcntl(STDERR_FILENO, F_SETFL, O_NONBLOCK))
		return -errno;
	setvbuf(stderr, line, _IOLBF, sizeof(line));
	return 0;
}

/*
 * The worker is a fresh program (authw_start spawns /proc/self/exe), never a
 * fork of the threaded daemon: a forked child could inherit a lock another
 * thread held (the allocator's, OpenSSL's, the log's) and wait on it forever.
 * Its descriptors are these; its argv carries the rest of its configuration.
 */
enum { WFD_LISTEN = 3, WFD_PARENT, WFD_LOG };
enum {
	WA_CA = 1,
	WA_CERT,
	WA_KEY,
	WA_TRUST_DOMAIN,
	WA_UID,
	WA_GID,
	WA_PARENT,
	WA_MAX_CLIENTS,
	WA_DEAD_AFTER_NS,
	WA_HANDSHAKE_NS,
	WA_ENROLL,
	WA_LOG_LEVEL,
	WA_N,
};

static int worker_main(const struct authw_cfg *cfg, uid_t uid, gid_t gid, pid_t parent)
{
	struct worker w = {
		.trust_domain = cfg->trust_domain,
		.lfd = WFD_LISTEN,
		.pfd = WFD_PARENT,
		.dead_after_ns = cfg->dead_after_ns ? cfg->dead_after_ns : CG_DEAD_AFTER_DEFAULT_NS,
		.handshake_ns = cfg->handshake_ns ? cfg->handshake_ns : DEF_HANDSHAKE_NS,
		.max = cfg->max_clients ? cfg->max_clients : DEF_MAX_CLIENTS,
		.enroll = cfg->enroll,
	};
	struct authw_ready ready = { .type = AUTHW_READY };
	char why[512] = "";
	int err, ret = 1;

	if (log_to_parent(WFD_LOG))
		goto out;
	/* Left: stdio (the log), the listening socket and the parent's socket. */
	close_range(WFD_LOG, ~0U, 0);
	/* The key is read here, as root, by the worker alone: the daemon never holds it. */
	w.ctx = tls_server_ctx(cfg->ca, cfg->cert, cfg->key, why, sizeof(why));
	if (!w.ctx || (cfg->enroll && tls_server_enroll(w.ctx, cfg->ca, why, sizeof(why)))) {
		log_err("auth worker: %s", why);
		goto out;
	}
	/* jansson seeds its hash from /dev/urandom at its first object: now, while it can. */
	json_object_seed(0);
	/*
	 * Descriptors: 0..WFD_PARENT, one per client, and one more to accept and
	 * refuse a client past max (at the limit accept() would fail and poll() spin).
	 */
	err = sandbox_rlimits((uint64_t)WFD_PARENT + 2 + w.max,
			      DATA_BASE + (uint64_t)w.max * DATA_PER_CLIENT + DATA_SANITIZER);
	if (!err)
		err = sandbox_empty_root();
	if (err) {
		log_errno(err, "auth worker: cannot sandbox itself");
		goto out;
	}
	err = drop_privs(uid, gid);
	if (err) {
		log_errno(err, "auth worker: cannot drop privileges");
		goto out;
	}
	reset_signals(parent);
	w.cl = calloc(w.max, sizeof(*w.cl));
	w.pfds = calloc(w.max + 2, sizeof(*w.pfds));
	w.pconn = calloc(w.max + 2, sizeof(*w.pconn));
	w.pslot = calloc(w.max + 2, sizeof(*w.pslot));
	if (!w.cl || !w.pfds || !w.pconn || !w.pslot)
		goto out;
	/* Last: from here on only the system calls of the allow-list. */
	err = sandbox_seccomp();
	if (err) {
		log_errno(err, "auth worker: cannot install its seccomp filter");
		goto out;
	}
	ready.pid = (uint32_t)getpid();
	if (authw_send(w.pfd, &ready, sizeof(ready)))
		goto out;
	ret = worker_loop(&w);
out:
	/* The process ends right after; clients' TLS state goes with it. */
	free(w.cl);
	free(w.pfds);
	free(w.pconn);
	free(w.pslot);
	return ret;
}

static int arg_u64(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

void authw_worker_entry(int argc, char **argv)
{
	struct authw_cfg cfg = { 0 };
	uint32_t uid, gid, parent, level, enroll;

	if (argc < 1 || strcmp(argv[0], AUTHW_ARGV0) != 0)
		return;
	if (argc != WA_N || parse_u32(argv[WA_UID], 1, UINT32_MAX - 1, &uid) ||
	    parse_u32(argv[WA_GID], 0, UINT32_MAX - 1, &gid) ||
	    parse_u32(argv[WA_PARENT], 1, INT32_MAX, &parent) ||
	    parse_u32(argv[WA_MAX_CLIENTS], 0, UINT32_MAX / 2, &cfg.max_clients) ||
	    arg_u64(argv[WA_DEAD_AFTER_NS], &cfg.dead_after_ns) ||
	    arg_u64(argv[WA_HANDSHAKE_NS], &cfg.handshake_ns) ||
	    parse_u32(argv[WA_ENROLL], 0, 1, &enroll) ||
	    parse_u32(argv[WA_LOG_LEVEL], LOG_LVL_ERR, LOG_LVL_DEBUG, &level)) {
		log_err("auth worker: started with the wrong arguments");
		_exit(2);
	}
	log_set_level((enum log_level)level);
	cfg.ca = argv[WA_CA];
	cfg.cert = argv[WA_CERT];
	cfg.key = argv[WA_KEY];
	cfg.trust_domain = argv[WA_TRUST_DOMAIN];
	cfg.enroll = enroll;
	/* _exit: no atexit handler of the program (nor LeakSanitizer) runs in the worker. */
	_exit(worker_main(&cfg, (uid_t)uid, (gid_t)gid, (pid_t)parent));
}

static int listen_socket(const struct authw_cfg *cfg, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	uint8_t a[16];
	int fd = -1, one = 1, zero_ = 0, ret;
	bool v4 = false, any = !cfg->bind_addr || !*cfg->bind_addr;

	memset(&ss, 0, sizeof(ss));
	if (!any) {
		if (addr_parse_mapped(cfg->bind_addr, a))
			return -EINVAL;
		v4 = addr_is_v4mapped(a);
	}
	fd = socket(v4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 && any && errno == EAFNOSUPPORT) {
		v4 = true;
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(cfg->port);
		if (!any)
			memcpy(&s4->sin_addr, a + 12, 4);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		/* Dual-stack for "any"; an explicit IPv6 address is IPv6 only. */
		if (any)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero_, sizeof(zero_));
		else
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(cfg->port);
		if (!any)
			memcpy(&s6->sin6_addr, a, 16);
		sl = sizeof(*s6);
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 128))
		goto fail;
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl))
		goto fail;
	*port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					      : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
fail:
	ret = -errno;
	close(fd);
	return ret;
}

/* Copies the worker's waiting log lines to our stderr (fd < 0: none). */
static void relay(int fd)
{
	char line[2048];
	ssize_t n;

	if (fd < 0)
		return;
	while ((n = recv(fd, line, sizeof(line), MSG_DONTWAIT)) > 0)
		if (write(STDERR_FILENO, line, (size_t)n) != n)
			break;
}

/*
 * Starts the worker program: /proc/self/exe as AUTHW_ARGV0 with the listening
 * socket, its end of the socketpair and the log socket as WFD_*. posix_spawn
 * (a vfork and an exec, no fork handlers) runs nothing of ours in between,
 * which is what a threaded process may do.
 */
static int spawn_worker(const struct authw_cfg *cfg, uid_t uid, gid_t gid, const int fds[3],
			pid_t *pid)
{
	char nums[WA_N][24];
	char *argv[WA_N + 1] = { [0] = AUTHW_ARGV0 };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int hi[3] = { -1, -1, -1 }, i, ret;

	argv[WA_CA] = (char *)(cfg->ca ? cfg->ca : "");
	argv[WA_CERT] = (char *)(cfg->cert ? cfg->cert : "");
	argv[WA_KEY] = (char *)(cfg->key ? cfg->key : "");
	argv[WA_TRUST_DOMAIN] =
		(char *)(cfg->trust_domain ? cfg->trust_domain : CG_TRUST_DOMAIN_DEFAULT);
	snprintf(nums[WA_UID], sizeof(nums[0]), "%u", (unsigned int)uid);
	snprintf(nums[WA_GID], sizeof(nums[0]), "%u", (unsigned int)gid);
	snprintf(nums[WA_PARENT], sizeof(nums[0]), "%d", (int)getpid());
	snprintf(nums[WA_MAX_CLIENTS], sizeof(nums[0]), "%u", cfg->max_clients);
	snprintf(nums[WA_DEAD_AFTER_NS], sizeof(nums[0]), "%llu",
		 (unsigned long long)cfg->dead_after_ns);
	snprintf(nums[WA_HANDSHAKE_NS], sizeof(nums[0]), "%llu",
		 (unsigned long long)cfg->handshake_ns);
	snprintf(nums[WA_ENROLL], sizeof(nums[0]), "%d", cfg->enroll ? 1 : 0);
	snprintf(nums[WA_LOG_LEVEL], sizeof(nums[0]), "%d", (int)log_get_level());
	for (i = WA_UID; i < WA_N; i++)
		argv[i] = nums[i];

	/* Copies above WFD_LOG, so that no dup2 onto 3..5 overwrites a source. */
	for (i = 0; i < 3; i++) {
		hi[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, WFD_LOG + 1);
		if (hi[i] < 0) {
			ret = -errno;
			goto out;
		}
	}
	ret = -posix_spawn_file_actions_init(&fa);
	if (ret)
		goto out;
	ret = -posix_spawnattr_init(&at);
	if (ret) {
		posix_spawn_file_actions_destroy(&fa);
		goto out;
	}
	sigemptyset(&none);
	sigfillset(&all);
	/* Only stdio and WFD_* cross the exec; every signal default and unblocked. */
	for (i = 0; i < 3 && !ret; i++)
		ret = -posix_spawn_file_actions_adddup2(&fa, hi[i], WFD_LISTEN + i);
	if (!ret)
		ret = -posix_spawn_file_actions_addclosefrom_np(&fa, WFD_LOG + 1);
	if (!ret)
		ret = -posix_spawnattr_setsigmask(&at, &none);
	if (!ret)
		ret = -posix_spawnattr_setsigdefault(&at, &all);
	if (!ret)
		ret = -posix_spawnattr_setflags(&at,
						POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if (!ret)
		ret = -posix_spawn(pid, "/proc/self/exe", &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
out:
	for (i = 0; i < 3; i++)
		if (hi[i] >= 0)
			close(hi[i]);
	return ret;
}

int authw_start(const struct authw_cfg *cfg, struct authw *w)
{
	const char *user = cfg->user && *cfg->user ? cfg->user : "nobody";
	struct pollfd p;
	union authw_msg m;
	struct passwd *pw;
	uint32_t type;
	uint16_t port = 0;
	size_t len;
	pid_t pid = -1;
	int sv[2] = { -1, -1 }, lg[2] = { -1, -1 }, lfd = -1, ret, status;

	if (geteuid() != 0) {
		ret = -EPERM;
		log_err("auth worker: needs root to drop privileges to %s", user);
		goto out;
	}
	pw = getpwnam(user);
	if (!pw || pw->pw_uid == 0) {
		ret = -ENOENT;
		log_err("auth worker: no unprivileged user \"%s\"", user);
		goto out;
	}
	lfd = listen_socket(cfg, &port);
	if (lfd < 0) {
		ret = lfd;
		log_errno(ret, "auth worker: listen on port %u", cfg->port);
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, lg) ||
	    fcntl(lg[0], F_SETFL, O_NONBLOCK)) {
		ret = -errno;
		log_errno(ret, "auth worker: socketpair");
		goto out;
	}
	ret = spawn_worker(cfg, pw->pw_uid, pw->pw_gid, (const int[3]){ lfd, sv[1], lg[1] }, &pid);
	if (ret) {
		pid = -1;
		log_errno(ret, "auth worker: cannot start /proc/self/exe");
		goto out;
	}
	close(sv[1]);
	sv[1] = -1;
	close(lg[1]);
	lg[1] = -1;
	/* READY means: the TLS context loaded, privileges dropped and checked. */
	p = (struct pollfd){ .fd = sv[0], .events = POLLIN };
	ret = poll(&p, 1, READY_TIMEOUT_MS);
	if (ret <= 0) {
		ret = ret < 0 ? -errno : -ETIMEDOUT;
		goto fail;
	}
	ret = authw_recv(sv[0], &m, sizeof(m), &len);
	if (!ret)
		ret = authw_msg_check(&m, len, &type);
	if (!ret && (type != AUTHW_READY || m.ready.pid != (uint32_t)pid))
		ret = -EPROTO;
	if (ret)
		goto fail;
	w->pid = pid;
	w->fd = sv[0];
	w->log_fd = lg[0];
	w->port = port;
	sv[0] = lg[0] = -1;
	ret = 0;
	goto out;
fail:
	relay(lg[0]); /* the worker's own reason, if it said one */
	log_errno(ret, "auth worker did not start");
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
out:
	/* The parent keeps no listening socket (and never had the server key). */
	if (lfd >= 0)
		close(lfd);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (lg[0] >= 0)
		close(lg[0]);
	if (lg[1] >= 0)
		close(lg[1]);
	return ret;
}

void authw_log_relay(const struct authw *w)
{
	relay(w->log_fd);
}

int authw_stop(struct authw *w)
{
	int status = -1;

	relay(w->log_fd);
	if (w->pid > 0) {
		/* A worker that already died is a zombie: the signal changes nothing of its status.
		 */
		kill(w->pid, SIGKILL);
		while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (w->fd >= 0)
		close(w->fd);
	if (w->log_fd >= 0)
		close(w->log_fd);
	w->pid = -1;
	w->fd = -1;
	w->log_fd = -1;
	return status;
}
