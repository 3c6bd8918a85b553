// SPDX-License-Identifier: GPL-2.0
/* REST API: rule-body checks, routing, dispatch refusals, and a real server over real sockets. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "abi/fw.h"
#include "lib/api/api.h"
#include "lib/api/client.h"
#include "lib/api/routes.h"
#include "lib/base/endpoint.h"
#include "lib/datapath/fw.h"
#include "tests/lib/t.h"

/* ---- POST /v1/rules bodies ------------------------------------------------- */

static const struct {
	const char *body;
	enum api_refusal want;
	const char *msg; /* exact message, or NULL to check only the prefix below */
	const char *prefix;
} rule_bodies[] = {
	{ "", API_REF_BAD_JSON,
	  "request body is empty: want {\"cidr\":\"...\",\"action\":\"allow|drop\"}", NULL },
	{ "{", API_REF_BAD_JSON, NULL, "bad JSON at line 1, column " },
	{ "{\"cidr\":\"10.0.0.0/8\",}", API_REF_BAD_JSON, NULL, "bad JSON at line 1, column " },
	{ "{\"cidr\":\"10.0.0.0/8\",\"cidr\":\"10.0.0.0/8\",\"action\":\"drop\"}", API_REF_BAD_JSON,
	  NULL, "bad JSON at line 1, column " },
	{ "{\n\"cidr\": 10\n", API_REF_BAD_JSON, NULL, "bad JSON at line 3, column " },
	{ "[]", API_REF_NOT_OBJECT, "request body must be a JSON object, not an array", NULL },
	{ "\"10.0.0.0/8\"", API_REF_NOT_OBJECT, "request body must be a JSON object, not a string",
	  NULL },
	{ "42", API_REF_NOT_OBJECT, "request body must be a JSON object, not a number", NULL },
	{ "null", API_REF_NOT_OBJECT, "request body must be a JSON object, not null", NULL },
	{ "{}", API_REF_MISSING_FIELD, "missing field \"cidr\"", NULL },
	{ "{\"cidr\":\"10.0.0.0/8\"}", API_REF_MISSING_FIELD, "missing field \"action\"", NULL },
	{ "{\"action\":\"drop\"}", API_REF_MISSING_FIELD, "missing field \"cidr\"", NULL },
	{ "{\"cidr\":\"10.0.0.0/8\",\"action\":\"drop\",\"comment\":\"x\"}", API_REF_UNKNOWN_FIELD,
	  "unknown field \"comment\" (want cidr and action)", NULL },
	{ "{\"id\":3}", API_REF_UNKNOWN_FIELD, "unknown field \"id\" (want cidr and action)",
	  NULL },
	{ "{\"cidr\":10,\"action\":\"drop\"}", API_REF_WRONG_TYPE,
	  "field \"cidr\" must be a string, not a number", NULL },
	{ "{\"cidr\":\"10.0.0.0/8\",\"action\":true}", API_REF_WRONG_TYPE,
	  "field \"action\" must be a string, not a boolean", NULL },
	{ "{\"cidr\":[\"10.0.0.0/8\"],\"action\":\"drop\"}", API_REF_WRONG_TYPE,
	  "field \"cidr\" must be a string, not an array", NULL },
	{ "{\"cidr\":null,\"action\":\"drop\"}", API_REF_WRONG_TYPE,
	  "field \"cidr\" must be a string, not null", NULL },
	{ "{\"cidr\":\"10.0.0.1/8\",\"action\":\"drop\"}", API_REF_BAD_CIDR,
	  "bad cidr \"10.0.0.1/8\": host bits set beyond the prefix length", NULL },
	{ "{\"cidr\":\"10.0.0.0/33\",\"action\":\"drop\"}", API_REF_BAD_CIDR,
	  "bad cidr \"10.0.0.0/33\": prefix length above 32", NULL },
	{ "{\"cidr\":\"2001:db8::/129\",\"action\":\"drop\"}", API_REF_BAD_CIDR,
	  "bad cidr \"2001:db8::/129\": prefix length above 128", NULL },
	{ "{\"cidr\":\"\",\"action\":\"drop\"}", API_REF_BAD_CIDR, NULL, "bad cidr \"\": " },
	{ "{\"cidr\":\"example.com\",\"action\":\"drop\"}", API_REF_BAD_CIDR, NULL,
	  "bad cidr \"example.com\": " },
	{ "{\"cidr\":\"10.0.0.0/8\",\"action\":\"reject\"}", API_REF_BAD_ACTION,
	  "bad action \"reject\": want allow or drop", NULL },
	{ "{\"cidr\":\"10.0.0.0/8\",\"action\":\"\"}", API_REF_BAD_ACTION,
	  "bad action \"\": want allow or drop", NULL },
	{ "{\"cidr\":\"10.0.0.0/8\",\"action\":\"DROP\"}", API_REF_BAD_ACTION,
	  "bad action \"DROP\": want allow or drop", NULL },
};

