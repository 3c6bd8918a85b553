/* SPDX-License-Identifier: GPL-2.0 */
/* The auth worker's sandbox: resource limits, an empty root, a seccomp allow-list. */
#ifndef CG_AUTH_SANDBOX_H
#define CG_AUTH_SANDBOX_H

#include <stdint.h>

/*
 * The worker calls these in this order, the first two as root (RLIMIT_NOFILE
 * may go up, mounts need CAP_SYS_ADMIN), the last after the privilege drop,
 * once it holds everything it needs. Each returns 0 or -errno.
 */

/*
 * No core files, no file writes (RLIMIT_FSIZE 0), descriptors 0..nofile-1
 * (RLIMIT_NOFILE), and at most data_budget bytes of data mappings beyond
 * what the process has now (RLIMIT_DATA, read from /proc/self/status).
 * Soft and hard limits alike: there is no way back up.
 */
int sandbox_rlimits(uint64_t nofile, uint64_t data_budget);

/*
 * A private mount namespace whose root is an empty, read-only tmpfs; the old
 * root is detached, so no file of the host can be reached by any path.
 */
int sandbox_empty_root(void);

/*
 * The seccomp allow-list (docs/auth.md): any other system call kills the
 * process (SIGSYS); open/openat fail with EACCES.
 */
int sandbox_seccomp(void);

#endif
