// Appends: atomic multi-event and multi-stream writes, idempotent retries, input
// validation (a bad request is rejected whole and writes nothing), the asynchronous
// entry point and gapless global positions.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <initializer_list>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "store_test_util.h"

namespace orderlog::testing {
namespace {

constexpr std::chrono::milliseconds kWait{10'000};

// Submits `events` to `stream` and checks it is rejected with one of `codes`, with a
// message, leaving the log unchanged and the writer healthy.
void expect_rejected(EventStore& store, std::string_view stream, std::span<const NewEvent> events,
                     std::initializer_list<StatusCode> codes) {
  const GlobalPosition committed_before = store.committed_position();

  Result<AppendResult> result = store.append(stream, ExpectedVersion::any(), events);

  ASSERT_FALSE(result.is_ok());
  EXPECT_NE(std::find(codes.begin(), codes.end(), result.status().code()), codes.end())
      << result.status().to_string();
  EXPECT_FALSE(result.status().message().empty());
  EXPECT_EQ(store.committed_position(), committed_before);
  EXPECT_EQ(read_all_events(store).size(), committed_before.value);
  EXPECT_OK(store.writer_status());
}

TEST(EventStoreAppend, MultiEventAppendGetsConsecutiveVersionsAndPositions) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  const EventBatch other = make_events(2);
  ASSERT_OK(store->append("other", ExpectedVersion::any(), other.events()));
  const EventBatch batch = make_events(4, "ItemAdded");

  ASSERT_OK_AND_ASSIGN(AppendResult result, store->append("order-1", ExpectedVersion::no_stream(), batch.events()));

  EXPECT_EQ(result.first_position, GlobalPosition{3});
  EXPECT_EQ(result.last_position, GlobalPosition{6});
  EXPECT_EQ(result.stream_versions, std::vector<StreamVersion>{StreamVersion{4}});
  EXPECT_FALSE(result.deduplicated);
  const std::vector<StoredEvent> events = read_stream_events(*store, "order-1");
  EXPECT_EQ(ids_of(events), ids_of(batch));
  EXPECT_EQ(versions_of(events), sequence(1, 4));
  EXPECT_EQ(positions_of(events), sequence(3, 4));
  for (const StoredEvent& event : events) EXPECT_EQ(event.stream_id, "order-1");
}

TEST(EventStoreAppend, AppendMultiWritesEveryStreamWithItsOwnVersion) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  const EventBatch seed = make_events(1);
  ASSERT_OK(store->append("a", ExpectedVersion::any(), seed.events()));
  const EventBatch to_a = make_events(2, "ToA");
  const EventBatch to_b = make_events(3, "ToB");
  const std::vector<StreamAppend> request = {
      {"a", ExpectedVersion::exact(StreamVersion{1}), to_a.events()},
      {"b", ExpectedVersion::no_stream(), to_b.events()},
  };

  ASSERT_OK_AND_ASSIGN(AppendResult result, store->append_multi(request));

  EXPECT_EQ(result.stream_versions, (std::vector<StreamVersion>{StreamVersion{3}, StreamVersion{3}}));
  EXPECT_EQ(result.first_position, GlobalPosition{2});
  EXPECT_EQ(result.last_position, GlobalPosition{6});
  const std::vector<StoredEvent> log = read_all_events(*store);
  ASSERT_EQ(positions_of(log), sequence(1, 6));
  EXPECT_EQ(ids_of(of_type(log, "ToA")), ids_of(to_a));
  EXPECT_EQ(versions_of(of_type(log, "ToA")), sequence(2, 2));
  EXPECT_EQ(ids_of(of_type(log, "ToB")), ids_of(to_b));
  EXPECT_EQ(versions_of(of_type(log, "ToB")), sequence(1, 3));
}

TEST(EventStoreAppend, AppendMultiWritesNothingWhenOneExpectedVersionIsWrong) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  const EventBatch seed_a = make_events(1);
  const EventBatch seed_b = make_events(2);
  ASSERT_OK(store->append("a", ExpectedVersion::any(), seed_a.events()));
  ASSERT_OK(store->append("b", ExpectedVersion::any(), seed_b.events()));
  const std::vector<StoredEvent> log_before = read_all_events(*store);
  const EventBatch to_a = make_events(2);
  const EventBatch to_b = make_events(1);
  const EventBatch to_c = make_events(1);
  const std::vector<StreamAppend> request = {
      {"a", ExpectedVersion::exact(StreamVersion{1}), to_a.events()},
      {"b", ExpectedVersion::exact(StreamVersion{5}), to_b.events()},
      {"c", ExpectedVersion::any(), to_c.events()},
  };

