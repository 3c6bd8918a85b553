/* SPDX-License-Identifier: GPL-2.0 */
/* Socket addresses: "127.0.0.1:7070", "[::1]:7070", "unix:/path" (API server, client, config). */
#ifndef CG_BASE_ENDPOINT_H
#define CG_BASE_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>

struct endpoint {
	int family;	  /* AF_INET, AF_INET6 or AF_UNIX */
	uint16_t port;	  /* host order; 0 lets the kernel choose (server side) */
	uint8_t addr[16]; /* AF_INET: first 4 bytes */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* AF_UNIX */
};

/*
 * Parses an API address. Addresses are numeric (no name lookups); the port
 * goes through parse_u32 (0..65535). Returns 0 and writes *out, or -EINVAL
 * with a reason in err.
 */
int endpoint_parse(const char *s, struct endpoint *out, char *err, size_t errlen);

#endif
