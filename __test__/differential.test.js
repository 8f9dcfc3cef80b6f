// Differential test: our connector (../lib/index.js) against the official JS one
// (@logto/connector-twilio-sms 1.4.4) on a few hundred deterministic pseudo-random
// cases. Both talk to the same local HTTPS fake of Twilio, one case at a time, and
// must send byte-identical requests and end with the same outcome, except for the
// deviations docs/differences.md lists:
// - HTTP 429: ours retries it (the same request each time), then rejects with
//   rate_limit_exceeded, JS with general. Ours' second 429 of a case carries
//   `Retry-After: 3600`, a wait past any deadline, so ours ends after exactly two requests
//   whatever the machine's speed; JS sends one request and never sees that header;
// - `host`: 1.4.4 ignores the key, ours validates it, so an invalid host is
//   invalid_config for ours only;
// - an error answer with an empty body: JS reports an empty message, ours
//   "<origin> answered HTTP <status> with an empty body";
// - `host` forms Twilio retired on 2026-04-28 (api.ie1.twilio.com, api.au1, api.br1, api.de1,
//   api.jp1, api.sg1, api.us2): upstream's host rule accepts them, ours refuses them with
//   invalid_config naming the replacement (deviation `retired-host`);
// - other well-formed `host`s that are not a REST API host Twilio documents
//   (api.frankfurt.de1.twilio.com, api.dublin.us1.twilio.com): upstream's rule accepts them, ours
//   refuses them with invalid_config naming the documented hosts (deviation `undocumented-host`);
// - a 2xx answer that is not a Message resource (a JSON object with a string sid): JS
//   resolves, ours rejects with invalid_response after the same one request (deviation
//   `not-a-message`).
// 3xx answers (JS follows them, ours never does) are not generated here.
//
// The JS connector runs in a child process (support/js-connector-child.mjs) with a
// preload that sends its fixed https://api.twilio.com to the local server; ours is
// pointed there with TWILIO_SMS_NATIVE_BASE_URL. Set DIFF_SEED to explore other cases.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { ConnectorError } from '@logto/connector-kit';

import { makePki } from '../support/certs.js';
import { jsonSafe } from './support/json-safe.js';
import { mulberry32 } from './support/random.js';
import { RETRY_AFTER_PAST_ANY_DEADLINE, startTwilioServer, twilioError } from '../support/twilio-server.js';

const SEED = process.env.DIFF_SEED ? Number(process.env.DIFF_SEED) >>> 0 : 0x7717_5a5e;
const CASE_COUNT = 240;
const CASE_TIMEOUT_MS = 15_000;
const FORM_ORDER = ['To', 'MessagingServiceSid', 'Body', 'RiskCheck'];
const supportDir = fileURLToPath(new URL('./support/', import.meta.url));
const packageDir = fileURLToPath(new URL('../', import.meta.url));

// ---------------------------------------------------------------------------
// Deterministic case generation
// ---------------------------------------------------------------------------

const random = mulberry32(SEED);
const chance = (p) => random() < p;
const pick = (items) => items[Math.floor(random() * items.length)];
const hex = (length) => Array.from({ length }, () => '0123456789abcdef'[Math.floor(random() * 16)]).join('');
const digits = (length) => Array.from({ length }, () => Math.floor(random() * 10)).join('');
const shuffle = (items) => {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
};

const REQUIRED_TYPES = ['Register', 'SignIn', 'ForgotPassword', 'Generic'];
const OPTIONAL_TYPES = ['OrganizationInvitation', 'UserPermissionValidation', 'BindNewIdentifier', 'MfaVerification', 'BindMfa', 'Test'];
// Types asked for in sendMessage; some never have a template (→ Generic fallback).
const SEND_TYPES = [...REQUIRED_TYPES, ...OPTIONAL_TYPES, 'signin', 'Custom', ''];

