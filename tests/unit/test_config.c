// SPDX-License-Identifier: GPL-2.0
/* Gateway and client config parsers: every key, default and error with its message and line. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/config/client.h"
#include "lib/config/gateway.h"
#include "lib/tunnel/aead.h"
#include "tests/lib/t.h"

#ifndef CG_SRCDIR
#define CG_SRCDIR "."
#endif

#define SEC(n) ((uint64_t)(n)*1000000000ULL)
#define GW "[gateway]\ninterface = ext0\n"

static const char sample[] =
	"[gateway]\n"
	"interface = ext0            ; external interface: XDP is attached here\n"
	"name = edge1                ; optional; default: the interface name\n"
	"api = unix:/run/capgate/edge1.sock ; REST API (the default); TCP needs api_token_file\n"
	"state_dir = /var/lib/capgate\n"
	"default = drop              ; drop | pass\n"
	"\n"
	"[open]\n"
	"tcp = 8443                  ; space- or comma-separated ports, for anyone\n"
	"udp = 51900 62201\n"
	"\n"
	"[knock ssh]\n"
	"sequence = tcp/7000 udp/8000 tcp/9000\n"
	"step_timeout = 5s\n"
	"open = tcp/22\n"
	"open_for = 30s\n";

static bool port_is(const struct cg_port *p, uint8_t proto, uint16_t port, const char *name)
{
	return ASSERT_EQ(p->proto, proto, name) && ASSERT_EQ(ntohs(p->port), port, name);
}

static bool check_sample(const struct gw_config *c)
{
	const struct knock_profile *k = &c->knocks[0].prof;
	bool ok = true;

	ok &= ASSERT_STREQ(c->iface, "ext0", "iface");
	ok &= ASSERT_STREQ(c->name, "edge1", "name");
	ok &= ASSERT_STREQ(c->api, "unix:/run/capgate/edge1.sock", "api");
	ok &= ASSERT_STREQ(c->state_dir, "/var/lib/capgate", "state_dir");
	ok &= ASSERT_EQ(c->default_action, GATE_DEFAULT_DROP, "default");
	ok &= ASSERT_EQ(c->xdp_mode, CG_XDP_AUTO, "xdp_mode");
	ok &= ASSERT_EQ(c->flow_timeout_ns, SEC(300), "flow_timeout");
	ok &= ASSERT_EQ(c->nopen, 3, "nopen");
	ok &= port_is(&c->open[0], IPPROTO_TCP, 8443, "open0");
	ok &= port_is(&c->open[1], IPPROTO_UDP, 51900, "open1");
	ok &= port_is(&c->open[2], IPPROTO_UDP, 62201, "open2");
	ok &= ASSERT_EQ(c->nknocks, 1, "nknocks");
	ok &= ASSERT_STREQ(c->knocks[0].name, "ssh", "knock name");
	ok &= ASSERT_EQ(k->nsteps, 3, "nsteps");
	ok &= port_is(&k->steps[0], IPPROTO_TCP, 7000, "step0");
	ok &= port_is(&k->steps[1], IPPROTO_UDP, 8000, "step1");
	ok &= port_is(&k->steps[2], IPPROTO_TCP, 9000, "step2");
	ok &= ASSERT_EQ(k->step_timeout_ns, SEC(5), "step_timeout");
	ok &= ASSERT_EQ(k->ntargets, 1, "ntargets");
	ok &= port_is(&k->targets[0], IPPROTO_TCP, 22, "target0");
	ok &= ASSERT_EQ(k->open_for_ns, SEC(30), "open_for");
	return ok;
}

static void test_sample(void)
{
	struct gw_config c;
	char err[CG_ERR_MAX] = "";

	if (!ASSERT_EQ(config_parse_string(sample, "t.ini", &c, err, sizeof(err)), 0, err))
		return;
	check_sample(&c);
}

static void test_example_file(void)
{
	struct gw_config c;
	char err[CG_ERR_MAX] = "";

	if (!ASSERT_EQ(config_load(CG_SRCDIR "/examples/gateway.ini", &c, err, sizeof(err)), 0,
		       err))
		return;
	check_sample(&c);
}

static void test_defaults(void)
{
	struct gw_config c;
	char err[CG_ERR_MAX] = "";

	if (!ASSERT_EQ(config_parse_string(GW, "t.ini", &c, err, sizeof(err)), 0, err))
		return;
	ASSERT_STREQ(c.iface, "ext0", "iface");
	ASSERT_STREQ(c.name, "ext0", "name defaults to the interface");
	ASSERT_STREQ(c.api, "unix:/run/capgate/ext0.sock", "api: a socket named after the gateway");
	ASSERT_STREQ(c.api_token_file, "", "api_token_file");
	ASSERT_EQ(c.metrics_public, false, "metrics_public");
	ASSERT_STREQ(c.state_dir, "/var/lib/capgate", "state_dir");
	ASSERT_EQ(c.default_action, GATE_DEFAULT_DROP, "default");
	ASSERT_EQ(c.xdp_mode, CG_XDP_AUTO, "xdp_mode");
	ASSERT_EQ(c.flow_timeout_ns, SEC(300), "flow_timeout");
	ASSERT_EQ(c.nopen, 0, "nopen");
	ASSERT_EQ(c.nknocks, 0, "nknocks");
}

static void test_every_key(void)
{
	static const char text[] = "[gateway]\n"
				   "interface=veth-gw.1\n"
				   "name = a.B_c-9\n"
				   "api = [::1]:9000\n"
				   "api_token_file = /etc/capgate/api.token\n"
				   "metrics_public = yes\n"
				   "state_dir = /tmp/cg state\n"
				   "default = pass\n"
				   "xdp_mode = generic\n"
				   "flow_timeout = 1h\n"
				   "[open]\n"
				   "tcp = 22, 80,443\n"
				   "udp = 53\t5353\n"
				   "[knock a]\n"
				   "sequence = udp/1,udp/2 tcp/3 tcp/3\n"
				   "open = tcp/22 udp/53\n"
				   "open_for = 24h\n"
				   "step_timeout = 1h\n"
				   "[knock b]\n"
				   "sequence = tcp/1\n"
				   "open = tcp/2\n"
				   "step_timeout = 1\n"
				   "open_for = 2m\n";
	struct gw_config c;
	char err[CG_ERR_MAX] = "";

	if (!ASSERT_EQ(config_parse_string(text, "t.ini", &c, err, sizeof(err)), 0, err))
		return;
	ASSERT_STREQ(c.iface, "veth-gw.1", "iface");
	ASSERT_STREQ(c.name, "a.B_c-9", "name");
	ASSERT_STREQ(c.api, "[::1]:9000", "api");
	ASSERT_STREQ(c.api_token_file, "/etc/capgate/api.token", "api_token_file");
	ASSERT_EQ(c.metrics_public, true, "metrics_public");
	ASSERT_STREQ(c.state_dir, "/tmp/cg state", "state_dir");
	ASSERT_EQ(c.default_action, GATE_DEFAULT_PASS, "default");
	ASSERT_EQ(c.xdp_mode, CG_XDP_GENERIC, "xdp_mode");
	ASSERT_EQ(c.flow_timeout_ns, SEC(3600), "flow_timeout");
	ASSERT_EQ(c.nopen, 5, "nopen");
	port_is(&c.open[0], IPPROTO_TCP, 22, "open0");
	port_is(&c.open[2], IPPROTO_TCP, 443, "open2");
	port_is(&c.open[3], IPPROTO_UDP, 53, "open3");
	port_is(&c.open[4], IPPROTO_UDP, 5353, "open4");
	ASSERT_EQ(c.nknocks, 2, "nknocks");
	ASSERT_EQ(c.knocks[0].prof.nsteps, 4, "a nsteps (a step may repeat)");
	port_is(&c.knocks[0].prof.steps[3], IPPROTO_TCP, 3, "a step3");
	ASSERT_EQ(c.knocks[0].prof.ntargets, 2, "a ntargets");
	port_is(&c.knocks[0].prof.targets[1], IPPROTO_UDP, 53, "a target1");
	ASSERT_EQ(c.knocks[0].prof.open_for_ns, SEC(24 * 3600), "a open_for");
	ASSERT_EQ(c.knocks[0].prof.step_timeout_ns, SEC(3600), "a step_timeout");
	ASSERT_STREQ(c.knocks[1].name, "b", "b name");
	ASSERT_EQ(c.knocks[1].prof.step_timeout_ns, SEC(1), "b step_timeout (bare seconds)");
	ASSERT_EQ(c.knocks[1].prof.open_for_ns, SEC(120), "b open_for");
}

static void test_knock_defaults(void)
{
	struct gw_config c;
	char err[CG_ERR_MAX] = "";

	if (!ASSERT_EQ(config_parse_string(GW "[knock k]\nsequence = udp/9\nopen = tcp/22\n",
					   "t.ini", &c, err, sizeof(err)),
		       0, err))
		return;
	ASSERT_EQ(c.knocks[0].prof.step_timeout_ns, SEC(5), "step_timeout default 5s");
	ASSERT_EQ(c.knocks[0].prof.open_for_ns, SEC(30), "open_for default 30s");
}

/* Texts that parse, with something to check in each. */
static void test_accepted_forms(void)
{
	static const struct {
		const char *name, *text, *want_iface;
	} t[] = {
		{ "comments", "; top\n# hash\n[gateway] ; c\ninterface = e0 ; c\n", "e0" },
		{ "BOM", "\xEF\xBB\xBF[gateway]\ninterface = e1\n", "e1" },
		{ "CRLF", "[gateway]\r\ninterface = e2\r\n", "e2" },
		{ "colon separator", "[gateway]\ninterface: e3\n", "e3" },
		{ "indented comment after a key", GW "   ; note\n", "ext0" },
		{ "blank lines", "\n\n[gateway]\n\ninterface = e4\n\n", "e4" },
		{ "empty [open]", GW "[open]\n", "ext0" },
		{ "unix api", GW "api = unix:/run/capgate.sock\n", "ext0" },
		{ "TCP api with a token", GW "api = 127.0.0.1:7070\napi_token_file = t\n", "ext0" },
		{ "token file before api", GW "api_token_file = t\napi = [::1]:7070\n", "ext0" },
		{ "metrics_public = no", GW "metrics_public = no\n", "ext0" },
		{ "15-char interface", "[gateway]\ninterface = abcdefghijklmno\n",
		  "abcdefghijklmno" },
		{ "shared first step",
		  GW "[knock a]\nsequence = tcp/1 tcp/2\nopen = tcp/22\n"
		     "[knock b]\nsequence = tcp/1 tcp/3\nopen = tcp/23\n",
		  "ext0" },
		{ "knock target that is open",
		  GW "[open]\ntcp = 22\n[knock a]\nsequence = "
		     "tcp/1\nopen = tcp/22\n",
		  "ext0" },
		{ "63-char knock name",
		  GW "[knock "
		     "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij123]\n"
		     "sequence = tcp/1\nopen = tcp/2\n",
		  "ext0" },
	};
	struct gw_config c;
	char err[CG_ERR_MAX];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err[0] = '\0';
		if (!ASSERT_EQ(config_parse_string(t[i].text, "t.ini", &c, err, sizeof(err)), 0,
			       t[i].name)) {
			fprintf(stderr, "    %s\n", err);
			continue;
		}
		if (t[i].want_iface)
			ASSERT_STREQ(c.iface, t[i].want_iface, t[i].name);
	}
	ASSERT_EQ(config_parse_string(GW "name = a;b\n", "t.ini", &c, err, sizeof(err)), -EINVAL,
		  "a;b is a value, and not a valid name");
	ASSERT_STREQ(err,
		     "t.ini:3: [gateway] name: \"a;b\" is not a name (1..63 of A-Z a-z 0-9 _ . -)",
		     "a;b");
}

#define KS "[knock ssh]\nsequence = tcp/7000\nopen = tcp/22\n"
#define L200                                                                                       \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaa"
#define N8 "tcp/1 tcp/2 tcp/3 tcp/4 tcp/5 tcp/6 tcp/7 tcp/8"
#define K17                                                                                  \
	"[knock k1]\nsequence=tcp/1\nopen=tcp/2\n[knock k2]\nsequence=tcp/1\nopen=tcp/2\n"   \
	"[knock k3]\nsequence=tcp/1\nopen=tcp/2\n[knock k4]\nsequence=tcp/1\nopen=tcp/2\n"   \
	"[knock k5]\nsequence=tcp/1\nopen=tcp/2\n[knock k6]\nsequence=tcp/1\nopen=tcp/2\n"   \
	"[knock k7]\nsequence=tcp/1\nopen=tcp/2\n[knock k8]\nsequence=tcp/1\nopen=tcp/2\n"   \
	"[knock k9]\nsequence=tcp/1\nopen=tcp/2\n[knock k10]\nsequence=tcp/1\nopen=tcp/2\n"  \
	"[knock k11]\nsequence=tcp/1\nopen=tcp/2\n[knock k12]\nsequence=tcp/1\nopen=tcp/2\n" \
	"[knock k13]\nsequence=tcp/1\nopen=tcp/2\n[knock k14]\nsequence=tcp/1\nopen=tcp/2\n" \
	"[knock k15]\nsequence=tcp/1\nopen=tcp/2\n[knock k16]\nsequence=tcp/1\nopen=tcp/2\n" \
	"[knock k17]\n"

