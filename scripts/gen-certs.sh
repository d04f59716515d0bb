#!/usr/bin/env bash
# Generates a local certificate authority and a server certificate signed by
# it, for relayd's wss:// listener on loopback.
#
#   scripts/gen-certs.sh OUTDIR
#
# Writes OUTDIR/ca.key, OUTDIR/ca.pem (the CA: give ca.pem to clients, e.g.
# SIGNALWIRE_RELAY_CA_FILE), OUTDIR/server.key, OUTDIR/server.pem (the leaf:
# relayd --tls-key/--tls-cert), and OUTDIR/sip/ for SIP over TLS (relayd
# --sip-tls-cert-dir): the same leaf and key as agent.pem, the CA as
# cafile.pem, the names sofia-sip's TLS transport reads. The leaf carries SAN DNS:localhost and
# IP:127.0.0.1 and is signed by the CA, not self-signed: the official SDKs
# (and OpenSSL hostname checks) refuse a bare self-signed leaf for an IP.
#
# Idempotent: when the four files exist, the leaf verifies against the CA,
# is valid for at least another day and matches its key, nothing is done.
# EC P-256 keys keep it fast (well under a second).
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
out=$1
mkdir -p "$out"
ca_key=$out/ca.key ca_pem=$out/ca.pem
srv_key=$out/server.key srv_pem=$out/server.pem

valid() {
  [ -s "$ca_key" ] && [ -s "$ca_pem" ] && [ -s "$srv_key" ] && [ -s "$srv_pem" ] || return 1
  openssl verify -CAfile "$ca_pem" "$srv_pem" >/dev/null 2>&1 || return 1
  openssl x509 -in "$srv_pem" -noout -checkend 86400 >/dev/null 2>&1 || return 1
  openssl x509 -in "$srv_pem" -noout -ext subjectAltName 2>/dev/null |
    grep -q 'IP Address:127.0.0.1' || return 1
  # The leaf's public key must be the one in server.key.
  [ "$(openssl x509 -in "$srv_pem" -noout -pubkey | openssl pkey -pubin -outform DER 2>/dev/null | openssl sha256)" = \
    "$(openssl pkey -in "$srv_key" -pubout -outform DER 2>/dev/null | openssl sha256)" ] || return 1
}

# sofia-sip reads one file holding the certificate and its key.
sip_dir() {
  mkdir -p "$out/sip"
  (umask 077 && cat "$srv_pem" "$srv_key" >"$out/sip/agent.pem.tmp")
  mv -f "$out/sip/agent.pem.tmp" "$out/sip/agent.pem"
  cp -f "$ca_pem" "$out/sip/cafile.pem"
}

if valid; then
  sip_dir
  echo "gen-certs: certificates in $out are present and valid"
  exit 0
fi

tmp=$(mktemp -d "$out/.gen.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
umask 077

# The CA.
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/ca.key"
openssl req -x509 -new -key "$tmp/ca.key" -sha256 -days 3650 \
  -subj "/O=relay-c local test CA/CN=relay-c local test CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -addext "subjectKeyIdentifier=hash" \
  -out "$tmp/ca.pem"

# The server leaf, signed by the CA.
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/server.key"
openssl req -new -key "$tmp/server.key" -subj "/O=relay-c/CN=localhost" -out "$tmp/server.csr"
cat >"$tmp/ext.cnf" <<'EOF'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid,issuer
EOF
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
  -CAcreateserial -days 825 -sha256 -extfile "$tmp/ext.cnf" -out "$tmp/server.pem" 2>/dev/null

chmod 644 "$tmp/ca.pem" "$tmp/server.pem"
mv -f "$tmp/ca.key" "$ca_key"
mv -f "$tmp/ca.pem" "$ca_pem"
mv -f "$tmp/server.key" "$srv_key"
mv -f "$tmp/server.pem" "$srv_pem"

if ! valid; then
  echo "gen-certs: generated certificates do not verify" >&2
  exit 1
fi
sip_dir
echo "gen-certs: wrote CA and server certificate (SAN DNS:localhost, IP:127.0.0.1) to $out"
