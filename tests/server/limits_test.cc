// Tenants and limits at the wire level: ACL denials are Forbidden, a tenant over its
// rate limit gets Busy, read pages are cut to fit frame_bytes_max (and resume exactly
// where they stopped), and connections over connections_max are refused with Busy.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "server_fixture.h"

namespace orderlog::testing {
namespace {

constexpr char kAdminToken[] = "admin-token-0123456789";
constexpr char kReaderToken[] = "reader-token-0123456789";
constexpr char kSlowToken[] = "slow-token-0123456789abc";

constexpr char kTenantsToml[] = R"(
[server]
frame_bytes_max = 65536
# Not a local address: the server only starts because --listen (a flag) wins.
listen = "192.0.2.1:7070"

[[tenant]]
name = "admin"
token = "admin-token-0123456789"
read = [""]
write = [""]
commands = ["*"]
query = true

[[tenant]]
name = "reader"
token = "reader-token-0123456789"
read = ["public-"]
write = []
commands = ["ConfirmOrder"]
query = false

[[tenant]]
name = "slow"
token = "slow-token-0123456789abc"
read = [""]
write = [""]
commands = ["*"]
query = true
rate = 1
burst = 3
)";

class TenantLimitsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_dir_ = new std::string(fresh_data_dir("tenants"));
    server_ = start_server(*data_dir_, kTenantsToml).release();
  }
  static void TearDownTestSuite() {
    if (server_ != nullptr) {
      EXPECT_EQ(server_->stop(), 0) << server_->log();
    }
    delete server_;
    remove_data_dir(*data_dir_);
    delete data_dir_;
  }
  void SetUp() override { ASSERT_NE(server_, nullptr); }

  static inline ServerProcess* server_ = nullptr;
  static inline std::string* data_dir_ = nullptr;
};

TEST_F(TenantLimitsTest, AclDenialsAreForbidden) {
  auto admin = connect_ready(server_->port(), kAdminToken);
  auto reader = connect_ready(server_->port(), kReaderToken);
  ASSERT_TRUE(admin && reader);
  ASSERT_EQ(call(*admin, append_n(1, "public-news", 1)).type(), wire::Body::AppendOk);
  EXPECT_EQ(call(*reader, append_n(2, "public-news", 1)).error_code(), wire::ErrorCode::Forbidden);
  EXPECT_EQ(call(*reader, read_stream(3, "public-news", 1, false, 10)).type(), wire::Body::ReadOk);
  EXPECT_EQ(call(*reader, read_stream(4, "private-notes", 1, false, 10)).error_code(), wire::ErrorCode::Forbidden);
  EXPECT_EQ(call(*reader, read_all(5, 0, 10)).error_code(), wire::ErrorCode::Forbidden);
  EXPECT_EQ(call(*reader, read_by_type(6, "TestEvent", 0, 10)).error_code(), wire::ErrorCode::Forbidden);
  EXPECT_EQ(call(*reader, read_by_time(7, 0, 0, 0, 10)).error_code(), wire::ErrorCode::Forbidden);
  EXPECT_EQ(call(*reader, subscribe(8, from_live_end())).error_code(), wire::ErrorCode::Forbidden);
  EXPECT_EQ(call(*reader, subscribe(9, from_live_end("public-"))).type(),
            wire::Body::SubscribeOk);
  reader->read_frame();  // its SubscriptionCaughtUp
  const auto create = execute(10, wire::Command::CreateOrder, [](auto& b) {
    return wire::CreateCreateOrder(b, b.CreateString("o1"), b.CreateString("c1"), b.CreateString("EUR")).Union();
  });
  EXPECT_EQ(call(*reader, create).error_code(), wire::ErrorCode::Forbidden);
  EXPECT_EQ(call(*reader, query(11, wire::QueryKind::CurrenciesQuery, [](auto& b) {
              return wire::CreateCurrenciesQuery(b).Union();
            })).error_code(),
            wire::ErrorCode::Forbidden);
  EXPECT_EQ(call(*reader, order_at(12, "o1", 1, 0)).error_code(), wire::ErrorCode::Forbidden);
}

