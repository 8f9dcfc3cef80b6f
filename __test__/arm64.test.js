// The linux-arm64-gnu binary, run for real: Debian's arm64 Node.js under qemu-user runs the
// class test suite against the arm64 `.node` (the loader picks it by architecture).
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const binary = join(root, 'connector-twilio-sms-native.linux-arm64-gnu.node');
const skip =
  process.platform !== 'linux' || process.arch !== 'x64'
    ? 'needs a linux-x64 host'
    : !existsSync(binary)
      ? 'linux-arm64-gnu binary not built (npm run build:release)'
      : process.getuid?.() !== 0
        ? 'needs root to fetch Debian arm64 packages'
        : false;

test('the arm64 binary passes the class tests under qemu-user with Debian arm64 Node', { skip, timeout: 600_000 }, async () => {
  const node = execFileSync(join(root, 'scripts', 'arm64-node.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    .trim()
    .split('\n')
    .at(-1);
  assert.equal(execFileSync(node, ['-p', 'process.arch'], { encoding: 'utf8' }).trim(), 'arm64');
  // Without the runner's own marker, the child reports plain TAP instead of to a parent runner.
  const { NODE_TEST_CONTEXT, ...childEnv } = process.env;
  // Run the file directly (not with --test): the test runner would spawn children with the
  // arm64 executable path, which only qemu can run.
  const { status, stdout } = await new Promise((resolve) => {
    execFile(node, [join(root, '__test__', 'connector.test.js')], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20, env: childEnv }, (error, out) =>
      resolve({ status: error ? error.code : 0, stdout: out })
    );
  });
  const summary = Object.fromEntries([...stdout.matchAll(/^# (tests|pass|fail) (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
  assert.equal(status, 0, stdout.split('\n').filter((line) => line.includes('not ok')).join('\n'));
  assert.ok(summary.tests >= 70, `ran ${summary.tests} tests`);
  assert.equal(summary.fail, 0);
});
