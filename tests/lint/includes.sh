#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The include rule of docs/layout.md, checked on every #include "..." of the
# tracked C files. Prints one line per break and exits 1 if there is any.
#
#   abi/          includes only abi/
#   bpf/          includes only bpf/ and abi/
#   lib/base/     includes only lib/base/ and abi/
#   lib/ROOM/     includes abi/, lib/ and BPF skeletons (NAME.skel.h), never
#                 cmd/, bpf/, tests/ or bench/; no file sits in lib/ itself
#   cmd/          includes cmd/, lib/, abi/ and skeletons
#   rooms         no two include each other, directly or through others
# Paths are written from the top of the tree ("lib/base/addr.h"), never
# relative to the including file. --graph prints which room uses which.
set -euo pipefail
cd "$(dirname "$0")/../.."

bad=0
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT

# room PATH: "abi", "bpf", "cmd", "lib" (a file outside any room), "lib/ROOM",
# "skel" (a generated BPF skeleton), or "" (tests/, bench/, ...)
room() {
	case $1 in
	abi/*) echo abi ;;
	bpf/*) echo bpf ;;
	cmd/*) echo cmd ;;
	lib/*/*) echo "${1%/*}" | cut -d/ -f1-2 ;;
	lib/*) echo lib ;;
	*.skel.h) echo skel ;;
	*) echo "" ;;
	esac
}

refuse() {
	echo "lint: $1: $2"
	bad=1
}

while IFS= read -r f; do
	from=$(room "$f")
	[ "$from" = lib ] && refuse "$f" "every file of lib/ belongs to a room (lib/ROOM/)"
	while IFS=: read -r line text; do
		inc=${text#\#include \"}
		inc=${inc%%\"*}
		to=$(room "$inc")
		where="$f:$line: #include \"$inc\""
		if [ -z "$to" ] && [ ! -f "$inc" ]; then
			refuse "$where" "not a path from the top of the tree"
			continue
		fi
		case $from:$to in
		abi:abi | bpf:bpf | bpf:abi | lib/base:lib/base | lib/base:abi) ;;
		abi:*) refuse "$where" "abi/ includes only abi/" ;;
		bpf:*) refuse "$where" "bpf/ includes only bpf/ and abi/" ;;
		lib/base:*) refuse "$where" "lib/base/ uses nothing of capgate but abi/" ;;
		lib/*:abi | lib/*:skel | cmd:cmd | cmd:lib/* | cmd:abi | cmd:skel) ;;
		lib/*:lib/*) [ "$from" = "$to" ] || echo "$from $to $where" >>"$edges" ;;
		*) refuse "$where" "${from%%/*}/ may not include ${inc%%/*}/" ;;
		esac
	done < <(grep -n '^#include "' "$f" || true)
done < <(git ls-files --cached --others --exclude-standard '*.c' '*.h' |
	grep -E '^(abi|bpf|lib|cmd)/' | while read -r f; do [ -f "$f" ] && echo "$f"; done)

# Rooms form a DAG: tsort names the rooms of a loop.
loop=$(cut -d' ' -f1,2 "$edges" | sort -u | { tsort 2>&1 >/dev/null || true; } |
	sed -n 's/^tsort: \(lib\/.*\)/\1/p')
if [ -n "$loop" ]; then
	refuse "rooms" "$(echo "$loop" | tr '\n' ' ')include each other (no two rooms may); the includes:"
	for r in $loop; do
		for s in $loop; do
			grep -m1 "^$r $s " "$edges" | cut -d' ' -f3- | sed 's/^/    /' || true
		done
	done
fi
if [ "${1:-}" = --graph ]; then
	cut -d' ' -f1,2 "$edges" | sort -u | awk '{ u[$1] = u[$1] " " $2 } END { for (r in u) print r ":" u[r] }' |
		sort
fi
exit $bad
