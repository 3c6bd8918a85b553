/* SPDX-License-Identifier: GPL-2.0 */
/* Single packet authorization (DESIGN.md §2.2): build, parse, verify (Ed25519, P-256), replay. */
#ifndef CG_AUTH_SPA_H
#define CG_AUTH_SPA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509_vfy.h>

#include "lib/auth/identity.h"

/*
 * One UDP datagram to the SPA port. Integers big-endian.
 *
 *  0          6      7            7+n        15+n        31+n   32+n   34+n          98+n
 *  +----------+------+------------+----------+-----------+------+------+-------------+
 *  | "CGSPA1" | n    | name (n)   | time u64 | nonce (16)| proto| port |  sig (64)   |
 *  +----------+------+------------+----------+-----------+------+------+-------------+
 *
 *  magic    the 6 bytes "CGSPA1" (format version 1; also separates the
 *           signature domain from anything else the device key signs)
 *  n        1..127; name = n bytes: the sender's key name, DEVICE or
 *           DEVICE@APP (identity_key_name: each part a name, 1..63 of
 *           [A-Za-z0-9_.-]), the stem of its certificate file. Before key
 *           names n was 1..63 and the name a device's: those packets are
 *           still valid, and name the device's own certificate.
 *  time     sender's clock, unix seconds
 *  nonce    16 random bytes (randombytes_buf)
 *  proto    6 (TCP) or 17 (UDP), and port 1..65535: what to open
 *  sig      by the key of that certificate over every byte before it:
 *           Ed25519 (RFC 8032, pure), or ECDSA P-256 over SHA-256 written
 *           as r || s (32 bytes each, big-endian: IEEE P1363) with s <= n/2
 *           (a high s, the other encoding of the same signature, is refused)
 *
 * Nothing may follow the signature. Sizes: 99..225 bytes.
 *
 * A device that has no key yet (it is enrolling, lib/auth/token.h) sends the same layout
 * with the magic "CGSPT1" (its own MAC domain), the token id (16 lowercase hex) as the name,
 * and in place of the signature a 64-byte HMAC-SHA-512 (libsodium crypto_auth_hmacsha512)
 * over every byte before it, keyed with token_spa_key of the token's secret. 114 bytes.
 */
#define SPA_MAGIC "CGSPA1"
#define SPA_MAGIC_LEN 6
#define SPA_TOKEN_MAGIC "CGSPT1"
#define SPA_TOKEN_KEY_LEN 32
#define SPA_NAME_MAX (CG_KEY_NAME_MAX - 1) /* 127: the length byte allows up to 255 */
#define SPA_NONCE_LEN 16
#define SPA_SIG_LEN 64
#define SPA_MIN_LEN (SPA_MAGIC_LEN + 1 + 1 + 8 + SPA_NONCE_LEN + 3 + SPA_SIG_LEN)
#define SPA_MAX_LEN (SPA_MAGIC_LEN + 1 + SPA_NAME_MAX + 8 + SPA_NONCE_LEN + 3 + SPA_SIG_LEN)
/* Allowed clock difference, seconds, each way. */
#define SPA_WINDOW_S 30

enum spa_verdict {
	SPA_OK = 0,
	SPA_MALFORMED,	    /* layout, magic, name, proto/port or trailing bytes */
	SPA_UNKNOWN_DEVICE, /* no usable certificate for the device */
	SPA_BAD_SIGNATURE,  /* signature does not verify under the device key */
	SPA_CLOCK_SKEW,	    /* |now - time| > window */
	SPA_REPLAY,	    /* (device, nonce) already seen within the window */
	SPA_STALE,	    /* dated no later than the device's last packet before a restart */
	SPA_BUSY,	    /* no room for another device in the replay cache */
	SPA_MAX
};

/*
 * "ok", "malformed", "unknown_device", "bad_signature", "clock_skew", "replay", "stale", "busy";
 * "?" else.
 */
const char *spa_verdict_str(enum spa_verdict v);

/* A parsed SPA packet. */
struct spa_msg {
	bool token;		     /* CGSPT1: name is a token id, sig an HMAC */
	char name[SPA_NAME_MAX + 1]; /* the key name, NUL-terminated, validated (spa_name_ok) */
	uint64_t time_s;
	uint8_t nonce[SPA_NONCE_LEN];
	uint8_t proto;
	uint16_t port;
	size_t signed_len; /* bytes covered by the signature */
	uint8_t sig[SPA_SIG_LEN];
};

/* True if name is a key name: DEVICE or DEVICE@APP, each a name (lib/base/name.h). */
int spa_name_ok(const char *name);

/*
 * Build and sign a packet into out with a fresh nonce. name is the sender's
 * key name, key its certificate's Ed25519 or P-256 private key. Returns the length, -EINVAL
 * (bad name, proto, port or key), -ENOSPC (cap < length) or -EIO (signing failed).
 */
int spa_build(const char *name, uint8_t proto, uint16_t port, uint64_t now_s, EVP_PKEY *key,
	      uint8_t *out, size_t cap);

/*
 * A token's packet (CGSPT1): id is the token id (16 lowercase hex), key its
 * token_spa_key. Returns the length, -EINVAL, -ENOSPC or -EIO as spa_build.
 */
int spa_build_token(const char *id, uint8_t proto, uint16_t port, uint64_t now_s,
		    const uint8_t key[SPA_TOKEN_KEY_LEN], uint8_t *out, size_t cap);

/* Structure only (no key), either magic: SPA_OK and *m written, or SPA_MALFORMED. */
enum spa_verdict spa_parse(const uint8_t *pkt, size_t len, struct spa_msg *m);

