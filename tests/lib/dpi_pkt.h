/* SPDX-License-Identifier: GPL-2.0 */
/* Test packet builder for the analyzer: Ethernet [VLAN] IPv4/IPv6 [fragment] TCP/UDP/ICMP. */
#ifndef CG_TESTS_DPI_PKT_H
#define CG_TESTS_DPI_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tpkt {
	int af;		       /* 4 or 6 */
	const char *src, *dst; /* addresses as text */
	uint8_t proto;	       /* 6, 17, 1, 58 */
	uint16_t sport, dport;
	uint8_t flags; /* TCP flags */
	uint32_t seq, ack;
	const void *payload;
	size_t plen;
	uint16_t vlan; /* 0: untagged */
	bool frag;     /* payload is the raw IP payload of one fragment */
	bool mf;
	uint32_t frag_off; /* bytes */
	uint32_t id;
};

/* Build the frame into buf[0..cap); returns its length (0 if it does not fit). */
size_t tpkt_build(uint8_t *buf, size_t cap, const struct tpkt *p);

#endif
