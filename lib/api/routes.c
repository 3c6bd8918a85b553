// SPDX-License-Identifier: GPL-2.0
/* REST API routes: the route table, request checks and the handlers over struct api_ops. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sodium.h>

#include "lib/api/routes.h"
#include "lib/base/name.h"
#include "lib/base/parse_num.h"
#include "lib/datapath/fw.h"

#define ERR_MAX 320
/* User-supplied text quoted in messages is cut to this many characters. */
#define QUOTE_MAX 64

static const char *const refusal_names[API_REF__COUNT] = {
	[API_OK] = "ok",
	[API_REF_BAD_JSON] = "bad_json",
	[API_REF_NOT_OBJECT] = "not_object",
	[API_REF_MISSING_FIELD] = "missing_field",
	[API_REF_UNKNOWN_FIELD] = "unknown_field",
	[API_REF_WRONG_TYPE] = "wrong_type",
	[API_REF_BAD_CIDR] = "bad_cidr",
	[API_REF_BAD_ACTION] = "bad_action",
	[API_REF_BAD_ID] = "bad_id",
	[API_REF_BAD_ADDRESS] = "bad_address",
	[API_REF_NOT_FOUND] = "not_found",
	[API_REF_METHOD] = "method_not_allowed",
	[API_REF_TOO_LARGE] = "too_large",
	[API_REF_EXISTS] = "exists",
	[API_REF_FULL] = "full",
	[API_REF_STATE] = "state",
	[API_REF_INTERNAL] = "internal",
	[API_REF_UNAUTHORIZED] = "unauthorized",
	[API_REF_BAD_VALUE] = "bad_value",
	[API_REF_NO_AUTH] = "no_auth",
	[API_REF_CONFIG] = "config",
	[API_REF_NOT_IMPLEMENTED] = "not_implemented",
};

const char *api_refusal_name(enum api_refusal r)
{
	if ((unsigned int)r >= API_REF__COUNT)
		return "unknown";
	return refusal_names[r];
}

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

/* A string field of obj; refusal if missing or not a string. */
static enum api_refusal str_field(json_t *obj, const char *key, const char **out, char *err,
				  size_t errlen)
{
	json_t *v = json_object_get(obj, key);

	if (!v) {
		snprintf(err, errlen, "missing field \"%s\"", key);
		return API_REF_MISSING_FIELD;
	}
	if (!json_is_string(v)) {
		snprintf(err, errlen, "field \"%s\" must be a string, not %s", key,
			 json_type_name(v));
		return API_REF_WRONG_TYPE;
	}
	*out = json_string_value(v);
	return API_OK;
}

/*
 * The body as a JSON object whose keys are all in known[] (NULL-terminated);
 * for messages, want is the body's form and fields its field names.
 */
static enum api_refusal load_object(const char *body, size_t len, const char *const *known,
				    const char *want, const char *fields, json_t **out, char *err,
				    size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	const char *key;
	size_t i;
	void *it;

	if (len == 0) {
		snprintf(err, errlen, "request body is empty: want %s", want);
		return API_REF_BAD_JSON;
	}
	root = json_loadb(body, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, errlen, "bad JSON at line %d, column %d: %s", jerr.line, jerr.column,
			 jerr.text);
		return API_REF_BAD_JSON;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "request body must be a JSON object, not %s",
			 json_type_name(root));
		json_decref(root);
		return API_REF_NOT_OBJECT;
	}
	for (it = json_object_iter(root); it; it = json_object_iter_next(root, it)) {
		key = json_object_iter_key(it);
		for (i = 0; known[i] && strcmp(key, known[i]); i++)
			;
		if (!known[i]) {
			snprintf(err, errlen, "unknown field \"%.*s\" (want %s)", QUOTE_MAX, key,
				 fields);
			json_decref(root);
			return API_REF_UNKNOWN_FIELD;
		}
	}
	*out = root;
	return API_OK;
}

enum api_refusal api_parse_rule(const char *body, size_t len, struct cidr *c, uint32_t *action,
				char *err, size_t errlen)
{
	static const char *const known[] = { "cidr", "action", NULL };
	enum api_refusal ret;
	json_t *root = NULL;
	const char *cidr_s, *act_s, *why = NULL;
	struct cidr cidr;
	uint32_t act;

	ret = load_object(body, len, known, "{\"cidr\":\"...\",\"action\":\"allow|drop\"}",
			  "cidr and action", &root, err, errlen);
	if (ret)
		return ret;
	if ((ret = str_field(root, "cidr", &cidr_s, err, errlen)) ||
	    (ret = str_field(root, "action", &act_s, err, errlen)))
		goto out;
	if (cidr_parse(cidr_s, &cidr, &why)) {
		snprintf(err, errlen, "bad cidr \"%.*s\": %s", QUOTE_MAX, cidr_s,
			 why ? why : "not a prefix");
		ret = API_REF_BAD_CIDR;
		goto out;
	}
	if (fw_action_parse(act_s, &act)) {
		snprintf(err, errlen, "bad action \"%.*s\": want allow or drop", QUOTE_MAX, act_s);
		ret = API_REF_BAD_ACTION;
		goto out;
	}
	*c = cidr;
	*action = act;
	ret = API_OK;
out:
	json_decref(root);
	return ret;
}

/* An optional string field: NULL if absent. */
static enum api_refusal opt_str_field(json_t *obj, const char *key, const char **out, char *err,
				      size_t errlen)
{
	*out = NULL;
	return json_object_get(obj, key) ? str_field(obj, key, out, err, errlen) : API_OK;
}

