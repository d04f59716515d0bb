#!/usr/bin/env bash
# bench/peer.sh: librelay against the official Node.js SDK
# (@signalwire/realtime-api), the same application (answer, play a short
# silence, hang up), the same relayd, the same sipp load, in one run,
# interleaved A B A B so that a load change on the machine hits both.
#
#   bench/peer.sh BUILD_DIR
#
# For each application and round, two phases:
#   throughput: sipp places CALLS calls at RATE/s (each plays PLAY s):
#     client CPU (utime+stime) per call, INVITE -> 200 OK latency p50/p99
#     (microseconds, from the sipp scenario's own clock, bench/uac_wait_bye.xml);
#   memory: N calls held at once (each plays HOLD s): client RSS and heap
#     growth per concurrent call against the idle client, thread count.
# Heap: malloc's bytes in use (mallinfo2) for librelay, V8's heapUsed for
# Node (after a full collection, --expose-gc). CPU: the sum of /proc/PID/task/*/schedstat (ns; utime+stime of every
# thread, at a finer grain than /proc/PID/stat's 10 ms ticks).
#
# Environment: ROUNDS (2), CALLS (600), RATE (100), PLAY (0.2), N (100),
# HOLD (6), KEEP=1 keeps the logs. Ports: 55000-55999 only. Prints a table
# per run and "peer KEY VALUE" summary lines (medians over rounds, ratios).
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=${ROUNDS:-2}
calls=${CALLS:-600}
rate=${RATE:-100}
play=${PLAY:-0.2}
n=${N:-100}
hold=${HOLD:-6}
relayd=$build/src/server/relayd
capp=$build/bench/answer_play_hangup
nodedir=$build/bench-node
out=$(mktemp -d /tmp/relay-peer-bench-XXXX)
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap 'cleanup; if [ -n "${KEEP:-}" ]; then echo "logs kept in $out"; else rm -rf "$out"; fi' EXIT

"$here/bench/node/setup.sh" "$nodedir"

cpu_ns_of() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%d", s}'; }
rss_kb_of() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
threads_of() { awk '/^Threads:/ {print $2}' "/proc/$1/status"; }
# Asks the app for a stats line (SIGUSR2) and prints its heap_used.
heap_of() {
  local pid=$1 log=$2 before
  before=$(grep -c '^stats' "$log" || true)
  kill -USR2 "$pid"
  for _ in $(seq 100); do
    [ "$(grep -c '^stats' "$log" || true)" -gt "$before" ] && break
    sleep 0.02
  done
  grep '^stats' "$log" | tail -1 | sed 's/.*heap_used=\([0-9]*\).*/\1/'
}
# p50 and p99 of the answer_us lines of a sipp log, in microseconds.
latency_of() {
  awk '/^answer_us/ {printf "%d\n", ($4 - $2) * 1000000 + ($5 - $3)}' "$1" | sort -n |
    awk '{v[NR] = $1} END {if (NR == 0) {print "n/a n/a"; exit}
         i50 = int(NR * 0.50); i99 = int(NR * 0.99); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
         print v[i50], v[i99]}'
}

rm -f "$out/ready"
"$relayd" --plain --ws-listen 127.0.0.1:55080 --sip-listen 127.0.0.1:55060 \
  --rtp-ports 55200-55999 --auth bench:bench-token --ping-interval-ms 10000 \
  --log-level warn --ready-file "$out/ready" 2>"$out/relayd.log" &
rpid=$!
pids+=("$rpid")
for _ in $(seq 100); do [ -s "$out/ready" ] && break; sleep 0.05; done
[ -s "$out/ready" ] || { echo "relayd did not start"; cat "$out/relayd.log"; exit 1; }

sipp_calls() { # context count limit rate logfile
  (cd "$out" && sipp 127.0.0.1:55060 -sf "$here/bench/uac_wait_bye.xml" -s "$1" \
    -i 127.0.0.1 -mi 127.0.0.1 -p 55100 -mp 55400 -m "$2" -l "$3" -r "$4" -nostdin \
    -timeout 120 -timeout_error -trace_logs -log_file "$5" >/dev/null 2>"$5.err")
}

