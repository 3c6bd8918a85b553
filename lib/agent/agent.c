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

#include "abi/replay.h"
#include "abi/tunnel.h"
#include "lib/agent/agent.h"
#include "lib/auth/client.h"
#include "lib/auth/spa.h"
#include "lib/auth/tls.h"
#include "lib/base/addr.h"
#include "lib/base/log.h"
#include "lib/base/parse_num.h"
#include "lib/tunnel/aead.h"
#include "lib/tunnel/tun.h"
#include "lib/tunnel/wire.h"

#define AGENT_MTU 1400
#define PKT_MAX 2048
/* A pause after SPA so the gateway has opened the auth port before the SYN: pacing, not a test. */
#define SPA_SETTLE_MS 100
#define BACKOFF_FIRST_NS NS_PER_SEC

/* A receive key: the current session's, and the previous one during a renewal's overlap. */
struct rx_key {
	uint32_t session;  /* 0 = unused */
	uint64_t until_ns; /* the previous key: accepted until the renewal overlap ends */
	uint8_t key[CG_TUN_KEY_LEN];
	struct cg_replay_window win;
};

struct agent {
	const struct client_config *cfg;
	char gw[CG_ADDRSTRLEN];
	char device[CG_NAME_MAX];
	EVP_PKEY *key;
	struct authc ctl;
	bool ctl_open;
	int tun_fd, udp_fd;
	char tun_name[IF_NAMESIZE];
	uint32_t tx_session;
	uint8_t tx_key[CG_TUN_KEY_LEN];
	uint64_t tx_ctr;
	struct rx_key rx[2];
	uint64_t next_keepalive_ns, renew_at_ns;
	uint64_t refused[TUN_MAX];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* The device name is the certificate's CN unless the config names it. */
static int cert_cn(const char *path, char *buf, size_t len)
{
	X509 *x = NULL;
	FILE *f;
	int n, ret = -EINVAL;

	f = fopen(path, "r");
	if (!f)
		return -errno;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x)
		return -EINVAL;
	n = X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, (int)len);
	if (n > 0 && (size_t)n < len)
		ret = 0;
	X509_free(x);
	return ret;
}

