// How the log's active segment is written. Direct (O_DIRECT) writes cover whole pages,
// so each batch writes the committed bytes of the last, partly filled page again. These
// tests pin that such rewrites never change a committed byte, that a power cut or a
// reopen (direct or buffered) keeps every acknowledged event, and that readers tailing
// the log on a real disk always see committed events intact while the page they read
// is being rewritten underneath them. Buffered writes cover whole pages too, of
// segments zero-filled with direct writes.

#include <atomic>
#include <mutex>
#include <random>
#include <thread>

#include "forwarding_env.h"
#include "log_capture.h"
#include "store_test_util.h"

namespace orderlog::testing {
namespace {

struct WriteRecord {
  std::string path;
  uint64_t offset = 0;
  size_t bytes = 0;
  size_t alignment = 0;
};

// Checks each started write of a segment against the bytes already in the file: a
// write may only fill zero bytes, never change one already written.
class WriteWatchingFile : public ForwardingFile {
 public:
  WriteWatchingFile(std::unique_ptr<File> base, std::string path, std::mutex* mutex,
                    std::vector<WriteRecord>* writes)
      : ForwardingFile(std::move(base)), path_(std::move(path)), mutex_(mutex), writes_(writes) {}

  Status start_write_and_sync(uint64_t offset, std::span<const std::byte> data, bool sync) override {
    std::string before(data.size(), '\0');
    const Status read = read_at(offset, std::as_writable_bytes(std::span<char>(before.data(), before.size())));
    EXPECT_TRUE(read.is_ok()) << read.to_string();
    size_t changed = 0;
    for (size_t i = 0; i < data.size(); ++i) {
      if (before[i] != '\0' && static_cast<char>(data[i]) != before[i]) ++changed;
    }
    EXPECT_EQ(changed, 0u) << "a write at " << path_ << " offset " << offset << " changed written bytes";
    {
      std::lock_guard lock(*mutex_);
      writes_->push_back({path_, offset, data.size(), write_alignment()});
    }
    return ForwardingFile::start_write_and_sync(offset, data, sync);
  }

 private:
  std::string path_;
  std::mutex* mutex_;
  std::vector<WriteRecord>* writes_;
};

// Watches the files opened for direct writes, and with `watch_buffered` the others too.
class WriteWatchingEnv : public ForwardingEnv {
 public:
  explicit WriteWatchingEnv(Env* base, bool watch_buffered = false)
      : ForwardingEnv(base), watch_buffered_(watch_buffered) {}

  Result<std::unique_ptr<File>> open_direct_file(const std::string& path, OpenMode mode) override {
    OL_ASSIGN_OR_RETURN(std::unique_ptr<File> file, base()->open_direct_file(path, mode));
    {
      std::lock_guard lock(mutex_);
      ++direct_opens_;
    }
    return std::unique_ptr<File>(std::make_unique<WriteWatchingFile>(std::move(file), path, &mutex_, &writes_));
  }
  Result<std::unique_ptr<File>> open_file(const std::string& path, OpenMode mode) override {
    OL_ASSIGN_OR_RETURN(std::unique_ptr<File> file, base()->open_file(path, mode));
    if (!watch_buffered_) return file;
    return std::unique_ptr<File>(std::make_unique<WriteWatchingFile>(std::move(file), path, &mutex_, &writes_));
  }
  std::vector<WriteRecord> writes() {
    std::lock_guard lock(mutex_);
    return writes_;
  }
  size_t direct_opens() {
    std::lock_guard lock(mutex_);
    return direct_opens_;
  }

