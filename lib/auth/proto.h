/* SPDX-License-Identifier: GPL-2.0 */
/* Control messages over the mutual-TLS connection: length-prefixed JSON, strict decoding. */
#ifndef CG_AUTH_PROTO_H
#define CG_AUTH_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/tunnel.h"
#include "lib/tunnel/aead.h"

/*
 * One message on the wire:
 *  0               4
 *  +---------------+------------------------------+
 *  | length (u32)  | JSON object, length bytes     |
 *  +---------------+------------------------------+
 * length is big-endian, 1..PROTO_MAX_BODY. The object has a "type" and the
 * fields of that type, nothing else.
 */
#define PROTO_HDR_LEN 4
#define PROTO_MAX_BODY (16 * 1024)
#define PROTO_MAX_FRAME (PROTO_HDR_LEN + PROTO_MAX_BODY)
#define PROTO_NAME_MAX 64		  /* app and device names: 1..63 of [A-Za-z0-9_.-] */
#define PROTO_REASON_MAX 128		  /* error reason: 1..127 printable ASCII */
#define PROTO_EXPIRES_MAX (365U * 86400U) /* capability lifetime cap, seconds */
#define PROTO_KEEPALIVE_MAX 3600U	  /* seconds */
#define PROTO_CIPHERS_MAX 4		  /* names in hello's "ciphers" */
#define PROTO_TOKEN_MAX 152		  /* enroll's token: TOKEN_STR_LEN (150) and a NUL */
#define PROTO_CSR_MAX 2048		  /* enroll's CSR, PEM, NUL included */
#define PROTO_PEM_MAX 4096		  /* enrolled's certificates, PEM, NUL included */

enum proto_type {
	PROTO_HELLO = 1,     /* client -> gw: {["app"][,"mode"][,"ciphers"][,"resume"]} */
	PROTO_CAPABILITY,    /* gw -> client: the session (struct cap_msg) */
	PROTO_RENEW,	     /* client -> gw: {} asks a new session id and keys */
	PROTO_KEEPALIVE,     /* client -> gw: {} */
	PROTO_KEEPALIVE_ACK, /* gw -> client: {} */
	PROTO_BYE,	     /* either way: {} closing on purpose */
	PROTO_ERROR,	     /* gw -> client: {"reason"} then the gateway closes */
	PROTO_ENROLL,	     /* client without a certificate -> gw: {"token","csr"} */
	PROTO_ENROLLED,	     /* gw -> client: {"cert","ca"} then the gateway closes */
	PROTO_TYPE_MAX,
};

/* Outcome of decoding one frame. Everything but PROTO_OK/PROTO_MORE closes the connection. */
enum proto_verdict {
	PROTO_OK = 0,
	PROTO_MORE,	     /* framing: the frame is not complete yet */
	PROTO_BAD_LENGTH,    /* length 0 or above PROTO_MAX_BODY */
	PROTO_NOT_JSON,	     /* not valid JSON (or duplicate keys, NUL in strings) */
	PROTO_NOT_OBJECT,    /* valid JSON but not an object */
	PROTO_NO_TYPE,	     /* no "type", or not a string */
	PROTO_UNKNOWN_TYPE,  /* "type" names no message */
	PROTO_UNKNOWN_FIELD, /* a field the type does not have */
	PROTO_MISSING_FIELD, /* a field the type needs is absent */
	PROTO_BAD_FIELD,     /* a field of the wrong JSON type or out of range */
	PROTO_VERDICT_MAX,
};

/* "ok", "bad_length", ...: stable names for logs and counters. */
const char *proto_verdict_str(enum proto_verdict v);
/* "hello", "capability", ...; "?" for an unknown value. */
const char *proto_type_str(uint32_t type);

/*
 * What a client asks for in hello (the parent gets the same bytes in
 * SESSION_REQUEST): {"type":"hello","app":"sensor","mode":"encrypted",
 * "ciphers":["aes-256-gcm","chacha20-poly1305"]}. Both fields are optional:
 * "mode" may only be "encrypted" (a client can ask for more than its policy,
 * never for less: there is no value to ask for integrity); "ciphers" lists
 * 1..PROTO_CIPHERS_MAX cipher_name()s, no duplicates, the client's preference
 * first. Anything else is PROTO_BAD_FIELD.
 */
struct proto_offer {
	uint8_t mode;			    /* 0: what the policy grants; CG_TUN_F_ENCRYPTED */
	uint8_t nciphers;		    /* 0: no "ciphers" (then chacha20-poly1305) */
	uint8_t ciphers[PROTO_CIPHERS_MAX]; /* enum cg_cipher, preference order; the rest 0 */
};

/*
 * capability: {"type":"capability","session":N,"expires_in":S,"vip":"100.64.0.2",
 *   "scopes":[{"proto":"tcp","dst":"10.10.2.2/32","ports":"80-80"}],
 *   "keepalive":S,"data_port":P,"mode":"encrypted","cipher":"chacha20-poly1305"}
 * Scope protos: "tcp", "udp" (need "ports": "LO-HI" or "P"), "icmp", "icmpv6",
 * "any" (no "ports"). Addresses are kept in the datapath's 16-byte form.
 * "mode" is "encrypted" or "integrity" (required); "cipher" is there for
 * encrypted and only then (PROTO_BAD_FIELD otherwise).
 */
