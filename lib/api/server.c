// SPDX-License-Identifier: GPL-2.0
/* REST API server: libmicrohttpd in epoll mode, driven by the daemon's poll loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <grp.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "lib/api/api.h"
#include "lib/api/routes.h"
#include "lib/api/token.h"
#include "lib/base/endpoint.h"
#include "lib/base/log.h"

#define API_CONN_MAX 64
#define API_CONN_TIMEOUT_S 10

/* Refusals for want of a token are logged at most this often (each is counted). */
#define API_UNAUTH_LOG_MS 10000

struct api {
	struct MHD_Daemon *mhd;
	struct api_ctx ctx;
	struct endpoint ep;
	char local[128];	/* the address listened on, for logs */
	dev_t sock_dev;		/* the unix socket this server made, removed by api_free */
	ino_t sock_ino;		/* (0: none) if it is still that one */
	uint64_t unauth_log_ms; /* when a refusal was last logged */
	uint64_t unauth_quiet;	/* refusals since then, not logged */
};

/* One request: its body as it arrives. */
struct req {
	char *body;
	size_t len, cap;
	bool too_large;
};

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];
	size_t n;

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	log_debug("api: %s", buf);
}

static int req_append(struct req *r, const char *data, size_t n)
{
	size_t cap;
	char *p;

	if (r->too_large)
		return 0;
	if (n > API_BODY_MAX - r->len) {
		/* Keep reading so the client gets its 413, but keep nothing. */
		r->too_large = true;
		free(r->body);
		r->body = NULL;
		r->len = r->cap = 0;
		return 0;
	}
	if (r->len + n > r->cap) {
		cap = r->cap ? r->cap : 1024;
		while (cap < r->len + n)
			cap *= 2;
		if (cap > API_BODY_MAX)
			cap = API_BODY_MAX;
		p = realloc(r->body, cap);
		if (!p)
			return -ENOMEM;
		r->body = p;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	return 0;
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, struct api_reply *rep)
{
	struct MHD_Response *resp;
	enum MHD_Result ret = MHD_NO;

	if (rep->body) {
		resp = MHD_create_response_from_buffer(rep->len, rep->body, MHD_RESPMEM_MUST_FREE);
		if (resp)
			rep->body = NULL; /* owned by resp now */
	} else {
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	}
	if (!resp)
		goto out;
	if ((rep->ctype &&
	     MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rep->ctype) != MHD_YES) ||
	    (rep->allow[0] &&
	     MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rep->allow) != MHD_YES) ||
	    (rep->challenge && MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
						       "Bearer realm=\"capgate\"") != MHD_YES))
		goto out;
	ret = MHD_queue_response(conn, rep->status, resp);
out:
	if (resp)
		MHD_destroy_response(resp);
	return ret;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One line per API_UNAUTH_LOG_MS at most: a client guessing tokens must not flood the log. */
static void log_unauthorized(struct api *a, const char *method, const char *url)
{
	uint64_t now = mono_ms();

	if (a->unauth_log_ms && now - a->unauth_log_ms < API_UNAUTH_LOG_MS) {
		a->unauth_quiet++;
		return;
	}
	log_warn("api: refused %s %.64s on %s: no or wrong bearer token (%" PRIu64
		 " more since the last such line, %" PRIu64 " in all: api.refused.unauthorized)",
		 method, url, a->local, a->unauth_quiet, a->ctx.refused[API_REF_UNAUTHORIZED]);
	a->unauth_log_ms = now;
	a->unauth_quiet = 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct api *a = cls;
	struct req *r = *con_cls;
	struct api_reply rep;
	enum MHD_Result ret;

	(void)version;
	if (!r) {
		/* Before the body is read: a refused client costs no memory. */
		if (api_check_auth(&a->ctx, method, url,
				   MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							       MHD_HTTP_HEADER_AUTHORIZATION),
				   &rep)) {
			log_unauthorized(a, method, url);
			ret = send_reply(conn, &rep);
			api_reply_free(&rep);
			return ret;
		}
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_size) {
		if (req_append(r, upload, *upload_size))
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	api_handle(&a->ctx, method, url, r->body ? r->body : "", r->len, r->too_large, &rep);
	log_debug("api: %s %s -> %u%s%s", method, url, rep.status, rep.refusal ? " " : "",
		  rep.refusal ? api_refusal_name(rep.refusal) : "");
	ret = send_reply(conn, &rep);
	api_reply_free(&rep);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (r) {
		free(r->body);
		free(r);
		*con_cls = NULL;
	}
}

/* True if something accepts connections on the unix socket at path. */
static bool unix_live(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return live;
}

/*
 * The socket's directory: made 0755 if missing; else a directory (not a
 * symlink) of root or this user that nobody else can write to, or sticky,
 * so nobody else can swap the socket between its checks and its chmod.
 */
