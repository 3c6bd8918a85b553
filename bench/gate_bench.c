// SPDX-License-Identifier: GPL-2.0
/* ns/packet of xdp_gate on its main paths, and of xdp-filter on the same rule sets. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "abi/fw.h"
#include "abi/gate.h"
#include "abi/knock.h"
#include "abi/stats.h"
#include "gate.skel.h"
#include "lib/base/addr.h"
#include "lib/datapath/sieve.h"
#include "tests/lib/pkt.h"
#include "tests/lib/prog_time.h"

/*
 * Each number is BPF_PROG_TEST_RUN with REPEAT packets (the kernel reports the
 * mean ns per run), the median of RUNS such runs. The rule sets are NRULES
 * random IPv4 prefixes (/8../32) and NRULES random IPv6 prefixes (/16../128)
 * from a fixed seed; the measured packet's source matches exactly one of
 * them (198.51.0.0/16, 2001:db8:1::/64), and the open-service packet's source
 * (OPEN4) none. xdp-filter (Debian's libxdp1 objects) matches exact addresses
 * in a per-CPU hash, so it gets the same prefixes as plain addresses, which
 * is all it can express.
 *
 * The gate runs as the daemon runs it, with the verdict cache on (fw_gen
 * bumped after every rule change), so a repeated packet is a cache hit. The
 * trie alone is timed with fw_gen 0 (cache off). A cache miss needs a new
 * source on every packet, which PROG_TEST_RUN's repeat cannot give (it runs
 * the same buffer), so a small wrapper program rewrites the low 16 bits of
 * the source in the buffer (which persists across repeats) and tail-calls
 * xdp_gate: cycling through 65,536 sources of the matching prefix misses the
 * 8192-slot direct-mapped cache on nearly every packet (each slot is taken
 * over by about eight other sources before its source comes back); cycling
 * through 16 hits it every time (unless two of them share a slot, about a
 * 1.5% chance per seed) and is the control. Miss = hit + (65,536-cycle -
 * 16-cycle): the wrapper's own cost cancels out.
 *
 * The sieve (docs/datapath.md) is on and filled as the daemon fills it: the
 * open service, the knock steps and door, and every rule's prefix before the
 * rule goes in. "Default drop, spoofed sources" is the flood: a new source
 * on every packet, each a cache miss for the rules stage, by the same
 * wrapper (65,536 sources of 198.51.0.0/16, which no rule covers then).
 * "Sieve off" is the full path the same packet took before the sieve.
 *
 * The flood goal (default drop <= the rule-cache hit) compares two rows that
 * differ by a few ns, as much as one row moves between runs: its ratio is
 * taken from the two timed in turn, PAIRS runs each, in one state
 * (time_pair), and the ratio of the rows above is printed beside it.
 */
#define REPEAT 1000000
#define RUNS 5
#define NRULES 10000 /* xdp-filter's filter_ipv4/6 hold exactly 10000 */
#define XDPFILT_DIR "/usr/lib/x86_64-linux-gnu/bpf"
#define XDPFILT_FLAG_SRC 1 /* MAP_FLAG_SRC in xdp-tools' common_kern_user.h */

#define SRC4 "198.51.100.7"
#define SRC6 "2001:db8:1::7"
#define SRC4_PLEN 16 /* the matching rule: room for 65,536 sources */
#define SRC6_PLEN 64
#define OPEN4 "203.0.113.5" /* no rule may contain it */
#define ROT_MISS 0xffff	    /* source cycles: 65,536 addresses (all misses) */
#define ROT_HIT 0xf	    /* 16 addresses (all hits) */
#define DST4 "192.0.2.1"
#define DST6 "2001:db8::1"

static int ncpus;
static __u64 rnd_state = 0x9e3779b97f4a7c15ULL;

static __u64 rnd(void)
{
	/* xorshift64*: reproducible rule sets without libc's rand() state. */
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 2685821657736338717ULL;
}

/* Median over RUNS of the mean ns/packet; 0 on error. */
static __u64 time_prog(int prog_fd, const struct pkt *p, __u32 want_ret)
{
	return prog_time_median(prog_fd, p->data, p->len, want_ret, RUNS, REPEAT);
}

