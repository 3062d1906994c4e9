// Segment roll-over: with 64 KiB segments the log spans many files. Every event stays
// readable in order through every query, each file in <data_dir>/log is named by the
// global position of its first event, and a reopen or a power cut loses none of them.
//
// Each event's payload starts with a marker naming its position, so a test can tell
// which events a segment file holds without knowing the record format.
#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "store_test_util.h"
#include "zero_fill_counting_env.h"

namespace orderlog::testing {
namespace {

constexpr size_t kFillerBytes = 1000;
constexpr int kStreams = 5;
constexpr std::array<std::string_view, 3> kTypes = {"OrderCreated", "ItemAdded", "OrderShipped"};

std::string marker(uint64_t position) {
  char text[32];
  std::snprintf(text, sizeof(text), "<evt#%012" PRIu64 ">", position);
  return text;
}

std::string payload_for(uint64_t position) { return marker(position) + std::string(kFillerBytes, 'x'); }

StoreOptions roll_options(Env* env) { return test_options(env, kSmallSegmentBytes); }

// Given: `appends` appends of 1..3 marked events each to kStreams streams, continuing
// after whatever the store already holds.
void append_marked(EventStore& store, int appends, std::mt19937& random) {
  for (int append = 0; append < appends; ++append) {
    const uint64_t first = store.committed_position().value + 1;
    std::vector<EventSpec> specs(1 + random() % 3);
    for (size_t i = 0; i < specs.size(); ++i) {
      specs[i].type = std::string(kTypes[(first + i) % kTypes.size()]);
      specs[i].payload = payload_for(first + i);
    }
    const EventBatch batch(std::move(specs));
    const std::string stream = "order-" + std::to_string(random() % kStreams);
    ASSERT_OK_AND_ASSIGN(AppendResult result, store.append(stream, ExpectedVersion::any(), batch.events()));
    ASSERT_EQ(result.first_position, GlobalPosition{first});
  }
}

// The segment files in the log directory, in name order.
std::vector<std::string> segment_files(MemEnv& env) {
  Result<std::vector<std::string>> names = env.list_dir(kLogDir);
  if (!names.is_ok()) {
    ADD_FAILURE() << "list_dir(" << kLogDir << "): " << names.status().to_string();
    return {};
  }
  std::vector<std::string> segments;
  for (const std::string& name : *names) {
    if (name.size() >= 4 && name.ends_with(".log")) segments.push_back(name);
  }
  std::sort(segments.begin(), segments.end());
  return segments;
}

bool is_segment_name(const std::string& name) {
  const auto is_digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
  return name.size() == 24 && name.ends_with(".log") && std::all_of(name.begin(), name.begin() + 20, is_digit);
}

bool holds(const std::string& bytes, uint64_t position) { return bytes.find(marker(position)) != std::string::npos; }

// Then: segments are "<20-digit first position>.log", the first starts at 1, and each
// holds exactly the events from its first position to the next segment's first - 1.
void expect_segments_named_by_first_position(MemEnv& env, uint64_t committed) {
  const std::vector<std::string> names = segment_files(env);
  ASSERT_FALSE(names.empty());
  std::vector<uint64_t> firsts;
  for (const std::string& name : names) {
    ASSERT_TRUE(is_segment_name(name)) << name;
    firsts.push_back(std::stoull(name.substr(0, 20)));
  }
  EXPECT_EQ(names.front(), "00000000000000000001.log");
  for (size_t i = 0; i < names.size(); ++i) {
    SCOPED_TRACE(names[i]);
    const bool last = i + 1 == names.size();
    if (last && firsts[i] == committed + 1) continue;  // created ahead of its first event
    ASSERT_OK_AND_ASSIGN(std::string bytes, env.contents(std::string(kLogDir) + "/" + names[i]));
    EXPECT_LE(bytes.size(), kSmallSegmentBytes);
    const uint64_t last_position = last ? committed : firsts[i + 1] - 1;
    ASSERT_LE(firsts[i], last_position) << "segments overlap or are empty";
    EXPECT_TRUE(holds(bytes, firsts[i])) << "does not hold its first event";
    EXPECT_TRUE(holds(bytes, last_position)) << "does not hold event " << last_position;
    if (firsts[i] > 1) {
      EXPECT_FALSE(holds(bytes, firsts[i] - 1)) << "holds an event before its first";
    }
    if (!last) {
      EXPECT_FALSE(holds(bytes, last_position + 1)) << "holds the next segment's first event";
    }
  }
}

// Then: read_all returns positions 1..committed, each with its own marked payload.
void expect_every_event_in_order(const EventStore& store) {
  const std::vector<StoredEvent> log = read_all_events(store, 50);
  const uint64_t committed = store.committed_position().value;
  ASSERT_EQ(positions_of(log), sequence(1, committed));
  for (const StoredEvent& event : log) {
    ASSERT_EQ(event.payload, payload_for(event.position)) << "event at position " << event.position;
  }
}

TEST(EventStoreSegmentRoll, AppendsRollIntoSeveralSegmentsAndReadBackInOrder) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env, roll_options(&env)));
  std::mt19937 random(11);

  ASSERT_NO_FATAL_FAILURE(append_marked(*store, 150, random));

  EXPECT_GE(segment_files(env).size(), 4u);
  EXPECT_EQ(store->stats().segments, segment_files(env).size());
  expect_every_event_in_order(*store);
}

