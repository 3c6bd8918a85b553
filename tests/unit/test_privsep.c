// SPDX-License-Identifier: GPL-2.0
/* The auth worker for real (root): unprivileged, grant/deny, revoke on drop, renew, kill. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/auth/ca.h"
#include "lib/auth/client.h"
#include "lib/auth/privsep.h"
#include "lib/base/addr.h"
#include "lib/tunnel/keys.h"
#include "tests/lib/t.h"
#include "tests/lib/tcert.h"

static char dir[64], dir_b[64];
static bool ready;

static void rm_dirs(void)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", dir, dir_b);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static bool setup(void)
{
	static const char *const ips[] = { "127.0.0.1" };
	char err[256] = "";
	struct ca_issue_args dev1 = { .device = "dev1", .app = "sensor" };
	struct ca_issue_args dev2 = { .device = "dev2", .app = "sensor" };

	if (ready)
		return true;
	strcpy(dir, "/tmp/capgate-privsep-XXXXXX");
	strcpy(dir_b, "/tmp/capgate-privsep-b-XXXXXX");
	if (!mkdtemp(dir) || !mkdtemp(dir_b))
		return false;
	atexit(rm_dirs);
	/* App certificates dev1@sensor, dev2@sensor; dev3 a device's own; noid without identity. */
	if (ca_init(dir, "gw", ips, 1, err, sizeof(err)) ||
	    ca_issue_with(dir, &dev1, err, sizeof(err)) ||
	    ca_issue_with(dir, &dev2, err, sizeof(err)) ||
	    ca_issue(dir, "dev3", err, sizeof(err)) ||
	    ca_init(dir_b, "gw", ips, 1, err, sizeof(err)) ||
	    ca_issue_with(dir_b, &dev1, err, sizeof(err)) || tcert_issue_plain(dir, "noid")) {
		fprintf(stderr, "setup: %s\n", err);
		return false;
	}
	ready = true;
	return true;
}

static char paths[8][256];

static const char *p(int slot, const char *d, const char *file)
{
	snprintf(paths[slot], sizeof(paths[slot]), "%s/%s", d, file);
	return paths[slot];
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* One datagram from the worker within ms, checked against the parent's table; 0 = type. */
static uint32_t recv_msg(int fd, union authw_msg *m, int ms)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	uint32_t type = 0;
	size_t len;

	if (poll(&pf, 1, ms) != 1 || authw_recv(fd, m, sizeof(*m), &len) ||
	    authw_msg_check(m, len, &type))
		return 0;
	return type;
}

static bool start(struct authw *w, uint64_t dead_after_ns)
{
	struct authw_cfg cfg = {
		.ca = p(0, dir, "ca.crt"),
		.cert = p(1, dir, "gateway.crt"),
		.key = p(2, dir, "gateway.key"),
		.bind_addr = "127.0.0.1",
		.port = 0,
		.dead_after_ns = dead_after_ns,
		.handshake_ns = 5 * 1000000000ULL,
	};

	*w = (struct authw)AUTHW_INIT;
	return authw_start(&cfg, w) == 0;
}

struct cli {
	pthread_t th;
	struct authc_cfg cfg;
	struct authc c;
	char err[256];
	int ret;
	volatile int done;
};