static void test_rule_body_refusals(void)
{
	size_t i;

	for (i = 0; i < sizeof(rule_bodies) / sizeof(rule_bodies[0]); i++) {
		struct cidr c = { .plen = 99 };
		uint32_t act = 77;
		char err[320] = "";
		enum api_refusal r;

		r = api_parse_rule(rule_bodies[i].body, strlen(rule_bodies[i].body), &c, &act, err,
				   sizeof(err));
		ASSERT_EQ(r, rule_bodies[i].want, rule_bodies[i].body);
		if (rule_bodies[i].msg)
			ASSERT_STREQ(err, rule_bodies[i].msg, rule_bodies[i].body);
		else
			ASSERT_TRUE(
				!strncmp(err, rule_bodies[i].prefix, strlen(rule_bodies[i].prefix)),
				rule_bodies[i].body);
		/* out-params only on success */
		ASSERT_EQ(c.plen, 99, "cidr untouched");
		ASSERT_EQ(act, 77, "action untouched");
	}
}

static const struct {
	const char *body;
	uint8_t family, plen;
	uint32_t action;
} rule_ok[] = {
	{ "{\"cidr\":\"192.168.3.0/24\",\"action\":\"drop\"}", 2 /* AF_INET */, 24, FW_ACT_DROP },
	{ "{\"action\":\"allow\",\"cidr\":\"10.1.2.3\"}", 2, 32, FW_ACT_ALLOW },
	{ " { \"cidr\" : \"2001:db8::/32\" , \"action\" : \"drop\" } ", 10 /* AF_INET6 */, 32,
	  FW_ACT_DROP },
	{ "{\"cidr\":\"0.0.0.0/0\",\"action\":\"allow\"}", 2, 0, FW_ACT_ALLOW },
};

static void test_rule_body_ok(void)
{
	size_t i;

	for (i = 0; i < sizeof(rule_ok) / sizeof(rule_ok[0]); i++) {
		struct cidr c;
		uint32_t act;
		char err[320] = "";

		ASSERT_EQ(api_parse_rule(rule_ok[i].body, strlen(rule_ok[i].body), &c, &act, err,
					 sizeof(err)),
			  API_OK, rule_ok[i].body);
		ASSERT_EQ(c.family, rule_ok[i].family, rule_ok[i].body);
		ASSERT_EQ(c.plen, rule_ok[i].plen, rule_ok[i].body);
		ASSERT_EQ(act, rule_ok[i].action, rule_ok[i].body);
	}
}

/* A body with a NUL inside is judged on all its bytes, not up to the NUL. */
static void test_rule_body_nul(void)
{
	static const char body[] = "{\"cidr\":\"10.0.0.0/8\",\"action\":\"drop\"}\0garbage";
	struct cidr c;
	uint32_t act;
	char err[320];

	ASSERT_EQ(api_parse_rule(body, sizeof(body) - 1, &c, &act, err, sizeof(err)),
		  API_REF_BAD_JSON, "trailing bytes after NUL");
}

/* ---- path parameters ----------------------------------------------------- */

static const struct {
	const char *s;
	enum api_refusal want;
	uint32_t id;
} rule_ids[] = {
	{ "1", API_OK, 1 },	      { "4294967295", API_OK, 4294967295U },
	{ "0", API_REF_BAD_ID, 0 },   { "4294967296", API_REF_BAD_ID, 0 },
	{ "abc", API_REF_BAD_ID, 0 }, { "-1", API_REF_BAD_ID, 0 },
	{ "+1", API_REF_BAD_ID, 0 },  { " 1", API_REF_BAD_ID, 0 },
	{ "1x", API_REF_BAD_ID, 0 },  { "0x10", API_REF_BAD_ID, 0 },
	{ "", API_REF_BAD_ID, 0 },    { "123456789012345678901234567890", API_REF_BAD_ID, 0 },
};

static void test_rule_ids(void)
{
	size_t i;

	for (i = 0; i < sizeof(rule_ids) / sizeof(rule_ids[0]); i++) {
		uint32_t id = 0;
		char err[320] = "";

		ASSERT_EQ(api_parse_id("rule", rule_ids[i].s, strlen(rule_ids[i].s), &id, err,
				       sizeof(err)),
			  rule_ids[i].want, rule_ids[i].s);
		ASSERT_EQ(id, rule_ids[i].id, rule_ids[i].s);
	}
}

static void test_rule_id_message(void)
{
	uint32_t id;
	char err[320];

	api_parse_id("rule", "abc", 3, &id, err, sizeof(err));
	ASSERT_STREQ(err, "bad rule id \"abc\": want a number 1..4294967295", "message");
}

