// SPDX-License-Identifier: GPL-2.0
/* Enrollment tokens: the text, strict parsing, the record, single use across processes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/auth/ca.h"
#include "lib/auth/token.h"
#include "tests/lib/t.h"

#define NOW 1700000000ULL

static char dir[64], other[64];

static void rm_dir(const char *d)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", d);
}

/* Two CAs: dir (the gateway's) and other (another one). */
static bool cas(void)
{
	char err[256];

	if (dir[0])
		return true;
	strcpy(dir, "/tmp/capgate-token-XXXXXX");
	strcpy(other, "/tmp/capgate-token-XXXXXX");
	if (!mkdtemp(dir) || !mkdtemp(other))
		return false;
	return !ca_init(dir, "gw", NULL, 0, err, sizeof(err)) &&
	       !ca_init(other, "gw", NULL, 0, err, sizeof(err));
}

static bool make(const char *d, const char *dev, const char *app, uint64_t ttl, char *tok)
{
	static const char *const groups[] = { "sensors", "floor-2" };
	char err[256];
	int e = token_create(d, dev, app, groups, 2, ttl, NOW, tok, TOKEN_STR_LEN + 1, err,
			     sizeof(err));

	if (e)
		fprintf(stderr, "token_create: %s\n", err);
	return !e;
}

static void test_format(void)
{
	char tok[TOKEN_STR_LEN + 1], back[TOKEN_STR_LEN + 1], path[128], id[TOKEN_ID_HEX + 1];
	uint8_t h[TOKEN_HASH_LEN];
	struct token t;
	struct stat st;

	if (!ASSERT_TRUE(cas(), "ca") || !ASSERT_TRUE(make(dir, "dev1", "", 3600, tok), "make"))
		return;
	ASSERT_EQ(strlen(tok), TOKEN_STR_LEN, "length");
	ASSERT_EQ(TOKEN_STR_LEN, 150, "150 characters");
	ASSERT_TRUE(!strncmp(tok, "cg1.", 4), "prefix");
	if (!ASSERT_EQ(token_parse(tok, strlen(tok), &t), TOKEN_OK, "parse"))
		return;
	ASSERT_EQ(token_format(&t, back, sizeof(back)), 0, "format");
	ASSERT_STREQ(back, tok, "round trip");
	ASSERT_EQ(token_format(&t, back, TOKEN_STR_LEN), -ENOSPC, "short buffer");
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	ASSERT_EQ(token_spki_hash_file(path, h), 0, "ca hash");
	ASSERT_MEMEQ(t.ca_hash, h, sizeof(h), "the token names this CA");
	token_id_hex(&t, id, sizeof(id));
	snprintf(path, sizeof(path), "%s/tokens/%s.json", dir, id);
	ASSERT_EQ(stat(path, &st), 0, "record");
	ASSERT_EQ(st.st_mode & 0777, 0600, "record 0600");
	snprintf(path, sizeof(path), "%s/tokens", dir);
	ASSERT_EQ(stat(path, &st), 0, "tokens dir");
	ASSERT_EQ(st.st_mode & 0777, 0700, "tokens dir 0700");
}

static void test_parse_refusals(void)
{
	char tok[TOKEN_STR_LEN + 1], bad[TOKEN_STR_LEN + 2];
	struct token t;
	size_t i;
	static const struct {
		size_t at;
		char c;
		const char *what;
	} flips[] = {
		{ 0, 'C', "prefix case" },   { 2, '2', "version" }, { 3, '-', "first dot" },
		{ 4, 'A', "id upper case" }, { 20, 'x', "id dot" }, { 21, 'g', "secret not hex" },
		{ 85, '0', "second dot" },   { 86, ' ', "space" },  { 149, 'F', "hash upper case" },
		{ 100, '\0', "NUL inside" },
	};

	if (!ASSERT_TRUE(cas(), "ca") || !ASSERT_TRUE(make(dir, "dev1", "", 3600, tok), "make"))
		return;
	for (i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		memcpy(bad, tok, sizeof(tok));
		bad[flips[i].at] = flips[i].c;
		ASSERT_EQ(token_parse(bad, TOKEN_STR_LEN, &t), TOKEN_MALFORMED, flips[i].what);
	}
	for (i = 0; i < TOKEN_STR_LEN; i++)
		if (!ASSERT_EQ(token_parse(tok, i, &t), TOKEN_MALFORMED, "every shorter length"))
			break;
	memcpy(bad, tok, TOKEN_STR_LEN);
	bad[TOKEN_STR_LEN] = '\n';
	ASSERT_EQ(token_parse(bad, TOKEN_STR_LEN + 1, &t), TOKEN_MALFORMED, "trailing newline");
	ASSERT_EQ(token_parse(NULL, 0, &t), TOKEN_MALFORMED, "NULL");
	ASSERT_EQ(token_redeem(dir, "cg1.nope", NOW, &(struct token_record){ 0 }), TOKEN_MALFORMED,
		  "redeem malformed");
	ASSERT_EQ(token_lookup(dir, "../ca", NOW, &(struct token_record){ 0 }), TOKEN_MALFORMED,
		  "id as a path");
	ASSERT_TRUE(!token_id_ok("0123456789ABCDEF"), "id upper case");
	ASSERT_TRUE(token_id_ok("0123456789abcdef"), "id ok");
}

