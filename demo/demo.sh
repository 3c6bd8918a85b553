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
trap 'rc=$?; rm -rf "$TMP"; netns_cleanup "$rc"' EXIT
CL=cgdemo-client-$$ GW=cgdemo-gw-$$ SRV=cgdemo-server-$$
API=unix:$TMP/api.sock
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
bg $SRV python3 "$TLIB/tcpx.py" serve-tcp 22 >/dev/null 2>&1
server_up() { nsx $SRV curl -sf -m 1 http://10.10.2.2/ >/dev/null; }
poll 10 server_up
show_http 10.10.2.2
say "(no gateway yet: the server is in plain sight)"

step "Certificates: a CA and the gateway's (the app sensor on dev1 and dev2 enrolls later, with its own key)"
say "\$ capgate ca init --dir pki --gateway gw --ip 10.10.1.1"
"$CAPGATE" ca init --dir "$TMP/pki" --gateway gw --ip 10.10.1.1 2>&1 | sed 's/^/    | /'

# enroll_device NAME: a one-time token on the CA side, `capgate enroll` on the client
enroll_device() {
	say "\$ capgate ca token --dir pki --device $1 --app sensor --ttl 10m   (on the CA host)"
	"$CAPGATE" ca token --dir "$TMP/pki" --device "$1" --app sensor --ttl 10m 2>/dev/null >"$TMP/$1.token"
	say "  $(cut -c1-40 "$TMP/$1.token")...   (id . secret . the CA's key hash)"
	say "\$ capgate enroll --gateway 10.10.1.1 --token-file $1.token --dir device   (on the device)"
	nsx $CL "$CAPGATE" enroll --gateway 10.10.1.1 --token-file "$TMP/$1.token" \
		--dir "$TMP/device" 2>&1 | sed 's/^/    | /'
	say "the key was made on the device and never left it; pki/ holds $1@sensor.crt, not" \
		"its key: $(ls "$TMP/pki" | grep "^$1@" | tr '\n' ' ')"
	say "(the identity is in the certificate: spiffe://capgate/device/$1/app/sensor)"
	say "devices enrolled so far: $(cg -j stats | jq -r '.auth.enroll.ok') (a token works once)"
}

step "Starting the gateway: XDP on ext0, everything dark except what the config opens"
cat >"$TMP/gateway.ini" <<EOF
[gateway]
interface = ext0
name = demo$$
api = $API
state_dir = $TMP/state
default = drop
internal = 10.10.2.0/24

[knock web]
sequence = tcp/7000 udp/8000 tcp/9000
step_timeout = 5s
open = tcp/80
to = 10.10.2.2
open_for = 30s

[auth]
ca = $TMP/pki/ca.crt
cert = $TMP/pki/gateway.crt
key = $TMP/pki/gateway.key
pool = 100.64.0.0/24
session_ttl = 10m
enroll = yes

[service web]
proto = tcp
address = 10.10.2.2
ports = 80

[allow sensors]
device = dev1
app = sensor
services = web
mode = integrity

[allow secure]
device = dev2
app = sensor
services = web
EOF
sed 's/^/    | /' "$TMP/gateway.ini"
bg $GW "$CAPGATE" gateway --config "$TMP/gateway.ini" 2>"$TMP/gateway.log"
GWPID=$BG_PID
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

step "The operator lifts the rule and closes the door: the client is dark again"
cg rule del 1 | sed 's/^/    | /'
curl -s --unix-socket "${API#unix:}" -X DELETE http://localhost/v1/knock/10.10.1.2
show_http 10.10.2.2

step "The device dev1 enrolls: SPA with the token, TLS pinned to the token's CA, a CSR"
enroll_device dev1

step "The device dev1 connects: SPA, mutual TLS, a session with scopes, a TUN"
cat >"$TMP/client.ini" <<EOF
[client]
gateway = 10.10.1.1
ca = $TMP/device/ca.crt
cert = $TMP/device/dev1@sensor.crt
key = $TMP/device/dev1@sensor.key
EOF
sed 's/^/    | /' "$TMP/client.ini"
bg $CL "$CAPGATE" connect --config "$TMP/client.ini" 2>"$TMP/agent.log"
AGENT=$BG_PID
has_session() { [ "$(cg -j session list | jq length)" -gt 0 ]; }
poll 20 has_session
cg session list | sed 's/^/    | /'
say "SPA accepted: $(cg -j stats | jq -r '.auth.spa.ok'); the auth port opened for 10.10.1.2 alone"

step "Traffic through the tunnel: every packet's tag checked in XDP, then decapsulated"
sniff_page() {
	nsenter --net=/run/netns/$CL -- tcpdump -i eth0 -U -c 12 -w "$1" 'udp port 51900' 2>/dev/null &
	CAP=$!
	PIDS+=("$CAP")
	poll 5 test -s "$1"
	show_http 10.10.2.2
	nsx $CL curl -s -m 1 -o /dev/null http://10.10.2.2/ || true
	poll 5 not kill -0 "$CAP" 2>/dev/null || kill "$CAP" 2>/dev/null || true
	wait "$CAP" 2>/dev/null || true
}
MARKER="hello from the server behind capgate"
sniff_page "$TMP/integrity.pcap"
say "gate: $(cg -j stats | jq -r '.reasons.pass_cap.packets') tunnel packets verified and passed"
say "integrity mode authenticates, it does not hide: the page's text on the client's wire:" \
	"$(grep -a -c "$MARKER" "$TMP/integrity.pcap" || true) time(s)"

step "Out of scope: the device tries tcp/22 on the server (its policy allows tcp/80 only)"
if nsx $CL python3 "$TLIB/tcpx.py" tcp 10.10.2.2 22 1; then
	say "tcp/22: reached (unexpected)"
else
	say "tcp/22: no answer; refused in XDP as out_of_scope: $(cg -j stats | jq -r '.reasons.drop_out_of_scope.packets')"
fi

step "An attacker replays a captured tunnel packet"
nsenter --net=/run/netns/$CL -- tcpdump -i eth0 -U -c 1 -w "$TMP/data.pcap" 'udp dst port 51900' 2>/dev/null &
CAP=$!
PIDS+=("$CAP")
pcap_open() { [ -s "$TMP/data.pcap" ]; }
poll 5 pcap_open
nsx $CL curl -s -m 1 -o /dev/null http://10.10.2.2/ || true
wait "$CAP" || true
nsx $CL python3 "$TLIB/tcpx.py" resend "$TMP/data.pcap" 10.10.1.1 51900 none
replayed() { [ "$(cg -j stats | jq -r '.reasons.drop_replay_unverified.packets')" -gt 0 ]; }
poll 5 replayed || true
say "refused in XDP as a replay, before its tag (at no hash cost): $(cg -j stats | jq -r '.reasons.drop_replay_unverified.packets'); it never reached the server"

step "The device disconnects: its session, address and keys are gone"
stop "$AGENT"
no_session() { [ "$(cg -j session list | jq length)" -eq 0 ]; }
poll 10 no_session || true
cg session list | sed 's/^/    | /'

step "The device dev2 enrolls the same way"
enroll_device dev2

step "The device dev2 connects: its policy says encrypted (the default)"
sed -e 's/dev1/dev2/g' "$TMP/client.ini" >"$TMP/client2.ini"
bg $CL "$CAPGATE" connect --config "$TMP/client2.ini" 2>"$TMP/agent2.log"
AGENT=$BG_PID
poll 20 has_session
cg session list | sed 's/^/    | /'

step "Encrypted traffic: prefiltered in XDP, opened by the data workers, nothing in clear on the wire"
sniff_page "$TMP/encrypted.pcap"
say "gate: $(cg -j stats | jq -r '.reasons.pass_encrypted.packets') encrypted packets prefiltered (session, expiry, replay) and passed to the daemon;" \
	"$(cg -j stats | jq -r '.auth.data_path.received.ok') opened"
say "the page's text on the client's wire now: $(grep -a -c "$MARKER" "$TMP/encrypted.pcap" || true) time(s)" \
	"in $(tcpdump -r "$TMP/encrypted.pcap" 2>/dev/null | wc -l) captured packets"

step "The device dev2 is reported lost: the operator revokes it, no restart"
say "\$ capgate device revoke dev2 --note lost"
cg device revoke dev2 --note lost | sed 's/^/    | /'
poll 5 no_session || true
say "sessions now: $(cg -j session list | jq length); its address and keys are freed"
show_http 10.10.2.2
denied_revoked() { [ "$(cg -j stats | jq -r '.auth.denied_revoked + .auth.spa.revoked')" -gt 0 ]; }
poll 15 denied_revoked || true
say "its agent keeps trying: refused as revoked $(cg -j stats | jq -r '.auth.denied_revoked + .auth.spa.revoked') time(s) (SPA and TLS)"
stop "$AGENT"

step "Load balancing: three web servers behind one virtual address, 10.10.2.100"
declare -A WEB
for i in 1 2 3; do
	ip -n $SRV addr add 10.10.2.1$i/24 dev eth0
	mkdir -p "$TMP/web$i"
	echo "web$i" >"$TMP/web$i/index.html"
	bg $SRV python3 -m http.server --directory "$TMP/web$i" --bind 10.10.2.1$i 80 >/dev/null 2>&1
	WEB[$i]=$BG_PID
done
for i in 1 2 3; do
	poll 10 nsx $SRV curl -sf -m 1 -o /dev/null http://10.10.2.1$i/
done
say "web1, web2, web3 listen on 10.10.2.11, .12, .13; the operator adds a balanced service:"
sed -i '/^internal = /a lb_interfaces = int0' "$TMP/gateway.ini"
cat >>"$TMP/gateway.ini" <<EOF

[open]
tcp = 80

[service lb]
proto = tcp
address = 10.10.2.100
ports = 80
backends = 10.10.2.11:80 10.10.2.12:80 10.10.2.13:80
health = http GET /
health_interval = 500ms
nat = dnat
EOF
say "(in [gateway]: lb_interfaces = int0, the balancer also runs where the servers answer)"
sed -n '/^\[open\]/,$p' "$TMP/gateway.ini" | sed 's/^/    | /'
say "([open] tcp = 80 reaches the VIP: it counts as one of the gateway's own addresses)"
stop "$GWPID"
bg $GW "$CAPGATE" gateway --config "$TMP/gateway.ini" 2>>"$TMP/gateway.log"
GWPID=$BG_PID
poll 15 api_up
# lb_backends: "ADDRESS STATE" of each backend of [service lb]
lb_backends() { cg -j lb list | jq -r '.services[] | select(.name == "lb") | .backends[] | "\(.address) \(.state)"'; }
lb_ups() { [ "$(lb_backends | grep -c ' up$')" = "$1" ]; }
poll 10 lb_ups 3 || true
cg lb list | sed 's/^/    | /'
# spread: 60 requests over new connections, the answering servers counted
spread() {
	nsx $CL curl -s -m 2 "http://10.10.2.100/?[1-60]" 2>/dev/null | sort | uniq -c |
		awk '{ printf "%s x%s  ", $2, $1 } END { print "" }'
}
say "60 requests to http://10.10.2.100/, each on a new connection: $(spread)"
say "web2 dies (its server process is killed)"
stop "${WEB[2]}"
web2_down() { lb_backends | grep -qx '10.10.2.12:80 down'; }
poll 10 web2_down || true
say "the health checks took it out: $(lb_backends | tr '\n' ' ')"
say "60 requests again: $(spread)"

step "What the gate counted"
cg stats | sed 's/^/    | /'

step "Cleaning up (gateway stopped, namespaces removed)"
