// What a hostile server or a hostile caller can try, each against real servers on 127.0.0.1:
// credentials echoed in other encodings, answers that used to panic the runtime, throwing
// getters, dot-segment account SIDs, usage paging off the account, empty error bodies, huge
// bodies and a CA file that never ends.
import assert from 'node:assert/strict';
import { closeSync, constants, mkdtempSync, openSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

import { ConnectorError } from '@logto/connector-kit';

import { TwilioSmsConnector } from '../index.js';
import { accountSID, apiKeySID, errorText, rejection, validConfig } from './fixtures.js';
import { lastJson, runChild } from './support/child.js';
import { startTwilioServer, throttleOnceThenEnd } from '../support/twilio-server.js';

const servers = [];
const serve = async (respond) => {
  const server = await startTwilioServer({ respond });
  servers.push(server);
  return server;
};
after(() => Promise.all(servers.map((server) => server.close())));

const connect = (server, config = validConfig(), options = {}) => new TwilioSmsConnector(config, { baseUrl: server.url, maxRetries: 0, ...options });

// JSON-escapable characters and ones percent-encoding changes, so every encoding differs.
const authToken = 'tok"en\\with/slash+and space-9f8e';
const keySecret = 'key"sec\\ret/+ 77-k3y';

/** Every encoding a server might echo a credential in. */
const encodings = (text) => {
  const b64 = Buffer.from(text).toString('base64');
  const b64url = Buffer.from(text).toString('base64url');
  return [
    text,
    JSON.stringify(text).slice(1, -1),
    JSON.stringify(text).slice(1, -1).replaceAll('/', '\\/'),
    encodeURIComponent(text),
    encodeURIComponent(text).toLowerCase(),
    new URLSearchParams({ x: text }).toString().slice(2),
    encodeURIComponent(encodeURIComponent(text)),
    b64,
    b64.replace(/=+$/, ''),
    b64url,
    `${b64url}==`.slice(0, b64.length),
    encodeURIComponent(`Basic ${b64}`),
    `${b64.slice(0, 12)}\r\n${b64.slice(12)}`,
  ];
};

const echo = (req, record, res) => {
  const header = req.headers.authorization ?? '';
  const credential = Buffer.from(header.replace(/^Basic /, ''), 'base64').toString();
  const secret = credential.slice(credential.indexOf(':') + 1);
  const echoes = [...encodings(credential), ...encodings(secret), encodeURIComponent(header)];
  // JSON text, as Twilio answers; JSON.stringify escapes the `"` and `\` of each echo again.
  const body = JSON.stringify({ code: 20003, message: `Authenticate ${echoes.join(' | ')}`, echoes });
  res.writeHead(401, { 'content-type': 'application/json' }).end(body);
};

describe('redaction of encoded credentials', () => {
  for (const [name, config, user, secret] of [
    ['auth token', validConfig({ authToken }), accountSID, authToken],
    ['API key', validConfig({ authToken, apiKeySID, apiKeySecret: keySecret }), apiKeySID, keySecret],
  ]) {
    for (const call of ['sendMessage', 'getUsage']) {
      test(`${call} with the ${name}: no encoding of the credential survives`, async () => {
        const server = await serve(echo);
        const connector = connect(server, config);
        const error = await rejection(call === 'sendMessage' ? connector.sendMessage('1', 'SignIn', { code: '1' }) : connector.getUsage());
        assert.equal(server.requests.length, 1);
        const text = errorText(error);
        assert.match(text, /\[redacted\]/);
        for (const leaked of [...encodings(`${user}:${secret}`), ...encodings(secret), ...encodings(authToken)]) {
          if (leaked.length >= 4) assert.ok(!text.includes(leaked), `${JSON.stringify(leaked)} leaked: ${text}`);
        }
      });
    }
  }
});

describe('throwing getters', () => {
  test('a throwing option getter rejects with invalid_config naming it; nothing is sent', async () => {
    const server = await serve();
    const options = {
      baseUrl: server.url,
      get timeoutMs() {
        throw new Error('timeoutMs getter says no');
      },
    };
    let thrown;
    try {
      new TwilioSmsConnector(validConfig(), options);
    } catch (caught) {
      thrown = caught;
    }
    assert.equal(thrown?.code, 'invalid_config');
    assert.match(thrown.message, /options\.timeoutMs could not be read: timeoutMs getter says no/);
    const { sendMessage } = await import('../index.js');
    const rejected = await rejection(sendMessage(validConfig(), '15550001111', 'SignIn', { code: '1' }, options));
    assert.equal(rejected.code, 'invalid_config');
    assert.match(rejected.message, /options\.timeoutMs/);
    assert.equal(server.requests.length, 0);
  });

  for (const [name, payload, field] of [
    [
      'getter',
      {
        get code() {
          throw new Error('code getter says no');
        },
      },
      'payload.code',
    ],
    [
      'nested getter',
      {
        code: '1',
        application: {
          get name() {
            throw new Error('nested says no');
          },
        },
      },
      'payload.application.name',
    ],
    [
      'toString',
      {
        code: {
          toString() {
            throw new Error('toString says no');
          },
        },
      },
      'payload.code',
    ],
    [
      'Proxy has trap',
      new Proxy(
        {},
        {
          has() {
            throw new Error('has says no');
          },
        }
      ),
      'payload.code',
    ],
  ]) {
    test(`a throwing payload ${name} rejects with invalid_request_parameters naming ${field}; nothing is sent`, async () => {
      const server = await serve();
      const config = validConfig();
      config.templates[3].content = 'Generic {{code}} for {{application.name}}';
      const error = await rejection(connect(server, config).sendMessage('15550001111', 'Generic', payload));
      assert.equal(error.code, 'invalid_request_parameters');
      assert.ok(error.message.startsWith(`${field} could not be read`), error.message);
      assert.equal(server.requests.length, 0);
    });
  }
});

describe('account SIDs that are dot segments', () => {
  for (const sid of ['.', '..']) {
    test(`accountSID ${JSON.stringify(sid)} is refused before any request`, async () => {
      const server = await serve();
      const connector = connect(server, validConfig({ accountSID: sid }));
      for (const call of [() => connector.sendMessage('1', 'SignIn', {}), () => connector.getUsage()]) {
        const error = await rejection(call());
        assert.equal(error.code, 'invalid_config');
        assert.match(error.message, /accountSID .* relative path/);
      }
      assert.equal(server.requests.length, 0);
    });
  }
});

describe('getUsage paging', () => {
  const records = `/2010-04-01/Accounts/${accountSID}/Usage/Records`;
  for (const next of [
    `${records}/../../../ACother0000000000000000000000000/Usage/Records.json`,
    `${records}\\..\\..\\..\\ACother0000000000000000000000000\\Usage\\Records.json`,
    `${records}/%2e%2e/%2E%2e/%2e%2E/ACother0000000000000000000000000/Usage/Records.json`,
    `${records}.json/../../../../ACother0000000000000000000000000/Usage/Records.json`,
    `//127.0.0.2${records}.json`,
  ]) {
    test(`a next_page_uri of ${next} is not followed`, async () => {
      const server = await serve((req, record, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ usage_records: [{ count: '5' }], next_page_uri: next }));
      });
      const error = await rejection(connect(server).getUsage());
      assert.equal(error.code, 'invalid_response');
      assert.match(error.message, /outside this account's usage records/);
      assert.equal(server.requests.length, 1);
    });
  }

  test("a next_page_uri on the account's records is followed and summed", async () => {
    const server = await serve((req, record, res) => {
      const first = !record.url.includes('Page=1');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ usage_records: [{ count: '5' }], next_page_uri: first ? `${records}.json?Page=1` : null }));
    });
    assert.equal(await connect(server).getUsage(), 10);
    assert.equal(server.requests.length, 2);
  });
});

