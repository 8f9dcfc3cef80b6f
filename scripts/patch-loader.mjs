// Run after `napi build` (package.json build scripts): makes the generated loader (index.js) tell
// musl from glibc with lib/platform.cjs, the test lib/native.js's error message uses too.
// napi's own test reads /usr/bin/ldd first, which describes the host's C library rather than
// the one Node runs on (see lib/platform.cjs). Idempotent; fails if napi's template changed
// shape, so a new napi cannot silently bring the ldd test back.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../index.js', import.meta.url);
const shared = "const { isMusl } = require('./lib/platform.cjs')";
const replacement = `// Patched in by scripts/patch-loader.mjs: one libc test for this loader and lib/native.js.
${shared}

`;

const source = readFileSync(file, 'utf8');
// napi's block: isMusl and the three tests it tries in turn, up to requireNative.
const start = source.indexOf('const isMusl = () => {');
const end = source.indexOf('function requireNative()');
if (start !== -1 && end > start && source.indexOf('const isMusl = () => {', start + 1) === -1) {
  writeFileSync(file, source.slice(0, start) + replacement + source.slice(end));
} else if (!source.includes(shared)) {
  console.error("patch-loader: index.js has neither napi's isMusl block nor the patched line; update scripts/patch-loader.mjs for this napi version");
  process.exit(1);
}
