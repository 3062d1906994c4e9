// Storage benchmarks of the EventStore on the real disk: append throughput by batch
// size with and without fdatasync, group commit under concurrent appenders, large-batch
// bandwidth (bench/run_storage_bench.sh compares it with fio's sequential bandwidth),
// reads through the indexes and the log, and the time to reopen a cleanly closed log.
//
// Every store is opened on the POSIX Env in its own directory under $ORDERLOG_BENCH_DIR
// (default /tmp/orderlog-bench). A store stays open across the runs and repetitions of
// one benchmark, so the framework's iteration estimate does not rebuild it, and is
// wiped when the next benchmark starts; after creating one the harness lets the
// store's background segment preparation settle before timing anything. Appends are timed in wall-clock time: an
// appending thread mostly waits for fdatasync, so its CPU time says little.
//
// Environment: ORDERLOG_BENCH_DIR, ORDERLOG_BENCH_SCAN_MIB (log size of BM_ScanAll,
// default 256), ORDERLOG_BENCH_REOPEN_GIB (log size of BM_ReopenClean, default 1),
// ORDERLOG_BENCH_PREFILL_BELOW_COMMIT_BYTES (StoreOptions::segment_prefill_below_commit_bytes;
// 18446744073709551615 zero-fills every segment, as before that option, and 0 none),
// ORDERLOG_BENCH_PAGE_CACHE_WINDOW_MIB (StoreOptions::page_cache_window_bytes in MiB;
// 0 leaves the page cache to the kernel, as before that option),
// ORDERLOG_BENCH_SYNC_ON_WRITER_BELOW_BYTES (StoreOptions::sync_on_writer_below_bytes;
// 0 hands every fdatasync to io_uring, as before that option).
// See docs/performance.md.
#include <algorithm>
#include <optional>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "orderlog/check.h"
#include "orderlog/event_store.h"

