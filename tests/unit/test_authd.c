// SPDX-License-Identifier: GPL-2.0
/* The privileged side of auth for real (root): the request table's order, caps, admin revoke. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <openssl/pem.h>
#include <jansson.h>
#include <openssl/pem.h>

#include "gate.skel.h"
#include "lib/agent/enroll.h"
#include "lib/auth/authd.h"
#include "lib/auth/ca.h"
#include "lib/auth/client.h"
#include "lib/auth/privsep.h"
#include "lib/auth/revoke.h"
#include "lib/auth/tls.h"
#include "lib/auth/token.h"
#include "lib/base/addr.h"
#include "lib/config/gateway.h"
#include "lib/datapath/sessmap.h"
#include "lib/tunnel/aead.h"
#include "lib/tunnel/keys.h"
#include "tests/lib/t.h"
#include "tests/lib/tcert.h"

#define SEC_NS 1000000000ULL

static char dir[64];
static struct gate_bpf *skel;
static struct gw_config cfg;
static uint16_t next_port = 18440;
static bool ready;
static bool enroll_mode; /* config_fresh: [auth] enroll = yes, and devices new1..new3 allowed */

static void rm_dir(void)
{
	char cmd[128];

	gate_bpf__destroy(skel);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* A network namespace of our own (its TUN, ports and lo), the CA, the gate's maps. */
static bool setup(void)
{
	static const char *const ips[] = { "127.0.0.1" };
	struct ifreq ifr = { .ifr_name = "lo" };
	char err[256];
	int fd;

	if (ready)
		return true;
	if (unshare(CLONE_NEWNET)) {
		perror("unshare(CLONE_NEWNET)");
		return false;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr))
		return false;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr))
		return false;
	close(fd);
	strcpy(dir, "/tmp/capgate-authd-XXXXXX");
	if (!mkdtemp(dir))
		return false;
	skel = gate_bpf__open_and_load();
	atexit(rm_dir);
	if (!skel)
		return false;
	/* App certificates; dev1 also for app shell; noid: no identity. */
	if (ca_init(dir, "gw", ips, 1, err, sizeof(err)) ||
	    ca_issue_with(dir, &(struct ca_issue_args){ .device = "dev1", .app = "sensor" }, err,
			  sizeof(err)) ||
	    ca_issue_with(dir, &(struct ca_issue_args){ .device = "dev2", .app = "sensor" }, err,
			  sizeof(err)) ||
	    ca_issue_with(dir, &(struct ca_issue_args){ .device = "dev1", .app = "shell" }, err,
			  sizeof(err)) ||
	    tcert_issue_plain(dir, "noid")) {
		fprintf(stderr, "setup: %s\n", err);
		return false;
	}
	ready = true;
	return true;
}

static bool need_root(void)
{
	if (geteuid() == 0)
		return true;
	T_SKIP("needs root (TUN, BPF maps, the worker drops privileges to nobody)");
	return false;
}

static int sessions_fd(void)
{
	return bpf_map__fd(skel->maps.tun_sessions);
}

/* A gateway config for this run, on fresh ports: dev1 and dev2 may reach one service. */
static bool config_fresh(void)
{
	char text[2048], err[256], state[128];
	uint16_t port = next_port;

	/* SPA's nonce marks (spa_seen.json) go to DIR/state/lo. */
	snprintf(state, sizeof(state), "%s/state", dir);
	mkdir(state, 0700);
	snprintf(text, sizeof(text), "%s/lo", state);
	mkdir(text, 0700);

	next_port += 3;
	snprintf(text, sizeof(text),
		 "[gateway]\ninterface = lo\nstate_dir = %s\n"
		 "[auth]\n%sport = %u\nspa_port = %u\ndata_port = %u\n"
		 "ca = %s/ca.crt\ncert = %s/gateway.crt\nkey = %s/gateway.key\n"
		 "pool = 100.64.0.0/24\ntun = cgauth0\n"
		 "[service web]\nproto = tcp\naddress = 10.10.2.2\nports = 80\n"
		 "[service ssh]\nproto = tcp\naddress = 10.10.2.3\nports = 22\n"
		 "[allow all]\ndevice = dev1 dev2\napp = sensor\nservices = web\n"
		 "[allow shell]\ndevice = dev1\napp = shell\nservices = ssh\n%s",
		 state, enroll_mode ? "enroll = yes\n" : "", port, port + 1, port + 2, dir, dir,
		 dir,
		 enroll_mode ? "[allow enrolled]\ndevice = new1 new2 new3\nservices = web\n" : "");
	if (config_parse_string(text, "t.ini", &cfg, err, sizeof(err))) {
		fprintf(stderr, "config: %s\n", err);
		return false;
	}
	return true;
}

/* What each case needs first: root, setup() and a fresh config. False: skipped or failed. */
static bool prepare(void)
{
	return need_root() && ASSERT_TRUE(setup(), "setup") && ASSERT_TRUE(config_fresh(), "cfg");
}

/* The daemon on cfg, with its real worker; NULL (a failed assertion) if it does not start. */
static struct authd *start(void)
{
	char err[256];
	struct authd *a;

	sessmap_clear(sessions_fd());
	a = authd_new(&cfg, sessions_fd(), bpf_program__fd(skel->progs.xdp_rescope),
		      bpf_map__fd(skel->maps.tun_windows), bpf_map__fd(skel->maps.knock_open), err,
		      sizeof(err));
	ASSERT_TRUE(a != NULL, err);
	return a;
}

/* One round of the daemon's loop: wait up to ms for its fds, serve them. */
static void pump(struct authd *a, int ms)
{
	struct pollfd p[4];
	int n = authd_pollfds(a, p, 4);

	if (poll(p, (nfds_t)n, ms) > 0)
		authd_process(a, p, n);
}

/* authd_stats: auth.<name>, or a top-level number when name has no "auth." prefix. */
static long long stat_of(struct authd *a, const char *name)
{
	json_t *j = NULL, *v;
	long long r = -1;

	if (authd_stats(a, &j))
		return -1;
	v = strncmp(name, "auth.", 5) ? json_object_get(j, name)
				      : json_object_get(json_object_get(j, "auth"), name + 5);
	if (v)
		r = json_integer_value(v);
	else if (!strncmp(name, "auth.", 5))
		r = 0; /* a counter this build does not have */
	json_decref(j);
	return r;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC_NS + (uint64_t)ts.tv_nsec;
}

/* A real device: TLS with its certificate, in a thread while the test serves the daemon. */
struct cli {
	pthread_t th;
	struct authc_cfg cfg;
	struct authc c;
	char crt[128], key[128], ca[128], err[256];
	int ret;
	int done;
};

/*
 * Runs fn(arg) in a thread while serving the daemon, until *done or 10 s
 * (the clients' own timeouts are shorter), then joins it. 0 or -EAGAIN.
 */
static int serve_thread(struct authd *a, pthread_t *th, void *(*fn)(void *), void *arg,
			const int *done)
{
	uint64_t deadline = now_ns() + 10 * SEC_NS;

	if (pthread_create(th, NULL, fn, arg))
		return -EAGAIN;
	while (!__atomic_load_n(done, __ATOMIC_ACQUIRE) && now_ns() < deadline)
		pump(a, 10);
	pthread_join(*th, NULL);
	return 0;
}

static void *cli_run(void *arg)
{
	struct cli *k = arg;

	k->ret = authc_connect(&k->cfg, &k->c, k->err, sizeof(k->err));
	__atomic_store_n(&k->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * Connects key name dev (its certificate and key in dir) to the daemon's
 * worker with hello's app (NULL: none), [client] mode and cipher, and
 * hello's resume, serving the daemon meanwhile; returns authc_connect's.
 */
static int cli_connect_app(struct authd *a, struct cli *k, const char *dev, const char *app,
			   uint8_t mode, uint8_t cipher, uint32_t resume)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->crt, sizeof(k->crt), "%s/%s.crt", dir, dev);
	snprintf(k->key, sizeof(k->key), "%s/%s.key", dir, dev);
	snprintf(k->ca, sizeof(k->ca), "%s/ca.crt", dir);
	k->cfg = (struct authc_cfg){
		.gateway = "127.0.0.1",
		.port = cfg.auth.port,
		.ca = k->ca,
		.cert = k->crt,
		.key = k->key,
		.app = app,
		.timeout_ns = 5 * SEC_NS,
		.mode = mode,
		.cipher = cipher,
		.resume = resume,
	};
	return serve_thread(a, &k->th, cli_run, k, &k->done) ?: k->ret;
}

static int cli_connect_as(struct authd *a, struct cli *k, const char *dev, uint8_t mode,
			  uint8_t cipher, uint32_t resume)
{
	return cli_connect_app(a, k, dev, NULL, mode, cipher, resume);
}

/* The same with the [client] defaults: mode = policy, cipher = auto. */
static int cli_connect(struct authd *a, struct cli *k, const char *dev)
{
	return cli_connect_as(a, k, dev, 0, 0, 0);
}

/* Closes a client the daemon has ended (or whose daemon is gone), so its memory goes too. */
static void cli_drop(struct cli *k)
{
	if (k->ret == 0)
		authc_close(&k->c, false);
	k->ret = -1;
}

/* The client's next event within ms, serving the daemon meanwhile (NONE if nothing came). */
static uint32_t cli_event(struct authd *a, struct cli *k, struct authc_event *ev, int ms)
{
	uint64_t deadline = now_ns() + (uint64_t)ms * 1000000ULL;

	memset(ev, 0, sizeof(*ev));
	while (now_ns() < deadline) {
		pump(a, 10);
		if (authc_process(&k->c, ev))
			return AUTHC_EV_CLOSED;
		if (ev->type != AUTHC_EV_NONE)
			return ev->type;
	}
	return AUTHC_EV_NONE;
}

/* Serves the daemon until stat name equals want or ms pass; returns the last value. */
static long long stat_wait(struct authd *a, const char *name, long long want, int ms)
{
	uint64_t deadline = now_ns() + (uint64_t)ms * 1000000ULL;
	long long v;

	while ((v = stat_of(a, name)) != want && now_ns() < deadline)
		pump(a, 10);
	return v;
}

/*
 * The worker is the party under suspicion: the test plays a compromised one.
 * The parent's end of the socketpair (its only SOCK_SEQPACKET fd) is swapped
 * for one of ours; the real worker sees its parent go and stops.
 */