static const struct {
	const char *s;
	enum api_refusal want;
	uint8_t last; /* last byte of the 16-byte form */
} sources[] = {
	{ "10.0.0.2", API_OK, 2 },
	{ "2001:db8::7", API_OK, 7 },
	{ "::ffff:10.0.0.9", API_OK, 9 },
	{ "10.0.0.256", API_REF_BAD_ADDRESS, 0 },
	{ "10.0.0.0/8", API_REF_BAD_ADDRESS, 0 },
	{ "host", API_REF_BAD_ADDRESS, 0 },
	{ "", API_REF_BAD_ADDRESS, 0 },
	{ "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd:eeee:ffff",
	  API_REF_BAD_ADDRESS, 0 },
};

static void test_sources(void)
{
	size_t i;

	for (i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		uint8_t a[16] = { 0 };
		char err[320] = "";

		ASSERT_EQ(api_parse_source(sources[i].s, strlen(sources[i].s), a, err, sizeof(err)),
			  sources[i].want, sources[i].s);
		ASSERT_EQ(a[15], sources[i].last, sources[i].s);
	}
}

/* ---- router ---------------------------------------------------------------- */

static const struct {
	const char *method, *path;
	enum api_refusal want;
	enum api_route_id route;
	const char *param; /* NULL: none */
	const char *allow; /* on API_REF_METHOD */
} router[] = {
	{ "GET", "/v1/rules", API_OK, API_ROUTE_RULES_LIST, NULL, NULL },
	{ "POST", "/v1/rules", API_OK, API_ROUTE_RULE_ADD, NULL, NULL },
	{ "DELETE", "/v1/rules/7", API_OK, API_ROUTE_RULE_DEL, "7", NULL },
	{ "DELETE", "/v1/rules/abc", API_OK, API_ROUTE_RULE_DEL, "abc", NULL },
	{ "GET", "/v1/knock", API_OK, API_ROUTE_KNOCK_LIST, NULL, NULL },
	{ "DELETE", "/v1/knock/10.0.0.2", API_OK, API_ROUTE_KNOCK_CLOSE, "10.0.0.2", NULL },
	{ "DELETE", "/v1/knock/2001:db8::1", API_OK, API_ROUTE_KNOCK_CLOSE, "2001:db8::1", NULL },
	{ "GET", "/v1/stats", API_OK, API_ROUTE_STATS, NULL, NULL },
	{ "GET", "/metrics", API_OK, API_ROUTE_METRICS, NULL, NULL },
	{ "PUT", "/v1/rules", API_REF_METHOD, 0, NULL, "GET, POST" },
	{ "DELETE", "/v1/rules", API_REF_METHOD, 0, NULL, "GET, POST" },
	{ "GET", "/v1/rules/7", API_REF_METHOD, 0, NULL, "DELETE" },
	{ "POST", "/v1/knock", API_REF_METHOD, 0, NULL, "GET" },
	{ "GET", "/v1/knock/10.0.0.2", API_REF_METHOD, 0, NULL, "DELETE" },
	{ "POST", "/v1/stats", API_REF_METHOD, 0, NULL, "GET" },
	{ "DELETE", "/metrics", API_REF_METHOD, 0, NULL, "GET" },
	{ "get", "/v1/rules", API_REF_METHOD, 0, NULL, "GET, POST" },
	{ "GET", "/", API_REF_NOT_FOUND, 0, NULL, NULL },
	{ "GET", "", API_REF_NOT_FOUND, 0, NULL, NULL },
	{ "GET", "/v1", API_REF_NOT_FOUND, 0, NULL, NULL },
	{ "GET", "/v1/rules/", API_REF_NOT_FOUND, 0, NULL, NULL },
	{ "DELETE", "/v1/rules/", API_REF_NOT_FOUND, 0, NULL, NULL },
	{ "DELETE", "/v1/rules/7/x", API_REF_NOT_FOUND, 0, NULL, NULL },
	{ "GET", "/v1/rules/../stats", API_REF_NOT_FOUND, 0, NULL, NULL },
	{ "GET", "/v1/rulesx", API_REF_NOT_FOUND, 0, NULL, NULL },
	{ "GET", "/v1/stats/", API_REF_NOT_FOUND, 0, NULL, NULL },
	{ "GET", "/V1/RULES", API_REF_NOT_FOUND, 0, NULL, NULL },
	{ "GET", "/metricsx", API_REF_NOT_FOUND, 0, NULL, NULL },
	{ "GET", "/v2/rules", API_REF_NOT_FOUND, 0, NULL, NULL },
};