namespace orderlog {
namespace {

namespace fs = std::filesystem;

constexpr size_t kSmallPayloadBytes = 256;
constexpr size_t kLargePayloadBytes = 1024;
constexpr size_t kStreamsPerThread = 64;      // an appender rotates over its own streams
constexpr size_t kEventTypeCount = 16;        // event types of the read data set
constexpr size_t kLongStreamCount = 1'000;    // BM_ReadStream's streams ...
constexpr size_t kLongStreamEvents = 100;     // ... of this many events each
constexpr size_t kShortStreamCount = 100'000;  // BM_IndexLookupStream's streams ...
constexpr size_t kShortStreamEvents = 4;       // ... of this many events each
constexpr size_t kTypePageEvents = 100;        // BM_IndexLookupByType's page
constexpr size_t kScanPageEvents = 1'024;      // read_all page of BM_ScanAll
constexpr size_t kFillEventsPerAppend = 1'000;  // appends that prepare a log
constexpr uint64_t kRoundsPerIteration = 8;    // concurrent benchmarks, see run_append_load
// After a store is created and prepared, time for the zero-fill of the next segment that
// opening started in the background, so it does not overlap the first timed runs.
constexpr auto kSettleTime = std::chrono::seconds(1);
// Few and fixed: an open may start zero-filling the next segment in the background, so
// hundreds of framework-chosen open/close cycles could write gigabytes for nothing.
constexpr benchmark::IterationCount kReopenIterations = 5;
// The large-batch loads write a 256 MiB segment every 0.2-0.4 s: measured for the
// default 0.5 s, a run sees two or three segment rolls, and whether the next segment's
// zero-fill happens to finish before one of them decides the result. Longer runs
// measure ingestion in its steady state.
constexpr double kLargeBatchSeconds = 3.0;
constexpr auto kPollInterval = std::chrono::microseconds(200);
constexpr auto kCommitWaitTimeout = std::chrono::seconds(60);
constexpr std::string_view kFixturePrefix = "bench-";
static_assert(kLongStreamEvents % 10 == 0, "long streams are written ten events at a time");
static_assert(kSmallPayloadBytes <= kLargePayloadBytes);

struct BenchConfig {
  fs::path root;
  uint64_t scan_mib = 256;
  uint64_t reopen_gib = 1;
  uint64_t prefill_below_commit_bytes = StoreOptions{}.segment_prefill_below_commit_bytes;
  uint64_t page_cache_window_bytes = StoreOptions{}.page_cache_window_bytes;
  uint64_t sync_on_writer_below_bytes = StoreOptions{}.sync_on_writer_below_bytes;
};

// The variable's value when it is set, 0 included.
std::optional<uint64_t> env_u64_if_set(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::nullopt;
  return std::strtoull(text, nullptr, 10);
}

uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  const uint64_t value = std::strtoull(text, nullptr, 10);
  return value == 0 ? fallback : value;
}

const BenchConfig& config() {
  static const BenchConfig value = [] {
    BenchConfig result;
    const char* root = std::getenv("ORDERLOG_BENCH_DIR");
    result.root = (root != nullptr && *root != '\0') ? root : "/tmp/orderlog-bench";
    result.scan_mib = env_u64("ORDERLOG_BENCH_SCAN_MIB", result.scan_mib);
    result.reopen_gib = env_u64("ORDERLOG_BENCH_REOPEN_GIB", result.reopen_gib);
    result.prefill_below_commit_bytes = env_u64_if_set("ORDERLOG_BENCH_PREFILL_BELOW_COMMIT_BYTES")
                                            .value_or(result.prefill_below_commit_bytes);  // 0: never
    if (auto window_mib = env_u64_if_set("ORDERLOG_BENCH_PAGE_CACHE_WINDOW_MIB")) {
      result.page_cache_window_bytes = *window_mib * 1024 * 1024;  // 0: off
    }
    result.sync_on_writer_below_bytes = env_u64_if_set("ORDERLOG_BENCH_SYNC_ON_WRITER_BELOW_BYTES")
                                            .value_or(result.sync_on_writer_below_bytes);
    return result;
  }();
  return value;
}

std::span<const std::byte> payload(size_t bytes) {
  static const std::array<std::byte, kLargePayloadBytes> buffer = [] {
    std::array<std::byte, kLargePayloadBytes> result{};
    for (size_t i = 0; i < result.size(); ++i) result[i] = static_cast<std::byte>((i * 131 + 7) & 0xff);
    return result;
  }();
  OL_CHECK(bytes <= buffer.size());
  return {buffer.data(), bytes};
}

// Deterministic and cheap, so picking a random stream costs next to nothing.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

std::vector<std::string> numbered_names(std::string_view prefix, size_t count) {
  std::vector<std::string> names;
  names.reserve(count);
  for (size_t i = 0; i < count; ++i) names.push_back(std::string(prefix) + std::to_string(i));
  return names;
}

const std::vector<std::string>& event_types() {
  static const std::vector<std::string> types = numbered_names("bench.type.", kEventTypeCount);
  return types;
}

// Default options but for durability; the caller sets data_dir.
StoreOptions store_options(Durability durability) {
  StoreOptions options;
  options.env = default_env();
  options.durability = durability;
  options.segment_prefill_below_commit_bytes = config().prefill_below_commit_bytes;
  options.page_cache_window_bytes = config().page_cache_window_bytes;
  options.sync_on_writer_below_bytes = config().sync_on_writer_below_bytes;
  options.log = [](LogLevel level, std::string_view line) {
    if (level != LogLevel::kInfo) std::fprintf(stderr, "orderlog: %.*s\n", static_cast<int>(line.size()), line.data());
  };
  return options;
}

Status wait_committed(const EventStore& store, GlobalPosition position) {
  if (store.wait_for_position(position, kCommitWaitTimeout)) return Status::ok();
  return Status::timed_out("position " + std::to_string(position.value) + " not committed");
}

// The events of one appending thread: fresh ids for every append, to the thread's own
// streams in turn, so threads never contend on a stream's version.
class Appender {
 public:
  Appender(std::string_view stream_prefix, size_t events_per_append, size_t payload_bytes)
      : streams_(numbered_names(stream_prefix, kStreamsPerThread)), events_(events_per_append) {
    for (NewEvent& event : events_) {
      event.type = "bench.appended";
      event.payload = payload(payload_bytes);
    }
  }

  Result<AppendResult> append_next(EventStore& store) {
    for (NewEvent& event : events_) event.id = EventId::generate();
    const std::string& stream = streams_[next_stream_];
    next_stream_ = (next_stream_ + 1) % streams_.size();
    return store.append(stream, ExpectedVersion::any(), events_);
  }

  // The same append through append_async: `done` runs on the store's writer thread.
  void append_next_async(EventStore& store, AppendCallback done) {
    for (NewEvent& event : events_) event.id = EventId::generate();
    const StreamAppend append{streams_[next_stream_], ExpectedVersion::any(), events_};
    next_stream_ = (next_stream_ + 1) % streams_.size();
    store.append_async(std::span(&append, 1), std::move(done));
  }

