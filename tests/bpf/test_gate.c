// SPDX-License-Identifier: GPL-2.0
/* xdp_gate and tc_gate_out through BPF_PROG_TEST_RUN: a table of packets and verdicts. */
#define _GNU_SOURCE /* sched_getcpu, sched_setaffinity */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "abi/fw.h"
#include "abi/gate.h"
#include "abi/knock.h"
#include "abi/sieve.h"
#include "abi/stats.h"
#include "gate.skel.h"
#include "tests/bpf/cap_reasons.h"
#include "tests/lib/pkt.h"
#include "lib/base/addr.h"
#include "lib/datapath/sieve.h"
#include "tests/lib/gate_t.h"
#include "tests/lib/t.h"

/*
 * Each row: a setup on top of the base configuration below, then up to
 * MAX_STEPS packets, each with the XDP action and the one gate_stats counter
 * it must raise (by one packet and its bytes; every other counter must stay
 * put), or an egress packet for tc_gate_out. A row may end with a check of
 * the maps. Maps are emptied between rows.
 *
 * The process is pinned to one CPU, so fw_cache (per-CPU) behaves the same
 * from step to step. rule() bumps gate_config.fw_gen as the daemon does.
 * The capability stage (gate_config.data_port) has its own table in
 * test_cap.c; here data_port is 0, so UDP to that port is ordinary UDP.
 *
 * Base configuration: default drop, flows idle out after 60 s, open services
 * TCP 80 and UDP 53, the verdict cache on (fw_gen 1), and two knock profiles:
 *   0: TCP 7000, 8000, 9000 (5 s per step) -> TCP 22 open for 30 s
 *   1: UDP 1111, 2222 (5 s per step)       -> TCP 8443 open for 30 s
 * Open services and doors lead to the gateway's own addresses (GW4, GW6 in
 * gate_local) only; no pool, no internal prefixes, no SPA port.
 */

#define C4 "198.51.100.7" /* a client */
#define C4B "198.51.7.7"  /* another client, same /16, other /24 */
#define GW4 "192.0.2.1"	  /* the gateway */
#define C6 "2001:db8:1::7"
#define C6B "2001:db8:2::7"
#define GW6 "2001:db8::1"
#define PEER4 "203.0.113.9" /* a server the gateway connects to */
#define PEER6 "2001:db8:ff::9"

#define SEC_NS 1000000000ULL
#define FLOW_TIMEOUT (60 * SEC_NS)
#define STEP_TIMEOUT (5 * SEC_NS)
#define OPEN_FOR (30 * SEC_NS)

#define IP4(src_, dst_, proto_, sp, dp, ...)                                                      \
	{                                                                                         \
		.family = 4, .src = src_, .dst = dst_, .proto = proto_, .sport = sp, .dport = dp, \
		__VA_ARGS__                                                                       \
	}
#define IP6(src_, dst_, proto_, sp, dp, ...)                                                      \
	{                                                                                         \
		.family = 6, .src = src_, .dst = dst_, .proto = proto_, .sport = sp, .dport = dp, \
		__VA_ARGS__                                                                       \
	}
#define V4(src_, proto_, sp, dp, ...) IP4(src_, GW4, proto_, sp, dp, __VA_ARGS__)
#define V6(src_, proto_, sp, dp, ...) IP6(src_, GW6, proto_, sp, dp, __VA_ARGS__)
#define TCP4(dp, ...) V4(C4, IPPROTO_TCP, 40000, dp, __VA_ARGS__)
#define UDP4(dp, ...) V4(C4, IPPROTO_UDP, 40000, dp, __VA_ARGS__)
#define TCP6(dp, ...) V6(C6, IPPROTO_TCP, 40000, dp, __VA_ARGS__)
#define UDP6(dp, ...) V6(C6, IPPROTO_UDP, 40000, dp, __VA_ARGS__)
#define ICMP4(type, code, ...) \
	V4(C4, IPPROTO_ICMP, 0, 0, .icmp_type = type, .icmp_code = code, __VA_ARGS__)
#define ICMP6(type, code, ...) \
	V6(C6, IPPROTO_ICMPV6, 0, 0, .icmp_type = type, .icmp_code = code, __VA_ARGS__)
#define RAW(type, len, ...)                                        \
	{                                                          \
		.ethertype = type, .payload_len = len, __VA_ARGS__ \
	}
#define ARP(...) RAW(0x0806, 28, __VA_ARGS__)

#define Q(vid)              \
	{                   \
		0x8100, vid \
	}
#define AD(vid)             \
	{                   \
		0x88a8, vid \
	}

#define MAX_STEPS 8

struct step {
	struct pkt_spec pkt;
	int egress; /* run tc_gate_out instead; it must return TC_ACT_OK and count nothing */
	void (*before)(void);	       /* e.g. age the state the previous steps made */
	void (*mangle)(struct pkt *p); /* break a header the builder writes correctly */
	size_t cut_l3;		       /* keep l3_off + cut_l3 bytes */
	size_t cut_l4;		       /* keep l4_off + cut_l4 bytes */
	int act;
	int stat;
};

#define PASS(spec, why, ...)                                           \
	{                                                              \
		.pkt = spec, .act = XDP_PASS, .stat = why, __VA_ARGS__ \
	}
#define DROP(spec, why, ...)                                           \
	{                                                              \
		.pkt = spec, .act = XDP_DROP, .stat = why, __VA_ARGS__ \
	}
#define EGRESS(spec, ...)                                               \
	{                                                               \
		.pkt = spec, .egress = 1, .act = TC_ACT_OK, __VA_ARGS__ \
	}

struct row {
	const char *name;
	int sieve_only; /* the row shows what the sieve does: its second run only */
	void (*setup)(void);
	struct step steps[MAX_STEPS];
	bool (*check)(void);
};

static struct gate_bpf *skel;
static int ncpus;
static __u32 fw_gen;	   /* what base_cfg() writes; rule() bumps it */
static __u64 reasons_seen; /* bit per enum cg_stat a passing step produced */
/*
 * The table runs twice: with the sieve off, then on (sieve_mode) and filled
 * as the daemon fills it: every port the config, open services and doors
 * use, every rule's prefix before the rule, and the flows the helpers write
 * (seeded as at the daemon's start). The verdicts must not change.
 */
static struct sieve *sv;
static int sieve_mode;

/* ---- helpers for setups and checks -------------------------------------- */

static struct gate_config base_cfg(void)
{
	struct gate_config c = {
		.default_action = GATE_DEFAULT_DROP,
		.nprofiles = 2,
		.flow_timeout_ns = FLOW_TIMEOUT,
		.fw_gen = fw_gen,
	};
	struct knock_profile *p = &c.profiles[0];

	p->nsteps = 3;
	p->ntargets = 1;
	p->step_timeout_ns = STEP_TIMEOUT;
	p->open_for_ns = OPEN_FOR;
	p->steps[0] = (struct cg_port){ IPPROTO_TCP, 0, htons(7000) };
	p->steps[1] = (struct cg_port){ IPPROTO_TCP, 0, htons(8000) };
	p->steps[2] = (struct cg_port){ IPPROTO_TCP, 0, htons(9000) };
	p->targets[0] = (struct cg_port){ IPPROTO_TCP, 0, htons(22) };
	p->to.self = 1;

	p = &c.profiles[1];
	p->nsteps = 2;
	p->ntargets = 1;
	p->step_timeout_ns = STEP_TIMEOUT;
	p->open_for_ns = OPEN_FOR;
	p->steps[0] = (struct cg_port){ IPPROTO_UDP, 0, htons(1111) };
	p->steps[1] = (struct cg_port){ IPPROTO_UDP, 0, htons(2222) };
	p->targets[0] = (struct cg_port){ IPPROTO_TCP, 0, htons(8443) };
	p->to.self = 1;
	return c;
}

/* What the daemon puts in the sieve's wanted set for @c (lib/gateway/gateway.c sieve_ports). */
static void sieve_want_cfg(const struct gate_config *c)
{
	struct cg_port extra[2] = { { IPPROTO_UDP, 0, c->spa_port },
				    { IPPROTO_UDP, 0, c->data_port } };
	__u32 i;

	for (i = 0; i < c->nprofiles && i < CG_KNOCK_MAX_PROFILES; i++) {
		sieve_ports_add(sv, c->profiles[i].steps, c->profiles[i].nsteps);
		sieve_ports_add(sv, c->profiles[i].targets, c->profiles[i].ntargets);
	}
	sieve_ports_add(sv, extra, 2);
}

static void set_cfg(const struct gate_config *c)
{
	__u32 zero = 0;

	if (sieve_mode)
		sieve_want_cfg(c);

	bpf_map_update_elem(bpf_map__fd(skel->maps.gate_config), &zero, c, BPF_ANY);
}

/* "10.10.2.0/24", "2001:db8:2::/48" or a bare address as a destination prefix. */
static struct cg_prefix prefix(const char *text)
{
	struct cg_prefix px = { 0 };
	const char *why;
	struct cidr c;

	if (cidr_parse(text, &c, &why) == 0)
		cidr_to_mapped(&c, px.addr, &px.plen);
	return px;
}

static void open_port_to(__u8 proto, __u16 port, const struct cg_dests *to)
{
	struct cg_port k = { proto, 0, htons(port) };

	if (sieve_mode)
		sieve_ports_add(sv, &k, 1);
	bpf_map_update_elem(bpf_map__fd(skel->maps.open_ports), &k, to, BPF_ANY);
}

static void open_port(__u8 proto, __u16 port)
{
	struct cg_dests self = { .self = 1 };

	open_port_to(proto, port, &self);
}

/* @addr is one of the gateway's own addresses (what the daemon writes from getifaddrs). */
static void local_addr(const char *addr)
{
	__u32 one = 1;
	__u8 k[16];

	addr_parse_mapped(addr, k);
	bpf_map_update_elem(bpf_map__fd(skel->maps.gate_local), k, &one, BPF_ANY);
}

static void zero_hits(void)
{
	__u64 zeros[ncpus];
	__u32 slot;

	memset(zeros, 0, sizeof(zeros));
	for (slot = 0; slot < 8; slot++)
		bpf_map_update_elem(bpf_map__fd(skel->maps.fw_hits), &slot, zeros, BPF_ANY);
}

/* Every slot of the direct-mapped fw_cache, on every CPU, back to zero (never valid). */
static void cache_zero(void)
{
	static struct fw_cache_val zeros[CG_FW_CACHE_SLOTS * 4];
	static __u32 keys[CG_FW_CACHE_SLOTS];
	__u32 i, n = CG_FW_CACHE_SLOTS;
	LIBBPF_OPTS(bpf_map_batch_opts, o);

	if ((size_t)ncpus > sizeof(zeros) / sizeof(zeros[0]) / CG_FW_CACHE_SLOTS) {
		struct fw_cache_val z[ncpus];

		memset(z, 0, sizeof(z));
		for (i = 0; i < CG_FW_CACHE_SLOTS; i++)
			bpf_map_update_elem(bpf_map__fd(skel->maps.fw_cache), &i, z, BPF_ANY);
		return;
	}
	for (i = 0; i < n; i++)
		keys[i] = i;
	bpf_map_update_batch(bpf_map__fd(skel->maps.fw_cache), keys, zeros, &n, &o);
}

/* The sieve off and every set empty; on again in sieve_mode (sets filled as the helpers go). */
static void sieve_reset(void)
{
	static struct gate_sieve zero_sieve;
	__u32 zero = 0;

	bpf_map_update_elem(bpf_map__fd(skel->maps.gate_sieve), &zero, &zero_sieve, BPF_ANY);
	if (sieve_mode)
		sieve_enable(sv, 1);
}

