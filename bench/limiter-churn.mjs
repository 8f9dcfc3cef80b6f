// Memory kept by config churn: RSS after GC once this process has sent one code for each of
// COUNT distinct account SIDs (each SID_LENGTH characters) to a local Twilio stand-in running
// in a child process (so its own memory is not counted).
//
//   node --expose-gc bench/limiter-churn.mjs [COUNT=50000] [SID_LENGTH=34] [AT_ONCE=100]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { sendMessage } from '../index.js';

const count = Number(process.argv[2] ?? 50_000);
const sidLength = Number(process.argv[3] ?? 34);
if (typeof gc !== 'function') throw new Error('run with node --expose-gc');

const serverModule = fileURLToPath(new URL('../support/twilio-server.js', import.meta.url));
const child = spawn(
  process.execPath,
  [
    '--input-type=module',
    '-e',
    `import { startTwilioServer } from ${JSON.stringify(serverModule)};
     const server = await startTwilioServer();
     // Keep no record of the requests: only the sender's memory is measured.
     setInterval(() => server.requests.splice(0), 100);
     console.log(server.url);`,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] }
);
const baseUrl = await new Promise((resolve) => createInterface({ input: child.stdout }).once('line', resolve));

const config = (i) => ({
  accountSID: `AC${String(i).padStart(sidLength - 2, '0')}`,
  authToken: 'token',
  fromMessagingServiceSID: 'MG0123456789abcdef0123456789abcdef',
  templates: ['SignIn', 'Register', 'ForgotPassword', 'Generic'].map((usageType) => ({
    usageType,
    content: 'code {{code}}',
  })),
});
const send = (i) => sendMessage(config(i), '+15550001111', 'SignIn', { code: '1' }, { baseUrl });

const settle = async () => {
  for (let i = 0; i < 5; i += 1) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return process.memoryUsage();
};

// Warm up: the runtime, the HTTP client, its connections.
for (let i = 0; i < 200; i += 1) await send(-1);
const before = await settle();
const batch = Number(process.argv[4] ?? 100);
for (let start = 0; start < count; start += batch) {
  await Promise.all(Array.from({ length: Math.min(batch, count - start) }, (_, j) => send(start + j)));
}
const after = await settle();
const mb = (bytes) => (bytes / 2 ** 20).toFixed(1);
console.log(
  JSON.stringify({
    count,
    sidLength,
    rssBeforeMiB: mb(before.rss),
    rssAfterMiB: mb(after.rss),
    keptMiB: mb(after.rss - before.rss),
    // What of it the JS heap holds: the rest is native (the addon, the allocator).
    jsHeapKeptMiB: mb(after.heapTotal - before.heapTotal),
  })
);
child.kill();
