// SPDX-License-Identifier: GPL-2.0
/* flow: linear probing with backward-shift deletion; no tombstones, no per-lookup allocation. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/dpi/flow.h"

struct flow_table {
	struct flow **slots;
	uint32_t mask; /* slots - 1, a power of two minus one */
	uint32_t count, max;
	struct flow *head[FLOW_LRU_N], *tail[FLOW_LRU_N];
};

const char *flow_end_str(enum flow_end e)
{
	switch (e) {
	case FLOW_END_FIN:
		return "fin";
	case FLOW_END_RST:
		return "rst";
	case FLOW_END_IDLE:
		return "idle";
	case FLOW_END_EOF:
		return "eof";
	case FLOW_END_EVICTED:
		return "evicted";
	default:
		return "";
	}
}

struct flow_table *flow_table_new(uint32_t max_flows)
{
	struct flow_table *t;
	uint64_t n = 16;

	if (!max_flows || max_flows > (1u << 28)) {
		errno = EINVAL;
		return NULL;
	}
	while (n < (uint64_t)max_flows * 2)
		n <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->slots = calloc(n, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->mask = (uint32_t)(n - 1);
	t->max = max_flows;
	return t;
}

void flow_table_free(struct flow_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}

static int addr_port_cmp(const uint8_t *a1, uint16_t p1, const uint8_t *a2, uint16_t p2)
{
	int c = memcmp(a1, a2, 16);

	if (c)
		return c;
	return (int)p1 - (int)p2;
}

int flow_key_make(const struct dec_pkt *pkt, struct flow_key *key, int *side)
{
	uint16_t sp = pkt->sport, dp = pkt->dport;

	if (pkt->af != 4 && pkt->af != 6)
		return -EINVAL;
	memset(key, 0, sizeof(*key));
	key->af = pkt->af;
	key->proto = pkt->proto;
	if (pkt->proto != 6 && pkt->proto != 17 && pkt->proto != 132)
		sp = dp = 0; /* ICMP and others: one flow per address pair and protocol */
	if (addr_port_cmp(pkt->src, sp, pkt->dst, dp) <= 0) {
		memcpy(key->addr[0], pkt->src, 16);
		memcpy(key->addr[1], pkt->dst, 16);
		key->port[0] = sp;
		key->port[1] = dp;
		*side = 0;
	} else {
		memcpy(key->addr[0], pkt->dst, 16);
		memcpy(key->addr[1], pkt->src, 16);
		key->port[0] = dp;
		key->port[1] = sp;
		*side = 1;
	}
	return 0;
}

_Static_assert(FLOW_HASH_KEY_LEN == crypto_shorthash_KEYBYTES, "flow hash key");

uint32_t flow_key_hash(const struct flow_key *key, const uint8_t hkey[FLOW_HASH_KEY_LEN])
{
	uint8_t out[crypto_shorthash_BYTES];
	uint32_t h;

	/* the key is memset before it is filled (flow_key_make): no padding bytes vary */
	crypto_shorthash(out, (const uint8_t *)key, sizeof(*key), hkey);
	memcpy(&h, out, sizeof(h));
	return h;
}

struct flow *flow_table_lookup(struct flow_table *t, const struct flow_key *key, uint32_t hash)
{
	uint32_t i = hash & t->mask;
	struct flow *f;

	while ((f = t->slots[i])) {
		if (f->hash == hash && !memcmp(&f->key, key, sizeof(*key)))
			return f;
		i = (i + 1) & t->mask;
	}
	return NULL;
}

static void lru_unlink(struct flow_table *t, struct flow *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else
		t->head[f->lru] = f->next;
	if (f->next)
		f->next->prev = f->prev;
	else
		t->tail[f->lru] = f->prev;
	f->prev = f->next = NULL;
}

static void lru_append(struct flow_table *t, struct flow *f)
{
	f->next = NULL;
	f->prev = t->tail[f->lru];
	if (f->prev)
		f->prev->next = f;
	else
		t->head[f->lru] = f;
	t->tail[f->lru] = f;
}

int flow_table_insert(struct flow_table *t, struct flow *f)
{
	uint32_t i = f->hash & t->mask;

	if (t->count >= t->max)
		return -ENOSPC;
	while (t->slots[i])
		i = (i + 1) & t->mask;
	t->slots[i] = f;
	t->count++;
	f->lru = f->key.proto == 6 ? FLOW_LRU_TCP : FLOW_LRU_OTHER;
	lru_append(t, f);
	return 0;
}

void flow_table_remove(struct flow_table *t, struct flow *f)
{
	uint32_t i = f->hash & t->mask, j, k;

	while (t->slots[i] && t->slots[i] != f)
		i = (i + 1) & t->mask;
	if (!t->slots[i])
		return;
	lru_unlink(t, f);
	t->slots[i] = NULL;
	t->count--;
	/* backward shift: move later entries of the probe run into the hole */
	j = i;
	for (;;) {
		j = (j + 1) & t->mask;
		if (!t->slots[j])
			break;
		k = t->slots[j]->hash & t->mask;
		/* the entry at j may move to i if its home k is not in (i, j] */
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			t->slots[i] = t->slots[j];
			t->slots[j] = NULL;
			i = j;
		}
	}
}

void flow_table_touch(struct flow_table *t, struct flow *f)
{
	if (t->tail[f->lru] == f)
		return;
	lru_unlink(t, f);
	lru_append(t, f);
}

void flow_table_move(struct flow_table *t, struct flow *f, enum flow_lru lru)
{
	lru_unlink(t, f);
	f->lru = (uint8_t)lru;
	lru_append(t, f);
}

struct flow *flow_table_oldest(const struct flow_table *t, enum flow_lru lru)
{
	return t->head[lru];
}

uint32_t flow_table_count(const struct flow_table *t)
{
	return t->count;
}

uint32_t flow_table_max(const struct flow_table *t)
{
	return t->max;
}
