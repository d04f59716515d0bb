#!/usr/bin/env bash
# bench/memory_plateau.sh: relayd's resident memory against the number of
# calls it has handled. The seed flow (bench/seed_flow: answer, 0.2 s of
# silence, REFER, hang up) runs in BATCHES batches of N calls at R calls/s;
# after each, relayd's and the app's VmRSS. Memory that grows with every
# call handled is a leak; memory that levels off is state held for a time
# (here: sofia-sip keeps each finished SIP transaction for 64*T1 = 32 s,
# RFC 3261's timers for UDP, so the plateau scales with R, not with N).
#
#   bench/memory_plateau.sh BUILD_DIR      (env: N=1000 R=100 BATCHES=6)
# Ports: as bench/seed_flow.sh (relayd 55082/55064, RTP 55200-55999, sipp 55102/55402).
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
n=${N:-1000} rate=${R:-100} batches=${BATCHES:-6}
out=$(mktemp -d /tmp/relay-memplateau-XXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$out"
}
trap cleanup EXIT
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

"$build/src/server/relayd" --plain --ws-listen 127.0.0.1:55082 --sip-listen 127.0.0.1:55064 \
  --rtp-ports 55200-55999 --auth bench:bench-token --log-level warn \
  --ready-file "$out/ready" 2>"$out/relayd.log" &
rpid=$!
pids+=("$rpid")
for _ in $(seq 100); do [ -s "$out/ready" ] && break; sleep 0.05; done
"$build/bench/seed_flow" 127.0.0.1 55082 bench bench-token seed 0.2 \
  sip:target@127.0.0.1:55071 >"$out/app.out" 2>&1 &
apid=$!
pids+=("$apid")
for _ in $(seq 100); do grep -q '^connected' "$out/app.out" && break; sleep 0.05; done

echo "memory_plateau: $(date -u +%FT%TZ), $rate calls/s, $batches x $n calls"
echo "| calls handled | relayd VmRSS KiB | app VmRSS KiB |"
echo "|---|---|---|"
echo "| 0 | $(rss "$rpid") | $(rss "$apid") |"
total=0
for _ in $(seq "$batches"); do
  (cd "$out" && sipp 127.0.0.1:55064 -sf "$here/bench/uac_refer_bench.xml" -s seed \
    -i 127.0.0.1 -mi 127.0.0.1 -p 55102 -mp 55402 -m "$n" -r "$rate" -l 2000 -nostdin \
    -timeout 300 -timeout_error >/dev/null 2>&1) || echo "sipp: exit $? (calls failed)" >&2
  total=$((total + n))
  sleep 2
  echo "| $total | $(rss "$rpid") | $(rss "$apid") |"
done
