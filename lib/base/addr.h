/* SPDX-License-Identifier: GPL-2.0 */
/* IP addresses and CIDR prefixes, IPv4 and IPv6. */
#ifndef CG_BASE_ADDR_H
#define CG_BASE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Room for any address or prefix text, "ffff:...:ffff/128" included. */
#define CG_ADDRSTRLEN 64

/*
 * A prefix. addr holds the network address: for AF_INET the 4 bytes come
 * first and the rest is zero. Bits beyond plen are always zero.
 */
struct cidr {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t plen;	/* 0..32 or 0..128 */
	uint8_t addr[16];
};

/*
 * "10.0.0.0/8", "2001:db8::/32", or a bare address (/32 or /128). Host bits
 * set beyond the prefix are refused (as `ip route` does). Returns 0 and writes
 * *out, or -EINVAL with *why set to a static reason.
 */
int cidr_parse(const char *s, struct cidr *out, const char **why);

/* Canonical text ("192.168.3.0/24", "2001:db8::/32") into buf. */
void cidr_format(const struct cidr *c, char *buf, size_t len);

/*
 * One address, IPv4 or IPv6, into the 16-byte form the datapath uses (IPv4 as
 * ::ffff:a.b.c.d). Returns 0 or -EINVAL.
 */
int addr_parse_mapped(const char *s, uint8_t out[16]);

/* Text of a 16-byte datapath address: IPv4-mapped ones print as a.b.c.d. */
void addr_format_mapped(const uint8_t a[16], char *buf, size_t len);

/*
 * A prefix in the datapath's form: 16 bytes (IPv4 as ::ffff:a.b.c.d) and a
 * length counted in 128 bits (an IPv4 /24 is 120).
 */
void cidr_to_mapped(const struct cidr *c, uint8_t addr[16], uint8_t *plen);

/*
 * An AF_INET or AF_INET6 socket address's address in the datapath's 16-byte
 * form. Returns 0, or -EAFNOSUPPORT (out untouched) for another family.
 */
int addr_sockaddr_mapped(const struct sockaddr *sa, uint8_t out[16]);

/* True if the 16-byte address is IPv4-mapped. */
bool addr_is_v4mapped(const uint8_t a[16]);

#endif
