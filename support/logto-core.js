// The real Logto core, run on this machine without Docker, for the tests that need Logto
// itself rather than its connector loader:
//
//   const core = await prepareLogtoCore();                 // once per machine (cached)
//   const pg = await startPostgres();                       // a throwaway Postgres
//   await seedDatabase(core, pg);                           // the real `logto db seed`
//   const instance = createInstance(core, dir);             // an instance folder like /etc/logto
//   await addConnector(instance, packConnector(dir));       // the real `logto connector add`
//   const logto = await startCore(instance, { databaseUrl: pg.databaseUrl });
//   const token = await managementToken(logto, pg);         // an M2M token for the Management API
//   const user = await startInteraction(logto, 'Register'); // an end user on the Experience API
//   await logto.stop(); await pg.stop();
//
// Why each piece is the way it is:
// - Core is Logto's own source at one commit (LOGTO_COMMIT), from the snapshot in
//   ../shared/logto/ when it is there, else cloned from Logto's repository at that commit. It
//   lives in a pnpm monorepo whose workspace packages are published on npm; outside it, core's
//   dependencies are installed with npm at the versions of that commit (WORKSPACE_VERSIONS), and
//   Logto's oidc-provider fork (a GitHub tarball no registry has) is replaced by the upstream
//   release it is based on. The UI packages (console, experience, ...) are static files core
//   serves and never imports, so they are left out: their pages answer 404, the APIs are whole.
// - Core's native dependencies have one build per libc, so the cache is per platform, arch and
//   libc: the musl Node 22 (Logto's image is node:22-alpine) gets musl builds, the glibc Node
//   glibc ones.
// - Every command is the real one: core's own build tool (tsup), `logto db seed`, `logto
//   connector add|link|remove` from the @logto/cli that core depends on, core started the way
//   the image starts it (`NODE_ENV=production node .` in packages/core).
// - Postgres is Debian's (already on the developers' machines and CI's; installed with apt-get
//   when missing and we are root), started on 127.0.0.1 on a free port with a temporary data
//   folder and stopped afterwards. It refuses to run as root, so as root it runs as the
//   `postgres` user the Debian package creates.
// - A missing prerequisite throws an error that says what is missing: never a silent skip.
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  openSync,
  closeSync,
  createWriteStream,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash, randomBytes } from 'node:crypto';

import { withLockDir } from './lock-dir.js';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

/** The Logto commit core is built from (1.43.0 release candidate, as `@logto/cli` 1.43.0 seeds). */
export const LOGTO_COMMIT = '1fbc55441fd28d9e3e7d69c1522e7654dccfe99c';
export const LOGTO_REPOSITORY = 'https://github.com/logto-io/logto.git';
const SNAPSHOT_NAME = `logto-src-${LOGTO_COMMIT.slice(0, 8)}.tgz`;
/**
 * The snapshot is in shared/logto/ beside the repository (CI's clone and the main checkout)
 * or two levels up (a git worktree under wt/); LOGTO_SOURCE_SNAPSHOT names another file.
 */
const snapshotPath = () =>
  [process.env.LOGTO_SOURCE_SNAPSHOT, join(root, '..', 'shared', 'logto', SNAPSHOT_NAME), join(root, '..', '..', 'shared', 'logto', SNAPSHOT_NAME)].find(
    (candidate) => candidate && existsSync(candidate)
  );

/** Core's `workspace:` dependencies, at the versions published for that commit. */
export const WORKSPACE_VERSIONS = Object.freeze({
  '@logto/app-insights': '2.1.0',
  '@logto/cli': '1.43.0',
  '@logto/connector-kit': '5.1.1',
  '@logto/core-kit': '2.13.0',
  '@logto/language-kit': '1.4.0',
  '@logto/phrases': '1.31.0',
  '@logto/phrases-experience': '1.15.0',
  '@logto/schemas': '1.43.0',
  '@logto/shared': '3.4.3',
});
/** Upstream release Logto's fork is based on. */
const OIDC_PROVIDER_VERSION = '9.11.3';
/** Static UI packages core serves but never imports. */
const UI_PACKAGES = new Set(['@logto/account', '@logto/console', '@logto/demo-app', '@logto/device-demo-app', '@logto/experience']);
/** Core's build tool, at the major its package.json names. */
const TSUP_VERSION = '8.5.1';

