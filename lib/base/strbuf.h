/* SPDX-License-Identifier: GPL-2.0 */
/* Growing text in a malloc'd string (metrics exposition). */
#ifndef CG_BASE_STRBUF_H
#define CG_BASE_STRBUF_H

/*
 * Appends printf output to *buf (NULL or a malloc'd NUL-terminated string),
 * reallocating it. Returns 0, or -ENOMEM / -EINVAL with *buf unchanged.
 */
int str_appendf(char **buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
