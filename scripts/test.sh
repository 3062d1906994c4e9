#!/usr/bin/env bash
# The whole test suite: installs what is missing, then builds and runs every test
# under AddressSanitizer + UndefinedBehaviorSanitizer (preset `dev`) and under
# ThreadSanitizer (preset `tsan`). Set ORDERLOG_TEST_PRESETS to run fewer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
for preset in ${ORDERLOG_TEST_PRESETS:-dev tsan}; do
  echo "== tests: preset ${preset}"
  cmake --preset "${preset}" >/dev/null
  cmake --build --preset "${preset}"
  ctest --preset "${preset}"
done