static enum api_refusal name_ok(const char *what, const char *v, char *err, size_t errlen)
{
	if (!v || name_valid(v))
		return API_OK;
	snprintf(err, errlen, "bad %s \"%.*s\": %s", what, QUOTE_MAX, v, NAME_RULE);
	return API_REF_BAD_VALUE;
}

enum api_refusal api_parse_revocation(const char *body, size_t len, json_t **root,
				      struct api_revocation *r, char *err, size_t errlen)
{
	static const char *const known[] = { "device", "app", "serial", "note", NULL };
	static const char want[] = "{\"device\":NAME[,\"app\":NAME]} or {\"serial\":HEX}, "
				   "[\"note\":TEXT]";
	enum api_refusal ret;

	*root = NULL;
	ret = load_object(body, len, known, want, "device and app, or serial; and note", root, err,
			  errlen);
	if (!ret)
		ret = opt_str_field(*root, "device", &r->device, err, errlen);
	if (!ret)
		ret = opt_str_field(*root, "app", &r->app, err, errlen);
	if (!ret)
		ret = opt_str_field(*root, "serial", &r->serial, err, errlen);
	if (!ret)
		ret = opt_str_field(*root, "note", &r->note, err, errlen);
	if (!ret && !r->device == !r->serial) {
		snprintf(err, errlen, "want either \"device\" or \"serial\": %s", want);
		ret = r->device ? API_REF_UNKNOWN_FIELD : API_REF_MISSING_FIELD;
	}
	if (!ret && r->app && !r->device) {
		snprintf(err, errlen, "\"app\" goes with \"device\": %s", want);
		ret = API_REF_UNKNOWN_FIELD;
	}
	if (!ret)
		ret = name_ok("device", r->device, err, errlen);
	if (!ret)
		ret = name_ok("app", r->app, err, errlen);
	if (!ret && r->note && strlen(r->note) >= 256) {
		snprintf(err, errlen, "\"note\" is %zu bytes: at most 255", strlen(r->note));
		ret = API_REF_BAD_VALUE;
	}
	if (ret) {
		json_decref(*root);
		*root = NULL;
	}
	return ret;
}

enum api_refusal api_parse_groups(const char *body, size_t len, json_t **root, const char **groups,
				  size_t *n, char *err, size_t errlen)
{
	static const char *const known[] = { "groups", NULL };
	enum api_refusal ret;
	json_t *a, *g;
	size_t i;

	ret = load_object(body, len, known, "{\"groups\":[NAME, ...]}", "groups", root, err,
			  errlen);
	if (ret)
		return ret;
	a = json_object_get(*root, "groups");
	if (!a) {
		snprintf(err, errlen, "missing field \"groups\"");
		ret = API_REF_MISSING_FIELD;
	} else if (!json_is_array(a)) {
		snprintf(err, errlen, "field \"groups\" must be an array, not %s",
			 json_type_name(a));
		ret = API_REF_WRONG_TYPE;
	} else if (json_array_size(a) > API_GROUPS_MAX) {
		snprintf(err, errlen, "%zu groups: at most %d", json_array_size(a), API_GROUPS_MAX);
		ret = API_REF_BAD_VALUE;
	}
	for (i = 0; !ret && i < json_array_size(a); i++) {
		g = json_array_get(a, i);
		groups[i] = json_string_value(g);
		if (!groups[i]) {
			snprintf(err, errlen, "group %zu must be a string, not %s", i + 1,
				 json_type_name(g));
			ret = API_REF_WRONG_TYPE;
		} else {
			ret = name_ok("group", groups[i], err, errlen);
		}
	}
	*n = ret ? 0 : json_array_size(a);
	if (ret) {
		json_decref(*root);
		*root = NULL;
	}
	return ret;
}

enum api_refusal api_parse_id(const char *what, const char *s, size_t len, uint32_t *id, char *err,
			      size_t errlen)
{
	char buf[16];
	uint32_t v;

	if (len > 0 && len < sizeof(buf)) {
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (!parse_u32(buf, 1, UINT32_MAX, &v)) {
			*id = v;
			return API_OK;
		}
	}
	snprintf(err, errlen, "bad %s id \"%.*s\": want a number 1..%" PRIu32, what,
		 (int)(len < QUOTE_MAX ? len : QUOTE_MAX), s, UINT32_MAX);
	return API_REF_BAD_ID;
}

enum api_refusal api_parse_source(const char *s, size_t len, uint8_t addr[16], char *err,
				  size_t errlen)
{
	char buf[CG_ADDRSTRLEN];
	uint8_t a[16];

	if (len > 0 && len < sizeof(buf)) {
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (!addr_parse_mapped(buf, a)) {
			memcpy(addr, a, sizeof(a));
			return API_OK;
		}
	}
	snprintf(err, errlen, "bad source address \"%.*s\": want an IPv4 or IPv6 address",
		 (int)(len < QUOTE_MAX ? len : QUOTE_MAX), s);
	return API_REF_BAD_ADDRESS;
}

/* The text of path segment s (len bytes) for a message: at most QUOTE_MAX characters. */
#define SEG(s, len) (int)((len) < QUOTE_MAX ? (len) : QUOTE_MAX), (s)

/* An optional integer field 0..LB_WEIGHT_MAX; *has says whether it was there. */
static enum api_refusal weight_field(json_t *obj, bool *has, uint32_t *w, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, "weight");
	json_int_t n;

	*has = v != NULL;
	if (!v)
		return API_OK;
	if (!json_is_integer(v)) {
		snprintf(err, errlen, "field \"weight\" must be an integer 0..%d, not %s",
			 LB_WEIGHT_MAX, json_type_name(v));
		return API_REF_WRONG_TYPE;
	}
	n = json_integer_value(v);
	if (n < 0 || n > LB_WEIGHT_MAX) {
		snprintf(err, errlen, "bad weight %" JSON_INTEGER_FORMAT ": want 0..%d", n,
			 LB_WEIGHT_MAX);
		return API_REF_BAD_VALUE;
	}
	*w = (uint32_t)n;
	return API_OK;
}