/** The connector id both Twilio SMS connectors (official and ours) declare. */
export const TWILIO_CONNECTOR_ID = 'twilio-short-message-service';
/** The Management API of the default tenant (what an M2M token is requested for). */
export const MANAGEMENT_API_RESOURCE = 'https://default.logto.app/api';

const fail = (message) => {
  throw new Error(`logto-core: ${message}`);
};

/** Runs a command to completion; throws with its output when it fails. */
export const run = (command, args, options = {}) =>
  new Promise((resolve, reject) => {
    execFile(command, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`logto-core: \`${[command, ...args].join(' ')}\` failed (${error.code ?? error.signal}):\n${stdout}\n${stderr}`));
      } else {
        resolve({ stdout, stderr });
      }
    });
  });

/** Version and libc of a Node executable (the musl Node 22 reports no glibc version). */
export function nodeInfo(node = process.execPath) {
  if (node === process.execPath) {
    return { version: process.versions.node, libc: process.report.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl' };
  }
  const probe = spawnSync(node, ['-p', 'JSON.stringify([process.versions.node, !!process.report.getReport().header.glibcVersionRuntime])'], {
    encoding: 'utf8',
  });
  if (probe.status !== 0) fail(`${node} does not run: ${probe.stderr}`);
  const [version, glibc] = JSON.parse(probe.stdout);
  return { version, libc: glibc ? 'glibc' : 'musl' };
}

/** The libc of the Node running this process (or of `node`). */
export const libcOf = (node) => nodeInfo(node).libc;

const isCoreNode = (version) => {
  const [major, minor] = version.split('.').map(Number);
  return major === 22 && minor >= 14;
};

/** Core requires Node ^22.14; fail with that message rather than core's later crash. */
export function assertCoreNode(node = process.execPath) {
  const { version } = nodeInfo(node);
  if (!isCoreNode(version)) {
    fail(`Logto core needs Node ^22.14 (its package.json engines); ${node} is Node ${version}. Run under scripts/node-runtime.sh node22-gnu or node22-musl.`);
  }
}

/**
 * A Node that can run core: this process's when it is Node ^22.14, else the node22-gnu
 * runtime of scripts/node-runtime.sh (set up on first use), so a test on the system Node 20
 * still runs the real core rather than skipping it.
 */
export function coreNode() {
  if (isCoreNode(process.versions.node)) return process.execPath;
  const found = spawnSync(join(root, 'scripts', 'node-runtime.sh'), ['node22-gnu', '--path'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (found.status !== 0) fail('this Node cannot run core (it needs ^22.14) and scripts/node-runtime.sh node22-gnu could not provide one');
  return found.stdout.trim();
}

/** An environment for child processes without node --test's hooks. */
export const childEnv = (extra = {}) => {
  const env = { ...process.env, ...extra };
  delete env.NODE_OPTIONS;
  delete env.NODE_TEST_CONTEXT;
  return env;
};

/**
 * Logto core built once per machine and libc under .runtimes/ (gitignored), for the Node
 * `node` (default: this process's; it must be ^22.14). Returns
 * `{ dir, coreDir, cli, nodeModules, libc, node }`: `dir` holds packages/core (built) and
 * node_modules. Concurrent callers on one machine wait for each other (a lock folder).
 */
export async function prepareLogtoCore({ node = process.execPath, libc = libcOf(node) } = {}) {
  assertCoreNode(node);
  const dir = join(root, '.runtimes', `logto-core-${LOGTO_COMMIT.slice(0, 8)}-${process.platform}-${process.arch}-${libc}`);
  const ready = join(dir, '.ready');
  const prepared = () => preparedAt(dir, { libc, node });
  if (existsSync(ready)) return prepared();
  mkdirSync(dirname(dir), { recursive: true });
  // One preparation per folder; a lock whose owner is gone (a run killed half-way) is taken
  // over, and the stages resume.
  await withLockDir(
    `${dir}.lock`,
    async () => {
      if (existsSync(ready)) return;
      // Each finished stage leaves a marker, so a run stopped half-way resumes where it stopped.
      const stage = async (name, work) => {
        const marker = join(dir, `.${name}`);
        if (existsSync(marker)) return;
        await work();
        writeFileSync(marker, '');
      };
      if (!existsSync(join(dir, '.source'))) {
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
      }
      await stage('source', () => fetchSource(dir));
      await stage('dependencies', () => installDependencies(dir, libc));
      await buildCore(dir, node);
      writeFileSync(ready, `${LOGTO_COMMIT}\n`);
    },
    // A clean machine downloads and builds for several minutes; only a live owner is waited for.
    { staleMs: 3 * 3600_000, timeoutMs: 3600_000, timeoutMessage: `logto-core: ${dir}.lock held for an hour` }
  );
  return prepared();
}

/** A prepared core's layout in `dir` (prepareLogtoCore's result), for `libc` and `node`. */
const preparedAt = (dir, { libc, node }) => ({
  dir,
  coreDir: join(dir, 'packages', 'core'),
  cli: join(dir, 'node_modules', '@logto', 'cli', 'bin', 'logto.js'),
  nodeModules: join(dir, 'node_modules'),
  libc,
  node,
});

/**
 * The prepared core `prepared` with deploy/json-guard-fix.mjs applied (connector-kit's
 * jsonGuard builds its union once), in a copy beside it (made once, then cached; the tests'
 * core stays as Logto ships it). Same shape as prepareLogtoCore's result.
 */
export async function withJsonGuardFix(prepared) {
  const dir = `${prepared.dir}-json-guard-fix`;
  const ready = join(dir, '.ready');
  const variant = preparedAt(dir, prepared);
  // The copy is of one preparation of the core: a core prepared again is copied again.
  const of = `${statSync(join(prepared.dir, '.ready')).mtimeMs}\n`;
  const isCurrent = () => existsSync(ready) && readFileSync(ready, 'utf8') === of;
  if (isCurrent()) return variant;
  await withLockDir(
    `${dir}.lock`,
    async () => {
      if (isCurrent()) return;
      rmSync(dir, { recursive: true, force: true });
      // Hard links, not copies (400 MiB): the fix writes a new file and renames it over the
      // link, and core's start-up replaces the alteration scripts it refills, so the prepared
      // core's files are never written through the copy.
      execFileSync('cp', ['-al', prepared.dir, dir]);
      rmSync(ready);
      rmSync(join(dir, '.compile-cache'), { recursive: true, force: true });
      // A lock held in the prepared core when it was copied is not the copy's.
      rmSync(join(dirname(variant.cli), '.seed-lock'), { recursive: true, force: true });
      const { fixJsonGuard } = await import('../deploy/json-guard-fix.mjs');
      const { fixed, already } = fixJsonGuard(dir);
      if (fixed.length + already.length === 0) fail(`json-guard-fix changed no connector-kit in ${dir}`);
      writeFileSync(ready, of);
    },
    { staleMs: 600_000, timeoutMs: 600_000, timeoutMessage: `logto-core: ${dir}.lock held for too long` }
  );
  return variant;
}

/** Logto's source at LOGTO_COMMIT: the snapshot when present, else a clone. */
async function fetchSource(dir) {
  const snapshot = snapshotPath();
  if (snapshot) {
    await run('tar', ['-xzf', snapshot, '-C', dir, '--strip-components=1']);
  } else {
    // Not exercised on the developers' machines (they have the snapshot, and only the package
    // registries are reachable there); kept so a machine without the snapshot builds the same
    // commit from Logto's repository.
    const clone = join(dir, '.clone');
    await run('git', ['init', '-q', clone]).catch(() => fail(`git is needed to clone Logto (no snapshot ${SNAPSHOT_NAME} in ../shared/logto)`));
    await run('git', ['-C', clone, 'fetch', '-q', '--depth=1', LOGTO_REPOSITORY, LOGTO_COMMIT]).catch((error) =>
      fail(`no Logto snapshot ${SNAPSHOT_NAME} in ../shared/logto and git could not fetch ${LOGTO_COMMIT} from ${LOGTO_REPOSITORY}: ${error.message}`)
    );
    await run('git', ['-C', clone, 'checkout', '-q', 'FETCH_HEAD']);
    mkdirSync(join(dir, 'packages'), { recursive: true });
    for (const path of ['packages/core', 'packages/integration-tests', 'LICENSE', 'tsup.shared.config.ts', 'Dockerfile']) {
      if (existsSync(join(clone, path))) cpSync(join(clone, path), join(dir, path), { recursive: true });
    }
    rmSync(clone, { recursive: true, force: true });
  }
  if (!existsSync(join(dir, 'packages', 'core', 'package.json'))) fail(`Logto's source in ${dir} has no packages/core`);
}

/**
 * Core's dependencies at the root of the instance (as in the image, where one root
 * node_modules serves core, the CLI and the linked connectors).
 */
async function installDependencies(dir, libc) {
  const core = JSON.parse(readFileSync(join(dir, 'packages', 'core', 'package.json'), 'utf8'));
  const dependencies = {};
  for (const [name, range] of Object.entries(core.dependencies)) {
    if (UI_PACKAGES.has(name)) continue;
    if (name === 'oidc-provider') dependencies[name] = OIDC_PROVIDER_VERSION;
    else if (range.startsWith('workspace:')) dependencies[name] = WORKSPACE_VERSIONS[name] ?? fail(`no published version known for ${name}`);
    else dependencies[name] = range;
  }
  // Core's build tool and the tsconfig its tsconfig.json extends (both core devDependencies).
  dependencies.tsup = TSUP_VERSION;
  dependencies['@silverhand/ts-config'] = core.devDependencies['@silverhand/ts-config'];
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'logto-core-harness', private: true, type: 'module', dependencies }, null, 2));
  // The lockfile pins what was resolved the day this harness was written; npm ci installs it
  // exactly. --libc/--os/--cpu choose the optional native builds for the Node that will run.
  const lock = join(root, 'support', 'logto-core.lock.json');
  const hasLock = existsSync(lock);
  if (hasLock) cpSync(lock, join(dir, 'package-lock.json'));
  await run(
    'npm',
    [
      hasLock ? 'ci' : 'install',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      '--ignore-scripts=false',
      `--libc=${libc}`,
      `--os=${process.platform}`,
      `--cpu=${process.arch}`,
    ],
    { cwd: dir, env: childEnv({ npm_config_update_notifier: 'false' }) }
  ).catch((error) => fail(`npm could not install Logto core's dependencies from the npm registry:\n${error.message}`));
}

