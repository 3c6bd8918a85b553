#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The include rule of docs/layout.md, checked on every #include "..." of the
# C files git knows (tracked, or new and not ignored). Prints one line per
# break and exits 1 if there is any; --graph also prints which room uses which.
#
#   abi/          includes only abi/
#   bpf/          includes only bpf/ and abi/
#   lib/base/     includes only lib/base/ and abi/
#   lib/ROOM/     includes abi/, lib/ and BPF skeletons (NAME.skel.h), never
#                 cmd/, bpf/, tests/ or bench/; no file sits in lib/ itself
#   cmd/          includes cmd/, lib/ and abi/
#   tests/, bench/  anything but cmd/
#   rooms         no two include each other, directly or through others
# Paths are written from the top of the tree ("lib/base/addr.h"), never
# relative to the including file, and name a file that exists (a skeleton is
# generated into build/).
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v tsort >/dev/null || {
	echo "lint: tsort (coreutils) is missing: the loop check cannot run"
	exit 1
}
files=$(git ls-files --cached --others --exclude-standard '*.c' '*.h')
[ -n "$files" ] || {
	echo "lint: git lists no C files here"
	exit 1
}

bad=0
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT

# room PATH: "abi", "bpf", "cmd", "lib" (a file outside any room), "lib/ROOM",
# "skel" (a generated BPF skeleton), "tests", "bench", or "" (anything else)
room() {
	case $1 in
	*.skel.h) echo skel ;;
	abi/* | bpf/* | cmd/* | tests/* | bench/*) echo "${1%%/*}" ;;
	lib/*/*)
		local r=${1#lib/}
		echo "lib/${r%%/*}"
		;;
	lib/*) echo lib ;;
	*) echo "" ;;
	esac
}

refuse() {
	echo "lint: $1: $2"
	bad=1
}

while IFS= read -r f; do
	[ -f "$f" ] || continue
	from=$(room "$f")
	[ -n "$from" ] || continue
	[ "$from" = lib ] && refuse "$f" "every file of lib/ belongs to a room (lib/ROOM/)"
	while IFS=: read -r line text; do
		inc=${text#*\"}
		inc=${inc%%\"*}
		to=$(room "$inc")
		where="$f:$line: #include \"$inc\""
		if [ -z "$to" ]; then
			refuse "$where" "not a path from the top of the tree"
			continue
		fi
		if [ "$to" != skel ] && [ ! -f "$inc" ]; then
			refuse "$where" "no such file"
			continue
		fi
		case $from:$to in
		abi:abi | bpf:bpf | bpf:abi | lib/base:lib/base | lib/base:abi) ;;
		abi:*) refuse "$where" "abi/ includes only abi/" ;;
		bpf:*) refuse "$where" "bpf/ includes only bpf/ and abi/" ;;
		lib/base:*) refuse "$where" "lib/base/ uses nothing of capgate but abi/" ;;
		lib/*:abi | lib/*:skel | cmd:cmd | cmd:lib/* | cmd:abi) ;;
		lib/*:lib/*) [ "$from" = "$to" ] || echo "$from $to $where" >>"$edges" ;;
		tests:cmd | bench:cmd) refuse "$where" "nothing includes cmd/" ;;
		tests:* | bench:*) ;;
		*) refuse "$where" "${from%%/*}/ may not include ${inc%%/*}/" ;;
		esac
	done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" || true)
done <<<"$files"

# Rooms form a DAG: tsort names the rooms of each loop it finds.
loops=$(cut -d' ' -f1,2 "$edges" | sort -u | { tsort 2>&1 >/dev/null || true; } |
	sed -n 's/^tsort: \(lib\/.*\)/\1/p')
if [ -n "$loops" ]; then
	refuse "rooms" "$(echo "$loops" | sort -u | tr '\n' ' ')are in a loop (no two rooms may include each other); its includes:"
	for r in $loops; do
		for s in $loops; do
			grep -m1 "^$r $s " "$edges" | cut -d' ' -f3- | sed 's/^/    /' || true
		done
	done | sort -u
fi

if [ "${1:-}" = --graph ]; then
	cut -d' ' -f1,2 "$edges" | sort -u |
		awk '{ u[$1] = u[$1] " " $2 } END { for (r in u) print r ":" u[r] }' | sort
fi
exit $bad
