// SnapshotStore: the latest snapshot per aggregate survives reopen and power cuts;
// damaged bytes (every flipped byte of a record, a torn tail, an unknown format) are
// skipped and counted and never returned; the writer queue is bounded, flush waits,
// write failures are logged and counted and later saves still work; concurrent saves
// and loads are safe. Runs on MemEnv, with FaultEnv for injected failures and a
// GateEnv (below) to hold the writer in a sync.
#include "orderlog/snapshot_store.h"

#include <gtest/gtest.h>

#include "forwarding_env.h"
#include "log_capture.h"
#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "fault_env.h"
#include "mem_env.h"
#include "snapshot/snapshot_format.h"

namespace orderlog::testing {
namespace {

constexpr char kDir[] = "/db/snapshots";
constexpr uint64_t kSmallSegmentBytes = 64 * 1024;

// A state that names its aggregate and version, so any bytes a load returns can be
// checked against the version it claims. It never contains the record magic.
std::vector<std::byte> state_of(const std::string& id, uint64_t version, size_t bytes = 40) {
  std::string text = id + "@" + std::to_string(version) + ":";
  while (text.size() < bytes) text += static_cast<char>('a' + text.size() % 26);
  const auto* begin = reinterpret_cast<const std::byte*>(text.data());
  return {begin, begin + text.size()};
}

Snapshot make_snapshot(const std::string& id, uint64_t version, size_t state_bytes = 40) {
  return Snapshot{id, version, 3, state_of(id, version, state_bytes)};
}

void expect_snapshot(const SnapshotStore& store, const std::string& id, uint64_t version) {
  const std::optional<Snapshot> loaded = store.load_latest(id);
  ASSERT_TRUE(loaded.has_value()) << id;
  EXPECT_EQ(loaded->aggregate_id, id);
  EXPECT_EQ(loaded->version, version) << id;
  EXPECT_EQ(loaded->schema_version, 3);
  EXPECT_EQ(loaded->state, state_of(id, loaded->version, loaded->state.size()));
}

// Holds every sync_data() of its files while closed, so a test can keep the writer
// busy at a known point.
class GateEnv : public ForwardingEnv {
 public:
  explicit GateEnv(Env* base) : ForwardingEnv(base) {}
  void close_gate() { std::lock_guard lock(mutex_); open_ = false; }
  void open_gate() {
    { std::lock_guard lock(mutex_); open_ = true; }
    changed_.notify_all();
  }
  void wait_until_held() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return held_ > 0; });
  }
  void pass_sync() {
    std::unique_lock lock(mutex_);
    ++held_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
    --held_;
  }

  Result<std::unique_ptr<File>> open_file(const std::string& path, OpenMode mode) override;

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = true;
  int held_ = 0;
};

class GatedFile final : public ForwardingFile {
 public:
  GatedFile(GateEnv* gate, std::unique_ptr<File> base) : ForwardingFile(std::move(base)), gate_(gate) {}
  Status sync_data() override {
    gate_->pass_sync();
    return ForwardingFile::sync_data();
  }

 private:
  GateEnv* gate_;
};

Result<std::unique_ptr<File>> GateEnv::open_file(const std::string& path, OpenMode mode) {
  OL_ASSIGN_OR_RETURN(std::unique_ptr<File> file, base()->open_file(path, mode));
  return std::unique_ptr<File>(std::make_unique<GatedFile>(this, std::move(file)));
}

SnapshotStoreOptions options_on(Env* env, LogCapture* log, uint64_t segment_bytes = kSmallSegmentBytes) {
  SnapshotStoreOptions options;
  options.dir = kDir;
  options.env = env;
  options.segment_bytes_max = segment_bytes;
  options.log = log->sink();
  return options;
}

std::unique_ptr<SnapshotStore> open_or_die(const SnapshotStoreOptions& options) {
  if (options.env->create_dir("/db").is_ok()) {
    Result<std::unique_ptr<SnapshotStore>> store = SnapshotStore::open(options);
    EXPECT_TRUE(store.is_ok()) << store.status().to_string();
    if (store.is_ok()) return std::move(store).value();
  }
  ADD_FAILURE() << "cannot open a snapshot store";
  return nullptr;
}

std::vector<std::string> segment_paths(Env& env) {
  std::vector<std::string> paths;
  const Result<std::vector<std::string>> names = env.list_dir(kDir);
  EXPECT_TRUE(names.is_ok());
  if (!names.is_ok()) return paths;
  for (const std::string& name : names.value()) paths.push_back(std::string(kDir) + "/" + name);
  std::sort(paths.begin(), paths.end());
  return paths;
}

