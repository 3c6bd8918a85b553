// SPDX-License-Identifier: GPL-2.0
/* Policy evaluation: a table of device x app -> scopes or the refusal reason. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>

#include "lib/config/gateway.h"
#include "lib/policy/policy.h"
#include "tests/lib/t.h"

static const char conf[] = "[gateway]\n"
			   "interface = e0\n"
			   "[auth]\n"
			   "ca = /c/ca.crt\n"
			   "cert = /c/gw.crt\n"
			   "key = /c/gw.key\n"
			   "pool = 100.64.0.0/24\n"
			   "[allow sensors]\n"
			   "device = dev1 dev2\n"
			   "app = sensor\n"
			   "services = web echo\n"
			   "[allow admin]\n"
			   "device = dev1\n"
			   "app = shell\n"
			   "services = range ping ping6\n"
			   "mode = integrity\n"
			   "[allow more]\n"
			   "device = dev2\n"
			   "app = sensor\n"
			   "services = web2 ping\n"
			   "mode = integrity\n"
			   "[allow admin2]\n"
			   "device = dev1\n"
			   "app = shell\n"
			   "services = ping\n"
			   "mode = integrity\n"
			   "[service web]\n"
			   "proto = tcp\n"
			   "address = 10.10.2.2\n"
			   "ports = 80 443\n"
			   "[service echo]\n"
			   "proto = udp\n"
			   "address = 10.10.2.0/24\n"
			   "ports = 7\n"
			   "[service range]\n"
			   "proto = tcp\n"
			   "address = 10.10.3.0/24\n"
			   "ports = 8000-8100\n"
			   "[service ping]\n"
			   "proto = icmp\n"
			   "address = 10.10.2.0/24\n"
			   "[service ping6]\n"
			   "proto = icmp\n"
			   "address = 2001:db8::/64\n"
			   "[service web2]\n"
			   "proto = tcp\n"
			   "address = 10.10.2.2\n"
			   "ports = 443\n";

static bool load(struct gw_config *cfg)
{
	char err[CG_ERR_MAX] = "";

	return ASSERT_EQ(config_parse_string(conf, "p.ini", cfg, err, sizeof(err)), 0, err);
}

static const char *pname(uint8_t p)
{
	switch (p) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	default:
		return "?";
	}
}

/* "tcp 10.10.2.2/128 80-80; ..." : plen as the datapath sees it (128-bit space). */
static void fmt(const struct cg_scope *s, size_t n, char *buf, size_t len)
{
	char a[CG_ADDRSTRLEN];
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++) {
		addr_format_mapped(s[i].addr, a, sizeof(a));
		off += (size_t)snprintf(buf + off, len - off, "%s%s %s/%u %u-%u", i ? "; " : "",
					pname(s[i].proto), a, s[i].plen, s[i].port_lo,
					s[i].port_hi);
	}
}

static void test_table(void)
{
	static const struct {
		const char *device, *app;
		int want_err;
		enum policy_verdict want_verdict;
		uint8_t want_mode; /* 99: untouched (a refusal) */
		const char *want;
	} t[] = {
		/* sensors leaves mode out: encrypted */
		{ "dev1", "sensor", 0, POLICY_OK, CG_TUN_F_ENCRYPTED,
		  "tcp 10.10.2.2/128 80-80; tcp 10.10.2.2/128 443-443; udp 10.10.2.0/120 7-7" },
		/* two sections match: union, web2's 443 counted once; encrypted beats integrity */
		{ "dev2", "sensor", 0, POLICY_OK, CG_TUN_F_ENCRYPTED,
		  "tcp 10.10.2.2/128 80-80; tcp 10.10.2.2/128 443-443; udp 10.10.2.0/120 7-7; "
		  "icmp 10.10.2.0/120 0-0" },
		/* admin and admin2: integrity only because every match says so */
		{ "dev1", "shell", 0, POLICY_OK, 0,
		  "tcp 10.10.3.0/120 8000-8100; icmp 10.10.2.0/120 0-0; icmpv6 2001:db8::/64 0-0" },
		{ "dev2", "shell", -EACCES, POLICY_APP_NOT_ALLOWED, 99, "" },
		{ "dev1", "Sensor", -EACCES, POLICY_APP_NOT_ALLOWED, 99, "" },
		{ "dev1", "", -EACCES, POLICY_APP_NOT_ALLOWED, 99, "" },
		{ "dev3", "sensor", -EACCES, POLICY_UNKNOWN_DEVICE, 99, "" },
		{ "DEV1", "sensor", -EACCES, POLICY_UNKNOWN_DEVICE, 99, "" },
		{ "dev", "sensor", -EACCES, POLICY_UNKNOWN_DEVICE, 99, "" },
		{ "", "", -EACCES, POLICY_UNKNOWN_DEVICE, 99, "" },
		{ "sensors", "sensor", -EACCES, POLICY_UNKNOWN_DEVICE, 99, "" },
	};
	struct cg_scope out[CG_MAX_SCOPES];
	struct gw_config cfg;
	char got[1024], name[128];
	uint8_t mode;
	size_t i, n;
	int err;

	if (!load(&cfg))
		return;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(name, sizeof(name), "%s/%s", t[i].device, t[i].app);
		n = 99;
		err = policy_scopes(&cfg.policy, t[i].device, t[i].app, out, CG_MAX_SCOPES, &n);
		ASSERT_EQ(err, t[i].want_err, name);
		mode = 99;
		ASSERT_EQ(policy_check(&cfg.policy, t[i].device, t[i].app, &mode),
			  t[i].want_verdict, name);
		ASSERT_EQ(mode, t[i].want_mode, name);
		if (err) {
			ASSERT_EQ(n, 99, "n untouched on refusal");
			continue;
		}
		fmt(out, n, got, sizeof(got));
		ASSERT_STREQ(got, t[i].want, name);
	}
}

