// SPDX-License-Identifier: GPL-2.0
/* capgate lb list|add|del|drain|undrain|weight: a balanced service's backends over the API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd/capgate/call.h"
#include "cmd/capgate/cmd.h"
#include "lib/base/name.h"
#include "lib/base/parse_num.h"
#include "lib/lb/lb.h"

#define LB_USAGE                                                                            \
	"capgate lb list | add NAME ADDR:PORT [weight W] | del NAME ADDR:PORT  [OPTIONS]\n" \
	"       capgate lb drain|undrain NAME ADDR:PORT | weight NAME ADDR:PORT W\n"        \
	"       (ADDR:PORT: 10.10.2.5:80 or [fd00:2::5]:80; W: 0..100)"

/* Room for /v1/lb/NAME/backends/ and a backend with every character encoded. */
#define LB_PATH_MAX (sizeof("/v1/lb//backends/") + CG_NAME_MAX + 3 * LB_BE_STRLEN)

/* "ok 0.4s ago", "bad_status 503 2s ago", "error (Connection reset by peer) 1s ago", "-". */
static void health_text(const json_t *h, char *buf, size_t len)
{
	const char *r = json_string_value(json_object_get(h, "result"));
	long long detail = json_int_field(h, "detail"), age = json_int_field(h, "age_ms");
	char what[96];

	if (!r) {
		snprintf(buf, len, "-");
		return;
	}
	if (!strcmp(r, "none")) {
		snprintf(buf, len, "not checked yet");
		return;
	}
	if (!strcmp(r, "bad_status"))
		snprintf(what, sizeof(what), "%s %lld", r, detail);
	else if (!strcmp(r, "error") && detail > 0)
		snprintf(what, sizeof(what), "%s (%s)", r, strerror((int)detail));
	else
		snprintf(what, sizeof(what), "%s", r);
	if (age < 10000)
		snprintf(buf, len, "%s %lld.%llds ago", what, age / 1000, age % 1000 / 100);
	else
		snprintf(buf, len, "%s %llds ago", what, age / 1000);
}

static void print_service(const json_t *s)
{
	const json_t *bes = json_object_get(s, "backends"), *b;
	size_t i, w = strlen("BACKEND");
	char health[160];

	printf("%s  %s %s/%s  nat %s  health %s  no_backend %lld  flows_full %lld\n",
	       json_str_field(s, "name"), json_str_field(s, "vip"), json_str_field(s, "proto"),
	       json_str_field(s, "ports"), json_str_field(s, "nat"), json_str_field(s, "health"),
	       json_int_field(s, "no_backend"), json_int_field(s, "flows_full"));
	if (json_array_size(bes) == 0) {
		printf("  no backends\n");
		return;
	}
	for (i = 0; i < json_array_size(bes); i++) {
		size_t n = strlen(json_str_field(json_array_get(bes, i), "address"));

		if (n > w)
			w = n;
	}
	printf("  %-*s %-8s %6s %8s %9s %12s %14s  %s\n", (int)w, "BACKEND", "STATE", "WEIGHT",
	       "FLOWS", "NEW_FLOWS", "PACKETS", "BYTES", "HEALTH");
	for (i = 0; i < json_array_size(bes); i++) {
		b = json_array_get(bes, i);
		health_text(json_object_get(b, "health"), health, sizeof(health));
		printf("  %-*s %-8s %6lld %8lld %9lld %12lld %14lld  %s\n", (int)w,
		       json_str_field(b, "address"), json_str_field(b, "state"),
		       json_int_field(b, "weight"), json_int_field(b, "flows"),
		       json_int_field(b, "new_flows"), json_int_field(b, "packets"),
		       json_int_field(b, "bytes"), health);
	}
}

static int lb_list(const struct cg_global *g, const struct json_opts *o)
{
	json_t *j = NULL, *svcs;
	size_t i;
	int ret;

	ret = api_get_listing(g, "/v1/lb", o->json, JSON_OBJECT, &j);
	if (ret || o->json)
		goto out;
	svcs = json_object_get(j, "services");
	if (!json_is_array(svcs)) {
		fprintf(stderr, "capgate: the API sent an unexpected answer\n");
		ret = 1;
		goto out;
	}
	if (json_array_size(svcs) == 0)
		printf("no balanced services\n");
	for (i = 0; i < json_array_size(svcs); i++) {
		if (i)
			printf("\n");
		print_service(json_array_get(svcs, i));
	}
out:
	json_decref(j);
	return ret;
}

/*
 * Checks NAME and ADDR:PORT as the API will, before any request, and builds
 * the backend's path (the address percent-encoded: brackets and colons).
 * Returns 0, or 2 (usage) with the reason printed.
 */
static int target(const char *svc, const char *addr, struct lb_be *be, char *path, size_t len)
{
	const char *why = NULL;
	char a[LB_BE_STRLEN];
	size_t n, i;

	if (!name_valid(svc)) {
		fprintf(stderr, "capgate: bad service name \"%s\": %s\n", svc, NAME_RULE);
		return 2;
	}
	if (lb_be_parse(addr, false, be, &why)) {
		fprintf(stderr, "capgate: bad backend \"%s\": %s%s\n", addr, why,
			strchr(addr, '@') ? " (give it as: weight W)" : "");
		return 2;
	}
	lb_be_format(be, a, sizeof(a));
	n = (size_t)snprintf(path, len, "/v1/lb/%s/backends/", svc);
	for (i = 0; a[i] && n + 4 <= len; i++) {
		if (strchr("[]:", a[i]))
			n += (size_t)snprintf(path + n, len - n, "%%%02X", (unsigned char)a[i]);
		else
			path[n++] = a[i];
	}
	path[n < len ? n : len - 1] = '\0';
	return 0;
}

