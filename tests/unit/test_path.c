// SPDX-License-Identifier: GPL-2.0
/*
 * The data path's receive checks (lib/tunnel/path.c) on a detached path:
 * every verdict of an encrypted packet at the gateway, the window, the
 * endpoint that moves only on an authenticated packet, sessions replaced and
 * removed, and the client's side of both modes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "lib/tunnel/aead.h"
#include "lib/tunnel/path.h"
#include "lib/tunnel/wire.h"
#include "tests/lib/t.h"

static const uint8_t c2s[32] = { 0xc2, 's', 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };
static const uint8_t s2c[32] = { 's', 2, 'c', 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13 };
static const uint8_t vip[16] = { [10] = 0xff, [11] = 0xff, [12] = 100, [13] = 64, [15] = 2 };
static const uint8_t from_a[16] = {
	[10] = 0xff, [11] = 0xff, [12] = 10, [13] = 10, [14] = 1, [15] = 2
};
static const uint8_t from_b[16] = {
	[10] = 0xff, [11] = 0xff, [12] = 10, [13] = 10, [14] = 9, [15] = 9
};

#define ID 0x5a5a0003U

static uint64_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* IPv4/UDP src -> dst:dport, 28 bytes, checksums left 0 (the path does not judge them). */
static void udp4(uint8_t p[28], const uint8_t src[16], const uint8_t dst[4], uint16_t dport)
{
	memset(p, 0, 28);
	p[0] = 0x45;
	p[3] = 28;
	p[8] = 64;
	p[9] = 17;
	memcpy(p + 12, src + 12, 4);
	memcpy(p + 16, dst, 4);
	p[20] = 0x30;
	p[21] = 0x39;
	p[22] = (uint8_t)(dport >> 8);
	p[23] = (uint8_t)dport;
	p[25] = 8;
}

static struct path *gateway(void)
{
	struct path_cfg c = { .role = PATH_GATEWAY, .detached = true };
	char err[128];

	memcpy(c.pool_base, vip, 16);
	c.pool_base[15] = 0;
	return path_new(&c, err, sizeof(err));
}

static void session(struct path_session *s, uint8_t mode)
{
	memset(s, 0, sizeof(*s));
	s->id = ID;
	s->mode = mode;
	s->cipher = CG_CIPHER_CHACHA20_POLY1305;
	s->expires_ns = mono() + 60ULL * 1000000000ULL;
	memcpy(s->rx_key, c2s, 32);
	memcpy(s->tx_key, s2c, 32);
	memcpy(s->vip, vip, 16);
	s->nscopes = 1;
	s->scopes[0] = (struct cg_scope){ .addr = { [10] = 0xff, [11] = 0xff, 10, 10, 2, 0 },
					  .plen = 120,
					  .proto = 17,
					  .port_lo = 7,
					  .port_hi = 7 };
}

/* A client packet sealed as the agent seals it: inner from src to 10.10.2.2:dport. */
static int sealed(uint8_t *out, uint32_t id, uint64_t ctr, const uint8_t src[16], uint16_t dport,
		  const uint8_t key[32])
{
	static const uint8_t dst[4] = { 10, 10, 2, 2 };
	struct aead *a = aead_new(CG_CIPHER_CHACHA20_POLY1305, key, true);
	uint8_t inner[28];
	int n;

	udp4(inner, src, dst, dport);
	n = wire_seal_aead(id, ctr, a, inner, sizeof(inner), out, 128);
	aead_free(a);
	return n;
}

static enum tun_verdict check(struct path *p, uint8_t *pkt, int n, const uint8_t *from)
{
	return path_check_packet(p, pkt, (size_t)n, from, htons(40000), NULL, NULL);
}

