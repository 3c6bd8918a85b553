// SPDX-License-Identifier: GPL-2.0
/* Rule store: ids, slots, -EEXIST/-ENOSPC, atomic save, reload, every corrupt-file refusal. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi/fw.h"
#include "lib/datapath/fw.h"
#include "tests/lib/t.h"

static struct cidr P(const char *s) {
	struct cidr c = { 0 };
	const char *why;

	if (cidr_parse(s, &c, &why))
		abort();
	return c;
}

static void
test_add_del_find(void)
{
	struct fw_store s;
	struct fw_rule r, d;
	struct cidr c;

	fw_store_init(&s);
	c = P("192.168.3.0/24");
	ASSERT_EQ(fw_store_add(&s, &c, FW_ACT_DROP, &r), 0, "add 1");
	ASSERT_EQ(r.id, 1, "first id");
	ASSERT_EQ(r.slot, 0, "first slot");
	c = P("2001:db8::/32");
	ASSERT_EQ(fw_store_add(&s, &c, FW_ACT_ALLOW, &r), 0, "add 2");
	ASSERT_EQ(r.id, 2, "second id");
	ASSERT_EQ(r.slot, 1, "second slot");
	c = P("10.0.0.0/8");
	ASSERT_EQ(fw_store_add(&s, &c, FW_ACT_ALLOW, &r), 0, "add 3");
	ASSERT_TRUE(fw_store_find(&s, 2) != NULL, "find 2");
	ASSERT_TRUE(fw_store_find(&s, 9) == NULL, "find 9");

	ASSERT_EQ(fw_store_del(&s, 2, &d), 0, "del 2");
	ASSERT_EQ(d.slot, 1, "deleted rule returned");
	ASSERT_EQ(fw_store_del(&s, 2, NULL), -ENOENT, "del again");
	ASSERT_TRUE(fw_store_find(&s, 2) == NULL, "gone");
	ASSERT_EQ(s.n, 2, "n");

	/* A new rule gets a new id, and the lowest free slot. */
	c = P("2001:db8::/48");
	ASSERT_EQ(fw_store_add(&s, &c, FW_ACT_DROP, &r), 0, "add 4");
	ASSERT_EQ(r.id, 4, "ids never reused");
	ASSERT_EQ(r.slot, 1, "lowest free slot");

	/* Same prefix: -EEXIST and the rule that has it. */
	memset(&r, 0, sizeof(r));
	c = P("10.0.0.0/8");
	ASSERT_EQ(fw_store_add(&s, &c, FW_ACT_DROP, &r), -EEXIST, "same prefix");
	ASSERT_EQ(r.id, 3, "existing rule");
	ASSERT_EQ(r.action, FW_ACT_ALLOW, "existing action");
	c = P("10.0.0.0/9");
	ASSERT_EQ(fw_store_add(&s, &c, FW_ACT_DROP, &r), 0, "other length is another prefix");
	c.family = 99;
	ASSERT_EQ(fw_store_add(&s, &c, FW_ACT_DROP, &r), -EINVAL, "bad family");
	c = P("10.9.0.0/16");
	ASSERT_EQ(fw_store_add(&s, &c, 7, &r), -EINVAL, "bad action");
	fw_store_free(&s);
	fw_store_free(&s);
}

static void test_full(void)
{
	struct fw_store s;
	struct fw_rule r;
	struct cidr c;
	uint32_t i;

	fw_store_init(&s);
	s.rules = calloc(CG_FW_MAX_RULES, sizeof(*s.rules));
	if (!ASSERT_TRUE(s.rules != NULL, "calloc"))
		return;
	s.n = s.cap = CG_FW_MAX_RULES;
	for (i = 0; i < CG_FW_MAX_RULES; i++) {
		s.rules[i].id = i + 1;
		s.rules[i].slot = i;
		s.rules[i].action = FW_ACT_DROP;
		s.rules[i].cidr = P("10.0.0.0/32");
		s.rules[i].cidr.addr[2] = (uint8_t)(i >> 8);
		s.rules[i].cidr.addr[3] = (uint8_t)i;
	}
	s.next_id = CG_FW_MAX_RULES + 1;
	c = P("192.168.0.0/16");
	ASSERT_EQ(fw_store_add(&s, &c, FW_ACT_DROP, &r), -ENOSPC, "full");
	ASSERT_EQ(fw_store_del(&s, 100, NULL), 0, "free slot 99");
	ASSERT_EQ(fw_store_add(&s, &c, FW_ACT_DROP, &r), 0, "room again");
	ASSERT_EQ(r.slot, 99, "the freed slot");
	ASSERT_EQ(r.id, CG_FW_MAX_RULES + 1, "next id");
	fw_store_free(&s);

	fw_store_init(&s);
	s.next_id = UINT32_MAX;
	ASSERT_EQ(fw_store_add(&s, &c, FW_ACT_DROP, &r), -ENOSPC, "ids spent");
	fw_store_free(&s);
}

