/* SPDX-License-Identifier: GPL-2.0 */
/* The L4 balancer (bpf/lb.bpf.c, TC ingress): map keys and values shared with the daemon. */
#ifndef CG_ABI_LB_H
#define CG_ABI_LB_H

#include <linux/types.h>

/*
 * Sizes. A service is a [service NAME] with backends (its slot in lb_rings
 * and lb_svc_stats); a backend a slot of lb_backends, never reused while a
 * flow may still name it (the daemon frees a slot only once no lb_rev entry
 * holds it). The Maglev table of every service has LB_RING_SIZE entries
 * (a prime above 100x LB_BACKENDS_PER_SVC: at most 1 % extra disruption).
 */
#define LB_SERVICES_MAX 64
#define LB_BACKENDS_MAX 1024
#define LB_BACKENDS_PER_SVC 256
#define LB_RING_SIZE 65537
#define LB_VIPS_MAX 4096    /* (proto, VIP, port) entries of all services */
#define LB_FLOWS_MAX 131072 /* lb_ct and lb_rev each */
#define LB_NAT_PROBES 8	    /* full NAT: ports tried for a new flow */

/*
 * A flow's 5-tuple as the packet carries it: addresses in the 16-byte form
 * (IPv4 as ::ffff:a.b.c.d), ports in network order (ICMP: 0).
 *  lb_ct key:  client -> VIP (the forward packet as it arrives)
 *  lb_rev key: backend -> client (nat dnat) or backend -> snat address (full):
 *              the reply as it arrives from the backend
 */
struct lb_tuple {
	__u8 src[16];
	__u8 dst[16];
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 pad[3];
};
_Static_assert(sizeof(struct lb_tuple) == 40, "abi");

/* lb_vips: key (proto, VIP, port), one entry per port of a service. */
struct lb_vip_key {
	__u8 addr[16];
	__u16 port; /* network order */
	__u8 proto; /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 pad;
};
_Static_assert(sizeof(struct lb_vip_key) == 20, "abi");

enum lb_nat {
	LB_NAT_DNAT = 0, /* the client's address is kept */
	LB_NAT_FULL = 1, /* the source becomes the backend's snat address and a port of its range */
};

struct lb_vip_val {
	__u32 svc; /* slot: lb_rings, lb_svc_stats */
	__u8 nat;  /* enum lb_nat */
	__u8 pad[3];
};
_Static_assert(sizeof(struct lb_vip_val) == 8, "abi");

/* A backend's state as the datapath sees it. */
enum lb_be_state {
	LB_BE_FREE = 0,	    /* no backend in this slot */
	LB_BE_UP = 1,	    /* new flows (through the table) and its flows */
	LB_BE_DRAINING = 2, /* its flows only; not in any table */
	LB_BE_DOWN = 3,	    /* health says down: not in any table; TCP flows kept, UDP re-picked */
	LB_BE_REMOVED = 4,  /* deleted: its flows go on until they end or idle out */
};

/* lb_backends: ARRAY of LB_BACKENDS_MAX, indexed by backend slot. */
struct lb_backend {
	__u8 addr[16]; /* 16-byte form, same family as the VIP */
	__u8 snat[16]; /* nat = full: the gateway address it sees; 0 for dnat */
	__u16 port;    /* network order; 0: the client's destination port */
	__u16 snat_lo; /* nat = full: the port range, host order, inclusive */
	__u16 snat_hi;
	__u8 state; /* enum lb_be_state */
	__u8 pad;
	__u32 svc; /* its service's slot */
};
_Static_assert(sizeof(struct lb_backend) == 44, "abi");

/* TCP state bits kept in both entries of a flow. */
#define LB_F_FIN_FWD 0x01 /* the client sent FIN */
#define LB_F_FIN_REV 0x02 /* the backend sent FIN */
#define LB_F_RST 0x04	  /* either side sent RST */
#define LB_F_EST 0x08	  /* the backend answered (SYN-ACK, or any UDP reply) */

/* lb_ct (LRU_HASH, key: struct lb_tuple client -> VIP): the forward half. */
struct lb_ct_val {
	__u64 last_ns; /* gate clock (coarse); refreshed at most once a second */
	__u32 backend; /* lb_backends slot */
	__u32 svc;
	__u8 snat[16];	 /* full: source written; dnat: 0 */
	__u16 snat_port; /* full: network order */
	__u8 flags;	 /* LB_F_* */
	__u8 nat;	 /* enum lb_nat */
	__u32 pad;
};
_Static_assert(sizeof(struct lb_ct_val) == 40, "abi");