enum api_refusal api_parse_lb_backend(const char *body, size_t len, struct lb_be *be, char *err,
				      size_t errlen)
{
	static const char *const known[] = { "address", "weight", NULL };
	enum api_refusal ret;
	json_t *root = NULL;
	const char *addr, *why = "bad address";
	struct lb_be b;
	uint32_t w = 1;
	bool has_w;

	ret = load_object(body, len, known, "{\"address\":\"ADDR:PORT\"[,\"weight\":0..100]}",
			  "address and weight", &root, err, errlen);
	if (ret)
		return ret;
	if ((ret = str_field(root, "address", &addr, err, errlen)) ||
	    (ret = weight_field(root, &has_w, &w, err, errlen)))
		goto out;
	if (lb_be_parse(addr, false, &b, &why)) {
		snprintf(err, errlen, "bad backend address \"%.*s\": %s%s", QUOTE_MAX, addr, why,
			 strchr(addr, '@') ? " (the weight is a field of its own)" : "");
		ret = API_REF_BAD_ADDRESS;
		goto out;
	}
	b.weight = w;
	*be = b;
out:
	json_decref(root);
	return ret;
}

enum api_refusal api_parse_lb_patch(const char *body, size_t len, struct lb_be_patch *patch,
				    char *err, size_t errlen)
{
	static const char *const known[] = { "weight", "drain", NULL };
	static const char want[] = "{\"weight\":0..100} and/or {\"drain\":true|false}";
	struct lb_be_patch p = { 0 };
	enum api_refusal ret;
	json_t *root = NULL, *v;

	ret = load_object(body, len, known, want, "weight and drain", &root, err, errlen);
	if (ret)
		return ret;
	ret = weight_field(root, &p.has_weight, &p.weight, err, errlen);
	if (ret)
		goto out;
	v = json_object_get(root, "drain");
	if (v && !json_is_boolean(v)) {
		snprintf(err, errlen, "field \"drain\" must be true or false, not %s",
			 json_type_name(v));
		ret = API_REF_WRONG_TYPE;
		goto out;
	}
	p.has_drain = v != NULL;
	p.drain = json_is_true(v);
	if (!p.has_weight && !p.has_drain) {
		snprintf(err, errlen, "nothing to change: want %s", want);
		ret = API_REF_MISSING_FIELD;
		goto out;
	}
	*patch = p;
out:
	json_decref(root);
	return ret;
}

enum api_refusal api_parse_lb_path_backend(const char *s, size_t len, struct lb_be *be, char *err,
					   size_t errlen)
{
	char buf[LB_BE_STRLEN];
	const char *why = "expected ADDR:PORT (IPv6 as [ADDR]:PORT)";
	struct lb_be b;

	if (s && len > 0 && len < sizeof(buf)) {
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (!lb_be_parse(buf, false, &b, &why)) {
			*be = b;
			return API_OK;
		}
	}
	snprintf(err, errlen, "bad backend \"%.*s\" in the path: %s", SEG(s, len), why);
	return API_REF_BAD_ADDRESS;
}

/* ---- routing ---------------------------------------------------------------- */

/* A pattern's last segment "*" matches one non-empty segment: the parameter. */
struct route {
	const char *method;
	const char *pattern;
	enum api_route_id id;
};

static const struct route routes[] = {
	{ "GET", "/v1/rules", API_ROUTE_RULES_LIST },
	{ "POST", "/v1/rules", API_ROUTE_RULE_ADD },
	{ "DELETE", "/v1/rules/*", API_ROUTE_RULE_DEL },
	{ "GET", "/v1/knock", API_ROUTE_KNOCK_LIST },
	{ "DELETE", "/v1/knock/*", API_ROUTE_KNOCK_CLOSE },
	{ "GET", "/v1/stats", API_ROUTE_STATS },
	{ "GET", "/metrics", API_ROUTE_METRICS },
	{ "GET", "/v1/sessions", API_ROUTE_SESSIONS_LIST },
	{ "DELETE", "/v1/sessions/*", API_ROUTE_SESSION_REVOKE },
	{ "GET", "/v1/revocations", API_ROUTE_REVOCATIONS_LIST },
	{ "POST", "/v1/revocations", API_ROUTE_REVOCATION_ADD },
	{ "DELETE", "/v1/revocations/*", API_ROUTE_REVOCATION_DEL },
	{ "POST", "/v1/reload", API_ROUTE_RELOAD },
	{ "GET", "/v1/devices", API_ROUTE_DEVICES_LIST },
	{ "PUT", "/v1/devices/*/groups", API_ROUTE_DEVICE_GROUPS_SET },
	{ "DELETE", "/v1/devices/*/groups", API_ROUTE_DEVICE_GROUPS_DEL },
	{ "GET", "/v1/lb", API_ROUTE_LB_LIST },
	{ "POST", "/v1/lb/*/backends", API_ROUTE_LB_BACKEND_ADD },
	{ "PATCH", "/v1/lb/*/backends/*", API_ROUTE_LB_BACKEND_SET },
	{ "DELETE", "/v1/lb/*/backends/*", API_ROUTE_LB_BACKEND_DEL },
};

/*
 * Matches path against pattern; on a match sets the parameters (NULL where
 * none). Each "*" stands for one non-empty segment, anywhere: the device
 * name of /v1/devices/NAME/groups as much as a rule id at the end; at most
 * two (a service and its backend).
 */
