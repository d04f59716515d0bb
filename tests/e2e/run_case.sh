#!/usr/bin/env bash
# One end-to-end case: relayd + refer_driver (librelay) + real SIP peers.
#
#   run_case.sh CASE
#
# Cases: refer_success refer_rejected target_busy hangup_before_refer
#        hostile_uri refer_success_sipp peers_selftest
#
# Environment (ctest sets it, see tests/CMakeLists.txt RELAY_TEST_ENV):
#   RELAYD, RELAY_SOURCE_DIR, RELAY_BUILD_DIR, REFER_DRIVER, E2E_OUT_DIR
#
# Starts, in order: relayd (ready file), the webhook sink (when the case
# uses a status_url), the sipp transfer target, refer_driver (waits for its
# "connected" line), then the caller (baresip or a sipp UAC). Waits for the
# driver to finish, then asserts the exact RELAY events it printed, the SIP
# messages each sipp saw (-trace_msg) and baresip's call events (ctrl_tcp).
# Every process it started is stopped by PID on exit. Artifacts stay in
# $E2E_OUT_DIR/CASE for post-mortems.
set -uo pipefail

CASE=${1:?usage: run_case.sh CASE}
SRC=${RELAY_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${RELAY_BUILD_DIR:-$SRC/build}
SIPDIR=$SRC/tests/e2e/sip
OUT=${E2E_OUT_DIR:-$BUILD/tests/e2e/out}/$CASE
rm -rf "$OUT"
mkdir -p "$OUT"

T0=${EPOCHREALTIME/./}
log() {
  local ms=$(((${EPOCHREALTIME/./} - T0) / 1000))
  printf '[%3d.%03d] %s\n' $((ms / 1000)) $((ms % 1000)) "$*"
}

FAILS=0
fail() { log "FAIL: $*"; FAILS=$((FAILS + 1)); }
pass() { log "ok: $*"; }
die() { log "ERROR: $*"; exit 1; }

# ------------------------------------------------------------ processes
PIDS=()
NAMES=()
start_bg() { # NAME LOGFILE CMD...   (stdout+stderr to LOGFILE)
  local name=$1 logf=$2
  shift 2
  "$@" >"$logf" 2>&1 &
  PIDS+=($!)
  NAMES+=("$name")
  eval "PID_$name=$!"
}

alive() { kill -0 "$1" 2>/dev/null; }

now_us() { echo "${EPOCHREALTIME/./}"; }
# poll CMD... every 50 ms for up to SECS seconds of wall time
poll() {
  local deadline=$(($(now_us) + $1 * 1000000))
  shift
  while :; do
    "$@" && return 0
    [ "$(now_us)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}

# Waits up to SECS for PID to exit; sets WAIT_RC (124 on timeout).
wait_pid() {
  local pid=$1 secs=$2
  if poll "$secs" eval '! alive '"$pid"; then
    wait "$pid" 2>/dev/null
    WAIT_RC=$?
    return 0
  fi
  WAIT_RC=124
  return 1
}

stop_pid() { # PID NAME: TERM, then KILL after 3 s
  local pid=$1 name=$2 i
  alive "$pid" || { wait "$pid" 2>/dev/null; return 0; }
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 60; i++)); do
    alive "$pid" || break
    sleep 0.05
  done
  if alive "$pid"; then
    log "$name (pid $pid) ignored SIGTERM: SIGKILL"
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
}

cleanup() {
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    stop_pid "${PIDS[$i]}" "${NAMES[$i]}"
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_file() { # FILE SECS [PID]: FILE non-empty; gives up early when PID has exited
  local f=$1 secs=$2 pid=${3:-}
  poll "$secs" eval '[ -s "$f" ] || { [ -n "$pid" ] && ! alive "$pid"; }' && [ -s "$f" ]
}

wait_grep() { # PATTERN FILE SECS [PID]
  local pat=$1 f=$2 secs=$3 pid=${4:-}
  poll "$secs" eval 'grep -q -- "$pat" "$f" 2>/dev/null || { [ -n "$pid" ] && ! alive "$pid"; }' &&
    grep -q -- "$pat" "$f" 2>/dev/null
}

tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_tcp() { poll "$2" tcp_open "$1"; } # PORT SECS

for tool in sipp jq; do
  command -v "$tool" >/dev/null || die "$tool not found: run scripts/deps.sh"
done

# ------------------------------------------------------------ the cases
# Ports: each case i has its own ports inside a "slot" s (0-3), so the cases
# can run in parallel, and so can two builds (make check beside a developer's
# ctest): a slot is claimed with flock for the whole run.
#   SIP  25000+150*s+20*i: relayd +0, target +1, caller +2 (baresip TLS +3),
#        baresip ctrl_tcp +5
#   WS   26000+100*s+10*i: relayd +0, webhook sink +1
#   RTP  41000+196*s+28*i: relayd +0..9, baresip +10..19, sipp target +20,
#        sipp caller +24
PROJECT=e2e-project
TOKEN=e2e-token-$$
CONTEXT=office
CALLER=""          # baresip | sipp:SCENARIO | none
TARGET_SCEN=uas_target_ok.xml
TLS=0
STATUS_URL=0
PLAY=1
RELAYD_NEEDED=1
PCAP=0             # 1: relayd captures SIP and RTP (pcap_file); tshark reads it back
case $CASE in
  refer_success)       IDX=0; CALLER=baresip; TLS=1; STATUS_URL=1 ;;
  refer_rejected)      IDX=1; CALLER=sipp:uac_refer_reject.xml ;;
  target_busy)         IDX=2; CALLER=baresip; TARGET_SCEN=uas_target_busy.xml; STATUS_URL=1 ;;
  hangup_before_refer) IDX=3; CALLER=sipp:uac_hangup_early.xml ;;
  hostile_uri)         IDX=4; CALLER=sipp:uac_no_refer.xml; PLAY=0 ;;
  refer_success_sipp)  IDX=5; CALLER=sipp:uac_refer_accept.xml; PLAY=0 ;;
  peers_selftest)      IDX=6; CALLER=baresip; RELAYD_NEEDED=0 ;;
  refer_pcap)          IDX=7; CALLER=baresip; PCAP=1 ;;
  *) die "unknown case '$CASE'" ;;
