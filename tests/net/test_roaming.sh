#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Roaming, in both modes (docs/tunnel.md, "Roaming"), with a real NAT in front
# of the client:
#  1. the NAT rebinds the client's outer port in the middle of a TCP transfer
#     (stateless nftables rewriting, switched from one port to another in one
#     transaction): the transfer (a paced stream to an echo server and back)
#     completes intact and the session's endpoint follows; a replayed
#     packet and a forged one sent from a new address and port are refused and
#     move nothing;
#  2. the client's own address changes (ip addr del/add): the agent notices,
#     reconnects and resumes; the new session has the same virtual address and
#     the old one is gone, and a TCP connection held open through the tunnel
#     goes on.
#
#   c (10.10.3.2, then .3) ── lan0 nat wan0 (10.10.1.2, .99) ── ext0 gw int0 ── srv 10.10.2.2
#                                                                  tcp 80 (HTTP), tcp 22 (echo)
#
# The stream is sent by the client: its first packet on the new port (at
# worst its TCP retransmission) moves the endpoint. A client that only
# receives sends nothing once the replies stop reaching it; see the note in
# docs/tunnel.md, "Roaming".
set -euo pipefail
. "$(dirname "$0")/../lib/netns.sh"
netns_private "$@"

[ -x "$CAPGATE" ] || { echo "SKIP: build/capgate is not built"; exit 4; }
command -v nft >/dev/null || { echo "SKIP: test_roaming.sh (no nft: apt-get install nftables)"; exit 4; }
TMP=$(mktemp -d /tmp/cg-roam.XXXXXX)
trap 'rc=$?; rm -rf "$TMP"; netns_cleanup "$rc"' EXIT

C=cgr-c-$$ NAT=cgr-nat-$$ GW=cgr-gw-$$ SRV=cgr-srv-$$
API=unix:$TMP/api.sock
PKI=$TMP/pki
PUB=10.10.1.2
# The stream, and the rate that makes it last about 8 s.
STREAM=$((24 << 20))
RATE=$((3 << 20))

topology() {
	local ns
	for ns in $C $NAT $GW $SRV; do
		ns_add $ns
	done
	veth $C eth0 10.10.3.2/24 $NAT lan0 10.10.3.1/24
	veth $NAT wan0 $PUB/24 $GW ext0 10.10.1.1/24
	veth $GW int0 10.10.2.1/24 $SRV eth0 10.10.2.2/24
	ip -n $NAT addr add 10.10.1.99/24 dev wan0
	ip -n $C route add default via 10.10.3.1
	ip -n $SRV route add default via 10.10.2.1
	nsx $NAT sysctl -qw net.ipv4.ip_forward=1
	nsx $GW sysctl -qw net.ipv4.ip_forward=1
	# What a home router does for everything else (the control channel, SPA).
	pp nsx $NAT nft -f - <<-EOF
		table ip nat {
			chain post {
				type nat hook postrouting priority srcnat; policy accept;
				oifname "wan0" masquerade
			}
		}
	EOF
	mkdir -p "$TMP/www"
	echo "behind capgate" >"$TMP/www/index.html"
	bg $SRV python3 -m http.server --directory "$TMP/www" --bind 10.10.2.2 80
	bg $SRV python3 "$TLIB/tcpx.py" serve-tcp 22
	poll 10 nsx $SRV curl -sf -m 1 http://10.10.2.2/
}

# rebind CADDR CPORT PORT: the NAT maps the client's data socket CADDR:CPORT to
# $PUB:PORT, both ways, without conntrack, so a new PORT takes effect at once
# (a NAT that lost its mapping and made a new one); "none" removes the mapping.
# One transaction: no packet sees the NAT without a mapping in between.
rebind() {
	if [ "$1" = none ]; then
		pp nsx $NAT nft delete table ip rebind
		return
	fi
	pp nsx $NAT nft -f - <<-EOF
		table ip rebind
		delete table ip rebind
		table ip rebind {
			chain raw {
				type filter hook prerouting priority raw; policy accept;
				iifname "lan0" udp dport 51900 notrack
				iifname "wan0" udp sport 51900 notrack
			}
			chain back {
				type filter hook prerouting priority mangle; policy accept;
				iifname "wan0" ip daddr $PUB udp sport 51900 udp dport $3 ip daddr set $1 udp dport set $2
			}
			chain out {
				type filter hook postrouting priority mangle; policy accept;
				oifname "wan0" ip saddr $1 udp sport $2 udp dport 51900 ip saddr set $PUB udp sport set $3
			}
		}
	EOF
}

