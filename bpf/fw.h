/* SPDX-License-Identifier: GPL-2.0 */
/* Rule stage: longest-prefix match of the source address, behind a direct-mapped per-CPU cache. */
#ifndef CG_BPF_FW_H
#define CG_BPF_FW_H

#include "bpf/common.h"
#include "bpf/parse.h"

/*
 * The trie's answer for the source: FW_ACT_ALLOW or FW_ACT_DROP and the
 * rule's slot, or 0 when no prefix matches. Any action other than allow is a
 * drop: a value the gate does not understand must not open anything (and
 * must not read as "no rule" in the cache).
 */
static __always_inline __u32 fw_lookup(const struct cg_pkt *p, __u32 *slot)
{
	struct fw_rule_val *rule;

	if (p->v6) {
		struct fw_key_v6 k6 = { .prefixlen = 128 };

		__builtin_memcpy(k6.addr, p->src, 16);
		rule = bpf_map_lookup_elem(&fw_rules_v6, &k6);
	} else {
		struct fw_key_v4 k4 = { .prefixlen = 32 };

		__builtin_memcpy(k4.addr, &p->src[12], 4);
		rule = bpf_map_lookup_elem(&fw_rules_v4, &k4);
	}
	if (!rule)
		return 0;
	*slot = rule->slot;
	return rule->action == FW_ACT_ALLOW ? FW_ACT_ALLOW : FW_ACT_DROP;
}

/*
 * Seed of the cache's slot hash, drawn on first use in each loaded program
 * (.bss, not pinned): a source cannot aim at the slot of another. Two CPUs
 * may race to draw it; the loser's entries are then in other slots and only
 * miss, since an entry holds its whole address.
 */
__u32 fw_cache_seed = 0;

/* Slot of @src in fw_cache: a seeded multiply-xor hash of its four words. */
static __always_inline __u32 fw_cache_index(const __u8 *src)
{
	const __u32 *w = (const __u32 *)src;
	__u32 h = fw_cache_seed;

	if (!h) {
		h = bpf_get_prandom_u32() | 1;
		fw_cache_seed = h;
	}
	h = (h ^ w[0]) * 0x9e3779b1U;
	h = (h ^ w[1]) * 0x85ebca77U;
	h = (h ^ w[2]) * 0xc2b2ae3dU;
	h = (h ^ w[3]) * 0x27d4eb2fU;
	return (h ^ (h >> 16)) & (CG_FW_CACHE_SLOTS - 1);
}

/*
 * Returns CG_STAT_PASS_RULE / CG_STAT_DROP_RULE when the source matches a
 * rule (the trie returns the longest matching prefix), else CG_CONTINUE. A
 * match counts in fw_hits[slot], whether it came from the trie or the cache.
 *
 * @gen is gate_config.fw_gen, read by the caller before this runs. The
 * source's slot of fw_cache answers without the trie walk if it holds this
 * source under @gen; otherwise the trie's answer ("no rule" included) is
 * written to the slot, replacing whatever source was there. The daemon bumps
 * fw_gen after it changes a trie, so an answer that raced with the change is
 * stored under the old generation and is never used. gen 0: no cache.
 */
static __always_inline int fw_check(const struct cg_pkt *p, __u32 gen)
{
	struct fw_cache_val *c = NULL;
	__u32 action, slot = 0, idx;
	__u64 *hits;

	if (gen) {
		idx = fw_cache_index(p->src);
		c = bpf_map_lookup_elem(&fw_cache, &idx);
	}
	if (c && c->gen == gen && scope_addr_eq(c->addr, p->src)) {
		action = c->action;
		slot = c->slot;
	} else {
		action = fw_lookup(p, &slot);
		if (c) {
			/* This CPU's copy: no other writer. */
			__builtin_memcpy(c->addr, p->src, 16);
			c->action = action;
			c->slot = slot;
			c->gen = gen;
		}
	}
	if (!action)
		return CG_CONTINUE;

	hits = bpf_map_lookup_elem(&fw_hits, &slot);
	if (hits)
		(*hits)++;
	return action == FW_ACT_ALLOW ? CG_STAT_PASS_RULE : CG_STAT_DROP_RULE;
}

#endif
