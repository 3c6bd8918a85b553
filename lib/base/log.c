// SPDX-License-Identifier: GPL-2.0
/* Logging to stderr with levels. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "lib/base/log.h"

static enum log_level level = LOG_LVL_INFO;
static const char *const names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum log_level lvl)
{
	level = lvl;
}

enum log_level log_get_level(void)
{
	return level;
}

__attribute__((format(printf, 3, 0))) static void vlog(enum log_level lvl, const char *suffix,
						       const char *fmt, va_list ap)
{
	char ts[32];
	struct timespec now;
	struct tm tm;

	if (lvl > level)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld capgate %s: ", ts, now.tv_nsec / 1000000, names[lvl]);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "%s\n", suffix);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(lvl, "", fmt, ap);
	va_end(ap);
}

void log_errno(int err, const char *fmt, ...)
{
	char suffix[128];
	va_list ap;

	snprintf(suffix, sizeof(suffix), ": %s", strerror(err < 0 ? -err : err));
	va_start(ap, fmt);
	vlog(LOG_LVL_ERR, suffix, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 2, 0))) static int libbpf_print(enum libbpf_print_level plvl,
							      const char *fmt, va_list ap)
{
	enum log_level lvl = plvl == LIBBPF_WARN ? LOG_LVL_INFO : LOG_LVL_DEBUG;
	char buf[1024];
	size_t n;

	if (lvl > level)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	log_msg(lvl, "libbpf: %s", buf);
	return 0;
}

void log_setup_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}

bool log_limit_pass(struct log_limit *l, uint64_t now_ns, uint64_t interval_ns,
		    uint64_t *suppressed)
{
	if (now_ns < l->next_ns) {
		l->suppressed++;
		return false;
	}
	*suppressed = l->suppressed;
	l->suppressed = 0;
	l->next_ns = now_ns + interval_ns;
	return true;
}

uint64_t log_limit_flush(struct log_limit *l, uint64_t now_ns, uint64_t interval_ns)
{
	uint64_t n = 0;

	if (l->suppressed && now_ns >= l->next_ns)
		log_limit_pass(l, now_ns, interval_ns, &n);
	return n;
}
