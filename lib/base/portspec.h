/* SPDX-License-Identifier: GPL-2.0 */
/* Protocol/port specs: "tcp/7000", port lists "8443, 22", sequences "tcp/7000 udp/8000". */
#ifndef CG_BASE_PORTSPEC_H
#define CG_BASE_PORTSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/knock.h"

/* "tcp" or "udp" for IPPROTO_TCP/IPPROTO_UDP, else "ip". */
const char *proto_name(uint8_t proto);

/*
 * "tcp/7000" or "udp/8000" (port 1..65535) into *out (port in network order).
 * Returns 0, or -EINVAL with *why set to a static reason.
 */
int port_parse(const char *s, struct cg_port *out, const char **why);

/*
 * A list of ports for one protocol, separated by spaces and/or commas
 * ("8443, 22"). Appends to out[*n..max); returns 0, or -EINVAL / -E2BIG with
 * *why set. Duplicates are refused.
 */
int port_list_parse(const char *s, uint8_t proto, struct cg_port *out, size_t max, size_t *n,
		    const char **why);

/*
 * A list of "proto/port" items separated by spaces and/or commas. Writes
 * out[0..*n); returns 0, or -EINVAL / -E2BIG with *why set. An empty list is
 * -EINVAL. Repeats are allowed (a knock sequence may repeat a port).
 */
int port_seq_parse(const char *s, struct cg_port *out, size_t max, size_t *n, const char **why);

/*
 * The list rule shared by every list in the config: items separated by
 * spaces/tabs and at most one comma. Returns 1 with the next item at *item
 * (*len bytes, not NUL-terminated) and *pp advanced past it, 0 at the end, or
 * -EINVAL with *why (an empty item). first: *pp is the start of the list.
 */
int list_next(const char **pp, bool first, const char **item, size_t *len, const char **why);

/* "tcp/7000" into buf. */
void port_format(const struct cg_port *p, char *buf, size_t len);

#endif
