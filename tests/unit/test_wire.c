// SPDX-License-Identifier: GPL-2.0
/* Tunnel wire format: golden packet, encode/decode tables, every verdict, every flipped byte. */
#include <errno.h>
#include <string.h>

#include <sodium.h>

#include "lib/tunnel/aead.h"
#include "lib/tunnel/wire.h"
#include "tests/lib/sipref.h"
#include "tests/lib/t.h"

static const uint8_t key[16] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
				 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };

/* A 28-byte IPv4/UDP packet 100.64.0.2:1000 -> 10.10.2.2:7, no payload. */
static const uint8_t inner4[28] = { 0x45, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
				    0x00, 0x00, 100,  64,   0,	  2,	10,   10,   2,	  2,
				    0x03, 0xe8, 0x00, 0x07, 0x00, 0x08, 0x00, 0x00 };

static void test_golden(void)
{
	uint8_t pkt[128],
		want_hdr[16] = { 1, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0, 0, 0, 0, 42 };
	uint8_t tag[16];
	int n;

	n = wire_seal(0x12345678, 42, key, inner4, sizeof(inner4), pkt, sizeof(pkt));
	if (!ASSERT_EQ(n, 16 + 28 + 16, "length"))
		return;
	ASSERT_MEMEQ(pkt, want_hdr, 16, "header");
	ASSERT_MEMEQ(pkt + 16, inner4, sizeof(inner4), "inner");
	/* The tag by the independent reference implementation over header || inner. */
	sipref_128(pkt, 16 + sizeof(inner4), key, tag);
	ASSERT_MEMEQ(pkt + 16 + 28, tag, 16, "tag");
	ASSERT_EQ(wire_verify(pkt, (size_t)n, key), TUN_OK, "verify");
}

static void test_roundtrip_lengths(void)
{
	static uint8_t inner[1500], pkt[1500 + WIRE_OVERHEAD];
	struct wire_view v;
	size_t len, bad = 0;
	int n;

	randombytes_buf(inner, sizeof(inner));
	for (len = 1; len <= sizeof(inner); len++) {
		n = wire_seal((uint32_t)len, len * 7 + 1, key, inner, len, pkt, sizeof(pkt));
		bad += n != (int)(len + WIRE_OVERHEAD);
		bad += wire_parse(pkt, (size_t)n, &v) != TUN_OK;
		bad += v.session != len || v.counter != len * 7 + 1 || v.inner_len != len ||
		       memcmp(v.inner, inner, len) != 0 || v.tag != pkt + 16 + len;
		bad += wire_verify(pkt, (size_t)n, key) != TUN_OK;
	}
	ASSERT_EQ(bad, 0, "round trips");
}

static void test_seal_in_place(void)
{
	uint8_t buf[64], ref[64];
	int n;

	memcpy(buf + 16, inner4, sizeof(inner4));
	n = wire_seal(7, 9, key, buf + 16, sizeof(inner4), buf, sizeof(buf));
	ASSERT_EQ(wire_seal(7, 9, key, inner4, sizeof(inner4), ref, sizeof(ref)), n, "len");
	ASSERT_MEMEQ(buf, ref, (size_t)n, "same bytes");
}

static void test_seal_errors(void)
{
	uint8_t out[64];

	memset(out, 0xaa, sizeof(out));
	ASSERT_EQ(wire_seal(1, 1, key, inner4, 28, out, 59), -ENOSPC, "cap one short");
	ASSERT_EQ(out[0], 0xaa, "untouched");
	ASSERT_EQ(wire_seal(1, 1, key, inner4, 28, out, 60), 60, "cap exact");
	ASSERT_EQ(wire_seal(1, 0, key, inner4, 28, out, 64), -EINVAL, "counter 0");
	ASSERT_EQ(wire_seal(1, 1, key, inner4, 0, out, 64), -EINVAL, "empty inner");
	ASSERT_EQ(wire_seal(1, 1, key, NULL, 28, out, 64), -EINVAL, "NULL inner");
	ASSERT_EQ(wire_seal(1, 1, NULL, inner4, 28, out, 64), -EINVAL, "NULL key");
}