static int fake_worker(struct authd *a)
{
	struct pollfd p[4];
	int n = authd_pollfds(a, p, 4), i, sv[2], type;
	socklen_t len;

	for (i = 0; i < n; i++) {
		len = sizeof(type);
		if (!getsockopt(p[i].fd, SOL_SOCKET, SO_TYPE, &type, &len) &&
		    type == SOCK_SEQPACKET)
			break;
	}
	if (i == n || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -1;
	if (dup2(sv[0], p[i].fd) < 0 || fcntl(p[i].fd, F_SETFL, O_NONBLOCK)) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[0]);
	return sv[1];
}

/* The worker sends msg; the parent serves it. */
static void w_send(struct authd *a, int fw, const void *msg, size_t len)
{
	ASSERT_EQ(authw_send(fw, msg, len), 0, "worker message sent");
	pump(a, 1000);
}

/* The parent's next reply within ms, checked against the worker's table; 0 = nothing. */
static uint32_t w_recv(int fw, union authw_msg *m, int ms)
{
	struct pollfd pf = { .fd = fw, .events = POLLIN };
	uint32_t type = 0;
	size_t len;

	memset(m, 0, sizeof(*m));
	if (poll(&pf, 1, ms) != 1 || authw_recv(fw, m, sizeof(*m), &len) ||
	    authw_reply_check(m, len, &type))
		return 0;
	return type;
}

static void w_request(struct authd *a, int fw, uint64_t conn, const char *device)
{
	struct authw_session_request r = {
		.type = AUTHW_SESSION_REQUEST,
		.conn = conn,
		.peer_port = 40000,
	};

	snprintf(r.id.device, sizeof(r.id.device), "%s", device);
	snprintf(r.id.app, sizeof(r.id.app), "sensor");
	r.id.serial[0] = 1;
	r.id.serial_len = 1;
	addr_parse_mapped("127.0.0.1", r.peer_addr);
	w_send(a, fw, &r, sizeof(r));
}

/* REVOKE for conn, naming session, with the worker's reason. */
static void w_revoke(struct authd *a, int fw, uint64_t conn, uint32_t session, uint32_t reason)
{
	union authw_msg m;

	memset(&m, 0, sizeof(m));
	m.type = AUTHW_SESSION_REVOKE;
	m.revoke.session = session;
	m.revoke.conn = conn;
	m.revoke.reason = reason;
	w_send(a, fw, &m, sizeof(m.revoke));
}

/* INSTALL (made-up exporter bytes), RENEW or REVOKE (closed) for conn, naming session. */
static void w_msg(struct authd *a, int fw, uint32_t type, uint64_t conn, uint32_t session)
{
	union authw_msg m;
	size_t len;

	memset(&m, 0, sizeof(m));
	m.type = type;
	if (type == AUTHW_SESSION_INSTALL) {
		m.install.session = session;
		m.install.conn = conn;
		memset(m.install.material, 0x5a, sizeof(m.install.material));
		len = sizeof(m.install);
	} else if (type == AUTHW_SESSION_RENEW) {
		m.renew.old_session = session;
		m.renew.conn = conn;
		len = sizeof(m.renew);
	} else {
		w_revoke(a, fw, conn, session, AUTHW_R_CLOSED);
		return;
	}
	w_send(a, fw, &m, len);
}

/* REQUEST -> GRANT -> INSTALL -> INSTALLED on conn; returns the session id (0 on failure). */
static uint32_t w_session(struct authd *a, int fw, uint64_t conn, const char *device)
{
	union authw_msg m;
	uint32_t id;

	w_request(a, fw, conn, device);
	if (!ASSERT_EQ(w_recv(fw, &m, 1000), AUTHW_GRANT, "grant"))
		return 0;
	id = m.grant.session;
	w_msg(a, fw, AUTHW_SESSION_INSTALL, conn, id);
	if (!ASSERT_EQ(w_recv(fw, &m, 1000), AUTHW_INSTALLED, "installed"))
		return 0;
	return id;
}

/*
 * An admin revoke of a session granted but not yet installed, while another
 * grant is pending: the daemon dereferenced the vanished session (NULL) for
 * the next pending slot. Now the whole control channel goes, nothing else.
 */
static void test_revoke_granted_not_installed(void)
{
	union authw_msg m, g1, g2;
	struct authd *a;
	int fw;

	if (!prepare())
		return;
	a = start();
	fw = a ? fake_worker(a) : -1;
	if (!ASSERT_TRUE(fw >= 0, "fake worker"))
		goto out;
	w_request(a, fw, 1, "dev1");
	w_request(a, fw, 2, "dev2");
	if (!ASSERT_EQ(w_recv(fw, &g1, 1000), AUTHW_GRANT, "grant 1") ||
	    !ASSERT_EQ(w_recv(fw, &g2, 1000), AUTHW_GRANT, "grant 2"))
		goto out;
	ASSERT_EQ(g1.grant.conn, 1, "grant 1 conn");
	ASSERT_EQ(authd_revoke(a, g1.grant.session), 0, "revoke the granted session");
	if (ASSERT_EQ(w_recv(fw, &m, 1000), AUTHW_KILL, "the worker is told"))
		ASSERT_EQ(m.kill.session, g1.grant.session, "kill names it");
	ASSERT_EQ(stat_of(a, "auth.revoked_admin"), 1, "counted");
	ASSERT_EQ(stat_of(a, "sessions"), 1, "the other grant stays");
	ASSERT_EQ(stat_of(a, "addresses_used"), 1, "its address went back");
	ASSERT_EQ(authd_revoke(a, g1.grant.session), -ENOENT, "gone");
	/* The revoked grant's keys come late: refused; the other one installs. */
	w_msg(a, fw, AUTHW_SESSION_INSTALL, 1, g1.grant.session);
	ASSERT_EQ(w_recv(fw, &m, 200), 0, "no reply to the late install");
	w_msg(a, fw, AUTHW_SESSION_INSTALL, 2, g2.grant.session);
	ASSERT_EQ(w_recv(fw, &m, 1000), AUTHW_INSTALLED, "the other session installs");
	ASSERT_EQ(sessmap_count(sessions_fd()), 1, "one session in the gate");
	w_msg(a, fw, AUTHW_SESSION_REVOKE, 1, g1.grant.session);
	w_msg(a, fw, AUTHW_SESSION_REVOKE, 2, g2.grant.session);
	ASSERT_EQ(stat_of(a, "sessions"), 0, "all gone");
	ASSERT_EQ(stat_of(a, "addresses_used"), 0, "all addresses back");
out:
	authd_free(a);
	if (fw >= 0)
		close(fw);
}

/* How a channel ended is counted apart where it tells a goodbye from a client gone silent. */
static void test_revoke_reasons(void)
{
	struct {
		uint32_t reason;
		uint64_t revoked, bye, timeout;
	} rows[] = {
		{ AUTHW_R_BYE, 1, 1, 0 },
		{ AUTHW_R_TIMEOUT, 2, 1, 1 },
		{ AUTHW_R_CLOSED, 3, 1, 1 },
	};
	struct authd *a;
	uint32_t id;
	size_t i;
	int fw;

	if (!prepare())
		return;
	a = start();
	fw = a ? fake_worker(a) : -1;
	if (!ASSERT_TRUE(fw >= 0, "fake worker"))
		goto out;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		id = w_session(a, fw, i + 1, "dev1");
		if (!ASSERT_TRUE(id != 0, "session"))
			goto out;
		w_revoke(a, fw, i + 1, id, rows[i].reason);
		ASSERT_EQ(stat_of(a, "sessions"), 0, authw_reason_str(rows[i].reason));
		ASSERT_EQ(stat_of(a, "auth.revoked"), rows[i].revoked, "revoked");
		ASSERT_EQ(stat_of(a, "auth.revoked_bye"), rows[i].bye, "revoked_bye");
		ASSERT_EQ(stat_of(a, "auth.revoked_timeout"), rows[i].timeout, "revoked_timeout");
	}
out:
	authd_free(a);
	if (fw >= 0)
		close(fw);
}

/*
 * The parent's per-connection state machine: out-of-order requests from the
 * worker are refused, counted as refused_sequence, and change nothing.
 */
static void test_sequence(void)
{
	uint32_t s1, s2;
	union authw_msg m;
	struct authd *a;
	int fw;

	if (!prepare())
		return;
	cfg.auth.renew_after_pct = 0; /* renewals at once: the order is what is tested */
	a = start();
	fw = a ? fake_worker(a) : -1;
	if (!ASSERT_TRUE(fw >= 0, "fake worker"))
		goto out;
	w_msg(a, fw, AUTHW_SESSION_INSTALL, 1, 0x1234);
	ASSERT_EQ(w_recv(fw, &m, 200), 0, "install before any request: no reply");
	ASSERT_EQ(stat_of(a, "auth.refused_sequence"), 1, "install before request refused");
	s1 = w_session(a, fw, 1, "dev1");
	if (!ASSERT_TRUE(s1 != 0, "session 1"))
		goto out;

	/* One active session per connection: a second REQUEST would take another address. */
	w_request(a, fw, 1, "dev2");
	if (ASSERT_EQ(w_recv(fw, &m, 1000), AUTHW_DENY, "second request on an active conn")) {
		ASSERT_EQ(m.deny.conn, 1, "deny conn");
		ASSERT_EQ(m.deny.reason, AUTHW_R_PROTOCOL, "deny reason");
	}
	ASSERT_EQ(stat_of(a, "auth.refused_sequence"), 2, "second request refused");
	ASSERT_EQ(stat_of(a, "addresses_used"), 1, "no second address");
	ASSERT_EQ(stat_of(a, "sessions"), 1, "no second session");

	w_msg(a, fw, AUTHW_SESSION_INSTALL, 1, s1);
	ASSERT_EQ(w_recv(fw, &m, 200), 0, "install on an active conn: no reply");
	ASSERT_EQ(stat_of(a, "auth.refused_sequence"), 3, "second install refused");

	w_msg(a, fw, AUTHW_SESSION_RENEW, 2, s1);
	ASSERT_EQ(w_recv(fw, &m, 1000), AUTHW_DENY, "renew from another conn");
	ASSERT_EQ(stat_of(a, "auth.refused_sequence"), 4, "renew of another conn's session");

	w_msg(a, fw, AUTHW_SESSION_RENEW, 1, s1);
	if (!ASSERT_EQ(w_recv(fw, &m, 1000), AUTHW_GRANT, "renewal granted"))
		goto out;
	s2 = m.grant.session;
	w_msg(a, fw, AUTHW_SESSION_RENEW, 1, s1);
	ASSERT_EQ(w_recv(fw, &m, 1000), AUTHW_DENY, "renew while a renewal is pending");
	ASSERT_EQ(stat_of(a, "auth.refused_sequence"), 5, "renew while granted refused");
	w_msg(a, fw, AUTHW_SESSION_INSTALL, 1, s2);
	ASSERT_EQ(w_recv(fw, &m, 1000), AUTHW_INSTALLED, "renewal installed");

	/* s1 was replaced: a renewal of it would stack sessions on one channel. */
	w_msg(a, fw, AUTHW_SESSION_RENEW, 1, s1);
	if (ASSERT_EQ(w_recv(fw, &m, 1000), AUTHW_DENY, "renew of a replaced session"))
		ASSERT_EQ(m.deny.reason, AUTHW_R_PROTOCOL, "deny reason");
	ASSERT_EQ(stat_of(a, "auth.refused_sequence"), 6, "renew of a replaced session refused");
	ASSERT_EQ(stat_of(a, "sessions"), 2, "the renewal and the old one in its overlap");
	ASSERT_EQ(stat_of(a, "auth.granted"), 1, "one grant");
	ASSERT_EQ(stat_of(a, "auth.renewed"), 1, "one renewal");

	w_msg(a, fw, AUTHW_SESSION_REVOKE, 1, s2);
	ASSERT_EQ(stat_of(a, "sessions"), 0, "the channel's sessions are gone");
	ASSERT_EQ(stat_of(a, "addresses_used"), 0, "its address is back");
	ASSERT_EQ(sessmap_count(sessions_fd()), 0, "nothing left in the gate");
out:
	authd_free(a);
	if (fw >= 0)
		close(fw);
}

