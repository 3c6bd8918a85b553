/* SPDX-License-Identifier: GPL-2.0 */
/* What the INI reader gives each kind of config file: private to lib/config/. */
#ifndef CG_CONFIG_KIND_H
#define CG_CONFIG_KIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/parse_num.h"
#include "lib/config/ini.h"

/* Values are quoted in messages up to QUOTE_MAX bytes, in a buffer of QBUF. */
#define QUOTE_MAX 64
#define QBUF (QUOTE_MAX + 4)

#define SEC(n) ((uint64_t)(n)*NS_PER_SEC)
#define NKEYS(t) (sizeof(t) / sizeof((t)[0]))

/* A key of a section: its setter (0, or -EINVAL through config_fail) and its seen bit. */
struct config_key {
	const char *name;
	int (*set)(struct config_ctx *ctx, const char *key, const char *v);
	unsigned int bit; /* in the section's seen mask: given twice is refused; 0: a list that
			     may go on over several lines (each adds to it) */
};

/* What a kind of config file (lib/config/gateway.c, client.c) adds to the reader. */
struct config_kind {
	/* A "[section]" starts (ctx->section is set): 0, or -EINVAL through config_fail. */
	int (*section)(struct config_ctx *ctx, const char *section);
	/*
	 * The keys of ctx->section, or NULL if the section is unknown or was
	 * refused. *seen is where their bits go (it starts as &ctx->sub_seen,
	 * which each section clears); *lines, if set, gets the line of each key
	 * by its index in the table.
	 */
	const struct config_key *(*keys)(struct config_ctx *ctx, size_t *n, unsigned int **seen,
					 unsigned int **lines);
	/* config_finish, once no error was recorded. */
	int (*finish)(struct config_ctx *ctx);
};

/* Records the first error only (later ones are often knock-on effects); returns -EINVAL. */
int config_fail(struct config_ctx *ctx, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* s fit for a message in buf (QBUF bytes): at most QUOTE_MAX bytes, control characters '?'. */
const char *config_quote(const char *s, char *buf);

/* A duration in [min, max] (range is the text for the message) into *out. 0 or -EINVAL. */
int config_set_duration(struct config_ctx *ctx, const char *key, const char *v, uint64_t min,
			uint64_t max, const char *range, uint64_t *out);

/* A port 1..65535 into *out. 0 or -EINVAL. */
int config_set_port(struct config_ctx *ctx, const char *key, const char *v, uint16_t *out);

/* A path shorter than CG_PATH_MAX into out[CG_PATH_MAX]. 0 or -EINVAL. */
int config_set_path(struct config_ctx *ctx, const char *key, const char *v, char *out);

/* yes or no into *out. 0 or -EINVAL. */
int config_set_bool(struct config_ctx *ctx, const char *key, const char *v, bool *out);

/* An interface name (the kernel's rule) into out[IF_NAMESIZE]. 0 or -EINVAL. */
int config_set_ifname(struct config_ctx *ctx, const char *key, const char *v, char *out);
/* A SPIFFE trust domain (trust_domain_valid) into out (CG_TRUST_DOMAIN_MAX + 1 bytes). */
int config_set_trust_domain(struct config_ctx *ctx, const char *key, const char *v, char *out);
/* The data path's worker count: 0 (the default) .. PATH_WORKERS_MAX (lib/tunnel/path.h). */
int config_set_workers(struct config_ctx *ctx, const char *key, const char *v, unsigned int *out);
/* The data path's levers: "all", "none" or a list of names (path_levers_parse). */
int config_set_fast_path(struct config_ctx *ctx, const char *key, const char *v, unsigned int *out);

/*
 * port[0..3) of [section] (keys t[key[i]], their lines in key_line) must all
 * differ. 0 or -EINVAL.
 */
int config_check_ports(struct config_ctx *ctx, const char *section, const uint16_t port[3],
		       const int key[3], const struct config_key *t, const unsigned int *key_line);

/* The later of two lines, for an error that two keys make together. */
static inline unsigned int config_later(unsigned int a, unsigned int b)
{
	return a > b ? a : b;
}

/* Directory part of a path into out: "." when it has none, "/" for "/x". */
void config_dir_of(const char *path, char *out, size_t len);

/*
 * Runs inih over text into ctx (of any kind), then config_finish. Returns 0,
 * -ENOMEM, or -EINVAL with "NAME:LINE: reason" in err.
 */
int config_parse_text(struct config_ctx *ctx, const char *text, const char *name, char *err,
		      size_t errlen);

/*
 * Reads a config file (at most 1 MiB, no NUL bytes) into *text, which the
 * caller frees. 0 or a negative errno with "PATH: reason" in err.
 */
int config_read_file(const char *path, char **text, char *err, size_t errlen);

/* The absolute directory of the file at path, for relative paths in it. 0 or -errno. */
int config_file_dir(const char *path, char *dir, size_t len, char *err, size_t errlen);

/*
 * Makes p (CG_PATH_MAX bytes, [section] key of file) relative to dir if it is
 * relative ("." is dir itself). 0, or -EINVAL with a reason in err.
 */
int config_resolve(const char *file, const char *dir, const char *section, const char *key, char *p,
		   char *err, size_t errlen);

#endif
