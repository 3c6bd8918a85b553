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
#include "lib/tunnel/inner.h"
#include "lib/tunnel/path.h"
#include "lib/tunnel/tun.h"

#define NS_PER_SEC 1000000000ULL
#define BATCH 64
#define PKT_MAX 2048 /* one tunnel packet: inner (<= the TUN MTU) plus WIRE_OVERHEAD */
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

struct worker {
	struct path *p;
	unsigned int idx;
	pthread_t thread;
	bool started;
	int tun_fd, udp_fd;
	bool reads_udp; /* every gateway worker; the client's first (the others only send) */
	struct view rxv, txv;
	/* receive batch */
	uint8_t (*rbuf)[PKT_MAX];
	struct mmsghdr rmsg[BATCH];
	struct iovec riov[BATCH];
	struct sockaddr_in6 rsrc[BATCH];
	/* send batch */
	uint8_t (*sbuf)[PKT_MAX];
	struct mmsghdr smsg[BATCH];
	struct iovec siov[BATCH];
	struct sockaddr_in6 sdst[BATCH];
	unsigned int nsend;
	uint8_t tunbuf[PKT_MAX];
	/* counters: this worker's only (relaxed atomics, summed by path_counters) */
	_Atomic uint64_t rx[TUN_MAX], tx[PATH_TX_STAT_MAX], rx_tun_errors, rx_bytes, tx_bytes;
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
	_Atomic uint32_t tx_id; /* client: the session packets are sealed for */
	pthread_mutex_t set_lock;
	_Atomic unsigned int levers;
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
 * The view of session id for a worker: its cached copy if the slot has not
 * changed, else a fresh copy (and the AEAD rekeyed). NULL if no such session.
 */
static const struct path_session *view_get(struct view *v, struct slot *sl, uint32_t id, bool rx)
{
	uint32_t s1;
	int tries;

	if (!sl)
		return NULL;
	s1 = atomic_load_explicit(&sl->seq, memory_order_acquire);
	if (v->slot == sl && v->seq == s1)
		return v->s.id == id && id ? &v->s : NULL;
	for (tries = 0; tries < 100; tries++) {
		s1 = atomic_load_explicit(&sl->seq, memory_order_acquire);
		if (s1 & 1)
			continue;
		memcpy(&v->s, &sl->s, sizeof(v->s));
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&sl->seq, memory_order_relaxed) == s1)
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
	uint32_t seq = atomic_load_explicit(&sl->seq, memory_order_relaxed);

