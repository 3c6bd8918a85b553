// SPDX-License-Identifier: GPL-2.0
/* The daemon's session table: ids, virtual addresses, renewal overlap, JSON. */
#include <errno.h>
#include <netinet/in.h>

#include "lib/auth/session.h"
#include "lib/base/addr.h"
#include "lib/tunnel/aead.h"
#include "tests/lib/t.h"

static struct session mk(const char *vip, const char *device)
{
	struct session s = { 0 };

	addr_parse_mapped(vip, s.vip);
	snprintf(s.cert.device, sizeof(s.cert.device), "%s", device);
	snprintf(s.cert.app, sizeof(s.cert.app), "sensor");
	return s;
}

static void test_add_find_del(void)
{
	struct session_table *t = session_table_new(2);
	struct session a = mk("100.64.0.2", "dev1"), b = mk("100.64.0.3", "dev2"),
		       c = mk("100.64.0.4", "dev3");

	if (!ASSERT_TRUE(t != NULL, "new"))
		return;
	a.installed = b.installed = true;
	ASSERT_EQ(session_add(t, &a), 0, "add a");
	ASSERT_TRUE(a.id != 0, "id set");
	ASSERT_EQ(session_add(t, &b), 0, "add b");
	ASSERT_TRUE(a.id != b.id, "ids differ");
	ASSERT_EQ(session_add(t, &c), -ENOSPC, "full");
	ASSERT_STREQ(session_find(t, b.id)->cert.device, "dev2", "find b");
	ASSERT_EQ(session_del(t, a.id, 1), 0, "del a");
	ASSERT_EQ(session_del(t, a.id, 1), -ENOENT, "del a again");
	ASSERT_TRUE(session_find(t, a.id) == NULL, "a gone");
	ASSERT_TRUE(!session_holds_vip(t, a.vip), "a's address free");
	ASSERT_EQ(session_count(t), 1, "count");
	ASSERT_STREQ(session_at(t, 0)->cert.device, "dev2", "at 0");
	ASSERT_TRUE(session_at(t, 1) == NULL, "at 1");
	session_table_free(t);
}

/*
 * Every slot of the gate's map can be used, each id names its own slot, and a
 * freed slot rests SESSION_SLOT_REST_NS before a new session takes it.
 */
static void test_slots(void)
{
	struct session_table *t = session_table_new(CG_MAX_SESSIONS);
	static uint8_t seen[CG_MAX_SESSIONS];
	struct session s = mk("100.64.0.2", "dev1");
	uint32_t i, dup = 0, victim = 0;

	if (!ASSERT_TRUE(t != NULL, "new"))
		return;
	ASSERT_TRUE(session_table_new(CG_MAX_SESSIONS + 1) == NULL, "more than the map holds");
	s.created_ns = 1;
	for (i = 0; i < CG_MAX_SESSIONS; i++) {
		if (session_add(t, &s))
			break;
		dup += !s.id || seen[CG_SESSION_SLOT(s.id)]++;
		if (i == 1000)
			victim = s.id;
	}
	ASSERT_EQ(i, CG_MAX_SESSIONS, "all slots used");
	ASSERT_EQ(dup, 0, "a zero id or a slot used twice");
	ASSERT_EQ(session_add(t, &s), -ENOSPC, "full");
	ASSERT_EQ(session_del(t, victim, 100), 0, "free one");
	s.created_ns = 100 + SESSION_SLOT_REST_NS - 1;
	ASSERT_EQ(session_add(t, &s), -EBUSY, "the freed slot rests");
	s.created_ns = 100 + SESSION_SLOT_REST_NS;
	ASSERT_EQ(session_add(t, &s), 0, "rested");
	ASSERT_EQ(CG_SESSION_SLOT(s.id), CG_SESSION_SLOT(victim), "in the freed slot");
	session_table_free(t);
}

