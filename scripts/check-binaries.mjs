#!/usr/bin/env node
// Prints, for every built `.node` binary, what it needs from the system (readelf) and fails
// when a promise is broken: glibc builds need nothing newer than GLIBC_2.17, musl builds link
// only musl's libc, none links libssl/libcrypto, each is at most 6 MB.
//
//   node scripts/check-binaries.mjs [file.node ...]   (default: every *.node in the repo root)
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const maxBytes = 6 * 1024 * 1024;
const maxGlibc = [2, 17];

const files = process.argv.slice(2).length
  ? process.argv.slice(2)
  : readdirSync(root).filter((f) => f.endsWith('.node')).map((f) => join(root, f));
if (files.length === 0) {
  console.error('no .node binaries found; build them first (npm run build:release)');
  process.exit(1);
}

const readelf = (flag, file) => execFileSync('readelf', ['-W', flag, file], { encoding: 'utf8' });
const compare = (a, b) => a[0] - b[0] || a[1] - b[1];

let failed = false;
const rows = [];
for (const file of files) {
  const name = basename(file);
  const problems = [];
  const size = statSync(file).size;
  const machine = readelf('-h', file).match(/Machine:\s+(.+)/)?.[1].trim() ?? '?';
  const needed = [...readelf('-d', file).matchAll(/\(NEEDED\).*\[(.+)\]/g)].map((m) => m[1]);
  const glibcVersions = [...new Set([...readelf('-V', file).matchAll(/GLIBC_(\d+)\.(\d+)/g)].map((m) => `${m[1]}.${m[2]}`))]
    .map((v) => v.split('.').map(Number))
    .sort(compare);
  const newestGlibc = glibcVersions.at(-1);

  if (size > maxBytes) problems.push(`${(size / 1048576).toFixed(2)} MB > 6 MB`);
  if (needed.some((lib) => /ssl|crypto/.test(lib))) problems.push(`links ${needed.join(', ')}`);
  if (name.includes('-gnu') && newestGlibc && compare(newestGlibc, maxGlibc) > 0) {
    problems.push(`needs GLIBC_${newestGlibc.join('.')} > 2.17`);
  }
  if (name.includes('-musl')) {
    const foreign = needed.filter((lib) => !/^(libc\.so|libc\.musl-[\w]+\.so\.1|ld-musl-[\w]+\.so\.1)$/.test(lib));
    if (foreign.length) problems.push(`musl build also links ${foreign.join(', ')}`);
    if (glibcVersions.length) problems.push('musl build references glibc symbol versions');
  }
  failed ||= problems.length > 0;
  rows.push({
    binary: name,
    machine,
    size: `${(size / 1048576).toFixed(2)} MB`,
    needed: needed.join(' '),
    newestGlibc: newestGlibc ? `GLIBC_${newestGlibc.join('.')}` : '-',
    verdict: problems.length ? `FAIL: ${problems.join('; ')}` : 'ok',
  });
}
console.table(rows);
process.exit(failed ? 1 : 0);