/*
 * lb_rev (HASH, not LRU: never evicted; key: struct lb_tuple backend -> client
 * or snat): the reverse half, which holds the whole flow, so a forward half
 * the LRU evicted is rebuilt from it. Inserted before the forward half;
 * when lb_rev is full a new flow is refused (LB_STAT_DROP_FLOWS_FULL), a live
 * one is never broken. The daemon deletes both halves of flows idle past
 * their timeout (lb_config) or closed.
 */
struct lb_rev_val {
	__u64 last_ns;
	__u8 client[16]; /* the forward packet's source */
	__u8 vip[16];
	__u16 cport; /* network order */
	__u16 vport;
	__u32 backend;
	__u32 svc;
	__u8 flags;
	__u8 nat;
	__u8 pad[2];
};
_Static_assert(sizeof(struct lb_rev_val) == 56, "abi");

/* lb_config.flags */
enum lb_cfg_flags {
	LB_CFG_NO_REDIRECT = 1U << 0, /* never bpf_redirect_neigh: every packet to the stack */
};

/* lb_config: ARRAY of one. Missing (all zero): the program passes everything untouched. */
struct lb_config {
	__u64 tcp_timeout_ns;	  /* established TCP and idle: [gateway] flow_timeout */
	__u64 udp_timeout_ns;	  /* UDP: [gateway] flow_timeout */
	__u64 closing_timeout_ns; /* after RST or FIN both ways: 10 s */
	__u32 seed;		  /* Maglev hash seed */
	__u32 enabled;		  /* 1 once the daemon wrote the maps */
	__u32 tun_ifindex;	  /* the gateway's return-path TUN (0: none): via the stack */
	__u32 flags;		  /* enum lb_cfg_flags */
};
_Static_assert(sizeof(struct lb_config) == 40, "abi");

/* lb_stats: PERCPU_ARRAY indexed by enum lb_stat (packets, bytes as struct cg_counter). */
enum lb_stat {
	LB_STAT_FWD_NEW = 0,	 /* a new flow to a backend */
	LB_STAT_FWD,		 /* forward packet of a known flow */
	LB_STAT_REV,		 /* reply rewritten back to the VIP */
	LB_STAT_ICMP_FWD,	 /* ICMP error from the client side translated */
	LB_STAT_ICMP_REV,	 /* ICMP error from the backend side translated */
	LB_STAT_CT_RESTORED,	 /* a forward half rebuilt from its reverse half */
	LB_STAT_REDIRECT,	 /* sent by bpf_redirect_neigh */
	LB_STAT_STACK,		 /* rewritten, handed to the stack (no FIB answer, TUN, TTL, MTU) */
	LB_STAT_REFUSED_RST,	 /* no healthy backend: TCP answered with RST */
	LB_STAT_DROP_NO_BACKEND, /* no healthy backend: UDP (and TCP non-SYN) dropped */
	LB_STAT_DROP_FLOWS_FULL, /* lb_rev full: new flow refused */
	LB_STAT_DROP_NAT_PORTS,	 /* full NAT: LB_NAT_PROBES ports all taken */
	LB_STAT_DROP_MALFORMED,	 /* a VIP packet (or ICMP quote) the program could not parse */
	LB_STAT_NO_FLOW, /* TCP non-SYN to a VIP, no flow found or rebuilt: to the stack untouched
			  */
	LB_STAT_MAX,
};

/* lb_be_stats: PERCPU_ARRAY of LB_BACKENDS_MAX, per backend slot. */
struct lb_be_counter {
	__u64 packets; /* both directions */
	__u64 bytes;
	__u64 flows; /* new flows sent to it */
	__u64 pad;
};
_Static_assert(sizeof(struct lb_be_counter) == 32, "abi");

/* lb_svc_stats: PERCPU_ARRAY of LB_SERVICES_MAX: packets that found no healthy backend. */
struct lb_svc_counter {
	__u64 no_backend;
	__u64 flows_full;
};
_Static_assert(sizeof(struct lb_svc_counter) == 16, "abi");

#endif
