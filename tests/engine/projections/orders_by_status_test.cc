// The orders-by-status read model: each order is in exactly one list, the one of its
// current status, listed in the order orders entered it, with a count per status.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "projection_test_util.h"

namespace orderlog::testing {
namespace {

using projections::OrderPage;
using projections::OrdersByStatusProjection;
using projections::OrdersByStatusQuery;

class OrdersByStatusProjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = open_test_store(env_);
    ASSERT_NE(store_, nullptr);
    script_ = std::make_unique<OrderScript>(*store_);
    by_status_ = open_projection<OrdersByStatusProjection>(fast_options(*store_, env_));
    ASSERT_NE(by_status_, nullptr);
  }
  void TearDown() override { EXPECT_OK(by_status_->close()); }

  OrderPage page(OrderStatus status, uint64_t cursor, size_t limit) {
    OrdersByStatusQuery query;
    query.status = status;
    query.cursor = cursor;
    query.limit = limit;
    query.consistency = at(store_->committed_position());
    Result<OrderPage> result = by_status_->orders_in(query);
    EXPECT_TRUE(result.is_ok()) << result.status().to_string();
    return result.is_ok() ? result.value() : OrderPage{};
  }
  uint64_t count(OrderStatus status) {
    Result<uint64_t> result = by_status_->count_in(status, at(store_->committed_position()));
    EXPECT_TRUE(result.is_ok()) << result.status().to_string();
    return result.is_ok() ? result.value() : 0;
  }

  MemEnv env_;
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<OrderScript> script_;
  std::unique_ptr<OrdersByStatusProjection> by_status_;
};

TEST_F(OrdersByStatusProjectionTest, EachOrderIsListedUnderItsCurrentStatusOnly) {
  // Given five orders taken through different steps
  for (const char* id : {"a", "b", "c", "d", "e"}) script_->create(id, "alice", "EUR", {{"apple", 1, 10}});
  script_->confirm("a");
  script_->confirm("b");
  script_->ship("b", "UPS", "1");
  script_->confirm("c");
  script_->ship("c", "UPS", "2");
  script_->deliver("c");
  script_->cancel("d", "no stock");

  // When each status is listed
  // Then each order appears once, under where it is now
  EXPECT_EQ(ids_of(page(OrderStatus::kPending, 0, 100)), (std::vector<std::string>{"e"}));
  EXPECT_EQ(ids_of(page(OrderStatus::kConfirmed, 0, 100)), (std::vector<std::string>{"a"}));
  EXPECT_EQ(ids_of(page(OrderStatus::kShipped, 0, 100)), (std::vector<std::string>{"b"}));
  EXPECT_EQ(ids_of(page(OrderStatus::kDelivered, 0, 100)), (std::vector<std::string>{"c"}));
  EXPECT_EQ(ids_of(page(OrderStatus::kCancelled, 0, 100)), (std::vector<std::string>{"d"}));
  for (OrderStatus status : {OrderStatus::kPending, OrderStatus::kConfirmed, OrderStatus::kShipped,
                             OrderStatus::kDelivered, OrderStatus::kCancelled}) {
    EXPECT_EQ(count(status), 1u) << order::status_name(status);
  }
}

TEST_F(OrdersByStatusProjectionTest, OrdersAreListedInTheOrderTheyEnteredTheStatus) {
  // Given orders created x, y, z but confirmed z, x, y
  for (const char* id : {"x", "y", "z"}) script_->create(id, "alice", "EUR", {{"apple", 1, 10}});
  const GlobalPosition z_confirmed = script_->confirm("z");
  script_->confirm("x");
  script_->confirm("y");

  // When the confirmed orders are listed
  const OrderPage confirmed = page(OrderStatus::kConfirmed, 0, 100);

  // Then the first confirmed comes first, keyed by the position of its confirmation
  EXPECT_EQ(ids_of(confirmed), (std::vector<std::string>{"z", "x", "y"}));
  ASSERT_FALSE(confirmed.orders.empty());
  EXPECT_EQ(confirmed.orders[0].position, z_confirmed);
  EXPECT_EQ(confirmed.orders[0].status, OrderStatus::kConfirmed);
}

TEST_F(OrdersByStatusProjectionTest, PagesThroughManyOrdersInBoundedPages) {
  // Given 40 pending orders, 10 of which were cancelled
  std::vector<std::string> pending;
  for (int i = 0; i < 40; ++i) {
    const std::string id = "p" + std::to_string(i);
    script_->create(id, "customer-" + std::to_string(i % 4));
    if (i % 4 == 1) {
      script_->cancel(id, "test");
    } else {
      pending.push_back(id);
    }
  }

  // When the pending list is walked in pages of 7
  std::vector<std::string> seen;
  uint64_t cursor = 0;
  size_t pages = 0;
  for (bool end = false; !end && pages < 100; ++pages) {
    const OrderPage next = page(OrderStatus::kPending, cursor, 7);
    EXPECT_LE(next.orders.size(), 7u);
    for (const std::string& id : ids_of(next)) seen.push_back(id);
    cursor = next.next_cursor;
    end = next.end;
  }

  // Then it yields every pending order once, in ceil(30 / 7) pages
  EXPECT_EQ(seen, pending);
  EXPECT_EQ(pages, 5u);
  EXPECT_EQ(count(OrderStatus::kPending), 30u);
  EXPECT_EQ(count(OrderStatus::kCancelled), 10u);
}

}  // namespace
}  // namespace orderlog::testing
