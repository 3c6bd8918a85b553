/* SPDX-License-Identifier: GPL-2.0 */
/* The CLI's HTTP client for the REST API (libcurl). */
#ifndef CG_API_CLIENT_H
#define CG_API_CLIENT_H

#include <stddef.h>

/*
 * One request to the API at addr ("127.0.0.1:7070", "[::1]:7070",
 * "unix:/path"): method, path ("/v1/rules"), body (JSON, or NULL for none),
 * with "Authorization: Bearer token" unless token is NULL.
 * Gives up after 5 s. Returns 0 with the HTTP status in *status and the
 * response body in *resp (malloc'd, NUL-terminated, possibly empty; the
 * caller frees it), whatever the status. On failure returns -EINVAL (bad
 * address), the connect errno (-ECONNREFUSED, -ENOENT, ...), -ETIMEDOUT,
 * -ENOMEM or -EIO, with a reason in err ("cannot reach the capgate API at
 * ADDR: ..."); out-params are then untouched.
 */
int api_request(const char *addr, const char *token, const char *method, const char *path,
		const char *body, long *status, char **resp, char *err, size_t errlen);

#endif
