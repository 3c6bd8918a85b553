// SPDX-License-Identifier: GPL-2.0
/* Names of things: one length and one character set; trust domains. */
#include <string.h>

#include "lib/base/name.h"

/* NAME_RULE's characters (a table: names are checked at every handshake). */
static const bool chars[256] = {
	['A' ... 'Z'] = true, ['a' ... 'z'] = true, ['0' ... '9'] = true,
	['_'] = true,	      ['.'] = true,	    ['-'] = true,
};

bool name_char(char c)
{
	return chars[(unsigned char)c];
}

bool name_valid(const char *s)
{
	size_t len;

	for (len = 0; len < CG_NAME_MAX && s[len]; len++)
		if (!chars[(unsigned char)s[len]])
			return false;
	if (len == 0 || len >= CG_NAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	return true;
}

bool trust_domain_valid(const char *td)
{
	size_t len = strlen(td);

	return len >= 1 && len <= CG_TRUST_DOMAIN_MAX && strspn(td, TRUST_DOMAIN_CHARS) == len;
}