esac

SLOT=-1
for s in 0 1 2 3; do
  exec {SLOTFD}>"${TMPDIR:-/tmp}/relay-c-e2e.$CASE.slot$s.lock"
  if flock -n "$SLOTFD"; then
    SLOT=$s
    break
  fi
  exec {SLOTFD}>&-
done
[ "$SLOT" -ge 0 ] || die "every port slot of $CASE is in use by other runs"

SIP_RELAYD=$((25000 + 150 * SLOT + 20 * IDX))
SIP_TARGET=$((SIP_RELAYD + 1))
SIP_CALLER=$((SIP_RELAYD + 2))
CTRL_PORT=$((SIP_RELAYD + 5))
WS_PORT=$((26000 + 100 * SLOT + 10 * IDX))
WH_PORT=$((WS_PORT + 1))
RTP0=$((41000 + 196 * SLOT + 28 * IDX))
TARGET_URI="sip:support@127.0.0.1:$SIP_TARGET"
TARGETS=("$TARGET_URI")
if [ "$CASE" = hostile_uri ]; then
  # Header injection and malformed targets: each must be refused (4xx)
  # before anything reaches SIP. The driver tries them in turn.
  TARGETS=(
    $'sip:support@127.0.0.1:'"$SIP_TARGET"$'\r\nX-Injected: evil'  # CR LF
    $'sip:support@127.0.0.1:'"$SIP_TARGET"$'\nX-Injected: evil'     # bare LF
    $'sip:support@127.0.0.1:'"$SIP_TARGET"$'\rX-Injected: evil'     # bare CR
    "sip:support@127.0.0.1:$SIP_TARGET>;x=<sip:evil@127.0.0.1"       # leaves the <>
    "http://127.0.0.1:$SIP_TARGET/"                                  # not a SIP URI
    "sip:$(printf 'a%.0s' $(seq 1 3000))@127.0.0.1"                  # overlong
  )
fi
log "case $CASE (port slot $SLOT): relayd SIP $SIP_RELAYD, WS $WS_PORT, target $SIP_TARGET, caller $SIP_CALLER, out $OUT"

SIPP_COMMON=(-i 127.0.0.1 -mi 127.0.0.1 -m 1 -nostdin -timeout 40 -timeout_error)

