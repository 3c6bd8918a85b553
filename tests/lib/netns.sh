# SPDX-License-Identifier: GPL-2.0
# Helpers for the netns tests and the demo: a private mount namespace, hosts
# in network namespaces, printed commands, checks counted for tests/run.sh.
#
# Source it, then call netns_private "$@" first: it re-executes the script
# under `unshare -m` with its own bpffs and /run/netns, so pinned maps and
# namespace files vanish with the script whatever way it ends. Gateways run
# with `nsx NS cmd` (nsenter --net: unlike `ip netns exec` it keeps /sys/fs/bpf).

CAPGATE=${CAPGATE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/capgate}
TLIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NS_LIST=()
PIDS=()
T_PASSED=0
T_FAILED=0

netns_private() {
	if [ -z "${CG_PRIVATE_NS:-}" ]; then
		[ "$(id -u)" -eq 0 ] || { echo "SKIP: $(basename "$0") (needs root)"; exit 4; }
		command -v unshare >/dev/null || { echo "SKIP: $(basename "$0") (no unshare)"; exit 4; }
		CG_PRIVATE_NS=1 exec unshare -m --propagation private "$0" "$@"
	fi
	mount -t bpf bpf /sys/fs/bpf
	mkdir -p /run/netns
	mount -t tmpfs -o mode=0755 tmpfs /run/netns
	trap netns_cleanup EXIT
	trap 'exit 130' INT TERM
}

# pp CMD...: print, then run (WireGuard's pp)
pp() {
	printf '+ %s\n' "$*" >&2
	"$@"
}

# nsx NS CMD...: run in the network namespace NS only
nsx() {
	local ns=$1
	shift
	nsenter --net=/run/netns/"$ns" -- "$@"
}

ns_add() {
	pp ip netns add "$1"
	NS_LIST+=("$1")
	ip -n "$1" link set lo up
}

# veth NS1 IF1 ADDR1 NS2 IF2 ADDR2: a link between two namespaces
veth() {
	pp ip -n "$1" link add "$2" type veth peer name "$5" netns "$4"
	ip -n "$1" addr add "$3" dev "$2"
	ip -n "$4" addr add "$6" dev "$5"
	ip -n "$1" link set "$2" up
	ip -n "$4" link set "$5" up
}

# lan_topology C1 C2 SW GW SRV: two clients (10.10.1.2, .3) on a bridge in SW
# with the gateway's ext0 (10.10.1.1), and the server (10.10.2.2) behind the
# gateway's int0 (10.10.2.1), its default route through the gateway, which
# forwards.
lan_topology() {
	local c1=$1 c2=$2 sw=$3 gw=$4 srv=$5 ns p
	for ns in "$c1" "$c2" "$sw" "$gw" "$srv"; do
		ns_add "$ns"
	done
	ip -n "$sw" link add br0 type bridge
	ip -n "$sw" link set br0 up
	veth "$c1" eth0 10.10.1.2/24 "$sw" p1 0.0.0.0/32
	veth "$c2" eth0 10.10.1.3/24 "$sw" p2 0.0.0.0/32
	veth "$gw" ext0 10.10.1.1/24 "$sw" p3 0.0.0.0/32
	for p in p1 p2 p3; do
		ip -n "$sw" addr flush dev $p
		ip -n "$sw" link set $p master br0
	done
	veth "$gw" int0 10.10.2.1/24 "$srv" eth0 10.10.2.2/24
	ip -n "$srv" route add default via 10.10.2.1
	nsx "$gw" sysctl -qw net.ipv4.ip_forward=1
}

# pki_devices DIR KEYNAME...: a CA for the gateway at 10.10.1.1 and a certificate per key
# name: DEVICE (the device's own) or DEVICE@APP (an app on it), DIR/KEYNAME.crt and .key
pki_devices() {
	local dir=$1 d
	shift
	pp "$CAPGATE" ca init --dir "$dir" --gateway gw --ip 10.10.1.1 >/dev/null
	for d in "$@"; do
		if [[ $d == *@* ]]; then
			"$CAPGATE" ca issue --dir "$dir" --device "${d%@*}" --app "${d#*@}" >/dev/null
		else
			"$CAPGATE" ca issue --dir "$dir" --device "$d" >/dev/null
		fi
	done
}

# gateway_ini_head NAME API STATE_DIR PKI: the [gateway] and [auth] lines every
# tunnel test's gateway shares (ext0, the default ports, pool 100.64.0.0/24);
# the caller appends its own [auth] keys, services and policy.
gateway_ini_head() {
	cat <<-EOF
		[gateway]
		interface = ext0
		name = $1
		api = $2
		state_dir = $3
		default = drop

		[auth]
		port = 8443
		spa_port = 62201
		data_port = 51900
		ca = $4/ca.crt
		cert = $4/gateway.crt
		key = $4/gateway.key
		pool = 100.64.0.0/24
	EOF
}

# client_ini_head PKI KEYNAME: a [client] with PKI's certificate KEYNAME (DEVICE or
# DEVICE@APP: the certificate says which app), TUN cg0, retrying every 2 s at most; the
# caller appends its own keys.
client_ini_head() {
	cat <<-EOF
		[client]
		gateway = 10.10.1.1
		ca = $1/ca.crt
		cert = $1/$2.crt
		key = $1/$2.key
		tun = cg0
		retry_max = 2s
	EOF
}

