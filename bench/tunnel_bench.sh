#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Throughput, round trip and CPU per GB through the capgate tunnel over veth,
# next to OpenVPN, wireguard-go and bare veth, all from one run.
#
#   client ns (capgate connect, TUN cg0) 10.10.1.2 ── veth ── 10.10.1.1 gateway ns
#   (capgate gateway, XDP on ext0; iperf3 and the echo server on 10.10.2.2, an
#   address of its lo: the tunnel's far end is the server, as in vpn_peers.sh)
#
# 1. ../shared/bench/vpn_peers.sh runs as it is (its namespaces, its table).
# 2. Its functions (the script less its last line, `main "$@"`) measure capgate
#    in each of MODES with its own `measure` (the same iperf3, ping, echo and
#    paced UDP code and parsers as for the peers).
# 3. What it lacks, for the peers and capgate alike: iperf3 -P $STREAMS, and CPU
#    seconds per GB (cpu_gb_snap below; the peers are set up again with its
#    start_* functions and configurations, in namespaces named with $$).
# Then one table: capgate's modes against the best peer per column, and PASS or
# MISS for each goal of issue 11.
#
# LEVERS=1 measures only capgate encrypted (ChaCha20-Poly1305), TCP 1 stream,
# once per fast_path setting (all; all but each lever; none) and workers = 2
# (the default on 2 CPUs is 1).
#
# Usage (root): bench/tunnel_bench.sh
# Env: REPS=3 DUR=10 UDP_RATES="500 1000 1500 2000" UDP_PACED_DUR=5 STREAMS=4
#      SYSTEMS="veth ovpn-aesgcm ovpn-chacha ovpn-aesgcm-fastio wggo" (vpn_peers.sh's; "" none)
#      MODES="chacha aes integrity" (capgate's; "" none)  LEVERS=0
#      PEERS=../shared/bench/vpn_peers.sh  KEEP=1 (keep the work dir: logs, raw iperf3 JSON)
# capgate's TUN MTU is 1440 over this 1500 veth (60 bytes of outer IPv4, UDP,
# tunnel header and tag, both modes; docs/tunnel.md "MTU"), the peers' 1440
# too: vpn_peers.sh's 1400-byte datagrams fit both.
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
MODES=${MODES-"chacha aes integrity"}
LEVERS=${LEVERS:-0}
STREAMS=${STREAMS:-4}
[ "$LEVERS" = 1 ] && SYSTEMS="" MODES=""
export REPS DUR UDP_RATES UDP_PACED_DUR SYSTEMS

# wireguard-go's UAPI sockets live in /run/wireguard: a private one, like /run/netns.
mkdir -p /run/wireguard
mount -t tmpfs -o mode=0700 tmpfs /run/wireguard

# Processes that vpn_peers.sh's functions started in our namespaces (iperf3,
# socat, the tunnels): ended by PID, as its own cleanup does.
ns_procs_stop() {
	local n p
	for n in "${NS_LIST[@]}"; do
		for p in $(ip netns pids "$n" 2>/dev/null); do
			kill "$p" 2>/dev/null || true
		done
	done
}

TMP=$(mktemp -d /tmp/cg-tbench.XXXXXX)
trap 'rc=$?; ns_procs_stop; [ -n "${KEEP:-}" ] && echo "kept $TMP" >&2 || rm -rf "$TMP"; netns_cleanup "$rc"' EXIT
RUN=$TMP/peers
C=cgb-c-$$ GW=cgb-gw-$$
API=unix:$TMP/api.sock
PKI=$TMP/pki
SRV_IP=10.10.2.2
POOL=100.64.0.0/24
TABLE="python3 $TOP/bench/tunnel_table.py"

[ -r "$PEERS" ] || { echo "tunnel_bench: no $PEERS (set PEERS=)" >&2; exit 1; }
[ "$(tail -n 1 "$PEERS")" = 'main "$@"' ] || {
	echo "tunnel_bench: $PEERS does not end in main \"\$@\"; cannot take its functions" >&2
	exit 1
}
want_systems=$SYSTEMS
# shellcheck disable=SC1090
. <(sed '$d' "$PEERS")
SYSTEMS=$want_systems # its default turns "" into all
NSC=cgb-pc-$$ NSS=cgb-ps-$$
TSV=$TMP/capgate.tsv # its `measure` appends here from now on
: >"$TSV"

# "total idle softirq tunnel" in clock ticks: /proc/stat's cpu line (every
# field; idle + iowait; softirq) and utime + stime of the processes in $TUN_PIDS
cpu_gb_snap() {
	local line t=0 p
	line=$(awk '/^cpu /{t=0; for(i=2;i<=NF;i++) t+=$i; print t, $5+$6, $8}' /proc/stat)
	for p in $TUN_PIDS; do
		t=$((t + $(awk '{print $14+$15}' /proc/"$p"/stat)))
	done
	echo "$line $t"
}