static bool path_match(const char *pattern, const char *path, const char *param[2], size_t plen[2])
{
	size_t n, np = 0;

	param[0] = param[1] = NULL;
	plen[0] = plen[1] = 0;
	while (*pattern) {
		if (*pattern != '*') {
			if (*pattern++ != *path++)
				return false;
			continue;
		}
		n = strcspn(path, "/");
		if (n == 0 || np == 2)
			return false;
		param[np] = path;
		plen[np++] = n;
		path += n;
		pattern++;
	}
	return *path == '\0';
}

enum api_refusal api_route_match(const char *method, const char *path, struct api_match *m,
				 char *allow, size_t allowlen)
{
	char methods[sizeof(((struct api_reply *)0)->allow)] = "";
	const char *param[2];
	size_t i, plen[2], used = 0;
	bool path_known = false;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!path_match(routes[i].pattern, path, param, plen))
			continue;
		if (!strcmp(routes[i].method, method)) {
			m->route = routes[i].id;
			m->param = param[0];
			m->paramlen = plen[0];
			m->param2 = param[1];
			m->param2len = plen[1];
			return API_OK;
		}
		path_known = true;
		used += (size_t)snprintf(methods + used, sizeof(methods) - used, "%s%s",
					 used ? ", " : "", routes[i].method);
		if (used >= sizeof(methods))
			used = sizeof(methods) - 1;
	}
	if (!path_known)
		return API_REF_NOT_FOUND;
	snprintf(allow, allowlen, "%s", methods);
	return API_REF_METHOD;
}

/* ---- replies ---------------------------------------------------------------- */

static void reply_json(struct api_reply *rep, unsigned int status, json_t *v)
{
	rep->status = status;
	rep->ctype = "application/json";
	rep->body = v ? json_dumps(v, JSON_COMPACT) : NULL;
	if (!rep->body) {
		rep->status = 500;
		rep->ctype = "application/json";
		rep->body = strdup("{\"error\":\"out of memory\"}");
		rep->refusal = API_REF_INTERNAL;
	}
	rep->len = rep->body ? strlen(rep->body) : 0;
}

/*
 * msg as a JSON string. What it quotes of a request may not be UTF-8 (a
 * path's bytes, a quote cut at QUOTE_MAX inside a character): those bytes
 * become '?', so that the reply still says why.
 */
static json_t *msg_string(const char *msg)
{
	char buf[ERR_MAX];
	json_t *s = json_string(msg);
	size_t i;

	if (s)
		return s;
	snprintf(buf, sizeof(buf), "%s", msg);
	for (i = 0; buf[i]; i++)
		if ((unsigned char)buf[i] >= 0x80)
			buf[i] = '?';
	return json_string(buf);
}

/* An error reply {"error": msg} (plus extra's fields, which it takes). */
static void reply_error(struct api_reply *rep, unsigned int status, enum api_refusal why,
			const char *msg, json_t *extra)
{
	json_t *v = extra ? extra : json_object();

	rep->refusal = why;
	if (v)
		json_object_set_new(v, "error", msg_string(msg));
	reply_json(rep, status, v);
	json_decref(v);
}

/* Maps a gateway errno that no handler expects to 503 (state) or 500. */
static void reply_gw_error(struct api_reply *rep, int err, const char *what)
{
	char msg[ERR_MAX];

	if (err == -EIO) {
		snprintf(msg, sizeof(msg),
			 "could not save state: %s failed, nothing was changed (see the gateway's "
			 "log)",
			 what);
		reply_error(rep, 503, API_REF_STATE, msg, NULL);
		return;
	}
	snprintf(msg, sizeof(msg), "%s failed: %s", what, strerror(-err));
	reply_error(rep, 500, API_REF_INTERNAL, msg, NULL);
}

/* ---- handlers --------------------------------------------------------------- */

static void rules_list(struct api_ctx *ctx, struct api_reply *rep)
{
	json_t *out = NULL;
	int err = ctx->ops->rules_list(ctx->gw, &out);

	if (err) {
		reply_gw_error(rep, err, "listing the rules");
		return;
	}
	reply_json(rep, 200, out);
	json_decref(out);
}

static void rule_add(struct api_ctx *ctx, const char *body, size_t len, struct api_reply *rep)
{
	char msg[ERR_MAX], buf[CG_ADDRSTRLEN];
	enum api_refusal why;
	struct cidr c;
	uint32_t action;
	json_t *out = NULL, *extra;
	int err;

	why = api_parse_rule(body, len, &c, &action, msg, sizeof(msg));
	if (why) {
		reply_error(rep, 400, why, msg, NULL);
		return;
	}
	err = ctx->ops->rule_add(ctx->gw, &c, action, &out);
	switch (err) {
	case 0:
		reply_json(rep, 201, out);
		break;
	case -EEXIST:
		cidr_format(&c, buf, sizeof(buf));
		snprintf(msg, sizeof(msg), "a rule for %s exists already: id %" JSON_INTEGER_FORMAT,
			 buf, json_integer_value(json_object_get(out, "id")));
		extra = json_object();
		if (extra && out)
			json_object_set(extra, "rule", out);
		reply_error(rep, 409, API_REF_EXISTS, msg, extra);
		break;
	case -ENOSPC:
		reply_error(rep, 507, API_REF_FULL, "the rule table is full", NULL);
		break;
	default:
		reply_gw_error(rep, err, "adding the rule");
		break;
	}
	json_decref(out);
}

