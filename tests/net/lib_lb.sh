# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The balancer's topology for tests/net/test_lb.sh and bench/lb_bench.sh (source it after
# tests/lib/netns.sh and netns_private; set TMP first):
#
#   client (10.10.1.2) ── ext0 gw int0 (10.10.2.1) ── sw (bridge) ─┬ b1 10.10.2.2:80
#                              VIP 10.10.2.100:80                  ├ b2 10.10.2.3:80
#                                                                  ├ b3 10.10.2.4:80
#                                                                  └ b4 10.10.2.5:80 (lb_backend_add)
#
# Each backend runs tests/tools/http_name with its own name (b1 ...), and on request a UDP
# responder that answers with its name (lb_udp_responder). The client routes
# 10.10.2.0/24 (the VIP too) via the gateway; backends route the client subnet via the gateway
# (dnat mode) unless lb_routes_back off (nat = full). IPv6 alongside: fd00:1::/64 outside,
# fd00:2::/64 inside, backends listen on fd00:2::N too, VIP fd00:2::100.

HTTP_NAME=${HTTP_NAME:-$(cd "$TLIB/../.." && pwd)/build/tests/tools/http_name}
LB_CL=cglb-cl-$$ LB_GW=cglb-gw-$$ LB_SW=cglb-sw-$$
LB_VIP=10.10.2.100 LB_VIP6=fd00:2::100
LB_BES=()                           # backend names, in order of creation
declare -A LB_NS LB_N LB_PID LB_UPID # per backend name: its namespace, its N (10.10.2.N),
#                                      its http_name PIDs, its UDP responder's PID

