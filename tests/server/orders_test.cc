// Order commands, queries and temporal reads at the wire level: every command of an
// order's life, a domain refusal, an idempotent retry, every query kind (with
// min_position for read-your-writes) and OrderAt by version and by time.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "server_fixture.h"

namespace orderlog::testing {
namespace {

class OrdersTest : public SharedServerTest {
 protected:
  // Runs a command; returns its CommandOk frame (or the error).
  template <typename Build>
  Frame run(RawConnection& connection, wire::Command kind, Build build, const wire::Uuid& id = new_uuid()) {
    return call(connection, execute(++request_id_, kind, build, id));
  }
  Frame create(RawConnection& connection, const std::string& order, const std::string& customer) {
    return run(connection, wire::Command::CreateOrder, [&](auto& b) {
      std::vector<flatbuffers::Offset<wire::OrderLine>> lines{wire::CreateOrderLine(b, b.CreateString("book"), 2, 1250)};
      return wire::CreateCreateOrder(b, b.CreateString(order), b.CreateString(customer), b.CreateString("EUR"),
                                     b.CreateVector(lines))
          .Union();
    });
  }
  template <typename Build>
  Frame ask(RawConnection& connection, wire::QueryKind kind, Build build, uint64_t min_position = 0) {
    return call(connection, query(++request_id_, kind, build, min_position));
  }