 private:
  const bool watch_buffered_;
  std::mutex mutex_;
  std::vector<WriteRecord> writes_;
  size_t direct_opens_ = 0;
};

// `appends` appends of 1..4 events with payloads of 1..900 bytes, so batches end at
// every kind of offset within a page.
std::vector<EventBatch> odd_sized_appends(size_t appends, uint32_t seed) {
  std::mt19937 random(seed);
  std::vector<EventBatch> batches;
  for (size_t i = 0; i < appends; ++i) {
    std::vector<EventSpec> specs(1 + random() % 4);
    for (EventSpec& spec : specs) spec.payload = std::string(1 + random() % 900, static_cast<char>('a' + random() % 26));
    batches.emplace_back(std::move(specs));
  }
  return batches;
}

// Options for a store on a WriteWatchingEnv: every commit is started
// (sync_on_writer_below_bytes 0), so the watcher sees each one. What a commit writes
// does not depend on whether the writer syncs it itself.
StoreOptions watched_options(Env* env) {
  StoreOptions options = test_options(env, kSmallSegmentBytes);
  options.sync_on_writer_below_bytes = 0;
  return options;
}

std::vector<std::string> payloads_of(const std::vector<EventBatch>& batches) {
  std::vector<std::string> payloads;
  for (const EventBatch& batch : batches) {
    for (const EventSpec& spec : batch.specs()) payloads.push_back(spec.payload);
  }
  return payloads;
}

std::vector<std::string> payloads_of(const std::vector<StoredEvent>& events) {
  std::vector<std::string> payloads;
  for (const StoredEvent& event : events) payloads.push_back(event.payload);
  return payloads;
}

TEST(DirectWrites, EveryWriteCoversWholePagesAndNeverChangesAWrittenByte) {
  MemEnv mem;
  WriteWatchingEnv env(&mem);
  const std::vector<EventBatch> batches = odd_sized_appends(300, 7);
  {
    ASSERT_OK_AND_ASSIGN(auto store, open_store(mem, watched_options(&env)));
    for (size_t i = 0; i < batches.size(); ++i) {
      ASSERT_OK(store->append("stream-" + std::to_string(i % 5), ExpectedVersion::any(), batches[i].events()));
    }
    EXPECT_EQ(payloads_of(read_all_events(*store)), payloads_of(batches));
  }
  const std::vector<WriteRecord> writes = env.writes();
  ASSERT_GE(writes.size(), batches.size()) << "one synchronous append at a time: a write each";
  size_t segments_started = 0;  // files are opened under a temporary name, so count offset 0
  for (const WriteRecord& write : writes) {
    segments_started += write.offset == 0 ? 1 : 0;
    EXPECT_EQ(write.alignment, kDirectIoAlignment) << write.path;
    EXPECT_EQ(write.offset % kDirectIoAlignment, 0u) << write.path << " offset " << write.offset;
    EXPECT_EQ(write.bytes % kDirectIoAlignment, 0u) << write.path << " write of " << write.bytes;
  }
  EXPECT_GE(segments_started, 3u) << "the appends should roll over several 64 KiB segments";
}

// Buffered log writes cover whole pages too: segments are zero-filled with direct
// writes, so their pages start out uncached, and a write of part of a page would make
// the kernel read the rest of it from the device first.
TEST(BufferedWrites, CoverWholePagesOfSegmentsZeroFilledDirectly) {
  MemEnv mem;
  WriteWatchingEnv env(&mem, /*watch_buffered=*/true);
  const std::vector<EventBatch> batches = odd_sized_appends(300, 9);
  StoreOptions options = watched_options(&env);
  options.direct_io = false;
  options.segment_prefill = true;
  {
    ASSERT_OK_AND_ASSIGN(auto store, open_store(mem, options));
    for (size_t i = 0; i < batches.size(); ++i) {
      ASSERT_OK(store->append("stream-" + std::to_string(i % 5), ExpectedVersion::any(), batches[i].events()));
    }
    EXPECT_EQ(payloads_of(read_all_events(*store)), payloads_of(batches));
    ASSERT_OK(store->close());
  }
  const std::vector<WriteRecord> writes = env.writes();
  ASSERT_GE(writes.size(), batches.size());
  for (const WriteRecord& write : writes) {
    EXPECT_EQ(write.alignment, 1u) << write.path << ": the log itself is written through the page cache";
    EXPECT_EQ(write.offset % kDirectIoAlignment, 0u) << write.path << " offset " << write.offset;
    EXPECT_EQ(write.bytes % kDirectIoAlignment, 0u) << write.path << " write of " << write.bytes;
  }
  EXPECT_GE(env.direct_opens(), 3u) << "every segment, the first and those the log rolled into, zero-filled directly";
  ASSERT_OK_AND_ASSIGN(auto reopened, open_store(mem, options));
  EXPECT_EQ(payloads_of(read_all_events(*reopened)), payloads_of(batches));
}

// Where the filesystem refuses O_DIRECT (open answers EINVAL), the POSIX Env opens the
// file buffered; an Env that hands out buffered files for direct opens plays that
// filesystem here. The store must say so once, and work as a buffered one.
class NoDirectIoEnv : public ForwardingEnv {
 public:
  using ForwardingEnv::ForwardingEnv;
  Result<std::unique_ptr<File>> open_direct_file(const std::string& path, OpenMode mode) override {
    return base()->open_file(path, mode);
  }
};

TEST(DirectWrites, WithoutDirectIoTheStoreSaysSoAndWritesThroughThePageCache) {
  MemEnv mem;
  NoDirectIoEnv no_direct(&mem);
  WriteWatchingEnv env(&no_direct, /*watch_buffered=*/true);
  LogCapture capture;
  StoreOptions options = watched_options(&env);
  options.direct_io = true;
  options.log = capture.sink();
  const std::vector<EventBatch> batches = odd_sized_appends(200, 13);
  {
    ASSERT_OK_AND_ASSIGN(auto store, open_store(mem, options));
    for (const EventBatch& batch : batches) ASSERT_OK(store->append("s", ExpectedVersion::any(), batch.events()));
    EXPECT_EQ(payloads_of(read_all_events(*store)), payloads_of(batches));
    ASSERT_OK(store->close());
  }
  EXPECT_EQ(capture.count(LogLevel::kWarning), 1u) << capture.dump();
  EXPECT_NE(capture.dump().find("direct I/O is not available"), std::string::npos) << capture.dump();
  const std::vector<WriteRecord> writes = env.writes();
  ASSERT_GE(writes.size(), batches.size());
  for (const WriteRecord& write : writes) EXPECT_EQ(write.alignment, 1u) << write.path;
  ASSERT_OK_AND_ASSIGN(auto reopened, open_store(mem, options));
  EXPECT_EQ(payloads_of(read_all_events(*reopened)), payloads_of(batches));
}

TEST(DirectWrites, PowerCutKeepsEveryAcknowledgedEventAndTheLogGrowsOn) {
  MemEnv env;
  const std::vector<EventBatch> first = odd_sized_appends(120, 11);
  {
    ASSERT_OK_AND_ASSIGN(auto store, open_store(env, test_options(&env, kSmallSegmentBytes)));
    for (const EventBatch& batch : first) ASSERT_OK(store->append("s", ExpectedVersion::any(), batch.events()));
    std::unique_ptr<MemEnv> cut = env.crash_copy();
    // Reopen the disk as the power cut left it and write on: the first batch after
    // recovery rewrites a tail page that recovery read back from the file.
    ASSERT_OK_AND_ASSIGN(auto reopened, open_store(*cut, test_options(cut.get(), kSmallSegmentBytes)));
    EXPECT_EQ(payloads_of(read_all_events(*reopened)), payloads_of(first));
    const std::vector<EventBatch> second = odd_sized_appends(40, 12);
    for (const EventBatch& batch : second) ASSERT_OK(reopened->append("s", ExpectedVersion::any(), batch.events()));
    std::vector<std::string> expected = payloads_of(first);
    for (const std::string& payload : payloads_of(second)) expected.push_back(payload);
    EXPECT_EQ(payloads_of(read_all_events(*reopened)), expected);
    ASSERT_OK(reopened->close());
    ASSERT_OK_AND_ASSIGN(auto again, open_store(*cut, test_options(cut.get(), kSmallSegmentBytes)));
    EXPECT_EQ(payloads_of(read_all_events(*again)), expected);
  }
}

StoreOptions disk_options(const std::string& dir, bool direct_io) {
  StoreOptions options;
  options.data_dir = dir + "/db";
  options.segment_bytes_max = kSmallSegmentBytes;
  options.segment_prefill = true;  // zero-filled ahead, directly too
  options.direct_io = direct_io;
  options.log = [](LogLevel, std::string_view) {};
  return options;
}

TEST(DirectWrites, OnDiskTailingReadersSeeEveryEventIntactAndBufferedReopenAgrees) {
  ScratchDir dir;
  const std::vector<EventBatch> batches = odd_sized_appends(400, 21);
  const std::vector<std::string> expected = payloads_of(batches);
  {
    ASSERT_OK_AND_ASSIGN(auto store, EventStore::open(disk_options(dir.path(), /*direct_io=*/true)));
    // A reader follows the log's end the whole time, so it keeps reading the very page
    // each new batch writes again.
    std::atomic<bool> done{false};
    std::atomic<size_t> mismatches{0};
    std::atomic<uint64_t> read_up_to{0};
    std::thread reader([&] {
      follow_log(
          *store, 1, done,
          [&](const EventView& event) { return event.payload_text() == expected.at(event.position.value - 1); },
          mismatches, read_up_to);
    });
    for (size_t i = 0; i < batches.size(); ++i) {
      ASSERT_OK(store->append("stream-" + std::to_string(i % 3), ExpectedVersion::any(), batches[i].events()));
    }
    done.store(true);
    reader.join();
    EXPECT_EQ(mismatches.load(), 0u);
    EXPECT_EQ(read_up_to.load(), expected.size());
    EXPECT_EQ(payloads_of(read_all_events(*store)), expected);
  }
  {
    // The same log read and extended through the page cache: the format does not
    // depend on how it was written.
    ASSERT_OK_AND_ASSIGN(auto store, EventStore::open(disk_options(dir.path(), /*direct_io=*/false)));
    EXPECT_EQ(payloads_of(read_all_events(*store)), expected);
    ASSERT_OK(store->append("buffered", ExpectedVersion::any(), make_event("T", "written buffered").events()));
  }
  ASSERT_OK_AND_ASSIGN(auto store, EventStore::open(disk_options(dir.path(), /*direct_io=*/true)));
  std::vector<std::string> all = expected;
  all.push_back("written buffered");
  ASSERT_OK(store->append("direct", ExpectedVersion::any(), make_event("T", "direct again").events()));
  all.push_back("direct again");
  EXPECT_EQ(payloads_of(read_all_events(*store)), all);
}

}  // namespace
}  // namespace orderlog::testing
