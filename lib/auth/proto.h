/* SPDX-License-Identifier: GPL-2.0 */
/* Control messages over the mutual-TLS connection: length-prefixed JSON, strict decoding. */
#ifndef CG_AUTH_PROTO_H
#define CG_AUTH_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/tunnel.h"

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

enum proto_type {
	PROTO_HELLO = 1,     /* client -> gw: {"app"} */
	PROTO_CAPABILITY,    /* gw -> client: the session (struct cap_msg) */
	PROTO_RENEW,	     /* client -> gw: {} asks a new session id and keys */
	PROTO_KEEPALIVE,     /* client -> gw: {} */
	PROTO_KEEPALIVE_ACK, /* gw -> client: {} */
	PROTO_BYE,	     /* either way: {} closing on purpose */
	PROTO_ERROR,	     /* gw -> client: {"reason"} then the gateway closes */
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
 * capability: {"type":"capability","session":N,"expires_in":S,"vip":"100.64.0.2",
 *   "scopes":[{"proto":"tcp","dst":"10.10.2.2/32","ports":"80-80"}],
 *   "keepalive":S,"data_port":P}
 * Scope protos: "tcp", "udp" (need "ports": "LO-HI" or "P"), "icmp", "icmpv6",
 * "any" (no "ports"). Addresses are kept in the datapath's 16-byte form.
 */
struct cap_msg {
	uint32_t session;    /* 1..UINT32_MAX */
	uint32_t expires_in; /* seconds, 1..PROTO_EXPIRES_MAX */
	uint8_t vip[16];     /* IPv4-mapped for IPv4 */
	uint32_t nscopes;    /* 0..CG_MAX_SCOPES */
	struct cg_scope scopes[CG_MAX_SCOPES];
	uint32_t keepalive; /* seconds between client keepalives, 1..PROTO_KEEPALIVE_MAX */
	uint16_t data_port; /* UDP data port, 1..65535 */
};

struct proto_msg {
	uint32_t type; /* enum proto_type */
	union {
		struct {
			char app[PROTO_NAME_MAX];
		} hello;
		struct cap_msg cap;
		struct {
			char reason[PROTO_REASON_MAX];
		} error;
	} u;
};

/* True if s is 1..63 characters of [A-Za-z0-9_.-] (device and app names). */
bool proto_name_ok(const char *s);

/* True if m is a message the decoder would accept (type known, every field in range). */
bool proto_msg_ok(const struct proto_msg *m);

/*
 * Encodes m as one frame (length prefix + JSON) into buf[0..cap). Returns 0
 * and writes *len, -EINVAL if m does not validate (the encoder refuses what the
 * decoder would), -EMSGSIZE if it does not fit, -ENOMEM.
 */
int proto_encode(const struct proto_msg *m, uint8_t *buf, size_t cap, size_t *len);

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
