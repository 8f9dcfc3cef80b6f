// The SMS-pumping limits with the in-process counters (no Redis configured), end to end
// against the local Twilio stand-in: each refusal happens before any request, names its rule
// and when it resets, adds to no other counter, and leaves one masked JSON line on stderr.
// The same counters on a shared Redis, and Redis' faults: sms-pumping-redis.test.js.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { TwilioSmsConnector, validateConfig } from '../index.js';
import { errorText, rejection, validConfig, authToken } from './fixtures.js';
import { lastJson, root, runChild } from './support/child.js';
import { clearOfWindowEnd } from './support/wait.js';
import { startScriptedServer, twilioError } from '../support/twilio-server.js';

let server;
before(async () => {
  server = await startScriptedServer();
});
after(() => server.close());

/** Every test counts under an account of its own: the in-process counters are the process's. */
const account = () => `AC${randomBytes(16).toString('hex')}`;
const configWith = (smsPumping, overrides = {}) => validConfig({ accountSID: account(), smsPumping, ...overrides });
const connect = (config) => new TwilioSmsConnector(config, { baseUrl: server.url });
const send = (connector, to, ip, usageType = 'SignIn') => connector.sendMessage(to, usageType, { code: '123456' }, ip === undefined ? undefined : { ip });

// The limits count in windows aligned to the clock, and every window here is a whole number of
// minutes: a test's sends (well under 5 s) start at least 5 s before a minute ends.
const clearOfWindowEdge = () => clearOfWindowEnd(60, 5_000);

/** Runs `sends` and says which were refused (by code) and how many requests Twilio got. */
const outcomes = async (sends) => {
  await clearOfWindowEdge();
  const before = server.requests.length;
  const results = [];
  for (const sendOne of sends) {
    try {
      await sendOne();
      results.push('sent');
    } catch (error) {
      assert.ok(!errorText(error).includes(authToken), 'the auth token leaked');
      results.push(error.code === 'general' ? `general: ${error.message}` : error.code);
    }
  }
  return { results, requests: server.requests.length - before };
};

describe('velocity limits in this process', () => {
  test('per client network: over the limit is refused before any request, naming the rule and its reset', async () => {
    const connector = connect(configWith({ limits: [{ by: 'ip', max: 2, windowSeconds: 3600, ipv4Prefix: 24 }] }));
    const { results, requests } = await outcomes([
      () => send(connector, '+14155550101', '203.0.113.7'),
      () => send(connector, '+14155550102', '203.0.113.99'),
      () => send(connector, '+14155550103', '203.0.113.200'),
      // Another network, IPv6 and no address at all (the Console's test) are not this limit's.
      () => send(connector, '+14155550104', '198.51.100.7'),
      () => send(connector, '+14155550105', '2001:db8::1'),
      () => send(connector, '+14155550106'),
      // An IPv4 address mapped into IPv6 is the IPv4 address.
      () => send(connector, '+14155550107', '::ffff:203.0.113.8'),
    ]);
    assert.deepEqual(results, ['sent', 'sent', 'rate_limit_exceeded', 'sent', 'sent', 'sent', 'rate_limit_exceeded']);
    assert.equal(requests, 5);
    const error = await rejection(send(connector, '+14155550108', '203.0.113.1'));
    assert.match(
      error.message,
      /^Refused before sending by smsPumping\.limits\[0\]: at most 2 sends per 3600 s for the client network 203\.0\.•\.•\/24; it resets in \d+ s$/
    );
    assert.ok(!error.message.includes('203.0.113'), 'the whole address is not shown');
  });

  test('per number range: a walk through one block of numbers stops at the limit; other blocks go on', async () => {
    const connector = connect(configWith({ limits: [{ by: 'numberRange', hiddenDigits: 2, max: 3, windowSeconds: 600 }] }));
    const walk = Array.from({ length: 6 }, (_, i) => () => send(connector, `+4477009001${String(i).padStart(2, '0')}`, '192.0.2.1'));
    const { results, requests } = await outcomes([...walk, () => send(connector, '+447700902000', '192.0.2.1')]);
    assert.deepEqual(results, ['sent', 'sent', 'sent', 'rate_limit_exceeded', 'rate_limit_exceeded', 'rate_limit_exceeded', 'sent']);
    assert.equal(requests, 4);
    const error = await rejection(send(connector, '+447700900177'));
    assert.match(error.message, /at most 3 sends per 600 s for the number range \+4477009001xx;/);
  });

  test('per country, with an override: the country counts, another country does not', async () => {
    const connector = connect(configWith({ limits: [{ by: 'country', max: 100, windowSeconds: 60, perCountry: { gb: 1, JM: 0 } }] }));
    const { results } = await outcomes([
      () => send(connector, '+447400123456'),
      () => send(connector, '+447400123457'),
      () => send(connector, '+12025550123'),
      () => send(connector, '+18769299200'),
    ]);
    assert.deepEqual(results, ['sent', 'rate_limit_exceeded', 'sent', 'rate_limit_exceeded']);
  });

  test('a refused send adds to no other counter', async () => {
    // The range limit refuses the second send to one block; had it counted against the IP
    // limit too, only three more sends from that address would pass instead of four.
    const connector = connect(
      configWith({
        limits: [
          { by: 'ip', max: 5, windowSeconds: 3600 },
          { by: 'numberRange', max: 1, windowSeconds: 3600 },
        ],
      })
    );
    const ip = '192.0.2.55';
    const { results } = await outcomes([
      () => send(connector, '+14155551001', ip),
      () => send(connector, '+14155551002', ip),
      ...[2, 3, 4, 5, 6].map((block) => () => send(connector, `+1415555${block}001`, ip)),
    ]);
    assert.deepEqual(results, ['sent', 'rate_limit_exceeded', 'sent', 'sent', 'sent', 'sent', 'rate_limit_exceeded']);
  });
});

