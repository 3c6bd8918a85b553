/* SPDX-License-Identifier: GPL-2.0 */
/* Who may reach what: [service] and [allow] sections, and a subject -> its scopes. */
#ifndef CG_POLICY_H
#define CG_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/tunnel.h"
#include "lib/base/addr.h"
#include "lib/base/name.h"

#define CG_SERVICES_MAX 64
#define CG_POLICIES_MAX 128
#define CG_POLICY_SERVICES_MAX 16
#define CG_SERVICE_PORTS_MAX 8
/* Device, group and app selectors of all [allow] sections together. */
#define CG_POLICY_SELECTORS_MAX 4096
/* Hash buckets of the selector index: a power of two, twice the selectors. */
#define CG_POLICY_BUCKETS (2 * CG_POLICY_SELECTORS_MAX)

/* "80", "443", "8000-8100": one inclusive range, host order. */
struct port_range {
	uint16_t lo, hi;
};

/* [service NAME]: what a session may reach (becomes cg_scope entries). */
struct service_cfg {
	char name[CG_NAME_MAX];
	uint8_t proto;	  /* IPPROTO_TCP / IPPROTO_UDP / IPPROTO_ICMP (ICMPv6 for IPv6 addresses) */
	struct cidr addr; /* address = 10.10.2.2 or 10.10.2.0/24 (host bits refused) */
	struct port_range ports[CG_SERVICE_PORTS_MAX]; /* ports = 80 443 8000-8100; none for ICMP */
	size_t nports;
};

/* What a selector compares, with what. */
enum policy_sel_kind {
	POLICY_SEL_NAME = 1,	/* device = NAME or @NAME: the device name, exactly */
	POLICY_SEL_PATTERN,	/* device = GLOB: the device name, '*' any run, '?' one */
	POLICY_SEL_GROUP,	/* device = #GROUP or group = GROUP: one of the subject's groups */
	POLICY_SEL_APP,		/* app = NAME */
	POLICY_SEL_APP_PATTERN, /* app = GLOB ('*' alone: any app) */
};

/* Which key of an [allow] section a selector was written under (policy_add). */
enum policy_key {
	POLICY_KEY_DEVICE, /* NAME, GLOB, @NAME or #GROUP */
	POLICY_KEY_GROUP,  /* GROUP */
	POLICY_KEY_APP,	   /* NAME or GLOB */
};

#define CG_POLICY_WORDS ((CG_POLICIES_MAX + 63) / 64)

/*
 * One distinct selector (kind and text) and the sections that have it, in the
 * pool of struct policy. Links are indexes + 1 into sels[] (0: none), so a
 * copy of struct policy is a working copy.
 */
struct policy_sel {
	char text[CG_NAME_MAX];		    /* the name, group or pattern, without '@' or '#' */
	uint64_t sections[CG_POLICY_WORDS]; /* bit i: policies[i] has this selector */
	uint16_t next;			    /* next in its hash chain */
	uint8_t kind;			    /* enum policy_sel_kind */
	uint8_t prefix;			    /* patterns: length of the text before a wildcard */
};

/* [allow NAME]: which devices, with which applications, reach which services. */
struct policy_cfg {
	char name[CG_NAME_MAX];
	uint16_t ndevsel;			   /* device and group selectors */
	uint16_t napps;				   /* app selectors; 0: device certificates only */
	uint32_t services[CG_POLICY_SERVICES_MAX]; /* services = web echo: indexes in services[] */
	size_t nservices;
	uint8_t mode; /* mode = encrypted (CG_TUN_F_ENCRYPTED, the default) | integrity (0) */
};

/*
 * The [service] and [allow] sections of a gateway config (lib/config fills
 * it; each policy's services are indexes in services[], resolved by the
 * config's checks).
 *
 * The index: policy_add keeps each distinct selector once, with a bitmap of
 * the sections that have it, in a hash table of fixed size inside the struct
 * (exact names, groups and apps by their text, patterns by their literal
 * prefix; dev_prefixes and app_prefixes say which prefix lengths occur). A
 * decision looks the subject's device up once per distinct pattern prefix
 * length and once whole, each group once, the app the same way, and ORs the
 * bitmaps of the selectors it finds: its cost depends on the selectors that
 * match and on the few pattern prefix lengths, never on the size of the
 * fleet or of the lists. Everything is in fixed arrays with index links:
 * struct policy is a plain value (copy it, memset it, free nothing); a zeroed
 * one is a valid empty policy. A reload builds a new struct policy
 * (config_parse_string/config_load) and swaps it in whole.
 */
