# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The spoofed flood's topology for tests/net/test_flood.sh and bench/flood_bench.sh (source it
# after tests/lib/netns.sh and netns_private; set TMP first):
#
#   c1 (10.10.1.2: knocks) ──┐                       ┌ server 10.10.2.2: tcp 22 (echo),
#   c2 (10.10.1.3: tunnel) ──┼ sw (bridge) ── ext0 gw int0   tcp 80 (HTTP), udp 7 (echo)
#   fl (10.10.1.9: flood)  ──┘
#
# The gateway (flood_config, flood_gw_start) is dark (default drop); the knock door
# (tcp/7000 udp/8000 tcp/9000) opens tcp/22 and tcp/5201 of the server for 60 s; c2's
# integrity session (flood_connect) reaches its tcp 80, 5201 and udp 7. tcp/5201 is for
# iperf3, which the caller starts. The flood goes to ports FLOOD_PORTS: none the gateway admits.

FLOOD=${FLOOD:-$(dirname "$CAPGATE")/tests/tools/flood}
C1=cgf-c1-$$ C2=cgf-c2-$$ SW=cgf-sw-$$ GW=cgf-gw-$$ SRV=cgf-srv-$$ FL=cgf-fl-$$
API=unix:$TMP/api.sock
PKI=$TMP/pki
# Below the knock steps (7000-9000), the auth port (8443), the data and SPA ports (51900, 62201).
FLOOD_PORTS=1000-6999

# flood_topology: the namespaces and the servers; GW_MAC is ext0's address
flood_topology() {
	lan_topology $C1 $C2 $SW $GW $SRV
	ns_add $FL
	veth $FL eth0 10.10.1.9/24 $SW p4 0.0.0.0/32
	ip -n $SW addr flush dev p4
	ip -n $SW link set p4 master br0
	ip -n $GW addr add fd00:1::1/64 dev ext0 nodad
	ip -n $C1 route add 10.10.2.0/24 via 10.10.1.1
	# The bridge sends frames for ext0 to ext0 alone, learnt or not: the flood
	# reaches the gate, not the other clients.
	GW_MAC=$(ip -n $GW -j link show ext0 | jq -r '.[0].address')
	pp bridge -n $SW fdb replace "$GW_MAC" dev p3 master static
	mkdir -p "$TMP/www"
	echo "behind capgate" >"$TMP/www/index.html"
	bg $SRV python3 -m http.server --directory "$TMP/www" --bind 10.10.2.2 80 2>/dev/null
	bg $SRV python3 "$TLIB/tcpx.py" serve-tcp 22
	bg $SRV python3 "$TLIB/tcpx.py" serve-udp 7
	poll 10 nsx $SRV curl -sf -m 1 http://10.10.2.2/
	poll 10 nsx $SRV python3 "$TLIB/tcpx.py" tcp 10.10.2.2 22 1
}

# flood_config: the PKI, TMP/gw.ini and TMP/c2.ini
flood_config() {
	pki_devices "$PKI" dev1@sensor
	{
		gateway_ini_head f$$ "$API" "$TMP/state" "$PKI"
		cat <<-EOF
			keepalive = 1s

			[knock door]
			sequence = tcp/7000 udp/8000 tcp/9000
			step_timeout = 5s
			open = tcp/22 tcp/5201
			open_for = 60s
			to = 10.10.2.2

			[service web]
			proto = tcp
			address = 10.10.2.2
			ports = 80 5201

			[service echo]
			proto = udp
			address = 10.10.2.2
			ports = 7

			[allow sensors]
			device = dev1
			app = sensor
			services = web echo
			mode = integrity
		EOF
	} >"$TMP/gw.ini"
	client_ini_head "$PKI" dev1@sensor >"$TMP/c2.ini"
}

cg() { nsx $GW "$CAPGATE" --api $API "$@"; }
stat_of() { cg -j stats | jq -r ".reasons.$1.packets"; }
has_sessions() { [ "$(cg -j session list | jq length)" -eq "$1" ]; }

# flood_gw_start: the gateway, its PID in GWPID; then c2's agent, its PID in AGENT, and
# its session
flood_gw_start() {
	gw_start $GW "$API" "$TMP"
	bg $C2 "$CAPGATE" connect --config "$TMP/c2.ini" 2>>"$TMP/agent.log"
	AGENT=$BG_PID
	poll 20 has_sessions 1
}

# flood_knock: c1 knocks the door open
flood_knock() { nsx $C1 "$CAPGATE" knock send 10.10.2.2 tcp/7000,udp/8000,tcp/9000 --gap 20; }

# flood_start ARGS...: flood from fl's eth0 at ext0 (flood's other options in ARGS), stdout
# in TMP/flood.out, its PID in FLOOD_PID. flood_wait waits for its end (--count,
# --duration), fails if it failed, and sets FLOOD_SENT to the packets it sent and FLOOD_PPS
# to its rate (not in a subshell: it waits for the flood); flood_stop ends it first (SIGTERM).
flood_start() {
	bg $FL "$FLOOD" -i eth0 --dst-mac "$GW_MAC" "$@" >"$TMP/flood.out"
	FLOOD_PID=$BG_PID
}
flood_stop() {
	kill -TERM "$FLOOD_PID"
	flood_wait
}
flood_wait() {
	wait "$FLOOD_PID"
	cat "$TMP/flood.out" >&2
	FLOOD_SENT=$(sed -n 's/^sent=\([0-9]*\) .*/\1/p' "$TMP/flood.out")
	FLOOD_PPS=$(sed -n 's/.* pps=\([0-9]*\)$/\1/p' "$TMP/flood.out")
	[ -n "$FLOOD_SENT" ] && [ -n "$FLOOD_PPS" ]
}

# gw_cpu_ms: CPU time (utime + stime) of the daemon and its children (the auth worker), in ms
gw_cpu_ms() {
	local p t=0 hz
	hz=$(getconf CLK_TCK)
	for p in "$GWPID" $(cat /proc/"$GWPID"/task/*/children); do
		t=$((t + $(awk '{ print $14 + $15 }' /proc/"$p"/stat)))
	done
	echo $((t * 1000 / hz))
}