/* The bytes the datapath reads. */
static void test_scope_bytes(void)
{
	static const uint8_t want_addr[16] = { 0, 0, 0,	   0,	 0,  0,	 0, 0,
					       0, 0, 0xff, 0xff, 10, 10, 2, 0 };
	struct cg_scope out[CG_MAX_SCOPES];
	struct gw_config cfg;
	size_t n = 0;

	if (!load(&cfg))
		return;
	if (!ASSERT_EQ(policy_scopes(&cfg.policy, "dev1", "sensor", out, CG_MAX_SCOPES, &n), 0,
		       "ok") ||
	    !ASSERT_EQ(n, 3, "n"))
		return;
	ASSERT_MEMEQ(out[2].addr, want_addr, 16, "::ffff:10.10.2.0");
	ASSERT_EQ(out[2].plen, 120, "IPv4 /24 is 120");
	ASSERT_EQ(out[2].proto, IPPROTO_UDP, "proto");
	ASSERT_EQ(out[2].port_lo, 7, "port_lo host order");
	ASSERT_EQ(out[2].port_hi, 7, "port_hi host order");
	ASSERT_EQ(out[2].pad[0] | out[2].pad[1], 0, "pad zero");
}

static void test_e2big(void)
{
	struct cg_scope out[CG_MAX_SCOPES], before[CG_MAX_SCOPES];
	struct gw_config cfg;
	size_t n = 99;

	if (!load(&cfg))
		return;
	memset(out, 0x5a, sizeof(out));
	memcpy(before, out, sizeof(out));
	ASSERT_EQ(policy_scopes(&cfg.policy, "dev2", "sensor", out, 3, &n), -E2BIG,
		  "4 scopes in 3");
	ASSERT_EQ(n, 99, "n untouched");
	ASSERT_MEMEQ(out, before, sizeof(out), "out untouched");
	ASSERT_EQ(policy_scopes(&cfg.policy, "dev2", "sensor", out, 4, &n), 0, "4 in 4");
	ASSERT_EQ(n, 4, "n");
	ASSERT_EQ(policy_scopes(&cfg.policy, "dev1", "sensor", out, 0, &n), -E2BIG, "max 0");
}

static void test_scopes_of(void)
{
	struct cg_scope out[CG_MAX_SCOPES];
	struct gw_config cfg;
	size_t n = 0;

	if (!load(&cfg))
		return;
	ASSERT_EQ(policy_scopes_of(&cfg.policy, 2, out, CG_MAX_SCOPES, &n), 0, "[allow more]");
	ASSERT_EQ(n, 2, "web2 and ping");
	ASSERT_EQ(policy_scopes_of(&cfg.policy, 4, out, CG_MAX_SCOPES, &n), -EINVAL,
		  "no such section");
}

static void test_device_known(void)
{
	static const struct {
		const char *device;
		bool want;
	} t[] = {
		{ "dev1", true }, { "dev2", true },   { "dev3", false },
		{ "", false },	  { "dev1 ", false }, { "sensors", false },
	};
	struct gw_config cfg;
	size_t i;

	if (!load(&cfg))
		return;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ASSERT_EQ(policy_device_known(&cfg.policy, t[i].device), t[i].want, t[i].device);
}

/* No [auth]: nothing is allowed. */
static void test_no_policy(void)
{
	struct cg_scope out[CG_MAX_SCOPES];
	struct gw_config cfg;
	char err[CG_ERR_MAX] = "";
	size_t n = 0;

	if (!ASSERT_EQ(config_parse_string("[gateway]\ninterface = e0\n", "p.ini", &cfg, err,
					   sizeof(err)),
		       0, err))
		return;
	ASSERT_EQ(policy_scopes(&cfg.policy, "dev1", "sensor", out, CG_MAX_SCOPES, &n), -EACCES,
		  "none");
	ASSERT_EQ(policy_check(&cfg.policy, "dev1", "sensor", NULL), POLICY_UNKNOWN_DEVICE,
		  "unknown");
	ASSERT_TRUE(!policy_device_known(&cfg.policy, "dev1"), "not known");
}

static void test_verdict_str(void)
{
	ASSERT_STREQ(policy_verdict_str(POLICY_OK), "ok", "ok");
	ASSERT_STREQ(policy_verdict_str(POLICY_UNKNOWN_DEVICE), "unknown_device", "device");
	ASSERT_STREQ(policy_verdict_str(POLICY_APP_NOT_ALLOWED), "app_not_allowed", "app");
	ASSERT_STREQ(policy_verdict_str((enum policy_verdict)99), "unknown", "out of range");
}

T_MAIN(T_CASE(test_table), T_CASE(test_scope_bytes), T_CASE(test_e2big), T_CASE(test_scopes_of),
       T_CASE(test_device_known), T_CASE(test_no_policy), T_CASE(test_verdict_str))
