#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The dark gateway end to end, in native and generic XDP mode: default drop,
# open services, knocks (right, wrong order, only for the knocking source),
# flows that outlive their door, rules over the API (v4 and v6), bad API
# input, restart and SIGKILL; who may use the API (its socket's mode, the
# token a TCP API needs) and how the CLI finds it.
#
#   c1 (10.10.1.2) ─┐                       ┌ server (10.10.2.2: tcp 80, 22)
#   c2 (10.10.1.3) ─┴ sw (bridge) ── ext0 gw int0
set -euo pipefail
. "$(dirname "$0")/../lib/netns.sh"
netns_private "$@"

[ -x "$CAPGATE" ] || { echo "SKIP: build/capgate is not built"; exit 4; }
TMP=$(mktemp -d /tmp/cg-net.XXXXXX)
trap 'rc=$?; rm -rf "$TMP"; netns_cleanup "$rc"' EXIT

C1=cgt-c1-$$ C2=cgt-c2-$$ SW=cgt-sw-$$ GW=cgt-gw-$$ SRV=cgt-srv-$$
API=unix:$TMP/api.sock
GWPID=

topology() {
	lan_topology $C1 $C2 $SW $GW $SRV
	ip -n $C1 addr add fd00:1::2/64 dev eth0 nodad
	ip -n $C2 addr add fd00:1::3/64 dev eth0 nodad
	ip -n $GW addr add fd00:1::1/64 dev ext0 nodad
	ip -n $C1 route add 10.10.2.0/24 via 10.10.1.1
	ip -n $C2 route add 10.10.2.0/24 via 10.10.1.1
	bg $SRV python3 "$TLIB/tcpx.py" serve-tcp 80
	bg $SRV python3 "$TLIB/tcpx.py" serve-tcp 22
	bg $SRV python3 "$TLIB/tcpx.py" serve-tcp 8443
	bg $GW python3 "$TLIB/tcpx.py" serve-tcp 80
	bg $GW python3 "$TLIB/tcpx.py" serve-tcp 8443
	BIND=:: bg $GW python3 "$TLIB/tcpx.py" serve-tcp 2222
	poll 10 nsx $SRV python3 "$TLIB/tcpx.py" tcp 127.0.0.1 80 1
	poll 10 nsx $GW python3 "$TLIB/tcpx.py" tcp ::1 2222 1
}

write_config() {
	cat >"$TMP/gw.ini" <<-EOF
		; test gateway
		[gateway]
		interface = ${2:-ext0}
		name = t$$-$1
		api = $API
		state_dir = $TMP/state
		default = drop
		xdp_mode = $1
		flow_timeout = 60s
		$([ "${2:-ext0}" = ext0 ] && echo "internal = 10.10.2.0/24")

		[open]
		tcp = 8443

		[knock web]
		sequence = tcp/7000 udp/8000 tcp/9000
		step_timeout = 5s
		open = tcp/80
		open_for = 4s
		to = 10.10.2.2
	EOF
}

cg() { nsx $GW "$CAPGATE" --api $API "$@"; }
api_up() { cg -j stats >/dev/null 2>&1; }

start_gw() {
	bg $GW "$CAPGATE" gateway --config "$TMP/gw.ini"
	GWPID=$BG_PID
	poll 15 api_up
}

stat_of() { cg -j stats | jq -r ".reasons.$1.packets"; }
gt0() { [ "$(stat_of "$1")" -gt 0 ]; }
reach() { nsx "$1" python3 "$TLIB/tcpx.py" tcp "$2" "$3" 1; }
# dropped NS HOST PORT: the SYN meets silence (a drop), not a RST (a refusal) nor an answer
dropped() { [ "$(nsx "$1" python3 "$TLIB/tcpx.py" probe "$2" "$3" 1)" = timeout ]; }
knock() { nsx "$1" "$CAPGATE" knock send "$2" "$3" --gap 20; }
door_open_for() { cg -j knock list | jq -e --arg s "$1" '.open | map(.source) | index($s) != null'; }
no_doors() { cg -j knock list | jq -e '.open | length == 0'; }
http() { # METHOD PATH [BODY] -> status code
	curl -s --unix-socket "${API#unix:}" -o "$TMP/body" -w '%{http_code}' -X "$1" ${3:+-d "$3"} "http://localhost$2"
}
code_is() { [ "$(http "$1" "$2" "${4:-}")" = "$3" ]; }
rule_id() { cg -j rule list | jq -r --arg c "$1" '.[] | select(.cidr == $c) | .id'; }
same_rules() { [ "$(cg -j rule list | jq -c 'map(del(.hits))')" = "$(cat "$TMP/rules.before")" ]; }
xdp_mode_is() { [ "$(cg -j stats | jq -r .xdp_mode)" = "$1" ]; }
exits_1() { local rc=0; "$@" || rc=$?; [ "$rc" -eq 1 ]; }

