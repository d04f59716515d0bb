#!/usr/bin/env bash
# librelay's symbol hygiene, checked on the built artefacts:
#  (a) librelay.so exports relay_* and nothing else;
#  (b) it carries an SONAME (librelay.so.<major>);
#  (c) no global symbol is defined both by the client's objects and by
#      relayd_core (relay_common, shared by both, is a separate archive).
#  (d) a program linked against it (examples/refer.c) needs librelay.so.<major>
#      and runs: it reaches relay_client_connect and reports the refused port.
# Usage: librelay_symbols.sh LIBRELAY_SO LIBRELAY_A LIBRELAYD_CORE_A REFER_SHARED
set -euo pipefail
so=$1 client_a=$2 server_a=$3 app=$4
fail=0

exported=$(nm -D --defined-only "$so" | awk 'NF == 3 { print $3 }')
if [ -z "$exported" ]; then
    echo "FAIL: $so exports nothing"; fail=1
fi
bad=$(printf '%s\n' "$exported" | grep -v '^relay_' || true)
if [ -n "$bad" ]; then
    echo "FAIL: exported symbols without the relay_ prefix:"; printf '  %s\n' $bad; fail=1
fi
for must in relay_client_new relay_call_start relay_action_volume relay_call_refer; do
    grep -qx "$must" <<<"$(printf '%s\n' "$exported")" || { echo "FAIL: $must not exported"; fail=1; }
done

soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [[ ! "$soname" =~ ^librelay\.so\.[0-9]+$ ]]; then
    echo "FAIL: SONAME is '${soname}', expected librelay.so.<major>"; fail=1
fi

# Global text/data/bss/read-only symbols defined by each archive.
defs() { nm --defined-only -g "$1" 2>/dev/null | awk 'NF == 3 && $2 ~ /[TDBRV]/ { print $3 }' | sort -u; }
clash=$(comm -12 <(defs "$client_a") <(defs "$server_a"))
if [ -n "$clash" ]; then
    echo "FAIL: defined in both librelay and relayd_core:"; printf '  %s\n' $clash; fail=1
fi
[ "$(defs "$client_a" | wc -l)" -gt 0 ] || { echo "FAIL: $client_a defines nothing"; fail=1; }
[ "$(defs "$server_a" | wc -l)" -gt 0 ] || { echo "FAIL: $server_a defines nothing"; fail=1; }

if ! grep -q "(NEEDED).*\[$soname\]" <<<"$(readelf -d "$app")"; then
    echo "FAIL: $app does not need $soname"; fail=1
fi
set +e
out=$(SIGNALWIRE_SPACE=127.0.0.1:1 SIGNALWIRE_PROJECT_ID=p SIGNALWIRE_API_TOKEN=t \
      timeout 20 "$app" 2>&1)
rc=$?
set -e
if [ $rc -ne 1 ] || ! grep -q "cannot connect to 127.0.0.1" <<<"$out"; then
    echo "FAIL: $app through the shared library: rc=$rc: $out"; fail=1
fi

[ $fail -eq 0 ] && echo "ok: $(printf '%s\n' "$exported" | wc -l) relay_* exports, SONAME $soname, no clash with relayd_core"
exit $fail
