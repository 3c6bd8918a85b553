/* SPDX-License-Identifier: GPL-2.0 */
/* A stand-in daemon for the API's balancer operations: records what each call got. */
#ifndef CG_TESTS_LB_STUB_H
#define CG_TESTS_LB_STUB_H

#include "lib/api/api.h"

/*
 * Pass a struct lb_stub as the struct gateway of api_new/api_ctx with
 * lb_stub_ops. lb_list answers LB_STUB_LIST (services "web", with two
 * backends, and "dns"), or list_ret when set; add/set/del record their
 * arguments, count calls and return ret, answering on success (and add's
 * -EEXIST) with {"address":..,"state":"up"|"draining","weight":W,"flows":0}.
 */
struct lb_stub {
	int calls; /* lb_backend_add/set/del calls (lb_list, a read, is not counted) */
	int ret;
	int list_ret;
	char svc[64];
	struct lb_be be;
	struct lb_be_patch patch;
};

extern const struct api_ops lb_stub_ops;
extern const char LB_STUB_LIST[];

#endif
