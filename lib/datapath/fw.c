// SPDX-License-Identifier: GPL-2.0
/* CIDR rule store: ids, hit-counter slots, and its JSON file in state_dir, written atomically. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "abi/fw.h"
#include "lib/base/file.h"
#include "lib/datapath/fw.h"

/* Bumped when the file format changes; a file of another version is refused. */
#define FW_STORE_VERSION 1

void fw_store_init(struct fw_store *s)
{
	memset(s, 0, sizeof(*s));
	s->next_id = 1;
}

void fw_store_free(struct fw_store *s)
{
	if (!s)
		return;
	free(s->rules);
	fw_store_init(s);
}

static bool same_prefix(const struct cidr *a, const struct cidr *b)
{
	return a->family == b->family && a->plen == b->plen && !memcmp(a->addr, b->addr, 16);
}

static bool cidr_ok(const struct cidr *c)
{
	return (c->family == AF_INET && c->plen <= 32) || (c->family == AF_INET6 && c->plen <= 128);
}

/* Index of rule id (rules are sorted by id), or -1. */
static ssize_t find_idx(const struct fw_store *s, uint32_t id)
{
	size_t lo = 0, hi = s->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->rules[mid].id == id)
			return (ssize_t)mid;
		if (s->rules[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int grow(struct fw_store *s)
{
	struct fw_rule *r;
	size_t cap;

	if (s->n < s->cap)
		return 0;
	cap = s->cap ? s->cap * 2 : 16;
	r = realloc(s->rules, cap * sizeof(*r));
	if (!r)
		return -ENOMEM;
	s->rules = r;
	s->cap = cap;
	return 0;
}

int fw_store_add(struct fw_store *s, const struct cidr *c, uint32_t action, struct fw_rule *out)
{
	struct fw_rule r = { 0 };
	uint8_t *used = NULL;
	size_t i;
	uint32_t slot;
	int ret;

	if (!cidr_ok(c) || (action != FW_ACT_ALLOW && action != FW_ACT_DROP))
		return -EINVAL;
	for (i = 0; i < s->n; i++)
		if (same_prefix(&s->rules[i].cidr, c)) {
			*out = s->rules[i];
			return -EEXIST;
		}
	/* Ids are never reused, so the last one is spent for good. */
	if (s->n >= CG_FW_MAX_RULES || s->next_id == 0 || s->next_id == UINT32_MAX)
		return -ENOSPC;
	ret = grow(s);
	if (ret)
		goto out;
	used = calloc(CG_FW_MAX_RULES / 8, 1);
	if (!used) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < s->n; i++)
		used[s->rules[i].slot / 8] |= 1 << (s->rules[i].slot % 8);
	for (slot = 0; used[slot / 8] & (1 << (slot % 8)); slot++)
		;
	r.id = s->next_id++;
	r.slot = slot;
	r.action = action;
	r.cidr = *c;
	/* next_id is above every id, so appending keeps the order. */
	s->rules[s->n++] = r;
	*out = r;
out:
	free(used);
	return ret;
}

int fw_store_del(struct fw_store *s, uint32_t id, struct fw_rule *out)
{
	ssize_t i = find_idx(s, id);

	if (i < 0)
		return -ENOENT;
	if (out)
		*out = s->rules[i];
	memmove(&s->rules[i], &s->rules[i + 1], (s->n - (size_t)i - 1) * sizeof(*s->rules));
	s->n--;
	return 0;
}

const struct fw_rule *fw_store_find(const struct fw_store *s, uint32_t id)
{
	ssize_t i = find_idx(s, id);

	return i < 0 ? NULL : &s->rules[i];
}

const char *fw_action_name(uint32_t action)
{
	switch (action) {
	case FW_ACT_ALLOW:
		return "allow";
	case FW_ACT_DROP:
		return "drop";
	default:
		return "unknown";
	}
}

int fw_action_parse(const char *s, uint32_t *out)
{
	if (!strcmp(s, "allow"))
		*out = FW_ACT_ALLOW;
	else if (!strcmp(s, "drop"))
		*out = FW_ACT_DROP;
	else
		return -EINVAL;
	return 0;
}

json_t *fw_rule_json(const struct fw_rule *r, uint64_t hits)
{
	char cidr[CG_ADDRSTRLEN];

	cidr_format(&r->cidr, cidr, sizeof(cidr));
	if (hits > INT64_MAX)
		hits = INT64_MAX;
	return json_pack("{s:I, s:s, s:s, s:I}", "id", (json_int_t)r->id, "cidr", cidr, "action",
			 fw_action_name(r->action), "hits", (json_int_t)hits);
}

/* ---- the file ------------------------------------------------------------ */

__attribute__((format(printf, 4, 5))) static int refuse(char *err, size_t errlen, const char *path,
							const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s: %s", path, why);
	return -EINVAL;
}

/* Only these keys may appear: a field we do not know could change a rule's meaning. */
static const char *unknown_key(json_t *o, const char *const *allowed)
{
	const char *key, *const *a;
	json_t *v;

	json_object_foreach(o, key, v)
	{
		for (a = allowed; *a && strcmp(*a, key); a++)
			;
		if (!*a)
			return key;
	}
	return NULL;
}

static bool get_uint(json_t *o, const char *key, uint64_t min, uint64_t max, uint64_t *out)
{
	json_t *v = json_object_get(o, key);
	json_int_t i;

	if (!json_is_integer(v))
		return false;
	i = json_integer_value(v);
	if (i < 0 || (uint64_t)i < min || (uint64_t)i > max)
		return false;
	*out = (uint64_t)i;
	return true;
}

static int rule_from_json(json_t *o, size_t idx, uint32_t next_id, struct fw_rule *r,
			  const char *path, char *err, size_t errlen)
{
	static const char *const fields[] = { "id", "slot", "cidr", "action", NULL };
	const char *key, *cidr, *action, *why = "";
	uint64_t id, slot;

	if (!json_is_object(o))
		return refuse(err, errlen, path, "rules[%zu]: not an object", idx);
	key = unknown_key(o, fields);
	if (key)
		return refuse(err, errlen, path, "rules[%zu]: unknown field \"%s\"", idx, key);
	if (!get_uint(o, "id", 1, UINT32_MAX, &id))
		return refuse(err, errlen, path,
			      "rules[%zu]: \"id\" missing or not an integer in 1..4294967295", idx);
	if (id >= next_id)
		return refuse(err, errlen, path, "rules[%zu]: id %llu is not below next_id %u", idx,
			      (unsigned long long)id, next_id);
	if (!get_uint(o, "slot", 0, CG_FW_MAX_RULES - 1, &slot))
		return refuse(err, errlen, path,
			      "rules[%zu]: \"slot\" missing or not an integer in 0..%d", idx,
			      CG_FW_MAX_RULES - 1);
	cidr = json_string_value(json_object_get(o, "cidr"));
	if (!cidr)
		return refuse(err, errlen, path, "rules[%zu]: \"cidr\" missing or not a string",
			      idx);
	if (cidr_parse(cidr, &r->cidr, &why))
		return refuse(err, errlen, path, "rules[%zu]: cidr \"%.64s\": %s", idx, cidr, why);
	action = json_string_value(json_object_get(o, "action"));
	if (!action || fw_action_parse(action, &r->action))
		return refuse(err, errlen, path,
			      "rules[%zu]: \"action\" missing or not \"allow\" or \"drop\"", idx);
	r->id = (uint32_t)id;
	r->slot = (uint32_t)slot;
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	const struct fw_rule *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_prefix(const void *a, const void *b)
{
	const struct fw_rule *x = *(const struct fw_rule *const *)a;
	const struct fw_rule *y = *(const struct fw_rule *const *)b;

	if (x->cidr.family != y->cidr.family)
		return x->cidr.family < y->cidr.family ? -1 : 1;
	if (x->cidr.plen != y->cidr.plen)
		return x->cidr.plen < y->cidr.plen ? -1 : 1;
	return memcmp(x->cidr.addr, y->cidr.addr, 16);
}

static int store_from_json(struct fw_store *s, json_t *root, const char *path, char *err,
			   size_t errlen)
{
	static const char *const fields[] = { "version", "next_id", "rules", NULL };
	const struct fw_rule **by_prefix = NULL;
	uint8_t *slots = NULL;
	char cidr[CG_ADDRSTRLEN];
	const char *key;
	json_t *rules;
	uint64_t version, next_id;
	size_t i, n;
	int ret;

	if (!json_is_object(root))
		return refuse(err, errlen, path, "not a JSON object");
	key = unknown_key(root, fields);
	if (key)
		return refuse(err, errlen, path, "unknown field \"%s\"", key);
	if (!get_uint(root, "version", 0, UINT32_MAX, &version))
		return refuse(err, errlen, path, "\"version\" missing or not an integer");
	if (version != FW_STORE_VERSION)
		return refuse(err, errlen, path, "version %llu is not supported (want %d)",
			      (unsigned long long)version, FW_STORE_VERSION);
	if (!get_uint(root, "next_id", 1, UINT32_MAX, &next_id))
		return refuse(err, errlen, path,
			      "\"next_id\" missing or not an integer in 1..4294967295");
	rules = json_object_get(root, "rules");
	if (!json_is_array(rules))
		return refuse(err, errlen, path, "\"rules\" missing or not an array");
	n = json_array_size(rules);
	if (n > CG_FW_MAX_RULES)
		return refuse(err, errlen, path, "more than %d rules", CG_FW_MAX_RULES);

	s->next_id = (uint32_t)next_id;
	if (!n)
		return 0;
	s->rules = calloc(n, sizeof(*s->rules));
	slots = calloc(CG_FW_MAX_RULES / 8, 1);
	by_prefix = calloc(n, sizeof(*by_prefix));
	if (!s->rules || !slots || !by_prefix) {
		ret = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	s->cap = n;
	for (i = 0; i < n; i++) {
		struct fw_rule *r = &s->rules[i];

		ret = rule_from_json(json_array_get(rules, i), i, s->next_id, r, path, err, errlen);
		if (ret)
			goto out;
		if (slots[r->slot / 8] & (1 << (r->slot % 8))) {
			ret = refuse(err, errlen, path, "rules[%zu]: duplicate slot %u", i,
				     r->slot);
			goto out;
		}
		slots[r->slot / 8] |= 1 << (r->slot % 8);
		s->n++;
	}
	qsort(s->rules, n, sizeof(*s->rules), cmp_id);
	for (i = 1; i < n; i++)
		if (s->rules[i].id == s->rules[i - 1].id) {
			ret = refuse(err, errlen, path, "duplicate id %u", s->rules[i].id);
			goto out;
		}
	for (i = 0; i < n; i++)
		by_prefix[i] = &s->rules[i];
	qsort(by_prefix, n, sizeof(*by_prefix), cmp_prefix);
	for (i = 1; i < n; i++)
		if (same_prefix(&by_prefix[i]->cidr, &by_prefix[i - 1]->cidr)) {
			cidr_format(&by_prefix[i]->cidr, cidr, sizeof(cidr));
			ret = refuse(err, errlen, path, "duplicate cidr %s (ids %u and %u)", cidr,
				     by_prefix[i - 1]->id, by_prefix[i]->id);
			goto out;
		}
	ret = 0;
out:
	free(slots);
	free(by_prefix);
	return ret;
}

int fw_store_load(struct fw_store *s, const char *path, char *err, size_t errlen)
{
	struct fw_store tmp;
	json_error_t jerr;
	json_t *root = NULL;
	FILE *f = NULL;
	int ret;

	fw_store_init(&tmp);
	f = fopen(path, "re");
	if (!f && errno == ENOENT) {
		ret = 0;
		goto done;
	}
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		goto out;
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		ret = -EINVAL;
		snprintf(err, errlen, "%s:%d:%d: bad JSON: %s", path, jerr.line, jerr.column,
			 jerr.text);
		goto out;
	}
	ret = store_from_json(&tmp, root, path, err, errlen);
	if (ret)
		goto out;
done:
	fw_store_free(s);
	*s = tmp;
	fw_store_init(&tmp);
out:
	fw_store_free(&tmp);
	json_decref(root);
	if (f)
		fclose(f);
	return ret;
}

static json_t *store_json(const struct fw_store *s)
{
	json_t *root = NULL, *rules, *r;
	char cidr[CG_ADDRSTRLEN];
	size_t i;

	rules = json_array();
	if (!rules)
		return NULL;
	for (i = 0; i < s->n; i++) {
		cidr_format(&s->rules[i].cidr, cidr, sizeof(cidr));
		r = json_pack("{s:I, s:I, s:s, s:s}", "id", (json_int_t)s->rules[i].id, "slot",
			      (json_int_t)s->rules[i].slot, "cidr", cidr, "action",
			      fw_action_name(s->rules[i].action));
		if (!r || json_array_append_new(rules, r)) {
			json_decref(rules);
			return NULL;
		}
	}
	root = json_pack("{s:i, s:I, s:o}", "version", FW_STORE_VERSION, "next_id",
			 (json_int_t)s->next_id, "rules", rules);
	return root;
}

int fw_store_save(const struct fw_store *s, const char *path)
{
	json_t *root = store_json(s);
	int ret;

	ret = file_write_json(path, root);
	json_decref(root);
	return ret;
}
