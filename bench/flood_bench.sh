#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The gateway under a flood of spoofed sources (tests/tools/flood: TCP SYNs,
# 64 B on the wire, random sources in 198.18.0.0/15, ports 1000-6999, at the
# server behind the gate), on tests/net/lib_flood.sh's topology. Per flood
# rate (0 in RATES: no flood; max: as fast as the flooder goes), during DUR s
# of flood alone: the packets sent and dropped in XDP per second, the frames
# lost before the gate, the flooder's CPU share (its sends run the bridge and
# XDP in its softirq) and the daemon's CPU time (utime + stime of it and its
# auth worker). Then, with the same flood running, an iperf3 TCP transfer of
# DUR s from the knocked client through its door, and one from the tunnel
# client through its integrity session (the daemon carries its return path),
# with the daemon's CPU again; each transfer REPS times, interleaved with
# the other rates', the medians shown.
#
# Usage (root): bench/flood_bench.sh    Env: RATES="0 25000 max" DUR=5 REPS=3
#   CAPGATE=path/to/capgate (its dir holds tests/tools/flood) to time another build.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/tests/lib/netns.sh"
netns_private "$@"

RATES=${RATES:-"0 25000 max"}
DUR=${DUR:-5}
REPS=${REPS:-3}
command -v iperf3 >/dev/null || { echo "SKIP: flood_bench needs iperf3 (make bench installs it)"; exit 4; }
[ -x "$CAPGATE" ] || { echo "SKIP: build/capgate is not built"; exit 4; }
TMP=$(mktemp -d /tmp/cg-floodb.XXXXXX)
trap 'rc=$?; rm -rf "$TMP"; netns_cleanup "$rc"' EXIT
. "$top/tests/net/lib_flood.sh"
[ -x "$FLOOD" ] || { echo "SKIP: $FLOOD is not built"; exit 4; }

flood_topology >/dev/null 2>&1
flood_config
bg $SRV iperf3 -s -p 5201 >/dev/null 2>&1
poll 10 nsx $SRV sh -c 'ss -ltn | grep -q ":5201 "'
flood_gw_start 2>/dev/null

# flood_on RATE SECS: a flood of SECS s at RATE (max: uncapped) in the background
flood_on() {
	local cap=$1
	[ "$cap" = max ] && cap=0
	flood_start --dst 10.10.2.2 --dport $FLOOD_PORTS --rate "$cap" --duration "$2" 2>/dev/null
}
# iperf NS: DUR s of iperf3 to the server's 5201; prints the receiver's Mbit/s
iperf() {
	nsx "$1" iperf3 -c 10.10.2.2 -p 5201 -t "$DUR" -J >"$TMP/iperf.json"
	jq -r '.end.sum_received.bits_per_second / 1e6 | floor' "$TMP/iperf.json"
}
# lost: frames the veths dropped on the way to the gate (a full backlog or XDP ring)
lost() {
	local d t=0
	for d in "$FL eth0" "$SW p4" "$SW p3" "$GW ext0"; do
		# shellcheck disable=SC2086 # NS DEV
		t=$((t + $(ip -s -j -n ${d% *} link show ${d#* } | jq '.[0].stats64 | .rx.dropped + .tx.dropped')))
	done
	echo $t
}
# window CMD...: runs CMD; W_CPU: the daemon's CPU ms meanwhile, W_DROPS: drop_default's
# growth, W_LOST: frames lost before the gate
window() {
	local c0 d0 l0
	c0=$(gw_cpu_ms) d0=$(stat_of drop_default) l0=$(lost)
	"$@"
	W_CPU=$(($(gw_cpu_ms) - c0)) W_DROPS=$(($(stat_of drop_default) - d0)) W_LOST=$(($(lost) - l0))
}
# transfer PATH RATE: iperf3 over PATH (door: c1 knocks first; tunnel: c2) with a flood at
# RATE (0: none); appends its Mbit/s and the daemon's CPU ms to MBIT[PATH RATE], CPU[PATH RATE]
declare -A MBIT CPU
transfer() {
	local ns=$C2
	if [ "$1" = door ]; then
		ns=$C1
		flood_knock >/dev/null
	fi
	[ "$2" = 0 ] || flood_on "$2" 600 # until flood_stop
	window iperf "$ns" >"$TMP/mbit"
	MBIT[$1 $2]+=" $(cat "$TMP/mbit")" CPU[$1 $2]+=" $W_CPU"
	[ "$2" = 0 ] || flood_stop 2>/dev/null
}
# median N...: the median of the numbers
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# flood_alone RATE: DUR s of flood, waited for
flood_alone() {
	flood_on "$1" "$DUR"
	flood_wait 2>/dev/null
}

echo "flood: TCP SYN, 64 B frames, to 10.10.2.2 ports $FLOOD_PORTS; DUR=${DUR}s per measure, transfers: median of $REPS"
row() {
	printf '| %-10s | %-9s | %-16s | %-5s | %-12s | %-13s | %-11s | %-9s | %-13s | %-9s |\n' "$@"
}
row "flood rate" "sent/s" "dropped in XDP/s" "lost" "flooder CPU" "daemon CPU ms" "door Mbit/s" \
	"daemon ms" "tunnel Mbit/s" "daemon ms"
declare -A ALONE
for rate in $RATES; do
	ALONE[$rate]="- - - - -"
	[ "$rate" = 0 ] && continue
	window flood_alone "$rate"
	secs=$(sed -n 's/.* seconds=\([0-9.]*\) .*/\1/p' "$TMP/flood.out")
	fl_cpu=$(sed -n 's/.* cpu=\([0-9.]*\) .*/\1/p' "$TMP/flood.out")
	ALONE[$rate]="$FLOOD_PPS $(awk -v d="$W_DROPS" -v s="$secs" -v l="$W_LOST" -v n="$FLOOD_SENT" \
		-v c="$fl_cpu" 'BEGIN { printf "%.0f %.1f%% %.0f%%", d / s, 100 * l / n, 100 * c / s }') $W_CPU"
done
# The transfers interleaved (each rate in turn, REPS rounds): the machine's load
# changes alike for every column.
for i in $(seq "$REPS"); do
	for rate in $RATES; do
		transfer door "$rate"
		transfer tunnel "$rate"
	done
done
for rate in $RATES; do
	# shellcheck disable=SC2086 # the lists of numbers
	row "$rate" ${ALONE[$rate]} "$(median ${MBIT[door $rate]})" "$(median ${CPU[door $rate]})" \
		"$(median ${MBIT[tunnel $rate]})" "$(median ${CPU[tunnel $rate]})"
done
