#!/usr/bin/env bash
# packaging.sdk_only: the SDK-only build (-DRELAY_SERVER=OFF) configures
# and builds with the server's libraries out of reach, and installs.
#
#   sdk_only.sh SOURCE_DIR WORK_DIR
#
# Configures with a pkg-config that logs every module asked for and
# refuses all but libwebsockets, jansson and openssl (CMake's FindOpenSSL
# asks for it; librelay makes its own TLS client context) — a request for
# sofia-sip, curl, espeak-ng, sndfile, spandsp or cmocka fails the
# configure — asserts the
# log, builds (optimised: it also catches maybe-uninitialized warnings) and
# installs into WORK_DIR/prefix. packaging.installed_refer builds against
# that prefix (a ctest fixture).
set -uo pipefail
SRC=${1:?usage: sdk_only.sh SOURCE_DIR WORK_DIR}
WORK=${2:?usage: sdk_only.sh SOURCE_DIR WORK_DIR}
rm -rf "$WORK"
mkdir -p "$WORK"
BUILD=$WORK/build PREFIX=$WORK/prefix LOG=$WORK/pkg-config.log
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

REAL_PKG_CONFIG=$(command -v pkg-config) || { echo "FAIL: pkg-config not found"; exit 1; }
cat >"$WORK/pkg-config" <<WRAP
#!/usr/bin/env bash
# Logs each module asked for; only libwebsockets, jansson and openssl exist.
for a in "\$@"; do
  case \$a in
    -*|[\<\>=]*|[0-9]*) ;;
    *)
      for m in \$a; do
        case \$m in [\<\>=]*|[0-9]*) continue ;; esac
        echo "\$m" >>"$LOG"
        case \$m in libwebsockets|jansson|openssl) ;; *) echo "REFUSED \$m" >>"$LOG"; exit 1 ;; esac
      done ;;
  esac
done
exec "$REAL_PKG_CONFIG" "\$@"
WRAP
chmod +x "$WORK/pkg-config"
: >"$LOG"

echo "configure: cmake -DRELAY_SERVER=OFF with the restricted pkg-config"
if ! cmake -S "$SRC" -B "$BUILD" -DRELAY_SERVER=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
     -DPKG_CONFIG_EXECUTABLE="$WORK/pkg-config" -DCMAKE_INSTALL_PREFIX="$PREFIX" \
     >"$WORK/configure.log" 2>&1; then
  cat "$WORK/configure.log"
  fail "the SDK-only configure failed; modules asked for: $(sort -u "$LOG" | paste -sd' ')"
  exit 1
fi
asked=$(sort -u "$LOG" | paste -sd' ')
[ "$asked" = "jansson libwebsockets openssl" ] && echo "ok: pkg-config was asked for: $asked" ||
  fail "pkg-config was asked for '$asked', want exactly 'jansson libwebsockets openssl'"
grep -q '^RELAY_TESTS:BOOL=ON' "$BUILD/CMakeCache.txt" && fail "RELAY_TESTS is ON in the SDK-only build"

echo "build"
if ! cmake --build "$BUILD" -j2 >"$WORK/build.log" 2>&1; then
  tail -40 "$WORK/build.log"
  fail "the SDK-only build failed"
  exit 1
fi
[ -e "$BUILD/src/server/relayd" ] && fail "relayd was built in the SDK-only build"
[ -x "$BUILD/examples/refer" ] || fail "examples/refer was not built"

echo "install into $PREFIX"
if ! cmake --install "$BUILD" >"$WORK/install.log" 2>&1; then
  cat "$WORK/install.log"
  fail "cmake --install failed"
  exit 1
fi
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$BUILD/CMakeCache.txt")
for f in "$libdir/librelay.so.0" "$libdir/librelay.so" "$libdir/librelay.a" \
         "$libdir/pkgconfig/relay.pc" "$libdir/cmake/relay/relayConfig.cmake" \
         "$libdir/cmake/relay/relayConfigVersion.cmake" "$libdir/cmake/relay/relayTargets.cmake" \
         include/relay/relay.h include/relay/calling.h include/relay/types.h \
         share/man/man3/relay.3 share/man/man3/relay_calling.3 share/man/man3/relay_call_answer.3; do
  [ -e "$PREFIX/$f" ] || fail "not installed: $f"
done
for f in sbin/relayd lib/systemd/system/relayd.service etc/relayd/relayd.conf share/man/man8/relayd.8; do
  [ -e "$PREFIX/$f" ] && fail "the SDK-only install has $f"
done
soname=$(readelf -d "$PREFIX/$libdir/librelay.so.0" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = librelay.so.0 ] || fail "SONAME '$soname', want librelay.so.0"
# `man relay_call_answer` finds the family page through the link page
page=$(MANPATH="$PREFIX/share/man" LC_ALL=C.UTF-8 man relay_call_answer 2>/dev/null | head -1)
[[ $page == RELAY_CALL\(3\)* ]] && echo "ok: man relay_call_answer shows relay_call(3)" ||
  fail "man relay_call_answer: '$page'"
echo "$libdir" >"$WORK/libdir"

[ "$fails" -eq 0 ] && echo "ok: SDK-only build configured with libwebsockets, jansson and openssl alone, built and installed"
[ "$fails" -eq 0 ]
