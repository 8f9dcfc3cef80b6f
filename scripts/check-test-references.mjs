#!/usr/bin/env node
// Every claim the docs make about what is tested names the test that proves it, and that test
// still exists. Checked in README.md and every docs/*.md:
//   `faults.test.js` "title fragment"   a JS test whose full title contains the fragment
//                                       (titles are listed by node --test itself, so titles
//                                       built in loops count, and nothing runs);
//   `tests/twilio_send.rs` `fn_name`    a Rust test function in that file (also `src/…`);
//   `delivery::tests::fn_name`          a Rust unit test in src/delivery.rs.
// Every `x.test.js` named on its own must carry a title, and every row of the fault table
// must name at least one test. Prints each problem; exits 1 if there is any.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const DOCS = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];

const problems = [];
const jsRefs = []; // { doc, line, file, title }
const rustRefs = []; // { doc, line, file, fn }

const JS_REF = /`(?:__test__\/)?([\w.-]+\.test\.js)`((?:\s*"[^"]+"(?:\s*,)?)*)/g;
const RUST_REF = /`((?:tests|src)\/[\w/]+\.rs)`\s+`(\w+)`/g;
const MODULE_REF = /`(\w+)::tests::(\w+)`/g;

for (const doc of DOCS) {
  const lines = readFileSync(join(root, doc), 'utf8').split('\n');
  let inFaultTable = false;
  lines.forEach((text, index) => {
    const line = index + 1;
    for (const match of text.matchAll(JS_REF)) {
      const titles = [...match[2].matchAll(/"([^"]+)"/g)].map((m) => m[1]);
      if (titles.length === 0) problems.push(`${doc}:${line}: \`${match[1]}\` is named without a test title`);
      for (const title of titles) jsRefs.push({ doc, line, file: match[1], title });
    }
    for (const match of text.matchAll(RUST_REF)) rustRefs.push({ doc, line, file: match[1], fn: match[2] });
    for (const match of text.matchAll(MODULE_REF)) rustRefs.push({ doc, line, file: `src/${match[1]}.rs`, fn: match[2] });

    // The fault table: every row's last cell names at least one test.
    if (doc === 'docs/reliability.md') {
      if (text.startsWith('| fault | what the connector does | test |')) inFaultTable = true;
      else if (inFaultTable && !text.startsWith('|')) inFaultTable = false;
      else if (inFaultTable && !text.startsWith('|---')) {
        const cell = text.split('|').at(-2) ?? '';
        const named = /`[\w.-]+\.test\.js`\s*"/.test(cell) || /`(?:tests|src)\/[\w/]+\.rs`\s+`\w+`/.test(cell) || /::tests::\w+/.test(cell);
        if (!named) problems.push(`${doc}:${line}: fault table row names no test: ${text.slice(0, 80)}`);
      }
    }
  });
}

// The titles node --test registers in each named file; a never-matching name pattern skips
// every test, so nothing runs but the files' top-level code (starting their servers).
const titlesOf = new Map();
const files = [...new Set(jsRefs.map((ref) => ref.file))];
const list = (file) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-reporter=tap', '--test-name-pattern=^a test title no test has$', join(root, '__test__', file)], {
      cwd: root,
      env: { ...process.env, NODE_TEST_CONTEXT: undefined },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (status) => {
      clearTimeout(killer);
      const titles = [...stdout.matchAll(/^\s*# Subtest: (.*)$/gm)].map((m) => m[1]);
      if (titles.length === 0) problems.push(`${file}: could not list its tests (exit ${status}):\n${stdout}\n${stderr}`);
      resolve(titles);
    });
  });
// Two at a time: the listing runs each file's top-level code.
const queue = [...files];
await Promise.all(
  [0, 1].map(async () => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      titlesOf.set(file, existsSync(join(root, '__test__', file)) ? await list(file) : null);
    }
  })
);
for (const { doc, line, file, title } of jsRefs) {
  const titles = titlesOf.get(file);
  if (titles === null) problems.push(`${doc}:${line}: ${file} does not exist`);
  else if (titles.length > 0 && !titles.some((t) => t.includes(title))) problems.push(`${doc}:${line}: no test in ${file} has a title containing "${title}"`);
}
for (const { doc, line, file, fn } of rustRefs) {
  const path = join(root, file);
  if (!existsSync(path)) problems.push(`${doc}:${line}: ${file} does not exist`);
  else if (!new RegExp(`\\bfn ${fn}\\s*[(<]`).test(readFileSync(path, 'utf8'))) problems.push(`${doc}:${line}: ${file} has no fn ${fn}`);
}

if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`${jsRefs.length} JS test references in ${files.length} files and ${rustRefs.length} Rust test references hold`);
