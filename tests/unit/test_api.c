// SPDX-License-Identifier: GPL-2.0
/* REST API: rule-body checks, routing, refusals, a real server over real sockets, its access. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
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
#include "lib/api/token.h"
#include "lib/base/endpoint.h"
#include "lib/datapath/fw.h"
#include "tests/lib/lb_stub.h"
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
	/* What a message quotes is not always UTF-8: the bytes become '?', the reason stays. */
	{ "GET", "/v1/\xff\x96", "", false, 404, API_REF_NOT_FOUND, "no such path: /v1/??", NULL },
	{ "POST", "/v1/rules",
	  "{\"cidr\":\"10.0.0.0/8\",\"action\":\"x"
	  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}",
	  false, 400, API_REF_BAD_ACTION, NULL, NULL },
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
	ASSERT_EQ(ctx.refused[API_REF_NOT_FOUND], 4, "four not_found");
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

static char tmpdir[64];

static const char *mktmp(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_api.XXXXXX");
	return mkdtemp(tmpdir);
}

/* A stand-in daemon: a rule count the API can read and add to, and counters. */
struct stub {
	int rules;
	int adds;
};

static int stub_rules_list(struct gateway *gw, json_t **out)
{
	struct stub *st = (struct stub *)gw;
	json_t *a = json_array();
	int i;

	for (i = 0; a && i < st->rules; i++)
		json_array_append_new(a, json_pack("{s:i}", "id", i + 1));
	*out = a;
	return a ? 0 : -ENOMEM;
}

static int stub_rule_add(struct gateway *gw, const struct cidr *c, uint32_t action, json_t **out)
{
	struct stub *st = (struct stub *)gw;

	(void)c;
	(void)action;
	st->adds++;
	st->rules++;
	*out = json_pack("{s:i}", "id", st->rules);
	return *out ? 0 : -ENOMEM;
}

static int stub_stats(struct gateway *gw, json_t **out)
{
	(void)gw;
	*out = json_object();
	return *out ? 0 : -ENOMEM;
}

static int stub_metrics(struct gateway *gw, char **out)
{
	(void)gw;
	*out = strdup("# stub\n");
	return *out ? 0 : -ENOMEM;
}

static const struct api_ops stub_ops = {
	.rules_list = stub_rules_list,
	.rule_add = stub_rule_add,
	.stats = stub_stats,
	.metrics = stub_metrics,
};

struct call {
	const char *addr, *token, *method, *path, *body;
	const char *raw; /* instead: this request text, as is, over TCP to addr */
	long status;
	char *resp;
	int ret;
	char err[512];
	atomic_int done;
};

/* Sends c->raw to the TCP address c->addr and reads the answer until the server closes. */
static int raw_request(struct call *c)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct endpoint ep;
	size_t n = 0, cap = 65536;
	ssize_t r;
	int fd, ret = -EIO;

	if (endpoint_parse(c->addr, &ep, c->err, sizeof(c->err)) || ep.family != AF_INET)
		return -EINVAL;
	memcpy(&sin.sin_addr, ep.addr, 4);
	sin.sin_port = htons(ep.port);
	c->resp = calloc(1, cap + 1);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!c->resp || fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    write(fd, c->raw, strlen(c->raw)) != (ssize_t)strlen(c->raw))
		goto out;
	while (n < cap && (r = read(fd, c->resp + n, cap - n)) > 0)
		n += (size_t)r;
	if (sscanf(c->resp, "HTTP/1.1 %ld", &c->status) == 1)
		ret = 0;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