static void test_errors(void)
{
	static const struct {
		const char *text, *want;
	} t[] = {
		/* whole file */
		{ "", "t.ini: [gateway] interface is required" },
		{ "[open]\ntcp = 22\n", "t.ini: [gateway] interface is required" },
		{ "\n[gateway]\nname = x\n", "t.ini:2: [gateway] interface is required" },
		/* syntax */
		{ GW "foo bar\n",
		  "t.ini:3: expected \"key = value\" or \"[section]\": \"foo bar\"" },
		{ "[gateway]\nfoo\ndefault = x\n",
		  "t.ini:2: expected \"key = value\" or \"[section]\": \"foo\"" },
		{ "[gateway]\ndefault = x\nfoo\n",
		  "t.ini:2: [gateway] default: \"x\" is not drop or pass" },
		{ "[gateway\ninterface = e\n", "t.ini:1: no closing \"]\": \"[gateway\"" },
		{ "[gateway] x\ninterface = e\n",
		  "t.ini:1: text after the section header: \"[gateway] x\"" },
		{ GW "  name = x\n",
		  "t.ini:3: indented line (a continuation, not supported): \"name = x\"" },
		{ GW "name = " L200 L200 "\n", "t.ini:3: line longer than 198 characters" },
		{ "interface = ext0\n", "t.ini:1: key \"interface\" is outside any section" },
		/* sections */
		{ GW "[bogus]\n", "t.ini:3: unknown section [bogus]" },
		{ GW "[ open ]\n", "t.ini:3: unknown section [ open ]" },
		{ GW "[gateway]\n", "t.ini:3: [gateway] given twice" },
		{ GW "[open]\n[open]\n", "t.ini:4: [open] given twice" },
		{ GW "[knock]\n",
		  "t.ini:3: [knock]: \"\" is not a knock name (1..63 of A-Z a-z 0-9 _ . -)" },
		{ GW "[knock a b]\n", "t.ini:3: [knock a b]: \"a b\" is not a knock name (1..63 of "
				      "A-Z a-z 0-9 _ . -)" },
		{ GW "[knock ..]\n",
		  "t.ini:3: [knock ..]: \"..\" is not a knock name (1..63 of A-Z a-z 0-9 _ . -)" },
		{ GW KS KS, "t.ini:6: [knock ssh] given twice" },
		{ GW K17, "t.ini:51: [knock k17]: more than 16 knock sections" },
		/* keys */
		{ GW "foo = 1\n", "t.ini:3: unknown key \"foo\" in [gateway]" },
		{ GW "Interface = e\n", "t.ini:3: unknown key \"Interface\" in [gateway]" },
		{ GW "interface = e1\n", "t.ini:3: [gateway] interface given twice" },
		{ GW "name =\n", "t.ini:3: [gateway] name: empty value" },
		{ GW "name = ; comment\n", "t.ini:3: [gateway] name: empty value" },
		{ "[gateway]\ninterface = abcdefghijklmnop\n",
		  "t.ini:2: [gateway] interface: \"abcdefghijklmnop\" is not an interface name "
		  "(1..15 characters, no space, \"/\" or \":\")" },
		{ "[gateway]\ninterface = a/b\n",
		  "t.ini:2: [gateway] interface: \"a/b\" is not an interface name "
		  "(1..15 characters, no space, \"/\" or \":\")" },
		{ "[gateway]\ninterface = a:b\n",
		  "t.ini:2: [gateway] interface: \"a:b\" is not an interface name "
		  "(1..15 characters, no space, \"/\" or \":\")" },
		{ "[gateway]\ninterface = a b\n",
		  "t.ini:2: [gateway] interface: \"a b\" is not an interface name "
		  "(1..15 characters, no space, \"/\" or \":\")" },
		{ GW "name = edge/1\n", "t.ini:3: [gateway] name: \"edge/1\" is not a name (1..63 "
					"of A-Z a-z 0-9 _ . -)" },
		{ GW "name = ..\n",
		  "t.ini:3: [gateway] name: \"..\" is not a name (1..63 of A-Z a-z 0-9 _ . -)" },
		{ GW "name = a\tb\n",
		  "t.ini:3: [gateway] name: \"a?b\" is not a name (1..63 of A-Z a-z 0-9 _ . -)" },
		{ GW "name = abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234\n",
		  "t.ini:3: [gateway] name: "
		  "\"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234\" "
		  "is not a name (1..63 of A-Z a-z 0-9 _ . -)" },
		{ GW "api = 127.0.0.1:7070\n",
		  "t.ini:3: [gateway] api = 127.0.0.1:7070 is TCP and needs api_token_file "
		  "(capgate "
		  "token new --file PATH makes one), or use a unix: socket" },
		{ GW "api = [::1]:7070\nmetrics_public = yes\n",
		  "t.ini:3: [gateway] api = [::1]:7070 is TCP and needs api_token_file (capgate "
		  "token new --file PATH makes one), or use a unix: socket" },
		{ GW "metrics_public = true\n",
		  "t.ini:3: [gateway] metrics_public: \"true\" is not yes or no" },
		{ GW "api_token_file = /a\napi_token_file = /b\n",
		  "t.ini:4: [gateway] api_token_file given twice" },
		{ GW "api = 127.0.0.1\n", "t.ini:3: [gateway] api: bad API address \"127.0.0.1\": "
					  "want ADDR:PORT or unix:/PATH" },
		{ GW "api = localhost:80\n", "t.ini:3: [gateway] api: bad API address "
					     "\"localhost:80\": \"localhost\" is not a "
					     "numeric IPv4 address" },
		{ GW "api = [::1]:99999\n",
		  "t.ini:3: [gateway] api: bad API address \"[::1]:99999\": port must be a number "
		  "0..65535" },
		{ GW "api = unix:run/x\n", "t.ini:3: [gateway] api: bad API address "
					   "\"unix:run/x\": unix socket path must be "
					   "absolute" },
		{ GW "state_dir = var/lib\n",
		  "t.ini:3: [gateway] state_dir: \"var/lib\" is not an absolute path" },
		{ GW "default = dorp\n",
		  "t.ini:3: [gateway] default: \"dorp\" is not drop or pass" },
		{ GW "default = drop;x\n",
		  "t.ini:3: [gateway] default: \"drop;x\" is not drop or pass" },
		{ GW "xdp_mode = fast\n",
		  "t.ini:3: [gateway] xdp_mode: \"fast\" is not auto, native or generic" },
		{ GW "flow_timeout = 0s\n",
		  "t.ini:3: [gateway] flow_timeout: \"0s\" is out of range (1s..24h)" },
		{ GW "flow_timeout = 25h\n",
		  "t.ini:3: [gateway] flow_timeout: \"25h\" is out of range (1s..24h)" },
		{ GW "flow_timeout = 5 m\n", "t.ini:3: [gateway] flow_timeout: \"5 m\" is not a "
					     "duration (a number with s, m or h)" },
		{ GW "flow_timeout = 5ms\n", "t.ini:3: [gateway] flow_timeout: \"5ms\" is not a "
					     "duration (a number with s, m or h)" },
		{ GW "flow_timeout = -1\n", "t.ini:3: [gateway] flow_timeout: \"-1\" is not a "
					    "duration (a number with s, m or h)" },
		/* [open] */
		{ GW "[open]\ntcp = 0\n",
		  "t.ini:4: [open] tcp: \"0\": port out of range (1..65535)" },
		{ GW "[open]\nudp = 65536\n",
		  "t.ini:4: [open] udp: \"65536\": port out of range (1..65535)" },
		{ GW "[open]\ntcp = 22 22\n", "t.ini:4: [open] tcp: \"22 22\": port listed twice" },
		{ GW "[open]\ntcp = tcp/22\n", "t.ini:4: [open] tcp: \"tcp/22\": port is not a "
					       "decimal number without leading zeros" },
		{ GW "[open]\ntcp = 022\n", "t.ini:4: [open] tcp: \"022\": port is not a decimal "
					    "number without leading zeros" },
		{ GW "[open]\nudp = 1,,2\n",
		  "t.ini:4: [open] udp: \"1,,2\": empty item in the list" },
		{ GW "[open]\nudp = 1,\n", "t.ini:4: [open] udp: \"1,\": empty item in the list" },
		{ GW "[open]\ntcp = 1\ntcp = 2\n", "t.ini:5: [open] tcp given twice" },
		{ GW "[open]\nicmp = 1\n", "t.ini:4: unknown key \"icmp\" in [open]" },
		/* [knock NAME] */
		{ GW "[knock ssh]\nopen = tcp/22\n", "t.ini:3: [knock ssh] sequence is required" },
		{ GW "[knock ssh]\nsequence = tcp/1\n", "t.ini:3: [knock ssh] open is required" },
		{ GW "[knock ssh]\n", "t.ini:3: [knock ssh] sequence is required" },
		{ GW "[knock ssh]\nsequence = " N8 " tcp/9\n",
		  "t.ini:4: [knock ssh] sequence: \"" N8 " tcp/9\": more than 8 steps" },
		{ GW "[knock ssh]\nsequence = tcp/0\n",
		  "t.ini:4: [knock ssh] sequence: \"tcp/0\": port out of range (1..65535)" },
		{ GW "[knock ssh]\nsequence = icmp/1\n",
		  "t.ini:4: [knock ssh] sequence: \"icmp/1\": not tcp/PORT or udp/PORT" },
		{ GW "[knock ssh]\nsequence = tcp/1\nsequence = tcp/2\n",
		  "t.ini:5: [knock ssh] sequence given twice" },
		{ GW KS "step_timeout = 2h\n",
		  "t.ini:6: [knock ssh] step_timeout: \"2h\" is out of range (1s..1h)" },
		{ GW KS "open_for = 0\n",
		  "t.ini:6: [knock ssh] open_for: \"0\" is out of range (1s..24h)" },
		{ GW KS "open_for = 08s\n", "t.ini:6: [knock ssh] open_for: \"08s\" is not a "
					    "duration (a number with s, m or h)" },
		{ GW "[knock ssh]\nsequence = tcp/1\nopen = tcp/22 tcp/22\n",
		  "t.ini:5: [knock ssh] open: \"tcp/22 tcp/22\": tcp/22 listed twice" },
		{ GW "[knock ssh]\nsequence = tcp/1\nopen = " N8 " tcp/9\n",
		  "t.ini:5: [knock ssh] open: \"" N8 " tcp/9\": more than 8 targets" },
		{ GW KS "foo = 1\n", "t.ini:6: unknown key \"foo\" in [knock ssh]" },
		{ GW
		  "[open]\ntcp = 8443\n[knock ssh]\nsequence = tcp/7000 tcp/8443\nopen = tcp/22\n",
		  "t.ini:6: [knock ssh] sequence: tcp/8443 is an open service, so it can never be "
		  "a knock step" },
		{ GW "[knock ssh]\nsequence = udp/53\nopen = tcp/22\n[open]\nudp = 53\n",
		  "t.ini:4: [knock ssh] sequence: udp/53 is an open service, so it can never be a "
		  "knock step" },
		/* the first error wins */
		{ GW "default = x\nxdp_mode = y\n",
		  "t.ini:3: [gateway] default: \"x\" is not drop or pass" },
	};
	struct gw_config c;
	char err[CG_ERR_MAX];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err[0] = '\0';
		if (!ASSERT_EQ(config_parse_string(t[i].text, "t.ini", &c, err, sizeof(err)),
			       -EINVAL, t[i].want))
			continue;
		ASSERT_STREQ(err, t[i].want, "message");
	}
}

/* *cfg is written only on success. */
static void test_out_untouched(void)
{
	struct gw_config c, before;
	char err[CG_ERR_MAX];

	memset(&c, 0xa5, sizeof(c));
	before = c;
	ASSERT_EQ(config_parse_string(GW "default = x\n", "t.ini", &c, err, sizeof(err)), -EINVAL,
		  "refused");
	ASSERT_MEMEQ(&c, &before, sizeof(c), "cfg untouched");
}

/* The line API without inih: what the fuzz harness and other front ends may use. */
static void test_line_api(void)
{
	struct gw_config c;
	struct gw_config_ctx ctx;
	char v[2048];
	size_t i, len = 0;

	config_init(&ctx, &c);
	ASSERT_EQ(config_line(&ctx.ini, "gateway", "interface", "e0"), 0, "interface");
	ASSERT_EQ(config_line(&ctx.ini, "open", "tcp", "1 2 3"), 0, "open tcp");
	ASSERT_EQ(config_line(&ctx.ini, "knock x", "sequence", "udp/1"), 0, "knock sequence");
	ASSERT_EQ(config_line(&ctx.ini, "knock x", "open", "tcp/1"), 0, "knock open");
	ASSERT_EQ(config_finish(&ctx.ini), 0, ctx.ini.err);
	ASSERT_STREQ(c.name, "e0", "name default");
	ASSERT_EQ(c.nknocks, 1, "nknocks");

	/* More than CG_OPEN_MAX open ports only fit through this API (lines are short). */
	config_init(&ctx, &c);
	for (i = 1; i <= CG_OPEN_MAX + 1; i++)
		len += (size_t)snprintf(v + len, sizeof(v) - len, "%zu ", i);
	ASSERT_EQ(config_line(&ctx.ini, "open", "udp", v), -EINVAL, "too many");
	ASSERT_TRUE(strstr(ctx.ini.err, "more than 256 open ports in all") != NULL, ctx.ini.err);
	ASSERT_EQ(c.nopen, 0, "nothing appended");
	ASSERT_EQ(config_finish(&ctx.ini), -EINVAL, "finish after an error");
}

