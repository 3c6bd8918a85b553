// SPDX-License-Identifier: GPL-2.0
/* The capability stage of xdp_gate through BPF_PROG_TEST_RUN: golden packets, every refusal. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sodium.h>

#include "abi/fw.h"
#include "abi/gate.h"
#include "abi/replay.h"
#include "abi/stats.h"
#include "abi/tunnel.h"
#include "gate.skel.h"
#include "tests/bpf/cap_reasons.h"
#include "tests/lib/pkt.h"
#include "lib/base/addr.h"
#include "lib/datapath/sessmap.h"
#include "lib/datapath/window.h"
#include "lib/tunnel/inner.h"
#include "tests/lib/gate_t.h"
#include "tests/lib/t.h"

/* The packet macros below give defaults that a case overrides (.session, .src). */
#pragma GCC diagnostic ignored "-Woverride-init"

/*
 * Every packet is built as a client builds it: an inner IP packet
 * (tests/lib/pkt.c), the 16-byte header in front, the tag from libsodium's
 * crypto_shorthash_siphashx24 over header || inner packet behind, all as the
 * payload of a UDP datagram to DATA_PORT. Each run checks the XDP action,
 * that exactly one gate_stats counter moved (by one packet and the outer
 * frame's bytes) and, for PASS_CAP, the output frame: the outer MAC
 * addresses, the inner ethertype and exactly the inner packet.
 *
 * Sessions: SID4 (virtual address VIP4) may reach TCP 10.10.2.2:80 and :443
 * and UDP 10.10.2.0/24:7; SID6 (VIP6) may reach anything in
 * 2001:db8:10::/64; SIDANY (VIP4) anything at all; SIDENC (VIP4, SID4's
 * scopes) is an encrypted session, its window in tun_windows.
 */

#define DATA_PORT 51900
#define GW4 "192.0.2.1"
#define GW6 "2001:db8::1"
#define C4 "198.51.100.7" /* the client's outer address */
#define C6 "2001:db8:1::7"
#define VIP4 "100.64.0.2"
#define VIP6 "fd00:64::2"
#define WEB "10.10.2.2"
#define ECHO "10.10.2.9"
#define SRV6 "2001:db8:10::80"

#define SID4 0x01020304U
#define SID6 0x0a0b0c0dU
#define SIDANY 0x77U
#define SIDENC 0x0c0c0c05U
#define SEC_NS 1000000000ULL

static const __u8 key4[16] = "0123456789abcdef";
static const __u8 key6[16] = { 0xfe, 0xed, 0xfa, 0xce, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

static struct gate_bpf *skel;
static struct windows *wins; /* tun_windows, mapped as the daemon maps it */
static __u64 reasons_seen;   /* bit per enum cg_stat some run produced as expected */

/* What to send: outer and inner headers, the tunnel header's fields. */
struct tun {
	int ofamily; /* 4 (default) or 6 */
	int nvlan;
	struct pkt_vlan vlan[PKT_MAX_VLAN];
	__u16 sport; /* outer source port, default 40000 */
	struct pkt_spec inner;
	__u32 session;
	__u64 counter;
	__u8 type;     /* default CG_TUN_DATA */
	bool no_inner; /* a keepalive: header and tag only */
	__u8 flags;
	__u16 rsvd;
	const __u8 *key;
	void (*mangle_msg)(__u8 *msg, size_t len); /* before the tag is computed */
};

/* Where things are in a built tunnel packet. */
struct tun_pkt {
	struct pkt p;
	size_t hdr_off; /* tunnel header */
	size_t inner_off;
	size_t inner_len;
	size_t tag_off;
};

static int tun_build(const struct tun *t, struct tun_pkt *out)
{
	__u8 msg[PKT_MAX];
	struct pkt ip;
	struct pkt_spec o = {
		.family = t->ofamily ? t->ofamily : 4,
		.nvlan = t->nvlan,
		.proto = IPPROTO_UDP,
		.sport = t->sport ? t->sport : 40000,
		.dport = DATA_PORT,
	};
	size_t ilen, mlen;
	__u64 ctr = t->counter;
	int i;

	memcpy(o.vlan, t->vlan, sizeof(o.vlan));
	o.src = o.family == 4 ? C4 : C6;
	o.dst = o.family == 4 ? GW4 : GW6;
	if (pkt_build(&t->inner, &ip))
		return -EINVAL;
	ilen = t->no_inner ? 0 : ip.len - ip.l3_off;
	if (ilen + 32 > sizeof(msg))
		return -EINVAL;
	msg[0] = t->type ? t->type : CG_TUN_DATA;
	msg[1] = t->flags;
	msg[2] = t->rsvd >> 8;
	msg[3] = t->rsvd & 0xff;
	msg[4] = t->session >> 24;
	msg[5] = t->session >> 16;
	msg[6] = t->session >> 8;
	msg[7] = t->session;
	for (i = 0; i < 8; i++)
		msg[8 + i] = ctr >> (56 - 8 * i);
	memcpy(msg + 16, ip.data + ip.l3_off, ilen);
	mlen = 16 + ilen;
	if (t->mangle_msg)
		t->mangle_msg(msg, mlen);
	crypto_shorthash_siphashx24(msg + mlen, msg, mlen, t->key ? t->key : key4);
	o.payload = msg;
	o.payload_len = mlen + 16;
	if (pkt_build(&o, &out->p))
		return -EINVAL;
	out->hdr_off = out->p.l4_off + 8;
	out->inner_off = out->hdr_off + 16;
	out->inner_len = ilen;
	out->tag_off = out->inner_off + ilen;
	return 0;
}

/* ---- maps ---------------------------------------------------------------- */

/* Only ever grows, as the daemon's: a cached verdict of an earlier case never counts. */
static __u32 fw_gen = 1;

static void set_cfg(__u16 data_port)
{
	struct gate_config c = {
		.default_action = GATE_DEFAULT_DROP,
		.flow_timeout_ns = 60 * SEC_NS,
		.fw_gen = ++fw_gen,
		.data_port = htons(data_port),
	};
	__u32 zero = 0;

	bpf_map_update_elem(bpf_map__fd(skel->maps.gate_config), &zero, &c, BPF_ANY);
}

static struct cg_scope scope(const char *addr, int plen, __u8 proto, __u16 lo, __u16 hi)
{
	struct cg_scope s = { .proto = proto, .port_lo = lo, .port_hi = hi };

	addr_parse_mapped(addr, s.addr);
	s.plen = strchr(addr, ':') ? plen : 96 + plen;
	return s;
}

/* What path_session_set does to a slot's window before a new session takes it. */
static void window_clear(__u32 slot)
{
	memset(windows_at(wins, slot), 0, sizeof(struct cg_replay_window));
}

static void session_put_mode(__u32 id, const __u8 *key, const char *vip, __u64 expires,
			     const struct cg_scope *sc, int n, __u32 flags)
{
	struct cg_session s;

	memset(&s, 0, sizeof(s));
	s.expires_ns = expires;
	s.id = id;
	s.flags = flags;
	memcpy(s.key, key, 16);
	addr_parse_mapped(vip, s.vip);
	s.nscopes = n;
	memcpy(s.scopes, sc, n * sizeof(*sc));
	sessmap_del(bpf_map__fd(skel->maps.tun_sessions), id); /* a test may replace it */
	/* As the daemon does: a new encrypted session never inherits its slot's window. */
	if (flags & CG_TUN_F_ENCRYPTED)
		window_clear(CG_SESSION_SLOT(id));
	ASSERT_EQ(sessmap_put(bpf_map__fd(skel->maps.tun_sessions), &s), 0, "session installed");
}

static void session_put(__u32 id, const __u8 *key, const char *vip, __u64 expires,
			const struct cg_scope *sc, int n)
{
	session_put_mode(id, key, vip, expires, sc, n, 0);
}

static int session_get(__u32 id, struct cg_session *s)
{
	return sessmap_get(bpf_map__fd(skel->maps.tun_sessions), id, s);
}

static void reset(void)
{
	struct cg_scope s4[] = {
		scope(WEB, 32, IPPROTO_TCP, 80, 80),
		scope(WEB, 32, IPPROTO_TCP, 443, 443),
		scope("10.10.2.0", 24, IPPROTO_UDP, 7, 7),
	};
	struct cg_scope s6[] = { scope("2001:db8:10::", 64, 0, 0, 0) };
	struct cg_scope any[] = { scope("0.0.0.0", 0, 0, 0, 0), scope("::", 0, 0, 0, 0) };
	__u64 exp = gate_now_ns() + 600 * SEC_NS;

	sessmap_clear(bpf_map__fd(skel->maps.tun_sessions));
	gate_map_clear(skel->maps.fw_rules_v4);
	gate_map_clear(skel->maps.fw_rules_v6);
	set_cfg(DATA_PORT);
	session_put(SID4, key4, VIP4, exp, s4, 3);
	session_put(SID6, key6, VIP6, exp, s6, 1);
	session_put(SIDANY, key4, VIP4, exp, any, 2);
	session_put_mode(SIDENC, key4, VIP4, exp, s4, 3, CG_TUN_F_ENCRYPTED);
}

static void rule(const char *addr, __u32 plen, __u32 action)
{
	struct fw_rule_val v = { .action = action, .slot = 1 };
	struct fw_key_v4 k = { .prefixlen = plen };
	struct gate_config c;
	__u32 zero = 0;

	inet_pton(AF_INET, addr, k.addr);
	bpf_map_update_elem(bpf_map__fd(skel->maps.fw_rules_v4), &k, &v, BPF_ANY);
	/* The daemon's generation bump after a rule change. */
	bpf_map_lookup_elem(bpf_map__fd(skel->maps.gate_config), &zero, &c);
	c.fw_gen = ++fw_gen;
	bpf_map_update_elem(bpf_map__fd(skel->maps.gate_config), &zero, &c, BPF_ANY);
}

/* ---- running packets ------------------------------------------------------ */

/*
 * Runs @tp through xdp_gate: the action must follow from @stat, only
 * gate_stats[@stat] may move (one packet, the outer frame's bytes), and a
 * PASS_CAP frame must be Ethernet (outer MACs, inner ethertype) + the inner
 * packet, nothing more.
 */
static bool run(const char *what, const struct tun_pkt *tp, int stat)
{
	struct cg_counter before[CG_STAT_MAX], after[CG_STAT_MAX];
	__u8 out[PKT_MAX + 256];
	int k, want_act = stat < CG_STAT_DROP_MALFORMED ? XDP_PASS : XDP_DROP;
	bool ok = true;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = tp->p.data, .data_size_in = tp->p.len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	gate_sum_stats(skel, before);
	if (!ASSERT_EQ(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xdp_gate), &o), 0, what))
		return false;
	gate_sum_stats(skel, after);
	ok &= ASSERT_EQ(o.retval, want_act, what);
	for (k = 0; k < CG_STAT_MAX; k++) {
		__u64 dp = after[k].packets - before[k].packets;
		__u64 db = after[k].bytes - before[k].bytes;

		if (dp != (k == stat))
			ok &= ASSERT_EQ(dp, k == stat, what) & ASSERT_EQ(k, stat, "counter");
		if (k == stat)
			ok &= ASSERT_EQ(db, tp->p.len, what);
	}
	/* Encrypted: the outer packet goes up whole, to the daemon's data socket. */
	if (ok && stat == CG_STAT_PASS_ENCRYPTED) {
		ok &= ASSERT_EQ(o.data_size_out, tp->p.len, what);
		ok &= ASSERT_MEMEQ(out, tp->p.data, tp->p.len, "packet unchanged");
	}
	if (ok && stat == CG_STAT_PASS_CAP) {
		int v6 = (tp->p.data[tp->inner_off] >> 4) == 6;

		ok &= ASSERT_EQ(o.data_size_out, 14 + tp->inner_len, what);
		ok &= ASSERT_MEMEQ(out, tp->p.data, 12, "MAC addresses");
		ok &= ASSERT_EQ(out[12] << 8 | out[13], v6 ? 0x86dd : 0x0800, "ethertype");
		ok &= ASSERT_MEMEQ(out + 14, tp->p.data + tp->inner_off, tp->inner_len,
				   "inner packet");
	}
	if (ok)
		reasons_seen |= 1ULL << stat;
	return ok;
}

