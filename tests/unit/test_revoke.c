// SPDX-License-Identifier: GPL-2.0
/* Revocations: add, delete, duplicates, matching, persistence, a damaged file, many entries. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/auth/revoke.h"
#include "tests/lib/t.h"

static char dir[64], path[96];

static bool fresh(void)
{
	strcpy(dir, "/tmp/capgate-revoke-XXXXXX");
	if (!mkdtemp(dir))
		return false;
	snprintf(path, sizeof(path), "%s/revocations.json", dir);
	return true;
}

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

static struct revocation dev(const char *d, const char *app)
{
	struct revocation r = { .kind = app ? REVOKE_APP : REVOKE_DEVICE };

	snprintf(r.device, sizeof(r.device), "%s", d);
	if (app)
		snprintf(r.app, sizeof(r.app), "%s", app);
	return r;
}

static struct revocation serial(const char *hex)
{
	struct revocation r = { .kind = REVOKE_SERIAL };

	revoke_serial_parse(hex, r.serial, &r.serial_len);
	return r;
}

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_serial_parse(void)
{
	uint8_t s[CG_SERIAL_MAX], n = 0;
	char hex[41];

	ASSERT_EQ(revoke_serial_parse("0a1B", s, &n), 0, "parse");
	ASSERT_EQ(n, 2, "two bytes");
	ASSERT_TRUE(s[0] == 0x0a && s[1] == 0x1b, "bytes");
	ASSERT_EQ(revoke_serial_parse("00abc", s, &n), 0, "odd, leading zeros");
	ASSERT_EQ(n, 2, "leading zero bytes dropped");
	ASSERT_TRUE(s[0] == 0x0a && s[1] == 0xbc, "odd bytes");
	revoke_serial_format(s, n, hex, sizeof(hex));
	ASSERT_STREQ(hex, "0abc", "format");
	ASSERT_EQ(revoke_serial_parse("0000", s, &n), 0, "zero");
	ASSERT_EQ(n, 1, "zero keeps a byte");
	ASSERT_EQ(revoke_serial_parse("", s, &n), -EINVAL, "empty");
	ASSERT_EQ(revoke_serial_parse("0x12", s, &n), -EINVAL, "not hex");
	ASSERT_EQ(revoke_serial_parse("00112233445566778899aabbccddeeff0011223344", s, &n), -EINVAL,
		  "42 digits");
}

static void test_add_match_del_persist(void)
{
	struct revoke_store *s, *t;
	struct revocation r, out;
	const uint8_t ser[] = { 0x00, 0x0a, 0x1b };
	char err[256] = "";
	uint32_t id_app;

	if (!ASSERT_TRUE(fresh(), "tmp dir"))
		return;
	s = revoke_store_new(path);
	if (!ASSERT_TRUE(s != NULL, "new"))
		goto out;
	ASSERT_EQ(revoke_store_load(s, err, sizeof(err)), 0, "no file: empty");
	r = dev("dev1", NULL);
	snprintf(r.note, sizeof(r.note), "stolen laptop");
	ASSERT_EQ(revoke_add(s, &r, 1000, &out), 0, "add device");
	ASSERT_EQ(out.id, 1, "first id");
	ASSERT_EQ(out.time_s, 1000, "time");
	r = dev("dev2", "cam");
	ASSERT_EQ(revoke_add(s, &r, 1001, &out), 0, "add app");
	id_app = out.id;
	r = serial("0a1b");
	ASSERT_EQ(revoke_add(s, &r, 1002, &out), 0, "add serial");
	ASSERT_EQ(revoke_add(s, &r, 1003, &out), -EEXIST, "duplicate serial");
	ASSERT_EQ(out.id, 3, "duplicate names the entry there");
	r = dev("dev1", NULL);
	ASSERT_EQ(revoke_add(s, &r, 1003, NULL), -EEXIST, "duplicate device");
	r = dev("bad/name", NULL);
	ASSERT_EQ(revoke_add(s, &r, 1003, NULL), -EINVAL, "bad name");
	ASSERT_EQ(revoke_count(s), 3, "three");

	ASSERT_TRUE(revoke_match(s, "dev1", "", NULL, 0) != NULL, "device: own cert");
	ASSERT_TRUE(revoke_match(s, "dev1", "any", NULL, 0) != NULL, "device: its apps");
	ASSERT_TRUE(revoke_match(s, "dev2", "cam", NULL, 0) != NULL, "app");
	ASSERT_TRUE(revoke_match(s, "dev2", "", NULL, 0) == NULL, "app: not the device's own");
	ASSERT_TRUE(revoke_match(s, "dev2", "other", NULL, 0) == NULL, "app: not another app");
	ASSERT_TRUE(revoke_match(s, "dev3", "", ser, sizeof(ser)) != NULL,
		    "serial with a leading zero byte");
	ASSERT_TRUE(revoke_match(s, "dev3", "", ser + 1, 1) == NULL, "another serial");
	ASSERT_TRUE(revoke_device(s, "dev1") && !revoke_device(s, "dev2"), "revoke_device");

	/* What a restart sees. */
	t = revoke_store_new(path);
	ASSERT_EQ(revoke_store_load(t, err, sizeof(err)), 0, "reload");
	ASSERT_EQ(revoke_count(t), 3, "reloaded three");
	ASSERT_TRUE(revoke_match(t, "dev2", "cam", NULL, 0) != NULL, "reloaded app");
	ASSERT_TRUE(revoke_match(t, "x", "", ser + 1, 2) != NULL, "reloaded serial");
	ASSERT_EQ(revoke_del(t, id_app, &out), 0, "del");
	ASSERT_STREQ(out.app, "cam", "del names it");
	ASSERT_EQ(revoke_del(t, id_app, NULL), -ENOENT, "del again");
	ASSERT_TRUE(revoke_match(t, "dev2", "cam", NULL, 0) == NULL, "deleted app");
	ASSERT_TRUE(revoke_match(t, "dev1", "", NULL, 0) != NULL, "others stay");
	r = dev("dev4", NULL);
	ASSERT_EQ(revoke_add(t, &r, 1004, &out), 0, "add after del");
	ASSERT_EQ(out.id, 4, "ids are not reused");
	revoke_store_free(t);
	t = revoke_store_new(path);
	ASSERT_EQ(revoke_store_load(t, err, sizeof(err)), 0, "reload 2");
	ASSERT_EQ(revoke_count(t), 3, "reloaded after del");
	ASSERT_TRUE(revoke_match(t, "dev2", "cam", NULL, 0) == NULL, "delete persisted");
	r = dev("dev5", NULL);
	ASSERT_EQ(revoke_add(t, &r, 1005, &out), 0, "add after reload");
	ASSERT_EQ(out.id, 5, "next id persisted");
	revoke_store_free(t);
