#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Makes the analyzer benchmark capture (>= 300 MB) from real traffic between two namespaces.
#
# Usage: bench/dpi_capture.sh [OUT]      (default build/bench/dpi.pcap; reused if it exists)
#
#   cli (10.77.0.1, fd77::1) ── veth ── srv (10.77.0.2, fd77::2), tcpdump -w on srv's end
#   cli 10.77.100.1 ── VLAN 100 on the same veth ── srv 10.77.100.2 (tagged by bench/vlan_tag.bpf.c)
#
# Traffic, all between the two namespaces: HTTP (curl against python3 -m
# http.server, IPv4, IPv6 and VLAN), DNS (dnsmasq; UDP from a small python
# sender and TCP from dig), TLS (curl against openssl s_server with a
# self-signed certificate, one SNI per connection), bulk TCP (iperf3),
# fragmented UDP (4000-byte datagrams, IPv4 and IPv6), ping (plain and
# fragmented). Offloads are off on the veth, so frames are MTU-sized as on a
# real wire. Needs: iproute2 tcpdump curl python3 openssl dnsmasq-base
# bind9-dnsutils iperf3 ethtool iputils-ping clang
# (and libbpf-dev for the VLAN tagger).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$top/build/bench/dpi.pcap}
MIN_BYTES=$((300 * 1000 * 1000))

if [ -s "$OUT" ] && [ "$(stat -c %s "$OUT")" -ge "$MIN_BYTES" ]; then
	echo "capture: $OUT (cached, $(stat -c %s "$OUT") bytes)"
	exit 0
fi
for t in tcpdump curl python3 openssl dnsmasq dig iperf3 ethtool ping clang tc; do
	command -v "$t" >/dev/null || { echo "dpi_capture: $t is missing (make deps)" >&2; exit 1; }
done

. "$top/tests/lib/netns.sh"
netns_private "$@"

mkdir -p "$(dirname "$OUT")"
TMP=$(mktemp -d /tmp/cg-cap.XXXXXX)
trap 'rc=$?; rm -rf "$TMP" "$OUT.part"; netns_cleanup "$rc"' EXIT

C=cgb-cli-$$ S=cgb-srv-$$
ns_add $C
ns_add $S
veth $C eth0 10.77.0.1/24 $S eth0 10.77.0.2/24
ip -n $C addr add fd77::1/64 dev eth0 nodad
ip -n $S addr add fd77::2/64 dev eth0 nodad
# VLAN 100 on 10.77.100.0/24
vlan_link $C $S 10.77.100 "$TMP"

# Content: small and medium pages, one large file.
mkdir -p "$TMP/www"
head -c 700 /dev/urandom | base64 >"$TMP/www/index.html"
head -c 20000 /dev/urandom | base64 >"$TMP/www/page.html"
head -c 300000 /dev/urandom >"$TMP/www/img.bin"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
	-subj /CN=bench.test -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null

bg $S tcpdump -i eth0 -s 0 -B 65536 -w "$OUT.part"
dump_pid=$BG_PID
poll 10 test -e "$OUT.part"

(cd "$TMP/www" && exec nsenter --net=/run/netns/$S -- python3 -m http.server -b :: 80 \
	>/dev/null 2>&1) &
PIDS+=($!)
(cd "$TMP/www" && exec nsenter --net=/run/netns/$S -- openssl s_server -quiet -WWW -accept 443 \
	-cert "$TMP/cert.pem" -key "$TMP/key.pem" >/dev/null 2>&1) &
PIDS+=($!)
bg $S dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces \
	--listen-address=10.77.0.2 --listen-address=10.77.100.2 --user=root \
	--pid-file="$TMP/dnsmasq.pid" --address=/bench.test/10.77.0.9 \
	--mx-host=bench.test,mail.bench.test,10
bg $S iperf3 -s -p 5201 --logfile "$TMP/iperf3.log"
bg $S python3 -c '
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 9000))
while True:
    s.recv(65535)
