/* SPDX-License-Identifier: GPL-2.0 */
/* The tunnel data path in user space: TUN <-> UDP workers for the gateway and the agent. */
#ifndef CG_TUNNEL_PATH_H
#define CG_TUNNEL_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/tunnel.h"
#include "lib/tunnel/aead.h"
#include "lib/tunnel/offload.h"
#include "lib/tunnel/wire.h"

/*
 * One TUN device and its workers. The gateway's path carries the return path
 * of both modes (TUN -> tag or seal -> UDP to the session's endpoint) and the
 * receive side of encrypted mode (the XDP gate prefilters, the data socket
 * delivers, the worker opens, checks and writes the inner packet to the TUN;
 * integrity packets never reach it: the gate decapsulates them). The agent's
 * path carries both directions of its one session (two during a renewal).
 *
 * Threads: path_start runs one worker per queue of a multi-queue TUN, each
 * with its own UDP socket (the gateway's share the data port with
 * SO_REUSEPORT, so one client's packets stay on one worker). Sessions are
 * set and removed by the control thread; workers read them without a lock
 * (a sequence count per slot) and keep their own counters.
 */

enum path_role {
	PATH_GATEWAY = 1,
	PATH_CLIENT,
};

/* The levers of the fast path. Each can be turned off (to measure it, or to work around a kernel).
 */
enum path_lever {
	PATH_MMSG = 1U << 0,	    /* recvmmsg/sendmmsg batches */
	PATH_UDP_GSO = 1U << 1,	    /* UDP_SEGMENT: one send for a run of equal-size packets */
	PATH_UDP_GRO = 1U << 2,	    /* UDP_GRO: one receive for a run of packets */
	PATH_TUN_OFFLOAD = 1U << 3, /* IFF_VNET_HDR + TUNSETOFFLOAD: TSO/USO in, GSO out */
	PATH_LEVERS_ALL = (1U << 4) - 1,
};

/* "mmsg", "udp_gso", "udp_gro", "tun_offload"; NULL for anything else. */
const char *path_lever_name(unsigned int lever);
/*
 * Parses "all", "none" or a space/comma separated list of lever names into
 * *out. 0 or -EINVAL.
 */
int path_levers_parse(const char *s, unsigned int *out);

struct path_cfg {
	enum path_role role;
	const char *tun; /* name or pattern ("cg%d"); the kernel picks one for NULL/"" */
	unsigned int
		workers; /* 0: one per online CPU but one, at least 1 (at most PATH_WORKERS_MAX) */
	unsigned int levers; /* enum path_lever bits wanted */
	/* PATH_GATEWAY */
	uint16_t data_port; /* bound by every worker (SO_REUSEPORT), all addresses */
	int sessions_fd; /* the gate's tun_sessions map: integrity endpoints, read every 100 ms */
	int windows_fd;	 /* the gate's tun_windows map (mmap): encrypted replay windows */
	uint8_t pool_base[16]; /* the [auth] pool's network address, IPv4-mapped */
	/* PATH_CLIENT */
	uint8_t gateway[16]; /* IPv4-mapped for IPv4 */
	uint16_t gateway_port;
	/*
	 * No TUN, no socket, no worker, replay windows in memory (windows_fd
	 * unused): the session table and path_check_packet only, for tests
	 * and fuzzing.
	 */
	bool detached;
};

#define PATH_WORKERS_MAX 8

/* What one session gives the data path. Keys are copied; the caller wipes its own. */
struct path_session {
	uint32_t id;
	uint8_t mode;	       /* 0 integrity, CG_TUN_F_ENCRYPTED */
	enum cg_cipher cipher; /* encrypted mode */
	uint64_t expires_ns;   /* CLOCK_MONOTONIC */
	/*
	 * rx: what this end opens (gateway: c2s AEAD key; client: s2c AEAD key,
	 * or for integrity the s2c MAC key in the first 16 bytes); tx: what it
	 * seals with (gateway: s2c AEAD or MAC key; client: c2s AEAD or MAC).
	 */
	uint8_t rx_key[CG_AEAD_KEY_LEN];
	uint8_t tx_key[CG_AEAD_KEY_LEN];
	uint8_t vip[16];
	uint32_t nscopes;
	struct cg_scope scopes[CG_MAX_SCOPES];
	uint8_t ep_addr[16]; /* gateway: a known endpoint to start with (renewal), port 0 = none */
	uint16_t ep_port;    /* network order */
};

