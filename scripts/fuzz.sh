#!/usr/bin/env bash
# The long fuzzing run: every property in tests/fuzz.rs with many more cases than the test
# command's short pass. A failing case is shrunk and saved under proptest-regressions/.
#
#   scripts/fuzz.sh [cases]      (default: 200000 per property)
set -euo pipefail
cd "$(dirname "$0")/.."
PROPTEST_CASES="${1:-200000}" cargo test --release --test fuzz -- --nocapture
