/* SPDX-License-Identifier: GPL-2.0 */
/* SipHash-2-4 with 128-bit output over packet bytes, bit-identical to libsodium's siphashx24. */
#ifndef CG_BPF_SIPHASH_H
#define CG_BPF_SIPHASH_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "bpf/bound.h"

/*
 * Words are read from the packet as native 64-bit loads, which is the
 * reference's U8TO64_LE only on a little-endian target (bpfel, x86/arm64).
 */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "siphash.h reads little-endian words"
#endif

/* Longest message hashed: the tunnel header and an inner packet of 1500 bytes. */
#define CG_SIP_MAX_LEN (16 + 1500)
#define CG_SIP_MAX_WORDS (CG_SIP_MAX_LEN / 8)

/*
 * SipRound, as in the paper (Aumasson & Bernstein, 2012), written out in BPF
 * assembly: BPF has no rotate, and each rotation costs a copy and two shifts
 * and an or. clang 14 spends a few more register copies per round than these
 * 32 instructions, and the hash is most of the accept path's time
 * (docs/BENCHMARKS.md). The unit and bpf tests hold it to libsodium and the
 * reference vectors.
 */
/* clang-format off */
#define SIP_ROTL_ASM(x, b) \
	"%[t] = %[" x "]\n\t"			\
	"%[t] >>= 64 - " #b "\n\t"		\
	"%[" x "] <<= " #b "\n\t"		\
	"%[" x "] |= %[t]\n\t"
#define SIPROUND(v0, v1, v2, v3)					\
	do {								\
		__u64 t_;						\
		asm volatile("%[a] += %[b]\n\t"			\
			     SIP_ROTL_ASM("b", 13)			\
			     "%[b] ^= %[a]\n\t"			\
			     SIP_ROTL_ASM("a", 32)			\
			     "%[c] += %[d]\n\t"			\
			     SIP_ROTL_ASM("d", 16)			\
			     "%[d] ^= %[c]\n\t"			\
			     "%[a] += %[d]\n\t"			\
			     SIP_ROTL_ASM("d", 21)			\
			     "%[d] ^= %[a]\n\t"			\
			     "%[c] += %[b]\n\t"			\
			     SIP_ROTL_ASM("b", 17)			\
			     "%[b] ^= %[c]\n\t"			\
			     SIP_ROTL_ASM("c", 32)			\
			     : [a] "+r"(v0), [b] "+r"(v1), [c] "+r"(v2), [d] "+r"(v3), \
			       [t] "=&r"(t_));				\
	} while (0)
/* clang-format on */

/* One message word, c = 2 rounds. */
#define SIP_COMPRESS(v0, v1, v2, v3, word) \
	do {                               \
		__u64 m_ = (word);         \
		v3 ^= m_;                  \
		SIPROUND(v0, v1, v2, v3);  \
		SIPROUND(v0, v1, v2, v3);  \
		v0 ^= m_;                  \
	} while (0)

/*
 * SipHash-2-4-128 of the @len bytes at @msg (a packet pointer) under the key
 * (@k0, @k1), the key's bytes 0-7 and 8-15 read little-endian. @len must be
 * at most CG_SIP_MAX_LEN, and at least 8 readable bytes must follow the
 * message in the packet (the tunnel's tag does): the last, partial word is
 * read whole and masked, as one load instead of up to seven. Writes the tag
 * to out[0] (bytes 0-7) and out[1] (bytes 8-15) as little-endian words and
 * returns 0, or returns -1 when a word lies past @end.
 *
 * Written for the verifier, which walks the word loops once per possible
 * exit: the last block is read before the loops, and their bounds are hidden
 * from clang, so that after them no register but the word pointer holds
 * anything the loops refined. The verifier still walks the remainder loop
 * and the finalization once per exit of the four-word loop (47 of them);
 * cap_tag_check is a global function so that this happens once, not once
 * per caller state.
 */
static __always_inline int siphash128_pkt(const __u8 *msg, __u32 len, const void *end, __u64 k0,
					  __u64 k1, __u64 out[2])
{
	__u64 v0 = k0 ^ 0x736f6d6570736575ULL;
	__u64 v1 = k1 ^ 0x646f72616e646f6dULL ^ 0xee; /* 0xee: 128-bit output */
	__u64 v2 = k0 ^ 0x6c7967656e657261ULL;
	__u64 v3 = k1 ^ 0x7465646279746573ULL;
	__u32 nwords = len >> 3, i, r = len & 7;
	const __u64 *w;
	const void *next;
	__u64 b;

	/* Last block: the 0-7 remaining bytes, length mod 256 in the top byte. */
	w = (const __u64 *)(msg + (len & ~7U));
	next = w + 1;
	/* Keeps clang from turning "w + 1 > end" into arithmetic on end (the verifier refuses it).
	 */
	asm volatile("" : "+r"(next));
	if (next > end)
		return -1;
	b = r ? *w & ((1ULL << (r * 8)) - 1) : 0;
	b |= (__u64)len << 56;

	/* Compression: c = 2 rounds per 8-byte word; four words per bounds check, then the rest. */
	asm volatile("" : "+r"(nwords));
	w = (const __u64 *)msg;
	for (i = 0; i < CG_SIP_MAX_WORDS / 4; i++) {
		if (i >= nwords >> 2)
			break;
		next = w + 4;
		asm volatile("" : "+r"(next));
		if (next > end)
			return -1;
		SIP_COMPRESS(v0, v1, v2, v3, w[0]);
		SIP_COMPRESS(v0, v1, v2, v3, w[1]);
		SIP_COMPRESS(v0, v1, v2, v3, w[2]);
		SIP_COMPRESS(v0, v1, v2, v3, w[3]);
		w = next;
	}
	for (i = 0; i < 3; i++) {
		if (i >= (nwords & 3))
			break;
		next = w + 1;
		asm volatile("" : "+r"(next));
		if (next > end)
			return -1;
		SIP_COMPRESS(v0, v1, v2, v3, *w);
		w = next;
	}
	v3 ^= b;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= b;

	/* Finalization: d = 4 rounds per 64-bit half of the output. */
	v2 ^= 0xee;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	out[0] = v0 ^ v1 ^ v2 ^ v3;
	v1 ^= 0xdd;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	out[1] = v0 ^ v1 ^ v2 ^ v3;
	return 0;
}

/*
 * 1 if the @msg_len bytes at @msg_off in the frame [@data, @data_end) are
 * followed by their tag under the key (@k0, @k1); 0 if the tag differs; -1
 * if the message and tag are not in the frame. @msg_off must be at most
 * 0x3ff and @msg_len at most CG_SIP_MAX_LEN (the caller checks).
 */
static __always_inline int siphash128_pkt_check(void *data, void *data_end, __u32 msg_off,
						__u32 msg_len, __u64 k0, __u64 k1)
{
	__u32 tag_off;
	const __u64 *t;
	__u64 tag[2];

	bpf_bound(msg_off, 0x3ff);
	bpf_bound(msg_len, 0x7ff);
	tag_off = msg_off + msg_len;
	if (siphash128_pkt(data + msg_off, msg_len, data_end, k0, k1, tag))
		return -1;
	/*
	 * From data, not from the message pointer: after the hash's loop no
	 * live pointer may share the loop's bounds, or the verifier walks the
	 * rest once per word count.
	 */
	asm volatile("" : "+r"(tag_off));
	bpf_bound(tag_off, 0xfff);
	t = data + tag_off;
	if ((void *)(t + 2) > data_end)
		return -1;
	return !((tag[0] ^ t[0]) | (tag[1] ^ t[1]));
}

#endif
