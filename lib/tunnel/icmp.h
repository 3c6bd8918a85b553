/* SPDX-License-Identifier: GPL-2.0 */
/* "Too big" for an inner packet that does not fit the tunnel's path, and a limit on how often. */
#ifndef CG_TUNNEL_ICMP_H
#define CG_TUNNEL_ICMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The longest message icmp_too_big builds: an IPv6 packet too big fills the
 * IPv6 minimum MTU (RFC 4443 §2.4 c); an IPv4 one stops at 576 (RFC 1812
 * §4.3.2.3).
 */
#define ICMP_TOO_BIG_MAX 1280
#define ICMP_TOO_BIG_MAX_V4 576

/*
 * Builds, into out, the error that tells the sender of inner (len bytes,
 * an IPv4 or IPv6 packet that does not fit) to send at most mtu bytes:
 * - IPv4 with DF: ICMP type 3 code 4 "fragmentation needed", next-hop MTU
 *   = mtu (RFC 1191), quoting the IP header and as much of the packet as
 *   keeps the message within 576 bytes;
 * - IPv6: ICMPv6 type 2 "packet too big", MTU = mtu, quoting as much as
 *   keeps it within 1280 (RFC 4443 §3.2), checksum over the pseudo-header.
 * The message goes from `from` (16 bytes, IPv4-mapped for IPv4) to the
 * inner source, TTL / hop limit 64. `from` must not be an address of the
 * host whose TUN the message is written into: the kernel drops a packet
 * that arrives with one of its own addresses as source (a martian). The
 * agent uses the gateway's tunnel address; the gateway the session's
 * virtual address (the far end of the tunnel, routed into the TUN, so
 * reverse-path filters accept it too).
 *
 * Returns the message's length (write it into the TUN), or 0 when no error
 * may be sent, as RFC 1812 §4.3.2.7 and RFC 4443 §2.4 e say:
 * - IPv4 without DF: the sender allows fragmentation, and capgate does not
 *   fragment inner packets: the caller drops it and counts it (Linux sets
 *   DF on TCP and, with PMTU discovery on, on UDP, so this is rare);
 * - an ICMP error (IPv4 types 3, 4, 5, 11, 12; ICMPv6 types below 128),
 *   or one whose type cannot be read;
 * - a non-first fragment;
 * - a source that is not one host: unspecified, multicast, loopback,
 *   IPv4 0/8 and 240/4 (with the broadcast 255.255.255.255); for IPv4 also a
 *   multicast or broadcast destination (ICMPv6 too big is sent for those);
 * -EINVAL: not an IPv4/IPv6 header, truncated headers, len <= mtu (it
 *   fits), `from` of the other family, NULL; -ERANGE: mtu below the least
 *   the family allows (68 for IPv4, 1280 for IPv6: then no too-big can help
 *   and the caller drops the packet); -ENOSPC: cap is too small (out then
 *   untouched; ICMP_TOO_BIG_MAX is always enough). out must not overlap inner.
 * The caller sends it only if icmp_limit_take allows.
 */
int icmp_too_big(const uint8_t *inner, size_t len, unsigned int mtu, const uint8_t *from,
		 uint8_t *out, size_t cap);

/*
 * A token bucket that keeps a flood of too-big packets from becoming a flood
 * of ICMP: `rate` messages per second on average, at most `burst` at once.
 * One per worker, no lock. sent and suppressed are the counters for stats.
 */
struct icmp_limit {
	uint64_t tokens_ns; /* credit, in nanoseconds of the rate: one token = NS / rate */
	uint64_t last_ns;
	uint64_t per_token_ns;
	uint64_t max_ns;
	uint64_t sent;
	uint64_t suppressed;
};

/* Defaults: Linux's per-host ICMP limit is of the same order (net.ipv4.icmp_ratelimit). */
#define ICMP_LIMIT_RATE 100
#define ICMP_LIMIT_BURST 10

/* rate >= 1 per second, burst >= 1; starts full at now_ns. -EINVAL otherwise. */
int icmp_limit_init(struct icmp_limit *l, unsigned int rate, unsigned int burst, uint64_t now_ns);

/*
 * True (and l->sent++) if one message may go now; false and l->suppressed++
 * if not. now_ns is a monotonic clock; a clock that went back gives no credit.
 */
bool icmp_limit_take(struct icmp_limit *l, uint64_t now_ns);

#endif
