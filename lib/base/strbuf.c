// SPDX-License-Identifier: GPL-2.0
/* Growing text in a malloc'd string (metrics exposition). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/strbuf.h"

int str_appendf(char **buf, const char *fmt, ...)
{
	size_t old = *buf ? strlen(*buf) : 0;
	char *grown;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	grown = realloc(*buf, old + (size_t)n + 1);
	if (!grown)
		return -ENOMEM;
	*buf = grown;
	va_start(ap, fmt);
	vsnprintf(grown + old, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return 0;
}
