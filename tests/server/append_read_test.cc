// Appends and reads at the wire level: AppendOk positions and versions, optimistic
// concurrency, multi-stream atomicity, and every read (stream forward / backward,
// the whole log, by type, by time), plus Stats and Ping.
#include <gtest/gtest.h>

#include <chrono>

#include "server_fixture.h"

namespace orderlog::testing {
namespace {

class AppendReadTest : public SharedServerTest {};

Typed<wire::AppendOk> append_ok(Frame frame) { return expect_reply<wire::AppendOk>(std::move(frame)); }
Typed<wire::ReadOk> read_ok(Frame frame) { return expect_reply<wire::ReadOk>(std::move(frame)); }

TEST_F(AppendReadTest, AppendReturnsPositionsAndTheStreamVersion) {
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  const std::string stream = unique_stream("acct");
  const Frame first = call(*connection, append_n(10, stream, 3));
  EXPECT_EQ(first.request_id(), 10u);
  const auto ok = append_ok(first);
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->last_position() - ok->first_position(), 2u);
  ASSERT_EQ(ok->stream_versions()->size(), 1u);
  EXPECT_EQ(ok->stream_versions()->Get(0), 3u);
  EXPECT_FALSE(ok->deduplicated());
  const auto next = append_ok(call(*connection, append_n(11, stream, 1)));
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->first_position(), ok->last_position() + 1) << "positions continue without gaps";
  EXPECT_EQ(next->stream_versions()->Get(0), 4u);
}

TEST_F(AppendReadTest, WrongExpectedVersionReportsTheActualVersion) {
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  const std::string stream = unique_stream("acct");
  ASSERT_NE(append_ok(call(*connection, append_n(1, stream, 2, "Opened", wire::ExpectedKind::NoStream))), nullptr);
  const Frame conflict = call(*connection, append_n(2, stream, 1, "Deposited", wire::ExpectedKind::Exact, 1));
  ASSERT_EQ(conflict.error_code(), wire::ErrorCode::WrongExpectedVersion);
  EXPECT_EQ(conflict.message()->body_as_Error()->actual_version(), 2u);
  EXPECT_EQ(call(*connection, append_n(3, stream, 1, "Opened", wire::ExpectedKind::NoStream)).error_code(),
            wire::ErrorCode::WrongExpectedVersion);
  EXPECT_NE(append_ok(call(*connection, append_n(4, stream, 1, "Deposited", wire::ExpectedKind::Exact, 2))), nullptr);
  EXPECT_NE(append_ok(call(*connection, append_n(5, stream, 1, "Deposited", wire::ExpectedKind::StreamExists))),
            nullptr);
}

TEST_F(AppendReadTest, MultiStreamAppendIsAllOrNothing) {
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  const std::string a = unique_stream("multi-a"), b = unique_stream("multi-b");
  const auto ok = append_ok(call(*connection, append(1, {{a, {{"T", "1"}, {"T", "2"}}}, {b, {{"T", "3"}}}})));
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->last_position() - ok->first_position(), 2u);
  ASSERT_EQ(ok->stream_versions()->size(), 2u);
  EXPECT_EQ(ok->stream_versions()->Get(0), 2u);
  EXPECT_EQ(ok->stream_versions()->Get(1), 1u);
  // b's condition fails, so nothing is appended to a either.
  const Frame refused = call(*connection, append(2, {{a, {{"T", "4"}}, wire::ExpectedKind::Exact, 2},
                                                     {b, {{"T", "5"}}, wire::ExpectedKind::NoStream}}));
  EXPECT_EQ(refused.error_code(), wire::ErrorCode::WrongExpectedVersion);
  const auto page = read_ok(call(*connection, read_stream(3, a, 1, false, 100)));
  ASSERT_NE(page, nullptr);
  EXPECT_EQ(page->events()->size(), 2u);
}

TEST_F(AppendReadTest, InvalidAppendsAreBadRequest) {
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  EXPECT_EQ(call(*connection, append(1, {})).error_code(), wire::ErrorCode::BadRequest) << "no streams";
  EXPECT_EQ(call(*connection, append_n(2, "", 1)).error_code(), wire::ErrorCode::BadRequest) << "empty stream id";
  EXPECT_EQ(call(*connection, append_n(3, std::string(300, 's'), 1)).error_code(), wire::ErrorCode::BadRequest)
      << "stream id over the limit";
  EXPECT_EQ(call(*connection, append_n(4, unique_stream("x"), 1, "")).error_code(), wire::ErrorCode::BadRequest)
      << "empty event type";
  // An expected kind from no protocol version: refused, not taken as Any (which would
  // skip the concurrency check the client asked for in some form).
  const std::string stream = unique_stream("kind");
  EXPECT_EQ(call(*connection, append_n(5, stream, 1, "T", static_cast<wire::ExpectedKind>(9), 0)).error_code(),
            wire::ErrorCode::BadRequest)
      << "unknown expected kind";
  const auto nothing = read_ok(call(*connection, read_stream(6, stream, 1, false, 10)));
  ASSERT_NE(nothing, nullptr);
  EXPECT_EQ(nothing->events()->size(), 0u) << "nothing was appended";
}