static void *cli_run(void *arg)
{
	struct cli *k = arg;

	k->ret = authc_connect(&k->cfg, &k->c, k->err, sizeof(k->err));
	__atomic_store_n(&k->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * A client of key name dev (certificate in d) with [client] mode and hello
 * app (NULL: none, the certificate says), connecting in its own thread.
 */
static void cli_start_app(struct cli *k, const struct authw *w, const char *d, const char *dev,
			  uint8_t mode, const char *app)
{
	char crt[140], key[140];

	memset(k, 0, sizeof(*k));
	snprintf(crt, sizeof(crt), "%s.crt", dev);
	snprintf(key, sizeof(key), "%s.key", dev);
	k->cfg = (struct authc_cfg){
		.gateway = "127.0.0.1",
		.port = w->port,
		.ca = p(3, dir, "ca.crt"),
		.cert = p(4, d, crt),
		.key = p(5, d, key),
		.app = app,
		.timeout_ns = 5 * 1000000000ULL,
		.mode = mode,
	};
	pthread_create(&k->th, NULL, cli_run, k);
}

static void cli_start_as(struct cli *k, const struct authw *w, const char *d, const char *dev,
			 uint8_t mode)
{
	cli_start_app(k, w, d, dev, mode, NULL);
}

static void cli_start(struct cli *k, const struct authw *w, const char *d, const char *dev)
{
	cli_start_as(k, w, d, dev, 0);
}

static void grant_fill(struct authw_grant *g, uint64_t conn, uint32_t session)
{
	memset(g, 0, sizeof(*g));
	g->type = AUTHW_GRANT;
	g->conn = conn;
	g->session = session;
	addr_parse_mapped("100.64.0.2", g->vip);
	g->expires_in_s = 600;
	g->keepalive_s = 15;
	g->data_port = 51900;
	g->nscopes = 1;
	addr_parse_mapped("10.10.2.2", g->scopes[0].addr);
	g->scopes[0].plen = 128;
	g->scopes[0].proto = 6;
	g->scopes[0].port_lo = 80;
	g->scopes[0].port_hi = 80;
}

/* Parent side of one grant: REQUEST -> GRANT -> INSTALL -> INSTALLED. Returns the conn id. */
static uint64_t serve_grant(struct authw *w, uint32_t session, const char *want_dev,
			    struct session_keys *keys)
{
	enum authw_conn_state st = AUTHW_CS_NEW;
	union authw_msg m;
	struct authw_grant g;
	struct authw_installed in = { .type = AUTHW_INSTALLED };
	struct proto_offer want;
	uint64_t conn;
	char peer[CG_ADDRSTRLEN];

	if (!ASSERT_EQ(recv_msg(w->fd, &m, 5000), AUTHW_SESSION_REQUEST, "request"))
		return 0;
	ASSERT_EQ(authw_conn_step(&st, AUTHW_SESSION_REQUEST), 0, "state: request");
	ASSERT_STREQ(m.req.id.device, want_dev, "device: the certificate's");
	ASSERT_STREQ(m.req.id.app, "sensor", "app: the certificate's (hello named none)");
	ASSERT_TRUE(m.req.id.serial_len > 0, "the certificate's serial");
	addr_format_mapped(m.req.peer_addr, peer, sizeof(peer));
	ASSERT_STREQ(peer, "127.0.0.1", "peer address");
	ASSERT_TRUE(m.req.peer_port != 0, "peer port");
	/* The client's hello, as it sent it: mode = policy, cipher = auto on this CPU. */
	proto_offer_make(&want, 0, 0, aead_aes_available());
	ASSERT_MEMEQ(&m.req.offer, &want, sizeof(want), "offer passed on");
	conn = m.req.conn;
	grant_fill(&g, conn, session);
	ASSERT_EQ(authw_conn_step(&st, AUTHW_GRANT), 0, "state: grant");
	ASSERT_EQ(authw_send(w->fd, &g, sizeof(g)), 0, "send grant");
	if (!ASSERT_EQ(recv_msg(w->fd, &m, 5000), AUTHW_SESSION_INSTALL, "install"))
		return 0;
	ASSERT_EQ(authw_conn_step(&st, AUTHW_SESSION_INSTALL), 0, "state: install");
	ASSERT_EQ(m.install.conn, conn, "install conn");
	ASSERT_EQ(m.install.session, session, "install session");
	ASSERT_EQ(keys_derive(m.install.material, keys), 0, "parent derives keys");
	in.conn = conn;
	in.session = session;
	ASSERT_EQ(authw_conn_step(&st, AUTHW_INSTALLED), 0, "state: installed");
	ASSERT_EQ(authw_send(w->fd, &in, sizeof(in)), 0, "send installed");
	return conn;
}

static bool cli_wait(struct cli *k)
{
	pthread_join(k->th, NULL);
	return __atomic_load_n(&k->done, __ATOMIC_ACQUIRE);
}

/* The next event of the client within ms (NONE if nothing came). */
static uint32_t cli_event(struct cli *k, struct authc_event *ev, int ms)
{
	uint64_t deadline = now_ns() + (uint64_t)ms * 1000000ULL;
	struct pollfd pf = { .fd = authc_fd(&k->c), .events = POLLIN };

	memset(ev, 0, sizeof(*ev));
	while (now_ns() < deadline) {
		if (authc_process(&k->c, ev))
			return AUTHC_EV_CLOSED;
		if (ev->type != AUTHC_EV_NONE)
			return ev->type;
		poll(&pf, 1, (int)((deadline - now_ns()) / 1000000ULL + 1));
	}
	return AUTHC_EV_NONE;
}

static bool need_root(void)
{
	if (geteuid() == 0)
		return true;
	T_SKIP("needs root (the worker drops privileges to nobody)");
	return false;
}

/* The number after NAME in /proc/PID/limits (soft limit), or -1 ("unlimited", absent). */
static long long proc_limit(pid_t pid, const char *name)
{
	char path[64], line[256];
	long long v = -1;
	size_t n = strlen(name);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && sscanf(line + n, " %lld", &v) != 1)
			v = -1;
	fclose(f);
	return v;
}

/*
 * The worker is a fresh program (authw_start spawns /proc/self/exe), not a
 * fork of this threaded one, which could have inherited a lock held by another
 * thread; and it holds nothing but stdio (its log), the listening socket (3)
 * and its socket to the parent (4).
 */
static void exec_checks(pid_t pid)
{
	char path[64], cmd[64] = "";
	struct dirent *e;
	unsigned int fds = 0, others = 0;
	long fd;
	FILE *f;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	f = fopen(path, "r");
	if (ASSERT_TRUE(f != NULL, path)) {
		if (!fgets(cmd, sizeof(cmd), f))
			cmd[0] = 0;
		fclose(f);
	}
	ASSERT_STREQ(cmd, AUTHW_ARGV0, "argv[0]: the worker program, not a fork of the test");
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (ASSERT_TRUE(d != NULL, path)) {
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			fd = strtol(e->d_name, NULL, 10);
			if (fd >= 0 && fd <= 4)
				fds |= 1U << fd;
			else
				others++;
		}
		closedir(d);
	}
	ASSERT_EQ(fds, 0x1f, "descriptors 0..4");
	ASSERT_EQ(others, 0, "no other descriptor");
}

