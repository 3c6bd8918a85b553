/* SPDX-License-Identifier: GPL-2.0 */
/* The gateway config: [gateway] [open] [knock NAME] [auth] [service NAME] [allow NAME]. */
#ifndef CG_CONFIG_GATEWAY_H
#define CG_CONFIG_GATEWAY_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/gate.h"
#include "abi/knock.h"
#include "abi/lb.h"
#include "lib/base/addr.h"
#include "lib/base/name.h"
#include "lib/config/ini.h"
#include "lib/lb/lb.h"
#include "lib/policy/policy.h"

/* Where the API's unix sockets live by default: [gateway] api = unix:GW_API_DIR/NAME.sock */
#define GW_API_DIR "/run/capgate"

#define CG_OPEN_MAX 256
#define CG_OPEN_SECTIONS_MAX 16

/* [open] or [open NAME]: its ports lead to `to` (default: the gateway's own addresses). */
struct open_cfg {
	char name[CG_NAME_MAX]; /* "" for [open] */
	struct cg_dests to;
};

/*
 * [auth] dead_after when the file does not set it, and the worker's when its
 * caller does not (lib/auth/privsep.h): four keepalives (5 s) missed.
 */
#define CG_DEAD_AFTER_DEFAULT_NS (20ULL * 1000000000ULL)

enum cg_xdp_mode {
	CG_XDP_AUTO = 0, /* native where the driver has it, else generic */
	CG_XDP_NATIVE,
	CG_XDP_GENERIC,
};

struct knock_cfg {
	char name[CG_NAME_MAX];
	struct knock_profile prof; /* ports in network order, as the gate reads them */
};

/*
 * [auth]: present only when the section is in the file (auth.enabled). With
 * it, config_finish adds udp/spa_port to open[] (the SPA packet must reach
 * the daemon); the auth port stays dark until a valid SPA opens it, and the
 * data port is the capability stage's, so neither may be in [open].
 */
struct auth_cfg {
	bool enabled;
	uint16_t port;		/* TLS auth port, default 8443; reachable only after SPA */
	uint16_t spa_port;	/* default 62201 */
	uint16_t data_port;	/* default 51900 */
	char ca[CG_PATH_MAX];	/* required */
	char cert[CG_PATH_MAX]; /* required */
	char key[CG_PATH_MAX]; /* required; refused if group/other can read it (checked at start) */
	char devices[CG_PATH_MAX]; /* dir of device certs KEYNAME.crt (SPA); default: ca's dir */
	/* SPIFFE trust domain of device certificates, default "capgate" (lib/auth/identity.h) */
	char trust_domain[CG_TRUST_DOMAIN_MAX + 1];
	char crl[CG_PATH_MAX];	 /* CRLs (PEM, one or more, or DER) signed by ca; "" = none */
	struct cidr pool;	 /* virtual addresses, required (IPv4, /8../30) */
	uint64_t session_ttl_ns; /* default 10m, 30s..24h */
	uint64_t keepalive_ns;	 /* default 5s: client keepalive interval */
	uint64_t dead_after_ns;	 /* default 20s: control channel silent this long -> revoke */
	uint64_t spa_open_ns;	 /* default 30s: how long a valid SPA opens the auth port */
	uint32_t spa_rate;	 /* default 2: SPA packets per second per source, after the burst */
	uint32_t spa_burst;	 /* default 5: SPA packets a source may send back to back */
	uint32_t max_sessions_per_device; /* default 4: control channels (addresses) per device */
	uint32_t max_sessions_per_conn;	  /* default 2: map slots per channel (in use + replaced) */
	uint32_t
		renew_after_pct; /* default 50: a renewal before this % of session_ttl is refused */
	unsigned int workers;  /* data path workers, 0 (default): one per CPU but one, at least 1 */
	unsigned int levers;   /* fast_path: enum path_lever bits, default all */
	char tun[IF_NAMESIZE]; /* return-path TUN device, default "cg-<name>" truncated */
	/*
	 * enroll = yes: the auth port also takes TLS clients without a certificate, for one
	 * enroll message with a token (lib/auth/token.h); default no. ca_dir holds ca.crt,
	 * ca.key and tokens/ (default: ca's dir), read by the privileged parent only.
	 */
	bool enroll;
	char ca_dir[CG_PATH_MAX];
};

/* [gateway] lb_interfaces: at most this many besides [gateway] interface. */
#define CG_LB_IFACES_MAX 8

/*
 * A [service NAME] with backends = is balanced (docs/lb.md): its address is
 * the VIP (one address), its ports the VIP's ports. Indexed like
 * policy.services; enabled false for a service without backends.
 */
struct lb_svc_cfg {
	bool enabled;
	uint32_t first, n;	   /* its backends: gw_config.lb_be[first .. first + n) */
	struct health_cfg health;  /* health, health_interval, health_rise, health_fall */
	uint8_t nat;		   /* nat = dnat | full (enum lb_nat) */
	bool snat_set;		   /* snat = ADDR given; else the source toward each backend */
	uint8_t snat[16];	   /* 16-byte form */
	uint16_t snat_lo, snat_hi; /* snat_ports = LO-HI, default 61000-65535 */
};

