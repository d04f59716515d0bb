#!/usr/bin/env bash
# The refer demo (`make demo`): one real SIP call transferred with a real
# SIP REFER, driven by examples/refer.c through librelay and relayd.
#
#   scripts/demo.sh BUILD_DIR
#
#   baresip (the caller) ──INVITE──► relayd ◄══ wss (TLS) ══ examples/refer
#        ▲                              │  answers, plays a prompt, then
#        │◄─────────── REFER ───────────┘  calling.refer → SIP REFER
#        └──── INVITE ────► sipp (the transfer target, sip:support@...)
#
# Everything binds 127.0.0.1, everything started here is stopped by PID on
# exit, and the run takes ~15 s. Prints: the RELAY frames, the SIP ladder,
# the calling.call.refer events, the status_url webhooks and the result.
# Exit status 0 only when the transfer succeeded (final NOTIFY 200) and the
# target really received the new INVITE. All files stay in demo-out/.
set -uo pipefail

BUILD=${1:-build}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
OUT=$ROOT/demo-out
SIPDIR=$ROOT/tests/e2e/sip

RELAYD=$BUILD/src/server/relayd
EXAMPLE=$BUILD/examples/refer

# Loopback ports of the demo (the e2e tests use 25000-25199 / 26000-26099).
SIP_RELAYD=25900 SIP_TARGET=25901 SIP_CALLER=25902 CTRL_PORT=25905
WS_PORT=26900 WH_PORT=26901
RTP_RELAYD=41900-41939 RTP_CALLER_MIN=41940 RTP_CALLER_MAX=41959 RTP_TARGET=41960

if [ -t 1 ]; then B=$'\e[1m' D=$'\e[2m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'; else B= D= G= R= N=; fi
T0=${EPOCHREALTIME/./}
say() {
  local ms=$(((${EPOCHREALTIME/./} - T0) / 1000))
  printf '%s[%2d.%01ds]%s %s\n' "$D" $((ms / 1000)) $((ms % 1000 / 100)) "$N" "$*"
}
section() { printf '\n%s━━ %s %s%s\n' "$B" "$1" "$(printf '━%.0s' $(seq 1 $((66 - ${#1}))))" "$N"; }
die() { printf '%sdemo: %s%s\n' "$R" "$*" "$N" >&2; exit 1; }