TEST_F(TenantLimitsTest, TenantOverItsRateLimitGetsBusy) {
  auto slow = connect_ready(server_->port(), kSlowToken);
  ASSERT_NE(slow, nullptr);
  int pongs = 0, busy = 0;
  for (uint64_t id = 1; id <= 10; ++id) {
    const Frame reply = call(*slow, ping(id));
    if (reply.type() == wire::Body::Pong) ++pongs;
    if (reply.error_code() == wire::ErrorCode::Busy) ++busy;
  }
  EXPECT_GE(pongs, 3) << "the burst is admitted";
  EXPECT_LE(pongs, 5);
  EXPECT_EQ(pongs + busy, 10);
  // Another tenant is not affected.
  auto admin = connect_ready(server_->port(), kAdminToken);
  ASSERT_NE(admin, nullptr);
  EXPECT_EQ(call(*admin, ping(1)).type(), wire::Body::Pong);
}

TEST_F(TenantLimitsTest, ReadPagesAreCutToFitTheFrameAndResumeExactly) {
  auto admin = connect_ready(server_->port(), kAdminToken);
  ASSERT_NE(admin, nullptr);
  TestStreamAppend big{"big-events", {}};
  // 12 events of 4 KB per append keep each request under the 64 KiB frame limit.
  for (int i = 0; i < 12; ++i) big.events.push_back({"Big", std::string(4000, static_cast<char>('a' + i))});
  for (int i = 0; i < 10; ++i) ASSERT_EQ(call(*admin, append(1, {big})).type(), wire::Body::AppendOk);
  uint64_t next = 1;
  uint64_t expected_version = 1;
  int pages = 0;
  for (bool end = false; !end; ++pages) {
    const Frame reply = call(*admin, read_stream(2, "big-events", next, false, 1000));
    ASSERT_LE(reply.size, 4u + 65536u);
    const auto* page = reply.message()->body_as_ReadOk();
    ASSERT_NE(page, nullptr) << reply.error_message();
    for (const wire::Event* event : *page->events()) EXPECT_EQ(event->version(), expected_version++);
    next = page->next();
    end = page->end();
    ASSERT_LT(pages, 100);
  }
  EXPECT_EQ(expected_version, 121u) << "every event once";
  EXPECT_GT(pages, 1) << "the page was cut to fit 64 KiB frames";
}

// A query waiting for a min_position the log has not reached holds a pool thread;
// at most half the pool (here 1 of 2 threads) may wait, so other queries still run.
TEST(WaitingQueryLimitTest, QueriesWaitingForTheLogAreCappedAtHalfThePool) {
  OwnServer server("waitcap", {"--command-threads", "2"});
  ASSERT_TRUE(server.ok());
  auto waiter = server.connect();
  auto other = server.connect();
  ASSERT_TRUE(waiter && other);
  const auto count_query = [](uint64_t id, uint64_t min_position, uint32_t timeout_ms) {
    return query(id, wire::QueryKind::StatusCountQuery, [](auto& b) { return wire::CreateStatusCountQuery(b).Union(); },
                 min_position, timeout_ms);
  };
  const uint64_t far_ahead = 1'000'000'000;
  ASSERT_TRUE(waiter->send(count_query(1, far_ahead, 1500)));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let it start waiting
  const Frame refused = call(*other, count_query(2, far_ahead, 1500));
  EXPECT_EQ(refused.error_code(), wire::ErrorCode::Busy) << refused.error_message();
  const Frame answered = call(*other, count_query(3, 0, 1500));
  EXPECT_EQ(answered.type(), wire::Body::QueryOk) << answered.error_message();
  // Progress ignores min_position, so it never takes a waiting slot.
  const Frame progress = call(*other, query(5, wire::QueryKind::ProjectionsQuery,
                                            [](auto& b) { return wire::CreateProjectionsQuery(b).Union(); }, far_ahead,
                                            1500));
  EXPECT_EQ(progress.type(), wire::Body::QueryOk) << progress.error_message();
  auto timed_out = waiter->read_frame();
  ASSERT_TRUE(timed_out.has_value());
  EXPECT_EQ(timed_out->request_id(), 1u);
  EXPECT_EQ(timed_out->error_code(), wire::ErrorCode::Timeout);
  // The slot is free again.
  EXPECT_EQ(call(*other, count_query(4, far_ahead, 50)).error_code(), wire::ErrorCode::Timeout);
}

