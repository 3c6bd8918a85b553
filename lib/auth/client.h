/* SPDX-License-Identifier: GPL-2.0 */
/* The client side of the control channel: mutual TLS to the gateway, hello, capability, keys. */
#ifndef CG_AUTH_CLIENT_H
#define CG_AUTH_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "lib/auth/proto.h"
#include "lib/tunnel/keys.h"

struct authc_cfg {
	const char *gateway;	     /* address or DNS name to dial */
	uint16_t port;		     /* TLS auth port (8443) */
	const char *name;	     /* name the gateway certificate must carry; NULL = gateway */
	const char *ca, *cert, *key; /* PEM files; the key must be mode 0600 */
	const char *app;	     /* hello's "app": NULL or "" = none (the certificate says) */
	uint8_t mode;		     /* [client] mode: 0 policy, CG_TUN_F_ENCRYPTED */
	uint8_t cipher;		     /* [client] cipher: 0 auto, or one enum cg_cipher */
	uint32_t resume;	     /* hello's "resume": the session held before, 0 = none */
	uint64_t timeout_ns;	     /* connect + handshake + capability; 0 = 10 s */
};

/* An open control channel and the session it carries. */
struct authc {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	struct cap_msg cap;	  /* the current capability */
	struct proto_offer offer; /* what hello asked for: every capability is held to it */
	struct session_keys keys; /* its keys (wiped by authc_close) */
	bool renewing;		  /* a renew was sent, no capability yet */
	size_t txlen;		  /* queued output */
	uint8_t tx[4096];	  /* room for an enroll with its CSR */
	size_t inoff, inlen;	  /* decrypted input not yet framed */
	uint8_t in[4096];
	struct proto_rx rx;
};

enum authc_event_type {
	AUTHC_EV_NONE = 0, /* nothing complete yet */
	AUTHC_EV_KEEPALIVE_ACK,
	AUTHC_EV_RENEWED, /* ev->cap and ev->keys are the new session (also now in c) */
	AUTHC_EV_ERROR,	  /* the gateway sent error{reason} (ev->reason) and closes */
	AUTHC_EV_CLOSED,  /* the connection ended (bye, EOF, a protocol error, or a renewed
			     capability proto_cap_accept refuses: ev->reason says which) */
};

struct authc_event {
	uint32_t type; /* enum authc_event_type */
	struct cap_msg cap;
	struct session_keys keys; /* the caller wipes them (keys_wipe) */
	char reason[PROTO_REASON_MAX];
};

/*
 * None of these calls raises SIGPIPE (it is blocked in the calling thread
 * for the duration of each call). Not thread-safe on one struct authc.
 *
 * Dials gateway:port (each address it resolves to, within the timeout),
 * TLS 1.3 with the device certificate, checks the gateway certificate against
 * ca and name, sends hello{app, mode, ciphers, resume} (proto_offer_make of
 * cfg's mode and cipher; resume if not 0) and waits for the capability,
 * refuses one the offer does not allow (proto_cap_accept: -EPROTO, the
 * reason in err), then derives the
 * session keys from the exporter (keys_export). Returns 0 with *c filled (the
 * socket is left non-blocking for authc_process), or -errno with a reason in
 * err: -ECONNREFUSED/-ETIMEDOUT/-EHOSTUNREACH (unreachable: retry with
 * backoff), -EACCES (the gateway refused: err has its reason), -EPROTO, ...
 * *c is written only on success; authc_close() releases it.
 */
int authc_connect(const struct authc_cfg *cfg, struct authc *c, char *err, size_t errlen);

/*
 * Enrollment, for a device without a certificate: dials cfg->gateway:port
 * (name and timeout_ns as authc_connect; ca, cert, key and app unused), TLS
 * 1.3 without a certificate, and before sending anything checks the gateway
 * against the CA the token names (tls_pin_verify: that CA, from the presented
 * chain, is the only trust anchor). Then sends enroll{token, csr} and waits
 * for enrolled{}. Returns 0 with *cert (the new certificate, checked to be
 * signed by the pinned CA) and *ca (the pinned CA), X509_free both; or -errno
 * with a reason in err: -EACCES (the gateway is not the token's, or refused:
 * err has its reason, "enroll: spent" ...), -EINVAL (bad token or CSR),
 * -ETIMEDOUT, -EPROTO, ...
 */
int authc_enroll(const struct authc_cfg *cfg, const char *token, const char *csr, X509 **cert,
		 X509 **ca, char *err, size_t errlen);

/* The socket to poll for POLLIN (and POLLOUT while authc_want_write()). */
int authc_fd(const struct authc *c);
bool authc_want_write(const struct authc *c);

/*
 * Non-blocking: reads what arrived and reports at most one event (call again
 * while it returns an event other than NONE). Returns 0 with *ev filled, or
 * -errno on a local failure. After AUTHC_EV_ERROR or AUTHC_EV_CLOSED only
 * authc_close() is left.
 */
int authc_process(struct authc *c, struct authc_event *ev);

/* Queue keepalive{} / renew{} and send what the socket takes. 0, -EALREADY (renew pending) or
 * -errno. */
int authc_keepalive(struct authc *c);
int authc_renew(struct authc *c);

/* Sends bye{} if asked (best effort), closes, frees, wipes the keys. NULL-safe; idempotent. */
void authc_close(struct authc *c, bool send_bye);

#endif
