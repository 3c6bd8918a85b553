#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# A flood of spoofed sources at the gateway (tests/tools/flood: AF_PACKET,
# sendmmsg, random sources in 198.18.0.0/15): the gate drops it in XDP as
# drop_default, the daemon spends no CPU on it, and a knocked client and a
# tunnel session keep working while it lasts. First, the flooder's packets
# are shown to be real ones: a plain kernel accepts every checksum.
#
# tests/net/lib_flood.sh's topology, and a sink for the checksum check:
#   c1 (knocks) ──┐                       ┌ server 10.10.2.2
#   c2 (tunnel) ──┼ sw ── ext0 gw int0 ───┘
#   fl (flood)  ──┘ fl eth1 ── sink (10.10.9.1, no gate)
set -euo pipefail
. "$(dirname "$0")/../lib/netns.sh"
netns_private "$@"

[ -x "$CAPGATE" ] || { echo "SKIP: build/capgate is not built"; exit 4; }
TMP=$(mktemp -d /tmp/cg-flood.XXXXXX)
trap 'rc=$?; rm -rf "$TMP"; netns_cleanup "$rc"' EXIT
. "$(dirname "$0")/lib_flood.sh"
[ -x "$FLOOD" ] || { echo "SKIP: $FLOOD is not built"; exit 4; }
SINK=cgf-sk-$$
# The flood: at least FLOOD_SECS and FLOOD_MIN packets, at FLOOD_RATE (well
# below what one loaded CPU sends), within 20 s.
FLOOD_SECS=${FLOOD_SECS:-3}
FLOOD_RATE=${FLOOD_RATE:-50000}
FLOOD_MIN=${FLOOD_MIN:-150000}

