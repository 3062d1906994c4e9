// The customer -> orders read model: a customer's orders oldest first, optionally only
// those in one status, paged with a cursor in bounded pages.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "projection_test_util.h"

namespace orderlog::testing {
namespace {

using projections::CustomerOrdersProjection;
using projections::CustomerOrdersQuery;
using projections::OrderPage;

class CustomerOrdersProjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = open_test_store(env_);
    ASSERT_NE(store_, nullptr);
    script_ = std::make_unique<OrderScript>(*store_);
    customers_ = open_projection<CustomerOrdersProjection>(fast_options(*store_, env_));
    ASSERT_NE(customers_, nullptr);
  }
  void TearDown() override { EXPECT_OK(customers_->close()); }

  OrderPage page(const std::string& customer, std::optional<OrderStatus> status, uint64_t cursor, size_t limit) {
    CustomerOrdersQuery query;
    query.customer_id = customer;
    query.status = status;
    query.cursor = cursor;
    query.limit = limit;
    query.consistency = at(store_->committed_position());
    Result<OrderPage> result = customers_->orders_of(query);
    EXPECT_TRUE(result.is_ok()) << result.status().to_string();
    return result.is_ok() ? result.value() : OrderPage{};
  }

  MemEnv env_;
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<OrderScript> script_;
  std::unique_ptr<CustomerOrdersProjection> customers_;
};

TEST_F(CustomerOrdersProjectionTest, ListsACustomersOrdersOldestFirst) {
  // Given orders of two customers, interleaved
  script_->create("o3", "alice");
  script_->create("o1", "bob");
  script_->create("o2", "alice");
  script_->create("o0", "alice");

  // When alice's orders are listed
  const OrderPage orders = page("alice", std::nullopt, 0, 100);

  // Then they come in creation order, each with its status and creation position
  EXPECT_EQ(ids_of(orders), (std::vector<std::string>{"o3", "o2", "o0"}));
  EXPECT_TRUE(orders.end);
  ASSERT_EQ(orders.orders.size(), 3u);
  EXPECT_EQ(orders.orders[0].status, OrderStatus::kPending);
  EXPECT_EQ(orders.orders[0].position, GlobalPosition{1});
  EXPECT_EQ(orders.orders[2].position, GlobalPosition{4});
}

TEST_F(CustomerOrdersProjectionTest, FiltersByStatusAndFollowsStatusChanges) {
  // Given alice's orders in different statuses
  for (const char* id : {"o1", "o2", "o3", "o4"}) script_->create(id, "alice", "EUR", {{"apple", 1, 10}});
  script_->confirm("o1");
  script_->confirm("o2");
  script_->ship("o2", "DHL", "T2");
  script_->cancel("o3", "duplicate");
  script_->confirm("o4");

  // When her orders are listed by status
  // Then each list holds exactly the orders in that status now
  EXPECT_EQ(ids_of(page("alice", OrderStatus::kConfirmed, 0, 100)), (std::vector<std::string>{"o1", "o4"}));
  EXPECT_EQ(ids_of(page("alice", OrderStatus::kShipped, 0, 100)), (std::vector<std::string>{"o2"}));
  EXPECT_EQ(ids_of(page("alice", OrderStatus::kCancelled, 0, 100)), (std::vector<std::string>{"o3"}));
  EXPECT_TRUE(page("alice", OrderStatus::kPending, 0, 100).orders.empty());
  const OrderPage all = page("alice", std::nullopt, 0, 100);
  ASSERT_EQ(all.orders.size(), 4u);
  EXPECT_EQ(all.orders[1].status, OrderStatus::kShipped);
}

TEST_F(CustomerOrdersProjectionTest, PagesWithTheCursorUntilTheEnd) {
  // Given 23 orders of one customer, every third one confirmed, and others' orders between
  std::vector<std::string> expected_all;
  std::vector<std::string> expected_confirmed;
  for (int i = 0; i < 23; ++i) {
    const std::string id = "order-" + std::to_string(100 + i);
    script_->create(id, "carol", "EUR", {{"sku", 1, 5}});
    script_->create("other-" + std::to_string(i), "dave");
    expected_all.push_back(id);
    if (i % 3 == 0) {
      script_->confirm(id);
      expected_confirmed.push_back(id);
    }
  }

  // When both lists are walked in pages of 5
  auto walk = [&](std::optional<OrderStatus> status) {
    std::vector<std::string> seen;
    uint64_t cursor = 0;
    for (int pages = 0; pages < 100; ++pages) {
      const OrderPage next = page("carol", status, cursor, 5);
      EXPECT_LE(next.orders.size(), 5u);
      for (const std::string& id : ids_of(next)) seen.push_back(id);
      if (next.end) return seen;
      cursor = next.next_cursor;
    }
    ADD_FAILURE() << "the walk did not end";
    return seen;
  };

  // Then every order is seen once, in order
  EXPECT_EQ(walk(std::nullopt), expected_all);
  EXPECT_EQ(walk(OrderStatus::kConfirmed), expected_confirmed);
}

TEST_F(CustomerOrdersProjectionTest, UnknownCustomerHasAnEmptyLastPage) {
  // Given a log with one customer
  script_->create("o1", "alice");

  // When another customer's orders are listed from cursor 42
  const OrderPage orders = page("nobody", std::nullopt, 42, 10);

  // Then the page is empty, final, and leaves the cursor where it was
  EXPECT_TRUE(orders.orders.empty());
  EXPECT_TRUE(orders.end);
  EXPECT_EQ(orders.next_cursor, 42u);
}

TEST_F(CustomerOrdersProjectionTest, RejectsPageLimitsOutsideTheBound) {
  // Given any projection
  // When a page of 0 or of more than kPageEntriesMax entries is asked for
  for (size_t limit : {size_t{0}, projections::kPageEntriesMax + 1}) {
    CustomerOrdersQuery query;
    query.customer_id = "alice";
    query.limit = limit;
    Result<OrderPage> result = customers_->orders_of(query);

    // Then the query is refused
    ASSERT_FALSE(result.is_ok());
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace orderlog::testing
