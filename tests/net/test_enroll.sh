#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Enrollment by one-time token, end to end: `capgate ca token` on the CA side,
# `capgate enroll` on a device (its key made there, the gateway pinned by the
# token's CA hash, after SPA like every door), then `capgate connect` with the
# certificate it got, through the tunnel. A reused, expired or altered token
# is refused and counted; a gateway of another CA never sees the token.
#
#   c1 (10.10.1.2) ─┐                       ┌ server 10.10.2.2: tcp 80 (HTTP)
#   c2 (10.10.1.3) ─┴ sw (bridge) ── ext0 gw int0
set -euo pipefail
. "$(dirname "$0")/../lib/netns.sh"
netns_private "$@"

[ -x "$CAPGATE" ] || { echo "SKIP: build/capgate is not built"; exit 4; }
TMP=$(mktemp -d /tmp/cg-enr.XXXXXX)
trap 'rc=$?; rm -rf "$TMP"; netns_cleanup "$rc"' EXIT

C1=cge-c1-$$ C2=cge-c2-$$ SW=cge-sw-$$ GW=cge-gw-$$ SRV=cge-srv-$$
API=unix:$TMP/api.sock
PKI=$TMP/pki

lan_topology $C1 $C2 $SW $GW $SRV
mkdir -p "$TMP/www"
echo "behind capgate" >"$TMP/www/index.html"
bg $SRV python3 -m http.server --directory "$TMP/www" --bind 10.10.2.2 80
poll 10 nsx $SRV curl -sf -m 1 http://10.10.2.2/

pp "$CAPGATE" ca init --dir "$PKI" --gateway gw --ip 10.10.1.1 >/dev/null
# Another CA for the same gateway address: its tokens name another CA hash.
"$CAPGATE" ca init --dir "$TMP/other" --gateway gw --ip 10.10.1.1 >/dev/null
{
	gateway_ini_head e$$ $API "$TMP/state" "$PKI"
	cat <<-EOF
		keepalive = 1s
		dead_after = 4s
		; the door of one SPA outlives the whole script: refusals from c1 reach TLS
		spa_open = 5m
		enroll = yes

		[service web]
		proto = tcp
		address = 10.10.2.2
		ports = 80

		[allow sensors]
		device = new1 new2
		app = sensor
		services = web
	EOF
} >"$TMP/gw.ini"

