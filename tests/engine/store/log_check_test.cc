// The offline log check (store/log_check.cc): it reads every unit without changing the
// directory, decides the log's ending after the index checkpoint as the next open does
// (torn tail, stray segment, corruption), finds damage an open would not look at
// (before the checkpoint, where nothing counts as torn), flags units that pass their
// checksum but break the log's rules, and scan_log() visits events from any position.
#include <gtest/gtest.h>

#include <cstring>

#include "orderlog/log_check.h"
#include "orderlog/fb/event_record_generated.h"
#include "storage/record_format.h"
#include "store_test_util.h"

namespace orderlog::testing {
namespace {

constexpr char kFirstSegment[] = "/db/log/00000000000000000001.log";

LogCheckOptions check_options(Env* env) {
  LogCheckOptions options;
  options.data_dir = kDataDir;
  options.env = env;
  return options;
}

// Offsets of the units in a segment's bytes, walked by their headers.
std::vector<size_t> unit_offsets(const std::string& segment) {
  std::vector<size_t> offsets;
  size_t offset = 0;
  while (offset + storage::kUnitHeaderBytes <= segment.size()) {
    const storage::UnitHeader header = storage::load_unit_header(reinterpret_cast<const std::byte*>(segment.data() + offset));
    if (header.magic == 0) break;
    offsets.push_back(offset);
    offset += storage::kUnitHeaderBytes + header.body_bytes;
  }
  return offsets;
}

class LogCheckTest : public ::testing::Test {
 protected:
  // Units of 1-3 events of 1.5 KB over four streams, with a checkpoint after the first half,
  // in segments small enough to roll; the disk taken as a power cut leaves it.
  // With `close`, the store is closed first (its checkpoint then covers everything).
  void write_log(size_t units, bool close = false) {
    MemEnv env;
    ASSERT_OK_AND_ASSIGN(auto store, open_store(env, test_options(&env, kSmallSegmentBytes)));
    for (size_t i = 0; i < units; ++i) {
      if (i == units / 2) {
        ASSERT_OK(store->checkpoint());
        acked_before_checkpoint_ = store->committed_position().value;
      }
      std::vector<EventSpec> specs(1 + i % 3);
      for (EventSpec& spec : specs) {
        spec.type = i % 2 == 0 ? "Even" : "Odd";
        spec.payload = std::string(1500, static_cast<char>('a' + i % 26));
      }
      const EventBatch batch(std::move(specs));
      ASSERT_OK(store->append("stream-" + std::to_string(i % 4), ExpectedVersion::any(), batch.events()));
    }
    acked_ = read_all_events(*store);
    stats_ = store->stats();
    if (close) ASSERT_OK(store->close());
    disk_ = env.crash_copy();
  }

  Result<LogCheck> check(MemEnv& disk) { return check_log(check_options(&disk)); }

  // Flips `mask` in byte `body_offset` of the body of unit `unit` (counted from 0 in
  // the first segment) on the disk; returns that unit's offset.
  size_t damage_unit(size_t unit, size_t body_offset, char mask) {
    Result<std::string> segment = disk_->contents(kFirstSegment);
    EXPECT_TRUE(segment.is_ok());
    const std::vector<size_t> units = unit_offsets(*segment);
    EXPECT_LT(unit, units.size());
    const size_t victim = units.at(unit) + storage::kUnitHeaderBytes + body_offset;
    (*segment)[victim] = static_cast<char>((*segment)[victim] ^ mask);
    disk_->set_contents(kFirstSegment, *segment);
    return units.at(unit);
  }

