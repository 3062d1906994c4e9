// Reads: stream reads in both directions, the global log, by type and by time, each
// paged with `next`/`end` the way a client walks them; what an event carries back
// (payload bytes, schema version, ids, tags, timestamps); and waiting for positions.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "store_test_util.h"

namespace orderlog::testing {
namespace {

using std::chrono::milliseconds;

constexpr uint64_t kSecondNs = 1'000'000'000;
constexpr uint64_t kEpochNs = 1'700'000'000 * kSecondNs;

// Given: `count` single-event appends to `stream`, each followed by one to "noise", so
// the stream's events sit at the odd positions 1, 3, 5, ...
void append_interleaved(EventStore& store, std::string_view stream, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    const EventBatch mine = make_events(1, "Mine");
    const EventBatch noise = make_events(1, "Noise");
    ASSERT_OK(store.append(stream, ExpectedVersion::any(), mine.events()));
    ASSERT_OK(store.append("noise", ExpectedVersion::any(), noise.events()));
  }
}

void append_one(EventStore& store, std::string_view stream, std::string type) {
  const EventBatch batch = make_event(std::move(type), "p");
  ASSERT_OK(store.append(stream, ExpectedVersion::any(), batch.events()));
}

std::vector<uint64_t> versions_in(const ReadSlice& slice) { return versions_of(to_stored(slice.events)); }
std::vector<uint64_t> positions_in(const ReadSlice& slice) { return positions_of(to_stored(slice.events)); }

TEST(EventStoreRead, ReadStreamForwardPagesThroughEveryVersion) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  ASSERT_NO_FATAL_FAILURE(append_interleaved(*store, "order-1", 7));

  ASSERT_OK_AND_ASSIGN(ReadSlice first, store->read_stream("order-1", StreamVersion{1}, ReadDirection::kForward, 3));
  ASSERT_OK_AND_ASSIGN(ReadSlice second,
                       store->read_stream("order-1", StreamVersion{first.next}, ReadDirection::kForward, 3));
  ASSERT_OK_AND_ASSIGN(ReadSlice third,
                       store->read_stream("order-1", StreamVersion{second.next}, ReadDirection::kForward, 3));

  EXPECT_EQ(versions_in(first), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(positions_in(first), (std::vector<uint64_t>{1, 3, 5}));
  EXPECT_EQ(first.next, 4u);
  EXPECT_FALSE(first.end);
  EXPECT_EQ(versions_in(second), (std::vector<uint64_t>{4, 5, 6}));
  EXPECT_EQ(second.next, 7u);
  EXPECT_FALSE(second.end);
  EXPECT_EQ(versions_in(third), std::vector<uint64_t>{7});
  EXPECT_EQ(positions_in(third), std::vector<uint64_t>{13});
  EXPECT_TRUE(third.end);
  for (const EventView& event : first.events) EXPECT_EQ(event.stream_id, "order-1");
}

TEST(EventStoreRead, ReadStreamBackwardFromTheLastEventPagesDownToTheFirst) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  ASSERT_NO_FATAL_FAILURE(append_interleaved(*store, "order-1", 7));

  ASSERT_OK_AND_ASSIGN(ReadSlice first,
                       store->read_stream("order-1", StreamVersion{UINT64_MAX}, ReadDirection::kBackward, 3));
  ASSERT_OK_AND_ASSIGN(ReadSlice second,
                       store->read_stream("order-1", StreamVersion{first.next}, ReadDirection::kBackward, 3));
  ASSERT_OK_AND_ASSIGN(ReadSlice third,
                       store->read_stream("order-1", StreamVersion{second.next}, ReadDirection::kBackward, 3));

