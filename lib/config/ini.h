/* SPDX-License-Identifier: GPL-2.0 */
/* The INI reader every kind of config shares: its state and its line API. */
#ifndef CG_CONFIG_INI_H
#define CG_CONFIG_INI_H

#include "lib/base/name.h"

#define CG_ERR_MAX 256
#define CG_PATH_MAX 256

struct config_kind; /* lib/config/kind.h */

/*
 * Parser state shared by every kind; each kind embeds it first in its own
 * context (struct gw_config_ctx, struct client_config_ctx), whose init
 * function sets it up. err holds the first error's text (without the line
 * number) and err_line the line it refers to (0: the whole file).
 */
struct config_ctx {
	const struct config_kind *kind;
	char err[CG_ERR_MAX];
	int failed;
	unsigned int line; /* set by the caller: line of the next config_section/config_line */
	unsigned int err_line;
	/* private to lib/config/ */
	char section[CG_NAME_MAX + 16];
	unsigned int sub_seen; /* keys seen in this section, for kinds that keep no other set */
};

/*
 * A "[section]" header. Optional: config_line starts a section by itself when
 * its section changes, but only this sees empty and repeated sections.
 * Returns 0, or -EINVAL with ctx->err set.
 */
int config_section(struct config_ctx *ctx, const char *section);

/*
 * One "key = value" of a section (value already stripped of comments and
 * space, as inih gives it). Returns 0, or -EINVAL with ctx->err set.
 */
int config_line(struct config_ctx *ctx, const char *section, const char *key, const char *value);

/*
 * Checks what needs the whole file (required keys, overlaps, names that refer
 * to sections anywhere in the file) and fills the defaults that depend on
 * other keys. 0 or -EINVAL with ctx->err.
 */
int config_finish(struct config_ctx *ctx);

#endif
