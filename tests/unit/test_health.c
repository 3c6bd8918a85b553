// SPDX-License-Identifier: GPL-2.0
/* Health checks against real sockets on loopback: TCP, HTTP status, timeouts, rise/fall. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/lb/health.h"
#include "tests/lib/t.h"

#define MS 1000000ULL

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* A listener on 127.0.0.1, any port; *sin gets its address. */
static int listener(struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)sin, sizeof(*sin)) || listen(fd, 16) ||
	    getsockname(fd, (struct sockaddr *)sin, &len))
		return -1;
	return fd;
}

/* Serves `n` connections on fd with `reply` (NULL: accept and say nothing). */
struct server {
	int fd, n;
	const char *reply;
	pthread_t th;
};

static void *serve(void *arg)
{
	struct server *s = arg;
	char buf[512];
	int i, c;

	for (i = 0; i < s->n; i++) {
		c = accept(s->fd, NULL, NULL);
		if (c < 0)
			break;
		if (!s->reply) {
			/* Hold it open, answer nothing, until the checker gives up. */
			while (recv(c, buf, sizeof(buf), 0) > 0)
				;
		} else {
			if (recv(c, buf, sizeof(buf), 0) > 0 &&
			    send(c, s->reply, strlen(s->reply), MSG_NOSIGNAL) < 0)
				break;
		}
		close(c);
	}
	return NULL;
}

/* Runs the checker until its check in flight ends (or 3 s pass); true if the state flipped. */
static bool run_check(struct health *h, uint64_t *now, bool *flipped)
{
	uint64_t end = now_ns() + 3000 * MS;
	struct pollfd p;

	*flipped = health_step(h, *now, 0);
	while (h->fd >= 0 && now_ns() < end) {
		int n = 0;

		if (health_pollfd(h, &p))
			n = poll(&p, 1, 50);
		*now = now_ns();
		if (health_step(h, *now, n > 0 ? p.revents : 0))
			*flipped = true;
	}
	/* The next check is due one interval later: jump there. */
	*now = h->next_ns;
	return h->fd < 0;
}

static struct health_cfg cfg(uint8_t kind, uint64_t interval)
{
	struct health_cfg c = { .kind = kind, .interval_ns = interval, .rise = 2, .fall = 2 };

	if (kind == HEALTH_HTTP) {
		strcpy(c.method, "GET");
		strcpy(c.path, "/healthz");
	}
	return c;
}

