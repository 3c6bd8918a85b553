// SPDX-License-Identifier: GPL-2.0
/* Every build/<name>.bpf.o must pass the verifier; each program size is in its case name. */
#include <errno.h>
#include <glob.h>
#include <libgen.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "tests/lib/t.h"

#ifndef CG_SRCDIR
#define CG_SRCDIR "."
#endif

#define MAX_PROGS 64

/*
 * Objects are opened and loaded once, in main(); each program then becomes a
 * case named "<object>/<program> insns=<n>", so the PASS line shows how big
 * the verifier found it and growth shows up in review (STYLE.md habit 7).
 */
struct prog_result {
	char name[160];
	int err; /* 0, or the negative errno of bpf_object__load */
};

static struct prog_result results[MAX_PROGS];
static int cur;

static void check_loaded(void)
{
	ASSERT_EQ(results[cur].err, 0, "bpf_object__load");
}

static void skip_root(void)
{
	T_SKIP("needs root");
}

static void no_objects(void)
{
	T_SKIP("no build/*.bpf.o");
}

/* Loads @path; fills results[] from *n on; returns the number of programs added. */
static int load_object(const char *path, int n)
{
	char buf[256], *base;
	struct bpf_object *obj;
	struct bpf_program *prog;
	int err, added = 0;

	snprintf(buf, sizeof(buf), "%s", path);
	base = basename(buf);
	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		snprintf(results[n].name, sizeof(results[n].name), "%s open", base);
		results[n].err = -errno;
		return 1;
	}
	err = bpf_object__load(obj);
	bpf_object__for_each_program(prog, obj)
	{
		if (n + added >= MAX_PROGS)
			break;
		snprintf(results[n + added].name, sizeof(results[n + added].name),
			 "%s/%s insns=%zu", base, bpf_program__name(prog),
			 bpf_program__insn_cnt(prog));
		results[n + added].err = err;
		added++;
	}
	bpf_object__close(obj);
	return added;
}

int main(int argc, char **argv)
{
	struct t_case tc = { "", check_loaded };
	glob_t g = { 0 };
	int n = 0, rc = 0;
	size_t i;

	if (geteuid() != 0) {
		const struct t_case sc = T_CASE(skip_root);

		return t_main(__FILE__, &sc, 1, argc, argv);
	}
	if (glob(CG_SRCDIR "/build/*.bpf.o", 0, NULL, &g) || g.gl_pathc == 0) {
		const struct t_case sc = T_CASE(no_objects);

		globfree(&g);
		return t_main(__FILE__, &sc, 1, argc, argv);
	}
	for (i = 0; i < g.gl_pathc && n < MAX_PROGS; i++)
		n += load_object(g.gl_pathv[i], n);
	globfree(&g);

	for (cur = 0; cur < n; cur++) {
		tc.name = results[cur].name;
		if (t_main(__FILE__, &tc, 1, argc, argv) == 1)
			rc = 1;
	}
	return rc;
}
