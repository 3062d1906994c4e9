#!/usr/bin/env bash
# Benchmarks orderlogd through the client library on loopback (client and server share
# this machine's cores), next to the same workloads in-process (storage_bench,
# order_bench) measured in the same run, and optionally next to PostgreSQL and Redis
# (bench/peers_baseline.sh). Prints a summary JSON object and a table of medians,
# ratios and the performance targets of docs/performance.md.
# Results land in build/bench-results/<UTC time>-server-{runs,inprocess,order,summary}.json.
#
# Usage: bench/run_server_bench.sh
# Environment: ORDERLOG_BENCH_DIR (default /tmp/orderlog-bench), ORDERLOG_BENCH_SECONDS
# (per run, default 5), ORDERLOG_BENCH_REPEAT (default 3; medians are quoted),
# ORDERLOG_BENCH_PEERS=1 to also measure PostgreSQL and Redis, ORDERLOG_BUILD_JOBS (2),
# ORDERLOG_BENCH_SKIP_INPROCESS=1 to skip the in-process runs.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

ORDERLOG_BENCH_DEPS=1 scripts/bootstrap.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "${ORDERLOG_BUILD_JOBS:-2}" \
  --target orderlogd orderlog-bench storage_bench order_bench machine_ceilings

seconds="${ORDERLOG_BENCH_SECONDS:-5}"
repeat="${ORDERLOG_BENCH_REPEAT:-3}"
results_dir="$root/build/bench-results"
mkdir -p "$results_dir"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
runs_json="$results_dir/$stamp-server-runs.jsonl"
inprocess_json="$results_dir/$stamp-server-inprocess.json"
order_json="$results_dir/$stamp-server-order.json"
peers_json="$results_dir/$stamp-server-peers.json"
summary_json="$results_dir/$stamp-server-summary.json"
ceilings_json="$results_dir/$stamp-server-ceilings.json"

work="${ORDERLOG_BENCH_DIR:-/tmp/orderlog-bench}/server"
rm -rf "$work"
mkdir -p "$work"
token="bench-token-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$token" >"$work/token"
chmod 600 "$work/token"
cat >"$work/orderlogd.toml" <<EOF
[server]
io_threads = 2
command_threads = 64
inflight_max = 4096

[[tenant]]
name = "bench"
token = "$token"
read = [""]
write = [""]
commands = ["*"]
query = true
EOF

server_pid=""
stop_server() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid"
    wait "$server_pid" || echo "run_server_bench: orderlogd exited with status $?" >&2
  fi
  server_pid=""
}
trap stop_server EXIT

start_server() {
  rm -rf "$work/data" "$work/ready"
  build/release/server/orderlogd --config "$work/orderlogd.toml" --data "$work/data" \
    --listen 127.0.0.1:0 --metrics "" --ready-file "$work/ready" 2>>"$work/orderlogd.log" &
  server_pid=$!
  for _ in $(seq 1 300); do
    [[ -s "$work/ready" ]] && break
    sleep 0.1
  done
  [[ -s "$work/ready" ]] || { echo "run_server_bench: orderlogd did not start; see $work/orderlogd.log" >&2; exit 1; }
  addr="$(sed -n 's/.*listen=\([^ ]*\).*/\1/p' "$work/ready")"
}

# Scenario name, then orderlog-bench flags.
# The load generator serves its connections from 2 io threads (--io-threads), as
# pgbench (-j 2) and redis-benchmark (1 thread) do in bench/peers_baseline.sh.
scenarios=(
  "single_append_c1|--scenario append --connections 1 --depth 1 --batch-events 1"
  "single_append_c8|--scenario append --connections 8 --depth 1 --batch-events 1 --io-threads 2"
  "single_append_c64|--scenario append --connections 64 --depth 1 --batch-events 1 --io-threads 2"
  "batch100_pipelined|--scenario append --connections 8 --depth 4 --batch-events 100 --io-threads 2"
  "lifecycle|--scenario lifecycle --connections 16 --depth 4 --io-threads 2"
  "lifecycle_deep|--scenario lifecycle --connections 16 --depth 64 --io-threads 2"
)

: >"$runs_json"
for ((run = 1; run <= repeat; run++)); do
  for entry in "${scenarios[@]}"; do
    name="${entry%%|*}"
    # A fresh server and data directory per run: each starts from the same state.
    start_server
    echo "run_server_bench: $name (run $run of $repeat, ${seconds} s)" >&2
    # shellcheck disable=SC2086
    result="$(build/release/tools/orderlog-bench --addr "$addr" --token-file "$work/token" \
      --seconds "$seconds" --warmup-seconds 1 ${entry#*|})"
    stop_server
    printf '{"name": "%s", "run": %d, "result": %s}\n' "$name" "$run" "$result" >>"$runs_json"
  done
done

# What loopback round trips and a bare group commit reach here with no orderlog work,
# in the same run (docs/performance.md, "Ceilings").
echo "run_server_bench: the machine's ceilings (about 25 s)" >&2
build/release/bench/machine_ceilings --seconds 3 --dir "$work" >"$ceilings_json"

if [[ "${ORDERLOG_BENCH_SKIP_INPROCESS:-0}" != "1" ]]; then
  echo "run_server_bench: the same workloads in-process" >&2
  build/release/bench/storage_bench --benchmark_repetitions="$repeat" --benchmark_report_aggregates_only=true \
    --benchmark_filter='BM_AppendBatch/1/1/|BM_AppendBatchConcurrent/8|BM_ConcurrentSingleAppenders/64' \
    --benchmark_format=json >"$inprocess_json"
  build/release/bench/order_bench --benchmark_repetitions="$repeat" --benchmark_report_aggregates_only=true \
    --benchmark_filter='BM_OrderLifecycle' --benchmark_format=json >"$order_json"
else
  echo '{"benchmarks": []}' >"$inprocess_json"
  echo '{"benchmarks": []}' >"$order_json"
fi

if [[ "${ORDERLOG_BENCH_PEERS:-0}" == "1" ]]; then
  echo "run_server_bench: PostgreSQL and Redis (bench/peers_baseline.sh)" >&2
  bench/peers_baseline.sh >"$peers_json"
else
  echo '{}' >"$peers_json"
fi

python3 bench/server_bench_summary.py "$runs_json" "$inprocess_json" "$order_json" "$peers_json" "$summary_json" \
  "$ceilings_json"
