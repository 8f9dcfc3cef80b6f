// Turns the raw per-repetition results into figures (median, min, max), ratios ours/JS,
// target checks, and renders RESULTS.md and the ratio chart (plain string-built SVG).
import { mb, summarize } from './stats.mjs';

const sum = (object) => Object.values(object ?? {}).reduce((a, b) => a + b, 0);

// Every figure of the benchmark. `key` names the step in run.mjs, `get` reads one repetition.
// `better` says which direction is good; `target` is our goal for the ratio (or, with
// `absolute`, for ours alone).
const FIGURES = [
  {
    group: 'a. sequential, keep-alive',
    label: 'p50 latency',
    unit: 'ms',
    key: 'sequential',
    get: (r) => r.p50Ms,
    better: 'lower',
    target: { ratioMax: 0.25 },
    chart: 'sequential p50',
  },
  { group: 'a. sequential, keep-alive', label: 'p99 latency', unit: 'ms', key: 'sequential', get: (r) => r.p99Ms, better: 'lower', chart: 'sequential p99' },
  ...[0, 50].flatMap((latency) => {
    const key = `sustained${latency}`;
    const group = `b. sustained, ${latency} ms server latency, 64 in flight`;
    return [
      { group, label: 'sends/s', unit: '/s', key, get: (r) => r.sendsPerSec, better: 'higher', target: { ratioMin: 3 }, chart: `sends/s @${latency} ms` },
      { group, label: 'share of the ceiling (g)', unit: '%', key, share: true, better: 'higher', target: { absoluteMin: 60 } },
      { group, label: 'p50 latency', unit: 'ms', key, get: (r) => r.p50Ms, better: 'lower', chart: `p50 @${latency} ms` },
      { group, label: 'p99 latency', unit: 'ms', key, get: (r) => r.p99Ms, better: 'lower', chart: `p99 @${latency} ms` },
      { group, label: 'CPU time per send (whole process)', unit: 'µs', key, get: (r) => r.cpuUsPerSend, better: 'lower', chart: `CPU/send @${latency} ms` },
      { group, label: 'CPU cores busy (CPU time / wall time)', unit: '', key, get: (r) => r.cpuShare, better: 'lower' },
      { group, label: 'failed sends', unit: '', key, get: (r) => sum(r.failures), better: 'lower' },
    ];
  }),
  ...[0, 50].flatMap((latency) => {
    const key = `sustained${latency}`;
    const group = `c. event-loop delay during b, ${latency} ms server latency`;
    return [
      { group, label: 'p99', unit: 'ms', key, get: (r) => r.eldP99Ms, better: 'lower', target: { ratioMax: 0.25 }, chart: `loop delay p99 @${latency} ms` },
      { group, label: 'max', unit: 'ms', key, get: (r) => r.eldMaxMs, better: 'lower', chart: `loop delay max @${latency} ms` },
      { group, label: 'p99 of the same process idle for 0.5 s (the floor)', unit: 'ms', key, get: (r) => r.eldIdleP99Ms, better: 'lower' },
    ];
  }),
  {
    group: 'd. burst: 1,000 at once, 50 ms, 429 above 100 in flight',
    label: 'codes delivered',
    unit: '',
    key: 'burst',
    get: (r) => r.delivered,
    better: 'higher',
    target: { absoluteMin: 1000 },
  },
  { group: 'd. burst: 1,000 at once, 50 ms, 429 above 100 in flight', label: 'failures', unit: '', key: 'burst', get: (r) => r.failed, better: 'lower' },
  {
    group: 'd. burst: 1,000 at once, 50 ms, 429 above 100 in flight',
    label: 'wall time',
    unit: 'ms',
    key: 'burst',
    get: (r) => r.wallMs,
    better: 'lower',
    chart: 'burst wall time',
  },
  {
    group: 'd. burst: 1,000 at once, 50 ms, 429 above 100 in flight',
    label: 'TLS connections opened',
    unit: '',
    key: 'burst',
    get: (r) => r.server.tlsConnections,
    better: 'lower',
    target: { absoluteMax: 100 },
    chart: 'burst connections',
  },
  {
    group: 'd. burst: 1,000 at once, 50 ms, 429 above 100 in flight',
    label: 'requests the server saw',
    unit: '',
    key: 'burst',
    get: (r) => r.server.requests,
    better: 'lower',
  },
  {
    group: 'd. burst: 1,000 at once, 50 ms, 429 above 100 in flight',
    label: 'answered 429',
    unit: '',
    key: 'burst',
    get: (r) => r.server.rejected,
    better: 'lower',
  },
  {
    group: 'd. burst: 1,000 at once, 50 ms, 429 above 100 in flight',
    label: 'peak requests in flight at the server',
    unit: '',
    key: 'burst',
    get: (r) => r.server.maxInFlight,
    better: 'lower',
  },
  {
    group: 'e. cold start (fresh process)',
    label: 'import + createConnector + first send',
    unit: 'ms',
    key: 'cold',
    get: (r) => r.coldMs,
    better: 'lower',
    target: { ratioMax: 0.5 },
    chart: 'cold start',
  },
  { group: 'e. cold start (fresh process)', label: '… of which import + createConnector', unit: 'ms', key: 'cold', get: (r) => r.loadMs, better: 'lower' },
  {
    group: 'e. cold start (fresh process)',
    label: '… of which first send (TLS handshake included)',
    unit: 'ms',
    key: 'cold',
    get: (r) => r.firstSendMs,
    better: 'lower',
  },
  {
    group: 'e. cold start (fresh process)',
    label: 'RSS after first send',
    unit: 'MB',
    key: 'cold',
    get: (r) => mb(r.rssAfter),
    better: 'lower',
    chart: 'cold RSS',
  },
  {
    group: 'e. cold start (fresh process)',
    label: 'RSS added by import + first send',
    unit: 'MB',
    key: 'cold',
    get: (r) => mb(r.rssAfter - r.rssBefore),
    better: 'lower',
  },
  {
    group: 'f. memory over sequential sends (100,000 in a full run; after gc)',
    label: 'RSS before',
    unit: 'MB',
    key: 'memory',
    get: (r) => mb(r.before.rss),
    better: 'lower',
  },
  {
    group: 'f. memory over sequential sends (100,000 in a full run; after gc)',
    label: 'RSS after',
    unit: 'MB',
    key: 'memory',
    get: (r) => mb(r.after.rss),
    better: 'lower',
    chart: 'RSS after sends',
  },
  {
    group: 'f. memory over sequential sends (100,000 in a full run; after gc)',
    label: 'RSS growth',
    unit: 'MB',
    key: 'memory',
    get: (r) => mb(r.after.rss - r.before.rss),
    better: 'lower',
    target: { absoluteMax: 5 },
  },
  {
    group: 'f. memory over sequential sends (100,000 in a full run; after gc)',
    label: 'peak RSS during the sends',
    unit: 'MB',
    key: 'memory',
    get: (r) => mb(r.peakRss),
    better: 'lower',
  },
  {
    group: 'f. memory over sequential sends (100,000 in a full run; after gc)',
    label: 'heap used before',
    unit: 'MB',
    key: 'memory',
    get: (r) => mb(r.before.heapUsed),
    better: 'lower',
  },
  {
    group: 'f. memory over sequential sends (100,000 in a full run; after gc)',
    label: 'heap used after',
    unit: 'MB',
    key: 'memory',
    get: (r) => mb(r.after.heapUsed),
    better: 'lower',
    chart: 'heap after sends',
  },
  {
    group: 'f. memory over sequential sends (100,000 in a full run; after gc)',
    label: 'heap used growth',
    unit: 'MB',
    key: 'memory',
    get: (r) => mb(r.after.heapUsed - r.before.heapUsed),
    better: 'lower',
  },
  {
    group: 'f. memory over sequential sends (100,000 in a full run; after gc)',
    label: 'V8 heap size (heapTotal) growth',
    unit: 'MB',
    key: 'memory',
    get: (r) => mb(r.after.heapTotal - r.before.heapTotal),
    better: 'lower',
  },
  {
    group: 'f. memory over sequential sends (100,000 in a full run; after gc)',
    label: 'RSS growth beyond V8 heap size growth (native)',
    unit: 'MB',
    key: 'memory',
    get: (r) => mb(r.after.rss - r.before.rss - (r.after.heapTotal - r.before.heapTotal)),
    better: 'lower',
  },
];

