/* SPDX-License-Identifier: GPL-2.0 */
/* The REST API server (libmicrohttpd), run from the daemon's own poll loop: no threads. */
#ifndef CG_API_H
#define CG_API_H

#include <stddef.h>

struct gateway;
struct api_ops;
struct api;

/*
 * Listens on addr: "127.0.0.1:7070", "[::1]:7070" or "unix:/path" (a stale
 * socket file is replaced; the new one is mode 0600). Requests are served
 * only from api_process(), by calling ops on gw (lib/api/routes.h). Returns
 * the server, or NULL with errno set (EINVAL bad address, EADDRINUSE, EACCES,
 * ...) and a reason in err. Whatever api_new() returns, api_free() releases.
 */
struct api *api_new(const struct api_ops *ops, struct gateway *gw, const char *addr, char *err,
		    size_t errlen);

/* Stops serving, closes every connection, removes the unix socket file. NULL is ok. */
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
