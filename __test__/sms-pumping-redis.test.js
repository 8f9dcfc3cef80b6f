// The SMS-pumping counters on a real Redis (Debian's redis-server, started here on 127.0.0.1):
// replicas sharing it never exceed a limit together, and each of Redis' faults (down at start,
// down mid-burst, slower than the budget, restarted, a wrong password, a silent server) ends as
// `smsPumping.onStoreError` says, with one log line per outage and no credential anywhere;
// `rediss://` is verified against NODE_EXTRA_CA_CERTS.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { TwilioSmsConnector } from '../index.js';
import { makePki } from '../support/certs.js';
import { freePort, startRedis } from '../support/redis-server.js';
import { startTwilioServer } from '../support/twilio-server.js';
import { authToken, errorText, rejection, validConfig } from './fixtures.js';
import { lastJson, root, runChild } from './support/child.js';
import { clearOfWindowEnd } from './support/wait.js';

let server;
const redises = [];
before(async () => {
  server = await startTwilioServer();
});
after(async () => {
  await server.close();
  await Promise.all(redises.map((redis) => redis.close()));
});
const redisServer = async (options) => {
  const redis = await startRedis(options);
  redises.push(redis);
  return redis;
};

const account = () => `AC${randomBytes(16).toString('hex')}`;
const configWith = (smsPumping) => validConfig({ accountSID: account(), smsPumping });
const connect = (config, redisUrl, options = {}) => new TwilioSmsConnector(config, { baseUrl: server.url, redisUrl, ...options });
const send = (connector, to = '+14155550100', ip = '192.0.2.1') => connector.sendMessage(to, 'SignIn', { code: '1' }, { ip });
const noSecret = (text, secret) => assert.ok(!text.includes(secret), `${secret} leaked:\n${text}`);

// Each sequence's sends are counted in one window: the windows here are whole minutes or longer,
// and a sequence takes well under 5 s.
const sequence = async (count, sendOne) => {
  await clearOfWindowEnd(60, 5_000);
  const results = [];
  for (let i = 0; i < count; i += 1) {
    results.push(
      await sendOne(i).then(
        () => 'sent',
        (error) => {
          noSecret(errorText(error), authToken);
          return error.code;
        }
      )
    );
  }
  return results;
};

