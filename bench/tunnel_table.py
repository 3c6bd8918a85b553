#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# bench/tunnel_bench.sh's arithmetic: CPU seconds per GB of one iperf3 run, and
# the final tables (capgate's modes against the best peer per column, the
# levers). Input rows are vpn_peers.sh's results.tsv format, "SYSTEM REP KIND
# key=value ...", so its own rows and capgate's are read the same way.
#
#   tunnel_table.py cpu BEFORE AFTER IPERF_JSON   one run's CPU per GB
#   tunnel_table.py table TSV                     the comparison and the goals
#   tunnel_table.py levers TSV LEVERS_FILE        one row per fast_path setting
#
# BEFORE/AFTER are tunnel_bench.sh's cpu_gb_snap: "total idle softirq tunnel"
# in clock ticks (/proc/stat's cpu line: all fields, idle + iowait, softirq;
# utime + stime of the tunnel's processes from /proc/PID/stat).
import json
import os
import statistics
import sys

CAPGATE = [("capgate-chacha", "capgate encrypted, ChaCha20-Poly1305"),
           ("capgate-aes", "capgate encrypted, AES-256-GCM"),
           ("capgate-integrity", "capgate integrity")]
PEERS = [("ovpn", "OpenVPN (best configuration per column)"), ("wggo", "wireguard-go")]
# (column, row kind:key, higher is better)
COLS = [("TCP 1 stream Gbit/s", "tcp:tcp_gbps", True),
        ("TCP 4 streams Gbit/s", "tcp4:tcp_gbps", True),
        ("UDP -b 0 rx Gbit/s", "udp:udp_gbps", True),
        ("echo avg µs", "echo:echo_avg_us", False),
        ("echo p99 µs", "echo:echo_p99_us", False),
        ("CPU s/GB", "tcp1:cpu_s_per_gb", False)]


def cpu(before, after, iperf_json):
    b = list(map(int, before.split()))
    a = list(map(int, after.split()))
    hz = os.sysconf("SC_CLK_TCK")
    gb = json.load(open(iperf_json))["end"]["sum_received"]["bytes"] / 1e9
    d = [(x - y) / hz for x, y in zip(a, b)]
    box = d[0] - d[1]  # every CPU's non-idle time
    tun = d[3] if len(d) > 3 else 0.0
    print("gb=%.3f tunnel_s=%.2f softirq_s=%.2f box_s=%.2f cpu_s_per_gb=%.3f box_s_per_gb=%.3f" %
          (gb, tun, d[2], box, (tun + d[2]) / gb, box / gb))


def load(tsv):
    rows = {}
    for line in open(tsv):
        f = line.split()
        r = rows.setdefault(f[0], {})
        for kv in f[3:]:
            k, v = kv.split("=")
            r.setdefault(f[2] + ":" + k, []).append(float(v))
    return rows


def med(rows, sysname, key):
    v = rows.get(sysname, {}).get(key)
    return statistics.median(v) if v else None


def best(rows, names, key, higher):
    got = [(med(rows, n, key), n) for n in names if med(rows, n, key) is not None]
    if not got:
        return None, None
    return max(got) if higher else min(got)


