// SPDX-License-Identifier: GPL-2.0
/* Protocol/port specs and lists: "tcp/7000", "8443, 22", "tcp/7000 udp/8000". */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "lib/base/parse_num.h"
#include "lib/base/portspec.h"

/* Longest item worth reading: "tcp/65535" plus room to notice it is too long. */
#define ITEM_MAX 16

const char *proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	default:
		return "ip";
	}
}

static int port_num(const char *s, uint16_t *port, const char **why)
{
	uint32_t v;
	int err;

	err = parse_u32(s, 1, 65535, &v);
	if (err == -ERANGE) {
		*why = "port out of range (1..65535)";
		return -EINVAL;
	}
	if (err) {
		*why = "port is not a decimal number without leading zeros";
		return -EINVAL;
	}
	*port = htons((uint16_t)v);
	return 0;
}

int port_parse(const char *s, struct cg_port *out, const char **why)
{
	struct cg_port p = { 0 };
	int err;

	if (!strncmp(s, "tcp/", 4)) {
		p.proto = IPPROTO_TCP;
	} else if (!strncmp(s, "udp/", 4)) {
		p.proto = IPPROTO_UDP;
	} else {
		*why = "not tcp/PORT or udp/PORT";
		return -EINVAL;
	}
	err = port_num(s + 4, &p.port, why);
	if (err)
		return err;
	*out = p;
	return 0;
}

int list_next(const char **pp, bool first, const char **item, size_t *len, const char **why)
{
	const char *p = *pp;
	int commas = 0;

	for (; *p == ' ' || *p == '\t' || *p == ','; p++)
		commas += *p == ',';
	if (*p == '\0' && !commas) {
		*pp = p;
		return 0;
	}
	if (commas > 1 || (commas && (first || *p == '\0'))) {
		*why = "empty item in the list";
		return -EINVAL;
	}
	*item = p;
	*len = strcspn(p, " \t,");
	*pp = p + *len;
	return 1;
}

/* list_next, with the item copied into buf. */
static int next_item(const char **pp, bool first, char *buf, size_t len, const char **why)
{
	const char *item = NULL;
	size_t n = 0;
	int r;

	r = list_next(pp, first, &item, &n, why);
	if (r != 1)
		return r;
	if (n >= len) {
		*why = "item too long";
		return -EINVAL;
	}
	memcpy(buf, item, n);
	buf[n] = '\0';
	return 1;
}

/*
 * Two passes over the text: the first checks every item and counts them, the
 * second writes them, so out is untouched when the list is refused.
 */
int port_list_parse(const char *s, uint8_t proto, struct cg_port *out, size_t max, size_t *n,
		    const char **why)
{
	uint8_t seen[65536 / 8] = { 0 };
	char item[ITEM_MAX];
	const char *p;
	struct cg_port cp = { .proto = proto };
	size_t i, k = 0, count = 0;
	uint16_t hp;
	int r, pass;

	for (i = 0; i < *n; i++)
		if (out[i].proto == proto) {
			hp = ntohs(out[i].port);
			seen[hp / 8] |= 1 << (hp % 8);
		}
	for (pass = 0; pass < 2; pass++) {
		p = s;
		while ((r = next_item(&p, p == s, item, sizeof(item), why)) == 1) {
			if (port_num(item, &cp.port, why))
				return -EINVAL;
			if (pass == 1) {
				out[*n + k++] = cp;
				continue;
			}
			hp = ntohs(cp.port);
			if (seen[hp / 8] & (1 << (hp % 8))) {
				*why = "port listed twice";
				return -EINVAL;
			}
			seen[hp / 8] |= 1 << (hp % 8);
			count++;
		}
		if (r < 0)
			return r;
		if (pass == 0 && count == 0) {
			*why = "empty list";
			return -EINVAL;
		}
		if (pass == 0 && (*n > max || count > max - *n)) {
			*why = "too many ports";
			return -E2BIG;
		}
	}
	*n += k;
	return 0;
}

int port_seq_parse(const char *s, struct cg_port *out, size_t max, size_t *n, const char **why)
{
	char item[ITEM_MAX];
	struct cg_port cp;
	const char *p;
	size_t k = 0, count = 0;
	int r, pass;

	for (pass = 0; pass < 2; pass++) {
		p = s;
		while ((r = next_item(&p, p == s, item, sizeof(item), why)) == 1) {
			if (port_parse(item, &cp, why))
				return -EINVAL;
			if (pass == 1)
				out[k++] = cp;
			else
				count++;
		}
		if (r < 0)
			return r;
		if (pass == 0 && count == 0) {
			*why = "empty list";
			return -EINVAL;
		}
		if (pass == 0 && count > max) {
			*why = "too many items";
			return -E2BIG;
		}
	}
	*n = k;
	return 0;
}

void port_format(const struct cg_port *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%u", proto_name(p->proto), ntohs(p->port));
}
