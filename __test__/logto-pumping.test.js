// The SMS-pumping defence inside the real Logto core (1.43.0 RC, built from source by
// support/logto-core.js): core with this connector, counting on a real Redis
// (TWILIO_SMS_NATIVE_REDIS_URL in core's environment), `smsPumping` saved through the
// Management API, and the end user's path, the Experience API, which passes the end user's
// address to the connector. Each refusal is asserted as Logto answers it (HTTP status and
// error code), with what the Twilio stand-in saw, what Redis holds and the line core's output
// got.
//
// Runs on Node 22 (core needs ^22.14): scripts/test-suite.sh node22-gnu and node22-musl run
// it; the system runtime (Node 20) leaves it out (see scripts/test-suite.sh).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';

import { authToken, basicAuth, validConfig } from './fixtures.js';
import { makePki } from '../support/certs.js';
import {
  addConnector,
  apiClient,
  assertCoreNode,
  createInstance,
  enablePhoneSignUp,
  managementToken,
  packConnector,
  prepareLogtoCore,
  seedDatabase,
  startCore,
  startInteraction,
  startPostgres,
  TWILIO_CONNECTOR_ID,
} from '../support/logto-core.js';
import { startRedis } from '../support/redis-server.js';
import { startTwilioServer } from '../support/twilio-server.js';
import { clearOfWindowEnd } from './support/wait.js';

const KEY_PREFIX = 'twilio-sms-native:';
// The ip limits' window: the longest the config takes (30 days). Windows are aligned to the
// Unix epoch, so a short one could end between two sends of a test and reset its count.
const WINDOW = 2_592_000;

const work = mkdtempSync(join(tmpdir(), 'logto-pumping-test-'));
const pki = makePki(join(tmpdir(), 'connector-twilio-sms-native-pki'));

let postgres;
let redis;
let twilio;
let prepared;
let instance;
let coreEnv;
let logto;
let api;
let connectorId;
/** Every number a send asked for: none may show whole in core's output. */
const numbersSent = new Set();
/** The refusals the tests caused, in order: each must have its one line in core's output. */
const refusals = [];

before(async () => {
  // No silent skip: on another Node this fails saying why.
  assertCoreNode();
  twilio = await startTwilioServer({ tls: { key: pki.key, cert: pki.cert } });
  redis = await startRedis();
  const tarball = packConnector(work);
  prepared = await prepareLogtoCore();
  postgres = await startPostgres();
  await seedDatabase(prepared, postgres);
  instance = createInstance(prepared, join(work, 'instance'));
  await addConnector(instance, tarball);
  coreEnv = {
    TWILIO_SMS_NATIVE_BASE_URL: `https://127.0.0.1:${twilio.port}`,
    TWILIO_SMS_NATIVE_REDIS_URL: redis.url,
    NODE_EXTRA_CA_CERTS: pki.caPath,
  };
  logto = await startCore(instance, { databaseUrl: postgres.databaseUrl, env: coreEnv });
  api = apiClient(logto.url, { token: await managementToken(logto, postgres) });
  const created = await api('POST', '/api/connectors', { connectorId: TWILIO_CONNECTOR_ID, config: validConfig() });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  connectorId = created.body.id;
  await enablePhoneSignUp(api);
  // Core runs our binary for this runtime's libc (musl on the musl runtime, as in the image).
  const maps = readFileSync(`/proc/${logto.child.pid}/maps`, 'utf8');
  assert.deepEqual(
    [...new Set(maps.match(/connector-twilio-sms-native\.[\w-]+\.node/g))],
    [`connector-twilio-sms-native.linux-${process.arch}-${prepared.libc === 'musl' ? 'musl' : 'gnu'}.node`]
  );
});

after(async () => {
  await logto?.stop();
  await postgres?.stop();
  await redis?.close();
  await twilio?.close();
  rmSync(work, { recursive: true, force: true });
});

