// SPDX-License-Identifier: GPL-2.0
/* Control messages: framing, strict JSON decoding into structs, and encoding. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>
#include <sodium.h>

#include "lib/auth/proto.h"
#include "lib/auth/token.h"
#include "lib/base/addr.h"
#include "lib/base/parse_num.h"
#include "lib/base/rd.h"

static const char *const verdict_names[PROTO_VERDICT_MAX] = {
	[PROTO_OK] = "ok",
	[PROTO_MORE] = "more",
	[PROTO_BAD_LENGTH] = "bad_length",
	[PROTO_NOT_JSON] = "not_json",
	[PROTO_NOT_OBJECT] = "not_object",
	[PROTO_NO_TYPE] = "no_type",
	[PROTO_UNKNOWN_TYPE] = "unknown_type",
	[PROTO_UNKNOWN_FIELD] = "unknown_field",
	[PROTO_MISSING_FIELD] = "missing_field",
	[PROTO_BAD_FIELD] = "bad_field",
};

/* Per type: its name and the only fields it may carry besides "type". */
static const struct {
	const char *name;
	const char *fields[9];
} types[PROTO_TYPE_MAX] = {
	[PROTO_HELLO] = { "hello", { "app", "mode", "ciphers", "resume" } },
	[PROTO_CAPABILITY] = { "capability",
			       { "session", "expires_in", "vip", "scopes", "keepalive", "data_port",
				 "mode", "cipher" } },
	[PROTO_RENEW] = { "renew", { NULL } },
	[PROTO_KEEPALIVE] = { "keepalive", { NULL } },
	[PROTO_KEEPALIVE_ACK] = { "keepalive_ack", { NULL } },
	[PROTO_BYE] = { "bye", { NULL } },
	[PROTO_ERROR] = { "error", { "reason" } },
	[PROTO_ENROLL] = { "enroll", { "token", "csr" } },
	[PROTO_ENROLLED] = { "enrolled", { "cert", "ca" } },
};

#define CSR_LABEL "CERTIFICATE REQUEST"
#define CERT_LABEL "CERTIFICATE"

static const struct {
	const char *name;
	uint8_t proto;
	bool ports;
} scope_protos[] = {
	{ "tcp", IPPROTO_TCP, true },
	{ "udp", IPPROTO_UDP, true },
	{ "icmp", IPPROTO_ICMP, false },
	{ "icmpv6", IPPROTO_ICMPV6, false },
	{ "any", 0, false },
};

const char *proto_verdict_str(enum proto_verdict v)
{
	if ((unsigned int)v >= PROTO_VERDICT_MAX)
		return "?";
	return verdict_names[v];
}

const char *proto_type_str(uint32_t type)
{
	if (type == 0 || type >= PROTO_TYPE_MAX)
		return "?";
	return types[type].name;
}

bool proto_name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		char c = s[i];

		if (i >= PROTO_NAME_MAX - 1)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return i > 0;
}

static bool reason_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		if (i >= PROTO_REASON_MAX - 1 || s[i] < 0x20 || s[i] > 0x7e)
			return false;
	}
	return i > 0;
}

static bool b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '=';
}

bool proto_pem_ok(const char *s, size_t cap, const char *label)
{
	char begin[64], end[64];
	size_t n, bl, el, i, line = 0;

	if (!s || !memchr(s, '\0', cap))
		return false;
	n = strlen(s);
	bl = (size_t)snprintf(begin, sizeof(begin), "-----BEGIN %s-----\n", label);
	el = (size_t)snprintf(end, sizeof(end), "-----END %s-----\n", label);
	if (n < bl + el + 2 || memcmp(s, begin, bl) || memcmp(s + n - el, end, el) ||
	    s[n - el - 1] != '\n')
		return false;
	/* The body: base64 lines of 1..76 characters, each ended by a newline. */
	for (i = bl; i < n - el; i++) {
		if (s[i] == '\n') {
			if (!line)
				return false;
			line = 0;
		} else if (!b64_char(s[i]) || ++line > 76) {
			return false;
		}
	}
	return true;
}

