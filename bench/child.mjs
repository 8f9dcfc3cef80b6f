// One measurement of one connector, in a fresh Node process (started by run.mjs), so neither
// connector's heap, pool or JIT state leaks into the other's figures.
//
//   node --expose-gc --import <js-connector-preload.mjs> bench/child.mjs '<job JSON>'
//
// Both connectors get the same preload (it points the JS connector's fixed api.twilio.com:443
// at the bench server; ours ignores it and follows TWILIO_SMS_NATIVE_BASE_URL), so both pay
// the same start-up cost. Prints one JSON line with the figures.
import http from 'node:http';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

import { benchConfig } from './config.mjs';
import { percentile, sortedCopy } from './stats.mjs';

const job = JSON.parse(process.argv[2]);
const MODULES = {
  ours: new URL('../lib/index.js', import.meta.url).href,
  js: '@logto/connector-twilio-sms',
};

const config = benchConfig();
// `npm run bench -- --allowlist`: the same sends with a country allowlist (ours checks each
// recipient against libphonenumber's metadata; the JS connector ignores the field), to a number
// the metadata accepts (its own example US number).
const allowlist = process.env.BENCH_ALLOWED_COUNTRIES;
if (allowlist) {
  config.allowedCountries = allowlist.split(',');
}
const to = allowlist ? '+12015550123' : '+15551234567';

/** Counters of the bench server, read over its plain-HTTP control port. */
const serverStats = () =>
  new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: job.controlPort, path: '/stats', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve(JSON.parse(body)));
      })
      .on('error', reject);
  });

const statsDelta = (before, after) => Object.fromEntries(['tlsConnections', 'requests', 'created', 'rejected'].map((k) => [k, after[k] - before[k]]));

const memory = () => {
  const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, heapTotal, external, arrayBuffers };
};

async function loadConnector() {
  const { default: createConnector } = await import(MODULES[job.connector]);
  // As Logto calls it: createConnector once, then sendMessage(data) reads the config itself.
  // Logto's getConfig reads the connector's row from the database on every call, so each
  // send gets a fresh config object: parsed from JSON text here, for both connectors.
  const configText = JSON.stringify(config);
  const connector = await createConnector({ getConfig: async () => JSON.parse(configText) });
  let serial = 0;
  return () => {
    serial += 1;
    const code = String(100_000 + (serial % 900_000));
    return connector.sendMessage({ to, type: 'SignIn', payload: { code } });
  };
}

