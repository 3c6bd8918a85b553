// SPDX-License-Identifier: GPL-2.0
/* The privileged side of auth: SPA, the auth worker's requests, sessions, the return path. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/sock_diag.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <sodium.h>

#include "abi/knock.h"
#include "abi/tunnel.h"
#include "lib/auth/authd.h"
#include "lib/auth/ca.h"
#include "lib/auth/crl.h"
#include "lib/auth/pool.h"
#include "lib/auth/privsep.h"
#include "lib/auth/registry.h"
#include "lib/auth/revoke.h"
#include "lib/auth/session.h"
#include "lib/auth/spa.h"
#include "lib/auth/tls.h"
#include "lib/auth/token.h"
#include "lib/base/file.h"
#include "lib/base/log.h"
#include "lib/base/parse_num.h"
#include "lib/base/strbuf.h"
#include "lib/base/udp.h"
#include "lib/datapath/sessmap.h"
#include "lib/policy/policy.h"
#include "lib/tunnel/aead.h"
#include "lib/tunnel/keys.h"
#include "lib/tunnel/path.h"
#include "lib/tunnel/pmtu.h"
#include "lib/tunnel/tun.h"
#include "lib/tunnel/wire.h"

/*
 * The replay cache holds a share per key name (a device's own certificate and
 * each of its apps' are apart) with live packets at once, each with this many
 * nonces; past that a new key name waits (busy, counted). Patterns and groups
 * no longer bound the fleet, so this is a fixed size.
 */
#define SPA_DEVICES 4096
#define SPA_NONCES_PER_DEVICE 64
/* SPA refusals: at most one log line per reason this often. */
#define SPA_LOG_INTERVAL_NS (5ULL * NS_PER_SEC)

/*
 * SPA outcomes beyond the parser's: a valid packet asking for another port,
 * the door that could not be opened, the nonce state that could not be saved,
 * a revoked device, and packets the kernel dropped on the SPA socket before
 * the daemon read them (spa_drops_sync).
 */
enum {
	SPA_STAT_PORT = SPA_MAX,
	SPA_STAT_ERROR,
	SPA_STAT_STATE,
	SPA_STAT_REVOKED,
	SPA_STAT_KERNEL_DROPPED,
	SPA_STAT_MAX
};

enum auth_stat {
	AUTH_GRANTED,
	AUTH_DENIED_POLICY,
	AUTH_DENIED_POOL,
	AUTH_DENIED_INTERNAL,
	AUTH_DENIED_DEVICE_LIMIT, /* the device holds max_sessions_per_device channels */
	AUTH_RENEWED,
	AUTH_REFUSED_RENEW_EARLY, /* a renewal before renew_after of the lifetime */
	AUTH_REVOKED,		  /* control channel closed, dead or bye */
	AUTH_REVOKED_BYE,	  /* ... of which the client said bye */
	AUTH_REVOKED_TIMEOUT,	  /* ... of which silent past dead_after */
	AUTH_REVOKED_ADMIN,
	AUTH_EXPIRED,
	AUTH_REPLACED_FREED_EARLY, /* a replaced session freed before its overlap ended (cap) */
	AUTH_REFUSED_MSG,	   /* worker message refused by the request table */
	AUTH_REFUSED_SEQUENCE,	   /* worker message out of its connection's order */
	AUTH_WORKER_UNREACHED,	   /* a reply the worker's full socket did not take */
	AUTH_RESUMED,		   /* a new channel took over its device's session and address */
	AUTH_RESUME_REFUSED,	   /* a resume that may not: the session got a new address */
	AUTH_REFUSED_IDENTITY,	   /* the worker: a certificate without a valid SPIFFE identity */
	AUTH_REFUSED_APP_MISMATCH, /* the worker: hello's app is not the certificate's */
	AUTH_DENIED_REVOKED,	   /* a handshake of a revoked device, app or certificate */
	AUTH_REVOKED_LISTED,	   /* a live session a new revocation covers, ended */
	AUTH_RESCOPED,		   /* a live session given new scopes by a policy change */
	AUTH_REVOKED_POLICY,	   /* a live session a policy change no longer allows, ended */
	AUTH_CRL_RELOADED,	   /* [auth] crl changed and was read again */
	AUTH_CRL_RELOAD_FAILED,	   /* ... and refused: the previous CRLs stay */
	AUTH_CRL_EXPIRED,	   /* a CRL read past its nextUpdate (honoured, warned) */
	AUTH_STAT_MAX
};

static const char *const auth_stat_names[AUTH_STAT_MAX] = {
	[AUTH_GRANTED] = "granted",
	[AUTH_DENIED_POLICY] = "denied_policy",
	[AUTH_DENIED_POOL] = "denied_pool",
	[AUTH_DENIED_INTERNAL] = "denied_internal",
	[AUTH_DENIED_DEVICE_LIMIT] = "denied_device_limit",
	[AUTH_RENEWED] = "renewed",
	[AUTH_REFUSED_RENEW_EARLY] = "refused_renew_early",
	[AUTH_REVOKED] = "revoked",
	[AUTH_REVOKED_BYE] = "revoked_bye",
	[AUTH_REVOKED_TIMEOUT] = "revoked_timeout",
	[AUTH_REVOKED_ADMIN] = "revoked_admin",
	[AUTH_EXPIRED] = "expired",
	[AUTH_REPLACED_FREED_EARLY] = "replaced_freed_early",
	[AUTH_REFUSED_MSG] = "refused_message",
	[AUTH_REFUSED_SEQUENCE] = "refused_sequence",
	[AUTH_WORKER_UNREACHED] = "worker_unreached",
	[AUTH_RESUMED] = "resumed",
	[AUTH_RESUME_REFUSED] = "resume_refused",
	[AUTH_REFUSED_IDENTITY] = "refused_identity",
	[AUTH_REFUSED_APP_MISMATCH] = "refused_app_mismatch",
	[AUTH_DENIED_REVOKED] = "denied_revoked",
	[AUTH_REVOKED_LISTED] = "sessions_revoked",
	[AUTH_RESCOPED] = "sessions_rescoped",
	[AUTH_REVOKED_POLICY] = "sessions_revoked_by_policy",
	[AUTH_CRL_RELOADED] = "crl_reloads",
	[AUTH_CRL_RELOAD_FAILED] = "crl_reload_failed",
	[AUTH_CRL_EXPIRED] = "crl_expired",
};

/* Enrollments (docs/auth.md): indexed by enum authw_enroll_status, then those without one. */
enum { ENROLL_STAT_NO_CERT = AUTHW_E_MAX, ENROLL_STAT_MAX };

static const char *enroll_stat_name(unsigned int i)
{
	return i == ENROLL_STAT_NO_CERT ? authw_reason_str(AUTHW_R_NO_CERT)
					: authw_enroll_status_str(i);
}

/* The worker's supervision: deaths (SIGSYS: its seccomp filter), restarts, failed starts. */
enum worker_stat {
	WORKER_DIED,
	WORKER_SIGSYS,
	WORKER_RESTARTED,
	WORKER_START_FAILED,
	WORKER_STAT_MAX
};

static const char *const worker_stat_names[WORKER_STAT_MAX] = {
	[WORKER_DIED] = "died",
	[WORKER_SIGSYS] = "sigsys",
	[WORKER_RESTARTED] = "restarted",
	[WORKER_START_FAILED] = "start_failed",
};

/* A worker that keeps dying is started again after 1 s, 2 s, 4 s ... up to this. */
#define WORKER_BACKOFF_MAX_S 60U
/* One that served this long restarts at once, and its successor's backoff starts over. */
#define WORKER_STABLE_NS (60ULL * NS_PER_SEC)

