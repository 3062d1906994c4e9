// Client transport behaviour against a scripted fake server: out-of-order replies,
// timeouts, lost connections, resends, refused handshakes, the in-flight bound.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <thread>

#include "fake_server.h"
#include "orderlog/client/client.h"

namespace orderlog::client {
namespace {

using testing::FakeConnection;
using testing::FakeServer;
using testing::ping_payload;
using namespace std::chrono_literals;

ClientOptions options_for(const FakeServer& server) { return testing::options_for(server, "transport_test"); }

TEST(ClientTransport, RepliesArrivingOutOfOrderReachTheirCallers) {
  std::vector<std::pair<uint64_t, uint64_t>> held;  // request id, payload
  FakeServer server([&](FakeConnection& connection, const wire::Message& message) {
    held.emplace_back(message.request_id(), ping_payload(message));
    if (held.size() < 10) return;
    for (auto it = held.rbegin(); it != held.rend(); ++it) connection.pong(it->first, it->second);
  });
  auto client = Client::connect(options_for(server));
  ASSERT_TRUE(client.ok()) << client.error().to_string();
  std::vector<std::future<Result<Pong>>> pongs;
  for (uint64_t i = 0; i < 10; ++i) pongs.push_back((*client)->call_future(PingRequest{i}));
  for (uint64_t i = 0; i < 10; ++i) {
    Result<Pong> pong = pongs[i].get();
    ASSERT_TRUE(pong.ok()) << pong.error().to_string();
    EXPECT_EQ(pong->payload, i);
  }
}

// The client sweeps for timed-out requests on a periodic timer. Closing it while an
// expired sweep was still queued used to re-arm the timer, and the destructor then
// waited for the io thread forever. Closing right when sweeps fall due, many times
// over, finds that window; every close must finish.
TEST(ClientTransport, ClosingWhileASweepIsDueFinishes) {
  FakeServer server([](FakeConnection&, const wire::Message&) {});
  ClientOptions options = options_for(server);
  options.request_timeout = 40ms;  // the shortest sweep interval, 5 ms
  for (int round = 0; round < 600; ++round) {
    auto client = Client::connect(options);
    ASSERT_TRUE(client.ok()) << client.error().to_string();
    std::this_thread::sleep_for(std::chrono::microseconds(4'800 + 20 * (round % 20)));
    auto closed = std::make_shared<std::promise<void>>();
    std::future<void> done = closed->get_future();
    std::thread([client = std::move(*client), closed]() mutable {
      client.reset();
      closed->set_value();
    }).detach();
    ASSERT_EQ(done.wait_for(10s), std::future_status::ready) << "closing the client hung in round " << round;
  }
}

TEST(ClientTransport, RequestWithoutReplyTimesOut) {
  FakeServer server([](FakeConnection&, const wire::Message&) {});
  ClientOptions options = options_for(server);
  options.request_timeout = 200ms;
  auto client = Client::connect(options);
  ASSERT_TRUE(client.ok());
  const auto start = std::chrono::steady_clock::now();
  Result<Pong> pong = (*client)->ping(1);
  ASSERT_FALSE(pong.ok());
  EXPECT_EQ(pong.error().code, ErrorCode::Timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST(ClientTransport, LateReplyAfterATimeoutIsDropped) {
  FakeServer server([](FakeConnection& connection, const wire::Message& message) {
    if (ping_payload(message) == 1) std::this_thread::sleep_for(400ms);
    connection.pong(message.request_id(), ping_payload(message));
  });
  ClientOptions options = options_for(server);
  options.request_timeout = 150ms;
  auto client = Client::connect(options);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->ping(1).error().code, ErrorCode::Timeout);
  std::this_thread::sleep_for(300ms);  // the late reply to 1 arrives meanwhile
  Result<Pong> second = (*client)->ping(2);
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  EXPECT_EQ(second->payload, 2u);
}

// The server's first request cuts its connection; later ones are answered.
FakeServer::Script drop_first_request() {
  auto dropped = std::make_shared<std::atomic<bool>>(false);
  return [dropped](FakeConnection& connection, const wire::Message& message) {
    if (!dropped->exchange(true)) {
      connection.shutdown();
      return;
    }
    connection.pong(message.request_id(), ping_payload(message));
  };
}

TEST(ClientTransport, LostConnectionFailsRequestsInFlightWithDisconnected) {
  FakeServer server(drop_first_request());
  ClientOptions options = options_for(server);
  options.retries_max = 0;
  auto client = Client::connect(options);
  ASSERT_TRUE(client.ok());
  Result<Pong> lost = (*client)->ping(1);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().code, ErrorCode::Disconnected);
  // The next call reconnects by itself.
  Result<Pong> second = (*client)->ping(2);
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  EXPECT_EQ(second->payload, 2u);
  EXPECT_EQ(server.accepted(), 2);
}

TEST(ClientTransport, LostRequestIsResentOverANewConnection) {
  FakeServer server(drop_first_request());
  auto client = Client::connect(options_for(server));  // retries_max = 2
  ASSERT_TRUE(client.ok());
  Result<Pong> pong = (*client)->ping(7);
  ASSERT_TRUE(pong.ok()) << pong.error().to_string();
  EXPECT_EQ(pong->payload, 7u);
  EXPECT_EQ(server.accepted(), 2);
}

// A server that accepts the handshake and the subscription, then drops every
// connection: the resubscribes back off (doubling from 50 ms) instead of starting
// over at the shortest delay after each handshake.
TEST(ClientTransport, ResubscribingToAServerThatDropsEveryConnectionBacksOff) {
  FakeServer server([](FakeConnection& connection, const wire::Message& message) {
    if (message.body_type() != wire::Body::Subscribe) return;
    connection.reply(message.request_id(), wire::Body::SubscribeOk,
                     [](auto& b) { return wire::CreateSubscribeOk(b, 0, 0).Union(); });
    connection.shutdown();
  });
  ClientOptions options = options_for(server);
  options.reconnect_backoff_min = 50ms;
  options.reconnect_backoff_max = 5s;
  auto client = Client::connect(options);
  ASSERT_TRUE(client.ok());
  const int before = server.accepted();
  auto subscription = (*client)->subscribe(SubscribeOptions{}, [](const Event&) {});
  ASSERT_TRUE(subscription.ok()) << subscription.error().to_string();
  std::this_thread::sleep_for(1500ms);
  const int connections = server.accepted() - before;
  (*subscription)->stop();
  // Delays drawn from the upper half of 50, 100, 200, 400, 800 ms: at most about six
  // connections in 1.5 s (at the shortest delay it was 15 or more).
  EXPECT_LE(connections, 9);
  EXPECT_GE(connections, 2) << "it did resubscribe";
}

TEST(ClientTransport, ConnectToAClosedPortFailsQuickly) {
  uint16_t port = 0;
  { FakeServer gone([](FakeConnection&, const wire::Message&) {}); port = gone.port(); }
  ClientOptions options;
  options.port = port;
  const auto start = std::chrono::steady_clock::now();
  auto client = Client::connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, ErrorCode::ConnectionFailed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

TEST(ClientTransport, RefusedTokenIsUnauthorized) {
  FakeServer server([](FakeConnection&, const wire::Message&) {}, /*accept_token=*/false);
  auto client = Client::connect(options_for(server));
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, ErrorCode::Unauthorized);
}

TEST(ClientTransport, BlockingCallFromACallbackIsRefusedNotDeadlocked) {
  FakeServer server([](FakeConnection& c, const wire::Message& m) { c.pong(m.request_id(), ping_payload(m)); });
  auto client = Client::connect(options_for(server));
  ASSERT_TRUE(client.ok());
  std::promise<ErrorCode> inner;
  Client* raw = client->get();
  raw->call_async(PingRequest{1}, [&](Result<Pong>) { inner.set_value(raw->ping(2).error().code); });
  EXPECT_EQ(inner.get_future().get(), ErrorCode::InvalidArgument);
}

TEST(ClientTransport, CallersBeyondTheInflightLimitWait) {
  FakeServer server([](FakeConnection&, const wire::Message&) {});
  ClientOptions options = options_for(server);
  options.inflight_max = 4;
  options.request_timeout = 300ms;
  auto client = Client::connect(options);
  ASSERT_TRUE(client.ok());
  auto timeouts = std::make_shared<std::atomic<int>>(0);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) {
    (*client)->call_async(PingRequest{}, [timeouts](Result<Pong> r) { *timeouts += r.error().code == ErrorCode::Timeout; });
  }
  // The fifth waited for a slot, which only the first four timing out freed.
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms);
  while (timeouts->load() < 5) std::this_thread::sleep_for(10ms);
}

}  // namespace
}  // namespace orderlog::client
