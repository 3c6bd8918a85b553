/* SPDX-License-Identifier: GPL-2.0 */
/* Minimal test harness: table of cases, ASSERT_* that return bool (test_progs style). */
#ifndef CG_TESTS_T_H
#define CG_TESTS_T_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Each case is a void function; it fails if any ASSERT_* in it failed. The
 * runner prints one line per case, "PASS: file/name", "FAIL: ..." or
 * "SKIP: ... (reason)", which tests/run.sh counts. Exit: 0 all passed or
 * skipped, 1 a failure, 4 everything skipped.
 */
struct t_case {
	const char *name;
	void (*fn)(void);
};
#define T_CASE(fn)      \
	{               \
#fn, fn \
	}

extern int t_case_failed_;
extern const char *t_case_skipped_;

void t_fail_(const char *file, int line, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int t_main(const char *suite, const struct t_case *cases, size_t n, int argc, char **argv);

/* Mark the running case skipped (with CI=true the runner counts it as failed). */
#define T_SKIP(reason) (t_case_skipped_ = (reason))

/*
 * Runs steps in a forked child inside a fresh network namespace
 * (unshare(CLONE_NEWNET)); steps returns NULL, or the step that failed, which
 * fails the case with errno's text. Without root the case is skipped.
 */
void t_netns(const char *(*steps)(void));

#define ASSERT_TRUE(cond, name)                                                    \
	({                                                                         \
		bool ok_ = (cond);                                                 \
		if (!ok_)                                                          \
			t_fail_(__FILE__, __LINE__, (name), "%s is false", #cond); \
		ok_;                                                               \
	})

#define ASSERT_EQ(actual, expected, name)                                                   \
	({                                                                                  \
		long long a_ = (long long)(actual), e_ = (long long)(expected);             \
		bool ok_ = a_ == e_;                                                        \
		if (!ok_)                                                                   \
			t_fail_(__FILE__, __LINE__, (name), "got %lld, want %lld", a_, e_); \
		ok_;                                                                        \
	})

#define ASSERT_STREQ(actual, expected, name)                                           \
	({                                                                             \
		const char *a_ = (actual), *e_ = (expected);                           \
		bool ok_ = a_ && e_ && strcmp(a_, e_) == 0;                            \
		if (!ok_)                                                              \
			t_fail_(__FILE__, __LINE__, (name), "got \"%s\", want \"%s\"", \
				a_ ? a_ : "(null)", e_ ? e_ : "(null)");               \
		ok_;                                                                   \
	})

#define ASSERT_MEMEQ(actual, expected, len, name)                                               \
	({                                                                                      \
		bool ok_ = memcmp((actual), (expected), (len)) == 0;                            \
		if (!ok_)                                                                       \
			t_fail_(__FILE__, __LINE__, (name), "%zu bytes differ", (size_t)(len)); \
		ok_;                                                                            \
	})

#define T_MAIN(...)                                                                              \
	int main(int argc, char **argv)                                                          \
	{                                                                                        \
		static const struct t_case cases_[] = { __VA_ARGS__ };                           \
		return t_main(__FILE__, cases_, sizeof(cases_) / sizeof(cases_[0]), argc, argv); \
	}

#endif
