// The demo as an operator runs it: usage, friendly errors, previews without credentials, and
// sends with an API key or a sender number (to a local Twilio-compatible server).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { accountSID, apiKeySID, apiKeySecret, basicAuth } from './fixtures.js';
import { startTwilioServer } from '../support/twilio-server.js';

const demo = fileURLToPath(new URL('../demo/demo.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'demo-test-'));
let server;

before(async () => {
  server = await startTwilioServer();
});
after(() => {
  server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the demo with no TWILIO_* variables but `env`; resolves { status, stdout, stderr }. */
const run = (args, env = {}) =>
  new Promise((resolve) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TWILIO_')));
    const child = spawn(process.execPath, [demo, ...args], { env: { ...clean, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });

const noStack = ({ stderr }) => assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');

test('--help prints the usage', async () => {
  const result = await run(['--help']);
  assert.equal(result.status, 0);
  assert.match(result.stdout, /^Usage:/);
  assert.match(result.stdout, /TWILIO_API_KEY_SID/);
});

test('a bad flag, an unknown mode, a missing or broken file: one line, exit 2, no stack', async () => {
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{ nope');
  for (const [args, message] of [
    [['--bogus'], /Unknown option '--bogus'/],
    [['send-all'], /unknown mode "send-all"/],
    [['preview', '--config', join(dir, 'missing.json')], /cannot read --config .*missing\.json: no such file/],
    [['preview', '--config', broken], /is not valid JSON/],
  ]) {
    const result = await run(args);
    assert.equal(result.status, 2, args.join(' '));
    assert.match(result.stderr, message);
    noStack(result);
  }
});

test("preview takes the Console's templates array or a whole config, without credentials", async () => {
  const templates = ['Register', 'SignIn', 'ForgotPassword', 'Generic'].map((usageType) => ({
    usageType,
    content: `${usageType} code {{code}}`,
  }));
  const array = join(dir, 'templates.json');
  writeFileSync(array, JSON.stringify(templates));
  const whole = join(dir, 'config.json');
  writeFileSync(whole, JSON.stringify({ templates, smartEncoded: 'on' }));
  for (const file of [array, whole]) {
    const result = await run(['preview', '--config', file, '--code', '123456']);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /SignIn: 1 segment, GSM-7/);
    assert.match(result.stdout, /"SignIn code 123456"/);
  }
  writeFileSync(array, JSON.stringify(templates.slice(1)));
  const invalid = await run(['preview', '--config', array]);
  assert.equal(invalid.status, 1);
  assert.match(invalid.stderr, /Template with UsageType \(Register\) should be provided!/);
  noStack(invalid);
});

test('partial TWILIO_* variables are an error naming what is missing', async () => {
  const cases = [
    [{ TWILIO_ACCOUNT_SID: accountSID }, /missing: TWILIO_AUTH_TOKEN \(or TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET\), TWILIO_MESSAGING_SERVICE_SID/],
    [{ TWILIO_AUTH_TOKEN: 'token', TWILIO_PHONE_NUMBER: '+15550001111' }, /missing: TWILIO_ACCOUNT_SID$/m],
    [{ TWILIO_ACCOUNT_SID: accountSID, TWILIO_API_KEY_SID: apiKeySID, TWILIO_PHONE_NUMBER: '+1555' }, /missing: TWILIO_API_KEY_SECRET$/m],
  ];
  for (const [env, message] of cases) {
    const result = await run(['--to', '+15551234567'], env);
    assert.equal(result.status, 2, JSON.stringify(env));
    assert.match(result.stderr, message);
    assert.equal(server.requests.length, 0, 'nothing sent, not even to a local server');
  }
});

test('sends with an API key and a sender number', async () => {
  const result = await run(['--to', '+15551234567', '--type', 'SignIn', '--code', '424242'], {
    TWILIO_SMS_NATIVE_BASE_URL: server.url, // the real-credentials path, pointed at a local server
    TWILIO_ACCOUNT_SID: accountSID,
    TWILIO_API_KEY_SID: apiKeySID,
    TWILIO_API_KEY_SECRET: apiKeySecret,
    TWILIO_PHONE_NUMBER: '+15550001111',
  });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /Twilio accepted it: sid=SM/);
  const request = server.requests.at(-1);
  assert.equal(request.headers.authorization, basicAuth(apiKeySID, apiKeySecret));
  assert.deepEqual(
    request.form.filter(([key]) => ['To', 'MessagingServiceSid', 'From'].includes(key)),
    [
      ['To', '+15551234567'],
      ['From', '+15550001111'],
    ]
  );
});
