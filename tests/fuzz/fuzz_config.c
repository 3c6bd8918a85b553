// SPDX-License-Identifier: GPL-2.0
/* libFuzzer harness for the gateway and client config parsers (*_parse_string). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/config/client.h"
#include "lib/config/gateway.h"
#include "lib/policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What was accepted must be self-consistent: every index in range, every policy fits. */
static void check_gateway(const struct gw_config *cfg)
{
	const struct auth_cfg *a = &cfg->auth;
	struct cg_scope scopes[CG_MAX_SCOPES];
	const struct policy_cfg *p;
	const struct policy_sel *s;
	struct policy_subject sub;
	size_t i, j, k, n, bits;

	if (!cfg->iface[0] || !cfg->name[0] || cfg->nknocks > CG_KNOCK_MAX_PROFILES ||
	    cfg->nopen > CG_OPEN_MAX || cfg->policy.nservices > CG_SERVICES_MAX ||
	    cfg->policy.npolicies > CG_POLICIES_MAX)
		abort();
	if (!a->enabled) {
		if (cfg->policy.nservices || cfg->policy.npolicies)
			abort();
		return;
	}
	if (a->pool.family != AF_INET || a->pool.plen < 8 || a->pool.plen > 30 || !a->ca[0] ||
	    !a->tun[0] || !a->devices[0] || a->port == a->spa_port || a->port == a->data_port ||
	    a->spa_port == a->data_port || a->dead_after_ns <= a->keepalive_ns)
		abort();
	for (i = 0; i < cfg->policy.npolicies; i++) {
		p = &cfg->policy.policies[i];
		if (!p->ndevsel || !p->nservices)
			abort();
		for (j = 0; j < p->nservices; j++)
			if (p->services[j] >= cfg->policy.nservices)
				abort();
		if (policy_scopes_of(&cfg->policy, i, scopes, CG_MAX_SCOPES, &n) || n == 0 ||
		    n > CG_MAX_SCOPES)
			abort();
	}
	/* Every selector is in sections that exist, and an exact name selects those without app. */
	for (i = 0; i < cfg->policy.nsels; i++) {
		s = &cfg->policy.sels[i];
		for (j = 0, k = 0, bits = 0; j < CG_POLICIES_MAX; j++) {
			if (!(s->sections[j / 64] >> (j % 64) & 1))
				continue;
			if (j >= cfg->policy.npolicies)
				abort();
			bits++;
			k += !cfg->policy.policies[j].napps;
		}
		if (!s->text[0] || !bits)
			abort();
		sub = (struct policy_subject){ .device = s->text, .app = "" };
		if (s->kind == POLICY_SEL_NAME && k &&
		    policy_check(&cfg->policy, &sub, NULL) != POLICY_OK)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_config cfg;
	struct client_config cl;
	char err[CG_ERR_MAX];
	char *text;

	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (!config_parse_string(text, "fuzz.ini", &cfg, err, sizeof(err)))
		check_gateway(&cfg);
	else if (!memchr(err, '\0', sizeof(err)) || !strstr(err, "fuzz.ini"))
		abort();
	if (!client_config_parse_string(text, "fuzz.ini", &cl, err, sizeof(err))) {
		if (!cl.ca[0] || !cl.tun[0] || cl.port == cl.spa_port || cl.port == cl.data_port ||
		    cl.spa_port == cl.data_port)
			abort();
	} else if (!memchr(err, '\0', sizeof(err)) || !strstr(err, "fuzz.ini")) {
		abort();
	}
	free(text);
	return 0;
}
