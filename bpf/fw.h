/* SPDX-License-Identifier: GPL-2.0 */
/* Rule stage: longest-prefix match of the source address in the CIDR tries. */
#ifndef CG_BPF_FW_H
#define CG_BPF_FW_H

#include "bpf/common.h"
#include "bpf/parse.h"

/*
 * Returns CG_STAT_PASS_RULE / CG_STAT_DROP_RULE when the source matches a
 * rule (the trie returns the longest matching prefix), else CG_CONTINUE. A
 * match counts in fw_hits[slot]. Any action other than allow drops: a value
 * the gate does not understand must not open anything.
 */
static __always_inline int fw_check(const struct cg_pkt *p)
{
	struct fw_rule_val *rule;
	__u64 *hits;

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
		return CG_CONTINUE;

	hits = bpf_map_lookup_elem(&fw_hits, &rule->slot);
	if (hits)
		(*hits)++;
	return rule->action == FW_ACT_ALLOW ? CG_STAT_PASS_RULE : CG_STAT_DROP_RULE;
}

#endif
