// The swap a user of Logto's official Docker image makes, with the real @logto/cli commands
// on an instance folder laid out like the image's (/etc/logto):
// - packages/core/package.json named @logto/core (how the CLI recognises an instance);
// - packages/cli: the CLI itself (the image runs it as `node packages/cli/bin/logto.js`);
// - packages/connectors/connector-twilio-sms: the official connector's package, linked by the
//   real `connector link` as packages/core/connectors/@logto-connector-twilio-sms, as the
//   image's Dockerfile does (`pnpm cli connector link -p .`);
// - one root node_modules (a link to this repo's), through which everything in the instance
//   resolves @logto/connector-kit, as in the image.
// After each step the connectors folder is loaded the way core loads it at start-up
// (deploy/load-connectors.mjs: the CLI's loader plus core's duplicate-id refusal), in a fresh
// process each time, since core loads once per start.
// Every child runs with process.execPath, so the whole file runs under whichever Node runs it.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { accountSID, apiKeySecret, apiKeySID, authToken, basicAuth, messagingServiceSID, validConfig } from './fixtures.js';
import { makePki } from '../support/certs.js';
import * as logtoCore from '../support/logto-core.js';
import { startTwilioServer } from '../support/twilio-server.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const supportDir = join(root, '__test__', 'support');
const work = mkdtempSync(join(tmpdir(), 'connector-twilio-sms-native-image-'));
const pki = makePki(join(tmpdir(), 'connector-twilio-sms-native-pki'));

const OFFICIAL = '@logto/connector-twilio-sms';
const OURS = 'connector-twilio-sms-native';
const OFFICIAL_LINK = '@logto-connector-twilio-sms';
const ID = 'twilio-short-message-service';

let server;
let tarball; // the self-contained main tarball, as published
let newInstanceCount = 0;

/** A fresh instance folder laid out like /etc/logto in the official image. */
function makeInstance() {
  const instance = join(work, `instance-${(newInstanceCount += 1)}`);
  mkdirSync(join(instance, 'packages', 'core'), { recursive: true });
  writeFileSync(join(instance, 'packages', 'core', 'package.json'), JSON.stringify({ name: '@logto/core', version: '1.43.0', type: 'module' }));
  symlinkSync(join(root, 'node_modules'), join(instance, 'node_modules'));
  symlinkSync(realpathSync(join(root, 'node_modules', '@logto', 'cli')), join(instance, 'packages', 'cli'));
  cpSync(realpathSync(join(root, 'node_modules', '@logto', 'connector-twilio-sms')), join(instance, 'packages', 'connectors', 'connector-twilio-sms'), {
    recursive: true,
  });
  return instance;
}

const childEnv = (extra = {}) => {
  const env = { ...process.env, ...extra };
  delete env.NODE_OPTIONS; // keep node --test's hooks out of the children
  delete env.NODE_TEST_CONTEXT;
  return env;
};

/** Runs a file with this process's Node. Asynchronous: the Twilio server lives in this process. */
const runNode = (args, { cwd = work, env = {} } = {}) =>
  new Promise((resolve) => {
    execFile(process.execPath, args, { cwd, env: childEnv(env), encoding: 'utf8', maxBuffer: 16 << 20 }, (error, stdout, stderr) =>
      resolve({ status: error ? (error.code ?? 1) : 0, stdout, stderr })
    );
  });

/**
 * `node packages/cli/bin/logto.js connector <args> -p <instance>` from the instance root (the
 * image's WORKDIR). npm runs offline: adding a local tarball needs no registry.
 */
const logtoConnector = (instance, ...args) =>
  runNode([join(instance, 'packages', 'cli', 'bin', 'logto.js'), 'connector', ...args, '-p', instance], {
    cwd: instance,
    env: { npm_config_offline: 'true' },
  });

/** Core's start-up (and optionally one send) in a fresh process: see support/logto-core-child.mjs. */
const startCore = async (instance, plan, { jsConnector = false } = {}) => {
  const args = [join(supportDir, 'logto-core-child.mjs'), instance];
  if (plan) args.push(JSON.stringify(plan));
  const env = { NODE_EXTRA_CA_CERTS: pki.caPath };
  if (jsConnector) {
    // The official connector posts to https://api.twilio.com; the preload sends it here.
    args.unshift('--import', join(root, 'support', 'js-connector-preload.mjs'));
    env.TWILIO_TEST_PORT = String(server.port);
  } else {
    env.TWILIO_SMS_NATIVE_BASE_URL = server.url;
  }
  const run = await runNode(args, { cwd: instance, env });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout.trim().split('\n').at(-1));
};

