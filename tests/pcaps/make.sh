#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Makes the analyzer's own test captures from real traffic between two namespaces,
# then their tshark oracle (tests/pcaps/oracle.sh). Run by `make pcaps`, not by `make test`:
# the captures and expected/ are committed fixtures (docs/testing.md, "Captures").
#
# Usage: tests/pcaps/make.sh [NAME ...]    (default: every capture; needs root)
#
#   cli (10.80.0.1, fd80::1) ── veth, offloads off ── srv (10.80.0.2, fd80::2; 10.80.0.3
#   reached through a route of MTU 300, so segments are small) with tcpdump on srv's end;
#   10.80.100.1 ── VLAN 100 on the same veth ── 10.80.100.2 (bench/vlan_tag.bpf.c)
#
# Servers in srv: python3 http.server (HTTP/1.1), openssl s_server, dnsmasq, a UDP sink,
# a TCP listener for the hand-made segments. Each capture is one tcpdump run:
#   http.pcap          keep-alive GETs over IPv4 and IPv6, a request whose header spans segments
#   dns.pcap           A/AAAA/MX/TXT over UDP (IPv4, IPv6), TCP with two queries on one connection
#   dns_trunc.pcap     A/AAAA/MX/TXT over UDP with a snap length of 80: each answer cut after
#                      its question
#   tls.pcap           curl with one SNI per connection (IPv4, IPv6), a ClientHello over segments
#   frag.pcap          4000-byte UDP datagrams and 3000-byte pings, IPv4 and IPv6
#   vlan.pcap          HTTP and DNS over VLAN 100
#   tcp_reorder.pcap   one GET of 2.4 kB, segments lost after the capture point: retransmissions
#   tcp_overlap.pcap, tcp_overlap_partial.pcap, tcp_gap.pcap
#                      a raw-socket client against srv's real TCP stack: the same bytes sent
#                      twice with other content, a partial overlap, a 4-byte hole
# Needs: tcpdump tshark curl python3 openssl dnsmasq dig ethtool ping tc nft clang.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$top/tests/pcaps
ALL="http dns dns_trunc tls frag vlan tcp_reorder tcp_overlap tcp_overlap_partial tcp_gap"

for t in tcpdump tshark curl python3 openssl dnsmasq dig ethtool ping tc nft clang; do
	command -v "$t" >/dev/null || { echo "pcaps: $t is missing (make deps; bench deps)" >&2; exit 1; }
done

. "$top/tests/lib/netns.sh"
netns_private "$@"

TMP=$(mktemp -d /tmp/cg-pcaps.XXXXXX)
chmod 755 "$TMP"
trap 'rc=$?; rm -rf "$TMP"; netns_cleanup "$rc"' EXIT

C=cgp-cli-$$ S=cgp-srv-$$
ns_add $C
ns_add $S
veth $C eth0 10.80.0.1/24 $S eth0 10.80.0.2/24
ip -n $C addr add fd80::1/64 dev eth0 nodad
ip -n $S addr add fd80::2/64 dev eth0 nodad
ip -n $S addr add 10.80.0.3/32 dev eth0
# cli's route to .3 has MTU 300, so it announces MSS 260 and both sides send small segments
ip -n $C route add 10.80.0.3/32 dev eth0 mtu lock 300
# VLAN 100 on 10.80.100.0/24
vlan_link $C $S 10.80.100 "$TMP"

mkdir -p "$TMP/www"
for p in a b c; do printf 'page %s\n' "$p" >"$TMP/www/$p.html"; done
head -c 6000 /dev/zero | tr '\0' x >"$TMP/www/big.html"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
	-subj /CN=pcaps.test -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null

(cd "$TMP/www" && exec nsenter --net=/run/netns/$S -- python3 -m http.server \
	--protocol HTTP/1.1 -b :: 80 >/dev/null 2>&1) &
PIDS+=($!)
(cd "$TMP/www" && exec nsenter --net=/run/netns/$S -- openssl s_server -quiet -WWW \
	-accept 443 -cert "$TMP/cert.pem" -key "$TMP/key.pem" >/dev/null 2>&1) &
PIDS+=($!)
bg $S dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces \
	--listen-address=10.80.0.2 --listen-address=fd80::2 --listen-address=10.80.100.2 \
	--user=root --pid-file="$TMP/dnsmasq.pid" --address=/pcaps.test/10.80.0.9 \
	--address=/pcaps.test/fd80::9 --mx-host=pcaps.test,mail.pcaps.test,10 \
	--txt-record=pcaps.test,"capgate test capture"
bg $S python3 -c '
import socket, time
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
u.bind(("::", 9000))
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("10.80.0.2", 7000))
t.listen(16)
while True:
    u.recv(65535)
'
poll 10 nsx $C curl -sf -o /dev/null http://10.80.0.2/a.html
poll 10 nsx $C curl -sf -o /dev/null 'http://[fd80::2]/a.html'
poll 10 nsx $C curl -skf -o /dev/null https://10.80.0.2/a.html
poll 10 nsx $C dig +short +time=1 +tries=1 @10.80.0.2 ready.pcaps.test
poll 10 nsx $C ping -c 1 -W 1 10.80.100.2
# Neighbours are resolved now: the captures hold only the traffic below (and ARP/ND when
# an entry goes stale).

