#!/usr/bin/env bash
# The main job: installs what is missing, builds the release preset, starts orderlogd on
# the default data directory (./data, or $ORDERLOG_DATA_DIR) and runs the client demo
# against it: orders placed, confirmed, shipped and delivered through orderlog::client,
# then the read models. orderlogd keeps serving afterwards until Ctrl-C (a graceful
# shutdown); with --demo-only it is stopped as soon as the demo is done.
#
# Environment: ORDERLOG_DATA_DIR (data), ORDERLOG_LISTEN (127.0.0.1:7070),
# ORDERLOG_METRICS (127.0.0.1:9464; empty disables the metrics endpoint).
set -euo pipefail
cd "$(dirname "$0")/.."

demo_only=0
for arg in "$@"; do
  case "$arg" in
    --demo-only) demo_only=1 ;;
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done

scripts/bootstrap.sh
cmake --preset release >/dev/null
cmake --build --preset release --target orderlogd orderlog-order-demo orderlog

data="${ORDERLOG_DATA_DIR:-data}"
listen="${ORDERLOG_LISTEN:-127.0.0.1:7070}"
metrics="${ORDERLOG_METRICS-127.0.0.1:9464}"
ready="$(mktemp -u "${TMPDIR:-/tmp}/orderlogd-ready.XXXXXX")"

build/release/server/orderlogd --data "$data" --listen "$listen" --metrics "$metrics" --ready-file "$ready" &
server=$!
stop_server() {
  if kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server"
    wait "$server" || { status=$?; echo "run.sh: orderlogd exited with status $status" >&2; return "$status"; }
  fi
  rm -f "$ready"
}
# A background job of a script ignores SIGINT, so Ctrl-C reaches orderlogd as SIGTERM.
trap 'stop_server; exit 130' INT TERM
trap 'stop_server' EXIT

for _ in $(seq 1 300); do
  [[ -s "$ready" ]] && break
  kill -0 "$server" 2>/dev/null || { wait "$server" || true; echo "run.sh: orderlogd did not start" >&2; exit 1; }
  sleep 0.1
done
[[ -s "$ready" ]] || { echo "run.sh: orderlogd was not ready after 30 s" >&2; exit 1; }
addr="$(sed -n 's/.*listen=\([^ ]*\).*/\1/p' "$ready")"

build/release/client/examples/orderlog-order-demo --addr "$addr" --token-file "$data/admin.token"

if [[ "$demo_only" == "1" ]]; then
  exit 0  # the EXIT trap stops orderlogd gracefully
fi
echo
echo "orderlogd is serving on $addr${metrics:+ (metrics: http://$metrics/metrics)}, data in $data/."
echo "The admin token is in $data/admin.token. Ctrl-C stops the server."
wait "$server"
