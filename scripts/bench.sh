#!/usr/bin/env bash
# Runs the benchmarks against a relayd started here (loopback, wss) and
# prints the figures. Record them in bench/RESULTS.md with this command.
#
#   scripts/bench.sh BUILD_DIR [N] [THREADS]
#
# BENCH=rpc runs only the RPC round trip, BENCH=media only
# bench/media_threads.sh (1, 50 and 200 concurrent playing calls); the
# default runs both.
set -euo pipefail
build=${1:-build}
n=${2:-5000}
threads=${3:-4}
here=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d /tmp/relay-bench-XXXX)
"$here/scripts/gen-certs.sh" "$out/certs" >/dev/null
"$build/src/server/relayd" --ws-listen 127.0.0.1:27443 --tls-cert "$out/certs/server.pem" \
  --tls-key "$out/certs/server.key" --sip-listen 127.0.0.1:27060 --rtp-ports 42000-42099 \
  --auth bench:bench-token --log-level warn --ready-file "$out/ready" 2>"$out/relayd.log" &
pid=$!
bench=${BENCH:-all}
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$out"' EXIT
for _ in $(seq 100); do [ -s "$out/ready" ] && break; sleep 0.05; done
if [ "$bench" != media ]; then
echo "rpc_latency: signalwire.ping, librelay -> relayd over wss on loopback ($(nproc) cores)"
"$build/bench/rpc_latency" 127.0.0.1 27443 bench bench-token "$out/certs/ca.pem" "$n" "$threads"
fi
kill $pid 2>/dev/null || true
wait $pid 2>/dev/null || true
if [ "$bench" != rpc ]; then
  "$here/bench/media_threads.sh" "$build"
fi
