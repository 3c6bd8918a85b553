/* SPDX-License-Identifier: GPL-2.0 */
/* Backend health checks from the daemon: TCP connect or an HTTP request, rise/fall. */
#ifndef CG_LB_HEALTH_H
#define CG_LB_HEALTH_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum health_kind {
	HEALTH_NONE = 0, /* always up */
	HEALTH_TCP,	 /* a TCP connect that completes */
	HEALTH_HTTP,	 /* METHOD PATH HTTP/1.0 answered with 2xx or 3xx */
};

/* [service] health = ...: how to check, how often, how many results flip the state. */
struct health_cfg {
	uint8_t kind;	      /* enum health_kind */
	char method[16];      /* HTTP: GET, HEAD, ... */
	char path[128];	      /* HTTP: /healthz */
	uint64_t interval_ns; /* health_interval, default 1 s; the deadline of one check too */
	uint32_t rise;	      /* health_rise, default 2: successes that bring a down backend up */
	uint32_t fall;	      /* health_fall, default 2: failures that take an up backend down */
};

/* The result of the last check, for GET /v1/lb. */
enum health_result {
	HEALTH_R_NONE = 0, /* not checked yet */
	HEALTH_R_OK,
	HEALTH_R_REFUSED,    /* connect refused / reset */
	HEALTH_R_TIMEOUT,    /* no answer within the interval */
	HEALTH_R_BAD_STATUS, /* HTTP: not 2xx/3xx (status kept) */
	HEALTH_R_BAD_REPLY,  /* HTTP: not an HTTP status line */
	HEALTH_R_ERROR,	     /* any other socket error (errno kept) */
};

/* One backend's checker: state and the check in flight. Zero it, then health_init. */
struct health {
	struct health_cfg cfg;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char host[64];	  /* Host: header (the backend's address text) */
	bool up;	  /* the state; starts up (a new backend gets flows at once) */
	uint32_t streak;  /* results in a row against the state */
	uint8_t last;	  /* enum health_result of the last finished check */
	int last_detail;  /* HTTP status, or errno */
	uint64_t last_ns; /* CLOCK_MONOTONIC of the last finished check */
	uint64_t next_ns; /* when the next check starts */
	uint64_t deadline_ns;
	int fd; /* -1: no check in flight */
	size_t sent, got;
	char buf[320];		   /* the request (method, path, host fit), then the status line */
	uint64_t checks, failures; /* counters */
};

/* Sets up h for addr; kind NONE: always up, never checks. fd = -1. */
void health_init(struct health *h, const struct health_cfg *cfg, const struct sockaddr *addr,
		 socklen_t addrlen);

/*
 * Runs the checker at now (CLOCK_MONOTONIC ns): starts a check when due,
 * finishes one whose deadline passed (a timeout) or whose socket is ready
 * (revents from the caller's poll on health_pollfd). Returns true if h->up
 * changed. Never blocks.
 */
bool health_step(struct health *h, uint64_t now, short revents);

/* The fd and events to poll for a check in flight; returns false if none. */
bool health_pollfd(const struct health *h, struct pollfd *p);

/* Closes a check in flight. */
void health_stop(struct health *h);

/* "ok", "refused", "timeout", "bad_status", "bad_reply", "error", "none". */
const char *health_result_name(uint8_t r);

/* Parses "http GET /healthz" | "tcp" | "none" into kind/method/path; -EINVAL with *why. */
int health_parse(const char *v, struct health_cfg *cfg, const char **why);

#endif
