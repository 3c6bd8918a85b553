#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Encrypted mode end to end with a real gateway and real agents: HTTP and a
# 100 MB transfer through the tunnel with nothing of the server's plaintext
# on the wire, the gate's prefilter (replay refused in XDP) and the data
# workers' refusals (a flipped byte), a client that asks for encryption where
# the policy allows integrity, SIGKILL of the agent, 100 connect/vanish
# cycles that must leave nothing; and a renewal that changes the scopes: the
# agent routes what the new capability names and no more, and a transfer to
# a scope it keeps runs across the renewal.
#
#   c1 (10.10.1.2) ─┐                       ┌ server 10.10.2.2: tcp 80 (HTTP),
#   c2 (10.10.1.3) ─┴ sw (bridge) ── ext0 gw int0   udp 7 (echo)
set -euo pipefail
. "$(dirname "$0")/../lib/netns.sh"
. "$(dirname "$0")/../lib/cycles.sh"
netns_private "$@"

SESSMAP_COUNT=$(dirname "$CAPGATE")/tests/tools/sessmap_count
[ -x "$CAPGATE" ] || { echo "SKIP: build/capgate is not built"; exit 4; }
[ -x "$SESSMAP_COUNT" ] || { echo "SKIP: $SESSMAP_COUNT is not built"; exit 4; }
TMP=$(mktemp -d /tmp/cg-enc.XXXXXX)
trap 'rc=$?; rm -rf "$TMP"; netns_cleanup "$rc"' EXIT
CYCLES=${CYCLES:-100}

C1=cge-c1-$$ C2=cge-c2-$$ SW=cge-sw-$$ GW=cge-gw-$$ SRV=cge-srv-$$
API=unix:$TMP/api.sock
PKI=$TMP/pki
MARKER="capgate-plaintext-marker-$$"
GWPID=

topology() {
	lan_topology $C1 $C2 $SW $GW $SRV
	mkdir -p "$TMP/www"
	echo "$MARKER" >"$TMP/www/index.html"
	# 100 MB of the marker: any plaintext of it on the client's wire would show.
	head -c 104857600 < <(yes "$MARKER") >"$TMP/www/big"
	sha256sum <"$TMP/www/big" | cut -d' ' -f1 >"$TMP/big.sha"
	bg $SRV python3 -m http.server --directory "$TMP/www" --bind 10.10.2.2 80
	UDP_LOG=$TMP/udp7.log bg $SRV python3 "$TLIB/tcpx.py" serve-udp 7
	poll 10 nsx $SRV curl -sf -m 1 http://10.10.2.2/
}

gateway_config() {
	{
		gateway_ini_head e$$ $API "$TMP/state" "$PKI"
		cat <<-EOF
			keepalive = 1s
			dead_after = 4s

			[service web]
			proto = tcp
			address = 10.10.2.2
			ports = 80

			[service echo]
			proto = udp
			address = 10.10.2.0/24
			ports = 7

			[allow sensors]
			device = dev1
			app = sensor
			services = web echo

			[allow fast]
			device = dev2
			app = sensor
			mode = integrity
			services = web echo
		EOF
	} >"$TMP/gw.ini"
}

# client_config NAME KEYNAME [MODE]
client_config() {
	client_ini_head "$PKI" "$2" >"$TMP/$1.ini"
	[ -z "${3:-}" ] || echo "mode = $3" >>"$TMP/$1.ini"
}

