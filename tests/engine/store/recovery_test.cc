// Recovery (store/recovery.cc): a power cut at any byte of the last unit loses
// nothing acknowledged and drops only the torn unit; corruption anywhere else
// refuses to open, naming the file and offset; the index rebuilt from the log alone
// equals the one maintained incrementally.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "store_test_util.h"

namespace orderlog::testing {
namespace {

constexpr char kFirstSegment[] = "/db/log/00000000000000000001.log";

StoreOptions options_with_log(Env* env, LogCapture* capture) {
  StoreOptions options = test_options(env, kSmallSegmentBytes);
  options.log = capture->sink();
  return options;
}

// Appends `count` single-event units to a few streams; returns the committed events.
std::vector<StoredEvent> append_units(EventStore& store, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    const EventBatch batch = make_event(i % 2 == 0 ? "Even" : "Odd", "unit " + std::to_string(i));
    EXPECT_OK(store.append("stream-" + std::to_string(i % 3), ExpectedVersion::any(), batch.events()));
  }
  return read_all_events(store);
}

// The byte range [begin, end) of the last unit in a segment's bytes: found by walking
// unit headers (length at offset 8, header 32 bytes).
std::pair<size_t, size_t> last_unit_range(const std::string& segment) {
  size_t offset = 0;
  size_t last_begin = 0;
  while (offset + 32 <= segment.size()) {
    uint32_t body_bytes = 0;
    std::memcpy(&body_bytes, segment.data() + offset + 8, sizeof(body_bytes));
    uint32_t magic = 0;
    std::memcpy(&magic, segment.data() + offset, sizeof(magic));
    if (magic == 0) break;
    last_begin = offset;
    offset += 32 + body_bytes;
  }
  return {last_begin, offset};
}

class RecoveryTest : public ::testing::Test {
 protected:
  // Writes `acked` units, checkpoints after the first half, then one final unit, and
  // takes the disk as a power cut would leave it.
  void write_log(size_t acked) {
    MemEnv env;
    LogCapture capture;
    ASSERT_OK_AND_ASSIGN(auto store, open_store(env, options_with_log(&env, &capture)));
    acked_ = append_units(*store, acked / 2);
    ASSERT_OK(store->checkpoint());
    acked_ = append_units(*store, acked - acked / 2);
    const EventBatch last = make_event("Last", std::string(300, 'z'));
    ASSERT_OK(store->append("stream-last", ExpectedVersion::no_stream(), last.events()));
    disk_ = env.crash_copy();
    ASSERT_OK_AND_ASSIGN(segment_, disk_->contents(kFirstSegment));
  }

  // A fresh disk equal to the written one, with the first segment replaced.
  std::unique_ptr<MemEnv> disk_with_segment(const std::string& segment) {
    std::unique_ptr<MemEnv> disk = disk_->crash_copy();
    disk->set_contents(kFirstSegment, segment);
    return disk;
  }