/** Runs `total` sends with `concurrency` in flight; latencies in ms, failures by error code. */
async function drive(send, total, concurrency, { record = true } = {}) {
  const latencies = record ? new Float64Array(total) : null;
  const failures = {};
  let next = 0;
  let done = 0;
  const lane = async () => {
    while (next < total) {
      next += 1;
      const t0 = performance.now();
      try {
        await send();
        if (latencies) latencies[done] = performance.now() - t0;
        done += 1;
      } catch (error) {
        const code = String(error?.code ?? error?.name ?? 'unknown');
        failures[code] = (failures[code] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, lane));
  return { latencies: latencies?.subarray(0, done), done, failures };
}

/**
 * Event-loop delay. Node's histogram records the whole interval between its timer's runs,
 * resolution included, so the resolution is taken off to leave the delay itself.
 */
function loopDelay(resolution = 1) {
  const histogram = monitorEventLoopDelay({ resolution });
  histogram.enable();
  return {
    stop() {
      histogram.disable();
      const ms = (ns) => Math.max(0, ns / 1e6 - resolution);
      return { p99Ms: ms(histogram.percentile(99)), maxMs: ms(histogram.max) };
    },
  };
}

const latencyFigures = (latencies) => {
  const sorted = sortedCopy(latencies);
  return { p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99) };
};

const scenarios = {
  /** (e) import, createConnector and the first send in a process that has done nothing yet. */
  async cold() {
    const rssBefore = process.memoryUsage.rss();
    const t0 = performance.now();
    const send = await loadConnector();
    const t1 = performance.now();
    await send();
    const t2 = performance.now();
    return {
      coldMs: t2 - t0,
      loadMs: t1 - t0,
      firstSendMs: t2 - t1,
      sinceProcessStartMs: t2,
      rssBefore,
      rssAfter: process.memoryUsage.rss(),
    };
  },

  /** (a) one send at a time over a warm keep-alive connection. */
  async sequential(send) {
    await drive(send, job.warmup, 1, { record: false });
    const { latencies, done, failures } = await drive(send, job.total, 1);
    return { ...latencyFigures(latencies), sends: done, failures };
  },

  /** (b, c) many sends at a fixed number in flight: throughput, latency, CPU, loop delay. */
  async sustained(send) {
    await drive(send, job.warmup, job.concurrency, { record: false });
    globalThis.gc?.();
    // What this machine's loop delay is with nothing to do: the floor the figures sit on.
    const idle = loopDelay();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const eldIdle = idle.stop();
    const before = await serverStats();
    const cpu0 = process.cpuUsage();
    const eld = loopDelay();
    const t0 = performance.now();
    const { latencies, done, failures } = await drive(send, job.total, job.concurrency);
    const seconds = (performance.now() - t0) / 1000;
    const { p99Ms: eldP99Ms, maxMs: eldMaxMs } = eld.stop();
    const cpu = process.cpuUsage(cpu0);
    const server = statsDelta(before, await serverStats());
    return {
      ...latencyFigures(latencies),
      sends: done,
      failures,
      seconds,
      sendsPerSec: done / seconds,
      cpuUsPerSend: (cpu.user + cpu.system) / Math.max(1, done),
      cpuShare: (cpu.user + cpu.system) / 1e6 / seconds,
      eldP99Ms,
      eldMaxMs,
      eldIdleP99Ms: eldIdle.p99Ms,
      server,
    };
  },

  /** (d) everything at once against a server that answers 429 above its concurrency limit. */
  async burst(send) {
    await drive(send, job.warmup, 1, { record: false });
    const before = await serverStats();
    const t0 = performance.now();
    const outcomes = await Promise.allSettled(Array.from({ length: job.total }, () => send()));
    const wallMs = performance.now() - t0;
    const server = statsDelta(before, await serverStats());
    const failures = {};
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') {
        const code = String(outcome.reason?.code ?? outcome.reason?.name ?? 'unknown');
        failures[code] = (failures[code] ?? 0) + 1;
      }
    }
    const delivered = outcomes.filter((o) => o.status === 'fulfilled').length;
    // run.mjs resets the server before each child, so this peak belongs to this process.
    server.maxInFlight = (await serverStats()).maxInFlight;
    return { delivered, failed: job.total - delivered, failures, wallMs, server };
  },

  /** (f) memory before and after many sends; gc first so the figures are live memory. */
  async memory(send) {
    await drive(send, job.warmup, job.concurrency, { record: false });
    globalThis.gc?.();
    const before = memory();
    // RSS after every tenth of the sends: a plateau (allocator high-water mark) and a leak
    // (a steady climb) look the same in a before/after pair.
    const rssTrace = [];
    const failures = {};
    let done = 0;
    for (let tenth = 0; tenth < 10; tenth += 1) {
      const part = await drive(send, job.total / 10, job.concurrency, { record: false });
      done += part.done;
      for (const [code, n] of Object.entries(part.failures)) failures[code] = (failures[code] ?? 0) + n;
      rssTrace.push(process.memoryUsage.rss());
    }
    globalThis.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 100));
    globalThis.gc?.();
    const after = memory();
    return { sends: done, failures, before, after, peakRss: Math.max(before.rss, ...rssTrace), rssTrace };
  },
};

const scenario = scenarios[job.scenario];
const result = job.scenario === 'cold' ? await scenario() : await scenario(await loadConnector());
process.stdout.write(`${JSON.stringify({ connector: job.connector, scenario: job.scenario, ...result })}\n`);
// Pooled keep-alive sockets would keep the process alive for a minute.
process.exit(0);