static void test_router(void)
{
	size_t i;

	for (i = 0; i < sizeof(router) / sizeof(router[0]); i++) {
		struct api_match m = { .route = 99 };
		char allow[32] = "", name[128];
		enum api_refusal r;

		snprintf(name, sizeof(name), "%s %s", router[i].method, router[i].path);
		r = api_route_match(router[i].method, router[i].path, &m, allow, sizeof(allow));
		if (!ASSERT_EQ(r, router[i].want, name))
			continue;
		if (r == API_REF_METHOD)
			ASSERT_STREQ(allow, router[i].allow, name);
		if (r != API_OK) {
			ASSERT_EQ(m.route, 99, "match untouched");
			continue;
		}
		ASSERT_EQ(m.route, router[i].route, name);
		if (router[i].param) {
			ASSERT_EQ(m.paramlen, strlen(router[i].param), name);
			ASSERT_TRUE(m.param && !strncmp(m.param, router[i].param, m.paramlen),
				    name);
		} else {
			ASSERT_TRUE(m.param == NULL, name);
		}
	}
}

/* A good POST /v1/revocations body: the strings, and NULL for what it leaves out. */
static void test_revocation_body(void)
{
	static const char body[] = "{\"device\":\"dev1\",\"app\":\"cam\",\"note\":\"lost\"}";
	struct api_revocation r;
	json_t *root = NULL;
	char err[320] = "";

	if (ASSERT_EQ(api_parse_revocation(body, strlen(body), &root, &r, err, sizeof(err)), API_OK,
		      err)) {
		ASSERT_STREQ(r.device, "dev1", "device");
		ASSERT_STREQ(r.app, "cam", "app");
		ASSERT_STREQ(r.note, "lost", "note");
		ASSERT_TRUE(r.serial == NULL, "no serial");
	}
	json_decref(root);
	if (ASSERT_EQ(
		    api_parse_revocation("{\"serial\":\"0A1b\"}", 17, &root, &r, err, sizeof(err)),
		    API_OK, err))
		ASSERT_TRUE(r.device == NULL && r.app == NULL && !strcmp(r.serial, "0A1b"),
			    "serial only");
	json_decref(root);
}

/* ---- dispatch without a gateway: every refusal that comes before its ops ---- */

