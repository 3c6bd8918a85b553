/* SPDX-License-Identifier: GPL-2.0 */
/* Port knocking, client side: sending a sequence (capgate knock). */
#ifndef CG_AGENT_KNOCK_H
#define CG_AGENT_KNOCK_H

#include <stddef.h>

#include "abi/knock.h"

/* Pause between two knocks in the CLI: packets keep their order on the wire. */
#define KNOCK_GAP_MS_DEFAULT 50

/*
 * Sends steps[0..n) to host (a name or an address, IPv4 or IPv6), in order,
 * gap_ms apart. A TCP step is one SYN: a non-blocking connect() closed right
 * away, so the kernel never retransmits it. A UDP step is one datagram with a
 * 1-byte payload. Ports are in network order. Returns 0, or a negative errno
 * with a reason in err (-EINVAL bad arguments, -EHOSTUNREACH the name does not
 * resolve, else the socket call's error).
 */
int knock_send(const char *host, const struct cg_port *steps, size_t n, unsigned int gap_ms,
	       char *err, size_t errlen);

#endif