/** Core's own build: tsup over esbuild, with core's entries, plus its OpenAPI documents. */
async function buildCore(dir, node) {
  const coreDir = join(dir, 'packages', 'core');
  // tsup.config.ts runs `pnpm run copy:apidocs` on success; pnpm is not here, so the same
  // entries and options are given on the command line and the copy is done below.
  await run(
    node,
    [
      join(dir, 'node_modules', 'tsup', 'dist', 'cli-default.js'),
      'src/index.ts',
      'src/workers/tasks/**/*.ts',
      '--no-config',
      '--format',
      'esm',
      '--sourcemap',
      '--clean',
      '--out-dir',
      'build',
    ],
    { cwd: coreDir, env: childEnv() }
  );
  cpSync(join(coreDir, 'src', 'routes'), join(coreDir, 'build', 'routes'), {
    recursive: true,
    filter: (source) => !source.endsWith('.ts') && !source.endsWith('.tsx'),
  });
  if (!existsSync(join(coreDir, 'build', 'index.js'))) fail('tsup did not produce packages/core/build/index.js');
}

/**
 * A Logto instance folder laid out like the image's /etc/logto: packages/core (package.json,
 * build, static), packages/cli and node_modules linked to the prepared core, an empty
 * packages/core/connectors. Cheap (copies a few MB), so each test can have its own.
 */