// The 30-day windows and the daily budget end at 00:00 UTC: no test starts in the two minutes
// before it (a test's sends through core take well under that).
beforeEach(() => clearOfWindowEnd(86_400, 120_000));

// --- helpers ---------------------------------------------------------------------------------

let phoneCounter = 0;
/**
 * A fresh UK mobile number per send (as Logto takes it: digits, no `+`), so Logto's own limit
 * per recipient (10 per 600 s) never is what stops a send.
 */
const newPhone = () => {
  phoneCounter += 1;
  const phone = `447400${String(100000 + phoneCounter)}`;
  numbersSent.add(phone);
  return phone;
};

/** The connector's config with `smsPumping`, saved through the Management API. */
async function saveSmsPumping(smsPumping) {
  const patched = await api('PATCH', `/api/connectors/${connectorId}`, { config: validConfig({ smsPumping }) });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  assert.deepEqual(patched.body.config.smsPumping, smsPumping, 'core saved smsPumping as given');
}

/** Every count starts from zero (a test's limits are not reached by another's sends). */
const flushRedis = async () => assert.equal(await redis.command(['FLUSHALL']), '+OK\r\n');

/** The counters in Redis: key → [count, seconds to live]. */
async function redisCounts() {
  const reply = await redis.command(['KEYS', `${KEY_PREFIX}*`]);
  const keys = reply.split('\r\n').filter((line) => line.startsWith(KEY_PREFIX));
  const counts = {};
  for (const key of keys) {
    const [, value] = (await redis.command(['GET', key])).split('\r\n');
    const ttl = Number(/^:(-?\d+)/.exec(await redis.command(['TTL', key]))[1]);
    counts[key] = [Number(value), ttl];
  }
  return counts;
}

/** The counters, keyed by what follows `{account}:` (the account part is a hash, same for all). */
async function countsByRule() {
  const counts = await redisCounts();
  const byRule = {};
  for (const [key, [count, ttl]] of Object.entries(counts)) {
    const match = /^twilio-sms-native:\{([0-9a-f]{24})\}:(.+)$/.exec(key);
    assert.ok(match, `a key under the documented prefix, its account hashed: ${key}`);
    assert.ok(ttl > 0, `${key} expires (TTL ${ttl})`);
    // The UTC day's number (days since the epoch) as D: which day it is is not the point.
    byRule[match[2].replace(/^day:\d+:/, 'day:D:')] = count;
  }
  return byRule;
}

const messagesSince = (from) => twilio.requests.slice(from).filter((request) => request.url.endsWith('/Messages.json'));
const lookupsSince = (from) => twilio.requests.slice(from).filter((request) => request.url.startsWith('/v2/PhoneNumbers/'));
const to = (request) => request.form.find(([key]) => key === 'To')?.[1];

/** Sends codes to fresh numbers; resolves what Logto answered each and what Twilio got. */
async function sendCodes(interaction, count) {
  const outcomes = [];
  for (let index = 0; index < count; index += 1) {
    const phone = newPhone();
    const from = twilio.requests.length;
    const sent = await interaction.sendCode(phone);
    outcomes.push({
      phone,
      status: sent.status,
      code: sent.body?.code ?? null,
      body: sent.body,
      messages: messagesSince(from).map(to),
      requests: twilio.requests.length - from,
    });
  }
  return outcomes;
}

/** What Logto answered each send, and how many requests of any kind reached the stand-in. */
const answers = (outcomes) => outcomes.map(({ status, code, requests }) => [status, code, requests]);

/** A refusal's words as Logto returns them: the connector's message, in `data.message`. */
const refusalMessage = (outcome) => outcome.body?.data?.message ?? JSON.stringify(outcome.body);

/** What Logto answered a refused send, in the test's output for whoever reads the run. */
const report = (what, status, body) => console.log(`${what}: Logto answered ${status} ${JSON.stringify(body)}`);

// --- the tests -------------------------------------------------------------------------------

