// The Logto path for real: pack the package, extract it the way `logto connector add` does
// (no node_modules of its own), load it with @logto/cli's loader and drive it like Logto.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { accountSID, authToken, basicAuth, errorText, rejection, validConfig } from './fixtures.js';
import { RETRY_AFTER_PAST_ANY_DEADLINE, startTwilioServer, twilioError } from '../support/twilio-server.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
// Inside the repo so that, like in Logto's tree, imports resolve through an ancestor's
// node_modules (ours plays Logto core's, which has @logto/connector-kit).
const workDir = join(root, '.tmp', `logto-${process.pid}`);
const connectorsDir = join(workDir, 'packages', 'core', 'connectors');
const connectorDir = join(connectorsDir, pkg.name);

let server;
let answers = [];
let factory;
let ConnectorError;
let validateConfig;

before(async () => {
  server = await startTwilioServer({
    respond: async (req, record, res) => {
      const next = answers.shift();
      if (!next) return false;
      res.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
      res.end(next.body);
      return true;
    },
  });
  process.env.TWILIO_SMS_NATIVE_BASE_URL = server.url;
  // Generous: every answer here is scripted, and a 429 chain ends by its Retry-After (see
  // the failure test), so no outcome depends on how fast the machine reaches a deadline.
  process.env.TWILIO_SMS_NATIVE_TIMEOUT_MS = '60000';

  mkdirSync(connectorDir, { recursive: true });
  // --ignore-scripts: this tarball is never published, so it may carry only the binaries
  // built here (a release test job has just its own); `prepack` guards the published one.
  const [{ filename }] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', workDir], {
      cwd: root,
      encoding: 'utf8',
      shell: process.platform === 'win32', // npm is npm.cmd there
    })
  );
  execFileSync('tar', ['-xzf', join(workDir, filename), '-C', connectorDir, '--strip-components=1']);

  ({ ConnectorError, validateConfig } = await import('@logto/connector-kit'));
  const { loadConnectorFactories } = await import('@logto/cli/lib/connector/index.js');
  const factories = await loadConnectorFactories([{ path: connectorDir, name: pkg.name }], false);
  assert.equal(factories.length, 1, 'the CLI loaded our connector');
  [factory] = factories;
});

after(() => {
  server?.close();
  rmSync(workDir, { recursive: true, force: true });
});

const build = async (getConfig = async () => validConfig()) => {
  const { buildRawConnector } = await import('@logto/cli/lib/connector/index.js');
  const { rawConnector } = await buildRawConnector(factory, getConfig);
  return rawConnector;
};

test('the tarball is self-contained and named the way Logto scans for', () => {
  assert.match(pkg.name, /^connector-/);
  assert.deepEqual(Object.keys(pkg.dependencies), ['@logto/connector-kit']);
  assert.ok(existsSync(join(connectorDir, 'lib', 'index.js')));
  assert.ok(existsSync(join(connectorDir, 'docs', 'README.md')));
  assert.ok(!existsSync(join(connectorDir, 'node_modules')));
  const binaries = execFileSync('ls', [connectorDir], { encoding: 'utf8' })
    .split('\n')
    .filter((f) => f.endsWith('.node'));
  assert.ok(binaries.length >= 1, 'a native binary ships inside the tarball');
});

test('metadata: same id and form keys as the JS connector, our logo and readme inlined', async () => {
  const { default: createJsConnector } = await import('@logto/connector-twilio-sms');
  const js = await createJsConnector({ getConfig: async () => ({}) });
  const { metadata } = factory;
  assert.equal(factory.type, 'Sms');
  assert.equal(metadata.id, js.metadata.id);
  assert.equal(metadata.target, js.metadata.target);
  assert.equal(metadata.platform, null);
  // The JS connector's items keep their type, default and required flag; authToken and
  // fromMessagingServiceSID are shown (and required) when their explicit choice is made.
  for (const item of js.metadata.formItems) {
    const ours = metadata.formItems.find((candidate) => candidate.key === item.key);
    assert.ok(ours, `form item ${item.key}`);
    assert.equal(ours.type, item.type);
    assert.equal(ours.required, item.required, item.key);
    assert.deepEqual(ours.defaultValue, item.defaultValue);
  }
  const added = metadata.formItems.filter((item) => item.key !== 'host' && !js.metadata.formItems.some((jsItem) => jsItem.key === item.key));
  assert.deepEqual(
    added.map((item) => [item.key, item.type, item.required]),
    [
      ['authMethod', 'Select', true],
      ['apiKeySID', 'Text', true],
      ['apiKeySecret', 'Text', true],
      ['senderType', 'Select', true],
      ['fromPhoneNumber', 'Text', true],
      ['allowedCountries', 'MultiSelect', false],
      ['smsPumping', 'Json', false],
      ['validityPeriodMode', 'Select', false],
      ['validityPeriod', 'Number', true],
      ['smartEncoded', 'Select', false],
    ]
  );
  const host = metadata.formItems.find((item) => item.key === 'host');
  assert.deepEqual([host.type, host.required, host.placeholder, host.isDevFeature], ['Text', false, 'api.twilio.com', undefined]);
  for (const locale of ['en', 'zh-CN', 'tr-TR', 'ko']) {
    assert.ok(metadata.name[locale] && metadata.description[locale], locale);
  }
  assert.match(metadata.logo, /^data:image\/svg\+xml;base64,/);
  assert.match(metadata.readme, /Messaging Service/);
});

