/* SPDX-License-Identifier: GPL-2.0 */
/* Knock profiles as the gate holds them (abi/knock.h), as JSON for the API. */
#ifndef CG_DATAPATH_KNOCK_H
#define CG_DATAPATH_KNOCK_H

#include <jansson.h>

#include "abi/knock.h"

/*
 * {"name":"ssh","sequence":["tcp/7000",...],"step_timeout":5,"open":["tcp/22"],
 *  "open_for":30}, durations in whole seconds. Returns 0 and a new value the
 * caller owns (json_decref) in *out, or -ENOMEM.
 */
int knock_profile_json(const char *name, const struct knock_profile *p, json_t **out);

#endif
