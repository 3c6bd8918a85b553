// SPDX-License-Identifier: GPL-2.0
/* tc_lb through BPF_PROG_TEST_RUN: DNAT, reverse, checksums from scratch, conntrack, refusals. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "abi/lb.h"
#include "lb.skel.h"
#include "lib/base/addr.h"

#include "tests/lib/gate_t.h"
#include "tests/lib/pkt.h"
#include "tests/lib/t.h"

static struct lb_bpf *skel;
/* The __sk_buff the next runs get (ingress_ifindex, ifindex), or NULL. */
static struct __sk_buff *run_ctx;
/*
 * Runs go to tc_lb_l3 with the frames' Ethernet headers cut off. The test
 * run still parses the first 14 bytes as Ethernet to set skb->protocol
 * (eth_type_trans): bytes 12-13 of an IPv4 header are the source address's
 * first two, of an IPv6 header the source's bytes 4-5. So the sources of
 * these packets are 8.0.x.x (0x0800) and 2001:db8:86dd:: (0x86dd), and
 * they are at least 14 bytes longer than their IP header (the test run
 * refuses a frame shorter than Ethernet and an IP header): 40 bytes more
 * payload.
 */
static bool l3_mode;

/* A fresh set of maps: service 0 on VIP:@port (TCP and UDP, @nat), its ring all @slot. */
static void setup_nat(const char *vip, __u16 port, __u32 slot, __u8 nat)
{
	struct lb_config cfg = { .enabled = 1, .seed = 7 };
	struct lb_vip_key k = { .port = htons(port) };
	struct lb_vip_val v = { .svc = 0, .nat = nat };
	__u32 zero = 0, i;
	int ring;

	gate_map_clear(skel->maps.lb_vips);
	gate_map_clear(skel->maps.lb_ct);
	gate_map_clear(skel->maps.lb_rev);
	bpf_map_update_elem(bpf_map__fd(skel->maps.lb_config), &zero, &cfg, 0);
	addr_parse_mapped(vip, k.addr);
	k.proto = IPPROTO_TCP;
	bpf_map_update_elem(bpf_map__fd(skel->maps.lb_vips), &k, &v, 0);
	k.proto = IPPROTO_UDP;
	bpf_map_update_elem(bpf_map__fd(skel->maps.lb_vips), &k, &v, 0);
	ring = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 4, LB_RING_SIZE, NULL);
	for (i = 0; i < LB_RING_SIZE; i++)
		bpf_map_update_elem(ring, &i, &slot, 0);
	bpf_map_update_elem(bpf_map__fd(skel->maps.lb_rings), &zero, &ring, 0);
	close(ring);
}

/* lb_config's run-time fields over setup's. */
static void config(__u32 flags, __u32 tun_ifindex)
{
	struct lb_config cfg = {
		.enabled = 1, .seed = 7, .flags = flags, .tun_ifindex = tun_ifindex
	};
	__u32 zero = 0;

	bpf_map_update_elem(bpf_map__fd(skel->maps.lb_config), &zero, &cfg, 0);
}

static void setup(const char *vip, __u16 port, __u32 slot)
{
	setup_nat(vip, port, slot, LB_NAT_DNAT);
}

/* Backend @slot for nat = full: the gateway address @snat and ports [lo, hi]. */
static void backend_full(__u32 slot, const char *addr, __u16 port, const char *snat, __u16 lo,
			 __u16 hi)
{
	struct lb_backend b = {
		.port = htons(port), .state = LB_BE_UP, .snat_lo = lo, .snat_hi = hi
	};

	addr_parse_mapped(addr, b.addr);
	addr_parse_mapped(snat, b.snat);
	bpf_map_update_elem(bpf_map__fd(skel->maps.lb_backends), &slot, &b, 0);
}

static void backend(__u32 slot, const char *addr, __u16 port, __u8 state)
{
	struct lb_backend b = { .port = htons(port), .state = state };

	addr_parse_mapped(addr, b.addr);
	bpf_map_update_elem(bpf_map__fd(skel->maps.lb_backends), &slot, &b, 0);
}

static __u64 stat(__u32 s)
{
	int n = libbpf_num_possible_cpus();
	struct cg_counter v[n];
	__u64 sum = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.lb_stats), &s, v))
		return 0;
	for (int i = 0; i < n; i++)
		sum += v[i].packets;
	return sum;
}

/* Entries of a hash map (keys up to 64 bytes). */
static int map_count(const struct bpf_map *m)
{
	__u8 key[64], next[64];
	int n = 0;

	for (void *k = NULL; bpf_map_get_next_key(bpf_map__fd(m), k, next) == 0; k = key, n++)
		memcpy(key, next, sizeof(key));
	return n;
}

/* Service 0's lb_svc_stats summed over the CPUs. */
static struct lb_svc_counter svc_sum(void)
{
	int n = libbpf_num_possible_cpus();
	struct lb_svc_counter v[n], sum = { 0 };
	__u32 zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.lb_svc_stats), &zero, v))
		return sum;
	for (int i = 0; i < n; i++) {
		sum.no_backend += v[i].no_backend;
		sum.flows_full += v[i].flows_full;
	}
	return sum;
}

/* Runs the program over the frame @in; the output frame in *out. Returns the verdict or -1. */
static int run_pkt(const struct pkt *in, struct pkt *out)
{
	LIBBPF_OPTS(bpf_test_run_opts, o);

	*out = *in;
	o.data_in = in->data;
	o.data_size_in = in->len;
	o.data_out = out->data;
	o.data_size_out = sizeof(out->data);
	o.repeat = 1;
	o.ctx_in = run_ctx;
	o.ctx_size_in = run_ctx ? sizeof(*run_ctx) : 0;
	if (bpf_prog_test_run_opts(
		    bpf_program__fd(l3_mode ? skel->progs.tc_lb_l3 : skel->progs.tc_lb), &o))
		return -1;
	out->len = o.data_size_out;
	return o.retval;
}

/* run_pkt over the frame built from @s. */
static int run(const struct pkt_spec *s, struct pkt *out)
{
	struct pkt in;

	if (pkt_build(s, &in))
		return -1;
	if (l3_mode) {
		memmove(in.data, in.data + in.l3_off, in.len - in.l3_off);
		in.len -= in.l3_off;
		in.l4_off -= in.l3_off;
		in.l3_off = 0;
		if (in.len < ETH_HLEN + 40)
			return -1;
	}
	return run_pkt(&in, out);
}

/* A client's IPv4 packet to the VIP 10.10.2.100:80 (TCP: a SYN). */
static struct pkt_spec to_vip(__u8 proto, __u16 sport)
{
	struct pkt_spec s = { .family = 4,
			      .src = "10.0.0.1",
			      .dst = "10.10.2.100",
			      .proto = proto,
			      .sport = sport,
			      .dport = 80 };

	return s;
}