 private:
  std::vector<std::string> streams_;
  std::vector<NewEvent> events_;
  size_t next_stream_ = 0;
};

// Appends `events_per_stream` events with 256-byte payloads to each of `streams` in one
// atomic append, cycling the event types from `*type_cursor`.
Status append_to_streams(EventStore& store, std::span<const std::string> streams, size_t events_per_stream,
                         size_t* type_cursor) {
  OL_CHECK(streams.size() <= kStreamsPerAppendMax);
  std::vector<NewEvent> events(streams.size() * events_per_stream);
  for (NewEvent& event : events) {
    event.id = EventId::generate();
    event.type = event_types()[(*type_cursor)++ % kEventTypeCount];
    event.payload = payload(kSmallPayloadBytes);
  }
  std::vector<StreamAppend> appends(streams.size());
  for (size_t i = 0; i < streams.size(); ++i) {
    appends[i].stream_id = streams[i];
    appends[i].events = std::span<const NewEvent>(events).subspan(i * events_per_stream, events_per_stream);
  }
  OL_ASSIGN_OR_RETURN(AppendResult result, store.append_multi(appends));
  return wait_committed(store, result.last_position);
}

// Appends 1000-event batches with `payload_bytes` payloads until the log has grown by
// `log_bytes`.
Status fill_log(EventStore& store, uint64_t log_bytes, size_t payload_bytes) {
  Appender appender("fill-", kFillEventsPerAppend, payload_bytes);
  const uint64_t target = store.stats().bytes_written + log_bytes;
  GlobalPosition last;
  while (store.stats().bytes_written < target) {
    OL_ASSIGN_OR_RETURN(AppendResult result, appender.append_next(store));
    last = result.last_position;
  }
  return wait_committed(store, last);
}

using PrepareFn = std::function<Status(EventStore&)>;

// The data of the benchmark now running. A new key closes and wipes the previous
// store, then opens a fresh one and prepares it once.
class Fixture {
 public:
  ~Fixture() { release(); }

  // `options.data_dir` is ignored: the fixture picks the directory.
  Result<EventStore*> open_store(const std::string& key, const StoreOptions& options, const PrepareFn& prepare) {
    if (key != key_) OL_RETURN_IF_ERROR(create(key, options, prepare));
    OL_CHECK(store_ != nullptr);
    return store_.get();
  }

  // A prepared log that is closed cleanly, for benchmarks that open it themselves.
  Result<fs::path> closed_log(const std::string& key, const PrepareFn& prepare) {
    if (key != key_) {
      OL_RETURN_IF_ERROR(create(key, store_options(Durability::kNone), prepare));
      Status closed = store_->close();
      store_.reset();
      OL_RETURN_IF_ERROR(closed);
    }
    return dir_;
  }

  void release() {
    if (store_ != nullptr) {
      Status closed = store_->close();
      if (!closed.is_ok()) std::fprintf(stderr, "storage_bench: close: %s\n", closed.to_string().c_str());
      store_.reset();
    }
    if (!dir_.empty()) {
      std::error_code ignored;
      fs::remove_all(dir_, ignored);
    }
    key_.clear();
    dir_.clear();
  }

 private:
  Status create(const std::string& key, StoreOptions options, const PrepareFn& prepare) {
    release();
    const fs::path dir = config().root / (std::string(kFixturePrefix) + key);
    std::error_code error;
    fs::remove_all(dir, error);
    fs::create_directories(config().root, error);
    if (error) return Status::io_error("create " + config().root.string() + ": " + error.message());
    options.data_dir = dir.string();
    OL_ASSIGN_OR_RETURN(store_, EventStore::open(options));
    key_ = key;  // set before preparing, so release() wipes a half-prepared store too
    dir_ = dir;
    if (prepare) {
      Status prepared = prepare(*store_);
      if (!prepared.is_ok()) {
        release();
        return prepared;
      }
    }
    std::this_thread::sleep_for(kSettleTime);
    return Status::ok();
  }

  std::string key_;
  fs::path dir_;
  std::unique_ptr<EventStore> store_;
};

Fixture& fixture() {
  static Fixture instance;
  return instance;
}

// Removes directories a crashed earlier run left behind; only names this program creates.
void remove_stale_fixtures() {
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(config().root, error)) {
    if (entry.path().filename().string().starts_with(kFixturePrefix)) fs::remove_all(entry.path(), error);
  }
}

