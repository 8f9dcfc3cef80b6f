// deploy/json-guard-fix.mjs on a Logto-like folder holding a copy of the real
// @logto/connector-kit 5.1.1 (this repo's dependency, the version Logto core 1.43 has): it
// changes that copy's jsonGuard so the union is built once, and the changed guard accepts and
// refuses exactly what the original does, with the same issues. (Its effect on core's memory
// is measured by `npm run bench -- --logto --core-fix json-guard`.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, test } from 'node:test';

import { root } from './support/child.js';

const work = mkdtempSync(join(tmpdir(), 'json-guard-fix-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

const script = join(root, 'deploy', 'json-guard-fix.mjs');
/** Runs the script; returns its exit status and output. */
const run = (...args) => {
  const { status, stdout, stderr } = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });
  return { status, output: stdout + stderr };
};
const fix = (dir) => {
  const { status, output } = run(dir);
  assert.equal(status, 0, output);
  return output;
};
const kitIn = (dir) => join(dir, 'node_modules', '@logto', 'connector-kit');

/**
 * A Logto-like folder: node_modules links to this repo's packages, except a real copy of
 * @logto/connector-kit (the one the fix may change; links are not followed).
 */
function logtoLike(name) {
  const dir = join(work, name);
  const modules = join(dir, 'node_modules');
  mkdirSync(join(modules, '@logto'), { recursive: true });
  for (const entry of readdirSync(join(root, 'node_modules'))) {
    if (entry !== '@logto' && entry !== '.bin') symlinkSync(join(root, 'node_modules', entry), join(modules, entry));
  }
  for (const entry of readdirSync(join(root, 'node_modules', '@logto'))) {
    if (entry !== 'connector-kit') symlinkSync(join(root, 'node_modules', '@logto', entry), join(modules, '@logto', entry));
  }
  cpSync(join(root, 'node_modules', '@logto', 'connector-kit'), kitIn(dir), { recursive: true, dereference: true });
  return dir;
}

test('changes the copy of connector-kit 5.1.1 once, says what it did, and leaves a changed or unknown guard alone', () => {
  const dir = logtoLike('logto');
  const social = join(kitIn(dir), 'lib', 'types', 'social.js');
  // A hard link elsewhere (as a package manager's store holds one) keeps the original.
  const stored = join(work, 'store-social.js');
  linkSync(social, stored);
  const original = readFileSync(social, 'utf8');
  assert.match(fix(dir), /^json-guard-fix: jsonGuard builds its union once in node_modules\/@logto\/connector-kit\/lib\/types\/social\.js$/m);
  const changed = readFileSync(social, 'utf8');
  assert.notEqual(changed, original);
  assert.match(changed, /jsonUnion \?\?= z\.union/);
  // Only that line changed.
  assert.equal(changed.split('\n').length, original.split('\n').length + 3);
  assert.equal(readFileSync(stored, 'utf8'), original);

  assert.match(fix(dir), /already changed: node_modules\/@logto\/connector-kit\/lib\/types\/social\.js/);
  assert.equal(run('--require', dir).status, 0, 'already changed satisfies --require');
  assert.equal(readFileSync(social, 'utf8'), changed);

  const other = logtoLike('logto-other');
  const otherSocial = join(kitIn(other), 'lib', 'types', 'social.js');
  writeFileSync(otherSocial, readFileSync(otherSocial, 'utf8').replace('z.lazy(() => z.union(', 'z.lazy(() => z.union( '));
  const untouched = readFileSync(otherSocial, 'utf8');
  assert.match(fix(other), /left as is \(jsonGuard is not the one this fix knows\)/);
  assert.equal(readFileSync(otherSocial, 'utf8'), untouched);

  // The Dockerfile's --require: a guard it does not know fails the build, saying so.
  const required = run('--require', other);
  assert.equal(required.status, 1);
  assert.match(required.output, /no copy of connector-kit has the jsonGuard this fix knows/);

  mkdirSync(join(work, 'empty'));
  assert.match(fix(join(work, 'empty')), /no @logto\/connector-kit .* nothing changed/);
  assert.equal(run('--require', join(work, 'empty')).status, 1);
  const missing = run(join(work, 'no-such-folder'));
  assert.equal(missing.status, 1);
  assert.match(missing.output, /no-such-folder is not a folder/);
});

test('the changed jsonGuard parses every value as the original does, with one union', async () => {
  const dir = logtoLike('logto-parse');
  fix(dir);
  const original = await import('@logto/connector-kit');
  const fixed = await import(pathToFileURL(join(kitIn(dir), 'lib', 'index.js')).href);
  assert.notEqual(fixed.jsonGuard, original.jsonGuard, 'two module instances');

  const values = [
    {},
    { accountSID: 'AC1', templates: [{ usageType: 'Generic', content: 'Code {{code}}' }], nested: { a: [1, 'x', true, null, { b: [] }] } },
    { n: 1.5, s: '', z: -0, arr: [[[]]] },
    { bad: undefined },
    { fn: () => 1 },
    { date: new Date(0) },
    { deep: { list: [1, { x: Symbol('s') }] } },
    [],
    'text',
    null,
    42,
  ];
  for (const value of values) {
    for (const guard of ['jsonObjectGuard', 'jsonGuard']) {
      const a = original[guard].safeParse(value);
      const b = fixed[guard].safeParse(value);
      assert.equal(b.success, a.success, `${guard} on ${String(JSON.stringify(value))}`);
      if (a.success) assert.deepEqual(b.data, a.data);
      // As JSON: a union's issues carry its members' errors, whose stacks differ.
      else assert.deepEqual(JSON.parse(JSON.stringify(b.error.issues)), JSON.parse(JSON.stringify(a.error.issues)));
    }
  }
  // The original builds a new union each time zod reads the lazy schema; the fixed one, once.
  assert.notEqual(original.jsonGuard.schema, original.jsonGuard.schema);
  assert.equal(fixed.jsonGuard.schema, fixed.jsonGuard.schema);
});
