// A group commit smaller than StoreOptions::sync_on_writer_below_bytes is written and
// fdatasync'd by the writer thread itself (File::write_at + sync_data); a larger one
// goes through start_write_and_sync(), so the writer can decide the next batch while
// it is on the device. Either way an append is acknowledged only after its fdatasync
// returned. These tests watch the log files' calls.
#include <condition_variable>
#include <mutex>

#include "forwarding_env.h"
#include "store_test_util.h"

namespace orderlog::testing {
namespace {

using std::chrono::milliseconds;

// What the log files were asked to do, and a gate that can hold their sync_data().
struct LogCalls {
  std::mutex mutex;
  std::condition_variable changed;
  size_t writes = 0;    // write_at
  size_t syncs = 0;     // sync_data, entered
  size_t started = 0;   // start_write_and_sync
  bool hold_syncs = false;

  void reset() {
    std::lock_guard lock(mutex);
    writes = syncs = started = 0;
  }
  void release() {
    std::lock_guard lock(mutex);
    hold_syncs = false;
    changed.notify_all();
  }
  bool wait_for_syncs(size_t count) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, milliseconds(10'000), [&] { return syncs >= count; });
  }
};

class WatchedLogFile : public ForwardingFile {
 public:
  WatchedLogFile(std::unique_ptr<File> base, LogCalls* calls) : ForwardingFile(std::move(base)), calls_(calls) {}

  Status write_at(uint64_t offset, std::span<const std::byte> data) override {
    {
      std::lock_guard lock(calls_->mutex);
      ++calls_->writes;
    }
    return ForwardingFile::write_at(offset, data);
  }
  Status sync_data() override {
    {
      std::unique_lock lock(calls_->mutex);
      ++calls_->syncs;
      calls_->changed.notify_all();
      calls_->changed.wait(lock, [&] { return !calls_->hold_syncs; });
    }
    return ForwardingFile::sync_data();
  }
  Status start_write_and_sync(uint64_t offset, std::span<const std::byte> data, bool sync) override {
    {
      std::lock_guard lock(calls_->mutex);
      ++calls_->started;
    }
    return ForwardingFile::start_write_and_sync(offset, data, sync);
  }

 private:
  LogCalls* calls_;
};

class WatchedLogEnv : public ForwardingEnv {
 public:
  WatchedLogEnv(Env* base, LogCalls* calls) : ForwardingEnv(base), calls_(calls) {}

  Result<std::unique_ptr<File>> open_direct_file(const std::string& path, OpenMode mode) override {
    OL_ASSIGN_OR_RETURN(std::unique_ptr<File> file, base()->open_direct_file(path, mode));
    if (path.find("/log/") == std::string::npos) return file;
    return std::unique_ptr<File>(std::make_unique<WatchedLogFile>(std::move(file), calls_));
  }

 private:
  LogCalls* calls_;
};

struct WatchedStore {
  ~WatchedStore() {
    calls.release();  // a failed assertion may leave a sync held
    store.reset();
  }

  MemEnv mem;
  LogCalls calls;
  WatchedLogEnv env{&mem, &calls};
  std::unique_ptr<EventStore> store;
};

void open_watched(WatchedStore& s, uint64_t sync_on_writer_below_bytes) {
  StoreOptions options = test_options(&s.env, kDefaultTestSegmentBytes);
  options.sync_on_writer_below_bytes = sync_on_writer_below_bytes;
  ASSERT_OK_AND_ASSIGN(s.store, open_store(s.mem, options));
  s.calls.reset();
}

constexpr uint64_t kBelow = 64 * 1024;

struct CallCounts {
  size_t writes = 0;
  size_t syncs = 0;
  size_t started = 0;
};

// What the log file was asked to do for one append of one event with `payload_bytes`.
CallCounts calls_for_one_append(uint64_t sync_on_writer_below_bytes, size_t payload_bytes) {
  WatchedStore s;
  open_watched(s, sync_on_writer_below_bytes);
  if (s.store == nullptr) return {};
  const EventBatch event = make_event("T", std::string(payload_bytes, 'p'));
  EXPECT_OK(s.store->append("s", ExpectedVersion::any(), event.events()));
  std::lock_guard lock(s.calls.mutex);
  return {s.calls.writes, s.calls.syncs, s.calls.started};
}

TEST(SyncOnWriter, ACommitBelowTheThresholdIsWrittenAndSyncedByTheWriterItself) {
  const CallCounts calls = calls_for_one_append(kBelow, 1000);
  EXPECT_EQ(calls.started, 0u);
  EXPECT_EQ(calls.writes, 1u);
  EXPECT_EQ(calls.syncs, 1u);
}

TEST(SyncOnWriter, ACommitOfTheThresholdOrMoreIsStartedSoTheNextBatchCanFormMeanwhile) {
  const CallCounts calls = calls_for_one_append(kBelow, kBelow);
  EXPECT_EQ(calls.started, 1u);
  EXPECT_EQ(calls.writes, 0u);
}

TEST(SyncOnWriter, ZeroStartsEveryCommit) {
  const CallCounts calls = calls_for_one_append(0, 1);
  EXPECT_EQ(calls.started, 1u);
  EXPECT_EQ(calls.writes, 0u);
}

// The appends that arrive while the writer is in its own fdatasync wait for it, and
// then go out together as the next commit.
TEST(SyncOnWriter, AppendsAreAcknowledgedOnlyAfterTheWritersOwnSyncReturns) {
  WatchedStore s;
  ASSERT_NO_FATAL_FAILURE(open_watched(s, kBelow));
  {
    std::lock_guard lock(s.calls.mutex);
    s.calls.hold_syncs = true;
  }
  const EventBatch held_event = make_event("T", "held");
  AsyncOutcome held;
  s.store->append_async(std::vector<StreamAppend>{{"s", ExpectedVersion::any(), held_event.events()}},
                        held.callback());
  ASSERT_TRUE(s.calls.wait_for_syncs(1));
  std::vector<EventBatch> later_events;
  for (int i = 0; i < 5; ++i) later_events.push_back(make_event("T", "later #" + std::to_string(i)));
  std::vector<AsyncOutcome> later(later_events.size());
  for (size_t i = 0; i < later.size(); ++i) {
    s.store->append_async(std::vector<StreamAppend>{{"s", ExpectedVersion::any(), later_events[i].events()}},
                          later[i].callback());
  }

  EXPECT_FALSE(held.ready_within(milliseconds(50))) << "acknowledged before its fdatasync returned";
  for (AsyncOutcome& outcome : later) EXPECT_FALSE(outcome.ready_now());
  EXPECT_EQ(s.store->committed_position(), GlobalPosition{0});
  const uint64_t batches_before = s.store->stats().batches;

  s.calls.release();
  ASSERT_TRUE(held.ready_within(milliseconds(10'000)));
  ASSERT_OK_AND_ASSIGN(const AppendResult first, held.get());
  EXPECT_EQ(first.first_position, GlobalPosition{1});
  for (size_t i = 0; i < later.size(); ++i) {
    ASSERT_TRUE(later[i].ready_within(milliseconds(10'000)));
    ASSERT_OK_AND_ASSIGN(const AppendResult result, later[i].get());
    EXPECT_EQ(result.first_position, GlobalPosition{2 + i});
  }
  EXPECT_EQ(s.store->stats().batches - batches_before, 2u) << "the held commit, then the five that waited for it";
  EXPECT_EQ(read_all_events(*s.store).size(), 6u);
}

}  // namespace
}  // namespace orderlog::testing
