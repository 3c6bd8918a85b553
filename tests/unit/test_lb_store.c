// SPDX-License-Identifier: GPL-2.0
/* lb.json: a round trip, a missing file, files that are refused and leave the store as it was. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/lb/store.h"
#include "tests/lib/t.h"

static char dir[] = "/tmp/cg-lbstore.XXXXXX", path[128];

static void be(const char *s, struct lb_be *out)
{
	const char *why = "";

	if (lb_be_parse(s, true, out, &why))
		abort();
}

static bool write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return false;
	fputs(text, f);
	return fclose(f) == 0;
}

static void test_round_trip(void)
{
	struct lb_store s = { 0 }, r = { 0 };
	struct lb_be cfg[2], eff[3];
	const struct lb_store_svc *v;
	char err[256] = "";

	be("10.10.2.2:80", &cfg[0]);
	be("10.10.2.3:80@2", &cfg[1]);
	eff[0] = cfg[0];
	eff[1] = cfg[1];
	eff[1].drain = true;
	be("[fd00:2::5]:8080@0", &eff[2]);
	if (!ASSERT_EQ(lb_store_set(&s, "web", cfg, 2, eff, 3), 0, "set") ||
	    !ASSERT_EQ(lb_store_set(&s, "dns", cfg, 1, eff, 0), 0, "set an empty list"))
		return;
	ASSERT_EQ(lb_store_save(&s, path), 0, "save");
	ASSERT_EQ(lb_store_load(&r, path, err, sizeof(err)), 0, err);
	ASSERT_EQ(r.n, 2, "two services");
	v = lb_store_find(&r, "web");
	if (ASSERT_TRUE(v != NULL, "web")) {
		ASSERT_EQ(v->ncfg, 2, "config list");
		ASSERT_EQ(v->nbe, 3, "effective list");
		ASSERT_EQ(v->cfg[1].weight, 2, "config weight");
		ASSERT_TRUE(v->be[1].drain && !v->be[0].drain, "drain kept");
		ASSERT_TRUE(lb_be_same(&v->be[2], &eff[2]) && v->be[2].weight == 0,
			    "IPv6, weight 0");
	}
	v = lb_store_find(&r, "dns");
	ASSERT_TRUE(v && v->nbe == 0 && v->ncfg == 1, "dns: every backend removed");
	/* set replaces a service's lists */
	ASSERT_EQ(lb_store_set(&r, "web", cfg, 1, cfg, 1), 0, "replace");
	v = lb_store_find(&r, "web");
	ASSERT_TRUE(v && v->nbe == 1 && v->ncfg == 1 && r.n == 2, "replaced, not added");
	lb_store_free(&s);
	lb_store_free(&r);
	unlink(path);
}

static void test_missing_is_empty(void)
{
	struct lb_store s = { 0 };
	char err[256] = "";

	ASSERT_EQ(lb_store_load(&s, path, err, sizeof(err)), 0, "missing file");
	ASSERT_EQ(s.n, 0, "empty");
}

static void test_refused(void)
{
	static const char *const bad[] = {
		"{",
		"[]",
		"{\"version\":2,\"services\":{}}",
		"{\"version\":1}",
		"{\"version\":1,\"services\":{\"a b\":{\"config\":[],\"backends\":[]}}}",
		"{\"version\":1,\"services\":{\"web\":{\"config\":[\"10.0.0.1\"],\"backends\":[]}}"
		"}",
		"{\"version\":1,\"services\":{\"web\":{\"config\":[],\"backends\":[{\"address\":"
		"\"10.0.0.1:80\",\"weight\":101,\"drain\":false}]}}}",
		"{\"version\":1,\"services\":{\"web\":{\"config\":[],\"backends\":[{\"address\":"
		"\"10.0.0.1:80\",\"weight\":1}]}}}",
		"{\"version\":1,\"services\":{\"web\":{\"config\":[],\"backends\":[{\"address\":"
		"\"10.0.0.1:80\",\"weight\":1,\"drain\":false},{\"address\":\"10.0.0.1:80\","
		"\"weight\":2,\"drain\":false}]}}}",
		"{\"version\":1,\"services\":{\"web\":{\"config\":[],\"backends\":[]},"
		"\"web\":{\"config\":[],\"backends\":[]}}}",
	};
	struct lb_store s = { 0 };
	struct lb_be b;
	char err[256];
	size_t i;

	be("10.0.0.9:80", &b);
	if (!ASSERT_EQ(lb_store_set(&s, "kept", &b, 1, &b, 1), 0, "set"))
		return;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (!ASSERT_TRUE(write_file(bad[i]), "write"))
			break;
		ASSERT_EQ(lb_store_load(&s, path, err, sizeof(err)), -EINVAL, bad[i]);
		ASSERT_TRUE(strncmp(err, path, strlen(path)) == 0 && strlen(err) > strlen(path) + 2,
			    "the reason names the file");
		ASSERT_TRUE(s.n == 1 && lb_store_find(&s, "kept"), "the store is as it was");
	}
	lb_store_free(&s);
	unlink(path);
}

static void test_setup(void)
{
	if (!ASSERT_TRUE(mkdtemp(dir) != NULL, "mkdtemp"))
		abort();
	snprintf(path, sizeof(path), "%s/lb.json", dir);
}

static void test_cleanup(void)
{
	unlink(path);
	ASSERT_EQ(rmdir(dir), 0, "temp dir empty");
}

T_MAIN(T_CASE(test_setup), T_CASE(test_round_trip), T_CASE(test_missing_is_empty),
       T_CASE(test_refused), T_CASE(test_cleanup))