# ------------------------------------------------------------ processes
PIDS=() NAMES=()
start_bg() { # NAME LOGFILE CMD...
  local name=$1 logf=$2
  shift 2
  "$@" >"$logf" 2>&1 &
  PIDS+=($!) NAMES+=("$name")
  eval "PID_$name=$!"
}
alive() { kill -0 "$1" 2>/dev/null; }
stop_all() {
  local i j pid
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PIDS[$i]}
    if alive "$pid"; then
      kill -TERM "$pid" 2>/dev/null
      for ((j = 0; j < 60 && $(alive "$pid" && echo 1 || echo 0); j++)); do sleep 0.05; done
      alive "$pid" && kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
  done
  PIDS=() NAMES=()
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# The whole story must end well under a minute: no wait goes past this.
DEMO_DEADLINE=$((T0 + 50 * 1000000))
wait_until() { # SECS CMD...: polls CMD every 50 ms until it succeeds or SECS pass
  local deadline=$((${EPOCHREALTIME/./} + $1 * 1000000))
  [ "$deadline" -le "$DEMO_DEADLINE" ] || deadline=$DEMO_DEADLINE
  shift
  while :; do
    "$@" && return 0
    [ "${EPOCHREALTIME/./}" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}
tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ------------------------------------------------------------ preflight
[ -x "$RELAYD" ] || die "$RELAYD not built (run: make build)"
[ -x "$EXAMPLE" ] || die "$EXAMPLE not built (run: make build)"
for t in sipp baresip sox jq openssl; do
  command -v "$t" >/dev/null || die "$t not found (run: scripts/deps.sh)"
done
for p in $SIP_RELAYD $SIP_TARGET $SIP_CALLER $CTRL_PORT $WS_PORT $WH_PORT; do
  tcp_open "$p" && die "port $p on 127.0.0.1 is already in use"
done

rm -rf "$OUT"
mkdir -p "$OUT"

# The webhook receiver: the one the tests build, or compiled here (a
# RelWithDebInfo `make build` has no tests).
SINK=$BUILD/tests/tools/webhook_sink
if [ ! -x "$SINK" ]; then
  SINK=$OUT/webhook_sink
  cc -O2 -Wall -o "$SINK" "$ROOT/tests/tools/webhook_sink.c" || die "cannot build webhook_sink"
fi

PROJECT=demo-project
TOKEN=$(openssl rand -hex 16)
# Every log and screen output goes through this, whatever the program does.
scrub() { sed -e "s/$TOKEN/***/g" -e "s/$PROJECT/***/g"; }

echo "${B}relay-c refer demo${N}: caller ${B}baresip${N} → ${B}relayd${N} ← ${B}examples/refer${N} (librelay, wss); transfer target ${B}sipp${N}"

# ------------------------------------------------------------ certificates
"$ROOT/scripts/gen-certs.sh" "$OUT/certs" >"$OUT/gen-certs.log" 2>&1 || die "gen-certs.sh failed: $(cat "$OUT/gen-certs.log")"
say "TLS: local CA + server certificate for 127.0.0.1 in demo-out/certs"

# ------------------------------------------------------------ relayd
start_bg relayd "$OUT/relayd.log" "$RELAYD" --ws-listen "127.0.0.1:$WS_PORT" \
  --tls-cert "$OUT/certs/server.pem" --tls-key "$OUT/certs/server.key" \
  --sip-listen "127.0.0.1:$SIP_RELAYD" --media-ip 127.0.0.1 --rtp-ports "$RTP_RELAYD" \
  --auth "$PROJECT:$TOKEN" --refer-timeout-ms 10000 --log-level debug --ready-file "$OUT/relayd.ready"
wait_until 10 test -s "$OUT/relayd.ready" || { tail -20 "$OUT/relayd.log" | scrub >&2; die "relayd did not start"; }
say "relayd listening: wss://127.0.0.1:$WS_PORT, SIP udp 127.0.0.1:$SIP_RELAYD (pid $PID_relayd)"

# ------------------------------------------------------------ webhook sink
start_bg webhook_sink "$OUT/webhook_sink.log" "$SINK" "$WH_PORT" "$OUT/webhooks.jsonl"
wait_until 5 tcp_open "$WH_PORT" || die "webhook_sink did not start"
say "status_url receiver: http://127.0.0.1:$WH_PORT/refer (pid $PID_webhook_sink)"

# ------------------------------------------------------------ transfer target
start_bg target "$OUT/target.out" sipp -sf "$SIPDIR/uas_target_ok.xml" -i 127.0.0.1 -mi 127.0.0.1 \
  -p "$SIP_TARGET" -mp "$RTP_TARGET" -m 1 -nostdin -timeout 40 \
  -trace_msg -message_file "$OUT/target.msg" -trace_err -error_file "$OUT/target.err"
say "transfer target: sipp UAS sip:support@127.0.0.1:$SIP_TARGET (pid $PID_target)"

# ------------------------------------------------------------ the example
export SIGNALWIRE_SPACE=127.0.0.1:$WS_PORT SIGNALWIRE_PROJECT_ID=$PROJECT SIGNALWIRE_API_TOKEN=$TOKEN
export SIGNALWIRE_RELAY_CA_FILE=$OUT/certs/ca.pem SIGNALWIRE_CONTEXTS=office
export REFER_TO=sip:support@127.0.0.1:$SIP_TARGET REFER_STATUS_URL=http://127.0.0.1:$WH_PORT/refer
export RELAY_LOG_LEVEL=debug
start_bg example "$OUT/example.log" "$EXAMPLE"
unset SIGNALWIRE_API_TOKEN SIGNALWIRE_PROJECT_ID
# connected and subscribed: relayd answered signalwire.connect
connected() { grep -qE '^connected to|"protocol":"' "$OUT/example.log" 2>/dev/null || ! alive "$PID_example"; }
wait_until 10 connected
alive "$PID_example" || { scrub <"$OUT/example.log" | tail -20 >&2; die "examples/refer exited early"; }
say "examples/refer connected over wss with the local CA, context 'office' (pid $PID_example)"

# ------------------------------------------------------------ the caller
"$SIPDIR/gen-baresip.sh" "$OUT/baresip" "$SIP_CALLER" "$CTRL_PORT" "$RTP_CALLER_MIN" "$RTP_CALLER_MAX" 40 ||
  die "cannot configure baresip"
# -s: SIP trace on stdout, the caller's view of the whole ladder
start_bg baresip "$OUT/baresip.log" baresip -s -f "$OUT/baresip" -t 45
wait_until 10 tcp_open "$CTRL_PORT" || die "baresip did not start"
exec {CTRL}<>"/dev/tcp/127.0.0.1/$CTRL_PORT" || die "cannot reach baresip's ctrl_tcp"
cmd='{"command":"dial","params":"sip:office@127.0.0.1:'$SIP_RELAYD'","token":"demo"}'
printf '%d:%s,' "${#cmd}" "$cmd" >&"$CTRL"
start_bg ctrl_reader "$OUT/ctrl_reader.log" bash -c 'cat <&'"$CTRL"' >"$1"' _ "$OUT/baresip_ctrl.log"
exec {CTRL}>&-
say "baresip (sip:caller@127.0.0.1:$SIP_CALLER) dials sip:office@127.0.0.1:$SIP_RELAYD"

# ------------------------------------------------------------ wait for the story
# Every RELAY frame, from the client's debug log (scrubbed by librelay), else
# from relayd's: one JSON object per line, prefixed "> " (client → relayd)
# or "< " (relayd → client).
frames() {
  if grep -qE '(send|recv): \{' "$OUT/example.log"; then
    sed -nE 's/.*(send|recv): (\{.*)$/\1 \2/p' "$OUT/example.log" | sed -e 's/^send /> /' -e 's/^recv /< /'
  else
    sed -nE 's/.*(send|recv) conn=[0-9]+: (\{.*)$/\1 \2/p' "$OUT/relayd.log" | sed -e 's/^send /< /' -e 's/^recv /> /'
  fi
}
refer_events() { # the params of each calling.call.refer event, compact
  frames | sed 's/^[<>] //' | jq -c 'select(.method=="signalwire.event" and .params.event_type=="calling.call.refer") | .params.params' 2>/dev/null
}
final_refer() {
  refer_events | grep -E '"state":"(success|completed|finished|busy|noAnswer|cancel|error)"' | tail -1
}
FINAL_RE='"event_type":"calling.call.refer".*"state":"(success|completed|finished|busy|noAnswer|cancel|error)"'
# done: a final refer event, the example's outcome line, the call over
# without one, or the example gone
have_final() {
  grep -qE "$FINAL_RE|\"call_state\":\"ended\"" "$OUT/example.log" "$OUT/relayd.log" 2>/dev/null ||
    grep -q '^refer outcome:' "$OUT/example.log" || ! alive "$PID_example"
}
wait_until 30 have_final
FINAL=$(final_refer)
if [ -n "$FINAL" ]; then
  say "final calling.call.refer event received: $(jq -r '.state' <<<"$FINAL")"
else
  say "${R}no final calling.call.refer event in time${N}"
fi
# let the call finish: relayd's BYE to the caller, the target's own hangup
call_over() { ! alive "$PID_target"; }
wait_until 6 call_over
sleep 0.3
stop_all
say "all processes stopped"

# ------------------------------------------------------------ RELAY frames
section "RELAY frames (client ⇄ relayd, JSON-RPC over wss; credentials scrubbed)"
frames | scrub >"$OUT/relay-frames.log"
acks=0
while IFS= read -r line; do
  dir=${line:0:1} json=${line:2}
  arrow=$([ "$dir" = ">" ] && echo "client → relayd" || echo "client ← relayd")
  text=$(jq -r '
    def short: tojson | if length > 150 then .[0:150] + "…" else . end;
    if .method == "signalwire.event" then
      "event  \(.params.event_type)  \(.params.params | del(.node_id, .project_id, .segment_id, .device, .call_id) | short)"
    elif .method then "\(.method)  \(.params | del(.node_id, .call_id) | short)"
    elif has("result") then (if .result == {} then "ACK" else "result \(.result | short)" end)
    elif .error then "error  \(.error | short)"
    else short end' <<<"$json" 2>/dev/null) || text=$json
  if [ "$text" = ACK ]; then acks=$((acks + 1)); continue; fi
  printf '  %s  %s\n' "$arrow" "$text"
done <"$OUT/relay-frames.log"
[ -s "$OUT/relay-frames.log" ] || echo "  (no frames found: is RELAY_LOG_LEVEL=debug honoured by the example?)"
echo "  ${D}($acks empty results — event acks and pongs — not shown; every frame: demo-out/relay-frames.log)${N}"

# ------------------------------------------------------------ SIP ladder
section "SIP ladder (as the caller saw it; baresip -s trace)"
# baresip -s prints "UDP SRC -> DST" and the message for each one it sends
# or receives: with the addresses that is the whole ladder of the transfer.
awk -v caller="127.0.0.1:$SIP_CALLER" -v relayd="127.0.0.1:$SIP_RELAYD" -v target="127.0.0.1:$SIP_TARGET" '
  function col(a) { return a == caller ? 0 : a == relayd ? 1 : a == target ? 2 : -1 }
  function flush() {
    if (start != "") print col(src) "\t" col(dst) "\t" start "\t" note
    start = ""; note = ""
  }
  { sub(/\r$/, "") }
  /^(UDP|TCP) [0-9.]+:[0-9]+ -> [0-9.]+:[0-9]+$/ { flush(); src = $2; dst = $4; want = 1; inbody = 0; next }
  want && NF { want = 0
    if ($1 == "SIP/2.0") { start = $2; for (i = 3; i <= NF; i++) start = start " " $i }
    else start = $1
    next }
  start != "" && !inbody && /^Refer-To:/ { note = $0 }
  start != "" && !inbody && /^$/ { inbody = 1; next }
  start != "" && inbody && note == "" && /^SIP\/2.0 [0-9]+/ { note = "sipfrag: " $0 }
  END { flush() }
' "$OUT/baresip.log" | uniq >"$OUT/sip-ladder.tsv"
render_ladder() {
  awk -F'\t' -v W=26 -v c0="caller (baresip)" -v c1="relayd" -v c2="target (sipp)" \
      -v a0="127.0.0.1:$SIP_CALLER" -v a1="127.0.0.1:$SIP_RELAYD" -v a2="127.0.0.1:$SIP_TARGET" '
    BEGIN {
      printf "  %-" W "s%-" W "s%s\n", c0, c1, c2
      printf "  %-" W "s%-" W "s%s\n", a0, a1, a2
    }
    $1 >= 0 && $2 >= 0 {
      n = 2 * W + 1
      for (i = 0; i < n; i++) c[i] = " "
      c[0] = "|"; c[W] = "|"; c[2 * W] = "|"
      lo = ($1 < $2 ? $1 : $2) * W; hi = ($1 < $2 ? $2 : $1) * W
      for (i = lo + 1; i < hi; i++) c[i] = "-"
      if ($1 < $2) c[hi - 1] = ">"; else c[lo + 1] = "<"
      t = " " $3 " "
      span = hi - lo - 4
      if (length(t) > span) t = substr(t, 1, span - 3) ".. "
      s0 = lo + 1 + int((hi - lo - 1 - length(t)) / 2)
      for (i = 0; i < length(t); i++) c[s0 + i] = substr(t, i + 1, 1)
      line = ""
      for (i = 0; i < n; i++) line = line c[i]
      if ($4 != "") line = line "   " $4
      print "  " line
    }' "$OUT/sip-ladder.tsv"
}
if [ -s "$OUT/sip-ladder.tsv" ]; then
  render_ladder | tee "$OUT/sip-ladder.txt"
else
  echo "  (no SIP trace from baresip)"
fi
if grep -qiE 'SIP (sent|recv|<-|->)|sip: (sent|recv)' "$OUT/relayd.log"; then
  echo "  ${D}relayd's own SIP log (its side of the call with the caller):${N}"
  grep -iE 'SIP (sent|recv|<-|->)|sip: (sent|recv)' "$OUT/relayd.log" | scrub | sed 's/^/    /' | head -40
fi

# ------------------------------------------------------------ refer events
section "calling.call.refer events (received by examples/refer)"
EVENTS=$(refer_events)
if [ -n "$EVENTS" ]; then
  jq -r '"  state=\(.state)  sip_refer_to=\(.sip_refer_to // "-")  sip_refer_response_code=\(.sip_refer_response_code // "-")  sip_notify_response_code=\(.sip_notify_response_code // "-")"' <<<"$EVENTS"
else
  echo "  (none)"
fi
if grep -qE '^(refer event|refer result|refer outcome):' "$OUT/example.log"; then
  echo "  ${D}as examples/refer printed them:${N}"
  grep -E '^(call|refer event|refer result|refer outcome):' "$OUT/example.log" | scrub | sed 's/^/    /'
fi

# ------------------------------------------------------------ webhooks
section "status_url webhooks received (http://127.0.0.1:$WH_PORT/refer)"
if [ -s "$OUT/webhooks.jsonl" ]; then
  while IFS= read -r body; do
    jq -r '"  POST  \(.event_type // "?")  state=\(.params.state // "-")  sip_notify_response_code=\(.params.sip_notify_response_code // "-")"' <<<"$body" 2>/dev/null ||
      printf '  POST  %s\n' "$body"
  done < <(scrub <"$OUT/webhooks.jsonl")
else
  echo "  (none)"
fi

# ------------------------------------------------------------ result
section "Result"
ok=1
state=$(jq -r '.state // empty' <<<"${FINAL:-{\}}" 2>/dev/null)
notify=$(jq -r '.sip_notify_response_code // empty' <<<"${FINAL:-{\}}" 2>/dev/null)
if [ -n "$FINAL" ]; then
  echo "  final calling.call.refer: $(scrub <<<"$FINAL")"
fi
case $state in success | completed | finished) ;; *) ok=0 ;; esac
[ "$notify" = 200 ] || ok=0
if grep -q "^INVITE sip:support@127.0.0.1:$SIP_TARGET SIP/2.0" "$OUT/target.msg" 2>/dev/null; then
  echo "  the transfer target received the new INVITE:"
  awk '/^INVITE sip:/{p=1} p&&/^(INVITE |From:|To:|Call-ID:|Referred-By:)/{print "    " $0} p&&/^\r?$/{exit}' "$OUT/target.msg" | tr -d '\r'
  tl=$(awk '/^(UDP|TCP) message (sent|received)/{d=($3=="sent")?"sent":"recv"; l=""; while (l ~ /^[ \t\r]*$/ && (getline l) > 0) {} split(l,f," "); print d " " (f[1]=="SIP/2.0" ? f[2] : f[1])}' "$OUT/target.msg" | uniq | paste -sd',' | sed 's/,/, /g')
  echo "  target's SIP messages: $tl"
else
  echo "  ${R}the transfer target received no INVITE${N}"
  ok=0
fi
heard=$(ls "$OUT"/baresip/snd/*-dec.wav 2>/dev/null | sort | head -1)
if [ -n "$heard" ]; then
  dur=$(soxi -D "$heard" 2>/dev/null) rms=$(sox "$heard" -n stat 2>&1 | awk '/^RMS +amplitude/ {print $3}')
  echo "  before the transfer the caller heard ${dur:-0} s of relayd's TTS prompt over RTP (RMS ${rms:-0}): demo-out/baresip/snd/$(basename "$heard")"
fi
if [ "$ok" = 1 ]; then
  echo "  ${G}${B}SUCCESS${N}: transferred with a SIP REFER; state $state, sip_notify_response_code \"$notify\""
else
  echo "  ${R}${B}FAILED${N}: state '${state:-none}', sip_notify_response_code '${notify:-none}' (logs in demo-out/)"
fi
ms=$(((${EPOCHREALTIME/./} - T0) / 1000))
echo "  ${D}(demo took $((ms / 1000)).$((ms % 1000 / 100)) s; logs and traces in demo-out/)${N}"
[ "$ok" = 1 ]
