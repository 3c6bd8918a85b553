/* SPDX-License-Identifier: GPL-2.0 */
/* Capability stage: check a tunnel packet (session, replay, tag, source, scope), decapsulate it;
 * prefilter an encrypted one for the daemon. */
#ifndef CG_BPF_CAP_H
#define CG_BPF_CAP_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "abi/replay.h"
#include "abi/scope.h"
#include "abi/tunnel.h"
#include "bpf/bound.h"
#include "bpf/common.h"
#include "bpf/fw.h"
#include "bpf/parse.h"
#include "bpf/prefix.h"
#include "bpf/siphash.h"

/*
 * Flags the gate handles. Without CG_TUN_F_ENCRYPTED the gate verifies the
 * packet itself (integrity mode); with it (AEAD mode) it prefilters the
 * header and passes the packet whole to the daemon, which opens it. Any other
 * bit is malformed.
 */
#define CG_CAP_FLAGS_SUPPORTED CG_TUN_F_ENCRYPTED

/* The outer Ethernet, VLAN tags and IP header (with options or extension headers) end here. */
#define CG_CAP_MAX_L4_OFF 512

/* A keepalive's UDP length: header, tunnel header, tag (abi/tunnel.h CG_TUN_KEEPALIVE). */
#define CG_CAP_KEEPALIVE_LEN (sizeof(struct udphdr) + CG_TUN_HDR_LEN + CG_TUN_TAG_LEN)

/* Outer UDP length: header, tunnel header, an inner packet of 20..1500 bytes, tag. */
#define CG_CAP_MIN_INNER 20
#define CG_CAP_MAX_INNER (CG_SIP_MAX_LEN - CG_TUN_HDR_LEN)

/*
 * The inner packet at c->pos, @inner_len bytes up to the tag: IPv4 whose
 * total length is exactly @inner_len, or IPv6 whose header plus payload
 * length is, and an L4 header (TCP, UDP, ICMP echo) that is complete and ends
 * before the tag, except for a later fragment (no L4 header). The IP parsers
 * bound every header by the datagram's end, which is then the tag's start.
 * Fills @in. Returns 0, or CG_PARSE_ERR for anything else.
 */
static __always_inline int cap_parse_inner(struct cursor *c, struct cg_pkt *in, __u32 inner_len)
{
	void *start = c->pos;
	struct ipv6hdr *ip6h;
	struct iphdr *iph;
	__u8 *vers = start;

	if ((void *)(vers + 1) > c->end)
		return CG_PARSE_ERR;
	if ((*vers >> 4) == 4) {
		iph = start;
		if ((void *)(iph + 1) > c->end)
			return CG_PARSE_ERR;
		if (bpf_ntohs(iph->tot_len) != inner_len || parse_iphdr(c, in) < 0)
			return CG_PARSE_ERR;
	} else if ((*vers >> 4) == 6) {
		ip6h = start;
		if ((void *)(ip6h + 1) > c->end)
			return CG_PARSE_ERR;
		if (sizeof(*ip6h) + bpf_ntohs(ip6h->payload_len) != inner_len ||
		    parse_ip6hdr(c, in) < 0)
			return CG_PARSE_ERR;
	} else {
		return CG_PARSE_ERR;
	}
	if (in->frag != CG_FRAG_LATER && parse_l4(c, in) < 0)
		return CG_PARSE_ERR;
	return 0;
}

/*
 * The facts abi/scope.h judges, from the parsed inner packet: addresses,
 * family, protocol, later fragment, destination port in host order.
 */
static __always_inline void cap_inner_facts(const struct cg_pkt *in, struct cg_inner *f)
{
	__builtin_memcpy(f->src, in->src, sizeof(f->src) + sizeof(f->dst));
	f->v6 = in->v6;
	f->proto = in->proto;
	f->later_frag = in->frag == CG_FRAG_LATER;
	f->dport = bpf_ntohs(in->dport);
}

/*
 * The session the packet names, or NULL. One indexed load (the map is an
 * array of slots); the entry holds its id, so a stale or forged id whose slot
 * is empty or reused finds nothing. An empty slot holds id 0, which no packet
 * may name.
 *
 * The daemon rewrites a slot in place, under the entry's lock
 * (lib/datapath/sessmap.c), while this program reads it without the lock, so a read
 * can be torn. An install writes the whole entry with id 0 and then the same
 * bytes with the id, so whoever sees the id sees the rest complete. A
 * revocation zeroes the entry: a read torn by it may see the old id with a
 * zero key, so cap_stage checks the id again under the lock before it
 * accepts (the writer held that lock for its whole copy). The scopes are
 * only read under the lock, after that check: xdp_rescope changes them in
 * place under the same lock (abi/tunnel.h, struct cg_rescope). A freed
 * slot rests a second before another session takes it (lib/auth/session.c).
 */
