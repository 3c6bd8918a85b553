// SPDX-License-Identifier: GPL-2.0
/* libFuzzer harness for the REST API's input: rule bodies, path parameters, routing, tokens. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/api/routes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const methods[] = { "GET", "POST", "DELETE", "PUT" };

/*
 * Byte 0 picks the method (low 2 bits); the rest is both a rule body and,
 * up to its first NUL, a path and an Authorization header (for a TCP
 * listener, with metrics_public from bit 2). A matched parameter goes
 * through its parser.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_ctx ctx = { .need_token = true };
	char err[320], allow[32], *path;
	struct api_reply rep;
	struct api_match m;
	struct cidr c;
	uint32_t action, id;
	uint8_t addr[16];
	const char *body;

	if (size < 1)
		return 0;
	body = (const char *)data + 1;
	api_parse_rule(body, size - 1, &c, &action, err, sizeof(err));

	path = malloc(size);
	if (!path)
		return 0;
	memcpy(path, body, size - 1);
	path[size - 1] = '\0';
	if (api_route_match(methods[data[0] & 3], path, &m, allow, sizeof(allow)) == API_OK &&
	    m.param) {
		if (m.route == API_ROUTE_RULE_DEL)
			api_parse_id("rule", m.param, m.paramlen, &id, err, sizeof(err));
		else
			api_parse_source(m.param, m.paramlen, addr, err, sizeof(err));
	}
	ctx.metrics_public = data[0] & 4;
	if (api_check_auth(&ctx, methods[data[0] & 3], path, path, &rep) != API_OK)
		api_reply_free(&rep);
	free(path);
	return 0;
}
