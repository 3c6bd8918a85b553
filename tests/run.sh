#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Runs every test level and prints one closing line "N passed, N failed, N skipped".
#
# Each test prints "PASS: name", "FAIL: name" or "SKIP: name (reason)" per
# case. A test that exits non-zero without printing a FAIL counts as one
# failure; exit 4 without cases counts as one skip (KSFT_SKIP). With CI=true a
# skip counts as a failure. A test that runs no case, a test source without
# its binary, a net script that is not executable, a level that runs nothing
# and a total of zero each fail (tests/lint/runner.sh checks it).
# LEVELS="unit bpf net fuzz" selects levels;
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
	elif [ "$p$f$s" = 000 ]; then
		f=1
		echo "FAIL: $name (ran no case)"
	fi
	if [ "$f" -gt 0 ]; then
		failures+=("$name")
		sed 's/^/    | /' "$log" | grep -vE '^    \| (PASS|SKIP): ' | tail -40
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
}

# missing NAME WHY: a test that should run and cannot is one failure
missing() {
	echo "FAIL: $1 ($2)"
	failures+=("$1")
	failed=$((failed + 1))
}

# each LEVEL SOURCES FN: FN LEVEL NAME BINARY for the binary of every test
# source; a source without its binary fails (a test must not vanish unbuilt)
each() {
	local src n bin
	for src in $2; do
		[ -e "$src" ] || continue
		n=$(basename "${src%.c}")
		bin=$B/tests/$1/$n
		if [ -x "$bin" ]; then
			"$3" "$1" "$n" "$bin"
		else
			missing "$1/$n" "not built: no $bin"
		fi
	done
}

run_bin() { run "$1/$2" 300 "$3"; }

run_fuzz() {
	local work=$B/fuzz-work/$2
	mkdir -p "$work"
	run "fuzz/$2" $((FUZZ_SECONDS + 120)) \
		tests/fuzz/smoke.sh "$3" "$FUZZ_SECONDS" "$work" "tests/fuzz/seeds/$2" \
		"tests/fuzz/corpus/$2"
}

for level in $LEVELS; do
	before=$((passed + failed + skipped))
	case $level in
	unit | bpf)
		each "$level" "tests/$level/test_*.c" run_bin
		;;
	net)
		for t in tests/net/test_*.sh; do
			[ -e "$t" ] || continue
			if [ -x "$t" ]; then
				run "net/${t##*/}" 600 "$t"
			else
				missing "net/${t##*/}" "not executable"
			fi
		done
		;;
	fuzz)
		each fuzz "tests/fuzz/fuzz_*.c" run_fuzz
		run "fuzz/valgrind.sh" 300 tests/fuzz/valgrind.sh
		;;
	*)
		missing "$level" "no such level"
		;;
	esac
	[ $((passed + failed + skipped)) -eq "$before" ] && missing "$level" "the level ran no case"
done

if [ "${CI:-}" = true ] && [ "$skipped" -gt 0 ]; then
	echo "CI=true: $skipped skipped test(s) count as failed"
	failed=$((failed + skipped))
	skipped=0
fi
[ $((passed + failed + skipped)) -eq 0 ] && missing "all" "no test ran"
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
