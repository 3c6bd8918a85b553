#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs the benchmarks (make bench) and prints their tables; each section prints its command line.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
B=build
rc=0

# pp CMD...: print a command, then run it (WireGuard's pp)
pp() {
	echo "+ $*"
	"$@"
}

echo "== XDP gate ($(date -u +%Y-%m-%d), $(uname -r), $(nproc) CPUs)"
pp "$B/bench/gate_bench" || rc=1
echo

echo "== Capability path ($(date -u +%Y-%m-%d), $(uname -r), $(nproc) CPUs)"
pp "$B/bench/cap_bench" || rc=1
echo

echo "== L4 balancer, tc_lb ($(date -u +%Y-%m-%d), $(uname -r), $(nproc) CPUs)"
pp "$B/bench/lb_bench" || rc=1
echo

echo "== Encrypted mode's AEAD ($(date -u +%Y-%m-%d), $(uname -r), $(nproc) CPUs)"
pp "$B/bench/aead_bench" || rc=1
echo

echo "== Analyzer ($(date -u +%Y-%m-%d), $(uname -r), $(nproc) CPUs)"
pp bench/dpi_capture.sh "$B/bench/dpi.pcap" || rc=1
pp bench/dpi_bench.sh "$B/bench/dpi.pcap" 3 || rc=1
echo
echo "== Analyzer live on a veth under iperf3 load"
pp bench/dpi_live.sh 10 1 || rc=1
echo

echo "== Policy decision at fleet size ($(date -u +%Y-%m-%d), $(uname -r), $(nproc) CPUs)"
pp "$B/bench/policy_bench" || rc=1
echo

echo "== SPA under a flood of forgeries ($(date -u +%Y-%m-%d), $(uname -r), $(nproc) CPUs)"
pp bench/spa_flood.sh || rc=1
echo

echo "== Under a spoofed flood ($(date -u +%Y-%m-%d), $(uname -r), $(nproc) CPUs)"
pp bench/flood_bench.sh || rc=1
echo

echo "== Tunnel throughput ($(date -u +%Y-%m-%d), $(uname -r), $(nproc) CPUs)"
pp bench/tunnel_bench.sh || rc=1
echo

echo "== Tunnel fast path, one lever at a time ($(date -u +%Y-%m-%d), $(uname -r), $(nproc) CPUs)"
pp env LEVERS=1 bench/tunnel_bench.sh || rc=1
echo

echo "== L4 balancer against nftables DNAT and HAProxy ($(date -u +%Y-%m-%d), $(uname -r), $(nproc) CPUs)"
pp bench/lb_bench.sh || rc=1
echo

exit $rc