struct policy {
	struct service_cfg services[CG_SERVICES_MAX];
	size_t nservices;
	struct policy_cfg policies[CG_POLICIES_MAX];
	size_t npolicies;
	struct policy_sel sels[CG_POLICY_SELECTORS_MAX];
	size_t nsels;
	uint16_t heads[CG_POLICY_BUCKETS];  /* first selector of each chain (index + 1) */
	uint64_t dev_prefixes;		    /* bit L: some device pattern has a prefix of L */
	uint64_t app_prefixes;		    /* bit L: some app pattern has a prefix of L */
	uint64_t with_app[CG_POLICY_WORDS]; /* bit i: policies[i] has app selectors */
};

/* Who asks: a certificate's identity and the device's groups. */
struct policy_subject {
	const char *device;	   /* 1..63 name */
	const char *app;	   /* "" = the device's own certificate */
	const char *const *groups; /* certificate groups and groups set through the API */
	size_t ngroups;
};

/* Why a subject gets a session or not: one log line per auth decision. */
enum policy_verdict {
	POLICY_OK = 0,
	POLICY_UNKNOWN_DEVICE,	/* no [allow] section selects the device (name or group) */
	POLICY_APP_NOT_ALLOWED, /* sections select the device, none with this app */
};

/* "ok", "unknown_device", "app_not_allowed" (for logs, stats and JSON). */
const char *policy_verdict_str(enum policy_verdict v);

/*
 * Adds one selector written under key to section (an index below npolicies)
 * and to the index. Returns 0; -EINVAL with *why when sel is not a valid
 * selector for key (see docs/config.md); -EEXIST when the section already has
 * the same selector (NAME and @NAME are the same, so are #G and group = G);
 * -ENOSPC when the pool of distinct selectors (CG_POLICY_SELECTORS_MAX; one
 * selector in several sections counts once) is full. Nothing is added on an
 * error.
 */
int policy_add(struct policy *policy, size_t section, enum policy_key key, const char *sel,
	       const char **why);

/*
 * True if pattern (name characters, '*' for any run of them, '?' for one)
 * matches all of name.
 */
bool policy_glob(const char *pattern, const char *name);

/*
 * The verdict for subject: POLICY_OK when at least one [allow] section
 * matches it: one of its device or group selectors matches the device or one
 * of the groups, and the app matches its app selectors (a section without
 * app selectors matches app "" only; a section with some never matches app
 * ""). A device, app or group that is not a valid name matches nothing. Then *mode
 * (if mode is not NULL) is the tunnel mode those sections grant:
 * CG_TUN_F_ENCRYPTED if any of them says encrypted (the stricter wins), 0
 * (integrity) only if all of them say integrity. *mode is untouched on a
 * refusal.
 */
enum policy_verdict policy_check(const struct policy *policy, const struct policy_subject *subject,
				 uint8_t *mode);

/*
 * The union of the scopes of every [allow] that matches subject (as in
 * policy_check). A service becomes one scope per port range (one for ICMP,
 * ports 0); IPv4 addresses as ::ffff:a.b.c.d with plen + 96; identical
 * scopes appear once; order: sections, services, ranges as in the file.
 * Returns 0 and writes out[0..*n), -EACCES when no section matches
 * (policy_check says why), -E2BIG if more than max (which counts as at most
 * CG_MAX_SCOPES: a session holds no more; the config checks each section
 * alone, a union of several is only known here). out and *n are written only
 * on success.
 */
int policy_scopes(const struct policy *policy, const struct policy_subject *subject,
		  struct cg_scope *out, size_t max, size_t *n);

/*
 * The scopes of one [allow] section (section: an index in policy->policies), same form.
 * 0, -EINVAL (no such section) or -E2BIG; out and *n written only on success.
 */
int policy_scopes_of(const struct policy *policy, size_t section, struct cg_scope *out, size_t max,
		     size_t *n);

#endif
