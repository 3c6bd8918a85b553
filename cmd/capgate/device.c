// SPDX-License-Identifier: GPL-2.0
/* capgate device revoke|unrevoke|revocations: revocations over the REST API. */
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
	"       capgate device revocations  [OPTIONS]"

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
		char hex[2 * REVOKE_SERIAL_MAX + 1];
		uint8_t ser[REVOKE_SERIAL_MAX], n;
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
	char *raw = NULL, what[160], when[32];
	json_t *j = NULL, *e;
	size_t i;
	int ret;

	ret = api_call(g, "GET", "/v1/revocations", NULL, &raw);
	if (ret)
		goto out;
	if (o->json) {
		printf("%s\n", raw);
		goto out;
	}
	j = api_call_json(raw);
	if (!json_is_array(j)) {
		ret = 1;
		goto out;
	}
	if (!json_array_size(j)) {
		printf("no revocations\n");
		goto out;
	}
	printf("%-6s %-20s %-48s %s\n", "ID", "SINCE (UTC)", "REVOKED", "NOTE");
	for (i = 0; i < json_array_size(j); i++) {
		time_t t;
		struct tm tm;

		e = json_array_get(j, i);
		t = (time_t)json_int_field(e, "time");
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", gmtime_r(&t, &tm));
		entry_text(e, what, sizeof(what));
		printf("%-6lld %-20s %-48s %s\n", json_int_field(e, "id"), when, what,
		       json_object_get(e, "note") ? json_str_field(e, "note") : "");
	}
out:
	json_decref(j);
	free(raw);
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
	fprintf(stderr, "usage: %s\n", DEVICE_USAGE);
	return 2;
}
