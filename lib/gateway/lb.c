// SPDX-License-Identifier: GPL-2.0
/*
 * The gateway's balancer (docs/lb.md): the config and lb.json merged into the
 * tc_lb maps, one Maglev table per service swapped whole, health checks, the
 * flow GC, the API's operations and metrics.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#ifdef __clang_analyzer__
void bpf_object__destroy_skeleton(struct bpf_object_skeleton *s)
	__attribute__((ownership_takes(malloc, 1)));
#endif
#include "lb.skel.h"

#include "abi/lb.h"
#include "abi/stats.h"
#include "lib/base/log.h"
#include "lib/base/parse_num.h"
#include "lib/base/strbuf.h"
#include "lib/gateway/lb.h"
#include "lib/lb/maglev.h"
#include "lib/lb/store.h"

/* TC filter identity of tc_lb on every interface it runs on (a restart replaces it). */
#define LB_TC_HANDLE 0xcb1
#define LB_TC_PRIO 0xcb1
/* A flow whose TCP closed (RST, FIN both ways) or never got an answer lives this long. */
#define LB_CLOSING_NS (10ULL * NS_PER_SEC)
/* Entries read per lookup_batch call of the flow GC. */
#define LB_GC_BATCH 4096

struct gw_lb_be {
	struct lb_be be; /* address, port, weight, drain */
	char name[LB_BE_STRLEN];
	uint32_t slot;
	uint8_t snat[16]; /* nat = full: the source the backend sees */
	struct health h;
	uint64_t flows; /* live flows, as the last GC counted them */
};

struct gw_lb_svc {
	char name[CG_NAME_MAX];
	struct service_cfg svc;
	struct lb_svc_cfg lb;
	uint8_t vip[16];
	uint32_t slot;
	struct gw_lb_be *be;
	size_t n;
};

struct gw_lb {
	struct lb_bpf *skel;
	const struct gw_config *cfg; /* the gateway's, kept current by its reload */
	struct gw_lb_svc svc[CG_SERVICES_MAX];
	size_t nsvc;
	uint8_t removed[LB_BACKENDS_MAX]; /* REMOVED slots: freed once no flow names them */
	uint8_t adopt[LB_BACKENDS_MAX];	  /* an earlier run's slots not yet taken over */
	int ifindex[CG_LB_IFACES_MAX + 2];
	size_t nif;
	int tun_ifindex; /* tc_lb_l3 there; 0: none */
	char state_path[PATH_MAX];
	struct lb_store store;
	int ncpus;
	uint32_t keys[LB_RING_SIZE], table[LB_RING_SIZE];
	struct lb_tuple gc_keys[LB_GC_BATCH];
	struct lb_rev_val gc_vals[LB_GC_BATCH];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static bool is_v4(const uint8_t a[16])
{
	return addr_is_v4mapped(a);
}

static socklen_t be_sockaddr(const struct lb_be *b, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (is_v4(b->addr)) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(b->port);
		memcpy(&s4->sin_addr, b->addr + 12, 4);
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(b->port);
	memcpy(&s6->sin6_addr, b->addr, 16);
	return sizeof(*s6);
}

/* The source address the kernel picks toward a backend (nat = full's default snat). */
static int source_toward(const struct lb_be *b, uint8_t out[16])
{
	struct sockaddr_storage ss, me;
	socklen_t len = be_sockaddr(b, &ss), mlen = sizeof(me);
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0), e = 0;

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&ss, len) ||
	    getsockname(fd, (struct sockaddr *)&me, &mlen))
		e = -errno;
	else
		e = addr_sockaddr_mapped((struct sockaddr *)&me, out);
	close(fd);
	return e;
}

static const char *be_state_name(const struct gw_lb_be *b)
{
	if (!b->h.up)
		return "down";
	if (b->be.drain || !b->be.weight)
		return "draining";
	return "up";
}

static uint8_t be_state(const struct gw_lb_be *b)
{
	if (!b->h.up)
		return LB_BE_DOWN;
	if (b->be.drain || !b->be.weight)
		return LB_BE_DRAINING;
	return LB_BE_UP;
}

static int write_backend(struct gw_lb *lb, const struct gw_lb_svc *s, const struct gw_lb_be *b)
{
	struct lb_backend v = { 0 };

	memcpy(v.addr, b->be.addr, 16);
	v.port = htons(b->be.port);
	v.state = be_state(b);
	v.svc = s->slot;
	if (s->lb.nat == LB_NAT_FULL) {
		memcpy(v.snat, b->snat, 16);
		v.snat_lo = s->lb.snat_lo;
		v.snat_hi = s->lb.snat_hi;
	}
	return bpf_map__update_elem(lb->skel->maps.lb_backends, &b->slot, sizeof(b->slot), &v,
				    sizeof(v), BPF_ANY);
}

static int set_slot_state(struct gw_lb *lb, uint32_t slot, uint8_t state)
{
	struct lb_backend v;

	if (bpf_map__lookup_elem(lb->skel->maps.lb_backends, &slot, sizeof(slot), &v, sizeof(v), 0))
		return -errno;
	if (state == LB_BE_FREE)
		memset(&v, 0, sizeof(v));
	v.state = state;
	return bpf_map__update_elem(lb->skel->maps.lb_backends, &slot, sizeof(slot), &v, sizeof(v),
				    BPF_ANY);
}

/* Zeroes a slot's per-CPU counters: a slot taken anew starts from 0. */
static void zero_percpu(struct gw_lb *lb, struct bpf_map *map, uint32_t slot, size_t size)
{
	size_t len = (size_t)lb->ncpus * size;
	void *zero = calloc(1, len);

	if (zero)
		bpf_map__update_elem(map, &slot, sizeof(slot), zero, len, BPF_ANY);
	free(zero);
}