  EXPECT_EQ(versions_in(first), (std::vector<uint64_t>{7, 6, 5}));
  EXPECT_EQ(positions_in(first), (std::vector<uint64_t>{13, 11, 9}));
  EXPECT_EQ(first.next, 4u);
  EXPECT_FALSE(first.end);
  EXPECT_EQ(versions_in(second), (std::vector<uint64_t>{4, 3, 2}));
  EXPECT_EQ(second.next, 1u);
  EXPECT_FALSE(second.end);
  EXPECT_EQ(versions_in(third), std::vector<uint64_t>{1});
  EXPECT_TRUE(third.end);
}

TEST(EventStoreRead, ReadStreamStartsAtTheRequestedVersionInEitherDirection) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  ASSERT_NO_FATAL_FAILURE(append_interleaved(*store, "order-1", 7));

  ASSERT_OK_AND_ASSIGN(ReadSlice forward, store->read_stream("order-1", StreamVersion{4}, ReadDirection::kForward, 2));
  ASSERT_OK_AND_ASSIGN(ReadSlice backward,
                       store->read_stream("order-1", StreamVersion{4}, ReadDirection::kBackward, 10));
  ASSERT_OK_AND_ASSIGN(ReadSlice past_end,
                       store->read_stream("order-1", StreamVersion{8}, ReadDirection::kForward, 10));

  EXPECT_EQ(versions_in(forward), (std::vector<uint64_t>{4, 5}));
  EXPECT_EQ(forward.next, 6u);
  EXPECT_FALSE(forward.end);
  EXPECT_EQ(versions_in(backward), (std::vector<uint64_t>{4, 3, 2, 1}));
  EXPECT_TRUE(backward.end);
  EXPECT_TRUE(past_end.events.empty());
  EXPECT_TRUE(past_end.end);
}

TEST(EventStoreRead, AFullLastPageReportsTheEnd) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  ASSERT_NO_FATAL_FAILURE(append_interleaved(*store, "order-1", 6));

  ASSERT_OK_AND_ASSIGN(ReadSlice forward, store->read_stream("order-1", StreamVersion{4}, ReadDirection::kForward, 3));
  ASSERT_OK_AND_ASSIGN(ReadSlice backward,
                       store->read_stream("order-1", StreamVersion{3}, ReadDirection::kBackward, 3));
  ASSERT_OK_AND_ASSIGN(ReadSlice all, store->read_all(GlobalPosition{7}, 6));
  ASSERT_OK_AND_ASSIGN(ReadSlice by_type, store->read_by_type("Noise", GlobalPosition{7}, 3));

  EXPECT_EQ(versions_in(forward), (std::vector<uint64_t>{4, 5, 6}));
  EXPECT_TRUE(forward.end);
  EXPECT_EQ(versions_in(backward), (std::vector<uint64_t>{3, 2, 1}));
  EXPECT_TRUE(backward.end);
  EXPECT_EQ(positions_in(all), sequence(7, 6));
  EXPECT_TRUE(all.end);
  EXPECT_EQ(positions_in(by_type), (std::vector<uint64_t>{8, 10, 12}));
  EXPECT_TRUE(by_type.end);
}

TEST(EventStoreRead, MissingStreamReadsAsAnEmptyFinalSlice) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  ASSERT_NO_FATAL_FAILURE(append_interleaved(*store, "order-1", 2));

  ASSERT_OK_AND_ASSIGN(ReadSlice forward,
                       store->read_stream("order-404", StreamVersion{1}, ReadDirection::kForward, 10));
  ASSERT_OK_AND_ASSIGN(ReadSlice backward,
                       store->read_stream("order-404", StreamVersion{UINT64_MAX}, ReadDirection::kBackward, 10));

  EXPECT_TRUE(forward.events.empty());
  EXPECT_TRUE(forward.end);
  EXPECT_TRUE(backward.events.empty());
  EXPECT_TRUE(backward.end);
  EXPECT_EQ(store->stream_version("order-404"), StreamVersion{0});
}

