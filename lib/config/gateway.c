// SPDX-License-Identifier: GPL-2.0
/* The gateway config: its sections and keys, each checked, and the checks of the whole file. */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "abi/tunnel.h"
#include "lib/base/endpoint.h"
#include "lib/base/name.h"
#include "lib/base/parse_num.h"
#include "lib/base/portspec.h"
#include "lib/config/gateway.h"
#include "lib/config/ini.h"
#include "lib/config/kind.h"
#include "lib/policy/policy.h"
#include "lib/tunnel/path.h"

/* gw_config_ctx.seen: bits 0..15 are [gateway] keys (table index), then these. */
enum {
	SEEN_SEC_GATEWAY = 1U << 24,
	SEEN_SEC_AUTH = 1U << 26,
};

/* [auth] keys: index in auth_keys[] and gw_config_ctx.key_line[]. */
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
	AK_SPA_RATE,
	AK_SPA_BURST,
	AK_TUN,
	AK_MAX_PER_DEVICE,
	AK_MAX_PER_CONN,
	AK_RENEW_AFTER,
	AK_WORKERS,
	AK_FAST_PATH,
	AK_TRUST_DOMAIN,
	AK_CRL,
	AK_ENROLL,
	AK_CA_DIR,
};

/* An item of a list is copied into a buffer this big; longer ones are refused. */
#define ITEM_MAX 128

/* The gateway's reader state around the shared one. */
static struct gw_config_ctx *gw_of(struct config_ctx *ctx)
{
	return (struct gw_config_ctx *)((char *)ctx - offsetof(struct gw_config_ctx, ini));
}

/* The item as a string; one longer than the buffer keeps its head and fails every check. */
static void item_copy(char *buf, const char *item, size_t len)
{
	if (len >= ITEM_MAX)
		len = ITEM_MAX - 1;
	memcpy(buf, item, len);
	buf[len] = '\0';
}

static int set_iface(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_ifname(ctx, key, v, gw_of(ctx)->cfg->iface);
}

static int set_name(struct config_ctx *ctx, const char *key, const char *v)
{
	char q[QBUF];

	if (!name_valid(v))
		return config_fail(ctx, ctx->line,
				   "[gateway] %s: \"%s\" is not a name (" NAME_RULE ")", key,
				   config_quote(v, q));
	strcpy(gw_of(ctx)->cfg->name, v);
	return 0;
}

static int set_api(struct config_ctx *ctx, const char *key, const char *v)
{
	struct gw_config *cfg = gw_of(ctx)->cfg;
	struct endpoint ep;
	char why[CG_ERR_MAX], q[QBUF];

	if (strlen(v) >= sizeof(cfg->api))
		return config_fail(ctx, ctx->line, "[gateway] %s: \"%s\" is too long", key,
				   config_quote(v, q));
	if (endpoint_parse(v, &ep, why, sizeof(why)))
		return config_fail(ctx, ctx->line, "[gateway] %s: %s", key, why);
	strcpy(cfg->api, v);
	gw_of(ctx)->api_line = ctx->line;
	return 0;
}

static int set_api_token_file(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_path(ctx, key, v, gw_of(ctx)->cfg->api_token_file);
}

static int set_metrics_public(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_bool(ctx, key, v, &gw_of(ctx)->cfg->metrics_public);
}

static int set_state_dir(struct config_ctx *ctx, const char *key, const char *v)
{
	struct gw_config *cfg = gw_of(ctx)->cfg;
	char q[QBUF];

	if (v[0] != '/')
		return config_fail(ctx, ctx->line, "[gateway] %s: \"%s\" is not an absolute path",
				   key, config_quote(v, q));
	if (strlen(v) >= sizeof(cfg->state_dir))
		return config_fail(ctx, ctx->line,
				   "[gateway] %s: \"%s\" is longer than %zu characters", key,
				   config_quote(v, q), sizeof(cfg->state_dir) - 1);
	strcpy(cfg->state_dir, v);
	return 0;
}

static int set_default(struct config_ctx *ctx, const char *key, const char *v)
{
	struct gw_config *cfg = gw_of(ctx)->cfg;
	char q[QBUF];

	if (!strcmp(v, "drop"))
		cfg->default_action = GATE_DEFAULT_DROP;
	else if (!strcmp(v, "pass"))
		cfg->default_action = GATE_DEFAULT_PASS;
	else
		return config_fail(ctx, ctx->line, "[gateway] %s: \"%s\" is not drop or pass", key,
				   config_quote(v, q));
	return 0;
}

static int set_xdp_mode(struct config_ctx *ctx, const char *key, const char *v)
{
	struct gw_config *cfg = gw_of(ctx)->cfg;
	char q[QBUF];

	if (!strcmp(v, "auto"))
		cfg->xdp_mode = CG_XDP_AUTO;
	else if (!strcmp(v, "native"))
		cfg->xdp_mode = CG_XDP_NATIVE;
	else if (!strcmp(v, "generic"))
		cfg->xdp_mode = CG_XDP_GENERIC;
	else
		return config_fail(ctx, ctx->line,
				   "[gateway] %s: \"%s\" is not auto, native or generic", key,
				   config_quote(v, q));
	return 0;
}

static int set_flow_timeout(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_duration(ctx, key, v, SEC(1), SEC(24 * 3600), "1s..24h",
				   &gw_of(ctx)->cfg->flow_timeout_ns);
}

static int set_lb_ifaces(struct config_ctx *ctx, const char *key, const char *v)
{
	struct gw_config_ctx *g = gw_of(ctx);
	struct gw_config *cfg = g->cfg;
	const char *p = v, *item = NULL, *why = "";
	char name[ITEM_MAX], q[QBUF];
	size_t i, len = 0, k = 0;
	int r;

	g->lb_ifaces_line = ctx->line;
	while ((r = list_next(&p, p == v, &item, &len, &why)) == 1) {
		item_copy(name, item, len);
		if (len >= IF_NAMESIZE)
			return config_fail(ctx, ctx->line,
					   "[gateway] %s: \"%s\" is longer than an interface name",
					   key, config_quote(name, q));
		for (i = 0; i < k; i++)
			if (!strcmp(cfg->lb_ifaces[i], name))
				return config_fail(ctx, ctx->line, "[gateway] %s: %s listed twice",
						   key, name);
		if (k == CG_LB_IFACES_MAX)
			return config_fail(ctx, ctx->line, "[gateway] %s: more than %d interfaces",
					   key, CG_LB_IFACES_MAX);
		strcpy(cfg->lb_ifaces[k++], name);
	}
	if (r < 0)
		return config_fail(ctx, ctx->line, "[gateway] %s: \"%s\": %s", key,
				   config_quote(v, q), why);
	cfg->nlb_ifaces = k;
	return 0;
}

