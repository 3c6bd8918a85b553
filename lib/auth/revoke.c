// SPDX-License-Identifier: GPL-2.0
/* Revocations: devices, a device's app, certificate serials; persisted, looked up by hash. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/auth/revoke.h"
#include "lib/base/file.h"
#include "lib/base/hindex.h"

#define REVOKE_STATE_VERSION 1

/* Entries in id order (ids only grow), indexed by what they revoke. */
struct revoke_store {
	char path[PATH_MAX];
	struct revocation *e;
	size_t n, cap;
	struct hindex idx;
	uint32_t next_id;
};

/* What an entry revokes: its kind and names, or its serial. */
static uint64_t key_hash(const struct revocation *r)
{
	uint8_t kind = (uint8_t)r->kind;
	uint64_t h = hindex_hash(HINDEX_SEED, &kind, 1);

	if (r->kind == REVOKE_SERIAL)
		return hindex_hash(h, r->serial, r->serial_len);
	h = hindex_hash(h, r->device, strlen(r->device) + 1);
	return r->kind == REVOKE_APP ? hindex_hash(h, r->app, strlen(r->app)) : h;
}

static uint64_t entry_hash(const void *ctx, size_t i)
{
	return key_hash(&((const struct revoke_store *)ctx)->e[i]);
}

static bool entry_eq(const void *ctx, size_t i, const void *key)
{
	const struct revocation *r = &((const struct revoke_store *)ctx)->e[i], *k = key;

	if (r->kind != k->kind)
		return false;
	if (k->kind == REVOKE_SERIAL)
		return r->serial_len == k->serial_len &&
		       !memcmp(r->serial, k->serial, k->serial_len);
	return !strcmp(r->device, k->device) && (k->kind != REVOKE_APP || !strcmp(r->app, k->app));
}

/* The entry that revokes the same as key, or NULL. */
static const struct revocation *lookup_of(const struct revoke_store *s,
					  const struct revocation *key)
{
	long i = hindex_find(&s->idx, key_hash(key), entry_eq, s, key);

	return i < 0 ? NULL : &s->e[i];
}

static const struct revocation *lookup(const struct revoke_store *s, enum revoke_kind kind,
				       const char *device, const char *app, const uint8_t *serial,
				       size_t serial_len)
{
	struct revocation k = { .kind = kind, .serial_len = (uint8_t)serial_len };

	snprintf(k.device, sizeof(k.device), "%s", device);
	snprintf(k.app, sizeof(k.app), "%s", app);
	if (serial_len && serial_len <= sizeof(k.serial))
		memcpy(k.serial, serial, serial_len);
	return serial_len <= sizeof(k.serial) ? lookup_of(s, &k) : NULL;
}

struct revoke_store *revoke_store_new(const char *path)
{
	struct revoke_store *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (snprintf(s->path, sizeof(s->path), "%s", path) >= (int)sizeof(s->path)) {
		free(s);
		errno = ENAMETOOLONG;
		return NULL;
	}
	s->next_id = 1;
	return s;
}

void revoke_store_free(struct revoke_store *s)
{
	if (!s)
		return;
	free(s->e);
	hindex_free(&s->idx);
	free(s);
}

static bool entry_ok(const struct revocation *r)
{
	switch (r->kind) {
	case REVOKE_DEVICE:
		return name_valid(r->device);
	case REVOKE_APP:
		return name_valid(r->device) && name_valid(r->app);
	case REVOKE_SERIAL:
		return r->serial_len >= 1 && r->serial_len <= CG_SERIAL_MAX &&
		       (r->serial_len == 1 || r->serial[0]);
	}
	return false;
}

int revoke_serial_parse(const char *hex, uint8_t out[CG_SERIAL_MAX], uint8_t *len)
{
	uint8_t buf[CG_SERIAL_MAX + 1] = { 0 };
	size_t n = strlen(hex), i, nb = (n + 1) / 2, skip = 0;

	if (!n || n > 2 * CG_SERIAL_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		char c = hex[n - 1 - i];
		unsigned int v = c >= '0' && c <= '9'	? (unsigned int)(c - '0')
				 : c >= 'a' && c <= 'f' ? (unsigned int)(c - 'a' + 10)
				 : c >= 'A' && c <= 'F' ? (unsigned int)(c - 'A' + 10)
							: 16;

		if (v > 15)
			return -EINVAL;
		buf[nb - 1 - i / 2] |= (uint8_t)(i % 2 ? v << 4 : v);
	}
	while (skip + 1 < nb && !buf[skip])
		skip++;
	memcpy(out, buf + skip, nb - skip);
	*len = (uint8_t)(nb - skip);
	return 0;
}

void revoke_serial_format(const uint8_t *serial, size_t len, char *buf, size_t buflen)
{
	size_t i, used = 0;

	if (buflen)
		buf[0] = '\0';
	for (i = 0; i < len && used + 3 <= buflen; i++)
		used += (size_t)snprintf(buf + used, buflen - used, "%02x", serial[i]);
}