/* A file as stat() saw it: any change of these reads it again. */
struct file_id {
	char path[CG_PATH_MAX];
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

/* A session granted to a worker connection, not yet installed (waiting for the keys). */
struct pending {
	uint64_t conn;
	uint32_t old; /* the session a renewal replaces, 0 for a first one */
	/* A first one that resumes: the session whose address it took, and that one's channel. */
	uint32_t resume;
	uint64_t resume_conn;
	struct session s;
	bool used;
};

#define PENDING_MAX 64
/* Slots only renewals may take: a flood of new handshakes must not end working sessions. */
#define PENDING_RENEW_RESERVE 8

struct authd {
	const struct gw_config *cfg;
	int sessions_fd, rescope_fd, doors_fd;
	struct authw worker;
	int spa_fd;
	struct path *path; /* the TUN and the data workers (lib/tunnel/path.h) */
	X509_STORE *ca;
	struct ca_signer *signer; /* [auth] enroll: ca_dir's CA, loaded at start */
	char *enroll_ca_pem;	  /* its certificate, for enrolled{ca} */
	uint64_t enroll_stats[ENROLL_STAT_MAX];
	struct spa_replay *spa_seen;
	struct spa_keys *spa_keys;
	char spa_state[PATH_MAX];     /* <state_dir>/<name>/spa_seen.json */
	struct revoke_store *revoked; /* <state_dir>/<name>/revocations.json */
	struct registry *registry;    /* <state_dir>/<name>/devices.json: groups set by the API */
	struct crl_set *crl;	      /* [auth] crl, NULL = none */
	struct file_id crl_id;	      /* the file it was read from, as it was */
	struct vip_pool *pool;
	struct session_table *sessions;
	struct pending pending[PENDING_MAX];
	uint64_t spa_stats[SPA_STAT_MAX];
	uint32_t spa_drops_seen;      /* the SPA socket's SO_MEMINFO drop count when last read */
	uint64_t spa_drops_logged;    /* spa.kernel_dropped as of the last log line */
	uint64_t spa_drops_logged_ns; /* when that line was written, 0 = never */
	struct log_limit spa_log[SPA_STAT_MAX];
	uint64_t auth_stats[AUTH_STAT_MAX];
	uint64_t worker_started_ns; /* when the worker in a->worker started */
	uint64_t worker_restart_ns; /* no worker: when to start one, 0 = none due */
	uint32_t worker_backoff_s;  /* the wait before the restart after the next death */
	uint64_t worker_stats[WORKER_STAT_MAX];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_s(void)
{
	return (uint64_t)time(NULL);
}

static void sockaddr_to_mapped(const struct sockaddr_storage *ss, uint8_t addr[16], uint16_t *port)
{
	memset(addr, 0, 16);
	addr_sockaddr_mapped((const struct sockaddr *)ss, addr);
	*port = ss->ss_family == AF_INET ? ntohs(((const struct sockaddr_in *)ss)->sin_port)
					 : ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* A dual-stack UDP socket bound to port on every address. */
/* ---- SPA ------------------------------------------------------------------ */

static const char *spa_refusal_text(unsigned int v)
{
	return v == SPA_STAT_PORT	      ? "asks for another port"
	       : v == SPA_STAT_ERROR	      ? "cannot open the auth port"
	       : v == SPA_STAT_STATE	      ? "cannot record it in the state file"
	       : v == SPA_STAT_REVOKED	      ? "the device is revoked"
	       : v == SPA_STAT_KERNEL_DROPPED ? "dropped by the kernel before it was read"
					      : spa_verdict_str(v);
}

/*
 * Every outcome is counted; a refusal is logged at most once per
 * SPA_LOG_INTERVAL_NS per reason, saying how many were not (a flood of
 * forgeries must not turn into a flood of log lines).
 */
static void spa_count(struct authd *a, unsigned int v, const uint8_t src[16], const char *device)
{
	char addr[CG_ADDRSTRLEN];
	uint64_t held = 0;

	a->spa_stats[v]++;
	if (v != SPA_OK && !log_limit_pass(&a->spa_log[v], mono_ns(), SPA_LOG_INTERVAL_NS, &held))
		return;
	addr_format_mapped(src, addr, sizeof(addr));
	if (v == SPA_OK)
		log_info("spa: %s from %s: auth port open for %llus", device, addr,
			 (unsigned long long)(a->cfg->auth.spa_open_ns / NS_PER_SEC));
	else if (held)
		log_info("spa: refused from %s (device \"%s\"): %s (and %llu more not logged "
			 "since the last line of this reason)",
			 addr, device, spa_refusal_text(v), (unsigned long long)held);
	else
		log_info("spa: refused from %s (device \"%s\"): %s", addr, device,
			 spa_refusal_text(v));
}

/* The refusals held back by a flood that has stopped. */
static void spa_log_flush(struct authd *a)
{
	uint64_t now = mono_ns(), held;
	unsigned int v;

	for (v = 0; v < SPA_STAT_MAX; v++) {
		held = log_limit_flush(&a->spa_log[v], now, SPA_LOG_INTERVAL_NS);
		if (held)
			log_info("spa: %llu more refused (%s), not logged",
				 (unsigned long long)held, spa_refusal_text(v));
	}
}

static int door_open(struct authd *a, const uint8_t src[16])
{
	struct knock_open_key k = { 0 };
	struct knock_open_val v = { 0 };

	memcpy(k.addr, src, 16);
	k.port.proto = IPPROTO_TCP;
	k.port.port = htons(a->cfg->auth.port);
	v.expires_ns = mono_ns() + a->cfg->auth.spa_open_ns;
	v.profile = CG_DOOR_SPA;
	return bpf_map_update_elem(a->doors_fd, &k, &v, BPF_ANY) ? -errno : 0;
}

/*
 * What the policy grants the identity: 0 with its mode and scopes (when
 * scopes is not NULL), or a negative errno with why. The one place authd asks
 * the policy (SPA, handshake, renewal, reload, a change of a device's
 * groups). The subject's groups are the certificate's and those set through
 * the API (registry_groups).
 */
static int judge(const struct authd *a, const struct identity *id, uint8_t *mode,
		 struct cg_scope *scopes, size_t *n, const char **why)
{
	const char *groups[CG_CERT_GROUPS_MAX + REGISTRY_GROUPS_MAX];
	struct policy_subject sub = { .device = id->device, .app = id->app, .groups = groups };
	enum policy_verdict v;
	uint32_t i;
	int err;

	for (i = 0; i < id->ngroups && i < CG_CERT_GROUPS_MAX; i++)
		groups[sub.ngroups++] = id->groups[i];
	sub.ngroups +=
		registry_groups(a->registry, id->device, groups + sub.ngroups, REGISTRY_GROUPS_MAX);
	v = policy_check(&a->cfg->policy, &sub, mode);
	err = v != POLICY_OK ? -EACCES
	      : scopes	     ? policy_scopes(&a->cfg->policy, &sub, scopes, CG_MAX_SCOPES, n)
			     : 0;
	*why = err == -EACCES  ? policy_verdict_str(v)
	       : err == -E2BIG ? "its [allow] sections together grant more than 16 scopes"
			       : strerror(-err);
	return err;
}

/*
 * A device's packet: not revoked (checked before the signature: a split and
 * a hash lookup), its certificate's key (verified once per certificate file,
 * not per packet: forgeries cost a stat and a verify; the certificate must be
 * the key name's, spa_keys_get), the policy on that certificate's identity,
 * then the signature. SPA_OK or the refusal to count.
 */
static unsigned int spa_device_verify(struct authd *a, const uint8_t *pkt, size_t n,
				      const struct spa_msg *m)
{
	char kdev[CG_NAME_MAX], kapp[CG_NAME_MAX], err[256];
	struct identity id;
	const char *why;
	EVP_PKEY *pub;

	if (identity_key_name_split(m->name, kdev, kapp) == 0 &&
	    revoke_match(a->revoked, kdev, kapp, NULL, 0))
		return SPA_STAT_REVOKED;
	pub = spa_keys_get(a->spa_keys, a->cfg->auth.devices, m->name, a->ca,
			   a->cfg->auth.trust_domain, wall_s(), &id, err, sizeof(err));
	if (!pub) {
		log_debug("spa: %s", err);
		return SPA_UNKNOWN_DEVICE;
	}
	/* A certificate revoked by its serial or listed in the CRL opens no door either. */
	if (revoke_match(a->revoked, id.device, id.app, id.serial, id.serial_len) ||
	    crl_revoked(a->crl, id.issuer, id.serial, id.serial_len))
		return SPA_STAT_REVOKED;
	if (judge(a, &id, NULL, NULL, NULL, &why)) {
		log_debug("spa: %s: %s", m->name, why);
		return SPA_UNKNOWN_DEVICE;
	}
	return spa_verify(pkt, n, m, pub);
}

/* An enrolling device's packet: MACed with the key of an unspent, unexpired token. */
static enum spa_verdict spa_token_verify(struct authd *a, const uint8_t *pkt, size_t n,
					 const struct spa_msg *m)
{
	struct token_record r;
	enum token_verdict tv;
	enum spa_verdict v;

	if (!a->cfg->auth.enroll)
		return SPA_UNKNOWN_DEVICE;
	tv = token_lookup(a->cfg->auth.ca_dir, m->name, wall_s(), &r);
	if (tv != TOKEN_OK) {
		log_debug("spa: token %s: %s", m->name, token_verdict_str(tv));
		return SPA_UNKNOWN_DEVICE;
	}
	v = spa_verify_token(pkt, n, m, r.spa_key);
	sodium_memzero(&r, sizeof(r));
	return v;
}

/*
 * Packets the kernel dropped on the SPA socket before the daemon read them
 * (its receive queue was full: a flood the daemon did not read in time; or a
 * bad checksum) are refusals too: SO_MEMINFO's drop count, a u32 that wraps,
 * moves spa.kernel_dropped by what it moved since the last call (each tick
 * and each stats read). A log line at most every SPA_LOG_INTERVAL_NS says
 * how many since the previous one; the next tick after the interval says the
 * rest.
 */
static void spa_drops_sync(struct authd *a)
{
	uint64_t now = mono_ns(), *total = &a->spa_stats[SPA_STAT_KERNEL_DROPPED];
	uint32_t mi[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mi);

	if (a->spa_fd < 0 || getsockopt(a->spa_fd, SOL_SOCKET, SO_MEMINFO, mi, &len) ||
	    len <= SK_MEMINFO_DROPS * sizeof(mi[0]))
		return;
	*total += (uint32_t)(mi[SK_MEMINFO_DROPS] - a->spa_drops_seen);
	a->spa_drops_seen = mi[SK_MEMINFO_DROPS];
	if (*total == a->spa_drops_logged ||
	    (a->spa_drops_logged_ns && now - a->spa_drops_logged_ns < SPA_LOG_INTERVAL_NS))
		return;
	log_warn("spa: %llu packet(s) dropped by the kernel before they were read (the socket's "
		 "queue was full) since the last line, %llu in all",
		 (unsigned long long)(*total - a->spa_drops_logged), (unsigned long long)*total);
	a->spa_drops_logged = *total;
	a->spa_drops_logged_ns = now;
}

static void spa_one(struct authd *a)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	uint8_t pkt[SPA_MAX_LEN + 64], src[16];
	struct spa_msg m;
	unsigned int v;
	uint16_t sport;
	ssize_t n;

	n = recvfrom(a->spa_fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&ss, &sl);
	if (n < 0)
		return;
	sockaddr_to_mapped(&ss, src, &sport);
	v = spa_parse(pkt, (size_t)n, &m);
	if (v != SPA_OK) {
		spa_count(a, v, src, "");
		return;
	}
	v = m.token ? spa_token_verify(a, pkt, (size_t)n, &m)
		    : spa_device_verify(a, pkt, (size_t)n, &m);
	/* Only signed packets reach the replay cache, so forgeries cannot fill it. */
	if (v == SPA_OK)
		v = spa_replay_check(a->spa_seen, &m, wall_s(), SPA_WINDOW_S);
	if (v != SPA_OK) {
		spa_count(a, v, src, m.name);
		return;
	}
	if (m.proto != IPPROTO_TCP || m.port != a->cfg->auth.port) {
		spa_count(a, SPA_STAT_PORT, src, m.name);
		return;
	}
	/* On disk before the door opens: a restart must not let this packet in again. */
	if (spa_replay_dirty(a->spa_seen)) {
		int e = spa_replay_save(a->spa_seen, a->spa_state, wall_s(), SPA_WINDOW_S);

		if (e) {
			log_errno(e, "spa: %s", a->spa_state);
			spa_count(a, SPA_STAT_STATE, src, m.name);
			return;
		}
	}
	if (door_open(a, src)) {
		log_errno(-errno, "spa: knock_open");
		spa_count(a, SPA_STAT_ERROR, src, m.name);
		return;
	}
	spa_count(a, SPA_OK, src, m.name);
}

/* ---- sessions ------------------------------------------------------------- */

static struct pending *pending_find(struct authd *a, uint64_t conn)
{
	size_t i;

