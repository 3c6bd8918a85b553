// SPDX-License-Identifier: GPL-2.0
/* Bench helper: a VLAN 100 "sub-interface" on a veth for kernels without 8021q (tc egress/ingress).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#ifndef VLAN_NET
#define VLAN_NET 0x0a4d6400 /* 10.77.100.0/24 */
#endif
#define VLAN_ID 100

/* Tags IPv4 packets sent to VLAN_NET/24, as a VLAN device would on transmit. */
SEC("tc")
int vlan_push(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	if ((ip->daddr & bpf_htonl(0xffffff00)) == bpf_htonl(VLAN_NET))
		bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), VLAN_ID);
	return TC_ACT_OK;
}

/* Untags on receive (after packet taps such as tcpdump have seen the tag). */
SEC("tc")
int vlan_pop(struct __sk_buff *skb)
{
	if (skb->vlan_present)
		bpf_skb_vlan_pop(skb);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