describe('daily segment budget', () => {
  test('segments are counted per message; over the budget is usage_limit_exceeded', async () => {
    const long = 'x'.repeat(150) + ' {{code}}'; // 157 GSM-7 characters with a 6-digit code: 1 segment
    const longer = 'y'.repeat(160) + ' {{code}}'; // 167: 2 segments
    const templates = validConfig().templates.map((t) =>
      t.usageType === 'SignIn' ? { ...t, content: longer } : t.usageType === 'Register' ? { ...t, content: long } : t
    );
    const connector = connect(configWith({ dailySegments: { total: 5, perCountry: { '*': 100, GB: 3 } } }, { templates }));
    const { results } = await outcomes([
      () => send(connector, '+447400123401', undefined, 'SignIn'), // GB 2, total 2
      () => send(connector, '+447400123402', undefined, 'SignIn'), // GB would be 4 of 3
      () => send(connector, '+447400123403', undefined, 'Register'), // GB 3, total 3
      () => send(connector, '+12025550123', undefined, 'SignIn'), // total 5
      () => send(connector, '+12025550124', undefined, 'Register'), // total would be 6 of 5
    ]);
    assert.deepEqual(results, ['sent', 'usage_limit_exceeded', 'sent', 'sent', 'usage_limit_exceeded']);
    const error = await rejection(send(connector, '+447400123404', undefined, 'Register'));
    assert.match(
      error.message,
      /^Refused before sending by smsPumping\.dailySegments\.total: at most 5 SMS segments per UTC day in total; 5 are spent and this message needs 1; it resets at 00:00 UTC, in \d+ s$/
    );
  });
});