/* Build @t and run it; see run(). */
static bool tsend(const char *what, const struct tun *t, int stat)
{
	struct tun_pkt tp;

	if (!ASSERT_EQ(tun_build(t, &tp), 0, what))
		return false;
	return run(what, &tp, stat);
}

/* Build @t, flip the byte at @off (from the tunnel header; negative: from the tag end), run it. */
static bool tsend_flipped(const char *what, const struct tun *t, long off, int stat)
{
	struct tun_pkt tp;

	if (!ASSERT_EQ(tun_build(t, &tp), 0, what))
		return false;
	if (off >= 0)
		tp.p.data[tp.hdr_off + off] ^= 0x01;
	else
		tp.p.data[tp.tag_off + 16 + off] ^= 0x80;
	return run(what, &tp, stat);
}

/* ---- packets ---------------------------------------------------------------- */

#define IN4(dst_, proto_, dp, ...)                                                      \
	{                                                                               \
		.family = 4, .src = VIP4, .dst = dst_, .proto = proto_, .sport = 50000, \
		.dport = dp, .payload_len = 32, __VA_ARGS__                             \
	}
#define IN6(dst_, proto_, dp, ...)                                                      \
	{                                                                               \
		.family = 6, .src = VIP6, .dst = dst_, .proto = proto_, .sport = 50000, \
		.dport = dp, .payload_len = 32, __VA_ARGS__                             \
	}
#define WEB80 IN4(WEB, IPPROTO_TCP, 80)
#define T4(ctr, inner_, ...)                                                  \
	(struct tun)                                                          \
	{                                                                     \
		.inner = inner_, .session = SID4, .counter = ctr, __VA_ARGS__ \
	}
#define T6(ctr, inner_, ...)                                                               \
	(struct tun)                                                                       \
	{                                                                                  \
		.inner = inner_, .session = SID6, .counter = ctr, .key = key6, __VA_ARGS__ \
	}

/* ---- accept path ------------------------------------------------------------ */

static void test_accept_v4(void)
{
	struct tun t = T4(7, WEB80);
	struct cg_session s;
	__u8 ep[16];

	reset();
	if (!tsend("accept", &t, CG_STAT_PASS_CAP))
		return;
	addr_parse_mapped(C4, ep);
	ASSERT_EQ(session_get(SID4, &s), 0, "session");
	ASSERT_EQ(s.rx_packets, 1, "rx_packets");
	ASSERT_EQ(s.rx_bytes, 20 + 20 + 32, "rx_bytes = inner length");
	ASSERT_MEMEQ(s.ep_addr, ep, 16, "endpoint address");
	ASSERT_EQ(ntohs(s.ep_port), 40000, "endpoint port");
	ASSERT_EQ(s.replay_top, 7, "replay top");
	ASSERT_EQ(s.replay_bitmap[0], 1ULL << 7, "replay bit");
	/* Roaming: the next packet from another port moves the endpoint. */
	t.counter = 8;
	t.sport = 40001;
	tsend("roamed", &t, CG_STAT_PASS_CAP);
	ASSERT_EQ(session_get(SID4, &s), 0, "session");
	ASSERT_EQ(ntohs(s.ep_port), 40001, "endpoint port moved");
	ASSERT_EQ(s.rx_packets, 2, "rx_packets");
	ASSERT_EQ(s.replay_bitmap[0], 3ULL << 7, "replay bits 7, 8");
}

static void test_accept_scopes(void)
{
	reset();
	tsend("tcp 443", &T4(1, IN4(WEB, IPPROTO_TCP, 443)), CG_STAT_PASS_CAP);
	tsend("udp echo /24", &T4(2, IN4(ECHO, IPPROTO_UDP, 7)), CG_STAT_PASS_CAP);
	tsend("ip options", &T4(3, IN4(WEB, IPPROTO_TCP, 80, .ip_opt_len = 8)), CG_STAT_PASS_CAP);
	tsend("v6 any proto", &T6(1, IN6(SRV6, IPPROTO_ICMPV6, 0, .icmp_type = 128)),
	      CG_STAT_PASS_CAP);
	tsend("v6 ext header",
	      &T6(2, IN6(SRV6, IPPROTO_UDP, 53, .next_ext = 1, .ext = { { IPPROTO_DSTOPTS, 8 } })),
	      CG_STAT_PASS_CAP);
}

static void test_accept_v6_outer_v6_inner(void)
{
	struct tun t = T6(5, IN6(SRV6, IPPROTO_TCP, 443), .ofamily = 6);
	struct cg_session s;
	__u8 ep[16];

	reset();
	if (!tsend("v6 in v6", &t, CG_STAT_PASS_CAP))
		return;
	addr_parse_mapped(C6, ep);
	ASSERT_EQ(session_get(SID6, &s), 0, "session");
	ASSERT_MEMEQ(s.ep_addr, ep, 16, "v6 endpoint");
	tsend("v4 in v6", &T4(1, WEB80, .ofamily = 6), CG_STAT_PASS_CAP);
	tsend("v6 in v4", &T6(6, IN6(SRV6, IPPROTO_TCP, 22)), CG_STAT_PASS_CAP);
}

static void test_accept_vlan_outer(void)
{
	reset();
	tsend("802.1Q", &T4(1, WEB80, .nvlan = 1, .vlan = { { 0x8100, 100 } }), CG_STAT_PASS_CAP);
	tsend("Q-in-Q, v6 outer",
	      &T4(2, WEB80, .ofamily = 6, .nvlan = 2, .vlan = { { 0x88a8, 1 }, { 0x8100, 2 } }),
	      CG_STAT_PASS_CAP);
}

/*
 * A later fragment has no ports: it matches on destination and protocol. Its
 * datagram cannot be completed without the first fragment, which the port
 * range judges.
 */