# dev1 is encrypted (the default), dev2 integrity. dead_after is long: the
# address change must be a resume, not a new session after the old one died.
gateway_config() {
	gateway_ini_head r$$ $API "$TMP/state" "$PKI" >"$TMP/gw.ini"
	cat >>"$TMP/gw.ini" <<-EOF
		keepalive = 1s
		dead_after = 60s

		[service web]
		proto = tcp
		address = 10.10.2.2
		ports = 80 22

		[allow enc]
		device = dev1
		app = sensor
		services = web

		[allow int]
		device = dev2
		app = sensor
		mode = integrity
		services = web
	EOF
}

# One data worker: one data socket for the NAT to map.
client_config() {
	{
		client_ini_head "$PKI" "$1"
		echo "workers = 1"
	} >"$TMP/$1.ini"
}

cg() { nsx $GW "$CAPGATE" --api $API "$@"; }
api_up() { cg -j stats >/dev/null 2>&1; }
sessions() { cg -j session list | jq length; }
has_sessions() { [ "$(sessions)" -eq "$1" ]; }
field() { cg -j session list | jq -r ".[0].$1"; }
# not_id ID FILTER: FILTER over the sessions other than ID
not_id() { cg -j session list | jq -r --argjson id "$1" "map(select(.id != \$id)) | $2"; }
endpoint_is() { [ "$(field endpoint)" = "$1" ]; }
endpoint_from() { case "$(field endpoint)" in "$1":*) ;; *) return 1 ;; esac; }
stat_of() { cg -j stats | jq -r ".reasons.$1.packets"; }
rx_of() { cg -j stats | jq -r ".auth.data_path.received.$1"; }
auth_of() { cg -j stats | jq -r ".auth.auth.$1"; }
# stays SECS CMD...: CMD holds every 0.1 s for SECS (a bounded negative check)
stays() {
	local end=$((SECONDS + $1))
	shift
	while [ "$SECONDS" -lt "$end" ]; do
		"$@" || return 1
		sleep 0.1
	done
}
http_ok() { nsx $C curl -sf -m 2 http://10.10.2.2/ >/dev/null; }
# The client's data socket (workers = 1: one), as ADDR PORT.
data_socket() {
	nsx $C ss -Hun "( dport = 51900 )" | awk '{
		for (i = 1; i < NF; i++)
			if ($(i + 1) ~ /:51900$/) {
				l = $i
				gsub(/[][]/, "", l)
				sub(/^::ffff:/, "", l)
				n = split(l, p, ":")
				print substr(l, 1, length(l) - length(p[n]) - 1), p[n]
				exit
			}
	}'
}
tun_has() { nsx $C ip -4 -o addr show dev cg0 to "$1" | grep -q .; }
progress() { cat "$TMP/progress" 2>/dev/null || echo 0; }

# capture FILE CMD...: the first data packet to the gateway on the NAT's outside
# while CMD runs; fails if CMD failed or nothing was captured
capture() { sniff $NAT wan0 "udp dst port 51900" "$1" 1 "${@:2}" && [ "$(stat -c %s "$1")" -gt 24 ]; }
# inject FILE [MUTATION]: the captured packet again, from a new address and port
inject() {
	BIND=10.10.1.99 nsx $NAT python3 "$TLIB/tcpx.py" resend "$1" 10.10.1.1 51900 "${2:-none}"
}

