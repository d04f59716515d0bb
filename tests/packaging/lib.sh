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
# RELAY_PROJECT and RELAY_TOKEN, and one sipp call. Returns 0 only when
# the example connected, reported `state=success sip_notify_response_code=200`,
# the caller's scenario completed with the REFER to TARGET_URI, and the
# example stopped cleanly on SIGTERM.
refer_flow() {
  local out=$1 example=$2 ws=$3 ca=$4 sip_relayd=$5 sip_caller=$6 rtp_caller=$7 target=$8
  local sipdir=${RELAY_SOURCE_DIR:?}/tests/e2e/sip fails=0
  mkdir -p "$out"
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
  start_bg caller "$out/caller.out" sipp "127.0.0.1:$sip_relayd" -sf "$sipdir/uac_refer_accept.xml" \
    -s office -i 127.0.0.1 -mi 127.0.0.1 -p "$sip_caller" -mp "$rtp_caller" -m 1 -nostdin \
    -timeout 30 -timeout_error -trace_logs -log_file "$out/caller.log"
  local pid_caller=$PID_caller
  poll 30 eval 'grep -q "^refer outcome:" "$out/example.log" || ! alive $pid_example'
  poll 10 eval '! alive $pid_caller'
  stop_pid "$pid_caller" caller
  local caller_rc=$?
  forget_pid "$pid_caller"
  stop_pid "$pid_example" example
  local example_rc=$?
  forget_pid "$pid_example"

  if grep -qE '^refer outcome: .*state=success sip_notify_response_code=200$' "$out/example.log"; then
    log "ok: $(grep '^refer outcome:' "$out/example.log")"
  else
    log "FAIL: no successful refer outcome"; fails=1
  fi
  if [ "$caller_rc" = 0 ] && grep -q "REFER Refer-To: <$target>" "$out/caller.log"; then
    log "ok: the sipp caller was referred to <$target> and completed its scenario"
  else
    log "FAIL: sipp caller exit status $caller_rc, log: $(tail -3 "$out/caller.log" 2>/dev/null)"; fails=1
  fi
  if [ "$example_rc" = 0 ]; then
    log "ok: the example stopped cleanly on SIGTERM"
  else
    log "FAIL: the example exited with $example_rc"; fails=1
  fi
  [ "$fails" = 0 ] || { sed 's/^/  example: /' "$out/example.log" | tail -20; return 1; }
}
