// SPDX-License-Identifier: GPL-2.0
/* Knocks: profile JSON (datapath), and knock_send against real local sockets (no sleeps). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/agent/knock.h"
#include "lib/base/parse_num.h"
#include "lib/base/portspec.h"
#include "lib/datapath/knock.h"
#include "tests/lib/t.h"

#define DEADLINE_MS 3000
/* Pacing between knocks in the order test: far above scheduling delays. */
#define GAP_MS 100

static void test_profile_json(void)
{
	struct knock_profile k = { 0 };
	const char *why;
	size_t n;
	json_t *j = NULL;
	char *text;

	port_seq_parse("tcp/7000 udp/8000 tcp/9000", k.steps, CG_KNOCK_MAX_STEPS, &n, &why);
	k.nsteps = (uint32_t)n;
	port_seq_parse("tcp/22", k.targets, CG_KNOCK_MAX_TARGETS, &n, &why);
	k.ntargets = (uint32_t)n;
	k.step_timeout_ns = 5 * NS_PER_SEC;
	k.open_for_ns = 30 * NS_PER_SEC;
	k.to.self = 1;
	k.to.n = 2;
	k.to.p[0] = (struct cg_prefix){ .addr = { [10] = 0xff, [11] = 0xff, 10, 10, 2, 0 },
					.plen = 120 };
	k.to.p[1] = (struct cg_prefix){ .addr = { 0x20, 0x01, 0x0d, 0xb8, 0, 2 }, .plen = 48 };
	if (!ASSERT_EQ(knock_profile_json("ssh", &k, &j), 0, "json"))
		return;
	text = json_dumps(j, JSON_COMPACT);
	ASSERT_STREQ(text,
		     "{\"name\":\"ssh\",\"sequence\":[\"tcp/7000\",\"udp/8000\",\"tcp/9000\"],"
		     "\"step_timeout\":5,\"open\":[\"tcp/22\"],\"open_for\":30,"
		     "\"to\":[\"self\",\"10.10.2.0/24\",\"2001:db8:2::/48\"]}",
		     "profile");
	free(text);
	json_decref(j);
}

/* A UDP socket bound to an ephemeral loopback port. */
static int udp_listener(int family, uint16_t *port)
{
	struct sockaddr_storage ss = { .ss_family = (sa_family_t)family };
	socklen_t len = sizeof(ss);
	int fd;

	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, len) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len)) {
		close(fd);
		return -1;
	}
	*port = family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
				  : ((struct sockaddr_in6 *)&ss)->sin6_port;
	return fd;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

struct arrival {
	int sock;     /* index of the receiving socket */
	long long ns; /* arrival rank */
	ssize_t len;
};

/*
 * Receives want datagrams over the sockets, until a deadline, in the order
 * they arrive: the sender paces its steps far apart, so each one is read
 * before the next is sent. (Kernel receive timestamps are not usable here:
 * the timestamping switch is turned on lazily and the first packets get
 * stamped when read.) Returns how many.
 */
