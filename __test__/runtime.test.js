// Runtime hygiene: the addon in worker_threads (also torn down mid-send), a process that exits
// as soon as its last send settles, and the module loaded more than once.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

import { TwilioSmsConnector } from '../index.js';
import { validConfig } from './fixtures.js';
import { startFaultServer } from './support/fault-server.js';
import { startScriptedServer, startTwilioServer } from '../support/twilio-server.js';
import { until } from './support/wait.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const loader = pathToFileURL(join(root, 'index.js')).href;
const fixtures = pathToFileURL(join(root, '__test__', 'fixtures.js')).href;

let twilio;
let silent;
before(async () => {
  twilio = await startTwilioServer();
  silent = await startFaultServer(() => {});
});
after(() => Promise.all([twilio.close(), silent.close()]));

/** Runs `body` (an async function body with `TwilioSmsConnector`, `validConfig`, `data`) in a worker. */
const workerWith = (body, data) =>
  new Worker(
    `
    const { parentPort, workerData: data } = require('node:worker_threads');
    (async () => {
      const { TwilioSmsConnector } = await import(${JSON.stringify(loader)});
      const { validConfig } = await import(${JSON.stringify(fixtures)});
      ${body}
    })().catch((error) => parentPort.postMessage({ error: String(error?.stack ?? error) }));
    `,
    { eval: true, workerData: data }
  );

const nextMessage = (worker) =>
  new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });

test('sends from worker threads, several at once, while the main thread sends too', async () => {
  const workers = Array.from({ length: 3 }, (_, i) =>
    workerWith(
      `const c = new TwilioSmsConnector(validConfig(), { baseUrl: data.url });
       const m = await c.sendMessage('+1555000000' + data.i, 'SignIn', { code: 'w' + data.i });
       parentPort.postMessage({ body: m.body });`,
      { url: twilio.url, i }
    )
  );
  const main = new TwilioSmsConnector(validConfig(), { baseUrl: twilio.url }).sendMessage('1', 'SignIn', {
    code: 'main',
  });
  const answers = await Promise.all(workers.map(nextMessage));
  assert.deepEqual(
    answers.map((a) => a.error ?? a.body),
    ['Sign in code w0', 'Sign in code w1', 'Sign in code w2']
  );
  assert.equal((await main).body, 'Sign in code main');
  await Promise.all(workers.map((w) => w.terminate()));
});

test('a worker terminated while its 10 sends are at the server takes nothing down with it', async () => {
  // 3 rounds of 10 on the default limit of 50 in flight per account: each round's requests
  // are cancelled with their worker (see the next test), so the rounds never add up.
  for (let round = 0; round < 3; round += 1) {
    const received = silent.requests.length;
    const worker = workerWith(
      `const c = new TwilioSmsConnector(validConfig(), { baseUrl: data.url, timeoutMs: 60000 });
       for (let i = 0; i < 10; i += 1) c.sendMessage('1', 'SignIn', { code: String(i) }).catch(() => {});
       parentPort.postMessage({ pending: 10 });`,
      { url: silent.url }
    );
    assert.deepEqual(await nextMessage(worker), { pending: 10 });
    // Terminate only once every send is in flight: the silent server has each request.
    await until(() => silent.requests.length === received + 10, 'the 10 requests at the server');
    await worker.terminate();
  }
  // The main thread's runtime and pool are unaffected.
  const message = await new TwilioSmsConnector(validConfig(), { baseUrl: twilio.url }).sendMessage('1', 'SignIn', {
    code: 'after',
  });
  assert.equal(message.body, 'Sign in code after');
});

test("a terminated worker's sends give their account's request slots back at once", async () => {
  // The worker fills the account's 10 slots with sends the server holds; the main thread's send
  // to the same account and limit then needs one of those slots. Were the worker's sends left
  // running on the process-wide runtime, it would wait for their 60 s deadline and time out.
  const server = await startScriptedServer();
  try {
    server.answer = (record) => (record.form.some(([, value]) => value.includes('hold')) ? undefined : false);
    const worker = workerWith(
      `const c = new TwilioSmsConnector(validConfig(), { baseUrl: data.url, timeoutMs: 60000, maxConcurrency: 10 });
       for (let i = 0; i < 10; i += 1) c.sendMessage('1', 'SignIn', { code: 'hold' + i }).catch(() => {});
       parentPort.postMessage({ pending: 10 });`,
      { url: server.url }
    );
    assert.deepEqual(await nextMessage(worker), { pending: 10 });
    await until(() => server.requests.length === 10, 'the 10 held requests at the server');
    await worker.terminate();
    const main = new TwilioSmsConnector(validConfig(), { baseUrl: server.url, timeoutMs: 20_000, maxConcurrency: 10 });
    const message = await main.sendMessage('1', 'SignIn', { code: 'main' });
    assert.equal(message.body, 'Sign in code main');
    assert.equal(server.requests.length, 11);
  } finally {
    await server.close();
  }
});

/** Runs an ES module in a child Node; resolves with its exit code, output and timings. */
const runChild = (source) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, exitedAt: Date.now() });
    });
  });

test('the process exits promptly once its last send settles (no handle keeps Node alive)', async () => {
  const { code, stdout, stderr, exitedAt } = await runChild(`
    import { TwilioSmsConnector } from ${JSON.stringify(loader)};
    import { validConfig } from ${JSON.stringify(fixtures)};
    const c = new TwilioSmsConnector(validConfig(), { baseUrl: ${JSON.stringify(twilio.url)} });
    await c.sendMessage('1', 'SignIn', { code: '1' });
    await c.sendMessage('1', 'SignIn', { code: '2' }).catch(() => {});
    console.log(Date.now());
  `);
  assert.equal(code, 0, stderr);
  const settledAt = Number(stdout.trim());
  // The pooled keep-alive connection stays open for 60 s; it must not hold the process.
  assert.ok(exitedAt - settledAt < 5_000, `exited ${exitedAt - settledAt} ms after the last send`);
});

test('loading the module twice (two module instances, a second dlopen) is safe', async () => {
  const { code, stdout, stderr } = await runChild(`
    const a = await import(${JSON.stringify(`${loader}?first`)});
    const b = await import(${JSON.stringify(`${loader}?second`)});
    const libc = process.platform !== 'linux' ? '' : process.report.getReport().header.glibcVersionRuntime ? '-gnu' : '-musl';
    const binary = ${JSON.stringify(root)} + '/connector-twilio-sms-native.' + process.platform + '-' + process.arch + libc + '.node';
    const second = { exports: {} };
    process.dlopen(second, binary);
    const { validConfig } = await import(${JSON.stringify(fixtures)});
    const sent = [];
    for (const { TwilioSmsConnector } of [a, b, second.exports]) {
      const m = await new TwilioSmsConnector(validConfig(), { baseUrl: ${JSON.stringify(twilio.url)} })
        .sendMessage('1', 'SignIn', { code: String(sent.length) });
      sent.push(m.body);
    }
    console.log(JSON.stringify(sent));
  `);
  assert.equal(code, 0, stderr);
  assert.deepEqual(JSON.parse(stdout.trim()), ['Sign in code 0', 'Sign in code 1', 'Sign in code 2']);
});