TEST(EventStoreRead, ReadStreamWithTheLargestCountReturnsTheRestOfTheStream) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  ASSERT_NO_FATAL_FAILURE(append_interleaved(*store, "order-1", 3));

  ASSERT_OK_AND_ASSIGN(ReadSlice forward,
                       store->read_stream("order-1", StreamVersion{2}, ReadDirection::kForward, SIZE_MAX));
  ASSERT_OK_AND_ASSIGN(ReadSlice backward,
                       store->read_stream("order-1", StreamVersion{2}, ReadDirection::kBackward, SIZE_MAX));

  EXPECT_EQ(versions_in(forward), (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(forward.next, 4u);
  EXPECT_TRUE(forward.end);
  EXPECT_EQ(versions_in(backward), (std::vector<uint64_t>{2, 1}));
  EXPECT_EQ(backward.next, 0u);
  EXPECT_TRUE(backward.end);
}

TEST(EventStoreRead, ReadStreamOfZeroEventsIsAnEmptyPageThatLeavesTheCursor) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  ASSERT_NO_FATAL_FAILURE(append_interleaved(*store, "order-1", 3));

  ASSERT_OK_AND_ASSIGN(ReadSlice forward, store->read_stream("order-1", StreamVersion{2}, ReadDirection::kForward, 0));
  ASSERT_OK_AND_ASSIGN(ReadSlice backward,
                       store->read_stream("order-1", StreamVersion{2}, ReadDirection::kBackward, 0));
  ASSERT_OK_AND_ASSIGN(ReadSlice missing,
                       store->read_stream("order-404", StreamVersion{1}, ReadDirection::kForward, 0));

  // As read_all and read_by_type do with 0: nothing read, nothing skipped.
  EXPECT_TRUE(forward.events.empty());
  EXPECT_FALSE(forward.end);
  EXPECT_EQ(forward.next, 2u);
  EXPECT_TRUE(backward.events.empty());
  EXPECT_FALSE(backward.end);
  EXPECT_EQ(backward.next, 2u);
  EXPECT_TRUE(missing.events.empty());
  EXPECT_TRUE(missing.end);
}

TEST(EventStoreRead, ReadAllPagesThroughTheLogInPositionOrder) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  std::vector<EventId> appended;
  for (int i = 0; i < 20; ++i) {
    const EventBatch batch = make_events(1);
    ASSERT_OK(store->append("order-" + std::to_string(i % 3), ExpectedVersion::any(), batch.events()));
    appended.push_back(batch[0].id);
  }

  std::vector<StoredEvent> events;
  std::vector<bool> ends;
  uint64_t cursor = 1;
  for (int page = 0; page < 4; ++page) {
    ASSERT_OK_AND_ASSIGN(ReadSlice slice, store->read_all(GlobalPosition{cursor}, 6));
    for (const EventView& event : slice.events) events.push_back(to_stored(event));
    ends.push_back(slice.end);
    cursor = slice.next;
  }

  EXPECT_EQ(positions_of(events), sequence(1, 20));
  EXPECT_EQ(ids_of(events), appended);
  EXPECT_EQ(ends, (std::vector<bool>{false, false, false, true}));
  EXPECT_EQ(cursor, 21u);
}

