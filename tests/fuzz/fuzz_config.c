// SPDX-License-Identifier: GPL-2.0
/* libFuzzer harness for the gateway config parser (config_parse_string). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_config cfg;
	char err[CG_ERR_MAX];
	char *text;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (!config_parse_string(text, "fuzz.ini", &cfg, err, sizeof(err))) {
		/* What was accepted must be self-consistent. */
		if (!cfg.iface[0] || !cfg.name[0] || cfg.nknocks > CG_KNOCK_MAX_PROFILES ||
		    cfg.nopen > CG_OPEN_MAX)
			abort();
	} else if (!memchr(err, '\0', sizeof(err)) || !strstr(err, "fuzz.ini")) {
		abort();
	}
	free(text);
	return 0;
}
