// SPDX-License-Identifier: GPL-2.0
/* Control messages: round trips, one refusal per verdict, framing split byte by byte. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "lib/auth/proto.h"
#include "lib/base/addr.h"
#include "tests/lib/t.h"

static struct proto_msg cap_sample(void)
{
	struct proto_msg m = { .type = PROTO_CAPABILITY };
	struct cap_msg *c = &m.u.cap;

	c->session = 0xdeadbeef;
	c->expires_in = 600;
	addr_parse_mapped("100.64.0.2", c->vip);
	c->nscopes = 3;
	addr_parse_mapped("10.10.2.2", c->scopes[0].addr);
	c->scopes[0].plen = 128;
	c->scopes[0].proto = IPPROTO_TCP;
	c->scopes[0].port_lo = 80;
	c->scopes[0].port_hi = 443;
	addr_parse_mapped("10.10.2.0", c->scopes[1].addr);
	c->scopes[1].plen = 120;
	c->scopes[1].proto = IPPROTO_UDP;
	c->scopes[1].port_lo = 7;
	c->scopes[1].port_hi = 7;
	addr_parse_mapped("2001:db8::", c->scopes[2].addr);
	c->scopes[2].plen = 32;
	c->scopes[2].proto = 0;
	c->keepalive = 15;
	c->data_port = 51900;
	return m;
}

/* Encode, check the prefix, decode the body, compare. */
static bool round_trip(const struct proto_msg *m, const char *name)
{
	uint8_t buf[PROTO_MAX_FRAME];
	struct proto_msg out;
	size_t len = 0;
	bool ok = true;

	memset(&out, 0xa5, sizeof(out));
	ok &= ASSERT_EQ(proto_encode(m, buf, sizeof(buf), &len), 0, name);
	ok &= ASSERT_TRUE(len > PROTO_HDR_LEN, name);
	ok &= ASSERT_EQ((size_t)buf[0] << 24 | (size_t)buf[1] << 16 | (size_t)buf[2] << 8 | buf[3],
			len - PROTO_HDR_LEN, name);
	ok &= ASSERT_EQ(proto_decode(buf + PROTO_HDR_LEN, len - PROTO_HDR_LEN, &out), PROTO_OK,
			name);
	ok &= ASSERT_EQ(out.type, m->type, name);
	switch (m->type) {
	case PROTO_HELLO:
		ok &= ASSERT_STREQ(out.u.hello.app, m->u.hello.app, name);
		ok &= ASSERT_MEMEQ(&out.u.hello.offer, &m->u.hello.offer, sizeof(m->u.hello.offer),
				   name);
		ok &= ASSERT_EQ(out.u.hello.resume, m->u.hello.resume, name);
		break;
	case PROTO_ERROR:
		ok &= ASSERT_STREQ(out.u.error.reason, m->u.error.reason, name);
		break;
	case PROTO_CAPABILITY:
		ok &= ASSERT_MEMEQ(&out.u.cap, &m->u.cap, sizeof(m->u.cap), name);
		break;
	case PROTO_ENROLL:
		ok &= ASSERT_STREQ(out.u.enroll.token, m->u.enroll.token, name);
		ok &= ASSERT_STREQ(out.u.enroll.csr, m->u.enroll.csr, name);
		break;
	case PROTO_ENROLLED:
		ok &= ASSERT_STREQ(out.u.enrolled.cert, m->u.enrolled.cert, name);
		ok &= ASSERT_STREQ(out.u.enrolled.ca, m->u.enrolled.ca, name);
		break;
	}
	return ok;
}

static void test_round_trip(void)
{
	struct proto_msg m;
	uint32_t t;

	memset(&m, 0, sizeof(m));
	m.type = PROTO_HELLO;
	round_trip(&m, "hello without app (the certificate says)");
	strcpy(m.u.hello.app, "sensor");
	round_trip(&m, "hello");
	proto_offer_make(&m.u.hello.offer, CG_TUN_F_ENCRYPTED, 0, true);
	round_trip(&m, "hello, encrypted, aes and chacha");
	proto_offer_make(&m.u.hello.offer, 0, CG_CIPHER_CHACHA20_POLY1305, true);
	round_trip(&m, "hello, policy, chacha only");
	m.u.hello.offer.mode = CG_TUN_F_ENCRYPTED;
	m.u.hello.offer.nciphers = 0;
	m.u.hello.offer.ciphers[0] = 0;
	round_trip(&m, "hello, encrypted, no ciphers");
	m.u.hello.resume = 0x1234abcd;
	round_trip(&m, "hello, resume");
	m.u.hello.resume = 1;
	round_trip(&m, "hello, resume 1");
	m.u.hello.resume = UINT32_MAX;
	round_trip(&m, "hello, resume UINT32_MAX");
	m = cap_sample();
	round_trip(&m, "capability");
	m.u.cap.mode = CG_TUN_F_ENCRYPTED;
	m.u.cap.cipher = CG_CIPHER_CHACHA20_POLY1305;
	round_trip(&m, "capability, encrypted chacha");
	m.u.cap.cipher = CG_CIPHER_AES256_GCM;
	round_trip(&m, "capability, encrypted aes");
	m = cap_sample();
	m.u.cap.nscopes = 0;
	memset(m.u.cap.scopes, 0, sizeof(m.u.cap.scopes));
	round_trip(&m, "capability, no scopes");
	m = cap_sample();
	m.u.cap.nscopes = CG_MAX_SCOPES;
	for (t = 3; t < CG_MAX_SCOPES; t++)
		m.u.cap.scopes[t] = m.u.cap.scopes[t % 3];
	round_trip(&m, "capability, max scopes");
	memset(&m, 0, sizeof(m));
	m.type = PROTO_ERROR;
	strcpy(m.u.error.reason, "policy");
	round_trip(&m, "error");
	for (t = PROTO_RENEW; t <= PROTO_BYE; t++) {
		memset(&m, 0, sizeof(m));
		m.type = t;
		round_trip(&m, proto_type_str(t));
	}
}