/* The worker's root is an empty directory that is not ours, and its limits are set. */
static void sandbox_checks(pid_t pid)
{
	char path[64];
	struct stat root, host;
	struct dirent *e;
	int entries = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	d = opendir(path);
	if (ASSERT_TRUE(d != NULL, "worker root readable")) {
		while ((e = readdir(d)))
			entries += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
		closedir(d);
	}
	ASSERT_EQ(entries, 0, "worker root is empty");
	ASSERT_TRUE(!stat(path, &root) && !stat("/", &host) && root.st_dev != host.st_dev,
		    "worker root is not the host's");
	ASSERT_EQ(proc_limit(pid, "Max core file size"), 0, "RLIMIT_CORE 0");
	ASSERT_EQ(proc_limit(pid, "Max file size"), 0, "RLIMIT_FSIZE 0");
	ASSERT_TRUE(proc_limit(pid, "Max open files") > 1024 &&
			    proc_limit(pid, "Max open files") <= 1024 + 64,
		    "RLIMIT_NOFILE: max_clients and a few");
	ASSERT_TRUE(proc_limit(pid, "Max data size") > 0, "RLIMIT_DATA bounded");
}

static void test_worker_unprivileged(void)
{
	struct authw w;
	char path[64], line[256];
	int uid_ok = 0, gid_ok = 0, cap_ok = 0, nnp_ok = 0, groups_ok = 0, seccomp_ok = 0;
	FILE *f;

	if (!need_root() || !ASSERT_TRUE(setup(), "setup") || !ASSERT_TRUE(start(&w, 0), "start"))
		return;
	ASSERT_TRUE(w.port != 0, "bound port");
	snprintf(path, sizeof(path), "/proc/%d/status", (int)w.pid);
	f = fopen(path, "r");
	if (ASSERT_TRUE(f != NULL, path)) {
		while (fgets(line, sizeof(line), f)) {
			if (!strcmp(line, "Uid:\t65534\t65534\t65534\t65534\n"))
				uid_ok = 1;
			if (!strcmp(line, "Gid:\t65534\t65534\t65534\t65534\n"))
				gid_ok = 1;
			if (!strcmp(line, "CapEff:\t0000000000000000\n"))
				cap_ok++;
			if (!strcmp(line, "CapPrm:\t0000000000000000\n"))
				cap_ok++;
			if (!strcmp(line, "CapBnd:\t0000000000000000\n"))
				cap_ok++;
			if (!strcmp(line, "NoNewPrivs:\t1\n"))
				nnp_ok = 1;
			if (!strcmp(line, "Seccomp:\t2\n"))
				seccomp_ok = 1;
			if (!strncmp(line, "Groups:", 7) &&
			    strspn(line + 7, " \t\n") == strlen(line + 7))
				groups_ok = 1;
		}
		fclose(f);
	}
	ASSERT_TRUE(uid_ok, "Uid nobody");
	ASSERT_TRUE(gid_ok, "Gid nogroup");
	ASSERT_EQ(cap_ok, 3, "CapEff, CapPrm, CapBnd empty");
	ASSERT_TRUE(nnp_ok, "NoNewPrivs");
	ASSERT_TRUE(groups_ok, "no supplementary groups");
	ASSERT_TRUE(seccomp_ok, "Seccomp: 2 (filter)");
	sandbox_checks(w.pid);
	exec_checks(w.pid);
	authw_stop(&w);
	ASSERT_EQ(w.pid, -1, "stopped");
	authw_stop(&w); /* idempotent */
}

/*
 * The worker reads the key itself: a key it cannot read fails the start at
 * once (the worker exits with its reason), not after the READY timeout.
 */
static void test_bad_key_fails_start(void)
{
	struct authw_cfg cfg = { .bind_addr = "127.0.0.1" };
	struct authw w = AUTHW_INIT;
	uint64_t t0;

	if (!need_root() || !ASSERT_TRUE(setup(), "setup"))
		return;
	cfg.ca = p(0, dir, "ca.crt");
	cfg.cert = p(1, dir, "gateway.crt");
	cfg.key = p(2, dir, "missing.key");
	t0 = now_ns();
	ASSERT_EQ(authw_start(&cfg, &w), -EPIPE, "the worker ended before READY");
	ASSERT_TRUE(now_ns() - t0 < 4000000000ULL, "at once, not at the READY timeout");
	ASSERT_EQ(w.pid, -1, "no worker");
}

/* A system call outside the allow-list (the test-only request: socket()) kills it: SIGSYS. */
static void test_forbidden_syscall_kills(void)
{
	struct authw_test_syscall t = { .type = AUTHW_TEST_SYSCALL };
	struct pollfd pf;
	union authw_msg m;
	struct authw w;
	size_t len;
	int status;

	if (!need_root() || !ASSERT_TRUE(setup(), "setup") || !ASSERT_TRUE(start(&w, 0), "start"))
		return;
	ASSERT_EQ(authw_send(w.fd, &t, sizeof(t)), 0, "send the test request");
	pf = (struct pollfd){ .fd = w.fd, .events = POLLIN };
	if (ASSERT_EQ(poll(&pf, 1, 5000), 1, "the worker's socket wakes up"))
		ASSERT_EQ(authw_recv(w.fd, &m, sizeof(m), &len), -EPIPE, "the worker is gone");
	status = authw_stop(&w);
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS, "killed by SIGSYS");
}

