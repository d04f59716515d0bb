#!/usr/bin/env bash
# Renders a baresip configuration directory for an e2e caller.
#
#   gen-baresip.sh CONFDIR SIP_PORT CTRL_PORT RTP_MIN RTP_MAX [SECONDS]
#
# Writes CONFDIR/config, CONFDIR/accounts (one account,
# sip:caller@127.0.0.1:SIP_PORT, no registration, auto-answer), an 8 kHz mono
# 16-bit WAV CONFDIR/caller.wav of SECONDS (default 40) — a 440 Hz tone, made
# with sox — that baresip sends as its audio (it hangs up when the file ends,
# so it must outlast the test) and CONFDIR/snd/ where baresip records what it
# hears (*-dec.wav).
#
# Run it as: baresip -f CONFDIR -t SECONDS -e "/dial sip:office@127.0.0.1:PORT"
set -euo pipefail
if [ $# -lt 5 ]; then
  echo "usage: $0 CONFDIR SIP_PORT CTRL_PORT RTP_MIN RTP_MAX [SECONDS]" >&2
  exit 2
fi
dir=$1 sip_port=$2 ctrl_port=$3 rtp_min=$4 rtp_max=$5 secs=${6:-40}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$dir/snd"
dir=$(cd "$dir" && pwd)

if [ ! -s "$dir/caller.wav" ]; then
  sox -q -n -r 8000 -c 1 -b 16 -e signed-integer "$dir/caller.wav" synth "$secs" sine 440 vol 0.5
fi

sed -e "s|@SIP_PORT@|$sip_port|g" -e "s|@CTRL_PORT@|$ctrl_port|g" \
    -e "s|@RTP_MIN@|$rtp_min|g" -e "s|@RTP_MAX@|$rtp_max|g" \
    -e "s|@WAV@|$dir/caller.wav|g" -e "s|@SND_DIR@|$dir/snd|g" \
    "$here/baresip.conf.in" >"$dir/config"

# ;regint=0: never register; answermode=auto: answer inbound calls (the
# transfer target never calls back, but a stray call must not ring forever).
echo "<sip:caller@127.0.0.1:$sip_port>;regint=0;answermode=auto" >"$dir/accounts"
: >"$dir/contacts"