static int set_open(struct config_ctx *ctx, const char *key, const char *v, uint8_t proto)
{
	struct gw_config_ctx *g = gw_of(ctx);
	struct gw_config *cfg = g->cfg;
	const char *why = "";
	char q[QBUF];

	size_t i, n = cfg->nopen;
	int err;

	err = port_list_parse(v, proto, cfg->open, CG_OPEN_MAX, &cfg->nopen, &why);
	if (err == -E2BIG)
		return config_fail(ctx, ctx->line,
				   "[%s] %s: \"%s\": more than %d open ports in all", ctx->section,
				   key, config_quote(v, q), CG_OPEN_MAX);
	if (err)
		return config_fail(ctx, ctx->line, "[%s] %s: \"%s\": %s", ctx->section, key,
				   config_quote(v, q), why);
	for (i = n; i < cfg->nopen; i++) {
		cfg->open_sec[i] = (uint8_t)g->open;
		g->open_port_line[i] = ctx->line;
	}
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

/*
 * A destination set: "self" (the gateway's own addresses, where @self_ok)
 * and/or up to CG_DEST_MAX prefixes or addresses, separated by spaces and/or
 * one comma, none twice. Writes *out whole, or nothing.
 */
static int set_dests(struct config_ctx *ctx, const char *key, const char *v, bool self_ok,
		     struct cg_dests *out)
{
	const char *p = v, *item = NULL, *why = "";
	char text[ITEM_MAX], q[QBUF];
	struct cg_dests d = { 0 };
	size_t len = 0;
	struct cidr c;
	uint8_t i;
	int r;

	while ((r = list_next(&p, p == v, &item, &len, &why)) == 1) {
		item_copy(text, item, len);
		if (self_ok && !strcmp(text, "self")) {
			if (d.self)
				return config_fail(ctx, ctx->line, "[%s] %s: self listed twice",
						   ctx->section, key);
			d.self = 1;
			continue;
		}
		if (len >= ITEM_MAX || cidr_parse(text, &c, &why))
			return config_fail(ctx, ctx->line, "[%s] %s: \"%s\": %s", ctx->section, key,
					   config_quote(text, q),
					   len >= ITEM_MAX ? "too long" : why);
		if (c.family == AF_INET6 && c.plen >= 96 && addr_is_v4mapped(c.addr))
			return config_fail(ctx, ctx->line,
					   "[%s] %s: %s is IPv4-mapped: write it as IPv4",
					   ctx->section, key, config_quote(text, q));
		if (d.n == CG_DEST_MAX)
			return config_fail(ctx, ctx->line, "[%s] %s: more than %d prefixes",
					   ctx->section, key, CG_DEST_MAX);
		cidr_to_mapped(&c, d.p[d.n].addr, &d.p[d.n].plen);
		for (i = 0; i < d.n; i++)
			if (!memcmp(&d.p[i], &d.p[d.n], sizeof(d.p[i])))
				return config_fail(ctx, ctx->line, "[%s] %s: %s listed twice",
						   ctx->section, key, config_quote(text, q));
		d.n++;
	}
	if (r < 0)
		return config_fail(ctx, ctx->line, "[%s] %s: \"%s\": %s", ctx->section, key,
				   config_quote(v, q), why);
	*out = d;
	return 0;
}

static int set_open_to(struct config_ctx *ctx, const char *key, const char *v)
{
	struct gw_config_ctx *g = gw_of(ctx);

	g->open_to_line[g->open] = ctx->line;
	return set_dests(ctx, key, v, true, &g->cfg->opens[g->open].to);
}

static int set_internal(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_dests(ctx, key, v, false, &gw_of(ctx)->cfg->internal);
}

static struct knock_cfg *cur_knock(struct config_ctx *ctx)
{
	struct gw_config_ctx *g = gw_of(ctx);

	return &g->cfg->knocks[g->knock];
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
		return config_fail(ctx, ctx->line, "[%s] %s: \"%s\": more than %zu %s",
				   ctx->section, key, config_quote(v, q), max, what);
	if (err)
		return config_fail(ctx, ctx->line, "[%s] %s: \"%s\": %s", ctx->section, key,
				   config_quote(v, q), why);
	*n = (uint32_t)cnt;
	return 0;
}

static int set_sequence(struct config_ctx *ctx, const char *key, const char *v)
{
	struct gw_config_ctx *g = gw_of(ctx);
	struct knock_profile *p = &cur_knock(ctx)->prof;

	g->seq_line[g->knock] = ctx->line;
	return set_ports(ctx, key, v, p->steps, &p->nsteps, CG_KNOCK_MAX_STEPS, "steps");
}

static int set_step_timeout(struct config_ctx *ctx, const char *key, const char *v)
{
	uint64_t ns;
	int err;

	err = config_set_duration(ctx, key, v, SEC(1), SEC(3600), "1s..1h", &ns);
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

	gw_of(ctx)->target_line[gw_of(ctx)->knock] = ctx->line;
	err = set_ports(ctx, key, v, p->targets, &p->ntargets, CG_KNOCK_MAX_TARGETS, "targets");
	if (err)
		return err;
	for (i = 0; i < p->ntargets; i++)
		for (j = 0; j < i; j++)
			if (p->targets[i].proto == p->targets[j].proto &&
			    p->targets[i].port == p->targets[j].port) {
				port_format(&p->targets[i], port, sizeof(port));
				p->ntargets = 0;
				return config_fail(ctx, ctx->line,
						   "[%s] %s: \"%s\": %s listed twice", ctx->section,
						   key, config_quote(v, q), port);
			}
	return 0;
}

static int set_knock_to(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_dests(ctx, key, v, true, &cur_knock(ctx)->prof.to);
}

static int set_open_for(struct config_ctx *ctx, const char *key, const char *v)
{
	uint64_t ns;
	int err;

	err = config_set_duration(ctx, key, v, SEC(1), SEC(24 * 3600), "1s..24h", &ns);
	if (!err)
		cur_knock(ctx)->prof.open_for_ns = ns;
	return err;
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
			return config_fail(ctx, ctx->line,
					   "[%s] %s: \"%s\" is not a %s name (" NAME_RULE ")",
					   ctx->section, key, config_quote(name, q), what);
		for (i = 0; i < k; i++)
			if (!strcmp(out[i], name))
				return config_fail(ctx, ctx->line, "[%s] %s: %s listed twice",
						   ctx->section, key, name);
		if (k == max)
			return config_fail(ctx, ctx->line, "[%s] %s: more than %zu %ss",
					   ctx->section, key, max, what);
		strcpy(out[k++], name);
	}
	if (r < 0)
		return config_fail(ctx, ctx->line, "[%s] %s: \"%s\": %s", ctx->section, key,
				   config_quote(v, q), why);
	*n = k;
	return 0;
}

/* ---- [auth] ---------------------------------------------------------------- */

static int set_auth_port(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_port(ctx, key, v, &gw_of(ctx)->cfg->auth.port);
}

static int set_auth_spa_port(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_port(ctx, key, v, &gw_of(ctx)->cfg->auth.spa_port);
}

static int set_auth_data_port(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_port(ctx, key, v, &gw_of(ctx)->cfg->auth.data_port);
}

static int set_auth_ca(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_path(ctx, key, v, gw_of(ctx)->cfg->auth.ca);
}

static int set_auth_cert(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_path(ctx, key, v, gw_of(ctx)->cfg->auth.cert);
}

static int set_auth_key(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_path(ctx, key, v, gw_of(ctx)->cfg->auth.key);
}

static int set_auth_devices(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_path(ctx, key, v, gw_of(ctx)->cfg->auth.devices);
}

static int set_auth_trust_domain(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_trust_domain(ctx, key, v, gw_of(ctx)->cfg->auth.trust_domain);
}

static int set_auth_crl(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_path(ctx, key, v, gw_of(ctx)->cfg->auth.crl);
}

static int set_auth_ca_dir(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_path(ctx, key, v, gw_of(ctx)->cfg->auth.ca_dir);
}

static int set_auth_enroll(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_bool(ctx, key, v, &gw_of(ctx)->cfg->auth.enroll);
}

static int set_auth_pool(struct config_ctx *ctx, const char *key, const char *v)
{
	const char *why = "";
	struct cidr c;
	char q[QBUF];

	if (cidr_parse(v, &c, &why))
		return config_fail(ctx, ctx->line, "[auth] %s: \"%s\": %s", key, config_quote(v, q),
				   why);
	if (c.family != AF_INET)
		return config_fail(ctx, ctx->line, "[auth] %s: \"%s\" is not an IPv4 prefix", key,
				   config_quote(v, q));
	if (c.plen < 8 || c.plen > 30)
		return config_fail(ctx, ctx->line,
				   "[auth] %s: \"%s\": the prefix length must be 8..30", key,
				   config_quote(v, q));
	gw_of(ctx)->cfg->auth.pool = c;
	return 0;
}

static int set_auth_session_ttl(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_duration(ctx, key, v, SEC(30), SEC(24 * 3600), "30s..24h",
				   &gw_of(ctx)->cfg->auth.session_ttl_ns);
}

static int set_auth_keepalive(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_duration(ctx, key, v, SEC(1), SEC(600), "1s..10m",
				   &gw_of(ctx)->cfg->auth.keepalive_ns);
}

static int set_auth_dead_after(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_duration(ctx, key, v, SEC(2), SEC(3600), "2s..1h",
				   &gw_of(ctx)->cfg->auth.dead_after_ns);
}