test('an ip limit: after max codes from one client to different numbers, Logto answers 429 connector.rate_limit_exceeded and Twilio gets nothing', async () => {
  await flushRedis();
  const max = 3;
  await saveSmsPumping({ limits: [{ by: 'ip', max, windowSeconds: WINDOW }] });
  const since = new Date().toISOString();
  const interaction = await startInteraction(logto, 'Register');
  const outcomes = await sendCodes(interaction, max + 1);
  assert.deepEqual(answers(outcomes), [
    [200, null, 1],
    [200, null, 1],
    [200, null, 1],
    [429, 'connector.rate_limit_exceeded', 0],
  ]);
  for (const { phone, messages } of outcomes.slice(0, max)) assert.deepEqual(messages, [`+${phone}`]);
  const refused = outcomes[max];
  report('the ip limit', refused.status, refused.body);
  assert.match(
    refusalMessage(refused),
    /^Refused before sending by smsPumping\.limits\[0\]: at most 3 sends per 2592000 s for the client network 127\.0\.•\.•\/32; it resets in \d+ s$/
  );
  refusals.push({ rule: 'smsPumping.limits[0]', by: 'ip', phone: refused.phone });

  // The address core passed is the one it records for the request (ctx.request.ip, in its
  // logs table): the test's own 127.0.0.1, which core's dual-stack listener reports as
  // ::ffff:127.0.0.1 (the connector counts it as 127.0.0.1).
  const addresses = await postgres.rows(`select distinct payload->>'ip' as ip from logs where payload ? 'ip' and created_at >= '${since}'::timestamptz`);
  assert.equal(addresses.length, 1, JSON.stringify(addresses));
  assert.ok(['127.0.0.1', '::ffff:127.0.0.1'].includes(addresses[0].ip), `core passes the client's loopback address: ${addresses[0].ip}`);
  console.log(`core passed the end user's address as ${addresses[0].ip}`);

  // One counter, on Redis: the three sends that went out (the refused one added nothing).
  const counts = await countsByRule();
  assert.deepEqual(Object.keys(counts).length, 1, JSON.stringify(counts));
  const [[rule, count]] = Object.entries(counts);
  assert.match(rule, /^ip:2592000:\d+:127\.0\.0\.1\/32$/);
  assert.equal(count, max);
});

test('the ip limit counts the socket address: X-Forwarded-For does not move a client out of it (core trusts proxy headers only with TRUST_PROXY_HEADER)', async () => {
  // Continues the test above: the limit of 127.0.0.1 is spent.
  const interaction = await startInteraction(logto, 'Register', { headers: { 'x-forwarded-for': '203.0.113.7' } });
  const outcomes = await sendCodes(interaction, 1);
  assert.deepEqual(answers(outcomes), [[429, 'connector.rate_limit_exceeded', 0]]);
  report('X-Forwarded-For without TRUST_PROXY_HEADER', outcomes[0].status, outcomes[0].body);
  assert.match(refusalMessage(outcomes[0]), /for the client network 127\.0\.•\.•\/32;/);
  refusals.push({ rule: 'smsPumping.limits[0]', by: 'ip', phone: outcomes[0].phone });
});

test("the Console's test endpoint passes the admin's address: core 1.43 counts it by the ip limit like an end user's send", async () => {
  // Continues the tests above: the limit of 127.0.0.1 is spent. Core's test endpoint
  // (routes/connector/config-testing.ts) passes `ip: ctx.request.ip`, the address of whoever
  // calls the Management API, so the test send is counted (and refused) like any other.
  const before = await countsByRule();
  const config = validConfig({ smsPumping: { limits: [{ by: 'ip', max: 3, windowSeconds: WINDOW }] } });
  const phone = newPhone();
  const from = twilio.requests.length;
  const tested = await api('POST', `/api/connectors/${TWILIO_CONNECTOR_ID}/test`, { phone, config });
  report("the Console's test endpoint", tested.status, tested.body);
  assert.deepEqual([tested.status, tested.body?.code ?? null, twilio.requests.length - from], [429, 'connector.rate_limit_exceeded', 0]);
  refusals.push({ rule: 'smsPumping.limits[0]', by: 'ip', phone });
  assert.deepEqual(await countsByRule(), before, 'the refused test send added to no counter');

  // Without an ip limit, the test endpoint sends: only the ip limit stopped it.
  const unlimited = await api('POST', `/api/connectors/${TWILIO_CONNECTOR_ID}/test`, { phone, config: validConfig({ smsPumping: {} }) });
  assert.equal(unlimited.status, 204, JSON.stringify(unlimited.body));
  assert.deepEqual(messagesSince(from).map(to), [`+${phone}`]);
});

