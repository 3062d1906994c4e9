#!/usr/bin/env bash
# Measures the disk under $ORDERLOG_BENCH_DIR with fio: the baseline the storage
# benchmarks are compared against. Six jobs, one thread each, no queue depth (psync):
#   seq_write_1m_direct  1 MiB sequential writes with O_DIRECT into a new file (MB/s)
#   sync_4k_grow         4 KiB write + fdatasync, appending to a new file, so every
#                        fdatasync also commits the block allocation and the file size
#   sync_4k_overwrite    4 KiB write + fdatasync into a file already written and synced
#   sync_64k_overwrite   the same with 64 KiB writes
#   sync_1m_overwrite    the same with 1 MiB writes: the disk's bandwidth when every
#                        write waits for its fdatasync, as a lone durable appender does
#   sync_2m_fresh_direct 2 MiB O_DIRECT write + fdatasync into a new (preallocated)
#                        file: what a log that only ever writes blocks it never wrote
#                        before gets from this disk durably, at a large group commit's
#                        size (a virtual disk may write fresh blocks slower)
# Each job runs ORDERLOG_FIO_RUNS times (default 3), interleaved; every metric is the
# median of its runs. Prints one JSON object on stdout; fio's own reports are kept in
# the "raw" directory named in it only when ORDERLOG_FIO_KEEP=1.
#
# Environment: ORDERLOG_BENCH_DIR (default /tmp/orderlog-bench), ORDERLOG_FIO_RUNS (3),
# ORDERLOG_FIO_RUNTIME_S (3, per fdatasync job), ORDERLOG_FIO_SEQ_MIB (2048).
# Needs fio (ORDERLOG_BENCH_DEPS=1 scripts/bootstrap.sh) and python3.
set -euo pipefail

bench_dir="${ORDERLOG_BENCH_DIR:-/tmp/orderlog-bench}"
work_dir="$bench_dir/fio"
runs="${ORDERLOG_FIO_RUNS:-3}"
runtime_s="${ORDERLOG_FIO_RUNTIME_S:-3}"
seq_mib="${ORDERLOG_FIO_SEQ_MIB:-2048}"
overwrite_mib=256

if ! command -v fio >/dev/null; then
  echo "fio_baseline: fio is missing; run ORDERLOG_BENCH_DEPS=1 scripts/bootstrap.sh" >&2
  exit 1
fi

rm -rf "$work_dir"
mkdir -p "$work_dir/raw"
if [[ "${ORDERLOG_FIO_KEEP:-0}" != "1" ]]; then
  trap 'rm -rf "$work_dir"' EXIT
fi

# run_job NAME RUN FIO_OPTION...: one fio run, its JSON report in raw/NAME.RUN.json.
run_job() {
  local name=$1 run=$2
  shift 2
  echo "fio_baseline: $name, run $run of $runs" >&2
  fio --name="$name" --output-format=json --output="$work_dir/raw/$name.$run.json" \
    --ioengine=psync --numjobs=1 "$@" >/dev/null
}

sync_job=(--rw=write --fdatasync=1 --time_based --runtime="$runtime_s")
for run in $(seq 1 "$runs"); do
  rm -f "$work_dir/seq.dat" "$work_dir/grow.dat"
  run_job seq_write_1m_direct "$run" --filename="$work_dir/seq.dat" \
    --rw=write --bs=1M --direct=1 --size="${seq_mib}M"
  # fallocate=none and a missing file: fio neither lays the file out nor reserves
  # blocks, so each write extends the file.
  run_job sync_4k_grow "$run" --filename="$work_dir/grow.dat" "${sync_job[@]}" \
    --bs=4k --fallocate=none --size=4G
  # overwrite=1 writes the whole file and fsyncs it once, before the first run only.
  run_job sync_4k_overwrite "$run" --filename="$work_dir/over.dat" "${sync_job[@]}" \
    --bs=4k --overwrite=1 --size="${overwrite_mib}M"
  run_job sync_64k_overwrite "$run" --filename="$work_dir/over.dat" "${sync_job[@]}" \
    --bs=64k --overwrite=1 --size="${overwrite_mib}M"
  run_job sync_1m_overwrite "$run" --filename="$work_dir/over.dat" "${sync_job[@]}" \
    --bs=1M --overwrite=1 --size="${overwrite_mib}M"
  rm -f "$work_dir/fresh.dat"
  # Not time-based: one pass over the new file, so no block is written twice.
  run_job sync_2m_fresh_direct "$run" --filename="$work_dir/fresh.dat" \
    --rw=write --fdatasync=1 --bs=2M --direct=1 --size="${seq_mib}M"
  rm -f "$work_dir/seq.dat" "$work_dir/grow.dat" "$work_dir/fresh.dat"
done

python3 - "$work_dir/raw" "$bench_dir" "$runs" "$runtime_s" <<'PYTHON'
import glob, json, os, platform, statistics, subprocess, sys

raw_dir, bench_dir, runs, runtime_s = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

def job_of(path):
    with open(path) as f:
        report = json.load(f)
    return report["fio version"], report["jobs"][0]

def sample(job):
    write = job["write"]
    result = {"bytes_per_second": write["bw_bytes"], "iops": write["iops"]}
    sync = job.get("sync", {})
    if sync.get("lat_ns", {}).get("N", 0) > 0:  # fio leaves sync.total_ios at 0
        result["fdatasync_p50_us"] = sync["lat_ns"]["percentile"]["50.000000"] / 1000.0
        result["fdatasync_p99_us"] = sync["lat_ns"]["percentile"]["99.000000"] / 1000.0
    return result

samples, fio_version = {}, None
for path in sorted(glob.glob(os.path.join(raw_dir, "*.json"))):
    name = os.path.basename(path).split(".")[0]
    fio_version, job = job_of(path)
    samples.setdefault(name, []).append(sample(job))

out = {
    "fio_version": fio_version,
    "directory": os.path.abspath(bench_dir),
    "filesystem": subprocess.run(["stat", "-f", "-c", "%T", bench_dir], capture_output=True, text=True).stdout.strip(),
    "kernel": platform.release(),
    "runs": runs,
    "runtime_s_per_sync_job": runtime_s,
    "ioengine": "psync",
}
for name, runs_of_job in samples.items():
    metrics = {}
    for key in runs_of_job[0]:
        metrics[key] = statistics.median(run[key] for run in runs_of_job)
    metrics["mb_per_s"] = metrics["bytes_per_second"] / 1e6
    metrics["samples"] = runs_of_job
    out[name] = metrics
json.dump(out, sys.stdout, indent=2)
print()
PYTHON