const ACCOUNT_SIDS = [
  () => `AC${hex(32)}`,
  () => `AC${hex(32)}`,
  () => `AC${hex(32)}`,
  () => `AC${hex(32).toUpperCase()}`,
  () => `SK${hex(32)}`,
  () => 'ACtest',
  () => '', // the JS guard accepts the empty string
  () => 'AC test space',
  () => 'ACünïcødé',
];
const AUTH_TOKENS = [() => hex(32), () => hex(32), () => `tok:with:colons-${hex(4)}`, () => 'tøken ✓ 😀', () => '', () => ' padded '];
const SERVICE_SIDS = [
  () => `MG${hex(32)}`,
  () => `MG${hex(32)}`,
  () => 'MG service ✓ ünï',
  () => ' leading and trailing ',
  () => 'a&b=c+d%20e/f?g#h',
  () => '',
  () => '😀',
];
const TEMPLATE_CONTENTS = [
  'Your Logto verification code is {{code}}. The code will remain active for 10 minutes.',
  '{{ code }} is your code',
  '{{application.name}}: {{code}}',
  'List {{list.0}}/{{list.1}}/{{list.5}}/{{list.length}}',
  'Num {{num}} {{float}} {{tiny}} {{huge}} {{negative}}',
  'Missing {{missing}} {{missing.deep}} kept',
  'Deep {{a.b.c}} {{a.b.missing.x}} {{a.b.c.d}}',
  'Bool {{flag}} null {{nil}}',
  'Objects {{application}} arrays {{list}} empty {{empty}}',
  '{{code}}{{code}}{{ code}}{{code }}{{  code  }}',
  '{{\tcode\n}} tabs and newlines',
  'Unicode ✓ 😀 {{code}} ünïcødé 中文',
  'No placeholders at all',
  '{{}} {{ }} {{code-x}} {{code.}} {{.code}} {code} {{{code}}} {{code}',
  '{{code.length}} {{code.0}}',
  '{{\u00a0code\u00a0}} nbsp',
  '{{ünï}} non-ASCII key',
  '   ',
  '',
  'Line1\nLine2\r\nLine3 {{code}}',
  'Symbols &=+%20?#/ {{code}}',
  '{{application.name}} {{application.name.first}} {{application.}}',
  '{{locale}} {{ locale }}',
  // Inherited properties count as present for connector-kit (`key in payload`).
  '{{constructor}} {{toString}} {{__proto__}} {{hasOwnProperty}} {{constructor.name}} {{valueOf}}',
];
const PHONE_NUMBERS = [
  () => `+1${digits(10)}`,
  () => `1${digits(10)}`,
  () => `+44${digits(10)}`,
  () => `86${digits(11)}`,
  () => '',
  () => '+',
  () => '++15551234567',
  () => ' +1 555 123 4567',
  () => '+١٢٣٤٥',
  () => '00441234567890',
];
const NUMBERS = [0, 1, -1, 1.5, 1e21, 1e-7, 0.1 + 0.2, 2 ** 53 + 2, 123_456_789, 1e300, 100, 5e-324];
const APP_NAMES = ['Logto', 'Acme ✓', '应用', 'Ünï 😀', '', 'a&b=c'];

function makePayload() {
  const payload = {};
  if (chance(0.85)) payload.code = pick([() => digits(6), () => digits(4), () => Number(digits(6)), () => 'x\ud800y', () => ''])();
  if (chance(0.5)) payload.application = pick([() => ({ name: pick(APP_NAMES) }), () => ({}), () => ({ name: { first: 'F' } })])();
  if (chance(0.4)) payload.list = pick([['a', 'b'], [], [1, null, 'c']]);
  if (chance(0.4)) {
    payload.num = pick(NUMBERS);
    payload.float = pick(NUMBERS);
    payload.tiny = 1e-7;
    payload.huge = 1e21;
    payload.negative = -42.5;
  }
  if (chance(0.3)) payload.flag = chance(0.5);
  if (chance(0.3)) payload.nil = null;
  if (chance(0.3)) payload.a = pick([{ b: { c: 'deep' } }, { b: 'flat' }, {}, { b: { c: { d: 1 } } }]);
  if (chance(0.2)) payload.empty = {};
  if (chance(0.2)) payload['ünï'] = 'non-ascii-key';
  if (chance(0.2)) payload.locale = 'en';
  return payload;
}