/** Per-figure medians (min, max) for both connectors, the ratio, and the target verdict. */
export function summarizeRuns(runs) {
  const figures = FIGURES.map((figure) => {
    const step = runs[figure.key] ?? { ours: [], js: [], ceiling: [] };
    const values = (who) => {
      if (!figure.share) return step[who].map(figure.get);
      // Share of the ceiling measured in the same repetition, in percent.
      const ceilings = runs[figure.key.replace('sustained', 'ceiling')]?.ceiling ?? [];
      return step[who].map((r, i) => (100 * r.sendsPerSec) / (ceilings[i]?.sendsPerSec ?? NaN));
    };
    const ours = summarize(values('ours'));
    const js = summarize(values('js'));
    const ratio = ours.median / js.median;
    return { ...figure, get: undefined, ours, js, ratio, met: verdict(figure.target, ours.median, ratio) };
  });
  const ceilings = Object.fromEntries(
    ['ceiling0', 'ceiling50', 'ceilingSeq'].map((key) => [key, summarize((runs[key]?.ceiling ?? []).map((r) => r.sendsPerSec))])
  );
  const ceilingLatency = Object.fromEntries(
    ['ceiling0', 'ceiling50', 'ceilingSeq'].map((key) => [
      key,
      { p50Ms: summarize((runs[key]?.ceiling ?? []).map((r) => r.p50Ms)), p99Ms: summarize((runs[key]?.ceiling ?? []).map((r) => r.p99Ms)) },
    ])
  );
  return { figures, ceilings, ceilingLatency };
}

