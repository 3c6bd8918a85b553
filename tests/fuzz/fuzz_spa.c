// SPDX-License-Identifier: GPL-2.0
/* libFuzzer harness for SPA packets: spa_parse, spa_verify(_token) with fixed keys, the cache. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/auth/spa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The seeds in tests/fuzz/seeds/fuzz_spa/ are signed with the key of this seed; the token
 * seeds (token_*) are MACed with the seed itself as the token's SPA key.
 */
static const uint8_t fixed_seed[32] = { 0xc9, 0x47, 0x1a, 0x5e, 0x03, 0x88, 0x21, 0x6b,
					0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
					0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00,
					0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };

#define FUZZ_NOW 1700000000ULL

/* What one input did: the harness compares two runs of it (no state carries over). */
struct outcome {
	enum spa_verdict parsed, verified, first, again; /* SPA_MAX: not reached */
};

/* The key is made once and only read; the replay cache is new for each run. */
static struct outcome one_input(const uint8_t *data, size_t size, EVP_PKEY *key)
{
	struct outcome o = { SPA_MAX, SPA_MAX, SPA_MAX, SPA_MAX };
	struct spa_replay *cache;
	enum spa_verdict v;
	struct spa_msg m;

	o.parsed = v = spa_parse(data, size, &m);
	if (v != SPA_OK) {
		if (v != SPA_MALFORMED)
			abort();
		return o;
	}
	/* What parsed is self-consistent. */
	if (m.signed_len + SPA_SIG_LEN != size || size < SPA_MIN_LEN || size > SPA_MAX_LEN ||
	    !spa_name_ok(m.name) || m.port == 0 ||
	    memcmp(data + m.signed_len, m.sig, SPA_SIG_LEN) != 0)
		abort();
	/* Each kind verifies only under its own check: the other refuses it as malformed. */
	if (m.token) {
		if (spa_verify(data, size, &m, key) != SPA_MALFORMED)
			abort();
		v = spa_verify_token(data, size, &m, fixed_seed);
	} else {
		if (spa_verify_token(data, size, &m, fixed_seed) != SPA_MALFORMED)
			abort();
		v = spa_verify(data, size, &m, key);
	}
	if (v != SPA_OK && v != SPA_BAD_SIGNATURE)
		abort();
	o.verified = v;
	if (v != SPA_OK)
		return o;
	cache = spa_replay_new(8, 64);
	if (!cache)
		abort();
	o.first = spa_replay_check(cache, &m, FUZZ_NOW, SPA_WINDOW_S);
	/* Whatever was just recorded is a replay now. */
	o.again = spa_replay_check(cache, &m, FUZZ_NOW, SPA_WINDOW_S);
	spa_replay_free(cache);
	if (o.first >= SPA_MAX || (o.first == SPA_OK && o.again != SPA_REPLAY))
		abort();
	return o;
}

/* Each input runs twice on fresh state and must do the same: a crash input reproduces alone. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY *key;
	struct outcome a, b;

	if (!key)
		key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, fixed_seed,
						   sizeof(fixed_seed));
	if (!key)
		abort();
	a = one_input(data, size, key);
	b = one_input(data, size, key);
	if (a.parsed != b.parsed || a.verified != b.verified || a.first != b.first ||
	    a.again != b.again)
		abort();
	return 0;
}