/*
 * The signature of pkt, which m was parsed from, under pub (the device's
 * Ed25519 or P-256 public key): SPA_OK, SPA_BAD_SIGNATURE, SPA_UNKNOWN_DEVICE
 * if pub is NULL or of another type, SPA_MALFORMED if pkt does not parse to m.
 */
enum spa_verdict spa_verify(const uint8_t *pkt, size_t len, const struct spa_msg *m, EVP_PKEY *pub);

/*
 * The MAC of a token's packet pkt, which m was parsed from, under key (the
 * token record's spa_key): SPA_OK, SPA_BAD_SIGNATURE, SPA_MALFORMED if pkt
 * does not parse to m or is not a token's. spa_verify refuses token packets
 * (SPA_MALFORMED) and this one signed packets: neither key opens the other's.
 */
enum spa_verdict spa_verify_token(const uint8_t *pkt, size_t len, const struct spa_msg *m,
				  const uint8_t key[SPA_TOKEN_KEY_LEN]);

/*
 * Replay cache of (key name, nonce) pairs ("device" below: a key name; a
 * device and each of its apps have their own share). Run spa_replay_check only on
 * packets whose signature verified, so forgeries cannot fill it. Each
 * device has its own share of per_device entries, so one device's flood
 * evicts only its own: entries whose time is more than 2 x window old go
 * first; if the share is still full, that device's entry with the oldest
 * time is evicted and counted (spa_replay_evicted), since a replay of it
 * would then pass. At most `devices` devices are held at once; a device
 * slot is reused once it has no entry and its high-water mark is out of
 * the window.
 *
 * Across restarts: per device, the high-water mark is the latest time of a
 * packet it accepted. spa_replay_save writes them, spa_replay_load reads
 * the previous run's as floors: a packet dated at or before its device's
 * floor is refused as stale, since the previous run may have seen it.
 */
struct spa_replay;

/* NULL with errno set (EINVAL for 0 or too large, ENOMEM). Free with spa_replay_free. */
struct spa_replay *spa_replay_new(size_t devices, size_t per_device);
void spa_replay_free(struct spa_replay *c);

/*
 * SPA_CLOCK_SKEW if |now_s - m->time_s| > window_s, SPA_STALE if m->time_s
 * is not after the device's floor, SPA_REPLAY if the (device, nonce) pair
 * is in the cache, SPA_BUSY if every device slot is in use, else SPA_OK and
 * the pair is recorded (and the device's high-water mark raised).
 */
enum spa_verdict spa_replay_check(struct spa_replay *c, const struct spa_msg *m, uint64_t now_s,
				  uint64_t window_s);

/* Entries in the cache now, and live entries evicted because a device's share was full. */
size_t spa_replay_count(const struct spa_replay *c);
uint64_t spa_replay_evicted(const struct spa_replay *c);

/* True if a high-water mark rose since the last successful spa_replay_save/load. */
bool spa_replay_dirty(const struct spa_replay *c);

/*
 * Writes {"version":1,"devices":{"NAME":MARK,...}} to path atomically and
 * durably (lib/base/file.h), with the marks still inside the window. 0 or a
 * negative errno.
 */
int spa_replay_save(struct spa_replay *c, const char *path, uint64_t now_s, uint64_t window_s);

/*
 * Reads what spa_replay_save wrote into c's floors (c as new). A missing
 * file is an empty one. A mark more than window_s ahead of now_s is taken
 * as now_s + window_s (no packet beyond that passes the clock check
 * anyway). Returns 0, or -EINVAL (with "PATH: reason" in err) for anything
 * malformed, -ENOSPC for more devices than c holds, -errno if unreadable.
 */
int spa_replay_load(struct spa_replay *c, const char *path, uint64_t now_s, uint64_t window_s,
		    char *err, size_t errlen);

/*
 * Device keys, verified once: the Ed25519 or P-256 public key of
 * DIR/KEYNAME.crt (PEM). KEYNAME must pass spa_name_ok. The certificate's
 * identity (identity_from_cert in trust_domain) must be exactly that key
 * name: a certificate copied under another name is refused, the file's name
 * grants nothing. If ca is given it must chain to it, be valid now and fit
 * TLS client use (the same checks mTLS makes), through the intermediates
 * that follow it in the file (a chain file, as the device sends in TLS; up
 * to TLS_VERIFY_DEPTH).
 *
 * A key is kept with the identity of the file it came from (st_dev, st_ino,
 * size, mtime, ctime, from fstat of the descriptor read) and served while a
 * stat of the path shows the same identity and the certificate has not
 * expired; any change reads and checks the file again, and a file that is
 * gone or fails the checks stops the key at once. A refusal is kept
 * SPA_KEYS_RETRY_S for the same file, so a device whose certificate is bad
 * costs a stat per packet too. The CA store must not change while cached.
 */
#define SPA_KEYS_RETRY_S 1
struct spa_keys;

/* For up to `devices` devices (more: the least recently loaded goes). NULL with errno set. */
struct spa_keys *spa_keys_new(size_t devices);
void spa_keys_free(struct spa_keys *k);

/*
 * The key of key name `name` at now_s (wall clock), borrowed: valid until
 * the next call; *ident (if not NULL) is its certificate's identity, for the
 * policy. NULL with errno set (EINVAL bad name, ENOENT/EACCES file, EBADMSG
 * not a certificate, no identity or another key name's, another key type,
 * EKEYREJECTED chain) and a reason in err.
 */
EVP_PKEY *spa_keys_get(struct spa_keys *k, const char *dir, const char *name, X509_STORE *ca,
		       const char *trust_domain, uint64_t now_s, struct identity *ident, char *err,
		       size_t errlen);

/* How many times a certificate file was read and checked. */
uint64_t spa_keys_loads(const struct spa_keys *k);

#endif
