#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Who a client is comes from its certificate, end to end with real agents:
# two apps of one device each get only their own app's scopes (the other's
# service dropped in XDP, counted); an app certificate cannot claim another
# app (a hello naming it is refused app_mismatch and counted; the agent
# refuses such a config at start); a device certificate and an app
# certificate of one device are judged apart; an Ed25519 and a P-256 device
# side by side; then an enterprise PKI made with the openssl CLI (RSA root,
# issuing CA, chain files, trust domain corp.example) whose device connects.
#
#   c1 (10.10.1.2) ─┐                       ┌ server 10.10.2.2: tcp 80 (HTTP),
#   c2 (10.10.1.3) ─┴ sw (bridge) ── ext0 gw int0   tcp 22
set -euo pipefail
. "$(dirname "$0")/../lib/netns.sh"
netns_private "$@"

SPA_SEND=$(dirname "$CAPGATE")/tests/tools/spa_send
[ -x "$CAPGATE" ] || { echo "SKIP: build/capgate is not built"; exit 4; }
[ -x "$SPA_SEND" ] || { echo "SKIP: $SPA_SEND is not built"; exit 4; }
command -v openssl >/dev/null || { echo "SKIP: no openssl CLI"; exit 4; }
TMP=$(mktemp -d /tmp/cg-id.XXXXXX)
trap 'rc=$?; rm -rf "$TMP"; netns_cleanup "$rc"' EXIT

C1=cgi-c1-$$ C2=cgi-c2-$$ SW=cgi-sw-$$ GW=cgi-gw-$$ SRV=cgi-srv-$$
API=unix:$TMP/api.sock
PKI=$TMP/pki
CORP=$TMP/corp
GWPID=
declare -A AGENTS

lan_topology $C1 $C2 $SW $GW $SRV
mkdir -p "$TMP/www"
echo "behind capgate" >"$TMP/www/index.html"
bg $SRV python3 -m http.server --directory "$TMP/www" --bind 10.10.2.2 80
bg $SRV python3 "$TLIB/tcpx.py" serve-tcp 22
poll 10 nsx $SRV curl -sf -m 1 http://10.10.2.2/

# App certificates of dev1 (sensor, shell), dev2's own and its sensor's, a P-256 dev3,
# dev4's own (device) certificate.
pki_devices "$PKI" dev1@sensor dev1@shell dev2 dev2@sensor dev4
"$CAPGATE" ca issue --dir "$PKI" --device dev3 --app sensor --key-type p256 >/dev/null

# gateway_config: the gateway; the policy: app sensor reaches the web server, dev1's
# app shell only port 22 (sections with an app cover app certificates). Integrity
# mode: the gate itself checks every packet's scope in XDP.
gateway_config() {
	{
		gateway_ini_head "i$$" "$API" "$TMP/state" "$PKI"
		cat <<-EOF
			[service web]
			proto = tcp
			address = 10.10.2.2
			ports = 80

			[service ssh]
			proto = tcp
			address = 10.10.2.2
			ports = 22

			[allow sensors]
			device = dev1 dev2 dev3
			app = sensor
			services = web
			mode = integrity

			[allow shell]
			device = dev1
			app = shell
			services = ssh
			mode = integrity

			[allow own]
			device = dev4
			services = ssh
			mode = integrity
		EOF
	} >"$TMP/gw.ini"
}

