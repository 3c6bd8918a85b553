// SPDX-License-Identifier: GPL-2.0
/* The client config: the [client] section's keys, each checked, and the file's checks. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/tunnel.h"
#include "lib/base/addr.h"
#include "lib/base/name.h"
#include "lib/config/client.h"
#include "lib/config/ini.h"
#include "lib/config/kind.h"
#include "lib/tunnel/path.h"
#include "lib/tunnel/aead.h"

/* client_config_ctx.seen: bits 0..15 are the keys (table index), then this. */
enum {
	SEEN_SEC_CLIENT = 1U << 16,
};

/* The client's reader state around the shared one. */
static struct client_config_ctx *cl_of(struct config_ctx *ctx)
{
	return (struct client_config_ctx *)((char *)ctx - offsetof(struct client_config_ctx, ini));
}

static int set_cl_gateway(struct config_ctx *ctx, const char *key, const char *v)
{
	char q[QBUF];

	if (addr_parse_mapped(v, cl_of(ctx)->cfg->gateway))
		return config_fail(ctx, ctx->line,
				   "[client] %s: \"%s\" is not an IPv4 or IPv6 address", key,
				   config_quote(v, q));
	return 0;
}

static int set_cl_port(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_port(ctx, key, v, &cl_of(ctx)->cfg->port);
}

static int set_cl_spa_port(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_port(ctx, key, v, &cl_of(ctx)->cfg->spa_port);
}

static int set_cl_data_port(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_port(ctx, key, v, &cl_of(ctx)->cfg->data_port);
}

static int set_cl_ca(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_path(ctx, key, v, cl_of(ctx)->cfg->ca);
}

static int set_cl_cert(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_path(ctx, key, v, cl_of(ctx)->cfg->cert);
}

static int set_cl_key(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_path(ctx, key, v, cl_of(ctx)->cfg->key);
}

static int set_cl_name(struct config_ctx *ctx, const char *key, const char *v, char *out)
{
	char q[QBUF];

	if (!name_valid(v))
		return config_fail(ctx, ctx->line,
				   "[client] %s: \"%s\" is not a name (" NAME_RULE ")", key,
				   config_quote(v, q));
	strcpy(out, v);
	return 0;
}

static int set_cl_app(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_cl_name(ctx, key, v, cl_of(ctx)->cfg->app);
}

static int set_cl_device(struct config_ctx *ctx, const char *key, const char *v)
{
	return set_cl_name(ctx, key, v, cl_of(ctx)->cfg->device);
}

static int set_cl_trust_domain(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_trust_domain(ctx, key, v, cl_of(ctx)->cfg->trust_domain);
}

static int set_cl_tun(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_ifname(ctx, key, v, cl_of(ctx)->cfg->tun);
}

static int set_cl_retry_max(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_duration(ctx, key, v, SEC(1), SEC(3600), "1s..1h",
				   &cl_of(ctx)->cfg->retry_max_ns);
}

static int set_cl_workers(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_workers(ctx, key, v, &cl_of(ctx)->cfg->workers);
}

static int set_cl_fast_path(struct config_ctx *ctx, const char *key, const char *v)
{
	return config_set_fast_path(ctx, key, v, &cl_of(ctx)->cfg->levers);
}

static int set_cl_mode(struct config_ctx *ctx, const char *key, const char *v)
{
	char q[QBUF];

	if (!strcmp(v, "encrypted"))
		cl_of(ctx)->cfg->mode = CG_TUN_F_ENCRYPTED;
	else if (!strcmp(v, "policy"))
		cl_of(ctx)->cfg->mode = 0;
	else
		return config_fail(ctx, ctx->line, "[client] %s: \"%s\" is not encrypted or policy",
				   key, config_quote(v, q));
	return 0;
}

static int set_cl_cipher(struct config_ctx *ctx, const char *key, const char *v)
{
	enum cg_cipher c = cipher_by_name(v);
	char q[QBUF];

	if (!c && strcmp(v, "auto"))
		return config_fail(ctx, ctx->line, "[client] %s: \"%s\" is not auto, %s or %s", key,
				   config_quote(v, q), cipher_name(CG_CIPHER_CHACHA20_POLY1305),
				   cipher_name(CG_CIPHER_AES256_GCM));
	cl_of(ctx)->cfg->cipher = (uint8_t)c;
	return 0;
}

/* [client] keys: index in client_keys[] and client_config_ctx.key_line[]. */
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
	CK_WORKERS,
	CK_FAST_PATH,
	CK_MODE,
	CK_CIPHER,
	CK_TRUST_DOMAIN,
};