# snmp NS PROTO FIELD: a counter of NS's /proc/net/snmp (or snmp6 for PROTO Udp6)
snmp() {
	if [ "$2" = Udp6 ]; then
		nsx "$1" awk -v f="$2$3" '$1 == f { print $2 }' /proc/net/snmp6
	else
		nsx "$1" awk -v p="$2:" -v f="$3" '$1 == p { if (!n) { for (i = 2; i <= NF; i++) if ($i == f) c = i; n = 1 } else print $c }' /proc/net/snmp
	fi
}
# 1 MB through the door to the echo server and back, paced at 4 MB/s, every byte checked
transfer_ok() { nsx $C1 python3 "$TLIB/tcpx.py" stream 10.10.2.2 22 1000000 4000000; }
http_ok() { nsx $C2 curl -sf -m 2 http://10.10.2.2/ | grep -q "behind capgate"; }
udp_ok() { nsx $C2 python3 "$TLIB/tcpx.py" udp 10.10.2.2 7 1; }
# grew_by_at_least BEFORE N CMD...: the counter CMD prints grew by N or more
grew_by_at_least() {
	local before=$1 n=$2
	shift 2
	[ $(($("$@" | tail -1) - before)) -ge "$n" ]
}

flood_topology
flood_config
ns_add $SINK
veth $FL eth1 10.10.9.2/24 $SINK eth0 10.10.9.1/24
ip -n $SINK addr add fd00:9::1/64 dev eth0 nodad
SINK_MAC=$(ip -n $SINK -j link show eth0 | jq -r '.[0].address')

# The flooder's packets are real ones: a kernel with no gate takes every
# checksum (TCP counts a segment only after its checksum; UDP to no socket is
# NoPorts only with a good checksum).
fl_sink() { nsx $FL "$FLOOD" -i eth1 --dst-mac "$SINK_MAC" --count 1000 --rate 20000 --dport $FLOOD_PORTS "$@" >/dev/null; }
segs=$(snmp $SINK Tcp InSegs) errs=$(snmp $SINK Tcp InCsumErrors)
fl_sink --dst 10.10.9.1
check "flood_tcp_syn_checksums" test $(($(snmp $SINK Tcp InSegs) - segs)) -eq 1000
check "flood_tcp_no_checksum_error" test "$(snmp $SINK Tcp InCsumErrors)" -eq "$errs"
noports=$(snmp $SINK Udp NoPorts)
fl_sink --dst 10.10.9.1 --proto udp --size 200
check "flood_udp_checksums" test $(($(snmp $SINK Udp NoPorts) - noports)) -eq 1000
noports=$(snmp $SINK Udp6 NoPorts)
fl_sink --dst fd00:9::1 --proto udp --src 2001:db8:77::/48
check "flood_udp6_checksums" test $(($(snmp $SINK Udp6 NoPorts) - noports)) -eq 1000
check "flood_refuses_bad_options" not nsx $FL "$FLOOD" -i eth1 --dst-mac "$SINK_MAC" --dst 10.10.9.1 --src 2001:db8::/32

check "session_before_flood" flood_gw_start
check "tunnel_before_flood" poll 10 http_ok
flood_knock
check "door_before_flood" transfer_ok

# The flood, until FLOOD_SECS have passed, the gate has counted FLOOD_MIN
# packets and the legitimate traffic is done (SIGTERM: flood prints what it sent).
drops=$(stat_of drop_default)
srv_in=$(snmp $SRV Ip InReceives)
cpu0=$(gw_cpu_ms)
t0=$SECONDS
flood_start --dst 10.10.2.2 --dport $FLOOD_PORTS --rate "$FLOOD_RATE" --duration 60
check "flood_reaches_gate" poll 10 grew_by_at_least "$drops" 1000 stat_of drop_default
check "knock_during_flood" flood_knock
check "door_transfer_during_flood" transfer_ok
check "tunnel_http_during_flood" http_ok
check "tunnel_udp_during_flood" udp_ok
check "session_kept_during_flood" has_sessions 1
flood_long_enough() { [ $((SECONDS - t0)) -ge "$FLOOD_SECS" ] && grew_by_at_least "$drops" "$FLOOD_MIN" stat_of drop_default; }
check "flood_long_enough" poll 20 flood_long_enough
check "flood_lasted_through_checks" kill -0 "$FLOOD_PID"
flood_stop
sent=$FLOOD_SENT
cpu_ms=$(($(gw_cpu_ms) - cpu0))
# XDP on a veth runs from NAPI: the gate's count may lag the flooder by a ring.
check "flood_dropped_in_xdp" poll 5 grew_by_at_least "$drops" $((sent * 9 / 10)) stat_of drop_default
check "flood_counted_no_more_than_sent" test $(($(stat_of drop_default) - drops)) -le $((sent + sent / 100 + 100))
# The server saw the legitimate traffic only (1 MB each way, some HTTP): not a tenth of the flood.
check "flood_not_at_server" test $(($(snmp $SRV Ip InReceives) - srv_in)) -lt $((sent / 10))
# The daemon's CPU: a budget of 0.25 µs per flood packet plus 50 ms for its
# own timers and the legitimate traffic of the window (the tunnel's return
# path, the stats calls of the polls: 0-20 ms seen). For FLOOD_MIN packets
# that is 87 ms; a daemon that did anything per packet costing 0.6 µs or
# more (a syscall, a wakeup, a record read one at a time) would spend more.
# The kernel charges a task the ticks in which it runs, so a loaded machine
# does not inflate it (waiting for a CPU costs no CPU time), and the flood's
# softirq work is charged to the flooder, in whose sendmmsg it runs (or to
# ksoftirqd), not to a daemon that sleeps in poll.
budget_ms=$((50 + sent / 4000))
echo "# flood: $sent packets sent, $(($(stat_of drop_default) - drops)) dropped in XDP, daemon CPU ${cpu_ms} ms (budget ${budget_ms} ms)" >&2
check "flood_costs_daemon_nothing" test "$cpu_ms" -le "$budget_ms"

# The same for IPv6 UDP at the gateway itself.
drops=$(stat_of drop_default)
flood_start --dst fd00:1::1 --proto udp --src 2001:db8:77::/48 --dport $FLOOD_PORTS --count 20000 \
	--rate "$FLOOD_RATE"
flood_wait
sent=$FLOOD_SENT
check "flood6_dropped_in_xdp" poll 5 grew_by_at_least "$drops" $((sent * 9 / 10)) stat_of drop_default
check "tunnel_after_flood" http_ok
t_done
