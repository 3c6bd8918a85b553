#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make soak: SOAK_CYCLES (1,000) connect/vanish cycles of agents under
# traffic, half ending with a bye (SIGTERM), half with SIGKILL, integrity and
# encrypted sessions in turn, with the gateway killed (SIGKILL) and started
# again every SOAK_CRASH_EVERY (100) cycles; then no session, map slot, pool
# address, file descriptor or RSS growth over 5 % may be left (docs/testing.md).
#
#   c1 (10.10.1.2) ─┐                       ┌ server 10.10.2.2: tcp 80 (HTTP),
#   c2 (10.10.1.3) ─┴ sw (bridge) ── ext0 gw int0   tcp 22, udp 7 (echo)
#
# c1 cycles: dev1 (integrity) and dev3 (encrypted), each cycle fetching a page
# through its session and vanishing while a paced TCP stream is in flight; c2
# holds dev2's encrypted session through each life of the gateway, which the
# cycles beside it must leave alone.
set -euo pipefail
. "$(dirname "$0")/../lib/netns.sh"
. "$(dirname "$0")/../lib/cycles.sh"
netns_private "$@"

SESSMAP_COUNT=$(dirname "$CAPGATE")/tests/tools/sessmap_count
[ -x "$CAPGATE" ] || { echo "SKIP: build/capgate is not built"; exit 4; }
[ -x "$SESSMAP_COUNT" ] || { echo "SKIP: $SESSMAP_COUNT is not built"; exit 4; }
TMP=$(mktemp -d /tmp/cg-soak.XXXXXX)
trap 'rc=$?; rm -rf "$TMP"; netns_cleanup "$rc"' EXIT
SOAK_CYCLES=${SOAK_CYCLES:-1000}
SOAK_CRASH_EVERY=${SOAK_CRASH_EVERY:-100}
# Cycles after each start before the baseline of its fds and RSS is taken.
SOAK_WARMUP=${SOAK_WARMUP:-10}
# dead_after (2 s, the least allowed) after the last keepalive, and the poll's slack.
CYCLE_GONE=6
# dev2's session in c2 stays listed beside the cycling one.
CYCLE_BASE=1

C1=cgs-c1-$$ C2=cgs-c2-$$ SW=cgs-sw-$$ GW=cgs-gw-$$ SRV=cgs-srv-$$
API=unix:$TMP/api.sock
PKI=$TMP/pki
GWPID=
STREAM=

topology() {
	lan_topology $C1 $C2 $SW $GW $SRV
	mkdir -p "$TMP/www"
	echo "behind capgate" >"$TMP/www/index.html"
	# Their logs (a line per request, a reset per vanished stream) go to server.log.
	bg $SRV python3 -m http.server --directory "$TMP/www" --bind 10.10.2.2 80 \
		2>>"$TMP/server.log"
	bg $SRV python3 "$TLIB/tcpx.py" serve-tcp 22 2>>"$TMP/server.log"
	bg $SRV python3 "$TLIB/tcpx.py" serve-udp 7 2>>"$TMP/server.log"
	poll 10 nsx $SRV curl -sf -m 1 http://10.10.2.2/
}

gateway_config() {
	{
		gateway_ini_head s$$ $API "$TMP/state" "$PKI"
		# dead_after: the least allowed; session_ttl: no renewal (a second session
		# of dev2 for a moment) within a life of the gateway.
		cat <<-EOF
			keepalive = 1s
			dead_after = 2s
			session_ttl = 1h

			[service web]
			proto = tcp
			address = 10.10.2.2
			ports = 80 22

			[service echo]
			proto = udp
			address = 10.10.2.2
			ports = 7

			[allow integrity]
			device = dev1
			app = sensor
			mode = integrity
			services = web echo

			[allow encrypted]
			device = dev2 dev3
			app = sensor
			services = web echo
		EOF
	} >"$TMP/gw.ini"
}

