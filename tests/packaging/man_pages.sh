#!/usr/bin/env bash
# packaging.man_pages: the manual pages render without a single warning,
# and the section 3 pages' NAME lines (from which the install makes one
# link page per function, see man/CMakeLists.txt) name exactly the
# functions include/relay/*.h declares: none missing, none stale.
#
#   man_pages.sh SOURCE_DIR
set -uo pipefail
SRC=${1:?usage: man_pages.sh SOURCE_DIR}
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
export LC_ALL=C.UTF-8 MANWIDTH=80

pages=("$SRC"/man/*.3 "$SRC"/man/*.8)
[ ${#pages[@]} -ge 6 ] || fail "expected relay(3), relay_client(3), relay_call(3), relay_action(3), relay_calling(3), relayd(8); found ${pages[*]}"
for want in relay relay_client relay_call relay_action relay_calling; do
  [ -f "$SRC/man/$want.3" ] || fail "man/$want.3 is missing"
done
for p in "${pages[@]}"; do
  w=$(groff -ww -z -man "$p" 2>&1)
  [ -z "$w" ] || fail "groff -ww on $(basename "$p"): $w"
  w=$(man --warnings -l "$p" 2>&1 >/dev/null)
  [ -z "$w" ] || fail "man --warnings -l $(basename "$p"): $w"
  [ "$(man -l "$p" 2>/dev/null | wc -l)" -gt 20 ] || fail "$(basename "$p") renders to almost nothing"
done

# Declared functions: the preprocessed headers (no comments), every
# `relay_name(` that is not a function-pointer typedef.
declared=$(cc -E -P -I "$SRC/include" "$SRC/include/relay/relay.h" |
  grep -oE '\brelay_[a-z0-9_]+[[:space:]]*\(' | tr -d ' (' | sort -u)
[ "$(wc -l <<<"$declared")" -gt 100 ] || fail "found only $(wc -l <<<"$declared") declarations: the extraction is broken"

# Named in the NAME sections (the line after .SH NAME, up to " \-").
named=""
for p in "$SRC"/man/*.3; do
  page=$(basename "$p" .3)
  line=$(awk '/^\.SH NAME/ { getline; print; exit }' "$p")
  [ -n "$line" ] || { fail "$page.3 has no NAME line"; continue; }
  named+=$(sed 's/ \\-.*//' <<<"$line" | tr ',' '\n' | tr -d ' ' | grep -vx "$page")$'\n'
done
named=$(grep -v '^$' <<<"$named" | sort)
dups=$(uniq -d <<<"$named")
[ -z "$dups" ] || fail "named on more than one page: $(echo $dups)"
named=$(sort -u <<<"$named")

missing=$(comm -23 <(echo "$declared") <(echo "$named"))
stale=$(comm -13 <(echo "$declared") <(echo "$named"))
[ -z "$missing" ] || fail "declared in include/relay but on no man page: $(echo $missing)"
[ -z "$stale" ] || fail "on a man page but not declared in include/relay: $(echo $stale)"

if [ "$fails" -eq 0 ]; then
  echo "ok: ${#pages[@]} pages render without warnings; $(wc -l <<<"$declared") functions, each on exactly one page"
fi
[ "$fails" -eq 0 ]
