// SPDX-License-Identifier: GPL-2.0
/* Device groups set through the API: set, replace, remove, persistence, a damaged file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/auth/registry.h"
#include "tests/lib/t.h"

static char dir[64], path[96];

static bool fresh(void)
{
	strcpy(dir, "/tmp/capgate-registry-XXXXXX");
	if (!mkdtemp(dir))
		return false;
	snprintf(path, sizeof(path), "%s/devices.json", dir);
	return true;
}

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

static void test_set_get_persist(void)
{
	const char *const g1[] = { "sensors", "floor2", "sensors" }, *const g2[] = { "cams" };
	const char *bad[] = { "ok", "no/slash" }, *out[4];
	struct registry *r, *t;
	char err[256] = "", *text;
	json_t *j;

	if (!ASSERT_TRUE(fresh(), "tmp dir"))
		return;
	r = registry_new(path);
	if (!ASSERT_TRUE(r != NULL, "new"))
		goto out;
	ASSERT_EQ(registry_load(r, err, sizeof(err)), 0, "no file: empty");
	ASSERT_EQ(registry_groups(r, "dev1", out, 4), 0, "none yet");
	ASSERT_EQ(registry_set(r, "dev1", g1, 3), 0, "set");
	ASSERT_EQ(registry_set(r, "dev2", g2, 1), 0, "set dev2");
	if (ASSERT_EQ(registry_groups(r, "dev1", out, 4), 2, "duplicates once")) {
		ASSERT_STREQ(out[0], "sensors", "first");
		ASSERT_STREQ(out[1], "floor2", "second");
	}
	ASSERT_EQ(registry_groups(r, "dev1", out, 1), 1, "no more than max");
	ASSERT_EQ(registry_set(r, "dev1", bad, 2), -EINVAL, "a bad group");
	ASSERT_EQ(registry_set(r, "a/b", g2, 1), -EINVAL, "a bad device");
	ASSERT_EQ(registry_groups(r, "dev1", out, 4), 2, "unchanged by a refusal");
	ASSERT_EQ(registry_set(r, "dev3", NULL, 0), -ENOENT, "remove what is not there");
	j = registry_json(r);
	text = json_dumps(j, JSON_COMPACT);
	ASSERT_STREQ(text, "{\"dev1\":[\"sensors\",\"floor2\"],\"dev2\":[\"cams\"]}", "json");
	free(text);
	json_decref(j);

	t = registry_new(path);
	ASSERT_EQ(registry_load(t, err, sizeof(err)), 0, err);
	ASSERT_EQ(registry_groups(t, "dev1", out, 4), 2, "reloaded");
	ASSERT_EQ(registry_set(t, "dev1", g2, 1), 0, "replace");
	ASSERT_EQ(registry_set(t, "dev2", NULL, 0), 0, "remove");
	registry_free(t);
	t = registry_new(path);
	ASSERT_EQ(registry_load(t, err, sizeof(err)), 0, err);
	if (ASSERT_EQ(registry_groups(t, "dev1", out, 4), 1, "replaced on disk"))
		ASSERT_STREQ(out[0], "cams", "the new group");
	ASSERT_EQ(registry_groups(t, "dev2", out, 4), 0, "removed on disk");
	registry_free(t);
out:
	registry_free(r);
	cleanup();
}

static void test_save_fails_and_corrupt(void)
{
	static const char *const files[] = {
		"{\"version\":1,\"devices\":",
		"{\"version\":1,\"devices\":{\"d\":[]}}",
		"{\"version\":1,\"devices\":{\"d\":[\"a/b\"]}}",
		"{\"version\":1,\"devices\":{\"d\":[1]}}",
		"{\"version\":2,\"devices\":{}}",
	};
	const char *const g[] = { "x" }, *out[1];
	struct registry *r;
	char p[128], err[256];
	size_t i;
	FILE *f;

	if (!ASSERT_TRUE(fresh(), "tmp dir"))
		return;
	snprintf(p, sizeof(p), "%s/missing/devices.json", dir);
	r = registry_new(p);
	ASSERT_EQ(registry_set(r, "dev1", g, 1), -EIO, "cannot save");
	ASSERT_EQ(registry_groups(r, "dev1", out, 1), 0, "not set");
	registry_free(r);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		f = fopen(path, "w");
		if (f) {
			fputs(files[i], f);
			fclose(f);
		}
		r = registry_new(path);
		err[0] = '\0';
		ASSERT_EQ(registry_load(r, err, sizeof(err)), -EINVAL, files[i]);
		ASSERT_TRUE(strstr(err, path) != NULL, "the reason names the file");
		registry_free(r);
	}
	cleanup();
}

T_MAIN(T_CASE(test_set_get_persist), T_CASE(test_save_fails_and_corrupt))