test("connector-kit's validateConfig accepts a valid config and rejects a bad one with ConnectorError", async () => {
  const connector = await build();
  validateConfig(validConfig(), connector.configGuard);
  const error = (() => {
    try {
      validateConfig(validConfig({ templates: [], authToken: 5 }), connector.configGuard);
    } catch (caught) {
      return caught;
    }
  })();
  assert.ok(error instanceof ConnectorError);
  assert.equal(error.code, 'invalid_config');
  assert.deepEqual(
    error.data.issues.map((issue) => issue.path.join('.')),
    ['authToken', 'templates']
  );
  assert.match(error.message, /Template with UsageType \(Register, SignIn, ForgotPassword, Generic\) should be provided!/);
  assert.throws(() => connector.configGuard.parse(null), { name: 'ZodError' });
});

test('sendMessage reads the saved config on every send and sends the exact request', async () => {
  let reads = 0;
  const connector = await build(async (id) => {
    assert.equal(id, 'twilio-short-message-service');
    reads += 1;
    return validConfig({ disableRiskCheck: reads > 1 });
  });
  await connector.sendMessage({ to: '15551230000', type: 'SignIn', payload: { code: '111111' } });
  await connector.sendMessage({ to: '15551230000', type: 'SignIn', payload: { code: '222222' } });
  assert.equal(reads, 2);
  const [first, second] = server.requests.slice(-2);
  assert.equal(first.headers.authorization, basicAuth());
  assert.equal(first.url, `/2010-04-01/Accounts/${accountSID}/Messages.json`);
  assert.deepEqual(
    first.form.map(([key]) => key),
    ['To', 'MessagingServiceSid', 'Body', 'RiskCheck']
  );
  assert.equal(first.form[2][1], 'Sign in code 111111');
  assert.equal(first.form[3][1], 'enable');
  assert.equal(second.form[3][1], 'disable', 'a changed config takes effect on the next send');
  assert.equal(second.connectionId, first.connectionId, 'the pooled connection is reused');
});

test('the Console test send uses the unsaved config and never calls getConfig', async () => {
  const connector = await build(async () => {
    throw new Error('getConfig must not be called');
  });
  await connector.sendMessage({ to: '+1555', type: 'Register', payload: { code: '9' } }, validConfig());
  assert.equal(server.requests.at(-1).form[2][1], 'Sign up code 9');
});

test('every failure is a ConnectorError of the connector-kit Logto resolves', async () => {
  const connector = await build();
  const cases = [
    { answer: { status: 400, body: JSON.stringify(twilioError(400, 21211, "The 'To' number is not valid.")) }, code: 'general', raw: true },
    { answer: { status: 401, body: JSON.stringify(twilioError(401, 20003, 'Authenticate')) }, code: 'general', raw: true },
    { answer: { status: 429, body: JSON.stringify(twilioError(429, 20429, 'Too Many Requests')) }, code: 'rate_limit_exceeded', raw: true },
    { answer: { status: 503, body: 'Service Unavailable' }, code: 'general', raw: true },
    { config: validConfig({ templates: 'nope' }), code: 'invalid_config' },
    { config: { ...validConfig(), host: 'evil.example.com' }, code: 'invalid_config' },
    { data: { to: 42, type: 'SignIn', payload: {} }, code: 'invalid_request_parameters' },
  ];
  for (const { answer, config, data, code, raw } of cases) {
    // A 429 is retried until the deadline leaves no room for the next wait: a plain 429, then
    // one whose Retry-After (an hour) lies past it, reported at once as Twilio's 429.
    answers = !answer ? [] : answer.status === 429 ? [answer, { ...answer, headers: { 'retry-after': RETRY_AFTER_PAST_ANY_DEADLINE } }] : [answer];
    const scripted = answers.length;
    const sent = server.requests.length;
    const error = await rejection(connector.sendMessage(data ?? { to: '1', type: 'SignIn', payload: { code: '1' } }, config ?? validConfig()));
    assert.equal(server.requests.length - sent, scripted, `${code}: one request per scripted answer`);
    assert.ok(error instanceof ConnectorError, `${code}: ${error}`);
    assert.equal(error.code, code);
    if (raw) {
      assert.deepEqual(error.data, { message: answer.body }, 'the raw Twilio body, as the JS connector reports it');
      assert.equal(error.message, `ConnectorError: ${JSON.stringify(answer.body)}`);
    }
    assert.ok(!errorText(error).includes(authToken));
  }
  answers = [];
});

