#!/usr/bin/env bash
# bench/media_threads: N concurrent calls, each answered and played into for
# PLAY seconds, against a relayd started here (loopback, ws://). For each N:
# relayd's peak thread count while the calls play (/proc/PID/status), its CPU
# time, the share of RTP packets sent more than 20 ms after their
# deadline (relayd's own counters, logged at exit as "media: ..."), and the
# memory per active call of relayd and of the client: VmRSS while every
# call plays less VmRSS before the first, over N (thread stacks apart: the
# thread count does not depend on N, see the threads columns).
#
#   bench/media_threads.sh BUILD_DIR [N ...]        (default N: 1 50 200)
#
# RECORD=1: each call is also recorded (both directions, two channels, WAV,
# until the call ends) while the caller streams a looped 440 Hz u-law file
# (bench/uac_hold_stream.xml.in); the row then says how many recordings were
# written and their total size, and relayd's CPU covers playing and
# recording.
#
# Environment: RELAYD (default BUILD_DIR/src/server/relayd), MEDIA_THREADS
# (passed as --media-threads when set; leave empty for a relayd without the
# option), PLAY (seconds, default 10), RATE (calls/s, default 50), KEEP=1
# keeps the logs (relayd, client, sipp) in the directory printed at the end.
# Ports: WebSocket 55081, SIP 55062, sipp 55101/55401, RTP RTP_PORTS
# (default 55200-55999: 400 even ports, so at most 400 calls; N=1000 needs
# a range of 2000 ports, e.g. RTP_PORTS=42000-43999 where that is free).
set -euo pipefail
build=${1:-build}
shift || true
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1 50 200)
here=$(cd "$(dirname "$0")/.." && pwd)
relayd=${RELAYD:-$build/src/server/relayd}
client=$build/bench/media_threads
play=${PLAY:-10}
rate=${RATE:-50}
rtp_ports=${RTP_PORTS:-55200-55999}
out=$(mktemp -d /tmp/relay-media-bench-XXXX)
pids=()
scenario=$here/bench/uac_hold.xml
client_args=()
if [ -n "${RECORD:-}" ] && [ "$RECORD" != 0 ]; then
  # 2 s of 440 Hz as raw u-law; sipp loops it for the whole call.
  sox -n -r 8000 -c 1 -e u-law -t raw "$out/tone.ul" synth 2 sine 440 vol 0.5
  sed "s|@AUDIO@|$out/tone.ul|" "$here/bench/uac_hold_stream.xml.in" >"$out/uac_hold_stream.xml"
  scenario=$out/uac_hold_stream.xml
  client_args=(record)
fi

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap 'cleanup; if [ -n "${KEEP:-}" ]; then echo "logs kept in $out"; else rm -rf "$out"; fi' EXIT