  std::vector<StoredEvent> acked_;
  uint64_t acked_before_checkpoint_ = 0;
  StoreStats stats_;
  std::unique_ptr<MemEnv> disk_;
};

TEST_F(LogCheckTest, ACleanLogIsCountedAndEndsClean) {
  write_log(60);
  ASSERT_GT(stats_.segments, 1u);
  ASSERT_OK_AND_ASSIGN(LogCheck result, check(*disk_));
  EXPECT_EQ(result.ending, LogEnding::kClean) << result.ending_detail;
  EXPECT_TRUE(result.healthy());
  EXPECT_EQ(result.segments, stats_.segments);
  EXPECT_EQ(result.segment_bytes, stats_.segments * kSmallSegmentBytes);
  EXPECT_EQ(result.units, 60u);
  EXPECT_EQ(result.events, acked_.size());
  EXPECT_EQ(result.last_position.value, acked_.size());
  EXPECT_EQ(result.streams, 4u);
  EXPECT_EQ(result.first_timestamp_ns, acked_.front().timestamp_ns);
  EXPECT_EQ(result.last_timestamp_ns, acked_.back().timestamp_ns);
  EXPECT_GT(result.log_bytes, 0u);
  EXPECT_LT(result.log_bytes, result.segment_bytes);
  EXPECT_EQ(result.inconsistency_count, 0u);
}

TEST_F(LogCheckTest, ATornTailIsReportedAndTheNextOpenCutsIt) {
  write_log(12);
  ASSERT_OK_AND_ASSIGN(std::string segment, disk_->contents(kFirstSegment));
  const std::vector<size_t> units = unit_offsets(segment);
  ASSERT_EQ(units.size(), 12u);
  // Tear the last unit: its second half never reached the disk.
  const size_t last = units.back();
  const storage::UnitHeader header = storage::load_unit_header(reinterpret_cast<const std::byte*>(segment.data() + last));
  const size_t end = last + storage::kUnitHeaderBytes + header.body_bytes;
  std::fill(segment.begin() + static_cast<std::ptrdiff_t>(last + (end - last) / 2), segment.begin() + static_cast<std::ptrdiff_t>(end), '\0');
  disk_->set_contents(kFirstSegment, segment);

  ASSERT_OK_AND_ASSIGN(LogCheck torn, check(*disk_));
  EXPECT_EQ(torn.ending, LogEnding::kTornTail);
  EXPECT_TRUE(torn.healthy());
  EXPECT_NE(torn.ending_detail.find(std::string(kFirstSegment) + " offset " + std::to_string(last)), std::string::npos)
      << torn.ending_detail;
  EXPECT_EQ(torn.units, 11u);
  // The check changed nothing: the bytes are as they were.
  ASSERT_OK_AND_ASSIGN(std::string after_check, disk_->contents(kFirstSegment));
  EXPECT_EQ(after_check, segment);

  {
    LogCapture capture;
    StoreOptions options = test_options(disk_.get(), kSmallSegmentBytes);
    options.log = capture.sink();
    ASSERT_OK_AND_ASSIGN(auto store, open_store(*disk_, options));
    EXPECT_NE(capture.dump().find("cut an unacknowledged torn write"), std::string::npos) << capture.dump();
    EXPECT_EQ(read_all_events(*store).size(), torn.events);
    ASSERT_OK(store->close());
  }
  ASSERT_OK_AND_ASSIGN(LogCheck cut, check(*disk_));
  EXPECT_EQ(cut.ending, LogEnding::kClean) << cut.ending_detail;
  EXPECT_EQ(cut.events, torn.events);
}

TEST_F(LogCheckTest, DamageAfterTheCheckpointIsReportedAsTheOpenRefusesIt) {
  write_log(12);
  damage_unit(10, 4, 0x20);  // the last unit but one

  ASSERT_OK_AND_ASSIGN(LogCheck result, check(*disk_));
  EXPECT_EQ(result.ending, LogEnding::kCorrupt);
  EXPECT_FALSE(result.healthy());
  auto reopened = open_store(*disk_, test_options(disk_.get(), kSmallSegmentBytes));
  ASSERT_FALSE(reopened.is_ok());
  EXPECT_EQ(reopened.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(result.ending_detail, reopened.status().message());
}

// An open trusts the log before its index checkpoint; the check reads it all.
TEST_F(LogCheckTest, DamageBeforeTheCheckpointIsFoundThoughTheOpenDoesNotLook) {
  write_log(12);
  const size_t damaged = damage_unit(1, 12, 0x01);

  ASSERT_OK_AND_ASSIGN(LogCheck result, check(*disk_));
  EXPECT_EQ(result.ending, LogEnding::kCorrupt);
  EXPECT_NE(result.ending_detail.find(std::string(kFirstSegment) + " offset " + std::to_string(damaged)),
            std::string::npos)
      << result.ending_detail;
  EXPECT_NE(result.ending_detail.find("that the index checkpoint covers"), std::string::npos) << result.ending_detail;
  EXPECT_EQ(result.units, 1u);
  EXPECT_EQ(result.checkpoint_position.value, acked_before_checkpoint_);
  // The point of the check: the open trusts this part and succeeds.
  EXPECT_OK(open_store(*disk_, test_options(disk_.get(), kSmallSegmentBytes)));
}

// A damaged last unit looks like a torn write, but a checkpoint that covers it says it
// was acknowledged.
TEST_F(LogCheckTest, DamageToTheLastUnitOfACleanlyClosedLogIsNotATornTail) {
  write_log(12, /*close=*/true);
  ASSERT_OK_AND_ASSIGN(LogCheck clean, check(*disk_));
  ASSERT_EQ(clean.ending, LogEnding::kClean) << clean.ending_detail;
  ASSERT_EQ(clean.checkpoint_position.value, acked_.size());
  const size_t damaged = damage_unit(11, 20, 0x10);
  ASSERT_OK_AND_ASSIGN(LogCheck result, check(*disk_));
  EXPECT_EQ(result.ending, LogEnding::kCorrupt) << result.ending_detail;
  EXPECT_FALSE(result.healthy());
  EXPECT_NE(result.ending_detail.find(" offset " + std::to_string(damaged) + ": "), std::string::npos)
      << result.ending_detail;
}

TEST_F(LogCheckTest, AnEmptySegmentFileIsCorruption) {
  write_log(12);
  disk_->set_contents(kFirstSegment, "");
  ASSERT_OK_AND_ASSIGN(LogCheck result, check(*disk_));
  EXPECT_EQ(result.ending, LogEnding::kCorrupt);
  EXPECT_NE(result.ending_detail.find("is empty"), std::string::npos) << result.ending_detail;
}

TEST_F(LogCheckTest, AnEmptyLogIsCleanAndScansNothing) {
  MemEnv env;
  ASSERT_OK(env.create_dir("/db"));
  ASSERT_OK(env.create_dir("/db/log"));
  ASSERT_OK_AND_ASSIGN(LogCheck result, check(env));
  EXPECT_EQ(result.ending, LogEnding::kClean);
  EXPECT_EQ(result.segments, 0u);
  EXPECT_EQ(result.events, 0u);
  EXPECT_FALSE(result.checkpoint_problem.empty());  // no index at all
  size_t visits = 0;
  ASSERT_OK(scan_log(check_options(&env), GlobalPosition{1}, [&](const EventView&) { return ++visits > 0; }));
  EXPECT_EQ(visits, 0u);
}

TEST_F(LogCheckTest, AnEmptySegmentLeftByAnInterruptedRollIsAStray) {
  write_log(60);
  disk_->set_contents("/db/log/00000000000000099999.log", std::string(kSmallSegmentBytes, '\0'));
  ASSERT_OK_AND_ASSIGN(LogCheck result, check(*disk_));
  EXPECT_EQ(result.ending, LogEnding::kStraySegments) << result.ending_detail;
  EXPECT_TRUE(result.healthy());
  EXPECT_EQ(result.events, acked_.size());
  EXPECT_NE(result.ending_detail.find("00000000000000099999.log"), std::string::npos) << result.ending_detail;
}

TEST_F(LogCheckTest, AMissingSegmentIsCorruption) {
  write_log(60);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, disk_->list_dir("/db/log"));
  std::sort(names.begin(), names.end());
  ASSERT_GE(names.size(), 3u);
  ASSERT_OK(disk_->remove_file("/db/log/" + names[1]));
  ASSERT_OK_AND_ASSIGN(LogCheck result, check(*disk_));
  EXPECT_EQ(result.ending, LogEnding::kCorrupt);
  EXPECT_NE(result.ending_detail.find("starts at position"), std::string::npos) << result.ending_detail;
}

TEST_F(LogCheckTest, AUnitThatPassesItsChecksumButSkipsAStreamVersionIsAnInconsistency) {
  write_log(12);
  ASSERT_OK_AND_ASSIGN(std::string segment, disk_->contents(kFirstSegment));
  const std::vector<size_t> units = unit_offsets(segment);
  // Rewrite the fifth unit's first event as version 9 of its stream and reseal the
  // unit with a matching checksum, as only a defective writer could.
  auto* unit = reinterpret_cast<std::byte*>(segment.data() + units[4]);
  storage::UnitHeader header = storage::load_unit_header(unit);
  auto* record = fb::GetMutableEventRecord(unit + storage::kUnitHeaderBytes + storage::kEventFrameHeaderBytes);
  const uint64_t position = record->global_position();
  ASSERT_TRUE(record->mutate_stream_version(9));
  header.checksum = storage::unit_checksum(unit, header.body_bytes);
  storage::store_unit_header(unit, header);
  disk_->set_contents(kFirstSegment, segment);

  ASSERT_OK_AND_ASSIGN(LogCheck result, check(*disk_));
  EXPECT_EQ(result.ending, LogEnding::kClean) << result.ending_detail;
  EXPECT_FALSE(result.healthy());
  EXPECT_GE(result.inconsistency_count, 1u);
  ASSERT_FALSE(result.inconsistencies.empty());
  EXPECT_NE(result.inconsistencies[0].find("position " + std::to_string(position) + ":"), std::string::npos)
      << result.inconsistencies[0];
  EXPECT_NE(result.inconsistencies[0].find("to 9"), std::string::npos) << result.inconsistencies[0];
}

TEST_F(LogCheckTest, StreamVersionsAreFollowedForABoundedNumberOfStreams) {
  write_log(12);
  LogCheckOptions options = check_options(disk_.get());
  options.streams_tracked_max = 2;
  ASSERT_OK_AND_ASSIGN(LogCheck result, check_log(options));
  EXPECT_EQ(result.ending, LogEnding::kClean) << result.ending_detail;
  EXPECT_EQ(result.streams, 2u);
  EXPECT_FALSE(result.all_streams_tracked);
  EXPECT_EQ(result.events, acked_.size());  // every event is still read and verified
  EXPECT_EQ(result.inconsistency_count, 0u);
  ASSERT_OK_AND_ASSIGN(LogCheck unbounded, check(*disk_));
  EXPECT_EQ(unbounded.streams, 4u);
  EXPECT_TRUE(unbounded.all_streams_tracked);
}

TEST_F(LogCheckTest, AMissingDataDirectoryIsNotFound) {
  MemEnv env;
  Result<LogCheck> result = check(env);
  ASSERT_FALSE(result.is_ok());
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
}

TEST_F(LogCheckTest, ScanVisitsEveryEventFromAPositionInLogOrder) {
  write_log(60);
  for (uint64_t from : {uint64_t{1}, acked_.size() / 2, acked_.back().position, acked_.back().position + 1}) {
    std::vector<StoredEvent> seen;
    ASSERT_OK(scan_log(check_options(disk_.get()), GlobalPosition{from}, [&](const EventView& event) {
      seen.push_back(to_stored(event));
      return true;
    }));
    const std::vector<StoredEvent> expected(acked_.begin() + static_cast<std::ptrdiff_t>(std::min<uint64_t>(from - 1, acked_.size())),
                                            acked_.end());
    EXPECT_EQ(seen, expected) << "from " << from;
  }
}

TEST_F(LogCheckTest, ScanStopsWhenTheVisitorSaysSo) {
  write_log(20);
  size_t visits = 0;
  ASSERT_OK(scan_log(check_options(disk_.get()), GlobalPosition{3}, [&](const EventView& event) {
    EXPECT_EQ(event.position.value, 3 + visits);
    return ++visits < 5;
  }));
  EXPECT_EQ(visits, 5u);
}

TEST_F(LogCheckTest, ScanReportsCorruptionBeforeTheEnd) {
  write_log(12);
  damage_unit(3, 12, 0x01);
  size_t visits = 0;
  const Status scanned = scan_log(check_options(disk_.get()), GlobalPosition{1}, [&](const EventView&) {
    ++visits;
    return true;
  });
  EXPECT_EQ(scanned.code(), StatusCode::kCorruption) << scanned.to_string();
  EXPECT_GT(visits, 0u);  // the events before the damage were visited
}

}  // namespace
}  // namespace orderlog::testing
