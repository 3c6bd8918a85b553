// SPDX-License-Identifier: GPL-2.0
/*
 * ns per packet of tc_lb (BPF_PROG_TEST_RUN, median of runs): an established
 * flow (to the stack, and with the FIB lookup finding the route and
 * bpf_redirect_neigh), the reverse path, a new flow (one SYN of a fresh flow
 * per run), and an empty TC program in the same run (the floor).
 *
 * A test run repeats the program over the same skb without restoring it, so
 * a rewritten packet must be another established flow's packet: the VIPs A
 * (10.10.2.100:80) and B (10.10.2.101:8080) are each other's backend, the
 * client's flows to both are opened first, and each repeat turns the packet
 * of one flow into the other's (both directions). The counters prove every
 * repeat took the path its row names.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "abi/lb.h"
#include "abi/stats.h"
#include "bench/tc_empty.skel.h"
#include "lb.skel.h"
#include "lib/base/addr.h"

#include "tests/lib/pkt.h"
#include "tests/lib/prog_time.h"

#define RUNS 15
#define REPEAT 100000
/* Each redirect takes one off the TTL: a run of the FIB row stays below 255. */
#define REPEAT_FIB 250

/* Service @svc on @vip:@vport, its whole table backend slot @slot = @be:@bport. */
static int service(struct lb_bpf *s, __u32 svc, const char *vip, __u16 vport, __u32 slot,
		   const char *be, __u16 bport)
{
	struct lb_vip_key k = { .port = htons(vport), .proto = IPPROTO_TCP };
	struct lb_vip_val v = { .svc = svc };
	struct lb_backend b = { .port = htons(bport), .state = LB_BE_UP, .svc = svc };
	int ring, err = -1;
	__u32 i;

	addr_parse_mapped(vip, k.addr);
	addr_parse_mapped(be, b.addr);
	ring = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 4, LB_RING_SIZE, NULL);
	if (ring < 0)
		return -1;
	for (i = 0; i < LB_RING_SIZE; i++)
		bpf_map_update_elem(ring, &i, &slot, 0);
	if (!bpf_map_update_elem(bpf_map__fd(s->maps.lb_rings), &svc, &ring, 0) &&
	    !bpf_map_update_elem(bpf_map__fd(s->maps.lb_backends), &slot, &b, 0) &&
	    !bpf_map_update_elem(bpf_map__fd(s->maps.lb_vips), &k, &v, 0))
		err = 0;
	close(ring);
	return err;
}

static int fill(struct lb_bpf *s)
{
	struct lb_config cfg = { .enabled = 1, .seed = 7 };
	__u32 zero = 0;

	if (service(s, 0, "10.10.2.100", 80, 1, "10.10.2.101", 8080) ||
	    service(s, 1, "10.10.2.101", 8080, 2, "10.10.2.100", 80))
		return -1;
	return bpf_map_update_elem(bpf_map__fd(s->maps.lb_config), &zero, &cfg, 0);
}

/*
 * A namespace with the client side on veth0 and both VIPs, as the other's
 * backend, permanent neighbours on veth1, forwarding on; veth0's ifindex,
 * or 0.
 */
static int fib_netns(void)
{
	if (unshare(CLONE_NEWNET) ||
	    system("ip link add veth0 type veth peer name veth1 && ip link set veth0 up && "
		   "ip link set veth1 up && ip addr add 10.0.0.254/24 dev veth0 && "
		   "ip addr add 10.10.2.1/24 dev veth1 && "
		   "ip neigh add 10.10.2.100 lladdr 02:00:00:00:00:22 dev veth1 nud permanent && "
		   "ip neigh add 10.10.2.101 lladdr 02:00:00:00:00:23 dev veth1 nud permanent && "
		   "sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv4.conf.veth0.forwarding=1"))
		return 0;
	return (int)if_nametoindex("veth0");
}

/* lb_stats[@s].packets summed over the CPUs. */
static __u64 count(const struct lb_bpf *lb, __u32 s)
{
	int n = libbpf_num_possible_cpus();
	struct cg_counter v[n];
	__u64 sum = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(lb->maps.lb_stats), &s, v))
		return 0;
	for (int i = 0; i < n; i++)
		sum += v[i].packets;
	return sum;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* The median of RUNS runs of REPEAT_FIB over @p, as arriving on @ifindex; 0 on a failure. */
static __u64 redirect_median(int fd, const struct pkt *p, int ifindex)
{
	struct __sk_buff ctx = { .ifindex = ifindex, .ingress_ifindex = ifindex };
	__u64 t[RUNS];
	int i;

	for (i = 0; i < RUNS; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->data, .data_size_in = p->len,
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = REPEAT_FIB);

		if (bpf_prog_test_run_opts(fd, &o) || o.retval != TC_ACT_REDIRECT)
			return 0;
		t[i] = o.duration;
	}
	qsort(t, RUNS, sizeof(t[0]), cmp_u64);
	return t[RUNS / 2];
}