# ------------------------------------------------------------ relayd
if [ "$RELAYD_NEEDED" = 1 ]; then
  [ -n "${RELAYD:-}" ] && [ -x "$RELAYD" ] || die "RELAYD (${RELAYD:-unset}) is not an executable"
  [ -n "${REFER_DRIVER:-}" ] && [ -x "$REFER_DRIVER" ] || die "REFER_DRIVER (${REFER_DRIVER:-unset}) is not an executable"
  WS_ARGS=(--plain)
  DRIVER_TLS=(--plain)
  if [ "$TLS" = 1 ]; then
    CERTS=$BUILD/tests/e2e/certs
    mkdir -p "$CERTS"
    # several cases may run at once: one generator at a time
    flock "$CERTS.lock" "$SRC/scripts/gen-certs.sh" "$CERTS" >"$OUT/gen-certs.log" 2>&1 ||
      die "gen-certs.sh failed: $(cat "$OUT/gen-certs.log")"
    WS_ARGS=(--tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key")
    DRIVER_TLS=(--ca "$CERTS/ca.pem")
  fi
  PCAP_ARGS=()
  if [ "$PCAP" = 1 ]; then
    rm -f "$OUT/relayd.pcap"
    PCAP_ARGS=(--pcap-file "$OUT/relayd.pcap" --pcap-rtp 1)
  fi
  start_bg relayd "$OUT/relayd.log" "$RELAYD" "${PCAP_ARGS[@]}" --ws-listen "127.0.0.1:$WS_PORT" "${WS_ARGS[@]}" \
    --sip-listen "127.0.0.1:$SIP_RELAYD" --media-ip 127.0.0.1 \
    --rtp-ports "$RTP0-$((RTP0 + 9))" --auth "$PROJECT:$TOKEN" \
    --refer-timeout-ms 8000 --webhook-allow 127.0.0.1/32 \
    --log-level debug --ready-file "$OUT/relayd.ready"
  wait_file "$OUT/relayd.ready" 10 "$PID_relayd" || {
    cat "$OUT/relayd.log" >&2
    die "relayd did not become ready within 10 s"
  }
  log "relayd ready (pid $PID_relayd, $([ "$TLS" = 1 ] && echo wss || echo ws))"
fi

# ------------------------------------------------------------ webhook sink
STATUS_ARGS=()
HAVE_SINK=0
if [ "$STATUS_URL" = 1 ]; then
  SINK=$BUILD/tests/tools/webhook_sink
  if [ -x "$SINK" ]; then
    : >"$OUT/webhooks.jsonl"
    start_bg webhook_sink "$OUT/webhook_sink.log" "$SINK" "$WH_PORT" "$OUT/webhooks.jsonl"
    wait_tcp "$WH_PORT" 5 || die "webhook_sink did not listen on $WH_PORT"
    HAVE_SINK=1
  else
    log "note: $SINK not built: the status_url webhooks are not checked"
  fi
  STATUS_ARGS=(--status-url "http://127.0.0.1:$WH_PORT/refer")
fi

# ------------------------------------------------------------ target
start_bg target "$OUT/target.out" sipp -sf "$SIPDIR/$TARGET_SCEN" "${SIPP_COMMON[@]}" \
  -p "$SIP_TARGET" -mp $((RTP0 + 20)) \
  -trace_msg -message_file "$OUT/target.msg" -trace_err -error_file "$OUT/target.err"

# ------------------------------------------------------------ driver
if [ "$RELAYD_NEEDED" = 1 ]; then
  PLAY_ARGS=()
  [ "$PLAY" = 1 ] || PLAY_ARGS=(--no-play)
  TARGET_ARGS=()
  for t in "${TARGETS[@]}"; do TARGET_ARGS+=(--target "$t"); done
  "$REFER_DRIVER" --host 127.0.0.1 --port "$WS_PORT" "${DRIVER_TLS[@]}" \
    --project "$PROJECT" --token "$TOKEN" --context "$CONTEXT" "${TARGET_ARGS[@]}" \
    "${STATUS_ARGS[@]}" "${PLAY_ARGS[@]}" --timeout 30 \
    >"$OUT/driver.jsonl" 2>"$OUT/driver.err" &
  PIDS+=($!)
  NAMES+=(driver)
  PID_driver=$!
  wait_grep '"connected"' "$OUT/driver.jsonl" 10 "$PID_driver" || {
    cat "$OUT/driver.err" >&2
    die "refer_driver did not connect within 10 s"
  }
  log "refer_driver connected (pid $PID_driver)"
else
  start_bg referrer "$OUT/referrer.out" sipp -sf "$SIPDIR/selftest_referrer.xml" "${SIPP_COMMON[@]}" \
    -p "$SIP_RELAYD" -mp $((RTP0 + 24)) -key target_port "$SIP_TARGET" \
    -trace_msg -message_file "$OUT/referrer.msg" -trace_logs -log_file "$OUT/referrer.log"
fi

# ------------------------------------------------------------ caller
DIAL="sip:$CONTEXT@127.0.0.1:$SIP_RELAYD"
case $CALLER in
  baresip)
    command -v baresip >/dev/null || die "baresip not found: run scripts/deps.sh"
    "$SIPDIR/gen-baresip.sh" "$OUT/baresip" "$SIP_CALLER" "$CTRL_PORT" $((RTP0 + 10)) $((RTP0 + 19)) 40 ||
      die "gen-baresip.sh failed"
    start_bg baresip "$OUT/baresip.out" baresip -f "$OUT/baresip" -t 45
    wait_tcp "$CTRL_PORT" 10 || die "baresip ctrl_tcp did not listen on $CTRL_PORT"
    # Dial through ctrl_tcp (netstring-framed JSON) on the connection that
    # then streams every call event, so none is missed.
    exec {CTRL}<>"/dev/tcp/127.0.0.1/$CTRL_PORT" || die "cannot connect to baresip ctrl_tcp"
    cmd="{\"command\":\"dial\",\"params\":\"$DIAL\",\"token\":\"e2e\"}"
    printf '%d:%s,' "${#cmd}" "$cmd" >&"$CTRL"
    start_bg ctrl_reader "$OUT/ctrl_reader.log" bash -c 'cat <&'"$CTRL"' >"$1"' _ "$OUT/baresip_ctrl.log"
    exec {CTRL}>&-
    log "baresip dialled $DIAL"
    ;;
  sipp:*)
    start_bg caller "$OUT/caller.out" sipp "127.0.0.1:$SIP_RELAYD" -sf "$SIPDIR/${CALLER#sipp:}" -s "$CONTEXT" \
      "${SIPP_COMMON[@]}" -p "$SIP_CALLER" -mp $((RTP0 + 24)) \
      -trace_msg -message_file "$OUT/caller.msg" -trace_err -error_file "$OUT/caller.err" \
      -trace_logs -log_file "$OUT/caller.log"
    log "sipp caller ${CALLER#sipp:} started"
    ;;