// The bytes of the only segment after saving `snapshots` one flush at a time, and
// where each record starts; the last entry of `starts` is the end of the last record.
struct WrittenSegment {
  std::string path;
  std::string bytes;
  std::vector<size_t> starts;
};

WrittenSegment write_one_by_one(MemEnv& env, const std::vector<Snapshot>& snapshots) {
  LogCapture log;
  std::unique_ptr<SnapshotStore> store = open_or_die(options_on(&env, &log));
  WrittenSegment written;
  written.starts.push_back(0);
  for (const Snapshot& snapshot : snapshots) {
    store->save_async(snapshot);
    EXPECT_TRUE(store->flush().is_ok());
    written.path = segment_paths(env).back();
    written.starts.push_back(env.contents(written.path).value().size());
  }
  EXPECT_TRUE(store->close().is_ok());
  EXPECT_EQ(segment_paths(env).size(), 1u);
  written.bytes = env.contents(written.path).value();
  return written;
}

// A disk holding only `bytes` as the segment at `path`.
std::unique_ptr<MemEnv> disk_with(const std::string& path, const std::string& bytes) {
  auto env = std::make_unique<MemEnv>();
  EXPECT_TRUE(env->create_dir("/db").is_ok());
  EXPECT_TRUE(env->create_dir(kDir).is_ok());
  env->set_contents(path, bytes);
  return env;
}

TEST(SnapshotStore, SaveThenLoadLatestReturnsTheNewest) {
  MemEnv env;
  LogCapture log;
  std::unique_ptr<SnapshotStore> store = open_or_die(options_on(&env, &log));
  for (uint64_t version = 1; version <= 3; ++version) store->save_async(make_snapshot("order-1", version));
  ASSERT_TRUE(store->flush().is_ok());

  expect_snapshot(*store, "order-1", 3);
  EXPECT_FALSE(store->load_latest("order-2").has_value());
  const SnapshotStats stats = store->stats();
  EXPECT_EQ(stats.written, 3u);
  EXPECT_EQ(stats.aggregates, 1u);
  EXPECT_EQ(stats.dropped + stats.failed + stats.skipped, 0u);
}

TEST(SnapshotStore, AnOlderVersionSavedLaterDoesNotReplaceTheNewest) {
  MemEnv env;
  LogCapture log;
  std::unique_ptr<SnapshotStore> store = open_or_die(options_on(&env, &log));
  store->save_async(make_snapshot("order-1", 7));
  store->save_async(make_snapshot("order-1", 4));
  ASSERT_TRUE(store->flush().is_ok());
  expect_snapshot(*store, "order-1", 7);
}

TEST(SnapshotStore, ReopenRebuildsTheIndexFromTheLog) {
  MemEnv env;
  LogCapture log;
  {
    std::unique_ptr<SnapshotStore> store = open_or_die(options_on(&env, &log));
    for (uint64_t version = 1; version <= 5; ++version) {
      for (const char* id : {"a", "b", "c"}) store->save_async(make_snapshot(id, version * 10));
    }
    ASSERT_TRUE(store->close().is_ok());
  }
  const std::unique_ptr<MemEnv> after_power_cut = env.crash_copy();
  for (MemEnv* disk : {&env, after_power_cut.get()}) {
    std::unique_ptr<SnapshotStore> store = open_or_die(options_on(disk, &log));
    for (const char* id : {"a", "b", "c"}) expect_snapshot(*store, id, 50);
    EXPECT_EQ(store->stats().aggregates, 3u);
    EXPECT_EQ(store->stats().skipped, 0u);
  }
}

TEST(SnapshotStore, EveryFlippedByteOfARecordSkipsOnlyThatRecord) {
  MemEnv env;
  const WrittenSegment written =
      write_one_by_one(env, {make_snapshot("a", 1), make_snapshot("a", 2), make_snapshot("b", 1)});
  const size_t begin = written.starts[1];  // the record of a@2
  const size_t end = written.starts[2];
  ASSERT_LT(begin, end);
  for (size_t at = begin; at < end; ++at) {
    std::string damaged = written.bytes;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x5A);
    const std::unique_ptr<MemEnv> disk = disk_with(written.path, damaged);
    LogCapture log;
    std::unique_ptr<SnapshotStore> store = open_or_die(options_on(disk.get(), &log));
    expect_snapshot(*store, "a", 1);
    expect_snapshot(*store, "b", 1);
    EXPECT_EQ(store->stats().skipped, 1u) << "byte " << at;
    EXPECT_EQ(log.count(LogLevel::kWarning), 1u) << "byte " << at;
  }
}

