#!/usr/bin/env bash
# The main job: installs what is missing, builds the release preset and runs the
# embedded demo on the default data directory (./data, or $ORDERLOG_DATA_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
cmake --preset release >/dev/null
cmake --build --preset release --target orderlog-demo
exec build/release/tools/orderlog-demo "${ORDERLOG_DATA_DIR:-data}"
