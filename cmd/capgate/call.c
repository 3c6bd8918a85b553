// SPDX-License-Identifier: GPL-2.0
/* Calling the REST API from a subcommand: request, status check, error text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/capgate/call.h"
#include "lib/api/client.h"
#include "lib/base/parse_num.h"

int api_call(const struct cg_global *g, const char *method, const char *path, const char *body,
	     char **raw)
{
	char err[512];
	char *resp = NULL;
	json_t *j = NULL;
	long status = 0;
	int ret = 1;

	if (api_request(g->api, method, path, body, &status, &resp, err, sizeof(err))) {
		fprintf(stderr, "capgate: %s\n", err);
		goto out;
	}
	if (status < 200 || status > 299) {
		j = json_loads(resp, 0, NULL);
		if (json_is_string(json_object_get(j, "error")))
			fprintf(stderr, "capgate: %s\n",
				json_string_value(json_object_get(j, "error")));
		else
			fprintf(stderr, "capgate: the API at %s answered HTTP %ld\n", g->api,
				status);
		goto out;
	}
	*raw = resp;
	resp = NULL;
	ret = 0;
out:
	json_decref(j);
	free(resp);
	return ret;
}

json_t *api_call_json(const char *raw)
{
	json_error_t jerr;
	json_t *j = json_loads(raw, 0, &jerr);

	if (!j)
		fprintf(stderr, "capgate: the API sent bad JSON (line %d: %s)\n", jerr.line,
			jerr.text);
	return j;
}

int api_get_listing(const struct cg_global *g, const char *path, bool json, json_type type,
		    json_t **out)
{
	char *raw = NULL;
	int ret = api_call(g, "GET", path, NULL, &raw);

	*out = NULL;
	if (!ret && json) {
		printf("%s\n", raw);
	} else if (!ret) {
		*out = api_call_json(raw);
		if (!*out || json_typeof(*out) != type) {
			if (*out)
				fprintf(stderr, "capgate: the API sent an unexpected answer\n");
			json_decref(*out);
			*out = NULL;
			ret = 1;
		}
	}
	free(raw);
	return ret;
}

long long json_int_field(const json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

const char *json_str_field(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "?";
}

int api_delete_id(const struct cg_global *g, bool json, const char *what, const char *base,
		  const char *id_s, const char *done)
{
	char path[96], *raw = NULL;
	uint32_t id;
	int ret;

	if (parse_u32(id_s, 1, UINT32_MAX, &id)) {
		fprintf(stderr, "capgate: bad %s id \"%s\": want a number 1..%u\n", what, id_s,
			UINT32_MAX);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/%u", base, id);
	ret = api_call(g, "DELETE", path, NULL, &raw);
	if (!ret && !json)
		printf("%s %s %u\n", done, what, id);
	free(raw);
	return ret;
}

const struct cg_opt json_opts_table[1] = {
	{ "json", 'j', no_argument, NULL, "print the API's JSON as is" },
};

int json_opt(int val, const char *arg, void *ctx)
{
	struct json_opts *o = ctx;

	(void)arg;
	if (val == 'j') {
		o->json = true;
		return 0;
	}
	return -1;
}