/* A count in [min, max] into *out; unit ("%" or "") must follow the number. */
static int set_auth_count(struct config_ctx *ctx, const char *key, const char *v, const char *unit,
			  uint32_t min, uint32_t max, uint32_t *out)
{
	size_t n = strlen(v), u = strlen(unit);
	char num[16], q[QBUF];
	int err = -EINVAL;

	if (n > u && n - u < sizeof(num) && !strcmp(v + n - u, unit)) {
		memcpy(num, v, n - u);
		num[n - u] = '\0';
		err = parse_u32(num, min, max, out);
	}
	if (err == -ERANGE)
		return config_fail(ctx, ctx->line, "[auth] %s: \"%s\" is out of range (%u%s..%u%s)",
				   key, config_quote(v, q), min, unit, max, unit);
	if (err)
		return config_fail(ctx, ctx->line, "[auth] %s: \"%s\" is not a number%s", key,
				   config_quote(v, q), *unit ? " with %" : "");
	return 0;
}

static int set_auth_spa_rate(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_auth_count(ctx, key, v, "", 1, 1000000, &gw_of(ctx)->cfg->auth.spa_rate);
}

static int set_auth_spa_burst(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_auth_count(ctx, key, v, "", 1, 1000000, &gw_of(ctx)->cfg->auth.spa_burst);
}

static int set_auth_spa_open(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_duration(ctx, key, v, SEC(1), SEC(3600), "1s..1h",
				   &gw_of(ctx)->cfg->auth.spa_open_ns);
}

static int set_auth_tun(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_ifname(ctx, key, v, gw_of(ctx)->cfg->auth.tun);
}

static int set_auth_max_per_device(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_auth_count(ctx, key, v, "", 1, CG_MAX_SESSIONS,
			      &gw_of(ctx)->cfg->auth.max_sessions_per_device);
}

static int set_auth_max_per_conn(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_auth_count(ctx, key, v, "", 1, 8, &gw_of(ctx)->cfg->auth.max_sessions_per_conn);
}

/* Up to 80%: capgate connect renews at 80% of the lifetime (lib/agent/agent.c). */
static int set_auth_renew_after(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_auth_count(ctx, key, v, "%", 0, 80, &gw_of(ctx)->cfg->auth.renew_after_pct);
}

static int set_auth_workers(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_workers(ctx, key, v, &gw_of(ctx)->cfg->auth.workers);
}

static int set_auth_fast_path(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_fast_path(ctx, key, v, &gw_of(ctx)->cfg->auth.levers);
}

/* ---- [service NAME] -------------------------------------------------------- */

static struct service_cfg *cur_service(struct config_ctx *ctx)
{
	struct gw_config_ctx *g = gw_of(ctx);

	return &g->cfg->policy.services[g->service];
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
		return config_fail(ctx, ctx->line, "[%s] %s: \"%s\" is not tcp, udp or icmp",
				   ctx->section, key, config_quote(v, q));
	return 0;
}

static int set_svc_address(struct config_ctx *ctx, const char *key, const char *v)
{
	struct gw_config_ctx *g = gw_of(ctx);
	const char *why = "";
	struct cidr c;
	char q[QBUF];

	if (cidr_parse(v, &c, &why))
		return config_fail(ctx, ctx->line, "[%s] %s: \"%s\": %s", ctx->section, key,
				   config_quote(v, q), why);
	cur_service(ctx)->addr = c;
	g->svc_addr_line[g->service] = ctx->line;
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
	struct gw_config_ctx *g = gw_of(ctx);
	struct service_cfg *svc = cur_service(ctx);
	struct port_range r, out[CG_SERVICE_PORTS_MAX];
	const char *p = v, *item = NULL, *why = "";
	char buf[ITEM_MAX], q[QBUF], a[16], b[16];
	size_t i, len = 0, k = 0;
	int ret;

	g->svc_ports_line[g->service] = ctx->line;
	while ((ret = list_next(&p, p == v, &item, &len, &why)) == 1) {
		item_copy(buf, item, len);
		if (len >= ITEM_MAX)
			return config_fail(ctx, ctx->line, "[%s] %s: \"%s\": item too long",
					   ctx->section, key, config_quote(buf, q));
		if (range_parse(buf, &r, &why))
			return config_fail(ctx, ctx->line, "[%s] %s: \"%s\": %s", ctx->section, key,
					   config_quote(buf, q), why);
		for (i = 0; i < k; i++)
			if (r.lo <= out[i].hi && out[i].lo <= r.hi) {
				range_format(&r, a, sizeof(a));
				range_format(&out[i], b, sizeof(b));
				return config_fail(ctx, ctx->line, "[%s] %s: %s overlaps %s",
						   ctx->section, key, a, b);
			}
		if (k == CG_SERVICE_PORTS_MAX)
			return config_fail(ctx, ctx->line, "[%s] %s: more than %d port ranges",
					   ctx->section, key, CG_SERVICE_PORTS_MAX);
		out[k++] = r;
	}
	if (ret < 0)
		return config_fail(ctx, ctx->line, "[%s] %s: \"%s\": %s", ctx->section, key,
				   config_quote(v, q), why);
	memcpy(svc->ports, out, k * sizeof(out[0]));
	svc->nports = k;
	return 0;
}

/* The balancer's keys but backends: remembered so finish_services can refuse them alone. */
static struct lb_svc_cfg *cur_lb(struct config_ctx *ctx)
{
	struct gw_config_ctx *g = gw_of(ctx);

	if (!g->svc_lbk_line[g->service])
		g->svc_lbk_line[g->service] = ctx->line;
	return &g->cfg->lb[g->service];
}

static int set_svc_backends(struct config_ctx *ctx, const char *key, const char *v)
{
	struct gw_config_ctx *g = gw_of(ctx);
	struct gw_config *cfg = g->cfg;
	struct lb_svc_cfg *lb = &cfg->lb[g->service];
	const char *p = v, *item = NULL, *why = "";
	char buf[ITEM_MAX], q[QBUF];
	size_t i, len = 0, first = cfg->nlb_be, k = first;
	struct lb_be b;
	int r;

	g->svc_be_line[g->service] = ctx->line;
	while ((r = list_next(&p, p == v, &item, &len, &why)) == 1) {
		item_copy(buf, item, len);
		if (len >= ITEM_MAX || lb_be_parse(buf, true, &b, &why))
			return config_fail(ctx, ctx->line, "[%s] %s: \"%s\": %s", ctx->section, key,
					   config_quote(buf, q),
					   len >= ITEM_MAX ? "item too long" : why);
		for (i = first; i < k; i++)
			if (lb_be_same(&cfg->lb_be[i], &b))
				return config_fail(ctx, ctx->line, "[%s] %s: %s listed twice",
						   ctx->section, key, config_quote(buf, q));
		if (k - first == LB_BACKENDS_PER_SVC || k == LB_BACKENDS_MAX)
			return config_fail(ctx, ctx->line,
					   "[%s] %s: more than %d backends (%d in all services)",
					   ctx->section, key, LB_BACKENDS_PER_SVC, LB_BACKENDS_MAX);
		cfg->lb_be[k++] = b;
	}
	if (r < 0)
		return config_fail(ctx, ctx->line, "[%s] %s: \"%s\": %s", ctx->section, key,
				   config_quote(v, q), why);
	if (k == first)
		return config_fail(ctx, ctx->line, "[%s] %s: no backend", ctx->section, key);
	lb->enabled = true;
	lb->first = (uint32_t)first;
	lb->n = (uint32_t)(k - first);
	cfg->nlb_be = k;
	return 0;
}

static int set_svc_health(struct config_ctx *ctx, const char *key, const char *v)
{
	struct gw_config_ctx *g = gw_of(ctx);
	struct lb_svc_cfg *lb = cur_lb(ctx);
	const char *why = "";
	char q[QBUF];

	g->svc_health_line[g->service] = ctx->line;
	if (health_parse(v, &lb->health, &why))
		return config_fail(ctx, ctx->line, "[%s] %s: \"%s\": %s", ctx->section, key,
				   config_quote(v, q), why);
	return 0;
}

static int set_svc_health_interval(struct config_ctx *ctx, const char *key, const char *v)
{
	struct lb_svc_cfg *lb = cur_lb(ctx);
	char q[QBUF];
	uint64_t ns;
	size_t n = strlen(v);

	/* "100ms".."60s": milliseconds for the short ones, else a duration. */
	if (n > 2 && !strcmp(v + n - 2, "ms")) {
		char num[16];
		uint32_t ms;

		if (n - 2 >= sizeof(num))
			goto bad;
		memcpy(num, v, n - 2);
		num[n - 2] = '\0';
		if (parse_u32(num, 100, 60000, &ms))
			goto bad;
		ns = (uint64_t)ms * 1000000ULL;
	} else if (parse_duration(v, SEC(1), SEC(60), &ns)) {
		goto bad;
	}
	lb->health.interval_ns = ns;
	return 0;
bad:
	return config_fail(ctx, ctx->line, "[%s] %s: \"%s\" is not a duration in 100ms..60s",
			   ctx->section, key, config_quote(v, q));
}

