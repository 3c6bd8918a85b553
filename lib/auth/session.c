// SPDX-License-Identifier: GPL-2.0
/* The daemon's session table: who holds which session id, virtual address and keys. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/auth/session.h"
#include "lib/base/addr.h"
#include "lib/base/parse_num.h"
#include "lib/base/portspec.h"
#include "lib/tunnel/aead.h"

/* Few sessions per gateway (a pool of addresses): an array is simplest and fast enough. */
struct session_table {
	struct session *s;
	size_t n, max;
	/*
	 * Per slot of the gate's session map: SLOT_USED, or when it was last
	 * freed (0 = never used). A freed slot rests SESSION_SLOT_REST_NS
	 * before it is reused, longer than any program run that may still be
	 * reading the old entry (bpf/cap.h: cap_session).
	 */
	uint64_t slot[CG_MAX_SESSIONS];
};

#define SLOT_USED UINT64_MAX

struct session_table *session_table_new(size_t max)
{
	struct session_table *t;

	if (!max || max > CG_MAX_SESSIONS) {
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

bool session_holds_vip(const struct session_table *t, const uint8_t vip[16])
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!memcmp(t->s[i].vip, vip, 16))
			return true;
	return false;
}

const char *session_resume_refusal(const struct session *old, const char *device, const char *app)
{
	if (!old)
		return "no such session";
	if (strcmp(old->cert.device, device))
		return "another device's session";
	if (strcmp(old->cert.app, app))
		return "another application's session";
	if (!old->installed)
		return "a session not yet in use";
	if (old->superseded)
		return "a session replaced by a renewal";
	return NULL;
}

/* A free slot that has rested, from a random start (slots say nothing about who), or -1. */
static long slot_pick(const struct session_table *t, uint64_t now_ns)
{
	uint32_t start = randombytes_uniform(CG_MAX_SESSIONS), i, k;
	uint64_t v;

	for (i = 0; i < CG_MAX_SESSIONS; i++) {
		k = CG_SESSION_SLOT(start + i);
		v = t->slot[k];
		if (v != SLOT_USED && (!v || now_ns - v >= SESSION_SLOT_REST_NS))
			return k;
	}
	return -1;
}

int session_add(struct session_table *t, struct session *s)
{
	long k;

	if (t->n == t->max)
		return -ENOSPC;
	k = slot_pick(t, s->created_ns);
	if (k < 0)
		return -EBUSY;
	/*
	 * Unguessable ids: a forged packet must guess the id before it meets
	 * the tag. The slot is chosen at random too, so the id's other bits are
	 * random: 0 is a slot's "empty" mark and never an id.
	 */
	do {
		s->id = (randombytes_random() & ~(CG_MAX_SESSIONS - 1)) | (uint32_t)k;
	} while (!s->id);
	t->slot[k] = SLOT_USED;
	t->s[t->n++] = *s;
	return 0;
}

int session_del(struct session_table *t, uint32_t id, uint64_t now_ns)
{
	struct session *s = session_find(t, id);

	if (!s)
		return -ENOENT;
	/* Never 0 ("never used"), so the slot rests even at time 0. */
	t->slot[CG_SESSION_SLOT(id)] = now_ns ? now_ns : 1;
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
		"{s:I, s:s, s:s, s:s, s:I, s:o, s:b, s:s, s:o}", "id", (json_int_t)s->id, "device",
		s->cert.device, "app", s->cert.app, "vip", vip, "expires_in",
		(json_int_t)(s->expires_ns > now_ns ? (s->expires_ns - now_ns) / NS_PER_SEC : 0),
		"scopes", scopes, "renewed", s->superseded, "mode",
		s->mode ? "encrypted" : "integrity", "cipher",
		s->mode ? json_string(cipher_name(s->cipher)) : json_null());
	return j;
}
