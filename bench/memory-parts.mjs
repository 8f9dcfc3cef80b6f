// `node bench/memory-parts.mjs` (any runtime: `scripts/node-runtime.sh node22-musl node bench/memory-parts.mjs`):
// On arm64 under qemu-user: `node bench/memory-parts.mjs --node "$(scripts/node-runtime.sh node22-musl-arm64 --path)"`.
// where the resident memory our connector adds goes, step by step, in a bare Node process that
// already has @logto/connector-kit loaded (as Logto core has). After each step it compares
// /proc/self/smaps with the step before and prints every mapping whose resident size changed
// by 16 KiB or more: our .node's pages, the node binary's pages the dynamic linker touched,
// thread stacks, allocator arenas, V8's pages. Sends go to support/twilio-server.js over HTTPS
// (a child process runs the measured part, so the stand-in's own memory is not in it).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { benchConfig } from './config.mjs';

if (process.argv[2] !== '--child') {
  // Imported here only: the measured child loads none of the stand-in's code.
  const { runBesideStandIn } = await import('./stand-in.mjs');
  // --node <node>: measure on another node, e.g. node-runtime.sh's arm64 wrapper (qemu-user;
  // the figures are then qemu's host mappings of the guest's files: its translator reads the
  // code pages the guest runs, so our .node's residency is a fair proxy, the rest is not).
  const nodeAt = process.argv.indexOf('--node');
  const node = nodeAt === -1 ? process.execPath : process.argv[nodeAt + 1];
  process.exit(await runBesideStandIn(node, ['--expose-gc', fileURLToPath(import.meta.url), '--child']));
}

/** Every mapping of this process: key → { perms, name, sizeKiB, rssKiB }. */
function mappings() {
  const out = new Map();
  let current;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      current = {
        perms: header[3],
        name: header[4].split('/').pop() || '[anon]',
        sizeKiB: (parseInt(header[2], 16) - parseInt(header[1], 16)) / 1024,
        rssKiB: 0,
      };
      out.set(`${header[1]} ${header[3]}`, current);
    } else if (current && line.startsWith('Rss:')) {
      current.rssKiB = parseInt(line.slice(4), 10);
    }
  }
  return out;
}

const settle = async () => {
  globalThis.gc();
  await new Promise((resolve) => setTimeout(resolve, 300));
  globalThis.gc();
};

let before = mappings();
async function step(label, work) {
  await work();
  await settle();
  const after = mappings();
  const rows = [];
  let total = 0;
  for (const [key, now] of after) {
    const delta = now.rssKiB - (before.get(key)?.rssKiB ?? 0);
    if (Math.abs(delta) >= 16)
      rows.push(`${before.has(key) ? 'grew' : 'new '} ${now.perms} ${now.name} (${now.sizeKiB} KiB mapped): ${delta > 0 ? '+' : ''}${delta} KiB`);
    total += delta;
  }
  for (const [key, then] of before) {
    if (!after.has(key)) {
      if (then.rssKiB >= 16) rows.push(`gone ${then.perms} ${then.name} (${then.sizeKiB} KiB mapped): -${then.rssKiB} KiB`);
      total -= then.rssKiB;
    }
  }
  console.log(`${label}: ${total >= 0 ? '+' : ''}${(total / 1024).toFixed(2)} MiB resident`);
  for (const row of rows.sort()) console.log(`  ${row}`);
  before = after;
}

await import('@logto/connector-kit');
await settle();
before = mappings();
let connector;
const config = benchConfig();
const send = () => connector.sendMessage({ to: '+15551234567', type: 'Generic', payload: { code: '123456' } }, config);
await step('load the binding (lib/native.js)', () => import('../lib/native.js'));
await step('lib/index.js and createConnector', async () => {
  const { default: create } = await import('../lib/index.js');
  connector = await create({ getConfig: async () => config });
});
await step('first send', send);
await step('1,000 sequential sends', async () => {
  for (let i = 0; i < 1_000; i += 1) await send();
});
await step('50 sends at once', () => Promise.all(Array.from({ length: 50 }, send)));
await step('1,000 more sequential sends', async () => {
  for (let i = 0; i < 1_000; i += 1) await send();
});
process.exit(0);
