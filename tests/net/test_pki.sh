#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Key types and PKIs end to end, with a real gateway and real agents (SPA,
# then mutual TLS, then the tunnel):
#  1. capgate's CA with a P-256 key, the gateway's Ed25519: an Ed25519 and a
#     P-256 device connect side by side, each knocking with its own key type;
#  2. an enterprise PKI made with the openssl CLI (tests/lib/pki_openssl.sh:
#     RSA root, Ed25519 issuing CA, chain files): the gateway presents its
#     chain, a device made with openssl connects, and so does a device whose
#     CSR (P-256, key made on the device) `capgate ca sign` signed as the
#     issuing CA.
#
#   c1 (10.10.1.2) ─┐                       ┌ server 10.10.2.2: tcp 80
#   c2 (10.10.1.3) ─┴ sw (bridge) ── ext0 gw int0
set -euo pipefail
. "$(dirname "$0")/../lib/netns.sh"
netns_private "$@"

[ -x "$CAPGATE" ] || { echo "SKIP: build/capgate is not built"; exit 4; }
command -v openssl >/dev/null || { echo "SKIP: no openssl CLI"; exit 4; }
TMP=$(mktemp -d /tmp/cg-pki.XXXXXX)
trap 'rc=$?; rm -rf "$TMP"; netns_cleanup "$rc"' EXIT

C1=cgk-c1-$$ C2=cgk-c2-$$ SW=cgk-sw-$$ GW=cgk-gw-$$ SRV=cgk-srv-$$
API=unix:$TMP/api.sock
GWPID=

# gateway_config NAME PKI CERT KEY: gateway NAME (its own pinned maps: no door of an earlier
# run) of PKI (its ca.crt; devices from its directory) presenting CERT and KEY
gateway_config() {
	{
		gateway_ini_head "$1" $API "$TMP/state" "$2" |
			sed "s|^cert = .*|cert = $3|; s|^key = .*|key = $4|"
		cat <<-EOF
			keepalive = 1s

			[service web]
			proto = tcp
			address = 10.10.2.2
			ports = 80

			[allow sensors]
			device = dev1 dev2
			app = sensor
			services = web
		EOF
	} >"$TMP/gw.ini"
}

# client_config NAME PKI CA DEVICE: DEVICE of PKI, trusting CA
client_config() {
	client_ini_head "$2" "$4" | sed "s|^ca = .*|ca = $3|" >"$TMP/$1.ini"
}