/* The service's Maglev table from its UP backends, built aside and swapped in whole. */
static int write_table(struct gw_lb *lb, const struct gw_lb_svc *s)
{
	struct maglev_backend mb[LB_BACKENDS_PER_SVC];
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint32_t count = LB_RING_SIZE;
	size_t i, n = 0;
	int fd, e;

	for (i = 0; i < s->n; i++)
		if (be_state(&s->be[i]) == LB_BE_UP)
			mb[n++] = (struct maglev_backend){ .name = s->be[i].name,
							   .weight = s->be[i].be.weight,
							   .slot = s->be[i].slot };
	e = maglev_build(mb, n, 0, lb->table, LB_RING_SIZE);
	if (e)
		return e;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "lb_ring", sizeof(uint32_t), sizeof(uint32_t),
			    LB_RING_SIZE, NULL);
	if (fd < 0)
		return -errno;
	e = bpf_map_update_batch(fd, lb->keys, lb->table, &count, &opts);
	if (!e)
		e = bpf_map__update_elem(lb->skel->maps.lb_rings, &s->slot, sizeof(s->slot), &fd,
					 sizeof(fd), BPF_ANY);
	e = e ? -errno : 0;
	close(fd);
	return e;
}

static void vip_key(const struct gw_lb_svc *s, uint16_t port, struct lb_vip_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->addr, s->vip, 16);
	k->port = htons(port);
	k->proto = s->svc.proto;
}

static int write_vips(struct gw_lb *lb, const struct gw_lb_svc *s)
{
	struct lb_vip_val v = { .svc = s->slot, .nat = s->lb.nat };
	struct lb_vip_key k;
	size_t r;
	uint32_t p;

	for (r = 0; r < s->svc.nports; r++)
		for (p = s->svc.ports[r].lo; p <= s->svc.ports[r].hi; p++) {
			vip_key(s, (uint16_t)p, &k);
			if (bpf_map__update_elem(lb->skel->maps.lb_vips, &k, sizeof(k), &v,
						 sizeof(v), BPF_ANY))
				return -errno;
		}
	return 0;
}

static bool vip_wanted(const struct gw_lb_svc *svcs, size_t n, const struct lb_vip_key *k)
{
	size_t i, r;

	for (i = 0; i < n; i++) {
		if (memcmp(svcs[i].vip, k->addr, 16) || svcs[i].svc.proto != k->proto)
			continue;
		for (r = 0; r < svcs[i].svc.nports; r++)
			if (ntohs(k->port) >= svcs[i].svc.ports[r].lo &&
			    ntohs(k->port) <= svcs[i].svc.ports[r].hi)
				return true;
	}
	return false;
}

static void prune_vips(struct gw_lb *lb)
{
	struct bpf_map *map = lb->skel->maps.lb_vips;
	struct lb_vip_key k, next, *stale;
	size_t n = 0, i;
	void *prev = NULL;

	stale = calloc(LB_VIPS_MAX, sizeof(*stale));
	if (!stale)
		return;
	while (n < LB_VIPS_MAX && bpf_map__get_next_key(map, prev, &next, sizeof(next)) == 0) {
		if (!vip_wanted(lb->svc, lb->nsvc, &next))
			stale[n++] = next;
		k = next;
		prev = &k;
	}
	for (i = 0; i < n; i++)
		bpf_map__delete_elem(map, &stale[i], sizeof(stale[i]), 0);
	free(stale);
}

static bool slot_taken(const struct gw_lb *lb, const struct gw_lb_svc *next, size_t nnext,
		       uint32_t slot)
{
	size_t i, j;

	if (lb->removed[slot] || lb->adopt[slot])
		return true;
	/* Every slot in use now, also of the services later in next that are not built yet. */
	for (i = 0; i < lb->nsvc; i++)
		for (j = 0; j < lb->svc[i].n; j++)
			if (lb->svc[i].be[j].slot == slot)
				return true;
	for (i = 0; i < nnext; i++)
		for (j = 0; j < next[i].n; j++)
			if (next[i].be[j].slot == slot)
				return true;
	return false;
}

static int free_be_slot(struct gw_lb *lb, const struct gw_lb_svc *next, size_t nnext, uint32_t *out)
{
	uint32_t s;

	for (s = 0; s < LB_BACKENDS_MAX; s++)
		if (!slot_taken(lb, next, nnext, s)) {
			*out = s;
			return 0;
		}
	return -ENOSPC;
}

/*
 * An earlier run's slot of this backend (same service slot, address and
 * port), taken over with its state: *down if its checks had taken it down.
 */
static bool adopt_be_slot(struct gw_lb *lb, uint32_t svc, const struct lb_be *b, uint32_t *out,
			  bool *down)
{
	struct lb_backend v;
	uint32_t s;

	for (s = 0; s < LB_BACKENDS_MAX; s++) {
		if (!lb->adopt[s] || bpf_map__lookup_elem(lb->skel->maps.lb_backends, &s, sizeof(s),
							  &v, sizeof(v), 0))
			continue;
		if (v.svc == svc && ntohs(v.port) == b->port && !memcmp(v.addr, b->addr, 16)) {
			lb->adopt[s] = 0;
			*out = s;
			*down = v.state == LB_BE_DOWN;
			return true;
		}
	}
	return false;
}

static const struct gw_lb_svc *find_svc(const struct gw_lb_svc *svcs, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(svcs[i].name, name))
			return &svcs[i];
	return NULL;
}

static const struct gw_lb_be *find_be(const struct gw_lb_svc *s, const struct lb_be *b)
{
	size_t i;

	for (i = 0; s && i < s->n; i++)
		if (lb_be_same(&s->be[i].be, b))
			return &s->be[i];
	return NULL;
}

static bool health_cfg_same(const struct health_cfg *a, const struct health_cfg *b)
{
	return a->kind == b->kind && !strcmp(a->method, b->method) && !strcmp(a->path, b->path) &&
	       a->interval_ns == b->interval_ns && a->rise == b->rise && a->fall == b->fall;
}

static bool lists_same(const struct lb_be *a, size_t na, const struct lb_be *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (!lb_be_same(&a[i], &b[i]) || a[i].weight != b[i].weight)
			return false;
	return true;
}

static void svcs_free(struct gw_lb_svc *svcs, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < svcs[i].n; j++)
			health_stop(&svcs[i].be[j].h);
		free(svcs[i].be);
		svcs[i].be = NULL;
		svcs[i].n = 0;
	}
}

