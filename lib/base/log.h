/* SPDX-License-Identifier: GPL-2.0 */
/* Logging to stderr with levels; libbpf's output goes through it one level lower. */
#ifndef CG_BASE_LOG_H
#define CG_BASE_LOG_H

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

/* Routes libbpf's messages into log_msg, one level lower than libbpf's own. */
void log_setup_libbpf(void);

#endif