void skip(benchmark::State& state, const Status& status) { state.SkipWithError(status.to_string().c_str()); }

// Group-commit counters from the store's statistics over the timed loop.
void report_commit_counters(benchmark::State& state, const StoreStats& before, const StoreStats& after) {
  const double events = static_cast<double>(after.events_appended - before.events_appended);
  const double batches = static_cast<double>(after.batches - before.batches);
  const double syncs = static_cast<double>(after.syncs - before.syncs);
  if (batches > 0) state.counters["events_per_batch"] = events / batches;
  if (syncs > 0) state.counters["events_per_sync"] = events / syncs;
  state.counters["syncs_per_second"] = benchmark::Counter(syncs, benchmark::Counter::kIsRate);
  state.counters["log_bytes_per_second"] = benchmark::Counter(
      static_cast<double>(after.bytes_written - before.bytes_written), benchmark::Counter::kIsRate,
      benchmark::Counter::kIs1024);
  // Seconds the device spent on writes + fdatasyncs per second: 1.0 means the writer
  // never left it idle, so only a faster device (or fewer bytes) would help.
  state.counters["device_busy"] = benchmark::Counter(
      static_cast<double>(after.write_sync_ns - before.write_sync_ns) / 1e9, benchmark::Counter::kIsRate);
  if (batches > 0) {
    state.counters["write_sync_us"] = static_cast<double>(after.write_sync_ns - before.write_sync_ns) / 1e3 / batches;
  }
}

std::string append_key(std::string_view name, size_t events_per_append, Durability durability) {
  return std::string(name) + "-" + std::to_string(events_per_append) + "-" +
         (durability == Durability::kAlways ? "durable" : "nosync");
}

// One thread appending batches back to back; one iteration is one append.
void run_single_appender(benchmark::State& state, const std::string& key, const StoreOptions& options,
                         size_t events_per_append, size_t payload_bytes) {
  Result<EventStore*> opened = fixture().open_store(key, options, nullptr);
  if (!opened) return skip(state, opened.status());
  EventStore& store = **opened;
  Appender appender("single-", events_per_append, payload_bytes);
  const StoreStats before = store.stats();
  for (auto _ : state) {
    Result<AppendResult> result = appender.append_next(store);
    if (!result) {
      skip(state, result.status());
      break;
    }
  }
  report_commit_counters(state, before, store.stats());
  const auto events = static_cast<int64_t>(state.iterations() * events_per_append);
  state.SetItemsProcessed(events);
  state.SetBytesProcessed(events * static_cast<int64_t>(payload_bytes));
}

void BM_AppendBatch(benchmark::State& state) {
  const auto events_per_append = static_cast<size_t>(state.range(0));
  const Durability durability = state.range(1) != 0 ? Durability::kAlways : Durability::kNone;
  const std::string key = append_key("append-batch", events_per_append, durability);
  run_single_appender(state, key, store_options(durability), events_per_append, kSmallPayloadBytes);
}

// The durable single appender again, with segments only fallocate'd instead of
// zero-filled ahead of the writer: every fdatasync then also commits metadata.
void BM_AppendBatchNoPrefill(benchmark::State& state) {
  const auto events_per_append = static_cast<size_t>(state.range(0));
  StoreOptions options = store_options(Durability::kAlways);
  options.segment_prefill = false;
  const std::string key = append_key("append-noprefill", events_per_append, Durability::kAlways);
  run_single_appender(state, key, options, events_per_append, kSmallPayloadBytes);
}

// The same durable store with StoreOptions::direct_io: the writer's batches go to the
// device without a copy into the page cache.
StoreOptions direct_options() {
  StoreOptions options = store_options(Durability::kAlways);
  options.direct_io = true;
  return options;
}

void BM_AppendLargeBatch1KiB(benchmark::State& state) {
  const std::string key = append_key("append-large", kFillEventsPerAppend, Durability::kAlways);
  run_single_appender(state, key, store_options(Durability::kAlways), kFillEventsPerAppend,
                      kLargePayloadBytes);
}

void BM_AppendLargeBatch1KiBDirect(benchmark::State& state) {
  const std::string key = append_key("append-large-direct", kFillEventsPerAppend, Durability::kAlways);
  run_single_appender(state, key, direct_options(), kFillEventsPerAppend, kLargePayloadBytes);
}

