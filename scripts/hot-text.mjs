#!/usr/bin/env node
// Regenerates link/hot-text.ld, the list of functions a send runs, which build.rs hands the
// linker so those functions sit together in the addon's code.
//
//   node scripts/hot-text.mjs        (needs valgrind: apt-get install valgrind)
//
// Why: the kernel maps a shared library's code in whole blocks around each page that runs
// (fault-around, 64 KiB, and whole page-cache folios on newer kernels). Left in the compiler's
// order, the ~1 MB that loading and sending run is spread over the whole 3 MB of code, so
// nearly all of it became resident in every process that loads us, Logto core's included.
// Packed together, only that part and its neighbours are (README, "Memory inside Logto").
//
// How: an unstripped release build of the host target without the list, then
// scripts/hot-text-workload.mjs under callgrind (load, createConnector, sequential and
// concurrent sends over HTTPS to the Twilio stand-in), then every function of ours that ran,
// in the order of its address. Names lose their hashes (`17h<hash>E` and v0's crate
// disambiguators, which differ between targets and builds) and become wildcards, so one list
// serves every Linux target; a function missing from it only loses its place, never its code.
// Regenerate after a change to what a send runs (a stale list costs memory, not correctness).
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const out = join(root, 'link', 'hot-text.ld');
const targetDir = join(root, 'target', 'hot-text');

if (spawnSync('valgrind', ['--version']).status !== 0) {
  console.error('hot-text: valgrind is missing (apt-get install valgrind)');
  process.exit(1);
}

// The build to profile: unstripped (callgrind names functions by their symbols) and without
// the current list (valgrind reads code only from `.text`, so it would miss the listed part).
execFileSync('cargo', ['build', '--release', '--locked', '--features', 'node', '--lib'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, CARGO_TARGET_DIR: targetDir, CARGO_PROFILE_RELEASE_STRIP: 'none', CONNECTOR_HOT_TEXT: '0' },
});
// Node loads an addon only from a file named *.node.
const addon = join(targetDir, 'profiled.node');
copyFileSync(join(targetDir, 'release', 'libconnector_twilio_sms_native.so'), addon);

/** The functions of `object` that ran, by address, from a callgrind profile with --dump-instr=yes. */
function functionsRun(path, object) {
  const names = { ob: new Map(), fn: new Map() };
  // Callgrind compresses names: "(id) name" defines an id, "(id)" refers to it.
  const named = (table, text) => {
    const match = /^\((\d+)\)(?: (.*))?$/.exec(text);
    if (!match) return text;
    if (match[2] !== undefined) table.set(match[1], match[2]);
    return table.get(match[1]);
  };
  const first = new Map();
  let ob;
  let fn;
  let last = 0;
  let callCost = false;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const key = /^(ob|cob|fn|cfn|cfi|cfl|fl|fi|fe|calls)=(.*)$/.exec(line);
    if (key) {
      if (key[1] === 'ob') ob = named(names.ob, key[2]);
      else if (key[1] === 'cob') named(names.ob, key[2]);
      else if (key[1] === 'fn') fn = named(names.fn, key[2]);
      else if (key[1] === 'cfn') named(names.fn, key[2]);
      // The line after calls= is the inclusive cost of that call, at the call's own address.
      else if (key[1] === 'calls') callCost = true;
      continue;
    }
    const position = /^(0x[0-9a-f]+|[+-]\d+|\*)\s/.exec(line)?.[1];
    if (!position) continue;
    if (position.startsWith('0x')) last = parseInt(position, 16);
    else if (position !== '*') last += Number(position);
    if (callCost) {
      callCost = false;
      continue;
    }
    if (ob === object && fn && !first.has(fn)) first.set(fn, last);
  }
  return [...first].sort((a, b) => a[1] - b[1]).map(([name]) => name);
}

// Three runs, in case which functions a send takes varies from one run to the next.
const functions = [];
for (const run of [1, 2, 3]) {
  const profile = join(targetDir, `callgrind.${run}.out`);
  execFileSync(process.execPath, [join(root, 'scripts', 'hot-text-workload.mjs'), addon, profile], { cwd: root, stdio: 'inherit' });
  // "'2" and the like are callgrind's marks for a function's recursion depth.
  for (const name of functionsRun(profile, addon)) functions.push(name.replace(/'\d+$/, ''));
}
// The compiler merges identical functions into one body under several names, and which name
// the body's section takes differs from build to build: every name of a body that ran goes in.
const byAddress = new Map();
const addressOf = new Map();
for (const line of execFileSync('nm', ['--defined-only', addon], { encoding: 'utf8', maxBuffer: 1 << 28 }).split('\n')) {
  const [address, type, name] = line.split(' ');
  if (!name || !/^[tTwW]$/.test(type)) continue;
  addressOf.set(name, address);
  byAddress.set(address, [...(byAddress.get(address) ?? []), name]);
}
const withAliases = functions.flatMap((name) => byAddress.get(addressOf.get(name)) ?? [name]);
const patterns = [
  ...new Set(
    withAliases.map((name) =>
      name.startsWith('_ZN') ? name.replace(/17h[0-9a-f]{16}E$/, '17h*') : name.startsWith('_R') ? name.replace(/Cs[0-9A-Za-z]+_/g, 'Cs*_') : name
    )
  ),
  // Callgrind names a function without a symbol by its address.
].filter((pattern) => /^[\w$.*]+$/.test(pattern) && !pattern.startsWith('0x'));
if (patterns.length < 100) {
  console.error(`hot-text: only ${patterns.length} functions ran; is the workload sending?`);
  process.exit(1);
}

const lines = [
  '/* Generated by scripts/hot-text.mjs: the functions loading the addon and sending run, in one',
  '   output section after the rest of the code, next to the PLT every call into libc and Node',
  '   goes through (build.rs passes this to the linker on Linux). .text.unlikely and',
  '   .text.startup.* are where the compiler puts cold and start-up-only ones; .text.startup is',
  "   napi's registration, run at load. ring's C and assembly (every TLS handshake and record)",
  "   and mimalloc (the musl builds' allocator) go in whole: the host's C compiler, which built",
  "   the profiled addon, inlines them differently from the release builds' one. */",
  'SECTIONS {',
  '  .text.hot : {',
  '    *(.text.startup)',
  '    *ring*:*(.text .text.*)',
  '    *mimalloc*:*(.text .text.*)',
  ...patterns.map((p) => `    *(.text.${p} .text.unlikely.${p} .text.startup.${p})`),
  '  }',
  '} INSERT AFTER .text;',
  '',
];
writeFileSync(out, lines.join('\n'));
console.error(`hot-text: ${patterns.length} functions written to ${out}`);
