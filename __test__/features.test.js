// Beyond the JS connector: API keys, a sender number, ValidityPeriod/SmartEncoded,
// localized templates, getUsage and preview, each against the local Twilio stand-in and
// checked on the exact request it receives.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { TwilioSmsConnector, validateConfig } from '../index.js';
import { accountSID, apiKeySecret, apiKeySID, authToken, basicAuth, errorText, messagingServiceSID, rejection, validConfig } from './fixtures.js';
import { startScriptedServer, twilioError } from '../support/twilio-server.js';

const fromPhoneNumber = '+15017122661';

let server;
const connect = (config = validConfig(), options = {}) => new TwilioSmsConnector(config, { baseUrl: server.url, ...options });
const last = () => server.requests.at(-1);
const withoutKeys = (config, ...keys) => {
  const copy = { ...config };
  for (const key of keys) delete copy[key];
  return copy;
};
const form = (fields) => new URLSearchParams(fields).toString();

const invalid = (config, pattern) => {
  assert.throws(
    () => connect(config),
    (error) => {
      assert.equal(error.code, 'invalid_config');
      assert.match(error.message, pattern);
      assert.ok(!errorText(error).includes(authToken) && !errorText(error).includes(apiKeySecret));
      return true;
    }
  );
  assert.equal(validateConfig(config).success, false);
};

before(async () => {
  server = await startScriptedServer();
});
after(() => server.close());

const usageAnswer =
  (records, extra = {}) =>
  (record, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        first_page_uri: record.url,
        next_page_uri: null,
        page: 0,
        page_size: 50,
        uri: record.url,
        usage_records: records.map((count) => ({
          account_sid: accountSID,
          category: 'sms-outbound',
          count,
          count_unit: 'messages',
          description: 'SMS Outbound',
          usage: count,
          usage_unit: 'messages',
        })),
        ...extra,
      })
    );
  };
const respondWith =
  (status, body, headers = {}) =>
  (record, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body);
  };