static __always_inline struct cg_session *cap_session(__u32 id)
{
	__u32 slot = CG_SESSION_SLOT(id);
	struct cg_session *s = bpf_map_lookup_elem(&tun_sessions, &slot);

	if (!s || !id || s->id != id)
		return NULL;
	return s;
}

/*
 * What integrity and encrypted mode share after the session is found: its
 * outer source has no drop rule (the gate's step 3, run here so that an
 * unknown session costs one lookup and no rule lookup: it is dropped either
 * way), it has not expired, and the counter is not refused by the replay
 * window. @win is NULL for integrity mode: the window in the session entry,
 * read without the lock on x86 (abi/replay.h says why that refuses nothing
 * the locked check would accept), elsewhere under the lock; it moves only for
 * a packet whose tag verified. For encrypted mode @win is the session's
 * tun_windows entry, which the daemon writes through a mmap: read without a
 * lock on every CPU, as there is none the writer could take (the
 * consequence off x86 is in docs/datapath.md). @gen is gate_config.fw_gen.
 * Returns CG_CONTINUE or the refusal.
 */
static __always_inline int cap_prefilter(struct cg_session *s, __u64 ctr,
					 const struct cg_pkt *outer, __u32 gen,
					 const struct cg_replay_window *win)
{
	int ok;

	/* An allow rule decides nothing here: only this stage may decapsulate. */
	if (fw_check(outer, gen) == CG_STAT_DROP_RULE)
		return CG_STAT_DROP_RULE;
	if (gate_clock() >= s->expires_ns)
		return CG_STAT_DROP_EXPIRED_UNVERIFIED;
	if (win) {
		ok = replay_would_accept(&win->top, win->bitmap, ctr);
	} else {
#ifdef __TARGET_ARCH_x86
		/* x86 keeps loads and stores in order: the read needs no lock (abi/replay.h). */
		ok = replay_would_accept(&s->replay_top, s->replay_bitmap, ctr);
#else
		bpf_spin_lock(&s->lock);
		ok = replay_would_accept(&s->replay_top, s->replay_bitmap, ctr);
		bpf_spin_unlock(&s->lock);
#endif
	}
	if (!ok)
		return CG_STAT_DROP_REPLAY_UNVERIFIED;
	return CG_CONTINUE;
}

/*
 * Encrypted mode: the checks the gate can make without the key (cap_prefilter
 * against the session's tun_windows entry), then PASS_ENCRYPTED: the caller
 * passes the outer packet unchanged to the stack, to the daemon's socket on
 * gate_config.data_port, which opens it, accepts the counter in the window,
 * checks the inner packet (abi/scope.h) and writes it to the TUN. Nothing
 * here is written: a packet racing a revocation is refused by the daemon,
 * whose own session table decides.
 */
static __always_inline int cap_encrypted(struct cg_session *s, __u32 id, __u64 ctr,
					 const struct cg_pkt *outer, __u32 gen)
{
	__u32 slot = CG_SESSION_SLOT(id);
	struct cg_replay_window *win = bpf_map_lookup_elem(&tun_windows, &slot);
	int r;

	/* Cannot happen: both arrays have CG_MAX_SESSIONS slots. */
	if (!win)
		return CG_STAT_DROP_UNKNOWN_SESSION;
	r = cap_prefilter(s, ctr, outer, gen, win);
	return r == CG_CONTINUE ? CG_STAT_PASS_ENCRYPTED : r;
}

/*
 * Strip everything before the inner packet (outer Ethernet, VLAN tags, IP,
 * UDP and the tunnel header) and everything after it (tag, frame padding),
 * and put a fresh Ethernet header in front: the outer MAC addresses, the
 * inner packet's ethertype, no VLAN tag. @inner_off is the inner packet's
 * offset, @tail the bytes after it. Returns 0 or -1.
 */