static void test_inner_fragments(void)
{
	reset();
	tsend("first fragment, port in scope",
	      &T4(1, IN4(WEB, IPPROTO_TCP, 80, .frag = 1, .frag_more = 1, .frag_id = 9)),
	      CG_STAT_PASS_CAP);
	tsend("first fragment, port out of scope",
	      &T4(2, IN4(WEB, IPPROTO_TCP, 22, .frag = 1, .frag_more = 1, .frag_id = 10)),
	      CG_STAT_DROP_OUT_OF_SCOPE);
	tsend("later fragment, dst+proto in scope",
	      &T4(3, IN4(WEB, IPPROTO_TCP, 0, .frag = 1, .frag_off = 5, .frag_id = 9, .no_l4 = 1)),
	      CG_STAT_PASS_CAP);
	tsend("later fragment, other dst",
	      &T4(4, IN4("10.10.3.3", IPPROTO_TCP, 0, .frag = 1, .frag_off = 5, .no_l4 = 1)),
	      CG_STAT_DROP_OUT_OF_SCOPE);
	tsend("later fragment, other proto",
	      &T4(5, IN4(WEB, IPPROTO_GRE, 0, .frag = 1, .frag_off = 5, .no_l4 = 1)),
	      CG_STAT_DROP_OUT_OF_SCOPE);
}

/* ---- refusals --------------------------------------------------------------- */

static void test_unknown_session(void)
{
	reset();
	tsend("unknown id", &T4(1, WEB80, .session = 0x99999999), CG_STAT_DROP_UNKNOWN_SESSION);
	/* Its slot holds another session (same low bits) or none (id 0 is "empty"). */
	tsend("slot of another id", &T4(1, WEB80, .session = SID4 ^ 0x80000000U),
	      CG_STAT_DROP_UNKNOWN_SESSION);
	tsend("id 0", &T4(1, WEB80, .session = 0), CG_STAT_DROP_UNKNOWN_SESSION);
	/* Revoked: the daemon emptied the slot. */
	ASSERT_EQ(sessmap_del(bpf_map__fd(skel->maps.tun_sessions), SID4), 0, "revoke");
	tsend("revoked", &T4(1, WEB80), CG_STAT_DROP_UNKNOWN_SESSION);
}

static void test_expired(void)
{
	struct cg_scope s4[] = { scope(WEB, 32, IPPROTO_TCP, 80, 80) };

	reset();
	session_put(SID4, key4, VIP4, gate_now_ns() - SEC_NS, s4, 1);
	tsend("expired", &T4(1, WEB80), CG_STAT_DROP_EXPIRED_UNVERIFIED);
}

static void test_replay(void)
{
	struct cg_session s;

	reset();
	tsend("first", &T4(10000, WEB80), CG_STAT_PASS_CAP);
	tsend("same counter again", &T4(10000, WEB80), CG_STAT_DROP_REPLAY_UNVERIFIED);
	tsend("inside the window", &T4(10000 - CG_REPLAY_BEHIND, WEB80), CG_STAT_PASS_CAP);
	tsend("one behind the window", &T4(10000 - CG_REPLAY_BEHIND - 1, WEB80),
	      CG_STAT_DROP_REPLAY_UNVERIFIED);
	tsend("far behind", &T4(1, WEB80), CG_STAT_DROP_REPLAY_UNVERIFIED);
	tsend("counter 0", &T4(0, WEB80), CG_STAT_DROP_REPLAY_UNVERIFIED);
	tsend("reordered, newer", &T4(10002, WEB80), CG_STAT_PASS_CAP);
	tsend("reordered, older", &T4(10001, WEB80), CG_STAT_PASS_CAP);
	ASSERT_EQ(session_get(SID4, &s), 0, "session");
	ASSERT_EQ(s.rx_packets, 4, "replays not counted");
	ASSERT_EQ(s.replay_top, 10002, "top");
}

static void test_bad_tag(void)
{
	struct tun t = T4(5, WEB80);
	struct cg_session s;

	reset();
	/* Header byte 15: the counter's low byte (5 -> 4), still new to the window. */
	tsend_flipped("header", &t, 15, CG_STAT_DROP_BAD_TAG);
	tsend_flipped("inner payload", &t, 16 + 40 + 3, CG_STAT_DROP_BAD_TAG);
	tsend_flipped("tag first byte", &t, -16, CG_STAT_DROP_BAD_TAG);
	tsend_flipped("tag last byte", &t, -1, CG_STAT_DROP_BAD_TAG);
	tsend("other session's key", &T4(5, WEB80, .key = key6), CG_STAT_DROP_BAD_TAG);
	/* None of them moved the window: the genuine counter 5 and 4 still pass. */
	ASSERT_EQ(session_get(SID4, &s), 0, "session");
	ASSERT_EQ(s.replay_top, 0, "window untouched");
	tsend("genuine", &t, CG_STAT_PASS_CAP);
	tsend("genuine 4", &T4(4, WEB80), CG_STAT_PASS_CAP);
}

static void test_spoofed_source(void)
{
	reset();
	tsend("other inner source", &T4(1, IN4(WEB, IPPROTO_TCP, 80, .src = "100.64.0.3")),
	      CG_STAT_DROP_SPOOFED_SOURCE);
	tsend("v6 source in a v4 session", &T4(2, IN6(SRV6, IPPROTO_TCP, 80)),
	      CG_STAT_DROP_SPOOFED_SOURCE);
	/* Refused after the tag: the window did not move, counter 1 is still good. */
	tsend("genuine", &T4(1, WEB80), CG_STAT_PASS_CAP);
}

static void test_out_of_scope(void)
{
	reset();
	tsend("wrong dst", &T4(1, IN4("10.10.3.3", IPPROTO_TCP, 80)), CG_STAT_DROP_OUT_OF_SCOPE);
	tsend("wrong port", &T4(2, IN4(WEB, IPPROTO_TCP, 22)), CG_STAT_DROP_OUT_OF_SCOPE);
	tsend("wrong proto", &T4(3, IN4(WEB, IPPROTO_UDP, 80)), CG_STAT_DROP_OUT_OF_SCOPE);
	tsend("icmp to a tcp scope", &T4(4, IN4(WEB, IPPROTO_ICMP, 0, .icmp_type = 8)),
	      CG_STAT_DROP_OUT_OF_SCOPE);
	tsend("v6 outside the /64", &T6(1, IN6("2001:db8:11::80", IPPROTO_TCP, 80)),
	      CG_STAT_DROP_OUT_OF_SCOPE);
	tsend("genuine after refusals", &T4(1, WEB80), CG_STAT_PASS_CAP);
}

/*
 * A scope holds packets of its own family only. "::/0" (all of IPv6) covers
 * ::ffff:0:0/96 in the 128-bit space, but must not reach IPv4 hosts (nor the
 * pool: other clients); and an IPv4 scope does not take IPv6 packets to
 * IPv4-mapped addresses, nor may they borrow the IPv4 address as source.
 */
static void test_scope_family(void)
{
	struct cg_scope v6all[] = { scope("::", 0, 0, 0, 0) };
	struct cg_scope v4web[] = { scope(WEB, 32, 0, 0, 0) };
	__u64 exp = gate_now_ns() + 600 * SEC_NS;

	reset();
	session_put(SID4, key4, VIP4, exp, v6all, 1);
	tsend("v4 packet, only ::/0", &T4(1, WEB80), CG_STAT_DROP_OUT_OF_SCOPE);
	tsend("v4 packet to the pool, only ::/0", &T4(2, IN4("100.64.0.3", IPPROTO_TCP, 80)),
	      CG_STAT_DROP_OUT_OF_SCOPE);
	session_put(SID4, key4, VIP4, exp, v4web, 1);
	tsend("v6 to ::ffff:web from ::ffff:vip",
	      &T4(3, IN6("::ffff:" WEB, IPPROTO_TCP, 80, .src = "::ffff:" VIP4)),
	      CG_STAT_DROP_SPOOFED_SOURCE);
	tsend("v4 in scope", &T4(4, WEB80), CG_STAT_PASS_CAP);
	session_put(SID6, key6, VIP6, exp, v4web, 1);
	tsend("v6 to ::ffff:web, v4 scope", &T6(1, IN6("::ffff:" WEB, IPPROTO_TCP, 80)),
	      CG_STAT_DROP_OUT_OF_SCOPE);
}

static void inner_version_5(__u8 *msg, size_t len)
{
	(void)len;
	msg[16] = 0x55;
}

static void inner_tot_len_short(__u8 *msg, size_t len)
{
	(void)len;
	msg[16 + 3] -= 4; /* total length 4 bytes short of what the datagram holds */
}

static void inner_tcp_doff_4(__u8 *msg, size_t len)
{
	(void)len;
	msg[16 + 20 + 12] = 4 << 4;
}