threads_of() { awk '/^Threads:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
rss_kb_of() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
cpu_ticks_of() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

run_one() {
  local n=$1 log=$out/relayd-$1.log
  rm -f "$out/ready"
  local extra=()
  [ -n "${MEDIA_THREADS:-}" ] && extra=(--media-threads "$MEDIA_THREADS")
  "$relayd" --plain --ws-listen 127.0.0.1:55081 --sip-listen 127.0.0.1:55062 \
    --rtp-ports "$rtp_ports" --auth bench:bench-token --log-level info \
    --recordings-dir "$out/rec-$n" --ready-file "$out/ready" "${extra[@]}" 2>"$log" &
  local rpid=$!
  pids+=("$rpid")
  for _ in $(seq 100); do [ -s "$out/ready" ] && break; sleep 0.05; done
  "$client" 127.0.0.1 55081 bench bench-token "$play" "${client_args[@]}" >"$out/client-$n.out" 2>&1 &
  local cpid=$!
  pids+=("$cpid")
  for _ in $(seq 100); do grep -q connected "$out/client-$n.out" 2>/dev/null && break; sleep 0.05; done
  local idle_threads cpu0 rss0 crss0 rss1=0 crss1=0
  idle_threads=$(threads_of "$rpid")
  rss0=$(rss_kb_of "$rpid")
  crss0=$(rss_kb_of "$cpid")
  cpu0=$(cpu_ticks_of "$rpid")
  # Hold each call 2 s longer than the play, so every play runs to its end.
  local hold_ms=$(( (play + 2) * 1000 ))
  sipp 127.0.0.1:55062 -sf "$scenario" -s bench -i 127.0.0.1 -mi 127.0.0.1 \
    -p 55101 -mp 55401 -m "$n" -l "$n" -r "$rate" -d "$hold_ms" -nostdin -timeout 120 \
    -timeout_error >"$out/sipp-$n.out" 2>"$out/sipp-$n.err" &
  local spid=$!
  pids+=("$spid")
  # Sample while every call should be playing: after the last call was
  # placed (n / rate s) plus a second, until the first plays end.
  local peak=0 samples=0 t=0 from=$(( n * 10 / rate + 15 )) to=$(( play * 10 ))
  while kill -0 "$spid" 2>/dev/null; do
    sleep 0.1
    t=$((t + 1))
    if [ "$t" -ge "$from" ] && [ "$t" -le "$to" ]; then
      local th
      th=$(threads_of "$rpid")
      [ "$th" -gt "$peak" ] && peak=$th
      local r c
      r=$(rss_kb_of "$rpid")
      c=$(rss_kb_of "$cpid")
      [ "$r" -gt "$rss1" ] && rss1=$r
      [ "$c" -gt "$crss1" ] && crss1=$c
      samples=$((samples + 1))
    fi
  done
  local sipp_rc=0
  wait "$spid" || sipp_rc=$?
  local cpu1
  cpu1=$(cpu_ticks_of "$rpid")
  kill -TERM "$cpid" 2>/dev/null || true
  wait "$cpid" 2>/dev/null || true
  kill -TERM "$rpid" 2>/dev/null || true
  local relayd_rc=0
  wait "$rpid" || relayd_rc=$?
  pids=()
  local media
  media=$(grep -o 'media: .*' "$log" | tail -1 || true)
  local sent late share
  sent=$(sed -n 's/.* \([0-9]*\) packets sent.*/\1/p' <<<"$media")
  late=$(sed -n 's/.* \([0-9]*\) late .*/\1/p' <<<"$media")
  if [ -n "$sent" ] && [ "$sent" -gt 0 ]; then
    share=$(awk -v l="$late" -v s="$sent" 'BEGIN {printf "%.4f%%", 100 * l / s}')
  else
    share="n/a"
  fi
  local cpu_s cpu_call
  cpu_s=$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", (b - a) / hz}')
  # CPU per call per second of call: the relayd CPU over the run, over the
  # calls and the seconds each was held.
  cpu_call=$(awk -v c="$cpu_s" -v n="$n" -v h="$hold_ms" 'BEGIN {printf "%.2f ms/s", 1000 * c / n / (h / 1000)}')
  local recs=""
  if [ ${#client_args[@]} -gt 0 ]; then
    recs=$(find "$out/rec-$n" -type f 2>/dev/null | wc -l)
    recs="$recs files, $(du -sk "$out/rec-$n" 2>/dev/null | cut -f1) KiB"
  fi
  local per_call cper_call
  per_call=$(awk -v a="$rss0" -v b="$rss1" -v n="$n" 'BEGIN {printf "%.0f", (b - a) * 1024 / n}')
  cper_call=$(awk -v a="$crss0" -v b="$crss1" -v n="$n" 'BEGIN {printf "%.0f", (b - a) * 1024 / n}')
  printf '| %d | %d | %d (%d samples) | %s | %s of %s | %s s | %s | %s B | %s B | %s | sipp rc %d, relayd rc %d | %s |\n' \
    "$n" "$idle_threads" "$peak" "$samples" "$share" "${late:-?}" "${sent:-?}" "$cpu_s" "$cpu_call" \
    "$per_call" "$cper_call" "${recs:--}" "$sipp_rc" "$relayd_rc" "$(tail -1 "$out/client-$n.out")"
  echo "media $n late_share ${share%\%} threads $peak relayd_rss_per_call_b $per_call client_rss_per_call_b $cper_call cpu_ms_per_call_s ${cpu_call% ms/s} rc $((sipp_rc + relayd_rc))" >>"$out/summary"
  [ -n "$media" ] && echo "    $media"
  if [ "$sipp_rc" != 0 ]; then tail -3 "$out/sipp-$n.err" | sed 's/^/    sipp: /'; fi
  return 0
}

echo "media_threads: $(date -u +%FT%TZ), $(nproc) cores, relayd $relayd, play ${play} s, ${rate} calls/s, media threads ${MEDIA_THREADS:-default}, record ${client_args[*]:-no}"
echo "| N calls | threads idle | threads peak while playing | late share | late of sent | relayd CPU | relayd CPU per call | relayd RSS/call | client RSS/call | recordings | exit | client |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for n in "${counts[@]}"; do
  run_one "$n"
done
cat "$out/summary" 2>/dev/null || true
