#!/usr/bin/env bash
# bench/bridged_calls: N concurrent calls bridged by relayd for SECONDS s,
# against a relayd started here (loopback, ws://), and how much of their
# audio was lost on the way, next to what loopback alone loses with the
# same streams in the same run.
#
#   bench/bridged_calls.sh BUILD_DIR [N ...]         (default N: 100)
#
# For each N: first `rtp_peers loopback` (N pairs of sockets streaming at
# each other for SECONDS, both ways: the floor), then the bridged run: sipp
# places N calls into relayd, bench/bridge_calls answers each and connects
# it (calling.connect) to a sipp UAS; bench/rtp_peers owns every caller's
# and callee's RTP port, streams tagged PCMU both ways and counts, per
# stream, the frames that never arrived (see rtp_peers.c: loss by content,
# since relayd re-packetises). relayd's own counters at exit (packets
# received, gaps in what reached it, bridged frames dropped, late sends)
# and its CPU are printed beside.
#
# Environment: SECONDS_HELD (default 30), RATE (calls/s, default 50), KEEP=1
# keeps the logs. Ports (the benchmarks' block 55000-55999): WebSocket
# 55085, relayd SIP 55066, sipp caller 55103 (media 55105), sipp callee
# 55503 (media 55507), caller RTP 55200+, callee RTP 55300+ (so N <= 100
# here), relayd RTP 55400-55999.
set -euo pipefail
build=${1:-build}
shift || true
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(100)
here=$(cd "$(dirname "$0")/.." && pwd)
relayd=${RELAYD:-$build/src/server/relayd}
app=$build/bench/bridge_calls
peers=$build/bench/rtp_peers
held=${SECONDS_HELD:-30}
rate=${RATE:-50}
out=$(mktemp -d /tmp/relay-bridge-bench-XXXX)
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap 'cleanup; if [ -n "${KEEP:-}" ]; then echo "logs kept in $out"; else rm -rf "$out"; fi' EXIT

