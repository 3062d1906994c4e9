// Clients sharing one EventLoop (client/src/event_loop.cc): one io thread serves them
// all, closing one leaves the others working, a closed client's last handlers run
// safely on the loop after the Client object is gone, and one subscription's handler
// may destroy another subscription of the loop.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "fake_server.h"
#include "orderlog/client/client.h"
#include "orderlog/client/subscription.h"
#include "server_fixture.h"

namespace orderlog::client {
namespace {

using testing::FakeConnection;
using testing::FakeServer;
using namespace std::chrono_literals;

using testing::ping_payload;

void answer_pings(FakeConnection& connection, const wire::Message& message) {
  connection.pong(message.request_id(), ping_payload(message));
}

ClientOptions options_on(const FakeServer& server, EventLoop* loop) {
  ClientOptions options = testing::options_for(server, "event_loop_test");
  options.event_loop = loop;
  return options;
}

TEST(ClientEventLoop, ClientsOnOneLoopAreServedByItsOneThread) {
  // Given three clients on one loop
  FakeServer server(answer_pings);
  EventLoop loop;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 3; ++i) {
    auto client = Client::connect(options_on(server, &loop));
    ASSERT_TRUE(client.ok()) << client.error().to_string();
    clients.push_back(std::move(*client));
  }

  // When each pipelines pings
  std::mutex mutex;
  std::set<std::thread::id> callback_threads;
  std::vector<std::future<Result<Pong>>> pongs;
  for (uint64_t i = 0; i < 30; ++i) {
    auto done = std::make_shared<std::promise<Result<Pong>>>();
    pongs.push_back(done->get_future());
    clients[i % 3]->call_async(PingRequest{i}, [&, done](Result<Pong> pong) {
      {
        std::lock_guard lock(mutex);
        callback_threads.insert(std::this_thread::get_id());
      }
      done->set_value(std::move(pong));
    });
  }

  // Then every ping is answered, and every callback ran on the same thread
  for (uint64_t i = 0; i < 30; ++i) {
    Result<Pong> pong = pongs[i].get();
    ASSERT_TRUE(pong.ok()) << pong.error().to_string();
    EXPECT_EQ(pong->payload, i);
  }
  EXPECT_EQ(callback_threads.size(), 1u);
  EXPECT_EQ(callback_threads.count(std::this_thread::get_id()), 0u);
}

TEST(ClientEventLoop, ClosingOneClientFailsItsRequestsAndLeavesTheOthersServing) {
  // Given two clients on one loop, the first with a request the server never answers
  FakeServer server([](FakeConnection& connection, const wire::Message& message) {
    if (ping_payload(message) != 0) answer_pings(connection, message);
  });
  EventLoop loop;
  auto first = Client::connect(options_on(server, &loop));
  auto second = Client::connect(options_on(server, &loop));
  ASSERT_TRUE(first.ok() && second.ok());
  std::future<Result<Pong>> unanswered = (*first)->call_future(PingRequest{0});

  // When the first is closed
  first->reset();

  // Then its request failed with Closed, and the second still works
  Result<Pong> failed = unanswered.get();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::Closed);
  Result<Pong> pong = (*second)->ping(7);
  ASSERT_TRUE(pong.ok()) << pong.error().to_string();
  EXPECT_EQ(pong->payload, 7u);
}

TEST(ClientEventLoop, BlockingCallOnAnotherClientOfTheLoopIsRefusedNotDeadlocked) {
  // Given two clients on one loop
  FakeServer server(answer_pings);
  EventLoop loop;
  auto first = Client::connect(options_on(server, &loop));
  auto second = Client::connect(options_on(server, &loop));
  ASSERT_TRUE(first.ok() && second.ok());

  // When a callback of the first makes a blocking call on the second
  std::promise<ErrorCode> inner;
  Client* other = second->get();
  (*first)->call_async(PingRequest{1}, [&](Result<Pong>) { inner.set_value(other->ping(2).error().code); });

  // Then the call is refused: it would wait for the thread it runs on
  EXPECT_EQ(inner.get_future().get(), ErrorCode::InvalidArgument);
}

TEST(ClientEventLoop, ConnectingOrSubscribingFromACallbackOnTheLoopIsRefusedNotDeadlocked) {
  // Given a client on a shared loop
  FakeServer server(answer_pings);
  EventLoop loop;
  auto first = Client::connect(options_on(server, &loop));
  ASSERT_TRUE(first.ok());

  // When one of its callbacks connects another client, or subscribes, on that loop
  std::promise<std::pair<std::optional<ErrorCode>, std::optional<ErrorCode>>> inner;
  Client* client = first->get();
  const ClientOptions options = options_on(server, &loop);
  client->call_async(PingRequest{1}, [&](Result<Pong>) {
    auto connected = Client::connect(options);
    auto subscribed = client->subscribe(SubscribeOptions{}, [](const Event&) {});
    inner.set_value({connected.ok() ? std::nullopt : std::optional(connected.error().code),
                     subscribed.ok() ? std::nullopt : std::optional(subscribed.error().code)});
  });

  // Then both are refused: they would wait for the thread they run on
  auto future = inner.get_future();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready) << "deadlocked";
  const auto [connect_error, subscribe_error] = future.get();
  EXPECT_EQ(connect_error, ErrorCode::InvalidArgument);
  EXPECT_EQ(subscribe_error, ErrorCode::InvalidArgument);
}