function makeTemplates() {
  const types = shuffle([...REQUIRED_TYPES, ...OPTIONAL_TYPES.filter(() => chance(0.5))]);
  const templates = types.map((usageType) => ({ usageType, content: pick(TEMPLATE_CONTENTS) }));
  // Duplicates (the first one wins) and extra keys (allowed).
  if (chance(0.2)) templates.push({ usageType: pick(types), content: 'duplicate, never used {{code}}' });
  // `locale` is no longer an extra key: ours selects localized templates by it (tested
  // in features.test.js), which the JS connector cannot match. `lang` keeps the case.
  if (chance(0.15)) templates[0] = { ...templates[0], subject: 'extra key', lang: 'en' };
  return templates;
}

function makeValidConfig() {
  const config = {
    accountSID: pick(ACCOUNT_SIDS)(),
    authToken: pick(AUTH_TOKENS)(),
    fromMessagingServiceSID: pick(SERVICE_SIDS)(),
    templates: makeTemplates(),
  };
  const risk = random();
  if (risk < 0.33) config.disableRiskCheck = true;
  else if (risk < 0.66) config.disableRiskCheck = false;
  if (chance(0.1)) config.unknownTopLevelKey = 'accepted';
  return config;
}

/** Mutations that make a config invalid for both connectors. */
const INVALIDATIONS = [
  (c) => delete c.accountSID,
  (c) => delete c.authToken,
  (c) => delete c.fromMessagingServiceSID,
  (c) => delete c.templates,
  (c) => (c.accountSID = 12_345),
  (c) => (c.authToken = null),
  (c) => (c.fromMessagingServiceSID = ['MG']),
  (c) => (c.disableRiskCheck = 'true'),
  (c) => (c.disableRiskCheck = 1),
  (c) => (c.disableRiskCheck = null),
  (c) => (c.templates = {}),
  (c) => (c.templates = 'Generic'),
  (c) => (c.templates = []),
  (c) => (c.templates[0] = { usageType: c.templates[0].usageType }),
  (c) => (c.templates[0] = { ...c.templates[0], content: 42 }),
  (c) => (c.templates[0] = { ...c.templates[0], usageType: null }),
  (c) => (c.templates[1] = 'not an object'),
  (c) => (c.templates = c.templates.filter(({ usageType }) => usageType !== pick(REQUIRED_TYPES))),
  (c) => (c.templates = c.templates.filter(({ usageType }) => !['Register', 'Generic'].includes(usageType))),
  (c) => (c.templates = c.templates.map((t) => ({ ...t, usageType: t.usageType.toLowerCase() }))),
  (c) => {
    delete c.accountSID;
    c.templates = c.templates.filter(({ usageType }) => usageType !== 'SignIn');
  },
];
const NON_OBJECT_CONFIGS = ['a string', 42, true, false, 0, [], ['accountSID']];

// `host` values both connectors end up sending to the same place with (ours through
// the base-URL override, JS because 1.4.4 ignores the key).
const VALID_HOSTS = ['api.twilio.com', 'API.TWILIO.COM', 'Api.Twilio.Com'];
// Invalid per CONTRACT §3: ours must say invalid_config; JS 1.4.4 does not look.
const INVALID_HOSTS = [
  null,
  '',
  ' ',
  'https://api.twilio.com',
  'api.twilio.com:443',
  'api.twilio.com/2010-04-01',
  'api.twilio.com?x=1',
  'api.twilio.com#f',
  'user@api.twilio.com',
  'api.twilio.com\n',
  'api.twilio.com.',
  'api.twilio.com.example.com',
  'api.example.com',
  'twilio.com',
  '127.0.0.1',
  'api..twilio.com',
  'api.-edge.twilio.com',
  'api.edge-.twilio.com',
  'api.a_b.twilio.com',
  `api.${'a'.repeat(64)}.twilio.com`,
  `api.${Array.from({ length: 62 }, () => 'abc').join('.')}.twilio.com`,
  42,
  true,
  {},
];

