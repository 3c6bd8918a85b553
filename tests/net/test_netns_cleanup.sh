#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The netns harness cleans up on every exit path: a script that fails under
# set -e (a check's command, a poll past its deadline) or is terminated still
# stops the processes it started and deletes its namespaces.
set -euo pipefail
. "$(dirname "$0")/../lib/netns.sh"
netns_private "$@"

TMP=$(mktemp -d /tmp/cg-ncl.XXXXXX)
trap 'rc=$?; rm -rf "$TMP"; netns_cleanup "$rc"' EXIT

# child HOW: a script shaped like the net tests (its own EXIT trap, set -e)
# that starts the test peer's server in a namespace, writes its PID, then
# ends HOW. "term" signals itself: bash runs the TERM trap as soon as kill,
# a builtin, returns, so a child that got past it was not terminated.
child() {
	cat >"$TMP/child.sh" <<-EOF
		#!/usr/bin/env bash
		set -euo pipefail
		. "$TLIB/netns.sh"
		netns_private
		T=\$(mktemp -d /tmp/cg-ncl-child.XXXXXX)
		trap 'rc=\$?; rm -rf "\$T"; netns_cleanup "\$rc"' EXIT
		ns_add cgn-$$-\$\$ >/dev/null 2>&1
		bg cgn-$$-\$\$ python3 "$TLIB/tcpx.py" serve-tcp 9 2>/dev/null
		echo "\$BG_PID" >"$TMP/pid"
		case $1 in
		fail) false ;;
		poll) poll 1 false ;;
		term) kill -TERM \$\$; touch "$TMP/alive" ;;
		esac
	EOF
	chmod +x "$TMP/child.sh"
	rm -f "$TMP/pid" "$TMP/alive"
	"$TMP/child.sh" || true
}

gone() { [ -s "$TMP/pid" ] && [ ! -e "$TMP/alive" ] && ! kill -0 "$(cat "$TMP/pid")" 2>/dev/null; }

for how in fail poll term; do
	child $how
	check "cleanup_after_$how" gone
	# Whatever the outcome, leave nothing behind.
	[ -s "$TMP/pid" ] && kill "$(cat "$TMP/pid")" 2>/dev/null || true
done
t_done
