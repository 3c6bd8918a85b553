/* SPDX-License-Identifier: GPL-2.0 */
/* flow: bidirectional flow table (open addressing) with LRU lists for idle expiry and eviction. */
#ifndef CG_DPI_FLOW_H
#define CG_DPI_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/dpi/decode.h"
#include "lib/dpi/reasm.h"

/* The key is canonical: side 0 is the smaller (address, port), so both directions match. */
struct flow_key {
	uint8_t af, proto;
	uint16_t port[2];
	uint8_t addr[2][16];
};

enum flow_end {
	FLOW_END_NONE = 0,
	FLOW_END_FIN,
	FLOW_END_RST,
	FLOW_END_IDLE,
	FLOW_END_EOF,
	FLOW_END_EVICTED,
};

enum flow_lru {
	FLOW_LRU_TCP = 0,
	FLOW_LRU_OTHER,
	FLOW_LRU_CLOSED, /* TCP flows after FIN/RST, lingering for late packets */
	FLOW_LRU_N,
};

struct flow_app;

/*
 * One flow. Direction 0 is initiator -> responder: "src" in the output is the
 * initiator (the SYN sender; else the side that looks like a client).
 */
struct flow {
	struct flow_key key;
	uint32_t hash;
	uint8_t init_side; /* key side (0/1) of the initiator */
	uint8_t end;	   /* enum flow_end once decided (fin/rst while lingering) */
	uint8_t nvlan;
	uint8_t lru;
	uint16_t vlan[DEC_MAX_VLAN];
	uint64_t id;
	uint64_t first_ns, last_ns;
	uint64_t pkts[2], bytes[2];
	uint32_t gaps;
	const char *app; /* "http", "tls", "dns", "quic", or NULL */
	struct reasm_dir rd[2];
	/*
	 * Per key side, what its segments say of its receive side (RST checks):
	 * the window it last advertised, in bytes (scaled once both SYNs carried
	 * the option; valid once win_seen), its SYN's window scale
	 * (DEC_NO_WSCALE until seen or without the option), and the last
	 * acknowledgment number it sent (valid once ack_seen).
	 */
	uint32_t win[2];
	uint32_t ack[2];
	uint8_t wscale[2];
	bool win_seen[2];
	bool ack_seen[2];
	struct flow_app *app_state; /* owned by the dpi layer */
	struct flow *prev, *next;   /* LRU list, least recent first */
};

struct flow_table;

/* A table for at most max_flows flows, or NULL with errno set. */
struct flow_table *flow_table_new(uint32_t max_flows);
/* Frees the table only: flows still in it are the caller's to free first (flow_table_oldest). */
void flow_table_free(struct flow_table *t);

/*
 * Build the canonical key of a decoded packet; *side is the key side of the
 * packet's source. Returns 0, or -EINVAL when the packet has no IP layer.
 */
int flow_key_make(const struct dec_pkt *pkt, struct flow_key *key, int *side);

#define FLOW_HASH_KEY_LEN 16

/*
 * The table hash of key: SipHash-2-4 under a secret key chosen at random per
 * analyzer (dpi_new), so keys that collide cannot be precomputed to turn
 * the table's probe runs into a linear scan.
 */
uint32_t flow_key_hash(const struct flow_key *key, const uint8_t hkey[FLOW_HASH_KEY_LEN]);

/* The flow with this key, or NULL. */
struct flow *flow_table_lookup(struct flow_table *t, const struct flow_key *key, uint32_t hash);
/* Insert f (key and hash set; not already present). Returns 0 or -ENOSPC when full. */
int flow_table_insert(struct flow_table *t, struct flow *f);
/* Remove f from the table and its LRU list (f is not freed). */
void flow_table_remove(struct flow_table *t, struct flow *f);
/* Mark f most recently used in its LRU list. */
void flow_table_touch(struct flow_table *t, struct flow *f);
/* Move f to the tail of list lru. */
void flow_table_move(struct flow_table *t, struct flow *f, enum flow_lru lru);
/* The least recently used flow of list lru, or NULL. */
struct flow *flow_table_oldest(const struct flow_table *t, enum flow_lru lru);
uint32_t flow_table_count(const struct flow_table *t);
uint32_t flow_table_max(const struct flow_table *t);

/* "fin", "rst", "idle", "eof", "evicted" (or "" for none). */
const char *flow_end_str(enum flow_end e);

#endif
