// Subscriptions against a real orderlogd: catch-up then live with no gap and no
// duplicate, small credit windows, live-end start, stop (also while waiting to
// resubscribe), resuming after the server restarts on the same data directory and
// port, and the backoff against a relay that drops every connection.
#include "orderlog/client/subscription.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <future>
#include <mutex>
#include <optional>
#include <thread>

#include "server_fixture.h"
#include "tcp_proxy.h"

namespace orderlog::client::testing {
namespace {

using namespace std::chrono_literals;

// Collects what a subscription delivers, and its state changes.
class Recorder {
 public:
  EventHandler events() {
    return [this](const Event& event) {
      std::lock_guard lock(mutex_);
      received_.push_back(event);
      changed_.notify_all();
    };
  }
  StateHandler states() {
    return [this](const SubscriptionStatus& status) {
      std::lock_guard lock(mutex_);
      states_.push_back(status.state);
      if (status.state == SubscriptionState::Ended) ended_code_ = status.error.code;
      changed_.notify_all();
    };
  }
  bool wait_for_events(size_t count, std::chrono::milliseconds timeout = 20s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return received_.size() >= count; });
  }
  bool wait_for_state(SubscriptionState state, std::chrono::milliseconds timeout = 20s) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return std::find(states_.begin(), states_.end(), state) != states_.end(); });
  }
  std::vector<Event> received() {
    std::lock_guard lock(mutex_);
    return received_;
  }
  size_t count(SubscriptionState state) {
    std::lock_guard lock(mutex_);
    return static_cast<size_t>(std::count(states_.begin(), states_.end(), state));
  }
  std::optional<ErrorCode> ended_code() {
    std::lock_guard lock(mutex_);
    return ended_code_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Event> received_;
  std::vector<SubscriptionState> states_;
  std::optional<ErrorCode> ended_code_;
};

NewEvent numbered(int i) {
  NewEvent event;
  event.type = "Numbered";
  event.payload = std::to_string(i);
  return event;
}

void append_numbered(Client& client, const std::string& stream, int from, int to) {
  for (int i = from; i < to; i += 10) {
    std::vector<NewEvent> events;
    for (int j = i; j < std::min(i + 10, to); ++j) events.push_back(numbered(j));
    Result<AppendResult> appended = client.append(stream, ExpectedVersion::any(), std::move(events));
    ASSERT_TRUE(appended.ok()) << appended.error().to_string();
  }
}

// Every event 0..count-1 of `stream`, each once, in order, positions increasing.
void expect_exactly_once_in_order(const std::vector<Event>& events, size_t count) {
  ASSERT_EQ(events.size(), count);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].payload, std::to_string(i));
    EXPECT_EQ(events[i].version, i + 1);
    if (i > 0) {
      EXPECT_GT(events[i].position, events[i - 1].position);
    }
  }
}

using ClientSubscription = ServerTest;

TEST_F(ClientSubscription, CatchUpThenLiveWithConcurrentAppendsHasNoGapAndNoDuplicate) {
  auto client = connect();
  const std::string stream = unique("sub");
  append_numbered(*client, stream, 0, 200);
  Recorder recorder;
  SubscribeOptions options;
  options.stream_prefix = stream;
  options.credit_window = 64;
  std::thread writer([&] { append_numbered(*client, stream, 200, 500); });
  auto subscription = client->subscribe(options, recorder.events(), recorder.states());
  ASSERT_TRUE(subscription.ok()) << subscription.error().to_string();
  writer.join();
  ASSERT_TRUE(recorder.wait_for_events(500));
  EXPECT_TRUE(recorder.wait_for_state(SubscriptionState::CaughtUp));
  std::this_thread::sleep_for(50ms);  // nothing more may arrive
  expect_exactly_once_in_order(recorder.received(), 500);
  EXPECT_EQ((*subscription)->last_position(), recorder.received().back().position);
}

TEST_F(ClientSubscription, TinyCreditWindowStillDeliversEverything) {
  auto client = connect();
  const std::string stream = unique("credit");
  append_numbered(*client, stream, 0, 100);
  Recorder recorder;
  SubscribeOptions options;
  options.stream_prefix = stream;
  options.credit_window = 2;
  auto subscription = client->subscribe(options, recorder.events());
  ASSERT_TRUE(subscription.ok()) << subscription.error().to_string();
  ASSERT_TRUE(recorder.wait_for_events(100));
  expect_exactly_once_in_order(recorder.received(), 100);
}