TEST(EventStoreRead, ReadAllPastTheEndIsEmptyAndResumesThereOnceMoreIsCommitted) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  ASSERT_NO_FATAL_FAILURE(append_interleaved(*store, "order-1", 2));

  ASSERT_OK_AND_ASSIGN(ReadSlice middle, store->read_all(GlobalPosition{2}, 2));
  ASSERT_OK_AND_ASSIGN(ReadSlice tail, store->read_all(GlobalPosition{5}, 10));
  ASSERT_NO_FATAL_FAILURE(append_interleaved(*store, "order-1", 1));
  ASSERT_OK_AND_ASSIGN(ReadSlice resumed, store->read_all(GlobalPosition{tail.next}, 10));

  EXPECT_EQ(positions_in(middle), (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(middle.next, 4u);
  EXPECT_TRUE(tail.events.empty());
  EXPECT_TRUE(tail.end);
  EXPECT_EQ(tail.next, 5u) << "an empty page must leave the cursor where the next event will be";
  EXPECT_EQ(positions_in(resumed), (std::vector<uint64_t>{5, 6}));
}

// Given: `appends` appends of one to three events of random `types` to four streams.
void append_random_types(EventStore& store, const std::vector<std::string>& types, int appends, uint32_t seed) {
  std::mt19937 random(seed);
  for (int append = 0; append < appends; ++append) {
    std::vector<EventSpec> specs(1 + random() % 3);
    for (EventSpec& spec : specs) spec.type = types[random() % types.size()];
    const EventBatch batch(std::move(specs));
    ASSERT_OK(store.append("order-" + std::to_string(random() % 4), ExpectedVersion::any(), batch.events()));
  }
}

TEST(EventStoreRead, ReadByTypeReturnsOnlyThatTypeInPositionOrder) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  const std::vector<std::string> types = {"OrderCreated", "ItemAdded", "OrderShipped"};
  ASSERT_NO_FATAL_FAILURE(append_random_types(*store, types, 25, 7));
  const std::vector<StoredEvent> log = read_all_events(*store);

  for (const std::string& type : types) {
    SCOPED_TRACE(type);
    const std::vector<StoredEvent> expected = of_type(log, type);
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(read_type_events(*store, type, 4), expected);
    EXPECT_EQ(read_type_events(*store, type, 1), expected);
  }
  ASSERT_OK_AND_ASSIGN(ReadSlice unknown, store->read_by_type("NeverWritten", GlobalPosition{1}, 10));
  EXPECT_TRUE(unknown.events.empty());
  EXPECT_TRUE(unknown.end);
}

TEST(EventStoreRead, ReadAllOfTypesScansAFixedSpanAndReturnsOnlyTheMatches) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  ASSERT_NO_FATAL_FAILURE(append_random_types(*store, {"OrderCreated", "ItemAdded", "Noise"}, 40, 11));
  const std::vector<StoredEvent> log = read_all_events(*store);
  const uint64_t head = store->committed_position().value;
  const std::vector<std::string_view> wanted = {"ItemAdded", "OrderCreated"};
  std::vector<StoredEvent> expected;
  for (const StoredEvent& event : log) {
    if (event.type != "Noise") expected.push_back(event);
  }

  // Paging by 5 scanned positions: every page starts where the last one stopped,
  // whether or not anything in it matched, and together they are the filtered log.
  std::vector<StoredEvent> got;
  uint64_t cursor = 1;
  bool end = false;
  while (!end) {
    ASSERT_OK_AND_ASSIGN(ReadSlice page, store->read_all_of_types(GlobalPosition{cursor}, 5, wanted));
    EXPECT_EQ(page.next, std::min(cursor + 5, head + 1));
    for (const StoredEvent& event : to_stored(page.events)) {
      EXPECT_GE(event.position, cursor);
      EXPECT_LT(event.position, page.next);
      got.push_back(event);
    }
    end = page.end;
    EXPECT_EQ(end, page.next == head + 1);
    cursor = page.next;
  }
  EXPECT_EQ(got, expected);

  const std::vector<std::string_view> other = {"Other"};
  ASSERT_OK_AND_ASSIGN(ReadSlice none, store->read_all_of_types(GlobalPosition{1}, head, other));
  EXPECT_TRUE(none.events.empty());
  EXPECT_EQ(none.next, head + 1);
  EXPECT_TRUE(none.end);
}

TEST(EventStoreRead, ReadByTypeWithTheLargestCountReturnsEveryEventOfTheType) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  for (int i = 0; i < 3; ++i) ASSERT_NO_FATAL_FAILURE(append_one(*store, "s", "T"));

  ASSERT_OK_AND_ASSIGN(ReadSlice slice, store->read_by_type("T", GlobalPosition{1}, SIZE_MAX));

  EXPECT_EQ(positions_in(slice), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(slice.next, 4u);
  EXPECT_TRUE(slice.end);
}