/*
 * One device opening channel after channel (its door open, the worker takes
 * 1024 clients) would take the whole pool: max_sessions_per_device, per device.
 */
static void test_device_cap(void)
{
	struct cli k[4];
	struct authd *a;
	int i;

	if (!prepare())
		return;
	cfg.auth.max_sessions_per_device = 2;
	a = start();
	if (!a)
		return;
	ASSERT_EQ(cli_connect(a, &k[0], "dev1@sensor"), 0, "dev1 first");
	ASSERT_EQ(cli_connect(a, &k[1], "dev1@sensor"), 0, "dev1 second");
	if (ASSERT_EQ(cli_connect(a, &k[2], "dev1@sensor"), -EACCES, "dev1 third refused"))
		ASSERT_TRUE(strstr(k[2].err, "limit") != NULL, k[2].err);
	ASSERT_EQ(stat_of(a, "auth.denied_device_limit"), 1, "counted");
	ASSERT_EQ(cli_connect(a, &k[3], "dev2@sensor"), 0, "another device is not held back");
	ASSERT_EQ(stat_of(a, "addresses_used"), 3, "three addresses");
	/* A channel that ends gives its place back. */
	authc_close(&k[0].c, true);
	ASSERT_EQ(stat_wait(a, "sessions", 2, 5000), 2, "bye ends dev1's first session");
	ASSERT_EQ(cli_connect(a, &k[0], "dev1@sensor"), 0, "dev1 again");
	ASSERT_EQ(stat_of(a, "auth.granted"), 4, "four grants");
	for (i = 0; i < 4; i++)
		if (k[i].ret == 0)
			authc_close(&k[i].c, true);
	authd_free(a);
}

/* Renewing as fast as the round trip allows: refused before renew_after of the lifetime. */
static void test_renew_early(void)
{
	struct authc_event ev;
	struct cli k;
	struct authd *a;
	uint64_t t0;

	if (!prepare())
		return;
	ASSERT_EQ(cfg.auth.renew_after_pct, 50, "default: half the lifetime");
	cfg.auth.session_ttl_ns = 2 * SEC_NS; /* below the config's floor, to wait 1 s, not 5 m */
	a = start();
	if (!a)
		return;
	t0 = now_ns();
	if (!ASSERT_EQ(cli_connect(a, &k, "dev1@sensor"), 0, k.err))
		goto out;
	ASSERT_EQ(authc_renew(&k.c), 0, "renew at once");
	if (ASSERT_EQ(cli_event(a, &k, &ev, 5000), AUTHC_EV_ERROR, "refused"))
		ASSERT_STREQ(ev.reason, "too_early", "reason");
	ASSERT_TRUE(now_ns() - t0 < SEC_NS, "refused within half the lifetime");
	ASSERT_EQ(stat_of(a, "auth.refused_renew_early"), 1, "counted");
	ASSERT_EQ(stat_of(a, "auth.renewed"), 0, "not renewed");
	ASSERT_EQ(stat_wait(a, "sessions", 0, 5000), 0, "the channel ended");
	authc_close(&k.c, false);

	/* Past half the lifetime, a renewal goes through. */
	if (!ASSERT_EQ(cli_connect(a, &k, "dev1@sensor"), 0, k.err))
		goto out;
	t0 = now_ns();
	while (now_ns() - t0 < SEC_NS + SEC_NS / 10)
		pump(a, 10);
	ASSERT_EQ(authc_renew(&k.c), 0, "renew after half the lifetime");
	ASSERT_EQ(cli_event(a, &k, &ev, 5000), AUTHC_EV_RENEWED, "renewed");
	keys_wipe(&ev.keys);
	ASSERT_EQ(stat_of(a, "auth.refused_renew_early"), 1, "no more refusals");
	authc_close(&k.c, true);
out:
	authd_free(a);
}

/*
 * Each renewal takes a slot and the old one stays for the overlap: a channel
 * holds at most max_sessions_per_conn, the oldest replaced one freed first.
 */
static void test_conn_cap(void)
{
	static const uint32_t caps[] = { 2, 1 };
	struct authc_event ev;
	struct cli k;
	struct authd *a;
	size_t c;
	int i;

	for (c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
		if (!prepare())
			return;
		cfg.auth.renew_after_pct = 0;
		cfg.auth.max_sessions_per_conn = caps[c];
		a = start();
		if (!a)
			return;
		if (!ASSERT_EQ(cli_connect(a, &k, "dev1@sensor"), 0, k.err))
			goto next;
		for (i = 0; i < 3; i++) {
			ASSERT_EQ(authc_renew(&k.c), 0, "renew");
			if (!ASSERT_EQ(cli_event(a, &k, &ev, 5000), AUTHC_EV_RENEWED, "renewed"))
				break;
			keys_wipe(&ev.keys);
			ASSERT_EQ(stat_of(a, "sessions"), caps[c], "sessions of the channel");
			ASSERT_EQ(sessmap_count(sessions_fd()), caps[c], "slots in the gate");
		}
		ASSERT_EQ(stat_of(a, "auth.renewed"), 3, "three renewals");
		ASSERT_EQ(stat_of(a, "auth.replaced_freed_early"), 4 - caps[c],
			  "replaced sessions freed early");
		ASSERT_EQ(stat_of(a, "addresses_used"), 1, "one address");
		authc_close(&k.c, true);
		ASSERT_EQ(stat_wait(a, "sessions", 0, 5000), 0, "all gone with the channel");
	next:
		authd_free(a);
	}
}

/*
 * Revoking the session a renewal just replaced (still in its overlap) ends
 * the channel: the worker is told by the id it knows, the one in use.
 */
static void test_revoke_replaced(void)
{
	struct authc_event ev;
	struct cli k;
	struct authd *a;
	uint32_t old;

	if (!prepare())
		return;
	cfg.auth.renew_after_pct = 0;
	a = start();
	if (!a)
		return;
	if (!ASSERT_EQ(cli_connect(a, &k, "dev1@sensor"), 0, k.err))
		goto out;
	old = k.c.cap.session;
	ASSERT_EQ(authc_renew(&k.c), 0, "renew");
	if (!ASSERT_EQ(cli_event(a, &k, &ev, 5000), AUTHC_EV_RENEWED, "renewed"))
		goto out;
	keys_wipe(&ev.keys);
	ASSERT_TRUE(k.c.cap.session != old, "a new session in use");
	ASSERT_EQ(authd_revoke(a, old), 0, "revoke the replaced one");
	if (ASSERT_EQ(cli_event(a, &k, &ev, 5000), AUTHC_EV_ERROR, "the client is told"))
		ASSERT_STREQ(ev.reason, "killed", "reason killed");
	ASSERT_EQ(stat_wait(a, "sessions", 0, 5000), 0, "both sessions gone");
out:
	cli_drop(&k);
	authd_free(a);
}

/* The session id's entry in /v1/sessions (authd_sessions): its "mode" and "cipher". */
static void listed_as(struct authd *a, uint32_t id, const char *mode, const char *cipher,
		      const char *name)
{
	json_t *arr = NULL, *s, *c;
	size_t i;

	if (!ASSERT_EQ(authd_sessions(a, &arr), 0, name))
		return;
	json_array_foreach(arr, i, s)
	{
		if (json_integer_value(json_object_get(s, "id")) != id)
			continue;
		ASSERT_STREQ(json_string_value(json_object_get(s, "mode")), mode, name);
		c = json_object_get(s, "cipher");
		if (cipher)
			ASSERT_STREQ(json_string_value(c), cipher, name);
		else
			ASSERT_TRUE(json_is_null(c), name);
		break;
	}
	ASSERT_TRUE(i < json_array_size(arr), "listed");
	json_decref(arr);
}

/* The gate's entry of the session: flags say encrypted (the XDP pre-filter reads them). */
static uint32_t map_flags(uint32_t id)
{
	struct cg_session cs;

	if (!ASSERT_EQ(sessmap_get(sessions_fd(), id, &cs), 0, "in the gate"))
		return 0xffffffff;
	return cs.flags;
}

/*
 * Who decides, over real TLS with the real worker: the [allow] mode, a
 * client's mode = encrypted on top of it, the cipher from the client's list
 * and the gateway's AES; a renewal keeps what its session had.
 */