static void test_known_answer(void)
{
	static const char want[] =
		"{\"type\":\"capability\",\"session\":7,\"expires_in\":600,\"vip\":\"100.64.0.2\","
		"\"scopes\":[{\"proto\":\"tcp\",\"dst\":\"10.10.2.2/32\",\"ports\":\"80-80\"}],"
		"\"keepalive\":15,\"data_port\":51900,\"mode\":\"integrity\"}";
	struct proto_msg m = cap_sample();
	uint8_t buf[1024];
	size_t len = 0;

	m.u.cap.session = 7;
	m.u.cap.nscopes = 1;
	m.u.cap.scopes[0].port_hi = 80;
	if (!ASSERT_EQ(proto_encode(&m, buf, sizeof(buf), &len), 0, "encode"))
		return;
	ASSERT_EQ(len - PROTO_HDR_LEN, strlen(want), "length");
	ASSERT_MEMEQ(buf + PROTO_HDR_LEN, want, strlen(want), "bytes");
}

/* The exact bytes of the new fields: what another implementation must send and read. */
static void test_known_answer_modes(void)
{
	static const struct {
		const char *name, *want;
		uint8_t mode, cipher;
		bool aes;
		uint32_t resume;
	} hello[] = {
		{ "old-style hello", "{\"type\":\"hello\",\"app\":\"sensor\"}", 0, 0, false, 0 },
		{ "resume",
		  "{\"type\":\"hello\",\"app\":\"sensor\",\"mode\":\"encrypted\",\"resume\":"
		  "305419896,\"ciphers\":[\"chacha20-poly1305\"]}",
		  CG_TUN_F_ENCRYPTED, 0, false, 0x12345678 },
		{ "policy, auto, no AES",
		  "{\"type\":\"hello\",\"app\":\"sensor\",\"ciphers\":"
		  "[\"chacha20-poly1305\"]}",
		  0, 0, false, 0 },
		{ "encrypted, auto, AES",
		  "{\"type\":\"hello\",\"app\":\"sensor\",\"mode\":\"encrypted\",\"ciphers\":"
		  "[\"aes-256-gcm\",\"chacha20-poly1305\"]}",
		  CG_TUN_F_ENCRYPTED, 0, true, 0 },
		{ "explicit aes",
		  "{\"type\":\"hello\",\"app\":\"sensor\",\"ciphers\":"
		  "[\"aes-256-gcm\"]}",
		  0, CG_CIPHER_AES256_GCM, false, 0 },
	};
	static const char cap_want[] = ",\"keepalive\":15,\"data_port\":51900,\"mode\":"
				       "\"encrypted\",\"cipher\":\"aes-256-gcm\"}";
	struct proto_msg m;
	uint8_t buf[1024];
	size_t i, len = 0;

	for (i = 0; i < sizeof(hello) / sizeof(hello[0]); i++) {
		memset(&m, 0, sizeof(m));
		m.type = PROTO_HELLO;
		strcpy(m.u.hello.app, "sensor");
		if (i)
			proto_offer_make(&m.u.hello.offer, hello[i].mode, hello[i].cipher,
					 hello[i].aes);
		m.u.hello.resume = hello[i].resume;
		if (!ASSERT_EQ(proto_encode(&m, buf, sizeof(buf), &len), 0, hello[i].name))
			continue;
		ASSERT_EQ(len - PROTO_HDR_LEN, strlen(hello[i].want), hello[i].name);
		ASSERT_MEMEQ(buf + PROTO_HDR_LEN, hello[i].want, strlen(hello[i].want),
			     hello[i].name);
	}
	m = cap_sample();
	m.u.cap.mode = CG_TUN_F_ENCRYPTED;
	m.u.cap.cipher = CG_CIPHER_AES256_GCM;
	if (!ASSERT_EQ(proto_encode(&m, buf, sizeof(buf), &len), 0, "encrypted capability"))
		return;
	ASSERT_MEMEQ(buf + len - strlen(cap_want), cap_want, strlen(cap_want),
		     "capability ends with mode and cipher");
}

