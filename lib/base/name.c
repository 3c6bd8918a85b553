// SPDX-License-Identifier: GPL-2.0
/* Names of things: one length and one character set; trust domains. */
#include <string.h>

#include "lib/base/name.h"

bool name_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= CG_NAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
	       len;
}

bool trust_domain_valid(const char *td)
{
	size_t len = strlen(td);

	return len >= 1 && len <= CG_TRUST_DOMAIN_MAX && strspn(td, TRUST_DOMAIN_CHARS) == len;
}