threads_of() { awk '/^Threads:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
cpu_ticks_of() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
field() { sed -n "s/.* $1 \([0-9.]*\).*/\1/p" <<<"$2"; }
ms() { awk -v u="$1" 'BEGIN {if (u == "") print "?"; else printf "%.1f", u / 1000}'; }

run_one() {
  local n=$1
  [ "$n" -le 100 ] || { echo "N=$n: at most 100 with this port block" >&2; return 1; }
  # The floor: the same streams, our sockets to our sockets.
  local floor
  floor=$("$peers" loopback "$held" 55200 "$n")
  # The bridged run.
  local log=$out/relayd-$n.log ready=$out/ready-$n
  "$relayd" --plain --ws-listen 127.0.0.1:55085 --sip-listen 127.0.0.1:55066 \
    --rtp-ports 55400-55999 --auth bench:bench-token --log-level info \
    --ready-file "$ready" 2>"$log" &
  local rpid=$!
  pids+=("$rpid")
  for _ in $(seq 100); do [ -s "$ready" ] && break; sleep 0.05; done
  local la=$out/caller-$n.log lb=$out/callee-$n.log
  : >"$la"
  : >"$lb"
  { echo SEQUENTIAL; for i in $(seq 0 $((n - 1))); do echo "$((55200 + i))"; done; } >"$out/caller.csv"
  { echo SEQUENTIAL; for i in $(seq 0 $((n - 1))); do echo "$((55300 + i))"; done; } >"$out/callee.csv"
  # Callers stream one second less than they hold the call; callees (whose
  # legs start later) two, so nothing is sent after a BYE.
  "$peers" relayd "$((held - 2))" "$la" 55200 "$lb" 55300 "$n" >"$out/peers-$n.out" 2>&1 &
  local ppid=$!
  pids+=("$ppid")
  for _ in $(seq 100); do grep -q ready "$out/peers-$n.out" 2>/dev/null && break; sleep 0.05; done
  sipp -sf "$here/bench/uas_bridge.xml" -inf "$out/callee.csv" -i 127.0.0.1 -mi 127.0.0.1 \
    -p 55503 -mp 55507 -nostdin -trace_logs -log_file "$lb" >"$out/uas-$n.out" 2>&1 &
  local upid=$!
  pids+=("$upid")
  "$app" 127.0.0.1 55085 bench bench-token "sip:callee@127.0.0.1:55503" >"$out/app-$n.out" 2>&1 &
  local apid=$!
  pids+=("$apid")
  for _ in $(seq 100); do grep -q connected "$out/app-$n.out" 2>/dev/null && break; sleep 0.05; done
  local cpu0 peak=0
  cpu0=$(cpu_ticks_of "$rpid")
  sipp 127.0.0.1:55066 -sf "$here/bench/uac_bridge.xml" -inf "$out/caller.csv" -s bench \
    -i 127.0.0.1 -mi 127.0.0.1 -p 55103 -mp 55105 -m "$n" -l "$n" -r "$rate" \
    -d "$((held * 1000))" -nostdin -timeout "$((held + 60))" -timeout_error \
    -trace_logs -log_file "$la" >"$out/uac-$n.out" 2>"$out/uac-$n.err" &
  local spid=$!
  pids+=("$spid")
  local t=0
  while kill -0 "$spid" 2>/dev/null; do
    sleep 1
    t=$((t + 1))
    local th
    th=$(threads_of "$rpid")
    [ "$th" -gt "$peak" ] && peak=$th
    [ $((t % 10)) -eq 0 ] && echo "  ... N=$n: ${t} s of $((held + n / rate + 2))" >&2
  done
  local sipp_rc=0
  wait "$spid" || sipp_rc=$?
  local cpu1
  cpu1=$(cpu_ticks_of "$rpid")
  wait "$ppid" || true
  kill -TERM "$apid" 2>/dev/null || true
  wait "$apid" 2>/dev/null || true
  kill -TERM "$upid" 2>/dev/null || true
  wait "$upid" 2>/dev/null || true
  kill -TERM "$rpid" 2>/dev/null || true
  local relayd_rc=0
  wait "$rpid" || relayd_rc=$?
  pids=()
  local media cpu_s
  media=$(grep -o 'media: .*' "$log" | tail -1 || true)
  cpu_s=$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", (b - a) / hz}')
  local fa fb ba bb
  fa=$(grep 'a->b' <<<"$floor")
  fb=$(grep 'b->a' <<<"$floor")
  ba=$(grep 'a->b' "$out/peers-$n.out" || echo "a->b none")
  bb=$(grep 'b->a' "$out/peers-$n.out" || echo "b->a none")
  local fd bd
  fd=$(grep delay_us <<<"$floor" || true)
  bd=$(grep delay_us "$out/peers-$n.out" || true)
  printf '| %d | %s s | %s of %s (%s%%) | %s of %s (%s%%) | %s of %s (%s%%) | %s of %s (%s%%) | %s / %s ms | %s / %s ms | %s | %s s, %d threads | sipp rc %d, relayd rc %d | %s |\n' \
    "$n" "$held" \
    "$(field lost "$fa")" "$(field expected "$fa")" "$(field loss "$fa")" \
    "$(field lost "$fb")" "$(field expected "$fb")" "$(field loss "$fb")" \
    "$(field lost "$ba")" "$(field expected "$ba")" "$(field loss "$ba")" \
    "$(field lost "$bb")" "$(field expected "$bb")" "$(field loss "$bb")" \
    "$(ms "$(field p50 "$fd")")" "$(ms "$(field p99 "$fd")")" \
    "$(ms "$(field p50 "$bd")")" "$(ms "$(field p99 "$bd")")" \
    "$(field heard "$ba")+$(field heard "$bb") of $((2 * n))" \
    "$cpu_s" "$peak" "$sipp_rc" "$relayd_rc" "$(tail -1 "$out/app-$n.out")"
  [ -n "$media" ] && echo "    relayd $media"
  echo "bridged $n floor_loss $(field loss "$fa") $(field loss "$fb") relayd_loss $(field loss "$ba") $(field loss "$bb") heard $(field heard "$ba") $(field heard "$bb") rc $((sipp_rc + relayd_rc)) delay_ms $(ms "$(field p50 "$bd")") $(ms "$(field p99 "$bd")")" >>"$out/summary"
  if [ "$sipp_rc" != 0 ]; then tail -3 "$out/uac-$n.err" | sed 's/^/    sipp: /'; fi
  return 0
}

echo "bridged_calls: $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), relayd $relayd, ${held} s held, ${rate} calls/s"
echo "| N calls | held | loopback a→b lost | loopback b→a lost | relayd caller→callee lost | relayd callee→caller lost | delay p50 / p99, loopback | delay p50 / p99, through relayd | streams heard | relayd CPU, threads | exit | app |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for n in "${counts[@]}"; do
  run_one "$n"
done
cat "$out/summary" 2>/dev/null || true
