/* SPDX-License-Identifier: GPL-2.0 */
/* A balanced service's backends as the config, the API and lb.json name them. */
#ifndef CG_LB_LB_H
#define CG_LB_LB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/lb/health.h"

/* A backend's weight: 1 by default, 0..LB_WEIGHT_MAX (0: in no table, keeps its flows). */
#define LB_WEIGHT_MAX 100
/* Room for "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535@100" and its NUL. */
#define LB_BE_STRLEN 56
/* full NAT's default source ports: above Linux's ip_local_port_range (32768-60999). */
#define LB_SNAT_LO_DEFAULT 61000
#define LB_SNAT_HI_DEFAULT 65535

struct lb_be {
	uint8_t addr[16]; /* the 16-byte form (IPv4 as ::ffff:a.b.c.d) */
	uint16_t port;	  /* host order, 1..65535 */
	uint32_t weight;  /* 0..LB_WEIGHT_MAX */
	bool drain;	  /* no new flows; its flows go on */
};

/* What a PATCH changes: the fields whose has_ flag is set. */
struct lb_be_patch {
	bool has_weight, has_drain;
	uint32_t weight;
	bool drain;
};

/*
 * "10.10.2.2:80", "[fd00:2::2]:80", either with "@W" (weight 0..100) when
 * with_weight. Returns 0 and *out (weight 1 if not given, drain false), or
 * -EINVAL with *why a static reason.
 */
int lb_be_parse(const char *s, bool with_weight, struct lb_be *out, const char **why);

/* "10.10.2.2:80" / "[fd00:2::2]:80" (no weight) into buf (LB_BE_STRLEN). */
void lb_be_format(const struct lb_be *b, char *buf, size_t len);

/* The name of an enum lb_stat counter ("fwd_new", "drop_no_backend", ...); "unknown" past it. */
const char *lb_stat_name(unsigned int stat);

/* True if a and b are the same backend (address and port). */
bool lb_be_same(const struct lb_be *a, const struct lb_be *b);

#endif