static int unix_dir(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stat st;
	char *slash;
	int ret;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (mkdir(dir, 0755) == 0 && chmod(dir, 0755)) {
		ret = -errno;
		snprintf(err, errlen, "API socket directory %s: chmod: %s", dir, strerror(-ret));
		return ret;
	}
	if (lstat(dir, &st)) {
		ret = -errno;
		snprintf(err, errlen, "API socket directory %s: %s", dir, strerror(-ret));
		return ret;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "API socket directory %s: not a directory%s", dir,
			 S_ISLNK(st.st_mode) ? " (a symlink: refused)" : "");
		return -ENOTDIR;
	}
	if ((st.st_uid != 0 && st.st_uid != geteuid()) ||
	    ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))) {
		snprintf(err, errlen,
			 "API socket directory %s (mode %04o, uid %u): others could replace the "
			 "socket there; use a directory only root or this user can write to, such "
			 "as /run/capgate",
			 dir, (unsigned int)(st.st_mode & 07777), (unsigned int)st.st_uid);
		return -EPERM;
	}
	return 0;
}

/* Clears the way for the socket: a stale one is removed, anything else refused. */
static int unix_clear(const struct sockaddr_un *sun, const char *addr, char *err, size_t errlen)
{
	struct stat st;
	int ret;

	if (lstat(sun->sun_path, &st)) {
		ret = -errno;
		if (ret == -ENOENT)
			return 0;
		snprintf(err, errlen, "API address %s: %s", addr, strerror(-ret));
		return ret;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "API address %s: %s exists and is not a socket%s", addr,
			 sun->sun_path, S_ISLNK(st.st_mode) ? " (a symlink: refused)" : "");
		return -EEXIST;
	}
	if (unix_live(sun)) {
		snprintf(err, errlen,
			 "API address %s: another process is serving on %s (another capgate "
			 "gateway with this name?): refusing to take it over",
			 addr, sun->sun_path);
		return -EADDRINUSE;
	}
	/* stale, from a daemon that died */
	if (unlink(sun->sun_path) && errno != ENOENT) {
		ret = -errno;
		snprintf(err, errlen, "API address %s: stale socket %s: %s", addr, sun->sun_path,
			 strerror(-ret));
		return ret;
	}
	return 0;
}

/* Removes the socket this server made, if it is still that one. */
static void unix_remove(struct api *a)
{
	struct stat st;

	if (a->sock_ino && lstat(a->ep.path, &st) == 0 && st.st_dev == a->sock_dev &&
	    st.st_ino == a->sock_ino)
		unlink(a->ep.path);
	a->sock_ino = 0;
}

/*
 * The socket was born 0600 (umask around bind): now the group's, 0660, when
 * the group exists. By path, but in a directory nobody else can write to
 * (unix_dir) and after checking it is still the socket just made.
 */
static int unix_grant(struct api *a, const char *group, char *err, size_t errlen)
{
	const char *path = a->ep.path;
	char buf[1024];
	struct group gr, *g = NULL;
	struct stat st;
	int ret;

	if (lstat(path, &st) || !S_ISSOCK(st.st_mode) || st.st_uid != geteuid()) {
		snprintf(err, errlen, "API socket %s: replaced while it was being made", path);
		return -EEXIST;
	}
	a->sock_dev = st.st_dev;
	a->sock_ino = st.st_ino;
	if (getgrnam_r(group, &gr, buf, sizeof(buf), &g) || !g)
		return 0;
	if (lchown(path, (uid_t)-1, g->gr_gid)) {
		/* Not root and not in the group: 0600 is narrower, not wrong. */
		log_warn("API socket %s stays 0600: cannot give it to group %s: %s", path, group,
			 strerror(errno));
		return 0;
	}
	if (chmod(path, 0660)) {
		ret = -errno;
		snprintf(err, errlen, "API socket %s: chmod: %s", path, strerror(-ret));
		return ret;
	}
	return 0;
}