/* The service slot: the one it had, an earlier run's (its VIP in lb_vips), or a free one. */
static int svc_slot(struct gw_lb *lb, const struct gw_lb_svc *next, size_t i, uint32_t *out)
{
	const struct gw_lb_svc *cur = find_svc(lb->svc, lb->nsvc, next[i].name);
	struct lb_vip_val v;
	struct lb_vip_key k;
	uint32_t s;
	size_t j;
	bool used;

	if (cur) {
		*out = cur->slot;
		return 0;
	}
	vip_key(&next[i], next[i].svc.ports[0].lo, &k);
	if (!bpf_map__lookup_elem(lb->skel->maps.lb_vips, &k, sizeof(k), &v, sizeof(v), 0) &&
	    v.svc < LB_SERVICES_MAX) {
		for (used = false, j = 0; j < i; j++)
			used |= next[j].slot == v.svc;
		for (j = 0; j < lb->nsvc; j++)
			used |= lb->svc[j].slot == v.svc && !find_svc(next, i, lb->svc[j].name);
		if (!used) {
			*out = v.svc;
			return 1; /* adopted: keep its counters */
		}
	}
	for (s = 0; s < LB_SERVICES_MAX; s++) {
		for (used = false, j = 0; j < i; j++)
			used |= next[j].slot == s;
		for (j = 0; j < lb->nsvc; j++)
			used |= lb->svc[j].slot == s && !find_svc(next, i + 1, lb->svc[j].name);
		if (!used) {
			*out = s;
			return 2; /* new: counters zeroed */
		}
	}
	return -ENOSPC;
}

/* next[i]'s backends from its effective list: kept ones keep slot and health, new ones get one. */
static int svc_backends(struct gw_lb *lb, struct gw_lb_svc *next, size_t nnext, size_t i,
			const struct lb_be *list, size_t n, char *err, size_t errlen)
{
	const struct gw_lb_svc *cur = find_svc(lb->svc, lb->nsvc, next[i].name);
	struct gw_lb_svc *s = &next[i];
	struct sockaddr_storage ss;
	size_t j;
	int e;

	s->be = calloc(n ? n : 1, sizeof(*s->be));
	if (!s->be)
		return -ENOMEM;
	for (j = 0; j < n; j++) {
		const struct gw_lb_be *old = find_be(cur, &list[j]);
		struct gw_lb_be *b = &s->be[j];
		socklen_t len = be_sockaddr(&list[j], &ss);

		b->be = list[j];
		lb_be_format(&b->be, b->name, sizeof(b->name));
		if (old && cur->slot == s->slot) {
			b->slot = old->slot;
			b->flows = old->flows;
			if (health_cfg_same(&old->h.cfg, &s->lb.health)) {
				b->h = old->h;
				b->h.fd = -1; /* the check in flight stays with the old copy */
				b->h.next_ns = 0;
			} else {
				health_init(&b->h, &s->lb.health, (struct sockaddr *)&ss, len);
			}
		} else {
			bool down = false;

			if (!adopt_be_slot(lb, s->slot, &b->be, &b->slot, &down)) {
				e = free_be_slot(lb, next, nnext, &b->slot);
				if (e) {
					snprintf(err, errlen,
						 "[service %s]: more than %d backends "
						 "in use (removed ones still have flows)",
						 s->name, LB_BACKENDS_MAX);
					s->n = j;
					return e;
				}
				zero_percpu(lb, lb->skel->maps.lb_be_stats, b->slot,
					    sizeof(struct lb_be_counter));
			}
			health_init(&b->h, &s->lb.health, (struct sockaddr *)&ss, len);
			/* Down before the restart: up again only after health_rise passes. */
			b->h.up = !down || s->lb.health.kind == HEALTH_NONE;
		}
		s->n = j + 1;
		if (s->lb.nat == LB_NAT_FULL) {
			if (s->lb.snat_set) {
				memcpy(b->snat, s->lb.snat, 16);
			} else if ((e = source_toward(&b->be, b->snat))) {
				snprintf(err, errlen,
					 "[service %s] %s: no source address toward it "
					 "for nat = full: %s (set snat =)",
					 s->name, b->name, strerror(-e));
				return e;
			}
		}
	}
	return 0;
}

/*
 * Makes the maps hold cfg's balanced services, each with its effective
 * backends: lb.json's when its config list is the config's (the API's
 * changes kept), else the config's (the file changed: it wins). lb.json is
 * saved before any map changes; on a refusal nothing changed.
 */