/* Every checksum of @p recomputed from scratch verifies (IPv4 header, L4 with pseudo header). */
static bool csums_ok(const struct pkt *p, int v6)
{
	const __u8 *ip = p->data + p->l3_off;
	size_t l4len = p->len - p->l4_off;
	__u32 sum = 0;
	size_t i;

	if (!v6 && pkt_csum(ip, (ip[0] & 15) * 4, 0) != 0)
		return false;
	for (i = 0; i < (v6 ? 32u : 8u); i += 2)
		sum += (ip[(v6 ? 8 : 12) + i] << 8) | ip[(v6 ? 8 : 12) + i + 1];
	sum += (v6 ? ip[6] : ip[9]) + (__u32)l4len;
	return pkt_csum(p->data + p->l4_off, l4len, sum) == 0;
}

static bool same_addr(const struct pkt *p, int v6, int dst, const char *want)
{
	__u8 a[16];

	addr_parse_mapped(want, a);
	return memcmp(p->data + p->l3_off + (v6 ? 8 + dst * 16 : 12 + dst * 4), a + (v6 ? 0 : 12),
		      v6 ? 16 : 4) == 0;
}

static __u16 port_at(const struct pkt *p, int dst)
{
	__u16 v;

	memcpy(&v, p->data + p->l4_off + dst * 2, 2);
	return ntohs(v);
}

/* UDP over IPv4 without a checksum: it stays 0 after the rewrite. */
static void udp4_zero_csum(void)
{
	struct pkt_spec s = { .family = 4,
			      .src = "10.0.0.1",
			      .dst = "10.10.2.100",
			      .proto = IPPROTO_UDP,
			      .sport = 5000,
			      .dport = 80,
			      .payload_len = 8 };
	struct pkt in, out;

	if (!skel)
		return gate_skip_case();
	setup("10.10.2.100", 80, 1);
	backend(1, "10.10.2.2", 8080, LB_BE_UP);
	pkt_build(&s, &in);
	in.data[in.l4_off + 6] = in.data[in.l4_off + 7] = 0;
	ASSERT_EQ(run_pkt(&in, &out), TC_ACT_OK, "verdict");
	ASSERT_EQ(out.data[in.l4_off + 6] | out.data[in.l4_off + 7], 0, "checksum still 0");
	ASSERT_EQ(out.data[in.l4_off + 3], 8080 & 0xff, "rewritten");
}

/* A new table (inner map replaced) leaves an established flow on its backend. */
static void ct_survives_table_change(void)
{
	struct pkt_spec syn = { .family = 4,
				.src = "10.0.0.1",
				.dst = "10.10.2.100",
				.proto = IPPROTO_TCP,
				.sport = 41000,
				.dport = 80 };
	struct pkt_spec ack = syn;
	__u32 zero = 0, two = 2, i;
	__u64 f0;
	struct pkt out;
	int ring;

	if (!skel)
		return gate_skip_case();
	setup("10.10.2.100", 80, 1);
	backend(1, "10.10.2.2", 8080, LB_BE_UP);
	backend(2, "10.10.2.3", 8080, LB_BE_UP);
	ASSERT_EQ(run(&syn, &out), TC_ACT_OK, "syn");
	ASSERT_TRUE(same_addr(&out, 0, 1, "10.10.2.2"), "first backend");
	ring = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 4, LB_RING_SIZE, NULL);
	for (i = 0; i < LB_RING_SIZE; i++)
		bpf_map_update_elem(ring, &i, &two, 0);
	bpf_map_update_elem(bpf_map__fd(skel->maps.lb_rings), &zero, &ring, 0);
	close(ring);
	ack.tcp_flags = 0x10;
	f0 = stat(LB_STAT_FWD);
	ASSERT_EQ(run(&ack, &out), TC_ACT_OK, "ack");
	ASSERT_TRUE(same_addr(&out, 0, 1, "10.10.2.2"), "flow kept its backend");
	ASSERT_EQ(stat(LB_STAT_FWD) - f0, 1, "FWD");
	syn.sport = 41001;
	ASSERT_EQ(run(&syn, &out), TC_ACT_OK, "new syn");
	ASSERT_TRUE(same_addr(&out, 0, 1, "10.10.2.3"), "new flow on the new table");
}

/* No healthy backend: UDP dropped and counted; a stray ACK passes untouched. */
static void no_backend(void)
{
	struct pkt_spec u = { .family = 4,
			      .src = "10.0.0.1",
			      .dst = "10.10.2.100",
			      .proto = IPPROTO_UDP,
			      .sport = 5000,
			      .dport = 80 };
	struct pkt_spec a = { .family = 4,
			      .src = "10.0.0.1",
			      .dst = "10.10.2.100",
			      .proto = IPPROTO_TCP,
			      .sport = 5000,
			      .dport = 80,
			      .tcp_flags = 0x10 };
	__u64 d0 = stat(LB_STAT_DROP_NO_BACKEND), s0 = svc_sum().no_backend;
	struct pkt out;

	if (!skel)
		return gate_skip_case();
	setup("10.10.2.100", 80, 4);
	backend(4, "10.10.2.4", 8080, LB_BE_DOWN);
	ASSERT_EQ(run(&u, &out), TC_ACT_SHOT, "udp dropped");
	ASSERT_EQ(stat(LB_STAT_DROP_NO_BACKEND) - d0, 1, "DROP_NO_BACKEND");
	ASSERT_EQ(svc_sum().no_backend - s0, 1, "svc no_backend");
	ASSERT_EQ(run(&a, &out), TC_ACT_OK, "stray ack to the stack");
	ASSERT_TRUE(same_addr(&out, 0, 1, "10.10.2.100"), "untouched");
}

/* A forward half the LRU lost is rebuilt from its reverse half (same backend, CT_RESTORED). */
static void ct_restored_from_rev(void)
{
	struct pkt_spec u = { .family = 4,
			      .src = "10.0.0.1",
			      .dst = "10.10.2.100",
			      .proto = IPPROTO_UDP,
			      .sport = 6000,
			      .dport = 80 };
	__u64 r0 = stat(LB_STAT_CT_RESTORED);
	struct pkt out;

	if (!skel)
		return gate_skip_case();
	setup("10.10.2.100", 80, 1);
	backend(1, "10.10.2.2", 8080, LB_BE_UP);
	ASSERT_EQ(run(&u, &out), TC_ACT_OK, "first");
	gate_map_clear(skel->maps.lb_ct);
	ASSERT_EQ(run(&u, &out), TC_ACT_OK, "after the loss");
	ASSERT_TRUE(same_addr(&out, 0, 1, "10.10.2.2"), "same backend");
	ASSERT_EQ(stat(LB_STAT_CT_RESTORED) - r0, 1, "CT_RESTORED");
}

/*
 * The forward rewrite and the reply's. dnat: to the backend, the client's
 * address kept; the reply from the VIP. full: the forward packet also leaves
 * from the backend's snat address and a port of its range; the backend's
 * reply to that port comes back from the VIP to the client's address and port.
 */
