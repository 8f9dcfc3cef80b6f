// The TwilioSmsConnector class against a real local HTTP server: CONTRACT §2–4.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { sendMessage, TwilioSmsConnector, validateConfig } from '../index.js';
import { accountSID, authToken, basicAuth, errorText, messagingServiceSID, rejection, validConfig } from './fixtures.js';
import { startScriptedServer, startTwilioServer, twilioError } from '../support/twilio-server.js';

let server;
const connect = (config = validConfig(), options = {}) => new TwilioSmsConnector(config, { baseUrl: server.url, ...options });

before(async () => {
  server = await startScriptedServer();
});
after(() => server.close());

const last = () => server.requests.at(-1);

describe('request', () => {
  test('path, Basic auth, content type and form fields in the JS order', async () => {
    server.answer = undefined;
    const result = await connect().sendMessage('+15551234567', 'SignIn', { code: '123456' });
    assert.match(result.sid, /^SM[0-9a-f]{32}$/);
    assert.equal(result.status, 'queued');
    assert.equal(result.to, '+15551234567');
    assert.equal(result.body, 'Sign in code 123456');
    const request = last();
    assert.equal(request.method, 'POST');
    assert.equal(request.url, `/2010-04-01/Accounts/${accountSID}/Messages.json`);
    assert.equal(request.headers.authorization, basicAuth());
    assert.equal(request.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.deepEqual(request.form, [
      ['To', '+15551234567'],
      ['MessagingServiceSid', messagingServiceSID],
      ['Body', 'Sign in code 123456'],
      ['RiskCheck', 'enable'],
    ]);
    assert.equal(
      request.body,
      new URLSearchParams({
        To: '+15551234567',
        MessagingServiceSid: messagingServiceSID,
        Body: 'Sign in code 123456',
        RiskCheck: 'enable',
      }).toString()
    );
  });

  test('a + is put in front of the number only when missing', async () => {
    await connect().sendMessage('15551234567', 'Register', { code: '1' });
    assert.equal(last().form[0][1], '+15551234567');
    await connect().sendMessage('+4412', 'Register', { code: '1' });
    assert.equal(last().form[0][1], '+4412');
    await connect().sendMessage('', 'Register', { code: '1' });
    assert.equal(last().form[0][1], '+');
  });

  test('disableRiskCheck true sends RiskCheck=disable; false and absent send enable', async () => {
    await connect(validConfig({ disableRiskCheck: true })).sendMessage('1', 'SignIn', { code: '1' });
    assert.deepEqual(last().form[3], ['RiskCheck', 'disable']);
    await connect(validConfig({ disableRiskCheck: false })).sendMessage('1', 'SignIn', { code: '1' });
    assert.deepEqual(last().form[3], ['RiskCheck', 'enable']);
  });

  test('unicode, emoji and reserved characters survive form encoding like URLSearchParams', async () => {
    const content = 'Código {{code}} ✓ 😀 & = + % # ? / \n next line';
    const config = validConfig({
      templates: [...validConfig().templates, { usageType: 'BindMfa', content }],
    });
    await connect(config).sendMessage('1', 'BindMfa', { code: 'a b' });
    const expected = content.replace('{{code}}', 'a b');
    assert.equal(last().form[2][1], expected);
    assert.match(last().body, /Body=C%C3%B3digo\+a\+b\+%E2%9C%93\+%F0%9F%98%80\+%26\+%3D\+%2B\+%25\+%23\+%3F\+%2F\+%0A\+next\+line&/);
  });

  test('the first template of the usage type is used, else the first Generic one', async () => {
    await connect().sendMessage('1', 'SignIn', { code: '7' });
    assert.equal(last().form[2][1], 'Sign in code 7');
    await connect().sendMessage('1', 'MfaVerification', { code: '7', application: { name: 'App' } });
    assert.equal(last().form[2][1], 'Generic code 7 for App');
  });

  test('a usage type that is not a string falls back to Generic and is sent', async () => {
    const before = server.requests.length;
    // A type that is not a string never matches a template but Generic, as in the JS
    // connector's getConfigTemplateByType.
    await connect(validConfig()).sendMessage('1', 123, { code: '1' });
    assert.equal(last().form[2][1], 'Generic code 1 for {{application.name}}');
    assert.equal(server.requests.length, before + 1);
  });

  test('template_not_found is unreachable: a config without Generic is invalid_config, nothing is sent', async () => {
    const before = server.requests.length;
    const config = validConfig({ templates: validConfig().templates.filter((t) => t.usageType !== 'Generic') });
    const error = await rejection(sendMessage(config, '1', 'Unknown', { code: '1' }, { baseUrl: server.url }));
    assert.equal(error.code, 'invalid_config');
    assert.match(error.message, /Generic/);
    assert.equal(server.requests.length, before);
  });
});

describe('handlebars (connector-kit semantics)', () => {
  const render = async (content, payload) => {
    const config = validConfig({
      templates: [...validConfig().templates, { usageType: 'Custom', content }],
    });
    await connect(config).sendMessage('1', 'Custom', payload);
    return last().form[2][1];
  };

  const cases = [
    ['{{code}}', { code: '123' }, '123'],
    ['{{ code }}', { code: '123' }, '123'],
    ['{{\tcode\n}}', { code: '123' }, '123'],
    ['{{code}}', {}, '{{code}}'],
    ['{{application.name}}', { application: {} }, ''],
    ['{{application.name}}', { application: { name: 'Logto' } }, 'Logto'],
    ['{{application.name}}', {}, '{{application.name}}'],
    ['{{a.b.c}}', { a: { b: { c: 'deep' } } }, 'deep'],
    ['{{a.b.c}}', { a: 'str' }, ''],
    ['{{a.b}}', { a: null }, ''],
    ['{{a}}', { a: null }, ''],
    ['{{a}}', { a: undefined }, ''],
    ['{{list}}', { list: [1, [2, 3], null, 'x'] }, '1,2,3,,x'],
    ['{{list.0}}', { list: ['first', 'second'] }, 'first'],
    ['{{list.length}}', { list: [1, 2, 3] }, '3'],
    ['{{n}} {{f}} {{big}} {{tiny}} {{neg}}', { n: 42, f: 0.1, big: 1e21, tiny: 1e-7, neg: -0 }, '42 0.1 1e+21 1e-7 0'],
    ['{{t}}/{{ff}}', { t: true, ff: false }, 'true/false'],
    ['{{obj}}', { obj: { a: 1 } }, '[object Object]'],
    ['{{{code}}}', { code: '1' }, '{1}'],
    ['{{co de}} {{}} {{-x}}', { 'co de': 1, '': 2, '-x': 3 }, '{{co de}} {{}} {{-x}}'],
    ['{{code}}{{code}}', { code: 'ab' }, 'abab'],
  ];
  for (const [content, payload, expected] of cases) {
    test(`${JSON.stringify(content)} with ${JSON.stringify(payload)}`, async () => {
      assert.equal(await render(content, payload), expected);
    });
  }

  test('matches connector-kit replaceSendMessageHandlebars on every case', async () => {
    const { replaceSendMessageHandlebars } = await import('@logto/connector-kit');
    for (const [content, payload] of cases) {
      assert.equal(await render(content, payload), replaceSendMessageHandlebars(content, payload), content);
    }
  });

  test('a Symbol renders as String() writes it, as connector-kit renders it', async () => {
    const { replaceSendMessageHandlebars } = await import('@logto/connector-kit');
    for (const [content, payload, expected] of [
      ['{{code}}', { code: Symbol('s') }, 'Symbol(s)'],
      ['{{code}}', { code: Symbol() }, 'Symbol()'],
      ['{{a.b}}!', { a: { b: Symbol.iterator } }, 'Symbol(Symbol.iterator)!'],
      ['{{code}}', { code: Symbol('ü 😀 {{code}}') }, 'Symbol(ü 😀 {{code}})'],
    ]) {
      assert.equal(replaceSendMessageHandlebars(content, payload), expected);
      assert.equal(await render(content, payload), expected);
    }
  });

  test('an absent payload renders nothing and does not crash', async () => {
    assert.equal(await render('code {{code}}', undefined), 'code {{code}}');
  });
});

describe('config validation', () => {
  const invalid = (config, pattern) => {
    assert.throws(
      () => new TwilioSmsConnector(config, { baseUrl: server.url }),
      (error) => {
        assert.equal(error.code, 'invalid_config');
        assert.match(error.message, pattern);
        assert.ok(Array.isArray(error.data.issues));
        assert.ok(!errorText(error).includes(authToken));
        return true;
      }
    );
    assert.equal(validateConfig(config).success, false);
  };

  test('names each problem', () => {
    invalid({ accountSID: 1, authToken }, /accountSID: Expected string, received number.*fromMessagingServiceSID: Required.*templates: Required/);
    invalid(validConfig({ disableRiskCheck: 'yes' }), /disableRiskCheck: Expected boolean, received string/);
    invalid(validConfig({ templates: {} }), /templates: Expected array, received object/);
    invalid(validConfig({ templates: [{ usageType: 'Register' }] }), /templates\[0\]\.content: Required/);
  });

  test('names the missing usage types like the JS connector', () => {
    invalid(
      validConfig({
        templates: [
          { usageType: 'SignIn', content: '' },
          { usageType: 'ForgotPassword', content: '' },
        ],
      }),
      /Template with UsageType \(Register, Generic\) should be provided!/
    );
  });

  test('a config that is not an object is invalid', () => {
    for (const config of [null, undefined, 'x', 42, [], true]) {
      invalid(config, /config/);
    }
    // A cycle where the validator reads is invalid; under an unknown key, which the JS guard
    // never reads, it is accepted.
    const cyclic = validConfig();
    cyclic.templates.push(cyclic.templates);
    invalid(cyclic, /circular/);
    const ignored = validConfig();
    ignored.self = ignored;
    assert.equal(validateConfig(ignored).success, true);
  });

  test('empty strings and unknown keys are accepted, as in the JS guard', () => {
    assert.equal(validateConfig(validConfig({ accountSID: '', authToken: '', fromMessagingServiceSID: '', extra: { x: 1 } })).success, true);
  });

  const validHosts = ['api.twilio.com', 'API.TWILIO.COM', 'api.us1.twilio.com', 'api.dublin.ie1.twilio.com', 'api.sydney.au1.twilio.com'];
  const invalidHosts = [
    null,
    '',
    ' ',
    'https://api.twilio.com',
    'api.twilio.com:443',
    'api.twilio.com/path',
    'api.twilio.com?q=1',
    'api.twilio.com#frag',
    'user@api.twilio.com',
    'api.twilio.com\n',
    'api.twilio.com.example.com',
    'api.example.com',
    '127.0.0.1',
    'api..twilio.com',
    'api.-edge.twilio.com',
    'api.edge-.twilio.com',
    'api.ed_ge.twilio.com',
    `api.${'a'.repeat(64)}.twilio.com`,
    `api${'.abcdefghi'.repeat(25)}.twilio.com`,
    443,
    true,
    {},
    // Well-formed, but not a host Twilio documents for its REST API.
    `api.${'a'.repeat(63)}.twilio.com`,
    'api.frankfurt.de1.twilio.com',
    'api.dublin.us1.twilio.com',
  ];
  for (const host of validHosts) {
    test(`host ${JSON.stringify(host)} is accepted`, () => {
      assert.equal(validateConfig(validConfig({ host })).success, true);
    });
  }
  for (const host of invalidHosts) {
    test(`host ${JSON.stringify(host)} is rejected`, () => {
      invalid(validConfig({ host }), /host/);
    });
  }

  test('options are checked too', () => {
    for (const options of [{ baseUrl: 'ftp://x' }, { baseUrl: 'http://127.0.0.1/path' }, { timeoutMs: 0 }, { timeoutMs: 'x' }, 'x']) {
      assert.throws(() => new TwilioSmsConnector(validConfig(), options), { code: 'invalid_config' });
    }
  });
});

describe('answers and errors', () => {
  const respondWith = (status, body, headers = {}) => {
    server.answer = (record, res) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
  };
  after(() => {
    server.answer = undefined;
  });

  test('2xx resolves with the parsed Message resource', async () => {
    respondWith(200, { sid: 'SM1', status: 'accepted', to: '+1', body: 'x' });
    assert.deepEqual(await connect().sendMessage('1', 'SignIn', { code: '1' }), { sid: 'SM1', status: 'accepted', to: '+1', body: 'x' });
  });

  // A captive portal, a wrong base URL or another API behind the host answers 2xx too: only a
  // Message resource (a JSON object with a string sid) is a delivery (listed deviation).
  for (const [status, body, what] of [
    [202, 'accepted, not json', 'a body that is not JSON'],
    [200, '<html><body>Please sign in to the Wi-Fi</body></html>', 'a body that is not JSON'],
    [204, '', 'an empty body'],
    [200, ['SM1'], 'JSON that is not an object'],
    [201, { status: 'queued', to: '+1' }, 'a JSON object without a string sid'],
    [201, { sid: 42, status: 'queued' }, 'a JSON object without a string sid'],
  ]) {
    test(`2xx with ${what} (${JSON.stringify(body).slice(0, 30)}) is invalid_response, not a success`, async () => {
      respondWith(status, body);
      const error = await rejection(connect().sendMessage('1', 'SignIn', { code: '1' }));
      assert.equal(error.code, 'invalid_response');
      assert.match(error.message, new RegExp(`answered HTTP ${status} with ${what}, not a Twilio Message resource`));
      assert.match(error.message, /may not have been sent/);
      assert.equal(error.data.message, error.message);
    });
  }

  for (const [status, code] of [
    [400, 21211],
    [401, 20003],
    [404, 20404],
    [500, 20500],
    [502, 0],
    [503, 0],
  ]) {
    test(`HTTP ${status} is a general error carrying the raw body`, async () => {
      const raw = JSON.stringify(twilioError(status, code, `failure ${code}`));
      respondWith(status, raw);
      const error = await rejection(connect().sendMessage('1', 'SignIn', { code: '1' }));
      assert.ok(error instanceof Error);
      assert.equal(error.code, 'general');
      assert.deepEqual(error.data, { message: raw });
    });
  }

  // Neither test depends on how fast the machine is: the first is decided by the answers,
  // the second by a Retry-After that no deadline leaves room for.
  test('HTTP 429 is retried: two 429s, then a delivery resolves (listed deviation)', async () => {
    const raw = JSON.stringify(twilioError(429, 20429, 'Too Many Requests'));
    let answered = 0;
    server.answer = (record, res) => {
      answered += 1;
      if (answered > 2) return false; // Twilio's 201
      res.writeHead(429, { 'content-type': 'application/json' });
      res.end(raw);
    };
    const before = server.requests.length;
    const result = await connect(validConfig(), { timeoutMs: 60_000 }).sendMessage('1', 'SignIn', { code: '1' });
    assert.equal(result.status, 'queued');
    assert.equal(server.requests.length - before, 3, 'two 429s, then the delivery');
  });

  test('HTTP 429 when the deadline leaves no room to retry is rate_limit_exceeded with the body (listed deviation)', async () => {
    const raw = JSON.stringify(twilioError(429, 20429, 'Too Many Requests'));
    // Retry-After is honoured as a floor; 60 s is past the 30 s deadline, so the send ends at once.
    respondWith(429, raw, { 'retry-after': '60' });
    const before = server.requests.length;
    const error = await rejection(connect(validConfig(), { timeoutMs: 30_000 }).sendMessage('1', 'SignIn', {}));
    assert.equal(error.code, 'rate_limit_exceeded');
    assert.deepEqual(error.data, { message: raw });
    assert.equal(server.requests.length - before, 1);
  });

  for (const status of [301, 302, 307, 308]) {
    test(`HTTP ${status} is not followed and is a general error (listed deviation)`, async () => {
      const target = await startTwilioServer();
      try {
        respondWith(status, '', { location: `${target.url}/2010-04-01/Accounts/${accountSID}/Messages.json` });
        const error = await rejection(connect().sendMessage('1', 'SignIn', {}));
        assert.equal(error.code, 'general');
        assert.match(error.message, new RegExp(`HTTP ${status}.*not followed`));
        assert.equal(target.requests.length, 0, 'the redirect target received nothing');
      } finally {
        target.close();
      }
    });
  }

  test('a refused connection is a general error that names the failure', async () => {
    // A refused connect is retried (maxRetries 3) with backoff; a deadline far past the
    // backoffs keeps a slow machine (qemu) from ending it by the clock instead.
    const error = await rejection(new TwilioSmsConnector(validConfig(), { baseUrl: 'http://127.0.0.1:1', timeoutMs: 60_000 }).sendMessage('1', 'SignIn', {}));
    assert.equal(error.code, 'general');
    assert.match(error.message, /could not connect.*refused/i);
    assert.ok(!errorText(error).includes(authToken));
  });

  test('a server that never answers gives a general timeout error', async () => {
    server.answer = () => {}; // never respond
    const started = Date.now();
    const error = await rejection(connect(validConfig(), { timeoutMs: 300 }).sendMessage('1', 'SignIn', {}));
    assert.equal(error.code, 'general');
    assert.match(error.message, /timed out after 300 ms/);
    assert.ok(Date.now() - started < 10_000);
  });

  test('a non-string phone number is rejected, not thrown', async () => {
    const pending = connect().sendMessage(undefined, 'SignIn', {});
    assert.ok(pending instanceof Promise);
    const error = await rejection(pending);
    assert.equal(error.code, 'invalid_request_parameters');
  });

  test('a server echoing the credentials cannot leak the token into the error', async () => {
    server.answer = (record, res) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(`you sent ${record.headers.authorization} token=${authToken}`);
    };
    const error = await rejection(connect().sendMessage('1', 'SignIn', {}));
    assert.equal(error.code, 'general');
    assert.ok(!errorText(error).includes(authToken));
    assert.ok(!errorText(error).includes(basicAuth().slice(6)));
    assert.match(error.data.message, /\[redacted\]/);
  });
});