static void test_malformed(void)
{
	struct tun_pkt tp;

	reset();
	tsend("type 3", &T4(1, WEB80, .type = 3), CG_STAT_DROP_CAP_MALFORMED);
	tsend("flags: unknown bit", &T4(1, WEB80, .flags = 0x80), CG_STAT_DROP_CAP_MALFORMED);
	tsend("flags: encrypted and unknown", &T4(1, WEB80, .flags = 0x81, .session = SIDENC),
	      CG_STAT_DROP_CAP_MALFORMED);
	tsend("rsvd set", &T4(1, WEB80, .rsvd = 1), CG_STAT_DROP_CAP_MALFORMED);
	tsend("inner version 5", &T4(1, WEB80, .mangle_msg = inner_version_5),
	      CG_STAT_DROP_CAP_MALFORMED);
	tsend("inner total length", &T4(1, WEB80, .mangle_msg = inner_tot_len_short),
	      CG_STAT_DROP_CAP_MALFORMED);
	tsend("inner tcp doff", &T4(1, WEB80, .mangle_msg = inner_tcp_doff_4),
	      CG_STAT_DROP_CAP_MALFORMED);
	tsend("inner tcp header cut",
	      &T4(1, IN4(WEB, IPPROTO_TCP, 80, .no_l4 = 1, .payload_len = 12)),
	      CG_STAT_DROP_CAP_MALFORMED);
	/* The session is looked up before the inner packet is parsed. */
	tsend("inner total length, unknown session",
	      &T4(1, WEB80, .session = 0x99999999, .mangle_msg = inner_tot_len_short),
	      CG_STAT_DROP_UNKNOWN_SESSION);
	/* Shorter than header + 20-byte inner + tag. */
	if (ASSERT_EQ(tun_build(&T4(1, WEB80), &tp), 0, "build")) {
		__u8 short_payload[40] = { CG_TUN_DATA };
		struct pkt_spec o = { .family = 4,
				      .src = C4,
				      .dst = GW4,
				      .proto = IPPROTO_UDP,
				      .sport = 40000,
				      .dport = DATA_PORT,
				      .payload = short_payload,
				      .payload_len = 40 };

		if (ASSERT_EQ(pkt_build(&o, &tp.p), 0, "short"))
			run("short", &tp, CG_STAT_DROP_CAP_MALFORMED);
	}
	/* An outer fragment: its tag cannot be checked on a part. */
	if (ASSERT_EQ(tun_build(&T4(1, WEB80), &tp), 0, "build")) {
		tp.p.data[tp.p.l3_off + 6] |= 0x20; /* more fragments */
		tp.p.data[tp.p.l3_off + 10] = 0;    /* the checksum is not the gate's business */
		run("outer first fragment", &tp, CG_STAT_DROP_CAP_MALFORMED);
	}
	/* None of these moved the window. */
	tsend("genuine", &T4(1, WEB80), CG_STAT_PASS_CAP);
}

static void inner_rh_segleft_1(__u8 *msg, size_t len)
{
	(void)len;
	msg[16 + 40 + 3] = 1;
}

/* Inner IPv4 options (8 bytes): a loose source route via 10.10.2.2, then END. */
static void inner_lsrr(__u8 *msg, size_t len)
{
	static const __u8 o[8] = { 131, 7, 4, 10, 10, 2, 2, 0 };

	(void)len;
	memcpy(msg + 16 + 20, o, sizeof(o));
}

static void inner_ssrr(__u8 *msg, size_t len)
{
	inner_lsrr(msg, len);
	msg[16 + 20] = 137;
}

/*
 * The scope is judged on the inner destination, which a source route makes
 * a waypoint: the stack would forward the packet to the route's next hop.
 */
static void test_inner_source_route(void)
{
	reset();
	tsend("inner routing header, segments left 1",
	      &T6(1, IN6(SRV6, IPPROTO_UDP, 53, .next_ext = 1, .ext = { { IPPROTO_ROUTING, 24 } }),
		  .mangle_msg = inner_rh_segleft_1),
	      CG_STAT_DROP_SOURCE_ROUTE);
	tsend("routing header, no segments left",
	      &T6(1, IN6(SRV6, IPPROTO_UDP, 53, .next_ext = 1, .ext = { { IPPROTO_ROUTING, 24 } })),
	      CG_STAT_PASS_CAP);
	tsend("inner IPv4 loose source route",
	      &T4(2, IN4(WEB, IPPROTO_TCP, 80, .ip_opt_len = 8), .mangle_msg = inner_lsrr),
	      CG_STAT_DROP_SOURCE_ROUTE);
	tsend("inner IPv4 strict source route",
	      &T4(3, IN4(WEB, IPPROTO_TCP, 80, .ip_opt_len = 8), .mangle_msg = inner_ssrr),
	      CG_STAT_DROP_SOURCE_ROUTE);
	tsend("inner IPv4 options without a route",
	      &T4(4, IN4(WEB, IPPROTO_TCP, 80, .ip_opt_len = 8)), CG_STAT_PASS_CAP);
	tsend("genuine", &T4(1, WEB80), CG_STAT_PASS_CAP);
}

/*
 * The outer UDP datagram lies inside the outer IP datagram: a tag (or more)
 * in the frame's padding after it is not part of the packet.
 */
static void test_outer_udp_past_ip_datagram(void)
{
	struct tun_pkt tp;

	reset();
	if (!ASSERT_EQ(tun_build(&T4(1, WEB80), &tp), 0, "build"))
		return;
	tp.p.data[tp.p.l3_off + 3] -= 16; /* total length: the tag is past the datagram */
	run("tag in the padding", &tp, CG_STAT_DROP_CAP_MALFORMED);
	tsend("genuine", &T4(1, WEB80), CG_STAT_PASS_CAP);
}

/* ---- interplay with the rest of the gate ------------------------------------ */

static void test_drop_rule_beats_tunnel(void)
{
	reset();
	rule("198.51.100.0", 24, FW_ACT_DROP);
	tsend("valid packet, dropped source", &T4(1, WEB80), CG_STAT_DROP_RULE);
	/* The stage checks form and session before the rules: dropped either way. */
	tsend("unknown session, dropped source", &T4(2, WEB80, .session = 0x99999999),
	      CG_STAT_DROP_UNKNOWN_SESSION);
	tsend("malformed, dropped source", &T4(2, WEB80, .flags = 0x80),
	      CG_STAT_DROP_CAP_MALFORMED);
	/* The drop rule refused before the replay window was read or moved. */
	rule("198.51.100.0", 24, FW_ACT_ALLOW);
	tsend("rule lifted: counter 1 still fresh", &T4(1, WEB80), CG_STAT_PASS_CAP);
}

static void test_allow_rule_still_verified(void)
{
	reset();
	rule("198.51.100.0", 24, FW_ACT_ALLOW);
	tsend("allowed source: decapsulated", &T4(1, WEB80), CG_STAT_PASS_CAP);
	tsend("allowed source: still refused", &T4(1, WEB80), CG_STAT_DROP_REPLAY_UNVERIFIED);
}

static void test_stage_off(void)
{
	reset();
	set_cfg(0);
	tsend("data_port 0: ordinary UDP", &T4(1, WEB80), CG_STAT_DROP_DEFAULT);
}

/*
 * The BPF SipHash against libsodium's for every message length the stage
 * can see: an inner IPv4 packet of every total length 20..1500 (messages of
 * 36..1516 bytes, every remainder mod 8 and every word count) and an inner
 * IPv6 packet of every length 40..1500, each tagged by libsodium, must pass.
 * (A shorter message is malformed before it is hashed.) The payload is a
 * byte pattern that differs from length to length.
 */
static void test_siphash_every_length(void)
{
	static __u8 payload[1500];
	int len, fails = 0, i;

	reset();
	for (len = 20; len <= 1500 && fails < 5; len++) {
		struct tun t =
			T4(len, IN4(WEB, 253, 0, .payload_len = len - 20, .payload = payload),
			   .session = SIDANY);

		for (i = 0; i < len; i++)
			payload[i] = (__u8)(i * 7 + len);
		if (!tsend("v4 length", &t, CG_STAT_PASS_CAP)) {
			fprintf(stderr, "  inner length %d\n", len);
			fails++;
		}
	}
	for (len = 40; len <= 1500 && fails < 5; len++) {
		struct tun t =
			T6(len, IN6(SRV6, 253, 0, .payload_len = len - 40, .payload = payload));

		if (!tsend("v6 length", &t, CG_STAT_PASS_CAP)) {
			fprintf(stderr, "  inner length %d\n", len);
			fails++;
		}
	}
}

/*
 * Counted apart: a packet refused by the replay window before its tag is
 * checked is replay_unverified (anyone who saw a session id can send one);
 * replay is a packet whose tag verified and whose counter a twin took first.
 * Two threads on two CPUs send the same packet at once, round after round,
 * until one round shows a verified duplicate (or the deadline). Every round
 * accepts exactly one copy.
 */
#define RACE_ROUNDS_MAX 200000
#define RACE_DEADLINE_S 20

static struct tun_pkt race_pkt;
static atomic_int race_go, race_done;
static int race_prog;

static void race_pin(int cpu)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	sched_setaffinity(0, sizeof(one), &one);
}

