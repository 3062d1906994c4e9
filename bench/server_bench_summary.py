#!/usr/bin/env python3
# The summary of bench/run_server_bench.sh: medians of the orderlog-bench runs against
# orderlogd, the same workloads in-process (storage_bench, order_bench) and the peers
# (bench/peers_baseline.sh), their ratios, and the targets of docs/performance.md.
# Usage: server_bench_summary.py RUNS.jsonl INPROCESS.json ORDER.json PEERS.json SUMMARY_OUT.json [CEILINGS.json]
import datetime, json, statistics, sys

runs_path, inprocess_path, order_path, peers_path, summary_path = sys.argv[1:6]
ceilings = {}
if len(sys.argv) > 6:
    with open(sys.argv[6]) as f:
        ceilings = json.load(f)
loopback_ceiling = ceilings.get("loopback", {}).get("round_trips_per_s")
by_name = {}
with open(runs_path) as f:
    for line in f:
        entry = json.loads(line)
        by_name.setdefault(entry["name"], []).append(entry["result"])

def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None

server = {}
for name, results in by_name.items():
    server[name] = {
        "events_per_s": median([r["events_per_s"] for r in results]),
        "operations_per_s": median([r["operations_per_s"] for r in results]),
        "lifecycles_per_s": median([r["lifecycles_per_s"] for r in results]),
        "p50_us": median([r["latency_us"]["p50"] for r in results]),
        "p99_us": median([r["latency_us"]["p99"] for r in results]),
        "p999_us": median([r["latency_us"]["p999"] for r in results]),
        "errors": sum(r["errors"] for r in results),
        "first_error": next((r["first_error"] for r in results if r["first_error"]), ""),
        "runs": len(results),
        "flags": {k: results[0][k] for k in ("connections", "depth", "batch_events", "payload_bytes")},
    }

def medians(path):
    with open(path) as f:
        data = json.load(f)
    out = {}
    for run in data.get("benchmarks", []):
        if run.get("run_type") == "aggregate" and run.get("aggregate_name") != "median":
            continue
        out.setdefault(run.get("run_name", run["name"]), run)
    return out

def rate(table, prefix, suffix="", key="items_per_second"):
    """The median of the benchmark named `prefix`/... whose name ends with `suffix`."""
    for name, run in table.items():
        if (name == prefix or name.startswith(prefix + "/")) and name.endswith(suffix):
            return run.get(key)
    return None

inprocess, order = medians(inprocess_path), medians(order_path)
local = {
    "single_append_c1": rate(inprocess, "BM_AppendBatch/1/1"),
    "single_append_c64": rate(inprocess, "BM_ConcurrentSingleAppenders/64"),
    "batch100_pipelined": rate(inprocess, "BM_AppendBatchConcurrent/8"),
    "lifecycle": rate(order, "BM_OrderLifecycle", "threads:32"),
}
local["lifecycle_deep"] = local["lifecycle"]
with open(peers_path) as f:
    peers = json.load(f)
pg = peers.get("postgresql", {})
redis = peers.get("redis", {})
def peer(path, table):
    node = table
    for key in path:
        node = node.get(key, {}) if isinstance(node, dict) else {}
    return node if isinstance(node, (int, float)) else None
pg_single_32 = peer(("single_insert", "clients_32", "events_per_s"), pg)
pg_single_64 = peer(("single_insert", "clients_64", "events_per_s"), pg)
redis_xadd_64 = peer(("xadd", "clients_64", "events_per_s"), redis)

def ratio(a, b):
    return a / b if a is not None and b else None

summary = {"date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "server": server, "in_process": local, "peers": peers, "ceilings": ceilings, "targets": []}
def target(what, value, threshold, at_least=True):
    met = None if value is None else (value >= threshold if at_least else value < threshold)
    summary["targets"].append({"target": what, "value": value, "threshold": threshold, "met": met})

c64 = server.get("single_append_c64", {})
target("single-event durable appends, 64 connections >= 150k events/s", c64.get("events_per_s"), 150e3)
target("single-event durable appends, 64 connections: p99 < 2 ms", c64.get("p99_us") and c64["p99_us"] / 1e3, 2.0, False)
target("pipelined 100-event batches >= 1M events/s", server.get("batch100_pipelined", {}).get("events_per_s"), 1e6)
# Judged on the better of the two concurrencies: the target names none.
lifecycle_rates = [server.get(n, {}).get("lifecycles_per_s") for n in ("lifecycle", "lifecycle_deep")]
lifecycle_rates = [r for r in lifecycle_rates if r is not None]
target("full order lifecycles >= 20k orders/s", max(lifecycle_rates) if lifecycle_rates else None, 20e3)

with open(summary_path, "w") as f:
    json.dump(summary, f, indent=2)
json.dump(summary, sys.stdout, indent=2)
print("\n")

def fmt(value):
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"

print(f"orderlogd on loopback, medians of the runs, {summary['date_utc']} (shared machine: expect noise)")
print(f"  {'scenario':<20} {'events/s':>12} {'orders/s':>10} {'p50 us':>8} {'p99 us':>8} {'p99.9 us':>9}"
      f" {'in-process':>12} {'ratio':>6}  errors")
for name in ("single_append_c1", "single_append_c8", "single_append_c64", "batch100_pipelined", "lifecycle",
             "lifecycle_deep"):
    s = server.get(name)
    if s is None:
        continue
    lifecycle = name.startswith("lifecycle")
    value = s["lifecycles_per_s"] if lifecycle else s["events_per_s"]
    print(f"  {name:<20} {fmt(s['events_per_s']):>12} {fmt(s['lifecycles_per_s']) if lifecycle else '':>10}"
          f" {fmt(s['p50_us']):>8} {fmt(s['p99_us']):>8} {fmt(s['p999_us']):>9}"
          f" {fmt(local.get(name)):>12} {fmt(ratio(value, local.get(name))):>6}  {s['errors']} {s['first_error'][:60]}")
if pg or redis:
    print("\nPeers, durable single-event appends")
    print(f"  PostgreSQL 32 clients {fmt(pg_single_32)}/s, 64 clients {fmt(pg_single_64)}/s; "
          f"orderlogd 64 connections / PostgreSQL 64 clients = {fmt(ratio(c64.get('events_per_s'), pg_single_64))}")
    print(f"  Redis XADD appendfsync always, 64 clients {fmt(redis_xadd_64)}/s; "
          f"orderlogd / Redis = {fmt(ratio(c64.get('events_per_s'), redis_xadd_64))}")
if loopback_ceiling:
    print(f"\nCeiling: a bare epoll echo over loopback, 64 connections x 1 request of 300 bytes, no other work: "
          f"{fmt(loopback_ceiling)} round trips/s (machine_ceilings); orderlogd's 64-connection appends reach "
          f"{fmt(ratio(c64.get('events_per_s'), loopback_ceiling))} of it, the 150k target is "
          f"{fmt(ratio(150e3, loopback_ceiling))} of it")
print("\nTargets")
for t in summary["targets"]:
    state = {True: "met", False: "NOT MET", None: "not measured"}[t["met"]]
    print(f"  {state:<12} {t['target']}  (measured {fmt(t['value'])})")
print(f"\nRaw results: {runs_path}\n             {summary_path}")