cg() { nsx $GW "$CAPGATE" --api $API "$@"; }
api_up() { cg -j stats >/dev/null 2>&1; }
connect() {
	bg "$1" "$CAPGATE" connect --config "$TMP/$2.ini" 2>>"$TMP/agent.log"
	AGENT=$BG_PID
}
sessions() { cg -j session list | jq length; }
has_sessions() { [ "$(sessions)" -eq "$1" ]; }
stat_of() { cg -j stats | jq -r ".reasons.$1.packets"; }
rx_of() { cg -j stats | jq -r ".auth.data_path.received.$1"; }
gt() { [ "$("$@" | tail -1)" -gt 0 ]; }
# session_is FIELD VALUE: the only session's FIELD
session_is() { [ "$(cg -j session list | jq -r ".[0].$1")" = "$2" ]; }
session_cipher_known() { cg -j session list | jq -e '.[0].cipher | test("^(chacha20-poly1305|aes-256-gcm)$")' >/dev/null; }
tun_up() { nsx "$1" ip link show cg0 >/dev/null 2>&1; }
no_tun() { ! nsx "$1" ip link show cg0 >/dev/null 2>&1; }
http_ok() { nsx "$1" curl -sf -m 2 http://10.10.2.2/ | grep -q "$MARKER"; }
udp_seen() { wc -l <"$TMP/udp7.log"; }
map_entries() { "$SESSMAP_COUNT" "/sys/fs/bpf/capgate/e$$/tun_sessions"; }
# map_entries_are N: counted again each time a poll calls it
map_entries_are() { [ "$(map_entries)" -eq "$1" ]; }
gw_fds() { proc_fds "$GWPID"; }
gw_rss() { proc_rss "$GWPID"; }
gw_tun_queues() { ls -l "/proc/$GWPID/fd" | grep -c /dev/net/tun || true; }

big_ok() {
	local sum
	sum=$(nsx "$1" curl -sf -m 60 http://10.10.2.2/big | sha256sum | cut -d' ' -f1)
	[ "$sum" = "$(cat "$TMP/big.sha")" ]
}

packets_in() { tcpdump -r "$1" 2>/dev/null | wc -l; }
marker_in() { grep -a -c "$MARKER" "$1" || true; }

# The scopes of the renewal case: dev1 keeps tcp 10.10.2.2:22 (the stream),
# its group "before" gives it 10.10.2.3:22 and the group "after" 10.10.2.4:22.
# rescope_config MODE: the rescope rounds' gateway, its sessions in MODE
rescope_config() {
	{
		gateway_ini_head e$$ $API "$TMP/state" "$PKI"
		cat <<-EOF
			keepalive = 1s
			dead_after = 4s
			session_ttl = 30s

			[service stream]
			proto = tcp
			address = 10.10.2.2
			ports = 22

			[service before]
			proto = tcp
			address = 10.10.2.3
			ports = 22

			[service after]
			proto = tcp
			address = 10.10.2.4
			ports = 22

			[allow kept]
			device = dev1
			app = sensor
			services = stream
			mode = $1

			[allow before]
			group = before
			app = sensor
			services = before
			mode = $1

			[allow after]
			group = after
			app = sensor
			services = after
			mode = $1
		EOF
	} >"$TMP/gw.ini"
}
# The stream lasts about 36 s: from the session's first seconds past its renewal.
RESCOPE_RATE=$((512 << 10))
RESCOPE_STREAM=$((18 << 20))
tcp_to() { nsx "$1" python3 "$TLIB/tcpx.py" tcp "$2" 22 1; }
# via_tun NS ADDR: NS routes ADDR into the agent's TUN
via_tun() { nsx "$1" ip -j route get "$2" 2>/dev/null | jq -e '.[0].dev == "cg0"' >/dev/null; }
auth_is() { [ "$(cg -j stats | jq -r ".auth.auth.$1")" = "$2" ]; }
renewed_from() { cg -j session list | jq -e --argjson f "$1" 'map(select(.id != $f)) | length > 0' >/dev/null; }
progress() { cat "$TMP/progress" 2>/dev/null || echo 0; }
# route_events DST added|deleted|any: the route changes to DST that ip monitor saw
route_events() {
	awk -v d="$1" -v k="$2" '
		$1 == "Deleted" && $2 == d { del++ }
		$1 == d { add++ }
		END { print k == "added" ? add + 0 : k == "deleted" ? del + 0 : add + del }' "$TMP/routes.log"
}

resend() {
	nsx "$1" python3 "$TLIB/tcpx.py" resend "$2" 10.10.1.1 51900 "${3:-none}"
}

topology
pki_devices "$PKI" dev1@sensor dev2@sensor
gateway_config
bg $GW "$CAPGATE" gateway --config "$TMP/gw.ini"
GWPID=$BG_PID
poll 15 api_up
client_config c1 dev1@sensor
connect $C1 c1
check "encrypted_session_by_default" poll 20 has_sessions 1
check "session_lists_mode" session_is mode encrypted
check "session_lists_cipher" session_cipher_known
check "agent_tun_up" poll 5 tun_up $C1
check "http_through_encrypted_tunnel" poll 5 http_ok $C1
check "prefiltered_in_xdp" gt stat_of pass_encrypted
check "opened_by_data_workers" gt rx_of ok
check "transfer_100mb_intact" big_ok $C1

# The client's wire carries ciphertext only; the server's side (plaintext, the
# same transfer) shows that the check would see the marker if it were there.
check "wire_transfer_intact" sniff $C1 eth0 "udp port 51900" "$TMP/wire.pcap" 2000 big_ok $C1
check "inside_transfer_intact" sniff $SRV eth0 "tcp port 80" "$TMP/inside.pcap" 200 big_ok $C1
check "wire_captured" test "$(packets_in "$TMP/wire.pcap")" -ge 1000
check "wire_has_no_plaintext_marker" test "$(marker_in "$TMP/wire.pcap")" -eq 0
check "inside_has_the_marker" test "$(marker_in "$TMP/inside.pcap")" -gt 0

# Refusals: a replayed packet stops in XDP (the workers moved the window the
# gate reads); one with a flipped counter passes the prefilter and fails its tag.
check "data_packet_captured" sniff $C1 eth0 "udp dst port 51900" "$TMP/one.pcap" 1 \
	nsx $C1 python3 "$TLIB/tcpx.py" udp 10.10.2.2 7 1
seen=$(udp_seen)
before=$(stat_of drop_replay_unverified)
resend $C1 "$TMP/one.pcap"
check "replay_refused_in_xdp" poll 5 gt_than "$before" stat_of drop_replay_unverified
before=$(rx_of bad_tag)
resend $C1 "$TMP/one.pcap" flip-counter
check "flipped_refused_by_workers" poll 5 gt_than "$before" rx_of bad_tag
check "refused_not_at_server" test "$(udp_seen)" -eq "$seen"

# dev2's policy allows integrity; its client asks for encryption and gets it.
client_config c2 dev2@sensor encrypted
bg $C2 "$CAPGATE" connect --config "$TMP/c2.ini" 2>>"$TMP/agent2.log"
AGENT2=$BG_PID
check "client_upgrades_to_encrypted" poll 20 has_sessions 2
check "upgraded_session_encrypted" test "$(cg -j session list | jq -r 'map(select(.device == "dev2")) | .[0].mode')" = encrypted
check "http_through_upgraded_session" poll 5 http_ok $C2
stop "$AGENT2"
check "upgraded_session_freed" poll 10 has_sessions 1

# SIGKILL: no bye; the gateway revokes within dead_after (4 s) of the last keepalive.
stop "$AGENT" KILL
check "sigkill_revoked_within_dead_after" poll 8 has_sessions 0
check "sigkill_frees_map_entry" poll 5 map_entries_are 0

# Connect and vanish: everything a session held is freed each time.
connect $C1 c1
poll 20 has_sessions 1
poll 5 http_ok $C1
stop "$AGENT"
poll 10 has_sessions 0
fds0=$(gw_fds)
rss0=$(gw_rss)
queues0=$(gw_tun_queues)
cycles "$CYCLES" $C1 c1
ok=$CYCLES_OK
check "cycles_completed_$CYCLES" test "$ok" -eq "$CYCLES"
check "cycles_no_session" poll 10 has_sessions 0
check "cycles_no_map_entry" test "$(map_entries)" -eq 0
check "cycles_no_tun" no_tun $C1
check "cycles_tun_queues_flat" test "$(gw_tun_queues)" -eq "$queues0"
check "cycles_no_leaked_fd" test "$(gw_fds)" -le "$fds0"
check "cycles_flat_rss" test "$(gw_rss)" -le $((rss0 + rss0 / 5 + 1024))
echo "# gateway fds $fds0 -> $(gw_fds), RSS ${rss0} kB -> $(gw_rss) kB after $ok cycles"
connect $C1 c1
check "works_after_cycles" poll 20 http_ok $C1
stop "$AGENT"
poll 10 has_sessions 0

# Every lever off, both ends: the plain path (one read, one write, one send per packet).
check "gateway_exits_0_on_sigterm" gw_stop
sed -i 's/^\[auth\]$/[auth]\nfast_path = none/' "$TMP/gw.ini"
echo "fast_path = none" >>"$TMP/c1.ini"
bg $GW "$CAPGATE" gateway --config "$TMP/gw.ini"
GWPID=$BG_PID
poll 15 api_up
connect $C1 c1
check "no_levers_session" poll 20 has_sessions 1
check "no_levers_in_force" test "$(cg -j stats | jq '[.auth.data_path.levers[]] | any')" = false
check "no_levers_http" poll 5 http_ok $C1
check "no_levers_transfer_100mb_intact" big_ok $C1
stop "$AGENT"
poll 10 has_sessions 0

# Scopes changed under a live session (dev1's group, through the API): the
# gateway rescopes it at once, in place (integrity: the gate's entry, by
# xdp_rescope; encrypted: the data workers' copy too), and refuses the dropped
# scope from then on; the agent learns of it with the renewal (at four fifths
# of session_ttl, 30 s) and must route the new scope's address into the tunnel
# and the dropped one's no more, without touching the route of the scope it
# keeps: a stream through that one runs across the renewal.
# refused_of MODE: the counter of packets refused out of scope in MODE
refused_of() {
	if [ "$1" = integrity ]; then stat_of drop_out_of_scope; else rx_of out_of_scope; fi
}
# rescope_round MODE: the round with dev1's sessions in MODE
rescope_round() {
	local m=$1 p=rescope/$1 first at stream monitor before
	rescope_config "$m"
	bg $GW "$CAPGATE" gateway --config "$TMP/gw.ini"
	GWPID=$BG_PID
	poll 15 api_up
	check "$p/group_before" cg device group dev1 before
	connect $C1 c1
	check "$p/session" poll 20 has_sessions 1
	check "$p/mode" test "$(cg -j session list | jq -r '.[0].mode')" = "$m"
	check "$p/two_scopes" test "$(cg -j session list | jq '.[0].scopes | length')" -eq 2
	check "$p/old_scope_routed" poll 5 via_tun $C1 10.10.2.3
	check "$p/old_scope_passes" poll 5 tcp_to $C1 10.10.2.3
	check "$p/new_scope_not_routed_yet" not via_tun $C1 10.10.2.4
	first=$(cg -j session list | jq '.[0].id')
	bg $C1 ip -o monitor route >"$TMP/routes.log"
	monitor=$BG_PID
	rm -f "$TMP/progress"
	PROGRESS=$TMP/progress nsenter --net=/run/netns/$C1 -- \
		python3 "$TLIB/tcpx.py" stream 10.10.2.2 22 $RESCOPE_STREAM $RESCOPE_RATE &
	stream=$!
	poll 10 gt_than 0 progress
	check "$p/group_after" cg device group dev1 after
	check "$p/live_counted" poll 5 auth_is sessions_rescoped 1
	check "$p/same_session" test "$(cg -j session list | jq '.[0].id')" = "$first"
	# Still routed into the tunnel until the renewal: the gateway refuses it now.
	before=$(refused_of "$m")
	check "$p/dropped_scope_refused_at_once" not tcp_to $C1 10.10.2.3
	check "$p/dropped_scope_counted" poll 5 gt_than "$before" refused_of "$m"
	check "$p/renewed" poll 40 renewed_from "$first"
	at=$(progress)
	check "$p/new_scope_routed" poll 5 via_tun $C1 10.10.2.4
	check "$p/new_scope_passes" poll 5 tcp_to $C1 10.10.2.4
	check "$p/dropped_scope_unrouted" poll 5 not via_tun $C1 10.10.2.3
	check "$p/dropped_scope_refused" not tcp_to $C1 10.10.2.3
	check "$p/renewed_mid_transfer" test "$at" -lt $RESCOPE_STREAM
	check "$p/kept_transfer_intact" wait $stream
	echo "# $m: renewed at $at of $RESCOPE_STREAM bytes echoed"
	stop "$monitor"
	# The monitor listened through the renewal (it saw the new route come), and
	# the kept route had no event at all: neither removed nor added again.
	check "$p/route_added_seen" test "$(route_events 10.10.2.4 added)" -eq 1
	check "$p/route_deleted_seen" test "$(route_events 10.10.2.3 deleted)" -eq 1
	check "$p/kept_route_untouched" test "$(route_events 10.10.2.2 any)" -eq 0
	stop "$AGENT"
	check "$p/no_session_left" poll 10 has_sessions 0
	check "$p/gateway_exits_0" gw_stop
}
check "rescope_gateway_exits_0" gw_stop
client_config c1 dev1@sensor
nsx $SRV ip addr add 10.10.2.3/24 dev eth0
nsx $SRV ip addr add 10.10.2.4/24 dev eth0
bg $SRV python3 "$TLIB/tcpx.py" serve-tcp 22
rescope_round encrypted
rescope_round integrity
t_done