def table(tsv):
    rows = load(tsv)
    ovpn = sorted(n for n in rows if n.startswith("ovpn"))
    cell = {}  # (row, column) -> (value, which configuration)
    for name, _ in CAPGATE + [("wggo", ""), ("veth", "")]:
        for col, key, _ in COLS:
            cell[name, col] = (med(rows, name, key), None)
    for col, key, higher in COLS:
        cell["ovpn", col] = best(rows, ovpn, key, higher)
        peer = [cell[p, col] + (p,) for p, _ in PEERS if cell[p, col][0] is not None]
        cell["peer", col] = (max if higher else min)(peer) if peer else (None, None, None)

    rates = sorted({k.split(":")[0] for r in rows.values() for k in r
                    if k.startswith("udp") and k[3:4].isdigit()}, key=lambda t: int(t[3:-1]))

    def paced(name):
        v = [med(rows, name if name != "ovpn" else cell["ovpn", COLS[0][0]][1] or "", t + ":udp_loss")
             for t in rates]
        return " / ".join("-" if x is None else "%.1f" % x for x in v) or "-"

    def show(v, fmt):
        return "-" if v is None else fmt % v

    fmt = {True: "%.2f", False: "%.0f"}
    pcol = "paced UDP loss %% @ %s Mbit/s" % "/".join(t[3:-1] for t in rates)
    print("| system | " + " | ".join(c for c, _, _ in COLS) + " | " + pcol + " |")
    print("|---" * (len(COLS) + 2) + "|")
    for name, label in CAPGATE + PEERS + [("veth", "bare veth (no tunnel)")]:
        if all(cell[name, c][0] is None for c, _, _ in COLS):
            continue
        out = []
        for col, _, higher in COLS:
            v, which = cell[name, col]
            f = "%.3f" if col.startswith("CPU") else fmt[col.endswith("Gbit/s")]
            s = show(v, f)
            if which:
                s += " (%s)" % which[5:]
            ref = cell["peer", col][0]
            if name.startswith("capgate") and v is not None and ref:
                s += " **%.2f×**" % (v / ref)
            out.append(s)
        print("| %s | %s | %s |" % (label, " | ".join(out), paced(name)))
    print()
    print("Ratios (bold) are capgate's value over the best peer's in that column "
          "(OpenVPN's configurations and wireguard-go; veth is not a peer). OpenVPN's "
          "paced UDP loss is its best TCP configuration's.")
    print("Best peer per column: " + ", ".join(
        "%s %s" % (c, cell["peer", c][2] if not cell["peer", c][1] else cell["peer", c][1])
        for c, _, _ in COLS if cell["peer", c][0] is not None))
    print()
    goals = [("encrypted TCP 1 stream >= 3x", ["capgate-chacha", "capgate-aes"], COLS[0][0], 3.0),
             ("encrypted TCP 4 streams >= 3x", ["capgate-chacha", "capgate-aes"], COLS[1][0], 3.0),
             ("integrity TCP 1 stream >= 4x", ["capgate-integrity"], COLS[0][0], 4.0),
             ("integrity TCP 4 streams >= 4x", ["capgate-integrity"], COLS[1][0], 4.0),
             ("echo avg <= 1/2", [n for n, _ in CAPGATE], COLS[3][0], 0.5),
             ("echo p99 <= 1/2", [n for n, _ in CAPGATE], COLS[4][0], 0.5),
             ("CPU per GB <= 1/2", [n for n, _ in CAPGATE], COLS[5][0], 0.5)]
    print("| goal (ratio to the best peer) | system | ratio | verdict |")
    print("|---|---|---|---|")
    for goal, names, col, want in goals:
        for n in names:
            v, ref = cell[n, col][0], cell["peer", col][0]
            if v is None or not ref:
                continue
            r = v / ref
            ok = r >= want if want > 1 else r <= want
            print("| %s | %s | %.2f | %s |" % (goal, n, r, "PASS" if ok else "MISS"))


def levers(tsv, levers_file):
    rows = load(tsv)
    # LEVERS_FILE: "NAME<TAB>fast_path<TAB>workers<TAB>levers the gateway's stats report on"
    sets = [line.rstrip("\n").split("\t") for line in open(levers_file)]
    ref = med(rows, sets[0][0], "tcp1:tcp_gbps") if sets else None

    def show(name, key, f):
        v = med(rows, name, key)
        return "-" if v is None else f % v

    print("| fast_path (both ends) | workers | levers on (gateway's stats) | TCP 1 stream Gbit/s |"
          " vs the first row | retransmits | CPU s/GB |")
    print("|---|---|---|---|---|---|---|")
    for name, fp, workers, active in sets:
        g = med(rows, name, "tcp1:tcp_gbps")
        print("| %s | %s | %s | %s | %s | %s | %s |" % (
            fp, workers, active or "(none)", show(name, "tcp1:tcp_gbps", "%.2f"),
            "-" if g is None or not ref else "%.2f" % (g / ref),
            show(name, "tcp1:retr", "%.0f"), show(name, "tcp1:cpu_s_per_gb", "%.3f")))


if __name__ == "__main__":
    globals()[sys.argv[1]](*sys.argv[2:])
