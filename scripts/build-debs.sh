#!/usr/bin/env bash
# Builds the Debian packages librelay0, librelay-dev and relayd (`make deb`).
#
#   scripts/build-debs.sh [OUTDIR]     (default: deb-out)
#
# dpkg-buildpackage runs on a copy of the source tree (the files git knows,
# committed or not, minus ignored ones) in OUTDIR/src, so the worktree gets
# no obj-*/ or debian/tmp litter; the .debs (and .buildinfo, .changes) land
# in OUTDIR. Prints the .deb paths, one a line, on the last lines.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$ROOT/deb-out}
case $OUT in /*) ;; *) OUT=$PWD/$OUT ;; esac

for t in dpkg-buildpackage dh cmake; do
  command -v "$t" >/dev/null || { echo "build-debs: $t not found (run: scripts/deps.sh)" >&2; exit 1; }
done

rm -rf "$OUT"
mkdir -p "$OUT/src"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf -) | tar -C "$OUT/src" -xf -

jobs=$(nproc 2>/dev/null || echo 2)
[ "$jobs" -le 2 ] || jobs=2 # a shared machine: at most two compilers
(cd "$OUT/src" && DEB_BUILD_OPTIONS="parallel=$jobs nocheck" dpkg-buildpackage -b -uc -us) \
  >"$OUT/build.log" 2>&1 || {
  tail -40 "$OUT/build.log" >&2
  echo "build-debs: dpkg-buildpackage failed (log: $OUT/build.log)" >&2
  exit 1
}
rm -rf "$OUT/src"
ls "$OUT"/*.deb
