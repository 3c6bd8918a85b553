// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the REST API's input: rule bodies, path parameters,
 * routing, tokens, and whole requests through api_handle to a stand-in
 * daemon. Two invariants abort: a refused request changed nothing (the
 * daemon's state and the refusal counters, but the one refusal counted), and
 * every answer has an HTTP status and, but a 204 and the /metrics text, a JSON
 * body; a refusal's is an object with an "error" string.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/api/routes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const methods[] = { "GET", "POST", "DELETE", "PUT", "PATCH" };

/* What the stand-in daemon answers each operation, by input bits 3-5 (0: it succeeds). */
static const int answers[] = { 0, -EEXIST, -ENOENT, -ENOSPC, -EIO, -EINVAL, -EBUSY, -EOPNOTSUPP };

/*
 * The daemon as the API sees it: the operation's answer, and what it did.
 * A change is counted only when an operation that changes something
 * succeeded; one that fails changes nothing (lib/api/api.h).
 */
struct standin {
	int answer;
	uint64_t changes;
};

/*
 * The stand-in's answer, with v as *out when it succeeds (or, for an
 * operation that names what is there, exists, as -EEXIST), else freed.
 */
static int done(struct gateway *gw, json_t **out, json_t *v, bool exists)
{
	struct standin *s = (struct standin *)gw;

	if (out && (!s->answer || (exists && s->answer == -EEXIST))) {
		*out = v;
		return v ? s->answer : -ENOMEM;
	}
	json_decref(v);
	return s->answer;
}

static int change(struct gateway *gw, json_t **out, json_t *v, bool exists)
{
	int err = done(gw, out, v, exists);

	if (!err)
		((struct standin *)gw)->changes++;
	return err;
}

static int read_list(struct gateway *gw, json_t **out)
{
	return done(gw, out, json_array(), false);
}

static int read_object(struct gateway *gw, json_t **out)
{
	return done(gw, out, json_object(), false);
}

static int read_lb(struct gateway *gw, json_t **out)
{
	return done(gw, out, json_pack("{s:[{s:s}],s:{}}", "services", "name", "web", "datapath"),
		    false);
}

static int read_metrics(struct gateway *gw, char **out)
{
	struct standin *s = (struct standin *)gw;

	if (s->answer)
		return s->answer;
	*out = strdup("# stand-in\n");
	return *out ? 0 : -ENOMEM;
}

static int rule_add(struct gateway *gw, const struct cidr *c, uint32_t action, json_t **out)
{
	(void)c;
	(void)action;
	return change(gw, out, json_pack("{s:i}", "id", 1), true);
}

static int by_id(struct gateway *gw, uint32_t id)
{
	(void)id;
	return change(gw, NULL, NULL, false);
}

static int knock_close(struct gateway *gw, const uint8_t addr[16])
{
	(void)addr;
	return change(gw, NULL, NULL, false);
}

static int revocation_add(struct gateway *gw, const struct api_revocation *r, json_t **out)
{
	(void)r;
	return change(gw, out, json_pack("{s:i}", "id", 1), true);
}

static int groups_set(struct gateway *gw, const char *device, const char *const *groups, size_t n,
		      json_t **out)
{
	(void)groups;
	return change(gw, out, json_pack("{s:s,s:i}", "device", device, "groups", (int)n), false);
}

static int reload(struct gateway *gw, json_t **out, char *err, size_t errlen)
{
	snprintf(err, errlen, "stand-in refused the reload");
	return change(gw, out, json_object(), false);
}

static int lb_add(struct gateway *gw, const char *svc, const struct lb_be *be, json_t **out)
{
	(void)be;
	return change(gw, out, json_pack("{s:s}", "service", svc), true);
}

static int lb_set(struct gateway *gw, const char *svc, const struct lb_be *be,
		  const struct lb_be_patch *patch, json_t **out)
{
	(void)be;
	(void)patch;
	return change(gw, out, json_pack("{s:s}", "service", svc), false);
}

static int lb_del(struct gateway *gw, const char *svc, const struct lb_be *be)
{
	(void)svc;
	(void)be;
	return change(gw, NULL, NULL, false);
}

static const struct api_ops standin_ops = {
	.rules_list = read_list,
	.rule_add = rule_add,
	.rule_del = by_id,
	.knock_list = read_object,
	.knock_close = knock_close,
	.stats = read_object,
	.metrics = read_metrics,
	.sessions_list = read_list,
	.session_revoke = by_id,
	.revocations_list = read_list,
	.revocation_add = revocation_add,
	.revocation_del = by_id,
	.devices_list = read_object,
	.device_groups_set = groups_set,
	.reload = reload,
	.lb_list = read_lb,
	.lb_backend_add = lb_add,
	.lb_backend_set = lb_set,
	.lb_backend_del = lb_del,
};

/* The answer's form: a status; JSON unless 204 or the metrics text; a refusal's {"error":".."}. */
static void check_answer(const struct api_reply *rep)
{
	json_t *j;

	if (rep->status < 200 || rep->status > 599 ||
	    (rep->refusal != API_OK) != (rep->status >= 400))
		abort();
	if (rep->status == 204) {
		if (rep->body || rep->refusal != API_OK)
			abort();
		return;
	}
	if (!rep->body || !rep->ctype || rep->len != strlen(rep->body))
		abort();
	if (!strcmp(rep->ctype, "application/json")) {
		j = json_loadb(rep->body, rep->len, 0, NULL);
		if (!j || (rep->refusal != API_OK && !json_is_string(json_object_get(j, "error"))))
			abort();
		json_decref(j);
	} else if (rep->refusal != API_OK || strncmp(rep->ctype, "text/plain;", 11)) {
		abort();
	}
}

/*
 * One request as the server makes it: the token check first (a TCP
 * listener; a unix socket with bit 7), then api_handle. A refusal leaves the daemon as it was
 * and moves only its own counter, by one.
 */
static void one_request(const char *method, const char *path, const char *body, size_t len,
			uint8_t bits)
{
	struct standin s = { .answer = answers[bits >> 3 & 7] };
	struct api_ctx ctx = { .ops = &standin_ops, .gw = (struct gateway *)&s };
	uint64_t before[API_REF__COUNT], changes;
	struct api_reply rep;

	ctx.need_token = !(bits & 0x80);
	ctx.metrics_public = bits & 4;
	memcpy(before, ctx.refused, sizeof(before));
	changes = s.changes;
	if (api_check_auth(&ctx, method, path, path, &rep) == API_OK)
		api_handle(&ctx, method, path, body, len, len > API_BODY_MAX, &rep);
	check_answer(&rep);
	if (rep.refusal != API_OK) {
		if (s.changes != changes)
			abort();
		before[rep.refusal]++;
	}
	if (memcmp(before, ctx.refused, sizeof(before)))
		abort();
	api_reply_free(&rep);
}

/*
 * Byte 0 picks the method (low 2 bits, PATCH with bit 6), metrics_public
 * (bit 2), the stand-in's answer (bits 3-5) and a unix socket (bit 7). The
 * rest is a rule body and, up to its first NUL, a path and an Authorization
 * header; a matched parameter goes through its parser. The same path with
 * what follows the NUL as its body is then a whole request.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body, *method;
	char err[320], allow[32], *path;
	struct api_match m;
	struct cidr c;
	uint32_t action, id;
	uint8_t addr[16];
	size_t plen;

	if (size < 1)
		return 0;
	method = methods[data[0] & 0x40 ? 4 : data[0] & 3];
	body = (const char *)data + 1;
	api_parse_rule(body, size - 1, &c, &action, err, sizeof(err));

	path = malloc(size);
	if (!path)
		return 0;
	memcpy(path, body, size - 1);
	path[size - 1] = '\0';
	if (api_route_match(method, path, &m, allow, sizeof(allow)) == API_OK && m.param) {
		if (m.route == API_ROUTE_RULE_DEL)
			api_parse_id("rule", m.param, m.paramlen, &id, err, sizeof(err));
		else
			api_parse_source(m.param, m.paramlen, addr, err, sizeof(err));
	}
	plen = strlen(path);
	if (plen < size - 1)
		one_request(method, path, path + plen + 1, size - 2 - plen, data[0]);
	else
		one_request(method, path, "", 0, data[0]);
	free(path);
	return 0;
}
