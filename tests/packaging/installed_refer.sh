#!/usr/bin/env bash
# packaging.installed_refer: examples/refer.c built against the librelay
# that packaging.sdk_only installed, once with pkg-config and once with a
# CMake project using find_package(relay) (shared and static targets), and
# each binary run against relayd through one refer call (tests/packaging/
# lib.sh: relayd + a sipp caller that accepts the REFER).
#
#   installed_refer.sh SOURCE_DIR SDK_WORK_DIR OUT_DIR
# Environment: RELAYD (the relayd to run against).
# Ports (the packaging block 52000-52999; TCP listeners above the ephemeral
# range): wss 61640, relayd SIP 52001,
# caller 52002, target URI port 52003, RTP 52100-52119 and 52120.
set -uo pipefail
SRC=${1:?usage: installed_refer.sh SOURCE_DIR SDK_WORK_DIR OUT_DIR}
SDK=${2:?}
OUT=${3:?}
export RELAY_SOURCE_DIR=$SRC
. "$SRC/tests/packaging/lib.sh"
trap stop_all EXIT
trap 'exit 130' INT TERM

PREFIX=$SDK/prefix
[ -s "$SDK/libdir" ] || die "no SDK installation in $SDK (packaging.sdk_only sets it up)"
LIBDIR=$PREFIX/$(cat "$SDK/libdir")
[ -n "${RELAYD:-}" ] && [ -x "$RELAYD" ] || die "RELAYD (${RELAYD:-unset}) is not an executable"
for t in sipp openssl pkg-config cmake cc; do command -v $t >/dev/null || die "$t not found"; done
rm -rf "$OUT"
mkdir -p "$OUT"
fails=0
fail() { log "FAIL: $*"; fails=$((fails + 1)); }

WS=61640 SIP_RELAYD=52001 SIP_CALLER=52002 TARGET="sip:support@127.0.0.1:52003"
for p in $WS $SIP_RELAYD; do tcp_open $p && die "port $p is in use"; done

# ---------------------------------------------------------- build: pkg-config
export PKG_CONFIG_PATH=$LIBDIR/pkgconfig
flags=$(pkg-config --cflags --libs relay) || die "pkg-config --cflags --libs relay failed"
log "pkg-config --cflags --libs relay: $flags"
cc -Wall -Wextra -Werror -o "$OUT/refer_pc" "$SRC/examples/refer.c" $flags 2>"$OUT/cc.log" ||
  { cat "$OUT/cc.log"; die "cc with pkg-config's flags failed"; }
grep -q '(NEEDED).*\[librelay.so.0\]' <<<"$(readelf -d "$OUT/refer_pc")" ||
  fail "refer_pc does not need librelay.so.0"

# ---------------------------------------------------------- build: find_package
cmake -S "$SRC/tests/packaging/consumer" -B "$OUT/consumer" -DCMAKE_PREFIX_PATH="$PREFIX" \
  -DREFER_SOURCE="$SRC/examples/refer.c" >"$OUT/consumer-configure.log" 2>&1 ||
  { cat "$OUT/consumer-configure.log"; die "the find_package(relay) project did not configure"; }
cmake --build "$OUT/consumer" -j2 >"$OUT/consumer-build.log" 2>&1 ||
  { cat "$OUT/consumer-build.log"; die "the find_package(relay) project did not build"; }
grep -q '(NEEDED).*\[librelay.so.0\]' <<<"$(readelf -d "$OUT/consumer/refer_cmake")" ||
  fail "refer_cmake (relay::relay) does not need librelay.so.0"
grep -q 'librelay' <<<"$(readelf -d "$OUT/consumer/refer_cmake_static")" &&
  fail "refer_cmake_static (relay::relay_static) needs a shared librelay"
log "built refer_pc (pkg-config), refer_cmake (relay::relay), refer_cmake_static (relay::relay_static)"
# Each must load the installed library, not a build tree's.
resolved=$(LD_LIBRARY_PATH=$LIBDIR ldd "$OUT/refer_pc" | awk '/librelay.so.0/ {print $3}')
[ "$resolved" = "$LIBDIR/librelay.so.0" ] || fail "refer_pc loads '$resolved'"
resolved=$(ldd "$OUT/consumer/refer_cmake" | awk '/librelay.so.0/ {print $3}')
[ "$resolved" = "$LIBDIR/librelay.so.0" ] || fail "refer_cmake loads '$resolved'"

# ---------------------------------------------------------- relayd
CERTS=$OUT/certs
"$SRC/scripts/gen-certs.sh" "$CERTS" >"$OUT/gen-certs.log" 2>&1 || die "gen-certs.sh failed"
export RELAY_PROJECT=pkg-project RELAY_TOKEN=pkg-token-$$
start_bg relayd "$OUT/relayd.log" "$RELAYD" --ws-listen 127.0.0.1:$WS \
  --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key" \
  --sip-listen 127.0.0.1:$SIP_RELAYD --media-ip 127.0.0.1 --rtp-ports 52100-52119 \
  --auth "$RELAY_PROJECT:$RELAY_TOKEN" --refer-timeout-ms 8000 --ready-file "$OUT/relayd.ready"
poll 10 eval '[ -s "$OUT/relayd.ready" ] || ! alive $PID_relayd'
[ -s "$OUT/relayd.ready" ] || { tail -20 "$OUT/relayd.log"; die "relayd did not start"; }
log "relayd ready (pid $PID_relayd)"

# ---------------------------------------------------------- one call each
LD_LIBRARY_PATH=$LIBDIR refer_flow "$OUT/pc" "$OUT/refer_pc" $WS "$CERTS/ca.pem" \
  $SIP_RELAYD $SIP_CALLER 52120 "$TARGET" || fail "refer through refer_pc (pkg-config)"
refer_flow "$OUT/cmake" "$OUT/consumer/refer_cmake" $WS "$CERTS/ca.pem" \
  $SIP_RELAYD $SIP_CALLER 52120 "$TARGET" || fail "refer through refer_cmake (relay::relay)"
refer_flow "$OUT/cmake_static" "$OUT/consumer/refer_cmake_static" $WS "$CERTS/ca.pem" \
  $SIP_RELAYD $SIP_CALLER 52120 "$TARGET" || fail "refer through refer_cmake_static (relay::relay_static)"

stop_pid "$PID_relayd" relayd || fail "relayd exited with $? on SIGTERM"
forget_pid "$PID_relayd"
grep -q -- "$RELAY_TOKEN" "$OUT"/relayd.log "$OUT"/*/example.log && fail "the token appears in a log"
grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$OUT/relayd.log" &&
  fail "sanitizer report in relayd.log"

[ "$fails" -eq 0 ] && log "ok: the installed librelay built examples/refer.c three ways; each completed a refer"
[ "$fails" -eq 0 ]