static void test_single_use_and_names(void)
{
	char tok[TOKEN_STR_LEN + 1];
	struct token_record r = { 0 };

	if (!ASSERT_TRUE(cas(), "ca") || !ASSERT_TRUE(make(dir, "cam7", "rtsp", 600, tok), "make"))
		return;
	if (!ASSERT_EQ(token_redeem(dir, tok, NOW + 1, &r), TOKEN_OK, "first use"))
		return;
	ASSERT_STREQ(r.device, "cam7", "device bound");
	ASSERT_STREQ(r.app, "rtsp", "app bound");
	ASSERT_EQ(r.ngroups, 2, "groups");
	ASSERT_STREQ(r.groups[0], "sensors", "group 0");
	ASSERT_STREQ(r.groups[1], "floor-2", "group 1");
	ASSERT_EQ(r.expires_s, NOW + 600, "expiry");
	ASSERT_EQ(token_redeem(dir, tok, NOW + 2, &r), TOKEN_SPENT, "second use");
	ASSERT_EQ(token_lookup(dir, r.id, NOW + 2, &r), TOKEN_SPENT, "lookup spent");
}

static void test_expiry(void)
{
	char tok[TOKEN_STR_LEN + 1];
	struct token_record r = { 0 };
	struct token t;
	char id[TOKEN_ID_HEX + 1];

	if (!ASSERT_TRUE(cas(), "ca") || !ASSERT_TRUE(make(dir, "dev1", "", 60, tok), "make"))
		return;
	token_parse(tok, strlen(tok), &t);
	token_id_hex(&t, id, sizeof(id));
	ASSERT_EQ(token_lookup(dir, id, NOW + 59, &r), TOKEN_OK, "valid at 59 s");
	ASSERT_EQ(token_lookup(dir, id, NOW + 60, &r), TOKEN_EXPIRED, "expired at 60 s");
	ASSERT_EQ(token_redeem(dir, tok, NOW + 60, &r), TOKEN_EXPIRED, "redeem expired");
	ASSERT_EQ(token_redeem(dir, tok, NOW + 59, &r), TOKEN_OK, "an expired try spent nothing");
}

static void test_altered(void)
{
	char tok[TOKEN_STR_LEN + 1], bad[TOKEN_STR_LEN + 1], tok2[TOKEN_STR_LEN + 1];
	struct token_record r = { 0 };

	if (!ASSERT_TRUE(cas(), "ca") || !ASSERT_TRUE(make(dir, "dev1", "", 600, tok), "make"))
		return;
	memcpy(bad, tok, sizeof(tok));
	bad[4] = bad[4] == '0' ? '1' : '0';
	ASSERT_EQ(token_redeem(dir, bad, NOW, &r), TOKEN_UNKNOWN, "altered id");
	memcpy(bad, tok, sizeof(tok));
	bad[30] = bad[30] == '0' ? '1' : '0';
	ASSERT_EQ(token_redeem(dir, bad, NOW, &r), TOKEN_ALTERED, "altered secret");
	memcpy(bad, tok, sizeof(tok));
	bad[120] = bad[120] == '0' ? '1' : '0';
	ASSERT_EQ(token_redeem(dir, bad, NOW, &r), TOKEN_WRONG_CA, "altered hash");
	/* Another CA's token, presented to this one: its hash does not match this ca.crt. */
	if (ASSERT_TRUE(make(other, "dev1", "", 600, tok2), "other CA's token"))
		ASSERT_EQ(token_redeem(dir, tok2, NOW, &r), TOKEN_WRONG_CA, "another CA");
	/* The same id with another CA's hash does not pass either. */
	memcpy(bad, tok, sizeof(tok));
	memcpy(bad + 86, tok2 + 86, 64);
	ASSERT_EQ(token_redeem(dir, bad, NOW, &r), TOKEN_WRONG_CA, "hash swapped");
	ASSERT_EQ(token_redeem(dir, tok, NOW, &r), TOKEN_OK, "refusals spent nothing");
}

