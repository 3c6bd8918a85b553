/* SPDX-License-Identifier: GPL-2.0 */
/* lb.json in state_dir: the balanced services' backends as the API left them. */
#ifndef CG_LB_STORE_H
#define CG_LB_STORE_H

#include <stddef.h>

#include "lib/base/name.h"
#include "lib/lb/lb.h"

/*
 * One service: the backends its [service] section listed when the file was
 * saved (cfg), and the backends in force (be: the config's as changed by the
 * API). A restart whose config lists the same cfg keeps be; a config that
 * changed wins (docs/lb.md, "Changes through the API").
 */
struct lb_store_svc {
	char name[CG_NAME_MAX];
	struct lb_be *cfg, *be;
	size_t ncfg, nbe;
};

struct lb_store {
	struct lb_store_svc *svc;
	size_t n;
};

/*
 * Reads path. A missing file is an empty store. A file that is not a store
 * (bad JSON, version, names, backends, a service twice, more than
 * LB_BACKENDS_PER_SVC) is -EINVAL with "PATH: reason" in err; *s is written
 * only on success.
 */
int lb_store_load(struct lb_store *s, const char *path, char *err, size_t errlen);

/* Writes s to path atomically (lib/base/file.h). 0 or a negative errno. */
int lb_store_save(const struct lb_store *s, const char *path);

/* The service named name, or NULL. */
struct lb_store_svc *lb_store_find(const struct lb_store *s, const char *name);

/*
 * Sets service name's lists to copies of cfg and be (adding the service if
 * new). 0 or -ENOMEM (s unchanged).
 */
int lb_store_set(struct lb_store *s, const char *name, const struct lb_be *cfg, size_t ncfg,
		 const struct lb_be *be, size_t nbe);

/* Frees everything; a zeroed store is fine. */
void lb_store_free(struct lb_store *s);

#endif