  std::vector<StoredEvent> acked_;
  std::unique_ptr<MemEnv> disk_;
  std::string segment_;
};

TEST_F(RecoveryTest, TornFinalUnitAtEveryByteIsCutAndNothingAcknowledgedIsLost) {
  write_log(12);
  const auto [begin, end] = last_unit_range(segment_);
  ASSERT_GT(end, begin + 300);
  for (size_t cut = begin; cut < end; ++cut) {
    std::string torn = segment_;
    std::fill(torn.begin() + static_cast<std::ptrdiff_t>(cut), torn.begin() + static_cast<std::ptrdiff_t>(end), '\0');
    std::unique_ptr<MemEnv> disk = disk_with_segment(torn);
    LogCapture capture;
    auto reopened = open_store(*disk, options_with_log(disk.get(), &capture));
    ASSERT_TRUE(reopened.is_ok()) << "cut at " << cut << ": " << reopened.status().to_string();
    EventStore& store = **reopened;
    // Everything acknowledged before the final unit is there, exactly.
    ASSERT_EQ(read_all_events(store), acked_) << "cut at " << cut;
    EXPECT_EQ(store.stream_version("stream-last").value, 0u);
    if (cut > begin) {
      EXPECT_NE(capture.dump().find("cut an unacknowledged torn write"), std::string::npos) << capture.dump();
    }
    // The log continues gaplessly where the torn unit was.
    const EventBatch next = make_event("Next", "after recovery");
    ASSERT_OK_AND_ASSIGN(AppendResult appended, store.append("stream-last", ExpectedVersion::no_stream(), next.events()));
    EXPECT_EQ(appended.first_position.value, acked_.size() + 1);
  }
}

TEST_F(RecoveryTest, TornTailFilledWithGarbageIsCutToo) {
  write_log(8);
  const auto [begin, end] = last_unit_range(segment_);
  std::string torn = segment_;
  for (size_t i = begin + 40; i < end + 200; ++i) torn[i] = static_cast<char>(i * 31 + 7);
  std::unique_ptr<MemEnv> disk = disk_with_segment(torn);
  LogCapture capture;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(*disk, options_with_log(disk.get(), &capture)));
  EXPECT_EQ(read_all_events(*store), acked_);
  // The cut bytes were zeroed durably: a second recovery finds a clean end.
  ASSERT_OK(store->close());
  store.reset();
  std::unique_ptr<MemEnv> after = disk->crash_copy();
  LogCapture second;
  ASSERT_OK_AND_ASSIGN(auto again, open_store(*after, options_with_log(after.get(), &second)));
  EXPECT_EQ(read_all_events(*again), acked_);
  EXPECT_EQ(second.dump().find("torn"), std::string::npos) << second.dump();
}

TEST_F(RecoveryTest, FlippedByteBeforeTheLastUnitRefusesToOpenNamingFileAndOffset) {
  write_log(12);
  // A unit after the checkpoint but followed by acknowledged units.
  const auto [begin, end] = last_unit_range(segment_);
  (void)end;
  std::string corrupt = segment_;
  const size_t victim = begin - 20;  // inside the unit before the last one
  corrupt[victim] = static_cast<char>(corrupt[victim] ^ 0x40);
  std::unique_ptr<MemEnv> disk = disk_with_segment(corrupt);
  auto reopened = open_store(*disk, test_options(disk.get(), kSmallSegmentBytes));
  ASSERT_FALSE(reopened.is_ok());
  EXPECT_EQ(reopened.status().code(), StatusCode::kCorruption);
  EXPECT_NE(reopened.status().message().find(kFirstSegment), std::string::npos) << reopened.status().to_string();
  EXPECT_NE(reopened.status().message().find("offset"), std::string::npos) << reopened.status().to_string();
}

// A zeroed header in the middle of the tail is not the log's end: acknowledged
// units follow it.
TEST_F(RecoveryTest, ZeroedHeaderBeforeTheLastUnitRefusesToOpen) {
  write_log(12);
  const auto [begin, end] = last_unit_range(segment_);
  (void)end;
  // The unit before the last one: walk the headers up to it.
  size_t offset = 0;
  size_t previous = 0;
  while (offset < begin) {
    uint32_t body_bytes = 0;
    std::memcpy(&body_bytes, segment_.data() + offset + 8, sizeof(body_bytes));
    previous = offset;
    offset += 32 + body_bytes;
  }
  ASSERT_EQ(offset, begin);
  std::string damaged = segment_;
  std::fill(damaged.begin() + static_cast<std::ptrdiff_t>(previous),
            damaged.begin() + static_cast<std::ptrdiff_t>(previous + 32), '\0');
  std::unique_ptr<MemEnv> disk = disk_with_segment(damaged);
  auto reopened = open_store(*disk, test_options(disk.get(), kSmallSegmentBytes));
  ASSERT_FALSE(reopened.is_ok()) << "opened without " << acked_.size() << " acknowledged events' last units";
  EXPECT_EQ(reopened.status().code(), StatusCode::kCorruption);
  EXPECT_NE(reopened.status().message().find("offset " + std::to_string(previous)), std::string::npos)
      << reopened.status().to_string();
}

