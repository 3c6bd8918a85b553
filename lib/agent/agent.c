// SPDX-License-Identifier: GPL-2.0
/* The client agent: SPA, the control channel, the TUN and the tagged data path. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "abi/tunnel.h"
#include "lib/agent/agent.h"
#include "lib/agent/netwatch.h"
#include "lib/auth/client.h"
#include "lib/auth/identity.h"
#include "lib/auth/spa.h"
#include "lib/auth/tls.h"
#include "lib/base/addr.h"
#include "lib/base/log.h"
#include "lib/base/parse_num.h"
#include "lib/base/udp.h"
#include "lib/tunnel/aead.h"
#include "lib/tunnel/path.h"
#include "lib/tunnel/pmtu.h"
#include "lib/tunnel/tun.h"

/* A pause after SPA so the gateway has opened the auth port before the SYN: pacing, not a test. */
#define SPA_SETTLE_MS 100
#define BACKOFF_FIRST_NS NS_PER_SEC

struct agent {
	const struct client_config *cfg;
	char gw[CG_ADDRSTRLEN];
	struct identity id;		/* the client certificate's */
	char key_name[CG_KEY_NAME_MAX]; /* DEVICE or DEVICE@APP: what SPA names */
	EVP_PKEY *key;
	struct authc ctl;
	bool ctl_open;
	struct path *path; /* the TUN and the data workers (lib/tunnel/path.h) */
	/*
	 * The destinations routed into the TUN, one per distinct scope prefix;
	 * room for the old and the new ones while a renewal changes them.
	 */
	struct cidr routed[2 * CG_MAX_SCOPES];
	uint32_t nrouted;
	uint32_t session;  /* the current session */
	uint32_t previous; /* the one a renewal replaced, received until previous_until_ns */
	uint64_t previous_until_ns;
	uint64_t next_keepalive_ns, renew_at_ns;
	int netfd; /* rtnetlink changes of this host's network (netwatch.h), -1 if none */
	/*
	 * The session to resume on the next connect (hello's "resume"), kept
	 * from one that was lost, not ended by the gateway (gw_ended); and its
	 * address, to say whether the new session kept it.
	 */
	uint32_t resume;
	uint8_t resume_vip[16];
	bool gw_ended;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/*
 * Who this client is: its certificate's identity, never the config's. The
 * config's device and app, where given, must be the certificate's.
 */
static int own_identity(const struct client_config *cfg, struct identity *id, char *key_name,
			char *err, size_t errlen)
{
	enum identity_verdict v;
	X509 *x = NULL;
	FILE *f;

	f = fopen(cfg->cert, "re");
	if (!f) {
		snprintf(err, errlen, "%s: %s", cfg->cert, strerror(errno));
		return -errno;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x) {
		snprintf(err, errlen, "%s: not a PEM certificate", cfg->cert);
		return -EINVAL;
	}
	v = identity_from_cert(x, cfg->trust_domain, id);
	X509_free(x);
	if (v != IDENTITY_OK) {
		snprintf(err, errlen, "%s: no capgate identity in trust domain %.63s: %s",
			 cfg->cert, cfg->trust_domain, identity_verdict_str(v));
		return -EINVAL;
	}
	if (cfg->app[0] && strcmp(cfg->app, id->app)) {
		if (id->app[0])
			snprintf(err, errlen, "[client] app = %s, but %s is app %s's certificate",
				 cfg->app, cfg->cert, id->app);
		else
			snprintf(err, errlen,
				 "[client] app = %s, but %s is a device certificate (no app)",
				 cfg->app, cfg->cert);
		return -EINVAL;
	}
	if (cfg->device[0] && strcmp(cfg->device, id->device)) {
		snprintf(err, errlen, "[client] device = %s, but %s is device %s's certificate",
			 cfg->device, cfg->cert, id->device);
		return -EINVAL;
	}
	return identity_key_name(id->device, id->app, key_name, CG_KEY_NAME_MAX);
}

static int send_spa(struct agent *a)
{
	uint8_t pkt[SPA_MAX_LEN];
	int n;

	n = spa_build(a->key_name, IPPROTO_TCP, a->cfg->port, (uint64_t)time(NULL), a->key, pkt,
		      sizeof(pkt));
	if (n < 0)
		return n;
	return udp_send_once(a->cfg->gateway, a->cfg->spa_port, pkt, (size_t)n);
}

static void scope_cidr(const struct cg_scope *sc, struct cidr *c)
{
	memset(c, 0, sizeof(*c));
	if (addr_is_v4mapped(sc->addr)) {
		c->family = AF_INET;
		c->plen = sc->plen >= 96 ? sc->plen - 96 : 0;
		memcpy(c->addr, sc->addr + 12, 4);
	} else {
		c->family = AF_INET6;
		c->plen = sc->plen;
		memcpy(c->addr, sc->addr, 16);
	}
}

static bool cidr_in(const struct cidr *c, const struct cidr *set, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (!memcmp(c, &set[i], sizeof(*c)))
			return true;
	return false;
}

/*
 * Routes the TUN to the destinations of the capability's scopes, and to no
 * others: every scope goes into the tunnel and the gateway alone decides what
 * passes. A renewal may change the scopes: the new destinations are added
 * first, then the dropped ones removed, and a kept one is never touched, so
 * its traffic never meets a moment without its route. On an error (in err)
 * a->routed still lists what is routed; the caller starts over with a new TUN.
 */
static int apply_routes(struct agent *a, char *err, size_t errlen)
{
	struct cidr want[CG_MAX_SCOPES], c;
	char dst[CG_ADDRSTRLEN];
	uint32_t i, n = 0;
	int e = 0;

	for (i = 0; i < a->ctl.cap.nscopes; i++) {
		scope_cidr(&a->ctl.cap.scopes[i], &c);
		if (!cidr_in(&c, want, n))
			want[n++] = c;
	}
	for (i = 0; i < n; i++) {
		if (cidr_in(&want[i], a->routed, a->nrouted))
			continue;
		e = route_add(&want[i], path_tun(a->path));
		if (e)
			break;
		a->routed[a->nrouted++] = want[i];
	}
	if (e) {
		cidr_format(&want[i], dst, sizeof(dst));
		snprintf(err, errlen, "route %s via %s: %s", dst, path_tun(a->path), strerror(-e));
		return e;
	}
	for (i = 0; i < a->nrouted;) {
		if (cidr_in(&a->routed[i], want, n)) {
			i++;
			continue;
		}
		e = route_del(&a->routed[i], path_tun(a->path));
		/* Gone already (by hand, say): what was wanted holds. */
		if (e && e != -ENOENT) {
			cidr_format(&a->routed[i], dst, sizeof(dst));
			snprintf(err, errlen, "removing route %s via %s: %s", dst,
				 path_tun(a->path), strerror(-e));
			return e;
		}
		a->routed[i] = a->routed[--a->nrouted];
	}
	return 0;
}

/* The data path's copy of the channel's current capability, with the keys of its mode. */
static int use_capability(struct agent *a, bool renewal)
{
	const struct cap_msg *cap = &a->ctl.cap;
	const struct session_keys *k = &a->ctl.keys;
	uint64_t now = mono_ns(), life = (uint64_t)cap->expires_in * NS_PER_SEC;
	struct path_session ps = { 0 };
	int e;

	ps.id = cap->session;
	ps.mode = cap->mode;
	ps.cipher = cap->cipher;
	ps.expires_ns = now + life;
	if (cap->mode & CG_TUN_F_ENCRYPTED) {
		memcpy(ps.rx_key, k->aead_s2c, sizeof(ps.rx_key));
		memcpy(ps.tx_key, k->aead_c2s, sizeof(ps.tx_key));
	} else {
		memcpy(ps.rx_key, k->s2c_mac, sizeof(k->s2c_mac));
		memcpy(ps.tx_key, k->c2s_mac, sizeof(k->c2s_mac));
	}
	memcpy(ps.vip, cap->vip, 16);
	e = path_session_set(a->path, &ps);
	sodium_memzero(&ps, sizeof(ps));
	if (e)
		return e;
	if (a->previous)
		path_session_del(a->path, a->previous);
	/* Packets sealed under the old keys still arrive, for the overlap. */
	a->previous = renewal ? a->session : 0;
	a->previous_until_ns = now + CG_RENEW_OVERLAP_NS;
	a->session = cap->session;
	a->next_keepalive_ns = now + (uint64_t)cap->keepalive * NS_PER_SEC;
	/* Renew at four fifths of the life, so the overlap covers the switch. */
	a->renew_at_ns = now + life - life / 5;
	return 0;
}

static int session_up(struct agent *a, char *err, size_t errlen)
{
	char vip[CG_ADDRSTRLEN], what[CG_ADDRSTRLEN + 16];
	unsigned int outer = 0, mtu;
	struct authc_cfg ac = { 0 };
	struct path_cfg pc = { 0 };
	int e, family = 0;
	char mode[48];
	struct cidr c;

	e = send_spa(a);
	if (e) {
		snprintf(err, errlen, "SPA to %s: %s", a->gw, strerror(-e));
		return e;
	}
	poll(NULL, 0, SPA_SETTLE_MS);
	ac.gateway = a->gw;
	ac.port = a->cfg->port;
	ac.ca = a->cfg->ca;
	ac.cert = a->cfg->cert;
	ac.key = a->cfg->key;
	ac.app = a->id.app; /* the certificate's, which the gateway takes anyway */
	ac.mode = a->cfg->mode;
	ac.cipher = a->cfg->cipher;
	ac.resume = a->resume;
	e = authc_connect(&ac, &a->ctl, err, errlen);
	if (e)
		return e;
	a->ctl_open = true;
	a->gw_ended = false;

	pc.role = PATH_CLIENT;
	pc.tun = a->cfg->tun;
	pc.workers = a->cfg->workers;
	pc.levers = a->cfg->levers;
	memcpy(pc.gateway, a->cfg->gateway, 16);
	pc.gateway_port = a->ctl.cap.data_port;
	a->path = path_new(&pc, err, errlen);
	if (!a->path)
		return -errno;
	e = use_capability(a, false);
	if (e) {
		snprintf(err, errlen, "data path: %s", strerror(-e));
		return e;
	}
	/* The inner packets must fit the route to the gateway once sealed. */
	snprintf(what, sizeof(what), "route to %s", a->gw);
	e = pmtu_of_socket(path_socket(a->path), &outer, &family);
	mtu = pmtu_tun_mtu(e, outer, family, what);
	memset(&c, 0, sizeof(c));
	c.family = addr_is_v4mapped(a->ctl.cap.vip) ? AF_INET : AF_INET6;
	c.plen = c.family == AF_INET ? 32 : 128;
	memcpy(c.addr, c.family == AF_INET ? a->ctl.cap.vip + 12 : a->ctl.cap.vip,
	       c.family == AF_INET ? 4 : 16);
	e = c.family == AF_INET ? tun_no_ipv6(path_tun(a->path)) : 0;
	if (!e)
		e = tun_configure(path_tun(a->path), &c, mtu);
	if (e) {
		snprintf(err, errlen, "TUN %s: %s", path_tun(a->path), strerror(-e));
		return e;
	}
	e = apply_routes(a, err, errlen);
	if (e)
		return e;
	e = path_start(a->path);
	if (e) {
		snprintf(err, errlen, "data workers: %s", strerror(-e));
		return e;
	}
	addr_format_mapped(a->ctl.cap.vip, vip, sizeof(vip));
	if (a->ctl.cap.mode)
		snprintf(mode, sizeof(mode), "encrypted (%s)", cipher_name(a->ctl.cap.cipher));
	else
		snprintf(mode, sizeof(mode), "integrity (payloads in clear)");
	log_info("connected: session %08x, %s on %s (MTU %u), %s, %u scope(s), expires in %us",
		 a->session, vip, path_tun(a->path), mtu, mode, a->ctl.cap.nscopes,
		 a->ctl.cap.expires_in);
	if (a->resume && !memcmp(a->resume_vip, a->ctl.cap.vip, 16))
		log_info("resumed session %08x: the same address, connections through it go on",
			 a->resume);
	else if (a->resume)
		log_warn("session %08x not resumed: a new address, connections through the old "
			 "one are lost",
			 a->resume);
	a->resume = 0;
	return 0;
}

static void session_down(struct agent *a, bool bye)
{
	if (a->ctl_open)
		authc_close(&a->ctl, bye);
	a->ctl_open = false;
	/* Closing the TUN removes it with its address and routes; the keys are wiped. */
	path_free(a->path);
	a->path = NULL;
	a->nrouted = 0;
	a->session = a->previous = 0;
}

/* 1: a signal asked to stop; 0: the channel ended (reconnect). */
static int control_events(struct agent *a)
{
	struct authc_event ev;
	char err[256];
	int e;

	for (;;) {
		e = authc_process(&a->ctl, &ev);
		if (e) {
			log_errno(e, "control channel");
			return 0;
		}
		switch (ev.type) {
		case AUTHC_EV_NONE:
			return -1;
		case AUTHC_EV_KEEPALIVE_ACK:
			break;
		case AUTHC_EV_RENEWED:
			keys_wipe(&ev.keys);
			e = use_capability(a, true);
			if (e) {
				log_errno(e, "renewed session %08x", a->ctl.cap.session);
				return 0;
			}
			/* The policy may have changed the scopes since the last capability. */
			e = apply_routes(a, err, sizeof(err));
			if (e) {
				log_err("renewed session %08x: %s; reconnecting", a->session, err);
				return 0;
			}
			log_info("renewed: session %08x, expires in %us, %u scope(s)", a->session,
				 a->ctl.cap.expires_in, a->ctl.cap.nscopes);
			break;
		case AUTHC_EV_ERROR:
			log_err("the gateway closed the session: %s", ev.reason);
			a->gw_ended = true;
			return 0;
		case AUTHC_EV_CLOSED:
			log_warn("the control channel closed%s%s", ev.reason[0] ? ": " : "",
				 ev.reason);
			return 0;
		}
	}
}

static int carry(struct agent *a, int sigfd)
{
	struct signalfd_siginfo si;
	struct pollfd p[3];
	uint64_t now, next;
	int tmo, r, e;

	for (;;) {
		now = mono_ns();
		if (now >= a->next_keepalive_ns) {
			if (authc_keepalive(&a->ctl))
				return 0;
			/* The data path too, if it was silent: a NAT may have rebound its port. */
			e = path_keepalive(a->path, (uint64_t)a->ctl.cap.keepalive * NS_PER_SEC);
			if (e < 0)
				log_errno(e, "data path keepalive");
			a->next_keepalive_ns = now + (uint64_t)a->ctl.cap.keepalive * NS_PER_SEC;
		}
		if (now >= a->renew_at_ns && !a->ctl.renewing) {
			if (authc_renew(&a->ctl) && !a->ctl.renewing)
				return 0;
			a->renew_at_ns = UINT64_MAX;
		}
		if (a->previous && now >= a->previous_until_ns) {
			path_session_del(a->path, a->previous);
			a->previous = 0;
		}
		next = a->next_keepalive_ns < a->renew_at_ns ? a->next_keepalive_ns
							     : a->renew_at_ns;
		if (a->previous && a->previous_until_ns < next)
			next = a->previous_until_ns;
		tmo = next > now ? (int)((next - now) / 1000000 + 1) : 0;
		p[0] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = authc_fd(&a->ctl),
					.events = POLLIN |
						  (authc_want_write(&a->ctl) ? POLLOUT : 0) };
		p[2] = (struct pollfd){ .fd = a->netfd, .events = POLLIN };
		if (poll(p, 3, tmo) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[0].revents & POLLIN) {
			if (read(sigfd, &si, sizeof(si)) == sizeof(si))
				log_info("%s: closing the session", strsignal((int)si.ssi_signo));
			return 1;
		}
		/*
		 * The channel's TCP would notice its address gone only when its
		 * retransmissions time out: the agent asks the kernel instead.
		 */
		if ((p[2].revents & POLLIN) && netwatch_drain(a->netfd) &&
		    netwatch_moved(authc_fd(&a->ctl), a->ctl.cap.vip)) {
			log_info("the network changed: the control channel's address no longer "
				 "reaches %s; reconnecting",
				 a->gw);
			return 0;
		}
		if (p[1].revents) {
			r = control_events(a);
			if (r >= 0)
				return r;
		}
	}
}

