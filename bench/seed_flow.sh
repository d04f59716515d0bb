#!/usr/bin/env bash
# bench/seed_flow.sh: the seed flow under a rising load. sipp places calls
# into relayd at each rate of RATES for STEP_SECONDS; bench/seed_flow (a
# librelay app) answers, plays PLAY s of silence and refers every call; the
# sipp caller (bench/uac_refer_bench.xml) accepts each REFER with 202 and a
# final NOTIFY 200 at once, then the app hangs up. A step passes when every
# call completed in sipp and every transfer succeeded; the run stops at
# the first step that does not. Per step: INVITE -> 200 OK p50/p99 (sipp's
# clock), REFER -> final NOTIFY p50/p99 (the app: calling.refer sent ->
# the refer action's completion), CPU of relayd and of the app over the
# step, their peak RSS (VmHWM).
#
#   bench/seed_flow.sh BUILD_DIR
#
# Environment: RATES ("50 100 200"), STEP_SECONDS (10), PLAY (0.2), KEEP=1.
# Ports: relayd WebSocket 55082, SIP 55064, RTP 55200-55999 (400 calls at
# once at most), sipp 55102/55402.
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
rates=${RATES:-50 100 200}
step=${STEP_SECONDS:-10}
play=${PLAY:-0.2}
out=$(mktemp -d /tmp/relay-seed-bench-XXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap 'cleanup; if [ -n "${KEEP:-}" ]; then echo "logs kept in $out"; else rm -rf "$out"; fi' EXIT

cpu_s_of() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }
hwm_kb_of() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
pct() { # file -> "p50 p99" of answer_us lines
  awk '/^answer_us/ {printf "%d\n", ($4 - $2) * 1000000 + ($5 - $3)}' "$1" | sort -n |
    awk '{v[NR] = $1} END {if (NR == 0) {print "n/a n/a"; exit}
         i50 = int(NR * 0.50); i99 = int(NR * 0.99); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
         print v[i50], v[i99]}'
}

"$build/src/server/relayd" --plain --ws-listen 127.0.0.1:55082 --sip-listen 127.0.0.1:55064 \
  --rtp-ports 55200-55999 --auth bench:bench-token --log-level warn \
  --ready-file "$out/ready" 2>"$out/relayd.log" &
rpid=$!
pids+=("$rpid")
for _ in $(seq 100); do [ -s "$out/ready" ] && break; sleep 0.05; done
"$build/bench/seed_flow" 127.0.0.1 55082 bench bench-token seed "$play" \
  sip:target@127.0.0.1:55071 >"$out/app.out" 2>&1 &
apid=$!
pids+=("$apid")
for _ in $(seq 100); do grep -q '^connected' "$out/app.out" && break; sleep 0.05; done
grep -q '^connected' "$out/app.out" || { echo "seed_flow did not connect"; cat "$out/app.out"; exit 1; }

echo "seed_flow: $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); rates $rates calls/s, $step s each, play $play s"
echo "| rate | calls | sipp ok/failed | transfers ok/failed | answer p50/p99 µs | refer p50/p99 µs | relayd CPU | app CPU | relayd peak RSS | app peak RSS | load |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
best=0 best_line=
for rate in $rates; do
  echo "seed: $rate calls/s for $step s..." >&2
  calls=$((rate * step))
  r0=$(cpu_s_of "$rpid") a0=$(cpu_s_of "$apid")
  src=0
  (cd "$out" && sipp 127.0.0.1:55064 -sf "$here/bench/uac_refer_bench.xml" -s seed \
    -i 127.0.0.1 -mi 127.0.0.1 -p 55102 -mp 55402 -m "$calls" -r "$rate" -l 2000 -nostdin \
    -timeout $((step + 60)) -timeout_error -trace_logs -log_file "sipp-$rate.log" \
    -trace_stat -stf "stat-$rate.csv" >/dev/null 2>"sipp-$rate.err") || src=$?
  sleep 0.5 # the last hangups' answers
  r1=$(cpu_s_of "$rpid") a1=$(cpu_s_of "$apid")
  before=$(grep -c '^step' "$out/app.out" || true)
  kill -USR2 "$apid"
  for _ in $(seq 100); do [ "$(grep -c '^step' "$out/app.out" || true)" -gt "$before" ] && break; sleep 0.02; done
  line=$(grep '^step' "$out/app.out" | tail -1)
  field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$line"; }
  ok_calls=$(tail -1 "$out/stat-$rate.csv" 2>/dev/null | awk -F';' '{print $16}' || echo 0)
  fail_calls=$(tail -1 "$out/stat-$rate.csv" 2>/dev/null | awk -F';' '{print $18}' || echo 0)
  lat=$(pct "$out/sipp-$rate.log")
  rcpu=$(awk -v a="$r0" -v b="$r1" 'BEGIN {printf "%.2f", b - a}')
  acpu=$(awk -v a="$a0" -v b="$a1" 'BEGIN {printf "%.2f", b - a}')
  printf '| %d | %d | %s/%s | %s/%s | %s / %s | %s / %s | %s s | %s s | %s KB | %s KB | %s |\n' \
    "$rate" "$calls" "${ok_calls:-?}" "${fail_calls:-?}" "$(field refer_ok)" "$(field refer_failed)" \
    "${lat% *}" "${lat#* }" "$(field refer_p50_us)" "$(field refer_p99_us)" "$rcpu" "$acpu" \
    "$(hwm_kb_of "$rpid")" "$(hwm_kb_of "$apid")" "$(cut -d' ' -f1-3 /proc/loadavg)"
  if [ "$src" = 0 ] && [ "$(field refer_ok)" = "$calls" ] && [ "$(field refer_failed)" = 0 ] &&
    [ "$(field failed)" = 0 ]; then
    best=$rate
    best_line="seed answer_p50_us ${lat% *}
seed answer_p99_us ${lat#* }
seed refer_p50_us $(field refer_p50_us)
seed refer_p99_us $(field refer_p99_us)
seed relayd_cpu_s $rcpu
seed app_cpu_s $acpu"
  else
    echo "seed: $rate calls/s failed (sipp rc $src); stopping" >&2
    tail -3 "$out/sipp-$rate.err" | sed 's/^/    sipp: /' >&2
    break
  fi
done
echo "seed max_rate $best"
echo "seed step_seconds $step"
[ -n "$best_line" ] && echo "$best_line"
echo "seed relayd_peak_kb $(hwm_kb_of "$rpid")"
echo "seed app_peak_kb $(hwm_kb_of "$apid")"
