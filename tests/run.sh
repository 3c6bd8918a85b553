#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs every test level and prints one closing line "N passed, N failed, N skipped".
#
# Each test prints "PASS: name", "FAIL: name" or "SKIP: name (reason)" per
# case. A test that exits non-zero without printing a FAIL counts as one
# failure; exit 4 without cases counts as one skip (KSFT_SKIP). With CI=true a
# skip counts as a failure. LEVELS="unit bpf net fuzz" selects levels;
# FUZZ_SECONDS sets the fuzz smoke time per harness (default 20).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
B=build
LEVELS=${LEVELS:-unit bpf net fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
logdir=$B/test-logs
mkdir -p "$logdir"
passed=0 failed=0 skipped=0
failures=()

# run NAME TIMEOUT CMD...: runs one test and counts its cases
run() {
	local name=$1 tmo=$2 log rc p f s
	shift 2
	log=$logdir/${name//\//_}.log
	printf '== %s\n' "$name"
	timeout --kill-after=10 "$tmo" "$@" >"$log" 2>&1
	rc=$?
	grep -E '^(PASS|FAIL|SKIP): ' "$log"
	p=$(grep -c '^PASS: ' "$log")
	f=$(grep -c '^FAIL: ' "$log")
	s=$(grep -c '^SKIP: ' "$log")
	if [ "$rc" -eq 4 ] && [ "$p$f$s" = 000 ]; then
		s=1
		echo "SKIP: $name ($(tail -1 "$log"))"
	elif [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "FAIL: $name (exit $rc)"
	fi
	if [ "$f" -gt 0 ]; then
		failures+=("$name")
		sed 's/^/    | /' "$log" | grep -vE '^    \| (PASS|SKIP): ' | tail -40
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
}

for level in $LEVELS; do
	case $level in
	unit)
		for t in $B/tests/unit/test_*; do
			[ -x "$t" ] && run "unit/${t##*/}" 300 "$t"
		done
		;;
	bpf)
		for t in $B/tests/bpf/test_*; do
			[ -x "$t" ] && run "bpf/${t##*/}" 300 "$t"
		done
		;;
	net)
		for t in tests/net/test_*.sh; do
			[ -x "$t" ] && run "net/${t##*/}" 600 "$t"
		done
		;;
	fuzz)
		for t in $B/tests/fuzz/fuzz_*; do
			[ -x "$t" ] || continue
			n=${t##*/}
			seeds=tests/fuzz/seeds/$n
			work=$B/fuzz-work/$n
			mkdir -p "$work"
			run "fuzz/$n" $((FUZZ_SECONDS + 120)) \
				tests/fuzz/smoke.sh "$t" "$FUZZ_SECONDS" "$work" "$seeds" \
				"tests/fuzz/corpus/$n"
		done
		run "fuzz/valgrind.sh" 300 tests/fuzz/valgrind.sh
		;;
	esac
done

if [ "${CI:-}" = true ] && [ "$skipped" -gt 0 ]; then
	echo "CI=true: $skipped skipped test(s) count as failed"
	failed=$((failed + skipped))
	skipped=0
fi
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
