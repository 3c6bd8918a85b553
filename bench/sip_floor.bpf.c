// SPDX-License-Identifier: GPL-2.0
/*
 * The floor of the capability path, for bench/cap_bench.c: the gate's
 * SipHash-2-4-128 (bpf/siphash.h) over a frame that is nothing but a message
 * and its 16-byte tag, and the tag compared. XDP_PASS if it matches.
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
	__u32 len = data_end - data, off;
	const __u64 *t;
	__u64 tag[2];

	if (len < 8 + 16 || len > CG_SIP_MAX_LEN + 16)
		return XDP_ABORTED;
	len -= 16;
	asm volatile("%[x] &= 0x7ff" : [x] "+r"(len));
	if (siphash128_pkt(data, len, data_end, key0, key1, tag))
		return XDP_ABORTED;
	/* As cap_tag_check: the tag's offset must share no bounds with the hash's loop. */
	off = len;
	asm volatile("%[x] &= 0x7ff" : [x] "+r"(off));
	t = data + off;
	if ((void *)(t + 2) > data_end)
		return XDP_ABORTED;
	return (tag[0] ^ t[0]) | (tag[1] ^ t[1]) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