TEST(SnapshotStore, RecordOfAnUnknownFormatVersionIsSkippedEvenWithAGoodChecksum) {
  MemEnv env;
  const WrittenSegment written = write_one_by_one(env, {make_snapshot("a", 1), make_snapshot("a", 2)});
  std::string future = written.bytes;
  char* record = future.data() + written.starts[1];
  const uint16_t version = snapshot::kRecordFormatVersion + 1;
  std::memcpy(record + 4, &version, sizeof(version));
  const uint64_t seed = XXH3_64bits(record, snapshot::kRecordChecksumOffset);
  const size_t body_bytes = written.starts[2] - written.starts[1] - snapshot::kRecordHeaderBytes;
  const uint64_t checksum = XXH3_64bits_withSeed(record + snapshot::kRecordHeaderBytes, body_bytes, seed);
  std::memcpy(record + snapshot::kRecordChecksumOffset, &checksum, sizeof(checksum));

  const std::unique_ptr<MemEnv> disk = disk_with(written.path, future);
  LogCapture log;
  std::unique_ptr<SnapshotStore> store = open_or_die(options_on(disk.get(), &log));
  expect_snapshot(*store, "a", 1);
  EXPECT_EQ(store->stats().skipped, 1u);
}

TEST(SnapshotStore, LoadLatestNeverReturnsBytesThatWentBadAfterOpen) {
  MemEnv env;
  LogCapture log;
  std::unique_ptr<SnapshotStore> store = open_or_die(options_on(&env, &log));
  store->save_async(make_snapshot("a", 1));
  ASSERT_TRUE(store->flush().is_ok());
  const std::string path = segment_paths(env).back();
  std::string bytes = env.contents(path).value();
  bytes[bytes.size() - 12] = static_cast<char>(bytes[bytes.size() - 12] ^ 1);
  env.set_contents(path, bytes);

  EXPECT_FALSE(store->load_latest("a").has_value());
  EXPECT_EQ(log.count(LogLevel::kError), 1u);
}

TEST(SnapshotStore, TornTailAfterAPowerCutIsSkippedAndNewSavesStillWork) {
  MemEnv env;
  const WrittenSegment written = write_one_by_one(env, {make_snapshot("a", 1), make_snapshot("a", 2, 300)});
  // The power went while a@2 was being written: only its first half reached the disk.
  const size_t torn_end = written.starts[1] + (written.starts[2] - written.starts[1]) / 2;
  const std::unique_ptr<MemEnv> disk = disk_with(written.path, written.bytes.substr(0, torn_end));
  LogCapture log;
  {
    std::unique_ptr<SnapshotStore> store = open_or_die(options_on(disk.get(), &log));
    expect_snapshot(*store, "a", 1);
    EXPECT_EQ(store->stats().skipped, 1u);
    store->save_async(make_snapshot("a", 3));
    ASSERT_TRUE(store->close().is_ok());
  }
  const std::unique_ptr<MemEnv> after_power_cut = disk->crash_copy();
  std::unique_ptr<SnapshotStore> store = open_or_die(options_on(after_power_cut.get(), &log));
  expect_snapshot(*store, "a", 3);
  EXPECT_EQ(store->stats().skipped, 0u);  // the tail was cut, not written around
}

TEST(SnapshotStore, PowerCutDuringWritesLeavesOnlyValidSnapshots) {
  MemEnv env;
  LogCapture log;
  std::unique_ptr<SnapshotStore> store = open_or_die(options_on(&env, &log));
  store->save_async(make_snapshot("a", 1));
  ASSERT_TRUE(store->flush().is_ok());
  std::vector<std::unique_ptr<MemEnv>> cuts;
  for (uint64_t version = 2; version <= 200; ++version) {
    store->save_async(make_snapshot("a", version, 500));
    if (version % 20 == 0) cuts.push_back(env.crash_copy());
  }
  ASSERT_TRUE(store->close().is_ok());
  for (const auto& cut : cuts) {
    std::unique_ptr<SnapshotStore> reopened = open_or_die(options_on(cut.get(), &log));
    const std::optional<Snapshot> latest = reopened->load_latest("a");
    ASSERT_TRUE(latest.has_value());
    expect_snapshot(*reopened, "a", latest->version);
    EXPECT_EQ(reopened->stats().skipped, 0u);
  }
}

