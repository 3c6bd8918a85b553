// SPDX-License-Identifier: GPL-2.0
/* The replay windows of encrypted sessions: one shared mapping of the tun_windows array. */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "lib/datapath/mapmem.h"
#include "lib/datapath/window.h"

struct windows {
	struct cg_replay_window *w;
	size_t len; /* bytes mapped */
};

/* An array value's stride in the mapping is its size rounded up to 8: none here. */
_Static_assert(sizeof(struct cg_replay_window) % 8 == 0, "tun_windows stride");

struct windows *windows_open(int map_fd)
{
	struct windows *ws = calloc(1, sizeof(*ws));
	int err;

	if (!ws)
		return NULL;
	ws->w = mapmem_open(map_fd, sizeof(struct cg_replay_window), CG_MAX_SESSIONS, &ws->len);
	if (!ws->w) {
		err = errno;
		free(ws);
		errno = err;
		return NULL;
	}
	return ws;
}

void windows_close(struct windows *ws)
{
	if (!ws)
		return;
	munmap(ws->w, ws->len);
	free(ws);
}

struct cg_replay_window *windows_at(struct windows *ws, uint32_t slot)
{
	return slot < CG_MAX_SESSIONS ? &ws->w[slot] : NULL;
}