	atomic_store_explicit(&sl->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	if (s)
		memcpy(&sl->s, s, sizeof(sl->s));
	else
		sodium_memzero(&sl->s, sizeof(sl->s));
	atomic_store_explicit(&sl->seq, seq + 2, memory_order_release);
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
	uint32_t seq;

	while (atomic_flag_test_and_set_explicit(&sl->ep_lock, memory_order_acquire))
		;
	seq = atomic_load_explicit(&sl->ep_seq, memory_order_relaxed);
	atomic_store_explicit(&sl->ep_seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	memcpy(sl->ep_addr, addr, 16);
	sl->ep_port = port;
	atomic_store_explicit(&sl->ep_seq, seq + 2, memory_order_release);
	atomic_flag_clear_explicit(&sl->ep_lock, memory_order_release);
}

static bool ep_read(struct slot *sl, uint8_t addr[16], uint16_t *port)
{
	uint32_t s1;

	do {
		s1 = atomic_load_explicit(&sl->ep_seq, memory_order_acquire);
		memcpy(addr, sl->ep_addr, 16);
		*port = sl->ep_port;
		atomic_thread_fence(memory_order_acquire);
	} while ((s1 & 1) || atomic_load_explicit(&sl->ep_seq, memory_order_relaxed) != s1);
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
	slot_write(sl, s);
	atomic_store(&sl->tx_ctr, 0);
	ep_write(sl, s->ep_addr, s->ep_port);
	atomic_store(&sl->ep_read_ns, 0);
	atomic_store(&sl->rx_packets, 0);
	atomic_store(&sl->rx_bytes, 0);
	atomic_store(&sl->tx_packets, 0);
	atomic_store(&sl->tx_bytes, 0);
	/* A new session never inherits a window (the gate reads the gateway's: set it first). */
	memset(sl->win, 0, sizeof(*sl->win));
	if (p->cfg.role == PATH_CLIENT) {
		atomic_store(&p->tx_id, s->id);
	} else if (vip_offset(p, s->vip, &off)) {
		atomic_store(&p->vip_ids[off], s->id);
	}
	pthread_mutex_unlock(&p->set_lock);
	return 0;
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
	}
	out->levers = atomic_load(&p->levers);
}

/* ---- receive: UDP -> open -> TUN ---------------------------------------------- */

static void src_of(const struct sockaddr_in6 *sa, uint8_t addr[16], uint16_t *port)
{
	memcpy(addr, &sa->sin6_addr, 16);
	*port = sa->sin6_port;
}

/* Verify or open one packet in place; on TUN_OK, inner and len give the inner packet. */
static enum tun_verdict rx_open(struct worker *w, uint8_t *pkt, size_t n,
				const struct sockaddr_in6 *from, const uint8_t **inner, size_t *len)
{
	struct path *p = w->p;
	const struct path_session *s;
	struct cg_inner facts;
	struct wire_view v;
	enum tun_verdict tv;
	struct slot *sl;
	uint8_t ep[16];
	uint16_t port;
	int ok;

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
	/* The window moves last, for a packet that passed everything (as in the gate). */
	while (atomic_flag_test_and_set_explicit(&sl->win_lock, memory_order_acquire))
		;
	ok = replay_accept(&sl->win->top, sl->win->bitmap, v.counter);
	atomic_flag_clear_explicit(&sl->win_lock, memory_order_release);
	if (!ok)
		return TUN_REPLAY;
	if (p->cfg.role == PATH_GATEWAY) {
		/* Roaming: the endpoint moves only on an authenticated packet. */
		src_of(from, ep, &port);
		if (port != sl->ep_port || memcmp(ep, sl->ep_addr, 16))
			ep_write(sl, ep, port);
	}
	count(&sl->rx_packets, 1);
	count(&sl->rx_bytes, v.inner_len);
	*inner = v.inner;
	*len = v.inner_len;
	return TUN_OK;
}

enum tun_verdict path_check_packet(struct path *p, uint8_t *pkt, size_t len, const uint8_t from[16],
				   uint16_t from_port, const uint8_t **inner, size_t *inner_len)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = from_port };
	const uint8_t *in;
	enum tun_verdict tv;
	size_t n;

	memcpy(&sa.sin6_addr, from, 16);
	tv = rx_open(&p->w[0], pkt, len, &sa, &in, &n);
	count(&p->w[0].rx[tv], 1);
	if (tv == TUN_OK && inner)
		*inner = in;
	if (tv == TUN_OK && inner_len)
		*inner_len = n;
	return tv;
}

static void rx_deliver(struct worker *w, const uint8_t *inner, size_t len)
{
	if (write(w->tun_fd, inner, len) != (ssize_t)len) {
		count(&w->rx_tun_errors, 1);
		return;
	}
	count(&w->rx_bytes, len);
}

static void rx_one(struct worker *w, uint8_t *pkt, size_t n, const struct sockaddr_in6 *from)
{
	const uint8_t *inner;
	enum tun_verdict tv;
	size_t len;

	tv = rx_open(w, pkt, n, from, &inner, &len);
	count(&w->rx[tv], 1);
	if (tv == TUN_OK)
		rx_deliver(w, inner, len);
	else
		log_debug("tunnel: refused a packet: %s", tun_verdict_str(tv));
}

