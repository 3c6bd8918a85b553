// SPDX-License-Identifier: GPL-2.0
/* The gateway daemon's state: pinned maps, rule store, XDP and TC attachment. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/*
 * The generated skeleton's error path hands its allocation to this libbpf call, which
 * frees it. clang's analyzer assumes a library function frees nothing and reports a
 * leak in gate.skel.h, which bpftool writes and we do not edit: tell it the truth.
 */
#ifdef __clang_analyzer__
void bpf_object__destroy_skeleton(struct bpf_object_skeleton *s)
	__attribute__((ownership_takes(malloc, 1)));
#endif
#include "gate.skel.h"

#include "abi/fw.h"
#include "abi/gate.h"
#include "lib/api/api.h"
#include "lib/auth/authd.h"
#include "lib/auth/revoke.h"
#include "lib/base/log.h"
#include "lib/base/parse_num.h"
#include "lib/base/portspec.h"
#include "lib/base/strbuf.h"
#include "lib/datapath/fw.h"
#include "lib/datapath/knock.h"
#include "lib/datapath/local.h"
#include "lib/datapath/sessmap.h"
#include "lib/datapath/sieve.h"
#include "lib/datapath/stats.h"
#include "lib/gateway/gateway.h"
#include "lib/gateway/lb.h"

/* TC filter identity of our egress program, so a restart replaces it in place. */
#define CG_TC_HANDLE 0xca9
#define CG_TC_PRIO 0xca9
/* Doors and flows expired per tick, to keep a tick short under a full map. */
#define CG_GC_BATCH 4096

struct gateway {
	struct gw_config cfg;
	struct gate_bpf *skel;
	struct fw_store store;
	char state_path[PATH_MAX];				/* <state_dir>/<name>/rules.json */
	char pin_dir[sizeof(CG_PIN_ROOT) + CG_NAME_MAX];	/* CG_PIN_ROOT/<name> */
	char link_path[sizeof(CG_PIN_ROOT) + CG_NAME_MAX + 16]; /* pin_dir/link_xdp */
	int ifindex;
	int link_fd;
	bool link_created; /* by this start, not reused from a pin */
	bool tc_attached;
	int ncpus;
	int local_err;		    /* last error of sync_local, to log a change only */
	struct authd *authd;	    /* [auth]: SPA, sessions, return path; NULL without it */
	struct gw_lb *lb;	    /* balanced services; NULL without them */
	char lb_path[PATH_MAX];	    /* <state_dir>/<name>/lb.json */
	int lb_pollfd;		    /* where the balancer's fds start in gateway_pollfds */
	char config_path[PATH_MAX]; /* what gateway_reload reads, "" = none */
	uint64_t reloads, reload_failed;
	struct sieve *sieve;	   /* gate_sieve, mapped */
	uint64_t sieve_rotated_ns; /* last sieve_rotate (or the start) */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	/*
	 * The gate reads bpf_ktime_get_coarse_ns(), CLOCK_MONOTONIC_COARSE: the
	 * same base, at most one tick behind this clock (docs/datapath.md).
	 */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	char *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * Pins need a bpffs at /sys/fs/bpf. `ip netns exec` remounts /sys without it,
 * so mount one if it is missing (as bpftool does); pins then live as long as
 * this mount namespace.
 */
static int ensure_bpffs(void)
{
	struct statfs st;

	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
		return -errno;
	log_warn("mounted a bpffs on /sys/fs/bpf: pinned state lives only as long as this mount "
		 "namespace");
	return 0;
}

static int pin_maps(struct gateway *gw)
{
	struct bpf_map *map;
	char path[PATH_MAX];
	int err;

	bpf_object__for_each_map(map, gw->skel->obj)
	{
		/* .rodata/.bss are internal to one load, not state. */
		if (bpf_map__is_internal(map))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", gw->pin_dir, bpf_map__name(map)) >=
		    (int)sizeof(path))
			return -ENAMETOOLONG;
		err = bpf_map__set_pin_path(map, path);
		if (err)
			return err;
	}
	return 0;
}

static void v4_key(const struct cidr *c, struct fw_key_v4 *k)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = c->plen;
	memcpy(k->addr, c->addr, 4);
}

static void v6_key(const struct cidr *c, struct fw_key_v6 *k)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = c->plen;
	memcpy(k->addr, c->addr, 16);
}

/* Writes one rule into its trie, with its hit counter zeroed when zero_hits. */
static int rule_map_put(struct gateway *gw, const struct fw_rule *r, bool zero_hits)
{
	struct fw_rule_val val = { .action = r->action, .slot = r->slot };
	struct fw_key_v4 k4;
	struct fw_key_v6 k6;
	uint64_t *zeros = NULL;
	int err;

	if (zero_hits) {
		zeros = calloc(gw->ncpus, sizeof(*zeros));
		if (!zeros)
			return -ENOMEM;
		err = bpf_map__update_elem(gw->skel->maps.fw_hits, &r->slot, sizeof(r->slot), zeros,
					   gw->ncpus * sizeof(*zeros), BPF_ANY);
		if (err)
			goto out;
	}
	if (r->cidr.family == AF_INET) {
		v4_key(&r->cidr, &k4);
		err = bpf_map__update_elem(gw->skel->maps.fw_rules_v4, &k4, sizeof(k4), &val,
					   sizeof(val), BPF_ANY);
	} else {
		v6_key(&r->cidr, &k6);
		err = bpf_map__update_elem(gw->skel->maps.fw_rules_v6, &k6, sizeof(k6), &val,
					   sizeof(val), BPF_ANY);
	}
out:
	free(zeros);
	return err;
}

static int rule_map_del(struct gateway *gw, const struct fw_rule *r)
{
	struct fw_key_v4 k4;
	struct fw_key_v6 k6;

	if (r->cidr.family == AF_INET) {
		v4_key(&r->cidr, &k4);
		return bpf_map__delete_elem(gw->skel->maps.fw_rules_v4, &k4, sizeof(k4), 0);
	}
	v6_key(&r->cidr, &k6);
	return bpf_map__delete_elem(gw->skel->maps.fw_rules_v6, &k6, sizeof(k6), 0);
}

/* The generation after @gen; 0 is skipped, it turns the gate's verdict cache off. */
static uint32_t fw_gen_next(uint32_t gen)
{
	return gen + 1 ? gen + 1 : 1;
}

/*
 * gate_config.fw_gen++ after a change to the rule tries: every verdict the
 * gate cached (fw_cache) under the old generation stops counting. Only this
 * process writes gate_config, so the read-modify-write cannot lose a bump.
 */
static int fw_gen_bump(struct gateway *gw)
{
	struct gate_config c;
	uint32_t zero = 0;
	int err;

	err = bpf_map__lookup_elem(gw->skel->maps.gate_config, &zero, sizeof(zero), &c, sizeof(c),
				   0);
	if (err)
		return err;
	c.fw_gen = fw_gen_next(c.fw_gen);
	return bpf_map__update_elem(gw->skel->maps.gate_config, &zero, sizeof(zero), &c, sizeof(c),
				    BPF_ANY);
}