cg() { nsx $GW "$CAPGATE" --api $API "$@"; }
api_up() { cg -j stats >/dev/null 2>&1; }
start_gw() {
	bg $GW "$CAPGATE" gateway --config "$1" 2>>"$TMP/gw.log"
	GWPID=$BG_PID
	poll 15 api_up
}
# connect NS CONFIG: an agent in NS; its PID in AGENTS[NS]
connect() {
	bg "$1" "$CAPGATE" connect --config "$2" 2>>"$TMP/agent.log"
	AGENTS[$1]=$BG_PID
}
disconnect() { stop "${AGENTS[$1]}"; }
sessions() { cg -j session list | jq length; }
has_sessions() { [ "$(sessions)" -eq "$1" ]; }
# has_session DEVICE APP: the session list holds one of the certificate's device and app
has_session() { cg -j session list | jq -e --arg d "$1" --arg a "$2" 'map(select(.device == $d and .app == $a)) | length == 1' >/dev/null; }
stat_of() { cg -j stats | jq -r ".reasons.$1.packets"; }
auth_of() { cg -j stats | jq -r ".auth.$1.$2"; }
tun_up() { nsx "$1" ip link show cg0 >/dev/null 2>&1; }
http_ok() { nsx "$1" curl -sf -m 2 http://10.10.2.2/ | grep -q "behind capgate"; }
tcp_ok() { nsx "$1" python3 "$TLIB/tcpx.py" tcp 10.10.2.2 "$2" 1; }
# hello NS CA CERT KEY APP: SPA with the certificate's key, then TLS with it and a hello
# naming APP, as a client built without capgate's agent would; prints the reply's reason.
hello() {
	local key_name
	key_name=$(basename "$3" .crt)
	nsx "$1" "$SPA_SEND" 10.10.1.1 62201 1 0 sign "$4" "$key_name" >/dev/null
	nsx "$1" python3 - "$2" "$3" "$4" "$5" <<-'PY'
		import json, socket, ssl, struct, sys, time
		ca, cert, key, app = sys.argv[1:5]
		ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
		ctx.minimum_version = ssl.TLSVersion.TLSv1_3
		ctx.check_hostname = False
		ctx.load_verify_locations(ca)
		ctx.load_cert_chain(cert, key)
		deadline = time.time() + 5
		while True:  # the door opens once the gateway has read the SPA packet
		    try:
		        raw = socket.create_connection(("10.10.1.1", 8443), timeout=1)
		        break
		    except OSError:
		        if time.time() > deadline:
		            raise
		        time.sleep(0.1)
		s = ctx.wrap_socket(raw)
		body = json.dumps({"type": "hello", "app": app}).encode()
		s.sendall(struct.pack(">I", len(body)) + body)
		buf = b""
		while len(buf) < 4 or len(buf) < 4 + struct.unpack(">I", buf[:4])[0]:
		    chunk = s.recv(4096)
		    if not chunk:
		        break
		    buf += chunk
		msg = json.loads(buf[4:4 + struct.unpack(">I", buf[:4])[0]])
		print(msg.get("reason", msg["type"]))
	PY
}

client_ini_head "$PKI" dev1@sensor >"$TMP/dev1-sensor.ini"
client_ini_head "$PKI" dev1@shell >"$TMP/dev1-shell.ini"
gateway_config
start_gw "$TMP/gw.ini"

# Two apps of one device: each gets its own app's scopes, nothing of the other's.
connect $C1 "$TMP/dev1-sensor.ini"
connect $C2 "$TMP/dev1-shell.ini"
check "two_apps_two_sessions" poll 20 has_sessions 2
check "session_of_app_sensor" has_session dev1 sensor
check "session_of_app_shell" has_session dev1 shell
poll 5 tun_up $C1
poll 5 tun_up $C2
check "app_sensor_reaches_web" poll 5 http_ok $C1
check "app_shell_reaches_ssh" poll 5 tcp_ok $C2 22
before=$(stat_of drop_out_of_scope)
check "app_sensor_not_ssh" not tcp_ok $C1 22
check "app_sensor_ssh_dropped_in_xdp" poll 5 gt_than "$before" stat_of drop_out_of_scope
before=$(stat_of drop_out_of_scope)
check "app_shell_not_web" not http_ok $C2
check "app_shell_web_dropped_in_xdp" poll 5 gt_than "$before" stat_of drop_out_of_scope
disconnect $C2

# An app certificate cannot claim another app: a hello naming it is refused and counted.
check "hello_other_app_refused" test "$(hello $C2 "$PKI/ca.crt" "$PKI/dev1@sensor.crt" "$PKI/dev1@sensor.key" shell)" = app_mismatch
check "hello_other_app_counted" test "$(auth_of auth refused_app_mismatch)" -eq 1
check "hello_other_app_no_session" poll 5 has_sessions 1
# ...and a hello naming the certificate's own app (an older agent) is served.
check "hello_own_app_served" test "$(hello $C2 "$PKI/ca.crt" "$PKI/dev1@sensor.crt" "$PKI/dev1@sensor.key" sensor)" = capability
# The agent refuses a config whose app is not its certificate's, naming both.
{
	cat "$TMP/dev1-sensor.ini"
	echo "app = shell"
} >"$TMP/claim.ini"
rc=0
nsx $C2 "$CAPGATE" connect --config "$TMP/claim.ini" 2>"$TMP/claim.log" || rc=$?
check "agent_refuses_other_app" test "$rc" -eq 1
check "agent_names_both_apps" grep -q "app = shell, but .*dev1@sensor.crt is app sensor's certificate" "$TMP/claim.log"
disconnect $C1
poll 10 has_sessions 0

# A device certificate and an app certificate of one device, side by side: the
# sections name app sensor, so dev2's own certificate gets nothing, its sensor app a session.
client_ini_head "$PKI" dev2 >"$TMP/dev2.ini"
client_ini_head "$PKI" dev2@sensor >"$TMP/dev2-sensor.ini"
before=$(auth_of spa unknown_device)
connect $C1 "$TMP/dev2.ini"
connect $C2 "$TMP/dev2-sensor.ini"
check "app_certificate_served" poll 20 has_session dev2 sensor
check "device_certificate_refused_at_spa" poll 10 gt_than "$before" auth_of spa unknown_device
check "device_certificate_no_session" test "$(cg -j session list | jq 'map(select(.app == "")) | length')" -eq 0
disconnect $C1
# A section without app covers device certificates: dev4's own gets its ssh scope only.
client_ini_head "$PKI" dev4 >"$TMP/dev4.ini"
connect $C1 "$TMP/dev4.ini"
check "device_certificate_section_served" poll 20 has_session dev4 ""
check "device_certificate_own_scopes" test "$(cg -j session list | jq -r 'map(select(.device == "dev4"))[0].scopes | map(.ports) | join(",")')" = "22-22"
poll 5 tun_up $C1
check "device_certificate_reaches_ssh" poll 5 tcp_ok $C1 22
check "device_certificate_not_web" not http_ok $C1
disconnect $C1
poll 10 has_sessions 1

# Ed25519 and P-256 devices side by side, both through the tunnel.
check "p256_certificate" sh -c "openssl x509 -in '$PKI/dev3@sensor.crt' -noout -text | grep -q 'prime256v1'"
client_ini_head "$PKI" dev3@sensor >"$TMP/dev3-sensor.ini"
connect $C1 "$TMP/dev3-sensor.ini"
check "p256_and_ed25519_sessions" poll 20 has_sessions 2
check "p256_device_session" has_session dev3 sensor
poll 5 tun_up $C1
check "p256_device_reaches_web" poll 5 http_ok $C1
check "ed25519_device_reaches_web" poll 5 http_ok $C2
check "no_identity_refusals" test "$(auth_of auth refused_identity)" -eq 0
disconnect $C1
disconnect $C2
poll 10 has_sessions 0
check "gateway_exits_0_on_sigterm" gw_stop

# An enterprise PKI from the openssl CLI: RSA root, Ed25519 issuing CA, chain files,
# trust domain corp.example. The gateway trusts the root; dev1's app sensor connects.
"$TLIB/pki_openssl.sh" "$CORP" 10.10.1.1 corp.example sensor
mkdir -p "$CORP/devices"
cp "$CORP/dev1.crt" "$CORP/devices/dev1@sensor.crt"
sed -e "s|^ca = .*|ca = $CORP/root.crt|" -e "s|^cert = .*|cert = $CORP/gw.crt|" \
	-e "s|^key = .*|key = $CORP/gw.key\ndevices = $CORP/devices\ntrust_domain = corp.example|" \
	"$TMP/gw.ini" >"$TMP/gw-corp.ini"
cat >"$TMP/corp.ini" <<-EOF
	[client]
	gateway = 10.10.1.1
	ca = $CORP/root.crt
	cert = $CORP/dev1.crt
	key = $CORP/dev1.key
	trust_domain = corp.example
	tun = cg0
	retry_max = 2s
EOF
start_gw "$TMP/gw-corp.ini"
connect $C1 "$TMP/corp.ini"
check "enterprise_device_session" poll 20 has_session dev1 sensor
poll 5 tun_up $C1
check "enterprise_device_reaches_web" poll 5 http_ok $C1
check "enterprise_device_not_ssh" not tcp_ok $C1 22
# A capgate-PKI certificate is of another CA and trust domain here: nothing.
before=$(auth_of spa unknown_device)
connect $C2 "$TMP/dev2-sensor.ini"
check "other_pki_refused" poll 15 gt_than "$before" auth_of spa unknown_device
check "other_pki_no_session" has_sessions 1
disconnect $C2
disconnect $C1

t_done
