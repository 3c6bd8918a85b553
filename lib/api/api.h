/* SPDX-License-Identifier: GPL-2.0 */
/* The REST API server (libmicrohttpd) in the daemon's poll loop, and what it may call. */
#ifndef CG_API_H
#define CG_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/base/addr.h"
#include "lib/lb/lb.h"

/* The daemon's state, opaque here: the API reaches it only through struct api_ops. */
struct gateway;

/* A POST /v1/revocations body, checked by the routes (names valid, serial hex unchecked). */
struct api_revocation {
	const char *device; /* NULL with serial */
	const char *app;    /* NULL = the device (all of its certificates) */
	const char *serial; /* hex; NULL with device */
	const char *note;   /* NULL = none */
};

/*
 * What the API may call on the daemon, which hands these over (api_new;
 * lib/gateway: gateway_api_ops). Each returns 0 or a negative errno; where it
 * has an out-parameter it writes a new JSON value the caller owns
 * (json_decref) on success only. A refused operation changes nothing.
 */
struct api_ops {
	/* [{"id":1,"cidr":"192.168.3.0/24","action":"drop","hits":0}, ...] */
	int (*rules_list)(struct gateway *gw, json_t **out);
	/*
	 * Adds a rule: persisted first (atomically), then written to the
	 * datapath. -EEXIST if a rule has the same prefix (*out is then that
	 * rule), -ENOSPC when full, -EIO if the state could not be saved or the
	 * map not written.
	 */
	int (*rule_add)(struct gateway *gw, const struct cidr *c, uint32_t action, json_t **out);
	/* Deletes rule id. -ENOENT if there is none, -EIO on a save/map failure. */
	int (*rule_del)(struct gateway *gw, uint32_t id);
	/*
	 * {"profiles":[{"name":"ssh","sequence":["tcp/7000",...],"step_timeout":5,
	 *   "open":["tcp/22"],"open_for":30}],
	 *  "open":[{"source":"10.0.0.2","profile":"ssh","target":"tcp/22","expires_in":27}]}
	 */
	int (*knock_list)(struct gateway *gw, json_t **out);
	/* Closes every door open for this source (16-byte form). -ENOENT if none. */
	int (*knock_close)(struct gateway *gw, const uint8_t addr[16]);
	/*
	 * {"gateway":"edge1","interface":"ext0","xdp_mode":"native","default":"drop",
	 *  "packets":{"pass":N,"drop":N},
	 *  "reasons":{"pass_open":{"packets":N,"bytes":N}, ... every enum cg_stat},
	 *  "rules":N,"doors_open":N}
	 */
	int (*stats)(struct gateway *gw, json_t **out);
	/* Prometheus text exposition of the same (malloc'd, NUL-terminated). */
	int (*metrics)(struct gateway *gw, char **out);
	/*
	 * [{"id":..,"device":"dev1","app":"sensor","vip":"100.64.0.2",
	 *   "endpoint":"10.10.1.2:40000","expires_in":590,"scopes":[...],
	 *   "rx_packets":..,"tx_packets":..}]; [] without [auth].
	 */
	int (*sessions_list)(struct gateway *gw, json_t **out);
	/* Revokes a session at once. -ENOENT if there is none. */
	int (*session_revoke)(struct gateway *gw, uint32_t id);
	/* [{"id":1,"device":"dev1","app":"cam","time":..,"note":".."},{"id":2,"serial":"0a1b"}] */
	int (*revocations_list)(struct gateway *gw, json_t **out);
	/*
	 * Adds a revocation (lib/auth/authd.h: authd_revoke_add): saved first,
	 * then every session it covers ends. *out the entry ({"id":..,..,
	 * "sessions_ended":N}); -EEXIST (*out the entry there), -EINVAL (a bad
	 * serial), -ENOSPC, -EIO, -EOPNOTSUPP (no [auth]).
	 */
	int (*revocation_add)(struct gateway *gw, const struct api_revocation *r, json_t **out);
	/* Removes revocation id. -ENOENT, -EIO, -EOPNOTSUPP. */
	int (*revocation_del)(struct gateway *gw, uint32_t id);
	/* {"dev1":["sensors","floor2"], ...}: the groups set through the API. */
	int (*devices_list)(struct gateway *gw, json_t **out);
	/*
	 * Sets device's groups (n = 0: removes them), saved first, then the
	 * device's live sessions are judged again: *out {"device":..,"groups":[..],
	 * "sessions_rescoped":N,"sessions_revoked":N}. -EINVAL (more than the
	 * registry holds), -ENOENT (n = 0, none set), -ENOSPC, -EIO, -EOPNOTSUPP.
	 */
	int (*device_groups_set)(struct gateway *gw, const char *device, const char *const *groups,
				 size_t n, json_t **out);
	/*
	 * Reads the config file again and applies its [service] and [allow]
	 * sections to the live sessions: *out {"sessions_kept":N,
	 * "sessions_rescoped":N,"sessions_revoked":N}. -EINVAL (the file does
	 * not parse or check) or -EBUSY (a key that needs a restart changed),
	 * both with the reason in err, and nothing changed.
	 */
	int (*reload)(struct gateway *gw, json_t **out, char *err, size_t errlen);
	/*
	 * The balanced services (docs/lb.md): {"services":[{"name":"web","proto":"tcp",
	 *   "vip":"10.10.2.100","ports":"80","nat":"dnat","health":"http GET /healthz",
	 *   "no_backend":N,"flows_full":N,"backends":[{"address":"10.10.2.2:80",
	 *   "state":"up"|"down"|"draining","weight":1,"flows":N,"new_flows":N,
	 *   "packets":N,"bytes":N,"health":{"result":"ok","detail":N,"checks":N,
	 *   "failures":N,"age_ms":N}}]}],"datapath":{"fwd_new":{"packets":N,"bytes":N},
	 *   ... every enum lb_stat (lib/lb/lb.h: lb_stat_name)}};
	 *   {"services":[],"datapath":{}} without balanced services.
	 */
	int (*lb_list)(struct gateway *gw, json_t **out);
	/*
	 * Adds a backend to balanced service svc (be->drain false), saved first
	 * (state_dir lb.json), then in the datapath: *out the backend as in lb_list.
	 * -ENOENT (no balanced service svc), -EEXIST (there already; *out it),
	 * -EINVAL (not the VIP's address family), -ENOSPC, -EIO.
	 */
	int (*lb_backend_add)(struct gateway *gw, const char *svc, const struct lb_be *be,
			      json_t **out);
	/*
	 * Changes a backend's weight and/or drain (the patch's has_ fields), saved
	 * first: *out the backend. -ENOENT (no such service or backend), -EIO.
	 */
	int (*lb_backend_set)(struct gateway *gw, const char *svc, const struct lb_be *be,
			      const struct lb_be_patch *patch, json_t **out);
	/*
	 * Removes a backend (be: address and port), saved first: it gets no new
	 * flow at once; its flows go on until they end or idle out. -ENOENT, -EIO.
	 */
	int (*lb_backend_del)(struct gateway *gw, const char *svc, const struct lb_be *be);
};