  Result<AppendResult> result = store->append_multi(request);

  ASSERT_FALSE(result.is_ok());
  EXPECT_EQ(result.status().code(), StatusCode::kWrongExpectedVersion) << result.status().to_string();
  EXPECT_EQ(result.status().actual_version(), std::optional<uint64_t>(2));
  EXPECT_EQ(store->stream_version("a"), StreamVersion{1});
  EXPECT_EQ(store->stream_version("b"), StreamVersion{2});
  EXPECT_EQ(store->stream_version("c"), StreamVersion{0});
  EXPECT_EQ(store->committed_position(), GlobalPosition{3});
  EXPECT_EQ(read_all_events(*store), log_before);

  const std::vector<StreamAppend> corrected = {
      {"a", ExpectedVersion::exact(StreamVersion{1}), to_a.events()},
      {"b", ExpectedVersion::exact(StreamVersion{2}), to_b.events()},
  };
  ASSERT_OK_AND_ASSIGN(AppendResult retried, store->append_multi(corrected));
  EXPECT_EQ(retried.first_position, GlobalPosition{4});
  EXPECT_EQ(retried.last_position, GlobalPosition{6});
}

TEST(EventStoreAppend, RetryWithTheSameIdsAndExpectedVersionWritesOnce) {
  for (const ExpectedVersion expected :
       {ExpectedVersion::exact(StreamVersion{0}), ExpectedVersion::no_stream(), ExpectedVersion::any()}) {
    SCOPED_TRACE(expected.to_string());
    MemEnv env;
    ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
    const EventBatch batch = make_events(3);
    ASSERT_OK_AND_ASSIGN(AppendResult first, store->append("order-1", expected, batch.events()));
    ASSERT_FALSE(first.deduplicated);

    ASSERT_OK_AND_ASSIGN(AppendResult retry, store->append("order-1", expected, batch.events()));

    EXPECT_TRUE(retry.deduplicated);
    EXPECT_EQ(retry.first_position, first.first_position);
    EXPECT_EQ(retry.last_position, first.last_position);
    EXPECT_EQ(retry.stream_versions, first.stream_versions);
    EXPECT_EQ(store->stream_version("order-1"), StreamVersion{3});
    EXPECT_EQ(store->committed_position(), GlobalPosition{3});
    EXPECT_EQ(ids_of(read_all_events(*store)), ids_of(batch));
  }
}

TEST(EventStoreAppend, RetryWithAnyIsDeduplicatedAfterLaterAppends) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  const EventBatch batch = make_events(2);
  ASSERT_OK_AND_ASSIGN(AppendResult first, store->append("order-1", ExpectedVersion::any(), batch.events()));
  const EventBatch later_same_stream = make_events(2);
  const EventBatch later_other_stream = make_events(1);
  ASSERT_OK(store->append("order-1", ExpectedVersion::any(), later_same_stream.events()));
  ASSERT_OK(store->append("order-2", ExpectedVersion::any(), later_other_stream.events()));

  ASSERT_OK_AND_ASSIGN(AppendResult retry, store->append("order-1", ExpectedVersion::any(), batch.events()));

  EXPECT_TRUE(retry.deduplicated);
  EXPECT_EQ(retry.first_position, first.first_position);
  EXPECT_EQ(retry.last_position, first.last_position);
  EXPECT_EQ(store->stream_version("order-1"), StreamVersion{4});
  const std::vector<EventId> ids = ids_of(read_all_events(*store));
  EXPECT_EQ(ids.size(), 5u);
  EXPECT_EQ(std::set<EventId>(ids.begin(), ids.end()).size(), ids.size()) << "an event id was written twice";
}

