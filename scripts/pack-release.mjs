#!/usr/bin/env node
// Packs what a release publishes, into a folder of tarballs:
// - one package per target under npm/<platform>/ whose binary was built;
// - the main package, self-contained (every built binary inside, for `logto connector add`,
//   which extracts the tarball without installing dependencies) and listing the per-target
//   packages as optionalDependencies (for a plain `npm install`).
// The optionalDependencies are added here, not in the repo's package.json, because npm ci
// refuses a lock file that lacks packages that are not on the registry yet.
//
//   node scripts/pack-release.mjs [out-dir]      (default: dist/)
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { requireLinuxBinaries } from './require-linux-binaries.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
// The staged main package has no scripts, so the repo's `prepack` guard would not run there.
requireLinuxBinaries(root);
const out = resolve(process.argv[2] ?? join(root, 'dist'));
mkdirSync(out, { recursive: true });

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pack = (dir) => {
  const [{ filename }] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: dir, encoding: 'utf8' }));
  return join(out, filename);
};

const platforms = readdirSync(join(root, 'npm'));
const built = platforms.filter((platform) => existsSync(join(root, 'npm', platform, `${pkg.napi.binaryName}.${platform}.node`)));
// Every tarball carries the license; npm packs a LICENSE file whatever `files` says.
const tarballs = built.map((platform) => {
  cpSync(join(root, 'LICENSE'), join(root, 'npm', platform, 'LICENSE'));
  return pack(join(root, 'npm', platform));
});

// The main package, staged so that the repo's package.json stays untouched.
const stage = join(out, '.stage');
rmSync(stage, { recursive: true, force: true });
mkdirSync(stage);
const { devDependencies, scripts, ...published } = pkg;
published.optionalDependencies = Object.fromEntries(platforms.map((platform) => [`${pkg.name}-${platform}`, pkg.version]));
writeFileSync(join(stage, 'package.json'), `${JSON.stringify(published, null, 2)}\n`);
for (const entry of readdirSync(root)) {
  const wanted =
    ['index.js', 'index.d.ts', 'lib', 'docs', 'logo.svg', 'README.md', 'LICENSE'].includes(entry) ||
    (entry.endsWith('.node') && built.some((platform) => entry === `${pkg.napi.binaryName}.${platform}.node`));
  if (wanted) {
    cpSync(join(root, entry), join(stage, entry), { recursive: true });
  }
}
const main = pack(stage);
rmSync(stage, { recursive: true, force: true });

console.log(JSON.stringify({ main, platforms: tarballs, binaries: built }, null, 2));
