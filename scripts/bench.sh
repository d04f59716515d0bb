#!/usr/bin/env bash
# Every benchmark, one command, and one summary table at the end
# (`make bench`, `make bench LONG=1`). Record the figures in bench/RESULTS.md
# with this command, the machine and the load average it prints.
#
#   scripts/bench.sh BUILD_DIR
#
# BENCH_PROFILE=quick (default, a few minutes) or long (LONG=1 too): the
# same workloads with more requests, events, calls and rounds. BENCH=a,b,...
# runs only some of: rpc events peer seed media record bridged plateau callgrind. KEEP=1 keeps
# every log in the directory printed at the end.
#
#   rpc        bench/rpc_latency: librelay -> relayd over wss, sequential,
#              4 threads, and pipelined (256 in flight on one connection)
#   events     bench/event_dispatch: events/s librelay receives, acks and
#              dispatches (in-process fake server), CPU per event
#   peer       bench/peer.sh: librelay against @signalwire/realtime-api,
#              same app, same relayd, same sipp load, interleaved
#   seed       bench/seed_flow.sh: answer, play, refer under a rising rate
#   media      bench/media_threads.sh: N concurrent playing calls: late
#              RTP share, threads, relayd and client memory per call
#   record     bench/media_threads.sh RECORD=1: N concurrent calls each
#              playing and recording while the caller streams audio
#   bridged    bench/bridged_calls.sh: N concurrent calls bridged by relayd
#              (calling.connect), audio lost both ways against loopback
#   plateau    bench/memory_plateau.sh: relayd's and the app's RSS after
#              each batch of seed-flow calls (levels off, or leaks)
#   callgrind  bench/callgrind.sh: instructions per request and per event
#
# Ports: 55000-55999 only (see each script).
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
profile=${BENCH_PROFILE:-quick}
[ -n "${LONG:-}" ] && [ "${LONG}" != 0 ] && profile=long
only=${BENCH:-rpc,events,peer,seed,media,record,bridged,plateau,callgrind}
out=$(mktemp -d /tmp/relay-bench-XXXX)
rpid=
trap '[ -n "$rpid" ] && kill "$rpid" 2>/dev/null; wait 2>/dev/null; if [ -n "${KEEP:-}" ]; then echo "logs kept in $out"; else rm -rf "$out"; fi' EXIT

wants() { [[ ",$only," == *",$1,"* ]]; }
progress() { echo "== $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg): $*" >&2; }

# The RTP range of the port block (55200-55999) has 400 even ports: the long
# profile holds 380 calls at once, leaving room for calls still ending.
if [ "$profile" = long ]; then
  rpc_n=20000 events=1000000 peer_env=(ROUNDS=4 CALLS=3000 RATE=150 N=380 HOLD=10)
  seed_env=(STEP_SECONDS=60 RATES="50 100 150 200 250 300") media_counts=(1 50 200 400) media_play=10
  record_counts=(50 200) plateau_env=(N=1000 R=100 BATCHES=6) bridged_env=(SECONDS_HELD=30)
else
  rpc_n=3000 events=100000 peer_env=(ROUNDS=2 CALLS=600 RATE=100 N=100 HOLD=6)
  seed_env=(STEP_SECONDS=10 RATES="50 100 200") media_counts=(200) media_play=8
  record_counts=(50) plateau_env=(N=500 R=100 BATCHES=4) bridged_env=(SECONDS_HELD=10)
fi

echo "relay-c benchmarks: $(date -u +%FT%TZ), profile $profile, $(nproc) cores," \
  "$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)," \
  "load $(cut -d' ' -f1-3 /proc/loadavg), $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo '?')"

if wants rpc; then
  progress "rpc: $rpc_n requests each way"
  "$here/scripts/gen-certs.sh" "$out/certs" >/dev/null
  "$build/src/server/relayd" --ws-listen 127.0.0.1:55443 --tls-cert "$out/certs/server.pem" \
    --tls-key "$out/certs/server.key" --sip-listen 127.0.0.1:55063 --rtp-ports 55200-55299 \
    --auth bench:bench-token --log-level warn --ready-file "$out/ready" 2>"$out/relayd-rpc.log" &
  rpid=$!
  for _ in $(seq 100); do [ -s "$out/ready" ] && break; sleep 0.05; done
  "$build/bench/rpc_latency" 127.0.0.1 55443 bench bench-token "$out/certs/ca.pem" "$rpc_n" 4 256 |
    tee "$out/rpc.txt"
  kill "$rpid"; wait "$rpid" 2>/dev/null || true; rpid=