TEST_F(ClientSubscription, FromLiveEndSkipsHistory) {
  auto client = connect();
  const std::string stream = unique("live");
  append_numbered(*client, stream, 0, 10);
  Recorder recorder;
  SubscribeOptions options;
  options.stream_prefix = stream;
  options.from_live_end = true;
  auto subscription = client->subscribe(options, recorder.events());
  ASSERT_TRUE(subscription.ok()) << subscription.error().to_string();
  ASSERT_TRUE(client->append(stream, ExpectedVersion::any(), {numbered(10)}).ok());
  ASSERT_TRUE(recorder.wait_for_events(1));
  std::this_thread::sleep_for(50ms);
  ASSERT_EQ(recorder.received().size(), 1u);
  EXPECT_EQ(recorder.received()[0].payload, "10");
}

TEST_F(ClientSubscription, StopEndsTheSubscriptionWithClosed) {
  auto client = connect();
  Recorder recorder;
  SubscribeOptions options;
  options.stream_prefix = unique("stop");
  auto subscription = client->subscribe(options, recorder.events(), recorder.states());
  ASSERT_TRUE(subscription.ok()) << subscription.error().to_string();
  (*subscription)->stop();
  EXPECT_TRUE(recorder.wait_for_state(SubscriptionState::Ended, 1s));
  EXPECT_FALSE((*subscription)->active());
  (*subscription)->stop();  // idempotent
}

// stop() while the handler is busy with a batch: the rest of the batch is not
// delivered, and Ended (Closed) is still reported, once.
TEST_F(ClientSubscription, StopDuringASlowHandlerStillReportsEnded) {
  auto client = connect();
  const std::string stream = unique("slow") + "/s";
  append_numbered(*client, stream, 0, 20);
  Recorder recorder;
  std::atomic<int> handled{0};
  std::atomic<int> ended{0};
  SubscribeOptions options;
  options.stream_prefix = stream;
  auto subscription = client->subscribe(
      options,
      [&](const Event&) {
        if (handled++ == 0) std::this_thread::sleep_for(200ms);
      },
      [&](const SubscriptionStatus& status) {
        if (status.state == SubscriptionState::Ended) {
          EXPECT_EQ(status.error.code, ErrorCode::Closed);
          ++ended;
        }
      });
  ASSERT_TRUE(subscription.ok()) << subscription.error().to_string();
  std::this_thread::sleep_for(50ms);
  (*subscription)->stop();
  EXPECT_EQ(ended.load(), 1);
  EXPECT_FALSE((*subscription)->active());
  EXPECT_LT(handled.load(), 20) << "the batch went on after stop()";
}

// A state handler that stops its own subscription when it ends, while the owner
// stops it too: neither waits for the other.
TEST_F(ClientSubscription, StopFromTheStateHandlerDuringStopReturns) {
  auto client = connect();
  std::atomic<Subscription*> self{nullptr};
  SubscribeOptions options;
  options.stream_prefix = unique("selfstop");
  auto subscription = client->subscribe(
      options, [](const Event&) {},
      [&](const SubscriptionStatus& status) {
        if (status.state == SubscriptionState::Ended && self.load() != nullptr) self.load()->stop();
      });
  ASSERT_TRUE(subscription.ok()) << subscription.error().to_string();
  self = subscription->get();
  auto stopped = std::async(std::launch::async, [&] { (*subscription)->stop(); });
  ASSERT_EQ(stopped.wait_for(10s), std::future_status::ready) << "stop() deadlocked with the handler's stop()";
  EXPECT_FALSE((*subscription)->active());
}

// Through a relay that can play a server going away, with a long backoff: after the
// loss the subscription sits waiting to resubscribe, with no request in the channel.
class ClientSubscriptionWaiting : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    proxy_ = std::make_unique<TcpProxy>(server_->port());
    ClientOptions options = client_options(proxy_->port());
    options.reconnect_backoff_min = 2s;
    options.reconnect_backoff_max = 2s;
    auto client = Client::connect(options);
    ASSERT_TRUE(client.ok()) << client.error().to_string();
    client_ = std::move(client).value();
  }

  std::unique_ptr<TcpProxy> proxy_;
  std::unique_ptr<Client> client_;
};

// Ended comes at once with Closed, the subscription is inactive, and a second stop()
// reports nothing more.
void expect_ended_once_as_closed(Recorder& recorder, Subscription& subscription) {
  EXPECT_TRUE(recorder.wait_for_state(SubscriptionState::Ended, 1s));
  EXPECT_FALSE(subscription.active());
  subscription.stop();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(recorder.count(SubscriptionState::Ended), 1u);
  EXPECT_EQ(recorder.ended_code(), ErrorCode::Closed);
}

TEST_F(ClientSubscriptionWaiting, StopWhileWaitingToResubscribeReportsEndedOnce) {
  // Given a subscription waiting out its backoff after the server went away
  Recorder recorder;
  SubscribeOptions options;
  options.stream_prefix = unique("waiting");
  auto subscription = client_->subscribe(options, recorder.events(), recorder.states());
  ASSERT_TRUE(subscription.ok()) << subscription.error().to_string();
  proxy_->go_down();
  ASSERT_TRUE(recorder.wait_for_state(SubscriptionState::Disconnected, 5s));

  // When it is stopped
  (*subscription)->stop();

  // Then it ends at once with Closed, and only once
  expect_ended_once_as_closed(recorder, **subscription);
}