static void rule_del(struct api_ctx *ctx, const struct api_match *m, struct api_reply *rep)
{
	char msg[ERR_MAX];
	enum api_refusal why;
	uint32_t id;
	int err;

	why = api_parse_id("rule", m->param, m->paramlen, &id, msg, sizeof(msg));
	if (why) {
		reply_error(rep, 400, why, msg, NULL);
		return;
	}
	err = ctx->ops->rule_del(ctx->gw, id);
	if (err == -ENOENT) {
		snprintf(msg, sizeof(msg), "no rule with id %" PRIu32, id);
		reply_error(rep, 404, API_REF_NOT_FOUND, msg, NULL);
	} else if (err) {
		reply_gw_error(rep, err, "deleting the rule");
	} else {
		rep->status = 204;
	}
}

static void knock_list(struct api_ctx *ctx, struct api_reply *rep)
{
	json_t *out = NULL;
	int err = ctx->ops->knock_list(ctx->gw, &out);

	if (err) {
		reply_gw_error(rep, err, "listing knock state");
		return;
	}
	reply_json(rep, 200, out);
	json_decref(out);
}

static void knock_close(struct api_ctx *ctx, const struct api_match *m, struct api_reply *rep)
{
	char msg[ERR_MAX], buf[CG_ADDRSTRLEN];
	enum api_refusal why;
	uint8_t addr[16];
	int err;

	why = api_parse_source(m->param, m->paramlen, addr, msg, sizeof(msg));
	if (why) {
		reply_error(rep, 400, why, msg, NULL);
		return;
	}
	err = ctx->ops->knock_close(ctx->gw, addr);
	if (err == -ENOENT) {
		addr_format_mapped(addr, buf, sizeof(buf));
		snprintf(msg, sizeof(msg), "no door is open for %s", buf);
		reply_error(rep, 404, API_REF_NOT_FOUND, msg, NULL);
	} else if (err) {
		reply_gw_error(rep, err, "closing the door");
	} else {
		rep->status = 204;
	}
}

static void sessions_list(struct api_ctx *ctx, struct api_reply *rep)
{
	json_t *out = NULL;
	int err = ctx->ops->sessions_list(ctx->gw, &out);

	if (err) {
		reply_gw_error(rep, err, "listing the sessions");
		return;
	}
	reply_json(rep, 200, out);
	json_decref(out);
}

static void session_revoke(struct api_ctx *ctx, const struct api_match *m, struct api_reply *rep)
{
	char msg[ERR_MAX];
	enum api_refusal why;
	uint32_t id;
	int err;

	why = api_parse_id("session", m->param, m->paramlen, &id, msg, sizeof(msg));
	if (why) {
		reply_error(rep, 400, why, msg, NULL);
		return;
	}
	err = ctx->ops->session_revoke(ctx->gw, id);
	if (err == -ENOENT) {
		snprintf(msg, sizeof(msg), "no session with id %" PRIu32, id);
		reply_error(rep, 404, API_REF_NOT_FOUND, msg, NULL);
	} else if (err) {
		reply_gw_error(rep, err, "revoking the session");
	} else {
		rep->status = 204;
	}
}

static void revocations_list(struct api_ctx *ctx, struct api_reply *rep)
{
	json_t *out = NULL;
	int err = ctx->ops->revocations_list(ctx->gw, &out);

	if (err == -EOPNOTSUPP)
		reply_error(rep, 409, API_REF_NO_AUTH, "the gateway has no [auth] section", NULL);
	else if (err)
		reply_gw_error(rep, err, "listing the revocations");
	else
		reply_json(rep, 200, out);
	json_decref(out);
}

static void revocation_add(struct api_ctx *ctx, const char *body, size_t len, struct api_reply *rep)
{
	struct api_revocation r;
	char msg[ERR_MAX];
	enum api_refusal why;
	json_t *root = NULL, *out = NULL, *extra;
	int err;

	why = api_parse_revocation(body, len, &root, &r, msg, sizeof(msg));
	if (why) {
		reply_error(rep, 400, why, msg, NULL);
		return;
	}
	err = ctx->ops->revocation_add(ctx->gw, &r, &out);
	switch (err) {
	case 0:
		reply_json(rep, 201, out);
		break;
	case -EEXIST:
		snprintf(msg, sizeof(msg), "revoked already: revocation %" JSON_INTEGER_FORMAT,
			 json_integer_value(json_object_get(out, "id")));
		extra = json_object();
		if (extra && out)
			json_object_set(extra, "revocation", out);
		reply_error(rep, 409, API_REF_EXISTS, msg, extra);
		break;
	case -EINVAL:
		snprintf(msg, sizeof(msg), "bad serial \"%.*s\": want 1 to 40 hex digits",
			 QUOTE_MAX, r.serial ? r.serial : "");
		reply_error(rep, 400, API_REF_BAD_VALUE, msg, NULL);
		break;
	case -ENOSPC:
		reply_error(rep, 507, API_REF_FULL, "the revocation list is full", NULL);
		break;
	case -EOPNOTSUPP:
		reply_error(rep, 409, API_REF_NO_AUTH, "the gateway has no [auth] section", NULL);
		break;
	default:
		reply_gw_error(rep, err, "adding the revocation");
		break;
	}
	json_decref(out);
	json_decref(root);
}

static void revocation_del(struct api_ctx *ctx, const struct api_match *m, struct api_reply *rep)
{
	char msg[ERR_MAX];
	enum api_refusal why;
	uint32_t id;
	int err;

	why = api_parse_id("revocation", m->param, m->paramlen, &id, msg, sizeof(msg));
	if (why) {
		reply_error(rep, 400, why, msg, NULL);
		return;
	}
	err = ctx->ops->revocation_del(ctx->gw, id);
	if (err == -ENOENT) {
		snprintf(msg, sizeof(msg), "no revocation with id %" PRIu32, id);
		reply_error(rep, 404, API_REF_NOT_FOUND, msg, NULL);
	} else if (err == -EOPNOTSUPP) {
		reply_error(rep, 409, API_REF_NO_AUTH, "the gateway has no [auth] section", NULL);
	} else if (err) {
		reply_gw_error(rep, err, "removing the revocation");
	} else {
		rep->status = 204;
	}
}