static int lb_apply(struct gw_lb *lb, const struct gw_config *cfg, char *err, size_t errlen)
{
	struct gw_lb_svc *next = calloc(CG_SERVICES_MAX, sizeof(*next));
	struct lb_store st = { 0 };
	size_t nnext = 0, i, j;
	int e = 0;

	if (!next) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < cfg->policy.nservices; i++) {
		const struct lb_svc_cfg *lc = &cfg->lb[i];
		const struct lb_be *cl = &cfg->lb_be[lc->first], *list = cl;
		struct lb_store_svc *saved;
		struct gw_lb_svc *s;
		size_t n = lc->n;
		uint8_t plen;
		int r;

		if (!lc->enabled)
			continue;
		s = &next[nnext++];
		strcpy(s->name, cfg->policy.services[i].name);
		s->svc = cfg->policy.services[i];
		s->lb = *lc;
		cidr_to_mapped(&s->svc.addr, s->vip, &plen);
		saved = lb_store_find(&lb->store, s->name);
		if (saved && lists_same(saved->cfg, saved->ncfg, cl, lc->n)) {
			list = saved->be;
			n = saved->nbe;
		} else if (saved) {
			log_info("[service %s]: the config's backends changed since lb.json was "
				 "saved: the config's are in force, the API's changes dropped",
				 s->name);
		}
		r = svc_slot(lb, next, nnext - 1, &s->slot);
		if (r < 0) {
			snprintf(err, errlen, "more than %d balanced services", LB_SERVICES_MAX);
			e = r;
			goto out;
		}
		if (r == 2)
			zero_percpu(lb, lb->skel->maps.lb_svc_stats, s->slot,
				    sizeof(struct lb_svc_counter));
		e = svc_backends(lb, next, nnext, nnext - 1, list, n, err, errlen);
		if (!e)
			e = lb_store_set(&st, s->name, cl, lc->n, list, n);
		if (e)
			goto out;
	}
	e = lb_store_save(&st, lb->state_path);
	if (e) {
		snprintf(err, errlen, "cannot save %s: %s", lb->state_path, strerror(-e));
		goto out;
	}
	/* Backends before the tables that name them, tables before the VIPs that lead there. */
	for (i = 0; i < nnext && !e; i++)
		for (j = 0; j < next[i].n && !e; j++)
			e = write_backend(lb, &next[i], &next[i].be[j]);
	for (i = 0; i < nnext && !e; i++)
		e = write_table(lb, &next[i]);
	for (i = 0; i < nnext && !e; i++)
		e = write_vips(lb, &next[i]);
	if (e) {
		snprintf(err, errlen, "cannot write the balancer's maps: %s", strerror(-e));
		e = -EIO;
		goto out;
	}
	/* What is gone: its slots keep their flows (REMOVED) until the GC frees them. */
	for (i = 0; i < lb->nsvc; i++) {
		const struct gw_lb_svc *ns = find_svc(next, nnext, lb->svc[i].name);

		for (j = 0; j < lb->svc[i].n; j++) {
			const struct gw_lb_be *b = &lb->svc[i].be[j];
			const struct gw_lb_be *kept = find_be(ns, &b->be);

			if (kept && kept->slot == b->slot)
				continue;
			set_slot_state(lb, b->slot, LB_BE_REMOVED);
			lb->removed[b->slot] = 1;
		}
		if (!ns || ns->slot != lb->svc[i].slot) {
			bool reused = false;

			for (j = 0; j < nnext; j++)
				reused |= next[j].slot == lb->svc[i].slot;
			if (!reused)
				bpf_map__delete_elem(lb->skel->maps.lb_rings, &lb->svc[i].slot,
						     sizeof(uint32_t), 0);
		}
	}
	svcs_free(lb->svc, lb->nsvc);
	memcpy(lb->svc, next, nnext * sizeof(*next));
	lb->nsvc = nnext;
	nnext = 0;
	prune_vips(lb);
	lb_store_free(&lb->store);
	lb->store = st;
	st = (struct lb_store){ 0 };
out:
	svcs_free(next, nnext);
	free(next);
	lb_store_free(&st);
	return e;
}

bool gw_lb_configured(const struct gw_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->policy.nservices; i++)
		if (cfg->lb[i].enabled)
			return true;
	return false;
}

static int tc_hook(int ifindex, int prog_fd, bool attach)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = LB_TC_HANDLE, .priority = LB_TC_PRIO);
	int e;

	if (!attach)
		return bpf_tc_detach(&hook, &opts);
	e = bpf_tc_hook_create(&hook);
	if (e && e != -EEXIST)
		return e;
	opts.prog_fd = prog_fd;
	opts.flags = BPF_TC_F_REPLACE;
	return bpf_tc_attach(&hook, &opts);
}

/* The interfaces tc_lb runs on: the gateway's, lb_interfaces. 0 or -ENODEV with err. */
static int lb_ifaces(const struct gw_config *cfg, int *out, size_t *n, char *err, size_t errlen)
{
	size_t i;

	*n = 0;
	for (i = 0; i <= cfg->nlb_ifaces; i++) {
		const char *name = i ? cfg->lb_ifaces[i - 1] : cfg->iface;
		int ix = (int)if_nametoindex(name);

		if (!ix) {
			snprintf(err, errlen, "[gateway] lb_interfaces: %s: %s", name,
				 strerror(errno));
			return -ENODEV;
		}
		out[(*n)++] = ix;
	}
	return 0;
}

static int pin_lb_maps(struct lb_bpf *skel, const char *pin_dir)
{
	struct bpf_map *map;
	char path[PATH_MAX];
	int e;

	bpf_object__for_each_map(map, skel->obj)
	{
		if (snprintf(path, sizeof(path), "%s/%s", pin_dir, bpf_map__name(map)) >=
		    (int)sizeof(path))
			return -ENAMETOOLONG;
		e = bpf_map__set_pin_path(map, path);
		if (e)
			return e;
	}
	return 0;
}

static int write_lb_config(struct gw_lb *lb)
{
	struct lb_config c = { 0 };
	uint32_t zero = 0;

	bpf_map__lookup_elem(lb->skel->maps.lb_config, &zero, sizeof(zero), &c, sizeof(c), 0);
	if (!c.seed) {
		/* The flow hash's seed, kept in the pinned map: a restart moves no flow. */
		FILE *f = fopen("/dev/urandom", "re");

		if (!f || fread(&c.seed, sizeof(c.seed), 1, f) != 1)
			c.seed = (uint32_t)mono_ns();
		if (f)
			fclose(f);
		c.seed |= 1;
	}
	c.tcp_timeout_ns = lb->cfg->flow_timeout_ns;
	c.udp_timeout_ns = lb->cfg->flow_timeout_ns;
	c.closing_timeout_ns = LB_CLOSING_NS;
	c.tun_ifindex = (uint32_t)lb->tun_ifindex;
	c.enabled = 1;
	return bpf_map__update_elem(lb->skel->maps.lb_config, &zero, sizeof(zero), &c, sizeof(c),
				    BPF_ANY);
}

