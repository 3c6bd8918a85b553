// SPDX-License-Identifier: GPL-2.0
/* Gateway config: INI text (inih) into struct gw_config, every key checked; no I/O but config_load.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "lib/api/endpoint.h"
#include "lib/config.h"
#include "lib/parse_num.h"
#include "lib/portspec.h"

/* Values are quoted in messages up to this many bytes. */
#define QUOTE_MAX 64
#define QBUF (QUOTE_MAX + 4)
/* config_load refuses bigger files: a config is a few hundred bytes. */
#define CONFIG_FILE_MAX (1 << 20)

#define SEC(n) ((uint64_t)(n)*NS_PER_SEC)

/* ctx->seen: bits 0..15 are [gateway] keys (table index), then these. */
enum {
	SEEN_OPEN_TCP = 1U << 16,
	SEEN_OPEN_UDP = 1U << 17,
	SEEN_SEC_GATEWAY = 1U << 24,
	SEEN_SEC_OPEN = 1U << 25,
};

struct key {
	const char *name;
	int (*set)(struct config_ctx *ctx, const char *key, const char *v);
	unsigned int bit;
};

/* Keeps the first error only: later ones are often knock-on effects of it. */
__attribute__((format(printf, 3, 4))) static int fail(struct config_ctx *ctx, unsigned int line,
						      const char *fmt, ...)
{
	va_list ap;

	if (!ctx->failed) {
		va_start(ap, fmt);
		vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
		va_end(ap);
		ctx->err_line = line;
		ctx->failed = 1;
	}
	return -EINVAL;
}

