// SPDX-License-Identifier: GPL-2.0
/* libFuzzer harness for tunnel packets: wire_parse, wire_verify, and the replay window vs a model.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "abi/replay.h"
#include "lib/tunnel/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The seeds in tests/fuzz/seeds/fuzz_wire/ are sealed with this key. */
static const uint8_t fixed_key[16] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
				       0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f };

#define MAX_STEPS 512

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/*
 * The input read as a list of counters, run through a fresh window and
 * through a plain model (a list of what was accepted): they must agree.
 * Small steps are made relative to the top so that the window edges and the
 * ring wraparound are reached often.
 */
static void replay_vs_model(const uint8_t *data, size_t size)
{
	static uint64_t seen[MAX_STEPS];
	struct cg_replay_window w = { 0 };
	uint64_t c, mtop = 0;
	size_t i, j, nseen = 0;
	int want, pred, got;

	for (i = 0; i + 9 <= size && nseen < MAX_STEPS; i += 9) {
		c = be64(data + i + 1);
		switch (data[i] & 3) {
		case 0: /* absolute */
			break;
		case 1: /* behind top by a small amount */
			c = mtop - (c % (2 * CG_REPLAY_WINDOW));
			break;
		case 2: /* ahead of top by a small amount */
			c = mtop + (c % (3 * CG_REPLAY_WINDOW));
			break;
		default: /* near the end of the counter space */
			c = UINT64_MAX - (c & 0xffff);
			break;
		}
		want = c != 0 && (c > mtop || mtop - c <= CG_REPLAY_BEHIND);
		for (j = 0; want && j < nseen; j++)
			if (seen[j] == c)
				want = 0;
		pred = replay_would_accept(&w.top, w.bitmap, c);
		got = replay_accept(&w.top, w.bitmap, c);
		if (got != want || pred != got)
			abort();
		if (got) {
			seen[nseen++] = c;
			if (c > mtop)
				mtop = c;
		}
		if (w.top != mtop)
			abort();
	}
}

/* What one input did: the harness compares two runs of it (no state carries over). */
struct outcome {
	enum tun_verdict parsed, verified;
	int accepted; /* by a fresh window, after a would-accept; -1 not tried */
};

static struct outcome one_input(const uint8_t *data, size_t size)
{
	struct cg_replay_window w = { 0 };
	struct outcome o = { .accepted = -1 };
	struct wire_view v;
	enum tun_verdict p, t;

	p = wire_parse(data, size, &v);
	t = wire_verify(data, size, fixed_key);
	if (p >= TUN_MAX || (p != TUN_OK && t != p) ||
	    (p == TUN_OK && t != TUN_OK && t != TUN_BAD_TAG))
		abort();
	o.parsed = p;
	o.verified = t;
	if (p == TUN_OK) {
		/* A data packet carries an inner packet, a keepalive none; two modes. */
		if ((v.type == CG_TUN_DATA ? v.inner_len < 1
					   : v.type != CG_TUN_KEEPALIVE || v.inner_len != 0) ||
		    v.inner_len + WIRE_OVERHEAD != size || v.inner != data + CG_TUN_HDR_LEN ||
		    v.tag != data + size - CG_TUN_TAG_LEN || (v.flags & ~CG_TUN_F_ENCRYPTED))
			abort();
		wire_inner_check(v.inner, v.inner_len, NULL, NULL);
		/* As the gate does: read the window, verify, then update. */
		if (replay_would_accept(&w.top, w.bitmap, v.counter) && t == TUN_OK) {
			o.accepted = replay_accept(&w.top, w.bitmap, v.counter);
			if (!o.accepted)
				abort();
		}
	}
	replay_vs_model(data, size);
	return o;
}

/* Each input runs twice on fresh state and must do the same: a crash input reproduces alone. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome a = one_input(data, size), b = one_input(data, size);

	if (a.parsed != b.parsed || a.verified != b.verified || a.accepted != b.accepted)
		abort();
	return 0;
}
