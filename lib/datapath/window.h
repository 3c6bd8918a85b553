/* SPDX-License-Identifier: GPL-2.0 */
/* The replay windows of encrypted sessions (tun_windows), mapped into user space. */
#ifndef CG_DATAPATH_WINDOW_H
#define CG_DATAPATH_WINDOW_H

#include <stdint.h>

#include "abi/replay.h"

/*
 * tun_windows is an array of CG_MAX_SESSIONS struct cg_replay_window, one per
 * session slot (CG_SESSION_SLOT(id)), created BPF_F_MMAPABLE so that the
 * daemon updates a window with plain stores, with no syscall per packet: the
 * data worker that owns a session calls replay_accept(&w->top, w->bitmap, c)
 * on windows_at(ws, slot) after the packet opened (one writer per window at a
 * time: the caller serialises), and the gate reads the same memory with
 * replay_would_accept() before it passes a packet up (bpf/cap.h). Order and
 * what holds on weakly ordered CPUs: docs/datapath.md, "The replay window of
 * encrypted sessions".
 *
 * A struct windows owns one mapping of the whole array; the mapping stays
 * valid after the map's fd is closed (the pin or the program keeps the map).
 */
struct windows;

/*
 * Maps the whole tun_windows array of map_fd (MAP_SHARED, read and write).
 * NULL with errno set: EINVAL if map_fd is not an array of CG_MAX_SESSIONS
 * struct cg_replay_window created BPF_F_MMAPABLE, or what the kernel said.
 * windows_close() releases it.
 */
struct windows *windows_open(int map_fd);

/* Unmaps and frees ws; NULL is fine. Pointers from windows_at() die with it. */
void windows_close(struct windows *ws);

/* The window of session slot @slot (< CG_MAX_SESSIONS), or NULL past the end. */
struct cg_replay_window *windows_at(struct windows *ws, uint32_t slot);

#endif