static void test_gateway_verdicts(void)
{
	struct path *p = gateway();
	struct path_session s;
	struct path_session_info pi;
	struct path_counters pc;
	uint8_t pkt[128], spoof[16];
	const uint8_t *inner;
	size_t len;
	int n;

	if (!ASSERT_TRUE(p != NULL, "detached gateway path"))
		return;
	n = sealed(pkt, ID, 1, vip, 7, c2s);
	ASSERT_EQ(check(p, pkt, n, from_a), TUN_UNKNOWN_SESSION, "no session yet");
	session(&s, CG_TUN_F_ENCRYPTED);
	ASSERT_EQ(path_session_set(p, &s), 0, "set");
	ASSERT_EQ(path_session_info(p, ID, &pi), 0, "info");
	ASSERT_EQ(pi.ep_port, 0, "no endpoint before a packet");
	ASSERT_EQ(path_check_packet(p, pkt, (size_t)n, from_a, htons(40000), &inner, &len), TUN_OK,
		  "valid");
	ASSERT_EQ(len, 28, "inner length");
	ASSERT_EQ(inner[0], 0x45, "inner is plaintext");
	path_session_info(p, ID, &pi);
	ASSERT_MEMEQ(pi.ep_addr, from_a, 16, "endpoint learnt");
	ASSERT_EQ(pi.rx_packets, 1, "rx counted");

	/* The same packet again, from another address: refused, and the endpoint stays. */
	n = sealed(pkt, ID, 1, vip, 7, c2s);
	ASSERT_EQ(check(p, pkt, n, from_b), TUN_REPLAY, "replay");
	path_session_info(p, ID, &pi);
	ASSERT_MEMEQ(pi.ep_addr, from_a, 16, "a replay from a new address moves nothing");
	/* A forged packet from the new address moves nothing either. */
	n = sealed(pkt, ID, 2, vip, 7, c2s);
	pkt[20] ^= 1;
	ASSERT_EQ(check(p, pkt, n, from_b), TUN_BAD_TAG, "flipped byte");
	path_session_info(p, ID, &pi);
	ASSERT_MEMEQ(pi.ep_addr, from_a, 16, "a forged packet moves nothing");
	/* The forged counter 2 did not move the window: the real one passes, from b (roaming). */
	n = sealed(pkt, ID, 2, vip, 7, c2s);
	ASSERT_EQ(check(p, pkt, n, from_b), TUN_OK, "authenticated from the new address");
	path_session_info(p, ID, &pi);
	ASSERT_MEMEQ(pi.ep_addr, from_b, 16, "the endpoint moves on an authenticated packet");

	/* A keepalive from a third address: accepted, nothing inside, the endpoint follows. */
	{
		struct aead *ka = aead_new(CG_CIPHER_CHACHA20_POLY1305, c2s, true);
		static const uint8_t from_c[16] = { [10] = 0xff, [11] = 0xff, 10, 10, 7, 7 };

		ASSERT_EQ(wire_keepalive(ID, 3, NULL, ka, pkt), 0, "keepalive sealed");
		aead_free(ka);
		len = 99;
		ASSERT_EQ(path_check_packet(p, pkt, WIRE_KEEPALIVE_LEN, from_c, htons(40000),
					    &inner, &len),
			  TUN_OK, "keepalive");
		ASSERT_EQ(len, 0, "a keepalive delivers nothing");
		path_session_info(p, ID, &pi);
		ASSERT_MEMEQ(pi.ep_addr, from_c, 16, "the endpoint follows a keepalive");
		ASSERT_EQ(path_check_packet(p, pkt, WIRE_KEEPALIVE_LEN, from_a, htons(40000), NULL,
					    NULL),
			  TUN_REPLAY, "a replayed keepalive");
		path_session_info(p, ID, &pi);
		ASSERT_MEMEQ(pi.ep_addr, from_c, 16, "a replayed keepalive moves nothing");
	}
	n = sealed(pkt, ID, 30, vip, 7, s2c);
	ASSERT_EQ(check(p, pkt, n, from_a), TUN_BAD_TAG, "the other direction's key");
	memcpy(spoof, vip, 16);
	spoof[15] = 3;
	n = sealed(pkt, ID, 4, spoof, 7, c2s);
	ASSERT_EQ(check(p, pkt, n, from_a), TUN_SPOOFED, "inner source not the session's");
	n = sealed(pkt, ID, 5, vip, 22, c2s);
	ASSERT_EQ(check(p, pkt, n, from_a), TUN_OUT_OF_SCOPE, "port outside the scope");
	n = sealed(pkt, ID, 6, vip, 7, c2s);
	pkt[1] = 0;
	ASSERT_EQ(check(p, pkt, n, from_a), TUN_BAD_FLAGS, "integrity packet for an encrypted one");
	n = sealed(pkt, ID + (1U << 20), 7, vip, 7, c2s);
	ASSERT_EQ(check(p, pkt, n, from_a), TUN_UNKNOWN_SESSION, "same slot, other id");
	ASSERT_EQ(check(p, pkt, 10, from_a), TUN_SHORT, "short");

	/* Out-of-window and past-the-limit counters. */
	n = sealed(pkt, ID, 20000, vip, 7, c2s);
	ASSERT_EQ(check(p, pkt, n, from_a), TUN_OK, "far ahead");
	n = sealed(pkt, ID, 100, vip, 7, c2s);
	ASSERT_EQ(check(p, pkt, n, from_a), TUN_REPLAY, "behind the window");

	/* Expired, then replaced (a fresh window), then removed. */
	s.expires_ns = 1;
	path_session_set(p, &s);
	n = sealed(pkt, ID, 1, vip, 7, c2s);
	ASSERT_EQ(check(p, pkt, n, from_a), TUN_EXPIRED, "expired");
	session(&s, CG_TUN_F_ENCRYPTED);
	path_session_set(p, &s);
	n = sealed(pkt, ID, 1, vip, 7, c2s);
	ASSERT_EQ(check(p, pkt, n, from_a), TUN_OK, "a new session starts a new window");
	ASSERT_EQ(path_session_del(p, ID), 0, "del");
	ASSERT_EQ(path_session_del(p, ID), -ENOENT, "del twice");
	n = sealed(pkt, ID, 2, vip, 7, c2s);
	ASSERT_EQ(check(p, pkt, n, from_a), TUN_UNKNOWN_SESSION, "removed");
	ASSERT_EQ(path_session_info(p, ID, &pi), -ENOENT, "no info");

	path_counters(p, &pc);
	ASSERT_EQ(pc.rx[TUN_OK], 5, "ok counted (the keepalive too)");
	ASSERT_EQ(pc.rx[TUN_REPLAY], 3, "replays counted");
	ASSERT_EQ(pc.rx[TUN_BAD_TAG], 2, "bad tags counted");
	path_free(p);
}

