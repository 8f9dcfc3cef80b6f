// Runs failures whose natural error text would carry the auth token, and prints every
// outcome (message, stack, code, data) so the parent test can scan it. See secrets.test.js.
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { apiKeySecret, apiKeySID, authToken, basicAuth, validConfig } from '../fixtures.js';
import { makePki } from './certs.js';
import { startTwilioServer } from './twilio-server.js';

const pki = makePki(join(tmpdir(), 'connector-twilio-sms-native-pki'));
const echo = await startTwilioServer({
  respond: async (req, record, res) => {
    const status = Number(new URLSearchParams(record.body).get('Body')?.match(/status=(\d+)/)?.[1] ?? 400);
    const headers = { 'content-type': 'text/plain' };
    if (status >= 300 && status < 400) headers.location = `http://127.0.0.1:9/?token=${authToken}`;
    res.writeHead(status, headers);
    // Echoes the decoded Basic credential too (user:password, the API key secret when one is used).
    const decoded = Buffer.from(String(record.headers.authorization).slice(6), 'base64').toString();
    res.end(`echo: ${record.headers.authorization} ${decoded} ${authToken} ${decodeURIComponent(record.body)}`);
    return true;
  },
});
const unknownCa = await startTwilioServer({ tls: pki.unknownCa });
const silent = http.createServer(() => {});
await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
process.env.TWILIO_SMS_NATIVE_BASE_URL = echo.url;

const { ConnectorError } = await import('@logto/connector-kit');
const { TwilioSmsConnector } = await import('../../index.js');
const { default: createConnector } = await import('../../lib/index.js');
const logto = await createConnector({ getConfig: async () => validConfig() });

const templated = (content) =>
  validConfig({ templates: [...validConfig().templates, { usageType: 'T', content }] });

const cases = [
  ['400 echo', (c) => c('1', 'T', {}, templated('status=400 {{code}}'))],
  ['429 echo', (c) => c('1', 'T', {}, templated('status=429'))],
  ['500 echo', (c) => c('1', 'T', {}, templated('status=500'))],
  ['302 with token in Location', (c) => c('1', 'T', {}, templated('status=302'))],
  ['token in an invalid host', (c) => c('1', 'SignIn', {}, validConfig({ host: `${authToken}.example.com` }))],
  ['token as a wrong-typed field', (c) => c('1', 'SignIn', {}, validConfig({ accountSID: { authToken } }))],
  ['token in the body of an invalid template', (c) => c('1', 'SignIn', {}, validConfig({ templates: [{ usageType: authToken }] }))],
  ['token as the usage type', (c) => c('1', authToken, {}, { ...validConfig(), templates: validConfig().templates.slice(0, 4) }, true)],
  ['refused', (c) => c('1', 'SignIn', {}, validConfig(), false, 'http://127.0.0.1:1')],
  ['timeout', (c) => c('1', 'SignIn', {}, validConfig(), false, `http://127.0.0.1:${silent.address().port}`, 300)],
  ['unknown CA', (c) => c('1', 'SignIn', {}, validConfig(), false, unknownCa.url)],
  // The API key secret (issue 6) gets the token's protection.
  ['400 echo, API key', (c) => c('1', 'T', {}, { ...templated('status=400'), apiKeySID, apiKeySecret })],
  ['302, API key', (c) => c('1', 'T', {}, { ...templated('status=302'), apiKeySID, apiKeySecret })],
  ['key secret as the key SID', (c) => c('1', 'SignIn', {}, validConfig({ apiKeySID: apiKeySecret, apiKeySecret }))],
  ['key secret without its SID', (c) => c('1', 'SignIn', {}, validConfig({ apiKeySecret }))],
  ['key secret as a wrong-typed field', (c) => c('1', 'SignIn', {}, validConfig({ apiKeySID, apiKeySecret: { apiKeySecret } }))],
  ['key secret as a sender number', (c) => c('1', 'SignIn', {}, validConfig({ fromPhoneNumber: apiKeySecret }))],
  ['key secret as a locale', (c) => c('1', 'SignIn', {}, validConfig({ templates: [...validConfig().templates, { usageType: 'X', content: '', locale: apiKeySecret }] }))],
  ['refused, API key', (c) => c('1', 'SignIn', {}, validConfig({ apiKeySID, apiKeySecret }), false, 'http://127.0.0.1:1')],
];

const describe = (name, via, error) => ({
  name,
  via,
  isConnectorError: error instanceof ConnectorError,
  code: error?.code,
  message: error?.message,
  stack: error?.stack,
  data: error?.data,
});

const outcomes = [];
for (const [name, run] of cases) {
  // Through the class (any base URL)...
  try {
    await run(async (to, type, payload, config, _skip, baseUrl, timeoutMs) =>
      new TwilioSmsConnector(config, { baseUrl: baseUrl ?? echo.url, timeoutMs }).sendMessage(to, type, payload)
    );
    outcomes.push({ name, via: 'class', code: 'resolved' });
  } catch (error) {
    outcomes.push(describe(name, 'class', error));
  }
  // ...and through the Logto module (its base URL is the echo server).
  try {
    await run(async (to, type, payload, config) => logto.sendMessage({ to, type, payload }, config));
    outcomes.push({ name, via: 'logto', code: 'resolved' });
  } catch (error) {
    outcomes.push(describe(name, 'logto', error));
  }
}
// getUsage: the echo server answers the GET with 400 and every credential it saw.
const usageCases = [
  ['usage echo, token', validConfig(), undefined],
  ['usage echo, API key', validConfig({ apiKeySID, apiKeySecret }), undefined],
  ['usage timeout, API key', validConfig({ apiKeySID, apiKeySecret }), `http://127.0.0.1:${silent.address().port}`],
  ['usage invalid config', validConfig({ apiKeySID: 'AC1', apiKeySecret }), undefined],
];
const usageLogto = await createConnector({ getConfig: async () => usageConfig });
let usageConfig;
for (const [name, config, baseUrl] of usageCases) {
  try {
    await new TwilioSmsConnector(config, { baseUrl: baseUrl ?? echo.url, timeoutMs: 300 }).getUsage();
    outcomes.push({ name, via: 'class', code: 'resolved' });
  } catch (error) {
    outcomes.push(describe(name, 'class', error));
  }
  if (baseUrl) continue;
  usageConfig = config;
  try {
    await usageLogto.getUsage();
    outcomes.push({ name, via: 'logto', code: 'resolved' });
  } catch (error) {
    outcomes.push(describe(name, 'logto', error));
  }
}
// The token must not be printed by anything the connector logs either; print it all.
console.error(JSON.stringify(outcomes, null, 2));
console.log(JSON.stringify(outcomes));
echo.close();
unknownCa.close();
silent.close();
void basicAuth;
