// The docs name the test behind each claim (docs/reliability.md's fault table, README's
// "tested" claims); scripts/check-test-references.mjs fails when a named test is gone.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

test('every test the docs name exists', () => {
  const run = spawnSync(process.execPath, [join(root, 'scripts', 'check-test-references.mjs')], {
    cwd: root,
    encoding: 'utf8',
    timeout: 300_000,
  });
  assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
});
