/* SPDX-License-Identifier: GPL-2.0 */
/* Rule stage: longest-prefix match of the source address, behind a per-CPU verdict cache. */
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
 * Returns CG_STAT_PASS_RULE / CG_STAT_DROP_RULE when the source matches a
 * rule (the trie returns the longest matching prefix), else CG_CONTINUE. A
 * match counts in fw_hits[slot], whether it came from the trie or the cache.
 *
 * @gen is gate_config.fw_gen, read by the caller before this runs. A cache
 * entry of this generation answers without the trie walk; otherwise the
 * trie's answer ("no rule" included) is stored under @gen. The daemon bumps
 * fw_gen after it changes a trie, so an answer that raced with the change is
 * stored under the old generation and is never used. gen 0: no cache.
 */
static __always_inline int fw_check(const struct cg_pkt *p, __u32 gen)
{
	struct fw_cache_val *c = NULL;
	__u32 action, slot = 0;
	__u64 *hits;

	if (gen)
		c = bpf_map_lookup_elem(&fw_cache, p->src);
	if (c && c->gen == gen) {
		action = c->action;
		slot = c->slot;
	} else {
		action = fw_lookup(p, &slot);
		if (c) {
			/* This CPU's copy: no other writer. */
			c->action = action;
			c->slot = slot;
			c->gen = gen;
		} else if (gen) {
			struct fw_cache_val nc = { .gen = gen, .action = action, .slot = slot };

			bpf_map_update_elem(&fw_cache, p->src, &nc, BPF_ANY);
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