TEST_F(ClientSubscriptionWaiting, StopFromTheStateHandlerOnDisconnectedReportsEndedOnce) {
  // Given a subscription whose state handler stops it when the connection is lost
  Recorder recorder;
  std::atomic<Subscription*> self{nullptr};
  SubscribeOptions options;
  options.stream_prefix = unique("stop-on-loss");
  auto subscription = client_->subscribe(options, recorder.events(),
                                         [&, record = recorder.states()](const SubscriptionStatus& status) {
                                           record(status);
                                           if (status.state == SubscriptionState::Disconnected) self.load()->stop();
                                         });
  ASSERT_TRUE(subscription.ok()) << subscription.error().to_string();
  self = subscription->get();

  // When the server goes away
  proxy_->go_down();

  // Then it ends at once with Closed, and only once
  ASSERT_TRUE(recorder.wait_for_state(SubscriptionState::Disconnected, 5s));
  expect_ended_once_as_closed(recorder, **subscription);
}

// orderlogd answers a live-end Subscribe with SubscribeOk and CaughtUp at once. A
// relay that cuts every connection 100 ms after accepting it must still see the
// resubscribes spaced by a growing delay: CaughtUp delivered nothing, so it must not
// start the backoff over.
TEST_F(ClientSubscription, ConnectionsCutSoonAfterSubscribingAreRetriedWithGrowingDelays) {
  TcpProxy proxy(server_->port());
  auto client = Client::connect(client_options(proxy.port()));  // backoff 50 ms .. 5 s
  ASSERT_TRUE(client.ok()) << client.error().to_string();
  proxy.set_connection_lifetime(100ms);
  Recorder recorder;
  SubscribeOptions options;
  options.stream_prefix = unique("cut");
  options.from_live_end = true;
  auto subscription = (*client)->subscribe(options, recorder.events(), recorder.states());
  ASSERT_TRUE(subscription.ok()) << subscription.error().to_string();

  std::this_thread::sleep_for(3s);
  const size_t losses = recorder.count(SubscriptionState::Disconnected);
  (*subscription)->stop();

  // 100 ms per connection plus at least 25, 50, 100, 200, 400, 800 ms of backoff: at
  // most 7 losses in 3 s (fewer on a slow machine). Starting over at every CaughtUp
  // makes it one loss every ~150 ms, about 20.
  EXPECT_GE(losses, 2u) << "the relay did not cut the connections";
  EXPECT_LE(losses, 9u) << "resubscribed without backing off";
}

// Not on the shared server: this one restarts its own. orderlogd picks a new port
// each start (ServerProcess always passes --listen 127.0.0.1:0, and a second --listen
// is refused), so the client dials a fixed relay in front of it: to the client this
// is the same server going away and coming back at the same address.
TEST(ClientSubscriptionRestart, ResumesAfterTheServerRestarts) {
  const std::string dir = make_temp_dir();
  auto server = start_server(dir);
  ASSERT_NE(server, nullptr);
  TcpProxy proxy(server->port());
  ClientOptions options = client_options(proxy.port());
  options.reconnect_backoff_max = 200ms;
  auto client = Client::connect(options);
  ASSERT_TRUE(client.ok()) << client.error().to_string();
  const std::string stream = unique("restart");
  append_numbered(**client, stream, 0, 50);

  Recorder recorder;
  SubscribeOptions subscribe;
  subscribe.stream_prefix = stream;
  auto subscription = (*client)->subscribe(subscribe, recorder.events(), recorder.states());
  ASSERT_TRUE(subscription.ok()) << subscription.error().to_string();
  ASSERT_TRUE(recorder.wait_for_events(50));

  EXPECT_EQ(server->stop(SIGTERM), 0) << server->log();
  EXPECT_TRUE(recorder.wait_for_state(SubscriptionState::Disconnected, 5s));
  EXPECT_EQ((*client)->ping(1).error().code, ErrorCode::ConnectionFailed);  // down: fails, does not hang
  server = start_server(dir);
  ASSERT_NE(server, nullptr);
  proxy.set_target(server->port());

  // The same Client reconnects by itself on its next request.
  append_numbered(**client, stream, 50, 100);
  ASSERT_TRUE(recorder.wait_for_events(100));
  EXPECT_TRUE(recorder.wait_for_state(SubscriptionState::Reconnected, 1s));
  std::this_thread::sleep_for(50ms);
  expect_exactly_once_in_order(recorder.received(), 100);
  (*subscription)->stop();
  EXPECT_EQ(server->stop(SIGTERM), 0) << server->log();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace orderlog::client::testing