	for (i = 0; i < PENDING_MAX; i++)
		if (a->pending[i].used && a->pending[i].conn == conn)
			return &a->pending[i];
	return NULL;
}

/* Forgets a grant (its session and address are the caller's to free). */
static void pending_drop(struct pending *p)
{
	sodium_memzero(p, sizeof(*p));
}

/*
 * The parent's end is non-blocking: a worker that stops reading must not
 * stall the API, SPA and the return path. It then misses that reply (its
 * own handshake timeout ends the client) and the loss is counted.
 */
static void to_worker(struct authd *a, const void *msg, size_t len)
{
	if (a->worker.fd < 0 || authw_send(a->worker.fd, msg, len))
		a->auth_stats[AUTH_WORKER_UNREACHED]++;
}

static void send_deny(struct authd *a, uint64_t conn, uint32_t reason)
{
	struct authw_deny d = { .type = AUTHW_DENY, .reason = reason, .conn = conn };

	to_worker(a, &d, sizeof(d));
}

/* Frees the address once no session holds it any more. */
static void session_remove(struct authd *a, uint32_t id)
{
	struct session *s = session_find(a->sessions, id);
	uint8_t vip[16];
	int err;

	if (!s)
		return;
	memcpy(vip, s->vip, 16);
	err = sessmap_del(a->sessions_fd, id);
	/* Not expected of an array update; the gate then refuses it only once it expires. */
	if (err && err != -ENOENT)
		log_errno(err, "auth: session %08x stays in the gate until it expires", id);
	path_session_del(a->path, id);
	session_del(a->sessions, id, mono_ns());
	if (!session_holds_vip(a->sessions, vip))
		pool_release(a->pool, vip);
}

/* The session a control channel uses now: installed and not replaced. NULL if none. */
static struct session *conn_current(struct authd *a, uint64_t conn)
{
	size_t i;