TEST(EventStoreRead, ReadAllOfTypesWithTheLargestScanReachesTheEnd) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  for (int i = 0; i < 3; ++i) ASSERT_NO_FATAL_FAILURE(append_one(*store, "s", "T"));
  const std::vector<std::string_view> wanted = {"T"};

  ASSERT_OK_AND_ASSIGN(ReadSlice slice, store->read_all_of_types(GlobalPosition{2}, SIZE_MAX, wanted));

  EXPECT_EQ(positions_in(slice), (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(slice.next, 4u) << "a follower must never be sent back";
  EXPECT_TRUE(slice.end);
}

// Given: events appended at four clock readings one second apart, types "At1".."At4".
void append_at_four_times(MemEnv& env, EventStore& store) {
  env.set_clock_ns(kEpochNs);
  const EventBatch three = make_events(3, "At1");
  ASSERT_OK(store.append("a", ExpectedVersion::any(), three.events()));
  env.set_clock_ns(kEpochNs + kSecondNs);
  ASSERT_NO_FATAL_FAILURE(append_one(store, "b", "At2"));
  ASSERT_NO_FATAL_FAILURE(append_one(store, "a", "At2"));
  env.set_clock_ns(kEpochNs + 2 * kSecondNs);
  ASSERT_NO_FATAL_FAILURE(append_one(store, "c", "At3"));
  env.set_clock_ns(kEpochNs + 3 * kSecondNs);
  const EventBatch two = make_events(2, "At4");
  ASSERT_OK(store.append("b", ExpectedVersion::any(), two.events()));
}

std::vector<StoredEvent> in_time_range(const std::vector<StoredEvent>& log, uint64_t from_ns, uint64_t to_ns) {
  std::vector<StoredEvent> matching;
  for (const StoredEvent& event : log) {
    if (event.timestamp_ns >= from_ns && event.timestamp_ns < to_ns) matching.push_back(event);
  }
  return matching;
}

std::vector<StoredEvent> read_time_range(const EventStore& store, uint64_t from_ns, uint64_t to_ns,
                                         uint64_t first_position = 1) {
  return read_pages(first_position, [&](uint64_t cursor) {
    return store.read_by_time(TimeRange{from_ns, to_ns}, GlobalPosition{cursor}, 2);
  });
}

TEST(EventStoreRead, TimestampsComeFromTheEnvClock) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));

  ASSERT_NO_FATAL_FAILURE(append_at_four_times(env, *store));

  const std::vector<StoredEvent> log = read_all_events(*store);
  ASSERT_EQ(log.size(), 8u);
  for (const StoredEvent& event : log) {
    const uint64_t second = static_cast<uint64_t>(event.type[2] - '1');
    EXPECT_GE(event.timestamp_ns, kEpochNs + second * kSecondNs) << event.type;
    EXPECT_LT(event.timestamp_ns, kEpochNs + (second + 1) * kSecondNs) << event.type;
  }
}

TEST(EventStoreRead, ReadByTimeIncludesFromAndExcludesTo) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  ASSERT_NO_FATAL_FAILURE(append_at_four_times(env, *store));
  const std::vector<StoredEvent> log = read_all_events(*store);
  const uint64_t at3_ns = of_type(log, "At3").at(0).timestamp_ns;

  const std::vector<StoredEvent> second_two = read_time_range(*store, kEpochNs + kSecondNs, kEpochNs + 2 * kSecondNs);
  const std::vector<StoredEvent> up_to_at3 = read_time_range(*store, 0, at3_ns);
  const std::vector<StoredEvent> from_at3 = read_time_range(*store, at3_ns, UINT64_MAX);
  const std::vector<StoredEvent> empty_range = read_time_range(*store, at3_ns, at3_ns);

  EXPECT_EQ(second_two, of_type(log, "At2"));
  EXPECT_EQ(up_to_at3, in_time_range(log, 0, at3_ns));
  EXPECT_EQ(up_to_at3.size(), 5u);
  EXPECT_EQ(from_at3, in_time_range(log, at3_ns, UINT64_MAX));
  ASSERT_EQ(from_at3.size(), 3u);
  EXPECT_EQ(from_at3.front().type, "At3");
  EXPECT_TRUE(empty_range.empty());
}