static void reset_maps(void)
{
	struct gate_config c;

	fw_gen = 1;
	sieve_reset();
	c = base_cfg();
	gate_map_clear(skel->maps.fw_rules_v4);
	gate_map_clear(skel->maps.fw_rules_v6);
	cache_zero();
	gate_map_clear(skel->maps.open_ports);
	gate_map_clear(skel->maps.knock_state);
	gate_map_clear(skel->maps.knock_open);
	gate_map_clear(skel->maps.gate_flows);
	gate_map_clear(skel->maps.gate_frags);
	gate_map_clear(skel->maps.gate_local);
	gate_map_clear(skel->maps.spa_rate);
	zero_hits();
	set_cfg(&c);
	open_port(IPPROTO_TCP, 80);
	open_port(IPPROTO_UDP, 53);
	local_addr(GW4);
	local_addr(GW6);
}

/* gate_config.fw_gen++, read-modify-write as the daemon does it after a rule change. */
static void gen_bump(void)
{
	struct gate_config c;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.gate_config), &zero, &c))
		return;
	c.fw_gen++;
	fw_gen = c.fw_gen;
	set_cfg(&c);
}

/* Writes a rule without bumping fw_gen: what the cache must hide until the bump. */
static void rule_nobump(const char *addr, __u32 plen, __u32 action, __u32 slot)
{
	struct fw_rule_val v = { .action = action, .slot = slot };
	struct cidr c = { .family = strchr(addr, ':') ? AF_INET6 : AF_INET, .plen = plen };

	/* As the daemon: the sieve knows the prefix before the trie has the rule. */
	inet_pton(c.family, addr, c.addr);
	if (sieve_mode)
		sieve_rule_add(sv, &c);
	if (strchr(addr, ':')) {
		struct fw_key_v6 k = { .prefixlen = plen };

		inet_pton(AF_INET6, addr, k.addr);
		bpf_map_update_elem(bpf_map__fd(skel->maps.fw_rules_v6), &k, &v, BPF_ANY);
	} else {
		struct fw_key_v4 k = { .prefixlen = plen };

		inet_pton(AF_INET, addr, k.addr);
		bpf_map_update_elem(bpf_map__fd(skel->maps.fw_rules_v4), &k, &v, BPF_ANY);
	}
}

/* A CIDR rule "addr/plen" (v4 or v6) with @action, counted in fw_hits[slot]. */
static void rule(const char *addr, __u32 plen, __u32 action, __u32 slot)
{
	rule_nobump(addr, plen, action, slot);
	gen_bump();
}

/*
 * This CPU's fw_cache entry for @src, as the gate left it; -ENOENT if no
 * slot holds @src. The slot hash is seeded at run time, so every slot is
 * searched (an entry holds its whole source address).
 */
static int cache_get(const char *src, struct fw_cache_val *out)
{
	struct fw_cache_val v[ncpus];
	int cpu = sched_getcpu();
	__u8 k[16];
	__u32 i;

	if (cpu < 0 || cpu >= ncpus)
		return -ERANGE;
	addr_parse_mapped(src, k);
	for (i = 0; i < CG_FW_CACHE_SLOTS; i++) {
		if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.fw_cache), &i, v))
			return -errno;
		if (v[cpu].gen && !memcmp(v[cpu].addr, k, 16)) {
			*out = v[cpu];
			return 0;
		}
	}
	return -ENOENT;
}

static __u64 hits(__u32 slot)
{
	__u64 v[ncpus], sum = 0;
	int i;

	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.fw_hits), &slot, v))
		return ~0ULL;
	for (i = 0; i < ncpus; i++)
		sum += v[i];
	return sum;
}

static void door(const char *src, __u8 proto, __u16 port, __u64 expires)
{
	struct knock_open_key k = { .port = { proto, 0, htons(port) } };
	struct knock_open_val v = { .expires_ns = expires };

	addr_parse_mapped(src, k.addr);
	if (sieve_mode)
		sieve_ports_add(sv, &k.port,
				1); /* a door's port: a knock target or the auth port */
	bpf_map_update_elem(bpf_map__fd(skel->maps.knock_open), &k, &v, BPF_ANY);
}

static struct flow_key fkey(const char *src, const char *dst, __u8 proto, __u16 sp, __u16 dp)
{
	struct flow_key k = { .sport = htons(sp), .dport = htons(dp), .proto = proto };

	addr_parse_mapped(src, k.src);
	addr_parse_mapped(dst, k.dst);
	return k;
}

static void flow(struct flow_key k, __u64 last)
{
	struct flow_val v = { .last_ns = last };

	bpf_map_update_elem(bpf_map__fd(skel->maps.gate_flows), &k, &v, BPF_ANY);
	/* Written here as the gate would: marked as the daemon marks state it finds at start. */
	if (sieve_mode)
		sieve_seed(sv, bpf_map__fd(skel->maps.gate_flows),
			   bpf_map__fd(skel->maps.knock_state));
}

/* last_ns of a flow, or 0 if there is none. */
static __u64 flow_last(struct flow_key k)
{
	struct flow_val v;

	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.gate_flows), &k, &v))
		return 0;
	return v.last_ns;
}

static int knock_get(const char *src, struct knock_state *st)
{
	__u8 k[16];

	addr_parse_mapped(src, k);
	return bpf_map_lookup_elem(bpf_map__fd(skel->maps.knock_state), k, st);
}

/* Move @src's progress in profile @p @ago_ns into the past (negative: the future). */
static void knock_age(const char *src, int p, __s64 ago_ns)
{
	struct knock_state st;
	__u8 k[16];

	addr_parse_mapped(src, k);
	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.knock_state), k, &st))
		return;
	st.last_ns[p] = gate_now_ns() - ago_ns;
	bpf_map_update_elem(bpf_map__fd(skel->maps.knock_state), k, &st, BPF_ANY);
}

/* ---- setups -------------------------------------------------------------- */

static void set_default_pass(void)
{
	struct gate_config c = base_cfg();

	c.default_action = GATE_DEFAULT_PASS;
	set_cfg(&c);
}

static void set_default_drop(void)
{
	struct gate_config c = base_cfg();

	set_cfg(&c);
}

static void allow_c4_24(void)
{
	rule("198.51.100.0", 24, FW_ACT_ALLOW, 1);
}

static void drop_c4_24(void)
{
	rule("198.51.100.0", 24, FW_ACT_DROP, 1);
}

static void allow16_drop24_v4(void)
{
	rule("198.51.0.0", 16, FW_ACT_ALLOW, 1);
	rule("198.51.100.0", 24, FW_ACT_DROP, 2);
}

static void drop16_allow24_v4(void)
{
	rule("198.51.0.0", 16, FW_ACT_DROP, 1);
	rule("198.51.100.0", 24, FW_ACT_ALLOW, 2);
}

static void allow32_drop48_v6(void)
{
	rule("2001:db8::", 32, FW_ACT_ALLOW, 1);
	rule("2001:db8:1::", 48, FW_ACT_DROP, 2);
}

static void drop32_allow48_v6(void)
{
	rule("2001:db8::", 32, FW_ACT_DROP, 1);
	rule("2001:db8:1::", 48, FW_ACT_ALLOW, 2);
}

/* The allow rule of C4's /24 becomes a drop rule (slot 2), with the daemon's bump. */
static void c4_24_to_drop(void)
{
	rule("198.51.100.0", 24, FW_ACT_DROP, 2);
}

/* The same change, but fw_gen is not bumped (yet). */
static void c4_24_to_drop_nobump(void)
{
	rule_nobump("198.51.100.0", 24, FW_ACT_DROP, 2);
}

/* The trie forgets the rule, fw_gen stays: only a cache hit still knows it. */
static void c4_24_gone_nobump(void)
{
	struct fw_key_v4 k = { .prefixlen = 24 };

	inet_pton(AF_INET, "198.51.100.0", k.addr);
	bpf_map_delete_elem(bpf_map__fd(skel->maps.fw_rules_v4), &k);
}

static void set_cache_off(void)
{
	struct gate_config c = base_cfg();

	c.fw_gen = 0;
	set_cfg(&c);
}

/* An action the gate does not know: a drop, also when cached. */
static void odd_action_c4_24(void)
{
	rule("198.51.100.0", 24, 7, 1);
}

static void flow_and_door_to_open_port(void)
{
	door(C4, IPPROTO_TCP, 80, gate_now_ns() + OPEN_FOR);
	flow(fkey(C4, GW4, IPPROTO_TCP, 40000, 80), gate_now_ns());
}

/* A longer drop prefix inside the /32 that allows C6B. */
static void drop_c6b_48(void)
{
	rule("2001:db8:2::", 48, FW_ACT_DROP, 3);
}

static void drop_all_v6(void)
{
	rule("::", 0, FW_ACT_DROP, 1);
}

static void drop_c4_with_door_and_flow(void)
{
	rule(C4, 32, FW_ACT_DROP, 3);
	door(C4, IPPROTO_TCP, 22, gate_now_ns() + OPEN_FOR);
	flow(fkey(C4, GW4, IPPROTO_TCP, 40000, 22), gate_now_ns());
	flow(fkey(C4, GW4, IPPROTO_TCP, 40000, 5555), gate_now_ns());
}

static void flow_c4_fresh(void)
{
	flow(fkey(C4, GW4, IPPROTO_TCP, 40000, 5555), gate_now_ns());
}

static __u64 t_setup;

static void flow_c4_nearly_idle(void)
{
	t_setup = gate_now_ns();
	flow(fkey(C4, GW4, IPPROTO_TCP, 40000, 5555), t_setup - FLOW_TIMEOUT + SEC_NS);
}

static void flow_c4_idle(void)
{
	flow(fkey(C4, GW4, IPPROTO_TCP, 40000, 5555), gate_now_ns() - FLOW_TIMEOUT - SEC_NS);
}

/* The flow of an echo request the gateway sent: it lets in the echo reply (129). */
static void flow_c6_echo(void)
{
	struct flow_key k = fkey(C6, GW6, IPPROTO_ICMPV6, 77, 77);

	k.type = 129;
	flow(k, gate_now_ns());
}

static void flow_c6_udp(void)
{
	flow(fkey(C6, GW6, IPPROTO_UDP, 40000, 5353), gate_now_ns());
}

static void door_c4_ssh(void)
{
	door(C4, IPPROTO_TCP, 22, gate_now_ns() + OPEN_FOR);
}

static void door_c6_ssh(void)
{
	door(C6, IPPROTO_TCP, 22, gate_now_ns() + OPEN_FOR);
}

static void door_c4_ssh_expired(void)
{
	door(C4, IPPROTO_TCP, 22, gate_now_ns() - 1);
}

static void expire_doors(void)
{
	gate_map_clear(skel->maps.knock_open);
	door_c4_ssh_expired();
}

static void age_c4_knock(void)
{
	knock_age(C4, 0, STEP_TIMEOUT + SEC_NS);
}

static void peer4_flow_stale(void)
{
	t_setup = gate_now_ns();
	flow(fkey(PEER4, GW4, IPPROTO_TCP, 443, 40000), t_setup - 10 * SEC_NS);
}

/*
 * Another CPU stamped the entry after this one read the clock: last_ns is
 * ahead of the packet's time. It is fresh, not 2^64 ns old.
 */
static void flow_c4_future(void)
{
	flow(fkey(C4, GW4, IPPROTO_TCP, 40000, 5555), gate_now_ns() + 2 * SEC_NS);
}

static void peer4_flow_future(void)
{
	t_setup = gate_now_ns() + 2 * SEC_NS;
	flow(fkey(PEER4, GW4, IPPROTO_TCP, 443, 40000), t_setup);
}

static void future_c4_knock(void)
{
	knock_age(C4, 0, -2 * (__s64)SEC_NS);
}

static void peer4_flow_fresh(void)
{
	t_setup = gate_now_ns() - SEC_NS / 2;
	flow(fkey(PEER4, GW4, IPPROTO_TCP, 443, 40000), t_setup);
}

/* ---- destinations, spoofed sources, SPA rate ----------------------------- */

#define INT4 "10.10.2.2" /* a host behind the gateway */
#define INT4B "10.10.3.2"
#define ROUTER4 "203.0.113.1"
#define POOL4 "100.64.0.5" /* a client virtual address */

static struct cg_dests dests_of(const char *a, const char *b)
{
	struct cg_dests d = { 0 };

	d.p[d.n++] = prefix(a);
	if (b)
		d.p[d.n++] = prefix(b);
	return d;
}