TEST(SnapshotStore, FullQueueDropsAndCounts) {
  MemEnv disk;
  GateEnv gate(&disk);
  LogCapture log;
  SnapshotStoreOptions options = options_on(&gate, &log);
  options.queue_snapshots_max = 4;
  std::unique_ptr<SnapshotStore> store = open_or_die(options);
  gate.close_gate();
  store->save_async(make_snapshot("a", 1));
  gate.wait_until_held();  // the writer took a@1 and waits in its sync
  for (uint64_t version = 2; version <= 8; ++version) store->save_async(make_snapshot("a", version));
  EXPECT_EQ(store->stats().dropped, 3u);  // a@6..a@8
  EXPECT_EQ(log.count(LogLevel::kWarning), 1u);

  gate.open_gate();
  ASSERT_TRUE(store->flush().is_ok());
  EXPECT_EQ(store->stats().written, 5u);
  expect_snapshot(*store, "a", 5);
}

TEST(SnapshotStore, SnapshotThatCannotFitASegmentIsDroppedAndLogged) {
  MemEnv env;
  LogCapture log;
  std::unique_ptr<SnapshotStore> store = open_or_die(options_on(&env, &log));
  store->save_async(make_snapshot("a", 1, kSmallSegmentBytes));
  store->save_async(make_snapshot("", 1));
  ASSERT_TRUE(store->flush().is_ok());
  EXPECT_EQ(store->stats().dropped, 2u);
  EXPECT_EQ(log.count(LogLevel::kWarning), 2u);
  EXPECT_FALSE(store->load_latest("a").has_value());
}

