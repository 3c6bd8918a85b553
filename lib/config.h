/* SPDX-License-Identifier: GPL-2.0 */
/* Gateway config: INI (inih) through config_init/config_line/config_finish, no I/O inside. */
#ifndef CG_CONFIG_H
#define CG_CONFIG_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/gate.h"
#include "abi/knock.h"

#define CG_NAME_MAX 64
#define CG_OPEN_MAX 256
#define CG_ERR_MAX 256

enum cg_xdp_mode {
	CG_XDP_AUTO = 0, /* native where the driver has it, else generic */
	CG_XDP_NATIVE,
	CG_XDP_GENERIC,
};

struct knock_cfg {
	char name[CG_NAME_MAX];
	struct knock_profile prof; /* ports in network order, as the gate reads them */
};

struct gw_config {
	char iface[IF_NAMESIZE];  /* [gateway] interface, required */
	char name[CG_NAME_MAX];	  /* [gateway] name, default: iface */
	char api[128];		  /* [gateway] api, default 127.0.0.1:7070 */
	char state_dir[256];	  /* [gateway] state_dir, default /var/lib/capgate */
	uint32_t default_action;  /* [gateway] default = drop|pass (enum gate_default) */
	uint32_t xdp_mode;	  /* [gateway] xdp_mode = auto|native|generic (enum cg_xdp_mode) */
	uint64_t flow_timeout_ns; /* [gateway] flow_timeout, default 5m */
	struct cg_port open[CG_OPEN_MAX]; /* [open] tcp = / udp = */
	size_t nopen;
	struct knock_cfg knocks[CG_KNOCK_MAX_PROFILES]; /* [knock NAME] */
	size_t nknocks;
};

/*
 * Parser state. err holds the first error's text (without the line number)
 * and err_line the line it refers to (0: the whole file).
 */
struct config_ctx {
	struct gw_config *cfg;
	char err[CG_ERR_MAX];
	int failed;
	unsigned int line; /* set by the caller: line of the next config_section/config_line */
	unsigned int err_line;
	/* private to config.c */
	char section[CG_NAME_MAX + 16];
	unsigned int seen; /* bit per [gateway]/[open] key and section, to refuse repeats */
	int knock;	   /* index of the [knock] section being read, or -1 */
	unsigned int knock_seen;
	unsigned int gw_line;				/* line of [gateway] */
	unsigned int knock_line[CG_KNOCK_MAX_PROFILES]; /* line of each [knock NAME] */
	unsigned int seq_line[CG_KNOCK_MAX_PROFILES];	/* line of each sequence = */
};

/* Fills *cfg with the defaults; ctx refers to cfg until config_finish. */
void config_init(struct config_ctx *ctx, struct gw_config *cfg);

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

/* Checks what needs the whole file (required keys, overlaps). 0 or -EINVAL with ctx->err. */
int config_finish(struct config_ctx *ctx);

/*
 * Parses INI text / a file. On error returns -EINVAL (or -errno if the file
 * cannot be read) and writes "FILE:LINE: reason" into err. *cfg is written
 * only on success.
 */
int config_parse_string(const char *text, const char *name, struct gw_config *cfg, char *err,
			size_t errlen);
int config_load(const char *path, struct gw_config *cfg, char *err, size_t errlen);

#endif
