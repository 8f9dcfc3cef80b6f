// One Logto replica of the SMS pumping simulation (bench/pumping.mjs), as Logto runs the
// connector: the Logto module (lib/index.js) with its options from the environment
// (TWILIO_SMS_NATIVE_BASE_URL, TWILIO_SMS_NATIVE_REDIS_URL), `ip` in the data Logto passes.
//
// argv[2] is a file holding a JSON job:
// - `{ mode: 'replay', config, trace, concurrency }`: `trace` is a file holding this replica's
//   share of the sends, `[{ to, ip, code }]` in order; the replica prints `ready`, waits for a
//   line on stdin (so all replicas start together), sends them with `concurrency` in flight, in
//   order, and writes one JSON object (to the job's file name + `.out`): per send its outcome
//   (`sent` or the error code), the refusing rule and the time the call took (and the message
//   of a failure that names no rule).
// - `{ mode: 'latency', configs, numbers, rounds, perRound, redisUrl, baseUrl }`: one send at a
//   time through the native class, each named config in turn (rounds alternate them so drift
//   hits all alike), and writes per config the time of every send, as replay does.
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));

/** `limits[1]`, `dailySegments.perCountry`, `riskScore`… from a refusal's message. */
const ruleOf = (message) => /smsPumping\.([A-Za-z]+(?:\[\d+\])?)/.exec(message ?? '')?.[1] ?? null;

async function replay() {
  const { default: createConnector } = await import('../lib/index.js');
  const connector = await createConnector({ getConfig: async () => job.config });
  const trace = JSON.parse(readFileSync(job.trace, 'utf8'));
  const outcomes = Array.from({ length: trace.length });
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < trace.length) {
      const i = next;
      next += 1;
      const { to, ip, code } = trace[i];
      const t0 = performance.now();
      try {
        await connector.sendMessage({ to, type: 'SignIn', payload: { code }, ip });
        outcomes[i] = ['sent', null, performance.now() - t0];
      } catch (error) {
        const message = error?.data?.message ?? error?.message;
        const rule = ruleOf(message);
        // A failure that is no refusal keeps its message, for the report.
        outcomes[i] = [error?.code ?? 'unknown', rule, performance.now() - t0, ...(rule ? [] : [String(message).slice(0, 300)])];
      }
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  return { seconds: (performance.now() - started) / 1000, outcomes };
}

async function latency() {
  const { TwilioSmsConnector } = await import('../index.js');
  const connectors = Object.fromEntries(
    Object.entries(job.configs).map(([name, { config, redis }]) => [
      name,
      new TwilioSmsConnector(config, { baseUrl: job.baseUrl, ...(redis ? { redisUrl: job.redisUrl } : {}) }),
    ])
  );
  const times = Object.fromEntries(Object.keys(connectors).map((name) => [name, []]));
  const send = async (name, to, i) => {
    const t0 = performance.now();
    await connectors[name].sendMessage(to, 'SignIn', { code: String(100000 + i) }, { ip: `198.51.100.${i % 250}` });
    return performance.now() - t0;
  };
  // Not measured: each connector's first send (pool, Redis connection, config cache), and for a
  // `prewarm` config one send to each of its numbers, so that Lookup's answers are cached.
  for (const [name, spec] of Object.entries(job.configs)) {
    const numbers = job.numbers[spec.numbers];
    for (const to of spec.prewarm ? numbers : numbers.slice(0, 1)) await send(name, to, 0);
  }
  // A config without `prewarm` walks its numbers once (each send a number it never sent to).
  const cursor = Object.fromEntries(Object.keys(connectors).map((name) => [name, 1]));
  for (let round = 0; round < job.rounds; round += 1) {
    for (const [name, spec] of Object.entries(job.configs)) {
      const numbers = job.numbers[spec.numbers];
      for (let i = 0; i < job.perRound; i += 1) {
        times[name].push(await send(name, numbers[cursor[name] % numbers.length], i));
        cursor[name] += 1;
      }
    }
  }
  return { times };
}

const result = job.mode === 'replay' ? await replay() : await latency();
// The result goes to a file beside the job: a large write to a pipe may not be flushed by exit.
writeFileSync(`${process.argv[2]}.out`, JSON.stringify(result));
process.exit(0);
