// SPDX-License-Identifier: GPL-2.0
/*
 * For the balancer's tests and benchmarks: a small HTTP/1.0-1.1 server that says its name.
 *
 *   http_name ADDR PORT NAME [--threads N]
 *
 * Every request gets 200 and the body "NAME\n"; GET /healthz gets "ok\n"; GET /big?n=BYTES
 * streams BYTES bytes. Keep-alive when the request asks for it (HTTP/1.1 without
 * "Connection: close", or "Connection: keep-alive"), else the connection is closed after the
 * answer. One epoll loop per thread, each on its own SO_REUSEPORT listener when N > 1. Prints
 * "ready" on stdout once every listener listens.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#define REQ_MAX 8192
#define HEAD_MAX 256
#define EVENTS 64

struct conn {
	int fd;
	char in[REQ_MAX];
	size_t inlen;
	char head[HEAD_MAX + 64]; /* the answer's head and small body */
	size_t headlen, headoff;
	unsigned long long big; /* bytes of /big still to send */
	bool keep;
};

static const char *name;
static char filler[65536];

/* header_has REQ NAME VALUE: the request head has "NAME: VALUE" (case-insensitive) */
static bool header_has(const char *req, const char *hname, const char *value)
{
	size_t nl = strlen(hname), vl = strlen(value);
	const char *p = strstr(req, "\r\n");

	while (p && p[2] != '\r') {
		p += 2;
		if (!strncasecmp(p, hname, nl) && p[nl] == ':') {
			const char *v = p + nl + 1;

			while (*v == ' ' || *v == '\t')
				v++;
			if (!strncasecmp(v, value, vl))
				return true;
		}
		p = strstr(p, "\r\n");
	}
	return false;
}

/* answer the complete request at the head of C (ends with \r\n\r\n, NUL-terminated) */
static void answer(struct conn *c)
{
	char method[16], path[1024], version[16];
	const char *body = NULL;
	unsigned long long n = 0;
	char small[HEAD_MAX];

	if (sscanf(c->in, "%15s %1023s %15s", method, path, version) != 3) {
		c->keep = false;
		body = "bad request\n";
		c->headlen = (size_t)snprintf(c->head, sizeof(c->head),
					      "HTTP/1.0 400 Bad Request\r\nContent-Length: %zu\r\n"
					      "Connection: close\r\n\r\n%s",
					      strlen(body), body);
		c->headoff = 0;
		c->big = 0;
		return;
	}
	if (!strcmp(version, "HTTP/1.1"))
		c->keep = !header_has(c->in, "Connection", "close");
	else
		c->keep = header_has(c->in, "Connection", "keep-alive");
	if (!strcmp(path, "/healthz")) {
		body = "ok\n";
	} else if (!strncmp(path, "/big?n=", 7)) {
		n = strtoull(path + 7, NULL, 10);
	} else {
		snprintf(small, sizeof(small), "%s\n", name);
		body = small;
	}
	c->big = body ? 0 : n;
	c->headlen = (size_t)snprintf(c->head, sizeof(c->head),
				      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
				      "Content-Length: %llu\r\nConnection: %s\r\n\r\n%s",
				      body ? (unsigned long long)strlen(body) : n,
				      c->keep ? "keep-alive" : "close", body ? body : "");
	c->headoff = 0;
}

/* send what C has to send: 1 done, 0 would block, -1 error */
static int flush_out(struct conn *c)
{
	ssize_t w;

	while (c->headoff < c->headlen) {
		w = send(c->fd, c->head + c->headoff, c->headlen - c->headoff, MSG_NOSIGNAL);
		if (w < 0)
			return errno == EAGAIN ? 0 : -1;
		c->headoff += (size_t)w;
	}
	while (c->big) {
		size_t len = c->big < sizeof(filler) ? (size_t)c->big : sizeof(filler);

		w = send(c->fd, filler, len, MSG_NOSIGNAL);
		if (w < 0)
			return errno == EAGAIN ? 0 : -1;
		c->big -= (unsigned long long)w;
	}
	return 1;
}