static void nat_and_reverse(int v6, __u8 proto, int full)
{
	const char *c = v6 ? (l3_mode ? "2001:db8:86dd::1" : "2001:db8::1")
			   : (l3_mode ? "8.0.0.1" : "10.0.0.1");
	const char *vip = v6 ? "2001:db8:100::1" : "10.10.2.100";
	const char *be = v6 ? (l3_mode ? "2001:db8:86dd::2:2" : "2001:db8:2::2")
			    : (l3_mode ? "8.0.0.2" : "10.10.2.2");
	const char *gw = v6 ? "2001:db8:2::1" : "10.10.2.1";
	struct pkt_spec fwd = { .family = v6 ? 6 : 4,
				.src = c,
				.dst = vip,
				.proto = proto,
				.sport = 40000,
				.dport = 80,
				.payload_len = l3_mode ? 51 : 11 };
	struct pkt_spec rev = { .family = v6 ? 6 : 4,
				.src = be,
				.dst = full ? gw : c,
				.proto = proto,
				.sport = 8080,
				.dport = 40000,
				.tcp_flags = 0x12,
				.payload_len = l3_mode ? 45 : 5 };
	__u64 n0 = stat(LB_STAT_FWD_NEW), r0 = stat(LB_STAT_REV);
	struct pkt out;
	__u16 sp;

	if (!skel)
		return gate_skip_case();
	setup_nat(vip, 80, 3, full ? LB_NAT_FULL : LB_NAT_DNAT);
	if (full)
		backend_full(3, be, 8080, gw, 20000, 20099);
	else
		backend(3, be, 8080, LB_BE_UP);
	ASSERT_EQ(run(&fwd, &out), TC_ACT_OK, "forward");
	ASSERT_TRUE(same_addr(&out, v6, 1, be), "dst is the backend");
	ASSERT_TRUE(same_addr(&out, v6, 0, full ? gw : c), "src: snat address, or kept (dnat)");
	ASSERT_EQ(port_at(&out, 1), 8080, "dport");
	sp = port_at(&out, 0);
	if (full)
		ASSERT_TRUE(sp >= 20000 && sp <= 20099, "sport in the backend's range");
	else
		ASSERT_EQ(sp, 40000, "sport kept");
	ASSERT_TRUE(csums_ok(&out, v6), "forward checksums");
	ASSERT_EQ(stat(LB_STAT_FWD_NEW) - n0, 1, "FWD_NEW");
	rev.dport = sp;
	ASSERT_EQ(run(&rev, &out), TC_ACT_OK, "reverse");
	ASSERT_TRUE(same_addr(&out, v6, 0, vip), "src is the VIP");
	ASSERT_TRUE(same_addr(&out, v6, 1, c), "dst is the client");
	ASSERT_EQ(port_at(&out, 0), 80, "sport");
	ASSERT_EQ(port_at(&out, 1), 40000, "dport is the client's");
	ASSERT_TRUE(csums_ok(&out, v6), "reverse checksums");
	ASSERT_EQ(stat(LB_STAT_REV) - r0, 1, "REV");
	/* A reply to another port (of the range) is no flow's: untouched. */
	rev.dport = sp == 20099 ? 20000 : sp + 1;
	r0 = stat(LB_STAT_REV);
	ASSERT_EQ(run(&rev, &out), TC_ACT_OK, "other port");
	ASSERT_TRUE(same_addr(&out, v6, 1, full ? gw : c), "not rewritten");
	ASSERT_EQ(stat(LB_STAT_REV) - r0, 0, "no REV");
}

static void tcp4(void)
{
	nat_and_reverse(0, IPPROTO_TCP, 0);
}
static void udp4(void)
{
	nat_and_reverse(0, IPPROTO_UDP, 0);
}
static void tcp6(void)
{
	nat_and_reverse(1, IPPROTO_TCP, 0);
}
static void udp6(void)
{
	nat_and_reverse(1, IPPROTO_UDP, 0);
}
/* tc_lb_l3: the same rewrites on packets without an Ethernet header. */
static void l3_rewrites(void)
{
	l3_mode = true;
	nat_and_reverse(0, IPPROTO_TCP, 0);
	nat_and_reverse(1, IPPROTO_UDP, 0);
	nat_and_reverse(0, IPPROTO_UDP, 1);
	nat_and_reverse(1, IPPROTO_TCP, 1);
	l3_mode = false;
}
static void full_tcp4(void)
{
	nat_and_reverse(0, IPPROTO_TCP, 1);
}
static void full_tcp6(void)
{
	nat_and_reverse(1, IPPROTO_TCP, 1);
}
static void full_udp4(void)
{
	nat_and_reverse(0, IPPROTO_UDP, 1);
}

/* A backend's range of two ports holds two flows; the third is refused (DROP_NAT_PORTS). */
static void full_ports_exhausted(void)
{
	struct pkt_spec s = to_vip(IPPROTO_TCP, 42000);
	__u64 d0 = stat(LB_STAT_DROP_NAT_PORTS);
	struct pkt out;
	__u16 a, b;

	if (!skel)
		return gate_skip_case();
	setup_nat("10.10.2.100", 80, 1, LB_NAT_FULL);
	backend_full(1, "10.10.2.2", 8080, "10.10.2.1", 30000, 30001);
	ASSERT_EQ(run(&s, &out), TC_ACT_OK, "first");
	a = port_at(&out, 0);
	s.sport++;
	ASSERT_EQ(run(&s, &out), TC_ACT_OK, "second");
	b = port_at(&out, 0);
	ASSERT_TRUE(a != b && a >= 30000 && a <= 30001 && b >= 30000 && b <= 30001, "both ports");
	s.sport++;
	ASSERT_EQ(run(&s, &out), TC_ACT_SHOT, "third dropped");
	ASSERT_EQ(stat(LB_STAT_DROP_NAT_PORTS) - d0, 1, "DROP_NAT_PORTS");
	ASSERT_EQ(map_count(skel->maps.lb_rev), 2, "nothing written for the third");
}

/*
 * nat = full, the forward half lost: a non-SYN segment finds the reverse half
 * through the same ports (CT_RESTORED, same port); once the table moved the
 * flow as well, it goes to the stack untouched (NO_FLOW).
 */
static void full_restored_and_lost(void)
{
	struct pkt_spec s = to_vip(IPPROTO_TCP, 43000);
	__u64 r0 = stat(LB_STAT_CT_RESTORED), l0;
	__u32 zero = 0, two = 2, i;
	struct pkt out;
	__u16 sp;
	int ring;

	if (!skel)
		return gate_skip_case();
	setup_nat("10.10.2.100", 80, 1, LB_NAT_FULL);
	backend_full(1, "10.10.2.2", 8080, "10.10.2.1", 20000, 29999);
	backend_full(2, "10.10.2.3", 8080, "10.10.2.1", 20000, 29999);
	ASSERT_EQ(run(&s, &out), TC_ACT_OK, "syn");
	sp = port_at(&out, 0);
	gate_map_clear(skel->maps.lb_ct);
	s.tcp_flags = 0x10;
	ASSERT_EQ(run(&s, &out), TC_ACT_OK, "ack after the loss");
	ASSERT_TRUE(same_addr(&out, 0, 1, "10.10.2.2"), "same backend");
	ASSERT_EQ(port_at(&out, 0), sp, "same snat port");
	ASSERT_TRUE(csums_ok(&out, 0), "checksums");
	ASSERT_EQ(stat(LB_STAT_CT_RESTORED) - r0, 1, "CT_RESTORED");
	gate_map_clear(skel->maps.lb_ct);
	ring = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 4, LB_RING_SIZE, NULL);
	for (i = 0; i < LB_RING_SIZE; i++)
		bpf_map_update_elem(ring, &i, &two, 0);
	bpf_map_update_elem(bpf_map__fd(skel->maps.lb_rings), &zero, &ring, 0);
	close(ring);
	l0 = stat(LB_STAT_NO_FLOW);
	ASSERT_EQ(run(&s, &out), TC_ACT_OK, "ack after loss and table change");
	ASSERT_TRUE(same_addr(&out, 0, 1, "10.10.2.100"), "untouched");
	ASSERT_EQ(stat(LB_STAT_NO_FLOW) - l0, 1, "NO_FLOW");
}

