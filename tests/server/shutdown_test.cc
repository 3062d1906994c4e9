// Graceful shutdown and restart of a real orderlogd: SIGTERM ends subscriptions
// with Unavailable, answers what it accepted, exits 0; a restart on the same data
// directory has every acknowledged event, continues positions and versions, and
// its projections resume from their checkpoints.
#include <gtest/gtest.h>

#include <csignal>
#include <set>
#include <thread>

#include "server_fixture.h"

namespace orderlog::testing {
namespace {

class ShutdownTest : public ::testing::Test {
 protected:
  void TearDown() override { remove_data_dir(data_dir_); }
  std::string data_dir_ = fresh_data_dir("shutdown");
};

Frame create_order(RawConnection& connection, uint64_t id, const std::string& order) {
  return call(connection, execute(id, wire::Command::CreateOrder, [&](auto& b) {
    std::vector<flatbuffers::Offset<wire::OrderLine>> lines{wire::CreateOrderLine(b, b.CreateString("sku"), 1, 500)};
    return wire::CreateCreateOrder(b, b.CreateString(order), b.CreateString("eve"), b.CreateString("EUR"),
                                   b.CreateVector(lines))
        .Union();
  }));
}

TEST_F(ShutdownTest, SigtermExitsZeroAndRestartKeepsEveryAcknowledgedEvent) {
  auto server = start_server(data_dir_);
  ASSERT_NE(server, nullptr);
  const std::string token = read_admin_token(data_dir_);
  auto writer = connect_ready(server->port(), token);
  auto subscriber = connect_ready(server->port(), token);
  ASSERT_TRUE(writer && subscriber);
  const Frame created = create_order(*writer, 1, "kept-order");
  ASSERT_EQ(created.type(), wire::Body::CommandOk) << created.error_message();
  ASSERT_EQ(call(*subscriber, subscribe(50, from_live_end())).type(), wire::Body::SubscribeOk);
  // Pipelined appends still in flight when the signal arrives.
  std::vector<uint8_t> bytes;
  for (uint64_t id = 100; id < 400; ++id) {
    const auto frame = append_n(id, "kept", 1);
    bytes.insert(bytes.end(), frame.data(), frame.data() + frame.size());
  }
  ASSERT_TRUE(writer->send_bytes(bytes.data(), bytes.size()));
  std::set<uint64_t> acknowledged;
  uint64_t last_position = 0;
  // The first acknowledgement shows the server is working through the batch.
  auto reply = writer->read_frame();
  ASSERT_TRUE(reply.has_value());
  ::kill(server->pid(), SIGTERM);
  for (; reply.has_value(); reply = writer->read_frame(std::chrono::seconds(20))) {
    if (const auto* ok = reply->message()->body_as_AppendOk()) {
      acknowledged.insert(ok->first_position());
      last_position = std::max(last_position, ok->last_position());
    }
  }
  EXPECT_TRUE(writer->closed()) << "the server closes connections at shutdown";
  EXPECT_GT(acknowledged.size(), 0u);
  bool ended_unavailable = false;
  while (auto frame = subscriber->read_frame(std::chrono::seconds(20))) {
    if (const auto* ended = frame->message()->body_as_SubscriptionEnded()) {
      ended_unavailable = ended->code() == wire::ErrorCode::Unavailable && frame->request_id() == 50;
    }
  }
  EXPECT_TRUE(ended_unavailable) << "the subscription ends with Unavailable";
  EXPECT_EQ(server->stop(), 0) << server->log();
  const std::string log = server->log();
  EXPECT_NE(log.find("shutdown started"), std::string::npos) << log;
  EXPECT_NE(log.find("store closed"), std::string::npos) << log;

  auto restarted = start_server(data_dir_);
  ASSERT_NE(restarted, nullptr);
  auto again = connect_ready(restarted->port(), token);
  ASSERT_NE(again, nullptr);
  const Frame page = call(*again, read_stream(1, "kept", 1, false, 10'000));
  ASSERT_NE(page.message()->body_as_ReadOk(), nullptr) << page.error_message();
  std::set<uint64_t> present;
  for (const wire::Event* event : *page.message()->body_as_ReadOk()->events()) present.insert(event->position());
  for (uint64_t position : acknowledged) EXPECT_TRUE(present.contains(position)) << "lost acknowledged " << position;
  const Frame next = call(*again, append_n(2, "kept", 1));
  ASSERT_NE(next.message()->body_as_AppendOk(), nullptr) << next.error_message();
  EXPECT_GT(next.message()->body_as_AppendOk()->first_position(), last_position) << "positions continue";
  EXPECT_EQ(next.message()->body_as_AppendOk()->stream_versions()->Get(0), present.size() + 1);
  const Frame summary = call(*again, query(3, wire::QueryKind::OrderSummaryQuery, [](auto& b) {
    return wire::CreateOrderSummaryQuery(b, b.CreateString("kept-order")).Union();
  }, next.message()->body_as_AppendOk()->last_position()));
  ASSERT_NE(summary.message()->body_as_QueryOk(), nullptr) << summary.error_message();
  EXPECT_EQ(summary.message()->body_as_QueryOk()->result_as_OrderSummaryResult()->summary()->total_minor(), 500);
  EXPECT_EQ(restarted->stop(), 0) << restarted->log();
  EXPECT_NE(restarted->log().find("order_summary"), std::string::npos);
}

TEST_F(ShutdownTest, IdleServerStopsPromptlyOnSigint) {
  auto server = start_server(data_dir_);
  ASSERT_NE(server, nullptr);
  auto idle = connect_ready(server->port(), read_admin_token(data_dir_));
  ASSERT_NE(idle, nullptr);
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(server->stop(SIGINT), 0) << server->log();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(8));
  EXPECT_TRUE(idle->wait_closed(std::chrono::seconds(1)));
}

}  // namespace
}  // namespace orderlog::testing
