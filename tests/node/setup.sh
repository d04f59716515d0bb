#!/usr/bin/env bash
# Installs the official Node.js SDK pinned by tests/node/package-lock.json
# into DEST (a scratch folder under the build dir, never committed) with
# `npm ci`. Cached: while DEST holds an install of this exact lock file,
# nothing is fetched again.
#
#   tests/node/setup.sh DEST
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 DEST" >&2
  exit 2
fi
dest=$1
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dest"
# Two test runs at once must not install over each other.
exec 9>"$dest/.install.lock"
flock 9

stamp=$dest/.installed-lock.sha256
want=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
  [ -f "$dest/node_modules/@signalwire/realtime-api/package.json" ]; then
  echo "node setup: @signalwire/realtime-api already installed in $dest"
  exit 0
fi
rm -f "$stamp"
cp "$here/package.json" "$here/package-lock.json" "$dest/"
(cd "$dest" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
echo "$want" >"$stamp"
echo "node setup: installed $(node -p "require('$dest/node_modules/@signalwire/realtime-api/package.json').version") in $dest"