static bool sh(const char *cmd)
{
	return system(cmd) == 0;
}

/* Writes @v to the sysctl file @path. */
static bool sysctl_set(const char *path, const char *v)
{
	FILE *f = fopen(path, "w");

	return f && fputs(v, f) != EOF && fclose(f) == 0;
}

/*
 * In a fresh namespace: clients on veth0 (10.0.0.0/24, 2001:db8::/64),
 * backends on veth1 (10.10.2.0/24, 2001:db8:2::/64), forwarding on. The
 * forward packet of a new flow is sent out veth1 by bpf_redirect_neigh with
 * its TTL / hop limit one less (checksums from scratch); TTL 1,
 * LB_CFG_NO_REDIRECT and the TUN's egress go to the stack unchanged.
 */
static const char *fib_steps(void)
{
	struct pkt_spec s = to_vip(IPPROTO_TCP, 44000);
	struct __sk_buff ctx = {};
	__u64 r0, s0;
	struct pkt out;
	int v1;

	if (!sh("ip link add veth0 type veth peer name veth1 && ip link set veth0 up && "
		"ip link set veth1 up && ip addr add 10.0.0.254/24 dev veth0 && "
		"ip addr add 10.10.2.1/24 dev veth1 && ip addr add 8.0.2.1/24 dev veth1 && "
		"ip addr add 2001:db8::254/64 dev veth0 nodad && "
		"ip addr add 2001:db8:2::1/64 dev veth1 nodad"))
		return "veth pair and addresses";
	if (!sysctl_set("/proc/sys/net/ipv4/conf/all/forwarding", "1") ||
	    !sysctl_set("/proc/sys/net/ipv4/conf/veth0/forwarding", "1") ||
	    !sysctl_set("/proc/sys/net/ipv6/conf/all/forwarding", "1"))
		return "forwarding";
	ctx.ingress_ifindex = ctx.ifindex = if_nametoindex("veth0");
	v1 = if_nametoindex("veth1");
	if (!ctx.ifindex || !v1)
		return "if_nametoindex";
	run_ctx = &ctx;
	setup("10.10.2.100", 80, 1);
	backend(1, "10.10.2.2", 8080, LB_BE_UP);
	r0 = stat(LB_STAT_REDIRECT);
	if (run(&s, &out) != TC_ACT_REDIRECT)
		return "v4: TC_ACT_REDIRECT";
	if (out.data[out.l3_off + 8] != 63 || !csums_ok(&out, 0) ||
	    !same_addr(&out, 0, 1, "10.10.2.2"))
		return "v4: TTL 63, checksums, the backend";
	if (stat(LB_STAT_REDIRECT) - r0 != 1)
		return "v4: LB_STAT_REDIRECT";
	s.ttl = 1;
	s.sport++;
	s0 = stat(LB_STAT_STACK);
	if (run(&s, &out) != TC_ACT_OK || out.data[out.l3_off + 8] != 1 || !csums_ok(&out, 0) ||
	    stat(LB_STAT_STACK) - s0 != 1)
		return "v4 TTL 1: to the stack, TTL kept";
	s.ttl = 0;
	config(LB_CFG_NO_REDIRECT, 0);
	s0 = stat(LB_STAT_STACK);
	if (run(&s, &out) != TC_ACT_OK || out.data[out.l3_off + 8] != 64 ||
	    stat(LB_STAT_STACK) - s0 != 1)
		return "LB_CFG_NO_REDIRECT: to the stack, TTL kept";
	config(0, v1);
	s0 = stat(LB_STAT_STACK);
	if (run(&s, &out) != TC_ACT_OK || out.data[out.l3_off + 8] != 64 ||
	    stat(LB_STAT_STACK) - s0 != 1)
		return "egress is the TUN: to the stack";
	s.family = 6;
	s.src = "2001:db8::1";
	s.dst = "2001:db8:100::1";
	setup("2001:db8:100::1", 80, 1);
	backend(1, "2001:db8:2::2", 8080, LB_BE_UP);
	r0 = stat(LB_STAT_REDIRECT);
	if (run(&s, &out) != TC_ACT_REDIRECT || out.data[out.l3_off + 7] != 63 ||
	    !csums_ok(&out, 1) || stat(LB_STAT_REDIRECT) - r0 != 1)
		return "v6: TC_ACT_REDIRECT, hop limit 63";
	/* tc_lb_l3: a blank Ethernet header is pushed for bpf_redirect_neigh to fill. */
	l3_mode = true;
	s = to_vip(IPPROTO_TCP, 44100);
	s.src = "8.0.0.1";
	s.payload_len = 40;
	setup("10.10.2.100", 80, 1);
	backend(1, "8.0.2.2", 8080, LB_BE_UP);
	if (run(&s, &out) != TC_ACT_REDIRECT)
		return "l3: TC_ACT_REDIRECT";
	out.l3_off = ETH_HLEN;
	out.l4_off = ETH_HLEN + 20;
	if (out.data[ETH_HLEN + 8] != 63 || !csums_ok(&out, 0) || !same_addr(&out, 0, 1, "8.0.2.2"))
		return "l3: an Ethernet header pushed, TTL 63, checksums";
	return NULL;
}

static void fib_redirect(void)
{
	if (!skel)
		return gate_skip_case();
	t_in_netns(fib_steps);
}

/*
 * No healthy backend: a SYN (IPv4 with options and a payload; IPv6; and
 * without Ethernet) comes back out its device as the VIP's RST|ACK: SEQ 0,
 * ACK = SEQ + 1 + payload, addresses, ports and MACs swapped, options and
 * payload cut, checksums from scratch.
 */