void BM_AppendBatchDirect(benchmark::State& state) {
  const auto events_per_append = static_cast<size_t>(state.range(0));
  const std::string key = append_key("append-batch-direct", events_per_append, Durability::kAlways);
  run_single_appender(state, key, direct_options(), events_per_append, kSmallPayloadBytes);
}

struct LoadOptions {
  size_t threads = 0;
  size_t events_per_append = 0;
  size_t payload_bytes = 0;
};

// What a load's appenders have had acknowledged, and the first error any of them met.
class LoadProgress {
 public:
  void add_events(uint64_t events) { events_acked_.fetch_add(events, std::memory_order_relaxed); }
  void fail(const Status& status) {
    std::lock_guard lock(error_mutex_);
    if (error_.is_ok()) error_ = status;
    failed_.store(true);
  }

  uint64_t events_acked() const { return events_acked_.load(std::memory_order_relaxed); }

  // Sleeps until at least `target` events were acknowledged; false when an appender failed.
  bool wait_for_events(uint64_t target) const {
    while (events_acked() < target) {
      if (failed_.load()) return false;
      std::this_thread::sleep_for(kPollInterval);
    }
    return !failed_.load();
  }

  Status error() const {
    std::lock_guard lock(error_mutex_);
    return error_;
  }

 private:
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> events_acked_{0};
  mutable std::mutex error_mutex_;
  Status error_;
};

// Worker threads that append back to back, each to its own streams, until stopped.
class AppendLoad {
 public:
  AppendLoad(EventStore& store, const LoadOptions& options) : store_(store), options_(options) {}
  ~AppendLoad() { stop(); }

  void start() {
    for (size_t i = 0; i < options_.threads; ++i) workers_.emplace_back([this, i] { run_worker(i); });
  }

  void stop() {
    stopping_.store(true);
    for (std::thread& worker : workers_) worker.join();
    workers_.clear();
  }

  const LoadProgress& progress() const { return progress_; }

 private:
  void run_worker(size_t index) {
    Appender appender("w" + std::to_string(index) + "-", options_.events_per_append, options_.payload_bytes);
    while (!stopping_.load(std::memory_order_relaxed)) {
      Result<AppendResult> result = appender.append_next(store_);
      if (!result) return progress_.fail(result.status());
      progress_.add_events(options_.events_per_append);
    }
  }

  EventStore& store_;
  const LoadOptions options_;
  std::vector<std::thread> workers_;
  std::atomic<bool> stopping_{false};
  LoadProgress progress_;
};

// `options.threads` appenders without threads of their own: each keeps one append in
// flight through append_async and sends its next one from the acknowledgement, on the
// store's writer thread, as orderlogd does for one connection per appender. It
// measures group commit without a thread wake-up per acknowledged append.
class AsyncAppendLoad {
 public:
  AsyncAppendLoad(EventStore& store, const LoadOptions& options) : store_(store), options_(options) {
    for (size_t i = 0; i < options_.threads; ++i) {
      appenders_.push_back(std::make_unique<Appender>("a" + std::to_string(i) + "-", options_.events_per_append,
                                                      options_.payload_bytes));
    }
  }
  ~AsyncAppendLoad() { stop(); }

  void start() {
    in_flight_.store(appenders_.size());
    for (size_t i = 0; i < appenders_.size(); ++i) send(i);
  }

  // Lets every appender's last append finish; none sends another.
  void stop() {
    stopping_.store(true);
    while (in_flight_.load() > 0) std::this_thread::sleep_for(kPollInterval);
  }

  const LoadProgress& progress() const { return progress_; }

 private:
  void send(size_t index) {
    appenders_[index]->append_next_async(store_, [this, index](Result<AppendResult> result) {
      if (!result) {
        progress_.fail(result.status());
      } else {
        progress_.add_events(options_.events_per_append);
      }
      if (!result || stopping_.load(std::memory_order_relaxed)) {
        in_flight_.fetch_sub(1);
        return;
      }
      send(index);
    });
  }

  EventStore& store_;
  const LoadOptions options_;
  std::vector<std::unique_ptr<Appender>> appenders_;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> in_flight_{0};
  LoadProgress progress_;
};