describe('API key authentication', () => {
  test('the key pair is the Basic credential; the URL and body keep the account and JS bytes', async () => {
    server.answer = undefined;
    const config = withoutKeys(validConfig({ apiKeySID, apiKeySecret }), 'authToken');
    await connect(config).sendMessage('+15551234567', 'SignIn', { code: '123456' });
    const request = last();
    assert.equal(request.url, `/2010-04-01/Accounts/${accountSID}/Messages.json`);
    assert.equal(request.headers.authorization, basicAuth(apiKeySID, apiKeySecret));
    assert.equal(request.body, form({ To: '+15551234567', MessagingServiceSid: messagingServiceSID, Body: 'Sign in code 123456', RiskCheck: 'enable' }));
  });

  test('with both a token and a key pair, the key wins', async () => {
    await connect(validConfig({ apiKeySID, apiKeySecret })).sendMessage('1', 'SignIn', { code: '1' });
    assert.equal(last().headers.authorization, basicAuth(apiKeySID, apiKeySecret));
  });

  test('cleared key fields (null, empty) fall back to the token', async () => {
    await connect(validConfig({ apiKeySID: '', apiKeySecret: null })).sendMessage('1', 'SignIn', { code: '1' });
    assert.equal(last().headers.authorization, basicAuth());
  });

  test('one complete credential is required and the error names the missing field', () => {
    invalid(withoutKeys(validConfig(), 'authToken'), /authToken: Required: expected a string \(or set apiKeySID and apiKeySecret/);
    invalid(withoutKeys(validConfig({ apiKeySID }), 'authToken'), /^Invalid.*apiKeySecret: Required when apiKeySID is set/);
    invalid(withoutKeys(validConfig({ apiKeySecret }), 'authToken'), /apiKeySID: Required when apiKeySecret is set/);
    invalid(validConfig({ apiKeySID }), /apiKeySecret: Required when apiKeySID is set/);
    invalid(validConfig({ apiKeySID: accountSID, apiKeySecret }), /apiKeySID: Must be an API Key SID, which starts with SK/);
    invalid(validConfig({ apiKeySID, apiKeySecret: { apiKeySecret } }), /apiKeySecret: Expected string, received object/);
  });

  test('an echoed key secret is redacted', async () => {
    server.answer = (record, res) => {
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end(`you sent ${record.headers.authorization} secret=${apiKeySecret}`);
    };
    try {
      const error = await rejection(connect(validConfig({ apiKeySID, apiKeySecret })).sendMessage('1', 'SignIn', {}));
      assert.equal(error.code, 'general');
      assert.ok(!errorText(error).includes(apiKeySecret));
      assert.ok(!errorText(error).includes(basicAuth(apiKeySID, apiKeySecret).slice(6)));
      assert.match(error.data.message, /you sent Basic \[redacted\] secret=\[redacted\]/);
    } finally {
      server.answer = undefined;
    }
  });
});

describe('OTP-aware delivery', () => {
  test('fromPhoneNumber alone: From is sent and MessagingServiceSid is left out', async () => {
    const config = withoutKeys(validConfig({ fromPhoneNumber }), 'fromMessagingServiceSID');
    await connect(config).sendMessage('15551234567', 'Register', { code: '42' });
    assert.equal(last().body, form({ To: '+15551234567', Body: 'Sign up code 42', RiskCheck: 'enable', From: fromPhoneNumber }));
  });

  test('an empty fromMessagingServiceSID next to fromPhoneNumber is left out too', async () => {
    await connect(validConfig({ fromMessagingServiceSID: '', fromPhoneNumber })).sendMessage('1', 'Register', { code: '4' });
    assert.equal(last().body, 'To=%2B1&Body=Sign+up+code+4&RiskCheck=enable&From=%2B15017122661');
  });

  test('every optional field is appended after the JS fields, in a fixed order', async () => {
    const config = validConfig({ fromPhoneNumber, validityPeriod: 600, smartEncoded: true, disableRiskCheck: true });
    await connect(config).sendMessage('+1555', 'SignIn', { code: '7' });
    assert.equal(
      last().body,
      `To=%2B1555&MessagingServiceSid=${messagingServiceSID}&Body=Sign+in+code+7&RiskCheck=disable` +
        '&From=%2B15017122661&ValidityPeriod=600&SmartEncoded=true'
    );
    await connect(validConfig({ smartEncoded: false })).sendMessage('+1555', 'SignIn', { code: '7' });
    assert.equal(last().body, `To=%2B1555&MessagingServiceSid=${messagingServiceSID}&Body=Sign+in+code+7&RiskCheck=enable&SmartEncoded=false`);
    await connect(validConfig({ validityPeriod: 36_000 })).sendMessage('+1555', 'SignIn', { code: '7' });
    assert.equal(last().body, `To=%2B1555&MessagingServiceSid=${messagingServiceSID}&Body=Sign+in+code+7&RiskCheck=enable&ValidityPeriod=36000`);
  });

  test('without the new fields the request is the JS one, byte for byte', async () => {
    await connect(validConfig({ validityPeriod: null, smartEncoded: null, fromPhoneNumber: '' })).sendMessage('+1555', 'SignIn', { code: '7' });
    assert.equal(last().body, `To=%2B1555&MessagingServiceSid=${messagingServiceSID}&Body=Sign+in+code+7&RiskCheck=enable`);
    assert.equal(last().headers.authorization, basicAuth());
  });

  test('validation: a sender is required, numbers are E.164, the period is 1 to 36000 seconds', () => {
    invalid(withoutKeys(validConfig(), 'fromMessagingServiceSID'), /fromMessagingServiceSID: Required: expected a string \(or set fromPhoneNumber/);
    for (const bad of ['15017122661', '+0150', '+1', '+1 501 712 2661', '+1234567890123456']) {
      invalid(
        validConfig({ fromPhoneNumber: bad }),
        /fromPhoneNumber: (Digits only, so expected a short code|Starts with \+ but is not an E\.164 phone number)/
      );
    }
    for (const bad of [0, 36_001, 1.5, -1, '600']) {
      invalid(validConfig({ validityPeriod: bad }), /validityPeriod: Expected a whole number of seconds from 1 to 36000/);
    }
    invalid(validConfig({ smartEncoded: 'true' }), /smartEncoded: Expected 'on', 'off' or 'default' \(or a boolean\)/);
    assert.equal(validateConfig(validConfig({ validityPeriod: 1, smartEncoded: false, fromPhoneNumber: '+12' })).success, true);
  });
});

describe('localized templates', () => {
  const templates = [
    { usageType: 'Register', content: 'Sign up code {{code}}' },
    { usageType: 'SignIn', content: 'Code de connexion {{code}}', locale: 'fr' },
    { usageType: 'SignIn', content: 'Código de acesso {{code}}', locale: 'pt-BR' },
    { usageType: 'SignIn', content: 'Sign in code {{code}}' },
    { usageType: 'ForgotPassword', content: 'Reset code {{code}}' },
    { usageType: 'Generic', content: 'Allgemeiner Code {{code}}', locale: 'de' },
    { usageType: 'Generic', content: 'Generic code {{code}}' },
  ];
  const bodyFor = async (type, locale) => {
    await connect(validConfig({ templates })).sendMessage('1', type, { code: '5', ...(locale === undefined ? {} : { locale }) });
    return last().form.find(([key]) => key === 'Body')[1];
  };

  test('exact locale, case-insensitive', async () => {
    assert.equal(await bodyFor('SignIn', 'pt-BR'), 'Código de acesso 5');
    assert.equal(await bodyFor('SignIn', 'PT-br'), 'Código de acesso 5');
  });
  test('same primary language', async () => {
    assert.equal(await bodyFor('SignIn', 'fr-CA'), 'Code de connexion 5');
    assert.equal(await bodyFor('SignIn', 'pt-PT'), 'Código de acesso 5');
  });
  test('the usage type without a locale', async () => {
    assert.equal(await bodyFor('SignIn', 'ja'), 'Sign in code 5');
    assert.equal(await bodyFor('SignIn', undefined), 'Sign in code 5');
    assert.equal(await bodyFor('SignIn', 42), 'Sign in code 5', 'a non-string locale is no locale');
  });
  test('Generic through the same chain', async () => {
    assert.equal(await bodyFor('MfaVerification', 'de-CH'), 'Allgemeiner Code 5');
    assert.equal(await bodyFor('MfaVerification', 'fr'), 'Generic code 5');
  });
  test('validation: loose BCP 47, and required types need a template without locale', () => {
    invalid(
      validConfig({ templates: [...templates, { usageType: 'SignIn', content: 'x', locale: 'pt_BR' }] }),
      /templates\[7\]\.locale: Must be a BCP 47 language tag/
    );
    invalid(
      validConfig({ templates: templates.filter((t) => !(t.usageType === 'Generic' && !t.locale)) }),
      /Template with UsageType \(Generic\) should be provided! Templates with a locale do not count/
    );
  });
});

describe('getUsage', () => {
  test('GETs the sms-outbound usage records since the given day and sums their counts', async () => {
    server.answer = usageAnswer(['40', '2']);
    const count = await connect().getUsage(new Date('2024-03-15T23:30:00-05:00'));
    assert.equal(count, 42);
    const request = last();
    assert.equal(request.method, 'GET');
    assert.equal(request.url, `/2010-04-01/Accounts/${accountSID}/Usage/Records.json?Category=sms-outbound&IncludeSubaccounts=false&StartDate=2024-03-16`);
    assert.equal(request.headers.authorization, basicAuth());
    assert.equal(request.body, '');
  });

  test('defaults to the first of the current month (UTC) and uses the API key when set', async () => {
    server.answer = usageAnswer(['7']);
    const now = new Date();
    const expected = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}-01`;
    assert.equal(await connect(validConfig({ apiKeySID, apiKeySecret })).getUsage(), 7);
    assert.equal(last().url, `/2010-04-01/Accounts/${accountSID}/Usage/Records.json?Category=sms-outbound&IncludeSubaccounts=false&StartDate=${expected}`);
    assert.equal(last().headers.authorization, basicAuth(apiKeySID, apiKeySecret));
  });

  test('follows next_page_uri within the account and sums every page', async () => {
    let page = 0;
    server.answer = (record, res) => {
      page += 1;
      const next = page === 1 ? `/2010-04-01/Accounts/${accountSID}/Usage/Records.json?Category=sms-outbound&Page=1` : null;
      usageAnswer([String(page * 10)], { next_page_uri: next })(record, res);
    };
    assert.equal(await connect().getUsage(new Date(Date.UTC(2024, 0, 1))), 30);
    assert.equal(last().url, `/2010-04-01/Accounts/${accountSID}/Usage/Records.json?Category=sms-outbound&Page=1`);
  });

  test('no records means zero', async () => {
    server.answer = usageAnswer([]);
    assert.equal(await connect().getUsage(new Date(0)), 0);
    assert.match(last().url, /StartDate=1970-01-01$/);
  });

  test('failures are connector errors with the right code', async () => {
    const cases = [
      [respondWith(401, JSON.stringify(twilioError(401, 20003, 'Authenticate'))), 'general', /20003/],
      [respondWith(429, JSON.stringify(twilioError(429, 20429, 'Too Many Requests'))), 'rate_limit_exceeded', /20429/],
      [respondWith(200, 'not json'), 'invalid_response', /not JSON/],
      [respondWith(200, '{"usage_records":[{"count":"lots"}]}'), 'invalid_response', /count is not a number/],
      [respondWith(302, '', { location: 'https://evil.example/' }), 'general', /HTTP 302.*not followed/],
      [usageAnswer(['1'], { next_page_uri: '/2010-04-01/Accounts/ACother/Usage/Records.json' }), 'invalid_response', /outside this account/],
    ];
    for (const [respond, code, pattern] of cases) {
      server.answer = respond;
      const error = await rejection(connect().getUsage(new Date(0)));
      assert.equal(error.code, code, String(pattern));
      assert.match(error.message, pattern);
      assert.ok(!errorText(error).includes(authToken));
    }
  });

  test('an unresponsive Twilio: getUsage stops at its 2.5 s cap (Logto waits 3 s), not at the 10 s send deadline', async () => {
    server.answer = () => {};
    const started = performance.now();
    const error = await rejection(connect().getUsage());
    const elapsed = performance.now() - started;
    assert.equal(error.code, 'general');
    // The cap is the feature: the message names it, and the call ended by it. The slow side
    // only has to stay clear of the 10 s default deadline, which a loaded machine cannot blur.
    assert.match(error.message, /timed out after 2500 ms/);
    assert.ok(elapsed >= 2450 && elapsed < 8000, `${elapsed} ms`);
  });

  test('a shorter timeoutMs also bounds it', async () => {
    server.answer = () => {};
    const error = await rejection(connect(validConfig(), { timeoutMs: 200 }).getUsage());
    assert.match(error.message, /timed out after 200 ms/);
  });

  test('an echoed credential is redacted', async () => {
    server.answer = (record, res) => respondWith(400, `${record.headers.authorization} ${apiKeySecret} ${authToken}`)(record, res);
    const error = await rejection(connect(validConfig({ apiKeySID, apiKeySecret })).getUsage());
    assert.ok(!errorText(error).includes(authToken) && !errorText(error).includes(apiKeySecret));
    assert.equal(error.data.message, 'Basic [redacted] [redacted] [redacted]');
  });

  test('startFrom must be a valid Date; the promise rejects, it never throws', async () => {
    server.answer = undefined;
    const before = server.requests.length;
    for (const bad of [new Date(NaN), '2024-01-01', 0, new Date(8.64e15)]) {
      const pending = connect().getUsage(bad);
      assert.ok(pending instanceof Promise);
      const error = await rejection(pending);
      assert.equal(error.code, 'invalid_request_parameters');
      assert.match(error.message, /startFrom must be a valid Date/);
    }
    assert.equal(server.requests.length, before, 'nothing was sent');
  });

  test('the Logto module: getUsage reads the saved config and returns the count', async () => {
    server.answer = usageAnswer(['12']);
    process.env.TWILIO_SMS_NATIVE_BASE_URL = server.url;
    const { default: createConnector } = await import(`../lib/index.js?usage-${Date.now()}`);
    const { ConnectorError } = await import('@logto/connector-kit');
    let reads = 0;
    const connector = await createConnector({
      getConfig: async (id) => {
        assert.equal(id, 'twilio-short-message-service');
        reads += 1;
        return validConfig();
      },
    });
    assert.equal(await connector.getUsage(new Date('2024-02-01T00:00:00Z')), 12);
    assert.equal(reads, 1);
    assert.match(last().url, /StartDate=2024-02-01$/);
    server.answer = respondWith(200, 'nope');
    const error = await rejection(connector.getUsage());
    assert.ok(error instanceof ConnectorError);
    assert.equal(error.code, 'invalid_response');
    const broken = await createConnector({ getConfig: async () => validConfig({ validityPeriod: 0 }) });
    const invalidConfig = await rejection(broken.getUsage());
    assert.ok(invalidConfig instanceof ConnectorError);
    assert.equal(invalidConfig.code, 'invalid_config');
    server.answer = undefined;
  });
});

describe('preview', () => {
  const config = validConfig({
    templates: [
      ...validConfig().templates,
      { usageType: 'SignIn', content: 'Votre code : {{code}} — valable 10 min', locale: 'fr' },
      { usageType: 'BindMfa', content: `{{code}} ${'x'.repeat(160)}` },
      { usageType: 'MfaVerification', content: 'Code {{code}} {}€' },
    ],
  });

  test('returns the chosen template, body, encoding and segments without any request', () => {
    const before = server.requests.length;
    const connector = connect(config);
    assert.deepEqual(connector.preview('SignIn', { code: '123456' }), {
      template: { usageType: 'SignIn', content: 'Sign in code {{ code }}' },
      body: 'Sign in code 123456',
      encoding: 'GSM-7',
      units: 19,
      segments: 1,
      utf16Units: 19,
      overBodyLimit: false,
    });
    const fr = connector.preview('SignIn', { code: '123456' }, 'fr-CA');
    assert.deepEqual(fr.template, { usageType: 'SignIn', locale: 'fr', content: 'Votre code : {{code}} — valable 10 min' });
    assert.equal(fr.encoding, 'UCS-2');
    assert.equal(connector.preview('SignIn', { code: '1', locale: 'fr' }).template.locale, 'fr');
    const long = connector.preview('BindMfa', { code: '123456' });
    assert.deepEqual([long.encoding, long.units, long.segments], ['GSM-7', 167, 2]);
    const ext = connector.preview('MfaVerification', { code: '123456' });
    assert.deepEqual([ext.encoding, ext.units], ['GSM-7', 18]); // 12 basic + 3 extension × 2
    assert.equal(connector.preview('Unknown', { code: '1' }).template.usageType, 'Generic');
    assert.equal(server.requests.length, before);
  });

  test('a missing or non-string usage type previews the Generic template, as a send would', () => {
    // A valid config always has a Generic template, so preview never reaches template_not_found.
    const connector = connect(validConfig());
    assert.equal(connector.preview(42).template.usageType, 'Generic');
    assert.equal(connector.preview().body, 'Generic code {{code}} for {{application.name}}');
  });
});