iperf_listening() { ip netns exec "$NSS" ss -Hltn "sport = :$IPERF_PORT" | grep -q .; }

# tcp_cpu SYS TARGET [STREAMS...]: iperf3 TCP with CPU per GB, REPS times per stream count
tcp_cpu() {
	local sys=$1 tgt=$2 rep n b a f srv
	shift 2
	ip netns exec "$NSS" iperf3 -s -p "$IPERF_PORT" >>"$RUN/log/iperf3-s-$sys.log" 2>&1 &
	srv=$!
	poll 5 iperf_listening || { echo "tunnel_bench: iperf3 -s did not listen" >&2; exit 1; }
	for rep in $(seq 1 "$REPS"); do
		for n in "$@"; do
			log "$sys rep $rep: TCP -P $n, CPU per GB"
			f=$RUN/raw/$sys-tcp$n-$rep.json
			b=$(cpu_gb_snap)
			ip netns exec "$NSC" iperf3 -c "$tgt" -p "$IPERF_PORT" -P "$n" -t "$DUR" -J >"$f"
			a=$(cpu_gb_snap)
			echo "$sys $rep tcp$n $(H tcp "$f") $($TABLE cpu "$b" "$a" "$f")" >>"$TSV"
			# A pause between runs, as vpn_peers.sh makes: pacing, not a wait for a state.
			sleep 1
		done
	done
	kill "$srv" 2>/dev/null || true
	wait "$srv" 2>/dev/null || true
}

# The peers again, with vpn_peers.sh's own start functions, for what it does not measure.
peers_extra() {
	local s
	[ -n "$SYSTEMS" ] || return 0
	setup_net
	NS_LIST+=("$NSC" "$NSS")
	for s in $SYSTEMS; do
		log "=== $s (-P $STREAMS, CPU per GB) ==="
		case $s in
		veth) TUN_PIDS="" tcp_cpu veth "$S_IP" 1 "$STREAMS" ;;
		ovpn-aesgcm) start_ovpn "$s" AES-256-GCM ;;
		ovpn-chacha) start_ovpn "$s" CHACHA20-POLY1305 ;;
		ovpn-aesgcm-fastio) start_ovpn "$s" AES-256-GCM --fast-io ;;
		wggo) start_wggo ;;
		*)
			echo "tunnel_bench: unknown system $s" >&2
			exit 1
			;;
		esac
		[ "$s" = veth ] && continue
		# shellcheck disable=SC2206 # two PIDs, split on purpose
		PIDS+=($TUN_PIDS)
		tcp_cpu "$s" "$TS_IP" 1 "$STREAMS"
		stop_pair $TUN_PIDS
	done
}

topology() {
	ns_add $C
	ns_add $GW
	veth $C eth0 10.10.1.2/24 $GW ext0 10.10.1.1/24
	ip -n $GW addr add $SRV_IP/32 dev lo
	"$CAPGATE" ca init --dir "$PKI" --gateway gw --ip 10.10.1.1 >/dev/null
	"$CAPGATE" ca issue --dir "$PKI" --device dev1 --app bench >/dev/null
}

# config GW_MODE CLIENT_MODE CIPHER FAST_PATH WORKERS: gw.ini and c.ini for one setting
config() {
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
		pool = $POOL
		session_ttl = 1h
		workers = $5
		fast_path = $4

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
		mode = $1
	EOF
	cat >"$TMP/c.ini" <<-EOF
		[client]
		gateway = 10.10.1.1
		ca = $PKI/ca.crt
		cert = $PKI/dev1@bench.crt
		key = $PKI/dev1@bench.key
		app = bench
		tun = cg0
		mode = $2
		cipher = $3
		workers = $5
		fast_path = $4
	EOF
}

reach() { nsx $C ping -c 1 -W 1 -q $SRV_IP; }
stats() { nsx $GW "$CAPGATE" --api $API -j stats; }