static int udp_to(const uint8_t addr[16], uint16_t port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	int fd, zero = 0, e;

	memcpy(&sa.sin6_addr, addr, 16);
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static int send_spa(struct agent *a)
{
	uint8_t pkt[SPA_MAX_LEN];
	int fd, n, err = 0;

	n = spa_build(a->device, IPPROTO_TCP, a->cfg->port, (uint64_t)time(NULL), a->key, pkt,
		      sizeof(pkt));
	if (n < 0)
		return n;
	fd = udp_to(a->cfg->gateway, a->cfg->spa_port);
	if (fd < 0)
		return fd;
	if (send(fd, pkt, (size_t)n, 0) != n)
		err = -errno;
	close(fd);
	return err;
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

static void rx_set(struct rx_key *r, uint32_t session, const uint8_t key[CG_TUN_KEY_LEN])
{
	sodium_memzero(r, sizeof(*r));
	r->session = session;
	memcpy(r->key, key, CG_TUN_KEY_LEN);
}

/* Takes the keys of the channel's current capability for sending and receiving. */
static void use_capability(struct agent *a, bool renewal)
{
	const struct cap_msg *cap = &a->ctl.cap;
	uint64_t now = mono_ns(), life = (uint64_t)cap->expires_in * NS_PER_SEC;

	if (renewal) {
		/* Packets sealed under the old keys still arrive, for the overlap. */
		a->rx[1] = a->rx[0];
		a->rx[1].until_ns = now + CG_RENEW_OVERLAP_NS;
	} else {
		sodium_memzero(&a->rx[1], sizeof(a->rx[1]));
	}
	rx_set(&a->rx[0], cap->session, a->ctl.keys.s2c_mac);
	a->tx_session = cap->session;
	memcpy(a->tx_key, a->ctl.keys.c2s_mac, sizeof(a->tx_key));
	a->tx_ctr = 0;
	a->next_keepalive_ns = now + (uint64_t)cap->keepalive * NS_PER_SEC;
	/* Renew at four fifths of the life, so the overlap covers the switch. */
	a->renew_at_ns = now + life - life / 5;
}

static int session_up(struct agent *a, char *err, size_t errlen)
{
	struct authc_cfg ac = { 0 };
	char vip[CG_ADDRSTRLEN], dst[CG_ADDRSTRLEN], mode[48];
	struct cidr c;
	uint32_t i;
	int e;

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
	ac.app = a->cfg->app;
	ac.mode = a->cfg->mode;
	ac.cipher = a->cfg->cipher;
	e = authc_connect(&ac, &a->ctl, err, errlen);
	if (e)
		return e;
	a->ctl_open = true;
	use_capability(a, false);

	a->tun_fd = tun_open(a->cfg->tun, a->tun_name, sizeof(a->tun_name));
	if (a->tun_fd < 0) {
		e = a->tun_fd;
		snprintf(err, errlen, "TUN %s: %s", a->cfg->tun, strerror(-e));
		return e;
	}
	memset(&c, 0, sizeof(c));
	c.family = addr_is_v4mapped(a->ctl.cap.vip) ? AF_INET : AF_INET6;
	c.plen = c.family == AF_INET ? 32 : 128;
	memcpy(c.addr, c.family == AF_INET ? a->ctl.cap.vip + 12 : a->ctl.cap.vip,
	       c.family == AF_INET ? 4 : 16);
	e = c.family == AF_INET ? tun_no_ipv6(a->tun_name) : 0;
	if (!e)
		e = tun_configure(a->tun_name, &c, AGENT_MTU);
	/* Every scope goes into the tunnel; the gateway alone decides what passes. */
	for (i = 0; !e && i < a->ctl.cap.nscopes; i++) {
		scope_cidr(&a->ctl.cap.scopes[i], &c);
		e = route_add(&c, a->tun_name);
		if (e) {
			cidr_format(&c, dst, sizeof(dst));
			snprintf(err, errlen, "route %s via %s: %s", dst, a->tun_name,
				 strerror(-e));
			return e;
		}
	}
	if (e) {
		snprintf(err, errlen, "TUN %s: %s", a->tun_name, strerror(-e));
		return e;
	}
	a->udp_fd = udp_to(a->cfg->gateway, a->ctl.cap.data_port);
	if (a->udp_fd < 0) {
		e = a->udp_fd;
		snprintf(err, errlen, "data socket: %s", strerror(-e));
		return e;
	}
	addr_format_mapped(a->ctl.cap.vip, vip, sizeof(vip));
	if (a->ctl.cap.mode)
		snprintf(mode, sizeof(mode), "encrypted (%s)", cipher_name(a->ctl.cap.cipher));
	else
		snprintf(mode, sizeof(mode), "integrity (payloads in clear)");
	log_info("connected: session %08x, %s on %s, %s, %u scope(s), expires in %us",
		 a->tx_session, vip, a->tun_name, mode, a->ctl.cap.nscopes, a->ctl.cap.expires_in);
	return 0;
}

static void session_down(struct agent *a, bool bye)
{
	if (a->ctl_open)
		authc_close(&a->ctl, bye);
	a->ctl_open = false;
	/* Closing the TUN removes it with its address and routes. */
	if (a->tun_fd >= 0)
		close(a->tun_fd);
	if (a->udp_fd >= 0)
		close(a->udp_fd);
	a->tun_fd = a->udp_fd = -1;
	sodium_memzero(a->rx, sizeof(a->rx));
	sodium_memzero(a->tx_key, sizeof(a->tx_key));
	a->tx_session = 0;
}

static void tun_to_gateway(struct agent *a)
{
	uint8_t in[PKT_MAX], out[PKT_MAX + WIRE_OVERHEAD];
	ssize_t n;
	int len, k;

	for (k = 0; k < 64; k++) {
		n = read(a->tun_fd, in, sizeof(in));
		if (n <= 0)
			return;
		len = wire_seal(a->tx_session, ++a->tx_ctr, a->tx_key, in, (size_t)n, out,
				sizeof(out));
		if (len > 0)
			send(a->udp_fd, out, (size_t)len, 0);
	}
}

static void gateway_to_tun(struct agent *a)
{
	uint8_t pkt[PKT_MAX + WIRE_OVERHEAD];
	struct wire_view v;
	enum tun_verdict tv;
	struct rx_key *r;
	ssize_t n;
	int k;

	for (k = 0; k < 64; k++) {
		n = recv(a->udp_fd, pkt, sizeof(pkt), 0);
		if (n <= 0)
			return;
		tv = wire_parse(pkt, (size_t)n, &v);
		r = NULL;
		if (tv == TUN_OK) {
			if (v.session == a->rx[0].session)
				r = &a->rx[0];
			else if (v.session && v.session == a->rx[1].session &&
				 mono_ns() < a->rx[1].until_ns)
				r = &a->rx[1];
			tv = r ? TUN_OK : TUN_UNKNOWN_SESSION;
		}
		/* As the gate does: replay read first, update only after the tag verified. */
		if (tv == TUN_OK && !replay_would_accept(&r->win.top, r->win.bitmap, v.counter))
			tv = TUN_REPLAY;
		if (tv == TUN_OK)
			tv = wire_verify(pkt, (size_t)n, r->key);
		if (tv == TUN_OK)
			tv = wire_inner_check(v.inner, v.inner_len, NULL, a->ctl.cap.vip);
		if (tv == TUN_OK && !replay_accept(&r->win.top, r->win.bitmap, v.counter))
			tv = TUN_REPLAY;
		if (tv != TUN_OK) {
			a->refused[tv]++;
			log_debug("refused a packet from the gateway: %s", tun_verdict_str(tv));
			continue;
		}
		if (write(a->tun_fd, v.inner, v.inner_len) < 0)
			log_debug("TUN write: %s", strerror(errno));
	}
}

/* 1: a signal asked to stop; 0: the channel ended (reconnect). */
static int control_events(struct agent *a)
{
	struct authc_event ev;
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
			use_capability(a, true);
			log_info("renewed: session %08x, expires in %us", a->tx_session,
				 a->ctl.cap.expires_in);
			break;
		case AUTHC_EV_ERROR:
			log_err("the gateway closed the session: %s", ev.reason);
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
	struct pollfd p[4];
	uint64_t now, next;
	int tmo, r;

	for (;;) {
		now = mono_ns();
		if (now >= a->next_keepalive_ns) {
			if (authc_keepalive(&a->ctl))
				return 0;
			a->next_keepalive_ns = now + (uint64_t)a->ctl.cap.keepalive * NS_PER_SEC;
		}
		if (now >= a->renew_at_ns && !a->ctl.renewing) {
			if (authc_renew(&a->ctl) && !a->ctl.renewing)
				return 0;
			a->renew_at_ns = UINT64_MAX;
		}
		next = a->next_keepalive_ns < a->renew_at_ns ? a->next_keepalive_ns
							     : a->renew_at_ns;
		tmo = next > now ? (int)((next - now) / 1000000 + 1) : 0;
		p[0] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = a->tun_fd, .events = POLLIN };
		p[2] = (struct pollfd){ .fd = a->udp_fd, .events = POLLIN };
		p[3] = (struct pollfd){ .fd = authc_fd(&a->ctl),
					.events = POLLIN |
						  (authc_want_write(&a->ctl) ? POLLOUT : 0) };
		if (poll(p, 4, tmo) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[0].revents & POLLIN) {
			if (read(sigfd, &si, sizeof(si)) == sizeof(si))
				log_info("%s: closing the session", strsignal((int)si.ssi_signo));
			return 1;
		}
		if (p[1].revents & POLLIN)
			tun_to_gateway(a);
		if (p[2].revents & POLLIN)
			gateway_to_tun(a);
		if (p[3].revents) {
			r = control_events(a);
			if (r >= 0)
				return r;
		}
	}
}

/* Waits the backoff time unless a signal comes first (then 1). */
static int backoff_wait(int sigfd, uint64_t ns)
{
	struct pollfd p = { .fd = sigfd, .events = POLLIN };

	return poll(&p, 1, (int)(ns / 1000000)) > 0;
}

int agent_run(const struct client_config *cfg, int sigfd)
{
	struct agent a = { .cfg = cfg, .tun_fd = -1, .udp_fd = -1 };
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
	if (cfg->device[0]) {
		snprintf(a.device, sizeof(a.device), "%s", cfg->device);
	} else if ((e = cert_cn(cfg->cert, a.device, sizeof(a.device)))) {
		log_errno(e, "cannot read the CN of %s", cfg->cert);
		goto out;
	}
	for (;;) {
		e = session_up(&a, err, sizeof(err));
		if (e) {
			session_down(&a, false);
			log_warn("gateway %s: %s; retrying in %llus", a.gw, err,
				 (unsigned long long)(backoff / NS_PER_SEC));
			if (backoff_wait(sigfd, backoff)) {
				e = 0;
				goto out;
			}
			backoff = backoff * 2 > cfg->retry_max_ns ? cfg->retry_max_ns : backoff * 2;
			continue;
		}
		backoff = BACKOFF_FIRST_NS;
		r = carry(&a, sigfd);
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
	EVP_PKEY_free(a.key);
	return e;
}