static void test_renewal_replies_to_newest_installed(void)
{
	struct session_table *t = session_table_new(4);
	struct session a = mk("100.64.0.2", "dev1"), b = mk("100.64.0.2", "dev1");

	a.installed = true;
	ASSERT_EQ(session_add(t, &a), 0, "add");
	b.created_ns = 10;
	ASSERT_EQ(session_add(t, &b), 0, "renewal granted");
	session_find(t, b.id)->installed = true;
	ASSERT_EQ(session_del(t, b.id, 1), 0, "del new");
	ASSERT_TRUE(session_holds_vip(t, a.vip), "old still holds the address");
	session_table_free(t);
}

static void test_json(void)
{
	struct session s = mk("100.64.0.2", "dev1");
	struct cg_scope *sc = &s.scopes[0];
	json_t *j;

	addr_parse_mapped("10.10.2.0", sc->addr);
	sc->plen = 96 + 24;
	sc->proto = IPPROTO_UDP;
	sc->port_lo = sc->port_hi = 7;
	s.nscopes = 1;
	s.id = 42;
	s.expires_ns = 100ULL * 1000000000ULL;
	j = session_json(&s, 10ULL * 1000000000ULL);
	if (!ASSERT_TRUE(j != NULL, "json"))
		return;
	ASSERT_EQ(json_integer_value(json_object_get(j, "expires_in")), 90, "expires_in");
	ASSERT_STREQ(json_string_value(json_object_get(j, "vip")), "100.64.0.2", "vip");
	ASSERT_STREQ(json_string_value(json_object_get(
			     json_array_get(json_object_get(j, "scopes"), 0), "dst")),
		     "10.10.2.0/24", "scope dst");
	ASSERT_STREQ(json_string_value(json_object_get(
			     json_array_get(json_object_get(j, "scopes"), 0), "ports")),
		     "7-7", "scope ports");
	ASSERT_STREQ(json_string_value(json_object_get(j, "mode")), "integrity", "mode");
	ASSERT_TRUE(json_is_null(json_object_get(j, "cipher")), "no cipher for integrity");
	json_decref(j);
	s.mode = CG_TUN_F_ENCRYPTED;
	s.cipher = CG_CIPHER_AES256_GCM;
	j = session_json(&s, 10ULL * 1000000000ULL);
	if (!ASSERT_TRUE(j != NULL, "json"))
		return;
	ASSERT_STREQ(json_string_value(json_object_get(j, "mode")), "encrypted", "mode");
	ASSERT_STREQ(json_string_value(json_object_get(j, "cipher")), "aes-256-gcm", "cipher");
	json_decref(j);
}

/* Who may take over a session's address: the same device and app, while the session is in use. */
static void test_resume_refusal(void)
{
	struct session live = mk("100.64.0.2", "dev1"), fresh = mk("100.64.0.2", "dev1"),
		       renewed = mk("100.64.0.2", "dev1");
	static const struct {
		const char *name;
		int which; /* 0 none, 1 live, 2 fresh, 3 renewed */
		const char *device, *app, *want;
	} t[] = {
		{ "same device and app", 1, "dev1", "sensor", NULL },
		{ "gone", 0, "dev1", "sensor", "no such session" },
		{ "another device", 1, "dev2", "sensor", "another device's session" },
		{ "a device whose name extends it", 1, "dev10", "sensor",
		  "another device's session" },
		{ "another app", 1, "dev1", "shell", "another application's session" },
		{ "not installed yet", 2, "dev1", "sensor", "a session not yet in use" },
		{ "replaced by a renewal", 3, "dev1", "sensor", "a session replaced by a renewal" },
	};
	const struct session *of[] = { NULL, &live, &fresh, &renewed };
	const char *got;
	size_t i;

	live.installed = renewed.installed = renewed.superseded = true;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		got = session_resume_refusal(of[t[i].which], t[i].device, t[i].app);
		if (!t[i].want)
			ASSERT_TRUE(got == NULL, t[i].name);
		else if (ASSERT_TRUE(got != NULL, t[i].name))
			ASSERT_STREQ(got, t[i].want, t[i].name);
	}
}

T_MAIN(T_CASE(test_resume_refusal), T_CASE(test_add_find_del), T_CASE(test_slots),
       T_CASE(test_renewal_replies_to_newest_installed), T_CASE(test_json))
