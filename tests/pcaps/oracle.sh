#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The tshark oracle of a capture: expected/<file>.json, in the format of ../shared/pcaps
# (its make_expected.sh and MANIFEST.md, "Oracle format"), so test_dpi_pcaps reads both alike.
#
# Usage: tests/pcaps/oracle.sh [file.pcap ...]   (default: every capture next to this script)
#   OUTDIR=dir puts the JSON elsewhere (docs/testing.md: the check against ../shared/pcaps).
#
# Needs: tshark (Debian 12 ships 4.0.x), capinfos, python3, sha256sum.
# Each capture is read twice by tshark: one pass for per-frame fields (-T json -e ...),
# one pass for -z conv,tcp / conv,udp. Reassembly preferences are pinned with -o so
# the result does not depend on a user's ~/.config/wireshark.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUTDIR="${OUTDIR:-$HERE/expected}"
mkdir -p "$OUTDIR"

command -v tshark >/dev/null || { echo "tshark not found (apt-get install tshark)" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 not found" >&2; exit 1; }

PREFS=(
  -o ip.defragment:TRUE
  -o ipv6.defragment:TRUE
  -o tcp.desegment_tcp_streams:TRUE
  -o tcp.reassemble_out_of_order:TRUE
  -o tcp.analyze_sequence_numbers:TRUE
  -o tcp.check_checksum:FALSE
  -o udp.check_checksum:FALSE
)
FIELDS=(
  frame.number frame.protocols
  ip.flags.mf ip.frag_offset ip.fragment.count
  ipv6.fraghdr.offset ipv6.fraghdr.more ipv6.fragment.count
  tcp.analysis.retransmission tcp.analysis.out_of_order tcp.analysis.lost_segment
  http.request.method http.host http.request.uri http.response.code
  dns.flags.response dns.qry.name dns.qry.type dns.count.answers dns.a dns.aaaa
  tls.handshake.type tls.handshake.extensions_server_name
  _ws.malformed
)
TSHARK_VERSION="$(tshark --version 2>/dev/null | head -1)"

if [ "$#" -eq 0 ]; then
  set -- "$HERE"/*.pcap "$HERE"/*.pcapng
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for f in "$@"; do
  [ -f "$f" ] || continue
  name="$(basename "$f")"
  efields=()
  for x in "${FIELDS[@]}"; do efields+=(-e "$x"); done
  set +e
  tshark -n -r "$f" "${PREFS[@]}" -T json "${efields[@]}" >"$tmp/frames.json" 2>"$tmp/frames.err"
  rc1=$?
  tshark -n -r "$f" "${PREFS[@]}" -q -z conv,tcp -z conv,udp >"$tmp/conv.txt" 2>"$tmp/conv.err"
  rc2=$?
  capinfos -t -E -M "$f" >"$tmp/capinfos.txt" 2>&1
  set -e
  sha="$(sha256sum "$f" | cut -d' ' -f1)"
  size="$(stat -c %s "$f")"
  python3 - "$name" "$sha" "$size" "$rc1" "$rc2" "$TSHARK_VERSION" "$tmp" "${PREFS[*]}" "$f" \
    >"$OUTDIR/$name.json" <<'PY'
import json, re, sys
name, sha, size, rc1, rc2, version, tmp, prefs, capture_path = sys.argv[1:10]

def load_frames():
    txt = open(f"{tmp}/frames.json", encoding="utf-8", errors="replace").read().strip()
    if not txt:
        return []
    try:
        return [p["_source"]["layers"] for p in json.loads(txt)]
    except json.JSONDecodeError:
        # tshark aborted mid-file (read error): keep the complete objects
        cut = txt.rfind("\n  }")
        return [p["_source"]["layers"] for p in json.loads(txt[:cut + 4] + "\n]")] if cut > 0 else []

def errlines(path):
    out = []
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip()
        if line and "Running as user" not in line:
            out.append(line.replace(capture_path, name))
    return out

frames = load_frames()
g = lambda L, k: L.get(k, [])
ints = lambda xs: [int(x) for x in xs if re.fullmatch(r"-?\d+", x)]

def has(protos, p):
    return p in protos

cnt = dict(packets=len(frames), ipv4_packets=0, ipv6_packets=0, tcp_packets=0, udp_packets=0,
           icmp_packets=0, icmpv6_packets=0, arp_packets=0, vlan_packets=0, quic_packets=0,
           malformed_packets=0)
frag = dict(ipv4_fragment_packets=0, ipv4_reassembled_datagrams=0,
            ipv6_fragment_packets=0, ipv6_reassembled_datagrams=0)
tcpa = dict(retransmission=0, out_of_order=0, lost_segment=0)
http_req, http_resp, dns, sni = [], [], [], []
client_hellos = 0

for L in frames:
    fn = int(g(L, "frame.number")[0]) if g(L, "frame.number") else None
    protos = (g(L, "frame.protocols") or [""])[0].split(":")
    for key, p in (("ipv4_packets", "ip"), ("ipv6_packets", "ipv6"), ("tcp_packets", "tcp"),
                   ("udp_packets", "udp"), ("icmp_packets", "icmp"), ("icmpv6_packets", "icmpv6"),
                   ("arp_packets", "arp"), ("vlan_packets", "vlan"), ("quic_packets", "quic")):
        if has(protos, p):
            cnt[key] += 1
    if g(L, "_ws.malformed"):
        cnt["malformed_packets"] += 1
    # IPv4 fragments: any IPv4 header in the frame with MF=1 or offset>0
    mf, off = g(L, "ip.flags.mf"), ints(g(L, "ip.frag_offset"))
    if "1" in mf or any(o > 0 for o in off):
        frag["ipv4_fragment_packets"] += 1
    if g(L, "ip.fragment.count"):
        frag["ipv4_reassembled_datagrams"] += len(g(L, "ip.fragment.count"))
    if g(L, "ipv6.fraghdr.offset"):
        frag["ipv6_fragment_packets"] += 1
    if g(L, "ipv6.fragment.count"):
        frag["ipv6_reassembled_datagrams"] += len(g(L, "ipv6.fragment.count"))
    for k in tcpa:
        if g(L, "tcp.analysis." + k):
            tcpa[k] += 1
    meth, host, uri = g(L, "http.request.method"), g(L, "http.host"), g(L, "http.request.uri")
    for i, m in enumerate(meth):
        http_req.append({"frame": fn, "transport": "udp" if "udp" in protos else "tcp", "method": m,
                         "host": host[i] if len(host) == len(meth) else (host[0] if len(host) == 1 and len(meth) == 1 else None),
                         "uri": uri[i] if i < len(uri) else None})
    for c in g(L, "http.response.code"):
        http_resp.append({"frame": fn, "code": int(c)})
    qr, qn, qt, an = g(L, "dns.flags.response"), g(L, "dns.qry.name"), g(L, "dns.qry.type"), g(L, "dns.count.answers")
    for i, n in enumerate(qn):
        e = {"frame": fn, "proto": "mdns" if "mdns" in protos else ("llmnr" if "llmnr" in protos else "dns"),
             "qr": int(qr[i]) if len(qr) == len(qn) else None, "name": n,
             "type": int(qt[i]) if i < len(qt) and qt[i].isdigit() else None}
        if len(an) == len(qn) and an[i].isdigit():
            e["ancount"] = int(an[i])
        dns.append(e)
    if dns and (g(L, "dns.a") or g(L, "dns.aaaa")) and dns[-1]["frame"] == fn:
        dns[-1]["a"] = g(L, "dns.a")
        dns[-1]["aaaa"] = g(L, "dns.aaaa")
    hs = g(L, "tls.handshake.type")
    client_hellos += hs.count("1")
    transport = "quic" if "quic" in protos else ("dtls" if "dtls" in protos else "tcp")
    for s in g(L, "tls.handshake.extensions_server_name"):
        sni.append({"frame": fn, "sni": s, "transport": transport})

conv_re = re.compile(r"^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+\S+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+(\d+)\s")
convs = {"TCP": [], "UDP": []}
cur = None
for line in open(f"{tmp}/conv.txt", encoding="utf-8", errors="replace"):
    if line.startswith("TCP Conversations"):
        cur = "TCP"
    elif line.startswith("UDP Conversations"):
        cur = "UDP"
    elif cur:
        m = conv_re.match(line)
        if m:
            convs[cur].append({"a": m.group(1), "b": m.group(2), "frames": int(m.group(5))})

capinfo = {}
for line in open(f"{tmp}/capinfos.txt", encoding="utf-8", errors="replace"):
    if "\t" in line:
        k, v = line.rstrip("\n").split("\t", 1)
        capinfo[k] = v
    elif ":" in line:
        k, v = line.split(":", 1)
        capinfo[k.strip()] = v.strip()
out = {
    "file": name,
    "sha256": sha,
    "size_bytes": int(size),
    "file_type": capinfo.get("File type"),
    "encapsulation": capinfo.get("File encapsulation"),
    "generator": {"tool": version, "prefs": prefs},
    "tshark_exit": {"fields_pass": int(rc1), "conv_pass": int(rc2)},
    "tshark_errors": errlines(f"{tmp}/frames.err")[:5],
    "counts": cnt,
    "tcp_conversations": len(convs["TCP"]),
    "udp_conversations": len(convs["UDP"]),
    "ip_fragments": frag,
    "tcp_analysis": tcpa,
    "http_requests": http_req,
    "http_responses": http_resp,
    "dns": dns,
    "tls_client_hellos": client_hellos,
    "tls_sni": sni,
    "tcp_conversation_list": convs["TCP"],
    "udp_conversation_list": convs["UDP"],
}
json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
sys.stdout.write("\n")
PY
  echo "$name: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); c=d["counts"]; print(c["packets"],"pkts", d["tcp_conversations"],"tcp conv", d["udp_conversations"],"udp conv", len(d["http_requests"]),"http req", len(d["dns"]),"dns", len(d["tls_sni"]),"sni")' "$OUTDIR/$name.json")"
done
