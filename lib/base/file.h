/* SPDX-License-Identifier: GPL-2.0 */
/* Small state files: replaced atomically and durably. */
#ifndef CG_BASE_FILE_H
#define CG_BASE_FILE_H

#include <stddef.h>

#include <jansson.h>

/*
 * Writes len bytes of buf to path through path.tmp (mode 0600, fsync,
 * rename, fsync of the directory), so a crash leaves the old file or the
 * new one. Returns 0 or a negative errno; on failure path is unchanged and
 * path.tmp removed.
 */
int file_write_atomic(const char *path, const void *buf, size_t len);

/* root as indented JSON and a newline, through file_write_atomic. 0 or a negative errno. */
int file_write_json(const char *path, const json_t *root);

#endif
