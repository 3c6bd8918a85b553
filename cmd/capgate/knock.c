// SPDX-License-Identifier: GPL-2.0
/* capgate knock list | send HOST SEQUENCE: knock profiles, open doors, and knocking. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd/capgate/call.h"
#include "cmd/capgate/cmd.h"
#include "lib/agent/knock.h"
#include "lib/base/parse_num.h"
#include "lib/base/portspec.h"

#define KNOCK_USAGE \
	"capgate knock list | send HOST SEQUENCE  [OPTIONS]  (SEQUENCE: tcp/7000,udp/8000)"
#define GAP_MAX_MS 60000U

struct knock_opts {
	bool json;
	uint32_t gap_ms; /* pause between two knock packets */
};

static const struct knock_opts knock_defaults = {
	.json = false,
	.gap_ms = 50,
};

enum { OPT_GAP = 256 };

static const struct cg_opt knock_table[] = {
	{ "json", 'j', no_argument, NULL, "list: print the API's JSON as is" },
	{ "gap", OPT_GAP, required_argument, "MS",
	  "send: milliseconds between knock packets (default 50)" },
};

static int knock_opt(int val, const char *arg, void *ctx)
{
	struct knock_opts *o = ctx;

	switch (val) {
	case 'j':
		o->json = true;
		return 0;
	case OPT_GAP:
		if (parse_u32(arg, 0, GAP_MAX_MS, &o->gap_ms)) {
			fprintf(stderr, "capgate: bad --gap \"%s\": want 0..%u ms\n", arg,
				GAP_MAX_MS);
			return -1;
		}
		return 0;
	}
	return -1;
}

/* The strings of a JSON array joined with sep into buf. */
static const char *join(const json_t *arr, const char *sep, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < json_array_size(arr); i++) {
		const json_t *v = json_array_get(arr, i);
		int n = snprintf(buf + used, len - used, "%s%s", i ? sep : "",
				 json_is_string(v) ? json_string_value(v) : "?");

		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	return buf;
}

static void print_knock(const json_t *j)
{
	const json_t *profiles = json_object_get(j, "profiles");
	const json_t *open = json_object_get(j, "open");
	const json_t *p;
	char seq[256], targets[256];
	size_t i;

	if (json_array_size(profiles) == 0) {
		printf("no knock profiles\n");
	} else {
		printf("%-16s %-40s %-8s %-24s %s\n", "PROFILE", "SEQUENCE", "TIMEOUT", "OPENS",
		       "FOR");
		for (i = 0; i < json_array_size(profiles); i++) {
			char tmo[24];

			p = json_array_get(profiles, i);
			snprintf(tmo, sizeof(tmo), "%llds", json_int_field(p, "step_timeout"));
			printf("%-16s %-40s %-8s %-24s %llds\n", json_str_field(p, "name"),
			       join(json_object_get(p, "sequence"), ",", seq, sizeof(seq)), tmo,
			       join(json_object_get(p, "open"), ",", targets, sizeof(targets)),
			       json_int_field(p, "open_for"));
		}
	}
	printf("\n");
	if (json_array_size(open) == 0) {
		printf("no doors open\n");
		return;
	}
	printf("%-40s %-16s %-10s %s\n", "SOURCE", "PROFILE", "TARGET", "SECONDS LEFT");
	for (i = 0; i < json_array_size(open); i++) {
		p = json_array_get(open, i);
		printf("%-40s %-16s %-10s %lld\n", json_str_field(p, "source"),
		       json_str_field(p, "profile"), json_str_field(p, "target"),
		       json_int_field(p, "expires_in"));
	}
}

static int knock_list(const struct cg_global *g, const struct knock_opts *o)
{
	char *raw = NULL;
	json_t *j = NULL;
	int ret;

	ret = api_call(g, "GET", "/v1/knock", NULL, &raw);
	if (ret)
		goto out;
	if (o->json) {
		printf("%s\n", raw);
		goto out;
	}
	j = api_call_json(raw);
	if (!json_is_object(j)) {
		ret = 1;
		goto out;
	}
	print_knock(j);
out:
	json_decref(j);
	free(raw);
	return ret;
}

static int knock_do_send(const struct knock_opts *o, const char *host, const char *seq)
{
	struct cg_port steps[CG_KNOCK_MAX_STEPS];
	const char *why = NULL;
	char err[256];
	size_t n = 0;
	int e;

	if (port_seq_parse(seq, steps, CG_KNOCK_MAX_STEPS, &n, &why)) {
		fprintf(stderr, "capgate: bad knock sequence \"%s\": %s\n", seq,
			why ? why : "want proto/port,...");
		return 2;
	}
	e = knock_send(host, steps, n, o->gap_ms, err, sizeof(err));
	if (e) {
		fprintf(stderr, "capgate: %s\n", err);
		return 1;
	}
	if (!o->json)
		printf("sent %zu knock%s to %s\n", n, n == 1 ? "" : "s", host);
	return 0;
}

int cmd_knock(int argc, char **argv, const struct cg_global *g)
{
	struct knock_opts o = knock_defaults;
	const char *verb;
	int n, err;

	o.json = g->json;
	err = opts_parse(argc, argv, KNOCK_USAGE, knock_table,
			 sizeof(knock_table) / sizeof(knock_table[0]), knock_opt, &o);
	if (err)
		return err == 1 ? 0 : 2;
	argv += optind;
	n = argc - optind;
	verb = n > 0 ? argv[0] : "";
	if (!strcmp(verb, "list") && n == 1)
		return knock_list(g, &o);
	if (!strcmp(verb, "send") && n == 3)
		return knock_do_send(&o, argv[1], argv[2]);
	fprintf(stderr, "usage: %s\n", KNOCK_USAGE);
	return 2;
}
