// OrderService::execute_async (engine/order/service.cc): the same outcomes as
// execute(), `done` exactly once on the documented thread, and retries after
// concurrent writes run on the given executor and lose nothing.
#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "../store/store_test_util.h"
#include "orderlog/order/service.h"

namespace orderlog::order {
namespace {

using orderlog::testing::MemEnv;

// A one-thread executor that counts what it ran.
class TestExecutor {
 public:
  TestExecutor() : thread_([this] { run(); }) {}
  ~TestExecutor() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  Executor executor() {
    return [this](std::function<void()> work) {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(work));
      changed_.notify_all();
    };
  }
  int ran() {
    std::lock_guard lock(mutex_);
    return ran_;
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      changed_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      auto work = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      work();
      lock.lock();
      ++ran_;
    }
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  int ran_ = 0;
  std::thread thread_;
};

CommandContext context_for() {
  CommandContext context;
  context.command_id = EventId::generate();
  context.tenant = "acme";
  return context;
}

class OrderServiceAsyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = orderlog::testing::open_store(env_);
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    store_ = std::move(opened).value();
    service_ = std::make_unique<OrderService>(*store_, OrderServiceOptions{});
  }

  // Runs one command asynchronously and waits for its outcome; `*on_caller` says
  // whether `done` ran before execute_async returned.
  Result<CommandOutcome> run(const Command& command, const CommandContext& context, bool* on_caller = nullptr) {
    std::promise<Result<CommandOutcome>> promise;
    const std::thread::id caller = std::this_thread::get_id();
    bool ran_on_caller = false;
    service_->execute_async(command, context, executor_.executor(), [&](Result<CommandOutcome> outcome) {
      ran_on_caller = std::this_thread::get_id() == caller;
      promise.set_value(std::move(outcome));
    });
    Result<CommandOutcome> outcome = promise.get_future().get();
    if (on_caller != nullptr) *on_caller = ran_on_caller;
    return outcome;
  }

  MemEnv env_;
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<OrderService> service_;
  TestExecutor executor_;
};

TEST_F(OrderServiceAsyncTest, AcceptedCommandCompletesOnTheWriterWithTheSameOutcomeAsExecute) {
  bool on_caller = true;
  ASSERT_OK_AND_ASSIGN(CommandOutcome created, run(CreateOrder{"o-1", "c-1", "EUR", {{"book", 2, 1299}}},
                                                   context_for(), &on_caller));
  ASSERT_TRUE(std::holds_alternative<CommandResult>(created));
  EXPECT_FALSE(on_caller);
  ASSERT_OK_AND_ASSIGN(CommandOutcome confirmed, run(ConfirmOrder{"o-1"}, context_for()));
  const CommandResult& result = std::get<CommandResult>(confirmed);
  EXPECT_EQ(result.state.status, OrderStatus::kConfirmed);
  EXPECT_EQ(result.state.version, 2u);
  EXPECT_EQ(result.first_position.value, 2u);
  EXPECT_EQ(result.events, (std::vector<Event>{OrderConfirmed{"o-1", 2598, "EUR"}}));
  ASSERT_OK_AND_ASSIGN(OrderState loaded, service_->load("o-1"));
  EXPECT_EQ(loaded, result.state);
}

TEST_F(OrderServiceAsyncTest, RefusalAndBadInputCompleteOnTheCallerAndAppendNothing) {
  bool on_caller = false;
  ASSERT_OK_AND_ASSIGN(CommandOutcome refused, run(ConfirmOrder{"nope"}, context_for(), &on_caller));
  ASSERT_TRUE(std::holds_alternative<DomainError>(refused));
  EXPECT_EQ(std::get<DomainError>(refused).code, DomainErrorCode::kOrderNotFound);
  EXPECT_TRUE(on_caller);

  CommandContext nil_id = context_for();
  nil_id.command_id = EventId{};
  Result<CommandOutcome> invalid = run(CreateOrder{"o-2", "c-1", "EUR", {}}, nil_id, &on_caller);
  ASSERT_FALSE(invalid.is_ok());
  EXPECT_EQ(invalid.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(on_caller);
  EXPECT_EQ(store_->committed_position().value, 0u);
}

TEST_F(OrderServiceAsyncTest, RetriedCommandIdIsADuplicateAndAppendsNothing) {
  const CommandContext context = context_for();
  ASSERT_OK_AND_ASSIGN(CommandOutcome first, run(CreateOrder{"o-1", "c-1", "EUR", {}}, context));
  ASSERT_OK_AND_ASSIGN(CommandOutcome again, run(CreateOrder{"o-1", "c-1", "EUR", {}}, context));
  ASSERT_TRUE(std::holds_alternative<CommandResult>(again));
  EXPECT_TRUE(std::get<CommandResult>(again).duplicate);
  EXPECT_EQ(std::get<CommandResult>(again).last_position, std::get<CommandResult>(first).last_position);
  EXPECT_EQ(store_->committed_position().value, 1u);
}

TEST_F(OrderServiceAsyncTest, ConcurrentCommandsOnOneOrderRetryOnTheExecutorAndLoseNothing) {
  ASSERT_OK_AND_ASSIGN(CommandOutcome created, run(CreateOrder{"o-1", "c-1", "EUR", {}}, context_for()));
  constexpr int kCommands = 40;
  std::mutex mutex;
  std::condition_variable all_done;
  int done = 0, accepted = 0;
  // All queued at once, each decided against the same loaded version: most conflict.
  for (int i = 0; i < kCommands; ++i) {
    service_->execute_async(AddItem{"o-1", {"sku-" + std::to_string(i), 1, 100}, ""}, context_for(),
                            executor_.executor(), [&](Result<CommandOutcome> outcome) {
                              std::lock_guard lock(mutex);
                              ++done;
                              if (outcome.is_ok() && std::holds_alternative<CommandResult>(*outcome)) ++accepted;
                              all_done.notify_all();
                            });
  }
  std::unique_lock lock(mutex);
  ASSERT_TRUE(all_done.wait_for(lock, std::chrono::seconds(30), [&] { return done == kCommands; }));
  ASSERT_OK_AND_ASSIGN(OrderState order, service_->load("o-1"));
  // Every accepted command added its line exactly once; the others gave up loudly.
  EXPECT_EQ(order.lines.size(), static_cast<size_t>(accepted));
  EXPECT_EQ(order.version, 1u + static_cast<uint64_t>(accepted));
  EXPECT_GT(accepted, 0);
  EXPECT_GT(service_->stats().conflicts, 0u);
  EXPECT_GT(executor_.ran(), 0);
}

}  // namespace
}  // namespace orderlog::order
