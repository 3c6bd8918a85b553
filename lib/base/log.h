/* SPDX-License-Identifier: GPL-2.0 */
/* Logging to stderr with levels; libbpf's output goes through it one level lower. */
#ifndef CG_BASE_LOG_H
#define CG_BASE_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level {
	LOG_LVL_ERR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* Messages above this level are dropped. Default LOG_LVL_INFO. */
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like log_err, with ": strerror(-err)" appended. */
void log_errno(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/*
 * At most one line per interval for one kind of message, the others counted
 * (the kernel's printk_ratelimit with a burst of one, "N suppressed").
 * Zero-initialised is ready: the first line passes.
 */
struct log_limit {
	uint64_t next_ns;    /* no line before this time */
	uint64_t suppressed; /* lines held back since the last one that passed */
};

/*
 * True if a line may be logged at now_ns: then *suppressed is the count held
 * back since the last line that passed (to say with this one) and restarts.
 * False: the line is counted as held back.
 */
bool log_limit_pass(struct log_limit *l, uint64_t now_ns, uint64_t interval_ns,
		    uint64_t *suppressed);

/*
 * For a periodic tick: the count held back if the interval since the last
 * line is over (the caller logs a summary, which counts as the line), else 0.
 */
uint64_t log_limit_flush(struct log_limit *l, uint64_t now_ns, uint64_t interval_ns);

/* Routes libbpf's messages into log_msg, one level lower than libbpf's own. */
void log_setup_libbpf(void);

#endif
