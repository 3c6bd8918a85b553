/* SPDX-License-Identifier: GPL-2.0 */
/* Tunnel data packets (DESIGN.md §3): seal, parse and verify, with a reason for every refusal. */
#ifndef CG_TUNNEL_WIRE_H
#define CG_TUNNEL_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "abi/tunnel.h"

/*
 *  0      1      2      4              8                      16
 *  +------+------+------+--------------+----------------------+
 *  | type | flags| rsvd |  session id  |  counter (u64)       |   header
 *  +------+------+------+--------------+----------------------+
 *  | inner IPv4/IPv6 packet, at least 1 byte                   |
 *  +-----------------------------------------------------------+
 *  | tag, 16 bytes: SipHash-2-4-128(key, header || inner)      |
 *  +-----------------------------------------------------------+
 *  Big-endian. type 1 = data; flags 0 (integrity) or CG_TUN_F_ENCRYPTED
 *  (the inner packet is AEAD ciphertext and the tag the AEAD tag, with the
 *  header as additional data: lib/tunnel/aead.h); rsvd must be 0.
 */
#define WIRE_MIN_LEN (CG_TUN_HDR_LEN + 1 + CG_TUN_TAG_LEN)
#define WIRE_OVERHEAD (CG_TUN_HDR_LEN + CG_TUN_TAG_LEN)
#define WIRE_KEEPALIVE_LEN (CG_TUN_HDR_LEN + CG_TUN_TAG_LEN)

/* Why a tunnel packet was refused. The same reasons as the XDP gate's counters. */
enum tun_verdict {
	TUN_OK = 0,
	TUN_SHORT,	     /* truncated, or lengths that do not add up */
	TUN_BAD_TYPE,	     /* not a data packet (or inner not IPv4/IPv6) */
	TUN_BAD_FLAGS,	     /* unknown or not yet supported flags, rsvd != 0 */
	TUN_UNKNOWN_SESSION, /* no such session id */
	TUN_EXPIRED,	     /* session past its expiry */
	TUN_REPLAY,	     /* counter 0, too old, or already seen */
	TUN_BAD_TAG,	     /* tag does not verify */
	TUN_SPOOFED,	     /* inner source is not the session's virtual address */
	TUN_OUT_OF_SCOPE,    /* inner destination outside every scope */
	TUN_SOURCE_ROUTE,    /* inner IPv4 LSRR/SSRR or IPv6 routing header with segments left */
	TUN_MAX
};

/* Precise name ("short", "bad_flags", ...); "?" for an out-of-range value. */
const char *tun_verdict_str(enum tun_verdict v);

/*
 * The refusal counter a verdict goes to, as in stats and metrics: "malformed"
 * (SHORT, BAD_TYPE, BAD_FLAGS), "unknown_session", "expired", "replay",
 * "bad_tag", "spoofed_source", "out_of_scope", "source_route" (the gate's
 * drop_source_route); "ok" for TUN_OK.
 */
const char *tun_verdict_counter(enum tun_verdict v);

/* A parsed packet. Pointers borrow from the packet buffer. */
struct wire_view {
	uint8_t type;
	uint8_t flags;
	uint32_t session;
	uint64_t counter;
	const uint8_t *inner;
	size_t inner_len;
	const uint8_t *tag; /* CG_TUN_TAG_LEN bytes */
};

/*
 * Build header || inner || tag into out (integrity mode; key is the sender's
 * direction MAC key). counter must be >= 1 and len >= 1. inner may already
 * sit at out + CG_TUN_HDR_LEN (sealing in place). Returns the total
 * length (len + WIRE_OVERHEAD), -EINVAL for bad arguments or -ENOSPC if cap
 * is too small (out is then untouched).
 */
int wire_seal(uint32_t session, uint64_t counter, const uint8_t key[CG_TUN_KEY_LEN],
	      const uint8_t *inner, size_t len, uint8_t *out, size_t cap);

struct aead;

/*
 * Encrypted mode: header (flags CG_TUN_F_ENCRYPTED) || AEAD(inner) || tag,
 * sealed with the sender's direction key. Like wire_seal (inner may sit at
 * out + CG_TUN_HDR_LEN); -ERANGE for counter 0 or past CG_AEAD_COUNTER_MAX
 * (the session must renew: a counter never wraps), -EINVAL, -ENOSPC, -EIO.
 */
int wire_seal_aead(uint32_t session, uint64_t counter, struct aead *key, const uint8_t *inner,
		   size_t len, uint8_t *out, size_t cap);

/*
 * A keepalive (type CG_TUN_KEEPALIVE, abi/tunnel.h): the header and its tag,
 * with mac_key for integrity mode (SipHash over the header) or aead for
 * encrypted mode (the tag of an empty plaintext), exactly one of them.
 * 0, -EINVAL (counter 0 or past the limit, both or no key), -EIO.
 */
int wire_keepalive(uint32_t session, uint64_t counter, const uint8_t *mac_key, struct aead *aead,
		   uint8_t out[WIRE_KEEPALIVE_LEN]);

/*
 * Opens a packet wire_parse accepted (v borrows from pkt) in place: on
 * TUN_OK v->inner holds the plaintext. TUN_BAD_FLAGS if it is not encrypted,
 * TUN_REPLAY for counter 0 or past the limit, TUN_BAD_TAG if the tag does
 * not verify (then no plaintext is left in pkt).
 */
enum tun_verdict wire_open_aead(uint8_t *pkt, const struct wire_view *v, struct aead *key);

/*
 * Structure only, no key: type 1 (data: at least one inner byte) or 2
 * (keepalive: no inner byte, inner_len 0), flags 0 or CG_TUN_F_ENCRYPTED,
 * rsvd 0, and the tag. Counter 0 is left to the replay check (TUN_REPLAY), as in the gate. Writes
 * *v only on TUN_OK.
 */
enum tun_verdict wire_parse(const uint8_t *pkt, size_t len, struct wire_view *v);

/*
 * wire_parse, then the tag over header || inner with key, compared in
 * constant time: TUN_OK, a parse verdict, or TUN_BAD_TAG.
 */
enum tun_verdict wire_verify(const uint8_t *pkt, size_t len, const uint8_t key[CG_TUN_KEY_LEN]);

/*
 * Sanity of an inner packet before it is written to a TUN: inner_parse()'s
 * verdict (lib/tunnel/inner.h: the packet as the gate judges an inner packet,
 * TUN_SHORT, TUN_BAD_TYPE or TUN_SOURCE_ROUTE). If src (16 bytes,
 * IPv4-mapped for IPv4) is given, the inner source must equal it
 * (TUN_SPOOFED); if dst is given, the inner destination must equal it
 * (TUN_OUT_OF_SCOPE).
 */
enum tun_verdict wire_inner_check(const uint8_t *inner, size_t len, const uint8_t *src,
				  const uint8_t *dst);

#endif