static void *client_thread(void *arg)
{
	struct call *c = arg;

	if (c->raw)
		c->ret = raw_request(c);
	else
		c->ret = api_request(c->addr, c->token, c->method, c->path, c->body, &c->status,
				     &c->resp, c->err, sizeof(c->err));
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

/* A new token file in tmpdir and its token. */
static bool make_token(const char *name, char *path, size_t len, char tok[API_TOKEN_MAX + 1])
{
	char err[256] = "";

	snprintf(path, len, "%s/%s", tmpdir, name);
	return ASSERT_EQ(api_token_new(path, false, err, sizeof(err)), 0, err) &&
	       ASSERT_EQ(api_token_read(path, tok, err, sizeof(err)), 0, err);
}

/* A server on addr (a TCP one gets a token file, its token in tok) over ops and gw. */
static struct api *open_api(const char *addr, bool metrics_public, const struct api_ops *ops,
			    struct gateway *gw, char tok[API_TOKEN_MAX + 1], char *local,
			    size_t len)
{
	char err[512] = "", tfile[128] = "";
	struct api *a;

	tok[0] = '\0';
	if (strncmp(addr, "unix:", 5) && !make_token("api.token", tfile, sizeof(tfile), tok))
		return NULL;
	a = api_new(ops, gw,
		    &(struct api_conf){
			    .addr = addr, .token_file = tfile, .metrics_public = metrics_public },
		    err, sizeof(err));
	unlink(tfile);
	if (!ASSERT_TRUE(a != NULL, err))
		return NULL;
	api_local_addr(a, local, len);
	return a;
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
	char addr[160], tok[API_TOKEN_MAX + 1];
	struct api *a;
	size_t i;

	a = open_api(addr_in, false, NULL, NULL, tok, addr, sizeof(addr));
	if (!a)
		return;
	ASSERT_TRUE(api_fd(a) >= 0, "api_fd");
	for (i = 0; i < sizeof(wire) / sizeof(wire[0]); i++) {
		struct call c = { .addr = addr,
				  .token = tok[0] ? tok : NULL,
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
	if (ASSERT_TRUE(mktmp() != NULL, "mkdtemp"))
		run_wire("127.0.0.1:0");
	rmdir(tmpdir);
}

static void test_wire_tcp6(void)
{
	int fd = socket(AF_INET6, SOCK_STREAM, 0);

	if (fd < 0) {
		T_SKIP("no IPv6");
		return;
	}
	close(fd);
	if (ASSERT_TRUE(mktmp() != NULL, "mkdtemp"))
		run_wire("[::1]:0");
	rmdir(tmpdir);
}

static int sock_mode(const char *path, gid_t *gid)
{
	struct stat st;

	if (lstat(path, &st) || !S_ISSOCK(st.st_mode))
		return -1;
	if (gid)
		*gid = st.st_gid;
	return (int)(st.st_mode & 07777);
}

static void test_wire_unix(void)
{
	char addr[128], path[96];

	if (!ASSERT_TRUE(mktmp() != NULL, "mkdtemp"))
		return;
	snprintf(path, sizeof(path), "%s/api.sock", tmpdir);
	snprintf(addr, sizeof(addr), "unix:%s", path);
	run_wire(addr);
	ASSERT_EQ(access(path, F_OK), -1, "socket removed by api_free");
	rmdir(tmpdir);
}

/* A body over the cap is read, dropped and answered with 413. */
static void test_wire_too_large(void)
{
	struct call c = { .addr = NULL, .method = "POST", .path = "/v1/rules" };
	char addr[160], tok[API_TOKEN_MAX + 1];
	size_t n = API_BODY_MAX + 4096;
	char *big = malloc(n + 1);
	struct api *a = NULL;
	json_t *j;

	if (!ASSERT_TRUE(big != NULL, "malloc") || !ASSERT_TRUE(mktmp() != NULL, "mkdtemp"))
		goto out;
	memset(big, ' ', n);
	big[n] = '\0';
	a = open_api("127.0.0.1:0", false, NULL, NULL, tok, addr, sizeof(addr));
	if (!a)
		goto out;
	c.addr = addr;
	c.token = tok;
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
	rmdir(tmpdir);
	free(big);
}

/* ---- access control ------------------------------------------------------------ */

enum tok_kind { TOK_NONE, TOK_RIGHT, TOK_WRONG, TOK_PREFIX, TOK_LONGER, TOK_EMPTY };

#define RULE "{\"cidr\":\"10.0.0.0/8\",\"action\":\"drop\"}"

static const struct {
	const char *method, *path, *body;
	enum tok_kind tok;
	long status;
} tcp_auth[] = {
	{ "GET", "/v1/rules", NULL, TOK_NONE, 401 },
	{ "GET", "/v1/rules", NULL, TOK_WRONG, 401 },
	{ "GET", "/v1/rules", NULL, TOK_PREFIX, 401 },
	{ "GET", "/v1/rules", NULL, TOK_LONGER, 401 },
	{ "GET", "/v1/rules", NULL, TOK_EMPTY, 401 },
	{ "POST", "/v1/rules", RULE, TOK_NONE, 401 },
	{ "POST", "/v1/rules", RULE, TOK_WRONG, 401 },
	{ "POST", "/v1/rules", RULE, TOK_PREFIX, 401 },
	{ "GET", "/nope", NULL, TOK_NONE, 401 }, /* not 404: nothing to learn without it */
	{ "GET", "/metrics", NULL, TOK_NONE, 401 },
	{ "GET", "/v1/rules", NULL, TOK_RIGHT, 200 },
	{ "GET", "/nope", NULL, TOK_RIGHT, 404 },
	{ "GET", "/metrics", NULL, TOK_RIGHT, 200 },
};

/* The token of kind k, built from the right one into buf. */
static const char *token_of(enum tok_kind k, const char *right, char *buf, size_t len)
{
	size_t n = strlen(right);

	switch (k) {
	case TOK_NONE:
		return NULL;
	case TOK_RIGHT:
		return right;
	case TOK_WRONG: /* same length, last character changed */
		snprintf(buf, len, "%s", right);
		buf[n - 1] = buf[n - 1] == '0' ? '1' : '0';
		return buf;
	case TOK_PREFIX:
		snprintf(buf, len, "%.*s", (int)n - 1, right);
		return buf;
	case TOK_LONGER:
		snprintf(buf, len, "%s0", right);
		return buf;
	case TOK_EMPTY:
		return "";
	}
	return NULL;
}

/* One request with token kind k; the status, or -1. The body goes to *resp if resp. */
static long ask(struct api *a, const char *addr, const char *right, enum tok_kind k,
		const char *method, const char *path, const char *body, char **resp)
{
	char buf[API_TOKEN_MAX + 2];
	struct call c = { .addr = addr,
			  .token = token_of(k, right, buf, sizeof(buf)),
			  .method = method,
			  .path = path,
			  .body = body };
	long status = -1;

	if (serve_one(a, &c) && ASSERT_EQ(c.ret, 0, c.err))
		status = c.status;
	if (resp)
		*resp = c.resp;
	else
		free(c.resp);
	return status;
}

static long long unauthorized_count(struct api *a, const char *addr, const char *tok)
{
	char *resp = NULL;
	json_t *j;
	long long n = -1;

	if (ask(a, addr, tok, TOK_RIGHT, "GET", "/v1/stats", NULL, &resp) == 200) {
		j = json_loads(resp, 0, NULL);
		n = json_integer_value(json_object_get(
			json_object_get(json_object_get(j, "api"), "refused"), "unauthorized"));
		json_decref(j);
	}
	free(resp);
	return n;
}

/* Over TCP every request needs the token; a refused one changes nothing and is counted. */
static void test_tcp_token(void)
{
	char addr[160], tok[API_TOKEN_MAX + 1], name[320], raw[512], *resp = NULL;
	struct stub st = { 0 };
	struct api *a;
	long long refused = 0;
	size_t i;

	if (!ASSERT_TRUE(mktmp() != NULL, "mkdtemp"))
		return;
	a = open_api("127.0.0.1:0", false, &stub_ops, (struct gateway *)&st, tok, addr,
		     sizeof(addr));
	if (!a)
		goto out;
	ASSERT_EQ(strlen(tok), 2 * API_TOKEN_BYTES, "token new: 64 hex characters");
	for (i = 0; i < sizeof(tcp_auth) / sizeof(tcp_auth[0]); i++) {
		snprintf(name, sizeof(name), "%s %s token kind %d", tcp_auth[i].method,
			 tcp_auth[i].path, tcp_auth[i].tok);
		ASSERT_EQ(ask(a, addr, tok, tcp_auth[i].tok, tcp_auth[i].method, tcp_auth[i].path,
			      tcp_auth[i].body, NULL),
			  tcp_auth[i].status, name);
		refused += tcp_auth[i].status == 401;
	}
	ASSERT_EQ(st.adds, 0, "a refused POST /v1/rules added nothing");
	ASSERT_EQ(ask(a, addr, tok, TOK_RIGHT, "GET", "/v1/rules", NULL, &resp), 200, "list");
	ASSERT_STREQ(resp, "[]", "rules unchanged");
	free(resp);
	ASSERT_EQ(unauthorized_count(a, addr, tok), refused, "api.refused.unauthorized");
	ASSERT_EQ(ask(a, addr, tok, TOK_RIGHT, "GET", "/metrics", NULL, &resp), 200, "metrics");
	snprintf(name, sizeof(name), "capgate_api_refused_total{reason=\"unauthorized\"} %lld\n",
		 refused);
	ASSERT_TRUE(resp && strstr(resp, name), name);
	free(resp);
	ASSERT_EQ(ask(a, addr, tok, TOK_RIGHT, "POST", "/v1/rules", RULE, NULL), 201, "with it");
	ASSERT_EQ(st.adds, 1, "added with the token");

	/* The challenge header, and the scheme's case does not matter (RFC 7235). */
	snprintf(raw, sizeof(raw),
		 "GET /v1/rules HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	{
		struct call c = { .addr = addr, .raw = raw };

		if (serve_one(a, &c) && ASSERT_EQ(c.ret, 0, "raw request")) {
			ASSERT_EQ(c.status, 401, "raw 401");
			ASSERT_TRUE(strstr(c.resp, "\r\nWWW-Authenticate: Bearer") != NULL,
				    "WWW-Authenticate: Bearer");
			ASSERT_TRUE(strstr(c.resp, "\"error\"") != NULL, "JSON error");
		}
		free(c.resp);
	}
	snprintf(raw, sizeof(raw),
		 "GET /v1/rules HTTP/1.1\r\nHost: x\r\nauthorization: bEaReR  %s\r\n"
		 "Connection: close\r\n\r\n",
		 tok);
	{
		struct call c = { .addr = addr, .raw = raw };

		if (serve_one(a, &c) && ASSERT_EQ(c.ret, 0, "raw request"))
			ASSERT_EQ(c.status, 200, "scheme in any case, spaces after it");
		free(c.resp);
	}
	api_free(a);
out:
	rmdir(tmpdir);
}

/* metrics_public opens GET /metrics alone. */
static void test_metrics_public(void)
{
	char addr[160], tok[API_TOKEN_MAX + 1];
	struct stub st = { 0 };
	struct api *a;

	if (!ASSERT_TRUE(mktmp() != NULL, "mkdtemp"))
		return;
	a = open_api("127.0.0.1:0", true, &stub_ops, (struct gateway *)&st, tok, addr,
		     sizeof(addr));
	if (a) {
		ASSERT_EQ(ask(a, addr, tok, TOK_NONE, "GET", "/metrics", NULL, NULL), 200,
			  "GET /metrics without a token");
		ASSERT_EQ(ask(a, addr, tok, TOK_WRONG, "GET", "/metrics", NULL, NULL), 200,
			  "GET /metrics, a token not even looked at");
		ASSERT_EQ(ask(a, addr, tok, TOK_NONE, "GET", "/v1/stats", NULL, NULL), 401,
			  "the rest still needs it");
		ASSERT_EQ(ask(a, addr, tok, TOK_NONE, "POST", "/v1/rules", RULE, NULL), 401,
			  "POST still needs it");
		ASSERT_EQ(ask(a, addr, tok, TOK_NONE, "POST", "/metrics", NULL, NULL), 401,
			  "another method on /metrics: 401, not 405");
		ASSERT_EQ(st.adds, 0, "nothing added");
		ASSERT_EQ(unauthorized_count(a, addr, tok), 3, "counted");
	}
	api_free(a);
	rmdir(tmpdir);
}

/* Over the unix socket the mode is the access control: no token needed, one is accepted. */
static void test_unix_no_token(void)
{
	char addr[160], local[160], tok[API_TOKEN_MAX + 1], path[96];
	struct stub st = { 0 };
	struct api *a;
	const char *any = "0123456789abcdef0123456789abcdef0123456789abcdef";

	if (!ASSERT_TRUE(mktmp() != NULL, "mkdtemp"))
		return;
	snprintf(path, sizeof(path), "%s/api.sock", tmpdir);
	snprintf(addr, sizeof(addr), "unix:%s", path);
	a = open_api(addr, false, &stub_ops, (struct gateway *)&st, tok, local, sizeof(local));
	if (a) {
		ASSERT_STREQ(local, addr, "local address");
		ASSERT_EQ(ask(a, local, any, TOK_NONE, "GET", "/v1/rules", NULL, NULL), 200,
			  "no token");
		ASSERT_EQ(ask(a, local, any, TOK_RIGHT, "POST", "/v1/rules", RULE, NULL), 201,
			  "with a token");
		ASSERT_EQ(st.adds, 1, "added");
	}
	api_free(a);
	rmdir(tmpdir);
}

/* The socket is born 0600; with its group present it becomes the group's, 0660. */
static void test_socket_mode(void)
{
	char addr[160], path[128], err[512] = "", dir[96];
	struct group *gr = getgrgid(getegid());
	struct api *a;
	gid_t gid = (gid_t)-1;

	if (!ASSERT_TRUE(mktmp() != NULL, "mkdtemp") || !ASSERT_TRUE(gr != NULL, "own group"))
		return;
	snprintf(path, sizeof(path), "%s/api.sock", tmpdir);
	snprintf(addr, sizeof(addr), "unix:%s", path);
	a = api_new(NULL, NULL, &(struct api_conf){ .addr = addr, .group = "cg-no-such-group" },
		    err, sizeof(err));
	if (ASSERT_TRUE(a != NULL, err))
		ASSERT_EQ(sock_mode(path, NULL), 0600, "no such group: 0600");
	api_free(a);
	ASSERT_EQ(sock_mode(path, NULL), -1, "removed");

	a = api_new(NULL, NULL, &(struct api_conf){ .addr = addr, .group = gr->gr_name }, err,
		    sizeof(err));
	if (ASSERT_TRUE(a != NULL, err)) {
		ASSERT_EQ(sock_mode(path, &gid), 0660, "the group's: 0660");
		ASSERT_EQ(gid, gr->gr_gid, "its group");
	}
	api_free(a);

	/* A missing directory is made 0755 (as /run/capgate is). */
	snprintf(dir, sizeof(dir), "%s/run", tmpdir);
	snprintf(path, sizeof(path), "%s/gw.sock", dir);
	snprintf(addr, sizeof(addr), "unix:%s", path);
	umask(0077);
	a = api_new(NULL, NULL, &(struct api_conf){ .addr = addr }, err, sizeof(err));
	umask(0022);
	if (ASSERT_TRUE(a != NULL, err)) {
		struct stat st;

		ASSERT_EQ(stat(dir, &st), 0, "directory made");
		ASSERT_EQ(st.st_mode & 07777, 0755, "directory 0755 whatever the umask");
	}
	api_free(a);
	rmdir(dir);
	rmdir(tmpdir);
}

static void test_new_errors(void)
{
	char err[512] = "", addr[200], path[128], tfile[128], tok[API_TOKEN_MAX + 1], dir[96];
	struct api *a, *b;
	int fd;

	errno = 0;
	ASSERT_TRUE(api_new(NULL, NULL, &(struct api_conf){ .addr = "localhost:7070" }, err,
			    sizeof(err)) == NULL,
		    "name");
	ASSERT_EQ(errno, EINVAL, "bad address errno");
	ASSERT_TRUE(strstr(err, "bad API address") != NULL, err);

	/* TCP without a token file, with one others can read, with one that is not there */
	errno = 0;
	ASSERT_TRUE(api_new(NULL, NULL, &(struct api_conf){ .addr = "127.0.0.1:0" }, err,
			    sizeof(err)) == NULL,
		    "TCP without api_token_file");
	ASSERT_EQ(errno, EINVAL, "no token errno");
	ASSERT_TRUE(strstr(err, "needs api_token_file") != NULL, err);
	if (!ASSERT_TRUE(mktmp() != NULL, "mkdtemp"))
		return;
	if (make_token("t", tfile, sizeof(tfile), tok)) {
		chmod(tfile, 0640);
		errno = 0;
		ASSERT_TRUE(
			api_new(NULL, NULL,
				&(struct api_conf){ .addr = "127.0.0.1:0", .token_file = tfile },
				err, sizeof(err)) == NULL,
			"token file mode 0640");
		ASSERT_EQ(errno, EPERM, "mode errno");
		ASSERT_TRUE(strstr(err, "chmod 600") != NULL, err);
		unlink(tfile);
		errno = 0;
		ASSERT_TRUE(
			api_new(NULL, NULL,
				&(struct api_conf){ .addr = "127.0.0.1:0", .token_file = tfile },
				err, sizeof(err)) == NULL,
			"token file missing");
		ASSERT_EQ(errno, ENOENT, "missing errno");
	}

	a = open_api("127.0.0.1:0", false, NULL, NULL, tok, addr, sizeof(addr));
	if (!a)
		goto out;
	if (make_token("t2", tfile, sizeof(tfile), tok)) {
		errno = 0;
		b = api_new(NULL, NULL, &(struct api_conf){ .addr = addr, .token_file = tfile },
			    err, sizeof(err));
		ASSERT_TRUE(b == NULL, "second server on the same port");
		ASSERT_EQ(errno, EADDRINUSE, "EADDRINUSE");
		ASSERT_TRUE(strstr(err, "Address already in use") != NULL, err);
		api_free(b);
		unlink(tfile);
	}
	api_free(a);

	/* a live unix socket is not taken over */
	snprintf(path, sizeof(path), "%s/api.sock", tmpdir);
	snprintf(addr, sizeof(addr), "unix:%s", path);
	a = api_new(NULL, NULL, &(struct api_conf){ .addr = addr }, err, sizeof(err));
	ASSERT_TRUE(a != NULL, err);
	errno = 0;
	b = api_new(NULL, NULL, &(struct api_conf){ .addr = addr }, err, sizeof(err));
	ASSERT_TRUE(b == NULL, "live socket");
	ASSERT_EQ(errno, EADDRINUSE, "live socket errno");
	ASSERT_TRUE(strstr(err, "another process is serving") != NULL, err);
	api_free(b);
	ASSERT_EQ(sock_mode(path, NULL), 0600, "the live one's socket left alone");
	api_free(a);

	/* a stale one (nobody listening) is replaced */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (ASSERT_TRUE(fd >= 0, "socket")) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%.100s", path);
		ASSERT_EQ(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0, "stale bind");
		close(fd);
		chmod(path, 0666);
		a = api_new(NULL, NULL, &(struct api_conf){ .addr = addr }, err, sizeof(err));
		ASSERT_TRUE(a != NULL, err);
		ASSERT_EQ(sock_mode(path, NULL), 0600, "a new socket (0600, not the stale 0666)");
		api_free(a);
	}

	/* a regular file is not removed, nor a symlink followed */
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	if (ASSERT_TRUE(fd >= 0, "file")) {
		close(fd);
		errno = 0;
		ASSERT_TRUE(api_new(NULL, NULL, &(struct api_conf){ .addr = addr }, err,
				    sizeof(err)) == NULL,
			    "not a socket");
		ASSERT_EQ(errno, EEXIST, "EEXIST");
		ASSERT_EQ(access(path, F_OK), 0, "file kept");
		unlink(path);
	}
	if (ASSERT_EQ(symlink("/nonexistent/target.sock", path), 0, "symlink")) {
		errno = 0;
		ASSERT_TRUE(api_new(NULL, NULL, &(struct api_conf){ .addr = addr }, err,
				    sizeof(err)) == NULL,
			    "a symlink");
		ASSERT_EQ(errno, EEXIST, "symlink errno");
		ASSERT_TRUE(strstr(err, "symlink") != NULL, err);
		unlink(path);
	}

	/* a directory others can write to (not sticky), or a symlink as directory */
	snprintf(dir, sizeof(dir), "%s/open", tmpdir);
	snprintf(addr, sizeof(addr), "unix:%s/api.sock", dir);
	if (ASSERT_EQ(mkdir(dir, 0777), 0, "mkdir") && ASSERT_EQ(chmod(dir, 0777), 0, "chmod")) {
		errno = 0;
		ASSERT_TRUE(api_new(NULL, NULL, &(struct api_conf){ .addr = addr }, err,
				    sizeof(err)) == NULL,
			    "world-writable directory");
		ASSERT_EQ(errno, EPERM, "directory errno");
		chmod(dir, 01777);
		a = api_new(NULL, NULL, &(struct api_conf){ .addr = addr }, err, sizeof(err));
		ASSERT_TRUE(a != NULL, "sticky is fine (as /tmp)");
		api_free(a);
		rmdir(dir);
	}
	snprintf(path, sizeof(path), "%s/link", tmpdir);
	snprintf(addr, sizeof(addr), "unix:%s/api.sock", path);
	if (ASSERT_EQ(symlink(tmpdir, path), 0, "dir symlink")) {
		errno = 0;
		ASSERT_TRUE(api_new(NULL, NULL, &(struct api_conf){ .addr = addr }, err,
				    sizeof(err)) == NULL,
			    "directory is a symlink");
		ASSERT_EQ(errno, ENOTDIR, "symlink dir errno");
		unlink(path);
	}
out:
	rmdir(tmpdir);
}

/* Token files: made 0600 and fresh, read with the key checks, nothing else is a token. */
static void test_token_file(void)
{
	char path[128], tok[API_TOKEN_MAX + 1], tok2[API_TOKEN_MAX + 1], err[512], target[128];
	static const struct {
		const char *text;
		int ret;
	} texts[] = {
		{ "0123456789abcdef0123456789abcdef", 0 },
		{ "0123456789abcdef0123456789abcdef\n", 0 },
		{ "A-._~+/0123456789abcdef012345678==", 0 },
		{ "0123456789abcdef0123456789abcde", -EINVAL },	     /* 31 characters */
		{ "0123456789abcdef0123456789abcdef\n\n", -EINVAL }, /* one newline only */
		{ "0123456789abcdef 0123456789abcdef", -EINVAL },
		{ "0123456789abcdef0123456789abcdef=x", -EINVAL }, /* = only at the end */
		{ "=0123456789abcdef0123456789abcdef", -EINVAL },
		{ "", -EINVAL },
	};
	struct stat st;
	size_t i;
	int fd;

	if (!ASSERT_TRUE(mktmp() != NULL, "mkdtemp"))
		return;
	snprintf(path, sizeof(path), "%s/api.token", tmpdir);
	umask(0);
	ASSERT_EQ(api_token_new(path, false, err, sizeof(err)), 0, err);
	umask(0022);
	ASSERT_EQ(stat(path, &st), 0, "made");
	ASSERT_EQ(st.st_mode & 07777, 0600, "0600 whatever the umask");
	ASSERT_EQ(st.st_size, 2 * API_TOKEN_BYTES + 1, "hex and a newline");
	ASSERT_EQ(api_token_read(path, tok, err, sizeof(err)), 0, err);
	ASSERT_EQ(api_token_new(path, false, err, sizeof(err)), -EEXIST, "no overwrite");
	ASSERT_TRUE(strstr(err, "--force") != NULL, err);
	ASSERT_EQ(api_token_new(path, true, err, sizeof(err)), 0, err);
	ASSERT_EQ(api_token_read(path, tok2, err, sizeof(err)), 0, err);
	ASSERT_TRUE(strcmp(tok, tok2) != 0, "--force: a new token");
	chmod(path, 0604);
	ASSERT_EQ(api_token_read(path, tok, err, sizeof(err)), -EPERM, "others can read");
	unlink(path);

	/* --force replaces a symlink itself, never what it points to */
	snprintf(target, sizeof(target), "%s/target", tmpdir);
	fd = open(target, O_CREAT | O_WRONLY, 0644);
	close(fd);
	if (ASSERT_EQ(symlink(target, path), 0, "symlink")) {
		ASSERT_EQ(api_token_new(path, false, err, sizeof(err)), -EEXIST, "symlink kept");
		ASSERT_EQ(api_token_new(path, true, err, sizeof(err)), 0, err);
		ASSERT_EQ(lstat(path, &st), 0, "made");
		ASSERT_TRUE(S_ISREG(st.st_mode), "a file, not the symlink");
		ASSERT_EQ(stat(target, &st), 0, "target");
		ASSERT_EQ(st.st_size, 0, "target untouched");
	}
	unlink(target);
	unlink(path);

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
		if (!ASSERT_TRUE(fd >= 0, "write"))
			break;
		ASSERT_EQ(write(fd, texts[i].text, strlen(texts[i].text)),
			  (ssize_t)strlen(texts[i].text), "write");
		close(fd);
		strcpy(tok, "untouched");
		ASSERT_EQ(api_token_read(path, tok, err, sizeof(err)), texts[i].ret, texts[i].text);
		if (texts[i].ret)
			ASSERT_STREQ(tok, "untouched", "out untouched");
		else
			ASSERT_EQ(strncmp(tok, texts[i].text, strlen(tok)) == 0 &&
					  strlen(tok) == strcspn(texts[i].text, "\n"),
				  true, texts[i].text);
	}
	unlink(path);
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
	ret = api_request(addr, NULL, "GET", "/v1/rules", NULL, &status, &resp, err, sizeof(err));
	close(fd);
	ASSERT_EQ(ret, -ECONNREFUSED, "refused");
	ASSERT_TRUE(!strncmp(err, "cannot reach the capgate API at 127.0.0.1:", 42), err);
	ASSERT_EQ(status, -5, "status untouched");
	ASSERT_STREQ(resp, "x", "resp untouched");

	ret = api_request("unix:/nonexistent/capgate.sock", NULL, "GET", "/v1/rules", NULL, &status,
			  &resp, err, sizeof(err));
	ASSERT_EQ(ret, -ENOENT, "no socket");
	ASSERT_STREQ(err,
		     "cannot reach the capgate API at unix:/nonexistent/capgate.sock: No such file "
		     "or directory",
		     "unix message");

	ret = api_request("nowhere", NULL, "GET", "/v1/rules", NULL, &status, &resp, err,
			  sizeof(err));
	ASSERT_EQ(ret, -EINVAL, "bad address");
}

/* ---- /v1/lb: the balancer's backends ------------------------------------------ */

#define LB_BES "/v1/lb/web/backends"
#define WANT_POST "{\"address\":\"ADDR:PORT\"[,\"weight\":0..100]}"
#define WANT_PATCH "{\"weight\":0..100} and/or {\"drain\":true|false}"
#define ADDR_FORM "expected ADDR:PORT (IPv6 as [ADDR]:PORT)"
#define NO_PATCH -1

/*
 * One request: the stub returns ret (list_ret from lb_list). A served one
 * reaches its operation once with svc and addr (and weight and drain: the
 * added backend's, or the patch's, NO_PATCH where it has none); a refusal
 * reaches none.
 */
static const struct {
	const char *method, *path, *body;
	int ret, list_ret;
	unsigned int status;
	enum api_refusal why;
	const char *error; /* exact; with prefix, the start */
	bool prefix;
	const char *svc, *addr;
	int weight, drain;
} lb_cases[] = {
	/* POST */
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"address\":\"10.10.2.5:80\",\"weight\":2}",
	  .status = 201,
	  .svc = "web",
	  .addr = "10.10.2.5:80",
	  .weight = 2 },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"address\":\"10.10.2.5:80\"}",
	  .status = 201,
	  .svc = "web",
	  .addr = "10.10.2.5:80",
	  .weight = 1 },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"weight\":0,\"address\":\"[FD00:2::5]:80\"}",
	  .status = 201,
	  .svc = "web",
	  .addr = "[fd00:2::5]:80",
	  .weight = 0 },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"address\":\"10.10.2.5:443\",\"weight\":100}",
	  .status = 201,
	  .svc = "web",
	  .addr = "10.10.2.5:443",
	  .weight = 100 },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"address\":\"10.10.2.5:80\"}",
	  .ret = -EEXIST,
	  .status = 409,
	  .why = API_REF_EXISTS,
	  .error = "balanced service web has backend 10.10.2.5:80 already",
	  .svc = "web",
	  .addr = "10.10.2.5:80",
	  .weight = 1 },
	{ .method = "POST",
	  .path = "/v1/lb/db/backends",
	  .body = "{\"address\":\"10.10.2.5:80\"}",
	  .ret = -ENOENT,
	  .status = 404,
	  .why = API_REF_NOT_FOUND,
	  .error = "no balanced service db",
	  .svc = "db",
	  .addr = "10.10.2.5:80",
	  .weight = 1 },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"address\":\"[fd00:2::5]:80\"}",
	  .ret = -EINVAL,
	  .status = 400,
	  .why = API_REF_BAD_ADDRESS,
	  .error = "bad backend address \"[fd00:2::5]:80\": not the address family of service "
		   "web's VIP",
	  .svc = "web",
	  .addr = "[fd00:2::5]:80",
	  .weight = 1 },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"address\":\"10.10.2.5:80\"}",
	  .ret = -ENOSPC,
	  .status = 507,
	  .why = API_REF_FULL,
	  .error = "balanced service web has no room for another backend",
	  .svc = "web",
	  .addr = "10.10.2.5:80",
	  .weight = 1 },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"address\":\"10.10.2.5:80\"}",
	  .ret = -EIO,
	  .status = 503,
	  .why = API_REF_STATE,
	  .error = "could not save state: adding the backend failed, nothing was changed (see the "
		   "gateway's log)",
	  .svc = "web",
	  .addr = "10.10.2.5:80",
	  .weight = 1 },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"address\":\"10.10.2.5:80\"}",
	  .ret = -ENOMEM,
	  .status = 500,
	  .why = API_REF_INTERNAL,
	  .error = "adding the backend failed: Cannot allocate memory",
	  .svc = "web",
	  .addr = "10.10.2.5:80",
	  .weight = 1 },
	/* POST refused before the gateway */
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "",
	  .status = 400,
	  .why = API_REF_BAD_JSON,
	  .error = "request body is empty: want " WANT_POST },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"address\":",
	  .status = 400,
	  .why = API_REF_BAD_JSON,
	  .error = "bad JSON at line 1, column ",
	  .prefix = true },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"address\":\"10.10.2.5:80\",\"address\":\"10.10.2.6:80\"}",
	  .status = 400,
	  .why = API_REF_BAD_JSON,
	  .error = "bad JSON at line 1, column ",
	  .prefix = true },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "[\"10.10.2.5:80\"]",
	  .status = 400,
	  .why = API_REF_NOT_OBJECT,
	  .error = "request body must be a JSON object, not an array" },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"weight\":2}",
	  .status = 400,
	  .why = API_REF_MISSING_FIELD,
	  .error = "missing field \"address\"" },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"address\":\"10.10.2.5:80\",\"wieght\":2}",
	  .status = 400,
	  .why = API_REF_UNKNOWN_FIELD,
	  .error = "unknown field \"wieght\" (want address and weight)" },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"address\":\"10.10.2.5:80\",\"drain\":true}",
	  .status = 400,
	  .why = API_REF_UNKNOWN_FIELD,
	  .error = "unknown field \"drain\" (want address and weight)" },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"address\":80}",
	  .status = 400,
	  .why = API_REF_WRONG_TYPE,
	  .error = "field \"address\" must be a string, not a number" },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"address\":\"10.10.2.5:80\",\"weight\":\"2\"}",
	  .status = 400,
	  .why = API_REF_WRONG_TYPE,
	  .error = "field \"weight\" must be an integer 0..100, not a string" },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"address\":\"10.10.2.5:80\",\"weight\":2.0}",
	  .status = 400,
	  .why = API_REF_WRONG_TYPE,
	  .error = "field \"weight\" must be an integer 0..100, not a number" },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"address\":\"10.10.2.5:80\",\"weight\":null}",
	  .status = 400,
	  .why = API_REF_WRONG_TYPE,
	  .error = "field \"weight\" must be an integer 0..100, not null" },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"address\":\"10.10.2.5:80\",\"weight\":101}",
	  .status = 400,
	  .why = API_REF_BAD_VALUE,
	  .error = "bad weight 101: want 0..100" },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"address\":\"10.10.2.5:80\",\"weight\":-1}",
	  .status = 400,
	  .why = API_REF_BAD_VALUE,
	  .error = "bad weight -1: want 0..100" },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"address\":\"10.10.2.5:80\",\"weight\":4294967297}",
	  .status = 400,
	  .why = API_REF_BAD_VALUE,
	  .error = "bad weight 4294967297: want 0..100" },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"address\":\"10.10.2.5\"}",
	  .status = 400,
	  .why = API_REF_BAD_ADDRESS,
	  .error = "bad backend address \"10.10.2.5\": " ADDR_FORM },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"address\":\"fd00:2::5:80\"}",
	  .status = 400,
	  .why = API_REF_BAD_ADDRESS,
	  .error = "bad backend address \"fd00:2::5:80\": " ADDR_FORM },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"address\":\"10.10.2.5:0\"}",
	  .status = 400,
	  .why = API_REF_BAD_ADDRESS,
	  .error = "bad backend address \"10.10.2.5:0\": the port must be 1..65535" },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"address\":\"[10.10.2.5]:80\"}",
	  .status = 400,
	  .why = API_REF_BAD_ADDRESS,
	  .error = "bad backend address \"[10.10.2.5]:80\": brackets are for IPv6 addresses only" },
	{ .method = "POST",
	  .path = LB_BES,
	  .body = "{\"address\":\"10.10.2.5:80@2\"}",
	  .status = 400,
	  .why = API_REF_BAD_ADDRESS,
	  .error = "bad backend address \"10.10.2.5:80@2\": a weight is not taken here (the weight "
		   "is a field of its own)" },
	{ .method = "POST",
	  .path = "/v1/lb/../backends",
	  .body = "{\"address\":\"10.10.2.5:80\"}",
	  .status = 400,
	  .why = API_REF_BAD_VALUE,
	  .error = "bad service \"..\": 1..63 of A-Z a-z 0-9 _ . -" },
	{ .method = "POST",
	  .path = "/v1/lb/a b/backends",
	  .body = "{\"address\":\"10.10.2.5:80\"}",
	  .status = 400,
	  .why = API_REF_BAD_VALUE,
	  .error = "bad service \"a b\": 1..63 of A-Z a-z 0-9 _ . -" },
	{ .method = "POST",
	  .path = "/v1/lb/0123456789012345678901234567890123456789012345678901234567890123/"
		  "backends",
	  .body = "{\"address\":\"10.10.2.5:80\"}",
	  .status = 400,
	  .why = API_REF_BAD_VALUE,
	  .error =
		  "bad service \"0123456789012345678901234567890123456789012345678901234567890123\""
		  ": 1..63 of A-Z a-z 0-9 _ . -" },
	/* PATCH */
	{ .method = "PATCH",
	  .path = LB_BES "/10.10.2.2:80",
	  .body = "{\"weight\":3}",
	  .status = 200,
	  .svc = "web",
	  .addr = "10.10.2.2:80",
	  .weight = 3,
	  .drain = NO_PATCH },
	{ .method = "PATCH",
	  .path = LB_BES "/10.10.2.2:80",
	  .body = "{\"drain\":true}",
	  .status = 200,
	  .svc = "web",
	  .addr = "10.10.2.2:80",
	  .weight = NO_PATCH,
	  .drain = 1 },
	{ .method = "PATCH",
	  .path = LB_BES "/10.10.2.2:80",
	  .body = "{\"drain\":false,\"weight\":0}",
	  .status = 200,
	  .svc = "web",
	  .addr = "10.10.2.2:80",
	  .weight = 0,
	  .drain = 0 },
	{ .method = "PATCH",
	  .path = LB_BES "/[fd00:2::2]:80",
	  .body = "{\"drain\":true}",
	  .status = 200,
	  .svc = "web",
	  .addr = "[fd00:2::2]:80",
	  .weight = NO_PATCH,
	  .drain = 1 },
	{ .method = "PATCH",
	  .path = LB_BES "/[fd00:2:0::0002]:80",
	  .body = "{\"weight\":100}",
	  .status = 200,
	  .svc = "web",
	  .addr = "[fd00:2::2]:80",
	  .weight = 100,
	  .drain = NO_PATCH },
	{ .method = "PATCH",
	  .path = LB_BES "/10.10.2.9:80",
	  .body = "{\"weight\":3}",
	  .ret = -ENOENT,
	  .status = 404,
	  .why = API_REF_NOT_FOUND,
	  .error = "balanced service web has no backend 10.10.2.9:80",
	  .svc = "web",
	  .addr = "10.10.2.9:80",
	  .weight = 3,
	  .drain = NO_PATCH },
	{ .method = "PATCH",
	  .path = "/v1/lb/db/backends/10.10.2.2:80",
	  .body = "{\"weight\":3}",
	  .ret = -ENOENT,
	  .status = 404,
	  .why = API_REF_NOT_FOUND,
	  .error = "no balanced service db",
	  .svc = "db",
	  .addr = "10.10.2.2:80",
	  .weight = 3,
	  .drain = NO_PATCH },
	{ .method = "PATCH",
	  .path = LB_BES "/10.10.2.9:80",
	  .body = "{\"weight\":3}",
	  .ret = -ENOENT,
	  .list_ret = -ENOMEM,
	  .status = 404,
	  .why = API_REF_NOT_FOUND,
	  .error = "no balanced service web with a backend 10.10.2.9:80",
	  .svc = "web",
	  .addr = "10.10.2.9:80",
	  .weight = 3,
	  .drain = NO_PATCH },
	{ .method = "PATCH",
	  .path = LB_BES "/10.10.2.2:80",
	  .body = "{\"drain\":true}",
	  .ret = -EIO,
	  .status = 503,
	  .why = API_REF_STATE,
	  .error = "could not save state: changing the backend failed, nothing was changed (see "
		   "the gateway's log)",
	  .svc = "web",
	  .addr = "10.10.2.2:80",
	  .weight = NO_PATCH,
	  .drain = 1 },
	/* PATCH refused before the gateway */
	{ .method = "PATCH",
	  .path = LB_BES "/10.10.2.2:80",
	  .body = "{}",
	  .status = 400,
	  .why = API_REF_MISSING_FIELD,
	  .error = "nothing to change: want " WANT_PATCH },
	{ .method = "PATCH",
	  .path = LB_BES "/10.10.2.2:80",
	  .body = "",
	  .status = 400,
	  .why = API_REF_BAD_JSON,
	  .error = "request body is empty: want " WANT_PATCH },
	{ .method = "PATCH",
	  .path = LB_BES "/10.10.2.2:80",
	  .body = "{\"weight\":3,}",
	  .status = 400,
	  .why = API_REF_BAD_JSON,
	  .error = "bad JSON at line 1, column ",
	  .prefix = true },
	{ .method = "PATCH",
	  .path = LB_BES "/10.10.2.2:80",
	  .body = "true",
	  .status = 400,
	  .why = API_REF_NOT_OBJECT,
	  .error = "request body must be a JSON object, not a boolean" },
	{ .method = "PATCH",
	  .path = LB_BES "/10.10.2.2:80",
	  .body = "{\"weight\":101}",
	  .status = 400,
	  .why = API_REF_BAD_VALUE,
	  .error = "bad weight 101: want 0..100" },
	{ .method = "PATCH",
	  .path = LB_BES "/10.10.2.2:80",
	  .body = "{\"weight\":\"2\"}",
	  .status = 400,
	  .why = API_REF_WRONG_TYPE,
	  .error = "field \"weight\" must be an integer 0..100, not a string" },
	{ .method = "PATCH",
	  .path = LB_BES "/10.10.2.2:80",
	  .body = "{\"weight\":2,\"drain\":\"yes\"}",
	  .status = 400,
	  .why = API_REF_WRONG_TYPE,
	  .error = "field \"drain\" must be true or false, not a string" },
	{ .method = "PATCH",
	  .path = LB_BES "/10.10.2.2:80",
	  .body = "{\"drain\":1}",
	  .status = 400,
	  .why = API_REF_WRONG_TYPE,
	  .error = "field \"drain\" must be true or false, not a number" },
	{ .method = "PATCH",
	  .path = LB_BES "/10.10.2.2:80",
	  .body = "{\"drain\":true,\"state\":\"down\"}",
	  .status = 400,
	  .why = API_REF_UNKNOWN_FIELD,
	  .error = "unknown field \"state\" (want weight and drain)" },
	{ .method = "PATCH",
	  .path = LB_BES "/10.10.2.2:80",
	  .body = "{\"address\":\"10.10.2.3:80\"}",
	  .status = 400,
	  .why = API_REF_UNKNOWN_FIELD,
	  .error = "unknown field \"address\" (want weight and drain)" },
	{ .method = "PATCH",
	  .path = LB_BES "/10.10.2.2",
	  .body = "{\"weight\":3}",
	  .status = 400,
	  .why = API_REF_BAD_ADDRESS,
	  .error = "bad backend \"10.10.2.2\" in the path: " ADDR_FORM },
	{ .method = "PATCH",
	  .path = LB_BES "/fd00:2::2:80",
	  .body = "{\"weight\":3}",
	  .status = 400,
	  .why = API_REF_BAD_ADDRESS,
	  .error = "bad backend \"fd00:2::2:80\" in the path: " ADDR_FORM },
	{ .method = "PATCH",
	  .path = LB_BES "/10.10.2.2:80@2",
	  .body = "{\"weight\":3}",
	  .status = 400,
	  .why = API_REF_BAD_ADDRESS,
	  .error = "bad backend \"10.10.2.2:80@2\" in the path: a weight is not taken here" },
	{ .method = "PATCH",
	  .path = LB_BES "/10.10.2.2:65536",
	  .body = "{\"weight\":3}",
	  .status = 400,
	  .why = API_REF_BAD_ADDRESS,
	  .error = "bad backend \"10.10.2.2:65536\" in the path: the port must be 1..65535" },
	{ .method = "PATCH",
	  .path = LB_BES "/[fd00:2::2]",
	  .body = "{\"weight\":3}",
	  .status = 400,
	  .why = API_REF_BAD_ADDRESS,
	  .error = "bad backend \"[fd00:2::2]\" in the path: expected [IPV6]:PORT" },
	/* routes see the path as the server decoded it, once: no second decoding here */
	{ .method = "PATCH",
	  .path = LB_BES "/%5Bfd00%3A2%3A%3A2%5D%3A80",
	  .body = "{\"weight\":3}",
	  .status = 400,
	  .why = API_REF_BAD_ADDRESS,
	  .error = "bad backend \"%5Bfd00%3A2%3A%3A2%5D%3A80\" in the path: " ADDR_FORM },
	{ .method = "PATCH",
	  .path = LB_BES "/[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
	  .body = "{\"weight\":3}",
	  .status = 400,
	  .why = API_REF_BAD_ADDRESS,
	  .error = "bad backend \"[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535\" in "
		   "the path: " ADDR_FORM },
	{ .method = "PATCH",
	  .path = "/v1/lb/-/../backends/10.10.2.2:80",
	  .body = "{\"weight\":3}",
	  .status = 404,
	  .why = API_REF_NOT_FOUND,
	  .error = "no such path: /v1/lb/-/../backends/10.10.2.2:80" },
	{ .method = "PATCH",
	  .path = "/v1/lb/../backends/10.10.2.2",
	  .body = "{}",
	  .status = 400,
	  .why = API_REF_BAD_VALUE,
	  .error = "bad service \"..\": 1..63 of A-Z a-z 0-9 _ . -" },
	/* DELETE */
	{ .method = "DELETE",
	  .path = LB_BES "/10.10.2.2:80",
	  .status = 204,
	  .svc = "web",
	  .addr = "10.10.2.2:80" },
	{ .method = "DELETE",
	  .path = LB_BES "/[fd00:2::2]:8080",
	  .status = 204,
	  .svc = "web",
	  .addr = "[fd00:2::2]:8080" },
	{ .method = "DELETE",
	  .path = LB_BES "/10.10.2.2:80",
	  .ret = -ENOENT,
	  .status = 404,
	  .why = API_REF_NOT_FOUND,
	  .error = "balanced service web has no backend 10.10.2.2:80",
	  .svc = "web",
	  .addr = "10.10.2.2:80" },
	{ .method = "DELETE",
	  .path = "/v1/lb/db/backends/10.10.2.2:80",
	  .ret = -ENOENT,
	  .status = 404,
	  .why = API_REF_NOT_FOUND,
	  .error = "no balanced service db",
	  .svc = "db",
	  .addr = "10.10.2.2:80" },
	{ .method = "DELETE",
	  .path = LB_BES "/10.10.2.2:80",
	  .ret = -EIO,
	  .status = 503,
	  .why = API_REF_STATE,
	  .error = "could not save state: removing the backend failed, nothing was changed (see "
		   "the gateway's log)",
	  .svc = "web",
	  .addr = "10.10.2.2:80" },
	{ .method = "DELETE",
	  .path = LB_BES "/10.10.2.2:0",
	  .status = 400,
	  .why = API_REF_BAD_ADDRESS,
	  .error = "bad backend \"10.10.2.2:0\" in the path: the port must be 1..65535" },
	{ .method = "DELETE",
	  .path = LB_BES "/web",
	  .status = 400,
	  .why = API_REF_BAD_ADDRESS,
	  .error = "bad backend \"web\" in the path: " ADDR_FORM },
	{ .method = "DELETE",
	  .path = "/v1/lb/a%2Fb/backends/10.10.2.2:80",
	  .status = 400,
	  .why = API_REF_BAD_VALUE,
	  .error = "bad service \"a%2Fb\": 1..63 of A-Z a-z 0-9 _ . -" },
	/* paths and methods */
	{ .method = "GET", .path = "/v1/lb", .status = 200 },
	{ .method = "GET",
	  .path = "/v1/lb",
	  .list_ret = -EIO,
	  .status = 503,
	  .why = API_REF_STATE,
	  .error = "could not save state: listing the balanced services failed, nothing was "
		   "changed (see the gateway's log)" },
	{ .method = "POST",
	  .path = "/v1/lb",
	  .status = 405,
	  .why = API_REF_METHOD,
	  .error = "method POST not allowed on /v1/lb (allowed: GET)" },
	{ .method = "DELETE",
	  .path = LB_BES,
	  .status = 405,
	  .why = API_REF_METHOD,
	  .error = "method DELETE not allowed on /v1/lb/web/backends (allowed: POST)" },
	{ .method = "POST",
	  .path = LB_BES "/10.10.2.2:80",
	  .body = "{}",
	  .status = 405,
	  .why = API_REF_METHOD,
	  .error = "method POST not allowed on /v1/lb/web/backends/10.10.2.2:80 (allowed: PATCH, "
		   "DELETE)" },
	{ .method = "PUT",
	  .path = LB_BES "/10.10.2.2:80",
	  .body = "{}",
	  .status = 405,
	  .why = API_REF_METHOD,
	  .error = "method PUT not allowed on /v1/lb/web/backends/10.10.2.2:80 (allowed: PATCH, "
		   "DELETE)" },
	{ .method = "GET",
	  .path = "/v1/lb/web",
	  .status = 404,
	  .why = API_REF_NOT_FOUND,
	  .error = "no such path: /v1/lb/web" },
	{ .method = "POST",
	  .path = "/v1/lb//backends",
	  .body = "{}",
	  .status = 404,
	  .why = API_REF_NOT_FOUND,
	  .error = "no such path: /v1/lb//backends" },
	{ .method = "DELETE",
	  .path = LB_BES "/",
	  .status = 404,
	  .why = API_REF_NOT_FOUND,
	  .error = "no such path: /v1/lb/web/backends/" },
	{ .method = "DELETE",
	  .path = LB_BES "/10.10.2.2:80/x",
	  .status = 404,
	  .why = API_REF_NOT_FOUND,
	  .error = "no such path: /v1/lb/web/backends/10.10.2.2:80/x" },
	{ .method = "GET",
	  .path = "/v1/lb/",
	  .status = 404,
	  .why = API_REF_NOT_FOUND,
	  .error = "no such path: /v1/lb/" },
};