static int set_svc_health_count(struct config_ctx *ctx, const char *key, const char *v,
				uint32_t *out)
{
	char q[QBUF];

	if (parse_u32(v, 1, 10, out))
		return config_fail(ctx, ctx->line, "[%s] %s: \"%s\" is not a count in 1..10",
				   ctx->section, key, config_quote(v, q));
	return 0;
}

static int set_svc_health_rise(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_svc_health_count(ctx, key, v, &cur_lb(ctx)->health.rise);
}

static int set_svc_health_fall(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_svc_health_count(ctx, key, v, &cur_lb(ctx)->health.fall);
}

static int set_svc_nat(struct config_ctx *ctx, const char *key, const char *v)
{
	struct lb_svc_cfg *lb = cur_lb(ctx);
	char q[QBUF];

	if (!strcmp(v, "dnat"))
		lb->nat = LB_NAT_DNAT;
	else if (!strcmp(v, "full"))
		lb->nat = LB_NAT_FULL;
	else
		return config_fail(ctx, ctx->line, "[%s] %s: \"%s\" is not dnat or full",
				   ctx->section, key, config_quote(v, q));
	return 0;
}

static int set_svc_snat(struct config_ctx *ctx, const char *key, const char *v)
{
	struct lb_svc_cfg *lb = cur_lb(ctx);
	char q[QBUF];

	if (addr_parse_mapped(v, lb->snat))
		return config_fail(ctx, ctx->line, "[%s] %s: \"%s\" is not an address",
				   ctx->section, key, config_quote(v, q));
	lb->snat_set = true;
	return 0;
}

static int set_svc_snat_ports(struct config_ctx *ctx, const char *key, const char *v)
{
	struct lb_svc_cfg *lb = cur_lb(ctx);
	const char *why = "";
	struct port_range r;
	char q[QBUF];

	if (strlen(v) >= ITEM_MAX || range_parse(v, &r, &why))
		return config_fail(ctx, ctx->line, "[%s] %s: \"%s\": %s", ctx->section, key,
				   config_quote(v, q), strlen(v) >= ITEM_MAX ? "too long" : why);
	if (r.hi - r.lo + 1 < LB_NAT_PROBES)
		return config_fail(ctx, ctx->line, "[%s] %s: \"%s\" has fewer than %d ports",
				   ctx->section, key, config_quote(v, q), LB_NAT_PROBES);
	lb->snat_lo = r.lo;
	lb->snat_hi = r.hi;
	return 0;
}

/* ---- [allow NAME] ---------------------------------------------------------- */

static struct policy_cfg *cur_policy(struct config_ctx *ctx)
{
	struct gw_config_ctx *g = gw_of(ctx);

	return &g->cfg->policy.policies[g->policy];
}

/* device = / group = / app = : each item a selector (lib/policy/policy.h, docs/config.md). */
static int set_pol_sels(struct config_ctx *ctx, const char *key, const char *v, enum policy_key pk)
{
	struct gw_config_ctx *g = gw_of(ctx);
	const char *p = v, *item = NULL, *why = "";
	char sel[ITEM_MAX], q[QBUF];
	size_t len = 0;
	int r;

	while ((r = list_next(&p, p == v, &item, &len, &why)) == 1) {
		item_copy(sel, item, len);
		if (len >= ITEM_MAX)
			return config_fail(ctx, ctx->line, "[%s] %s: \"%s\": item too long",
					   ctx->section, key, config_quote(sel, q));
		r = policy_add(&g->cfg->policy, (size_t)g->policy, pk, sel, &why);
		if (r == -ENOSPC)
			return config_fail(ctx, ctx->line,
					   "[%s] %s: \"%s\": more than %d selectors in all [allow] "
					   "sections together",
					   ctx->section, key, config_quote(sel, q),
					   CG_POLICY_SELECTORS_MAX);
		if (r)
			return config_fail(ctx, ctx->line, "[%s] %s: \"%s\": %s", ctx->section, key,
					   config_quote(sel, q), why);
	}
	if (r < 0)
		return config_fail(ctx, ctx->line, "[%s] %s: \"%s\": %s", ctx->section, key,
				   config_quote(v, q), why);
	return 0;
}

static int set_pol_device(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_pol_sels(ctx, key, v, POLICY_KEY_DEVICE);
}

static int set_pol_group(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_pol_sels(ctx, key, v, POLICY_KEY_GROUP);
}

static int set_pol_app(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_pol_sels(ctx, key, v, POLICY_KEY_APP);
}

static int set_pol_services(struct config_ctx *ctx, const char *key, const char *v)
{
	struct gw_config_ctx *g = gw_of(ctx);

	g->pol_svc_line[g->policy] = ctx->line;
	return set_names(ctx, key, v, g->pol_svc[g->policy], CG_POLICY_SERVICES_MAX,
			 &cur_policy(ctx)->nservices, "service");
}

static int set_pol_mode(struct config_ctx *ctx, const char *key, const char *v)
{
	char q[QBUF];

	if (!strcmp(v, "encrypted"))
		cur_policy(ctx)->mode = CG_TUN_F_ENCRYPTED;
	else if (!strcmp(v, "integrity"))
		cur_policy(ctx)->mode = 0;
	else
		return config_fail(ctx, ctx->line, "[%s] %s: \"%s\" is not encrypted or integrity",
				   ctx->section, key, config_quote(v, q));
	return 0;
}

static const struct config_key gateway_keys[] = {
	{ "interface", set_iface, 1U << 0 },
	{ "name", set_name, 1U << 1 },
	{ "api", set_api, 1U << 2 },
	{ "state_dir", set_state_dir, 1U << 3 },
	{ "default", set_default, 1U << 4 },
	{ "xdp_mode", set_xdp_mode, 1U << 5 },
	{ "flow_timeout", set_flow_timeout, 1U << 6 },
	{ "internal", set_internal, 1U << 7 },
	{ "api_token_file", set_api_token_file, 1U << 8 },
	{ "metrics_public", set_metrics_public, 1U << 9 },
	{ "lb_interfaces", set_lb_ifaces, 1U << 10 },
};

static const struct config_key open_keys[] = {
	{ "tcp", set_open_tcp, 1U << 0 },
	{ "udp", set_open_udp, 1U << 1 },
	{ "to", set_open_to, 1U << 2 },
};

static const struct config_key knock_keys[] = {
	{ "sequence", set_sequence, 1U << 0 }, { "step_timeout", set_step_timeout, 1U << 1 },
	{ "open", set_targets, 1U << 2 },      { "open_for", set_open_for, 1U << 3 },
	{ "to", set_knock_to, 1U << 4 },
};

static const struct config_key auth_keys[] = {
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
	[AK_SPA_RATE] = { "spa_rate", set_auth_spa_rate, 1U << AK_SPA_RATE },
	[AK_SPA_BURST] = { "spa_burst", set_auth_spa_burst, 1U << AK_SPA_BURST },
	[AK_TUN] = { "tun", set_auth_tun, 1U << AK_TUN },
	[AK_MAX_PER_DEVICE] = { "max_sessions_per_device", set_auth_max_per_device,
				1U << AK_MAX_PER_DEVICE },
	[AK_MAX_PER_CONN] = { "max_sessions_per_conn", set_auth_max_per_conn,
			      1U << AK_MAX_PER_CONN },
	[AK_RENEW_AFTER] = { "renew_after", set_auth_renew_after, 1U << AK_RENEW_AFTER },
	[AK_WORKERS] = { "workers", set_auth_workers, 1U << AK_WORKERS },
	[AK_FAST_PATH] = { "fast_path", set_auth_fast_path, 1U << AK_FAST_PATH },
	[AK_TRUST_DOMAIN] = { "trust_domain", set_auth_trust_domain, 1U << AK_TRUST_DOMAIN },
	[AK_CRL] = { "crl", set_auth_crl, 1U << AK_CRL },
	[AK_ENROLL] = { "enroll", set_auth_enroll, 1U << AK_ENROLL },
	[AK_CA_DIR] = { "ca_dir", set_auth_ca_dir, 1U << AK_CA_DIR },
};