/* A value fit for a message: at most QUOTE_MAX bytes, control characters as '?'. */
static const char *quote(const char *s, char *buf)
{
	size_t i;

	for (i = 0; i < QUOTE_MAX && s[i]; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (s[i])
		memcpy(buf + i, "...", 4);
	else
		buf[i] = '\0';
	return buf;
}

/* Gateway and knock names become pin directories and JSON strings. */
static bool valid_name(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= CG_NAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") ==
	       len;
}

/* The kernel's dev_valid_name(), and no control characters. */
static bool valid_ifname(const char *s)
{
	size_t i, len = strlen(s);

	if (len == 0 || len >= IF_NAMESIZE || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f || s[i] == '/' || s[i] == ':')
			return false;
	return true;
}

static int set_duration(struct config_ctx *ctx, const char *key, const char *v, uint64_t min,
			uint64_t max, const char *range, uint64_t *out)
{
	char q[QBUF];
	int err;

	err = parse_duration(v, min, max, out);
	if (err == -ERANGE)
		return fail(ctx, ctx->line, "[%s] %s: \"%s\" is out of range (%s)", ctx->section,
			    key, quote(v, q), range);
	if (err)
		return fail(ctx, ctx->line,
			    "[%s] %s: \"%s\" is not a duration (a number with s, m or h)",
			    ctx->section, key, quote(v, q));
	return 0;
}

static int set_iface(struct config_ctx *ctx, const char *key, const char *v)
{
	char q[QBUF];

	if (!valid_ifname(v))
		return fail(ctx, ctx->line,
			    "[gateway] %s: \"%s\" is not an interface name (1..15 characters, no "
			    "space, \"/\" or \":\")",
			    key, quote(v, q));
	strcpy(ctx->cfg->iface, v);
	return 0;
}

static int set_name(struct config_ctx *ctx, const char *key, const char *v)
{
	char q[QBUF];

	if (!valid_name(v))
		return fail(ctx, ctx->line,
			    "[gateway] %s: \"%s\" is not a name (1..63 of A-Z a-z 0-9 _ . -)", key,
			    quote(v, q));
	strcpy(ctx->cfg->name, v);
	return 0;
}

static int set_api(struct config_ctx *ctx, const char *key, const char *v)
{
	struct api_endpoint ep;
	char why[CG_ERR_MAX], q[QBUF];

	if (strlen(v) >= sizeof(ctx->cfg->api))
		return fail(ctx, ctx->line, "[gateway] %s: \"%s\" is too long", key, quote(v, q));
	if (api_endpoint_parse(v, &ep, why, sizeof(why)))
		return fail(ctx, ctx->line, "[gateway] %s: %s", key, why);
	strcpy(ctx->cfg->api, v);
	return 0;
}

static int set_state_dir(struct config_ctx *ctx, const char *key, const char *v)
{
	char q[QBUF];

	if (v[0] != '/')
		return fail(ctx, ctx->line, "[gateway] %s: \"%s\" is not an absolute path", key,
			    quote(v, q));
	if (strlen(v) >= sizeof(ctx->cfg->state_dir))
		return fail(ctx, ctx->line, "[gateway] %s: \"%s\" is longer than %zu characters",
			    key, quote(v, q), sizeof(ctx->cfg->state_dir) - 1);
	strcpy(ctx->cfg->state_dir, v);
	return 0;
}

static int set_default(struct config_ctx *ctx, const char *key, const char *v)
{
	char q[QBUF];

	if (!strcmp(v, "drop"))
		ctx->cfg->default_action = GATE_DEFAULT_DROP;
	else if (!strcmp(v, "pass"))
		ctx->cfg->default_action = GATE_DEFAULT_PASS;
	else
		return fail(ctx, ctx->line, "[gateway] %s: \"%s\" is not drop or pass", key,
			    quote(v, q));
	return 0;
}

static int set_xdp_mode(struct config_ctx *ctx, const char *key, const char *v)
{
	char q[QBUF];

	if (!strcmp(v, "auto"))
		ctx->cfg->xdp_mode = CG_XDP_AUTO;
	else if (!strcmp(v, "native"))
		ctx->cfg->xdp_mode = CG_XDP_NATIVE;
	else if (!strcmp(v, "generic"))
		ctx->cfg->xdp_mode = CG_XDP_GENERIC;
	else
		return fail(ctx, ctx->line, "[gateway] %s: \"%s\" is not auto, native or generic",
			    key, quote(v, q));
	return 0;
}

static int set_flow_timeout(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_duration(ctx, key, v, SEC(1), SEC(24 * 3600), "1s..24h",
			    &ctx->cfg->flow_timeout_ns);
}

static int set_open(struct config_ctx *ctx, const char *key, const char *v, uint8_t proto)
{
	struct gw_config *cfg = ctx->cfg;
	const char *why = "";
	char q[QBUF];
	int err;

	err = port_list_parse(v, proto, cfg->open, CG_OPEN_MAX, &cfg->nopen, &why);
	if (err == -E2BIG)
		return fail(ctx, ctx->line, "[open] %s: \"%s\": more than %d open ports in all",
			    key, quote(v, q), CG_OPEN_MAX);
	if (err)
		return fail(ctx, ctx->line, "[open] %s: \"%s\": %s", key, quote(v, q), why);
	return 0;
}

static int set_open_tcp(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_open(ctx, key, v, IPPROTO_TCP);
}

static int set_open_udp(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_open(ctx, key, v, IPPROTO_UDP);
}

static struct knock_cfg *cur_knock(struct config_ctx *ctx)
{
	return &ctx->cfg->knocks[ctx->knock];
}

static int set_ports(struct config_ctx *ctx, const char *key, const char *v, struct cg_port *out,
		     uint32_t *n, size_t max, const char *what)
{
	const char *why = "";
	char q[QBUF];
	size_t cnt = 0;
	int err;

	err = port_seq_parse(v, out, max, &cnt, &why);
	if (err == -E2BIG)
		return fail(ctx, ctx->line, "[%s] %s: \"%s\": more than %zu %s", ctx->section, key,
			    quote(v, q), max, what);
	if (err)
		return fail(ctx, ctx->line, "[%s] %s: \"%s\": %s", ctx->section, key, quote(v, q),
			    why);
	*n = (uint32_t)cnt;
	return 0;
}

static int set_sequence(struct config_ctx *ctx, const char *key, const char *v)
{
	struct knock_profile *p = &cur_knock(ctx)->prof;

	ctx->seq_line[ctx->knock] = ctx->line;
	return set_ports(ctx, key, v, p->steps, &p->nsteps, CG_KNOCK_MAX_STEPS, "steps");
}

static int set_step_timeout(struct config_ctx *ctx, const char *key, const char *v)
{
	uint64_t ns;
	int err;

	err = set_duration(ctx, key, v, SEC(1), SEC(3600), "1s..1h", &ns);
	if (!err)
		cur_knock(ctx)->prof.step_timeout_ns = ns;
	return err;
}

static int set_targets(struct config_ctx *ctx, const char *key, const char *v)
{
	struct knock_profile *p = &cur_knock(ctx)->prof;
	char q[QBUF], port[16];
	uint32_t i, j;
	int err;

	err = set_ports(ctx, key, v, p->targets, &p->ntargets, CG_KNOCK_MAX_TARGETS, "targets");
	if (err)
		return err;
	for (i = 0; i < p->ntargets; i++)
		for (j = 0; j < i; j++)
			if (p->targets[i].proto == p->targets[j].proto &&
			    p->targets[i].port == p->targets[j].port) {
				port_format(&p->targets[i], port, sizeof(port));
				p->ntargets = 0;
				return fail(ctx, ctx->line, "[%s] %s: \"%s\": %s listed twice",
					    ctx->section, key, quote(v, q), port);
			}
	return 0;
}

static int set_open_for(struct config_ctx *ctx, const char *key, const char *v)
{
	uint64_t ns;
	int err;

	err = set_duration(ctx, key, v, SEC(1), SEC(24 * 3600), "1s..24h", &ns);
	if (!err)
		cur_knock(ctx)->prof.open_for_ns = ns;
	return err;
}

static const struct key gateway_keys[] = {
	{ "interface", set_iface, 1U << 0 },
	{ "name", set_name, 1U << 1 },
	{ "api", set_api, 1U << 2 },
	{ "state_dir", set_state_dir, 1U << 3 },
	{ "default", set_default, 1U << 4 },
	{ "xdp_mode", set_xdp_mode, 1U << 5 },
	{ "flow_timeout", set_flow_timeout, 1U << 6 },
};

static const struct key open_keys[] = {
	{ "tcp", set_open_tcp, SEEN_OPEN_TCP },
	{ "udp", set_open_udp, SEEN_OPEN_UDP },
};

static const struct key knock_keys[] = {
	{ "sequence", set_sequence, 1U << 0 },
	{ "step_timeout", set_step_timeout, 1U << 1 },
	{ "open", set_targets, 1U << 2 },
	{ "open_for", set_open_for, 1U << 3 },
};

void config_init(struct config_ctx *ctx, struct gw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->api, sizeof(cfg->api), "127.0.0.1:7070");
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "/var/lib/capgate");
	cfg->default_action = GATE_DEFAULT_DROP;
	cfg->xdp_mode = CG_XDP_AUTO;
	cfg->flow_timeout_ns = SEC(5 * 60);

	memset(ctx, 0, sizeof(*ctx));
	ctx->cfg = cfg;
	ctx->knock = -1;
}

