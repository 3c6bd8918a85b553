// SPDX-License-Identifier: GPL-2.0
/* Gateway and client configs: INI text (inih) into structs, every key checked; I/O in *_load. */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ini.h>

#include "lib/base/endpoint.h"
#include "lib/base/name.h"
#include "lib/base/parse_num.h"
#include "lib/base/portspec.h"
#include "lib/config/gateway.h"
#include "lib/policy/policy.h"

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
	SEEN_SEC_AUTH = 1U << 26,
	SEEN_SEC_CLIENT = 1U << 27,
};

/* [auth] keys: index in auth_keys[] and ctx->key_line[]. */
enum {
	AK_PORT,
	AK_SPA_PORT,
	AK_DATA_PORT,
	AK_CA,
	AK_CERT,
	AK_KEY,
	AK_DEVICES,
	AK_POOL,
	AK_SESSION_TTL,
	AK_KEEPALIVE,
	AK_DEAD_AFTER,
	AK_SPA_OPEN,
	AK_TUN,
};

#define IFNAME_RULE "1..15 characters, no space, \"/\" or \":\""
/* An item of a list is copied into a buffer this big; longer ones are refused. */
#define ITEM_MAX 128

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
		return fail(ctx, ctx->line, "[gateway] %s: \"%s\" is not an interface name (%s)",
			    key, quote(v, q), IFNAME_RULE);
	strcpy(ctx->cfg->iface, v);
	return 0;
}

static int set_name(struct config_ctx *ctx, const char *key, const char *v)
{
	char q[QBUF];

	if (!name_valid(v))
		return fail(ctx, ctx->line, "[gateway] %s: \"%s\" is not a name (" NAME_RULE ")",
			    key, quote(v, q));
	strcpy(ctx->cfg->name, v);
	return 0;
}

