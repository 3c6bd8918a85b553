/* SPDX-License-Identifier: GPL-2.0 */
/* Tunnel wire format (DESIGN.md §3) and the per-session state the gate checks on every packet. */
#ifndef CG_ABI_TUNNEL_H
#define CG_ABI_TUNNEL_H

#include <linux/types.h>
/*
 * The one exception to "types only": the replay window's lock must be a
 * struct bpf_spin_lock in the map value's BTF, or the verifier refuses it.
 */
#include <linux/bpf.h>

#define CG_TUN_HDR_LEN 16
#define CG_TUN_TAG_LEN 16
#define CG_TUN_KEY_LEN 16     /* SipHash-2-4-128 key */
#define CG_REPLAY_WINDOW 8192 /* packets, RFC 6479 style */
#define CG_REPLAY_WORDS (CG_REPLAY_WINDOW / 64)
#define CG_MAX_SCOPES 16
/*
 * tun_sessions is an array of CG_MAX_SESSIONS slots, so that the gate finds a
 * session (or its absence) with one indexed load instead of a hash lookup. A
 * session id's low CG_SESSION_SLOT_BITS bits are its slot and the other bits
 * are random: among n live sessions a forged id still hits one with
 * probability n / 2^32, as with 32 random bits. An empty slot holds id 0,
 * which no session has.
 */
#define CG_SESSION_SLOT_BITS 14
#define CG_MAX_SESSIONS (1U << CG_SESSION_SLOT_BITS)
#define CG_SESSION_SLOT(id) ((id) & (CG_MAX_SESSIONS - 1))
/* Renewal: the old session stays valid this long after the new one exists. */
#define CG_RENEW_OVERLAP_NS (10ULL * 1000000000ULL)

enum cg_tun_type {
	CG_TUN_DATA = 1,
	/*
	 * Header and tag, no inner packet: the tag covers the header (SipHash,
	 * or the AEAD tag of an empty plaintext with the header as additional
	 * data). It moves the replay window and the endpoint and goes no
	 * further: a client that has sent nothing for a keepalive interval sends
	 * one, so a NAT that rebinds a silent client's port is followed.
	 */
	CG_TUN_KEEPALIVE = 2,
};

enum cg_tun_flags {
	CG_TUN_F_ENCRYPTED = 1U << 0, /* AEAD mode: a later issue */
};

/*
 *  0      1      2      4              8                      16
 *  +------+------+------+--------------+----------------------+
 *  | type | flags| rsvd |  session id  |  counter (u64)       |
 *  +------+------+------+--------------+----------------------+
 *  then the inner IPv4/IPv6 packet, then a 16-byte tag. Big-endian.
 *  Tag = SipHash-2-4-128(key, header || inner packet).
 */
struct cg_tun_hdr {
	__u8 type;   /* enum cg_tun_type */
	__u8 flags;  /* enum cg_tun_flags */
	__be16 rsvd; /* zero */
	__be32 session;
	__be64 counter; /* starts at 1, never repeats under one key */
};
_Static_assert(sizeof(struct cg_tun_hdr) == CG_TUN_HDR_LEN, "abi");

/*
 * A destination the session may reach. Addresses are 16 bytes with IPv4 as
 * ::ffff:a.b.c.d, and plen counts in that 128-bit space (IPv4 /24 = 120).
 */
struct cg_scope {
	__u8 addr[16];
	__u8 plen;     /* 0..128 */
	__u8 proto;    /* IPPROTO_TCP, IPPROTO_UDP, ...; 0 = any protocol */
	__u16 port_lo; /* host order, inclusive; only for TCP/UDP */
	__u16 port_hi;
	__u8 pad[2];
};
_Static_assert(sizeof(struct cg_scope) == 24, "abi");

/*
 * tun_sessions: CG_SESSION_SLOT(id) -> session. The daemon writes a whole
 * entry at install and zeroes it at revocation; new scopes go in through
 * xdp_rescope (struct cg_rescope), which writes only nscopes and scopes,
 * under the lock. The gate reads the id, key, expiry and address, reads the
 * replay window without the lock (a pre-check, abi/replay.h), and under the
 * lock matches the scopes and updates the window, the endpoint and the
 * counters of packets whose tag verified.
 */
struct cg_session {
	__u64 expires_ns; /* CLOCK_MONOTONIC ns; the gate compares bpf_ktime_get_coarse_ns() */
	__u32 id;	  /* host order; 0 = an empty slot */
	__u8 pad0[4];
	__u8 key[CG_TUN_KEY_LEN]; /* client-to-gateway MAC key */
	__u8 vip[16];		  /* the client's virtual address: the only inner source allowed */
	__u32 nscopes;
	__u32 flags; /* enum cg_tun_flags the session uses */
	struct cg_scope scopes[CG_MAX_SCOPES];
	/* Written by the gate, under lock. */
	struct bpf_spin_lock lock;
	__be16 ep_port; /* last authenticated outer source port */
	__u8 pad[2];
	__u8 ep_addr[16]; /* last authenticated outer source (roaming) */
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 replay_top; /* highest counter accepted, 0 = none yet */
	__u64 replay_bitmap[CG_REPLAY_WORDS];
};
_Static_assert(sizeof(struct cg_session) == 56 + 24 * CG_MAX_SCOPES + 48 + 8 * CG_REPLAY_WORDS,
	       "abi");

/*
 * The packet the daemon runs xdp_rescope on (BPF_PROG_TEST_RUN): session
 * @id gets @nscopes (<= CG_MAX_SCOPES) scopes; all CG_MAX_SCOPES are copied
 * as given (sessmap_set_scopes zeroes the unused ones). Only these
 * fields of its entry change, under its lock, so the replay window, the
 * endpoint and the counters the gate wrote are never written back stale,
 * and a packet sees the old scopes or the new ones, never a mix. Verdict:
 * XDP_PASS done, XDP_DROP the slot holds no session @id, XDP_ABORTED a
 * malformed request.
 */
struct cg_rescope {
	__u32 id;
	__u32 nscopes;
	struct cg_scope scopes[CG_MAX_SCOPES];
};

#endif
