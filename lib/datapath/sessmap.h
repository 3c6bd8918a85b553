/* SPDX-License-Identifier: GPL-2.0 */
/* The gate's session map (tun_sessions): an array of slots, each holding its session's id. */
#ifndef CG_DATAPATH_SESSMAP_H
#define CG_DATAPATH_SESSMAP_H

#include <stdint.h>

#include "abi/tunnel.h"

/*
 * fd is the tun_sessions map (sessmap_set_scopes: the program that writes
 * scopes into it). Whole entries are written and read under the
 * entry's lock (BPF_F_LOCK), so the gate's locked section never meets half an
 * entry; what the gate reads without the lock is ordered by how entries are
 * installed (sessmap_put) and checked again under the lock (bpf/cap.h:
 * cap_session). Functions return 0 or a negative errno.
 */

/*
 * Installs cs in the slot of cs->id: first with id 0, then with the id.
 * -EEXIST if that slot holds a session; on a failed second write the slot is
 * emptied again.
 */
int sessmap_put(int fd, const struct cg_session *cs);
/* The entry of session id; -ENOENT if its slot holds no session or another one. */
int sessmap_get(int fd, uint32_t id, struct cg_session *cs);
/*
 * Gives session id new scopes (n <= CG_MAX_SCOPES), keeping the rest of its
 * entry: runs the gate's xdp_rescope (@rescope_fd, its program fd) on a
 * struct cg_rescope, which writes only the scopes, under the entry's lock,
 * so nothing the gate wrote is put back stale. -ENOENT if its slot holds no
 * session or another one, -EINVAL for n too large or id 0, or what the
 * kernel said.
 */
int sessmap_set_scopes(int rescope_fd, uint32_t id, const struct cg_scope *scopes, uint32_t n);
/* Empties the slot of session id if it holds that session; -ENOENT otherwise. */
int sessmap_del(int fd, uint32_t id);
/* Number of slots that hold a session, or a negative errno. */
int sessmap_count(int fd);
/* Empties every slot; returns how many held a session, or a negative errno. */
int sessmap_clear(int fd);

#endif