/* New flows: RUNS SYNs of distinct source ports, one packet each; their median. */
static __u64 new_flow_median(int fd, struct pkt_spec *syn)
{
	__u64 t[RUNS];
	struct pkt p;
	int i;

	for (i = 0; i < RUNS; i++) {
		syn->sport = 41000 + i;
		if (pkt_build(syn, &p))
			return 0;
		t[i] = prog_time_median(fd, p.data, p.len, TC_ACT_OK, 1, 1);
		if (!t[i])
			return 0;
	}
	qsort(t, RUNS, sizeof(t[0]), cmp_u64);
	return t[RUNS / 2];
}

/* Every one of @n packets counted under @stat (and so took its row's path). */
static int all_counted(const struct lb_bpf *lb, __u32 stat, __u64 before, __u64 n, const char *row)
{
	__u64 got = count(lb, stat) - before;

	if (got == n)
		return 1;
	fprintf(stderr, "lb_bench: %s: %llu of %llu repeats on its path\n", row,
		(unsigned long long)got, (unsigned long long)n);
	return 0;
}

int main(void)
{
	struct pkt_spec fwd = { .family = 4,
				.src = "10.0.0.1",
				.dst = "10.10.2.100",
				.proto = IPPROTO_TCP,
				.sport = 40000,
				.dport = 80,
				.payload_len = 64 };
	struct pkt_spec rev = fwd;
	struct tc_empty_bpf *empty = NULL;
	struct lb_bpf *lb = NULL;
	struct pkt syn, ack, reply;
	__u64 t_new = 0, t_est = 0, t_rev = 0, t_empty = 0, t_fib = 0, c0;
	int fd, rc = 1, ifindex, ok;

	ifindex = fib_netns();
	if (!ifindex)
		fprintf(stderr, "lb_bench: no namespace with a route: the FIB row is skipped\n");
	lb = lb_bpf__open_and_load();
	empty = tc_empty_bpf__open_and_load();
	if (!lb || !empty || fill(lb)) {
		fprintf(stderr, "lb_bench: loading: %s\n", strerror(errno));
		goto out;
	}
	fd = bpf_program__fd(lb->progs.tc_lb);
	/* The client's flows to A:80 and B:8080 (sport 40000), opened by their SYNs. */
	if (pkt_build(&fwd, &syn) || !prog_time_median(fd, syn.data, syn.len, TC_ACT_OK, 1, 1))
		goto out;
	fwd.dst = "10.10.2.101";
	fwd.dport = 8080;
	if (pkt_build(&fwd, &syn) || !prog_time_median(fd, syn.data, syn.len, TC_ACT_OK, 1, 1))
		goto out;
	fwd.dst = "10.10.2.100";
	fwd.dport = 80;
	fwd.tcp_flags = 0x10;
	rev.src = "10.10.2.101"; /* A's backend, B */
	rev.sport = 8080;
	rev.dst = "10.0.0.1";
	rev.dport = 40000;
	rev.tcp_flags = 0x10;
	if (pkt_build(&fwd, &ack) || pkt_build(&rev, &reply))
		goto out;

	c0 = count(lb, LB_STAT_FWD);
	t_est = prog_time_median(fd, ack.data, ack.len, TC_ACT_OK, RUNS, REPEAT);
	ok = all_counted(lb, LB_STAT_FWD, c0, (__u64)RUNS * REPEAT, "established");
	c0 = count(lb, LB_STAT_REV);
	t_rev = prog_time_median(fd, reply.data, reply.len, TC_ACT_OK, RUNS, REPEAT);
	ok &= all_counted(lb, LB_STAT_REV, c0, (__u64)RUNS * REPEAT, "reverse");
	if (ifindex) {
		fwd.ttl = 255;
		if (pkt_build(&fwd, &ack))
			goto out;
		c0 = count(lb, LB_STAT_REDIRECT);
		t_fib = redirect_median(fd, &ack, ifindex);
		ok &= all_counted(lb, LB_STAT_REDIRECT, c0, (__u64)RUNS * REPEAT_FIB,
				  "FIB + redirect");
	}
	fwd.tcp_flags = 0x02;
	t_new = new_flow_median(fd, &fwd);
	t_empty = prog_time_median(bpf_program__fd(empty->progs.tc_empty), ack.data, ack.len,
				   TC_ACT_OK, RUNS, REPEAT);
	printf("%-30s %8s\n", "tc_lb path", "ns/pkt");
	printf("%-30s %8llu\n", "established flow (to the stack)", (unsigned long long)t_est);
	printf("%-30s %8llu\n", "established, FIB + redirect", (unsigned long long)t_fib);
	printf("%-30s %8llu\n", "reverse (reply)", (unsigned long long)t_rev);
	printf("%-30s %8llu\n", "new flow (SYN) *", (unsigned long long)t_new);
	printf("%-30s %8llu\n", "empty TC program", (unsigned long long)t_empty);
	printf("* one packet a run (repeat 1, a fresh flow each): timer granularity included\n");
	rc = ok && t_est && t_rev && t_new && t_empty && (t_fib || !ifindex) ? 0 : 1;
out:
	tc_empty_bpf__destroy(empty);
	lb_bpf__destroy(lb);
	return rc;
}
