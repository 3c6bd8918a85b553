#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make fuzz: every harness for FUZZ_TIME seconds (one after the other), its new
# inputs merged into tests/fuzz/corpus/NAME/, then the line coverage of the
# parsers it reaches, from the coverage build (build/cov/bin/) replaying the
# seeds and the corpus. Prints the coverage table (also in
# build/fuzz-run/coverage.md) and exits 1 if a harness crashed (its input in
# build/fuzz-run/NAME/).
#
# Usage: FUZZ_TIME=SECONDS tests/fuzz/fuzz.sh [NAME...]   (default: every harness)
#
# The corpus holds only what adds coverage beyond the seeds (-merge=1 of the
# old corpus and the new inputs over the seeds, the seeds then left out), so
# it stays small. A parser is a file of lib/ in a folder whose header the
# harness includes, with at least one line run.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
FUZZ_TIME=${FUZZ_TIME:-300}
work=build/fuzz-run
tool() { command -v "$1-14" || command -v "$1"; }
PROFDATA=$(tool llvm-profdata) || { echo "no llvm-profdata (make deps)"; exit 1; }
COV=$(tool llvm-cov) || { echo "no llvm-cov (make deps)"; exit 1; }
names=("$@")
[ ${#names[@]} -gt 0 ] || for f in tests/fuzz/fuzz_*.c; do names+=("$(basename "$f" .c)"); done

mkdir -p "$work"
table=$work/coverage.md
{
	echo "| harness | parser | lines | covered |"
	echo "|---|---|---:|---:|"
} >"$table"
crashed=()
start=$(date +%s)
for n in "${names[@]}"; do
	bin=build/tests/fuzz/$n cov=build/cov/bin/$n
	seeds=tests/fuzz/seeds/$n corpus=tests/fuzz/corpus/$n w=$work/$n
	[ -x "$bin" ] && [ -x "$cov" ] || { echo "$n: not built (make fuzz builds it)"; exit 1; }
	rm -rf "$w"
	mkdir -p "$w/new" "$w/merged" "$w/prof" "$corpus"
	echo "== $n: ${FUZZ_TIME}s"
	if ! "$bin" -max_total_time="$FUZZ_TIME" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$w/" -print_final_stats=1 "$w/new" "$corpus" "$seeds" \
		>"$w/fuzz.log" 2>&1; then
		crashed+=("$n")
		echo "$n: CRASH, input in $w/ (log $w/fuzz.log)"
	fi
	grep -E '^stat::number_of_executed_units|^Done ' "$w/fuzz.log" | tail -2
	# The seeds first, so that only what adds to them is kept; a crashing input stays out.
	cp "$seeds"/* "$w/merged/"
	"$bin" -merge=1 -timeout=10 -rss_limit_mb=2048 "$w/merged" "$corpus" "$w/new" \
		>"$w/merge.log" 2>&1 || { echo "$n: merge failed (log $w/merge.log)"; exit 1; }
	find "$corpus" -type f -delete
	for f in "$w/merged"/*; do
		[ -e "$seeds/${f##*/}" ] || mv "$f" "$corpus/"
	done
	echo "$n: corpus $(find "$corpus" -type f | wc -l) inputs, $(du -sk "$corpus" | cut -f1) kB"
	# Coverage: every seed and corpus input once, through the coverage build.
	find "$seeds" "$corpus" -type f -print0 |
		LLVM_PROFILE_FILE="$w/prof/%p.profraw" xargs -0 "$cov" -timeout=10 \
			>"$w/cov.log" 2>&1 || { echo "$n: a seed or corpus input fails"; exit 1; }
	"$PROFDATA" merge -sparse "$w"/prof/*.profraw -o "$w/$n.profdata"
	dirs=$(grep -o '#include "lib/[^"]*/' "tests/fuzz/$n.c" | sed 's/#include "//' | sort -u)
	"$COV" export -summary-only -instr-profile="$w/$n.profdata" "$cov" |
		jq -r --arg n "$n" --arg top "$top/" --arg dirs "$dirs" '
			($dirs | split("\n")) as $d |
			.data[0].files[] | (.filename | ltrimstr($top)) as $f |
			select(any($d[]; . as $p | $f | startswith($p)) and .summary.lines.covered > 0) |
			"| \($n) | `\($f)` | \(.summary.lines.count) | \(.summary.lines.percent * 10 | round / 10) % |"' \
		>>"$table"
done
echo "time: $(($(date +%s) - start)) s for ${#names[@]} harness(es) at ${FUZZ_TIME} s each"
cat "$table"
if [ ${#crashed[@]} -gt 0 ]; then
	echo "crashed: ${crashed[*]}"
	exit 1
fi
