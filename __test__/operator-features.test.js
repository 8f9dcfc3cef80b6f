// What operators asked for, end to end against the local Twilio stand-in: a country allowlist
// checked before any request (SMS pumping), any sender Twilio accepts (E.164, short code,
// alphanumeric ID), and the regional host forms (retired and undocumented ones refused, naming
// the host to use).
// Every failure is scanned for the credentials; every refusal before the network is checked to
// have sent nothing.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { connectorConfigFormItemGuard } from '@logto/connector-kit';

import { TwilioSmsConnector, countryCodes, validateConfig } from '../index.js';
import { apiKeySecret, authToken, errorText, rejection, validConfig } from './fixtures.js';
import { startTwilioServer, twilioError } from '../support/twilio-server.js';

let server;
let answer; // per-test override: (record, res) => void
const connect = (config = validConfig(), options = {}) => new TwilioSmsConnector(config, { baseUrl: server.url, ...options });
const noSecrets = (error) => {
  const text = errorText(error);
  assert.ok(!text.includes(authToken), 'the auth token leaked');
  assert.ok(!text.includes(apiKeySecret), 'the API key secret leaked');
};
const formOf = (record) => Object.fromEntries(record.form);

/** `config` is refused with invalid_config; `check` sees the issues; nothing is sent. */
const invalidConfig = (config, check) => {
  const before = server.requests.length;
  assert.throws(
    () => connect(config),
    (error) => {
      assert.equal(error.code, 'invalid_config');
      noSecrets(error);
      check(error.data.issues, error.message);
      return true;
    }
  );
  const result = validateConfig(config);
  assert.equal(result.success, false);
  check(result.issues, result.message);
  assert.equal(server.requests.length, before, 'no request for an invalid config');
};

before(async () => {
  server = await startTwilioServer({
    respond: async (req, record, res) => {
      if (answer) {
        answer(record, res);
        return true;
      }
    },
  });
});
after(() => server.close());

const US = '+12024561111'; // White House comment line
const CA = '+16135802400'; // City of Ottawa
const JM = '+18769299200'; // Kingston, Jamaica: +1 too

