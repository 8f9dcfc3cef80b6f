// The config guard Logto calls (`configGuard.safeParse`), backed by the native validator, and
// the zod error its issues travel in.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { validateConfig } from './native.js';

/**
 * zod's `ZodError`, the class Logto core checks with `instanceof` before it shows an
 * `invalid_config` error's key paths to the admin (core's RequestError `details`). It must be
 * the module instance core has: the `zod` an import from this folder resolves to (in Logto,
 * core's own node_modules, as for connector-kit), else the one connector-kit depends on.
 * `null` only when neither exists; the issues then travel in a look-alike.
 */
const loadZodError = async () => {
  try {
    return (await import('zod')).ZodError;
  } catch {
    // Not reachable from this folder (e.g. a strict pnpm tree): try connector-kit's.
  }
  try {
    const kit = import.meta.resolve('@logto/connector-kit');
    const manifest = createRequire(kit).resolve('zod/package.json');
    const { exports } = JSON.parse(readFileSync(manifest, 'utf8'));
    // The ESM entry, as an `import` gets it: zod's CommonJS build has another ZodError class.
    const entry = exports?.['.']?.import?.default ?? exports?.['.']?.import;
    return (await import(pathToFileURL(join(dirname(manifest), entry)).href)).ZodError;
  } catch {
    return null;
  }
};
const ZodError = await loadZodError();

/** Without zod: the same `name`, `issues` and `message` as a ZodError. */
class ConfigError extends Error {
  constructor(issues) {
    super(JSON.stringify(issues, null, 2));
    this.name = 'ZodError';
    this.issues = issues;
  }

  get errors() {
    return this.issues;
  }
}

/** The native validator's issues (zod's shape: code, path, message, expected/received). */
export const toConfigError = (issues) => (ZodError ? new ZodError(issues) : new ConfigError(issues));

/** zod-compatible guard backed by the native validator (Logto calls `safeParse`). */
export const configGuard = Object.freeze({
  safeParse(config) {
    const { success, message, issues } = validateConfig(config);
    return success ? { success, data: config } : { success, error: toConfigError(issues ?? [{ code: 'custom', path: [], message }]) };
  },
  parse(config) {
    const result = configGuard.safeParse(config);
    if (!result.success) {
      throw result.error;
    }
    return result.data;
  },
});
