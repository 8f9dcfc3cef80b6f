// A main tarball without every Linux binary cannot be packed by accident: `npm pack` (and
// `npm publish`) of the package stop in `prepack`, and scripts/pack-release.mjs stops before
// packing anything. Checked on a temporary copy of the package whose binaries are ELF headers
// of the right machine, so this runs whatever has been built.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { linuxPlatforms } from '../scripts/require-linux-binaries.mjs';
import { runFile } from '../support/run-file.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'connector-twilio-sms-native-guard-'));
const ELF_MACHINE = { x64: 62, arm64: 183 };

after(() => rmSync(work, { recursive: true, force: true }));

const run = (file, args, cwd) => runFile(file, args, { cwd });

/** A copy of the package (manifest, lib, guard and release scripts) with the given binaries. */
function packageWith(name, binaries) {
  const dir = join(work, name);
  mkdirSync(join(dir, 'scripts'), { recursive: true });
  copyFileSync(join(root, 'package.json'), join(dir, 'package.json'));
  for (const script of ['require-linux-binaries.mjs', 'pack-release.mjs', 'targets.mjs']) {
    copyFileSync(join(root, 'scripts', script), join(dir, 'scripts', script));
  }
  // The target list is parsed with napi's own tooling, a dev dependency.
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  mkdirSync(join(dir, 'lib'));
  writeFileSync(join(dir, 'lib', 'index.js'), 'export default null;\n');
  for (const [platform, machine] of Object.entries(binaries)) {
    const header = Buffer.alloc(64);
    header.writeUInt32BE(0x7f454c46, 0); // \x7fELF
    header.writeUInt16LE(ELF_MACHINE[machine], 18);
    writeFileSync(join(dir, `${pkg.napi.binaryName}.${platform}.node`), header);
  }
  return dir;
}

const allFour = { 'linux-x64-gnu': 'x64', 'linux-x64-musl': 'x64', 'linux-arm64-gnu': 'arm64', 'linux-arm64-musl': 'arm64' };

test('the required binaries are the Linux targets of napi.targets', () => {
  assert.deepEqual(linuxPlatforms(pkg).sort(), Object.keys(allFour).sort());
  assert.equal(pkg.scripts.prepack, 'node scripts/require-linux-binaries.mjs');
});

test('npm pack goes ahead with all four Linux binaries', async () => {
  const dir = packageWith('complete', allFour);
  const packed = await run('npm', ['pack', '--dry-run', '--json'], dir);
  assert.equal(packed.status, 0, packed.stderr);
  const files = JSON.parse(packed.stdout)[0].files.map(({ path }) => path);
  for (const platform of Object.keys(allFour)) {
    assert.ok(files.includes(`${pkg.napi.binaryName}.${platform}.node`), platform);
  }
});

test('npm pack refuses without the musl binary, naming it and the command to run', async () => {
  const { 'linux-arm64-musl': _missing, ...three } = allFour;
  const dir = packageWith('no-arm64-musl', three);
  const packed = await run('npm', ['pack', '--dry-run'], dir);
  assert.notEqual(packed.status, 0);
  assert.match(packed.stderr, /Refusing to pack/);
  assert.match(packed.stderr, /connector-twilio-sms-native\.linux-arm64-musl\.node is missing/);
  assert.match(packed.stderr, /npm run build:release/);
  assert.doesNotMatch(packed.stderr, /linux-x64-musl\.node is missing/);
});

test('npm pack refuses a binary built for the wrong machine', async () => {
  const dir = packageWith('wrong-machine', { ...allFour, 'linux-arm64-gnu': 'x64' });
  const packed = await run('npm', ['pack', '--dry-run'], dir);
  assert.notEqual(packed.status, 0);
  assert.match(packed.stderr, /linux-arm64-gnu\.node is built for ELF machine 62, not 183/);
});

test('pack-release refuses before packing anything', async () => {
  const { 'linux-x64-musl': _missing, ...three } = allFour;
  const dir = packageWith('release-no-musl', three);
  const out = join(dir, 'dist');
  const packed = await run(process.execPath, [join(dir, 'scripts', 'pack-release.mjs'), out], dir);
  assert.notEqual(packed.status, 0);
  assert.match(packed.stderr, /linux-x64-musl\.node is missing/);
  assert.match(packed.stderr, /npm run build:release/);
  assert.deepEqual(
    readdirSync(dir).filter((entry) => entry === 'dist'),
    [],
    'no tarball, no output folder'
  );
});