# roam MODE KEYNAME
roam() {
	local m=$1 dev=$2 agent stream_pid at caddr= cport= before vip id hold holder
	client_config $dev
	bg $C "$CAPGATE" connect --config "$TMP/$dev.ini" 2>>"$TMP/agent-$m.log"
	agent=$BG_PID
	check "$m/session_up" poll 20 has_sessions 1
	check "$m/session_mode" test "$(field mode)" = "$m"
	poll 5 nsx $C ip link show cg0
	read -r caddr cport < <(data_socket) || true
	check "$m/data_socket_found" test -n "$cport"
	rebind "$caddr" "$cport" 40001
	check "$m/through_nat" poll 5 http_ok
	check "$m/endpoint_is_nat_port_1" poll 5 endpoint_is $PUB:40001
	check "$m/data_packet_captured" capture "$TMP/old-$m.pcap" http_ok

	# 1. NAT rebinding in the middle of a transfer.
	rm -f "$TMP/progress"
	PROGRESS=$TMP/progress nsenter --net=/run/netns/$C -- \
		python3 "$TLIB/tcpx.py" stream 10.10.2.2 22 $STREAM $RATE &
	stream_pid=$!
	poll 10 gt_than $((2 << 20)) progress
	rebind "$caddr" "$cport" 40002
	at=$(progress)
	check "$m/rebound_mid_transfer" test "$at" -lt $STREAM
	check "$m/endpoint_follows_rebind" poll 5 endpoint_is $PUB:40002
	check "$m/transfer_completes_intact" wait $stream_pid
	echo "# $m: rebound at $at of $STREAM bytes echoed"

	# A replay from a new address and port: refused in XDP (the window), moves nothing.
	before=$(stat_of drop_replay_unverified)
	inject "$TMP/old-$m.pcap"
	check "$m/replay_refused" poll 5 gt_than "$before" stat_of drop_replay_unverified
	check "$m/replay_moves_nothing" stays 1 endpoint_is $PUB:40002
	# A forged one (a fresh counter, so only its tag is wrong): refused by whoever checks tags.
	if [ "$m" = encrypted ]; then
		before=$(rx_of bad_tag)
		inject "$TMP/old-$m.pcap" flip-counter
		check "$m/forged_refused" poll 5 gt_than "$before" rx_of bad_tag
	else
		before=$(stat_of drop_bad_tag)
		inject "$TMP/old-$m.pcap" flip-counter
		check "$m/forged_refused" poll 5 gt_than "$before" stat_of drop_bad_tag
	fi
	check "$m/forged_moves_nothing" stays 1 endpoint_is $PUB:40002
	check "$m/works_after_refusals" http_ok

	# A silent client: nothing it sends would move the endpoint, its keepalive does
	# (one per keepalive interval, 1 s here, when the data path sent nothing).
	rebind "$caddr" "$cport" 40003
	check "$m/silent_client_followed" poll 5 endpoint_is $PUB:40003
	check "$m/works_after_silent_rebind" http_ok

	# 2. The client's own address changes; a TCP connection through the tunnel is open.
	rebind none
	hold=$TMP/hold-$m
	mkdir -p "$hold"
	bg $C python3 "$TLIB/tcpx.py" hold 10.10.2.2 22 "$hold"
	holder=$BG_PID
	check "$m/held_connection_open" poll 5 test -e "$hold/ready"
	vip=$(field vip)
	id=$(field id)
	before=$(auth_of resumed)
	pp ip -n $C addr del 10.10.3.2/24 dev eth0
	pp ip -n $C addr add 10.10.3.3/24 dev eth0
	ip -n $C route add default via 10.10.3.1
	check "$m/resumed" poll 15 gt_than "$before" auth_of resumed
	check "$m/one_session" poll 5 has_sessions 1
	check "$m/old_session_gone" test "$(not_id "$id" length)" -eq "$(sessions)"
	check "$m/same_vip" test "$(not_id "$id" '.[0].vip')" = "$vip"
	check "$m/agent_tun_back" poll 5 tun_has "$vip"
	touch "$hold/go.0"
	poll 15 test -e "$hold/ok.0" -o -e "$hold/fail.0" || true
	check "$m/held_connection_survives" test -e "$hold/ok.0"
	check "$m/endpoint_through_nat" poll 5 endpoint_from $PUB
	touch "$hold/stop"
	stop $holder
	stop $agent
	check "$m/session_freed" poll 10 has_sessions 0
	ip -n $C addr del 10.10.3.3/24 dev eth0
	ip -n $C addr add 10.10.3.2/24 dev eth0
	ip -n $C route add default via 10.10.3.1
}

topology
pki_devices "$PKI" dev1@sensor dev2@sensor
gateway_config
bg $GW "$CAPGATE" gateway --config "$TMP/gw.ini"
poll 15 api_up
roam encrypted dev1@sensor
roam integrity dev2@sensor
t_done