static void reload(struct api_ctx *ctx, struct api_reply *rep)
{
	char msg[ERR_MAX] = "";
	json_t *out = NULL;
	int err = ctx->ops->reload(ctx->gw, &out, msg, sizeof(msg));

	if (err == -EINVAL || err == -EBUSY)
		reply_error(rep, err == -EINVAL ? 422 : 409, API_REF_CONFIG, msg, NULL);
	else if (err)
		reply_gw_error(rep, err, "reloading the config");
	else
		reply_json(rep, 200, out);
	json_decref(out);
}

static void devices_list(struct api_ctx *ctx, struct api_reply *rep)
{
	json_t *out = NULL;
	int err = ctx->ops->devices_list(ctx->gw, &out);

	if (err == -EOPNOTSUPP)
		reply_error(rep, 409, API_REF_NO_AUTH, "the gateway has no [auth] section", NULL);
	else if (err)
		reply_gw_error(rep, err, "listing the devices");
	else
		reply_json(rep, 200, out);
	json_decref(out);
}

/* The <name> segment of m as a name (lib/base/name.h) into name; else API_REF_BAD_VALUE. */
static enum api_refusal path_name(const char *what, const struct api_match *m,
				  char name[CG_NAME_MAX], char *err, size_t errlen)
{
	snprintf(name, CG_NAME_MAX, "%.*s", (int)(m->paramlen < CG_NAME_MAX ? m->paramlen : 0),
		 m->param);
	if (name_valid(name))
		return API_OK;
	snprintf(err, errlen, "bad %s \"%.*s\": %s", what, SEG(m->param, m->paramlen), NAME_RULE);
	return API_REF_BAD_VALUE;
}

/* PUT (body) or DELETE (body NULL) /v1/devices/<name>/groups. */
static void device_groups(struct api_ctx *ctx, const struct api_match *m, const char *body,
			  size_t len, struct api_reply *rep)
{
	const char *groups[API_GROUPS_MAX];
	char msg[ERR_MAX], name[CG_NAME_MAX];
	enum api_refusal why = API_OK;
	json_t *root = NULL, *out = NULL;
	size_t n = 0;
	int err;

	why = path_name("device", m, name, msg, sizeof(msg));
	if (!why && body)
		why = api_parse_groups(body, len, &root, groups, &n, msg, sizeof(msg));
	if (why) {
		reply_error(rep, 400, why, msg, NULL);
		return;
	}
	err = ctx->ops->device_groups_set(ctx->gw, name, groups, n, &out);
	if (!err) {
		reply_json(rep, 200, out);
	} else if (err == -ENOENT) {
		snprintf(msg, sizeof(msg), "device %s holds no groups set through the API", name);
		reply_error(rep, 404, API_REF_NOT_FOUND, msg, NULL);
	} else if (err == -EINVAL) {
		snprintf(msg, sizeof(msg), "%zu groups: a device holds at most 16", n);
		reply_error(rep, 400, API_REF_BAD_VALUE, msg, NULL);
	} else if (err == -ENOSPC) {
		reply_error(rep, 507, API_REF_FULL, "the device registry is full", NULL);
	} else if (err == -EOPNOTSUPP) {
		reply_error(rep, 409, API_REF_NO_AUTH, "the gateway has no [auth] section", NULL);
	} else {
		reply_gw_error(rep, err, "setting the device's groups");
	}
	json_decref(out);
	json_decref(root);
}

/* A route whose operation the gateway did not give (struct api_ops): 501, nothing called. */
static void reply_not_implemented(struct api_reply *rep, const char *what)
{
	char msg[ERR_MAX];

	snprintf(msg, sizeof(msg), "this gateway does not implement %s", what);
	reply_error(rep, 501, API_REF_NOT_IMPLEMENTED, msg, NULL);
}

static void lb_list(struct api_ctx *ctx, struct api_reply *rep)
{
	json_t *out = NULL;
	int err;

	if (!ctx->ops || !ctx->ops->lb_list) {
		reply_not_implemented(rep, "the balancer (GET /v1/lb)");
		return;
	}
	err = ctx->ops->lb_list(ctx->gw, &out);
	if (err)
		reply_gw_error(rep, err, "listing the balanced services");
	else
		reply_json(rep, 200, out);
	json_decref(out);
}

/* Whether lb_list names service svc: 1 yes, 0 no, -1 it could not say. */
static int lb_has_service(struct api_ctx *ctx, const char *svc)
{
	json_t *out = NULL, *list;
	size_t i;
	int ret = -1;

	if (ctx->ops->lb_list && !ctx->ops->lb_list(ctx->gw, &out)) {
		list = json_object_get(out, "services");
		for (i = 0, ret = 0; !ret && i < json_array_size(list); i++) {
			const char *n =
				json_string_value(json_object_get(json_array_get(list, i), "name"));

			ret = n && !strcmp(n, svc);
		}
	}
	json_decref(out);
	return ret;
}

/* 404 for a service or backend lb_backend_set/del did not find. */
static void reply_lb_not_found(struct api_ctx *ctx, const char *svc, const char *be,
			       struct api_reply *rep)
{
	char msg[ERR_MAX];
	int has = lb_has_service(ctx, svc);

	if (has == 0)
		snprintf(msg, sizeof(msg), "no balanced service %s", svc);
	else if (has == 1)
		snprintf(msg, sizeof(msg), "balanced service %s has no backend %s", svc, be);
	else
		snprintf(msg, sizeof(msg), "no balanced service %s with a backend %s", svc, be);
	reply_error(rep, 404, API_REF_NOT_FOUND, msg, NULL);
}