static const struct {
	const char *method, *path, *body;
	bool too_large;
	unsigned int status;
	enum api_refusal why;
	const char *error;
	const char *allow;
} refusals[] = {
	{ "GET", "/nope", "", false, 404, API_REF_NOT_FOUND, "no such path: /nope", NULL },
	{ "PUT", "/v1/rules", "", false, 405, API_REF_METHOD,
	  "method PUT not allowed on /v1/rules (allowed: GET, POST)", "GET, POST" },
	{ "POST", "/v1/rules", "", true, 413, API_REF_TOO_LARGE,
	  "request body too large (limit 65536 bytes)", NULL },
	{ "POST", "/v1/rules", "{", false, 400, API_REF_BAD_JSON, NULL, NULL },
	{ "POST", "/v1/rules", "[1]", false, 400, API_REF_NOT_OBJECT,
	  "request body must be a JSON object, not an array", NULL },
	{ "POST", "/v1/rules", "{\"cidr\":\"10.0.0.0/8\"}", false, 400, API_REF_MISSING_FIELD,
	  "missing field \"action\"", NULL },
	{ "POST", "/v1/rules", "{\"cidr\":\"10.0.0.0/8\",\"action\":\"drop\",\"x\":1}", false, 400,
	  API_REF_UNKNOWN_FIELD, "unknown field \"x\" (want cidr and action)", NULL },
	{ "POST", "/v1/rules", "{\"cidr\":1,\"action\":\"drop\"}", false, 400, API_REF_WRONG_TYPE,
	  "field \"cidr\" must be a string, not a number", NULL },
	{ "POST", "/v1/rules", "{\"cidr\":\"10.0.0.1/8\",\"action\":\"drop\"}", false, 400,
	  API_REF_BAD_CIDR, "bad cidr \"10.0.0.1/8\": host bits set beyond the prefix length",
	  NULL },
	{ "POST", "/v1/rules", "{\"cidr\":\"10.0.0.0/8\",\"action\":\"deny\"}", false, 400,
	  API_REF_BAD_ACTION, "bad action \"deny\": want allow or drop", NULL },
	{ "DELETE", "/v1/rules/abc", "", false, 400, API_REF_BAD_ID,
	  "bad rule id \"abc\": want a number 1..4294967295", NULL },
	{ "DELETE", "/v1/rules/0", "", false, 400, API_REF_BAD_ID,
	  "bad rule id \"0\": want a number 1..4294967295", NULL },
	{ "DELETE", "/v1/knock/not-an-ip", "", false, 400, API_REF_BAD_ADDRESS,
	  "bad source address \"not-an-ip\": want an IPv4 or IPv6 address", NULL },
	{ "POST", "/v1/revocations", "{}", false, 400, API_REF_MISSING_FIELD,
	  "want either \"device\" or \"serial\": {\"device\":NAME[,\"app\":NAME]} or "
	  "{\"serial\":HEX}, [\"note\":TEXT]",
	  NULL },
	{ "POST", "/v1/revocations", "{\"device\":\"d\",\"serial\":\"0a\"}", false, 400,
	  API_REF_UNKNOWN_FIELD, NULL, NULL },
	{ "POST", "/v1/revocations", "{\"serial\":\"0a\",\"app\":\"cam\"}", false, 400,
	  API_REF_UNKNOWN_FIELD, NULL, NULL },
	{ "POST", "/v1/revocations", "{\"device\":\"a/b\"}", false, 400, API_REF_BAD_VALUE,
	  "bad device \"a/b\": 1..63 of A-Z a-z 0-9 _ . -", NULL },
	{ "POST", "/v1/revocations", "{\"device\":\"d\",\"app\":\"..\"}", false, 400,
	  API_REF_BAD_VALUE, "bad app \"..\": 1..63 of A-Z a-z 0-9 _ . -", NULL },
	{ "POST", "/v1/revocations", "{\"device\":7}", false, 400, API_REF_WRONG_TYPE,
	  "field \"device\" must be a string, not a number", NULL },
	{ "POST", "/v1/revocations", "{\"device\":\"d\",\"why\":\"x\"}", false, 400,
	  API_REF_UNKNOWN_FIELD, NULL, NULL },
	{ "DELETE", "/v1/revocations/x", "", false, 400, API_REF_BAD_ID,
	  "bad revocation id \"x\": want a number 1..4294967295", NULL },
	{ "PUT", "/v1/devices/dev1/groups", "{\"groups\":\"a\"}", false, 400, API_REF_WRONG_TYPE,
	  "field \"groups\" must be an array, not a string", NULL },
	{ "PUT", "/v1/devices/dev1/groups", "{\"groups\":[\"a\",2]}", false, 400,
	  API_REF_WRONG_TYPE, "group 2 must be a string, not a number", NULL },
	{ "PUT", "/v1/devices/dev1/groups", "{\"groups\":[\"a b\"]}", false, 400, API_REF_BAD_VALUE,
	  "bad group \"a b\": 1..63 of A-Z a-z 0-9 _ . -", NULL },
	{ "PUT", "/v1/devices/dev1/groups", "{}", false, 400, API_REF_MISSING_FIELD,
	  "missing field \"groups\"", NULL },
	{ "PUT", "/v1/devices/../groups", "{\"groups\":[]}", false, 400, API_REF_BAD_VALUE,
	  "bad device \"..\": 1..63 of A-Z a-z 0-9 _ . -", NULL },
	{ "POST", "/v1/devices/dev1/groups", "", false, 405, API_REF_METHOD,
	  "method POST not allowed on /v1/devices/dev1/groups (allowed: PUT, DELETE)",
	  "PUT, DELETE" },
	{ "GET", "/v1/devices/dev1", "", false, 404, API_REF_NOT_FOUND,
	  "no such path: /v1/devices/dev1", NULL },
	{ "GET", "/v1/devices//groups", "", false, 404, API_REF_NOT_FOUND,
	  "no such path: /v1/devices//groups", NULL },
	{ "GET", "/v1/reload", "", false, 405, API_REF_METHOD,
	  "method GET not allowed on /v1/reload (allowed: POST)", "POST" },
};

static void test_dispatch_refusals(void)
{
	struct api_ctx ctx = { .gw = NULL };
	size_t i;

	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		struct api_reply rep;
		json_t *j;
		char name[128];
		uint64_t before = ctx.refused[refusals[i].why];

		snprintf(name, sizeof(name), "%s %s %s", refusals[i].method, refusals[i].path,
			 refusals[i].body);
		api_handle(&ctx, refusals[i].method, refusals[i].path, refusals[i].body,
			   strlen(refusals[i].body), refusals[i].too_large, &rep);
		ASSERT_EQ(rep.status, refusals[i].status, name);
		ASSERT_EQ(rep.refusal, refusals[i].why, name);
		ASSERT_EQ(ctx.refused[refusals[i].why], before + 1, "counted");
		ASSERT_STREQ(rep.ctype, "application/json", name);
		ASSERT_STREQ(rep.allow, refusals[i].allow ? refusals[i].allow : "", name);
		j = json_loadb(rep.body, rep.len, 0, NULL);
		ASSERT_TRUE(json_is_string(json_object_get(j, "error")), name);
		if (refusals[i].error)
			ASSERT_STREQ(json_string_value(json_object_get(j, "error")),
				     refusals[i].error, name);
		json_decref(j);
		api_reply_free(&rep);
	}
	ASSERT_EQ(ctx.refused[API_OK], 0, "API_OK never counted");
	ASSERT_EQ(ctx.refused[API_REF_NOT_FOUND], 3, "three not_found");
}

