// Optimistic concurrency: every ExpectedVersion kind against new and existing streams,
// what a conflict reports (the stream's actual version) and what it leaves behind
// (nothing: no events, no consumed positions, a healthy writer).
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "store_test_util.h"

namespace orderlog::testing {
namespace {

constexpr std::string_view kStream = "order-1";

// Given: `stream` holds `count` events.
void seed_stream(EventStore& store, std::string_view stream, size_t count) {
  const EventBatch batch = make_events(count, "Seeded");
  ASSERT_OK_AND_ASSIGN(AppendResult result, store.append(stream, ExpectedVersion::any(), batch.events()));
  ASSERT_EQ(result.stream_versions.size(), 1u);
}

// Appends two events and checks the stream went from `before` to `before + 2`.
void expect_appended(EventStore& store, std::string_view stream, ExpectedVersion expected, uint64_t before) {
  const GlobalPosition committed_before = store.committed_position();
  const EventBatch batch = make_events(2);

  ASSERT_OK_AND_ASSIGN(AppendResult result, store.append(stream, expected, batch.events()));

  EXPECT_EQ(result.stream_versions, std::vector<StreamVersion>{StreamVersion{before + 2}});
  EXPECT_EQ(result.first_position, GlobalPosition{committed_before.value + 1});
  EXPECT_EQ(result.last_position, GlobalPosition{committed_before.value + 2});
  EXPECT_FALSE(result.deduplicated);
  EXPECT_EQ(store.stream_version(stream), StreamVersion{before + 2});
  const std::vector<StoredEvent> events = read_stream_events(store, stream);
  EXPECT_EQ(versions_of(events), sequence(1, before + 2));
}

// Tries to append two events and checks the conflict: the code, the actual version,
// and that the log, the stream and the writer are exactly as they were.
void expect_conflict(EventStore& store, std::string_view stream, ExpectedVersion expected,
                     uint64_t actual_version) {
  const GlobalPosition committed_before = store.committed_position();
  const std::vector<StoredEvent> log_before = read_all_events(store);
  const EventBatch batch = make_events(2);

  Result<AppendResult> result = store.append(stream, expected, batch.events());

  ASSERT_FALSE(result.is_ok()) << "expected " << expected.to_string() << " should not match version "
                               << actual_version;
  EXPECT_EQ(result.status().code(), StatusCode::kWrongExpectedVersion) << result.status().to_string();
  EXPECT_EQ(result.status().actual_version(), std::optional<uint64_t>(actual_version));
  EXPECT_FALSE(result.status().message().empty());
  EXPECT_EQ(store.stream_version(stream), StreamVersion{actual_version});
  EXPECT_EQ(store.committed_position(), committed_before);
  EXPECT_EQ(read_all_events(store), log_before);
  EXPECT_OK(store.writer_status());
}

TEST(ExpectedVersion, AnyIsSatisfiedByEveryVersion) {
  for (uint64_t version : {uint64_t{0}, uint64_t{1}, uint64_t{42}, UINT64_MAX}) {
    EXPECT_TRUE(ExpectedVersion::any().is_satisfied_by(StreamVersion{version})) << version;
  }
}

TEST(ExpectedVersion, NoStreamIsSatisfiedOnlyByAnEmptyStream) {
  EXPECT_TRUE(ExpectedVersion::no_stream().is_satisfied_by(StreamVersion{0}));
  EXPECT_FALSE(ExpectedVersion::no_stream().is_satisfied_by(StreamVersion{1}));
  EXPECT_FALSE(ExpectedVersion::no_stream().is_satisfied_by(StreamVersion{UINT64_MAX}));
}

TEST(ExpectedVersion, StreamExistsIsSatisfiedByEveryVersionButZero) {
  EXPECT_FALSE(ExpectedVersion::stream_exists().is_satisfied_by(StreamVersion{0}));
  EXPECT_TRUE(ExpectedVersion::stream_exists().is_satisfied_by(StreamVersion{1}));
  EXPECT_TRUE(ExpectedVersion::stream_exists().is_satisfied_by(StreamVersion{UINT64_MAX}));
}

TEST(ExpectedVersion, ExactIsSatisfiedOnlyByThatVersion) {
  const ExpectedVersion expected = ExpectedVersion::exact(StreamVersion{3});
  EXPECT_EQ(expected.kind(), ExpectedVersion::Kind::kExact);
  EXPECT_EQ(expected.version(), StreamVersion{3});
  EXPECT_FALSE(expected.is_satisfied_by(StreamVersion{2}));
  EXPECT_TRUE(expected.is_satisfied_by(StreamVersion{3}));
  EXPECT_FALSE(expected.is_satisfied_by(StreamVersion{4}));
  EXPECT_TRUE(ExpectedVersion::exact(StreamVersion{0}).is_satisfied_by(StreamVersion{0}));
  EXPECT_FALSE(ExpectedVersion::exact(StreamVersion{0}).is_satisfied_by(StreamVersion{1}));
}

TEST(EventStoreExpectedVersion, AnyAppendsToANewStream) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));

  expect_appended(*store, kStream, ExpectedVersion::any(), 0);
}

TEST(EventStoreExpectedVersion, AnyAppendsToAnExistingStream) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  ASSERT_NO_FATAL_FAILURE(seed_stream(*store, kStream, 3));

  expect_appended(*store, kStream, ExpectedVersion::any(), 3);
}