static int weight_arg(const char *s, uint32_t *w)
{
	if (parse_u32(s, 0, LB_WEIGHT_MAX, w)) {
		fprintf(stderr, "capgate: bad weight \"%s\": want 0..%d\n", s, LB_WEIGHT_MAX);
		return 2;
	}
	return 0;
}

/* Sends method path body; prints the JSON as is with -j, else what became of the backend. */
static int lb_send(const struct cg_global *g, const struct json_opts *o, const char *method,
		   const char *path, json_t *req, const char *done, const char *svc)
{
	char *body = req ? json_dumps(req, JSON_COMPACT) : NULL, *raw = NULL;
	json_t *j = NULL;
	int ret = 1;

	if (req && !body) {
		fprintf(stderr, "capgate: out of memory\n");
		goto out;
	}
	ret = api_call(g, method, path, body, &raw);
	if (ret)
		goto out;
	if (o->json) {
		if (raw[0])
			printf("%s\n", raw);
		goto out;
	}
	j = api_call_json(raw);
	if (!j) {
		ret = 1;
		goto out;
	}
	printf("%s backend %s of %s: %s, weight %lld, %lld flows\n", done,
	       json_str_field(j, "address"), svc, json_str_field(j, "state"),
	       json_int_field(j, "weight"), json_int_field(j, "flows"));
out:
	json_decref(j);
	json_decref(req);
	free(body);
	free(raw);
	return ret;
}

static int lb_add(const struct cg_global *g, const struct json_opts *o, const char *svc,
		  const char *addr, const char *weight)
{
	char path[LB_PATH_MAX], a[LB_BE_STRLEN];
	struct lb_be be;
	uint32_t w = 1;
	json_t *req;
	int ret;

	if ((ret = target(svc, addr, &be, path, sizeof(path))) ||
	    (weight && (ret = weight_arg(weight, &w))))
		return ret;
	lb_be_format(&be, a, sizeof(a));
	req = json_pack("{s:s}", "address", a);
	if (req && weight && json_object_set_new(req, "weight", json_integer(w))) {
		json_decref(req);
		req = NULL;
	}
	if (!req) {
		fprintf(stderr, "capgate: out of memory\n");
		return 1;
	}
	/* POST goes to the service's collection: the path without the backend */
	snprintf(path, sizeof(path), "/v1/lb/%s/backends", svc);
	return lb_send(g, o, "POST", path, req, "added", svc);
}

static int lb_del(const struct cg_global *g, const struct json_opts *o, const char *svc,
		  const char *addr)
{
	char path[LB_PATH_MAX], a[LB_BE_STRLEN], *raw = NULL;
	struct lb_be be;
	int ret;

	ret = target(svc, addr, &be, path, sizeof(path));
	if (ret)
		return ret;
	ret = api_call(g, "DELETE", path, NULL, &raw);
	lb_be_format(&be, a, sizeof(a));
	if (!ret && !o->json)
		printf("removed backend %s from %s (no new flows; its flows go on until they "
		       "end)\n",
		       a, svc);
	free(raw);
	return ret;
}

/* PATCH: drain on/off (weight NULL), or the weight. */
static int lb_patch(const struct cg_global *g, const struct json_opts *o, const char *svc,
		    const char *addr, int drain, const char *weight)
{
	char path[LB_PATH_MAX];
	struct lb_be be;
	uint32_t w = 0;
	json_t *req;
	int ret;

	if ((ret = target(svc, addr, &be, path, sizeof(path))) ||
	    (weight && (ret = weight_arg(weight, &w))))
		return ret;
	req = weight ? json_pack("{s:i}", "weight", (int)w) : json_pack("{s:b}", "drain", drain);
	if (!req) {
		fprintf(stderr, "capgate: out of memory\n");
		return 1;
	}
	return lb_send(g, o, "PATCH", path, req,
		       weight  ? "set"
		       : drain ? "drained"
			       : "undrained",
		       svc);
}

int cmd_lb(int argc, char **argv, const struct cg_global *g)
{
	struct json_opts o = { .json = g->json };
	const char *verb;
	int n, err;

	err = json_opts_verb(argc, &argv, LB_USAGE, &o, &n, &verb);
	if (err >= 0)
		return err;
	if (!strcmp(verb, "list") && n == 1)
		return lb_list(g, &o);
	if (!strcmp(verb, "add") && n == 3)
		return lb_add(g, &o, argv[1], argv[2], NULL);
	if (!strcmp(verb, "add") && n == 5 && !strcmp(argv[3], "weight"))
		return lb_add(g, &o, argv[1], argv[2], argv[4]);
	if ((!strcmp(verb, "del") || !strcmp(verb, "delete")) && n == 3)
		return lb_del(g, &o, argv[1], argv[2]);
	if ((!strcmp(verb, "drain") || !strcmp(verb, "undrain")) && n == 3)
		return lb_patch(g, &o, argv[1], argv[2], !strcmp(verb, "drain"), NULL);
	if (!strcmp(verb, "weight") && n == 4)
		return lb_patch(g, &o, argv[1], argv[2], 0, argv[3]);
	fprintf(stderr, "usage: %s\n", LB_USAGE);
	return 2;
}
