// SPDX-License-Identifier: GPL-2.0
/* Enrollment tokens: the text, the record file, the one redeem that wins the rename. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <sodium.h>

#include "lib/auth/ca.h"
#include "lib/auth/tls.h"
#include "lib/auth/token.h"

static const char *const verdict_names[TOKEN_MAX] = {
	[TOKEN_OK] = "ok",
	[TOKEN_MALFORMED] = "malformed",
	[TOKEN_UNKNOWN] = "unknown",
	[TOKEN_SPENT] = "spent",
	[TOKEN_EXPIRED] = "expired",
	[TOKEN_ALTERED] = "altered",
	[TOKEN_WRONG_CA] = "wrong_ca",
	[TOKEN_ERROR] = "error",
};

const char *token_verdict_str(uint32_t v)
{
	return v < TOKEN_MAX ? verdict_names[v] : "?";
}

static bool hex_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* n lowercase hex at s into bin[n/2]; the caller checked them with hex_ok. */
static void hex_decode(const char *s, size_t n, uint8_t *bin)
{
	size_t binlen;

	sodium_hex2bin(bin, n / 2, s, n, NULL, &binlen, NULL);
}

bool token_id_ok(const char *s)
{
	return s && strnlen(s, TOKEN_ID_HEX + 1) == TOKEN_ID_HEX && hex_ok(s, TOKEN_ID_HEX);
}

enum token_verdict token_parse(const char *s, size_t len, struct token *t)
{
	const size_t id_at = 4, sec_at = id_at + TOKEN_ID_HEX + 1,
		     ca_at = sec_at + 2 * TOKEN_SECRET_LEN + 1;
	struct token w = { 0 };

	if (!s || len != TOKEN_STR_LEN || memcmp(s, TOKEN_PREFIX ".", 4) != 0 ||
	    s[sec_at - 1] != '.' || s[ca_at - 1] != '.' || !hex_ok(s + id_at, TOKEN_ID_HEX) ||
	    !hex_ok(s + sec_at, 2 * TOKEN_SECRET_LEN) || !hex_ok(s + ca_at, 2 * TOKEN_HASH_LEN))
		return TOKEN_MALFORMED;
	hex_decode(s + id_at, TOKEN_ID_HEX, w.id);
	hex_decode(s + sec_at, 2 * TOKEN_SECRET_LEN, w.secret);
	hex_decode(s + ca_at, 2 * TOKEN_HASH_LEN, w.ca_hash);
	*t = w;
	sodium_memzero(&w, sizeof(w));
	return TOKEN_OK;
}

int token_format(const struct token *t, char *buf, size_t cap)
{
	char id[TOKEN_ID_HEX + 1], sec[2 * TOKEN_SECRET_LEN + 1], ca[2 * TOKEN_HASH_LEN + 1];

	if (cap < TOKEN_STR_LEN + 1)
		return -ENOSPC;
	sodium_bin2hex(id, sizeof(id), t->id, TOKEN_ID_LEN);
	sodium_bin2hex(sec, sizeof(sec), t->secret, TOKEN_SECRET_LEN);
	sodium_bin2hex(ca, sizeof(ca), t->ca_hash, TOKEN_HASH_LEN);
	snprintf(buf, cap, TOKEN_PREFIX ".%s.%s.%s", id, sec, ca);
	sodium_memzero(sec, sizeof(sec));
	return 0;
}

void token_id_hex(const struct token *t, char *buf, size_t cap)
{
	if (cap >= TOKEN_ID_HEX + 1)
		sodium_bin2hex(buf, cap, t->id, TOKEN_ID_LEN);
	else if (cap)
		buf[0] = '\0';
}

int token_spki_hash(X509 *x, uint8_t out[TOKEN_HASH_LEN])
{
	unsigned char *der = NULL;
	int n;

	n = x ? i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der) : -1;
	if (n <= 0)
		return -EINVAL;
	SHA256(der, (size_t)n, out);
	OPENSSL_free(der);
	return 0;
}

int token_spki_hash_file(const char *path, uint8_t out[TOKEN_HASH_LEN])
{
	X509 *x = tls_cert_file(path);
	int ret = x ? token_spki_hash(x, out) : -errno;

	X509_free(x);
	return ret;
}

int token_spa_key(const uint8_t secret[TOKEN_SECRET_LEN], uint8_t out[TOKEN_SPA_KEY_LEN])
{
	_Static_assert(TOKEN_SECRET_LEN == crypto_kdf_KEYBYTES, "the secret is the master key");
	if (sodium_init() < 0 ||
	    crypto_kdf_derive_from_key(out, TOKEN_SPA_KEY_LEN, 1, "CGSPT1sp", secret))
		return -EIO;
	return 0;
}

static void record_path(char *buf, size_t cap, const char *dir, const char *id, const char *ext)
{
	snprintf(buf, cap, "%s/tokens/%s.%s", dir, id, ext);
}

