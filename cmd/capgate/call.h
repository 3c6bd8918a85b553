/* SPDX-License-Identifier: GPL-2.0 */
/* The subcommands' one way to call the REST API and report its errors. */
#ifndef CG_CMD_CALL_H
#define CG_CMD_CALL_H

#include <stdbool.h>

#include <jansson.h>

#include "cmd/capgate/cmd.h"

/*
 * Calls the API where g says (--api, --config, $CAPGATE_API, or the only
 * socket in /run/capgate), with its token if TCP. On a 2xx answer returns 0 and the body in *raw
 * (malloc'd, caller frees). Otherwise prints "capgate: <why>" on stderr (the
 * API's "error" text when there is one) and returns 1, the exit code.
 */
int api_call(const struct cg_global *g, const char *method, const char *path, const char *body,
	     char **raw);

/*
 * DELETE base/ID for a numeric id given on the command line ("rule",
 * "/v1/rules"); prints "<done> <what> <id>" unless json. Returns the exit
 * code: 0, 1 (the API refused; its reason printed) or 2 (not an id).
 */
int api_delete_id(const struct cg_global *g, bool json, const char *what, const char *base,
		  const char *id_s, const char *done);

/* The options of a subcommand whose only option is -j (rule, session). */
struct json_opts {
	bool json;
};
extern const struct cg_opt json_opts_table[1];
int json_opt(int val, const char *arg, void *ctx);

/*
 * The options of such a subcommand (usage for --help and errors), then its
 * words: *argv moves to the first word, *n counts them, *verb is the first
 * ("" for none). Returns -1 to go on, else the exit code (0 after --help, 2).
 */
int json_opts_verb(int argc, char ***argv, const char *usage, struct json_opts *o, int *n,
		   const char **verb);

/*
 * GET path for a listing: with json, prints the API's JSON as is and returns
 * 0 with *out NULL; else *out is the body, checked to be of type. Returns the
 * exit code (0 or 1, the reason printed).
 */
int api_get_listing(const struct cg_global *g, const char *path, bool json, json_type type,
		    json_t **out);

/* Parses a 2xx body as JSON; on failure prints why and returns NULL. */
json_t *api_call_json(const char *raw);

/* The integer field key of obj, or 0. */
long long json_int_field(const json_t *obj, const char *key);

/* The string field key of obj, or "?". */
const char *json_str_field(const json_t *obj, const char *key);

#endif
