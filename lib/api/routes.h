/* SPDX-License-Identifier: GPL-2.0 */
/* The REST API's routes and request checks, free of HTTP and sockets so tests can call them. */
#ifndef CG_API_ROUTES_H
#define CG_API_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/api/api.h"
#include "lib/base/addr.h"

/* Largest request body the API reads; larger ones get 413. */
#define API_BODY_MAX (64 * 1024)

/*
 * Why a request was refused. Each has a counter (GET /v1/stats "api.refused",
 * capgate_api_refused_total{reason=NAME}); API_OK is not a refusal.
 */
enum api_refusal {
	API_OK = 0,
	API_REF_BAD_JSON,   /* body is not JSON (or is empty) */
	API_REF_NOT_OBJECT, /* JSON, but not an object */
	API_REF_MISSING_FIELD,
	API_REF_UNKNOWN_FIELD,
	API_REF_WRONG_TYPE, /* a field has the wrong JSON type */
	API_REF_BAD_CIDR,
	API_REF_BAD_ACTION,
	API_REF_BAD_ID,		 /* /v1/rules/<id> is not a number */
	API_REF_BAD_ADDRESS,	 /* /v1/knock/<source> is not an address */
	API_REF_NOT_FOUND,	 /* no such path, rule or open door */
	API_REF_METHOD,		 /* path exists, method does not */
	API_REF_TOO_LARGE,	 /* body over API_BODY_MAX */
	API_REF_EXISTS,		 /* a rule with the same prefix exists */
	API_REF_FULL,		 /* rule table full */
	API_REF_STATE,		 /* the gateway could not save its state or write a map */
	API_REF_INTERNAL,	 /* anything else (out of memory, ...) */
	API_REF_UNAUTHORIZED,	 /* over TCP without the right bearer token: 401 */
	API_REF_BAD_VALUE,	 /* a field's value is not valid (a name, a serial) */
	API_REF_NO_AUTH,	 /* the gateway has no [auth] section */
	API_REF_CONFIG,		 /* a reload's config does not parse, or needs a restart */
	API_REF_NOT_IMPLEMENTED, /* the gateway gave no operation for this route: 501 */
	API_REF__COUNT
};

/* "bad_json", "not_found", ... (the metric label); "ok" for API_OK. */
const char *api_refusal_name(enum api_refusal r);

/* Per-server state the handlers share. */
struct api_ctx {
	const struct api_ops *ops;
	struct gateway *gw;
	uint64_t refused[API_REF__COUNT];
	bool need_token;	  /* a TCP listener: every request needs the bearer token */
	bool metrics_public;	  /* ... but GET /metrics */
	uint8_t token_sha256[32]; /* SHA-256 of the token (compared, never the token itself) */
};

/*
 * Checks a POST /v1/rules body: a JSON object with exactly the string fields
 * "cidr" and "action" ("allow" or "drop"). Returns API_OK and writes *c and
 * *action, or the refusal with the message for the client in err (c and
 * action untouched).
 */
enum api_refusal api_parse_rule(const char *body, size_t len, struct cidr *c, uint32_t *action,
				char *err, size_t errlen);

/* The /v1/rules/<id> segment: 1..UINT32_MAX. API_OK or API_REF_BAD_ID with err. */
enum api_refusal api_parse_id(const char *what, const char *s, size_t len, uint32_t *id, char *err,
			      size_t errlen);

/*
 * Checks a POST /v1/revocations body: an object with "device" (and optional
 * "app") or "serial", and an optional "note" (< 256 bytes), all strings;
 * names must be valid (lib/base/name.h). r's strings point into *root, which
 * the caller json_decref()s. API_OK, or the refusal with err.
 */
enum api_refusal api_parse_revocation(const char *body, size_t len, json_t **root,
				      struct api_revocation *r, char *err, size_t errlen);

#define API_GROUPS_MAX 64 /* groups a PUT body may list (the registry holds fewer) */

/*
 * Checks a PUT /v1/devices/<name>/groups body: {"groups":[NAME, ...]}, each
 * a valid name, at most API_GROUPS_MAX. groups[] point into *root, which the
 * caller json_decref()s. API_OK, or the refusal with err.
 */
enum api_refusal api_parse_groups(const char *body, size_t len, json_t **root, const char **groups,
				  size_t *n, char *err, size_t errlen);

/*
 * Checks a POST /v1/lb/<name>/backends body: {"address":"ADDR:PORT"} (IPv6
 * as [ADDR]:PORT, no @weight: lib/lb/lb.h lb_be_parse) with an optional
 * integer "weight" 0..LB_WEIGHT_MAX (default 1). API_OK and *be (drain
 * false), or the refusal with err (be untouched).
 */
enum api_refusal api_parse_lb_backend(const char *body, size_t len, struct lb_be *be, char *err,
				      size_t errlen);

/*
 * Checks a PATCH /v1/lb/<name>/backends/<addr:port> body: an integer
 * "weight" 0..LB_WEIGHT_MAX and/or a boolean "drain", at least one. API_OK
 * and *patch (has_ flags for what it holds), or the refusal with err.
 */
