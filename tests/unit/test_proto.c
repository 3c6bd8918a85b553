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
		break;
	case PROTO_ERROR:
		ok &= ASSERT_STREQ(out.u.error.reason, m->u.error.reason, name);
		break;
	case PROTO_CAPABILITY:
		ok &= ASSERT_MEMEQ(&out.u.cap, &m->u.cap, sizeof(m->u.cap), name);
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
	strcpy(m.u.hello.app, "sensor");
	round_trip(&m, "hello");
	m = cap_sample();
	round_trip(&m, "capability");
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
		"\"keepalive\":15,\"data_port\":51900}";
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
	  "\"keepalive\":1,\"data_port\":1}",
	  PROTO_UNKNOWN_FIELD },
	{ "ports on icmp",
	  "{\"type\":\"capability\",\"session\":1,\"expires_in\":1,\"vip\":\"1.2.3.4\","
	  "\"scopes\":[{\"proto\":\"icmp\",\"dst\":\"1.2.3.4\",\"ports\":\"1\"}],"
	  "\"keepalive\":1,\"data_port\":1}",
	  PROTO_UNKNOWN_FIELD },
	{ "hello without app", "{\"type\":\"hello\"}", PROTO_MISSING_FIELD },
	{ "capability without vip",
	  "{\"type\":\"capability\",\"session\":1,\"expires_in\":1,\"scopes\":[],"
	  "\"keepalive\":1,\"data_port\":1}",
	  PROTO_MISSING_FIELD },
	{ "tcp scope without ports",
	  "{\"type\":\"capability\",\"session\":1,\"expires_in\":1,\"vip\":\"1.2.3.4\","
	  "\"scopes\":[{\"proto\":\"tcp\",\"dst\":\"1.2.3.4\"}],\"keepalive\":1,\"data_port\":1}",
	  PROTO_MISSING_FIELD },
	{ "error without reason", "{\"type\":\"error\"}", PROTO_MISSING_FIELD },
	{ "app with a slash", "{\"type\":\"hello\",\"app\":\"a/b\"}", PROTO_BAD_FIELD },
	{ "app empty", "{\"type\":\"hello\",\"app\":\"\"}", PROTO_BAD_FIELD },
	{ "app too long",
	  "{\"type\":\"hello\",\"app\":"
	  "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	  PROTO_BAD_FIELD },
	{ "app a number", "{\"type\":\"hello\",\"app\":5}", PROTO_BAD_FIELD },
	{ "reason with a newline", "{\"type\":\"error\",\"reason\":\"a\\nb\"}", PROTO_BAD_FIELD },
	{ "session 0",
	  "{\"type\":\"capability\",\"session\":0,\"expires_in\":1,\"vip\":\"1.2.3.4\","
	  "\"scopes\":[],\"keepalive\":1,\"data_port\":1}",
	  PROTO_BAD_FIELD },
	{ "session too big",
	  "{\"type\":\"capability\",\"session\":4294967296,\"expires_in\":1,\"vip\":\"1.2.3.4\","
	  "\"scopes\":[],\"keepalive\":1,\"data_port\":1}",
	  PROTO_BAD_FIELD },
	{ "session a float",
	  "{\"type\":\"capability\",\"session\":1.5,\"expires_in\":1,\"vip\":\"1.2.3.4\","
	  "\"scopes\":[],\"keepalive\":1,\"data_port\":1}",
	  PROTO_BAD_FIELD },
	{ "data_port 65536",
	  "{\"type\":\"capability\",\"session\":1,\"expires_in\":1,\"vip\":\"1.2.3.4\","
	  "\"scopes\":[],\"keepalive\":1,\"data_port\":65536}",
	  PROTO_BAD_FIELD },
	{ "bad vip",
	  "{\"type\":\"capability\",\"session\":1,\"expires_in\":1,\"vip\":\"1.2.3\","
	  "\"scopes\":[],\"keepalive\":1,\"data_port\":1}",
	  PROTO_BAD_FIELD },
	{ "scopes not an array",
	  "{\"type\":\"capability\",\"session\":1,\"expires_in\":1,\"vip\":\"1.2.3.4\","
	  "\"scopes\":{},\"keepalive\":1,\"data_port\":1}",
	  PROTO_BAD_FIELD },
	{ "scope host bits",
	  "{\"type\":\"capability\",\"session\":1,\"expires_in\":1,\"vip\":\"1.2.3.4\","
	  "\"scopes\":[{\"proto\":\"udp\",\"dst\":\"10.0.0.1/8\",\"ports\":\"7\"}],"
	  "\"keepalive\":1,\"data_port\":1}",
	  PROTO_BAD_FIELD },
	{ "ports reversed",
	  "{\"type\":\"capability\",\"session\":1,\"expires_in\":1,\"vip\":\"1.2.3.4\","
	  "\"scopes\":[{\"proto\":\"udp\",\"dst\":\"10.0.0.0/8\",\"ports\":\"9-7\"}],"
	  "\"keepalive\":1,\"data_port\":1}",
	  PROTO_BAD_FIELD },
	{ "ports signed",
	  "{\"type\":\"capability\",\"session\":1,\"expires_in\":1,\"vip\":\"1.2.3.4\","
	  "\"scopes\":[{\"proto\":\"udp\",\"dst\":\"10.0.0.0/8\",\"ports\":\"+7\"}],"
	  "\"keepalive\":1,\"data_port\":1}",
	  PROTO_BAD_FIELD },
	{ "unknown scope proto",
	  "{\"type\":\"capability\",\"session\":1,\"expires_in\":1,\"vip\":\"1.2.3.4\","
	  "\"scopes\":[{\"proto\":\"sctp\",\"dst\":\"10.0.0.0/8\"}],"
	  "\"keepalive\":1,\"data_port\":1}",
	  PROTO_BAD_FIELD },
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
	m.type = 99;
	ASSERT_EQ(proto_encode(&m, buf, sizeof(buf), &len), -EINVAL, "unknown type");
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

T_MAIN(T_CASE(test_round_trip), T_CASE(test_known_answer), T_CASE(test_refusals),
       T_CASE(test_encode_refuses), T_CASE(test_framing_bytewise), T_CASE(test_framing_refusals),
       T_CASE(test_max_body))