# lb_topology: the client, the gateway (forwarding) and the switch; no backend yet
lb_topology() {
	ns_add $LB_CL
	ns_add $LB_GW
	ns_add $LB_SW
	ip -n $LB_SW link add br0 type bridge
	ip -n $LB_SW link set br0 up
	veth $LB_CL eth0 10.10.1.2/24 $LB_GW ext0 10.10.1.1/24
	veth $LB_GW int0 10.10.2.1/24 $LB_SW pgw 0.0.0.0/32
	ip -n $LB_SW addr flush dev pgw
	ip -n $LB_SW link set pgw master br0
	ip -n $LB_CL addr add fd00:1::2/64 dev eth0 nodad
	ip -n $LB_GW addr add fd00:1::1/64 dev ext0 nodad
	ip -n $LB_GW addr add fd00:2::1/64 dev int0 nodad
	ip -n $LB_CL route add 10.10.2.0/24 via 10.10.1.1
	ip -n $LB_CL route add fd00:2::/64 via fd00:1::1
	nsx $LB_GW sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# lb_backend_add NAME N: backend NAME at 10.10.2.N and fd00:2::N port 80, on the switch, routing
# back via the gateway; returns once its http_name answers
lb_backend_add() {
	local name=$1 n=$2 ns=cglb-$1-$$
	ns_add "$ns"
	veth "$ns" eth0 "10.10.2.$n/24" $LB_SW "p$name" 0.0.0.0/32
	ip -n $LB_SW addr flush dev "p$name"
	ip -n $LB_SW link set "p$name" master br0
	ip -n "$ns" addr add "fd00:2::$n/64" dev eth0 nodad
	LB_NS[$name]=$ns
	LB_N[$name]=$n
	LB_BES+=("$name")
	lb_route_back "$name" on
	lb_backend_start "$name"
}

# lb_backend_start NAME: NAME's http_name on 10.10.2.N:80 and [fd00:2::N]:80 (again, after
# lb_backend_kill); returns once both answer
lb_backend_start() {
	local name=$1 ns=${LB_NS[$1]} n=${LB_N[$1]}
	bg "$ns" "$HTTP_NAME" "10.10.2.$n" 80 "$name" >"$TMP/$name.out"
	LB_PID[$name]=$BG_PID
	bg "$ns" "$HTTP_NAME" "fd00:2::$n" 80 "$name" >"$TMP/$name.out6"
	LB_PID[$name]+=" $BG_PID"
	poll 10 grep -q ready "$TMP/$name.out" && poll 10 grep -q ready "$TMP/$name.out6"
}

# lb_udp_responder NAME PORT: a UDP server on 10.10.2.N:PORT in NAME's namespace that answers
# each datagram with "NAME " and the datagram; returns once it listens
lb_udp_responder() {
	local name=$1 ns=${LB_NS[$1]} n=${LB_N[$1]}
	bg "$ns" python3 -c "$LB_UDP_RESPONDER" "10.10.2.$n" "$2" "$name" >"$TMP/$name.udp"
	LB_UPID[$name]=$BG_PID
	poll 10 grep -q ready "$TMP/$name.udp"
}
# lb_udp_stop NAME: end NAME's UDP responder
lb_udp_stop() {
	stop "${LB_UPID[$1]}"
}
LB_UDP_RESPONDER='import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
s.bind((sys.argv[1], int(sys.argv[2])))
me = sys.argv[3].encode() + b" "
print("ready", flush=True)
while True:
    d, a = s.recvfrom(2048)
    s.sendto(me + d, a)'

# lb_backends: b1, b2, b3 at 10.10.2.2, .3, .4
lb_backends() {
	lb_backend_add b1 2 && lb_backend_add b2 3 && lb_backend_add b3 4
}

# lb_route_back NAME on|off: the backend's route to the clients via the gateway (dnat) or none
# (nat = full: a reply that bypassed the balancer would find no way)
lb_route_back() {
	local ns=${LB_NS[$1]}
	if [ "$2" = on ]; then
		ip -n "$ns" route replace default via 10.10.2.1
		ip -n "$ns" -6 route replace default via fd00:2::1
	else
		ip -n "$ns" route del default 2>/dev/null || true
		ip -n "$ns" -6 route del default 2>/dev/null || true
	fi
}

# lb_routes_back on|off: lb_route_back for every backend
lb_routes_back() {
	local b
	for b in "${LB_BES[@]}"; do
		lb_route_back "$b" "$1"
	done
}

# lb_backend_kill NAME: end the backend's http_name processes (its PIDs only)
lb_backend_kill() {
	local p
	for p in ${LB_PID[$1]}; do
		stop "$p" KILL
	done
}

# lb_backend_of_port PORT: the backend with a connection from the client's port PORT (dnat: the
# backend sees the client's own address and port), or nothing. Not only established: a backend
# that has queued all of /big closes its side (FIN-WAIT) while the client still reads.
lb_backend_of_port() {
	local b
	for b in "${LB_BES[@]}"; do
		if [ -n "$(nsx "${LB_NS[$b]}" ss -Htn state connected exclude time-wait \
			"( dport = :$1 )")" ]; then
			echo "$b"
			return 0
		fi
	done
	return 1
}

# The client's paced download (curl's --limit-rate does not hold back a fast local transfer):
#   python3 -c "$LB_SLOW_GET" HOST PORT BYTES LOCAL-PORT RATE
# GET /big?n=BYTES from HOST:PORT out of LOCAL-PORT, read at RATE bytes/s through a small
# receive buffer (so the backend's sending is paced too), a stall of 10 s is a failure; prints
# "RECEIVED 0" when all BYTES came, "RECEIVED 1" otherwise.
# shellcheck disable=SC2034 # for the scripts that source this
LB_SLOW_GET='import socket, sys, time
host, port, n, lport, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
six = ":" in host
s = socket.socket(socket.AF_INET6 if six else socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.bind(("::" if six else "0.0.0.0", lport))
s.settimeout(10)
got, rc = 0, 1
try:
    s.connect((host, port))
    s.sendall(b"GET /big?n=%d HTTP/1.0\r\nHost: lb\r\n\r\n" % n)
    head = b""
    while b"\r\n\r\n" not in head:
        d = s.recv(4096)
        if not d:
            raise EOFError("no answer")
        head += d
    got = len(head.partition(b"\r\n\r\n")[2])
    t0 = time.monotonic()
    while got < n:
        d = s.recv(min(16384, n - got))
        if not d:
            break
        got += len(d)
        ahead = got / rate - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
    rc = 0 if got == n else 1
except Exception as e:
    print("slow_get:", e, file=sys.stderr)
print(got, rc)'

# lb_vip_local add|del: the VIP as a local address of the gateway (for a proxy that binds it)
lb_vip_local() {
	ip -n $LB_GW addr "$1" $LB_VIP/32 dev lo
	ip -n $LB_GW addr "$1" $LB_VIP6/128 dev lo
}

# lb_get URL [CURL ARGS...]: the body curl gets from the client namespace (2 s at most)
lb_get() {
	local url=$1
	shift
	nsx $LB_CL curl -sf --max-time 2 "$@" "$url"
}

# lb_names N [HOST]: N requests over fresh connections to HOST (default the VIP) from the
# client, one answering backend name a line (a failed request prints nothing); 2 s a request,
# N / 50 + 10 s in all (a working balancer answers thousands a second here)
lb_names() {
	nsx $LB_CL timeout $(($1 / 50 + 10)) curl -s --max-time 2 -H 'Connection: close' \
		"http://${2:-$LB_VIP}/[1-$1]" || true
}

# lb_gateway_ini NAT BACKENDS: the capgate config of the balancing gateway (stdout): API
# unix:$TMP/api.sock, state in $TMP/state, XDP default pass, [service web] on the VIP port 80
# over BACKENDS, health http GET /healthz every 1 s (rise 2, fall 2), nat = NAT
lb_gateway_ini() {
	cat <<-EOF
		[gateway]
		interface = ext0
		name = lb$$
		api = unix:$TMP/api.sock
		state_dir = $TMP/state
		default = pass
		lb_interfaces = int0
	EOF
	lb_service_ini web tcp $LB_VIP 80 "$1" "http GET /healthz" "$2"
}

# lb_service_ini NAME PROTO VIP PORTS NAT HEALTH BACKENDS: a balanced [service NAME] (stdout),
# health every 1 s (rise 2, fall 2)
lb_service_ini() {
	cat <<-EOF

		[service $1]
		proto = $2
		address = $3
		ports = $4
		backends = $7
		health = $6
		health_interval = 1s
		health_rise = 2
		health_fall = 2
		nat = $5
	EOF
}
