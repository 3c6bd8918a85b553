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

exit $rc
