// SPDX-License-Identifier: GPL-2.0
/* Small state files: written to a temporary name, synced, renamed, the directory synced. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/base/file.h"

static int write_all(int fd, const char *buf, size_t len)
{
	ssize_t w;

	while (len) {
		w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

int file_write_atomic(const char *path, const void *buf, size_t len)
{
	char *tmp = NULL, *dir = NULL;
	int fd = -1, dfd = -1, ret;
	bool created = false;
	size_t n;

	n = strlen(path) + sizeof(".tmp");
	tmp = malloc(n);
	if (!tmp) {
		ret = -ENOMEM;
		goto out;
	}
	snprintf(tmp, n, "%s.tmp", path);
	/* A stale tmp from a crash is replaced; anything else makes open fail below. */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	created = true;
	/* The umask may have taken bits away; say exactly what we mean. */
	if (fchmod(fd, 0600)) {
		ret = -errno;
		goto out;
	}
	ret = write_all(fd, buf, len);
	if (ret)
		goto out;
	if (fsync(fd)) {
		ret = -errno;
		goto out;
	}
	ret = close(fd);
	fd = -1;
	if (ret) {
		ret = -errno;
		goto out;
	}
	if (rename(tmp, path)) {
		ret = -errno;
		goto out;
	}
	created = false;
	/* The rename is durable only once the directory is on disk. */
	dir = strdup(path);
	if (!dir) {
		ret = -ENOMEM;
		goto out;
	}
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd)) {
		ret = -errno;
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (created)
		unlink(tmp);
	free(dir);
	free(tmp);
	return ret;
}

int file_write_json(const char *path, const json_t *root)
{
	char *text = root ? json_dumps(root, JSON_INDENT(2)) : NULL, *t;
	size_t n;
	int ret;

	if (!text)
		return -ENOMEM;
	n = strlen(text);
	t = realloc(text, n + 2);
	if (!t) {
		free(text);
		return -ENOMEM;
	}
	t[n] = '\n';
	t[n + 1] = 0;
	ret = file_write_atomic(path, t, n + 1);
	free(t);
	return ret;
}