/* The client's list, the gateway's choice, the client's check of what came back. */
static void test_offer(void)
{
	static const struct {
		const char *name;
		uint8_t cl_mode, cl_cipher; /* [client] mode and cipher */
		bool cl_aes, gw_aes;
		uint8_t policy; /* the [allow] sections' mode */
		uint8_t want_mode, want_cipher;
	} t[] = {
		{ "policy integrity, client policy", 0, 0, true, true, 0, 0, 0 },
		{ "policy integrity, client asks encrypted", CG_TUN_F_ENCRYPTED, 0, true, true, 0,
		  CG_TUN_F_ENCRYPTED, CG_CIPHER_AES256_GCM },
		{ "policy encrypted, client policy", 0, 0, true, true, CG_TUN_F_ENCRYPTED,
		  CG_TUN_F_ENCRYPTED, CG_CIPHER_AES256_GCM },
		{ "client without AES: chacha", 0, 0, false, true, CG_TUN_F_ENCRYPTED,
		  CG_TUN_F_ENCRYPTED, CG_CIPHER_CHACHA20_POLY1305 },
		{ "gateway without AES: chacha", 0, 0, true, false, CG_TUN_F_ENCRYPTED,
		  CG_TUN_F_ENCRYPTED, CG_CIPHER_CHACHA20_POLY1305 },
		{ "client insists on chacha", CG_TUN_F_ENCRYPTED, CG_CIPHER_CHACHA20_POLY1305, true,
		  true, 0, CG_TUN_F_ENCRYPTED, CG_CIPHER_CHACHA20_POLY1305 },
		{ "client asks aes, gateway has none: chacha (refused by the client)", 0,
		  CG_CIPHER_AES256_GCM, true, false, CG_TUN_F_ENCRYPTED, CG_TUN_F_ENCRYPTED,
		  CG_CIPHER_CHACHA20_POLY1305 },
	};
	struct proto_offer o;
	struct cap_msg c;
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		proto_offer_make(&o, t[i].cl_mode, t[i].cl_cipher, t[i].cl_aes);
		ASSERT_TRUE(proto_offer_ok(&o), t[i].name);
		memset(&c, 0, sizeof(c));
		proto_offer_choose(&o, t[i].policy, t[i].gw_aes, &c.mode, &c.cipher);
		ASSERT_EQ(c.mode, t[i].want_mode, t[i].name);
		ASSERT_EQ(c.cipher, t[i].want_cipher, t[i].name);
		ASSERT_EQ(proto_cap_accept(&o, &c, why, sizeof(why)),
			  t[i].cl_cipher == CG_CIPHER_AES256_GCM && !t[i].gw_aes ? -EPROTO : 0,
			  t[i].name);
	}

	/* An old client (no mode, no ciphers): integrity if the policy says so, else chacha. */
	memset(&o, 0, sizeof(o));
	proto_offer_choose(&o, 0, true, &c.mode, &c.cipher);
	ASSERT_TRUE(c.mode == 0 && c.cipher == 0, "old hello, integrity policy");
	proto_offer_choose(&o, CG_TUN_F_ENCRYPTED, true, &c.mode, &c.cipher);
	ASSERT_TRUE(c.mode == CG_TUN_F_ENCRYPTED && c.cipher == CG_CIPHER_CHACHA20_POLY1305,
		    "old hello, encrypted policy: chacha, though both have AES");
	ASSERT_EQ(proto_cap_accept(&o, &c, why, sizeof(why)), 0, "chacha is implied");
	c.cipher = CG_CIPHER_AES256_GCM;
	ASSERT_EQ(proto_cap_accept(&o, &c, why, sizeof(why)), -EPROTO, "aes was not offered");

	/* The downgrade: asked encrypted, granted integrity. */
	proto_offer_make(&o, CG_TUN_F_ENCRYPTED, 0, false);
	memset(&c, 0, sizeof(c));
	why[0] = '\0';
	ASSERT_EQ(proto_cap_accept(&o, &c, why, sizeof(why)), -EPROTO, "downgrade refused");
	ASSERT_TRUE(strstr(why, "integrity") && strstr(why, "mode = encrypted"), why);
	/* A client that takes what the policy grants takes integrity. */
	proto_offer_make(&o, 0, 0, false);
	ASSERT_EQ(proto_cap_accept(&o, &c, why, sizeof(why)), 0, "policy: integrity is fine");

	/* What proto_offer_ok refuses: the encoder refuses it too. */
	proto_offer_make(&o, 0, 0, true);
	o.ciphers[1] = o.ciphers[0];
	ASSERT_TRUE(!proto_offer_ok(&o), "duplicate");
	proto_offer_make(&o, 0, 0, true);
	o.ciphers[2] = CG_CIPHER_AES256_GCM;
	ASSERT_TRUE(!proto_offer_ok(&o), "a byte past nciphers");
	proto_offer_make(&o, 0, 0, true);
	o.nciphers = PROTO_CIPHERS_MAX + 1;
	ASSERT_TRUE(!proto_offer_ok(&o), "too many");
	proto_offer_make(&o, 0, 0, false);
	o.ciphers[0] = 3;
	ASSERT_TRUE(!proto_offer_ok(&o), "unknown cipher");
	proto_offer_make(&o, 1 << 1, 0, false);
	ASSERT_TRUE(!proto_offer_ok(&o), "unknown mode");
}

/* A capability up to its mode: each row adds the rest. */
#define CAP                                                                            \
	"{\"type\":\"capability\",\"session\":1,\"expires_in\":1,\"vip\":\"1.2.3.4\"," \
	"\"scopes\":[],\"keepalive\":1,\"data_port\":1"