static void rx_batch(struct worker *w)
{
	int i, n, k;
	ssize_t r;

	for (k = 0; k < 16; k++) {
		if (atomic_load_explicit(&w->p->levers, memory_order_relaxed) & PATH_MMSG) {
			for (i = 0; i < BATCH; i++) {
				w->riov[i] = (struct iovec){ w->rbuf[i], PKT_MAX };
				w->rmsg[i].msg_hdr = (struct msghdr){
					.msg_name = &w->rsrc[i],
					.msg_namelen = sizeof(w->rsrc[i]),
					.msg_iov = &w->riov[i],
					.msg_iovlen = 1,
				};
			}
			n = recvmmsg(w->udp_fd, w->rmsg, BATCH, MSG_DONTWAIT, NULL);
			if (n <= 0)
				return;
			for (i = 0; i < n; i++)
				rx_one(w, w->rbuf[i], w->rmsg[i].msg_len, &w->rsrc[i]);
			if (n < BATCH)
				return;
		} else {
			socklen_t sl = sizeof(w->rsrc[0]);

			r = recvfrom(w->udp_fd, w->rbuf[0], PKT_MAX, MSG_DONTWAIT,
				     (struct sockaddr *)&w->rsrc[0], &sl);
			if (r <= 0)
				return;
			rx_one(w, w->rbuf[0], (size_t)r, &w->rsrc[0]);
		}
	}
}

/* ---- send: TUN -> seal -> UDP ------------------------------------------------- */

