// The command side (engine/order/service.cc) on a real store over MemEnv: lifecycle,
// refusals append nothing, idempotent command ids (also across restarts), concurrent
// writers, metadata, temporal queries and the replay trace.
#include "orderlog/order/service.h"

#include <gtest/gtest.h>

#include <thread>

#include "../store/store_test_util.h"

namespace orderlog::order {
namespace {

using orderlog::testing::MemEnv;

CommandContext context_for(std::string tenant = "acme") {
  CommandContext context;
  context.command_id = EventId::generate();
  context.tenant = std::move(tenant);
  return context;
}

CommandResult accepted(const Result<CommandOutcome>& outcome) {
  EXPECT_TRUE(outcome.is_ok()) << outcome.status().to_string();
  if (!outcome.is_ok()) return {};
  if (const auto* error = std::get_if<DomainError>(&*outcome)) {
    ADD_FAILURE() << "refused: " << error->message;
    return {};
  }
  return std::get<CommandResult>(*outcome);
}

class OrderServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  void reopen() {
    service_.reset();
    store_.reset();
    auto opened = orderlog::testing::open_store(env_);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    store_ = std::move(opened).value();
    service_ = std::make_unique<OrderService>(*store_, OrderServiceOptions{});
  }

  Result<CommandOutcome> run(const Command& command) { return service_->execute(command, context_for()); }

  MemEnv env_;
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<OrderService> service_;
};

TEST_F(OrderServiceTest, FullLifecycleAppendsOneEventPerCommand) {
  accepted(run(CreateOrder{"o-1", "c-1", "EUR", {}}));
  accepted(run(AddItem{"o-1", {"book", 2, 1299}, ""}));
  accepted(run(AddItem{"o-1", {"pen", 1, 250}, ""}));
  accepted(run(ConfirmOrder{"o-1"}));
  accepted(run(ShipOrder{"o-1", "DHL", "JD1"}));
  const CommandResult last = accepted(run(DeliverOrder{"o-1"}));
  EXPECT_EQ(last.state.status, OrderStatus::kDelivered);
  EXPECT_EQ(last.state.version, 6u);
  EXPECT_EQ(last.events, (std::vector<Event>{OrderDelivered{"o-1", 2848, "EUR"}}));
  EXPECT_EQ(store_->stream_version("order-o-1").value, 6u);
  ASSERT_OK_AND_ASSIGN(OrderState loaded, service_->load("o-1"));
  EXPECT_EQ(loaded, last.state);
}

TEST_F(OrderServiceTest, RefusedCommandAppendsNothing) {
  accepted(run(CreateOrder{"o-1", "c-1", "EUR", {}}));
  ASSERT_OK_AND_ASSIGN(CommandOutcome outcome, run(ConfirmOrder{"o-1"}));
  ASSERT_TRUE(std::holds_alternative<DomainError>(outcome));
  EXPECT_EQ(std::get<DomainError>(outcome).code, DomainErrorCode::kEmptyOrder);
  EXPECT_EQ(store_->committed_position().value, 1u);
  EXPECT_EQ(service_->stats().refused, 1u);
}

TEST_F(OrderServiceTest, EventsCarryCorrelationCausationTenantAndCommandId) {
  CommandContext context = context_for("tenant-7");
  context.correlation_id = EventId::generate();
  ASSERT_OK(service_->execute(CreateOrder{"o-1", "c-1", "EUR", {{"a", 1, 1}}}, context).status());
  const auto events = orderlog::testing::read_all_events(*store_);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].correlation_id, context.correlation_id);
  EXPECT_EQ(events[0].causation_id, context.command_id);
  EXPECT_EQ(events[0].stream_id, "order-o-1");
  EXPECT_EQ(events[0].type, "OrderCreated");
  const std::vector<std::pair<std::string, std::string>> tags = {{"command_id", context.command_id.to_string()},
                                                                 {"tenant", "tenant-7"}};
  EXPECT_EQ(events[0].tags, tags);
}

