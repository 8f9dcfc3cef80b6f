// Several replicas of Logto against one Twilio account: N processes, each sending M codes at
// once with the default options (but a 60 s deadline), share a server that answers 429 above
// 100 requests in flight (Twilio's default per-account limit) and takes 50 ms per accepted
// request. No coordination between the processes: each adapts its own in-flight limit to the
// 429s it sees, and retries a 429 until its deadline. Every code must arrive exactly once.
// The server holds its first 100 accepted requests until the 101st arrives, which the
// processes' windows (50 each, 200 or more together) always send: the limit is hit on any
// machine, however slowly it runs the processes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { startLimitedServer } from './support/limited-server.js';

const child = fileURLToPath(new URL('./support/replica-child.mjs', import.meta.url));
const SERVER_LIMIT = 100;
// DEFAULT_MAX_CONCURRENCY in src/delivery.rs: the ceiling of each process's limit.
const CEILING = 50;

const servers = [];
after(() => Promise.all(servers.map((server) => server.close())));

/** Starts one replica; resolves once it has loaded the addon and waits for the go signal. */
const replica = (baseUrl, sender, count) =>
  new Promise((resolve, reject) => {
    const env = { ...process.env, BASE_URL: baseUrl, SENDER: String(sender), COUNT: String(count) };
    delete env.NODE_OPTIONS; // keep node --test's hooks out of the child
    delete env.NODE_TEST_CONTEXT;
    const proc = spawn(process.execPath, [child], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (chunk) => (stderr += chunk));
    const lines = createInterface({ input: proc.stdout });
    let ready = false;
    let result;
    lines.on('line', (line) => {
      if (!ready && line === 'ready') {
        ready = true;
        resolve({ go: () => proc.stdin.write('go\n'), done });
      } else {
        result = JSON.parse(line);
      }
    });
    const done = new Promise((settle) => proc.on('close', (code, signal) => settle({ code, signal, stderr, result })));
    done.then(({ code, stderr: text }) => ready || reject(new Error(`replica ${sender} exited ${code}: ${text}`)));
    proc.on('error', reject);
  });

for (const [processes, codes] of [
  [4, 400],
  [8, 500],
  [16, 250],
]) {
  // Only a hang reaches this timeout: it is well past the replicas' 60 s send deadline.
  test(`${processes} processes x ${codes} codes at once, server limit ${SERVER_LIMIT}: each code exactly once`, { timeout: 180_000 }, async (t) => {
    const server = await startLimitedServer({ limit: SERVER_LIMIT, delayMs: 50, gate: true });
    servers.push(server);
    const replicas = await Promise.all(Array.from({ length: processes }, (_, p) => replica(server.url, `p${p}`, codes)));
    for (const { go } of replicas) go();
    const outcomes = await Promise.all(replicas.map(({ done }) => done));
    const { stats } = server;
    const drainMs = Math.round(stats.lastAnswerAt - stats.firstRequestAt);
    // The server answers on one event loop, so its peak in flight is the requests being
    // processed plus the one being refused: what it shows is the limit held, not the load.
    t.diagnostic(
      `${processes} x ${codes}: ${stats.delivered.size} delivered, ${stats.rejected} answered 429 ` +
        `(${stats.requests} requests), drained in ${drainMs} ms, peak in flight at the server ` +
        `${stats.peakInFlight} (${stats.peakProcessing} processing), ` +
        `peak of one process ${Math.max(...stats.peakBySender.values())}`
    );

    for (const [p, { code, stderr, result }] of outcomes.entries()) {
      assert.equal(stderr, '', `replica p${p} wrote to stderr`);
      assert.equal(code, 0, `replica p${p} exit code`);
      assert.deepEqual(result.failures.slice(0, 5), [], `replica p${p}: ${result.failures.length} rejected`);
      assert.equal(result.delivered, codes);
    }
    // Every code the replicas sent reached the server, and none twice.
    const expected = [];
    for (let p = 0; p < processes; p += 1) for (let i = 0; i < codes; i += 1) expected.push(`p${p}-${i}`);
    assert.deepEqual([...stats.delivered.keys()].sort(), expected.sort());
    const twice = [...stats.delivered].filter(([, n]) => n !== 1);
    assert.deepEqual(twice, [], 'codes accepted more than once');
    // The limit really was shared and hit: the test shows adaptation, not an idle server.
    assert.ok(stats.rejected > 0, 'the server limit was never reached');
    assert.ok(stats.peakProcessing <= SERVER_LIMIT);
    // Each process stays within its ceiling however many 429s it sees and retries.
    for (const [sender, peak] of stats.peakBySender) {
      assert.ok(peak <= CEILING, `${sender} had ${peak} requests in flight, above its ceiling of ${CEILING}`);
    }
    // Each answered 429 is a retry, and each code is accepted once.
    assert.equal(stats.requests, stats.rejected + processes * codes);
    // The limits adapted: a fixed 50 per process drew 2,125 429s at 8 x 500 and 3,883 at
    // 16 x 250 (about one per code) from this server; the adaptive limit, well under half that.
    assert.ok(stats.rejected < (processes * codes) / 2, `${stats.rejected} answers of 429`);
  });
}