static void open_udp_62201_to_int24(void)
{
	struct cg_dests d = dests_of("10.10.2.0/24", NULL);

	open_port_to(IPPROTO_UDP, 62201, &d);
}

static void spa_door_c4(void)
{
	struct knock_open_key k = { .port = { IPPROTO_TCP, 0, htons(8443) } };
	struct knock_open_val v = { .expires_ns = gate_now_ns() + OPEN_FOR,
				    .profile = CG_DOOR_SPA };

	addr_parse_mapped(C4, k.addr);
	bpf_map_update_elem(bpf_map__fd(skel->maps.knock_open), &k, &v, BPF_ANY);
}

static void knock0_to_int4(void)
{
	struct gate_config c = base_cfg();

	c.profiles[0].to = dests_of(INT4, NULL);
	set_cfg(&c);
}

/* The header and first 8 bytes of packets the gateway side sent, quoted by ICMP errors. */
static __u8 quote_tcp4[28], quote_other4[28], quote_open4[28], quote_udp6[48];

static void quote(const struct pkt_spec *s, __u8 *out, size_t len)
{
	struct pkt p;

	if (pkt_build(s, &p) == 0)
		memcpy(out, p.data + p.l3_off, len);
}

static void pmtu_quotes(void)
{
	const struct pkt_spec tcp4 = IP4(GW4, PEER4, IPPROTO_TCP, 40000, 443);
	const struct pkt_spec other4 = IP4("192.0.2.99", PEER4, IPPROTO_TCP, 40000, 443);
	const struct pkt_spec open4 = IP4(GW4, C4B, IPPROTO_TCP, 80, 5000);
	const struct pkt_spec udp6 = IP6(GW6, PEER6, IPPROTO_UDP, 40000, 443);

	quote(&tcp4, quote_tcp4, sizeof(quote_tcp4));
	quote(&other4, quote_other4, sizeof(quote_other4));
	quote(&open4, quote_open4, sizeof(quote_open4));
	quote(&udp6, quote_udp6, sizeof(quote_udp6));
}

static void peer_flows(void)
{
	flow(fkey(PEER4, GW4, IPPROTO_TCP, 443, 40000), gate_now_ns());
	flow(fkey(PEER6, GW6, IPPROTO_UDP, 443, 40000), gate_now_ns());
}

static void with_pool_and_internal(void)
{
	struct gate_config c = base_cfg();

	c.pool = prefix("100.64.0.0/24");
	c.internal = dests_of("10.10.2.0/24", "2001:db8:2::/48");
	set_cfg(&c);
	rule("100.64.0.0", 24, FW_ACT_ALLOW, 1);
}

static void with_spa_rate(void)
{
	struct gate_config c = base_cfg();

	c.spa_port = htons(62201);
	c.spa_interval_ns = 10 * SEC_NS;
	c.spa_burst = 3;
	set_cfg(&c);
	open_port(IPPROTO_UDP, 62201);
}

#define PMTU4(q)                                                                      \
	V4(ROUTER4, IPPROTO_ICMP, 0, 0, .icmp_type = 3, .icmp_code = 4, .payload = q, \
	   .payload_len = sizeof(q))

/* Spoofed sources of a flood: no rule, no state. */
#define SPOOF4_1 "203.0.113.101"
#define SPOOF4_2 "203.0.113.102"
#define SPOOF4_3 "203.0.113.103"
#define SPOOF4_4 "203.0.113.104"
#define SPOOF4_5 "203.0.113.105"
#define SPOOF6_1 "2001:db8:ee::101"

/* The packet of @src reached the rules stage (it left a "no rule" entry in fw_cache). */
static bool rules_saw(const char *src)
{
	struct fw_cache_val v;

	return ASSERT_EQ(cache_get(src, &v), 0, src) && ASSERT_EQ(v.action, 0, "no rule");
}

static bool rules_did_not_see(const char *src)
{
	struct fw_cache_val v;

	return ASSERT_EQ(cache_get(src, &v), -ENOENT, src);
}

static bool sieve_dropped_spoofed(void)
{
	return rules_did_not_see(SPOOF4_1) & rules_did_not_see(SPOOF6_1);
}

static bool full_path_for_wanted(void)
{
	return rules_saw(SPOOF4_1) & rules_saw(SPOOF4_2) & rules_saw(SPOOF4_3) &
	       rules_saw(SPOOF4_4) & rules_saw(SPOOF4_5);
}

static bool c4b_full_path_spoof_not(void)
{
	return rules_saw(C4B) & rules_did_not_see(SPOOF4_1);
}

static bool knock_reset_by_wrong_port(void)
{
	struct knock_state st;

	return ASSERT_EQ(knock_get(SPOOF4_1, &st), 0, "knock state") &
	       ASSERT_EQ(st.step[0], 0, "progress reset");
}

static bool spoof1_full_path_spoof2_sieved(void)
{
	return rules_saw(SPOOF4_1) & rules_did_not_see(SPOOF4_2);
}

/* The daemon's narrowing after a restart: only the base config's ports remain wanted. */
static void narrow_to_base(void)
{
	struct gate_config c = base_cfg();
	struct cg_port open[2] = { { IPPROTO_TCP, 0, htons(80) }, { IPPROTO_UDP, 0, htons(53) } };
	struct cg_port all[2 + 2 * (CG_KNOCK_MAX_STEPS + CG_KNOCK_MAX_TARGETS)];
	size_t n = 0;
	__u32 i, j;

	memcpy(all, open, sizeof(open));
	n = 2;
	for (i = 0; i < c.nprofiles; i++) {
		for (j = 0; j < c.profiles[i].nsteps; j++)
			all[n++] = c.profiles[i].steps[j];
		for (j = 0; j < c.profiles[i].ntargets; j++)
			all[n++] = c.profiles[i].targets[j];
	}
	sieve_ports_set(sv, all, n);
}

static void open_tcp_5555(void)
{
	open_port(IPPROTO_TCP, 5555);
}

/* The old config's open port is gone: the map entry and then, narrowed, the sieve's bit. */
static void close_5555_narrow(void)
{
	struct cg_port k = { IPPROTO_TCP, 0, htons(5555) };

	bpf_map_delete_elem(bpf_map__fd(skel->maps.open_ports), &k);
	narrow_to_base();
}

/* As the daemon deletes a rule: trie, fw_gen, then the rule set from the (now empty) store. */
static void c4_24_deleted(void)
{
	struct fw_store empty = { 0 };

	c4_24_gone_nobump();
	gen_bump();
	sieve_rules_set(sv, &empty);
}

/* The last packet of C4 never reached the rules: its cache entry is the old generation's. */
static bool c4_cache_entry_stale(void)
{
	struct fw_cache_val v;

	return ASSERT_EQ(cache_get(C4, &v), 0, "cache entry") &
	       ASSERT_EQ(v.gen + 1, fw_gen, "left by the first packet only");
}

static void rotate(void)
{
	sieve_rotate(sv);
}

static void rotate2(void)
{
	sieve_rotate(sv);
	sieve_rotate(sv);
}

/* ---- manglers ------------------------------------------------------------ */

static void ihl_4(struct pkt *p)
{
	p->data[p->l3_off] = 0x44;
}

static void ip_version_5(struct pkt *p)
{
	p->data[p->l3_off] = 0x55;
}

static void tot_len_short(struct pkt *p)
{
	p->data[p->l3_off + 2] = 0;
	p->data[p->l3_off + 3] = 16; /* less than the header */
}

static void ext_len_huge(struct pkt *p)
{
	p->data[p->l3_off + 40 + 1] = 200; /* hop-by-hop header runs past the frame */
}

static void tcp_doff_4(struct pkt *p)
{
	p->data[p->l4_off + 12] = 4 << 4;
}

/*
 * A TCP header (40000 -> 80, SYN) after the IP datagram, where Ethernet
 * padding or a trailer would be: the gate must not read it as the datagram's.
 */
static void tcp80_trailer(struct pkt *p)
{
	static const __u8 th[20] = { 0x9c, 0x40, 0, 80, 0, 0, 0, 0, 0, 0, 0, 0, 5 << 4, 0x02 };

	memcpy(p->data + p->len, th, sizeof(th));
	p->len += sizeof(th);
}

/* Data offset 15 (60 bytes): TCP options past the datagram's end. */
static void tcp_doff_15(struct pkt *p)
{
	p->data[p->l4_off + 12] = 15 << 4;
	memset(p->data + p->len, 0, 64); /* frame padding: the options' bytes are in the frame */
	p->len += 64;
}

/* IPv6 payload length 0: a jumbogram (RFC 2675), which no Ethernet link carries. */
static void v6_plen_0(struct pkt *p)
{
	p->data[p->l3_off + 4] = 0;
	p->data[p->l3_off + 5] = 0;
}

/* Segments left 1 in the (first) routing header, right after the IPv6 header. */
static void rh_segleft_1(struct pkt *p)
{
	p->data[p->l3_off + 40 + 3] = 1;
}

/* IPv4 options (8 bytes after the header): a loose source route via 203.0.113.1, then END. */
static void opt_lsrr(struct pkt *p)
{
	static const __u8 o[8] = { 131, 7, 4, 203, 0, 113, 1, 0 };

	memcpy(p->data + p->l3_off + 20, o, sizeof(o));
}

static void opt_ssrr(struct pkt *p)
{
	opt_lsrr(p);
	p->data[p->l3_off + 20] = 137;
}

/* A timestamp option whose length runs past the options. */
static void opt_overrun(struct pkt *p)
{
	p->data[p->l3_off + 20] = 68;
	p->data[p->l3_off + 21] = 12;
}

/* A record-route option (7), harmless: the destination stays the destination. */
static void opt_rr(struct pkt *p)
{
	opt_lsrr(p);
	p->data[p->l3_off + 20] = 7;
}

/* ---- checks -------------------------------------------------------------- */

static bool hits_slot1_2(void)
{
	return ASSERT_EQ(hits(1), 1, "fw_hits[1]") & ASSERT_EQ(hits(2), 1, "fw_hits[2]");
}

static bool hits_slot1_3(void)
{
	return ASSERT_EQ(hits(1), 3, "fw_hits[1]") & ASSERT_EQ(hits(2), 0, "fw_hits[2]");
}

static bool hits_1_2_then_1(void)
{
	return ASSERT_EQ(hits(1), 2, "fw_hits[1]") & ASSERT_EQ(hits(2), 1, "fw_hits[2]");
}

static bool hits_slot1_1(void)
{
	return ASSERT_EQ(hits(1), 1, "fw_hits[1]");
}

/* Three packets, one trie lookup: the entry holds the rule, hits count all three. */
static bool cache_allow_hits(void)
{
	struct fw_cache_val v;

	return ASSERT_EQ(hits(1), 3, "fw_hits[1]") &
	       ASSERT_EQ(cache_get(C4, &v), 0, "cache entry") &
	       ASSERT_EQ(v.gen, fw_gen, "cached gen") &
	       ASSERT_EQ(v.action, FW_ACT_ALLOW, "cached action") & ASSERT_EQ(v.slot, 1, "slot");
}

static bool cache_no_rule_entry(void)
{
	struct fw_cache_val v;

	/* The sieve drops TCP/81 from a source no rule covers before the rules stage. */
	if (sieve_mode)
		return ASSERT_EQ(cache_get(C4, &v), -ENOENT, "sieve: no cache entry");
	return ASSERT_EQ(cache_get(C4, &v), 0, "cache entry") &
	       ASSERT_EQ(v.gen, fw_gen, "cached gen") & ASSERT_EQ(v.action, 0, "no rule");
}

/*
 * The second packet is served from the cache (the trie no longer has the
 * rule): one entry, the unknown action cached as a drop.
 */
static bool cache_odd_action_hits(void)
{
	struct fw_cache_val v;

	return ASSERT_EQ(hits(1), 2, "fw_hits[1]") &
	       ASSERT_EQ(cache_get(C4, &v), 0, "cache entry") &
	       ASSERT_EQ(v.gen, fw_gen, "cached gen") &
	       ASSERT_EQ(v.action, FW_ACT_DROP, "cached as drop") & ASSERT_EQ(v.slot, 1, "slot");
}