struct api;

/* A unix socket's group when it exists (mode 0660); without it the socket is 0600. */
#define API_SOCKET_GROUP "capgate"

/* Where the API listens and who may use it ([gateway] api, api_token_file, metrics_public). */
struct api_conf {
	const char *addr;	/* "unix:/run/capgate/edge1.sock", "127.0.0.1:7070", "[::1]:7070" */
	const char *token_file; /* required for a TCP address (lib/api/token.h); NULL or "": none */
	const char *group;	/* the socket's group if it exists; NULL: API_SOCKET_GROUP */
	bool metrics_public;	/* GET /metrics over TCP without a token, for scrapers */
};

/*
 * Listens on conf->addr. A unix socket: its directory is made (0755) if
 * missing, and must be a real directory (not a symlink) of root or this user
 * that others cannot write to (or sticky); a stale socket is replaced, a live
 * one (something answers) refused with -EADDRINUSE, anything else at the path
 * with -EEXIST; the socket is born 0600 and then given to conf->group with
 * mode 0660 when that group exists; clients need no token (the mode is the
 * access control). A TCP address needs conf->token_file (-EINVAL without it;
 * the file's checks as lib/api/token.h's api_token_read) and every request
 * must carry "Authorization: Bearer TOKEN" (but GET /metrics with
 * metrics_public); others get 401 and change nothing. Requests are served
 * only from api_process(), by calling ops on gw. Returns the server, or NULL
 * with errno set (EINVAL, EADDRINUSE, EEXIST, EACCES, EPERM, ...) and a
 * reason in err. Whatever api_new() returns, api_free() releases.
 */
struct api *api_new(const struct api_ops *ops, struct gateway *gw, const struct api_conf *conf,
		    char *err, size_t errlen);

/* Stops serving, closes every connection, removes its unix socket file. NULL is ok. */
void api_free(struct api *a);

/* One fd to poll for POLLIN; when it is readable (or the timeout passes) call api_process(). */
int api_fd(const struct api *a);

/* How long the caller may sleep before calling api_process(), in ms; -1: no limit. */
int api_timeout_ms(const struct api *a);

/* Accepts, reads and answers whatever is ready; never blocks. */
void api_process(struct api *a);

/* The address actually listened on ("127.0.0.1:40123", "unix:/run/capgate.sock"). */
void api_local_addr(const struct api *a, char *buf, size_t len);

#endif