TEST_F(OrderServiceTest, RetriedCommandIdReturnsTheOriginalOutcomeAndAppendsNothing) {
  accepted(run(CreateOrder{"o-1", "c-1", "EUR", {}}));
  const CommandContext context = context_for();
  const Command add = AddItem{"o-1", {"book", 1, 1299}, ""};
  const CommandResult first = accepted(service_->execute(add, context));
  const CommandResult again = accepted(service_->execute(add, context));
  EXPECT_TRUE(again.duplicate);
  EXPECT_TRUE(again.events.empty());
  EXPECT_EQ(again.first_position, first.first_position);
  EXPECT_EQ(again.state.lines, (std::vector<OrderLine>{{"book", 1, 1299}}));
  EXPECT_EQ(store_->committed_position().value, 2u);
  // Also after a restart, with an empty cache: the command id is in the stream.
  reopen();
  const CommandResult after_restart = accepted(service_->execute(add, context));
  EXPECT_TRUE(after_restart.duplicate);
  EXPECT_EQ(after_restart.last_position, first.last_position);
  EXPECT_EQ(store_->committed_position().value, 2u);
  // A refused command can be retried with the same id and is refused the same way.
  const CommandContext confirm_twice = context_for();
  accepted(service_->execute(ConfirmOrder{"o-1"}, confirm_twice));
  EXPECT_TRUE(accepted(service_->execute(ConfirmOrder{"o-1"}, confirm_twice)).duplicate);
}

TEST_F(OrderServiceTest, NilCommandIdIsRefused) {
  CommandContext context = context_for();
  context.command_id = EventId{};
  EXPECT_EQ(service_->execute(CreateOrder{"o", "c", "EUR", {}}, context).status().code(),
            StatusCode::kInvalidArgument);
}