# capture NAME FUNCTION [SNAPLEN]: FUNCTION's traffic, captured on srv's eth0, into
# $TMP/NAME.pcap
capture() {
	local name=$1 fn=$2 snap=${3:-0} pid n
	bg $S tcpdump -i eth0 -s "$snap" -U --immediate-mode -n -w "$TMP/$name.pcap" 2>"$TMP/tcpdump.err"
	pid=$BG_PID
	# printed once the filter is on the socket (the file exists a little earlier)
	poll 10 grep -q 'listening on' "$TMP/tcpdump.err"
	"$fn"
	# the last ACKs are on the wire by the time the file stops growing (10 s at most)
	SETTLED_SIZE= SETTLED_SAME=0
	poll 10 settled "$TMP/$name.pcap" || { echo "make.sh: $name.pcap still growing after 10 s" >&2; exit 1; }
	stop "$pid" INT
}

# settled FILE: true once FILE's size was the same at three calls in a row
# (poll's, 0.1 s apart); SETTLED_SIZE and SETTLED_SAME keep the count
settled() {
	local n
	n=$(stat -c %s "$1")
	if [ "$n" = "$SETTLED_SIZE" ]; then
		SETTLED_SAME=$((SETTLED_SAME + 1))
	else
		SETTLED_SIZE=$n SETTLED_SAME=0
	fi
	[ "$SETTLED_SAME" -ge 2 ]
}

traffic_http() {
	pp nsx $C curl -sf -o /dev/null -o /dev/null -o /dev/null \
		http://10.80.0.2/a.html http://10.80.0.2/b.html 'http://10.80.0.2/c.html?q=1'
	pp nsx $C curl -sf -o /dev/null -o /dev/null -H 'Host: v6.pcaps.test' \
		'http://[fd80::2]/a.html' 'http://[fd80::2]/big.html'
	# A 700-byte header over a path of MSS 260: the request spans three segments.
	pp nsx $C curl -sf -o /dev/null -H "X-Long: $(head -c 700 /dev/zero | tr '\0' y)" \
		http://10.80.0.3/b.html
}

traffic_dns() {
	local t
	for t in A AAAA MX TXT; do
		pp nsx $C dig +time=1 +tries=1 @10.80.0.2 pcaps.test "$t" >/dev/null
	done
	pp nsx $C dig +time=1 +tries=1 @fd80::2 www.pcaps.test AAAA >/dev/null
	pp nsx $C dig +time=1 +tries=1 @10.80.0.2 nothing.invalid A >/dev/null
	pp nsx $C dig +tcp +keepopen +time=1 +tries=1 @10.80.0.2 one.pcaps.test A \
		two.pcaps.test MX >/dev/null
	pp nsx $C dig +tcp +time=1 +tries=1 @fd80::2 pcaps.test TXT >/dev/null
}

# Without EDNS a query is 28 bytes of DNS, whole in 80 (14 + 20 + 8 + 38), and every answer
# is cut after its question: what a capture with a small snap length holds.
traffic_dns_trunc() {
	local t
	for t in A AAAA MX TXT; do
		pp nsx $C dig +noedns +time=1 +tries=1 @10.80.0.2 pcaps.test "$t" >/dev/null
	done
}

traffic_tls() {
	pp nsx $C curl -skf --http1.1 -o /dev/null --resolve www1.pcaps.test:443:10.80.0.2 \
		https://www1.pcaps.test/a.html
	pp nsx $C curl -skf --http1.1 -o /dev/null --resolve www2.pcaps.test:443:fd80::2 \
		https://www2.pcaps.test/a.html
	# MSS 260: the ClientHello spans segments
	pp nsx $C curl -skf --http1.1 -o /dev/null --resolve split.pcaps.test:443:10.80.0.3 \
		https://split.pcaps.test/a.html
}

traffic_frag() {
	pp nsx $C python3 -c '
import socket
for fam, dst in ((socket.AF_INET, "10.80.0.2"), (socket.AF_INET6, "fd80::2")):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    for i in range(3):
        s.sendto(bytes([65 + i]) * 4000, (dst, 9000))
'
	pp nsx $C ping -q -c 2 -i 0.2 -s 3000 10.80.0.2 >/dev/null
	pp nsx $C ping -q -c 2 -i 0.2 -s 3000 fd80::2 >/dev/null
}

traffic_vlan() {
	pp nsx $C curl -sf -o /dev/null -o /dev/null http://10.80.100.2/a.html http://10.80.100.2/b.html
	pp nsx $C dig +time=1 +tries=1 @10.80.100.2 vlan.pcaps.test A >/dev/null
}