/* One case per parse verdict, built by editing a valid packet. */
static void test_parse_table(void)
{
	static const struct {
		const char *name;
		size_t len; /* bytes kept (0: all) */
		int at;	    /* byte to set, -1 none */
		uint8_t val;
		enum tun_verdict want;
	} cases[] = {
		{ "valid", 0, -1, 0, TUN_OK },
		{ "one byte", 1, -1, 0, TUN_SHORT },
		{ "header only", 16, -1, 0, TUN_SHORT },
		{ "header + tag, no inner", 32, -1, 0, TUN_SHORT },
		{ "one inner byte + tag", 33, -1, 0, TUN_OK },
		{ "header one short", 15, -1, 0, TUN_SHORT },
		{ "type 0", 0, 0, 0, TUN_BAD_TYPE },
		{ "type 2 (keepalive) with inner bytes", 0, 0, 2, TUN_SHORT },
		{ "type 3", 0, 0, 3, TUN_BAD_TYPE },
		{ "type 255", 0, 0, 255, TUN_BAD_TYPE },
		{ "bad type on a short packet", 8, 0, 2, TUN_SHORT },
		{ "encrypted flag", 0, 1, CG_TUN_F_ENCRYPTED, TUN_OK },
		{ "unknown flag", 0, 1, 0x80, TUN_BAD_FLAGS },
		{ "encrypted and an unknown flag", 0, 1, CG_TUN_F_ENCRYPTED | 0x02, TUN_BAD_FLAGS },
		{ "rsvd high", 0, 2, 1, TUN_BAD_FLAGS },
		{ "rsvd low", 0, 3, 0x80, TUN_BAD_FLAGS },
		{ "flags checked before length", 20, 1, 2, TUN_BAD_FLAGS },
		{ "counter 0 parses (replay check refuses it)", 0, 15, 0, TUN_OK },
	};
	uint8_t pkt[64];
	struct wire_view v;
	size_t i, len;
	int n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = wire_seal(0x01020304, 1, key, inner4, sizeof(inner4), pkt, sizeof(pkt));
		len = cases[i].len ? cases[i].len : (size_t)n;
		if (cases[i].at >= 0)
			pkt[cases[i].at] = cases[i].val;
		ASSERT_EQ(wire_parse(pkt, len, &v), cases[i].want, cases[i].name);
	}
	ASSERT_EQ(wire_parse(NULL, 0, &v), TUN_SHORT, "NULL");
}

static void test_view_untouched_on_error(void)
{
	struct wire_view v = { .session = 77 };
	uint8_t pkt[10] = { 1 };

	ASSERT_EQ(wire_parse(pkt, sizeof(pkt), &v), TUN_SHORT, "short");
	ASSERT_EQ(v.session, 77, "untouched");
}

/* Any byte flipped anywhere (header, inner, tag) and the tag no longer verifies. */
static void test_flipped_bytes(void)
{
	uint8_t pkt[64], other[16];
	size_t i, bits, bad = 0;
	int n;
	enum tun_verdict got;

	n = wire_seal(9, 1000, key, inner4, sizeof(inner4), pkt, sizeof(pkt));
	for (i = 0; i < (size_t)n; i++) {
		for (bits = 0; bits < 8; bits++) {
			pkt[i] ^= (uint8_t)(1 << bits);
			got = wire_verify(pkt, (size_t)n, key);
			/*
			 * Flips in type/flags/rsvd are refused earlier, as malformed,
			 * except the one that sets the encrypted flag: its tag fails.
			 */
			if (i == 1 && bits == 0)
				bad += got != TUN_BAD_TAG;
			else if (i < 4)
				bad += got == TUN_OK || got == TUN_BAD_TAG;
			else
				bad += got != TUN_BAD_TAG;
			pkt[i] ^= (uint8_t)(1 << bits);
		}
	}
	ASSERT_EQ(bad, 0, "flips");
	ASSERT_EQ(wire_verify(pkt, (size_t)n, key), TUN_OK, "restored");
	memcpy(other, key, 16);
	other[0] ^= 1;
	ASSERT_EQ(wire_verify(pkt, (size_t)n, other), TUN_BAD_TAG, "wrong key");
	ASSERT_EQ(wire_verify(pkt, (size_t)n - 1, key), TUN_BAD_TAG, "truncated by one");
}

