#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# capgate dpi -i on a veth: known HTTP and DNS traffic shows up as JSON lines,
# SIGTERM and SIGINT end it with the summary line (with "dropped") and exit 0.
#
#   cli (10.78.0.1) ── veth ── srv (10.78.0.2: http.server on 80; capgate dpi -i eth0)
set -euo pipefail
. "$(dirname "$0")/../lib/netns.sh"
netns_private "$@"

[ -x "$CAPGATE" ] || { echo "SKIP: build/capgate is not built"; exit 4; }
command -v jq >/dev/null || { echo "SKIP: no jq"; exit 4; }
TMP=$(mktemp -d /tmp/cg-dpil.XXXXXX)
chmod 755 "$TMP"
trap 'rc=$?; rm -rf "$TMP"; netns_cleanup "$rc"' EXIT

C=cgd-cli-$$ S=cgd-srv-$$
ns_add $C
ns_add $S
veth $C eth0 10.78.0.1/24 $S eth0 10.78.0.2/24
mkdir -p "$TMP/www/known"
echo hello >"$TMP/www/known/page.html"
(cd "$TMP/www" && exec nsenter --net=/run/netns/$S -- python3 -m http.server -b 10.78.0.2 80 \
	>/dev/null 2>&1) &
PIDS+=($!)
poll 10 nsx $C curl -sf -o /dev/null http://10.78.0.2/known/page.html

# dns_query NAME: one UDP query to srv:53 (nothing answers; the query is what we look for)
dns_query() {
	nsx $C python3 -c '
import socket, struct, sys
name = b"".join(bytes([len(l)]) + l.encode() for l in sys.argv[1].split(".")) + b"\0"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(struct.pack("!HHHHHH", 0x1234, 0x100, 1, 0, 0, 0) + name + struct.pack("!HH", 1, 1),
         ("10.78.0.2", 53))
' "$1"
}
# has FILE JQ-FILTER: some line of FILE matches
has() { jq -e -s "map(select($2)) | length > 0" "$1" >/dev/null 2>&1; }
# summary_last FILE: the last line is the summary, with the kernel's drop count
summary_last() {
	jq -e -s 'last | .type == "summary" and .packets > 0 and (.dropped | type) == "number"' \
		"$1" >/dev/null
}
ready() { dns_query "ready.$1.test" && has "$TMP/$1.json" ".type == \"dns\" and .name == \"ready.$1.test\""; }

# run SIGNAL: one capture, ended by SIGNAL
run() {
	local sig=$1 out=$TMP/$1.json pid rc=0
	bg $S "$CAPGATE" dpi -i eth0 -o "$out"
	pid=$BG_PID
	check "$sig/capture_starts" poll 15 ready "$sig"

	pp nsx $C curl -sf -o /dev/null -H "Host: www.known-$sig.test" \
		"http://10.78.0.2/known/page.html?sig=$sig"
	dns_query "known-$sig.example.test"
	check "$sig/http_request_seen" poll 10 has "$out" \
		".type == \"http\" and .host == \"www.known-$sig.test\" and .uri == \"/known/page.html?sig=$sig\" and .method == \"GET\""
	check "$sig/dns_query_seen" poll 10 has "$out" \
		".type == \"dns\" and .name == \"known-$sig.example.test\" and .qtype == \"A\" and .qr == 0 and .transport == \"udp\""

	kill -"$sig" "$pid"
	wait "$pid" || rc=$?
	check "$sig/exit_0" test "$rc" -eq 0
	check "$sig/summary_last" summary_last "$out"
	check "$sig/http_status_after_end" has "$out" \
		".type == \"http\" and .host == \"www.known-$sig.test\" and .status == 200"
	check "$sig/http_flow_ended" has "$out" \
		".type == \"flow\" and .proto == \"tcp\" and .dst == \"10.78.0.2\" and .dport == 80 and .app == \"http\""
}

run TERM
run INT
t_done