static void test_mode_and_cipher(void)
{
	const bool aes = aead_aes_available();
	const uint8_t best = aes ? CG_CIPHER_AES256_GCM : CG_CIPHER_CHACHA20_POLY1305;
	static const uint8_t E = CG_TUN_F_ENCRYPTED;
	const struct {
		const char *name;
		uint8_t policy, cl_mode, cl_cipher;
		int want_ret;
		uint8_t want_mode, want_cipher;
	} t[] = {
		{ "policy integrity, client policy: integrity", 0, 0, 0, 0, 0, 0 },
		{ "policy integrity, client asks encrypted: encrypted", 0, E, 0, 0, E, best },
		{ "policy encrypted, client asks nothing: encrypted", E, 0, 0, 0, E, best },
		{ "client lists chacha only", E, 0, CG_CIPHER_CHACHA20_POLY1305, 0, E,
		  CG_CIPHER_CHACHA20_POLY1305 },
		/* aes alone: the gateway without AES falls back to chacha, which the client refuses
		 */
		{ "client lists aes only", E, 0, CG_CIPHER_AES256_GCM, aes ? 0 : -EPROTO, E,
		  aes ? CG_CIPHER_AES256_GCM : 0 },
	};
	struct authc_event ev;
	struct cli k;
	struct authd *a;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (!prepare())
			return;
		cfg.policy.policies[0].mode = t[i].policy;
		cfg.auth.renew_after_pct = 0;
		a = start();
		if (!a)
			return;
		if (!ASSERT_EQ(
			    cli_connect_as(a, &k, "dev1@sensor", t[i].cl_mode, t[i].cl_cipher, 0),
			    t[i].want_ret, t[i].name) ||
		    t[i].want_ret) {
			authd_free(a);
			continue;
		}
		ASSERT_EQ(k.c.cap.mode, t[i].want_mode, t[i].name);
		ASSERT_EQ(k.c.cap.cipher, t[i].want_cipher, t[i].name);
		ASSERT_EQ(map_flags(k.c.cap.session), t[i].want_mode, "map flags");
		listed_as(a, k.c.cap.session, t[i].want_mode ? "encrypted" : "integrity",
			  t[i].want_mode ? cipher_name(t[i].want_cipher) : NULL, t[i].name);
		/* The renewal asks nothing: what the session had, not the policy alone. */
		ASSERT_EQ(authc_renew(&k.c), 0, "renew");
		if (ASSERT_EQ(cli_event(a, &k, &ev, 5000), AUTHC_EV_RENEWED, "renewed")) {
			ASSERT_EQ(ev.cap.mode, t[i].want_mode, "renewal keeps the mode");
			ASSERT_EQ(ev.cap.cipher, t[i].want_cipher, "renewal keeps the cipher");
			ASSERT_EQ(map_flags(ev.cap.session), t[i].want_mode, "renewed map flags");
			keys_wipe(&ev.keys);
		}
		authc_close(&k.c, true);
		authd_free(a);
	}
}

/* A hello from before modes (no "mode", no "ciphers"), through the parent's table. */
static void test_old_hello(void)
{
	static const struct {
		uint8_t policy, want_mode, want_cipher;
	} t[] = {
		{ 0, 0, 0 },
		{ CG_TUN_F_ENCRYPTED, CG_TUN_F_ENCRYPTED, CG_CIPHER_CHACHA20_POLY1305 },
	};
	union authw_msg m;
	struct authd *a;
	size_t i;
	int fw;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (!prepare())
			return;
		cfg.policy.policies[0].mode = t[i].policy;
		a = start();
		if (!a)
			return;
		fw = fake_worker(a);
		if (!ASSERT_TRUE(fw >= 0, "fake worker")) {
			authd_free(a);
			return;
		}
		w_request(a, fw, 1, "dev1");
		if (ASSERT_EQ(w_recv(fw, &m, 1000), AUTHW_GRANT, "grant")) {
			ASSERT_EQ(m.grant.mode, t[i].want_mode, "old hello: mode");
			ASSERT_EQ(m.grant.cipher, t[i].want_cipher, "old hello: cipher");
		}
		close(fw);
		authd_free(a);
	}
}

/*
 * A client whose network changed reconnects naming its session (hello's
 * "resume"): the same device and app keeps its address, and the old session
 * ends with its channel; anything else is a first session with a new
 * address, counted. max_sessions_per_device = 1: a resume replaces, a
 * refused one is held to the limit like any first session.
 */
static void test_resume(void)
{
	struct cli k0, k1, k2, k3, k4;
	struct authc_event ev;
	struct cg_session cs;
	struct authd *a;
	uint8_t vip0[16];
	uint32_t s0, s1, t;

	if (!prepare())
		return;
	cfg.auth.max_sessions_per_device = 1;
	a = start();
	if (!a)
		return;
	k0.ret = k1.ret = k2.ret = k4.ret = -1;
	if (!ASSERT_EQ(cli_connect(a, &k0, "dev1@sensor"), 0, k0.err))
		goto out;
	s0 = k0.c.cap.session;
	memcpy(vip0, k0.c.cap.vip, 16);

	if (!ASSERT_EQ(cli_connect_as(a, &k1, "dev1@sensor", 0, 0, s0), 0, k1.err))
		goto out;
	s1 = k1.c.cap.session;
	ASSERT_TRUE(s1 != s0, "a new session");
	ASSERT_MEMEQ(k1.c.cap.vip, vip0, 16, "the same device keeps its address");
	ASSERT_EQ(stat_of(a, "auth.resumed"), 1, "resume counted");
	ASSERT_EQ(stat_of(a, "auth.denied_device_limit"), 0, "a resume is not one more session");
	ASSERT_EQ(stat_of(a, "sessions"), 1, "the old session ended");
	ASSERT_EQ(stat_of(a, "addresses_used"), 1, "one address");
	ASSERT_TRUE(sessmap_get(sessions_fd(), s0, &cs) != 0, "the old session left the gate");
	ASSERT_EQ(sessmap_get(sessions_fd(), s1, &cs), 0, "the new one is in it");
	ASSERT_MEMEQ(cs.vip, vip0, 16, "with the address");
	t = cli_event(a, &k0, &ev, 5000);
	ASSERT_TRUE(t == AUTHC_EV_ERROR || t == AUTHC_EV_CLOSED, "the old channel is closed");

	/* Another device naming dev1's session: a first session, never dev1's address. */
	if (ASSERT_EQ(cli_connect_as(a, &k2, "dev2@sensor", 0, 0, s1), 0, k2.err))
		ASSERT_TRUE(memcmp(k2.c.cap.vip, vip0, 16) != 0, "another device's address");
	ASSERT_EQ(stat_of(a, "auth.resume_refused"), 1, "refused resume counted");
	ASSERT_EQ(stat_of(a, "auth.resumed"), 1, "not a resume");
	ASSERT_EQ(sessmap_get(sessions_fd(), s1, &cs), 0, "dev1's session stays");
	ASSERT_EQ(cli_event(a, &k1, &ev, 300), AUTHC_EV_NONE, "dev1's channel stays open");

	/* A session that is gone: a first session, held to the device limit (s1 lives). */
	ASSERT_EQ(cli_connect_as(a, &k3, "dev1@sensor", 0, 0, s0), -EACCES,
		  "no resume of the dead");
	ASSERT_EQ(stat_of(a, "auth.resume_refused"), 2, "counted");
	ASSERT_EQ(stat_of(a, "auth.denied_device_limit"), 1, "then the device limit");

	/* Only while it lives: after bye, the name is just a first session's hello. */
	authc_close(&k1.c, true);
	k1.ret = -1;
	ASSERT_EQ(stat_wait(a, "sessions", 1, 5000), 1, "bye ends dev1's session");
	ASSERT_EQ(cli_connect_as(a, &k4, "dev1@sensor", 0, 0, s1), 0, k4.err);
	ASSERT_EQ(stat_of(a, "auth.resume_refused"), 3, "a session ended by bye is not resumed");
	ASSERT_EQ(stat_of(a, "auth.resumed"), 1, "one resume in all");
	ASSERT_EQ(stat_of(a, "addresses_used"), 2, "dev1 and dev2");
out:
	if (k0.ret == 0)
		authc_close(&k0.c, false);
	if (k1.ret == 0)
		authc_close(&k1.c, true);
	if (k2.ret == 0)
		authc_close(&k2.c, true);
	if (k4.ret == 0)
		authc_close(&k4.c, true);
	authd_free(a);
}

/* The one scope of a capability: its port and address. */
static bool scope_is(const struct cap_msg *c, const char *addr, uint16_t port)
{
	uint8_t want[16];

	addr_parse_mapped(addr, want);
	return c->nscopes == 1 && !memcmp(c->scopes[0].addr, want, 16) &&
	       c->scopes[0].port_lo == port && c->scopes[0].port_hi == port;
}

/* The session list's (device, app) pairs, "dev1/sensor,dev1/shell" in id order, into buf. */
static void sessions_of(struct authd *a, char *buf, size_t len)
{
	json_t *arr = NULL, *s;
	size_t i, off = 0;

	buf[0] = '\0';
	if (authd_sessions(a, &arr))
		return;
	json_array_foreach(arr, i, s) off +=
		(size_t)snprintf(buf + off, off < len ? len - off : 0, "%s%s/%s", i ? "," : "",
				 json_string_value(json_object_get(s, "device")),
				 json_string_value(json_object_get(s, "app")));
	json_decref(arr);
}

/*
 * Who a client is comes from its certificate: one without an identity is
 * refused (identity), a hello that names another app than the
 * certificate's is refused (app_mismatch), both counted; each app
 * certificate of one device gets its own app's scopes only, and the
 * session list shows the certificate's device and app.
 */
static void test_certificate_identity(void)
{
	struct cli k[4];
	struct authd *a;
	char list[256];
	int i;

	if (!prepare())
		return;
	a = start();
	if (!a)
		return;
	if (ASSERT_EQ(cli_connect(a, &k[0], "noid"), -EACCES, "no identity refused"))
		ASSERT_TRUE(strstr(k[0].err, "identity") != NULL, k[0].err);
	ASSERT_EQ(stat_wait(a, "auth.refused_identity", 1, 2000), 1, "counted: identity");
	if (ASSERT_EQ(cli_connect_app(a, &k[1], "dev1@sensor", "shell", 0, 0, 0), -EACCES,
		      "an app certificate claiming another app"))
		ASSERT_TRUE(strstr(k[1].err, "app_mismatch") != NULL, k[1].err);
	ASSERT_EQ(stat_wait(a, "auth.refused_app_mismatch", 1, 2000), 1, "counted: app_mismatch");
	ASSERT_EQ(stat_of(a, "auth.granted"), 0, "nothing granted");
	if (ASSERT_EQ(cli_connect(a, &k[2], "dev1@shell"), 0, k[2].err))
		ASSERT_TRUE(scope_is(&k[2].c.cap, "10.10.2.3", 22), "app shell: ssh only");
	if (ASSERT_EQ(cli_connect_app(a, &k[3], "dev1@sensor", "sensor", 0, 0, 0), 0, k[3].err))
		ASSERT_TRUE(scope_is(&k[3].c.cap, "10.10.2.2", 80), "app sensor: web only");
	sessions_of(a, list, sizeof(list));
	ASSERT_TRUE(!strcmp(list, "dev1/shell,dev1/sensor") ||
			    !strcmp(list, "dev1/sensor,dev1/shell"),
		    list);
	for (i = 2; i < 4; i++)
		if (k[i].ret == 0)
			authc_close(&k[i].c, true);
	authd_free(a);
}