/* A bound, listening, non-blocking socket for conf->addr, or -errno with a reason in err. */
static int listen_socket(struct api *a, const struct api_conf *conf, char *err, size_t errlen)
{
	const struct endpoint *e = &a->ep;
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_un *sun = (struct sockaddr_un *)&ss;
	const char *addr = conf->addr;
	socklen_t sslen;
	int fd = -1, one = 1, ret;
	mode_t old_mask;

	switch (e->family) {
	case AF_INET:
		sin->sin_family = AF_INET;
		sin->sin_port = htons(e->port);
		memcpy(&sin->sin_addr, e->addr, 4);
		sslen = sizeof(*sin);
		break;
	case AF_INET6:
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(e->port);
		memcpy(&sin6->sin6_addr, e->addr, 16);
		sslen = sizeof(*sin6);
		break;
	default:
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, e->path, sizeof(sun->sun_path));
		sslen = sizeof(*sun);
		break;
	}

	fd = socket(e->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "API socket for %s: %s", addr, strerror(-ret));
		goto out;
	}
	if (e->family == AF_UNIX) {
		if ((ret = unix_dir(e->path, err, errlen)) ||
		    (ret = unix_clear(sun, addr, err, errlen)))
			goto out;
	} else {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (e->family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	/* The socket file is born 0600: no window where others can connect. */
	old_mask = umask(0177);
	ret = bind(fd, (struct sockaddr *)&ss, sslen) ? -errno : 0;
	umask(old_mask);
	if (ret) {
		snprintf(err, errlen, "cannot listen on API address %s: %s", addr, strerror(-ret));
		goto out;
	}
	if (e->family == AF_UNIX &&
	    (ret = unix_grant(a, conf->group ? conf->group : API_SOCKET_GROUP, err, errlen)))
		goto out;
	if (listen(fd, 32)) {
		ret = -errno;
		snprintf(err, errlen, "cannot listen on API address %s: %s", addr, strerror(-ret));
		goto out;
	}
	ret = fd;
	fd = -1;
out:
	if (fd >= 0) {
		close(fd);
		unix_remove(a);
	}
	return ret;
}

static void format_local(struct api *a, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned int port = 0;

	if (a->ep.family == AF_UNIX) {
		snprintf(a->local, sizeof(a->local), "unix:%s", a->ep.path);
		return;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET) {
			const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
			port = ntohs(sin->sin_port);
		} else {
			const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
			port = ntohs(sin6->sin6_port);
		}
	}
	snprintf(a->local, sizeof(a->local), a->ep.family == AF_INET6 ? "[%s]:%u" : "%s:%u", host,
		 port);
}

/* The token's digest into ctx for a TCP listener, which needs one. 0 or -errno with err. */
static int load_token(struct api *a, const struct api_conf *conf, char *err, size_t errlen)
{
	char tok[API_TOKEN_MAX + 1], why[512];
	int ret;

	if (a->ep.family == AF_UNIX)
		return 0;
	if (!conf->token_file || !conf->token_file[0]) {
		snprintf(err, errlen,
			 "API address %s is TCP and needs api_token_file (any local user could "
			 "drive the API without one; capgate token new --file PATH makes one), or "
			 "use a unix socket",
			 conf->addr);
		return -EINVAL;
	}
	ret = api_token_read(conf->token_file, tok, why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "api_token_file %s", why);
		return ret;
	}
	crypto_hash_sha256(a->ctx.token_sha256, (const unsigned char *)tok, strlen(tok));
	sodium_memzero(tok, sizeof(tok));
	a->ctx.need_token = true;
	a->ctx.metrics_public = conf->metrics_public;
	return 0;
}

struct api *api_new(const struct api_ops *ops, struct gateway *gw, const struct api_conf *conf,
		    char *err, size_t errlen)
{
	struct api *a = NULL, *ret = NULL;
	int fd = -1, e = 0;

	a = calloc(1, sizeof(*a));
	if (!a || sodium_init() < 0) {
		e = ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	a->ctx.ops = ops;
	a->ctx.gw = gw;
	if (endpoint_parse(conf->addr, &a->ep, err, errlen)) {
		e = EINVAL;
		goto out;
	}
	if ((e = -load_token(a, conf, err, errlen)))
		goto out;
	fd = listen_socket(a, conf, err, errlen);
	if (fd < 0) {
		e = -fd;
		goto out;
	}
	format_local(a, fd);
	a->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, a,
				  MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED,
				  on_completed, a, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, a,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)API_CONN_MAX,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)API_CONN_TIMEOUT_S,
				  MHD_OPTION_END);
	if (!a->mhd) {
		e = errno ? errno : EIO;
		snprintf(err, errlen, "cannot start the API server on %s", conf->addr);
		goto out;
	}
	fd = -1; /* MHD closes it in MHD_stop_daemon */
	ret = a;
	a = NULL;
out:
	if (fd >= 0)
		close(fd);
	api_free(a);
	if (!ret)
		errno = e;
	return ret;
}

void api_free(struct api *a)
{
	if (!a)
		return;
	if (a->mhd)
		MHD_stop_daemon(a->mhd);
	unix_remove(a);
	sodium_memzero(a->ctx.token_sha256, sizeof(a->ctx.token_sha256));
	free(a);
}

int api_fd(const struct api *a)
{
	const union MHD_DaemonInfo *info;

	info = MHD_get_daemon_info(a->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	return info ? info->epoll_fd : -1;
}

int api_timeout_ms(const struct api *a)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (MHD_get_timeout(a->mhd, &t) != MHD_YES)
		return -1;
	return t > INT_MAX ? INT_MAX : (int)t;
}

void api_process(struct api *a)
{
	MHD_run(a->mhd);
}

void api_local_addr(const struct api *a, char *buf, size_t len)
{
	snprintf(buf, len, "%s", a->local);
}
