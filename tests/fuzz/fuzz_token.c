// SPDX-License-Identifier: GPL-2.0
/* libFuzzer harness for enrollment tokens: token_parse is strict and round-trips. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/auth/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char back[TOKEN_STR_LEN + 1], id[TOKEN_ID_HEX + 1];
	struct token t;

	if (token_parse((const char *)data, size, &t) != TOKEN_OK)
		return 0;
	/* Only the one spelling parses: formatting what parsed gives the input back. */
	if (size != TOKEN_STR_LEN || token_format(&t, back, sizeof(back)) ||
	    memcmp(back, data, size) != 0)
		abort();
	token_id_hex(&t, id, sizeof(id));
	if (!token_id_ok(id) || memcmp(id, data + 4, TOKEN_ID_HEX) != 0)
		abort();
	return 0;
}
