// SPDX-License-Identifier: GPL-2.0
/* Knock profiles as the gate holds them (abi/knock.h), as JSON for the API. */
#include <errno.h>
#include <stdio.h>

#include <jansson.h>

#include "lib/base/addr.h"
#include "lib/base/parse_num.h"
#include "lib/base/portspec.h"
#include "lib/datapath/knock.h"

static json_t *ports_json(const struct cg_port *p, size_t n)
{
	json_t *a = json_array();
	char buf[16];
	size_t i;

	for (i = 0; a && i < n; i++) {
		port_format(&p[i], buf, sizeof(buf));
		if (json_array_append_new(a, json_string(buf))) {
			json_decref(a);
			a = NULL;
		}
	}
	return a;
}

/* "self" and the prefixes of @d ("10.10.2.0/24", "2001:db8:2::/48"). */
static json_t *dests_json(const struct cg_dests *d)
{
	json_t *a = json_array();
	char addr[CG_ADDRSTRLEN], buf[CG_ADDRSTRLEN + 8];
	unsigned int i, plen;

	if (a && d->self && json_array_append_new(a, json_string("self")))
		goto fail;
	for (i = 0; a && i < d->n && i < CG_DEST_MAX; i++) {
		addr_format_mapped(d->p[i].addr, addr, sizeof(addr));
		plen = d->p[i].plen;
		if (addr_is_v4mapped(d->p[i].addr) && plen >= 96)
			plen -= 96;
		snprintf(buf, sizeof(buf), "%s/%u", addr, plen);
		if (json_array_append_new(a, json_string(buf)))
			goto fail;
	}
	return a;
fail:
	json_decref(a);
	return NULL;
}

int knock_profile_json(const char *name, const struct knock_profile *p, json_t **out)
{
	json_t *j;

	j = json_pack(
		"{s:s, s:o?, s:I, s:o?, s:I, s:o?}", "name", name, "sequence",
		ports_json(p->steps,
			   p->nsteps < CG_KNOCK_MAX_STEPS ? p->nsteps : CG_KNOCK_MAX_STEPS),
		"step_timeout", (json_int_t)(p->step_timeout_ns / NS_PER_SEC), "open",
		ports_json(p->targets,
			   p->ntargets < CG_KNOCK_MAX_TARGETS ? p->ntargets : CG_KNOCK_MAX_TARGETS),
		"open_for", (json_int_t)(p->open_for_ns / NS_PER_SEC), "to", dests_json(&p->to));
	if (!j || !json_object_get(j, "sequence") || !json_object_get(j, "open") ||
	    !json_object_get(j, "to")) {
		json_decref(j);
		return -ENOMEM;
	}
	*out = j;
	return 0;
}
