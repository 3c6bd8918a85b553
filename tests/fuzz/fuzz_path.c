// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the data workers' open path (lib/tunnel/path.c): the
 * bytes a gateway's data socket could receive, checked by a detached path
 * holding one encrypted session. Input byte 0 chooses: even, the rest is the
 * datagram as it came; odd, the rest (after an 8-byte counter) is an inner
 * packet sealed under the session's key, so that the fuzzer reaches the inner
 * parser and the scope check behind the AEAD. Whatever the path accepts must
 * pass the shared inner checks again, and nothing it refuses may leave
 * plaintext in the buffer. The session is set again before each run (an
 * empty replay window, no endpoint), and each input runs twice and must get
 * the same verdict, so that a crash input reproduces alone.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/tunnel/aead.h"
#include "lib/tunnel/inner.h"
#include "lib/tunnel/path.h"
#include "lib/tunnel/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key[32] = { 'c', 'a', 'p', 'g', 'a', 't', 'e', '-', 'f', 'u', 'z', 'z' };
static const uint8_t from[16] = { [10] = 0xff, [11] = 0xff, 10, 10, 1, 2 };
static const uint8_t pool_base[16] = { [10] = 0xff, [11] = 0xff, 100, 64 };
static struct path_session sess;
static struct path *path;
static struct aead *sealer;

static void setup(void)
{
	struct path_cfg c = { .role = PATH_GATEWAY, .detached = true };
	char err[128];

	memcpy(c.pool_base, pool_base, 16);
	path = path_new(&c, err, sizeof(err));
	sealer = aead_new(CG_CIPHER_CHACHA20_POLY1305, key, true);
	if (!path || !sealer)
		abort();
}

/* The one session as new: an empty replay window, no endpoint, an hour to live. */
static void reset_session(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sess.id = 0x0badc0de;
	sess.mode = CG_TUN_F_ENCRYPTED;
	sess.cipher = CG_CIPHER_CHACHA20_POLY1305;
	sess.expires_ns = ((uint64_t)ts.tv_sec + 3600) * 1000000000ULL;
	memcpy(sess.rx_key, key, sizeof(key));
	memcpy(sess.vip, pool_base, 16);
	sess.vip[15] = 2;
	sess.nscopes = 1;
	sess.scopes[0] = (struct cg_scope){ .addr = { [10] = 0xff, [11] = 0xff, 10, 10, 2, 0 },
					    .plen = 120 };
	if (path_session_set(path, &sess))
		abort();
}

/* The verdict on one input, from a fresh session; TUN_MAX if it made no packet. */
static enum tun_verdict one_input(const uint8_t *data, size_t size)
{
	static uint8_t pkt[4096];
	const uint8_t *inner = NULL;
	struct cg_inner facts;
	enum tun_verdict tv;
	uint64_t ctr = 0;
	size_t n = 0, len = 0;
	int r, i;

	reset_session();
	if (data[0] & 1) {
		if (size < 10)
			return TUN_MAX;
		for (i = 0; i < 8; i++)
			ctr = ctr << 8 | data[1 + i];
		r = wire_seal_aead(sess.id, ctr, sealer, data + 9, size - 9, pkt, sizeof(pkt));
		if (r < 0)
			return TUN_MAX;
		n = (size_t)r;
	} else {
		n = size - 1;
		memcpy(pkt, data + 1, n);
	}
	tv = path_check_packet(path, pkt, n, from, 4242, &inner, &len);
	if (tv == TUN_OK) {
		/* Accepted: the shared definition agrees on the inner packet. */
		if (inner_parse(inner, len, &facts) != TUN_OK ||
		    inner_check(&facts, sess.vip, sess.scopes, sess.nscopes) != TUN_OK)
			abort();
	} else if (tv == TUN_BAD_TAG && n > WIRE_OVERHEAD) {
		/* A tag that did not verify leaves no plaintext behind. */
		for (i = 16; i < (int)(n - 16); i++)
			if (pkt[i])
				abort();
	}
	return tv;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!path)
		setup();
	if (size < 1 || size > 2048)
		return 0;
	if (one_input(data, size) != one_input(data, size))
		abort();
	return 0;
}
