// SPDX-License-Identifier: GPL-2.0
/* Policy evaluation: [allow] sections selected through an index, [service] into cg_scope. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/policy/policy.h"

#define WORDS ((CG_POLICIES_MAX + 63) / 64)

_Static_assert((CG_POLICY_BUCKETS & (CG_POLICY_BUCKETS - 1)) == 0, "buckets: a power of two");
_Static_assert(CG_POLICY_SELECTORS_MAX < UINT16_MAX, "links are uint16_t");
_Static_assert(CG_POLICIES_MAX <= UINT16_MAX, "sections are uint16_t");
_Static_assert(CG_NAME_MAX <= 64, "prefix_lens has a bit per prefix length");

/* The sections a subject matches: a bit per section. */
struct hits {
	uint64_t w[WORDS];
};

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
	size_t len = strlen(s);

	if (len >= CG_NAME_MAX) {
		*why = "a pattern has at most 63 characters";
		return -EINVAL;
	}
	if (strspn(s, NAME_CHARS "*?") != len) {
		*why = "a pattern holds name characters (A-Z a-z 0-9 _ . -), '*' and '?' only";
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

/* The literal text before the first wildcard, or all of an exact name or group. */
static size_t key_len(enum policy_sel_kind kind, const char *text)
{
	return kind == POLICY_SEL_PATTERN ? strcspn(text, "*?") : strlen(text);
}

static bool is_app(enum policy_sel_kind kind)
{
	return kind == POLICY_SEL_APP || kind == POLICY_SEL_APP_PATTERN;
}

int policy_add(struct policy *policy, size_t section, enum policy_key key, const char *sel,
	       const char **why)
{
	struct policy_cfg *pol;
	enum policy_sel_kind kind;
	struct policy_sel *s;
	const char *text;
	size_t b = 0, klen;
	uint16_t i, *head;

	if (section >= policy->npolicies) {
		*why = "no such section";
		return -EINVAL;
	}
	if (sel_parse(key, sel, &kind, &text, why))
		return -EINVAL;
	pol = &policy->policies[section];
	klen = key_len(kind, text);
	if (is_app(kind)) {
		head = &pol->app_head;
	} else {
		b = bucket_n(text, klen);
		head = &policy->heads[b];
	}
	for (i = *head; i; i = s->next) {
		s = &policy->sels[i - 1];
		if (s->section == section && s->kind == kind && !strcmp(s->text, text)) {
			*why = "listed twice in the section";
			return -EEXIST;
		}
	}
	if (policy->nsels == CG_POLICY_SELECTORS_MAX) {
		*why = "more selectors in all [allow] sections together than the pool holds";
		return -ENOSPC;
	}
	s = &policy->sels[policy->nsels];
	memset(s, 0, sizeof(*s));
	strcpy(s->text, text);
	s->section = (uint16_t)section;
	s->kind = (uint8_t)kind;
	s->next = *head;
	*head = (uint16_t)++policy->nsels;
	if (is_app(kind)) {
		pol->napps++;
	} else {
		pol->ndevsel++;
		if (kind == POLICY_SEL_PATTERN) {
			s->prefix = (uint8_t)klen;
			policy->prefix_lens |= 1ULL << klen;
		}
	}
	return 0;
}

/* ---- deciding ------------------------------------------------------------- */

static void hit(struct hits *h, size_t section)
{
	h->w[section / 64] |= 1ULL << (section % 64);
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
		if (++w == WORDS)
			return CG_POLICIES_MAX;
	}
}

/*
 * Device selectors in bucket b for dev (len characters) at prefix length l:
 * the patterns with a literal prefix of l that match and, at l == len, the
 * exact names.
 */
static void walk_device(const struct policy *policy, size_t b, const char *dev, size_t len,
			size_t l, struct hits *h)
{
	const struct policy_sel *s;
	uint16_t i;

	for (i = policy->heads[b]; i; i = s->next) {
		s = &policy->sels[i - 1];
		if (s->kind == POLICY_SEL_NAME
			    ? l == len && !strcmp(s->text, dev)
			    : s->kind == POLICY_SEL_PATTERN && s->prefix == l &&
				      !memcmp(s->text, dev, l) && policy_glob(s->text + l, dev + l))
			hit(h, s->section);
	}
}

static void walk_group(const struct policy *policy, const char *group, struct hits *h)
{
	const struct policy_sel *s;
	uint16_t i;

	for (i = policy->heads[bucket_n(group, strlen(group))]; i; i = s->next) {
		s = &policy->sels[i - 1];
		if (s->kind == POLICY_SEL_GROUP && !strcmp(s->text, group))
			hit(h, s->section);
	}
}

static bool app_matches(const struct policy *policy, const struct policy_cfg *pol, const char *app)
{
	const struct policy_sel *s;
	uint16_t i;

	if (!app[0])
		return !pol->napps;
	for (i = pol->app_head; i; i = s->next) {
		s = &policy->sels[i - 1];
		if (s->kind == POLICY_SEL_APP ? !strcmp(s->text, app) : policy_glob(s->text, app))
			return true;
	}
	return false;
}

/* The sections that match subject, into *h (zeroed first), and the verdict. */
static enum policy_verdict select_sections(const struct policy *policy,
					   const struct policy_subject *sub, struct hits *h)
{
	const char *dev = sub->device;
	uint32_t hash = FNV_BASIS;
	bool any = false;
	size_t len, l, i;

	memset(h, 0, sizeof(*h));
	if (!name_valid(dev))
		return POLICY_UNKNOWN_DEVICE;
	/* One pass over the name: a look-up at each prefix length some pattern has, and at the
	 * whole name. */
	len = strlen(dev);
	for (l = 0;; l++) {
		if (l == len || (policy->prefix_lens >> l & 1))
			walk_device(policy, bucket_of(hash), dev, len, l, h);
		if (l == len)
			break;
		hash = fnv_step(hash, (unsigned char)dev[l]);
	}
	for (i = 0; i < sub->ngroups; i++)
		walk_group(policy, sub->groups[i], h);
	if (hits_next(h, 0) == CG_POLICIES_MAX)
		return POLICY_UNKNOWN_DEVICE;
	if (sub->app[0] && !name_valid(sub->app)) {
		memset(h, 0, sizeof(*h));
		return POLICY_APP_NOT_ALLOWED;
	}
	for (i = hits_next(h, 0); i < CG_POLICIES_MAX; i = hits_next(h, i + 1)) {
		if (app_matches(policy, &policy->policies[i], sub->app))
			any = true;
		else
			h->w[i / 64] &= ~(1ULL << (i % 64));
	}
	return any ? POLICY_OK : POLICY_APP_NOT_ALLOWED;
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