TEST(SnapshotStore, FlushWaitsUntilQueuedSnapshotsAreWritten) {
  MemEnv disk;
  GateEnv gate(&disk);
  LogCapture log;
  std::unique_ptr<SnapshotStore> store = open_or_die(options_on(&gate, &log));
  EXPECT_TRUE(store->flush().is_ok());  // nothing queued: returns at once
  gate.close_gate();
  store->save_async(make_snapshot("a", 1));
  std::future<Status> flushed = std::async(std::launch::async, [&] { return store->flush(); });
  EXPECT_EQ(flushed.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  EXPECT_FALSE(store->load_latest("a").has_value());  // not synced, so not visible

  gate.open_gate();
  EXPECT_TRUE(flushed.get().is_ok());
  expect_snapshot(*store, "a", 1);
}

TEST(SnapshotStore, ManyAggregatesAcrossSegmentsAreAllFound) {
  MemEnv env;
  LogCapture log;
  SnapshotStoreOptions options = options_on(&env, &log);
  options.queue_snapshots_max = 10'000;
  constexpr int kAggregates = 2'000;
  {
    std::unique_ptr<SnapshotStore> store = open_or_die(options);
    for (uint64_t version = 1; version <= 2; ++version) {
      for (int i = 0; i < kAggregates; ++i) store->save_async(make_snapshot("order-" + std::to_string(i), version));
    }
    ASSERT_TRUE(store->close().is_ok());
    EXPECT_EQ(store->stats().written, 2u * kAggregates);
  }
  EXPECT_GT(segment_paths(env).size(), 3u);
  std::unique_ptr<SnapshotStore> store = open_or_die(options);
  EXPECT_EQ(store->stats().aggregates, static_cast<uint64_t>(kAggregates));
  for (int i = 0; i < kAggregates; ++i) expect_snapshot(*store, "order-" + std::to_string(i), 2);
}

TEST(SnapshotStore, ConcurrentSavesFlushesAndLoadsSeeOnlyWholeSnapshots) {
  MemEnv env;
  LogCapture log;
  SnapshotStoreOptions options = options_on(&env, &log);
  options.queue_snapshots_max = 10'000;
  std::unique_ptr<SnapshotStore> store = open_or_die(options);
  constexpr int kSavers = 3;
  constexpr uint64_t kVersions = 300;
  std::atomic<bool> saving{true};
  std::vector<std::thread> threads;
  for (int saver = 0; saver < kSavers; ++saver) {
    threads.emplace_back([&, saver] {
      const std::string id = "order-" + std::to_string(saver);
      for (uint64_t version = 1; version <= kVersions; ++version) {
        store->save_async(make_snapshot(id, version));
        if (version % 50 == 0) {
          EXPECT_TRUE(store->flush().is_ok());
        }
      }
    });
  }
  for (int loader = 0; loader < 2; ++loader) {
    threads.emplace_back([&] {
      std::vector<uint64_t> seen(kSavers, 0);
      while (saving.load()) {
        for (int saver = 0; saver < kSavers; ++saver) {
          const std::optional<Snapshot> loaded = store->load_latest("order-" + std::to_string(saver));
          if (!loaded) continue;
          EXPECT_EQ(loaded->state, state_of(loaded->aggregate_id, loaded->version));
          EXPECT_GE(loaded->version, seen[saver]);  // versions never go back
          seen[saver] = loaded->version;
        }
      }
    });
  }
  for (int saver = 0; saver < kSavers; ++saver) threads[saver].join();
  ASSERT_TRUE(store->flush().is_ok());
  saving.store(false);
  for (size_t i = kSavers; i < threads.size(); ++i) threads[i].join();
  for (int saver = 0; saver < kSavers; ++saver) expect_snapshot(*store, "order-" + std::to_string(saver), kVersions);
  EXPECT_EQ(store->stats().written, kSavers * kVersions);
}

// Given a store that wrote a@1, when `fault` hits the next batch (a@2), then the
// failure is logged, counted and reported by flush, a@1 stays the latest, and a@3
// is written to a new segment and survives a reopen.
void expect_fault_is_survived(FaultOp op, size_t torn_bytes_kept) {
  MemEnv disk;
  FaultEnv faults(&disk);
  LogCapture log;
  std::unique_ptr<SnapshotStore> store = open_or_die(options_on(&faults, &log));
  store->save_async(make_snapshot("a", 1));
  ASSERT_TRUE(store->flush().is_ok());

  FaultRule fault;
  fault.op = op;
  fault.path_contains = ".snap";
  fault.torn_bytes_kept = torn_bytes_kept;
  faults.add_rule(fault);
  store->save_async(make_snapshot("a", 2));
  EXPECT_FALSE(store->flush().is_ok());
  EXPECT_EQ(store->stats().failed, 1u);
  EXPECT_EQ(log.count(LogLevel::kError), 1u);
  expect_snapshot(*store, "a", 1);

  store->save_async(make_snapshot("a", 3));
  ASSERT_TRUE(store->close().is_ok());
  expect_snapshot(*store, "a", 3);
  EXPECT_EQ(faults.failures_injected(), 1u);
  const std::unique_ptr<MemEnv> after_power_cut = disk.crash_copy();
  std::unique_ptr<SnapshotStore> reopened = open_or_die(options_on(after_power_cut.get(), &log));
  expect_snapshot(*reopened, "a", 3);
}

TEST(SnapshotStore, FailedWriteIsLoggedCountedAndLaterSavesRetry) {
  expect_fault_is_survived(FaultOp::kWrite, 0);
}

TEST(SnapshotStore, TornWriteIsLoggedCountedAndLaterSavesRetry) {
  expect_fault_is_survived(FaultOp::kWrite, 30);
}

TEST(SnapshotStore, FailedSyncIsLoggedCountedAndLaterSavesRetry) {
  expect_fault_is_survived(FaultOp::kSync, 0);
}

TEST(SnapshotStore, CloseWritesWhatIsQueuedAndLaterSavesAreDropped) {
  MemEnv env;
  LogCapture log;
  std::unique_ptr<SnapshotStore> store = open_or_die(options_on(&env, &log));
  store->save_async(make_snapshot("a", 1));
  ASSERT_TRUE(store->close().is_ok());
  EXPECT_TRUE(store->close().is_ok());
  store->save_async(make_snapshot("a", 2));
  EXPECT_EQ(store->stats().dropped, 1u);
  expect_snapshot(*store, "a", 1);
}

TEST(SnapshotStore, OpenRejectsOptionsOutsideTheLimits) {
  MemEnv env;
  LogCapture log;
  ASSERT_TRUE(env.create_dir("/db").is_ok());
  SnapshotStoreOptions options = options_on(&env, &log, 1024);
  EXPECT_EQ(SnapshotStore::open(options).status().code(), StatusCode::kInvalidArgument);
  options = options_on(&env, &log);
  options.queue_snapshots_max = 0;
  EXPECT_EQ(SnapshotStore::open(options).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace orderlog::testing
