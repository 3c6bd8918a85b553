// SPDX-License-Identifier: GPL-2.0
/* The daemon's session table: who holds which session id, virtual address and keys. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/addr.h"
#include "lib/parse_num.h"
#include "lib/portspec.h"
#include "lib/session.h"

/* Few sessions per gateway (a pool of addresses): an array is simplest and fast enough. */
struct session_table {
	struct session *s;
	size_t n, max;
};

struct session_table *session_table_new(size_t max)
{
	struct session_table *t;

	if (!max) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->s = calloc(max, sizeof(*t->s));
	if (!t->s) {
		free(t);
		return NULL;
	}
	t->max = max;
	return t;
}

void session_table_free(struct session_table *t)
{
	if (!t)
		return;
	sodium_memzero(t->s, t->max * sizeof(*t->s));
	free(t->s);
	free(t);
}

struct session *session_find(struct session_table *t, uint32_t id)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->s[i].id == id)
			return &t->s[i];
	return NULL;
}

struct session *session_find_vip(struct session_table *t, const uint8_t vip[16])
{
	struct session *best = NULL;
	size_t i;

	/* After a renewal two sessions share the address: replies use the newest. */
	for (i = 0; i < t->n; i++)
		if (t->s[i].installed && !memcmp(t->s[i].vip, vip, 16) &&
		    (!best || t->s[i].created_ns > best->created_ns))
			best = &t->s[i];
	return best;
}

bool session_holds_vip(const struct session_table *t, const uint8_t vip[16])
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!memcmp(t->s[i].vip, vip, 16))
			return true;
	return false;
}

int session_add(struct session_table *t, struct session *s)
{
	if (t->n == t->max)
		return -ENOSPC;
	/* Unguessable ids: a forged packet must guess the id before it meets the tag. */
	do {
		s->id = randombytes_random();
	} while (!s->id || session_find(t, s->id));
	t->s[t->n++] = *s;
	return 0;
}

int session_del(struct session_table *t, uint32_t id)
{
	struct session *s = session_find(t, id);

	if (!s)
		return -ENOENT;
	*s = t->s[--t->n];
	sodium_memzero(&t->s[t->n], sizeof(t->s[t->n]));
	return 0;
}

size_t session_count(const struct session_table *t)
{
	return t->n;
}

struct session *session_at(struct session_table *t, size_t i)
{
	return i < t->n ? &t->s[i] : NULL;
}

json_t *scope_json(const struct cg_scope *sc)
{
	char dst[CG_ADDRSTRLEN], ports[16];
	struct cidr c = { 0 };

	if (addr_is_v4mapped(sc->addr)) {
		c.family = AF_INET;
		c.plen = sc->plen >= 96 ? sc->plen - 96 : 0;
		memcpy(c.addr, sc->addr + 12, 4);
	} else {
		c.family = AF_INET6;
		c.plen = sc->plen;
		memcpy(c.addr, sc->addr, 16);
	}
	cidr_format(&c, dst, sizeof(dst));
	if (sc->proto == IPPROTO_TCP || sc->proto == IPPROTO_UDP)
		snprintf(ports, sizeof(ports), "%u-%u", sc->port_lo, sc->port_hi);
	else
		ports[0] = '\0';
	return json_pack("{s:s, s:s, s:s}", "proto",
			 sc->proto == IPPROTO_ICMP     ? "icmp"
			 : sc->proto == IPPROTO_ICMPV6 ? "icmpv6"
						       : proto_name(sc->proto),
			 "dst", dst, "ports", ports);
}

json_t *session_json(const struct session *s, uint64_t now_ns)
{
	char vip[CG_ADDRSTRLEN];
	json_t *scopes, *j;
	size_t i;

	scopes = json_array();
	if (!scopes)
		return NULL;
	for (i = 0; i < s->nscopes; i++) {
		if (json_array_append_new(scopes, scope_json(&s->scopes[i]))) {
			json_decref(scopes);
			return NULL;
		}
	}
	addr_format_mapped(s->vip, vip, sizeof(vip));
	j = json_pack(
		"{s:I, s:s, s:s, s:s, s:I, s:o, s:I, s:b}", "id", (json_int_t)s->id, "device",
		s->device, "app", s->app, "vip", vip, "expires_in",
		(json_int_t)(s->expires_ns > now_ns ? (s->expires_ns - now_ns) / NS_PER_SEC : 0),
		"scopes", scopes, "tx_packets", (json_int_t)s->tx_packets, "renewed",
		s->superseded);
	return j;
}
