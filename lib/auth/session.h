/* SPDX-License-Identifier: GPL-2.0 */
/* The daemon's session table: who holds which session id, virtual address and keys. */
#ifndef CG_AUTH_SESSION_H
#define CG_AUTH_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "abi/tunnel.h"
#include "lib/base/name.h"

struct session {
	uint32_t id;   /* non-zero, unique; its slot bits (abi/tunnel.h) and the rest random */
	uint64_t conn; /* the auth worker's connection id of the control channel */
	char device[CG_NAME_MAX];
	char app[CG_NAME_MAX];
	uint8_t serial[20]; /* the certificate's serial (tls_serial_bytes), for revocations */
	uint8_t serial_len;
	uint8_t issuer[32]; /* SHA-256 of the certificate's issuer name (the CRL's key) */
	uint8_t vip[16];
	uint64_t created_ns; /* CLOCK_MONOTONIC */
	uint64_t expires_ns;
	struct cg_scope scopes[CG_MAX_SCOPES];
	size_t nscopes;
	uint8_t mode;	 /* 0 integrity, CG_TUN_F_ENCRYPTED (the map entry's flags) */
	uint8_t cipher;	 /* enum cg_cipher for encrypted, 0 for integrity */
	bool installed;	 /* keys in the datapath (a granted session waits for them) */
	bool superseded; /* renewed: valid until expires_ns, then gone */
};

struct session_table;

/* How long a freed slot of the gate's session map waits before a new session takes it. */
#define SESSION_SLOT_REST_NS 1000000000ULL

/* An empty table for at most max (<= CG_MAX_SESSIONS) sessions; NULL with errno on failure. */
struct session_table *session_table_new(size_t max);
/* Wipes every key and frees the table; NULL is ok. */
void session_table_free(struct session_table *t);

/*
 * Adds a copy of *s with a fresh id in a free slot of the gate's session map
 * (written to s->id and the copy); s->created_ns is the time now. Returns 0,
 * -ENOSPC when the table is full or -EBUSY when every free slot was freed
 * less than SESSION_SLOT_REST_NS ago. The pool keeps addresses unique; a
 * renewal shares its address with the session it replaces.
 */
int session_add(struct session_table *t, struct session *s);

/* The session with this id, or NULL. */
struct session *session_find(struct session_table *t, uint32_t id);
/* True if any session, installed or not, holds this address. */
bool session_holds_vip(const struct session_table *t, const uint8_t vip[16]);

/*
 * Whether a new control channel of device/app may take over old's virtual
 * address (hello's "resume", after the client's network changed): only if
 * old is in use (installed, not replaced by a renewal) and belongs to the
 * same device and application; never another device's address. NULL if it
 * may, else why not ("no such session", "another device's session", ...).
 */
const char *session_resume_refusal(const struct session *old, const char *device, const char *app);

/*
 * Removes session id, wiping its key; its slot rests from now_ns. 0 or
 * -ENOENT. The pointer dies with it.
 */
int session_del(struct session_table *t, uint32_t id, uint64_t now_ns);

/* Number of sessions, and the i-th one (0 <= i < count), for iteration. */
size_t session_count(const struct session_table *t);
struct session *session_at(struct session_table *t, size_t i);

/*
 * {"id":..,"device":"dev1","app":"sensor","vip":"100.64.0.2","expires_in":590,
 *  "scopes":[{"proto":"tcp","dst":"10.10.2.2/32","ports":"80-80"}],
 *  "mode":"encrypted"|"integrity","cipher":"chacha20-poly1305"|"aes-256-gcm"|null}; the
 * caller adds what the datapath knows (endpoint, rx_packets). NULL on ENOMEM.
 */
json_t *session_json(const struct session *s, uint64_t now_ns);

/* One scope as JSON ({"proto","dst","ports"}), shared with the control channel. */
json_t *scope_json(const struct cg_scope *sc);

#endif
