// SPDX-License-Identifier: GPL-2.0
/* Names of things: one length and one character set. */
#include <string.h>

#include "lib/base/name.h"

bool name_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= CG_NAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	return strspn(s, NAME_CHARS) == len;
}