static bool store_has_prefix(const struct fw_store *s, int family, unsigned int plen,
			     const uint8_t *addr, size_t alen)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct cidr *c = &s->rules[i].cidr;

		if (c->family == family && c->plen == plen && !memcmp(c->addr, addr, alen))
			return true;
	}
	return false;
}

/*
 * Deletes the entries of a pinned trie that the store no longer has (rules
 * deleted while the daemon was down, or a store restored from backup).
 */
static int trie_prune(struct gateway *gw, struct bpf_map *map, int family)
{
	size_t ksz = bpf_map__key_size(map), alen = family == AF_INET ? 4 : 16;
	uint8_t key[sizeof(struct fw_key_v6)], next[sizeof(struct fw_key_v6)];
	uint8_t *stale = NULL, *grown;
	size_t nstale = 0, i;
	void *prev = NULL;
	int err = 0;

	while (bpf_map__get_next_key(map, prev, next, ksz) == 0) {
		uint32_t plen;

		memcpy(&plen, next, sizeof(plen));
		if (!store_has_prefix(&gw->store, family, plen, next + 4, alen)) {
			grown = realloc(stale, (nstale + 1) * ksz);
			if (!grown) {
				err = -ENOMEM;
				goto out;
			}
			stale = grown;
			memcpy(stale + nstale++ * ksz, next, ksz);
		}
		memcpy(key, next, ksz);
		prev = key;
	}
	for (i = 0; i < nstale; i++) {
		err = bpf_map__delete_elem(map, stale + i * ksz, ksz, 0);
		if (err)
			goto out;
	}
	if (nstale)
		log_info("removed %zu stale rule(s) from %s", nstale, bpf_map__name(map));
out:
	free(stale);
	return err;
}

static int sync_rules(struct gateway *gw)
{
	size_t i;
	int err;

	if ((err = trie_prune(gw, gw->skel->maps.fw_rules_v4, AF_INET)) ||
	    (err = trie_prune(gw, gw->skel->maps.fw_rules_v6, AF_INET6)))
		return err;
	for (i = 0; i < gw->store.n; i++) {
		/* Hit counters survive a restart: they live in the pinned map. */
		err = rule_map_put(gw, &gw->store.rules[i], false);
		if (err)
			return err;
	}
	/* A reused (pinned) fw_cache may hold verdicts of the tries before this sync. */
	return fw_gen_bump(gw);
}

static int sync_open_ports(struct gateway *gw)
{
	struct bpf_map *map = gw->skel->maps.open_ports;
	struct cg_port key, next, stale[CG_OPEN_MAX + 64];
	size_t nstale = 0, i, j;
	void *prev = NULL;
	int err;

	while (bpf_map__get_next_key(map, prev, &next, sizeof(next)) == 0) {
		bool keep = false;

		for (j = 0; j < gw->cfg.nopen; j++)
			keep |= !memcmp(&gw->cfg.open[j], &next, sizeof(next));
		if (!keep && nstale < sizeof(stale) / sizeof(stale[0]))
			stale[nstale++] = next;
		key = next;
		prev = &key;
	}
	for (i = 0; i < nstale; i++) {
		err = bpf_map__delete_elem(map, &stale[i], sizeof(stale[i]), 0);
		if (err)
			return err;
	}
	for (i = 0; i < gw->cfg.nopen; i++) {
		const struct cg_dests *to = &gw->cfg.opens[gw->cfg.open_sec[i]].to;

		err = bpf_map__update_elem(map, &gw->cfg.open[i], sizeof(gw->cfg.open[i]), to,
					   sizeof(*to), BPF_ANY);
		if (err)
			return err;
	}
	return 0;
}

/*
 * The gateway's own addresses, the "self" of doors and open services: at
 * start and again every tick, so an address added later opens too. A
 * failure is logged when it starts, not every tick.
 */
static int sync_local(struct gateway *gw)
{
	uint8_t vips[CG_LOCAL_MAX][16];
	size_t nv = gw_lb_vips(gw->lb, vips, CG_LOCAL_MAX);
	int n = local_addrs_sync(bpf_map__fd(gw->skel->maps.gate_local), vips, nv);
	int e = n < 0 ? n : 0;

	if (e && e != gw->local_err) {
		if (e == -E2BIG)
			log_warn("more than %d local addresses: doors and open services lead "
				 "to the first %d only",
				 CG_LOCAL_MAX, CG_LOCAL_MAX);
		else
			log_errno(e, "cannot list the local addresses");
	}
	gw->local_err = e;
	return e == -E2BIG ? 0 : n;
}

/* Empties a hash map (knock progress is meaningless once the profiles changed). */
static int map_clear(struct bpf_map *map)
{
	size_t ksz = bpf_map__key_size(map);
	uint8_t key[64];
	int n = 0;

	if (ksz > sizeof(key))
		return -E2BIG;
	while (bpf_map__get_next_key(map, NULL, key, ksz) == 0) {
		if (bpf_map__delete_elem(map, key, ksz, 0))
			break;
		n++;
	}
	return n;
}

/*
 * Doors opened under the previous config stay open only while this config
 * would open them too: the same knock profile at the same index, or SPA to
 * the auth port. Otherwise a profile that was changed or removed because its
 * sequence leaked would keep the doors it opened for up to its open_for.
 */
static int prune_doors(struct gateway *gw, const struct gate_config *old,
		       const struct gate_config *cfg)
{
	struct bpf_map *doors = gw->skel->maps.knock_open;
	struct cg_port auth = { .proto = IPPROTO_TCP, .port = htons(gw->cfg.auth.port) };
	struct knock_open_key key, next, *stale = NULL, *grown;
	struct knock_open_val val;
	size_t n = 0, i;
	void *prev = NULL;
	bool keep;
	int err = 0;

	while (bpf_map__get_next_key(doors, prev, &next, sizeof(next)) == 0) {
		key = next;
		prev = &key;
		if (bpf_map__lookup_elem(doors, &key, sizeof(key), &val, sizeof(val), 0))
			continue;
		if (val.profile == CG_DOOR_SPA)
			keep = gw->cfg.auth.enabled && !memcmp(&key.port, &auth, sizeof(auth));
		else
			keep = val.profile < CG_KNOCK_MAX_PROFILES &&
			       val.profile < cfg->nprofiles && val.profile < old->nprofiles &&
			       !memcmp(&old->profiles[val.profile], &cfg->profiles[val.profile],
				       sizeof(cfg->profiles[0]));
		if (keep)
			continue;
		grown = realloc(stale, (n + 1) * sizeof(*stale));
		if (!grown) {
			err = -ENOMEM;
			goto out;
		}
		stale = grown;
		stale[n++] = key;
	}
	for (i = 0; i < n; i++) {
		err = bpf_map__delete_elem(doors, &stale[i], sizeof(stale[i]), 0);
		if (err && err != -ENOENT)
			goto out;
		err = 0;
	}
	if (n)
		log_info("closed %zu door(s) that the knock or SPA config no longer opens", n);
out:
	free(stale);
	return err;
}

/* Most ports the gate may admit a packet to: open, knock steps and targets, auth's three. */
#define SIEVE_PORTS_MAX \
	(CG_OPEN_MAX + CG_KNOCK_MAX_PROFILES * (CG_KNOCK_MAX_STEPS + CG_KNOCK_MAX_TARGETS) + 3)

