// SPDX-License-Identifier: GPL-2.0
/* Backend health checks: a non-blocking TCP connect or HTTP request, with rise/fall. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/lb/health.h"

void health_init(struct health *h, const struct health_cfg *cfg, const struct sockaddr *addr,
		 socklen_t addrlen)
{
	memset(h, 0, sizeof(*h));
	h->cfg = *cfg;
	if (addrlen > sizeof(h->addr))
		addrlen = sizeof(h->addr);
	memcpy(&h->addr, addr, addrlen);
	h->addrlen = addrlen;
	h->up = true;
	h->fd = -1;
	if (addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, h->host,
			  sizeof(h->host));
	else if (addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, h->host,
			  sizeof(h->host));
}

void health_stop(struct health *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}

/* Records a finished check; true if the state flipped. */
static bool finish(struct health *h, uint64_t now, uint8_t result, int detail)
{
	bool ok = result == HEALTH_R_OK;
	uint32_t need = h->up ? h->cfg.fall : h->cfg.rise;

	health_stop(h);
	h->last = result;
	h->last_detail = detail;
	h->last_ns = now;
	h->checks++;
	if (!ok)
		h->failures++;
	if (ok == h->up) {
		h->streak = 0;
		return false;
	}
	if (++h->streak < (need ? need : 1))
		return false;
	h->up = ok;
	h->streak = 0;
	return true;
}

static bool start(struct health *h, uint64_t now)
{
	int fd = socket(h->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	h->next_ns = now + h->cfg.interval_ns;
	h->deadline_ns = now + h->cfg.interval_ns;
	h->sent = h->got = 0;
	if (fd < 0)
		return finish(h, now, HEALTH_R_ERROR, errno);
	if (connect(fd, (struct sockaddr *)&h->addr, h->addrlen) && errno != EINPROGRESS) {
		int e = errno;

		close(fd);
		return finish(h, now, e == ECONNREFUSED ? HEALTH_R_REFUSED : HEALTH_R_ERROR, e);
	}
	h->fd = fd;
	if (h->cfg.kind == HEALTH_HTTP)
		snprintf(h->buf, sizeof(h->buf),
			 "%s %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n"
			 "User-Agent: capgate\r\n\r\n",
			 h->cfg.method, h->cfg.path, h->host);
	return false;
}

/* The status line "HTTP/1.x NNN": its code, or -1. */
static int status_code(const char *s, size_t n)
{
	if (n < 12 || memcmp(s, "HTTP/1.", 7) || s[8] != ' ' || s[9] < '1' || s[9] > '5' ||
	    s[10] < '0' || s[10] > '9' || s[11] < '0' || s[11] > '9')
		return -1;
	return (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
}

static bool progress(struct health *h, uint64_t now, short revents)
{
	int err = 0;
	socklen_t el = sizeof(err);
	ssize_t r;

	if (h->sent == 0 && h->got == 0) {
		if (getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			err = errno;
		if (err)
			return finish(h, now,
				      err == ECONNREFUSED || err == ECONNRESET ? HEALTH_R_REFUSED
									       : HEALTH_R_ERROR,
				      err);
		if (!(revents & (POLLOUT | POLLIN)))
			return false;
		if (h->cfg.kind == HEALTH_TCP)
			return finish(h, now, HEALTH_R_OK, 0);
	}
	if (h->cfg.kind != HEALTH_HTTP)
		return false;
	if (h->sent < strlen(h->buf)) {
		r = send(h->fd, h->buf + h->sent, strlen(h->buf) - h->sent, MSG_NOSIGNAL);
		if (r < 0 && errno != EAGAIN)
			return finish(h, now,
				      errno == ECONNRESET ? HEALTH_R_REFUSED : HEALTH_R_ERROR,
				      errno);
		if (r > 0)
			h->sent += (size_t)r;
		if (h->sent < strlen(h->buf))
			return false;
		/* The request is out: the buffer now collects the status line. */
		h->buf[0] = '\0';
		h->got = 0;
		return false;
	}
	if (!(revents & (POLLIN | POLLHUP | POLLERR)))
		return false;
	r = recv(h->fd, h->buf + h->got, sizeof(h->buf) - 1 - h->got, 0);
	if (r < 0)
		return errno == EAGAIN
			       ? false
			       : finish(h, now,
					errno == ECONNRESET ? HEALTH_R_REFUSED : HEALTH_R_ERROR,
					errno);
	h->got += (size_t)r;
	if (h->got >= 12 || r == 0) {
		int code = status_code(h->buf, h->got);

		if (code < 0)
			return finish(h, now, HEALTH_R_BAD_REPLY, 0);
		return finish(h, now, code >= 200 && code < 400 ? HEALTH_R_OK : HEALTH_R_BAD_STATUS,
			      code);
	}
	return false;
}

bool health_step(struct health *h, uint64_t now, short revents)
{
	if (h->cfg.kind == HEALTH_NONE)
		return false;
	if (h->fd >= 0) {
		if (revents && progress(h, now, revents))
			return true;
		if (h->fd >= 0 && now >= h->deadline_ns)
			return finish(h, now, HEALTH_R_TIMEOUT, 0);
		return false;
	}
	if (now < h->next_ns)
		return false;
	return start(h, now);
}

bool health_pollfd(const struct health *h, struct pollfd *p)
{
	if (h->fd < 0)
		return false;
	p->fd = h->fd;
	p->events = h->cfg.kind == HEALTH_HTTP && h->sent >= strlen(h->buf) && h->sent
			    ? POLLIN
			    : POLLOUT | POLLIN;
	p->revents = 0;
	return true;
}

const char *health_result_name(uint8_t r)
{
	static const char *const names[] = {
		[HEALTH_R_NONE] = "none",
		[HEALTH_R_OK] = "ok",
		[HEALTH_R_REFUSED] = "refused",
		[HEALTH_R_TIMEOUT] = "timeout",
		[HEALTH_R_BAD_STATUS] = "bad_status",
		[HEALTH_R_BAD_REPLY] = "bad_reply",
		[HEALTH_R_ERROR] = "error",
	};

	return r < sizeof(names) / sizeof(names[0]) ? names[r] : "none";
}

int health_parse(const char *v, struct health_cfg *cfg, const char **why)
{
	char method[sizeof(cfg->method)], path[sizeof(cfg->path)], extra;
	size_t i;

	if (!strcmp(v, "none") || !strcmp(v, "tcp")) {
		cfg->kind = v[0] == 'n' ? HEALTH_NONE : HEALTH_TCP;
		return 0;
	}
	if (strncmp(v, "http ", 5) || sscanf(v + 5, "%15s %127s %c", method, path, &extra) != 2) {
		*why = "expected http METHOD PATH, tcp or none";
		return -EINVAL;
	}
	for (i = 0; method[i]; i++)
		if (method[i] < 'A' || method[i] > 'Z') {
			*why = "the HTTP method must be upper-case letters (GET, HEAD)";
			return -EINVAL;
		}
	if (path[0] != '/') {
		*why = "the HTTP path must start with /";
		return -EINVAL;
	}
	for (i = 0; path[i]; i++)
		if ((unsigned char)path[i] <= 0x20 || (unsigned char)path[i] >= 0x7f) {
			*why = "the HTTP path has a control character";
			return -EINVAL;
		}
	cfg->kind = HEALTH_HTTP;
	strcpy(cfg->method, method);
	strcpy(cfg->path, path);
	return 0;
}
