#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# capgate demo: a client, a gateway and a server in network namespaces; the
# gateway keeps the server dark until the client knocks. Run by `capgate demo`
# (CAPGATE is the binary). Everything is removed on exit, also on Ctrl-C.
set -euo pipefail
DEMO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$DEMO_DIR/../tests/lib/netns.sh"
netns_private "$@"

TMP=$(mktemp -d /tmp/capgate-demo.XXXXXX)
trap 'rc=$?; rm -rf "$TMP"; (exit $rc); netns_cleanup' EXIT
CL=cgdemo-client-$$ GW=cgdemo-gw-$$ SRV=cgdemo-server-$$
API=127.0.0.1:7070
B=$(tput bold 2>/dev/null || true) N=$(tput sgr0 2>/dev/null || true)

step() { printf '\n%s==> %s%s\n' "$B" "$*" "$N"; }
say() { printf '    %s\n' "$*"; }
cg() { nsx $GW "$CAPGATE" --api $API "$@"; }
try_http() { nsx $CL curl -s -m 1 -o /dev/null -w '%{http_code}' "http://$1/" 2>/dev/null; }
show_http() {
	local code
	code=$(try_http "$1") || true
	if [ "$code" = 200 ]; then
		say "client -> http://$1/ : HTTP 200, the page loads"
	else
		say "client -> http://$1/ : no answer (timed out)"
	fi
}

step "Building the topology: client 10.10.1.2 -- ext0 [gateway] int0 -- server 10.10.2.2"
ns_add $CL
ns_add $GW
ns_add $SRV
veth $GW ext0 10.10.1.1/24 $CL eth0 10.10.1.2/24
veth $GW int0 10.10.2.1/24 $SRV eth0 10.10.2.2/24
ip -n $CL route add 10.10.2.0/24 via 10.10.1.1
ip -n $SRV route add default via 10.10.2.1
nsx $GW sysctl -qw net.ipv4.ip_forward=1
mkdir -p "$TMP/www"
echo "hello from the server behind capgate" >"$TMP/www/index.html"
bg $SRV python3 -m http.server --directory "$TMP/www" --bind 10.10.2.2 80 >/dev/null 2>&1
server_up() { nsx $SRV curl -sf -m 1 http://10.10.2.2/ >/dev/null; }
poll 10 server_up
show_http 10.10.2.2
say "(no gateway yet: the server is in plain sight)"

step "Starting the gateway: XDP on ext0, everything dark except what the config opens"
cat >"$TMP/gateway.ini" <<EOF
[gateway]
interface = ext0
name = demo$$
api = $API
state_dir = $TMP/state
default = drop

[knock web]
sequence = tcp/7000 udp/8000 tcp/9000
step_timeout = 5s
open = tcp/80
open_for = 30s
EOF
sed 's/^/    | /' "$TMP/gateway.ini"
bg $GW "$CAPGATE" gateway --config "$TMP/gateway.ini" 2>"$TMP/gateway.log"
api_up() { cg -j stats >/dev/null 2>&1; }
poll 15 api_up
say "gateway up: $(cg -j stats | jq -r '"XDP in \(.xdp_mode) mode on \(.interface), default \(.default)"')"

step "A scan from the client finds nothing"
for port in 22 80 443 8080; do
	if nsx $CL nc -z -w 1 10.10.2.2 $port 2>/dev/null; then
		say "port $port: open"
	else
		say "port $port: no answer"
	fi
done
show_http 10.10.2.2

step "The client knocks: tcp/7000, udp/8000, tcp/9000"
say "\$ capgate knock send 10.10.2.2 tcp/7000,udp/8000,tcp/9000"
nsx $CL "$CAPGATE" knock send 10.10.2.2 tcp/7000,udp/8000,tcp/9000
cg knock list | sed 's/^/    | /'

step "The door is open for this client alone"
show_http 10.10.2.2

step "An operator shuts the client out with a rule"
say "\$ capgate rule add 10.10.1.2/32 drop"
cg rule add 10.10.1.2/32 drop | sed 's/^/    | /'
show_http 10.10.2.2
cg rule list | sed 's/^/    | /'

step "What the gate counted"
cg stats | sed 's/^/    | /'

step "Cleaning up (gateway stopped, namespaces removed)"