static json_t *hex_json(const uint8_t *b, size_t n)
{
	char h[2 * 64 + 1];

	sodium_bin2hex(h, sizeof(h), b, n);
	return json_string(h);
}

static json_t *record_json(const struct token_record *r)
{
	json_t *g = json_array(), *o;
	uint32_t i;

	for (i = 0; i < r->ngroups; i++)
		json_array_append_new(g, json_string(r->groups[i]));
	o = json_pack("{s:i,s:s,s:o,s:o,s:s,s:s,s:o,s:I,s:I}", "version", 1, "id", r->id,
		      "secret_sha256", hex_json(r->secret_sha256, sizeof(r->secret_sha256)),
		      "spa_key", hex_json(r->spa_key, sizeof(r->spa_key)), "device", r->device,
		      "app", r->app, "groups", g, "created", (json_int_t)r->created_s, "expires",
		      (json_int_t)r->expires_s);
	return o;
}

static int dir_sync(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

static int write_new(const char *path, const char *buf, size_t len)
{
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, len) != (ssize_t)len || fsync(fd))
		err = errno ? -errno : -EIO;
	close(fd);
	if (err)
		unlink(path);
	return err;
}

static bool groups_ok(const char *const *groups, size_t n)
{
	size_t i, j;

	if (n > TOKEN_GROUPS_MAX)
		return false;
	for (i = 0; i < n; i++) {
		if (!name_valid(groups[i]))
			return false;
		for (j = 0; j < i; j++)
			if (!strcmp(groups[i], groups[j]))
				return false;
	}
	return true;
}

int token_create(const char *dir, const char *device, const char *app, const char *const *groups,
		 size_t ngroups, uint64_t ttl_s, uint64_t now_s, char *out, size_t cap, char *err,
		 size_t errlen)
{
	struct token_record r = { 0 };
	char path[PATH_MAX], *text = NULL;
	struct token t;
	json_t *o = NULL;
	size_t i;
	int ret;

	if (!ca_device_name_ok(device) || (app && *app && !name_valid(app))) {
		snprintf(err, errlen,
			 "device and app must be names (%s), the device not ca or gateway",
			 NAME_RULE);
		return -EINVAL;
	}
	if (!groups_ok(groups, ngroups)) {
		snprintf(err, errlen, "groups: at most %d distinct names (%s)", TOKEN_GROUPS_MAX,
			 NAME_RULE);
		return -EINVAL;
	}
	if (ttl_s < 1 || ttl_s > TOKEN_TTL_MAX_S) {
		snprintf(err, errlen, "ttl: 1 s to %llu h", TOKEN_TTL_MAX_S / 3600);
		return -EINVAL;
	}
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium did not initialise");
		return -EIO;
	}
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	ret = token_spki_hash_file(path, t.ca_hash);
	if (ret) {
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		goto out;
	}
	randombytes_buf(t.id, sizeof(t.id));
	randombytes_buf(t.secret, sizeof(t.secret));
	token_id_hex(&t, r.id, sizeof(r.id));
	SHA256(t.secret, sizeof(t.secret), r.secret_sha256);
	ret = token_spa_key(t.secret, r.spa_key);
	if (ret) {
		snprintf(err, errlen, "deriving the SPA key failed");
		goto out;
	}
	snprintf(r.device, sizeof(r.device), "%s", device);
	snprintf(r.app, sizeof(r.app), "%s", app ? app : "");
	for (i = 0; i < ngroups; i++)
		snprintf(r.groups[i], sizeof(r.groups[i]), "%s", groups[i]);
	r.ngroups = (uint32_t)ngroups;
	r.created_s = now_s;
	r.expires_s = now_s + ttl_s;
	snprintf(path, sizeof(path), "%s/tokens", dir);
	if (mkdir(path, 0700) && errno != EEXIST) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	o = record_json(&r);
	text = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
	if (!text) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	record_path(path, sizeof(path), dir, r.id, "json");
	ret = write_new(path, text, strlen(text));
	if (!ret) {
		snprintf(path, sizeof(path), "%s/tokens", dir);
		ret = dir_sync(path);
		record_path(path, sizeof(path), dir, r.id, "json");
		if (ret)
			unlink(path);
	}
	if (ret) {
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		goto out;
	}
	ret = token_format(&t, out, cap);
	if (ret) {
		unlink(path);
		snprintf(err, errlen, "no room for the token");
	}
out:
	if (text) {
		sodium_memzero(text, strlen(text));
		free(text);
	}
	json_decref(o);
	sodium_memzero(&t, sizeof(t));
	sodium_memzero(&r, sizeof(r));
	return ret;
}

static bool hex_field(json_t *o, const char *key, uint8_t *out, size_t n)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (!s || strlen(s) != 2 * n || !hex_ok(s, 2 * n))
		return false;
	hex_decode(s, 2 * n, out);
	return true;
}

