// SPDX-License-Identifier: GPL-2.0
/* IPv4/IPv6 addresses and CIDR prefixes: strict parsing and canonical text. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/base/addr.h"
#include "lib/base/parse_num.h"

static const uint8_t v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static bool host_bits_set(const uint8_t *a, unsigned int plen, unsigned int bits)
{
	unsigned int i;

	for (i = plen; i < bits; i++)
		if (a[i / 8] & (0x80 >> (i % 8)))
			return true;
	return false;
}

int cidr_parse(const char *s, struct cidr *out, const char **why)
{
	struct cidr c = { 0 };
	char buf[CG_ADDRSTRLEN];
	const char *plen_s = NULL;
	char *slash;
	unsigned int bits;
	uint32_t plen;
	size_t len;
	int err;

	len = s ? strlen(s) : 0;
	if (len == 0) {
		*why = "empty prefix";
		return -EINVAL;
	}
	if (len >= sizeof(buf)) {
		*why = "too long for an address or prefix";
		return -EINVAL;
	}
	memcpy(buf, s, len + 1);
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		plen_s = slash + 1;
		if (slash == buf) {
			*why = "no address before \"/\"";
			return -EINVAL;
		}
		if (*plen_s == '\0') {
			*why = "no prefix length after \"/\"";
			return -EINVAL;
		}
	}
	if (strchr(buf, ':')) {
		c.family = AF_INET6;
		bits = 128;
	} else {
		c.family = AF_INET;
		bits = 32;
	}
	if (inet_pton(c.family, buf, c.addr) != 1) {
		*why = c.family == AF_INET ? "not an IPv4 address" : "not an IPv6 address";
		return -EINVAL;
	}
	plen = bits;
	if (plen_s) {
		err = parse_u32(plen_s, 0, bits, &plen);
		if (err == -ERANGE) {
			*why = c.family == AF_INET ? "prefix length above 32"
						   : "prefix length above 128";
			return -EINVAL;
		}
		if (err) {
			*why = "prefix length is not a decimal number without leading zeros";
			return -EINVAL;
		}
	}
	if (host_bits_set(c.addr, plen, bits)) {
		*why = "host bits set beyond the prefix length";
		return -EINVAL;
	}
	c.plen = (uint8_t)plen;
	*out = c;
	return 0;
}

void cidr_format(const struct cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if ((c->family != AF_INET && c->family != AF_INET6) ||
	    !inet_ntop(c->family, c->addr, a, sizeof(a))) {
		snprintf(buf, len, "invalid");
		return;
	}
	snprintf(buf, len, "%s/%u", a, c->plen);
}

int addr_parse_mapped(const char *s, uint8_t out[16])
{
	uint8_t a[16];

	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, a + 12) == 1) {
		memcpy(a, v4mapped_prefix, sizeof(v4mapped_prefix));
	} else if (inet_pton(AF_INET6, s, a) != 1) {
		return -EINVAL;
	}
	memcpy(out, a, sizeof(a));
	return 0;
}

void addr_format_mapped(const uint8_t a[16], char *buf, size_t len)
{
	char t[INET6_ADDRSTRLEN];
	const char *r;

	if (addr_is_v4mapped(a))
		r = inet_ntop(AF_INET, a + 12, t, sizeof(t));
	else
		r = inet_ntop(AF_INET6, a, t, sizeof(t));
	snprintf(buf, len, "%s", r ? r : "invalid");
}

void cidr_to_mapped(const struct cidr *c, uint8_t addr[16], uint8_t *plen)
{
	if (c->family == AF_INET) {
		memcpy(addr, v4mapped_prefix, sizeof(v4mapped_prefix));
		memcpy(addr + 12, c->addr, 4);
		*plen = (uint8_t)(96 + c->plen);
	} else {
		memcpy(addr, c->addr, 16);
		*plen = c->plen;
	}
}

int addr_sockaddr_mapped(const struct sockaddr *sa, uint8_t out[16])
{
	if (sa->sa_family == AF_INET) {
		memcpy(out, v4mapped_prefix, sizeof(v4mapped_prefix));
		memcpy(out + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	} else {
		return -EAFNOSUPPORT;
	}
	return 0;
}

bool addr_is_v4mapped(const uint8_t a[16])
{
	return memcmp(a, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0;
}