// Runs `options.threads` appenders flat out and times a steady state: the workers start
// before the timed loop, and each iteration waits for kRoundsPerIteration more "rounds"
// (one append per appender each). Throughput counts the events actually acknowledged
// between the start and the end of the loop, so the polling granularity cancels out.
template <typename Load = AppendLoad>
void run_append_load(benchmark::State& state, EventStore& store, const LoadOptions& options) {
  Load load(store, options);
  load.start();
  const uint64_t round_events = options.threads * options.events_per_append;
  if (!load.progress().wait_for_events(round_events)) return skip(state, load.progress().error());
  const StoreStats before = store.stats();
  const uint64_t acked_before = load.progress().events_acked();
  uint64_t target = acked_before;
  for (auto _ : state) {
    target += kRoundsPerIteration * round_events;
    if (!load.progress().wait_for_events(target)) {
      skip(state, load.progress().error());
      break;
    }
  }
  const auto events = static_cast<int64_t>(load.progress().events_acked() - acked_before);
  const StoreStats after = store.stats();
  load.stop();
  report_commit_counters(state, before, after);
  state.counters["threads"] = static_cast<double>(options.threads);
  state.SetItemsProcessed(events);
  state.SetBytesProcessed(events * static_cast<int64_t>(options.payload_bytes));
}

// A fresh durable store under `key` (direct writes when `direct`) with `load` on it.
void run_durable_load(benchmark::State& state, std::string key, bool direct, const LoadOptions& load) {
  if (direct) key += "-direct";
  Result<EventStore*> store =
      fixture().open_store(key, direct ? direct_options() : store_options(Durability::kAlways), nullptr);
  if (!store) return skip(state, store.status());
  run_append_load(state, **store, load);
}

void BM_AppendBatchConcurrent(benchmark::State& state, bool direct) {
  const LoadOptions options{static_cast<size_t>(state.range(0)), 100, kSmallPayloadBytes};
  run_durable_load(state, append_key("append-concurrent", options.events_per_append, Durability::kAlways), direct,
                   options);
}

// The large-batch bandwidth with a few appenders, so encoding overlaps the write.
void BM_AppendLargeBatch1KiBConcurrent(benchmark::State& state, bool direct) {
  const LoadOptions options{static_cast<size_t>(state.range(0)), kFillEventsPerAppend, kLargePayloadBytes};
  run_durable_load(state, append_key("append-large-concurrent", options.threads, Durability::kAlways), direct,
                   options);
}

void BM_ConcurrentSingleAppenders(benchmark::State& state, bool direct) {
  const LoadOptions options{static_cast<size_t>(state.range(0)), 1, kSmallPayloadBytes};
  run_durable_load(state, append_key("single-appenders", options.threads, Durability::kAlways), direct, options);
}

// BM_ConcurrentSingleAppenders' load from appenders that wait for their acknowledgement
// without a thread each (AsyncAppendLoad).
void BM_ConcurrentAsyncAppenders(benchmark::State& state) {
  const LoadOptions options{static_cast<size_t>(state.range(0)), 1, kSmallPayloadBytes};
  Result<EventStore*> store = fixture().open_store(append_key("async-appenders", options.threads, Durability::kAlways),
                                                   store_options(Durability::kAlways), nullptr);
  if (!store) return skip(state, store.status());
  run_append_load<AsyncAppendLoad>(state, **store, options);
}

const std::vector<std::string>& long_streams() {
  static const std::vector<std::string> names = numbered_names("long-", kLongStreamCount);
  return names;
}

const std::vector<std::string>& short_streams() {
  static const std::vector<std::string> names = numbered_names("short-", kShortStreamCount);
  return names;
}

// The read data set: 1,000 streams of 100 events written ten at a time in rounds, so
// each stream is spread over the log, then 100,000 streams of 4 events; 256-byte
// payloads and 16 event types throughout (~500k events, ~180 MiB of log).
Status prepare_read_data(EventStore& store) {
  size_t type_cursor = 0;
  const std::span<const std::string> longs(long_streams());
  for (size_t round = 0; round < kLongStreamEvents / 10; ++round) {
    for (size_t first = 0; first < longs.size(); first += 10) {
      OL_RETURN_IF_ERROR(append_to_streams(store, longs.subspan(first, 10), 10, &type_cursor));
    }
  }
  const std::span<const std::string> shorts(short_streams());
  for (size_t first = 0; first < shorts.size(); first += kStreamsPerAppendMax) {
    const size_t count = std::min(kStreamsPerAppendMax, shorts.size() - first);
    OL_RETURN_IF_ERROR(append_to_streams(store, shorts.subspan(first, count), kShortStreamEvents, &type_cursor));
  }
  return Status::ok();
}

