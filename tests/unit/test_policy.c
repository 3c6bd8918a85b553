// SPDX-License-Identifier: GPL-2.0
/* Policy evaluation: a table of subjects -> scopes or the refusal reason; the index at fleet size.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/config/gateway.h"
#include "lib/policy/policy.h"
#include "tests/lib/fleet.h"
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
			   "[allow cams]\n"
			   "device = cam-?? @gw-1 #cameras\n"
			   "app = stream*\n"
			   "services = web2\n"
			   "mode = integrity\n"
			   "[allow nodes]\n"
			   "device = node-*-x\n"
			   "services = ping\n"
			   "mode = integrity\n"
			   "[allow fleet]\n"
			   "group = fleet\n"
			   "app = *\n"
			   "services = echo\n"
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

/* "a b c" -> groups[], pointing into buf. */
static size_t split(const char *text, char *buf, size_t len, const char **groups, size_t max)
{
	size_t n = 0;
	char *tok, *save = NULL;

	snprintf(buf, len, "%s", text);
	for (tok = strtok_r(buf, " ", &save); tok && n < max; tok = strtok_r(NULL, " ", &save))
		groups[n++] = tok;
	return n;
}

static void test_table(void)
{
	static const char web_echo[] =
		"tcp 10.10.2.2/128 80-80; tcp 10.10.2.2/128 443-443; udp 10.10.2.0/120 7-7";
	static const char admin[] =
		"tcp 10.10.3.0/120 8000-8100; icmp 10.10.2.0/120 0-0; icmpv6 2001:db8::/64 0-0";
	static const struct {
		const char *device, *app, *groups;
		enum policy_verdict want_verdict;
		uint8_t want_mode; /* 99: untouched (a refusal) */
		const char *want;
	} t[] = {
		/* sensors leaves mode out: encrypted */
		{ "dev1", "sensor", "", POLICY_OK, CG_TUN_F_ENCRYPTED, web_echo },
		/* two sections match: union, web2's 443 counted once; encrypted beats integrity */
		{ "dev2", "sensor", "", POLICY_OK, CG_TUN_F_ENCRYPTED,
		  "tcp 10.10.2.2/128 80-80; tcp 10.10.2.2/128 443-443; udp 10.10.2.0/120 7-7; "
		  "icmp 10.10.2.0/120 0-0" },
		/* admin and admin2: integrity only because every match says so */
		{ "dev1", "shell", "", POLICY_OK, 0, admin },
		{ "dev2", "shell", "", POLICY_APP_NOT_ALLOWED, 99, "" },
		{ "dev1", "Sensor", "", POLICY_APP_NOT_ALLOWED, 99, "" },
		/* the device's own certificate: only sections without app */
		{ "dev1", "", "", POLICY_APP_NOT_ALLOWED, 99, "" },
		{ "dev3", "sensor", "", POLICY_UNKNOWN_DEVICE, 99, "" },
		{ "DEV1", "sensor", "", POLICY_UNKNOWN_DEVICE, 99, "" },
		{ "dev", "sensor", "", POLICY_UNKNOWN_DEVICE, 99, "" },
		{ "", "", "", POLICY_UNKNOWN_DEVICE, 99, "" },
		{ "sensors", "sensor", "", POLICY_UNKNOWN_DEVICE, 99, "" },
		/* cam-??: exactly two characters, anchored at both ends; app stream* */
		{ "cam-12", "stream", "", POLICY_OK, 0, "tcp 10.10.2.2/128 443-443" },
		{ "cam-.x", "streamer", "", POLICY_OK, 0, "tcp 10.10.2.2/128 443-443" },
		{ "cam-12", "", "", POLICY_APP_NOT_ALLOWED, 99, "" },
		{ "cam-12", "xstream", "", POLICY_APP_NOT_ALLOWED, 99, "" },
		{ "cam-123", "stream", "", POLICY_UNKNOWN_DEVICE, 99, "" },
		{ "cam-1", "stream", "", POLICY_UNKNOWN_DEVICE, 99, "" },
		{ "xcam-12", "stream", "", POLICY_UNKNOWN_DEVICE, 99, "" },
		{ "Cam-12", "stream", "", POLICY_UNKNOWN_DEVICE, 99, "" },
		/* @gw-1: exact */
		{ "gw-1", "stream", "", POLICY_OK, 0, "tcp 10.10.2.2/128 443-443" },
		{ "gw-10", "stream", "", POLICY_UNKNOWN_DEVICE, 99, "" },
		/* #cameras: any device in the group */
		{ "other", "stream", "cameras", POLICY_OK, 0, "tcp 10.10.2.2/128 443-443" },
		{ "other", "stream", "lab cameras", POLICY_OK, 0, "tcp 10.10.2.2/128 443-443" },
		{ "other", "stream", "camera cameras2 Cameras", POLICY_UNKNOWN_DEVICE, 99, "" },
		/* nodes: no app, so device certificates only; '*' may be empty, spans '.' */
		{ "node-1-x", "", "", POLICY_OK, 0, "icmp 10.10.2.0/120 0-0" },
		{ "node--x", "", "", POLICY_OK, 0, "icmp 10.10.2.0/120 0-0" },
		{ "node-a.b-x", "", "", POLICY_OK, 0, "icmp 10.10.2.0/120 0-0" },
		{ "node-1-x", "a", "", POLICY_APP_NOT_ALLOWED, 99, "" },
		{ "node-1-xy", "", "", POLICY_UNKNOWN_DEVICE, 99, "" },
		/* a pattern matches names only: '*' does not reach past the name rule */
		{ "node-/-x", "", "", POLICY_UNKNOWN_DEVICE, 99, "" },
		{ "node- -x", "", "", POLICY_UNKNOWN_DEVICE, 99, "" },
		/* fleet: group and app = *, which is any app but not the device's own certificate
		 */
		{ "x", "any", "fleet", POLICY_OK, 0, "udp 10.10.2.0/120 7-7" },
		{ "x", "", "fleet", POLICY_APP_NOT_ALLOWED, 99, "" },
		{ "x", "a/b", "fleet", POLICY_APP_NOT_ALLOWED, 99, "" },
		{ "x", "any", "fle*", POLICY_UNKNOWN_DEVICE, 99, "" },
		{ "x", "any", "fleet/x", POLICY_UNKNOWN_DEVICE, 99, "" },
		{ "x", "any", "fleetfleetfleetfleetfleetfleetfleetfleetfleetfleetfleetfleetfleet1",
		  POLICY_UNKNOWN_DEVICE, 99, "" },
		/* unions across kinds of selectors, in the order of the file */
		{ "dev1", "shell", "fleet", POLICY_OK, 0,
		  "tcp 10.10.3.0/120 8000-8100; icmp 10.10.2.0/120 0-0; icmpv6 2001:db8::/64 0-0; "
		  "udp 10.10.2.0/120 7-7" },
		{ "dev1", "sensor", "fleet", POLICY_OK, CG_TUN_F_ENCRYPTED, web_echo },
		{ "cam-12", "stream", "fleet cameras", POLICY_OK, 0,
		  "tcp 10.10.2.2/128 443-443; udp 10.10.2.0/120 7-7" },
	};
	struct cg_scope out[CG_MAX_SCOPES];
	const char *groups[4];
	struct policy_subject sub;
	struct gw_config cfg;
	char got[1024], name[256], buf[128];
	uint8_t mode;
	size_t i, n;
	int err;

	if (!load(&cfg))
		return;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(name, sizeof(name), "%s/%s [%s]", t[i].device, t[i].app, t[i].groups);
		sub = (struct policy_subject){ .device = t[i].device,
					       .app = t[i].app,
					       .groups = groups };
		sub.ngroups = split(t[i].groups, buf, sizeof(buf), groups, 4);
		n = 99;
		err = policy_scopes(&cfg.policy, &sub, out, CG_MAX_SCOPES, &n);
		ASSERT_EQ(err, t[i].want_verdict == POLICY_OK ? 0 : -EACCES, name);
		mode = 99;
		ASSERT_EQ(policy_check(&cfg.policy, &sub, &mode), t[i].want_verdict, name);
		ASSERT_EQ(mode, t[i].want_mode, name);
		if (err) {
			ASSERT_EQ(n, 99, "n untouched on refusal");
			continue;
		}
		fmt(out, n, got, sizeof(got));
		ASSERT_STREQ(got, t[i].want, name);
	}
}