enum api_refusal api_parse_lb_patch(const char *body, size_t len, struct lb_be_patch *patch,
				    char *err, size_t errlen);

/*
 * The <addr:port> segment of /v1/lb/<name>/backends/<addr:port> (as the
 * server decoded it: "[fd00:2::2]:80" arrives as such or percent-encoded,
 * decoded once), no weight. API_OK and *be, or API_REF_BAD_ADDRESS with err.
 */
enum api_refusal api_parse_lb_path_backend(const char *s, size_t len, struct lb_be *be, char *err,
					   size_t errlen);

/* The /v1/knock/<source> segment, to the 16-byte form. API_OK or API_REF_BAD_ADDRESS. */
enum api_refusal api_parse_source(const char *s, size_t len, uint8_t addr[16], char *err,
				  size_t errlen);

enum api_route_id {
	API_ROUTE_RULES_LIST,	     /* GET /v1/rules */
	API_ROUTE_RULE_ADD,	     /* POST /v1/rules */
	API_ROUTE_RULE_DEL,	     /* DELETE /v1/rules/<id> */
	API_ROUTE_KNOCK_LIST,	     /* GET /v1/knock */
	API_ROUTE_KNOCK_CLOSE,	     /* DELETE /v1/knock/<source> */
	API_ROUTE_STATS,	     /* GET /v1/stats */
	API_ROUTE_METRICS,	     /* GET /metrics */
	API_ROUTE_SESSIONS_LIST,     /* GET /v1/sessions */
	API_ROUTE_SESSION_REVOKE,    /* DELETE /v1/sessions/<id> */
	API_ROUTE_REVOCATIONS_LIST,  /* GET /v1/revocations */
	API_ROUTE_REVOCATION_ADD,    /* POST /v1/revocations */
	API_ROUTE_REVOCATION_DEL,    /* DELETE /v1/revocations/<id> */
	API_ROUTE_RELOAD,	     /* POST /v1/reload */
	API_ROUTE_DEVICES_LIST,	     /* GET /v1/devices */
	API_ROUTE_DEVICE_GROUPS_SET, /* PUT /v1/devices/<name>/groups */
	API_ROUTE_DEVICE_GROUPS_DEL, /* DELETE /v1/devices/<name>/groups */
	API_ROUTE_LB_LIST,	     /* GET /v1/lb */
	API_ROUTE_LB_BACKEND_ADD,    /* POST /v1/lb/<name>/backends */
	API_ROUTE_LB_BACKEND_SET,    /* PATCH /v1/lb/<name>/backends/<addr:port> */
	API_ROUTE_LB_BACKEND_DEL,    /* DELETE /v1/lb/<name>/backends/<addr:port> */
};

struct api_match {
	enum api_route_id route;
	const char
		*param; /* the first <...> segment (id, source, name), inside path; NULL if none */
	size_t paramlen;
	const char *param2; /* the second (a backend's <addr:port>); NULL if none */
	size_t param2len;
};

/*
 * Finds the route for method and path (no query string). Returns API_OK and
 * writes *m; API_REF_NOT_FOUND for an unknown path; API_REF_METHOD for a
 * known path with another method, writing the methods it has ("GET, POST")
 * into allow.
 */
enum api_refusal api_route_match(const char *method, const char *path, struct api_match *m,
				 char *allow, size_t allowlen);

/* What to send back. */
struct api_reply {
	unsigned int status;
	const char *ctype; /* static string; NULL when there is no body */
	char *body;	   /* malloc'd; NULL for 204 */
	size_t len;
	char allow[32];		  /* Allow header for 405, else empty */
	bool challenge;		  /* 401: send "WWW-Authenticate: Bearer" */
	enum api_refusal refusal; /* API_OK when served */
};

/*
 * Whether a request may be served, before its body is read: always over a
 * unix socket (!ctx->need_token), GET /metrics with metrics_public, else only
 * when authorization (the Authorization header, NULL if none) is "Bearer
 * TOKEN" with the right token (the SHA-256 digests compared in constant
 * time, so neither the token nor its length leaks). Returns API_OK (rep
 * untouched), or API_REF_UNAUTHORIZED with rep filled (401, a JSON error,
 * the WWW-Authenticate challenge) and counted.
 */
enum api_refusal api_check_auth(struct api_ctx *ctx, const char *method, const char *path,
				const char *authorization, struct api_reply *rep);

/*
 * Serves one request: routes it, checks the input fully, then calls the
 * daemon through ctx->ops. too_large says the body was cut at API_BODY_MAX.
 * Counts refusals in ctx. Always fills *rep; release it with api_reply_free().
 */
void api_handle(struct api_ctx *ctx, const char *method, const char *path, const char *body,
		size_t len, bool too_large, struct api_reply *rep);

/* Frees rep->body; accepts a zeroed reply. */
void api_reply_free(struct api_reply *rep);

#endif
