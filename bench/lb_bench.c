// SPDX-License-Identifier: GPL-2.0
/*
 * ns per packet of tc_lb (BPF_PROG_TEST_RUN, median of runs): an established
 * flow, a new flow (one SYN of a fresh flow per run), the reverse path, and an
 * empty TC program in the same run (the floor).
 */
#include <errno.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "abi/lb.h"
#include "bench/tc_empty.skel.h"
#include "lb.skel.h"
#include "lib/base/addr.h"

#include "tests/lib/pkt.h"
#include "tests/lib/prog_time.h"

#define RUNS 15
#define REPEAT 100000

static int fill(struct lb_bpf *s)
{
	struct lb_config cfg = { .enabled = 1, .seed = 7 };
	struct lb_vip_key k = { .port = htons(80), .proto = IPPROTO_TCP };
	struct lb_vip_val v = { 0 };
	struct lb_backend b = { .port = htons(8080), .state = LB_BE_UP };
	__u32 zero = 0, one = 1, i;
	int ring;

	addr_parse_mapped("10.10.2.100", k.addr);
	addr_parse_mapped("10.10.2.2", b.addr);
	ring = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 4, LB_RING_SIZE, NULL);
	if (ring < 0)
		return -1;
	for (i = 0; i < LB_RING_SIZE; i++)
		bpf_map_update_elem(ring, &i, &one, 0);
	if (bpf_map_update_elem(bpf_map__fd(s->maps.lb_rings), &zero, &ring, 0) ||
	    bpf_map_update_elem(bpf_map__fd(s->maps.lb_backends), &one, &b, 0) ||
	    bpf_map_update_elem(bpf_map__fd(s->maps.lb_vips), &k, &v, 0) ||
	    bpf_map_update_elem(bpf_map__fd(s->maps.lb_config), &zero, &cfg, 0)) {
		close(ring);
		return -1;
	}
	close(ring);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
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
	__u64 t_new, t_est, t_rev, t_empty;
	int fd, rc = 1;

	lb = lb_bpf__open_and_load();
	empty = tc_empty_bpf__open_and_load();
	if (!lb || !empty || fill(lb)) {
		fprintf(stderr, "lb_bench: loading: %s\n", strerror(errno));
		goto out;
	}
	fwd.tcp_flags = 0x10;
	rev.src = "10.10.2.2";
	rev.dst = "10.0.0.1";
	rev.sport = 8080;
	rev.dport = 40000;
	rev.tcp_flags = 0x10;
	if (pkt_build(&fwd, &ack) || pkt_build(&rev, &reply))
		goto out;
	fwd.tcp_flags = 0x02;
	fd = bpf_program__fd(lb->progs.tc_lb);
	/* The established flow (sport 40000) is opened by its SYN first. */
	fwd.sport = 40000;
	if (pkt_build(&fwd, &syn) || !prog_time_median(fd, syn.data, syn.len, TC_ACT_OK, 1, 1))
		goto out;
	t_est = prog_time_median(fd, ack.data, ack.len, TC_ACT_OK, RUNS, REPEAT);
	t_rev = prog_time_median(fd, reply.data, reply.len, TC_ACT_OK, RUNS, REPEAT);
	t_new = new_flow_median(fd, &fwd);
	t_empty = prog_time_median(bpf_program__fd(empty->progs.tc_empty), ack.data, ack.len,
				   TC_ACT_OK, RUNS, REPEAT);
	printf("%-28s %8s\n", "tc_lb path", "ns/pkt");
	printf("%-28s %8llu\n", "established flow (fwd)", (unsigned long long)t_est);
	printf("%-28s %8llu\n", "reverse (reply)", (unsigned long long)t_rev);
	printf("%-28s %8llu\n", "new flow (SYN) *", (unsigned long long)t_new);
	printf("%-28s %8llu\n", "empty TC program", (unsigned long long)t_empty);
	printf("* one packet a run (repeat 1, a fresh flow each): timer granularity included\n");
	rc = t_est && t_rev && t_new && t_empty ? 0 : 1;
out:
	tc_empty_bpf__destroy(empty);
	lb_bpf__destroy(lb);
	return rc;
}
