#!/usr/bin/env node
// Refuses to pack the main package unless it carries the binary of every Linux target in
// package.json `napi.targets`. `logto connector add` extracts the main tarball without
// installing anything, so a binary missing from it is missing in Logto: a plain `npm pack`
// on a glibc laptop would ship only that laptop's binary, and the connector would then fail
// to load in Logto's Docker image (Alpine, musl). Runs as `prepack` (so `npm pack` and
// `npm publish` of the repo stop) and from scripts/pack-release.mjs.
//
//   node scripts/require-linux-binaries.mjs [package-dir]   (default: the repo root)
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { targets } from './targets.mjs';

// ELF e_machine of each architecture, to catch a file copied under the wrong name.
const MACHINE = { x64: 62, arm64: 183 };

/** `linux-<arch>-<abi>` for every Linux triple in `napi.targets`, e.g. linux-x64-musl. */
export function linuxPlatforms(pkg) {
  return targets(pkg)
    .filter(({ os }) => os === 'linux')
    .map(({ platform, arch }) => {
      if (!MACHINE[arch]) throw new Error(`napi.targets: no ELF machine known for ${platform}`);
      return platform;
    });
}

/** What is wrong with the binary of `platform` in `dir`, or null when it is there and right. */
function problemWith(dir, pkg, platform) {
  const file = `${pkg.napi.binaryName}.${platform}.node`;
  let header;
  try {
    const fd = openSync(join(dir, file), 'r');
    header = Buffer.alloc(20);
    readSync(fd, header, 0, 20, 0);
    closeSync(fd);
  } catch {
    return `${file} is missing`;
  }
  if (header.readUInt32BE(0) !== 0x7f454c46) return `${file} is not an ELF file`;
  const machine = header.readUInt16LE(18);
  const wanted = MACHINE[platform.split('-')[1]];
  if (machine !== wanted) return `${file} is built for ELF machine ${machine}, not ${wanted}`;
  return null;
}

/** Every problem with the Linux binaries in `dir` (empty when packing may go on). */
export function linuxBinaryProblems(dir) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  return linuxPlatforms(pkg)
    .map((platform) => problemWith(dir, pkg, platform))
    .filter(Boolean);
}

/** Exits the process with a message saying what to do when a Linux binary is missing. */
export function requireLinuxBinaries(dir) {
  const problems = linuxBinaryProblems(dir);
  if (problems.length === 0) return;
  console.error(
    [
      `Refusing to pack: the main package must carry every Linux binary (logto connector add installs nothing else).`,
      ...problems.map((problem) => `  - ${problem}`),
      'Run `npm run build:release` first (it builds all four with cargo-zigbuild), then',
      '`npm run pack:release` for the tarballs to publish.',
    ].join('\n')
  );
  process.exit(1);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  requireLinuxBinaries(resolve(process.argv[2] ?? dirname(dirname(fileURLToPath(import.meta.url)))));
}
