// SPDX-License-Identifier: GPL-2.0
/* A stand-in daemon for the API's balancer operations (tests/lib/lb_stub.h). */
#include <errno.h>
#include <stdio.h>

#include "tests/lib/lb_stub.h"

const char LB_STUB_LIST[] =
	"{\"services\":[{\"name\":\"web\",\"proto\":\"tcp\",\"vip\":\"10.10.2.100\",\"ports\":"
	"\"80\",\"nat\":\"dnat\",\"health\":\"http GET /healthz\",\"no_backend\":3,\"flows_full\":"
	"0,\"backends\":[{\"address\":\"10.10.2.2:80\",\"state\":\"up\",\"weight\":1,\"flows\":4,"
	"\"new_flows\":10,\"packets\":120,\"bytes\":9000,\"health\":{\"result\":\"ok\",\"detail\":"
	"200,\"checks\":12,\"failures\":0,\"age_ms\":400}},{\"address\":\"[fd00:2::3]:80\","
	"\"state\":\"down\",\"weight\":2,\"flows\":0,\"new_flows\":7,\"packets\":70,\"bytes\":"
	"4200,\"health\":{\"result\":\"bad_status\",\"detail\":503,\"checks\":9,\"failures\":3,"
	"\"age_ms\":12500}}]},{\"name\":\"dns\",\"proto\":\"udp\",\"vip\":\"fd00:2::53\",\"ports\":"
	"\"53\",\"nat\":\"full\",\"health\":\"none\",\"no_backend\":0,\"flows_full\":1,"
	"\"backends\":[]}]}";

static json_t *backend(const struct lb_be *be, uint32_t weight, bool drain)
{
	char a[LB_BE_STRLEN];

	lb_be_format(be, a, sizeof(a));
	return json_pack("{s:s,s:s,s:i,s:i}", "address", a, "state", drain ? "draining" : "up",
			 "weight", (int)weight, "flows", 0);
}

static int stub_list(struct gateway *gw, json_t **out)
{
	struct lb_stub *st = (struct lb_stub *)gw;

	if (st->list_ret)
		return st->list_ret;
	*out = json_loads(LB_STUB_LIST, 0, NULL);
	return *out ? 0 : -ENOMEM;
}

static void record(struct lb_stub *st, const char *svc, const struct lb_be *be)
{
	st->calls++;
	snprintf(st->svc, sizeof(st->svc), "%s", svc);
	st->be = *be;
}

static int stub_add(struct gateway *gw, const char *svc, const struct lb_be *be, json_t **out)
{
	struct lb_stub *st = (struct lb_stub *)gw;

	record(st, svc, be);
	if (!st->ret || st->ret == -EEXIST)
		*out = backend(be, be->weight, be->drain);
	return st->ret;
}

static int stub_set(struct gateway *gw, const char *svc, const struct lb_be *be,
		    const struct lb_be_patch *patch, json_t **out)
{
	struct lb_stub *st = (struct lb_stub *)gw;

	record(st, svc, be);
	st->patch = *patch;
	if (!st->ret)
		*out = backend(be, patch->has_weight ? patch->weight : 1,
			       patch->has_drain && patch->drain);
	return st->ret;
}

static int stub_del(struct gateway *gw, const char *svc, const struct lb_be *be)
{
	struct lb_stub *st = (struct lb_stub *)gw;

	record(st, svc, be);
	return st->ret;
}

const struct api_ops lb_stub_ops = {
	.lb_list = stub_list,
	.lb_backend_add = stub_add,
	.lb_backend_set = stub_set,
	.lb_backend_del = stub_del,
};
