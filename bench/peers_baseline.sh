#!/usr/bin/env bash
# Measures durable single-event appends on two peer systems, on this machine and in the
# same run as the orderlog benchmarks they are quoted against (machines here are shared
# and noisy, so only same-run ratios mean anything). Every write below waits for fsync:
#
#   PostgreSQL 15: a throw-away cluster (initdb into a temp dir, unix socket only,
#     fsync=on, synchronous_commit=on, full_page_writes=on, default wal_sync_method,
#     shared_buffers=256MB) with the table
#       events(position bigserial primary key, stream_id text, version bigint,
#              type text, payload bytea, ts timestamptz default now())
#     driven by pgbench -M prepared, 2 threads (fewer when there are fewer clients):
#       single_insert.clients_{1,8,32,64}  one INSERT of a 256-byte payload per transaction
#       tx10_insert_clients_32             10 INSERTs in one transaction (events = 10 x tps)
#       multi100_clients_8                 one INSERT of 100 rows, each with its own
#                                          256-byte payload parameter (events = 100 x tps)
#     latency_ms_avg is pgbench's "latency average" (per transaction); p50_ms/p99_ms come
#     from pgbench's per-transaction log (every transaction unless ORDERLOG_PEERS_PG_SAMPLING
#     sets a fraction: a slow disk leaves few transactions to sample). wal_syncs_per_s and
#     events_per_wal_sync come from pg_stat_wal: proof that commits wait for fsync, and how
#     far group commit batched them.
#     Each run starts from an empty table after TRUNCATE and CHECKPOINT.
#   Redis 7: a private redis-server (not the system service) on a free 127.0.0.1 port with
#     --appendonly yes --appendfsync always --save '' and automatic AOF rewrites off,
#     started afresh for every run, driven by redis-benchmark (single-threaded client):
#       xadd.clients_{1,8,32,64}           XADD stream:<rand 0..99999> * f <256 bytes>, -P 1
#       xadd_pipelined16_clients_32        the same, 16 commands in flight per connection
#     redis-benchmark has no time limit, so a short calibration run (also the warm-up)
#     sizes -n to last about ORDERLOG_PEERS_SECONDS; p50_ms/p99_ms are from its CSV.
#
# Usage: bench/peers_baseline.sh [> peers.json]
#   e.g. ORDERLOG_PEERS_SECONDS=3 bench/peers_baseline.sh | python3 -m json.tool
# Prints one JSON object on stdout (progress goes to stderr):
#   {"postgresql": {"version", "settings", "single_insert": {"clients_1": {...}, ...},
#                   "tx10_insert_clients_32", "multi100_clients_8"},
#    "redis": {"version", "settings", "xadd": {"clients_1": {...}, ...},
#              "xadd_pipelined16_clients_32"},
#    "disk_probe": {"before", "after"}, "seconds_per_run", "repeat", "payload_bytes",
#    "directory", "filesystem", "machine": {"cores", "uname"}}
# disk_probe is one second of 8 KiB write + fdatasync before and after all runs: the
# disk's fsync latency here drifts by more than an order of magnitude (0.12 to 4 ms seen
# within minutes), and both peers follow it. Every measurement carries events_per_s and
# its latencies in ms; with a repeat above 1 each metric is the median over the repeats
# and "samples" lists the single runs.
# Takes about 6 x (seconds + 2) for PostgreSQL and 5 x (seconds + 1) for Redis per repeat,
# plus set-up: about 2 3/4 minutes with the defaults, 1 1/2 minutes at 3 seconds.
#
# Environment: ORDERLOG_BENCH_DIR (default /tmp/orderlog-bench; the peers' data goes to
# its "peers" directory, removed on exit), ORDERLOG_PEERS_SECONDS (10, per measurement),
# ORDERLOG_PEERS_REPEAT (1), ORDERLOG_PEERS_ONLY (postgresql or redis: measure one peer),
# ORDERLOG_PEERS_PG_SAMPLING (1), ORDERLOG_PG_BIN (/usr/lib/postgresql/15/bin),
# ORDERLOG_PEERS_KEEP=1 to keep the raw pgbench/redis-benchmark output (the servers'
# data is removed regardless).
# Runs as root: PostgreSQL refuses root, so its tools run as the "postgres" user through
# runuser. Installs redis-server and redis-tools through
# ORDERLOG_BENCH_DEPS=1 scripts/bootstrap.sh when Redis is measured. Needs python3.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench_dir="${ORDERLOG_BENCH_DIR:-/tmp/orderlog-bench}"
work_dir="$bench_dir/peers"
seconds="${ORDERLOG_PEERS_SECONDS:-10}"
repeat="${ORDERLOG_PEERS_REPEAT:-1}"
only="${ORDERLOG_PEERS_ONLY:-}"
pg_sampling="${ORDERLOG_PEERS_PG_SAMPLING:-1}"
pg_bin="${ORDERLOG_PG_BIN:-/usr/lib/postgresql/15/bin}"
pg_user=postgres
payload_bytes=256