test('an error answer with an empty body names the HTTP status', async () => {
  for (const status of [502, 407, 500]) {
    const server = await serve((req, record, res) => res.writeHead(status, { 'content-length': 0 }).end());
    const error = await rejection(connect(server).sendMessage('1', 'SignIn', {}));
    assert.equal(error.code, 'general');
    assert.match(error.message, new RegExp(`answered HTTP ${status} with an empty body`));
    const usage = await rejection(connect(server).getUsage());
    assert.match(usage.message, new RegExp(`HTTP ${status}`));
  }
});

describe('body size cap', () => {
  test('a payload value past the cap is refused before any request', async () => {
    const server = await serve();
    const error = await rejection(connect(server).sendMessage('1', 'SignIn', { code: 'x'.repeat(100_000) }));
    assert.equal(error.code, 'invalid_request_parameters');
    assert.match(error.message, /longer than 65536 bytes/);
    assert.equal(server.requests.length, 0);
  });

  test('many placeholders of a large value stop at the cap, not after rendering it all', async () => {
    const server = await serve();
    const config = validConfig();
    config.templates[1].content = '{{code}}'.repeat(200);
    const error = await rejection(connect(server, config).sendMessage('1', 'SignIn', { code: 'x'.repeat(1_000_000) }));
    assert.equal(error.code, 'invalid_request_parameters');
    assert.equal(server.requests.length, 0);
  });

  test('a template past the cap is refused before any request; a body at the cap is sent', async () => {
    const server = await serve();
    const config = validConfig();
    config.templates[1].content = 'y'.repeat(70_000);
    const error = await rejection(connect(server, config).sendMessage('1', 'SignIn', {}));
    assert.equal(error.code, 'invalid_request_parameters');
    assert.equal(server.requests.length, 0);
    config.templates[1].content = 'y'.repeat(65_536);
    await connect(server, config).sendMessage('1', 'SignIn', {});
    assert.equal(server.requests.length, 1);
  });
});

