/* SPDX-License-Identifier: GPL-2.0 */
/* Device groups set through the API: device name -> groups, hashed, persisted in devices.json. */
#ifndef CG_AUTH_REGISTRY_H
#define CG_AUTH_REGISTRY_H

#include <stddef.h>

#include <jansson.h>

#include "lib/base/name.h"

#define REGISTRY_GROUPS_MAX 16 /* groups a device holds through the API */
#define REGISTRY_MAX 65536     /* devices a registry holds */

struct registry;

/* An empty registry saved to path (state_dir/NAME/devices.json). NULL with errno. */
struct registry *registry_new(const char *path);
void registry_free(struct registry *r);

/*
 * Reads the file (absent: empty). A file that cannot be read or parsed, or
 * holds a bad entry, returns a negative errno with the reason in err and the
 * registry stays empty: the caller must not start.
 */
int registry_load(struct registry *r, char *err, size_t errlen);

/*
 * Sets device's groups to groups[0..n) (n = 0 removes the device), saved to
 * the file first. Duplicates are kept once, in the order given. 0, -EINVAL
 * (a bad name, n > REGISTRY_GROUPS_MAX), -ENOSPC, -EIO (not saved: nothing
 * changed), -ENOENT (n = 0 and the device holds none).
 */
int registry_set(struct registry *r, const char *device, const char *const *groups, size_t n);

/*
 * The groups the registry gives device: writes at most max pointers into
 * out (valid until the next registry_set), returns how many it wrote.
 */
size_t registry_groups(const struct registry *r, const char *device, const char **out, size_t max);

/* {"dev1":["sensors","floor2"], ...} in the order set. NULL on ENOMEM. */
json_t *registry_json(const struct registry *r);

#endif
