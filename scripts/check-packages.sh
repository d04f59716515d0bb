#!/usr/bin/env bash
# Checks the Debian packages end to end on this machine (ctest
# packaging.check_packages, so `make check` and CI run it).
#
#   scripts/check-packages.sh [DEB_DIR]
#
#  1. takes librelay0, librelay-dev and relayd .debs from DEB_DIR (e.g.
#     deb-out/ from `make deb`), else builds them (scripts/build-debs.sh);
#  2. lintian: no error;
#  3. installs them with dpkg, then: the relayd user exists, the config is
#     a conffile readable by relayd only, the certificate was generated,
#     `systemd-analyze verify` accepts the installed unit, the man pages are
#     found;
#  4. starts relayd as the unit does (its User/Group, its ExecStart with
#     /etc/relayd/relayd.conf, the State/Logs directories systemd would
#     make); only the listening ports are moved into the packaging test
#     block (flags after --config override the file), and a ready file is
#     added;
#  5. builds examples/refer.c against the installed package with
#     `pkg-config --cflags --libs relay` and completes one refer through
#     relayd as the demo does (tests/packaging/lib.sh: baresip calls and
#     follows the REFER to a sipp UAS target), with the shipped certificate
#     and the loopback development credentials;
#  6. stops relayd by PID and purges the packages (and the relayd user, if
#     this script's install created it), leaving the machine as before.
# Refuses to run when any of the three packages is already installed.
# Needs root (dpkg); takes /tmp/apt.lock around dpkg like scripts/deps.sh.
# Ports: wss 61643 (TCP listeners sit above the ephemeral range, 61000+), SIP
# 52011, caller 52012, target 52013, baresip ctrl
# 61645, RTP 52200-52219 (relayd), 52230-52239 (baresip), 52240 (target).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export RELAY_SOURCE_DIR=$ROOT
. "$ROOT/tests/packaging/lib.sh"
WORK=${CHECK_PACKAGES_WORK:-${RELAY_BUILD_DIR:-$ROOT/build}/check-packages}
PKGS=(librelay0 librelay-dev relayd)
fails=0
fail() { log "FAIL: $*"; fails=$((fails + 1)); }

[ "$(id -u)" = 0 ] || die "needs root (dpkg -i, a system user)"
for t in dpkg lintian systemd-analyze setpriv sipp baresip sox pkg-config cc openssl; do
  command -v $t >/dev/null || die "$t not found (run: scripts/deps.sh)"
done
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
for p in "${PKGS[@]}"; do
  installed "$p" && die "$p is already installed: this check installs and purges it, so it will not run here"
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'config-files' &&
    die "$p has configuration files left (dpkg --purge $p first)"
done
[ -e /etc/relayd ] && die "/etc/relayd exists: not a clean machine for this check"
for p in 61643 52011; do tcp_open $p && die "port $p is in use"; done

rm -rf "$WORK"
mkdir -p "$WORK"

# ------------------------------------------------------------ 1. the .debs
DEBS=${1:-}
if [ -z "$DEBS" ]; then
  log "building the packages (scripts/build-debs.sh)"
  "$ROOT/scripts/build-debs.sh" "$WORK/debs" >"$WORK/build-debs.log" 2>&1 ||
    { tail -30 "$WORK/build-debs.log"; die "scripts/build-debs.sh failed"; }
  DEBS=$WORK/debs
fi
FILES=()
for p in "${PKGS[@]}"; do
  f=$(ls "$DEBS/${p}_"*.deb 2>/dev/null | head -1)
  [ -n "$f" ] || die "no ${p}_*.deb in $DEBS"
  FILES+=("$f")
done
log "packages: ${FILES[*]##*/}"

# ------------------------------------------------------------ 2. lintian
lintian --fail-on error --suppress-tags-from-file /dev/null "${FILES[@]}" >"$WORK/lintian.log" 2>&1
lrc=$?
sed 's/^/  lintian: /' "$WORK/lintian.log"
[ "$lrc" = 0 ] && log "ok: lintian reports no error" || fail "lintian reports errors (exit $lrc)"