TEST(EventStoreSegmentRoll, SegmentFilesAreNamedByTheirFirstPosition) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env, roll_options(&env)));
  std::mt19937 random(12);

  ASSERT_NO_FATAL_FAILURE(append_marked(*store, 150, random));

  expect_segments_named_by_first_position(env, store->committed_position().value);
}

TEST(EventStoreSegmentRoll, StreamAndTypeReadsSpanSegments) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env, roll_options(&env)));
  std::mt19937 random(13);

  ASSERT_NO_FATAL_FAILURE(append_marked(*store, 150, random));

  const std::vector<StoredEvent> log = read_all_events(*store, 50);
  for (int stream = 0; stream < kStreams; ++stream) {
    const std::string stream_id = "order-" + std::to_string(stream);
    SCOPED_TRACE(stream_id);
    const std::vector<StoredEvent> expected = of_stream(log, stream_id);
    EXPECT_EQ(read_stream_events(*store, stream_id, 16), expected);
    EXPECT_EQ(versions_of(expected), sequence(1, expected.size()));
    EXPECT_EQ(store->stream_version(stream_id), StreamVersion{expected.size()});
  }
  for (std::string_view type : kTypes) EXPECT_EQ(read_type_events(*store, type, 16), of_type(log, type)) << type;
}

TEST(EventStoreSegmentRoll, ReopenSeesEveryEventAcrossSegmentsAndKeepsRolling) {
  MemEnv env;
  std::mt19937 random(14);
  std::vector<StoredEvent> before;
  {
    ASSERT_OK_AND_ASSIGN(auto store, open_store(env, roll_options(&env)));
    ASSERT_NO_FATAL_FAILURE(append_marked(*store, 120, random));
    before = read_all_events(*store, 50);
    ASSERT_OK(store->close());
  }

  ASSERT_OK_AND_ASSIGN(auto reopened, open_store(env, roll_options(&env)));

  EXPECT_EQ(read_all_events(*reopened, 50), before);
  EXPECT_EQ(reopened->committed_position(), GlobalPosition{before.size()});
  ASSERT_NO_FATAL_FAILURE(append_marked(*reopened, 80, random));
  expect_every_event_in_order(*reopened);
  expect_segments_named_by_first_position(env, reopened->committed_position().value);
}

TEST(EventStoreSegmentRoll, PowerCutAfterManyRollsKeepsEverySegment) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env, roll_options(&env)));
  std::mt19937 random(15);
  ASSERT_NO_FATAL_FAILURE(append_marked(*store, 150, random));
  const std::vector<StoredEvent> acknowledged = read_all_events(*store, 50);

  std::unique_ptr<MemEnv> disk = env.crash_copy();
  ASSERT_OK_AND_ASSIGN(auto recovered, open_store(*disk, roll_options(disk.get())));

  EXPECT_EQ(read_all_events(*recovered, 50), acknowledged);
  expect_segments_named_by_first_position(*disk, recovered->committed_position().value);
  ASSERT_NO_FATAL_FAILURE(append_marked(*recovered, 30, random));
  expect_every_event_in_order(*recovered);
}

// How many segments' worth of zeros the preparer wrote while 300 small appends (one
// commit each, ~1-3 KiB) rolled through ~10 segments; the log must read back whole
// before and after a reopen either way. With `wait_for_each_fill`, each roll waits (up
// to 5 s) for the preparer to zero-fill the segment after it, so a loaded machine
// cannot make a roll find the fill unfinished (it then takes an allocated-only file).
uint64_t segments_zero_filled(uint64_t prefill_below_commit_bytes, bool wait_for_each_fill) {
  MemEnv mem;
  ZeroFillCountingEnv env(&mem, "next-segment.tmp");
  StoreOptions options = roll_options(&env);
  options.segment_prefill = true;
  options.segment_prefill_below_commit_bytes = prefill_below_commit_bytes;
  std::mt19937 random(5);
  {
    Result<std::unique_ptr<EventStore>> store = open_store(mem, options);
    EXPECT_TRUE(store.is_ok()) << store.status().to_string();
    if (!store.is_ok()) return 0;
    for (int append = 0; append < 300; ++append) {
      const uint64_t segments = (*store)->stats().segments;
      append_marked(**store, 1, random);
      if (!wait_for_each_fill || (*store)->stats().segments == segments) continue;
      // The segment made at open, one per roll before this one, and the next.
      const uint64_t filled_after_roll = (segments + 1) * kSmallSegmentBytes;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (env.zero_fill_bytes() < filled_after_roll && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    expect_every_event_in_order(**store);
    EXPECT_OK((*store)->close());
  }
  EXPECT_GE(segment_files(mem).size(), 5u);
  Result<std::unique_ptr<EventStore>> reopened = open_store(mem, options);
  EXPECT_TRUE(reopened.is_ok()) << reopened.status().to_string();
  if (reopened.is_ok()) expect_every_event_in_order(**reopened);
  return env.zero_fill_bytes() / kSmallSegmentBytes;
}

TEST(EventStoreSegmentRoll, SegmentsAreZeroFilledAheadOnlyWhileCommitsAreSmall) {
  // Small commits against the default threshold: every next segment is zero-filled.
  const uint64_t filled = segments_zero_filled(StoreOptions{}.segment_prefill_below_commit_bytes, true);
  EXPECT_GE(filled, 5u);
  // Every commit counts as large: only the first segment, made at open, is filled.
  EXPECT_EQ(segments_zero_filled(1, false), 1u);
}

}  // namespace
}  // namespace orderlog::testing