/*
 * Waits the backoff time unless a signal comes first (then 1) or the network
 * changes (then 0 at once: the gateway may be reachable now).
 */
static int backoff_wait(struct agent *a, int sigfd, uint64_t ns)
{
	uint64_t end = mono_ns() + ns, now;
	struct pollfd p[2] = { { .fd = sigfd, .events = POLLIN },
			       { .fd = a->netfd, .events = POLLIN } };

	while ((now = mono_ns()) < end) {
		if (poll(p, 2, (int)((end - now) / 1000000 + 1)) < 0 && errno != EINTR)
			return 0;
		if (p[0].revents & POLLIN)
			return 1;
		if ((p[1].revents & POLLIN) && netwatch_drain(a->netfd))
			return 0;
	}
	return 0;
}

int agent_run(const struct client_config *cfg, int sigfd)
{
	struct agent a = { .cfg = cfg, .netfd = -1 };
	uint64_t backoff = BACKOFF_FIRST_NS;
	char err[512];
	int e, r;

	addr_format_mapped(cfg->gateway, a.gw, sizeof(a.gw));
	a.key = tls_load_key(cfg->key, err, sizeof(err));
	if (!a.key) {
		e = -errno;
		log_err("%s", err);
		return e;
	}
	e = own_identity(cfg, &a.id, a.key_name, err, sizeof(err));
	if (e) {
		log_err("%s", err);
		goto out;
	}
	a.netfd = netwatch_open();
	if (a.netfd < 0)
		log_errno(a.netfd,
			  "rtnetlink: network changes go unnoticed until the channel fails");
	for (;;) {
		e = session_up(&a, err, sizeof(err));
		if (e) {
			session_down(&a, false);
			log_warn("gateway %s: %s; retrying in %llus", a.gw, err,
				 (unsigned long long)(backoff / NS_PER_SEC));
			if (backoff_wait(&a, sigfd, backoff)) {
				e = 0;
				goto out;
			}
			backoff = backoff * 2 > cfg->retry_max_ns ? cfg->retry_max_ns : backoff * 2;
			continue;
		}
		backoff = BACKOFF_FIRST_NS;
		r = carry(&a, sigfd);
		/* A session lost (not ended by the gateway) is named on the next connect. */
		if (r == 0 && !a.gw_ended) {
			a.resume = a.session;
			memcpy(a.resume_vip, a.ctl.cap.vip, 16);
		}
		session_down(&a, r == 1);
		if (r == 1) {
			e = 0;
			goto out;
		}
		if (r < 0)
			log_errno(r, "data path");
	}
out:
	session_down(&a, false);
	if (a.netfd >= 0)
		close(a.netfd);
	EVP_PKEY_free(a.key);
	return e;
}