static void test_lb_dispatch(void)
{
	struct lb_stub st = { 0 };
	struct api_ctx ctx = { .ops = &lb_stub_ops, .gw = (struct gateway *)&st };
	size_t i;

	for (i = 0; i < sizeof(lb_cases) / sizeof(lb_cases[0]); i++) {
		const char *body = lb_cases[i].body ? lb_cases[i].body : "";
		uint64_t before = ctx.refused[lb_cases[i].why];
		bool served = lb_cases[i].svc != NULL;
		char name[320], addr[LB_BE_STRLEN];
		struct api_reply rep;
		json_t *j, *be;
		const char *e;

		snprintf(name, sizeof(name), "%s %s %s", lb_cases[i].method, lb_cases[i].path,
			 body);
		st = (struct lb_stub){ .ret = lb_cases[i].ret, .list_ret = lb_cases[i].list_ret };
		api_handle(&ctx, lb_cases[i].method, lb_cases[i].path, body, strlen(body), false,
			   &rep);
		ASSERT_EQ(rep.status, lb_cases[i].status, name);
		ASSERT_EQ(rep.refusal, lb_cases[i].why, name);
		if (lb_cases[i].why)
			ASSERT_EQ(ctx.refused[lb_cases[i].why], before + 1, "counted");
		ASSERT_EQ(st.calls, served, served ? "called once" : "a refusal called nothing");
		if (served) {
			lb_be_format(&st.be, addr, sizeof(addr));
			ASSERT_STREQ(st.svc, lb_cases[i].svc, name);
			ASSERT_STREQ(addr, lb_cases[i].addr, name);
		}
		if (served && !strcmp(lb_cases[i].method, "POST")) {
			ASSERT_EQ(st.be.weight, lb_cases[i].weight, name);
			ASSERT_TRUE(!st.be.drain, "added undrained");
		}
		if (served && !strcmp(lb_cases[i].method, "PATCH")) {
			ASSERT_EQ(st.patch.has_weight, lb_cases[i].weight != NO_PATCH, name);
			if (st.patch.has_weight)
				ASSERT_EQ(st.patch.weight, lb_cases[i].weight, name);
			ASSERT_EQ(st.patch.has_drain, lb_cases[i].drain != NO_PATCH, name);
			if (st.patch.has_drain)
				ASSERT_EQ(st.patch.drain, lb_cases[i].drain, name);
		}
		if (rep.status == 204) {
			ASSERT_TRUE(rep.body == NULL && rep.len == 0, "204: no body");
			api_reply_free(&rep);
			continue;
		}
		ASSERT_STREQ(rep.ctype, "application/json", name);
		j = json_loadb(rep.body, rep.len, 0, NULL);
		e = json_string_value(json_object_get(j, "error"));
		if (lb_cases[i].error && lb_cases[i].prefix)
			ASSERT_TRUE(e && !strncmp(e, lb_cases[i].error, strlen(lb_cases[i].error)),
				    e ? e : name);
		else if (lb_cases[i].error)
			ASSERT_STREQ(e, lb_cases[i].error, name);
		else
			ASSERT_TRUE(e == NULL, name);
		/* a served answer, and a 409's "backend", is the backend the gateway gave */
		be = rep.status == 409 ? json_object_get(j, "backend") : j;
		if (served && (rep.status == 200 || rep.status == 201 || rep.status == 409))
			ASSERT_STREQ(json_string_value(json_object_get(be, "address")),
				     lb_cases[i].addr, name);
		if (rep.status == 200 && !lb_cases[i].svc)
			ASSERT_STREQ(
				json_string_value(json_object_get(
					json_array_get(json_object_get(j, "services"), 0), "name")),
				"web", "GET /v1/lb: lb_list's answer");
		json_decref(j);
		api_reply_free(&rep);
	}
	ASSERT_EQ(ctx.refused[API_OK], 0, "API_OK never counted");
}

