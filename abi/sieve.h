/* SPDX-License-Identifier: GPL-2.0 */
/* The gate's sieve: bit sets that tell, before the rules, that nothing could admit a packet. */
#ifndef CG_ABI_SIEVE_H
#define CG_ABI_SIEVE_H

#include <linux/types.h>

#define CG_SIEVE_PORT_WORDS 1024  /* 65,536 ports, 64 to a word */
#define CG_SIEVE_PFX_WORDS 1024	  /* 65,536 16-bit source prefixes */
#define CG_SIEVE_KNOCK_WORDS 4096 /* 262,144 bloom bits per generation */

/* First index of want[] and flow[][]. */
enum sieve_proto {
	SIEVE_TCP = 0,
	SIEVE_UDP = 1,
};

/*
 * gate_sieve[0] (docs/datapath.md, "The sieve"): with default drop, a TCP or
 * UDP packet (not a later fragment) whose destination port is in none of
 * want/flow, whose source's first 16 bits are in no rule and whose source
 * is not in the knock bloom is DROP_DEFAULT at once: no later step could
 * admit it. Every set is a superset: a bit set wrongly costs the full path,
 * a bit missing would drop a packet the gate should judge.
 *
 * Ports index as the 16 bits of the port in network order (struct cg_port,
 * the packet): word port >> 6, bit port & 63. Prefixes index by the first
 * two address bytes as a number (byte 0 << 8 | byte 1; IPv4: of the IPv4
 * address), so a shorter prefix is a run of bits.
 *
 * on and want/rules: the daemon, through a mmap (lib/datapath/sieve.c);
 * flow[gen & 1] and knock[gen & 1]: the gate (atomic OR) when a flow's or a
 * source's knock state is written; the daemon clears the other generation
 * and then bumps gen, once per rotation period (>= the flow timeout and the
 * longest knock step timeout), so a bit lives at least one period. on 0
 * (a zeroed map): the sieve lets every packet through.
 */
struct gate_sieve {
	__u32 on;  /* 1: the daemon filled want and rules */
	__u32 gen; /* gen & 1: the generation the gate marks */
	/* [proto] ports open services, knock steps, doors, SPA and the data port use */
	__u64 want[2][CG_SIEVE_PORT_WORDS];
	/* [gen][proto] destination ports (ingress orientation) of flows */
	__u64 flow[2][2][CG_SIEVE_PORT_WORDS];
	/* [v6] first 16 bits of the source that some rule's prefix covers */
	__u64 rules[2][CG_SIEVE_PFX_WORDS];
	/* [gen] bloom of sources whose knock state the gate wrote (sieve_knock_bit) */
	__u64 knock[2][CG_SIEVE_KNOCK_WORDS];
};
_Static_assert(sizeof(struct gate_sieve) == 8 + 8 * (2 + 4 + 2) * 1024 + 8 * 2 * 4096, "abi");

/* Index of a TCP/UDP protocol number in want[] and flow[][]. */
static inline __u32 sieve_proto(__u8 proto)
{
	return proto == 17 ? SIEVE_UDP : SIEVE_TCP; /* IPPROTO_UDP */
}

/* The bloom bit of a source (16 bytes, IPv4 as ::ffff:a.b.c.d), 0..262,143. */
static inline __u32 sieve_knock_bit(const __u8 *src)
{
	const __u32 *w = (const __u32 *)src;

	return ((w[0] ^ w[1] ^ w[2] ^ w[3]) * 0x9e3779b1U) >> (32 - 18);
}

/* The 16-bit prefix of a source: its first two address bytes (IPv4: of the IPv4 address). */
static inline __u32 sieve_pfx(const __u8 *src, int v6)
{
	return v6 ? (__u32)src[0] << 8 | src[1] : (__u32)src[12] << 8 | src[13];
}

#endif
