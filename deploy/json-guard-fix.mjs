#!/usr/bin/env node
// Builds the union of @logto/connector-kit's `jsonGuard` once, in a Logto installation:
//
//   node json-guard-fix.mjs <Logto folder>      (in Logto's image: /etc/logto)
//
// Why: connector-kit 5.1.1 defines
//   jsonGuard = z.lazy(() => z.union([literalSchema, z.array(jsonGuard), z.record(jsonGuard)]))
// and zod calls a lazy schema's getter on every value it parses, so each JSON value core checks
// with it (every value of a connector config the Console's test endpoint receives, for one)
// builds three new zod schemas and their array. Under a burst of such requests V8 may decide
// that those allocation sites' objects live long and allocate them in the old generation
// (allocation-site pretenuring); core then runs about 180 MiB higher, whichever connector sends
// (docs/benchmark.md, "Memory inside Logto"). The same schema built once parses every value the
// same way and allocates nothing per value.
//
// Changes each physical copy of connector-kit's lib/types/social.js under the folder (symbolic
// links are not followed) whose jsonGuard line is the one above; says which. A copy already
// changed is left as is. When no copy has that line (a Logto whose connector-kit changed it),
// says so and changes nothing: exit 0 either way, so an image build does not break on a Logto
// upgrade. Exit 1 only on a bad argument or a file it cannot write.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ORIGINAL = 'export const jsonGuard = z.lazy(() => z.union([literalSchema, z.array(jsonGuard), z.record(jsonGuard)]));';
export const FIXED = [
  '// Built once (json-guard-fix.mjs of connector-twilio-sms-native): zod calls a lazy',
  "// schema's getter on every value it parses.",
  'let jsonUnion;',
  'export const jsonGuard = z.lazy(() => (jsonUnion ??= z.union([literalSchema, z.array(jsonGuard), z.record(jsonGuard)])));',
].join('\n');

const TARGET = join('connector-kit', 'lib', 'types', 'social.js');

/** Every connector-kit lib/types/social.js under `dir`, through real folders only. */
function* kitFiles(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // unreadable: not Logto's
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* kitFiles(path);
    else if (entry.isFile() && path.endsWith(`/${TARGET}`)) yield path;
  }
}

/** Applies the change under `logtoDir`; returns `{ fixed, already, other }` (paths). */
export function fixJsonGuard(logtoDir) {
  const result = { fixed: [], already: [], other: [] };
  for (const file of kitFiles(logtoDir)) {
    const text = readFileSync(file, 'utf8');
    if (text.includes(FIXED)) result.already.push(file);
    else if (text.includes(ORIGINAL)) {
      writeFileSync(file, text.replace(ORIGINAL, FIXED));
      result.fixed.push(file);
    } else result.other.push(file);
  }
  return result;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const [dir] = process.argv.slice(2);
  if (!dir) {
    console.error('usage: node json-guard-fix.mjs <Logto folder>');
    process.exit(1);
  }
  const root = resolve(dir);
  const { fixed, already, other } = fixJsonGuard(root);
  const list = (files) => files.map((file) => relative(root, file)).join(', ');
  if (fixed.length) console.log(`json-guard-fix: jsonGuard builds its union once in ${list(fixed)}`);
  if (already.length) console.log(`json-guard-fix: already changed: ${list(already)}`);
  if (other.length) console.log(`json-guard-fix: left as is (jsonGuard is not the one this fix knows): ${list(other)}`);
  if (!fixed.length && !already.length && !other.length) {
    console.log(`json-guard-fix: no @logto/connector-kit (lib/types/social.js) under ${root}; nothing changed`);
  }
}
