#!/usr/bin/env node
// Installs the packed release as a user would and sends one code: the main tarball and one
// per-target tarball from <dist> go into an empty project with `npm install`, then the Logto
// module (`createConnector`) and the class entry are imported there and a code is sent to a
// Twilio-compatible server on 127.0.0.1 started by this script. Exits non-zero, saying why, on
// any failure. The release workflow runs it on every target and Node version before publishing
// the same files; the test command runs it here for the targets this machine can run.
//
//   node scripts/smoke-install.mjs <dist> <platform> [--node <node executable>] [--keep]
//
// --node runs the consumer with another executable (an arm64 node under qemu-user); npm then
// installs for that platform (--os/--cpu/--libc) but runs on this node.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { CONSUMER_BODY, runConsumer } from '../support/consumer.js';
import { startTwilioServer } from '../support/twilio-server.js';

const args = process.argv.slice(2);
const option = (name) => {
  const at = args.indexOf(name);
  return at === -1 ? undefined : args.splice(at, 2)[1];
};
const consumerNode = option('--node') ?? process.execPath;
const keep = args.includes('--keep') && args.splice(args.indexOf('--keep'), 1);
const [dist, platform] = args;
if (!dist || !platform) {
  console.error('usage: node scripts/smoke-install.mjs <dist> <platform> [--node <node>] [--keep]');
  process.exit(2);
}

const tarballs = readdirSync(resolve(dist)).filter((file) => file.endsWith('.tgz'));
const mainTarball = tarballs.find((file) => /^connector-twilio-sms-native-\d/.test(file));
const platformTarball = tarballs.find((file) => file.startsWith(`connector-twilio-sms-native-${platform}-`));
if (!mainTarball || !platformTarball) {
  console.error(`smoke-install: ${dist} lacks the main tarball or the ${platform} one (has: ${tarballs.join(', ') || 'none'})`);
  process.exit(1);
}

const [os, cpu, libc] = platform.split('-');
const project = mkdtempSync(join(tmpdir(), `smoke-${platform}-`));
writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'smoke', version: '1.0.0', private: true }));

const server = await startTwilioServer();
let failure;
try {
  // A foreign platform's package: npm refuses it by `os`/`cpu`/`libc` unless forced.
  const platformFlags =
    consumerNode === process.execPath ? [] : ['--force', `--os=${os}`, `--cpu=${cpu}`, ...(libc ? [`--libc=${libc === 'gnu' ? 'glibc' : libc}`] : [])];
  execFileSync(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', ...platformFlags, join(resolve(dist), mainTarball), join(resolve(dist), platformTarball)],
    {
      cwd: project,
      stdio: ['ignore', 'ignore', 'pipe'],
      shell: process.platform === 'win32', // npm is npm.cmd there
    }
  );
  const run = await runConsumer({ project, baseUrl: server.url, node: consumerNode });
  if (run.status !== 0 || !run.result) throw new Error(`the consumer failed: ${run.stderr || run.stdout}`);
  const result = { ...run.result, loaded: run.result.loaded.map((file) => file.split(/[\\/]/).at(-1)) };
  const expected = { body: CONSUMER_BODY, classExported: 'function', loaded: [`connector-twilio-sms-native.${platform}.node`] };
  if (JSON.stringify(result) !== JSON.stringify(expected)) {
    throw new Error(`expected ${JSON.stringify(expected)}, got ${JSON.stringify(result)}`);
  }
  const received = server.requests.at(-1)?.form?.find(([key]) => key === 'Body')?.[1];
  if (received !== CONSUMER_BODY) throw new Error(`the server received Body=${received}`);
  console.log(
    `smoke-install: ${platform} on Node ${execFileSync(consumerNode, ['-p', 'process.version'], { encoding: 'utf8' }).trim()}: installed ${mainTarball} + ${platformTarball}, sent a code, loaded ${result.loaded[0]}`
  );
} catch (error) {
  failure = error;
} finally {
  server.close();
  if (!keep) rmSync(project, { recursive: true, force: true });
}
if (failure) {
  console.error(`smoke-install: ${platform}: ${failure.message}`);
  process.exit(1);
}
