#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# capgate dpi -i on a veth under iperf3 load: packets/s seen and the kernel's drop count.
#
# Usage: bench/dpi_live.sh [SECONDS] [STREAMS]    (10 s, 1 stream)
#
#   cli (10.79.0.1) ── veth (offloads off: MTU-sized frames) ── srv (10.79.0.2: iperf3 -s;
#   capgate dpi -i eth0, everything on)
# Prints iperf3's throughput and capgate's summary: packets, "dropped" (pcap_stats
# ps_drop + ps_ifdrop) and packets/s over its elapsed time.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
SECS=${1:-10}
STREAMS=${2:-1}
for t in iperf3 ethtool jq; do
	command -v "$t" >/dev/null || { echo "dpi_live: $t is missing (make deps)" >&2; exit 1; }
done
. "$top/tests/lib/netns.sh"
netns_private "$@"
[ -x "$CAPGATE" ] || { echo "dpi_live: $CAPGATE is not built" >&2; exit 1; }
TMP=$(mktemp -d /tmp/cg-dlive.XXXXXX)
chmod 755 "$TMP"
trap 'rc=$?; rm -rf "$TMP"; netns_cleanup "$rc"' EXIT

C=cgl-cli-$$ S=cgl-srv-$$
ns_add $C
ns_add $S
veth $C eth0 10.79.0.1/24 $S eth0 10.79.0.2/24
for ns in $C $S; do
	nsx $ns ethtool -K eth0 tso off gso off gro off >/dev/null
done
bg $S iperf3 -s -p 5201 --logfile "$TMP/iperf3-s.log"
poll 10 nsx $C iperf3 -c 10.79.0.2 -n 1K

bg $S "$CAPGATE" dpi -i eth0 -o "$TMP/out.json"
cg=$BG_PID
# the capture is up once it has a packet socket open
poll 10 sh -c "ls -l /proc/$cg/fd | grep -q socket"
pp nsx $C iperf3 -c 10.79.0.2 -t "$SECS" -P "$STREAMS" -J >"$TMP/iperf3.json"
kill -INT "$cg"
wait "$cg" >/dev/null 2>&1 || true

jq -r '.end.sum_received | "iperf3: \(.bits_per_second / 1e9 | . * 100 | round / 100) Gbit/s received"' \
	"$TMP/iperf3.json"
tail -1 "$TMP/out.json"
echo "| live veth, iperf3 -t $SECS -P $STREAMS | packets seen | packets/s | dropped | drop % |"
echo "|---|---|---|---|---|"
tail -1 "$TMP/out.json" | jq -r '"| capgate dpi -i (all on) | \(.packets) | \(.packets / .elapsed_s | round) | \(.dropped) | \(if .packets + .dropped > 0 then (.dropped * 10000 / (.packets + .dropped) | round) / 100 else 0 end) |"'