test('8 replica processes sharing one Redis never send more than a limit allows together', async () => {
  const redis = await redisServer();
  const max = 100;
  // onStoreError refuse: a count the store could not make cannot send uncounted here.
  const config = configWith({ limits: [{ by: 'country', max, windowSeconds: 2_592_000 }], onStoreError: 'refuse' });
  // 30-day windows end at 00:00 UTC; the replicas start and send in well under a minute.
  await clearOfWindowEnd(86_400, 60_000);
  const before = server.requests.length;
  const children = Array.from({ length: 8 }, (_, i) =>
    spawn(process.execPath, [join(root, '__test__/support/pumping-replica-child.mjs')], {
      cwd: root,
      env: { ...process.env, BASE_URL: server.url, REDIS_URL: redis.url, CONFIG: JSON.stringify(config), COUNT: '40', SENDER: `r${i}` },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
  );
  const outputs = children.map((child) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    return {
      child,
      ready: () => stdout.includes('ready\n'),
      done: new Promise((resolve) =>
        child.on('exit', (code) =>
          resolve({
            code,
            get stdout() {
              return stdout;
            },
            get stderr() {
              return stderr;
            },
          })
        )
      ),
    };
  });
  while (!outputs.every(({ ready }) => ready())) await new Promise((resolve) => setTimeout(resolve, 20));
  for (const { child } of outputs) child.stdin.write('go\n');
  const results = await Promise.all(outputs.map(({ done }) => done));
  const reports = results.map((result) => lastJson(result));
  const sent = reports.reduce((sum, report) => sum + report.sent, 0);
  const refused = reports.reduce((sum, report) => sum + (report.refused.rate_limit_exceeded ?? 0), 0);
  assert.equal(sent, max, JSON.stringify(reports));
  assert.equal(refused, 8 * 40 - max, JSON.stringify(reports));
  assert.equal(server.requests.length - before, max);
  // Every refusal logged one masked line; nothing else was written.
  for (const result of results) {
    for (const line of result.stderr.trim().split('\n').filter(Boolean)) assert.equal(JSON.parse(line).event, 'sms_pumping_refused');
  }
});

test('counts live under the documented prefix, each key with a time to live', async () => {
  const redis = await redisServer();
  const connector = connect(configWith({ limits: [{ by: 'numberRange', max: 5, windowSeconds: 600 }], dailySegments: { total: 100 } }), redis.url);
  await send(connector);
  const keys = (await redis.command(['KEYS', '*'])).split('\r\n').filter((line) => line.startsWith('twilio-sms-native:'));
  assert.equal(keys.length, 2, keys.join('\n'));
  for (const key of keys) {
    const ttl = Number((await redis.command(['PTTL', key])).slice(1));
    assert.ok(ttl > 0, `${key} has no time to live (${ttl})`);
  }
  assert.ok(
    keys.every((key) => /^twilio-sms-native:\{[0-9a-f]{24}\}:/.test(key)),
    keys.join('\n')
  );
  assert.ok(!keys.some((key) => key.includes('AC')), 'no account SID in a key');
});

test("Twilio Lookup's answers are shared on Redis, under a digest of the number", async () => {
  const redis = await redisServer();
  server.pumpingRisk.set('+447400123490', { sms_pumping_risk_score: 95 });
  server.pumpingRisk.set('+447400123491', { sms_pumping_risk_score: 5 });
  const config = configWith({ riskScore: { countries: ['GB'], maxScore: 60 } });
  const lookups = () => server.requests.filter((record) => record.method === 'GET' && record.url.startsWith('/v2/PhoneNumbers/')).length;
  const before = lookups();
  // Two connectors stand for two replicas: the second asks Redis, not Lookup.
  const [first, second] = [connect(config, redis.url), connect(config, redis.url)];
  const results = await sequence(4, (i) => send(i % 2 ? second : first, i < 2 ? '+447400123490' : '+447400123491'));
  assert.deepEqual(results, ['invalid_request_parameters', 'invalid_request_parameters', 'sent', 'sent']);
  assert.equal(lookups() - before, 2, 'one Lookup per number');
  const keys = (await redis.command(['KEYS', '*:lookup:*'])).split('\r\n').filter((line) => line.startsWith('twilio-sms-native:'));
  assert.equal(keys.length, 2, keys.join('\n'));
  for (const key of keys) {
    assert.match(key, /^twilio-sms-native:\{[0-9a-f]{24}\}:lookup:[0-9a-f]{32}$/);
    const value = await redis.command(['GET', key]);
    assert.ok(!value.includes('447400123'), `the number is kept: ${value}`);
    const ttl = Number((await redis.command(['TTL', key])).slice(1));
    assert.ok(ttl > 86_000 && ttl <= 86_400, `ttl ${ttl}`);
  }
  // Without the shared answers, the next send asks Lookup again.
  await redis.command(['FLUSHALL']);
  await send(first, '+447400123491');
  assert.equal(lookups() - before, 3);
});

describe("Redis' faults", () => {
  const limit = { by: 'ip', max: 2, windowSeconds: 3600 };

  test('down at start: allow sends uncounted, refuse refuses; one log line per outage, never per send', async () => {
    const port = await freePort();
    const url = `redis://:s3cret-redis-pass@127.0.0.1:${port}`;
    const source = `
      import { TwilioSmsConnector } from './index.js';
      import { validConfig } from './__test__/fixtures.js';
      const results = {};
      for (const onStoreError of ['allow', 'refuse']) {
        const connector = new TwilioSmsConnector(
          validConfig({ smsPumping: { limits: [${JSON.stringify(limit)}], onStoreError } }),
          { baseUrl: process.env.BASE_URL, redisUrl: process.env.REDIS_URL }
        );
        results[onStoreError] = [];
        for (let i = 0; i < 5; i += 1) {
          results[onStoreError].push(await connector.sendMessage('+14155550100', 'SignIn', { code: '1' }, { ip: '192.0.2.1' })
            .then(() => 'sent', (e) => e.code + ': ' + e.message));
        }
      }
      console.log(JSON.stringify(results));
      process.exit(0);
    `;
    const child = await runChild(source, { BASE_URL: server.url, REDIS_URL: url });
    const results = lastJson(child);
    assert.deepEqual(results.allow, ['sent', 'sent', 'sent', 'sent', 'sent'], 'the limit of 2 is not enforced while Redis is down');
    assert.equal(results.refuse.length, 5);
    for (const result of results.refuse) {
      assert.match(
        result,
        new RegExp(
          `^general: Refused before sending: the send counters \\(redis://127\\.0\\.0\\.1:${port}\\) could not be reached \\(.+\\) and smsPumping\\.onStoreError is refuse$`
        )
      );
    }
    const lines = child.stderr.trim().split('\n');
    assert.equal(lines.length, 1, child.stderr);
    const line = JSON.parse(lines[0]);
    assert.equal(line.event, 'sms_pumping_store_down');
    assert.equal(line.store, `redis://127.0.0.1:${port}`);
    noSecret(child.stdout + child.stderr, 's3cret-redis-pass');
  });

  test('down mid-burst and restarted: sends go on as configured, counting resumes (from zero: counts are lost)', async () => {
    const redis = await redisServer();
    const allow = connect(configWith({ limits: [limit] }), redis.url);
    const refuse = connect(configWith({ limits: [limit], onStoreError: 'refuse' }), redis.url);
    assert.deepEqual(await sequence(3, () => send(allow)), ['sent', 'sent', 'rate_limit_exceeded']);
    assert.deepEqual(await sequence(1, () => send(refuse)), ['sent']);
    await redis.stop();
    assert.deepEqual(await sequence(3, () => send(allow)), ['sent', 'sent', 'sent']);
    assert.deepEqual(await sequence(2, () => send(refuse)), ['general', 'general']);
    await redis.restart();
    // The client reconnects by itself; the first sends after a restart may still meet the old
    // connection, so wait until a count lands again.
    let back = false;
    for (let i = 0; i < 100 && !back; i += 1) {
      back = (await sequence(1, () => send(refuse, `+1415556${String(i).padStart(4, '0')}`, `192.0.2.${100 + i}`)))[0] === 'sent';
      if (!back) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(back, 'counting never resumed after the restart');
    // Counts were lost with the restart: the limit of 2 starts over.
    assert.deepEqual(await sequence(3, () => send(allow, '+14155550100', '192.0.2.250')), ['sent', 'sent', 'rate_limit_exceeded']);
  });

  test('slower than the budget (a paused server) and a server that never answers: each send waits at most the budget', async () => {
    const redis = await redisServer();
    const allow = connect(configWith({ limits: [limit] }), redis.url, { redisTimeoutMs: 30 });
    const refuse = connect(configWith({ limits: [limit], onStoreError: 'refuse' }), redis.url, { redisTimeoutMs: 30 });
    await send(allow, '+14155550100', '192.0.2.9');
    await redis.command(['CLIENT', 'PAUSE', '1500', 'ALL']);
    assert.deepEqual(await sequence(2, () => send(allow)), ['sent', 'sent']);
    const paused = await rejection(send(refuse));
    assert.equal(paused.code, 'general');
    assert.match(paused.message, /\(no answer within 30 ms\)/);

    // A TCP server that accepts and never answers: the budget holds, not the connect timeout.
    const sockets = new Set();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = `redis://127.0.0.1:${silent.address().port}`;
      const silentRefuse = connect(configWith({ limits: [limit], onStoreError: 'refuse' }), url, { redisTimeoutMs: 50 });
      const error = await rejection(send(silentRefuse));
      assert.match(error.message, /could not be reached \(no answer within 50 ms\)/);
      const silentAllow = connect(configWith({ limits: [limit] }), url, { redisTimeoutMs: 50 });
      assert.deepEqual(await sequence(1, () => send(silentAllow)), ['sent']);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  test('a wrong password: refused or allowed as configured, and the password is in no error', async () => {
    const redis = await redisServer({ password: 'the-right-password-81' });
    const wrong = redis.url.replace('the-right-password-81', 'a-wrong-password-27');
    const refuse = connect(configWith({ limits: [limit], onStoreError: 'refuse' }), wrong);
    const error = await rejection(send(refuse));
    assert.equal(error.code, 'general');
    noSecret(errorText(error), 'a-wrong-password-27');
    noSecret(errorText(error), 'the-right-password-81');
    assert.match(error.message, /redis:\/\/127\.0\.0\.1:\d+/);
    const right = connect(configWith({ limits: [limit], onStoreError: 'refuse' }), redis.url);
    assert.deepEqual(await sequence(3, () => send(right)), ['sent', 'sent', 'rate_limit_exceeded']);
  });

  test('an invalid URL is refused as an option, naming its variable and not its password', () => {
    for (const bad of ['http://127.0.0.1:6379', 'redis://:pw-in-url-55@127.0.0.1:notaport', 'unix:///tmp/redis.sock']) {
      assert.throws(
        () => connect(validConfig(), bad),
        (error) => {
          assert.equal(error.code, 'invalid_config');
          assert.match(error.message, /options\.redisUrl \(TWILIO_SMS_NATIVE_REDIS_URL for the Logto module\) must be a redis:\/\/ or rediss:\/\/ URL/);
          noSecret(errorText(error), 'pw-in-url-55');
          return true;
        }
      );
    }
  });
});

test('rediss://: the server certificate is verified against NODE_EXTRA_CA_CERTS', async () => {
  const pki = makePki(join(tmpdir(), 'connector-twilio-sms-native-pki'));
  const redis = await redisServer({ tls: { cert: join(pki.dir, 'server.pem'), key: join(pki.dir, 'server-key.pem'), ca: pki.caPath } });
  const source = `
    import { TwilioSmsConnector } from './index.js';
    import { validConfig } from './__test__/fixtures.js';
    const connector = new TwilioSmsConnector(
      validConfig({ smsPumping: { limits: [{ by: 'ip', max: 1, windowSeconds: 60 }], onStoreError: 'refuse' } }),
      { baseUrl: process.env.BASE_URL, redisUrl: process.env.REDIS_URL, redisTimeoutMs: 2000 }
    );
    const results = [];
    for (let i = 0; i < 2; i += 1) {
      results.push(await connector.sendMessage('+14155550100', 'SignIn', { code: '1' }, { ip: '192.0.2.1' }).then(() => 'sent', (e) => e.code + ': ' + e.message));
    }
    console.log(JSON.stringify(results));
    process.exit(0);
  `;
  await clearOfWindowEnd(60, 10_000);
  const trusted = lastJson(await runChild(source, { BASE_URL: server.url, REDIS_URL: redis.url, NODE_EXTRA_CA_CERTS: pki.caPath }));
  assert.equal(trusted[0], 'sent');
  assert.match(trusted[1], /^rate_limit_exceeded: /);
  // Without the CA the certificate is not trusted: no count, so refuse refuses.
  const untrusted = lastJson(await runChild(source, { BASE_URL: server.url, REDIS_URL: redis.url, NODE_EXTRA_CA_CERTS: '' }));
  assert.match(untrusted[0], /^general: Refused before sending: the send counters \(rediss:\/\/127\.0\.0\.1:\d+\) could not be reached/);
});
