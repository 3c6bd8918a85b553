/* SPDX-License-Identifier: GPL-2.0 */
/* The client config (capgate connect): its one [client] section. */
#ifndef CG_CONFIG_CLIENT_H
#define CG_CONFIG_CLIENT_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/base/name.h"
#include "lib/config/ini.h"

/* [client] of a client config. Ports in host order. */
struct client_config {
	uint8_t gateway[16];	/* numeric IPv4/IPv6 address, required; IPv4 as ::ffff:a.b.c.d */
	uint16_t port;		/* TLS auth port, default 8443 */
	uint16_t spa_port;	/* default 62201 */
	uint16_t data_port;	/* default 51900 */
	char ca[CG_PATH_MAX];	/* required; relative paths: see client_config_load */
	char cert[CG_PATH_MAX]; /* required */
	char key[CG_PATH_MAX];	/* required */
	/*
	 * Who the client is comes from its certificate (identity_from_cert in
	 * trust_domain): app and device, where given, must be the certificate's
	 * (capgate connect refuses to start otherwise). Default "".
	 */
	char app[CG_NAME_MAX];
	char device[CG_NAME_MAX];
	char trust_domain[CG_TRUST_DOMAIN_MAX + 1]; /* default "capgate" */
	char tun[IF_NAMESIZE];			    /* default "cg0" */
	uint64_t retry_max_ns;			    /* reconnect backoff cap, default 30s, 1s..1h */
	unsigned int workers; /* data path workers, 0 (default): one per CPU but one, at least 1 */
	unsigned int levers;  /* fast_path: enum path_lever bits, default all */
	uint8_t mode;	      /* policy (0, the default): what the gateway grants;
				 encrypted (CG_TUN_F_ENCRYPTED): nothing less */
	uint8_t cipher;	      /* auto (0, the default) or one enum cg_cipher */
};

/*
 * The reader's state for a client config: client_config_init sets it up,
 * then config_section / config_line / config_finish (lib/config/ini.h) run
 * on &ctx->ini and read [client] only. The fields past ini are private to
 * lib/config/client.c.
 */
struct client_config_ctx {
	struct config_ctx ini;
	struct client_config *cfg;
	unsigned int seen;	   /* bit per [client] key, and the section's own */
	unsigned int client_line;  /* line of [client] */
	unsigned int key_line[16]; /* line of each [client] key */
};

/* Fills *cfg with the defaults; ctx refers to cfg until config_finish. */
void client_config_init(struct client_config_ctx *ctx, struct client_config *cfg);

/*
 * Parses INI text / a file, as config_parse_string and config_load do for a
 * gateway config. client_config_load makes relative ca, cert and key paths
 * relative to the file's directory (made absolute);
 * client_config_parse_string leaves them as written.
 */
int client_config_parse_string(const char *text, const char *name, struct client_config *cfg,
			       char *err, size_t errlen);
int client_config_load(const char *path, struct client_config *cfg, char *err, size_t errlen);

#endif
