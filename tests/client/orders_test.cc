// Order commands and read-model queries through the client against a real orderlogd.
#include <gtest/gtest.h>

#include <future>

#include "server_fixture.h"

namespace orderlog::client::testing {
namespace {

using ClientOrders = ServerTest;

CreateOrder two_books(const std::string& order_id, const std::string& customer) {
  return CreateOrder{order_id, customer, "EUR", {{"book", 2, 1250}}};
}

TEST_F(ClientOrders, OrderLifecycleMovesThroughEveryState) {
  auto client = connect();
  const std::string order = unique("order");
  Result<CommandResult> created = client->create_order(two_books(order, "c1"));
  ASSERT_TRUE(created.ok()) << created.error().to_string();
  EXPECT_EQ(created->state.status, OrderStatus::Pending);
  EXPECT_EQ(created->state.total_minor, 2500);
  EXPECT_EQ(created->event_types, std::vector<std::string>{"OrderCreated"});
  EXPECT_FALSE(created->duplicate);

  ASSERT_TRUE(client->add_item(AddItem{order, {"pen", 1, 199}, ""}).ok());
  Result<CommandResult> removed = client->remove_item(RemoveItem{order, "pen"});
  ASSERT_TRUE(removed.ok()) << removed.error().to_string();
  EXPECT_EQ(removed->state.lines.size(), 1u);
  EXPECT_EQ(client->confirm_order(ConfirmOrder{order})->state.status, OrderStatus::Confirmed);
  Result<CommandResult> shipped = client->ship_order(ShipOrder{order, "DHL", "JD01"});
  ASSERT_TRUE(shipped.ok()) << shipped.error().to_string();
  EXPECT_EQ(shipped->state.carrier, "DHL");
  Result<CommandResult> delivered = client->deliver_order(DeliverOrder{order});
  ASSERT_TRUE(delivered.ok()) << delivered.error().to_string();
  EXPECT_EQ(delivered->state.status, OrderStatus::Delivered);
  EXPECT_EQ(delivered->state.version, 6u);

  Result<OrderState> at_creation = client->order_at_version(order, 1);
  ASSERT_TRUE(at_creation.ok()) << at_creation.error().to_string();
  EXPECT_EQ(at_creation->status, OrderStatus::Pending);
  EXPECT_EQ(at_creation->version, 1u);
  Result<ReadPage> events = client->read_stream("order-" + order, 0, Direction::Forward, 10);
  ASSERT_TRUE(events.ok()) << events.error().to_string();
  ASSERT_EQ(events->events.size(), 6u);
  EXPECT_EQ(events->events[4].type, "OrderShipped");
  Result<OrderState> when_shipped = client->order_at_time(order, events->events[4].timestamp_ns);
  ASSERT_TRUE(when_shipped.ok()) << when_shipped.error().to_string();
  EXPECT_EQ(when_shipped->status, OrderStatus::Shipped);
}

TEST_F(ClientOrders, CancelAndDomainRefusalsAreTyped) {
  auto client = connect();
  const std::string order = unique("order");
  ASSERT_TRUE(client->create_order(two_books(order, "c1")).ok());
  Result<CommandResult> cancelled = client->cancel_order(CancelOrder{order, "changed my mind"});
  ASSERT_TRUE(cancelled.ok()) << cancelled.error().to_string();
  EXPECT_EQ(cancelled->state.cancel_reason, "changed my mind");

  Result<CommandResult> ship = client->ship_order(ShipOrder{order, "UPS", "1Z"});
  ASSERT_FALSE(ship.ok());
  EXPECT_EQ(ship.error().code, ErrorCode::DomainRule);
  EXPECT_EQ(ship.error().domain_error, DomainErrorCode::InvalidTransition);

  Result<CommandResult> again = client->create_order(two_books(order, "c1"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().domain_error, DomainErrorCode::OrderExists);

  Result<CommandResult> unknown = client->confirm_order(ConfirmOrder{unique("missing")});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().domain_error, DomainErrorCode::OrderNotFound);

  Result<CommandResult> zero = client->create_order(CreateOrder{unique("order"), "c1", "EUR", {{"x", 0, 100}}});
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().domain_error, DomainErrorCode::InvalidQuantity);
}

TEST_F(ClientOrders, RetriedCommandWithTheSameIdIsADuplicate) {
  auto client = connect();
  const std::string order = unique("order");
  CommandOptions options;
  options.command_id = Uuid::generate();
  Result<CommandResult> first = client->create_order(two_books(order, "c1"), options);
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  Result<CommandResult> retry = client->create_order(two_books(order, "c1"), options);
  ASSERT_TRUE(retry.ok()) << retry.error().to_string();
  EXPECT_TRUE(retry->duplicate);
  EXPECT_TRUE(retry->event_types.empty());
  EXPECT_EQ(retry->state.version, 1u);
}

TEST_F(ClientOrders, CommandsWorkInCallbackAndFutureForms) {
  auto client = connect();
  const std::string order = unique("order");
  std::promise<Result<CommandResult>> called_back;
  client->execute_async(two_books(order, "c1"), {},
                        [&](Result<CommandResult> result) { called_back.set_value(std::move(result)); });
  ASSERT_TRUE(called_back.get_future().get().ok());
  Result<CommandResult> confirmed = client->execute_future(ConfirmOrder{order}).get();
  ASSERT_TRUE(confirmed.ok()) << confirmed.error().to_string();
  EXPECT_EQ(confirmed->state.status, OrderStatus::Confirmed);
}

TEST_F(ClientOrders, ReadModelsShowOwnWritesWithMinPosition) {
  auto client = connect();
  const std::string customer = unique("customer");
  const std::string first = unique("order");
  const std::string second = unique("order");
  ASSERT_TRUE(client->create_order(two_books(first, customer)).ok());
  ASSERT_TRUE(client->create_order(CreateOrder{second, customer, "SEK", {{"lamp", 1, 4999}}}).ok());
  Result<CommandResult> last = client->confirm_order(ConfirmOrder{first});
  ASSERT_TRUE(last.ok());
  const uint64_t position = last->last_position;

  Result<OrderSummary> summary = client->order_summary(first, position);
  ASSERT_TRUE(summary.ok()) << summary.error().to_string();
  EXPECT_EQ(summary->status, OrderStatus::Confirmed);
  EXPECT_EQ(summary->total_minor, 2500);
  EXPECT_GT(summary->confirmed_ns, 0u);

  CustomerOrdersQuery by_customer;
  by_customer.customer_id = customer;
  by_customer.consistency.min_position = position;
  Result<OrderPage> orders = client->customer_orders(by_customer);
  ASSERT_TRUE(orders.ok()) << orders.error().to_string();
  EXPECT_EQ(orders->orders.size(), 2u);

  OrdersByStatusQuery confirmed;
  confirmed.status = OrderStatus::Confirmed;
  confirmed.limit = 1000;
  confirmed.consistency.min_position = position;
  Result<OrderPage> page = client->orders_by_status(confirmed);
  ASSERT_TRUE(page.ok()) << page.error().to_string();
  EXPECT_FALSE(page->orders.empty());

  Result<uint64_t> count = client->status_count(OrderStatus::Confirmed, position);
  ASSERT_TRUE(count.ok()) << count.error().to_string();
  EXPECT_GE(*count, 1u);

  Result<std::vector<std::string>> currencies = client->currencies(position);
  ASSERT_TRUE(currencies.ok()) << currencies.error().to_string();
  EXPECT_NE(std::find(currencies->begin(), currencies->end(), "SEK"), currencies->end());

  RevenueQuery revenue;
  revenue.currency = "EUR";
  revenue.from_ns = summary->created_ns - summary->created_ns % 86'400'000'000'000ull;
  revenue.to_ns = revenue.from_ns + 86'400'000'000'000ull;
  revenue.consistency.min_position = position;
  Result<RevenuePage> buckets = client->revenue(revenue);
  ASSERT_TRUE(buckets.ok()) << buckets.error().to_string();
  ASSERT_FALSE(buckets->buckets.empty());
  EXPECT_GE(buckets->buckets[0].confirmed_minor, 2500);

  Result<std::vector<HistoryEntry>> history = client->order_history(first, position);
  ASSERT_TRUE(history.ok()) << history.error().to_string();
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[1].event_type, "OrderConfirmed");
  EXPECT_EQ((*history)[1].state_after.status, OrderStatus::Confirmed);

  Result<std::vector<ProjectionProgress>> projections = client->projections();
  ASSERT_TRUE(projections.ok()) << projections.error().to_string();
  EXPECT_FALSE(projections->empty());
}

TEST_F(ClientOrders, UnknownOrderSummaryIsNotFound) {
  auto client = connect();
  Result<OrderSummary> summary = client->order_summary(unique("missing"), 0);
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.error().code, ErrorCode::NotFound) << summary.error().to_string();
}

}  // namespace
}  // namespace orderlog::client::testing