/*
 * Every (proto, port) that a step after the sieve could admit a packet to or
 * consume it at: open services (the SPA port among them), knock steps and
 * door targets, the auth port (SPA doors) and the data port. Returns the count.
 */
static size_t sieve_ports(const struct gw_config *c, struct cg_port out[SIEVE_PORTS_MAX])
{
	size_t n = 0, i, j;

	for (i = 0; i < c->nopen; i++)
		out[n++] = c->open[i];
	for (i = 0; i < c->nknocks; i++) {
		const struct knock_profile *k = &c->knocks[i].prof;

		for (j = 0; j < k->nsteps && j < CG_KNOCK_MAX_STEPS; j++)
			out[n++] = k->steps[j];
		for (j = 0; j < k->ntargets && j < CG_KNOCK_MAX_TARGETS; j++)
			out[n++] = k->targets[j];
	}
	if (c->auth.enabled) {
		out[n++] = (struct cg_port){ .proto = IPPROTO_TCP, .port = htons(c->auth.port) };
		out[n++] =
			(struct cg_port){ .proto = IPPROTO_UDP, .port = htons(c->auth.data_port) };
		out[n++] =
			(struct cg_port){ .proto = IPPROTO_UDP, .port = htons(c->auth.spa_port) };
	}
	return n;
}

/*
 * How long a flow or knock bit must live: the flow timeout and the longest
 * step timeout, plus a second for the gate's coarse clock and the tick.
 */
static uint64_t sieve_period_ns(const struct gw_config *c)
{
	uint64_t t = c->flow_timeout_ns;
	size_t i;

	for (i = 0; i < c->nknocks; i++)
		if (c->knocks[i].prof.step_timeout_ns > t)
			t = c->knocks[i].prof.step_timeout_ns;
	return t + NS_PER_SEC;
}

/*
 * Step one of a start: what this config admits joins what the pinned sets
 * already hold (the old program may still run), and state from before the
 * sieve existed is marked. Step two (sieve_narrow) follows the maps' sync.
 */
static int sieve_widen(struct gateway *gw)
{
	struct cg_port ports[SIEVE_PORTS_MAX];
	size_t i;
	int n;

	gw->sieve = sieve_open(bpf_map__fd(gw->skel->maps.gate_sieve));
	if (!gw->sieve)
		return -errno;
	sieve_ports_add(gw->sieve, ports, sieve_ports(&gw->cfg, ports));
	for (i = 0; i < gw->store.n; i++)
		sieve_rule_add(gw->sieve, &gw->store.rules[i].cidr);
	n = sieve_seed(gw->sieve, bpf_map__fd(gw->skel->maps.gate_flows),
		       bpf_map__fd(gw->skel->maps.knock_state));
	gw->sieve_rotated_ns = now_ns();
	return n < 0 ? n : 0;
}

static void sieve_narrow(struct gateway *gw)
{
	struct cg_port ports[SIEVE_PORTS_MAX];

	sieve_ports_set(gw->sieve, ports, sieve_ports(&gw->cfg, ports));
	sieve_rules_set(gw->sieve, &gw->store);
	sieve_enable(gw->sieve, 1);
}

static int write_config(struct gateway *gw)
{
	struct gate_config old, cfg;
	uint32_t zero = 0;
	size_t i;
	int err;

	memset(&cfg, 0, sizeof(cfg));
	cfg.default_action = gw->cfg.default_action;
	cfg.flow_timeout_ns = gw->cfg.flow_timeout_ns;
	cfg.nprofiles = gw->cfg.nknocks;
	cfg.internal = gw->cfg.internal;
	if (gw->cfg.auth.enabled) {
		cfg.data_port = htons(gw->cfg.auth.data_port);
		cfg.spa_port = htons(gw->cfg.auth.spa_port);
		cfg.spa_interval_ns = NS_PER_SEC / gw->cfg.auth.spa_rate;
		cfg.spa_burst = gw->cfg.auth.spa_burst;
		cidr_to_mapped(&gw->cfg.auth.pool, cfg.pool.addr, &cfg.pool.plen);
	}
	for (i = 0; i < gw->cfg.nknocks; i++)
		cfg.profiles[i] = gw->cfg.knocks[i].prof;

	err = bpf_map__lookup_elem(gw->skel->maps.gate_config, &zero, sizeof(zero), &old,
				   sizeof(old), 0);
	/*
	 * A restart reuses the pinned fw_cache: continue the generation instead
	 * of resetting it, or verdicts cached under an old number could count
	 * again.
	 */
	cfg.fw_gen = fw_gen_next(err ? 0 : old.fw_gen);
	if (!err && (old.nprofiles != cfg.nprofiles ||
		     memcmp(old.profiles, cfg.profiles, sizeof(cfg.profiles)))) {
		int n = map_clear(gw->skel->maps.knock_state);

		if (n > 0)
			log_info("knock profiles changed: forgot the progress of %d source(s)", n);
	}
	if (!err) {
		err = prune_doors(gw, &old, &cfg);
		if (err)
			return err;
	}
	return bpf_map__update_elem(gw->skel->maps.gate_config, &zero, sizeof(zero), &cfg,
				    sizeof(cfg), BPF_ANY);
}

static const char *xdp_mode_name(int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q))
		return "unknown";
	switch (q.attach_mode) {
	case XDP_ATTACHED_DRV:
		return "native";
	case XDP_ATTACHED_SKB:
		return "generic";
	case XDP_ATTACHED_HW:
		return "offload";
	case XDP_ATTACHED_MULTI:
		return "multi";
	}
	return "none";
}

/*
 * True unless @fd is known not to be an XDP link on @ifindex. A link whose
 * interface vanished reports ifindex 0 (bpf_link_update then fails, and the
 * caller attaches anew); a link whose info cannot be read is left to
 * bpf_link_update as well.
 */
static bool link_on_ifindex(int fd, int ifindex)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return true;
	return info.type == BPF_LINK_TYPE_XDP &&
	       (!info.xdp.ifindex || (int)info.xdp.ifindex == ifindex);
}

/*
 * XDP through a pinned bpf_link: the program stays attached if the daemon is
 * killed (fail closed), and a restart swaps in the new program atomically,
 * with no moment in which the interface is open.
 */