export function createInstance(prepared, dir = mkdtempSync(join(tmpdir(), 'logto-instance-'))) {
  const core = join(dir, 'packages', 'core');
  mkdirSync(join(core, 'connectors'), { recursive: true });
  for (const entry of ['package.json', 'build', 'static']) {
    cpSync(join(prepared.coreDir, entry), join(core, entry), { recursive: true });
  }
  symlinkSync(prepared.nodeModules, join(dir, 'node_modules'));
  symlinkSync(dirname(dirname(prepared.cli)), join(dir, 'packages', 'cli'));
  return { dir, coreDir: core, connectorsDir: join(core, 'connectors'), cli: prepared.cli, prepared };
}

/** `logto <args>` with the CLI core depends on, on this process's Node. */
export const logtoCli = (cliOrInstance, args, options = {}) =>
  run(process.execPath, [typeof cliOrInstance === 'string' ? cliOrInstance : cliOrInstance.cli, ...args], {
    ...options,
    env: childEnv({ npm_config_offline: 'true', npm_config_update_notifier: 'false', ...options.env }),
  });

/**
 * This checkout packed by `npm pack` into `dir` (with the binaries built here): the tarball
 * `connector add` takes. npm names it connector-twilio-sms-native-<version>.tgz, which starts
 * with `connector-`, as `connector add` requires. Returns its absolute path.
 */