static int set_api(struct config_ctx *ctx, const char *key, const char *v)
{
	struct endpoint ep;
	char why[CG_ERR_MAX], q[QBUF];

	if (strlen(v) >= sizeof(ctx->cfg->api))
		return fail(ctx, ctx->line, "[gateway] %s: \"%s\" is too long", key, quote(v, q));
	if (endpoint_parse(v, &ep, why, sizeof(why)))
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

/* The item as a string; one longer than the buffer keeps its head and fails every check. */
static void item_copy(char *buf, const char *item, size_t len)
{
	if (len >= ITEM_MAX)
		len = ITEM_MAX - 1;
	memcpy(buf, item, len);
	buf[len] = '\0';
}

/*
 * A list of names ("dev1 dev2", "web, echo"): each valid, none twice, at most
 * max. Writes out[0..*n).
 */
static int set_names(struct config_ctx *ctx, const char *key, const char *v,
		     char (*out)[CG_NAME_MAX], size_t max, size_t *n, const char *what)
{
	const char *p = v, *item = NULL, *why = "";
	char name[ITEM_MAX], q[QBUF];
	size_t i, len = 0, k = 0;
	int r;

	while ((r = list_next(&p, p == v, &item, &len, &why)) == 1) {
		item_copy(name, item, len);
		if (len >= ITEM_MAX || !name_valid(name))
			return fail(ctx, ctx->line,
				    "[%s] %s: \"%s\" is not a %s name (" NAME_RULE ")",
				    ctx->section, key, quote(name, q), what);
		for (i = 0; i < k; i++)
			if (!strcmp(out[i], name))
				return fail(ctx, ctx->line, "[%s] %s: %s listed twice",
					    ctx->section, key, name);
		if (k == max)
			return fail(ctx, ctx->line, "[%s] %s: more than %zu %ss", ctx->section, key,
				    max, what);
		strcpy(out[k++], name);
	}
	if (r < 0)
		return fail(ctx, ctx->line, "[%s] %s: \"%s\": %s", ctx->section, key, quote(v, q),
			    why);
	*n = k;
	return 0;
}

static int set_port16(struct config_ctx *ctx, const char *key, const char *v, uint16_t *out)
{
	char q[QBUF];
	uint32_t port;
	int err;

	err = parse_u32(v, 1, 65535, &port);
	if (err == -ERANGE)
		return fail(ctx, ctx->line, "[%s] %s: \"%s\" is out of range (1..65535)",
			    ctx->section, key, quote(v, q));
	if (err)
		return fail(ctx, ctx->line, "[%s] %s: \"%s\" is not a port number", ctx->section,
			    key, quote(v, q));
	*out = (uint16_t)port;
	return 0;
}

static int set_path(struct config_ctx *ctx, const char *key, const char *v, char *out)
{
	char q[QBUF];

	if (strlen(v) >= CG_PATH_MAX)
		return fail(ctx, ctx->line, "[%s] %s: \"%s\" is longer than %d characters",
			    ctx->section, key, quote(v, q), CG_PATH_MAX - 1);
	strcpy(out, v);
	return 0;
}

static int set_tun(struct config_ctx *ctx, const char *key, const char *v, char *out)
{
	char q[QBUF];

	if (!valid_ifname(v))
		return fail(ctx, ctx->line, "[%s] %s: \"%s\" is not an interface name (%s)",
			    ctx->section, key, quote(v, q), IFNAME_RULE);
	strcpy(out, v);
	return 0;
}

/* ---- [auth] ---------------------------------------------------------------- */

static int set_auth_port(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_port16(ctx, key, v, &ctx->cfg->auth.port);
}

static int set_auth_spa_port(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_port16(ctx, key, v, &ctx->cfg->auth.spa_port);
}

static int set_auth_data_port(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_port16(ctx, key, v, &ctx->cfg->auth.data_port);
}

static int set_auth_ca(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_path(ctx, key, v, ctx->cfg->auth.ca);
}

static int set_auth_cert(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_path(ctx, key, v, ctx->cfg->auth.cert);
}

static int set_auth_key(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_path(ctx, key, v, ctx->cfg->auth.key);
}

static int set_auth_devices(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_path(ctx, key, v, ctx->cfg->auth.devices);
}

static int set_auth_pool(struct config_ctx *ctx, const char *key, const char *v)
{
	const char *why = "";
	struct cidr c;
	char q[QBUF];

	if (cidr_parse(v, &c, &why))
		return fail(ctx, ctx->line, "[auth] %s: \"%s\": %s", key, quote(v, q), why);
	if (c.family != AF_INET)
		return fail(ctx, ctx->line, "[auth] %s: \"%s\" is not an IPv4 prefix", key,
			    quote(v, q));
	if (c.plen < 8 || c.plen > 30)
		return fail(ctx, ctx->line, "[auth] %s: \"%s\": the prefix length must be 8..30",
			    key, quote(v, q));
	ctx->cfg->auth.pool = c;
	return 0;
}

static int set_auth_session_ttl(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_duration(ctx, key, v, SEC(30), SEC(24 * 3600), "30s..24h",
			    &ctx->cfg->auth.session_ttl_ns);
}

static int set_auth_keepalive(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_duration(ctx, key, v, SEC(1), SEC(600), "1s..10m", &ctx->cfg->auth.keepalive_ns);
}

static int set_auth_dead_after(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_duration(ctx, key, v, SEC(2), SEC(3600), "2s..1h",
			    &ctx->cfg->auth.dead_after_ns);
}

static int set_auth_spa_open(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_duration(ctx, key, v, SEC(1), SEC(3600), "1s..1h", &ctx->cfg->auth.spa_open_ns);
}

static int set_auth_tun(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_tun(ctx, key, v, ctx->cfg->auth.tun);
}

/* ---- [service NAME] -------------------------------------------------------- */

static struct service_cfg *cur_service(struct config_ctx *ctx)
{
	return &ctx->cfg->policy.services[ctx->service];
}

static int set_svc_proto(struct config_ctx *ctx, const char *key, const char *v)
{
	char q[QBUF];

	if (!strcmp(v, "tcp"))
		cur_service(ctx)->proto = IPPROTO_TCP;
	else if (!strcmp(v, "udp"))
		cur_service(ctx)->proto = IPPROTO_UDP;
	else if (!strcmp(v, "icmp"))
		cur_service(ctx)->proto = IPPROTO_ICMP;
	else
		return fail(ctx, ctx->line, "[%s] %s: \"%s\" is not tcp, udp or icmp", ctx->section,
			    key, quote(v, q));
	return 0;
}

static int set_svc_address(struct config_ctx *ctx, const char *key, const char *v)
{
	const char *why = "";
	struct cidr c;
	char q[QBUF];

	if (cidr_parse(v, &c, &why))
		return fail(ctx, ctx->line, "[%s] %s: \"%s\": %s", ctx->section, key, quote(v, q),
			    why);
	cur_service(ctx)->addr = c;
	ctx->svc_addr_line[ctx->service] = ctx->line;
	return 0;
}

static void range_format(const struct port_range *r, char *buf, size_t len)
{
	if (r->lo == r->hi)
		snprintf(buf, len, "%u", r->lo);
	else
		snprintf(buf, len, "%u-%u", r->lo, r->hi);
}

/* "80", "8000-8100": one range. 0 or -EINVAL with *why. */
static int range_parse(const char *s, struct port_range *out, const char **why)
{
	char lo_s[ITEM_MAX];
	const char *dash = strchr(s, '-');
	uint32_t lo, hi;
	size_t n;
	int err;

	n = dash ? (size_t)(dash - s) : strlen(s);
	memcpy(lo_s, s, n);
	lo_s[n] = '\0';
	err = parse_u32(lo_s, 1, 65535, &lo);
	if (!err)
		err = dash ? parse_u32(dash + 1, 1, 65535, &hi) : (hi = lo, 0);
	if (err == -ERANGE) {
		*why = "port out of range (1..65535)";
		return -EINVAL;
	}
	if (err) {
		*why = "not a port or a range LO-HI (decimal, no leading zeros)";
		return -EINVAL;
	}
	if (lo > hi) {
		*why = "the range goes from high to low";
		return -EINVAL;
	}
	out->lo = (uint16_t)lo;
	out->hi = (uint16_t)hi;
	return 0;
}

static int set_svc_ports(struct config_ctx *ctx, const char *key, const char *v)
{
	struct service_cfg *svc = cur_service(ctx);
	struct port_range r, out[CG_SERVICE_PORTS_MAX];
	const char *p = v, *item = NULL, *why = "";
	char buf[ITEM_MAX], q[QBUF], a[16], b[16];
	size_t i, len = 0, k = 0;
	int ret;

	ctx->svc_ports_line[ctx->service] = ctx->line;
	while ((ret = list_next(&p, p == v, &item, &len, &why)) == 1) {
		item_copy(buf, item, len);
		if (len >= ITEM_MAX)
			return fail(ctx, ctx->line, "[%s] %s: \"%s\": item too long", ctx->section,
				    key, quote(buf, q));
		if (range_parse(buf, &r, &why))
			return fail(ctx, ctx->line, "[%s] %s: \"%s\": %s", ctx->section, key,
				    quote(buf, q), why);
		for (i = 0; i < k; i++)
			if (r.lo <= out[i].hi && out[i].lo <= r.hi) {
				range_format(&r, a, sizeof(a));
				range_format(&out[i], b, sizeof(b));
				return fail(ctx, ctx->line, "[%s] %s: %s overlaps %s", ctx->section,
					    key, a, b);
			}
		if (k == CG_SERVICE_PORTS_MAX)
			return fail(ctx, ctx->line, "[%s] %s: more than %d port ranges",
				    ctx->section, key, CG_SERVICE_PORTS_MAX);
		out[k++] = r;
	}
	if (ret < 0)
		return fail(ctx, ctx->line, "[%s] %s: \"%s\": %s", ctx->section, key, quote(v, q),
			    why);
	memcpy(svc->ports, out, k * sizeof(out[0]));
	svc->nports = k;
	return 0;
}

/* ---- [allow NAME] ---------------------------------------------------------- */

static struct policy_cfg *cur_policy(struct config_ctx *ctx)
{
	return &ctx->cfg->policy.policies[ctx->policy];
}

static int set_pol_device(struct config_ctx *ctx, const char *key, const char *v)
{
	struct policy_cfg *pol = cur_policy(ctx);

	return set_names(ctx, key, v, pol->devices, CG_POLICY_DEVICES_MAX, &pol->ndevices,
			 "device");
}

static int set_pol_app(struct config_ctx *ctx, const char *key, const char *v)
{
	char q[QBUF];

	if (!name_valid(v))
		return fail(ctx, ctx->line, "[%s] %s: \"%s\" is not an app name (" NAME_RULE ")",
			    ctx->section, key, quote(v, q));
	strcpy(cur_policy(ctx)->app, v);
	return 0;
}

static int set_pol_services(struct config_ctx *ctx, const char *key, const char *v)
{
	ctx->pol_svc_line[ctx->policy] = ctx->line;
	return set_names(ctx, key, v, ctx->pol_svc[ctx->policy], CG_POLICY_SERVICES_MAX,
			 &cur_policy(ctx)->nservices, "service");
}

/* ---- [client] -------------------------------------------------------------- */

static int set_cl_gateway(struct config_ctx *ctx, const char *key, const char *v)
{
	char q[QBUF];

	if (addr_parse_mapped(v, ctx->client->gateway))
		return fail(ctx, ctx->line, "[client] %s: \"%s\" is not an IPv4 or IPv6 address",
			    key, quote(v, q));
	return 0;
}

static int set_cl_port(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_port16(ctx, key, v, &ctx->client->port);
}

static int set_cl_spa_port(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_port16(ctx, key, v, &ctx->client->spa_port);
}

static int set_cl_data_port(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_port16(ctx, key, v, &ctx->client->data_port);
}

static int set_cl_ca(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_path(ctx, key, v, ctx->client->ca);
}

static int set_cl_cert(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_path(ctx, key, v, ctx->client->cert);
}

static int set_cl_key(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_path(ctx, key, v, ctx->client->key);
}

static int set_cl_name(struct config_ctx *ctx, const char *key, const char *v, char *out)
{
	char q[QBUF];

	if (!name_valid(v))
		return fail(ctx, ctx->line, "[client] %s: \"%s\" is not a name (" NAME_RULE ")",
			    key, quote(v, q));
	strcpy(out, v);
	return 0;
}

static int set_cl_app(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_cl_name(ctx, key, v, ctx->client->app);
}

static int set_cl_device(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_cl_name(ctx, key, v, ctx->client->device);
}

static int set_cl_tun(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_tun(ctx, key, v, ctx->client->tun);
}

static int set_cl_retry_max(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_duration(ctx, key, v, SEC(1), SEC(3600), "1s..1h", &ctx->client->retry_max_ns);
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

static const struct key auth_keys[] = {
	[AK_PORT] = { "port", set_auth_port, 1U << AK_PORT },
	[AK_SPA_PORT] = { "spa_port", set_auth_spa_port, 1U << AK_SPA_PORT },
	[AK_DATA_PORT] = { "data_port", set_auth_data_port, 1U << AK_DATA_PORT },
	[AK_CA] = { "ca", set_auth_ca, 1U << AK_CA },
	[AK_CERT] = { "cert", set_auth_cert, 1U << AK_CERT },
	[AK_KEY] = { "key", set_auth_key, 1U << AK_KEY },
	[AK_DEVICES] = { "devices", set_auth_devices, 1U << AK_DEVICES },
	[AK_POOL] = { "pool", set_auth_pool, 1U << AK_POOL },
	[AK_SESSION_TTL] = { "session_ttl", set_auth_session_ttl, 1U << AK_SESSION_TTL },
	[AK_KEEPALIVE] = { "keepalive", set_auth_keepalive, 1U << AK_KEEPALIVE },
	[AK_DEAD_AFTER] = { "dead_after", set_auth_dead_after, 1U << AK_DEAD_AFTER },
	[AK_SPA_OPEN] = { "spa_open", set_auth_spa_open, 1U << AK_SPA_OPEN },
	[AK_TUN] = { "tun", set_auth_tun, 1U << AK_TUN },
};

static const struct key service_keys[] = {
	{ "proto", set_svc_proto, 1U << 0 },
	{ "address", set_svc_address, 1U << 1 },
	{ "ports", set_svc_ports, 1U << 2 },
};

static const struct key policy_keys[] = {
	{ "device", set_pol_device, 1U << 0 },
	{ "app", set_pol_app, 1U << 1 },
	{ "services", set_pol_services, 1U << 2 },
};

/* [client] keys: index in client_keys[] and ctx->key_line[]. */
enum {
	CK_GATEWAY,
	CK_PORT,
	CK_SPA_PORT,
	CK_DATA_PORT,
	CK_CA,
	CK_CERT,
	CK_KEY,
	CK_APP,
	CK_DEVICE,
	CK_TUN,
	CK_RETRY_MAX,
};

static const struct key client_keys[] = {
	[CK_GATEWAY] = { "gateway", set_cl_gateway, 1U << CK_GATEWAY },
	[CK_PORT] = { "port", set_cl_port, 1U << CK_PORT },
	[CK_SPA_PORT] = { "spa_port", set_cl_spa_port, 1U << CK_SPA_PORT },
	[CK_DATA_PORT] = { "data_port", set_cl_data_port, 1U << CK_DATA_PORT },
	[CK_CA] = { "ca", set_cl_ca, 1U << CK_CA },
	[CK_CERT] = { "cert", set_cl_cert, 1U << CK_CERT },
	[CK_KEY] = { "key", set_cl_key, 1U << CK_KEY },
	[CK_APP] = { "app", set_cl_app, 1U << CK_APP },
	[CK_DEVICE] = { "device", set_cl_device, 1U << CK_DEVICE },
	[CK_TUN] = { "tun", set_cl_tun, 1U << CK_TUN },
	[CK_RETRY_MAX] = { "retry_max", set_cl_retry_max, 1U << CK_RETRY_MAX },
};

#define NKEYS(t) (sizeof(t) / sizeof((t)[0]))

_Static_assert(NKEYS(auth_keys) <= NKEYS(((struct config_ctx *)0)->key_line), "key_line");
_Static_assert(NKEYS(client_keys) <= NKEYS(((struct config_ctx *)0)->key_line), "key_line");

static void ctx_init(struct config_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->knock = -1;
	ctx->service = -1;
	ctx->policy = -1;
}

void config_init(struct config_ctx *ctx, struct gw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->api, sizeof(cfg->api), "127.0.0.1:7070");
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "/var/lib/capgate");
	cfg->default_action = GATE_DEFAULT_DROP;
	cfg->xdp_mode = CG_XDP_AUTO;
	cfg->flow_timeout_ns = SEC(5 * 60);

	ctx_init(ctx);
	ctx->cfg = cfg;
}