describe('allowedCountries', () => {
  test('absent or empty: the request is the JS connector’s, byte for byte, to any country', async () => {
    const bodies = [];
    for (const config of [validConfig(), validConfig({ allowedCountries: [] }), validConfig({ allowedCountries: null })]) {
      await connect(config).sendMessage(JM.slice(1), 'SignIn', { code: '123456' });
      bodies.push(server.requests.at(-1).body);
    }
    assert.equal(
      bodies[0],
      new URLSearchParams({ To: JM, MessagingServiceSid: validConfig().fromMessagingServiceSID, Body: 'Sign in code 123456', RiskCheck: 'enable' }).toString()
    );
    assert.deepEqual(bodies, [bodies[0], bodies[0], bodies[0]]);
  });

  test('a number of an allowed country is sent unchanged', async () => {
    const connector = connect(validConfig({ allowedCountries: ['us', ' CA '] }));
    for (const to of [US, CA, CA.slice(1)]) {
      await connector.sendMessage(to, 'SignIn', { code: '123456' });
      assert.equal(formOf(server.requests.at(-1)).To, to.startsWith('+') ? to : `+${to}`);
    }
  });

  test('another country, or no valid number of an allowed one: invalid_request_parameters, nothing sent', async () => {
    const connector = connect(validConfig({ allowedCountries: ['US', 'CA'] }));
    for (const [to, says] of [
      [JM, /\+18769299200 is a phone number of JM \(\+1\), which is not an allowed country \(allowed: CA, US\)/],
      ['+447400123456', /of GB \(\+44\).*allowed: CA, US/],
      ['+19999999999', /not a valid phone number for calling code \+1 in any country.*allowed: CA, US/],
      ['+80012345678', /non-geographic number \(\+800\).*allowed: CA, US/],
      ['+1 202 abc', /is not a phone number.*\(CA, US\)/],
    ]) {
      const before = server.requests.length;
      const error = await rejection(connector.sendMessage(to, 'SignIn', { code: '123456' }));
      assert.equal(error.code, 'invalid_request_parameters', to);
      assert.match(error.message, /^Recipient refused by allowedCountries: /);
      assert.match(error.message, says);
      assert.equal(error.data.message ?? error.data, error.message);
      noSecrets(error);
      assert.equal(server.requests.length, before, `no request for ${to}`);
    }
  });

  test('a formatted number of an allowed country is sent as the E.164 number checked', async () => {
    const connector = connect(validConfig({ allowedCountries: ['US'] }));
    for (const to of ['+1 (202) 456-1111', '1 202 456 1111', '+1.202.456.1111']) {
      await connector.sendMessage(to, 'SignIn', { code: '123456' });
      assert.equal(formOf(server.requests.at(-1)).To, US, to);
    }
  });

  test('a number read only after dropping digits written after the country code is refused, nothing sent', async () => {
    // libphonenumber drops a national trunk prefix or a carrier code written after the country
    // code; Twilio would be sent the digits as written, which are not the number checked.
    for (const [to, e164, country] of [
      ['+1 1 202 456 1111', US, 'US'],
      ['+44 0 20 7930 4433', '+442079304433', 'GB'],
      ['+44 180020 20 7930 4433', '+442079304433', 'GB'],
      ['+7 8 7172 740000', '+77172740000', 'KZ'],
      ['+61 0 2 9123 4567', '+61291234567', 'AU'],
      ['+54 0 11 15 2345 6789', '+5491123456789', 'AR'],
      ['+55 0 15 11 91234 5678', '+5511912345678', 'BR'],
      ['+57 03 321 234 5678', '+573212345678', 'CO'],
    ]) {
      const connector = connect(validConfig({ allowedCountries: [country] }));
      for (const written of [to, to.replaceAll(' ', '')]) {
        const before = server.requests.length;
        const error = await rejection(connector.sendMessage(written, 'SignIn', { code: '123456' }));
        assert.equal(error.code, 'invalid_request_parameters', written);
        assert.ok(
          error.message.startsWith(`Recipient refused by allowedCountries: ${written} is read as ${e164}, a phone number of ${country} `),
          error.message
        );
        assert.ok(error.message.endsWith(`write the number in E.164 form, ${e164}`), error.message);
        assert.equal(server.requests.length, before, `no request for ${written}`);
      }
      // The number it was read as is sent, digit for digit.
      await connector.sendMessage(e164, 'SignIn', { code: '123456' });
      assert.equal(formOf(server.requests.at(-1)).To, e164);
    }
  });

  test('a megabyte recipient is quoted in part in the refusal', async () => {
    const connector = connect(validConfig({ allowedCountries: ['US'] }));
    for (const to of [`+${'1'.repeat(2 ** 20)}`, 'x'.repeat(2 ** 20)]) {
      const before = server.requests.length;
      const error = await rejection(connector.sendMessage(to, 'SignIn', { code: '123456' }));
      assert.equal(error.code, 'invalid_request_parameters');
      assert.ok(error.message.length < 300, `${error.message.length} characters`);
      assert.match(error.message, /^Recipient refused by allowedCountries: \+?[1x]{1,64}… \(\d+ characters\) is not a phone number/);
      assert.equal(server.requests.length, before);
    }
  });

  test('the refusal comes before the template: a missing template does not hide it', async () => {
    const config = validConfig({ allowedCountries: ['US'] });
    const error = await rejection(connect(config).sendMessage(JM, 'NoSuchType', {}));
    assert.equal(error.code, 'invalid_request_parameters');
    noSecrets(error);
  });

  test('invalid entries are config issues at their index, in order', () => {
    invalidConfig(validConfig({ allowedCountries: ['US', 'UK', 7, 'USA', 'ZZ'] }), (issues) => {
      assert.deepEqual(
        issues.map((issue) => issue.path),
        [
          ['allowedCountries', 1],
          ['allowedCountries', 2],
          ['allowedCountries', 3],
          ['allowedCountries', 4],
        ]
      );
      assert.match(issues[0].message, /"UK".*the United Kingdom is GB/);
      assert.equal(issues[1].code, 'invalid_type');
      assert.match(issues[2].message, /two letters/);
      assert.match(issues[3].message, /"ZZ" is not an ISO 3166-1 alpha-2 code/);
    });
    invalidConfig(validConfig({ allowedCountries: 'US' }), (issues) => {
      assert.deepEqual(
        issues.map((issue) => issue.path),
        [['allowedCountries']]
      );
      assert.match(issues[0].message, /Expected array, received string/);
    });
  });

  test('preview reports the country and the verdict, without sending', () => {
    const before = server.requests.length;
    const open = connect().preview('SignIn', { code: '1' }, undefined, JM);
    assert.deepEqual({ ...open.recipient }, { country: 'JM', allowed: true });
    const listed = connect(validConfig({ allowedCountries: ['US', 'CA'] }));
    const refused = listed.preview('SignIn', { code: '1' }, undefined, JM);
    assert.equal(refused.recipient.country, 'JM');
    assert.equal(refused.recipient.allowed, false);
    assert.match(refused.recipient.rejection, /allowed: CA, US/);
    assert.equal(listed.preview('SignIn', { code: '1' }, undefined, CA).recipient.allowed, true);
    assert.equal(listed.preview('SignIn', { code: '1' }).recipient, undefined);
    assert.equal(server.requests.length, before);
  });

  test('preview flags a body over Twilio’s 1,600 characters, counted in UTF-16 units', () => {
    const templates = validConfig().templates.map((t) => (t.usageType === 'Generic' ? { ...t, content: '👍'.repeat(800) } : t));
    const atLimit = connect(validConfig({ templates })).preview('Generic', {});
    assert.deepEqual([atLimit.utf16Units, atLimit.overBodyLimit], [1600, false]);
    const over = templates.map((t) => (t.usageType === 'Generic' ? { ...t, content: `${t.content}a` } : t));
    const result = connect(validConfig({ templates: over })).preview('Generic', {});
    assert.deepEqual([result.utf16Units, result.overBodyLimit], [1601, true]);
  });

  test('demo -- preview --to prints the country and the refusal', () => {
    const dir = mkdtempSync(join(tmpdir(), 'operator-demo-'));
    try {
      const file = join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ allowedCountries: ['US', 'CA'], templates: validConfig().templates }));
      const demo = fileURLToPath(new URL('../demo/demo.js', import.meta.url));
      const run = (...args) => execFileSync(process.execPath, [demo, 'preview', ...args], { encoding: 'utf8' });
      const refused = run('--config', file, '--to', JM);
      assert.match(refused, /Recipient \+18769299200: a number of JM \(allowed countries: US, CA\)/);
      assert.match(refused, /REFUSED before any request: .*allowed: CA, US/);
      assert.match(run('--config', file, '--to', CA), /a number of CA .*\n  a send would go out/);
      assert.match(run('--to', JM), /a number of JM \(no allowedCountries: every country\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the Console item is a MultiSelect of the accepted codes that connector-kit accepts', async () => {
    process.env.TWILIO_SMS_NATIVE_BASE_URL ??= server.url;
    const { defaultMetadata } = await import('../lib/index.js');
    const item = defaultMetadata.formItems.find(({ key }) => key === 'allowedCountries');
    assert.equal(item.type, 'MultiSelect');
    assert.equal(item.required, false);
    assert.ok(connectorConfigFormItemGuard.safeParse(item).success);
    assert.deepEqual(item.selectItems.map(({ value }) => value).sort(), countryCodes());
    assert.ok(item.selectItems.some(({ value, title }) => value === 'JM' && title === 'Jamaica (JM)'));
    // Every choice is accepted by the validator (the Console cannot offer a refused one).
    assert.ok(validateConfig(validConfig({ allowedCountries: countryCodes() })).success);
  });

  test('through Logto’s module: ConnectorError invalid_request_parameters, no request', async () => {
    process.env.TWILIO_SMS_NATIVE_BASE_URL ??= server.url;
    const { default: create } = await import('../lib/index.js');
    const { ConnectorError } = await import('@logto/connector-kit');
    const config = validConfig({ allowedCountries: ['US'] });
    const connector = await create({ getConfig: async () => config });
    const before = server.requests.length;
    const error = await rejection(connector.sendMessage({ to: JM, type: 'SignIn', payload: { code: '1' } }));
    assert.ok(error instanceof ConnectorError);
    assert.equal(error.code, 'invalid_request_parameters');
    assert.match(error.data.message, /JM .*allowed: US/);
    noSecrets(error);
    assert.equal(server.requests.length, before);
    const zod = connector.configGuard.safeParse(validConfig({ allowedCountries: ['EL'] }));
    assert.equal(zod.success, false);
    assert.deepEqual(zod.error.issues[0].path, ['allowedCountries', 0]);
    assert.match(zod.error.issues[0].message, /Greece is GR/);
  });
});

