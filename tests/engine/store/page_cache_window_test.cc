// The log behind StoreOptions::page_cache_window_bytes leaves the page cache as the
// writer goes (writer.cc, storage/cache_trimmer.cc), on a real disk: sealed segments
// the window has passed are no longer cached, the window is, and readers, whether
// tailing the log or reading dropped pages from the start, see every event intact.
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "storage/segment.h"
#include "store_test_util.h"

namespace orderlog::testing {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kSegmentBytes = 4 * kMiB;
constexpr uint64_t kWindowBytes = 2 * kMiB;

StoreOptions windowed_options(const std::string& dir, uint64_t window_bytes) {
  StoreOptions options;
  options.data_dir = dir + "/db";
  options.segment_bytes_max = kSegmentBytes;
  options.page_cache_window_bytes = window_bytes;
  options.log = [](LogLevel, std::string_view) {};
  return options;
}

// How many of the file's pages are in the page cache (mincore on a mapping of our own).
size_t resident_pages(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0) << path;
  if (fd < 0) return 0;
  const off_t size = lseek(fd, 0, SEEK_END);
  void* map = mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  EXPECT_NE(map, MAP_FAILED) << path;
  if (map == MAP_FAILED) return 0;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> resident((static_cast<size_t>(size) + page - 1) / page);
  EXPECT_EQ(mincore(map, static_cast<size_t>(size), resident.data()), 0);
  munmap(map, static_cast<size_t>(size));
  size_t count = 0;
  for (unsigned char r : resident) count += r & 1;
  return count;
}

// Appends of 8 events of 1,000 bytes each, their payloads naming their position.
void append_megabytes(EventStore& store, uint64_t megabytes, std::vector<std::string>& expected) {
  const uint64_t appends = megabytes * kMiB / 8'000;
  for (uint64_t i = 0; i < appends; ++i) {
    std::vector<EventSpec> specs(8);
    for (EventSpec& spec : specs) {
      spec.payload = std::to_string(expected.size() + 1) + ":";
      spec.payload.resize(1'000, static_cast<char>('a' + expected.size() % 26));
      expected.push_back(spec.payload);
    }
    const Status appended_ok = store.append("stream-" + std::to_string(i % 5), ExpectedVersion::any(),
                                            EventBatch(std::move(specs)).events())
                                   .status();
    EXPECT_TRUE(appended_ok.is_ok()) << appended_ok.to_string();
    if (!appended_ok.is_ok()) break;
  }
}

TEST(PageCacheWindow, SealedSegmentsBehindTheWindowLeaveThePageCacheAndReadBackIntact) {
  ScratchDir dir;
  struct statfs fs {};
  ASSERT_EQ(statfs(dir.path().c_str(), &fs), 0);
  if (fs.f_type == TMPFS_MAGIC) GTEST_SKIP() << "tmpfs keeps its pages: nothing to drop";
  ASSERT_OK_AND_ASSIGN(auto store, EventStore::open(windowed_options(dir.path(), kWindowBytes)));

  // When ~20 MiB are appended through the page cache (4 MiB segments, a 2 MiB window)
  std::vector<std::string> expected;
  append_megabytes(*store, 20, expected);
  ASSERT_FALSE(HasFailure());

  // Then every segment sealed well before the head (the last acknowledged commit's own
  // trimming may still be under way) has left the page cache entirely, and the
  // writer counted what it dropped
  Result<std::vector<std::string>> names = default_env()->list_dir(dir.path() + "/db/log");
  ASSERT_OK(names);
  std::vector<std::string> segments;
  for (const std::string& name : *names) {
    if (storage::parse_segment_file_name(name)) segments.push_back(dir.path() + "/db/log/" + name);
  }
  std::sort(segments.begin(), segments.end());
  ASSERT_GE(segments.size(), 5u);
  for (size_t i = 0; i + 3 < segments.size(); ++i) EXPECT_EQ(resident_pages(segments[i]), 0u) << segments[i];
  const StoreStats stats = store->stats();
  EXPECT_GE(stats.bytes_dropped_from_cache, (segments.size() - 3) * kSegmentBytes);
  EXPECT_LE(stats.bytes_dropped_from_cache, stats.bytes_written);
  // And the window behind the head is still cached
  EXPECT_GT(resident_pages(segments.back()), 0u);

  // And every event reads back intact, before and after a reopen
  std::vector<std::string> read;
  for (const StoredEvent& event : read_all_events(*store, 256)) read.push_back(event.payload);
  EXPECT_EQ(read, expected);
  ASSERT_OK(store->close());
  ASSERT_OK_AND_ASSIGN(auto reopened, EventStore::open(windowed_options(dir.path(), kWindowBytes)));
  read.clear();
  for (const StoredEvent& event : read_all_events(*reopened, 256)) read.push_back(event.payload);
  EXPECT_EQ(read, expected);
}

TEST(PageCacheWindow, ReadersTailingTheLogOrReadingDroppedPagesSeeEveryEventIntact) {
  ScratchDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, EventStore::open(windowed_options(dir.path(), kWindowBytes)));
  std::vector<std::string> expected;
  append_megabytes(*store, 4, expected);  // dropped, partly, before the readers start
  const std::vector<std::string> first_part = expected;

  // While one reader follows the log's end and another reads it from the start (pages
  // dropped a moment before, and dropped again under it), as 6 MiB more are appended
  std::atomic<bool> done{false};
  std::atomic<size_t> mismatches{0};
  std::atomic<uint64_t> total{0};
  // Payloads start with their position: checked without sharing `expected`.
  const auto intact = [](const EventView& event) {
    const std::string prefix = std::to_string(event.position.value) + ":";
    return event.payload_text().substr(0, prefix.size()) == prefix && event.payload_text().size() == 1'000;
  };
  std::atomic<uint64_t> tail_read{0};
  std::atomic<uint64_t> start_read{0};
  std::thread tailing([&, from = store->committed_position().value + 1] {
    follow_log(*store, from, done, intact, mismatches, tail_read);
  });
  std::thread from_start([&] { follow_log(*store, 1, done, intact, mismatches, start_read); });
  append_megabytes(*store, 6, expected);
  total.store(expected.size());
  done.store(true);
  tailing.join();
  from_start.join();

  // Then both read everything, and nothing differed
  EXPECT_EQ(mismatches.load(), 0u);
  EXPECT_EQ(tail_read.load(), total.load());
  EXPECT_EQ(start_read.load(), total.load());
  EXPECT_GT(store->stats().bytes_dropped_from_cache, 0u);
  std::vector<std::string> read;
  for (const StoredEvent& event : read_all_events(*store, 256)) read.push_back(event.payload);
  EXPECT_EQ(read, expected);
}

TEST(PageCacheWindow, AZeroWindowLeavesTheCacheToTheKernel) {
  ScratchDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, EventStore::open(windowed_options(dir.path(), 0)));
  std::vector<std::string> expected;
  append_megabytes(*store, 10, expected);
  EXPECT_EQ(store->stats().bytes_dropped_from_cache, 0u);
  EXPECT_EQ(read_all_events(*store, 256).size(), expected.size());
}

}  // namespace
}  // namespace orderlog::testing
