// SPDX-License-Identifier: GPL-2.0
/* REST API client on libcurl, for the CLI and the tests. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <sodium.h>

#include "lib/api/client.h"
#include "lib/api/token.h"
#include "lib/base/endpoint.h"

#define API_TIMEOUT_MS 5000L
/* Responses are listings and counters; anything bigger is not our API. */
#define API_RESP_MAX (64UL * 1024 * 1024)

struct buf {
	char *p;
	size_t len, cap;
	bool too_big;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct buf *b = ctx;
	size_t n = size * nmemb, cap;
	char *p;

	if (n > API_RESP_MAX - b->len) {
		b->too_big = true;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}

static int curl_errno(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

int api_request(const char *addr, const char *token, const char *method, const char *path,
		const char *body, long *status, char **resp, char *err, size_t errlen)
{
	char url[512], host[INET6_ADDRSTRLEN], cerr[CURL_ERROR_SIZE] = "";
	char auth[API_TOKEN_MAX + sizeof("Authorization: Bearer ")];
	struct curl_slist *hdrs = NULL;
	struct endpoint ep;
	struct buf b = { 0 };
	CURL *c = NULL;
	CURLcode cc;
	long code = 0, oserr = 0;
	int ret;

	if (endpoint_parse(addr, &ep, err, errlen)) {
		ret = -EINVAL;
		goto out;
	}
	if (ep.family == AF_UNIX) {
		snprintf(url, sizeof(url), "http://localhost%s", path);
	} else {
		inet_ntop(ep.family, ep.addr, host, sizeof(host));
		snprintf(url, sizeof(url),
			 ep.family == AF_INET6 ? "http://[%s]:%u%s" : "http://%s:%u%s", host,
			 ep.port, path);
	}
	c = curl_easy_init();
	if (!c) {
		ret = -ENOMEM;
		snprintf(err, errlen, "cannot reach the capgate API at %s: curl_easy_init failed",
			 addr);
		goto out;
	}
	if (token && strlen(token) > API_TOKEN_MAX) {
		ret = -EINVAL;
		snprintf(err, errlen, "API token longer than %d characters", API_TOKEN_MAX);
		goto out;
	}
	if (token)
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	if ((body && !(hdrs = curl_slist_append(hdrs, "Content-Type: application/json"))) ||
	    (token && !(hdrs = curl_slist_append(hdrs, auth)))) {
		ret = -ENOMEM;
		snprintf(err, errlen, "cannot reach the capgate API at %s: out of memory", addr);
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, API_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (ep.family == AF_UNIX)
		curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, ep.path);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	}
	cc = curl_easy_perform(c);
	if (cc == CURLE_COULDNT_CONNECT &&
	    curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr) == CURLE_OK && oserr > 0) {
		/* curl's own text names "localhost port 80" even for a unix socket */
		ret = -(int)oserr;
		snprintf(err, errlen, "cannot reach the capgate API at %s: %s", addr,
			 strerror((int)oserr));
		goto out;
	}
	if (cc != CURLE_OK) {
		ret = b.too_big ? -EIO : curl_errno(cc);
		snprintf(err, errlen, "cannot reach the capgate API at %s: %s", addr,
			 b.too_big ? "response too large"
			 : cerr[0] ? cerr
				   : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (!b.p) {
		b.p = strdup("");
		if (!b.p) {
			ret = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	*status = code;
	*resp = b.p;
	b.p = NULL;
	ret = 0;
out:
	free(b.p);
	sodium_memzero(auth, sizeof(auth));
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return ret;
}