static void test_truncated_every_length(void)
{
	uint8_t pkt[64];
	size_t len, bad = 0;
	enum tun_verdict got;
	int n;

	n = wire_seal(9, 1, key, inner4, sizeof(inner4), pkt, sizeof(pkt));
	for (len = 0; len < (size_t)n; len++) {
		got = wire_verify(pkt, len, key);
		bad += len < WIRE_MIN_LEN ? got != TUN_SHORT : got != TUN_BAD_TAG;
	}
	ASSERT_EQ(bad, 0, "truncations");
}

static void test_inner_check(void)
{
	uint8_t v6[48] = { 0x60, 0, 0, 0, 0, 8, 17, 64 }, p[64], src[16] = { 0 }, dst[16] = { 0 };
	uint8_t vip[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 100, 64, 0, 2 };

	v6[8] = 0x20;  /* src 2001:: */
	v6[24] = 0xfd; /* dst fd00:: */
	src[0] = 0x20;
	dst[0] = 0xfd;
	ASSERT_EQ(wire_inner_check(inner4, 28, NULL, NULL), TUN_OK, "v4");
	ASSERT_EQ(wire_inner_check(inner4, 28, vip, NULL), TUN_OK, "v4 src");
	ASSERT_EQ(wire_inner_check(inner4, 28, NULL, vip), TUN_OUT_OF_SCOPE, "v4 dst");
	ASSERT_EQ(wire_inner_check(inner4, 27, NULL, NULL), TUN_SHORT, "v4 short");
	ASSERT_EQ(wire_inner_check(inner4, 19, NULL, NULL), TUN_SHORT, "v4 header cut");
	ASSERT_EQ(wire_inner_check(v6, 48, src, dst), TUN_OK, "v6");
	ASSERT_EQ(wire_inner_check(v6, 48, dst, NULL), TUN_SPOOFED, "v6 spoofed");
	ASSERT_EQ(wire_inner_check(v6, 47, NULL, NULL), TUN_SHORT, "v6 short");
	memcpy(p, inner4, 28);
	p[0] = 0x44; /* IHL 4 */
	ASSERT_EQ(wire_inner_check(p, 28, NULL, NULL), TUN_SHORT, "ihl");
	p[0] = 0x55;
	ASSERT_EQ(wire_inner_check(p, 28, NULL, NULL), TUN_BAD_TYPE, "version 5");
	ASSERT_EQ(wire_inner_check(p, 0, NULL, NULL), TUN_SHORT, "empty");
}

static const uint8_t akey[32] = { 1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
				  17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };

/*
 * Encrypted mode's framing against libsodium's ChaCha20-Poly1305 (IETF) as
 * the oracle: nonce 4 zero bytes || counter, the header as additional data.
 */
static void test_aead_golden(void)
{
	uint8_t pkt[128], want[128], nonce[12] = { 0 };
	unsigned long long clen;
	struct aead *s = aead_new(CG_CIPHER_CHACHA20_POLY1305, akey, true);
	int n;

	if (!ASSERT_TRUE(s != NULL, "sealer"))
		return;
	n = wire_seal_aead(0x12345678, 0x0102030405060708ULL, s, inner4, sizeof(inner4), pkt,
			   sizeof(pkt));
	if (!ASSERT_EQ(n, 16 + 28 + 16, "length"))
		goto out;
	ASSERT_EQ(pkt[0], CG_TUN_DATA, "type");
	ASSERT_EQ(pkt[1], CG_TUN_F_ENCRYPTED, "flags");
	memcpy(nonce + 4, pkt + 8, 8);
	crypto_aead_chacha20poly1305_ietf_encrypt(want, &clen, inner4, sizeof(inner4), pkt, 16,
						  NULL, nonce, akey);
	ASSERT_EQ(clen, sizeof(inner4) + 16, "oracle length");
	ASSERT_MEMEQ(pkt + 16, want, clen, "ciphertext and tag = libsodium's");
out:
	aead_free(s);
}

