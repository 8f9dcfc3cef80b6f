// HTTPS with a CA the test makes: trusted through NODE_EXTRA_CA_CERTS (as Node does), and
// unknown CAs, expired certificates and wrong host names rejected, with no way to opt out.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { accountSID, authToken, errorText, validConfig } from './fixtures.js';
import { makePki } from '../support/certs.js';
import { startTwilioServer } from '../support/twilio-server.js';
import { until } from './support/wait.js';

const pki = makePki(join(tmpdir(), 'connector-twilio-sms-native-pki'));
// Read once, when the shared client is first built: set before the first send.
process.env.NODE_EXTRA_CA_CERTS = pki.caPath;
// Node's own switch for turning verification off must not reach the native client.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
const { TwilioSmsConnector } = await import('../index.js');

const servers = {};
before(async () => {
  servers.good = await startTwilioServer({ tls: { key: pki.key, cert: pki.cert } });
  servers.unknownCa = await startTwilioServer({ tls: pki.unknownCa });
  servers.expired = await startTwilioServer({ tls: pki.expired });
  servers.wrongHost = await startTwilioServer({ tls: pki.wrongHost });
});
after(() => Object.values(servers).forEach((server) => server.close()));

const send = (baseUrl) => new TwilioSmsConnector(validConfig(), { baseUrl }).sendMessage('+15550001111', 'SignIn', { code: '424242' });

test('a server whose certificate chains to NODE_EXTRA_CA_CERTS is trusted', async () => {
  const result = await send(servers.good.url);
  assert.equal(result.body, 'Sign in code 424242');
  const request = servers.good.requests.at(-1);
  assert.equal(request.url, `/2010-04-01/Accounts/${accountSID}/Messages.json`);
  const byName = await send(`https://localhost:${servers.good.port}`);
  assert.equal(byName.status, 'queued');
});

for (const [name, pattern] of [
  ['unknownCa', /certificate|issuer/i],
  ['expired', /certificate|expired/i],
  ['wrongHost', /certificate|name/i],
]) {
  test(`TLS: ${name} is rejected with a general error and nothing is sent`, async () => {
    const server = servers[name];
    await assert.rejects(send(server.url), (error) => {
      assert.equal(error.code, 'general');
      assert.match(error.message, pattern);
      assert.ok(!errorText(error).includes(authToken));
      return true;
    });
    assert.equal(server.requests.length, 0);
  });
}

for (const name of ['unknownCa', 'expired', 'wrongHost']) {
  test(`TLS: ${name} makes exactly one handshake even with maxRetries: 10`, async () => {
    const server = servers[name];
    // The server counts a TCP accept before it sends its certificate, so every connection of an
    // earlier test is counted by the time that test's send failed.
    const before = server.connections;
    const connector = new TwilioSmsConnector(validConfig(), { baseUrl: server.url, maxRetries: 10, timeoutMs: 5000 });
    await assert.rejects(connector.sendMessage('+15550001111', 'SignIn', { code: '1' }), (error) => {
      assert.equal(error.code, 'general');
      assert.match(error.message, /certificate/i);
      return true;
    });
    // One connection, so one handshake: a retry would need a new one.
    assert.equal(server.connections - before, 1, 'TCP connections for one send');
    // And that handshake failed at the server too. Its event can come after the client gave
    // up, so wait for it: every connection to this server ends in a failed handshake.
    await until(() => server.tlsClientErrors === server.connections, 'one failed handshake per connection');
    assert.equal(server.requests.length, 0);
  });
}
