// Subscriptions at the wire level: catch-up then live across concurrent appends
// with no gap and no duplicate, credit-based flow control, filters, scanned
// positions, from_live_end and Unsubscribe.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <thread>

#include "orderlog/event.h"
#include "server_fixture.h"

namespace orderlog::testing {
namespace {

class SubscriptionTest : public SharedServerTest {};

struct Received {
  std::vector<uint64_t> positions;
  std::vector<std::string> streams;
  std::vector<std::string> types;
  uint64_t scanned = 0;
  int caught_up = 0;
  int ended = 0;
};

// Reads subscription `id`'s frames until `events` events arrived (or, with
// want_caught_up, also the SubscriptionCaughtUp) or nothing comes for `quiet`.
Received collect(RawConnection& connection, uint64_t id, size_t events, bool want_caught_up = false,
                 std::chrono::milliseconds quiet = std::chrono::seconds(10)) {
  Received out;
  while (out.positions.size() < events || (want_caught_up && out.caught_up == 0)) {
    auto frame = connection.read_frame(quiet);
    if (!frame.has_value()) break;
    EXPECT_EQ(frame->request_id(), id);
    if (const auto* batch = frame->message()->body_as_SubscriptionEvents()) {
      for (const wire::Event* event : *batch->events()) {
        out.positions.push_back(event->position());
        out.streams.push_back(event->stream_id()->str());
        out.types.push_back(event->type()->str());
      }
      EXPECT_GE(batch->scanned_position(), out.positions.empty() ? 0 : out.positions.back());
      out.scanned = batch->scanned_position();
    } else if (frame->type() == wire::Body::SubscriptionCaughtUp) {
      ++out.caught_up;
    } else if (frame->type() == wire::Body::SubscriptionEnded) {
      ++out.ended;
      break;
    } else {
      ADD_FAILURE() << "unexpected frame type " << static_cast<int>(frame->type()) << " " << frame->error_message();
    }
  }
  return out;
}

const wire::SubscribeOk* subscribe_ok(const Frame& frame) {
  const auto* ok = frame.message()->body_as_SubscribeOk();
  EXPECT_NE(ok, nullptr) << "expected SubscribeOk: " << frame.error_message();
  return ok;
}

// Appends `batches` appends of `per_batch` events to `stream`; returns every position.
std::vector<uint64_t> append_batches(RawConnection& connection, const std::string& stream, int batches,
                                     int per_batch, const std::string& type = "TestEvent") {
  std::vector<uint64_t> positions;
  for (int i = 0; i < batches; ++i) {
    const Frame reply = call(connection, append_n(1000 + i, stream, per_batch, type));
    const auto* ok = reply.message()->body_as_AppendOk();
    EXPECT_NE(ok, nullptr) << reply.error_message();
    if (ok == nullptr) break;
    for (uint64_t p = ok->first_position(); p <= ok->last_position(); ++p) positions.push_back(p);
  }
  return positions;
}

void expect_strictly_increasing(const std::vector<uint64_t>& positions) {
  for (size_t i = 1; i < positions.size(); ++i) ASSERT_LT(positions[i - 1], positions[i]) << "at " << i;
}

TEST_F(SubscriptionTest, CatchUpThenLiveWithConcurrentAppendsHasNoGapAndNoDuplicate) {
  const std::string prefix = unique_stream("live") + "/";
  auto writer = connect();
  auto subscriber = connect();
  ASSERT_TRUE(writer && subscriber);
  std::vector<uint64_t> expected = append_batches(*writer, prefix + "a", 20, 10);
  // Noise in other streams must not show up.
  append_batches(*writer, unique_stream("noise"), 5, 10);
  ASSERT_NE(subscribe_ok(call(*subscriber, subscribe(77, from_start(prefix, 1'000'000)))),
            nullptr);
  std::vector<uint64_t> live;
  std::thread appender([&] {
    auto second = connect_ready(port(), token());
    if (second != nullptr) live = append_batches(*second, prefix + "b", 30, 10);
  });
  Received received = collect(*subscriber, 77, 500, /*want_caught_up=*/true);
  appender.join();
  expected.insert(expected.end(), live.begin(), live.end());
  std::sort(expected.begin(), expected.end());
  ASSERT_EQ(received.positions.size(), expected.size());
  expect_strictly_increasing(received.positions);
  EXPECT_EQ(received.positions, expected) << "every appended position, once, in order";
  EXPECT_EQ(received.caught_up, 1);
  for (const std::string& stream : received.streams) EXPECT_TRUE(stream.starts_with(prefix)) << stream;
}

// A subscription whose pages each fill the connection's write queue past its
// high-water mark on their own (2,048 events of ~2 KiB) must not hold back the other
// subscriptions on the same connection until it has caught up.
TEST_F(SubscriptionTest, ALargeBacklogDoesNotHoldBackTheOtherSubscriptionsOfItsConnection) {
  const std::string big = unique_stream("backlog") + "/";
  const std::string small = unique_stream("beside") + "/";
  auto writer = connect();
  auto subscriber = connect();
  ASSERT_TRUE(writer && subscriber);
  // The small subscription's events come first, so it has them to deliver at once.
  append_batches(*writer, small + "s", 1, 3);
  constexpr int kAppends = 12;
  constexpr size_t kEventsPerAppend = 1000;
  const std::string payload(2048, 'p');
  for (int i = 0; i < kAppends; ++i) {
    TestStreamAppend one{big + std::to_string(i), {}};
    one.events.assign(kEventsPerAppend, TestEvent{"TestEvent", payload});
    ASSERT_NE(call(*writer, append(2000 + i, {one})).message()->body_as_AppendOk(), nullptr);
  }
  // Both subscribes go out before anything is read, so the second arrives while the
  // first's pages are already queued.
  ASSERT_TRUE(subscriber->send(subscribe(1, from_start(big, 1'000'000))));
  ASSERT_TRUE(subscriber->send(subscribe(2, from_start(small, 1'000))));
  size_t big_events = 0;
  size_t small_events = 0;
  bool big_caught_up = false;
  while (small_events < 3) {
    auto frame = subscriber->read_frame();
    ASSERT_TRUE(frame.has_value()) << "the second subscription's events never came";
    ASSERT_NE(frame->type(), wire::Body::SubscriptionEnded) << frame->error_message();
    ASSERT_NE(frame->type(), wire::Body::Error) << frame->error_message();
    if (const auto* batch = frame->message()->body_as_SubscriptionEvents()) {
      (frame->request_id() == 1 ? big_events : small_events) += batch->events()->size();
    }
    if (frame->type() == wire::Body::SubscriptionCaughtUp && frame->request_id() == 1) big_caught_up = true;
  }
  // It gets its turn within a page or two of the big one's (2,048 events each); how
  // many exactly depends on when the server reads the second Subscribe, which a slow
  // (sanitized) build may delay by a write or two.
  EXPECT_FALSE(big_caught_up) << "the small subscription waited for the whole backlog";
  EXPECT_LT(big_events, kAppends * kEventsPerAppend * 3 / 4) << "the small subscription waited for most of the backlog";
}

TEST_F(SubscriptionTest, NeverSendsMoreEventsThanCredited) {
  const std::string prefix = unique_stream("credit") + "/";
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  append_batches(*connection, prefix + "s", 5, 10);
  ASSERT_NE(subscribe_ok(call(*connection, subscribe(5, from_start(prefix, 10)))), nullptr);
  Received first = collect(*connection, 5, 10);
  EXPECT_EQ(first.positions.size(), 10u) << "exactly the initial credit";
  EXPECT_EQ(first.caught_up, 0);
  EXPECT_FALSE(connection->read_frame(std::chrono::milliseconds(300)).has_value()) << "nothing beyond the credit";
  ASSERT_TRUE(connection->send(credit(0, 5, 15)));
  Received second = collect(*connection, 5, 15);
  EXPECT_EQ(second.positions.size(), 15u);
  EXPECT_FALSE(connection->read_frame(std::chrono::milliseconds(300)).has_value()) << "nothing beyond the credit";
  ASSERT_TRUE(connection->send(credit(0, 5, 1000)));
  Received rest = collect(*connection, 5, 25, /*want_caught_up=*/true);
  EXPECT_EQ(rest.positions.size(), 25u);
  EXPECT_EQ(rest.caught_up, 1);
  std::vector<uint64_t> all = first.positions;
  all.insert(all.end(), second.positions.begin(), second.positions.end());
  all.insert(all.end(), rest.positions.begin(), rest.positions.end());
  expect_strictly_increasing(all);
}

TEST_F(SubscriptionTest, EventTypeFilterSkipsOtherTypesAndReportsTheScannedPosition) {
  const std::string prefix = unique_stream("typed") + "/";
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  const auto wanted = append_batches(*connection, prefix + "s", 2, 3, "Wanted");
  const auto other = append_batches(*connection, prefix + "s", 2, 3, "Other");
  SubscribeOptions options = from_start(prefix);
  options.event_types = {"Wanted"};
  ASSERT_NE(subscribe_ok(call(*connection, subscribe(9, options))), nullptr);
  Received received = collect(*connection, 9, 6, /*want_caught_up=*/true);
  EXPECT_EQ(received.positions, wanted);
  for (const std::string& type : received.types) EXPECT_EQ(type, "Wanted");
  EXPECT_GE(received.scanned, other.back()) << "the filtered-out tail was scanned";
}

TEST_F(SubscriptionTest, FromLiveEndDeliversOnlyLaterEvents) {
  const std::string prefix = unique_stream("tail") + "/";
  auto connection = connect();
  auto writer = connect();
  ASSERT_TRUE(connection && writer);
  append_batches(*writer, prefix + "s", 1, 5);
  const Frame ok_frame = call(*connection, subscribe(3, from_live_end(prefix)));
  const auto* ok = subscribe_ok(ok_frame);
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->start_after(), ok->head_position());
  const Received caught_up = collect(*connection, 3, 0, /*want_caught_up=*/true);
  EXPECT_EQ(caught_up.caught_up, 1);
  const auto later = append_batches(*writer, prefix + "s", 1, 4);
  EXPECT_EQ(collect(*connection, 3, 4).positions, later);
}

TEST_F(SubscriptionTest, UnsubscribeEndsTheFeedThenAnswersOk) {
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  ASSERT_NE(subscribe_ok(call(*connection, subscribe(11, from_live_end()))), nullptr);
  EXPECT_EQ(collect(*connection, 11, 0, true).caught_up, 1);
  ASSERT_TRUE(connection->send(unsubscribe(12, 11)));
  auto ended = connection->read_frame();
  ASSERT_TRUE(ended.has_value());
  ASSERT_EQ(ended->type(), wire::Body::SubscriptionEnded);
  EXPECT_EQ(ended->request_id(), 11u);
  EXPECT_EQ(ended->message()->body_as_SubscriptionEnded()->code(), wire::ErrorCode::None);
  auto ok = connection->read_frame();
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->type(), wire::Body::Ok);
  EXPECT_EQ(ok->request_id(), 12u);
  EXPECT_EQ(call(*connection, unsubscribe(13, 11)).error_code(), wire::ErrorCode::NotFound);
}

TEST_F(SubscriptionTest, TooManySubscriptionsOnOneConnectionIsBusy) {
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  for (uint64_t id = 1; id <= 16; ++id) {
    ASSERT_NE(subscribe_ok(call(*connection, subscribe(id, from_live_end()))), nullptr);
    collect(*connection, id, 0, true);
  }
  EXPECT_EQ(call(*connection, subscribe(17, from_live_end())).error_code(), wire::ErrorCode::Busy);
}

// Positions start at 1, so after 2^64 - 1 nothing can come; a cursor one past it
// would wrap to position 0 and deliver the whole log.
TEST_F(SubscriptionTest, AfterTheLargestPositionIsBadRequest) {
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  append_batches(*connection, unique_stream("wrap") + "/s", 1, 2);
  SubscribeOptions options;
  options.after_position = UINT64_MAX;
  EXPECT_EQ(call(*connection, subscribe(21, options)).error_code(), wire::ErrorCode::BadRequest);
  EXPECT_FALSE(connection->read_frame(std::chrono::milliseconds(200)).has_value()) << "no events delivered";
  options.after_position = UINT64_MAX - 1;
  ASSERT_NE(subscribe_ok(call(*connection, subscribe(22, options))), nullptr);
  const Received received = collect(*connection, 22, 0, /*want_caught_up=*/true);
  EXPECT_TRUE(received.positions.empty());
  EXPECT_EQ(received.caught_up, 1);
}

// A filter is held for the subscription's life: its strings are bounded like the
// stream ids and event types they match.
TEST_F(SubscriptionTest, OverlongFilterStringsAreTooLarge) {
  auto connection = connect();
  ASSERT_NE(connection, nullptr);
  SubscribeOptions long_prefix = from_live_end(std::string(kStreamIdBytesMax + 1, 'p'));
  EXPECT_EQ(call(*connection, subscribe(23, long_prefix)).error_code(), wire::ErrorCode::TooLarge);
  SubscribeOptions long_type = from_live_end();
  long_type.event_types = {"Short", std::string(kEventTypeBytesMax + 1, 't')};
  EXPECT_EQ(call(*connection, subscribe(24, long_type)).error_code(), wire::ErrorCode::TooLarge);
  SubscribeOptions longest = from_live_end(std::string(kStreamIdBytesMax, 'p'));
  longest.event_types = {std::string(kEventTypeBytesMax, 't')};
  EXPECT_NE(subscribe_ok(call(*connection, subscribe(25, longest))), nullptr);
}

}  // namespace
}  // namespace orderlog::testing
