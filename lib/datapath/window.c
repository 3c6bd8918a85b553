// SPDX-License-Identifier: GPL-2.0
/* The replay windows of encrypted sessions: one shared mapping of the tun_windows array. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "lib/datapath/window.h"

struct windows {
	struct cg_replay_window *w;
	size_t len; /* bytes mapped */
};

/* An array value's stride in the mapping is its size rounded up to 8: none here. */
_Static_assert(sizeof(struct cg_replay_window) % 8 == 0, "tun_windows stride");

struct windows *windows_open(int map_fd)
{
	struct bpf_map_info info;
	__u32 info_len = sizeof(info);
	struct windows *ws = NULL;
	long page = sysconf(_SC_PAGESIZE);
	size_t len;
	void *p;
	int err;

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(map_fd, &info, &info_len))
		return NULL;
	if (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != sizeof(__u32) ||
	    info.value_size != sizeof(struct cg_replay_window) ||
	    info.max_entries != CG_MAX_SESSIONS || !(info.map_flags & BPF_F_MMAPABLE) ||
	    page <= 0) {
		errno = EINVAL;
		return NULL;
	}
	len = (size_t)CG_MAX_SESSIONS * sizeof(struct cg_replay_window);
	len = (len + (size_t)page - 1) / (size_t)page * (size_t)page;
	ws = calloc(1, sizeof(*ws));
	if (!ws)
		return NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED) {
		err = errno;
		free(ws);
		errno = err;
		return NULL;
	}
	ws->w = p;
	ws->len = len;
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