static void test_load(void)
{
	char dir[] = "/tmp/cg-config-XXXXXX", path[64], err[CG_ERR_MAX];
	struct gw_config c;
	FILE *f;

	if (!ASSERT_TRUE(mkdtemp(dir) != NULL, "mkdtemp"))
		return;
	snprintf(path, sizeof(path), "%s/missing.ini", dir);
	ASSERT_EQ(config_load(path, &c, err, sizeof(err)), -ENOENT, "missing file");
	ASSERT_TRUE(strstr(err, "No such file or directory") != NULL, err);

	snprintf(path, sizeof(path), "%s/gw.ini", dir);
	f = fopen(path, "w");
	if (!ASSERT_TRUE(f != NULL, "fopen"))
		goto out;
	fputs(GW "xdp_mode = turbo\n", f);
	fclose(f);
	ASSERT_EQ(config_load(path, &c, err, sizeof(err)), -EINVAL, "bad file");
	{
		char want[CG_ERR_MAX];

		snprintf(want, sizeof(want),
			 "%s:3: [gateway] xdp_mode: \"turbo\" is not auto, native or generic",
			 path);
		ASSERT_STREQ(err, want, "message names the file");
	}

	f = fopen(path, "w");
	if (!ASSERT_TRUE(f != NULL, "fopen"))
		goto out;
	fwrite(GW "\0name = x\n", 1, sizeof(GW) + 10, f);
	fclose(f);
	ASSERT_EQ(config_load(path, &c, err, sizeof(err)), -EINVAL, "NUL byte");
	ASSERT_TRUE(strstr(err, "contains a NUL byte") != NULL, err);

	ASSERT_EQ(config_load(dir, &c, err, sizeof(err)), -EISDIR, "a directory");
	unlink(path);
out:
	rmdir(dir);
}

/* ---- [auth], [service NAME], [allow NAME] ------------------------------------ */

static const char auth_sample[] =
	"[gateway]\n"
	"interface = ext0\n"
	"name = edge1\n"
	"\n"
	"[auth]\n"
	"port = 8443                 ; TLS auth port, reachable only after SPA\n"
	"spa_port = 62201\n"
	"data_port = 51900\n"
	"ca = /etc/capgate/ca.crt\n"
	"cert = /etc/capgate/gateway.crt\n"
	"key = /etc/capgate/gateway.key\n"
	"pool = 100.64.0.0/24        ; virtual addresses for clients\n"
	"session_ttl = 10m\n"
	"\n"
	"[service web]\n"
	"proto = tcp\n"
	"address = 10.10.2.2\n"
	"ports = 80 443\n"
	"\n"
	"[service echo]\n"
	"proto = udp\n"
	"address = 10.10.2.0/24\n"
	"ports = 7\n"
	"\n"
	"[allow sensors]\n"
	"device = dev1 dev2          ; certificate CNs\n"
	"app = sensor\n"
	"services = web echo\n";

static bool cidr_is(const struct cidr *c, const char *want, const char *name)
{
	char buf[CG_ADDRSTRLEN];

	cidr_format(c, buf, sizeof(buf));
	return ASSERT_STREQ(buf, want, name);
}

/* The selectors of a section in file order: "dev1 #g app:sensor". */
static const char *sels_of(const struct policy *p, size_t section, char *buf, size_t len)
{
	static const char *const sigil[] = {
		[POLICY_SEL_NAME] = "",
		[POLICY_SEL_PATTERN] = "",
		[POLICY_SEL_GROUP] = "#",
		[POLICY_SEL_APP] = "app:",
		[POLICY_SEL_APP_PATTERN] = "app:",
	};
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < p->nsels && off < len; i++)
		if (p->sels[i].sections[section / 64] >> (section % 64) & 1)
			off += (size_t)snprintf(buf + off, len - off, "%s%s%s", off ? " " : "",
						sigil[p->sels[i].kind], p->sels[i].text);
	return buf;
}

static bool check_auth_sample(const struct gw_config *c)
{
	const struct auth_cfg *a = &c->auth;
	const struct service_cfg *web = &c->policy.services[0], *echo = &c->policy.services[1];
	const struct policy_cfg *p = &c->policy.policies[0];
	char sels[256];
	bool ok = true;

	ok &= ASSERT_TRUE(a->enabled, "auth enabled");
	ok &= ASSERT_EQ(a->port, 8443, "port");
	ok &= ASSERT_EQ(a->spa_port, 62201, "spa_port");
	ok &= ASSERT_EQ(a->data_port, 51900, "data_port");
	ok &= ASSERT_STREQ(a->ca, "/etc/capgate/ca.crt", "ca");
	ok &= ASSERT_STREQ(a->cert, "/etc/capgate/gateway.crt", "cert");
	ok &= ASSERT_STREQ(a->key, "/etc/capgate/gateway.key", "key");
	ok &= ASSERT_STREQ(a->devices, "/etc/capgate", "devices default: the ca's directory");
	ok &= ASSERT_TRUE(!a->enroll, "enroll default no");
	ok &= ASSERT_STREQ(a->ca_dir, "/etc/capgate", "ca_dir default: the ca's directory");
	ok &= cidr_is(&a->pool, "100.64.0.0/24", "pool");
	ok &= ASSERT_EQ(a->session_ttl_ns, SEC(600), "session_ttl");
	ok &= ASSERT_EQ(a->keepalive_ns, SEC(5), "keepalive default");
	ok &= ASSERT_EQ(a->dead_after_ns, SEC(20), "dead_after default");
	ok &= ASSERT_EQ(a->spa_open_ns, SEC(30), "spa_open default");
	ok &= ASSERT_EQ(a->max_sessions_per_device, 4, "max_sessions_per_device default");
	ok &= ASSERT_EQ(a->max_sessions_per_conn, 2, "max_sessions_per_conn default");
	ok &= ASSERT_EQ(a->renew_after_pct, 50, "renew_after default");
	ok &= ASSERT_STREQ(a->tun, "cg-edge1", "tun default");
	/* The SPA port reaches the daemon; the auth and data ports are not open. */
	ok &= ASSERT_EQ(c->nopen, 1, "nopen");
	ok &= port_is(&c->open[0], IPPROTO_UDP, 62201, "spa port open");

	ok &= ASSERT_EQ(c->policy.nservices, 2, "nservices");
	ok &= ASSERT_STREQ(web->name, "web", "web");
	ok &= ASSERT_EQ(web->proto, IPPROTO_TCP, "web proto");
	ok &= cidr_is(&web->addr, "10.10.2.2/32", "web address");
	ok &= ASSERT_EQ(web->nports, 2, "web nports");
	ok &= ASSERT_EQ(web->ports[0].lo, 80, "web 80") && ASSERT_EQ(web->ports[0].hi, 80, "80");
	ok &= ASSERT_EQ(web->ports[1].lo, 443, "443") && ASSERT_EQ(web->ports[1].hi, 443, "443");
	ok &= ASSERT_STREQ(echo->name, "echo", "echo");
	ok &= ASSERT_EQ(echo->proto, IPPROTO_UDP, "echo proto");
	ok &= cidr_is(&echo->addr, "10.10.2.0/24", "echo address");
	ok &= ASSERT_EQ(echo->nports, 1, "echo nports");
	ok &= ASSERT_EQ(echo->ports[0].lo, 7, "echo 7") && ASSERT_EQ(echo->ports[0].hi, 7, "7");

	ok &= ASSERT_EQ(c->policy.npolicies, 1, "npolicies");
	ok &= ASSERT_STREQ(p->name, "sensors", "policy name");
	ok &= ASSERT_EQ(p->ndevsel, 2, "device selectors");
	ok &= ASSERT_EQ(p->napps, 1, "app selectors");
	ok &= ASSERT_STREQ(sels_of(&c->policy, 0, sels, sizeof(sels)), "dev1 dev2 app:sensor",
			   "selectors");
	ok &= ASSERT_EQ(p->nservices, 2, "policy nservices");
	ok &= ASSERT_EQ(p->services[0], 0, "web index");
	ok &= ASSERT_EQ(p->services[1], 1, "echo index");
	ok &= ASSERT_EQ(p->mode, CG_TUN_F_ENCRYPTED, "mode: encrypted (the default)");
	return ok;
}

static void test_auth_sample(void)
{
	struct gw_config c;
	char err[CG_ERR_MAX] = "";

	if (!ASSERT_EQ(config_parse_string(auth_sample, "t.ini", &c, err, sizeof(err)), 0, err))
		return;
	check_auth_sample(&c);
}

static void test_auth_example_file(void)
{
	struct gw_config c;
	char err[CG_ERR_MAX] = "";

	if (!ASSERT_EQ(config_load(CG_SRCDIR "/examples/gateway-auth.ini", &c, err, sizeof(err)), 0,
		       err))
		return;
	check_auth_sample(&c);
}

/* Without [auth], nothing of it is set and nothing is opened. */
static void test_auth_absent(void)
{
	struct gw_config c;
	char err[CG_ERR_MAX] = "";

	if (!ASSERT_EQ(config_parse_string(GW, "t.ini", &c, err, sizeof(err)), 0, err))
		return;
	ASSERT_TRUE(!c.auth.enabled, "not enabled");
	ASSERT_EQ(c.auth.port, 0, "port not set");
	ASSERT_EQ(c.nopen, 0, "nothing opened");
	ASSERT_EQ(c.policy.nservices, 0, "nservices");
	ASSERT_EQ(c.policy.npolicies, 0, "npolicies");
}

#define AUTH "[auth]\nca = /c/ca.crt\ncert = /c/gw.crt\nkey = /c/gw.key\npool = 100.64.0.0/24\n"

/* Every optional key, sections in any order, lists in every form. */
static void test_auth_every_key(void)
{
	static const char text[] = "[allow ops]\n"
				   "mode = integrity\n"
				   "app = shell.v2, ops-*\n"
				   "services = ping,web6\n"
				   "device = a-1, b_2\tc.3 @d ?-gw* #ops\n"
				   "group = admins\n"
				   "[service web6]\n"
				   "ports = 8000-8100, 22 ,9000-9000\n"
				   "address = 2001:db8::/64\n"
				   "proto = tcp\n"
				   "[service ping]\n"
				   "proto = icmp\n"
				   "address = 10.0.0.0/8\n"
				   "[service ping6]\n"
				   "address = 2001:db8::1\n"
				   "proto = icmp\n"
				   "[open]\n"
				   "udp = 5353, 7777\n"
				   "[knock k]\n"
				   "sequence = tcp/1\n"
				   "open = tcp/7443\n"
				   "[auth]\n"
				   "tun = tun-auth\n"
				   "spa_open = 1h\n"
				   "dead_after = 2s\n"
				   "keepalive = 1s\n"
				   "max_sessions_per_device = 16384\n"
				   "max_sessions_per_conn = 1\n"
				   "renew_after = 0%\n"
				   "devices = /c/devices\n"
				   "enroll = yes\n"
				   "ca_dir = /c/ca\n"
				   "session_ttl = 30s\n"
				   "pool = 172.16.0.0/30\n"
				   "key = k\n"
				   "cert = c\n"
				   "ca = a\n"
				   "data_port = 1\n"
				   "spa_port = 7777\n"
				   "port = 7443\n"
				   "[gateway]\n"
				   "interface = e0\n";
	const struct policy_cfg *p;
	struct gw_config c;
	char err[CG_ERR_MAX] = "", sels[256];

	if (!ASSERT_EQ(config_parse_string(text, "t.ini", &c, err, sizeof(err)), 0, err))
		return;
	ASSERT_EQ(c.auth.port, 7443, "port");
	ASSERT_EQ(c.auth.spa_port, 7777, "spa_port");
	ASSERT_EQ(c.auth.data_port, 1, "data_port");
	ASSERT_STREQ(c.auth.ca, "a", "ca");
	ASSERT_STREQ(c.auth.cert, "c", "cert");
	ASSERT_STREQ(c.auth.key, "k", "key");
	ASSERT_STREQ(c.auth.devices, "/c/devices", "devices");
	ASSERT_TRUE(c.auth.enroll, "enroll");
	ASSERT_STREQ(c.auth.ca_dir, "/c/ca", "ca_dir");
	cidr_is(&c.auth.pool, "172.16.0.0/30", "pool /30");
	ASSERT_EQ(c.auth.session_ttl_ns, SEC(30), "session_ttl");
	ASSERT_EQ(c.auth.keepalive_ns, SEC(1), "keepalive");
	ASSERT_EQ(c.auth.dead_after_ns, SEC(2), "dead_after");
	ASSERT_EQ(c.auth.spa_open_ns, SEC(3600), "spa_open");
	ASSERT_EQ(c.auth.max_sessions_per_device, 16384, "max_sessions_per_device");
	ASSERT_EQ(c.auth.max_sessions_per_conn, 1, "max_sessions_per_conn");
	ASSERT_EQ(c.auth.renew_after_pct, 0, "renew_after");
	ASSERT_STREQ(c.auth.tun, "tun-auth", "tun");
	/* udp/7777 was already open: not added twice. A knock may open the auth port. */
	ASSERT_EQ(c.nopen, 2, "spa port not duplicated");
	port_is(&c.open[1], IPPROTO_UDP, 7777, "spa port");
	port_is(&c.knocks[0].prof.targets[0], IPPROTO_TCP, 7443, "knock opens the auth port");

	ASSERT_EQ(c.policy.nservices, 3, "nservices");
	ASSERT_STREQ(c.policy.services[0].name, "web6", "web6");
	cidr_is(&c.policy.services[0].addr, "2001:db8::/64", "web6 address");
	ASSERT_EQ(c.policy.services[0].nports, 3, "web6 nports");
	ASSERT_EQ(c.policy.services[0].ports[0].lo, 8000, "range lo");
	ASSERT_EQ(c.policy.services[0].ports[0].hi, 8100, "range hi");
	ASSERT_EQ(c.policy.services[0].ports[1].lo, 22, "22");
	ASSERT_EQ(c.policy.services[0].ports[2].lo, 9000, "9000-9000 lo");
	ASSERT_EQ(c.policy.services[0].ports[2].hi, 9000, "9000-9000 hi");
	ASSERT_EQ(c.policy.services[1].proto, IPPROTO_ICMP, "icmp");
	ASSERT_EQ(c.policy.services[1].nports, 0, "icmp has no ports");
	ASSERT_EQ(c.policy.services[2].proto, IPPROTO_ICMPV6, "icmp on IPv6 is ICMPv6");
	cidr_is(&c.policy.services[2].addr, "2001:db8::1/128", "bare IPv6 address");

	p = &c.policy.policies[0];
	ASSERT_EQ(p->ndevsel, 7, "device and group selectors");
	ASSERT_EQ(p->napps, 2, "app selectors");
	ASSERT_STREQ(sels_of(&c.policy, 0, sels, sizeof(sels)),
		     "app:shell.v2 app:ops-* a-1 b_2 c.3 d ?-gw* #ops #admins", "selectors");
	ASSERT_EQ(p->nservices, 2, "nservices");
	ASSERT_EQ(p->services[0], 1, "ping resolved after the fact");
	ASSERT_EQ(p->services[1], 0, "web6 resolved after the fact");
	ASSERT_EQ(p->mode, 0, "mode = integrity");
}

