#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# SPA under attack, with a real gateway: a flood of forged packets for a known
# device is counted in full but logged once per reason (then summarised); a
# packet the previous run accepted is refused as stale after a restart, from
# any source; a damaged nonce state file stops the start.
#
#   c1 (10.10.1.2) ─┐
#   c2 (10.10.1.3) ─┴ sw (bridge) ── ext0 gw int0 ── server (unused)
set -euo pipefail
. "$(dirname "$0")/../lib/netns.sh"
netns_private "$@"

SPA_SEND=$(dirname "$CAPGATE")/tests/tools/spa_send
[ -x "$CAPGATE" ] || { echo "SKIP: build/capgate is not built"; exit 4; }
[ -x "$SPA_SEND" ] || { echo "SKIP: $SPA_SEND is not built"; exit 4; }
TMP=$(mktemp -d /tmp/cg-spa.XXXXXX)
trap 'rc=$?; rm -rf "$TMP"; netns_cleanup "$rc"' EXIT

C1=cgs-c1-$$ C2=cgs-c2-$$ SW=cgs-sw-$$ GW=cgs-gw-$$ SRV=cgs-srv-$$
API=unix:$TMP/api.sock
PKI=$TMP/pki
STATE=$TMP/state/s$$/spa_seen.json
GWPID=

lan_topology $C1 $C2 $SW $GW $SRV
pp "$CAPGATE" ca init --dir "$PKI" --gateway gw --ip 10.10.1.1 >/dev/null
"$CAPGATE" ca issue --dir "$PKI" --device dev1 --app sensor >/dev/null
cat >"$TMP/gw.ini" <<EOF2
[gateway]
interface = ext0
name = s$$
api = $API
state_dir = $TMP/state
default = drop

[auth]
ca = $PKI/ca.crt
cert = $PKI/gateway.crt
key = $PKI/gateway.key
pool = 100.64.0.0/24
; the daemon's own counting and logging under a flood: the gate's per-source
; SPA limit (tests/net/test_tunnel.sh checks it) raised out of the way
spa_rate = 1000000
spa_burst = 1000000

[service web]
proto = tcp
address = 10.10.2.2
ports = 80

[allow sensors]
device = dev1
app = sensor
services = web
EOF2

cg() { nsx $GW "$CAPGATE" --api $API "$@"; }
spa_of() { cg -j stats | jq -r ".auth.spa.$1"; }
spa_is() { [ "$(spa_of "$1")" -eq "$2" ]; }
door_for() { cg -j knock list | jq -e --arg s "$1" '.open | map(.source) | index($s) != null' >/dev/null; }
send() { nsx "$1" "$SPA_SEND" 10.10.1.1 62201 "${@:2}" >/dev/null; }
refusal_lines() { grep -c 'spa: refused .*: bad_signature' "$TMP/gw.log" || true; }
exits_1() { local rc=0; "$@" || rc=$?; [ "$rc" -eq 1 ]; }
# A signed packet dated now, until one is accepted (one dated in the second of the last run's
# last packet is stale: the retry a restart may cost).
fresh_accepted() {
	local before
	before=$(spa_of ok)
	send $C1 1 0 sign "$PKI/dev1@sensor.key" dev1@sensor
	poll 1 spa_is ok $((before + 1))
}

gw_start $GW $API "$TMP"

# 2,000 forgeries for a device in [allow], at 2,000/s: each counted, one log line.
# What the kernel dropped before the daemon read it (a full socket queue, as on a
# loaded machine) is counted apart.
forged_counted() { [ $(($(spa_of bad_signature) + $(spa_of kernel_dropped))) -eq 2000 ]; }
send $C1 2000 2000 forge "$PKI/dev1@sensor.key" dev1@sensor
check "forged_flood_counted" poll 10 forged_counted
check "forged_flood_read" test "$(spa_of bad_signature)" -gt 0
echo "# forgeries: $(spa_of bad_signature) read, $(spa_of kernel_dropped) dropped by the kernel"
check "forged_flood_one_log_line" test "$(refusal_lines)" -le 2
check "forged_flood_summarised" poll 8 grep -q 'more refused (bad_signature), not logged' "$TMP/gw.log"
check "forged_opens_nothing" not door_for 10.10.1.2

# A genuine packet; the nonce state is on disk before the door opens.
send $C1 1 0 sign "$PKI/dev1@sensor.key" dev1@sensor "$TMP/spa.pkt"
check "signed_accepted" poll 5 spa_is ok 1
check "signed_opens_door" door_for 10.10.1.2
check "state_written" jq -e '.devices["dev1@sensor"] > 0' "$STATE"

# The same packet after a restart, from another source: stale, no door.
check "restart_sigterm_exit_0" gw_stop
gw_start $GW $API "$TMP"
send $C2 1 0 file "$TMP/spa.pkt"
check "restart_replay_refused_stale" poll 5 spa_is stale 1
check "restart_replay_not_accepted" spa_is ok 0
check "restart_replay_opens_nothing" not door_for 10.10.1.3
check "restart_fresh_packet_accepted" poll 5 fresh_accepted

# A damaged state file: the start is refused, saying which file.
check "sigterm_exit_0_before_damaged_state" gw_stop
echo '{' >"$STATE"
gw_once() { nsx $GW timeout 20 "$CAPGATE" gateway --config "$TMP/gw.ini" 2>>"$TMP/gw.log"; }
check "damaged_state_refused" exits_1 gw_once
check "damaged_state_named" grep -q "error: $STATE:" "$TMP/gw.log"
t_done