static bool no_cache_entry(void)
{
	struct fw_cache_val v;

	return ASSERT_EQ(cache_get(C4, &v), -ENOENT, "fw_gen 0: nothing cached");
}

static bool hits_slot3_3(void)
{
	return ASSERT_EQ(hits(3), 3, "fw_hits[3]");
}

static bool flow_refreshed(void)
{
	return ASSERT_TRUE(flow_last(fkey(C4, GW4, IPPROTO_TCP, 40000, 5555)) >= t_setup,
			   "last_ns refreshed");
}

static bool flow_kept(void)
{
	return ASSERT_TRUE(flow_last(fkey(C4, GW4, IPPROTO_TCP, 40000, 5555)) != 0, "flow kept");
}

static bool flow_deleted(void)
{
	return ASSERT_EQ(flow_last(fkey(C4, GW4, IPPROTO_TCP, 40000, 5555)), 0, "idle flow gone");
}

static bool knock_reset(void)
{
	struct knock_state st;

	return ASSERT_EQ(knock_get(C4, &st), 0, "state exists") &
	       ASSERT_EQ(st.step[0], 0, "step[0]") & ASSERT_EQ(st.step[1], 0, "step[1]");
}

/* The sequence of profile 0 completed: its door is open, a retransmit is absorbed. */
static bool knock_done(void)
{
	struct knock_state st;

	return ASSERT_EQ(knock_get(C4, &st), 0, "state exists") &
	       ASSERT_EQ(st.step[0], 3, "step[0] = nsteps") & ASSERT_EQ(st.step[1], 0, "step[1]");
}

static bool knock_at_1(void)
{
	struct knock_state st;

	return ASSERT_EQ(knock_get(C4, &st), 0, "state exists") &
	       ASSERT_EQ(st.step[0], 1, "step[0]");
}

static bool no_knock_state(void)
{
	struct knock_state st;

	return ASSERT_EQ(knock_get(C4, &st), -ENOENT, "no state for noise");
}

static bool door_and_flow_v6(void)
{
	struct knock_open_key k = { .port = { IPPROTO_TCP, 0, htons(8443) } };
	struct knock_open_val v;
	__u64 now = gate_now_ns();

	addr_parse_mapped(C6, k.addr);
	return ASSERT_EQ(bpf_map_lookup_elem(bpf_map__fd(skel->maps.knock_open), &k, &v), 0,
			 "door") &
	       ASSERT_TRUE(v.expires_ns > now && v.expires_ns <= now + OPEN_FOR, "expires") &
	       ASSERT_EQ(v.profile, 1, "profile") &
	       ASSERT_TRUE(flow_last(fkey(C6, GW6, IPPROTO_TCP, 40000, 8443)) != 0, "flow");
}

static bool peer4_refreshed(void)
{
	/* Was t_setup - 10 s; the coarse clock may still read t_setup. */
	return ASSERT_TRUE(flow_last(fkey(PEER4, GW4, IPPROTO_TCP, 443, 40000)) >= t_setup,
			   "refreshed");
}

static bool peer4_untouched(void)
{
	return ASSERT_EQ(flow_last(fkey(PEER4, GW4, IPPROTO_TCP, 443, 40000)), t_setup,
			 "not rewritten within 1 s");
}

static bool no_peer4_flow(void)
{
	return ASSERT_EQ(flow_last(fkey(PEER4, GW4, IPPROTO_TCP, 443, 40000)), 0, "no flow");
}

/* ---- the table ----------------------------------------------------------- */

