// SPDX-License-Identifier: GPL-2.0
/* libFuzzer harness for the control channel: framing (proto_rx_feed) and message decoding. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/auth/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct proto_rx rx;
static uint8_t frame[PROTO_MAX_FRAME];

/* What decodes must encode again and decode to the same message. */
static void check_round_trip(const struct proto_msg *m)
{
	struct proto_msg again;
	size_t len;

	memset(&again, 0, sizeof(again));
	if (proto_encode(m, frame, sizeof(frame), &len))
		abort();
	if (proto_decode(frame + PROTO_HDR_LEN, len - PROTO_HDR_LEN, &again) != PROTO_OK)
		abort();
	if (again.type != m->type)
		abort();
	if (m->type == PROTO_CAPABILITY && memcmp(&again.u.cap, &m->u.cap, sizeof(m->u.cap)))
		abort();
	if (m->type == PROTO_HELLO && memcmp(&again.u.hello, &m->u.hello, sizeof(m->u.hello)))
		abort();
	if (m->type == PROTO_ENROLL &&
	    (strcmp(again.u.enroll.token, m->u.enroll.token) ||
	     strcmp(again.u.enroll.csr, m->u.enroll.csr) || !proto_msg_ok(&again)))
		abort();
	if (m->type == PROTO_ENROLLED && (strcmp(again.u.enrolled.cert, m->u.enrolled.cert) ||
					  strcmp(again.u.enrolled.ca, m->u.enrolled.ca)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_msg m;
	enum proto_verdict v;
	size_t off = 0, used, chunk;

	if (size == 0)
		return 0;
	/* Byte 0 picks the read size, as a non-blocking socket would split the stream. */
	chunk = (size_t)data[0] % 17 + 1;
	data++;
	size--;
	memset(&m, 0, sizeof(m));
	if (proto_decode(data, size, &m) == PROTO_OK)
		check_round_trip(&m);
	proto_rx_init(&rx);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;

		used = 0;
		memset(&m, 0, sizeof(m));
		v = proto_rx_feed(&rx, data + off, n, &used, &m);
		if (used > n || (v == PROTO_MORE && used != n))
			abort();
		off += used;
		if (v == PROTO_OK)
			check_round_trip(&m);
		else if (v != PROTO_MORE)
			break;
		if (rx.have > sizeof(rx.buf))
			abort();
	}
	return 0;
}