/* Grant, keepalive, renew, then the connection dies: REVOKE. */
static void test_grant_renew_and_drop(void)
{
	struct session_keys pk, pk2;
	struct authc_event ev;
	union authw_msg m;
	struct authw w;
	struct authw_grant g;
	struct authw_installed in = { .type = AUTHW_INSTALLED };
	struct cli k;
	uint64_t conn;

	if (!need_root() || !ASSERT_TRUE(setup(), "setup") || !ASSERT_TRUE(start(&w, 0), "start"))
		return;
	cli_start(&k, &w, dir, "dev1@sensor");
	conn = serve_grant(&w, 0x1001, "dev1", &pk);
	if (!ASSERT_TRUE(cli_wait(&k), "client done") || !ASSERT_EQ(k.ret, 0, k.err) || !conn)
		goto out;
	ASSERT_EQ(k.c.cap.session, 0x1001, "session");
	ASSERT_EQ(k.c.cap.expires_in, 600, "expires_in");
	ASSERT_EQ(k.c.cap.keepalive, 15, "keepalive");
	ASSERT_EQ(k.c.cap.data_port, 51900, "data port");
	ASSERT_EQ(k.c.cap.nscopes, 1, "scopes");
	ASSERT_EQ(k.c.cap.scopes[0].port_lo, 80, "scope port");
	ASSERT_MEMEQ(&k.c.keys, &pk, sizeof(pk), "client and parent derive the same keys");

	ASSERT_EQ(authc_keepalive(&k.c), 0, "keepalive");
	ASSERT_EQ(cli_event(&k, &ev, 5000), AUTHC_EV_KEEPALIVE_ACK, "keepalive_ack");

	ASSERT_EQ(authc_renew(&k.c), 0, "renew");
	ASSERT_EQ(authc_renew(&k.c), -EALREADY, "one renew at a time");
	if (!ASSERT_EQ(recv_msg(w.fd, &m, 5000), AUTHW_SESSION_RENEW, "renew request"))
		goto close;
	ASSERT_EQ(m.renew.conn, conn, "renew conn");
	ASSERT_EQ(m.renew.old_session, 0x1001, "old session");
	grant_fill(&g, conn, 0x1002);
	authw_send(w.fd, &g, sizeof(g));
	if (!ASSERT_EQ(recv_msg(w.fd, &m, 5000), AUTHW_SESSION_INSTALL, "renew install"))
		goto close;
	ASSERT_EQ(m.install.session, 0x1002, "new session");
	keys_derive(m.install.material, &pk2);
	in.conn = conn;
	in.session = 0x1002;
	authw_send(w.fd, &in, sizeof(in));
	if (ASSERT_EQ(cli_event(&k, &ev, 5000), AUTHC_EV_RENEWED, "renewed")) {
		ASSERT_EQ(ev.cap.session, 0x1002, "new session id");
		ASSERT_MEMEQ(&ev.keys, &pk2, sizeof(pk2), "new keys equal");
		ASSERT_TRUE(memcmp(&pk, &pk2, sizeof(pk)) != 0, "new keys differ from old");
	}
	keys_wipe(&ev.keys);
close:
	/* The client vanishes without bye: the worker must tell the parent. */
	authc_close(&k.c, false);
	if (ASSERT_EQ(recv_msg(w.fd, &m, 5000), AUTHW_SESSION_REVOKE, "revoke on drop")) {
		ASSERT_EQ(m.revoke.conn, conn, "revoke conn");
		ASSERT_EQ(m.revoke.session, 0x1002, "revoke current session");
		ASSERT_EQ(m.revoke.reason, AUTHW_R_CLOSED, "reason closed");
	}
out:
	keys_wipe(&pk);
	keys_wipe(&pk2);
	authw_stop(&w);
}

/* The parent's GRANT (mode, cipher) for a REQUEST or RENEW on conn, then INSTALLED. */
static bool grant_as(struct authw *w, uint64_t conn, uint32_t session, uint8_t mode, uint8_t cipher)
{
	struct authw_installed in = { .type = AUTHW_INSTALLED, .conn = conn, .session = session };
	struct authw_grant g;
	union authw_msg m;

	grant_fill(&g, conn, session);
	g.mode = mode;
	g.cipher = cipher;
	authw_send(w->fd, &g, sizeof(g));
	if (!ASSERT_EQ(recv_msg(w->fd, &m, 5000), AUTHW_SESSION_INSTALL, "install"))
		return false;
	authw_send(w->fd, &in, sizeof(in));
	return true;
}

/*
 * A client with mode = encrypted refuses a capability that says integrity,
 * the first one or a renewed one (no gateway can downgrade it), and closes.
 */
