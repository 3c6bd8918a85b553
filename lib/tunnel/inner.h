/* SPDX-License-Identifier: GPL-2.0 */
/* The inner packet of a tunnel packet, judged in user space exactly as the XDP gate judges it. */
#ifndef CG_TUNNEL_INNER_H
#define CG_TUNNEL_INNER_H

#include <stddef.h>
#include <stdint.h>

#include "abi/scope.h"
#include "abi/tunnel.h"
#include "lib/tunnel/wire.h"

/*
 * The daemon opens an encrypted packet itself, so it must refuse what the
 * gate refuses in integrity mode, for the same reasons: the gate parses an
 * inner packet with cap_parse_inner() and ip4_opts_source_route() (bpf/cap.h,
 * bpf/parse.h) and checks it with abi/scope.h; these two functions are the
 * same parse over a buffer and the same abi/scope.h check.
 * tests/bpf/test_cap.c runs one table of inner packets through both.
 */

/*
 * Parses the @len bytes at @pkt (untrusted; the whole inner packet, nothing
 * after it) as the gate does:
 *  - IPv4: version 4, IHL >= 5, total length == len (and >= the header);
 *    options walked for a source route (LSRR 131, SSRR 137), an option that
 *    runs past the options or has a length below 2 being malformed;
 *  - IPv6: 40 + payload length == len; up to six extension headers
 *    (hop-by-hop, routing, destination options, AH, fragment), each inside
 *    the packet, a seventh malformed; a routing header with segments left
 *    != 0 is a source route;
 *  - a fragment with offset != 0 has no L4 header; otherwise TCP (20 bytes,
 *    data offset >= 5, its options inside the packet), UDP (8), ICMP in IPv4
 *    (8), ICMPv6 in IPv6 (8) must be complete; other protocols have none.
 * TUN_OK and *out filled (dport: the TCP or UDP destination port, else 0);
 * TUN_BAD_TYPE (version neither 4 nor 6), TUN_SHORT (anything else
 * malformed: the gate's drop_cap_malformed), or TUN_SOURCE_ROUTE (a well-
 * formed packet with a source route: drop_source_route). *out is written
 * only on TUN_OK.
 */
enum tun_verdict inner_parse(const uint8_t *pkt, size_t len, struct cg_inner *out);

/*
 * The session's checks on a parsed inner packet, in the gate's order: the
 * source is @vip (16 bytes, IPv4 as ::ffff:a.b.c.d; same family) else
 * TUN_SPOOFED, then the packet is inside one of the first @n (at most
 * CG_MAX_SCOPES) of @scopes else TUN_OUT_OF_SCOPE; TUN_OK.
 */
enum tun_verdict inner_check(const struct cg_inner *in, const uint8_t vip[16],
			     const struct cg_scope *scopes, uint32_t n);

#endif