static int u64_cmp(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * The flood goal's two rows timed in turn, PAIRS runs each, in one state of
 * the maps: @drop (default drop) and @hit (a rule-cache hit); *d and *h are
 * their medians. Taken in turn so that the machine's noise, which moves a
 * row by about as much as the two differ, falls alike on both. -1 on error.
 */
#define PAIRS 9
static int time_pair(int prog_fd, const struct pkt *drop, const struct pkt *hit, __u64 *d, __u64 *h)
{
	__u64 dv[PAIRS], hv[PAIRS];
	int i;

	for (i = 0; i < PAIRS; i++) {
		dv[i] = prog_time_median(prog_fd, drop->data, drop->len, XDP_DROP, 1, REPEAT);
		hv[i] = prog_time_median(prog_fd, hit->data, hit->len, XDP_PASS, 1, REPEAT);
		if (!dv[i] || !hv[i])
			return -1;
	}
	qsort(dv, PAIRS, sizeof(dv[0]), u64_cmp);
	qsort(hv, PAIRS, sizeof(hv[0]), u64_cmp);
	*d = dv[PAIRS / 2];
	*h = hv[PAIRS / 2];
	return 0;
}

static int build(struct pkt *p, int family, const char *src, __u8 proto, __u16 dport)
{
	struct pkt_spec s = {
		.family = family,
		.src = src,
		.dst = family == 4 ? DST4 : DST6,
		.proto = proto,
		.sport = 40000,
		.dport = dport,
		.payload_len = 64,
	};

	return pkt_build(&s, p);
}

static void mask_bytes(__u8 *a, int alen, int plen)
{
	int i;

	for (i = 0; i < alen; i++) {
		int bits = plen - i * 8;

		if (bits <= 0)
			a[i] = 0;
		else if (bits < 8)
			a[i] &= 0xff << (8 - bits);
	}
}

static int prefix_contains(const __u8 *net, const __u8 *addr, int alen, int plen)
{
	__u8 a[16];

	memcpy(a, addr, alen);
	mask_bytes(a, alen, plen);
	return memcmp(a, net, alen) == 0;
}

static struct sieve *sv;

/* As the daemon: the sieve knows a rule's prefix before the trie has the rule. */
static void sieve_knows(int v6, const __u8 *addr, __u32 plen)
{
	struct cidr c = { .family = v6 ? AF_INET6 : AF_INET, .plen = plen };

	memcpy(c.addr, addr, v6 ? 16 : 4);
	sieve_rule_add(sv, &c);
}

/*
 * Fill the gate's trie (@fw_fd) and xdp-filter's hash (@xf_fd) with NRULES - 1
 * random prefixes that contain neither @src nor @avoid (if not NULL), plus one
 * that contains @src (SRC4_PLEN / SRC6_PLEN: the matching rule). xdp-filter
 * gets each prefix's random full address (for the matching rule, @src
 * itself). Returns 0 or -errno.
 */
static int fill_rules(int v6, int fw_fd, int xf_fd, const char *src, const char *avoid)
{
	int alen = v6 ? 16 : 4, n = 0, err, i, plen;
	struct fw_rule_val rv = { .action = FW_ACT_ALLOW };
	__u8 srcb[16], avoidb[16], full[16];
	__u64 xval[ncpus];
	struct {
		__u32 plen;
		__u8 addr[16];
	} key;

	for (i = 0; i < ncpus; i++)
		xval[i] = XDPFILT_FLAG_SRC;
	inet_pton(v6 ? AF_INET6 : AF_INET, src, srcb);
	memcpy(avoidb, srcb, sizeof(avoidb));
	if (avoid)
		inet_pton(v6 ? AF_INET6 : AF_INET, avoid, avoidb);

	while (n < NRULES) {
		if (n == NRULES - 1) {
			plen = v6 ? SRC6_PLEN : SRC4_PLEN;
			memcpy(full, srcb, alen);
		} else {
			plen = v6 ? 16 + rnd() % 113 : 8 + rnd() % 25;
			for (i = 0; i < alen; i += 8) {
				__u64 r = rnd();

				memcpy(full + i, &r, alen - i < 8 ? alen - i : 8);
			}
		}
		key.plen = plen;
		memcpy(key.addr, full, alen);
		mask_bytes(key.addr, alen, plen);
		if (n < NRULES - 1 && (prefix_contains(key.addr, srcb, alen, plen) ||
				       prefix_contains(key.addr, avoidb, alen, plen)))
			continue;
		rv.slot = n + 1;
		sieve_knows(v6, key.addr, plen);
		err = bpf_map_update_elem(fw_fd, &key, &rv, BPF_NOEXIST);
		if (err == -EEXIST)
			continue;
		if (err)
			return err;
		err = bpf_map_update_elem(xf_fd, full, xval, BPF_NOEXIST);
		if (err == -EEXIST) {
			bpf_map_delete_elem(fw_fd, &key);
			continue;
		}
		if (err)
			return err;
		n++;
	}
	return 0;
}

static int one_rule(int fd, int v6, const char *src, __u32 plen)
{
	struct fw_rule_val rv = { .action = FW_ACT_ALLOW, .slot = 1 };
	struct {
		__u32 plen;
		__u8 addr[16];
	} key = { .plen = plen };

	inet_pton(v6 ? AF_INET6 : AF_INET, src, key.addr);
	mask_bytes(key.addr, v6 ? 16 : 4, plen);
	sieve_knows(v6, key.addr, plen);
	return bpf_map_update_elem(fd, &key, &rv, BPF_ANY);
}

static void map_empty(int fd)
{
	__u8 k[64];

	while (bpf_map_get_next_key(fd, NULL, k) == 0)
		if (bpf_map_delete_elem(fd, k))
			break;
}

/*
 * gate_config.fw_gen = @gen: what the daemon does (gen + 1) after a rule
 * change; 0 turns the verdict cache off.
 */
static int set_gen(struct gate_bpf *skel, __u32 gen)
{
	int fd = bpf_map__fd(skel->maps.gate_config);
	struct gate_config c;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(fd, &zero, &c))
		return -errno;
	c.fw_gen = gen;
	return bpf_map_update_elem(fd, &zero, &c, BPF_ANY) ? -errno : 0;
}