'
poll 10 nsx $C curl -sf -o /dev/null http://10.77.0.2/index.html
poll 10 nsx $C curl -skf -o /dev/null https://10.77.0.2/index.html
poll 10 nsx $C dig +short +time=1 +tries=1 @10.77.0.2 ready.bench.test
poll 10 nsx $C iperf3 -c 10.77.0.2 -n 1K

# HTTP: 5000 connections (http.server speaks HTTP/1.0: one request per connection).
urls() { # BASE COUNT
	local i
	for ((i = 0; i < $2; i++)); do
		case $((i % 10)) in
		9) echo "url = \"$1/img.bin?$i\"" ;;
		[5-8]) echo "url = \"$1/page.html?$i\"" ;;
		*) echo "url = \"$1/index.html?$i\"" ;;
		esac
		echo "output = /dev/null"
	done
}
urls http://10.77.0.2 3000 >"$TMP/u4"
urls 'http://[fd77::2]' 1000 >"$TMP/u6"
urls http://10.77.100.2 1000 >"$TMP/u100"
pp nsx $C curl -s -K "$TMP/u4"
pp nsx $C curl -s -K "$TMP/u6"
pp nsx $C curl -s -K "$TMP/u100"

# TLS: one connection and one SNI per request.
for ((i = 0; i < 400; i++)); do
	echo "url = \"https://www$i.bench.test/index.html\""
	echo "resolve = \"www$i.bench.test:443:10.77.0.2\""
	echo "output = /dev/null"
done >"$TMP/tls"
pp nsx $C curl -sk --http1.1 -K "$TMP/tls" || true

# DNS: UDP queries over the plain link and the VLAN, and some over TCP.
pp nsx $C python3 -c '
import socket, struct
for srv, n in (("10.77.0.2", 30000), ("10.77.100.2", 5000)):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    for i in range(n):
        name = b"".join(bytes([len(l)]) + l for l in (b"h%d" % i, b"bench", b"test")) + b"\0"
        qtype = (1, 28, 15)[i % 3]
        s.sendto(struct.pack("!HHHHHH", i & 0xffff, 0x100, 1, 0, 0, 0) + name +
                 struct.pack("!HH", qtype, 1), (srv, 53))
        try:
            s.recv(4096)
        except socket.timeout:
            pass
'
for ((i = 0; i < 50; i++)); do
	nsx $C dig +tcp +short +time=1 +tries=1 @10.77.0.2 "t$i.bench.test" >/dev/null || true
done

# Fragmented UDP (IPv4 and IPv6) and ping.
pp nsx $C python3 -c '
import socket
for fam, dst, n in ((socket.AF_INET, "10.77.0.2", 6000), (socket.AF_INET6, "fd77::2", 2000)):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    for i in range(n):
        s.sendto(bytes([i & 255]) * 4000, (dst, 9000))
'
pp nsx $C ping -q -c 2000 -i 0.001 10.77.0.2 >/dev/null
pp nsx $C ping -q -c 500 -i 0.001 -s 3000 10.77.0.2 >/dev/null
pp nsx $C ping -q -c 500 -i 0.001 fd77::2 >/dev/null
pp nsx $C ping -q -c 500 -i 0.001 10.77.100.2 >/dev/null

# Bulk TCP, until the file is large enough.
pp nsx $C iperf3 -c 10.77.100.2 -n 20M >/dev/null
pp nsx $C iperf3 -c 10.77.0.2 -R -n 40M >/dev/null
while [ "$(stat -c %s "$OUT.part")" -lt $((MIN_BYTES + 20000000)) ]; do
	pp nsx $C iperf3 -c 10.77.0.2 -n 100M >/dev/null
done

stop "$dump_pid" INT
mv "$OUT.part" "$OUT"
echo "capture: $OUT ($(stat -c %s "$OUT") bytes)"
