#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The tunnel's MTU across a smaller path: the client and the gateway sit on
# 1500-byte links, so both TUNs get 1440, but a link between two routers in
# the middle has 1400. Their ICMP "fragmentation needed" reaches the sender
# of the outer packet; capgate turns it into a "too big" for the inner sender,
# whose TCP adapts: transfers both ways complete, in both modes.
#
#   client 10.10.1.2 ── r1 ══1400══ r2 ── ext0 gw 10.10.6.2 int0 ── server 10.10.2.2
set -euo pipefail
. "$(dirname "$0")/../lib/netns.sh"
netns_private "$@"

[ -x "$CAPGATE" ] || { echo "SKIP: build/capgate is not built"; exit 4; }
TMP=$(mktemp -d /tmp/cg-mtu.XXXXXX)
trap 'rc=$?; rm -rf "$TMP"; netns_cleanup "$rc"' EXIT

C=cgm-c-$$ R1=cgm-r1-$$ R2=cgm-r2-$$ GW=cgm-gw-$$ SRV=cgm-srv-$$
API=unix:$TMP/api.sock
PKI=$TMP/pki

topology() {
	local ns
	for ns in $C $R1 $R2 $GW $SRV; do
		ns_add "$ns"
	done
	veth $C eth0 10.10.1.2/24 $R1 r1c 10.10.1.1/24
	veth $R1 r1r 10.10.5.1/24 $R2 r2r 10.10.5.2/24
	ip -n $R1 link set r1r mtu 1400
	ip -n $R2 link set r2r mtu 1400
	veth $R2 r2g 10.10.6.1/24 $GW ext0 10.10.6.2/24
	veth $GW int0 10.10.2.1/24 $SRV eth0 10.10.2.2/24
	ip -n $C route add default via 10.10.1.1
	ip -n $R1 route add default via 10.10.5.2
	ip -n $R2 route add 10.10.1.0/24 via 10.10.5.1
	ip -n $GW route add 10.10.1.0/24 via 10.10.6.1
	ip -n $GW route add 10.10.5.0/24 via 10.10.6.1
	ip -n $SRV route add default via 10.10.2.1
	for ns in $R1 $R2 $GW; do
		nsx $ns sysctl -qw net.ipv4.ip_forward=1
	done
	mkdir -p "$TMP/www"
	head -c 20000000 /dev/urandom >"$TMP/www/big"
	sha256sum <"$TMP/www/big" | cut -d' ' -f1 >"$TMP/big.sha"
	bg $SRV python3 -m http.server --directory "$TMP/www" --bind 10.10.2.2 80
	bg $SRV python3 "$TLIB/tcpx.py" serve-tcp 22
	poll 10 nsx $SRV curl -sf -m 1 -o /dev/null http://10.10.2.2/big
}

config() {
	"$CAPGATE" ca init --dir "$PKI" --gateway gw --ip 10.10.6.2 >/dev/null
	"$CAPGATE" ca issue --dir "$PKI" --device dev1 --app sensor >/dev/null
	"$CAPGATE" ca issue --dir "$PKI" --device dev2 --app sensor >/dev/null
	cat >"$TMP/gw.ini" <<-EOF
		[gateway]
		interface = ext0
		name = m$$
		api = $API
		state_dir = $TMP/state
		default = drop

		[auth]
		ca = $PKI/ca.crt
		cert = $PKI/gateway.crt
		key = $PKI/gateway.key
		pool = 100.64.0.0/24

		[service web]
		proto = tcp
		address = 10.10.2.2
		ports = 80 22

		[allow enc]
		device = dev1
		app = sensor
		services = web

		[allow int]
		device = dev2
		app = sensor
		services = web
		mode = integrity
	EOF
	for d in dev1 dev2; do
		cat >"$TMP/$d.ini" <<-EOF
			[client]
			gateway = 10.10.6.2
			ca = $PKI/ca.crt
			cert = $PKI/$d@sensor.crt
			key = $PKI/$d@sensor.key
			app = sensor
			tun = cg0
		EOF
	done
}

cg() { nsx $GW "$CAPGATE" --api $API "$@"; }
api_up() { cg -j stats >/dev/null 2>&1; }
has_sessions() { [ "$(cg -j session list | jq length)" -eq "$1" ]; }
ret_of() { cg -j stats | jq -r ".auth.return_path.$1"; }
gt() { [ "$("$@" | tail -1)" -gt 0 ]; }
mtu_of() { ip -n "$1" -o link show "$2" | grep -o 'mtu [0-9]*' | cut -d' ' -f2; }
download_ok() {
	local sum
	sum=$(nsx $C curl -sf -m 60 http://10.10.2.2/big | sha256sum | cut -d' ' -f1)
	[ "$sum" = "$(cat "$TMP/big.sha")" ]
}
# 4 MB up to the server's echo and back: the client's direction across the 1400 link.
upload_ok() {
	nsx $C python3 - <<-'EOF'
		import os, socket, sys, threading
		data = os.urandom(4 << 20)
		s = socket.create_connection(("10.10.2.2", 22), timeout=30)
		threading.Thread(target=s.sendall, args=(data,), daemon=True).start()
		got = bytearray()
		while len(got) < len(data):
		    b = s.recv(65536)
		    if not b:
		        break
		    got += b
		sys.exit(0 if bytes(got) == data else 1)
	EOF
}
# route_mtu NS DST: the path MTU the kernel learnt for DST (from an ICMP too big)
route_mtu() { nsx "$1" ip route get "$2" | grep -o 'mtu [0-9]*' | cut -d' ' -f2; }

topology
config
bg $GW "$CAPGATE" gateway --config "$TMP/gw.ini"
poll 15 api_up
check "gateway_tun_mtu_from_interface" test "$(mtu_of $GW cg-m$$)" -eq 1440

# one_mode DEVICE MODE: a session, then transfers both ways across the small link.
one_mode() {
	local d=$1 m=$2 agent vip
	bg $C "$CAPGATE" connect --config "$TMP/$d.ini" 2>>"$TMP/agent.log"
	agent=$BG_PID
	check "${m}_session" poll 20 has_sessions 1
	check "${m}_agent_tun_mtu_from_route" test "$(mtu_of $C cg0)" -eq 1440
	vip=$(cg -j session list | jq -r '.[0].vip')
	# Each direction alone: a learnt MTU lowers the MSS the other side is offered.
	check "${m}_upload_across_1400" upload_ok
	check "${m}_client_learnt_inner_mtu" test "$(route_mtu $C 10.10.2.2)" -eq 1340
	nsx $C ip route flush cache
	check "${m}_download_across_1400" download_ok
	check "${m}_server_learnt_inner_mtu" test "$(route_mtu $SRV "$vip")" -eq 1340
	nsx $SRV ip route flush cache
	stop "$agent"
	poll 10 has_sessions 0
}
one_mode dev1 encrypted
check "too_big_sent_for_inner_packets" gt ret_of icmp_too_big_sent
check "too_big_counted" gt ret_of too_big
one_mode dev2 integrity
t_done
