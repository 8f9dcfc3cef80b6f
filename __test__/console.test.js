// The connector as Logto's admin Console and core meet it, with the package packed and loaded
// from an instance-style folder through @logto/cli's loader:
// - the form items pass connector-kit's own form-item guard, secrets are masked, every field
//   is reachable in a production Console and says what it does;
// - a config error reaches core as a real ZodError of the zod core resolves, so core's
//   formatting (RequestError `details`) shows each key path;
// - the Console's save semantics (the saved config merged under the form, '' and falsy values
//   dropped), replayed over sequences of edits: after every save, sends do what the form shows.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';

import { ConnectorConfigFormItemType, ConnectorError, connectorConfigFormItemGuard, connectorMetadataGuard, validateConfig } from '@logto/connector-kit';

import { accountSID, apiKeySID, apiKeySecret, authToken, basicAuth, messagingServiceSID, rejection, validConfig } from './fixtures.js';
import { ConsolePage, writeCoreDetails } from './support/console.js';
import { makeInstance, pkg } from './support/instance.js';
import { startTwilioServer } from '../support/twilio-server.js';

let instance;
let server;
let factory;
let connector;
let details;
let ZodError;
let saved;

before(async () => {
  server = await startTwilioServer();
  process.env.TWILIO_SMS_NATIVE_BASE_URL = server.url;
  instance = makeInstance('console');
  // Core's formatting, in a module inside packages/core so that its `import 'zod'` resolves
  // the way core's own does.
  const coreModule = writeCoreDetails(instance.coreDir);
  ({ details, ZodError } = await import(pathToFileURL(coreModule).href));
  const { loadConnectorFactories, buildRawConnector } = await import('@logto/cli/lib/connector/index.js');
  const factories = await loadConnectorFactories([{ path: instance.connectorDir, name: pkg.name }], false);
  assert.equal(factories.length, 1, 'the CLI loaded our connector');
  [factory] = factories;
  ({ rawConnector: connector } = await buildRawConnector(factory, async () => saved));
});

after(() => {
  server?.close();
  instance?.remove();
});

const formItems = () => factory.metadata.formItems;
const item = (key) => formItems().find((candidate) => candidate.key === key);

describe('form items', () => {
  test("every item passes connector-kit's form-item guard, and the metadata its metadata guard", () => {
    for (const formItem of formItems()) {
      const result = connectorConfigFormItemGuard.safeParse(formItem);
      assert.ok(result.success, `${formItem.key}: ${result.error}`);
      // The guard strips unknown keys: a typo would vanish silently.
      assert.deepEqual(Object.keys(result.data).sort(), Object.keys(formItem).sort(), formItem.key);
    }
    assert.ok(connectorMetadataGuard.safeParse(factory.metadata).success);
  });

  test('secrets are masked, host is reachable, every item says what it does', () => {
    for (const key of ['authToken', 'apiKeySecret']) {
      assert.equal(item(key).isConfidential, true, key);
    }
    for (const formItem of formItems()) {
      assert.ok(!formItem.isDevFeature, `${formItem.key} is hidden in a production Console`);
      assert.ok(formItem.description?.length > 20, `${formItem.key} has a description`);
    }
  });

  test('a showCondition names a Select and one of its values; conditioned fields are required', () => {
    for (const formItem of formItems().filter((candidate) => candidate.showConditions)) {
      for (const { targetKey, expectValue } of formItem.showConditions) {
        const target = item(targetKey);
        assert.equal(target?.type, ConnectorConfigFormItemType.Select, `${formItem.key} → ${targetKey}`);
        assert.ok(
          target.selectItems.some(({ value }) => value === expectValue),
          `${formItem.key}: ${expectValue}`
        );
      }
      // Shown only when its choice is made, so the form can demand it.
      assert.equal(formItem.required, true, formItem.key);
    }
    // The JS connector's fields keep their type and are required again where it requires them.
    for (const key of ['accountSID', 'authToken', 'fromMessagingServiceSID', 'templates']) {
      assert.equal(item(key).required, true, key);
    }
  });
});

