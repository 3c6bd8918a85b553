/* SPDX-License-Identifier: GPL-2.0 */
/* The daemon's side of the gate's sieve (gate_sieve, abi/sieve.h), mapped into user space. */
#ifndef CG_DATAPATH_SIEVE_H
#define CG_DATAPATH_SIEVE_H

#include <stddef.h>
#include <stdint.h>

#include "abi/knock.h"
#include "lib/base/addr.h"
#include "lib/datapath/fw.h"

/*
 * gate_sieve is a one-entry array created BPF_F_MMAPABLE: the daemon writes
 * its words with plain stores while the gate runs, and never rewrites a word
 * the gate ORs bits into (flow, knock) except the generation it clears. Every
 * set must stay a superset of what the gate may admit, so a change is made
 * in two steps: add the new ports or rule first (sieve_ports_add,
 * sieve_rule_add), change the datapath, then narrow to the exact set
 * (sieve_ports_set, sieve_rules_set). docs/datapath.md, "The sieve".
 */
struct sieve;

/*
 * Maps gate_sieve of @map_fd (MAP_SHARED, read and write). NULL with errno
 * set: EINVAL if map_fd is not a one-entry BPF_F_MMAPABLE array of struct
 * gate_sieve, or what the kernel said. sieve_close() releases it; the mapping
 * outlives the fd.
 */
struct sieve *sieve_open(int map_fd);

/* Unmaps and frees @s; NULL is fine. */
void sieve_close(struct sieve *s);

/* ORs the @n ports (TCP/UDP, network order; others are skipped) into the wanted set. */
void sieve_ports_add(struct sieve *s, const struct cg_port *ports, size_t n);

/* Makes the wanted set exactly the @n ports. */
void sieve_ports_set(struct sieve *s, const struct cg_port *ports, size_t n);

/* ORs the 16-bit source prefixes that @c covers into the rule set. */
void sieve_rule_add(struct sieve *s, const struct cidr *c);

/* Makes the rule set exactly the prefixes the rules of @st cover. */
void sieve_rules_set(struct sieve *s, const struct fw_store *st);

/*
 * Marks (proto, dport) of every flow in gate_flows (@flows_fd) and every
 * source in knock_state (@knock_fd) in the current generation: state kept in
 * pinned maps from before the sieve existed. Returns the entries marked or
 * -errno.
 */
int sieve_seed(struct sieve *s, int flows_fd, int knock_fd);

/*
 * Clears the generation the gate does not mark, then makes it the one it
 * marks: a bit the gate set lives at least one call interval. The caller
 * calls it at most once per (flow timeout, longest knock step timeout).
 */
void sieve_rotate(struct sieve *s);

/* Turns the sieve on (the sets are complete) or off. */
void sieve_enable(struct sieve *s, int on);

#endif