test('a transport failure is a general ConnectorError naming the failure', async () => {
  const dead = await startTwilioServer();
  const deadUrl = dead.url;
  await dead.close();
  // The base URL is read at import; point a fresh module instance at the closed port.
  process.env.TWILIO_SMS_NATIVE_BASE_URL = deadUrl;
  const fresh = await import(`${join(connectorDir, 'lib', 'index.js')}?dead`);
  process.env.TWILIO_SMS_NATIVE_BASE_URL = server.url;
  const deadConnector = await fresh.default({ getConfig: async () => validConfig() });
  const error = await rejection(deadConnector.sendMessage({ to: '1', type: 'SignIn', payload: {} }));
  assert.ok(error instanceof ConnectorError);
  assert.equal(error.code, 'general');
  assert.match(error.data.message, /could not connect/);
});

test('getUsage through the loaded connector: saved config, exact request, ConnectorError on failure', async () => {
  const connector = await build();
  assert.equal(typeof connector.getUsage, 'function');
  answers = [{ status: 200, body: JSON.stringify({ usage_records: [{ category: 'sms-outbound', count: '3' }], next_page_uri: null }) }];
  assert.equal(await connector.getUsage(new Date('2024-05-20T12:00:00Z')), 3);
  const request = server.requests.at(-1);
  assert.equal(request.method, 'GET');
  assert.equal(request.url, `/2010-04-01/Accounts/${accountSID}/Usage/Records.json?Category=sms-outbound&IncludeSubaccounts=false&StartDate=2024-05-20`);
  assert.equal(request.headers.authorization, basicAuth());
  answers = [{ status: 401, body: JSON.stringify(twilioError(401, 20003, 'Authenticate')) }];
  const error = await rejection(connector.getUsage());
  assert.ok(error instanceof ConnectorError);
  assert.equal(error.code, 'general');
  assert.ok(!errorText(error).includes(authToken));
  answers = [];
});

test('operators tune the Logto module through TWILIO_SMS_NATIVE_* variables, checked natively', async () => {
  // Each variable with a value out of range: every send fails as invalid_config, and the
  // message names the variable the operator set (in Logto there is no other way to set it).
  const cases = [
    [
      'TWILIO_SMS_NATIVE_MAX_CONCURRENCY',
      '0',
      'options.maxConcurrency (TWILIO_SMS_NATIVE_MAX_CONCURRENCY for the Logto module) must be an integer between 1 and 1000',
    ],
    ['TWILIO_SMS_NATIVE_MAX_RETRIES', '11', /^options\.maxRetries \(TWILIO_SMS_NATIVE_MAX_RETRIES for the Logto module\) must be/],
    ['TWILIO_SMS_NATIVE_TIMEOUT_MS', '10s', /^options\.timeoutMs \(TWILIO_SMS_NATIVE_TIMEOUT_MS for the Logto module\) must be/],
    ['TWILIO_SMS_NATIVE_CONNECT_TIMEOUT_MS', '0', /^options\.connectTimeoutMs \(TWILIO_SMS_NATIVE_CONNECT_TIMEOUT_MS for the Logto module\) must be/],
    ['TWILIO_SMS_NATIVE_BASE_URL', '127.0.0.1:9', /^options\.baseUrl \(TWILIO_SMS_NATIVE_BASE_URL for the Logto module\) must be an origin/],
  ];
  for (const [variable, value, expected] of cases) {
    const { stdout, status, stderr } = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `
        const { default: createConnector } = await import(${JSON.stringify(new URL('../lib/index.js', import.meta.url).href)});
        const { validConfig } = await import(${JSON.stringify(new URL('./fixtures.js', import.meta.url).href)});
        const connector = await createConnector({ getConfig: async () => validConfig() });
        const error = await connector.sendMessage({ to: '1', type: 'SignIn', payload: {} }).catch((e) => e);
        console.log(JSON.stringify({ code: error.code, message: error.data?.message }));
        `,
      ],
      { encoding: 'utf8', env: { ...process.env, TWILIO_SMS_NATIVE_BASE_URL: 'http://127.0.0.1:9', [variable]: value } }
    );
    assert.equal(status, 0, stderr);
    const { code, message } = JSON.parse(stdout);
    assert.equal(code, 'invalid_config', variable);
    if (typeof expected === 'string') assert.equal(message, expected);
    else assert.match(message, expected);
  }
});