// Server answers (undefined = the fake's default 201 Message resource).
const json = (value) => JSON.stringify(value);
const ANSWERS = [
  { weight: 6, make: () => undefined },
  { weight: 1, make: () => ({ status: 200, body: json({ sid: `SM${hex(32)}`, status: 'accepted' }) }) },
  { weight: 1, make: () => ({ status: 202, body: 'accepted, not JSON', type: 'text/plain' }) },
  { weight: 2, make: () => ({ status: 400, body: json(twilioError(400, 21211, "The 'To' number +1555 is not a valid phone number.")) }) },
  { weight: 1, make: () => ({ status: 400, body: json(twilioError(400, 21610, 'Nachricht ungültig ✉️ – Empfänger abgemeldet')) }) },
  { weight: 1, make: () => ({ status: 401, body: json(twilioError(401, 20003, 'Authenticate')) }) },
  { weight: 1, make: () => ({ status: 404, body: json(twilioError(404, 20404, 'The requested resource was not found')) }) },
  { weight: 1, make: () => ({ status: 500, body: 'Internal Server Error', type: 'text/plain' }) },
  { weight: 1, make: () => ({ status: 503, body: '' }) },
  { weight: 1, make: () => ({ status: 503, body: '<html><body>Service Unavailable</body></html>', type: 'text/html' }) },
  { weight: 1, make: () => ({ status: 429, body: json(twilioError(429, 20429, 'Too Many Requests')) }) },
];
const pickAnswer = () => {
  let roll = random() * ANSWERS.reduce((sum, { weight }) => sum + weight, 0);
  for (const { weight, make } of ANSWERS) {
    roll -= weight;
    if (roll < 0) return make();
  }
  return undefined;
};

function makeCase(id) {
  const data = { to: pick(PHONE_NUMBERS)(), type: pick(SEND_TYPES), payload: makePayload() };
  const roll = random();
  let kind = 'valid';
  let config = makeValidConfig();
  if (roll < 0.14) {
    kind = 'invalid-config';
    pick(INVALIDATIONS)(config);
  } else if (roll < 0.18) {
    kind = 'invalid-config';
    config = pick(NON_OBJECT_CONFIGS);
  } else if (roll < 0.2) {
    // null / undefined config: both connectors fall back to getConfig (which throws).
    kind = 'get-config';
    config = chance(0.5) ? null : undefined;
  } else if (roll < 0.28) {
    kind = 'host-invalid';
    config.host = pick(INVALID_HOSTS);
  } else if (roll < 0.33) {
    kind = 'host-valid';
    config.host = pick(VALID_HOSTS);
  }
  // JSON round trip: exactly what the child receives (drops undefined, -0 → 0, ...).
  const spec = JSON.parse(JSON.stringify({ id, kind, config, data }));
  spec.answer = kind === 'valid' || kind === 'host-valid' || kind === 'host-invalid' ? pickAnswer() : undefined;
  return spec;
}