struct gw_lb *gw_lb_new(const struct gw_config *cfg, const char *pin_dir, const char *state_path,
			char *err, size_t errlen)
{
	struct gw_lb *lb = NULL;
	struct lb_backend v;
	int ifs[CG_LB_IFACES_MAX + 2];
	size_t nif = 0, i;
	uint32_t s;
	int e;

	e = lb_ifaces(cfg, ifs, &nif, err, errlen);
	if (e)
		goto fail;
	if (!gw_lb_configured(cfg)) {
		/* An earlier run's filters would balance by a config no longer in force. */
		for (i = 0; i < nif; i++)
			tc_hook(ifs[i], -1, false);
		errno = 0;
		return NULL;
	}
	lb = calloc(1, sizeof(*lb));
	if (!lb) {
		e = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	lb->cfg = cfg;
	memcpy(lb->ifindex, ifs, sizeof(ifs));
	lb->nif = nif;
	lb->ncpus = libbpf_num_possible_cpus();
	for (s = 0; s < LB_RING_SIZE; s++)
		lb->keys[s] = s;
	if (snprintf(lb->state_path, sizeof(lb->state_path), "%s", state_path) >=
	    (int)sizeof(lb->state_path)) {
		e = -ENAMETOOLONG;
		snprintf(err, errlen, "%s: path too long", state_path);
		goto fail;
	}
	e = lb_store_load(&lb->store, state_path, err, errlen);
	if (e)
		goto fail;
	lb->skel = lb_bpf__open();
	if (!lb->skel) {
		e = -errno;
		snprintf(err, errlen, "cannot open the balancer's BPF object: %s", strerror(-e));
		goto fail;
	}
	e = pin_lb_maps(lb->skel, pin_dir);
	if (!e)
		e = lb_bpf__load(lb->skel);
	if (e) {
		snprintf(err, errlen, "cannot load the balancer: %s%s%s%s", strerror(-e),
			 e == -EINVAL ? " (pinned maps in " : "", e == -EINVAL ? pin_dir : "",
			 e == -EINVAL ? " from another version? remove that directory)" : "");
		goto fail;
	}
	/* An earlier run's backends: taken over by the same backend, else removed. */
	for (s = 0; s < LB_BACKENDS_MAX; s++)
		if (!bpf_map__lookup_elem(lb->skel->maps.lb_backends, &s, sizeof(s), &v, sizeof(v),
					  0) &&
		    v.state != LB_BE_FREE)
			lb->adopt[s] = 1;
	e = lb_apply(lb, cfg, err, errlen);
	if (e)
		goto fail;
	for (s = 0; s < LB_BACKENDS_MAX; s++)
		if (lb->adopt[s]) {
			set_slot_state(lb, s, LB_BE_REMOVED);
			lb->adopt[s] = 0;
			lb->removed[s] = 1;
		}
	e = write_lb_config(lb);
	if (e) {
		snprintf(err, errlen, "cannot write lb_config: %s", strerror(-e));
		goto fail;
	}
	for (i = 0; i < lb->nif; i++) {
		e = tc_hook(lb->ifindex[i], bpf_program__fd(lb->skel->progs.tc_lb), true);
		if (e) {
			snprintf(err, errlen,
				 "cannot attach the balancer to TC ingress of "
				 "ifindex %d: %s",
				 lb->ifindex[i], strerror(-e));
			goto fail;
		}
	}
	log_info("balancer: %zu service(s) on %zu interface(s)", lb->nsvc, lb->nif);
	return lb;
fail:
	gw_lb_free(lb, false);
	errno = -e;
	return NULL;
}

void gw_lb_free(struct gw_lb *lb, bool detach)
{
	size_t i;

	if (!lb)
		return;
	if (detach && lb->skel) {
		for (i = 0; i < lb->nif; i++)
			tc_hook(lb->ifindex[i], -1, false);
		log_info("balancer detached");
	}
	svcs_free(lb->svc, lb->nsvc);
	lb_store_free(&lb->store);
	lb_bpf__destroy(lb->skel);
	free(lb);
}

int gw_lb_set_tun(struct gw_lb *lb, int ifindex, char *err, size_t errlen)
{
	int e;

	lb->tun_ifindex = ifindex;
	e = write_lb_config(lb);
	if (!e)
		e = tc_hook(ifindex, bpf_program__fd(lb->skel->progs.tc_lb_l3), true);
	if (e) {
		lb->tun_ifindex = 0;
		snprintf(err, errlen, "cannot attach the balancer to the TUN (ifindex %d): %s",
			 ifindex, strerror(-e));
	}
	return e;
}

int gw_lb_reload(struct gw_lb *lb, const struct gw_config *cfg, char *err, size_t errlen)
{
	lb->cfg = cfg;
	return lb_apply(lb, cfg, err, errlen);
}

size_t gw_lb_vips(const struct gw_lb *lb, uint8_t (*out)[16], size_t max)
{
	size_t i, j, n = 0;
	bool dup;

	for (i = 0; lb && i < lb->nsvc && n < max; i++) {
		for (dup = false, j = 0; j < n; j++)
			dup |= !memcmp(out[j], lb->svc[i].vip, 16);
		if (!dup)
			memcpy(out[n++], lb->svc[i].vip, 16);
	}
	return n;
}

/* ---- health ----------------------------------------------------------------- */

static void health_changed(struct gw_lb *lb, struct gw_lb_svc *s, struct gw_lb_be *b)
{
	int e;

	log_info("[service %s] backend %s is %s (%s)", s->name, b->name, b->h.up ? "up" : "down",
		 health_result_name(b->h.last));
	e = write_backend(lb, s, b);
	if (!e)
		e = write_table(lb, s);
	if (e)
		log_errno(e, "[service %s]: cannot rewrite the balancer's table", s->name);
}

int gw_lb_pollfds(struct gw_lb *lb, struct pollfd *p, int max)
{
	size_t i, j;
	int n = 0;

	for (i = 0; lb && i < lb->nsvc; i++)
		for (j = 0; j < lb->svc[i].n && n < max; j++)
			if (health_pollfd(&lb->svc[i].be[j].h, &p[n]))
				n++;
	return n;
}

void gw_lb_process(struct gw_lb *lb, const struct pollfd *p, int n)
{
	uint64_t now = mono_ns();
	size_t i, j;
	int k;

	for (i = 0; lb && i < lb->nsvc; i++)
		for (j = 0; j < lb->svc[i].n; j++) {
			struct gw_lb_be *b = &lb->svc[i].be[j];
			short rev = 0;

			for (k = 0; k < n; k++)
				if (b->h.fd >= 0 && p[k].fd == b->h.fd)
					rev = p[k].revents;
			if (health_step(&b->h, now, rev))
				health_changed(lb, &lb->svc[i], b);
		}
}

int gw_lb_timeout_ms(const struct gw_lb *lb)
{
	uint64_t now = mono_ns(), due = UINT64_MAX;
	size_t i, j;

	for (i = 0; lb && i < lb->nsvc; i++)
		for (j = 0; j < lb->svc[i].n; j++) {
			const struct health *h = &lb->svc[i].be[j].h;
			uint64_t t = h->fd >= 0 ? h->deadline_ns : h->next_ns;

			if (h->cfg.kind != HEALTH_NONE && t < due)
				due = t;
		}
	if (due == UINT64_MAX)
		return -1;
	return due <= now ? 0 : (int)((due - now + 999999) / 1000000);
}

/* ---- flow GC ---------------------------------------------------------------- */

static bool lb_closed(uint8_t f)
{
	return (f & LB_F_RST) ||
	       (f & (LB_F_FIN_FWD | LB_F_FIN_REV)) == (LB_F_FIN_FWD | LB_F_FIN_REV);
}

static void ct_key_of(const struct lb_tuple *rk, const struct lb_rev_val *v, struct lb_tuple *ck)
{
	memset(ck, 0, sizeof(*ck));
	memcpy(ck->src, v->client, 16);
	memcpy(ck->dst, v->vip, 16);
	ck->sport = v->cport;
	ck->dport = v->vport;
	ck->proto = rk->proto;
}

/* Is the flow over (idle past its timeout, or closed and quiet)? Both halves are read. */
static bool flow_over(struct gw_lb *lb, const struct lb_tuple *rk, const struct lb_rev_val *v,
		      uint64_t now)
{
	uint64_t idle = lb->cfg->flow_timeout_ns;
	uint64_t last = v->last_ns;
	uint8_t flags = v->flags;
	struct lb_ct_val ct;
	struct lb_tuple ck;

	if (now < last + LB_CLOSING_NS && now < last + idle)
		return false;
	ct_key_of(rk, v, &ck);
	if (!bpf_map__lookup_elem(lb->skel->maps.lb_ct, &ck, sizeof(ck), &ct, sizeof(ct), 0)) {
		if (ct.last_ns > last)
			last = ct.last_ns;
		flags |= ct.flags;
	}
	/* TCP that closed, or that the backend never answered, is over quickly. */
	if (rk->proto == IPPROTO_TCP && (lb_closed(flags) || !(flags & LB_F_EST)))
		idle = LB_CLOSING_NS;
	return now >= last + idle;
}

void gw_lb_tick(struct gw_lb *lb)
{
	struct bpf_map *rev;
	uint64_t flows[LB_BACKENDS_MAX] = { 0 }, now;
	struct lb_tuple in, out, ck;
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	bool first = true, done = false;
	size_t i, j;
	uint32_t n;
	int e;

	if (!lb)
		return;
	rev = lb->skel->maps.lb_rev;
	/* The gate's clock: bpf_ktime_get_coarse_ns, CLOCK_MONOTONIC_COARSE. */
	now = mono_ns();
	while (!done) {
		n = LB_GC_BATCH;
		e = bpf_map_lookup_batch(bpf_map__fd(rev), first ? NULL : &in, &out, lb->gc_keys,
					 lb->gc_vals, &n, &opts);
		if (e && errno != ENOENT)
			break;
		done = e != 0;
		first = false;
		in = out;
		for (i = 0; i < n; i++) {
			const struct lb_rev_val *v = &lb->gc_vals[i];

			if (flow_over(lb, &lb->gc_keys[i], v, now)) {
				ct_key_of(&lb->gc_keys[i], v, &ck);
				bpf_map__delete_elem(rev, &lb->gc_keys[i], sizeof(ck), 0);
				bpf_map__delete_elem(lb->skel->maps.lb_ct, &ck, sizeof(ck), 0);
			} else if (v->backend < LB_BACKENDS_MAX) {
				flows[v->backend]++;
			}
		}
	}
	if (!done)
		return; /* a scan cut short counts nothing and frees nothing */
	for (i = 0; i < lb->nsvc; i++)
		for (j = 0; j < lb->svc[i].n; j++)
			lb->svc[i].be[j].flows = flows[lb->svc[i].be[j].slot];
	for (i = 0; i < LB_BACKENDS_MAX; i++)
		if (lb->removed[i] && !flows[i] && !set_slot_state(lb, (uint32_t)i, LB_BE_FREE))
			lb->removed[i] = 0;
}

/* ---- API -------------------------------------------------------------------- */

/* A per-CPU value of nwords __u64 counters at slot, summed over the CPUs (0s on failure). */
static void sum_percpu(struct gw_lb *lb, struct bpf_map *map, uint32_t slot, uint64_t *sum,
		       size_t nwords)
{
	uint64_t *c = calloc((size_t)lb->ncpus * nwords, sizeof(*c));
	size_t k, w;

	memset(sum, 0, nwords * sizeof(*sum));
	if (c && !bpf_map__lookup_elem(map, &slot, sizeof(slot), c,
				       (size_t)lb->ncpus * nwords * sizeof(*c), 0))
		for (k = 0; k < (size_t)lb->ncpus; k++)
			for (w = 0; w < nwords; w++)
				sum[w] += c[k * nwords + w];
	free(c);
}

static void sum_be(struct gw_lb *lb, uint32_t slot, struct lb_be_counter *sum)
{
	sum_percpu(lb, lb->skel->maps.lb_be_stats, slot, (uint64_t *)sum,
		   sizeof(*sum) / sizeof(uint64_t));
}

static void sum_svc(struct gw_lb *lb, uint32_t slot, struct lb_svc_counter *sum)
{
	sum_percpu(lb, lb->skel->maps.lb_svc_stats, slot, (uint64_t *)sum,
		   sizeof(*sum) / sizeof(uint64_t));
}

/* lb_stats summed over the CPUs. */
static void sum_stats(struct gw_lb *lb, struct cg_counter sum[LB_STAT_MAX])
{
	uint32_t k;

	for (k = 0; k < LB_STAT_MAX; k++)
		sum_percpu(lb, lb->skel->maps.lb_stats, k, (uint64_t *)&sum[k],
			   sizeof(sum[k]) / sizeof(uint64_t));
}

static json_t *be_json(struct gw_lb *lb, const struct gw_lb_be *b)
{
	uint64_t now = mono_ns();
	struct lb_be_counter c;

	sum_be(lb, b->slot, &c);
	return json_pack("{s:s, s:s, s:I, s:b, s:I, s:I, s:I, s:I, s:{s:s, s:i, s:I, s:I, s:I}}",
			 "address", b->name, "state", be_state_name(b), "weight",
			 (json_int_t)b->be.weight, "drain", b->be.drain, "flows",
			 (json_int_t)b->flows, "new_flows", (json_int_t)c.flows, "packets",
			 (json_int_t)c.packets, "bytes", (json_int_t)c.bytes, "health", "result",
			 health_result_name(b->h.last), "detail", b->h.last_detail, "checks",
			 (json_int_t)b->h.checks, "failures", (json_int_t)b->h.failures, "age_ms",
			 (json_int_t)(b->h.last_ns ? (now - b->h.last_ns) / 1000000 : 0));
}

static void ports_text(const struct service_cfg *svc, char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < svc->nports && off < len; i++) {
		const struct port_range *r = &svc->ports[i];

		off += (size_t)snprintf(buf + off, len - off, r->lo == r->hi ? "%s%u" : "%s%u-%u",
					i ? " " : "", r->lo, r->hi);
	}
}