static const struct config_key client_keys[] = {
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
	[CK_WORKERS] = { "workers", set_cl_workers, 1U << CK_WORKERS },
	[CK_FAST_PATH] = { "fast_path", set_cl_fast_path, 1U << CK_FAST_PATH },
	[CK_MODE] = { "mode", set_cl_mode, 1U << CK_MODE },
	[CK_CIPHER] = { "cipher", set_cl_cipher, 1U << CK_CIPHER },
	[CK_TRUST_DOMAIN] = { "trust_domain", set_cl_trust_domain, 1U << CK_TRUST_DOMAIN },
};

_Static_assert(NKEYS(client_keys) <= NKEYS(((struct client_config_ctx *)0)->key_line), "key_line");

static int client_section(struct config_ctx *ctx, const char *section)
{
	struct client_config_ctx *c = cl_of(ctx);
	char q[QBUF];

	if (strcmp(section, "client"))
		return config_fail(ctx, ctx->line,
				   "unknown section [%s] (a client config has [client])",
				   config_quote(section, q));
	if (c->seen & SEEN_SEC_CLIENT)
		return config_fail(ctx, ctx->line, "[client] given twice");
	c->seen |= SEEN_SEC_CLIENT;
	c->client_line = ctx->line;
	return 0;
}

/* The keys go into c->seen: client_finish checks the required ones. */
static const struct config_key *client_keys_of(struct config_ctx *ctx, size_t *n,
					       unsigned int **seen, unsigned int **lines)
{
	struct client_config_ctx *c = cl_of(ctx);

	if (strcmp(ctx->section, "client"))
		return NULL;
	*n = NKEYS(client_keys);
	*seen = &c->seen;
	*lines = c->key_line;
	return client_keys;
}

static int client_finish(struct config_ctx *ctx)
{
	static const int port_keys[3] = { CK_PORT, CK_SPA_PORT, CK_DATA_PORT };
	static const int required[] = { CK_GATEWAY, CK_CA, CK_CERT, CK_KEY };
	const struct client_config_ctx *c = cl_of(ctx);
	const struct client_config *cfg = c->cfg;
	uint16_t ports[3] = { cfg->port, cfg->spa_port, cfg->data_port };
	size_t i;

	for (i = 0; i < NKEYS(required); i++)
		if (!(c->seen & client_keys[required[i]].bit))
			return config_fail(ctx, c->client_line, "[client] %s is required",
					   client_keys[required[i]].name);
	return config_check_ports(ctx, "client", ports, port_keys, client_keys, c->key_line);
}

static const struct config_kind client_kind = {
	.section = client_section,
	.keys = client_keys_of,
	.finish = client_finish,
};

void client_config_init(struct client_config_ctx *ctx, struct client_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->port = 8443;
	cfg->spa_port = 62201;
	cfg->data_port = 51900;
	snprintf(cfg->tun, sizeof(cfg->tun), "cg0");
	cfg->retry_max_ns = SEC(30);
	cfg->levers = PATH_LEVERS_ALL;
	strcpy(cfg->trust_domain, CG_TRUST_DOMAIN_DEFAULT);

	memset(ctx, 0, sizeof(*ctx));
	ctx->ini.kind = &client_kind;
	ctx->cfg = cfg;
}

int client_config_parse_string(const char *text, const char *name, struct client_config *cfg,
			       char *err, size_t errlen)
{
	struct client_config tmp;
	struct client_config_ctx ctx;
	int ret;

	client_config_init(&ctx, &tmp);
	ret = config_parse_text(&ctx.ini, text, name, err, errlen);
	if (!ret)
		*cfg = tmp;
	return ret;
}

int client_config_load(const char *path, struct client_config *cfg, char *err, size_t errlen)
{
	struct client_config tmp;
	char *text = NULL, dir[PATH_MAX];
	int ret;

	ret = config_read_file(path, &text, err, errlen);
	if (ret)
		goto out;
	if ((ret = client_config_parse_string(text, path, &tmp, err, errlen)) ||
	    (ret = config_file_dir(path, dir, sizeof(dir), err, errlen)) ||
	    (ret = config_resolve(path, dir, "client", "ca", tmp.ca, err, errlen)) ||
	    (ret = config_resolve(path, dir, "client", "cert", tmp.cert, err, errlen)) ||
	    (ret = config_resolve(path, dir, "client", "key", tmp.key, err, errlen)))
		goto out;
	*cfg = tmp;
out:
	free(text);
	return ret;
}