const connectorsOf = (instance) => readdirSync(join(instance, 'packages', 'core', 'connectors')).sort();
const sendData = { to: '15551230000', type: 'SignIn', payload: { code: '424242' } };
const field = (request, name) => request.form.find(([key]) => key === name)?.[1];

// A saved config that uses fields only ours knows, next to the ones both require.
const extendedConfig = () => ({
  ...validConfig(),
  apiKeySID,
  apiKeySecret,
  fromPhoneNumber: '+15017122661',
  validityPeriod: 600,
  smartEncoded: true,
  templates: [{ usageType: 'SignIn', locale: 'fr', content: 'Code de connexion {{code}}' }, ...validConfig().templates],
});

before(async () => {
  server = await startTwilioServer({ tls: { key: pki.key, cert: pki.cert } });
  // The tarball a release publishes (what `connector add connector-twilio-sms-native` fetches).
  const packed = JSON.parse(
    execFileSync(process.execPath, [join(root, 'scripts', 'pack-release.mjs'), join(work, 'dist')], { encoding: 'utf8', env: childEnv() })
  );
  tarball = packed.main;
});

after(() => {
  server?.close();
  rmSync(work, { recursive: true, force: true });
});

test('the swap, step by step: link, add (refused), remove (ours alone loads and sends), roll back', async (t) => {
  const instance = makeInstance();

  await t.test('the image: `connector link` links the official connector as @logto-connector-twilio-sms', async () => {
    const linked = await logtoConnector(instance, 'link');
    assert.equal(linked.status, 0, linked.stderr);
    const link = join(instance, 'packages', 'core', 'connectors', OFFICIAL_LINK);
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.equal(readlinkSync(link), join('..', '..', 'connectors', 'connector-twilio-sms'));
    const core = await startCore(instance);
    assert.deepEqual(core.factories, [{ id: ID, package: OFFICIAL }]);
  });

  await t.test('`connector add <tarball>` beside the official one: Logto refuses to start', async () => {
    const added = await logtoConnector(instance, 'add', tarball);
    assert.equal(added.status, 0, added.stderr);
    assert.match(added.stdout + added.stderr, /Added connector-twilio-sms-native v/);
    assert.deepEqual(connectorsOf(instance), [OFFICIAL_LINK, OURS]);
    const ours = join(instance, 'packages', 'core', 'connectors', OURS);
    assert.ok(!existsSync(join(ours, 'node_modules')), 'extracted, nothing installed');
    for (const platform of ['linux-x64-gnu', 'linux-x64-musl', 'linux-arm64-gnu', 'linux-arm64-musl']) {
      assert.ok(existsSync(join(ours, `${OURS}.${platform}.node`)), platform);
    }
    const listed = await logtoConnector(instance, 'list');
    assert.match(listed.stdout, /@logto\/connector-twilio-sms[\s\S]*connector-twilio-sms-native/);

    const core = await startCore(instance);
    assert.deepEqual(core.refused, {
      code: 'connector.more_than_one_connector_factory',
      message: `Found multiple connector factories (with id ${ID}), you may uninstall unnecessary ones.`,
    });
  });

  await t.test('`connector remove @logto/connector-twilio-sms`: only the link goes; ours alone loads and sends', async () => {
    const removed = await logtoConnector(instance, 'remove', OFFICIAL);
    assert.equal(removed.status, 0, removed.stderr);
    assert.match(removed.stdout + removed.stderr, /Removed 1 connectors/);
    assert.deepEqual(connectorsOf(instance), [OURS]);
    assert.ok(existsSync(join(instance, 'packages', 'connectors', 'connector-twilio-sms', 'package.json')), 'the linked package itself stays');
    const listed = await logtoConnector(instance, 'list');
    assert.doesNotMatch(listed.stdout, /@logto\/connector-twilio-sms/);
    assert.match(listed.stdout, /3RD-PARTY\s+connector-twilio-sms-native/);

    const before = server.requests.length;
    const core = await startCore(instance, { config: validConfig(), data: sendData });
    assert.deepEqual(core.factories, [{ id: ID, package: OURS }]);
    assert.deepEqual(core.sent, { ok: true });
    assert.equal(server.requests.length, before + 1);
    const request = server.requests.at(-1);
    assert.equal(request.url, `/2010-04-01/Accounts/${accountSID}/Messages.json`);
    assert.equal(request.headers.authorization, basicAuth());
    assert.deepEqual(request.form, [
      ['To', '+15551230000'],
      ['MessagingServiceSid', messagingServiceSID],
      ['Body', 'Sign in code 424242'],
      ['RiskCheck', 'enable'],
    ]);

    // The saved config with our extra fields: ours uses them.
    const extended = await startCore(instance, { config: extendedConfig(), data: { ...sendData, payload: { ...sendData.payload, locale: 'fr' } } });
    assert.deepEqual(extended.sent, { ok: true });
    const withExtras = server.requests.at(-1);
    assert.equal(withExtras.headers.authorization, basicAuth(apiKeySID, apiKeySecret), 'the API key wins over authToken');
    assert.equal(field(withExtras, 'From'), '+15017122661');
    assert.equal(field(withExtras, 'ValidityPeriod'), '600');
    assert.equal(field(withExtras, 'SmartEncoded'), 'true');
    assert.equal(field(withExtras, 'Body'), 'Code de connexion 424242');
  });

  await t.test('rollback: remove ours, `connector link` again; the JS connector loads the same saved config and ignores our fields', async () => {
    const removed = await logtoConnector(instance, 'remove', OURS);
    assert.equal(removed.status, 0, removed.stderr);
    const linked = await logtoConnector(instance, 'link');
    assert.equal(linked.status, 0, linked.stderr);
    assert.deepEqual(connectorsOf(instance), [OFFICIAL_LINK]);

    // The config still has authToken and fromMessagingServiceSID: the JS connector loads and
    // sends, but with the auth token (not the API key), through the Messaging Service (not
    // fromPhoneNumber), without ValidityPeriod / SmartEncoded, and with the FIRST SignIn
    // template whatever its locale (here the French one, for an English user).
    const core = await startCore(
      instance,
      { config: extendedConfig(), data: { ...sendData, payload: { ...sendData.payload, locale: 'en' } } },
      { jsConnector: true }
    );
    assert.deepEqual(core.factories, [{ id: ID, package: OFFICIAL }]);
    assert.deepEqual(core.sent, { ok: true });
    const request = server.requests.at(-1);
    assert.equal(request.headers.authorization, basicAuth(accountSID, authToken));
    assert.deepEqual(request.form, [
      ['To', '+15551230000'],
      ['MessagingServiceSid', messagingServiceSID],
      ['Body', 'Code de connexion 424242'],
      ['RiskCheck', 'enable'],
    ]);

    // A config that relies on our fields instead of authToken / fromMessagingServiceSID no
    // longer validates: every send fails with invalid_config until they are filled in again.
    const { authToken: _token, fromMessagingServiceSID: _service, ...oursOnly } = extendedConfig();
    const refused = await startCore(instance, { config: oursOnly, data: sendData }, { jsConnector: true });
    assert.equal(refused.sent.ok, false);
    assert.equal(refused.sent.code, 'invalid_config');
    assert.deepEqual(refused.sent.data.issues.map((issue) => issue.path.join('.')).sort(), ['authToken', 'fromMessagingServiceSID']);
  });
});