# gw_start NS API DIR: the gateway of DIR/gw.ini in NS, stderr appended to DIR/gw.log; its PID
# in GWPID; returns once its API at API answers
gw_start() {
	bg "$1" "$CAPGATE" gateway --config "$3/gw.ini" 2>>"$3/gw.log"
	GWPID=$BG_PID
	poll 15 nsx "$1" "$CAPGATE" --api "$2" -j stats
}

# bg NS CMD...: start a background process in NS; its PID goes to PIDS and $BG_PID
bg() {
	local ns=$1
	shift
	printf '+ [%s] %s &\n' "$ns" "$*" >&2
	# A simple command, so $! is the process itself (nsenter execs it), not a subshell.
	nsenter --net=/run/netns/"$ns" -- "$@" &
	BG_PID=$!
	PIDS+=("$BG_PID")
}

# vlan_link C S NET DIR: VLAN 100 on the veth between eth0 of namespaces C
# and S, addresses NET.1/24 and NET.2/24 (NET: three octets, e.g. 10.77.100).
# The kernels here have no 8021q module, so a tc program tags what is sent to
# NET.0/24 and untags on receive (bench/vlan_tag.bpf.c, built into DIR).
# Offloads are off on both ends: every segment is a frame of its own.
vlan_link() {
	local c=$1 s=$2 net=$3 dir=$4 ns o1 o2 o3
	IFS=. read -r o1 o2 o3 <<<"$net"
	clang -O2 -g -target bpf -Wall -Werror "-DVLAN_NET=$(printf '0x%02x%02x%02x00' "$o1" "$o2" "$o3")" \
		-idirafter "/usr/include/$(gcc -print-multiarch)" \
		-c "$TLIB/../../bench/vlan_tag.bpf.c" -o "$dir/vlan_tag.bpf.o"
	ip -n "$c" addr add "$net.1/24" dev eth0
	ip -n "$s" addr add "$net.2/24" dev eth0
	for ns in "$c" "$s"; do
		nsx "$ns" ethtool -K eth0 tso off gso off gro off >/dev/null
		tc -n "$ns" qdisc add dev eth0 clsact
		tc -n "$ns" filter add dev eth0 egress bpf da obj "$dir/vlan_tag.bpf.o" sec tc program vlan_push
		tc -n "$ns" filter add dev eth0 ingress bpf da obj "$dir/vlan_tag.bpf.o" sec tc program vlan_pop
	done
}

# sniff NS IFACE FILTER OUT COUNT CMD...: up to COUNT packets matching FILTER
# on IFACE of NS into OUT, while CMD runs; tcpdump is given 10 s after CMD
# to see them, then ended. Returns CMD's status.
sniff() {
	local ns=$1 ifc=$2 filter=$3 out=$4 n=$5 cap rc=0
	shift 5
	nsenter --net=/run/netns/"$ns" -- tcpdump -i "$ifc" -U -s 0 -c "$n" -w "$out" "$filter" \
		2>/dev/null &
	cap=$!
	# tcpdump writes the file header once it captures.
	poll 5 test -s "$out"
	"$@" || rc=$?
	poll 10 not kill -0 $cap 2>/dev/null || kill $cap 2>/dev/null || true
	wait $cap 2>/dev/null || true
	return $rc
}

# forget PID: a reaped process leaves PIDS (the cleanup must not signal its
# PID once the system gave it to another process)
forget() {
	local p keep=()
	for p in "${PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	PIDS=("${keep[@]}")
}

# stop PID [SIGNAL]: end one of our processes, reap it and forget it
stop() {
	kill "-${2:-TERM}" "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	forget "$1"
}

# gw_stop: SIGTERM the gateway $GWPID and reap it; succeeds only if it exited 0, as
# a clean shutdown must (stop alone would hide a crash or an error on the way out)
gw_stop() {
	local rc=0
	kill -TERM "$GWPID" || return 1
	wait "$GWPID" || rc=$?
	forget "$GWPID"
	[ "$rc" -eq 0 ] || echo "# gateway $GWPID exited $rc on SIGTERM" >&2
	[ "$rc" -eq 0 ]
}

# netns_cleanup [RC]: stop our processes, delete our namespaces, exit RC (default: $?).
# A script's own EXIT trap passes its status: under set -e, a trap that
# restored it with "(exit $rc)" would itself exit there, before the cleanup.
netns_cleanup() {
	local rc=${1:-$?} p n
	trap - EXIT
	set +e
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	for n in "${NS_LIST[@]}"; do
		ip netns del "$n" 2>/dev/null
	done
	exit "$rc"
}

# poll SECONDS CMD...: run CMD every 0.1 s until it succeeds or the deadline passes
poll() {
	local deadline=$((SECONDS + $1))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

# check NAME CMD...: one test case; prints PASS:/FAIL: for tests/run.sh
check() {
	local name=$1
	shift
	printf '+ %s\n' "$*" >&2
	if "$@"; then
		echo "PASS: $name"
		T_PASSED=$((T_PASSED + 1))
	else
		echo "FAIL: $name"
		T_FAILED=$((T_FAILED + 1))
	fi
}

# not CMD...: succeeds when CMD fails (for checks that something is refused)
not() {
	! "$@"
}

# gt_than N CMD...: the last line CMD prints is a number above N (a counter that grew)
gt_than() {
	local n=$1
	shift
	[ "$("$@" | tail -1)" -gt "$n" ]
}

t_done() {
	echo "# $T_PASSED passed, $T_FAILED failed"
	[ "$T_FAILED" -eq 0 ]
}