TEST(EventStoreAppend, EmptyStreamIdIsRejected) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  const EventBatch batch = make_events(1);

  expect_rejected(*store, "", batch.events(), {StatusCode::kInvalidArgument});
}

TEST(EventStoreAppend, StreamIdLengthIsLimited) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  const EventBatch batch = make_events(1);
  const std::string longest(kStreamIdBytesMax, 's');
  const std::string too_long(kStreamIdBytesMax + 1, 's');

  expect_rejected(*store, too_long, batch.events(), {StatusCode::kInvalidArgument, StatusCode::kTooLarge});
  ASSERT_OK(store->append(longest, ExpectedVersion::any(), batch.events()));
  EXPECT_EQ(store->stream_version(longest), StreamVersion{1});
}

TEST(EventStoreAppend, EventTypeMustBeNonEmptyAndWithinTheLimit) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));

  expect_rejected(*store, "s", make_events(1, "").events(), {StatusCode::kInvalidArgument});
  const std::string too_long(kEventTypeBytesMax + 1, 't');
  expect_rejected(*store, "s", make_events(1, too_long).events(),
                  {StatusCode::kInvalidArgument, StatusCode::kTooLarge});
  const std::string longest(kEventTypeBytesMax, 't');
  ASSERT_OK(store->append("s", ExpectedVersion::any(), make_events(1, longest).events()));
  EXPECT_EQ(read_type_events(*store, longest).size(), 1u);
}

TEST(EventStoreAppend, NilEventIdIsRejected) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  EventSpec nil_id;
  nil_id.id = EventId{};
  ASSERT_TRUE(nil_id.id.is_nil());

  expect_rejected(*store, "s", EventBatch({nil_id}).events(), {StatusCode::kInvalidArgument});
}

TEST(EventStoreAppend, ZeroEventsAreRejected) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));

  expect_rejected(*store, "s", {}, {StatusCode::kInvalidArgument});
  EXPECT_EQ(store->stream_version("s"), StreamVersion{0});
}

TEST(EventStoreAppend, PayloadOverTheAppendLimitIsTooLarge) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  EventSpec huge;
  huge.payload.assign(kAppendBytesMax + 1, 'p');

  expect_rejected(*store, "s", EventBatch({huge}).events(), {StatusCode::kTooLarge});
}

TEST(EventStoreAppend, DuplicateEventIdWithinOneAppendIsRejected) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  EventSpec first;
  EventSpec second;
  second.id = first.id;

  expect_rejected(*store, "s", EventBatch({first, second}).events(), {StatusCode::kInvalidArgument});
}

TEST(EventStoreAppend, DuplicateEventIdAcrossStreamsOfOneAppendMultiIsRejected) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  const EventBatch to_a = make_events(1);
  EventSpec same_id;
  same_id.id = to_a[0].id;
  const EventBatch to_b({same_id});
  const std::vector<StreamAppend> request = {{"a", ExpectedVersion::any(), to_a.events()},
                                             {"b", ExpectedVersion::any(), to_b.events()}};

  Result<AppendResult> result = store->append_multi(request);

  ASSERT_FALSE(result.is_ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status().to_string();
  EXPECT_EQ(store->committed_position(), GlobalPosition{0});
}

TEST(EventStoreAppend, SchemaVersionZeroIsRejected) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  EventSpec unversioned;
  unversioned.schema_version = 0;

  expect_rejected(*store, "s", EventBatch({unversioned}).events(), {StatusCode::kInvalidArgument});
}

TEST(EventStoreAppend, TagsBeyondTheLimitsAreRejected) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  EventSpec many_tags;
  for (size_t i = 0; i <= kTagCountMax; ++i) many_tags.tags.emplace_back("k" + std::to_string(i), "v");
  EventSpec big_tag;
  big_tag.tags.emplace_back("key", std::string(kTagBytesMax, 'v'));

  expect_rejected(*store, "s", EventBatch({many_tags}).events(), {StatusCode::kInvalidArgument, StatusCode::kTooLarge});
  expect_rejected(*store, "s", EventBatch({big_tag}).events(), {StatusCode::kInvalidArgument, StatusCode::kTooLarge});
}