/* The policy of config_fresh's daemon with [allow all] in integrity mode and services svcs. */
static bool integrity_config(struct gw_config *out, const char *svcs)
{
	char text[1400], err[256];

	snprintf(text, sizeof(text),
		 "[gateway]\ninterface = lo\n"
		 "[auth]\nport = %u\nspa_port = %u\ndata_port = %u\n"
		 "ca = %s/ca.crt\ncert = %s/gateway.crt\nkey = %s/gateway.key\n"
		 "pool = 100.64.0.0/24\ntun = cgauth0\n"
		 "[service web]\nproto = tcp\naddress = 10.10.2.2\nports = 80\n"
		 "[service ssh]\nproto = tcp\naddress = 10.10.2.3\nports = 22\n"
		 "[allow all]\ndevice = dev1\napp = sensor\nservices = %s\nmode = integrity\n",
		 cfg.auth.port, cfg.auth.spa_port, cfg.auth.data_port, dir, dir, dir, svcs);
	return ASSERT_EQ(config_parse_string(text, "i.ini", out, err, sizeof(err)), 0, err);
}

/*
 * An integrity session whose scopes a reload changes keeps its session: the
 * gate's entry gets the new scopes in place (xdp_rescope, which leaves the
 * replay window, endpoint and counters the gate wrote alone: test_cap.c
 * test_rescope), and its channel stays open.
 */
static void test_reload_integrity(void)
{
	static struct gw_config one, two;
	struct authd_rejudged r;
	struct authc_event ev;
	struct cg_session cs;
	struct cli k1;
	struct authd *a;

	if (!prepare())
		return;
	a = start();
	if (!a)
		return;
	k1.ret = -1;
	if (!integrity_config(&one, "web") || !integrity_config(&two, "web ssh"))
		goto out;
	authd_set_config(a, &one, &r);
	if (!ASSERT_EQ(cli_connect(a, &k1, "dev1@sensor"), 0, k1.err))
		goto out;
	ASSERT_EQ(k1.c.cap.mode, 0, "an integrity session");
	ASSERT_EQ(k1.c.cap.nscopes, 1, "one scope");
	authd_set_config(a, &two, &r);
	ASSERT_EQ(r.rescoped, 1, "rescoped in place");
	ASSERT_EQ(r.revoked, 0, "not ended");
	ASSERT_EQ(stat_of(a, "auth.sessions_rescoped"), 1, "counted");
	ASSERT_EQ(stat_of(a, "auth.sessions_revoked_by_policy"), 0, "no policy revocation");
	if (ASSERT_EQ(sessmap_get(sessions_fd(), k1.c.cap.session, &cs), 0, "still in the gate")) {
		ASSERT_EQ(cs.nscopes, 2, "the gate has the new scopes");
		ASSERT_EQ(cs.flags, 0, "still integrity");
	}
	ASSERT_EQ(cli_event(a, &k1, &ev, 300), AUTHC_EV_NONE, "its channel stays open");
	authd_set_config(a, &one, &r);
	ASSERT_EQ(r.rescoped, 1, "narrowed again in place");
	if (ASSERT_EQ(sessmap_get(sessions_fd(), k1.c.cap.session, &cs), 0, "still in the gate"))
		ASSERT_EQ(cs.nscopes, 1, "the gate has one scope again");
out:
	cli_drop(&k1);
	authd_set_config(a, &cfg, &r);
	authd_free(a);
}

/* state_dir in the test's directory (revocations.json is written there). */
static void own_state_dir(void)
{
	char p[128];

	snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s", dir);
	snprintf(p, sizeof(p), "%s/%s", dir, cfg.name);
	mkdir(p, 0700);
}

/*
 * Revoking a device ends its live session at once (map entry, address, the
 * channel closed "revoked"), leaves another device's alone, refuses its
 * reconnects "revoked", and survives a restart; removing it lets it back.
 */
static void test_revocation(void)
{
	struct revocation r = { .kind = REVOKE_DEVICE };
	struct cli k1, k2, k3, k4;
	struct authc_event ev;
	struct cg_session cs;
	struct authd *a;
	json_t *out = NULL;
	uint32_t s1, s2, id;
	char err[256];

	if (!prepare())
		return;
	own_state_dir();
	a = start();
	if (!a)
		return;
	k1.ret = k2.ret = k4.ret = -1;
	if (!ASSERT_EQ(cli_connect(a, &k1, "dev1@sensor"), 0, k1.err) ||
	    !ASSERT_EQ(cli_connect(a, &k2, "dev2@sensor"), 0, k2.err))
		goto out;
	s1 = k1.c.cap.session;
	s2 = k2.c.cap.session;
	snprintf(r.device, sizeof(r.device), "dev1");
	snprintf(r.note, sizeof(r.note), "lost");
	if (!ASSERT_EQ(authd_revoke_add(a, &r, &out), 0, "revoke dev1"))
		goto out;
	id = (uint32_t)json_integer_value(json_object_get(out, "id"));
	ASSERT_EQ(json_integer_value(json_object_get(out, "sessions_ended")), 1, "one ended");
	json_decref(out);
	out = NULL;
	ASSERT_TRUE(sessmap_get(sessions_fd(), s1, &cs) != 0, "dev1 left the gate at once");
	ASSERT_EQ(sessmap_get(sessions_fd(), s2, &cs), 0, "dev2 stays");
	ASSERT_EQ(stat_of(a, "auth.sessions_revoked"), 1, "counted");
	ASSERT_EQ(stat_of(a, "addresses_used"), 1, "its address went back");
	if (ASSERT_EQ(cli_event(a, &k1, &ev, 5000), AUTHC_EV_ERROR, "dev1 told"))
		ASSERT_STREQ(ev.reason, "revoked", "reason revoked");
	ASSERT_EQ(cli_event(a, &k2, &ev, 300), AUTHC_EV_NONE, "dev2's channel stays open");
	ASSERT_EQ(authd_revoke_add(a, &r, &out), -EEXIST, "twice");
	json_decref(out);
	out = NULL;

	ASSERT_TRUE(cli_connect(a, &k3, "dev1@sensor") != 0, "a reconnect is refused");
	ASSERT_TRUE(strstr(k3.err, "revoked") != NULL, k3.err);
	ASSERT_EQ(stat_of(a, "auth.denied_revoked"), 1, "denied_revoked");

	/* What a restart sees: the file. */
	authd_free(a);
	a = start();
	if (!a)
		goto out;
	cli_drop(&k2); /* its worker went with the old daemon */
	ASSERT_TRUE(cli_connect(a, &k3, "dev1@sensor") != 0, "refused after a restart");
	ASSERT_EQ(authd_revoke_del(a, id), 0, "unrevoke");
	ASSERT_EQ(authd_revoke_del(a, id), -ENOENT, "unrevoke twice");
	ASSERT_EQ(cli_connect(a, &k4, "dev1@sensor"), 0, k4.err);

	/* A file that does not parse refuses the start. */
	authd_free(a);
	a = NULL;
	snprintf(err, sizeof(err), "%s/%s/revocations.json", dir, cfg.name);
	{
		FILE *f = fopen(err, "w");

		if (f) {
			fputs("{\"version\":1", f);
			fclose(f);
		}
	}
	sessmap_clear(sessions_fd());
	ASSERT_TRUE(authd_new(&cfg, sessions_fd(), bpf_program__fd(skel->progs.xdp_rescope),
			      bpf_map__fd(skel->maps.tun_windows),
			      bpf_map__fd(skel->maps.knock_open), err, sizeof(err)) == NULL,
		    "a damaged revocations file refuses the start");
	ASSERT_TRUE(strstr(err, "revocations.json") != NULL, err);
	snprintf(err, sizeof(err), "%s/%s/revocations.json", dir, cfg.name);
	unlink(err);
out:
	if (k1.ret == 0)
		authc_close(&k1.c, false);
	if (k2.ret == 0)
		authc_close(&k2.c, true);
	if (k4.ret == 0)
		authc_close(&k4.c, false);
	authd_free(a);
}

/*
 * Groups set through the API: saved, kept over a restart, and the device's
 * live sessions judged again (kept: today's policy does not read groups).
 */
static void test_device_groups(void)
{
	const char *const groups[] = { "sensors", "floor2" };
	struct authd_rejudged r;
	struct authd *a;
	struct cli k1;
	json_t *j = NULL;
	char *text = NULL;

	if (!prepare())
		return;
	own_state_dir();
	a = start();
	if (!a)
		return;
	k1.ret = -1;
	if (!ASSERT_EQ(cli_connect(a, &k1, "dev1@sensor"), 0, k1.err))
		goto out;
	ASSERT_EQ(authd_device_groups(a, "dev1", groups, 2, &r), 0, "set");
	ASSERT_EQ(r.kept, 1, "the live session judged again, kept");
	ASSERT_EQ(authd_device_groups(a, "a/b", groups, 2, &r), -EINVAL, "a bad name");
	authd_free(a);
	cli_drop(&k1);
	a = start();
	if (!a)
		goto out;
	if (ASSERT_EQ(authd_devices(a, &j), 0, "list"))
		text = json_dumps(j, JSON_COMPACT);
	ASSERT_STREQ(text ? text : "", "{\"dev1\":[\"sensors\",\"floor2\"]}",
		     "kept over a restart");
	ASSERT_EQ(authd_device_groups(a, "dev1", NULL, 0, &r), 0, "remove");
	ASSERT_EQ(authd_device_groups(a, "dev1", NULL, 0, &r), -ENOENT, "remove twice");
out:
	free(text);
	json_decref(j);
	if (k1.ret == 0)
		authc_close(&k1.c, false);
	authd_free(a);
}

