// SPDX-License-Identifier: GPL-2.0
/* DNS messages: header, first question, answers with compression (RFC 1035 4.1), TCP framing. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/rd.h"
#include "lib/dpi/dns.h"

#define DNS_NAME_WIRE_MAX 255

enum {
	DNS_T_A = 1,
	DNS_T_NS = 2,
	DNS_T_CNAME = 5,
	DNS_T_PTR = 12,
	DNS_T_MX = 15,
	DNS_T_AAAA = 28,
};

struct dns_tcp {
	dns_msg_fn cb;
	void *ctx;
	uint8_t lenb[2]; /* the 2-byte length prefix being collected */
	size_t len_have;
	size_t want;  /* length of the current message once lenb is complete */
	uint8_t *buf; /* message bytes so far; grows with them (cap), never beyond 65535 */
	size_t have, cap;
	bool stopped;
};

const char *dns_outcome_str(enum dns_outcome oc)
{
	static const char *const names[] = {
		[DNS_OK] = "ok",
		[DNS_SHORT] = "short",
		[DNS_BAD_NAME] = "bad_name",
		[DNS_BAD_RDATA] = "bad_rdata",
		[DNS_GAP] = "gap",
	};

	if ((unsigned int)oc < sizeof(names) / sizeof(names[0]) && names[oc])
		return names[oc];
	return "unknown";
}