test('`connector add` resolves a relative tarball path against packages/core/connectors, and exits 0 when it fails', async () => {
  const instance = makeInstance();
  mkdirSync(join(instance, 'dist'));
  copyFileSync(tarball, join(instance, 'dist', `${OURS}.tgz`));
  const added = await logtoConnector(instance, 'add', `./dist/${OURS}.tgz`);
  assert.equal(added.status, 0, 'the CLI reports success whatever happened');
  assert.match(added.stdout + added.stderr, new RegExp(`ENOENT[\\s\\S]*packages/core/connectors/dist/${OURS}\\.tgz`));
  assert.match(added.stdout + added.stderr, /Failed to add/);
  assert.ok(!existsSync(join(instance, 'packages', 'core', 'connectors', OURS)));
});

test('`connector add` of a tarball whose file name does not start with `connector-`: the CLI prepends it, fails, and exits 0', async () => {
  const instance = makeInstance();
  const renamed = join(work, 'renamed', 'twilio-sms-native.tgz');
  mkdirSync(dirname(renamed), { recursive: true });
  copyFileSync(tarball, renamed);
  const added = await logtoConnector(instance, 'add', renamed);
  assert.equal(added.status, 0, 'the CLI reports success whatever happened');
  assert.match(added.stdout + added.stderr, new RegExp(`ENOENT[\\s\\S]*${join(work, 'renamed', 'connector-twilio-sms-native.tgz').replaceAll('.', '\\.')}`));
  assert.match(added.stdout + added.stderr, /Failed to add/);
  assert.deepEqual(readdirSync(join(instance, 'packages', 'core', 'connectors')), []);
  // The harness's `connector add` refuses such a name before the CLI runs.
  await assert.rejects(
    logtoCore.addConnector({ connectorsDir: join(instance, 'packages', 'core', 'connectors'), dir: instance }, renamed),
    /file name starting with "connector-"/
  );
});

