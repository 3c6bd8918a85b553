// SPDX-License-Identifier: GPL-2.0
/* The address forms of the REST API, shared by its server, the CLI client and the config. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/base/endpoint.h"
#include "lib/base/parse_num.h"

int endpoint_parse(const char *s, struct endpoint *out, char *err, size_t errlen)
{
	struct endpoint e = { 0 };
	char host[64];
	const char *colon, *h = s;
	size_t hlen;
	uint32_t port;
	int ret = -EINVAL;

	if (!strncmp(s, "unix:", 5)) {
		if (s[5] != '/') {
			snprintf(err, errlen,
				 "bad API address \"%s\": unix socket path must be absolute", s);
			goto out;
		}
		if (strlen(s + 5) >= sizeof(e.path)) {
			snprintf(err, errlen, "bad API address \"%s\": unix socket path too long",
				 s);
			goto out;
		}
		e.family = AF_UNIX;
		strcpy(e.path, s + 5);
		*out = e;
		ret = 0;
		goto out;
	}

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':') {
			snprintf(err, errlen, "bad API address \"%s\": want [IPv6]:PORT", s);
			goto out;
		}
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
		e.family = AF_INET6;
	} else {
		colon = strrchr(s, ':');
		if (!colon) {
			snprintf(err, errlen,
				 "bad API address \"%s\": want ADDR:PORT or unix:/PATH", s);
			goto out;
		}
		hlen = (size_t)(colon - s);
		e.family = AF_INET;
	}
	if (hlen == 0 || hlen >= sizeof(host)) {
		snprintf(err, errlen, "bad API address \"%s\": bad host part", s);
		goto out;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (inet_pton(e.family, host, e.addr) != 1) {
		snprintf(err, errlen, "bad API address \"%s\": \"%s\" is not a numeric %s address",
			 s, host, e.family == AF_INET ? "IPv4" : "IPv6");
		goto out;
	}
	if (parse_u32(colon + 1, 0, 65535, &port)) {
		snprintf(err, errlen, "bad API address \"%s\": port must be a number 0..65535", s);
		goto out;
	}
	e.port = (uint16_t)port;
	*out = e;
	ret = 0;
out:
	return ret;
}