/* Glob: '*' any run (empty too), '?' one character, anchored at both ends, case counts. */
static void test_glob(void)
{
	static const struct {
		const char *pattern, *name;
		bool want;
	} t[] = {
		{ "*", "a", true },
		{ "*", "", true },
		{ "a*", "a", true },
		{ "a*", "ba", false },
		{ "*a", "ab", false },
		{ "*a", "ba", true },
		{ "a?c", "abc", true },
		{ "a?c", "ac", false },
		{ "a?c", "abbc", false },
		{ "?", "", false },
		{ "??", "a", false },
		{ "a*b*c", "aXbYc", true },
		{ "a*b*c", "abc", true },
		{ "a*b*c", "aXbYcd", false },
		{ "a*b*c", "acb", false },
		{ "s*-0?", "sensor-01", true },
		{ "s*-0?", "sensor-010", false },
		{ "s*-0?", "s-0-01", true },
		{ "*.site9", "gw-1.site9", true },
		{ "*.site9", "gw-1.site99", false },
		{ "a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		  false },
		{ "Cam*", "cam1", false },
		{ "cam-1", "cam-1", true },
	};
	char name[160];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(name, sizeof(name), "%s ~ %s", t[i].pattern, t[i].name);
		ASSERT_EQ(policy_glob(t[i].pattern, t[i].name), t[i].want, name);
	}
}

