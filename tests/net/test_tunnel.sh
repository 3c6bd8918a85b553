#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The per-packet capability end to end with real `capgate connect` agents:
# SPA, mutual TLS, the tunnel (HTTP and UDP echo), the gate's refusals
# (out of scope, replay, flipped byte), SPA replay, certificates from another
# CA and devices or apps outside the policy, renewal without loss, a client
# killed with SIGKILL, and connect/disconnect cycles that must leave nothing;
# then, with the test build, the auth worker's sandbox and its supervision.
#
#   c1 (10.10.1.2) ─┐                       ┌ server 10.10.2.2: tcp 80 (HTTP),
#   c2 (10.10.1.3) ─┴ sw (bridge) ── ext0 gw int0   tcp 22, udp 7 (echo)
set -euo pipefail
. "$(dirname "$0")/../lib/netns.sh"
. "$(dirname "$0")/../lib/cycles.sh"
netns_private "$@"

SESSMAP_COUNT=$(dirname "$CAPGATE")/tests/tools/sessmap_count
TEST_REQUEST_CHECK=$(dirname "$CAPGATE")/tests/tools/test_request_check
# ASan+UBSan and CG_TESTING: SIGUSR2 makes its auth worker call what its filter refuses.
SAN_CAPGATE=${SAN_CAPGATE:-$(dirname "$CAPGATE")/san/capgate}
[ -x "$CAPGATE" ] || { echo "SKIP: build/capgate is not built"; exit 4; }
for t in "$SESSMAP_COUNT" "$TEST_REQUEST_CHECK" "$SAN_CAPGATE"; do
	[ -x "$t" ] || { echo "SKIP: $t is not built"; exit 4; }
done
TMP=$(mktemp -d /tmp/cg-tun.XXXXXX)
trap 'rc=$?; rm -rf "$TMP"; netns_cleanup "$rc"' EXIT
CYCLES=${CYCLES:-100}

C1=cgu-c1-$$ C2=cgu-c2-$$ SW=cgu-sw-$$ GW=cgu-gw-$$ SRV=cgu-srv-$$
API=unix:$TMP/api.sock
PKI=$TMP/pki
GWPID=

topology() {
	lan_topology $C1 $C2 $SW $GW $SRV
	mkdir -p "$TMP/www"
	echo "behind capgate" >"$TMP/www/index.html"
	bg $SRV python3 -m http.server --directory "$TMP/www" --bind 10.10.2.2 80
	bg $SRV python3 "$TLIB/tcpx.py" serve-tcp 22
	UDP_LOG=$TMP/udp7.log bg $SRV python3 "$TLIB/tcpx.py" serve-udp 7
	poll 10 nsx $SRV curl -sf -m 1 http://10.10.2.2/
}

pki() {
	pp "$CAPGATE" ca init --dir "$PKI" --gateway gw --ip 10.10.1.1 >/dev/null
	local d
	# App certificates (the policy names app sensor); dev2's camera is not in it.
	for d in dev1 dev2 dev3; do
		"$CAPGATE" ca issue --dir "$PKI" --device $d --app sensor >/dev/null
	done
	"$CAPGATE" ca issue --dir "$PKI" --device dev2 --app camera >/dev/null
	# Another CA that also has a "dev1@sensor".
	"$CAPGATE" ca init --dir "$TMP/other" --gateway gw --ip 10.10.1.1 >/dev/null
	"$CAPGATE" ca issue --dir "$TMP/other" --device dev1 --app sensor >/dev/null
}

gateway_config() {
	cat >"$TMP/gw.ini" <<-EOF
		[gateway]
		interface = ext0
		name = u$$
		api = $API
		state_dir = $TMP/state
		default = drop

		[auth]
		port = 8443
		spa_port = 62201
		data_port = 51900
		ca = $PKI/ca.crt
		cert = $PKI/gateway.crt
		key = $PKI/gateway.key
		pool = 100.64.0.0/24
		session_ttl = ${TTL:-10m}
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
		device = dev1 dev2
		app = sensor
		services = web echo
		mode = integrity
	EOF
}

# client_config NAME DEVICE-DIR KEYNAME: the certificate DEVICE@APP says which app
client_config() {
	cat >"$TMP/$1.ini" <<-EOF
		[client]
		gateway = 10.10.1.1
		ca = $PKI/ca.crt
		cert = $2/$3.crt
		key = $2/$3.key
		tun = cg0
		retry_max = 2s
	EOF
}

