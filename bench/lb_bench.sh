#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The L4 balancer against its peers, side by side on one topology (tests/net/lib_lb.sh): the
# client's requests to VIP 10.10.2.100:80 go through the gateway namespace to three http_name
# backends, balanced by
#   direct    no balancer: the client asks b1 (10.10.2.2) through the routing gateway (the floor)
#   capgate   build/capgate gateway -c CONFIG ([service web], nat = dnat, TC tc_lb)
#   nftables  DNAT in prerouting, `numgen random mod 3` map (kube-proxy's nftables mode)
#   haproxy   mode tcp, nbthread 2, bound to the VIP on the gateway
# For each: new connections per second (wrk, -H "Connection: close": one request per TCP
# connection, DURATION s, CONNS connections, 2 threads), request latency p50/p99 (wrk --latency)
# and one bulk download of BULK bytes (curl /big?n=BULK) through the VIP.
#
#   bench/lb_bench.sh [DURATION [CONNS [BULK]]]     (default 5 32 2000000000; LB_PEERS="...")
set -euo pipefail
# shellcheck disable=SC2317 # the peer_* functions are called by name
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/lib/netns.sh"
netns_private "$@"

DURATION=${1:-5} CONNS=${2:-32} BULK=${3:-2000000000}
PEERS=${LB_PEERS:-direct capgate nftables haproxy}
for t in wrk curl nft haproxy; do
	command -v $t >/dev/null || { echo "SKIP: lb_bench needs $t (make bench installs it)"; exit 4; }
done
TMP=$(mktemp -d /tmp/cg-lbb.XXXXXX)
trap 'rc=$?; rm -rf "$TMP"; netns_cleanup "$rc"' EXIT
. "$top/tests/net/lib_lb.sh"
[ -x "$HTTP_NAME" ] || { echo "SKIP: $HTTP_NAME is not built"; exit 4; }

lb_topology >/dev/null 2>&1
lb_backends 2>/dev/null
ROWS=()

# measure PEER HOST: wrk and curl from the client against HOST:80; appends a table row
measure() {
	local peer=$1 host=$2 out rps p50 p99 bulk
	out=$TMP/$peer.wrk
	pp nsx $LB_CL wrk -t2 -c"$CONNS" -d"${DURATION}s" --latency -H 'Connection: close' \
		"http://$host/" >"$out"
	sed 's/^/    /' "$out"
	rps=$(awk '/^Requests\/sec/ { printf "%.0f", $2 }' "$out")
	p50=$(awk '$1 == "50%" { print $2 }' "$out")
	p99=$(awk '$1 == "99%" { print $2 }' "$out")
	pp nsx $LB_CL curl -s -o /dev/null -w '%{speed_download} %{size_download}\n' \
		"http://$host/big?n=$BULK" >"$TMP/$peer.bulk"
	sed 's/^/    /' "$TMP/$peer.bulk"
	read -r bulk size <"$TMP/$peer.bulk"
	[ "$size" = "$BULK" ] || { echo "$peer: bulk download got $size of $BULK bytes" >&2; return 1; }
	bulk=$(awk -v b="$bulk" 'BEGIN { printf "%.2f", b * 8 / 1e9 }')
	ROWS+=("| $peer | $rps | $p50 | $p99 | $bulk |")
}

# spread PEER: the backends' share of 300 fresh connections (the peer really balances)
spread() {
	printf '    %s spread over 300 connections: %s\n' "$1" \
		"$(lb_names 300 | sort | uniq -c | awk '{ printf "%s=%s ", $2, $1 }')"
}

peer_direct() {
	measure direct 10.10.2.2
}

peer_capgate() {
	[ -x "$CAPGATE" ] || { echo "    capgate: $CAPGATE is not built"; return 1; }
	lb_gateway_ini dnat "10.10.2.2:80 10.10.2.3:80 10.10.2.4:80" >"$TMP/gw.ini"
	bg $LB_GW "$CAPGATE" gateway -c "$TMP/gw.ini" 2>"$TMP/gw.log"
	local gw=$BG_PID rc=0
	if ! poll 15 lb_all_up; then
		echo "    capgate: backends not up:" && tail -5 "$TMP/gw.log"
		stop $gw
		return 1
	fi
	spread capgate
	measure capgate $LB_VIP || rc=1
	stop $gw
	return $rc
}

# lb_all_up: the gateway's API lists three backends, all up
lb_all_up() {
	nsx $LB_GW "$CAPGATE" --api "unix:$TMP/api.sock" lb list -j |
		jq -e '[.services[0].backends[] | select(.state == "up")] | length == 3'
}

peer_nftables() {
	nsx $LB_GW nft -f - <<-EOF
		table ip lbbench {
			chain pre {
				type nat hook prerouting priority dstnat; policy accept;
				ip daddr $LB_VIP tcp dport 80 dnat to numgen random mod 3 map { 0 : 10.10.2.2, 1 : 10.10.2.3, 2 : 10.10.2.4 }
			}
		}
	EOF
	spread nftables
	local rc=0
	measure nftables $LB_VIP || rc=1
	nsx $LB_GW nft delete table ip lbbench
	return $rc
}

peer_haproxy() {
	cat >"$TMP/haproxy.cfg" <<-EOF
		global
			nbthread 2
			maxconn 8000
		defaults
			mode tcp
			timeout connect 5s
			timeout client 60s
			timeout server 60s
		frontend web
			bind $LB_VIP:80
			default_backend web
		backend web
			balance roundrobin
			server b1 10.10.2.2:80
			server b2 10.10.2.3:80
			server b3 10.10.2.4:80
	EOF
	lb_vip_local add
	bg $LB_GW haproxy -db -f "$TMP/haproxy.cfg" 2>"$TMP/haproxy.log"
	local hp=$BG_PID rc=0
	poll 10 lb_get "http://$LB_VIP/healthz" || { cat "$TMP/haproxy.log"; rc=1; }
	[ $rc -ne 0 ] || spread haproxy
	[ $rc -ne 0 ] || measure haproxy $LB_VIP || rc=1
	stop $hp
	lb_vip_local del
	return $rc
}

rc=0
echo "lb_bench: wrk -t2 -c$CONNS -d${DURATION}s -H 'Connection: close'; bulk $BULK bytes; $(nproc) CPUs, $(uname -r)"
for p in $PEERS; do
	echo "== $p"
	if ! "peer_$p"; then
		ROWS+=("| $p | failed | | | |")
		rc=1
	fi
done
echo
echo "| balancer | new conn/s | p50 | p99 | bulk Gbit/s |"
echo "|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
exit $rc
