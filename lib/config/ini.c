// SPDX-License-Identifier: GPL-2.0
/* The INI reader every config kind shares: inih fed line by line, errors, value checks, files. */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "lib/base/name.h"
#include "lib/config/ini.h"
#include "lib/config/kind.h"
#include "lib/tunnel/path.h"

/* config_read_file refuses bigger files: a config is a few hundred bytes. */
#define CONFIG_FILE_MAX (1 << 20)

#define IFNAME_RULE "1..15 characters, no space, \"/\" or \":\""

int config_fail(struct config_ctx *ctx, unsigned int line, const char *fmt, ...)
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

const char *config_quote(const char *s, char *buf)
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

int config_set_duration(struct config_ctx *ctx, const char *key, const char *v, uint64_t min,
			uint64_t max, const char *range, uint64_t *out)
{
	char q[QBUF];
	int err;

	err = parse_duration(v, min, max, out);
	if (err == -ERANGE)
		return config_fail(ctx, ctx->line, "[%s] %s: \"%s\" is out of range (%s)",
				   ctx->section, key, config_quote(v, q), range);
	if (err)
		return config_fail(ctx, ctx->line,
				   "[%s] %s: \"%s\" is not a duration (a number with s, m or h)",
				   ctx->section, key, config_quote(v, q));
	return 0;
}

int config_set_port(struct config_ctx *ctx, const char *key, const char *v, uint16_t *out)
{
	char q[QBUF];
	uint32_t port;
	int err;

	err = parse_u32(v, 1, 65535, &port);
	if (err == -ERANGE)
		return config_fail(ctx, ctx->line, "[%s] %s: \"%s\" is out of range (1..65535)",
				   ctx->section, key, config_quote(v, q));
	if (err)
		return config_fail(ctx, ctx->line, "[%s] %s: \"%s\" is not a port number",
				   ctx->section, key, config_quote(v, q));
	*out = (uint16_t)port;
	return 0;
}

int config_set_path(struct config_ctx *ctx, const char *key, const char *v, char *out)
{
	char q[QBUF];

	if (strlen(v) >= CG_PATH_MAX)
		return config_fail(ctx, ctx->line, "[%s] %s: \"%s\" is longer than %d characters",
				   ctx->section, key, config_quote(v, q), CG_PATH_MAX - 1);
	strcpy(out, v);
	return 0;
}

int config_set_bool(struct config_ctx *ctx, const char *key, const char *v, bool *out)
{
	char q[QBUF];

	if (!strcmp(v, "yes"))
		*out = true;
	else if (!strcmp(v, "no"))
		*out = false;
	else
		return config_fail(ctx, ctx->line, "[%s] %s: \"%s\" is not yes or no", ctx->section,
				   key, config_quote(v, q));
	return 0;
}

int config_set_ifname(struct config_ctx *ctx, const char *key, const char *v, char *out)
{
	char q[QBUF];

	if (!valid_ifname(v))
		return config_fail(ctx, ctx->line, "[%s] %s: \"%s\" is not an interface name (%s)",
				   ctx->section, key, config_quote(v, q), IFNAME_RULE);
	strcpy(out, v);
	return 0;
}

int config_set_trust_domain(struct config_ctx *ctx, const char *key, const char *v, char *out)
{
	char q[QBUF];

	if (!trust_domain_valid(v))
		return config_fail(ctx, ctx->line,
				   "[%s] %s: \"%s\" is not a trust domain (" TRUST_DOMAIN_RULE ")",
				   ctx->section, key, config_quote(v, q));
	strcpy(out, v);
	return 0;
}

int config_set_workers(struct config_ctx *ctx, const char *key, const char *v, unsigned int *out)
{
	char q[QBUF];
	uint32_t n;

	if (parse_u32(v, 0, PATH_WORKERS_MAX, &n))
		return config_fail(
			ctx, ctx->line,
			"[%s] %s: \"%s\" is not a worker count (0 = one per CPU but one, "
			"or 1..%d)",
			ctx->section, key, config_quote(v, q), PATH_WORKERS_MAX);
	*out = n;
	return 0;
}

int config_set_fast_path(struct config_ctx *ctx, const char *key, const char *v, unsigned int *out)
{
	char q[QBUF];

	if (path_levers_parse(v, out))
		return config_fail(ctx, ctx->line,
				   "[%s] %s: \"%s\" is not \"all\", \"none\" or a list of mmsg, "
				   "udp_gso, udp_gro, tun_offload",
				   ctx->section, key, config_quote(v, q));
	return 0;
}

int config_check_ports(struct config_ctx *ctx, const char *section, const uint16_t port[3],
		       const int key[3], const struct config_key *t, const unsigned int *key_line)
{
	static const int pairs[3][2] = { { 0, 1 }, { 0, 2 }, { 1, 2 } };
	int i, a, b;

	for (i = 0; i < 3; i++) {
		a = pairs[i][0];
		b = pairs[i][1];
		if (port[a] == port[b])
			return config_fail(
				ctx, config_later(key_line[key[a]], key_line[key[b]]),
				"[%s] %s and %s are both %u: the three ports must differ", section,
				t[key[a]].name, t[key[b]].name, port[a]);
	}
	return 0;
}

void config_dir_of(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(out, len, ".");
	else if (slash == path)
		snprintf(out, len, "/");
	else
		snprintf(out, len, "%.*s", (int)(slash - path), path);
}