esac

# ------------------------------------------------------------ wait
if [ "$RELAYD_NEEDED" = 1 ]; then
  wait_pid "$PID_driver" 40
  DRIVER_RC=$WAIT_RC
  log "refer_driver exited with $DRIVER_RC"
  [ "$DRIVER_RC" = 0 ] || fail "refer_driver exit status $DRIVER_RC (stderr: $(tail -5 "$OUT/driver.err" | tr '\n' ' '))"
else
  wait_pid "$PID_referrer" 30
  [ "$WAIT_RC" = 0 ] || fail "selftest referrer sipp exit status $WAIT_RC"
fi
case $CALLER in
  sipp:*)
    wait_pid "$PID_caller" 10
    CALLER_RC=$WAIT_RC
    [ "$CALLER_RC" = 0 ] && pass "sipp caller scenario ${CALLER#sipp:} completed" ||
      fail "sipp caller exit status $CALLER_RC: $(head -c 600 "$OUT/caller.err" 2>/dev/null)"
    ;;
esac
# The target either received its call (and ends it within ~3 s) or none.
TARGET_EXPECTS_CALL=0
case $CASE in refer_success | target_busy | peers_selftest | refer_pcap) TARGET_EXPECTS_CALL=1 ;; esac
if [ "$TARGET_EXPECTS_CALL" = 1 ]; then
  wait_pid "$PID_target" 10
  [ "$WAIT_RC" = 0 ] && pass "sipp target scenario $TARGET_SCEN completed" ||
    fail "sipp target exit status $WAIT_RC: $(head -c 600 "$OUT/target.err" 2>/dev/null)"
fi
# webhooks are posted asynchronously: give them a moment
if [ "$HAVE_SINK" = 1 ]; then
  want=$(jq -c 'select(.event_type=="calling.call.refer")' "$OUT/driver.jsonl" 2>/dev/null | wc -l)
  poll 2 eval '[ "$(wc -l <"$OUT/webhooks.jsonl")" -ge "$want" ]'
fi
cleanup # stop everything now, so the logs are complete
PIDS=()
NAMES=()

# ------------------------------------------------------------ assertion helpers
J=$OUT/driver.jsonl

expect_eq() { # WHAT GOT WANT
  if [ "$2" = "$3" ]; then pass "$1: $2"; else fail "$1: got '$2', want '$3'"; fi
}