describe("Twilio Lookup's SMS pumping risk", () => {
  const lookups = () => server.requests.filter((record) => record.method === 'GET' && record.url.startsWith('/v2/PhoneNumbers/'));
  const messages = () => server.requests.filter((record) => record.method === 'POST');

  test('a score above maxScore or a blocked number is refused before the message; listed countries only; answers cached', async () => {
    server.pumpingRisk.set('+447400123470', { sms_pumping_risk_score: 85, carrier_risk_category: 'high' });
    server.pumpingRisk.set('+447400123471', { sms_pumping_risk_score: 10, number_blocked: true, number_blocked_date: '2026-11-30T00:00:00Z' });
    server.pumpingRisk.set('+447400123472', { sms_pumping_risk_score: 12 });
    const connector = connect(configWith({ riskScore: { countries: ['GB'], maxScore: 60 } }));
    const [lookupsBefore, messagesBefore] = [lookups().length, messages().length];
    const { results } = await outcomes([
      () => send(connector, '+447400123470'),
      () => send(connector, '+447400123471'),
      () => send(connector, '+447400123472'),
      () => send(connector, '+447400123472'),
      () => send(connector, '+12025550123'),
    ]);
    assert.deepEqual(results, ['invalid_request_parameters', 'invalid_request_parameters', 'sent', 'sent', 'sent']);
    // One Lookup per GB number (the repeat came from the cache), none for the US number.
    assert.deepEqual(
      lookups()
        .slice(lookupsBefore)
        .map((record) => record.url),
      [
        '/v2/PhoneNumbers/+447400123470?Fields=sms_pumping_risk',
        '/v2/PhoneNumbers/+447400123471?Fields=sms_pumping_risk',
        '/v2/PhoneNumbers/+447400123472?Fields=sms_pumping_risk',
      ]
    );
    assert.equal(messages().length - messagesBefore, 3);
    const error = await rejection(send(connector, '+447400123470'));
    assert.equal(
      error.message,
      'Recipient refused before sending by smsPumping.riskScore: Twilio Lookup scores the SMS pumping risk 85 (the maximum is 60) for +44 74•••••470'
    );
  });

  test('Lookup failing: allowed by default, refused with onError refuse; the velocity limits go first and a refusal spends no budget', async () => {
    server.answer = (record, res) => {
      if (record.method !== 'GET') return false;
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(twilioError(503, 20500, 'Service unavailable for +447400123480')));
    };
    try {
      const allow = connect(configWith({ riskScore: { countries: ['*'], maxScore: 60 } }));
      assert.deepEqual((await outcomes([() => send(allow, '+447400123480')])).results, ['sent']);
      const refuse = connect(
        configWith({
          limits: [{ by: 'ip', max: 1, windowSeconds: 60 }],
          dailySegments: { total: 1 },
          riskScore: { countries: ['*'], maxScore: 60, onError: 'refuse' },
        })
      );
      const lookupsBefore = lookups().length;
      const failed = await rejection(send(refuse, '+447400123480', '192.0.2.200'));
      assert.equal(failed.code, 'general');
      assert.match(
        failed.message,
        /^Refused before sending: Twilio Lookup could not score \+44 74•••••480 \(.*HTTP 503.*\) and smsPumping\.riskScore\.onError is refuse$/
      );
      assert.ok(!failed.message.includes('447400123480'), failed.message);
      // The IP limit was counted (a Lookup costs money: limits go first), so this one is refused
      // without asking Lookup; the budget was not spent by the refused send, so another address
      // still has it once Lookup answers again.
      const limited = await rejection(send(refuse, '+447400123481', '192.0.2.200'));
      assert.equal(limited.code, 'rate_limit_exceeded');
      assert.equal(lookups().length - lookupsBefore, 1);
      server.answer = undefined;
      assert.deepEqual((await outcomes([() => send(refuse, '+447400123482', '192.0.2.201')])).results, ['sent']);
    } finally {
      server.answer = undefined;
    }
  });
});

describe('the config', () => {
  test('every problem is named at its path, unknown keys included; an empty object is off', () => {
    const check = validateConfig(validConfig({ smsPumping: { limits: [{ by: 'ip', max: 5, windowSecond: 60 }], onStoreError: 'open', budget: 1 } }));
    assert.equal(check.success, false);
    const issues = check.issues.map(({ path, message }) => `${path.join('.')}: ${message}`);
    assert.deepEqual(issues.sort(), [
      'smsPumping.budget: Unrecognized key (expected one of: limits, dailySegments, riskScore, onStoreError)',
      'smsPumping.limits.0.windowSecond: Unrecognized key (expected one of: by, max, windowSeconds, perCountry, ipv4Prefix, ipv6Prefix)',
      'smsPumping.limits.0.windowSeconds: Required: an integer from 1 to 2592000',
      "smsPumping.onStoreError: Expected 'allow' or 'refuse'",
    ]);
    assert.equal(validateConfig(validConfig({ smsPumping: {} })).success, true);
  });

  test('without smsPumping, or with an empty one, the request is the same, byte for byte', async () => {
    const bodies = [];
    for (const smsPumping of [undefined, {}, null]) {
      const before = server.requests.length;
      await send(connect(validConfig(smsPumping === undefined ? {} : { smsPumping })), '+14155550199', '192.0.2.9');
      bodies.push(server.requests[before].body);
    }
    assert.equal(new Set(bodies).size, 1, bodies.join('\n'));
  });
});

