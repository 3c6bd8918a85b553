/* SPDX-License-Identifier: GPL-2.0 */
/* The client agent: SPA, the control channel, the TUN and the tagged data path. */
#ifndef CG_AGENT_H
#define CG_AGENT_H

#include "lib/config/client.h"

/*
 * Runs the agent until a signal arrives on sigfd (a signalfd for SIGTERM and
 * SIGINT): sends SPA, opens the TLS control channel, builds the TUN with the
 * session's address and a route per scope, then carries packets (integrity
 * mode, DESIGN §3) and keeps the channel alive, renewing before expiry. When
 * the gateway is unreachable or the channel drops it tears the TUN down and
 * retries with exponential backoff up to cfg->retry_max_ns. When this host's
 * network changes under the control channel (lib/agent/netwatch.h) it
 * reconnects at once, and a lost session is named in the next hello
 * (resume: the gateway may keep its address; docs/tunnel.md, "Roaming"); a
 * network change during the backoff retries at once. On the signal it
 * says bye (the gateway frees the session at once) and returns 0; it returns
 * -errno only for a local failure that a retry cannot fix (bad key file, no
 * TUN support), with a reason logged.
 */
int agent_run(const struct client_config *cfg, int sigfd);

#endif
