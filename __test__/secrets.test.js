// The auth token must never surface: not in an error's message, stack, code or data, and not
// on the process's stdout/stderr. A child process runs a matrix of failures through both the
// class and the Logto module; the parent scans everything the child produced.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { accountSID, apiKeySecret, apiKeySID, authToken } from './fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));

test('no failure in the matrix reveals the auth token or the API key secret', () => {
  const child = spawnSync(process.execPath, [join(here, 'support', 'secret-matrix.mjs')], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const output = `${child.stdout}\n${child.stderr}`;
  assert.equal(child.status, 0, output);
  const outcomes = JSON.parse(child.stdout.trim().split('\n').at(-1));
  assert.ok(outcomes.length >= 14, `ran ${outcomes.length} cases`);
  for (const outcome of outcomes) {
    assert.ok(outcome.isConnectorError || outcome.via === 'class', `${outcome.name}: not a ConnectorError`);
    assert.ok(typeof outcome.code === 'string' && outcome.code.length > 0, `${outcome.name}: no code`);
  }
  assert.ok(!output.includes(authToken), 'the token appeared in the output');
  assert.ok(!output.includes(Buffer.from(`${accountSID}:${authToken}`).toString('base64')));
  assert.ok(!output.includes(apiKeySecret), 'the API key secret appeared in the output');
  assert.ok(!output.includes(Buffer.from(`${apiKeySID}:${apiKeySecret}`).toString('base64')));
  assert.ok(outcomes.filter((o) => o.name.includes('API key') || o.name.startsWith('key secret')).length >= 14);
  assert.ok(outcomes.filter((o) => o.name.startsWith('usage')).length >= 7);
});
