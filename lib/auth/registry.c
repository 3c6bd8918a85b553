// SPDX-License-Identifier: GPL-2.0
/* Device groups set through the API: device name -> groups, hashed, persisted in devices.json. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/auth/registry.h"
#include "lib/base/file.h"
#include "lib/base/hindex.h"

#define REGISTRY_STATE_VERSION 1

struct device_groups {
	char name[CG_NAME_MAX];
	char groups[REGISTRY_GROUPS_MAX][CG_NAME_MAX];
	size_t n;
};

struct registry {
	char path[PATH_MAX];
	struct device_groups *d;
	size_t n, cap;
	struct hindex idx;
};

static uint64_t name_hash(const char *name)
{
	return hindex_hash(HINDEX_SEED, name, strlen(name));
}

static uint64_t dev_hash(const void *ctx, size_t i)
{
	return name_hash(((const struct registry *)ctx)->d[i].name);
}

static bool dev_eq(const void *ctx, size_t i, const void *key)
{
	return !strcmp(((const struct registry *)ctx)->d[i].name, key);
}

static long find(const struct registry *r, const char *device)
{
	return hindex_find(&r->idx, name_hash(device), dev_eq, r, device);
}

struct registry *registry_new(const char *path)
{
	struct registry *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (snprintf(r->path, sizeof(r->path), "%s", path) >= (int)sizeof(r->path)) {
		free(r);
		errno = ENAMETOOLONG;
		return NULL;
	}
	return r;
}

void registry_free(struct registry *r)
{
	if (!r)
		return;
	free(r->d);
	hindex_free(&r->idx);
	free(r);
}

/* Room for one more device. 0 or -ENOMEM (unchanged). */
static int reserve(struct registry *r)
{
	struct device_groups *d;

	if (r->n == r->cap || !r->d) {
		size_t cap = r->cap ? r->cap * 2 : 64;

		d = realloc(r->d, cap * sizeof(*d));
		if (!d)
			return -ENOMEM;
		r->d = d;
		r->cap = cap;
	}
	return (r->n + 1) * 2 > r->idx.nslots ? hindex_build(&r->idx, r->n, r->n + 1, dev_hash, r)
					      : 0;
}

/* Appends g (not there, reserve()d). */
static void append(struct registry *r, const struct device_groups *g)
{
	r->d[r->n] = *g;
	hindex_put(&r->idx, r->n, name_hash(g->name));
	r->n++;
}

/* groups[0..n) valid and without duplicates into *g; false if one is not a valid name. */
static bool fill(struct device_groups *g, const char *device, const char *const *groups, size_t n)
{
	size_t i, k;

	memset(g, 0, sizeof(*g));
	if (!name_valid(device) || n > REGISTRY_GROUPS_MAX)
		return false;
	snprintf(g->name, sizeof(g->name), "%s", device);
	for (i = 0; i < n; i++) {
		if (!groups[i] || !name_valid(groups[i]))
			return false;
		for (k = 0; k < g->n && strcmp(g->groups[k], groups[i]); k++)
			;
		if (k == g->n)
			snprintf(g->groups[g->n++], CG_NAME_MAX, "%s", groups[i]);
	}
	return true;
}

static json_t *groups_json(const struct device_groups *g)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < g->n; i++)
		if (json_array_append_new(a, json_string(g->groups[i]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* The registry with entry skip (-1: none) replaced by with (NULL: dropped), as JSON. */
static json_t *devices_json(const struct registry *r, long skip, const struct device_groups *with)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; o && i <= r->n; i++) {
		const struct device_groups *g = i < r->n ? &r->d[i] : NULL;

		if (i < r->n && (long)i == skip)
			g = with;
		else if (i == r->n && skip < 0)
			g = with;
		if (g && json_object_set_new(o, g->name, groups_json(g))) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static int save(const struct registry *r, long skip, const struct device_groups *with)
{
	json_t *devs = devices_json(r, skip, with), *root;
	int e;

	root = devs ? json_pack("{s:i, s:o}", "version", REGISTRY_STATE_VERSION, "devices", devs)
		    : NULL;
	if (!root)
		return -ENOMEM;
	e = file_write_json(r->path, root);
	json_decref(root);
	return e ? -EIO : 0;
}

int registry_set(struct registry *r, const char *device, const char *const *groups, size_t n)
{
	struct device_groups g;
	long i;
	int e;

	if (!fill(&g, device, groups, n))
		return -EINVAL;
	i = find(r, device);
	if (!n && i < 0)
		return -ENOENT;
	if (i < 0 && r->n >= REGISTRY_MAX)
		return -ENOSPC;
	e = i < 0 ? reserve(r) : 0;
	if (!e)
		e = save(r, i, n ? &g : NULL);
	if (e)
		return e;
	if (i >= 0 && n) {
		r->d[i] = g;
	} else if (i >= 0) {
		memmove(&r->d[i], &r->d[i + 1], (r->n - (size_t)i - 1) * sizeof(r->d[0]));
		r->n--;
		/* The table there is large enough: nothing allocated, cannot fail. */
		hindex_build(&r->idx, r->n, r->n, dev_hash, r);
	} else {
		append(r, &g);
	}
	return 0;
}

size_t registry_groups(const struct registry *r, const char *device, const char **out, size_t max)
{
	long i = find(r, device);
	size_t k;

	if (i < 0)
		return 0;
	for (k = 0; k < r->d[i].n && k < max; k++)
		out[k] = r->d[i].groups[k];
	return k;
}

json_t *registry_json(const struct registry *r)
{
	return devices_json(r, -1, NULL);
}

int registry_load(struct registry *r, char *err, size_t errlen)
{
	const char *groups[REGISTRY_GROUPS_MAX + 1] = { 0 }, *name;
	json_t *root, *devs, *v, *g;
	struct device_groups d;
	json_error_t je;
	size_t i;
	FILE *f;
	int ret = -EINVAL;

	f = fopen(r->path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		ret = -errno;
		snprintf(err, errlen, "%s: %s", r->path, strerror(-ret));
		return ret;
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	fclose(f);
	if (!root) {
		snprintf(err, errlen, "%s:%d: %s", r->path, je.line, je.text);
		return -EINVAL;
	}
	devs = json_object_get(root, "devices");
	if (json_object_size(root) != 2 ||
	    json_integer_value(json_object_get(root, "version")) != REGISTRY_STATE_VERSION ||
	    !json_is_object(devs)) {
		snprintf(err, errlen, "%s: not a version %d devices file", r->path,
			 REGISTRY_STATE_VERSION);
		goto out;
	}
	json_object_foreach(devs, name, v)
	{
		bool ok = json_is_array(v) && json_array_size(v) >= 1 &&
			  json_array_size(v) <= REGISTRY_GROUPS_MAX;

		json_array_foreach(v, i, g)
		{
			groups[i < REGISTRY_GROUPS_MAX ? i : REGISTRY_GROUPS_MAX] =
				json_string_value(g);
			ok &= json_is_string(g);
		}
		if (!ok || !fill(&d, name, groups, json_array_size(v))) {
			snprintf(err, errlen, "%s: device \"%.63s\": bad entry", r->path, name);
			goto out;
		}
		if (reserve(r)) {
			ret = -ENOMEM;
			snprintf(err, errlen, "%s: out of memory", r->path);
			goto out;
		}
		append(r, &d);
	}
	ret = 0;
out:
	if (ret) {
		r->n = 0;
		hindex_build(&r->idx, 0, 0, dev_hash, r);
	}
	json_decref(root);
	return ret;
}