test('instances share one keep-alive pool', async () => {
  server.answer = undefined;
  const before = server.connections;
  const a = connect();
  const b = connect(validConfig({ accountSID: 'AC2' }));
  const first = server.requests.length;
  for (let i = 0; i < 5; i += 1) {
    await a.sendMessage('1', 'SignIn', { code: String(i) });
    await b.sendMessage('1', 'SignIn', { code: String(i) });
  }
  // Separate pools could never carry a request of each instance on one connection. (A count
  // of new connections would race the pool: a connection goes back to it just after its answer
  // is read, so the next send may already have opened another.)
  const sent = server.requests.slice(first);
  const used = (accountSid) => new Set(sent.filter((r) => r.url.includes(`/Accounts/${accountSid}/`)).map((r) => r.connectionId));
  const [byA, byB] = [used(accountSID), used('AC2')];
  assert.equal(sent.length, 10);
  assert.ok(
    [...byA].some((id) => byB.has(id)),
    `a used connections ${[...byA]}, b used ${[...byB]}`
  );
  assert.ok(server.connections - before < 10, `opened ${server.connections - before} connections for 10 sends`);
});

describe('sendMessage(config, …), the per-call form the Logto module uses', () => {
  test('sends exactly what the class sends', async () => {
    server.answer = undefined;
    const message = await sendMessage(validConfig(), '15551234567', 'SignIn', { code: '77' }, { baseUrl: server.url });
    assert.equal(message.body, 'Sign in code 77');
    const viaFunction = last();
    await connect().sendMessage('15551234567', 'SignIn', { code: '77' });
    assert.equal(viaFunction.body, last().body);
    assert.equal(viaFunction.headers.authorization, last().headers.authorization);
    assert.equal(viaFunction.url, last().url);
  });

  test('an invalid config or options reject with invalid_config instead of throwing', async () => {
    for (const [config, options, pattern] of [
      [validConfig({ templates: 'nope' }), { baseUrl: server.url }, /templates/],
      [null, { baseUrl: server.url }, /config/],
      [validConfig(), { baseUrl: server.url, maxRetries: 99 }, /maxRetries/],
    ]) {
      const pending = sendMessage(config, '1', 'SignIn', {}, options);
      assert.ok(pending instanceof Promise);
      const error = await rejection(pending);
      assert.equal(error.code, 'invalid_config');
      assert.match(error.message, pattern);
      assert.ok(!errorText(error).includes(authToken));
    }
  });
});
