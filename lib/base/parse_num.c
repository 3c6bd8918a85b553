// SPDX-License-Identifier: GPL-2.0
/* Strict decimal and duration parsing for everything a user types. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base/parse_num.h"

/*
 * strtoul alone accepts leading space, a sign and "0x"; the first-digit and
 * leading-zero checks refuse them, so "08" can never be read as octal.
 */
int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end = NULL;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	if (s[0] == '0' && s[1] != '\0')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	if (errno == ERANGE || v > UINT32_MAX || v < min || v > max)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

int parse_duration(const char *s, uint64_t min_ns, uint64_t max_ns, uint64_t *out_ns)
{
	char num[16];
	uint64_t unit = 1, ns;
	uint32_t v;
	size_t len, digits;
	int err;

	if (!s)
		return -EINVAL;
	len = strlen(s);
	digits = strspn(s, "0123456789");
	if (digits == 0 || (s[0] == '0' && digits > 1))
		return -EINVAL;
	if (digits >= sizeof(num))
		return -ERANGE;
	if (len == digits + 1) {
		switch (s[digits]) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		default:
			return -EINVAL;
		}
	} else if (len != digits) {
		return -EINVAL;
	}
	memcpy(num, s, digits);
	num[digits] = '\0';
	err = parse_u32(num, 0, UINT32_MAX, &v);
	if (err)
		return err;
	if ((uint64_t)v > UINT64_MAX / (unit * NS_PER_SEC))
		return -ERANGE;
	ns = (uint64_t)v * unit * NS_PER_SEC;
	if (ns < min_ns || ns > max_ns)
		return -ERANGE;
	*out_ns = ns;
	return 0;
}