static bool token_field_ok(const char *s, size_t cap)
{
	struct token t;
	bool ok = memchr(s, '\0', cap) && token_parse(s, strlen(s), &t) == TOKEN_OK;

	sodium_memzero(&t, sizeof(t));
	return ok;
}

bool proto_offer_ok(const struct proto_offer *o)
{
	size_t i, k;

	if ((o->mode && o->mode != CG_TUN_F_ENCRYPTED) || o->nciphers > PROTO_CIPHERS_MAX)
		return false;
	for (i = 0; i < PROTO_CIPHERS_MAX; i++) {
		if (i >= o->nciphers) {
			if (o->ciphers[i])
				return false;
			continue;
		}
		if (!cipher_name(o->ciphers[i]))
			return false;
		for (k = 0; k < i; k++)
			if (o->ciphers[k] == o->ciphers[i])
				return false;
	}
	return true;
}

void proto_offer_make(struct proto_offer *o, uint8_t mode, uint8_t cipher, bool aes)
{
	memset(o, 0, sizeof(*o));
	o->mode = mode;
	if (cipher) {
		o->ciphers[o->nciphers++] = cipher;
		return;
	}
	if (aes)
		o->ciphers[o->nciphers++] = CG_CIPHER_AES256_GCM;
	o->ciphers[o->nciphers++] = CG_CIPHER_CHACHA20_POLY1305;
}

void proto_offer_choose(const struct proto_offer *o, uint8_t policy_mode, bool aes, uint8_t *mode,
			uint8_t *cipher)
{
	size_t i;

	*mode = (policy_mode | o->mode) & CG_TUN_F_ENCRYPTED;
	*cipher = 0;
	if (!*mode)
		return;
	for (i = 0; i < o->nciphers && !*cipher; i++)
		if (o->ciphers[i] == CG_CIPHER_CHACHA20_POLY1305 ||
		    (o->ciphers[i] == CG_CIPHER_AES256_GCM && aes))
			*cipher = o->ciphers[i];
	if (!*cipher)
		*cipher = CG_CIPHER_CHACHA20_POLY1305;
}

int proto_cap_accept(const struct proto_offer *o, const struct cap_msg *c, char *why, size_t whylen)
{
	size_t i;

	if (o->mode == CG_TUN_F_ENCRYPTED && c->mode != CG_TUN_F_ENCRYPTED) {
		snprintf(why, whylen,
			 "the gateway granted integrity mode (payloads in clear) and this client "
			 "asks for encrypted (mode = encrypted): refused");
		return -EPROTO;
	}
	if (c->mode != CG_TUN_F_ENCRYPTED)
		return 0;
	for (i = 0; i < o->nciphers; i++)
		if (o->ciphers[i] == c->cipher)
			return 0;
	if (!o->nciphers && c->cipher == CG_CIPHER_CHACHA20_POLY1305)
		return 0;
	snprintf(why, whylen, "the gateway chose %s, a cipher this client did not offer: refused",
		 cipher_name(c->cipher) ? cipher_name(c->cipher) : "?");
	return -EPROTO;
}

static int scope_proto_find(uint8_t proto)
{
	size_t i;

	for (i = 0; i < sizeof(scope_protos) / sizeof(scope_protos[0]); i++)
		if (scope_protos[i].proto == proto)
			return (int)i;
	return -1;
}

static bool scope_ok(const struct cg_scope *s)
{
	int k = scope_proto_find(s->proto);
	unsigned int i;

	if (k < 0 || s->plen > 128)
		return false;
	/* Bits past the prefix are zero, as cidr_parse guarantees. */
	for (i = s->plen; i < 128; i++)
		if (s->addr[i / 8] & (0x80 >> (i % 8)))
			return false;
	if (scope_protos[k].ports)
		return s->port_lo <= s->port_hi;
	return s->port_lo == 0 && s->port_hi == 0;
}

static bool cap_ok(const struct cap_msg *c)
{
	uint32_t i;

	if (c->session == 0 || c->expires_in == 0 || c->expires_in > PROTO_EXPIRES_MAX ||
	    c->keepalive == 0 || c->keepalive > PROTO_KEEPALIVE_MAX || c->data_port == 0 ||
	    c->nscopes > CG_MAX_SCOPES)
		return false;
	if (c->mode == CG_TUN_F_ENCRYPTED ? !cipher_name(c->cipher) : c->mode || c->cipher)
		return false;
	for (i = 0; i < c->nscopes; i++)
		if (!scope_ok(&c->scopes[i]))
			return false;
	return true;
}