static const struct row rows[] = {
	/* L2 */
	{ .name = "arp_pass_non_ip", .steps = { PASS(ARP(), CG_STAT_PASS_NON_IP) } },
	{ .name = "arp_in_vlan_pass_non_ip",
	  .steps = { PASS(ARP(.nvlan = 1, .vlan = { Q(10) }), CG_STAT_PASS_NON_IP) } },
	{ .name = "vlan_single_open_v4",
	  .steps = { PASS(TCP4(80, .nvlan = 1, .vlan = { Q(100) }), CG_STAT_PASS_OPEN) } },
	{ .name = "vlan_double_open_v6",
	  .steps = { PASS(TCP6(80, .nvlan = 2, .vlan = { AD(100), Q(200) }), CG_STAT_PASS_OPEN) } },
	{ .name = "vlan_double_q_in_q_v4_default_drop",
	  .steps = { DROP(TCP4(81, .nvlan = 2, .vlan = { Q(1), Q(2) }), CG_STAT_DROP_DEFAULT) } },
	{ .name = "vlan_triple_malformed",
	  .steps = { DROP(RAW(0x8100, 28, .nvlan = 2, .vlan = { AD(1), Q(2) }),
			  CG_STAT_DROP_MALFORMED) } },
	{ .name = "vlan_tag_truncated", .steps = { DROP(RAW(0x8100, 2), CG_STAT_DROP_MALFORMED) } },
	{ .name = "vlan_inner_ip_truncated",
	  .steps = { DROP(TCP4(80, .nvlan = 1, .vlan = { Q(1) }), CG_STAT_DROP_MALFORMED,
			  .cut_l3 = 10) } },

	/* L3 */
	{ .name = "v4_default_drop", .steps = { DROP(TCP4(81), CG_STAT_DROP_DEFAULT) } },
	{ .name = "v6_default_drop", .steps = { DROP(TCP6(81), CG_STAT_DROP_DEFAULT) } },
	{ .name = "v4_ip_options_open",
	  .steps = { PASS(TCP4(80, .ip_opt_len = 12), CG_STAT_PASS_OPEN),
		     PASS(UDP4(53, .ip_opt_len = 40), CG_STAT_PASS_OPEN) } },
	{ .name = "v4_header_truncated",
	  .steps = { DROP(TCP4(80), CG_STAT_DROP_MALFORMED, .cut_l3 = 19) } },
	{ .name = "v4_options_truncated",
	  .steps = { DROP(TCP4(80, .ip_opt_len = 8), CG_STAT_DROP_MALFORMED, .cut_l3 = 24) } },
	{ .name = "v4_ihl_below_5",
	  .steps = { DROP(TCP4(80), CG_STAT_DROP_MALFORMED, .mangle = ihl_4) } },
	{ .name = "v4_bad_version",
	  .steps = { DROP(TCP4(80), CG_STAT_DROP_MALFORMED, .mangle = ip_version_5) } },
	{ .name = "v4_tot_len_below_header",
	  .steps = { DROP(TCP4(80), CG_STAT_DROP_MALFORMED, .mangle = tot_len_short) } },
	{ .name = "v4_tot_len_beyond_frame",
	  .steps = { DROP(TCP4(80, .payload_len = 20), CG_STAT_DROP_MALFORMED, .cut_l4 = 30) } },
	{ .name = "v6_header_truncated",
	  .steps = { DROP(TCP6(80), CG_STAT_DROP_MALFORMED, .cut_l3 = 39) } },
	{ .name = "v6_ext_headers_open",
	  .steps = { PASS(TCP6(80, .next_ext = 3,
			       .ext = { { IPPROTO_HOPOPTS, 8 },
					{ IPPROTO_ROUTING, 24 },
					{ IPPROTO_DSTOPTS, 16 } }),
			  CG_STAT_PASS_OPEN),
		     PASS(UDP6(53, .next_ext = 2,
			       .ext = { { IPPROTO_DSTOPTS, 8 }, { IPPROTO_AH, 24 } }),
			  CG_STAT_PASS_OPEN) } },
	{ .name = "v6_six_ext_headers_open",
	  .steps = { PASS(TCP6(80, .next_ext = 6,
			       .ext = { { IPPROTO_HOPOPTS, 8 },
					{ IPPROTO_DSTOPTS, 8 },
					{ IPPROTO_ROUTING, 8 },
					{ IPPROTO_AH, 12 },
					{ IPPROTO_DSTOPTS, 8 },
					{ IPPROTO_DSTOPTS, 8 } }),
			  CG_STAT_PASS_OPEN) } },
	{ .name = "v6_seven_ext_headers_malformed",
	  .steps = { DROP(TCP6(80, .next_ext = 7,
			       .ext = { { IPPROTO_HOPOPTS, 8 },
					{ IPPROTO_DSTOPTS, 8 },
					{ IPPROTO_ROUTING, 8 },
					{ IPPROTO_AH, 12 },
					{ IPPROTO_DSTOPTS, 8 },
					{ IPPROTO_DSTOPTS, 8 },
					{ IPPROTO_DSTOPTS, 8 } }),
			  CG_STAT_DROP_MALFORMED) } },
	{ .name = "v6_ext_header_truncated",
	  .steps = { DROP(TCP6(80, .next_ext = 1, .ext = { { IPPROTO_HOPOPTS, 16 } }),
			  CG_STAT_DROP_MALFORMED, .cut_l3 = 50) } },
	{ .name = "v6_ext_header_len_past_frame",
	  .steps = { DROP(TCP6(80, .next_ext = 1, .ext = { { IPPROTO_HOPOPTS, 8 } }),
			  CG_STAT_DROP_MALFORMED, .mangle = ext_len_huge) } },
	{ .name = "v6_nd_pass_before_rules",
	  .setup = drop_all_v6,
	  .steps = { PASS(ICMP6(135, 0), CG_STAT_PASS_ND), PASS(ICMP6(133, 0), CG_STAT_PASS_ND),
		     PASS(ICMP6(137, 0), CG_STAT_PASS_ND),
		     DROP(ICMP6(138, 0), CG_STAT_DROP_RULE) } },
	{ .name = "v6_echo_default_drop", .steps = { DROP(ICMP6(128, 0), CG_STAT_DROP_DEFAULT) } },

	/*
	 * Source-routed packets: the destination in the header is not where
	 * they go. The host would forward them (or drop them: Linux's
	 * accept_source_route and seg6_enabled are off by default); the gate
	 * refuses them before the rules. A routing header with no segments
	 * left names its last hop already: the destination.
	 */
	{ .name = "v6_routing_header_segments_left_refused",
	  .steps = { DROP(TCP6(80, .next_ext = 1, .ext = { { IPPROTO_ROUTING, 24 } }),
			  CG_STAT_DROP_SOURCE_ROUTE, .mangle = rh_segleft_1),
		     PASS(TCP6(80, .next_ext = 1, .ext = { { IPPROTO_ROUTING, 24 } }),
			  CG_STAT_PASS_OPEN) } },
	{ .name = "v4_lsrr_ssrr_refused",
	  .steps = { DROP(TCP4(80, .ip_opt_len = 8), CG_STAT_DROP_SOURCE_ROUTE, .mangle = opt_lsrr),
		     DROP(TCP4(80, .ip_opt_len = 8), CG_STAT_DROP_SOURCE_ROUTE, .mangle = opt_ssrr),
		     DROP(TCP4(80, .ip_opt_len = 8), CG_STAT_DROP_MALFORMED, .mangle = opt_overrun),
		     PASS(TCP4(80, .ip_opt_len = 8), CG_STAT_PASS_OPEN, .mangle = opt_rr),
		     PASS(TCP4(80, .ip_opt_len = 40), CG_STAT_PASS_OPEN) } },

	/* L4 truncation */
	{ .name = "v4_tcp_truncated",
	  .steps = { DROP(TCP4(80, .no_l4 = 1, .payload_len = 12), CG_STAT_DROP_MALFORMED) } },
	{ .name = "v4_tcp_doff_below_5",
	  .steps = { DROP(TCP4(80), CG_STAT_DROP_MALFORMED, .mangle = tcp_doff_4) } },
	{ .name = "v6_udp_truncated",
	  .steps = { DROP(UDP6(53, .no_l4 = 1, .payload_len = 4), CG_STAT_DROP_MALFORMED) } },
	{ .name = "v4_icmp_truncated",
	  .steps = { DROP(ICMP4(3, 4, .no_l4 = 1, .payload_len = 6), CG_STAT_DROP_MALFORMED) } },
	{ .name = "v6_icmp_truncated",
	  .steps = { DROP(ICMP6(2, 0, .no_l4 = 1, .payload_len = 3), CG_STAT_DROP_MALFORMED) } },

	/*
	 * Headers end inside the IP datagram, not in the frame's padding or a
	 * trailer (RFC 1858, RFC 7112): a first fragment whose L4 header is
	 * trailer bytes is malformed and opens nothing for its later fragments.
	 */
	{ .name = "l4_header_in_trailer_malformed",
	  .steps = { DROP(TCP4(80, .no_l4 = 1), CG_STAT_DROP_MALFORMED, .mangle = tcp80_trailer),
		     DROP(TCP6(80, .no_l4 = 1), CG_STAT_DROP_MALFORMED,
			  .mangle = tcp80_trailer) } },
	{ .name = "frag_v4_first_l4_in_trailer",
	  .steps = { DROP(TCP4(80, .frag = 1, .frag_more = 1, .frag_id = 12, .no_l4 = 1),
			  CG_STAT_DROP_MALFORMED, .mangle = tcp80_trailer),
		     DROP(TCP4(80, .frag = 1, .frag_off = 1, .frag_id = 12, .no_l4 = 1,
			       .payload_len = 8),
			  CG_STAT_DROP_FRAGMENT) } },
	{ .name = "frag_v6_first_l4_in_trailer",
	  .steps = { DROP(TCP6(80, .frag = 1, .frag_more = 1, .frag_id = 13, .no_l4 = 1),
			  CG_STAT_DROP_MALFORMED, .mangle = tcp80_trailer),
		     DROP(TCP6(80, .frag = 1, .frag_off = 1, .frag_id = 13, .no_l4 = 1,
			       .payload_len = 8),
			  CG_STAT_DROP_FRAGMENT) } },
	{ .name = "v4_tcp_options_past_datagram",
	  .steps = { DROP(TCP4(80), CG_STAT_DROP_MALFORMED, .mangle = tcp_doff_15) } },
	{ .name = "v6_jumbogram_malformed",
	  .steps = { DROP(TCP6(80), CG_STAT_DROP_MALFORMED, .mangle = v6_plen_0) } },

	/* Open services, default, path-MTU errors */
	{ .name = "open_service_v4_v6",
	  .steps = { PASS(TCP4(80), CG_STAT_PASS_OPEN), PASS(UDP4(53), CG_STAT_PASS_OPEN),
		     PASS(TCP6(80), CG_STAT_PASS_OPEN), DROP(UDP6(80), CG_STAT_DROP_DEFAULT),
		     DROP(TCP4(53), CG_STAT_DROP_DEFAULT) } },
	/*
	 * The open-service check comes before flows and doors (one small hash
	 * first; all three pass), so a packet to an open port counts as
	 * PASS_OPEN even when a flow or door also matches it.
	 */
	{ .name = "open_service_before_flow_and_door",
	  .setup = flow_and_door_to_open_port,
	  .steps = { PASS(TCP4(80), CG_STAT_PASS_OPEN) } },
	{ .name = "default_pass",
	  .setup = set_default_pass,
	  .steps = { PASS(TCP4(81), CG_STAT_PASS_DEFAULT), PASS(UDP6(81), CG_STAT_PASS_DEFAULT),
		     PASS(ICMP4(8, 0), CG_STAT_PASS_DEFAULT),
		     PASS(V4(C4, IPPROTO_GRE, 0, 0), CG_STAT_PASS_DEFAULT) } },
	/*
	 * Destinations: an open service, a knock door and an SPA door lead to
	 * the gateway's own addresses unless `to` says otherwise.
	 */
	{ .name = "open_service_leads_to_gateway_only",
	  .steps = { PASS(TCP4(80), CG_STAT_PASS_OPEN),
		     DROP(IP4(C4, INT4, IPPROTO_TCP, 40000, 80), CG_STAT_DROP_DEFAULT),
		     DROP(IP6(C6, "2001:db8:2::2", IPPROTO_UDP, 40000, 53),
			  CG_STAT_DROP_DEFAULT) } },
	{ .name = "open_service_to_prefix",
	  .setup = open_udp_62201_to_int24,
	  .steps = { PASS(IP4(PEER4, INT4, IPPROTO_UDP, 40000, 62201), CG_STAT_PASS_OPEN),
		     DROP(IP4(PEER4, INT4B, IPPROTO_UDP, 40000, 62201), CG_STAT_DROP_DEFAULT),
		     DROP(IP4(PEER4, GW4, IPPROTO_UDP, 40000, 62201), CG_STAT_DROP_DEFAULT),
		     DROP(IP6(C6, "::ffff:10.10.2.2", IPPROTO_UDP, 40000, 62201),
			  CG_STAT_DROP_DEFAULT) } },
	{ .name = "spa_door_leads_to_gateway_only",
	  .setup = spa_door_c4,
	  .steps = { DROP(IP4(C4, INT4, IPPROTO_TCP, 40000, 8443), CG_STAT_DROP_DEFAULT),
		     PASS(TCP4(8443), CG_STAT_PASS_KNOCK) } },
	{ .name = "knock_door_to_prefix",
	  .setup = knock0_to_int4,
	  .steps = { DROP(TCP4(7000), CG_STAT_DROP_KNOCK_STEP),
		     DROP(TCP4(8000), CG_STAT_DROP_KNOCK_STEP),
		     DROP(TCP4(9000), CG_STAT_DROP_KNOCK_OPEN),
		     DROP(TCP4(22), CG_STAT_DROP_DEFAULT),
		     DROP(IP4(C4, INT4B, IPPROTO_TCP, 40000, 22), CG_STAT_DROP_DEFAULT),
		     PASS(IP4(C4, INT4, IPPROTO_TCP, 40000, 22), CG_STAT_PASS_KNOCK) } },
	/* Path-MTU errors pass for flows the gate knows only: anyone can forge one. */
	{ .name = "pmtu_only_for_known_flows",
	  .setup = pmtu_quotes,
	  .steps = { DROP(PMTU4(quote_tcp4), CG_STAT_DROP_DEFAULT),
		     PASS(PMTU4(quote_tcp4), CG_STAT_PASS_ICMP_ERROR, .before = peer_flows),
		     DROP(PMTU4(quote_other4), CG_STAT_DROP_DEFAULT),
		     PASS(PMTU4(quote_open4), CG_STAT_PASS_ICMP_ERROR),
		     PASS(ICMP6(2, 0, .payload = quote_udp6, .payload_len = sizeof(quote_udp6)),
			  CG_STAT_PASS_ICMP_ERROR),
		     DROP(ICMP4(3, 1, .payload = quote_tcp4, .payload_len = sizeof(quote_tcp4)),
			  CG_STAT_DROP_DEFAULT),
		     DROP(ICMP4(3, 4, .payload_len = 28), CG_STAT_DROP_DEFAULT),
		     DROP(ICMP6(2, 0, .payload_len = 48), CG_STAT_DROP_DEFAULT) } },
	/*
	 * A client's virtual address and the internal prefixes never come from
	 * outside, whatever the rules, doors and open services say.
	 */
	{ .name = "spoofed_pool_and_internal",
	  .setup = with_pool_and_internal,
	  .steps = { DROP(V4(POOL4, IPPROTO_TCP, 40000, 80), CG_STAT_DROP_SPOOFED_POOL),
		     DROP(V4(POOL4, IPPROTO_TCP, 40000, 7000), CG_STAT_DROP_SPOOFED_POOL),
		     DROP(IP4(POOL4, INT4, IPPROTO_TCP, 40000, 22), CG_STAT_DROP_SPOOFED_POOL),
		     DROP(V4("10.10.2.9", IPPROTO_TCP, 40000, 80), CG_STAT_DROP_SPOOFED_INTERNAL),
		     DROP(V6("2001:db8:2::9", IPPROTO_UDP, 40000, 53),
			  CG_STAT_DROP_SPOOFED_INTERNAL),
		     PASS(V4("100.64.1.5", IPPROTO_TCP, 40000, 80), CG_STAT_PASS_OPEN) } },
	{ .name = "spa_rate_per_source",
	  .setup = with_spa_rate,
	  .steps = { PASS(UDP4(62201), CG_STAT_PASS_OPEN), PASS(UDP4(62201), CG_STAT_PASS_OPEN),
		     PASS(UDP4(62201), CG_STAT_PASS_OPEN), DROP(UDP4(62201), CG_STAT_DROP_SPA_RATE),
		     PASS(V4(C4B, IPPROTO_UDP, 40000, 62201), CG_STAT_PASS_OPEN),
		     PASS(UDP4(53), CG_STAT_PASS_OPEN) } },
	/* Rules */
	{ .name = "rule_allow_v4",
	  .setup = allow_c4_24,
	  .steps = { PASS(TCP4(81), CG_STAT_PASS_RULE), PASS(UDP4(1), CG_STAT_PASS_RULE),
		     PASS(ICMP4(8, 0), CG_STAT_PASS_RULE) },
	  .check = hits_slot1_3 },
	{ .name = "rule_drop_v4",
	  .setup = drop_c4_24,
	  .steps = { DROP(TCP4(81), CG_STAT_DROP_RULE), DROP(UDP4(53), CG_STAT_DROP_RULE),
		     DROP(TCP4(7000), CG_STAT_DROP_RULE) },
	  .check = hits_slot1_3 },
	{ .name = "rule_allow_passes_truncated_l4",
	  .setup = allow_c4_24,
	  .steps = { PASS(TCP4(80, .no_l4 = 1, .payload_len = 4), CG_STAT_PASS_RULE) } },
	{ .name = "rule_lpm_allow16_drop24_v4",
	  .setup = allow16_drop24_v4,
	  .steps = { DROP(TCP4(80), CG_STAT_DROP_RULE),
		     PASS(V4(C4B, IPPROTO_TCP, 1, 81), CG_STAT_PASS_RULE) },
	  .check = hits_slot1_2 },
	{ .name = "rule_lpm_drop16_allow24_v4",
	  .setup = drop16_allow24_v4,
	  .steps = { PASS(TCP4(81), CG_STAT_PASS_RULE),
		     DROP(V4(C4B, IPPROTO_TCP, 1, 80), CG_STAT_DROP_RULE) },
	  .check = hits_slot1_2 },
	{ .name = "rule_lpm_allow32_drop48_v6",
	  .setup = allow32_drop48_v6,
	  .steps = { DROP(TCP6(80), CG_STAT_DROP_RULE),
		     PASS(V6(C6B, IPPROTO_TCP, 1, 81), CG_STAT_PASS_RULE) },
	  .check = hits_slot1_2 },
	{ .name = "rule_lpm_drop32_allow48_v6",
	  .setup = drop32_allow48_v6,
	  .steps = { PASS(TCP6(81), CG_STAT_PASS_RULE),
		     DROP(V6(C6B, IPPROTO_TCP, 1, 80), CG_STAT_DROP_RULE) },
	  .check = hits_slot1_2 },
	{ .name = "rule_drop_beats_open_door_and_flow",
	  .setup = drop_c4_with_door_and_flow,
	  .steps = { DROP(TCP4(80), CG_STAT_DROP_RULE), DROP(TCP4(22), CG_STAT_DROP_RULE),
		     DROP(TCP4(5555), CG_STAT_DROP_RULE) },
	  .check = hits_slot3_3 },

	/* Verdict cache (fw_cache, valid while its gen equals gate_config.fw_gen) */
	{ .name = "rule_cache_hits_counted",
	  .setup = allow_c4_24,
	  .steps = { PASS(TCP4(81), CG_STAT_PASS_RULE), PASS(TCP4(81), CG_STAT_PASS_RULE),
		     PASS(UDP4(9), CG_STAT_PASS_RULE) },
	  .check = cache_allow_hits },
	{ .name = "rule_cache_allow_then_rule_change",
	  .setup = allow_c4_24,
	  .steps = { PASS(TCP4(81), CG_STAT_PASS_RULE), PASS(TCP4(81), CG_STAT_PASS_RULE),
		     DROP(TCP4(81), CG_STAT_DROP_RULE, .before = c4_24_to_drop) },
	  .check = hits_1_2_then_1 },
	{ .name = "rule_cache_stale_until_gen_bump",
	  .setup = allow_c4_24,
	  .steps = { PASS(TCP4(81), CG_STAT_PASS_RULE),
		     /* The trie says drop, but fw_gen is unchanged: the cached allow stands. */
		     PASS(TCP4(81), CG_STAT_PASS_RULE, .before = c4_24_to_drop_nobump),
		     DROP(TCP4(81), CG_STAT_DROP_RULE, .before = gen_bump) },
	  .check = hits_1_2_then_1 },
	{ .name = "rule_cache_no_rule_then_drop_rule",
	  .steps = { DROP(TCP4(81), CG_STAT_DROP_DEFAULT), PASS(TCP4(80), CG_STAT_PASS_OPEN),
		     DROP(TCP4(80), CG_STAT_DROP_RULE, .before = drop_c4_24) },
	  .check = hits_slot1_1 },
	{ .name = "rule_cache_no_rule_entry",
	  .steps = { DROP(TCP4(81), CG_STAT_DROP_DEFAULT), DROP(TCP4(81), CG_STAT_DROP_DEFAULT) },
	  .check = cache_no_rule_entry },
	{ .name = "rule_cache_v6_allow_then_drop",
	  .setup = allow32_drop48_v6,
	  .steps = { PASS(V6(C6B, IPPROTO_TCP, 1, 81), CG_STAT_PASS_RULE),
		     PASS(V6(C6B, IPPROTO_TCP, 1, 81), CG_STAT_PASS_RULE),
		     DROP(V6(C6B, IPPROTO_TCP, 1, 81), CG_STAT_DROP_RULE,
			  .before = drop_c6b_48) } },
	{ .name = "rule_cache_off_at_gen_0",
	  .setup = allow_c4_24,
	  .steps = { PASS(TCP4(81), CG_STAT_PASS_RULE, .before = set_cache_off),
		     DROP(TCP4(81), CG_STAT_DROP_RULE, .before = c4_24_to_drop_nobump) },
	  .check = no_cache_entry },
	{ .name = "rule_unknown_action_drops_cached",
	  .setup = odd_action_c4_24,
	  .steps = { DROP(TCP4(81), CG_STAT_DROP_RULE),
		     DROP(TCP4(81), CG_STAT_DROP_RULE, .before = c4_24_gone_nobump) },
	  .check = cache_odd_action_hits },
	/*
	 * IPv4 sources are ::ffff:a.b.c.d in every map, fw_cache included: an
	 * IPv6 packet from that very address must not leave the v6 trie's
	 * "no rule" where the IPv4 source's drop rule is looked up, nor read
	 * the IPv4 source's cached allow. It is refused before the rules.
	 */
	{ .name = "v6_v4mapped_source_cannot_poison_v4_drop",
	  .setup = drop_c4_24,
	  .steps = { DROP(V6("::ffff:" C4, IPPROTO_TCP, 40000, 80), CG_STAT_DROP_MALFORMED),
		     DROP(TCP4(80), CG_STAT_DROP_RULE) } },
	{ .name = "v6_v4mapped_source_cannot_use_v4_allow",
	  .setup = allow_c4_24,
	  .steps = { PASS(TCP4(81), CG_STAT_PASS_RULE),
		     DROP(V6("::ffff:" C4, IPPROTO_TCP, 40000, 81), CG_STAT_DROP_MALFORMED) } },

	/* Fragments */
	{ .name = "frag_v4_first_open_then_later",
	  .steps = { PASS(TCP4(80, .frag = 1, .frag_more = 1, .frag_id = 4242, .payload_len = 32),
			  CG_STAT_PASS_OPEN),
		     PASS(TCP4(80, .frag = 1, .frag_off = 7, .frag_more = 1, .frag_id = 4242,
			       .no_l4 = 1, .payload_len = 64),
			  CG_STAT_PASS_FRAGMENT),
		     PASS(TCP4(80, .frag = 1, .frag_off = 15, .frag_id = 4242, .no_l4 = 1,
			       .payload_len = 10),
			  CG_STAT_PASS_FRAGMENT),
		     DROP(TCP4(80, .frag = 1, .frag_off = 15, .frag_id = 4243, .no_l4 = 1,
			       .payload_len = 10),
			  CG_STAT_DROP_FRAGMENT) } },
	{ .name = "frag_v4_lone_later_dropped",
	  .steps = { DROP(
		  UDP4(53, .frag = 1, .frag_off = 100, .frag_id = 9, .no_l4 = 1, .payload_len = 8),
		  CG_STAT_DROP_FRAGMENT) } },
	{ .name = "frag_v4_first_refused_later_dropped",
	  .steps = { DROP(TCP4(81, .frag = 1, .frag_more = 1, .frag_id = 5, .payload_len = 16),
			  CG_STAT_DROP_DEFAULT),
		     DROP(TCP4(81, .frag = 1, .frag_off = 5, .frag_id = 5, .no_l4 = 1,
			       .payload_len = 8),
			  CG_STAT_DROP_FRAGMENT) } },
	{ .name = "frag_v4_first_too_short_for_l4",
	  .steps = { DROP(
		  TCP4(80, .frag = 1, .frag_more = 1, .frag_id = 6, .no_l4 = 1, .payload_len = 8),
		  CG_STAT_DROP_MALFORMED) } },
	{ .name = "frag_v6_first_open_then_later",
	  .steps = { PASS(UDP6(53, .frag = 1, .frag_more = 1, .frag_id = 0xdeadbeef,
			       .payload_len = 40),
			  CG_STAT_PASS_OPEN),
		     PASS(UDP6(53, .frag = 1, .frag_off = 6, .frag_id = 0xdeadbeef, .no_l4 = 1,
			       .payload_len = 16),
			  CG_STAT_PASS_FRAGMENT),
		     DROP(UDP6(53, .frag = 1, .frag_off = 6, .frag_id = 0xdeadbeee, .no_l4 = 1,
			       .payload_len = 16),
			  CG_STAT_DROP_FRAGMENT) } },
	{ .name = "frag_v6_after_ext_header",
	  .steps = { PASS(TCP6(80, .next_ext = 1, .ext = { { IPPROTO_DSTOPTS, 8 } }, .frag = 1,
			       .frag_more = 1, .frag_id = 77, .payload_len = 8),
			  CG_STAT_PASS_OPEN),
		     PASS(TCP6(80, .next_ext = 1, .ext = { { IPPROTO_DSTOPTS, 8 } }, .frag = 1,
			       .frag_off = 2, .frag_id = 77, .no_l4 = 1, .payload_len = 8),
			  CG_STAT_PASS_FRAGMENT) } },
	/*
	 * Destination options after the fragment header: the first fragment's
	 * upper protocol is TCP, a later fragment's header names only the
	 * destination options (RFC 8200 4.5). Both are keyed without it.
	 */
	{ .name = "frag_v6_ext_header_after_frag_header",
	  .steps = { PASS(TCP6(80, .next_ext = 1, .ext = { { IPPROTO_DSTOPTS, 8 } },
			       .ext_after_frag = 1, .frag = 1, .frag_more = 1, .frag_id = 78,
			       .payload_len = 8),
			  CG_STAT_PASS_OPEN),
		     PASS(V6(C6, IPPROTO_DSTOPTS, 0, 0, .frag = 1, .frag_off = 5, .frag_id = 78,
			     .no_l4 = 1, .payload_len = 8),
			  CG_STAT_PASS_FRAGMENT),
		     DROP(V6(C6, IPPROTO_DSTOPTS, 0, 0, .frag = 1, .frag_off = 5, .frag_id = 79,
			     .no_l4 = 1, .payload_len = 8),
			  CG_STAT_DROP_FRAGMENT) } },
	{ .name = "frag_v6_lone_later_dropped",
	  .steps = { DROP(
		  TCP6(80, .frag = 1, .frag_off = 2, .frag_id = 1, .no_l4 = 1, .payload_len = 8),
		  CG_STAT_DROP_FRAGMENT) } },
	{ .name = "frag_v6_atomic_is_whole",
	  .steps = { PASS(TCP6(80, .frag = 1, .frag_id = 3), CG_STAT_PASS_OPEN) } },
	{ .name = "frag_first_default_pass_recorded",
	  .setup = set_default_pass,
	  .steps = { PASS(UDP4(999, .frag = 1, .frag_more = 1, .frag_id = 31, .payload_len = 16),
			  CG_STAT_PASS_DEFAULT),
		     PASS(UDP4(999, .frag = 1, .frag_off = 3, .frag_id = 31, .no_l4 = 1,
			       .payload_len = 8),
			  CG_STAT_PASS_FRAGMENT, .before = set_default_drop) } },

	/* Flows */
	{ .name = "flow_v4_pass",
	  .setup = flow_c4_fresh,
	  .steps = { PASS(TCP4(5555, .tcp_flags = 0x10), CG_STAT_PASS_FLOW),
		     DROP(V4(C4, IPPROTO_TCP, 40001, 5555), CG_STAT_DROP_DEFAULT) } },
	{ .name = "flow_refresh",
	  .setup = flow_c4_nearly_idle,
	  .steps = { PASS(TCP4(5555), CG_STAT_PASS_FLOW) },
	  .check = flow_refreshed },
	{ .name = "flow_idle_expired",
	  .setup = flow_c4_idle,
	  .steps = { DROP(TCP4(5555), CG_STAT_DROP_DEFAULT) },
	  .check = flow_deleted },
	{ .name = "flow_last_ns_ahead_is_fresh",
	  .setup = flow_c4_future,
	  .steps = { PASS(TCP4(5555, .tcp_flags = 0x10), CG_STAT_PASS_FLOW) },
	  .check = flow_kept },
	{ .name = "flow_v6_udp",
	  .setup = flow_c6_udp,
	  .steps = { PASS(UDP6(5353), CG_STAT_PASS_FLOW) } },
	{ .name = "flow_v6_echo_reply",
	  .setup = flow_c6_echo,
	  .steps = { PASS(ICMP6(129, 0, .icmp_id = 77), CG_STAT_PASS_FLOW),
		     DROP(ICMP6(129, 0, .icmp_id = 78), CG_STAT_DROP_DEFAULT) } },

	/* Doors */
	{ .name = "door_open_v4_then_flow",
	  .setup = door_c4_ssh,
	  .steps = { PASS(TCP4(22), CG_STAT_PASS_KNOCK), PASS(TCP4(22), CG_STAT_PASS_FLOW),
		     DROP(V4(C4B, IPPROTO_TCP, 40000, 22), CG_STAT_DROP_DEFAULT) } },
	{ .name = "door_open_v6",
	  .setup = door_c6_ssh,
	  .steps = { PASS(TCP6(22), CG_STAT_PASS_KNOCK) } },
	{ .name = "door_expired",
	  .setup = door_c4_ssh_expired,
	  .steps = { DROP(TCP4(22), CG_STAT_DROP_DEFAULT) } },
	{ .name = "door_flow_survives_door_expiry",
	  .setup = door_c4_ssh,
	  .steps = { PASS(TCP4(22), CG_STAT_PASS_KNOCK),
		     PASS(TCP4(22, .tcp_flags = 0x10), CG_STAT_PASS_FLOW, .before = expire_doors),
		     DROP(V4(C4, IPPROTO_TCP, 40001, 22), CG_STAT_DROP_DEFAULT) } },

	/* Knocks */
	{ .name = "knock_sequence_v4",
	  .steps = { DROP(TCP4(7000), CG_STAT_DROP_KNOCK_STEP),
		     DROP(TCP4(8000), CG_STAT_DROP_KNOCK_STEP),
		     DROP(TCP4(22), CG_STAT_DROP_KNOCK_WRONG),
		     DROP(TCP4(7000), CG_STAT_DROP_KNOCK_STEP),
		     DROP(TCP4(8000), CG_STAT_DROP_KNOCK_STEP),
		     DROP(TCP4(9000), CG_STAT_DROP_KNOCK_OPEN), PASS(TCP4(22), CG_STAT_PASS_KNOCK),
		     PASS(TCP4(22), CG_STAT_PASS_FLOW) },
	  .check = knock_done },
	/*
	 * A retransmit of the last step after the door opened (a TCP SYN retry
	 * of the last knock) is a knock step, consumed whatever the default.
	 */
	{ .name = "knock_last_step_retransmit_absorbed",
	  .setup = set_default_pass,
	  .steps = { DROP(TCP4(7000), CG_STAT_DROP_KNOCK_STEP),
		     DROP(TCP4(8000), CG_STAT_DROP_KNOCK_STEP),
		     DROP(TCP4(9000), CG_STAT_DROP_KNOCK_OPEN),
		     DROP(TCP4(9000), CG_STAT_DROP_KNOCK_STEP),
		     DROP(TCP4(9000), CG_STAT_DROP_KNOCK_STEP),
		     PASS(TCP4(81), CG_STAT_PASS_DEFAULT),
		     DROP(TCP4(9000), CG_STAT_DROP_KNOCK_STEP),
		     PASS(TCP4(22), CG_STAT_PASS_KNOCK) },
	  .check = knock_done },
	/* Past the step timeout the opened sequence is forgotten silently. */
	{ .name = "knock_done_expires_silently",
	  .setup = set_default_pass,
	  .steps = { DROP(TCP4(7000), CG_STAT_DROP_KNOCK_STEP),
		     DROP(TCP4(8000), CG_STAT_DROP_KNOCK_STEP),
		     DROP(TCP4(9000), CG_STAT_DROP_KNOCK_OPEN),
		     PASS(TCP4(9000), CG_STAT_PASS_DEFAULT, .before = age_c4_knock),
		     DROP(TCP4(7000), CG_STAT_DROP_KNOCK_STEP) },
	  .check = knock_at_1 },
	{ .name = "knock_sequence_v6_udp_profile",
	  .steps = { DROP(UDP6(1111), CG_STAT_DROP_KNOCK_STEP),
		     DROP(UDP6(2222), CG_STAT_DROP_KNOCK_OPEN),
		     PASS(TCP6(8443), CG_STAT_PASS_KNOCK) },
	  .check = door_and_flow_v6 },
	{ .name = "knock_wrong_step_resets",
	  .steps = { DROP(TCP4(7000), CG_STAT_DROP_KNOCK_STEP),
		     DROP(TCP4(7500), CG_STAT_DROP_KNOCK_WRONG),
		     DROP(TCP4(8000), CG_STAT_DROP_DEFAULT), DROP(TCP4(9000), CG_STAT_DROP_DEFAULT),
		     DROP(TCP4(22), CG_STAT_DROP_DEFAULT) },
	  .check = knock_reset },
	{ .name = "knock_wrong_step_on_first_restarts",
	  .steps = { DROP(TCP4(7000), CG_STAT_DROP_KNOCK_STEP),
		     DROP(TCP4(8000), CG_STAT_DROP_KNOCK_STEP),
		     DROP(TCP4(7000), CG_STAT_DROP_KNOCK_WRONG),
		     DROP(TCP4(8000), CG_STAT_DROP_KNOCK_STEP),
		     DROP(TCP4(9000), CG_STAT_DROP_KNOCK_OPEN),
		     PASS(TCP4(22), CG_STAT_PASS_KNOCK) } },
	{ .name = "knock_wrong_proto_is_wrong",
	  .steps = { DROP(TCP4(7000), CG_STAT_DROP_KNOCK_STEP),
		     DROP(UDP4(8000), CG_STAT_DROP_KNOCK_WRONG) },
	  .check = knock_reset },
	{ .name = "knock_retransmit_ignored",
	  .steps = { DROP(TCP4(7000), CG_STAT_DROP_KNOCK_STEP),
		     DROP(TCP4(7000), CG_STAT_DROP_KNOCK_STEP),
		     DROP(TCP4(8000), CG_STAT_DROP_KNOCK_STEP),
		     DROP(TCP4(8000), CG_STAT_DROP_KNOCK_STEP),
		     DROP(TCP4(9000), CG_STAT_DROP_KNOCK_OPEN),
		     PASS(TCP4(22), CG_STAT_PASS_KNOCK) } },
	{ .name = "knock_step_timeout",
	  .steps = { DROP(TCP4(7000), CG_STAT_DROP_KNOCK_STEP),
		     DROP(TCP4(8000), CG_STAT_DROP_KNOCK_TIMEOUT, .before = age_c4_knock),
		     DROP(TCP4(9000), CG_STAT_DROP_DEFAULT) },
	  .check = knock_reset },
	{ .name = "knock_last_ns_ahead_is_fresh",
	  .steps = { DROP(TCP4(7000), CG_STAT_DROP_KNOCK_STEP),
		     DROP(TCP4(8000), CG_STAT_DROP_KNOCK_STEP, .before = future_c4_knock),
		     DROP(TCP4(9000), CG_STAT_DROP_KNOCK_OPEN) } },
	{ .name = "knock_timeout_then_first_step",
	  .steps = { DROP(TCP4(7000), CG_STAT_DROP_KNOCK_STEP),
		     DROP(TCP4(7000), CG_STAT_DROP_KNOCK_STEP, .before = age_c4_knock) },
	  .check = knock_at_1 },
	{ .name = "knock_noise_creates_no_state",
	  .steps = { DROP(TCP4(1234), CG_STAT_DROP_DEFAULT),
		     DROP(UDP4(8000), CG_STAT_DROP_DEFAULT) },
	  .check = no_knock_state },
	{ .name = "knock_consumed_under_default_pass",
	  .setup = set_default_pass,
	  .steps = { DROP(TCP4(7000), CG_STAT_DROP_KNOCK_STEP),
		     DROP(TCP4(81), CG_STAT_DROP_KNOCK_WRONG),
		     PASS(TCP4(81), CG_STAT_PASS_DEFAULT) } },
	{ .name = "knock_open_service_not_a_wrong_step",
	  .steps = { DROP(TCP4(7000), CG_STAT_DROP_KNOCK_STEP), PASS(TCP4(80), CG_STAT_PASS_OPEN),
		     DROP(TCP4(8000), CG_STAT_DROP_KNOCK_STEP) } },

	/* Egress */
	{ .name = "tc_v4_syn_creates_reply_flow",
	  .steps = { EGRESS(IP4(GW4, PEER4, IPPROTO_TCP, 40000, 443)),
		     PASS(V4(PEER4, IPPROTO_TCP, 443, 40000, .tcp_flags = 0x12), CG_STAT_PASS_FLOW),
		     DROP(V4(PEER4, IPPROTO_TCP, 443, 40001, .tcp_flags = 0x12),
			  CG_STAT_DROP_DEFAULT) } },
	{ .name = "tc_v4_ack_creates_nothing",
	  .steps = { EGRESS(IP4(GW4, PEER4, IPPROTO_TCP, 40000, 443, .tcp_flags = 0x10)),
		     DROP(V4(PEER4, IPPROTO_TCP, 443, 40000, .tcp_flags = 0x10),
			  CG_STAT_DROP_DEFAULT) },
	  .check = no_peer4_flow },
	{ .name = "tc_v4_refreshes_stale_flow",
	  .setup = peer4_flow_stale,
	  .steps = { EGRESS(IP4(GW4, PEER4, IPPROTO_TCP, 40000, 443, .tcp_flags = 0x10)) },
	  .check = peer4_refreshed },
	{ .name = "tc_v4_leaves_fresh_flow",
	  .setup = peer4_flow_fresh,
	  .steps = { EGRESS(IP4(GW4, PEER4, IPPROTO_TCP, 40000, 443, .tcp_flags = 0x10)) },
	  .check = peer4_untouched },
	{ .name = "tc_v4_leaves_flow_stamped_ahead",
	  .setup = peer4_flow_future,
	  .steps = { EGRESS(IP4(GW4, PEER4, IPPROTO_TCP, 40000, 443, .tcp_flags = 0x10)) },
	  .check = peer4_untouched },
	{ .name = "tc_v6_udp_reply_flow",
	  .steps = { EGRESS(IP6(GW6, PEER6, IPPROTO_UDP, 5000, 53, .nvlan = 1, .vlan = { Q(5) })),
		     PASS(V6(PEER6, IPPROTO_UDP, 53, 5000), CG_STAT_PASS_FLOW) } },
	{ .name = "tc_v4_echo_reply_flow",
	  .steps = { EGRESS(IP4(GW4, PEER4, IPPROTO_ICMP, 0, 0, .icmp_type = 8, .icmp_id = 99)),
		     PASS(V4(PEER4, IPPROTO_ICMP, 0, 0, .icmp_type = 0, .icmp_id = 99),
			  CG_STAT_PASS_FLOW),
		     DROP(V4(PEER4, IPPROTO_ICMP, 0, 0, .icmp_type = 0, .icmp_id = 98),
			  CG_STAT_DROP_DEFAULT) } },
	/*
	 * The flow an outgoing echo request made lets in the echo reply only:
	 * an echo request from the peer with the same id is not its reply.
	 */
	{ .name = "tc_echo_flow_refuses_echo_request",
	  .steps = { EGRESS(IP4(GW4, PEER4, IPPROTO_ICMP, 0, 0, .icmp_type = 8, .icmp_id = 99)),
		     DROP(V4(PEER4, IPPROTO_ICMP, 0, 0, .icmp_type = 8, .icmp_id = 99),
			  CG_STAT_DROP_DEFAULT),
		     PASS(V4(PEER4, IPPROTO_ICMP, 0, 0, .icmp_type = 0, .icmp_id = 99),
			  CG_STAT_PASS_FLOW),
		     EGRESS(IP6(GW6, PEER6, IPPROTO_ICMPV6, 0, 0, .icmp_type = 128, .icmp_id = 7)),
		     DROP(V6(PEER6, IPPROTO_ICMPV6, 0, 0, .icmp_type = 128, .icmp_id = 7),
			  CG_STAT_DROP_DEFAULT),
		     PASS(V6(PEER6, IPPROTO_ICMPV6, 0, 0, .icmp_type = 129, .icmp_id = 7),
			  CG_STAT_PASS_FLOW) } },
	/* ---- the sieve (its second run only) ---- */
	{ .name = "sieve_drops_spoofed_before_rules",
	  .sieve_only = 1,
	  .steps = { DROP(V4(SPOOF4_1, IPPROTO_TCP, 40000, 81), CG_STAT_DROP_DEFAULT),
		     DROP(V6(SPOOF6_1, IPPROTO_UDP, 40000, 81), CG_STAT_DROP_DEFAULT) },
	  .check = sieve_dropped_spoofed },
	{ .name = "sieve_full_path_for_open_knock_door_spa_ports",
	  .sieve_only = 1,
	  .setup = with_spa_rate,
	  .steps = { PASS(V4(SPOOF4_1, IPPROTO_TCP, 40000, 80), CG_STAT_PASS_OPEN),
		     DROP(V4(SPOOF4_2, IPPROTO_TCP, 40000, 7000), CG_STAT_DROP_KNOCK_STEP),
		     /* A door target, no door: the full path's default. */
		     DROP(V4(SPOOF4_3, IPPROTO_TCP, 40000, 22), CG_STAT_DROP_DEFAULT),
		     /* A later knock step from a source with no progress: not a knock. */
		     DROP(V4(SPOOF4_4, IPPROTO_UDP, 40000, 2222), CG_STAT_DROP_DEFAULT),
		     PASS(V4(SPOOF4_5, IPPROTO_UDP, 40000, 62201), CG_STAT_PASS_OPEN) },
	  .check = full_path_for_wanted },
	{ .name = "sieve_full_path_for_rule_covered_source",
	  .sieve_only = 1,
	  .setup = allow_c4_24,
	  .steps = { PASS(TCP4(81), CG_STAT_PASS_RULE),
		     /* Same /16 as the rule, outside its /24: the trie decides "no rule". */
		     DROP(V4(C4B, IPPROTO_TCP, 40000, 81), CG_STAT_DROP_DEFAULT),
		     DROP(V4(SPOOF4_1, IPPROTO_TCP, 40000, 81), CG_STAT_DROP_DEFAULT) },
	  .check = c4b_full_path_spoof_not },
	{ .name = "sieve_knock_in_progress_wrong_port_resets",
	  .sieve_only = 1,
	  .steps = { DROP(V4(SPOOF4_1, IPPROTO_TCP, 40000, 7000), CG_STAT_DROP_KNOCK_STEP),
		     DROP(V4(SPOOF4_1, IPPROTO_TCP, 40000, 81), CG_STAT_DROP_KNOCK_WRONG),
		     DROP(V4(SPOOF4_1, IPPROTO_TCP, 40000, 8000), CG_STAT_DROP_DEFAULT) },
	  .check = knock_reset_by_wrong_port },
	{ .name = "sieve_return_traffic_admitted",
	  .sieve_only = 1,
	  .steps = { EGRESS(IP4(GW4, PEER4, IPPROTO_TCP, 40001, 443)),
		     PASS(V4(PEER4, IPPROTO_TCP, 443, 40001, .tcp_flags = 0x12), CG_STAT_PASS_FLOW),
		     /* The flow's port is marked: another source to it takes the full path. */
		     DROP(V4(SPOOF4_1, IPPROTO_TCP, 443, 40001), CG_STAT_DROP_DEFAULT),
		     DROP(V4(SPOOF4_2, IPPROTO_TCP, 443, 40002), CG_STAT_DROP_DEFAULT) },
	  .check = spoof1_full_path_spoof2_sieved },
	{ .name = "sieve_narrowed_ports_drop_early",
	  .sieve_only = 1,
	  .setup = open_tcp_5555,
	  .steps = { PASS(V4(SPOOF4_1, IPPROTO_TCP, 40000, 5555), CG_STAT_PASS_OPEN),
		     DROP(V4(SPOOF4_2, IPPROTO_TCP, 40000, 5555), CG_STAT_DROP_DEFAULT,
			  .before = close_5555_narrow),
		     PASS(V4(SPOOF4_3, IPPROTO_TCP, 40000, 80), CG_STAT_PASS_OPEN),
		     DROP(V4(SPOOF4_4, IPPROTO_TCP, 40000, 7000), CG_STAT_DROP_KNOCK_STEP) },
	  .check = spoof1_full_path_spoof2_sieved },
	{ .name = "sieve_rule_set_recomputed_after_delete",
	  .sieve_only = 1,
	  .setup = allow_c4_24,
	  .steps = { PASS(TCP4(81), CG_STAT_PASS_RULE),
		     DROP(TCP4(81), CG_STAT_DROP_DEFAULT, .before = c4_24_deleted) },
	  .check = c4_cache_entry_stale },
	{ .name = "sieve_flow_mark_lives_one_rotation",
	  .sieve_only = 1,
	  .steps = { EGRESS(IP4(GW4, PEER4, IPPROTO_UDP, 40001, 53)),
		     PASS(V4(PEER4, IPPROTO_UDP, 53, 40001), CG_STAT_PASS_FLOW, .before = rotate),
		     PASS(V4(PEER4, IPPROTO_UDP, 53, 40001), CG_STAT_PASS_FLOW, .before = rotate),
		     /*
		      * Two periods without a packet: the flow would be idle by then;
		      * the mark is gone and the sieve drops (the map entry is still there).
		      */
		     DROP(V4(PEER4, IPPROTO_UDP, 53, 40001), CG_STAT_DROP_DEFAULT,
			  .before = rotate2) } },
	{ .name = "tc_v6_echo_reply_flow",
	  .steps = { EGRESS(IP6(GW6, PEER6, IPPROTO_ICMPV6, 0, 0, .icmp_type = 128, .icmp_id = 7)),
		     PASS(V6(PEER6, IPPROTO_ICMPV6, 0, 0, .icmp_type = 129, .icmp_id = 7),
			  CG_STAT_PASS_FLOW) } },
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* ---- runner -------------------------------------------------------------- */

static const struct row *cur;

static bool run_step(const struct row *r, int i, const struct step *s)
{
	struct cg_counter before[CG_STAT_MAX], after[CG_STAT_MAX];
	struct pkt p;
	char what[96];
	int fd, err, k;
	bool ok = true;
	LIBBPF_OPTS(bpf_test_run_opts, o);

	snprintf(what, sizeof(what), "%s step %d", r->name, i + 1);
	if (!ASSERT_EQ(pkt_build(&s->pkt, &p), 0, what))
		return false;
	if (s->mangle)
		s->mangle(&p);
	if (s->cut_l3)
		pkt_truncate(&p, p.l3_off + s->cut_l3);
	if (s->cut_l4)
		pkt_truncate(&p, p.l4_off + s->cut_l4);
	if (s->before)
		s->before();

	o.data_in = p.data;
	o.data_size_in = p.len;
	o.repeat = 1;
	fd = bpf_program__fd(s->egress ? skel->progs.tc_gate_out : skel->progs.xdp_gate);

	gate_sum_stats(skel, before);
	err = bpf_prog_test_run_opts(fd, &o);
	gate_sum_stats(skel, after);
	if (!ASSERT_EQ(err, 0, what))
		return false;
	ok &= ASSERT_EQ(o.retval, s->act, what);
	for (k = 0; k < CG_STAT_MAX; k++) {
		__u64 dp = after[k].packets - before[k].packets;
		__u64 db = after[k].bytes - before[k].bytes;
		int want = !s->egress && k == s->stat;

		if (dp != (__u64)want)
			ok &= ASSERT_EQ(dp, want, what) & ASSERT_EQ(k, s->stat, "counter");
		if (want)
			ok &= ASSERT_EQ(db, p.len, what);
	}
	if (ok && !s->egress)
		reasons_seen |= 1ULL << s->stat;
	return ok;
}

static void run_row(void)
{
	int i;

	reset_maps();
	if (cur->setup)
		cur->setup();
	for (i = 0; i < MAX_STEPS; i++) {
		const struct step *s = &cur->steps[i];

		if (!s->pkt.family && !s->pkt.ethertype)
			break;
		if (!run_step(cur, i, s))
			return;
	}
	if (cur->check)
		cur->check();
}

/*
 * Two CPUs judge one source's knocks at once: each step of profile 0 arrives
 * on both at the same moment (a duplicated packet), round after round. The
 * source's state must move as if the copies came one after the other: one
 * opens the door, every other copy is a step (a retransmit, or a write that
 * lost the race), so each round counts exactly one DROP_KNOCK_OPEN. Without
 * the lock both copies of the last step would read "two steps done" and both
 * open.
 */
#define KRACE_ROUNDS 3000
#define KRACE_DEADLINE_S 20

static struct pkt krace_pkts[3];
static atomic_int krace_go, krace_done;
static int krace_prog;

static void krace_send(int step)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = krace_pkts[step].data,
		    .data_size_in = krace_pkts[step].len, .repeat = 1);

	bpf_prog_test_run_opts(krace_prog, &o);
}