fi

if wants events; then
  progress "events: $events events"
  "$build/bench/event_dispatch" "$events" 100 | tee "$out/events.txt"
fi

if wants peer; then
  progress "peer: librelay against @signalwire/realtime-api (${peer_env[*]})"
  env "${peer_env[@]}" "$here/bench/peer.sh" "$build" | tee "$out/peer.txt"
fi

if wants seed; then
  progress "seed flow: answer, play, refer (${seed_env[*]})"
  env "${seed_env[@]}" "$here/bench/seed_flow.sh" "$build" | tee "$out/seed.txt"
fi

if wants media; then
  progress "media: ${media_counts[*]} concurrent playing calls"
  PLAY=$media_play "$here/bench/media_threads.sh" "$build" "${media_counts[@]}" | tee "$out/media.txt"
fi

if wants record; then
  progress "record: ${record_counts[*]} concurrent calls playing and recording"
  RECORD=1 PLAY=$media_play "$here/bench/media_threads.sh" "$build" "${record_counts[@]}" |
    tee "$out/record.txt"
fi

if wants bridged; then
  progress "bridged: 100 concurrent bridged calls (${bridged_env[*]})"
  env "${bridged_env[@]}" "$here/bench/bridged_calls.sh" "$build" 100 | tee "$out/bridged.txt"
fi

if wants plateau; then
  progress "plateau: relayd memory against calls handled (${plateau_env[*]})"
  env "${plateau_env[@]}" "$here/bench/memory_plateau.sh" "$build" | tee "$out/plateau.txt"
fi

if wants callgrind; then
  progress "callgrind: instructions per request and per event"
  "$here/bench/callgrind.sh" "$build" | tee "$out/callgrind.txt"
fi

# ------------------------------------------------------------- summary
get() { # file awk-program
  [ -s "$out/$1" ] && awk "$2" "$out/$1" || true
}
rpc_seq=$(get rpc.txt '/^1 thread, sequential/ {for (i = 1; i <= NF; i++) if ($i ~ /^p(50|99)=/) printf "%s ", $i; print ""}')
rpc_pipe=$(get rpc.txt '/^pipelined/ {for (i = 1; i <= NF; i++) if ($i == "req/s") print $(i - 1)}')
rpc_cpu=$(get rpc.txt '/^pipelined/ {for (i = 1; i <= NF; i++) if ($i ~ /^cpu=/) print substr($i, 5)}')
ev_rate=$(get events.txt '{for (i = 1; i <= NF; i++) if ($i == "events/s;") print $(i - 1)}')
ev_cpu=$(get events.txt '{for (i = 1; i <= NF; i++) if ($i == "us/event") print $(i - 1)}')
ev_core=$(get events.txt '{for (i = 1; i <= NF; i++) if ($i == "events" && $(i + 1) == "per") print $(i - 1)}')
peer() { get peer.txt "\$1 == \"peer\" && \$2 == \"$1\" {print \$3}"; }
seed() { get seed.txt "\$1 == \"seed\" && \$2 == \"$1\" {print \$3}"; }
media_last=$(get media.txt '$1 == "media" {line = $0} END {print line}')
media_field() { awk -v k="$1" '{for (i = 1; i <= NF; i++) if ($i == k) print $(i + 1)}' <<<"$media_last"; }
record_last=$(get record.txt '$1 == "media" {line = $0} END {print line}')
record_field() { awk -v k="$1" '{for (i = 1; i <= NF; i++) if ($i == k) print $(i + 1)}' <<<"$record_last"; }
bridged_last=$(get bridged.txt '$1 == "bridged" {line = $0} END {print line}')
# the plateau table's rows: | calls | relayd KiB | app KiB |
plateau_row() { get plateau.txt "\$2 ~ /^[0-9]+\$/ {n++; if (n == $1 || $1 == 0) line = \$2 \" calls: \" \$4 \" / \" \$6 \" KiB\"} END {print line}"; }
cg() { get callgrind.txt "\$1 == \"callgrind\" && \$2 == \"$1\" {print \$3}"; }

