#!/usr/bin/env node
// Prints, for every built `.node` binary, what it needs from the system and fails when a
// promise is broken: each is at most 6 MB and links no libssl/libcrypto; on Linux (readelf)
// glibc builds need nothing newer than GLIBC_2.17, musl builds link only musl's libc, and both
// have the section of hot code build.rs asks for; on macOS (otool, on a macOS runner) the
// minimum OS is the one build-release.sh sets (10.13 on x64, 11.0 on arm64) and only system
// libraries are linked; on Windows the C runtime is static (no VCRUNTIME140.dll, MSVCP140.dll
// or api-ms-win-crt-* import).
//
//   node scripts/check-binaries.mjs [file.node ...]   (default: every *.node in the repo root)
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const maxBytes = 6 * 1024 * 1024;
const maxGlibc = [2, 17];
const MIN_MACOS = { x64: [10, 13], arm64: [11, 0] };

const files = process.argv.slice(2).length
  ? process.argv.slice(2)
  : readdirSync(root)
      .filter((f) => f.endsWith('.node'))
      .map((f) => join(root, f));
if (files.length === 0) {
  console.error('no .node binaries found; build them first (npm run build:release)');
  process.exit(1);
}

const readelf = (flag, file) => execFileSync('readelf', ['-W', flag, file], { encoding: 'utf8' });
const compare = (a, b) => a[0] - b[0] || a[1] - b[1];

// ELF (Linux): the machine, the NEEDED libraries and the glibc symbol versions.
function checkElf(file, name, problems) {
  const machine =
    readelf('-h', file)
      .match(/Machine:\s+(.+)/)?.[1]
      .trim() ?? '?';
  const needed = [...readelf('-d', file).matchAll(/\(NEEDED\).*\[(.+)\]/g)].map((m) => m[1]);
  const glibcVersions = [...new Set([...readelf('-V', file).matchAll(/GLIBC_(\d+)\.(\d+)/g)].map((m) => `${m[1]}.${m[2]}`))]
    .map((v) => v.split('.').map(Number))
    .sort(compare);
  const newestGlibc = glibcVersions.at(-1);
  if (name.includes('-gnu') && newestGlibc && compare(newestGlibc, maxGlibc) > 0) {
    problems.push(`needs GLIBC_${newestGlibc.join('.')} > 2.17`);
  }
  if (name.includes('-musl')) {
    const foreign = needed.filter((lib) => !/^(libc\.so|libc\.musl-[\w]+\.so\.1|ld-musl-[\w]+\.so\.1)$/.test(lib));
    if (foreign.length) problems.push(`musl build also links ${foreign.join(', ')}`);
    if (glibcVersions.length) problems.push('musl build references glibc symbol versions');
  }
  // build.rs links the code a send runs into its own section (link/hot-text.ld); without it,
  // nearly all the code becomes resident in the process that loads us.
  if (!/\s\.text\.hot\s/.test(readelf('-S', file))) problems.push('no .text.hot section (was link/hot-text.ld passed to the linker?)');
  return { machine, needed, minimum: newestGlibc ? `GLIBC_${newestGlibc.join('.')}` : '-' };
}

// Mach-O (macOS): the linked libraries and the minimum-macOS load command, as otool prints them.
function checkMachO(file, name, problems) {
  const otool = (flag) => execFileSync('otool', [flag, file], { encoding: 'utf8' });
  const needed = otool('-L')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(' ')[0])
    .filter(Boolean);
  const foreign = needed.filter((lib) => !lib.startsWith('/usr/lib/') && !lib.startsWith('/System/Library/'));
  if (foreign.length) problems.push(`links non-system libraries ${foreign.join(', ')}`);
  const commands = otool('-l');
  const found = commands.match(/minos (\d+)\.(\d+)/) ?? commands.match(/LC_VERSION_MIN_MACOSX[\s\S]*?version (\d+)\.(\d+)/);
  const arch = name.includes('-arm64') ? 'arm64' : 'x64';
  const minimum = found ? [Number(found[1]), Number(found[2])] : undefined;
  if (!minimum) problems.push('no minimum macOS version recorded');
  else if (compare(minimum, MIN_MACOS[arch]) > 0) problems.push(`needs macOS ${minimum.join('.')} > ${MIN_MACOS[arch].join('.')}`);
  return { machine: arch, needed, minimum: minimum ? `macOS ${minimum.join('.')}` : '?' };
}

// PE (Windows): import names are stored as text, so a dynamic C runtime shows by its DLL names.
function checkPe(file, name, problems) {
  const text = readFileSync(file).toString('latin1');
  const crt = [...new Set(text.match(/(?:vcruntime\d+|msvcp\d+|api-ms-win-crt-[a-z-]+-l\d-\d-\d)\.dll/gi) ?? [])];
  if (crt.length) problems.push(`dynamic C runtime: ${crt.join(', ')} (build with +crt-static)`);
  return { machine: name.includes('-arm64') ? 'arm64' : 'x64', needed: crt, minimum: '-' };
}

const formats = { '7f454c46': checkElf, cffaedfe: checkMachO, feedfacf: checkMachO, '4d5a': checkPe };

let failed = false;
const rows = [];
for (const file of files) {
  const name = basename(file);
  const problems = [];
  const size = statSync(file).size;
  const magic = readFileSync(file).subarray(0, 4).toString('hex');
  const check = formats[magic] ?? formats[magic.slice(0, 4)];
  if (!check) problems.push(`unknown binary format (magic ${magic})`);
  const { machine = '?', needed = [], minimum = '?' } = check?.(file, name, problems) ?? {};
  if (size > maxBytes) problems.push(`${(size / 1048576).toFixed(2)} MB > 6 MB`);
  if (needed.some((lib) => /ssl|crypto/.test(lib))) problems.push(`links ${needed.join(', ')}`);
  failed ||= problems.length > 0;
  rows.push({
    binary: name,
    machine,
    size: `${(size / 1048576).toFixed(2)} MB`,
    needed: needed.join(' '),
    minimum,
    verdict: problems.length ? `FAIL: ${problems.join('; ')}` : 'ok',
  });
}
console.table(rows);
process.exit(failed ? 1 : 0);
