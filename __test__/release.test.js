// The release, as far as this machine can run it: package.json `napi.targets` is the one target
// list (the npm/ folders, the build script, the workflow matrices, the docs' table and the
// loader's error all follow it), every manifest carries one version, and the packed tarballs,
// installed into empty projects, send a code on every Linux target this machine can run
// (x64 glibc on this Node, x64 musl on the musl Node 22, arm64 glibc and musl under qemu-user).
// Outside CI a missing runtime skips with the reason; in CI it fails.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { NODE_VERSIONS, targets } from '../scripts/targets.mjs';
import { runFile } from '../support/run-file.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'connector-twilio-sms-native-release-'));
const dist = join(work, 'dist');
const workflow = readFileSync(join(root, '.github', 'workflows', 'release.yml'), 'utf8');
const script = (name) => join(root, 'scripts', name);

const run = (file, args, options = {}) => runFile(file, args, { cwd: root, ...options });

let packed;
before(async () => {
  const { status, stdout, stderr } = await run(process.execPath, [script('pack-release.mjs'), dist]);
  assert.equal(status, 0, stderr);
  packed = JSON.parse(stdout);
});
after(() => rmSync(work, { recursive: true, force: true }));

test('npm/ holds exactly what napi create-npm-dirs makes of package.json', () => {
  const copy = join(work, 'npm-dirs');
  cpSync(join(root, 'package.json'), join(copy, 'package.json'));
  execFileSync(join(root, 'node_modules', '.bin', 'napi'), ['create-npm-dirs', '--cwd', copy], { stdio: 'pipe' });
  const platforms = targets()
    .map(({ platform }) => platform)
    .sort();
  assert.deepEqual(readdirSync(join(root, 'npm')).sort(), platforms);
  assert.deepEqual(readdirSync(join(copy, 'npm')).sort(), platforms);
  for (const platform of platforms) {
    const manifest = (dir) => JSON.parse(readFileSync(join(dir, 'npm', platform, 'package.json'), 'utf8'));
    assert.deepEqual(manifest(root), manifest(copy), `npm/${platform}/package.json differs from napi's; run node scripts/version.mjs set ${pkg.version}`);
  }
});

test('the build script, the workflow, the platforms table and the loader follow napi.targets', () => {
  const list = targets();
  // build-release.sh builds the Linux targets by default and names binaries by napi's parsing.
  const linux = execFileSync(process.execPath, [script('targets.mjs'), 'linux'], { encoding: 'utf8' })
    .trim()
    .split('\n');
  assert.deepEqual(
    linux,
    list.filter(({ os }) => os === 'linux').map(({ triple }) => triple)
  );
  assert.match(readFileSync(script('build-release.sh'), 'utf8'), /node scripts\/targets\.mjs platform "\$target"/);
  // The workflow's matrices are computed from the list, never written out.
  for (const { triple, platform } of list) {
    assert.ok(!workflow.includes(triple) && !workflow.includes(platform), `release.yml names ${platform}; it must take targets from scripts/targets.mjs`);
  }
  assert.match(workflow, /node scripts\/targets\.mjs matrix build/);
  assert.match(workflow, /node scripts\/targets\.mjs matrix verify/);
  const verify = JSON.parse(execFileSync(process.execPath, [script('targets.mjs'), 'matrix', 'verify'], { encoding: 'utf8' }));
  assert.equal(verify.include.length, list.length * NODE_VERSIONS.length);
  // The table of supported platforms (docs/platforms.md) lists exactly these, in order.
  const readme = readFileSync(join(root, 'docs', 'platforms.md'), 'utf8');
  const table = readme.slice(readme.indexOf('## Supported platforms'));
  const rows = [...table.matchAll(/^\| ([\w-]+) \| ([\w-]+) \|/gm)].map((m) => [m[1], m[2]]).filter(([name]) => name !== 'platform');
  assert.deepEqual(
    rows.slice(0, list.length),
    list.map(({ platform, triple }) => [platform, triple])
  );
});