echo
echo "## Summary ($profile profile, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "| workload | figure | librelay / relayd | realtime-api | ratio | target |"
echo "|---|---|---|---|---|---|"
echo "| rpc | sequential round trip over wss | ${rpc_seq:-n/a} | | | p99 < 500 us |"
echo "| rpc | pipelined, 256 in flight | ${rpc_pipe:-n/a} req/s, ${rpc_cpu:-?} us CPU/req | | | > 50000 req/s |"
echo "| events | received, acked, dispatched | ${ev_rate:-n/a} events/s, ${ev_cpu:-?} us CPU/event (${ev_core:-?}/CPU-s) | | | > 100000/s on one core |"
echo "| peer | calls per client CPU-second | $(peer c_calls_per_cpu_s) | $(peer node_calls_per_cpu_s) | $(peer ratio_calls_per_cpu_s)x | >= 20x |"
# V8 returns memory to the system while the calls are held, so Node's RSS
# can fall as calls are added: no per-call figure then (heap is the row below).
node_rss=$(peer node_rss_per_call_b)
rss_ratio=$(peer ratio_rss_per_call)
if [ -n "$node_rss" ] && [ "$node_rss" -le 0 ] 2>/dev/null; then
  node_rss="not measurable ($node_rss)"
  rss_ratio="n/a"
fi
[ -n "$node_rss" ] && [ "${node_rss#not}" = "$node_rss" ] && node_rss="$node_rss B"
echo "| peer | client RSS per concurrent call | $(peer c_rss_per_call_b) B | $node_rss | $rss_ratio | <= 0.1 |"
echo "| peer | client heap per concurrent call | $(peer c_heap_per_call_b) B | $(peer node_heap_per_call_b) B | $(peer ratio_heap_per_call) | < 4 KB (librelay) |"
echo "| peer | INVITE -> 200 OK p50 / p99 | $(peer c_answer_p50_us) / $(peer c_answer_p99_us) us | $(peer node_answer_p50_us) / $(peer node_answer_p99_us) us | | |"
echo "| peer | failures | $(peer failures) | | | 0 |"
echo "| seed | highest rate with zero failed transfers | $(seed max_rate) calls/s for $(seed step_seconds) s | | | >= 200/s for 60 s |"
echo "| seed | INVITE -> answer p50 / p99 at that rate | $(seed answer_p50_us) / $(seed answer_p99_us) us | | | |"
echo "| seed | REFER -> final NOTIFY p50 / p99 (app) | $(seed refer_p50_us) / $(seed refer_p99_us) us | | | |"
echo "| seed | CPU s, peak RSS (relayd / app) | $(seed relayd_cpu_s) s, $(seed relayd_peak_kb) KB / $(seed app_cpu_s) s, $(seed app_peak_kb) KB | | | |"
echo "| media | N concurrent playing calls | N=$(awk '{print $2}' <<<"$media_last"), late share $(media_field late_share)%, relayd threads $(media_field threads) | | | < 0.1 % late at 1000 |"
echo "| media | RSS per active call (relayd / client) | $(media_field relayd_rss_per_call_b) B / $(media_field client_rss_per_call_b) B | | | relayd < 64 KB |"
echo "| record | N concurrent calls playing and recording | N=$(awk '{print $2}' <<<"$record_last"), late share $(record_field late_share)%, relayd threads $(record_field threads), relayd CPU $(record_field cpu_ms_per_call_s) ms per call-second | | | |"
echo "| bridged | 100 concurrent bridged calls: audio lost caller->callee / callee->caller (loopback alone) | $(awk '{print $7 "% / " $8 "% (" $4 "% / " $5 "%), streams heard " $10 "+" $11 ", one-way delay p50 / p99 " $15 " / " $16 " ms"}' <<<"$bridged_last") | | | no loss beyond loopback |"
echo "| plateau | relayd / app VmRSS after the first batch and after the last | $(plateau_row 2) -> $(plateau_row 0) | | | flat after the first batches |"
echo "| callgrind | instructions per request / per event | $(cg rpc_instructions_per_request) / $(cg event_instructions_per_event) | | | |"
