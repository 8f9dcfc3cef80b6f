// Runs failures whose natural error text would carry the auth token or the API key secret, and
// prints every outcome (message, stack, code, data) with what the case expected, so the parent
// test can check each case ended the way it says AND scan everything for secrets. See
// secrets.test.js. Each case runs through the class and through the Logto module; a case that
// needs another server gets a Logto module of its own (a fresh import reads
// TWILIO_SMS_NATIVE_BASE_URL and TWILIO_SMS_NATIVE_TIMEOUT_MS again).
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { apiKeySecret, apiKeySID, authToken, validConfig } from '../fixtures.js';
import { makePki } from '../../support/certs.js';
import { RETRY_AFTER_PAST_ANY_DEADLINE, startTwilioServer } from '../../support/twilio-server.js';

const pki = makePki(join(tmpdir(), 'connector-twilio-sms-native-pki'));
// The Body of the send picks the echo's status (`status=NNN`, 400 when absent). From the
// second 429 of a run on, the 429 says `Retry-After: 3600`: a wait past any deadline, so the
// send ends with that 429 after exactly two requests, however fast the machine is.
let echo429s = 0; // 429s answered in the current run (reset by `run`)
const echo = await startTwilioServer({
  respond: async (req, record, res) => {
    const status = Number(new URLSearchParams(record.body).get('Body')?.match(/status=(\d+)/)?.[1] ?? 400);
    const headers = { 'content-type': 'text/plain' };
    if (status >= 300 && status < 400) headers.location = `http://127.0.0.1:9/?token=${authToken}`;
    if (status === 429 && ++echo429s >= 2) headers['retry-after'] = RETRY_AFTER_PAST_ANY_DEADLINE;
    res.writeHead(status, headers);
    // Echoes the decoded Basic credential too (user:password, the API key secret when one is used).
    const decoded = Buffer.from(String(record.headers.authorization).slice(6), 'base64').toString();
    res.end(`echo: ${record.headers.authorization} ${decoded} ${authToken} ${decodeURIComponent(record.body)}`);
    return true;
  },
});
const unknownCa = await startTwilioServer({ tls: pki.unknownCa });
// Accepts and reads the request, never answers.
let silentRequests = 0;
const silent = http.createServer(() => {
  silentRequests += 1;
});
await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
const silentUrl = `http://127.0.0.1:${silent.address().port}`;
const refusedUrl = 'http://127.0.0.1:1';

// What each server has seen; a case says which of these should move and by how much.
const counters = () => ({
  echo: echo.requests.length,
  silent: silentRequests,
  unknownCaHandshakes: unknownCa.tlsClientErrors,
  unknownCaRequests: unknownCa.requests.length,
});
const delta = (before) => Object.fromEntries(Object.entries(counters()).map(([k, v]) => [k, v - before[k]]));

const { ConnectorError } = await import('@logto/connector-kit');
const { TwilioSmsConnector } = await import('../../index.js');
const logtoModules = new Map();
/** The Logto module as imported with this base URL and timeout in its environment. */
const logtoFor = async (baseUrl, timeoutMs) => {
  const key = `${baseUrl}|${timeoutMs}`;
  if (!logtoModules.has(key)) {
    process.env.TWILIO_SMS_NATIVE_BASE_URL = baseUrl;
    process.env.TWILIO_SMS_NATIVE_TIMEOUT_MS = String(timeoutMs);
    const { default: create } = await import(`../../lib/index.js?${logtoModules.size}`);
    let current;
    const module = await create({ getConfig: async () => current });
    logtoModules.set(key, { module, setConfig: (config) => (current = config) });
  }
  return logtoModules.get(key);
};

const templated = (content) => validConfig({ templates: [...validConfig().templates, { usageType: 'T', content }] });
const withKey = (config) => ({ ...config, apiKeySID, apiKeySecret });