static __always_inline int cap_decap(struct xdp_md *ctx, __u32 inner_off, __u32 tail, int v6)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u8 macs[2 * ETH_ALEN];

	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(macs, eth, sizeof(macs));
	if (bpf_xdp_adjust_tail(ctx, -(int)tail))
		return -1;
	if (bpf_xdp_adjust_head(ctx, (int)inner_off - ETH_HLEN))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(eth, macs, sizeof(macs));
	eth->h_proto = v6 ? bpf_htons(ETH_P_IPV6) : bpf_htons(ETH_P_IP);
	return 0;
}

/*
 * 1 if the @msg_len bytes at @msg_off in the frame (header || inner packet)
 * are followed by their tag under the key (@k0, @k1); 0 if the tag differs;
 * -1 if the message and tag are not in the frame. A global function: the
 * verifier walks the hash's word loop once, whatever state the caller is in.
 */
__attribute__((noinline)) int cap_tag_check(struct xdp_md *ctx, __u32 msg_off, __u32 msg_len,
					    __u64 k0, __u64 k1)
{
	if (msg_off > CG_CAP_MAX_L4_OFF + 8 || msg_len > CG_SIP_MAX_LEN)
		return -1;
	return siphash128_pkt_check((void *)(long)ctx->data, (void *)(long)ctx->data_end, msg_off,
				    msg_len, k0, k1);
}

/*
 * The tunnel header's checks a data packet and a keepalive share: its @type,
 * rsvd 0, known flags; the session it names (*@s, *@id) and the session's
 * mode, which decides, never the packet's (both directions of a mismatch);
 * the counter (*@ctr). CG_CONTINUE or the refusal.
 */
static __always_inline int cap_header(const struct cg_tun_hdr *h, __u8 type, struct cg_session **s,
				      __u32 *id, __u64 *ctr)
{
	if (h->type != type || h->rsvd || (h->flags & ~CG_CAP_FLAGS_SUPPORTED))
		return CG_STAT_DROP_CAP_MALFORMED;
	*id = bpf_ntohl(h->session);
	*s = cap_session(*id);
	if (!*s)
		return CG_STAT_DROP_UNKNOWN_SESSION;
	if (h->flags != (*s)->flags)
		return CG_STAT_DROP_WRONG_MODE;
	*ctr = bpf_be64_to_cpu(h->counter);
	return CG_CONTINUE;
}

/* 1 if the UDP datagram whose header is at @c's position is as long as a keepalive. */
static __always_inline int cap_is_keepalive(const struct cursor *c)
{
	const struct udphdr *uh = c->pos;

	if ((const void *)(uh + 1) > c->end)
		return 0;
	return bpf_ntohs(uh->len) == CG_CAP_KEEPALIVE_LEN;
}

/*
 * A keepalive (CG_TUN_KEEPALIVE: exactly header and tag), for a UDP packet
 * to gate_config.data_port as long as one (cap_is_keepalive; the arguments
 * as cap_stage's). The data packet's framing, session and mode checks; an
 * encrypted one then goes up as PASS_ENCRYPTED (the daemon opens it); an
 * integrity one gets the drop rule, expiry and window checks, the tag over
 * the header, and under the lock the session, the counter and the endpoint
 * as a data packet does. It goes no further: KEEPALIVE (dropped, counted),
 * or the refusal. A global function of its own: cap_stage's stack has no
 * room for it.
 */
