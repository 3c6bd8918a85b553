/* SPDX-License-Identifier: GPL-2.0 */
/* The unprivileged TLS auth worker and its fixed request table to the privileged parent. */
#ifndef CG_AUTH_PRIVSEP_H
#define CG_AUTH_PRIVSEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "abi/tunnel.h"
#include "lib/auth/identity.h"
#include "lib/auth/proto.h"
#include "lib/auth/tls.h"
#include "lib/auth/token.h"

/*
 * Parent <-> worker: one fixed-size struct per SOCK_SEQPACKET datagram, in
 * the manner of OpenSSH's mon_dispatch table. Each starts with a u32 type;
 * a datagram is valid only if its type is in the receiver's table and its
 * length is exactly that type's struct (authw_msg_check, authw_reply_check).
 * Host byte order (same machine). Pads are zero.
 *
 * Per TLS connection (conn id, chosen by the worker, never reused):
 *   worker                              parent
 *   SESSION_REQUEST {conn, identity, offer} ->
 *                                       <- GRANT {conn, session, mode, cipher, ...} | DENY
 *                                          (the parent decides mode and cipher:
 *                                          proto_offer_choose)
 *   SESSION_INSTALL {conn, session, 64 exporter bytes} ->
 *                                       <- INSTALLED {conn, session}   (keys in the map)
 *   ... the worker replies "capability" to the client only now ...
 *   SESSION_RENEW {conn, old session}   ->  <- GRANT (new session) ... as above
 *   SESSION_REVOKE {conn, session, why} ->     (exactly once per conn id the
 *                                              parent heard of; session 0 = none yet;
 *                                              also for a conn refused before its
 *                                              request, so the parent counts it:
 *                                              identity, app_mismatch)
 *                                       <- KILL {session, reason} (admin revoke,
 *                                          revocation, policy: the worker closes that
 *                                          client with reason, then sends REVOKE)
 * The worker sends the 64 exporter bytes, not derived keys: key derivation
 * (keys_derive) happens once, in the parent, which wipes the material.
 *
 * A client without a certificate ([auth] enroll = yes only) sends one enroll message:
 *   ENROLL_REQUEST {conn, token, csr}  ->
 *                                       <- ENROLLED {conn, status, cert, ca}
 *   (the parent spends the token, signs the CSR, writes the certificate; the
 *   worker sends enrolled{} or error{"enroll: STATUS"} and closes). Anything
 *   else from such a client: SESSION_REVOKE {conn, 0, no_certificate}, so the
 *   parent counts it.
 */
enum authw_type {
	/* worker -> parent */
	AUTHW_READY = 1, /* privileges dropped, serving */
	AUTHW_SESSION_REQUEST,
	AUTHW_SESSION_INSTALL,
	AUTHW_SESSION_REVOKE,
	AUTHW_SESSION_RENEW,
	AUTHW_ENROLL_REQUEST,
	/* parent -> worker */
	AUTHW_GRANT = 0x81,
	AUTHW_DENY,
	AUTHW_INSTALLED,
	AUTHW_KILL,
	AUTHW_ENROLLED,
	/*
	 * Test builds only (CG_TESTING): the worker makes a system call its
	 * seccomp filter forbids, and dies of SIGSYS. A production build's table
	 * does not have it: refused like any unknown type.
	 */
	AUTHW_TEST_SYSCALL = 0xF0,
};

/* Why a client was refused or a session ended: logged by the worker, sent in DENY/REVOKE. */
enum authw_reason {
	AUTHW_R_OK = 0,
	AUTHW_R_HANDSHAKE, /* TLS handshake failed (bad or missing certificate, not TLS 1.3) */
	AUTHW_R_IDENTITY,  /* the certificate has no valid SPIFFE identity (identity_from_cert) */
	AUTHW_R_PROTOCOL,  /* malformed or unexpected control message */
	AUTHW_R_TIMEOUT,   /* handshake/hello too slow, or silent past dead_after */
	AUTHW_R_CLOSED,	   /* TCP/TLS connection dropped */
	AUTHW_R_BYE,	   /* client said bye */
	AUTHW_R_POLICY,	   /* parent: (device, app) not allowed */
	AUTHW_R_POOL,	   /* parent: no virtual address or session left */
	AUTHW_R_INTERNAL,  /* parent or worker failure (map update, exporter, ...) */
	AUTHW_R_KILLED,	   /* admin revoked the session */
	AUTHW_R_BUSY,	   /* too many clients */
	AUTHW_R_LIMIT,	   /* parent: the device holds max_sessions_per_device already */
	AUTHW_R_TOO_EARLY, /* parent: renewal before renew_after of the session's lifetime */
	AUTHW_R_APP_MISMATCH, /* hello names an app that is not the certificate's */
	AUTHW_R_REVOKED,  /* parent: the device, app or certificate is revoked (or in the CRL) */
	AUTHW_R_NO_CERT,  /* no certificate, and the first message was not enroll */
	AUTHW_R_ENROLL,	  /* parent: the enrollment was refused (enum authw_enroll_status) */
	AUTHW_R_ENROLLED, /* the certificate was sent: the connection's work is done */
	AUTHW_R_MAX,
};