static const struct config_key service_keys[] = {
	{ "proto", set_svc_proto, 1U << 0 },
	{ "address", set_svc_address, 1U << 1 },
	{ "ports", set_svc_ports, 1U << 2 },
	{ "backends", set_svc_backends, 1U << 3 },
	{ "health", set_svc_health, 1U << 4 },
	{ "health_interval", set_svc_health_interval, 1U << 5 },
	{ "health_rise", set_svc_health_rise, 1U << 6 },
	{ "health_fall", set_svc_health_fall, 1U << 7 },
	{ "nat", set_svc_nat, 1U << 8 },
	{ "snat", set_svc_snat, 1U << 9 },
	{ "snat_ports", set_svc_snat_ports, 1U << 10 },
};

static const struct config_key policy_keys[] = {
	/* Selector lists may go on over several lines (a line holds 198 characters). */
	{ "device", set_pol_device, 0 },   { "group", set_pol_group, 0 },
	{ "app", set_pol_app, 0 },	   { "services", set_pol_services, 1U << 2 },
	{ "mode", set_pol_mode, 1U << 3 },
};

_Static_assert(NKEYS(auth_keys) <= NKEYS(((struct gw_config_ctx *)0)->key_line), "key_line");

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

/* [open] (name "") or [open NAME]. */
static int open_section(struct config_ctx *ctx, const char *section, const char *name)
{
	struct gw_config_ctx *g = gw_of(ctx);
	struct gw_config *cfg = g->cfg;
	struct open_cfg *o;
	char q[QBUF], qn[QBUF];
	size_t i;

	if (name[0] && !name_valid(name))
		return config_fail(ctx, ctx->line,
				   "[%s]: \"%s\" is not an open section name (" NAME_RULE ")",
				   config_quote(section, q), config_quote(name, qn));
	for (i = 0; i < cfg->nopens; i++)
		if (!strcmp(cfg->opens[i].name, name))
			return config_fail(ctx, ctx->line, "[%s] given twice",
					   config_quote(section, q));
	if (cfg->nopens == CG_OPEN_SECTIONS_MAX)
		return config_fail(ctx, ctx->line, "[%s]: more than %d open sections",
				   config_quote(section, q), CG_OPEN_SECTIONS_MAX);
	o = &cfg->opens[cfg->nopens];
	memset(o, 0, sizeof(*o));
	strcpy(o->name, name);
	o->to.self = 1;
	g->open = (int)cfg->nopens++;
	return 0;
}

static int knock_section(struct config_ctx *ctx, const char *section, const char *name)
{
	struct gw_config_ctx *g = gw_of(ctx);
	struct gw_config *cfg = g->cfg;
	struct knock_cfg *k;
	char q[QBUF], qn[QBUF];
	size_t i;

	if (!name_valid(name))
		return config_fail(ctx, ctx->line,
				   "[%s]: \"%s\" is not a knock name (" NAME_RULE ")",
				   config_quote(section, q), config_quote(name, qn));
	for (i = 0; i < cfg->nknocks; i++)
		if (!strcmp(cfg->knocks[i].name, name))
			return config_fail(ctx, ctx->line, "[knock %s] given twice", name);
	if (cfg->nknocks == CG_KNOCK_MAX_PROFILES)
		return config_fail(ctx, ctx->line, "[knock %s]: more than %d knock sections", name,
				   CG_KNOCK_MAX_PROFILES);
	k = &cfg->knocks[cfg->nknocks];
	memset(k, 0, sizeof(*k));
	strcpy(k->name, name);
	k->prof.step_timeout_ns = SEC(5);
	k->prof.open_for_ns = SEC(30);
	k->prof.to.self = 1;
	g->knock_line[cfg->nknocks] = ctx->line;
	g->knock = (int)cfg->nknocks++;
	return 0;
}

static int service_section(struct config_ctx *ctx, const char *section, const char *name)
{
	struct gw_config_ctx *g = gw_of(ctx);
	struct gw_config *cfg = g->cfg;
	struct service_cfg *svc;
	struct lb_svc_cfg *lb;
	char q[QBUF], qn[QBUF];
	size_t i;

	if (!name_valid(name))
		return config_fail(ctx, ctx->line,
				   "[%s]: \"%s\" is not a service name (" NAME_RULE ")",
				   config_quote(section, q), config_quote(name, qn));
	for (i = 0; i < cfg->policy.nservices; i++)
		if (!strcmp(cfg->policy.services[i].name, name))
			return config_fail(ctx, ctx->line, "[service %s] given twice", name);
	if (cfg->policy.nservices == CG_SERVICES_MAX)
		return config_fail(ctx, ctx->line, "[service %s]: more than %d service sections",
				   name, CG_SERVICES_MAX);
	svc = &cfg->policy.services[cfg->policy.nservices];
	memset(svc, 0, sizeof(*svc));
	strcpy(svc->name, name);
	lb = &cfg->lb[cfg->policy.nservices];
	memset(lb, 0, sizeof(*lb));
	lb->health.interval_ns = SEC(1);
	lb->health.rise = 2;
	lb->health.fall = 2;
	lb->nat = LB_NAT_DNAT;
	lb->snat_lo = LB_SNAT_LO_DEFAULT;
	lb->snat_hi = LB_SNAT_HI_DEFAULT;
	g->svc_line[cfg->policy.nservices] = ctx->line;
	g->service = (int)cfg->policy.nservices++;
	return 0;
}

static int policy_section(struct config_ctx *ctx, const char *section, const char *name)
{
	struct gw_config_ctx *g = gw_of(ctx);
	struct gw_config *cfg = g->cfg;
	struct policy_cfg *pol;
	char q[QBUF], qn[QBUF];
	size_t i;

	if (!name_valid(name))
		return config_fail(ctx, ctx->line,
				   "[%s]: \"%s\" is not a policy name (" NAME_RULE ")",
				   config_quote(section, q), config_quote(name, qn));
	for (i = 0; i < cfg->policy.npolicies; i++)
		if (!strcmp(cfg->policy.policies[i].name, name))
			return config_fail(ctx, ctx->line, "[allow %s] given twice", name);
	if (cfg->policy.npolicies == CG_POLICIES_MAX)
		return config_fail(ctx, ctx->line, "[allow %s]: more than %d allow sections", name,
				   CG_POLICIES_MAX);
	pol = &cfg->policy.policies[cfg->policy.npolicies];
	memset(pol, 0, sizeof(*pol));
	strcpy(pol->name, name);
	/* Payloads are secret unless the section opts out (docs/config.md). */
	pol->mode = CG_TUN_F_ENCRYPTED;
	g->pol_line[cfg->policy.npolicies] = ctx->line;
	g->policy = (int)cfg->policy.npolicies++;
	return 0;
}

static int auth_section(struct config_ctx *ctx)
{
	struct gw_config_ctx *g = gw_of(ctx);
	struct auth_cfg *a = &g->cfg->auth;

	if (g->seen & SEEN_SEC_AUTH)
		return config_fail(ctx, ctx->line, "[auth] given twice");
	g->seen |= SEEN_SEC_AUTH;
	g->auth_line = ctx->line;
	a->enabled = true;
	a->port = 8443;
	a->spa_port = 62201;
	a->data_port = 51900;
	a->session_ttl_ns = SEC(10 * 60);
	a->keepalive_ns = SEC(5);
	a->dead_after_ns = CG_DEAD_AFTER_DEFAULT_NS;
	a->spa_open_ns = SEC(30);
	a->spa_rate = 2;
	a->spa_burst = 5;
	a->max_sessions_per_device = 4;
	a->max_sessions_per_conn = 2;
	a->renew_after_pct = 50;
	a->levers = PATH_LEVERS_ALL;
	strcpy(a->trust_domain, CG_TRUST_DOMAIN_DEFAULT);
	return 0;
}