describe('config errors show their key paths in Logto core', () => {
  const lines = (error) => details(error.data)?.split('\n');

  test('the ZodError is the class core resolves', () => {
    const result = connector.configGuard.safeParse({});
    assert.equal(result.success, false);
    assert.ok(result.error instanceof ZodError, 'instanceof the zod core imports');
  });

  const cases = [
    [{ ...validConfig(), authToken: undefined }, ['Error in key path "authToken": (invalid_type) Expected string but received undefined.']],
    [validConfig({ accountSID: 42 }), ['Error in key path "accountSID": (invalid_type) Expected string but received number.']],
    [validConfig({ disableRiskCheck: 'yes' }), ['Error in key path "disableRiskCheck": (invalid_type) Expected boolean but received string.']],
    [
      validConfig({ templates: [{ usageType: 'SignIn' }] }),
      ['Error in key path "templates.0.content": (invalid_type) Expected string but received undefined.'],
    ],
    [
      validConfig({ templates: [{ usageType: 'SignIn', content: 'x' }] }),
      ['Error in key path "templates": (custom) Template with UsageType (Register, ForgotPassword, Generic) should be provided!'],
    ],
    [validConfig({ host: 'evil.example.com' }), [/^Error in key path "host": \(invalid_string\) Must be a Twilio REST API host name/]],
    [validConfig({ authMethod: 'password' }), [`Error in key path "authMethod": (invalid_enum_value) Expected 'authToken' or 'apiKey'`]],
    [
      validConfig({ authMethod: 'authToken', authToken: '' }),
      ['Error in key path "authToken": (too_small) Required when authMethod is authToken: must not be empty'],
    ],
    [validConfig({ senderType: 'phoneNumber' }), ['Error in key path "fromPhoneNumber": (invalid_type) Expected string but received undefined.']],
    [
      validConfig({ validityPeriodMode: 'custom', validityPeriod: 99_999 }),
      ['Error in key path "validityPeriod": (custom) Expected a whole number of seconds from 1 to 36000 (Twilio\'s limit), received 99999'],
    ],
    [null, ['Error in key path "": (custom) Expected object, received null']],
  ];

  test("the guard, through connector-kit's validateConfig (Logto's save path)", () => {
    for (const [config, expected] of cases) {
      let error;
      try {
        validateConfig(config, connector.configGuard);
      } catch (caught) {
        error = caught;
      }
      assert.ok(error instanceof ConnectorError, JSON.stringify(config));
      assert.equal(error.code, 'invalid_config');
      assert.ok(error.data instanceof ZodError);
      const got = lines(error);
      assert.equal(got.length, expected.length, got.join('\n'));
      expected.forEach((want, index) => (typeof want === 'string' ? assert.equal(got[index], want) : assert.match(got[index], want)));
      for (const issue of error.data.issues) {
        assert.equal(issue.code === 'invalid_type', 'expected' in issue && 'received' in issue, JSON.stringify(issue));
      }
    }
  });

  test('sendMessage (the Console test send and every send)', async () => {
    for (const [config, expected] of cases) {
      const error = await rejection(connector.sendMessage({ to: '+1555', type: 'SignIn', payload: { code: '1' } }, config ?? undefined));
      if (config === null) continue; // a null inputConfig means "read the saved one" in Logto
      assert.ok(error instanceof ConnectorError);
      assert.equal(error.code, 'invalid_config');
      assert.ok(error.data instanceof ZodError);
      const got = lines(error);
      expected.forEach((want, index) => (typeof want === 'string' ? assert.equal(got[index], want) : assert.match(got[index], want)));
    }
  });
});

/** The Console's details page over our form items; a save validates with our guard and stores. */
const consolePage = (config) => new ConsolePage(formItems(), { configGuard: connector.configGuard, store: (config) => (saved = config) }, config);

const sent = async (inputConfig) => {
  await connector.sendMessage({ to: '+15550001111', type: 'SignIn', payload: { code: '123456' } }, inputConfig);
  const request = server.requests.at(-1);
  const field = (name) => request.form.find(([key]) => key === name)?.[1];
  return {
    authorization: request.headers.authorization,
    MessagingServiceSid: field('MessagingServiceSid'),
    From: field('From'),
    RiskCheck: field('RiskCheck'),
    ValidityPeriod: field('ValidityPeriod'),
    SmartEncoded: field('SmartEncoded'),
  };
};

/** After a save: the saved config (every send) and the Test button both do what the form shows. */
const assertMeansWhatItShows = async (page, label) => {
  const shown = page.meaning();
  assert.deepEqual(await sent(undefined), shown, `${label}: a send with the saved config`);
  assert.deepEqual(await sent(page.testConfig()), shown, `${label}: the Console's test send`);
};

