// SPDX-License-Identifier: GPL-2.0
/* capgate device revoke|unrevoke|revocations|group|list: revocations and groups over the API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cmd/capgate/call.h"
#include "cmd/capgate/cmd.h"
#include "lib/auth/revoke.h"

#define DEVICE_USAGE                                                                          \
	"capgate device revoke NAME [--app APP] [--note TEXT] | revoke --serial HEX [--note " \
	"TEXT]\n"                                                                             \
	"       capgate device unrevoke NAME [--app APP] | unrevoke --serial HEX | unrevoke " \
	"--id ID\n"                                                                           \
	"       capgate device revocations | list  [OPTIONS]\n"                               \
	"       capgate device group NAME [GROUP...]   (no GROUP: remove the device's groups)"

struct device_opts {
	bool json;
	const char *app, *serial, *note, *id;
};

enum { OPT_APP = 256, OPT_SERIAL, OPT_NOTE, OPT_ID };

static const struct cg_opt device_opts_table[] = {
	{ "json", 'j', no_argument, NULL, "print the API's JSON as is" },
	{ "app", OPT_APP, required_argument, "APP",
	  "revoke: only the device's certificate for APP" },
	{ "serial", OPT_SERIAL, required_argument, "HEX",
	  "revoke: one certificate by its serial (hex, as openssl x509 -serial prints it)" },
	{ "note", OPT_NOTE, required_argument, "TEXT", "revoke: why (kept with the entry)" },
	{ "id", OPT_ID, required_argument, "ID", "unrevoke: the entry with this id" },
};

static int device_opt(int val, const char *arg, void *ctx)
{
	struct device_opts *o = ctx;

	switch (val) {
	case 'j':
		o->json = true;
		return 0;
	case OPT_APP:
		o->app = arg;
		return 0;
	case OPT_SERIAL:
		o->serial = arg;
		return 0;
	case OPT_NOTE:
		o->note = arg;
		return 0;
	case OPT_ID:
		o->id = arg;
		return 0;
	}
	return -1;
}

/* What an entry names: "device dev1", "device dev1 app cam", "serial 0a1b". */
static void entry_text(const json_t *e, char *buf, size_t len)
{
	if (json_object_get(e, "serial"))
		snprintf(buf, len, "serial %s", json_str_field(e, "serial"));
	else if (json_object_get(e, "app"))
		snprintf(buf, len, "device %s app %s", json_str_field(e, "device"),
			 json_str_field(e, "app"));
	else
		snprintf(buf, len, "device %s", json_str_field(e, "device"));
}

/* The request body for NAME [--app] | --serial, with the note; NULL (usage) if neither. */
static json_t *target_json(const struct device_opts *o, const char *name, bool note)
{
	json_t *b = json_object();

	if (!b || (!name == !o->serial) || (o->app && !name)) {
		json_decref(b);
		return NULL;
	}
	if (name)
		json_object_set_new(b, "device", json_string(name));
	if (o->app)
		json_object_set_new(b, "app", json_string(o->app));
	if (o->serial) {
		char hex[2 * CG_SERIAL_MAX + 1];
		uint8_t ser[CG_SERIAL_MAX], n;
		const char *v = o->serial;

		/* As the gateway keeps it (unrevoke compares); a bad one goes as is, refused. */
		if (!revoke_serial_parse(o->serial, ser, &n)) {
			revoke_serial_format(ser, n, hex, sizeof(hex));
			v = hex;
		}
		json_object_set_new(b, "serial", json_string(v));
	}
	if (note && o->note)
		json_object_set_new(b, "note", json_string(o->note));
	return b;
}

static int revoke(const struct cg_global *g, const struct device_opts *o, const char *name)
{
	json_t *b = target_json(o, name, true), *j = NULL;
	char *body = NULL, *raw = NULL, what[160];
	int ret;

	if (!b) {
		fprintf(stderr, "usage: %s\n", DEVICE_USAGE);
		return 2;
	}
	body = json_dumps(b, JSON_COMPACT);
	ret = body ? api_call(g, "POST", "/v1/revocations", body, &raw) : 1;
	if (!ret && o->json) {
		printf("%s\n", raw);
	} else if (!ret) {
		j = api_call_json(raw);
		entry_text(j, what, sizeof(what));
		printf("revoked %s (revocation %lld): %lld session(s) ended\n", what,
		       json_int_field(j, "id"), json_int_field(j, "sessions_ended"));
	}
	json_decref(j);
	json_decref(b);
	free(body);
	free(raw);
	return ret;
}

/* The id of the entry that names exactly what b names, or 0. */
static long long find_entry(const json_t *list, const json_t *b)
{
	static const char *const keys[] = { "device", "app", "serial" };
	size_t i, k;

	for (i = 0; i < json_array_size(list); i++) {
		const json_t *e = json_array_get(list, i);
		bool same = true;

		for (k = 0; k < 3; k++) {
			const json_t *x = json_object_get(e, keys[k]),
				     *y = json_object_get(b, keys[k]);

			same &= !x == !y && (!x || json_equal(x, y));
		}
		if (same)
			return json_int_field(e, "id");
	}
	return 0;
}

