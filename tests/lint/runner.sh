#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# tests/run.sh judged on scratch trees: every way a test could vanish (a level
# that runs no case, a source without its binary, a script that cannot run, a
# total of zero, an unknown level) must end in a non-zero exit and a FAIL line
# naming the cause, and a passing tree must pass. RUN_SH=FILE judges another
# copy of the runner (an older one, to see these cases fail). Silent if all
# hold (a check of make lint); otherwise a FAIL line per case, with the output.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUN_SH=${RUN_SH:-tests/run.sh}
TMP=$(mktemp -d /tmp/cg-runner.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
failed=0

# tree NAME: a scratch tree with the runner and empty levels; its path in T
tree() {
	T=$TMP/$1
	mkdir -p "$T/tests/unit" "$T/tests/net" "$T/build/tests/unit"
	install -m 0755 "$RUN_SH" "$T/tests/run.sh"
}

# script FILE BODY: an executable shell script
script() {
	printf '#!/bin/sh\n%s\n' "$2" >"$1"
	chmod +x "$1"
}

# expect NAME WANT_RC LINE [VAR=VALUE...]: runs the tree T's runner with the
# environment given; its exit must be WANT_RC (0, or 1 for "not 0") and its
# output must hold LINE
expect() {
	local name=$1 want=$2 line=$3 rc=0
	shift 3
	env "$@" "$T/tests/run.sh" >"$TMP/$name.out" 2>&1 || rc=$?
	if { [ "$want" -eq 0 ] && [ "$rc" -eq 0 ]; } || { [ "$want" -ne 0 ] && [ "$rc" -ne 0 ]; } &&
		grep -qxF -- "$line" "$TMP/$name.out"; then
		return 0
	fi
	echo "FAIL: $name (exit $rc, want $([ "$want" -eq 0 ] && echo 0 || echo 'not 0') and \"$line\"):"
	sed 's/^/    | /' "$TMP/$name.out"
	failed=$((failed + 1))
}

tree passing
touch "$T/tests/unit/test_a.c"
script "$T/build/tests/unit/test_a" 'echo "PASS: a"'
expect passing 0 "1 passed, 0 failed, 0 skipped" LEVELS=unit

tree empty_level
expect empty_level 1 "FAIL: unit (the level ran no case)" LEVELS=unit

tree missing_binary
touch "$T/tests/unit/test_a.c"
expect missing_binary 1 "FAIL: unit/test_a (not built: no build/tests/unit/test_a)" LEVELS=unit

tree zero_total
expect zero_total 1 "FAIL: all (no test ran)" "LEVELS= "

tree unknown_level
expect unknown_level 1 "FAIL: nope (no such level)" LEVELS=nope

tree no_case
touch "$T/tests/unit/test_a.c"
script "$T/build/tests/unit/test_a" 'exit 0'
expect no_case 1 "FAIL: unit/test_a (ran no case)" LEVELS=unit

tree crash_after_pass
touch "$T/tests/unit/test_a.c"
script "$T/build/tests/unit/test_a" 'echo "PASS: a"; exit 3'
expect crash_after_pass 1 "FAIL: unit/test_a (exit 3)" LEVELS=unit

tree net_not_executable
printf '#!/bin/sh\necho "PASS: x"\n' >"$T/tests/net/test_x.sh"
expect net_not_executable 1 "FAIL: net/test_x.sh (not executable)" LEVELS=net

tree ci_skip
touch "$T/tests/unit/test_a.c"
script "$T/build/tests/unit/test_a" 'echo "SKIP: a (no root)"; exit 4'
expect ci_skip 1 "0 passed, 1 failed, 0 skipped" LEVELS=unit CI=true

[ "$failed" -eq 0 ]