static int attach_xdp(struct gateway *gw, char *err, size_t errlen)
{
	int prog_fd = bpf_program__fd(gw->skel->progs.xdp_gate);
	LIBBPF_OPTS(bpf_link_create_opts, opts);
	int fd, e;

	fd = bpf_obj_get(gw->link_path);
	if (fd >= 0 && !link_on_ifindex(fd, gw->ifindex)) {
		/*
		 * The config names another interface than the pinned link's: updating
		 * that link would leave this interface without a gate.
		 */
		log_warn("pinned XDP link %s is on another interface than %s: detaching it",
			 gw->link_path, gw->cfg.iface);
		close(fd);
		unlink(gw->link_path);
		fd = -1;
	}
	if (fd >= 0) {
		LIBBPF_OPTS(bpf_link_update_opts, uopts);

		if (bpf_link_update(fd, prog_fd, &uopts) == 0) {
			gw->link_fd = fd;
			log_info("XDP on %s: replaced the program of the pinned link (%s mode)",
				 gw->cfg.iface, xdp_mode_name(gw->ifindex));
			return 0;
		}
		/* A link of a vanished interface: start over. */
		log_warn("pinned XDP link %s is stale (%s): attaching anew", gw->link_path,
			 strerror(errno));
		close(fd);
		unlink(gw->link_path);
	}

	if (gw->cfg.xdp_mode != CG_XDP_GENERIC) {
		opts.flags = XDP_FLAGS_DRV_MODE;
		fd = bpf_link_create(prog_fd, gw->ifindex, BPF_XDP, &opts);
		if (fd < 0 && gw->cfg.xdp_mode == CG_XDP_NATIVE) {
			e = -errno;
			snprintf(err, errlen, "native XDP on %s: %s", gw->cfg.iface, strerror(-e));
			return e;
		}
	} else {
		fd = -1;
	}
	if (fd < 0) {
		opts.flags = XDP_FLAGS_SKB_MODE;
		fd = bpf_link_create(prog_fd, gw->ifindex, BPF_XDP, &opts);
	}
	if (fd < 0) {
		e = -errno;
		snprintf(err, errlen, "cannot attach XDP to %s: %s%s", gw->cfg.iface, strerror(-e),
			 e == -EBUSY || e == -EEXIST ? " (another XDP program is attached)" : "");
		return e;
	}
	if (bpf_obj_pin(fd, gw->link_path)) {
		e = -errno;
		close(fd);
		snprintf(err, errlen, "cannot pin the XDP link at %s: %s", gw->link_path,
			 strerror(-e));
		return e;
	}
	gw->link_fd = fd;
	gw->link_created = true;
	log_info("XDP attached to %s in %s mode", gw->cfg.iface, xdp_mode_name(gw->ifindex));
	return 0;
}

static int attach_tc(struct gateway *gw, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = gw->ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = CG_TC_HANDLE, .priority = CG_TC_PRIO,
		    .flags = BPF_TC_F_REPLACE);
	int e;

	e = bpf_tc_hook_create(&hook);
	if (e && e != -EEXIST) {
		snprintf(err, errlen, "cannot add the clsact qdisc to %s: %s", gw->cfg.iface,
			 strerror(-e));
		return e;
	}
	opts.prog_fd = bpf_program__fd(gw->skel->progs.tc_gate_out);
	e = bpf_tc_attach(&hook, &opts);
	if (e) {
		snprintf(err, errlen, "cannot attach TC egress to %s: %s", gw->cfg.iface,
			 strerror(-e));
		return e;
	}
	gw->tc_attached = true;
	return 0;
}

static void detach_tc(struct gateway *gw)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = gw->ifindex, .attach_point = BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = CG_TC_HANDLE, .priority = CG_TC_PRIO);

	if (gw->tc_attached && bpf_tc_detach(&hook, &opts))
		log_warn("could not detach TC egress from %s", gw->cfg.iface);
	gw->tc_attached = false;
}

/* Encrypted sessions' inner packets enter through the TUN: the balancer runs there too. */
static int lb_tun(struct gateway *gw, char *err, size_t errlen)
{
	int ix;

	if (!gw->lb || !gw->authd)
		return 0;
	ix = (int)if_nametoindex(gw->cfg.auth.tun);
	if (!ix) {
		snprintf(err, errlen, "[auth] tun %s: %s", gw->cfg.auth.tun, strerror(errno));
		return -ENODEV;
	}
	return gw_lb_set_tun(gw->lb, ix, err, errlen);
}

struct gateway *gateway_start(const struct gw_config *cfg, char *err, size_t errlen)
{
	struct gateway *gw = NULL;
	char dir[PATH_MAX];
	int e;