	for (i = 0; i < session_count(a->sessions); i++) {
		struct session *s = session_at(a->sessions, i);

		if (s->conn == conn && s->installed && !s->superseded)
			return s;
	}
	return NULL;
}

/*
 * Where a control channel stands (privsep.h, the request table's states),
 * from what the parent holds for it: a grant waiting for its keys, or a
 * session in use. It replies at once, so REQUESTED and INSTALLING never
 * last; a conn it holds nothing for (new, denied or ended) is NEW.
 */
static enum authw_conn_state conn_state(struct authd *a, uint64_t conn)
{
	if (pending_find(a, conn))
		return AUTHW_CS_GRANTED;
	return conn_current(a, conn) ? AUTHW_CS_ACTIVE : AUTHW_CS_NEW;
}

/* Channels of device that hold a session or a first grant: each holds an address. */
static uint32_t device_conns(struct authd *a, const char *device)
{
	uint32_t n = 0;
	size_t i;

	for (i = 0; i < session_count(a->sessions); i++) {
		const struct session *s = session_at(a->sessions, i);

		n += s->installed && !s->superseded && !strcmp(s->cert.device, device);
	}
	for (i = 0; i < PENDING_MAX; i++)
		n += a->pending[i].used && !a->pending[i].old &&
		     !strcmp(a->pending[i].s.cert.device, device);
	return n;
}

/*
 * Frees the channel's replaced sessions, oldest first, until it holds at
 * most keep: their overlap ends early rather than the channel taking more
 * of the gate's slots than max_sessions_per_conn.
 */
static void conn_trim(struct authd *a, uint64_t conn, uint32_t keep)
{
	for (;;) {
		struct session *oldest = NULL;
		uint32_t n = 0;
		size_t i;

		for (i = 0; i < session_count(a->sessions); i++) {
			struct session *s = session_at(a->sessions, i);

			if (s->conn != conn)
				continue;
			n++;
			if (s->superseded && (!oldest || s->created_ns < oldest->created_ns))
				oldest = s;
		}
		if (n <= keep || !oldest)
			return;
		log_info("auth: session %08x of %s/%s: replaced, freed before its overlap ends "
			 "(max_sessions_per_conn %u)",
			 oldest->id, oldest->cert.device, oldest->cert.app,
			 a->cfg->auth.max_sessions_per_conn);
		a->auth_stats[AUTH_REPLACED_FREED_EARLY]++;
		session_remove(a, oldest->id);
	}
}

/*
 * Ends everything of a control channel: a grant waiting for its keys, the
 * session in use and one it replaced. why (logged and counted as revoked
 * per session) or NULL when the caller accounts for it. Returns how many
 * sessions it counted.
 */
static size_t conn_drop(struct authd *a, uint64_t conn, const char *why)
{
	struct pending *p = pending_find(a, conn);
	size_t i, n = 0;

	if (p) {
		/* Its address goes only if no session holds it: a renewal's old one does. */
		session_remove(a, p->s.id);
		pending_drop(p);
	}
	for (i = session_count(a->sessions); i-- > 0;) {
		struct session *s = session_at(a->sessions, i);

		if (s->conn != conn)
			continue;
		if (why) {
			log_info("auth: session %08x of %s/%s revoked: %s", s->id, s->cert.device,
				 s->cert.app, why);
			a->auth_stats[AUTH_REVOKED]++;
			n++;
		}
		session_remove(a, s->id);
	}
	return n;
}

/*
 * Ends s and everything of its control channel now (a grant waiting for its
 * keys, the session in use, one it replaced), and has the worker close the
 * channel, rather than waiting for the worker's REVOKE.
 */
static void session_end(struct authd *a, struct session *s, uint32_t reason)
{
	struct authw_kill k = { .type = AUTHW_KILL, .session = s->id, .reason = reason };
	struct session *cur;

	if (!s->conn) {
		/* Left by a dead worker (worker_lost): no channel, no other session of it. */
		session_remove(a, s->id);
		return;
	}
	/*
	 * The worker knows a channel by the session it uses now (or the grant it
	 * waits on): a session a renewal replaced is no name it knows.
	 */
	cur = conn_current(a, s->conn);
	if (cur)
		k.session = cur->id;
	conn_drop(a, s->conn, NULL);
	if (a->worker.fd >= 0)
		to_worker(a, &k, sizeof(k));
}

/*
 * The session a first request resumes (hello's "resume"), if it may
 * (session_resume_refusal); otherwise NULL, logged and counted: the client
 * gets a new address, as without "resume".
 */
static struct session *resume_from(struct authd *a, const struct authw_session_request *r,
				   const char *peer)
{
	struct session *from = session_find(a->sessions, r->resume);
	const char *why = session_resume_refusal(from, r->id.device, r->id.app);

	if (!why)
		return from;
	log_info("auth: %s/%s from %s: cannot resume session %08x (%s): a new address",
		 r->id.device, r->id.app, peer, r->resume, why);
	a->auth_stats[AUTH_RESUME_REFUSED]++;
	return NULL;
}

/* Why s's certificate may not hold a session ("revocation 3", "in the CRL"), or NULL. */
static const char *session_revoked(struct authd *a, const struct session *s)
{
	static char why[32];
	const struct revocation *r = revoke_match(a->revoked, s->cert.device, s->cert.app,
						  s->cert.serial, s->cert.serial_len);

	if (!r)
		return crl_revoked(a->crl, s->cert.issuer, s->cert.serial, s->cert.serial_len)
			       ? "in the CRL"
			       : NULL;
	snprintf(why, sizeof(why), "revocation %u", r->id);
	return why;
}

/* A first session (old == 0, from r) or a renewal of session old: policy, address, GRANT. */
static void on_request(struct authd *a, const struct authw_session_request *r, uint32_t old)
{
	struct authw_grant g = { .type = AUTHW_GRANT, .conn = r->conn };
	struct session *prev = old ? session_find(a->sessions, old) : NULL, *from = NULL;
	const struct auth_cfg *ac = &a->cfg->auth;
	char peer[CG_ADDRSTRLEN] = "renewal";
	struct pending *p = NULL;
	const struct identity *id;
	const char *device, *app, *why;
	uint8_t mode = 0;
	size_t i, n;
	int err;

	if (prev) {
		/* A channel that renews as fast as it can must not fill the gate's slots. */
		if (mono_ns() - prev->created_ns < ac->session_ttl_ns / 100 * ac->renew_after_pct) {
			log_info("auth: %s/%s: renewal of session %08x refused: before %u%% of its "
				 "lifetime (renew_after)",
				 prev->cert.device, prev->cert.app, prev->id, ac->renew_after_pct);
			a->auth_stats[AUTH_REFUSED_RENEW_EARLY]++;
			send_deny(a, r->conn, AUTHW_R_TOO_EARLY);
			return;
		}
		/* Room for the renewal within max_sessions_per_conn; moves the table's entries. */
		conn_trim(a, r->conn, ac->max_sessions_per_conn - 1);
		prev = session_find(a->sessions, old);
	}
	/* Who asks: the certificate's identity, the worker's (or the renewed session's). */
	id = prev ? &prev->cert : &r->id;
	device = id->device;
	app = id->app;
	for (i = 0, n = 0; i < PENDING_MAX; i++) {
		if (a->pending[i].used)
			n++;
		else if (!p)
			p = &a->pending[i];
	}
	if (!p || (!old && n >= PENDING_MAX - PENDING_RENEW_RESERVE)) {
		send_deny(a, r->conn, AUTHW_R_BUSY);
		return;
	}
	if (!prev)
		addr_format_mapped(r->peer_addr, peer, sizeof(peer));
	if (!prev && r->resume)
		from = resume_from(a, r, peer);
	/* The certificate's identity: what the policy judges and revocations and the CRL name. */
	p->s.cert = *id;
	why = session_revoked(a, &p->s);
	if (why) {
		log_info("auth: %s/%s from %s: denied: revoked (%s)", device, app, peer, why);
		a->auth_stats[AUTH_DENIED_REVOKED]++;
		send_deny(a, r->conn, AUTHW_R_REVOKED);
		return;
	}
	/* A renewal is judged again: the policy may have changed since. */
	err = judge(a, id, &mode, p->s.scopes, &n, &why);
	if (err) {
		log_info("auth: %s/%s from %s: denied: %s", device, app, peer, why);
		a->auth_stats[AUTH_DENIED_POLICY]++;
		send_deny(a, r->conn, AUTHW_R_POLICY);
		return;
	}
	p->s.nscopes = n;
	/* A renewal keeps its session's mode and cipher: the data path does not switch. */
	if (prev) {
		p->s.mode = prev->mode;
		p->s.cipher = prev->cipher;
	} else {
		proto_offer_choose(&r->offer, mode, aead_aes_available(), &p->s.mode, &p->s.cipher);
	}
	/*
	 * One device opening channel after channel must not take the whole pool.
	 * A resume replaces the session it names (installed, in use: counted).
	 */
	if (!prev && device_conns(a, device) - (from ? 1 : 0) >= ac->max_sessions_per_device) {
		log_info("auth: %s/%s from %s: denied: the device holds %u sessions already "
			 "(max_sessions_per_device)",
			 device, app, peer, ac->max_sessions_per_device);
		a->auth_stats[AUTH_DENIED_DEVICE_LIMIT]++;
		send_deny(a, r->conn, AUTHW_R_LIMIT);
		return;
	}
	if (prev || from) {
		/* Shared with the session it replaces, of the same device (session_resume_refusal).
		 */
		memcpy(p->s.vip, (prev ? prev : from)->vip, 16);
	} else if (pool_alloc(a->pool, p->s.vip)) {
		log_info("auth: %s/%s from %s: denied: the address pool is exhausted", device, app,
			 peer);
		a->auth_stats[AUTH_DENIED_POOL]++;
		send_deny(a, r->conn, AUTHW_R_POOL);
		return;
	}
	p->s.conn = r->conn;
	p->s.created_ns = mono_ns();
	p->s.expires_ns = p->s.created_ns + a->cfg->auth.session_ttl_ns;
	/* In the table now, so its random id is unique; in the map once the keys come. */
	err = session_add(a->sessions, &p->s);
	if (err) {
		log_warn("auth: no session for %s/%s: %s", device, app,
			 err == -EBUSY ? "every free slot was freed less than a second ago"
				       : "the session table is full");
		a->auth_stats[AUTH_DENIED_INTERNAL]++;
		if (!prev && !from)
			pool_release(a->pool, p->s.vip);
		sodium_memzero(p, sizeof(*p));
		send_deny(a, r->conn, AUTHW_R_INTERNAL);
		return;
	}
	p->used = true;
	p->conn = r->conn;
	p->old = old;
	p->resume = from ? from->id : 0;
	p->resume_conn = from ? from->conn : 0;
	g.session = p->s.id;
	memcpy(g.vip, p->s.vip, 16);
	g.expires_in_s = (uint32_t)(a->cfg->auth.session_ttl_ns / NS_PER_SEC);
	g.keepalive_s = (uint32_t)(a->cfg->auth.keepalive_ns / NS_PER_SEC);
	g.data_port = a->cfg->auth.data_port;
	g.nscopes = (uint32_t)n;
	memcpy(g.scopes, p->s.scopes, n * sizeof(g.scopes[0]));
	g.mode = p->s.mode;
	g.cipher = p->s.cipher;
	to_worker(a, &g, sizeof(g));
}

/*
 * The session's endpoint: where its last verified packet came from, which the
 * gate records in the map entry. Read again at most every EP_REFRESH_NS (or
 * now, if force), not for every reply: a roaming client is followed within
 * that time. False if no packet has been seen yet.
 */
/*
 * The session's endpoint: the last authenticated source of its packets. The
 * gate records it for integrity mode, the data workers for encrypted mode.
 */
static bool session_endpoint(struct authd *a, const struct session *s, uint8_t addr[16],
			     uint16_t *port)
{
	struct path_session_info pi;
	struct cg_session cs;

	*port = 0;
	if (s->mode & CG_TUN_F_ENCRYPTED) {
		if (!path_session_info(a->path, s->id, &pi) && pi.ep_port) {
			memcpy(addr, pi.ep_addr, 16);
			*port = pi.ep_port;
		}
	} else if (!sessmap_get(a->sessions_fd, s->id, &cs) && cs.ep_port) {
		memcpy(addr, cs.ep_addr, 16);
		*port = cs.ep_port;
	}
	return *port != 0;
}

/* The data path's copy of a session, with the keys of its mode. */
static void path_entry(const struct session *s, const struct session_keys *k,
		       struct path_session *ps)
{
	memset(ps, 0, sizeof(*ps));
	ps->id = s->id;
	ps->mode = s->mode;
	ps->cipher = s->cipher;
	ps->expires_ns = s->expires_ns;
	if (s->mode & CG_TUN_F_ENCRYPTED) {
		memcpy(ps->rx_key, k->aead_c2s, sizeof(ps->rx_key));
		memcpy(ps->tx_key, k->aead_s2c, sizeof(ps->tx_key));
	} else {
		memcpy(ps->tx_key, k->s2c_mac, sizeof(k->s2c_mac));
	}
	memcpy(ps->vip, s->vip, 16);
	ps->nscopes = (uint32_t)s->nscopes;
	memcpy(ps->scopes, s->scopes, s->nscopes * sizeof(ps->scopes[0]));
}

/*
 * A resumed session is in use: the one it took the address from goes, with
 * its channel (the client's old network: no bye will come). That channel may
 * have renewed since the request: its session in use is the one to end.
 */
static void resume_done(struct authd *a, const struct pending *p)
{
	struct session *old = p->resume_conn ? conn_current(a, p->resume_conn)
					     : session_find(a->sessions, p->resume);

	a->auth_stats[AUTH_RESUMED]++;
	if (!old || strcmp(old->cert.device, p->s.cert.device) || memcmp(old->vip, p->s.vip, 16)) {
		log_info("auth: %s/%s: session %08x resumed session %08x, already gone",
			 p->s.cert.device, p->s.cert.app, p->s.id, p->resume);
		return;
	}
	log_info("auth: session %08x of %s/%s: resumed by session %08x (the client's network "
		 "changed), ended",
		 old->id, old->cert.device, old->cert.app, p->s.id);
	session_end(a, old, AUTHW_R_KILLED);
}

static void on_install(struct authd *a, struct authw_session_install *m)
{
	struct authw_installed ok = { .type = AUTHW_INSTALLED,
				      .session = m->session,
				      .conn = m->conn };
	struct pending *p = pending_find(a, m->conn);
	struct session_keys keys = { 0 };
	struct path_session ps;
	struct cg_session cs;
	struct session *s, *prev;
	char vip[CG_ADDRSTRLEN];
	int err;

	memset(&cs, 0, sizeof(cs));
	s = session_find(a->sessions, m->session);
	err = s ? keys_derive(m->material, &keys) : -ENOENT;
	if (err)
		goto fail;
	s->installed = true;
	cs.expires_ns = s->expires_ns;
	cs.id = s->id;
	/* The gate pre-filters encrypted sessions and leaves the tag to the daemon. */
	cs.flags = s->mode;
	memcpy(cs.key, keys.c2s_mac, sizeof(cs.key));
	memcpy(cs.vip, s->vip, 16);
	cs.nscopes = (uint32_t)s->nscopes;
	memcpy(cs.scopes, s->scopes, s->nscopes * sizeof(cs.scopes[0]));
	/*
	 * A renewal starts where the old session's replies go, so the return
	 * path does not wait for the client's first packet under the new id.
	 */
	path_entry(s, &keys, &ps);
	prev = p->old ? session_find(a->sessions, p->old) : NULL;
	if (prev && session_endpoint(a, prev, cs.ep_addr, &cs.ep_port)) {
		memcpy(ps.ep_addr, cs.ep_addr, 16);
		ps.ep_port = cs.ep_port;
	}
	/* The data path first: the gate passes encrypted packets to it once the map names the id.
	 */
	err = path_session_set(a->path, &ps);
	if (!err)
		err = sessmap_put(a->sessions_fd, &cs);
	if (err)
		goto fail;
	if (p->old) {
		/* The old session stays valid for a short overlap: no packet lost on renewal. */
		prev = session_find(a->sessions, p->old);
		if (prev) {
			uint64_t end = mono_ns() + CG_RENEW_OVERLAP_NS;

			prev->superseded = true;
			/*
			 * authd_tick deletes it from the map at end. Not rewritten
			 * here: a lookup + update of the entry would put back the
			 * replay window as it was at the lookup, so packets the
			 * gate accepted in between could be replayed.
			 */
			if (prev->expires_ns > end)
				prev->expires_ns = end;
		}
		a->auth_stats[AUTH_RENEWED]++;
	} else {
		a->auth_stats[AUTH_GRANTED]++;
	}
	addr_format_mapped(s->vip, vip, sizeof(vip));
	log_info("auth: %s/%s: session %08x, %s, %s%s%s, %zu scope(s), %llus", s->cert.device,
		 s->cert.app, s->id, vip, s->mode ? "encrypted " : "integrity",
		 s->mode ? cipher_name(s->cipher) : "", s->mode ? "" : " (payloads in clear)",
		 s->nscopes, (unsigned long long)(a->cfg->auth.session_ttl_ns / NS_PER_SEC));
	/* The renewed-away session may go now (max_sessions_per_conn); s and prev move. */
	if (p->old)
		conn_trim(a, m->conn, a->cfg->auth.max_sessions_per_conn);
	if (p->resume)
		resume_done(a, p);
	pending_drop(p);
	to_worker(a, &ok, sizeof(ok));
	goto out;
fail:
	log_errno(err, "auth: cannot install session %08x", m->session);
	a->auth_stats[AUTH_DENIED_INTERNAL]++;
	session_remove(a, m->session);
	pending_drop(p);
	send_deny(a, m->conn, AUTHW_R_INTERNAL);
out:
	sodium_memzero(m->material, sizeof(m->material));
	keys_wipe(&keys);
	sodium_memzero(&cs, sizeof(cs));
	sodium_memzero(&ps, sizeof(ps));
}

static void on_revoke(struct authd *a, const struct authw_session_revoke *r)
{
	size_t n;

	/* Refusals the worker decides before any request: told so that they are counted. */
	if (r->reason == AUTHW_R_IDENTITY)
		a->auth_stats[AUTH_REFUSED_IDENTITY]++;
	else if (r->reason == AUTHW_R_APP_MISMATCH)
		a->auth_stats[AUTH_REFUSED_APP_MISMATCH]++;
	else if (r->reason == AUTHW_R_NO_CERT)
		a->enroll_stats[ENROLL_STAT_NO_CERT]++;
	n = conn_drop(a, r->conn, authw_reason_str(r->reason));
	/* How a session ended, where that tells a clean goodbye from a vanished client. */
	if (r->reason == AUTHW_R_BYE)
		a->auth_stats[AUTH_REVOKED_BYE] += n;
	else if (r->reason == AUTHW_R_TIMEOUT)
		a->auth_stats[AUTH_REVOKED_TIMEOUT] += n;
}

/* x as PEM into buf (NUL-terminated); 0 or -EMSGSIZE / -ENOMEM. */
static int cert_pem(X509 *x, char *buf, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	int ret = b && PEM_write_bio_X509(b, x) == 1 ? tls_bio_text(b, buf, cap) : -ENOMEM;

	BIO_free(b);
	return ret;
}

/*
 * The certificate of the token's names for the CSR's key: the CSR is checked
 * first (a bad one spends nothing), then the token is spent (token_redeem: of
 * racing uses one wins), then signed and written to the devices dir, where the
 * SPA key lookup reads it. One ENROLLED answers, with the reason of a refusal.
 */
static uint32_t enroll_one(struct authd *a, const struct authw_enroll_request *r,
			   struct authw_enrolled *out, char *key, size_t keylen)
{
	const char *groups[TOKEN_GROUPS_MAX];
	struct token_record rec = { 0 };
	char err[256] = "", path[PATH_MAX];
	enum token_verdict v;
	X509_REQ *req = NULL;
	X509 *x = NULL;
	uint32_t ret = AUTHW_E_INTERNAL, i;