/* Every refusal of the open side: bad tag (each byte), wrong key, cipher, flags, counters. */
static void test_aead_open(void)
{
	uint8_t pkt[128], copy[128], other[32];
	struct aead *s = aead_new(CG_CIPHER_CHACHA20_POLY1305, akey, true);
	struct aead *o = aead_new(CG_CIPHER_CHACHA20_POLY1305, akey, false);
	struct wire_view v;
	size_t i, bad = 0;
	int n;

	if (!ASSERT_TRUE(s && o, "contexts"))
		goto out;
	n = wire_seal_aead(7, 9, s, inner4, sizeof(inner4), pkt, sizeof(pkt));
	memcpy(copy, pkt, (size_t)n);
	ASSERT_EQ(wire_parse(pkt, (size_t)n, &v), TUN_OK, "parse");
	ASSERT_EQ(wire_open_aead(pkt, &v, o), TUN_OK, "open");
	ASSERT_MEMEQ(v.inner, inner4, sizeof(inner4), "plaintext in place");
	/* Every flipped byte of header (the additional data), ciphertext or tag. */
	for (i = 0; i < (size_t)n; i++) {
		memcpy(pkt, copy, (size_t)n);
		pkt[i] ^= 0x40;
		if (wire_parse(pkt, (size_t)n, &v) != TUN_OK)
			continue;
		/* A flip in the counter's top bits goes past the limit (TUN_REPLAY). */
		if (wire_open_aead(pkt, &v, o) == TUN_OK)
			bad++;
	}
	ASSERT_EQ(bad, 0, "every flipped byte refused");
	/* The other direction's key, and the other cipher under the same key. */
	memcpy(other, akey, sizeof(other));
	other[0] ^= 1;
	ASSERT_EQ(aead_set_key(o, CG_CIPHER_CHACHA20_POLY1305, other), 0, "rekey");
	memcpy(pkt, copy, (size_t)n);
	wire_parse(pkt, (size_t)n, &v);
	ASSERT_EQ(wire_open_aead(pkt, &v, o), TUN_BAD_TAG, "wrong direction key");
	ASSERT_TRUE(sodium_is_zero(pkt + 16, sizeof(inner4)), "no plaintext left on a bad tag");
	ASSERT_EQ(aead_set_key(o, CG_CIPHER_AES256_GCM, akey), 0, "rekey aes");
	memcpy(pkt, copy, (size_t)n);
	wire_parse(pkt, (size_t)n, &v);
	ASSERT_EQ(wire_open_aead(pkt, &v, o), TUN_BAD_TAG, "wrong cipher");
	ASSERT_EQ(aead_set_key(o, CG_CIPHER_CHACHA20_POLY1305, akey), 0, "key back");
	memcpy(pkt, copy, (size_t)n);
	wire_parse(pkt, (size_t)n, &v);
	ASSERT_EQ(wire_open_aead(pkt, &v, o), TUN_OK, "opens again with the right key");
	/* An integrity packet is not opened. */
	n = wire_seal(7, 9, key, inner4, sizeof(inner4), pkt, sizeof(pkt));
	wire_parse(pkt, (size_t)n, &v);
	ASSERT_EQ(wire_open_aead(pkt, &v, o), TUN_BAD_FLAGS, "integrity packet");
	/* Counters: 0 and past the limit are refused on both sides. */
	ASSERT_EQ(wire_seal_aead(7, 0, s, inner4, sizeof(inner4), pkt, sizeof(pkt)), -ERANGE,
		  "seal counter 0");
	ASSERT_EQ(wire_seal_aead(7, CG_AEAD_COUNTER_MAX + 1, s, inner4, sizeof(inner4), pkt,
				 sizeof(pkt)),
		  -ERANGE, "seal past the limit");
	n = wire_seal_aead(7, CG_AEAD_COUNTER_MAX, s, inner4, sizeof(inner4), pkt, sizeof(pkt));
	ASSERT_EQ(n, 60, "seal at the limit");
	wire_parse(pkt, (size_t)n, &v);
	ASSERT_EQ(wire_open_aead(pkt, &v, o), TUN_OK, "open at the limit");
	pkt[8] = 0x10; /* counter 2^60 */
	wire_parse(pkt, (size_t)n, &v);
	ASSERT_EQ(wire_open_aead(pkt, &v, o), TUN_REPLAY, "open past the limit");
	ASSERT_EQ(wire_seal_aead(7, 1, s, inner4, sizeof(inner4), pkt, 59), -ENOSPC, "no room");
	ASSERT_EQ(wire_seal_aead(7, 1, o, inner4, sizeof(inner4), pkt, sizeof(pkt)), -EINVAL,
		  "an opener does not seal");
out:
	aead_free(s);
	aead_free(o);
}