__attribute__((noinline)) int cap_keepalive(struct xdp_md *ctx, const struct cg_pkt *outer,
					    __u32 l4_off, __u32 ip_end, __u32 gen)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct cg_session *s;
	struct cg_tun_hdr *h;
	struct udphdr *uh;
	__u64 ctr;
	__u32 id;
	int ok, r;

	if (!outer || outer->frag != CG_FRAG_NONE || l4_off > CG_CAP_MAX_L4_OFF)
		return CG_STAT_DROP_CAP_MALFORMED;
	bpf_bound(l4_off, 0x3ff);
	uh = data + l4_off;
	h = (void *)(uh + 1);
	if ((void *)(h + 1) + CG_TUN_TAG_LEN > data_end ||
	    bpf_ntohs(uh->len) != CG_CAP_KEEPALIVE_LEN || l4_off + CG_CAP_KEEPALIVE_LEN > ip_end)
		return CG_STAT_DROP_CAP_MALFORMED;
	r = cap_header(h, CG_TUN_KEEPALIVE, &s, &id, &ctr);
	if (r != CG_CONTINUE)
		return r;
	if (h->flags & CG_TUN_F_ENCRYPTED)
		return cap_encrypted(s, id, ctr, outer, gen);
	r = cap_prefilter(s, ctr, outer, gen, NULL);
	if (r != CG_CONTINUE)
		return r;
	r = cap_tag_check(ctx, l4_off + sizeof(*uh), CG_TUN_HDR_LEN, *(__u64 *)&s->key[0],
			  *(__u64 *)&s->key[8]);
	if (r < 0)
		return CG_STAT_DROP_CAP_MALFORMED;
	if (!r)
		return CG_STAT_DROP_BAD_TAG;
	/*
	 * cap_stage's locked accept, without the rx counters. Not one shared
	 * inline function: cap_stage's stack has no 16 bytes to spare for it
	 * (the verifier's 512 for xdp_gate, cap_stage and cap_tag_check).
	 */
	bpf_spin_lock(&s->lock);
	if (s->id != id) {
		bpf_spin_unlock(&s->lock);
		return CG_STAT_DROP_UNKNOWN_SESSION;
	}
	ok = replay_accept(&s->replay_top, s->replay_bitmap, ctr);
	if (ok) {
		__builtin_memcpy(s->ep_addr, outer->src, sizeof(s->ep_addr));
		s->ep_port = uh->source;
	}
	bpf_spin_unlock(&s->lock);
	return ok ? CG_STAT_KEEPALIVE : CG_STAT_DROP_REPLAY;
}

/*
 * The capability stage, for a UDP packet to gate_config.data_port whose UDP
 * header starts @l4_off bytes into the frame (checked by the caller) and
 * whose IP datagram ends @ip_end bytes in (cursor.lim: frame padding
 * follows); @outer is the outer packet as parsed up to layer 3, @gen the rules' generation
 * (gate_config.fw_gen). It always decides: CG_STAT_PASS_CAP (verified and
 * decapsulated: the frame is now Ethernet + the inner packet),
 * CG_STAT_PASS_ENCRYPTED (an encrypted packet prefiltered: the frame is
 * unchanged) or the reason of the refusal, checked in this order
 * (docs/datapath.md):
 *
 *   framing (outer not a fragment, UDP length, header type, flags, rsvd)
 *   -> DROP_CAP_MALFORMED; session -> DROP_UNKNOWN_SESSION; the packet's
 *   flags are the session's (its mode) -> DROP_WRONG_MODE; then encrypted
 *   mode goes to cap_encrypted (drop rule, expiry, replay window read from
 *   tun_windows -> DROP_RULE, DROP_EXPIRED, DROP_REPLAY, or PASS_ENCRYPTED),
 *   integrity mode on: the inner packet
 *   (IPv4/IPv6 consistent with its length, complete L4 header) ->
 *   DROP_CAP_MALFORMED; a drop rule for the outer source (step 3 of the gate)
 *   -> DROP_RULE; expiry -> DROP_EXPIRED; replay window, read only ->
 *   DROP_REPLAY; tag -> DROP_BAD_TAG; inner source = the session's virtual
 *   address -> DROP_SPOOFED_SOURCE; then, under the session's lock, the
 *   entry still holds the session (revoked meanwhile -> DROP_UNKNOWN_SESSION),
 *   scopes -> DROP_OUT_OF_SCOPE, the counter is accepted (a concurrent
 *   duplicate that won the race -> DROP_REPLAY), and the endpoint and rx
 *   counters recorded.
 *   The session comes before the inner packet so that the cheapest refusal
 *   of a flood of forged packets, an unknown session, parses no inner header.
 *
 * A global function: the verifier checks it once, with any arguments,
 * instead of once for every path through the parser that leads here (IP
 * options, extension headers, VLAN tags), and it changes the packet, so the
 * caller may use no packet pointer after the call.
 */