static void race_send(void)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = race_pkt.p.data,
		    .data_size_in = race_pkt.p.len, .repeat = 1);

	bpf_prog_test_run_opts(race_prog, &o);
}

static void *race_twin(void *arg)
{
	int round;

	race_pin(1);
	for (round = 1;; round++) {
		while (atomic_load(&race_go) < round)
			;
		if (atomic_load(&race_go) > RACE_ROUNDS_MAX)
			return arg;
		race_send();
		atomic_store(&race_done, round);
	}
}

static void test_verified_replay(void)
{
	struct cg_counter before[CG_STAT_MAX], after[CG_STAT_MAX];
	struct tun t = T4(1, IN4(WEB, IPPROTO_TCP, 80, .payload_len = 1400));
	time_t end = time(NULL) + RACE_DEADLINE_S;
	__u64 verified = 0, rounds;
	pthread_t twin;
	int round;

	if (libbpf_num_possible_cpus() < 2 || sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		T_SKIP("needs two CPUs");
		return;
	}
	reset();
	race_prog = bpf_program__fd(skel->progs.xdp_gate);
	atomic_store(&race_go, 0);
	atomic_store(&race_done, 0);
	if (!ASSERT_EQ(pthread_create(&twin, NULL, race_twin, NULL), 0, "twin thread"))
		return;
	race_pin(0);
	gate_sum_stats(skel, before);
	for (round = 1; round <= RACE_ROUNDS_MAX && !verified && time(NULL) < end; round++) {
		t.counter = (__u64)round;
		if (tun_build(&t, &race_pkt))
			break;
		atomic_store(&race_go, round);
		race_send();
		while (atomic_load(&race_done) < round)
			;
		if (round % 64 == 0) {
			gate_sum_stats(skel, after);
			verified = after[CG_STAT_DROP_REPLAY].packets -
				   before[CG_STAT_DROP_REPLAY].packets;
		}
	}
	atomic_store(&race_go, RACE_ROUNDS_MAX + 1);
	pthread_join(twin, NULL);
	gate_sum_stats(skel, after);
	rounds = (__u64)round - 1;
	verified = after[CG_STAT_DROP_REPLAY].packets - before[CG_STAT_DROP_REPLAY].packets;
	ASSERT_EQ(after[CG_STAT_PASS_CAP].packets - before[CG_STAT_PASS_CAP].packets, rounds,
		  "one copy accepted per round");
	ASSERT_EQ(verified + after[CG_STAT_DROP_REPLAY_UNVERIFIED].packets -
			  before[CG_STAT_DROP_REPLAY_UNVERIFIED].packets,
		  rounds, "the other refused as a replay");
	if (ASSERT_TRUE(verified > 0, "a verified duplicate was counted apart"))
		reasons_seen |= 1ULL << CG_STAT_DROP_REPLAY;
	fprintf(stderr, "  %llu rounds, %llu verified duplicates\n", (unsigned long long)rounds,
		(unsigned long long)verified);
}

/* ---- new scopes for a live session (xdp_rescope) ---------------------------- */

static int rescope(__u32 id, const struct cg_scope *sc, __u32 n)
{
	return sessmap_set_scopes(bpf_program__fd(skel->progs.xdp_rescope), id, sc, n);
}

/* New scopes apply at once; the window, endpoint and counters the gate wrote are kept. */
static void test_rescope(void)
{
	struct cg_scope dns[] = { scope("10.10.9.0", 24, IPPROTO_UDP, 53, 53) };
	struct cg_scope many[CG_MAX_SCOPES + 1];
	struct cg_session before, after;

	reset();
	tsend("in scope", &T4(5, WEB80, .sport = 40007), CG_STAT_PASS_CAP);
	ASSERT_EQ(session_get(SID4, &before), 0, "session");
	ASSERT_EQ(rescope(SID4, dns, 1), 0, "rescoped");
	ASSERT_EQ(session_get(SID4, &after), 0, "session");
	ASSERT_EQ(after.nscopes, 1, "nscopes");
	ASSERT_MEMEQ(after.scopes, dns, sizeof(dns), "the new scope");
	ASSERT_TRUE(after.scopes[1].plen == 0 && after.scopes[2].proto == 0, "the rest zeroed");
	ASSERT_EQ(after.replay_top, before.replay_top, "window top kept");
	ASSERT_MEMEQ(after.replay_bitmap, before.replay_bitmap, sizeof(after.replay_bitmap),
		     "window bits kept");
	ASSERT_EQ(after.rx_packets, 1, "rx_packets kept");
	ASSERT_EQ(ntohs(after.ep_port), 40007, "endpoint kept");
	ASSERT_MEMEQ(after.key, key4, 16, "key kept");
	tsend("the same counter again", &T4(5, IN4("10.10.9.9", IPPROTO_UDP, 53)),
	      CG_STAT_DROP_REPLAY_UNVERIFIED);
	tsend("old scope", &T4(6, WEB80), CG_STAT_DROP_OUT_OF_SCOPE);
	tsend("new scope", &T4(7, IN4("10.10.9.9", IPPROTO_UDP, 53)), CG_STAT_PASS_CAP);
	ASSERT_EQ(rescope(SID4 + CG_MAX_SESSIONS, dns, 1), -ENOENT, "another id in the slot");
	ASSERT_EQ(rescope(0x0badf00dU, dns, 1), -ENOENT, "an empty slot");
	ASSERT_EQ(rescope(SID4, many, CG_MAX_SCOPES + 1), -EINVAL, "too many scopes");
	ASSERT_EQ(session_get(SID4, &after), 0, "session");
	ASSERT_EQ(after.nscopes, 1, "a refusal changed nothing");
}

/*
 * Rescopes racing the gate on the other CPU: a rescope written as a read and
 * a write of the whole entry put the replay window back as it was read, so
 * a packet accepted in between passed again. Each round sends a fresh
 * counter, then the same packet: the copy must never pass, and no packet
 * may match a mix of the two sets: A's address with B's protocol and port,
 * or (the IPv6 session, where an all-zero scope is ::/0, any protocol) a
 * zeroed scope while nscopes is still A's 3.
 */
#define RESCOPE_ROUNDS 40000
#define RESCOPE_DEADLINE_S 20

static atomic_int rescope_stop;
static atomic_long rescopes_done;

static void *rescoper(void *arg)
{
	struct cg_scope a[] = {
		scope(WEB, 32, IPPROTO_TCP, 80, 80),
		scope(WEB, 32, IPPROTO_TCP, 443, 443),
		scope("10.10.2.0", 24, IPPROTO_UDP, 7, 7),
	};
	struct cg_scope b[] = { scope("10.10.9.0", 24, IPPROTO_UDP, 53, 53) };
	struct cg_scope a6[] = {
		scope("2001:db8:10::", 64, IPPROTO_TCP, 80, 80),
		scope("2001:db8:11::", 64, IPPROTO_TCP, 443, 443),
		scope("2001:db8:12::", 64, IPPROTO_UDP, 7, 7),
	};
	struct cg_scope b6[] = { scope("2001:db8:20::", 64, IPPROTO_UDP, 53, 53) };
	long i;

	race_pin(1);
	for (i = 0; !atomic_load(&rescope_stop); i++) {
		if (rescope(SID4, i & 1 ? b : a, i & 1 ? 1 : 3) ||
		    rescope(SID6, i & 1 ? b6 : a6, i & 1 ? 1 : 3))
			return arg;
		atomic_store(&rescopes_done, i + 1);
	}
	return NULL;
}

/* XDP verdict of @t through xdp_gate, -1 if it could not run. */
static int verdict(const struct tun *t)
{
	struct tun_pkt tp;
	LIBBPF_OPTS(bpf_test_run_opts, o, .repeat = 1);

	if (tun_build(t, &tp))
		return -1;
	o.data_in = tp.p.data;
	o.data_size_in = tp.p.len;
	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xdp_gate), &o))
		return -1;
	return (int)o.retval;
}

static void test_rescope_race(void)
{
	time_t end = time(NULL) + RESCOPE_DEADLINE_S;
	long round, passed = 0, replayed = 0, mixed = 0, failed = 0;
	__u64 ctr = 1;
	pthread_t th;
	void *thr;

	if (libbpf_num_possible_cpus() < 2 || sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		T_SKIP("needs two CPUs");
		return;
	}
	reset();
	atomic_store(&rescope_stop, 0);
	atomic_store(&rescopes_done, 0);
	if (!ASSERT_EQ(pthread_create(&th, NULL, rescoper, NULL), 0, "rescoper thread"))
		return;
	race_pin(0);
	for (round = 0; round < RESCOPE_ROUNDS && time(NULL) < end; round++) {
		struct tun t = T4(ctr++, WEB80);
		int v = verdict(&t);

		failed += v < 0;
		if (v == XDP_PASS) {
			passed++;
			replayed += verdict(&t) == XDP_PASS;
		}
		t = T4(ctr++, IN4("10.10.9.9", IPPROTO_TCP, 80));
		mixed += verdict(&t) == XDP_PASS;
		t = T6(ctr++, IN6("2001:db8:20::9", IPPROTO_TCP, 80));
		mixed += verdict(&t) == XDP_PASS;
		t = T6(ctr++, IN6("2001:db8:99::1", IPPROTO_ICMPV6, 0, .icmp_type = 128));
		mixed += verdict(&t) == XDP_PASS;
	}
	atomic_store(&rescope_stop, 1);
	pthread_join(th, &thr);
	ASSERT_TRUE(thr == NULL, "every rescope succeeded");
	ASSERT_EQ(failed, 0, "every packet ran");
	ASSERT_EQ(replayed, 0, "no accepted packet passed twice");
	ASSERT_EQ(mixed, 0, "no packet matched a mix of the two sets");
	ASSERT_TRUE(passed > 0 && passed < round, "rounds in both sets");
	ASSERT_TRUE(atomic_load(&rescopes_done) > round / 4, "rescopes raced the rounds");
	fprintf(stderr, "  %ld rounds, %ld passed, %ld rescopes\n", round, passed,
		atomic_load(&rescopes_done));
}