// No request anywhere: the config is refused first.
const none = { echo: 0, silent: 0, unknownCaHandshakes: 0, unknownCaRequests: 0 };
const toEcho = (n = 1) => ({ ...none, echo: n });
const invalid = (name, config) => ({ name, config, code: 'invalid_config', counts: none, message: /config|Expected|Must|Required|Not a valid/ });

// The connector's own default: no case here ends by its deadline except the timeout cases
// (the silent server never answers), and one hanging case (class and Logto module: 20 s)
// still reports itself within the parent's 60 s.
const DEFAULT_TIMEOUT_MS = 10_000;
// The timeout cases' deadline: short, yet ample for the request to reach the silent server
// (which the case counts) on a loaded machine.
const SHORT_TIMEOUT_MS = 1000;

/**
 * name; config; usage type (default 'T' for the templated echo cases, else SignIn); baseUrl
 * (default: the echo) and timeoutMs (default DEFAULT_TIMEOUT_MS); the expected code
 * ('resolved' if it must resolve), the request counts per server (a number each, or
 * [min, max]) and a message pattern.
 */
const cases = [
  { name: '400 echo', config: templated('status=400 {{code}}'), code: 'general', counts: toEcho(), message: /echo: Basic / },
  // A 429 is retried until the deadline leaves no room for the next wait: the echo's second
  // 429 asks for an hour, so exactly two requests, and the last 429's (echoed) body reported.
  { name: '429 echo', config: templated('status=429'), code: 'rate_limit_exceeded', counts: { ...none, echo: 2 }, message: /echo: Basic / },
  { name: '500 echo', config: templated('status=500'), code: 'general', counts: toEcho(), message: /echo: Basic / },
  { name: '302 with token in Location', config: templated('status=302'), code: 'general', counts: toEcho(), message: /HTTP 302 redirecting to .*not followed/ },
  invalid('token in an invalid host', validConfig({ host: `${authToken}.example.com` })),
  invalid('token as a wrong-typed field', validConfig({ accountSID: { authToken } })),
  invalid('token in the body of an invalid template', validConfig({ templates: [{ usageType: authToken }] })),
  // template_not_found ("Cannot find template for type: <type>") is unreachable with a valid
  // config, which must hold a Generic template; the token as the type takes that fallback, is
  // sent (Generic's text, not the token) and the 400 echo of the request is redacted.
  {
    name: 'token as the usage type',
    config: validConfig(),
    type: authToken,
    code: 'general',
    counts: toEcho(),
    message: /echo: Basic /,
    sent: (body) => body.startsWith('Generic code'),
  },
  { name: 'refused', config: validConfig(), baseUrl: refusedUrl, code: 'general', counts: none, message: /could not connect.*refused/i },
  {
    name: 'timeout',
    config: validConfig(),
    baseUrl: silentUrl,
    timeoutMs: SHORT_TIMEOUT_MS,
    code: 'general',
    counts: { ...none, silent: 1 },
    message: /timed out after 1000 ms, waiting for Twilio's answer/,
  },
  {
    name: 'unknown CA',
    config: validConfig(),
    baseUrl: unknownCa.url,
    code: 'general',
    counts: { ...none, unknownCaHandshakes: 1 },
    message: /could not connect.*certificate/i,
  },
  // The API key secret gets the token's protection.
  { name: '400 echo, API key', config: withKey(templated('status=400')), code: 'general', counts: toEcho(), message: /echo: Basic / },
  { name: '302, API key', config: withKey(templated('status=302')), code: 'general', counts: toEcho(), message: /HTTP 302 redirecting/ },
  invalid('key secret as the key SID', validConfig({ apiKeySID: apiKeySecret, apiKeySecret })),
  invalid('key secret without its SID', validConfig({ apiKeySecret })),
  invalid('key secret as a wrong-typed field', validConfig({ apiKeySID, apiKeySecret: { apiKeySecret } })),
  invalid('key secret as a sender number', validConfig({ fromPhoneNumber: apiKeySecret })),
  invalid('key secret as a locale', validConfig({ templates: [...validConfig().templates, { usageType: 'X', content: '', locale: apiKeySecret }] })),
  { name: 'refused, API key', config: withKey(validConfig()), baseUrl: refusedUrl, code: 'general', counts: none, message: /could not connect.*refused/i },
  {
    name: 'unknown CA, API key',
    config: withKey(validConfig()),
    baseUrl: unknownCa.url,
    code: 'general',
    counts: { ...none, unknownCaHandshakes: 1 },
    message: /certificate/i,
  },
];
// getUsage: the echo server answers the GET with 400 and every credential it saw.
const usageCases = [
  { name: 'usage echo, token', config: validConfig(), code: 'general', counts: toEcho(), message: /echo: Basic / },
  { name: 'usage echo, API key', config: withKey(validConfig()), code: 'general', counts: toEcho(), message: /echo: Basic / },
  {
    name: 'usage timeout, API key',
    config: withKey(validConfig()),
    baseUrl: silentUrl,
    timeoutMs: SHORT_TIMEOUT_MS,
    code: 'general',
    counts: { ...none, silent: 1 },
    message: /timed out after 1000 ms/,
  },
  {
    name: 'usage refused, API key',
    config: withKey(validConfig()),
    baseUrl: refusedUrl,
    code: 'general',
    counts: none,
    message: /could not connect.*refused/i,
  },
  invalid('usage invalid config', validConfig({ apiKeySID: 'AC1', apiKeySecret })),
];