// A few fixed cases first, so the interesting paths are always covered whatever
// the seed, then the pseudo-random ones.
function fixedCases() {
  const base = {
    accountSID: 'AC0123456789abcdef0123456789abcdef',
    authToken: 'f3c2a1b0-test-auth-token-9d8e7f6a',
    fromMessagingServiceSID: 'MG0123456789abcdef0123456789abcdef',
    templates: REQUIRED_TYPES.map((usageType) => ({ usageType, content: `${usageType} {{code}}` })),
  };
  const data = { to: '15551234567', type: 'SignIn', payload: { code: '123456' } };
  const answers = ANSWERS.map(({ make }) => make());
  return [
    ...answers.map((answer) => ({ kind: 'valid', config: base, data, answer })),
    { kind: 'valid', config: { ...base, disableRiskCheck: true }, data },
    { kind: 'invalid-config', config: { ...base, templates: base.templates.slice(1) }, data },
    { kind: 'invalid-config', config: 'not an object', data },
    { kind: 'get-config', config: null, data },
    { kind: 'host-valid', config: { ...base, host: 'API.TWILIO.COM' }, data },
    { kind: 'host-invalid', config: { ...base, host: 'api.twilio.com.evil.test' }, data },
    { kind: 'host-retired', config: { ...base, host: 'api.ie1.twilio.com' }, data },
    { kind: 'host-retired', config: { ...base, host: 'api.us2.twilio.com' }, data },
    { kind: 'host-undocumented', config: { ...base, host: 'api.frankfurt.de1.twilio.com' }, data },
    { kind: 'host-undocumented', config: { ...base, host: 'API.Dublin.US1.twilio.com' }, data },
  ].map((spec, index) => ({ id: `fixed-${index}`, ...structuredClone(spec) }));
}

const cases = [...fixedCases(), ...Array.from({ length: CASE_COUNT }, (_, index) => makeCase(`r${index}`))];

// ---------------------------------------------------------------------------
// Fixtures: PKI, the fake Twilio, the JS child, our connector
// ---------------------------------------------------------------------------

const pki = makePki(join(tmpdir(), 'connector-twilio-sms-native-pki'));

let currentAnswer; // answer for the case being run (cases run strictly one at a time)
// Who is sending in the case being run ('js' or 'ours'), and how many 429s ours got in it.
let currentSender;
let our429s = 0;
const server = await startTwilioServer({
  tls: { key: pki.key, cert: pki.cert },
  respond: async (req, record, res) => {
    if (!currentAnswer) return; // default 201
    const { status, body, type = 'application/json; charset=utf-8' } = currentAnswer;
    const headers = { 'content-type': type, 'content-length': Buffer.byteLength(body) };
    // Ours retries a 429 until its deadline leaves no room for the next wait: a wait of an
    // hour ends the case at its second request, by the answer rather than by the clock (a
    // deadline that expired during a retry would end it `general`, timed out). Only ours
    // gets the header: what the JS connector sees stays the plain 429.
    if (status === 429 && currentSender === 'ours' && ++our429s >= 2) headers['retry-after'] = RETRY_AFTER_PAST_ANY_DEADLINE;
    res.writeHead(status, headers);
    res.end(body);
  },
});

// Environment for ours: must be in place before ../lib/index.js (and the native
// client, which reads it on first use) is loaded. No proxy may interfere.
const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy'];
for (const name of PROXY_VARIABLES) delete process.env[name];
process.env.NODE_EXTRA_CA_CERTS = pki.caPath;
process.env.TWILIO_SMS_NATIVE_BASE_URL = server.url;
// The default deadline, under CASE_TIMEOUT_MS so that ours reports a hang itself. A 429 case
// ends by its answers (a Retry-After past the deadline), not by this deadline.
process.env.TWILIO_SMS_NATIVE_TIMEOUT_MS = '10000';
const { default: createConnector } = await import('../lib/index.js');

/** The official connector in a child process, driven one case at a time. */
function startJsChild() {
  const env = { ...process.env, TWILIO_TEST_PORT: String(server.port), NODE_EXTRA_CA_CERTS: pki.caPath };
  delete env.TWILIO_SMS_NATIVE_BASE_URL;
  delete env.NODE_OPTIONS; // keep node --test's own hooks out of the child
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(
    process.execPath,
    ['--import', fileURLToPath(new URL('../support/js-connector-preload.mjs', import.meta.url)), join(supportDir, 'js-connector-child.mjs')],
    { cwd: packageDir, env, stdio: ['pipe', 'pipe', 'pipe'] }
  );
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const waiting = [];
  let exited = null;
  createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.resolve(JSON.parse(line)));
  child.on('exit', (code, signal) => {
    exited = new Error(`JS connector child exited (${code ?? signal}): ${stderr}`);
    for (const pending of waiting.splice(0)) pending.reject(exited);
  });
  return {
    run: (spec) =>
      new Promise((resolve, reject) => {
        if (exited) return reject(exited);
        waiting.push({ resolve, reject });
        const { id, config, data } = spec;
        child.stdin.write(`${JSON.stringify({ id, config, data })}\n`);
      }),
    close: () =>
      new Promise((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.stdin.end();
        setTimeout(() => child.kill(), 2000).unref();
      }),
  };
}