TEST(EventStoreRead, ReadByTimeStartsAtThePositionCursor) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  ASSERT_NO_FATAL_FAILURE(append_at_four_times(env, *store));
  const std::vector<StoredEvent> log = read_all_events(*store);

  const std::vector<StoredEvent> from_position_3 = read_time_range(*store, kEpochNs, kEpochNs + 2 * kSecondNs, 3);

  EXPECT_EQ(positions_of(from_position_3), (std::vector<uint64_t>{3, 4, 5}));
  EXPECT_EQ(from_position_3, std::vector<StoredEvent>(log.begin() + 2, log.begin() + 5));
}

TEST(EventStoreRead, ReadAllAndReadByTimeTakeTheLargestArguments) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  ASSERT_NO_FATAL_FAILURE(append_at_four_times(env, *store));

  ASSERT_OK_AND_ASSIGN(ReadSlice all, store->read_all(GlobalPosition{2}, SIZE_MAX));
  ASSERT_OK_AND_ASSIGN(ReadSlice all_past_end, store->read_all(GlobalPosition{UINT64_MAX}, SIZE_MAX));
  ASSERT_OK_AND_ASSIGN(ReadSlice by_time,
                       store->read_by_time(TimeRange{0, UINT64_MAX}, GlobalPosition{2}, SIZE_MAX));
  ASSERT_OK_AND_ASSIGN(ReadSlice by_time_from_last_ns,
                       store->read_by_time(TimeRange{UINT64_MAX, UINT64_MAX}, GlobalPosition{1}, SIZE_MAX));
  ASSERT_OK_AND_ASSIGN(ReadSlice by_time_past_end,
                       store->read_by_time(TimeRange{0, UINT64_MAX}, GlobalPosition{UINT64_MAX}, SIZE_MAX));

  EXPECT_EQ(positions_in(all), sequence(2, 7));
  EXPECT_EQ(all.next, 9u);
  EXPECT_TRUE(all.end);
  EXPECT_TRUE(all_past_end.events.empty());
  EXPECT_EQ(all_past_end.next, UINT64_MAX);
  EXPECT_TRUE(all_past_end.end);
  EXPECT_EQ(positions_in(by_time), sequence(2, 7));
  EXPECT_EQ(by_time.next, 9u);
  EXPECT_TRUE(by_time.end);
  EXPECT_TRUE(by_time_from_last_ns.events.empty());
  EXPECT_TRUE(by_time_from_last_ns.end);
  EXPECT_TRUE(by_time_past_end.events.empty());
  EXPECT_EQ(by_time_past_end.next, UINT64_MAX);
  EXPECT_TRUE(by_time_past_end.end);
}

TEST(EventStoreRead, ReadByTimeMatchesAFilterOfTheLogOverManyEvents) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  std::mt19937 random(31);
  uint64_t clock_ns = kEpochNs;
  for (int append = 0; append < 300; ++append) {
    clock_ns += (random() % 4) * 1'000'000;  // some appends share a timestamp
    env.set_clock_ns(clock_ns);
    ASSERT_NO_FATAL_FAILURE(append_one(*store, "s" + std::to_string(append % 5), "Tick"));
  }
  const std::vector<StoredEvent> log = read_all_events(*store, 64);

  for (int query = 0; query < 25; ++query) {
    // Bounds on, just before and just after event timestamps.
    const uint64_t a = log[random() % log.size()].timestamp_ns - 1 + random() % 3;
    const uint64_t b = log[random() % log.size()].timestamp_ns - 1 + random() % 3;
    const uint64_t from_ns = std::min(a, b);
    const uint64_t to_ns = std::max(a, b);
    SCOPED_TRACE("[" + std::to_string(from_ns) + ", " + std::to_string(to_ns) + ")");
    EXPECT_EQ(read_time_range(*store, from_ns, to_ns), in_time_range(log, from_ns, to_ns));
  }
}

