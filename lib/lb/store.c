// SPDX-License-Identifier: GPL-2.0
/* lb.json: {"version":1,"services":{"web":{"config":["10.10.2.2:80@1"],"backends":[...]}}}. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "abi/lb.h"
#include "lib/base/file.h"
#include "lib/lb/store.h"

#define LB_STORE_VERSION 1

static void svc_free(struct lb_store_svc *v)
{
	free(v->cfg);
	free(v->be);
}

void lb_store_free(struct lb_store *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		svc_free(&s->svc[i]);
	free(s->svc);
	s->svc = NULL;
	s->n = 0;
}

struct lb_store_svc *lb_store_find(const struct lb_store *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->svc[i].name, name))
			return &s->svc[i];
	return NULL;
}

static struct lb_be *be_dup(const struct lb_be *b, size_t n)
{
	struct lb_be *c = malloc((n ? n : 1) * sizeof(*c));

	if (c && n)
		memcpy(c, b, n * sizeof(*c));
	return c;
}

int lb_store_set(struct lb_store *s, const char *name, const struct lb_be *cfg, size_t ncfg,
		 const struct lb_be *be, size_t nbe)
{
	struct lb_store_svc *found = lb_store_find(s, name), *grown;
	struct lb_be *c = be_dup(cfg, ncfg), *b = be_dup(be, nbe);
	size_t i = found ? (size_t)(found - s->svc) : s->n;

	if (!c || !b || strlen(name) >= CG_NAME_MAX)
		goto fail;
	if (found) {
		svc_free(found);
	} else {
		grown = realloc(s->svc, (s->n + 1) * sizeof(*grown));
		if (!grown)
			goto fail;
		s->svc = grown;
		memset(&grown[i], 0, sizeof(grown[i]));
		strcpy(grown[i].name, name);
		s->n++;
	}
	s->svc[i].cfg = c;
	s->svc[i].ncfg = ncfg;
	s->svc[i].be = b;
	s->svc[i].nbe = nbe;
	return 0;
fail:
	free(c);
	free(b);
	return -ENOMEM;
}

/* "config": "ADDR:PORT@W" strings, the config's backends. */
static int cfg_one(json_t *v, struct lb_be *b, const char **why)
{
	const char *t = json_string_value(v);

	if (!t)
		return *why = "a \"config\" backend is not a string", -EINVAL;
	return lb_be_parse(t, true, b, why);
}

/* "backends": {"address":"10.10.2.2:80","weight":1,"drain":false}. */
static int be_one(json_t *o, struct lb_be *b, const char **why)
{
	json_t *w = json_object_get(o, "weight"), *d = json_object_get(o, "drain");
	const char *t = json_string_value(json_object_get(o, "address"));

	if (!t)
		return *why = "a backend has no \"address\"", -EINVAL;
	if (lb_be_parse(t, false, b, why))
		return -EINVAL;
	if (!json_is_integer(w) || json_integer_value(w) < 0 ||
	    json_integer_value(w) > LB_WEIGHT_MAX || !json_is_boolean(d))
		return *why = "a backend's weight (0..100) or drain (boolean) is wrong", -EINVAL;
	b->weight = (uint32_t)json_integer_value(w);
	b->drain = json_is_true(d);
	return 0;
}

/* A list of at most LB_BACKENDS_PER_SVC backends, each once; *out is the caller's to free. */
static int list_from_json(json_t *a, const char *what,
			  int (*one)(json_t *, struct lb_be *, const char **), struct lb_be **out,
			  size_t *n, const char **why)
{
	size_t i, j;

	if (!json_is_array(a) || json_array_size(a) > LB_BACKENDS_PER_SVC) {
		*why = what;
		return -EINVAL;
	}
	*n = json_array_size(a);
	*out = calloc(*n ? *n : 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < *n; i++) {
		if (one(json_array_get(a, i), &(*out)[i], why))
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (lb_be_same(&(*out)[j], &(*out)[i]))
				return *why = "a backend listed twice", -EINVAL;
	}
	return 0;
}

static int store_from_json(struct lb_store *s, json_t *root, const char **why)
{
	json_t *svcs, *o;
	const char *name;
	int ret;

	if (!json_is_object(root) || !json_is_integer(json_object_get(root, "version")) ||
	    json_integer_value(json_object_get(root, "version")) != LB_STORE_VERSION)
		return *why = "not a version 1 balancer store", -EINVAL;
	svcs = json_object_get(root, "services");
	if (!json_is_object(svcs))
		return *why = "no \"services\" object", -EINVAL;
	json_object_foreach(svcs, name, o)
	{
		struct lb_be *c = NULL, *b = NULL;
		size_t nc = 0, nb = 0;

		if (!name_valid(name))
			return *why = "a service name is not valid", -EINVAL;
		ret = list_from_json(json_object_get(o, "config"),
				     "\"config\" is not a list of at most 256 backends", cfg_one,
				     &c, &nc, why);
		if (!ret)
			ret = list_from_json(json_object_get(o, "backends"),
					     "\"backends\" is not a list of at most 256 backends",
					     be_one, &b, &nb, why);
		if (!ret)
			ret = lb_store_set(s, name, c, nc, b, nb);
		free(c);
		free(b);
		if (ret)
			return ret;
	}
	return 0;
}

int lb_store_load(struct lb_store *s, const char *path, char *err, size_t errlen)
{
	struct lb_store tmp = { 0 };
	const char *why = "out of memory";
	json_error_t jerr;
	json_t *root;
	int ret;

	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		FILE *f = fopen(path, "r");

		if (!f && errno == ENOENT)
			return lb_store_free(s), 0;
		if (f)
			fclose(f);
		snprintf(err, errlen, "%s: %s (line %d)", path, jerr.text, jerr.line);
		return -EINVAL;
	}
	ret = store_from_json(&tmp, root, &why);
	json_decref(root);
	if (ret) {
		lb_store_free(&tmp);
		snprintf(err, errlen, "%s: %s", path, why);
		return ret;
	}
	lb_store_free(s);
	*s = tmp;
	return 0;
}

int lb_store_save(const struct lb_store *s, const char *path)
{
	json_t *root = json_pack("{s:i, s:{}}", "version", LB_STORE_VERSION, "services"), *svcs;
	char t[LB_BE_STRLEN], w[LB_BE_STRLEN + 8];
	size_t i, j;
	int ret = -ENOMEM;

	if (!root)
		return -ENOMEM;
	svcs = json_object_get(root, "services");
	for (i = 0; i < s->n; i++) {
		const struct lb_store_svc *v = &s->svc[i];
		json_t *c = json_array(), *b = json_array();

		if (!c || !b ||
		    json_object_set_new(svcs, v->name,
					json_pack("{s:o, s:o}", "config", c, "backends", b)))
			goto out;
		for (j = 0; j < v->ncfg; j++) {
			lb_be_format(&v->cfg[j], t, sizeof(t));
			snprintf(w, sizeof(w), "%s@%u", t, v->cfg[j].weight);
			if (json_array_append_new(c, json_string(w)))
				goto out;
		}
		for (j = 0; j < v->nbe; j++) {
			lb_be_format(&v->be[j], t, sizeof(t));
			if (json_array_append_new(b,
						  json_pack("{s:s, s:I, s:b}", "address", t,
							    "weight", (json_int_t)v->be[j].weight,
							    "drain", v->be[j].drain)))
				goto out;
		}
	}
	ret = file_write_json(path, root);
out:
	json_decref(root);
	return ret;
}