static int gw_section(struct config_ctx *ctx, const char *section)
{
	struct gw_config_ctx *g = gw_of(ctx);
	const char *arg;
	char q[QBUF];

	g->open = -1;
	g->knock = -1;
	g->service = -1;
	g->policy = -1;
	if (!strcmp(section, "gateway")) {
		if (g->seen & SEEN_SEC_GATEWAY)
			return config_fail(ctx, ctx->line, "[gateway] given twice");
		g->seen |= SEEN_SEC_GATEWAY;
		g->gw_line = ctx->line;
		return 0;
	}
	if (!strcmp(section, "auth"))
		return auth_section(ctx);
	if ((arg = section_arg(section, "open")))
		return open_section(ctx, section, arg);
	if ((arg = section_arg(section, "knock")))
		return knock_section(ctx, section, arg);
	if ((arg = section_arg(section, "service")))
		return service_section(ctx, section, arg);
	if ((arg = section_arg(section, "allow")))
		return policy_section(ctx, section, arg);
	return config_fail(ctx, ctx->line, "unknown section [%s]", config_quote(section, q));
}

/* [gateway] keys go into g->seen, next to the sections' bits. */
static const struct config_key *gw_keys(struct config_ctx *ctx, size_t *n, unsigned int **seen,
					unsigned int **lines)
{
	struct gw_config_ctx *g = gw_of(ctx);

	if (!strcmp(ctx->section, "gateway")) {
		*n = NKEYS(gateway_keys);
		*seen = &g->seen;
		return gateway_keys;
	}
	if (g->open >= 0) {
		*n = NKEYS(open_keys);
		return open_keys;
	}
	if (!strcmp(ctx->section, "auth")) {
		*n = NKEYS(auth_keys);
		*lines = g->key_line;
		return auth_keys;
	}
	if (g->knock >= 0) {
		*n = NKEYS(knock_keys);
		return knock_keys;
	}
	if (g->service >= 0) {
		*n = NKEYS(service_keys);
		return service_keys;
	}
	if (g->policy >= 0) {
		*n = NKEYS(policy_keys);
		return policy_keys;
	}
	return NULL;
}

static bool port_is(const struct cg_port *p, uint8_t proto, uint16_t port)
{
	return p->proto == proto && ntohs(p->port) == port;
}

static bool dests_self_only(const struct cg_dests *d)
{
	return d->self && !d->n;
}

/* "open" or "open NAME": the title of open section @i, for messages. */
static const char *open_title(const struct gw_config *cfg, size_t i, char *buf)
{
	snprintf(buf, CG_NAME_MAX + 8, "open%s%s", cfg->opens[i].name[0] ? " " : "",
		 cfg->opens[i].name);
	return buf;
}

/*
 * The auth port opens only after a valid SPA, and every packet to the data
 * port must carry a capability: neither may be open to anyone or be a knock
 * step. The SPA port must reach the daemon, so it is made open.
 */
static int finish_auth_ports(struct config_ctx *ctx)
{
	struct gw_config_ctx *g = gw_of(ctx);
	struct gw_config *cfg = g->cfg;
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
	char port[16], title[CG_NAME_MAX + 8];
	size_t i, j, d;

	for (i = 0; i < cfg->nopen; i++) {
		if (port_is(&cfg->open[i], IPPROTO_TCP, a->port))
			return config_fail(ctx, g->open_port_line[i],
					   "[%s] tcp: %u is the [auth] port, which only a valid "
					   "SPA opens",
					   open_title(cfg, cfg->open_sec[i], title), a->port);
		if (port_is(&cfg->open[i], IPPROTO_UDP, a->data_port))
			return config_fail(ctx, g->open_port_line[i],
					   "[%s] udp: %u is the [auth] data_port, where every "
					   "packet must carry a capability",
					   open_title(cfg, cfg->open_sec[i], title), a->data_port);
		if (port_is(&cfg->open[i], IPPROTO_UDP, a->spa_port) &&
		    !dests_self_only(&cfg->opens[cfg->open_sec[i]].to))
			return config_fail(ctx, g->open_port_line[i],
					   "[%s] udp: %u is the [auth] spa_port, which leads to "
					   "the gateway only: its to must be self",
					   open_title(cfg, cfg->open_sec[i], title), a->spa_port);
	}
	for (i = 0; i < cfg->nknocks; i++) {
		p = &cfg->knocks[i].prof;
		for (j = 0; j < p->ntargets; j++)
			if (port_is(&p->targets[j], IPPROTO_TCP, a->port) &&
			    !dests_self_only(&p->to))
				return config_fail(
					ctx, g->target_line[i],
					"[knock %s] open: tcp/%u is the [auth] port, "
					"which leads to the gateway only: its to must be "
					"self",
					cfg->knocks[i].name, a->port);
		for (j = 0; j < p->nsteps; j++)
			for (d = 0; d < sizeof(dark) / sizeof(dark[0]); d++)
				if (port_is(&p->steps[j], dark[d].proto, dark[d].port)) {
					port_format(&p->steps[j], port, sizeof(port));
					return config_fail(
						ctx, g->seq_line[i],
						"[knock %s] sequence: %s is the [auth] %s, so "
						"it can never be a knock step",
						cfg->knocks[i].name, port, dark[d].what);
				}
	}
	for (i = 0; i < cfg->nopen; i++)
		if (!memcmp(&cfg->open[i], &spa, sizeof(spa)))
			return 0;
	if (cfg->nopen == CG_OPEN_MAX)
		return config_fail(ctx, g->auth_line,
				   "[auth] spa_port: more than %d open ports in all with it",
				   CG_OPEN_MAX);
	/* Its own set, past the [open] sections': the gateway only. */
	memset(&cfg->opens[cfg->nopens], 0, sizeof(cfg->opens[0]));
	cfg->opens[cfg->nopens].to.self = 1;
	cfg->open_sec[cfg->nopen] = (uint8_t)cfg->nopens++;
	cfg->open[cfg->nopen++] = spa;
	return 0;
}