struct cap_msg {
	uint32_t session;    /* 1..UINT32_MAX */
	uint32_t expires_in; /* seconds, 1..PROTO_EXPIRES_MAX */
	uint8_t vip[16];     /* IPv4-mapped for IPv4 */
	uint32_t nscopes;    /* 0..CG_MAX_SCOPES */
	struct cg_scope scopes[CG_MAX_SCOPES];
	uint32_t keepalive; /* seconds between client keepalives, 1..PROTO_KEEPALIVE_MAX */
	uint16_t data_port; /* UDP data port, 1..65535 */
	uint8_t mode;	    /* 0 integrity, CG_TUN_F_ENCRYPTED */
	uint8_t cipher;	    /* enum cg_cipher for encrypted; 0 for integrity */
};

struct proto_msg {
	uint32_t type; /* enum proto_type */
	union {
		struct {
			/*
			 * "app", optional ("" = absent): the gateway takes the
			 * app from the client's certificate; given, it must be
			 * that app (else the worker refuses app_mismatch).
			 */
			char app[PROTO_NAME_MAX];
			struct proto_offer offer;
			/*
			 * "resume": N (1..UINT32_MAX), optional: the session this
			 * client held before it reconnected (its network changed);
			 * 0 = absent. The gateway decides whether the new session
			 * keeps that session's address (docs/tunnel.md, "Roaming").
			 */
			uint32_t resume;
		} hello;
		struct cap_msg cap;
		struct {
			char reason[PROTO_REASON_MAX];
		} error;
		/*
		 * enroll: the only message a client without a certificate may send
		 * (docs/auth.md, "Enrollment"). token: the text token_parse accepts;
		 * csr: one PEM CERTIFICATE REQUEST (proto_pem_ok).
		 */
		struct {
			char token[PROTO_TOKEN_MAX];
			char csr[PROTO_CSR_MAX];
		} enroll;
		/* enrolled: the signed certificate and the CA's, PEM (proto_pem_ok). */
		struct {
			char cert[PROTO_PEM_MAX];
			char ca[PROTO_PEM_MAX];
		} enrolled;
	} u;
};

/* True if s is 1..63 characters of [A-Za-z0-9_.-] (device and app names). */
bool proto_name_ok(const char *s);

/*
 * True if s (NUL within cap) is one PEM block of the given label ("CERTIFICATE REQUEST",
 * "CERTIFICATE"): "-----BEGIN label-----\n", base64 lines, "-----END label-----\n", and
 * nothing else (no CR, no second block). Structure only; the parsers check the DER.
 */
bool proto_pem_ok(const char *s, size_t cap, const char *label);

/* True if m is a message the decoder would accept (type known, every field in range). */
bool proto_msg_ok(const struct proto_msg *m);

/* True if o is an offer the decoder would produce (unused ciphers[] entries zero). */
bool proto_offer_ok(const struct proto_offer *o);

/*
 * The client's offer for [client] mode (0 policy, CG_TUN_F_ENCRYPTED) and
 * cipher (0 auto, or one enum cg_cipher): auto lists aes-256-gcm first only
 * if aes (this machine has AES instructions: aead_aes_available()), then
 * chacha20-poly1305; otherwise chacha20-poly1305 alone. An explicit cipher
 * is listed alone.
 */
void proto_offer_make(struct proto_offer *o, uint8_t mode, uint8_t cipher, bool aes);

/*
 * The gateway's choice for an offer: *mode = policy_mode (policy_check),
 * upgraded to encrypted if the offer asks; for encrypted, *cipher = the first
 * of the offer's ciphers the gateway can run fast (aes-256-gcm only if aes,
 * the gateway's aead_aes_available()), else chacha20-poly1305 (also for an
 * offer without ciphers); for integrity, *cipher = 0.
 */
void proto_offer_choose(const struct proto_offer *o, uint8_t policy_mode, bool aes, uint8_t *mode,
			uint8_t *cipher);

/*
 * The client's check of a capability against the offer it sent: -EPROTO with
 * the reason in why if the offer asked for encrypted and the capability is
 * integrity (a downgrade), or names a cipher the offer did not list; 0 if
 * the capability may be used.
 */
int proto_cap_accept(const struct proto_offer *o, const struct cap_msg *c, char *why,
		     size_t whylen);

/*
 * Encodes m as one frame (length prefix + JSON) into buf[0..cap). Returns 0
 * and writes *len, -EINVAL if m does not validate (the encoder refuses what the
 * decoder would), -EMSGSIZE if it does not fit, -ENOMEM.
 */
int proto_encode(const struct proto_msg *m, uint8_t *buf, size_t cap, size_t *len);

/*
 * proto_encode into buf[*have..cap), the free end of an output queue: 0 and *have grown by the
 * frame, or proto_encode's error (*have unchanged).
 */
int proto_append(const struct proto_msg *m, uint8_t *buf, size_t cap, size_t *have);

/*
 * Decodes one JSON body (no length prefix) of len bytes. Returns PROTO_OK and
 * fills *out, or a refusal (out untouched).
 */
enum proto_verdict proto_decode(const uint8_t *body, size_t len, struct proto_msg *out);

/*
 * Incremental framing for non-blocking reads: bytes go in as they arrive and
 * whole messages come out. The buffer is inside the struct (no allocation).
 */
struct proto_rx {
	size_t have; /* bytes of the current frame in buf */
	uint8_t buf[PROTO_MAX_FRAME];
};

void proto_rx_init(struct proto_rx *rx);

/*
 * Consumes bytes of p[0..n) up to the end of the current frame and writes
 * *used. Returns PROTO_MORE (all n used, frame incomplete), PROTO_OK with *out
 * filled (call again with p + *used for the rest), or a refusal: the stream
 * cannot be resynchronised and must be closed. A too-long length is refused
 * as soon as its 4 bytes arrive.
 */
enum proto_verdict proto_rx_feed(struct proto_rx *rx, const uint8_t *p, size_t n, size_t *used,
				 struct proto_msg *out);

#endif