# ------------------------------------------------------------ 3. install
USER_EXISTED=0
getent passwd relayd >/dev/null && USER_EXISTED=1
INSTALLED=0
cleanup() {
  stop_all
  [ -n "${RUN:-}" ] && rm -rf "$RUN"
  if [ "$INSTALLED" = 1 ]; then
    flock /tmp/apt.lock dpkg --purge "${PKGS[@]}" >"$WORK/purge.log" 2>&1 ||
      { cat "$WORK/purge.log"; log "FAIL: dpkg --purge failed"; }
    if [ "$USER_EXISTED" = 0 ] && getent passwd relayd >/dev/null; then
      userdel relayd 2>/dev/null
      getent group relayd >/dev/null && groupdel relayd 2>/dev/null
    fi
    INSTALLED=0
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

INSTALLED=1
flock /tmp/apt.lock dpkg -i "${FILES[@]}" >"$WORK/dpkg-install.log" 2>&1 ||
  { cat "$WORK/dpkg-install.log"; die "dpkg -i failed"; }
for p in "${PKGS[@]}"; do installed "$p" || fail "$p is not installed after dpkg -i"; done
log "installed ${PKGS[*]}"

uid=$(id -u relayd 2>/dev/null) || fail "no relayd user"
[ -n "${uid:-}" ] && [ "$uid" -lt 1000 ] && log "ok: system user relayd (uid $uid)" || fail "relayd is not a system user (uid ${uid:-none})"
grep -qx /etc/relayd/relayd.conf /var/lib/dpkg/info/relayd.conffiles 2>/dev/null &&
  log "ok: /etc/relayd/relayd.conf is a conffile" || fail "/etc/relayd/relayd.conf is not a conffile"
perm=$(stat -c '%U:%G %a' /etc/relayd/relayd.conf)
[ "$perm" = "root:relayd 640" ] && log "ok: relayd.conf is $perm" || fail "relayd.conf is $perm, want root:relayd 640"
perm=$(stat -c '%U:%G %a' /etc/relayd/tls/server.key 2>/dev/null)
[ "$perm" = "root:relayd 640" ] || fail "the generated server.key is '${perm}', want root:relayd 640"
openssl verify -CAfile /etc/relayd/tls/ca.pem /etc/relayd/tls/server.pem >/dev/null 2>&1 &&
  log "ok: postinst generated a loopback certificate signed by /etc/relayd/tls/ca.pem" ||
  fail "/etc/relayd/tls/server.pem does not verify against ca.pem"
UNIT=/lib/systemd/system/relayd.service
[ -f "$UNIT" ] || fail "$UNIT not installed"
out=$(systemd-analyze verify "$UNIT" 2>&1)
vrc=$?
if [ "$vrc" = 0 ] && ! grep -q 'relayd' <<<"$out"; then
  log "ok: systemd-analyze verify $UNIT"
else
  fail "systemd-analyze verify (exit $vrc): $out"
fi
[ "$(man -w relayd 2>/dev/null)" = /usr/share/man/man8/relayd.8.gz ] || fail "man relayd not found"
[[ $(LC_ALL=C.UTF-8 man relay_call_refer 2>/dev/null | head -1) == RELAY_CALL\(3\)* ]] ||
  fail "man relay_call_refer does not show relay_call(3)"
[ "$(readlink /usr/share/man/man3/relay_call_refer.3.gz)" = relay_call.3.gz ] || fail "relay_call_refer(3) is not a link to relay_call(3)"

# ------------------------------------------------------------ 4. relayd as the unit runs it
unit_key() { sed -n "s/^$1=//p" "$UNIT" | tail -1; }
U=$(unit_key User) G=$(unit_key Group) EXEC=$(unit_key ExecStart)
[ "$U" = relayd ] && [ -n "$G" ] && [ -n "$EXEC" ] || die "unit: User='$U' Group='$G' ExecStart='$EXEC'"
# What systemd does for StateDirectory= and LogsDirectory=.
for d in $(unit_key StateDirectory); do install -d -o "$U" -g "$G" -m 0750 "/var/lib/$d"; done
for d in $(unit_key LogsDirectory); do install -d -o "$U" -g "$G" -m 0750 "/var/log/$d"; done
# The ready file's directory must be reachable by user relayd: the build
# tree may sit under a directory only its owner can enter (a mktemp -d
# clone), so it lives under /tmp, like the unit's RuntimeDirectory would.
RUN=$(mktemp -d /tmp/relay-check-packages-run.XXXXXX)
chown "$U:$G" "$RUN"
chmod 0750 "$RUN"
read -r -a ARGV <<<"$EXEC"
log "ExecStart: ${ARGV[*]} (as $U:$G; ports moved to 61643/52011/52200-52219)"
start_bg relayd "$WORK/relayd.log" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  setpriv --reuid="$U" --regid="$G" --init-groups -- "${ARGV[@]}" \
  --ws-listen 127.0.0.1:61643 --sip-listen 127.0.0.1:52011 --rtp-ports 52200-52219 \
  --ready-file "$RUN/ready"
poll 10 eval '[ -s "$RUN/ready" ] || ! alive $PID_relayd'
[ -s "$RUN/ready" ] || { cat "$WORK/relayd.log"; die "the installed relayd did not start"; }
runs_as=$(ps -o user= -p "$PID_relayd" | tr -d ' ')
[ "$runs_as" = "$U" ] && log "ok: relayd (pid $PID_relayd) runs as $runs_as" || fail "relayd runs as '$runs_as'"

# ------------------------------------------------------------ 5. the demo's client
unset PKG_CONFIG_PATH
flags=$(pkg-config --cflags --libs relay) || die "pkg-config relay: not found after installing librelay-dev"
cc -Wall -Wextra -Werror -o "$WORK/refer" "$ROOT/examples/refer.c" $flags 2>"$WORK/cc.log" ||
  { cat "$WORK/cc.log"; die "examples/refer.c does not build against the package"; }
lib=$(ldd "$WORK/refer" | awk '/librelay.so.0/ {print $3}')
[ -n "$lib" ] && [ "$(realpath "$lib")" = "$(realpath "$(dpkg -L librelay0 | grep '/librelay.so.0$')")" ] ||
  fail "examples/refer loads '$lib', not the packaged library"
log "examples/refer built with: pkg-config --cflags --libs relay ($flags)"
# the shipped configuration has no auth line: the loopback development credentials
# the demo's call: baresip calls, follows the REFER to a sipp UAS target
export RELAY_PROJECT=dev RELAY_TOKEN=dev
FLOW_CALLER=baresip FLOW_CTRL_PORT=61645 FLOW_TARGET_RTP=52240 \
  refer_flow "$WORK/flow" "$WORK/refer" 61643 /etc/relayd/tls/ca.pem 52011 52012 52230 \
  "sip:support@127.0.0.1:52013" || fail "the refer through the installed relayd"

# ------------------------------------------------------------ 6. stop, purge
stop_pid "$PID_relayd" relayd || fail "relayd exited with status $? on SIGTERM"
forget_pid "$PID_relayd"
cleanup
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -qE 'installed|config-files' && fail "$p is still on the machine"
done
for f in /etc/relayd /var/lib/relayd /var/log/relayd /usr/sbin/relayd /usr/include/relay "$UNIT"; do
  [ -e "$f" ] && fail "$f is left after the purge"
done
[ "$USER_EXISTED" = 1 ] || ! getent passwd relayd >/dev/null || fail "the relayd user is left"
log "purged ${PKGS[*]}; the machine is as before"

[ "$fails" -eq 0 ] && log "ok: packages built, lint-clean, installed, relayd served a refer as its unit would run it, purged"
[ "$fails" -eq 0 ]
