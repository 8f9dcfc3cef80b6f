#!/usr/bin/env bash
# The Node test suite on one runtime (see scripts/node-runtime.sh):
#
#   scripts/test-suite.sh <system|node22-gnu|node22-musl> [test files...]
#
# Without files: every __test__/*.test.js, except that arm64.test.js and release.test.js, which
# start the other runtimes themselves (arm64 under qemu-user, the musl Node 22), and
# references.test.js, which checks the docs against the test titles (the same on any runtime),
# run only on the system runtime; and logto-core.test.js, which runs the real Logto core (it
# needs Node ^22.14, and fails on another Node rather than skip), runs only on the Node 22
# runtimes.
set -euo pipefail
cd "$(dirname "$0")/.."
runtime=${1:?usage: scripts/test-suite.sh <runtime> [files...]}
shift
files=("$@")
system_only=" __test__/arm64.test.js __test__/release.test.js __test__/references.test.js "
node22_only=" __test__/logto-core.test.js "
if [ ${#files[@]} -eq 0 ]; then
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
