// Proxies from the environment: HTTPS through a CONNECT tunnel, plain HTTP as a forward
// proxy, NO_PROXY honoured. The CONNECT proxy maps api.twilio.com:443 to a local HTTPS
// server, so the default Twilio URL is exercised end to end without leaving 127.0.0.1.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import http from 'node:http';

import { accountSID, basicAuth, validConfig } from './fixtures.js';
import { lastJson, runChild } from './support/child.js';
import { makePki } from '../support/certs.js';
import { startConnectProxy } from './support/proxy.js';
import { startTwilioServer } from '../support/twilio-server.js';

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

test('NO_PROXY hosts are reached directly: the server gets the request, the proxy sees nothing', async () => {
  const [logged, received] = [proxy.log.length, httpsServer.requests.length];
  const result = await new TwilioSmsConnector(validConfig(), { baseUrl: `https://localhost:${httpsServer.port}` }).sendMessage('1', 'SignIn', { code: '5' });
  assert.equal(result.body, 'Sign in code 5');
  assert.equal(proxy.log.length, logged, 'the proxy saw no CONNECT or request');
  assert.equal(httpsServer.requests.length, received + 1, 'the direct server got the request');
  assert.equal(httpsServer.requests.at(-1).headers.host, `localhost:${httpsServer.port}`);
});

test('a throwing baseUrl getter fails the send; it never falls back to api.twilio.com', async () => {
  const [connects, requests] = [proxy.log.length, httpsServer.requests.length];
  const options = {
    get baseUrl() {
      throw new Error('baseUrl getter says no');
    },
  };
  const { sendMessage } = await import('../index.js');
  await assert.rejects(sendMessage(validConfig(), '1', 'SignIn', { code: '1' }, options), (error) => {
    assert.equal(error.code, 'invalid_config');
    assert.match(error.message, /options\.baseUrl could not be read: baseUrl getter says no/);
    return true;
  });
  assert.throws(() => new TwilioSmsConnector(validConfig(), options), /options\.baseUrl/);
  assert.equal(proxy.log.length, connects);
  assert.equal(httpsServer.requests.length, requests);
});

test('a proxy URL that does not parse is an invalid_config error naming it, never a direct connection', async () => {
  const direct = await startTwilioServer();
  try {
    const values = ['pa#ss', 'pa/ss', 'pa?ss', 'pa ss'].map((password) => `http://user:${password}@127.0.0.1:${proxy.port}`);
    const child = await runChild(`
      const { TwilioSmsConnector } = await import('./index.js');
      const { validConfig } = await import('./__test__/fixtures.js');
      const values = ${JSON.stringify(values)};
      const outcomes = [];
      for (const [i, value] of values.entries()) {
        process.env.HTTP_PROXY = value;
        // A connect timeout of its own builds a new client, which reads the variable again.
        const connector = new TwilioSmsConnector(validConfig(), { baseUrl: ${JSON.stringify(direct.url)}, connectTimeoutMs: 1000 + i });
        outcomes.push(await connector.sendMessage('1', 'SignIn', {}).then(() => ({ ok: true }), (e) => ({ code: e.code, message: e.message })));
      }
      console.log(JSON.stringify(outcomes));
    `);
    const outcomes = lastJson(child);
    assert.equal(outcomes.length, values.length);
    outcomes.forEach((outcome, i) => {
      assert.equal(outcome.code, 'invalid_config', JSON.stringify(outcome));
      assert.match(outcome.message, /HTTP_PROXY is not a usable proxy URL/);
      assert.ok(!outcome.message.includes(values[i].slice(12, 17)), 'the password is not repeated');
    });
    assert.equal(direct.requests.length, 0);
  } finally {
    await direct.close();
  }
});