// A torn final write whose first page was lost while the rest reached the disk: the
// rest is cut (zeroed, logged), not left behind the log's end.
TEST_F(RecoveryTest, TornFinalUnitWithOnlyItsHeaderLostIsCutAndLogged) {
  write_log(12);
  const auto [begin, end] = last_unit_range(segment_);
  std::string torn = segment_;
  std::fill(torn.begin() + static_cast<std::ptrdiff_t>(begin), torn.begin() + static_cast<std::ptrdiff_t>(begin + 32),
            '\0');
  std::unique_ptr<MemEnv> disk = disk_with_segment(torn);
  LogCapture capture;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(*disk, options_with_log(disk.get(), &capture)));
  EXPECT_EQ(read_all_events(*store), acked_);
  EXPECT_NE(capture.dump().find("cut an unacknowledged torn write"), std::string::npos) << capture.dump();
  ASSERT_OK(store->close());
  store.reset();
  ASSERT_OK_AND_ASSIGN(std::string after, disk->contents(kFirstSegment));
  EXPECT_EQ(after.find_first_not_of('\0', begin), std::string::npos) << "bytes of the torn unit were left after the end";
  (void)end;
}

// An event may carry log bytes in its payload (an application archiving a segment):
// a copy of an older unit inside a torn final unit proves nothing was acknowledged
// after it, and the tail is cut as any torn write.
TEST_F(RecoveryTest, ACopyOfAnOlderUnitInsideATornPayloadDoesNotRefuseTheOpen) {
  write_log(12);
  const auto [begin, end] = last_unit_range(segment_);
  // The first unit of the segment (position 1, the first unit of its write).
  uint32_t first_body_bytes = 0;
  std::memcpy(&first_body_bytes, segment_.data() + 8, sizeof(first_body_bytes));
  const std::string first_unit = segment_.substr(0, 32 + first_body_bytes);
  // Placed, 8-aligned, where the final unit's 300-byte payload was; the final unit's
  // checksum no longer matches, as when its write was torn after the copy landed.
  const size_t payload = segment_.find(std::string(300, 'z'), begin);
  ASSERT_NE(payload, std::string::npos);
  const size_t at = (payload + 7) / 8 * 8;
  ASSERT_LE(at + first_unit.size(), payload + 300) << "the copy must fit in the payload";
  std::string torn = segment_;
  torn.replace(at, first_unit.size(), first_unit);
  std::unique_ptr<MemEnv> disk = disk_with_segment(torn);
  LogCapture capture;
  auto reopened = open_store(*disk, options_with_log(disk.get(), &capture));
  ASSERT_TRUE(reopened.is_ok()) << reopened.status().to_string();
  EXPECT_EQ(read_all_events(**reopened), acked_);
  EXPECT_NE(capture.dump().find("cut an unacknowledged torn write"), std::string::npos) << capture.dump();
  (void)end;
}

// A segment file gone from the middle or the start of a checkpointed log: the open
// names the gap instead of reading its positions through another segment.
TEST(Recovery, AMissingSegmentRefusesToOpen) {
  MemEnv env;
  {
    ASSERT_OK_AND_ASSIGN(auto store, open_store(env, test_options(&env, kSmallSegmentBytes)));
    const std::string payload(2000, 'x');
    for (int i = 0; i < 400; ++i) {
      const EventBatch batch = make_event("Fill", payload);
      ASSERT_OK(store->append("fill-" + std::to_string(i % 7), ExpectedVersion::any(), batch.events()));
    }
    ASSERT_OK(store->close());
  }
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, env.list_dir("/db/log"));
  std::sort(names.begin(), names.end());
  ASSERT_GE(names.size(), 3u) << "the log should span at least three segments";
  for (const std::string& missing : {names[0], names[1]}) {
    std::unique_ptr<MemEnv> disk = env.crash_copy();
    ASSERT_OK(disk->remove_file("/db/log/" + missing));
    auto reopened = open_store(*disk, test_options(disk.get(), kSmallSegmentBytes));
    ASSERT_FALSE(reopened.is_ok()) << "opened without " << missing;
    EXPECT_EQ(reopened.status().code(), StatusCode::kCorruption) << reopened.status().to_string();
  }
}

