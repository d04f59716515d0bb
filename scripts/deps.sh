#!/usr/bin/env bash
# Installs the Debian packages this project builds, tests and demos with.
# Idempotent: does nothing when every package is already present.
# Uses sudo when not run as root.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config openssl ca-certificates
  libwebsockets-dev libjansson-dev libsofia-sip-ua-dev libcurl4-openssl-dev
  libespeak-ng-dev libsndfile1-dev libcmocka-dev libspandsp-dev
  libspeexdsp-dev # relayd: calling.denoise (speex noise suppression), resampling
  libssl-dev # relayd: HMAC for JWTs and the authorization state; librelay: its TLS context
  sip-tester baresip-core
  sox jq
  # packaging: `make deb`, scripts/check-packages.sh, the man pages' lint
  debhelper dpkg-dev fakeroot lintian adduser systemd groff-base man-db
  valgrind
  clang-14 libclang-rt-14-dev # `make fuzz`: libFuzzer
  libpcap-dev tshark # relayd's pcap_file capture, and the test that reads it back
  ghostscript # relayd: calling.send_fax converts PDF documents to fax TIFFs
  nodejs # the official Node SDK test (tests/node); npm comes with it (NodeSource) or as Debian's npm
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