TEST(EventStoreAppend, TooManyEventsInOneAppendAreRejected) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  const EventBatch batch = make_events(kEventsPerAppendMax + 1);

  expect_rejected(*store, "s", batch.events(), {StatusCode::kInvalidArgument, StatusCode::kTooLarge});
}

TEST(EventStoreAppend, OneInvalidEventRejectsTheWholeRequest) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  EventBatch batch = make_events(2);
  EventSpec nil_id;
  nil_id.id = EventId{};
  batch.add(nil_id);
  const EventBatch to_a = make_events(1);
  const EventBatch to_unnamed = make_events(1);
  const std::vector<StreamAppend> request = {{"a", ExpectedVersion::any(), to_a.events()},
                                             {"", ExpectedVersion::any(), to_unnamed.events()}};

  expect_rejected(*store, "s", batch.events(), {StatusCode::kInvalidArgument});
  Result<AppendResult> multi = store->append_multi(request);

  ASSERT_FALSE(multi.is_ok());
  EXPECT_EQ(multi.status().code(), StatusCode::kInvalidArgument) << multi.status().to_string();
  EXPECT_EQ(store->stream_version("a"), StreamVersion{0});
  EXPECT_EQ(store->committed_position(), GlobalPosition{0});
}

TEST(EventStoreAppend, AppendAsyncDeliversTheResultToTheCallback) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  const EventBatch batch = make_events(2);
  const std::vector<StreamAppend> request = {{"order-1", ExpectedVersion::no_stream(), batch.events()}};
  AsyncOutcome outcome;

  store->append_async(request, outcome.callback());

  ASSERT_TRUE(outcome.ready_within(kWait));
  Result<AppendResult> result = outcome.get();
  ASSERT_OK(result);
  EXPECT_EQ(result->first_position, GlobalPosition{1});
  EXPECT_EQ(result->last_position, GlobalPosition{2});
  EXPECT_EQ(result->stream_versions, std::vector<StreamVersion>{StreamVersion{2}});
  EXPECT_GE(store->committed_position(), GlobalPosition{2});
  EXPECT_EQ(ids_of(read_stream_events(*store, "order-1")), ids_of(batch));
}

TEST(EventStoreAppend, AppendAsyncReportsInputErrorsBeforeReturning) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  const EventBatch batch = make_events(1);
  const std::vector<StreamAppend> request = {{"", ExpectedVersion::any(), batch.events()}};
  AsyncOutcome outcome;

  store->append_async(request, outcome.callback());

  ASSERT_TRUE(outcome.ready_now()) << "an input error must reach the callback before append_async returns";
  EXPECT_EQ(outcome.get().status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->committed_position(), GlobalPosition{0});
}

TEST(EventStoreAppend, AppendAsyncReportsAConflictThroughTheCallback) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  const EventBatch seed = make_events(2);
  ASSERT_OK(store->append("order-1", ExpectedVersion::any(), seed.events()));
  const EventBatch batch = make_events(1);
  const std::vector<StreamAppend> request = {{"order-1", ExpectedVersion::no_stream(), batch.events()}};
  AsyncOutcome outcome;

  store->append_async(request, outcome.callback());

  ASSERT_TRUE(outcome.ready_within(kWait));
  const Status status = outcome.get().status();
  EXPECT_EQ(status.code(), StatusCode::kWrongExpectedVersion) << status.to_string();
  EXPECT_EQ(status.actual_version(), std::optional<uint64_t>(2));
  EXPECT_EQ(store->committed_position(), GlobalPosition{2});
}

TEST(EventStoreAppend, AppendAsyncCopiesTheEventsBeforeReturning) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  auto batch = std::make_unique<EventBatch>(make_events(3, "Copied"));
  auto stream_id = std::make_unique<std::string>("order-copied");
  auto request = std::make_unique<std::vector<StreamAppend>>(
      std::vector<StreamAppend>{{*stream_id, ExpectedVersion::any(), batch->events()}});
  const std::vector<EventId> ids = ids_of(*batch);
  AsyncOutcome outcome;

  store->append_async(*request, outcome.callback());
  request.reset();
  stream_id.reset();
  batch.reset();

  ASSERT_TRUE(outcome.ready_within(kWait));
  ASSERT_OK(outcome.get());
  const std::vector<StoredEvent> events = read_stream_events(*store, "order-copied");
  EXPECT_EQ(ids_of(events), ids);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[2].payload, "Copied #2");
}

