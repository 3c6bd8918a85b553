// SPDX-License-Identifier: GPL-2.0
/*
 * The floor of the capability path, for bench/cap_bench.c: the gate's own
 * tag check (bpf/siphash.h, as cap_tag_check calls it) over a frame that is
 * nothing but a message and its 16-byte tag. XDP_PASS if the tag matches.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "bpf/siphash.h"

const volatile __u64 key0; /* the key's bytes 0-7 and 8-15, little-endian */
const volatile __u64 key1;

SEC("xdp")
int sip_floor(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 len = data_end - data;

	if (len < 16 || len > CG_SIP_MAX_LEN + 16)
		return XDP_ABORTED;
	switch (siphash128_pkt_check(data, data_end, 0, len - 16, key0, key1)) {
	case 1:
		return XDP_PASS;
	case 0:
		return XDP_DROP;
	default:
		return XDP_ABORTED;
	}
}

char LICENSE[] SEC("license") = "GPL";