static int knock_section(struct config_ctx *ctx, const char *section, const char *name)
{
	struct gw_config *cfg = ctx->cfg;
	struct knock_cfg *k;
	char q[QBUF], qn[QBUF];
	size_t i;

	if (!valid_name(name))
		return fail(ctx, ctx->line,
			    "[%s]: \"%s\" is not a knock name (1..63 of A-Z a-z 0-9 _ . -)",
			    quote(section, q), quote(name, qn));
	for (i = 0; i < cfg->nknocks; i++)
		if (!strcmp(cfg->knocks[i].name, name))
			return fail(ctx, ctx->line, "[knock %s] given twice", name);
	if (cfg->nknocks == CG_KNOCK_MAX_PROFILES)
		return fail(ctx, ctx->line, "[knock %s]: more than %d knock sections", name,
			    CG_KNOCK_MAX_PROFILES);
	k = &cfg->knocks[cfg->nknocks];
	memset(k, 0, sizeof(*k));
	strcpy(k->name, name);
	k->prof.step_timeout_ns = SEC(5);
	k->prof.open_for_ns = SEC(30);
	ctx->knock_line[cfg->nknocks] = ctx->line;
	ctx->knock = (int)cfg->nknocks++;
	return 0;
}

int config_section(struct config_ctx *ctx, const char *section)
{
	char q[QBUF];

	snprintf(ctx->section, sizeof(ctx->section), "%s", section);
	ctx->knock = -1;
	ctx->knock_seen = 0;
	if (!strcmp(section, "gateway")) {
		if (ctx->seen & SEEN_SEC_GATEWAY)
			return fail(ctx, ctx->line, "[gateway] given twice");
		ctx->seen |= SEEN_SEC_GATEWAY;
		ctx->gw_line = ctx->line;
		return 0;
	}
	if (!strcmp(section, "open")) {
		if (ctx->seen & SEEN_SEC_OPEN)
			return fail(ctx, ctx->line, "[open] given twice");
		ctx->seen |= SEEN_SEC_OPEN;
		return 0;
	}
	if (!strncmp(section, "knock", 5) && (section[5] == '\0' || section[5] == ' '))
		return knock_section(ctx, section, section[5] ? section + 6 : "");
	return fail(ctx, ctx->line, "unknown section [%s]", quote(section, q));
}

static const struct key *find_key(const struct key *t, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(t[i].name, name))
			return &t[i];
	return NULL;
}

