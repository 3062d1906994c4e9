// The order summary read model: after a scripted sequence of orders, each summary
// holds what the order's events say (customer, lines, total, status, the time of each
// step, cancel reason, carrier and tracking, stream version and last position), and
// events that are not order events change nothing.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "projection_test_util.h"

namespace orderlog::testing {
namespace {

using projections::OrderSummary;
using projections::OrderSummaryProjection;
using projections::ReadConsistency;

constexpr uint64_t kT0 = 1'700'000'000'000'000'000;  // 2023-11-14T22:13:20Z
constexpr uint64_t kSecondNs = 1'000'000'000;

class OrderSummaryProjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.set_clock_ns(kT0);
    store_ = open_test_store(env_);
    ASSERT_NE(store_, nullptr);
    script_ = std::make_unique<OrderScript>(*store_);
  }
  void TearDown() override {
    if (summaries_ != nullptr) EXPECT_OK(summaries_->close());
  }
  void open_summaries() {
    summaries_ = open_projection<OrderSummaryProjection>(fast_options(*store_, env_));
    ASSERT_NE(summaries_, nullptr);
  }
  OrderSummary summary_of(const std::string& id, GlobalPosition written) {
    Result<OrderSummary> summary = summaries_->find(id, at(written));
    EXPECT_TRUE(summary.is_ok()) << summary.status().to_string();
    return summary.is_ok() ? summary.value() : OrderSummary{};
  }

  MemEnv env_;
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<OrderScript> script_;
  std::unique_ptr<OrderSummaryProjection> summaries_;
};

TEST_F(OrderSummaryProjectionTest, CreatedOrderShowsCustomerCurrencyLinesAndTotal) {
  // Given an order created with two lines
  open_summaries();
  const GlobalPosition written = script_->create("o1", "alice", "EUR", {{"apple", 3, 120}, {"pear", 1, 250}});

  // When its summary is read after the write
  const OrderSummary summary = summary_of("o1", written);

  // Then it holds what the creation said
  EXPECT_EQ(summary.order_id, "o1");
  EXPECT_EQ(summary.customer_id, "alice");
  EXPECT_EQ(summary.currency, "EUR");
  EXPECT_EQ(summary.status, OrderStatus::kPending);
  EXPECT_EQ(summary.lines, (std::vector<order::OrderLine>{{"apple", 3, 120}, {"pear", 1, 250}}));
  EXPECT_EQ(summary.total_minor, 610);
  EXPECT_EQ(summary.created_ns, kT0);
  EXPECT_EQ(summary.confirmed_ns, 0u);
  EXPECT_EQ(summary.version, StreamVersion{1});
  EXPECT_EQ(summary.last_position, written);
}

TEST_F(OrderSummaryProjectionTest, ItemChangesUpdateLinesAndTotal) {
  // Given an order whose items are added, added again and removed
  open_summaries();
  script_->create("o1", "alice");
  script_->add("o1", "apple", 2, 100);
  script_->add("o1", "pear", 1, 300);
  script_->add("o1", "apple", 3, 100);
  const GlobalPosition written = script_->remove("o1", "pear");

  // When its summary is read
  const OrderSummary summary = summary_of("o1", written);

  // Then the SKU added twice is one line with both quantities, the removed one is gone
  EXPECT_EQ(summary.lines, (std::vector<order::OrderLine>{{"apple", 5, 100}}));
  EXPECT_EQ(summary.total_minor, 500);
  EXPECT_EQ(summary.version, StreamVersion{5});
}

TEST_F(OrderSummaryProjectionTest, DeliveredOrderRecordsTheTimeOfEveryStepAndTheShipment) {
  // Given an order confirmed, shipped and delivered a minute apart each
  open_summaries();
  script_->create("o1", "alice", "EUR", {{"apple", 1, 999}});
  env_.set_clock_ns(kT0 + 60 * kSecondNs);
  script_->confirm("o1");
  env_.set_clock_ns(kT0 + 120 * kSecondNs);
  script_->ship("o1", "DHL", "TRACK-1");
  env_.set_clock_ns(kT0 + 180 * kSecondNs);
  const GlobalPosition written = script_->deliver("o1");

  // When its summary is read
  const OrderSummary summary = summary_of("o1", written);

  // Then every step has its commit time, and the shipment is recorded
  EXPECT_EQ(summary.status, OrderStatus::kDelivered);
  EXPECT_EQ(summary.created_ns, kT0);
  EXPECT_EQ(summary.confirmed_ns, kT0 + 60 * kSecondNs);
  EXPECT_EQ(summary.shipped_ns, kT0 + 120 * kSecondNs);
  EXPECT_EQ(summary.delivered_ns, kT0 + 180 * kSecondNs);
  EXPECT_EQ(summary.cancelled_ns, 0u);
  EXPECT_EQ(summary.carrier, "DHL");
  EXPECT_EQ(summary.tracking_number, "TRACK-1");
  EXPECT_EQ(summary.total_minor, 999);
  EXPECT_EQ(summary.version, StreamVersion{4});
}