log() { echo "peers_baseline: $*" >&2; }
die() { log "$*"; exit 1; }

case "$only" in
  "" | postgresql | redis) ;;
  *) die "ORDERLOG_PEERS_ONLY must be postgresql or redis, not '$only'" ;;
esac
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || die "ORDERLOG_PEERS_SECONDS must be a positive integer"
[[ "$repeat" =~ ^[1-9][0-9]*$ ]] || die "ORDERLOG_PEERS_REPEAT must be a positive integer"
want() { [[ -z "$only" || "$only" == "$1" ]]; }

if [[ $(id -u) -ne 0 ]]; then
  die "run as root (the PostgreSQL tools are started as the $pg_user user via runuser)"
fi
if want postgresql; then
  for tool in initdb pg_ctl postgres pgbench psql; do
    [[ -x "$pg_bin/$tool" ]] || die "$pg_bin/$tool is missing (set ORDERLOG_PG_BIN)"
  done
  id "$pg_user" >/dev/null 2>&1 || die "there is no '$pg_user' system user"
fi
if want redis; then
  ORDERLOG_BENCH_DEPS=1 "$root/scripts/bootstrap.sh"
  for tool in redis-server redis-cli redis-benchmark; do
    command -v "$tool" >/dev/null || die "$tool is missing; run ORDERLOG_BENCH_DEPS=1 scripts/bootstrap.sh"
  done
fi

# ---- set-up and clean-up ---------------------------------------------------------------
pg_dir="$work_dir/pg"           # owned by postgres: data/, the socket, scripts/, logs/
pg_data="$pg_dir/data"
redis_dir="$work_dir/redis"     # recreated for every Redis run
raw_dir="$work_dir/raw"         # pgbench and redis-benchmark output, parsed at the end
pg_port=""
redis_pidfile="$redis_dir/redis.pid"

