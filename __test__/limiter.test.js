// The in-flight limit belongs to a credential, not to an account SID anyone can type: a
// neighbour configured with the victim's account SID and a wrong token (another tenant's typo,
// or a hostile one) shares nothing with the victim. What the server sees decides: the victim's
// requests reach it while the neighbour's are held or throttled there.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { TwilioSmsConnector } from '../index.js';
import { accountSID, basicAuth, validConfig } from './fixtures.js';
import { RETRY_AFTER_PAST_ANY_DEADLINE, startTwilioServer, twilioError } from '../support/twilio-server.js';

const servers = [];
after(() => Promise.all(servers.map((server) => server.close())));

const WRONG_TOKEN = 'wrong-token-of-the-neighbour';
const neighbourAuth = basicAuth(accountSID, WRONG_TOKEN);

/** A value that resolves the first time `check()` holds, re-checked on every `poke()`. */
const condition = (check) => {
  let resolve;
  const reached = new Promise((settle) => (resolve = settle));
  return { reached, poke: () => check() && resolve() };
};

const connectors = (url, maxConcurrency) => {
  // The victim's deadline is the only clock: without isolation its sends wait for slots the
  // neighbour holds, or for a window the neighbour's 429s cut, and fail with a timeout.
  const victim = new TwilioSmsConnector(validConfig(), { baseUrl: url, maxConcurrency, timeoutMs: 5_000 });
  const neighbour = new TwilioSmsConnector(validConfig({ authToken: WRONG_TOKEN }), {
    baseUrl: url,
    maxConcurrency,
    timeoutMs: 60_000,
  });
  const send = (connector, code) => connector.sendMessage('+15550001111', 'SignIn', { code });
  return { victim: (code) => send(victim, code), neighbour: (code) => send(neighbour, code) };
};

const codes = (n, prefix) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

test("a wrong-token neighbour with the victim's account SID: its slow 401s never hold the victim's request slots", async () => {
  const LIMIT = 2;
  const held = [];
  let release;
  const released = new Promise((resolve) => (release = resolve));
  const neighbourHeld = condition(() => held.length === LIMIT);
  const victimSeen = [];
  const server = await startTwilioServer({
    respond: async (req, record, res) => {
      if (req.headers.authorization === neighbourAuth) {
        held.push(record);
        neighbourHeld.poke();
        await released;
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify(twilioError(401, 20003, 'Authenticate')));
        return true;
      }
      // The neighbour's requests still held at the server when this one of the victim came.
      victimSeen.push(held.length);
      return false;
    },
  });
  servers.push(server);
  const { victim, neighbour } = connectors(server.url, LIMIT);

  // Every slot of the ceiling taken by the neighbour, at the server.
  const neighbourSettled = Promise.allSettled(codes(LIMIT, 'n').map(neighbour));
  try {
    await neighbourHeld.reached;
    const results = await Promise.allSettled(codes(5, 'v').map(victim));
    assert.deepEqual(
      results.map((result) => result.status === 'fulfilled' || result.reason.message),
      Array(5).fill(true)
    );
    assert.deepEqual(victimSeen, Array(5).fill(LIMIT), 'every victim request came while the neighbour held its slots');
  } finally {
    release();
  }
  for (const result of await neighbourSettled) {
    assert.equal(result.status, 'rejected');
    assert.equal(result.reason.code, 'general');
  }
});

test("a wrong-token neighbour with the victim's account SID: its 429s cut only its own window", async () => {
  const LIMIT = 4;
  let throttled = 0;
  let finalAnswer = false;
  const neighbourCut = condition(() => throttled >= 2 * LIMIT);
  // The victim's requests are held until all LIMIT of them are at the server at once: only a
  // window of LIMIT, untouched by the neighbour's 429s, ever gets them answered.
  const victimHeld = [];
  let openVictim;
  const victimOpen = new Promise((resolve) => (openVictim = resolve));
  const server = await startTwilioServer({
    respond: async (req, record, res) => {
      if (req.headers.authorization === neighbourAuth) {
        throttled += 1;
        neighbourCut.poke();
        // Retried after the usual backoff until the test is done with the victim; then a
        // Retry-After past the deadline ends each neighbour send at once.
        const retryAfter = finalAnswer ? { 'retry-after': RETRY_AFTER_PAST_ANY_DEADLINE } : {};
        res.writeHead(429, { 'content-type': 'application/json', ...retryAfter });
        res.end(JSON.stringify(twilioError(429, 20429, 'Too Many Requests')));
        return true;
      }
      victimHeld.push(record);
      if (victimHeld.length === LIMIT) openVictim();
      await victimOpen;
      return false;
    },
  });
  servers.push(server);
  const { victim, neighbour } = connectors(server.url, LIMIT);

  let neighbourDone = false;
  const neighbourSettled = Promise.allSettled(codes(LIMIT, 'n').map(neighbour)).then((results) => {
    neighbourDone = true;
    return results;
  });
  try {
    // Two rounds of 429s: a shared window would be cut at least twice by now.
    await neighbourCut.reached;
    const results = await Promise.allSettled(codes(LIMIT, 'v').map(victim));
    assert.deepEqual(
      results.map((result) => result.status === 'fulfilled' || result.reason.message),
      Array(LIMIT).fill(true)
    );
    assert.equal(victimHeld.length, LIMIT, 'each victim code reached the server exactly once');
    assert.equal(neighbourDone, false, 'the neighbour was still being throttled meanwhile');
  } finally {
    finalAnswer = true;
    openVictim();
  }
  for (const result of await neighbourSettled) {
    assert.equal(result.status, 'rejected');
    assert.equal(result.reason.code, 'rate_limit_exceeded');
  }
});
