/* SPDX-License-Identifier: GPL-2.0 */
/* Verdict counters of the XDP gate: one per-CPU slot per (verdict, reason). */
#ifndef CG_ABI_STATS_H
#define CG_ABI_STATS_H

#include <linux/types.h>

/*
 * gate_stats[CG_STAT_*] counts every packet the gate saw, exactly once, by the
 * reason of its verdict. User space sums the per-CPU values. The names used in
 * the API and metrics are in lib/datapath/stats.c, in this order. Every PASS reason
 * comes before CG_STAT_DROP_MALFORMED (the gate's and lib/datapath/stats.c's
 * stat_is_pass rely on it); new drop reasons go before CG_STAT_MAX.
 */
enum cg_stat {
	CG_STAT_PASS_NON_IP = 0, /* not IPv4/IPv6 (ARP, LLDP, ...) */
	CG_STAT_PASS_ND,	 /* IPv6 neighbour discovery */
	CG_STAT_PASS_RULE,	 /* source matched an allow rule */
	CG_STAT_PASS_FLOW,	 /* established flow (opened through a door or outbound) */
	CG_STAT_PASS_KNOCK,	 /* door opened by a knock, for this source */
	CG_STAT_PASS_OPEN,	 /* open service */
	CG_STAT_PASS_FRAGMENT,	 /* non-first fragment of an allowed datagram */
	CG_STAT_PASS_ICMP_ERROR, /* path-MTU ICMP error */
	CG_STAT_PASS_DEFAULT,	 /* default = pass */
	CG_STAT_PASS_CAP,	 /* tunnel packet verified, decapsulated, inner packet passed */
	/* Encrypted tunnel packet prefiltered, passed whole to the daemon's data socket. */
	CG_STAT_PASS_ENCRYPTED,
	CG_STAT_DROP_MALFORMED,	    /* truncated or inconsistent headers */
	CG_STAT_DROP_RULE,	    /* source matched a drop rule */
	CG_STAT_DROP_FRAGMENT,	    /* non-first fragment of no allowed datagram */
	CG_STAT_DROP_KNOCK_STEP,    /* right knock step, consumed */
	CG_STAT_DROP_KNOCK_OPEN,    /* last knock step: door opened, consumed */
	CG_STAT_DROP_KNOCK_WRONG,   /* wrong knock: progress reset */
	CG_STAT_DROP_KNOCK_TIMEOUT, /* step came after step_timeout: progress reset */
	CG_STAT_DROP_DEFAULT,	    /* nothing allowed it */
	/* The capability stage (UDP to gate_config.data_port), docs/datapath.md. */
	CG_STAT_DROP_CAP_MALFORMED, /* tunnel header or inner packet malformed, or outer fragment */
	CG_STAT_DROP_UNKNOWN_SESSION, /* no tun_sessions entry for the session id */
	/*
	 * Refused before the tag is checked (a forged packet costs no hash), so
	 * anyone who saw a session id can send these: they say nothing about the
	 * session's client.
	 */
	CG_STAT_DROP_EXPIRED_UNVERIFIED, /* session past expires_ns */
	CG_STAT_DROP_REPLAY_UNVERIFIED,	 /* counter outside the window or seen before */
	CG_STAT_DROP_BAD_TAG,		 /* SipHash-2-4-128 tag does not verify */
	CG_STAT_DROP_SPOOFED_SOURCE,	 /* inner source is not the session's virtual address */
	CG_STAT_DROP_OUT_OF_SCOPE,	 /* inner destination/proto/port in none of the scopes */
	CG_STAT_DROP_SPOOFED_POOL,	 /* outside packet from a client virtual address */
	CG_STAT_DROP_SPOOFED_INTERNAL,	 /* outside packet from an [gateway] internal prefix */
	CG_STAT_DROP_SPA_RATE,		 /* SPA packet over its source's rate */
	CG_STAT_DROP_REPLAY,	   /* tag verified, counter already accepted: a real duplicate */
	CG_STAT_DROP_SOURCE_ROUTE, /* IPv6 routing header with segments left */
	/* Tunnel header flags (mode) are not the session's: integrity vs encrypted. */
	CG_STAT_DROP_WRONG_MODE,
	/* drop_keepalive: an integrity keepalive, verified, its endpoint recorded; consumed, not
	   refused. */
	CG_STAT_KEEPALIVE,
	CG_STAT_MAX
};

/* Value of gate_stats. */
struct cg_counter {
	__u64 packets;
	__u64 bytes;
};
_Static_assert(sizeof(struct cg_counter) == 16, "abi");

#endif
