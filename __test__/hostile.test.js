// Hostile input, generated: wrong types everywhere, huge strings, deep nesting, lone surrogates,
// `__proto__`/`constructor` keys, 10 kB numbers, emoji, throwing getters, cycles, BigInts.
// Every case ends in a correct send or a ConnectorError with the right code; nothing crashes,
// nothing throws synchronously, no rejection goes unhandled.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { ConnectorError } from '@logto/connector-kit';

import { authToken, errorText, validConfig } from './fixtures.js';
import { mulberry32 } from './support/random.js';
import { startTwilioServer } from '../support/twilio-server.js';

// CI runs a fixed seed, so every run tests the same cases; a second, rotating seed explores
// more and prints a one-line replay command when it fails. HOSTILE_SEED runs that seed alone.
const FIXED_SEED = 20_261_125;
const ROTATING_SEED = Date.now() % 2 ** 31;
const SEEDS = process.env.HOSTILE_SEED ? [Number(process.env.HOSTILE_SEED)] : [FIXED_SEED, ROTATING_SEED];
const CASES = Number(process.env.HOSTILE_CASES ?? 400);
const replay = (seed) => `HOSTILE_SEED=${seed} HOSTILE_CASES=${CASES} node --test __test__/hostile.test.js`;

// Reseeded per run; every generator below draws from it.
let random = mulberry32(FIXED_SEED);
const pick = (items) => items[Math.floor(random() * items.length)];

const nested = (depth, leaf) => {
  let value = leaf;
  for (let i = 0; i < depth; i += 1) value = random() < 0.5 ? { a: value } : [value];
  return value;
};
const cyclic = () => {
  const value = { a: 1 };
  value.self = value;
  return value;
};
const throwing = () =>
  Object.defineProperty({}, 'code', {
    enumerable: true,
    get() {
      throw new Error('getter says no');
    },
  });

/** Hostile values; functions so each case gets a fresh one. */
const hostile = [
  () => undefined,
  () => null,
  () => true,
  () => 0,
  () => -0,
  () => NaN,
  () => Infinity,
  () => 1e308,
  // oxlint-disable-next-line no-loss-of-precision -- past 2^53 on purpose: a number JSON cannot carry exactly
  () => 12345678901234567890,
  () => 10n,
  () => Symbol('s'),
  () => () => 'fn',
  () => '',
  () => ' ',
  () => 'x'.repeat(100_000),
  () => '9'.repeat(10_000),
  () => '\ud800',
  () => 'a\udc00b',
  () => '😀👩‍👩‍👧 ✓ é',
  () => '{{code}}{{ code.length }}{{__proto__}}{{constructor.name}}',
  () => '__proto__',
  () => ({}),
  () => [],
  () => Object.create(null),
  () => new Date(0),
  () => nested(200, 'deep'),
  () => nested(20_000, 'deeper'),
  () => cyclic(),
  () => throwing(),
  () => ({
    toJSON: () => {
      throw new Error('toJSON says no');
    },
  }),
  () =>
    new Proxy(
      {},
      {
        get: () => {
          throw new Error('proxy get');
        },
        has: () => {
          throw new Error('proxy has');
        },
      }
    ),
  () => JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}'),
];
const anyValue = () => pick(hostile)();

const setOwn = (object, key, value) => Object.defineProperty(object, key, { value, enumerable: true, configurable: true, writable: true });

/** A config with one hostile change, and whether the JS guard would accept it. */
const hostileConfig = () => {
  const config = validConfig();
  const value = anyValue();
  switch (pick(['unknown', 'string', 'templates', 'template', 'host', 'flag'])) {
    case 'unknown':
      setOwn(config, pick(['__proto__', 'constructor', 'prototype', 'extra', '😀', '']), value);
      return { config, valid: true };
    case 'string': {
      const key = pick(['accountSID', 'authToken', 'fromMessagingServiceSID']);
      setOwn(config, key, value);
      return { config, valid: typeof value === 'string' ? true : undefined };
    }
    case 'templates':
      config.templates = value;
      return { config, valid: false };
    case 'template': {
      const index = Math.floor(random() * config.templates.length);
      const field = pick(['usageType', 'content', 'whole', 'extra']);
      if (field === 'whole') config.templates[index] = value;
      else setOwn(config.templates[index], field, value);
      return { config, valid: field === 'extra' || (field === 'content' && typeof value === 'string') ? true : undefined };
    }
    case 'host':
      config.host = value;
      return { config, valid: value === undefined ? true : typeof value === 'string' ? undefined : false };
    default:
      config.disableRiskCheck = value;
      return { config, valid: value === undefined || typeof value === 'boolean' ? true : false };
  }
};

let server;
let createConnector;
const unhandled = [];
const onUnhandled = (reason) => unhandled.push(reason);

