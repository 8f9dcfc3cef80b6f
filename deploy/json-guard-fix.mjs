#!/usr/bin/env node
// Builds the union of @logto/connector-kit's `jsonGuard` once, in a Logto installation:
//
//   node json-guard-fix.mjs [--require] <Logto folder>      (in Logto's image: /etc/logto)
//
// Why: connector-kit 5.1.1 defines
//   jsonGuard = z.lazy(() => z.union([literalSchema, z.array(jsonGuard), z.record(jsonGuard)]))
// and zod calls a lazy schema's getter on every value it parses, so each JSON value core checks
// with it (every value of a connector config the Console's test endpoint receives, for one)
// builds four new zod schemas (the union, an array, a record and the record's string keys) and
// the union's member list. Under a burst of such requests V8 may decide that those allocation
// sites' objects live long and allocate them in the old generation (allocation-site
// pretenuring); core then runs about 180 MiB higher, whichever connector sends
// (docs/benchmark.md, "Memory inside Logto"). The same schema built once parses every value the
// same way and builds no schema per value.
//
// Changes each physical copy of connector-kit's lib/types/social.js under the folder (symbolic
// links are not followed) whose jsonGuard line is the one above, by writing a new file and
// renaming it over the old one (a copy hard-linked into a package manager's store stays as it
// was); says which. A copy already changed is left as is, and so is one whose jsonGuard
// differs (a Logto that changed it). Exit status: 1 when the folder is missing or a file cannot
// be read or replaced; with --require (the Dockerfile's), also 1 when no copy is, or now is,
// changed; else 0.
import { readdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
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
    return; // a folder this user cannot list holds no copy it could change either
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* kitFiles(path);
    else if (entry.isFile() && path.endsWith(`/${TARGET}`)) yield path;
  }
}

/** Applies the change under `logtoDir`; returns `{ fixed, already, other }` (paths). */
export function fixJsonGuard(logtoDir) {
  if (!statSync(logtoDir, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`${logtoDir} is not a folder`);
  const result = { fixed: [], already: [], other: [] };
  for (const file of kitFiles(logtoDir)) {
    const text = readFileSync(file, 'utf8');
    if (text.includes(FIXED)) result.already.push(file);
    else if (text.includes(ORIGINAL)) {
      const next = `${file}.json-guard-fix-${process.pid}`;
      writeFileSync(next, text.replace(ORIGINAL, FIXED), { mode: statSync(file).mode });
      renameSync(next, file);
      result.fixed.push(file);
    } else result.other.push(file);
  }
  return result;
}

const isMain = () => {
  try {
    return realpathSync(fileURLToPath(import.meta.url)) === realpathSync(process.argv[1]);
  } catch {
    return false;
  }
};

if (isMain()) {
  const args = process.argv.slice(2);
  const required = args.includes('--require');
  const [dir] = args.filter((arg) => arg !== '--require');
  if (!dir) {
    console.error('usage: node json-guard-fix.mjs [--require] <Logto folder>');
    process.exit(1);
  }
  const root = resolve(dir);
  let outcome;
  try {
    outcome = fixJsonGuard(root);
  } catch (error) {
    console.error(`json-guard-fix: ${error.message}; nothing more changed`);
    process.exit(1);
  }
  const { fixed, already, other } = outcome;
  const list = (files) => files.map((file) => relative(root, file)).join(', ');
  if (fixed.length) console.log(`json-guard-fix: jsonGuard builds its union once in ${list(fixed)}`);
  if (already.length) console.log(`json-guard-fix: already changed: ${list(already)}`);
  if (other.length) console.log(`json-guard-fix: left as is (jsonGuard is not the one this fix knows): ${list(other)}`);
  if (!fixed.length && !already.length && !other.length) {
    console.log(`json-guard-fix: no @logto/connector-kit (lib/types/social.js) under ${root}; nothing changed`);
  }
  if (required && !fixed.length && !already.length) {
    console.error(
      'json-guard-fix: --require: no copy of connector-kit has the jsonGuard this fix knows. If your Logto has changed it, build without LOGTO_JSON_GUARD_FIX.'
    );
    process.exit(1);
  }
}
