/* SPDX-License-Identifier: GPL-2.0 */
/* DNS messages (RFC 1035) over UDP (one datagram) and TCP (2-byte length framing). */
#ifndef CG_DPI_DNS_H
#define CG_DPI_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_TEXT_MAX 1024   /* a name as text with the NUL: 255 wire bytes, \DDD escapes fit */
#define DNS_ANSWERS_MAX 16  /* answers kept per message; later ones are counted, not kept */
#define DNS_TYPE_STR_MAX 12 /* "TYPE65535" with the NUL */
#define DNS_PTR_HOPS_MAX 32 /* compression pointers followed per name */

/*
 * One parsed message. Names are text without the trailing dot ("." for the
 * root); label bytes outside 0x21..0x7e and '.' '\' inside labels are
 * escaped as in zone files (\DDD, \., \\), so the text is always ASCII.
 */
struct dns_msg {
	uint16_t id;
	uint8_t qr, opcode, rcode;
	uint16_t qdcount, ancount;
	bool has_question; /* qdcount > 0: name and qtype are the first question's */
	/*
	 * Set by the caller, not by dns_parse(): the message ended or went bad
	 * after its first question (cut by the snap length, or malformed), and
	 * what parsed before that is reported (as tshark and Zeek do).
	 */
	bool truncated;
	uint16_t qtype;
	char name[DNS_TEXT_MAX];
	/*
	 * Answer-section records of type A/AAAA (address text), CNAME/PTR/NS
	 * (the target name) and MX (the exchange name), in message order;
	 * other types are skipped.
	 */
	unsigned int nanswers;
	unsigned int answers_dropped; /* matching records beyond DNS_ANSWERS_MAX */
	char answers[DNS_ANSWERS_MAX][DNS_TEXT_MAX];
};

enum dns_outcome {
	DNS_OK = 0,    /* *msg written */
	DNS_SHORT,     /* ends inside the header, a question or a record */
	DNS_BAD_NAME,  /* label type 01/10, name over 255 bytes, pointer loop or forward pointer */
	DNS_BAD_RDATA, /* rdata length wrong for the type (A != 4, AAAA != 16, name overruns) */
	DNS_GAP,       /* TCP only: bytes were lost, the stream stopped */
};

/* Constant name of an outcome ("ok", "short", ...). */
const char *dns_outcome_str(enum dns_outcome oc);

/*
 * The IANA mnemonic of an RR type or QTYPE ("A", "DNSKEY", "HTTPS", "CAA",
 * "ANY", ...), as dig and tshark print it; the RFC 3597 form "TYPE<n>" for an
 * unassigned or private-use value. Returns the constant name or buf.
 */
const char *dns_type_str(uint16_t type, char buf[DNS_TYPE_STR_MAX]);

/*
 * Parse one message in msg[0..len) (a UDP payload, or one TCP-framed message
 * without its length). Returns DNS_OK with *out complete, or an error
 * outcome with *out holding what was read before the error: the header
 * fields unless the outcome is DNS_SHORT on the header itself, and name /
 * qtype when has_question is true (e.g. a response whose second question or
 * an answer is malformed). sizeof(struct dns_msg) is about 17 KiB: keep it
 * off small stacks.
 */
enum dns_outcome dns_parse(const uint8_t *msg, size_t len, struct dns_msg *out);

/*
 * Whether a message with outcome oc is reported: complete, or cut short or
 * malformed after its first question (then msg->truncated is set).
 */
bool dns_reportable(enum dns_outcome oc, struct dns_msg *msg);

/*
 * DNS over TCP, one direction of a connection. Called once per framed
 * message with its outcome; msg is valid only during the call, and is NULL
 * unless dns_reportable() holds (complete, or truncated after a question).
 */
typedef void (*dns_msg_fn)(void *ctx, enum dns_outcome oc, const struct dns_msg *msg);

struct dns_tcp;

/* A new TCP direction parser, or NULL with errno = ENOMEM. Release with dns_tcp_free(). */
struct dns_tcp *dns_tcp_new(dns_msg_fn cb, void *ctx);

/* NULL is allowed. */
void dns_tcp_free(struct dns_tcp *t);

/*
 * Bytes of heap t holds now (with its message buffer; the message parsed
 * during a callback is not held), for memory budgets; 0 for NULL.
 */
size_t dns_tcp_mem(const struct dns_tcp *t);

/*
 * Feed in-order stream bytes: any number of messages per call, and messages
 * split across calls (buffered up to 65535 bytes). Calls cb for each
 * complete message. Returns 0, or -ENOMEM (the direction stops).
 */
int dns_tcp_feed(struct dns_tcp *t, const uint8_t *data, size_t len);

/*
 * Bytes were lost: the framing cannot be recovered, so the direction stops
 * and ignores further input. Calls cb(ctx, DNS_GAP, NULL) once if a message
 * was partly buffered.
 */
void dns_tcp_gap(struct dns_tcp *t);

#endif