static void refused_rst(int v6, bool l3)
{
	const char *c = v6 ? "2001:db8:86dd::1" : "8.0.0.1";
	const char *vip = v6 ? "2001:db8:100::1" : "10.10.2.100";
	struct pkt_spec s = { .family = v6 ? 6 : 4,
			      .src = c,
			      .dst = vip,
			      .proto = IPPROTO_TCP,
			      .sport = 45000,
			      .dport = 80,
			      .seq = 0xfffffff0,
			      .ip_opt_len = v6 ? 0 : 8,
			      .payload_len = 47 };
	__u64 r0 = stat(LB_STAT_REFUSED_RST), n0 = svc_sum().no_backend;
	size_t l3off = l3 ? 0 : ETH_HLEN;
	static const __u8 mac[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };
	__u8 *th;
	struct pkt out;
	__u32 ack;

	if (!skel)
		return gate_skip_case();
	setup(vip, 80, 4);
	backend(4, v6 ? "2001:db8:2::4" : "10.10.2.4", 8080, LB_BE_DOWN);
	l3_mode = l3;
	ASSERT_EQ(run(&s, &out), TC_ACT_REDIRECT, "sent back out");
	l3_mode = false;
	ASSERT_EQ(out.len, l3off + (v6 ? 60 : 40), "options and payload cut");
	out.l3_off = l3off;
	out.l4_off = l3off + (v6 ? 40 : 20);
	ASSERT_TRUE(csums_ok(&out, v6), "checksums");
	/* pkt_build's MACs: to 02:..:01 from 02:..:02. */
	if (!l3)
		ASSERT_MEMEQ(out.data, mac, sizeof(mac), "MACs swapped");
	ASSERT_TRUE(same_addr(&out, v6, 0, vip), "from the VIP");
	ASSERT_TRUE(same_addr(&out, v6, 1, c), "to the client");
	ASSERT_EQ(port_at(&out, 0), 80, "sport");
	ASSERT_EQ(port_at(&out, 1), 45000, "dport");
	th = out.data + out.l4_off;
	ASSERT_EQ(th[4] | th[5] | th[6] | th[7], 0, "SEQ 0");
	ack = (__u32)th[8] << 24 | th[9] << 16 | th[10] << 8 | th[11];
	ASSERT_EQ(ack, 0xfffffff0U + 1 + 47, "ACK = SEQ + 1 + payload");
	ASSERT_EQ(th[12], 5 << 4, "no options");
	ASSERT_EQ(th[13], 0x14, "RST|ACK");
	if (!v6) {
		ASSERT_EQ(out.data[l3off], 0x45, "IPv4, no options");
		ASSERT_EQ(out.data[l3off + 8], 64, "TTL");
	} else {
		ASSERT_EQ(out.data[l3off + 7], 64, "hop limit");
	}
	ASSERT_EQ(stat(LB_STAT_REFUSED_RST) - r0, 1, "REFUSED_RST");
	ASSERT_EQ(svc_sum().no_backend - n0, 1, "svc no_backend");
}

static void refused_rst4(void)
{
	refused_rst(0, false);
}
static void refused_rst6(void)
{
	refused_rst(1, false);
}
static void refused_rst4_l3(void)
{
	refused_rst(0, true);
}

/* An ICMP error from @src to @dst quoting @qlen bytes of the IP packet @q (Ethernet cut). */
static int icmp_err(int v6, const char *src, const char *dst, __u8 type, __u8 code, __u16 mtu,
		    const struct pkt *q, size_t qlen, struct pkt *out)
{
	struct pkt_spec s = { .family = v6 ? 6 : 4,
			      .src = src,
			      .dst = dst,
			      .proto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP,
			      .icmp_type = type,
			      .icmp_code = code,
			      .icmp_seq = mtu,
			      .payload = q->data + q->l3_off,
			      .payload_len = qlen };

	return pkt_build(&s, out);
}

/* The quote of the ICMP error @p as a packet of its own (l3_off 0). */
static void quote_of(const struct pkt *p, int v6, struct pkt *q)
{
	memset(q, 0, sizeof(*q));
	q->len = p->len - p->l4_off - 8;
	memcpy(q->data, p->data + p->l4_off + 8, q->len);
	q->l4_off = v6 ? 40 : (q->data[0] & 15) * 4;
}

/* The outer checksums of an ICMP error: IPv4 header and ICMP (no pseudo header), or ICMPv6. */
static bool icmp_csums_ok(const struct pkt *p, int v6)
{
	if (v6)
		return csums_ok(p, 1);
	return pkt_csum(p->data + p->l3_off, 20, 0) == 0 &&
	       pkt_csum(p->data + p->l4_off, p->len - p->l4_off, 0) == 0;
}

/*
 * From the backend side, about a forwarded packet: fragmentation needed
 * (IPv4) quoting the packet as the balancer sent it, (snat | client) ->
 * backend. Its quote becomes client -> VIP, its destination the client, a
 * source that is the backend the VIP; every checksum verifies from scratch,
 * the quote's TCP checksum too (the quote is the whole packet).
 */
static void icmp_from_backend(int full)
{
	struct pkt_spec syn = to_vip(IPPROTO_TCP, 40000);
	const char *from = full ? "10.10.2.2" : "10.10.2.254";
	__u64 i0 = stat(LB_STAT_ICMP_REV);
	struct pkt fwd, err, out, q;

	if (!skel)
		return gate_skip_case();
	setup_nat("10.10.2.100", 80, 1, full ? LB_NAT_FULL : LB_NAT_DNAT);
	backend_full(1, "10.10.2.2", 8080, "10.10.2.1", 20000, 20099);
	syn.payload_len = 100;
	ASSERT_EQ(run(&syn, &fwd), TC_ACT_OK, "the forwarded packet");
	ASSERT_EQ(icmp_err(0, from, full ? "10.10.2.1" : "10.0.0.1", 3, 4, 1400, &fwd,
			   fwd.len - fwd.l3_off, &err),
		  0, "build");
	ASSERT_EQ(run_pkt(&err, &out), TC_ACT_OK, "verdict");
	ASSERT_TRUE(same_addr(&out, 0, 0, full ? "10.10.2.100" : from), "outer src: VIP or kept");
	ASSERT_TRUE(same_addr(&out, 0, 1, "10.0.0.1"), "outer dst: the client");
	ASSERT_TRUE(icmp_csums_ok(&out, 0), "IPv4 and ICMP checksums");
	ASSERT_MEMEQ(out.data + out.l4_off, "\x03\x04", 2, "type, code");
	ASSERT_EQ(out.data[out.l4_off + 6] << 8 | out.data[out.l4_off + 7], 1400, "MTU");
	quote_of(&out, 0, &q);
	ASSERT_TRUE(same_addr(&q, 0, 0, "10.0.0.1"), "quoted src: the client");
	ASSERT_TRUE(same_addr(&q, 0, 1, "10.10.2.100"), "quoted dst: the VIP");
	ASSERT_EQ(port_at(&q, 0), 40000, "quoted sport");
	ASSERT_EQ(port_at(&q, 1), 80, "quoted dport");
	ASSERT_TRUE(csums_ok(&q, 0), "quoted IPv4 header and TCP checksums");
	ASSERT_EQ(stat(LB_STAT_ICMP_REV) - i0, 1, "ICMP_REV");
}

static void icmp_frag_needed_dnat(void)
{
	icmp_from_backend(0);
}
static void icmp_frag_needed_full(void)
{
	icmp_from_backend(1);
}

/*
 * From the client side, about a reply: packet too big (ICMPv6) from a
 * router to the VIP quoting VIP -> client. Its quote becomes backend ->
 * (client | snat), its destination the backend, its source the snat address
 * (full NAT) or kept; checksums from scratch (ICMPv6's pseudo header too).
 */