Result<EventStore*> read_store() {
  return fixture().open_store("read", store_options(Durability::kNone), prepare_read_data);
}

void BM_ReadStream(benchmark::State& state) {
  Result<EventStore*> store = read_store();
  if (!store) return skip(state, store.status());
  const auto events = static_cast<size_t>(state.range(0));
  SplitMix64 random(1);
  for (auto _ : state) {
    const std::string& stream = long_streams()[random.next() % long_streams().size()];
    Result<ReadSlice> slice = (*store)->read_stream(stream, StreamVersion{1}, ReadDirection::kForward, events);
    if (!slice || slice->events.size() != events) {
      skip(state, slice ? Status::corruption("short read of " + stream) : slice.status());
      break;
    }
    benchmark::DoNotOptimize(slice->events.back().payload.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * events));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * events * kSmallPayloadBytes));
}

void BM_IndexLookupByType(benchmark::State& state) {
  Result<EventStore*> store = read_store();
  if (!store) return skip(state, store.status());
  const auto events = static_cast<size_t>(state.range(0));
  size_t next_type = 0;
  for (auto _ : state) {
    const std::string& type = event_types()[next_type++ % kEventTypeCount];
    Result<ReadSlice> slice = (*store)->read_by_type(type, GlobalPosition{1}, events);
    if (!slice || slice->events.size() != events) {
      skip(state, slice ? Status::corruption("short read of type " + type) : slice.status());
      break;
    }
    benchmark::DoNotOptimize(slice->events.back().payload.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * events));
}

// One iteration looks a random stream up among 100,000 and reads all its events.
void BM_IndexLookupStream(benchmark::State& state) {
  Result<EventStore*> store = read_store();
  if (!store) return skip(state, store.status());
  SplitMix64 random(2);
  for (auto _ : state) {
    const std::string& stream = short_streams()[random.next() % short_streams().size()];
    Result<ReadSlice> slice = (*store)->read_stream(stream, StreamVersion{1}, ReadDirection::kForward, 64);
    if (!slice || slice->events.size() != kShortStreamEvents) {
      skip(state, slice ? Status::corruption("wrong length of " + stream) : slice.status());
      break;
    }
    benchmark::DoNotOptimize(slice->events.back().payload.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

// Reads the whole log page by page; returns the number of events seen.
Result<uint64_t> scan_log(const EventStore& store) {
  uint64_t events = 0;
  uint64_t touched = 0;
  GlobalPosition from{1};
  for (;;) {
    OL_ASSIGN_OR_RETURN(ReadSlice slice, store.read_all(from, kScanPageEvents));
    for (const EventView& event : slice.events) {
      touched += event.payload.size() + std::to_integer<uint64_t>(event.payload[0]);
    }
    events += slice.events.size();
    if (slice.end || slice.events.empty()) break;
    from = GlobalPosition{slice.next};
  }
  benchmark::DoNotOptimize(touched);
  return events;
}

void BM_ScanAll(benchmark::State& state) {
  const uint64_t log_bytes = static_cast<uint64_t>(state.range(0)) << 20;
  const PrepareFn prepare = [log_bytes](EventStore& store) { return fill_log(store, log_bytes, kSmallPayloadBytes); };
  Result<EventStore*> opened = fixture().open_store("scan", store_options(Durability::kNone), prepare);
  if (!opened) return skip(state, opened.status());
  const EventStore& store = **opened;
  const StoreStats stats = store.stats();
  for (auto _ : state) {
    Result<uint64_t> events = scan_log(store);
    if (!events || *events != stats.committed_position.value) {
      skip(state, events ? Status::corruption("scan saw " + std::to_string(*events) + " events") : events.status());
      break;
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * stats.committed_position.value));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stats.bytes_written));
  state.counters["log_events"] = static_cast<double>(stats.committed_position.value);
}

// Times EventStore::open of a cleanly closed log; the close that follows is not timed.
void BM_ReopenClean(benchmark::State& state) {
  const uint64_t log_bytes = static_cast<uint64_t>(state.range(0)) << 30;
  const std::string key = "reopen-" + std::to_string(state.range(0)) + "gib";
  Result<fs::path> dir = fixture().closed_log(key, [log_bytes](EventStore& store) {
    return fill_log(store, log_bytes, kLargePayloadBytes);
  });
  if (!dir) return skip(state, dir.status());
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    StoreOptions options = store_options(Durability::kAlways);
    options.data_dir = dir->string();
    Result<std::unique_ptr<EventStore>> store = EventStore::open(options);
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
    if (!store) {
      skip(state, store.status());
      break;
    }
    state.SetIterationTime(elapsed.count());
    state.counters["log_events"] = static_cast<double>((*store)->committed_position().value);
    Status closed = (*store)->close();
    if (!closed.is_ok()) {
      skip(state, closed);
      break;
    }
  }
}

