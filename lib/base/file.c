// SPDX-License-Identifier: GPL-2.0
/* Small state files: written to a temporary name, synced, renamed, the directory synced. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/base/file.h"

int file_write_all(int fd, const void *data, size_t len)
{
	const char *buf = data;
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
	ret = file_write_all(fd, buf, len);
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

/* "uid 0 (root)", or "uid N" if no user has that id. */
static const char *uid_text(uid_t uid, char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char names[1024];

	if (getpwuid_r(uid, &pw, names, sizeof(names), &res) || !res)
		snprintf(buf, len, "uid %u", (unsigned int)uid);
	else
		snprintf(buf, len, "uid %u (%s)", (unsigned int)uid, res->pw_name);
	return buf;
}

int file_open_secret(const char *path, const char *what, char *err, size_t errlen)
{
	char have[64], want[64];
	struct stat st;
	int fd = -1, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	/* STYLE §5: a secret others can read is a secret others may have. */
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		ret = -EPERM;
		snprintf(err, errlen,
			 "%s: mode %04o: %s must not be accessible by group or others (chmod 600)",
			 path, (unsigned int)(st.st_mode & 07777), what);
		goto out;
	}
	/* One another user can rewrite is theirs to choose, whatever its mode. */
	if (st.st_uid != geteuid()) {
		ret = -EPERM;
		snprintf(err, errlen,
			 "%s: owned by %s, expected %s (the user capgate runs as): %s another "
			 "user can rewrite is refused (chown)",
			 path, uid_text(st.st_uid, have, sizeof(have)),
			 uid_text(geteuid(), want, sizeof(want)), what);
		goto out;
	}
	ret = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

int file_make_room(const char *path, bool force, char *err, size_t errlen)
{
	struct stat st;
	int ret;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (!force) {
		snprintf(err, errlen, "%s exists: refusing to overwrite it (--force replaces it)",
			 path);
		return -EEXIST;
	}
	if (unlink(path)) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	return 0;
}

int file_create(const char *path, mode_t mode, char *err, size_t errlen)
{
	int fd, ret;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	/* The umask may have removed bits but never adds any: set the exact mode. */
	if (fchmod(fd, mode)) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		close(fd);
		unlink(path);
		return ret;
	}
	return fd;
}