test('a dailySegments budget: once spent, Logto answers 429 connector.usage_limit_exceeded and Twilio gets nothing', async () => {
  await flushRedis();
  const total = 2;
  await saveSmsPumping({ dailySegments: { total, perCountry: { '*': 10 } } });
  const interaction = await startInteraction(logto, 'Register');
  const outcomes = await sendCodes(interaction, total + 1);
  assert.deepEqual(answers(outcomes), [
    [200, null, 1],
    [200, null, 1],
    [429, 'connector.usage_limit_exceeded', 0],
  ]);
  report('the dailySegments budget', outcomes[total].status, outcomes[total].body);
  refusals.push({ rule: 'smsPumping.dailySegments.total', phone: outcomes[total].phone });
  assert.match(refusalMessage(outcomes[total]), /smsPumping\.dailySegments/);
  // The budget counts on Redis, per UTC day: in total and for the recipients' country.
  assert.deepEqual(await countsByRule(), { 'day:D:total': total, 'day:D:GB': total });
});

test('a riskScore refusal: Lookup scoring the number 90 (maxScore 60), Logto answers 400 connector.invalid_request_parameters and no message is sent', async () => {
  await flushRedis();
  await saveSmsPumping({ riskScore: { countries: ['GB'], maxScore: 60 }, dailySegments: { total: 100 } });
  const interaction = await startInteraction(logto, 'Register');
  const [risky, fine] = [newPhone(), newPhone()];
  twilio.pumpingRisk.set(`+${risky}`, { sms_pumping_risk_score: 90 });
  const outcomes = [];
  for (const phone of [risky, fine]) {
    const from = twilio.requests.length;
    const sent = await interaction.sendCode(phone);
    outcomes.push({
      status: sent.status,
      code: sent.body?.code ?? null,
      lookups: lookupsSince(from).map((request) => request.url),
      messages: messagesSince(from).map(to),
      message: sent.body?.data?.message ?? null,
    });
    if (sent.status !== 200) report('riskScore', sent.status, sent.body);
  }
  assert.deepEqual(
    outcomes.map(({ message, ...rest }) => rest),
    [
      { status: 400, code: 'connector.invalid_request_parameters', lookups: [`/v2/PhoneNumbers/+${risky}?Fields=sms_pumping_risk`], messages: [] },
      { status: 200, code: null, lookups: [`/v2/PhoneNumbers/+${fine}?Fields=sms_pumping_risk`], messages: [`+${fine}`] },
    ]
  );
  assert.equal(
    outcomes[0].message,
    `Recipient refused before sending by smsPumping.riskScore: Twilio Lookup scores the SMS pumping risk 90 (the maximum is 60) for +44 74•••••${risky.slice(-3)}`
  );
  refusals.push({ rule: 'smsPumping.riskScore', phone: risky });
  // Lookup refused it before the budget: only the number that was sent spent a segment. The
  // two answers are cached on Redis too, under a digest of each number.
  const counts = await countsByRule();
  const cached = Object.keys(counts).filter((rule) => rule.startsWith('lookup:'));
  assert.equal(cached.length, 2, Object.keys(counts).join('\n'));
  assert.ok(
    cached.every((rule) => /^lookup:[0-9a-f]{32}$/.test(rule)),
    cached.join('\n')
  );
  for (const rule of cached) delete counts[rule];
  assert.deepEqual(counts, { 'day:D:total': 1 });
});

