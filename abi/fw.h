/* SPDX-License-Identifier: GPL-2.0 */
/* CIDR rules: LPM-trie keys and values shared by the gate and the daemon. */
#ifndef CG_ABI_FW_H
#define CG_ABI_FW_H

#include <linux/types.h>

/* Hit counters are indexed by slot, so at most this many rules in all. */
#define CG_FW_MAX_RULES 65536

enum fw_action {
	FW_ACT_ALLOW = 1,
	FW_ACT_DROP = 2,
};

/* fw_rules_v4 key: prefixlen in bits (0..32), then the address bytes. */
struct fw_key_v4 {
	__u32 prefixlen;
	__u8 addr[4];
};
_Static_assert(sizeof(struct fw_key_v4) == 8, "abi");

/* fw_rules_v6 key: prefixlen in bits (0..128), then the address bytes. */
struct fw_key_v6 {
	__u32 prefixlen;
	__u8 addr[16];
};
_Static_assert(sizeof(struct fw_key_v6) == 20, "abi");

/* Value of both tries. slot indexes fw_hits (per-CPU packet count). */
struct fw_rule_val {
	__u32 action; /* enum fw_action */
	__u32 slot;
};
_Static_assert(sizeof(struct fw_rule_val) == 8, "abi");

/*
 * fw_cache: a direct-mapped per-CPU array of CG_FW_CACHE_SLOTS entries. The
 * slot of a source is a seeded hash of its address (bpf/fw.h); the entry
 * holds the whole address, so an entry of another source in the slot is a
 * miss (and is overwritten). Valid while addr is the source and gen equals
 * gate_config.fw_gen; an all-zero entry (gen 0) is never valid. Written and
 * read by the gate; user space only inspects it (tests).
 */
#define CG_FW_CACHE_SLOTS 8192 /* a power of two */

struct fw_cache_val {
	__u8 addr[16]; /* source, IPv4 as ::ffff:a.b.c.d */
	__u32 gen;     /* gate_config.fw_gen read before the trie lookup */
	__u32 action;  /* FW_ACT_ALLOW / FW_ACT_DROP, or 0: no rule matched */
	__u32 slot;    /* fw_hits index of the matched rule */
	__u32 pad;
};
_Static_assert(sizeof(struct fw_cache_val) == 32, "abi");
_Static_assert((CG_FW_CACHE_SLOTS & (CG_FW_CACHE_SLOTS - 1)) == 0, "power of two");

#endif
