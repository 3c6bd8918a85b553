// SPDX-License-Identifier: GPL-2.0
/* Calling the REST API from a subcommand: request, status check, error text. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <sodium.h>

#include "cmd/capgate/call.h"
#include "lib/api/api.h"
#include "lib/api/client.h"
#include "lib/api/token.h"
#include "lib/base/endpoint.h"
#include "lib/base/parse_num.h"
#include "lib/config/gateway.h"

/* The only API socket in GW_API_DIR, into addr; else 1 with why printed. */
static int only_socket(char *addr, size_t len)
{
	char names[512] = "";
	struct dirent *d;
	struct stat st;
	size_t n, used = 0, found = 0;
	DIR *dir = opendir(GW_API_DIR);
	int dfd;

	for (dfd = dir ? dirfd(dir) : -1; dir && (d = readdir(dir));) {
		n = strlen(d->d_name);
		if (n <= 5 || strcmp(d->d_name + n - 5, ".sock") ||
		    fstatat(dfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISSOCK(st.st_mode))
			continue;
		if (!found++)
			snprintf(addr, len, "unix:" GW_API_DIR "/%s", d->d_name);
		used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
					 used ? ", " : "", d->d_name);
		if (used >= sizeof(names))
			used = sizeof(names) - 1;
	}
	if (dir)
		closedir(dir);
	if (found == 1)
		return 0;
	if (found)
		fprintf(stderr,
			"capgate: several gateways listen in " GW_API_DIR " (%s): choose one with "
			"--api unix:" GW_API_DIR "/NAME.sock or --config FILE\n",
			names);
	else
		fprintf(stderr,
			"capgate: no gateway API socket in " GW_API_DIR " (is the gateway running? "
			"it listens there unless its config sets api): use --api ADDR or --config "
			"FILE\n");
	return 1;
}

/*
 * Where the API is: --api, else --config's api, else $CAPGATE_API, else the
 * only socket in GW_API_DIR. Its token, for a TCP API only: --token-file,
 * else --config's api_token_file, else $CAPGATE_TOKEN_FILE. Returns 0 (tok
 * "" when none is sent) or 1 with why printed.
 */
static int api_target(const struct cg_global *g, char *addr, size_t len,
		      char tok[API_TOKEN_MAX + 1])
{
	const char *env_api = getenv("CAPGATE_API"), *tfile = g->token_file;
	struct gw_config *cfg = NULL;
	char err[512];
	struct endpoint ep;
	int ret = 1;

	tok[0] = '\0';
	if (g->config) {
		cfg = malloc(sizeof(*cfg));
		if (!cfg || config_load(g->config, cfg, err, sizeof(err))) {
			fprintf(stderr, "capgate: %s\n", cfg ? err : "out of memory");
			goto out;
		}
		if (!tfile && cfg->api_token_file[0])
			tfile = cfg->api_token_file;
	}
	if (g->api)
		snprintf(addr, len, "%s", g->api);
	else if (cfg)
		snprintf(addr, len, "%s", cfg->api);
	else if (env_api && *env_api)
		snprintf(addr, len, "%s", env_api);
	else if (only_socket(addr, len))
		goto out;
	if (!tfile)
		tfile = getenv("CAPGATE_TOKEN_FILE");
	if (endpoint_parse(addr, &ep, err, sizeof(err))) {
		fprintf(stderr, "capgate: %s\n", err);
		goto out;
	}
	if (ep.family != AF_UNIX && tfile && *tfile &&
	    api_token_read(tfile, tok, err, sizeof(err))) {
		fprintf(stderr, "capgate: token file %s\n", err);
		goto out;
	}
	ret = 0;
out:
	free(cfg);
	return ret;
}

int api_call(const struct cg_global *g, const char *method, const char *path, const char *body,
	     char **raw)
{
	char err[512], addr[sizeof(((struct gw_config *)0)->api) + CG_PATH_MAX];
	char tok[API_TOKEN_MAX + 1];
	char *resp = NULL;
	json_t *j = NULL;
	long status = 0;
	int ret = 1, e;

	if (api_target(g, addr, sizeof(addr), tok))
		goto out;
	e = api_request(addr, tok[0] ? tok : NULL, method, path, body, &status, &resp, err,
			sizeof(err));
	if (e) {
		fprintf(stderr, "capgate: %s%s\n", err,
			e == -EACCES ? " (the socket is for root and the group " API_SOCKET_GROUP
				       ": run as one of them)"
				     : "");
		goto out;
	}
	if (status < 200 || status > 299) {
		j = json_loads(resp, 0, NULL);
		if (json_is_string(json_object_get(j, "error")))
			fprintf(stderr, "capgate: %s\n",
				json_string_value(json_object_get(j, "error")));
		else
			fprintf(stderr, "capgate: the API at %s answered HTTP %ld\n", addr, status);
		goto out;
	}
	*raw = resp;
	resp = NULL;
	ret = 0;
out:
	sodium_memzero(tok, sizeof(tok));
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

int json_opts_verb(int argc, char ***argv, const char *usage, struct json_opts *o, int *n,
		   const char **verb)
{
	int err = opts_parse(argc, *argv, usage, json_opts_table,
			     sizeof(json_opts_table) / sizeof(json_opts_table[0]), json_opt, o);

	if (err)
		return err == 1 ? 0 : 2;
	*argv += optind;
	*n = argc - optind;
	*verb = *n > 0 ? (*argv)[0] : "";
	return -1;
}