/*
 * ENROLLED's status: 0, a token refusal (enum token_verdict, 1..TOKEN_MAX-1),
 * or one of these.
 */
enum authw_enroll_status {
	AUTHW_E_OK = 0,
	AUTHW_E_BAD_CSR = TOKEN_MAX, /* the CSR does not parse or verify, or its key type */
	AUTHW_E_INTERNAL,	     /* signing or writing the certificate failed */
	AUTHW_E_REVOKED,	     /* the token's device or app is revoked (the token is spent) */
	AUTHW_E_EXISTS,		     /* the key name is enrolled already (the token is spent) */
	AUTHW_E_MAX,
};

/*
 * "ok", the token verdict's name ("spent", ...), "bad_csr", "internal",
 * "revoked", "exists"; "?" else.
 */
const char *authw_enroll_status_str(uint32_t status);

/* "ok", "handshake", ...: stable names for logs, counters and the client's error message. */
const char *authw_reason_str(uint32_t reason);

struct authw_ready {
	uint32_t type; /* AUTHW_READY */
	uint32_t pid;
};

struct authw_session_request {
	uint32_t type;	 /* AUTHW_SESSION_REQUEST */
	uint32_t resume; /* hello's "resume": the session the client held before, 0 = none */
	uint64_t conn;
	/*
	 * The verified certificate's identity (identity_from_cert), never the
	 * request's: device a name, app "" (a device certificate) or a name,
	 * ngroups <= CG_CERT_GROUPS_MAX names, serial_len 1..CG_SERIAL_MAX;
	 * unused bytes (after a NUL, groups and serial bytes past their count,
	 * the struct's tail) zero.
	 */
	struct identity id;
	uint8_t peer_addr[16];	  /* IPv4-mapped for IPv4 */
	uint16_t peer_port;	  /* host order */
	struct proto_offer offer; /* hello's mode and ciphers (proto_offer_ok) */
	uint32_t pad;
};
_Static_assert(sizeof(struct identity) == 700, "identity: 3 tail bytes, checked zero");
_Static_assert(sizeof(struct authw_session_request) == 744, "no implicit padding");

struct authw_session_install {
	uint32_t type; /* AUTHW_SESSION_INSTALL */
	uint32_t session;
	uint64_t conn;
	uint8_t material[TLS_MATERIAL_LEN]; /* exporter(session): wipe after keys_derive */
};

struct authw_session_revoke {
	uint32_t type;	  /* AUTHW_SESSION_REVOKE */
	uint32_t session; /* 0: the conn never got one */
	uint64_t conn;
	uint32_t reason; /* enum authw_reason */
	uint32_t pad;
};

struct authw_session_renew {
	uint32_t type; /* AUTHW_SESSION_RENEW */
	uint32_t old_session;
	uint64_t conn;
};

struct authw_enroll_request {
	uint32_t type; /* AUTHW_ENROLL_REQUEST */
	uint32_t pad;
	uint64_t conn;
	uint8_t peer_addr[16]; /* IPv4-mapped for IPv4 */
	uint16_t peer_port;    /* host order */
	uint8_t pad2[6];
	char token[PROTO_TOKEN_MAX]; /* as enroll sent it: token_parse's format */
	char csr[PROTO_CSR_MAX];     /* PEM, proto_pem_ok; the parent parses it */
};
_Static_assert(sizeof(struct authw_enroll_request) == 2240, "no implicit padding");