static void test_tcp_up_then_refused(void)
{
	struct sockaddr_in sin;
	struct health_cfg c = cfg(HEALTH_TCP, 500 * MS);
	struct health h;
	uint64_t now = now_ns();
	bool flipped;
	int fd = listener(&sin);

	if (!ASSERT_TRUE(fd >= 0, "listener"))
		return;
	health_init(&h, &c, (struct sockaddr *)&sin, sizeof(sin));
	ASSERT_TRUE(h.up, "starts up");
	ASSERT_TRUE(run_check(&h, &now, &flipped) && !flipped, "a check");
	ASSERT_EQ(h.last, HEALTH_R_OK, "connect ok");
	close(fd);
	ASSERT_TRUE(run_check(&h, &now, &flipped) && !flipped, "one failure");
	ASSERT_EQ(h.last, HEALTH_R_REFUSED, "refused");
	ASSERT_TRUE(h.up, "still up after one (fall 2)");
	ASSERT_TRUE(run_check(&h, &now, &flipped) && flipped, "second failure");
	ASSERT_TRUE(!h.up, "down after fall");
	/* Back: rise 2. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_TRUE(fd >= 0 &&
			    !setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int)) &&
			    !bind(fd, (struct sockaddr *)&sin, sizeof(sin)) && !listen(fd, 4),
		    "listen again");
	ASSERT_TRUE(run_check(&h, &now, &flipped) && !flipped && !h.up, "one success: down");
	ASSERT_TRUE(run_check(&h, &now, &flipped) && flipped && h.up, "two: up");
	ASSERT_EQ(h.checks, 5, "checks counted");
	ASSERT_EQ(h.failures, 2, "failures counted");
	health_stop(&h);
	close(fd);
}

static void http_case(const char *reply, uint8_t want, int detail, const char *name)
{
	struct sockaddr_in sin;
	struct health_cfg c = cfg(HEALTH_HTTP, 300 * MS);
	struct server s = { .n = 1, .reply = reply };
	struct health h;
	uint64_t now = now_ns();
	bool flipped;

	s.fd = listener(&sin);
	if (!ASSERT_TRUE(s.fd >= 0 && !pthread_create(&s.th, NULL, serve, &s), name))
		return;
	health_init(&h, &c, (struct sockaddr *)&sin, sizeof(sin));
	ASSERT_TRUE(run_check(&h, &now, &flipped), name);
	if (!ASSERT_EQ(h.last, want, name))
		fprintf(stderr, "%s: got %s\n", name, health_result_name(h.last));
	if (detail >= 0)
		ASSERT_EQ(h.last_detail, detail, name);
	health_stop(&h);
	shutdown(s.fd, SHUT_RDWR);
	pthread_join(s.th, NULL);
	close(s.fd);
}

static void test_http(void)
{
	http_case("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n", HEALTH_R_OK, 200, "200 ok");
	http_case("HTTP/1.0 302 Found\r\n\r\n", HEALTH_R_OK, 302, "302 ok");
	http_case("HTTP/1.1 500 Oops\r\n\r\n", HEALTH_R_BAD_STATUS, 500, "500 bad_status");
	http_case("SSH-2.0-OpenSSH_9.2\r\n", HEALTH_R_BAD_REPLY, -1, "garbage bad_reply");
	http_case(NULL, HEALTH_R_TIMEOUT, -1, "silent timeout");
}

static void test_never_blocks(void)
{
	/* 192.0.2.1 (TEST-NET-1) has no route here or drops: the step must return at once. */
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct health_cfg c = cfg(HEALTH_TCP, 200 * MS);
	struct health h;
	uint64_t t0 = now_ns();

	inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
	health_init(&h, &c, (struct sockaddr *)&sin, sizeof(sin));
	health_step(&h, t0, 0);
	ASSERT_TRUE(now_ns() - t0 < 50 * MS, "health_step returns at once");
	health_stop(&h);
}

static void test_parse(void)
{
	struct health_cfg c = { 0 };
	const char *why = NULL;

	ASSERT_EQ(health_parse("http GET /healthz", &c, &why), 0, "http");
	ASSERT_EQ(c.kind, HEALTH_HTTP, "kind http");
	ASSERT_STREQ(c.method, "GET", "method");
	ASSERT_STREQ(c.path, "/healthz", "path");
	ASSERT_EQ(health_parse("tcp", &c, &why), 0, "tcp");
	ASSERT_EQ(c.kind, HEALTH_TCP, "kind tcp");
	ASSERT_EQ(health_parse("none", &c, &why), 0, "none");
	ASSERT_EQ(c.kind, HEALTH_NONE, "kind none");
	ASSERT_EQ(health_parse("http get /x", &c, &why), -EINVAL, "lower-case method");
	ASSERT_EQ(health_parse("http GET healthz", &c, &why), -EINVAL, "no leading /");
	ASSERT_EQ(health_parse("http GET", &c, &why), -EINVAL, "no path");
	ASSERT_EQ(health_parse("http GET /a b", &c, &why), -EINVAL, "extra word");
	ASSERT_EQ(health_parse("udp", &c, &why), -EINVAL, "unknown kind");
	ASSERT_TRUE(why && *why, "a reason");
}

T_MAIN(T_CASE(test_tcp_up_then_refused), T_CASE(test_http), T_CASE(test_never_blocks),
       T_CASE(test_parse))