// A peer that stops reading while replies are being written keeps the write from
// finishing; after write_timeout_ms the server closes the connection instead of
// holding its slot and buffers for ever.
TEST(WriteTimeoutTest, APeerThatStopsReadingIsClosedAfterTheWriteTimeout) {
  OwnServer server("writetimeout", {"--write-timeout-ms", "300"});
  ASSERT_TRUE(server.ok());
  auto observer = server.connect();
  auto silent = server.connect();
  ASSERT_TRUE(observer && silent);
  for (uint64_t i = 0; i < 8; ++i) {
    ASSERT_EQ(call(*observer, append(10 + i, {{"big", {{"Big", std::string(512 * 1024, 'x')}}}})).type(),
              wire::Body::AppendOk);
  }
  // Twenty 4 MiB pages, never read: more than the socket buffers take.
  for (uint64_t i = 0; i < 20; ++i) ASSERT_TRUE(silent->send(read_all(100 + i, 1, 8)));
  EXPECT_EQ(wait_for_connections_at_most(*observer, 1), 1u) << "the silent peer was not closed";
  EXPECT_TRUE(silent->wait_closed());
  EXPECT_EQ(call(*observer, ping(3)).type(), wire::Body::Pong);
  const std::string log = server.process().log();
  EXPECT_NE(log.find("closing a connection whose peer stopped reading"), std::string::npos) << log;
}

class ConnectionLimitTest : public ::testing::Test {};

TEST_F(ConnectionLimitTest, ConnectionsOverTheLimitAreRefusedWithBusy) {
  OwnServer server("connlimit", {"--connections-max", "2"});
  ASSERT_TRUE(server.ok());
  const std::string& token = server.token();
  auto first = server.connect();
  auto second = server.connect();
  ASSERT_TRUE(first && second);
  auto third = RawConnection::connect(server.port());
  ASSERT_NE(third, nullptr);
  auto refused = third->read_frame();
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->error_code(), wire::ErrorCode::Busy);
  EXPECT_TRUE(third->wait_closed());
  // Once a connection closes, there is room again.
  first.reset();
  std::unique_ptr<RawConnection> again;
  for (int attempt = 0; attempt < 100 && again == nullptr; ++attempt) {
    auto candidate = RawConnection::connect(server.port());
    ASSERT_NE(candidate, nullptr);
    ASSERT_TRUE(candidate->send(hello(1, token)));
    auto reply = candidate->read_frame();
    if (reply.has_value() && reply->type() == wire::Body::HelloOk) {
      again = std::move(candidate);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(call(*again, ping(2)).type(), wire::Body::Pong);
  EXPECT_EQ(call(*second, ping(3)).type(), wire::Body::Pong);
}

// A client sends its Hello before it reads anything: a close with that Hello unread
// would reset the connection, and a reset lets the client's system throw away the
// Busy frame unread (Linux keeps it, so the test checks for the reset itself).
TEST_F(ConnectionLimitTest, ARefusedClientThatSentItsHelloStillReadsBusy) {
  OwnServer server("connlimit-hello", {"--connections-max", "1"});
  ASSERT_TRUE(server.ok());
  auto held = server.connect();
  ASSERT_NE(held, nullptr);
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto refused = RawConnection::connect(server.port());
    ASSERT_NE(refused, nullptr);
    ASSERT_TRUE(refused->send(hello(1, server.token())));
    // Let the server write, close (or linger) and the reset, if any, arrive first.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto reply = refused->read_frame();
    ASSERT_TRUE(reply.has_value()) << "attempt " << attempt << ": the refusal was lost";
    EXPECT_EQ(reply->error_code(), wire::ErrorCode::Busy);
    EXPECT_TRUE(refused->wait_closed());
    EXPECT_FALSE(refused->was_reset()) << "attempt " << attempt << ": closed with a reset, not a FIN";
  }
  EXPECT_EQ(call(*held, ping(2)).type(), wire::Body::Pong);
}

}  // namespace
}  // namespace orderlog::testing
