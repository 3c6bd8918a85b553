#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fuzz smoke: runs a libFuzzer harness for SECONDS over its seeds, then replays
# every seed once. Prints PASS/FAIL for tests/run.sh; a crash input is kept in
# WORK for turning into a unit-test vector.
set -u
bin=$1 secs=$2 work=$3 seeds=$4
name=${bin##*/}
mkdir -p "$work/corpus"
args=()
[ -d "$seeds" ] && args+=("$seeds")
if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/" \
	-print_final_stats=1 "$work/corpus" "${args[@]}"; then
	echo "PASS: fuzz/$name (${secs}s)"
else
	echo "FAIL: fuzz/$name: crash input in $work/"
	exit 1
fi