# calling.call.refer events as "state/refer_code/notify_code" (- for absent)
refer_events() {
  jq -r 'select(.event_type=="calling.call.refer") | .params |
         "\(.state)/\(.sip_refer_response_code // "-")/\(.sip_notify_response_code // "-")"' "$J" | paste -sd' '
}
# the same seen through the typed API (relay_call_on_refer)
typed_refer_events() {
  jq -r 'select(.refer_event) | .refer_event |
         "\(.state)/\(.sip_refer_response_code // "-")/\(.sip_notify_response_code // "-")"' "$J" | paste -sd' '
}
refer_targets() {
  jq -r 'select(.event_type=="calling.call.refer") | .params.sip_refer_to' "$J" | sort -u | paste -sd' '
}
call_states() {
  jq -r 'select(.event_type=="calling.call.state") | .params.call_state' "$J" | paste -sd' '
}
field() { # KEY JQPATH: the value at path in the first line with KEY; - if none
  local v
  v=$(jq -r "select(.$1) | .$1$2 // \"-\"" "$J" | head -1)
  echo "${v:--}"
}
# One line per SIP message in a sipp -trace_msg file: "recv INVITE",
# "sent 200"...; retransmissions (consecutive repeats) collapsed, provisional
# 100 Trying left out.
sip_ladder() {
  [ -f "$1" ] || { echo "(no message file)"; return; }
  awk '/^(UDP|TCP) message (sent|received)/ {
         dir = ($3 == "sent") ? "sent" : "recv"
         line = ""
         while (line ~ /^[ \t\r]*$/ && (getline line) > 0) { }
         if (line != "") {
           n = split(line, f, " ")
           if (f[1] == "SIP/2.0") print dir " " f[2]; else print dir " " f[1]
         }
       }' "$1" | uniq | grep -v ' 100$' | paste -sd',' | sed 's/,/, /g'
}
ctrl_events() { # "TYPE peer param" per baresip event
  [ -f "$OUT/baresip_ctrl.log" ] || return 0
  # netstrings: LEN:{json},  one object per frame
  sed -E 's/(^|,)[0-9]+:\{/\n{/g' "$OUT/baresip_ctrl.log" | sed -E 's/\},?$/}/' |
    jq -r 'select(.event) | "\(.type) \(.peeruri // "-") \(.param // "-")"' 2>/dev/null
}

# ------------------------------------------------------------ common assertions
if [ "$RELAYD_NEEDED" = 1 ]; then
  jq -e . "$J" >/dev/null 2>&1 || fail "driver output is not one JSON object per line"
  expect_eq "calling.call.receive events" "$(jq -r 'select(.event_type=="calling.call.receive") | .params.context' "$J" | paste -sd' ')" "$CONTEXT"
  expect_eq "answer result" "$(field answer_result .code)" "200"
  expect_eq "call ended" "$(field call_ended .state)" "ended"
  # the call's states, in order, as the client saw them
  expect_eq "call states" "$(call_states)" "ringing answered ending ended"
  expect_eq "end reason" "$(jq -r 'select(.event_type=="calling.call.state" and .params.call_state=="ended") | .params.end_reason // "-"' "$J" | head -1)" "hangup"
  if [ "$PLAY" = 1 ]; then
    PLAY_WANT="playing finished"
    [ "$CASE" = hangup_before_refer ] && PLAY_WANT="playing error" # the caller left mid-prompt
    expect_eq "calling.call.play states" "$(jq -r 'select(.event_type=="calling.call.play") | .params.state' "$J" | paste -sd' ')" "$PLAY_WANT"
  fi
  # relayd's SIP log, one line per message: "<- INVITE", "-> 200", "<- NOTIFY 100"...
  RELAYD_LADDER=$(sed -nE 's/.* sip (<-|->) (NOTIFY refer ([0-9]+)|[A-Z]+|[0-9]+)( .*|$)/\1 \2/p' "$OUT/relayd.log" |
    sed -E 's/NOTIFY refer/NOTIFY/' | grep -v -- '-> 100$' | paste -sd',' | sed 's/,/, /g')
  case $CASE in
    refer_success | refer_success_sipp | refer_pcap) want_ladder="<- INVITE, -> 180, -> 200, <- ACK, -> REFER, <- 202, <- NOTIFY 100, -> 200, <- NOTIFY 200, -> 200, -> BYE, <- 200" ;;
    target_busy) want_ladder="<- INVITE, -> 180, -> 200, <- ACK, -> REFER, <- 202, <- NOTIFY 100, -> 200, <- NOTIFY 486, -> 200, -> BYE, <- 200" ;;
    refer_rejected) want_ladder="<- INVITE, -> 180, -> 200, <- ACK, -> REFER, <- 603, -> BYE, <- 200" ;;
    hangup_before_refer) want_ladder="<- INVITE, -> 180, -> 200, <- ACK, <- BYE, -> 200" ;;
    hostile_uri) want_ladder="<- INVITE, -> 180, -> 200, <- ACK, -> BYE, <- 200" ;;
  esac
  # relayd holds a REFER until the caller's ACK has confirmed the dialog, so
  # even an app that refers right after answering (no prompt) shows this order.
  expect_eq "relayd SIP ladder (caller side)" "$RELAYD_LADDER" "$want_ladder"
  # credentials never reach a log
  if grep -q -- "$TOKEN" "$OUT/relayd.log" "$OUT/driver.err" "$J" 2>/dev/null; then
    fail "the API token appears in a log"
  else
    pass "no credential in relayd/driver logs"
  fi
  # nothing in relayd's log about sanitizer findings
  if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$OUT/relayd.log" "$OUT/driver.err"; then
    fail "sanitizer report in relayd.log or driver.err"
  fi
