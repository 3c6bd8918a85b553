// SPDX-License-Identifier: GPL-2.0
/* The floor of a TC program, for bench/lb_bench.c: returns TC_ACT_OK and nothing else. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int tc_empty(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
