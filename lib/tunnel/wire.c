// SPDX-License-Identifier: GPL-2.0
/* Tunnel data packets: header, integrity tag (SipHash-2-4-128 via libsodium), verdicts. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <sodium.h>

#include "lib/base/rd.h"
#include "lib/tunnel/aead.h"
#include "lib/tunnel/inner.h"
#include "lib/tunnel/wire.h"

_Static_assert(crypto_shorthash_siphashx24_BYTES == CG_TUN_TAG_LEN, "tag size");
_Static_assert(crypto_shorthash_siphashx24_KEYBYTES == CG_TUN_KEY_LEN, "key size");

static const char *const verdict_names[TUN_MAX] = {
	[TUN_OK] = "ok",
	[TUN_SHORT] = "short",
	[TUN_BAD_TYPE] = "bad_type",
	[TUN_BAD_FLAGS] = "bad_flags",
	[TUN_UNKNOWN_SESSION] = "unknown_session",
	[TUN_EXPIRED] = "expired",
	[TUN_REPLAY] = "replay",
	[TUN_BAD_TAG] = "bad_tag",
	[TUN_SPOOFED] = "spoofed_source",
	[TUN_OUT_OF_SCOPE] = "out_of_scope",
	[TUN_SOURCE_ROUTE] = "source_route",
};

static const char *const counter_names[TUN_MAX] = {
	[TUN_OK] = "ok",
	[TUN_SHORT] = "malformed",
	[TUN_BAD_TYPE] = "malformed",
	[TUN_BAD_FLAGS] = "malformed",
	[TUN_UNKNOWN_SESSION] = "unknown_session",
	[TUN_EXPIRED] = "expired",
	[TUN_REPLAY] = "replay",
	[TUN_BAD_TAG] = "bad_tag",
	[TUN_SPOOFED] = "spoofed_source",
	[TUN_OUT_OF_SCOPE] = "out_of_scope",
	[TUN_SOURCE_ROUTE] = "source_route",
};

const char *tun_verdict_str(enum tun_verdict v)
{
	return (unsigned int)v < TUN_MAX ? verdict_names[v] : "?";
}

const char *tun_verdict_counter(enum tun_verdict v)
{
	return (unsigned int)v < TUN_MAX ? counter_names[v] : "?";
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static void put_hdr(uint8_t *out, uint8_t type, uint8_t flags, uint32_t session, uint64_t counter)
{
	out[0] = type;
	out[1] = flags;
	out[2] = 0;
	out[3] = 0;
	put_be32(out + 4, session);
	put_be64(out + 8, counter);
}

int wire_seal(uint32_t session, uint64_t counter, const uint8_t key[CG_TUN_KEY_LEN],
	      const uint8_t *inner, size_t len, uint8_t *out, size_t cap)
{
	size_t total;

	if (!key || !inner || !out || !len || !counter || len > INT_MAX - WIRE_OVERHEAD)
		return -EINVAL;
	total = len + WIRE_OVERHEAD;
	if (cap < total)
		return -ENOSPC;
	/* memmove: inner may already sit right after the header (sealing in place). */
	memmove(out + CG_TUN_HDR_LEN, inner, len);
	put_hdr(out, CG_TUN_DATA, 0, session, counter);
	crypto_shorthash_siphashx24(out + CG_TUN_HDR_LEN + len, out, CG_TUN_HDR_LEN + len, key);
	return (int)total;
}

int wire_seal_aead(uint32_t session, uint64_t counter, struct aead *key, const uint8_t *inner,
		   size_t len, uint8_t *out, size_t cap)
{
	size_t total;
	int e;

	if (!key || !inner || !out || !len || len > INT_MAX - WIRE_OVERHEAD)
		return -EINVAL;
	if (!counter || counter > CG_AEAD_COUNTER_MAX)
		return -ERANGE;
	total = len + WIRE_OVERHEAD;
	if (cap < total)
		return -ENOSPC;
	/*
	 * The header is the additional data; the cipher reads the inner packet
	 * where it is and writes behind the header (in place when it is there).
	 * An inner packet that overlaps the header otherwise is moved first.
	 */
	if (inner != out + CG_TUN_HDR_LEN && inner < out + total && out < inner + len) {
		memmove(out + CG_TUN_HDR_LEN, inner, len);
		inner = out + CG_TUN_HDR_LEN;
	}
	put_hdr(out, CG_TUN_DATA, CG_TUN_F_ENCRYPTED, session, counter);
	e = aead_seal(key, counter, out, CG_TUN_HDR_LEN, inner, len, out + CG_TUN_HDR_LEN,
		      out + CG_TUN_HDR_LEN + len);
	return e ? e : (int)total;
}