before(async () => {
  process.on('unhandledRejection', onUnhandled);
  server = await startTwilioServer();
  process.env.TWILIO_SMS_NATIVE_BASE_URL = server.url;
  // The Logto module reads the base URL once, at import.
  ({ default: createConnector } = await import('../lib/index.js?hostile'));
});
after(async () => {
  process.off('unhandledRejection', onUnhandled);
  delete process.env.TWILIO_SMS_NATIVE_BASE_URL;
  await server.close();
});

const outcome = async (run) => {
  try {
    return { ok: await run() };
  } catch (error) {
    assert.ok(error instanceof ConnectorError, `not a ConnectorError: ${error?.stack ?? error}`);
    assert.ok(!errorText(error).includes(authToken), 'the token leaked');
    return { code: error.code, error };
  }
};

for (const seed of SEEDS) {
  const kind = seed === FIXED_SEED ? 'fixed' : 'rotating';
  test(`hostile configs and messages through the Logto module (${kind} seed ${seed}, ${CASES} cases; replay: ${replay(seed)})`, async (t) => {
    t.diagnostic(`replay: ${replay(seed)}`);
    random = mulberry32(seed);
    await hostileRun();
  });
}

async function hostileRun() {
  const connector = await createConnector({ getConfig: async () => validConfig() });
  const counts = {};
  for (let i = 0; i < CASES; i += 1) {
    const { config, valid } = hostileConfig();
    const parsed = connector.configGuard.safeParse(config);
    if (valid !== undefined) assert.equal(parsed.success, valid, `case ${i}: guard on ${String(parsed.error?.message)}`);

    const to = random() < 0.7 ? pick(['+15550001111', '15550001111', '', '\ud800', '😀']) : anyValue();
    const type = random() < 0.7 ? pick(['SignIn', 'Register', 'Test', 'Nope']) : anyValue();
    const payload = random() < 0.5 ? { code: anyValue(), application: anyValue(), [pick(['__proto__', 'constructor', 'x'])]: anyValue() } : anyValue();
    const requestsBefore = server.requests.length;
    const result = await outcome(() => connector.sendMessage({ to, type, payload }, config));
    const key = result.code ?? 'sent';
    counts[key] = (counts[key] ?? 0) + 1;

    if (!parsed.success) {
      assert.equal(result.code, 'invalid_config', `case ${i}: an invalid config gave ${key}`);
    } else if (typeof to !== 'string') {
      assert.equal(result.code, 'invalid_request_parameters', `case ${i}`);
    } else {
      const reached = server.requests.length === requestsBefore + 1;
      if (result.code === undefined) {
        assert.ok(reached, `case ${i}: sent without a request`);
        // Lone surrogates travel as U+FFFD, as URLSearchParams sends them.
        const wellFormed = Buffer.from(to.startsWith('+') ? to : `+${to}`).toString();
        assert.equal(server.requests.at(-1).form[0][1], wellFormed);
      } else if (result.code === 'invalid_request_parameters') {
        // A payload that throws when read, or renders past the body cap: nothing is sent.
        assert.ok(!reached, `case ${i}: sent, then rejected`);
        assert.match(result.error.data.message, /^payload\.\S+ could not be read: |^The message body would be longer than/, `case ${i}`);
      } else {
        // A guard-valid but absurd accountSID: refused before sending, or answered 404 by the
        // server (an empty one leaves the URL without an account), as Twilio would.
        assert.equal(result.code, 'general', `case ${i}: ${result.error.message}`);
        const why = reached ? JSON.parse(result.error.data.message).status : result.error.data.message;
        assert.match(String(why), /^404$|^accountSID is \d+ characters long/, `case ${i}`);
      }
    }
  }
  // Let any stray promise surface before checking.
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(unhandled, []);
  assert.ok(counts.sent > CASES / 10 && counts.invalid_config > CASES / 10, JSON.stringify(counts));
}

test('null, undefined and missing payloads, data and config', async () => {
  const connector = await createConnector({ getConfig: async () => validConfig() });
  for (const payload of [null, undefined, 0, 'text', [], Object.create(null)]) {
    const { ok } = await outcome(() => connector.sendMessage({ to: '1', type: 'SignIn', payload }));
    assert.equal(ok.body, 'Sign in code {{ code }}');
  }
  for (const data of [undefined, null, {}]) {
    const { code } = await outcome(() => connector.sendMessage(data));
    assert.equal(code, 'invalid_request_parameters');
  }
  for (const config of [null, 0, 'config', [], () => {}]) {
    const { code, error } = await outcome(() => connector.sendMessage({ to: '1', type: 'SignIn', payload: {} }, config ?? {}));
    assert.equal(code, 'invalid_config', String(error?.message));
  }
});