TEST_F(AppendReadTest, ReadStreamForwardAndBackwardPage) {
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  const std::string stream = unique_stream("paged");
  ASSERT_NE(append_ok(call(*connection, append_n(1, stream, 5))), nullptr);
  const auto forward = read_ok(call(*connection, read_stream(2, stream, 2, false, 2)));
  ASSERT_NE(forward, nullptr);
  ASSERT_EQ(forward->events()->size(), 2u);
  EXPECT_EQ(forward->events()->Get(0)->version(), 2u);
  EXPECT_EQ(forward->events()->Get(1)->version(), 3u);
  EXPECT_EQ(forward->events()->Get(0)->stream_id()->str(), stream);
  EXPECT_EQ(forward->events()->Get(0)->type()->str(), "TestEvent");
  EXPECT_EQ(forward->next(), 4u);
  EXPECT_FALSE(forward->end());
  const auto backward = read_ok(call(*connection, read_stream(3, stream, UINT64_MAX, true, 3)));
  ASSERT_NE(backward, nullptr);
  ASSERT_EQ(backward->events()->size(), 3u);
  EXPECT_EQ(backward->events()->Get(0)->version(), 5u);
  EXPECT_EQ(backward->events()->Get(2)->version(), 3u);
  EXPECT_EQ(backward->next(), 2u);
  const auto missing = read_ok(call(*connection, read_stream(4, unique_stream("none"), 1, false, 10)));
  ASSERT_NE(missing, nullptr);
  EXPECT_EQ(missing->events()->size(), 0u);
  EXPECT_TRUE(missing->end());
}

TEST_F(AppendReadTest, ReadAllByTypeAndByTimeSeeTheAppendedEvents) {
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  const uint64_t before_ns = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  const std::string type = "Rare" + unique_stream("Type");
  const auto ok = append_ok(call(*connection, append(1, {{unique_stream("typed"), {{type, "a"}, {"Other", "b"}, {type, "c"}}}})));
  ASSERT_NE(ok, nullptr);
  const auto all = read_ok(call(*connection, read_all(2, ok->first_position(), 10)));
  ASSERT_NE(all, nullptr);
  ASSERT_GE(all->events()->size(), 3u);
  EXPECT_EQ(all->events()->Get(0)->position(), ok->first_position());
  EXPECT_EQ(all->events()->Get(2)->position(), ok->last_position());
  const auto by_type = read_ok(call(*connection, read_by_type(3, type, 0, 10)));
  ASSERT_NE(by_type, nullptr);
  ASSERT_EQ(by_type->events()->size(), 2u);
  EXPECT_EQ(by_type->events()->Get(0)->position(), ok->first_position());
  EXPECT_EQ(by_type->events()->Get(1)->position(), ok->last_position());
  EXPECT_TRUE(by_type->end());
  const auto by_time = read_ok(call(*connection, read_by_time(4, before_ns, 0, 0, 10'000)));
  ASSERT_NE(by_time, nullptr);
  ASSERT_GE(by_time->events()->size(), 3u);
  EXPECT_LE(by_time->events()->Get(0)->position(), ok->first_position());
  for (const wire::Event* event : *by_time->events()) EXPECT_GE(event->timestamp_ns(), before_ns);
}

TEST_F(AppendReadTest, ReadCountIsCappedAtReadCountMax) {
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  const auto page = read_ok(call(*connection, read_all(1, 0, 4'000'000'000u)));
  ASSERT_NE(page, nullptr);
  EXPECT_LE(page->events()->size(), 10'000u);
}

TEST_F(AppendReadTest, StatsAndPingAnswer) {
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  ASSERT_NE(append_ok(call(*connection, append_n(1, unique_stream("stats"), 1))), nullptr);
  const Frame stats_frame = call(*connection, stats(2));
  const auto stats_ok = stats_frame.message()->body_as_StatsOk();
  ASSERT_NE(stats_ok, nullptr);
  EXPECT_GE(stats_ok->committed_position(), 1u);
  EXPECT_GE(stats_ok->events_appended(), 1u);
  EXPECT_GE(stats_ok->connections(), 1u);
  EXPECT_EQ(stats_ok->writer_error()->str(), "");
  EXPECT_EQ(stats_ok->projections()->size(), 4u);
  const Frame pong = call(*connection, ping(3, 0xfeed));
  ASSERT_EQ(pong.type(), wire::Body::Pong);
  EXPECT_EQ(pong.message()->body_as_Pong()->payload(), 0xfeedu);
  EXPECT_GT(pong.message()->body_as_Pong()->server_time_ns(), 0u);
}

TEST_F(AppendReadTest, ServerToClientMessagesAreBadRequest) {
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  const Frame reply = call(*connection, make_frame(5, wire::Body::Pong, [](auto& b) {
    return wire::CreatePong(b, 1, 2).Union();
  }));
  EXPECT_EQ(reply.error_code(), wire::ErrorCode::BadRequest);
  EXPECT_EQ(reply.request_id(), 5u);
  EXPECT_EQ(call(*connection, ping(6)).type(), wire::Body::Pong);
}

}  // namespace
}  // namespace orderlog::testing