int config_line(struct config_ctx *ctx, const char *section, const char *key, const char *value)
{
	const struct key *k = NULL;
	unsigned int *seen = &ctx->seen;
	char qk[QBUF], qs[QBUF];
	int err;

	if (strcmp(section, ctx->section)) {
		err = config_section(ctx, section);
		if (err)
			return err;
	}
	if (!section[0])
		return fail(ctx, ctx->line, "key \"%s\" is outside any section", quote(key, qk));
	if (!strcmp(section, "gateway")) {
		k = find_key(gateway_keys, sizeof(gateway_keys) / sizeof(gateway_keys[0]), key);
	} else if (!strcmp(section, "open")) {
		k = find_key(open_keys, sizeof(open_keys) / sizeof(open_keys[0]), key);
	} else if (ctx->knock >= 0) {
		k = find_key(knock_keys, sizeof(knock_keys) / sizeof(knock_keys[0]), key);
		seen = &ctx->knock_seen;
	} else {
		/* A section that was refused: its error is already recorded. */
		return fail(ctx, ctx->line, "unknown section [%s]", quote(section, qs));
	}
	if (!k)
		return fail(ctx, ctx->line, "unknown key \"%s\" in [%s]", quote(key, qk),
			    quote(section, qs));
	if (*seen & k->bit)
		return fail(ctx, ctx->line, "[%s] %s given twice", ctx->section, k->name);
	*seen |= k->bit;
	if (!value[0])
		return fail(ctx, ctx->line, "[%s] %s: empty value", ctx->section, k->name);
	return k->set(ctx, k->name, value);
}

int config_finish(struct config_ctx *ctx)
{
	struct gw_config *cfg = ctx->cfg;
	const struct knock_profile *p;
	char port[16];
	size_t i, j, o;

	if (ctx->failed)
		return -EINVAL;
	if (!cfg->iface[0])
		return fail(ctx, ctx->gw_line, "[gateway] interface is required");
	if (!cfg->name[0])
		strcpy(cfg->name, cfg->iface);
	for (i = 0; i < cfg->nknocks; i++) {
		p = &cfg->knocks[i].prof;
		if (!p->nsteps)
			return fail(ctx, ctx->knock_line[i], "[knock %s] sequence is required",
				    cfg->knocks[i].name);
		if (!p->ntargets)
			return fail(ctx, ctx->knock_line[i], "[knock %s] open is required",
				    cfg->knocks[i].name);
		/* Open services pass before the knock stage sees them. */
		for (j = 0; j < p->nsteps; j++)
			for (o = 0; o < cfg->nopen; o++)
				if (p->steps[j].proto == cfg->open[o].proto &&
				    p->steps[j].port == cfg->open[o].port) {
					port_format(&p->steps[j], port, sizeof(port));
					return fail(ctx, ctx->seq_line[i],
						    "[knock %s] sequence: %s is an open service, "
						    "so it can never be a knock step",
						    cfg->knocks[i].name, port);
				}
	}
	return 0;
}

/* inih's ini_find_chars_or_comment: an inline ';' must follow a space. */
static const char *find_chars_or_comment(const char *s, const char *chars)
{
	bool was_space = false;

	while (*s && !strchr(chars, *s) && !(was_space && *s == ';')) {
		was_space = *s == ' ' || (*s >= '\t' && *s <= '\r');
		s++;
	}
	return s;
}

static bool is_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/*
 * Feeds inih one line at a time and looks at each line first: that gives the
 * line number of every config_line call (Debian's inih passes none), the
 * whole section name (inih keeps 50 bytes), and empty or repeated sections
 * (inih only reports keys).
 */
struct reader {
	const char *p;
	struct config_ctx *ctx;
	bool after_key; /* inih reads an indented line after a key as its continuation */
};