TEST(ClientEventLoop, ClientsComeAndGoWhileOthersKeepTheLoopBusy) {
  // Given a loop kept busy by one client pinging back to back
  FakeServer server(answer_pings);
  EventLoop loop;
  auto busy = Client::connect(options_on(server, &loop));
  ASSERT_TRUE(busy.ok());
  Client* busy_client = busy->get();  // the callbacks' view; `busy` itself is reset below
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> answered{0};
  std::function<void()> ping_next = [&] {
    if (stop.load()) return;
    busy_client->call_async(PingRequest{1}, [&](Result<Pong> pong) {
      if (pong.ok()) answered.fetch_add(1);
      ping_next();
    });
  };
  ping_next();

  // When other clients connect, leave requests in flight and close, many times over
  // (their cancelled reads, timers and sweeps finish on the loop after they are gone)
  for (int round = 0; round < 50; ++round) {
    ClientOptions options = options_on(server, &loop);
    options.request_timeout = 40ms;  // sweeps every 5 ms
    auto client = Client::connect(options);
    ASSERT_TRUE(client.ok()) << client.error().to_string();
    for (uint64_t i = 0; i < 5; ++i) (*client)->call_async(PingRequest{i}, [](Result<Pong>) {});
    std::this_thread::sleep_for(std::chrono::microseconds(100 * (round % 10)));
  }

  // Then the busy client was served throughout, and everything closes cleanly
  const uint64_t before = answered.load();
  std::this_thread::sleep_for(20ms);
  EXPECT_GT(answered.load(), before);
  stop.store(true);
  busy->reset();
}

using ClientEventLoopSubscriptions = testing::ServerTest;

// On a shared loop every subscription's handlers run on its one thread, so this is
// what destroying one subscription from another one's handler looks like.
TEST_F(ClientEventLoopSubscriptions, DestroyingOneFromAnotherOnesHandlerStopsItThereAndTheOtherCarriesOn) {
  // Given two subscriptions to one stream on one loop
  EventLoop loop;
  ClientOptions options = testing::client_options(server_->port());
  options.event_loop = &loop;
  auto client = Client::connect(options);
  ASSERT_TRUE(client.ok()) << client.error().to_string();
  SubscribeOptions subscribe;
  subscribe.stream_prefix = testing::unique("destroyed-on-loop");
  std::mutex mutex;
  std::unique_ptr<Subscription> second;  // guarded by `mutex`
  std::atomic<bool> second_destroyed{false};
  std::atomic<int> second_called_after{0};
  std::atomic<int> second_ended{0};
  std::atomic<int> first_received{0};
  auto first = (*client)->subscribe(subscribe, [&](const Event&) {
    std::unique_ptr<Subscription> doomed;
    {
      std::lock_guard lock(mutex);
      doomed = std::move(second);
    }
    doomed.reset();  // on the loop's thread, inside the first one's handler
    second_destroyed = true;
    ++first_received;
  });
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  auto made = (*client)->subscribe(
      subscribe, [&](const Event&) { second_called_after += second_destroyed ? 1 : 0; },
      [&](const SubscriptionStatus& status) {
        second_called_after += second_destroyed ? 1 : 0;
        if (status.state == SubscriptionState::Ended && status.error.code == ErrorCode::Closed) ++second_ended;
      });
  ASSERT_TRUE(made.ok()) << made.error().to_string();
  {
    std::lock_guard lock(mutex);
    second = std::move(made).value();
  }

  // When events arrive, the first of which makes the first handler destroy the second
  for (int i = 0; i < 5; ++i) {
    NewEvent event;
    event.type = "Numbered";
    event.payload = std::to_string(i);
    Result<AppendResult> appended = (*client)->append(subscribe.stream_prefix + "/s", ExpectedVersion::any(), {event});
    ASSERT_TRUE(appended.ok()) << appended.error().to_string();
  }

  // Then the first gets every event, the second ended (Closed) inside its destructor
  // and nothing of it ran afterwards
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (first_received.load() < 5 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(first_received.load(), 5);
  EXPECT_TRUE(second_destroyed.load());
  EXPECT_EQ(second_ended.load(), 1);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(second_called_after.load(), 0);
  EXPECT_TRUE((*first)->active());
}

}  // namespace
}  // namespace orderlog::client