/* The bytes the datapath reads. */
static void test_scope_bytes(void)
{
	static const uint8_t want_addr[16] = { 0, 0, 0,	   0,	 0,  0,	 0, 0,
					       0, 0, 0xff, 0xff, 10, 10, 2, 0 };
	const struct policy_subject sub = { .device = "dev1", .app = "sensor" };
	struct cg_scope out[CG_MAX_SCOPES];
	struct gw_config cfg;
	size_t n = 0;

	if (!load(&cfg))
		return;
	if (!ASSERT_EQ(policy_scopes(&cfg.policy, &sub, out, CG_MAX_SCOPES, &n), 0, "ok") ||
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
	const struct policy_subject dev2 = { .device = "dev2", .app = "sensor" },
				    dev1 = { .device = "dev1", .app = "sensor" };
	struct cg_scope out[CG_MAX_SCOPES], before[CG_MAX_SCOPES];
	struct gw_config cfg;
	size_t n = 99;

	if (!load(&cfg))
		return;
	memset(out, 0x5a, sizeof(out));
	memcpy(before, out, sizeof(out));
	ASSERT_EQ(policy_scopes(&cfg.policy, &dev2, out, 3, &n), -E2BIG, "4 scopes in 3");
	ASSERT_EQ(n, 99, "n untouched");
	ASSERT_MEMEQ(out, before, sizeof(out), "out untouched");
	ASSERT_EQ(policy_scopes(&cfg.policy, &dev2, out, 4, &n), 0, "4 in 4");
	ASSERT_EQ(n, 4, "n");
	ASSERT_EQ(policy_scopes(&cfg.policy, &dev1, out, 0, &n), -E2BIG, "max 0");
}

/*
 * Sections of 10 scopes each, two of them for one group: the config takes it (it cannot
 * know who is in the group), the handshake of a device in both is refused.
 */
static void test_union_e2big(void)
{
	static const char text[] =
		"[gateway]\ninterface = e0\n"
		"[auth]\nca = /c/ca.crt\ncert = /c/gw.crt\nkey = /c/gw.key\npool = 100.64.0.0/24\n"
		"[service a]\nproto = udp\naddress = 10.1.0.1\nports = 1 2 3 4 5 6 7 8\n"
		"[service b]\nproto = udp\naddress = 10.1.0.2\nports = 1 2\n"
		"[service c]\nproto = udp\naddress = 10.1.0.3\nports = 1 2 3 4 5 6 7 8\n"
		"[allow p]\ngroup = g\nservices = a b\n"
		"[allow q]\ndevice = d*\nservices = c b\n";
	const char *g[] = { "g" };
	const struct policy_subject both = { .device = "d1", .app = "", .groups = g, .ngroups = 1 },
				    one = { .device = "d1", .app = "" },
				    other = {
					    .device = "e1", .app = "", .groups = g, .ngroups = 1
				    };
	struct cg_scope out[CG_MAX_SCOPES];
	char err[CG_ERR_MAX] = "";
	struct gw_config cfg;
	size_t n = 0;

	if (!ASSERT_EQ(config_parse_string(text, "u.ini", &cfg, err, sizeof(err)), 0, err))
		return;
	ASSERT_EQ(policy_check(&cfg.policy, &both, NULL), POLICY_OK, "both sections match");
	ASSERT_EQ(policy_scopes(&cfg.policy, &both, out, CG_MAX_SCOPES, &n), -E2BIG,
		  "18 scopes in the union");
	ASSERT_EQ(policy_scopes(&cfg.policy, &one, out, CG_MAX_SCOPES, &n), 0, "q alone");
	ASSERT_EQ(n, 10, "c and b");
	ASSERT_EQ(policy_scopes(&cfg.policy, &other, out, CG_MAX_SCOPES, &n), 0, "p alone");
	ASSERT_EQ(n, 10, "a and b");
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
	ASSERT_EQ(policy_scopes_of(&cfg.policy, 7, out, CG_MAX_SCOPES, &n), -EINVAL,
		  "no such section");
}

/* struct policy is a plain value: a copy decides the same, with the original gone. */
static void test_copy(void)
{
	const char *g[] = { "cameras" };
	const struct policy_subject sub = {
		.device = "x", .app = "stream", .groups = g, .ngroups = 1
	};
	struct cg_scope out[CG_MAX_SCOPES];
	struct policy *copy = malloc(sizeof(*copy));
	struct gw_config cfg;
	size_t n = 0;

	if (!ASSERT_TRUE(copy != NULL, "malloc") || !load(&cfg)) {
		free(copy);
		return;
	}
	*copy = cfg.policy;
	memset(&cfg.policy, 0xa5, sizeof(cfg.policy));
	ASSERT_EQ(policy_check(copy, &sub, NULL), POLICY_OK, "the copy's index");
	ASSERT_EQ(policy_scopes(copy, &sub, out, CG_MAX_SCOPES, &n), 0, "scopes");
	ASSERT_EQ(n, 1, "web2");
	free(copy);
}

static void test_add_errors(void)
{
	struct policy *p = calloc(1, sizeof(*p));
	const char *why = "";

	if (!ASSERT_TRUE(p != NULL, "calloc"))
		return;
	ASSERT_EQ(policy_add(p, 0, POLICY_KEY_DEVICE, "d", &why), -EINVAL, "no section");
	ASSERT_STREQ(why, "no such section", why);
	p->npolicies = 2;
	ASSERT_EQ(policy_add(p, 0, POLICY_KEY_DEVICE, "d*", &why), 0, why);
	ASSERT_EQ(policy_add(p, 0, POLICY_KEY_DEVICE, "d*", &why), -EEXIST, "twice");
	ASSERT_EQ(policy_add(p, 1, POLICY_KEY_DEVICE, "d*", &why), 0, "in another section");
	ASSERT_EQ(policy_add(p, 0, POLICY_KEY_GROUP, "d", &why), 0, "a group is not a name");
	ASSERT_EQ(policy_add(p, 0, POLICY_KEY_DEVICE, "#d", &why), -EEXIST, "#d is group d");
	ASSERT_EQ(policy_add(p, 0, POLICY_KEY_DEVICE, "", &why), -EINVAL, "empty");
	ASSERT_EQ(policy_add(p, 0, POLICY_KEY_APP, "", &why), -EINVAL, "empty app");
	ASSERT_EQ(policy_add(p, 0, POLICY_KEY_DEVICE, "@", &why), -EINVAL, "@ alone");
	ASSERT_EQ(policy_add(p, 0, POLICY_KEY_APP,
			     "0123456789012345678901234567890123456789"
			     "01234567890123456789012*",
			     &why),
		  -EINVAL, "64 characters");
	ASSERT_EQ(p->nsels, 2, "d* once for two sections, group d; refusals add nothing");
	ASSERT_EQ(p->sels[0].sections[0], 3, "d* in sections 0 and 1");
	ASSERT_EQ(p->policies[0].ndevsel, 2, "d* and #d");
	free(p);
}

/* Section by section, selector by selector: what the index must find. */
static bool ref_section(const struct policy *p, size_t sec, const struct policy_subject *sub,
			bool *device)
{
	const struct policy_sel *s;
	bool dev = false, app = false;
	size_t i, g;

	for (i = 0; i < p->nsels; i++) {
		s = &p->sels[i];
		if (!(s->sections[sec / 64] >> (sec % 64) & 1))
			continue;
		switch (s->kind) {
		case POLICY_SEL_NAME:
			dev |= !strcmp(s->text, sub->device);
			break;
		case POLICY_SEL_PATTERN:
			dev |= policy_glob(s->text, sub->device);
			break;
		case POLICY_SEL_GROUP:
			for (g = 0; g < sub->ngroups; g++)
				dev |= !strcmp(s->text, sub->groups[g]);
			break;
		case POLICY_SEL_APP:
			app |= !strcmp(s->text, sub->app);
			break;
		case POLICY_SEL_APP_PATTERN:
			app |= sub->app[0] && policy_glob(s->text, sub->app);
			break;
		}
	}
	*device |= dev;
	return dev && (p->policies[sec].napps ? app : !sub->app[0]);
}

/* The index against the brute force over 20,000 random subjects of a 10,000-device fleet. */
static void test_fleet_reference(void)
{
	struct cg_scope out[CG_MAX_SCOPES], want[CG_MAX_SCOPES], one[CG_MAX_SCOPES];
	struct fleet *f = malloc(sizeof(*f));
	size_t i, k, j, n, nw, n1, bad = 0, hits = 0;
	enum policy_verdict v, wv;
	struct policy_subject sub;
	char buf[CG_NAME_MAX], name[160];
	uint8_t mode, wmode;
	bool device;
	int err;

	if (!ASSERT_TRUE(f != NULL, "malloc"))
		return;
	if (!ASSERT_EQ(fleet_build(f, 12), 0, "fleet"))
		goto out;
	for (i = 0; i < 20000 && bad < 5; i++) {
		fleet_subject(f, &sub, buf);
		device = false;
		wmode = 0;
		nw = 0;
		wv = POLICY_OK;
		for (k = 0; k < f->policy.npolicies; k++) {
			if (!ref_section(&f->policy, k, &sub, &device))
				continue;
			wmode |= f->policy.policies[k].mode;
			policy_scopes_of(&f->policy, k, one, CG_MAX_SCOPES, &n1);
			for (j = 0; j < n1; j++) {
				for (n = 0; n < nw && memcmp(&want[n], &one[j], sizeof(one[j]));
				     n++)
					;
				if (n == nw)
					want[nw++] = one[j];
			}
		}
		if (!nw)
			wv = device ? POLICY_APP_NOT_ALLOWED : POLICY_UNKNOWN_DEVICE;
		mode = 99;
		v = policy_check(&f->policy, &sub, &mode);
		err = policy_scopes(&f->policy, &sub, out, CG_MAX_SCOPES, &n);
		hits += v == POLICY_OK;
		if (v == wv && (v != POLICY_OK || (mode == wmode && !err && n == nw &&
						   !memcmp(out, want, n * sizeof(out[0])))))
			continue;
		snprintf(name, sizeof(name), "%s/%s (%zu groups): verdict %d want %d", sub.device,
			 sub.app, sub.ngroups, v, wv);
		ASSERT_TRUE(false, name);
		bad++;
	}
	ASSERT_EQ(bad, 0, "index == brute force");
	/* Not a table of refusals: a fair share of the subjects is let in. */
	ASSERT_TRUE(hits > 2000 && hits < 18000, "hits and misses both");
out:
	free(f);
}

/* No [auth]: nothing is allowed. */
static void test_no_policy(void)
{
	const struct policy_subject sub = { .device = "dev1", .app = "sensor" };
	struct cg_scope out[CG_MAX_SCOPES];
	struct gw_config cfg;
	char err[CG_ERR_MAX] = "";
	size_t n = 0;

	if (!ASSERT_EQ(config_parse_string("[gateway]\ninterface = e0\n", "p.ini", &cfg, err,
					   sizeof(err)),
		       0, err))
		return;
	ASSERT_EQ(policy_scopes(&cfg.policy, &sub, out, CG_MAX_SCOPES, &n), -EACCES, "none");
	ASSERT_EQ(policy_check(&cfg.policy, &sub, NULL), POLICY_UNKNOWN_DEVICE, "unknown");
}

static void test_verdict_str(void)
{
	ASSERT_STREQ(policy_verdict_str(POLICY_OK), "ok", "ok");
	ASSERT_STREQ(policy_verdict_str(POLICY_UNKNOWN_DEVICE), "unknown_device", "device");
	ASSERT_STREQ(policy_verdict_str(POLICY_APP_NOT_ALLOWED), "app_not_allowed", "app");
	ASSERT_STREQ(policy_verdict_str((enum policy_verdict)99), "unknown", "out of range");
}

T_MAIN(T_CASE(test_table), T_CASE(test_glob), T_CASE(test_scope_bytes), T_CASE(test_e2big),
       T_CASE(test_union_e2big), T_CASE(test_scopes_of), T_CASE(test_copy), T_CASE(test_add_errors),
       T_CASE(test_fleet_reference), T_CASE(test_no_policy), T_CASE(test_verdict_str))
