// SPDX-License-Identifier: GPL-2.0
/* The case runner behind tests/lib/t.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/auth/privsep.h"
#include "tests/lib/t.h"

int t_case_failed_;
const char *t_case_skipped_;
static const char *t_case_name_;

void t_fail_(const char *file, int line, const char *name, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "  %s:%d: %s: %s: ", file, line, t_case_name_, name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	t_case_failed_++;
}

int t_main(const char *suite, const struct t_case *cases, size_t n, int argc, char **argv)
{
	char buf[256];
	const char *base;
	size_t i, failed = 0, skipped = 0;

	/* A test that starts the auth worker starts this program again as the worker. */
	authw_worker_entry(argc, argv);
	snprintf(buf, sizeof(buf), "%s", suite);
	base = basename(buf);
	for (i = 0; i < n; i++) {
		if (argc > 1 && !strstr(cases[i].name, argv[1]))
			continue;
		t_case_name_ = cases[i].name;
		t_case_failed_ = 0;
		t_case_skipped_ = NULL;
		cases[i].fn();
		if (t_case_failed_) {
			printf("FAIL: %s/%s\n", base, cases[i].name);
			failed++;
		} else if (t_case_skipped_) {
			printf("SKIP: %s/%s (%s)\n", base, cases[i].name, t_case_skipped_);
			skipped++;
		} else {
			printf("PASS: %s/%s\n", base, cases[i].name);
		}
		fflush(stdout);
	}
	if (failed)
		return 1;
	return skipped && skipped == n ? 4 : 0;
}

void t_in_netns(const char *(*steps)(void))
{
	const char *why;
	char msg[160] = "";
	int pfd[2], status = 0;
	pid_t pid;
	ssize_t n;

	if (geteuid() != 0) {
		T_SKIP("needs root for a network namespace");
		return;
	}
	if (!ASSERT_EQ(pipe(pfd), 0, "pipe"))
		return;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		why = unshare(CLONE_NEWNET) ? "unshare(CLONE_NEWNET)" : steps();
		if (why) {
			snprintf(msg, sizeof(msg), "%s (errno: %s)", why, strerror(errno));
			if (write(pfd[1], msg, strlen(msg)) < 0)
				_exit(2);
		}
		_exit(why ? 1 : 0);
	}
	close(pfd[1]);
	n = read(pfd[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = 0;
	close(pfd[0]);
	ASSERT_EQ(waitpid(pid, &status, 0), pid, "waitpid");
	if (!ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child"))
		fprintf(stderr, "  failed step: %s\n", msg[0] ? msg : "?");
}
