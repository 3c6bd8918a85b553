// SPDX-License-Identifier: GPL-2.0
/* The tunnel data path: workers that move packets between a multi-queue TUN and UDP sockets. */
#define _GNU_SOURCE /* recvmmsg, sendmmsg */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "abi/replay.h"
#include "lib/base/log.h"
#include "lib/base/udp.h"
#include "lib/datapath/sessmap.h"
#include "lib/datapath/window.h"
#include "lib/tunnel/icmp.h"
#include "lib/tunnel/inner.h"
#include "lib/tunnel/offload.h"
#include "lib/tunnel/path.h"
#include "lib/tunnel/pmtu.h"
#include "lib/tunnel/tun.h"

#define NS_PER_SEC 1000000000ULL
#define BATCH 64	/* messages per sendmmsg */
#define PKT_MAX 2048	/* one tunnel packet: inner (<= the TUN MTU) plus WIRE_OVERHEAD */
#define SUPER_MAX 65536 /* a TUN read with TSO, a datagram with UDP GRO */
#define RX_MAX 64	/* datagrams per recvmmsg */
#define RX_MAX_GRO 16	/* ... with UDP GRO (64 KiB each) */
#define TQ_MAX 1024	/* inner packets per batch of TUN writes */
#define SEG_MAX 64	/* segments of one TUN read */
#define SARENA (BATCH * PKT_MAX + SUPER_MAX)
#define SOCKET_BUFFER (4 * 1024 * 1024)
/* The integrity endpoint is the gate's to write (XDP); the return path reads it this often. */
#define EP_REFRESH_NS (100ULL * 1000000ULL)
/* The client path has one session, two during a renewal's overlap. */
#define CLIENT_SLOTS 2

/*
 * A session as the workers see it. The control thread writes s under seq
 * (odd while it writes), workers copy it out and check seq again. The other
 * fields are the workers': atomics, or the endpoint under its own sequence
 * count and a spin flag for its (rare) writers.
 */
struct slot {
	_Atomic uint32_t seq;
	struct path_session s;
	_Atomic uint64_t tx_ctr;
	_Atomic uint32_t ep_seq;
	atomic_flag ep_lock;
	uint8_t ep_addr[16];
	uint16_t ep_port;
	_Atomic uint64_t ep_read_ns;
	atomic_flag win_lock;
	struct cg_replay_window *win;
	_Atomic uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
};

/* A worker's copy of one slot's session, valid while the slot's seq is unchanged. */
struct view {
	struct slot *slot;
	uint32_t seq;
	struct path_session s;
	struct aead *aead; /* keyed for s (encrypted mode) */
};

/* A packet that passed every check but the window: rx_commit records it and moves the endpoint. */
struct opened {
	struct slot *slot;
	uint32_t seq; /* the slot's sequence count when it was checked */
	uint64_t counter;
	const uint8_t *inner;
	size_t len;
	bool ok; /* set by rx_commit: accepted */
};

/* A run of packets for one destination in the send arena: one datagram, or one UDP GSO send. */
struct txmsg {
	size_t off, len;
	uint16_t seg;  /* the size of each packet but the last */
	uint16_t nseg; /* packets in it */
	bool closed;   /* its last packet was shorter: nothing more joins */
};

union cmsg_buf {
	char buf[UDP_OFFLOAD_CMSG_SPACE];
	struct cmsghdr align;
};

struct worker {
	struct path *p;
	unsigned int idx;
	pthread_t thread;
	bool started;
	int tun_fd, udp_fd;
	bool reads_udp; /* every gateway worker; the client's first (the others only send) */
	struct view rxv, txv;
	/* receive: rmax datagrams of rlen bytes (a UDP GRO datagram holds many packets) */
	uint8_t *rbuf;
	size_t rlen;
	unsigned int rmax;
	struct mmsghdr rmsg[RX_MAX];
	struct iovec riov[RX_MAX];
	struct sockaddr_in6 rsrc[RX_MAX];
	union cmsg_buf rctl[RX_MAX];
	/* packets of one datagram opened, then the inner packets waiting for the TUN */
	struct opened opened[SEG_MAX];
	struct iovec tq[TQ_MAX];
	unsigned int ntq;
	struct gro *gro;
	struct gro_out gout[TQ_MAX], gplain[GRO_MAX_SEGS];
	/* send: packets sealed back to back in the arena, grouped into messages */
	uint8_t *tunbuf; /* one TUN read: vnet header and up to 64 KiB */
	uint8_t *segbuf; /* its segments (gso_split) */
	size_t seglen[SEG_MAX];
	uint8_t *sarena;
	size_t sused;
	struct txmsg txm[BATCH];
	struct mmsghdr smsg[BATCH];
	struct iovec siov[BATCH];
	struct sockaddr_in6 sdst[BATCH];
	union cmsg_buf sctl[BATCH];
	unsigned int nsend;
	struct icmp_limit icmp;
	uint8_t icmpbuf[OFFLOAD_VNET_HDR_LEN + ICMP_TOO_BIG_MAX];
	/* counters: this worker's only (relaxed atomics, summed by path_counters) */
	_Atomic uint64_t rx[TUN_MAX], tx[PATH_TX_STAT_MAX], rx_tun_errors, rx_bytes, tx_bytes;
	_Atomic uint64_t icmp_sent, icmp_suppressed, keepalives;
};

/*
 * Path MTUs the kernel reported for endpoints (the data sockets' error
 * queues), so that an inner packet that no longer fits gets its "too big".
 * Direct-mapped by address; a collision replaces the older entry.
 */
#define PMTU_SLOTS 256
#define PMTU_TTL_NS (600ULL * NS_PER_SEC) /* as net.ipv4.route.mtu_expires */

struct pmtu_slot {
	_Atomic uint32_t seq;
	atomic_flag lock;
	uint8_t addr[16];
	unsigned int mtu; /* outer */
	uint64_t until_ns;
};

struct path {
	struct path_cfg cfg;
	char tun[IF_NAMESIZE];
	struct windows *windows;	      /* the gateway's: the gate's map */
	struct cg_replay_window *own_windows; /* the client's (or a detached path's) */
	struct slot *slots;
	size_t nslots;
	_Atomic uint32_t *vip_ids; /* gateway: pool offset -> id of the newest session there */
	uint32_t vip_base;
	_Atomic uint32_t tx_id;	     /* client: the session packets are sealed for */
	_Atomic uint64_t last_tx_ns; /* when a worker last sent (the client's keepalives) */
	struct view ka;		     /* the control thread's copy for path_keepalive */
	pthread_mutex_t set_lock;
	_Atomic unsigned int levers;
	bool vnet;		   /* the TUN's reads and writes carry a virtio_net_hdr */
	unsigned int tun_offloads; /* TUN_F_* the kernel took */
	struct offload off;
	struct pmtu_slot pmtu[PMTU_SLOTS];
	int stop_fd;
	unsigned int nworkers;
	struct worker w[PATH_WORKERS_MAX];
};

static const char *const lever_names[] = { "mmsg", "udp_gso", "udp_gro", "tun_offload" };