static void test_auth_defaults(void)
{
	static const struct {
		const char *name, *text, *want_tun, *want_devices;
	} t[] = {
		{ "tun from the interface name",
		  GW "[auth]\nca = ca.crt\ncert = c\nkey = k\npool = 10.0.0.0/8\n", "cg-ext0",
		  "." },
		{ "tun truncated to 15",
		  GW "name = abcdefghijklmnopq\n[auth]\nca = /ca.crt\ncert = c\nkey = k\npool = "
		     "10.0.0.0/8\n",
		  "cg-abcdefghijkl", "/" },
		{ "devices relative",
		  GW "[auth]\nca = pki/ca.crt\ncert = c\nkey = k\npool = 10.0.0.0/8\n", "cg-ext0",
		  "pki" },
	};
	struct gw_config c;
	char err[CG_ERR_MAX];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err[0] = '\0';
		if (!ASSERT_EQ(config_parse_string(t[i].text, "t.ini", &c, err, sizeof(err)), 0,
			       t[i].name)) {
			fprintf(stderr, "    %s\n", err);
			continue;
		}
		ASSERT_STREQ(c.auth.tun, t[i].want_tun, t[i].name);
		ASSERT_STREQ(c.auth.devices, t[i].want_devices, t[i].name);
		ASSERT_EQ(c.auth.port, 8443, "port default");
		ASSERT_EQ(c.auth.spa_port, 62201, "spa_port default");
		ASSERT_EQ(c.auth.data_port, 51900, "data_port default");
		ASSERT_EQ(c.auth.session_ttl_ns, SEC(600), "session_ttl default");
		ASSERT_STREQ(c.auth.trust_domain, "capgate", "trust_domain default");
	}
	if (ASSERT_EQ(config_parse_string(GW "[auth]\nca = a\ncert = c\nkey = k\npool = "
					     "10.0.0.0/8\ntrust_domain = corp.example-1.org\n",
					  "t.ini", &c, err, sizeof(err)),
		      0, err))
		ASSERT_STREQ(c.auth.trust_domain, "corp.example-1.org", "trust_domain");
}

#define SVC "[service s]\nproto = tcp\naddress = 10.1.0.0/16\nports = 80\n"
#define POL "[allow p]\ndevice = d\napp = a\nservices = s\n"
#define GA GW AUTH
/* Services of one port range each: s1..s9 */
#define S(n) "[service s" #n "]\nproto = tcp\naddress = 10.1.0." #n "\nports = 1-2 3-4\n"
#define S9 S(1) S(2) S(3) S(4) S(5) S(6) S(7) S(8) S(9)
#define P80 "1 2 3 4 5 6 7 8 9"

static void test_auth_errors(void)
{
	static const struct {
		const char *text, *want;
	} t[] = {
		/* [auth] */
		{ GW "[auth]\n[auth]\n", "t.ini:4: [auth] given twice" },
		{ GW "[auth]\ncert = c\nkey = k\npool = 10.0.0.0/8\n",
		  "t.ini:3: [auth] ca is required" },
		{ GW "[auth]\nca = a\nkey = k\npool = 10.0.0.0/8\n",
		  "t.ini:3: [auth] cert is required" },
		{ GW "[auth]\nca = a\ncert = c\npool = 10.0.0.0/8\n",
		  "t.ini:3: [auth] key is required" },
		{ GW "[auth]\nca = a\ncert = c\nkey = k\n", "t.ini:3: [auth] pool is required" },
		{ GA "foo = 1\n", "t.ini:8: unknown key \"foo\" in [auth]" },
		{ GA "ca = b\n", "t.ini:8: [auth] ca given twice" },
		{ GA "tun =\n", "t.ini:8: [auth] tun: empty value" },
		{ GA "trust_domain = Example.org\n",
		  "t.ini:8: [auth] trust_domain: \"Example.org\" is not a trust domain (1..255 of "
		  "a-z 0-9 . _ -)" },
		{ GA "trust_domain = spiffe://x\n",
		  "t.ini:8: [auth] trust_domain: \"spiffe://x\" is not a trust domain (1..255 of "
		  "a-z 0-9 . _ -)" },
		{ GA "trust_domain = a\ntrust_domain = b\n",
		  "t.ini:9: [auth] trust_domain given twice" },
		{ GA "port = 0\n", "t.ini:8: [auth] port: \"0\" is out of range (1..65535)" },
		{ GA "spa_port = 65536\n",
		  "t.ini:8: [auth] spa_port: \"65536\" is out of range (1..65535)" },
		{ GA "data_port = 0x10\n",
		  "t.ini:8: [auth] data_port: \"0x10\" is not a port number" },
		{ GA "port = 62201\n",
		  "t.ini:8: [auth] port and spa_port are both 62201: the three ports must differ" },
		{ GA "port = 51900\n", "t.ini:8: [auth] port and data_port are both 51900: the "
				       "three ports must differ" },
		{ GW "[auth]\ndata_port = 9\nspa_port = 9\nca = a\ncert = c\nkey = k\npool = "
		     "10.0.0.0/8\n",
		  "t.ini:5: [auth] spa_port and data_port are both 9: the three ports must "
		  "differ" },
		{ GA "pool = 10.0.0.0/8\n", "t.ini:8: [auth] pool given twice" },
		{ GW "[auth]\npool = 10.0.0.1/8\n",
		  "t.ini:4: [auth] pool: \"10.0.0.1/8\": host bits set beyond the prefix length" },
		{ GW "[auth]\npool = fd00::/64\n",
		  "t.ini:4: [auth] pool: \"fd00::/64\" is not an IPv4 prefix" },
		{ GW "[auth]\npool = 10.0.0.0/7\n",
		  "t.ini:4: [auth] pool: \"10.0.0.0/7\": the prefix length must be 8..30" },
		{ GW "[auth]\npool = 10.0.0.0/31\n",
		  "t.ini:4: [auth] pool: \"10.0.0.0/31\": the prefix length must be 8..30" },
		{ GW "[auth]\npool = 10.0.0.1\n",
		  "t.ini:4: [auth] pool: \"10.0.0.1\": the prefix length must be 8..30" },
		{ GW "[auth]\npool = x\n", "t.ini:4: [auth] pool: \"x\": not an IPv4 address" },
		{ GA "session_ttl = 29s\n",
		  "t.ini:8: [auth] session_ttl: \"29s\" is out of range (30s..24h)" },
		{ GA "session_ttl = 25h\n",
		  "t.ini:8: [auth] session_ttl: \"25h\" is out of range (30s..24h)" },
		{ GA "keepalive = 11m\n",
		  "t.ini:8: [auth] keepalive: \"11m\" is out of range (1s..10m)" },
		{ GA "keepalive = 0\n",
		  "t.ini:8: [auth] keepalive: \"0\" is out of range (1s..10m)" },
		{ GA "dead_after = 1s\n",
		  "t.ini:8: [auth] dead_after: \"1s\" is out of range (2s..1h)" },
		{ GA "spa_open = 2h\n",
		  "t.ini:8: [auth] spa_open: \"2h\" is out of range (1s..1h)" },
		{ GA "spa_open = 5x\n", "t.ini:8: [auth] spa_open: \"5x\" is not a duration (a "
					"number with s, m or h)" },
		{ GA "dead_after = 5s\n",
		  "t.ini:8: [auth] dead_after (5s) must be longer than keepalive (5s)" },
		{ GA "keepalive = 20s\n",
		  "t.ini:8: [auth] dead_after (20s) must be longer than keepalive (20s)" },
		{ GA "dead_after = 3s\nkeepalive = 4s\n",
		  "t.ini:9: [auth] dead_after (3s) must be longer than keepalive (4s)" },
		{ GA "max_sessions_per_device = 0\n",
		  "t.ini:8: [auth] max_sessions_per_device: \"0\" is out of range (1..16384)" },
		{ GA "max_sessions_per_conn = 9\n",
		  "t.ini:8: [auth] max_sessions_per_conn: \"9\" is out of range (1..8)" },
		{ GA "max_sessions_per_conn = 2x\n",
		  "t.ini:8: [auth] max_sessions_per_conn: \"2x\" is not a number" },
		{ GA "renew_after = 81%\n",
		  "t.ini:8: [auth] renew_after: \"81%\" is out of range (0%..80%)" },
		{ GA "renew_after = 50\n",
		  "t.ini:8: [auth] renew_after: \"50\" is not a number with %" },
		{ GA "renew_after = %\n",
		  "t.ini:8: [auth] renew_after: \"%\" is not a number with %" },
		{ GA "tun = a/b\n", "t.ini:8: [auth] tun: \"a/b\" is not an interface name (1..15 "
				    "characters, no space, \"/\" or \":\")" },
		{ GA "tun = abcdefghijklmnop\n",
		  "t.ini:8: [auth] tun: \"abcdefghijklmnop\" is not an interface name (1..15 "
		  "characters, no space, \"/\" or \":\")" },
		{ GW "[auth]\nca = " L200 L200 "\n", "t.ini:4: line longer than 198 characters" },
		/* the auth ports and [open] / knock steps */
		{ GW "[open]\ntcp = 22 8443\n" AUTH,
		  "t.ini:4: [open] tcp: 8443 is the [auth] port, which only a valid SPA opens" },
		{ GA "[open]\nudp = 51900\n", "t.ini:9: [open] udp: 51900 is the [auth] data_port, "
					      "where every packet must carry a capability" },
		{ GA "[knock k]\nsequence = tcp/1 tcp/8443\nopen = tcp/22\n",
		  "t.ini:9: [knock k] sequence: tcp/8443 is the [auth] port, so it can never be a "
		  "knock step" },
		{ GA "[knock k]\nsequence = udp/62201\nopen = tcp/22\n",
		  "t.ini:9: [knock k] sequence: udp/62201 is the [auth] spa_port, so it can never "
		  "be a knock step" },
		{ "[knock k]\nsequence = udp/51900\nopen = tcp/22\n" GA,
		  "t.ini:2: [knock k] sequence: udp/51900 is the [auth] data_port, so it can never "
		  "be a knock step" },
		/* [service NAME] */
		{ GW SVC, "t.ini:3: [service s] needs an [auth] section (or backends)" },
		{ GW POL SVC, "t.ini:3: [allow p] needs an [auth] section" },
		{ GA "[service]\n",
		  "t.ini:8: [service]: \"\" is not a service name (1..63 of A-Z a-z 0-9 _ . -)" },
		{ GA "[service a/b]\n",
		  "t.ini:8: [service a/b]: \"a/b\" is not a service name (1..63 of A-Z a-z 0-9 _ . "
		  "-)" },
		{ GA "[services]\n", "t.ini:8: unknown section [services]" },
		{ GA SVC SVC, "t.ini:12: [service s] given twice" },
		{ GA "[service s]\naddress = 10.0.0.1\nports = 1\n",
		  "t.ini:8: [service s] proto is required" },
		{ GA "[service s]\nproto = udp\nports = 1\n",
		  "t.ini:8: [service s] address is required" },
		{ GA "[service s]\nproto = udp\naddress = 10.0.0.1\n",
		  "t.ini:8: [service s] ports is required for udp" },
		{ GA "[service s]\nports = 7\nproto = icmp\naddress = 10.0.0.1\n",
		  "t.ini:9: [service s] ports: icmp has no ports" },
		{ GA "[service s]\nproto = sctp\n",
		  "t.ini:9: [service s] proto: \"sctp\" is not tcp, udp or icmp" },
		{ GA "[service s]\nproto = TCP\n",
		  "t.ini:9: [service s] proto: \"TCP\" is not tcp, udp or icmp" },
		{ GA "[service s]\naddress = 10.0.0.1/8\n",
		  "t.ini:9: [service s] address: \"10.0.0.1/8\": host bits set beyond the prefix "
		  "length" },
		{ GA "[service s]\naddress = web.local\n",
		  "t.ini:9: [service s] address: \"web.local\": not an IPv4 address" },
		{ GA "[service s]\nproto = tcp\naddress = 100.64.0.128/25\nports = 1\n",
		  "t.ini:10: [service s] address: 100.64.0.128/25 overlaps the [auth] pool "
		  "100.64.0.0/24" },
		{ GA "[service s]\nproto = tcp\naddress = 100.0.0.0/8\nports = 1\n",
		  "t.ini:10: [service s] address: 100.0.0.0/8 overlaps the [auth] pool "
		  "100.64.0.0/24" },
		{ GA "[service s]\nproto = tcp\naddress = ::ffff:100.64.0.0/120\nports = 1\n",
		  "t.ini:10: [service s] address: ::ffff:100.64.0.0/120 is IPv4-mapped: write it "
		  "as IPv4" },
		{ GA "[service s]\nports = 0\n",
		  "t.ini:9: [service s] ports: \"0\": port out of range (1..65535)" },
		{ GA "[service s]\nports = 1-65536\n",
		  "t.ini:9: [service s] ports: \"1-65536\": port out of range (1..65535)" },
		{ GA "[service s]\nports = 80-\n",
		  "t.ini:9: [service s] ports: \"80-\": not a port "
		  "or a range LO-HI (decimal, no leading zeros)" },
		{ GA "[service s]\nports = -80\n",
		  "t.ini:9: [service s] ports: \"-80\": not a port "
		  "or a range LO-HI (decimal, no leading zeros)" },
		{ GA "[service s]\nports = 1-2-3\n",
		  "t.ini:9: [service s] ports: \"1-2-3\": not a port or a range LO-HI (decimal, no "
		  "leading zeros)" },
		{ GA "[service s]\nports = 080\n",
		  "t.ini:9: [service s] ports: \"080\": not a port "
		  "or a range LO-HI (decimal, no leading zeros)" },
		{ GA "[service s]\nports = 90-80\n",
		  "t.ini:9: [service s] ports: \"90-80\": the range goes from high to low" },
		{ GA "[service s]\nports = 80-90 85\n",
		  "t.ini:9: [service s] ports: 85 overlaps 80-90" },
		{ GA "[service s]\nports = 443 443\n",
		  "t.ini:9: [service s] ports: 443 overlaps 443" },
		{ GA "[service s]\nports = 1,,2\n",
		  "t.ini:9: [service s] ports: \"1,,2\": empty item in the list" },
		{ GA "[service s]\nports = " P80 "\n",
		  "t.ini:9: [service s] ports: more than 8 port ranges" },
		{ GA
		  "[service s]\nports = 111111111111111111111111111111111111111111111111111111111"
		  "11111111111111111111111111111111111111111111111111111111111111111111111111111\n",
		  "t.ini:9: [service s] ports: "
		  "\"1111111111111111111111111111111111111111111111111111111111111111...\": item "
		  "too "
		  "long" },
		{ GA "[service s]\nport = 80\n", "t.ini:9: unknown key \"port\" in [service s]" },
		/* [allow NAME] */
		{ GA "[allow]\n",
		  "t.ini:8: [allow]: \"\" is not a policy name (1..63 of A-Z a-z 0-9 _ . -)" },
		{ GA SVC POL POL, "t.ini:16: [allow p] given twice" },
		{ GA SVC "[allow p]\napp = a\nservices = s\n",
		  "t.ini:12: [allow p] device or group is required (a section without them selects "
		  "no one)" },
		{ GA SVC "[allow p]\ndevice = d\napp = a\n",
		  "t.ini:12: [allow p] services is required" },
		{ GA POL, "t.ini:11: [allow p] services: there is no [service s]" },
		{ GA SVC "[allow p]\ndevice = d\napp = a\nservices = s t\n",
		  "t.ini:15: [allow p] services: there is no [service t]" },
		{ GA "[allow p]\ndevice = dev/1\n", "t.ini:9: [allow p] device: \"dev/1\": not a "
						    "device name (1..63 of A-Z a-z 0-9 _ . "
						    "-), @NAME, #GROUP or a pattern" },
		{ GA "[allow p]\ndevice = d1 d2 d1\n",
		  "t.ini:9: [allow p] device: \"d1\": listed twice in the section" },
		{ GA "[allow p]\ndevice = d1 @d1\n",
		  "t.ini:9: [allow p] device: \"@d1\": listed twice in the section" },
		{ GA "[allow p]\ndevice = #g\ngroup = h g\n",
		  "t.ini:10: [allow p] group: \"g\": listed twice in the section" },
		{ GA "[allow p]\napp = a* b a*\n",
		  "t.ini:9: [allow p] app: \"a*\": listed twice in the section" },
		{ GA "[allow p]\ndevice = d1,\n",
		  "t.ini:9: [allow p] device: \"d1,\": empty item in the list" },
		{ GA "[allow p]\ndevice = sensor-[0-9]\n",
		  "t.ini:9: [allow p] device: \"sensor-[0-9]\": not a device name (1..63 of A-Z "
		  "a-z "
		  "0-9 _ . -), @NAME, #GROUP or a pattern" },
		{ GA "[allow p]\ndevice = sensor-[0-9]*\n",
		  "t.ini:9: [allow p] device: \"sensor-[0-9]*\": a pattern holds name characters "
		  "(A-Z a-z 0-9 _ . -), '*' and '?' only" },
		{ GA "[allow p]\ndevice = cam**\n",
		  "t.ini:9: [allow p] device: \"cam**\": \"**\" is the same as \"*\": write one" },
		{ GA "[allow p]\ndevice = @cam-*\n", "t.ini:9: [allow p] device: \"@cam-*\": @ "
						     "takes a device name (1..63 of A-Z a-z 0-9 "
						     "_ . -, no pattern)" },
		{ GA "[allow p]\ndevice = #\n", "t.ini:9: [allow p] device: \"#\": # takes a group "
						"name (1..63 of A-Z a-z 0-9 _ . "
						"-, no pattern)" },
		{ GA "[allow p]\ngroup = #ops\n", "t.ini:9: [allow p] group: \"#ops\": not a group "
						  "name (1..63 of A-Z a-z 0-9 _ . -, "
						  "no pattern)" },
		{ GA "[allow p]\ngroup = ops*\n", "t.ini:9: [allow p] group: \"ops*\": not a group "
						  "name (1..63 of A-Z a-z 0-9 _ . -, "
						  "no pattern)" },
		{ GA "[allow p]\ngroup =\n", "t.ini:9: [allow p] group: empty value" },
		{ GA "[allow p]\napp = @shell\n", "t.ini:9: [allow p] app: \"@shell\": not an app "
						  "name (1..63 of A-Z a-z 0-9 _ . -) "
						  "or a pattern" },
		{ GA "[allow p]\napp = sh/*\n", "t.ini:9: [allow p] app: \"sh/*\": a pattern holds "
						"name characters (A-Z a-z 0-9 _ "
						". -), '*' and '?' only" },
		{ GA "[allow p]\napp = ..\n", "t.ini:9: [allow p] app: \"..\": not an app name "
					      "(1..63 of A-Z a-z 0-9 _ . -) or a "
					      "pattern" },
		{ GA "[allow p]\ndevice = d\ndevice = e d\n",
		  "t.ini:10: [allow p] device: \"d\": listed twice in the section" },
		{ GA "[allow p]\nservices = s s\n", "t.ini:9: [allow p] services: s listed twice" },
		{ GA "[allow p]\nservices = s1 s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 s12 s13 s14 s15 s16 "
		     "s17\n",
		  "t.ini:9: [allow p] services: more than 16 services" },
		{ GA "[allow p]\nservices = a;b\n", "t.ini:9: [allow p] services: \"a;b\" is not a "
						    "service name (1..63 of A-Z a-z 0-9 "
						    "_ . -)" },
		{ GA S9 "[allow p]\ndevice = d\napp = a\nservices = s1 s2 s3 s4 s5 s6 s7 s8 s9\n",
		  "t.ini:47: [allow p] services: more than 16 scopes (one per port range of each "
		  "service)" },
		{ GA "[allow p]\nfoo = 1\n", "t.ini:9: unknown key \"foo\" in [allow p]" },
		{ GA "[allow p]\nmode = aead\n",
		  "t.ini:9: [allow p] mode: \"aead\" is not encrypted or integrity" },
		{ GA "[allow p]\nmode = Encrypted\n",
		  "t.ini:9: [allow p] mode: \"Encrypted\" is not encrypted or integrity" },
		{ GA "[allow p]\nmode = policy\n",
		  "t.ini:9: [allow p] mode: \"policy\" is not encrypted or integrity" },
		{ GA "[allow p]\nmode = integrity\nmode = encrypted\n",
		  "t.ini:10: [allow p] mode given twice" },
		{ GA "[allow p]\nmode =\n", "t.ini:9: [allow p] mode: empty value" },
	};
	struct gw_config c;
	char err[CG_ERR_MAX];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err[0] = '\0';
		if (!ASSERT_EQ(config_parse_string(t[i].text, "t.ini", &c, err, sizeof(err)),
			       -EINVAL, t[i].want))
			continue;
		ASSERT_STREQ(err, t[i].want, "message");
	}
}