static int gen_bump(struct gate_bpf *skel)
{
	static __u32 gen = 1;

	return set_gen(skel, ++gen);
}

/*
 * An XDP program that adds 1 to the 16 bits at @off of the packet (the low
 * bits of the source address), masked with @mask, then tail-calls slot 0 of
 * @prog_array (xdp_gate). The buffer persists across PROG_TEST_RUN repeats,
 * so each repeat sees the next of mask + 1 sources. Returns an fd or -errno.
 */
static int load_rotate_prog(int prog_array, int off, int mask)
{
	struct bpf_insn insns[] = {
		/* r2 = data, r3 = data_end */
		{ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = 2, .src_reg = 1, .off = 0 },
		{ .code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = 3, .src_reg = 1, .off = 4 },
		/* if (data + off + 2 > data_end) skip the rewrite */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 4, .src_reg = 2 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 4, .imm = off + 2 },
		{ .code = BPF_JMP | BPF_JGT | BPF_X, .dst_reg = 4, .src_reg = 3, .off = 4 },
		/* *(u16 *)(data + off) = (*(u16 *)(data + off) + 1) & mask */
		{ .code = BPF_LDX | BPF_MEM | BPF_H, .dst_reg = 5, .src_reg = 2, .off = off },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 5, .imm = 1 },
		{ .code = BPF_ALU64 | BPF_AND | BPF_K, .dst_reg = 5, .imm = mask },
		{ .code = BPF_STX | BPF_MEM | BPF_H, .dst_reg = 2, .src_reg = 5, .off = off },
		/* bpf_tail_call(ctx, prog_array, 0); return XDP_ABORTED if it fails */
		{ .code = BPF_LD | BPF_DW | BPF_IMM,
		  .dst_reg = 2,
		  .src_reg = BPF_PSEUDO_MAP_FD,
		  .imm = prog_array },
		{ 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 3, .imm = 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_tail_call },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_ABORTED },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	/* A prog array takes only programs of its first member's attach type. */
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_XDP);
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "rotate_src", "GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), &o);

	return fd < 0 ? -errno : fd;
}

