#!/usr/bin/env bash
# Installs the Debian packages this project builds, tests and demos with.
# Idempotent: does nothing when every package is already present.
# Uses sudo when not run as root.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config openssl libssl-dev ca-certificates
  libwebsockets-dev libjansson-dev libsofia-sip-ua-dev libcurl4-openssl-dev
  libespeak-ng-dev libsndfile1-dev libcmocka-dev libspandsp-dev
  sip-tester baresip-core
  sox jq
  systemd groff-base
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