void client_config_init(struct config_ctx *ctx, struct client_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->port = 8443;
	cfg->spa_port = 62201;
	cfg->data_port = 51900;
	snprintf(cfg->tun, sizeof(cfg->tun), "cg0");
	cfg->retry_max_ns = SEC(30);

	ctx_init(ctx);
	ctx->client = cfg;
}

/* "knock NAME" -> "NAME", "knock" -> ""; NULL if section is not of this kind. */
static const char *section_arg(const char *section, const char *kind)
{
	size_t n = strlen(kind);

	if (strncmp(section, kind, n))
		return NULL;
	if (section[n] == '\0')
		return section + n;
	if (section[n] == ' ')
		return section + n + 1;
	return NULL;
}

static int knock_section(struct config_ctx *ctx, const char *section, const char *name)
{
	struct gw_config *cfg = ctx->cfg;
	struct knock_cfg *k;
	char q[QBUF], qn[QBUF];
	size_t i;

	if (!name_valid(name))
		return fail(ctx, ctx->line, "[%s]: \"%s\" is not a knock name (" NAME_RULE ")",
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

static int service_section(struct config_ctx *ctx, const char *section, const char *name)
{
	struct gw_config *cfg = ctx->cfg;
	struct service_cfg *svc;
	char q[QBUF], qn[QBUF];
	size_t i;

	if (!name_valid(name))
		return fail(ctx, ctx->line, "[%s]: \"%s\" is not a service name (" NAME_RULE ")",
			    quote(section, q), quote(name, qn));
	for (i = 0; i < cfg->policy.nservices; i++)
		if (!strcmp(cfg->policy.services[i].name, name))
			return fail(ctx, ctx->line, "[service %s] given twice", name);
	if (cfg->policy.nservices == CG_SERVICES_MAX)
		return fail(ctx, ctx->line, "[service %s]: more than %d service sections", name,
			    CG_SERVICES_MAX);
	svc = &cfg->policy.services[cfg->policy.nservices];
	memset(svc, 0, sizeof(*svc));
	strcpy(svc->name, name);
	ctx->svc_line[cfg->policy.nservices] = ctx->line;
	ctx->service = (int)cfg->policy.nservices++;
	return 0;
}

static int policy_section(struct config_ctx *ctx, const char *section, const char *name)
{
	struct gw_config *cfg = ctx->cfg;
	struct policy_cfg *pol;
	char q[QBUF], qn[QBUF];
	size_t i;

	if (!name_valid(name))
		return fail(ctx, ctx->line, "[%s]: \"%s\" is not a policy name (" NAME_RULE ")",
			    quote(section, q), quote(name, qn));
	for (i = 0; i < cfg->policy.npolicies; i++)
		if (!strcmp(cfg->policy.policies[i].name, name))
			return fail(ctx, ctx->line, "[allow %s] given twice", name);
	if (cfg->policy.npolicies == CG_POLICIES_MAX)
		return fail(ctx, ctx->line, "[allow %s]: more than %d allow sections", name,
			    CG_POLICIES_MAX);
	pol = &cfg->policy.policies[cfg->policy.npolicies];
	memset(pol, 0, sizeof(*pol));
	strcpy(pol->name, name);
	ctx->pol_line[cfg->policy.npolicies] = ctx->line;
	ctx->policy = (int)cfg->policy.npolicies++;
	return 0;
}

static int auth_section(struct config_ctx *ctx)
{
	struct auth_cfg *a = &ctx->cfg->auth;

	if (ctx->seen & SEEN_SEC_AUTH)
		return fail(ctx, ctx->line, "[auth] given twice");
	ctx->seen |= SEEN_SEC_AUTH;
	ctx->auth_line = ctx->line;
	a->enabled = true;
	a->port = 8443;
	a->spa_port = 62201;
	a->data_port = 51900;
	a->session_ttl_ns = SEC(10 * 60);
	a->keepalive_ns = SEC(5);
	a->dead_after_ns = SEC(20);
	a->spa_open_ns = SEC(30);
	return 0;
}

static int client_section(struct config_ctx *ctx, const char *section)
{
	char q[QBUF];

	if (strcmp(section, "client"))
		return fail(ctx, ctx->line, "unknown section [%s] (a client config has [client])",
			    quote(section, q));
	if (ctx->seen & SEEN_SEC_CLIENT)
		return fail(ctx, ctx->line, "[client] given twice");
	ctx->seen |= SEEN_SEC_CLIENT;
	ctx->auth_line = ctx->line;
	return 0;
}

int config_section(struct config_ctx *ctx, const char *section)
{
	const char *arg;
	char q[QBUF];

	snprintf(ctx->section, sizeof(ctx->section), "%s", section);
	ctx->knock = -1;
	ctx->service = -1;
	ctx->policy = -1;
	ctx->sub_seen = 0;
	if (ctx->client)
		return client_section(ctx, section);
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
	if (!strcmp(section, "auth"))
		return auth_section(ctx);
	if ((arg = section_arg(section, "knock")))
		return knock_section(ctx, section, arg);
	if ((arg = section_arg(section, "service")))
		return service_section(ctx, section, arg);
	if ((arg = section_arg(section, "allow")))
		return policy_section(ctx, section, arg);
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
	const struct key *t = NULL, *k = NULL;
	unsigned int *seen = &ctx->sub_seen;
	char qk[QBUF], qs[QBUF];
	size_t n = 0;
	int err;

	if (strcmp(section, ctx->section)) {
		err = config_section(ctx, section);
		if (err)
			return err;
	}
	if (!section[0])
		return fail(ctx, ctx->line, "key \"%s\" is outside any section", quote(key, qk));
	if (ctx->client) {
		if (!strcmp(section, "client")) {
			t = client_keys;
			n = NKEYS(client_keys);
			seen = &ctx->seen; /* bits 0..15: config_finish checks required keys */
		}
	} else if (!strcmp(section, "gateway")) {
		t = gateway_keys;
		n = NKEYS(gateway_keys);
		seen = &ctx->seen;
	} else if (!strcmp(section, "open")) {
		t = open_keys;
		n = NKEYS(open_keys);
		seen = &ctx->seen;
	} else if (!strcmp(section, "auth")) {
		t = auth_keys;
		n = NKEYS(auth_keys);
	} else if (ctx->knock >= 0) {
		t = knock_keys;
		n = NKEYS(knock_keys);
	} else if (ctx->service >= 0) {
		t = service_keys;
		n = NKEYS(service_keys);
	} else if (ctx->policy >= 0) {
		t = policy_keys;
		n = NKEYS(policy_keys);
	}
	/* A section that was refused: its error is already recorded. */
	if (!t)
		return fail(ctx, ctx->line, "unknown section [%s]", quote(section, qs));
	k = find_key(t, n, key);
	if (!k)
		return fail(ctx, ctx->line, "unknown key \"%s\" in [%s]", quote(key, qk),
			    quote(section, qs));
	if (*seen & k->bit)
		return fail(ctx, ctx->line, "[%s] %s given twice", ctx->section, k->name);
	*seen |= k->bit;
	if (t == auth_keys || t == client_keys)
		ctx->key_line[k - t] = ctx->line;
	else if (t == open_keys)
		ctx->open_line[k - t] = ctx->line;
	if (!value[0])
		return fail(ctx, ctx->line, "[%s] %s: empty value", ctx->section, k->name);
	return k->set(ctx, k->name, value);
}

static unsigned int max_line(unsigned int a, unsigned int b)
{
	return a > b ? a : b;
}

/* Directory part of a path: "." when it has none, "/" for "/x". */
static void dir_of(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(out, len, ".");
	else if (slash == path)
		snprintf(out, len, "/");
	else
		snprintf(out, len, "%.*s", (int)(slash - path), path);
}

/* The three ports of an [auth] or [client] section must differ. */
static int check_ports(struct config_ctx *ctx, const uint16_t port[3], const int key[3],
		       const struct key *t)
{
	static const int pairs[3][2] = { { 0, 1 }, { 0, 2 }, { 1, 2 } };
	int i, a, b;

	for (i = 0; i < 3; i++) {
		a = pairs[i][0];
		b = pairs[i][1];
		if (port[a] == port[b])
			return fail(ctx, max_line(ctx->key_line[key[a]], ctx->key_line[key[b]]),
				    "[%s] %s and %s are both %u: the three ports must differ",
				    ctx->client ? "client" : "auth", t[key[a]].name, t[key[b]].name,
				    port[a]);
	}
	return 0;
}

static bool port_is(const struct cg_port *p, uint8_t proto, uint16_t port)
{
	return p->proto == proto && ntohs(p->port) == port;
}

/*
 * The auth port opens only after a valid SPA, and every packet to the data
 * port must carry a capability: neither may be open to anyone or be a knock
 * step. The SPA port must reach the daemon, so it is made open.
 */
static int finish_auth_ports(struct config_ctx *ctx)
{
	struct gw_config *cfg = ctx->cfg;
	const struct auth_cfg *a = &cfg->auth;
	const struct {
		uint8_t proto;
		uint16_t port;
		const char *what;
	} dark[] = {
		{ IPPROTO_TCP, a->port, "port" },
		{ IPPROTO_UDP, a->spa_port, "spa_port" },
		{ IPPROTO_UDP, a->data_port, "data_port" },
	};
	const struct knock_profile *p;
	struct cg_port spa = { .proto = IPPROTO_UDP, .port = htons(a->spa_port) };
	char port[16];
	size_t i, j, d;

	for (i = 0; i < cfg->nopen; i++) {
		if (port_is(&cfg->open[i], IPPROTO_TCP, a->port))
			return fail(
				ctx, ctx->open_line[0],
				"[open] tcp: %u is the [auth] port, which only a valid SPA opens",
				a->port);
		if (port_is(&cfg->open[i], IPPROTO_UDP, a->data_port))
			return fail(ctx, ctx->open_line[1],
				    "[open] udp: %u is the [auth] data_port, where every packet "
				    "must carry a capability",
				    a->data_port);
	}
	for (i = 0; i < cfg->nknocks; i++) {
		p = &cfg->knocks[i].prof;
		for (j = 0; j < p->nsteps; j++)
			for (d = 0; d < sizeof(dark) / sizeof(dark[0]); d++)
				if (port_is(&p->steps[j], dark[d].proto, dark[d].port)) {
					port_format(&p->steps[j], port, sizeof(port));
					return fail(ctx, ctx->seq_line[i],
						    "[knock %s] sequence: %s is the [auth] %s, so "
						    "it can never be a knock step",
						    cfg->knocks[i].name, port, dark[d].what);
				}
	}
	for (i = 0; i < cfg->nopen; i++)
		if (!memcmp(&cfg->open[i], &spa, sizeof(spa)))
			return 0;
	if (cfg->nopen == CG_OPEN_MAX)
		return fail(ctx, ctx->auth_line,
			    "[auth] spa_port: more than %d open ports in all with it", CG_OPEN_MAX);
	cfg->open[cfg->nopen++] = spa;
	return 0;
}

static int finish_auth(struct config_ctx *ctx)
{
	static const int port_keys[3] = { AK_PORT, AK_SPA_PORT, AK_DATA_PORT };
	struct gw_config *cfg = ctx->cfg;
	struct auth_cfg *a = &cfg->auth;
	uint16_t ports[3] = { a->port, a->spa_port, a->data_port };
	size_t len;
	int err;

	if (!a->enabled) {
		if (cfg->policy.nservices &&
		    (!cfg->policy.npolicies || ctx->svc_line[0] < ctx->pol_line[0]))
			return fail(ctx, ctx->svc_line[0], "[service %s] needs an [auth] section",
				    cfg->policy.services[0].name);
		if (cfg->policy.npolicies)
			return fail(ctx, ctx->pol_line[0], "[allow %s] needs an [auth] section",
				    cfg->policy.policies[0].name);
		return 0;
	}
	if (!a->ca[0])
		return fail(ctx, ctx->auth_line, "[auth] ca is required");
	if (!a->cert[0])
		return fail(ctx, ctx->auth_line, "[auth] cert is required");
	if (!a->key[0])
		return fail(ctx, ctx->auth_line, "[auth] key is required");
	if (!a->pool.family)
		return fail(ctx, ctx->auth_line, "[auth] pool is required");
	if (a->dead_after_ns <= a->keepalive_ns)
		return fail(ctx,
			    max_line(ctx->key_line[AK_DEAD_AFTER], ctx->key_line[AK_KEEPALIVE]),
			    "[auth] dead_after (%llus) must be longer than keepalive (%llus)",
			    (unsigned long long)(a->dead_after_ns / NS_PER_SEC),
			    (unsigned long long)(a->keepalive_ns / NS_PER_SEC));
	err = check_ports(ctx, ports, port_keys, auth_keys);
	if (!err)
		err = finish_auth_ports(ctx);
	if (err)
		return err;
	if (!a->devices[0])
		dir_of(a->ca, a->devices, sizeof(a->devices));
	if (!a->tun[0]) {
		/* "cg-" and as much of the name as IFNAMSIZ leaves room for. */
		len = strlen(cfg->name);
		if (len > IF_NAMESIZE - 4)
			len = IF_NAMESIZE - 4;
		memcpy(a->tun, "cg-", 3);
		memcpy(a->tun + 3, cfg->name, len);
		a->tun[3 + len] = '\0';
	}
	return 0;
}

/* Two IPv4 prefixes overlap when they agree on the shorter one's bits. */
static bool v4_overlap(const struct cidr *x, const struct cidr *y)
{
	unsigned int plen = x->plen < y->plen ? x->plen : y->plen;
	uint32_t a, b, mask;

	memcpy(&a, x->addr, 4);
	memcpy(&b, y->addr, 4);
	mask = plen ? ~0U << (32 - plen) : 0;
	return ((ntohl(a) ^ ntohl(b)) & mask) == 0;
}

static int finish_services(struct config_ctx *ctx)
{
	struct gw_config *cfg = ctx->cfg;
	struct service_cfg *svc;
	char a[CG_ADDRSTRLEN], b[CG_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < cfg->policy.nservices; i++) {
		svc = &cfg->policy.services[i];
		if (!svc->proto)
			return fail(ctx, ctx->svc_line[i], "[service %s] proto is required",
				    svc->name);
		if (!svc->addr.family)
			return fail(ctx, ctx->svc_line[i], "[service %s] address is required",
				    svc->name);
		if (svc->proto != IPPROTO_ICMP && !svc->nports)
			return fail(ctx, ctx->svc_line[i], "[service %s] ports is required for %s",
				    svc->name, proto_name(svc->proto));
		if (svc->proto == IPPROTO_ICMP && svc->nports)
			return fail(ctx, ctx->svc_ports_line[i],
				    "[service %s] ports: icmp has no ports", svc->name);
		if (svc->proto == IPPROTO_ICMP && svc->addr.family == AF_INET6)
			svc->proto = IPPROTO_ICMPV6;
		/* A scope into the pool would reach other clients and the gateway's TUN. */
		if (svc->addr.family == AF_INET && v4_overlap(&svc->addr, &cfg->auth.pool)) {
			cidr_format(&svc->addr, a, sizeof(a));
			cidr_format(&cfg->auth.pool, b, sizeof(b));
			return fail(ctx, ctx->svc_addr_line[i],
				    "[service %s] address: %s overlaps the [auth] pool %s",
				    svc->name, a, b);
		}
		/* In a scope, ::ffff:0:0/96 and longer is IPv4 space: it must pass the check above.
		 */
		if (svc->addr.family == AF_INET6 && svc->addr.plen >= 96 &&
		    addr_is_v4mapped(svc->addr.addr)) {
			cidr_format(&svc->addr, a, sizeof(a));
			return fail(ctx, ctx->svc_addr_line[i],
				    "[service %s] address: %s is IPv4-mapped: write it as IPv4",
				    svc->name, a);
		}
	}
	return 0;
}

static int finish_policies(struct config_ctx *ctx)
{
	struct gw_config *cfg = ctx->cfg;
	struct cg_scope scopes[CG_MAX_SCOPES];
	struct policy_cfg *pol;
	size_t i, j, s, n = 0;

	for (i = 0; i < cfg->policy.npolicies; i++) {
		pol = &cfg->policy.policies[i];
		if (!pol->ndevices)
			return fail(ctx, ctx->pol_line[i], "[allow %s] device is required",
				    pol->name);
		if (!pol->app[0])
			return fail(ctx, ctx->pol_line[i], "[allow %s] app is required", pol->name);
		if (!pol->nservices)
			return fail(ctx, ctx->pol_line[i], "[allow %s] services is required",
				    pol->name);
		for (j = 0; j < pol->nservices; j++) {
			for (s = 0; s < cfg->policy.nservices; s++)
				if (!strcmp(cfg->policy.services[s].name, ctx->pol_svc[i][j]))
					break;
			if (s == cfg->policy.nservices)
				return fail(ctx, ctx->pol_svc_line[i],
					    "[allow %s] services: there is no [service %s]",
					    pol->name, ctx->pol_svc[i][j]);
			pol->services[j] = (uint32_t)s;
		}
	}
	for (i = 0; i < cfg->policy.npolicies; i++)
		if (policy_scopes_of(&cfg->policy, i, scopes, CG_MAX_SCOPES, &n) == -E2BIG)
			return fail(ctx, ctx->pol_svc_line[i],
				    "[allow %s] services: more than %d scopes (one per port range "
				    "of each service)",
				    cfg->policy.policies[i].name, CG_MAX_SCOPES);
	/* A device may match several sections with one app: the union must fit too. */
	for (i = 0; i < cfg->policy.npolicies; i++) {
		pol = &cfg->policy.policies[i];
		for (j = 0; j < pol->ndevices; j++)
			if (policy_scopes(&cfg->policy, pol->devices[j], pol->app, scopes,
					  CG_MAX_SCOPES, &n) == -E2BIG)
				return fail(ctx, ctx->pol_line[i],
					    "[allow %s] device %s with app %s: more than %d scopes "
					    "together with the other [allow] sections",
					    pol->name, pol->devices[j], pol->app, CG_MAX_SCOPES);
	}
	return 0;
}

static int finish_gateway(struct config_ctx *ctx)
{
	struct gw_config *cfg = ctx->cfg;
	const struct knock_profile *p;
	char port[16];
	size_t i, j, o;
	int err;

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
	if ((err = finish_auth(ctx)) || (err = finish_services(ctx)) ||
	    (err = finish_policies(ctx)))
		return err;
	return 0;
}

static int finish_client(struct config_ctx *ctx)
{
	static const int port_keys[3] = { CK_PORT, CK_SPA_PORT, CK_DATA_PORT };
	static const int required[] = { CK_GATEWAY, CK_CA, CK_CERT, CK_KEY, CK_APP };
	const struct client_config *c = ctx->client;
	uint16_t ports[3] = { c->port, c->spa_port, c->data_port };
	size_t i;

	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!(ctx->seen & client_keys[required[i]].bit))
			return fail(ctx, ctx->auth_line, "[client] %s is required",
				    client_keys[required[i]].name);
	return check_ports(ctx, ports, port_keys, client_keys);
}

int config_finish(struct config_ctx *ctx)
{
	if (ctx->failed)
		return -EINVAL;
	if (ctx->client)
		return finish_client(ctx);
	return finish_gateway(ctx);
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

/* Runs inih over text into the ctx of either kind, then config_finish. */
static int parse_text(struct config_ctx *ctx, const char *text, const char *name, char *err,
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
		fail(ctx, (unsigned int)bad, "expected \"key = value\" or \"[section]\": \"%s\"",
		     quote(line, q));
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

int config_parse_string(const char *text, const char *name, struct gw_config *cfg, char *err,
			size_t errlen)
{
	struct gw_config tmp;
	struct config_ctx ctx;
	int ret;

	config_init(&ctx, &tmp);
	ret = parse_text(&ctx, text, name, err, errlen);
	if (!ret)
		*cfg = tmp;
	return ret;
}

int client_config_parse_string(const char *text, const char *name, struct client_config *cfg,
			       char *err, size_t errlen)
{
	struct client_config tmp;
	struct config_ctx ctx;
	int ret;

	client_config_init(&ctx, &tmp);
	ret = parse_text(&ctx, text, name, err, errlen);
	if (!ret)
		*cfg = tmp;
	return ret;
}

/* The whole file as a string; *text is the caller's to free. */
static int read_text(const char *path, char **text, char *err, size_t errlen)
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

/* The absolute directory of the config file, for relative paths in it. */
static int file_dir(const char *path, char *dir, size_t len, char *err, size_t errlen)
{
	char abs[PATH_MAX];
	int e;

	if (!realpath(path, abs)) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	dir_of(abs, dir, len);
	return 0;
}

/* A relative path made relative to dir ("." is dir itself). */
static int resolve(const char *file, const char *dir, const char *section, const char *key, char *p,
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
			 file, section, key, quote(p, q), dir, CG_PATH_MAX - 1);
		return -EINVAL;
	}
	strcpy(p, buf);
	return 0;
}

int config_load(const char *path, struct gw_config *cfg, char *err, size_t errlen)
{
	struct gw_config *tmp = NULL;
	struct auth_cfg *a;
	char *text = NULL, dir[PATH_MAX];
	int ret;

	ret = read_text(path, &text, err, errlen);
	if (ret)
		goto out;
	tmp = malloc(sizeof(*tmp));
	if (!tmp) {
		ret = -ENOMEM;
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	ret = config_parse_string(text, path, tmp, err, errlen);
	if (ret)
		goto out;
	a = &tmp->auth;
	if (a->enabled) {
		if ((ret = file_dir(path, dir, sizeof(dir), err, errlen)) ||
		    (ret = resolve(path, dir, "auth", "ca", a->ca, err, errlen)) ||
		    (ret = resolve(path, dir, "auth", "cert", a->cert, err, errlen)) ||
		    (ret = resolve(path, dir, "auth", "key", a->key, err, errlen)) ||
		    (ret = resolve(path, dir, "auth", "devices", a->devices, err, errlen)))
			goto out;
	}
	*cfg = *tmp;
out:
	free(tmp);
	free(text);
	return ret;
}

int client_config_load(const char *path, struct client_config *cfg, char *err, size_t errlen)
{
	struct client_config tmp;
	char *text = NULL, dir[PATH_MAX];
	int ret;

	ret = read_text(path, &text, err, errlen);
	if (ret)
		goto out;
	if ((ret = client_config_parse_string(text, path, &tmp, err, errlen)) ||
	    (ret = file_dir(path, dir, sizeof(dir), err, errlen)) ||
	    (ret = resolve(path, dir, "client", "ca", tmp.ca, err, errlen)) ||
	    (ret = resolve(path, dir, "client", "cert", tmp.cert, err, errlen)) ||
	    (ret = resolve(path, dir, "client", "key", tmp.key, err, errlen)))
		goto out;
	*cfg = tmp;
out:
	free(text);
	return ret;
}