/* ---- encrypted mode: the prefilter ------------------------------------------ */

/*
 * Stands for the AEAD ciphertext: the gate has no key and never reads it, so
 * any bytes do; these do not parse as an IP packet (version 0xa), which shows
 * the stage does not look at them.
 */
static void scramble(__u8 *msg, size_t len)
{
	size_t i;

	for (i = 16; i < len; i++)
		msg[i] ^= (__u8)(0xa5 + i);
}

#define E4(ctr, ...)                                                                           \
	T4(ctr, WEB80, .session = SIDENC, .flags = CG_TUN_F_ENCRYPTED, .mangle_msg = scramble, \
	   __VA_ARGS__)

static struct cg_replay_window *enc_window(void)
{
	return windows_at(wins, CG_SESSION_SLOT(SIDENC));
}

static void test_encrypted_pass(void)
{
	struct cg_replay_window before, *w = enc_window();
	struct cg_session s;

	reset();
	memcpy(&before, w, sizeof(before));
	tsend("valid header", &E4(1), CG_STAT_PASS_ENCRYPTED);
	tsend("v6 outer", &E4(2, .ofamily = 6), CG_STAT_PASS_ENCRYPTED);
	tsend("802.1Q outer", &E4(3, .nvlan = 1, .vlan = { { 0x8100, 100 } }),
	      CG_STAT_PASS_ENCRYPTED);
	tsend("1500-byte inner",
	      &E4(4, .inner = IN4(WEB, IPPROTO_TCP, 80, .payload_len = 1500 - 40)),
	      CG_STAT_PASS_ENCRYPTED);
	/* The gate wrote nothing: the window and the session are the daemon's to move. */
	ASSERT_MEMEQ(w, &before, sizeof(before), "window untouched by the gate");
	ASSERT_EQ(session_get(SIDENC, &s), 0, "session");
	ASSERT_EQ(s.rx_packets, 0, "no rx counted by the gate");
	ASSERT_EQ(s.replay_top, 0, "session's own window unused");
	tsend("same counter again: not yet accepted", &E4(1), CG_STAT_PASS_ENCRYPTED);
}

static void test_encrypted_refusals(void)
{
	struct cg_scope s4[] = { scope(WEB, 32, IPPROTO_TCP, 80, 80) };

	reset();
	tsend("unknown session", &E4(1, .session = 0x99999999), CG_STAT_DROP_UNKNOWN_SESSION);
	tsend("slot of another id", &E4(1, .session = SIDENC ^ 0x80000000U),
	      CG_STAT_DROP_UNKNOWN_SESSION);
	tsend("rsvd set", &E4(1, .rsvd = 1), CG_STAT_DROP_CAP_MALFORMED);
	tsend("type 2 (keepalive) with an inner packet", &E4(1, .type = 2),
	      CG_STAT_DROP_CAP_MALFORMED);
	tsend("smallest inner, 20 bytes",
	      &E4(1, .inner = IN4(WEB, 253, 0, .payload_len = 0), .mangle_msg = NULL),
	      CG_STAT_PASS_ENCRYPTED);
	rule("198.51.100.0", 24, FW_ACT_DROP);
	tsend("drop rule for the outer source", &E4(1), CG_STAT_DROP_RULE);
	rule("198.51.100.0", 24, FW_ACT_ALLOW);
	tsend("allow rule: still prefiltered", &E4(1), CG_STAT_PASS_ENCRYPTED);
	session_put_mode(SIDENC, key4, VIP4, gate_now_ns() - SEC_NS, s4, 1, CG_TUN_F_ENCRYPTED);
	tsend("expired", &E4(1), CG_STAT_DROP_EXPIRED_UNVERIFIED);
}

/* The session's mode decides: a packet of the other mode is refused, both ways. */
static void test_wrong_mode(void)
{
	reset();
	tsend("encrypted packet, integrity session", &E4(1, .session = SID4),
	      CG_STAT_DROP_WRONG_MODE);
	tsend("integrity packet (valid tag), encrypted session", &T4(1, WEB80, .session = SIDENC),
	      CG_STAT_DROP_WRONG_MODE);
	/* Neither moved a window. */
	tsend("integrity session still fresh", &T4(1, WEB80), CG_STAT_PASS_CAP);
	tsend("encrypted session still fresh", &E4(1), CG_STAT_PASS_ENCRYPTED);
}

/*
 * Keepalives: header and tag only. Integrity: verified in XDP, the window
 * and the endpoint move, the packet ends there (KEEPALIVE); encrypted: the
 * daemon opens it (PASS_ENCRYPTED). A keepalive with an inner packet, or a
 * data packet without one, is malformed.
 */
static void test_keepalive(void)
{
	struct cg_session s;

	reset();
	tsend("integrity keepalive", &T4(5, WEB80, .type = CG_TUN_KEEPALIVE, .no_inner = true),
	      CG_STAT_KEEPALIVE);
	ASSERT_EQ(session_get(SID4, &s), 0, "session");
	ASSERT_EQ(s.replay_top, 5, "the window moved");
	ASSERT_EQ(ntohs(s.ep_port), 40000, "the endpoint recorded");
	tsend("replayed keepalive",
	      &T4(5, WEB80, .type = CG_TUN_KEEPALIVE, .no_inner = true, .sport = 40001),
	      CG_STAT_DROP_REPLAY_UNVERIFIED);
	tsend_flipped("keepalive with a flipped tag",
		      &T4(6, WEB80, .type = CG_TUN_KEEPALIVE, .no_inner = true, .sport = 40001), -1,
		      CG_STAT_DROP_BAD_TAG);
	tsend("keepalive under another key",
	      &T4(7, WEB80, .type = CG_TUN_KEEPALIVE, .no_inner = true, .sport = 40001,
		  .key = key6),
	      CG_STAT_DROP_BAD_TAG);
	ASSERT_EQ(session_get(SID4, &s), 0, "session");
	ASSERT_EQ(ntohs(s.ep_port), 40000, "refused keepalives moved no endpoint");
	tsend("keepalive from a new port (a NAT rebound)",
	      &T4(8, WEB80, .type = CG_TUN_KEEPALIVE, .no_inner = true, .sport = 40002),
	      CG_STAT_KEEPALIVE);
	ASSERT_EQ(session_get(SID4, &s), 0, "session");
	ASSERT_EQ(ntohs(s.ep_port), 40002, "the endpoint follows");
	tsend("keepalive, unknown session",
	      &T4(9, WEB80, .type = CG_TUN_KEEPALIVE, .no_inner = true, .session = 0x5555),
	      CG_STAT_DROP_UNKNOWN_SESSION);
	tsend("keepalive carrying an inner packet", &T4(10, WEB80, .type = CG_TUN_KEEPALIVE),
	      CG_STAT_DROP_CAP_MALFORMED);
	tsend("data packet without an inner packet", &T4(11, WEB80, .no_inner = true),
	      CG_STAT_DROP_CAP_MALFORMED);
	tsend("encrypted keepalive: to the daemon",
	      &E4(1, .type = CG_TUN_KEEPALIVE, .no_inner = true), CG_STAT_PASS_ENCRYPTED);
	tsend("keepalive of the other mode",
	      &T4(12, WEB80, .type = CG_TUN_KEEPALIVE, .no_inner = true, .session = SIDENC),
	      CG_STAT_DROP_WRONG_MODE);
}

/*
 * The window shared by user space and the XDP view: counters accepted
 * through the mmap with replay_accept(), as the daemon's worker does after a
 * packet opened, are refused by the gate at once; fresh ones pass.
 */