run_app() { # app round
  local app=$1 r=$2 ctx="peer-$1-$2" log=$out/$1-$2.out
  if [ "$app" = c ]; then
    "$capp" 127.0.0.1 55080 bench bench-token "$ctx" "$play" "$hold" >"$log" 2>&1 &
  else
    NODE_PATH=$nodedir/node_modules node --expose-gc "$here/bench/node/answer_play_hangup.js" \
      ws://127.0.0.1:55080 bench bench-token "$ctx" "$play" "$hold" >"$log" 2>&1 &
  fi
  local apid=$!
  pids+=("$apid")
  for _ in $(seq 200); do grep -q '^connected' "$log" && break; sleep 0.05; done
  grep -q '^connected' "$log" || { echo "$app did not connect"; cat "$log"; return 1; }

  # throughput
  local cpu0 cpu1 rc=0
  cpu0=$(cpu_ns_of "$apid")
  sipp_calls "$ctx" "$calls" "$calls" "$rate" "$out/t-$app-$r.log" || rc=$?
  sleep 0.3 # the last hangup's answer
  cpu1=$(cpu_ns_of "$apid")
  local ok failed_sipp lat
  ok=$(grep -c '^answer_us' "$out/t-$app-$r.log" || true)
  lat=$(latency_of "$out/t-$app-$r.log")
  local cps
  cps=$(awk -v c="$ok" -v a="$cpu0" -v b="$cpu1" 'BEGIN {printf "%.0f", c / ((b - a) / 1e9)}')
  local us_call
  us_call=$(awk -v c="$ok" -v a="$cpu0" -v b="$cpu1" 'BEGIN {printf "%.0f", (b - a) / 1e3 / c}')

  # memory: N calls at once, in the same (warm) process: the baseline is
  # taken after the throughput phase, so one-time costs (first call, JIT)
  # are in it, as they would be in a long-running application.
  local mctx="$ctx-hold" mlog=$log
  local rss0 heap0 rss1 heap1 th mrc=0
  sleep 5.5 # librelay keeps an ended call 5 s for late events; let them go
  # heap first: for Node it collects garbage, which RSS must not still hold
  heap0=$(heap_of "$apid" "$mlog")
  rss0=$(rss_kb_of "$apid")
  local mrate=$(( n / 2 > 0 ? n / 2 : 1 ))
  sipp_calls "$mctx" "$n" "$n" "$mrate" "$out/m-$app-$r.log" &
  local spid=$!
  sleep "$(awk -v n="$n" -v r="$mrate" 'BEGIN {print n / r + 1.5}')"
  heap1=$(heap_of "$apid" "$mlog")
  rss1=$(rss_kb_of "$apid")
  th=$(threads_of "$apid")
  local live
  live=$(grep -c '^answer_us' "$out/m-$app-$r.log" || true)
  wait "$spid" || mrc=$?
  kill -TERM "$apid"; wait "$apid" 2>/dev/null || true
  local rss_call heap_call
  rss_call=$(awk -v a="$rss0" -v b="$rss1" -v n="$live" 'BEGIN {printf "%.0f", (b - a) * 1024 / n}')
  heap_call=$(awk -v a="$heap0" -v b="$heap1" -v n="$live" 'BEGIN {printf "%.0f", (b - a) / n}')
  local fails
  fails=$(grep '^stats' "$log" | tail -1 | sed 's/.*failed=\([0-9]*\).*/\1/')
  printf '| %s | %d | %s | %d/%d | %s | %s | %s | %s | %d KB | %s | %s | %s | %d/%d | %s |\n' \
    "$app" "$r" "$(cut -d' ' -f1-3 /proc/loadavg)" "$ok" "$calls" "$us_call" "$cps" \
    "${lat% *}" "${lat#* }" "$rss0" "$rss_call" "$heap_call" "$th" "$live" "$n" "$fails"
  echo "$app $r $cps $us_call ${lat% *} ${lat#* } $rss0 $rss_call $heap_call $th $rc $mrc $fails" >>"$out/rows"
}

echo "peer: $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $rounds rounds; throughput $calls calls at $rate/s, play $play s; memory $n calls held, play $hold s"
echo "| app | round | load | answered | CPU µs/call | calls/CPU-s | answer p50 µs | p99 µs | RSS idle | RSS/call B | heap/call B | threads | live at sample | failed |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for r in $(seq "$rounds"); do
  run_app c "$r"
  run_app node "$r"
done
cleanup

# Medians over rounds and the ratios (librelay against realtime-api).
awk '
  function med(arr, k,   i, j, t, n) { n = k; for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (arr[j] < arr[i]) { t = arr[i]; arr[i] = arr[j]; arr[j] = t }
    return (n % 2) ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2 }
  { a = $1; k[a]++; cps[a, k[a]] = $3; us[a, k[a]] = $4; p50[a, k[a]] = $5; p99[a, k[a]] = $6
    rc[a, k[a]] = $8; hc[a, k[a]] = $9; bad += ($11 != 0) + ($12 != 0) + $13 }
  END {
    split("c node", apps, " ")
    for (x = 1; x <= 2; x++) { a = apps[x]
      for (i = 1; i <= k[a]; i++) { t1[i] = cps[a, i]; t2[i] = us[a, i]; t3[i] = p50[a, i]; t4[i] = p99[a, i]; t5[i] = rc[a, i]; t6[i] = hc[a, i] }
      m_cps[a] = med(t1, k[a]); m_p50[a] = med(t3, k[a]); m_p99[a] = med(t4, k[a]); m_rss[a] = med(t5, k[a]); m_heap[a] = med(t6, k[a])
      printf "peer %s_calls_per_cpu_s %.0f\npeer %s_answer_p50_us %.0f\npeer %s_answer_p99_us %.0f\npeer %s_rss_per_call_b %.0f\npeer %s_heap_per_call_b %.0f\n", a, m_cps[a], a, m_p50[a], a, m_p99[a], a, m_rss[a], a, m_heap[a]
    }
    printf "peer ratio_calls_per_cpu_s %.1f\n", m_cps["c"] / m_cps["node"]
    printf "peer ratio_rss_per_call %.3f\n", (m_rss["node"] > 0) ? m_rss["c"] / m_rss["node"] : -1
    printf "peer ratio_heap_per_call %.3f\n", (m_heap["node"] > 0) ? m_heap["c"] / m_heap["node"] : -1
    printf "peer failures %d\n", bad
  }' "$out/rows"