static void lb_backend_add(struct api_ctx *ctx, const struct api_match *m, const char *body,
			   size_t len, struct api_reply *rep)
{
	char msg[ERR_MAX], svc[CG_NAME_MAX], be_s[LB_BE_STRLEN];
	enum api_refusal why;
	struct lb_be be;
	json_t *out = NULL, *extra;
	int err;

	why = path_name("service", m, svc, msg, sizeof(msg));
	if (!why)
		why = api_parse_lb_backend(body, len, &be, msg, sizeof(msg));
	if (why) {
		reply_error(rep, 400, why, msg, NULL);
		return;
	}
	if (!ctx->ops || !ctx->ops->lb_backend_add) {
		reply_not_implemented(rep, "adding balancer backends");
		return;
	}
	lb_be_format(&be, be_s, sizeof(be_s));
	err = ctx->ops->lb_backend_add(ctx->gw, svc, &be, &out);
	switch (err) {
	case 0:
		reply_json(rep, 201, out);
		break;
	case -EEXIST:
		snprintf(msg, sizeof(msg), "balanced service %s has backend %s already", svc, be_s);
		extra = json_object();
		if (extra && out)
			json_object_set(extra, "backend", out);
		reply_error(rep, 409, API_REF_EXISTS, msg, extra);
		break;
	case -ENOENT:
		snprintf(msg, sizeof(msg), "no balanced service %s", svc);
		reply_error(rep, 404, API_REF_NOT_FOUND, msg, NULL);
		break;
	case -EINVAL:
		snprintf(msg, sizeof(msg),
			 "bad backend address \"%s\": not the address family of service %s's VIP",
			 be_s, svc);
		reply_error(rep, 400, API_REF_BAD_ADDRESS, msg, NULL);
		break;
	case -ENOSPC:
		snprintf(msg, sizeof(msg), "balanced service %s has no room for another backend",
			 svc);
		reply_error(rep, 507, API_REF_FULL, msg, NULL);
		break;
	default:
		reply_gw_error(rep, err, "adding the backend");
		break;
	}
	json_decref(out);
}

/* PATCH (body) or DELETE (body NULL) /v1/lb/<name>/backends/<addr:port>. */
static void lb_backend_change(struct api_ctx *ctx, const struct api_match *m, const char *body,
			      size_t len, struct api_reply *rep)
{
	char msg[ERR_MAX], svc[CG_NAME_MAX], be_s[LB_BE_STRLEN];
	struct lb_be_patch patch;
	enum api_refusal why;
	struct lb_be be;
	json_t *out = NULL;
	int err;

	why = path_name("service", m, svc, msg, sizeof(msg));
	if (!why)
		why = api_parse_lb_path_backend(m->param2, m->param2len, &be, msg, sizeof(msg));
	if (!why && body)
		why = api_parse_lb_patch(body, len, &patch, msg, sizeof(msg));
	if (why) {
		reply_error(rep, 400, why, msg, NULL);
		return;
	}
	if (!ctx->ops || (body ? !ctx->ops->lb_backend_set : !ctx->ops->lb_backend_del)) {
		reply_not_implemented(rep, body ? "changing balancer backends"
						: "removing balancer backends");
		return;
	}
	lb_be_format(&be, be_s, sizeof(be_s));
	if (body)
		err = ctx->ops->lb_backend_set(ctx->gw, svc, &be, &patch, &out);
	else
		err = ctx->ops->lb_backend_del(ctx->gw, svc, &be);
	if (!err && body)
		reply_json(rep, 200, out);
	else if (!err)
		rep->status = 204;
	else if (err == -ENOENT)
		reply_lb_not_found(ctx, svc, be_s, rep);
	else
		reply_gw_error(rep, err, body ? "changing the backend" : "removing the backend");
	json_decref(out);
}

static json_t *refused_json(const struct api_ctx *ctx)
{
	json_t *o = json_object();
	int i;

	for (i = API_OK + 1; o && i < API_REF__COUNT; i++) {
		if (json_object_set_new(o, refusal_names[i],
					json_integer((json_int_t)ctx->refused[i]))) {
			json_decref(o);
			o = NULL;
		}
	}
	return o;
}

static void stats(struct api_ctx *ctx, struct api_reply *rep)
{
	json_t *out = NULL, *api;
	int err = ctx->ops->stats(ctx->gw, &out);

	if (err) {
		reply_gw_error(rep, err, "reading the counters");
		return;
	}
	api = json_pack("{s:o*}", "refused", refused_json(ctx));
	if (!api || json_object_set_new(out, "api", api)) {
		reply_gw_error(rep, -ENOMEM, "reading the counters");
		json_decref(out);
		return;
	}
	reply_json(rep, 200, out);
	json_decref(out);
}

static void metrics(struct api_ctx *ctx, struct api_reply *rep)
{
	char *gw = NULL, *text = NULL, line[128];
	size_t size = 0;
	FILE *f;
	int i, err = ctx->ops->metrics(ctx->gw, &gw);

	if (err) {
		reply_gw_error(rep, err, "reading the counters");
		return;
	}
	f = open_memstream(&text, &size);
	if (!f) {
		free(gw);
		reply_gw_error(rep, -ENOMEM, "formatting the counters");
		return;
	}
	fputs(gw, f);
	fputs("# HELP capgate_api_refused_total Requests the REST API refused, by reason.\n"
	      "# TYPE capgate_api_refused_total counter\n",
	      f);
	for (i = API_OK + 1; i < API_REF__COUNT; i++) {
		snprintf(line, sizeof(line),
			 "capgate_api_refused_total{reason=\"%s\"} %" PRIu64 "\n", refusal_names[i],
			 ctx->refused[i]);
		fputs(line, f);
	}
	free(gw);
	if (fclose(f) || !text) {
		free(text);
		reply_gw_error(rep, -ENOMEM, "formatting the counters");
		return;
	}
	rep->status = 200;
	rep->ctype = "text/plain; version=0.0.4; charset=utf-8";
	rep->body = text;
	rep->len = size;
}

