// SPDX-License-Identifier: GPL-2.0
/* capgate rule list|add CIDR allow|drop|del ID: CIDR rules over the REST API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd/capgate/call.h"
#include "cmd/capgate/cmd.h"
#include "lib/base/addr.h"
#include "lib/datapath/fw.h"

#define RULE_USAGE "capgate rule list | add CIDR allow|drop | del ID  [OPTIONS]"

static void print_rules(const json_t *rules)
{
	const json_t *r;
	size_t i, w = strlen("CIDR");

	for (i = 0; i < json_array_size(rules); i++) {
		size_t n = strlen(json_str_field(json_array_get(rules, i), "cidr"));

		if (n > w)
			w = n;
	}
	printf("%-6s %-*s %-7s %s\n", "ID", (int)w, "CIDR", "ACTION", "HITS");
	for (i = 0; i < json_array_size(rules); i++) {
		r = json_array_get(rules, i);
		printf("%-6lld %-*s %-7s %lld\n", json_int_field(r, "id"), (int)w,
		       json_str_field(r, "cidr"), json_str_field(r, "action"),
		       json_int_field(r, "hits"));
	}
}

static int rule_list(const struct cg_global *g, const struct json_opts *o)
{
	char *raw = NULL;
	json_t *j = NULL;
	int ret;

	ret = api_call(g, "GET", "/v1/rules", NULL, &raw);
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
	if (json_array_size(j) == 0)
		printf("no rules\n");
	else
		print_rules(j);
out:
	json_decref(j);
	free(raw);
	return ret;
}

static int rule_add(const struct cg_global *g, const struct json_opts *o, const char *cidr_s,
		    const char *act_s)
{
	const char *why = NULL;
	char *raw = NULL, *body = NULL;
	json_t *req = NULL, *j = NULL;
	struct cidr c;
	uint32_t act;
	int ret = 2;

	if (cidr_parse(cidr_s, &c, &why)) {
		fprintf(stderr, "capgate: bad CIDR \"%s\": %s\n", cidr_s,
			why ? why : "not a prefix");
		goto out;
	}
	if (fw_action_parse(act_s, &act)) {
		fprintf(stderr, "capgate: bad action \"%s\": want allow or drop\n", act_s);
		goto out;
	}
	ret = 1;
	req = json_pack("{s:s,s:s}", "cidr", cidr_s, "action", act_s);
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	if (!body) {
		fprintf(stderr, "capgate: out of memory\n");
		goto out;
	}
	ret = api_call(g, "POST", "/v1/rules", body, &raw);
	if (ret)
		goto out;
	if (o->json) {
		printf("%s\n", raw);
		goto out;
	}
	j = api_call_json(raw);
	if (!j) {
		ret = 1;
		goto out;
	}
	printf("added rule %lld: %s %s\n", json_int_field(j, "id"), json_str_field(j, "cidr"),
	       json_str_field(j, "action"));
out:
	json_decref(req);
	json_decref(j);
	free(body);
	free(raw);
	return ret;
}

int cmd_rule(int argc, char **argv, const struct cg_global *g)
{
	struct json_opts o = { .json = g->json };
	const char *verb;
	int n, err;

	err = json_opts_verb(argc, &argv, RULE_USAGE, &o, &n, &verb);
	if (err >= 0)
		return err;
	if (!strcmp(verb, "list") && n == 1)
		return rule_list(g, &o);
	if (!strcmp(verb, "add") && n == 3)
		return rule_add(g, &o, argv[1], argv[2]);
	if ((!strcmp(verb, "del") || !strcmp(verb, "delete")) && n == 2)
		return api_delete_id(g, o.json, "rule", "/v1/rules", argv[1], "deleted");
	fprintf(stderr, "usage: %s\n", RULE_USAGE);
	return 2;
}