# One request to the MSS-260 address, each side dropping a random 25 % of the data segments
# it receives, after the capture (no sch_netem on these kernels, and a drop in the sender's
# own output is no loss: TCP just sends later). The capture shows every segment sent, the
# lost ones twice, with later data in between: retransmissions the reassembly must fold.
traffic_tcp_reorder() {
	local ns
	for ns in $C $S; do
		nsx $ns nft -f - <<-'EOF'
			table netdev cgp_loss {
				chain in {
					type filter hook ingress device eth0 priority 0;
					tcp flags & (syn | fin | rst) == 0 ip length > 100 numgen random mod 100 < 25 drop
				}
			}
		EOF
	done
	# a GET with a 2,400-byte header, none of its segments alike (order shows); http.server
	# reads it whole and answers, unlike a POST it would refuse unread
	pp nsx $C curl -sf -o /dev/null -H "X-Seq: $(seq -f '%05g' 1 480 | tr -d '\n')" \
		http://10.80.0.3/big.html
	for ns in $C $S; do
		nsx $ns nft delete table netdev cgp_loss
	done
}

# craft MODE: a TCP client on a raw socket (cli's own stack is kept out: its RSTs are
# dropped) against the listener on srv:7000. MODE overlap: "GOOD" then "EVIL" at the same
# sequence number; partial: "GOOD" then "XXX" one byte later; gap: "VERY", then "DATA" 4
# bytes past its end.
craft() {
	nsx $C nft -f - <<-'EOF'
		table ip cgp {
			chain out {
				type filter hook output priority 0;
				tcp flags rst drop
			}
		}
	EOF
	nsx $C python3 - "$1" "$2" <<-'PY'
		import socket, struct, sys, time
		mode, sport = sys.argv[1], int(sys.argv[2])
		src, dst, dport = "10.80.0.1", "10.80.0.2", 7000

		def csum(b):
		    if len(b) % 2:
		        b += b"\0"
		    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
		    while s >> 16:
		        s = (s & 0xffff) + (s >> 16)
		    return ~s & 0xffff

		def seg(seq, ack, flags, data=b""):
		    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 64240, 0, 0)
		    ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(h) + len(data))
		    c = csum(ph + h + data)
		    return h[:16] + struct.pack("!H", c) + h[18:] + data

		s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
		s.settimeout(5)
		isn = 1000
		s.sendto(seg(isn, 0, 0x02), (dst, 0))
		while True:
		    p = s.recv(2048)
		    ihl = (p[0] & 15) * 4
		    sp, dp, seq, ack, off, fl = struct.unpack("!HHIIBB", p[ihl:ihl + 14])
		    if sp == dport and dp == sport and fl & 0x12 == 0x12:
		        break
		rn = seq + 1
		s.sendto(seg(isn + 1, rn, 0x10), (dst, 0))
		first, second, at = {"overlap": (b"GOOD", b"EVIL", 0), "partial": (b"GOOD", b"XXX", 1),
		                     "gap": (b"VERY", b"DATA", 8)}[mode]
		s.sendto(seg(isn + 1, rn, 0x18, first), (dst, 0))
		time.sleep(0.05)
		s.sendto(seg(isn + 1 + at, rn, 0x18, second), (dst, 0))
	PY
	nsx $C nft delete table ip cgp
}
# a port of its own each: the connection before stays open in srv
traffic_tcp_overlap() { craft overlap 41001; }
traffic_tcp_overlap_partial() { craft partial 41002; }
traffic_tcp_gap() { craft gap 41003; }

# tcp_reorder must show what it is for (two segments sent again at least); the loss is
# random, so retry a few times.
reordered() {
	local f=$1
	[ "$(tshark -n -r "$f" -Y 'tcp.analysis.out_of_order || tcp.analysis.retransmission' \
		2>/dev/null | wc -l)" -ge 2 ]
}

[ $# -gt 0 ] || set -- $ALL
for name in "$@"; do
	case " $ALL " in *" $name "*) ;; *) echo "pcaps: unknown capture $name" >&2; exit 2 ;; esac
	for try in 1 2 3 4 5 0; do
		[ "$try" -gt 0 ] || { echo "pcaps: $name: fewer than 2 retransmissions in 5 tries" >&2; exit 1; }
		rm -f "$TMP/$name.pcap"
		snap=0
		[ "$name" != dns_trunc ] || snap=80
		capture "$name" "traffic_$name" "$snap"
		[ "$name" != tcp_reorder ] || reordered "$TMP/$name.pcap" && break
		echo "pcaps: $name: fewer than 2 retransmissions in try $try, again" >&2
	done
	cp "$TMP/$name.pcap" "$HERE/$name.pcap"
	# the client's stream as tshark reassembles it: the oracle for the stream check
	if [ "$name" = tcp_reorder ]; then
		tshark -n -r "$HERE/$name.pcap" -o tcp.desegment_tcp_streams:TRUE \
			-o tcp.reassemble_out_of_order:TRUE -q -z follow,tcp,raw,0 2>/dev/null |
			python3 -c '
import sys
body = sys.stdin.read().split("=" * 67)[1].splitlines()
out = b"".join(bytes.fromhex(l) for l in body
               if l and not l.startswith(("\t", "Follow:", "Filter:", "Node ")))
sys.stdout.buffer.write(out)' >"$HERE/expected/$name.pcap.stream"
	fi
	"$HERE/oracle.sh" "$HERE/$name.pcap"
done
