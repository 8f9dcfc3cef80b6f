// A config key lives in several places: the rules that read it (src/config/), the keys the
// bindings serialize (`js_json::KNOWN_KEYS`, src/js_json.rs), the typings (index.d.ts, generated
// from src/bindings/shapes.rs) and the Console form (the Logto module's `formItems`). A key missing from one of them is dropped or never offered without an
// error anywhere, so this test holds them to the same list.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Every .rs file under `dir`, with its unit tests cut off (they name keys of their own). */
const rustSources = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return rustSources(path);
    if (!name.endsWith('.rs')) return [];
    return [readFileSync(path, 'utf8').split('#[cfg(test)]')[0]];
  });

const sorted = (keys) => [...new Set(keys)].sort();

/**
 * The keys the config rules read, split by where: the config object's own (`object`) and a
 * template's (`fields`, `field(…)`).
 */
const rulesKeys = () => {
  const text = rustSources(join(root, 'src/config')).join('\n');
  const keys = (pattern) => sorted([...text.matchAll(pattern)].map((match) => match[1]));
  return {
    config: keys(/(?:\(\s*object,\s*|\bobject\.get\()"([A-Za-z]+)"/g),
    template: keys(/(?:\(\s*fields,\s*|\bfields\.get\(|\bfield\()"([A-Za-z]+)"/g),
  };
};

const knownKeys = () => {
  const text = readFileSync(join(root, 'src/js_json.rs'), 'utf8');
  const list = text.match(/pub const KNOWN_KEYS: &\[&str\] = &\[([^\]]*)\];/);
  assert.ok(list, 'KNOWN_KEYS not found in src/js_json.rs');
  return sorted([...list[1].matchAll(/"([^"]+)"/g)].map((match) => match[1]));
};

/** The member names of an interface of index.d.ts. */
const typedKeys = (name) => {
  const text = readFileSync(join(root, 'index.d.ts'), 'utf8');
  const start = text.indexOf(`export interface ${name} {`);
  assert.ok(start >= 0, `index.d.ts has no interface ${name}`);
  const body = text.slice(start, text.indexOf('\n}', start));
  return sorted([...body.matchAll(/^  (\w+)\??:/gm)].map((match) => match[1]));
};

test('the config keys agree: the rules, the keys the bindings pass on, the typings, the Console form', async () => {
  const rules = rulesKeys();
  // A pattern that no longer matches how the rules read keys must fail here, not pass empty.
  assert.ok(rules.config.length >= 10, `rules read ${rules.config}`);
  assert.deepEqual(rules.template, ['content', 'locale', 'usageType']);

  assert.deepEqual(knownKeys(), sorted([...rules.config, ...rules.template]));

  assert.deepEqual(typedKeys('TwilioSmsConfig'), rules.config);
  assert.deepEqual(typedKeys('SmsTemplate'), rules.template);

  const { default: createConnector } = await import('../lib/index.js');
  const { metadata } = await createConnector({ getConfig: async () => ({}) });
  assert.deepEqual(sorted(metadata.formItems.map((item) => item.key)), rules.config);
});