TEST_F(OrderSummaryProjectionTest, CancelledOrderKeepsItsReasonAndTime) {
  // Given a confirmed order that is then cancelled
  open_summaries();
  script_->create("o1", "alice", "EUR", {{"apple", 2, 50}});
  script_->confirm("o1");
  env_.set_clock_ns(kT0 + kSecondNs);
  const GlobalPosition written = script_->cancel("o1", "changed my mind");

  // When its summary is read
  const OrderSummary summary = summary_of("o1", written);

  // Then it is cancelled, with the reason and the time
  EXPECT_EQ(summary.status, OrderStatus::kCancelled);
  EXPECT_EQ(summary.cancel_reason, "changed my mind");
  EXPECT_EQ(summary.cancelled_ns, kT0 + kSecondNs);
  EXPECT_EQ(summary.total_minor, 100);
}

TEST_F(OrderSummaryProjectionTest, OrdersAreKeptApartAndTheLastPositionIsTheOrdersOwn) {
  // Given two orders whose events interleave in the log
  open_summaries();
  script_->create("o1", "alice");
  script_->create("o2", "bob", "USD");
  const GlobalPosition o1_last = script_->add("o1", "apple", 1, 10);
  const GlobalPosition written = script_->add("o2", "pear", 2, 20);

  // When both are read
  const OrderSummary first = summary_of("o1", written);
  const OrderSummary second = summary_of("o2", written);

  // Then each has only its own events
  EXPECT_EQ(first.total_minor, 10);
  EXPECT_EQ(first.last_position, o1_last);
  EXPECT_EQ(second.customer_id, "bob");
  EXPECT_EQ(second.currency, "USD");
  EXPECT_EQ(second.total_minor, 40);
  EXPECT_EQ(second.last_position, written);
  EXPECT_EQ(summaries_->order_count(), 2u);
}

TEST_F(OrderSummaryProjectionTest, UnknownOrderIsNotFound) {
  // Given a projection that has seen one order
  open_summaries();
  const GlobalPosition written = script_->create("o1", "alice");

  // When another order is asked for
  Result<OrderSummary> summary = summaries_->find("o2", at(written));

  // Then it is not found
  ASSERT_FALSE(summary.is_ok());
  EXPECT_EQ(summary.status().code(), StatusCode::kNotFound);
}

TEST_F(OrderSummaryProjectionTest, EventsThatAreNotOrderEventsAreIgnored) {
  // Given a log where other event types surround an order's events
  open_summaries();
  script_->append_other("audit-1", "UserLoggedIn");
  script_->create("o1", "alice", "EUR", {{"apple", 1, 10}});
  script_->append_other("order-o1", "CommentAdded");  // even inside the order's stream
  script_->append_other("audit-1", "UserLoggedOut");
  const GlobalPosition written = script_->confirm("o1");

  // When the projection has caught up
  const OrderSummary summary = summary_of("o1", written);

  // Then only the order events counted, and the others still advanced the checkpoint
  EXPECT_EQ(summary.status, OrderStatus::kConfirmed);
  EXPECT_EQ(summary.version, StreamVersion{3});  // the stream's version, comment included
  const projections::ProjectionProgress progress = summaries_->progress();
  EXPECT_EQ(progress.checkpoint, written);
  EXPECT_EQ(progress.order_events_applied, 2u);
  EXPECT_EQ(progress.other_events_ignored, 3u);
  EXPECT_TRUE(progress.failure.is_ok());
}

TEST_F(OrderSummaryProjectionTest, SummariesOfTheLogBeforeOpenAreBuiltAtOpen) {
  // Given orders written before the projection exists
  script_->create("o1", "alice", "EUR", {{"apple", 4, 25}});
  const GlobalPosition written = script_->confirm("o1");

  // When it opens
  open_summaries();

  // Then it reports it had no state, and builds it from the log
  EXPECT_TRUE(summaries_->progress().rebuilt_at_open);
  EXPECT_EQ(summary_of("o1", written).status, OrderStatus::kConfirmed);
}

}  // namespace
}  // namespace orderlog::testing