fi

TARGET_LADDER=$(sip_ladder "$OUT/target.msg")
CALLER_LADDER=$(sip_ladder "$OUT/caller.msg")

assert_target_answered() {
  expect_eq "target SIP ladder" "$TARGET_LADDER" "recv INVITE, sent 200, recv ACK, sent BYE, recv 200"
  grep -q "^INVITE sip:support@127.0.0.1:$SIP_TARGET SIP/2.0" "$OUT/target.msg" &&
    pass "the transfer target received INVITE sip:support@127.0.0.1:$SIP_TARGET" ||
    fail "the target's INVITE is not for sip:support@127.0.0.1:$SIP_TARGET"
}
assert_target_untouched() {
  if grep -q '^INVITE ' "$OUT/target.msg" 2>/dev/null; then
    fail "the transfer target received an INVITE"
  else
    pass "the transfer target received nothing"
  fi
}
assert_heard_prompt() { # the caller really heard relayd's TTS prompt over RTP
  local f dur rms
  f=$(ls "$OUT"/baresip/snd/*-dec.wav 2>/dev/null | sort | head -1)
  if [ -z "$f" ]; then
    fail "baresip recorded nothing"
    return
  fi
  dur=$(soxi -D "$f" 2>/dev/null || echo 0)
  rms=$(sox "$f" -n stat 2>&1 | awk '/^RMS +amplitude/ {print $3}')
  if awk -v d="$dur" -v r="${rms:-0}" 'BEGIN { exit !(d >= 0.5 && r >= 0.01) }'; then
    pass "the caller heard the prompt: ${dur}s of audio, RMS $rms"
  else
    fail "the caller's recording ($f) is ${dur}s, RMS ${rms:-none}: no prompt heard"
  fi
}
assert_webhooks() { # the status_url saw the same refer progress
  [ "$HAVE_SINK" = 1 ] || return 0
  local got
  got=$(jq -r 'select(.event_type=="calling.call.refer") | .params |
               "\(.state)/\(.sip_refer_response_code // "-")/\(.sip_notify_response_code // "-")"' \
        "$OUT/webhooks.jsonl" 2>/dev/null | paste -sd' ')
  expect_eq "status_url webhooks" "$got" "$1"
}

# What tshark reads in relayd's pcap_file: the SIP ladder in the same
# notation as relayd's log ("<- INVITE", "-> 200", "<- NOTIFY 100" with the
# sipfrag's status), retransmissions collapsed, "-> 100" left out; RTP
# packets each way; and any IP or UDP checksum tshark finds wrong.
assert_pcap() {
  local pcap=$OUT/relayd.pcap ladder rtp_out rtp_in bad
  [ -s "$pcap" ] || { fail "relayd wrote no pcap_file"; return; }
  command -v tshark >/dev/null || { fail "tshark not found: run scripts/deps.sh"; return; }
  ladder=$(tshark -r "$pcap" -Y sip -T fields -E "separator=|" -e udp.srcport -e sip.Method \
             -e sip.Status-Code -e sipfrag.line 2>"$OUT/tshark.err" |
    awk -F"|" -v me="$SIP_RELAYD" '{
      dir = ($1 == me) ? "->" : "<-"
      what = ($2 != "") ? $2 : $3
      if ($2 == "NOTIFY") { split($4, f, " "); what = what " " f[2] }
      print dir " " what }' | uniq | grep -v -- '-> 100$' | paste -sd',' | sed 's/,/, /g')
  expect_eq "SIP ladder read by tshark from relayd's pcap_file" "$ladder" "$want_ladder"
  rtp_out=$(tshark -r "$pcap" -o rtp.heuristic_rtp:TRUE -Y "rtp && ip.src==127.0.0.1 && udp.srcport>=$RTP0 && udp.srcport<=$((RTP0 + 9))" 2>/dev/null | wc -l)
  rtp_in=$(tshark -r "$pcap" -o rtp.heuristic_rtp:TRUE -Y "rtp && udp.dstport>=$RTP0 && udp.dstport<=$((RTP0 + 9))" 2>/dev/null | wc -l)
  [ "$rtp_out" -ge 25 ] && pass "pcap_rtp: $rtp_out RTP packets relayd sent (the prompt)" ||
    fail "pcap_rtp: only $rtp_out RTP packets from relayd in the capture"
  [ "$rtp_in" -ge 25 ] && pass "pcap_rtp: $rtp_in RTP packets relayd received (baresip)" ||
    fail "pcap_rtp: only $rtp_in RTP packets to relayd in the capture"
  bad=$(tshark -r "$pcap" -o udp.check_checksum:TRUE -o ip.check_checksum:TRUE \
          -Y 'udp.checksum.status == 0 || ip.checksum.status == 0 || _ws.malformed' 2>/dev/null | wc -l)
  expect_eq "records with a bad checksum or malformed" "$bad" "0"
}

# ------------------------------------------------------------ per case
case $CASE in
  refer_pcap)
    expect_eq "refer result" "$(field refer_result .code)" "200"
    expect_eq "calling.call.refer events" "$(refer_events)" "inProgress/202/- inProgress/202/100 success/202/200"
    assert_target_answered
    assert_pcap
    ;;
  refer_success)
    expect_eq "refer result" "$(field refer_result .code)" "200"
    expect_eq "calling.call.refer events" "$(refer_events)" "inProgress/202/- inProgress/202/100 success/202/200"
    expect_eq "typed refer events" "$(typed_refer_events)" "inProgress/202/- inProgress/202/100 success/202/200"
    expect_eq "refer target" "$(refer_targets)" "$TARGET_URI"
    expect_eq "final refer state" "$(field refer_final .state)" "success"
    expect_eq "final sip_notify_response_code" "$(field refer_final .params.sip_notify_response_code)" "200"
    expect_eq "no hangup by the application" "$(field hangup_result .code)" "-"
    assert_target_answered
    assert_webhooks "inProgress/202/- inProgress/202/100 success/202/200"
    assert_heard_prompt
    EV=$(ctrl_events)
    grep -q "^TRANSFER sip:office@127.0.0.1:$SIP_RELAYD <$TARGET_URI>" <<<"$EV" &&
      pass "baresip got the REFER to <$TARGET_URI>" || fail "baresip saw no TRANSFER event: $EV"
    grep -q "^CALL_ESTABLISHED $TARGET_URI" <<<"$EV" &&
      pass "baresip's new call to the target was established" || fail "no CALL_ESTABLISHED to $TARGET_URI"
    grep -q "^CALL_CLOSED sip:office@127.0.0.1:$SIP_RELAYD" <<<"$EV" &&
      pass "relayd ended the transferor's leg" || fail "the original call was not closed"
    ;;
  target_busy)
    expect_eq "refer result" "$(field refer_result .code)" "200"
    expect_eq "calling.call.refer events" "$(refer_events)" "inProgress/202/- inProgress/202/100 busy/202/486"
    expect_eq "typed refer events" "$(typed_refer_events)" "inProgress/202/- inProgress/202/100 busy/202/486"
    expect_eq "final refer state" "$(field refer_final .state)" "busy"
    expect_eq "application hung up" "$(field hangup_result .code)" "200"
    expect_eq "target SIP ladder" "$TARGET_LADDER" "recv INVITE, sent 486, recv ACK"
    assert_webhooks "inProgress/202/- inProgress/202/100 busy/202/486"
    assert_heard_prompt
    EV=$(ctrl_events)
    grep -q "^CALL_CLOSED $TARGET_URI 486 Busy Here" <<<"$EV" &&
      pass "baresip's call to the target was refused 486" || fail "no CALL_CLOSED 486 from the target: $EV"
    ;;
  refer_rejected)
    expect_eq "refer result" "$(field refer_result .code)" "200"
    expect_eq "calling.call.refer events" "$(refer_events)" "error/603/-"
    expect_eq "typed refer events" "$(typed_refer_events)" "error/603/-"
    expect_eq "final refer state" "$(field refer_final .state)" "error"
    expect_eq "application hung up" "$(field hangup_result .code)" "200"
    expect_eq "caller SIP ladder" "$CALLER_LADDER" "sent INVITE, recv 180, recv 200, sent ACK, recv REFER, sent 603, recv BYE, sent 200"
    grep -q "REFER Refer-To: <sip:support@127.0.0.1:$SIP_TARGET>" "$OUT/caller.log" &&
      pass "the REFER carried Refer-To: <sip:support@127.0.0.1:$SIP_TARGET>" || fail "Refer-To not as expected: $(cat "$OUT/caller.log")"
    assert_target_untouched
    ;;
  hangup_before_refer)
    expect_eq "calling.call.refer events" "$(refer_events)" ""
    rr_status=$(field refer_result .status) rr_code=$(field refer_result .code)
    if [ "$rr_status" != OK ] || [ "$rr_code" = 404 ] || [ "$rr_code" = 410 ]; then
      pass "refer after the hangup did not go through (status $rr_status, code $rr_code)"
    else
      fail "refer after the hangup: status $rr_status code $rr_code"
    fi
    expect_eq "caller SIP ladder" "$CALLER_LADDER" "sent INVITE, recv 180, recv 200, sent ACK, sent BYE, recv 200"
    assert_target_untouched
    ;;
  hostile_uri)
    expect_eq "calling.call.refer events" "$(refer_events)" ""
    expect_eq "refer attempts" "$(jq -r 'select(.refer_result)' "$J" | jq -s length)" "${#TARGETS[@]}"
    expect_eq "refer result codes" "$(jq -r 'select(.refer_result) | .refer_result.code' "$J" | paste -sd' ')" \
      "$(printf '400 %.0s' "${TARGETS[@]}" | sed 's/ $//')"
    expect_eq "refer results reported as success by librelay" \
      "$(jq -r 'select(.refer_result) | .refer_result.status' "$J" | grep -c '^OK$')" "0"
    jq -r 'select(.refer_result) | .refer_result | "  refused \(.code): \(.message)"' "$J"
    expect_eq "application hung up" "$(field hangup_result .code)" "200"
    expect_eq "caller SIP ladder" "$CALLER_LADDER" "sent INVITE, recv 180, recv 200, sent ACK, recv BYE, sent 200"
    if grep -qiE '^(REFER |X-Injected)' "$OUT/caller.msg" 2>/dev/null; then
      fail "a REFER (or the injected header) reached the caller"
    else
      pass "no REFER and no injected header on the wire"
    fi
    assert_target_untouched
    ;;
  refer_success_sipp)
    expect_eq "refer result" "$(field refer_result .code)" "200"
    expect_eq "calling.call.refer events" "$(refer_events)" "inProgress/202/- inProgress/202/100 success/202/200"
    expect_eq "final refer state" "$(field refer_final .state)" "success"
    expect_eq "caller SIP ladder" "$CALLER_LADDER" "sent INVITE, recv 180, recv 200, sent ACK, recv REFER, sent 202, sent NOTIFY, recv 200, sent NOTIFY, recv 200, recv BYE, sent 200"
    grep -q "REFER Refer-To: <sip:support@127.0.0.1:$SIP_TARGET>" "$OUT/caller.log" &&
      pass "the REFER carried Refer-To: <sip:support@127.0.0.1:$SIP_TARGET>" || fail "Refer-To not as expected: $(cat "$OUT/caller.log")"
    ;;
  peers_selftest)
    expect_eq "referrer saw NOTIFYs" "$(grep -o 'NOTIFY[12] SIP/2.0 [0-9]*' "$OUT/referrer.log" | paste -sd' ')" "NOTIFY1 SIP/2.0 100 NOTIFY2 SIP/2.0 200"
    assert_target_answered
    EV=$(ctrl_events)
    grep -q "^TRANSFER " <<<"$EV" && pass "baresip reported the TRANSFER" || fail "no TRANSFER event from baresip: $EV"
    ;;
esac

log "artifacts in $OUT"
if [ "$FAILS" -ne 0 ]; then
  log "$CASE: $FAILS check(s) failed"
  for f in driver.jsonl driver.err relayd.log caller.log; do
    [ -s "$OUT/$f" ] && { echo "----- $f (tail)"; tail -40 "$OUT/$f"; }
  done
  exit 1
fi
log "$CASE: all checks passed"
exit 0