describe('through Logto’s module', () => {
  test('the ip Logto passes is counted; refusals are ConnectorErrors Logto answers with 429', async () => {
    process.env.TWILIO_SMS_NATIVE_BASE_URL ??= server.url;
    const { default: create } = await import('../lib/index.js');
    const { ConnectorError } = await import('@logto/connector-kit');
    const config = configWith({ limits: [{ by: 'ip', max: 1, windowSeconds: 60 }], dailySegments: { perCountry: { DE: 1 } } });
    const connector = await create({ getConfig: async () => config });
    const message = (to, ip) => connector.sendMessage({ to, type: 'SignIn', payload: { code: '1' }, ip });
    await clearOfWindowEdge();
    await message('+14155550301', '192.0.2.77');
    const limited = await rejection(message('+14155550302', '192.0.2.77'));
    assert.ok(limited instanceof ConnectorError);
    assert.equal(limited.code, 'rate_limit_exceeded');
    await message('+4915112345678', '192.0.2.78');
    const spent = await rejection(message('+4915112345679', '192.0.2.79'));
    assert.ok(spent instanceof ConnectorError);
    assert.equal(spent.code, 'usage_limit_exceeded');
    assert.match(spent.data.message, /dailySegments\.perCountry\.DE/);
  });
});

test('each refusal is one JSON line on stderr with the rule and masked number and address', async () => {
  const source = `
    import { TwilioSmsConnector } from './index.js';
    import { validConfig } from './__test__/fixtures.js';
    const connector = new TwilioSmsConnector(
      validConfig({ smsPumping: { limits: [{ by: 'ip', max: 1, windowSeconds: 3600 }] } }),
      { baseUrl: process.env.BASE_URL }
    );
    await connector.sendMessage('+447400123456', 'SignIn', { code: '1' }, { ip: '203.0.113.7' });
    const codes = [];
    for (const to of ['+447400123457', '+447400123458']) {
      await connector.sendMessage(to, 'SignIn', { code: '1' }, { ip: '203.0.113.7' }).catch((e) => codes.push(e.code));
    }
    console.log(JSON.stringify(codes));
    process.exit(0);
  `;
  const child = await runChild(source, { BASE_URL: server.url });
  assert.deepEqual(lastJson(child), ['rate_limit_exceeded', 'rate_limit_exceeded']);
  const lines = child.stderr.trim().split('\n');
  assert.equal(lines.length, 2, child.stderr);
  const line = JSON.parse(lines[0]);
  assert.equal(line.event, 'sms_pumping_refused');
  assert.equal(line.rule, 'smsPumping.limits[0]');
  assert.equal(line.by, 'ip');
  assert.equal(line.to, '+44 74•••••457');
  assert.equal(line.country, 'GB');
  assert.equal(line.ip, '203.0.•.•');
  assert.equal(line.count, 1);
  assert.equal(line.limit, 1);
  assert.ok(!child.stderr.includes('203.0.113') && !child.stderr.includes('7400123457'), child.stderr);
});

test('a full stderr pipe (a log reader that stalls) never fails a send: the log line is dropped instead', async () => {
  // Node's stdio pipes are non-blocking: a write to a full one answers EAGAIN. 400 refusals
  // write about 100 KB of log lines into a pipe nobody reads until the child has finished.
  const source = `
    import { TwilioSmsConnector } from './index.js';
    import { validConfig } from './__test__/fixtures.js';
    const connector = new TwilioSmsConnector(
      validConfig({ smsPumping: { limits: [{ by: 'ip', max: 0, windowSeconds: 60 }] } }),
      { baseUrl: process.env.BASE_URL }
    );
    const codes = {};
    for (let i = 0; i < 400; i += 1) {
      await connector.sendMessage('+14155550100', 'SignIn', { code: '1' }, { ip: '192.0.2.1' }).then(
        () => (codes.sent = (codes.sent ?? 0) + 1),
        (e) => (codes[e.code] = (codes[e.code] ?? 0) + 1)
      );
    }
    console.log(JSON.stringify(codes));
    process.exit(0);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', source], {
    cwd: root,
    env: { ...process.env, BASE_URL: server.url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  const code = await new Promise((resolve) => child.on('exit', resolve));
  child.stderr.destroy();
  assert.equal(code, 0);
  assert.deepEqual(lastJson({ stdout, stderr: '', code }), { rate_limit_exceeded: 400 });
});
