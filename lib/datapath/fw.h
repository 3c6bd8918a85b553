/* SPDX-License-Identifier: GPL-2.0 */
/* CIDR rule store: the rules in memory and their file in state_dir (no BPF here). */
#ifndef CG_DATAPATH_FW_H
#define CG_DATAPATH_FW_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/base/addr.h"

struct fw_rule {
	uint32_t id;	 /* user-visible, never reused within a store file */
	uint32_t slot;	 /* index in fw_hits, 0..CG_FW_MAX_RULES-1 */
	uint32_t action; /* enum fw_action */
	struct cidr cidr;
};

struct fw_store {
	struct fw_rule *rules; /* sorted by id */
	size_t n, cap;
	uint32_t next_id;
};

void fw_store_init(struct fw_store *s);
/* Frees the rules; accepts a zeroed or already freed store. */
void fw_store_free(struct fw_store *s);

/*
 * Reads the store file. A missing file is an empty store. A file that is not
 * a valid store (bad JSON, bad CIDR, duplicate id/CIDR/slot, wrong version) is
 * refused with -EINVAL and a reason in err; *s is written only on success.
 */
int fw_store_load(struct fw_store *s, const char *path, char *err, size_t errlen);

/*
 * Writes the store atomically: PATH.tmp, fsync, rename over PATH, fsync the
 * directory. The file is 0600. Returns 0 or -errno.
 */
int fw_store_save(const struct fw_store *s, const char *path);

/*
 * Adds a rule with the next id and the lowest free slot; writes it to *out.
 * Returns 0, -EEXIST if a rule has the same prefix (out gets that rule), or
 * -ENOSPC when CG_FW_MAX_RULES are in use.
 */
int fw_store_add(struct fw_store *s, const struct cidr *c, uint32_t action, struct fw_rule *out);

/* Removes rule id, writing it to *out if out is not NULL. 0 or -ENOENT. */
int fw_store_del(struct fw_store *s, uint32_t id, struct fw_rule *out);

/* The rule with this id, or NULL. */
const struct fw_rule *fw_store_find(const struct fw_store *s, uint32_t id);

/* "allow"/"drop" <-> enum fw_action. fw_action_parse returns 0 or -EINVAL. */
const char *fw_action_name(uint32_t action);
int fw_action_parse(const char *s, uint32_t *out);

/* {"id":1,"cidr":"192.168.3.0/24","action":"drop","hits":N}; NULL on ENOMEM. */
json_t *fw_rule_json(const struct fw_rule *r, uint64_t hits);

#endif