/** Our connector, in-process, with the same getConfig as the child's. */
async function runOurs(spec) {
  const connector = await createConnector({
    getConfig: async () => {
      throw new Error('not used');
    },
  });
  try {
    await connector.sendMessage(spec.data, spec.config ?? undefined);
    return { ok: true };
  } catch (error) {
    return {
      ok: false,
      name: error?.name,
      code: error?.code,
      data: jsonSafe(error?.data),
      message: String(error?.message ?? error),
      connectorError: error instanceof ConnectorError,
    };
  }
}

const withTimeout = (promise, what) => {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out`)), CASE_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
};

// ---------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------

const requestView = (record) => ({
  method: record.method,
  url: record.url,
  authorization: record.headers.authorization,
  contentType: record.headers['content-type'],
  body: record.body,
  formKeys: record.form.map(([key]) => key),
});

/** "Template with UsageType (...) should be provided!" messages from a ZodError-like value. */
const templateMessages = (data) =>
  (Array.isArray(data?.issues) ? data.issues : [])
    .map((issue) => issue?.message)
    .filter((message) => typeof message === 'string' && message.startsWith('Template with UsageType'))
    .sort();

/** Twilio's Message resource, as ours requires of a 2xx answer: a JSON object with a string sid. */
const isMessageResource = (body) => {
  try {
    const value = JSON.parse(body);
    return value !== null && typeof value === 'object' && !Array.isArray(value) && typeof value.sid === 'string';
  } catch {
    return false;
  }
};

/**
 * Compare one case. Returns { verdict: 'agree' | 'deviation' | 'mismatch', reasons, deviation }.
 */
function compare(spec, js, ours, jsRequests, ourRequests) {
  const reasons = [];
  const expectRequests = (requests, who) => {
    for (const record of requests) {
      const keys = record.form.map(([key]) => key);
      if (keys.join() !== FORM_ORDER.join()) reasons.push(`${who} form fields ${keys.join()} (want ${FORM_ORDER.join()})`);
    }
  };

  if (!ours.ok && !ours.connectorError && spec.kind !== 'get-config') {
    reasons.push(`ours rejected with a non-ConnectorError (${ours.name}: ${ours.message})`);
  }

  // Listed deviation: invalid host — ours must refuse before any I/O, JS does not look.
  if (spec.kind === 'host-invalid') {
    if (ours.ok || ours.code !== 'invalid_config') reasons.push(`ours: ${ours.ok ? 'ok' : ours.code}, want invalid_config`);
    if (ourRequests.length > 0) reasons.push(`ours sent ${ourRequests.length} request(s) despite an invalid host`);
    return reasons.length ? { verdict: 'mismatch', reasons } : { verdict: 'deviation', deviation: 'host-guard' };
  }
  // Listed deviation: a retired regional host — ours refuses it before any I/O, naming the
  // replacement.
  if (spec.kind === 'host-retired') {
    if (ours.ok || ours.code !== 'invalid_config') reasons.push(`ours: ${ours.ok ? 'ok' : ours.code}, want invalid_config`);
    if (!ours.ok && !/no longer works/.test(JSON.stringify(ours))) reasons.push('ours does not say the host no longer works');
    if (ourRequests.length > 0) reasons.push(`ours sent ${ourRequests.length} request(s) despite a retired host`);
    return reasons.length ? { verdict: 'mismatch', reasons } : { verdict: 'deviation', deviation: 'retired-host' };
  }
  // Listed deviation: a well-formed host outside the ones Twilio documents for its REST API.
  if (spec.kind === 'host-undocumented') {
    if (ours.ok || ours.code !== 'invalid_config') reasons.push(`ours: ${ours.ok ? 'ok' : ours.code}, want invalid_config`);
    if (!ours.ok && !/is not a Twilio REST API host/.test(JSON.stringify(ours))) reasons.push('ours does not say the host is not a REST API host');
    if (ourRequests.length > 0) reasons.push(`ours sent ${ourRequests.length} request(s) despite an undocumented host`);
    return reasons.length ? { verdict: 'mismatch', reasons } : { verdict: 'deviation', deviation: 'undocumented-host' };
  }

  // Listed deviation: ours retries a 429 (Twilio did not process it) with the same request,
  // and stops at the second 429, whose Retry-After (an hour) lies past its deadline.
  const retried = spec.answer?.status === 429 && jsRequests.length === 1;
  if (retried) {
    if (ourRequests.length !== 2) {
      reasons.push(`429: ours sent ${ourRequests.length} request(s), want 2 (retried once, then Retry-After past the deadline)`);
    }
    for (const [index, record] of ourRequests.entries()) {
      if (JSON.stringify(requestView(record)) !== JSON.stringify(requestView(ourRequests[0]))) {
        reasons.push(`429: ours changed request ${index + 1} from the first`);
      }
    }
    ourRequests = ourRequests.slice(0, 1);
  }

  // Requests must be identical, one for one.
  if (jsRequests.length !== ourRequests.length) {
    reasons.push(`request count: JS ${jsRequests.length}, ours ${ourRequests.length}`);
  } else {
    jsRequests.forEach((record, index) => {
      const [a, b] = [requestView(record), requestView(ourRequests[index])];
      for (const field of Object.keys(a)) {
        if (JSON.stringify(a[field]) !== JSON.stringify(b[field])) {
          reasons.push(`request ${field}: JS ${JSON.stringify(a[field])}, ours ${JSON.stringify(b[field])}`);
        }
      }
    });
  }
  expectRequests(jsRequests, 'JS');
  expectRequests(ourRequests, 'ours');

  // Listed deviation: 429 → ours rate_limit_exceeded, JS general (both with the raw body).
  const answer = spec.answer;
  const notAMessage = jsRequests.length === 1 && answer && answer.status < 300 && !isMessageResource(answer.body);
  let deviation;
  if (retried) {
    deviation = 'http-429';
    if (js.ok || js.code !== 'general') reasons.push(`JS on 429: ${js.ok ? 'ok' : js.code}, expected general`);
    if (ours.ok || ours.code !== 'rate_limit_exceeded') reasons.push(`ours on 429: ${ours.ok ? 'ok' : ours.code}, want rate_limit_exceeded`);
  } else if (notAMessage) {
    // Listed deviation: JS resolves on any 2xx; ours only with a Message resource.
    deviation = 'not-a-message';
    if (!js.ok) reasons.push(`JS on a 2xx that is not a Message resource: ${js.code ?? js.name}, expected ok`);
    if (ours.ok || ours.code !== 'invalid_response')
      reasons.push(`ours on a 2xx that is not a Message resource: ${ours.ok ? 'ok' : ours.code}, want invalid_response`);
  } else if (js.ok !== ours.ok) {
    reasons.push(`outcome: JS ${js.ok ? 'ok' : `${js.code ?? js.name}: ${js.message}`}, ours ${ours.ok ? 'ok' : `${ours.code ?? ours.name}: ${ours.message}`}`);
  } else if (!js.ok) {
    if (js.code !== ours.code) reasons.push(`error code: JS ${js.code}, ours ${ours.code}`);
    if (js.code === undefined && js.message !== ours.message) reasons.push(`error message: JS ${js.message}, ours ${ours.message}`);
    if (js.code === 'invalid_config') {
      const [a, b] = [templateMessages(js.data), templateMessages(ours.data)];
      if (a.join('|') !== b.join('|')) reasons.push(`template issue: JS ${JSON.stringify(a)}, ours ${JSON.stringify(b)}`);
    }
  }
  // A non-2xx answer must surface as general/rate_limit with the raw body as data.message.
  // Listed deviation: an empty body gives JS an empty message; ours names the status instead.
  if (answer && answer.status >= 300 && jsRequests.length === 1) {
    const emptyBody = answer.body.trim() === '';
    for (const [who, outcome] of [
      ['JS', js],
      ['ours', ours],
    ]) {
      const want = emptyBody && who === 'ours' ? `answered HTTP ${answer.status} with an empty body` : answer.body;
      const got = outcome.data?.message;
      const matches = emptyBody && who === 'ours' ? typeof got === 'string' && got.endsWith(want) : got === want;
      if (!outcome.ok && !matches) {
        reasons.push(`${who} data.message ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
      }
    }
    if (emptyBody && !ours.ok && !deviation) deviation = 'empty-body';
  }

  if (reasons.length) return { verdict: 'mismatch', reasons };
  return deviation ? { verdict: 'deviation', deviation } : { verdict: 'agree' };
}