static int finish_auth(struct config_ctx *ctx)
{
	static const int port_keys[3] = { AK_PORT, AK_SPA_PORT, AK_DATA_PORT };
	struct gw_config_ctx *g = gw_of(ctx);
	struct gw_config *cfg = g->cfg;
	struct auth_cfg *a = &cfg->auth;
	uint16_t ports[3] = { a->port, a->spa_port, a->data_port };
	size_t len, i;
	int err;

	if (!a->enabled) {
		/* A balanced service serves whoever the gate lets in: it needs no [auth]. */
		for (i = 0; i < cfg->policy.nservices && (cfg->lb[i].enabled || g->svc_lbk_line[i]);
		     i++)
			;
		if (i < cfg->policy.nservices &&
		    (!cfg->policy.npolicies || g->svc_line[i] < g->pol_line[0]))
			return config_fail(ctx, g->svc_line[i],
					   "[service %s] needs an [auth] section (or backends)",
					   cfg->policy.services[i].name);
		if (cfg->policy.npolicies)
			return config_fail(ctx, g->pol_line[0],
					   "[allow %s] needs an [auth] section",
					   cfg->policy.policies[0].name);
		return 0;
	}
	if (!a->ca[0])
		return config_fail(ctx, g->auth_line, "[auth] ca is required");
	if (!a->cert[0])
		return config_fail(ctx, g->auth_line, "[auth] cert is required");
	if (!a->key[0])
		return config_fail(ctx, g->auth_line, "[auth] key is required");
	if (!a->pool.family)
		return config_fail(ctx, g->auth_line, "[auth] pool is required");
	if (a->dead_after_ns <= a->keepalive_ns)
		return config_fail(
			ctx, config_later(g->key_line[AK_DEAD_AFTER], g->key_line[AK_KEEPALIVE]),
			"[auth] dead_after (%llus) must be longer than keepalive (%llus)",
			(unsigned long long)(a->dead_after_ns / NS_PER_SEC),
			(unsigned long long)(a->keepalive_ns / NS_PER_SEC));
	err = config_check_ports(ctx, "auth", ports, port_keys, auth_keys, g->key_line);
	if (!err)
		err = finish_auth_ports(ctx);
	if (err)
		return err;
	if (!a->devices[0])
		config_dir_of(a->ca, a->devices, sizeof(a->devices));
	if (!a->ca_dir[0])
		config_dir_of(a->ca, a->ca_dir, sizeof(a->ca_dir));
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

/* How many lb_vips entries (one per port) a balanced service takes. */
static size_t lb_vip_ports(const struct service_cfg *svc)
{
	size_t i, n = 0;

	for (i = 0; i < svc->nports; i++)
		n += (size_t)(svc->ports[i].hi - svc->ports[i].lo) + 1;
	return n;
}

/* A balanced service: one VIP, TCP or UDP, backends of its family, checks that fit. */
static int finish_lb(struct config_ctx *ctx, size_t i, size_t *nvips)
{
	struct gw_config_ctx *g = gw_of(ctx);
	struct gw_config *cfg = g->cfg;
	struct service_cfg *svc = &cfg->policy.services[i], *o;
	struct lb_svc_cfg *lb = &cfg->lb[i];
	uint8_t vip[16];
	char a[LB_BE_STRLEN];
	size_t j, k, r, s;

	if (!lb->enabled) {
		if (g->svc_lbk_line[i])
			return config_fail(ctx, g->svc_lbk_line[i],
					   "[service %s] health, nat and snat need backends",
					   svc->name);
		return 0;
	}
	if (svc->proto != IPPROTO_TCP && svc->proto != IPPROTO_UDP)
		return config_fail(ctx, g->svc_be_line[i],
				   "[service %s] backends: only tcp and udp services are balanced",
				   svc->name);
	if (svc->addr.plen != (svc->addr.family == AF_INET ? 32 : 128))
		return config_fail(ctx, g->svc_addr_line[i],
				   "[service %s] address: a balanced service's address is one "
				   "address (its VIP), not a prefix",
				   svc->name);
	if (!g->svc_health_line[i])
		lb->health.kind = svc->proto == IPPROTO_TCP ? HEALTH_TCP : HEALTH_NONE;
	else if (svc->proto == IPPROTO_UDP && lb->health.kind != HEALTH_NONE)
		return config_fail(ctx, g->svc_health_line[i],
				   "[service %s] health: a udp service's backends can only be "
				   "health = none (checks are TCP)",
				   svc->name);
	if (lb->nat != LB_NAT_FULL && (lb->snat_set || lb->snat_lo != LB_SNAT_LO_DEFAULT ||
				       lb->snat_hi != LB_SNAT_HI_DEFAULT))
		return config_fail(ctx, g->svc_lbk_line[i],
				   "[service %s] snat and snat_ports need nat = full", svc->name);
	cidr_to_mapped(&svc->addr, vip, &(uint8_t){ 0 });
	if (lb->snat_set && addr_is_v4mapped(lb->snat) != addr_is_v4mapped(vip))
		return config_fail(ctx, g->svc_lbk_line[i],
				   "[service %s] snat: not the address family of the VIP",
				   svc->name);
	for (j = lb->first; j < lb->first + lb->n; j++)
		if (addr_is_v4mapped(cfg->lb_be[j].addr) != addr_is_v4mapped(vip)) {
			lb_be_format(&cfg->lb_be[j], a, sizeof(a));
			return config_fail(ctx, g->svc_be_line[i],
					   "[service %s] backends: %s is not of the VIP's "
					   "address family",
					   svc->name, a);
		}
	/* One (proto, VIP, port) leads to one service. */
	for (j = 0; j < i; j++) {
		o = &cfg->policy.services[j];
		if (!cfg->lb[j].enabled || o->proto != svc->proto ||
		    memcmp(o->addr.addr, svc->addr.addr, sizeof(o->addr.addr)) ||
		    o->addr.family != svc->addr.family)
			continue;
		for (r = 0; r < svc->nports; r++)
			for (s = 0; s < o->nports; s++)
				if (svc->ports[r].lo <= o->ports[s].hi &&
				    o->ports[s].lo <= svc->ports[r].hi)
					return config_fail(ctx, g->svc_ports_line[i],
							   "[service %s] ports: the VIP's ports "
							   "overlap [service %s]'s",
							   svc->name, o->name);
	}
	k = lb_vip_ports(svc);
	if (*nvips + k > LB_VIPS_MAX)
		return config_fail(ctx, g->svc_ports_line[i],
				   "[service %s] ports: the balanced services have more than %d "
				   "ports in all",
				   svc->name, LB_VIPS_MAX);
	*nvips += k;
	return 0;
}

static int finish_services(struct config_ctx *ctx)
{
	struct gw_config_ctx *g = gw_of(ctx);
	struct gw_config *cfg = g->cfg;
	struct service_cfg *svc;
	char a[CG_ADDRSTRLEN], b[CG_ADDRSTRLEN];
	size_t i, nvips = 0;
	int err;

	for (i = 0; i < cfg->policy.nservices; i++) {
		svc = &cfg->policy.services[i];
		if (!svc->proto)
			return config_fail(ctx, g->svc_line[i], "[service %s] proto is required",
					   svc->name);
		if (!svc->addr.family)
			return config_fail(ctx, g->svc_line[i], "[service %s] address is required",
					   svc->name);
		if (svc->proto != IPPROTO_ICMP && !svc->nports)
			return config_fail(ctx, g->svc_line[i],
					   "[service %s] ports is required for %s", svc->name,
					   proto_name(svc->proto));
		if (svc->proto == IPPROTO_ICMP && svc->nports)
			return config_fail(ctx, g->svc_ports_line[i],
					   "[service %s] ports: icmp has no ports", svc->name);
		if (svc->proto == IPPROTO_ICMP && svc->addr.family == AF_INET6)
			svc->proto = IPPROTO_ICMPV6;
		/* A scope into the pool would reach other clients and the gateway's TUN. */
		if (cfg->auth.enabled && svc->addr.family == AF_INET &&
		    v4_overlap(&svc->addr, &cfg->auth.pool)) {
			cidr_format(&svc->addr, a, sizeof(a));
			cidr_format(&cfg->auth.pool, b, sizeof(b));
			return config_fail(ctx, g->svc_addr_line[i],
					   "[service %s] address: %s overlaps the [auth] pool %s",
					   svc->name, a, b);
		}
		/* In a scope, ::ffff:0:0/96 and longer is IPv4 space: it must pass the check above.
		 */
		if (svc->addr.family == AF_INET6 && svc->addr.plen >= 96 &&
		    addr_is_v4mapped(svc->addr.addr)) {
			cidr_format(&svc->addr, a, sizeof(a));
			return config_fail(
				ctx, g->svc_addr_line[i],
				"[service %s] address: %s is IPv4-mapped: write it as IPv4",
				svc->name, a);
		}
		if ((err = finish_lb(ctx, i, &nvips)))
			return err;
	}
	return 0;
}

static int finish_policies(struct config_ctx *ctx)
{
	struct gw_config_ctx *g = gw_of(ctx);
	struct gw_config *cfg = g->cfg;
	struct cg_scope scopes[CG_MAX_SCOPES];
	struct policy_cfg *pol;
	size_t i, j, s, n = 0;

	for (i = 0; i < cfg->policy.npolicies; i++) {
		pol = &cfg->policy.policies[i];
		if (!pol->ndevsel)
			return config_fail(ctx, g->pol_line[i],
					   "[allow %s] device or group is required (a section "
					   "without them selects no one)",
					   pol->name);
		if (!pol->nservices)
			return config_fail(ctx, g->pol_line[i], "[allow %s] services is required",
					   pol->name);
		for (j = 0; j < pol->nservices; j++) {
			for (s = 0; s < cfg->policy.nservices; s++)
				if (!strcmp(cfg->policy.services[s].name, g->pol_svc[i][j]))
					break;
			if (s == cfg->policy.nservices)
				return config_fail(ctx, g->pol_svc_line[i],
						   "[allow %s] services: there is no [service %s]",
						   pol->name, g->pol_svc[i][j]);
			pol->services[j] = (uint32_t)s;
		}
	}
	for (i = 0; i < cfg->policy.npolicies; i++)
		if (policy_scopes_of(&cfg->policy, i, scopes, CG_MAX_SCOPES, &n) == -E2BIG)
			return config_fail(
				ctx, g->pol_svc_line[i],
				"[allow %s] services: more than %d scopes (one per port range "
				"of each service)",
				cfg->policy.policies[i].name, CG_MAX_SCOPES);
	/*
	 * A subject may match several sections: whom a pattern or a group covers is only known at
	 * a handshake, where policy_scopes refuses a union of more than CG_MAX_SCOPES.
	 */
	return 0;
}

/* The API's default socket is named after the gateway; TCP needs a token (issue 12). */
static int finish_api(struct config_ctx *ctx)
{
	struct gw_config_ctx *g = gw_of(ctx);
	struct gw_config *cfg = g->cfg;
	char why[CG_ERR_MAX];
	struct endpoint ep;

	if (!g->api_line)
		snprintf(cfg->api, sizeof(cfg->api), "unix:" GW_API_DIR "/%s.sock", cfg->name);
	if (endpoint_parse(cfg->api, &ep, why, sizeof(why)))
		return config_fail(ctx, g->api_line, "[gateway] api: %s", why);
	if (ep.family != AF_UNIX && !cfg->api_token_file[0])
		return config_fail(ctx, g->api_line,
				   "[gateway] api = %s is TCP and needs api_token_file (capgate "
				   "token new --file PATH makes one), or use a unix: socket",
				   cfg->api);
	return 0;
}

static int finish_gateway(struct config_ctx *ctx)
{
	struct gw_config_ctx *g = gw_of(ctx);
	struct gw_config *cfg = g->cfg;
	const struct knock_profile *p;
	char port[16];
	size_t i, j, o;
	int err;

	if (!cfg->iface[0])
		return config_fail(ctx, g->gw_line, "[gateway] interface is required");
	if (!cfg->name[0])
		strcpy(cfg->name, cfg->iface);
	if ((err = finish_api(ctx)))
		return err;
	for (i = 0; i < cfg->nlb_ifaces; i++)
		if (!strcmp(cfg->lb_ifaces[i], cfg->iface))
			return config_fail(ctx, g->lb_ifaces_line,
					   "[gateway] lb_interfaces: %s is the gateway's interface "
					   "(the balancer runs there anyway)",
					   cfg->iface);
	for (i = 0; i < cfg->nknocks; i++) {
		p = &cfg->knocks[i].prof;
		if (!p->nsteps)
			return config_fail(ctx, g->knock_line[i], "[knock %s] sequence is required",
					   cfg->knocks[i].name);
		if (!p->ntargets)
			return config_fail(ctx, g->knock_line[i], "[knock %s] open is required",
					   cfg->knocks[i].name);
		/* Open services pass before the knock stage sees them. */
		for (j = 0; j < p->nsteps; j++)
			for (o = 0; o < cfg->nopen; o++)
				if (p->steps[j].proto == cfg->open[o].proto &&
				    p->steps[j].port == cfg->open[o].port) {
					port_format(&p->steps[j], port, sizeof(port));
					return config_fail(
						ctx, g->seq_line[i],
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

static const struct config_kind gw_kind = {
	.section = gw_section,
	.keys = gw_keys,
	.finish = finish_gateway,
};

void config_init(struct gw_config_ctx *ctx, struct gw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "/var/lib/capgate");
	cfg->default_action = GATE_DEFAULT_DROP;
	cfg->xdp_mode = CG_XDP_AUTO;
	cfg->flow_timeout_ns = SEC(5 * 60);

	memset(ctx, 0, sizeof(*ctx));
	ctx->ini.kind = &gw_kind;
	ctx->cfg = cfg;
	ctx->knock = -1;
	ctx->service = -1;
	ctx->policy = -1;
}

int config_parse_string(const char *text, const char *name, struct gw_config *cfg, char *err,
			size_t errlen)
{
	struct gw_config tmp;
	struct gw_config_ctx ctx;
	int ret;

	config_init(&ctx, &tmp);
	ret = config_parse_text(&ctx.ini, text, name, err, errlen);
	if (!ret)
		*cfg = tmp;
	return ret;
}

int config_load(const char *path, struct gw_config *cfg, char *err, size_t errlen)
{
	struct gw_config *tmp = NULL;
	struct auth_cfg *a;
	char *text = NULL, dir[PATH_MAX];
	int ret;

	ret = config_read_file(path, &text, err, errlen);
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
	if ((ret = config_file_dir(path, dir, sizeof(dir), err, errlen)) ||
	    (ret = config_resolve(path, dir, "gateway", "api_token_file", tmp->api_token_file, err,
				  errlen)))
		goto out;
	if (a->enabled) {
		if ((ret = config_resolve(path, dir, "auth", "ca", a->ca, err, errlen)) ||
		    (ret = config_resolve(path, dir, "auth", "cert", a->cert, err, errlen)) ||
		    (ret = config_resolve(path, dir, "auth", "key", a->key, err, errlen)) ||
		    (ret = config_resolve(path, dir, "auth", "devices", a->devices, err, errlen)) ||
		    (a->crl[0] &&
		     (ret = config_resolve(path, dir, "auth", "crl", a->crl, err, errlen))) ||
		    (ret = config_resolve(path, dir, "auth", "ca_dir", a->ca_dir, err, errlen)))
			goto out;
	}
	*cfg = *tmp;
out:
	free(tmp);
	free(text);
	return ret;
}

#define FIELD(sec, key, f)                                                                     \
	{                                                                                      \
		sec " " key, offsetof(struct gw_config, f), sizeof(((struct gw_config *)0)->f) \
	}

/* Everything but the policy, in the order a message names it. */
static const struct {
	const char *name;
	size_t off, len;
} restart_fields[] = {
	FIELD("[gateway]", "interface", iface),
	FIELD("[gateway]", "name", name),
	FIELD("[gateway]", "api", api),
	FIELD("[gateway]", "state_dir", state_dir),
	FIELD("[gateway]", "default", default_action),
	FIELD("[gateway]", "xdp_mode", xdp_mode),
	FIELD("[gateway]", "flow_timeout", flow_timeout_ns),
	FIELD("[gateway]", "internal", internal),
	FIELD("[gateway]", "lb_interfaces", lb_ifaces),
	FIELD("[auth]", "(the section)", auth.enabled),
	FIELD("[auth]", "port", auth.port),
	FIELD("[auth]", "spa_port", auth.spa_port),
	FIELD("[auth]", "data_port", auth.data_port),
	FIELD("[auth]", "ca", auth.ca),
	FIELD("[auth]", "cert", auth.cert),
	FIELD("[auth]", "key", auth.key),
	FIELD("[auth]", "devices", auth.devices),
	FIELD("[auth]", "pool", auth.pool),
	FIELD("[auth]", "session_ttl", auth.session_ttl_ns),
	FIELD("[auth]", "keepalive", auth.keepalive_ns),
	FIELD("[auth]", "dead_after", auth.dead_after_ns),
	FIELD("[auth]", "spa_open", auth.spa_open_ns),
	FIELD("[auth]", "spa_rate", auth.spa_rate),
	FIELD("[auth]", "spa_burst", auth.spa_burst),
	FIELD("[auth]", "max_sessions_per_device", auth.max_sessions_per_device),
	FIELD("[auth]", "max_sessions_per_conn", auth.max_sessions_per_conn),
	FIELD("[auth]", "renew_after", auth.renew_after_pct),
	FIELD("[auth]", "workers", auth.workers),
	FIELD("[auth]", "fast_path", auth.levers),
	FIELD("[auth]", "tun", auth.tun),
	FIELD("[auth]", "trust_domain", auth.trust_domain),
	FIELD("[auth]", "enroll", auth.enroll),
	FIELD("[auth]", "ca_dir", auth.ca_dir),
	FIELD("[open]", "tcp/udp", open),
	FIELD("[open]", "to", opens),
	FIELD("[knock]", "(the sections)", knocks),
};

const char *config_restart_key(const struct gw_config *old, const struct gw_config *new)
{
	static struct gw_config a, b;
	size_t i;

	for (i = 0; i < sizeof(restart_fields) / sizeof(restart_fields[0]); i++)
		if (memcmp((const char *)old + restart_fields[i].off,
			   (const char *)new + restart_fields[i].off, restart_fields[i].len))
			return restart_fields[i].name;
	/* Whatever the table does not name (a key added since): the whole struct, policy aside. */
	a = *old;
	b = *new;
	memset(&a.policy, 0, sizeof(a.policy));
	memset(&b.policy, 0, sizeof(b.policy));
	memset(a.lb, 0, sizeof(a.lb)); /* [service] keys, applied live (docs/lb.md) */
	memset(b.lb, 0, sizeof(b.lb));
	memset(a.lb_be, 0, sizeof(a.lb_be));
	memset(b.lb_be, 0, sizeof(b.lb_be));
	a.nlb_be = b.nlb_be = 0;
	memset(a.auth.crl, 0, sizeof(a.auth.crl)); /* reloaded live too (lib/auth/crl.h) */
	memset(b.auth.crl, 0, sizeof(b.auth.crl));
	return memcmp(&a, &b, sizeof(a)) ? "a key outside [service] and [allow]" : NULL;
}
