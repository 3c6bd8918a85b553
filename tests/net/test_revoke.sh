#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Revocation and live policy with real `capgate connect` agents: `capgate
# device revoke` stops a live session's traffic at once and refuses its
# reconnects (SPA refused "revoked"), unrevoke lets it back; SIGHUP with an
# [allow] removed ends exactly its sessions while another device's keeps
# passing; a config that needs a restart, or does not parse, changes nothing
# (SIGHUP and POST /v1/reload); a CRL made by `openssl ca` ends the session of
# the certificate it lists; device groups set and removed through the CLI.
#
#   c1 dev1 (10.10.1.2) ─┐                       ┌ server 10.10.2.2: udp 7 (echo)
#   c2 dev2 (10.10.1.3) ─┴ sw (bridge) ── ext0 gw int0
set -euo pipefail
. "$(dirname "$0")/../lib/netns.sh"
netns_private "$@"

[ -x "$CAPGATE" ] || { echo "SKIP: build/capgate is not built"; exit 4; }
command -v openssl >/dev/null || { echo "SKIP: no openssl"; exit 4; }
TMP=$(mktemp -d /tmp/cg-rev.XXXXXX)
trap 'rc=$?; rm -rf "$TMP"; netns_cleanup "$rc"' EXIT

C1=cgr-c1-$$ C2=cgr-c2-$$ SW=cgr-sw-$$ GW=cgr-gw-$$ SRV=cgr-srv-$$
API=unix:$TMP/api.sock
PKI=$TMP/pki
GWPID=

# gateway_config [ALLOW-B] [EXTRA-AUTH]: dev1 in [allow a]; dev2 in [allow b] unless ALLOW-B is "no"
gateway_config() {
	{
		gateway_ini_head r$$ $API "$TMP/state" "$PKI"
		echo "keepalive = 1s"
		echo "dead_after = 4s"
		[ -z "${2:-}" ] || echo "$2"
		cat <<-EOF

			[service echo]
			proto = udp
			address = 10.10.2.2
			ports = 7

			[allow a]
			device = dev1
			app = sensor
			services = echo
			mode = integrity
		EOF
		[ "${1:-yes}" = no ] || cat <<-EOF

			[allow b]
			device = dev2
			app = sensor
			services = echo
			mode = integrity
		EOF
	} >"$TMP/gw.ini"
}

cg() { nsx $GW "$CAPGATE" --api $API "$@"; }
api_up() { cg -j stats >/dev/null 2>&1; }
sessions() { cg -j session list | jq length; }
has_sessions() { [ "$(sessions)" -eq "$1" ]; }
# session_of DEVICE: its session id ("" if none)
session_of() { cg -j session list | jq -r --arg d "$1" 'map(select(.device == $d)) | .[0].id // ""'; }
has_session_of() { [ -n "$(session_of "$1")" ]; }
stat_is() { [ "$(cg -j stats | jq -r "$1")" = "$2" ]; }
cg_jq() { cg -j stats | jq -r "$1"; }
udp_ok() { nsx "$1" python3 "$TLIB/tcpx.py" udp 10.10.2.2 7 1; }
reload_api() { nsx $GW curl -s --unix-socket "${API#unix:}" -o "$TMP/reload.json" -w '%{http_code}' -X POST "http://localhost/v1/reload"; }
code_is() { [ "$("$@")" = "$CODE" ]; }

lan_topology $C1 $C2 $SW $GW $SRV
UDP_LOG=$TMP/udp7.log bg $SRV python3 "$TLIB/tcpx.py" serve-udp 7
pki_devices "$PKI" dev1@sensor dev2@sensor
gateway_config
bg $GW "$CAPGATE" gateway --config "$TMP/gw.ini" 2>"$TMP/gw.log"
GWPID=$BG_PID
poll 15 api_up
for c in c1:dev1@sensor c2:dev2@sensor; do
	client_ini_head "$PKI" "${c#*:}" >"$TMP/${c%%:*}.ini"
done
bg $C1 "$CAPGATE" connect --config "$TMP/c1.ini" 2>>"$TMP/agent1.log"
bg $C2 "$CAPGATE" connect --config "$TMP/c2.ini" 2>>"$TMP/agent2.log"
check "both_sessions" poll 20 has_sessions 2
check "c1_passes" poll 10 udp_ok $C1
check "c2_passes" poll 10 udp_ok $C2