/* Counters of the whole path (all workers), for stats and metrics. */
enum path_tx_stat {
	PATH_TX_SENT,	     /* packets sealed or tagged and sent */
	PATH_TX_NO_SESSION,  /* gateway: no session holds the inner destination */
	PATH_TX_NO_ENDPOINT, /* the session has sent nothing authenticated yet */
	PATH_TX_EXHAUSTED,   /* the session's counter reached CG_AEAD_COUNTER_MAX */
	PATH_TX_MALFORMED,   /* a TUN packet that is not IPv4/IPv6, or a bad offload header */
	PATH_TX_TOO_BIG,     /* did not fit the path MTU learnt for the endpoint: "too big" sent */
	PATH_TX_ERROR,	     /* the send failed */
	PATH_TX_STAT_MAX
};

struct path_counters {
	uint64_t rx[TUN_MAX]; /* received tunnel packets by verdict (TUN_OK: written to the TUN) */
	uint64_t rx_tun_errors; /* TUN writes that failed */
	uint64_t tx[PATH_TX_STAT_MAX];
	uint64_t rx_bytes, tx_bytes;	     /* inner bytes */
	uint64_t icmp_sent;		     /* "too big" written back into the TUN */
	uint64_t icmp_suppressed;	     /* ... and held back by the rate limit */
	uint64_t rx_keepalives;		     /* keepalives received (in rx[TUN_OK] too) */
	uint64_t offload[OFFLOAD_NCOUNTERS]; /* field failures (lib/tunnel/offload.h) */
	unsigned int levers;		     /* in force now (a lever the kernel refused is off) */
};

/* "sent", "no_session", ...; "?" otherwise. */
const char *path_tx_stat_name(unsigned int i);

struct path;

/*
 * Opens the TUN (its queues) and the sockets; no thread runs yet. NULL with
 * errno and a message in err.
 */
struct path *path_new(const struct path_cfg *cfg, char *err, size_t errlen);
/* The TUN's actual name. */
const char *path_tun(const struct path *p);
/*
 * The client's keepalive: if no worker has sent anything for idle_ns, one
 * CG_TUN_KEEPALIVE packet for the current session (abi/tunnel.h), so that
 * the gateway follows a NAT that rebinds a silent client's port. From the
 * control thread. 1 sent, 0 not needed, -ENOENT no session, -errno.
 */
int path_keepalive(struct path *p, uint64_t idle_ns);

/* The first worker's data socket (the client's is connected to the gateway: its path MTU). */
int path_socket(const struct path *p);
/* Starts the workers. 0 or -errno. */
int path_start(struct path *p);
/* Stops and joins the workers, closes everything (the TUN goes away), wipes the keys. NULL ok. */
void path_free(struct path *p);

/*
 * Installs or replaces the session in its slot (CG_SESSION_SLOT(id)); for
 * the client the newest session set is the one packets are sealed for. Its
 * replay window starts empty (the gateway's is the slot's in the gate's
 * tun_windows map, which the gate reads: set the session here before the
 * gate's map names it). 0, -EINVAL (id 0, bad mode or cipher) or
 * -ENOMEM (no AEAD context).
 */
int path_session_set(struct path *p, const struct path_session *s);
/*
 * New scopes for a session the path holds (n <= CG_MAX_SCOPES), checked by
 * the workers from their next packet; its keys, counters, endpoint and
 * window stay (a packet a worker is committing as this runs may be refused).
 * 0, -ENOENT or -EINVAL.
 */
int path_session_scopes(struct path *p, uint32_t id, const struct cg_scope *scopes, uint32_t n);
/* Removes it (workers stop using it at once; its keys are wiped). 0 or -ENOENT. */
int path_session_del(struct path *p, uint32_t id);

struct path_session_info {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint8_t ep_addr[16];
	uint16_t ep_port; /* network order, 0 = none */
};
/* What the workers know of a session. 0 or -ENOENT. */
int path_session_info(struct path *p, uint32_t id, struct path_session_info *out);

/*
 * What a worker does with one datagram from its data socket, up to (not
 * including) the TUN write: parse, session, mode, expiry, replay window,
 * tag or AEAD (in place), inner packet (gateway: source and scope by
 * abi/scope.h, client: destination), window update, endpoint. Counted like
 * a worker's packets. For a detached path, or before path_start. On TUN_OK
 * *inner and *len (if not NULL) are the inner packet inside pkt.
 */
enum tun_verdict path_check_packet(struct path *p, uint8_t *pkt, size_t len, const uint8_t from[16],
				   uint16_t from_port, const uint8_t **inner, size_t *inner_len);

/* Sums the workers' counters. */
void path_counters(struct path *p, struct path_counters *out);

#endif