TEST(EventStoreRead, TimestampsNeverDecreaseWithPosition) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  const uint64_t before_ns = env.now_ns();

  for (int i = 0; i < 30; ++i) ASSERT_NO_FATAL_FAILURE(append_one(*store, "s" + std::to_string(i % 4), "T"));

  const uint64_t after_ns = env.now_ns();
  const std::vector<StoredEvent> log = read_all_events(*store);
  ASSERT_EQ(log.size(), 30u);
  EXPECT_GE(log.front().timestamp_ns, before_ns);
  EXPECT_LE(log.back().timestamp_ns, after_ns);
  for (size_t i = 1; i < log.size(); ++i) EXPECT_GE(log[i].timestamp_ns, log[i - 1].timestamp_ns) << i;
}

TEST(EventStoreRead, TimestampsStayMonotonicWhenTheClockStepsBack) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  env.set_clock_ns(kEpochNs + 5 * kSecondNs);
  ASSERT_NO_FATAL_FAILURE(append_one(*store, "s", "Early"));

  env.set_clock_ns(kEpochNs);
  ASSERT_NO_FATAL_FAILURE(append_one(*store, "s", "Late"));

  const std::vector<StoredEvent> log = read_all_events(*store);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_GE(log[1].timestamp_ns, log[0].timestamp_ns);
  EXPECT_GE(log[0].timestamp_ns, kEpochNs + 5 * kSecondNs);
}

TEST(EventStoreRead, EveryFieldOfAnEventRoundTrips) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  EventSpec rich;
  rich.type = "OrderCreated";
  rich.schema_version = 7;
  for (int byte = 0; byte < 256; ++byte) rich.payload.push_back(static_cast<char>(byte));
  rich.correlation_id = EventId::generate();
  rich.causation_id = EventId::generate();
  rich.tags = {{"tenant", "acme"}, {"source", "checkout"}, {"empty", ""}};
  EventSpec bare;
  bare.type = "OrderConfirmed";
  const EventBatch batch({rich, bare});

  ASSERT_OK(store->append("order-9", ExpectedVersion::no_stream(), batch.events()));

  const std::vector<StoredEvent> events = read_stream_events(*store, "order-9");
  ASSERT_EQ(events.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const EventSpec& spec = batch[i];
    StoredEvent expected{i + 1, i + 1, events[i].timestamp_ns, spec.schema_version, spec.id,
                         spec.correlation_id, spec.causation_id, "order-9", spec.type, spec.payload, spec.tags};
    EXPECT_EQ(events[i], expected);
  }
  EXPECT_TRUE(events[1].correlation_id.is_nil());
  EXPECT_TRUE(events[1].payload.empty());
  EXPECT_EQ(read_all_events(*store), events);
  EXPECT_EQ(read_type_events(*store, "OrderCreated"), std::vector<StoredEvent>{events[0]});
}

TEST(EventStoreRead, WaitForPositionReturnsOnceThePositionIsCommitted) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  ASSERT_NO_FATAL_FAILURE(append_interleaved(*store, "order-1", 1));

  EXPECT_TRUE(store->wait_for_position(GlobalPosition{2}, milliseconds(0)));
  EXPECT_FALSE(store->wait_for_position(GlobalPosition{3}, milliseconds(20)));
  std::thread appender([&] {
    std::this_thread::sleep_for(milliseconds(20));
    append_one(*store, "order-2", "Later");
  });
  EXPECT_TRUE(store->wait_for_position(GlobalPosition{3}, milliseconds(10'000)));
  appender.join();
  EXPECT_EQ(store->committed_position(), GlobalPosition{3});
}

}  // namespace
}  // namespace orderlog::testing