static void test_downgrade_refused(void)
{
	struct authc_event ev;
	union authw_msg m;
	struct authw w;
	struct cli k;
	uint64_t conn;

	if (!need_root() || !ASSERT_TRUE(setup(), "setup") || !ASSERT_TRUE(start(&w, 0), "start"))
		return;
	cli_start_as(&k, &w, dir, "dev1@sensor", CG_TUN_F_ENCRYPTED);
	if (!ASSERT_EQ(recv_msg(w.fd, &m, 5000), AUTHW_SESSION_REQUEST, "request"))
		goto out;
	ASSERT_EQ(m.req.offer.mode, CG_TUN_F_ENCRYPTED, "hello asked for encrypted");
	conn = m.req.conn;
	if (!grant_as(&w, conn, 0x3001, 0, 0) || !ASSERT_TRUE(cli_wait(&k), "client done"))
		goto out;
	ASSERT_EQ(k.ret, -EPROTO, "integrity capability refused");
	ASSERT_TRUE(strstr(k.err, "integrity") != NULL, k.err);
	if (ASSERT_EQ(recv_msg(w.fd, &m, 5000), AUTHW_SESSION_REVOKE, "the client closed"))
		ASSERT_EQ(m.revoke.conn, conn, "revoke conn");

	/* Encrypted first, then a renewal that says integrity. */
	cli_start_as(&k, &w, dir, "dev1@sensor", CG_TUN_F_ENCRYPTED);
	if (!ASSERT_EQ(recv_msg(w.fd, &m, 5000), AUTHW_SESSION_REQUEST, "request"))
		goto out;
	conn = m.req.conn;
	if (!grant_as(&w, conn, 0x3002, CG_TUN_F_ENCRYPTED, CG_CIPHER_CHACHA20_POLY1305) ||
	    !ASSERT_TRUE(cli_wait(&k), "client done") || !ASSERT_EQ(k.ret, 0, k.err))
		goto out;
	ASSERT_EQ(k.c.cap.mode, CG_TUN_F_ENCRYPTED, "encrypted");
	ASSERT_EQ(authc_renew(&k.c), 0, "renew");
	if (ASSERT_EQ(recv_msg(w.fd, &m, 5000), AUTHW_SESSION_RENEW, "renew request") &&
	    grant_as(&w, conn, 0x3003, 0, 0) &&
	    ASSERT_EQ(cli_event(&k, &ev, 5000), AUTHC_EV_CLOSED, "renewal refused")) {
		ASSERT_TRUE(strstr(ev.reason, "integrity") != NULL, ev.reason);
		ASSERT_EQ(k.c.cap.session, 0x3002, "the refused capability was not taken");
	}
	authc_close(&k.c, false);
out:
	authw_stop(&w);
}

/*
 * A client of key name key (hello app: app) whose request names the
 * certificate's device and app; the parent denies it (policy): the client
 * hears why, the parent gets the channel's REVOKE.
 */
static void deny_request(struct authw *w, const char *key, const char *app, const char *device,
			 const char *want_app)
{
	union authw_msg m;
	struct authw_deny d = { .type = AUTHW_DENY, .reason = AUTHW_R_POLICY };
	struct cli k;

	cli_start_app(&k, w, dir, key, 0, app);
	if (ASSERT_EQ(recv_msg(w->fd, &m, 5000), AUTHW_SESSION_REQUEST, "request")) {
		ASSERT_STREQ(m.req.id.device, device, "device: the certificate's");
		ASSERT_STREQ(m.req.id.app, want_app, "app: the certificate's");
		d.conn = m.req.conn;
		authw_send(w->fd, &d, sizeof(d));
	}
	cli_wait(&k);
	ASSERT_EQ(k.ret, -EACCES, "client refused");
	ASSERT_TRUE(strstr(k.err, "policy") != NULL, k.err);
	if (ASSERT_EQ(recv_msg(w->fd, &m, 5000), AUTHW_SESSION_REVOKE, "revoke after deny")) {
		ASSERT_EQ(m.revoke.conn, d.conn, "conn");
		ASSERT_EQ(m.revoke.session, 0, "no session");
		ASSERT_EQ(m.revoke.reason, AUTHW_R_POLICY, "reason");
	}
}

static void test_deny(void)
{
	struct authw w;

	if (!need_root() || !ASSERT_TRUE(setup(), "setup") || !ASSERT_TRUE(start(&w, 0), "start"))
		return;
	deny_request(&w, "dev2@sensor", NULL, "dev2", "sensor");
	authw_stop(&w);
}

static void test_other_ca_no_request(void)
{
	union authw_msg m;
	struct authw w;
	struct cli k;

	if (!need_root() || !ASSERT_TRUE(setup(), "setup") || !ASSERT_TRUE(start(&w, 0), "start"))
		return;
	cli_start(&k, &w, dir_b, "dev1@sensor");
	cli_wait(&k);
	ASSERT_EQ(k.ret, -EACCES, "foreign certificate refused");
	ASSERT_EQ(recv_msg(w.fd, &m, 200), 0, "the parent hears nothing");
	authw_stop(&w);
}

/*
 * Who the worker says the client is: the certificate's identity, never the
 * hello's. One without an identity is refused (identity); a hello naming
 * another app than the certificate's is refused (app_mismatch); each is told
 * to the parent (a REVOKE for session 0, so it is counted). A hello naming
 * the certificate's own app (an older agent) still goes through.
 */
static void refused_before_request(struct authw *w, const char *key, const char *app,
				   uint32_t reason)
{
	union authw_msg m;
	struct cli k;

	cli_start_app(&k, w, dir, key, 0, app);
	cli_wait(&k);
	ASSERT_EQ(k.ret, -EACCES, key);
	ASSERT_TRUE(strstr(k.err, authw_reason_str(reason)) != NULL, k.err);
	if (ASSERT_EQ(recv_msg(w->fd, &m, 5000), AUTHW_SESSION_REVOKE, "the parent is told")) {
		ASSERT_EQ(m.revoke.session, 0, "no session");
		ASSERT_EQ(m.revoke.reason, reason, authw_reason_str(reason));
	}
}