enum api_refusal api_check_auth(struct api_ctx *ctx, const char *method, const char *path,
				const char *authorization, struct api_reply *rep)
{
	uint8_t got[crypto_hash_sha256_BYTES];
	const char *tok, *why = NULL;

	if (!ctx->need_token ||
	    (ctx->metrics_public && !strcmp(method, "GET") && !strcmp(path, "/metrics")))
		return API_OK;
	/* RFC 6750 §2.1: the scheme is case-insensitive, then one or more spaces. */
	if (!authorization || strncasecmp(authorization, "Bearer ", 7)) {
		why = "this API needs a token: send Authorization: Bearer TOKEN (the token in the "
		      "gateway's api_token_file)";
	} else {
		for (tok = authorization + 7; *tok == ' '; tok++)
			;
		/* Equal-length digests: the time taken says nothing of the token or its length. */
		crypto_hash_sha256(got, (const unsigned char *)tok, strlen(tok));
		if (sodium_memcmp(got, ctx->token_sha256, sizeof(got)))
			why = "wrong token";
	}
	if (!why)
		return API_OK;
	memset(rep, 0, sizeof(*rep));
	reply_error(rep, 401, API_REF_UNAUTHORIZED, why, NULL);
	rep->challenge = true;
	ctx->refused[API_REF_UNAUTHORIZED]++;
	return API_REF_UNAUTHORIZED;
}

void api_handle(struct api_ctx *ctx, const char *method, const char *path, const char *body,
		size_t len, bool too_large, struct api_reply *rep)
{
	char msg[ERR_MAX], allow[sizeof(rep->allow)];
	struct api_match m;
	enum api_refusal why;

	memset(rep, 0, sizeof(*rep));
	why = api_route_match(method, path, &m, allow, sizeof(allow));
	if (why == API_REF_NOT_FOUND) {
		snprintf(msg, sizeof(msg), "no such path: %.*s", QUOTE_MAX, path);
		reply_error(rep, 404, why, msg, NULL);
		goto out;
	}
	if (why == API_REF_METHOD) {
		snprintf(msg, sizeof(msg), "method %.*s not allowed on %.*s (allowed: %s)",
			 QUOTE_MAX, method, QUOTE_MAX, path, allow);
		reply_error(rep, 405, why, msg, NULL);
		snprintf(rep->allow, sizeof(rep->allow), "%s", allow);
		goto out;
	}
	if (too_large) {
		snprintf(msg, sizeof(msg), "request body too large (limit %d bytes)", API_BODY_MAX);
		reply_error(rep, 413, API_REF_TOO_LARGE, msg, NULL);
		goto out;
	}
	switch (m.route) {
	case API_ROUTE_RULES_LIST:
		rules_list(ctx, rep);
		break;
	case API_ROUTE_RULE_ADD:
		rule_add(ctx, body, len, rep);
		break;
	case API_ROUTE_RULE_DEL:
		rule_del(ctx, &m, rep);
		break;
	case API_ROUTE_KNOCK_LIST:
		knock_list(ctx, rep);
		break;
	case API_ROUTE_KNOCK_CLOSE:
		knock_close(ctx, &m, rep);
		break;
	case API_ROUTE_STATS:
		stats(ctx, rep);
		break;
	case API_ROUTE_METRICS:
		metrics(ctx, rep);
		break;
	case API_ROUTE_SESSIONS_LIST:
		sessions_list(ctx, rep);
		break;
	case API_ROUTE_SESSION_REVOKE:
		session_revoke(ctx, &m, rep);
		break;
	case API_ROUTE_REVOCATIONS_LIST:
		revocations_list(ctx, rep);
		break;
	case API_ROUTE_REVOCATION_ADD:
		revocation_add(ctx, body, len, rep);
		break;
	case API_ROUTE_REVOCATION_DEL:
		revocation_del(ctx, &m, rep);
		break;
	case API_ROUTE_RELOAD:
		reload(ctx, rep);
		break;
	case API_ROUTE_DEVICES_LIST:
		devices_list(ctx, rep);
		break;
	case API_ROUTE_DEVICE_GROUPS_SET:
		device_groups(ctx, &m, body ? body : "", len, rep);
		break;
	case API_ROUTE_DEVICE_GROUPS_DEL:
		device_groups(ctx, &m, NULL, 0, rep);
		break;
	case API_ROUTE_LB_LIST:
		lb_list(ctx, rep);
		break;
	case API_ROUTE_LB_BACKEND_ADD:
		lb_backend_add(ctx, &m, body ? body : "", len, rep);
		break;
	case API_ROUTE_LB_BACKEND_SET:
		lb_backend_change(ctx, &m, body ? body : "", len, rep);
		break;
	case API_ROUTE_LB_BACKEND_DEL:
		lb_backend_change(ctx, &m, NULL, 0, rep);
		break;
	}
out:
	if (rep->refusal != API_OK && (unsigned int)rep->refusal < API_REF__COUNT)
		ctx->refused[rep->refusal]++;
}

void api_reply_free(struct api_reply *rep)
{
	if (!rep)
		return;
	free(rep->body);
	rep->body = NULL;
	rep->len = 0;
}