benchmark::internal::Benchmark* timed(benchmark::internal::Benchmark* bench, benchmark::TimeUnit unit) {
  return bench->UseRealTime()->Unit(unit);
}

void register_benchmarks() {
  using benchmark::RegisterBenchmark;
  using benchmark::kMicrosecond;
  using benchmark::kMillisecond;
  using benchmark::kNanosecond;
  timed(RegisterBenchmark("BM_AppendBatch", BM_AppendBatch)->ArgsProduct({{1, 10, 100, 1000}, {1, 0}}),
        kMicrosecond);
  timed(RegisterBenchmark("BM_AppendBatchNoPrefill", BM_AppendBatchNoPrefill)->Args({100, 1}), kMicrosecond);
  timed(RegisterBenchmark("BM_AppendBatchDirect", BM_AppendBatchDirect)->Args({1, 1})->Args({100, 1}), kMicrosecond);
  // Each load runs buffered (the default) and with direct writes ("...Direct").
  for (const bool direct : {false, true}) {
    const std::string suffix = direct ? "Direct" : "";
    timed(RegisterBenchmark(("BM_AppendBatchConcurrent" + suffix).c_str(), BM_AppendBatchConcurrent, direct)
              ->Arg(8)
              ->Arg(32)
              ->Arg(64),
          kMicrosecond);
    timed(RegisterBenchmark(("BM_AppendLargeBatch1KiBConcurrent" + suffix).c_str(), BM_AppendLargeBatch1KiBConcurrent, direct)
              ->Arg(4)
              ->MinTime(kLargeBatchSeconds),
          kMicrosecond);
    timed(RegisterBenchmark(("BM_ConcurrentSingleAppenders" + suffix).c_str(), BM_ConcurrentSingleAppenders, direct)->Arg(64),
          kMicrosecond);
  }
  timed(RegisterBenchmark("BM_ConcurrentAsyncAppenders", BM_ConcurrentAsyncAppenders)->Arg(64), kMicrosecond);
  timed(RegisterBenchmark("BM_AppendLargeBatch1KiB", BM_AppendLargeBatch1KiB)->MinTime(kLargeBatchSeconds), kMicrosecond);
  timed(RegisterBenchmark("BM_AppendLargeBatch1KiBDirect", BM_AppendLargeBatch1KiBDirect)->MinTime(kLargeBatchSeconds),
        kMicrosecond);
  timed(RegisterBenchmark("BM_ReadStream", BM_ReadStream)->Arg(kLongStreamEvents), kNanosecond);
  timed(RegisterBenchmark("BM_IndexLookupByType", BM_IndexLookupByType)->Arg(kTypePageEvents), kNanosecond);
  timed(RegisterBenchmark("BM_IndexLookupStream", BM_IndexLookupStream)->Arg(kShortStreamCount), kNanosecond);
  timed(RegisterBenchmark("BM_ScanAll", BM_ScanAll)->Arg(static_cast<int64_t>(config().scan_mib)), kMillisecond);
  RegisterBenchmark("BM_ReopenClean", BM_ReopenClean)
      ->Arg(static_cast<int64_t>(config().reopen_gib))
      ->UseManualTime()
      ->Iterations(kReopenIterations)
      ->Unit(kMillisecond);
}

}  // namespace
}  // namespace orderlog

int main(int argc, char** argv) {
  using orderlog::config;
  benchmark::AddCustomContext("orderlog_bench_dir", config().root.string());
  benchmark::AddCustomContext("orderlog_segment_bytes_max", std::to_string(orderlog::StoreOptions{}.segment_bytes_max));
  orderlog::register_benchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  orderlog::remove_stale_fixtures();
  benchmark::RunSpecifiedBenchmarks();
  orderlog::fixture().release();
  benchmark::Shutdown();
  return 0;
}