static void test_identity_from_certificate(void)
{
	struct authw w;

	if (!need_root() || !ASSERT_TRUE(setup(), "setup") || !ASSERT_TRUE(start(&w, 0), "start"))
		return;
	refused_before_request(&w, "noid", NULL, AUTHW_R_IDENTITY);
	refused_before_request(&w, "dev1@sensor", "shell", AUTHW_R_APP_MISMATCH);
	refused_before_request(&w, "dev3", "sensor", AUTHW_R_APP_MISMATCH);
	/* An older agent names its certificate's app: the same request as without. */
	deny_request(&w, "dev1@sensor", "sensor", "dev1", "sensor");
	/* A device's own certificate: app "". */
	deny_request(&w, "dev3", NULL, "dev3", "");
	authw_stop(&w);
}

static void test_silent_client_and_kill(void)
{
	struct session_keys pk;
	struct authc_event ev;
	union authw_msg m;
	struct authw w;
	struct authw_kill kill = { .type = AUTHW_KILL, .reason = AUTHW_R_KILLED };
	struct cli k, k2;
	uint64_t conn, t0;

	/* Silent past 300 ms: revoked. */
	if (!need_root() || !ASSERT_TRUE(setup(), "setup") ||
	    !ASSERT_TRUE(start(&w, 300 * 1000000ULL), "start"))
		return;
	cli_start(&k, &w, dir, "dev1@sensor");
	conn = serve_grant(&w, 0x2001, "dev1", &pk);
	keys_wipe(&pk);
	if (!ASSERT_TRUE(cli_wait(&k), "client") || !ASSERT_EQ(k.ret, 0, k.err))
		goto out;
	t0 = now_ns();
	if (ASSERT_EQ(recv_msg(w.fd, &m, 5000), AUTHW_SESSION_REVOKE, "revoke when silent")) {
		ASSERT_EQ(m.revoke.conn, conn, "conn");
		ASSERT_EQ(m.revoke.reason, AUTHW_R_TIMEOUT, "reason timeout");
		ASSERT_TRUE(now_ns() - t0 < 2000000000ULL, "within the timeout");
	}
	ASSERT_EQ(cli_event(&k, &ev, 2000), AUTHC_EV_ERROR, "client told");
	ASSERT_STREQ(ev.reason, "timeout", "reason text");
	authc_close(&k.c, false);

	/* Admin revoke: KILL closes the client, then REVOKE. */
	cli_start(&k2, &w, dir, "dev1@sensor");
	conn = serve_grant(&w, 0x2002, "dev1", &pk);
	keys_wipe(&pk);
	if (!ASSERT_TRUE(cli_wait(&k2), "client 2") || !ASSERT_EQ(k2.ret, 0, k2.err))
		goto out;
	kill.session = 0x2002;
	authw_send(w.fd, &kill, sizeof(kill));
	if (ASSERT_EQ(recv_msg(w.fd, &m, 5000), AUTHW_SESSION_REVOKE, "revoke after kill")) {
		ASSERT_EQ(m.revoke.session, 0x2002, "session");
		ASSERT_EQ(m.revoke.reason, AUTHW_R_KILLED, "reason killed");
	}
	ASSERT_EQ(cli_event(&k2, &ev, 2000), AUTHC_EV_ERROR, "client 2 told");
	ASSERT_STREQ(ev.reason, "killed", "reason text");
	authc_close(&k2.c, true);
out:
	authw_stop(&w);
}

