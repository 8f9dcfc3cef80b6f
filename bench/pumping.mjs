// `npm run bench -- --pumping [--quick]`: an SMS pumping simulation against `smsPumping`.
//
// Four replica processes (bench/pumping-replica.mjs, each the Logto module lib/index.js as
// Logto loads it) share one real Redis (support/redis-server.js) and send to one Twilio
// stand-in (support/twilio-server.js over HTTP on 127.0.0.1, Messages and Lookup v2). The
// traffic is one simulated hour, the operator's busiest, replayed as fast as the replicas go:
// every limit of the config counts in one fixed window (the run waits rather than straddle the
// end of an hour), so the order of the sends matters, not their real-time pace.
//
// - Legitimate users: many addresses (own IPv4, own IPv6 /64, some behind a mobile carrier's
//   NAT pool), random valid numbers (checked with the connector's own `preview`) in five main
//   markets and a long tail of countries, some retrying the same number.
// - An attack: sequential numbers in three ranges, each from its own rotating address pool and
//   at its own rate (a fast burst, a steady walk, a slow one), two in high-cost countries, one in
//   a main market.
// - Lookup: attack numbers mostly score high (70–100), some low (0–50); legitimate numbers 0–30.
//
// Each layer is measured alone with the suggested starting values of docs/sms-pumping.md, then
// all combined (on Redis with the default and a longer wait, and with per-process counters),
// each scenario on a fresh account (its own Redis keys) and fresh replicas (their own Lookup
// cache), sends dealt round-robin to the replicas as a load balancer would; all of that for
// three seeds (other numbers, addresses, scores, order). A count layer alone is also checked
// against exact counting (how many sends it lets through when no send goes uncounted). Then one
// process measures, one send at a time, what each layer adds to a send that passes. A full run
// writes bench/pumping/RESULTS.md and results.json; --quick (a fifth of the traffic, one seed)
// writes under bench/out/quick/pumping/.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { startRedis } from '../support/redis-server.js';
import { startTwilioServer } from '../support/twilio-server.js';
import { percentile, sortedCopy } from './stats.mjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const quick = process.argv.includes('--quick');
const command = `npm run bench -- --pumping${quick ? ' --quick' : ''}`;
const startedAt = Date.now();
const log = (line) => console.error(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)} s] ${line}`);

const REPLICAS = 4;
// In flight per replica: Logto serves many sign-ins at once.
const CONCURRENCY = 8;
const SCALE = quick ? 0.2 : 1;
const SEED = 20261206;
const HOUR = 3600;

// Always `npm run build` (release): cargo rebuilds nothing when the release build is current,
// and a debug build left in the root by `npm run build:debug` (same file name) is replaced.
execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
const { TwilioSmsConnector, countryCodes } = await import('../index.js');

// --- a seeded random source, so every run replays the same traffic ---------------------------

let state = SEED >>> 0;
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const int = (n) => Math.floor(random() * n);
const pick = (list) => list[int(list.length)];
const digits = (n) => Array.from({ length: n }, () => int(10)).join('');
const uniform = (lo, hi) => lo + int(hi - lo + 1);

// --- the operator: a global app, its busiest hour ---------------------------------------------

const BASE_CONFIG = {
  accountSID: 'AC00000000000000000000000000000000',
  authToken: 'bench-auth-token-0000000000000000',
  fromMessagingServiceSID: 'MG00000000000000000000000000000000',
  templates: ['Register', 'SignIn', 'ForgotPassword', 'Generic'].map((usageType) => ({ usageType, content: `Your code is {{code}}` })),
};
const checker = new TwilioSmsConnector(BASE_CONFIG);
const countryOf = (number) => checker.preview('SignIn', { code: '123456' }, undefined, number).recipient?.country;

const US_AREAS = ['212', '213', '305', '312', '404', '415', '512', '617', '646', '702', '713', '206', '303', '602', '919'];
const exchange = () => {
  for (;;) {
    const value = `${uniform(2, 9)}${digits(2)}`;
    if (value[1] !== '1' && value !== '555') return value;
  }
};
/** Per country: a random mobile number's digits (the connector's preview keeps the valid ones). */
const GENERATORS = {
  US: () => `1${pick(US_AREAS)}${exchange()}${digits(4)}`,
  GB: () => `447${pick(['4', '5', '7', '8', '9'])}${digits(8)}`,
  DE: () => `49${pick(['151', '152', '157', '160', '162', '170', '171', '172', '175', '176', '177', '179'])}${digits(pick([7, 8]))}`,
  FR: () => `33${pick(['6', '7'])}${digits(8)}`,
  IN: () => `91${pick(['98', '99', '97', '96', '94', '93', '90', '70', '80', '81', '88', '89'])}${digits(8)}`,
  ES: () => `346${digits(8)}`,
  IT: () => `393${digits(9)}`,
  NL: () => `316${digits(8)}`,
  PL: () => `48${pick(['50', '51', '53', '60', '66', '69', '72', '73', '78', '79', '88'])}${digits(7)}`,
  SE: () => `467${pick(['0', '2', '3', '6'])}${digits(7)}`,
  BR: () => `55119${digits(8)}`,
  MX: () => `5255${digits(8)}`,
  CA: () => `1${pick(['416', '604', '514', '403', '613'])}${exchange()}${digits(4)}`,
  AU: () => `614${digits(8)}`,
  JP: () => `81${pick(['70', '80', '90'])}${digits(8)}`,
  ZA: () => `27${pick(['72', '82', '83', '71', '76', '79', '60'])}${digits(7)}`,
  NG: () => `234${pick(['803', '806', '813', '703', '706', '805', '807', '815', '810', '816'])}${digits(7)}`,
  PH: () => `639${pick(['17', '18', '27', '05', '15', '26'])}${digits(7)}`,
  TR: () => `905${pick(['30', '32', '33', '42', '43', '52', '53', '55'])}${digits(7)}`,
  AR: () => `54911${digits(8)}`,
};
// Legitimate sends in the busiest hour, before retries (full run).
const MAIN_MARKETS = { US: 1000, GB: 400, DE: 300, FR: 300, IN: 600 };
const TAIL_SENDS = 400;
// Share of users asking again for a code to the same number, from the same address.
const RETRY_ONCE = 0.1;
const RETRY_TWICE = 0.02;
// Address kinds of legitimate users: their own IPv4, their own IPv6 /64, or a mobile carrier's
// NAT pool (64 public IPv4 addresses per main market, shared by that market's NATed users).
const ADDRESS_MIX = { ownV4: 0.75, ownV6: 0.1, carrierNat: 0.15 };
const NAT_POOL = 64;
// The operator's busiest day is taken as 10 busiest hours' worth (the rest of the day is quieter).
const DAY_PER_BUSIEST_HOUR = 10;

/** The attack: sequential numbers from `first`, `sends` of them in the hour, within `minutes`. */
const ATTACK_RANGES = [
  { name: 'A', country: 'UZ', first: '998901230000', sends: 3000, minutes: [10, 20], pool: 'v4-200', rate: 'fast burst: 3,000 in 10 min' },
  { name: 'B', country: 'KG', first: '996555120000', sends: 1500, minutes: [0, 60], pool: 'v6-56', rate: 'steady: 1,500 over the hour' },
  { name: 'C', country: 'GB', first: '447451230000', sends: 500, minutes: [0, 60], pool: 'v4-24', rate: 'slow: 500 over the hour' },
];
const POOLS = {
  'v4-200': '200 residential-proxy IPv4 addresses, each in its own /24, one at random per send',
  'v6-56': 'one IPv6 /56, a random address (in one of its 256 /64s) per send',
  'v4-24': '30 IPv4 addresses of one hosting /24, one at random per send',
};
// Lookup's answers: attack numbers score 70–100, except this share scoring 0–50.
const ATTACK_LOW_SCORE = 0.15;
const LEGIT_MAX_SCORE = 30;

const publicV4 = () => {
  for (;;) {
    const a = uniform(1, 223);
    if (![10, 100, 127, 169, 172, 192, 198, 203].includes(a)) return `${a}.${int(256)}.${int(256)}.${uniform(1, 254)}`;
  }
};
const hex4 = () => int(0x10000).toString(16);
const v6 = (prefix) => `${prefix}:${hex4()}:${hex4()}:${hex4()}:${hex4()}`;

function legitNumber(country) {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const number = `+${GENERATORS[country]()}`;
    if (countryOf(number) === country) return number;
  }
  throw new Error(`bench --pumping: no valid ${country} number in 200 tries; fix its generator`);
}

function buildTraffic() {
  const events = [];
  const natPools = Object.fromEntries(Object.keys(MAIN_MARKETS).map((c) => [c, Array.from({ length: NAT_POOL }, publicV4)]));
  const tail = Object.keys(GENERATORS).filter((c) => !(c in MAIN_MARKETS));
  const legitPlan = Object.entries(MAIN_MARKETS).map(([country, n]) => [country, Math.round(n * SCALE)]);
  const tailCount = Math.round(TAIL_SENDS * SCALE);
  for (let i = 0; i < tailCount; i += 1) legitPlan.push([tail[i % tail.length], 1]);
  for (const [country, users] of legitPlan) {
    for (let u = 0; u < users; u += 1) {
      const to = legitNumber(country);
      const roll = random();
      const ip =
        roll < ADDRESS_MIX.ownV4
          ? publicV4()
          : roll < ADDRESS_MIX.ownV4 + ADDRESS_MIX.ownV6 || !natPools[country]
            ? v6(`2a02:${hex4()}:${hex4()}:${hex4()}`)
            : pick(natPools[country]);
      const t = random() * HOUR;
      const retry = random();
      const tries = retry < RETRY_TWICE ? 3 : retry < RETRY_TWICE + RETRY_ONCE ? 2 : 1;
      for (let k = 0; k < tries; k += 1) events.push({ kind: 'legit', group: country, to, ip, t: Math.min(HOUR - 1, t + k * uniform(30, 120)) });
    }
  }
  const pools = {
    'v4-200': Array.from({ length: 200 }, publicV4),
    'v6-56': { prefix: `2001:db8:${hex4()}:${int(256).toString(16).padStart(2, '0')}` },
    'v4-24': (() => {
      const net = publicV4().split('.').slice(0, 3).join('.');
      return Array.from({ length: 30 }, (_, i) => `${net}.${10 + i}`);
    })(),
  };
  const poolIp = (pool) =>
    pool === 'v6-56' ? `${pools[pool].prefix}${int(256).toString(16).padStart(2, '0')}:${hex4()}:${hex4()}:${hex4()}:${hex4()}` : pick(pools[pool]);
  for (const range of ATTACK_RANGES) {
    const sends = Math.round(range.sends * SCALE);
    const first = BigInt(range.first);
    const [from, to] = range.minutes;
    for (let i = 0; i < sends; i += 1) {
      const number = `+${first + BigInt(i)}`;
      const t = (from + ((to - from) * (i + random())) / sends) * 60;
      events.push({ kind: 'attack', group: range.name, to: number, ip: poolIp(range.pool), t });
    }
  }
  events.sort((a, b) => a.t - b.t);
  return events;
}

// --- the stand-ins ---------------------------------------------------------------------------

const countBy = (list, key) => list.reduce((acc, item) => ((acc[key(item)] = (acc[key(item)] ?? 0) + 1), acc), {});
const redis = await startRedis();
const twilio = await startTwilioServer();

/** One seed's traffic, its attack numbers checked, and Lookup's answers for every number. */
function prepareTraffic(seed) {
  state = seed >>> 0;
  const traffic = buildTraffic();
  for (const range of ATTACK_RANGES) {
    const wrong = traffic.filter((e) => e.group === range.name && countryOf(e.to) !== range.country);
    if (wrong.length)
      throw new Error(`bench --pumping: range ${range.name}: ${wrong.length} numbers are not valid ${range.country} numbers (e.g. ${wrong[0].to})`);
  }
  twilio.pumpingRisk.clear();
  for (const e of traffic) {
    if (twilio.pumpingRisk.has(e.to)) continue;
    const score = e.kind === 'legit' ? uniform(0, LEGIT_MAX_SCORE) : random() < ATTACK_LOW_SCORE ? uniform(0, 50) : uniform(70, 100);
    twilio.pumpingRisk.set(e.to, { sms_pumping_risk_score: score, carrier_risk_category: score > 60 ? 'high' : 'low' });
  }
  log(
    `seed ${seed}: ${traffic.length} sends (${traffic.filter((e) => e.kind === 'legit').length} legitimate, ${traffic.filter((e) => e.kind === 'attack').length} attack)`
  );
  return traffic;
}
let events = prepareTraffic(SEED);
const legitPerCountry = countBy(
  events.filter((e) => e.kind === 'legit'),
  (e) => e.group
);

// --- the suggested starting values (docs/sms-pumping.md), applied to this operator -----------

// Country limit: 200 per hour, main markets a little above their busiest hour (1.5×, to 50s).
const roundUp = (n, step) => Math.ceil(n / step) * step;
const fullScaleHour = (country) => Math.round(MAIN_MARKETS[country] * (1 + RETRY_ONCE + 2 * RETRY_TWICE));
const suggested = {
  ip: { by: 'ip', max: 10, windowSeconds: 3600, ipv4Prefix: 32, ipv6Prefix: 64 },
  numberRange: { by: 'numberRange', max: 10, windowSeconds: 3600, hiddenDigits: 3 },
  country: {
    by: 'country',
    max: 200,
    windowSeconds: 3600,
    perCountry: Object.fromEntries(Object.keys(MAIN_MARKETS).map((c) => [c, roundUp(1.5 * fullScaleHour(c) * SCALE, 50)])),
  },
  // About 3× the busiest day in total; `*` 100; main markets 3× their own busiest day.
  dailySegments: {
    total: roundUp(3 * DAY_PER_BUSIEST_HOUR * (Object.keys(MAIN_MARKETS).reduce((s, c) => s + fullScaleHour(c), 0) + TAIL_SENDS) * SCALE, 1000),
    perCountry: {
      '*': 100,
      ...Object.fromEntries(Object.keys(MAIN_MARKETS).map((c) => [c, roundUp(3 * DAY_PER_BUSIEST_HOUR * fullScaleHour(c) * SCALE, 100)])),
    },
  },
  // Every country the operator serves outside the US and Canada: a global app serves them all.
  riskScore: { countries: countryCodes().filter((c) => c !== 'US' && c !== 'CA'), maxScore: 60 },
};
const combined = { limits: [suggested.ip, suggested.numberRange, suggested.country], dailySegments: suggested.dailySegments, riskScore: suggested.riskScore };
const SCENARIOS = [
  { key: 'none', label: 'no smsPumping', smsPumping: undefined, redis: false },
  { key: 'ip', label: 'limits by ip', smsPumping: { limits: [suggested.ip] }, redis: true },
  { key: 'numberRange', label: 'limits by numberRange', smsPumping: { limits: [suggested.numberRange] }, redis: true },
  { key: 'country', label: 'limits by country', smsPumping: { limits: [suggested.country] }, redis: true },
  { key: 'dailySegments', label: 'dailySegments', smsPumping: { dailySegments: suggested.dailySegments }, redis: true },
  { key: 'riskScore', label: 'riskScore', smsPumping: { riskScore: suggested.riskScore }, redis: true },
  { key: 'combined', label: 'all combined, on Redis', smsPumping: combined, redis: true },
  // The same with a longer wait for Redis than the default 25 ms: fewer sends uncounted on a busy host?
  { key: 'combinedRedis100', label: 'all combined, on Redis, redisTimeoutMs 100', smsPumping: combined, redis: true, redisTimeoutMs: 100 },
  { key: 'combinedInProcess', label: 'all combined, counters per process', smsPumping: combined, redis: false },
];

// --- running a scenario through four replicas ------------------------------------------------

const work = mkdtempSync(join(os.tmpdir(), 'bench-pumping-'));
const CHILD_TIMEOUT_MS = 240_000;

// A replica's stderr (one JSON line per refusal) goes to a file, not a pipe: the connector
// writes those lines straight to fd 2, and on a pipe Node has made non-blocking a full pipe
// turns the refusal into a `general` failure (see docs/sms-pumping.md, "Measured").
let replicaCount = 0;
function spawnReplica(job, env) {
  replicaCount += 1;
  const stderrPath = join(work, `replica-${replicaCount}.stderr`);
  const stderrFd = openSync(stderrPath, 'w');
  // The job goes by file: a latency job's numbers are more than one argument may hold (128 KiB).
  const jobPath = join(work, `replica-${replicaCount}.job.json`);
  writeFileSync(jobPath, JSON.stringify(job));
  const child = spawn(process.execPath, [join(root, 'bench', 'pumping-replica.mjs'), jobPath], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', stderrFd],
  });
  closeSync(stderrFd);
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
  const done = new Promise((resolve, reject) =>
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      // Refusal lines counted by event; anything that is not such a line kept as it is.
      const stderrEvents = {};
      const storeEvents = [];
      let stderrOther = '';
      for (const line of readFileSync(stderrPath, 'utf8').split('\n')) {
        try {
          const parsed = JSON.parse(line);
          const event = parsed.event ?? 'other';
          stderrEvents[event] = (stderrEvents[event] ?? 0) + 1;
          if (event !== 'sms_pumping_refused') storeEvents.push(parsed);
        } catch {
          if (line.trim()) stderrOther += `${line}\n`;
        }
      }
      if (code !== 0 || !existsSync(`${jobPath}.out`)) return reject(new Error(`replica failed (${signal ?? code}):\n${stderrOther.slice(-2000)}`));
      resolve({ ...JSON.parse(readFileSync(`${jobPath}.out`, 'utf8')), stderrEvents, storeEvents, stderrOther });
    })
  );
  return { child, ready: () => stdout.includes('ready\n'), done };
}

/** Waits for the next hour when this one has less than `seconds` left: windows are hours. */
async function clearOfWindowEnd(seconds) {
  const left = HOUR - ((Date.now() / 1000) % HOUR);
  if (left < seconds) {
    log(`waiting ${left.toFixed(0)} s for the next hour, so no scenario straddles two windows`);
    await new Promise((resolve) => setTimeout(resolve, (left + 1) * 1000));
  }
}

/**
 * How many of `events` a config with this one layer lets through when every count is exact
 * (one store that never misses a send): per subject, the first `max` sends. Null for layers
 * that are not counts (riskScore) or for more than one layer.
 */
function exactPasses(smsPumping) {
  const limits = smsPumping?.limits ?? [];
  const layers = limits.length + (smsPumping?.dailySegments ? 1 : 0) + (smsPumping?.riskScore ? 1 : 0);
  if (layers !== 1 || smsPumping.riskScore) return null;
  const countryOfEvent = (e) => (e.kind === 'legit' ? e.group : ATTACK_RANGES.find((r) => r.name === e.group).country);
  let subject;
  let allowed;
  if (smsPumping.dailySegments) {
    // One segment per message; the total is far above this hour's sends.
    const { perCountry } = smsPumping.dailySegments;
    subject = countryOfEvent;
    allowed = (e) => perCountry[countryOfEvent(e)] ?? perCountry['*'];
  } else {
    const [limit] = limits;
    subject =
      limit.by === 'ip'
        ? (e) => (e.ip.includes(':') ? e.ip.split(':').slice(0, 4).join(':') : e.ip)
        : limit.by === 'numberRange'
          ? (e) => e.to.slice(0, -limit.hiddenDigits)
          : countryOfEvent;
    allowed = (e) => (limit.by === 'country' ? (limit.perCountry?.[countryOfEvent(e)] ?? limit.max) : limit.max);
  }
  const counts = new Map();
  let passes = 0;
  for (const e of events) {
    const key = subject(e);
    const n = counts.get(key) ?? 0;
    if (n < allowed(e)) {
      counts.set(key, n + 1);
      passes += 1;
    }
  }
  return passes;
}

const PUMPING_CODES = new Set(['rate_limit_exceeded', 'usage_limit_exceeded', 'invalid_request_parameters']);

async function runScenario(scenario) {
  await redis.command(['FLUSHALL']);
  twilio.requests.length = 0;
  await clearOfWindowEnd(quick ? 20 : 60);
  const hourAtStart = Math.floor(Date.now() / 1000 / HOUR);
  const config = { ...BASE_CONFIG, accountSID: `AC${randomBytes(16).toString('hex')}`, ...(scenario.smsPumping ? { smsPumping: scenario.smsPumping } : {}) };
  const shares = Array.from({ length: REPLICAS }, () => []);
  events.forEach((e, i) => shares[i % REPLICAS].push({ to: e.to, ip: e.ip, code: String(100000 + (i % 900000)) }));
  const env = {
    TWILIO_SMS_NATIVE_BASE_URL: twilio.url,
    TWILIO_SMS_NATIVE_REDIS_URL: scenario.redis ? redis.url : '',
    TWILIO_SMS_NATIVE_REDIS_TIMEOUT_MS: scenario.redisTimeoutMs ? String(scenario.redisTimeoutMs) : '',
  };
  const replicas = shares.map((share, r) => {
    const trace = join(work, `${scenario.key}-${r}.json`);
    writeFileSync(trace, JSON.stringify(share));
    return spawnReplica({ mode: 'replay', config, trace, concurrency: CONCURRENCY }, env);
  });
  while (!replicas.every((replica) => replica.ready())) await new Promise((resolve) => setTimeout(resolve, 20));
  for (const { child } of replicas) child.stdin.write('go\n');
  const results = await Promise.all(replicas.map((replica) => replica.done));
  const crossedWindow = Math.floor(Date.now() / 1000 / HOUR) !== hourAtStart;

  // Back to the global order: send i went to replica i % REPLICAS, as its (i / REPLICAS)th.
  const outcomes = events.map((e, i) => {
    const [outcome, rule, ms, message] = results[i % REPLICAS].outcomes[Math.floor(i / REPLICAS)];
    return { kind: e.kind, group: e.group, outcome, rule, ms, message };
  });
  const messages = twilio.requests.filter((r) => r.method === 'POST').length;
  const lookups = twilio.requests.filter((r) => r.method === 'GET' && r.url.startsWith('/v2/PhoneNumbers/')).length;
  twilio.requests.length = 0;
  const stderrEvents = {};
  for (const result of results) for (const [event, n] of Object.entries(result.stderrEvents)) stderrEvents[event] = (stderrEvents[event] ?? 0) + n;
  return summarizeScenario(scenario, outcomes, {
    exactPasses: exactPasses(scenario.smsPumping),
    messages,
    lookups,
    crossedWindow,
    seconds: Math.max(...results.map((r) => r.seconds)),
    stderrEvents,
    storeEvents: results.flatMap((r, replica) => r.storeEvents.map((e) => ({ replica, ...e }))),
    stderrOther: results.map((r) => r.stderrOther).join(''),
  });
}

const groupBy = (list, key) => list.reduce((acc, item) => ((acc[key(item)] ??= []).push(item), acc), {});
const pct = (part, whole) => (whole === 0 ? NaN : (100 * part) / whole);
const latencyOf = (list) => {
  const sorted = sortedCopy(list.map((o) => o.ms));
  return { n: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
};

function summarizeScenario(scenario, outcomes, extra) {
  // `limits[1]` names its layer: `limits[1] (numberRange)`.
  const limits = scenario.smsPumping?.limits ?? [];
  for (const o of outcomes) {
    const at = /^limits\[(\d+)\]$/.exec(o.rule ?? '');
    if (at && limits[at[1]]) o.rule = `${o.rule} (${limits[at[1]].by})`;
  }
  const legit = outcomes.filter((o) => o.kind === 'legit');
  const attack = outcomes.filter((o) => o.kind === 'attack');
  const blockedBy = (list) =>
    countBy(
      list.filter((o) => PUMPING_CODES.has(o.outcome)),
      (o) => o.rule ?? o.outcome
    );
  const failed = (list) =>
    countBy(
      list.filter((o) => o.outcome !== 'sent' && !PUMPING_CODES.has(o.outcome)),
      (o) => o.outcome
    );
  const perGroup = (list) =>
    Object.fromEntries(
      Object.entries(groupBy(list, (o) => o.group)).map(([group, items]) => [
        group,
        { sends: items.length, sent: items.filter((o) => o.outcome === 'sent').length, blocked: items.filter((o) => PUMPING_CODES.has(o.outcome)).length },
      ])
    );
  const legitSent = legit.filter((o) => o.outcome === 'sent').length;
  const attackBlocked = attack.filter((o) => PUMPING_CODES.has(o.outcome)).length;
  return {
    key: scenario.key,
    label: scenario.label,
    redis: scenario.redis,
    smsPumping: scenario.smsPumping ?? null,
    legit: {
      sends: legit.length,
      delivered: legitSent,
      deliveredPct: pct(legitSent, legit.length),
      refusedBy: blockedBy(legit),
      failed: failed(legit),
      perCountry: perGroup(legit),
    },
    attack: {
      sends: attack.length,
      blocked: attackBlocked,
      blockedPct: pct(attackBlocked, attack.length),
      reachedTwilio: attack.filter((o) => o.outcome === 'sent').length,
      refusedBy: blockedBy(attack),
      failed: failed(attack),
      perRange: perGroup(attack),
    },
    failureMessages: countBy(
      outcomes.filter((o) => o.message),
      (o) => `${o.outcome}: ${o.message}`
    ),
    latencyUnderLoad: { sent: latencyOf(outcomes.filter((o) => o.outcome === 'sent')), refused: latencyOf(outcomes.filter((o) => o.outcome !== 'sent')) },
    ...extra,
  };
}

// --- added latency per send, one send at a time in one process -------------------------------

async function runLatency() {
  await redis.command(['FLUSHALL']);
  const plan = quick ? { rounds: 2, perRound: 100, cached: 100 } : { rounds: 10, perRound: 500, cached: 500 };
  // Limits that never refuse: what a passing (legitimate) send pays for each layer.
  const open = {
    limits: [
      { ...suggested.ip, max: 1e9 },
      { ...suggested.numberRange, max: 1e9 },
      { ...suggested.country, max: 1e9, perCountry: {} },
    ],
    dailySegments: { total: 1e9, perCountry: { '*': 1e9 } },
  };
  const risk = { riskScore: suggested.riskScore };
  const account = () => ({ ...BASE_CONFIG, accountSID: `AC${randomBytes(16).toString('hex')}` });
  const configs = {
    none: { config: account(), redis: false, numbers: 'fresh' },
    countersInProcess: { config: { ...account(), smsPumping: open }, redis: false, numbers: 'fresh' },
    countersOnRedis: { config: { ...account(), smsPumping: open }, redis: true, numbers: 'fresh' },
    lookupUncached: { config: { ...account(), smsPumping: risk }, redis: false, numbers: 'fresh' },
    lookupCached: { config: { ...account(), smsPumping: risk }, redis: false, numbers: 'cached', prewarm: true },
    allOnRedisLookupCached: { config: { ...account(), smsPumping: { ...open, ...risk } }, redis: true, numbers: 'cachedAll', prewarm: true },
  };
  const fresh = Array.from({ length: plan.rounds * plan.perRound + 2 }, () => legitNumber('GB'));
  const numbers = {
    fresh,
    cached: Array.from({ length: plan.cached }, () => legitNumber('GB')),
    cachedAll: Array.from({ length: plan.cached }, () => legitNumber('GB')),
  };
  const job = { mode: 'latency', configs, numbers, rounds: plan.rounds, perRound: plan.perRound, redisUrl: redis.url, baseUrl: twilio.url };
  const replica = spawnReplica(job, {});
  const { times, stderrOther } = await replica.done;
  if (stderrOther.trim()) log(`latency replica said:\n${stderrOther}`);
  const lookups = twilio.requests.filter((r) => r.method === 'GET').length;
  twilio.requests.length = 0;
  const stats = Object.fromEntries(
    Object.entries(times).map(([name, list]) => {
      const sorted = sortedCopy(list);
      return [name, { n: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) }];
    })
  );
  for (const s of Object.values(stats)) {
    s.addedP50 = s.p50 - stats.none.p50;
    s.addedP99 = s.p99 - stats.none.p99;
  }
  return { plan, stats, lookups };
}

// --- the run ---------------------------------------------------------------------------------

// Each seed is other traffic of the same model (other numbers, addresses, scores, order).
const SEEDS = quick ? [SEED] : [SEED, SEED + 1, SEED + 2];
const runs = [];
let latency;
try {
  for (const seed of SEEDS) {
    if (seed !== SEED) events = prepareTraffic(seed);
    const scenarios = [];
    for (const scenario of SCENARIOS) {
      const result = await runScenario(scenario);
      scenarios.push(result);
      log(
        `seed ${seed} ${scenario.key}: attack blocked ${result.attack.blockedPct.toFixed(2)} % (${result.attack.blocked}/${result.attack.sends}), legitimate delivered ${result.legit.deliveredPct.toFixed(2)} % (${result.legit.delivered}/${result.legit.sends}), ${result.lookups} lookups, ${result.seconds.toFixed(1)} s${result.crossedWindow ? ', CROSSED A WINDOW' : ''}`
      );
      if (result.stderrOther.trim()) log(`${scenario.key}: replicas said:\n${result.stderrOther.slice(0, 2000)}`);
    }
    runs.push({ seed, scenarios });
  }
  latency = await runLatency();
  log(
    `latency: ${Object.entries(latency.stats)
      .map(([k, s]) => `${k} p50 ${s.p50.toFixed(3)} p99 ${s.p99.toFixed(3)}`)
      .join('; ')}`
  );
} finally {
  await twilio.close();
  await redis.close();
  rmSync(work, { recursive: true, force: true });
}

// --- the report ------------------------------------------------------------------------------

const TARGET = { attackBlockedPct: 95, legitDeliveredPct: 99.9 };
const wallSeconds = (Date.now() - startedAt) / 1000;
const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.availableParallelism?.() ?? os.cpus().length,
  node: process.version,
  redis: (() => {
    try {
      return execFileSync('/usr/bin/redis-server', ['--version'], { encoding: 'utf8' }).trim().split(' ')[2];
    } catch {
      return undefined;
    }
  })(),
  loadAverageAtEnd: os.loadavg().map((n) => +n.toFixed(2)),
};
const model = {
  scale: SCALE,
  replicas: REPLICAS,
  concurrencyPerReplica: CONCURRENCY,
  mainMarkets: MAIN_MARKETS,
  tailSends: TAIL_SENDS,
  tailCountries: Object.keys(GENERATORS).filter((c) => !(c in MAIN_MARKETS)),
  retries: { once: RETRY_ONCE, twice: RETRY_TWICE },
  addressMix: ADDRESS_MIX,
  natPoolPerMainMarket: NAT_POOL,
  legitScores: `0–${LEGIT_MAX_SCORE}`,
  attack: ATTACK_RANGES.map((r) => ({
    ...r,
    sends: Math.round(r.sends * SCALE),
    last: `${BigInt(r.first) + BigInt(Math.round(r.sends * SCALE) - 1)}`,
    poolDescription: POOLS[r.pool],
  })),
  attackScores: `70–100, except ${ATTACK_LOW_SCORE * 100} % at 0–50`,
  legitPerCountry,
};
const meta = { date: new Date().toISOString(), command, quick, wallSeconds, machine, target: TARGET };
const outDir = join(root, 'bench', ...(quick ? ['out', 'quick'] : []), 'pumping');
mkdirSync(outDir, { recursive: true });
const markdown = renderMarkdown(meta, model, suggested, runs, latency);
writeFileSync(join(outDir, 'results.json'), `${JSON.stringify({ meta, model, suggested, runs, latency }, null, 2)}\n`);
writeFileSync(join(outDir, 'RESULTS.md'), markdown);
console.log(markdown);
log(`wrote ${join(outDir, 'RESULTS.md')} and results.json`);

function renderMarkdown(meta, model, suggested, runs, latency) {
  const f = (n, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '–');
  const ms = (n) => (Number.isFinite(n) ? `${n >= 0 ? '' : '−'}${Math.abs(n).toFixed(3)} ms` : '–');
  const num = (n) => n.toLocaleString('en-US');
  const rules = (map) =>
    Object.entries(map)
      .sort((a, b) => b[1] - a[1])
      .map(([rule, n]) => `${rule} ${num(n)}`)
      .join(', ') || '–';
  const scenarios = runs[0].scenarios;
  const byKey = Object.fromEntries(scenarios.map((s) => [s.key, s]));
  const combinedResult = byKey.combined;
  const met = (s) => s.attack.blockedPct >= TARGET.attackBlockedPct && s.legit.deliveredPct >= TARGET.legitDeliveredPct;
  const across = (key, pick) => {
    const values = runs.map((run) => pick(run.scenarios.find((s) => s.key === key)));
    const sorted = [...values].sort((a, b) => a - b);
    return { median: sorted[sorted.length >> 1], min: sorted[0], max: sorted.at(-1) };
  };
  const spread = ({ median, min, max }, d = 2) => (runs.length > 1 ? `${f(median, d)} % (${f(min, d)}–${f(max, d)})` : `${f(median, d)} %`);
  const combinedRuns = runs.map((run) => run.scenarios.find((s) => s.key === 'combined'));
  const worstBlocked = Math.min(...combinedRuns.map((s) => s.attack.blockedPct));
  const worstDelivered = Math.min(...combinedRuns.map((s) => s.legit.deliveredPct));
  const lines = [];
  lines.push('# SMS pumping simulation');
  lines.push('');
  lines.push(
    `\`${meta.command}\` on ${meta.date.slice(0, 16).replace('T', ' ')} UTC: ${meta.machine.cores} cores (${meta.machine.cpu}), Node ${meta.machine.node}, redis-server ${meta.machine.redis}, load average ${meta.machine.loadAverageAtEnd.join(' / ')} at the end (the machine is shared); ${f(meta.wallSeconds, 0)} s in all. Method and traffic model: [bench/pumping.mjs](${quick ? '../../../../' : '../../'}bench/pumping.mjs); the defence: [docs/sms-pumping.md](${quick ? '../../../../' : '../../'}docs/sms-pumping.md).`
  );
  lines.push('');
  lines.push(
    `Targets with the suggested values, all layers combined: at least ${TARGET.attackBlockedPct} % of attack sends blocked and at least ${TARGET.legitDeliveredPct} % of legitimate sends delivered. **${combinedRuns.every(met) ? 'Met' : 'Not met'}${runs.length > 1 ? ` in ${combinedRuns.filter(met).length} of ${runs.length} seeds` : ''}**: worst ${f(worstBlocked)} % blocked, worst ${f(worstDelivered)} % delivered (4 replicas on one Redis).`
  );
  lines.push('');
  if (runs.length > 1) {
    lines.push(`## Across ${runs.length} seeds (median, min–max)`);
    lines.push('');
    lines.push(`Seeds ${runs.map((run) => run.seed).join(', ')}: the same model, other numbers, addresses, scores and order.`);
    lines.push('');
    lines.push('| layer (suggested values) | attack blocked | legitimate delivered | store outages (replica-level) |');
    lines.push('|---|---|---|---|');
    for (const s of scenarios) {
      const outages = runs.map((run) => run.scenarios.find((x) => x.key === s.key).stderrEvents.sms_pumping_store_down ?? 0);
      lines.push(
        `| ${s.label} | ${spread(across(s.key, (x) => x.attack.blockedPct))} | ${spread(across(s.key, (x) => x.legit.deliveredPct))} | ${outages.join(', ')} |`
      );
    }
    lines.push('');
  }
  lines.push(`## Each layer alone and combined${runs.length > 1 ? ` (seed ${runs[0].seed})` : ''}`);
  lines.push('');
  lines.push(
    `One simulated busiest hour: ${num(combinedResult.legit.sends)} legitimate sends and ${num(combinedResult.attack.sends)} attack sends, through ${model.replicas} replicas (${model.concurrencyPerReplica} in flight each). Blocked means refused before Twilio's Messages API was called.`
  );
  lines.push('');
  lines.push(
    '| layer (suggested values) | attack blocked | attack sends reaching Twilio | sends passed (with exact counts) | legitimate delivered | legitimate refused (by rule) | Lookup requests | A (UZ, fast) blocked | B (KG, steady) blocked | C (GB, slow) blocked | wall time |'
  );
  lines.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const s of scenarios) {
    const range = (name) => {
      const r = s.attack.perRange[name];
      return r ? `${f(pct(r.blocked, r.sends), 1)} %` : '–';
    };
    lines.push(
      `| ${s.label} | ${f(s.attack.blockedPct)} % | ${num(s.attack.reachedTwilio)} | ${num(s.attack.reachedTwilio + s.legit.delivered)}${s.exactPasses === null ? '' : ` (${num(s.exactPasses)})`} | ${f(s.legit.deliveredPct)} % | ${num(s.legit.sends - s.legit.delivered)}${s.legit.sends - s.legit.delivered ? ` (${rules(s.legit.refusedBy)}${Object.keys(s.legit.failed).length ? `; failed: ${rules(s.legit.failed)}` : ''})` : ''} | ${num(s.lookups)} | ${range('A')} | ${range('B')} | ${range('C')} | ${f(s.seconds, 1)} s${s.crossedWindow ? ' (crossed an hour: counts reset mid-run)' : ''} |`
    );
  }
  lines.push('');
  lines.push(
    'Sends passed with exact counts: what the layer would let through if every send were counted (for a count layer alone: per subject, the first `max` sends of this traffic). More passed than that is sends a replica let through uncounted while its counters were out of reach (`onStoreError` `allow`; see the log events below).'
  );
  lines.push('');
  lines.push('Refusals of attack sends, by the rule that refused them:');
  lines.push('');
  for (const s of scenarios.filter((s) => s.smsPumping))
    lines.push(`- ${s.label}: ${rules(s.attack.refusedBy)}${Object.keys(s.attack.failed).length ? `; failed otherwise: ${rules(s.attack.failed)}` : ''}`);
  lines.push('');
  const legitLoss = scenarios.filter((s) => s.legit.sends !== s.legit.delivered);
  if (legitLoss.length) {
    lines.push('Legitimate sends not delivered, by country:');
    lines.push('');
    for (const s of legitLoss) {
      const lost = Object.entries(s.legit.perCountry)
        .filter(([, g]) => g.sent !== g.sends)
        .map(([c, g]) => `${c} ${num(g.sends - g.sent)} of ${num(g.sends)}`)
        .join(', ');
      lines.push(`- ${s.label}: ${lost}`);
    }
    lines.push('');
  }
  // The budget over a whole busiest day: this hour's legitimate sends per country, times the day.
  const budget = suggested.dailySegments.perCountry;
  const overDay = Object.entries(model.legitPerCountry)
    .map(([country, n]) => [country, n * DAY_PER_BUSIEST_HOUR, budget[country] ?? budget['*']])
    .filter(([, day, allowed]) => day > allowed);
  lines.push(
    `The simulated hour spends little of the daily budget. Over a whole busiest day (this hour's legitimate sends × ${DAY_PER_BUSIEST_HOUR}), ${
      overDay.length
        ? `these countries' legitimate sends would exceed their \`dailySegments\` budget and be refused later that day: ${overDay.map(([c, day, allowed]) => `${c} about ${num(day)} for ${num(allowed)}`).join(', ')}. Every country with real users needs its own \`perCountry\` entry above its busiest day; \`*\` only for countries you expect nothing from.`
        : 'no country would exceed its budget.'
    }`
  );
  lines.push('');
  const failures = scenarios.filter((s) => Object.keys(s.failureMessages).length);
  lines.push(
    failures.length
      ? `Failures that are not refusals (counted as not delivered, and not as blocked): ${failures.map((s) => `${s.label}: ${rules(s.failureMessages)}`).join('; ')}.`
      : 'No send failed otherwise: every send was either delivered or refused by a rule.'
  );
  lines.push('');
  const logMismatch = scenarios.filter(
    (s) =>
      (s.stderrEvents.sms_pumping_refused ?? 0) !==
      s.legit.sends - s.legit.delivered + s.attack.blocked - Object.values(s.legit.failed).reduce((a, b) => a + b, 0)
  );
  lines.push(
    logMismatch.length
      ? `Refusal log lines differing from refusals: ${logMismatch.map((s) => `${s.label} ${s.stderrEvents.sms_pumping_refused ?? 0}`).join(', ')}.`
      : 'Each refusal wrote exactly one `sms_pumping_refused` line (replica stderr to a file).'
  );
  const withOutages = scenarios.filter((s) => s.storeEvents.length);
  if (withOutages.length) {
    lines.push('');
    lines.push(
      'The counters out of reach: each `sms_pumping_store_down` line a replica logged (with `onStoreError` `allow` it sends uncounted until its `sms_pumping_store_up`), by replica and reason:'
    );
    lines.push('');
    for (const s of withOutages) {
      const downs = countBy(
        s.storeEvents.filter((e) => e.event === 'sms_pumping_store_down'),
        (e) => `replica ${e.replica} (${e.reason})`
      );
      lines.push(`- ${s.label}: ${rules(downs)}`);
    }
  }
  lines.push('');
  lines.push('## Added latency per send');
  lines.push('');
  lines.push(
    `One process, one send at a time, each config in turn (${latency.plan.rounds} rounds of ${latency.plan.perRound} sends each), every send passing (limits and budgets too large to refuse: the cost a legitimate user pays). Lookup is the stand-in on 127.0.0.1: real Lookup answers over the Internet, so an uncached Lookup adds that round trip (typically tens to hundreds of ms) instead of the figure here. Added = the config's percentile minus the same percentile without smsPumping; on this shared machine a p99 is mostly scheduling noise (a negative figure is within it).`
  );
  lines.push('');
  lines.push('| config | sends | p50 | p99 | added p50 | added p99 |');
  lines.push('|---|---|---|---|---|---|');
  const names = {
    none: 'no smsPumping (baseline)',
    countersInProcess: 'limits (ip, numberRange, country) + dailySegments, counters in process',
    countersOnRedis: 'the same, counters on Redis (one script per send)',
    lookupUncached: 'riskScore, each number new (one Lookup request per send)',
    lookupCached: 'riskScore, answers cached',
    allOnRedisLookupCached: 'all layers on Redis, Lookup cached',
  };
  for (const [key, s] of Object.entries(latency.stats)) {
    lines.push(
      `| ${names[key] ?? key} | ${num(s.n)} | ${ms(s.p50)} | ${ms(s.p99)} | ${key === 'none' ? '' : ms(s.addedP50)} | ${key === 'none' ? '' : ms(s.addedP99)} |`
    );
  }
  lines.push('');
  lines.push('Latency under load (the scenarios above, 4 replicas × 8 in flight on 2 cores with Redis, the stand-in and the replicas competing for them):');
  lines.push('');
  lines.push('| scenario | sent: p50 | p99 | refused: p50 | p99 |');
  lines.push('|---|---|---|---|---|');
  for (const s of scenarios)
    lines.push(
      `| ${s.label} | ${ms(s.latencyUnderLoad.sent.p50)} | ${ms(s.latencyUnderLoad.sent.p99)} | ${ms(s.latencyUnderLoad.refused.p50)} | ${ms(s.latencyUnderLoad.refused.p99)} |`
    );
  lines.push('');
  lines.push('## Traffic');
  lines.push('');
  lines.push(
    `Legitimate (one hour, the busiest): ${Object.entries(model.mainMarkets)
      .map(([c, n]) => `${c} ${num(Math.round(n * model.scale))}`)
      .join(
        ', '
      )} users, and ${num(Math.round(model.tailSends * model.scale))} users spread over ${model.tailCountries.join(', ')}; random valid mobile numbers (validated by the connector's \`preview\`); ${model.retries.once * 100} % ask once more and ${model.retries.twice * 100} % twice more, 30–120 s apart, from the same address. Addresses: ${model.addressMix.ownV4 * 100} % their own IPv4, ${model.addressMix.ownV6 * 100} % their own IPv6 /64, ${model.addressMix.carrierNat * 100} % behind their carrier's NAT (${model.natPoolPerMainMarket} public IPv4 addresses per main market; tail-country users get their own /64). Lookup scores ${model.legitScores}. Sends per country: ${Object.entries(
      model.legitPerCountry
    )
      .map(([c, n]) => `${c} ${num(n)}`)
      .join(', ')}.`
  );
  lines.push('');
  lines.push('Attack (sequential numbers, Lookup scores ' + model.attackScores + '):');
  lines.push('');
  for (const r of model.attack)
    lines.push(
      `- ${r.name}: ${r.country} +${r.first} to +${r.last} (${num(r.sends)} sends), ${r.rate}${model.scale !== 1 ? ` (scaled ×${model.scale})` : ''}, from ${r.poolDescription}.`
    );
  lines.push('');
  lines.push(
    "Sends are ordered by their simulated time and dealt round-robin to the replicas; each scenario uses a fresh account (its own Redis keys) and fresh replicas (an empty Lookup cache). The whole hour is replayed as fast as the replicas go, inside one fixed window of every hourly limit and one UTC day of the budget: the budget sees this one hour of legitimate traffic (not the day's earlier hours), and the attack's first hour."
  );
  lines.push('');
  lines.push('## The config (suggested starting values for this traffic)');
  lines.push('');
  const shown = {
    ...combinedResult.smsPumping,
    riskScore: {
      ...combinedResult.smsPumping.riskScore,
      countries: [`every code of countryCodes() but US and CA (${combinedResult.smsPumping.riskScore.countries.length})`],
    },
  };
  lines.push('```json');
  lines.push(JSON.stringify(shown, null, 2));
  lines.push('```');
  lines.push('');
  return `${lines.join('\n')}\n`;
}