/*
 * A new policy: the session its [allow] no longer covers ends (reason
 * policy), the one whose scopes grew keeps its slot and keys with the new
 * scopes in the gate's entry; the rest carry on.
 */
static void test_reload(void)
{
	static struct gw_config next;
	struct authd_rejudged r;
	struct cli k1, k2;
	struct authc_event ev;
	struct cg_session before, after;
	struct authd *a;
	char text[1400], err[256];
	uint32_t s1, s2;

	if (!prepare())
		return;
	a = start();
	if (!a)
		return;
	k1.ret = k2.ret = -1;
	if (!ASSERT_EQ(cli_connect(a, &k1, "dev1@sensor"), 0, k1.err) ||
	    !ASSERT_EQ(cli_connect(a, &k2, "dev2@sensor"), 0, k2.err))
		goto out;
	s1 = k1.c.cap.session;
	s2 = k2.c.cap.session;
	ASSERT_EQ(sessmap_get(sessions_fd(), s1, &before), 0, "dev1 in the gate");
	ASSERT_EQ(before.nscopes, 1, "one scope");

	/* Nothing changed: nothing happens. */
	authd_set_config(a, &cfg, &r);
	ASSERT_EQ(r.kept, 2, "same policy: both kept");
	ASSERT_EQ(r.rescoped + r.revoked, 0, "nothing else");

	next = cfg;
	snprintf(text, sizeof(text),
		 "[gateway]\ninterface = lo\n"
		 "[auth]\nport = %u\nspa_port = %u\ndata_port = %u\n"
		 "ca = %s/ca.crt\ncert = %s/gateway.crt\nkey = %s/gateway.key\n"
		 "pool = 100.64.0.0/24\ntun = cgauth0\n"
		 "[service web]\nproto = tcp\naddress = 10.10.2.2\nports = 80\n"
		 "[service ssh]\nproto = tcp\naddress = 10.10.2.3\nports = 22\n"
		 "[allow one]\ndevice = dev1\napp = sensor\nservices = web ssh\n",
		 cfg.auth.port, cfg.auth.spa_port, cfg.auth.data_port, dir, dir, dir);
	if (!ASSERT_EQ(config_parse_string(text, "t2.ini", &next, err, sizeof(err)), 0, err))
		goto out;
	authd_set_config(a, &next, &r);
	ASSERT_EQ(r.rescoped, 1, "dev1 rescoped");
	ASSERT_EQ(r.revoked, 1, "dev2 revoked");
	ASSERT_EQ(r.kept, 0, "none untouched");
	ASSERT_EQ(stat_of(a, "auth.sessions_rescoped"), 1, "rescope counted");
	ASSERT_EQ(stat_of(a, "auth.sessions_revoked_by_policy"), 1, "revoke counted");
	if (ASSERT_EQ(sessmap_get(sessions_fd(), s1, &after), 0, "dev1 keeps its slot")) {
		ASSERT_EQ(after.nscopes, 2, "two scopes in the gate's entry");
		ASSERT_MEMEQ(after.key, before.key, sizeof(after.key), "same key");
		ASSERT_MEMEQ(&after.scopes[0], &before.scopes[0], sizeof(after.scopes[0]),
			     "the old scope first");
	}
	ASSERT_TRUE(sessmap_get(sessions_fd(), s2, &after) != 0, "dev2 left the gate");
	if (ASSERT_EQ(cli_event(a, &k2, &ev, 5000), AUTHC_EV_ERROR, "dev2 told"))
		ASSERT_STREQ(ev.reason, "policy", "reason policy");
	ASSERT_EQ(cli_event(a, &k1, &ev, 300), AUTHC_EV_NONE, "dev1's channel stays open");
	ASSERT_EQ(stat_of(a, "addresses_used"), 1, "dev2's address went back");
	cli_drop(&k2);
	ASSERT_TRUE(cli_connect(a, &k2, "dev2@sensor") != 0, "dev2 is refused now");
	/* The old policy back: dev1 is narrowed again. */
	authd_set_config(a, &cfg, &r);
	ASSERT_EQ(r.rescoped, 1, "dev1 narrowed");
	if (ASSERT_EQ(sessmap_get(sessions_fd(), s1, &after), 0, "still its slot"))
		ASSERT_EQ(after.nscopes, 1, "one scope again");
out:
	if (k1.ret == 0)
		authc_close(&k1.c, true);
	if (k2.ret == 0)
		authc_close(&k2.c, false);
	authd_free(a);
}

/* Writes a CRL of the test CA listing the given devices' certificates (atomically: a new inode). */
static bool write_crl(const char *path, const char *const *devs, size_t n, bool wrong_key)
{
	char p[160], tmp[200];
	X509 *ca = NULL, *x[4] = { 0 };
	EVP_PKEY *key = NULL;
	X509_CRL *crl = NULL;
	size_t i;
	bool ok;
	FILE *f;

	snprintf(p, sizeof(p), "%s/ca.crt", dir);
	f = fopen(p, "r");
	ca = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	snprintf(p, sizeof(p), "%s/ca.key", dir);
	f = fopen(p, "r");
	key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (wrong_key) {
		EVP_PKEY_free(key);
		key = tcert_key();
	}
	for (i = 0; i < n && i < 4; i++) {
		snprintf(p, sizeof(p), "%s/%s.crt", dir, devs[i]);
		f = fopen(p, "r");
		x[i] = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
		if (f)
			fclose(f);
	}
	crl = ca && key ? tcert_crl(ca, key, x, n, 86400) : NULL;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	ok = crl && !tcert_write_crl(tmp, crl, 0) && !rename(tmp, path);
	for (i = 0; i < 4; i++)
		X509_free(x[i]);
	X509_CRL_free(crl);
	X509_free(ca);
	EVP_PKEY_free(key);
	return ok;
}

/*
 * [auth] crl: checked by the parent on the serial and issuer the worker
 * reports; a new file ends the live sessions it lists within a tick; one
 * that does not verify refuses the start, or later keeps the previous set.
 */
static void test_crl(void)
{
	static const char *const none[] = { NULL }, *const dev1[] = { "dev1@sensor" };
	struct cli k1, k2, k3;
	struct authc_event ev;
	struct authd *a = NULL;
	char path[128], err[256];

	if (!prepare())
		return;
	snprintf(path, sizeof(path), "%s/ca.crl", dir);
	snprintf(cfg.auth.crl, sizeof(cfg.auth.crl), "%s", path);
	k1.ret = k2.ret = -1;
	if (!ASSERT_TRUE(write_crl(path, none, 0, true), "a CRL of another key"))
		goto out;
	sessmap_clear(sessions_fd());
	a = authd_new(&cfg, sessions_fd(), bpf_program__fd(skel->progs.xdp_rescope),
		      bpf_map__fd(skel->maps.tun_windows), bpf_map__fd(skel->maps.knock_open), err,
		      sizeof(err));
	ASSERT_TRUE(a == NULL, "a CRL that does not verify refuses the start");
	ASSERT_TRUE(strstr(err, "does not verify") != NULL, err);
	if (!ASSERT_TRUE(write_crl(path, none, 0, false), "an empty CRL"))
		goto out;
	a = start();
	if (!a)
		goto out;
	if (!ASSERT_EQ(cli_connect(a, &k1, "dev1@sensor"), 0, k1.err) ||
	    !ASSERT_EQ(cli_connect(a, &k2, "dev2@sensor"), 0, k2.err))
		goto out;
	if (!ASSERT_TRUE(write_crl(path, dev1, 1, false), "a CRL listing dev1"))
		goto out;
	authd_tick(a);
	ASSERT_EQ(stat_of(a, "auth.crl_reloads"), 1, "read again");
	ASSERT_EQ(stat_of(a, "auth.sessions_revoked"), 1, "dev1's session ended");
	if (ASSERT_EQ(cli_event(a, &k1, &ev, 5000), AUTHC_EV_ERROR, "dev1 told"))
		ASSERT_STREQ(ev.reason, "revoked", "reason revoked");
	cli_drop(&k1);
	ASSERT_EQ(cli_event(a, &k2, &ev, 300), AUTHC_EV_NONE, "dev2 stays");
	ASSERT_TRUE(cli_connect(a, &k3, "dev1@sensor") != 0, "dev1 refused");
	ASSERT_TRUE(strstr(k3.err, "revoked") != NULL, k3.err);
	ASSERT_EQ(stat_of(a, "auth.denied_revoked"), 1, "counted");

	/* A bad new file: the previous set stays. */
	if (!ASSERT_TRUE(write_crl(path, none, 0, true), "a bad CRL"))
		goto out;
	authd_tick(a);
	authd_tick(a);
	ASSERT_EQ(stat_of(a, "auth.crl_reload_failed"), 1, "refused once");
	ASSERT_TRUE(cli_connect(a, &k3, "dev1@sensor") != 0, "dev1 still refused");
	/* A good one without dev1 lets it back. */
	if (!ASSERT_TRUE(write_crl(path, none, 0, false), "an empty CRL again"))
		goto out;
	authd_tick(a);
	ASSERT_EQ(cli_connect(a, &k1, "dev1@sensor"), 0, k1.err);
out:
	cfg.auth.crl[0] = '\0';
	unlink(path);
	if (k1.ret == 0)
		authc_close(&k1.c, false);
	if (k2.ret == 0)
		authc_close(&k2.c, false);
	authd_free(a);
}

/* ---- enrollment by token ------------------------------------------------ */

/* authd_stats: section.name (enroll.ok, spa.ok, ...). */
static long long stat_in(struct authd *a, const char *section, const char *name)
{
	json_t *j = NULL, *v;
	long long r = -1;

	if (authd_stats(a, &j))
		return -1;
	v = json_object_get(json_object_get(j, section), name);
	if (v)
		r = json_integer_value(v);
	json_decref(j);
	return r;
}

/* Serves the daemon until section.name equals want or ms pass; returns the last value. */
static long long stat_in_wait(struct authd *a, const char *section, const char *name,
			      long long want, int ms)
{
	uint64_t deadline = now_ns() + (uint64_t)ms * 1000000ULL;
	long long v;

	while ((v = stat_in(a, section, name)) != want && now_ns() < deadline)
		pump(a, 10);
	return v;
}

/* Packets enough to overflow a queue of rmem_default bytes (each costs more than 64). */
static int spa_flood_size(void)
{
	FILE *f = fopen("/proc/sys/net/core/rmem_default", "r");
	long b = 0;

	if (f) {
		if (fscanf(f, "%ld", &b) != 1)
			b = 0;
		fclose(f);
	}
	return 1000 + (int)((b > 0 ? b : 212992) / 64);
}