test("a proxy's echo of Proxy-Authorization is redacted", async () => {
  const password = 'pr0xy-p@ss"w/rd+ secret';
  const seen = [];
  const echo = http.createServer((req, res) => {
    const header = req.headers['proxy-authorization'] ?? '';
    seen.push(header);
    const credential = Buffer.from(header.replace(/^Basic /, ''), 'base64').toString();
    const body = JSON.stringify({
      message: 'Proxy Authentication Required',
      echoes: [header, encodeURIComponent(header), header.replace(/=+$/, ''), credential, encodeURIComponent(password)],
    });
    res.writeHead(407, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise((resolve) => echo.listen(0, '127.0.0.1', resolve));
  try {
    const proxyUrl = `http://puser:${encodeURIComponent(password)}@127.0.0.1:${echo.address().port}`;
    const child = await runChild(
      `
      const { TwilioSmsConnector } = await import('./index.js');
      const { validConfig, errorText } = await import('./__test__/fixtures.js');
      const connector = new TwilioSmsConnector(validConfig(), { baseUrl: 'http://127.0.0.1:9', connectTimeoutMs: 4321 });
      const text = await connector.sendMessage('1', 'SignIn', {}).then(() => 'sent', errorText);
      console.log(JSON.stringify(text));
    `,
      { HTTP_PROXY: proxyUrl, http_proxy: '', NO_PROXY: '' }
    );
    const text = lastJson(child);
    const header = `Basic ${Buffer.from(`puser:${password}`).toString('base64')}`;
    assert.deepEqual(seen, [header]);
    assert.match(text, /Proxy Authentication Required/);
    for (const leaked of [password, encodeURIComponent(password), header.slice(6), header.slice(6).replace(/=+$/, '')]) {
      assert.ok(!text.includes(leaked), `${leaked} leaked: ${text}`);
    }
  } finally {
    await new Promise((resolve) => echo.close(resolve));
  }
});

test('a proxy URL the HTTP client would read differently is an invalid_config error naming it, never a direct connection', async () => {
  const direct = await startTwilioServer();
  try {
    const [connects, received] = [proxy.log.length, httpsServer.requests.length];
    const child = await runChild(`
      const { TwilioSmsConnector } = await import('./index.js');
      const { validConfig } = await import('./__test__/fixtures.js');
      const port = ${proxy.port};
      const values = [
        'http://\${PROXY_HOST}:' + port,
        'http://{{proxy}}:' + port,
        'http://%7B%7Bproxy%7D%7D:' + port,
        'http://pro"xy:' + port,
        'http://pro\`xy:' + port,
        'http://user:' + 'x'.repeat(70 * 1024) + '@127.0.0.1:' + port,
      ];
      const destinations = {
        HTTPS_PROXY: 'https://127.0.0.1:${httpsServer.port}',
        HTTP_PROXY: ${JSON.stringify(direct.url)},
      };
      const outcomes = [];
      let timeout = 1000;
      for (const value of values) {
        for (const [variable, baseUrl] of Object.entries(destinations)) {
          Object.assign(process.env, { HTTPS_PROXY: ${JSON.stringify(proxy.url)}, HTTP_PROXY: ${JSON.stringify(proxy.url)} });
          process.env[variable] = value;
          // A connect timeout of its own builds a new client, which reads the variables again.
          const connector = new TwilioSmsConnector(validConfig(), { baseUrl, connectTimeoutMs: timeout++ });
          const outcome = await connector.sendMessage('1', 'SignIn', {}).then(() => ({ ok: true }), (e) => ({ code: e.code, message: e.message }));
          outcomes.push({ variable, value: value.slice(0, 40), ...outcome });
        }
      }
      console.log(JSON.stringify(outcomes));
    `);
    const outcomes = lastJson(child);
    assert.deepEqual(
      outcomes.map(({ variable, value, code }) => `${variable}=${value}: ${code ?? 'sent'}`),
      outcomes.map(({ variable, value }) => `${variable}=${value}: invalid_config`)
    );
    assert.equal(outcomes.length, 12);
    for (const outcome of outcomes) {
      assert.match(outcome.message, new RegExp(`^${outcome.variable} is not a usable proxy URL`), outcome.message);
      assert.ok(outcome.message.length < 400, `a bounded message: ${outcome.message.length} characters`);
      assert.ok(!outcome.message.includes('xxxxxxxx'), 'the value is not repeated');
    }
    assert.equal(direct.requests.length, 0, 'no direct plain-HTTP request');
    assert.equal(httpsServer.requests.length, received, 'no direct HTTPS request');
    assert.equal(proxy.log.length, connects, 'nothing reached the proxy either');
  } finally {
    await direct.close();
  }
});

test('an empty HTTPS_PROXY counts as unset: the lowercase https_proxy is used', async () => {
  const [connects, received] = [proxy.log.length, httpsServer.requests.length];
  const child = await runChild(
    `
    const { TwilioSmsConnector } = await import('./index.js');
    const { validConfig } = await import('./__test__/fixtures.js');
    const connector = new TwilioSmsConnector(validConfig(), { baseUrl: 'https://127.0.0.1:${httpsServer.port}' });
    console.log(JSON.stringify(await connector.sendMessage('1', 'SignIn', { code: '7' }).then((r) => r.body, (e) => e.message)));
  `,
    { HTTPS_PROXY: '', https_proxy: proxy.url, HTTP_PROXY: '', http_proxy: proxy.url, ALL_PROXY: undefined, all_proxy: undefined, NO_PROXY: 'localhost' }
  );
  assert.equal(lastJson(child), 'Sign in code 7');
  assert.deepEqual(
    proxy.log.slice(connects).map((entry) => `${entry.method} ${entry.target}`),
    [`CONNECT 127.0.0.1:${httpsServer.port}`],
    'the send went through the tunnel'
  );
  assert.equal(httpsServer.requests.length, received + 1);
});

test('REQUEST_METHOD in the environment does not turn the proxy off', async () => {
  const [connects, received] = [proxy.log.length, httpsServer.requests.length];
  const child = await runChild(
    `
    const { TwilioSmsConnector } = await import('./index.js');
    const { validConfig } = await import('./__test__/fixtures.js');
    const connector = new TwilioSmsConnector(validConfig(), { baseUrl: 'https://127.0.0.1:${httpsServer.port}' });
    console.log(JSON.stringify(await connector.sendMessage('1', 'SignIn', { code: '8' }).then((r) => r.body, (e) => e.message)));
  `,
    { REQUEST_METHOD: 'GET', HTTPS_PROXY: proxy.url, NO_PROXY: 'localhost' }
  );
  assert.equal(lastJson(child), 'Sign in code 8');
  assert.deepEqual(
    proxy.log.slice(connects).map((entry) => `${entry.method} ${entry.target}`),
    [`CONNECT 127.0.0.1:${httpsServer.port}`],
    'the send went through the tunnel'
  );
  assert.equal(httpsServer.requests.length, received + 1);
});

test("a proxy's echo of a user-only credential is redacted, plain and percent-encoded", async () => {
  const seen = [];
  const echo = http.createServer((req, res) => {
    const header = req.headers['proxy-authorization'] ?? '';
    seen.push(header);
    const credential = Buffer.from(header.replace(/^Basic /, ''), 'base64').toString();
    const body = JSON.stringify({
      message: 'Proxy Authentication Required',
      echoes: [header, encodeURIComponent(header), header.replace(/=+$/, ''), credential, encodeURIComponent(credential)],
    });
    res.writeHead(407, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise((resolve) => echo.listen(0, '127.0.0.1', resolve));
  try {
    const tokens = ['pr0xy-t0ken-only', 'pr0xy t0ken/@#only'];
    const port = echo.address().port;
    const child = await runChild(
      `
      const { TwilioSmsConnector } = await import('./index.js');
      const { validConfig, errorText } = await import('./__test__/fixtures.js');
      const texts = [];
      for (const [i, token] of ${JSON.stringify(tokens)}.entries()) {
        process.env.HTTP_PROXY = 'http://' + encodeURIComponent(token) + '@127.0.0.1:${port}';
        const connector = new TwilioSmsConnector(validConfig(), { baseUrl: 'http://127.0.0.1:9', connectTimeoutMs: 4000 + i });
        texts.push(await connector.sendMessage('1', 'SignIn', {}).then(() => 'sent', errorText));
      }
      console.log(JSON.stringify(texts));
    `,
      { http_proxy: undefined, NO_PROXY: '' }
    );
    const texts = lastJson(child);
    assert.deepEqual(
      seen,
      tokens.map((token) => `Basic ${Buffer.from(`${token}:`).toString('base64')}`),
      'the proxy was asked with each credential'
    );
    texts.forEach((text, i) => {
      assert.match(text, /Proxy Authentication Required/);
      const basic = seen[i].slice(6);
      for (const leaked of [tokens[i], encodeURIComponent(tokens[i]), basic, basic.replace(/=+$/, '')]) {
        assert.ok(!text.includes(leaked), `${leaked} leaked: ${text}`);
      }
    });
  } finally {
    await new Promise((resolve) => echo.close(resolve));
  }
});