static const char *const tx_names[PATH_TX_STAT_MAX] = {
	[PATH_TX_SENT] = "sent",
	[PATH_TX_NO_SESSION] = "no_session",
	[PATH_TX_NO_ENDPOINT] = "no_endpoint",
	[PATH_TX_EXHAUSTED] = "counter_exhausted",
	[PATH_TX_MALFORMED] = "malformed",
	[PATH_TX_TOO_BIG] = "too_big",
	[PATH_TX_ERROR] = "error",
};

const char *path_lever_name(unsigned int lever)
{
	unsigned int i;

	for (i = 0; i < sizeof(lever_names) / sizeof(lever_names[0]); i++)
		if (lever == 1U << i)
			return lever_names[i];
	return NULL;
}

int path_levers_parse(const char *s, unsigned int *out)
{
	char buf[256], *tok, *save = NULL;
	unsigned int v = 0, i;

	if (!s || snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -EINVAL;
	for (tok = strtok_r(buf, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save)) {
		if (!strcmp(tok, "all")) {
			v |= PATH_LEVERS_ALL;
			continue;
		}
		if (!strcmp(tok, "none"))
			continue;
		for (i = 0; i < sizeof(lever_names) / sizeof(lever_names[0]); i++)
			if (!strcmp(tok, lever_names[i]))
				break;
		if (i == sizeof(lever_names) / sizeof(lever_names[0]))
			return -EINVAL;
		v |= 1U << i;
	}
	*out = v;
	return 0;
}

const char *path_tx_stat_name(unsigned int i)
{
	return i < PATH_TX_STAT_MAX ? tx_names[i] : "?";
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void count(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* ---- sessions --------------------------------------------------------------- */

static struct slot *slot_of(struct path *p, uint32_t id)
{
	size_t i;

	if (p->cfg.role == PATH_GATEWAY)
		return &p->slots[CG_SESSION_SLOT(id)];
	for (i = 0; i < p->nslots; i++)
		if (p->slots[i].s.id == id)
			return &p->slots[i];
	return NULL;
}

/*
 * Sequence counts: a writer makes seq odd, writes, makes it even again
 * (writers serialised by the caller, or by a spin flag); a reader copies
 * and retries while seq was odd or moved (seq_read_begin, seq_read_retry).
 */
static void spin_lock(atomic_flag *f)
{
	while (atomic_flag_test_and_set_explicit(f, memory_order_acquire))
		;
}

static void spin_unlock(atomic_flag *f)
{
	atomic_flag_clear_explicit(f, memory_order_release);
}

static uint32_t seq_write_begin(_Atomic uint32_t *seq)
{
	uint32_t v;

	v = atomic_load_explicit(seq, memory_order_relaxed);
	atomic_store_explicit(seq, v + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	return v + 2;
}

static void seq_write_end(_Atomic uint32_t *seq, uint32_t v)
{
	atomic_store_explicit(seq, v, memory_order_release);
}

static uint32_t seq_read_begin(_Atomic uint32_t *seq)
{
	return atomic_load_explicit(seq, memory_order_acquire);
}

static bool seq_read_retry(_Atomic uint32_t *seq, uint32_t v)
{
	atomic_thread_fence(memory_order_acquire);
	return (v & 1) || atomic_load_explicit(seq, memory_order_relaxed) != v;
}

/*
 * The view of session id for a worker: its cached copy if the slot has not
 * changed, else a fresh copy (and the AEAD rekeyed). NULL if no such session.
 */
static const struct path_session *view_get(struct view *v, struct slot *sl, uint32_t id, bool rx)
{
	uint32_t s1;
	int tries;

	if (!sl)
		return NULL;
	s1 = seq_read_begin(&sl->seq);
	if (v->slot == sl && v->seq == s1)
		return v->s.id == id && id ? &v->s : NULL;
	for (tries = 0; tries < 100; tries++) {
		s1 = seq_read_begin(&sl->seq);
		memcpy(&v->s, &sl->s, sizeof(v->s));
		if (!seq_read_retry(&sl->seq, s1))
			break;
	}
	v->slot = NULL;
	if (tries == 100 || v->s.id != id || !id)
		return NULL;
	if (v->s.mode & CG_TUN_F_ENCRYPTED &&
	    aead_set_key(v->aead, v->s.cipher, rx ? v->s.rx_key : v->s.tx_key))
		return NULL;
	v->slot = sl;
	v->seq = s1;
	return &v->s;
}

static void slot_write(struct slot *sl, const struct path_session *s)
{
	uint32_t v = seq_write_begin(&sl->seq);

	if (s)
		memcpy(&sl->s, s, sizeof(sl->s));
	else
		sodium_memzero(&sl->s, sizeof(sl->s));
	seq_write_end(&sl->seq, v);
}

static bool vip_offset(const struct path *p, const uint8_t vip[16], uint32_t *off)
{
	uint32_t a;

	if (!addr_is_v4mapped(vip))
		return false;
	a = (uint32_t)vip[12] << 24 | (uint32_t)vip[13] << 16 | (uint32_t)vip[14] << 8 | vip[15];
	/* The pool hands out its lowest free address first: offsets stay below the session count.
	 */
	if (a - p->vip_base >= CG_MAX_SESSIONS)
		return false;
	*off = a - p->vip_base;
	return true;
}

static void ep_write(struct slot *sl, const uint8_t addr[16], uint16_t port)
{
	uint32_t v;

	spin_lock(&sl->ep_lock);
	v = seq_write_begin(&sl->ep_seq);
	memcpy(sl->ep_addr, addr, 16);
	sl->ep_port = port;
	seq_write_end(&sl->ep_seq, v);
	spin_unlock(&sl->ep_lock);
}

static bool ep_read(struct slot *sl, uint8_t addr[16], uint16_t *port)
{
	uint32_t v;

	do {
		v = seq_read_begin(&sl->ep_seq);
		memcpy(addr, sl->ep_addr, 16);
		*port = sl->ep_port;
	} while (seq_read_retry(&sl->ep_seq, v));
	return *port != 0;
}

int path_session_set(struct path *p, const struct path_session *s)
{
	struct slot *sl;
	uint32_t off;
	size_t i;

	if (!s->id || (s->mode & ~CG_TUN_F_ENCRYPTED) || (s->mode && !cipher_name(s->cipher)) ||
	    s->nscopes > CG_MAX_SCOPES)
		return -EINVAL;
	pthread_mutex_lock(&p->set_lock);
	sl = slot_of(p, s->id);
	if (!sl && p->cfg.role == PATH_CLIENT) {
		/* The client keeps the newest session and the one it replaces. */
		for (i = 0; i < p->nslots; i++)
			if (p->slots[i].s.id != atomic_load(&p->tx_id))
				break;
		sl = &p->slots[i < p->nslots ? i : 0];
	}
	if (!sl) {
		pthread_mutex_unlock(&p->set_lock);
		return -EINVAL;
	}
	slot_write(sl, s);
	atomic_store(&sl->tx_ctr, 0);
	ep_write(sl, s->ep_addr, s->ep_port);
	atomic_store(&sl->ep_read_ns, 0);
	atomic_store(&sl->rx_packets, 0);
	atomic_store(&sl->rx_bytes, 0);
	atomic_store(&sl->tx_packets, 0);
	atomic_store(&sl->tx_bytes, 0);
	/*
	 * A new session never inherits a window (the gate reads the gateway's:
	 * set it first). Under the window's flag: a worker still committing a
	 * packet of the slot's previous session either finished (wiped here) or
	 * finds the slot's sequence count moved and accepts nothing.
	 */
	spin_lock(&sl->win_lock);
	memset(sl->win, 0, sizeof(*sl->win));
	spin_unlock(&sl->win_lock);
	if (p->cfg.role == PATH_CLIENT) {
		atomic_store(&p->tx_id, s->id);
	} else if (vip_offset(p, s->vip, &off)) {
		atomic_store(&p->vip_ids[off], s->id);
	}
	pthread_mutex_unlock(&p->set_lock);
	return 0;
}

int path_session_scopes(struct path *p, uint32_t id, const struct cg_scope *scopes, uint32_t n)
{
	struct path_session cur;
	struct slot *sl;
	int e = -ENOENT;

	if (n > CG_MAX_SCOPES)
		return -EINVAL;
	pthread_mutex_lock(&p->set_lock);
	sl = id ? slot_of(p, id) : NULL;
	if (sl && sl->s.id == id) {
		cur = sl->s;
		memset(cur.scopes, 0, sizeof(cur.scopes));
		memcpy(cur.scopes, scopes, n * sizeof(cur.scopes[0]));
		cur.nscopes = n;
		/* A new sequence count: each worker takes the new copy (and keys its AEAD again).
		 */
		slot_write(sl, &cur);
		sodium_memzero(&cur, sizeof(cur));
		e = 0;
	}
	pthread_mutex_unlock(&p->set_lock);
	return e;
}

int path_session_del(struct path *p, uint32_t id)
{
	struct slot *sl;
	uint32_t off, cur;
	int e = -ENOENT;

	pthread_mutex_lock(&p->set_lock);
	sl = id ? slot_of(p, id) : NULL;
	if (sl && sl->s.id == id) {
		if (p->cfg.role == PATH_GATEWAY && vip_offset(p, sl->s.vip, &off)) {
			cur = id;
			atomic_compare_exchange_strong(&p->vip_ids[off], &cur, 0);
		}
		if (p->cfg.role == PATH_CLIENT) {
			cur = id;
			atomic_compare_exchange_strong(&p->tx_id, &cur, 0);
		}
		slot_write(sl, NULL);
		e = 0;
	}
	pthread_mutex_unlock(&p->set_lock);
	return e;
}

int path_session_info(struct path *p, uint32_t id, struct path_session_info *out)
{
	struct slot *sl = id ? slot_of(p, id) : NULL;

	if (!sl || sl->s.id != id)
		return -ENOENT;
	out->rx_packets = atomic_load(&sl->rx_packets);
	out->rx_bytes = atomic_load(&sl->rx_bytes);
	out->tx_packets = atomic_load(&sl->tx_packets);
	out->tx_bytes = atomic_load(&sl->tx_bytes);
	ep_read(sl, out->ep_addr, &out->ep_port);
	return 0;
}

void path_counters(struct path *p, struct path_counters *out)
{
	unsigned int i, k;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < p->nworkers; i++) {
		struct worker *w = &p->w[i];

		for (k = 0; k < TUN_MAX; k++)
			out->rx[k] += atomic_load_explicit(&w->rx[k], memory_order_relaxed);
		for (k = 0; k < PATH_TX_STAT_MAX; k++)
			out->tx[k] += atomic_load_explicit(&w->tx[k], memory_order_relaxed);
		out->rx_tun_errors += atomic_load(&w->rx_tun_errors);
		out->rx_bytes += atomic_load(&w->rx_bytes);
		out->tx_bytes += atomic_load(&w->tx_bytes);
		out->icmp_sent += atomic_load(&w->icmp_sent);
		out->icmp_suppressed += atomic_load(&w->icmp_suppressed);
		out->rx_keepalives += atomic_load(&w->keepalives);
	}
	for (k = 0; k < OFFLOAD_NCOUNTERS; k++)
		out->offload[k] = atomic_load(&p->off.counters[k]);
	out->levers = atomic_load(&p->levers);
	/* A switch the field turned off: the lever is off too. */
	if (!atomic_load(&p->off.udp_gso))
		out->levers &= ~PATH_UDP_GSO;
	if (p->vnet && !atomic_load(&p->off.tun_coalesce))
		out->levers &= ~PATH_TUN_OFFLOAD;
}

/* ---- receive: UDP -> open -> TUN ---------------------------------------------- */

static void src_of(const struct sockaddr_in6 *sa, uint8_t addr[16], uint16_t *port)
{
	memcpy(addr, &sa->sin6_addr, 16);
	*port = sa->sin6_port;
}

/* Verify or open one packet in place, everything but the window's update, into *o. */
static enum tun_verdict rx_open(struct worker *w, uint8_t *pkt, size_t n, struct opened *o)
{
	struct path *p = w->p;
	const struct path_session *s;
	struct cg_inner facts;
	struct wire_view v;
	enum tun_verdict tv;
	struct slot *sl;

	tv = wire_parse(pkt, n, &v);
	if (tv != TUN_OK)
		return tv;
	sl = slot_of(p, v.session);
	s = view_get(&w->rxv, sl, v.session, true);
	if (!s)
		return TUN_UNKNOWN_SESSION;
	/* Integrity packets to the gateway end in XDP: one reaching this socket is out of place. */
	if ((v.flags & CG_TUN_F_ENCRYPTED) != s->mode)
		return TUN_BAD_FLAGS;
	if (now_ns() >= s->expires_ns)
		return TUN_EXPIRED;
	if (!replay_would_accept(&sl->win->top, sl->win->bitmap, v.counter))
		return TUN_REPLAY;
	if (s->mode)
		tv = wire_open_aead(pkt, &v, w->rxv.aead);
	else
		tv = wire_verify(pkt, n, s->rx_key);
	if (tv != TUN_OK)
		return tv;
	if (v.type == CG_TUN_KEEPALIVE) {
		/* Nothing inside: it moves the window and the endpoint, and ends there. */
		*o = (struct opened){ .slot = sl, .seq = w->rxv.seq, .counter = v.counter };
		return TUN_OK;
	}
	if (p->cfg.role == PATH_GATEWAY) {
		/* What the gate checks of a decapsulated packet, by the same definition. */
		tv = inner_parse(v.inner, v.inner_len, &facts);
		if (tv == TUN_OK)
			tv = inner_check(&facts, s->vip, s->scopes, s->nscopes);
	} else {
		tv = wire_inner_check(v.inner, v.inner_len, NULL, s->vip);
	}
	if (tv != TUN_OK)
		return tv;
	*o = (struct opened){ .slot = sl,
			      .seq = w->rxv.seq,
			      .counter = v.counter,
			      .inner = v.inner,
			      .len = v.inner_len };
	return TUN_OK;
}

/*
 * The window moves last, for packets that passed everything (as in the
 * gate): one lock for each run of packets of one session (a UDP GRO
 * datagram is one run), the window checked again under it (a duplicate may
 * have raced its twin past the first check), and the session too (removed
 * or replaced meanwhile: its packets are refused). Roaming: the endpoint
 * moves to the source of a run that was accepted, never on anything else.
 */
static void rx_commit(struct worker *w, struct opened *o, unsigned int n,
		      const struct sockaddr_in6 *from)
{
	struct slot *sl;
	unsigned int i, j, k, acc;
	uint8_t ep[16];
	uint16_t port;
	bool alive;

	for (i = 0; i < n; i = j) {
		sl = o[i].slot;
		for (j = i; j < n && o[j].slot == sl; j++)
			;
		acc = 0;
		spin_lock(&sl->win_lock);
		alive = atomic_load_explicit(&sl->seq, memory_order_acquire) == o[i].seq;
		for (k = i; k < j; k++) {
			o[k].ok = alive && o[k].seq == o[i].seq &&
				  replay_accept(&sl->win->top, sl->win->bitmap, o[k].counter);
			acc += o[k].ok;
		}
		spin_unlock(&sl->win_lock);
		for (k = i; k < j; k++)
			count(&w->rx[o[k].ok ? TUN_OK
				     : alive ? TUN_REPLAY
					     : TUN_UNKNOWN_SESSION],
			      1);
		if (!acc)
			continue;
		if (w->p->cfg.role == PATH_GATEWAY) {
			src_of(from, ep, &port);
			if (port != sl->ep_port || memcmp(ep, sl->ep_addr, 16))
				ep_write(sl, ep, port);
		}
		count(&sl->rx_packets, acc);
		for (k = i; k < j; k++)
			if (o[k].ok)
				count(&sl->rx_bytes, o[k].len);
	}
}

enum tun_verdict path_check_packet(struct path *p, uint8_t *pkt, size_t len, const uint8_t from[16],
				   uint16_t from_port, const uint8_t **inner, size_t *inner_len)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = from_port };
	struct opened o;
	enum tun_verdict tv;

	memcpy(&sa.sin6_addr, from, 16);
	tv = rx_open(&p->w[0], pkt, len, &o);
	if (tv != TUN_OK) {
		count(&p->w[0].rx[tv], 1);
		return tv;
	}
	rx_commit(&p->w[0], &o, 1, &sa);
	if (!o.ok)
		return o.slot->s.id ? TUN_REPLAY : TUN_UNKNOWN_SESSION;
	if (inner)
		*inner = o.inner;
	if (inner_len)
		*inner_len = o.len;
	return TUN_OK;
}

/* The destination of an IP packet, IPv4-mapped for IPv4. 0 or -EINVAL. */
static int pkt_dst(const uint8_t *pkt, size_t len, uint8_t dst[16])
{
	memset(dst, 0, 16);
	if (len >= 20 && pkt[0] >> 4 == 4) {
		dst[10] = dst[11] = 0xff;
		memcpy(dst + 12, pkt + 16, 4);
		return 0;
	}
	if (len >= 40 && pkt[0] >> 4 == 6) {
		memcpy(dst, pkt + 24, 16);
		return 0;
	}
	return -EINVAL;
}

/* ---- path MTU ------------------------------------------------------------------ */

static struct pmtu_slot *pmtu_slot_of(struct path *p, const uint8_t addr[16])
{
	uint32_t h = 2166136261U;
	int i;

	for (i = 0; i < 16; i++)
		h = (h ^ addr[i]) * 16777619U;
	return &p->pmtu[h % PMTU_SLOTS];
}

static void pmtu_put(struct path *p, const uint8_t addr[16], unsigned int mtu)
{
	struct pmtu_slot *e = pmtu_slot_of(p, addr);
	uint32_t v;

	spin_lock(&e->lock);
	v = seq_write_begin(&e->seq);
	memcpy(e->addr, addr, 16);
	e->mtu = mtu;
	e->until_ns = now_ns() + PMTU_TTL_NS;
	seq_write_end(&e->seq, v);
	spin_unlock(&e->lock);
}

/* The outer path MTU the kernel reported for addr, or 0 if none (or expired). */
static unsigned int pmtu_get(struct path *p, const uint8_t addr[16])
{
	struct pmtu_slot *e = pmtu_slot_of(p, addr);
	unsigned int mtu;
	uint64_t until;
	bool same;
	uint32_t v;

	do {
		v = seq_read_begin(&e->seq);
		same = !memcmp(e->addr, addr, 16);
		mtu = e->mtu;
		until = e->until_ns;
	} while (seq_read_retry(&e->seq, v));
	return same && now_ns() < until ? mtu : 0;
}

/* The socket's error queue: path MTUs learnt (ICMP from a router, or the kernel's own). */
static void drain_errqueue(struct worker *w)
{
	struct pmtu_event ev;
	int k;

	for (k = 0; k < 64 && !pmtu_read_errqueue(w->udp_fd, &ev); k++) {
		log_debug("tunnel: path MTU %u to a peer", ev.mtu);
		pmtu_put(w->p, ev.addr, ev.mtu);
	}
}

/*
 * An inner packet that does not fit the outer path once sealed: the "too
 * big" its sender expects goes back into the TUN (from the packet's own
 * destination, an address the host does not own), and the packet is dropped.
 */
static void too_big(struct worker *w, const uint8_t *pkt, size_t len, int family,
		    unsigned int outer_mtu)
{
	unsigned int mtu = tun_mtu_for(family, outer_mtu);
	size_t h = w->p->vnet ? OFFLOAD_VNET_HDR_LEN : 0;
	uint8_t from[16];
	int n;

	count(&w->tx[PATH_TX_TOO_BIG], 1);
	if (pkt_dst(pkt, len, from))
		return;
	n = icmp_too_big(pkt, len, mtu, from, w->icmpbuf + h, sizeof(w->icmpbuf) - h);
	if (n <= 0)
		return;
	if (!icmp_limit_take(&w->icmp, now_ns())) {
		count(&w->icmp_suppressed, 1);
		return;
	}
	memset(w->icmpbuf, 0, h);
	if (write(w->tun_fd, w->icmpbuf, h + (size_t)n) == (ssize_t)(h + (size_t)n))
		count(&w->icmp_sent, 1);
}

/* ---- receive: UDP -> open -> TUN ---------------------------------------------- */

static void tun_write_plain(struct worker *w, const struct gro_out *o, size_t n)
{
	static const struct virtio_net_hdr zero;
	struct iovec v[2];
	size_t i;

	for (i = 0; i < n; i++) {
		v[0] = (struct iovec){ (void *)&zero, OFFLOAD_VNET_HDR_LEN };
		v[1] = (struct iovec){ (void *)o[i].data, o[i].len };
		if (writev(w->tun_fd, w->p->vnet ? v : v + 1, w->p->vnet ? 2 : 1) < 0)
			count(&w->rx_tun_errors, 1);
		else
			count(&w->rx_bytes, o[i].len);
	}
}

/* Writes the queued inner packets to the TUN: coalesced into super-packets where it can. */
static void tun_flush(struct worker *w)
{
	struct path *p = w->p;
	struct iovec v[2];
	unsigned int i;
	int n, k;

	if (!w->ntq)
		return;
	if (!p->vnet) {
		for (i = 0; i < w->ntq; i++) {
			if (write(w->tun_fd, w->tq[i].iov_base, w->tq[i].iov_len) < 0)
				count(&w->rx_tun_errors, 1);
			else
				count(&w->rx_bytes, w->tq[i].iov_len);
		}
		w->ntq = 0;
		return;
	}
	if (!atomic_load_explicit(&p->off.tun_coalesce, memory_order_relaxed))
		gro_set_flags(w->gro, 0);
	n = gro_coalesce(w->gro, w->tq, w->ntq, w->gout, TQ_MAX);
	for (i = 0; n > 0 && i < (unsigned int)n; i++) {
		struct gro_out *o = &w->gout[i];

		if (o->nsegs <= 1) {
			tun_write_plain(w, o, 1);
			continue;
		}
		v[0] = (struct iovec){ &o->hdr, OFFLOAD_VNET_HDR_LEN };
		v[1] = (struct iovec){ (void *)o->data, o->len };
		if (writev(w->tun_fd, v, 2) >= 0) {
			count(&w->rx_bytes, o->len);
			continue;
		}
		/* Some kernels refuse coalesced writes: the packets go one by one from then on. */
		if (offload_tun_write_failed(&p->off, o, -errno) == OFFLOAD_RETRY_PLAIN) {
			gro_set_flags(w->gro, 0);
			k = gro_explode(w->gro, i, w->gplain, GRO_MAX_SEGS);
			if (k > 0)
				tun_write_plain(w, w->gplain, (size_t)k);
		} else {
			count(&w->rx_tun_errors, o->nsegs);
		}
	}
	w->ntq = 0;
}

/* One received datagram: a tunnel packet, or with UDP GRO a run of equal-size ones. */
static void rx_datagram(struct worker *w, uint8_t *buf, size_t len, size_t seg,
			const struct sockaddr_in6 *from)
{
	enum tun_verdict tv;
	unsigned int n = 0, i;
	size_t off;

	if (!seg || seg > len)
		seg = len;
	for (off = 0; off < len; off += seg) {
		tv = rx_open(w, buf + off, len - off < seg ? len - off : seg, &w->opened[n]);
		if (tv == TUN_OK) {
			n++;
		} else {
			count(&w->rx[tv], 1);
			log_debug("tunnel: refused a packet: %s", tun_verdict_str(tv));
		}
		if (n < SEG_MAX && off + seg < len)
			continue;
		rx_commit(w, w->opened, n, from);
		for (i = 0; i < n; i++) {
			if (!w->opened[i].ok)
				continue;
			if (!w->opened[i].len) {
				count(&w->keepalives, 1);
				continue;
			}
			w->tq[w->ntq++] =
				(struct iovec){ (void *)w->opened[i].inner, w->opened[i].len };
			if (w->ntq == TQ_MAX)
				tun_flush(w);
		}
		n = 0;
	}
}

static void rx_batch(struct worker *w)
{
	bool mmsg = atomic_load_explicit(&w->p->levers, memory_order_relaxed) & PATH_MMSG;
	unsigned int i, want = mmsg ? w->rmax : 1;
	ssize_t r;
	int n, k;

	for (k = 0; k < 16; k++) {
		for (i = 0; i < want; i++) {
			w->riov[i] = (struct iovec){ w->rbuf + i * w->rlen, w->rlen };
			w->rmsg[i].msg_hdr = (struct msghdr){
				.msg_name = &w->rsrc[i],
				.msg_namelen = sizeof(w->rsrc[i]),
				.msg_iov = &w->riov[i],
				.msg_iovlen = 1,
				.msg_control = w->rctl[i].buf,
				.msg_controllen = sizeof(w->rctl[i].buf),
			};
		}
		if (mmsg) {
			n = recvmmsg(w->udp_fd, w->rmsg, want, MSG_DONTWAIT, NULL);
		} else {
			r = recvmsg(w->udp_fd, &w->rmsg[0].msg_hdr, MSG_DONTWAIT);
			w->rmsg[0].msg_len = r > 0 ? (unsigned int)r : 0;
			n = r < 0 ? -1 : 1;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			/* A pending error from the error queue (a path MTU, an unreachable peer).
			 */
			drain_errqueue(w);
			continue;
		}
		if (n <= 0)
			break;
		for (i = 0; i < (unsigned int)n; i++) {
			rx_datagram(w, w->rbuf + i * w->rlen, w->rmsg[i].msg_len,
				    udp_gro_size(&w->rmsg[i].msg_hdr), &w->rsrc[i]);
		}
		/* The inner packets live in rbuf: written before the next receive reuses it. */
		tun_flush(w);
		if ((unsigned int)n < want)
			break;
	}
	tun_flush(w);
}

/* ---- send: TUN -> seal -> UDP ------------------------------------------------- */

static bool wait_writable(int fd)
{
	struct pollfd pf = { .fd = fd, .events = POLLOUT };

	return poll(&pf, 1, 20) > 0 && (pf.revents & POLLOUT);
}

/* The packets of message i one by one, without UDP_SEGMENT. */
static void tx_send_plain(struct worker *w, unsigned int i)
{
	struct txmsg *m = &w->txm[i];
	struct msghdr h = w->smsg[i].msg_hdr;
	struct iovec v;
	size_t off, n;

	h.msg_iov = &v;
	h.msg_iovlen = 1;
	h.msg_control = NULL;
	h.msg_controllen = 0;
	for (off = 0; off < m->len; off += n) {
		n = m->len - off < m->seg ? m->len - off : m->seg;
		v = (struct iovec){ w->sarena + m->off + off, n };
		if (sendmsg(w->udp_fd, &h, 0) < 0) {
			if (errno == EMSGSIZE)
				drain_errqueue(w);
			count(&w->tx[PATH_TX_ERROR], 1);
		} else {
			count(&w->tx[PATH_TX_SENT], 1);
		}
	}
}

static void tx_flush(struct worker *w)
{
	struct path *p = w->p;
	bool mmsg = atomic_load_explicit(&p->levers, memory_order_relaxed) & PATH_MMSG;
	unsigned int i, j, retried = 0;
	int n, e;

	for (i = 0; i < w->nsend; i++) {
		struct txmsg *m = &w->txm[i];

		w->siov[i] = (struct iovec){ w->sarena + m->off, m->len };
		w->smsg[i].msg_hdr = (struct msghdr){
			.msg_name = p->cfg.role == PATH_GATEWAY ? &w->sdst[i] : NULL,
			.msg_namelen = p->cfg.role == PATH_GATEWAY ? sizeof(w->sdst[i]) : 0,
			.msg_iov = &w->siov[i],
			.msg_iovlen = 1,
		};
		if (m->nseg > 1)
			udp_gso_cmsg(&w->smsg[i].msg_hdr, w->sctl[i].buf, m->seg);
	}
	i = 0;
	while (i < w->nsend) {
		if (mmsg)
			n = sendmmsg(w->udp_fd, w->smsg + i, w->nsend - i, 0);
		else
			n = sendmsg(w->udp_fd, &w->smsg[i].msg_hdr, 0) < 0 ? -1 : 1;
		if (n > 0) {
			for (j = i; j < i + (unsigned int)n; j++)
				count(&w->tx[PATH_TX_SENT], w->txm[j].nseg);
			i += (unsigned int)n;
			continue;
		}
		e = errno;
		/* A full socket buffer: wait a little for it rather than drop a burst. */
		if ((e == EAGAIN || e == ENOBUFS) && retried++ < 8 && wait_writable(w->udp_fd))
			continue;
		if (e == EMSGSIZE || e == ECONNREFUSED || e == EHOSTUNREACH)
			drain_errqueue(w);
		if (offload_udp_send_failed(&p->off, w->txm[i].nseg > 1, -e) == OFFLOAD_RETRY_PLAIN)
			tx_send_plain(w, i);
		else
			count(&w->tx[PATH_TX_ERROR], w->txm[i].nseg);
		i++;
	}
	if (w->nsend)
		atomic_store_explicit(&p->last_tx_ns, now_ns(), memory_order_relaxed);
	w->nsend = 0;
	w->sused = 0;
}

static int integrity_endpoint(struct worker *w, struct slot *sl, uint32_t id)
{
	uint64_t t = now_ns(), last = atomic_load_explicit(&sl->ep_read_ns, memory_order_relaxed);
	struct cg_session cs;

	if (t - last < EP_REFRESH_NS && sl->ep_port)
		return 0;
	/* One worker reads; the others go on with the endpoint they have. */
	if (!atomic_compare_exchange_strong(&sl->ep_read_ns, &last, t))
		return 0;
	if (!sessmap_get(w->p->cfg.sessions_fd, id, &cs) && cs.ep_port &&
	    (cs.ep_port != sl->ep_port || memcmp(cs.ep_addr, sl->ep_addr, 16)))
		ep_write(sl, cs.ep_addr, cs.ep_port);
	return 0;
}

/* Adds the n bytes sealed at sarena + sused to the batch: to the last message if it can. */
static void tx_queue(struct worker *w, size_t n, const struct sockaddr_in6 *to)
{
	struct path *p = w->p;
	struct txmsg *m = w->nsend ? &w->txm[w->nsend - 1] : NULL;
	bool gso = (atomic_load_explicit(&p->levers, memory_order_relaxed) & PATH_UDP_GSO) &&
		   atomic_load_explicit(&p->off.udp_gso, memory_order_relaxed);

	if (gso && m && !m->closed && m->nseg < SEG_MAX && n <= m->seg &&
	    m->len + n <= SUPER_MAX - 1024 &&
	    (p->cfg.role == PATH_CLIENT || !memcmp(&w->sdst[w->nsend - 1], to, sizeof(*to)))) {
		m->len += n;
		m->nseg++;
		m->closed = n < m->seg;
	} else {
		m = &w->txm[w->nsend];
		*m = (struct txmsg){ .off = w->sused, .len = n, .seg = (uint16_t)n, .nseg = 1 };
		w->sdst[w->nsend++] = *to;
	}
	w->sused += n;
	if (w->nsend == BATCH || w->sused + PKT_MAX > SARENA)
		tx_flush(w);
}

/* Seal one inner packet read from the TUN for its session and queue it. */
static void tx_one(struct worker *w, const uint8_t *pkt, size_t len)
{
	struct path *p = w->p;
	const struct path_session *s;
	struct sockaddr_in6 to = { .sin6_family = AF_INET6 };
	struct slot *sl = NULL;
	uint32_t id = 0, off;
	unsigned int mtu;
	uint8_t dst[16];
	uint64_t ctr;
	int n, fam;

	if (pkt_dst(pkt, len, dst)) {
		count(&w->tx[PATH_TX_MALFORMED], 1);
		return;
	}
	if (p->cfg.role == PATH_GATEWAY) {
		if (vip_offset(p, dst, &off))
			id = atomic_load_explicit(&p->vip_ids[off], memory_order_acquire);
	} else {
		id = atomic_load_explicit(&p->tx_id, memory_order_acquire);
	}
	sl = id ? slot_of(p, id) : NULL;
	s = sl ? view_get(&w->txv, sl, id, false) : NULL;
	if (!s) {
		count(&w->tx[PATH_TX_NO_SESSION], 1);
		return;
	}
	if (p->cfg.role == PATH_GATEWAY) {
		if (!s->mode)
			integrity_endpoint(w, sl, id);
		if (!ep_read(sl, (uint8_t *)&to.sin6_addr, &to.sin6_port)) {
			count(&w->tx[PATH_TX_NO_ENDPOINT], 1);
			return;
		}
	} else {
		memcpy(&to.sin6_addr, p->cfg.gateway, 16);
	}
	/* What the kernel learnt of the path to that endpoint. */
	mtu = pmtu_get(p, (const uint8_t *)&to.sin6_addr);
	fam = addr_is_v4mapped((const uint8_t *)&to.sin6_addr) ? AF_INET : AF_INET6;
	if (mtu && len > tun_mtu_for(fam, mtu)) {
		too_big(w, pkt, len, fam, mtu);
		return;
	}
	ctr = atomic_fetch_add_explicit(&sl->tx_ctr, 1, memory_order_relaxed) + 1;
	if (ctr > CG_AEAD_COUNTER_MAX) {
		count(&w->tx[PATH_TX_EXHAUSTED], 1);
		return;
	}
	if (s->mode)
		n = wire_seal_aead(id, ctr, w->txv.aead, pkt, len, w->sarena + w->sused,
				   SARENA - w->sused);
	else
		n = wire_seal(id, ctr, s->tx_key, pkt, len, w->sarena + w->sused,
			      SARENA - w->sused);
	if (n < 0) {
		count(&w->tx[PATH_TX_MALFORMED], 1);
		return;
	}
	count(&w->tx_bytes, len);
	count(&sl->tx_packets, 1);
	count(&sl->tx_bytes, len);
	tx_queue(w, (size_t)n, &to);
}

/* One TUN read: a packet, or with the TUN's offloads a super-packet to cut into segments. */
static void tx_read(struct worker *w, size_t n)
{
	const struct virtio_net_hdr *h = (const void *)w->tunbuf;
	uint8_t *pkt = w->tunbuf + OFFLOAD_VNET_HDR_LEN;
	int k, i;

	if (!w->p->vnet) {
		tx_one(w, w->tunbuf, n);
		return;
	}
	if (n <= OFFLOAD_VNET_HDR_LEN) {
		count(&w->tx[PATH_TX_MALFORMED], 1);
		return;
	}
	n -= OFFLOAD_VNET_HDR_LEN;
	if (h->gso_type == VIRTIO_NET_HDR_GSO_NONE && !(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
		tx_one(w, pkt, n);
		return;
	}
	k = gso_split(h, pkt, n, w->segbuf, PKT_MAX, w->seglen, SEG_MAX);
	if (k < 0) {
		offload_count(&w->p->off, OFFLOAD_BAD_VNET_HDR);
		count(&w->tx[PATH_TX_MALFORMED], 1);
		return;
	}
	for (i = 0; i < k; i++)
		tx_one(w, w->segbuf + (size_t)i * PKT_MAX, w->seglen[i]);
}

static void tx_batch(struct worker *w)
{
	ssize_t n;
	int k;

	for (k = 0; k < BATCH; k++) {
		n = read(w->tun_fd, w->tunbuf, OFFLOAD_VNET_HDR_LEN + SUPER_MAX);
		if (n <= 0)
			break;
		tx_read(w, (size_t)n);
	}
	tx_flush(w);
}

/* ---- workers ------------------------------------------------------------------ */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pollfd pf[3];
	int n;

	for (;;) {
		pf[0] = (struct pollfd){ .fd = w->p->stop_fd, .events = POLLIN };
		pf[1] = (struct pollfd){ .fd = w->tun_fd, .events = POLLIN };
		pf[2] = (struct pollfd){ .fd = w->reads_udp ? w->udp_fd : -1, .events = POLLIN };
		n = poll(pf, 3, -1);
		if (n < 0 && errno != EINTR)
			break;
		if (pf[0].revents)
			break;
		if (pf[1].revents & POLLIN)
			tx_batch(w);
		if (pf[2].revents & POLLERR)
			drain_errqueue(w);
		if (pf[2].revents & POLLIN)
			rx_batch(w);
	}
	return NULL;
}

static void worker_free(struct worker *w)
{
	aead_free(w->rxv.aead);
	aead_free(w->txv.aead);
	gro_free(w->gro);
	free(w->rbuf);
	free(w->tunbuf);
	free(w->segbuf);
	free(w->sarena);
	if (w->tun_fd >= 0)
		close(w->tun_fd);
	if (w->udp_fd >= 0 && (w->p->cfg.role == PATH_GATEWAY || w->idx == 0))
		close(w->udp_fd);
	sodium_memzero(&w->rxv.s, sizeof(w->rxv.s));
	sodium_memzero(&w->txv.s, sizeof(w->txv.s));
}

/* Buffers for datagrams of rlen bytes (SUPER_MAX with UDP GRO) and the TUN's coalescing. */
static int worker_init(struct worker *w, bool udp_gro, unsigned int gro_flags)
{
	static const uint8_t zero[CG_AEAD_KEY_LEN];

	w->rlen = udp_gro ? SUPER_MAX : PKT_MAX;
	w->rmax = udp_gro ? RX_MAX_GRO : RX_MAX;
	w->rbuf = malloc(w->rmax * w->rlen);
	w->tunbuf = malloc(OFFLOAD_VNET_HDR_LEN + SUPER_MAX);
	w->segbuf = malloc(SEG_MAX * PKT_MAX);
	w->sarena = malloc(SARENA);
	w->gro = gro_new(TQ_MAX, (size_t)TQ_MAX * PKT_MAX, gro_flags);
	w->rxv.aead = aead_new(CG_CIPHER_CHACHA20_POLY1305, zero, false);
	w->txv.aead = aead_new(CG_CIPHER_CHACHA20_POLY1305, zero, true);
	icmp_limit_init(&w->icmp, ICMP_LIMIT_RATE, ICMP_LIMIT_BURST, now_ns());
	if (!w->rbuf || !w->tunbuf || !w->segbuf || !w->sarena || !w->gro || !w->rxv.aead ||
	    !w->txv.aead)
		return -ENOMEM;
	return 0;
}

/* What the TUN may take as super-packets, from what TUNSETOFFLOAD accepted. */
static unsigned int gro_flags(const struct path *p)
{
	if (!p->vnet)
		return 0;
	return (p->tun_offloads & (TUN_F_TSO4 | TUN_F_TSO6) ? GRO_TCP : 0) |
	       (p->tun_offloads & (TUN_F_USO4 | TUN_F_USO6) ? GRO_UDP : 0);
}

static void lever_off(struct path *p, unsigned int lever, const char *why, int e)
{
	if (!(atomic_fetch_and(&p->levers, ~lever) & lever))
		return;
	log_warn("tunnel: %s off: %s (%s)", path_lever_name(lever), why, strerror(-e));
}

/*
 * One TUN queue per worker. With the tun_offload lever the queues carry vnet
 * headers and ask for TSO/USO; a kernel that refuses gets plain queues.
 */
static int open_queues(struct path *p, char *err, size_t errlen)
{
	unsigned int i, flags, got = 0;
	int e, fd;

	for (i = 0; i < p->nworkers; i++) {
		flags = (p->nworkers > 1 ? TUN_OPEN_MULTI_QUEUE : 0) |
			(atomic_load(&p->levers) & PATH_TUN_OFFLOAD ? TUN_OPEN_VNET_HDR : 0);
		fd = tun_open(i ? p->tun : p->cfg.tun, flags, p->tun, sizeof(p->tun));
		if (fd < 0) {
			snprintf(err, errlen, "TUN %s: %s", p->cfg.tun ? p->cfg.tun : "",
				 strerror(-fd));
			return fd;
		}
		p->w[i].tun_fd = fd;
		if (!(flags & TUN_OPEN_VNET_HDR))
			continue;
		e = tun_offload_enable(fd, &got);
		if (!e && (i == 0 || got == p->tun_offloads)) {
			p->tun_offloads = got;
			p->vnet = true;
			continue;
		}
		/* Start again without: every queue of a device has the same flags. */
		lever_off(p, PATH_TUN_OFFLOAD, "the TUN refused its offloads", e ? e : -EINVAL);
		for (; (int)i >= 0; i--) {
			close(p->w[i].tun_fd);
			p->w[i].tun_fd = -1;
		}
		p->vnet = false;
		p->tun_offloads = 0;
		return open_queues(p, err, errlen);
	}
	return 0;
}

/*
 * Room for bursts: a 64 KiB TUN read becomes ~45 datagrams at once, and the
 * default buffers (~200 KiB) drop what one busy moment of the other side sends.
 */
static void socket_buffers(int fd)
{
	int sz = SOCKET_BUFFER;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

/* The data sockets: path MTU discovery on, UDP GRO and GSO if the kernel takes them. */
static int open_sockets(struct path *p, char *err, size_t errlen)
{
	const struct path_cfg *cfg = &p->cfg;
	unsigned int i;
	int fd, e;

	for (i = 0; i < p->nworkers; i++) {
		struct worker *w = &p->w[i];

		if (cfg->role == PATH_CLIENT && i > 0) {
			w->udp_fd = p->w[0].udp_fd;
			continue;
		}
		fd = cfg->role == PATH_GATEWAY ? udp_bind(cfg->data_port, true)
					       : udp_connect(cfg->gateway, cfg->gateway_port);
		if (fd < 0) {
			snprintf(err, errlen, "data socket udp/%u: %s",
				 (unsigned int)(cfg->role == PATH_GATEWAY ? cfg->data_port
									  : cfg->gateway_port),
				 strerror(-fd));
			return fd;
		}
		w->udp_fd = fd;
		w->reads_udp = true;
		socket_buffers(fd);
		e = pmtu_socket_setup(fd, AF_INET6);
		if (e)
			log_warn("tunnel: no path MTU discovery on the data socket: %s",
				 strerror(-e));
		if (atomic_load(&p->levers) & PATH_UDP_GRO && (e = udp_gro_enable(fd)))
			lever_off(p, PATH_UDP_GRO, "the kernel refused UDP_GRO", e);
		if (i == 0 && atomic_load(&p->levers) & PATH_UDP_GSO && (e = udp_gso_probe(fd)))
			lever_off(p, PATH_UDP_GSO, "the kernel refused UDP_SEGMENT", e);
	}
	return 0;
}

static void levers_log(struct path *p)
{
	char buf[96] = "";
	unsigned int i, v = atomic_load(&p->levers);

	for (i = 0; path_lever_name(1U << i); i++)
		if (v & (1U << i))
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " %s",
				 path_lever_name(1U << i));
	log_info("tunnel: %s, %u worker(s), fast path:%s%s", p->tun, p->nworkers,
		 buf[0] ? buf : " none",
		 p->vnet && !gro_flags(p) ? " (the TUN took no TSO/USO)" : "");
}

struct path *path_new(const struct path_cfg *cfg, char *err, size_t errlen)
{
	unsigned int i, n = cfg->workers;
	struct path *p;
	int e;

	if (!n) {
		/*
		 * One per CPU beyond the first: the kernel's share of every packet
		 * (softirq, the applications) needs a CPU too (docs/config.md).
		 */
		long c = sysconf(_SC_NPROCESSORS_ONLN);

		n = c > 2 ? (unsigned int)c - 1 : 1;
	}
	if (n > PATH_WORKERS_MAX)
		n = PATH_WORKERS_MAX;
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	p->cfg = *cfg;
	p->stop_fd = -1;
	p->nworkers = n;
	atomic_init(&p->levers, cfg->levers & PATH_LEVERS_ALL);
	pthread_mutex_init(&p->set_lock, NULL);
	for (i = 0; i < n; i++) {
		/* worker_free closes what a half-done path_new opened. */
		p->w[i].p = p;
		p->w[i].idx = i;
		p->w[i].tun_fd = p->w[i].udp_fd = -1;
	}
	p->nslots = cfg->role == PATH_GATEWAY ? CG_MAX_SESSIONS : CLIENT_SLOTS;
	p->slots = calloc(p->nslots, sizeof(*p->slots));
	if (!p->slots) {
		e = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (cfg->role == PATH_GATEWAY) {
		p->vip_ids = calloc(CG_MAX_SESSIONS, sizeof(*p->vip_ids));
		if (!p->vip_ids) {
			e = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	if (cfg->role == PATH_GATEWAY && !cfg->detached) {
		/* The gate reads these windows: the workers write them in its map. */
		p->windows = windows_open(cfg->windows_fd);
		if (!p->windows) {
			e = -errno;
			snprintf(err, errlen, "replay windows: %s", strerror(errno));
			goto fail;
		}
		for (i = 0; i < p->nslots; i++)
			p->slots[i].win = windows_at(p->windows, i);
	} else {
		p->own_windows = calloc(p->nslots, sizeof(*p->own_windows));
		if (!p->own_windows) {
			e = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		for (i = 0; i < p->nslots; i++)
			p->slots[i].win = &p->own_windows[i];
	}
	p->vip_base = (uint32_t)cfg->pool_base[12] << 24 | (uint32_t)cfg->pool_base[13] << 16 |
		      (uint32_t)cfg->pool_base[14] << 8 | cfg->pool_base[15];
	if (cfg->detached) {
		p->nworkers = 1;
		e = worker_init(&p->w[0], false, 0);
		if (e) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		return p;
	}
	p->ka.aead =
		aead_new(CG_CIPHER_CHACHA20_POLY1305, (const uint8_t[CG_AEAD_KEY_LEN]){ 0 }, true);
	if (!p->ka.aead) {
		e = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	p->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->stop_fd < 0) {
		e = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	e = open_queues(p, err, errlen);
	if (e)
		goto fail;
	e = open_sockets(p, err, errlen);
	if (e)
		goto fail;
	for (i = 0; i < n; i++) {
		e = worker_init(&p->w[i], atomic_load(&p->levers) & PATH_UDP_GRO, gro_flags(p));
		if (e) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	offload_init(&p->off, p->vnet && gro_flags(p), atomic_load(&p->levers) & PATH_UDP_GSO);
	levers_log(p);
	return p;
fail:
	path_free(p);
	errno = -e;
	return NULL;
}

const char *path_tun(const struct path *p)
{
	return p->tun;
}

int path_keepalive(struct path *p, uint64_t idle_ns)
{
	uint8_t pkt[WIRE_KEEPALIVE_LEN];
	const struct path_session *s;
	struct slot *sl;
	uint64_t ctr;
	uint32_t id;
	int e;

	if (p->cfg.role != PATH_CLIENT || p->cfg.detached)
		return -EINVAL;
	if (now_ns() - atomic_load_explicit(&p->last_tx_ns, memory_order_relaxed) < idle_ns)
		return 0;
	id = atomic_load_explicit(&p->tx_id, memory_order_acquire);
	sl = id ? slot_of(p, id) : NULL;
	s = view_get(&p->ka, sl, id, false);
	if (!s)
		return -ENOENT;
	ctr = atomic_fetch_add_explicit(&sl->tx_ctr, 1, memory_order_relaxed) + 1;
	e = wire_keepalive(id, ctr, s->mode ? NULL : s->tx_key, s->mode ? p->ka.aead : NULL, pkt);
	if (e)
		return e;
	if (send(p->w[0].udp_fd, pkt, sizeof(pkt), 0) != (ssize_t)sizeof(pkt))
		return -errno;
	atomic_store_explicit(&p->last_tx_ns, now_ns(), memory_order_relaxed);
	return 1;
}

int path_socket(const struct path *p)
{
	return p->w[0].udp_fd;
}

int path_start(struct path *p)
{
	unsigned int i;
	int e;

	if (p->cfg.detached)
		return -EINVAL;
	for (i = 0; i < p->nworkers; i++) {
		e = pthread_create(&p->w[i].thread, NULL, worker_main, &p->w[i]);
		if (e)
			return -e;
		p->w[i].started = true;
	}
	return 0;
}

void path_free(struct path *p)
{
	unsigned int i;

	if (!p)
		return;
	if (p->stop_fd >= 0)
		eventfd_write(p->stop_fd, 1);
	for (i = 0; i < p->nworkers; i++)
		if (p->w[i].started)
			pthread_join(p->w[i].thread, NULL);
	for (i = 0; i < p->nworkers; i++)
		if (p->w[i].p)
			worker_free(&p->w[i]);
	if (p->stop_fd >= 0)
		close(p->stop_fd);
	if (p->slots)
		sodium_memzero(p->slots, p->nslots * sizeof(*p->slots));
	free(p->slots);
	free(p->own_windows);
	free(p->vip_ids);
	windows_close(p->windows);
	aead_free(p->ka.aead);
	sodium_memzero(&p->ka.s, sizeof(p->ka.s));
	pthread_mutex_destroy(&p->set_lock);
	free(p);
}
