/* SPDX-License-Identifier: GPL-2.0 */
/* Maps of the gate. Each: key -> value, who writes it, who reads it. */
#ifndef CG_BPF_MAPS_H
#define CG_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "abi/fw.h"
#include "abi/gate.h"
#include "abi/knock.h"
#include "abi/replay.h"
#include "abi/sieve.h"
#include "abi/stats.h"
#include "abi/tunnel.h"

#define CG_FLOWS_MAX 65536
#define CG_FRAGS_MAX 8192
#define CG_KNOCK_SOURCES_MAX 65536
#define CG_DOORS_MAX 16384
#define CG_OPEN_PORTS_MAX 1024

/* 0 -> struct gate_config. Daemon writes at start; gate reads. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gate_config);
} gate_config SEC(".maps");

/* enum cg_stat -> per-CPU struct cg_counter. Gate writes; daemon sums and reads. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CG_STAT_MAX);
	__type(key, __u32);
	__type(value, struct cg_counter);
} gate_stats SEC(".maps");

/* IPv4 source prefix -> rule. Daemon writes (REST/CLI); gate reads. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, CG_FW_MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fw_key_v4);
	__type(value, struct fw_rule_val);
} fw_rules_v4 SEC(".maps");

/* IPv6 source prefix -> rule. Daemon writes; gate reads. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, CG_FW_MAX_RULES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct fw_key_v6);
	__type(value, struct fw_rule_val);
} fw_rules_v6 SEC(".maps");

/*
 * slot (fw_cache_index of the source, bpf/fw.h) -> per-CPU struct
 * fw_cache_val: the verdict of the tries for the source the slot holds, or
 * "no rule", stamped with the gate_config.fw_gen it was looked up under.
 * Direct-mapped: a source whose slot holds another source misses and takes
 * the slot over, with no allocation and no lock, so a miss costs the trie
 * walk plus a 32-byte store. Gate writes and reads; the daemon invalidates it
 * wholesale by bumping fw_gen, never by writing it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CG_FW_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct fw_cache_val);
} fw_cache SEC(".maps");

/*
 * 0 -> struct gate_sieve (abi/sieve.h): the sets that let the gate drop a
 * packet nothing could admit before the rules. The daemon writes on, want
 * and rules and rotates the generations through a mmap; the gate reads all
 * and ORs flow and knock bits in. An array: the lookup is inlined.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct gate_sieve);
} gate_sieve SEC(".maps");

/* rule slot -> per-CPU packets matched. Gate writes; daemon reads and zeroes a new slot. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CG_FW_MAX_RULES);
	__type(key, __u32);
	__type(value, __u64);
} fw_hits SEC(".maps");

/* struct cg_port (open service) -> where it leads. Daemon writes at start; gate reads. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CG_OPEN_PORTS_MAX);
	__type(key, struct cg_port);
	__type(value, struct cg_dests);
} open_ports SEC(".maps");

/* The gateway's own addresses -> 1 (abi/gate.h). Daemon writes; gate reads. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CG_LOCAL_MAX);
	__type(key, __u8[16]);
	__type(value, __u32);
} gate_local SEC(".maps");

/* SPA source -> GCRA arrival time (abi/gate.h). Gate writes and reads. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CG_SPA_SOURCES_MAX);
	__type(key, __u8[16]);
	__type(value, __u64);
} spa_rate SEC(".maps");

/* source address -> knock progress. Gate writes; daemon reads, clears on profile change. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CG_KNOCK_SOURCES_MAX);
	__type(key, __u8[16]);
	__type(value, struct knock_state);
} knock_state SEC(".maps");

/*
 * Locks of knock_state, striped by a hash of the source (bpf/knock.h): an LRU
 * hash cannot hold a bpf_spin_lock in its values. Gate only.
 */
#define CG_KNOCK_LOCKS 1024

struct knock_lock {
	struct bpf_spin_lock lock;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CG_KNOCK_LOCKS);
	__type(key, __u32);
	__type(value, struct knock_lock);
} knock_locks SEC(".maps");

/* (source, proto, port) -> open door. Gate (knock) and daemon (SPA) write; gate reads; daemon lists
 * and expires. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CG_DOORS_MAX);
	__type(key, struct knock_open_key);
	__type(value, struct knock_open_val);
} knock_open SEC(".maps");

/* flow 5-tuple (ingress orientation) -> last packet time. Gate and egress write; gate reads. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CG_FLOWS_MAX);
	__type(key, struct flow_key);
	__type(value, struct flow_val);
} gate_flows SEC(".maps");

/* datagram of an allowed first fragment -> time seen. Gate writes and reads. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CG_FRAGS_MAX);
	__type(key, struct frag_key);
	__type(value, struct frag_val);
} gate_frags SEC(".maps");

/*
 * CG_SESSION_SLOT(session id) -> struct cg_session (abi/tunnel.h). The daemon
 * installs an entry (whole, at authentication and renewal) and zeroes it
 * (revocation, expiry); the gate reads id, key, expiry, virtual address and
 * scopes, reads the replay window as a pre-check, and under the entry's lock
 * updates the window, the endpoint and the rx counters (bpf/cap.h). An array:
 * the lookup is an indexed load, which the unknown-session drop needs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CG_MAX_SESSIONS);
	__type(key, __u32);
	__type(value, struct cg_session);
} tun_sessions SEC(".maps");

/*
 * CG_SESSION_SLOT(session id) -> struct cg_replay_window: the client-to-gateway
 * replay window of an encrypted session (integrity sessions keep theirs in
 * tun_sessions). Only the tag the daemon checks (the AEAD's) may move a
 * window, so user space writes it: the daemon's data worker that owns the
 * session, through an mmap of the whole array (BPF_F_MMAPABLE,
 * lib/datapath/window.c), with replay_accept(), one writer per window at a
 * time; it zeroes a slot before it installs an encrypted session there. The
 * gate only reads it, with replay_would_accept() and no lock (there is none a
 * mmap writer could take; bpf/cap.h says what that means off x86).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CG_MAX_SESSIONS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct cg_replay_window);
} tun_windows SEC(".maps");

#endif