/* A prefix of a destination set is @text/@plen in the datapath's form. */
static bool prefix_is(const struct cg_prefix *p, const char *text, unsigned int plen,
		      const char *what)
{
	uint8_t a[16] = { 0 };

	if (strchr(text, ':'))
		inet_pton(AF_INET6, text, a);
	else {
		a[10] = a[11] = 0xff;
		inet_pton(AF_INET, text, a + 12);
	}
	return ASSERT_MEMEQ(p->addr, a, 16, what) && ASSERT_EQ(p->plen, plen, what);
}

/* `to` of [open] / [open NAME] / [knock], [gateway] internal, the SPA port's own set. */
static void test_destinations(void)
{
	static const char text[] =
		GW "internal = 10.10.0.0/16 fd00::/8\n"
		   "[open]\nudp = 53\n"
		   "[open web]\ntcp = 80 443\nto = 10.10.2.2, 2001:db8:2::/48\n"
		   "[open both]\ntcp = 22\nto = self 10.10.2.0/24\n"
		   "[knock k]\nsequence = tcp/7000\nopen = tcp/2222\n"
		   "[knock j]\nsequence = tcp/7001\nopen = tcp/2223\nto = 10.10.2.3\n" AUTH;
	struct gw_config c;
	char err[CG_ERR_MAX];
	const struct cg_dests *d;

	if (!ASSERT_EQ(config_parse_string(text, "t.ini", &c, err, sizeof(err)), 0, err))
		return;
	ASSERT_EQ(c.internal.self, 0, "internal: no self");
	ASSERT_EQ(c.internal.n, 2, "internal: two prefixes");
	prefix_is(&c.internal.p[0], "10.10.0.0", 112, "internal 0");
	prefix_is(&c.internal.p[1], "fd00::", 8, "internal 1");
	/* Three [open] sections and the SPA port's set, past them. */
	ASSERT_EQ(c.nopens, 4, "open sets");
	ASSERT_EQ(c.nopen, 5, "open ports");
	ASSERT_STREQ(c.opens[0].name, "", "[open]");
	d = &c.opens[c.open_sec[0]].to;
	ASSERT_TRUE(d->self && d->n == 0, "[open] leads to the gateway by default");
	ASSERT_STREQ(c.opens[c.open_sec[1]].name, "web", "[open web]");
	ASSERT_EQ(c.open_sec[1], c.open_sec[2], "80 and 443 share their set");
	d = &c.opens[c.open_sec[1]].to;
	ASSERT_TRUE(!d->self && d->n == 2, "[open web] to: two prefixes, no self");
	prefix_is(&d->p[0], "10.10.2.2", 128, "web 0");
	prefix_is(&d->p[1], "2001:db8:2::", 48, "web 1");
	d = &c.opens[c.open_sec[3]].to;
	ASSERT_TRUE(d->self && d->n == 1, "[open both] to: self and a prefix");
	prefix_is(&d->p[0], "10.10.2.0", 120, "both 0");
	ASSERT_TRUE(port_is(&c.open[4], IPPROTO_UDP, 62201, "spa port added"), "spa port");
	d = &c.opens[c.open_sec[4]].to;
	ASSERT_TRUE(d->self && d->n == 0 && c.open_sec[4] == 3, "the SPA port: the gateway only");
	ASSERT_TRUE(c.knocks[0].prof.to.self && !c.knocks[0].prof.to.n, "knock default: self");
	ASSERT_TRUE(!c.knocks[1].prof.to.self && c.knocks[1].prof.to.n == 1, "knock to");
	prefix_is(&c.knocks[1].prof.to.p[0], "10.10.2.3", 128, "knock to 0");
	ASSERT_EQ(c.auth.spa_rate, 2, "spa_rate default");
	ASSERT_EQ(c.auth.spa_burst, 5, "spa_burst default");
	if (ASSERT_EQ(config_parse_string(GA "spa_rate = 10\nspa_burst = 1\n", "t.ini", &c, err,
					  sizeof(err)),
		      0, err)) {
		ASSERT_EQ(c.auth.spa_rate, 10, "spa_rate");
		ASSERT_EQ(c.auth.spa_burst, 1, "spa_burst");
	}
}

