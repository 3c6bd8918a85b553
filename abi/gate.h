/* SPDX-License-Identifier: GPL-2.0 */
/* Gate configuration, flow and fragment tracking, pin paths. */
#ifndef CG_ABI_GATE_H
#define CG_ABI_GATE_H

#include <linux/types.h>
#include "abi/knock.h"

/* Maps are pinned in CG_PIN_ROOT/<gateway name>/<map name>. */
#define CG_PIN_ROOT "/sys/fs/bpf/capgate"

enum gate_default {
	GATE_DEFAULT_DROP = 0,
	GATE_DEFAULT_PASS = 1,
};

/*
 * gate_config[0]: written by the daemon at start, read by the gate. fw_gen
 * is the generation of the rule tries: the daemon bumps it after every change
 * to fw_rules_v4/v6, which invalidates every fw_cache entry at once. 0 turns
 * the cache off, so the daemon skips 0 when it wraps. data_port (network
 * order) sends every UDP packet to it through the capability stage; 0 (auth
 * off) disables the stage.
 *
 * Sources that must never arrive from outside: pool (the clients' virtual
 * addresses; plen 0 = no pool), except as the inner source of a verified
 * tunnel packet, and the internal prefixes ([gateway] internal). SPA packets
 * (UDP to spa_port, 0 = none) are limited per source: at most spa_burst in a
 * row, then one per spa_interval_ns (GCRA, the spa_rate map).
 */
struct gate_config {
	__u32 default_action;  /* enum gate_default */
	__u32 nprofiles;       /* knock profiles in use */
	__u64 flow_timeout_ns; /* idle time after which a flow is forgotten */
	__u32 fw_gen;	       /* rule generation; 0 = no verdict cache */
	__be16 data_port;      /* UDP port of the capability stage; 0 = no capability stage */
	__be16 spa_port;       /* UDP port of SPA packets; 0 = no SPA */
	__u64 spa_interval_ns; /* one SPA packet per source per interval, after the burst */
	__u32 spa_burst;       /* SPA packets a source may send back to back */
	__u32 pad;
	struct cg_prefix pool;	  /* the clients' virtual addresses; plen 0 = none */
	struct cg_dests internal; /* internal prefixes (self unused) */
	struct knock_profile profiles[CG_KNOCK_MAX_PROFILES];
};
_Static_assert(sizeof(struct gate_config) == 40 + 20 + 164 + 256 * 16, "abi");

/*
 * gate_local: the gateway's own addresses (IPv4 as ::ffff:a.b.c.d) -> 1, the
 * "self" of a destination set. Written by the daemon from the addresses of
 * every interface (at start and every tick); read by the gate.
 */
#define CG_LOCAL_MAX 256

/*
 * spa_rate: SPA source -> theoretical arrival time (GCRA) of its next packet,
 * in gate clock ns. Gate writes and reads.
 */
#define CG_SPA_SOURCES_MAX 16384

/*
 * gate_flows: 5-tuple as seen on ingress (src = the remote peer) -> last
 * packet time. Created by the gate for a packet a door let in, and by the
 * egress program for a connection that leaves through the interface, so its
 * replies come back in. IPv4 addresses as ::ffff:a.b.c.d. For ICMP echo both
 * ports hold the echo identifier and type is the message type the flow lets
 * in: the echo reply (ICMP 0, ICMPv6 129), so an echo request from the peer
 * never matches the flow of one the gateway sent.
 */
struct flow_key {
	__u8 src[16];
	__u8 dst[16];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 type; /* ICMP/ICMPv6 message type; 0 for TCP and UDP */
	__u8 pad[2];
};
_Static_assert(sizeof(struct flow_key) == 40, "abi");

struct flow_val {
	__u64 last_ns; /* bpf_ktime_get_coarse_ns() */
};
_Static_assert(sizeof(struct flow_val) == 8, "abi");

/*
 * gate_frags: (src, dst, IP id, proto) of a datagram whose first fragment was
 * allowed -> time it was seen, so its later fragments pass too. proto is 0
 * for IPv6, whose fragment id is unique per (src, dst) (bpf/flow.h).
 */
struct frag_key {
	__u8 src[16];
	__u8 dst[16];
	__u32 id;   /* IPv4 id (16 bits) or IPv6 fragment id */
	__u8 proto; /* IPv4: the protocol; IPv6: 0 */
	__u8 pad[3];
};
_Static_assert(sizeof(struct frag_key) == 40, "abi");

struct frag_val {
	__u64 seen_ns; /* bpf_ktime_get_coarse_ns() */
};
_Static_assert(sizeof(struct frag_val) == 8, "abi");

#endif