/* the head of a complete request in C's buffer: its length with the blank line, or 0 */
static size_t request_len(struct conn *c)
{
	char *end;

	c->in[c->inlen] = '\0';
	end = strstr(c->in, "\r\n\r\n");
	return end ? (size_t)(end - c->in) + 4 : 0;
}

static void conn_close(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

/* serve C's buffered requests one by one: false once C is closed */
static bool serve(int ep, struct conn *c)
{
	struct epoll_event ev = { .data.ptr = c };
	size_t len;
	int r;

	for (;;) {
		if (c->headoff < c->headlen || c->big) {
			r = flush_out(c);
			if (r < 0) {
				conn_close(ep, c);
				return false;
			}
			if (r == 0) {
				ev.events = EPOLLOUT;
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
				return true;
			}
			if (!c->keep) {
				conn_close(ep, c);
				return false;
			}
			c->headlen = c->headoff = 0;
		}
		len = request_len(c);
		if (!len)
			break;
		answer(c);
		memmove(c->in, c->in + len, c->inlen - len);
		c->inlen -= len;
	}
	ev.events = EPOLLIN;
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	return true;
}

static void on_readable(int ep, struct conn *c)
{
	ssize_t r;

	for (;;) {
		if (c->inlen >= sizeof(c->in) - 1) { /* a head this long is no test's */
			conn_close(ep, c);
			return;
		}
		r = recv(c->fd, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen, 0);
		if (r == 0 || (r < 0 && errno != EAGAIN)) {
			conn_close(ep, c);
			return;
		}
		if (r < 0)
			break;
		c->inlen += (size_t)r;
	}
	serve(ep, c);
}

static void on_accept(int ep, int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct conn *c;
	int fd, one = 1;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
		}
	}
}

static void *loop(void *arg)
{
	int lfd = (int)(long)arg, ep, i, n;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL }, evs[EVENTS];

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) {
		perror("http_name: epoll");
		exit(1);
	}
	for (;;) {
		n = epoll_wait(ep, evs, EVENTS, -1);
		for (i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;

			if (!c)
				on_accept(ep, lfd);
			else if (evs[i].events & EPOLLIN)
				on_readable(ep, c);
			else if (evs[i].events & (EPOLLERR | EPOLLHUP) &&
				 !(evs[i].events & EPOLLOUT))
				conn_close(ep, c);
			else
				serve(ep, c);
		}
	}
	return NULL;
}

static int listen_on(const struct addrinfo *ai, bool reuseport)
{
	int fd, one = 1;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 4096) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE },
			*ai;
	long threads = 1, i;
	pthread_t t;
	int fd, rc;

	if (argc == 6 && !strcmp(argv[4], "--threads"))
		threads = strtol(argv[5], NULL, 10);
	if ((argc != 4 && argc != 6) || threads < 1 || threads > 64 || strlen(argv[3]) > 128) {
		fprintf(stderr, "usage: http_name ADDR PORT NAME [--threads N]\n");
		return 2;
	}
	name = argv[3];
	memset(filler, 'x', sizeof(filler));
	signal(SIGPIPE, SIG_IGN);
	rc = getaddrinfo(argv[1], argv[2], &hints, &ai);
	if (rc) {
		fprintf(stderr, "http_name: %s %s: %s\n", argv[1], argv[2], gai_strerror(rc));
		return 2;
	}
	for (i = 0; i < threads; i++) {
		fd = listen_on(ai, threads > 1);
		if (fd < 0) {
			fprintf(stderr, "http_name: listen %s:%s: %s\n", argv[1], argv[2],
				strerror(errno));
			return 1;
		}
		if (i == threads - 1)
			break;
		if (pthread_create(&t, NULL, loop, (void *)(long)fd)) {
			fprintf(stderr, "http_name: no thread\n");
			return 1;
		}
	}
	freeaddrinfo(ai);
	printf("ready\n");
	fflush(stdout);
	loop((void *)(long)fd);
	return 0;
}