const describe = (error) => ({
  isConnectorError: error instanceof ConnectorError,
  code: error?.code,
  message: error?.message,
  stack: error?.stack,
  data: error?.data,
});

const outcomes = [];
const run = async (spec, via, call) => {
  const before = counters();
  const sentBefore = echo.requests.length;
  echo429s = 0;
  let outcome;
  try {
    await call();
    outcome = { code: 'resolved' };
  } catch (error) {
    outcome = describe(error);
  }
  // The server counts a refused handshake when the client's alert reaches it, which on a loaded
  // machine can come after the client has reported the failure: wait for it (bounded).
  const handshakes = spec.counts.unknownCaHandshakes;
  for (let waited = 0; typeof handshakes === 'number' && waited < 5000 && unknownCa.tlsClientErrors - before.unknownCaHandshakes < handshakes; waited += 10) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const sent = echo.requests.slice(sentBefore).map((r) => new URLSearchParams(r.body).get('Body') ?? '');
  outcomes.push({
    name: spec.name,
    via,
    ...outcome,
    counts: delta(before),
    expected: { code: spec.code, counts: spec.counts, message: String(spec.message) },
    sentOk: spec.sent ? sent.length > 0 && sent.every(spec.sent) : true,
  });
};

for (const spec of cases) {
  const baseUrl = spec.baseUrl ?? echo.url;
  const timeoutMs = spec.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const type = spec.type ?? (spec.config.templates?.some?.((t) => t.usageType === 'T') ? 'T' : 'SignIn');
  await run(spec, 'class', () => new TwilioSmsConnector(spec.config, { baseUrl, timeoutMs }).sendMessage('1', type, {}));
  const { module } = await logtoFor(baseUrl, timeoutMs);
  await run(spec, 'logto', () => module.sendMessage({ to: '1', type, payload: {} }, spec.config));
}
for (const spec of usageCases) {
  const baseUrl = spec.baseUrl ?? echo.url;
  const timeoutMs = spec.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  await run(spec, 'class', () => new TwilioSmsConnector(spec.config, { baseUrl, timeoutMs }).getUsage());
  const { module, setConfig } = await logtoFor(baseUrl, timeoutMs);
  setConfig(spec.config);
  await run(spec, 'logto', () => module.getUsage());
}
// The secrets must not be printed by anything the connector logs either; print it all.
console.error(JSON.stringify(outcomes, null, 2));
console.log(JSON.stringify(outcomes));
echo.close();
unknownCa.close();
silent.closeAllConnections();
silent.close();
