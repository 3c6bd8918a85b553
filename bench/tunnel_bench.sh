#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Throughput and round trip through the capgate tunnel over veth, next to OpenVPN and wireguard-go.
#
#   client (10.10.1.2, capgate connect) ── ext0 gw 10.10.1.1 (capgate gateway) int0 ── srv 10.10.2.2
#
# First runs ../shared/bench/vpn_peers.sh (its own namespaces avc/avs, the
# same iperf3/ping/echo code for every system), then measures capgate with
# that script's helper.py (same parsers, same TCP echo client) and prints one
# table. Integrity mode does not encrypt and the peers do: capgate's row is a
# reference point, not a win.
#
# Usage (root): bench/tunnel_bench.sh
# Env: REPS=3 DUR=10 UDP_RATES="500 1000 1500 2000" UDP_PACED_DUR=5
#      SYSTEMS="veth ovpn-aesgcm ovpn-chacha ovpn-aesgcm-fastio wggo" (vpn_peers.sh's; "" skips it)
#      PEERS=../shared/bench/vpn_peers.sh
#      UDP_LEN=1400: capgate's TUN MTU comes from the route to the gateway, 1440
#      over this 1500 veth (60 bytes of outer IPv4, UDP, tunnel header and tag;
#      docs/tunnel.md "MTU"), the peers' MTU is 1440 too: the same 1400-byte
#      datagrams fit both without fragmenting.
set -euo pipefail
. "$(dirname "$0")/../tests/lib/netns.sh"
netns_private "$@"

[ -x "$CAPGATE" ] || { echo "SKIP: build/capgate is not built"; exit 4; }
TOP=$(cd "$(dirname "$0")/.." && pwd)
PEERS=${PEERS:-$TOP/../shared/bench/vpn_peers.sh}
REPS=${REPS:-3}
DUR=${DUR:-10}
UDP_RATES=${UDP_RATES-"500 1000 1500 2000"}
UDP_PACED_DUR=${UDP_PACED_DUR:-5}
SYSTEMS=${SYSTEMS-"veth ovpn-aesgcm ovpn-chacha ovpn-aesgcm-fastio wggo"}
UDP_LEN=${UDP_LEN:-1400}
export REPS DUR UDP_RATES UDP_PACED_DUR SYSTEMS

TMP=$(mktemp -d /tmp/cg-tbench.XXXXXX)
trap 'rc=$?; rm -rf "$TMP"; netns_cleanup "$rc"' EXIT
RUN=$TMP/peers
TSV=$TMP/capgate.tsv
C=cgb-c-$$ GW=cgb-gw-$$ SRV=cgb-srv-$$
API=127.0.0.1:7071
PKI=$TMP/pki
SRV_IP=10.10.2.2
IPERF_PORT=5201 ECHO_PORT=7777

H() { python3 "$RUN/helper.py" "$@"; }

# The peers first: vpn_peers.sh writes helper.py, which measures capgate too.
peers() {
	mkdir -p "$RUN"
	if [ -n "$SYSTEMS" ]; then
		pp env RUN="$RUN" OUT="$TMP" "$PEERS" >&2
	else
		# Only its helper: a run over no system (it takes "" for "all", so " ").
		RUN="$RUN" OUT="$TMP" SYSTEMS=" " "$PEERS" >/dev/null 2>&1 || true
	fi
	[ -s "$RUN/helper.py" ] || { echo "tunnel_bench: $PEERS wrote no helper.py" >&2; exit 1; }
}

topology() {
	local ns
	for ns in $C $GW $SRV; do
		ns_add "$ns"
	done
	veth $C eth0 10.10.1.2/24 $GW ext0 10.10.1.1/24
	veth $GW int0 10.10.2.1/24 $SRV eth0 $SRV_IP/24
	ip -n $SRV route add default via 10.10.2.1
	nsx $GW sysctl -qw net.ipv4.ip_forward=1
}

config() {
	"$CAPGATE" ca init --dir "$PKI" --gateway gw --ip 10.10.1.1 >/dev/null
	"$CAPGATE" ca issue --dir "$PKI" --device dev1 >/dev/null
	cat >"$TMP/gw.ini" <<-EOF
		[gateway]
		interface = ext0
		name = b$$
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
		session_ttl = 1h

		[service bench-tcp]
		proto = tcp
		address = $SRV_IP
		ports = $IPERF_PORT $ECHO_PORT

		[service bench-udp]
		proto = udp
		address = $SRV_IP
		ports = $IPERF_PORT

		[service bench-icmp]
		proto = icmp
		address = $SRV_IP

		[allow bench]
		device = dev1
		app = bench
		services = bench-tcp bench-udp bench-icmp
		mode = integrity
	EOF
	cat >"$TMP/c.ini" <<-EOF
		[client]
		gateway = 10.10.1.1
		ca = $PKI/ca.crt
		cert = $PKI/dev1.crt
		key = $PKI/dev1.key
		app = bench
		tun = cg0
	EOF
}

