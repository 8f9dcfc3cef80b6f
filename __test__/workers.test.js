// A worker thread may be the first in a process to load the addon (an app that sends only from
// workers, or loads the connector lazily in one), and that worker may end before the main thread
// or any other thread touches the addon. The process must stay healthy: later threads start, the
// main thread and later workers send, and the process exits on its own. Each case runs in a
// child process (support/worker-first-child.mjs), so a fault shows as its signal rather than
// taking the test runner down.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { startTwilioServer } from '../support/twilio-server.js';
import { root } from './support/child.js';

let twilio;
before(async () => {
  twilio = await startTwilioServer();
});
after(() => twilio.close());

const sentBodies = (from) => twilio.requests.slice(from).map(({ form }) => form.find(([key]) => key === 'Body')?.[1]);

/** Runs the scenario in a child Node of this runtime; resolves with its exit code, signal and output. */
const runScenario = (ending) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, '__test__', 'support', 'worker-first-child.mjs'), twilio.url, ending], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    });
  });

const cases = [
  ['terminated', ['w0']],
  ['finished', ['w0']],
  ['many', Array.from({ length: 12 }, (_, i) => `w${i}`)],
];

for (const [ending, workerCodes] of cases) {
  test(`a worker that loads the addon first and ends (${ending}) leaves the process healthy`, async () => {
    const from = twilio.requests.length;
    const { code, signal, stdout, stderr } = await runScenario(ending);
    // A fault at a later thread's start or at exit ends the child by a signal (SIGSEGV).
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, stderr);
    const expected = [...workerCodes, 'main', 'later'].map((code) => `Sign in code ${code}`);
    assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1)), expected);
    assert.deepEqual(sentBodies(from).sort(), [...expected].sort());
  });
}
