// Appends and reads through the client against a real orderlogd, in the sync,
// callback and future forms; optimistic concurrency; pipelining.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <set>

#include "server_fixture.h"

namespace orderlog::client::testing {
namespace {

using ClientEvents = ServerTest;

TEST_F(ClientEvents, PingEchoesAndHandshakeNamesTheTenant) {
  auto client = connect();
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->server_info().tenant, "tests");
  EXPECT_GT(client->server_info().events_per_append_max, 0u);
  Result<Pong> pong = client->ping(42);
  ASSERT_TRUE(pong.ok()) << pong.error().to_string();
  EXPECT_EQ(pong->payload, 42u);
  EXPECT_GT(pong->server_time_ns, 0u);
  Result<Stats> stats = client->stats();
  ASSERT_TRUE(stats.ok()) << stats.error().to_string();
  EXPECT_GE(stats->connections, 1u);
}

TEST_F(ClientEvents, AppendedEventsReadBackForwardAndBackward) {
  auto client = connect();
  const std::string stream = unique("stream");
  Result<AppendResult> appended =
      client->append(stream, ExpectedVersion::no_stream(), {event("A", "1"), event("B", "2"), event("C", "3")});
  ASSERT_TRUE(appended.ok()) << appended.error().to_string();
  EXPECT_EQ(appended->last_position - appended->first_position, 2u);
  ASSERT_EQ(appended->stream_versions.size(), 1u);
  EXPECT_EQ(appended->stream_versions[0], 3u);

  Result<ReadPage> forward = client->read_stream(stream, 0, Direction::Forward, 10);
  ASSERT_TRUE(forward.ok()) << forward.error().to_string();
  ASSERT_EQ(forward->events.size(), 3u);
  EXPECT_EQ(forward->events[0].type, "A");
  EXPECT_EQ(forward->events[2].payload, "3");
  EXPECT_EQ(forward->events[2].version, 3u);
  EXPECT_EQ(forward->events[0].position, appended->first_position);
  EXPECT_FALSE(forward->events[0].id.is_nil());

  Result<ReadPage> backward = client->read_stream(stream, kStreamEnd, Direction::Backward, 2);
  ASSERT_TRUE(backward.ok()) << backward.error().to_string();
  ASSERT_EQ(backward->events.size(), 2u);
  EXPECT_EQ(backward->events[0].type, "C");
  EXPECT_EQ(backward->events[1].type, "B");
}

TEST_F(ClientEvents, CallbackAndFutureFormsDeliverTheSameResults) {
  auto client = connect();
  const std::string stream = unique("stream");
  std::promise<Result<AppendResult>> called_back;
  client->append_async(stream, ExpectedVersion::any(), {event("A")},
                       [&](Result<AppendResult> result) { called_back.set_value(std::move(result)); });
  Result<AppendResult> first = called_back.get_future().get();
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  Result<AppendResult> second = client->append_future(stream, ExpectedVersion::exact(1), {event("B")}).get();
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  EXPECT_EQ(second->stream_versions[0], 2u);
  Result<ReadPage> page = client->call_future(ReadStreamRequest{stream, 0, Direction::Forward, 10}).get();
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->events.size(), 2u);
}

TEST_F(ClientEvents, ReadAllByTypeAndByTimeFindTheAppendedEvents) {
  auto client = connect();
  const std::string type = unique("Type");
  Result<AppendResult> appended = client->append(unique("stream"), ExpectedVersion::any(), {event(type), event(type)});
  ASSERT_TRUE(appended.ok()) << appended.error().to_string();

  Result<ReadPage> all = client->read_all(appended->first_position, 10);
  ASSERT_TRUE(all.ok()) << all.error().to_string();
  ASSERT_GE(all->events.size(), 2u);
  EXPECT_EQ(all->events[0].position, appended->first_position);

  Result<ReadPage> by_type = client->read_by_type(type, 0, 10);
  ASSERT_TRUE(by_type.ok()) << by_type.error().to_string();
  ASSERT_EQ(by_type->events.size(), 2u);
  EXPECT_EQ(by_type->events[1].position, appended->last_position);

  const uint64_t at_ns = all->events[0].timestamp_ns;
  ReadByTimeRequest by_time{at_ns, at_ns + 1, 0, 10};
  Result<ReadPage> timed = client->read_by_time(by_time);
  ASSERT_TRUE(timed.ok()) << timed.error().to_string();
  ASSERT_FALSE(timed->events.empty());
  EXPECT_EQ(timed->events[0].timestamp_ns, at_ns);
}

TEST_F(ClientEvents, AppendMultiIsAllOrNothing) {
  auto client = connect();
  const std::string a = unique("a");
  const std::string b = unique("b");
  Result<AppendResult> both = client->append_multi({{a, ExpectedVersion::no_stream(), {event("X")}},
                                                    {b, ExpectedVersion::no_stream(), {event("Y"), event("Z")}}});
  ASSERT_TRUE(both.ok()) << both.error().to_string();
  EXPECT_EQ(both->stream_versions, (std::vector<uint64_t>{1, 2}));
  Result<AppendResult> refused = client->append_multi({{a, ExpectedVersion::exact(1), {event("X2")}},
                                                       {b, ExpectedVersion::exact(7), {event("Y2")}}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::WrongExpectedVersion);
  EXPECT_EQ(client->read_stream(a, 0, Direction::Forward, 10)->events.size(), 1u);
}

TEST_F(ClientEvents, ConcurrentWritersConflictWithWrongExpectedVersion) {
  auto alice = connect();
  auto bob = connect();
  const std::string stream = unique("account");
  ASSERT_TRUE(alice->append(stream, ExpectedVersion::no_stream(), {event("Opened")}).ok());
  // Both saw version 1; Alice writes first.
  ASSERT_TRUE(alice->append(stream, ExpectedVersion::exact(1), {event("Deposited")}).ok());
  Result<AppendResult> late = bob->append(stream, ExpectedVersion::exact(1), {event("Withdrawn")});
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, ErrorCode::WrongExpectedVersion);
  EXPECT_EQ(late.error().actual_version, 2u);
  Result<AppendResult> fresh = bob->append(stream, ExpectedVersion::no_stream(), {event("Opened")});
  ASSERT_FALSE(fresh.ok());
  EXPECT_EQ(fresh.error().code, ErrorCode::WrongExpectedVersion);
}

