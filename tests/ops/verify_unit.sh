#!/usr/bin/env bash
# ops.unit_verify: systemd-analyze verify accepts packaging/relayd.service.
# verify insists that every Exec binary exists, so a copy (still named
# relayd.service) points at the relayd just built instead of /usr/sbin's;
# --man=no: the man page is not installed on a build machine.
#   verify_unit.sh SOURCE_DIR RELAYD WORKDIR
set -euo pipefail
src=$1 relayd=$2 work=$3
mkdir -p "$work"
unit=$work/relayd.service
sed "s#/usr/sbin/relayd#$relayd#g" "$src/packaging/relayd.service" >"$unit"
grep -q "^ExecStart=$relayd " "$unit" || { echo "no ExecStart=/usr/sbin/relayd to test"; exit 1; }
out=$(systemd-analyze verify --man=no "$unit" 2>&1) || { echo "$out"; exit 1; }
# verify also prints warnings with exit 0: any line naming the unit fails us
if grep -q relayd <<<"$out"; then echo "$out"; exit 1; fi
# what operations rely on
for want in '^Type=notify$' '^ExecReload=/bin/kill -HUP \$MAINPID$' '^User=relayd$' \
  '^ProtectSystem=strict$' '^StateDirectory=relayd$' '^NoNewPrivileges=yes$'; do
  grep -q "$want" "$unit" || { echo "relayd.service lacks $want"; exit 1; }
done
echo "ok: systemd-analyze verify accepts relayd.service"