static void test_destination_errors(void)
{
	static const struct {
		const char *text, *want;
	} t[] = {
		{ GW "[open x]\ntcp = 22\nto = self self\n",
		  "t.ini:5: [open x] to: self listed twice" },
		{ GW "[open]\nto = 10.0.0.0/8, 10.0.0.0/8\n",
		  "t.ini:4: [open] to: 10.0.0.0/8 listed twice" },
		{ GW "[open]\nto = ::ffff:10.0.0.1\n",
		  "t.ini:4: [open] to: ::ffff:10.0.0.1 is IPv4-mapped: write it as IPv4" },
		{ GW "[open]\nto = 1.0.0.1 1.0.0.2 1.0.0.3 1.0.0.4 1.0.0.5 1.0.0.6 1.0.0.7 1.0.0.8 "
		     "1.0.0.9\n",
		  "t.ini:4: [open] to: more than 8 prefixes" },
		{ GW "[open]\nto = 10.0.0.1/8\n",
		  "t.ini:4: [open] to: \"10.0.0.1/8\": host bits set beyond the prefix length" },
		{ GW "[open a]\n[open a]\n", "t.ini:4: [open a] given twice" },
		{ GW "[open a b]\n", "t.ini:3: [open a b]: \"a b\" is not an open section name "
				     "(1..63 of A-Z a-z 0-9 _ . -)" },
		{ GW "[open]\ntcp = 22\n[open b]\ntcp = 22\n",
		  "t.ini:6: [open b] tcp: \"22\": port listed twice" },
		{ GW "internal = self\n",
		  "t.ini:3: [gateway] internal: \"self\": not an IPv4 address" },
		{ GW "[knock k]\nsequence = tcp/1\nopen = tcp/2\nto = self self\n",
		  "t.ini:6: [knock k] to: self listed twice" },
		{ GA "[open]\nudp = 62201\nto = 10.0.0.0/8\n",
		  "t.ini:9: [open] udp: 62201 is the [auth] spa_port, which leads to the gateway "
		  "only: "
		  "its to must be self" },
		{ GA "[knock k]\nsequence = tcp/1\nopen = tcp/8443\nto = self 10.10.2.2\n",
		  "t.ini:10: [knock k] open: tcp/8443 is the [auth] port, which leads to the "
		  "gateway "
		  "only: its to must be self" },
		{ GA "spa_rate = 0\n",
		  "t.ini:8: [auth] spa_rate: \"0\" is out of range (1..1000000)" },
		{ GA "spa_burst = x\n", "t.ini:8: [auth] spa_burst: \"x\" is not a number" },
		{ GA "enroll = true\n", "t.ini:8: [auth] enroll: \"true\" is not yes or no" },
	};
	struct gw_config c;
	char err[CG_ERR_MAX];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err[0] = '\0';
		if (!ASSERT_EQ(config_parse_string(t[i].text, "t.ini", &c, err, sizeof(err)),
			       -EINVAL, t[i].want))
			continue;
		ASSERT_STREQ(err, t[i].want, "message");
	}
}

/*
 * Policies the parser accepts. The union of a device's scopes over several
 * sections is not counted here (the handshake refuses one over 16), so
 * overlapping or large unions parse.
 */
static void test_auth_limits_accepted(void)
{
	static const struct {
		const char *name, *text;
	} t[] = {
		{ "16 scopes in one policy",
		  GA S9 "[allow p]\ndevice = d\napp = a\nservices = s1 s2 s3 s4 s5 s6 s7 s8\n" },
		{ "overlap between sections parses",
		  GA S9 "[allow p]\ndevice = d\napp = a\nservices = s1 s2 s3 s4 s5\n"
			"[allow q]\ndevice = d\napp = a\nservices = s5 s6 s7 s8\n" },
		{ "other app: parses",
		  GA S9 "[allow p]\ndevice = d\napp = a\nservices = s1 s2 s3 s4 s5\n"
			"[allow q]\ndevice = d\napp = b\nservices = s5 s6 s7 s8 s9\n" },
		{ "a union over 16: refused at the handshake, not here",
		  GA S9 "[allow p]\ndevice = d\napp = a\nservices = s1 s2 s3 s4 s5\n"
			"[allow q]\ndevice = e d\napp = a\nservices = s5 s6 s7 s8 s9\n" },
		{ "group only, no app", GA SVC "[allow p]\ngroup = g\nservices = s\n" },
		{ "service next to the pool",
		  GA "[service s]\nproto = udp\naddress = 100.64.1.0/24\nports = 1\n" },
		{ "8 port ranges",
		  GA "[service s]\nproto = udp\naddress = 10.0.0.1\nports = 1 2 3 4 "
		     "5 6 7 8-65535\n" },
		{ "spa port in [open]", GA "[open]\nudp = 62201\n" },
		{ "data port number open for tcp", GA "[open]\ntcp = 51900\n" },
	};
	struct gw_config c;
	char err[CG_ERR_MAX];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err[0] = '\0';
		if (!ASSERT_EQ(config_parse_string(t[i].text, "t.ini", &c, err, sizeof(err)), 0,
			       t[i].name))
			fprintf(stderr, "    %s\n", err);
	}
}

/*
 * GA SVC, then sections [allow pN] of per devices each (dN-M, 16 a line), then extra ("" or
 * more lines). The text is malloc'd.
 */
static char *fleet_text(size_t sections, size_t per, const char *extra)
{
	size_t cap = 1024 + sections * (64 + per * 16) + strlen(extra), off, i, j;
	char *t = malloc(cap);

	if (!t)
		return NULL;
	off = (size_t)snprintf(t, cap, "%s", GA SVC);
	for (i = 0; i < sections; i++) {
		off += (size_t)snprintf(t + off, cap - off, "[allow p%zu]\nservices = s", i);
		for (j = 0; j < per; j++)
			off += (size_t)snprintf(t + off, cap - off, "%s d%zu-%zu",
						j % 16 ? "" : "\ndevice =", i, j);
		off += (size_t)snprintf(t + off, cap - off, "\n");
	}
	snprintf(t + off, cap - off, "%s", extra);
	return t;
}

/* No 32-device limit: CG_POLICIES_MAX sections, CG_POLICY_SELECTORS_MAX selectors in all. */
static void test_policy_fleet_limits(void)
{
	static const struct {
		const char *name, *extra, *want;
	} t[] = {
		{ "full pool, every section", "", NULL },
		{ "one selector past the pool", "group = g\n",
		  "[allow p127] group: \"g\": more than 4096 selectors in all [allow] sections "
		  "together" },
		{ "one section too many", "[allow last]\n",
		  "[allow last]: more than 128 allow sections" },
	};
	struct gw_config *c = malloc(sizeof(*c));
	char err[CG_ERR_MAX], want[CG_ERR_MAX];
	size_t i, per = CG_POLICY_SELECTORS_MAX / CG_POLICIES_MAX;
	char *text;

	if (!ASSERT_TRUE(c != NULL, "malloc"))
		return;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		text = fleet_text(CG_POLICIES_MAX, per, t[i].extra);
		if (!ASSERT_TRUE(text != NULL, "malloc"))
			break;
		err[0] = '\0';
		if (!t[i].want) {
			if (ASSERT_EQ(config_parse_string(text, "t.ini", c, err, sizeof(err)), 0,
				      err)) {
				ASSERT_EQ(c->policy.npolicies, CG_POLICIES_MAX, "sections");
				ASSERT_EQ(c->policy.nsels, CG_POLICY_SELECTORS_MAX, "selectors");
			}
		} else if (ASSERT_EQ(config_parse_string(text, "t.ini", c, err, sizeof(err)),
				     -EINVAL, t[i].name)) {
			/* The line of extra: 11 of GA SVC, then 4 per section. */
			snprintf(want, sizeof(want), "t.ini:%d: %s", 12 + 4 * CG_POLICIES_MAX,
				 t[i].want);
			ASSERT_STREQ(err, want, t[i].name);
		}
		free(text);
	}
	free(c);
}

/* ---- [client] ---------------------------------------------------------------- */

static const char client_sample[] = "[client]\n"
				    "gateway = 10.10.1.1\n"
				    "ca = ca.crt\n"
				    "cert = dev1@sensor.crt\n"
				    "key = dev1@sensor.key\n";

static void test_client_sample(void)
{
	struct client_config c;
	uint8_t gw[16];
	char err[CG_ERR_MAX] = "";

	if (!ASSERT_EQ(client_config_parse_string(client_sample, "c.ini", &c, err, sizeof(err)), 0,
		       err))
		return;
	addr_parse_mapped("10.10.1.1", gw);
	ASSERT_MEMEQ(c.gateway, gw, 16, "gateway");
	ASSERT_STREQ(c.ca, "ca.crt", "ca as written");
	ASSERT_STREQ(c.cert, "dev1@sensor.crt", "cert");
	ASSERT_STREQ(c.key, "dev1@sensor.key", "key");
	ASSERT_STREQ(c.app, "", "app default: the certificate's");
	ASSERT_STREQ(c.trust_domain, "capgate", "trust_domain default");
	ASSERT_EQ(c.port, 8443, "port default");
	ASSERT_EQ(c.spa_port, 62201, "spa_port default");
	ASSERT_EQ(c.data_port, 51900, "data_port default");
	ASSERT_STREQ(c.tun, "cg0", "tun default");
	ASSERT_STREQ(c.device, "", "device default: from the certificate");
	ASSERT_EQ(c.retry_max_ns, SEC(30), "retry_max default");
	ASSERT_EQ(c.mode, 0, "mode default: policy");
	ASSERT_EQ(c.cipher, 0, "cipher default: auto");
}

static void test_client_every_key(void)
{
	static const char text[] = "[client]\n"
				   "cipher = aes-256-gcm\n"
				   "mode = encrypted\n"
				   "retry_max = 1h\n"
				   "tun = cgtun.1\n"
				   "device = dev-7\n"
				   "trust_domain = example.org\n"
				   "app = a_b\n"
				   "key = /k/d.key\n"
				   "cert = /k/d.crt\n"
				   "ca = /k/ca.crt\n"
				   "data_port = 3\n"
				   "spa_port = 2\n"
				   "port = 1\n"
				   "gateway = 2001:db8::1\n";
	struct client_config c;
	uint8_t gw[16];
	char err[CG_ERR_MAX] = "";

	if (!ASSERT_EQ(client_config_parse_string(text, "c.ini", &c, err, sizeof(err)), 0, err))
		return;
	addr_parse_mapped("2001:db8::1", gw);
	ASSERT_MEMEQ(c.gateway, gw, 16, "gateway v6");
	ASSERT_EQ(c.port, 1, "port");
	ASSERT_EQ(c.spa_port, 2, "spa_port");
	ASSERT_EQ(c.data_port, 3, "data_port");
	ASSERT_STREQ(c.ca, "/k/ca.crt", "ca");
	ASSERT_STREQ(c.cert, "/k/d.crt", "cert");
	ASSERT_STREQ(c.key, "/k/d.key", "key");
	ASSERT_STREQ(c.app, "a_b", "app");
	ASSERT_STREQ(c.device, "dev-7", "device");
	ASSERT_STREQ(c.trust_domain, "example.org", "trust_domain");
	ASSERT_STREQ(c.tun, "cgtun.1", "tun");
	ASSERT_EQ(c.retry_max_ns, SEC(3600), "retry_max");
	ASSERT_EQ(c.mode, CG_TUN_F_ENCRYPTED, "mode = encrypted");
	ASSERT_EQ(c.cipher, CG_CIPHER_AES256_GCM, "cipher = aes-256-gcm");
}

#define CL "[client]\ngateway = 10.0.0.1\nca = a\ncert = c\nkey = k\napp = x\n"

/* mode and cipher: each value, and the defaults written out. */
static void test_client_mode_cipher(void)
{
	static const struct {
		const char *text;
		uint8_t mode, cipher;
	} t[] = {
		{ CL "mode = policy\n", 0, 0 },
		{ CL "mode = encrypted\n", CG_TUN_F_ENCRYPTED, 0 },
		{ CL "cipher = auto\n", 0, 0 },
		{ CL "cipher = chacha20-poly1305\n", 0, CG_CIPHER_CHACHA20_POLY1305 },
		{ CL "cipher = aes-256-gcm\nmode = encrypted\n", CG_TUN_F_ENCRYPTED,
		  CG_CIPHER_AES256_GCM },
	};
	struct client_config c;
	char err[CG_ERR_MAX];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err[0] = '\0';
		if (!ASSERT_EQ(client_config_parse_string(t[i].text, "c.ini", &c, err, sizeof(err)),
			       0, t[i].text))
			continue;
		ASSERT_EQ(c.mode, t[i].mode, t[i].text);
		ASSERT_EQ(c.cipher, t[i].cipher, t[i].text);
	}
}

