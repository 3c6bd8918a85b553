// SPDX-License-Identifier: GPL-2.0
/* Gateway config parser: every key, every default, every error with its message and line. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/config.h"
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
	"api = 127.0.0.1:7070        ; REST API address\n"
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
	ok &= ASSERT_STREQ(c->api, "127.0.0.1:7070", "api");
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
	ASSERT_STREQ(c.api, "127.0.0.1:7070", "api");
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
	struct config_ctx ctx;
	char v[2048];
	size_t i, len = 0;

	config_init(&ctx, &c);
	ASSERT_EQ(config_line(&ctx, "gateway", "interface", "e0"), 0, "interface");
	ASSERT_EQ(config_line(&ctx, "open", "tcp", "1 2 3"), 0, "open tcp");
	ASSERT_EQ(config_line(&ctx, "knock x", "sequence", "udp/1"), 0, "knock sequence");
	ASSERT_EQ(config_line(&ctx, "knock x", "open", "tcp/1"), 0, "knock open");
	ASSERT_EQ(config_finish(&ctx), 0, ctx.err);
	ASSERT_STREQ(c.name, "e0", "name default");
	ASSERT_EQ(c.nknocks, 1, "nknocks");

	/* More than CG_OPEN_MAX open ports only fit through this API (lines are short). */
	config_init(&ctx, &c);
	for (i = 1; i <= CG_OPEN_MAX + 1; i++)
		len += (size_t)snprintf(v + len, sizeof(v) - len, "%zu ", i);
	ASSERT_EQ(config_line(&ctx, "open", "udp", v), -EINVAL, "too many");
	ASSERT_TRUE(strstr(ctx.err, "more than 256 open ports in all") != NULL, ctx.err);
	ASSERT_EQ(c.nopen, 0, "nothing appended");
	ASSERT_EQ(config_finish(&ctx), -EINVAL, "finish after an error");
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

T_MAIN(T_CASE(test_sample), T_CASE(test_example_file), T_CASE(test_defaults),
       T_CASE(test_every_key), T_CASE(test_knock_defaults), T_CASE(test_accepted_forms),
       T_CASE(test_errors), T_CASE(test_out_untouched), T_CASE(test_line_api), T_CASE(test_load))
