#!/usr/bin/env bash
# The Node test suite on one runtime (see scripts/node-runtime.sh):
#
#   scripts/test-suite.sh <system|node22-gnu|node22-musl> [test files...]
#   scripts/test-suite.sh local                    (what `npm test` runs; see below)
#
# Without files: every __test__/*.test.js, except that arm64.test.js and release.test.js, which
# start the other runtimes themselves (arm64 under qemu-user, the musl Node 22), and
# references.test.js, which checks the docs against the test titles (the same on any runtime),
# run only on the system runtime; and logto-core.test.js and logto-pumping.test.js, which run
# the real Logto core (it needs Node ^22.14, and they fail on another Node rather than skip),
# run only on the Node 22 runtimes.
#
# `local` is this machine's Node with every file except those of FULL_RUN_ONLY: what a
# contributor runs without root, on Linux or macOS, with only the host's own binary built.
# Those files run in the full run (`npm run test:all`, which CI runs as root).
set -euo pipefail
cd "$(dirname "$0")/.."

# The test files only the full run runs, each with what it needs beyond the host's binary.
FULL_RUN_ONLY=(
  __test__/arm64.test.js       # the arm64 release binaries; qemu-user and Debian's arm64 Node (apt, root)
  __test__/release.test.js     # every Linux release binary (packs the release); the musl and arm64 runtimes (root)
  __test__/packaging.test.js   # every Linux release binary (packs the release)
  __test__/logto-image.test.js # every Linux release binary (packs the release)
  __test__/logto-core.test.js  # Logto core, on the Node 22 runtimes
  __test__/logto-pumping.test.js # Logto core, on the Node 22 runtimes; Debian's redis-server (apt, root, when missing)
  __test__/sms-pumping-redis.test.js # Debian's redis-server (apt, root, when missing)
)

runtime=${1:?usage: scripts/test-suite.sh <system|node22-gnu|node22-musl|local> [files...]}
shift
files=("$@")
system_only=" __test__/arm64.test.js __test__/release.test.js __test__/references.test.js "
node22_only=" __test__/logto-core.test.js __test__/logto-pumping.test.js "
if [ "$runtime" = local ]; then
  [ ${#files[@]} -eq 0 ] || { echo "test-suite: local takes no files (it is the suite minus FULL_RUN_ONLY)" >&2; exit 2; }
  full_run_only=" ${FULL_RUN_ONLY[*]} "
  for file in __test__/*.test.js; do
    [[ $full_run_only == *" $file "* ]] || files+=("$file")
  done
  runtime=system
elif [ ${#files[@]} -eq 0 ]; then
  for file in __test__/*.test.js; do
    if [ "$runtime" != system ] && [[ $system_only == *" $file "* ]]; then
      continue
    fi
    if [ "$runtime" = system ] && [[ $node22_only == *" $file "* ]]; then
      continue
    fi
    files+=("$file")
  done
fi
# Set the runtime up first, so its download output does not interleave with the report.
scripts/node-runtime.sh "$runtime" --path >/dev/null
echo "# test suite on $runtime (${#files[@]} files)"
exec scripts/node-runtime.sh "$runtime" node --test --test-concurrency=2 "${files[@]}"
