#!/usr/bin/env bash
# Installs the Node peer's dependencies (@signalwire/realtime-api, pinned by
# package-lock.json) into a scratch folder, never into the source tree:
#
#   bench/node/setup.sh DIR      (bench/peer.sh uses BUILD_DIR/bench-node)
#
# The app runs from the source tree with NODE_PATH=DIR/node_modules.
# Does nothing when DIR already holds this exact lock file's install.
set -euo pipefail
dir=${1:?usage: setup.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"
if [ -d "$dir/node_modules/@signalwire/realtime-api" ] && cmp -s "$here/package-lock.json" "$dir/package-lock.json"; then
  exit 0
fi
cp "$here/package.json" "$here/package-lock.json" "$dir/"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >&2