static void icmp_from_client(int full)
{
	const char *vip = "2001:db8:100::1", *be = "2001:db8:2::2", *gw = "2001:db8:2::1";
	struct pkt_spec syn = { .family = 6,
				.src = "2001:db8::1",
				.dst = vip,
				.proto = IPPROTO_TCP,
				.sport = 40000,
				.dport = 80 };
	struct pkt_spec rep = { .family = 6,
				.src = be,
				.dst = full ? gw : "2001:db8::1",
				.proto = IPPROTO_TCP,
				.sport = 8080,
				.tcp_flags = 0x12,
				.payload_len = 100 };
	__u64 i0 = stat(LB_STAT_ICMP_FWD);
	struct pkt fwd, reply, err, out, q;

	if (!skel)
		return gate_skip_case();
	setup_nat(vip, 80, 1, full ? LB_NAT_FULL : LB_NAT_DNAT);
	backend_full(1, be, 8080, gw, 20000, 20099);
	ASSERT_EQ(run(&syn, &fwd), TC_ACT_OK, "syn");
	rep.dport = port_at(&fwd, 0);
	ASSERT_EQ(run(&rep, &reply), TC_ACT_OK, "the reply, from the VIP");
	ASSERT_EQ(icmp_err(1, "2001:db8::fe", vip, 2, 0, 1280, &reply, reply.len - reply.l3_off,
			   &err),
		  0, "build");
	ASSERT_EQ(run_pkt(&err, &out), TC_ACT_OK, "verdict");
	ASSERT_TRUE(same_addr(&out, 1, 0, full ? gw : "2001:db8::fe"), "outer src: snat or kept");
	ASSERT_TRUE(same_addr(&out, 1, 1, be), "outer dst: the backend");
	ASSERT_TRUE(icmp_csums_ok(&out, 1), "ICMPv6 checksum");
	ASSERT_EQ(out.data[out.l4_off], 2, "type");
	ASSERT_EQ(out.data[out.l4_off + 6] << 8 | out.data[out.l4_off + 7], 1280, "MTU");
	quote_of(&out, 1, &q);
	ASSERT_TRUE(same_addr(&q, 1, 0, be), "quoted src: the backend");
	ASSERT_TRUE(same_addr(&q, 1, 1, full ? gw : "2001:db8::1"), "quoted dst: snat or client");
	ASSERT_EQ(port_at(&q, 0), 8080, "quoted sport");
	ASSERT_EQ(port_at(&q, 1), port_at(&fwd, 0), "quoted dport: the snat port or the client's");
	ASSERT_TRUE(csums_ok(&q, 1), "quoted TCP checksum");
	ASSERT_EQ(stat(LB_STAT_ICMP_FWD) - i0, 1, "ICMP_FWD");
}

static void icmp_too_big_dnat(void)
{
	icmp_from_client(0);
}
static void icmp_too_big_full(void)
{
	icmp_from_client(1);
}

/*
 * A quoted UDP datagram sent without a checksum (0) keeps 0 through the
 * translation; the quoted IPv4 header's and ICMP's verify from scratch.
 */
static void icmp_quote_udp_zero(void)
{
	struct pkt_spec u = to_vip(IPPROTO_UDP, 47000);
	__u64 i0 = stat(LB_STAT_ICMP_REV);
	struct pkt in, fwd, err, out, q;

	if (!skel)
		return gate_skip_case();
	setup("10.10.2.100", 80, 1);
	backend(1, "10.10.2.2", 8080, LB_BE_UP);
	u.payload_len = 30;
	pkt_build(&u, &in);
	in.data[in.l4_off + 6] = in.data[in.l4_off + 7] = 0;
	ASSERT_EQ(run_pkt(&in, &fwd), TC_ACT_OK, "the forwarded datagram");
	icmp_err(0, "10.10.2.2", "10.0.0.1", 3, 3, 0, &fwd, fwd.len - fwd.l3_off, &err);
	ASSERT_EQ(run_pkt(&err, &out), TC_ACT_OK, "verdict");
	ASSERT_TRUE(icmp_csums_ok(&out, 0), "IPv4 and ICMP checksums");
	quote_of(&out, 0, &q);
	ASSERT_TRUE(same_addr(&q, 0, 1, "10.10.2.100"), "quoted dst: the VIP");
	ASSERT_EQ(port_at(&q, 1), 80, "quoted dport");
	ASSERT_EQ(pkt_csum(q.data, 20, 0), 0, "quoted IPv4 header checksum");
	ASSERT_EQ(q.data[q.l4_off + 6] | q.data[q.l4_off + 7], 0, "quoted UDP checksum still 0");
	ASSERT_EQ(stat(LB_STAT_ICMP_REV) - i0, 1, "ICMP_REV");
}

/*
 * A quote naming a balanced flow with its TCP checksum cut in half cannot be
 * translated whole: dropped, DROP_MALFORMED. One without ports names no
 * flow: untouched.
 */
static void icmp_quote_cut(void)
{
	struct pkt_spec syn = to_vip(IPPROTO_TCP, 40000);
	__u64 m0 = stat(LB_STAT_DROP_MALFORMED);
	struct pkt fwd, err, out;

	if (!skel)
		return gate_skip_case();
	setup("10.10.2.100", 80, 1);
	backend(1, "10.10.2.2", 8080, LB_BE_UP);
	ASSERT_EQ(run(&syn, &fwd), TC_ACT_OK, "the forwarded packet");
	icmp_err(0, "10.10.2.254", "10.0.0.1", 3, 4, 1400, &fwd, 20 + 17, &err);
	ASSERT_EQ(run_pkt(&err, &out), TC_ACT_SHOT, "half a checksum: dropped");
	ASSERT_EQ(stat(LB_STAT_DROP_MALFORMED) - m0, 1, "DROP_MALFORMED");
	icmp_err(0, "10.10.2.254", "10.0.0.1", 3, 4, 1400, &fwd, 20 + 2, &err);
	ASSERT_EQ(run_pkt(&err, &out), TC_ACT_OK, "no ports: passed");
	ASSERT_MEMEQ(out.data, err.data, err.len, "untouched");
}

/*
 * The next IPv4 packet of @proto to port @dport captured on @fd, with the
 * kernel's word on its checksum (TP_STATUS_CSUMNOTREADY: CHECKSUM_PARTIAL).
 * Waits at most a second. Returns 0, or -1.
 */
static int capture(int fd, __u8 proto, __u16 dport, struct pkt *p, __u32 *status)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} c;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct iovec iov = { .iov_base = p->data, .iov_len = sizeof(p->data) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	ssize_t n;

	for (;;) {
		if (poll(&pfd, 1, 1000) != 1)
			return -1;
		m.msg_control = c.buf;
		m.msg_controllen = sizeof(c.buf);
		n = recvmsg(fd, &m, 0);
		if (n < ETH_HLEN + 28 || p->data[12] != 0x08 || p->data[13] != 0 ||
		    p->data[ETH_HLEN + 9] != proto)
			continue;
		p->len = n;
		p->l3_off = ETH_HLEN;
		p->l4_off = ETH_HLEN + (p->data[ETH_HLEN] & 15) * 4;
		if (port_at(p, 1) != dport)
			continue;
		*status = 0;
		for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
			if (cm->cmsg_level == SOL_PACKET && cm->cmsg_type == PACKET_AUXDATA)
				*status = ((struct tpacket_auxdata *)CMSG_DATA(cm))->tp_status;
		return 0;
	}
}

/*
 * @p was captured still CHECKSUM_PARTIAL, sent to the backend, and its L4
 * field (at @csum in the L4 header) holds the new pseudo header's sum.
 */
