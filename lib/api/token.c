// SPDX-License-Identifier: GPL-2.0
/* API token files: read with the key checks, made from libsodium's random bytes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "lib/api/token.h"
#include "lib/base/file.h"

/* RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" */
static bool token_valid(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && (('A' <= s[i] && s[i] <= 'Z') || ('a' <= s[i] && s[i] <= 'z') ||
			 ('0' <= s[i] && s[i] <= '9') || (s[i] && strchr("-._~+/", s[i]))))
		i++;
	if (i == 0)
		return false;
	while (i < n && s[i] == '=')
		i++;
	return i == n && n >= API_TOKEN_MIN && n <= API_TOKEN_MAX;
}

int api_token_read(const char *path, char tok[API_TOKEN_MAX + 1], char *err, size_t errlen)
{
	char buf[API_TOKEN_MAX + 3];
	size_t n = 0;
	ssize_t r;
	int fd, ret;

	fd = file_open_secret(path, "an API token", err, errlen);
	if (fd < 0)
		return fd;
	while (n < sizeof(buf)) {
		r = read(fd, buf + n, sizeof(buf) - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n && buf[n - 1] == '\n')
		n--;
	if (!token_valid(buf, n)) {
		ret = -EINVAL;
		snprintf(err, errlen,
			 "%s: not an API token (want %d..%d characters of A-Z a-z 0-9 - . _ ~ + / "
			 "and a final =, then at most a newline; capgate token new makes one)",
			 path, API_TOKEN_MIN, API_TOKEN_MAX);
		goto out;
	}
	memcpy(tok, buf, n);
	tok[n] = '\0';
	ret = 0;
out:
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return ret;
}

int api_token_new(const char *path, bool force, char *err, size_t errlen)
{
	unsigned char raw[API_TOKEN_BYTES];
	char text[API_TOKEN_BYTES * 2 + 2];
	size_t len = sizeof(text) - 1;
	int fd = -1, ret;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium did not initialise");
		return -EIO;
	}
	if ((ret = file_make_room(path, force, err, errlen)))
		return ret;
	fd = file_create(path, 0600, err, errlen);
	if (fd < 0)
		return fd;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(text, sizeof(text), raw, sizeof(raw));
	text[len - 1] = '\n';
	ret = file_write_all(fd, text, len);
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (ret) {
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		unlink(path);
	}
	sodium_memzero(raw, sizeof(raw));
	sodium_memzero(text, sizeof(text));
	return ret;
}