static void health_text(const struct health_cfg *h, char *buf, size_t len)
{
	if (h->kind == HEALTH_HTTP)
		snprintf(buf, len, "http %s %s", h->method, h->path);
	else
		snprintf(buf, len, "%s", h->kind == HEALTH_TCP ? "tcp" : "none");
}

int gw_lb_list(struct gw_lb *lb, json_t **out)
{
	json_t *root = json_pack("{s:[], s:{}}", "services", "datapath"), *arr, *o, *bes, *dp;
	struct cg_counter st[LB_STAT_MAX];
	char vip[CG_ADDRSTRLEN], ports[256], health[sizeof(((struct health_cfg *)0)->path) + 32];
	struct lb_svc_counter c;
	size_t i, j;

	if (!root)
		return -ENOMEM;
	arr = json_object_get(root, "services");
	dp = json_object_get(root, "datapath");
	if (lb)
		sum_stats(lb, st);
	for (i = 0; lb && i < LB_STAT_MAX; i++)
		if (json_object_set_new(dp, lb_stat_name((unsigned int)i),
					json_pack("{s:I, s:I}", "packets",
						  (json_int_t)st[i].packets, "bytes",
						  (json_int_t)st[i].bytes)))
			goto nomem;
	for (i = 0; lb && i < lb->nsvc; i++) {
		const struct gw_lb_svc *s = &lb->svc[i];

		addr_format_mapped(s->vip, vip, sizeof(vip));
		ports_text(&s->svc, ports, sizeof(ports));
		health_text(&s->lb.health, health, sizeof(health));
		sum_svc(lb, s->slot, &c);
		o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:[]}", "name", s->name,
			      "proto", s->svc.proto == IPPROTO_TCP ? "tcp" : "udp", "vip", vip,
			      "ports", ports, "nat", s->lb.nat == LB_NAT_FULL ? "full" : "dnat",
			      "health", health, "no_backend", (json_int_t)c.no_backend,
			      "flows_full", (json_int_t)c.flows_full, "backends");
		if (!o || json_array_append_new(arr, o))
			goto nomem;
		bes = json_object_get(o, "backends");
		for (j = 0; j < s->n; j++)
			if (json_array_append_new(bes, be_json(lb, &s->be[j])))
				goto nomem;
	}
	*out = root;
	return 0;
