// Today's code opens a data directory written before ItemAdded had SKUs and
// currencies (tests/data/v1-orders, see tests/data/write_v1_fixture.cc), upcasts
// its events on read and rebuilds the same orders.
#include <gtest/gtest.h>

#include <filesystem>

#include "orderlog/order/service.h"

namespace orderlog::order {
namespace {

class V1FixtureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Work on a copy: opening writes a lock and may refresh the index checkpoint.
    dir_ = std::filesystem::path(::testing::TempDir()) / ("orderlog-v1-" + EventId::generate().to_string());
    std::filesystem::copy(std::filesystem::path(ORDERLOG_TEST_DATA_DIR) / "v1-orders", dir_,
                          std::filesystem::copy_options::recursive);
    StoreOptions options;
    options.data_dir = dir_.string();
    options.segment_bytes_max = 64 * 1024;
    options.segment_prefill = false;
    auto store = EventStore::open(options);
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    store_ = std::move(store).value();
    service_ = std::make_unique<OrderService>(*store_, OrderServiceOptions{});
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  OrderState load(const std::string& order_id) {
    Result<OrderState> state = service_->load(order_id);
    EXPECT_TRUE(state.is_ok()) << state.status().to_string();
    return state.is_ok() ? *state : OrderState{};
  }

  std::filesystem::path dir_;
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<OrderService> service_;
};

TEST_F(V1FixtureTest, OrdersAreRebuiltFromUpcastEvents) {
  const OrderState first = load("legacy-1");
  EXPECT_EQ(first.status, OrderStatus::kConfirmed);
  EXPECT_EQ(first.customer_id, "c-1");
  EXPECT_EQ(first.lines, (std::vector<OrderLine>{{"Blue mug", 2, 1299}, {"Tea", 1, 450}}));
  EXPECT_EQ(first.total_minor(), 3048);
  EXPECT_EQ(first.version, 4u);

  const OrderState second = load("legacy-2");
  EXPECT_EQ(second.status, OrderStatus::kPending);
  EXPECT_EQ(second.lines, (std::vector<OrderLine>{{"Kettle", 1, 3900}}));

  const OrderState third = load("legacy-3");
  EXPECT_EQ(third.status, OrderStatus::kCancelled);
  EXPECT_EQ(third.cancel_reason, "found it cheaper");
  EXPECT_EQ(third.lines, (std::vector<OrderLine>{{"Spoon", 12, 75}}));
}

TEST_F(V1FixtureTest, HistoryShowsOnlyTheCurrentSchema) {
  Result<std::vector<HistoryEntry>> trace = service_->history("legacy-1");
  ASSERT_TRUE(trace.is_ok()) << trace.status().to_string();
  ASSERT_EQ(trace->size(), 4u);
  EXPECT_EQ((*trace)[1].event, Event(ItemAdded{"legacy-1", {"Blue mug", 2, 1299}, "EUR"}));
}

TEST_F(V1FixtureTest, OldOrdersAcceptNewCommands) {
  CommandContext context;
  context.command_id = EventId::generate();
  Result<CommandOutcome> outcome = service_->execute(AddItem{"legacy-2", {"Kettle", 1, 3900}, "EUR"}, context);
  ASSERT_TRUE(outcome.is_ok()) << outcome.status().to_string();
  ASSERT_TRUE(std::holds_alternative<CommandResult>(*outcome));
  EXPECT_EQ(std::get<CommandResult>(*outcome).state.lines, (std::vector<OrderLine>{{"Kettle", 2, 3900}}));
  // The new event is written in today's schema, next to the old ones.
  auto stored = store_->read_stream("order-legacy-2", StreamVersion{3}, ReadDirection::kForward, 1);
  ASSERT_TRUE(stored.is_ok());
  ASSERT_EQ(stored->events.size(), 1u);
  EXPECT_EQ(stored->events[0].schema_version, 2);
}

}  // namespace
}  // namespace orderlog::order