static const struct config_key *find_key(const struct config_key *t, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(t[i].name, name))
			return &t[i];
	return NULL;
}

int config_section(struct config_ctx *ctx, const char *section)
{
	/* No section a kind accepts is this long: a longer one is cut here, and refused. */
	size_t n = strnlen(section, sizeof(ctx->section) - 1);

	memcpy(ctx->section, section, n);
	ctx->section[n] = '\0';
	ctx->sub_seen = 0;
	return ctx->kind->section(ctx, section);
}

int config_line(struct config_ctx *ctx, const char *section, const char *key, const char *value)
{
	const struct config_key *t, *k;
	unsigned int *seen = &ctx->sub_seen, *lines = NULL;
	char qk[QBUF], qs[QBUF];
	size_t n = 0;
	int err;

	if (strcmp(section, ctx->section)) {
		err = config_section(ctx, section);
		if (err)
			return err;
	}
	if (!section[0])
		return config_fail(ctx, ctx->line, "key \"%s\" is outside any section",
				   config_quote(key, qk));
	t = ctx->kind->keys(ctx, &n, &seen, &lines);
	/* A section that was refused: its error is already recorded. */
	if (!t)
		return config_fail(ctx, ctx->line, "unknown section [%s]",
				   config_quote(section, qs));
	k = find_key(t, n, key);
	if (!k)
		return config_fail(ctx, ctx->line, "unknown key \"%s\" in [%s]",
				   config_quote(key, qk), config_quote(section, qs));
	if (k->bit && (*seen & k->bit))
		return config_fail(ctx, ctx->line, "[%s] %s given twice", ctx->section, k->name);
	*seen |= k->bit;
	if (lines)
		lines[k - t] = ctx->line;
	if (!value[0])
		return config_fail(ctx, ctx->line, "[%s] %s: empty value", ctx->section, k->name);
	return k->set(ctx, k->name, value);
}

int config_finish(struct config_ctx *ctx)
{
	if (ctx->failed)
		return -EINVAL;
	return ctx->kind->finish(ctx);
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
		config_fail(ctx, ctx->line, "indented line (a continuation, not supported): \"%s\"",
			    config_quote(text, q));
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
		config_fail(ctx, ctx->line, "no closing \"]\": \"%s\"", config_quote(text, q));
		return;
	}
	n = (size_t)(e - (s + 1));
	memcpy(name, s + 1, n);
	name[n] = '\0';
	for (after = e + 1; is_space(*after); after++)
		;
	if (*after && *after != ';')
		config_fail(ctx, ctx->line, "text after the section header: \"%s\"",
			    config_quote(text, q));
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
		config_fail(r->ctx, r->ctx->line, "line longer than %d characters", num - 2);
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

int config_parse_text(struct config_ctx *ctx, const char *text, const char *name, char *err,
		      size_t errlen)
{
	struct reader r = { 0 };
	char line[INI_MAX_LINE], q[QBUF];
	int bad;

	r.p = text;
	r.ctx = ctx;
	bad = ini_parse_stream(read_line, &r, handle, ctx);
	if (bad < 0) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	/* inih reports the first line it could not read or the handler refused. */
	if (bad > 0 && (!ctx->failed || (unsigned int)bad < ctx->err_line)) {
		nth_line(text, (unsigned int)bad, line, sizeof(line));
		ctx->failed = 0;
		config_fail(ctx, (unsigned int)bad,
			    "expected \"key = value\" or \"[section]\": \"%s\"",
			    config_quote(line, q));
	}
	if (!ctx->failed)
		config_finish(ctx);
	if (ctx->failed) {
		if (ctx->err_line)
			snprintf(err, errlen, "%s:%u: %s", name, ctx->err_line, ctx->err);
		else
			snprintf(err, errlen, "%s: %s", name, ctx->err);
		return -EINVAL;
	}
	return 0;
}

int config_read_file(const char *path, char **text, char *err, size_t errlen)
{
	FILE *f = NULL;
	char *buf = NULL;
	size_t len;
	int ret;

	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		goto out;
	}
	buf = malloc(CONFIG_FILE_MAX + 1);
	if (!buf) {
		ret = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	errno = 0;
	len = fread(buf, 1, CONFIG_FILE_MAX + 1, f);
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
	buf[len] = '\0';
	if (memchr(buf, '\0', len)) {
		ret = -EINVAL;
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		goto out;
	}
	*text = buf;
	buf = NULL;
	ret = 0;
out:
	free(buf);
	if (f)
		fclose(f);
	return ret;
}

int config_file_dir(const char *path, char *dir, size_t len, char *err, size_t errlen)
{
	char abs[PATH_MAX];
	int e;

	if (!realpath(path, abs)) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	config_dir_of(abs, dir, len);
	return 0;
}

int config_resolve(const char *file, const char *dir, const char *section, const char *key, char *p,
		   char *err, size_t errlen)
{
	char buf[CG_PATH_MAX], q[QBUF];
	int n;

	if (!p[0] || p[0] == '/')
		return 0;
	if (!strcmp(p, "."))
		n = snprintf(buf, sizeof(buf), "%s", dir);
	else
		n = snprintf(buf, sizeof(buf), "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", p);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		snprintf(err, errlen, "%s: [%s] %s: \"%s\" in %s is longer than %d characters",
			 file, section, key, config_quote(p, q), dir, CG_PATH_MAX - 1);
		return -EINVAL;
	}
	strcpy(p, buf);
	return 0;
}