	if (!a->signer) {
		log_err("auth: enroll: not enabled ([auth] enroll = no), yet the worker asked");
		goto out;
	}
	req = ca_csr_parse((const uint8_t *)r->csr, strlen(r->csr), err, sizeof(err));
	if (!req) {
		log_info("auth: enroll: bad CSR: %s", err);
		ret = AUTHW_E_BAD_CSR;
		goto out;
	}
	v = token_redeem(a->cfg->auth.ca_dir, r->token, wall_s(), &rec);
	if (v != TOKEN_OK) {
		ret = v;
		goto out;
	}
	identity_key_name(rec.device, rec.app, key, keylen);
	/*
	 * Spent either way: a token for a revoked identity must not wait for the
	 * revocation to be lifted, and one for a name already enrolled must not
	 * replace the certificate of the device that holds it (remove the file,
	 * and revoke that certificate's serial, to enroll a replacement).
	 */
	if (revoke_match(a->revoked, rec.device, rec.app, NULL, 0)) {
		log_info("auth: enroll %s (token %s) refused: revoked", key, rec.id);
		ret = AUTHW_E_REVOKED;
		goto out;
	}
	if (snprintf(path, sizeof(path), "%s/%s.crt", a->cfg->auth.devices, key) >=
		    (int)sizeof(path) ||
	    !access(path, F_OK) || errno != ENOENT) {
		log_info("auth: enroll %s (token %s) refused: %s exists", key, rec.id, path);
		ret = AUTHW_E_EXISTS;
		goto out;
	}
	for (i = 0; i < rec.ngroups; i++)
		groups[i] = rec.groups[i];
	if (ca_signer_sign(a->signer, req, rec.device, rec.app, groups, rec.ngroups, &x, err,
			   sizeof(err)) ||
	    cert_pem(x, out->cert, sizeof(out->cert))) {
		log_err("auth: enroll %s: token %s spent, but no certificate: %s", key, rec.id,
			err[0] ? err : "PEM too long");
		goto out;
	}
	if (file_write_atomic(path, out->cert, strlen(out->cert))) {
		log_err("auth: enroll %s: token %s spent, but %s could not be written", key, rec.id,
			path);
		goto out;
	}
	snprintf(out->ca, sizeof(out->ca), "%s", a->enroll_ca_pem);
	log_info("auth: enrolled %s (token %s): %s", key, rec.id, path);
	ret = AUTHW_E_OK;
out:
	if (ret != AUTHW_E_OK) {
		memset(out->cert, 0, sizeof(out->cert));
		memset(out->ca, 0, sizeof(out->ca));
	}
	X509_free(x);
	X509_REQ_free(req);
	sodium_memzero(&rec, sizeof(rec));
	return ret;
}

static void on_enroll(struct authd *a, const struct authw_enroll_request *r)
{
	struct authw_enrolled *out = calloc(1, sizeof(*out));
	char src[CG_ADDRSTRLEN], key[CG_KEY_NAME_MAX] = "-";

	if (!out) {
		a->auth_stats[AUTH_WORKER_UNREACHED]++;
		return; /* the worker's handshake timeout ends the client */
	}
	out->type = AUTHW_ENROLLED;
	out->conn = r->conn;
	out->status = enroll_one(a, r, out, key, sizeof(key));
	a->enroll_stats[out->status]++;
	if (out->status != AUTHW_E_OK) {
		addr_format_mapped(r->peer_addr, src, sizeof(src));
		/* The id only (r->token + 4): never the secret. */
		log_info("auth: enroll from %s with token %.16s refused: %s", src, r->token + 4,
			 authw_enroll_status_str(out->status));
	}
	to_worker(a, out, sizeof(*out));
	free(out);
}

/* The auth port stays the one first bound (an ephemeral port too): clients keep their address. */
static int worker_start(struct authd *a)
{
	const struct auth_cfg *ac = &a->cfg->auth;
	struct authw_cfg wc = {
		.ca = ac->ca,
		.cert = ac->cert,
		.key = ac->key,
		.port = a->worker.port ? a->worker.port : ac->port,
		.dead_after_ns = ac->dead_after_ns,
		.trust_domain = ac->trust_domain,
		.enroll = ac->enroll,
	};
	int e = authw_start(&wc, &a->worker);

	if (!e && fcntl(a->worker.fd, F_SETFL, O_NONBLOCK)) {
		e = -errno;
		authw_stop(&a->worker);
	}
	if (!e)
		a->worker_started_ns = mono_ns();
	return e;
}

/* The next start is due after the current backoff, which doubles for the one after. */
static void worker_schedule(struct authd *a, uint64_t now)
{
	a->worker_restart_ns = now + (uint64_t)a->worker_backoff_s * NS_PER_SEC;
	a->worker_backoff_s = !a->worker_backoff_s ? 1
			      : a->worker_backoff_s * 2 > WORKER_BACKOFF_MAX_S
				      ? WORKER_BACKOFF_MAX_S
				      : a->worker_backoff_s * 2;
}

static void worker_restart(struct authd *a)
{
	int e = worker_start(a);
	uint64_t now = mono_ns();

	if (e) {
		a->worker_stats[WORKER_START_FAILED]++;
		worker_schedule(a, now);
		log_errno(e, "auth: the worker did not start again; next try in %llus",
			  (unsigned long long)((a->worker_restart_ns - now) / NS_PER_SEC));
		return;
	}
	a->worker_restart_ns = 0;
	a->worker_stats[WORKER_RESTARTED]++;
	log_info("auth: worker %d restarted, TLS on tcp/%u", (int)a->worker.pid, a->worker.port);
}

/*
 * The worker died. What it held died with it: its TLS connections (their
 * clients reconnect) and the grants in flight (no keys installed yet). The
 * sessions already in the gate stay, without a control channel: each ends at
 * its expiry or dead_after from now, whichever comes first, as it would for a
 * client gone silent. Their conn ids are the dead worker's: cleared, so the
 * next worker's ids (which start over) can never revoke or renew them.
 */
static void worker_lost(struct authd *a)
{
	uint64_t now = mono_ns(), end = now + a->cfg->auth.dead_after_ns;
	int status = authw_stop(&a->worker), sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	size_t i, kept;

	a->worker_stats[WORKER_DIED]++;
	if (sig == SIGSYS)
		a->worker_stats[WORKER_SIGSYS]++;
	if (sig)
		log_err("auth: the worker died of signal %d (%s)%s", sig, strsignal(sig),
			sig == SIGSYS ? ": a system call its seccomp filter refuses" : "");
	else
		log_err("auth: the worker exited with status %d",
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	for (i = 0; i < PENDING_MAX; i++) {
		if (!a->pending[i].used)
			continue;
		session_remove(a, a->pending[i].s.id);
		pending_drop(&a->pending[i]);
	}
	kept = session_count(a->sessions);
	for (i = 0; i < kept; i++) {
		struct session *s = session_at(a->sessions, i);

		s->conn = 0;
		if (s->expires_ns > end)
			s->expires_ns = end;
	}
	if (kept)
		log_info("auth: %zu sessions stay in the gate without a control channel, for %llus "
			 "at most",
			 kept, (unsigned long long)(a->cfg->auth.dead_after_ns / NS_PER_SEC));
	if (now - a->worker_started_ns >= WORKER_STABLE_NS)
		a->worker_backoff_s = 0;
	worker_schedule(a, now);
	if (a->worker_restart_ns <= now)
		worker_restart(a);
	else
		log_info("auth: the worker starts again in %llus",
			 (unsigned long long)((a->worker_restart_ns - now) / NS_PER_SEC));
}

static const char *msg_name(uint32_t type)
{
	return type == AUTHW_SESSION_REQUEST   ? "SESSION_REQUEST"
	       : type == AUTHW_SESSION_INSTALL ? "SESSION_INSTALL"
	       : type == AUTHW_SESSION_RENEW   ? "SESSION_RENEW"
	       : type == AUTHW_ENROLL_REQUEST  ? "ENROLL_REQUEST"
					       : "SESSION_REVOKE";
}

/*
 * The request table's order for one connection (authw_conn_step), and the
 * session a message names: INSTALL the one granted, RENEW the one in use
 * (not one it replaced). False if the message is refused: counted, logged,
 * and a REQUEST or RENEW is answered DENY, so the worker ends the channel.
 */
static bool in_sequence(struct authd *a, const union authw_msg *m, uint32_t type)
{
	uint64_t conn = type == AUTHW_SESSION_REQUEST	? m->req.conn
			: type == AUTHW_SESSION_INSTALL ? m->install.conn
			: type == AUTHW_SESSION_RENEW	? m->renew.conn
			: type == AUTHW_ENROLL_REQUEST	? m->enroll.conn
							: m->revoke.conn;
	enum authw_conn_state st = conn_state(a, conn);
	/* conn 0 is no channel's: the sessions a dead worker left (worker_lost). */
	bool ok = conn && !authw_conn_step(&st, type);

	/* GRANTED: a grant is pending for conn; ACTIVE: conn has a session in use. */
	if (ok && type == AUTHW_SESSION_INSTALL)
		ok = pending_find(a, conn)->s.id == m->install.session;
	if (ok && type == AUTHW_SESSION_RENEW)
		ok = conn_current(a, conn)->id == m->renew.old_session;
	if (ok)
		return true;
	log_warn("auth: the worker's %s for conn %llu is out of order: refused", msg_name(type),
		 (unsigned long long)conn);
	a->auth_stats[AUTH_REFUSED_SEQUENCE]++;
	if (type == AUTHW_SESSION_REQUEST || type == AUTHW_SESSION_RENEW)
		send_deny(a, conn, AUTHW_R_PROTOCOL);
	return false;
}

static void worker_one(struct authd *a)
{
	union authw_msg m;
	uint32_t type;
	size_t len;
	int err;

	err = authw_recv(a->worker.fd, &m, sizeof(m), &len);
	if (err == -EAGAIN)
		return;
	if (err == -EPIPE || err == -ECONNRESET) {
		worker_lost(a);
		return;
	}
	/* The fixed request table: anything else is refused and counted. */
	if (err || authw_msg_check(&m, len, &type)) {
		a->auth_stats[AUTH_REFUSED_MSG]++;
		goto out; /* a refused INSTALL still carries key material */
	}
	if (type != AUTHW_READY && !in_sequence(a, &m, type))
		goto out;
	switch (type) {
	case AUTHW_READY:
		log_info("auth: worker %u serving TLS on port %u", m.ready.pid, a->worker.port);
		break;
	case AUTHW_SESSION_REQUEST:
		on_request(a, &m.req, 0);
		break;
	case AUTHW_SESSION_INSTALL:
		on_install(a, &m.install);
		break;
	case AUTHW_SESSION_RENEW: {
		struct authw_session_request none = { .conn = m.renew.conn };

		on_request(a, &none, m.renew.old_session);
		break;
	}
	case AUTHW_SESSION_REVOKE:
		on_revoke(a, &m.revoke);
		break;
	case AUTHW_ENROLL_REQUEST:
		on_enroll(a, &m.enroll);
		break;
	}
out:
	sodium_memzero(&m, sizeof(m));
}

/* ---- life cycle ----------------------------------------------------------- */

/* Strict reverse-path filtering would drop decapsulated packets from the pool: use loose. */
static void loose_rp_filter(const char *iface)
{
	char path[128], v = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter", iface);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	if (read(fd, &v, 1) == 1 && v == '1' && pwrite(fd, "2", 1, 0) == 1)
		log_info("rp_filter on %s set to loose (2): tunnel packets come from the pool",
			 iface);
	close(fd);
}

static X509_STORE *ca_store(const char *path, char *err, size_t errlen)
{
	X509_STORE *st = X509_STORE_new();

	if (!st || X509_STORE_load_file(st, path) != 1) {
		snprintf(err, errlen, "cannot load the CA %s", path);
		X509_STORE_free(st);
		return NULL;
	}
	return st;
}

/* <state_dir>/<name>/file into buf. 0 or -ENAMETOOLONG with err. */
static int state_path(const struct authd *a, const char *file, char *buf, size_t len, char *err,
		      size_t errlen)
{
	if (snprintf(buf, len, "%s/%s/%s", a->cfg->state_dir, a->cfg->name, file) < (int)len)
		return 0;
	snprintf(err, errlen, "state_dir %s: path too long", a->cfg->state_dir);
	return -ENAMETOOLONG;
}

/*
 * Revocations and the device registry. A damaged file stops the start: who
 * is revoked, or in which groups, would be unknown (never start open).
 */
static int state_load(struct authd *a, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int e = state_path(a, "revocations.json", path, sizeof(path), err, errlen);

	if (e)
		return e;
	a->revoked = revoke_store_new(path);
	e = state_path(a, "devices.json", path, sizeof(path), err, errlen);
	if (e)
		return e;
	a->registry = registry_new(path);
	if (!a->revoked || !a->registry) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	e = revoke_store_load(a->revoked, err, errlen);
	if (!e)
		e = registry_load(a->registry, err, errlen);
	if (!e && revoke_count(a->revoked))
		log_info("auth: %zu revocation(s) in force", revoke_count(a->revoked));
	return e;
}

static size_t revoke_covered(struct authd *a);

static void file_id_of(const char *path, struct file_id *id)
{
	struct stat st;

	memset(id, 0, sizeof(*id));
	snprintf(id->path, sizeof(id->path), "%s", path);
	if (stat(path, &st))
		return;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtime = st.st_mtim;
}

/*
 * Reads [auth] crl again if the file (or its path) changed since the last
 * read, and ends the live sessions the new CRLs list. A CRL that does not
 * verify fails the start (start) or, later, leaves the previous set in force
 * (logged, counted crl_reload_failed). 0 or a negative errno with err.
 */
static int crl_refresh(struct authd *a, bool start, char *err, size_t errlen)
{
	const struct auth_cfg *ac = &a->cfg->auth;
	struct crl_set *c;
	struct file_id id;

	file_id_of(ac->crl, &id);
	if (!memcmp(&id, &a->crl_id, sizeof(id)))
		return 0;
	a->crl_id = id; /* a refused file is not read again until it changes */
	if (!ac->crl[0]) {
		log_info("auth: no CRL any more");
		crl_free(a->crl);
		a->crl = NULL;
		return 0;
	}
	c = crl_load(ac->crl, ac->ca, err, errlen);
	if (!c) {
		if (!start) {
			a->auth_stats[AUTH_CRL_RELOAD_FAILED]++;
			log_warn("auth: %s: the previous CRLs stay in force", err);
		}
		return -errno;
	}
	crl_free(a->crl);
	a->crl = c;
	log_info("auth: CRL %s: %zu list(s), %zu revoked serial(s)", ac->crl, crl_lists(c),
		 crl_serials(c));
	if (crl_expired(c)) {
		a->auth_stats[AUTH_CRL_EXPIRED]++;
		log_warn("auth: CRL %s: %zu list(s) past their next update, still honoured: "
			 "publish a new one",
			 ac->crl, crl_expired(c));
	}
	if (!start) {
		a->auth_stats[AUTH_CRL_RELOADED]++;
		revoke_covered(a);
	}
	return 0;
}

/* [auth] enroll: ca_dir's CA key, read now as root (the worker never sees it), and its cert. */
static int enroll_open(struct authd *a, char *err, size_t errlen)
{
	char path[PATH_MAX], pem[PROTO_PEM_MAX];
	uint8_t mine[TOKEN_HASH_LEN], theirs[TOKEN_HASH_LEN];
	X509 *x = NULL;
	int e = -EINVAL;

	a->signer = ca_signer_open(a->cfg->auth.ca_dir, err, errlen);
	if (!a->signer)
		return errno ? -errno : -EINVAL;
	snprintf(path, sizeof(path), "%s/ca.crt", a->cfg->auth.ca_dir);
	x = tls_cert_file(path);
	if (!x || cert_pem(x, pem, sizeof(pem))) {
		snprintf(err, errlen, "[auth] ca_dir: %s: not a PEM certificate", path);
		goto out;
	}
	/* Tokens name ca_dir's CA, devices pin the first of [auth] ca: they must be one. */
	if (token_spki_hash(x, mine) || token_spki_hash_file(a->cfg->auth.ca, theirs) ||
	    sodium_memcmp(mine, theirs, sizeof(mine))) {
		snprintf(err, errlen, "[auth] ca_dir: %s is not the CA of [auth] ca (%s)", path,
			 a->cfg->auth.ca);
		goto out;
	}
	a->enroll_ca_pem = strdup(pem);
	e = a->enroll_ca_pem ? 0 : -ENOMEM;
out:
	X509_free(x);
	return e;
}

struct authd *authd_new(const struct gw_config *cfg, int sessions_fd, int rescope_fd,
			int windows_fd, int doors_fd, char *err, size_t errlen)
{
	const struct auth_cfg *ac = &cfg->auth;
	struct authd *a;
	unsigned int outer = 0, tun_mtu;
	char what[IF_NAMESIZE + 16];
	uint8_t gw_addr[16];
	struct path_cfg pc = { 0 };
	struct cidr tun_addr;
	uint8_t plen;
	int e, family = 0;

	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	a->cfg = cfg;
	a->sessions_fd = sessions_fd;
	a->rescope_fd = rescope_fd;
	a->doors_fd = doors_fd;
	a->worker = (struct authw)AUTHW_INIT;
	a->spa_fd = -1;

	a->ca = ca_store(ac->ca, err, errlen);
	a->spa_seen = spa_replay_new(SPA_DEVICES, SPA_NONCES_PER_DEVICE);
	a->spa_keys = spa_keys_new(SPA_DEVICES);
	a->pool = pool_new(&ac->pool);
	a->sessions = session_table_new(CG_MAX_SESSIONS);
	if (!a->ca || !a->spa_seen || !a->spa_keys || !a->pool || !a->sessions) {
		e = a->ca ? -ENOMEM : -EINVAL;
		if (a->ca)
			snprintf(err, errlen, "out of memory");
		goto fail;
	}

	e = state_path(a, "spa_seen.json", a->spa_state, sizeof(a->spa_state), err, errlen);
	if (e)
		goto fail;
	if (ac->enroll) {
		e = enroll_open(a, err, errlen);
		if (e)
			goto fail;
	}
	/* A damaged file stops the start: which packets the last run took is then unknown. */
	e = spa_replay_load(a->spa_seen, a->spa_state, wall_s(), SPA_WINDOW_S, err, errlen);
	if (e)
		goto fail;
	e = state_load(a, err, errlen);
	if (!e)
		e = crl_refresh(a, true, err, errlen);
	if (e)
		goto fail;

	a->spa_fd = udp_bind(ac->spa_port, false);
	if (a->spa_fd < 0) {
		e = a->spa_fd;
		snprintf(err, errlen, "SPA port udp/%u: %s", ac->spa_port, strerror(-e));
		goto fail;
	}
	/*
	 * The data path: replies to the pool are routed into its TUN, and the
	 * gate passes it the encrypted packets it prefiltered (data port).
	 */
	pc.role = PATH_GATEWAY;
	pc.tun = ac->tun;
	pc.workers = ac->workers;
	pc.levers = ac->levers;
	pc.data_port = ac->data_port;
	pc.sessions_fd = sessions_fd;
	pc.windows_fd = windows_fd;
	cidr_to_mapped(&ac->pool, pc.pool_base, &plen);
	a->path = path_new(&pc, err, errlen);
	if (!a->path) {
		e = -errno;
		goto fail;
	}
	/* The return path's inner packets must fit the external interface's MTU once sealed. */
	snprintf(what, sizeof(what), "interface %s", cfg->iface);
	e = pmtu_of_iface(cfg->iface, &outer, &family);
	tun_mtu = pmtu_tun_mtu(e, outer, family, what);
	pool_gateway_addr(a->pool, gw_addr);
	tun_addr = ac->pool;
	memcpy(tun_addr.addr, gw_addr + 12, 4);
	e = tun_no_ipv6(path_tun(a->path));
	if (!e)
		e = tun_configure(path_tun(a->path), &tun_addr, tun_mtu);
	if (e) {
		snprintf(err, errlen, "TUN %s: %s", path_tun(a->path), strerror(-e));
		goto fail;
	}
	e = path_start(a->path);
	if (e) {
		snprintf(err, errlen, "data workers: %s", strerror(-e));
		goto fail;
	}
	loose_rp_filter(cfg->iface);

	e = worker_start(a);
	if (e) {
		snprintf(err, errlen, "auth worker on tcp/%u: %s", ac->port, strerror(-e));
		goto fail;
	}
	log_info("auth: SPA on udp/%u, TLS on tcp/%u (after SPA), data on udp/%u, return path %s "
		 "(MTU %u)",
		 ac->spa_port, ac->port, ac->data_port, path_tun(a->path), tun_mtu);
	return a;
fail:
	authd_free(a);
	errno = -e;
	return NULL;
}

void authd_free(struct authd *a)
{
	size_t i;

	if (!a)
		return;
	authw_stop(&a->worker);
	if (a->sessions)
		for (i = 0; i < session_count(a->sessions); i++)
			sessmap_del(a->sessions_fd, session_at(a->sessions, i)->id);
	session_table_free(a->sessions);
	sodium_memzero(a->pending, sizeof(a->pending));
	pool_free(a->pool);
	spa_replay_free(a->spa_seen);
	spa_keys_free(a->spa_keys);
	revoke_store_free(a->revoked);
	registry_free(a->registry);
	crl_free(a->crl);
	X509_STORE_free(a->ca);
	ca_signer_free(a->signer);
	free(a->enroll_ca_pem);
	if (a->spa_fd >= 0)
		close(a->spa_fd);
	path_free(a->path);
	free(a);
}

int authd_pollfds(const struct authd *a, struct pollfd *p, int max)
{
	int fds[3] = { a->worker.fd, a->worker.log_fd, a->spa_fd }, i, n = 0;

	for (i = 0; i < 3 && n < max; i++)
		if (fds[i] >= 0)
			p[n++] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	return n;
}

void authd_process(struct authd *a, const struct pollfd *p, int n)
{
	int i, k;

	for (i = 0; i < n; i++) {
		if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		/* Bounded batches keep the API and the other fds served under load. */
		for (k = 0; k < 64; k++) {
			if (p[i].fd == a->worker.fd && a->worker.fd >= 0)
				worker_one(a);
			else if (p[i].fd == a->worker.log_fd && a->worker.log_fd >= 0)
				authw_log_relay(&a->worker);
			else if (p[i].fd == a->spa_fd)
				spa_one(a);
			else
				break;
			if (poll(&(struct pollfd){ .fd = p[i].fd, .events = POLLIN }, 1, 0) <= 0)
				break;
		}
	}
}

void authd_tick(struct authd *a)
{
	uint64_t now = mono_ns();
	char err[256];
	size_t i;

	spa_log_flush(a);
	spa_drops_sync(a);
	crl_refresh(a, false, err, sizeof(err));
	if (a->worker.pid < 0 && a->worker_restart_ns && now >= a->worker_restart_ns)
		worker_restart(a);

	for (i = session_count(a->sessions); i-- > 0;) {
		struct session *s = session_at(a->sessions, i);
		bool pending = false;
		size_t k;

		for (k = 0; k < PENDING_MAX; k++)
			pending |= a->pending[k].used && a->pending[k].s.id == s->id;
		if (pending || s->expires_ns > now)
			continue;
		log_info("auth: session %08x of %s/%s expired", s->id, s->cert.device, s->cert.app);
		a->auth_stats[AUTH_EXPIRED]++;
		session_remove(a, s->id);
	}
}

int authd_sessions(struct authd *a, json_t **out)
{
	json_t *arr = json_array(), *j;
	uint64_t now = mono_ns();
	char ep[CG_ADDRSTRLEN + 8], addr[CG_ADDRSTRLEN];
	struct path_session_info pi = { 0 };
	struct cg_session cs;
	uint8_t ep_addr[16];
	uint16_t ep_port;
	size_t i;

	if (!arr)
		return -ENOMEM;
	for (i = 0; i < session_count(a->sessions); i++) {
		struct session *s = session_at(a->sessions, i);

		if (sessmap_get(a->sessions_fd, s->id, &cs))
			continue; /* granted, keys not installed yet */
		j = session_json(s, now);
		if (!j)
			goto enomem;
		if (session_endpoint(a, s, ep_addr, &ep_port)) {
			addr_format_mapped(ep_addr, addr, sizeof(addr));
			snprintf(ep, sizeof(ep), addr_is_v4mapped(ep_addr) ? "%s:%u" : "[%s]:%u",
				 addr, ntohs(ep_port));
			json_object_set_new(j, "endpoint", json_string(ep));
		} else {
			json_object_set_new(j, "endpoint", json_null());
		}
		/* Received: the gate counts integrity packets, the data workers encrypted ones. */
		path_session_info(a->path, s->id, &pi);
		if (!(s->mode & CG_TUN_F_ENCRYPTED)) {
			pi.rx_packets = cs.rx_packets;
			pi.rx_bytes = cs.rx_bytes;
		}
		json_object_set_new(j, "rx_packets", json_integer((json_int_t)pi.rx_packets));
		json_object_set_new(j, "rx_bytes", json_integer((json_int_t)pi.rx_bytes));
		json_object_set_new(j, "tx_packets", json_integer((json_int_t)pi.tx_packets));
		if (json_array_append_new(arr, j))
			goto enomem;
	}
	*out = arr;
	return 0;
enomem:
	json_decref(arr);
	return -ENOMEM;
}

#ifdef CG_TESTING
void authd_test_worker_syscall(struct authd *a)
{
	struct authw_test_syscall t = { .type = AUTHW_TEST_SYSCALL };

	to_worker(a, &t, sizeof(t));
}
#endif

int authd_revoke(struct authd *a, uint32_t id)
{
	struct session *s = session_find(a->sessions, id);

	if (!s)
		return -ENOENT;
	log_info("auth: session %08x of %s/%s revoked by the API", s->id, s->cert.device,
		 s->cert.app);
	a->auth_stats[AUTH_REVOKED_ADMIN]++;
	/* A grant waiting for its keys may have this id: session_end ends it with its channel. */
	session_end(a, s, AUTHW_R_KILLED);
	return 0;
}

/* The ids of every session (installed or granted), to visit while sessions end. */
static size_t session_ids(struct authd *a, uint32_t *ids)
{
	size_t i, n = session_count(a->sessions);

	for (i = 0; i < n; i++)
		ids[i] = session_at(a->sessions, i)->id;
	return n;
}

/* Ends every session a revocation covers, with its channel (reason revoked). How many. */
static size_t revoke_covered(struct authd *a)
{
	static uint32_t ids[CG_MAX_SESSIONS];
	size_t i, n = session_ids(a, ids), ended = 0;

	for (i = 0; i < n; i++) {
		struct session *s = session_find(a->sessions, ids[i]);
		const char *why = s ? session_revoked(a, s) : NULL;

		if (!why)
			continue;
		log_info("auth: session %08x of %s/%s revoked: %s", s->id, s->cert.device,
			 s->cert.app, why);
		a->auth_stats[AUTH_REVOKED_LISTED]++;
		session_end(a, s, AUTHW_R_REVOKED);
		ended++;
	}
	return ended;
}

static void revocation_text(const struct revocation *r, char *buf, size_t len)
{
	char hex[2 * CG_SERIAL_MAX + 1];

	revoke_serial_format(r->serial, r->serial_len, hex, sizeof(hex));
	if (r->kind == REVOKE_SERIAL)
		snprintf(buf, len, "serial %s", hex);
	else
		snprintf(buf, len, "device %s%s%s", r->device, r->kind == REVOKE_APP ? " app " : "",
			 r->kind == REVOKE_APP ? r->app : "");
}

int authd_revoke_add(struct authd *a, const struct revocation *r, json_t **out)
{
	struct revocation n;
	char what[160];
	size_t ended = 0;
	int e = revoke_add(a->revoked, r, wall_s(), &n);

	if (e && e != -EEXIST)
		return e;
	/* In force whatever happens to the answer. */
	if (!e) {
		ended = revoke_covered(a);
		revocation_text(&n, what, sizeof(what));
		log_info("auth: revocation %u: %s%s%s: %zu session(s) ended", n.id, what,
			 n.note[0] ? ", note: " : "", n.note, ended);
	}
	*out = revocation_json(&n);
	if (*out && !e &&
	    json_object_set_new(*out, "sessions_ended", json_integer((json_int_t)ended))) {
		json_decref(*out);
		*out = NULL;
	}
	return *out ? e : -ENOMEM;
}

int authd_revoke_del(struct authd *a, uint32_t id)
{
	struct revocation r;
	char what[160];
	int e = revoke_del(a->revoked, id, &r);

	if (e)
		return e;
	revocation_text(&r, what, sizeof(what));
	log_info("auth: revocation %u (%s) removed", id, what);
	return 0;
}

int authd_revocations(struct authd *a, json_t **out)
{
	*out = revoke_list_json(a->revoked);
	return *out ? 0 : -ENOMEM;
}

/* New scopes for s: the table, the gate's entry and the data path's copy. */
static int session_rescope(struct authd *a, struct session *s, const struct cg_scope *scopes,
			   size_t n)
{
	int e = 0;

	if (s->installed) {
		e = sessmap_set_scopes(a->rescope_fd, s->id, scopes, (uint32_t)n);
		if (!e)
			e = path_session_scopes(a->path, s->id, scopes, (uint32_t)n);
	}
	if (e)
		return e;
	memset(s->scopes, 0, sizeof(s->scopes));
	memcpy(s->scopes, scopes, n * sizeof(scopes[0]));
	s->nscopes = n;
	return 0;
}

/*
 * Judges session id again: ended (reason policy) if the policy no longer
 * allows it or its mode, given new scopes if they changed. 1 if rescoped,
 * -1 if ended, 0 if untouched.
 */
static int rejudge_one(struct authd *a, struct session *s)
{
	struct cg_scope scopes[CG_MAX_SCOPES];
	const char *why;
	uint8_t mode = 0;
	size_t n = 0;
	int e = judge(a, &s->cert, &mode, scopes, &n, &why);

	if (!e && (mode & CG_TUN_F_ENCRYPTED) && !(s->mode & CG_TUN_F_ENCRYPTED)) {
		e = -EACCES;
		why = "the policy asks for encrypted mode now";
	}
	if (!e && n == s->nscopes && !memcmp(scopes, s->scopes, n * sizeof(scopes[0])))
		return 0;
	if (!e) {
		e = session_rescope(a, s, scopes, n);
		if (!e) {
			log_info("auth: session %08x of %s/%s: %zu scope(s) now", s->id,
				 s->cert.device, s->cert.app, n);
			a->auth_stats[AUTH_RESCOPED]++;
			return 1;
		}
		why = strerror(-e);
	}
	log_info("auth: session %08x of %s/%s revoked: policy: %s", s->id, s->cert.device,
		 s->cert.app, why);
	a->auth_stats[AUTH_REVOKED_POLICY]++;
	session_end(a, s, AUTHW_R_POLICY);
	return -1;
}

void authd_rejudge(struct authd *a, struct authd_rejudged *out)
{
	static uint32_t ids[CG_MAX_SESSIONS];
	size_t i, n = session_ids(a, ids);

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++) {
		struct session *s = session_find(a->sessions, ids[i]);
		int r = s ? rejudge_one(a, s) : 0;

		out->rescoped += r > 0;
		out->revoked += r < 0;
		out->kept += s && !r;
	}
}

int authd_device_groups(struct authd *a, const char *device, const char *const *groups, size_t n,
			struct authd_rejudged *out)
{
	int e = registry_set(a->registry, device, groups, n);