/* Both parameters of a backend's path, and one where there is one. */
static void test_lb_router(void)
{
	static const struct {
		const char *method, *path;
		enum api_route_id route;
		const char *param, *param2;
	} rows[] = {
		{ "GET", "/v1/lb", API_ROUTE_LB_LIST, NULL, NULL },
		{ "POST", "/v1/lb/web/backends", API_ROUTE_LB_BACKEND_ADD, "web", NULL },
		{ "PATCH", "/v1/lb/web/backends/10.10.2.2:80", API_ROUTE_LB_BACKEND_SET, "web",
		  "10.10.2.2:80" },
		{ "DELETE", "/v1/lb/a.b-c_d/backends/[fd00:2::2]:80", API_ROUTE_LB_BACKEND_DEL,
		  "a.b-c_d", "[fd00:2::2]:80" },
		{ "DELETE", "/v1/rules/7", API_ROUTE_RULE_DEL, "7", NULL },
		{ "PUT", "/v1/devices/dev1/groups", API_ROUTE_DEVICE_GROUPS_SET, "dev1", NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct api_match m;
		char allow[32] = "";

		if (!ASSERT_EQ(
			    api_route_match(rows[i].method, rows[i].path, &m, allow, sizeof(allow)),
			    API_OK, rows[i].path))
			continue;
		ASSERT_EQ(m.route, rows[i].route, rows[i].path);
		ASSERT_TRUE(rows[i].param ? m.param && m.paramlen == strlen(rows[i].param) &&
						    !strncmp(m.param, rows[i].param, m.paramlen)
					  : m.param == NULL && m.paramlen == 0,
			    rows[i].path);
		ASSERT_TRUE(rows[i].param2 ? m.param2 && m.param2len == strlen(rows[i].param2) &&
						     !strncmp(m.param2, rows[i].param2, m.param2len)
					   : m.param2 == NULL && m.param2len == 0,
			    rows[i].path);
	}
}

/* A gateway that gives no balancer operations: 501 for each route, after the input checks. */
static void test_lb_not_implemented(void)
{
	static const struct {
		const char *method, *path, *body;
		unsigned int status;
		const char *error;
	} rows[] = {
		{ "GET", "/v1/lb", "", 501,
		  "this gateway does not implement the balancer (GET /v1/lb)" },
		{ "POST", LB_BES, "{\"address\":\"10.10.2.5:80\"}", 501,
		  "this gateway does not implement adding balancer backends" },
		{ "PATCH", LB_BES "/10.10.2.5:80", "{\"drain\":true}", 501,
		  "this gateway does not implement changing balancer backends" },
		{ "DELETE", LB_BES "/10.10.2.5:80", "", 501,
		  "this gateway does not implement removing balancer backends" },
		{ "POST", LB_BES, "{\"address\":\"10.10.2.5\"}", 400,
		  "bad backend address \"10.10.2.5\": " ADDR_FORM },
	};
	static const struct api_ops no_lb = { .stats = stub_stats };
	const struct api_ops *tables[] = { &no_lb, NULL };
	size_t i, k;

	for (k = 0; k < sizeof(tables) / sizeof(tables[0]); k++) {
		struct api_ctx ctx = { .ops = tables[k] };

		for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			struct api_reply rep;
			json_t *j;

			api_handle(&ctx, rows[i].method, rows[i].path, rows[i].body,
				   strlen(rows[i].body), false, &rep);
			ASSERT_EQ(rep.status, rows[i].status, rows[i].path);
			j = json_loadb(rep.body, rep.len, 0, NULL);
			ASSERT_STREQ(json_string_value(json_object_get(j, "error")), rows[i].error,
				     rows[i].path);
			json_decref(j);
			api_reply_free(&rep);
		}
		ASSERT_EQ(ctx.refused[API_REF_NOT_IMPLEMENTED], 4, "counted not_implemented");
	}
	ASSERT_STREQ(api_refusal_name(API_REF_NOT_IMPLEMENTED), "not_implemented", "its name");
}