test("each refusal is one JSON line in core's output, the number masked, no whole number and no credential", () => {
  const output = logto.log();
  const lines = output
    .split('\n')
    .filter((line) => line.includes('"sms_pumping_refused"'))
    .map((line) => JSON.parse(line.slice(line.indexOf('{'))));
  assert.deepEqual(
    lines.map((line) => [line.source, line.event, line.rule, line.to]),
    refusals.map(({ rule, phone }) => ['connector-twilio-sms-native', 'sms_pumping_refused', rule, `+44 74•••••${phone.slice(-3)}`])
  );
  for (const [index, { by }] of refusals.entries()) {
    if (by === 'ip') assert.equal(lines[index].ip, '127.0.•.•');
  }
  for (const phone of numbersSent) assert.ok(!output.includes(phone), `no whole number in core's output (${phone.slice(0, 6)}…)`);
  const basic = basicAuth().slice('Basic '.length);
  assert.ok(!output.includes(authToken) && !output.includes(basic), "the auth token is not in core's output");
});

test('behind a proxy, with TRUST_PROXY_HEADER=1, core passes the X-Forwarded-For address: each client is counted apart, IPv6 by its /64', async () => {
  // Core restarted as an operator behind a load balancer would run it: Koa's `proxy` on.
  await logto.stop();
  logto = await startCore(instance, { databaseUrl: postgres.databaseUrl, env: { ...coreEnv, TRUST_PROXY_HEADER: '1' } });
  api = apiClient(logto.url, { token: await managementToken(logto, postgres) });
  await flushRedis();
  await saveSmsPumping({ limits: [{ by: 'ip', max: 1, windowSeconds: WINDOW }] });
  const outcomes = {};
  for (const [client, address] of [
    ['A', '203.0.113.7'],
    ['A again', '203.0.113.7'],
    ['B', '198.51.100.9'],
    ['C (IPv6)', '2001:db8:1:2::5'],
    ['D (IPv6, the same /64 as C)', '2001:db8:1:2::6'],
  ]) {
    const interaction = await startInteraction(logto, 'Register', { headers: { 'x-forwarded-for': address } });
    const [outcome] = await sendCodes(interaction, 1);
    outcomes[client] = [outcome.status, outcome.code, outcome.requests, outcome.status === 200 ? null : refusalMessage(outcome).replace(/\d+ s$/, 'N s')];
    if (outcome.status !== 200) report(`TRUST_PROXY_HEADER=1, client ${client}`, outcome.status, outcome.body);
  }
  const refused = (network) => [
    429,
    'connector.rate_limit_exceeded',
    0,
    `Refused before sending by smsPumping.limits[0]: at most 1 send per ${WINDOW} s for the client network ${network}; it resets in N s`,
  ];
  assert.deepEqual(outcomes, {
    A: [200, null, 1, null],
    'A again': refused('203.0.•.•/32'),
    B: [200, null, 1, null],
    'C (IPv6)': [200, null, 1, null],
    'D (IPv6, the same /64 as C)': refused('2001:db8:•/64'),
  });
  const counts = await countsByRule();
  assert.deepEqual(
    Object.entries(counts)
      .map(([rule, count]) => [rule.replace(/^ip:2592000:\d+:/, ''), count])
      .sort(),
    [
      ['198.51.100.9/32', 1],
      ['2001:db8:1:2::/64', 1],
      ['203.0.113.7/32', 1],
    ]
  );
  const lines = logto
    .log()
    .split('\n')
    .filter((line) => line.includes('"sms_pumping_refused"'))
    .map((line) => JSON.parse(line.slice(line.indexOf('{'))));
  assert.deepEqual(
    lines.map(({ rule, ip }) => [rule, ip]),
    [
      ['smsPumping.limits[0]', '203.0.•.•'],
      ['smsPumping.limits[0]', '2001:db8:•'],
    ]
  );
});
