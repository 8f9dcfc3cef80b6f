// A process in which a worker thread, not the main thread, is the first to load the addon, and
// then ends: `terminated`, `finished` (its event loop runs dry) or `many` (a dozen workers in a
// row, each loading, sending and ending, every other one terminated). Then the main thread and a
// later worker send. Prints the bodies sent, in order, as one JSON line and exits on its own, so
// a fault at a later thread's start or at exit shows as this process's signal.
//
//   node worker-first-child.mjs <twilio-url> <terminated|finished|many>
import { Worker } from 'node:worker_threads';

const [baseUrl, ending] = process.argv.slice(2);
const native = new URL('../../lib/native.js', import.meta.url).href;
const fixtures = new URL('../fixtures.js', import.meta.url).href;

/** One worker that loads the addon, sends `code` and then ends as `how` says; resolves with the body it sent. */
const workerSend = async (code, how) => {
  const worker = new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    (async () => {
      const { TwilioSmsConnector } = await import(workerData.native);
      const { validConfig } = await import(workerData.fixtures);
      const connector = new TwilioSmsConnector(validConfig(), { baseUrl: workerData.baseUrl });
      const message = await connector.sendMessage('+15550000000', 'SignIn', { code: workerData.code });
      parentPort.postMessage({ body: message.body });
      // Kept alive until terminated; otherwise nothing is left to run and the worker finishes.
      if (workerData.how === 'terminated') setInterval(() => {}, 60_000);
    })().catch((error) => parentPort.postMessage({ error: String(error?.stack ?? error) }));
    `,
    { eval: true, workerData: { native, fixtures, baseUrl, code, how } }
  );
  const exited = new Promise((resolve, reject) => {
    worker.once('exit', resolve);
    worker.once('error', reject);
  });
  const answer = await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  if (answer.error) throw new Error(`worker ${code}: ${answer.error}`);
  if (how === 'terminated') await worker.terminate();
  const exitCode = await exited;
  if (exitCode !== (how === 'terminated' ? 1 : 0)) throw new Error(`worker ${code} (${how}) exited with ${exitCode}`);
  return answer.body;
};

const bodies = [];
const endings = { terminated: ['terminated'], finished: ['finished'], many: Array.from({ length: 12 }, (_, i) => (i % 2 ? 'finished' : 'terminated')) }[ending];
if (!endings) throw new Error(`unknown ending '${ending}'`);
for (const [i, how] of endings.entries()) {
  bodies.push(await workerSend(`w${i}`, how));
}

// Only now does the main thread load the addon; it and a later worker send at the same time.
const { TwilioSmsConnector } = await import(native);
const { validConfig } = await import(fixtures);
const [main, later] = await Promise.all([
  new TwilioSmsConnector(validConfig(), { baseUrl }).sendMessage('+15550000000', 'SignIn', { code: 'main' }),
  workerSend('later', 'finished'),
]);
bodies.push(main.body, later);
console.log(JSON.stringify(bodies));
