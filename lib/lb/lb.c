// SPDX-License-Identifier: GPL-2.0
/* Backend names: ADDR:PORT[@WEIGHT], IPv6 in brackets. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "abi/lb.h"
#include "lib/base/addr.h"
#include "lib/base/parse_num.h"
#include "lib/lb/lb.h"

int lb_be_parse(const char *s, bool with_weight, struct lb_be *out, const char **why)
{
	char host[CG_ADDRSTRLEN], num[16];
	const char *port, *at, *end;
	struct lb_be b = { .weight = 1 };
	uint32_t v;
	size_t n;

	at = strchr(s, '@');
	if (at && !with_weight) {
		*why = "a weight is not taken here";
		return -EINVAL;
	}
	end = at ? at : s + strlen(s);
	if (s[0] == '[') {
		const char *close = memchr(s, ']', (size_t)(end - s));

		if (!close || close[1] != ':') {
			*why = "expected [IPV6]:PORT";
			return -EINVAL;
		}
		n = (size_t)(close - s - 1);
		s++;
		port = close + 2;
		if (!memchr(s, ':', n)) {
			*why = "brackets are for IPv6 addresses only";
			return -EINVAL;
		}
	} else {
		port = memchr(s, ':', (size_t)(end - s));
		if (!port || memchr(port + 1, ':', (size_t)(end - port - 1))) {
			*why = "expected ADDR:PORT (IPv6 as [ADDR]:PORT)";
			return -EINVAL;
		}
		n = (size_t)(port - s);
		port++;
	}
	if (n == 0 || n >= sizeof(host)) {
		*why = "bad address";
		return -EINVAL;
	}
	memcpy(host, s, n);
	host[n] = '\0';
	if (addr_parse_mapped(host, b.addr)) {
		*why = "bad address";
		return -EINVAL;
	}
	n = (size_t)(end - port);
	if (n == 0 || n >= sizeof(num)) {
		*why = "the port must be 1..65535";
		return -EINVAL;
	}
	memcpy(num, port, n);
	num[n] = '\0';
	if (parse_u32(num, 1, 65535, &v)) {
		*why = "the port must be 1..65535";
		return -EINVAL;
	}
	b.port = (uint16_t)v;
	if (at) {
		if (parse_u32(at + 1, 0, LB_WEIGHT_MAX, &v)) {
			*why = "the weight must be 0..100";
			return -EINVAL;
		}
		b.weight = v;
	}
	*out = b;
	return 0;
}

void lb_be_format(const struct lb_be *b, char *buf, size_t len)
{
	char a[CG_ADDRSTRLEN];

	addr_format_mapped(b->addr, a, sizeof(a));
	if (addr_is_v4mapped(b->addr))
		snprintf(buf, len, "%s:%u", a, b->port);
	else
		snprintf(buf, len, "[%s]:%u", a, b->port);
}

bool lb_be_same(const struct lb_be *a, const struct lb_be *b)
{
	return a->port == b->port && !memcmp(a->addr, b->addr, sizeof(a->addr));
}

static const char *const stat_names[] = {
	[LB_STAT_FWD_NEW] = "fwd_new",
	[LB_STAT_FWD] = "fwd",
	[LB_STAT_REV] = "rev",
	[LB_STAT_ICMP_FWD] = "icmp_fwd",
	[LB_STAT_ICMP_REV] = "icmp_rev",
	[LB_STAT_CT_RESTORED] = "ct_restored",
	[LB_STAT_REDIRECT] = "redirect",
	[LB_STAT_STACK] = "stack",
	[LB_STAT_REFUSED_RST] = "refused_rst",
	[LB_STAT_DROP_NO_BACKEND] = "drop_no_backend",
	[LB_STAT_DROP_FLOWS_FULL] = "drop_flows_full",
	[LB_STAT_DROP_NAT_PORTS] = "drop_nat_ports",
	[LB_STAT_DROP_MALFORMED] = "drop_malformed",
	[LB_STAT_NO_FLOW] = "no_flow",
};
_Static_assert(sizeof(stat_names) / sizeof(stat_names[0]) == LB_STAT_MAX, "a name per lb_stat");

const char *lb_stat_name(unsigned int stat)
{
	return stat < LB_STAT_MAX ? stat_names[stat] : "unknown";
}