describe('any sender Twilio accepts', () => {
  for (const [from, kind] of [
    ['+15017122661', 'E.164'],
    ['12345', 'short code'],
    ['123456', 'short code'],
    ['ACME', 'alphanumeric'],
    ['Acme Bank 2', 'alphanumeric'],
    ['ACME-Bank', 'alphanumeric'],
    ['ACME_2FA', 'alphanumeric'],
    ['A&B Shop', 'alphanumeric'],
    ['+ACME', 'alphanumeric'],
  ]) {
    test(`${kind} ${from} is sent as From, with or without senderType`, async () => {
      for (const extra of [{ senderType: 'phoneNumber' }, {}]) {
        const config = validConfig({ fromPhoneNumber: from, ...extra });
        if (extra.senderType) delete config.fromMessagingServiceSID;
        await connect(config).sendMessage('+12024561111', 'SignIn', { code: '1' });
        const form = formOf(server.requests.at(-1));
        assert.equal(form.From, from);
        assert.equal('MessagingServiceSid' in form, !extra.senderType);
      }
    });
  }

  for (const [from, says] of [
    ['1234', /Digits only, so expected a short code, which has 5 or 6 digits \(this has 4\)/],
    ['14155552671', /expected a short code.*E\.164 form with \+/],
    ['+1 415 555 2671', /after \+ only digits/],
    ['+0123', /country code cannot start with 0/],
    ['ACME.Bank', /'\.' is not allowed \(only ASCII letters A-Z and a-z, digits, spaces and \+ - _ &\)/],
    ['Café', /'é' is not allowed/],
    ['ACME-Bank-Ltd', /13 characters, at most 11/],
    ['ACME Bank Ltd', /13 characters, at most 11/],
    ['12 34', /at least one letter/],
    [' ACME', /whitespace/],
  ]) {
    test(`${JSON.stringify(from)} is refused saying which form was expected, nothing sent`, () => {
      invalidConfig(validConfig({ senderType: 'phoneNumber', fromPhoneNumber: from }), (issues) => {
        assert.deepEqual(
          issues.map((issue) => issue.path),
          [['fromPhoneNumber']]
        );
        assert.match(issues[0].message, says);
      });
    });
  }

  for (const sid of ['+15017122661', 'AC0123456789abcdef0123456789abcdef', 'mg0123']) {
    test(`senderType messagingService with ${sid} is refused: a Messaging Service SID starts with MG`, () => {
      invalidConfig(validConfig({ senderType: 'messagingService', fromMessagingServiceSID: sid }), (issues) => {
        assert.deepEqual(issues, [
          {
            code: 'invalid_string',
            path: ['fromMessagingServiceSID'],
            message: issues[0].message,
          },
        ]);
        assert.match(issues[0].message, /^Must be a Messaging Service SID, which starts with MG/);
      });
      // Without the explicit choice, the JS connector's rule: any string.
      assert.ok(validateConfig(validConfig({ fromMessagingServiceSID: sid })).success);
    });
  }

  test('the Console item says where alphanumeric IDs fail and that replies are impossible', async () => {
    process.env.TWILIO_SMS_NATIVE_BASE_URL ??= server.url;
    const { defaultMetadata } = await import('../lib/index.js');
    const item = defaultMetadata.formItems.find(({ key }) => key === 'fromPhoneNumber');
    assert.match(item.label, /short code or alphanumeric ID/);
    assert.match(item.description, /United States and Canada/);
    assert.match(item.description, /cannot reply/);
  });
});

