// SPDX-License-Identifier: GPL-2.0
/* capgate ca init|issue|sign|token: a CA, certificates (lib/auth/ca.c), enrollment tokens. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include "cmd/capgate/cmd.h"
#include "lib/auth/ca.h"
#include "lib/auth/identity.h"
#include "lib/auth/token.h"
#include "lib/base/parse_num.h"

#define CA_USAGE                                                                            \
	"capgate ca init --dir DIR --gateway NAME [--ip ADDR]... [--trust-domain TD]\n"     \
	"                [--key-type ed25519|p256] [--gateway-key-type ed25519|p256] "      \
	"[--force]\n"                                                                       \
	"       capgate ca issue --dir DIR --device NAME [--app APP] [--group G]...\n"      \
	"                [--key-type ed25519|p256] [--force]\n"                             \
	"       capgate ca sign --dir DIR --csr FILE --device NAME [--app APP] [--group "   \
	"G]...\n"                                                                           \
	"                [--out FILE] [--force]\n"                                          \
	"       capgate ca token --dir DIR --device NAME [--app APP] [--group G]... --ttl " \
	"DURATION"

enum {
	OPT_FORCE = 256,
	OPT_TRUST_DOMAIN,
	OPT_KEY_TYPE,
	OPT_GW_KEY_TYPE,
	OPT_CSR,
	OPT_OUT,
	OPT_TTL,
};

struct ca_opts {
	const char *dir;
	const char *gateway;
	const char *device;
	const char *app;
	const char *trust_domain;
	const char *csr;
	const char *out;
	const char *ips[CA_MAX_IPS];
	size_t nips;
	const char *groups[CG_CERT_GROUPS_MAX];
	size_t ngroups;
	enum ca_key_type key_type, gw_key_type;
	bool key_type_set, gw_key_type_set;
	uint64_t ttl_ns;
	bool force;
};

static const struct ca_opts ca_defaults = {
	.dir = NULL,
};

static const struct cg_opt ca_table[] = {
	{ "dir", 'd', required_argument, "DIR", "where the CA and certificates live" },
	{ "gateway", 'g', required_argument, "NAME",
	  "init: the gateway's name (certificate CN and DNS SAN)" },
	{ "ip", 'i', required_argument, "ADDR",
	  "init: an address of the gateway for the SAN (repeatable)" },
	{ "trust-domain", OPT_TRUST_DOMAIN, required_argument, "TD",
	  "init: the SPIFFE trust domain, [a-z0-9._-] (default capgate)" },
	{ "key-type", OPT_KEY_TYPE, required_argument, "TYPE",
	  "ed25519 (default) or p256: init the CA's and gateway's keys, issue the device's" },
	{ "gateway-key-type", OPT_GW_KEY_TYPE, required_argument, "TYPE",
	  "init: the gateway's key type, if not --key-type's" },
	{ "device", 'n', required_argument, "NAME", "issue, sign: device name, " NAME_RULE },
	{ "app", 'a', required_argument, "APP", "issue, sign: an app certificate of the device" },
	{ "group", 'G', required_argument, "G",
	  "issue, sign: a group of the device (the subject's O; repeatable, at most 8)" },
	{ "csr", OPT_CSR, required_argument, "FILE", "sign: the CSR (PEM or DER)" },
	{ "out", OPT_OUT, required_argument, "FILE",
	  "sign: where the certificate goes (default DIR/KEYNAME.crt)" },
	{ "force", OPT_FORCE, no_argument, NULL, "replace existing key and certificate files" },
	{ "ttl", OPT_TTL, required_argument, "DURATION",
	  "token: how long the token may be used (30m, 1h; at most 168h)" },
};

static int key_type_opt(const char *arg, enum ca_key_type *t)
{
	if (!ca_key_type_parse(arg, t))
		return 0;
	fprintf(stderr, "capgate: bad key type \"%s\": want ed25519 or p256\n", arg);
	return -1;
}

static int ca_opt(int val, const char *arg, void *ctx)
{
	struct ca_opts *o = ctx;

	switch (val) {
	case 'd':
		o->dir = arg;
		return 0;
	case 'g':
		o->gateway = arg;
		return 0;
	case 'n':
		o->device = arg;
		return 0;
	case 'a':
		o->app = arg;
		return 0;
	case 'i':
		if (o->nips == CA_MAX_IPS) {
			fprintf(stderr, "capgate: at most %d --ip addresses\n", CA_MAX_IPS);
			return -1;
		}
		o->ips[o->nips++] = arg;
		return 0;
	case 'G':
		if (o->ngroups == CG_CERT_GROUPS_MAX) {
			fprintf(stderr, "capgate: at most %d --group (a certificate's limit)\n",
				CG_CERT_GROUPS_MAX);
			return -1;
		}
		o->groups[o->ngroups++] = arg;
		return 0;
	case OPT_TRUST_DOMAIN:
		o->trust_domain = arg;
		return 0;
	case OPT_KEY_TYPE:
		o->key_type_set = true;
		return key_type_opt(arg, &o->key_type);
	case OPT_GW_KEY_TYPE:
		o->gw_key_type_set = true;
		return key_type_opt(arg, &o->gw_key_type);
	case OPT_CSR:
		o->csr = arg;
		return 0;
	case OPT_OUT:
		o->out = arg;
		return 0;
	case OPT_FORCE:
		o->force = true;
		return 0;
	case OPT_TTL:
		if (parse_duration(arg, NS_PER_SEC, TOKEN_TTL_MAX_S * NS_PER_SEC, &o->ttl_ns)) {
			fprintf(stderr, "capgate: --ttl: 1s to 168h\n");
			return -1;
		}
		return 0;
	}
	return -1;
}

static int ca_do_init(const struct ca_opts *o)
{
	const struct ca_init_args a = {
		.gw_name = o->gateway,
		.ips = o->ips,
		.nips = o->nips,
		.trust_domain = o->trust_domain,
		.key_type = o->key_type,
		.gw_key_type = o->gw_key_type_set ? o->gw_key_type : o->key_type,
		.flags = o->force ? CA_FORCE : 0,
	};
	char err[512] = "";

	if (ca_init_with(o->dir, &a, err, sizeof(err))) {
		fprintf(stderr, "capgate: ca init: %s\n", err);
		return 1;
	}
	fprintf(stderr, "wrote %s/ca.crt, ca.key, gateway.crt, gateway.key (keys mode 0600)\n",
		o->dir);
	return 0;
}

static int ca_do_issue(const struct ca_opts *o)
{
	const struct ca_issue_args a = {
		.device = o->device,
		.app = o->app,
		.groups = o->groups,
		.ngroups = o->ngroups,
		.key_type = o->key_type,
		.flags = o->force ? CA_FORCE : 0,
	};
	char err[512] = "", key[CG_KEY_NAME_MAX];

	if (ca_issue_with(o->dir, &a, err, sizeof(err))) {
		fprintf(stderr, "capgate: ca issue: %s\n", err);
		return 1;
	}
	identity_key_name(o->device, o->app ? o->app : "", key, sizeof(key));
	fprintf(stderr, "wrote %s/%s.crt and %s.key (key mode 0600)\n", o->dir, key, key);
	return 0;
}

/* The CSR file's bytes into buf (at most CA_CSR_MAX). Length, or -1 with a message. */
static long csr_read(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f) {
		fprintf(stderr, "capgate: ca sign: %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, cap, f);
	if (ferror(f) || n == cap) {
		fprintf(stderr, "capgate: ca sign: %s: %s\n", path,
			ferror(f) ? "read error" : "larger than a CSR can be");
		fclose(f);
		return -1;
	}
	fclose(f);
	return (long)n;
}

static int ca_do_sign(const struct ca_opts *o)
{
	char err[512] = "", key[CG_KEY_NAME_MAX], out[4096];
	const char *app = o->app ? o->app : "";
	uint8_t buf[CA_CSR_MAX + 1];
	struct ca_signer *s = NULL;
	X509_REQ *req = NULL;
	X509 *x = NULL;
	long n;
	int ret = 1;

	n = csr_read(o->csr, buf, sizeof(buf));
	if (n < 0)
		return 1;
	req = ca_csr_parse(buf, (size_t)n, err, sizeof(err));
	if (!req) {
		fprintf(stderr, "capgate: ca sign: %s: %s\n", o->csr, err);
		return 1;
	}
	s = ca_signer_open(o->dir, err, sizeof(err));
	if (!s ||
	    ca_signer_sign(s, req, o->device, app, o->groups, o->ngroups, &x, err, sizeof(err))) {
		fprintf(stderr, "capgate: ca sign: %s\n", err);
		goto out;
	}
	identity_key_name(o->device, app, key, sizeof(key));
	if (!o->out && snprintf(out, sizeof(out), "%s/%s.crt", o->dir, key) >= (int)sizeof(out)) {
		fprintf(stderr, "capgate: ca sign: %s: path too long\n", o->dir);
		goto out;
	}
	if (ca_cert_write(o->out ? o->out : out, x, o->force ? CA_FORCE : 0, err, sizeof(err))) {
		fprintf(stderr, "capgate: ca sign: %s\n", err);
		goto out;
	}
	fprintf(stderr, "wrote %s (the CSR's subject and extensions are not used)\n",
		o->out ? o->out : out);
	ret = 0;
out:
	X509_free(x);
	X509_REQ_free(req);
	ca_signer_free(s);
	return ret;
}

/* Prints the token on stdout (and nothing else there: scripts take it as it is). */
static int ca_do_token(const struct ca_opts *o)
{
	char tok[TOKEN_STR_LEN + 1], err[512] = "", key[CG_KEY_NAME_MAX];
	const char *app = o->app ? o->app : "";

	if (token_create(o->dir, o->device, app, o->groups, o->ngroups, o->ttl_ns / NS_PER_SEC,
			 (uint64_t)time(NULL), tok, sizeof(tok), err, sizeof(err))) {
		fprintf(stderr, "capgate: ca token: %s\n", err);
		return 1;
	}
	printf("%s\n", tok);
	identity_key_name(o->device, app, key, sizeof(key));
	fprintf(stderr, "token for %s, valid %llu s, one use (its record is in %s/tokens/)\n", key,
		(unsigned long long)(o->ttl_ns / NS_PER_SEC), o->dir);
	return 0;
}

int cmd_ca(int argc, char **argv, const struct cg_global *g)
{
	struct ca_opts o = ca_defaults;
	bool leaf_opts;
	const char *verb;
	int n, ret;

	(void)g;
	ret = opts_parse(argc, argv, CA_USAGE, ca_table, sizeof(ca_table) / sizeof(ca_table[0]),
			 ca_opt, &o);
	if (ret)
		return ret == 1 ? 0 : 2;
	n = argc - optind;
	verb = n == 1 ? argv[optind] : "";
	leaf_opts = o.device || o.app || o.ngroups;
	if (!strcmp(verb, "init") && o.dir && o.gateway && !leaf_opts && !o.csr && !o.out)
		return ca_do_init(&o);
	if (!strcmp(verb, "issue") && o.dir && o.device && !o.gateway && !o.nips &&
	    !o.trust_domain && !o.gw_key_type_set && !o.csr && !o.out)
		return ca_do_issue(&o);
	if (!strcmp(verb, "sign") && o.dir && o.device && o.csr && !o.gateway && !o.nips &&
	    !o.trust_domain && !o.gw_key_type_set && !o.key_type_set)
		return ca_do_sign(&o);
	if (!strcmp(verb, "token") && o.dir && o.device && o.ttl_ns && !o.gateway && !o.nips &&
	    !o.trust_domain && !o.gw_key_type_set && !o.key_type_set && !o.csr && !o.out &&
	    !o.force)
		return ca_do_token(&o);
	fprintf(stderr, "usage: %s\n", CA_USAGE);
	return 2;
}