out:
	revoke_store_free(s);
	cleanup();
}

/* A store that cannot save changes nothing. */
static void test_save_fails(void)
{
	struct revoke_store *s;
	struct revocation r = dev("dev1", NULL);
	char p[128];

	if (!ASSERT_TRUE(fresh(), "tmp dir"))
		return;
	snprintf(p, sizeof(p), "%s/missing/revocations.json", dir);
	s = revoke_store_new(p);
	ASSERT_EQ(revoke_add(s, &r, 1, NULL), -EIO, "cannot save");
	ASSERT_EQ(revoke_count(s), 0, "not added");
	ASSERT_TRUE(!revoke_device(s, "dev1"), "not effective");
	revoke_store_free(s);
	cleanup();
}

static void test_corrupt(void)
{
	static const char *const bad[] = {
		"{\"version\":1,\"next_id\":2,\"revocations\":[",
		"{\"version\":2,\"next_id\":2,\"revocations\":[]}",
		"{\"version\":1,\"next_id\":2,\"revocations\":[{\"id\":1,\"time\":1}]}",
		"{\"version\":1,\"next_id\":2,\"revocations\":[{\"id\":1,\"time\":1,"
		"\"device\":\"a/b\"}]}",
		"{\"version\":1,\"next_id\":2,\"revocations\":[{\"id\":1,\"time\":1,"
		"\"serial\":\"zz\"}]}",
		"{\"version\":1,\"next_id\":3,\"revocations\":[{\"id\":1,\"time\":1,"
		"\"device\":\"d\"},{\"id\":2,\"time\":1,\"device\":\"d\"}]}",
		"{\"version\":1,\"next_id\":2,\"revocations\":[{\"id\":2,\"time\":1,"
		"\"device\":\"d\"}]}",
		"{\"version\":1,\"next_id\":2,\"revocations\":[{\"id\":1,\"time\":1,"
		"\"device\":\"d\",\"extra\":1}]}",
	};
	struct revoke_store *s;
	char err[256];
	size_t i;

	if (!ASSERT_TRUE(fresh(), "tmp dir"))
		return;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(bad[i]);
		s = revoke_store_new(path);
		err[0] = '\0';
		ASSERT_TRUE(revoke_store_load(s, err, sizeof(err)) < 0, bad[i]);
		ASSERT_TRUE(strstr(err, path) != NULL, "the reason names the file");
		ASSERT_EQ(revoke_count(s), 0, "nothing loaded");
		revoke_store_free(s);
	}
	write_file("{\"version\":1,\"next_id\":9,\"revocations\":[{\"id\":3,\"time\":5,"
		   "\"device\":\"d\",\"app\":\"a\",\"note\":\"n\"},{\"id\":4,\"time\":5,"
		   "\"serial\":\"ff\"}]}");
	s = revoke_store_new(path);
	ASSERT_EQ(revoke_store_load(s, err, sizeof(err)), 0, "a good file");
	ASSERT_TRUE(revoke_match(s, "d", "a", NULL, 0) != NULL, "its app entry");
	revoke_store_free(s);
	cleanup();
}

/* A fleet's worth: thousands of entries stay found after deletes move the table. */
static void test_many(void)
{
	struct revoke_store *s;
	struct revocation r;
	char name[32];
	int i, found = 0;

	if (!ASSERT_TRUE(fresh(), "tmp dir"))
		return;
	s = revoke_store_new(path);
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "dev%d", i);
		r = dev(name, NULL);
		if (revoke_add(s, &r, 1, NULL))
			break;
	}
	ASSERT_EQ(revoke_count(s), 1000, "1000 added");
	ASSERT_EQ(revoke_del(s, 1, NULL), 0, "del the first");
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "dev%d", i);
		found += revoke_device(s, name);
	}
	ASSERT_EQ(found, 999, "every other one found");
	ASSERT_TRUE(!revoke_device(s, "dev0"), "the deleted one not");
	revoke_store_free(s);
	cleanup();
}

T_MAIN(T_CASE(test_serial_parse), T_CASE(test_add_match_del_persist), T_CASE(test_save_fails),
       T_CASE(test_corrupt), T_CASE(test_many))