static const char *partial_ok(const struct pkt *p, __u32 status, size_t csum)
{
	const __u8 *ip = p->data + p->l3_off, *l4 = p->data + p->l4_off;
	__u32 sum = 0;
	size_t i;

	if (!(status & TP_STATUS_CSUMNOTREADY))
		return "still CHECKSUM_PARTIAL on b1 (the case under test)";
	if (!same_addr(p, 0, 1, "10.10.9.2") || pkt_csum(ip, 20, 0) != 0)
		return "to the backend, IPv4 checksum";
	for (i = 12; i < 20; i += 2)
		sum += ip[i] << 8 | ip[i + 1];
	sum += ip[9] + (__u32)(p->len - p->l4_off);
	if ((l4[csum] << 8 | l4[csum + 1]) != (~pkt_csum(NULL, 0, sum) & 0xffff))
		return "the field holds the new pseudo header's sum";
	return NULL;
}

/*
 * The backend side of the real-datapath cases: b0 (10.10.9.1/24) <-> b1,
 * the backend 10.10.9.2 a permanent neighbour behind b0 (MAC ..:b1),
 * forwarding on for @ingress, and the VIP 10.10.2.100:80 balanced to
 * 10.10.9.2:8080. NULL, or the step that failed.
 */
static const char *backend_side(const char *ingress)
{
	char path[96];

	if (!sh("ip link add b0 type veth peer name b1 && ip link set b0 up && "
		"ip link set b1 up && ip addr add 10.10.9.1/24 dev b0 && "
		"ip neigh add 10.10.9.2 lladdr 02:00:00:00:00:b1 dev b0 nud permanent"))
		return "the backend's veth pair and neighbour entry";
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/forwarding", ingress);
	if (!sysctl_set("/proc/sys/net/ipv4/conf/all/forwarding", "1") || !sysctl_set(path, "1"))
		return "forwarding";
	setup("10.10.2.100", 80, 1);
	backend(1, "10.10.9.2", 8080, LB_BE_UP);
	return NULL;
}

/*
 * @prog_fd on @dev's TC ingress, and *cap an AF_PACKET capture (with
 * PACKET_AUXDATA) on @capdev (none if NULL). NULL, or the step that failed.
 */
static const char *attach_capture(int prog_fd, const char *dev, const char *capdev, int *cap)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd);
	int one = 1;

	hook.ifindex = if_nametoindex(dev);
	if (!hook.ifindex || bpf_tc_hook_create(&hook) || bpf_tc_attach(&hook, &opts))
		return "the program on the ingress";
	if (!capdev)
		return NULL;
	ll.sll_ifindex = if_nametoindex(capdev);
	*cap = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (*cap < 0 || bind(*cap, (struct sockaddr *)&ll, sizeof(ll)) ||
	    setsockopt(*cap, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)))
		return "the capture";
	return NULL;
}

/*
 * CHECKSUM_PARTIAL for real: a local socket's datagram crosses veth with
 * its L4 field holding only the pseudo header's sum (the device completes
 * the rest). A test run's skb is never partial, so this one goes through
 * tc_lb attached to a veth's ingress: a0 (the client, 10.0.0.1) -> a1
 * (tc_lb) -> redirected out b0 -> b1 (captured; the backend 10.10.9.2 is a
 * permanent neighbour). The captured datagram, and a TCP SYN after it, must
 * still be partial, and their fields the folded sum of the NEW pseudo header
 * (the backend's address): without BPF_F_PSEUDO_HDR they keep the old one,
 * and a port change folded into a partial field spoils it.
 */
static const char *partial_steps(void)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(80) };
	int cap = -1, u = -1, t = -1;
	const char *why;
	__u32 status;
	struct pkt p;

	if (!sh("ip link add a0 type veth peer name a1 && ip link set a1 address 02:00:00:00:00:a1 "
		"&& "
		"ip link set a0 up && ip link set a1 up && ip addr add 10.0.0.1/24 dev a0 && "
		"ip route add 10.10.2.100/32 via 10.0.0.254 dev a0 && "
		"ip neigh add 10.0.0.254 lladdr 02:00:00:00:00:a1 dev a0 nud permanent"))
		return "the client's veth pair, its route to the VIP";
	if ((why = backend_side("a1")) ||
	    (why = attach_capture(bpf_program__fd(skel->progs.tc_lb), "a1", "b1", &cap)))
		return why;
	u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, "10.10.2.100", &to.sin_addr);
	if (u < 0 || sendto(u, "partial", 7, 0, (struct sockaddr *)&to, sizeof(to)) != 7)
		return "send to the VIP";
	if (capture(cap, IPPROTO_UDP, 8080, &p, &status))
		return "the datagram on b1, rewritten to port 8080";
	close(u);
	if ((why = partial_ok(&p, status, 6)))
		return why;
	/* A TCP SYN: its checksum's port change is folded in by tc_lb itself. */
	t = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t < 0 || (connect(t, (struct sockaddr *)&to, sizeof(to)) && errno != EINPROGRESS))
		return "connect to the VIP";
	if (capture(cap, IPPROTO_TCP, 8080, &p, &status))
		return "the SYN on b1, rewritten to port 8080";
	close(t);
	close(cap);
	return partial_ok(&p, status, 16);
}

static void csum_partial(void)
{
	if (!skel)
		return gate_skip_case();
	t_in_netns(partial_steps);
}

/*
 * tc_lb_l3 for real on a TUN's ingress: a datagram written into the TUN
 * (no Ethernet header) to the VIP leaves out b0 to the backend with an
 * Ethernet header the neighbour entry filled (the pushed blank one), TTL 63
 * and every checksum right. Proves bpf_skb_change_head + bpf_redirect_neigh
 * from an L3 device, which a test run cannot (it never redirects).
 */
static const char *tun_steps(void)
{
	struct pkt_spec u = to_vip(IPPROTO_UDP, 48000);
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
	static const __u8 b1mac[6] = { 2, 0, 0, 0, 0, 0xb1 };
	int cap = -1, tun;
	const char *why;
	__u32 status;
	struct pkt in, p;

	tun = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lbt0");
	if (tun < 0 || ioctl(tun, TUNSETIFF, &ifr))
		return "the TUN lbt0";
	if (!sh("ip link set lbt0 up && ip addr add 10.0.5.1/24 dev lbt0"))
		return "lbt0 up";
	if ((why = backend_side("lbt0")) ||
	    (why = attach_capture(bpf_program__fd(skel->progs.tc_lb_l3), "lbt0", "b1", &cap)))
		return why;
	u.src = "10.0.5.2";
	u.payload_len = 9;
	if (pkt_build(&u, &in) ||
	    write(tun, in.data + in.l3_off, in.len - in.l3_off) != (ssize_t)(in.len - in.l3_off))
		return "write into the TUN";
	if (capture(cap, IPPROTO_UDP, 8080, &p, &status))
		return "the datagram on b1, rewritten to port 8080";
	close(cap);
	close(tun);
	if (memcmp(p.data, b1mac, 6) || !same_addr(&p, 0, 1, "10.10.9.2") ||
	    !same_addr(&p, 0, 0, "10.0.5.2"))
		return "to the backend's MAC and address, the client's source kept";
	if (p.data[p.l3_off + 8] != 63 || !csums_ok(&p, 0))
		return "TTL 63, checksums";
	return NULL;
}

