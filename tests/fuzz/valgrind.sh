#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# capgate dpi -r under valgrind (memcheck, full leak check) for every capture in tests/pcaps
# and, where present, ../shared/pcaps (CG_SHARED_PCAPS names it elsewhere).
#
# Usage: tests/fuzz/valgrind.sh [PCAP_DIR ...]    PASS:/FAIL: per file, for tests/run.sh.
# Captures over 2 MB run with --summary only, to keep the whole run under ~3 minutes.
# Each must exit 0, but the few in damaged[] below, which must exit 1.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
CAPGATE=${CAPGATE:-$top/build/capgate}
SHARED=${CG_SHARED_PCAPS:-$top/../shared/pcaps}
if [ $# -eq 0 ]; then
	set -- "$top/tests/pcaps"
	[ -d "$SHARED" ] && set -- "$@" "$SHARED"
fi
BIG=$((2 * 1024 * 1024))

command -v valgrind >/dev/null || { echo "SKIP: valgrind.sh (no valgrind; make deps)"; exit 4; }
[ -x "$CAPGATE" ] || { echo "SKIP: valgrind.sh (build/capgate is not built)"; exit 4; }
# The captures known to be damaged, where capgate's exit 1 ("damaged capture",
# after what it could read) is the right answer; every other capture must exit 0.
declare -A damaged=(
	# a second section header of version 2.0 after 1 packet: tshark exits 2 too
	# (../shared/pcaps/MANIFEST.md; tests/unit/test_dpi_pcaps.c)
	[gopacket__pcapng_le_test901.pcapng]=1
)
log=$(mktemp /tmp/cg-vg.XXXXXX)
trap 'rm -f "$log"' EXIT
failed=0
files=()
for d in "$@"; do
	for f in "$d"/*.pcap "$d"/*.pcapng; do
		[ -f "$f" ] && files+=("$f")
	done
done
[ ${#files[@]} -gt 0 ] || { echo "FAIL: valgrind.sh (no captures in $*)"; exit 1; }
for f in "${files[@]}"; do
	mode=()
	[ "$(stat -c %s "$f")" -gt "$BIG" ] && mode=(--summary)
	want=0
	[ -n "${damaged[${f##*/}]:-}" ] && want=1
	# valgrind's own errors exit 99
	valgrind -q --vgdb=no --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		"$CAPGATE" dpi -r "$f" "${mode[@]}" >/dev/null 2>"$log"
	rc=$?
	if [ "$rc" -eq "$want" ] && ! grep -q '^==[0-9]*==' "$log"; then
		echo "PASS: valgrind/${f##*/}"
	else
		echo "FAIL: valgrind/${f##*/} (exit $rc, want $want)"
		sed 's/^/    /' "$log" | head -30
		failed=1
	fi
done
exit $failed
