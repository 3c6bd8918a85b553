// SPDX-License-Identifier: GPL-2.0
/* capgate session list|revoke ID: the gateway's sessions over the REST API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd/capgate/call.h"
#include "cmd/capgate/cmd.h"

#define SESSION_USAGE "capgate session list | revoke ID  [OPTIONS]"

static int session_list(const struct cg_global *g, const struct json_opts *o)
{
	char *raw = NULL, ep[64];
	json_t *j = NULL, *s;
	size_t i;
	int ret;

	ret = api_call(g, "GET", "/v1/sessions", NULL, &raw);
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
		printf("no sessions\n");
		goto out;
	}
	printf("%-10s %-16s %-12s %-16s %-24s %-9s %-17s %8s %10s %10s\n", "ID", "DEVICE", "APP",
	       "VIP", "ENDPOINT", "MODE", "CIPHER", "EXPIRES", "RX", "TX");
	for (i = 0; i < json_array_size(j); i++) {
		s = json_array_get(j, i);
		snprintf(ep, sizeof(ep), "%s",
			 json_is_string(json_object_get(s, "endpoint"))
				 ? json_str_field(s, "endpoint")
				 : "-");
		/* Integrity mode has no cipher: null in JSON, "-" here. */
		printf("%-10lld %-16s %-12s %-16s %-24s %-9s %-17s %7llds %10lld %10lld\n",
		       json_int_field(s, "id"), json_str_field(s, "device"),
		       json_str_field(s, "app"), json_str_field(s, "vip"), ep,
		       json_str_field(s, "mode"),
		       json_is_string(json_object_get(s, "cipher")) ? json_str_field(s, "cipher")
								    : "-",
		       json_int_field(s, "expires_in"), json_int_field(s, "rx_packets"),
		       json_int_field(s, "tx_packets"));
	}
out:
	json_decref(j);
	free(raw);
	return ret;
}

int cmd_session(int argc, char **argv, const struct cg_global *g)
{
	struct json_opts o = { .json = g->json };
	const char *verb;
	int n, err;

	err = json_opts_verb(argc, &argv, SESSION_USAGE, &o, &n, &verb);
	if (err >= 0)
		return err;
	if (!strcmp(verb, "list") && n == 1)
		return session_list(g, &o);
	if (!strcmp(verb, "revoke") && n == 2)
		return api_delete_id(g, o.json, "session", "/v1/sessions", argv[1], "revoked");
	fprintf(stderr, "usage: %s\n", SESSION_USAGE);
	return 2;
}