/* A scope's destination as text: IPv4 when the prefix lies inside ::ffff:0:0/96. */
static void scope_dst_format(const struct cg_scope *s, char *buf, size_t len)
{
	struct cidr c = { 0 };

	if (addr_is_v4mapped(s->addr) && s->plen >= 96) {
		c.family = AF_INET;
		c.plen = (uint8_t)(s->plen - 96);
		memcpy(c.addr, s->addr + 12, 4);
	} else {
		c.family = AF_INET6;
		c.plen = s->plen;
		memcpy(c.addr, s->addr, 16);
	}
	cidr_format(&c, buf, len);
}

static json_t *scopes_encode(const struct cap_msg *c)
{
	json_t *arr = json_array(), *o;
	char dst[CG_ADDRSTRLEN], ports[16];
	uint32_t i;
	int k;

	if (!arr)
		return NULL;
	for (i = 0; i < c->nscopes; i++) {
		const struct cg_scope *s = &c->scopes[i];

		k = scope_proto_find(s->proto);
		scope_dst_format(s, dst, sizeof(dst));
		if (scope_protos[k].ports) {
			snprintf(ports, sizeof(ports), "%u-%u", s->port_lo, s->port_hi);
			o = json_pack("{s:s,s:s,s:s}", "proto", scope_protos[k].name, "dst", dst,
				      "ports", ports);
		} else {
			o = json_pack("{s:s,s:s}", "proto", scope_protos[k].name, "dst", dst);
		}
		if (!o || json_array_append_new(arr, o)) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/* hello: "app", "mode" and "ciphers" only when given, "resume" if not 0. */
static json_t *hello_encode(const struct proto_msg *m)
{
	const struct proto_offer *o = &m->u.hello.offer;
	json_t *j = json_pack("{s:s}", "type", "hello"), *arr;
	size_t i;

	if (!j)
		return NULL;
	if (m->u.hello.app[0] && json_object_set_new(j, "app", json_string(m->u.hello.app)))
		goto fail;
	if (o->mode && json_object_set_new(j, "mode", json_string("encrypted")))
		goto fail;
	if (m->u.hello.resume &&
	    json_object_set_new(j, "resume", json_integer((json_int_t)m->u.hello.resume)))
		goto fail;
	if (!o->nciphers)
		return j;
	arr = json_array();
	if (json_object_set_new(j, "ciphers", arr))
		goto fail;
	for (i = 0; i < o->nciphers; i++)
		if (json_array_append_new(arr, json_string(cipher_name(o->ciphers[i]))))
			goto fail;
	return j;
fail:
	json_decref(j);
	return NULL;
}

static json_t *msg_encode(const struct proto_msg *m)
{
	const struct cap_msg *c = &m->u.cap;
	char vip[CG_ADDRSTRLEN];
	json_t *scopes, *j;

	switch (m->type) {
	case PROTO_HELLO:
		return hello_encode(m);
	case PROTO_CAPABILITY:
		scopes = scopes_encode(c);
		if (!scopes)
			return NULL;
		addr_format_mapped(c->vip, vip, sizeof(vip));
		j = json_pack("{s:s,s:I,s:I,s:s,s:o,s:I,s:I,s:s}", "type", "capability", "session",
			      (json_int_t)c->session, "expires_in", (json_int_t)c->expires_in,
			      "vip", vip, "scopes", scopes, "keepalive", (json_int_t)c->keepalive,
			      "data_port", (json_int_t)c->data_port, "mode",
			      c->mode ? "encrypted" : "integrity");
		if (j && c->mode &&
		    json_object_set_new(j, "cipher", json_string(cipher_name(c->cipher)))) {
			json_decref(j);
			return NULL;
		}
		return j;
	case PROTO_ERROR:
		return json_pack("{s:s,s:s}", "type", "error", "reason", m->u.error.reason);
	case PROTO_ENROLL:
		return json_pack("{s:s,s:s,s:s}", "type", "enroll", "token", m->u.enroll.token,
				 "csr", m->u.enroll.csr);
	case PROTO_ENROLLED:
		return json_pack("{s:s,s:s,s:s}", "type", "enrolled", "cert", m->u.enrolled.cert,
				 "ca", m->u.enrolled.ca);
	default:
		return json_pack("{s:s}", "type", types[m->type].name);
	}
}

bool proto_msg_ok(const struct proto_msg *m)
{
	switch (m->type) {
	case PROTO_HELLO:
		return memchr(m->u.hello.app, 0, sizeof(m->u.hello.app)) &&
		       (!m->u.hello.app[0] || proto_name_ok(m->u.hello.app)) &&
		       proto_offer_ok(&m->u.hello.offer);
	case PROTO_CAPABILITY:
		return cap_ok(&m->u.cap);
	case PROTO_ERROR:
		return memchr(m->u.error.reason, 0, sizeof(m->u.error.reason)) &&
		       reason_ok(m->u.error.reason);
	case PROTO_ENROLL:
		return token_field_ok(m->u.enroll.token, sizeof(m->u.enroll.token)) &&
		       proto_pem_ok(m->u.enroll.csr, sizeof(m->u.enroll.csr), CSR_LABEL);
	case PROTO_ENROLLED:
		return proto_pem_ok(m->u.enrolled.cert, sizeof(m->u.enrolled.cert), CERT_LABEL) &&
		       proto_pem_ok(m->u.enrolled.ca, sizeof(m->u.enrolled.ca), CERT_LABEL);
	case PROTO_RENEW:
	case PROTO_KEEPALIVE:
	case PROTO_KEEPALIVE_ACK:
	case PROTO_BYE:
		return true;
	default:
		return false;
	}
}

int proto_encode(const struct proto_msg *m, uint8_t *buf, size_t cap, size_t *len)
{
	json_t *j = NULL;
	size_t n;
	int ret = -EINVAL;

	if (!proto_msg_ok(m))
		goto out;
	ret = -EMSGSIZE;
	if (cap < PROTO_HDR_LEN)
		goto out;
	ret = -ENOMEM;
	j = msg_encode(m);
	if (!j)
		goto out;
	n = json_dumpb(j, (char *)buf + PROTO_HDR_LEN, cap - PROTO_HDR_LEN, JSON_COMPACT);
	ret = -EMSGSIZE;
	if (n == 0 || n > cap - PROTO_HDR_LEN || n > PROTO_MAX_BODY)
		goto out;
	buf[0] = (uint8_t)(n >> 24);
	buf[1] = (uint8_t)(n >> 16);
	buf[2] = (uint8_t)(n >> 8);
	buf[3] = (uint8_t)n;
	*len = n + PROTO_HDR_LEN;
	ret = 0;
out:
	json_decref(j);
	return ret;
}

int proto_append(const struct proto_msg *m, uint8_t *buf, size_t cap, size_t *have)
{
	size_t len;
	int err;

	if (*have > cap)
		return -EMSGSIZE;
	err = proto_encode(m, buf + *have, cap - *have, &len);
	if (!err)
		*have += len;
	return err;
}

/* An integer field in [min, max]. */
static enum proto_verdict get_uint(const json_t *o, const char *key, uint32_t min, uint32_t max,
				   uint32_t *out)
{
	const json_t *v = json_object_get(o, key);
	json_int_t x;

	if (!v)
		return PROTO_MISSING_FIELD;
	if (!json_is_integer(v))
		return PROTO_BAD_FIELD;
	x = json_integer_value(v);
	if (x < (json_int_t)min || x > (json_int_t)max)
		return PROTO_BAD_FIELD;
	*out = (uint32_t)x;
	return PROTO_OK;
}

static enum proto_verdict get_str(const json_t *o, const char *key, const char **out)
{
	const json_t *v = json_object_get(o, key);

	if (!v)
		return PROTO_MISSING_FIELD;
	if (!json_is_string(v))
		return PROTO_BAD_FIELD;
	*out = json_string_value(v);
	return PROTO_OK;
}

/* A string field that fits buf (NUL included) copied there; PROTO_BAD_FIELD if longer. */
static enum proto_verdict str_copy(const json_t *o, const char *key, char *buf, size_t cap)
{
	enum proto_verdict ret;
	const char *s;

	ret = get_str(o, key, &s);
	if (ret)
		return ret;
	if (strlen(s) >= cap)
		return PROTO_BAD_FIELD;
	memcpy(buf, s, strlen(s) + 1);
	return PROTO_OK;
}

/* "LO-HI" or "P", each 0..65535 through parse_u32, LO <= HI. */
static int ports_parse(const char *s, uint16_t *lo, uint16_t *hi)
{
	char buf[16];
	const char *dash = strchr(s, '-');
	uint32_t a, b;
	size_t n = strlen(s);

	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n + 1);
	if (dash) {
		buf[dash - s] = '\0';
		if (parse_u32(buf, 0, 65535, &a) || parse_u32(buf + (dash - s) + 1, 0, 65535, &b))
			return -EINVAL;
	} else {
		if (parse_u32(buf, 0, 65535, &a))
			return -EINVAL;
		b = a;
	}
	if (a > b)
		return -EINVAL;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

static enum proto_verdict scope_decode(const json_t *o, struct cg_scope *out)
{
	struct cg_scope s = { 0 };
	const char *proto, *dst, *ports, *key, *why = NULL;
	const json_t *v;
	struct cidr c;
	enum proto_verdict ret;
	size_t i, k = sizeof(scope_protos) / sizeof(scope_protos[0]);

	if (!json_is_object(o))
		return PROTO_BAD_FIELD;
	json_object_foreach((json_t *)o, key, v)
	{
		if (strcmp(key, "proto") && strcmp(key, "dst") && strcmp(key, "ports"))
			return PROTO_UNKNOWN_FIELD;
	}
	ret = get_str(o, "proto", &proto);
	if (ret)
		return ret;
	ret = get_str(o, "dst", &dst);
	if (ret)
		return ret;
	for (i = 0; i < k; i++)
		if (!strcmp(proto, scope_protos[i].name))
			break;
	if (i == k)
		return PROTO_BAD_FIELD;
	s.proto = scope_protos[i].proto;
	if (cidr_parse(dst, &c, &why))
		return PROTO_BAD_FIELD;
	if (c.family == AF_INET) {
		s.addr[10] = 0xff;
		s.addr[11] = 0xff;
		memcpy(s.addr + 12, c.addr, 4);
		s.plen = (uint8_t)(c.plen + 96);
	} else {
		memcpy(s.addr, c.addr, 16);
		s.plen = c.plen;
	}
	ret = get_str(o, "ports", &ports);
	if (scope_protos[i].ports) {
		if (ret)
			return ret;
		if (ports_parse(ports, &s.port_lo, &s.port_hi))
			return PROTO_BAD_FIELD;
	} else if (ret != PROTO_MISSING_FIELD) {
		return ret == PROTO_OK ? PROTO_UNKNOWN_FIELD : ret;
	}
	*out = s;
	return PROTO_OK;
}

/* hello's optional "mode" ("encrypted" only) and "ciphers" (1..4 known names, no duplicates). */
static enum proto_verdict offer_decode(const json_t *o, struct proto_offer *out)
{
	struct proto_offer f = { 0 };
	const json_t *arr, *v;
	enum proto_verdict ret;
	const char *mode;
	size_t i, k;

	ret = get_str(o, "mode", &mode);
	if (ret == PROTO_OK && strcmp(mode, "encrypted"))
		return PROTO_BAD_FIELD;
	if (ret == PROTO_BAD_FIELD)
		return ret;
	f.mode = ret == PROTO_OK ? CG_TUN_F_ENCRYPTED : 0;
	arr = json_object_get(o, "ciphers");
	if (arr) {
		if (!json_is_array(arr) || json_array_size(arr) < 1 ||
		    json_array_size(arr) > PROTO_CIPHERS_MAX)
			return PROTO_BAD_FIELD;
		json_array_foreach(arr, i, v)
		{
			if (!json_is_string(v))
				return PROTO_BAD_FIELD;
			f.ciphers[i] = (uint8_t)cipher_by_name(json_string_value(v));
			if (!f.ciphers[i])
				return PROTO_BAD_FIELD;
			for (k = 0; k < i; k++)
				if (f.ciphers[k] == f.ciphers[i])
					return PROTO_BAD_FIELD;
		}
		f.nciphers = (uint8_t)json_array_size(arr);
	}
	*out = f;
	return PROTO_OK;
}

/* The capability's "mode" (required) and "cipher" (for encrypted, and only then). */
static enum proto_verdict cap_mode_decode(const json_t *o, struct cap_msg *c)
{
	enum proto_verdict ret;
	const char *mode, *cipher;

	ret = get_str(o, "mode", &mode);
	if (ret)
		return ret;
	if (!strcmp(mode, "encrypted"))
		c->mode = CG_TUN_F_ENCRYPTED;
	else if (strcmp(mode, "integrity"))
		return PROTO_BAD_FIELD;
	ret = get_str(o, "cipher", &cipher);
	if (!c->mode)
		return ret == PROTO_MISSING_FIELD ? PROTO_OK : PROTO_BAD_FIELD;
	if (ret)
		return PROTO_BAD_FIELD;
	c->cipher = (uint8_t)cipher_by_name(cipher);
	return c->cipher ? PROTO_OK : PROTO_BAD_FIELD;
}

static enum proto_verdict cap_decode(const json_t *o, struct cap_msg *out)
{
	struct cap_msg c;
	const json_t *scopes;
	const char *vip;
	uint32_t port;
	enum proto_verdict ret;
	size_t i;

	memset(&c, 0, sizeof(c));
	if ((ret = get_uint(o, "session", 1, UINT32_MAX, &c.session)) ||
	    (ret = get_uint(o, "expires_in", 1, PROTO_EXPIRES_MAX, &c.expires_in)) ||
	    (ret = get_str(o, "vip", &vip)) ||
	    (ret = get_uint(o, "keepalive", 1, PROTO_KEEPALIVE_MAX, &c.keepalive)) ||
	    (ret = get_uint(o, "data_port", 1, 65535, &port)) || (ret = cap_mode_decode(o, &c)))
		return ret;
	c.data_port = (uint16_t)port;
	if (addr_parse_mapped(vip, c.vip))
		return PROTO_BAD_FIELD;
	scopes = json_object_get(o, "scopes");
	if (!scopes)
		return PROTO_MISSING_FIELD;
	if (!json_is_array(scopes) || json_array_size(scopes) > CG_MAX_SCOPES)
		return PROTO_BAD_FIELD;
	for (i = 0; i < json_array_size(scopes); i++) {
		ret = scope_decode(json_array_get(scopes, i), &c.scopes[i]);
		if (ret)
			return ret;
	}
	c.nscopes = (uint32_t)i;
	*out = c;
	return PROTO_OK;
}

static enum proto_verdict obj_decode(const json_t *o, struct proto_msg *out)
{
	struct proto_msg m;
	const char *tname, *key, *s;
	const json_t *v;
	enum proto_verdict ret;
	uint32_t t;
	size_t i;

	memset(&m, 0, sizeof(m));
	v = json_object_get(o, "type");
	if (!json_is_string(v))
		return PROTO_NO_TYPE;
	tname = json_string_value(v);
	for (t = 1; t < PROTO_TYPE_MAX; t++)
		if (!strcmp(tname, types[t].name))
			break;
	if (t == PROTO_TYPE_MAX)
		return PROTO_UNKNOWN_TYPE;
	m.type = t;
	json_object_foreach((json_t *)o, key, v)
	{
		bool known = !strcmp(key, "type");

		for (i = 0; !known && i < sizeof(types[t].fields) / sizeof(types[t].fields[0]) &&
			    types[t].fields[i];
		     i++)
			known = !strcmp(key, types[t].fields[i]);
		if (!known)
			return PROTO_UNKNOWN_FIELD;
	}
	switch (t) {
	case PROTO_HELLO:
		/* Optional: the certificate says which app; given, the worker compares. */
		ret = get_str(o, "app", &s);
		if (ret && ret != PROTO_MISSING_FIELD)
			return ret;
		if (!ret && !proto_name_ok(s))
			return PROTO_BAD_FIELD;
		if (!ret)
			strcpy(m.u.hello.app, s);
		ret = offer_decode(o, &m.u.hello.offer);
		if (ret)
			return ret;
		ret = get_uint(o, "resume", 1, UINT32_MAX, &m.u.hello.resume);
		if (ret && ret != PROTO_MISSING_FIELD)
			return ret;
		break;
	case PROTO_CAPABILITY:
		ret = cap_decode(o, &m.u.cap);
		if (ret)
			return ret;
		break;
	case PROTO_ERROR:
		ret = get_str(o, "reason", &s);
		if (ret)
			return ret;
		if (!reason_ok(s))
			return PROTO_BAD_FIELD;
		strcpy(m.u.error.reason, s);
		break;
	case PROTO_ENROLL:
		if ((ret = str_copy(o, "token", m.u.enroll.token, sizeof(m.u.enroll.token))) ||
		    (ret = str_copy(o, "csr", m.u.enroll.csr, sizeof(m.u.enroll.csr))))
			return ret;
		/* The token's format and the PEM's structure, as the encoder checks them. */
		if (!proto_msg_ok(&m))
			return PROTO_BAD_FIELD;
		break;
	case PROTO_ENROLLED:
		if ((ret = str_copy(o, "cert", m.u.enrolled.cert, sizeof(m.u.enrolled.cert))) ||
		    (ret = str_copy(o, "ca", m.u.enrolled.ca, sizeof(m.u.enrolled.ca))))
			return ret;
		if (!proto_msg_ok(&m))
			return PROTO_BAD_FIELD;
		break;
	default:
		break;
	}
	*out = m;
	return PROTO_OK;
}

enum proto_verdict proto_decode(const uint8_t *body, size_t len, struct proto_msg *out)
{
	enum proto_verdict ret;
	json_error_t jerr;
	json_t *j;

	if (len == 0 || len > PROTO_MAX_BODY)
		return PROTO_BAD_LENGTH;
	/* Objects only, no duplicate keys; jansson refuses \u0000 by default. */
	j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return PROTO_NOT_JSON;
	if (!json_is_object(j))
		ret = PROTO_NOT_OBJECT;
	else
		ret = obj_decode(j, out);
	json_decref(j);
	return ret;
}

void proto_rx_init(struct proto_rx *rx)
{
	rx->have = 0;
}

enum proto_verdict proto_rx_feed(struct proto_rx *rx, const uint8_t *p, size_t n, size_t *used,
				 struct proto_msg *out)
{
	enum proto_verdict ret;
	const uint8_t *body;
	uint32_t blen = 0;
	size_t want, take;
	struct rd r;

	rd_init(&r, p, n);
	/* Length prefix first, then exactly that many body bytes: never past one frame. */
	if (rx->have < PROTO_HDR_LEN) {
		take = PROTO_HDR_LEN - rx->have;
		if (take > rd_left(&r))
			take = rd_left(&r);
		if (rd_bytes(&r, rx->buf + rx->have, take))
			return PROTO_BAD_LENGTH;
		rx->have += take;
		if (rx->have < PROTO_HDR_LEN) {
			*used = r.off;
			return PROTO_MORE;
		}
	}
	{
		struct rd h;

		rd_init(&h, rx->buf, PROTO_HDR_LEN);
		if (rd_u32be(&h, &blen))
			return PROTO_BAD_LENGTH;
	}
	if (blen == 0 || blen > PROTO_MAX_BODY) {
		*used = r.off;
		return PROTO_BAD_LENGTH;
	}
	want = PROTO_HDR_LEN + blen - rx->have;
	take = want < rd_left(&r) ? want : rd_left(&r);
	if (rd_bytes(&r, rx->buf + rx->have, take))
		return PROTO_BAD_LENGTH;
	rx->have += take;
	*used = r.off;
	if (rx->have < PROTO_HDR_LEN + blen)
		return PROTO_MORE;
	{
		struct rd b;

		rd_init(&b, rx->buf + PROTO_HDR_LEN, blen);
		if (rd_ptr(&b, blen, &body))
			return PROTO_BAD_LENGTH;
	}
	rx->have = 0;
	ret = proto_decode(body, blen, out);
	return ret;
}