json_t *revocation_json(const struct revocation *r)
{
	char hex[2 * CG_SERIAL_MAX + 1];
	json_t *o = json_pack("{s:I, s:I}", "id", (json_int_t)r->id, "time", (json_int_t)r->time_s);
	int e = !o;

	if (!e && r->kind != REVOKE_SERIAL)
		e = json_object_set_new(o, "device", json_string(r->device));
	if (!e && r->kind == REVOKE_APP)
		e = json_object_set_new(o, "app", json_string(r->app));
	if (!e && r->kind == REVOKE_SERIAL) {
		revoke_serial_format(r->serial, r->serial_len, hex, sizeof(hex));
		e = json_object_set_new(o, "serial", json_string(hex));
	}
	if (!e && r->note[0])
		e = json_object_set_new(o, "note", json_string(r->note));
	if (e) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The entries without skip (NULL: all), plus extra (if not NULL), as the state file. */
static json_t *state_json(const struct revoke_store *s, const struct revocation *skip,
			  const struct revocation *extra, uint32_t next_id)
{
	json_t *arr = json_array(), *j;
	size_t i;

	for (i = 0; arr && i <= s->n; i++) {
		const struct revocation *r = i < s->n ? &s->e[i] : extra;

		if (!r || r == skip)
			continue;
		j = revocation_json(r);
		if (!j || json_array_append_new(arr, j)) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr ? json_pack("{s:i, s:I, s:o}", "version", REVOKE_STATE_VERSION, "next_id",
			       (json_int_t)next_id, "revocations", arr)
		   : NULL;
}

static int save(const struct revoke_store *s, const struct revocation *skip,
		const struct revocation *extra, uint32_t next_id)
{
	json_t *root = state_json(s, skip, extra, next_id);
	int e;

	if (!root)
		return -ENOMEM;
	e = file_write_json(s->path, root);
	json_decref(root);
	return e ? -EIO : 0;
}

/* Room for one more entry. 0 or -ENOMEM (unchanged). */
static int reserve(struct revoke_store *s)
{
	struct revocation *e;

	if (s->n == s->cap || !s->e) {
		size_t cap = s->cap ? s->cap * 2 : 64;

		e = realloc(s->e, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		s->e = e;
		s->cap = cap;
	}
	return (s->n + 1) * 2 > s->idx.nslots ? hindex_build(&s->idx, s->n, s->n + 1, entry_hash, s)
					      : 0;
}

/* Appends r (checked, not a duplicate, reserve()d). */
static void append(struct revoke_store *s, const struct revocation *r)
{
	s->e[s->n] = *r;
	hindex_put(&s->idx, s->n, key_hash(r));
	s->n++;
}

int revoke_add(struct revoke_store *s, const struct revocation *r, uint64_t now_s,
	       struct revocation *out)
{
	const struct revocation *dup;
	struct revocation n = *r;
	int e;

	if (!entry_ok(r) || strnlen(r->note, sizeof(r->note)) == sizeof(r->note))
		return -EINVAL;
	dup = lookup_of(s, r);
	if (dup) {
		if (out)
			*out = *dup;
		return -EEXIST;
	}
	if (s->n >= REVOKE_MAX || s->next_id == UINT32_MAX)
		return -ENOSPC;
	n.id = s->next_id;
	n.time_s = now_s;
	if (n.kind != REVOKE_APP)
		memset(n.app, 0, sizeof(n.app));
	if (n.kind == REVOKE_SERIAL)
		memset(n.device, 0, sizeof(n.device));
	else
		n.serial_len = 0;
	/* Room first, so nothing can fail after the file says it is revoked. */
	e = reserve(s);
	if (!e)
		e = save(s, NULL, &n, n.id + 1);
	if (e)
		return e;
	append(s, &n);
	s->next_id++;
	if (out)
		*out = n;
	return 0;
}

int revoke_del(struct revoke_store *s, uint32_t id, struct revocation *out)
{
	size_t i;
	int e;

	for (i = 0; i < s->n && s->e[i].id != id; i++)
		;
	if (i == s->n)
		return -ENOENT;
	e = save(s, &s->e[i], NULL, s->next_id);
	if (e)
		return e;
	if (out)
		*out = s->e[i];
	memmove(&s->e[i], &s->e[i + 1], (s->n - i - 1) * sizeof(s->e[0]));
	s->n--;
	/* The table there is large enough: this allocates nothing and cannot fail. */
	hindex_build(&s->idx, s->n, s->n, entry_hash, s);
	return 0;
}

const struct revocation *revoke_match(const struct revoke_store *s, const char *device,
				      const char *app, const uint8_t *serial, size_t serial_len)
{
	const struct revocation *r = lookup(s, REVOKE_DEVICE, device, "", NULL, 0);

	if (!r && app[0])
		r = lookup(s, REVOKE_APP, device, app, NULL, 0);
	if (!r && serial_len) {
		/* As revoke_serial_parse keeps it: no leading zero bytes. */
		while (serial_len > 1 && !serial[0]) {
			serial++;
			serial_len--;
		}
		r = lookup(s, REVOKE_SERIAL, "", "", serial, serial_len);
	}
	return r;
}

bool revoke_device(const struct revoke_store *s, const char *device)
{
	return lookup(s, REVOKE_DEVICE, device, "", NULL, 0) != NULL;
}

size_t revoke_count(const struct revoke_store *s)
{
	return s->n;
}

json_t *revoke_list_json(const struct revoke_store *s)
{
	json_t *arr = json_array(), *j;
	size_t i;

	for (i = 0; arr && i < s->n; i++) {
		j = revocation_json(&s->e[i]);
		if (!j || json_array_append_new(arr, j)) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/* One entry of the file; false with the reason in err. */
static bool entry_from_json(json_t *j, struct revocation *r, char *err, size_t errlen)
{
	json_t *id = json_object_get(j, "id"), *t = json_object_get(j, "time");
	const char *dev = json_string_value(json_object_get(j, "device"));
	const char *app = json_string_value(json_object_get(j, "app"));
	const char *ser = json_string_value(json_object_get(j, "serial"));
	const char *note = json_string_value(json_object_get(j, "note"));
	size_t fields = 2 + !!dev + !!app + !!ser + !!note;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(j) || json_object_size(j) != fields || !json_is_integer(id) ||
	    json_integer_value(id) < 1 || json_integer_value(id) >= UINT32_MAX ||
	    !json_is_integer(t) || json_integer_value(t) < 0 || (!dev == !ser) || (app && !dev) ||
	    (note && strlen(note) >= sizeof(r->note))) {
		snprintf(err, errlen, "bad entry (want id, time, device [app] or serial, [note])");
		return false;
	}
	r->id = (uint32_t)json_integer_value(id);
	r->time_s = (uint64_t)json_integer_value(t);
	r->kind = ser ? REVOKE_SERIAL : app ? REVOKE_APP : REVOKE_DEVICE;
	if (dev)
		snprintf(r->device, sizeof(r->device), "%.63s", dev);
	if (app)
		snprintf(r->app, sizeof(r->app), "%.63s", app);
	if (note)
		snprintf(r->note, sizeof(r->note), "%s", note);
	if ((ser && revoke_serial_parse(ser, r->serial, &r->serial_len)) ||
	    (dev && strlen(dev) >= CG_NAME_MAX) || (app && strlen(app) >= CG_NAME_MAX) ||
	    !entry_ok(r)) {
		snprintf(err, errlen, "entry %u: bad device, app or serial", r->id);
		return false;
	}
	return true;
}

int revoke_store_load(struct revoke_store *s, char *err, size_t errlen)
{
	json_t *root, *arr, *j;
	json_error_t je;
	struct revocation r;
	char why[160];
	uint32_t last = 0;
	json_int_t next;
	size_t i;
	FILE *f;
	int ret = -EINVAL;

	f = fopen(s->path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		ret = -errno;
		snprintf(err, errlen, "%s: %s", s->path, strerror(-ret));
		return ret;
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	fclose(f);
	if (!root) {
		snprintf(err, errlen, "%s:%d: %s", s->path, je.line, je.text);
		return -EINVAL;
	}
	arr = json_object_get(root, "revocations");
	next = json_integer_value(json_object_get(root, "next_id"));
	if (json_object_size(root) != 3 ||
	    json_integer_value(json_object_get(root, "version")) != REVOKE_STATE_VERSION ||
	    !json_is_array(arr) || next < 1 || next > UINT32_MAX) {
		snprintf(err, errlen, "%s: not a version %d revocations file", s->path,
			 REVOKE_STATE_VERSION);
		goto out;
	}
	json_array_foreach(arr, i, j)
	{
		if (!entry_from_json(j, &r, why, sizeof(why))) {
			snprintf(err, errlen, "%s: revocation %zu: %s", s->path, i + 1, why);
			goto out;
		}
		if (r.id <= last || r.id >= next) {
			snprintf(err, errlen, "%s: revocation %zu: id %u out of order", s->path,
				 i + 1, r.id);
			goto out;
		}
		if (lookup_of(s, &r)) {
			snprintf(err, errlen, "%s: revocation %zu: a duplicate", s->path, i + 1);
			goto out;
		}
		if (s->n >= REVOKE_MAX) {
			ret = -ENOSPC;
			snprintf(err, errlen, "%s: more than %d revocations", s->path, REVOKE_MAX);
			goto out;
		}
		if (reserve(s)) {
			ret = -ENOMEM;
			snprintf(err, errlen, "%s: out of memory", s->path);
			goto out;
		}
		append(s, &r);
		last = r.id;
	}
	s->next_id = (uint32_t)next;
	ret = 0;
out:
	if (ret) {
		s->n = 0;
		hindex_build(&s->idx, 0, 0, entry_hash, s);
	}
	json_decref(root);
	return ret;
}