cg() { nsx $GW "$CAPGATE" --api $API "$@"; }
api_up() { cg -j stats >/dev/null 2>&1; }
# start_gw [SECONDS]: the gateway, its API up within SECONDS (15)
start_gw() {
	bg $GW "$CAPGATE" gateway --config "$TMP/gw.ini"
	GWPID=$BG_PID
	poll "${1:-15}" api_up
}
# connect NS CONFIG: starts an agent; its PID in AGENT
connect() {
	bg "$1" "$CAPGATE" connect --config "$TMP/$2.ini" 2>>"$TMP/agent.log"
	AGENT=$BG_PID
}
# stop_rc PID: SIGTERM, then succeed only if the process exited with status 0
stop_rc() {
	kill -TERM "$1"
	wait "$1"
}
sessions() { cg -j session list | jq length; }
has_sessions() { [ "$(sessions)" -eq "$1" ]; }
stat_of() { cg -j stats | jq -r ".reasons.$1.packets"; }
auth_of() { cg -j stats | jq -r ".auth.$1.$2"; }
addresses_used() { cg -j stats | jq -r .auth.addresses_used; }
worker_of() { cg -j stats | jq -r ".auth.worker.$1"; }
worker_is() { [ "$(worker_of "$1")" = "$2" ]; }
# status_has PID FIELD VALUE: /proc/PID/status says FIELD: VALUE
status_has() { grep -Eq "^$2:[[:space:]]+$3\$" "/proc/$1/status"; }
session_listed() { cg -j session list | jq -e --argjson id "$1" 'map(.id) | index($id) != null' >/dev/null; }
root_empty() {
	local l
	l=$(ls -A "/proc/$1/root") && [ -z "$l" ]
}
session_besides() { cg -j session list | jq -e --argjson id "$1" 'map(select(.id != $id)) | length > 0' >/dev/null; }
gt() { [ "$("$@" | tail -1)" -gt 0 ]; }
tun_up() { nsx "$1" ip link show cg0 >/dev/null 2>&1; }
no_tun() { ! nsx "$1" ip link show cg0 >/dev/null 2>&1; }
http_ok() { nsx "$1" curl -sf -m 2 http://10.10.2.2/ | grep -q "behind capgate"; }
udp_ok() { nsx "$1" python3 "$TLIB/tcpx.py" udp 10.10.2.2 7 1; }
# kept_or_resumed ID N: session ID is listed, or more than N sessions were resumed
kept_or_resumed() { session_listed "$1" || [ "$(auth_of auth resumed)" -gt "$2" ]; }
tcp_ok() { nsx "$1" python3 "$TLIB/tcpx.py" tcp 10.10.2.2 "$2" 1; }
udp_seen() { wc -l <"$TMP/udp7.log"; }
map_entries() { "$SESSMAP_COUNT" "/sys/fs/bpf/capgate/u$$/tun_sessions"; }
# map_entries_are N: counted again each time a poll calls it
map_entries_are() { [ "$(map_entries)" -eq "$1" ]; }
gw_fds() { proc_fds "$GWPID"; }
gw_rss() { proc_rss "$GWPID"; }

door_for() { cg -j knock list | jq -e --arg s "$1" '.open | map(.source) | index($s) != null' >/dev/null; }
endpoint_is() { cg -j session list | jq -e --arg a "$1:" '.[0].endpoint | startswith($a)' >/dev/null; }
connect_wait() {
	connect "$1" "$2"
	poll 20 has_sessions 1
}

# capture NS FILTER OUT CMD...: the first packet matching FILTER on NS's eth0,
# while CMD runs; fails if CMD failed or nothing was captured
capture() { sniff "$1" eth0 "$2" "$3" 1 "${@:4}" && [ "$(stat -c %s "$3")" -gt 24 ]; }
# resend NS PCAP PORT [MUTATE]: sends the captured UDP payload again to 10.10.1.1:PORT
resend() {
	nsx "$1" python3 "$TLIB/tcpx.py" resend "$2" 10.10.1.1 "$3" "${4:-none}"
}

topology
pki
gateway_config
# The agent starts first: the gateway is unreachable, it retries with backoff.
client_config c1 "$PKI" dev1@sensor
connect $C1 c1
check "agent_retries_while_gateway_down" poll 10 grep -q "retrying in" "$TMP/agent.log"
start_gw
check "agent_gets_session" poll 20 has_sessions 1
check "agent_tun_up" poll 5 tun_up $C1
check "http_through_tunnel" poll 5 http_ok $C1
check "udp_echo_through_tunnel" udp_ok $C1
check "spa_counted" gt auth_of spa ok
check "auth_granted_counted" gt auth_of auth granted
# [allow] mode = integrity: the session says so, with no cipher, in JSON and in the table.
session_mode_is() { cg -j session list | jq -e --arg m "$1" '.[0].mode == $m and .[0].cipher == null' >/dev/null; }
session_table_has() { cg session list | awk 'NR == 1 { m = index($0, "MODE"); c = index($0, "CIPHER") } NR == 2 { exit !(m && c && substr($0, m, 9) ~ /^integrity/ && substr($0, c, 1) == "-") }'; }
check "session_mode_integrity" session_mode_is integrity
check "session_list_mode_column" session_table_has
check "accepted_counted" gt stat_of pass_cap
check "session_endpoint_known" endpoint_is 10.10.1.2
check "return_path_counted" gt auth_of return_path sent
check "agent_sends_no_chatter" test "$(stat_of drop_spoofed_source)" -eq 0

# The gate is the enforcement point: the agent sends what the route covers.
check "out_of_scope_refused" not tcp_ok $C1 22
check "out_of_scope_counted" gt stat_of drop_out_of_scope

# A client's virtual address from outside, not inside a verified tunnel packet: refused.
seen=$(udp_seen)
nsx $C2 ip addr add 100.64.0.5/32 dev eth0
nsx $C2 ip route add 10.10.2.2/32 via 10.10.1.1 src 100.64.0.5
nsx $C2 python3 "$TLIB/tcpx.py" udp 10.10.2.2 7 1 || true
check "spoofed_pool_refused" gt stat_of drop_spoofed_pool
check "spoofed_pool_not_at_server" test "$(udp_seen)" -eq "$seen"
nsx $C2 ip route del 10.10.2.2/32
nsx $C2 ip addr del 100.64.0.5/32 dev eth0

# An SPA flood from one source: the gate lets spa_burst (5) through, then spa_rate (2/s).
before=$(auth_of spa malformed)
nsx $C2 bash -c 'for i in $(seq 100); do echo flood >/dev/udp/10.10.1.1/62201; done'
check "spa_flood_limited_in_xdp" gt stat_of drop_spa_rate
spa_seen() { [ $(($(auth_of spa malformed) - before)) -ge 5 ]; }
check "spa_flood_burst_reaches_daemon" poll 5 spa_seen
check "spa_flood_rest_does_not" test $(($(auth_of spa malformed) - before)) -le 10

# A captured tunnel packet replayed: refused, never reaches the server.
check "data_packet_captured" capture $C1 "udp dst port 51900" "$TMP/data.pcap" udp_ok $C1
seen=$(udp_seen)
before=$(stat_of drop_replay_unverified)
resend $C1 "$TMP/data.pcap" 51900
check "replay_refused" poll 5 gt_than "$before" stat_of drop_replay_unverified
check "replay_not_at_server" test "$(udp_seen)" -eq "$seen"
before=$(stat_of drop_bad_tag)
resend $C1 "$TMP/data.pcap" 51900 flip-counter
check "flipped_byte_refused" poll 5 gt_than "$before" stat_of drop_bad_tag
check "flipped_not_at_server" test "$(udp_seen)" -eq "$seen"

# SPA replayed (from the same source, and from another): opens nothing more.
stop "$AGENT"
poll 10 has_sessions 0
check "spa_captured_connected" capture $C1 "udp dst port 62201" "$TMP/spa.pcap" connect_wait $C1 c1
before=$(auth_of spa replay)
resend $C2 "$TMP/spa.pcap" 62201
check "spa_replay_refused" poll 5 gt_than "$before" auth_of spa replay
check "spa_replay_opens_nothing" not door_for 10.10.1.3
check "auth_port_dark_for_c2" not nsx $C2 python3 "$TLIB/tcpx.py" tcp 10.10.1.1 8443 1
# The session must be there before the bye.
check "session_before_bye" has_sessions 1
byes=$(auth_of auth revoked_bye)
check "agent_exits_0_on_sigterm" stop_rc "$AGENT"
# Within 2 s, short of dead_after (4 s) less a keepalive (1 s): the bye, not the timeout.
check "bye_frees_session" poll 2 has_sessions 0
check "bye_counted" test "$(auth_of auth revoked_bye)" -eq $((byes + 1))

# Certificates and policy.
client_config other "$TMP/other" dev1@sensor
connect $C2 other
check "other_ca_refused" poll 15 gt auth_of spa bad_signature
check "other_ca_no_session" has_sessions 0
stop "$AGENT"
client_config dev3 "$PKI" dev3@sensor
connect $C2 dev3
check "device_not_in_policy_refused" poll 15 gt auth_of spa unknown_device
check "device_not_in_policy_no_session" has_sessions 0
stop "$AGENT"
# An app certificate the policy does not cover: its SPA already opens nothing.
client_config wrongapp "$PKI" dev2@camera
before=$(auth_of spa unknown_device)
connect $C2 wrongapp
check "app_not_in_policy_refused" poll 15 gt_than "$before" auth_of spa unknown_device
check "app_not_in_policy_no_session" has_sessions 0
stop "$AGENT"

# A client that vanishes: its session goes within the keepalive timeout.
connect $C1 c1
poll 20 has_sessions 1
stop "$AGENT" KILL
check "sigkill_frees_session" poll 10 has_sessions 0
check "sigkill_frees_map_entry" poll 5 map_entries_are 0

# Cycles: nothing may be left behind.
fds0=$(gw_fds) rss0=$(gw_rss)
cycles "$CYCLES" $C1 c1
ok=$CYCLES_OK
check "cycles_completed_$CYCLES" test "$ok" -eq "$CYCLES"
check "cycles_no_session" has_sessions 0
check "cycles_no_map_entry" test "$(map_entries)" -eq 0
check "cycles_no_pool_address" test "$(addresses_used)" -eq 0
check "cycles_no_tun" no_tun $C1
check "cycles_no_leaked_fd" test "$(gw_fds)" -le "$fds0"
check "cycles_flat_rss" test "$(gw_rss)" -le $((rss0 + rss0 / 5 + 1024))
echo "# gateway fds $fds0 -> $(gw_fds), RSS ${rss0} kB -> $(gw_rss) kB after $ok cycles"

# Renewal: a short session renews in place; UDP echo keeps working across it.
check "sigterm_exit_0_before_renewal" gw_stop
TTL=30s gateway_config
start_gw
connect $C1 c1
poll 20 has_sessions 1
# Counted from the first echo: the agent brings its TUN up after the session exists.
poll 10 udp_ok $C1
first=$(cg -j session list | jq '.[0].id')
lost=0
deadline=$((SECONDS + 45))
while [ "$(cg -j session list | jq --argjson f "$first" 'map(select(.id != $f)) | length')" -eq 0 ]; do
	[ "$SECONDS" -ge "$deadline" ] && break
	udp_ok $C1 || lost=$((lost + 1))
done
for i in 1 2 3 4 5; do
	udp_ok $C1 || lost=$((lost + 1))
done
check "renewed_before_expiry" gt auth_of auth renewed
check "renewal_loses_nothing" test "$lost" -eq 0
stop "$AGENT"

# The worker's sandbox, and what the daemon does when the filter kills it.
check "production_table_refuses_test_request" test "$("$TEST_REQUEST_CHECK")" -eq -22
check "sigterm_exit_0_before_sandbox" gw_stop
gateway_config
CAPGATE=$SAN_CAPGATE start_gw
connect $C1 c1
poll 20 has_sessions 1
poll 5 http_ok $C1
wpid=$(worker_of pid)
check "worker_seccomp_filter" status_has "$wpid" Seccomp 2
check "worker_no_new_privs" status_has "$wpid" NoNewPrivs 1
check "worker_no_capabilities" status_has "$wpid" CapEff 0000000000000000
check "worker_root_empty" root_empty "$wpid"
old=$(cg -j session list | jq '.[0].id')
resumed0=$(auth_of auth resumed)
pp kill -USR2 "$GWPID"
check "worker_sigsys_counted" poll 10 worker_is sigsys 1
# The session stays in the gate without its channel; once the new worker
# serves (the first restart comes at once), the agent may resume it, which
# ends it: a resume is granted only for a session still alive, so either
# proves it was kept.
check "session_kept_after_worker_death" kept_or_resumed "$old" "$resumed0"
check "worker_restarted" poll 10 worker_is restarted 1
check "worker_new_pid" test "$(worker_of pid)" -ne "$wpid"
check "session_kept_in_map" test "$(map_entries)" -ge 1
check "new_worker_sandboxed" status_has "$(worker_of pid)" Seccomp 2
check "agent_reconnects_to_new_worker" poll 20 session_besides "$old"
check "http_after_worker_restart" poll 5 http_ok $C1
# Without a control channel the kept session lasts dead_after (4 s) at most.
check "kept_session_ends_within_dead_after" poll 8 not session_listed "$old"
check "worker_deaths_counted_once" worker_is died 1
# Dead again soon after its start: the next one waits (1 s, then 2 s ... up to 60 s).
pp kill -USR2 "$GWPID"
check "worker_second_death_counted" poll 10 worker_is died 2
check "worker_restart_backs_off" worker_is pid null
check "worker_restarted_after_backoff" poll 10 worker_is restarted 2
stop "$AGENT"
t_done