cg() { nsx $GW "$CAPGATE" --api $API "$@"; }
connect() {
	bg "$1" "$CAPGATE" connect --config "$TMP/$2.ini" 2>>"$TMP/agent.log"
	AGENT=$BG_PID
}
sessions() { cg -j session list | jq length; }
has_sessions() { [ "$(sessions)" -eq "$1" ]; }
auth_of() { cg -j stats | jq -r ".auth.$1"; }
session_of() { cg -j session list | jq -r --arg d "$1" 'map(select(.device == $d)) | .[0].id'; }
map_entries() { "$SESSMAP_COUNT" "/sys/fs/bpf/capgate/s$$/tun_sessions"; }
no_tun() { ! nsx "$1" ip link show cg0 >/dev/null 2>&1; }
http_ok() { nsx "$1" curl -sf -m 2 http://10.10.2.2/ | grep -q "behind capgate"; }
udp_ok() { nsx "$1" python3 "$TLIB/tcpx.py" udp 10.10.2.2 7 1; }
echoed() { [ -s "$TMP/progress" ] && [ "$(cat "$TMP/progress")" -gt 0 ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }
no_session_listed() { [ "$(cg session list)" = "no sessions" ]; }

# flowing NS [CRASH]: a page through the session, then a paced TCP stream to the
# echo server, left running, until bytes come back; with CRASH, the gateway
# is killed and started again first (the agents must come back by themselves).
flowing() {
	CYCLE_FAILED="the gateway's restart"
	[ -z "${2:-}" ] || crash || return 1
	CYCLE_FAILED="no page through the session within 5 s"
	poll 5 http_ok "$1" || return 1
	rm -f "$TMP/progress"
	PROGRESS=$TMP/progress bg "$1" python3 "$TLIB/tcpx.py" stream 10.10.2.2 22 5000000 1000000
	STREAM=$BG_PID
	CYCLE_FAILED="no byte of the stream echoed within 5 s"
	poll 5 echoed
}

# crash: SIGKILL of the gateway with both sessions up, then a new start; both
# agents reconnect (the new run cleared the old run's sessions from the map)
crash() {
	local wpid
	wpid=$(auth_of worker.pid)
	pp stop "$GWPID" KILL
	# The auth worker dies with its parent (PR_SET_PDEATHSIG).
	poll 5 gone "$wpid" || { echo "# the old auth worker $wpid outlived its gateway"; return 1; }
	gw_start $GW $API "$TMP" || return 1
	poll 30 has_sessions 2
}

# crash_cycle I: cycle I crashes the gateway on the way: the last of each
# SOAK_CRASH_EVERY cycles, but the last of all
crash_cycle() { [ $((($1 + 1) % SOAK_CRASH_EVERY)) -eq 0 ] && [ $(($1 + 1)) -lt "$SOAK_CYCLES" ]; }

# soak_cycle I: cycle I, dev1 or dev3 by twos, bye or SIGKILL in turn
soak_cycle() {
	local i=$1 conf=cint sig=TERM crash= rc=0
	[ $((i / 2 % 2)) -eq 0 ] || conf=cenc
	[ $((i % 2)) -eq 0 ] || sig=KILL
	if crash_cycle "$i"; then
		crash=1
	fi
	cycle $C1 $conf $sig flowing $C1 $crash || rc=1
	[ -z "$STREAM" ] || stop "$STREAM"
	STREAM=
	# A TUN that outlived its agent would stop the next one building its own.
	if [ "$rc" -eq 0 ] && ! no_tun $C1; then
		CYCLE_FAILED="a TUN outlived its agent"
		rc=1
	fi
	return $rc
}

# Each life of the gateway (from a start to its SIGKILL, or to the end): its
# fds and RSS after SOAK_WARMUP cycles and at its end, both taken between
# cycles (dev2's session up, no other), and dev2's session at its start.
LIFE_FDS0=() LIFE_RSS0=() LIFE_FDS=() LIFE_RSS=() LIFE_FROM=() LIFE_TO=()
life_begin() {
	LIFE_FROM+=("$1")
	STEADY=$(session_of dev2)
}
life_end() {
	local k=$((${#LIFE_FROM[@]} - 1))
	LIFE_TO+=("$1")
	LIFE_FDS+=("$(proc_fds "$GWPID")")
	LIFE_RSS+=("$(proc_rss "$GWPID")")
	check "life${k}_steady_session_kept" test "$(session_of dev2)" = "$STEADY"
	check "life${k}_steady_session_works" udp_ok $C2
	check "life${k}_pool_matches_sessions" test "$(auth_of addresses_used)" -eq "$(sessions)"
	check "life${k}_map_matches_sessions" test "$(map_entries)" -eq "$(sessions)"
}

topology
pki_devices "$PKI" dev1@sensor dev2@sensor dev3@sensor
gateway_config
client_ini_head "$PKI" dev1@sensor >"$TMP/cint.ini"
client_ini_head "$PKI" dev3@sensor >"$TMP/cenc.ini"
client_ini_head "$PKI" dev2@sensor >"$TMP/steady.ini"
gw_start $GW $API "$TMP"
connect $C2 steady
STEADY_AGENT=$AGENT
check "steady_session" poll 20 has_sessions 1
check "steady_session_works" poll 5 udp_ok $C2

start=$SECONDS
ok=0
life_begin 0
for ((i = 0; i < SOAK_CYCLES; i++)); do
	since=$((i - ${LIFE_FROM[-1]}))
	if [ "$since" -eq "$SOAK_WARMUP" ]; then
		LIFE_FDS0[${#LIFE_FROM[@]} - 1]=$(proc_fds "$GWPID")
		LIFE_RSS0[${#LIFE_FROM[@]} - 1]=$(proc_rss "$GWPID")
	fi
	# The crash comes inside this cycle: the life ends before it.
	if crash_cycle "$i"; then
		life_end "$i"
		soak_cycle "$i" || break
		life_begin "$i"
	else
		soak_cycle "$i" || break
	fi
	ok=$((ok + 1))
done
took=$((SECONDS - start))
if [ "$ok" -ne "$SOAK_CYCLES" ]; then
	echo "# cycle $i failed: $CYCLE_FAILED; sessions:" \
		"$(cg -j session list | jq -c 'map({device, id})')"
fi
check "cycles_completed_$SOAK_CYCLES" test "$ok" -eq "$SOAK_CYCLES"
life_end "$ok"

# fds: none more than after the warm-up; RSS: at most 5 % more (each life,
# the last one being the gateway that ran since the last restart).
for k in "${!LIFE_TO[@]}"; do
	[ -n "${LIFE_FDS0[$k]:-}" ] || continue
	f0=${LIFE_FDS0[$k]} f1=${LIFE_FDS[$k]} r0=${LIFE_RSS0[$k]} r1=${LIFE_RSS[$k]}
	echo "# life $k: cycles ${LIFE_FROM[$k]}..${LIFE_TO[$k]}, fds $f0 -> $f1," \
		"RSS $r0 -> $r1 kB ($(awk -v a="$r0" -v b="$r1" 'BEGIN { printf "%+.2f", (b - a) * 100 / a }') %)"
	check "life${k}_no_fd_leaked" test "$f1" -le "$f0"
	check "life${k}_rss_within_5pct" test $((r1 * 100)) -le $((r0 * 105))
done

stop "$STEADY_AGENT"
check "no_session_left" poll 10 has_sessions 0
check "no_session_in_cli" no_session_listed
check "no_session_counted" test "$(auth_of sessions)" -eq 0
check "no_map_slot_left" test "$(map_entries)" -eq 0
check "no_pool_address_left" test "$(auth_of addresses_used)" -eq 0
check "no_tun_left" no_tun $C1
check "no_steady_tun_left" no_tun $C2
echo "# $ok cycles in ${took} s; gateway $GWPID: fds $(proc_fds "$GWPID"), RSS $(proc_rss "$GWPID") kB;" \
	"sessions $(sessions), map slots $(map_entries), pool addresses $(auth_of addresses_used)"
echo "# the last life's auth counters: $(cg -j stats | jq -c '.auth.auth | {granted, revoked, expired, resumed}')"
t_done
