#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# pki_openssl.sh DIR [GW_IP [TD]]: an enterprise PKI made the way enterprises make one, with
# the openssl CLI: an RSA root (a CA's key may be of any type OpenSSL
# verifies), an Ed25519 issuing CA under it (URI SAN spiffe://TD, so
# capgate can sign with it too), and under that
#   gw.crt   the gateway (P-256, serverAuth, DNS gw, IP GW_IP (127.0.0.1)), then the
#            issuing CA (a chain file)
#   dev1.crt a device (Ed25519 key made here, CSR, signed by the issuing CA):
#            URI spiffe://TD/device/dev1, O=sensors O=ACME Corp,
#            then the issuing CA
#   dev2.csr a P-256 device's CSR (its key dev2.key stays "on the device"),
#            asking for spiffe://TD/device/admin in its own SAN
# plus root.crt, issuing.crt/.key and the keys (0600). TD: corp.example.
# Used by test_tls.c and tests/net/test_pki.sh.
set -euo pipefail
d=$1 ip=${2:-127.0.0.1} td=${3:-corp.example}
mkdir -p "$d"
cd "$d"
umask 077
o() { openssl "$@" 2>/dev/null; }

o genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out root.key
o req -x509 -new -key root.key -sha256 -days 30 -subj "/O=ACME Corp/CN=ACME Root CA" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
	-out root.crt

cat >ext.cnf <<CNF
[issuing]
basicConstraints = critical,CA:TRUE,pathlen:0
subjectAltName = URI:spiffe://$td
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[gw]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:gw,IP:$ip
[dev]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = URI:spiffe://$td/device/dev1
CNF

o genpkey -algorithm ed25519 -out issuing.key
o req -new -key issuing.key -subj "/O=ACME Corp/CN=ACME Devices CA" -out issuing.csr
o x509 -req -in issuing.csr -CA root.crt -CAkey root.key -sha256 -days 30 -set_serial 0x1001 \
	-extfile ext.cnf -extensions issuing -out issuing.crt

o genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out gw.key
o req -new -key gw.key -subj "/CN=gw" -out gw.csr
o x509 -req -in gw.csr -CA issuing.crt -CAkey issuing.key -days 30 -set_serial 0x2001 \
	-extfile ext.cnf -extensions gw -out gw.leaf
cat gw.leaf issuing.crt >gw.crt

o genpkey -algorithm ed25519 -out dev1.key
o req -new -key dev1.key -subj "/O=sensors/O=ACME Corp/CN=dev1" -out dev1.csr
o x509 -req -in dev1.csr -CA issuing.crt -CAkey issuing.key -days 30 -set_serial 0x3001 \
	-extfile ext.cnf -extensions dev -out dev1.leaf
cat dev1.leaf issuing.crt >dev1.crt

o genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out dev2.key
o req -new -key dev2.key -subj "/CN=admin" \
	-addext "subjectAltName=URI:spiffe://$td/device/admin" -out dev2.csr
chmod 0644 ./*.crt ./*.csr