nomem:
	json_decref(root);
	return -ENOMEM;
}

static struct gw_lb_svc *svc_named(struct gw_lb *lb, const char *name)
{
	size_t i;

	for (i = 0; lb && i < lb->nsvc; i++)
		if (!strcmp(lb->svc[i].name, name))
			return &lb->svc[i];
	return NULL;
}

/* The service's effective list with one change, saved and applied; on refusal nothing changed. */
static int commit_list(struct gw_lb *lb, struct gw_lb_svc *s, const struct lb_be *list, size_t n)
{
	struct lb_store_svc *saved = lb_store_find(&lb->store, s->name);
	struct lb_be *old_be;
	size_t old_n;
	char err[256];
	int e;

	if (!saved)
		return -EIO;
	/* lb_apply reads the effective list from the store: put the new one there. */
	old_be = saved->be;
	old_n = saved->nbe;
	saved->be = malloc((n ? n : 1) * sizeof(*list));
	if (!saved->be) {
		saved->be = old_be;
		return -ENOMEM;
	}
	memcpy(saved->be, list, n * sizeof(*list));
	saved->nbe = n;
	e = lb_apply(lb, lb->cfg, err, sizeof(err));
	if (e) {
		saved = lb_store_find(&lb->store, s->name);
		if (saved) {
			free(saved->be);
			saved->be = old_be;
			saved->nbe = old_n;
			old_be = NULL;
		}
		log_warn("balancer: %s", err);
		free(old_be);
		return e == -ENOSPC ? -ENOSPC : -EIO;
	}
	free(old_be);
	return 0;
}

static struct lb_be *effective(const struct gw_lb_svc *s, size_t extra)
{
	struct lb_be *l = calloc(s->n + extra + 1, sizeof(*l));
	size_t i;

	for (i = 0; l && i < s->n; i++)
		l[i] = s->be[i].be;
	return l;
}

static int be_out(struct gw_lb *lb, const char *svc, const struct lb_be *be, json_t **out)
{
	const struct gw_lb_be *b = find_be(svc_named(lb, svc), be);

	if (!out)
		return 0;
	*out = b ? be_json(lb, b) : NULL;
	return *out ? 0 : -ENOMEM;
}