/*
 * Over a real server: libmicrohttpd decodes the path once before the routes
 * see it, so an IPv6 backend arrives the same raw or percent-encoded (either
 * case), and an encoded "%" stays a "%".
 */
static void test_lb_wire(void)
{
	static const struct {
		const char *method, *path, *body;
		long status;
		const char *addr; /* what the operation got; NULL: not called */
		const char *error;
	} rows[] = {
		{ "PATCH", LB_BES "/%5Bfd00%3A2%3A%3A2%5D%3A80", "{\"drain\":true}", 200,
		  "[fd00:2::2]:80", NULL },
		{ "PATCH", LB_BES "/%5bfd00%3a2%3a%3a2%5d%3a80", "{\"drain\":false}", 200,
		  "[fd00:2::2]:80", NULL },
		{ "PATCH", LB_BES "/%5Bfd00:2::2%5D:80", "{\"weight\":5}", 200, "[fd00:2::2]:80",
		  NULL },
		{ "DELETE", LB_BES "/%5Bfd00%3A2%3A%3A3%5D%3A443", NULL, 204, "[fd00:2::3]:443",
		  NULL },
		{ "DELETE", LB_BES "/10.10.2.2%3A80", NULL, 204, "10.10.2.2:80", NULL },
		{ "POST", "/v1/lb/w%65b/backends", "{\"address\":\"[fd00:2::5]:80\",\"weight\":2}",
		  201, "[fd00:2::5]:80", NULL },
		{ "PATCH", LB_BES "/%255Bfd00%253A2%253A%253A2%255D%253A80", "{\"weight\":5}", 400,
		  NULL, "bad backend \"%5Bfd00%3A2%3A%3A2%5D%3A80\" in the path: " ADDR_FORM },
		{ "DELETE", LB_BES "/%5Bfd00%3A2%3A%3A2%5D", NULL, 400, NULL,
		  "bad backend \"[fd00:2::2]\" in the path: expected [IPV6]:PORT" },
		{ "GET", "/v1/lb", NULL, 200, NULL, NULL },
	};
	char addr[160], tok[API_TOKEN_MAX + 1], raw[512], want[LB_BE_STRLEN];
	struct lb_stub st = { 0 };
	struct api *a;
	size_t i;

	if (!ASSERT_TRUE(mktmp() != NULL, "mkdtemp"))
		return;
	a = open_api("127.0.0.1:0", false, &lb_stub_ops, (struct gateway *)&st, tok, addr,
		     sizeof(addr));
	if (!a)
		goto out;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct call c = { .addr = addr,
				  .token = tok,
				  .method = rows[i].method,
				  .path = rows[i].path,
				  .body = rows[i].body };
		json_t *j;

		st.calls = 0;
		if (!ASSERT_TRUE(serve_one(a, &c), rows[i].path) || !ASSERT_EQ(c.ret, 0, c.err))
			continue;
		ASSERT_EQ(c.status, rows[i].status, rows[i].path);
		ASSERT_EQ(st.calls, rows[i].addr != NULL, rows[i].path);
		if (rows[i].addr && !strcmp(rows[i].method, "POST"))
			ASSERT_STREQ(st.svc, "web", "%65 decoded");
		if (rows[i].addr) {
			lb_be_format(&st.be, want, sizeof(want));
			ASSERT_STREQ(want, rows[i].addr, rows[i].path);
		}
		if (rows[i].error) {
			j = json_loads(c.resp, 0, NULL);
			ASSERT_STREQ(json_string_value(json_object_get(j, "error")), rows[i].error,
				     rows[i].path);
			json_decref(j);
		}
		free(c.resp);
	}

	/* brackets and colons as they are on the request line */
	snprintf(raw, sizeof(raw),
		 "PATCH " LB_BES
		 "/[fd00:2::4]:80 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
		 "Content-Length: 13\r\nConnection: close\r\n\r\n{\"weight\":7}\n",
		 tok);
	{
		struct call c = { .addr = addr, .raw = raw };

		st.calls = 0;
		if (serve_one(a, &c) && ASSERT_EQ(c.ret, 0, "raw request")) {
			ASSERT_EQ(c.status, 200, "raw [addr]:port");
			ASSERT_EQ(st.calls, 1, "raw: called");
			lb_be_format(&st.be, want, sizeof(want));
			ASSERT_STREQ(want, "[fd00:2::4]:80", "raw: the backend");
			ASSERT_TRUE(st.patch.has_weight && st.patch.weight == 7, "raw: the weight");
		}
		free(c.resp);
	}
	api_free(a);
out:
	rmdir(tmpdir);
}

T_MAIN(T_CASE(test_revocation_body), T_CASE(test_rule_body_refusals), T_CASE(test_rule_body_ok),
       T_CASE(test_rule_body_nul), T_CASE(test_rule_ids), T_CASE(test_rule_id_message),
       T_CASE(test_sources), T_CASE(test_router), T_CASE(test_dispatch_refusals),
       T_CASE(test_refusal_names), T_CASE(test_endpoints), T_CASE(test_wire_tcp),
       T_CASE(test_wire_tcp6), T_CASE(test_wire_unix), T_CASE(test_wire_too_large),
       T_CASE(test_tcp_token), T_CASE(test_metrics_public), T_CASE(test_unix_no_token),
       T_CASE(test_socket_mode), T_CASE(test_new_errors), T_CASE(test_token_file),
       T_CASE(test_client_unreachable), T_CASE(test_lb_dispatch), T_CASE(test_lb_router),
       T_CASE(test_lb_not_implemented), T_CASE(test_lb_wire))
