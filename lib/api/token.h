/* SPDX-License-Identifier: GPL-2.0 */
/* API tokens: the token file (its checks and format) and making a new one. */
#ifndef CG_API_TOKEN_H
#define CG_API_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A token is 32..256 characters of RFC 6750's b64token set (A-Z a-z 0-9 - . _ ~ + / then =). */
#define API_TOKEN_MIN 32
#define API_TOKEN_MAX 256
/* capgate token new: this many random bytes, written as lowercase hex (64 characters). */
#define API_TOKEN_BYTES 32

/*
 * Reads the token file at path, checked on the open descriptor as keys are
 * (lib/base/file.h file_open_secret: a regular file of this user, no access
 * for group or others). Its content is the token and at most one final
 * newline. Writes the token, NUL-terminated, into tok on success only; the
 * caller wipes it (sodium_memzero). Returns 0 or a negative errno (-EPERM
 * mode or owner, -EINVAL not a token) with "PATH: reason" in err.
 */
int api_token_read(const char *path, char tok[API_TOKEN_MAX + 1], char *err, size_t errlen);

/*
 * Writes a new token (API_TOKEN_BYTES from libsodium's randombytes_buf, hex,
 * a newline) to a new file at path, mode 0600 (lib/base/file.h file_create:
 * O_EXCL, no symlink followed), synced. An existing file is refused unless
 * force (then replaced). Returns 0 or a negative errno with a reason in err;
 * on failure no file is left behind.
 */
int api_token_new(const char *path, bool force, char *err, size_t errlen);

#endif