static void tx_flush(struct worker *w)
{
	unsigned int i = 0;
	int n;

	while (i < w->nsend) {
		if (atomic_load_explicit(&w->p->levers, memory_order_relaxed) & PATH_MMSG) {
			n = sendmmsg(w->udp_fd, w->smsg + i, w->nsend - i, 0);
		} else {
			n = sendmsg(w->udp_fd, &w->smsg[i].msg_hdr, 0) < 0 ? -1 : 1;
		}
		if (n <= 0) {
			/* The one that failed is dropped and counted; the rest go on. */
			count(&w->tx[PATH_TX_ERROR], 1);
			i++;
			continue;
		}
		count(&w->tx[PATH_TX_SENT], (uint64_t)n);
		i += (unsigned int)n;
	}
	w->nsend = 0;
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

/* Seal one inner packet read from the TUN for its session and queue it. */
static void tx_one(struct worker *w, const uint8_t *pkt, size_t len)
{
	struct path *p = w->p;
	const struct path_session *s;
	struct sockaddr_in6 *to = &w->sdst[w->nsend];
	struct slot *sl = NULL;
	uint32_t id = 0, off;
	uint8_t dst[16];
	uint64_t ctr;
	int n;

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
	s = view_get(&w->txv, sl, id, false);
	if (!s) {
		count(&w->tx[PATH_TX_NO_SESSION], 1);
		return;
	}
	*to = (struct sockaddr_in6){ .sin6_family = AF_INET6 };
	if (p->cfg.role == PATH_GATEWAY) {
		if (!s->mode)
			integrity_endpoint(w, sl, id);
		if (!ep_read(sl, (uint8_t *)&to->sin6_addr, &to->sin6_port)) {
			count(&w->tx[PATH_TX_NO_ENDPOINT], 1);
			return;
		}
	}
	ctr = atomic_fetch_add_explicit(&sl->tx_ctr, 1, memory_order_relaxed) + 1;
	if (ctr > CG_AEAD_COUNTER_MAX) {
		count(&w->tx[PATH_TX_EXHAUSTED], 1);
		return;
	}
	if (s->mode)
		n = wire_seal_aead(id, ctr, w->txv.aead, pkt, len, w->sbuf[w->nsend], PKT_MAX);
	else
		n = wire_seal(id, ctr, s->tx_key, pkt, len, w->sbuf[w->nsend], PKT_MAX);
	if (n < 0) {
		count(&w->tx[PATH_TX_MALFORMED], 1);
		return;
	}
	w->siov[w->nsend] = (struct iovec){ w->sbuf[w->nsend], (size_t)n };
	w->smsg[w->nsend].msg_hdr = (struct msghdr){
		.msg_name = p->cfg.role == PATH_GATEWAY ? to : NULL,
		.msg_namelen = p->cfg.role == PATH_GATEWAY ? sizeof(*to) : 0,
		.msg_iov = &w->siov[w->nsend],
		.msg_iovlen = 1,
	};
	w->nsend++;
	count(&w->tx_bytes, len);
	count(&sl->tx_packets, 1);
	count(&sl->tx_bytes, len);
	if (w->nsend == BATCH)
		tx_flush(w);
}

static void tx_batch(struct worker *w)
{
	ssize_t n;
	int k;

	for (k = 0; k < BATCH; k++) {
		n = read(w->tun_fd, w->tunbuf, sizeof(w->tunbuf));
		if (n <= 0)
			break;
		tx_one(w, w->tunbuf, (size_t)n);
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
		if (pf[2].revents & POLLIN)
			rx_batch(w);
	}
	return NULL;
}

static void worker_free(struct worker *w)
{
	aead_free(w->rxv.aead);
	aead_free(w->txv.aead);
	free(w->rbuf);
	free(w->sbuf);
	if (w->tun_fd >= 0)
		close(w->tun_fd);
	if (w->udp_fd >= 0 && (w->p->cfg.role == PATH_GATEWAY || w->idx == 0))
		close(w->udp_fd);
	sodium_memzero(&w->rxv.s, sizeof(w->rxv.s));
	sodium_memzero(&w->txv.s, sizeof(w->txv.s));
}

static int worker_init(struct path *p, struct worker *w, unsigned int idx)
{
	static const uint8_t zero[CG_AEAD_KEY_LEN];

	w->p = p;
	w->idx = idx;
	w->tun_fd = w->udp_fd = -1;
	w->rbuf = calloc(BATCH, PKT_MAX);
	w->sbuf = calloc(BATCH, PKT_MAX);
	w->rxv.aead = aead_new(CG_CIPHER_CHACHA20_POLY1305, zero, false);
	w->txv.aead = aead_new(CG_CIPHER_CHACHA20_POLY1305, zero, true);
	if (!w->rbuf || !w->sbuf || !w->rxv.aead || !w->txv.aead)
		return -ENOMEM;
	return 0;
}

struct path *path_new(const struct path_cfg *cfg, char *err, size_t errlen)
{
	unsigned int i, n = cfg->workers;
	struct path *p;
	int e, fd;

	if (!n) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);

		n = c > 0 ? (unsigned int)c : 1;
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
	for (i = 0; i < n; i++)
		p->w[i].tun_fd = p->w[i].udp_fd = -1;
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
		e = worker_init(p, &p->w[0], 0);
		if (e) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		return p;
	}
	p->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->stop_fd < 0) {
		e = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	for (i = 0; i < n; i++) {
		struct worker *w = &p->w[i];

		e = worker_init(p, w, i);
		if (e) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		w->tun_fd = tun_open(i ? p->tun : cfg->tun, n > 1 ? TUN_OPEN_MULTI_QUEUE : 0,
				     p->tun, sizeof(p->tun));
		if (w->tun_fd < 0) {
			e = w->tun_fd;
			snprintf(err, errlen, "TUN %s: %s", cfg->tun ? cfg->tun : "", strerror(-e));
			goto fail;
		}
		if (cfg->role == PATH_GATEWAY) {
			fd = udp_bind(cfg->data_port, true);
		} else if (i == 0) {
			fd = udp_connect(cfg->gateway, cfg->gateway_port);
		} else {
			fd = p->w[0].udp_fd;
		}
		if (fd < 0) {
			e = fd;
			snprintf(err, errlen, "data socket udp/%u: %s",
				 cfg->role == PATH_GATEWAY ? cfg->data_port : cfg->gateway_port,
				 strerror(-e));
			goto fail;
		}
		w->udp_fd = fd;
		w->reads_udp = cfg->role == PATH_GATEWAY || i == 0;
	}
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
	pthread_mutex_destroy(&p->set_lock);
	free(p);
}
