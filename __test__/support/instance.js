// A Logto-instance-shaped folder with this package packed and extracted into
// packages/core/connectors/<name>, the way `logto connector add` leaves it (no node_modules of
// its own). It lives inside the repo so imports resolve through an ancestor's node_modules,
// as in Logto's tree, where core's node_modules hold connector-kit and zod.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
export const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** Packs and extracts; returns the folders and a `remove()` for `after`. */
export function makeInstance(label) {
  const workDir = join(root, '.tmp', `${label}-${process.pid}`);
  const coreDir = join(workDir, 'packages', 'core');
  const connectorDir = join(coreDir, 'connectors', pkg.name);
  mkdirSync(connectorDir, { recursive: true });
  // --ignore-scripts: `prepack` wants every Linux binary in a tarball that ships; this one
  // never does, and carries what was built here (pack-guard.test.js tests the guard).
  const [{ filename }] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', workDir], {
      cwd: root,
      encoding: 'utf8',
      shell: process.platform === 'win32', // npm is npm.cmd there
    })
  );
  execFileSync('tar', ['-xzf', join(workDir, filename), '-C', connectorDir, '--strip-components=1']);
  return { workDir, coreDir, connectorDir, remove: () => rmSync(workDir, { recursive: true, force: true }) };
}