describe('regional hosts', () => {
  for (const [host, replacement] of [
    ['api.ie1.twilio.com', 'api.dublin.ie1.twilio.com'],
    ['api.au1.twilio.com', 'api.sydney.au1.twilio.com'],
    ['API.US2.twilio.com', 'api.twilio.com'],
    ['api.jp1.twilio.com', 'api.twilio.com'],
  ]) {
    test(`${host} is refused: it stopped working; the message names ${replacement}`, () => {
      invalidConfig(validConfig({ host }), (issues) => {
        assert.deepEqual(
          issues.map((issue) => issue.path),
          [['host']]
        );
        assert.match(issues[0].message, /no longer works: Twilio stopped accepting .* on 2026-04-28/);
        assert.ok(issues[0].message.includes(replacement), issues[0].message);
      });
    });
  }

  test('the edge forms, api.us1 and api.ashburn.us1 are accepted', () => {
    for (const host of ['api.dublin.ie1.twilio.com', 'api.sydney.au1.twilio.com', 'api.us1.twilio.com', 'api.ashburn.us1.twilio.com']) {
      assert.ok(validateConfig(validConfig({ host })).success, host);
    }
  });

  for (const [host, says] of [
    ['api.frankfurt.de1.twilio.com', 'Twilio does not document REST API processing in DE1'],
    ['api.dublin.us1.twilio.com', 'US1 processing is reached through api.twilio.com'],
    ['api.sydney.ie1.twilio.com', 'IE1 processing is reached through api.dublin.ie1.twilio.com'],
  ]) {
    test(`${host} is refused before any request: not a host Twilio documents for its REST API`, () => {
      invalidConfig(validConfig({ host }), (issues) => {
        assert.deepEqual(
          issues.map((issue) => issue.path),
          [['host']]
        );
        assert.ok(issues[0].message.includes(says), issues[0].message);
        assert.match(issues[0].message, /Use api\.twilio\.com \(US1\), api\.dublin\.ie1\.twilio\.com \(IE1\) or api\.sydney\.au1\.twilio\.com \(AU1\)$/);
      });
    });
  }

  test('a credential of another region: HTTP 401 / 20003 reaches the caller, token redacted', async () => {
    answer = (record, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify(twilioError(401, 20003, 'Authenticate')));
    };
    try {
      const config = validConfig({ host: 'api.dublin.ie1.twilio.com' });
      const error = await rejection(connect(config).sendMessage(US, 'SignIn', { code: '1' }));
      assert.equal(error.code, 'general');
      assert.match(error.message, /20003/);
      noSecrets(error);
    } finally {
      answer = undefined;
    }
  });
});