/* Offset of the low 16 bits of the source address in @p. */
static int src_low16(const struct pkt *p, int v6)
{
	return (int)p->l3_off + (v6 ? 8 + 14 : 12 + 2);
}

/*
 * ns/packet of the gate on @p with a new source on every packet (a cache
 * miss): hit + (65,536-source cycle - 16-source cycle). 0 on error.
 */
static __u64 time_miss(int prog_array, const struct pkt *p, int v6, __u64 hit, __u32 want_ret,
		       __u64 *rot_hit, __u64 *rot_miss)
{
	int fh = load_rotate_prog(prog_array, src_low16(p, v6), ROT_HIT);
	int fm = load_rotate_prog(prog_array, src_low16(p, v6), ROT_MISS);
	__u64 ret = 0;

	if (fh < 0 || fm < 0) {
		fprintf(stderr, "gate_bench: rotate program: %s\n", strerror(-(fh < 0 ? fh : fm)));
		goto out;
	}
	*rot_hit = time_prog(fh, p, want_ret);
	*rot_miss = time_prog(fm, p, want_ret);
	if (*rot_hit && *rot_miss)
		ret = hit + (*rot_miss > *rot_hit ? *rot_miss - *rot_hit : 0);
out:
	if (fh >= 0)
		close(fh);
	if (fm >= 0)
		close(fm);
	return ret;
}

/* An XDP program that only returns XDP_PASS: the harness's own cost per packet. */
static int load_empty_prog(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	return bpf_prog_load(BPF_PROG_TYPE_XDP, "empty", "GPL", insns, 2, NULL);
}

struct xdpfilt {
	struct bpf_object *obj;
	int prog_fd;
	int v4_fd;
	int v6_fd;
};

/* Open an xdp-filter object without its pinning (it pins by name in /sys/fs/bpf). */
static int xdpfilt_load(const char *name, struct xdpfilt *xf)
{
	char path[256];
	struct bpf_program *prog;
	struct bpf_map *m;
	int err;

	snprintf(path, sizeof(path), "%s/%s", XDPFILT_DIR, name);
	xf->obj = bpf_object__open_file(path, NULL);
	if (!xf->obj)
		return -errno;
	bpf_object__for_each_map(m, xf->obj) bpf_map__set_pin_path(m, NULL);
	err = bpf_object__load(xf->obj);
	if (err)
		return err;
	prog = bpf_object__next_program(xf->obj, NULL);
	xf->prog_fd = bpf_program__fd(prog);
	xf->v4_fd = bpf_object__find_map_fd_by_name(xf->obj, "filter_ipv4");
	xf->v6_fd = bpf_object__find_map_fd_by_name(xf->obj, "filter_ipv6");
	return xf->prog_fd < 0 || xf->v4_fd < 0 || xf->v6_fd < 0 ? -ENOENT : 0;
}

static void row(const char *name, __u64 gate, __u64 xf, const char *xfname)
{
	char xs[32] = "-", rs[16] = "-";

	if (xf) {
		snprintf(xs, sizeof(xs), "%llu (%s)", (unsigned long long)xf, xfname);
		snprintf(rs, sizeof(rs), "%.2f", (double)gate / (double)xf);
	}
	printf("| %-50s | %7llu | %-16s | %5s |\n", name, (unsigned long long)gate, xs, rs);
}

