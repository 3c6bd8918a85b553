/* SPDX-License-Identifier: GPL-2.0 */
/* Small state files replaced atomically and durably; secret files created and opened safely. */
#ifndef CG_BASE_FILE_H
#define CG_BASE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

/* Writes all len bytes to fd (again after EINTR and short writes). 0 or a negative errno. */
int file_write_all(int fd, const void *buf, size_t len);

/*
 * Writes len bytes of buf to path through path.tmp (mode 0600, fsync,
 * rename, fsync of the directory), so a crash leaves the old file or the
 * new one. Returns 0 or a negative errno; on failure path is unchanged and
 * path.tmp removed.
 */
int file_write_atomic(const char *path, const void *buf, size_t len);

/* root as indented JSON and a newline, through file_write_atomic. 0 or a negative errno. */
int file_write_json(const char *path, const json_t *root);

/*
 * Opens a secret (a private key, an API token) for reading and checks it on
 * the open descriptor: a regular file, owned by the effective uid (a file
 * another user can rewrite is theirs to choose), no access for group or
 * others. what names it in messages ("a private key"). Returns the fd
 * (O_CLOEXEC; the caller closes it), or a negative errno (-EPERM for the
 * mode or the owner, -EINVAL not a regular file) with "PATH: reason" in err.
 */
int file_open_secret(const char *path, const char *what, char *err, size_t errlen);

/*
 * Makes room for a new file at path: 0 if there is none; with force an
 * existing one is removed (a symlink itself, never its target), without it
 * -EEXIST ("PATH exists: refusing to overwrite it (--force replaces it)").
 * Other failures: a negative errno with "PATH: reason" in err.
 */
int file_make_room(const char *path, bool force, char *err, size_t errlen);

/*
 * Creates path (O_CREAT | O_EXCL | O_NOFOLLOW: never an existing file, never
 * through a symlink) for writing with exactly mode, whatever the umask.
 * Returns the fd (O_CLOEXEC), or a negative errno with "PATH: reason" in err.
 */
int file_create(const char *path, mode_t mode, char *err, size_t errlen);

#endif
