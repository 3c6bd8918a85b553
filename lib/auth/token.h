/* SPDX-License-Identifier: GPL-2.0 */
/* One-time enrollment tokens: made by `capgate ca token`, spent once by the gateway's parent. */
#ifndef CG_AUTH_TOKEN_H
#define CG_AUTH_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "lib/auth/identity.h"
#include "lib/base/name.h"

/*
 * A token, as the operator hands it to the device:
 *
 *   cg1.<id>.<secret>.<ca>
 *
 *   id      16 lowercase hex (8 random bytes): names DIR/tokens/<id>.json, and is what the
 *           device's SPA packet carries in place of a device name
 *   secret  64 lowercase hex (32 random bytes): proves the token; the gateway keeps only its
 *           SHA-256 and the SPA key derived from it (crypto_kdf needs a 32-byte master key)
 *   ca      64 lowercase hex: SHA-256 of the CA certificate's SubjectPublicKeyInfo (DER), the
 *           only trust anchor the device accepts from the gateway (kubeadm's discovery hash)
 *
 * Exactly TOKEN_STR_LEN characters, nothing before or after.
 */
#define TOKEN_PREFIX "cg1"
#define TOKEN_ID_LEN 8
#define TOKEN_SECRET_LEN 32
#define TOKEN_HASH_LEN 32
#define TOKEN_ID_HEX (2 * TOKEN_ID_LEN)
#define TOKEN_STR_LEN (3 + 1 + TOKEN_ID_HEX + 1 + 2 * TOKEN_SECRET_LEN + 1 + 2 * TOKEN_HASH_LEN)
#define TOKEN_SPA_KEY_LEN 32
#define TOKEN_GROUPS_MAX 8		   /* as a certificate holds (CG_CERT_GROUPS_MAX) */
#define TOKEN_TTL_MAX_S (7ULL * 24 * 3600) /* a token lives at most a week */
#define TOKEN_RECORD_MAX 4096		   /* bytes of a record file */

enum token_verdict {
	TOKEN_OK = 0,
	TOKEN_MALFORMED, /* not the format above */
	TOKEN_UNKNOWN,	 /* no record with that id */
	TOKEN_SPENT,	 /* used already (or lost the race to use it) */
	TOKEN_EXPIRED,	 /* past its expiry */
	TOKEN_ALTERED,	 /* the secret does not match the record */
	TOKEN_WRONG_CA,	 /* made for another CA than this gateway's */
	TOKEN_ERROR,	 /* the record or the CA could not be read, or the rename failed */
	TOKEN_MAX
};

/* "ok", "malformed", "unknown", "spent", "expired", "altered", "wrong_ca", "error"; "?" else. */
const char *token_verdict_str(uint32_t v);

struct token {
	uint8_t id[TOKEN_ID_LEN];
	uint8_t secret[TOKEN_SECRET_LEN];
	uint8_t ca_hash[TOKEN_HASH_LEN];
};

/* Strict: s[0..len) must be exactly the format above. TOKEN_OK and *t, or TOKEN_MALFORMED. */
enum token_verdict token_parse(const char *s, size_t len, struct token *t);

/* The token as text into buf (cap >= TOKEN_STR_LEN + 1). 0 or -ENOSPC. */
int token_format(const struct token *t, char *buf, size_t cap);

/* t's id as 16 hex and a NUL into buf (cap >= TOKEN_ID_HEX + 1). */
void token_id_hex(const struct token *t, char *buf, size_t cap);

/* True if s is an id as the format has it (16 lowercase hex): safe as a file name. */
bool token_id_ok(const char *s);

/* What DIR/tokens/<id>.json holds. */
struct token_record {
	char id[TOKEN_ID_HEX + 1];
	uint8_t secret_sha256[32];
	uint8_t spa_key[TOKEN_SPA_KEY_LEN];
	char device[CG_NAME_MAX];
	char app[CG_NAME_MAX]; /* "" = a device certificate */
	char groups[TOKEN_GROUPS_MAX][CG_NAME_MAX];
	uint32_t ngroups;
	uint64_t created_s, expires_s;
};

/* SHA-256 of x's SubjectPublicKeyInfo DER into out. 0 or -EINVAL. */
int token_spki_hash(X509 *x, uint8_t out[TOKEN_HASH_LEN]);

/* The same for the PEM certificate at path. 0 or -errno (-EBADMSG: not a certificate). */
int token_spki_hash_file(const char *path, uint8_t out[TOKEN_HASH_LEN]);

/*
 * The key that MACs a token's SPA packet: libsodium's crypto_kdf_derive_from_key (BLAKE2b)
 * of the secret, subkey 1, context "CGSPT1sp". 0 or -EIO.
 */
int token_spa_key(const uint8_t secret[TOKEN_SECRET_LEN], uint8_t out[TOKEN_SPA_KEY_LEN]);

/*
 * Makes a token for (device, app "" for none, groups) valid ttl_s seconds from now_s
 * (1..TOKEN_TTL_MAX_S), for the CA of dir (dir/ca.crt): writes dir/tokens/<id>.json (the
 * directory 0700, the file 0600, O_EXCL, fsync'd) and the token text into out (cap >=
 * TOKEN_STR_LEN + 1). device must pass ca_device_name_ok (not "ca" or "gateway": the
 * certificate becomes DEVICE.crt beside them), app and groups name_valid; at most
 * TOKEN_GROUPS_MAX groups, no duplicates. 0 or -errno with a reason in err; on failure no record is
 * left.
 */
int token_create(const char *dir, const char *device, const char *app, const char *const *groups,
		 size_t ngroups, uint64_t ttl_s, uint64_t now_s, char *out, size_t cap, char *err,
		 size_t errlen);

/*
 * The record of the unspent token id (token_id_ok), for the SPA check: TOKEN_OK and *rec,
 * TOKEN_MALFORMED (bad id), TOKEN_UNKNOWN, TOKEN_SPENT, TOKEN_EXPIRED (now_s >= expiry) or
 * TOKEN_ERROR. Spends nothing.
 */
enum token_verdict token_lookup(const char *dir, const char *id, uint64_t now_s,
				struct token_record *rec);

/*
 * Checks the token text against dir (ca.crt's SPKI hash, then the record: present, unspent,
 * unexpired, the secret's SHA-256 compared in constant time) and spends it: the record is
 * renamed to <id>.spent, and of two racing redeems only the one whose rename succeeds gets
 * TOKEN_OK (the other TOKEN_SPENT). *rec is written on TOKEN_OK only. A refused token is not
 * spent (an altered one cannot burn the real one).
 */
enum token_verdict token_redeem(const char *dir, const char *token, uint64_t now_s,
				struct token_record *rec);

#endif
