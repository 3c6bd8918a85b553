/* SPDX-License-Identifier: GPL-2.0 */
/* Names of the gate's verdict counters and summing of per-CPU values. */
#ifndef CG_DATAPATH_STATS_H
#define CG_DATAPATH_STATS_H

#include <stdbool.h>

#include "abi/stats.h"

/* "pass_open", "drop_default", ... for an enum cg_stat; NULL if out of range. */
const char *stat_name(unsigned int stat);

/* The verdict ("pass"/"drop") and the reason ("open", "default") of a counter. */
bool stat_is_pass(unsigned int stat);
const char *stat_reason(unsigned int stat);

#endif