static void test_client_errors(void)
{
	static const struct {
		const char *text, *want;
	} t[] = {
		{ "", "c.ini: [client] gateway is required" },
		{ "\n[client]\nca = a\ncert = c\nkey = k\napp = x\n",
		  "c.ini:2: [client] gateway is required" },
		{ "[client]\ngateway = 10.0.0.1\ncert = c\nkey = k\napp = x\n",
		  "c.ini:1: [client] ca is required" },
		{ "[client]\ngateway = 10.0.0.1\nca = a\nkey = k\napp = x\n",
		  "c.ini:1: [client] cert is required" },
		{ "[client]\ngateway = 10.0.0.1\nca = a\ncert = c\napp = x\n",
		  "c.ini:1: [client] key is required" },
		{ CL "trust_domain = Capgate\n", "c.ini:7: [client] trust_domain: \"Capgate\" is "
						 "not a trust domain (1..255 of a-z "
						 "0-9 . _ -)" },
		{ CL "trust_domain = a:1\n", "c.ini:7: [client] trust_domain: \"a:1\" is not a "
					     "trust domain (1..255 of a-z 0-9 "
					     ". _ -)" },
		{ "[client]\ngateway = 10.0.0.1\nca = a\ncert = c\nkey = k\napp = a@b\n",
		  "c.ini:6: [client] app: \"a@b\" is not a name (1..63 of A-Z a-z 0-9 _ . -)" },
		{ CL "[client]\n", "c.ini:7: [client] given twice" },
		{ CL "[gateway]\n",
		  "c.ini:7: unknown section [gateway] (a client config has [client])" },
		{ "[gateway]\ninterface = e\n",
		  "c.ini:1: unknown section [gateway] (a client config has [client])" },
		{ "gateway = 1.2.3.4\n", "c.ini:1: key \"gateway\" is outside any section" },
		{ CL "foo = 1\n", "c.ini:7: unknown key \"foo\" in [client]" },
		{ CL "app = y\n", "c.ini:7: [client] app given twice" },
		{ CL "device =\n", "c.ini:7: [client] device: empty value" },
		{ "[client]\ngateway = gw.example\n",
		  "c.ini:2: [client] gateway: \"gw.example\" is not an IPv4 or IPv6 address" },
		{ "[client]\ngateway = 10.0.0.0/8\n",
		  "c.ini:2: [client] gateway: \"10.0.0.0/8\" is not an IPv4 or IPv6 address" },
		{ CL "port = 0\n", "c.ini:7: [client] port: \"0\" is out of range (1..65535)" },
		{ CL "spa_port = x\n", "c.ini:7: [client] spa_port: \"x\" is not a port number" },
		{ CL "data_port = 8443\n", "c.ini:7: [client] port and data_port are both 8443: "
					   "the three ports must differ" },
		{ CL "spa_port = 51900\n",
		  "c.ini:7: [client] spa_port and data_port are both 51900: "
		  "the three ports must differ" },
		{ CL "app = a b\n", "c.ini:7: [client] app given twice" },
		{ "[client]\napp = a b\n",
		  "c.ini:2: [client] app: \"a b\" is not a name (1..63 of A-Z a-z 0-9 _ . -)" },
		{ CL "device = dev/1\n", "c.ini:7: [client] device: \"dev/1\" is not a name (1..63 "
					 "of A-Z a-z 0-9 _ . -)" },
		{ CL "tun = abcdefghijklmnop\n",
		  "c.ini:7: [client] tun: \"abcdefghijklmnop\" is not an interface name (1..15 "
		  "characters, no space, \"/\" or \":\")" },
		{ CL "retry_max = 0s\n",
		  "c.ini:7: [client] retry_max: \"0s\" is out of range (1s..1h)" },
		{ CL "retry_max = 2h\n",
		  "c.ini:7: [client] retry_max: \"2h\" is out of range (1s..1h)" },
		{ CL "foo bar\n",
		  "c.ini:7: expected \"key = value\" or \"[section]\": \"foo bar\"" },
		{ CL "  tun = x\n",
		  "c.ini:7: indented line (a continuation, not supported): \"tun = x\"" },
		/* a client can ask for more than the policy, never for less */
		{ CL "mode = integrity\n",
		  "c.ini:7: [client] mode: \"integrity\" is not encrypted or policy" },
		{ CL "mode = ENCRYPTED\n",
		  "c.ini:7: [client] mode: \"ENCRYPTED\" is not encrypted or policy" },
		{ CL "mode =\n", "c.ini:7: [client] mode: empty value" },
		{ CL "mode = encrypted\nmode = policy\n", "c.ini:8: [client] mode given twice" },
		{ CL "cipher = aes-128-gcm\n",
		  "c.ini:7: [client] cipher: \"aes-128-gcm\" is not auto, chacha20-poly1305 or "
		  "aes-256-gcm" },
		{ CL "cipher = chacha20\n",
		  "c.ini:7: [client] cipher: \"chacha20\" is not auto, chacha20-poly1305 or "
		  "aes-256-gcm" },
		{ CL "cipher = none\n",
		  "c.ini:7: [client] cipher: \"none\" is not auto, chacha20-poly1305 or "
		  "aes-256-gcm" },
		{ CL "cipher = auto\ncipher = auto\n", "c.ini:8: [client] cipher given twice" },
	};
	struct client_config c;
	char err[CG_ERR_MAX];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err[0] = '\0';
		if (!ASSERT_EQ(client_config_parse_string(t[i].text, "c.ini", &c, err, sizeof(err)),
			       -EINVAL, t[i].want))
			continue;
		ASSERT_STREQ(err, t[i].want, "message");
	}
}

static void test_client_out_untouched(void)
{
	struct client_config c, before;
	char err[CG_ERR_MAX];

	memset(&c, 0xa5, sizeof(c));
	before = c;
	ASSERT_EQ(client_config_parse_string(CL "tun = a/b\n", "c.ini", &c, err, sizeof(err)),
		  -EINVAL, "refused");
	ASSERT_MEMEQ(&c, &before, sizeof(c), "cfg untouched");
}

/* The line API reads a client config too. */
static void test_client_line_api(void)
{
	struct client_config c;
	struct client_config_ctx ctx;

	client_config_init(&ctx, &c);
	ASSERT_EQ(config_line(&ctx.ini, "client", "gateway", "192.0.2.1"), 0, "gateway");
	ASSERT_EQ(config_line(&ctx.ini, "client", "ca", "a"), 0, "ca");
	ASSERT_EQ(config_line(&ctx.ini, "client", "cert", "c"), 0, "cert");
	ASSERT_EQ(config_line(&ctx.ini, "client", "key", "k"), 0, "key");
	/* app is optional: the certificate says which app (agent.c compares a given one). */
	ASSERT_EQ(config_finish(&ctx.ini), 0, "app optional");
	ASSERT_STREQ(c.app, "", "app default: the certificate's");
	ASSERT_STREQ(c.trust_domain, "capgate", "trust_domain default");

	client_config_init(&ctx, &c);
	ASSERT_EQ(config_line(&ctx.ini, "auth", "ca", "a"), -EINVAL,
		  "no [auth] in a client config");
}

/* Paths longer than a line only fit through the line API. */
static void test_auth_line_api(void)
{
	struct gw_config c;
	struct gw_config_ctx ctx;
	char v[300];

	memset(v, 'a', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	config_init(&ctx, &c);
	ASSERT_EQ(config_line(&ctx.ini, "gateway", "interface", "e0"), 0, "interface");
	ASSERT_EQ(config_line(&ctx.ini, "auth", "ca", v), -EINVAL, "long ca");
	ASSERT_TRUE(strstr(ctx.ini.err, "[auth] ca: \"aaaa") != NULL, ctx.ini.err);
	ASSERT_TRUE(strstr(ctx.ini.err, "...\" is longer than 255 characters") != NULL,
		    ctx.ini.err);

	config_init(&ctx, &c);
	ASSERT_EQ(config_line(&ctx.ini, "gateway", "interface", "e0"), 0, "interface");
	ASSERT_EQ(config_line(&ctx.ini, "allow p", "device", "d"), 0, "device");
	ASSERT_EQ(config_line(&ctx.ini, "allow p", "app", "a"), 0, "app");
	ASSERT_EQ(config_line(&ctx.ini, "allow p", "services", "s"), 0, "services");
	ASSERT_EQ(config_line(&ctx.ini, "service s", "proto", "icmp"), 0, "proto");
	ASSERT_EQ(config_line(&ctx.ini, "service s", "address", "192.0.2.0/24"), 0, "address");
	ASSERT_EQ(config_line(&ctx.ini, "auth", "ca", "a"), 0, "ca");
	ASSERT_EQ(config_line(&ctx.ini, "auth", "cert", "c"), 0, "cert");
	ASSERT_EQ(config_line(&ctx.ini, "auth", "key", "k"), 0, "key");
	ASSERT_EQ(config_line(&ctx.ini, "auth", "pool", "10.9.0.0/16"), 0, "pool");
	ASSERT_EQ(config_finish(&ctx.ini), 0, ctx.ini.err);
	ASSERT_EQ(c.policy.policies[0].services[0], 0, "resolved");
}

static void test_client_example_file(void)
{
	struct client_config c;
	char err[CG_ERR_MAX] = "", want[PATH_MAX + 16], dir[PATH_MAX];

	if (!ASSERT_EQ(client_config_load(CG_SRCDIR "/examples/client.ini", &c, err, sizeof(err)),
		       0, err))
		return;
	if (!ASSERT_TRUE(realpath(CG_SRCDIR "/examples", dir) != NULL, "realpath"))
		return;
	snprintf(want, sizeof(want), "%s/ca.crt", dir);
	ASSERT_STREQ(c.ca, want, "ca relative to the file");
	snprintf(want, sizeof(want), "%s/dev1@sensor.crt", dir);
	ASSERT_STREQ(c.cert, want, "cert relative to the file");
	snprintf(want, sizeof(want), "%s/dev1@sensor.key", dir);
	ASSERT_STREQ(c.key, want, "key relative to the file");
	ASSERT_STREQ(c.app, "", "app: the certificate's");
}

static bool write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!ASSERT_TRUE(f != NULL, "fopen"))
		return false;
	fputs(text, f);
	fclose(f);
	return true;
}

/* *_load resolve relative paths against the file's directory; absolute ones stay. */
static void test_load_relative(void)
{
	char dir[] = "/tmp/cg-config-XXXXXX", sub[64], path[96], cpath[96], want[160];
	char err[CG_ERR_MAX] = "";
	struct client_config cc;
	struct gw_config c;

	if (!ASSERT_TRUE(mkdtemp(dir) != NULL, "mkdtemp"))
		return;
	snprintf(sub, sizeof(sub), "%s/etc", dir);
	if (!ASSERT_EQ(mkdir(sub, 0700), 0, "mkdir"))
		goto out;
	snprintf(path, sizeof(path), "%s/gw.ini", sub);
	snprintf(cpath, sizeof(cpath), "%s/client.ini", sub);
	if (!write_file(path, GW "api_token_file = api.token\n[auth]\nca = pki/ca.crt\n"
				 "cert = ../gw.crt\nkey = /abs/gw.key\npool = 10.0.0.0/8\n") ||
	    !write_file(cpath, "[client]\ngateway = 10.0.0.1\nca = ca.crt\ncert = /abs/d.crt\n"
			       "key = ./d.key\napp = a\n"))
		goto out_files;

	if (ASSERT_EQ(config_load(path, &c, err, sizeof(err)), 0, err)) {
		snprintf(want, sizeof(want), "%s/pki/ca.crt", sub);
		ASSERT_STREQ(c.auth.ca, want, "ca");
		snprintf(want, sizeof(want), "%s/../gw.crt", sub);
		ASSERT_STREQ(c.auth.cert, want, "cert");
		ASSERT_STREQ(c.auth.key, "/abs/gw.key", "absolute key stays");
		snprintf(want, sizeof(want), "%s/pki", sub);
		ASSERT_STREQ(c.auth.devices, want, "devices default: the ca's directory");
		snprintf(want, sizeof(want), "%s/api.token", sub);
		ASSERT_STREQ(c.api_token_file, want, "api_token_file");
	}
	if (ASSERT_EQ(client_config_load(cpath, &cc, err, sizeof(err)), 0, err)) {
		snprintf(want, sizeof(want), "%s/ca.crt", sub);
		ASSERT_STREQ(cc.ca, want, "client ca");
		ASSERT_STREQ(cc.cert, "/abs/d.crt", "client absolute cert stays");
		snprintf(want, sizeof(want), "%s/./d.key", sub);
		ASSERT_STREQ(cc.key, want, "client key");
	}
	ASSERT_EQ(client_config_load(path, &cc, err, sizeof(err)), -EINVAL, "gateway file");
	snprintf(want, sizeof(want),
		 "%s:1: unknown section [gateway] (a client config has [client])", path);
	ASSERT_STREQ(err, want, "a gateway file is not a client file");
out_files:
	unlink(path);
	unlink(cpath);
	rmdir(sub);
out:
	rmdir(dir);
}

/* A live reload applies [service] and [allow] only: anything else names the key to restart for. */
static void test_restart_key(void)
{
	static const char head[] = "[gateway]\ninterface = eth0\n"
				   "[auth]\nca = ca.crt\ncert = gw.crt\nkey = gw.key\n"
				   "pool = 100.64.0.0/24\n";
	static const char policy[] =
		"[service web]\nproto = tcp\naddress = 10.10.2.2\n"
		"ports = 80\n[allow a]\ndevice = dev1\napp = s\nservices = web\n";
	static const char policy2[] = "[service web]\nproto = tcp\naddress = 10.10.2.2\n"
				      "ports = 80 443\n[allow a]\ndevice = dev1 dev2\n"
				      "app = s\nservices = web\n";
	static const struct {
		const char *head, *want;
	} t[] = {
		{ "[gateway]\ninterface = eth1\n[auth]\nca = ca.crt\ncert = gw.crt\nkey = gw.key\n"
		  "pool = 100.64.0.0/24\n",
		  "[gateway] interface" },
		{ "[gateway]\ninterface = eth0\n[auth]\nca = ca.crt\ncert = gw.crt\nkey = gw.key\n"
		  "pool = 100.64.1.0/24\n",
		  "[auth] pool" },
		{ "[gateway]\ninterface = eth0\n[auth]\nca = ca.crt\ncert = gw.crt\nkey = gw.key\n"
		  "pool = 100.64.0.0/24\nsession_ttl = 5m\n",
		  "[auth] session_ttl" },
		{ "[gateway]\ninterface = eth0\n[open]\ntcp = 22\n[auth]\nca = ca.crt\n"
		  "cert = gw.crt\nkey = gw.key\npool = 100.64.0.0/24\n",
		  "[open] tcp/udp" },
	};
	static struct gw_config a, b;
	char text[1024], err[256];
	size_t i;

	snprintf(text, sizeof(text), "%s%s", head, policy);
	if (!ASSERT_EQ(config_parse_string(text, "a.ini", &a, err, sizeof(err)), 0, err))
		return;
	snprintf(text, sizeof(text), "%s%s", head, policy2);
	if (!ASSERT_EQ(config_parse_string(text, "b.ini", &b, err, sizeof(err)), 0, err))
		return;
	ASSERT_TRUE(config_restart_key(&a, &a) == NULL, "the same");
	ASSERT_TRUE(config_restart_key(&a, &b) == NULL, "the policy only");
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *got;

		snprintf(text, sizeof(text), "%s%s", t[i].head, policy);
		if (!ASSERT_EQ(config_parse_string(text, "c.ini", &b, err, sizeof(err)), 0, err))
			continue;
		got = config_restart_key(&a, &b);
		if (ASSERT_TRUE(got != NULL, t[i].want))
			ASSERT_STREQ(got, t[i].want, t[i].want);
	}
}

