#!/usr/bin/env bash
# ops.man_page: man/relayd.8 renders without a warning, and it and
# packaging/relayd.conf document every key config.c accepts (and every
# key they document is one config.c accepts), so they cannot drift apart.
#   man_page.sh SOURCE_DIR RELAYD
set -euo pipefail
src=$1 relayd=$2
page=$src/man/relayd.8 conf=$src/packaging/relayd.conf
warn=$(groff -man -ww -z "$page" 2>&1)
[ -z "$warn" ] || { echo "groff warnings:"; echo "$warn"; exit 1; }

# the keys, as config.c's apply() compares them
mapfile -t keys < <(sed -n 's/.*strcmp(key, "\([a-z_]*\)").*/\1/p' "$src/src/server/config.c" | sort -u)
[ "${#keys[@]}" -ge 20 ] || { echo "found only ${#keys[@]} keys in config.c"; exit 1; }
usage=$("$relayd" --help 2>&1)
fails=0
for k in "${keys[@]}"; do
  grep -qE "^\.B[IR]? $k( |$)" "$page" || { echo "man/relayd.8 does not document '$k'"; fails=1; }
  grep -qE "^#? ?$k = " "$conf" || { echo "packaging/relayd.conf does not show '$k'"; fails=1; }
  grep -q -- "--${k//_/-}" <<<"$usage" || { echo "relayd --help does not list --${k//_/-}"; fails=1; }
done
# and nothing documented that relayd would refuse
while read -r k; do
  # (a here-string, not a pipe: with pipefail, grep -q leaving early
  # would fail the pipe by SIGPIPE and report a known key as unknown)
  grep -qx "$k" <<<"$(printf '%s\n' "${keys[@]}")" || { echo "man/relayd.8 documents unknown key '$k'"; fails=1; }
done < <(sed -n '/^\.SH CONFIGURATION KEYS/,/^\.SH SIGNALS/s/^\.B[IR]\{0,1\} \([a-z_]*\)\( .*\)\{0,1\}$/\1/p' "$page" | sort -u)
[ "$fails" = 0 ] && echo "ok: ${#keys[@]} keys documented in man/relayd.8, relayd.conf and --help"
[ "$fails" = 0 ]