	if (e)
		return e;
	log_info("auth: device %s: %zu group(s) set through the API", device, n);
	authd_rejudge(a, out);
	return 0;
}

int authd_devices(struct authd *a, json_t **out)
{
	*out = registry_json(a->registry);
	return *out ? 0 : -ENOMEM;
}

void authd_set_config(struct authd *a, const struct gw_config *cfg, struct authd_rejudged *out)
{
	char err[256];

	a->cfg = cfg;
	crl_refresh(a, false, err, sizeof(err));
	authd_rejudge(a, out);
}

static const char *spa_stat_name(unsigned int i)
{
	return i == SPA_STAT_PORT	      ? "wrong_port"
	       : i == SPA_STAT_ERROR	      ? "error"
	       : i == SPA_STAT_STATE	      ? "not_recorded"
	       : i == SPA_STAT_REVOKED	      ? "revoked"
	       : i == SPA_STAT_KERNEL_DROPPED ? "kernel_dropped"
					      : spa_verdict_str(i);
}

int authd_stats(struct authd *a, json_t **out)
{
	json_t *spa = json_object(), *auth = json_object(), *ret = json_object();
	json_t *worker = json_object(), *rx = json_object(), *levers = json_object();
	json_t *offloads = json_object(), *enroll = json_object();
	struct path_counters pc;
	unsigned int i;

	if (!spa || !auth || !ret || !worker || !rx || !levers || !offloads || !enroll)
		goto enomem;
	spa_drops_sync(a);
	for (i = 0; i < ENROLL_STAT_MAX; i++)
		json_object_set_new(enroll, enroll_stat_name(i),
				    json_integer((json_int_t)a->enroll_stats[i]));
	for (i = 0; i < SPA_STAT_MAX; i++)
		json_object_set_new(spa, spa_stat_name(i),
				    json_integer((json_int_t)a->spa_stats[i]));
	for (i = 0; i < AUTH_STAT_MAX; i++)
		json_object_set_new(auth, auth_stat_names[i],
				    json_integer((json_int_t)a->auth_stats[i]));
	path_counters(a->path, &pc);
	for (i = 0; i < PATH_TX_STAT_MAX; i++)
		json_object_set_new(ret, path_tx_stat_name(i), json_integer((json_int_t)pc.tx[i]));
	for (i = 0; i < TUN_MAX; i++)
		json_object_set_new(rx, tun_verdict_str(i), json_integer((json_int_t)pc.rx[i]));
	json_object_set_new(rx, "tun_errors", json_integer((json_int_t)pc.rx_tun_errors));
	json_object_set_new(rx, "keepalive", json_integer((json_int_t)pc.rx_keepalives));
	json_object_set_new(ret, "icmp_too_big_sent", json_integer((json_int_t)pc.icmp_sent));
	json_object_set_new(ret, "icmp_too_big_suppressed",
			    json_integer((json_int_t)pc.icmp_suppressed));
	for (i = 0; i < OFFLOAD_NCOUNTERS; i++)
		json_object_set_new(offloads, offload_counter_name(i),
				    json_integer((json_int_t)pc.offload[i]));
	for (i = 0; path_lever_name(1U << i); i++)
		json_object_set_new(levers, path_lever_name(1U << i),
				    json_boolean(pc.levers & (1U << i)));
	for (i = 0; i < WORKER_STAT_MAX; i++)
		json_object_set_new(worker, worker_stat_names[i],
				    json_integer((json_int_t)a->worker_stats[i]));
	json_object_set_new(worker, "pid",
			    a->worker.pid > 0 ? json_integer(a->worker.pid) : json_null());
	*out = json_pack("{s:o, s:o, s:o, s:o, s:{s:o, s:o, s:o}, s:o, s:I, s:I, s:I}", "spa", spa,
			 "auth", auth, "enroll", enroll, "return_path", ret, "data_path",
			 "received", rx, "levers", levers, "offload_failures", offloads, "worker",
			 worker, "sessions", (json_int_t)session_count(a->sessions),
			 "addresses_used", (json_int_t)pool_used(a->pool), "spa_nonces_evicted",
			 (json_int_t)spa_replay_evicted(a->spa_seen));
	if (*out &&
	    json_object_set_new(*out, "crl",
				json_pack("{s:I, s:I, s:I}", "lists", (json_int_t)crl_lists(a->crl),
					  "serials", (json_int_t)crl_serials(a->crl), "expired",
					  (json_int_t)crl_expired(a->crl)))) {
		json_decref(*out);
		*out = NULL;
	}
	return *out ? 0 : -ENOMEM;
enomem:
	json_decref(enroll);
	json_decref(spa);
	json_decref(auth);
	json_decref(ret);
	json_decref(worker);
	json_decref(rx);
	json_decref(levers);
	json_decref(offloads);
	return -ENOMEM;
}

int authd_metrics(struct authd *a, const char *gw, char **buf)
{
	struct path_counters pc;
	unsigned int i;
	int err;

	spa_drops_sync(a);
	err = str_appendf(buf, "# HELP capgate_spa_total SPA packets by outcome.\n"
			       "# TYPE capgate_spa_total counter\n");
	for (i = 0; !err && i < SPA_STAT_MAX; i++)
		err = str_appendf(buf, "capgate_spa_total{gateway=\"%s\",outcome=\"%s\"} %llu\n",
				  gw, spa_stat_name(i), (unsigned long long)a->spa_stats[i]);
	if (!err)
		err = str_appendf(buf,
				  "# HELP capgate_auth_total Auth decisions and session ends.\n"
				  "# TYPE capgate_auth_total counter\n");
	for (i = 0; !err && i < AUTH_STAT_MAX; i++)
		err = str_appendf(buf, "capgate_auth_total{gateway=\"%s\",outcome=\"%s\"} %llu\n",
				  gw, auth_stat_names[i], (unsigned long long)a->auth_stats[i]);
	if (!err)
		err = str_appendf(buf, "# HELP capgate_enroll_total Enrollments by outcome.\n"
				       "# TYPE capgate_enroll_total counter\n");
	for (i = 0; !err && i < ENROLL_STAT_MAX; i++)
		err = str_appendf(buf, "capgate_enroll_total{gateway=\"%s\",outcome=\"%s\"} %llu\n",
				  gw, enroll_stat_name(i), (unsigned long long)a->enroll_stats[i]);
	if (!err)
		err = str_appendf(buf,
				  "# HELP capgate_return_path_total Packets from the return-path "
				  "TUN, by outcome.\n# TYPE capgate_return_path_total counter\n");
	path_counters(a->path, &pc);
	for (i = 0; !err && i < PATH_TX_STAT_MAX; i++)
		err = str_appendf(buf,
				  "capgate_return_path_total{gateway=\"%s\",outcome=\"%s\"} %llu\n",
				  gw, path_tx_stat_name(i), (unsigned long long)pc.tx[i]);
	if (!err)
		err = str_appendf(buf, "# HELP capgate_data_path_received_total Encrypted tunnel "
				       "packets the data workers received, by verdict.\n"
				       "# TYPE capgate_data_path_received_total counter\n");
	for (i = 0; !err && i < TUN_MAX; i++)
		err = str_appendf(buf,
				  "capgate_data_path_received_total{gateway=\"%s\",verdict=\"%s\"} "
				  "%llu\n",
				  gw, tun_verdict_str(i), (unsigned long long)pc.rx[i]);
	if (!err)
		err = str_appendf(buf,
				  "# HELP capgate_data_path_offload_failures_total Offloads the "
				  "kernel refused at run time (each turns a lever off or "
				  "resends plain).\n"
				  "# TYPE capgate_data_path_offload_failures_total counter\n");
	for (i = 0; !err && i < OFFLOAD_NCOUNTERS; i++)
		err = str_appendf(buf,
				  "capgate_data_path_offload_failures_total{gateway=\"%s\","
				  "failure=\"%s\"} %llu\n",
				  gw, offload_counter_name(i), (unsigned long long)pc.offload[i]);
	if (!err)
		err = str_appendf(buf,
				  "# HELP capgate_icmp_too_big_total Too-big errors for inner "
				  "packets that do not fit the outer path, by outcome.\n"
				  "# TYPE capgate_icmp_too_big_total counter\n"
				  "capgate_icmp_too_big_total{gateway=\"%s\",outcome=\"sent\"} "
				  "%llu\ncapgate_icmp_too_big_total{gateway=\"%s\",outcome="
				  "\"suppressed\"} %llu\n",
				  gw, (unsigned long long)pc.icmp_sent, gw,
				  (unsigned long long)pc.icmp_suppressed);
	if (!err)
		err = str_appendf(buf, "# HELP capgate_auth_worker_total The auth worker's deaths "
				       "and restarts.\n# TYPE capgate_auth_worker_total counter\n");
	for (i = 0; !err && i < WORKER_STAT_MAX; i++)
		err = str_appendf(buf,
				  "capgate_auth_worker_total{gateway=\"%s\",event=\"%s\"} %llu\n",
				  gw, worker_stat_names[i], (unsigned long long)a->worker_stats[i]);
	if (!err)
		err = str_appendf(
			buf,
			"# HELP capgate_sessions Sessions in force.\n"
			"# TYPE capgate_sessions gauge\ncapgate_sessions{gateway=\"%s\"} %zu\n",
			gw, session_count(a->sessions));
	return err;
}