/*
 * A flood the daemon does not read in time: the kernel drops what its SPA
 * socket's queue cannot hold, and each of those is counted too
 * (spa.kernel_dropped, from SO_MEMINFO), so every packet sent is in a
 * counter once the daemon has read the queue.
 */
static void test_spa_queue_overflow(void)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	uint64_t deadline;
	long long seen, over;
	char junk[40];
	struct authd *a;
	int fd, i, sent = 0, flood = spa_flood_size();

	if (!prepare())
		return;
	a = start();
	if (!a)
		return;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (!ASSERT_TRUE(fd >= 0, "socket"))
		goto out;
	to.sin_port = htons(cfg.auth.spa_port);
	memset(junk, 0x5a, sizeof(junk));
	/* Not served meanwhile: the queue fills up. */
	for (i = 0; i < flood; i++)
		sent += sendto(fd, junk, sizeof(junk), 0, (struct sockaddr *)&to, sizeof(to)) ==
			(ssize_t)sizeof(junk);
	ASSERT_EQ(sent, flood, "all sent");
	deadline = now_ns() + 5000000000ULL;
	do {
		pump(a, 10);
		seen = stat_in(a, "spa", "malformed");
		over = stat_in(a, "spa", "kernel_dropped");
	} while (seen + over < flood && now_ns() < deadline);
	ASSERT_TRUE(over > 0, "the kernel dropped some");
	ASSERT_TRUE(seen > 0, "the daemon read some");
	ASSERT_EQ(seen + over, flood, "every packet counted once");
	fprintf(stderr, "  %lld read, %lld dropped by the kernel\n", seen, over);
	close(fd);
out:
	authd_free(a);
}

/* The sum of every enroll counter: what the gateway heard of enrollment at all. */
static long long enroll_total(struct authd *a)
{
	json_t *j = NULL, *v;
	const char *k;
	long long n = 0;

	if (authd_stats(a, &j))
		return -1;
	json_object_foreach(json_object_get(j, "enroll"), k, v) n += json_integer_value(v);
	json_decref(j);
	return n;
}

/* A device enrolling: agent_enroll in a thread while the test serves the daemon. */
struct dev {
	pthread_t th;
	struct enroll_cfg cfg;
	struct enroll_result res;
	char dir[128], err[512];
	int ret, done;
};

static void *dev_run(void *arg)
{
	struct dev *d = arg;

	d->ret = agent_enroll(&d->cfg, &d->res, d->err, sizeof(d->err));
	__atomic_store_n(&d->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int dev_enroll_as(struct authd *a, struct dev *d, const char *sub, const char *token,
			 enum ca_key_type key_type)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "%s/%s", dir, sub);
	d->cfg = (struct enroll_cfg){
		.gateway = "127.0.0.1",
		.port = cfg.auth.port,
		.spa_port = cfg.auth.spa_port,
		.token = token,
		.dir = d->dir,
		.key_type = key_type,
		.timeout_ns = 5 * SEC_NS,
	};
	return serve_thread(a, &d->th, dev_run, d, &d->done) ?: d->ret;
}

static int dev_enroll(struct authd *a, struct dev *d, const char *sub, const char *token)
{
	return dev_enroll_as(a, d, sub, token, CA_KEY_ED25519);
}

/* mutual TLS and a session (app sensor) with these files: authc_connect's result. */
static int connect_with(struct authd *a, const char *ca, const char *cert, const char *key,
			char *err, size_t errlen)
{
	struct cli k;

	memset(&k, 0, sizeof(k));
	k.cfg = (struct authc_cfg){ .gateway = "127.0.0.1",
				    .port = cfg.auth.port,
				    .ca = ca,
				    .cert = cert,
				    .key = key,
				    .timeout_ns = 5 * SEC_NS };
	if (serve_thread(a, &k.th, cli_run, &k, &k.done))
		return -EAGAIN;
	snprintf(err, errlen, "%s", k.err);
	if (!k.ret)
		authc_close(&k.c, true);
	return k.ret;
}

/* The enrolled device's certificate works: mutual TLS and a session. */
static bool dev_connects(struct authd *a, const struct dev *d)
{
	char err[256];

	return ASSERT_EQ(connect_with(a, d->res.ca_path, d->res.cert_path, d->res.key_path, err,
				      sizeof(err)),
			 0, err);
}

static bool token_for(const char *cadir, const char *device, uint64_t ttl, uint64_t now, char *tok)
{
	static const char *const groups[] = { "sensors" };
	char err[256];

	if (token_create(cadir, device, "", groups, 1, ttl, now, tok, TOKEN_STR_LEN + 1, err,
			 sizeof(err))) {
		fprintf(stderr, "token: %s\n", err);
		return false;
	}
	return true;
}

static bool prepare_enroll(void)
{
	enroll_mode = true;
	return prepare();
}

/*
 * A device enrolls by token (SPA with the token, TLS without a certificate,
 * the CA pinned by the token's hash), then connects with the certificate it
 * got and is granted a session; the same token again is refused and counted.
 */
static void test_enroll_token(void)
{
	char tok[TOKEN_STR_LEN + 1], path[256];
	struct authd *a;
	struct stat st;
	struct dev d;

	if (!prepare_enroll() || !ASSERT_TRUE(token_for(dir, "new1", 600, time(NULL), tok), "tok"))
		return;
	a = start();
	if (!a)
		return;
	if (!ASSERT_EQ(dev_enroll(a, &d, "d1", tok), 0, d.err))
		goto out;
	ASSERT_STREQ(d.res.id.device, "new1", "the token's device");
	ASSERT_STREQ(d.res.id.app, "", "no app");
	ASSERT_EQ(d.res.id.ngroups, 1, "the token's group");
	ASSERT_STREQ(d.res.id.groups[0], "sensors", "group");
	ASSERT_STREQ(d.res.uri, "spiffe://capgate/device/new1", "SPIFFE ID");
	ASSERT_EQ(stat(d.res.key_path, &st), 0, "key written");
	ASSERT_EQ(st.st_mode & 0777, 0600, "key 0600");
	ASSERT_EQ(access(d.res.cert_path, R_OK), 0, "certificate written");
	snprintf(path, sizeof(path), "%s/new1.crt", dir);
	ASSERT_EQ(access(path, R_OK), 0, "the gateway's copy in the devices dir");
	ASSERT_EQ(stat_in(a, "enroll", "ok"), 1, "enroll.ok");
	ASSERT_EQ(stat_in(a, "spa", "ok"), 1, "the token's SPA opened the door");
	ASSERT_TRUE(dev_connects(a, &d), "the certificate works");
	/* Used once: the second use is refused with its reason, counted, and leaves no key. */
	ASSERT_EQ(dev_enroll(a, &d, "d2", tok), -EACCES, "reuse refused");
	ASSERT_TRUE(strstr(d.err, "enroll: spent") != NULL, d.err);
	ASSERT_EQ(stat_in(a, "enroll", "spent"), 1, "enroll.spent");
	snprintf(path, sizeof(path), "%s/d2/new1.key", dir);
	ASSERT_TRUE(access(path, F_OK) != 0, "no key for a refused enrollment");
out:
	authd_free(a);
}

/* A P-256 key born on the device (a secure element's kind): enrolled, SPA and TLS with it. */
static void test_enroll_p256(void)
{
	char tok[TOKEN_STR_LEN + 1];
	struct authd *a;
	struct dev d;
	EVP_PKEY *k;
	FILE *f;

	if (!prepare_enroll() || !ASSERT_TRUE(token_for(dir, "new3", 600, time(NULL), tok), "tok"))
		return;
	a = start();
	if (!a)
		return;
	if (ASSERT_EQ(dev_enroll_as(a, &d, "p1", tok, CA_KEY_P256), 0, d.err)) {
		f = fopen(d.res.key_path, "r");
		k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
		ASSERT_TRUE(k && EVP_PKEY_is_a(k, "EC"), "a P-256 key");
		EVP_PKEY_free(k);
		if (f)
			fclose(f);
		ASSERT_TRUE(dev_connects(a, &d), "the P-256 certificate works");
	}
	authd_free(a);
}

/*
 * A token for an app: the certificate carries it and its groups (DEVICE@APP files). Its TLS
 * session waits for the worker's identity from the SPIFFE ID (H1's part of issue 12): today's
 * worker takes the CN as the device and refuses "new2@sensor" as bad_cn.
 */
static void test_enroll_app(void)
{
	static const char *const groups[] = { "cams", "floor-2" };
	char tok[TOKEN_STR_LEN + 1], err[256], path[256];
	struct authd *a;
	struct dev d;

	if (!prepare_enroll() ||
	    !ASSERT_EQ(token_create(dir, "new2", "sensor", groups, 2, 600, (uint64_t)time(NULL),
				    tok, sizeof(tok), err, sizeof(err)),
		       0, err))
		return;
	a = start();
	if (!a)
		return;
	if (ASSERT_EQ(dev_enroll(a, &d, "a1", tok), 0, d.err)) {
		ASSERT_STREQ(d.res.id.app, "sensor", "the token's app");
		ASSERT_EQ(d.res.id.ngroups, 2, "the token's groups");
		ASSERT_STREQ(d.res.uri, "spiffe://capgate/device/new2/app/sensor", "SPIFFE ID");
		ASSERT_TRUE(strstr(d.res.cert_path, "/new2@sensor.crt") != NULL, d.res.cert_path);
		snprintf(path, sizeof(path), "%s/new2@sensor.crt", dir);
		ASSERT_EQ(access(path, R_OK), 0, "the gateway's copy: DEVICE@APP.crt");
	}
	authd_free(a);
}

