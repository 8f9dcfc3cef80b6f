// Error paths no other test reaches, each against a server on 127.0.0.1 that the test starts:
// the queue's timeout wording, a 3xx without Location, the connect timeout, getUsage's page
// limit and a refused getUsage, and the too-long URL an absurd accountSID would make.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';

import { TwilioSmsConnector } from '../index.js';
import { accountSID, authToken, errorText, rejection, validConfig } from './fixtures.js';
import { startFaultServer } from './support/fault-server.js';
import { answerWith, startScriptedServer } from '../support/twilio-server.js';
import { until } from './support/wait.js';

const servers = [];
after(() => Promise.all(servers.map((server) => server.close())));
const scripted = async () => {
  const server = await startScriptedServer();
  servers.push(server);
  return server;
};
const noSecret = (error) => assert.ok(!errorText(error).includes(authToken), 'the token leaked');

test('a send waiting for a request slot at its deadline says it was queued', async () => {
  const held = [];
  const silent = await startFaultServer((socket) => held.push(socket));
  servers.push(silent);
  // An account of its own, so no other send shares (or frees) its one slot.
  const config = validConfig({ accountSID: 'AC' + 'a'.repeat(32) });
  // The holder's deadline is far past anything this test waits for: it holds the slot until
  // the test hangs up on it below, however slowly the machine runs.
  const holder = new TwilioSmsConnector(config, { baseUrl: silent.url, maxConcurrency: 1, timeoutMs: 60_000 })
    .sendMessage('1', 'SignIn', { code: '1' })
    .catch((error) => error);
  await until(() => silent.requests.length === 1, 'the first send at the server');
  const error = await rejection(
    new TwilioSmsConnector(config, { baseUrl: silent.url, maxConcurrency: 1, timeoutMs: 300 }).sendMessage('1', 'SignIn', { code: '2' })
  );
  assert.equal(error.code, 'general');
  assert.match(error.message, /timed out after 300 ms, waiting for a free request slot for this account/);
  assert.equal(silent.requests.length, 1, 'the queued send never reached the server');
  noSecret(error);
  // The holder was still waiting for its answer (a send that reached Twilio), not queued.
  held[0].destroy();
  const holderError = await holder;
  assert.equal(holderError.code, 'general');
  // The project's wording for a connection that broke with the request written (hyper's own cause follows it).
  assert.match(holderError.message, /Twilio request to \S+ failed/);
  assert.equal(silent.requests.length, 1, 'a send whose request may have been processed is not retried');
});

test('a 3xx without Location is not followed and says there was none', async () => {
  const server = await scripted();
  server.answer = answerWith(302);
  const error = await rejection(new TwilioSmsConnector(validConfig(), { baseUrl: server.url }).sendMessage('1', 'SignIn', {}));
  assert.equal(error.code, 'general');
  assert.match(error.message, /answered HTTP 302 redirecting to \(no Location header\); redirects are not followed/);
  assert.equal(server.requests.length, 1);
  noSecret(error);
});

test('a server that accepts TCP but never completes TLS fails at connectTimeoutMs with the connect-timeout wording', async () => {
  const accepted = [];
  const mute = net.createServer((socket) => {
    accepted.push(socket);
    socket.on('error', () => {});
  });
  await new Promise((resolve) => mute.listen(0, '127.0.0.1', resolve));
  servers.push({ close: () => new Promise((resolve) => (accepted.forEach((s) => s.destroy()), mute.close(resolve))) });
  const started = performance.now();
  const error = await rejection(
    new TwilioSmsConnector(validConfig(), {
      baseUrl: `https://127.0.0.1:${mute.address().port}`,
      connectTimeoutMs: 300,
      timeoutMs: 8_000,
      maxRetries: 0,
    }).sendMessage('1', 'SignIn', {})
  );
  assert.equal(error.code, 'general');
  // The wording of a connect timeout names the limit that ran out.
  assert.match(
    error.message,
    /^Twilio request to https:\/\/127\.0\.0\.1:\d+ could not connect within connectTimeoutMs \(TWILIO_SMS_NATIVE_CONNECT_TIMEOUT_MS\): client error \(Connect\): operation timed out/
  );
  // The connect limit, not the 8 s deadline, ended it: the bound is the feature, generous.
  assert.ok(performance.now() - started < 6_000, 'ended by the connect limit');
  assert.equal(accepted.length, 1, 'one TCP connection, accepted, never retried with maxRetries: 0');
  noSecret(error);
});

test('getUsage stops after 10 pages of next_page_uri: invalid_response, no 11th request', async () => {
  const server = await scripted();
  server.answer = (record, res) => {
    const page = Number(new URL(record.url, server.url).searchParams.get('Page') ?? 0);
    answerWith(200, {
      usage_records: [{ category: 'sms-outbound', count: '1' }],
      next_page_uri: `/2010-04-01/Accounts/${accountSID}/Usage/Records.json?Category=sms-outbound&Page=${page + 1}`,
    })(record, res);
  };
  const error = await rejection(new TwilioSmsConnector(validConfig(), { baseUrl: server.url }).getUsage(new Date(0)));
  assert.equal(error.code, 'invalid_response');
  assert.match(error.message, /more than 10 pages/);
  assert.equal(server.requests.length, 10);
});

test('getUsage against a refused connection is a general error naming it', async () => {
  const closed = await startFaultServer(() => {});
  const url = closed.url;
  await closed.close();
  const error = await rejection(new TwilioSmsConnector(validConfig(), { baseUrl: url }).getUsage());
  assert.equal(error.code, 'general');
  assert.match(error.message, /could not connect.*refused/i);
  noSecret(error);
});

test('an accountSID that would make the URL longer than hyper accepts is refused before any request', async () => {
  const server = await scripted();
  const error = await rejection(
    new TwilioSmsConnector(validConfig({ accountSID: 'A'.repeat(70_000) }), { baseUrl: server.url }).sendMessage('1', 'SignIn', {})
  );
  assert.equal(error.code, 'general');
  assert.match(error.message, /^accountSID is 70000 characters long; a Twilio Account SID is AC followed by 32 hex digits/);
  assert.equal(server.requests.length, 0);
  assert.equal(server.connections, 0);
});

test('a base URL with a 120 kB host name is refused naming baseUrl, before any request', async () => {
  const server = await scripted();
  const baseUrl = `http://${'a'.repeat(120_000)}:${new URL(server.url).port}`;
  const error = await rejection((async () => new TwilioSmsConnector(validConfig(), { baseUrl }).sendMessage('1', 'SignIn', {}))());
  assert.equal(error.code, 'invalid_config');
  assert.equal(
    error.message,
    'options.baseUrl (TWILIO_SMS_NATIVE_BASE_URL for the Logto module) has a host name 120000 characters long; a host name has at most 253'
  );
  assert.equal(server.connections, 0);
});