describe('panics and hostile Retry-After values', () => {
  test('no answer panics the runtime: every send rejects with a connector-kit code, stderr stays quiet', async () => {
    const values = [
      '18446744073709551615',
      '1e19',
      '99999999999999999999999999',
      'Fri, 31 Dec 9999 23:59:59 GMT',
      'Sat, 01 Jan 0000 00:00:00 GMT',
      '-1',
      'NaN',
      '',
      '\u00ff',
    ];
    // One server per value: each answers 429 to every request, with the hostile Retry-After on
    // the first 429 of each send (a send is known by its code), then one past any deadline,
    // which ends the send at once as the 429. So every send parses its hostile value, and a
    // value the parser ignores (plain backoff) costs one short backoff, not a back-off to the
    // deadline: the child's time does not depend on the machine's speed.
    const codeOf = (record) => new URLSearchParams(record.body).get('Body');
    const perValue = [];
    for (const value of values) {
      const throttle = throttleOnceThenEnd(codeOf, () => value);
      perValue.push(await serve((req, record, res) => throttle(record, res)));
    }
    const child = await runChild(`
      import { TwilioSmsConnector } from './index.js';
      import { validConfig } from './__test__/fixtures.js';
      const urls = ${JSON.stringify(perValue.map((s) => s.url))};
      const outcomes = [];
      for (const baseUrl of urls) {
        const options = { baseUrl, maxRetries: 1, timeoutMs: 3000 };
        const settle = (promise) => promise.then(() => ({ ok: true }), (error) => ({ code: error.code, message: error.message, kit: error.constructor.name }));
        outcomes.push(await settle(new TwilioSmsConnector(validConfig(), options).sendMessage('1', 'SignIn', { code: 'class' })));
      }
      process.env.TWILIO_SMS_NATIVE_MAX_RETRIES = '1';
      process.env.TWILIO_SMS_NATIVE_TIMEOUT_MS = '3000';
      for (const baseUrl of urls) {
        process.env.TWILIO_SMS_NATIVE_BASE_URL = baseUrl;
        const { default: create } = await import('./lib/index.js?' + encodeURIComponent(baseUrl));
        const connector = await create({ getConfig: async () => validConfig() });
        outcomes.push(await connector.sendMessage({ to: '1', type: 'SignIn', payload: { code: 'logto' } }).then(() => ({ ok: true }), (error) => ({ code: error.code, message: error.message, kit: error.constructor.name })));
      }
      console.log(JSON.stringify(outcomes));
    `);
    assert.equal(child.code, 0, child.stderr);
    assert.doesNotMatch(child.stderr, /panic/i);
    const kitCodes = new Set(Object.values((await import('@logto/connector-kit')).ConnectorErrorCodes));
    const outcomes = lastJson(child);
    assert.equal(outcomes.length, values.length * 2);
    outcomes.forEach((outcome, i) => {
      assert.ok(!outcome.ok, `case ${i} resolved`);
      assert.ok(kitCodes.has(outcome.code), `case ${i} (${values[i % values.length]}): code ${outcome.code}: ${outcome.message}`);
      if (i >= values.length) assert.equal(outcome.kit, ConnectorError.name);
    });
    // Each send met its server's hostile value: one request, or two when the value was ignored.
    perValue.forEach((server, i) => {
      for (const code of ['class', 'logto']) {
        const sent = server.requests.filter((record) => record.form.some(([key, text]) => key === 'Body' && text.endsWith(` ${code}`)));
        assert.ok(sent.length === 1 || sent.length === 2, `${values[i]} (${code}): ${sent.length} requests`);
      }
    });
  });
});