struct authw_enrolled {
	uint32_t type;	 /* AUTHW_ENROLLED */
	uint32_t status; /* enum authw_enroll_status */
	uint64_t conn;
	char cert[PROTO_PEM_MAX]; /* status 0: the device's certificate, PEM; else all zero */
	char ca[PROTO_PEM_MAX];	  /* status 0: the CA certificate, PEM; else all zero */
};

struct authw_grant {
	uint32_t type;	  /* AUTHW_GRANT */
	uint32_t session; /* nonzero, new */
	uint64_t conn;
	uint8_t vip[16];
	uint32_t expires_in_s;
	uint32_t keepalive_s;
	uint16_t data_port;
	uint8_t mode;	/* 0 integrity, CG_TUN_F_ENCRYPTED */
	uint8_t cipher; /* enum cg_cipher for encrypted, 0 for integrity */
	uint32_t nscopes;
	struct cg_scope scopes[CG_MAX_SCOPES];
};

struct authw_deny {
	uint32_t type;	 /* AUTHW_DENY */
	uint32_t reason; /* enum authw_reason */
	uint64_t conn;
};

struct authw_installed {
	uint32_t type; /* AUTHW_INSTALLED */
	uint32_t session;
	uint64_t conn;
};

struct authw_kill {
	uint32_t type; /* AUTHW_KILL */
	uint32_t session;
	uint32_t reason; /* why the worker closes it: AUTHW_R_KILLED, _REVOKED or _POLICY */
	uint32_t pad;
};

struct authw_test_syscall {
	uint32_t type; /* AUTHW_TEST_SYSCALL */
	uint32_t pad;
};

/* Room for any message. */
union authw_msg {
	uint32_t type;
	struct authw_ready ready;
	struct authw_session_request req;
	struct authw_session_install install;
	struct authw_session_revoke revoke;
	struct authw_session_renew renew;
	struct authw_enroll_request enroll;
	struct authw_grant grant;
	struct authw_deny deny;
	struct authw_installed installed;
	struct authw_kill kill;
	struct authw_enrolled enrolled;
	struct authw_test_syscall test;
};

/*
 * The parent's table: buf[0..len) is a valid worker -> parent message
 * (READY, SESSION_*, ENROLL_REQUEST): known type, exact size, a valid
 * identity (see authw_session_request), nonzero ids, reason in range, zero
 * pads; an enroll's token in token_parse's format and its CSR one PEM block,
 * zero after each NUL. Returns 0 and writes *type, or -EINVAL (type unknown
 * to this table) / -EBADMSG (wrong size or content).
 */
int authw_msg_check(const void *buf, size_t len, uint32_t *type);

/*
 * The worker's table: the same for parent -> worker messages (GRANT, DENY,
 * INSTALLED, KILL, ENROLLED: status in range, two PEM certificates for 0 and
 * nothing for a refusal; and TEST_SYSCALL in test builds).
 */
int authw_reply_check(const void *buf, size_t len, uint32_t *type);

/*
 * The parent's per-connection state machine, so a request out of order is
 * refused like an unknown one:
 *   NEW -SESSION_REQUEST-> REQUESTED -GRANT-> GRANTED -SESSION_INSTALL->
 *   INSTALLING -INSTALLED-> ACTIVE -SESSION_RENEW-> REQUESTED ...
 *   REQUESTED or INSTALLING -DENY-> DENIED
 *   KILL: in REQUESTED, GRANTED, INSTALLING, ACTIVE (state unchanged)
 *   SESSION_REVOKE: from any state but DONE -> DONE (then forget the conn)
 *   NEW -ENROLL_REQUEST-> ENROLLING -ENROLLED-> DONE
 */
enum authw_conn_state {
	AUTHW_CS_NEW = 0,
	AUTHW_CS_REQUESTED,  /* waiting for the parent's GRANT/DENY */
	AUTHW_CS_GRANTED,    /* GRANT sent, waiting for SESSION_INSTALL */
	AUTHW_CS_INSTALLING, /* SESSION_INSTALL received, waiting for the parent's INSTALLED (or
				DENY) */
	AUTHW_CS_ACTIVE,     /* INSTALLED sent */
	AUTHW_CS_ENROLLING,  /* ENROLL_REQUEST received, waiting for the parent's ENROLLED */
	AUTHW_CS_DENIED,
	AUTHW_CS_DONE, /* the last: nothing follows */
};

