#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The daemon under a flood of forged SPA packets (a device in [allow], bad
# signature), with a session's return path in use: per rate, the packets the
# daemon counted, its CPU share, the CPU time per forged packet, and the
# round trip of pings through the tunnel (the replies take the daemon's
# return path, on the same thread as SPA). Twice: with the gate's per-source
# SPA limit raised out of the way (the daemon's own cost per forgery), then
# with the default limit (spa_rate 2/s, spa_burst 5: what the daemon sees of a
# flood from one source).
#
#   c1 (capgate connect; ping) ─┐
#   c2 (spa_send flood)        ─┴ sw ── ext0 gw (capgate gateway) int0 ── srv 10.10.2.2
#
# Usage (root): bench/spa_flood.sh    Env: RATES="0 2000 4000 8000 16000" DUR=5
#   CAPGATE=path/to/capgate (its dir holds tests/tools/spa_send) to time another build.
set -euo pipefail
. "$(dirname "$0")/../tests/lib/netns.sh"
netns_private "$@"

SPA_SEND=$(dirname "$CAPGATE")/tests/tools/spa_send
[ -x "$CAPGATE" ] || { echo "SKIP: build/capgate is not built"; exit 4; }
[ -x "$SPA_SEND" ] || { echo "SKIP: $SPA_SEND is not built"; exit 4; }
RATES=${RATES:-"0 2000 4000 8000 16000"}
DUR=${DUR:-5}
TMP=$(mktemp -d /tmp/cg-spab.XXXXXX)
trap 'rc=$?; rm -rf "$TMP"; netns_cleanup "$rc"' EXIT
C1=cgb-c1-$$ C2=cgb-c2-$$ SW=cgb-sw-$$ GW=cgb-gw-$$ SRV=cgb-srv-$$
API=unix:$TMP/api.sock
PKI=$TMP/pki

lan_topology $C1 $C2 $SW $GW $SRV >/dev/null 2>&1
"$CAPGATE" ca init --dir "$PKI" --gateway gw --ip 10.10.1.1 >/dev/null
"$CAPGATE" ca issue --dir "$PKI" --device dev1 --app sensor >/dev/null
gw_config() {
	cat >"$TMP/gw.ini" <<EOF2
[gateway]
interface = ext0
name = b$$
api = $API
state_dir = $TMP/state
default = drop

[auth]
ca = $PKI/ca.crt
cert = $PKI/gateway.crt
key = $PKI/gateway.key
pool = 100.64.0.0/24
keepalive = 1s
$1

[service ping]
proto = icmp
address = 10.10.2.2

[allow sensors]
device = dev1
app = sensor
services = ping
mode = integrity
EOF2
}
cat >"$TMP/c1.ini" <<EOF2
[client]
gateway = 10.10.1.1
ca = $PKI/ca.crt
cert = $PKI/dev1@sensor.crt
key = $PKI/dev1@sensor.key
app = sensor
tun = cg0
EOF2

cg() { nsx $GW "$CAPGATE" --api $API "$@"; }
api_up() { cg -j stats >/dev/null 2>&1; }
bad_sig() { cg -j stats | jq -r .auth.spa.bad_signature; }
ping_ok() { nsx $C1 ping -c 1 -W 1 10.10.2.2 >/dev/null; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

HZ=$(getconf CLK_TCK)

# run_mode TITLE [AUTH LINES]: a fresh gateway and session, then every rate.
run_mode() {
	local rate n b0 t0 s0 pingpid s1 t1 b1 got cpu_s wall_s share per rtt loss agent
	echo "$1"
	gw_config "${2:-}"
	rm -rf "$TMP/state"
	bg $GW "$CAPGATE" gateway --config "$TMP/gw.ini" 2>"$TMP/gw.log"
	GWPID=$BG_PID
	poll 15 api_up
	bg $C1 "$CAPGATE" connect --config "$TMP/c1.ini" 2>"$TMP/agent.log"
	agent=$BG_PID
	poll 20 ping_ok || { echo "no session: see the agent's log"; cat "$TMP/agent.log"; exit 1; }

	printf '%-12s %-10s %-10s %-9s %-12s %-22s\n' "offered/s" "sent" "counted" "daemon" \
		"µs/packet" "ping rtt min/avg/max ms"
	for rate in $RATES; do
		n=$((rate * DUR))
		b0=$(bad_sig)
		t0=$(cpu_ticks "$GWPID")
		s0=$(date +%s%N)
		nsx $C1 ping -q -c $((DUR * 10)) -i 0.1 10.10.2.2 >"$TMP/ping" 2>&1 &
		pingpid=$!
		if [ "$rate" -gt 0 ]; then
			nsx $C2 "$SPA_SEND" 10.10.1.1 62201 "$n" "$rate" forge "$PKI/dev1@sensor.key" dev1@sensor >/dev/null
		fi
		wait $pingpid || true
		s1=$(date +%s%N)
		t1=$(cpu_ticks "$GWPID")
		b1=$(bad_sig)
		got=$((b1 - b0))
		cpu_s=$(echo "($t1 - $t0) / $HZ" | bc -l)
		wall_s=$(echo "($s1 - $s0) / 1000000000" | bc -l)
		share=$(printf '%.0f%%' "$(echo "100 * $cpu_s / $wall_s" | bc -l)")
		per=-
		[ "$got" -gt 0 ] && per=$(printf '%.1f' "$(echo "1000000 * $cpu_s / $got" | bc -l)")
		rtt=$(awk -F'[ /]' '/^rtt|^round-trip/ {print $7 "/" $8 "/" $9}' "$TMP/ping")
		loss=$(grep -o '[0-9.]*% packet loss' "$TMP/ping" | cut -d% -f1)
		printf '%-12s %-10s %-10s %-9s %-12s %-22s\n' "$rate" "$n" "$got" "$share" "$per" \
			"${rtt:-none} (loss ${loss:-?}%)"
	done
	stop "$agent"
	stop "$GWPID"
}

run_mode "-- the gate's SPA limit raised out of the way: the daemon's own cost" \
	"spa_rate = 1000000
spa_burst = 1000000"
echo
run_mode "-- the default SPA limit (2/s, burst 5 per source): a flood from one source"