static void test_json(void)
{
	struct fw_rule r = { .id = 1, .slot = 0, .action = FW_ACT_DROP };
	json_t *j;
	char *text;

	r.cidr = P("192.168.3.0/24");
	j = fw_rule_json(&r, 5);
	text = json_dumps(j, JSON_COMPACT);
	ASSERT_STREQ(text, "{\"id\":1,\"cidr\":\"192.168.3.0/24\",\"action\":\"drop\",\"hits\":5}",
		     "rule json");
	free(text);
	json_decref(j);
	ASSERT_STREQ(fw_action_name(FW_ACT_ALLOW), "allow", "allow");
	ASSERT_STREQ(fw_action_name(0), "unknown", "unknown");
	ASSERT_EQ(fw_action_parse("deny", &r.action), -EINVAL, "deny");
}

static char dir[] = "/tmp/cg-fw-XXXXXX";
static char path[128];

static bool write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return false;
	fputs(text, f);
	return fclose(f) == 0;
}

static char *read_file(const char *p)
{
	static char buf[4096];
	FILE *f = fopen(p, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_save_load(void)
{
	struct fw_store s, l;
	struct fw_rule r;
	struct stat st;
	struct cidr c;
	char err[256] = "", tmp[160];
	size_t i;

	fw_store_init(&s);
	fw_store_init(&l);
	ASSERT_EQ(fw_store_load(&l, path, err, sizeof(err)), 0, "missing file is empty");
	ASSERT_EQ(l.n, 0, "empty");
	ASSERT_EQ(l.next_id, 1, "next_id 1");

	c = P("192.168.3.0/24");
	fw_store_add(&s, &c, FW_ACT_DROP, &r);
	c = P("2001:db8::/32");
	fw_store_add(&s, &c, FW_ACT_ALLOW, &r);
	c = P("10.0.0.0/8");
	fw_store_add(&s, &c, FW_ACT_DROP, &r);
	fw_store_del(&s, 1, NULL);
	if (!ASSERT_EQ(fw_store_save(&s, path), 0, "save"))
		goto out;
	ASSERT_EQ(stat(path, &st), 0, "stat");
	ASSERT_EQ(st.st_mode & 0777, 0600, "mode 0600");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	ASSERT_EQ(access(tmp, F_OK), -1, "no tmp left");

	if (!ASSERT_EQ(fw_store_load(&l, path, err, sizeof(err)), 0, err))
		goto out;
	ASSERT_EQ(l.n, 2, "n");
	ASSERT_EQ(l.next_id, 4, "next_id persisted");
	for (i = 0; i < l.n; i++) {
		ASSERT_EQ(l.rules[i].id, s.rules[i].id, "id");
		ASSERT_EQ(l.rules[i].slot, s.rules[i].slot, "slot");
		ASSERT_EQ(l.rules[i].action, s.rules[i].action, "action");
		ASSERT_MEMEQ(&l.rules[i].cidr, &s.rules[i].cidr, sizeof(struct cidr), "cidr");
	}
	c = P("172.16.0.0/12");
	ASSERT_EQ(fw_store_add(&l, &c, FW_ACT_DROP, &r), 0, "add after reload");
	ASSERT_EQ(r.id, 4, "id 1..3 not reused after reload");
	ASSERT_EQ(r.slot, 0, "slot 0 was free");
out:
	fw_store_free(&s);
	fw_store_free(&l);
}

/* A save that fails leaves the old file as it was (as root, chmod stops nothing). */
static void test_save_atomic(void)
{
	struct fw_store s;
	struct fw_rule r;
	struct cidr c;
	char tmp[160], before[4096], *now;

	fw_store_init(&s);
	c = P("10.1.0.0/16");
	fw_store_add(&s, &c, FW_ACT_DROP, &r);
	if (!ASSERT_EQ(fw_store_save(&s, path), 0, "save"))
		goto out;
	snprintf(before, sizeof(before), "%s", read_file(path));
	c = P("10.2.0.0/16");
	fw_store_add(&s, &c, FW_ACT_DROP, &r);

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!ASSERT_EQ(mkdir(tmp, 0700), 0, "tmp as a directory"))
		goto out;
	ASSERT_EQ(fw_store_save(&s, path), -EEXIST, "tmp cannot be created");
	now = read_file(path);
	ASSERT_STREQ(now, before, "old file intact");
	ASSERT_EQ(rmdir(tmp), 0, "our directory is left alone");

	ASSERT_EQ(fw_store_save(&s, "/nonexistent-dir/rules.json"), -ENOENT, "no directory");
	ASSERT_EQ(fw_store_save(&s, path), 0, "saves again");
	ASSERT_TRUE(strstr(read_file(path), "10.2.0.0/16") != NULL, "new content");
out:
	fw_store_free(&s);
}

#define R1 "{\"id\":1,\"slot\":0,\"cidr\":\"192.168.3.0/24\",\"action\":\"drop\"}"

static void test_corrupt(void)
{
	static const struct {
		const char *text, *want;
	} t[] = {
		{ "", "1:0: bad JSON: '[' or '{' expected near end of file" },
		{ "{\"version\":1,", "1:13: bad JSON: string or '}' expected near end of file" },
		{ "{\"version\":1}\n{}", "2:1: bad JSON: end of file expected near '{'" },
		{ "{\"version\":1,\"version\":1}",
		  "1:22: bad JSON: duplicate object key near '\"version\"'" },
		{ "[]", "not a JSON object" },
		{ "{\"next_id\":1,\"rules\":[]}", "\"version\" missing or not an integer" },
		{ "{\"version\":\"1\",\"next_id\":1,\"rules\":[]}",
		  "\"version\" missing or not an integer" },
		{ "{\"version\":2,\"next_id\":1,\"rules\":[]}",
		  "version 2 is not supported (want 1)" },
		{ "{\"version\":1,\"rules\":[]}",
		  "\"next_id\" missing or not an integer in 1..4294967295" },
		{ "{\"version\":1,\"next_id\":0,\"rules\":[]}",
		  "\"next_id\" missing or not an integer in 1..4294967295" },
		{ "{\"version\":1,\"next_id\":4294967296,\"rules\":[]}",
		  "\"next_id\" missing or not an integer in 1..4294967295" },
		{ "{\"version\":1,\"next_id\":1}", "\"rules\" missing or not an array" },
		{ "{\"version\":1,\"next_id\":1,\"rules\":{}}",
		  "\"rules\" missing or not an array" },
		{ "{\"version\":1,\"next_id\":1,\"rules\":[],\"x\":0}", "unknown field \"x\"" },
		{ "{\"version\":1,\"next_id\":2,\"rules\":[1]}", "rules[0]: not an object" },
		{ "{\"version\":1,\"next_id\":2,\"rules\":[{\"slot\":0,\"cidr\":\"10.0.0.0/8\","
		  "\"action\":\"drop\"}]}",
		  "rules[0]: \"id\" missing or not an integer in 1..4294967295" },
		{ "{\"version\":1,\"next_id\":2,\"rules\":[{\"id\":-1,\"slot\":0,\"cidr\":\"10.0.0."
		  "0/"
		  "8\",\"action\":\"drop\"}]}",
		  "rules[0]: \"id\" missing or not an integer in 1..4294967295" },
		{ "{\"version\":1,\"next_id\":1,\"rules\":[" R1 "]}",
		  "rules[0]: id 1 is not below next_id 1" },
		{ "{\"version\":1,\"next_id\":2,\"rules\":[{\"id\":1,\"slot\":65536,\"cidr\":\"10."
		  "0.0.0/"
		  "8\",\"action\":\"drop\"}]}",
		  "rules[0]: \"slot\" missing or not an integer in 0..65535" },
		{ "{\"version\":1,\"next_id\":2,\"rules\":[{\"id\":1,\"slot\":0,\"action\":"
		  "\"drop\"}]}",
		  "rules[0]: \"cidr\" missing or not a string" },
		{ "{\"version\":1,\"next_id\":2,\"rules\":[{\"id\":1,\"slot\":0,\"cidr\":\"10.0.0."
		  "1/8\","
		  "\"action\":\"drop\"}]}",
		  "rules[0]: cidr \"10.0.0.1/8\": host bits set beyond the prefix length" },
		{ "{\"version\":1,\"next_id\":2,\"rules\":[{\"id\":1,\"slot\":0,\"cidr\":\"10.0.0."
		  "0/8\","
		  "\"action\":\"deny\"}]}",
		  "rules[0]: \"action\" missing or not \"allow\" or \"drop\"" },
		{ "{\"version\":1,\"next_id\":2,\"rules\":[{\"id\":1,\"slot\":0,\"cidr\":\"10.0.0."
		  "0/8\","
		  "\"action\":\"drop\",\"hits\":3}]}",
		  "rules[0]: unknown field \"hits\"" },
		{ "{\"version\":1,\"next_id\":3,\"rules\":[" R1
		  ",{\"id\":1,\"slot\":1,\"cidr\":\"10.0.0."
		  "0/8\",\"action\":\"drop\"}]}",
		  "duplicate id 1" },
		{ "{\"version\":1,\"next_id\":3,\"rules\":[" R1
		  ",{\"id\":2,\"slot\":0,\"cidr\":\"10.0.0."
		  "0/8\",\"action\":\"drop\"}]}",
		  "rules[1]: duplicate slot 0" },
		{ "{\"version\":1,\"next_id\":3,\"rules\":[" R1
		  ",{\"id\":2,\"slot\":1,\"cidr\":\"192.168"
		  ".3.0/24\",\"action\":\"allow\"}]}",
		  "duplicate cidr 192.168.3.0/24 (ids 1 and 2)" },
	};
	struct fw_store s;
	struct fw_rule r;
	struct cidr c;
	char err[512], want[512];
	size_t i;

	fw_store_init(&s);
	c = P("10.9.9.0/24");
	fw_store_add(&s, &c, FW_ACT_DROP, &r);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (!ASSERT_TRUE(write_file(t[i].text), "write"))
			break;
		err[0] = '\0';
		/* "PATH:LINE:COL: bad JSON: ..." or "PATH: reason" */
		snprintf(want, sizeof(want), "%s:%s%s", path,
			 t[i].want[0] >= '0' && t[i].want[0] <= '9' ? "" : " ", t[i].want);
		if (!ASSERT_EQ(fw_store_load(&s, path, err, sizeof(err)), -EINVAL, t[i].want))
			continue;
		ASSERT_STREQ(err, want, "message");
		ASSERT_EQ(s.n, 1, "store untouched");
		ASSERT_EQ(s.next_id, 2, "store untouched");
	}
	ASSERT_TRUE(write_file("{\"version\":1,\"next_id\":2,\"rules\":[" R1 "]}"), "write");
	ASSERT_EQ(fw_store_load(&s, path, err, sizeof(err)), 0, "good file replaces the store");
	ASSERT_EQ(s.rules[0].id, 1, "loaded");
	ASSERT_EQ(fw_store_load(&s, dir, err, sizeof(err)), -EINVAL, "a directory");
	fw_store_free(&s);
	unlink(path);
}

static void setup(void)
{
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/rules.json", dir);
}

static void test_setup(void)
{
	setup();
}

static void test_cleanup(void)
{
	unlink(path);
	ASSERT_EQ(rmdir(dir), 0, "temp dir empty");
}

T_MAIN(T_CASE(test_setup), T_CASE(test_add_del_find), T_CASE(test_full), T_CASE(test_json),
       T_CASE(test_save_load), T_CASE(test_save_atomic), T_CASE(test_corrupt), T_CASE(test_cleanup))