const char *dns_type_str(uint16_t type, char buf[DNS_TYPE_STR_MAX])
{
	/*
	 * The IANA "Resource Record (RR) TYPEs" registry (DNS parameters,
	 * 2025), data types, QTYPEs and meta-types alike; 255 is "ANY" as dig
	 * and tshark print the registry's "*".
	 */
	static const char *const names[] = {
		[1] = "A",	   [2] = "NS",	    [3] = "MD",		 [4] = "MF",
		[5] = "CNAME",	   [6] = "SOA",	    [7] = "MB",		 [8] = "MG",
		[9] = "MR",	   [10] = "NULL",   [11] = "WKS",	 [12] = "PTR",
		[13] = "HINFO",	   [14] = "MINFO",  [15] = "MX",	 [16] = "TXT",
		[17] = "RP",	   [18] = "AFSDB",  [19] = "X25",	 [20] = "ISDN",
		[21] = "RT",	   [22] = "NSAP",   [23] = "NSAP-PTR",	 [24] = "SIG",
		[25] = "KEY",	   [26] = "PX",	    [27] = "GPOS",	 [28] = "AAAA",
		[29] = "LOC",	   [30] = "NXT",    [31] = "EID",	 [32] = "NIMLOC",
		[33] = "SRV",	   [34] = "ATMA",   [35] = "NAPTR",	 [36] = "KX",
		[37] = "CERT",	   [38] = "A6",	    [39] = "DNAME",	 [40] = "SINK",
		[41] = "OPT",	   [42] = "APL",    [43] = "DS",	 [44] = "SSHFP",
		[45] = "IPSECKEY", [46] = "RRSIG",  [47] = "NSEC",	 [48] = "DNSKEY",
		[49] = "DHCID",	   [50] = "NSEC3",  [51] = "NSEC3PARAM", [52] = "TLSA",
		[53] = "SMIMEA",   [55] = "HIP",    [56] = "NINFO",	 [57] = "RKEY",
		[58] = "TALINK",   [59] = "CDS",    [60] = "CDNSKEY",	 [61] = "OPENPGPKEY",
		[62] = "CSYNC",	   [63] = "ZONEMD", [64] = "SVCB",	 [65] = "HTTPS",
		[66] = "DSYNC",	   [67] = "HHIT",   [68] = "BRID",	 [99] = "SPF",
		[100] = "UINFO",   [101] = "UID",   [102] = "GID",	 [103] = "UNSPEC",
		[104] = "NID",	   [105] = "L32",   [106] = "L64",	 [107] = "LP",
		[108] = "EUI48",   [109] = "EUI64", [128] = "NXNAME",	 [249] = "TKEY",
		[250] = "TSIG",	   [251] = "IXFR",  [252] = "AXFR",	 [253] = "MAILB",
		[254] = "MAILA",   [255] = "ANY",   [256] = "URI",	 [257] = "CAA",
		[258] = "AVC",	   [259] = "DOA",   [260] = "AMTRELAY",	 [261] = "RESINFO",
		[262] = "WALLET",  [263] = "CLA",   [264] = "IPN",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	if (type == 32768)
		return "TA";
	if (type == 32769)
		return "DLV";
	snprintf(buf, DNS_TYPE_STR_MAX, "TYPE%u", type);
	return buf;
}

/* Append one label byte to the text, escaped; text has room checked by the caller's bound. */
static void put_label_byte(char *out, size_t *o, uint8_t c)
{
	if (c == '.' || c == '\\') {
		out[(*o)++] = '\\';
		out[(*o)++] = (char)c;
	} else if (c > 0x20 && c < 0x7f) {
		out[(*o)++] = (char)c;
	} else {
		out[(*o)++] = '\\';
		out[(*o)++] = (char)('0' + c / 100);
		out[(*o)++] = (char)('0' + c / 10 % 10);
		out[(*o)++] = (char)('0' + c % 10);
	}
}

/*
 * Read a possibly compressed name at r's position in the message msg; r is
 * advanced past the name as it appears in place (up to and including the
 * first pointer). Pointers must point strictly backwards from the pointer
 * itself, so the walk always ends; hops are capped as well. Text fits
 * DNS_TEXT_MAX because the wire name is at most 255 bytes and each byte
 * becomes at most 4 characters.
 */
static enum dns_outcome read_name(const struct rd *msg, struct rd *r, char *out)
{
	struct rd cur = *r;
	size_t o = 0, wire = 0, ptr_pos;
	unsigned int hops = 0;
	bool jumped = false;
	uint8_t len, lo, c;
	size_t i, target;

	for (;;) {
		ptr_pos = cur.off;
		if (rd_u8(&cur, &len))
			return DNS_SHORT;
		if ((len & 0xc0) == 0xc0) {
			if (rd_u8(&cur, &lo))
				return DNS_SHORT;
			target = (size_t)(len & 0x3f) << 8 | lo;

			if (target >= ptr_pos || ++hops > DNS_PTR_HOPS_MAX)
				return DNS_BAD_NAME;
			if (!jumped) {
				r->off = cur.off;
				jumped = true;
			}
			cur = *msg;
			if (rd_seek(&cur, target))
				return DNS_BAD_NAME;
			continue;
		}
		if (len & 0xc0)
			return DNS_BAD_NAME;
		wire += 1 + (size_t)len;
		if (wire > DNS_NAME_WIRE_MAX)
			return DNS_BAD_NAME;
		if (len == 0)
			break;
		if (rd_left(&cur) < len)
			return DNS_SHORT;
		if (o)
			out[o++] = '.';
		for (i = 0; i < len; i++) {
			if (rd_u8(&cur, &c))
				return DNS_SHORT;
			put_label_byte(out, &o, c);
		}
	}
	if (!jumped)
		r->off = cur.off;
	if (o == 0)
		out[o++] = '.';
	out[o] = '\0';
	return DNS_OK;
}

/* Skip a name in place (no text): the pointer walk is still validated. */
static enum dns_outcome skip_name(const struct rd *msg, struct rd *r)
{
	char scratch[DNS_TEXT_MAX];

	return read_name(msg, r, scratch);
}

static enum dns_outcome parse_answer(const struct rd *m, struct rd *r, struct dns_msg *out)
{
	char addr[INET6_ADDRSTRLEN];
	uint16_t type, class, rdlen, pref;
	uint8_t raw[16];
	enum dns_outcome oc;
	struct rd rdata, nr;
	uint32_t ttl;
	char *dst;

	if ((oc = skip_name(m, r)))
		return oc;
	if (rd_u16be(r, &type) || rd_u16be(r, &class) || rd_u32be(r, &ttl) || rd_u16be(r, &rdlen) ||
	    rd_sub(r, rdlen, &rdata))
		return DNS_SHORT;
	(void)class;
	(void)ttl;
	if (type != DNS_T_A && type != DNS_T_AAAA && type != DNS_T_CNAME && type != DNS_T_PTR &&
	    type != DNS_T_NS && type != DNS_T_MX)
		return DNS_OK;
	if (out->nanswers >= DNS_ANSWERS_MAX) {
		out->answers_dropped++;
		return DNS_OK;
	}
	dst = out->answers[out->nanswers];
	switch (type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		if (rdlen != (type == DNS_T_A ? 4 : 16) || rd_bytes(&rdata, raw, rdlen))
			return DNS_BAD_RDATA;
		inet_ntop(type == DNS_T_A ? AF_INET : AF_INET6, raw, addr, sizeof(addr));
		snprintf(dst, DNS_TEXT_MAX, "%s", addr);
		break;
	case DNS_T_MX:
		if (rd_u16be(&rdata, &pref))
			return DNS_BAD_RDATA;
		/* fall through */
	default:
		/*
		 * The name is read in place within rdata, but its pointers may
		 * point anywhere earlier in the message: read through a message
		 * reader positioned at rdata and cut at its end.
		 */
		nr = *m;
		if (rd_seek(&nr, r->off - rd_left(&rdata)))
			return DNS_BAD_RDATA;
		nr.len = r->off;
		if ((oc = read_name(m, &nr, dst)))
			return oc == DNS_SHORT ? DNS_BAD_RDATA : oc;
		break;
	}
	out->nanswers++;
	return DNS_OK;
}

enum dns_outcome dns_parse(const uint8_t *msg, size_t len, struct dns_msg *out)
{
	uint16_t flags, nscount, arcount, qclass, i;
	enum dns_outcome oc;
	struct rd m, r;

	out->has_question = false;
	out->truncated = false;
	out->qtype = 0;
	out->name[0] = '\0';
	out->nanswers = 0;
	out->answers_dropped = 0;
	rd_init(&m, msg, len);
	r = m;
	/* header: id, flags (QR opcode AA TC RD RA Z RCODE), qd/an/ns/ar counts */
	if (rd_u16be(&r, &out->id) || rd_u16be(&r, &flags) || rd_u16be(&r, &out->qdcount) ||
	    rd_u16be(&r, &out->ancount) || rd_u16be(&r, &nscount) || rd_u16be(&r, &arcount))
		return DNS_SHORT;
	(void)nscount;
	(void)arcount;
	out->qr = flags >> 15;
	out->opcode = (flags >> 11) & 0xf;
	out->rcode = flags & 0xf;
	/* the first question is kept, the others are only validated */
	if (out->qdcount) {
		if ((oc = read_name(&m, &r, out->name))) {
			out->name[0] = '\0';
			return oc;
		}
		if (rd_u16be(&r, &out->qtype) || rd_u16be(&r, &qclass))
			return DNS_SHORT;
		out->has_question = true;
	}
	for (i = 1; i < out->qdcount; i++) {
		if ((oc = skip_name(&m, &r)))
			return oc;
		if (rd_skip(&r, 4))
			return DNS_SHORT;
	}
	for (i = 0; i < out->ancount; i++) {
		if ((oc = parse_answer(&m, &r, out)))
			return oc;
	}
	return DNS_OK;
}

bool dns_reportable(enum dns_outcome oc, struct dns_msg *msg)
{
	msg->truncated = oc != DNS_OK;
	return oc == DNS_OK || (oc != DNS_GAP && msg->has_question);
}

struct dns_tcp *dns_tcp_new(dns_msg_fn cb, void *ctx)
{
	struct dns_tcp *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cb = cb;
	t->ctx = ctx;
	return t;
}

void dns_tcp_free(struct dns_tcp *t)
{
	if (!t)
		return;
	free(t->buf);
	free(t);
}

size_t dns_tcp_mem(const struct dns_tcp *t)
{
	if (!t)
		return 0;
	return sizeof(*t) + t->cap;
}

/*
 * The 17 KiB message is allocated per message, not kept per direction: a
 * connection to port 53 must not cost that much before it sends a message.
 */
static int deliver(struct dns_tcp *t, const uint8_t *p, size_t n)
{
	struct dns_msg *m = malloc(sizeof(*m));
	enum dns_outcome oc;

	if (!m) {
		t->stopped = true;
		return -ENOMEM;
	}
	oc = dns_parse(p, n, m);
	t->cb(t->ctx, oc, dns_reportable(oc, m) ? m : NULL);
	free(m);
	return 0;
}

int dns_tcp_feed(struct dns_tcp *t, const uint8_t *data, size_t len)
{
	const uint8_t *p;
	struct rd r, lr;
	uint16_t mlen;
	size_t n;

	if (t->stopped)
		return 0;
	rd_init(&r, data, len);
	while (rd_left(&r)) {
		if (t->len_have < 2) {
			n = 2 - t->len_have;
			if (n > rd_left(&r))
				n = rd_left(&r);
			if (rd_bytes(&r, t->lenb + t->len_have, n))
				return 0;
			t->len_have += n;
			if (t->len_have < 2)
				break;
			rd_init(&lr, t->lenb, 2);
			if (rd_u16be(&lr, &mlen))
				return 0;
			t->want = mlen;
			t->have = 0;
		}
		if (t->have == 0 && rd_left(&r) >= t->want) {
			/* whole message in this call and nothing buffered: parse in place */
			if (rd_ptr(&r, t->want, &p))
				return 0;
			if (deliver(t, p, t->want))
				return -ENOMEM;
			t->len_have = 0;
			continue;
		}
		/* buffering: have > 0 always means buf holds have bytes */
		n = t->want - t->have;
		if (n > rd_left(&r))
			n = rd_left(&r);
		if (t->have + n > t->cap) {
			/* memory follows the bytes that came, not the length prefix's promise */
			size_t ncap = t->cap ? t->cap : 512;
			uint8_t *nb;

			while (ncap < t->have + n)
				ncap *= 2;
			if (ncap > 65535)
				ncap = 65535;
			nb = realloc(t->buf, ncap);
			if (!nb) {
				t->stopped = true;
				return -ENOMEM;
			}
			t->buf = nb;
			t->cap = ncap;
		}
		if (rd_bytes(&r, t->buf + t->have, n))
			return 0;
		t->have += n;
		if (t->have == t->want) {
			if (deliver(t, t->buf, t->want))
				return -ENOMEM;
			t->len_have = 0;
			t->have = 0;
		}
	}
	return 0;
}

void dns_tcp_gap(struct dns_tcp *t)
{
	if (t->stopped)
		return;
	t->stopped = true;
	if (t->len_have)
		t->cb(t->ctx, DNS_GAP, NULL);
	free(t->buf);
	t->buf = NULL;
	t->cap = 0;
}