struct gw_config {
	char iface[IF_NAMESIZE];	  /* [gateway] interface, required */
	char name[CG_NAME_MAX];		  /* [gateway] name, default: iface */
	char api[128];			  /* [gateway] api, default unix:/run/capgate/NAME.sock */
	char api_token_file[CG_PATH_MAX]; /* [gateway] api_token_file: required for a TCP api */
	bool metrics_public;		  /* [gateway] metrics_public: GET /metrics without it */
	char state_dir[256];		  /* [gateway] state_dir, default /var/lib/capgate */
	uint32_t default_action;	  /* [gateway] default = drop|pass (enum gate_default) */
	uint32_t xdp_mode;	  /* [gateway] xdp_mode = auto|native|generic (enum cg_xdp_mode) */
	uint64_t flow_timeout_ns; /* [gateway] flow_timeout, default 5m */
	struct cg_port open[CG_OPEN_MAX]; /* [open ...] tcp = / udp =, and [auth] spa_port */
	uint8_t open_sec[CG_OPEN_MAX];	  /* open[i] leads to opens[open_sec[i]].to */
	size_t nopen;
	struct open_cfg opens[CG_OPEN_SECTIONS_MAX + 1]; /* + one for the SPA port (self) */
	size_t nopens;
	struct cg_dests internal; /* [gateway] internal: sources refused from outside */
	struct knock_cfg knocks[CG_KNOCK_MAX_PROFILES]; /* [knock NAME] */
	size_t nknocks;
	struct auth_cfg auth;		       /* [auth] */
	struct policy policy;		       /* [service NAME] and [allow NAME] */
	struct lb_svc_cfg lb[CG_SERVICES_MAX]; /* [service NAME] backends and their keys */
	struct lb_be lb_be[LB_BACKENDS_MAX];   /* every service's backends, in file order */
	size_t nlb_be;
	char lb_ifaces[CG_LB_IFACES_MAX][IF_NAMESIZE]; /* [gateway] lb_interfaces */
	size_t nlb_ifaces;
};

/*
 * The reader's state for a gateway config: config_init sets it up, then
 * config_section / config_line / config_finish (lib/config/ini.h) run on
 * &ctx->ini. The fields past ini are private to lib/config/gateway.c.
 */
struct gw_config_ctx {
	struct config_ctx ini;
	struct gw_config *cfg;
	unsigned int seen;	   /* bit per [gateway] key and section, to refuse repeats */
	int open;		   /* index of the [open] section being read, or -1 */
	int knock;		   /* index of the [knock] section being read, or -1 */
	int service;		   /* index of the [service] section being read, or -1 */
	int policy;		   /* index of the [allow] section being read, or -1 */
	unsigned int gw_line;	   /* line of [gateway] */
	unsigned int api_line;	   /* line of [gateway] api (0: the default) */
	unsigned int auth_line;	   /* line of [auth] */
	unsigned int key_line[24]; /* line of each [auth] key */
	unsigned int open_port_line[CG_OPEN_MAX];	 /* line that gave each open port */
	unsigned int open_to_line[CG_OPEN_SECTIONS_MAX]; /* line of each [open] to = */
	unsigned int knock_line[CG_KNOCK_MAX_PROFILES];	 /* line of each [knock NAME] */
	unsigned int seq_line[CG_KNOCK_MAX_PROFILES];	 /* line of each sequence = */
	unsigned int target_line[CG_KNOCK_MAX_PROFILES]; /* line of each open = */
	unsigned int svc_line[CG_SERVICES_MAX];		 /* line of each [service NAME] */
	unsigned int svc_addr_line[CG_SERVICES_MAX];
	unsigned int svc_ports_line[CG_SERVICES_MAX];
	unsigned int svc_be_line[CG_SERVICES_MAX];     /* line of each backends = */
	unsigned int svc_lbk_line[CG_SERVICES_MAX];    /* line of the first other balancer key */
	unsigned int svc_health_line[CG_SERVICES_MAX]; /* line of health = */
	unsigned int lb_ifaces_line;
	unsigned int pol_line[CG_POLICIES_MAX]; /* line of each [allow NAME] */
	unsigned int pol_svc_line[CG_POLICIES_MAX];
	/* services = names, resolved to indexes by config_finish (sections may come later) */
	char pol_svc[CG_POLICIES_MAX][CG_POLICY_SERVICES_MAX][CG_NAME_MAX];
};

/* Fills *cfg with the defaults; ctx refers to cfg until config_finish. */
void config_init(struct gw_config_ctx *ctx, struct gw_config *cfg);

/*
 * Parses INI text / a file. On error returns -EINVAL (or -errno if the file
 * cannot be read) and writes "FILE:LINE: reason" into err. *cfg is written
 * only on success. config_load also makes the relative [auth] paths (ca,
 * cert, key, devices) relative to the file's directory; config_parse_string
 * leaves them as written.
 */
int config_parse_string(const char *text, const char *name, struct gw_config *cfg, char *err,
			size_t errlen);
int config_load(const char *path, struct gw_config *cfg, char *err, size_t errlen);

/*
 * What a live reload cannot apply: NULL if old and new differ only in their
 * [service] and [allow] sections (the policy and the balanced services),
 * else the section or key that changed ("[gateway] interface", "[auth]
 * pool", "[open]", "[knock]"), which needs a restart. [auth] crl may change
 * too (a reload reads the new file).
 */
const char *config_restart_key(const struct gw_config *old, const struct gw_config *new);

#endif