// ---------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------

let jsChild;
before(() => {
  jsChild = startJsChild();
});
after(async () => {
  await jsChild?.close();
  await server.close();
});

test(`differential: ours vs @logto/connector-twilio-sms 1.4.4 (seed ${SEED})`, { timeout: 300_000 }, async (t) => {
  const started = Date.now();
  const deviations = {};
  const mismatches = [];
  let agreements = 0;
  let ran = 0;
  let requestsCompared = 0;

  for (const spec of cases) {
    currentAnswer = spec.answer;

    currentSender = 'js';
    let mark = server.requests.length;
    const js = await withTimeout(jsChild.run(spec), `JS case ${spec.id}`);
    const jsRequests = server.requests.slice(mark);

    currentSender = 'ours';
    our429s = 0;
    mark = server.requests.length;
    const ours = await withTimeout(runOurs(spec), `our case ${spec.id}`);
    const ourRequests = server.requests.slice(mark);
    ran += 1;
    if (jsRequests.length === ourRequests.length) requestsCompared += ourRequests.length;

    const result = compare(spec, js, ours, jsRequests, ourRequests);
    if (result.verdict === 'agree') agreements += 1;
    else if (result.verdict === 'deviation') deviations[result.deviation] = (deviations[result.deviation] ?? 0) + 1;
    else mismatches.push({ spec, js, ours, reasons: result.reasons });
  }

  const listed =
    Object.entries(deviations)
      .map(([kind, count]) => `${kind}=${count}`)
      .join(', ') || 'none';
  t.diagnostic(
    `differential: ${ran} cases, ${agreements} agreements, listed deviations: ${listed}, ` +
      `mismatches: ${mismatches.length}, ${requestsCompared} request pairs compared, ${Date.now() - started} ms`
  );

  assert.ok(ran >= 200, `only ${ran} cases ran`);
  assert.ok(Object.keys(deviations).includes('host-guard') && Object.keys(deviations).includes('http-429'));
  if (mismatches.length) {
    const detail = mismatches
      .slice(0, 10)
      .map(({ spec, js, ours, reasons }) =>
        [
          `case ${spec.id} (${spec.kind})`,
          `  input: ${JSON.stringify({ config: spec.config, data: spec.data, answer: spec.answer })}`,
          `  JS:    ${JSON.stringify(js)}`,
          `  ours:  ${JSON.stringify(ours)}`,
          ...reasons.map((reason) => `  - ${reason}`),
        ].join('\n')
      )
      .join('\n');
    assert.fail(`${mismatches.length} case(s) disagree beyond the listed deviations:\n${detail}`);
  }
});