TEST_F(ClientEvents, SameEventIdsAppendedTwiceAreDeduplicated) {
  auto client = connect();
  const std::string stream = unique("stream");
  NewEvent once = event("Paid");
  once.id = Uuid::generate();
  Result<AppendResult> first = client->append(stream, ExpectedVersion::any(), {once});
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  EXPECT_FALSE(first->deduplicated);
  Result<AppendResult> again = client->append(stream, ExpectedVersion::any(), {once});
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_TRUE(again->deduplicated);
  EXPECT_EQ(client->read_stream(stream, 0, Direction::Forward, 10)->events.size(), 1u);
}

TEST_F(ClientEvents, TenThousandPipelinedRequestsOverOneConnectionAllSucceed) {
  auto client = connect();
  const std::string stream = unique("pipelined");
  constexpr int kRequests = 10'000;
  std::vector<std::future<Result<AppendResult>>> pending;
  pending.reserve(kRequests);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRequests; ++i) pending.push_back(client->append_future(stream, ExpectedVersion::any(), {event("E")}));
  std::set<uint64_t> versions;
  for (auto& future : pending) {
    Result<AppendResult> result = future.get();
    ASSERT_TRUE(result.ok()) << result.error().to_string();
    versions.insert(result->stream_versions[0]);
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(versions.size(), size_t{kRequests});
  EXPECT_EQ(*versions.rbegin(), uint64_t{kRequests});
  std::printf("10000 pipelined appends in %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()));
}

TEST_F(ClientEvents, AppendBatchSplitsAtTheServerLimitAndKeepsOrder) {
  auto client = connect();
  const std::string stream = unique("batch");
  const uint32_t limit = client->server_info().events_per_append_max;
  ASSERT_GT(limit, 0u);
  const size_t count = limit + 5;  // two chunks
  std::vector<NewEvent> events;
  for (size_t i = 0; i < count; ++i) events.push_back(event("E", std::to_string(i)));
  Result<AppendResult> appended = client->append_batch(stream, ExpectedVersion::no_stream(), std::move(events));
  ASSERT_TRUE(appended.ok()) << appended.error().to_string();
  EXPECT_EQ(appended->stream_versions[0], count);
  Result<ReadPage> tail = client->read_stream(stream, limit, Direction::Forward, 10);
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ(tail->events.size(), 6u);
  EXPECT_EQ(tail->events[0].payload, std::to_string(limit - 1));
  EXPECT_EQ(tail->events[5].payload, std::to_string(count - 1));
}

// The server takes at most 4 MiB of encoded events per append, whatever its frame
// size: a batch of 8 MiB goes in chunks under that.
TEST_F(ClientEvents, AppendBatchSplitsAtTheAppendByteLimit) {
  auto client = connect();
  const std::string stream = unique("bytes");
  std::vector<NewEvent> events;
  for (size_t i = 0; i < 2000; ++i) events.push_back(event("E", std::to_string(i) + std::string(4096, 'p')));
  Result<AppendResult> appended = client->append_batch(stream, ExpectedVersion::no_stream(), std::move(events));
  ASSERT_TRUE(appended.ok()) << appended.error().to_string();
  EXPECT_EQ(appended->stream_versions[0], 2000u);
  Result<ReadPage> last = client->read_stream(stream, 2000, Direction::Forward, 1);
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(last->events.size(), 1u);
  EXPECT_EQ(last->events[0].payload.substr(0, 5), "1999p");
}

TEST_F(ClientEvents, OverTheServerLimitIsRefusedBeforeSending) {
  auto client = connect();
  std::vector<NewEvent> events(client->server_info().events_per_append_max + 1, event("E"));
  Result<AppendResult> refused = client->append(unique("s"), ExpectedVersion::any(), std::move(events));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::TooLarge);
}

TEST_F(ClientEvents, WrongTokenIsUnauthorized) {
  ClientOptions options = client_options(server_->port());
  options.token = "not-the-token-at-all-0000";
  auto client = Client::connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, ErrorCode::Unauthorized);
}

TEST_F(ClientEvents, QueryWaitingLongerThanTheRequestTimeoutTimesOut) {
  ClientOptions options = client_options(server_->port());
  options.request_timeout = std::chrono::milliseconds(200);
  auto client = Client::connect(options);
  ASSERT_TRUE(client.ok());
  // A read model position far in the future: the server waits for it.
  StatusCountQuery query{OrderStatus::Pending, {uint64_t{1} << 40, 5000}};
  const auto start = std::chrono::steady_clock::now();
  Result<uint64_t> count = (*client)->call(query);
  ASSERT_FALSE(count.ok());
  EXPECT_EQ(count.error().code, ErrorCode::Timeout) << count.error().to_string();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_TRUE((*client)->ping(1).ok());  // the connection is still fine
}

}  // namespace
}  // namespace orderlog::client::testing