static void test_refusal_names(void)
{
	int i, j;

	ASSERT_STREQ(api_refusal_name(API_REF_BAD_JSON), "bad_json", "bad_json");
	ASSERT_STREQ(api_refusal_name(API_REF_METHOD), "method_not_allowed", "405");
	ASSERT_STREQ(api_refusal_name(API_REF__COUNT), "unknown", "out of range");
	for (i = 0; i < API_REF__COUNT; i++) {
		ASSERT_TRUE(api_refusal_name(i) != NULL, "named");
		for (j = 0; j < i; j++)
			ASSERT_TRUE(strcmp(api_refusal_name(i), api_refusal_name(j)), "unique");
	}
}

/* ---- addresses ---------------------------------------------------------------- */

static const struct {
	const char *s;
	int ret, family;
	unsigned int port;
} endpoints[] = {
	{ "127.0.0.1:7070", 0, AF_INET, 7070 },
	{ "0.0.0.0:0", 0, AF_INET, 0 },
	{ "[::1]:7070", 0, AF_INET6, 7070 },
	{ "[2001:db8::1]:65535", 0, AF_INET6, 65535 },
	{ "unix:/run/capgate.sock", 0, AF_UNIX, 0 },
	{ "unix:relative.sock", -EINVAL, 0, 0 },
	{ "unix:", -EINVAL, 0, 0 },
	{ "127.0.0.1", -EINVAL, 0, 0 },
	{ "127.0.0.1:", -EINVAL, 0, 0 },
	{ "127.0.0.1:65536", -EINVAL, 0, 0 },
	{ "127.0.0.1:-1", -EINVAL, 0, 0 },
	{ "127.0.0.1:70x", -EINVAL, 0, 0 },
	{ "localhost:7070", -EINVAL, 0, 0 },
	{ "::1:7070", -EINVAL, 0, 0 },
	{ "[::1]7070", -EINVAL, 0, 0 },
	{ "[::1", -EINVAL, 0, 0 },
	{ "[10.0.0.1]:7070", -EINVAL, 0, 0 },
	{ ":7070", -EINVAL, 0, 0 },
	{ "", -EINVAL, 0, 0 },
};

static void test_endpoints(void)
{
	size_t i;

	for (i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
		struct endpoint e = { .family = -1 };
		char err[256] = "";
		int ret = endpoint_parse(endpoints[i].s, &e, err, sizeof(err));

		ASSERT_EQ(ret, endpoints[i].ret, endpoints[i].s);
		if (ret) {
			ASSERT_EQ(e.family, -1, "untouched");
			ASSERT_TRUE(strstr(err, "bad API address") != NULL, endpoints[i].s);
			continue;
		}
		ASSERT_EQ(e.family, endpoints[i].family, endpoints[i].s);
		ASSERT_EQ(e.port, endpoints[i].port, endpoints[i].s);
	}
}

/* ---- a real server over real sockets ---------------------------------------- */

struct call {
	const char *addr, *method, *path, *body;
	long status;
	char *resp;
	int ret;
	char err[512];
	atomic_int done;
};

