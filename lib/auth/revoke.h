/* SPDX-License-Identifier: GPL-2.0 */
/* Revocations: devices, a device's app, certificate serials; persisted, looked up by hash. */
#ifndef CG_AUTH_REVOKE_H
#define CG_AUTH_REVOKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/auth/identity.h"
#include "lib/base/name.h"

#define REVOKE_NOTE_MAX 256 /* bytes of the free-text note, with its NUL */
#define REVOKE_MAX 65536    /* entries a store holds */

enum revoke_kind {
	REVOKE_DEVICE, /* every certificate of the device, its own and its apps' */
	REVOKE_APP,    /* the device's certificate for that app */
	REVOKE_SERIAL, /* one certificate, by serial (any issuer) */
};

struct revocation {
	uint32_t id; /* non-zero, unique, never reused by the store */
	enum revoke_kind kind;
	char device[CG_NAME_MAX]; /* DEVICE, APP */
	char app[CG_NAME_MAX];	  /* APP */
	uint8_t serial[CG_SERIAL_MAX];
	uint8_t serial_len;	    /* SERIAL: 1..20, big-endian magnitude without leading zeros */
	uint64_t time_s;	    /* when it was added (UNIX time) */
	char note[REVOKE_NOTE_MAX]; /* "" = none */
};

struct revoke_store;

/*
 * An empty store saved to path (state_dir/NAME/revocations.json). NULL with
 * errno on failure.
 */
struct revoke_store *revoke_store_new(const char *path);
void revoke_store_free(struct revoke_store *s);

/*
 * Reads the file (absent: empty). A file that cannot be read or parsed, or
 * holds a bad entry, returns a negative errno with the reason in err, and
 * the store stays empty: the caller must not start (never start open).
 */
int revoke_store_load(struct revoke_store *s, char *err, size_t errlen);

/*
 * Adds r (its kind and fields; id and time_s are the store's, now_s the
 * time): saved to the file first, then in the table. 0 and *out (if not
 * NULL) the new entry; -EEXIST if the same device/app/serial is revoked
 * already (*out is that one); -EINVAL for a bad entry (names, serial
 * length); -ENOSPC at REVOKE_MAX; -EIO if the file could not be written
 * (nothing changed).
 */
int revoke_add(struct revoke_store *s, const struct revocation *r, uint64_t now_s,
	       struct revocation *out);
/* Removes entry id: saved first. 0, -ENOENT, -EIO (nothing changed). *out (if not NULL) = it. */
int revoke_del(struct revoke_store *s, uint32_t id, struct revocation *out);

/*
 * The entry that revokes a certificate of device (app "" = its own) with
 * this serial (serial_len 0 = unknown), or NULL: DEVICE entries cover all of
 * the device's certificates, APP entries one app, SERIAL entries one serial.
 */
const struct revocation *revoke_match(const struct revoke_store *s, const char *device,
				      const char *app, const uint8_t *serial, size_t serial_len);

/* True if a DEVICE entry names device (SPA packets of it are refused). */
bool revoke_device(const struct revoke_store *s, const char *device);

/* Number of entries. */
size_t revoke_count(const struct revoke_store *s);

/*
 * {"id":1,"device":"dev1","app":"cam"|absent,"serial":"0a1b"|absent,
 *  "time":1700000000,"note":"..."|absent}. NULL on ENOMEM.
 */
json_t *revocation_json(const struct revocation *r);
/* [entry, ...] ordered by id. NULL on ENOMEM. */
json_t *revoke_list_json(const struct revoke_store *s);

/*
 * Hex (even or odd length, upper or lower case, at most 40 digits) to a
 * serial without leading zero bytes (a zero serial keeps one byte). 0 or
 * -EINVAL.
 */
int revoke_serial_parse(const char *hex, uint8_t out[CG_SERIAL_MAX], uint8_t *len);
/* The serial as lower-case hex, two digits a byte ("0a1b"); buf holds 2 * 20 + 1. */
void revoke_serial_format(const uint8_t *serial, size_t len, char *buf, size_t buflen);

#endif
