#!/usr/bin/env node
// The build targets. package.json `napi.targets` is the one list; everything else derives from
// it here: the npm platform names (napi's own parsing of a triple), how each target is built
// and checked, and which CI runner builds and tests it. The per-platform folders under npm/ are
// napi's `create-npm-dirs` output for that list (__test__/release.test.js checks all of this).
//
//   node scripts/targets.mjs platform <triple>   the npm platform name, e.g. linux-x64-gnu
//   node scripts/targets.mjs linux               the Linux triples, one per line
//   node scripts/targets.mjs matrix build        GitHub Actions matrix (JSON) of the build job
//   node scripts/targets.mjs matrix verify       ... of the job that installs the packed tarballs
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { parseTriple } from '@napi-rs/cli';

const root = fileURLToPath(new URL('../', import.meta.url));
export const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

// Node versions a release is verified on: what `engines` admits and is still maintained.
export const NODE_VERSIONS = [20, 22, 24];

// Where each OS/CPU builds and runs. macOS x64 is cross-built on the Apple-silicon runner
// (the Intel build image is being retired) and verified on the last Intel image; Linux builds
// every target on one x64 runner with zig, and runs musl inside node:<version>-alpine with
// `docker run` on the host (a job container cannot run JavaScript actions on arm64).
const RUNNERS = {
  'linux-x64': { build: 'ubuntu-24.04', verify: 'ubuntu-24.04' },
  'linux-arm64': { build: 'ubuntu-24.04', verify: 'ubuntu-24.04-arm' },
  'darwin-x64': { build: 'macos-15', verify: 'macos-15-intel' },
  'darwin-arm64': { build: 'macos-15', verify: 'macos-15' },
  'win32-x64': { build: 'windows-2025', verify: 'windows-2025' },
};

/** Every target of `napi.targets` (of `manifest`, default ours), with what the scripts and the workflow need to know. */
export function targets(manifest = pkg) {
  return manifest.napi.targets.map((triple) => {
    const { platformArchABI: platform, platform: os, arch, abi } = parseTriple(triple);
    const runners = RUNNERS[`${os}-${arch}`];
    if (!runners) {
      throw new Error(`scripts/targets.mjs: no CI runner known for ${triple}; add ${os}-${arch} to RUNNERS`);
    }
    return { triple, platform, os, arch, abi, binary: `${manifest.napi.binaryName}.${platform}.node`, ...runners };
  });
}

const matrix = (job) => {
  if (job === 'build') {
    return { include: targets().map(({ triple, platform, os, build }) => ({ target: triple, platform, os, runner: build })) };
  }
  if (job === 'verify') {
    return {
      include: targets().flatMap(({ platform, abi, verify }) => NODE_VERSIONS.map((node) => ({ platform, node, runner: verify, alpine: abi === 'musl' }))),
    };
  }
  throw new Error(`unknown job '${job}' (build, verify)`);
};

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [command, argument] = process.argv.slice(2);
  const print = (text) => process.stdout.write(`${text}\n`);
  try {
    if (command === 'platform') {
      const target = targets().find(({ triple }) => triple === argument);
      if (!target) throw new Error(`${argument} is not in package.json napi.targets`);
      print(target.platform);
    } else if (command === 'linux') {
      print(
        targets()
          .filter(({ os }) => os === 'linux')
          .map(({ triple }) => triple)
          .join('\n')
      );
    } else if (command === 'matrix') {
      print(JSON.stringify(matrix(argument)));
    } else {
      throw new Error('usage: node scripts/targets.mjs platform <triple> | linux | matrix <build|verify>');
    }
  } catch (error) {
    console.error(`scripts/targets.mjs (${root}): ${error.message}`);
    process.exit(1);
  }
}