static void *krace_twin(void *arg)
{
	int *cpu = arg, n;
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(*cpu, &one);
	sched_setaffinity(0, sizeof(one), &one);
	for (n = 1;; n++) {
		while (atomic_load(&krace_go) < n)
			;
		if (atomic_load(&krace_go) > 3 * KRACE_ROUNDS)
			return NULL;
		krace_send((n - 1) % 3);
		atomic_store(&krace_done, n);
	}
}

static void knock_race(void)
{
	const struct pkt_spec steps[3] = { TCP4(7000), TCP4(8000), TCP4(9000) };
	struct cg_counter before[CG_STAT_MAX], after[CG_STAT_MAX];
	time_t end = time(NULL) + KRACE_DEADLINE_S;
	int i, n, twin_cpu = -1, me = sched_getcpu();
	pthread_t twin;
	__u64 rounds;

	for (i = 0; i < ncpus && twin_cpu < 0; i++)
		if (i != me && sysconf(_SC_NPROCESSORS_ONLN) > 1)
			twin_cpu = i;
	if (twin_cpu < 0) {
		T_SKIP("needs two CPUs");
		return;
	}
	reset_maps();
	for (i = 0; i < 3; i++)
		if (!ASSERT_EQ(pkt_build(&steps[i], &krace_pkts[i]), 0, "knock packet"))
			return;
	krace_prog = bpf_program__fd(skel->progs.xdp_gate);
	atomic_store(&krace_go, 0);
	atomic_store(&krace_done, 0);
	if (!ASSERT_EQ(pthread_create(&twin, NULL, krace_twin, &twin_cpu), 0, "twin thread"))
		return;
	gate_sum_stats(skel, before);
	for (n = 1; n <= 3 * KRACE_ROUNDS && time(NULL) < end; n++) {
		atomic_store(&krace_go, n);
		krace_send((n - 1) % 3);
		while (atomic_load(&krace_done) < n)
			;
	}
	rounds = (__u64)(n - 1) / 3;
	atomic_store(&krace_go, 3 * KRACE_ROUNDS + 1);
	pthread_join(twin, NULL);
	gate_sum_stats(skel, after);
	ASSERT_EQ(after[CG_STAT_DROP_KNOCK_OPEN].packets - before[CG_STAT_DROP_KNOCK_OPEN].packets,
		  rounds, "one door opening per round");
	ASSERT_EQ(after[CG_STAT_DROP_KNOCK_STEP].packets - before[CG_STAT_DROP_KNOCK_STEP].packets,
		  6 * rounds - rounds + (__u64)((n - 1) % 3) * 2, "every other copy a step");
	fprintf(stderr, "  %llu rounds\n", (unsigned long long)rounds);
}

