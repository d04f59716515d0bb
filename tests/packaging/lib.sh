# Shell helpers of the packaging tests and scripts/check-packages.sh
# (sourced): processes started in the background and stopped by PID,
# polling with a deadline, and one refer call through examples/refer.
#
# The refer flow is the e2e suite's refer_success_sipp case (tests/e2e):
# relayd answers a sipp caller (uac_refer_accept.xml) on behalf of the
# example, which plays a prompt and refers the caller; the caller accepts
# (202, NOTIFY 100, NOTIFY 200) and the example prints its outcome.

T0=${EPOCHREALTIME/./}
log() {
  local ms=$(((${EPOCHREALTIME/./} - T0) / 1000))
  printf '[%3d.%03d] %s\n' $((ms / 1000)) $((ms % 1000)) "$*"
}
die() { log "ERROR: $*"; exit 1; }

PIDS=() NAMES=()
start_bg() { # NAME LOGFILE CMD...   (stdout+stderr to LOGFILE)
  local name=$1 logf=$2
  shift 2
  "$@" >"$logf" 2>&1 &
  PIDS+=($!) NAMES+=("$name")
  eval "PID_$name=$!"
}
alive() { kill -0 "$1" 2>/dev/null; }
now_us() { echo "${EPOCHREALTIME/./}"; }
poll() { # SECS CMD...: CMD every 50 ms until it succeeds or SECS pass
  local deadline=$(($(now_us) + $1 * 1000000))
  shift
  while :; do
    "$@" && return 0
    [ "$(now_us)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}
stop_pid() { # PID NAME: TERM, KILL after 3 s; returns the exit status
  local pid=$1 name=$2 i rc
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 60; i++)); do alive "$pid" || break; sleep 0.05; done
    if alive "$pid"; then
      log "$name (pid $pid) ignored SIGTERM: SIGKILL"
      kill -KILL "$pid" 2>/dev/null
    fi
  fi
  wait "$pid" 2>/dev/null
  rc=$?
  return $rc
}
stop_all() {
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[$i]}" "${NAMES[$i]}"; done
  PIDS=() NAMES=()
}
forget_pid() { # PID: stopped by the caller already
  local i
  for i in "${!PIDS[@]}"; do
    [ "${PIDS[$i]}" = "$1" ] && unset 'PIDS[i]' 'NAMES[i]'
  done
  PIDS=("${PIDS[@]}") NAMES=("${NAMES[@]}")
}
tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# refer_flow OUT EXAMPLE WS_PORT CA_FILE SIP_RELAYD SIP_CALLER RTP_CALLER TARGET_URI
# Runs EXAMPLE (an examples/refer build) against the relayd listening on
# wss://127.0.0.1:WS_PORT (SIP on SIP_RELAYD), credentials from
# RELAY_PROJECT and RELAY_TOKEN, and one call. The caller:
#   FLOW_CALLER=sipp (default): a sipp UAC (uac_refer_accept.xml) that
#     accepts the REFER and reports success itself (deterministic);
#   FLOW_CALLER=baresip: as the demo, baresip follows the REFER to a sipp
#     UAS at TARGET_URI (uas_target_ok.xml), which must receive the INVITE.
#     Needs FLOW_CTRL_PORT (baresip's ctrl_tcp), RTP_CALLER..RTP_CALLER+9
#     for baresip and FLOW_TARGET_RTP for the target.
# Returns 0 only when the example connected, reported `state=success
# sip_notify_response_code=200`, the SIP peers completed their part, and
# the example stopped cleanly on SIGTERM.
refer_flow() {
  local out=$1 example=$2 ws=$3 ca=$4 sip_relayd=$5 sip_caller=$6 rtp_caller=$7 target=$8
  local caller=${FLOW_CALLER:-sipp} sipdir=${RELAY_SOURCE_DIR:?}/tests/e2e/sip fails=0
  local target_port=${target##*:} pid_target="" pid_caller
  mkdir -p "$out"
  if [ "$caller" = baresip ]; then
    start_bg target "$out/target.out" sipp -sf "$sipdir/uas_target_ok.xml" -i 127.0.0.1 -mi 127.0.0.1 \
      -p "$target_port" -mp "${FLOW_TARGET_RTP:?}" -m 1 -nostdin -timeout 40 -timeout_error \
      -trace_msg -message_file "$out/target.msg"
    pid_target=$PID_target
  fi
  start_bg example "$out/example.log" env SIGNALWIRE_SPACE="127.0.0.1:$ws" \
    SIGNALWIRE_PROJECT_ID="$RELAY_PROJECT" SIGNALWIRE_API_TOKEN="$RELAY_TOKEN" \
    SIGNALWIRE_RELAY_CA_FILE="$ca" SIGNALWIRE_CONTEXTS=office REFER_TO="$target" "$example"
  local pid_example=$PID_example
  poll 10 eval 'grep -q "^connected to" "$out/example.log" || ! alive $pid_example' &&
    grep -q '^connected to' "$out/example.log" || {
    cat "$out/example.log"
    log "FAIL: $example did not connect"
    return 1
  }
  log "$(basename "$example") connected over wss (pid $pid_example)"
  if [ "$caller" = baresip ]; then
    "$sipdir/gen-baresip.sh" "$out/baresip" "$sip_caller" "${FLOW_CTRL_PORT:?}" "$rtp_caller" \
      $((rtp_caller + 9)) 40 >"$out/gen-baresip.log" 2>&1 || { log "FAIL: gen-baresip.sh"; return 1; }
    start_bg caller "$out/baresip.out" baresip -f "$out/baresip" -t 45
    pid_caller=$PID_caller
    poll 10 tcp_open "$FLOW_CTRL_PORT" || { log "FAIL: baresip's ctrl_tcp did not listen"; return 1; }
    # dial through ctrl_tcp (a netstring of JSON); the reader keeps the
    # connection, and baresip's call events, until it is stopped
    local cmd="{\"command\":\"dial\",\"params\":\"sip:office@127.0.0.1:$sip_relayd\",\"token\":\"pkg\"}"
    start_bg ctrl "$out/ctrl.log" bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "%d:%s," "${#2}" "$2" >&3 && cat <&3' \
      _ "$FLOW_CTRL_PORT" "$cmd"
    log "baresip dials sip:office@127.0.0.1:$sip_relayd; transfer target: sipp at $target"
  else
    start_bg caller "$out/caller.out" sipp "127.0.0.1:$sip_relayd" -sf "$sipdir/uac_refer_accept.xml" \
      -s office -i 127.0.0.1 -mi 127.0.0.1 -p "$sip_caller" -mp "$rtp_caller" -m 1 -nostdin \
      -timeout 30 -timeout_error -trace_logs -log_file "$out/caller.log"
    pid_caller=$PID_caller
  fi
  poll 30 eval 'grep -q "^refer outcome:" "$out/example.log" || ! alive $pid_example'

  if grep -qE '^refer outcome: .*state=success sip_notify_response_code=200$' "$out/example.log"; then
    log "ok: $(grep '^refer outcome:' "$out/example.log")"
  else
    log "FAIL: no successful refer outcome"; fails=1
  fi
  if [ "$caller" = baresip ]; then
    # the target answers, then hangs up by itself: its scenario ends
    poll 10 eval '! alive $pid_target'
    stop_pid "$pid_target" target
    local target_rc=$?
    forget_pid "$pid_target"
    if [ "$target_rc" = 0 ] && grep -q "^INVITE $target SIP/2.0" "$out/target.msg"; then
      log "ok: the target received baresip's INVITE $target and completed its scenario"
    else
      log "FAIL: target exit status $target_rc; INVITE for $target: $(grep -c "^INVITE $target" "$out/target.msg" 2>/dev/null)"; fails=1
    fi
    stop_pid "$PID_ctrl" ctrl
    forget_pid "$PID_ctrl"
    stop_pid "$pid_caller" baresip
    forget_pid "$pid_caller"
  else
    poll 10 eval '! alive $pid_caller'
    stop_pid "$pid_caller" caller
    local caller_rc=$?
    forget_pid "$pid_caller"
    if [ "$caller_rc" = 0 ] && grep -q "REFER Refer-To: <$target>" "$out/caller.log"; then
      log "ok: the sipp caller was referred to <$target> and completed its scenario"
    else
      log "FAIL: sipp caller exit status $caller_rc, log: $(tail -3 "$out/caller.log" 2>/dev/null)"; fails=1
    fi
  fi
  stop_pid "$pid_example" example
  local example_rc=$?
  forget_pid "$pid_example"
  if [ "$example_rc" = 0 ]; then
    log "ok: the example stopped cleanly on SIGTERM"
  else
    log "FAIL: the example exited with $example_rc"; fails=1
  fi
  [ "$fails" = 0 ] || { sed 's/^/  example: /' "$out/example.log" | tail -20; return 1; }
}