static bool name_field(json_t *o, const char *key, char *out, bool empty_ok)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (!s || (!(empty_ok && !*s) && !name_valid(s)))
		return false;
	snprintf(out, CG_NAME_MAX, "%s", s);
	return true;
}

/* The record file's JSON into *r: every field present and valid, nothing else. */
static bool record_parse(json_t *o, const char *id, struct token_record *r)
{
	json_t *g = json_object_get(o, "groups"), *v, *created = json_object_get(o, "created"),
	       *expires = json_object_get(o, "expires");
	const char *rid = json_string_value(json_object_get(o, "id"));
	size_t i;

	if (!json_is_object(o) || json_object_size(o) != 9 ||
	    json_integer_value(json_object_get(o, "version")) != 1 || !rid || strcmp(rid, id) ||
	    !hex_field(o, "secret_sha256", r->secret_sha256, sizeof(r->secret_sha256)) ||
	    !hex_field(o, "spa_key", r->spa_key, sizeof(r->spa_key)) ||
	    !name_field(o, "device", r->device, false) || !name_field(o, "app", r->app, true) ||
	    !json_is_array(g) || json_array_size(g) > TOKEN_GROUPS_MAX ||
	    !json_is_integer(created) || json_integer_value(created) < 0 ||
	    !json_is_integer(expires) || json_integer_value(expires) < 0)
		return false;
	json_array_foreach(g, i, v)
	{
		const char *s = json_string_value(v);

		if (!s || !name_valid(s))
			return false;
		snprintf(r->groups[i], sizeof(r->groups[i]), "%s", s);
	}
	r->ngroups = (uint32_t)json_array_size(g);
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->created_s = (uint64_t)json_integer_value(created);
	r->expires_s = (uint64_t)json_integer_value(expires);
	return true;
}

enum token_verdict token_lookup(const char *dir, const char *id, uint64_t now_s,
				struct token_record *rec)
{
	struct token_record r = { 0 };
	char path[PATH_MAX], buf[TOKEN_RECORD_MAX + 1];
	enum token_verdict ret;
	json_t *o = NULL;
	struct stat st;
	ssize_t n;
	int fd;

	if (!token_id_ok(id))
		return TOKEN_MALFORMED;
	record_path(path, sizeof(path), dir, id, "json");
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			return TOKEN_ERROR;
		record_path(path, sizeof(path), dir, id, "spent");
		return stat(path, &st) ? TOKEN_UNKNOWN : TOKEN_SPENT;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	ret = TOKEN_ERROR;
	if (n <= 0 || n > TOKEN_RECORD_MAX)
		goto out;
	o = json_loadb(buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
	if (!o || !record_parse(o, id, &r))
		goto out;
	if (now_s >= r.expires_s) {
		ret = TOKEN_EXPIRED;
		goto out;
	}
	*rec = r;
	ret = TOKEN_OK;
out:
	json_decref(o);
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(&r, sizeof(r));
	return ret;
}

enum token_verdict token_redeem(const char *dir, const char *text, uint64_t now_s,
				struct token_record *rec)
{
	char path[PATH_MAX], spent[PATH_MAX], id[TOKEN_ID_HEX + 1];
	struct token_record r = { 0 };
	uint8_t ca[TOKEN_HASH_LEN], h[32];
	enum token_verdict ret;
	struct token t;

	if (!text || token_parse(text, strnlen(text, TOKEN_STR_LEN + 1), &t) != TOKEN_OK)
		return TOKEN_MALFORMED;
	snprintf(path, sizeof(path), "%s/ca.crt", dir);
	if (token_spki_hash_file(path, ca)) {
		ret = TOKEN_ERROR;
		goto out;
	}
	if (sodium_memcmp(ca, t.ca_hash, sizeof(ca))) {
		ret = TOKEN_WRONG_CA;
		goto out;
	}
	token_id_hex(&t, id, sizeof(id));
	ret = token_lookup(dir, id, now_s, &r);
	if (ret != TOKEN_OK)
		goto out;
	SHA256(t.secret, sizeof(t.secret), h);
	if (sodium_memcmp(h, r.secret_sha256, sizeof(h))) {
		ret = TOKEN_ALTERED;
		goto out;
	}
	/* The spend: of racing redeems, only the rename that finds the record wins. */
	record_path(path, sizeof(path), dir, id, "json");
	record_path(spent, sizeof(spent), dir, id, "spent");
	if (rename(path, spent)) {
		ret = errno == ENOENT ? TOKEN_SPENT : TOKEN_ERROR;
		goto out;
	}
	/* Durable before the certificate exists: a crash must not bring the token back. */
	snprintf(path, sizeof(path), "%s/tokens", dir);
	if (dir_sync(path)) {
		ret = TOKEN_ERROR;
		goto out;
	}
	*rec = r;
out:
	sodium_memzero(&t, sizeof(t));
	sodium_memzero(&r, sizeof(r));
	sodium_memzero(h, sizeof(h));
	return ret;
}