// Durability none waits for no fdatasync, but a checkpoint vouches for every segment
// before the active one: those must have reached the disk when it is written.
TEST(Recovery, UnderDurabilityNoneACheckpointOnlyVouchesForSyncedSegments) {
  MemEnv env;
  StoreOptions options = test_options(&env, kSmallSegmentBytes);
  options.durability = Durability::kNone;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env, options));
  const std::string payload(2000, 'n');
  for (int i = 0; i < 300; ++i) {
    const EventBatch batch = make_event("Fill", payload);
    ASSERT_OK(store->append("fill-" + std::to_string(i % 5), ExpectedVersion::any(), batch.events()));
  }
  ASSERT_GE(store->stats().segments, 3u) << "the log should have rolled twice";
  ASSERT_OK(store->checkpoint());
  const std::vector<StoredEvent> before = read_all_events(*store);
  std::unique_ptr<MemEnv> disk = env.crash_copy();  // the power cut: unsynced bytes are gone
  StoreOptions after_the_cut = options;
  after_the_cut.env = disk.get();
  auto reopened = open_store(*disk, after_the_cut);
  ASSERT_TRUE(reopened.is_ok()) << reopened.status().to_string();
  EXPECT_EQ(read_all_events(**reopened), before);
}

TEST_F(RecoveryTest, CheckpointThatDisagreesWithTheLogIsRebuilt) {
  write_log(10);
  std::unique_ptr<MemEnv> disk = disk_->crash_copy();
  ASSERT_OK_AND_ASSIGN(std::string checkpoint, disk->contents("/db/index/CHECKPOINT"));
  checkpoint[checkpoint.size() / 2] ^= 0x11;
  disk->set_contents("/db/index/CHECKPOINT", checkpoint);
  LogCapture capture;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(*disk, options_with_log(disk.get(), &capture)));
  EXPECT_NE(capture.dump().find("rebuilding the indexes"), std::string::npos) << capture.dump();
  const std::vector<StoredEvent> events = read_all_events(*store);
  ASSERT_EQ(events.size(), acked_.size() + 1);
  EXPECT_EQ(std::vector<StoredEvent>(events.begin(), events.end() - 1), acked_);
}

TEST(Recovery, CleanReopenIndexesNothing) {
  MemEnv env;
  {
    ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
    append_units(*store, 20);
    ASSERT_OK(store->close());
  }
  LogCapture capture;
  StoreOptions options = test_options(&env, kDefaultTestSegmentBytes);
  options.log = capture.sink();
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env, options));
  EXPECT_EQ(capture.dump().find("recovery: indexed"), std::string::npos) << capture.dump();
  EXPECT_EQ(read_all_events(*store).size(), 20u);
}

TEST(Recovery, CrashBeforeAnyCheckpointReindexesTheWholeLog) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  const std::vector<StoredEvent> written = append_units(*store, 15);
  std::unique_ptr<MemEnv> disk = env.crash_copy();
  LogCapture capture;
  StoreOptions options = test_options(disk.get(), kDefaultTestSegmentBytes);
  options.log = capture.sink();
  ASSERT_OK_AND_ASSIGN(auto reopened, open_store(*disk, options));
  EXPECT_NE(capture.dump().find("recovery: indexed 15 units"), std::string::npos) << capture.dump();
  EXPECT_EQ(read_all_events(*reopened), written);
}

TEST(Recovery, RetryAfterARestartIsStillIdempotent) {
  MemEnv env;
  const EventBatch batch = make_events(3, "Retried");
  AppendResult original;
  {
    ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
    append_units(*store, 5);
    ASSERT_OK_AND_ASSIGN(original, store->append("retried", ExpectedVersion::any(), batch.events()));
    append_units(*store, 5);
    ASSERT_OK(store->close());
  }
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  ASSERT_OK_AND_ASSIGN(AppendResult retried, store->append("retried", ExpectedVersion::any(), batch.events()));
  EXPECT_TRUE(retried.deduplicated);
  EXPECT_EQ(retried.first_position, original.first_position);
  EXPECT_EQ(retried.last_position, original.last_position);
  EXPECT_EQ(retried.stream_versions, original.stream_versions);
  EXPECT_EQ(read_all_events(*store).size(), 13u);
  // The same first event id with different events is a client error, not a retry.
  EventBatch changed = batch;
  changed = EventBatch({batch[0], make_events(1)[0]});
  Result<AppendResult> clash = store->append("retried", ExpectedVersion::any(), changed.events());
  ASSERT_FALSE(clash.is_ok());
  EXPECT_EQ(clash.status().code(), StatusCode::kInvalidArgument);
}