# ---- capgate device revoke / unrevoke --------------------------------------
check "device_revoke" cg device revoke dev1 --note "lost in test"
# The API call ends the session before it answers: at once, not at the next tick.
check "revoke_ends_session_at_once" has_sessions 1
check "revoked_traffic_stops" not udp_ok $C1
check "other_device_passes" udp_ok $C2
revocations_has() { cg -j device revocations | jq -e '.[0].device == "dev1" and .[0].note == "lost in test"' >/dev/null; }
revocation_table() { cg device revocations | grep -q 'device dev1 .*lost in test'; }
check "revocations_listed" revocations_has
check "revocation_table" revocation_table
check "revoked_counted" stat_is .auth.auth.sessions_revoked 1
# The agent reconnects: its SPA packets are refused, it gets no session.
check "reconnect_spa_refused" poll 15 not stat_is .auth.spa.revoked 0
check "reconnect_no_session" not has_session_of dev1
check "revoke_twice_refused" not cg device revoke dev1
check "device_unrevoke" cg device unrevoke dev1
check "unrevoked_reconnects" poll 20 has_session_of dev1
check "unrevoked_passes" poll 10 udp_ok $C1

# ---- device groups through the API -------------------------------------------
groups_are() { cg -j device list | jq -e --arg d "$1" --argjson g "$2" '.[$d] == $g' >/dev/null; }
check "device_group" cg device group dev1 sensors floor2 sensors
check "device_groups_listed" groups_are dev1 '["sensors","floor2"]'
groups_table() { cg device list | grep -q 'dev1 .*sensors floor2'; }
check "device_groups_table" groups_table
check "device_group_bad_name" not cg device group dev1 "a b"
check "device_group_keeps_session" has_session_of dev1
check "device_group_removed" cg device group dev1
check "device_groups_gone" groups_are dev1 null

# ---- live policy: SIGHUP -----------------------------------------------------
S1=$(session_of dev1)
gateway_config no
kill -HUP "$GWPID"
check "sighup_ends_removed_allow" poll 5 not has_session_of dev2
check "sighup_keeps_other_session" [ "$(session_of dev1)" = "$S1" ]
check "sighup_other_passes" udp_ok $C1
check "sighup_counted" poll 5 stat_is .reload.reloads 1
check "sighup_policy_counted" stat_is .auth.auth.sessions_revoked_by_policy 1
check "removed_device_refused" poll 15 not stat_is .auth.auth.denied_policy 0

# A key that needs a restart: refused, nothing changes.
gateway_config no "session_ttl = 5m"
kill -HUP "$GWPID"
check "sighup_restart_key_refused" poll 5 stat_is .reload.reload_failed 1
check "refused_reload_keeps_session" [ "$(session_of dev1)" = "$S1" ]
check "refused_reload_logged" poll 5 grep -q "session_ttl changed" "$TMP/gw.log"
CODE=409 check "api_reload_restart_key_409" code_is reload_api
check "api_reload_names_key" jq -e '.error | contains("[auth] session_ttl")' "$TMP/reload.json"
echo "[allow" >>"$TMP/gw.ini"
CODE=422 check "api_reload_bad_file_422" code_is reload_api
check "bad_reload_counted" stat_is .reload.reload_failed 3
check "bad_reload_keeps_traffic" udp_ok $C1
# dev2 back through POST /v1/reload.
gateway_config
CODE=200 check "api_reload_ok" code_is reload_api
check "api_reload_counts" jq -e '.sessions_kept == 1 and .sessions_revoked == 0' "$TMP/reload.json"
check "readded_device_reconnects" poll 20 has_session_of dev2

# ---- a CRL made by an external CA tool (openssl ca) --------------------------
mkdir -p "$TMP/ca"
: >"$TMP/ca/index.txt"
cat >"$TMP/ca/ca.cnf" <<-EOF
	[ca]
	default_ca = cg
	[cg]
	database = $TMP/ca/index.txt
	default_md = default
	default_crl_days = 1
EOF
revoke_cert() {
	openssl ca -config "$TMP/ca/ca.cnf" -keyfile "$PKI/ca.key" -cert "$PKI/ca.crt" \
		-revoke "$PKI/$1@sensor.crt" >/dev/null 2>&1
}
gen_crl() {
	openssl ca -config "$TMP/ca/ca.cnf" -keyfile "$PKI/ca.key" -cert "$PKI/ca.crt" \
		-gencrl -out "$TMP/ca/crl.tmp" >/dev/null 2>&1 && mv "$TMP/ca/crl.tmp" "$PKI/ca.crl"
}
check "openssl_empty_crl" gen_crl
S1=$(session_of dev1)
gateway_config yes "crl = $PKI/ca.crl"
CODE=200 check "crl_by_reload" code_is reload_api
check "crl_loaded" stat_is .auth.crl.lists 1
check "openssl_revokes_dev2" revoke_cert dev2
check "openssl_crl" gen_crl
spa_rev0=$(cg -j stats | jq -r .auth.spa.revoked)
check "crl_change_ends_listed" poll 3 not has_session_of dev2
# Its agent knocks again: a certificate the CRL lists opens no door (SPA refused "revoked").
check "crl_listed_spa_refused" poll 10 gt_than "$spa_rev0" cg_jq .auth.spa.revoked
check "crl_keeps_other" [ "$(session_of dev1)" = "$S1" ]
check "crl_counted" stat_is .auth.auth.crl_reloads 2
check "crl_other_passes" udp_ok $C1
t_done