cg() { nsx $GW "$CAPGATE" --api $API "$@"; }
connect() {
	bg "$1" "$CAPGATE" connect --config "$TMP/$2.ini" 2>>"$TMP/agent.log"
	AGENTS+=("$BG_PID")
}
stop_all() {
	local p
	for p in "${AGENTS[@]}"; do
		stop "$p"
	done
	AGENTS=()
	gw_stop
}
has_sessions() { [ "$(cg -j session list | jq length)" -eq "$1" ]; }
session_of() { cg -j session list | jq -e --arg d "$1" 'map(select(.device == $d)) | length == 1' >/dev/null; }
spa_ok_is() { [ "$(cg -j stats | jq -r '.auth.spa.ok')" -eq "$1" ]; }
http_ok() { nsx "$1" curl -sf -m 2 http://10.10.2.2/ >/dev/null; }
AGENTS=()

lan_topology $C1 $C2 $SW $GW $SRV
mkdir -p "$TMP/www"
echo hello >"$TMP/www/index.html"
bg $SRV python3 -m http.server --directory "$TMP/www" --bind 10.10.2.2 80
poll 10 nsx $SRV curl -sf -m 1 http://10.10.2.2/

# 1. Ed25519 and P-256 side by side under a P-256 CA.
PKI=$TMP/pki
pp "$CAPGATE" ca init --dir "$PKI" --gateway gw --ip 10.10.1.1 --key-type p256 \
	--gateway-key-type ed25519 >/dev/null
# App certificates: the policy names app sensor.
"$CAPGATE" ca issue --dir "$PKI" --device dev1 --app sensor >/dev/null
"$CAPGATE" ca issue --dir "$PKI" --device dev2 --app sensor --key-type p256 >/dev/null
check "p256_ca_key" sh -c "openssl pkey -in '$PKI/ca.key' -noout -text | grep -q 'P-256'"
check "p256_device_cert" sh -c "openssl x509 -in '$PKI/dev2@sensor.crt' -noout -text | grep -q 'prime256v1'"
check "issue_app_cert" "$CAPGATE" ca issue --dir "$PKI" --device dev3 --app cam --group sensors \
	--group lab
check "app_cert_uri" sh -c "openssl x509 -in '$PKI/dev3@cam.crt' -noout -ext subjectAltName |
	grep -q 'URI:spiffe://capgate/device/dev3/app/cam\$'"
check "app_cert_groups" sh -c "openssl x509 -in '$PKI/dev3@cam.crt' -noout -subject | tr -d ' ' |
	grep -qx 'subject=O=sensors,O=lab,CN=dev3@cam'"
check "app_key_file" test "$(stat -c %a "$PKI/dev3@cam.key")" = 600
gateway_config k$$ "$PKI" "$PKI/gateway.crt" "$PKI/gateway.key"
gw_start $GW $API "$TMP"
client_config c1 "$PKI" "$PKI/ca.crt" dev1@sensor
client_config c2 "$PKI" "$PKI/ca.crt" dev2@sensor
connect $C1 c1
connect $C2 c2
check "both_key_types_connected" poll 20 has_sessions 2
check "ed25519_device_session" session_of dev1
check "p256_device_session" session_of dev2
check "both_knocked" spa_ok_is 2
check "http_ed25519_device" poll 5 http_ok $C1
check "http_p256_device" poll 5 http_ok $C2
check "gateway_exits_0_on_sigterm" stop_all

# 2. An enterprise PKI: root -> issuing CA -> leaves, chain files.
E=$TMP/corp
"$TLIB/pki_openssl.sh" "$E" 10.10.1.1 capgate sensor
# capgate signs dev2's CSR as the issuing CA (a CA dir of its certificate and key).
mkdir -m 700 "$TMP/issuing"
cp "$E/issuing.crt" "$TMP/issuing/ca.crt"
install -m 600 "$E/issuing.key" "$TMP/issuing/ca.key"
check "ca_sign_csr" "$CAPGATE" ca sign --dir "$TMP/issuing" --csr "$E/dev2.csr" --device dev2 \
	--app sensor --out "$TMP/dev2.leaf"
check "ca_sign_took_our_name" sh -c "openssl x509 -in '$TMP/dev2.leaf' -noout -ext subjectAltName | grep -q 'spiffe://capgate/device/dev2/app/sensor\$'"
check "ca_sign_wrote_no_key" test ! -e "$TMP/issuing/dev2@sensor.key"
cat "$TMP/dev2.leaf" "$E/issuing.crt" >"$E/dev2.crt"
# The gateway reads each device's certificate by its key name, DEVICE@APP.
cp "$E/dev1.crt" "$E/dev1@sensor.crt"
cp "$E/dev2.crt" "$E/dev2@sensor.crt"
# The root alone is trusted, as ca.crt (devices are read from its directory).
cp "$E/root.crt" "$E/ca.crt"
gateway_config e$$ "$E" "$E/gw.crt" "$E/gw.key"
gw_start $GW $API "$TMP"
client_config e1 "$E" "$E/root.crt" dev1
client_config e2 "$E" "$E/root.crt" dev2
connect $C1 e1
connect $C2 e2
check "enterprise_devices_connected" poll 20 has_sessions 2
check "enterprise_devices_knocked" spa_ok_is 2
check "http_openssl_device" poll 5 http_ok $C1
check "http_csr_device" poll 5 http_ok $C2
stop_all
t_done
