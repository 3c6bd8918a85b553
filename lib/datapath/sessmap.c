// SPDX-License-Identifier: GPL-2.0
/* The gate's session map (tun_sessions): an array of slots, each holding its session's id. */
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>

#include "lib/datapath/sessmap.h"

static int slot_read(int fd, uint32_t slot, struct cg_session *cs)
{
	return bpf_map_lookup_elem_flags(fd, &slot, cs, BPF_F_LOCK) ? -errno : 0;
}

static int slot_write(int fd, uint32_t slot, const struct cg_session *cs)
{
	return bpf_map_update_elem(fd, &slot, cs, BPF_F_LOCK) ? -errno : 0;
}

int sessmap_put(int fd, const struct cg_session *cs)
{
	uint32_t slot = CG_SESSION_SLOT(cs->id);
	struct cg_session cur;
	int e;

	if (!cs->id)
		return -EINVAL;
	e = slot_read(fd, slot, &cur);
	if (e)
		return e;
	if (cur.id)
		return -EEXIST;
	/*
	 * The gate reads entries without the lock: the whole entry goes in
	 * under id 0 (still empty to the gate), then the same bytes with the
	 * id, so a packet that sees the id sees the rest complete.
	 */
	cur = *cs;
	cur.id = 0;
	e = slot_write(fd, slot, &cur);
	if (e)
		return e;
	e = slot_write(fd, slot, cs);
	if (e) {
		memset(&cur, 0, sizeof(cur));
		slot_write(fd, slot, &cur);
	}
	return e;
}

int sessmap_get(int fd, uint32_t id, struct cg_session *cs)
{
	int e;

	if (!id)
		return -ENOENT;
	e = slot_read(fd, CG_SESSION_SLOT(id), cs);
	if (e)
		return e;
	return cs->id == id ? 0 : -ENOENT;
}

int sessmap_set_scopes(int rescope_fd, uint32_t id, const struct cg_scope *scopes, uint32_t n)
{
	struct cg_rescope r;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = &r, .data_size_in = sizeof(r), .repeat = 1);

	if (!id || n > CG_MAX_SCOPES)
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	r.id = id;
	r.nscopes = n;
	memcpy(r.scopes, scopes, n * sizeof(r.scopes[0]));
	if (bpf_prog_test_run_opts(rescope_fd, &o))
		return -errno;
	switch (o.retval) {
	case XDP_PASS:
		return 0;
	case XDP_DROP:
		return -ENOENT;
	default:
		return -EINVAL;
	}
}

int sessmap_del(int fd, uint32_t id)
{
	struct cg_session cs;
	int e = sessmap_get(fd, id, &cs);

	if (e)
		return e;
	memset(&cs, 0, sizeof(cs));
	return slot_write(fd, CG_SESSION_SLOT(id), &cs);
}

/* Visits every slot; empties the ones that hold a session if clear. */
static int scan(int fd, int clear)
{
	static const struct cg_session empty;
	struct cg_session cs;
	uint32_t slot;
	int n = 0, e;

	for (slot = 0; slot < CG_MAX_SESSIONS; slot++) {
		e = slot_read(fd, slot, &cs);
		if (e)
			return e;
		if (!cs.id)
			continue;
		if (clear && (e = slot_write(fd, slot, &empty)))
			return e;
		n++;
	}
	return n;
}

int sessmap_count(int fd)
{
	return scan(fd, 0);
}

int sessmap_clear(int fd)
{
	return scan(fd, 1);
}
