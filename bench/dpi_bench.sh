#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The analyzer against its peers on one capture, in one run: capgate dpi, then shared/bench/dpi_peers.sh.
#
# Usage: bench/dpi_bench.sh [FILE] [RUNS]   (FILE: bench/dpi_capture.sh's capture; RUNS: 3)
#
# capgate runs with everything on (all parsers, every JSON line written to
# /dev/null), RUNS times under /usr/bin/time -v, measured exactly as the peer
# script measures tcpdump, tshark, ndpiReader and the bare libpcap loop. The
# table gives each tool's medians and capgate's ratios: packets/s of capgate
# over the tool's, and the tool's peak RSS over capgate's.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
F=${1:-build/bench/dpi.pcap}
RUNS=${2:-3}
CAPGATE=${CAPGATE:-build/capgate}
PEERS=${DPI_PEERS:-$top/../shared/bench/dpi_peers.sh}

[ -x "$CAPGATE" ] || { echo "dpi_bench: $CAPGATE is not built" >&2; exit 1; }
[ -f "$PEERS" ] || { echo "dpi_bench: no peer script at $PEERS" >&2; exit 1; }
[ -s "$F" ] || bench/dpi_capture.sh "$F"
TMP=$(mktemp -d /tmp/cg-dpib.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

cat "$F" >/dev/null # page cache, as the peer script does
echo "+ $CAPGATE dpi -r $F >/dev/null   (x$RUNS)"
for ((r = 1; r <= RUNS; r++)); do
	/usr/bin/time -v -o "$TMP/t" "$CAPGATE" dpi -r "$F" >"$TMP/out.json"
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(k=1;k<=n;k++) s=s*60+a[k]; print s}' "$TMP/t")
	rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$TMP/t")
	echo "capgate dpi -r,$r,$wall,$rss,0" | tee -a "$TMP/capgate.csv"
	if [ "$r" -eq 1 ]; then
		tail -1 "$TMP/out.json"
		jq -r .type "$TMP/out.json" | sort | uniq -c | tr '\n' ' '
		echo
	fi
	: >"$TMP/out.json"
done

echo "+ $PEERS $F $RUNS"
bash "$PEERS" "$F" "$RUNS" | tee "$TMP/peers.txt"

echo
echo "== Analyzer vs peers: $F ($(stat -c %s "$F") bytes), medians of $RUNS runs, $(nproc) CPUs"
python3 - "$TMP/capgate.csv" "$TMP/peers.txt" "$(stat -c %s "$F")" <<'EOF'
import re, statistics, sys
cg_csv, peers_txt, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
text = open(peers_txt).read()
pkts = int(re.search(r"packets=(\d+)", text).group(1))
rows = []
for line in text.splitlines():
    m = re.match(r"\| (.+?) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| ([\d,]+) \| ([\d,.]+) \|$", line)
    if m:
        rows.append((m.group(1), float(m.group(2)), float(m.group(4))))
runs = [l.strip().split(",") for l in open(cg_csv) if l.strip()]
w = statistics.median(float(r[2]) for r in runs)
rss = statistics.median(int(r[3]) for r in runs) / 1024
tools = [("capgate dpi -r (all on)", w, rss)] + rows
print("| tool | wall s | packets/s | MB/s | peak RSS MB | capgate speed × | tool RSS / capgate RSS |")
print("|---|---|---|---|---|---|---|")
for name, tw, trss in tools:
    print(f"| {name} | {tw:.2f} | {pkts / tw:,.0f} | {size / 1e6 / tw:,.1f} | {trss:.1f} "
          f"| {tw / w:.2f} | {trss / rss:.2f} |")
print(f"packets={pkts}")
EOF