/* Keepalives: header and tag, in both modes; they parse with no inner bytes and verify. */
static void test_keepalive(void)
{
	struct aead *s = aead_new(CG_CIPHER_CHACHA20_POLY1305, akey, true);
	struct aead *o = aead_new(CG_CIPHER_CHACHA20_POLY1305, akey, false);
	uint8_t pkt[WIRE_KEEPALIVE_LEN + 1], tag[16];
	struct wire_view v;

	if (!ASSERT_TRUE(s && o, "contexts"))
		goto out;
	ASSERT_EQ(wire_keepalive(7, 3, key, NULL, pkt), 0, "integrity keepalive");
	ASSERT_EQ(pkt[0], CG_TUN_KEEPALIVE, "type");
	ASSERT_EQ(pkt[1], 0, "flags");
	sipref_128(pkt, 16, key, tag);
	ASSERT_MEMEQ(pkt + 16, tag, 16, "tag over the header (reference SipHash)");
	ASSERT_EQ(wire_parse(pkt, WIRE_KEEPALIVE_LEN, &v), TUN_OK, "parses");
	ASSERT_EQ(v.inner_len, 0, "no inner bytes");
	ASSERT_EQ(wire_verify(pkt, WIRE_KEEPALIVE_LEN, key), TUN_OK, "verifies");
	ASSERT_EQ(wire_parse(pkt, WIRE_KEEPALIVE_LEN + 1, &v), TUN_SHORT, "one byte more");
	ASSERT_EQ(wire_parse(pkt, WIRE_KEEPALIVE_LEN - 1, &v), TUN_SHORT, "one byte less");
	ASSERT_EQ(wire_keepalive(7, 4, NULL, s, pkt), 0, "encrypted keepalive");
	ASSERT_EQ(pkt[1], CG_TUN_F_ENCRYPTED, "encrypted flag");
	ASSERT_EQ(wire_parse(pkt, WIRE_KEEPALIVE_LEN, &v), TUN_OK, "parses");
	ASSERT_EQ(wire_open_aead(pkt, &v, o), TUN_OK, "opens");
	pkt[20] ^= 1;
	ASSERT_EQ(wire_open_aead(pkt, &v, o), TUN_BAD_TAG, "flipped tag");
	ASSERT_EQ(wire_keepalive(7, 0, key, NULL, pkt), -EINVAL, "counter 0");
	ASSERT_EQ(wire_keepalive(7, 1, key, s, pkt), -EINVAL, "two keys");
	ASSERT_EQ(wire_keepalive(7, 1, NULL, NULL, pkt), -EINVAL, "no key");
out:
	aead_free(s);
	aead_free(o);
}

static void test_names(void)
{
	static const char *const want[TUN_MAX][2] = {
		{ "ok", "ok" },
		{ "short", "malformed" },
		{ "bad_type", "malformed" },
		{ "bad_flags", "malformed" },
		{ "unknown_session", "unknown_session" },
		{ "expired", "expired" },
		{ "replay", "replay" },
		{ "bad_tag", "bad_tag" },
		{ "spoofed_source", "spoofed_source" },
		{ "out_of_scope", "out_of_scope" },
		{ "source_route", "source_route" },
	};
	int v;

	for (v = 0; v < TUN_MAX; v++) {
		ASSERT_STREQ(tun_verdict_str(v), want[v][0], "str");
		ASSERT_STREQ(tun_verdict_counter(v), want[v][1], "counter");
	}
	ASSERT_STREQ(tun_verdict_str(TUN_MAX), "?", "max");
	ASSERT_STREQ(tun_verdict_counter((enum tun_verdict) - 1), "?", "negative");
}

T_MAIN(T_CASE(test_golden), T_CASE(test_roundtrip_lengths), T_CASE(test_seal_in_place),
       T_CASE(test_seal_errors), T_CASE(test_parse_table), T_CASE(test_view_untouched_on_error),
       T_CASE(test_flipped_bytes), T_CASE(test_truncated_every_length), T_CASE(test_inner_check),
       T_CASE(test_aead_golden), T_CASE(test_aead_open), T_CASE(test_keepalive), T_CASE(test_names))