describe('NODE_EXTRA_CA_CERTS that never ends', () => {
  test('a FIFO nobody writes fails the send at its deadline, naming the variable', async () => {
    const server = await serve();
    const dir = mkdtempSync(join(tmpdir(), 'twilio-ca-fifo-'));
    const fifo = join(dir, 'ca.pem');
    execFileSync('mkfifo', [fifo]);
    // Set after start-up: Node itself would block on the FIFO before running any code.
    const child = await runChild(
      `
      process.env.NODE_EXTRA_CA_CERTS = ${JSON.stringify(fifo)};
      const { TwilioSmsConnector } = await import('./index.js');
      const { validConfig } = await import('./__test__/fixtures.js');
      const connector = new TwilioSmsConnector(validConfig(), { baseUrl: ${JSON.stringify(server.url)}, timeoutMs: 1000 });
      const outcome = await connector.sendMessage('1', 'SignIn', {}).then(() => ({ ok: true }), (e) => ({ code: e.code, message: e.message }));
      console.log(JSON.stringify(outcome));
      process.exit(0);
    `,
      {},
      15_000
    );
    const outcome = lastJson(child);
    assert.equal(outcome.code, 'general');
    assert.match(outcome.message, /NODE_EXTRA_CA_CERTS/);
    assert.equal(server.requests.length, 0);
  });

  test('the wait for the CA file counts against the one deadline of the send', async () => {
    // The file ends (empty) 2 s into a 3 s send and Twilio answers 2 s after the request: the
    // send's own deadline leaves it 1 s for that answer, so it times out waiting for it.
    const server = await serve(async () => {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      return false;
    });
    const dir = mkdtempSync(join(tmpdir(), 'twilio-ca-fifo-'));
    const fifo = join(dir, 'ca.pem');
    execFileSync('mkfifo', [fifo]);
    // Opening the write end waits for the connector to open the read end, on its first send.
    const writer = open(fifo, 'w').then(async (file) => {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      await file.close();
    });
    const child = await runChild(
      `
      process.env.NODE_EXTRA_CA_CERTS = ${JSON.stringify(fifo)};
      const { TwilioSmsConnector } = await import('./index.js');
      const { validConfig } = await import('./__test__/fixtures.js');
      const connector = new TwilioSmsConnector(validConfig(), { baseUrl: ${JSON.stringify(server.url)}, timeoutMs: 3000 });
      const outcome = await connector.sendMessage('1', 'SignIn', {}).then(() => ({ ok: true }), (e) => ({ code: e.code, message: e.message }));
      console.log(JSON.stringify(outcome));
      process.exit(0);
    `,
      {},
      15_000
    );
    // A child that never opened the FIFO would leave the write end waiting: a reader frees it.
    closeSync(openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK));
    await writer;
    const outcome = lastJson(child);
    assert.equal(outcome.code, 'general');
    assert.match(outcome.message, /timed out after 3000 ms, waiting for Twilio's answer/);
    assert.equal(server.requests.length, 1);
  });

  test('/dev/zero is read up to the cap, then ignored with a warning as Node does', async () => {
    const server = await serve();
    const child = await runChild(
      `
      process.env.NODE_EXTRA_CA_CERTS = '/dev/zero';
      const { TwilioSmsConnector } = await import('./index.js');
      const { validConfig } = await import('./__test__/fixtures.js');
      const connector = new TwilioSmsConnector(validConfig(), { baseUrl: ${JSON.stringify(server.url)} });
      const outcome = await connector.sendMessage('1', 'SignIn', { code: '5' }).then((m) => ({ body: m.body }), (e) => ({ code: e.code, message: e.message }));
      console.log(JSON.stringify(outcome));
    `,
      {},
      20_000
    );
    assert.deepEqual(lastJson(child), { body: 'Sign in code 5' });
    assert.match(child.stderr, /larger than 4194304 bytes/);
  });
});