function verdict(target, ours, ratio) {
  if (!target) return undefined;
  if ('ratioMax' in target) return ratio <= target.ratioMax;
  if ('ratioMin' in target) return ratio >= target.ratioMin;
  if ('absoluteMax' in target) return ours <= target.absoluteMax;
  return ours >= target.absoluteMin;
}

const targetText = (target) => {
  if (!target) return '';
  if ('ratioMax' in target) return `ratio ≤ ${target.ratioMax}`;
  if ('ratioMin' in target) return `ratio ≥ ${target.ratioMin}`;
  if ('absoluteMax' in target) return `ours ≤ ${target.absoluteMax}`;
  return `ours ≥ ${target.absoluteMin}`;
};

const fmt = (value) => {
  if (!Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
};

const cell = ({ median, min, max, n }, unit) => {
  if (!n) return '–';
  const range = n > 1 && min !== max ? ` (${fmt(min)}–${fmt(max)})` : '';
  return `${fmt(median)}${unit && unit !== '/s' ? ` ${unit}` : ''}${range}`;
};

const ratioText = (ratio) => (Number.isFinite(ratio) ? `${ratio < 0.1 ? ratio.toFixed(3) : ratio.toFixed(2)}×` : '–');

export function renderMarkdown(meta, summary) {
  const { machine } = meta;
  const lines = [
    '# Benchmark: connector-twilio-sms-native vs @logto/connector-twilio-sms 1.4.4',
    '',
    `- Command: \`${meta.command}\` (wall time of the whole run: ${meta.wallSeconds.toFixed(0)} s)`,
    `- Date: ${meta.date}`,
    `- Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; ${machine.os}${machine.distro ? `, ${machine.distro}` : ''}; Node ${machine.node}`,
    `- Repetitions: ${meta.plan.reps} per figure (cold start: ${meta.plan.coldReps}; memory: 1), each in a fresh child process, ours and JS alternating. Cells are the median (min–max).`,
    '- Server: `examples/bench_server.rs` (Rust, tokio + rustls, HTTP/1.1 keep-alive) in its own process; TLS connections are counted on the server after each handshake.',
    '',
    '| figure | ours | JS | ours/JS | target | met |',
    '|---|---|---|---|---|---|',
  ];
  let group;
  for (const f of summary.figures) {
    if (f.group !== group) {
      group = f.group;
      lines.push(`| **${group}** | | | | | |`);
    }
    const ratio = f.share ? '' : ratioText(f.ratio);
    const met = f.met === undefined ? '' : f.met ? '✅ met' : '❌ missed';
    lines.push(`| ${f.label} | ${cell(f.ours, f.unit)} | ${cell(f.js, f.unit)} | ${ratio} | ${targetText(f.target)} | ${met} |`);
  }
  lines.push('| **g. ceiling: minimal Rust keep-alive client (`examples/bench_ceiling.rs`), 64 in flight** | | | | | |');
  for (const [key, label] of [
    ['ceiling0', '0 ms'],
    ['ceiling50', '50 ms'],
  ]) {
    const lat = summary.ceilingLatency[key];
    lines.push(`| sends/s @${label} (p50 ${fmt(lat.p50Ms.median)} ms, p99 ${fmt(lat.p99Ms.median)} ms) | ${cell(summary.ceilings[key], '/s')} | | | | |`);
  }
  const floor = summary.ceilingLatency.ceilingSeq;
  const jsSeq = summary.figures.find((f) => f.key === 'sequential' && f.label === 'p50 latency')?.js.median;
  if (floor?.p50Ms.median) {
    lines.push(
      `| sequential, 1 in flight: p50 latency (the floor for a.; floor/JS = ${ratioText(floor.p50Ms.median / jsSeq)}) | ${cell(floor.p50Ms, 'ms')} | | | | |`,
      `| sequential, 1 in flight: p99 latency | ${cell(floor.p99Ms, 'ms')} | | | | |`
    );
  }
  lines.push(
    '',
    'Notes:',
    '- CPU time is `process.cpuUsage()` of the whole Node process: for ours it includes the Rust I/O thread.',
    '- Both connectors are called as Logto calls them: `sendMessage(data)` with `getConfig` returning a fresh config object each time (Logto reads the connector row from its database on every call).',
    '- Ours caps each Twilio account at 50 requests in flight by default; for b. and c. it runs with `TWILIO_SMS_NATIVE_MAX_CONCURRENCY=64`, so both connectors have the same 64 in flight. The burst (d.) uses the default.',
    '- The sequential floor row is the minimal Rust client (one thread pool, no JS) sending one request at a time to the same server: no connector called from Node can beat it, so floor/JS bounds the best ratio a. can reach on this machine.',
    '- Event-loop delay is `perf_hooks.monitorEventLoopDelay({ resolution: 1 })` during the measured sends, minus the 1 ms resolution (Node records the whole timer interval). The idle row is the same process with nothing to do: on this shared 2-core machine that floor is not zero.',
    "- At 50 ms and 64 in flight no client can exceed 64 / 0.05 s = 1,280 sends/s (Little's law); the ceiling row shows what the server allows.",
    '- Memory: RSS can grow while live JS memory (heap used) does not, when V8 enlarges its heap (heapTotal, mostly the young generation sizing up under a high allocation rate); the last memory row is what remains once that is taken off, i.e. native memory. `results.json` has RSS after every tenth of the sends.',
    "- Burst: a 429 from the server is Twilio's error 20429 JSON; the server answers it after the same 50 ms.",
    ''
  );
  return lines.join('\n');
}

/** Horizontal bars of ours/JS on a log scale around 1×; green where ours is better. */
export function renderSvg(summary, meta) {
  const rows = summary.figures.filter((f) => f.chart && Number.isFinite(f.ratio) && f.ratio > 0);
  const width = 820;
  const labelWidth = 190;
  const rowHeight = 24;
  const top = 58;
  const plotLeft = labelWidth + 20;
  const plotWidth = width - plotLeft - 70;
  const [lo, hi] = [-2, 2]; // 0.01× … 100×
  const x = (ratio) => plotLeft + ((Math.min(hi, Math.max(lo, Math.log10(ratio))) - lo) / (hi - lo)) * plotWidth;
  const height = top + rows.length * rowHeight + 40;
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="600">ours / JS (log scale); green: ours better, red: ours worse</text>`,
    `<text x="${width / 2}" y="38" text-anchor="middle" fill="#555">${esc(`${meta.command} · ${meta.date.slice(0, 10)} · ${meta.machine.cpu}, ${meta.machine.cores} cores · Node ${meta.machine.node}`)}</text>`,
  ];
  for (const tick of [0.01, 0.1, 1, 10, 100]) {
    parts.push(
      `<line x1="${x(tick)}" y1="${top - 6}" x2="${x(tick)}" y2="${height - 34}" stroke="${tick === 1 ? '#333' : '#ddd'}"/>`,
      `<text x="${x(tick)}" y="${height - 20}" text-anchor="middle" fill="#555">${tick}×</text>`
    );
  }
  rows.forEach((f, i) => {
    const y = top + i * rowHeight;
    const good = f.better === 'lower' ? f.ratio <= 1 : f.ratio >= 1;
    const [a, b] = [x(1), x(f.ratio)].sort((p, q) => p - q);
    parts.push(
      `<text x="${labelWidth}" y="${y + 15}" text-anchor="end">${esc(f.chart)}</text>`,
      `<rect x="${a}" y="${y + 4}" width="${Math.max(1, b - a)}" height="${rowHeight - 8}" fill="${good ? '#2e9e5b' : '#d9534f'}"/>`,
      `<text x="${(f.ratio >= 1 ? b : x(1)) + 4}" y="${y + 15}" fill="#222">${esc(ratioText(f.ratio))}</text>`
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