TEST(Recovery, PeriodicCheckpointsBoundTheWorkAfterACrash) {
  MemEnv env;
  StoreOptions options = test_options(&env, kSmallSegmentBytes);
  options.checkpoint_every_bytes = kSmallSegmentBytes / 2;  // at every roll
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env, options));
  const std::vector<StoredEvent> written = append_units(*store, 1500);
  ASSERT_GT(store->stats().segments, 3u);
  std::unique_ptr<MemEnv> disk = env.crash_copy();
  LogCapture capture;
  StoreOptions reopened_options = test_options(disk.get(), kSmallSegmentBytes);
  reopened_options.log = capture.sink();
  ASSERT_OK_AND_ASSIGN(auto reopened, open_store(*disk, reopened_options));
  EXPECT_EQ(read_all_events(*reopened), written);
  // Only the units after the last roll's checkpoint were re-indexed.
  const std::string log = capture.dump();
  const size_t at = log.find("recovery: indexed ");
  ASSERT_NE(at, std::string::npos) << log;
  const size_t units = std::stoul(log.substr(at + std::strlen("recovery: indexed ")));
  EXPECT_LT(units, 1500u / 3) << log;
}

// Everything the indexes answer, for comparing two stores.
struct IndexAnswers {
  std::vector<std::vector<StoredEvent>> streams;
  std::vector<std::vector<StoredEvent>> types;
  std::vector<StoredEvent> backward;
  std::vector<uint64_t> versions;
  friend bool operator==(const IndexAnswers&, const IndexAnswers&) = default;
};

IndexAnswers ask_indexes(const EventStore& store, size_t streams) {
  IndexAnswers answers;
  for (size_t s = 0; s < streams; ++s) {
    const std::string id = "s-" + std::to_string(s);
    answers.streams.push_back(read_stream_events(store, id, 4));
    answers.versions.push_back(store.stream_version(id).value);
    auto backward = store.read_stream(id, StreamVersion{UINT64_MAX}, ReadDirection::kBackward, 3);
    if (backward.is_ok()) {
      for (const auto& event : to_stored(backward->events)) answers.backward.push_back(event);
    }
  }
  for (const char* type : {"A", "B", "C", "D"}) answers.types.push_back(read_type_events(store, type, 6));
  return answers;
}

TEST(Recovery, IndexRebuiltFromScratchEqualsTheIncrementalOne) {
  MemEnv env;
  constexpr size_t kStreams = 9;
  IndexAnswers incremental;
  std::string positions_before;
  {
    ASSERT_OK_AND_ASSIGN(auto store, open_store(env, test_options(&env, kSmallSegmentBytes)));
    const char* types[] = {"A", "B", "C", "D"};
    for (size_t i = 0; i < 600; ++i) {
      EventBatch batch = make_events(1 + i % 3, types[i % 4]);
      ASSERT_OK(store->append("s-" + std::to_string(i % kStreams), ExpectedVersion::any(), batch.events()));
    }
    ASSERT_GT(store->stats().segments, 1u);
    incremental = ask_indexes(*store, kStreams);
    ASSERT_OK(store->close());
    ASSERT_OK_AND_ASSIGN(positions_before, env.contents("/db/index/positions.idx"));
  }
  ASSERT_OK(env.remove_file("/db/index/CHECKPOINT"));
  LogCapture capture;
  StoreOptions options = test_options(&env, kSmallSegmentBytes);
  options.log = capture.sink();
  ASSERT_OK_AND_ASSIGN(auto rebuilt, open_store(env, options));
  EXPECT_NE(capture.dump().find("recovery: indexed"), std::string::npos) << capture.dump();
  EXPECT_EQ(ask_indexes(*rebuilt, kStreams), incremental);
  ASSERT_OK(rebuilt->close());
  ASSERT_OK_AND_ASSIGN(std::string positions_after, env.contents("/db/index/positions.idx"));
  EXPECT_EQ(positions_after, positions_before);
}

}  // namespace
}  // namespace orderlog::testing
