#!/usr/bin/env bash
# ops.example_conf: relayd --check-config accepts packaging/relayd.conf.
# The file is written for an installed package: its certificate
# (/etc/relayd/tls) and state directory (/var/lib/relayd) exist only there,
# so those two are pointed at this build's own (flags override the file);
# every other line is checked as shipped.
#   check_example_conf.sh SOURCE_DIR RELAYD WORKDIR
set -euo pipefail
src=$1 relayd=$2 work=$3
mkdir -p "$work/state"
bash "$src/scripts/gen-certs.sh" "$work/certs" >/dev/null
conf=$src/packaging/relayd.conf
# the overrides must stand for exactly what the file names, nothing more
[ "$(grep -cE '^(tls_cert|tls_key|recordings_dir) = (/etc/relayd/tls/|/var/lib/relayd/)' "$conf")" = 3 ] ||
  { echo "relayd.conf: tls_cert, tls_key, recordings_dir are not the packaged paths"; exit 1; }
"$relayd" --config "$conf" --check-config \
  --tls-cert "$work/certs/server.pem" --tls-key "$work/certs/server.key" \
  --recordings-dir "$work/state/recordings"