/*
 * Every verdict reason of enum cg_stat is produced by some row above, except
 * the capability stage's (cap_reason()), which test_cap.c covers and checks
 * in the same way. A new reason therefore needs a row in one of the two.
 */
static void every_reason_covered(void)
{
	int k;

	for (k = 0; k < CG_STAT_MAX; k++)
		if (!cap_reason(k) && !ASSERT_TRUE(reasons_seen & (1ULL << k), "reason covered"))
			fprintf(stderr, "  not covered: %d\n", k);
}

int main(int argc, char **argv)
{
	struct t_case tc = { "", run_row };
	int rc = 0, r;
	size_t i;

	libbpf_set_print(NULL);
	ncpus = libbpf_num_possible_cpus();
	if (geteuid() == 0)
		skel = gate_bpf__open_and_load();
	if (skel) {
		cpu_set_t one;

		/* fw_cache is per-CPU: keep every test run on the same CPU. */
		CPU_ZERO(&one);
		CPU_SET(sched_getcpu(), &one);
		if (sched_setaffinity(0, sizeof(one), &one))
			fprintf(stderr, "sched_setaffinity: %s\n", strerror(errno));
	}
	if (!skel) {
		const struct t_case sc = T_CASE(gate_skip_case);

		return t_main(__FILE__, &sc, 1, argc, argv);
	}

	sv = sieve_open(bpf_map__fd(skel->maps.gate_sieve));
	if (!sv) {
		fprintf(stderr, "sieve_open: %s\n", strerror(errno));
		return 1;
	}
	for (sieve_mode = 0; sieve_mode < 2; sieve_mode++) {
		for (i = 0; i < NROWS; i++) {
			char name[128];

			cur = &rows[i];
			if (cur->sieve_only && !sieve_mode)
				continue;
			snprintf(name, sizeof(name), "%s%s", rows[i].name,
				 sieve_mode ? "/sieve" : "");
			tc.name = name;
			r = t_main(__FILE__, &tc, 1, argc, argv);
			if (r == 1)
				rc = 1;
		}
	}
	sieve_mode = 0;
	{
		const struct t_case kr = T_CASE(knock_race);

		if (t_main(__FILE__, &kr, 1, argc, argv) == 1)
			rc = 1;
	}
	if (argc < 2) {
		const struct t_case cc = T_CASE(every_reason_covered);

		if (t_main(__FILE__, &cc, 1, argc, argv))
			rc = 1;
	}
	sieve_close(sv);
	gate_bpf__destroy(skel);
	return rc;
}