TEST(EventStoreExpectedVersion, NoStreamAppendsToANewStream) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  ASSERT_NO_FATAL_FAILURE(seed_stream(*store, "another-stream", 2));

  expect_appended(*store, kStream, ExpectedVersion::no_stream(), 0);
}

TEST(EventStoreExpectedVersion, NoStreamRejectsAnExistingStream) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  ASSERT_NO_FATAL_FAILURE(seed_stream(*store, kStream, 3));

  expect_conflict(*store, kStream, ExpectedVersion::no_stream(), 3);
}

TEST(EventStoreExpectedVersion, StreamExistsRejectsANewStream) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  ASSERT_NO_FATAL_FAILURE(seed_stream(*store, "another-stream", 2));

  expect_conflict(*store, kStream, ExpectedVersion::stream_exists(), 0);

  ASSERT_OK_AND_ASSIGN(ReadSlice slice, store->read_stream(kStream, StreamVersion{1}, ReadDirection::kForward, 10));
  EXPECT_TRUE(slice.events.empty());
  EXPECT_TRUE(slice.end);
}

TEST(EventStoreExpectedVersion, StreamExistsAppendsToAnExistingStream) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  ASSERT_NO_FATAL_FAILURE(seed_stream(*store, kStream, 1));

  expect_appended(*store, kStream, ExpectedVersion::stream_exists(), 1);
}

TEST(EventStoreExpectedVersion, ExactCurrentVersionAppends) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  ASSERT_NO_FATAL_FAILURE(seed_stream(*store, kStream, 3));

  expect_appended(*store, kStream, ExpectedVersion::exact(StreamVersion{3}), 3);
}

TEST(EventStoreExpectedVersion, ExactZeroAppendsToANewStream) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));

  expect_appended(*store, kStream, ExpectedVersion::exact(StreamVersion{0}), 0);
}

TEST(EventStoreExpectedVersion, ExactZeroRejectsAnExistingStream) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  ASSERT_NO_FATAL_FAILURE(seed_stream(*store, kStream, 2));

  expect_conflict(*store, kStream, ExpectedVersion::exact(StreamVersion{0}), 2);
}

TEST(EventStoreExpectedVersion, ExactOlderVersionIsRejected) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  ASSERT_NO_FATAL_FAILURE(seed_stream(*store, kStream, 3));

  expect_conflict(*store, kStream, ExpectedVersion::exact(StreamVersion{2}), 3);
}

TEST(EventStoreExpectedVersion, ExactFutureVersionIsRejected) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  ASSERT_NO_FATAL_FAILURE(seed_stream(*store, kStream, 3));

  expect_conflict(*store, kStream, ExpectedVersion::exact(StreamVersion{4}), 3);
}

TEST(EventStoreExpectedVersion, ExactNonZeroVersionOnANewStreamIsRejected) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));

  expect_conflict(*store, kStream, ExpectedVersion::exact(StreamVersion{1}), 0);
}

TEST(EventStoreExpectedVersion, ConflictConsumesNoPositionAndLeavesTheStoreWritable) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  ASSERT_NO_FATAL_FAILURE(seed_stream(*store, kStream, 2));
  ASSERT_NO_FATAL_FAILURE(expect_conflict(*store, kStream, ExpectedVersion::no_stream(), 2));

  const EventBatch retry = make_events(1);
  ASSERT_OK_AND_ASSIGN(AppendResult result,
                       store->append(kStream, ExpectedVersion::exact(StreamVersion{2}), retry.events()));

  EXPECT_EQ(result.first_position, GlobalPosition{3});
  EXPECT_EQ(result.stream_versions, std::vector<StreamVersion>{StreamVersion{3}});
  EXPECT_EQ(positions_of(read_all_events(*store)), sequence(1, 3));
}

TEST(EventStoreExpectedVersion, ChainedExactAppendsAdvanceTheVersionByTheirEventCount) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));

  uint64_t version = 0;
  for (size_t count = 1; count <= 6; ++count) {
    const EventBatch batch = make_events(count);
    ASSERT_OK_AND_ASSIGN(AppendResult result,
                         store->append(kStream, ExpectedVersion::exact(StreamVersion{version}), batch.events()));
    version += count;
    ASSERT_EQ(result.stream_versions, std::vector<StreamVersion>{StreamVersion{version}});
  }

  EXPECT_EQ(store->stream_version(kStream), StreamVersion{21});
  EXPECT_EQ(versions_of(read_stream_events(*store, kStream)), sequence(1, 21));
}

TEST(EventStoreExpectedVersion, VersionsAreCountedPerStream) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  ASSERT_NO_FATAL_FAILURE(seed_stream(*store, "order-a", 3));
  ASSERT_NO_FATAL_FAILURE(seed_stream(*store, "order-b", 1));
  ASSERT_NO_FATAL_FAILURE(seed_stream(*store, "order-a", 1));

  EXPECT_EQ(store->stream_version("order-a"), StreamVersion{4});
  EXPECT_EQ(store->stream_version("order-b"), StreamVersion{1});
  EXPECT_EQ(store->stream_version("order-c"), StreamVersion{0});
  expect_conflict(*store, "order-b", ExpectedVersion::exact(StreamVersion{4}), 1);
}

}  // namespace
}  // namespace orderlog::testing