static size_t receive(const int *fds, size_t nfds, struct arrival *out, size_t want)
{
	struct pollfd pfd[8];
	long long end = now_ms() + DEADLINE_MS;
	size_t i, got = 0;
	char buf[64];

	for (i = 0; i < nfds; i++)
		pfd[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	while (got < want && now_ms() < end) {
		if (poll(pfd, nfds, (int)(end - now_ms())) <= 0)
			continue;
		for (i = 0; i < nfds && got < want; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			out[got].len = recv(fds[i], buf, sizeof(buf), 0);
			if (out[got].len < 0)
				continue;
			out[got].sock = (int)i;
			out[got].ns = got;
			got++;
		}
	}
	return got;
}

struct sender {
	const char *host;
	struct cg_port steps[4];
	int ret;
	char err[128];
};

static void *send_thread(void *arg)
{
	struct sender *s = arg;

	s->ret = knock_send(s->host, s->steps, 4, GAP_MS, s->err, sizeof(s->err));
	return NULL;
}

static void udp_in_order(int family, const char *host)
{
	/* Socket index of each step: three ports, one of them knocked twice. */
	static const int order[] = { 2, 0, 1, 0 };
	struct sender snd = { .host = host };
	struct arrival got[8];
	pthread_t th;
	uint16_t port[3];
	int fds[3] = { -1, -1, -1 };
	size_t i, n;

	for (i = 0; i < 3; i++) {
		fds[i] = udp_listener(family, &port[i]);
		if (fds[i] < 0) {
			T_SKIP("no loopback for this family");
			goto out;
		}
	}
	for (i = 0; i < 4; i++)
		snd.steps[i] = (struct cg_port){ .proto = IPPROTO_UDP, .port = port[order[i]] };
	if (!ASSERT_EQ(pthread_create(&th, NULL, send_thread, &snd), 0, "thread"))
		goto out;
	n = receive(fds, 3, got, 4);
	pthread_join(th, NULL);
	if (!ASSERT_EQ(snd.ret, 0, snd.err) || !ASSERT_EQ(n, 4, "every step arrived"))
		goto out;
	n += receive(fds, 3, got + n, 0);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(got[i].sock, order[i], "arrival order");
		ASSERT_EQ(got[i].len, 1, "1-byte payload");
	}
	for (i = 0; i < 3; i++)
		ASSERT_EQ(recv(fds[i], got, 1, MSG_DONTWAIT), -1, "no more datagrams");
out:
	for (i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static void test_send_udp_v4(void)
{
	udp_in_order(AF_INET, "127.0.0.1");
}

static void test_send_udp_v6(void)
{
	udp_in_order(AF_INET6, "::1");
}

/* A TCP step is one connection attempt: on loopback the listener sees it. */
static void test_send_tcp(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	struct cg_port steps[2];
	struct pollfd pfd;
	uint16_t uport;
	int lfd = -1, ufd = -1, cfd;
	char err[128] = "", b;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (!ASSERT_TRUE(lfd >= 0, "socket") ||
	    !ASSERT_EQ(bind(lfd, (struct sockaddr *)&sa, len), 0, "bind") ||
	    !ASSERT_EQ(listen(lfd, 8), 0, "listen") ||
	    !ASSERT_EQ(getsockname(lfd, (struct sockaddr *)&sa, &len), 0, "getsockname"))
		goto out;
	ufd = udp_listener(AF_INET, &uport);
	if (!ASSERT_TRUE(ufd >= 0, "udp"))
		goto out;
	steps[0] = (struct cg_port){ .proto = IPPROTO_TCP, .port = sa.sin_port };
	steps[1] = (struct cg_port){ .proto = IPPROTO_UDP, .port = uport };
	if (!ASSERT_EQ(knock_send("localhost", steps, 2, 0, err, sizeof(err)), 0, err))
		goto out;
	pfd = (struct pollfd){ .fd = lfd, .events = POLLIN };
	ASSERT_EQ(poll(&pfd, 1, DEADLINE_MS), 1, "the SYN reached the listener");
	cfd = accept(lfd, NULL, NULL);
	if (ASSERT_TRUE(cfd >= 0, "accept"))
		close(cfd);
	pfd = (struct pollfd){ .fd = ufd, .events = POLLIN };
	ASSERT_EQ(poll(&pfd, 1, DEADLINE_MS), 1, "then the datagram");
	ASSERT_EQ(recv(ufd, &b, 1, 0), 1, "1 byte");
out:
	if (lfd >= 0)
		close(lfd);
	if (ufd >= 0)
		close(ufd);
}

static void test_send_refused(void)
{
	struct cg_port p = { .proto = IPPROTO_TCP, .port = htons(1) };
	struct cg_port bad = { .proto = IPPROTO_ICMP, .port = htons(1) };
	char err[128] = "";

	ASSERT_EQ(knock_send("", &p, 1, 0, err, sizeof(err)), -EINVAL, "no host");
	ASSERT_EQ(knock_send("127.0.0.1", &p, 0, 0, err, sizeof(err)), -EINVAL, "no steps");
	ASSERT_EQ(knock_send("127.0.0.1", &bad, 1, 0, err, sizeof(err)), -EINVAL, "icmp");
	ASSERT_STREQ(err, "step 1: not a tcp or udp port", "reason");
	/* Nothing listens on port 1: the SYN is still sent, and that is all. */
	ASSERT_EQ(knock_send("127.0.0.1", &p, 1, 0, err, sizeof(err)), 0, "closed port");
}

T_MAIN(T_CASE(test_profile_json), T_CASE(test_send_udp_v4), T_CASE(test_send_udp_v6),
       T_CASE(test_send_tcp), T_CASE(test_send_refused))