static const struct {
	const char *name;
	const char *json;
	enum proto_verdict want;
} refusals[] = {
	{ "ok", "{\"type\":\"keepalive\"}", PROTO_OK },
	{ "not json", "{\"type\":", PROTO_NOT_JSON },
	{ "duplicate key", "{\"type\":\"bye\",\"type\":\"bye\"}", PROTO_NOT_JSON },
	{ "NUL in string", "{\"type\":\"hello\",\"app\":\"a\\u0000b\"}", PROTO_NOT_JSON },
	{ "trailing garbage", "{\"type\":\"bye\"} x", PROTO_NOT_JSON },
	{ "array", "[1,2]", PROTO_NOT_OBJECT },
	{ "no type", "{\"app\":\"x\"}", PROTO_NO_TYPE },
	{ "type not a string", "{\"type\":1}", PROTO_NO_TYPE },
	{ "unknown type", "{\"type\":\"shell\"}", PROTO_UNKNOWN_TYPE },
	{ "unknown field", "{\"type\":\"renew\",\"session\":1}", PROTO_UNKNOWN_FIELD },
	{ "unknown scope field",
	  "{\"type\":\"capability\",\"session\":1,\"expires_in\":1,\"vip\":\"1.2.3.4\","
	  "\"scopes\":[{\"proto\":\"tcp\",\"dst\":\"1.2.3.4\",\"ports\":\"1\",\"x\":1}],"
	  "\"keepalive\":1,\"data_port\":1,\"mode\":\"integrity\"}",
	  PROTO_UNKNOWN_FIELD },
	{ "ports on icmp",
	  "{\"type\":\"capability\",\"session\":1,\"expires_in\":1,\"vip\":\"1.2.3.4\","
	  "\"scopes\":[{\"proto\":\"icmp\",\"dst\":\"1.2.3.4\",\"ports\":\"1\"}],"
	  "\"keepalive\":1,\"data_port\":1,\"mode\":\"integrity\"}",
	  PROTO_UNKNOWN_FIELD },
	{ "hello, app not a string", "{\"type\":\"hello\",\"app\":7}", PROTO_BAD_FIELD },
	{ "hello, app empty", "{\"type\":\"hello\",\"app\":\"\"}", PROTO_BAD_FIELD },
	{ "capability without vip",
	  "{\"type\":\"capability\",\"session\":1,\"expires_in\":1,\"scopes\":[],"
	  "\"keepalive\":1,\"data_port\":1,\"mode\":\"integrity\"}",
	  PROTO_MISSING_FIELD },
	{ "tcp scope without ports",
	  "{\"type\":\"capability\",\"session\":1,\"expires_in\":1,\"vip\":\"1.2.3.4\","
	  "\"scopes\":[{\"proto\":\"tcp\",\"dst\":\"1.2.3.4\"}],\"keepalive\":1,\"data_port\":1,"
	  "\"mode\":\"integrity\"}",
	  PROTO_MISSING_FIELD },
	{ "error without reason", "{\"type\":\"error\"}", PROTO_MISSING_FIELD },
	{ "app with a slash", "{\"type\":\"hello\",\"app\":\"a/b\"}", PROTO_BAD_FIELD },
	{ "app empty", "{\"type\":\"hello\",\"app\":\"\"}", PROTO_BAD_FIELD },
	{ "app too long",
	  "{\"type\":\"hello\",\"app\":"
	  "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	  PROTO_BAD_FIELD },
	{ "app a number", "{\"type\":\"hello\",\"app\":5}", PROTO_BAD_FIELD },
	{ "resume 0", "{\"type\":\"hello\",\"app\":\"a\",\"resume\":0}", PROTO_BAD_FIELD },
	{ "resume negative", "{\"type\":\"hello\",\"app\":\"a\",\"resume\":-1}", PROTO_BAD_FIELD },
	{ "resume too big", "{\"type\":\"hello\",\"app\":\"a\",\"resume\":4294967296}",
	  PROTO_BAD_FIELD },
	{ "resume a string", "{\"type\":\"hello\",\"app\":\"a\",\"resume\":\"1\"}",
	  PROTO_BAD_FIELD },
	{ "resume a float", "{\"type\":\"hello\",\"app\":\"a\",\"resume\":1.0}", PROTO_BAD_FIELD },
	{ "resume null", "{\"type\":\"hello\",\"app\":\"a\",\"resume\":null}", PROTO_BAD_FIELD },
	{ "resume with a bad mode",
	  "{\"type\":\"hello\",\"app\":\"a\",\"mode\":\"integrity\",\"resume\":1}",
	  PROTO_BAD_FIELD },
	{ "reason with a newline", "{\"type\":\"error\",\"reason\":\"a\\nb\"}", PROTO_BAD_FIELD },
	{ "session 0",
	  "{\"type\":\"capability\",\"session\":0,\"expires_in\":1,\"vip\":\"1.2.3.4\","
	  "\"scopes\":[],\"keepalive\":1,\"data_port\":1,\"mode\":\"integrity\"}",
	  PROTO_BAD_FIELD },
	{ "session too big",
	  "{\"type\":\"capability\",\"session\":4294967296,\"expires_in\":1,\"vip\":\"1.2.3.4\","
	  "\"scopes\":[],\"keepalive\":1,\"data_port\":1,\"mode\":\"integrity\"}",
	  PROTO_BAD_FIELD },
	{ "session a float",
	  "{\"type\":\"capability\",\"session\":1.5,\"expires_in\":1,\"vip\":\"1.2.3.4\","
	  "\"scopes\":[],\"keepalive\":1,\"data_port\":1,\"mode\":\"integrity\"}",
	  PROTO_BAD_FIELD },
	{ "data_port 65536",
	  "{\"type\":\"capability\",\"session\":1,\"expires_in\":1,\"vip\":\"1.2.3.4\","
	  "\"scopes\":[],\"keepalive\":1,\"data_port\":65536}",
	  PROTO_BAD_FIELD },
	{ "bad vip",
	  "{\"type\":\"capability\",\"session\":1,\"expires_in\":1,\"vip\":\"1.2.3\","
	  "\"scopes\":[],\"keepalive\":1,\"data_port\":1,\"mode\":\"integrity\"}",
	  PROTO_BAD_FIELD },
	{ "scopes not an array",
	  "{\"type\":\"capability\",\"session\":1,\"expires_in\":1,\"vip\":\"1.2.3.4\","
	  "\"scopes\":{},\"keepalive\":1,\"data_port\":1,\"mode\":\"integrity\"}",
	  PROTO_BAD_FIELD },
	{ "scope host bits",
	  "{\"type\":\"capability\",\"session\":1,\"expires_in\":1,\"vip\":\"1.2.3.4\","
	  "\"scopes\":[{\"proto\":\"udp\",\"dst\":\"10.0.0.1/8\",\"ports\":\"7\"}],"
	  "\"keepalive\":1,\"data_port\":1,\"mode\":\"integrity\"}",
	  PROTO_BAD_FIELD },
	{ "ports reversed",
	  "{\"type\":\"capability\",\"session\":1,\"expires_in\":1,\"vip\":\"1.2.3.4\","
	  "\"scopes\":[{\"proto\":\"udp\",\"dst\":\"10.0.0.0/8\",\"ports\":\"9-7\"}],"
	  "\"keepalive\":1,\"data_port\":1,\"mode\":\"integrity\"}",
	  PROTO_BAD_FIELD },
	{ "ports signed",
	  "{\"type\":\"capability\",\"session\":1,\"expires_in\":1,\"vip\":\"1.2.3.4\","
	  "\"scopes\":[{\"proto\":\"udp\",\"dst\":\"10.0.0.0/8\",\"ports\":\"+7\"}],"
	  "\"keepalive\":1,\"data_port\":1,\"mode\":\"integrity\"}",
	  PROTO_BAD_FIELD },
	{ "unknown scope proto",
	  "{\"type\":\"capability\",\"session\":1,\"expires_in\":1,\"vip\":\"1.2.3.4\","
	  "\"scopes\":[{\"proto\":\"sctp\",\"dst\":\"10.0.0.0/8\"}],"
	  "\"keepalive\":1,\"data_port\":1,\"mode\":\"integrity\"}",
	  PROTO_BAD_FIELD },
	{ "hello, mode encrypted", "{\"type\":\"hello\",\"app\":\"a\",\"mode\":\"encrypted\"}",
	  PROTO_OK },
	{ "hello, mode integrity", "{\"type\":\"hello\",\"app\":\"a\",\"mode\":\"integrity\"}",
	  PROTO_BAD_FIELD },
	{ "hello, mode policy", "{\"type\":\"hello\",\"app\":\"a\",\"mode\":\"policy\"}",
	  PROTO_BAD_FIELD },
	{ "hello, mode Encrypted", "{\"type\":\"hello\",\"app\":\"a\",\"mode\":\"Encrypted\"}",
	  PROTO_BAD_FIELD },
	{ "hello, mode true", "{\"type\":\"hello\",\"app\":\"a\",\"mode\":true}", PROTO_BAD_FIELD },
	{ "hello, mode null", "{\"type\":\"hello\",\"app\":\"a\",\"mode\":null}", PROTO_BAD_FIELD },
	{ "hello, ciphers ok",
	  "{\"type\":\"hello\",\"app\":\"a\",\"ciphers\":[\"chacha20-poly1305\","
	  "\"aes-256-gcm\"]}",
	  PROTO_OK },
	{ "hello, ciphers empty", "{\"type\":\"hello\",\"app\":\"a\",\"ciphers\":[]}",
	  PROTO_BAD_FIELD },
	{ "hello, ciphers a string",
	  "{\"type\":\"hello\",\"app\":\"a\",\"ciphers\":\"aes-256-gcm\"}", PROTO_BAD_FIELD },
	{ "hello, cipher unknown",
	  "{\"type\":\"hello\",\"app\":\"a\",\"ciphers\":[\"aes-128-gcm\"]}", PROTO_BAD_FIELD },
	{ "hello, cipher not a string", "{\"type\":\"hello\",\"app\":\"a\",\"ciphers\":[1]}",
	  PROTO_BAD_FIELD },
	{ "hello, cipher twice",
	  "{\"type\":\"hello\",\"app\":\"a\",\"ciphers\":[\"aes-256-gcm\",\"aes-256-gcm\"]}",
	  PROTO_BAD_FIELD },
	{ "hello, five ciphers",
	  "{\"type\":\"hello\",\"app\":\"a\",\"ciphers\":[\"aes-256-gcm\","
	  "\"chacha20-poly1305\",\"x\",\"y\",\"z\"]}",
	  PROTO_BAD_FIELD },
	{ "hello, cipher field (singular)",
	  "{\"type\":\"hello\",\"app\":\"a\",\"cipher\":\"aes-256-gcm\"}", PROTO_UNKNOWN_FIELD },
	{ "capability, integrity", CAP ",\"mode\":\"integrity\"}", PROTO_OK },
	{ "capability, encrypted chacha",
	  CAP ",\"mode\":\"encrypted\",\"cipher\":\"chacha20-poly1305\"}", PROTO_OK },
	{ "capability without mode", CAP "}", PROTO_MISSING_FIELD },
	{ "capability, mode policy", CAP ",\"mode\":\"policy\"}", PROTO_BAD_FIELD },
	{ "capability, mode a number", CAP ",\"mode\":1}", PROTO_BAD_FIELD },
	{ "capability, encrypted without cipher", CAP ",\"mode\":\"encrypted\"}", PROTO_BAD_FIELD },
	{ "capability, integrity with a cipher",
	  CAP ",\"mode\":\"integrity\",\"cipher\":\"chacha20-poly1305\"}", PROTO_BAD_FIELD },
	{ "capability, integrity with cipher null", CAP ",\"mode\":\"integrity\",\"cipher\":null}",
	  PROTO_BAD_FIELD },
	{ "capability, unknown cipher", CAP ",\"mode\":\"encrypted\",\"cipher\":\"aes-128-gcm\"}",
	  PROTO_BAD_FIELD },
	{ "capability, cipher a list", CAP ",\"mode\":\"encrypted\",\"cipher\":[\"aes-256-gcm\"]}",
	  PROTO_BAD_FIELD },
	{ "capability, ciphers (plural)",
	  CAP ",\"mode\":\"encrypted\",\"ciphers\":[\"aes-256-gcm\"]}", PROTO_UNKNOWN_FIELD },
};

static void test_refusals(void)
{
	struct proto_msg m;
	size_t i;

	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		ASSERT_EQ(proto_decode((const uint8_t *)refusals[i].json, strlen(refusals[i].json),
				       &m),
			  refusals[i].want, refusals[i].name);
	ASSERT_EQ(proto_decode((const uint8_t *)"", 0, &m), PROTO_BAD_LENGTH, "empty body");
	ASSERT_STREQ(proto_verdict_str(PROTO_UNKNOWN_FIELD), "unknown_field", "verdict name");
	ASSERT_STREQ(proto_verdict_str(PROTO_VERDICT_MAX), "?", "verdict out of range");
}

static void test_encode_refuses(void)
{
	struct proto_msg m = cap_sample();
	uint8_t buf[PROTO_MAX_FRAME];
	size_t len;

	m.u.cap.scopes[0].port_lo = 500;
	ASSERT_EQ(proto_encode(&m, buf, sizeof(buf), &len), -EINVAL, "reversed ports");
	m = cap_sample();
	m.u.cap.scopes[2].port_lo = 1;
	ASSERT_EQ(proto_encode(&m, buf, sizeof(buf), &len), -EINVAL, "ports on any");
	m = cap_sample();
	m.u.cap.keepalive = 0;
	ASSERT_EQ(proto_encode(&m, buf, sizeof(buf), &len), -EINVAL, "keepalive 0");
	m = cap_sample();
	ASSERT_EQ(proto_encode(&m, buf, 40, &len), -EMSGSIZE, "small buffer");
	memset(&m, 0, sizeof(m));
	m.type = PROTO_HELLO;
	strcpy(m.u.hello.app, "x y");
	ASSERT_EQ(proto_encode(&m, buf, sizeof(buf), &len), -EINVAL, "bad app");
	strcpy(m.u.hello.app, "x");
	m.u.hello.offer.nciphers = 1;
	ASSERT_EQ(proto_encode(&m, buf, sizeof(buf), &len), -EINVAL, "cipher 0 in the offer");
	m.type = 99;
	ASSERT_EQ(proto_encode(&m, buf, sizeof(buf), &len), -EINVAL, "unknown type");
	m = cap_sample();
	m.u.cap.cipher = CG_CIPHER_CHACHA20_POLY1305;
	ASSERT_EQ(proto_encode(&m, buf, sizeof(buf), &len), -EINVAL, "integrity with a cipher");
	m.u.cap.mode = CG_TUN_F_ENCRYPTED;
	m.u.cap.cipher = 0;
	ASSERT_EQ(proto_encode(&m, buf, sizeof(buf), &len), -EINVAL, "encrypted without cipher");
	m.u.cap.mode = 2;
	ASSERT_EQ(proto_encode(&m, buf, sizeof(buf), &len), -EINVAL, "unknown mode");
}

static struct proto_rx rx;

/* Three frames in one stream, fed one byte at a time: three messages, in order. */
static void test_framing_bytewise(void)
{
	uint8_t stream[3 * 1024];
	struct proto_msg msgs[3], out;
	size_t len, total = 0, i, used, got = 0;
	enum proto_verdict v;

	memset(msgs, 0, sizeof(msgs));
	msgs[0].type = PROTO_HELLO;
	strcpy(msgs[0].u.hello.app, "sensor");
	msgs[1] = cap_sample();
	msgs[2].type = PROTO_KEEPALIVE;
	for (i = 0; i < 3; i++) {
		if (!ASSERT_EQ(proto_encode(&msgs[i], stream + total, sizeof(stream) - total, &len),
			       0, "encode"))
			return;
		total += len;
	}
	proto_rx_init(&rx);
	for (i = 0; i < total; i++) {
		v = proto_rx_feed(&rx, stream + i, 1, &used, &out);
		ASSERT_EQ(used, 1, "one byte used");
		if (v == PROTO_MORE)
			continue;
		if (!ASSERT_EQ(v, PROTO_OK, "frame") || !ASSERT_TRUE(got < 3, "count"))
			return;
		ASSERT_EQ(out.type, msgs[got].type, "type in order");
		if (out.type == PROTO_CAPABILITY)
			ASSERT_MEMEQ(&out.u.cap, &msgs[1].u.cap, sizeof(out.u.cap), "cap");
		got++;
	}
	ASSERT_EQ(got, 3, "three messages");
	ASSERT_EQ(rx.have, 0, "nothing left over");

	/* All at once: each call stops at the end of one frame. */
	proto_rx_init(&rx);
	for (i = 0, got = 0; i < total; i += used) {
		v = proto_rx_feed(&rx, stream + i, total - i, &used, &out);
		if (!ASSERT_EQ(v, PROTO_OK, "whole frame"))
			return;
		ASSERT_EQ(out.type, msgs[got].type, "type");
		got++;
	}
	ASSERT_EQ(got, 3, "three messages at once");
}

static void test_framing_refusals(void)
{
	static const uint8_t too_long[] = { 0, 0, 0x40, 0x01, '{' };
	static const uint8_t zero_len[] = { 0, 0, 0, 0 };
	static const uint8_t bad_body[] = { 0, 0, 0, 2, '{', '{' };
	struct proto_msg out;
	size_t used;

	proto_rx_init(&rx);
	ASSERT_EQ(proto_rx_feed(&rx, too_long, 3, &used, &out), PROTO_MORE, "partial length");
	ASSERT_EQ(proto_rx_feed(&rx, too_long + 3, 2, &used, &out), PROTO_BAD_LENGTH,
		  "16385 refused at the length");
	proto_rx_init(&rx);
	ASSERT_EQ(proto_rx_feed(&rx, zero_len, sizeof(zero_len), &used, &out), PROTO_BAD_LENGTH,
		  "zero length");
	proto_rx_init(&rx);
	ASSERT_EQ(proto_rx_feed(&rx, bad_body, sizeof(bad_body), &used, &out), PROTO_NOT_JSON,
		  "bad body");
}

static void test_max_body(void)
{
	static uint8_t frame[PROTO_MAX_FRAME];
	struct proto_msg out;
	size_t used, i;

	/* {"type":"bye"} padded with spaces to exactly 16 KiB is still fine. */
	frame[0] = 0;
	frame[1] = 0;
	frame[2] = 0x40;
	frame[3] = 0;
	memset(frame + 4, ' ', PROTO_MAX_BODY);
	memcpy(frame + 4, "{\"type\":\"bye\"}", 14);
	proto_rx_init(&rx);
	ASSERT_EQ(proto_rx_feed(&rx, frame, sizeof(frame), &used, &out), PROTO_OK, "16 KiB");
	ASSERT_EQ(used, sizeof(frame), "all used");
	ASSERT_EQ(out.type, PROTO_BYE, "bye");
	for (i = 1; i < PROTO_TYPE_MAX; i++)
		ASSERT_TRUE(strcmp(proto_type_str((uint32_t)i), "?"), "type names");
}

#define TOK                                                                                      \
	"cg1.d7d364bb5d7ef1c7.993a5dc4f5c42f35e57e2c796b8a0a958f139709f53a374e2989c5ed05aa903a." \
	"56d46bc54a9f01153ade54c1afe950fc5868a7360470b1f94bd38138e37c76d1"
#define CSR_PEM                                                              \
	"-----BEGIN CERTIFICATE REQUEST-----\n"                              \
	"MIGDMDcCAQAwBDECMAAwKjAFBgMrZXADIQBvXjD0vY9mTq4m8QIWhkZkGxg8PpN3\n" \
	"oAAwBQYDK2VwA0EAXo7Q==\n"                                           \
	"-----END CERTIFICATE REQUEST-----\n"
#define CERT_PEM                        \
	"-----BEGIN CERTIFICATE-----\n" \
	"MIIBLjCB4aADAgECAhBA\n"        \
	"-----END CERTIFICATE-----\n"

/* enroll and enrolled: strict strings, the token's format, one PEM block of the right label. */
static void test_enroll(void)
{
	static const struct {
		const char *name, *json;
		enum proto_verdict want;
	} cases[] = {
		{ "enroll", "{\"type\":\"enroll\",\"token\":\"" TOK "\",\"csr\":\"" CSR_PEM "\"}",
		  PROTO_OK },
		{ "enroll, no csr", "{\"type\":\"enroll\",\"token\":\"" TOK "\"}",
		  PROTO_MISSING_FIELD },
		{ "enroll, extra field",
		  "{\"type\":\"enroll\",\"token\":\"" TOK "\",\"csr\":\"" CSR_PEM
		  "\",\"device\":\"x\"}",
		  PROTO_UNKNOWN_FIELD },
		{ "enroll, token upper case",
		  "{\"type\":\"enroll\",\"token\":\"CG1.D7D364BB5D7EF1C7."
		  "993A5DC4F5C42F35E57E2C796B8A0A958F139709F53A374E2989C5ED05AA903A."
		  "56D46BC54A9F01153ADE54C1AFE950FC5868A7360470B1F94BD38138E37C76D1"
		  "\",\"csr\":\"" CSR_PEM "\"}",
		  PROTO_BAD_FIELD },
		{ "enroll, token short",
		  "{\"type\":\"enroll\",\"token\":\"cg1.00\",\"csr\":\"" CSR_PEM "\"}",
		  PROTO_BAD_FIELD },
		{ "enroll, token a number",
		  "{\"type\":\"enroll\",\"token\":1,\"csr\":\"" CSR_PEM "\"}", PROTO_BAD_FIELD },
		{ "enroll, certificate for csr",
		  "{\"type\":\"enroll\",\"token\":\"" TOK "\",\"csr\":\"" CERT_PEM "\"}",
		  PROTO_BAD_FIELD },
		{ "enroll, two blocks",
		  "{\"type\":\"enroll\",\"token\":\"" TOK "\",\"csr\":\"" CSR_PEM CSR_PEM "\"}",
		  PROTO_BAD_FIELD },
		{ "enroll, CR in the PEM",
		  "{\"type\":\"enroll\",\"token\":\"" TOK
		  "\",\"csr\":\"-----BEGIN CERTIFICATE REQUEST-----\\r\\nAAAA\\n"
		  "-----END CERTIFICATE REQUEST-----\\n\"}",
		  PROTO_BAD_FIELD },
		{ "enroll, empty line",
		  "{\"type\":\"enroll\",\"token\":\"" TOK
		  "\",\"csr\":\"-----BEGIN CERTIFICATE REQUEST-----\\n\\nAAAA\\n"
		  "-----END CERTIFICATE REQUEST-----\\n\"}",
		  PROTO_BAD_FIELD },
		{ "enroll, no last newline",
		  "{\"type\":\"enroll\",\"token\":\"" TOK
		  "\",\"csr\":\"-----BEGIN CERTIFICATE REQUEST-----\\nAAAA\\n"
		  "-----END CERTIFICATE REQUEST-----\"}",
		  PROTO_BAD_FIELD },
		{ "enrolled",
		  "{\"type\":\"enrolled\",\"cert\":\"" CERT_PEM "\",\"ca\":\"" CERT_PEM "\"}",
		  PROTO_OK },
		{ "enrolled, no ca", "{\"type\":\"enrolled\",\"cert\":\"" CERT_PEM "\"}",
		  PROTO_MISSING_FIELD },
		{ "enrolled, a CSR",
		  "{\"type\":\"enrolled\",\"cert\":\"" CSR_PEM "\",\"ca\":\"" CERT_PEM "\"}",
		  PROTO_BAD_FIELD },
	};
	char big[PROTO_CSR_MAX + 256], json[PROTO_MAX_BODY];
	struct proto_msg m;
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char unescaped[PROTO_MAX_BODY];
		const char *p;
		size_t k = 0;

		/* The table writes JSON's \n as a real newline for reading: escape them back. */
		for (p = cases[i].json; *p && k + 2 < sizeof(unescaped); p++) {
			if (*p == '\n') {
				unescaped[k++] = '\\';
				unescaped[k++] = 'n';
			} else {
				unescaped[k++] = *p;
			}
		}
		ASSERT_EQ(proto_decode((const uint8_t *)unescaped, k, &m), cases[i].want,
			  cases[i].name);
	}
	memset(&m, 0, sizeof(m));
	m.type = PROTO_ENROLL;
	strcpy(m.u.enroll.token, TOK);
	strcpy(m.u.enroll.csr, CSR_PEM);
	if (round_trip(&m, "enroll round trip")) {
		uint8_t buf[PROTO_MAX_FRAME];
		struct proto_msg out;
		size_t len;

		proto_encode(&m, buf, sizeof(buf), &len);
		proto_decode(buf + PROTO_HDR_LEN, len - PROTO_HDR_LEN, &out);
		ASSERT_STREQ(out.u.enroll.token, TOK, "token");
		ASSERT_STREQ(out.u.enroll.csr, CSR_PEM, "csr");
	}
	memset(&m, 0, sizeof(m));
	m.type = PROTO_ENROLLED;
	strcpy(m.u.enrolled.cert, CERT_PEM);
	strcpy(m.u.enrolled.ca, CERT_PEM);
	round_trip(&m, "enrolled round trip");
	/* A CSR that does not fit PROTO_CSR_MAX: lines of 64, one too many. */
	n = (size_t)snprintf(big, sizeof(big), "-----BEGIN CERTIFICATE REQUEST-----\\n");
	while (n < PROTO_CSR_MAX + 64) {
		memset(big + n, 'A', 64);
		memcpy(big + n + 64, "\\n", 2);
		n += 66;
	}
	snprintf(big + n, sizeof(big) - n, "-----END CERTIFICATE REQUEST-----\\n");
	snprintf(json, sizeof(json), "{\"type\":\"enroll\",\"token\":\"%s\",\"csr\":\"%s\"}", TOK,
		 big);
	ASSERT_EQ(proto_decode((const uint8_t *)json, strlen(json), &m), PROTO_BAD_FIELD,
		  "csr too long");
	memset(&m, 0, sizeof(m));
	m.type = PROTO_ENROLL;
	strcpy(m.u.enroll.token, TOK);
	ASSERT_EQ(proto_encode(&m, (uint8_t *)json, sizeof(json), &n), -EINVAL, "encode: no csr");
	ASSERT_TRUE(proto_pem_ok(CSR_PEM, sizeof(CSR_PEM), "CERTIFICATE REQUEST"), "pem ok");
	ASSERT_TRUE(!proto_pem_ok(CSR_PEM, 10, "CERTIFICATE REQUEST"), "no NUL within cap");
}

T_MAIN(T_CASE(test_round_trip), T_CASE(test_known_answer), T_CASE(test_known_answer_modes),
       T_CASE(test_offer), T_CASE(test_refusals), T_CASE(test_encode_refuses),
       T_CASE(test_framing_bytewise), T_CASE(test_framing_refusals), T_CASE(test_max_body),
       T_CASE(test_enroll))