/* The tables: sizes and contents, both directions. */
static void test_tables(void)
{
	struct authw_session_request r = { .type = AUTHW_SESSION_REQUEST, .conn = 1 };
	struct authw_session_revoke v = { .type = AUTHW_SESSION_REVOKE, .conn = 1, .reason = 1 };
	struct authw_grant g;
	struct authw_deny d = { .type = AUTHW_DENY, .conn = 1, .reason = AUTHW_R_POLICY };
	struct authw_kill kl = { .type = AUTHW_KILL, .session = 1, .reason = AUTHW_R_REVOKED };
	enum authw_conn_state st = AUTHW_CS_NEW;
	uint8_t big[sizeof(union authw_msg) + 8] = { 0 };
	uint32_t t = 0;

	strcpy(r.id.device, "dev1");
	strcpy(r.id.app, "sensor");
	strcpy(r.id.groups[0], "sensors");
	r.id.ngroups = 1;
	r.id.serial[0] = 0x2a;
	r.id.serial_len = 1;
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), 0, "request ok");
	ASSERT_EQ(t, AUTHW_SESSION_REQUEST, "type");
	ASSERT_EQ(authw_msg_check(&r, sizeof(r) - 1, &t), -EBADMSG, "short");
	ASSERT_EQ(authw_msg_check(&r, 3, &t), -EINVAL, "no type");
	r.id.device[10] = 'x'; /* bytes after the NUL */
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), -EBADMSG, "hidden bytes");
	r.id.device[10] = 0;
	r.id.app[0] = '/';
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), -EBADMSG, "bad app");
	memset(r.id.app, 0, sizeof(r.id.app));
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), 0, "a device certificate: app \"\"");
	strcpy(r.id.app, "sensor");
	r.id.device[0] = 0;
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), -EBADMSG, "no device");
	r.id.device[0] = 'd';
	r.id.ngroups = 2;
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), -EBADMSG, "a group without a name");
	r.id.ngroups = CG_CERT_GROUPS_MAX + 1;
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), -EBADMSG, "too many groups");
	r.id.ngroups = 0;
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), -EBADMSG, "a group past ngroups");
	r.id.ngroups = 1;
	r.id.serial_len = 0;
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), -EBADMSG, "serial_len 0");
	r.id.serial_len = CG_SERIAL_MAX + 1;
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), -EBADMSG, "serial_len 21");
	r.id.serial_len = 1;
	r.id.serial[5] = 1;
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), -EBADMSG, "serial bytes past serial_len");
	r.id.serial[5] = 0;
	((uint8_t *)&r.id)[sizeof(r.id) - 1] = 1;
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), -EBADMSG, "the identity's tail");
	((uint8_t *)&r.id)[sizeof(r.id) - 1] = 0;
	r.pad = 1;
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), -EBADMSG, "pad");
	r.pad = 0;
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), 0, "request ok again");
	r.conn = 0;
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), -EBADMSG, "conn 0");
	ASSERT_EQ(authw_msg_check(&v, sizeof(v), &t), 0, "revoke ok");
	v.reason = AUTHW_R_MAX;
	ASSERT_EQ(authw_msg_check(&v, sizeof(v), &t), -EBADMSG, "reason out of range");
	ASSERT_EQ(authw_msg_check(&d, sizeof(d), &t), -EINVAL, "DENY is not a worker request");
	ASSERT_EQ(authw_reply_check(&d, sizeof(d), &t), 0, "deny ok");
	ASSERT_EQ(authw_reply_check(&r, sizeof(r), &t), -EINVAL, "REQUEST is not a reply");
	ASSERT_EQ(authw_reply_check(&kl, sizeof(kl), &t), 0, "kill ok");
	kl.reason = AUTHW_R_BYE;
	ASSERT_EQ(authw_reply_check(&kl, sizeof(kl), &t), -EBADMSG, "kill with another reason");
	r.conn = 1;
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), 0, "request ok again");
	r.id.serial_len = 0;
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), -EBADMSG, "request without a serial");
	r.id.serial_len = 1;
	r.id.serial[5] = 1;
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), -EBADMSG, "bytes past the serial");
	r.id.serial[5] = 0;
	grant_fill(&g, 1, 7);
	ASSERT_EQ(authw_reply_check(&g, sizeof(g), &t), 0, "grant ok");
	g.nscopes = CG_MAX_SCOPES + 1;
	ASSERT_EQ(authw_reply_check(&g, sizeof(g), &t), -EBADMSG, "too many scopes");
	grant_fill(&g, 1, 0);
	ASSERT_EQ(authw_reply_check(&g, sizeof(g), &t), -EBADMSG, "session 0");
	/* mode and cipher go together: a cipher for encrypted, none for integrity */
	grant_fill(&g, 1, 7);
	g.mode = CG_TUN_F_ENCRYPTED;
	g.cipher = CG_CIPHER_AES256_GCM;
	ASSERT_EQ(authw_reply_check(&g, sizeof(g), &t), 0, "encrypted aes grant ok");
	g.cipher = 0;
	ASSERT_EQ(authw_reply_check(&g, sizeof(g), &t), -EBADMSG, "encrypted without cipher");
	g.cipher = 3;
	ASSERT_EQ(authw_reply_check(&g, sizeof(g), &t), -EBADMSG, "unknown cipher");
	g.mode = 0;
	g.cipher = CG_CIPHER_CHACHA20_POLY1305;
	ASSERT_EQ(authw_reply_check(&g, sizeof(g), &t), -EBADMSG, "integrity with a cipher");
	g.mode = 2;
	g.cipher = 0;
	ASSERT_EQ(authw_reply_check(&g, sizeof(g), &t), -EBADMSG, "unknown mode");
	/* the request's offer: what proto_offer_ok accepts, nothing hidden past nciphers */
	r.conn = 1;
	proto_offer_make(&r.offer, CG_TUN_F_ENCRYPTED, 0, true);
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), 0, "request with an offer");
	r.offer.ciphers[3] = CG_CIPHER_AES256_GCM;
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), -EBADMSG, "byte past nciphers");
	r.offer.ciphers[3] = 0;
	r.offer.ciphers[1] = r.offer.ciphers[0];
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), -EBADMSG, "cipher twice");
	proto_offer_make(&r.offer, 2, 0, false);
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), -EBADMSG, "unknown mode");
	memset(&r.offer, 0, sizeof(r.offer));
	ASSERT_EQ(authw_msg_check(big, sizeof(big), &t), -EINVAL, "type 0");

	ASSERT_EQ(authw_conn_step(&st, AUTHW_SESSION_INSTALL), -EPROTO, "install before request");
	ASSERT_EQ(authw_conn_step(&st, AUTHW_SESSION_RENEW), -EPROTO, "renew before active");
	ASSERT_EQ(authw_conn_step(&st, AUTHW_SESSION_REQUEST), 0, "request");
	ASSERT_EQ(authw_conn_step(&st, AUTHW_SESSION_REQUEST), -EPROTO, "second request");
	ASSERT_EQ(authw_conn_step(&st, AUTHW_DENY), 0, "deny");
	ASSERT_EQ(authw_conn_step(&st, AUTHW_GRANT), -EPROTO, "grant after deny");
	ASSERT_EQ(authw_conn_step(&st, AUTHW_SESSION_REVOKE), 0, "revoke");
	ASSERT_EQ(authw_conn_step(&st, AUTHW_SESSION_REVOKE), -EPROTO, "revoke twice");
	ASSERT_STREQ(authw_reason_str(AUTHW_R_POLICY), "policy", "reason name");
	ASSERT_STREQ(authw_reason_str(AUTHW_R_MAX), "?", "reason out of range");
}

