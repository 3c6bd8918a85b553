// SPDX-License-Identifier: GPL-2.0
/* Policy evaluation: [allow] sections selected through an index, [service] into cg_scope. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/policy/policy.h"

_Static_assert((CG_POLICY_BUCKETS & (CG_POLICY_BUCKETS - 1)) == 0, "buckets: a power of two");
_Static_assert(CG_POLICY_SELECTORS_MAX < UINT16_MAX, "links are uint16_t");
_Static_assert(CG_NAME_MAX <= 64, "dev_prefixes and app_prefixes: a bit per prefix length");

const char *policy_verdict_str(enum policy_verdict v)
{
	switch (v) {
	case POLICY_OK:
		return "ok";
	case POLICY_UNKNOWN_DEVICE:
		return "unknown_device";
	case POLICY_APP_NOT_ALLOWED:
		return "app_not_allowed";
	}
	return "unknown";
}

/* FNV-1a, step by step: a name's hash passes through the hash of each of its prefixes. */
#define FNV_BASIS 2166136261u

static uint32_t fnv_step(uint32_t h, unsigned char c)
{
	return (h ^ c) * 16777619u;
}

/* The bucket of hash h (murmur3's finalizer spreads FNV's low bits). */
static size_t bucket_of(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h & (CG_POLICY_BUCKETS - 1);
}

static size_t bucket_n(const char *s, size_t n)
{
	uint32_t h = FNV_BASIS;
	size_t i;

	for (i = 0; i < n; i++)
		h = fnv_step(h, (unsigned char)s[i]);
	return bucket_of(h);
}