/*
 * New scopes for a live session (a reload): the workers check them from the
 * next packet; keys, counters, endpoint and the replay window stay.
 */
static void test_rescope(void)
{
	struct path *p = gateway();
	struct path_session s;
	struct path_session_info pi;
	struct cg_scope sc[2];
	uint8_t pkt[128];
	int n;

	if (!ASSERT_TRUE(p != NULL, "detached gateway path"))
		return;
	session(&s, CG_TUN_F_ENCRYPTED);
	ASSERT_EQ(path_session_set(p, &s), 0, "set");
	n = sealed(pkt, ID, 1, vip, 7, c2s);
	ASSERT_EQ(check(p, pkt, n, from_a), TUN_OK, "in scope");
	n = sealed(pkt, ID, 2, vip, 22, c2s);
	ASSERT_EQ(check(p, pkt, n, from_a), TUN_OUT_OF_SCOPE, "port 22 not yet");
	sc[0] = s.scopes[0];
	sc[1] = s.scopes[0];
	sc[1].port_lo = sc[1].port_hi = 22;
	ASSERT_EQ(path_session_scopes(p, ID, sc, 2), 0, "rescope");
	n = sealed(pkt, ID, 3, vip, 22, c2s);
	ASSERT_EQ(check(p, pkt, n, from_a), TUN_OK, "port 22 now, same keys");
	n = sealed(pkt, ID, 1, vip, 7, c2s);
	ASSERT_EQ(check(p, pkt, n, from_a), TUN_REPLAY, "the window stays");
	path_session_info(p, ID, &pi);
	ASSERT_EQ(pi.rx_packets, 2, "counters stay");
	ASSERT_MEMEQ(pi.ep_addr, from_a, 16, "endpoint stays");
	ASSERT_EQ(path_session_scopes(p, ID, sc + 1, 1), 0, "narrow");
	n = sealed(pkt, ID, 4, vip, 7, c2s);
	ASSERT_EQ(check(p, pkt, n, from_a), TUN_OUT_OF_SCOPE, "port 7 no more");
	ASSERT_EQ(path_session_scopes(p, ID + 1, sc, 1), -ENOENT, "another id");
	ASSERT_EQ(path_session_scopes(p, ID, sc, CG_MAX_SCOPES + 1), -EINVAL, "too many");
	path_free(p);
}

static void test_bad_sessions(void)
{
	struct path *p = gateway();
	struct path_session s;

	if (!ASSERT_TRUE(p != NULL, "path"))
		return;
	session(&s, CG_TUN_F_ENCRYPTED);
	s.id = 0;
	ASSERT_EQ(path_session_set(p, &s), -EINVAL, "id 0");
	session(&s, 0x80);
	ASSERT_EQ(path_session_set(p, &s), -EINVAL, "unknown mode");
	session(&s, CG_TUN_F_ENCRYPTED);
	s.cipher = 9;
	ASSERT_EQ(path_session_set(p, &s), -EINVAL, "unknown cipher");
	session(&s, CG_TUN_F_ENCRYPTED);
	s.nscopes = CG_MAX_SCOPES + 1;
	ASSERT_EQ(path_session_set(p, &s), -EINVAL, "too many scopes");
	path_free(p);
}