export function packConnector(dir) {
  const [{ filename }] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: root, encoding: 'utf8', env: childEnv() })
  );
  return join(dir, filename);
}

/**
 * `logto connector add <absolute tarball path>`. The CLI runs `npm pack <path>` in the
 * connectors folder and prepends `connector-` to a name that lacks it, so a path must be
 * absolute and its file name must start with `connector-`; it exits 0 even when the add
 * failed, so the folder it makes is checked here.
 */
export async function addConnector(instance, tarball) {
  if (!isAbsolute(tarball)) fail(`connector add needs an absolute tarball path (the CLI runs npm pack in another folder): ${tarball}`);
  if (!basename(tarball).startsWith('connector-')) {
    fail(`connector add needs a tarball file name starting with "connector-" (the CLI prepends it otherwise and the add fails): ${tarball}`);
  }
  const before = new Set(readdirSync(instance.connectorsDir));
  const result = await logtoCli(instance, ['connector', 'add', tarball, '-p', instance.dir], { cwd: instance.dir });
  const added = readdirSync(instance.connectorsDir).filter((name) => !before.has(name) || name === packageNameOf(tarball));
  const name = added.find((entry) => existsSync(join(instance.connectorsDir, entry, 'package.json')));
  if (!name) fail(`connector add ${tarball} made no connector folder in ${instance.connectorsDir}:\n${result.stdout}\n${result.stderr}`);
  return join(instance.connectorsDir, name);
}

const packageNameOf = (tarball) => {
  const listing = spawnSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' });
  return listing.status === 0 ? JSON.parse(listing.stdout).name.replaceAll('/', '-') : undefined;
};

/**
 * The official connector as the image has it: its package in packages/connectors and linked by
 * the real `logto connector link` (the image's Dockerfile runs `pnpm cli connector link -p .`).
 */
export async function linkOfficialConnector(instance, packageDir = join(root, 'node_modules', '@logto', 'connector-twilio-sms')) {
  if (!existsSync(join(packageDir, 'package.json'))) fail(`the official connector is not installed at ${packageDir} (npm install in the repo)`);
  const target = join(instance.dir, 'packages', 'connectors', 'connector-twilio-sms');
  rmSync(target, { recursive: true, force: true });
  cpSync(packageDir, target, { recursive: true, dereference: true });
  await logtoCli(instance, ['connector', 'link', '-p', instance.dir], { cwd: instance.dir });
  const link = join(instance.connectorsDir, '@logto-connector-twilio-sms');
  if (!existsSync(join(link, 'package.json'))) fail(`connector link made no ${link}`);
  return link;
}

/** `logto connector remove <package name>` (as README's "Install into Logto" says). */
export async function removeConnector(instance, packageName) {
  const result = await logtoCli(instance, ['connector', 'remove', packageName, '-p', instance.dir], { cwd: instance.dir });
  return result;
}

/** The connector folders of an instance, sorted. */
export const connectorsOf = (instance) => readdirSync(instance.connectorsDir).sort();