/* A balanced service: every key, its defaults, and no [auth] needed. */
static void test_lb_keys(void)
{
	static const char text[] = "[gateway]\ninterface = eth0\nlb_interfaces = int0 int1\n"
				   "[service web]\nproto = tcp\naddress = 10.10.2.100\nports = 80\n"
				   "backends = 10.10.2.2:80 10.10.2.3:8080@0 10.10.2.4:80@2\n"
				   "health = http HEAD /healthz\nhealth_interval = 250ms\n"
				   "health_rise = 3\nhealth_fall = 1\nnat = full\n"
				   "snat = 10.10.2.1\nsnat_ports = 40000-40999\n"
				   "[service dns6]\nproto = udp\naddress = fd00:2::53\n"
				   "ports = 53\nbackends = [fd00:2::2]:53 [fd00:2::3]:5353\n";
	static struct gw_config c;
	const struct lb_svc_cfg *w = &c.lb[0], *d = &c.lb[1];
	uint8_t snat[16];
	char err[256];

	if (!ASSERT_EQ(config_parse_string(text, "t.ini", &c, err, sizeof(err)), 0, err))
		return;
	ASSERT_EQ(c.nlb_ifaces, 2, "lb_interfaces");
	ASSERT_STREQ(c.lb_ifaces[1], "int1", "lb_interfaces[1]");
	ASSERT_TRUE(w->enabled && d->enabled, "both balanced");
	ASSERT_EQ(w->n, 3, "web backends");
	ASSERT_EQ(d->first, 3, "dns6's backends follow");
	ASSERT_EQ(c.lb_be[w->first + 1].port, 8080, "port");
	ASSERT_EQ(c.lb_be[w->first + 1].weight, 0, "weight 0");
	ASSERT_EQ(c.lb_be[w->first + 2].weight, 2, "weight 2");
	ASSERT_EQ(c.lb_be[w->first].weight, 1, "weight default");
	ASSERT_EQ(w->health.kind, HEALTH_HTTP, "http");
	ASSERT_STREQ(w->health.method, "HEAD", "method");
	ASSERT_STREQ(w->health.path, "/healthz", "path");
	ASSERT_EQ(w->health.interval_ns, 250000000ULL, "250ms");
	ASSERT_EQ(w->health.rise, 3, "rise");
	ASSERT_EQ(w->health.fall, 1, "fall");
	ASSERT_EQ(w->nat, LB_NAT_FULL, "full");
	addr_parse_mapped("10.10.2.1", snat);
	ASSERT_TRUE(w->snat_set && !memcmp(w->snat, snat, 16), "snat");
	ASSERT_EQ(w->snat_lo, 40000, "snat_lo");
	ASSERT_EQ(w->snat_hi, 40999, "snat_hi");
	/* defaults: udp checks nothing, dnat, 1 s, 2/2 */
	ASSERT_EQ(d->health.kind, HEALTH_NONE, "udp: health none");
	ASSERT_EQ(d->nat, LB_NAT_DNAT, "dnat");
	ASSERT_EQ(d->health.interval_ns, 1000000000ULL, "1s");
	ASSERT_EQ(d->health.rise, 2, "rise 2");
	ASSERT_EQ(d->health.fall, 2, "fall 2");
	ASSERT_EQ(d->snat_lo, LB_SNAT_LO_DEFAULT, "snat_lo default");
	ASSERT_TRUE(!c.lb[2].enabled, "no third");
}

static void test_lb_defaults(void)
{
	static const char text[] = "[gateway]\ninterface = eth0\n[service web]\nproto = tcp\n"
				   "address = 10.10.2.100\nports = 80\nbackends = 10.10.2.2:80\n";
	static struct gw_config c;
	char err[256];

	if (!ASSERT_EQ(config_parse_string(text, "t.ini", &c, err, sizeof(err)), 0, err))
		return;
	ASSERT_EQ(c.lb[0].health.kind, HEALTH_TCP, "tcp: health tcp");
	ASSERT_EQ(c.nlb_ifaces, 0, "no lb_interfaces");
}

static void test_lb_errors(void)
{
#define LGW "[gateway]\ninterface = eth0\n"
#define LSV "[service web]\nproto = tcp\naddress = 10.10.2.100\nports = 80\n"
	static const struct {
		const char *text, *want;
	} t[] = {
		{ LGW LSV "backends = 10.10.2.2\n",
		  "t.ini:7: [service web] backends: \"10.10.2.2\": expected ADDR:PORT (IPv6 as "
		  "[ADDR]:PORT)" },
		{ LGW LSV "backends = 10.10.2.2:0\n",
		  "t.ini:7: [service web] backends: \"10.10.2.2:0\": the port must be 1..65535" },
		{ LGW LSV "backends = 10.10.2.2:80@101\n",
		  "t.ini:7: [service web] backends: \"10.10.2.2:80@101\": the weight must be "
		  "0..100" },
		{ LGW LSV "backends = 10.10.2.2:80 10.10.2.2:80@2\n",
		  "t.ini:7: [service web] backends: 10.10.2.2:80@2 listed twice" },
		{ LGW LSV "backends = 10.10.2.2:80 10.10.2.100:8080\n",
		  "t.ini:7: [service web] backends: 10.10.2.100:8080 is the VIP itself" },
		{ LGW LSV "backends = [fd00::2]:80\n",
		  "t.ini:7: [service web] backends: [fd00::2]:80 is not of the VIP's address "
		  "family" },
		{ LGW "[service web]\nproto = tcp\naddress = 10.10.2.0/24\nports = 80\n"
		      "backends = 10.10.2.2:80\n",
		  "t.ini:5: [service web] address: a balanced service's address is one address "
		  "(its "
		  "VIP), not a prefix" },
		{ LGW
		  "[service web]\nproto = icmp\naddress = 10.10.2.100\nbackends = 10.10.2.2:80\n",
		  "t.ini:6: [service web] backends: only tcp and udp services are balanced" },
		{ LGW LSV "health = tcp\n",
		  "t.ini:7: [service web] health, nat and snat need backends" },
		{ LGW LSV "backends = 10.10.2.2:80\nhealth = ping\n",
		  "t.ini:8: [service web] health: \"ping\": expected http METHOD PATH, tcp or "
		  "none" },
		{ LGW LSV "backends = 10.10.2.2:80\nhealth = http get /\n",
		  "t.ini:8: [service web] health: \"http get /\": the HTTP method must be "
		  "upper-case "
		  "letters (GET, HEAD)" },
		{ LGW LSV "backends = 10.10.2.2:80\nhealth_interval = 50ms\n",
		  "t.ini:8: [service web] health_interval: \"50ms\" is not a duration in "
		  "100ms..60s" },
		{ LGW LSV "backends = 10.10.2.2:80\nhealth_interval = 2m\n",
		  "t.ini:8: [service web] health_interval: \"2m\" is not a duration in "
		  "100ms..60s" },
		{ LGW LSV "backends = 10.10.2.2:80\nhealth_rise = 0\n",
		  "t.ini:8: [service web] health_rise: \"0\" is not a count in 1..10" },
		{ LGW LSV "backends = 10.10.2.2:80\nhealth_fall = 11\n",
		  "t.ini:8: [service web] health_fall: \"11\" is not a count in 1..10" },
		{ LGW LSV "backends = 10.10.2.2:80\nnat = snat\n",
		  "t.ini:8: [service web] nat: \"snat\" is not dnat or full" },
		{ LGW LSV "backends = 10.10.2.2:80\nsnat = 10.10.2.1\n",
		  "t.ini:8: [service web] snat and snat_ports need nat = full" },
		{ LGW LSV "backends = 10.10.2.2:80\nnat = full\nsnat_ports = 100-104\n",
		  "t.ini:9: [service web] snat_ports: \"100-104\" has fewer than 8 ports" },
		{ LGW LSV "backends = 10.10.2.2:80\nnat = full\nsnat = fd00::1\n",
		  "t.ini:8: [service web] snat: not the address family of the VIP" },
		{ LGW "[service dns]\nproto = udp\naddress = 10.10.2.100\nports = 53\n"
		      "backends = 10.10.2.2:53\nhealth = tcp\n",
		  "t.ini:8: [service dns] health: a udp service's backends can only be health = "
		  "none "
		  "(checks are TCP)" },
		{ LGW LSV "backends = 10.10.2.2:80\n"
			  "[service web2]\nproto = tcp\naddress = 10.10.2.100\nports = 70-90\n"
			  "backends = 10.10.2.3:80\n",
		  "t.ini:11: [service web2] ports: the VIP's ports overlap [service web]'s" },
		{ LGW "lb_interfaces = eth0\n" LSV "backends = 10.10.2.2:80\n",
		  "t.ini:3: [gateway] lb_interfaces: eth0 is the gateway's interface (the balancer "
		  "runs there anyway)" },
		{ LGW "lb_interfaces = int0 int0\n",
		  "t.ini:3: [gateway] lb_interfaces: int0 listed twice" },
		{ LGW "lb_interfaces = abcdefghijklmnopq\n",
		  "t.ini:3: [gateway] lb_interfaces: \"abcdefghijklmnopq\" is longer than an "
		  "interface name" },
		{ LGW LSV "backends = 10.10.2.2:80\n[service s]\nproto = tcp\naddress = 10.1.1.1\n"
			  "ports = 1\n",
		  "t.ini:8: [service s] needs an [auth] section (or backends)" },
	};
	static struct gw_config c;
	char err[CG_ERR_MAX];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		err[0] = '\0';
		if (!ASSERT_EQ(config_parse_string(t[i].text, "t.ini", &c, err, sizeof(err)),
			       -EINVAL, t[i].want))
			continue;
		ASSERT_STREQ(err, t[i].want, "message");
	}
#undef LGW
#undef LSV
}

/* Backends change live; lb_interfaces needs a restart. */
static void test_lb_restart_key(void)
{
	static const char a_text[] = "[gateway]\ninterface = eth0\n[service web]\nproto = tcp\n"
				     "address = 10.10.2.100\nports = 80\nbackends = 10.10.2.2:80\n";
	static const char b_text[] = "[gateway]\ninterface = eth0\n[service web]\nproto = tcp\n"
				     "address = 10.10.2.100\nports = 80 81\n"
				     "backends = 10.10.2.2:80 10.10.2.3:80@3\nnat = full\n";
	static const char c_text[] = "[gateway]\ninterface = eth0\nlb_interfaces = int0\n"
				     "[service web]\nproto = tcp\n"
				     "address = 10.10.2.100\nports = 80\nbackends = 10.10.2.2:80\n";
	static struct gw_config a, b;
	const char *got;
	char err[256];

	if (!ASSERT_EQ(config_parse_string(a_text, "a.ini", &a, err, sizeof(err)), 0, err) ||
	    !ASSERT_EQ(config_parse_string(b_text, "b.ini", &b, err, sizeof(err)), 0, err))
		return;
	ASSERT_TRUE(config_restart_key(&a, &b) == NULL, "backends, ports, nat: live");
	if (!ASSERT_EQ(config_parse_string(c_text, "c.ini", &b, err, sizeof(err)), 0, err))
		return;
	got = config_restart_key(&a, &b);
	if (ASSERT_TRUE(got != NULL, "lb_interfaces"))
		ASSERT_STREQ(got, "[gateway] lb_interfaces", "lb_interfaces");
}

T_MAIN(T_CASE(test_restart_key), T_CASE(test_sample), T_CASE(test_example_file),
       T_CASE(test_defaults), T_CASE(test_every_key), T_CASE(test_knock_defaults),
       T_CASE(test_accepted_forms), T_CASE(test_errors), T_CASE(test_out_untouched),
       T_CASE(test_line_api), T_CASE(test_load), T_CASE(test_auth_sample),
       T_CASE(test_auth_example_file), T_CASE(test_auth_absent), T_CASE(test_auth_every_key),
       T_CASE(test_auth_defaults), T_CASE(test_auth_errors), T_CASE(test_auth_limits_accepted),
       T_CASE(test_policy_fleet_limits), T_CASE(test_client_sample), T_CASE(test_client_every_key),
       T_CASE(test_client_mode_cipher), T_CASE(test_client_errors),
       T_CASE(test_client_out_untouched), T_CASE(test_client_line_api), T_CASE(test_auth_line_api),
       T_CASE(test_client_example_file), T_CASE(test_load_relative), T_CASE(test_destinations),
       T_CASE(test_destination_errors), T_CASE(test_lb_keys), T_CASE(test_lb_defaults),
       T_CASE(test_lb_errors), T_CASE(test_lb_restart_key))
