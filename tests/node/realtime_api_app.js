'use strict';
/*
 * A RELAY application written against the official Node.js SDK,
 * @signalwire/realtime-api v4, used unchanged against relayd by
 * tests/integration/test_realtime_api.c. It prints one line per thing it
 * sees; the test reads those lines.
 *
 *   node realtime_api_app.js calls      answer CALLS inbound calls on CONTEXT:
 *                                       answer, playTTS, wait for the end of
 *                                       the playback, hang up; then exit 0
 *   node realtime_api_app.js bad-token  connect with credentials relayd
 *                                       refuses; exit 0 once the SDK reports
 *                                       an auth error (and stays a few
 *                                       seconds, so a retry would show)
 *
 * Environment: RELAY_HOST (wss://IP:PORT), RELAY_PROJECT, RELAY_TOKEN,
 * RELAY_CONTEXT, CALLS; NODE_EXTRA_CA_CERTS names the test CA and NODE_PATH
 * the folder tests/node/setup.sh installed the SDK into.
 */
const { SignalWire } = require('@signalwire/realtime-api');

const host = process.env.RELAY_HOST;
const project = process.env.RELAY_PROJECT;
const token = process.env.RELAY_TOKEN;

function say(...words) {
  console.log(words.join(' '));
}

function fail(why) {
  say('FAIL', why);
  process.exit(1);
}

async function serveCalls() {
  const context = process.env.RELAY_CONTEXT;
  const wanted = Number(process.env.CALLS || 1);
  let received = 0;
  let finished = 0;
  const client = await SignalWire({
    project,
    token,
    host,
    listen: {
      onConnected: () => say('session connected'),
      onReconnecting: () => say('session reconnecting'),
      onAuthError: (e) => fail(`auth error ${e.code} ${e.message}`),
    },
  });
  await client.voice.listen({
    topics: [context],
    onCallReceived: async (call) => {
      const n = ++received;
      say('call', n, 'received', call.context || '');
      try {
        await call.answer();
        say('call', n, 'answered');
        const playback = await call.playTTS({ text: 'Hello from the official Node SDK.' });
        say('call', n, 'playing');
        await playback.ended();
        say('call', n, 'played', playback.state);
        await call.hangup();
        say('call', n, 'ended');
      } catch (e) {
        fail(`call ${n}: ${e && e.message}`);
      }
      if (++finished === wanted) {
        await client.disconnect();
        say('disconnected');
        process.exit(0);
      }
    },
  });
  say('listening', context);
}

async function badToken() {
  let authError = null;
  setTimeout(() => fail('no auth error within 15 s'), 15000).unref();
  await SignalWire({
    project,
    token,
    host,
    listen: {
      onAuthError: (e) => {
        authError = e;
        say('auth_error', e.code, e.message);
      },
      onConnected: () => fail('connected with a wrong token'),
    },
  });
  const started = Date.now();
  while (!authError) {
    if (Date.now() - started > 15000)
      fail('no auth error');
    await new Promise((r) => setTimeout(r, 100));
  }
  // A client that retried after a rejection would reconnect within these
  // seconds (its reconnect delay is 1-4 s); the test counts the attempts.
  await new Promise((r) => setTimeout(r, 6000));
  say('gave up');
  process.exit(0);
}

process.on('unhandledRejection', (e) => fail(`unhandled rejection: ${e && (e.message || e)}`));

const mode = process.argv[2];
if (mode === 'calls') serveCalls().catch((e) => fail(e && e.message));
else if (mode === 'bad-token') badToken().catch((e) => fail(e && e.message));
else fail(`unknown mode ${mode}`);
