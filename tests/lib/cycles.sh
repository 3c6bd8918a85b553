# SPDX-License-Identifier: GPL-2.0
# Connect/vanish cycles of an agent, and what a process holds: the cycles of
# tests/net/test_tunnel.sh and test_encrypted.sh (make test, 100 each) and of
# tests/net/soak.sh (make soak, 1,000). Sourced after netns.sh; the caller defines
#   connect NS CONFIG   start an agent of CONFIG in NS, its PID in AGENT
#   has_sessions N      the gateway lists N sessions

# proc_fds PID: how many files PID has open
proc_fds() { ls "/proc/$1/fd" | wc -l; }
# proc_rss PID: PID's resident set in kB (VmRSS of /proc/PID/status)
proc_rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# cycle NS CONFIG SIGNAL [CMD...]: one cycle. An agent of CONFIG connects in NS;
# its session must be listed within 20 s (CYCLE_BASE sessions of others stay
# listed, default 0); CMD, if given, runs while it is up and must succeed; then
# the agent ends by SIGNAL (TERM: it says bye; KILL: it vanishes) and its
# session must be gone within CYCLE_GONE seconds (default 10). Fails at the
# first of these that does not happen, says which in CYCLE_FAILED, and leaves
# no agent running.
cycle() {
	local ns=$1 conf=$2 sig=$3 base=${CYCLE_BASE:-0}
	shift 3
	connect "$ns" "$conf"
	CYCLE_FAILED="no session within 20 s"
	if poll 20 has_sessions $((base + 1)); then
		CYCLE_FAILED="$*"
		if [ $# -eq 0 ] || "$@"; then
			stop "$AGENT" "$sig"
			CYCLE_FAILED="the session outlived SIG$sig by ${CYCLE_GONE:-10} s"
			poll "${CYCLE_GONE:-10}" has_sessions "$base" || return 1
			CYCLE_FAILED=
			return 0
		fi
	fi
	stop "$AGENT"
	return 1
}

# cycles N NS CONFIG: up to N cycles ending by SIGTERM, stopping at the first
# that fails; CYCLES_OK says how many completed
cycles() {
	CYCLES_OK=0
	while [ "$CYCLES_OK" -lt "$1" ] && cycle "$2" "$3" TERM; do
		CYCLES_OK=$((CYCLES_OK + 1))
	done
}
