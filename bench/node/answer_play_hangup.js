// The peer of bench/answer_play_hangup.c, with the official Node.js RELAY
// SDK (@signalwire/realtime-api): listen on a context, answer every inbound
// call, play PLAY_SECONDS of silence, hang up; calls to CONTEXT-hold play
// HOLD_SECONDS (the memory phase, in the same warm process). Same work, same relayd, same
// sipp load, so that bench/peer.sh can compare the two in one run.
//
//   node answer_play_hangup.js WS_URL PROJECT TOKEN CONTEXT PLAY_SECONDS HOLD_SECONDS
//
// Prints "connected" once listening. On SIGUSR2 prints one line
// "stats answered=A hung_up=H failed=F heap_used=B" (heap_used: V8's
// process.memoryUsage().heapUsed, the JS heap, after a full collection
// when run with --expose-gc). Exits on SIGTERM/SIGINT.
'use strict';

const { SignalWire } = require('@signalwire/realtime-api');

const [url, project, token, context, playSeconds, holdSeconds] = process.argv.slice(2);
if (!holdSeconds) {
  console.error('usage: answer_play_hangup.js WS_URL PROJECT TOKEN CONTEXT PLAY_SECONDS HOLD_SECONDS');
  process.exit(2);
}

let answered = 0;
let hungUp = 0;
let failed = 0;

async function handle(call) {
  try {
    await call.answer();
    answered++;
    const seconds = call.context === `${context}-hold` ? holdSeconds : playSeconds;
    const playback = await call.playSilence({ duration: Number(seconds) });
    await playback.ended();
    await call.hangup();
    hungUp++;
  } catch (err) {
    failed++;
    console.error('call failed:', err && err.message ? err.message : err);
  }
}

function stats() {
  // Live objects only: with --expose-gc, collect first (heapUsed otherwise
  // counts garbage not yet collected).
  if (global.gc) global.gc();
  const heap = process.memoryUsage().heapUsed;
  console.log(`stats answered=${answered} hung_up=${hungUp} failed=${failed} heap_used=${heap}`);
}

async function main() {
  const client = await SignalWire({ project, token, host: url, logLevel: 'error' });
  await client.voice.listen({ topics: [context, `${context}-hold`], onCallReceived: (call) => { handle(call); } });
  console.log('connected');
  process.on('SIGUSR2', stats);
  const stop = async () => {
    stats();
    try { await client.disconnect(); } catch (_) { /* exiting anyway */ }
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  console.error('cannot start:', err && err.message ? err.message : err);
  process.exit(1);
});