static void tun_redirect(void)
{
	if (!skel)
		return gate_skip_case();
	t_in_netns(tun_steps);
}

/*
 * The refusal for real: a local socket's connect() to a VIP whose backend
 * is down fails with ECONNREFUSED within a second. Its SYN crossed veth
 * CHECKSUM_PARTIAL, tc_lb answered it in place and sent the RST back out
 * a1 (bpf_redirect), and the client's stack took it.
 */
static const char *refused_steps(void)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(80) };
	int t, err = 0, cap = -1;
	socklen_t len = sizeof(err);
	struct pollfd pfd;
	const char *why;

	if (!sh("ip link add a0 type veth peer name a1 && ip link set a0 up && ip link set a1 up "
		"&& "
		"ip addr add 10.0.0.1/24 dev a0 && "
		"ip route add 10.10.2.100/32 via 10.0.0.254 dev a0 && "
		"ip neigh add 10.0.0.254 lladdr 02:00:00:00:00:a1 dev a0 nud permanent && "
		"ip link set a1 address 02:00:00:00:00:a1"))
		return "the client's veth pair, its route to the VIP";
	setup("10.10.2.100", 80, 1);
	backend(1, "10.10.9.2", 8080, LB_BE_DOWN);
	if ((why = attach_capture(bpf_program__fd(skel->progs.tc_lb), "a1", NULL, &cap)))
		return why;
	t = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, "10.10.2.100", &to.sin_addr);
	if (t < 0 || (connect(t, (struct sockaddr *)&to, sizeof(to)) && errno != EINPROGRESS))
		return "connect to the VIP";
	pfd = (struct pollfd){ .fd = t, .events = POLLOUT };
	if (poll(&pfd, 1, 1000) != 1 || getsockopt(t, SOL_SOCKET, SO_ERROR, &err, &len))
		return "an answer within a second";
	close(t);
	errno = err;
	return err == ECONNREFUSED ? NULL : "ECONNREFUSED";
}

static void refused_for_real(void)
{
	if (!skel)
		return gate_skip_case();
	t_in_netns(refused_steps);
}

/*
 * lb_rev full (filled from user space to LB_FLOWS_MAX): a new flow is
 * refused with nothing written (DROP_FLOWS_FULL, lb_svc_stats.flows_full),
 * and a flow already there still gets its replies rewritten.
 */
static void flows_full(void)
{
	struct pkt_spec syn = to_vip(IPPROTO_TCP, 46000);
	struct pkt_spec rep = to_vip(IPPROTO_TCP, 8080);
	int n = LB_FLOWS_MAX - 1, fd = bpf_map__fd(skel ? skel->maps.lb_rev : NULL);
	__u64 d0 = stat(LB_STAT_DROP_FLOWS_FULL), f0 = svc_sum().flows_full;
	struct lb_tuple *keys = NULL;
	struct lb_rev_val *vals = NULL;
	__u32 count = n;
	struct pkt out;
	int i;

	if (!skel)
		return gate_skip_case();
	/* The live flow's reply: 10.10.2.2:8080 -> 10.0.0.1:46000, a SYN-ACK. */
	rep.src = "10.10.2.2";
	rep.dst = "10.0.0.1";
	rep.dport = 46000;
	rep.tcp_flags = 0x12;
	setup("10.10.2.100", 80, 1);
	backend(1, "10.10.2.2", 8080, LB_BE_UP);
	ASSERT_EQ(run(&syn, &out), TC_ACT_OK, "a flow before the table fills");
	keys = calloc(n, sizeof(*keys));
	vals = calloc(n, sizeof(*vals));
	if (!ASSERT_TRUE(keys && vals, "calloc"))
		goto out;
	for (i = 0; i < n; i++) {
		addr_parse_mapped("10.99.0.1", keys[i].src);
		addr_parse_mapped("10.98.0.1", keys[i].dst);
		keys[i].sport = (__u16)i;
		keys[i].dport = (__u16)(i >> 16);
		keys[i].proto = IPPROTO_UDP;
	}
	if (!ASSERT_EQ(bpf_map_update_batch(fd, keys, vals, &count, NULL), 0, "fill lb_rev") ||
	    !ASSERT_EQ(map_count(skel->maps.lb_rev), LB_FLOWS_MAX, "lb_rev full"))
		goto out;
	syn.sport++;
	ASSERT_EQ(run(&syn, &out), TC_ACT_SHOT, "new flow refused");
	ASSERT_EQ(stat(LB_STAT_DROP_FLOWS_FULL) - d0, 1, "DROP_FLOWS_FULL");
	ASSERT_EQ(svc_sum().flows_full - f0, 1, "svc flows_full");
	ASSERT_EQ(run(&rep, &out), TC_ACT_OK, "the live flow's reply");
	ASSERT_TRUE(same_addr(&out, 0, 0, "10.10.2.100"), "still rewritten");
out:
	count = n;
	if (keys)
		bpf_map_delete_batch(fd, keys, &count, NULL);
	free(keys);
	free(vals);
}

/* Every lb_stat was produced by some case above (run without a case filter). */
static void every_stat_covered(void)
{
	__u32 k;

	for (k = 0; k < LB_STAT_MAX; k++)
		if (!ASSERT_TRUE(stat(k) > 0, "stat covered"))
			fprintf(stderr, "  not covered: lb_stat %u\n", k);
}

static void setup_skel(void)
{
	skel = lb_bpf__open_and_load();
}

int main(int argc, char **argv)
{
	static const struct t_case cases[] = {
		T_CASE(tcp4),
		T_CASE(udp4),
		T_CASE(tcp6),
		T_CASE(udp6),
		T_CASE(udp4_zero_csum),
		T_CASE(ct_survives_table_change),
		T_CASE(no_backend),
		T_CASE(ct_restored_from_rev),
		T_CASE(full_tcp4),
		T_CASE(full_tcp6),
		T_CASE(full_udp4),
		T_CASE(full_ports_exhausted),
		T_CASE(full_restored_and_lost),
		T_CASE(fib_redirect),
		T_CASE(l3_rewrites),
		T_CASE(refused_rst4),
		T_CASE(refused_rst6),
		T_CASE(refused_rst4_l3),
		T_CASE(icmp_frag_needed_dnat),
		T_CASE(icmp_frag_needed_full),
		T_CASE(icmp_too_big_dnat),
		T_CASE(icmp_too_big_full),
		T_CASE(icmp_quote_cut),
		T_CASE(icmp_quote_udp_zero),
		T_CASE(csum_partial),
		T_CASE(tun_redirect),
		T_CASE(refused_for_real),
		T_CASE(flows_full),
	};
	int rc;

	setup_skel();
	rc = t_main("test_lb.c", cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
	if (argc < 2 && skel) {
		const struct t_case cc = T_CASE(every_stat_covered);

		if (t_main("test_lb.c", &cc, 1, argc, argv))
			rc = 1;
	}
	lb_bpf__destroy(skel);
	return rc;
}
