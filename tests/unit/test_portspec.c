// SPDX-License-Identifier: GPL-2.0
/* proto/port specs, port lists and knock sequences. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>

#include "lib/base/portspec.h"
#include "tests/lib/t.h"

static void test_port_parse(void)
{
	static const struct {
		const char *s, *why;
		uint8_t proto;
		uint16_t port;
	} t[] = {
		{ "tcp/7000", NULL, IPPROTO_TCP, 7000 },
		{ "udp/1", NULL, IPPROTO_UDP, 1 },
		{ "udp/65535", NULL, IPPROTO_UDP, 65535 },
		{ "tcp/0", "port out of range (1..65535)", 0, 0 },
		{ "tcp/65536", "port out of range (1..65535)", 0, 0 },
		{ "tcp/", "port is not a decimal number without leading zeros", 0, 0 },
		{ "tcp/022", "port is not a decimal number without leading zeros", 0, 0 },
		{ "tcp/22x", "port is not a decimal number without leading zeros", 0, 0 },
		{ "TCP/22", "not tcp/PORT or udp/PORT", 0, 0 },
		{ "icmp/1", "not tcp/PORT or udp/PORT", 0, 0 },
		{ "22", "not tcp/PORT or udp/PORT", 0, 0 },
		{ "", "not tcp/PORT or udp/PORT", 0, 0 },
	};
	struct cg_port p;
	char buf[16];
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		why = NULL;
		if (t[i].why) {
			ASSERT_EQ(port_parse(t[i].s, &p, &why), -EINVAL, t[i].s);
			ASSERT_STREQ(why, t[i].why, t[i].s);
			continue;
		}
		if (!ASSERT_EQ(port_parse(t[i].s, &p, &why), 0, t[i].s))
			continue;
		ASSERT_EQ(p.proto, t[i].proto, t[i].s);
		ASSERT_EQ(p.port, htons(t[i].port), "network order");
		port_format(&p, buf, sizeof(buf));
		ASSERT_STREQ(buf, t[i].s, "round trip");
	}
	ASSERT_STREQ(proto_name(IPPROTO_ICMP), "ip", "other protocol");
}

static void test_port_list(void)
{
	static const struct {
		const char *s, *why;
		size_t n;
		int err;
	} t[] = {
		{ "8443", NULL, 1, 0 },
		{ "8443, 22", NULL, 2, 0 },
		{ "51900 62201", NULL, 2, 0 },
		{ " 1,2 ,3\t4 , 5 ", NULL, 5, 0 },
		{ "", "empty list", 0, -EINVAL },
		{ "  ", "empty list", 0, -EINVAL },
		{ "1,,2", "empty item in the list", 0, -EINVAL },
		{ ",1", "empty item in the list", 0, -EINVAL },
		{ "1,", "empty item in the list", 0, -EINVAL },
		{ "1 1", "port listed twice", 0, -EINVAL },
		{ "1 2 3 4 6 7", "too many ports", 0, -E2BIG },
		{ "0", "port out of range (1..65535)", 0, -EINVAL },
		{ "1;2", "port is not a decimal number without leading zeros", 0, -EINVAL },
		{ "12345678901234567", "item too long", 0, -EINVAL },
	};
	struct cg_port out[5];
	const char *why;
	size_t i, n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = 0;
		why = NULL;
		if (!ASSERT_EQ(port_list_parse(t[i].s, IPPROTO_UDP, out, 5, &n, &why), t[i].err,
			       t[i].s))
			continue;
		if (t[i].err) {
			ASSERT_STREQ(why, t[i].why, t[i].s);
			continue;
		}
		ASSERT_EQ(n, t[i].n, t[i].s);
		ASSERT_EQ(out[n - 1].proto, IPPROTO_UDP, t[i].s);
	}
	n = 0;
	port_list_parse("8443, 22", IPPROTO_TCP, out, 5, &n, &why);
	ASSERT_EQ(ntohs(out[1].port), 22, "second port");
	/* Lists append; a duplicate counts against what is there for the protocol. */
	ASSERT_EQ(port_list_parse("22", IPPROTO_TCP, out, 5, &n, &why), -EINVAL, "dup across");
	ASSERT_STREQ(why, "port listed twice", "dup across");
	ASSERT_EQ(port_list_parse("22 1 2", IPPROTO_UDP, out, 5, &n, &why), 0, "other protocol");
	ASSERT_EQ(n, 5, "appended");
	ASSERT_EQ(port_list_parse("3", IPPROTO_UDP, out, 5, &n, &why), -E2BIG, "full");
	ASSERT_EQ(n, 5, "n untouched");
}

static void test_port_seq(void)
{
	static const struct {
		const char *s, *why;
		size_t n;
		int err;
	} t[] = {
		{ "tcp/7000 udp/8000 tcp/9000", NULL, 3, 0 },
		{ "tcp/7000,udp/8000,tcp/9000", NULL, 3, 0 },
		{ "tcp/1 tcp/1", NULL, 2, 0 },
		{ "tcp/1 tcp/2 tcp/3 tcp/4", NULL, 4, 0 },
		{ "tcp/1 tcp/2 tcp/3 tcp/4 tcp/5", "too many items", 0, -E2BIG },
		{ "", "empty list", 0, -EINVAL },
		{ "tcp/1,,tcp/2", "empty item in the list", 0, -EINVAL },
		{ "tcp/1 22", "not tcp/PORT or udp/PORT", 0, -EINVAL },
		{ "tcp/1 udp/0", "port out of range (1..65535)", 0, -EINVAL },
	};
	struct cg_port out[4];
	char buf[16];
	const char *why;
	size_t i, n;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		n = 99;
		why = NULL;
		if (!ASSERT_EQ(port_seq_parse(t[i].s, out, 4, &n, &why), t[i].err, t[i].s))
			continue;
		if (t[i].err) {
			ASSERT_STREQ(why, t[i].why, t[i].s);
			ASSERT_EQ(n, 99, "n untouched");
			continue;
		}
		ASSERT_EQ(n, t[i].n, t[i].s);
	}
	port_seq_parse("tcp/7000 udp/8000", out, 4, &n, &why);
	port_format(&out[1], buf, sizeof(buf));
	ASSERT_STREQ(buf, "udp/8000", "order kept");
}

T_MAIN(T_CASE(test_port_parse), T_CASE(test_port_list), T_CASE(test_port_seq))
