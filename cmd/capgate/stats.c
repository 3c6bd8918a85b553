// SPDX-License-Identifier: GPL-2.0
/* capgate stats: the gate's packet counters by verdict and reason, from the REST API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd/capgate/call.h"
#include "cmd/capgate/cmd.h"

#define STATS_USAGE "capgate stats [OPTIONS]"

struct stats_opts {
	bool json;
	bool all; /* also reasons that counted nothing */
};

static const struct stats_opts stats_defaults = {
	.json = false,
	.all = false,
};

static const struct cg_opt stats_table[] = {
	{ "json", 'j', no_argument, NULL, "print the API's JSON as is" },
	{ "all", 'a', no_argument, NULL, "also show reasons with no packets" },
};

static int stats_opt(int val, const char *arg, void *ctx)
{
	struct stats_opts *o = ctx;

	(void)arg;
	switch (val) {
	case 'j':
		o->json = true;
		return 0;
	case 'a':
		o->all = true;
		return 0;
	}
	return -1;
}

static void print_stats(const json_t *j, const struct stats_opts *o)
{
	const json_t *reasons = json_object_get(j, "reasons");
	const json_t *pk = json_object_get(j, "packets");
	const json_t *refused = json_object_get(json_object_get(j, "api"), "refused");
	char verdict[16];
	int shown = 0;
	void *it;

	printf("gateway %s on %s, xdp mode %s, default %s\n", json_str_field(j, "gateway"),
	       json_str_field(j, "interface"), json_str_field(j, "xdp_mode"),
	       json_str_field(j, "default"));
	printf("rules %lld, doors open %lld, packets passed %lld, dropped %lld\n\n",
	       json_int_field(j, "rules"), json_int_field(j, "doors_open"),
	       json_int_field(pk, "pass"), json_int_field(pk, "drop"));
	printf("%-8s %-20s %14s %16s\n", "VERDICT", "REASON", "PACKETS", "BYTES");
	for (it = json_object_iter((json_t *)reasons); it;
	     it = json_object_iter_next((json_t *)reasons, it)) {
		const char *key = json_object_iter_key(it);
		const json_t *v = json_object_iter_value(it);
		const char *us = strchr(key, '_');
		size_t n = us ? (size_t)(us - key) : strlen(key);

		if (!o->all && json_int_field(v, "packets") == 0)
			continue;
		if (n >= sizeof(verdict))
			n = sizeof(verdict) - 1;
		memcpy(verdict, key, n);
		verdict[n] = '\0';
		printf("%-8s %-20s %14lld %16lld\n", verdict, us ? us + 1 : key,
		       json_int_field(v, "packets"), json_int_field(v, "bytes"));
	}
	if (!refused)
		return;
	printf("\napi refusals:");
	for (it = json_object_iter((json_t *)refused); it;
	     it = json_object_iter_next((json_t *)refused, it)) {
		long long n = json_integer_value(json_object_iter_value(it));

		if (o->all || n) {
			printf(" %s=%lld", json_object_iter_key(it), n);
			shown++;
		}
	}
	printf("%s\n", shown ? "" : " none");
}

int cmd_stats(int argc, char **argv, const struct cg_global *g)
{
	struct stats_opts o = stats_defaults;
	char *raw = NULL;
	json_t *j = NULL;
	int ret;

	o.json = g->json;
	ret = opts_parse(argc, argv, STATS_USAGE, stats_table,
			 sizeof(stats_table) / sizeof(stats_table[0]), stats_opt, &o);
	if (ret)
		return ret == 1 ? 0 : 2;
	if (optind != argc) {
		fprintf(stderr, "usage: %s\n", STATS_USAGE);
		return 2;
	}
	ret = api_call(g, "GET", "/v1/stats", NULL, &raw);
	if (ret)
		goto out;
	if (o.json) {
		printf("%s\n", raw);
		goto out;
	}
	j = api_call_json(raw);
	if (!json_is_object(j)) {
		ret = 1;
		goto out;
	}
	print_stats(j, &o);
out:
	json_decref(j);
	free(raw);
	return ret;
}