test('one version everywhere: set stamps every manifest, check names the one that differs', () => {
  const copy = join(work, 'versions');
  for (const entry of ['package.json', 'Cargo.toml', 'Cargo.lock', 'index.js', 'npm']) {
    cpSync(join(root, entry), join(copy, entry), { recursive: true });
  }
  execFileSync(process.execPath, [script('version.mjs'), 'check', `v${pkg.version}`], { stdio: 'pipe' });
  execFileSync(process.execPath, [script('version.mjs'), 'set', '7.8.9', '--root', copy], { stdio: 'pipe' });
  execFileSync(process.execPath, [script('version.mjs'), 'check', 'v7.8.9', '--root', copy], { stdio: 'pipe' });
  assert.match(readFileSync(join(copy, 'index.js'), 'utf8'), /bindingPackageVersion !== '7\.8\.9'/);
  assert.match(readFileSync(join(copy, 'Cargo.toml'), 'utf8'), /^version = "7\.8\.9"$/m);
  const stray = join(copy, 'npm', 'linux-x64-musl', 'package.json');
  writeFileSync(stray, readFileSync(stray, 'utf8').replace('"7.8.9"', '"7.8.8"'));
  const { status, stderr } = (() => {
    try {
      execFileSync(process.execPath, [script('version.mjs'), 'check', 'v7.8.9', '--root', copy], { stdio: 'pipe' });
      return { status: 0, stderr: '' };
    } catch (error) {
      return { status: error.status, stderr: String(error.stderr) };
    }
  })();
  assert.equal(status, 1);
  assert.match(stderr, /npm\/linux-x64-musl\/package\.json has 7\.8\.8/);
  execFileSync(process.execPath, [script('version.mjs'), 'repository', 'git+https://github.com/acme/connector.git', '--root', copy], { stdio: 'pipe' });
  for (const platform of readdirSync(join(copy, 'npm'))) {
    assert.equal(JSON.parse(readFileSync(join(copy, 'npm', platform, 'package.json'), 'utf8')).repository.url, 'git+https://github.com/acme/connector.git');
  }
});

test('every tarball ships the license and the main one carries every Linux binary', () => {
  for (const tarball of [packed.main, ...packed.platforms]) {
    const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
    assert.ok(listing.includes('package/LICENSE'), `${tarball} has no LICENSE`);
  }
  const listing = execFileSync('tar', ['-tzf', packed.main], { encoding: 'utf8' });
  for (const { binary } of targets().filter(({ os }) => os === 'linux')) {
    assert.ok(listing.includes(`package/${binary}`), binary);
  }
});

// The dry run: what the release workflow's verify job does on each platform, for the ones
// this machine runs. Each installs the packed main and platform tarballs into an empty project.
const runtimes = [
  { platform: 'linux-x64-gnu', node: () => process.execPath },
  { platform: 'linux-x64-musl', wrap: [script('node-runtime.sh'), 'node22-musl'] },
  { platform: 'linux-arm64-gnu', node: () => execFileSync(script('arm64-node.sh'), { encoding: 'utf8' }).trim().split('\n').at(-1) },
  { platform: 'linux-arm64-musl', node: () => execFileSync(script('node-runtime.sh'), ['node22-musl-arm64', '--path'], { encoding: 'utf8' }).trim() },
];
const unavailable =
  process.platform !== 'linux' || process.arch !== 'x64'
    ? 'needs a linux-x64 host'
    : process.getuid?.() !== 0
      ? 'needs root for the musl and arm64 runtimes'
      : false;

for (const { platform, node, wrap } of runtimes) {
  test(
    `dry run: the packed ${platform} release installs into an empty project and sends a code`,
    { skip: !process.env.CI && unavailable, timeout: 600_000 },
    async () => {
      assert.equal(unavailable, false, `cannot run: ${unavailable}`);
      const smoke = [script('smoke-install.mjs'), dist, platform];
      const { status, stdout, stderr } = wrap
        ? await run(wrap[0], [...wrap.slice(1), 'node', ...smoke])
        : node() === process.execPath
          ? await run(process.execPath, smoke)
          : await run(process.execPath, [...smoke, '--node', node()]);
      assert.equal(status, 0, `${stdout}\n${stderr}`);
      assert.match(stdout, new RegExp(`smoke-install: ${platform} on Node v\\d+.*sent a code, loaded connector-twilio-sms-native\\.${platform}\\.node`));
    }
  );
}