# cg_start NAME GW_MODE CLIENT_MODE CIPHER FAST_PATH WORKERS: gateway and agent up, a route through
cg_start() {
	local name=$1
	shift
	config "$@"
	rm -rf "$TMP/state"
	bg $GW "$CAPGATE" gateway --config "$TMP/gw.ini" 2>"$TMP/gateway-$name.log"
	GWPID=$BG_PID
	poll 15 stats
	bg $C "$CAPGATE" connect --config "$TMP/c.ini" 2>"$TMP/agent-$name.log"
	AGENT=$BG_PID
	if ! poll 20 reach; then
		echo "tunnel_bench: $name: no route through the tunnel" >&2
		tail -n 20 "$TMP/gateway-$name.log" "$TMP/agent-$name.log" >&2
		exit 1
	fi
	# The server's wildcard UDP socket (iperf3 -u) answers from the address of
	# the route back: make it the service's, as on the peers' tunnels, where the
	# server's address is the tunnel's own.
	ip -n $GW route replace $POOL src $SRV_IP \
		dev "$(ip -n $GW -o route show $POOL | awk '{print $3}')"
	# The gateway's unprivileged auth worker is one of its processes too.
	TUN_PIDS="$AGENT $GWPID $(stats | jq -r '.auth.worker.pid // empty')"
}

cg_stop() {
	log "$1: gate verdicts $(stats | jq -c '.reasons | with_entries(select(.value.packets > 0) |
		.value = .value.packets)'), data path $(stats | jq -c '.auth.data_path.received |
		with_entries(select(.value > 0))')"
	stop "$AGENT"
	stop "$GWPID"
	TUN_PIDS=""
}

# capgate in each mode, with vpn_peers.sh's measure and then tcp_cpu
capgate_modes() {
	local m
	NSC=$C NSS=$GW
	for m in $MODES; do
		log "=== capgate-$m ==="
		case $m in
		chacha) cg_start "$m" encrypted encrypted chacha20-poly1305 all 0 ;;
		aes) cg_start "$m" encrypted encrypted aes-256-gcm all 0 ;;
		integrity) cg_start "$m" integrity policy auto all 0 ;;
		*)
			echo "tunnel_bench: unknown mode $m (chacha, aes, integrity)" >&2
			exit 1
			;;
		esac
		measure "capgate-$m" $SRV_IP
		tcp_cpu "capgate-$m" $SRV_IP 1 "$STREAMS"
		cg_stop "capgate-$m"
	done
}

# LEVERS=1: encrypted ChaCha20-Poly1305, TCP 1 stream, one fast_path setting per row
levers_run() {
	local all="mmsg udp_gso udp_gro tun_offload" l name fp w
	NSC=$C NSS=$GW
	: >"$TMP/levers"
	{
		echo "all all 0"
		for l in $all; do
			echo "no-$l $(echo " $all " | sed "s/ $l / /; s/^ //; s/ $//; s/ /,/g") 0"
		done
		echo "none none 0"
		echo "workers2 all 2"
	} >"$TMP/settings"
	while read -r name fp w <&3; do
		log "=== fast_path = $fp, workers = $w ==="
		cg_start "$name" encrypted encrypted chacha20-poly1305 "$fp" "$w"
		printf '%s\t%s\t%s\t%s\n' "$name" "$fp" "$([ "$w" = 0 ] && echo "0 (default)" || echo "$w")" \
			"$(stats | jq -r '.auth.data_path.levers | to_entries | map(select(.value).key) | join(" ")')" \
			>>"$TMP/levers"
		tcp_cpu "$name" $SRV_IP 1
		cg_stop "$name"
	done 3<"$TMP/settings"
}

mkdir -p "$RUN/raw" "$RUN/log"
if [ -n "$SYSTEMS" ]; then
	pp env RUN="$RUN" OUT="$TMP" SYSTEMS="$SYSTEMS" "$PEERS" >&2
else
	write_helper
	: >"$RUN/results.tsv"
fi
[ -s "$RUN/helper.py" ] || { echo "tunnel_bench: $PEERS wrote no helper.py" >&2; exit 1; }
peers_extra
if [ -n "$MODES" ] || [ "$LEVERS" = 1 ]; then
	topology
fi
capgate_modes
[ "$LEVERS" = 1 ] && levers_run
cat "$RUN/results.tsv" "$TSV" >"$TMP/all.tsv"

echo
echo "Tunnels over veth ($(date -u +%Y-%m-%d), $(uname -r), $(nproc) CPUs), REPS=$REPS DUR=${DUR}s" \
	"(medians); TUN MTU 1440 for capgate and the peers"
if [ "$LEVERS" = 1 ]; then
	echo "capgate encrypted (ChaCha20-Poly1305), TCP 1 stream, per fast_path setting:"
	echo
	$TABLE levers "$TMP/all.tsv" "$TMP/levers"
	exit 0
fi
echo
$TABLE table "$TMP/all.tsv"
echo
echo "CPU s/GB: (utime + stime of both tunnel ends' processes + the box's softirq time)" \
	"during one iperf3 -P 1 run, over the bytes iperf3's receiver counted."
echo
echo "Every configuration, vpn_peers.sh's table and raw values (the same run):"
echo
H summarize "$TMP/all.tsv"