TEST(EventStoreAppend, PositionsStayGaplessAcrossManyAppends) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  std::mt19937 random(20240917);
  std::vector<uint64_t> stream_versions(5, 0);
  uint64_t last_position = 0;

  for (int append = 0; append < 300; ++append) {
    const size_t stream = random() % stream_versions.size();
    const size_t count = 1 + random() % 4;
    const EventBatch batch = make_events(count);
    ASSERT_OK_AND_ASSIGN(AppendResult result,
                         store->append("stream-" + std::to_string(stream), ExpectedVersion::any(), batch.events()));
    stream_versions[stream] += count;
    ASSERT_EQ(result.first_position, GlobalPosition{last_position + 1});
    ASSERT_EQ(result.last_position, GlobalPosition{last_position + count});
    ASSERT_EQ(result.stream_versions, std::vector<StreamVersion>{StreamVersion{stream_versions[stream]}});
    last_position += count;
  }

  EXPECT_EQ(store->committed_position(), GlobalPosition{last_position});
  EXPECT_EQ(positions_of(read_all_events(*store, 64)), sequence(1, last_position));
  for (size_t stream = 0; stream < stream_versions.size(); ++stream) {
    const std::string stream_id = "stream-" + std::to_string(stream);
    EXPECT_EQ(versions_of(read_stream_events(*store, stream_id, 50)), sequence(1, stream_versions[stream]));
  }
}

TEST(EventStoreAppend, StatsCountEventsStreamsAndTheCommittedPosition) {
  MemEnv env;
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env));
  const EventBatch first = make_events(3);
  const EventBatch second = make_events(2);
  ASSERT_OK(store->append("a", ExpectedVersion::any(), first.events()));
  ASSERT_OK(store->append("b", ExpectedVersion::any(), second.events()));

  const StoreStats stats = store->stats();

  EXPECT_EQ(stats.committed_position, GlobalPosition{5});
  EXPECT_EQ(stats.events_appended, 5u);
  EXPECT_EQ(stats.streams, 2u);
  EXPECT_GE(stats.segments, 1u);
  EXPECT_GE(stats.batches, 1u);
  EXPECT_GE(stats.syncs, 1u);
  EXPECT_GT(stats.bytes_written, 0u);
}

TEST(EventStoreAppend, CommitObserverSeesEveryAcknowledgedAppendOnce) {
  MemEnv env;
  std::mutex mutex;
  CommitInfo total;
  uint64_t commits = 0;
  StoreOptions options = test_options(&env, kDefaultTestSegmentBytes);
  options.commit_observer = [&](const CommitInfo& info) {
    std::lock_guard lock(mutex);
    ++commits;
    total.appends += info.appends;
    total.events += info.events;
    total.bytes += info.bytes;
    total.write_sync_ns += info.write_sync_ns;
  };
  ASSERT_OK_AND_ASSIGN(auto store, open_store(env, options));
  const EventBatch three = make_events(3);
  const EventBatch two = make_events(2);

  ASSERT_OK(store->append("a", ExpectedVersion::any(), three.events()));
  ASSERT_OK(store->append("b", ExpectedVersion::any(), two.events()));
  ASSERT_OK(store->append("a", ExpectedVersion::any(), three.events()));  // a retry: nothing written
  EXPECT_FALSE(store->append("b", ExpectedVersion::no_stream(), make_events(1).events()).is_ok());

  std::lock_guard lock(mutex);
  EXPECT_GE(commits, 2u);
  EXPECT_EQ(total.appends, 2u);
  EXPECT_EQ(total.events, 5u);
  EXPECT_EQ(total.bytes, store->stats().bytes_written);
}

}  // namespace
}  // namespace orderlog::testing