static void trim_copy(char *dst, size_t len, const char *s)
{
	size_t n = strlen(s);

	while (n && is_space(s[n - 1]))
		n--;
	if (n >= len)
		n = len - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static void scan_line(struct reader *r, const char *line)
{
	struct config_ctx *ctx = r->ctx;
	const char *s = line, *e, *after;
	char name[INI_MAX_LINE], text[INI_MAX_LINE], q[QBUF];
	size_t n;

	if (ctx->line == 1 && !strncmp(s, "\xEF\xBB\xBF", 3))
		s += 3;
	while (is_space(*s))
		s++;
	if (*s == '\0' || *s == ';' || *s == '#')
		return;
	trim_copy(text, sizeof(text), s);
	if (r->after_key && s > line) {
		fail(ctx, ctx->line, "indented line (a continuation, not supported): \"%s\"",
		     quote(text, q));
		return;
	}
	if (*s != '[') {
		e = find_chars_or_comment(s, "=:");
		if (*e == '=' || *e == ':')
			r->after_key = true;
		return;
	}
	r->after_key = false;
	e = find_chars_or_comment(s + 1, "]");
	if (*e != ']') {
		fail(ctx, ctx->line, "no closing \"]\": \"%s\"", quote(text, q));
		return;
	}
	n = (size_t)(e - (s + 1));
	memcpy(name, s + 1, n);
	name[n] = '\0';
	for (after = e + 1; is_space(*after); after++)
		;
	if (*after && *after != ';')
		fail(ctx, ctx->line, "text after the section header: \"%s\"", quote(text, q));
	config_section(ctx, name);
}

static char *read_line(char *str, int num, void *stream)
{
	struct reader *r = stream;
	size_t len, n;

	if (*r->p == '\0' || num < 3)
		return NULL;
	len = strcspn(r->p, "\n");
	n = len < (size_t)num - 2 ? len : (size_t)num - 2;
	memcpy(str, r->p, n);
	/* Always a whole line, so inih and we count the same lines. */
	str[n] = '\n';
	str[n + 1] = '\0';
	r->p += len + (r->p[len] == '\n');
	r->ctx->line++;
	if (len > n)
		fail(r->ctx, r->ctx->line, "line longer than %d characters", num - 2);
	scan_line(r, str);
	return str;
}

static int handle(void *user, const char *section, const char *name, const char *value)
{
	struct config_ctx *ctx = user;

	/* The reader has the whole section name; inih's copy may be cut short. */
	(void)section;
	return config_line(ctx, ctx->section, name, value) == 0;
}

/* Line number n (from 1) of text, trimmed, for a syntax error. */
static void nth_line(const char *text, unsigned int n, char *buf, size_t len)
{
	char line[INI_MAX_LINE];
	size_t l;

	while (--n && (text = strchr(text, '\n')))
		text++;
	if (!text) {
		buf[0] = '\0';
		return;
	}
	l = strcspn(text, "\n");
	if (l >= sizeof(line))
		l = sizeof(line) - 1;
	memcpy(line, text, l);
	line[l] = '\0';
	for (text = line; is_space(*text); text++)
		;
	trim_copy(buf, len, text);
}

int config_parse_string(const char *text, const char *name, struct gw_config *cfg, char *err,
			size_t errlen)
{
	struct gw_config tmp;
	struct config_ctx ctx;
	struct reader r = { 0 };
	char line[INI_MAX_LINE], q[QBUF];
	int bad;

	config_init(&ctx, &tmp);
	r.p = text;
	r.ctx = &ctx;
	bad = ini_parse_stream(read_line, &r, handle, &ctx);
	if (bad < 0) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	/* inih reports the first line it could not read or the handler refused. */
	if (bad > 0 && (!ctx.failed || (unsigned int)bad < ctx.err_line)) {
		nth_line(text, (unsigned int)bad, line, sizeof(line));
		ctx.failed = 0;
		fail(&ctx, (unsigned int)bad, "expected \"key = value\" or \"[section]\": \"%s\"",
		     quote(line, q));
	}
	if (!ctx.failed)
		config_finish(&ctx);
	if (ctx.failed) {
		if (ctx.err_line)
			snprintf(err, errlen, "%s:%u: %s", name, ctx.err_line, ctx.err);
		else
			snprintf(err, errlen, "%s: %s", name, ctx.err);
		return -EINVAL;
	}
	*cfg = tmp;
	return 0;
}

int config_load(const char *path, struct gw_config *cfg, char *err, size_t errlen)
{
	FILE *f = NULL;
	char *text = NULL;
	size_t len;
	int ret;

	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		goto out;
	}
	text = malloc(CONFIG_FILE_MAX + 1);
	if (!text) {
		ret = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	errno = 0;
	len = fread(text, 1, CONFIG_FILE_MAX + 1, f);
	if (ferror(f)) {
		ret = errno ? -errno : -EIO;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		goto out;
	}
	if (len > CONFIG_FILE_MAX) {
		ret = -EFBIG;
		snprintf(err, errlen, "%s: larger than %d bytes", path, CONFIG_FILE_MAX);
		goto out;
	}
	text[len] = '\0';
	if (memchr(text, '\0', len)) {
		ret = -EINVAL;
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		goto out;
	}
	ret = config_parse_string(text, path, cfg, err, errlen);
out:
	free(text);
	if (f)
		fclose(f);
	return ret;
}