static int unrevoke(const struct cg_global *g, const struct device_opts *o, const char *name)
{
	json_t *b = NULL, *list = NULL;
	char *raw = NULL, id[24], what[160];
	long long n;
	int ret;

	if (o->id && !name && !o->serial && !o->app)
		return api_delete_id(g, o->json, "revocation", "/v1/revocations", o->id, "removed");
	b = o->id ? NULL : target_json(o, name, false);
	if (!b) {
		fprintf(stderr, "usage: %s\n", DEVICE_USAGE);
		return 2;
	}
	ret = api_call(g, "GET", "/v1/revocations", NULL, &raw);
	list = ret ? NULL : api_call_json(raw);
	if (!ret && !list)
		ret = 1;
	n = ret ? 0 : find_entry(list, b);
	if (!ret && !n) {
		entry_text(b, what, sizeof(what));
		fprintf(stderr, "capgate: %s is not revoked\n", what);
		ret = 1;
	}
	if (!ret) {
		snprintf(id, sizeof(id), "%lld", n);
		ret = api_delete_id(g, o->json, "revocation", "/v1/revocations", id, "removed");
	}
	json_decref(b);
	json_decref(list);
	free(raw);
	return ret;
}

static int revocations(const struct cg_global *g, const struct device_opts *o)
{
	char what[160], when[32];
	json_t *j, *e;
	size_t i;
	int ret = api_get_listing(g, "/v1/revocations", o->json, JSON_ARRAY, &j);

	if (!j)
		return ret;
	if (!json_array_size(j))
		printf("no revocations\n");
	else
		printf("%-6s %-20s %-48s %s\n", "ID", "SINCE (UTC)", "REVOKED", "NOTE");
	json_array_foreach(j, i, e)
	{
		time_t t = (time_t)json_int_field(e, "time");
		struct tm tm;

		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", gmtime_r(&t, &tm));
		entry_text(e, what, sizeof(what));
		printf("%-6lld %-20s %-48s %s\n", json_int_field(e, "id"), when, what,
		       json_object_get(e, "note") ? json_str_field(e, "note") : "");
	}
	json_decref(j);
	return ret;
}

/* PUT (groups given) or DELETE (none) /v1/devices/NAME/groups. */
static int group(const struct cg_global *g, const struct device_opts *o, const char *name,
		 char **groups, int n)
{
	json_t *b = json_object(), *a = json_array(), *j = NULL;
	char path[CG_NAME_MAX + 32], *body = NULL, *raw = NULL;
	int i, ret = 1;

	snprintf(path, sizeof(path), "/v1/devices/%s/groups", name);
	for (i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(groups[i]));
	if (b && a && !json_object_set(b, "groups", a))
		body = json_dumps(b, JSON_COMPACT);
	if (body)
		ret = api_call(g, n ? "PUT" : "DELETE", path, n ? body : NULL, &raw);
	if (!ret && o->json && raw && raw[0]) {
		printf("%s\n", raw);
	} else if (!ret && n) {
		j = api_call_json(raw);
		printf("device %s: %d group(s); sessions: %lld rescoped, %lld revoked\n", name, n,
		       json_int_field(j, "sessions_rescoped"),
		       json_int_field(j, "sessions_revoked"));
	} else if (!ret) {
		printf("device %s: groups removed\n", name);
	}
	json_decref(j);
	json_decref(a);
	json_decref(b);
	free(body);
	free(raw);
	return ret;
}

static int list(const struct cg_global *g, const struct device_opts *o)
{
	const char *name;
	json_t *j, *v;
	size_t i;
	int ret = api_get_listing(g, "/v1/devices", o->json, JSON_OBJECT, &j);

	if (!j)
		return ret;
	if (!json_object_size(j))
		printf("no groups set through the API\n");
	else
		printf("%-24s %s\n", "DEVICE", "GROUPS");
	json_object_foreach(j, name, v)
	{
		printf("%-24s", name);
		for (i = 0; i < json_array_size(v); i++)
			printf(" %s", json_string_value(json_array_get(v, i)));
		printf("\n");
	}
	json_decref(j);
	return ret;
}

int cmd_device(int argc, char **argv, const struct cg_global *g)
{
	struct device_opts o = { .json = g->json };
	const char *verb, *name;
	int n, err;

	err = opts_parse(argc, argv, DEVICE_USAGE, device_opts_table,
			 sizeof(device_opts_table) / sizeof(device_opts_table[0]), device_opt, &o);
	if (err)
		return err == 1 ? 0 : 2;
	argv += optind;
	n = argc - optind;
	verb = n > 0 ? argv[0] : "";
	name = n > 1 ? argv[1] : NULL;
	if (!strcmp(verb, "revoke") && n <= 2 && !o.id)
		return revoke(g, &o, name);
	if (!strcmp(verb, "unrevoke") && n <= 2 && !o.note)
		return unrevoke(g, &o, name);
	if (!strcmp(verb, "revocations") && n == 1)
		return revocations(g, &o);
	if (!strcmp(verb, "list") && n == 1)
		return list(g, &o);
	if (!strcmp(verb, "group") && n >= 2)
		return group(g, &o, argv[1], argv + 2, n - 2);
	fprintf(stderr, "usage: %s\n", DEVICE_USAGE);
	return 2;
}