__attribute__((noinline)) int cap_stage(struct xdp_md *ctx, const struct cg_pkt *outer,
					__u32 l4_off, __u32 ip_end, __u32 gen)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 udp_len, msg_len, inner_len, inner_off, tail, id;
	struct cg_inner facts;
	struct cg_session *s;
	struct cg_pkt in = {};
	struct cg_tun_hdr *h;
	struct udphdr *uh;
	struct cursor c;
	__u64 ctr;
	int ok, r;

	if (!outer || outer->frag != CG_FRAG_NONE || l4_off > CG_CAP_MAX_L4_OFF)
		return CG_STAT_DROP_CAP_MALFORMED;

	/* Well-formed: the outer UDP datagram holds header, inner packet and tag. */
	bpf_bound(l4_off, 0x3ff);
	uh = data + l4_off;
	if ((void *)(uh + 1) > data_end)
		return CG_STAT_DROP_CAP_MALFORMED;
	udp_len = bpf_ntohs(uh->len);
	if (udp_len < sizeof(*uh) + CG_TUN_HDR_LEN + CG_CAP_MIN_INNER + CG_TUN_TAG_LEN ||
	    udp_len > sizeof(*uh) + CG_TUN_HDR_LEN + CG_CAP_MAX_INNER + CG_TUN_TAG_LEN ||
	    (void *)uh + udp_len > data_end || l4_off + udp_len > ip_end)
		return CG_STAT_DROP_CAP_MALFORMED;
	h = (void *)(uh + 1);
	if ((void *)(h + 1) > data_end)
		return CG_STAT_DROP_CAP_MALFORMED;
	r = cap_header(h, CG_TUN_DATA, &s, &id, &ctr);
	if (r != CG_CONTINUE)
		return r;
	if (h->flags & CG_TUN_F_ENCRYPTED)
		return cap_encrypted(s, id, ctr, outer, gen);

	msg_len = udp_len - sizeof(*uh) - CG_TUN_TAG_LEN;
	inner_len = msg_len - CG_TUN_HDR_LEN;
	c.pos = h + 1;
	c.end = data_end;
	c.base = data;
	if (cap_parse_inner(&c, &in, inner_len))
		return CG_STAT_DROP_CAP_MALFORMED;
	if (in.ip_optlen) {
		r = ip4_opts_source_route(ctx, l4_off + sizeof(*uh) + CG_TUN_HDR_LEN + 20,
					  in.ip_optlen);
		if (r < 0)
			return CG_STAT_DROP_CAP_MALFORMED;
		in.src_route |= r;
	}
	/* The scope is judged on the destination, which a source route makes a waypoint. */
	if (in.src_route)
		return CG_STAT_DROP_SOURCE_ROUTE;

	inner_off = l4_off + sizeof(*uh) + CG_TUN_HDR_LEN;
	tail = (__u32)(data_end - data) - (inner_off + inner_len);
	r = cap_prefilter(s, ctr, outer, gen, NULL);
	if (r != CG_CONTINUE)
		return r;

	/* Tag: SipHash-2-4-128 over header || inner packet, then the 16 bytes that follow. */
	r = cap_tag_check(ctx, l4_off + sizeof(*uh), msg_len, *(__u64 *)&s->key[0],
			  *(__u64 *)&s->key[8]);
	if (r < 0)
		return CG_STAT_DROP_CAP_MALFORMED;
	if (!r)
		return CG_STAT_DROP_BAD_TAG;

	/* The one definition the daemon applies to decrypted packets too (abi/scope.h). */
	cap_inner_facts(&in, &facts);
	if (!scope_source_ok(&facts, s->vip))
		return CG_STAT_DROP_SPOOFED_SOURCE;

	bpf_spin_lock(&s->lock);
	/* Revoked while this program read the entry: what it read may be torn (cap_session). */
	if (s->id != id) {
		bpf_spin_unlock(&s->lock);
		return CG_STAT_DROP_UNKNOWN_SESSION;
	}
	/* Under the lock: xdp_rescope writes them under it, so this sees one set whole. */
	if (!scope_any(s->scopes, s->nscopes, &facts)) {
		bpf_spin_unlock(&s->lock);
		return CG_STAT_DROP_OUT_OF_SCOPE;
	}
	ok = replay_accept(&s->replay_top, s->replay_bitmap, ctr);
	if (ok) {
		__builtin_memcpy(s->ep_addr, outer->src, sizeof(s->ep_addr));
		s->ep_port = uh->source;
		s->rx_packets++;
		s->rx_bytes += inner_len;
	}
	bpf_spin_unlock(&s->lock);
	/* The tag verified: a real duplicate that raced its twin past the pre-check. */
	if (!ok)
		return CG_STAT_DROP_REPLAY;

	if (cap_decap(ctx, inner_off, tail, in.v6))
		return CG_STAT_DROP_CAP_MALFORMED;
	return CG_STAT_PASS_CAP;
}

#endif