#define TOK                                                                                      \
	"cg1.d7d364bb5d7ef1c7.993a5dc4f5c42f35e57e2c796b8a0a958f139709f53a374e2989c5ed05aa903a." \
	"56d46bc54a9f01153ade54c1afe950fc5868a7360470b1f94bd38138e37c76d1"
#define PEM(label) "-----BEGIN " label "-----\nMIIBLjCB4aADAgECAhBA\n-----END " label "-----\n"

/* ENROLL_REQUEST and ENROLLED: exact sizes, the token's format, PEM fields, nothing hidden. */
static void test_enroll_tables(void)
{
	struct authw_enroll_request r = { .type = AUTHW_ENROLL_REQUEST, .conn = 1 };
	struct authw_enrolled e = { .type = AUTHW_ENROLLED, .conn = 1 };
	enum authw_conn_state st = AUTHW_CS_NEW;
	uint32_t t = 0;

	strcpy(r.token, TOK);
	strcpy(r.csr, PEM("CERTIFICATE REQUEST"));
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), 0, "enroll request ok");
	ASSERT_EQ(t, AUTHW_ENROLL_REQUEST, "type");
	ASSERT_EQ(authw_msg_check(&r, sizeof(r) - 1, &t), -EBADMSG, "short");
	ASSERT_EQ(authw_reply_check(&r, sizeof(r), &t), -EINVAL, "not a reply");
	r.token[3] = '-';
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), -EBADMSG, "bad token");
	r.token[3] = '.';
	r.token[TOKEN_STR_LEN + 1] = 'x';
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), -EBADMSG, "bytes after the token");
	r.token[TOKEN_STR_LEN + 1] = 0;
	r.csr[PROTO_CSR_MAX - 1] = 'x';
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), -EBADMSG, "bytes after the CSR");
	r.csr[PROTO_CSR_MAX - 1] = 0;
	strcpy(r.csr, PEM("CERTIFICATE"));
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), -EBADMSG, "a certificate is not a CSR");
	strcpy(r.csr, PEM("CERTIFICATE REQUEST"));
	r.pad2[0] = 1;
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), -EBADMSG, "pad");
	r.pad2[0] = 0;
	r.conn = 0;
	ASSERT_EQ(authw_msg_check(&r, sizeof(r), &t), -EBADMSG, "conn 0");

	strcpy(e.cert, PEM("CERTIFICATE"));
	strcpy(e.ca, PEM("CERTIFICATE"));
	ASSERT_EQ(authw_reply_check(&e, sizeof(e), &t), 0, "enrolled ok");
	ASSERT_EQ(t, AUTHW_ENROLLED, "type");
	ASSERT_EQ(authw_msg_check(&e, sizeof(e), &t), -EINVAL, "not a request");
	e.status = TOKEN_SPENT;
	ASSERT_EQ(authw_reply_check(&e, sizeof(e), &t), -EBADMSG, "a refusal carries no certs");
	memset(e.cert, 0, sizeof(e.cert));
	memset(e.ca, 0, sizeof(e.ca));
	ASSERT_EQ(authw_reply_check(&e, sizeof(e), &t), 0, "refusal ok");
	e.status = AUTHW_E_MAX;
	ASSERT_EQ(authw_reply_check(&e, sizeof(e), &t), -EBADMSG, "status out of range");
	e.status = AUTHW_E_OK;
	ASSERT_EQ(authw_reply_check(&e, sizeof(e), &t), -EBADMSG, "ok without certs");
	ASSERT_STREQ(authw_enroll_status_str(TOKEN_SPENT), "spent", "status name");
	ASSERT_STREQ(authw_enroll_status_str(AUTHW_E_BAD_CSR), "bad_csr", "bad_csr");
	ASSERT_STREQ(authw_enroll_status_str(AUTHW_E_MAX), "?", "out of range");

	ASSERT_EQ(authw_conn_step(&st, AUTHW_ENROLLED), -EPROTO, "enrolled before request");
	ASSERT_EQ(authw_conn_step(&st, AUTHW_ENROLL_REQUEST), 0, "enroll request");
	ASSERT_EQ(authw_conn_step(&st, AUTHW_GRANT), -EPROTO, "no grant for an enrollment");
	ASSERT_EQ(authw_conn_step(&st, AUTHW_SESSION_INSTALL), -EPROTO, "no install either");
	ASSERT_EQ(authw_conn_step(&st, AUTHW_ENROLLED), 0, "enrolled");
	ASSERT_EQ(st, AUTHW_CS_DONE, "done");
	st = AUTHW_CS_ACTIVE;
	ASSERT_EQ(authw_conn_step(&st, AUTHW_ENROLL_REQUEST), -EPROTO, "no enroll on a session");
}

T_MAIN(T_CASE(test_tables), T_CASE(test_worker_unprivileged), T_CASE(test_forbidden_syscall_kills),
       T_CASE(test_bad_key_fails_start), T_CASE(test_grant_renew_and_drop),
       T_CASE(test_downgrade_refused), T_CASE(test_deny), T_CASE(test_other_ca_no_request),
       T_CASE(test_identity_from_certificate), T_CASE(test_silent_client_and_kill),
       T_CASE(test_enroll_tables))