export const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** Debian's Postgres binaries (newest major), installed with apt-get when missing and root. */
export async function postgresBinaries() {
  const find = () => {
    const base = '/usr/lib/postgresql';
    if (!existsSync(base)) return undefined;
    const majors = readdirSync(base)
      .filter((major) => existsSync(join(base, major, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    return majors.length ? join(base, majors[0], 'bin') : undefined;
  };
  let bin = find();
  if (!bin && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    const env = childEnv({ DEBIAN_FRONTEND: 'noninteractive' });
    // One apt-get at a time on this machine (test files install side by side), retried.
    const aptGet = join(root, 'scripts', 'with-apt-lock.sh');
    await run(aptGet, ['apt-get', 'update', '-qq'], { env });
    await run(aptGet, ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', 'postgresql'], { env });
    bin = find();
  }
  if (!bin) fail("Postgres is missing: install Debian's postgresql package (apt-get install postgresql; this test does it itself when run as root)");
  return bin;
}

/**
 * A throwaway Postgres on 127.0.0.1 (free port, temporary data folder, no fsync: nothing here
 * outlives the test). Returns `{ port, url(db), databaseUrl, psql(sql), stop() }`.
 */
export async function startPostgres({ database = 'logto' } = {}) {
  const bin = await postgresBinaries();
  const dataDir = mkdtempSync(join(tmpdir(), 'logto-pg-'));
  const asRoot = process.getuid?.() === 0;
  let ids = {};
  if (asRoot) {
    const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    if (uid.status !== 0) fail("running as root, Postgres needs the `postgres` user (Debian's postgresql package creates it)");
    ids = { uid: Number(uid.stdout), gid: Number(gid.stdout) };
    chownSync(dataDir, ids.uid, ids.gid);
    chmodSync(dataDir, 0o700);
  }
  const asPostgres = { ...ids, env: childEnv({ LC_ALL: 'C' }), cwd: dataDir };
  await run(join(bin, 'initdb'), ['-D', join(dataDir, 'data'), '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '-N'], asPostgres);
  const port = await freePort();
  const logPath = join(dataDir, 'postgres.log');
  const logFd = openSync(logPath, 'a');
  if (asRoot) chownSync(logPath, ids.uid, ids.gid);
  const child = spawn(
    join(bin, 'postgres'),
    [
      '-D',
      join(dataDir, 'data'),
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-k',
      dataDir,
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
    ],
    { ...asPostgres, stdio: ['ignore', logFd, logFd] }
  );
  closeSync(logFd);
  let exited = false;
  // A test process that ends without stop() (a failed hook, an uncaught error) takes its
  // Postgres with it (SIGQUIT: immediate shutdown).
  const onExit = () => child.kill('SIGQUIT');
  process.once('exit', onExit);
  child.on('exit', () => {
    exited = true;
    process.off('exit', onExit);
  });
  const url = (db = database) => `postgres://postgres@127.0.0.1:${port}/${db}`;
  for (let tries = 0; ; tries += 1) {
    if (exited) fail(`Postgres exited at start:\n${readFileSync(logPath, 'utf8')}`);
    const ready = spawnSync(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-q']);
    if (ready.status === 0) break;
    if (tries > 300) fail(`Postgres did not accept connections:\n${readFileSync(logPath, 'utf8')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const psql = async (sql, db = database) => {
    const { stdout } = await run(
      join(bin, 'psql'),
      ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', db, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql],
      { env: childEnv() }
    );
    return stdout.trim();
  };
  /** Rows of a query as objects (psql's JSON output of row_to_json). */
  const rows = async (sql, db = database) => {
    const out = await psql(`select coalesce(json_agg(t), '[]') from (${sql}) t`, db);
    return JSON.parse(out);
  };
  const stop = async () => {
    if (!exited) {
      const done = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT'); // fast shutdown
      await done;
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { port, url, databaseUrl: url(), psql, rows, stop, logPath };
}

/**
 * Runs `work` alone among the users of one CLI's alteration-scripts folder: `logto db seed` and
 * core's own start-up both empty and refill it, and two at once made one fail with EEXIST. A
 * lock older than the longest seed or start was left by a killed process.
 */
function withAlterationScripts(cli, work) {
  const lock = join(dirname(cli), '.seed-lock');
  return withLockDir(lock, work, {
    staleMs: 300_000,
    timeoutMs: 600_000,
    timeoutMessage: `logto-core: a \`logto db seed\` or core start-up held ${lock} for too long`,
  });
}

/** The real `logto db seed` into the Postgres's database (created by the CLI). */
export async function seedDatabase(prepared, postgres) {
  const { stdout, stderr } = await withAlterationScripts(prepared.cli, () =>
    logtoCli(prepared.cli, ['db', 'seed', '--db-url', postgres.databaseUrl, '--swe'], { cwd: prepared.dir ?? tmpdir() })
  );
  const count = await postgres.psql(`select count(*) from tenants where id in ('default', 'admin')`);
  if (count !== '2') fail(`logto db seed did not create the default and admin tenants:\n${stdout}\n${stderr}`);
}

/**
 * Core started like the image starts it (`NODE_ENV=production node .` in packages/core), on
 * the Node the instance was prepared for (`node` to choose another), on a free port of 127.0.0.1; resolves once it answers /api/status.
 * `nodeArgs` go before the entry (e.g. `--import` a preload), `env` adds variables; with
 * `logFile`, core's output also goes there as it comes (to read it while core runs).
 * Returns `{ url, port, child, log(), stop(), exited }`; `log()` is its stdout and stderr so
 * far. With `expectFailure`, resolves (instead of throwing) once core logs its start-up error
 * or exits, so a refusal can be asserted.
 */
export function startCore(instance, options) {
  // Until core is ready (or has failed), it may be refilling the CLI's alteration-scripts folder.
  const cli = instance.cli ?? instance.prepared?.cli;
  return cli ? withAlterationScripts(cli, () => startCoreAlone(instance, options)) : startCoreAlone(instance, options);
}

async function startCoreAlone(
  instance,
  { databaseUrl, env = {}, nodeArgs = [], logFile, expectFailure = false, timeoutMs = 180_000, node = instance.prepared?.node ?? process.execPath }
) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(node, [...nodeArgs, '.'], {
    cwd: instance.coreDir,
    env: childEnv({
      NODE_ENV: 'production',
      DB_URL: databaseUrl,
      ENDPOINT: url,
      PORT: String(port),
      // The admin tenant's own listener (ADMIN_PORT, 3002 by default) is not needed: the
      // tests use the default tenant's Management API with an M2M token.
      ADMIN_DISABLE_LOCALHOST: '1',
      // Node's compile cache (22.1+) for core's dependencies, which every start loads from the
      // same prepared node_modules: each start after the first compiles less.
      NODE_COMPILE_CACHE: join(instance.prepared?.dir ?? instance.dir, '.compile-cache'),
      ...env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const file = logFile && createWriteStream(logFile);
  // A log file that cannot be written is said, not thrown: core's own outcome matters more.
  file?.on('error', (error) => console.error(`logto-core: could not write ${logFile}: ${error.message}`));
  const keep = (chunk) => {
    output += chunk;
    file?.write(chunk);
  };
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  let exitCode;
  // As for Postgres: core does not outlive the process that started it.
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  // The file ends once core's output has (its pipes may outlive the process by a moment).
  child.once('close', () => file?.end());
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      process.off('exit', onExit);
      resolve((exitCode = code ?? signal));
    })
  );
  const stop = async () => {
    if (exitCode === undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    return output;
  };
  const logto = {
    url,
    port,
    child,
    log: () => output,
    stop,
    exited,
    get exitCode() {
      return exitCode;
    },
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Core logs its start-up failure and does not exit by itself (main.ts ends its pools).
    if (exitCode !== undefined || /Error while initializing app/.test(output)) {
      // Core logs the error's header and its details in separate writes: wait until its output
      // has been quiet for half a second (or it exited), so the details are in it too.
      let seen = output.length;
      let quietSince = Date.now();
      while (exitCode === undefined && Date.now() - quietSince < 500 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        if (output.length !== seen) {
          seen = output.length;
          quietSince = Date.now();
        }
      }
      if (expectFailure) return logto;
      await stop();
      fail(`core did not start:\n${output}`);
    }
    try {
      const response = await fetch(`${url}/api/status`);
      if (response.status === 204) {
        if (expectFailure) {
          await stop();
          fail(`core started but a start-up failure was expected:\n${output}`);
        }
        return logto;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      fail(`core did not answer /api/status within ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * A machine-to-machine app of the default tenant with the seeded "Logto Management API access"
 * role, written into the database (no API can make the first one: every Management API call
 * needs a token). Idempotent per database; returns `{ id, secret }`.
 */
export async function ensureManagementApp(postgres, { id = 'harness-m2m' } = {}) {
  const existing = await postgres.psql(`select secret from applications where tenant_id = 'default' and id = '${id}'`);
  if (existing) return { id, secret: existing };
  const secret = randomBytes(24).toString('hex');
  const role = await postgres.psql(`select id from roles where tenant_id = 'default' and name = 'Logto Management API access'`);
  if (!role) fail('the seeded database has no "Logto Management API access" role in the default tenant');
  await postgres.psql(`
    insert into applications (tenant_id, id, name, secret, description, type, oidc_client_metadata)
      values ('default', '${id}', 'Test harness', '${secret}', 'Management API client of the tests', 'MachineToMachine',
              '{"redirectUris": [], "postLogoutRedirectUris": []}');
    insert into applications_roles (tenant_id, id, application_id, role_id)
      values ('default', '${id}-role', '${id}', '${role}');`);
  return { id, secret };
}

/** An access token for the Management API from core's /oidc/token (client credentials). */
export async function managementToken(logto, postgres) {
  const { id, secret } = await ensureManagementApp(postgres);
  const response = await fetch(`${logto.url}/oidc/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', resource: MANAGEMENT_API_RESOURCE, scope: 'all' }),
  });
  const body = await response.json();
  if (!response.ok || !body.access_token) fail(`no Management API token (${response.status}): ${JSON.stringify(body)}`);
  return body.access_token;
}

/**
 * A small JSON client for core's APIs: `api(method, path, body)` resolves
 * `{ status, body, headers }` and never throws on an HTTP error (tests assert on them).
 */
export function apiClient(baseUrl, { token, headers = {} } = {}) {
  return async (method, path, body) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: response.status, body: parsed, headers: response.headers };
  };
}

/** Sign-up and sign-in by phone number and verification code, no password (Management API). */
export async function enablePhoneSignUp(api) {
  const experience = await api('PATCH', '/api/sign-in-exp', {
    signInMode: 'SignInAndRegister',
    signUp: { identifiers: ['phone'], password: false, verify: true },
    signIn: { methods: [{ identifier: 'phone', password: false, verificationCode: true, isPasswordPrimary: false }] },
  });
  if (experience.status !== 200 || JSON.stringify(experience.body.signUp?.identifiers) !== '["phone"]') {
    fail(`PATCH /api/sign-in-exp did not turn on phone sign-up (${experience.status}): ${JSON.stringify(experience.body)}`);
  }
  return experience.body;
}

/**
 * An end user's browser on the Experience API, as Logto's sign-in page drives it: an OIDC
 * authorization request of Logto's built-in demo app starts the interaction (cookies), then
 * every call carries them, and `headers` (e.g. what a proxy in front of core would add).
 * Returns `{ api, sendCode(phone), finish() }`: `sendCode` asks for a verification code by
 * SMS; `finish` submits, follows the redirects back to the app and trades the code for the ID
 * token, whose claims it resolves.
 */
export async function startInteraction(logto, interactionEvent, { headers = {} } = {}) {
  const jar = new Map();
  const keep = (response) => {
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const at = pair.indexOf('=');
      jar.set(pair.slice(0, at), pair.slice(at + 1));
    }
  };
  const cookie = () => [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
  const verifier = randomBytes(32).toString('base64url');
  const redirectUri = `${logto.url}/demo-app`;
  const query = new URLSearchParams({
    client_id: 'demo-app',
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid',
    state: 'state',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  const authorization = await fetch(`${logto.url}/oidc/auth?${query}`, { redirect: 'manual', headers });
  keep(authorization);
  if (authorization.status !== 303) fail(`the authorization request did not start an interaction (${authorization.status})`);
  const api = apiClient(logto.url, {
    headers: {
      ...headers,
      get cookie() {
        return cookie();
      },
    },
  });
  const started = await api('PUT', '/api/experience', { interactionEvent });
  if (started.status !== 204) fail(`PUT /api/experience answered ${started.status}: ${JSON.stringify(started.body)}`);
  return {
    api,
    sendCode: (phone) => api('POST', '/api/experience/verification/verification-code', { identifier: { type: 'phone', value: phone }, interactionEvent }),
    finish: async () => {
      const submitted = await api('POST', '/api/experience/submit');
      if (submitted.status !== 200) fail(`POST /api/experience/submit answered ${submitted.status}: ${JSON.stringify(submitted.body)}`);
      let location = submitted.body.redirectTo;
      for (let hops = 0; hops < 8 && !location.startsWith(redirectUri); hops += 1) {
        const response = await fetch(new URL(location, logto.url), { redirect: 'manual', headers: { ...headers, cookie: cookie() } });
        keep(response);
        location = response.headers.get('location');
        if (!location) fail(`redirect ${hops} of the sign-in has no Location (${response.status})`);
      }
      const code = new URL(location).searchParams.get('code');
      if (!code) fail(`the app got no authorization code: ${location}`);
      const token = await fetch(`${logto.url}/oidc/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: 'demo-app', code_verifier: verifier }),
      });
      const { id_token: idToken } = await token.json();
      if (!idToken) fail('the code was not traded for an ID token');
      return JSON.parse(Buffer.from(idToken.split('.')[1], 'base64url').toString('utf8'));
    },
  };
}