// Writers race for one order: each version is won by exactly one command, losers
// reload and retry, and every command that reports success is in the final state
// exactly once (no lost update, no double apply).
TEST_F(OrderServiceTest, ConcurrentCommandsOnOneOrderLoseNothing) {
  OrderServiceOptions options;
  options.conflict_retries_max = 200;  // six writers on one order: let every command through
  service_ = std::make_unique<OrderService>(*store_, options);
  accepted(run(CreateOrder{"o-1", "c-1", "EUR", {}}));
  constexpr int kThreads = 6;
  constexpr int kItemsPerThread = 15;
  std::vector<std::thread> threads;
  std::mutex mutex;
  std::vector<std::string> succeeded;
  std::vector<std::string> unexpected;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kItemsPerThread; ++i) {
        const std::string sku = "t" + std::to_string(t) + "-" + std::to_string(i);
        auto outcome = service_->execute(AddItem{"o-1", {sku, 1, 100}, ""}, context_for());
        std::lock_guard lock(mutex);
        if (outcome.is_ok() && std::holds_alternative<CommandResult>(*outcome)) {
          succeeded.push_back(sku);
        } else if (outcome.is_ok() || outcome.status().code() != StatusCode::kBusy) {
          unexpected.push_back(sku);  // only the bounded-retry conflict error may happen
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_TRUE(unexpected.empty());
  ASSERT_OK_AND_ASSIGN(OrderState state, service_->load("o-1"));
  std::vector<std::string> skus;
  for (const OrderLine& line : state.lines) {
    EXPECT_EQ(line.quantity, 1u) << line.sku << " applied twice";
    skus.push_back(line.sku);
  }
  std::sort(skus.begin(), skus.end());
  std::sort(succeeded.begin(), succeeded.end());
  EXPECT_EQ(skus, succeeded);
  EXPECT_EQ(succeeded.size(), static_cast<size_t>(kThreads * kItemsPerThread));
  EXPECT_EQ(state.version, 1u + succeeded.size());
  EXPECT_GT(service_->stats().conflicts, 0u);
  const auto events = orderlog::testing::read_stream_events(*store_, "order-o-1", 50);
  EXPECT_EQ(orderlog::testing::versions_of(events), orderlog::testing::sequence(1, state.version));
}

// Out of retries, a command is Busy: the caller did nothing wrong and has no version
// to correct; sending it again later is the answer.
TEST_F(OrderServiceTest, ACommandThatKeepsLosingItsOrderToOthersIsBusy) {
  OrderServiceOptions options;
  options.conflict_retries_max = 0;
  service_ = std::make_unique<OrderService>(*store_, options);
  accepted(run(CreateOrder{"o-1", "c-1", "EUR", {}}));
  std::vector<std::thread> threads;
  std::mutex mutex;
  std::vector<Status> failures;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        auto outcome = service_->execute(AddItem{"o-1", {"t" + std::to_string(t) + "-" + std::to_string(i), 1, 100}, ""},
                                         context_for());
        if (outcome.is_ok()) continue;
        std::lock_guard lock(mutex);
        failures.push_back(outcome.status());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_GT(service_->stats().conflicts, 0u) << "six writers on one order never collided";
  ASSERT_FALSE(failures.empty());
  for (const Status& failure : failures) {
    EXPECT_EQ(failure.code(), StatusCode::kBusy) << failure.to_string();
    EXPECT_NE(failure.message().find("gave up after 1 conflicting write to the order"), std::string::npos)
        << failure.to_string();
  }
}

TEST_F(OrderServiceTest, StateAtVersionAndAtTimeReplayThePast) {
  env_.set_clock_ns(1'000);
  accepted(run(CreateOrder{"o-1", "c-1", "EUR", {{"a", 1, 100}}}));
  env_.set_clock_ns(2'000);
  accepted(run(AddItem{"o-1", {"b", 2, 50}, ""}));
  env_.set_clock_ns(3'000);
  accepted(run(ConfirmOrder{"o-1"}));
  ASSERT_OK_AND_ASSIGN(OrderState v2, service_->state_at_version("o-1", 2));
  EXPECT_EQ(v2.status, OrderStatus::kPending);
  EXPECT_EQ(v2.total_minor(), 200);
  ASSERT_OK_AND_ASSIGN(OrderState at_1500, service_->state_at_time("o-1", 1'500));
  EXPECT_EQ(at_1500.version, 1u);
  EXPECT_EQ(at_1500.total_minor(), 100);
  ASSERT_OK_AND_ASSIGN(OrderState at_3000, service_->state_at_time("o-1", 3'000));
  EXPECT_EQ(at_3000.status, OrderStatus::kConfirmed);
  ASSERT_OK_AND_ASSIGN(OrderState before, service_->state_at_time("o-1", 999));
  EXPECT_EQ(before.status, OrderStatus::kNone);
}

TEST_F(OrderServiceTest, HistoryIsAReplayTraceOfEveryEvent) {
  accepted(run(CreateOrder{"o-1", "c-1", "EUR", {{"a", 1, 100}}}));
  accepted(run(ConfirmOrder{"o-1"}));
  accepted(run(CancelOrder{"o-1", "late"}));
  ASSERT_OK_AND_ASSIGN(std::vector<HistoryEntry> trace, service_->history("o-1"));
  ASSERT_EQ(trace.size(), 3u);
  EXPECT_EQ(trace[0].state_after.status, OrderStatus::kPending);
  EXPECT_EQ(trace[1].state_after.status, OrderStatus::kConfirmed);
  EXPECT_EQ(trace[2].event, Event(OrderCancelled{"o-1", "late", 100, "EUR"}));
  EXPECT_EQ(trace[2].state_after.cancel_reason, "late");
  EXPECT_EQ(trace[2].version.value, 3u);
  ASSERT_OK_AND_ASSIGN(OrderState now, service_->load("o-1"));
  EXPECT_EQ(trace.back().state_after, now);
}

TEST_F(OrderServiceTest, HistoryOfMoreEventsThanAskedForIsTooLargeBeforeAnyReplay) {
  accepted(run(CreateOrder{"o-1", "c-1", "EUR", {{"a", 1, 100}}}));
  accepted(run(ConfirmOrder{"o-1"}));
  accepted(run(CancelOrder{"o-1", "late"}));
  const Result<std::vector<HistoryEntry>> capped = service_->history("o-1", 2);
  ASSERT_FALSE(capped.is_ok());
  EXPECT_EQ(capped.status().code(), StatusCode::kTooLarge);
  EXPECT_NE(capped.status().message().find("3 events"), std::string::npos) << capped.status().to_string();
  ASSERT_OK_AND_ASSIGN(std::vector<HistoryEntry> whole, service_->history("o-1", 3));
  EXPECT_EQ(whole.size(), 3u);
}

TEST_F(OrderServiceTest, HotOrdersComeFromTheCache) {
  accepted(run(CreateOrder{"o-1", "c-1", "EUR", {}}));
  for (int i = 0; i < 5; ++i) accepted(run(AddItem{"o-1", {"sku" + std::to_string(i), 1, 1}, ""}));
  EXPECT_GE(service_->stats().cache_hits, 5u);
}

}  // namespace
}  // namespace orderlog::order
