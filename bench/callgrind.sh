#!/usr/bin/env bash
# Instructions per request and per event on librelay's hot paths, counted
# by callgrind (repeatable on a busy machine, unlike timings).
#
#   bench/callgrind.sh BUILD_DIR
#
# Each path is run twice with different counts and the difference is
# divided by the difference in count, so that start-up (the TLS context,
# the CA store, connecting) drops out:
#   rpc:    bench/rpc_latency, blocking signalwire.ping against relayd (ws://,
#           relayd itself not under valgrind), 1 thread;
#   events: bench/event_dispatch, calling.call.play events from the fake
#           server, received, acknowledged and delivered to a handler.
# rpc counts the whole client process (the caller's thread builds the
# request); events count librelay's threads only, not the fake's nor the
# sender's.
# KEEP=1 keeps the callgrind files (callgrind_annotate them for the hot
# functions). Ports: 55000-55999.
set -euo pipefail
build=${1:-build}
out=$(mktemp -d /tmp/relay-callgrind-XXXX)
rpid=
trap '[ -n "$rpid" ] && kill "$rpid" 2>/dev/null; wait 2>/dev/null; if [ -n "${KEEP:-}" ]; then echo "callgrind files in $out"; else rm -rf "$out"; fi' EXIT

irefs() { # file
  awk '/^summary:/ {print $2}' "$1"
}
count() { # name args...
  local name=$1
  shift
  valgrind --tool=callgrind --callgrind-out-file="$out/$name.cg" "$@" >"$out/$name.out" 2>&1
  irefs "$out/$name.cg"
}
# The same, but only librelay's threads: one file per thread, leaving out
# the main thread (thread 1, which queues the fake's frames) and the fake
# server's thread (the one that ran fake_main).
count_client_threads() { # name args...
  local name=$1 sum=0 f
  shift
  valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$out/$name.cg" "$@" \
    >"$out/$name.out" 2>&1
  for f in "$out/$name.cg"-*; do
    case "$f" in *-01) continue ;; esac
    grep -q 'fake_main' "$f" && continue
    sum=$((sum + $(irefs "$f")))
  done
  echo "$sum"
}

"$build/src/server/relayd" --plain --ws-listen 127.0.0.1:55090 --sip-listen 127.0.0.1:55061 \
  --rtp-ports 55200-55299 --auth bench:bench-token --log-level warn \
  --ready-file "$out/ready" 2>"$out/relayd.log" &
rpid=$!
for _ in $(seq 100); do [ -s "$out/ready" ] && break; sleep 0.05; done

# rpc_latency N runs 200 warm-up + N sequential + N "1 thread" requests.
small=500 large=1500
a=$(count rpc-small "$build/bench/rpc_latency" 127.0.0.1 55090 bench bench-token - $small 1 0)
b=$(count rpc-large "$build/bench/rpc_latency" 127.0.0.1 55090 bench bench-token - $large 1 0)
rpc=$(( (b - a) / (2 * (large - small)) ))
kill "$rpid"; wait "$rpid" 2>/dev/null || true; rpid=

esmall=5000 elarge=15000
a=$(count_client_threads ev-small "$build/bench/event_dispatch" $esmall 100)
b=$(count_client_threads ev-large "$build/bench/event_dispatch" $elarge 100)
ev=$(( (b - a) / (elarge - esmall) ))
echo "callgrind rpc_instructions_per_request $rpc"
echo "callgrind event_instructions_per_event $ev"