static void test_encrypted_window_shared(void)
{
	static const __u64 accepted[] = { 8900, 8899, 9000, 8937 };
	struct cg_replay_window *w = enc_window();
	size_t i;

	reset();
	if (!ASSERT_TRUE(w != NULL, "window of the slot"))
		return;
	ASSERT_EQ(w->top, 0, "reset before install");
	for (i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
		ASSERT_TRUE(replay_accept(&w->top, w->bitmap, accepted[i]),
			    "accepted in user space");
	for (i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
		tsend("accepted by user space", &E4(accepted[i]), CG_STAT_DROP_REPLAY_UNVERIFIED);
	tsend("counter 0", &E4(0), CG_STAT_DROP_REPLAY_UNVERIFIED);
	tsend("behind the window", &E4(9000 - CG_REPLAY_BEHIND - 1),
	      CG_STAT_DROP_REPLAY_UNVERIFIED);
	tsend("inside the window, fresh", &E4(9000 - CG_REPLAY_BEHIND), CG_STAT_PASS_ENCRYPTED);
	tsend("fresh, between", &E4(8950), CG_STAT_PASS_ENCRYPTED);
	tsend("fresh, ahead", &E4(9001), CG_STAT_PASS_ENCRYPTED);
	/* The daemon accepts one more: the very next lookup sees it. */
	ASSERT_TRUE(replay_accept(&w->top, w->bitmap, 9001), "accepted in user space");
	tsend("just accepted", &E4(9001), CG_STAT_DROP_REPLAY_UNVERIFIED);
	/* A new session in the slot starts from an empty window. */
	window_clear(CG_SESSION_SLOT(SIDENC));
	tsend("after the window was cleared", &E4(9001), CG_STAT_PASS_ENCRYPTED);
	tsend("after the window was cleared, old", &E4(8899), CG_STAT_PASS_ENCRYPTED);
}

static void test_windows_open_checks(void)
{
	errno = 0;
	ASSERT_TRUE(windows_open(bpf_map__fd(skel->maps.tun_sessions)) == NULL, "not tun_windows");
	ASSERT_EQ(errno, EINVAL, "EINVAL");
	ASSERT_TRUE(windows_open(-1) == NULL, "bad fd");
	ASSERT_TRUE(windows_at(wins, CG_MAX_SESSIONS) == NULL, "past the end");
	ASSERT_TRUE(windows_at(wins, CG_MAX_SESSIONS - 1) != NULL, "last slot");
}

/* ---- one inner check: the gate and lib/tunnel/inner.c agree ------------------ */

static void inner_ihl_4(__u8 *msg, size_t len)
{
	(void)len;
	msg[16] = 0x44;
}

static void inner_v6_plen_short(__u8 *msg, size_t len)
{
	(void)len;
	msg[16 + 5] -= 1;
}

/* Puts the 8 bytes @o in place of the inner IPv4 packet's 8 option bytes. */
static void inner_opts(__u8 *msg, const __u8 o[8])
{
	memcpy(msg + 16 + 20, o, 8);
}

/* Record route (7) with length 1. */
static void inner_opt_len_1(__u8 *msg, size_t len)
{
	(void)len;
	inner_opts(msg, (const __u8[8]){ 7, 1 });
}

/* Record route whose length (12) runs past the 8 option bytes. */
static void inner_opt_past_end(__u8 *msg, size_t len)
{
	(void)len;
	inner_opts(msg, (const __u8[8]){ 7, 12 });
}

/* NOOPs, then a last byte that is an option type with no room for its length. */
static void inner_opt_last_byte(__u8 *msg, size_t len)
{
	(void)len;
	inner_opts(msg, (const __u8[8]){ 1, 1, 1, 1, 1, 1, 1, 7 });
}

/* NOOP, END, then a source route after END: not looked at (as Linux). */
static void inner_opt_lsrr_after_end(__u8 *msg, size_t len)
{
	(void)len;
	inner_opts(msg, (const __u8[8]){ 1, 0, 131, 7, 4, 10, 10, 2 });
}

/* The first extension header claims 1608 bytes. */
static void inner_ext_past_end(__u8 *msg, size_t len)
{
	(void)len;
	msg[16 + 40 + 1] = 200;
}

#define DST7                       \
	{                          \
		IPPROTO_DSTOPTS, 8 \
	}

struct inner_row {
	const char *name;
	struct tun t;
	enum tun_verdict want;
};

/*
 * Every row runs through the gate in integrity mode (its verdict from the
 * counter that moved) and through inner_parse + inner_check with the very
 * session entry the gate read: both must give the row's verdict.
 */
static const struct inner_row inner_rows[] = {
	{ "v4 tcp", T4(0, WEB80), TUN_OK },
	{ "v4 udp /24", T4(0, IN4(ECHO, IPPROTO_UDP, 7)), TUN_OK },
	{ "v4 icmp echo", T4(0, IN4(WEB, IPPROTO_ICMP, 0, .icmp_type = 8), .session = SIDANY),
	  TUN_OK },
	{ "v4 icmp other", T4(0, IN4(WEB, IPPROTO_ICMP, 0, .icmp_type = 3), .session = SIDANY),
	  TUN_OK },
	{ "v4 gre, no l4", T4(0, IN4(WEB, IPPROTO_GRE, 0), .session = SIDANY), TUN_OK },
	{ "v6 tcp", T6(0, IN6(SRV6, IPPROTO_TCP, 443)), TUN_OK },
	{ "v6 udp", T6(0, IN6(SRV6, IPPROTO_UDP, 53)), TUN_OK },
	{ "v6 icmpv6", T6(0, IN6(SRV6, IPPROTO_ICMPV6, 0, .icmp_type = 128)), TUN_OK },
	{ "v6 icmp (v4's) in v6", T6(0, IN6(SRV6, IPPROTO_ICMP, 0, .no_l4 = 1, .payload_len = 2)),
	  TUN_OK },
	{ "v6 dstopts", T6(0, IN6(SRV6, IPPROTO_UDP, 53, .next_ext = 1, .ext = { DST7 })), TUN_OK },
	{ "v6 six ext headers",
	  T6(0, IN6(SRV6, IPPROTO_UDP, 53, .next_ext = 6,
		    .ext = { DST7, DST7, DST7, DST7, DST7, DST7 })),
	  TUN_OK },
	{ "v6 seven ext headers",
	  T6(0, IN6(SRV6, IPPROTO_UDP, 53, .next_ext = 7,
		    .ext = { DST7, DST7, DST7, DST7, DST7, DST7, DST7 })),
	  TUN_SHORT },
	{ "v6 ext header past the packet",
	  T6(0, IN6(SRV6, IPPROTO_UDP, 53, .next_ext = 1, .ext = { DST7 }),
	     .mangle_msg = inner_ext_past_end),
	  TUN_SHORT },
	{ "v4 options, no route", T4(0, IN4(WEB, IPPROTO_TCP, 80, .ip_opt_len = 8)), TUN_OK },
	{ "v4 lsrr", T4(0, IN4(WEB, IPPROTO_TCP, 80, .ip_opt_len = 8), .mangle_msg = inner_lsrr),
	  TUN_SOURCE_ROUTE },
	{ "v4 ssrr", T4(0, IN4(WEB, IPPROTO_TCP, 80, .ip_opt_len = 8), .mangle_msg = inner_ssrr),
	  TUN_SOURCE_ROUTE },
	{ "v4 lsrr after END",
	  T4(0, IN4(WEB, IPPROTO_TCP, 80, .ip_opt_len = 8), .mangle_msg = inner_opt_lsrr_after_end),
	  TUN_OK },
	{ "v4 option length 1",
	  T4(0, IN4(WEB, IPPROTO_TCP, 80, .ip_opt_len = 8), .mangle_msg = inner_opt_len_1),
	  TUN_SHORT },
	{ "v4 option past the end",
	  T4(0, IN4(WEB, IPPROTO_TCP, 80, .ip_opt_len = 8), .mangle_msg = inner_opt_past_end),
	  TUN_SHORT },
	{ "v4 option in the last byte",
	  T4(0, IN4(WEB, IPPROTO_TCP, 80, .ip_opt_len = 8), .mangle_msg = inner_opt_last_byte),
	  TUN_SHORT },
	{ "v4 40 option bytes", T4(0, IN4(WEB, IPPROTO_TCP, 80, .ip_opt_len = 40)), TUN_OK },
	{ "v6 routing header, segments left",
	  T6(0, IN6(SRV6, IPPROTO_UDP, 53, .next_ext = 1, .ext = { { IPPROTO_ROUTING, 24 } }),
	     .mangle_msg = inner_rh_segleft_1),
	  TUN_SOURCE_ROUTE },
	{ "v6 routing header, none left",
	  T6(0, IN6(SRV6, IPPROTO_UDP, 53, .next_ext = 1, .ext = { { IPPROTO_ROUTING, 24 } })),
	  TUN_OK },
	{ "v4 first fragment",
	  T4(0, IN4(WEB, IPPROTO_TCP, 80, .frag = 1, .frag_more = 1, .frag_id = 9)), TUN_OK },
	{ "v4 first fragment, port out of scope",
	  T4(0, IN4(WEB, IPPROTO_TCP, 22, .frag = 1, .frag_more = 1)), TUN_OUT_OF_SCOPE },
	{ "v4 first fragment, tcp cut",
	  T4(0, IN4(WEB, IPPROTO_TCP, 80, .frag = 1, .frag_more = 1, .no_l4 = 1, .payload_len = 8)),
	  TUN_SHORT },
	{ "v4 later fragment",
	  T4(0, IN4(WEB, IPPROTO_TCP, 0, .frag = 1, .frag_off = 5, .no_l4 = 1, .payload_len = 3)),
	  TUN_OK },
	{ "v4 later fragment, other dst",
	  T4(0, IN4("10.10.3.3", IPPROTO_TCP, 0, .frag = 1, .frag_off = 5, .no_l4 = 1)),
	  TUN_OUT_OF_SCOPE },
	{ "v4 later fragment, other proto",
	  T4(0, IN4(WEB, IPPROTO_GRE, 0, .frag = 1, .frag_off = 5, .no_l4 = 1)), TUN_OUT_OF_SCOPE },
	{ "v4 later fragment, udp to the udp /24",
	  T4(0, IN4(WEB, IPPROTO_UDP, 0, .frag = 1, .frag_off = 5, .no_l4 = 1)), TUN_OK },
	{ "v6 first fragment",
	  T6(0, IN6(SRV6, IPPROTO_TCP, 80, .frag = 1, .frag_more = 1, .frag_id = 7)), TUN_OK },
	{ "v6 later fragment",
	  T6(0, IN6(SRV6, IPPROTO_TCP, 0, .frag = 1, .frag_off = 5, .no_l4 = 1, .payload_len = 3)),
	  TUN_OK },
	{ "v4 total length short", T4(0, WEB80, .mangle_msg = inner_tot_len_short), TUN_SHORT },
	{ "v4 ihl 4", T4(0, WEB80, .mangle_msg = inner_ihl_4), TUN_SHORT },
	{ "version 5", T4(0, WEB80, .mangle_msg = inner_version_5), TUN_BAD_TYPE },
	{ "v4 tcp doff 4", T4(0, WEB80, .mangle_msg = inner_tcp_doff_4), TUN_SHORT },
	{ "v4 tcp cut", T4(0, IN4(WEB, IPPROTO_TCP, 80, .no_l4 = 1, .payload_len = 12)),
	  TUN_SHORT },
	{ "v4 udp cut", T4(0, IN4(ECHO, IPPROTO_UDP, 7, .no_l4 = 1, .payload_len = 4)), TUN_SHORT },
	{ "v4 icmp cut",
	  T4(0, IN4(WEB, IPPROTO_ICMP, 0, .no_l4 = 1, .payload_len = 4), .session = SIDANY),
	  TUN_SHORT },
	{ "v6 payload length short",
	  T6(0, IN6(SRV6, IPPROTO_UDP, 53), .mangle_msg = inner_v6_plen_short), TUN_SHORT },
	{ "v6 tcp cut", T6(0, IN6(SRV6, IPPROTO_TCP, 80, .no_l4 = 1, .payload_len = 19)),
	  TUN_SHORT },
	{ "v6 icmpv6 cut", T6(0, IN6(SRV6, IPPROTO_ICMPV6, 0, .no_l4 = 1, .payload_len = 7)),
	  TUN_SHORT },
	{ "v4 wrong port", T4(0, IN4(WEB, IPPROTO_TCP, 22)), TUN_OUT_OF_SCOPE },
	{ "v4 wrong proto", T4(0, IN4(WEB, IPPROTO_UDP, 80)), TUN_OUT_OF_SCOPE },
	{ "v4 wrong dst", T4(0, IN4("10.10.3.3", IPPROTO_TCP, 80)), TUN_OUT_OF_SCOPE },
	{ "v4 port range edge", T4(0, IN4(WEB, IPPROTO_TCP, 443)), TUN_OK },
	{ "v4 port 444", T4(0, IN4(WEB, IPPROTO_TCP, 444)), TUN_OUT_OF_SCOPE },
	{ "v6 outside the /64", T6(0, IN6("2001:db8:11::80", IPPROTO_TCP, 80)), TUN_OUT_OF_SCOPE },
	{ "v6 to ::ffff:web, v6 session", T6(0, IN6("::ffff:" WEB, IPPROTO_TCP, 80)),
	  TUN_OUT_OF_SCOPE },
	{ "v4 spoofed source", T4(0, IN4(WEB, IPPROTO_TCP, 80, .src = "100.64.0.3")), TUN_SPOOFED },
	{ "v6 packet, v4 session", T4(0, IN6(SRV6, IPPROTO_TCP, 80)), TUN_SPOOFED },
	{ "v6 from ::ffff:vip", T4(0, IN6("::ffff:" WEB, IPPROTO_TCP, 80, .src = "::ffff:" VIP4)),
	  TUN_SPOOFED },
	{ "v6 spoofed source", T6(0, IN6(SRV6, IPPROTO_TCP, 80, .src = "fd00:64::3")),
	  TUN_SPOOFED },
	{ "spoofed and out of scope", T4(0, IN4("10.10.3.3", IPPROTO_TCP, 1, .src = "1.2.3.4")),
	  TUN_SPOOFED },
};

static int stat_of_verdict(enum tun_verdict v)
{
	switch (v) {
	case TUN_OK:
		return CG_STAT_PASS_CAP;
	case TUN_SOURCE_ROUTE:
		return CG_STAT_DROP_SOURCE_ROUTE;
	case TUN_SPOOFED:
		return CG_STAT_DROP_SPOOFED_SOURCE;
	case TUN_OUT_OF_SCOPE:
		return CG_STAT_DROP_OUT_OF_SCOPE;
	default:
		return CG_STAT_DROP_CAP_MALFORMED;
	}
}

static void test_inner_agrees(void)
{
	size_t i, n = sizeof(inner_rows) / sizeof(inner_rows[0]);
	enum tun_verdict got;
	struct cg_session s;
	struct cg_inner in;
	struct tun_pkt tp;

	reset();
	for (i = 0; i < n; i++) {
		const struct inner_row *row = &inner_rows[i];
		struct tun t = row->t;

		t.counter = i + 1;
		if (!ASSERT_EQ(tun_build(&t, &tp), 0, row->name) ||
		    !ASSERT_EQ(session_get(t.session, &s), 0, row->name))
			continue;
		run(row->name, &tp, stat_of_verdict(row->want));
		got = inner_parse(tp.p.data + tp.inner_off, tp.inner_len, &in);
		if (got == TUN_OK)
			got = inner_check(&in, s.vip, s.scopes, s.nscopes);
		if (!ASSERT_EQ(got, row->want, row->name))
			fprintf(stderr, "  user space: %s\n", tun_verdict_str(got));
	}
}

static void test_every_cap_reason_covered(void)
{
	int k;

	for (k = 0; k < CG_STAT_MAX; k++)
		if (cap_reason(k) && !ASSERT_TRUE(reasons_seen & (1ULL << k), "reason covered"))
			fprintf(stderr, "  not covered: %d\n", k);
}

int main(int argc, char **argv)
{
	static const struct t_case cases[] = {
		T_CASE(test_accept_v4),
		T_CASE(test_accept_scopes),
		T_CASE(test_accept_v6_outer_v6_inner),
		T_CASE(test_accept_vlan_outer),
		T_CASE(test_inner_fragments),
		T_CASE(test_unknown_session),
		T_CASE(test_expired),
		T_CASE(test_replay),
		T_CASE(test_verified_replay),
		T_CASE(test_rescope),
		T_CASE(test_rescope_race),
		T_CASE(test_bad_tag),
		T_CASE(test_spoofed_source),
		T_CASE(test_out_of_scope),
		T_CASE(test_scope_family),
		T_CASE(test_malformed),
		T_CASE(test_outer_udp_past_ip_datagram),
		T_CASE(test_inner_source_route),
		T_CASE(test_drop_rule_beats_tunnel),
		T_CASE(test_allow_rule_still_verified),
		T_CASE(test_stage_off),
		T_CASE(test_siphash_every_length),
		T_CASE(test_encrypted_pass),
		T_CASE(test_encrypted_refusals),
		T_CASE(test_wrong_mode),
		T_CASE(test_keepalive),
		T_CASE(test_encrypted_window_shared),
		T_CASE(test_windows_open_checks),
		T_CASE(test_inner_agrees),
	};
	static const struct t_case cover = T_CASE(test_every_cap_reason_covered);
	int rc;

	libbpf_set_print(NULL);
	if (sodium_init() < 0)
		return 1;
	if (geteuid() == 0)
		skel = gate_bpf__open_and_load();
	if (!skel) {
		const struct t_case sc = T_CASE(gate_skip_case);

		return t_main(__FILE__, &sc, 1, argc, argv);
	}
	wins = windows_open(bpf_map__fd(skel->maps.tun_windows));
	if (!wins) {
		fprintf(stderr, "windows_open: %s\n", strerror(errno));
		gate_bpf__destroy(skel);
		return 1;
	}
	rc = t_main(__FILE__, cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
	if (argc < 2 && t_main(__FILE__, &cover, 1, argc, argv))
		rc = 1;
	windows_close(wins);
	gate_bpf__destroy(skel);
	return rc;
}