static void test_create_refusals(void)
{
	static const char *const dup[] = { "a", "a" }, *const badg[] = { "a b" };
	static const char *const nine[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i" };
	char tok[TOKEN_STR_LEN + 1], err[256];

	if (!ASSERT_TRUE(cas(), "ca"))
		return;
	ASSERT_EQ(
		token_create(dir, "a/b", "", NULL, 0, 60, NOW, tok, sizeof(tok), err, sizeof(err)),
		-EINVAL, "bad device");
	ASSERT_EQ(
		token_create(dir, "d", "..", NULL, 0, 60, NOW, tok, sizeof(tok), err, sizeof(err)),
		-EINVAL, "bad app");
	ASSERT_EQ(token_create(dir, "d", "", dup, 2, 60, NOW, tok, sizeof(tok), err, sizeof(err)),
		  -EINVAL, "duplicate group");
	ASSERT_EQ(token_create(dir, "d", "", badg, 1, 60, NOW, tok, sizeof(tok), err, sizeof(err)),
		  -EINVAL, "bad group");
	ASSERT_EQ(token_create(dir, "d", "", nine, 9, 60, NOW, tok, sizeof(tok), err, sizeof(err)),
		  -EINVAL, "nine groups");
	ASSERT_EQ(token_create(dir, "d", "", NULL, 0, 0, NOW, tok, sizeof(tok), err, sizeof(err)),
		  -EINVAL, "ttl 0");
	ASSERT_EQ(token_create(dir, "d", "", NULL, 0, TOKEN_TTL_MAX_S + 1, NOW, tok, sizeof(tok),
			       err, sizeof(err)),
		  -EINVAL, "ttl too long");
	ASSERT_EQ(token_create("/nonexistent", "d", "", NULL, 0, 60, NOW, tok, sizeof(tok), err,
			       sizeof(err)),
		  -ENOENT, "no CA");
}

/*
 * Two processes redeem the same token at the same moment (released together by one pipe):
 * exactly one wins, the other is told it is spent. Many rounds, so the race is really run.
 */
static void test_race(void)
{
	int round, wins = 0, spent = 0, odd = 0;

	if (!ASSERT_TRUE(cas(), "ca"))
		return;
	for (round = 0; round < 50; round++) {
		char tok[TOKEN_STR_LEN + 1];
		int go[2], i, st;
		pid_t pid[2];

		if (!ASSERT_TRUE(make(dir, "dev1", "", 600, tok), "make") ||
		    !ASSERT_EQ(pipe(go), 0, "pipe"))
			return;
		for (i = 0; i < 2; i++) {
			pid[i] = fork();
			if (pid[i] == 0) {
				struct token_record r;
				char c;

				close(go[1]);
				if (read(go[0], &c, 1) != 0)
					_exit(100);
				_exit((int)token_redeem(dir, tok, NOW, &r));
			}
		}
		close(go[0]);
		close(go[1]); /* both see EOF at once */
		for (i = 0; i < 2; i++) {
			if (pid[i] < 0 || waitpid(pid[i], &st, 0) != pid[i] || !WIFEXITED(st)) {
				odd++;
				continue;
			}
			if (WEXITSTATUS(st) == TOKEN_OK)
				wins++;
			else if (WEXITSTATUS(st) == TOKEN_SPENT)
				spent++;
			else
				odd++;
		}
	}
	ASSERT_EQ(wins, 50, "one winner per round");
	ASSERT_EQ(spent, 50, "one loser per round, told spent");
	ASSERT_EQ(odd, 0, "nothing else");
}

static void test_spa_key(void)
{
	char tok[TOKEN_STR_LEN + 1];
	struct token_record r = { 0 };
	uint8_t k[TOKEN_SPA_KEY_LEN];
	char id[TOKEN_ID_HEX + 1];
	struct token t;

	if (!ASSERT_TRUE(cas(), "ca") || !ASSERT_TRUE(make(dir, "dev1", "", 600, tok), "make"))
		return;
	token_parse(tok, strlen(tok), &t);
	token_id_hex(&t, id, sizeof(id));
	ASSERT_EQ(token_spa_key(t.secret, k), 0, "derive");
	if (ASSERT_EQ(token_lookup(dir, id, NOW, &r), TOKEN_OK, "lookup"))
		ASSERT_MEMEQ(r.spa_key, k, sizeof(k), "the record's key is the device's");
	t.secret[0] ^= 1;
	token_spa_key(t.secret, k);
	ASSERT_TRUE(memcmp(r.spa_key, k, sizeof(k)) != 0, "another secret, another key");
}

static void test_cleanup(void)
{
	if (dir[0]) {
		rm_dir(dir);
		rm_dir(other);
	}
}

T_MAIN(T_CASE(test_format), T_CASE(test_parse_refusals), T_CASE(test_single_use_and_names),
       T_CASE(test_expiry), T_CASE(test_altered), T_CASE(test_create_refusals), T_CASE(test_race),
       T_CASE(test_spa_key), T_CASE(test_cleanup))