  uint64_t request_id_ = 100;
};

Typed<wire::CommandOk> command_ok(Frame frame) { return expect_reply<wire::CommandOk>(std::move(frame)); }
Typed<wire::QueryOk> query_ok(Frame frame) { return expect_reply<wire::QueryOk>(std::move(frame)); }

uint64_t now_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

TEST_F(OrdersTest, AnOrderGoesThroughItsWholeLife) {
  auto c = connect();
  ASSERT_NE(c, nullptr);
  const std::string order = unique_stream("life");
  const auto created = command_ok(create(*c, order, "alice"));
  ASSERT_NE(created, nullptr);
  EXPECT_EQ(created->state()->status(), wire::OrderStatus::Pending);
  EXPECT_EQ(created->event_types()->Get(0)->str(), "OrderCreated");
  EXPECT_EQ(created->state()->total_minor(), 2500);
  const auto added = command_ok(run(*c, wire::Command::AddItem, [&](auto& b) {
    return wire::CreateAddItem(b, b.CreateString(order), wire::CreateOrderLine(b, b.CreateString("pen"), 3, 100)).Union();
  }));
  ASSERT_NE(added, nullptr);
  EXPECT_EQ(added->state()->lines()->size(), 2u);
  const auto removed = command_ok(run(*c, wire::Command::RemoveItem, [&](auto& b) {
    return wire::CreateRemoveItem(b, b.CreateString(order), b.CreateString("pen")).Union();
  }));
  ASSERT_NE(removed, nullptr);
  EXPECT_EQ(removed->event_types()->Get(0)->str(), "ItemRemoved");
  const auto confirmed = command_ok(run(*c, wire::Command::ConfirmOrder, [&](auto& b) {
    return wire::CreateConfirmOrder(b, b.CreateString(order)).Union();
  }));
  ASSERT_NE(confirmed, nullptr);
  EXPECT_EQ(confirmed->state()->status(), wire::OrderStatus::Confirmed);
  const auto shipped = command_ok(run(*c, wire::Command::ShipOrder, [&](auto& b) {
    return wire::CreateShipOrder(b, b.CreateString(order), b.CreateString("DHL"), b.CreateString("JD01")).Union();
  }));
  ASSERT_NE(shipped, nullptr);
  EXPECT_EQ(shipped->state()->carrier()->str(), "DHL");
  const auto delivered = command_ok(run(*c, wire::Command::DeliverOrder, [&](auto& b) {
    return wire::CreateDeliverOrder(b, b.CreateString(order)).Union();
  }));
  ASSERT_NE(delivered, nullptr);
  EXPECT_EQ(delivered->state()->status(), wire::OrderStatus::Delivered);
  EXPECT_EQ(delivered->state()->version(), 6u);
  EXPECT_GT(delivered->last_position(), created->last_position());
}

TEST_F(OrdersTest, CancelAndDomainRefusals) {
  auto c = connect();
  ASSERT_NE(c, nullptr);
  const std::string order = unique_stream("cancel");
  ASSERT_NE(command_ok(create(*c, order, "bob")), nullptr);
  const Frame refused = run(*c, wire::Command::ShipOrder, [&](auto& b) {
    return wire::CreateShipOrder(b, b.CreateString(order), b.CreateString("UPS"), b.CreateString("1Z")).Union();
  });
  ASSERT_EQ(refused.error_code(), wire::ErrorCode::DomainRule);
  EXPECT_EQ(refused.message()->body_as_Error()->domain_error(), wire::DomainError::InvalidTransition);
  const auto cancelled = command_ok(run(*c, wire::Command::CancelOrder, [&](auto& b) {
    return wire::CreateCancelOrder(b, b.CreateString(order), b.CreateString("changed my mind")).Union();
  }));
  ASSERT_NE(cancelled, nullptr);
  EXPECT_EQ(cancelled->state()->status(), wire::OrderStatus::Cancelled);
  EXPECT_EQ(cancelled->state()->cancel_reason()->str(), "changed my mind");
  const Frame missing = run(*c, wire::Command::ConfirmOrder, [&](auto& b) {
    return wire::CreateConfirmOrder(b, b.CreateString(unique_stream("nope"))).Union();
  });
  EXPECT_EQ(missing.message()->body_as_Error()->domain_error(), wire::DomainError::OrderNotFound);
}

TEST_F(OrdersTest, RetriedCommandIdAppendsNothing) {
  auto c = connect();
  ASSERT_NE(c, nullptr);
  const std::string order = unique_stream("retry");
  ASSERT_NE(command_ok(create(*c, order, "carol")), nullptr);
  const wire::Uuid id = new_uuid();
  const auto build = [&](auto& b) {
    return wire::CreateAddItem(b, b.CreateString(order), wire::CreateOrderLine(b, b.CreateString("mug"), 1, 850)).Union();
  };
  const Frame first = run(*c, wire::Command::AddItem, build, id);
  const Frame again = run(*c, wire::Command::AddItem, build, id);
  ASSERT_NE(command_ok(first), nullptr);
  ASSERT_NE(command_ok(again), nullptr);
  EXPECT_TRUE(command_ok(again)->duplicate());
  EXPECT_EQ(command_ok(again)->state()->version(), command_ok(first)->state()->version());
}

TEST_F(OrdersTest, EveryQueryKindAnswersWithReadYourWrites) {
  auto c = connect();
  ASSERT_NE(c, nullptr);
  const std::string order = unique_stream("query");
  const std::string customer = unique_stream("cust");
  ASSERT_NE(command_ok(create(*c, order, customer)), nullptr);
  const auto confirmed = command_ok(run(*c, wire::Command::ConfirmOrder, [&](auto& b) {
    return wire::CreateConfirmOrder(b, b.CreateString(order)).Union();
  }));
  ASSERT_NE(confirmed, nullptr);
  const uint64_t at = confirmed->last_position();
  const auto summary = query_ok(ask(*c, wire::QueryKind::OrderSummaryQuery, [&](auto& b) {
    return wire::CreateOrderSummaryQuery(b, b.CreateString(order)).Union();
  }, at));
  ASSERT_NE(summary, nullptr);
  EXPECT_EQ(summary->result_as_OrderSummaryResult()->summary()->status(), wire::OrderStatus::Confirmed);
  EXPECT_EQ(summary->result_as_OrderSummaryResult()->summary()->total_minor(), 2500);
  const auto mine = query_ok(ask(*c, wire::QueryKind::CustomerOrdersQuery, [&](auto& b) {
    return wire::CreateCustomerOrdersQuery(b, b.CreateString(customer)).Union();
  }, at));
  ASSERT_NE(mine, nullptr);
  ASSERT_EQ(mine->result_as_OrderPageResult()->orders()->size(), 1u);
  EXPECT_EQ(mine->result_as_OrderPageResult()->orders()->Get(0)->order_id()->str(), order);
  const auto by_status = query_ok(ask(*c, wire::QueryKind::OrdersByStatusQuery, [&](auto& b) {
    return wire::CreateOrdersByStatusQuery(b, wire::OrderStatus::Confirmed).Union();
  }, at));
  ASSERT_NE(by_status, nullptr);
  EXPECT_GE(by_status->result_as_OrderPageResult()->orders()->size(), 1u);
  const auto count = query_ok(ask(*c, wire::QueryKind::StatusCountQuery, [&](auto& b) {
    return wire::CreateStatusCountQuery(b, wire::OrderStatus::Confirmed).Union();
  }, at));
  ASSERT_NE(count, nullptr);
  EXPECT_GE(count->result_as_CountResult()->count(), 1u);
  const auto revenue = query_ok(ask(*c, wire::QueryKind::RevenueQuery, [&](auto& b) {
    return wire::CreateRevenueQuery(b, wire::Period::Day, b.CreateString("EUR"), 0, UINT64_MAX).Union();
  }, at));
  ASSERT_NE(revenue, nullptr);
  ASSERT_GE(revenue->result_as_RevenuePageResult()->buckets()->size(), 1u);
  EXPECT_GE(revenue->result_as_RevenuePageResult()->buckets()->Get(0)->confirmed_minor(), 2500);
  const auto currencies = query_ok(ask(*c, wire::QueryKind::CurrenciesQuery, [&](auto& b) {
    return wire::CreateCurrenciesQuery(b).Union();
  }, at));
  ASSERT_NE(currencies, nullptr);
  EXPECT_EQ(currencies->result_as_CurrenciesResult()->currencies()->Get(0)->str(), "EUR");
  const auto history = query_ok(ask(*c, wire::QueryKind::OrderHistoryQuery, [&](auto& b) {
    return wire::CreateOrderHistoryQuery(b, b.CreateString(order)).Union();
  }));
  ASSERT_NE(history, nullptr);
  ASSERT_EQ(history->result_as_HistoryResult()->entries()->size(), 2u);
  EXPECT_EQ(history->result_as_HistoryResult()->entries()->Get(1)->event_type()->str(), "OrderConfirmed");
  const auto progress = query_ok(ask(*c, wire::QueryKind::ProjectionsQuery, [&](auto& b) {
    return wire::CreateProjectionsQuery(b).Union();
  }));
  ASSERT_NE(progress, nullptr);
  EXPECT_EQ(progress->result_as_ProjectionsResult()->projections()->size(), 4u);
}

TEST_F(OrdersTest, UnknownOrderAndUnreachedMinPositionAreErrors) {
  auto c = connect();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(ask(*c, wire::QueryKind::OrderSummaryQuery, [&](auto& b) {
              return wire::CreateOrderSummaryQuery(b, b.CreateString(unique_stream("ghost"))).Union();
            }).error_code(),
            wire::ErrorCode::NotFound);
  const Frame timeout = call(*c, query(1, wire::QueryKind::StatusCountQuery, [&](auto& b) {
    return wire::CreateStatusCountQuery(b).Union();
  }, /*min_position=*/1'000'000'000, /*timeout_ms=*/50));
  EXPECT_EQ(timeout.error_code(), wire::ErrorCode::Timeout);
  EXPECT_EQ(call(*c, order_at(2, unique_stream("ghost"), 1, 0)).error_code(), wire::ErrorCode::NotFound);
}

// Replies to requests read before the write high-water mark still arrive: a peer that
// pipelines large queries and never reads is closed once more than
// max(64 MiB, 4 frames) of replies wait, instead of being buffered for without end.
TEST_F(OrdersTest, APeerThatDoesNotReadItsRepliesIsClosed) {
  auto c = connect();
  auto observer = connect();
  ASSERT_TRUE(c && observer);
  const std::string order = unique_stream("wide");
  ASSERT_NE(command_ok(create(*c, order, "erin")), nullptr);
  for (int line = 0; line < 99; ++line) {
    const std::string sku = "sku-" + std::to_string(line) + std::string(50, 'x');
    ASSERT_NE(command_ok(run(*c, wire::Command::AddItem, [&](auto& b) {
                return wire::CreateAddItem(b, b.CreateString(order), wire::CreateOrderLine(b, b.CreateString(sku), 1, 1))
                    .Union();
              })),
              nullptr);
  }
  const uint32_t before = server_connections(*observer);
  // ~450 KB per history (100 entries of up to 100 lines): 300 are ~130 MB.
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(c->send(query(1000 + i, wire::QueryKind::OrderHistoryQuery, [&](auto& b) {
      return wire::CreateOrderHistoryQuery(b, b.CreateString(order)).Union();
    })));
  }
  EXPECT_EQ(wait_for_connections_at_most(*observer, before - 1), before - 1) << "the silent peer was not closed";
  EXPECT_TRUE(c->wait_closed());
  EXPECT_EQ(call(*observer, ping(7)).type(), wire::Body::Pong);
}

TEST_F(OrdersTest, OrderAtByVersionAndByTime) {
  auto c = connect();
  ASSERT_NE(c, nullptr);
  const std::string order = unique_stream("temporal");
  ASSERT_NE(command_ok(create(*c, order, "dave")), nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const uint64_t between_ns = now_ns();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_NE(command_ok(run(*c, wire::Command::ConfirmOrder, [&](auto& b) {
              return wire::CreateConfirmOrder(b, b.CreateString(order)).Union();
            })),
            nullptr);
  const Frame v1 = call(*c, order_at(1, order, 1, 0));
  ASSERT_NE(v1.message()->body_as_OrderAtOk(), nullptr) << v1.error_message();
  EXPECT_EQ(v1.message()->body_as_OrderAtOk()->state()->status(), wire::OrderStatus::Pending);
  EXPECT_EQ(v1.message()->body_as_OrderAtOk()->state()->version(), 1u);
  const Frame then = call(*c, order_at(2, order, 0, between_ns));
  ASSERT_NE(then.message()->body_as_OrderAtOk(), nullptr) << then.error_message();
  EXPECT_EQ(then.message()->body_as_OrderAtOk()->state()->status(), wire::OrderStatus::Pending);
  const Frame now = call(*c, order_at(3, order, 0, now_ns()));
  ASSERT_NE(now.message()->body_as_OrderAtOk(), nullptr) << now.error_message();
  EXPECT_EQ(now.message()->body_as_OrderAtOk()->state()->status(), wire::OrderStatus::Confirmed);
}

}  // namespace
}  // namespace orderlog::testing