int main(void)
{
	struct xdpfilt alw = { 0 }, dny = { 0 };
	struct gate_config cfg = { .default_action = GATE_DEFAULT_DROP,
				   .nprofiles = 1,
				   .flow_timeout_ns = 60ULL * 1000000000,
				   .fw_gen = 1 };
	struct cg_port open = { IPPROTO_TCP, 0, htons(80) };
	struct pkt p_open, p_def, p_knock, p4, p6, p4_open, p_def_other;
	struct gate_bpf *skel = NULL;
	int gate_fd, empty_fd = -1, tail_fd = -1, err, ret = 1;
	__u64 g_open, g_def, g_knock, g4, g6, g4_1, g6_1, g4_open, e, a4, a6, d4, d6;
	__u64 t4, t6, m4, m6, rh4, rm4, rh6, rm6, g_def_off, g_open_off, g_spoof, rhs, rms,
		g4_1_off, pair_def, pair_hit;
	struct cg_dests self = { .self = 1 };
	__u8 dst4[16], dst6[16];
	__u32 zero = 0, one = 1;

	libbpf_set_print(NULL);
	ncpus = libbpf_num_possible_cpus();
	if (geteuid() != 0) {
		fprintf(stderr, "gate_bench: needs root\n");
		return 4;
	}
	skel = gate_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "gate_bench: loading gate.bpf.o: %s\n", strerror(errno));
		goto out;
	}
	gate_fd = bpf_program__fd(skel->progs.xdp_gate);

	cfg.profiles[0] = (struct knock_profile){
		.nsteps = 3,
		.ntargets = 1,
		.step_timeout_ns = 5ULL * 1000000000,
		.open_for_ns = 30ULL * 1000000000,
		.steps = { { IPPROTO_TCP, 0, htons(7000) },
			   { IPPROTO_TCP, 0, htons(8000) },
			   { IPPROTO_TCP, 0, htons(9000) } },
		.targets = { { IPPROTO_TCP, 0, htons(22) } },
		.to = { .self = 1 },
	};
	/* As the daemon writes them: the open service and the door lead to the gateway. */
	addr_parse_mapped(DST4, dst4);
	addr_parse_mapped(DST6, dst6);
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.gate_config), &zero, &cfg, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.open_ports), &open, &self, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.gate_local), dst4, &one, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(skel->maps.gate_local), dst6, &one, BPF_ANY)) {
		fprintf(stderr, "gate_bench: filling the maps: %s\n", strerror(errno));
		goto out;
	}

	sv = sieve_open(bpf_map__fd(skel->maps.gate_sieve));
	if (!sv) {
		fprintf(stderr, "gate_bench: gate_sieve: %s\n", strerror(errno));
		goto out;
	}
	/* What the daemon wants for this config: the open service, the knock steps, the door. */
	sieve_ports_add(sv, &open, 1);
	sieve_ports_add(sv, cfg.profiles[0].steps, cfg.profiles[0].nsteps);
	sieve_ports_add(sv, cfg.profiles[0].targets, cfg.profiles[0].ntargets);
	sieve_enable(sv, 1);

	if (build(&p_open, 4, SRC4, IPPROTO_TCP, 80) || build(&p_def, 4, SRC4, IPPROTO_TCP, 81) ||
	    build(&p_knock, 4, SRC4, IPPROTO_TCP, 7000) || build(&p4, 4, SRC4, IPPROTO_TCP, 81) ||
	    build(&p6, 6, SRC6, IPPROTO_TCP, 81) || build(&p4_open, 4, OPEN4, IPPROTO_TCP, 80) ||
	    build(&p_def_other, 4, OPEN4, IPPROTO_TCP, 81))
		goto out;

	/* The wrapper that gives every packet a new source tail-calls the gate. */
	tail_fd = bpf_map_create(BPF_MAP_TYPE_PROG_ARRAY, "bench_tail", 4, 4, 1, NULL);
	if (tail_fd < 0 || bpf_map_update_elem(tail_fd, &zero, &gate_fd, BPF_ANY)) {
		fprintf(stderr, "gate_bench: prog array: %s\n", strerror(errno));
		goto out;
	}

	/* Empty rule tables: the stateful paths alone (the cache answers "no rule"). */
	empty_fd = load_empty_prog();
	e = empty_fd >= 0 ? time_prog(empty_fd, &p_open, XDP_PASS) : 0;
	g_open = time_prog(gate_fd, &p_open, XDP_PASS);
	g_def = time_prog(gate_fd, &p_def, XDP_DROP);
	g_spoof = time_miss(tail_fd, &p_def, 0, g_def, XDP_DROP, &rhs, &rms);
	sieve_enable(sv, 0);
	g_def_off = time_prog(gate_fd, &p_def, XDP_DROP);
	g_open_off = time_prog(gate_fd, &p_open, XDP_PASS);
	sieve_enable(sv, 1);
	/* The first packet is step 1; the rest are retransmits of it (same work, same verdict). */
	g_knock = time_prog(gate_fd, &p_knock, XDP_DROP);
	/* One matching rule per family: the trie's depth is 1, the rest is fixed cost. */
	if (one_rule(bpf_map__fd(skel->maps.fw_rules_v4), 0, SRC4, SRC4_PLEN) ||
	    one_rule(bpf_map__fd(skel->maps.fw_rules_v6), 1, SRC6, SRC6_PLEN) || gen_bump(skel))
		goto out;
	g4_1 = time_prog(gate_fd, &p4, XDP_PASS);
	g6_1 = time_prog(gate_fd, &p6, XDP_PASS);
	/* The goal's pair, with the rule in place: OPEN4 is outside it, so the sieve drops it. */
	if (time_pair(gate_fd, &p_def_other, &p4, &pair_def, &pair_hit))
		goto out;
	sieve_enable(sv, 0);
	g4_1_off = time_prog(gate_fd, &p4, XDP_PASS);
	sieve_enable(sv, 1);
	map_empty(bpf_map__fd(skel->maps.fw_rules_v4));
	map_empty(bpf_map__fd(skel->maps.fw_rules_v6));

	err = xdpfilt_load("xdpfilt_alw_ip.o", &alw);
	if (!err)
		err = xdpfilt_load("xdpfilt_dny_ip.o", &dny);
	if (err) {
		fprintf(stderr, "gate_bench: xdp-filter objects: %s\n", strerror(-err));
		goto out;
	}
	/* Same addresses in both xdp-filter objects; same prefixes in the gate. */
	err = fill_rules(0, bpf_map__fd(skel->maps.fw_rules_v4), alw.v4_fd, SRC4, OPEN4);
	if (!err)
		err = fill_rules(1, bpf_map__fd(skel->maps.fw_rules_v6), alw.v6_fd, SRC6, NULL);
	if (!err)
		err = gen_bump(skel);
	if (err) {
		fprintf(stderr, "gate_bench: filling rules: %s\n", strerror(-err));
		goto out;
	}
	{
		/* dny gets the very same addresses: copy alw's maps. */
		__u8 k[16], nk[16];
		__u64 v[ncpus];
		int m, fds[2][2] = { { alw.v4_fd, dny.v4_fd }, { alw.v6_fd, dny.v6_fd } };

		for (m = 0; m < 2; m++) {
			void *prev = NULL;

			while (bpf_map_get_next_key(fds[m][0], prev, nk) == 0) {
				memcpy(k, nk, sizeof(k));
				bpf_map_lookup_elem(fds[m][0], k, v);
				bpf_map_update_elem(fds[m][1], k, v, BPF_ANY);
				prev = k;
			}
		}
	}

	/* Cache hits: the same source again and again. */
	g4 = time_prog(gate_fd, &p4, XDP_PASS);
	g6 = time_prog(gate_fd, &p6, XDP_PASS);
	g4_open = time_prog(gate_fd, &p4_open, XDP_PASS);
	/* Cache misses: a new source on every packet. */
	m4 = time_miss(tail_fd, &p4, 0, g4, XDP_PASS, &rh4, &rm4);
	m6 = time_miss(tail_fd, &p6, 1, g6, XDP_PASS, &rh6, &rm6);
	/* The trie alone: fw_gen 0 turns the cache off. */
	if (set_gen(skel, 0))
		goto out;
	t4 = time_prog(gate_fd, &p4, XDP_PASS);
	t6 = time_prog(gate_fd, &p6, XDP_PASS);
	/* xdp-filter's policy names the default: alw drops what matches, dny passes it. */
	a4 = time_prog(alw.prog_fd, &p4, XDP_DROP);
	a6 = time_prog(alw.prog_fd, &p6, XDP_DROP);
	d4 = time_prog(dny.prog_fd, &p4, XDP_PASS);
	d6 = time_prog(dny.prog_fd, &p6, XDP_PASS);

	printf("xdp_gate vs xdp-filter: BPF_PROG_TEST_RUN, %d packets per run, median of %d runs, "
	       "%d+%d rules\n\n",
	       REPEAT, RUNS, NRULES, NRULES);
	printf("| %-50s | %7s | %-16s | %5s |\n", "case", "gate ns", "xdp-filter ns", "ratio");
	printf("|%s|%s|%s|%s|\n", "----------------------------------------------------",
	       "---------", "------------------", "-------");
	row("empty XDP program (harness overhead)", e, 0, NULL);
	row("open service TCP/80, v4, no rules", g_open, 0, NULL);
	row("default drop, v4, no rules", g_def, 0, NULL);
	row("default drop, v4, spoofed source each packet", g_spoof, 0, NULL);
	row("  v4 wrapper, 16 sources cycling, default drop", rhs, 0, NULL);
	row("  v4 wrapper, 65,536 sources cycling, default drop", rms, 0, NULL);
	row("default drop, v4, no rules, sieve off", g_def_off, 0, NULL);
	row("open service TCP/80, v4, no rules, sieve off", g_open_off, 0, NULL);
	row("knock step, v4, no rules", g_knock, 0, NULL);
	row("rule match v4, 1 rule (cache hit)", g4_1, 0, NULL);
	row("rule match v6, 1 rule (cache hit)", g6_1, 0, NULL);
	row("rule match v4, 1 rule (cache hit), sieve off", g4_1_off, 0, NULL);
	row("rule match v4, 10k+10k rules, cache hit", g4, a4, "alw_ip");
	row("rule match v6, 10k+10k rules, cache hit", g6, a6, "alw_ip");
	row("rule match v4, 10k+10k rules, cache hit", g4, d4, "dny_ip");
	row("rule match v6, 10k+10k rules, cache hit", g6, d6, "dny_ip");
	row("rule match v4, 10k+10k rules, cache miss", m4, a4, "alw_ip");
	row("rule match v6, 10k+10k rules, cache miss", m6, a6, "alw_ip");
	row("  v4 wrapper, 16 sources cycling (all hits)", rh4, 0, NULL);
	row("  v4 wrapper, 65,536 sources cycling (all misses)", rm4, 0, NULL);
	row("  v6 wrapper, 16 sources cycling (all hits)", rh6, 0, NULL);
	row("  v6 wrapper, 65,536 sources cycling (all misses)", rm6, 0, NULL);
	row("rule match v4, 10k+10k rules, no cache (fw_gen 0)", t4, a4, "alw_ip");
	row("rule match v6, 10k+10k rules, no cache (fw_gen 0)", t6, a6, "alw_ip");
	row("open service v4, rule miss, 10k+10k (cache hit)", g4_open, 0, NULL);
	row("default drop, v4, 1 rule, in turn with the next", pair_def, 0, NULL);
	row("rule match v4, 1 rule (cache hit), in turn", pair_hit, 0, NULL);
	if (g4_1) {
		printf("\nratio default-drop/cache-hit, %d runs in turn %.2f (goal <= 1.0)\n",
		       PAIRS, (double)pair_def / (double)pair_hit);
		printf("ratio default-drop/cache-hit, rows above %.2f\n",
		       (double)g_def / (double)g4_1);
		printf("ratio default-drop spoofed/cache-hit %.2f (goal <= 1.0)\n",
		       (double)g_spoof / (double)g4_1);
	}
	if (g4_1_off)
		printf("ratio default-drop/cache-hit with the sieve off %.2f\n",
		       (double)g_def / (double)g4_1_off);
	ret = 0;
out:
	if (empty_fd >= 0)
		close(empty_fd);
	if (tail_fd >= 0)
		close(tail_fd);
	bpf_object__close(alw.obj);
	bpf_object__close(dny.obj);
	sieve_close(sv);
	gate_bpf__destroy(skel);
	return ret;
}