/*
 * Advances *st for a message of type (either direction). Returns 0, or
 * -EPROTO if that message is not allowed in *st (then *st is unchanged).
 */
int authw_conn_step(enum authw_conn_state *st, uint32_t type);

/*
 * One datagram out: 0, -EMSGSIZE (short send), or -errno (-EAGAIN on a full
 * non-blocking socket, -EPIPE if the other side is gone). No SIGPIPE.
 */
int authw_send(int fd, const void *msg, size_t len);

/*
 * One datagram in, into buf[0..cap): 0 and *len, -EMSGSIZE (truncated: the
 * datagram was larger than cap), -EPIPE (the other side closed), or -errno.
 */
int authw_recv(int fd, void *buf, size_t cap, size_t *len);

struct authw_cfg {
	const char *ca, *cert, *key; /* PEM files; read by the worker alone, as root */
	const char *bind_addr;	     /* NULL or "" = any address, IPv6 dual-stack if available */
	uint16_t port;		     /* auth port; 0 = an ephemeral one (tests), see authw.port */
	const char *user;	     /* NULL = "nobody" */
	uint64_t dead_after_ns;	     /* active client silent this long: revoke. 0 = 20 s */
	uint64_t handshake_ns;	  /* TLS handshake + hello (and parent replies) within. 0 = 10 s */
	uint32_t max_clients;	  /* 0 = 1024 */
	const char *trust_domain; /* client certificates' SPIFFE trust domain; NULL = capgate */
	bool enroll; /* also take clients without a certificate, for one enroll (tls_server_enroll)
		      */
};

struct authw {
	pid_t pid;     /* the worker, -1 if none */
	int fd;	       /* the parent's end of the socketpair (SOCK_SEQPACKET, CLOEXEC, blocking) */
	int log_fd;    /* the worker's stderr, one line per datagram: see authw_log_relay */
	uint16_t port; /* the bound auth port */
};
/* A stopped worker: declare struct authw w = AUTHW_INIT so authw_stop() is always safe. */
#define AUTHW_INIT                                           \
	{                                                    \
		.pid = -1, .fd = -1, .log_fd = -1, .port = 0 \
	}

/*
 * Binds the auth port (as root) and starts the worker, a fresh copy of this
 * program (posix_spawn of /proc/self/exe as AUTHW_ARGV0: never a fork of a
 * threaded process, whose child could inherit a held lock). The worker, still
 * root, loads the TLS context (the key is read there only), sandboxes itself
 * (RLIMIT_CORE/FSIZE 0, RLIMIT_NOFILE and RLIMIT_DATA bounded, an empty
 * read-only root in its own mount namespace), drops privileges (setgroups,
 * setresgid/setresuid to cfg->user, no capabilities, PR_SET_NO_NEW_PRIVS, not
 * dumpable; it checks that setuid(0) fails), installs its seccomp filter and
 * only then accepts connections. Waits for the worker's READY (5 s). Needs
 * root (-EPERM otherwise). Returns 0 and fills *w, or -errno with a reason
 * logged (the worker's own, such as a bad key, relayed).
 */
int authw_start(const struct authw_cfg *cfg, struct authw *w);

/* argv[0] of the worker program that authw_start spawns. */
#define AUTHW_ARGV0 "capgate-auth-worker"

/*
 * Call first in main() of every program that may call authw_start (capgate,
 * the test runner): if argv[0] is AUTHW_ARGV0, runs the worker and exits,
 * else returns at once.
 */
void authw_worker_entry(int argc, char **argv);

/*
 * The worker cannot write a file (RLIMIT_FSIZE 0), so its stderr is a socket
 * to the parent: this copies the lines waiting there to the parent's stderr,
 * without blocking. Poll w->log_fd for POLLIN. A parent that does not read
 * loses lines; the worker never blocks on them.
 */
void authw_log_relay(const struct authw *w);

/*
 * Relays the worker's last lines, kills it by pid (SIGKILL), reaps it, closes
 * the fds. Returns its wait status (a worker that died on its own keeps its
 * cause: WTERMSIG == SIGSYS for a system call the filter refused), or -1 if
 * there was no worker. Safe on a stopped *w.
 */
int authw_stop(struct authw *w);

#endif
