// Proxies from the environment: HTTPS through a CONNECT tunnel, plain HTTP as a forward
// proxy, NO_PROXY honoured. The CONNECT proxy maps api.twilio.com:443 to a local HTTPS
// server, so the default Twilio URL is exercised end to end without leaving 127.0.0.1.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { accountSID, basicAuth, validConfig } from './fixtures.js';
import { makePki } from './support/certs.js';
import { startConnectProxy } from './support/proxy.js';
import { startTwilioServer } from './support/twilio-server.js';

const pki = makePki(join(tmpdir(), 'connector-twilio-sms-native-pki'));
const httpsServer = await startTwilioServer({ tls: { key: pki.key, cert: pki.cert } });
const httpServer = await startTwilioServer();
const proxy = await startConnectProxy({
  resolve: {
    'api.twilio.com:443': `127.0.0.1:${httpsServer.port}`,
    'api.dublin.ie1.twilio.com:443': `127.0.0.1:${httpsServer.port}`,
  },
});
// The native client reads these once, when it is first used.
Object.assign(process.env, {
  NODE_EXTRA_CA_CERTS: pki.caPath,
  HTTPS_PROXY: proxy.url,
  HTTP_PROXY: proxy.url,
  NO_PROXY: 'localhost',
});
const { TwilioSmsConnector } = await import('../index.js');

before(() => {});
after(() => {
  proxy.close();
  httpsServer.close();
  httpServer.close();
});

test('https://api.twilio.com goes through a CONNECT tunnel, exactly as configured', async () => {
  const result = await new TwilioSmsConnector(validConfig()).sendMessage('15550001111', 'Register', { code: '1' });
  assert.equal(result.body, 'Sign up code 1');
  assert.deepEqual(
    proxy.log.filter((entry) => entry.method === 'CONNECT').map((entry) => entry.target),
    ['api.twilio.com:443']
  );
  const request = httpsServer.requests.at(-1);
  assert.equal(request.servername, 'api.twilio.com', 'SNI names the real host');
  assert.equal(request.headers.host, 'api.twilio.com');
  assert.equal(request.url, `/2010-04-01/Accounts/${accountSID}/Messages.json`);
  assert.equal(request.headers.authorization, basicAuth());
  assert.equal(proxy.log[0].headers['proxy-authorization'], undefined);
});

test('a regional host is used, lower-cased', async () => {
  await new TwilioSmsConnector(validConfig({ host: 'API.Dublin.IE1.twilio.com' })).sendMessage('1', 'SignIn', {});
  assert.equal(proxy.log.at(-1).target, 'api.dublin.ie1.twilio.com:443');
  assert.equal(httpsServer.requests.at(-1).headers.host, 'api.dublin.ie1.twilio.com');
});

test('plain HTTP goes through HTTP_PROXY as an absolute-URI request', async () => {
  const before = proxy.log.length;
  await new TwilioSmsConnector(validConfig(), { baseUrl: httpServer.url }).sendMessage('1', 'SignIn', {});
  const entry = proxy.log[before];
  assert.equal(entry.method, 'POST');
  assert.equal(entry.target, `${httpServer.url}/2010-04-01/Accounts/${accountSID}/Messages.json`);
  assert.equal(httpServer.requests.length, 1);
});

test('NO_PROXY hosts are reached directly', async () => {
  const before = proxy.log.length;
  await new TwilioSmsConnector(validConfig(), { baseUrl: `https://localhost:${httpsServer.port}` }).sendMessage('1', 'SignIn', {});
  assert.equal(proxy.log.length, before);
});