cg() { nsx $GW "$CAPGATE" --api $API "$@"; }
enroll_of() { cg -j stats | jq -r ".auth.enroll.$1"; }
spa_of() { cg -j stats | jq -r ".auth.spa.$1"; }
is() { [ "$("${@:2}")" = "$1" ]; }
token() { "$CAPGATE" ca token --dir "$1" --device "$2" --app sensor --group sensors --ttl "$3" 2>/dev/null; }
# enroll NS DIR TOKEN-FILE: capgate enroll on a device; output in DIR.out
enroll() {
	nsx "$1" "$CAPGATE" enroll --gateway 10.10.1.1 --token-file "$3" --dir "$2" \
		--timeout 3s >"$2.out" 2>&1
}
refused_with() { grep -q "$2" "$1.out"; }
mode_of() { stat -c %a "$1"; }
sessions() { cg -j session list | jq length; }
has_sessions() { [ "$(sessions)" -eq "$1" ]; }
tun_up() { nsx "$1" ip link show cg0 >/dev/null 2>&1; }
http_ok() { nsx "$1" curl -sf -m 2 http://10.10.2.2/ | grep -q "behind capgate"; }
expired() { [ "$(date +%s)" -ge "$1" ]; }
enroll_total() { cg -j stats | jq '[.auth.enroll[]] | add'; }
# altered FILE: the token in FILE with the first digit of its secret changed
altered() {
	local t
	t=$(cat "$1")
	[ "${t:21:1}" = 0 ] && echo "${t:0:21}1${t:22}" || echo "${t:0:21}0${t:22}"
}

check "gateway_up" gw_start $GW $API "$TMP"

token "$PKI" new1 1h >"$TMP/t1"
check "token_format" grep -Eq '^cg1\.[0-9a-f]{16}\.[0-9a-f]{64}\.[0-9a-f]{64}$' "$TMP/t1"
check "token_record_0600" is 600 mode_of "$PKI"/tokens/*.json
check "enroll_by_token" enroll $C1 "$TMP/d1" "$TMP/t1"
check "enroll_prints_identity" grep -q "enrolled as spiffe://capgate/device/new1/app/sensor" "$TMP/d1.out"
check "device_key_0600" is 600 mode_of "$TMP/d1/new1@sensor.key"
check "key_never_left_device" not test -e "$PKI/new1@sensor.key"
check "gateway_has_certificate" test -s "$PKI/new1@sensor.crt"
check "ca_pinned" cmp -s "$TMP/d1/ca.crt" "$PKI/ca.crt"
check "enroll_ok_counted" is 1 enroll_of ok
check "token_spa_opened_the_door" is 1 spa_of ok

# The enrolled device connects with what it got and passes traffic.
cat >"$TMP/c1.ini" <<EOF
[client]
gateway = 10.10.1.1
ca = $TMP/d1/ca.crt
cert = $TMP/d1/new1@sensor.crt
key = $TMP/d1/new1@sensor.key
tun = cg0
retry_max = 2s
EOF
bg $C1 "$CAPGATE" connect --config "$TMP/c1.ini" 2>>"$TMP/agent.log"
AGENT=$BG_PID
check "enrolled_device_gets_session" poll 20 has_sessions 1
check "enrolled_device_tun_up" poll 5 tun_up $C1
check "http_through_tunnel" poll 5 http_ok $C1
stop $AGENT

# Used once. From the same source (the door of its first SPA is still open) the gateway
# says why; from another, the token's SPA no longer opens the door at all.
check "reuse_refused_same_source" not enroll $C1 "$TMP/d2" "$TMP/t1"
check "reuse_reason_spent" refused_with "$TMP/d2" "enroll: spent"
check "reuse_counted" is 1 enroll_of spent
check "refused_enroll_leaves_no_key" not test -e "$TMP/d2/new1@sensor.key"
spa_unknown=$(spa_of unknown_device)
check "reuse_refused_other_source" not enroll $C2 "$TMP/d3" "$TMP/t1"
check "reuse_spa_refused" is $((spa_unknown + 1)) spa_of unknown_device

# Expired: a token of 1 s, used after its expiry.
token "$PKI" new2 1s >"$TMP/t2"
exp=$(jq -r .expires "$PKI/tokens/$(cut -d. -f2 "$TMP/t2").json")
poll 5 expired "$exp"
check "expired_refused" not enroll $C2 "$TMP/d4" "$TMP/t2"
check "expired_spa_refused" is $((spa_unknown + 2)) spa_of unknown_device
check "expired_not_enrolled" not test -e "$PKI/new2@sensor.crt"

# Altered: one hex digit of the secret changed: the SPA's MAC does not verify.
token "$PKI" new2 1h >"$TMP/t3"
altered "$TMP/t3" >"$TMP/t3bad"
bad_sig=$(spa_of bad_signature)
check "altered_refused" not enroll $C2 "$TMP/d5" "$TMP/t3bad"
check "altered_spa_counted" is $((bad_sig + 1)) spa_of bad_signature

# A token of another CA: the device refuses this gateway before it sends the token
# (from C1, whose door is open, so the TLS handshake happens).
token "$TMP/other" new1 1h >"$TMP/t4"
enrolls=$(enroll_total)
check "other_ca_refused_by_device" not enroll $C1 "$TMP/d6" "$TMP/t4"
check "other_ca_reason" refused_with "$TMP/d6" "not the gateway the token was made for"
check "other_ca_gateway_saw_nothing" is "$enrolls" enroll_total

# The good token of new2 still works after all that.
check "unspent_token_still_works" enroll $C2 "$TMP/d7" "$TMP/t3"
check "enroll_ok_twice" is 2 enroll_of ok
t_done