/* The client opens what the gateway seals, in both modes; a renewal keeps the old one open. */
static void test_client(void)
{
	struct path_cfg c = { .role = PATH_CLIENT, .detached = true };
	static const uint8_t srv[4] = { 10, 10, 2, 2 };
	struct path_session s;
	struct aead *a = aead_new(CG_CIPHER_CHACHA20_POLY1305, s2c, true);
	uint8_t pkt[128], inner[28], src[16] = { [10] = 0xff, [11] = 0xff, 10, 10, 2, 2 };
	char err[128];
	struct path *p = path_new(&c, err, sizeof(err));
	int n;

	if (!ASSERT_TRUE(p && a, "detached client path"))
		goto out;
	session(&s, CG_TUN_F_ENCRYPTED);
	memcpy(s.rx_key, s2c, 32);
	memcpy(s.tx_key, c2s, 32);
	path_session_set(p, &s);
	/* A reply: 10.10.2.2 -> the client's address. */
	udp4(inner, src, vip + 12, 5000);
	memcpy(inner + 16, vip + 12, 4);
	memcpy(inner + 12, srv, 4);
	n = wire_seal_aead(ID, 1, a, inner, sizeof(inner), pkt, sizeof(pkt));
	ASSERT_EQ(check(p, pkt, n, from_a), TUN_OK, "encrypted reply");
	n = wire_seal_aead(ID, 1, a, inner, sizeof(inner), pkt, sizeof(pkt));
	ASSERT_EQ(check(p, pkt, n, from_a), TUN_REPLAY, "replayed reply");
	inner[19] = 9; /* to another address */
	n = wire_seal_aead(ID, 2, a, inner, sizeof(inner), pkt, sizeof(pkt));
	ASSERT_EQ(check(p, pkt, n, from_a), TUN_OUT_OF_SCOPE, "not for this client");
	inner[19] = 2;

	/* Renewal: a new session in integrity mode; the old one still opens. */
	session(&s, 0);
	s.id = ID + 1;
	memcpy(s.rx_key, s2c, 16);
	path_session_set(p, &s);
	n = wire_seal(ID + 1, 1, s2c, inner, sizeof(inner), pkt, sizeof(pkt));
	ASSERT_EQ(check(p, pkt, n, from_a), TUN_OK, "integrity reply on the new session");
	n = wire_seal_aead(ID, 3, a, inner, sizeof(inner), pkt, sizeof(pkt));
	ASSERT_EQ(check(p, pkt, n, from_a), TUN_OK, "the old session during the overlap");
	n = wire_seal(ID + 1, 2, c2s, inner, sizeof(inner), pkt, sizeof(pkt));
	ASSERT_EQ(check(p, pkt, n, from_a), TUN_BAD_TAG, "integrity under the wrong key");
	n = wire_seal_aead(ID + 1, 3, a, inner, sizeof(inner), pkt, sizeof(pkt));
	ASSERT_EQ(check(p, pkt, n, from_a), TUN_BAD_FLAGS, "encrypted packet for integrity");
	/* A third session replaces the oldest. */
	s.id = ID + 2;
	path_session_set(p, &s);
	n = wire_seal_aead(ID, 4, a, inner, sizeof(inner), pkt, sizeof(pkt));
	ASSERT_EQ(check(p, pkt, n, from_a), TUN_UNKNOWN_SESSION, "the oldest is gone");
out:
	aead_free(a);
	path_free(p);
}

static void test_levers(void)
{
	unsigned int v = 0;

	ASSERT_EQ(path_levers_parse("all", &v), 0, "all");
	ASSERT_EQ(v, PATH_LEVERS_ALL, "all bits");
	ASSERT_EQ(path_levers_parse("none", &v), 0, "none");
	ASSERT_EQ(v, 0, "no bits");
	ASSERT_EQ(path_levers_parse("mmsg, udp_gro tun_offload", &v), 0, "list");
	ASSERT_EQ(v, PATH_MMSG | PATH_UDP_GRO | PATH_TUN_OFFLOAD, "list bits");
	ASSERT_EQ(path_levers_parse("mmsg turbo", &v), -EINVAL, "unknown lever");
	ASSERT_STREQ(path_lever_name(PATH_UDP_GSO), "udp_gso", "name");
	ASSERT_TRUE(path_lever_name(1U << 9) == NULL, "no name");
	ASSERT_STREQ(path_tx_stat_name(PATH_TX_EXHAUSTED), "counter_exhausted", "tx name");
}

T_MAIN(T_CASE(test_rescope), T_CASE(test_gateway_verdicts), T_CASE(test_bad_sessions),
       T_CASE(test_client), T_CASE(test_levers))