static void *client_thread(void *arg)
{
	struct call *c = arg;

	c->ret = api_request(c->addr, c->method, c->path, c->body, &c->status, &c->resp, c->err,
			     sizeof(c->err));
	atomic_store(&c->done, 1);
	return NULL;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs one request from a client thread while this thread serves, as the daemon's loop does. */
static bool serve_one(struct api *a, struct call *c)
{
	int64_t deadline = now_ms() + 8000;
	pthread_t t;

	atomic_store(&c->done, 0);
	c->resp = NULL;
	if (pthread_create(&t, NULL, client_thread, c))
		return false;
	while (!atomic_load(&c->done) && now_ms() < deadline) {
		struct pollfd p = { .fd = api_fd(a), .events = POLLIN };
		int tmo = api_timeout_ms(a);

		if (tmo < 0 || tmo > 20)
			tmo = 20;
		poll(&p, 1, tmo);
		api_process(a);
	}
	pthread_join(t, NULL);
	return atomic_load(&c->done);
}

static const struct {
	const char *method, *path, *body;
	long status;
	const char *error; /* NULL: only check that "error" is there */
} wire[] = {
	{ "GET", "/nope", NULL, 404, "no such path: /nope" },
	{ "PATCH", "/v1/knock?x=1", NULL, 405,
	  "method PATCH not allowed on /v1/knock (allowed: GET)" },
	{ "PUT", "/v1/rules", "{}", 405,
	  "method PUT not allowed on /v1/rules (allowed: GET, POST)" },
	{ "POST", "/v1/rules", "{\"cidr\":", 400, NULL },
	{ "POST", "/v1/rules", "{\"cidr\":\"10.0.0.0/8\",\"action\":\"nope\"}", 400,
	  "bad action \"nope\": want allow or drop" },
	{ "POST", "/v1/rules", "{\"cidr\":\"10.0.0.0/8\",\"action\":\"drop\",\"x\":1}", 400,
	  "unknown field \"x\" (want cidr and action)" },
	{ "DELETE", "/v1/rules/abc", NULL, 400,
	  "bad rule id \"abc\": want a number 1..4294967295" },
	{ "DELETE", "/v1/knock/10.0.0.300", NULL, 400,
	  "bad source address \"10.0.0.300\": want an IPv4 or IPv6 address" },
	{ "DELETE", "/v1/knock/%31%30.0.0.300", NULL, 400,
	  "bad source address \"10.0.0.300\": want an IPv4 or IPv6 address" },
	{ "BREW", "/metrics", NULL, 405, NULL },
};

static void run_wire(const char *addr_in)
{
	char err[256] = "", addr[160];
	struct api *a;
	size_t i;

	a = api_new(NULL, NULL, addr_in, err, sizeof(err));
	if (!ASSERT_TRUE(a != NULL, err))
		return;
	api_local_addr(a, addr, sizeof(addr));
	ASSERT_TRUE(api_fd(a) >= 0, "api_fd");
	for (i = 0; i < sizeof(wire) / sizeof(wire[0]); i++) {
		struct call c = { .addr = addr,
				  .method = wire[i].method,
				  .path = wire[i].path,
				  .body = wire[i].body };
		char name[320];
		json_t *j;

		snprintf(name, sizeof(name), "%s %s %s", addr, wire[i].method, wire[i].path);
		if (!ASSERT_TRUE(serve_one(a, &c), name))
			break;
		if (!ASSERT_EQ(c.ret, 0, c.err))
			continue;
		ASSERT_EQ(c.status, wire[i].status, name);
		j = json_loads(c.resp, 0, NULL);
		ASSERT_TRUE(json_is_string(json_object_get(j, "error")), name);
		if (wire[i].error)
			ASSERT_STREQ(json_string_value(json_object_get(j, "error")), wire[i].error,
				     name);
		json_decref(j);
		free(c.resp);
	}
	api_free(a);
}

static void test_wire_tcp(void)
{
	run_wire("127.0.0.1:0");
}

static void test_wire_tcp6(void)
{
	int fd = socket(AF_INET6, SOCK_STREAM, 0);

	if (fd < 0) {
		T_SKIP("no IPv6");
		return;
	}
	close(fd);
	run_wire("[::1]:0");
}

static char tmpdir[64];

static const char *mktmp(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_api.XXXXXX");
	return mkdtemp(tmpdir);
}

static void test_wire_unix(void)
{
	char addr[128], path[96];
	struct stat st;
	struct api *a;
	char err[256] = "";

	if (!ASSERT_TRUE(mktmp() != NULL, "mkdtemp"))
		return;
	snprintf(path, sizeof(path), "%s/api.sock", tmpdir);
	snprintf(addr, sizeof(addr), "unix:%s", path);
	run_wire(addr);
	ASSERT_EQ(access(path, F_OK), -1, "socket removed by api_free");

	a = api_new(NULL, NULL, addr, err, sizeof(err));
	if (ASSERT_TRUE(a != NULL, err)) {
		ASSERT_EQ(stat(path, &st), 0, "socket exists");
		ASSERT_TRUE(S_ISSOCK(st.st_mode), "is a socket");
		ASSERT_EQ(st.st_mode & 0777, 0600, "mode 0600");
	}
	api_free(a);
	rmdir(tmpdir);
}

/* A body over the cap is read, dropped and answered with 413. */
static void test_wire_too_large(void)
{
	struct call c = { .addr = NULL, .method = "POST", .path = "/v1/rules" };
	char err[256] = "", addr[160];
	size_t n = API_BODY_MAX + 4096;
	char *big = malloc(n + 1);
	struct api *a;
	json_t *j;

	if (!ASSERT_TRUE(big != NULL, "malloc"))
		return;
	memset(big, ' ', n);
	big[n] = '\0';
	a = api_new(NULL, NULL, "127.0.0.1:0", err, sizeof(err));
	if (!ASSERT_TRUE(a != NULL, err))
		goto out;
	api_local_addr(a, addr, sizeof(addr));
	c.addr = addr;
	c.body = big;
	if (ASSERT_TRUE(serve_one(a, &c), "served") && ASSERT_EQ(c.ret, 0, c.err)) {
		ASSERT_EQ(c.status, 413, "413");
		j = json_loads(c.resp, 0, NULL);
		ASSERT_STREQ(json_string_value(json_object_get(j, "error")),
			     "request body too large (limit 65536 bytes)", "message");
		json_decref(j);
	}
	free(c.resp);

	/* exactly at the cap is read whole (and refused for its content) */
	big[API_BODY_MAX] = '\0';
	c.resp = NULL;
	if (ASSERT_TRUE(serve_one(a, &c), "served") && ASSERT_EQ(c.ret, 0, c.err))
		ASSERT_EQ(c.status, 400, "64 KiB of spaces is bad JSON, not too large");
	free(c.resp);
out:
	api_free(a);
	free(big);
}

static void test_new_errors(void)
{
	char err[256] = "", addr[160], path[96];
	struct api *a, *b;
	int fd;

	errno = 0;
	ASSERT_TRUE(api_new(NULL, NULL, "localhost:7070", err, sizeof(err)) == NULL, "name");
	ASSERT_EQ(errno, EINVAL, "bad address errno");
	ASSERT_TRUE(strstr(err, "bad API address") != NULL, err);

	a = api_new(NULL, NULL, "127.0.0.1:0", err, sizeof(err));
	if (!ASSERT_TRUE(a != NULL, err))
		return;
	api_local_addr(a, addr, sizeof(addr));
	errno = 0;
	b = api_new(NULL, NULL, addr, err, sizeof(err));
	ASSERT_TRUE(b == NULL, "second server on the same port");
	ASSERT_EQ(errno, EADDRINUSE, "EADDRINUSE");
	ASSERT_TRUE(strstr(err, "Address already in use") != NULL, err);
	api_free(b);
	api_free(a);

	if (!ASSERT_TRUE(mktmp() != NULL, "mkdtemp"))
		return;
	/* a live unix socket is not taken over */
	snprintf(path, sizeof(path), "%s/api.sock", tmpdir);
	snprintf(addr, sizeof(addr), "unix:%s", path);
	a = api_new(NULL, NULL, addr, err, sizeof(err));
	ASSERT_TRUE(a != NULL, err);
	errno = 0;
	b = api_new(NULL, NULL, addr, err, sizeof(err));
	ASSERT_TRUE(b == NULL, "live socket");
	ASSERT_EQ(errno, EADDRINUSE, "live socket errno");
	api_free(b);
	api_free(a);

	/* a stale one (nobody listening) is replaced */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (ASSERT_TRUE(fd >= 0, "socket")) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
		ASSERT_EQ(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0, "stale bind");
		close(fd);
		a = api_new(NULL, NULL, addr, err, sizeof(err));
		ASSERT_TRUE(a != NULL, err);
		api_free(a);
	}

	/* a regular file is not removed */
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	if (ASSERT_TRUE(fd >= 0, "file")) {
		close(fd);
		errno = 0;
		ASSERT_TRUE(api_new(NULL, NULL, addr, err, sizeof(err)) == NULL, "not a socket");
		ASSERT_EQ(errno, EEXIST, "EEXIST");
		ASSERT_EQ(access(path, F_OK), 0, "file kept");
		unlink(path);
	}
	rmdir(tmpdir);
}