int gw_lb_add(struct gw_lb *lb, const char *svc, const struct lb_be *be, json_t **out)
{
	struct gw_lb_svc *s = svc_named(lb, svc);
	struct lb_be *l;
	int e;

	if (!s)
		return -ENOENT;
	if (find_be(s, be))
		return be_out(lb, svc, be, out) ? -ENOMEM : -EEXIST;
	if (is_v4(be->addr) != is_v4(s->vip))
		return -EINVAL;
	if (s->n == LB_BACKENDS_PER_SVC)
		return -ENOSPC;
	l = effective(s, 1);
	if (!l)
		return -ENOMEM;
	l[s->n] = *be;
	l[s->n].drain = false;
	e = commit_list(lb, s, l, s->n + 1);
	free(l);
	return e ? e : be_out(lb, svc, be, out);
}

/* Backend be of service svc: the service, its index, a copy of the effective list. NULL: -ENOENT.
 */
static struct lb_be *edit_list(struct gw_lb *lb, const char *svc, const struct lb_be *be,
			       struct gw_lb_svc **s, size_t *i, int *e)
{
	const struct gw_lb_be *b;
	struct lb_be *l;

	*s = svc_named(lb, svc);
	b = *s ? find_be(*s, be) : NULL;
	*e = -ENOENT;
	if (!b)
		return NULL;
	*i = (size_t)(b - (*s)->be);
	l = effective(*s, 0);
	*e = l ? 0 : -ENOMEM;
	return l;
}

int gw_lb_set(struct gw_lb *lb, const char *svc, const struct lb_be *be,
	      const struct lb_be_patch *patch, json_t **out)
{
	struct gw_lb_svc *s;
	size_t i = 0;
	int e;
	struct lb_be *l = edit_list(lb, svc, be, &s, &i, &e);

	if (!l)
		return e;
	if (patch->has_weight)
		l[i].weight = patch->weight;
	if (patch->has_drain)
		l[i].drain = patch->drain;
	e = commit_list(lb, s, l, s->n);
	free(l);
	return e ? e : be_out(lb, svc, be, out);
}

int gw_lb_del(struct gw_lb *lb, const char *svc, const struct lb_be *be)
{
	struct gw_lb_svc *s;
	size_t i = 0;
	int e;
	struct lb_be *l = edit_list(lb, svc, be, &s, &i, &e);

	if (!l)
		return e;
	memmove(&l[i], &l[i + 1], (s->n - i - 1) * sizeof(*l));
	e = commit_list(lb, s, l, s->n - 1);
	free(l);
	return e;
}

int gw_lb_metrics(struct gw_lb *lb, const char *gw, char **buf)
{
	struct cg_counter st[LB_STAT_MAX];
	struct lb_be_counter c;
	struct lb_svc_counter sc;
	size_t i, j;
	int e = 0;

	if (!lb)
		return 0;
	e = str_appendf(buf,
			"# HELP capgate_lb_backend_up 1 if the balancer sends new flows to the "
			"backend (health up, not drained, weight above 0).\n"
			"# TYPE capgate_lb_backend_up gauge\n"
			"# HELP capgate_lb_backend_healthy 1 if the backend's health checks pass.\n"
			"# TYPE capgate_lb_backend_healthy gauge\n"
			"# HELP capgate_lb_backend_flows Live flows to the backend.\n"
			"# TYPE capgate_lb_backend_flows gauge\n"
			"# HELP capgate_lb_backend_new_flows_total Flows sent to the backend.\n"
			"# TYPE capgate_lb_backend_new_flows_total counter\n"
			"# HELP capgate_lb_backend_packets_total Packets to and from the "
			"backend.\n# TYPE capgate_lb_backend_packets_total counter\n"
			"# HELP capgate_lb_backend_bytes_total Bytes to and from the backend.\n"
			"# TYPE capgate_lb_backend_bytes_total counter\n"
			"# HELP capgate_lb_no_backend_total Packets of new flows that found no "
			"healthy backend.\n# TYPE capgate_lb_no_backend_total counter\n"
			"# HELP capgate_lb_flows_full_total New flows refused: the flow table "
			"is full.\n# TYPE capgate_lb_flows_full_total counter\n"
			"# HELP capgate_lb_packets_total Packets of the balancer's datapath, by "
			"what it did with them (docs/lb.md).\n"
			"# TYPE capgate_lb_packets_total counter\n");
	sum_stats(lb, st);
	for (i = 0; !e && i < LB_STAT_MAX; i++)
		e = str_appendf(buf,
				"capgate_lb_packets_total{gateway=\"%s\",reason=\"%s\"} %llu\n", gw,
				lb_stat_name((unsigned int)i), (unsigned long long)st[i].packets);
	for (i = 0; !e && i < lb->nsvc; i++) {
		const struct gw_lb_svc *s = &lb->svc[i];

		sum_svc(lb, s->slot, &sc);
		e = str_appendf(buf,
				"capgate_lb_no_backend_total{gateway=\"%s\",service=\"%s\"} %llu\n"
				"capgate_lb_flows_full_total{gateway=\"%s\",service=\"%s\"} %llu\n",
				gw, s->name, (unsigned long long)sc.no_backend, gw, s->name,
				(unsigned long long)sc.flows_full);
		for (j = 0; !e && j < s->n; j++) {
			const struct gw_lb_be *b = &s->be[j];
			char l[CG_NAME_MAX * 2 + LB_BE_STRLEN + 64];

			sum_be(lb, b->slot, &c);
			snprintf(l, sizeof(l), "{gateway=\"%s\",service=\"%s\",backend=\"%s\"}", gw,
				 s->name, b->name);
			e = str_appendf(
				buf,
				"capgate_lb_backend_up%s %d\n"
				"capgate_lb_backend_healthy%s %d\n"
				"capgate_lb_backend_flows%s %llu\n"
				"capgate_lb_backend_new_flows_total%s %llu\n"
				"capgate_lb_backend_packets_total%s %llu\n"
				"capgate_lb_backend_bytes_total%s %llu\n",
				l, be_state(b) == LB_BE_UP, l, b->h.up, l,
				(unsigned long long)b->flows, l, (unsigned long long)c.flows, l,
				(unsigned long long)c.packets, l, (unsigned long long)c.bytes);
		}
	}
	return e;
}
