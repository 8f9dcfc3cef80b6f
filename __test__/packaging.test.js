// The release tarballs as a user gets them: the main package installed with plain
// `npm install` (from local tarballs; connector-kit from npm's cache, else the registry) into a fresh project outside this repo,
// its binary found inside the main package first, then in the per-target package, and a
// clear error when there is none.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { targets } from '../scripts/targets.mjs';
import { CONSUMER_BODY, runConsumer } from '../support/consumer.js';
import { startTwilioServer } from '../support/twilio-server.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const hostPlatform = `${process.platform}-${process.arch}-${process.report.getReport().header.glibcVersionRuntime ? 'gnu' : 'musl'}`;
const work = mkdtempSync(join(tmpdir(), 'connector-twilio-sms-native-pack-'));
const project = join(work, 'project');
const installed = join(project, 'node_modules', 'connector-twilio-sms-native');
let server;
let packed;

// The user's code, run in the fresh project against the local server.
const consume = () => runConsumer({ project, baseUrl: server.url });

before(async () => {
  server = await startTwilioServer();
  packed = JSON.parse(execFileSync(process.execPath, [join(root, 'scripts', 'pack-release.mjs'), join(work, 'dist')], { encoding: 'utf8' }));
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'fresh-project', version: '1.0.0', private: true }));
});

after(() => {
  server?.close();
  rmSync(work, { recursive: true, force: true });
});

test('the main tarball carries every built binary and lists every target as optional', () => {
  assert.ok(packed.binaries.includes(hostPlatform), `built ${packed.binaries}`);
  const listing = execFileSync('tar', ['-tzf', packed.main], { encoding: 'utf8' });
  for (const platform of packed.binaries) {
    assert.match(listing, new RegExp(`package/connector-twilio-sms-native\\.${platform}\\.node`));
  }
  const manifest = JSON.parse(execFileSync('tar', ['-xzOf', packed.main, 'package/package.json'], { encoding: 'utf8' }));
  assert.deepEqual(
    Object.keys(manifest.optionalDependencies).sort(),
    readdirSync(join(root, 'npm'))
      .map((p) => `connector-twilio-sms-native-${p}`)
      .sort()
  );
  assert.deepEqual(Object.keys(manifest.dependencies), ['@logto/connector-kit']);
  assert.equal(manifest.devDependencies, undefined);
});

test('npm install (local tarballs) into a fresh project, then send', async () => {
  const hostTarball = packed.platforms.find((file) => file.includes(`-${hostPlatform}-`));
  // --prefer-offline, not --offline: each runtime's npm (10 on Node 22, 11 on this machine's
  // Node 20) keys its cache differently, so one's cache may not answer the other.
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', packed.main, hostTarball], { cwd: project, stdio: 'pipe' });
  const run = await consume();
  assert.equal(run.status, 0, run.stderr);
  // The main package's own copy of the binary is the one loaded.
  assert.deepEqual(run.result, {
    body: CONSUMER_BODY,
    classExported: 'function',
    loaded: [realpathSync(join(installed, `connector-twilio-sms-native.${hostPlatform}.node`))],
  });
  assert.equal(server.requests.at(-1).form[2][1], CONSUMER_BODY);
});

test('without binaries in the main package, the per-target package is used', async () => {
  for (const file of readdirSync(installed).filter((f) => f.endsWith('.node'))) {
    rmSync(join(installed, file));
  }
  assert.ok(existsSync(join(project, 'node_modules', `connector-twilio-sms-native-${hostPlatform}`)));
  const run = await consume();
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.result.body, CONSUMER_BODY);
  assert.deepEqual(run.result.loaded, [
    realpathSync(join(project, 'node_modules', `connector-twilio-sms-native-${hostPlatform}`, `connector-twilio-sms-native.${hostPlatform}.node`)),
  ]);
});

test('with no binary at all, one clear error names the platform and the supported list', async () => {
  rmSync(join(project, 'node_modules', `connector-twilio-sms-native-${hostPlatform}`), { recursive: true });
  const run = await consume();
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, new RegExp(`no usable native binary for this platform \\(${hostPlatform}, Node `));
  // The shipped loader names the platforms by hand (it cannot import napi's CLI); they must be
  // the names napi itself gives napi.targets, which the build and the packages use.
  const platforms = targets().map(({ platform }) => platform);
  assert.ok(run.stderr.includes(`Supported: ${platforms.join(', ')}.`), run.stderr);
});