/* Expired and altered tokens are refused by the gateway with their reason, and counted. */
static void test_enroll_refusals(void)
{
	char tok[TOKEN_STR_LEN + 1], bad[TOKEN_STR_LEN + 1];
	struct authd *a;
	struct dev d;

	if (!prepare_enroll() ||
	    !ASSERT_TRUE(token_for(dir, "new2", 5, (uint64_t)time(NULL) - 60, tok), "expired") ||
	    !ASSERT_TRUE(token_for(dir, "new3", 600, time(NULL), bad), "tok"))
		return;
	a = start();
	if (!a)
		return;
	ASSERT_EQ(dev_enroll(a, &d, "e1", tok), -EACCES, "expired refused");
	ASSERT_TRUE(strstr(d.err, "enroll: expired") != NULL, d.err);
	ASSERT_EQ(stat_in(a, "enroll", "expired"), 1, "enroll.expired");
	bad[30] = bad[30] == '0' ? '1' : '0'; /* the secret */
	ASSERT_EQ(dev_enroll(a, &d, "e2", bad), -EACCES, "altered refused");
	ASSERT_TRUE(strstr(d.err, "enroll: altered") != NULL, d.err);
	ASSERT_EQ(stat_in(a, "enroll", "altered"), 1, "enroll.altered");
	/* An altered token's SPA does not verify either: the door stays shut for it. */
	ASSERT_EQ(stat_in(a, "spa", "ok"), 0, "no SPA passed");
	ASSERT_EQ(stat_in(a, "enroll", "ok"), 0, "nothing enrolled");
	authd_free(a);
}

/*
 * A token for a name already enrolled is refused "exists" (the enrolled
 * device's certificate stays), one for a revoked device "revoked"; both are
 * spent and counted.
 */
static void test_enroll_exists_revoked(void)
{
	struct revocation r = { .kind = REVOKE_DEVICE };
	char tok[TOKEN_STR_LEN + 1], tok2[TOKEN_STR_LEN + 1], path[160];
	struct stat before, after;
	json_t *out = NULL;
	struct authd *a;
	struct dev d;

	if (!prepare_enroll() || !ASSERT_TRUE(token_for(dir, "dev1", 600, time(NULL), tok), "t1") ||
	    !ASSERT_TRUE(token_for(dir, "new3", 600, time(NULL), tok2), "t2"))
		return;
	own_state_dir();
	a = start();
	if (!a)
		return;
	/* dev1.crt: the device certificate an earlier enrollment or `ca issue` wrote. */
	snprintf(path, sizeof(path), "%s/dev1.crt", dir);
	if (!ASSERT_EQ(ca_issue(dir, "dev1", (char[256]){ 0 }, 256), 0, "dev1's certificate") ||
	    !ASSERT_EQ(stat(path, &before), 0, path))
		goto out;
	ASSERT_EQ(dev_enroll(a, &d, "x1", tok), -EACCES, "a name already enrolled");
	ASSERT_TRUE(strstr(d.err, "enroll: exists") != NULL, d.err);
	ASSERT_EQ(stat_in(a, "enroll", "exists"), 1, "enroll.exists");
	ASSERT_TRUE(stat(path, &after) == 0 && after.st_ino == before.st_ino &&
			    after.st_mtim.tv_nsec == before.st_mtim.tv_nsec,
		    "its certificate is left alone");
	snprintf(r.device, sizeof(r.device), "new3");
	if (!ASSERT_EQ(authd_revoke_add(a, &r, &out), 0, "revoke new3"))
		goto out;
	ASSERT_EQ(dev_enroll(a, &d, "x2", tok2), -EACCES, "a revoked device");
	ASSERT_TRUE(strstr(d.err, "enroll: revoked") != NULL, d.err);
	ASSERT_EQ(stat_in(a, "enroll", "revoked"), 1, "enroll.revoked");
	snprintf(path, sizeof(path), "%s/new3.crt", dir);
	ASSERT_TRUE(access(path, F_OK) != 0, "no certificate for it");
	ASSERT_EQ(stat_in(a, "enroll", "ok"), 0, "nothing enrolled");
out:
	json_decref(out);
	authd_free(a);
}

/*
 * A token made for another CA: the device refuses the gateway before it sends
 * the token. The gateway's counters prove it: it heard no enroll at all.
 */
static void test_enroll_wrong_gateway(void)
{
	char other[128], tok[TOKEN_STR_LEN + 1], err[256];
	struct authd *a;
	struct dev d;

	if (!prepare_enroll())
		return;
	snprintf(other, sizeof(other), "%s/other-ca", dir);
	if (!ASSERT_EQ(
		    ca_init(other, "gw", (const char *const[]){ "127.0.0.1" }, 1, err, sizeof(err)),
		    0, err) ||
	    !ASSERT_TRUE(token_for(other, "new1", 600, time(NULL), tok), "tok"))
		return;
	a = start();
	if (!a)
		return;
	ASSERT_EQ(dev_enroll(a, &d, "w1", tok), -EACCES, "refused by the device");
	ASSERT_TRUE(strstr(d.err, "not the gateway the token was made for") != NULL, d.err);
	/*
	 * Served a while longer (the device has closed: the worker has nothing left to pass
	 * on), then: not even a wrong_ca, which the token would have earned had it arrived.
	 */
	stat_in_wait(a, "enroll", "wrong_ca", 1, 300);
	ASSERT_EQ(enroll_total(a), 0, "the gateway saw no enroll message");
	ASSERT_EQ(stat_in(a, "spa", "unknown_device"), 1, "its SPA is not this gateway's token");
	authd_free(a);
}

/* enroll = yes with a ca_dir that is not [auth] ca's CA: the start is refused, with why. */
static void test_enroll_ca_dir_mismatch(void)
{
	char other[128], err[256];
	struct authd *a;

	if (!prepare_enroll())
		return;
	snprintf(other, sizeof(other), "%s/other-ca", dir);
	if (access(other, F_OK))
		ca_init(other, "gw", (const char *const[]){ "127.0.0.1" }, 1, err, sizeof(err));
	snprintf(cfg.auth.ca_dir, sizeof(cfg.auth.ca_dir), "%s", other);
	a = authd_new(&cfg, sessions_fd(), bpf_program__fd(skel->progs.xdp_rescope),
		      bpf_map__fd(skel->maps.tun_windows), bpf_map__fd(skel->maps.knock_open), err,
		      sizeof(err));
	if (!ASSERT_TRUE(a == NULL, "refused"))
		authd_free(a);
	else
		ASSERT_TRUE(strstr(err, "is not the CA of [auth] ca") != NULL, err);
}

/* enroll = yes lets a client without a certificate in, never one with a bad certificate. */
static void test_enroll_other_ca_certificate(void)
{
	char other[128], crt[160], key[160], ca[160], err[256];
	struct authd *a;

	if (!prepare_enroll())
		return;
	snprintf(other, sizeof(other), "%s/other-ca2", dir);
	if (!ASSERT_EQ(
		    ca_init(other, "gw", (const char *const[]){ "127.0.0.1" }, 1, err, sizeof(err)),
		    0, err) ||
	    !ASSERT_EQ(ca_issue(other, "new1", err, sizeof(err)), 0, err))
		return;
	snprintf(crt, sizeof(crt), "%s/new1.crt", other);
	snprintf(key, sizeof(key), "%s/new1.key", other);
	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	a = start();
	if (!a)
		return;
	ASSERT_EQ(connect_with(a, ca, crt, key, err, sizeof(err)), -EACCES,
		  "another CA's certificate refused in the handshake");
	ASSERT_EQ(enroll_total(a), 0, "and it is no enrollment");
	authd_free(a);
}

/* A client without a certificate that sends anything but enroll: refused and counted. */
static void test_enroll_no_certificate(void)
{
	static const char hello[] = "\0\0\0\x1f{\"type\":\"hello\",\"app\":\"sensor\"}";
	uint64_t deadline;
	char err[256], buf[256];
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	struct authd *a;
	struct pollfd pf;
	int fd = -1, r = 0, got = 0;

	if (!prepare_enroll())
		return;
	a = start();
	if (!a)
		return;
	ctx = tls_enroll_ctx(err, sizeof(err));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	{
		struct sockaddr_in sin = { .sin_family = AF_INET,
					   .sin_port = htons(cfg.auth.port) };

		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	}
	ssl = ctx ? SSL_new(ctx) : NULL;
	if (!ASSERT_TRUE(ssl && fd >= 0 && SSL_set_fd(ssl, fd) == 1, "client"))
		goto out;
	deadline = now_ns() + 10 * SEC_NS;
	/* The TCP connect first (non-blocking), then the handshake, serving the daemon. */
	pf = (struct pollfd){ .fd = fd, .events = POLLOUT };
	while (poll(&pf, 1, 0) != 1 && now_ns() < deadline)
		pump(a, 10);
	while ((r = SSL_connect(ssl)) != 1 && now_ns() < deadline) {
		int e = SSL_get_error(ssl, r);

		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			break;
		pump(a, 10);
	}
	if (!ASSERT_EQ(r, 1, "TLS without a certificate is let in (enroll = yes)"))
		goto out;
	ASSERT_EQ(SSL_write(ssl, hello, sizeof(hello) - 1), (int)sizeof(hello) - 1, "hello sent");
	/* The gateway answers error{no_certificate} and closes. */
	while (now_ns() < deadline && got >= 0) {
		pump(a, 10);
		pf = (struct pollfd){ .fd = fd, .events = POLLIN };
		if (poll(&pf, 1, 0) != 1)
			continue;
		r = SSL_read(ssl, buf + got, (int)sizeof(buf) - 1 - got);
		if (r > 0)
			got += r;
		else if (SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ)
			break;
	}
	buf[got > 0 ? got : 0] = '\0';
	ASSERT_TRUE(got > 4 && strstr(buf + 4, "no_certificate") != NULL, "error no_certificate");
	ASSERT_EQ(stat_in_wait(a, "enroll", "no_certificate", 1, 2000), 1, "counted");
out:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
	authd_free(a);
	enroll_mode = false;
}

T_MAIN(T_CASE(test_revoke_granted_not_installed), T_CASE(test_revoke_reasons),
       T_CASE(test_sequence), T_CASE(test_device_cap), T_CASE(test_renew_early),
       T_CASE(test_conn_cap), T_CASE(test_revoke_replaced), T_CASE(test_mode_and_cipher),
       T_CASE(test_old_hello), T_CASE(test_resume), T_CASE(test_certificate_identity),
       T_CASE(test_revocation), T_CASE(test_reload), T_CASE(test_reload_integrity),
       T_CASE(test_device_groups), T_CASE(test_crl), T_CASE(test_enroll_token),
       T_CASE(test_enroll_refusals), T_CASE(test_enroll_exists_revoked),
       T_CASE(test_enroll_wrong_gateway), T_CASE(test_enroll_ca_dir_mismatch),
       T_CASE(test_enroll_p256), T_CASE(test_enroll_other_ca_certificate), T_CASE(test_enroll_app),
       T_CASE(test_enroll_no_certificate), T_CASE(test_spa_queue_overflow))