reach() { nsx $C ping -c 1 -W 1 -q $SRV_IP; }
api_up() { nsx $GW "$CAPGATE" --api $API -j stats; }

# "total_jiffies idle_jiffies utime+stime(agent) utime+stime(gateway)", as vpn_peers.sh's cpu_snap
cpu_snap() {
	local line p
	line=$(awk '/^cpu /{t=0; for(i=2;i<=NF;i++) t+=$i; print t, $5+$6}' /proc/stat)
	for p in $AGENT $GWPID; do
		line="$line $(awk '{print $14+$15}' /proc/"$p"/stat)"
	done
	echo "$line"
}

capgate() {
	local rep rate b a f ncpu
	ncpu=$(nproc)
	topology
	config
	bg $GW "$CAPGATE" gateway --config "$TMP/gw.ini" 2>"$TMP/gateway.log"
	GWPID=$BG_PID
	poll 15 api_up
	bg $C "$CAPGATE" connect --config "$TMP/c.ini" 2>"$TMP/agent.log"
	AGENT=$BG_PID
	if ! poll 20 reach; then
		echo "tunnel_bench: no route through the tunnel" >&2
		tail -n 20 "$TMP/gateway.log" "$TMP/agent.log" >&2
		exit 1
	fi
	bg $SRV iperf3 -s -p $IPERF_PORT >"$TMP/iperf3-s.log" 2>&1
	bg $SRV socat TCP-LISTEN:$ECHO_PORT,reuseaddr,fork PIPE >"$TMP/socat.log" 2>&1
	sleep 1
	for rep in $(seq 1 "$REPS"); do
		echo "[$(date +%T)] capgate rep $rep: TCP, UDP, ping, echo" >&2
		f=$TMP/tcp-$rep.json
		b=$(cpu_snap)
		nsx $C iperf3 -c $SRV_IP -p $IPERF_PORT -t "$DUR" -J >"$f"
		a=$(cpu_snap)
		echo "capgate $rep tcp $(H tcp "$f") $(H cpu "$b" "$a" "$ncpu")" >>"$TSV"
		sleep 1
		f=$TMP/udp-$rep.json
		b=$(cpu_snap)
		nsx $C iperf3 -c $SRV_IP -p $IPERF_PORT -u -b 0 -l "$UDP_LEN" -t "$DUR" -J >"$f"
		a=$(cpu_snap)
		echo "capgate $rep udp $(H udp "$f") $(H cpu "$b" "$a" "$ncpu")" >>"$TSV"
		sleep 1
		nsx $C ping -c 200 -i 0.01 $SRV_IP >"$TMP/ping-$rep.txt"
		echo "capgate $rep ping $(H ping "$TMP/ping-$rep.txt")" >>"$TSV"
		echo "capgate $rep echo $(nsx $C python3 "$RUN/helper.py" echo $SRV_IP $ECHO_PORT 1000 32)" >>"$TSV"
		sleep 1
	done
	for rep in $(seq 1 "$REPS"); do
		for rate in $UDP_RATES; do
			f=$TMP/udp${rate}M-$rep.json
			nsx $C iperf3 -c $SRV_IP -p $IPERF_PORT -u -b "${rate}M" -l "$UDP_LEN" \
				-t "$UDP_PACED_DUR" -J >"$f"
			echo "capgate $rep udp${rate}M $(H udp "$f")" >>"$TSV"
			sleep 1
		done
	done
	echo "[$(date +%T)] capgate: gate verdicts" >&2
	nsx $GW "$CAPGATE" --api $API -j stats |
		jq -c '.reasons | with_entries(select(.value.packets > 0) | .value = .value.packets)' >&2
}

peers
capgate
cat "$RUN/results.tsv" "$TSV" 2>/dev/null >"$TMP/all.tsv"
echo
echo "Tunnels over veth ($(date -u +%Y-%m-%d), $(uname -r), $(nproc) CPUs), REPS=$REPS DUR=${DUR}s;" \
	"UDP datagrams $UDP_LEN B for all (TUN MTU 1440 for capgate and the peers)"
H summarize "$TMP/all.tsv"
