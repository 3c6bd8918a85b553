#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fuzz smoke: replays every seed and every input of the committed corpus once,
# then runs a libFuzzer harness for SECONDS over them. Prints PASS/FAIL for
# tests/run.sh; a crash input is kept in WORK for turning into a unit-test
# vector (and for tests/fuzz/corpus/, which make fuzz keeps).
#
# Usage: tests/fuzz/smoke.sh BIN SECONDS WORK SEEDS CORPUS
set -u
bin=$1 secs=$2 work=$3 seeds=$4 corpus=$5
name=${bin##*/}
mkdir -p "$work/corpus"
dirs=()
for d in "$seeds" "$corpus"; do
	[ -d "$d" ] && dirs+=("$d")
done
inputs=$(find "${dirs[@]}" -type f 2>/dev/null | wc -l)
if [ "$inputs" -eq 0 ]; then
	echo "FAIL: fuzz/$name/replay: no seed in $seeds"
	exit 1
fi
if find "${dirs[@]}" -type f -print0 | xargs -0 "$bin" -timeout=10 -rss_limit_mb=2048; then
	echo "PASS: fuzz/$name/replay ($inputs inputs)"
else
	echo "FAIL: fuzz/$name/replay: a seed or corpus input fails (see the log above)"
	exit 1
fi
if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/" \
	-print_final_stats=1 "$work/corpus" "${dirs[@]}"; then
	echo "PASS: fuzz/$name (${secs}s)"
else
	echo "FAIL: fuzz/$name: crash input in $work/"
	exit 1
fi