describe("the Console's save semantics", () => {
  const number = '+15557654321';

  test('a new connector, then switching credentials, senders, validity and encoding back and forth', async () => {
    const page = consolePage();
    assert.equal(page.shown('authMethod'), 'authToken');
    assert.equal(page.shown('senderType'), 'messagingService');
    assert.deepEqual(page.missing().sort(), ['accountSID', 'authToken', 'fromMessagingServiceSID']);
    page.set('accountSID', accountSID);
    page.set('authToken', authToken);
    page.set('fromMessagingServiceSID', messagingServiceSID);
    page.save();
    await assertMeansWhatItShows(page, 'created');

    page.set('authMethod', 'apiKey');
    assert.equal(page.shown('authToken'), undefined, 'the token is hidden with an API key');
    assert.deepEqual(page.missing().sort(), ['apiKeySID', 'apiKeySecret']);
    page.set('apiKeySID', apiKeySID);
    page.set('apiKeySecret', apiKeySecret);
    page.save();
    await assertMeansWhatItShows(page, 'API key');
    assert.equal((await sent()).authorization, basicAuth(apiKeySID, apiKeySecret));

    // Clearing the secret cannot save (it would keep the old one): the form says it is required.
    page.set('apiKeySecret', '');
    assert.deepEqual(page.missing(), ['apiKeySecret']);
    page.set('apiKeySecret', apiKeySecret);

    page.set('authMethod', 'authToken');
    page.save();
    await assertMeansWhatItShows(page, 'back to the Auth Token');
    assert.equal((await sent()).authorization, basicAuth(accountSID, authToken));
    assert.equal(saved.apiKeySID, apiKeySID, 'the key stays saved (the Console merges), unused');

    page.set('authMethod', 'apiKey');
    page.save();
    await assertMeansWhatItShows(page, 'the API key again, from the kept fields');

    page.set('senderType', 'phoneNumber');
    page.set('fromPhoneNumber', number);
    page.save();
    await assertMeansWhatItShows(page, 'a sender number');
    assert.equal((await sent()).MessagingServiceSid, undefined);

    page.set('senderType', 'messagingService');
    page.save();
    await assertMeansWhatItShows(page, 'the sender number removed');
    assert.equal((await sent()).From, undefined);

    page.set('validityPeriodMode', 'custom');
    assert.deepEqual(page.missing(), ['validityPeriod']);
    page.set('validityPeriod', 600);
    page.set('smartEncoded', 'on');
    page.save();
    await assertMeansWhatItShows(page, 'validity period and smart encoding on');
    assert.deepEqual([(await sent()).ValidityPeriod, (await sent()).SmartEncoded], ['600', 'true']);

    page.set('validityPeriod', Number.NaN); // a cleared number field
    assert.deepEqual(page.missing(), ['validityPeriod'], 'a cleared period cannot save silently');
    page.set('validityPeriodMode', 'twilioDefault');
    page.set('smartEncoded', 'off');
    page.save();
    await assertMeansWhatItShows(page, 'validity period off, smart encoding off');
    assert.deepEqual([(await sent()).ValidityPeriod, (await sent()).SmartEncoded], [undefined, 'false']);

    page.set('smartEncoded', 'default');
    page.save();
    await assertMeansWhatItShows(page, "smart encoding back to Twilio's setting");
    assert.equal((await sent()).SmartEncoded, undefined);
  });

  test('a JS-connector config: unchanged meaning until saved, then an explicit choice', async () => {
    const legacy = validConfig({ disableRiskCheck: true });
    saved = legacy;
    const page = consolePage(legacy);
    // Sends as the JS connector would, before and without any edit.
    const before = await sent();
    assert.equal(before.authorization, basicAuth());
    assert.deepEqual([before.MessagingServiceSid, before.From, before.RiskCheck], [messagingServiceSID, undefined, 'disable']);
    assert.deepEqual(await sent(page.testConfig()), before, "the Console's test send of the untouched form");
    // The choices are empty (the config has none) and required: the first save makes them.
    assert.deepEqual(page.missing().sort(), ['authMethod', 'senderType']);
    page.set('authMethod', 'authToken');
    page.set('senderType', 'messagingService');
    assert.equal(page.shown('authToken'), authToken, 'the saved token shows once chosen');
    page.save();
    await assertMeansWhatItShows(page, 'a migrated JS config');
    assert.deepEqual(await sent(), before);
  });
});