suite() {
	local m=$1 ns
	write_config "$m"
	# Forget neighbours, so ARP crosses this suite's gate too.
	for ns in $C1 $C2 $GW; do
		ip -n "$ns" neigh flush all
	done
	start_gw

	check "$m/xdp_mode_reported" xdp_mode_is "$m"
	check "$m/default_drop" not reach $C1 10.10.2.2 80
	# The gateway's own port 80 listens (its loopback shows it), so only the gate can hide it.
	check "$m/gateway_port_listens" reach $GW 10.10.1.1 80
	check "$m/default_drop_gateway" dropped $C1 10.10.1.1 80
	check "$m/default_drop_counted" gt0 drop_default
	check "$m/open_service" reach $C1 10.10.1.1 8443
	check "$m/open_service_counted" gt0 pass_open
	# An open service and a door open what `to` names, not the network behind.
	check "$m/open_service_gateway_only" not reach $C1 10.10.2.2 8443
	check "$m/arp_passes" gt0 pass_non_ip

	knock $C1 10.10.2.2 tcp/9000,udp/8000,tcp/7000
	check "$m/wrong_order_stays_shut" not reach $C1 10.10.2.2 80
	check "$m/wrong_order_opens_no_door" no_doors

	knock $C1 10.10.2.2 tcp/7000,udp/8000,tcp/9000
	check "$m/knock_opens_door" door_open_for 10.10.1.2
	check "$m/knock_opens_for_source" reach $C1 10.10.2.2 80
	check "$m/knock_not_for_other_source" not reach $C2 10.10.2.2 80
	check "$m/knock_door_leads_to_its_host_only" not reach $C1 10.10.1.1 80
	check "$m/knock_steps_counted" gt0 drop_knock_step
	check "$m/knock_open_counted" gt0 drop_knock_open

	# A source of an internal prefix never comes from outside: its knocks open nothing.
	nsx $C1 ip addr add 10.10.2.77/32 dev eth0
	nsx $C1 ip route add 10.10.2.2/32 via 10.10.1.1 src 10.10.2.77
	knock $C1 10.10.2.2 tcp/7000,udp/8000,tcp/9000
	check "$m/spoofed_internal_opens_no_door" not door_open_for 10.10.2.77
	check "$m/spoofed_internal_counted" gt0 drop_spoofed_internal
	nsx $C1 ip route del 10.10.2.2/32
	nsx $C1 ip addr del 10.10.2.77/32 dev eth0

	# A connection made through the door outlives it; a new one does not.
	mkdir -p "$TMP/hold"
	rm -f "$TMP/hold"/*
	knock $C1 10.10.2.2 tcp/7000,udp/8000,tcp/9000
	bg $C1 python3 "$TLIB/tcpx.py" hold 10.10.2.2 80 "$TMP/hold"
	local holder=$BG_PID
	poll 5 test -e "$TMP/hold/ready"
	check "$m/door_closes" poll 15 no_doors
	touch "$TMP/hold/go.0"
	poll 5 test -e "$TMP/hold/ok.0" -o -e "$TMP/hold/fail.0" || true
	check "$m/flow_outlives_door" test -e "$TMP/hold/ok.0"
	check "$m/new_connection_after_door" not reach $C1 10.10.2.2 80
	touch "$TMP/hold/stop"
	stop "$holder"

	# A restart keeps the doors of an unchanged profile, not those of a changed one.
	# open_for outlasts both restarts, so only the profile change can close a door.
	check "$m/sigterm_exit_0_door_config" gw_stop
	sed -i 's/^open_for = 4s$/open_for = 120s/' "$TMP/gw.ini"
	start_gw
	knock $C1 10.10.2.2 tcp/7000,udp/8000,tcp/9000
	local knocked=$SECONDS
	check "$m/door_open_before_restart" door_open_for 10.10.1.2
	check "$m/sigterm_exit_0_door_kept" gw_stop
	start_gw
	check "$m/restart_keeps_door" door_open_for 10.10.1.2
	check "$m/restart_keeps_door_passing" reach $C1 10.10.2.2 80
	check "$m/sigterm_exit_0_door_changed" gw_stop
	sed -i 's/^open_for = 120s$/open_for = 110s/' "$TMP/gw.ini"
	start_gw
	check "$m/profile_change_closes_door" no_doors
	check "$m/door_within_open_for" test $((SECONDS - knocked)) -lt 100
	check "$m/profile_change_closes_passage" dropped $C1 10.10.2.2 80
	check "$m/sigterm_exit_0_door_back" gw_stop
	write_config "$m"
	start_gw

	# Rules take effect at once and can be deleted.
	cg rule add 10.10.1.2/32 drop >/dev/null
	check "$m/rule_drop_beats_open_service" not reach $C1 10.10.1.1 8443
	check "$m/rule_drop_counted" gt0 drop_rule
	cg rule del "$(rule_id 10.10.1.2/32)" >/dev/null
	check "$m/rule_deleted" reach $C1 10.10.1.1 8443
	cg rule add 10.10.1.3/32 allow >/dev/null
	check "$m/rule_allow" reach $C2 10.10.2.2 22
	check "$m/rule_allow_counted" gt0 pass_rule
	check "$m/v6_default_drop" not reach $C2 fd00:1::1 2222
	cg rule add fd00:1::3/128 allow >/dev/null
	check "$m/v6_rule_allow" reach $C2 fd00:1::1 2222
	check "$m/rule_hits" test "$(cg -j rule list | jq '.[] | select(.cidr == "10.10.1.3/32") | .hits')" -gt 0

	# Bad input: 4xx with a JSON reason, nothing changed.
	cg -j rule list | jq -c 'map(del(.hits))' >"$TMP/rules.before"
	check "$m/api_bad_json" code_is POST /v1/rules 400 '{"cidr":'
	check "$m/api_bad_json_says_why" jq -e '.error | length > 0' "$TMP/body"
	check "$m/api_bad_cidr" code_is POST /v1/rules 400 '{"cidr":"10.0.0.300/8","action":"drop"}'
	check "$m/api_host_bits" code_is POST /v1/rules 400 '{"cidr":"10.10.1.5/24","action":"drop"}'
	check "$m/api_bad_action" code_is POST /v1/rules 400 '{"cidr":"10.9.0.0/16","action":"maybe"}'
	check "$m/api_unknown_field" code_is POST /v1/rules 400 '{"cidr":"10.9.0.0/16","action":"drop","x":1}'
	check "$m/api_duplicate" code_is POST /v1/rules 409 '{"cidr":"10.10.1.3/32","action":"drop"}'
	check "$m/api_delete_unknown" code_is DELETE /v1/rules/999 404
	check "$m/api_delete_bad_id" code_is DELETE /v1/rules/abc 400
	check "$m/api_wrong_method" code_is PUT /v1/rules 405
	check "$m/api_unknown_path" code_is GET /v1/nothing 404
	check "$m/api_close_no_door" code_is DELETE /v1/knock/10.10.1.9 404
	check "$m/api_bad_source" code_is DELETE /v1/knock/not-an-ip 400
	check "$m/api_nothing_changed" same_rules
	check "$m/metrics" metrics_has 'capgate_packets_total{gateway="t'$$-$m'",verdict="drop",reason="default"}'

	# Restart keeps rules; SIGKILL keeps enforcing.
	cg rule add 10.10.1.2/32 drop >/dev/null
	check "$m/sigterm_exit_0_rules" gw_stop
	start_gw
	check "$m/restart_keeps_rules" same_rules_plus 10.10.1.2/32
	check "$m/restart_enforces" not reach $C1 10.10.1.1 8443
	check "$m/restart_allows" reach $C2 10.10.2.2 22
	stop "$GWPID" KILL
	check "$m/sigkill_keeps_dropping" not reach $C1 10.10.1.1 8443
	check "$m/sigkill_keeps_default" not reach $C1 10.10.2.2 22
	check "$m/sigkill_keeps_allowing" reach $C2 10.10.2.2 22
	start_gw
	check "$m/restart_after_sigkill" xdp_mode_is "$m"
	check "$m/restart_after_sigkill_enforces" not reach $C1 10.10.1.1 8443

	# A restart that fails after taking over the pinned link leaves it enforcing.
	stop "$GWPID" KILL
	bg $GW python3 -c "$SQUAT" "${API#unix:}"
	local squatter=$BG_PID
	poll 10 python3 -c "$KNOCK_UNIX" "${API#unix:}"
	check "$m/failed_restart_fails" exits_1 nsx $GW timeout 20 "$CAPGATE" gateway --config "$TMP/gw.ini"
	check "$m/failed_restart_keeps_enforcing" not reach $C1 10.10.2.2 22
	stop "$squatter"
	start_gw
	check "$m/sigterm_exit_0" gw_stop
	check "$m/sigterm_detaches" reach $C1 10.10.2.2 22

	# Same name, other interface: the pinned link of ext0 must not stand in for int0's gate.
	start_gw
	stop "$GWPID" KILL
	write_config "$m" int0
	start_gw
	check "$m/new_interface_attached" xdp_mode_is "$m"
	check "$m/new_interface_dark" not reach $SRV 10.10.2.1 2222
	check "$m/old_interface_released" reach $C1 10.10.2.2 22
	check "$m/sigterm_exit_0_int0" gw_stop
	rm -rf "$TMP/state"
}

metrics_has() {
	local m
	m=$(curl -sf --unix-socket "${API#unix:}" http://localhost/metrics) && grep -qF "$1" <<<"$m"
}

same_rules_plus() {
	[ "$(cg -j rule list | jq -c --arg c "$1" 'map(del(.hits)) | map(select(.cidr != $c))')" = "$(cat "$TMP/rules.before")" ]
}

# A live process on the API socket (the stale one of a killed daemon replaced), and a probe.
SQUAT='import os, socket, sys, time
try:
    os.unlink(sys.argv[1])
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen()
time.sleep(3600)'
KNOCK_UNIX='import socket, sys
socket.socket(socket.AF_UNIX).connect(sys.argv[1])'

# As nobody: the CLI, copied where nobody can run it.
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$NOBODY_BIN/capgate" "$@"; }
stats_ok() { "$@" -j stats | jq -e '.packets' >/dev/null; }
refused_with() { # TEXT CMD...: CMD fails with exit code 1 and TEXT on stderr
	local text=$1 rc=0
	shift
	"$@" 2>"$TMP/stderr" >/dev/null || rc=$?
	[ "$rc" -eq 1 ] && grep -qF -- "$text" "$TMP/stderr"
}

# The API's defaults and its refusals (once, in native mode).
access() {
	local sock mode group=capgate
	getent group capgate >/dev/null || group=root
	# /run/capgate of our own: the default socket of this gateway, nobody else's.
	mkdir -p /run/capgate
	mount -t tmpfs -o mode=0755 tmpfs /run/capgate
	NOBODY_BIN=$(mktemp -d /tmp/cg-nobody.XXXXXX)
	chmod 755 "$NOBODY_BIN"
	cp "$CAPGATE" "$NOBODY_BIN/capgate"

	write_config native
	sed -i '/^api = /d' "$TMP/gw.ini"
	sock=/run/capgate/t$$-native.sock
	bg $GW "$CAPGATE" gateway --config "$TMP/gw.ini"
	GWPID=$BG_PID
	poll 15 stats_ok "$CAPGATE" --api "unix:$sock"
	check "access/default_socket" test -S "$sock"
	mode=$(stat -c %a "$sock")
	check "access/socket_mode" test "$mode" = "$([ $group = capgate ] && echo 660 || echo 600)"
	check "access/socket_group" test "$(stat -c %G "$sock")" = $group
	check "access/cli_finds_the_only_socket" stats_ok env -u CAPGATE_API "$CAPGATE"
	check "access/cli_with_config" stats_ok "$CAPGATE" --config "$TMP/gw.ini"
	check "access/other_user_refused" refused_with "Permission denied" as_nobody --api "unix:$sock" -j stats
	check "access/other_user_refused_by_default" refused_with "Permission denied" as_nobody -j stats
	# The same command works once the mode lets nobody in: the refusal was the mode's.
	chmod 666 "$sock"
	check "access/other_user_control" stats_ok as_nobody --api "unix:$sock"
	chmod "$mode" "$sock"
	python3 -c "$SQUAT" /run/capgate/other.sock &
	local other=$!
	poll 10 python3 -c "$KNOCK_UNIX" /run/capgate/other.sock
	check "access/several_sockets_refused" refused_with "several gateways listen" env -u CAPGATE_API "$CAPGATE" -j stats
	check "access/several_sockets_named" grep -q "other.sock.*t$$-native.sock\|t$$-native.sock.*other.sock" "$TMP/stderr"
	check "access/several_sockets_config_chooses" stats_ok "$CAPGATE" --config "$TMP/gw.ini"
	check "access/several_sockets_env_chooses" stats_ok env CAPGATE_API="unix:$sock" "$CAPGATE"
	stop "$other"
	rm /run/capgate/other.sock
	check "access/sigterm_exit_0" gw_stop
	check "access/socket_removed_on_exit" test ! -e "$sock"
	check "access/no_socket_said" refused_with "no gateway API socket in /run/capgate" env -u CAPGATE_API "$CAPGATE" -j stats

	# TCP: refused without a token file, at load (nothing attached); served with one.
	write_config native
	sed -i 's/^api = .*/api = 127.0.0.1:7070/' "$TMP/gw.ini"
	check "access/tcp_without_token_refused" refused_with "needs api_token_file" nsx $GW timeout 20 "$CAPGATE" gateway --config "$TMP/gw.ini"
	check "access/tcp_without_token_not_attached" reach $C1 10.10.2.2 22
	check "access/token_new" "$CAPGATE" token new --file "$TMP/api.token"
	check "access/token_file_0600" test "$(stat -c %a "$TMP/api.token")" = 600
	check "access/token_new_no_overwrite" refused_with "--force" "$CAPGATE" token new --file "$TMP/api.token"
	sed -i "s|^api = .*|&\napi_token_file = $TMP/api.token|" "$TMP/gw.ini"
	chmod 644 "$TMP/api.token"
	check "access/token_mode_refused" refused_with "chmod 600" nsx $GW timeout 20 "$CAPGATE" gateway --config "$TMP/gw.ini"
	chmod 600 "$TMP/api.token"
	API=127.0.0.1:7070
	bg $GW "$CAPGATE" gateway --config "$TMP/gw.ini"
	GWPID=$BG_PID
	poll 15 nsx $GW python3 -c 'import socket; socket.create_connection(("127.0.0.1", 7070), 1)'
	check "access/tcp_no_token_401" test "$(nsx $GW curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:7070/v1/rules)" = 401
	check "access/tcp_wrong_token_401" test "$(nsx $GW curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(tr 0-9a-f 1-9a-f0 <"$TMP/api.token")" -d '{"cidr":"10.10.1.2/32","action":"drop"}' http://127.0.0.1:7070/v1/rules)" = 401
	check "access/tcp_cli_without_token" refused_with "needs a token" nsx $GW env -u CAPGATE_TOKEN_FILE "$CAPGATE" --api $API rule list
	check "access/tcp_cli_token_file" nsx $GW "$CAPGATE" --api $API --token-file "$TMP/api.token" rule list
	check "access/tcp_cli_token_env" nsx $GW env CAPGATE_TOKEN_FILE="$TMP/api.token" "$CAPGATE" --api $API rule list
	check "access/tcp_cli_config" nsx $GW "$CAPGATE" --config "$TMP/gw.ini" rule list
	check "access/tcp_refused_changed_nothing" test "$(nsx $GW "$CAPGATE" --config "$TMP/gw.ini" -j rule list | jq length)" = 0
	check "access/tcp_refusals_counted" test "$(nsx $GW "$CAPGATE" --config "$TMP/gw.ini" -j stats | jq .api.refused.unauthorized)" = 3
	check "access/tcp_metrics_not_public" test "$(nsx $GW curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:7070/metrics)" = 401
	check "access/sigterm_exit_0_tcp" gw_stop
	API=unix:$TMP/api.sock
	rm -rf "$TMP/state" "$NOBODY_BIN"
	umount /run/capgate
}

topology
for mode in native generic; do
	suite $mode
done
access
t_done