static void test_client_unreachable(void)
{
	char err[512] = "", *resp = (char *)"x";
	long status = -5;
	int fd, ret;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t len = sizeof(sin);
	char addr[64];

	/* a port that was free a moment ago: bound, never listened on */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (!ASSERT_TRUE(fd >= 0, "socket"))
		return;
	bind(fd, (struct sockaddr *)&sin, sizeof(sin));
	getsockname(fd, (struct sockaddr *)&sin, &len);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(sin.sin_port));
	ret = api_request(addr, "GET", "/v1/rules", NULL, &status, &resp, err, sizeof(err));
	close(fd);
	ASSERT_EQ(ret, -ECONNREFUSED, "refused");
	ASSERT_TRUE(!strncmp(err, "cannot reach the capgate API at 127.0.0.1:", 42), err);
	ASSERT_EQ(status, -5, "status untouched");
	ASSERT_STREQ(resp, "x", "resp untouched");

	ret = api_request("unix:/nonexistent/capgate.sock", "GET", "/v1/rules", NULL, &status,
			  &resp, err, sizeof(err));
	ASSERT_EQ(ret, -ENOENT, "no socket");
	ASSERT_STREQ(err,
		     "cannot reach the capgate API at unix:/nonexistent/capgate.sock: No such file "
		     "or directory",
		     "unix message");

	ret = api_request("nowhere", "GET", "/v1/rules", NULL, &status, &resp, err, sizeof(err));
	ASSERT_EQ(ret, -EINVAL, "bad address");
}

T_MAIN(T_CASE(test_revocation_body), T_CASE(test_rule_body_refusals), T_CASE(test_rule_body_ok),
       T_CASE(test_rule_body_nul), T_CASE(test_rule_ids), T_CASE(test_rule_id_message),
       T_CASE(test_sources), T_CASE(test_router), T_CASE(test_dispatch_refusals),
       T_CASE(test_refusal_names), T_CASE(test_endpoints), T_CASE(test_wire_tcp),
       T_CASE(test_wire_tcp6), T_CASE(test_wire_unix), T_CASE(test_wire_too_large),
       T_CASE(test_new_errors), T_CASE(test_client_unreachable))
