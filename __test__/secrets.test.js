// The auth token must never surface: not in an error's message, stack, code or data, and not
// on the process's stdout/stderr. A child process runs a matrix of failures through both the
// class and the Logto module; the parent checks each case ended as it says (code, message,
// requests that reached each server) and scans everything the child produced.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { accountSID, apiKeySecret, apiKeySID, authToken } from './fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));

const inRange = (actual, expected) => (Array.isArray(expected) ? actual >= expected[0] && actual <= expected[1] : actual === expected);

test('every case of the secret matrix ends as it states, and none reveals the auth token or the API key secret', () => {
  const child = spawnSync(process.execPath, [join(here, 'support', 'secret-matrix.mjs')], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const output = `${child.stdout}\n${child.stderr}`;
  assert.equal(child.status, 0, output);
  const outcomes = JSON.parse(child.stdout.trim().split('\n').at(-1));
  assert.equal(outcomes.length, 50, `ran ${outcomes.length} outcomes (25 cases, class and Logto module)`);
  for (const outcome of outcomes) {
    const label = `${outcome.name} (${outcome.via})`;
    const { expected } = outcome;
    assert.equal(outcome.code, expected.code, `${label}: ${outcome.message}`);
    if (expected.code !== 'resolved') {
      if (outcome.via === 'logto') assert.ok(outcome.isConnectorError, `${label}: not a ConnectorError`);
      const [, source, flags] = expected.message.match(/^\/(.*)\/(\w*)$/);
      assert.match(outcome.message, new RegExp(source, flags), label);
    }
    for (const [server, count] of Object.entries(expected.counts)) {
      assert.ok(inRange(outcome.counts[server], count), `${label}: ${server} saw ${outcome.counts[server]}, expected ${count}`);
    }
    assert.ok(outcome.sentOk, `${label}: the request sent is not the one the case is about`);
  }
  assert.ok(!output.includes(authToken), 'the token appeared in the output');
  assert.ok(!output.includes(Buffer.from(`${accountSID}:${authToken}`).toString('base64')));
  assert.ok(!output.includes(apiKeySecret), 'the API key secret appeared in the output');
  assert.ok(!output.includes(Buffer.from(`${apiKeySID}:${apiKeySecret}`).toString('base64')));
  // Every leak path is tried with the API key too, and getUsage has its own cases.
  assert.ok(outcomes.filter((o) => o.name.includes('API key') || o.name.startsWith('key secret')).length >= 16);
  assert.ok(outcomes.filter((o) => o.name.startsWith('usage')).length >= 10);
});