bool policy_glob(const char *p, const char *n)
{
	const char *star = NULL, *back = NULL;

	/* On a mismatch, the last '*' takes one more character: linear in practice. */
	while (*n) {
		if (*p == '*') {
			star = ++p;
			back = n;
		} else if (*p == '?' || *p == *n) {
			p++;
			n++;
		} else if (star) {
			p = star;
			n = ++back;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return !*p;
}

/* ---- building ------------------------------------------------------------- */

static bool is_pattern(const char *s)
{
	return strpbrk(s, "*?") != NULL;
}

/* A glob over name characters. 0 or -EINVAL with *why. */
static int pattern_valid(const char *s, const char **why)
{
	size_t len = strlen(s), i;

	if (len >= CG_NAME_MAX) {
		*why = "a pattern has at most 63 characters";
		return -EINVAL;
	}
	for (i = 0; i < len; i++)
		if (!name_char(s[i]) && s[i] != '*' && s[i] != '?') {
			*why = "a pattern holds name characters (A-Z a-z 0-9 _ . -), '*' and '?' "
			       "only";
			return -EINVAL;
		}
	if (strstr(s, "**")) {
		*why = "\"**\" is the same as \"*\": write one";
		return -EINVAL;
	}
	return 0;
}

/* sel under key -> kind and text (sel without its sigil). 0 or -EINVAL with *why. */
static int sel_parse(enum policy_key key, const char *sel, enum policy_sel_kind *kind,
		     const char **text, const char **why)
{
	*text = sel;
	switch (key) {
	case POLICY_KEY_DEVICE:
		if (sel[0] == '@' || sel[0] == '#') {
			*kind = sel[0] == '@' ? POLICY_SEL_NAME : POLICY_SEL_GROUP;
			*text = sel + 1;
			*why = sel[0] == '@' ? "@ takes a device name (" NAME_RULE ", no pattern)"
					     : "# takes a group name (" NAME_RULE ", no pattern)";
			return name_valid(*text) ? 0 : -EINVAL;
		}
		if (is_pattern(sel)) {
			*kind = POLICY_SEL_PATTERN;
			return pattern_valid(sel, why);
		}
		*kind = POLICY_SEL_NAME;
		*why = "not a device name (" NAME_RULE "), @NAME, #GROUP or a pattern";
		return name_valid(sel) ? 0 : -EINVAL;
	case POLICY_KEY_GROUP:
		*kind = POLICY_SEL_GROUP;
		*why = "not a group name (" NAME_RULE ", no pattern)";
		return name_valid(sel) ? 0 : -EINVAL;
	case POLICY_KEY_APP:
		if (is_pattern(sel)) {
			*kind = POLICY_SEL_APP_PATTERN;
			return pattern_valid(sel, why);
		}
		*kind = POLICY_SEL_APP;
		*why = "not an app name (" NAME_RULE ") or a pattern";
		return name_valid(sel) ? 0 : -EINVAL;
	}
	*why = "no such key";
	return -EINVAL;
}

static bool is_pattern_kind(enum policy_sel_kind kind)
{
	return kind == POLICY_SEL_PATTERN || kind == POLICY_SEL_APP_PATTERN;
}

static void set_bit(uint64_t *w, size_t i)
{
	w[i / 64] |= 1ULL << (i % 64);
}

int policy_add(struct policy *policy, size_t section, enum policy_key key, const char *sel,
	       const char **why)
{
	struct policy_cfg *pol;
	enum policy_sel_kind kind;
	struct policy_sel *s;
	const char *text;
	size_t klen;
	uint16_t i, *head;

	if (section >= policy->npolicies) {
		*why = "no such section";
		return -EINVAL;
	}
	if (sel_parse(key, sel, &kind, &text, why))
		return -EINVAL;
	pol = &policy->policies[section];
	/* A pattern's bucket is its literal prefix's; the others', their whole text's. */
	klen = is_pattern_kind(kind) ? strcspn(text, "*?") : strlen(text);
	head = &policy->heads[bucket_n(text, klen)];
	for (i = *head; i; i = s->next) {
		s = &policy->sels[i - 1];
		if (s->kind == kind && !strcmp(s->text, text))
			break;
	}
	if (i && (s->sections[section / 64] >> (section % 64) & 1)) {
		*why = "listed twice in the section";
		return -EEXIST;
	}
	if (!i) {
		if (policy->nsels == CG_POLICY_SELECTORS_MAX) {
			*why = "more distinct selectors in all [allow] sections together than the "
			       "pool holds";
			return -ENOSPC;
		}
		s = &policy->sels[policy->nsels];
		memset(s, 0, sizeof(*s));
		strcpy(s->text, text);
		s->kind = (uint8_t)kind;
		s->prefix = (uint8_t)klen;
		s->next = *head;
		*head = (uint16_t)++policy->nsels;
		if (kind == POLICY_SEL_PATTERN)
			policy->dev_prefixes |= 1ULL << klen;
		if (kind == POLICY_SEL_APP_PATTERN)
			policy->app_prefixes |= 1ULL << klen;
	}
	set_bit(s->sections, section);
	if (kind == POLICY_SEL_APP || kind == POLICY_SEL_APP_PATTERN) {
		pol->napps++;
		set_bit(policy->with_app, section);
	} else {
		pol->ndevsel++;
	}
	return 0;
}

/* ---- deciding ------------------------------------------------------------- */

/* The sections a subject matches: a bit per section. */
struct hits {
	uint64_t w[CG_POLICY_WORDS];
};

static void hits_or(struct hits *h, const uint64_t *w)
{
	size_t i;

	for (i = 0; i < CG_POLICY_WORDS; i++)
		h->w[i] |= w[i];
}

/* The first section at or past from in *h, or CG_POLICIES_MAX: a step per hit, not per section. */
static size_t hits_next(const struct hits *h, size_t from)
{
	size_t w = from / 64;
	uint64_t bits;

	if (from >= CG_POLICIES_MAX)
		return CG_POLICIES_MAX;
	for (bits = h->w[w] & (~0ULL << (from % 64));; bits = h->w[w]) {
		if (bits)
			return w * 64 + (size_t)__builtin_ctzll(bits);
		if (++w == CG_POLICY_WORDS)
			return CG_POLICIES_MAX;
	}
}

/* What one look-up compares: exact selectors of one kind, patterns of another (or none). */
struct probe {
	const char *name;
	size_t len;
	enum policy_sel_kind exact, pattern;
	uint64_t prefixes; /* bit L: look up the prefix of L characters too */
};

/*
 * The selectors in bucket b that match the probe at prefix length l: the
 * patterns with a literal prefix of l that match and, at l == len, the exact
 * ones. Their sections go into *h.
 */
static void walk(const struct policy *policy, size_t b, const struct probe *q, size_t l,
		 struct hits *h)
{
	const struct policy_sel *s;
	uint16_t i;

	for (i = policy->heads[b]; i; i = s->next) {
		s = &policy->sels[i - 1];
		if (s->kind == q->exact ? l == q->len && !strcmp(s->text, q->name)
					: s->kind == q->pattern && s->prefix == l &&
						  !memcmp(s->text, q->name, l) &&
						  policy_glob(s->text + l, q->name + l))
			hits_or(h, s->sections);
	}
}

/* One pass over the name: a look-up at each prefix length a pattern has, and at the whole. */
static void lookup(const struct policy *policy, const struct probe *q, struct hits *h)
{
	uint32_t hash = FNV_BASIS;
	size_t l;

	for (l = 0;; l++) {
		if (l == q->len || (q->prefixes >> l & 1))
			walk(policy, bucket_of(hash), q, l, h);
		if (l == q->len)
			break;
		hash = fnv_step(hash, (unsigned char)q->name[l]);
	}
}

static bool hits_any(const struct hits *h)
{
	return hits_next(h, 0) < CG_POLICIES_MAX;
}

/* The sections that match subject, into *h (zeroed first), and the verdict. */
static enum policy_verdict select_sections(const struct policy *policy,
					   const struct policy_subject *sub, struct hits *h)
{
	struct probe q = { .name = sub->device,
			   .exact = POLICY_SEL_NAME,
			   .pattern = POLICY_SEL_PATTERN,
			   .prefixes = policy->dev_prefixes };
	struct hits apps = { { 0 } };
	size_t i;

	memset(h, 0, sizeof(*h));
	if (!name_valid(sub->device))
		return POLICY_UNKNOWN_DEVICE;
	q.len = strlen(q.name);
	lookup(policy, &q, h);
	for (i = 0; i < sub->ngroups; i++) {
		if (!name_valid(sub->groups[i]))
			continue;
		q = (struct probe){ .name = sub->groups[i],
				    .len = strlen(sub->groups[i]),
				    .exact = POLICY_SEL_GROUP };
		lookup(policy, &q, h);
	}
	if (!hits_any(h))
		return POLICY_UNKNOWN_DEVICE;
	if (!sub->app[0]) {
		/* The device's own certificate: the sections without app selectors. */
		for (i = 0; i < CG_POLICY_WORDS; i++)
			h->w[i] &= ~policy->with_app[i];
	} else {
		if (name_valid(sub->app)) {
			q = (struct probe){ .name = sub->app,
					    .len = strlen(sub->app),
					    .exact = POLICY_SEL_APP,
					    .pattern = POLICY_SEL_APP_PATTERN,
					    .prefixes = policy->app_prefixes };
			lookup(policy, &q, &apps);
		}
		for (i = 0; i < CG_POLICY_WORDS; i++)
			h->w[i] &= apps.w[i];
	}
	return hits_any(h) ? POLICY_OK : POLICY_APP_NOT_ALLOWED;
}

enum policy_verdict policy_check(const struct policy *policy, const struct policy_subject *subject,
				 uint8_t *mode)
{
	enum policy_verdict v;
	struct hits h;
	uint8_t m = 0;
	size_t i;

	v = select_sections(policy, subject, &h);
	if (v != POLICY_OK)
		return v;
	/* Several sections may match: the stricter mode wins (encrypted over integrity). */
	for (i = hits_next(&h, 0); i < CG_POLICIES_MAX; i = hits_next(&h, i + 1))
		m |= policy->policies[i].mode;
	if (mode)
		*mode = m;
	return POLICY_OK;
}

/* Range r of svc (ICMP: r is ignored) as a scope. */
static void service_scope(const struct service_cfg *svc, size_t r, struct cg_scope *s)
{
	memset(s, 0, sizeof(*s));
	cidr_to_mapped(&svc->addr, s->addr, &s->plen);
	s->proto = svc->proto;
	if (svc->nports) {
		s->port_lo = svc->ports[r].lo;
		s->port_hi = svc->ports[r].hi;
	}
}

/* Appends the scopes of pol to out[*n..max) that are not there yet. 0 or -E2BIG. */
static int add_policy(const struct policy *policy, const struct policy_cfg *pol,
		      struct cg_scope *out, size_t max, size_t *n)
{
	const struct service_cfg *svc;
	struct cg_scope s;
	size_t i, r, k, nr;

	for (i = 0; i < pol->nservices; i++) {
		if (pol->services[i] >= policy->nservices)
			return -EINVAL;
		svc = &policy->services[pol->services[i]];
		nr = svc->nports ? svc->nports : 1;
		for (r = 0; r < nr; r++) {
			service_scope(svc, r, &s);
			for (k = 0; k < *n; k++)
				if (!memcmp(&out[k], &s, sizeof(s)))
					break;
			if (k < *n)
				continue;
			if (*n == max)
				return -E2BIG;
			out[(*n)++] = s;
		}
	}
	return 0;
}

int policy_scopes(const struct policy *policy, const struct policy_subject *subject,
		  struct cg_scope *out, size_t max, size_t *n)
{
	struct cg_scope tmp[CG_MAX_SCOPES];
	size_t i, cnt = 0, lim = max < CG_MAX_SCOPES ? max : CG_MAX_SCOPES;
	struct hits h;
	int err;

	if (select_sections(policy, subject, &h) != POLICY_OK)
		return -EACCES;
	for (i = hits_next(&h, 0); i < CG_POLICIES_MAX; i = hits_next(&h, i + 1)) {
		err = add_policy(policy, &policy->policies[i], tmp, lim, &cnt);
		if (err)
			return err;
	}
	memcpy(out, tmp, cnt * sizeof(tmp[0]));
	*n = cnt;
	return 0;
}

int policy_scopes_of(const struct policy *policy, size_t section, struct cg_scope *out, size_t max,
		     size_t *n)
{
	struct cg_scope tmp[CG_MAX_SCOPES];
	size_t cnt = 0, lim = max < CG_MAX_SCOPES ? max : CG_MAX_SCOPES;
	int err;

	if (section >= policy->npolicies)
		return -EINVAL;
	err = add_policy(policy, &policy->policies[section], tmp, lim, &cnt);
	if (err)
		return err;
	memcpy(out, tmp, cnt * sizeof(tmp[0]));
	*n = cnt;
	return 0;
}