// The RUN of deploy/Dockerfile, verbatim, with `sh` in a fresh image-like instance: `node` on
// PATH is this test's Node (as the image's is its own), SWAP_DIR holds what COPY puts there.
test('deploy/Dockerfile: its RUN swaps the connector in a fresh image layout (the real Logto core then serves with ours, and refuses with both), and fails when the swap cannot work', async () => {
  const dockerfile = readFileSync(join(root, 'deploy', 'Dockerfile'), 'utf8');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => line.trim() && !line.startsWith('#'));
  assert.ok(instructions.includes('WORKDIR /etc/logto'), 'the official image WORKDIR');
  assert.ok(instructions.includes('COPY connector-twilio-sms-native.tgz load-connectors.mjs json-guard-fix.mjs ${SWAP_DIR}/'));
  assert.ok(instructions.includes('ARG LOGTO_JSON_GUARD_FIX=0'), 'the jsonGuard change is off unless asked for');
  const runs = instructions.filter((line) => line.startsWith('RUN '));
  assert.equal(runs.length, 1);
  const script = runs[0].slice('RUN '.length);

  const bin = join(work, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'node'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} "$@"\n`);
  chmodSync(join(bin, 'node'), 0o755);

  const runDockerRun = async (instance, swapDir, packed = tarball, args = {}) => {
    mkdirSync(swapDir, { recursive: true });
    copyFileSync(packed, join(swapDir, `${OURS}.tgz`));
    for (const file of ['load-connectors.mjs', 'json-guard-fix.mjs']) copyFileSync(join(root, 'deploy', file), join(swapDir, file));
    return new Promise((resolve) => {
      execFile(
        'sh',
        ['-c', script],
        {
          cwd: instance,
          encoding: 'utf8',
          env: childEnv({ SWAP_DIR: swapDir, PATH: `${bin}${delimiter}${process.env.PATH}`, npm_config_offline: 'true', ...args }),
        },
        (error, stdout, stderr) => resolve({ status: error ? (error.code ?? 1) : 0, stdout, stderr })
      );
    });
  };

  // The image's state, with the real Logto core (support/logto-core.js): core built from
  // source, its dependencies in the root node_modules, the CLI as packages/cli, the official
  // connector linked by `connector link`. Core runs on Node 22 (this one, or node22-gnu when
  // this is the system Node 20).
  const node = logtoCore.coreNode();
  const prepared = await logtoCore.prepareLogtoCore({ node });
  const postgres = await logtoCore.startPostgres();
  try {
    await logtoCore.seedDatabase(prepared, postgres);
    const instance = logtoCore.createInstance(prepared, join(work, 'image-real-core'));
    await logtoCore.linkOfficialConnector(instance);
    // Logto's image holds connector-kit as a workspace package, packages/toolkit/connector-kit
    // (its node_modules links to it); here the instance's node_modules is a link to the
    // prepared core's, which the change must not touch (links are not followed).
    const kit = join(instance.dir, 'packages', 'toolkit', 'connector-kit');
    cpSync(join(prepared.nodeModules, '@logto', 'connector-kit'), kit, { recursive: true, dereference: true });
    const swapDir = join(work, 'swap');
    const run = await runDockerRun(instance.dir, swapDir, tarball, { LOGTO_JSON_GUARD_FIX: '1' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(connectorsOf(instance.dir), [OURS]);
    assert.ok(!existsSync(swapDir), 'the build leaves nothing behind');
    const lines = run.stdout.trim().split('\n');
    assert.deepEqual(
      JSON.parse(lines.find((line) => line.startsWith('{'))).factories.map(({ id, package: name }) => [id, name]),
      [[ID, OURS]]
    );
    assert.ok(lines.includes('json-guard-fix: jsonGuard builds its union once in packages/toolkit/connector-kit/lib/types/social.js'), run.stdout);
    assert.match(readFileSync(join(kit, 'lib', 'types', 'social.js'), 'utf8'), /jsonUnion \?\?= z\.union/);
    assert.doesNotMatch(readFileSync(join(prepared.nodeModules, '@logto', 'connector-kit', 'lib', 'types', 'social.js'), 'utf8'), /jsonUnion/);

    // Core itself starts on the swapped folder and sends through ours: the Console's test
    // endpoint reaches the stand-in with our connector's request.
    const env = { TWILIO_SMS_NATIVE_BASE_URL: server.url, NODE_EXTRA_CA_CERTS: pki.caPath };
    const logto = await logtoCore.startCore(instance, { databaseUrl: postgres.databaseUrl, env });
    try {
      const api = logtoCore.apiClient(logto.url, { token: await logtoCore.managementToken(logto, postgres) });
      const factories = await api('GET', '/api/connector-factories');
      const twilioFactories = factories.body.filter((factory) => factory.id === ID);
      assert.equal(twilioFactories.length, 1);
      assert.ok(
        twilioFactories[0].formItems.some((item) => item.key === 'authMethod'),
        "core's Twilio factory is ours"
      );
      const before = server.requests.length;
      const tested = await api('POST', `/api/connectors/${ID}/test`, { phone: '15551230000', config: validConfig() });
      assert.equal(tested.status, 204, JSON.stringify(tested.body));
      assert.equal(server.requests.length, before + 1);
      assert.equal(server.requests.at(-1).headers.authorization, basicAuth());
      // A placeholder the payload has no value for stays as written (as with the JS connector).
      assert.equal(field(server.requests.at(-1), 'Body'), 'Generic code 000000 for {{application.name}}');
    } finally {
      await logto.stop();
    }

    // Both connectors in the folder (`connector link` brings the official one back, as on
    // Logto built from source): core refuses to start.
    assert.equal((await logtoConnector(instance.dir, 'link')).status, 0);
    assert.deepEqual(connectorsOf(instance.dir), [OFFICIAL_LINK, OURS]);
    const refused = await logtoCore.startCore(instance, { databaseUrl: postgres.databaseUrl, env, expectFailure: true });
    const output = await refused.stop();
    assert.match(output, /connector\.more_than_one_connector_factory/);
    assert.match(output, /Found multiple connector factories \(with id twilio-short-message-service\)/);
  } finally {
    await postgres.stop();
  }

  // A tarball without a binary for this platform: ours does not load, and the build stops.
  const broken = makeInstance();
  assert.equal((await logtoConnector(broken, 'link')).status, 0);
  const brokenSwap = join(work, 'swap-broken');
  const stage = join(work, 'stage-broken');
  mkdirSync(stage, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', stage]);
  for (const file of readdirSync(join(stage, 'package')).filter((f) => f.endsWith('.node'))) {
    rmSync(join(stage, 'package', file));
  }
  const brokenTarball = join(work, `${OURS}-broken.tgz`);
  execFileSync('tar', ['-czf', brokenTarball, '-C', stage, 'package']);
  const failed = await runDockerRun(broken, brokenSwap, brokenTarball);
  assert.notEqual(failed.status, 0);
  assert.match(failed.stdout + failed.stderr, /no usable native binary for this platform/);
  assert.match(failed.stderr, /connector-twilio-sms-native did not load/);
});