stop_postgres() {
  [[ -f "$pg_data/postmaster.pid" ]] || return 0
  runuser -u "$pg_user" -- "$pg_bin/pg_ctl" -D "$pg_data" -m immediate -w -t 30 stop >/dev/null 2>&1 && return 0
  local pid
  pid="$(head -n 1 "$pg_data/postmaster.pid" 2>/dev/null || true)"
  [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null
  return 0
}

stop_redis() {
  [[ -f "$redis_pidfile" ]] || return 0
  local pid
  pid="$(cat "$redis_pidfile" 2>/dev/null || true)"
  rm -f "$redis_pidfile"
  [[ -n "$pid" ]] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null
  return 0
}

cleanup() {
  set +e
  stop_postgres
  stop_redis
  if [[ "${ORDERLOG_PEERS_KEEP:-0}" == "1" && -d "$raw_dir" ]]; then
    rm -rf "$pg_data" "$redis_dir"
    log "raw output kept in $raw_dir"
  else
    rm -rf "$work_dir"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop_postgres
stop_redis
rm -rf "$work_dir"
mkdir -p "$raw_dir"
chmod 755 "$work_dir"
payload_hex="$(python3 -c "print('ab' * $payload_bytes)")"  # 256 bytes of 0xab

# ---- PostgreSQL ------------------------------------------------------------------------
as_pg() { runuser -u "$pg_user" -- "$@"; }
pg_sql() { as_pg "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$pg_dir" -p "$pg_port" -U postgres -d postgres "$@"; }

start_postgres() {
  mkdir -p "$pg_dir/scripts" "$pg_dir/logs"
  chown -R "$pg_user:" "$pg_dir"
  chmod 700 "$pg_dir"
  as_pg test -w "$pg_dir" || die "$pg_user cannot write $pg_dir (are the directories above it searchable?)"
  pg_port="$(free_port)"
  local socket="$pg_dir/.s.PGSQL.$pg_port"
  ((${#socket} < 100)) || die "socket path $socket is too long for a unix socket; shorten ORDERLOG_BENCH_DIR"
  log "postgresql: initdb in $pg_data"
  # --no-sync only skips flushing the freshly created files; the server runs with fsync=on.
  as_pg "$pg_bin/initdb" -D "$pg_data" -U postgres -A trust -E UTF8 --no-sync >"$pg_dir/logs/initdb.log" 2>&1 ||
    { cat "$pg_dir/logs/initdb.log" >&2; die "initdb failed"; }
  cat >>"$pg_data/postgresql.conf" <<EOF
# peers_baseline.sh
listen_addresses = ''
port = $pg_port
unix_socket_directories = '$pg_dir'
max_connections = 100
shared_buffers = 256MB
fsync = on
synchronous_commit = on
full_page_writes = on
EOF
  log "postgresql: starting on $socket"
  as_pg "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_dir/logs/server.log" -w -t 60 start >/dev/null ||
    { cat "$pg_dir/logs/server.log" >&2; die "the PostgreSQL server did not start"; }
  pg_sql <<'SQL'
CREATE TABLE events (
  position bigserial PRIMARY KEY,
  stream_id text NOT NULL,
  version bigint NOT NULL,
  type text NOT NULL,
  payload bytea NOT NULL,
  ts timestamptz DEFAULT now()
);
SQL
}

write_pg_scripts() {
  local s="$pg_dir/scripts"
  # pgbench variables live per client across transactions: v counts each client's events,
  # and every client appends to its own stream. :payload is sent as a parameter per row.
  local insert="INSERT INTO events (stream_id, version, type, payload) VALUES ('client-' || (:client_id)::text, :v, 'OrderPlaced', :payload);"
  printf '\\set v :v + 1\n%s\n' "$insert" >"$s/single_insert.sql"
  {
    echo 'BEGIN;'
    for _ in $(seq 1 10); do printf '\\set v :v + 1\n%s\n' "$insert"; done
    echo 'COMMIT;'
  } >"$s/tx10_insert.sql"
  # 100 rows in one statement. pgbench allows at most 255 parameters per statement, so the
  # stream and version are derived server-side from two parameters while each row keeps its
  # own payload parameter (102 in all).
  {
    echo '\set v :v + 100'
    printf '%s' "INSERT INTO events (stream_id, version, type, payload) SELECT 'client-' || (:client_id)::text, (:v)::bigint - 100 + n, 'OrderPlaced', p FROM (VALUES "
    for i in $(seq 1 100); do
      ((i > 1)) && printf ', '
      printf '(%d, (:payload)::bytea)' "$i"
    done
    echo ') AS batch(n, p);'
  } >"$s/multi100.sql"
  chown -R "$pg_user:" "$s"
}

# run_pgbench NAME SCRIPT CLIENTS REP: one pgbench run; its summary in raw/pg.NAME.REP.txt
# and its sampled per-transaction log in logs/NAME.REP.*.
run_pgbench() {
  local name=$1 script=$2 clients=$3 rep=$4
  local threads=$((clients < 2 ? clients : 2))
  log "postgresql: $name ($clients clients, ${seconds}s), run $rep of $repeat"
  pg_sql -c 'TRUNCATE events RESTART IDENTITY' -c 'CHECKPOINT' -c "SELECT pg_stat_reset_shared('wal')" >/dev/null
  as_pg "$pg_bin/pgbench" -h "$pg_dir" -p "$pg_port" -U postgres -n -M prepared \
    -c "$clients" -j "$threads" -T "$seconds" -f "$pg_dir/scripts/$script" \
    -D v=0 -D "payload=\\x$payload_hex" \
    -l --sampling-rate="$pg_sampling" --log-prefix="$pg_dir/logs/$name.$rep" \
    postgres >"$raw_dir/pg.$name.$rep.txt" 2>"$raw_dir/pg.$name.$rep.err" ||
    { cat "$raw_dir/pg.$name.$rep.err" >&2; die "pgbench failed for $name"; }
  # pg_stat_wal: how many WAL fsyncs the run issued (zero would mean fsync is not in effect).
  # Backends report their counts when they exit, so give pgbench's a moment.
  sleep 1
  pg_sql -At -F ' ' -c 'SELECT wal_sync, wal_write, wal_bytes FROM pg_stat_wal' >"$raw_dir/pg.$name.$rep.wal"
  cat "$pg_dir/logs/$name.$rep".* >"$raw_dir/pg.$name.$rep.log" 2>/dev/null || : >"$raw_dir/pg.$name.$rep.log"
  rm -f "$pg_dir/logs/$name.$rep".*
}

# ---- Redis -----------------------------------------------------------------------------
redis_port=""
start_redis() {
  stop_redis
  rm -rf "$redis_dir"
  mkdir -p "$redis_dir"
  redis_port="$(free_port)"
  redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$redis_dir" \
    --daemonize yes --pidfile "$redis_pidfile" --logfile "$redis_dir/redis.log" \
    --appendonly yes --appendfsync always --save '' \
    --auto-aof-rewrite-percentage 0 >/dev/null ||
    die "redis-server did not start"
  for _ in $(seq 1 100); do
    if [[ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" == "PONG" ]] && [[ -s "$redis_pidfile" ]]; then
      return 0
    fi
    sleep 0.1
  done
  cat "$redis_dir/redis.log" >&2 || true
  die "redis-server did not answer on port $redis_port"
}

# redis_bench CLIENTS PIPELINE REQUESTS OUT: redis-benchmark's CSV into OUT; echoes rps.
redis_bench() {
  local clients=$1 pipeline=$2 requests=$3 out=$4
  redis-benchmark -h 127.0.0.1 -p "$redis_port" -c "$clients" -P "$pipeline" -n "$requests" \
    -r 100000 --csv XADD 'stream:__rand_int__' '*' f "$payload_raw" >"$out" 2>"$out.err" ||
    { cat "$out.err" >&2; die "redis-benchmark failed"; }
  python3 - "$out" <<'PYTHON'
import csv, sys
rows = [r for r in csv.reader(open(sys.argv[1])) if r]
header = rows[0]
data = [r for r in rows[1:] if len(r) == len(header)]
if "rps" not in header or not data:
    sys.exit("unexpected redis-benchmark output in " + sys.argv[1])
print(float(data[-1][header.index("rps")]))
PYTHON
}

# run_redis NAME CLIENTS PIPELINE REP: a fresh server, a calibration run sizing -n for about
# $seconds seconds, then the measured run into raw/redis.NAME.REP.csv.
run_redis() {
  local name=$1 clients=$2 pipeline=$3 rep=$4
  start_redis
  local calibration=$((200 * clients * pipeline))
  ((calibration >= 2000)) || calibration=2000
  local rps
  rps="$(redis_bench "$clients" "$pipeline" "$calibration" "$raw_dir/redis.$name.$rep.calibration.csv")"
  local requests
  requests="$(python3 -c "print(max($calibration, int($rps * $seconds)))")"
  log "redis: $name ($clients clients, pipeline $pipeline, $requests XADDs at ~${rps%.*}/s), run $rep of $repeat"
  redis_bench "$clients" "$pipeline" "$requests" "$raw_dir/redis.$name.$rep.csv" >/dev/null
  redis-cli -p "$redis_port" config get appendfsync | tail -n 1 >"$raw_dir/redis.appendfsync"
  redis-cli -p "$redis_port" info persistence | tr -d '\r' | grep -E '^aof_(enabled|last_write_status|rewrites):' \
    >"$raw_dir/redis.$name.$rep.persistence" || true
  stop_redis
}
payload_raw="$(python3 -c "print('x' * $payload_bytes)")"

# probe_disk OUT: 8 KiB write + fdatasync in a loop for one second in the peers' directory,
# before and after the peers run: the disk's fsync latency drifts by an order of magnitude
# on shared machines, and this tells which kind of disk the numbers above met.
probe_disk() {
  python3 - "$work_dir/probe.dat" "$1" <<'PYTHON'
import json, os, statistics, sys, time
path, out = sys.argv[1], sys.argv[2]
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
block, latencies, start = b"\xab" * 8192, [], time.monotonic()
try:
    while time.monotonic() - start < 1.0:
        t = time.monotonic()
        os.write(fd, block)
        os.fdatasync(fd)
        latencies.append((time.monotonic() - t) * 1000.0)
finally:
    os.close(fd)
    os.unlink(path)
elapsed = time.monotonic() - start
latencies.sort()
with open(out, "w") as f:
    json.dump({"write_8k_fdatasync_per_s": len(latencies) / elapsed,
               "p50_ms": statistics.median(latencies),
               "p99_ms": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]}, f)
PYTHON
}

# ---- the runs --------------------------------------------------------------------------
pg_runs=(
  "single_insert.clients_1 single_insert.sql 1"
  "single_insert.clients_8 single_insert.sql 8"
  "single_insert.clients_32 single_insert.sql 32"
  "single_insert.clients_64 single_insert.sql 64"
  "tx10_insert_clients_32 tx10_insert.sql 32"
  "multi100_clients_8 multi100.sql 8"
)
redis_runs=(
  "xadd.clients_1 1 1"
  "xadd.clients_8 8 1"
  "xadd.clients_32 32 1"
  "xadd.clients_64 64 1"
  "xadd_pipelined16_clients_32 32 16"
)

if want postgresql; then
  start_postgres
  write_pg_scripts
  pg_sql -At -c 'SHOW server_version' >"$raw_dir/pg.version"
  pg_sql -At -F '=' -c "SELECT name, current_setting(name) FROM pg_settings WHERE name IN
    ('fsync', 'synchronous_commit', 'wal_sync_method', 'full_page_writes', 'shared_buffers',
     'max_wal_size', 'checkpoint_timeout', 'wal_level') ORDER BY name" >"$raw_dir/pg.settings"
fi
if want redis; then
  redis-server --version >"$raw_dir/redis.version"
fi

probe_disk "$raw_dir/disk_probe.before.json"
for rep in $(seq 1 "$repeat"); do
  if want postgresql; then
    for run in "${pg_runs[@]}"; do
      read -r name script clients <<<"$run"
      run_pgbench "$name" "$script" "$clients" "$rep"
    done
  fi
  if want redis; then
    for run in "${redis_runs[@]}"; do
      read -r name clients pipeline <<<"$run"
      run_redis "$name" "$clients" "$pipeline" "$rep"
    done
  fi
done
stop_postgres
probe_disk "$raw_dir/disk_probe.after.json"

python3 - "$raw_dir" "$seconds" "$repeat" "$bench_dir" <<'PYTHON'
import csv, glob, json, os, platform, re, statistics, subprocess, sys

raw_dir, seconds, repeat, bench_dir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
EVENTS_PER_TX = {"single_insert": 1, "tx10_insert_clients_32": 10, "multi100_clients_8": 100}

def percentile(sorted_values, q):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    rank = max(1, int(round(q / 100.0 * len(sorted_values) + 0.5 - 1e-9)))
    return sorted_values[min(rank, len(sorted_values)) - 1]

def pgbench_sample(name, txt_path, log_path):
    text = open(txt_path).read()
    tps = float(re.search(r"^tps = ([0-9.]+)", text, re.M).group(1))
    latency = float(re.search(r"^latency average = ([0-9.]+) ms", text, re.M).group(1))
    duration = float(re.search(r"^duration: ([0-9.]+) s", text, re.M).group(1))
    failed = re.search(r"^number of failed transactions: (\d+)", text, re.M)
    latencies = []
    with open(log_path) as f:
        for line in f:
            fields = line.split()
            # client_id transaction_no time script_no time_epoch time_us [...]; time is
            # the latency in us, or "failed"/"skipped" for transactions that did not commit.
            if len(fields) >= 6 and fields[2].isdigit():
                latencies.append(int(fields[2]) / 1000.0)
    latencies.sort()
    events = EVENTS_PER_TX[name.split(".")[0]]
    sample = {"events_per_s": tps * events, "tps": tps, "latency_ms_avg": latency,
              "p50_ms": percentile(latencies, 50), "p99_ms": percentile(latencies, 99),
              "latency_samples": len(latencies)}
    # WAL fsyncs during the run, counted from pg_stat_wal (walwriter and backends);
    # events_per_wal_sync shows how much group commit batched.
    wal_sync, wal_write, wal_bytes = open(log_path[:-4] + ".wal").read().split()
    sample["wal_syncs_per_s"] = int(wal_sync) / duration
    sample["events_per_wal_sync"] = tps * events * duration / int(wal_sync) if int(wal_sync) else None
    sample["wal_bytes_per_event"] = float(wal_bytes) / (tps * events * duration) if tps else None
    if failed and int(failed.group(1)) > 0:
        sample["failed_transactions"] = int(failed.group(1))
    return sample

def redis_sample(csv_path):
    # --csv: a header, then one row per test (here just the XADD one).
    rows = [r for r in csv.reader(open(csv_path)) if r]
    header, last = rows[0], [r for r in rows[1:] if len(r) == len(rows[0])][-1]
    value = lambda column: float(last[header.index(column)])
    return {"events_per_s": value("rps"), "latency_ms_avg": value("avg_latency_ms"),
            "p50_ms": value("p50_latency_ms"), "p99_ms": value("p99_latency_ms"),
            "max_ms": value("max_latency_ms")}

def aggregate(samples):
    result = {}
    for key in samples[0]:
        values = [s[key] for s in samples if s.get(key) is not None]
        result[key] = statistics.median(values) if values else None
    if len(samples) > 1:
        result["samples"] = samples
    return result

def place(out, name, value):
    """single_insert.clients_8 -> out["single_insert"]["clients_8"]."""
    parts = name.split(".")
    for part in parts[:-1]:
        out = out.setdefault(part, {})
    out[parts[-1]] = value

def runs_of(prefix, suffix):
    by_name = {}
    for path in sorted(glob.glob(os.path.join(raw_dir, prefix + "*" + suffix))):
        base = os.path.basename(path)[len(prefix):-len(suffix)]
        name, rep = base.rsplit(".", 1)
        if rep.isdigit():
            by_name.setdefault(name, []).append((int(rep), path))
    return by_name

def read(path):
    return open(path).read().strip()

out = {}
pg_order = ["single_insert.clients_1", "single_insert.clients_8", "single_insert.clients_32",
            "single_insert.clients_64", "tx10_insert_clients_32", "multi100_clients_8"]
if os.path.exists(os.path.join(raw_dir, "pg.version")):
    pg = {"version": read(os.path.join(raw_dir, "pg.version")),
          "settings": dict(line.split("=", 1) for line in read(os.path.join(raw_dir, "pg.settings")).splitlines()),
          "client": "pgbench -M prepared, 2 threads"}
    runs = runs_of("pg.", ".txt")
    for name in pg_order:
        if name in runs:
            samples = [pgbench_sample(name, path, path[:-4] + ".log") for _, path in sorted(runs[name])]
            place(pg, name, aggregate(samples))
    out["postgresql"] = pg

redis_order = ["xadd.clients_1", "xadd.clients_8", "xadd.clients_32", "xadd.clients_64",
               "xadd_pipelined16_clients_32"]
if os.path.exists(os.path.join(raw_dir, "redis.version")):
    version = re.search(r"v=(\S+)", read(os.path.join(raw_dir, "redis.version")))
    redis = {"version": version.group(1) if version else read(os.path.join(raw_dir, "redis.version")),
             "settings": {"appendonly": "yes", "appendfsync": read(os.path.join(raw_dir, "redis.appendfsync")),
                          "save": "", "auto-aof-rewrite-percentage": "0"},
             "client": "redis-benchmark, 1 thread, XADD stream:<0..99999> * f <256 bytes>"}
    runs = runs_of("redis.", ".csv")
    for name in redis_order:
        if name in runs:
            place(redis, name, aggregate([redis_sample(path) for _, path in sorted(runs[name])]))
    out["redis"] = redis

out["disk_probe"] = {when: json.load(open(os.path.join(raw_dir, "disk_probe.%s.json" % when)))
                     for when in ("before", "after")}
out["seconds_per_run"] = seconds
out["repeat"] = repeat
out["payload_bytes"] = 256
out["directory"] = os.path.abspath(os.path.join(bench_dir, "peers"))
out["filesystem"] = subprocess.run(["stat", "-f", "-c", "%T", bench_dir], capture_output=True, text=True).stdout.strip()
out["machine"] = {"cores": os.cpu_count(), "uname": " ".join(platform.uname()[:3] + platform.uname()[4:5])}
json.dump(out, sys.stdout, indent=2)
print()
PYTHON