	gw = calloc(1, sizeof(*gw));
	if (!gw) {
		e = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	gw->cfg = *cfg;
	gw->link_fd = -1;
	fw_store_init(&gw->store);
	gw->ncpus = libbpf_num_possible_cpus();
	if (gw->ncpus <= 0) {
		e = gw->ncpus ? gw->ncpus : -EINVAL;
		snprintf(err, errlen, "cannot count CPUs: %s", strerror(-e));
		goto fail;
	}

	gw->ifindex = if_nametoindex(cfg->iface);
	if (!gw->ifindex) {
		e = -ENODEV;
		snprintf(err, errlen, "interface %s: %s", cfg->iface, strerror(errno));
		goto fail;
	}

	/* State first: a corrupt store stops us before the datapath changes. */
	if (snprintf(dir, sizeof(dir), "%s/%s", cfg->state_dir, cfg->name) >= (int)sizeof(dir) ||
	    snprintf(gw->state_path, sizeof(gw->state_path), "%s/rules.json", dir) >=
		    (int)sizeof(gw->state_path) ||
	    snprintf(gw->lb_path, sizeof(gw->lb_path), "%s/lb.json", dir) >=
		    (int)sizeof(gw->lb_path)) {
		e = -ENAMETOOLONG;
		snprintf(err, errlen, "state_dir %s: path too long", cfg->state_dir);
		goto fail;
	}
	e = mkdir_p(dir, 0700);
	if (e) {
		snprintf(err, errlen, "state directory %s: %s", dir, strerror(-e));
		goto fail;
	}
	e = fw_store_load(&gw->store, gw->state_path, err, errlen);
	if (e)
		goto fail;

	snprintf(gw->pin_dir, sizeof(gw->pin_dir), "%s/%s", CG_PIN_ROOT, cfg->name);
	snprintf(gw->link_path, sizeof(gw->link_path), "%s/link_xdp", gw->pin_dir);
	e = ensure_bpffs();
	if (!e)
		e = mkdir_p(gw->pin_dir, 0700);
	if (e) {
		snprintf(err, errlen, "pin directory %s: %s", gw->pin_dir, strerror(-e));
		goto fail;
	}

	gw->skel = gate_bpf__open();
	if (!gw->skel) {
		e = -errno;
		snprintf(err, errlen, "cannot open the BPF object: %s", strerror(-e));
		goto fail;
	}
	e = pin_maps(gw);
	if (!e)
		e = gate_bpf__load(gw->skel);
	if (e) {
		/* libbpf says EINVAL when a pinned map does not match this program's. */
		snprintf(err, errlen, "cannot load the XDP gate: %s%s%s%s", strerror(-e),
			 e == -EINVAL ? " (pinned maps in " : "", e == -EINVAL ? gw->pin_dir : "",
			 e == -EINVAL ? " from another version? remove that directory)" : "");
		goto fail;
	}

	/* The balancer first: its VIPs are the gateway's own addresses in gate_local. */
	gw->lb = gw_lb_new(&gw->cfg, gw->pin_dir, gw->lb_path, err, errlen);
	if (!gw->lb && errno) {
		e = -errno;
		goto fail;
	}
	/* The maps are complete before the program sees a packet. */
	if ((e = sieve_widen(gw)) || (e = write_config(gw)) || (e = sync_open_ports(gw)) ||
	    (e = sync_rules(gw)) || (e = sync_local(gw)) < 0) {
		snprintf(err, errlen, "cannot fill the maps: %s", strerror(-e));
		goto fail;
	}
	sieve_narrow(gw);
	/*
	 * Sessions left in the pinned map by a run that crashed: their control
	 * channels died with it and nothing here could revoke them.
	 */
	e = sessmap_clear(bpf_map__fd(gw->skel->maps.tun_sessions));
	if (e > 0)
		log_info("removed %d session(s) of an earlier run from tun_sessions", e);
	e = attach_xdp(gw, err, errlen);
	if (e)
		goto fail;
	e = attach_tc(gw, err, errlen);
	if (e) {
		/* Undo only an attachment this start made: a reused one keeps enforcing. */
		if (gw->link_created)
			goto fail_detach;
		goto fail;
	}
	if (cfg->auth.enabled) {
		gw->authd = authd_new(&gw->cfg, bpf_map__fd(gw->skel->maps.tun_sessions),
				      bpf_program__fd(gw->skel->progs.xdp_rescope),
				      bpf_map__fd(gw->skel->maps.tun_windows),
				      bpf_map__fd(gw->skel->maps.knock_open), err, errlen);
		if (!gw->authd) {
			e = -errno;
			if (gw->link_created)
				goto fail_detach;
			goto fail;
		}
		e = lb_tun(gw, err, errlen);
		if (e) {
			if (gw->link_created)
				goto fail_detach;
			goto fail;
		}
	}
	log_info(
		"gateway %s on %s: %zu rule(s), %zu open port(s), %zu knock profile(s), default %s",
		cfg->name, cfg->iface, gw->store.n, cfg->nopen, cfg->nknocks,
		cfg->default_action == GATE_DEFAULT_PASS ? "pass" : "drop");
	return gw;

fail_detach:
	gateway_free(gw, true);
	errno = -e;
	return NULL;
fail:
	gateway_free(gw, false);
	errno = -e;
	return NULL;
}

void gateway_free(struct gateway *gw, bool detach)
{
	if (!gw)
		return;
	/* Sessions go first: their map entries, addresses and keys. */
	authd_free(gw->authd);
	gw_lb_free(gw->lb, detach);
	if (detach) {
		detach_tc(gw);
		/* Unpinning and closing the last fd of the link detaches XDP. */
		if (gw->link_fd >= 0) {
			unlink(gw->link_path);
			log_info("XDP detached from %s", gw->cfg.iface);
		}
	}
	if (gw->link_fd >= 0)
		close(gw->link_fd);
	sieve_close(gw->sieve);
	gate_bpf__destroy(gw->skel);
	fw_store_free(&gw->store);
	free(gw);
}

bool gateway_attached_anew(const struct gateway *gw)
{
	return gw->link_created;
}

/* Expired doors and idle flows; the LRU would evict them too, but later. */
static void gc_doors_flows(struct gateway *gw)
{
	struct bpf_map *doors = gw->skel->maps.knock_open, *flows = gw->skel->maps.gate_flows;
	struct knock_open_key dk, dnext, dstale[64];
	struct knock_open_val dv;
	struct flow_key fk, fnext, fstale[64];
	struct flow_val fv;
	uint64_t now = now_ns();
	size_t nd = 0, nf = 0, seen = 0, i;
	void *prev = NULL;

	while (seen++ < CG_GC_BATCH && nd < 64 &&
	       bpf_map__get_next_key(doors, prev, &dnext, sizeof(dnext)) == 0) {
		if (bpf_map__lookup_elem(doors, &dnext, sizeof(dnext), &dv, sizeof(dv), 0) == 0 &&
		    dv.expires_ns <= now)
			dstale[nd++] = dnext;
		dk = dnext;
		prev = &dk;
	}
	for (i = 0; i < nd; i++)
		bpf_map__delete_elem(doors, &dstale[i], sizeof(dstale[i]), 0);

	prev = NULL;
	seen = 0;
	while (seen++ < CG_GC_BATCH && nf < 64 &&
	       bpf_map__get_next_key(flows, prev, &fnext, sizeof(fnext)) == 0) {
		if (bpf_map__lookup_elem(flows, &fnext, sizeof(fnext), &fv, sizeof(fv), 0) == 0 &&
		    fv.last_ns + gw->cfg.flow_timeout_ns < now)
			fstale[nf++] = fnext;
		fk = fnext;
		prev = &fk;
	}
	for (i = 0; i < nf; i++)
		bpf_map__delete_elem(flows, &fstale[i], sizeof(fstale[i]), 0);
}

void gateway_tick(struct gateway *gw)
{
	if (gw->authd)
		authd_tick(gw->authd);
	gc_doors_flows(gw);
	gw_lb_tick(gw->lb);
	sync_local(gw);
	if (now_ns() - gw->sieve_rotated_ns >= sieve_period_ns(&gw->cfg)) {
		sieve_rotate(gw->sieve);
		gw->sieve_rotated_ns = now_ns();
	}
}

int gateway_pollfds(struct gateway *gw, struct pollfd *p, int max)
{
	int n = gw->authd ? authd_pollfds(gw->authd, p, max) : 0;

	gw->lb_pollfd = n;
	return n + gw_lb_pollfds(gw->lb, p + n, max - n);
}

void gateway_process(struct gateway *gw, const struct pollfd *p, int n)
{
	int a = gw->lb_pollfd < n ? gw->lb_pollfd : n;

	if (gw->authd)
		authd_process(gw->authd, p, a);
	gw_lb_process(gw->lb, p + a, n - a);
}

int gateway_timeout_ms(const struct gateway *gw)
{
	return gw_lb_timeout_ms(gw->lb);
}

#ifdef CG_TESTING
void gateway_test_worker_syscall(struct gateway *gw)
{
	if (gw->authd)
		authd_test_worker_syscall(gw->authd);
}
#endif

static int gw_sessions_list(struct gateway *gw, json_t **out)
{
	if (!gw->authd) {
		*out = json_array();
		return *out ? 0 : -ENOMEM;
	}
	return authd_sessions(gw->authd, out);
}

static int gw_session_revoke(struct gateway *gw, uint32_t id)
{
	return gw->authd ? authd_revoke(gw->authd, id) : -ENOENT;
}

static int gw_revocations_list(struct gateway *gw, json_t **out)
{
	return gw->authd ? authd_revocations(gw->authd, out) : -EOPNOTSUPP;
}

static int gw_revocation_add(struct gateway *gw, const struct api_revocation *ar, json_t **out)
{
	struct revocation r = { .kind = ar->serial ? REVOKE_SERIAL
					: ar->app  ? REVOKE_APP
						   : REVOKE_DEVICE };

	if (!gw->authd)
		return -EOPNOTSUPP;
	if (ar->serial && revoke_serial_parse(ar->serial, r.serial, &r.serial_len))
		return -EINVAL;
	snprintf(r.device, sizeof(r.device), "%s", ar->device ? ar->device : "");
	snprintf(r.app, sizeof(r.app), "%s", ar->app ? ar->app : "");
	snprintf(r.note, sizeof(r.note), "%s", ar->note ? ar->note : "");
	return authd_revoke_add(gw->authd, &r, out);
}

static int gw_revocation_del(struct gateway *gw, uint32_t id)
{
	return gw->authd ? authd_revoke_del(gw->authd, id) : -EOPNOTSUPP;
}

static int gw_devices_list(struct gateway *gw, json_t **out)
{
	return gw->authd ? authd_devices(gw->authd, out) : -EOPNOTSUPP;
}

static int gw_device_groups_set(struct gateway *gw, const char *device, const char *const *groups,
				size_t n, json_t **out)
{
	struct authd_rejudged r;
	json_t *all = NULL, *g, *none;
	int e = gw->authd ? authd_device_groups(gw->authd, device, groups, n, &r) : -EOPNOTSUPP;

	if (!e)
		e = authd_devices(gw->authd, &all);
	if (e)
		return e;
	/* As the registry keeps them (duplicates once); none after a DELETE. */
	g = json_object_get(all, device);
	none = g ? NULL : json_array();
	*out = json_pack("{s:s, s:O, s:I, s:I}", "device", device, "groups", g ? g : none,
			 "sessions_rescoped", (json_int_t)r.rescoped, "sessions_revoked",
			 (json_int_t)r.revoked);
	json_decref(none);
	json_decref(all);
	return *out ? 0 : -ENOMEM;
}

void gateway_set_config_path(struct gateway *gw, const char *path)
{
	snprintf(gw->config_path, sizeof(gw->config_path), "%s", path);
}

/* What a reload changes in place: the policy, the balanced services, the CRL's path. */
static void live_swap(struct gw_config *a, struct gw_config *b)
{
	static struct gw_config t;

	t.policy = a->policy;
	a->policy = b->policy;
	b->policy = t.policy;
	memcpy(t.lb, a->lb, sizeof(t.lb));
	memcpy(a->lb, b->lb, sizeof(t.lb));
	memcpy(b->lb, t.lb, sizeof(t.lb));
	memcpy(t.lb_be, a->lb_be, sizeof(t.lb_be));
	memcpy(a->lb_be, b->lb_be, sizeof(t.lb_be));
	memcpy(b->lb_be, t.lb_be, sizeof(t.lb_be));
	t.nlb_be = a->nlb_be;
	a->nlb_be = b->nlb_be;
	b->nlb_be = t.nlb_be;
	memcpy(t.auth.crl, a->auth.crl, sizeof(t.auth.crl));
	memcpy(a->auth.crl, b->auth.crl, sizeof(t.auth.crl));
	memcpy(b->auth.crl, t.auth.crl, sizeof(t.auth.crl));
}

/*
 * The balancer of the config now in gw->cfg: the first balanced service
 * starts it, the last one gone detaches it. -EIO (a map write), -errno of
 * its start, with the reason in err.
 */
static int reload_lb(struct gateway *gw, char *err, size_t errlen)
{
	int e;

	if (!gw_lb_configured(&gw->cfg)) {
		gw_lb_free(gw->lb, true);
		gw->lb = NULL;
		return 0;
	}
	if (gw->lb)
		return gw_lb_reload(gw->lb, &gw->cfg, err, errlen);
	gw->lb = gw_lb_new(&gw->cfg, gw->pin_dir, gw->lb_path, err, errlen);
	if (!gw->lb)
		return -errno;
	e = lb_tun(gw, err, errlen);
	if (e) {
		gw_lb_free(gw->lb, true);
		gw->lb = NULL;
	}
	return e;
}

int gateway_reload(struct gateway *gw, json_t **out, char *err, size_t errlen)
{
	struct gw_config *n = malloc(sizeof(*n));
	struct authd_rejudged r = { 0 };
	const char *key = NULL;
	int e;

	if (!n) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	e = gw->config_path[0] ? config_load(gw->config_path, n, err, errlen) : -EINVAL;
	if (!gw->config_path[0])
		snprintf(err, errlen, "the gateway was not started from a config file");
	if (!e && (key = config_restart_key(&gw->cfg, n)))
		snprintf(err, errlen, "%s: %s changed: restart the daemon to apply it",
			 gw->config_path, key);
	if (e || key) {
		free(n);
		gw->reload_failed++;
		log_warn("reload refused, nothing changed: %s", err);
		return key ? -EBUSY : e == -ENOMEM ? e : -EINVAL;
	}
	live_swap(&gw->cfg, n);
	e = reload_lb(gw, err, errlen);
	if (e) {
		live_swap(&gw->cfg, n);
		free(n);
		gw->reload_failed++;
		log_warn("reload refused, nothing changed: %s", err);
		return e;
	}
	free(n);
	sync_local(gw);
	if (gw->authd)
		authd_set_config(gw->authd, &gw->cfg, &r);
	gw->reloads++;
	log_info("reloaded %s: %zu service(s), %zu [allow] section(s); sessions: %zu kept, %zu "
		 "rescoped, %zu revoked",
		 gw->config_path, gw->cfg.policy.nservices, gw->cfg.policy.npolicies, r.kept,
		 r.rescoped, r.revoked);
	*out = json_pack("{s:I, s:I, s:I}", "sessions_kept", (json_int_t)r.kept,
			 "sessions_rescoped", (json_int_t)r.rescoped, "sessions_revoked",
			 (json_int_t)r.revoked);
	return *out ? 0 : -ENOMEM;
}

/* ---- REST operations ------------------------------------------------------ */

static uint64_t rule_hits(struct gateway *gw, uint32_t slot)
{
	uint64_t sum = 0, *v;
	int i;

	v = calloc(gw->ncpus, sizeof(*v));
	if (!v)
		return 0;
	if (bpf_map__lookup_elem(gw->skel->maps.fw_hits, &slot, sizeof(slot), v,
				 gw->ncpus * sizeof(*v), 0) == 0)
		for (i = 0; i < gw->ncpus; i++)
			sum += v[i];
	free(v);
	return sum;
}

static int gw_rules_list(struct gateway *gw, json_t **out)
{
	json_t *arr = json_array(), *r;
	size_t i;

	if (!arr)
		return -ENOMEM;
	for (i = 0; i < gw->store.n; i++) {
		const struct fw_rule *rule = &gw->store.rules[i];

		r = fw_rule_json(rule, rule_hits(gw, rule->slot));
		if (!r || json_array_append_new(arr, r)) {
			json_decref(arr);
			return -ENOMEM;
		}
	}
	*out = arr;
	return 0;
}

/* A deep copy, so a change can be saved before it replaces the live store. */
static int store_clone(const struct fw_store *src, struct fw_store *dst)
{
	fw_store_init(dst);
	dst->next_id = src->next_id;
	if (!src->n)
		return 0;
	dst->rules = malloc(src->n * sizeof(*src->rules));
	if (!dst->rules)
		return -ENOMEM;
	memcpy(dst->rules, src->rules, src->n * sizeof(*src->rules));
	dst->n = dst->cap = src->n;
	return 0;
}

/* Makes next the live store, keeping the old one for a rollback. */
static void store_swap(struct gateway *gw, struct fw_store *next)
{
	struct fw_store old = gw->store;

	gw->store = *next;
	*next = old;
}

static int gw_rule_add(struct gateway *gw, const struct cidr *c, uint32_t action, json_t **out)
{
	struct fw_store next;
	struct fw_rule rule;
	json_t *j = NULL;
	int err;

	err = store_clone(&gw->store, &next);
	if (err)
		goto out;
	err = fw_store_add(&next, c, action, &rule);
	if (err == -EEXIST) {
		j = fw_rule_json(&rule, rule_hits(gw, rule.slot));
		goto out;
	}
	if (err)
		goto out;
	j = fw_rule_json(&rule, 0);
	if (!j) {
		err = -ENOMEM;
		goto out;
	}
	/* Saved first: what the datapath enforces is never lost on restart. */
	err = fw_store_save(&next, gw->state_path);
	if (err) {
		log_errno(err, "cannot save %s", gw->state_path);
		/* It may fail after the rename (fsync of the directory): put the old file back. */
		if (fw_store_save(&gw->store, gw->state_path))
			log_err("%s may not match the rules in force", gw->state_path);
		err = -EIO;
		goto out;
	}
	/* Before the trie: the sieve must never drop what the new rule decides. */
	sieve_rule_add(gw->sieve, &rule.cidr);
	err = rule_map_put(gw, &rule, true);
	if (!err) {
		err = fw_gen_bump(gw);
		/* Unbumped, cached verdicts would hide the rule: refuse it whole. */
		if (err)
			rule_map_del(gw, &rule);
	}
	if (err) {
		log_errno(err, "cannot write rule %u to the datapath", rule.id);
		sieve_rules_set(gw->sieve, &gw->store);
		if (fw_store_save(&gw->store, gw->state_path))
			log_err("%s now lists rule %u that is not enforced; it will be on restart",
				gw->state_path, rule.id);
		err = -EIO;
		goto out;
	}
	store_swap(gw, &next);
	log_info("rule %u added: %s", rule.id, fw_action_name(action));
out:
	fw_store_free(&next);
	if (err && err != -EEXIST) {
		json_decref(j);
		return err;
	}
	*out = j;
	return err;
}

static int gw_rule_del(struct gateway *gw, uint32_t id)
{
	struct fw_store next;
	struct fw_rule rule;
	int err;

	err = store_clone(&gw->store, &next);
	if (err)
		goto out;
	err = fw_store_del(&next, id, &rule);
	if (err)
		goto out;
	err = fw_store_save(&next, gw->state_path);
	if (err) {
		log_errno(err, "cannot save %s", gw->state_path);
		/* It may fail after the rename (fsync of the directory): put the old file back. */
		if (fw_store_save(&gw->store, gw->state_path))
			log_err("%s may not match the rules in force", gw->state_path);
		err = -EIO;
		goto out;
	}
	err = rule_map_del(gw, &rule);
	if (!err || err == -ENOENT) {
		err = fw_gen_bump(gw);
		/* Unbumped, cached verdicts would keep the rule alive: refuse the delete whole. */
		if (err)
			rule_map_put(gw, &rule, false);
	}
	if (err) {
		log_errno(err, "cannot remove rule %u from the datapath", id);
		fw_store_save(&gw->store, gw->state_path);
		err = -EIO;
		goto out;
	}
	store_swap(gw, &next);
	/* After the trie: until now the rule could still match. */
	sieve_rules_set(gw->sieve, &gw->store);
	log_info("rule %u deleted", id);
out:
	fw_store_free(&next);
	return err;
}

static const char *profile_name(struct gateway *gw, uint32_t p)
{
	return p < gw->cfg.nknocks ? gw->cfg.knocks[p].name : "spa";
}

static int gw_knock_list(struct gateway *gw, json_t **out)
{
	struct bpf_map *doors = gw->skel->maps.knock_open;
	json_t *root = NULL, *profiles, *open, *j;
	struct knock_open_key key, next;
	struct knock_open_val val;
	char addr[CG_ADDRSTRLEN], port[16];
	uint64_t now = now_ns();
	void *prev = NULL;
	size_t i;
	int err = -ENOMEM;

	root = json_object();
	profiles = json_array();
	open = json_array();
	if (!root || !profiles || !open || json_object_set_new(root, "profiles", profiles) ||
	    json_object_set_new(root, "open", open))
		goto out;
	for (i = 0; i < gw->cfg.nknocks; i++) {
		err = knock_profile_json(gw->cfg.knocks[i].name, &gw->cfg.knocks[i].prof, &j);
		if (err)
			goto out;
		if (json_array_append_new(profiles, j)) {
			err = -ENOMEM;
			goto out;
		}
	}
	while (bpf_map__get_next_key(doors, prev, &next, sizeof(next)) == 0) {
		key = next;
		prev = &key;
		if (bpf_map__lookup_elem(doors, &key, sizeof(key), &val, sizeof(val), 0) ||
		    val.expires_ns <= now)
			continue;
		addr_format_mapped(key.addr, addr, sizeof(addr));
		port_format(&key.port, port, sizeof(port));
		j = json_pack("{s:s, s:s, s:s, s:I}", "source", addr, "profile",
			      profile_name(gw, val.profile), "target", port, "expires_in",
			      (json_int_t)((val.expires_ns - now + NS_PER_SEC - 1) / NS_PER_SEC));
		if (!j || json_array_append_new(open, j)) {
			err = -ENOMEM;
			goto out;
		}
	}
	*out = root;
	return 0;
out:
	json_decref(root);
	return err;
}

static int gw_knock_close(struct gateway *gw, const uint8_t addr[16])
{
	struct bpf_map *doors = gw->skel->maps.knock_open;
	struct knock_open_key key, next, mine[CG_KNOCK_MAX_PROFILES * CG_KNOCK_MAX_TARGETS + 1];
	void *prev = NULL;
	size_t n = 0, i;

	while (n < sizeof(mine) / sizeof(mine[0]) &&
	       bpf_map__get_next_key(doors, prev, &next, sizeof(next)) == 0) {
		if (!memcmp(next.addr, addr, 16))
			mine[n++] = next;
		key = next;
		prev = &key;
	}
	if (!n)
		return -ENOENT;
	for (i = 0; i < n; i++)
		bpf_map__delete_elem(doors, &mine[i], sizeof(mine[i]), 0);
	/* Half-done sequences of that source go too. */
	bpf_map__delete_elem(gw->skel->maps.knock_state, addr, 16, 0);
	return 0;
}

static int read_counters(struct gateway *gw, struct cg_counter sum[CG_STAT_MAX])
{
	struct cg_counter *v;
	uint32_t k;
	int i, err = 0;

	v = calloc(gw->ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	memset(sum, 0, CG_STAT_MAX * sizeof(*sum));
	for (k = 0; k < CG_STAT_MAX; k++) {
		err = bpf_map__lookup_elem(gw->skel->maps.gate_stats, &k, sizeof(k), v,
					   gw->ncpus * sizeof(*v), 0);
		if (err)
			break;
		for (i = 0; i < gw->ncpus; i++) {
			sum[k].packets += v[i].packets;
			sum[k].bytes += v[i].bytes;
		}
	}
	free(v);
	return err;
}

static size_t doors_open(struct gateway *gw)
{
	struct bpf_map *doors = gw->skel->maps.knock_open;
	struct knock_open_key key, next;
	struct knock_open_val val;
	uint64_t now = now_ns();
	void *prev = NULL;
	size_t n = 0;

	while (bpf_map__get_next_key(doors, prev, &next, sizeof(next)) == 0) {
		key = next;
		prev = &key;
		if (!bpf_map__lookup_elem(doors, &key, sizeof(key), &val, sizeof(val), 0) &&
		    val.expires_ns > now)
			n++;
	}
	return n;
}

static int gw_stats(struct gateway *gw, json_t **out)
{
	struct cg_counter c[CG_STAT_MAX];
	json_t *root = NULL, *reasons;
	uint64_t pass = 0, drop = 0;
	unsigned int k;
	int err;

	err = read_counters(gw, c);
	if (err)
		return err;
	reasons = json_object();
	if (!reasons)
		return -ENOMEM;
	for (k = 0; k < CG_STAT_MAX; k++) {
		if (stat_is_pass(k))
			pass += c[k].packets;
		else
			drop += c[k].packets;
		if (json_object_set_new(reasons, stat_name(k),
					json_pack("{s:I, s:I}", "packets", (json_int_t)c[k].packets,
						  "bytes", (json_int_t)c[k].bytes))) {
			json_decref(reasons);
			return -ENOMEM;
		}
	}
	root = json_pack(
		"{s:s, s:s, s:s, s:s, s:{s:I, s:I}, s:o, s:I, s:I}", "gateway", gw->cfg.name,
		"interface", gw->cfg.iface, "xdp_mode", xdp_mode_name(gw->ifindex), "default",
		gw->cfg.default_action == GATE_DEFAULT_PASS ? "pass" : "drop", "packets", "pass",
		(json_int_t)pass, "drop", (json_int_t)drop, "reasons", reasons, "rules",
		(json_int_t)gw->store.n, "doors_open", (json_int_t)doors_open(gw));
	if (!root ||
	    json_object_set_new(root, "reload",
				json_pack("{s:I, s:I}", "reloads", (json_int_t)gw->reloads,
					  "reload_failed", (json_int_t)gw->reload_failed))) {
		json_decref(root);
		return -ENOMEM;
	}
	if (gw->authd) {
		json_t *auth = NULL;

		err = authd_stats(gw->authd, &auth);
		if (err || json_object_set_new(root, "auth", auth)) {
			json_decref(root);
			return err ? err : -ENOMEM;
		}
	}
	*out = root;
	return 0;
}

static int gw_metrics(struct gateway *gw, char **out)
{
	struct cg_counter c[CG_STAT_MAX];
	char *buf = NULL, cidr[CG_ADDRSTRLEN];
	unsigned int k;
	size_t i;
	int err;

	err = read_counters(gw, c);
	if (err)
		return err;
	err = str_appendf(&buf,
			  "# HELP capgate_packets_total Packets seen by the XDP gate, by verdict "
			  "and reason.\n# TYPE capgate_packets_total counter\n");
	for (k = 0; !err && k < CG_STAT_MAX; k++)
		err = str_appendf(
			&buf,
			"capgate_packets_total{gateway=\"%s\",verdict=\"%s\",reason=\"%s\"} "
			"%llu\n",
			gw->cfg.name, stat_is_pass(k) ? "pass" : "drop", stat_reason(k),
			(unsigned long long)c[k].packets);
	if (!err)
		err = str_appendf(&buf,
				  "# HELP capgate_bytes_total Bytes seen by the XDP gate, by "
				  "verdict and reason.\n# TYPE capgate_bytes_total counter\n");
	for (k = 0; !err && k < CG_STAT_MAX; k++)
		err = str_appendf(
			&buf,
			"capgate_bytes_total{gateway=\"%s\",verdict=\"%s\",reason=\"%s\"} "
			"%llu\n",
			gw->cfg.name, stat_is_pass(k) ? "pass" : "drop", stat_reason(k),
			(unsigned long long)c[k].bytes);
	if (!err)
		err = str_appendf(
			&buf, "# HELP capgate_rule_hits_total Packets matched by each CIDR rule.\n"
			      "# TYPE capgate_rule_hits_total counter\n");
	for (i = 0; !err && i < gw->store.n; i++) {
		const struct fw_rule *r = &gw->store.rules[i];

		cidr_format(&r->cidr, cidr, sizeof(cidr));
		err = str_appendf(&buf,
				  "capgate_rule_hits_total{gateway=\"%s\",id=\"%u\",cidr=\"%s\","
				  "action=\"%s\"} %llu\n",
				  gw->cfg.name, r->id, cidr, fw_action_name(r->action),
				  (unsigned long long)rule_hits(gw, r->slot));
	}
	if (!err)
		err = str_appendf(
			&buf,
			"# HELP capgate_rules Rules in force.\n# TYPE capgate_rules gauge\n"
			"capgate_rules{gateway=\"%s\"} %zu\n"
			"# HELP capgate_doors_open Doors a knock opened, open now.\n"
			"# TYPE capgate_doors_open gauge\n"
			"capgate_doors_open{gateway=\"%s\"} %zu\n",
			gw->cfg.name, gw->store.n, gw->cfg.name, doors_open(gw));
	if (!err)
		err = str_appendf(&buf,
				  "# HELP capgate_reload_total Config reloads (SIGHUP, POST "
				  "/v1/reload), by outcome.\n# TYPE capgate_reload_total counter\n"
				  "capgate_reload_total{gateway=\"%s\",outcome=\"ok\"} %llu\n"
				  "capgate_reload_total{gateway=\"%s\",outcome=\"failed\"} %llu\n",
				  gw->cfg.name, (unsigned long long)gw->reloads, gw->cfg.name,
				  (unsigned long long)gw->reload_failed);
	if (!err && gw->authd)
		err = authd_metrics(gw->authd, gw->cfg.name, &buf);
	if (!err)
		err = gw_lb_metrics(gw->lb, gw->cfg.name, &buf);
	if (err) {
		free(buf);
		return err;
	}
	*out = buf;
	return 0;
}

static int gw_lb_list_op(struct gateway *gw, json_t **out)
{
	return gw_lb_list(gw->lb, out);
}

static int gw_lb_add_op(struct gateway *gw, const char *svc, const struct lb_be *be, json_t **out)
{
	return gw_lb_add(gw->lb, svc, be, out);
}

static int gw_lb_set_op(struct gateway *gw, const char *svc, const struct lb_be *be,
			const struct lb_be_patch *patch, json_t **out)
{
	return gw_lb_set(gw->lb, svc, be, patch, out);
}

static int gw_lb_del_op(struct gateway *gw, const char *svc, const struct lb_be *be)
{
	return gw_lb_del(gw->lb, svc, be);
}

const struct api_ops gateway_api_ops = {
	.rules_list = gw_rules_list,
	.rule_add = gw_rule_add,
	.rule_del = gw_rule_del,
	.knock_list = gw_knock_list,
	.knock_close = gw_knock_close,
	.stats = gw_stats,
	.metrics = gw_metrics,
	.sessions_list = gw_sessions_list,
	.session_revoke = gw_session_revoke,
	.revocations_list = gw_revocations_list,
	.revocation_add = gw_revocation_add,
	.revocation_del = gw_revocation_del,
	.reload = gateway_reload,
	.devices_list = gw_devices_list,
	.device_groups_set = gw_device_groups_set,
	.lb_list = gw_lb_list_op,
	.lb_backend_add = gw_lb_add_op,
	.lb_backend_set = gw_lb_set_op,
	.lb_backend_del = gw_lb_del_op,
};