int wire_keepalive(uint32_t session, uint64_t counter, const uint8_t *mac_key, struct aead *aead,
		   uint8_t out[WIRE_KEEPALIVE_LEN])
{
	if (!out || !counter || counter > CG_AEAD_COUNTER_MAX || !mac_key == !aead)
		return -EINVAL;
	put_hdr(out, CG_TUN_KEEPALIVE, aead ? CG_TUN_F_ENCRYPTED : 0, session, counter);
	if (aead)
		return aead_seal(aead, counter, out, CG_TUN_HDR_LEN, NULL, 0, out + CG_TUN_HDR_LEN,
				 out + CG_TUN_HDR_LEN);
	crypto_shorthash_siphashx24(out + CG_TUN_HDR_LEN, out, CG_TUN_HDR_LEN, mac_key);
	return 0;
}

enum tun_verdict wire_open_aead(uint8_t *pkt, const struct wire_view *v, struct aead *key)
{
	uint8_t *inner = pkt + CG_TUN_HDR_LEN;

	if (!(v->flags & CG_TUN_F_ENCRYPTED))
		return TUN_BAD_FLAGS;
	if (!v->counter || v->counter > CG_AEAD_COUNTER_MAX)
		return TUN_REPLAY;
	if (aead_open(key, v->counter, pkt, CG_TUN_HDR_LEN, inner, v->inner_len, inner, v->tag))
		return TUN_BAD_TAG;
	return TUN_OK;
}

enum tun_verdict wire_parse(const uint8_t *pkt, size_t len, struct wire_view *v)
{
	struct wire_view w = { 0 };
	uint16_t rsvd;
	struct rd r;

	rd_init(&r, pkt, len);
	if (rd_u8(&r, &w.type) || rd_u8(&r, &w.flags) || rd_u16be(&r, &rsvd) ||
	    rd_u32be(&r, &w.session) || rd_u64be(&r, &w.counter))
		return TUN_SHORT;
	if (w.type != CG_TUN_DATA && w.type != CG_TUN_KEEPALIVE)
		return TUN_BAD_TYPE;
	/* Both modes share the layout: only the meaning of inner and tag differs. */
	if ((w.flags & ~CG_TUN_F_ENCRYPTED) || rsvd != 0)
		return TUN_BAD_FLAGS;
	/* A data packet carries at least one inner byte; a keepalive none. */
	if (w.type == CG_TUN_DATA ? rd_left(&r) < 1 + CG_TUN_TAG_LEN
				  : rd_left(&r) != CG_TUN_TAG_LEN)
		return TUN_SHORT;
	w.inner_len = rd_left(&r) - CG_TUN_TAG_LEN;
	if (rd_ptr(&r, w.inner_len, &w.inner) || rd_ptr(&r, CG_TUN_TAG_LEN, &w.tag))
		return TUN_SHORT;
	*v = w;
	return TUN_OK;
}

enum tun_verdict wire_verify(const uint8_t *pkt, size_t len, const uint8_t key[CG_TUN_KEY_LEN])
{
	uint8_t tag[CG_TUN_TAG_LEN];
	enum tun_verdict ret;
	struct wire_view w;

	ret = wire_parse(pkt, len, &w);
	if (ret != TUN_OK)
		return ret;
	/* The tag covers header || inner: exactly the bytes before w.tag. */
	crypto_shorthash_siphashx24(tag, pkt, CG_TUN_HDR_LEN + w.inner_len, key);
	if (sodium_memcmp(tag, w.tag, CG_TUN_TAG_LEN) != 0)
		ret = TUN_BAD_TAG;
	sodium_memzero(tag, sizeof(tag));
	return ret;
}

enum tun_verdict wire_inner_check(const uint8_t *inner, size_t len, const uint8_t *src,
				  const uint8_t *dst)
{
	struct cg_inner in;
	enum tun_verdict ret;

	ret = inner_parse(inner, len, &in);
	if (ret != TUN_OK)
		return ret;
	if (src && memcmp(src, in.src, 16) != 0)
		return TUN_SPOOFED;
	if (dst && memcmp(dst, in.dst, 16) != 0)
		return TUN_OUT_OF_SCOPE;
	return TUN_OK;
}
