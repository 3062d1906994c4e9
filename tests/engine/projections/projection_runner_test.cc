// What every projection gets from its runner: exactly-once folding (events at or below
// the checkpoint and repeated deliveries change nothing), lag reporting, read-your-
// writes waits with a bounded timeout, rebuilds equal to the incremental state,
// saving every N positions, and a clean stop. White-box where the runner must be
// driven by hand (no thread), through the public API otherwise.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "fault_env.h"
#include "forwarding_env.h"
#include "projection_test_util.h"
#include "projections/revenue.h"
#include "projections/runner.h"

namespace orderlog::testing {
namespace {

using projections::Period;
using projections::ProjectionRunner;
using projections::RevenueModel;
using projections::RevenueProjection;
using projections::RevenueTotals;

constexpr uint64_t kDay = 1'709'164'800'000'000'000;  // 2024-02-29T00:00:00Z

class ProjectionRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.set_clock_ns(kDay + 1);
    store_ = open_test_store(env_);
    ASSERT_NE(store_, nullptr);
    script_ = std::make_unique<OrderScript>(*store_);
  }
  // Ten EUR orders of 100 each: all confirmed, every third cancelled, every fourth delivered.
  void write_orders(int first = 0, int count = 10) {
    for (int i = first; i < first + count; ++i) {
      const std::string id = "o" + std::to_string(i);
      script_->create(id, "c" + std::to_string(i % 3), "EUR", {{"sku", 1, 100}});
      script_->confirm(id);
      if (i % 3 == 0) script_->cancel(id, "test");
      if (i % 4 == 1) {
        script_->ship(id, "DHL", id);
        script_->deliver(id);
      }
    }
  }
  // A runner over a bare revenue model, not started: the test feeds it batches.
  std::unique_ptr<ProjectionRunner> manual_runner(RevenueModel& model) {
    Result<projections::ProjectionOptions> options = projections::checked_options(fast_options(*store_, env_));
    EXPECT_OK(options);
    auto runner = std::make_unique<ProjectionRunner>("revenue", &model, *options);
    EXPECT_OK(runner->load());
    return runner;
  }
  std::vector<EventView> log_range(uint64_t from, size_t count) {
    Result<ReadSlice> slice = store_->read_all(GlobalPosition{from}, count);
    EXPECT_OK(slice);
    return slice.is_ok() ? slice->events : std::vector<EventView>{};
  }
  // Due to save after every order event (one per batch), spaced by `spacing`.
  projections::ProjectionOptions saving_every_event(Env& env, uint32_t spacing) {
    projections::ProjectionOptions options = fast_options(*store_, env);
    options.save_every_events = 1;
    options.batch_events_max = 1;
    options.save_spacing = spacing;
    return options;
  }
  static RevenueTotals day_totals(const RevenueModel& model) {
    const projections::RevenuePage page = model.revenue(Period::kDay, "EUR", TimeRange{kDay, kDay + 1}, 10);
    return page.buckets.empty() ? RevenueTotals{} : page.buckets[0].totals;
  }

  MemEnv env_;
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<OrderScript> script_;
};

TEST_F(ProjectionRunnerTest, RepeatedDeliveriesChangeNothing) {
  // Given a log of orders, folded once in one batch by a reference model
  write_orders();
  const uint64_t head = store_->committed_position().value;
  RevenueModel reference;
  std::unique_ptr<ProjectionRunner> once = manual_runner(reference);
  ASSERT_OK(once->apply_batch(log_range(1, head)));

  // When another model gets overlapping batches, a batch twice, an event twice in a
  // batch, and finally the whole log again
  RevenueModel model;
  std::unique_ptr<ProjectionRunner> runner = manual_runner(model);
  ASSERT_OK(runner->apply_batch(log_range(1, 10)));
  ASSERT_OK(runner->apply_batch(log_range(5, 10)));
  ASSERT_OK(runner->apply_batch(log_range(5, 10)));
  std::vector<EventView> doubled = log_range(15, 3);
  const EventView repeated = doubled[0];
  doubled.insert(doubled.begin() + 1, repeated);
  ASSERT_OK(runner->apply_batch(doubled));
  ASSERT_OK(runner->apply_batch(log_range(1, head)));

  // Then both hold the same totals, each event counted once
  EXPECT_EQ(runner->progress().checkpoint.value, head);
  EXPECT_EQ(day_totals(model), day_totals(reference));
  EXPECT_EQ(day_totals(model).confirmed_minor, 1000);
  EXPECT_EQ(day_totals(model).orders_cancelled, 4u);
}

TEST_F(ProjectionRunnerTest, ReportsLagAsHeadMinusCheckpoint) {
  // Given a log of 30 events and a runner that has applied none of it
  write_orders();
  const uint64_t head = store_->committed_position().value;
  RevenueModel model;
  std::unique_ptr<ProjectionRunner> runner = manual_runner(model);
  EXPECT_EQ(runner->progress().lag, head);

  // When it applies the first 12 events
  ASSERT_OK(runner->apply_batch(log_range(1, 12)));

  // Then the lag is what is left, and nothing once it has everything
  projections::ProjectionProgress progress = runner->progress();
  EXPECT_EQ(progress.checkpoint, GlobalPosition{12});
  EXPECT_EQ(progress.head.value, head);
  EXPECT_EQ(progress.lag, head - 12);
  ASSERT_OK(runner->apply_batch(log_range(13, head)));
  EXPECT_EQ(runner->progress().lag, 0u);
}

TEST_F(ProjectionRunnerTest, ReopenedProjectionDoesNotCountSavedEventsAgain) {
  // Given a projection that folded the log and was closed (saving its state)
  write_orders();
  {
    auto revenue = open_projection<RevenueProjection>(fast_options(*store_, env_));
    ASSERT_OK(catch_up(*revenue, *store_));
    ASSERT_OK(revenue->close());
  }

  // When it is reopened and more orders are written
  auto revenue = open_projection<RevenueProjection>(fast_options(*store_, env_));
  EXPECT_FALSE(revenue->progress().rebuilt_at_open);
  EXPECT_EQ(revenue->progress().order_events_applied, 0u);
  write_orders(10, 5);
  ASSERT_OK(catch_up(*revenue, *store_));

  // Then the old events are not applied again: the totals are those of 15 orders
  projections::RevenueQuery query;
  query.currency = "EUR";
  query.range = TimeRange{kDay, kDay + 1};
  Result<projections::RevenuePage> page = revenue->revenue(query);
  ASSERT_OK(page);
  ASSERT_EQ(page->buckets.size(), 1u);
  EXPECT_EQ(page->buckets[0].totals.orders_created, 15u);
  EXPECT_EQ(page->buckets[0].totals.confirmed_minor, 1500);
  ASSERT_OK(revenue->close());
}

TEST_F(ProjectionRunnerTest, EventsOfOtherKindsAreSkippedAndACheckpointOnOneSurvivesAReopen) {
  // Given orders followed by events that are not order events
  write_orders(0, 3);
  const uint64_t order_events = store_->committed_position().value;
  const EventBatch noise = make_events(25, "Noise");
  ASSERT_OK(store_->append("other", ExpectedVersion::any(), noise.events()));
  const GlobalPosition head = store_->committed_position();

  // When a projection folds the log and is closed
  {
    auto revenue = open_projection<RevenueProjection>(fast_options(*store_, env_));
    ASSERT_OK(catch_up(*revenue, *store_));
    // Then its checkpoint is the last event, one it skipped, and each event counted once
    const projections::ProjectionProgress progress = revenue->progress();
    EXPECT_EQ(progress.checkpoint, head);
    EXPECT_EQ(progress.order_events_applied, order_events);
    EXPECT_EQ(progress.other_events_ignored, 25u);
    ASSERT_OK(revenue->close());
  }

  // And reopening accepts the saved state: the event at the checkpoint is the one it names
  auto revenue = open_projection<RevenueProjection>(fast_options(*store_, env_));
  EXPECT_FALSE(revenue->progress().rebuilt_at_open);
  EXPECT_EQ(revenue->progress().checkpoint, head);
  ASSERT_OK(revenue->close());
}

TEST_F(ProjectionRunnerTest, QueryWithMinPositionWaitsForThatWrite) {
  // Given an open projection, and a write that lands only after the query starts
  auto summaries = open_projection<projections::OrderSummaryProjection>(fast_options(*store_, env_));
  const GlobalPosition next{store_->committed_position().value + 1};
  std::thread writer([&] {
    std::this_thread::sleep_for(50ms);
    script_->create("late", "alice");
  });

  // When the order is read at the write's position
  Result<projections::OrderSummary> summary = summaries->find("late", at(next));
  writer.join();

  // Then the query waited and sees it
  ASSERT_OK(summary);
  EXPECT_EQ(summary->customer_id, "alice");
  ASSERT_OK(summaries->close());
}

TEST_F(ProjectionRunnerTest, ALogBusyWithOtherEventsIsReadEveryDozeIntervalButQueriesDoNotWait) {
  // Given a projection that dozes for two seconds once commits bring no order events
  projections::ProjectionOptions options = fast_options(*store_, env_);
  options.doze_interval = 2s;
  auto revenue = open_projection<RevenueProjection>(options);
  const auto caught_up = [&] {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (revenue->progress().checkpoint != store_->committed_position()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(1ms);
    }
    return true;
  };

  // When commits of other events come one at a time, each read as it lands
  const EventBatch noise = make_events(1, "Noise");
  for (int i = 0; i < projections::kEmptyStepsBeforeDozing; ++i) {
    ASSERT_OK(store_->append("other", ExpectedVersion::any(), make_events(1, "Noise").events()));
    ASSERT_TRUE(caught_up()) << "commit " << i;
  }
  ASSERT_OK(store_->append("other", ExpectedVersion::any(), noise.events()));
  const GlobalPosition head = store_->committed_position();
  std::this_thread::sleep_for(300ms);

  // Then the next one waits for the doze to end...
  EXPECT_LT(revenue->progress().checkpoint, head);
  // ...unless a query waits for it: that wakes the runner at once
  const auto asked = std::chrono::steady_clock::now();
  ASSERT_OK(revenue->wait_for(head, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 1s);

  // And an order event ends the dozing (read within a doze), after which the next
  // one is read as it lands
  script_->create("o1", "c1", "EUR", {{"sku", 1, 100}});
  ASSERT_TRUE(caught_up());
  script_->confirm("o1");
  const auto confirmed = std::chrono::steady_clock::now();
  ASSERT_TRUE(caught_up());
  EXPECT_LT(std::chrono::steady_clock::now() - confirmed, 1s);
  ASSERT_OK(revenue->close());
}

TEST_F(ProjectionRunnerTest, CloseEndsADozeAtOnce) {
  // Given a projection dozing after commits without order events
  projections::ProjectionOptions options = fast_options(*store_, env_);
  options.doze_interval = 10s;
  auto revenue = open_projection<RevenueProjection>(options);
  for (int i = 0; i <= projections::kEmptyStepsBeforeDozing; ++i) {
    ASSERT_OK(store_->append("other", ExpectedVersion::any(), make_events(1, "Noise").events()));
    ASSERT_OK(catch_up(*revenue, *store_));
  }
  // When it is closed, then it stops without waiting out the doze
  const auto closing = std::chrono::steady_clock::now();
  ASSERT_OK(revenue->close());
  EXPECT_LT(std::chrono::steady_clock::now() - closing, 2s);
}

TEST_F(ProjectionRunnerTest, QueryWithUnreachedMinPositionTimesOut) {
  // Given a caught-up projection
  write_orders(0, 2);
  auto summaries = open_projection<projections::OrderSummaryProjection>(fast_options(*store_, env_));
  ASSERT_OK(catch_up(*summaries, *store_));

  // When a query asks for a position nobody has written, for 60 ms
  const auto started = std::chrono::steady_clock::now();
  Result<projections::OrderSummary> summary = summaries->find(
      "o0", projections::ReadConsistency{GlobalPosition{store_->committed_position().value + 5}, 60ms});
  const auto waited = std::chrono::steady_clock::now() - started;

  // Then it fails with kTimedOut after about that long, naming where it got to
  ASSERT_FALSE(summary.is_ok());
  EXPECT_EQ(summary.status().code(), StatusCode::kTimedOut);
  EXPECT_NE(summary.status().message().find("summary"), std::string::npos) << summary.status().to_string();
  EXPECT_GE(waited, 60ms);
  EXPECT_LT(waited, 5s);
  ASSERT_OK(summaries->close());
}

TEST_F(ProjectionRunnerTest, QueryWaitIsCappedByQueryWaitMax) {
  // Given a projection whose queries may wait 30 ms at most
  projections::ProjectionOptions options = fast_options(*store_, env_);
  options.query_wait_max = 30ms;
  auto summaries = open_projection<projections::OrderSummaryProjection>(options);

  // When a query asks to wait an hour for a position that never comes
  const auto started = std::chrono::steady_clock::now();
  Status waited = summaries->wait_for(GlobalPosition{1'000}, std::chrono::hours(1));

  // Then it gives up at the cap
  EXPECT_EQ(waited.code(), StatusCode::kTimedOut);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  ASSERT_OK(summaries->close());
}

TEST_F(ProjectionRunnerTest, SavesEveryNOrderEventsWhileRunning) {
  // Given a projection that saves every 8 order events
  projections::ProjectionOptions options = fast_options(*store_, env_);
  options.save_every_events = 8;
  options.batch_events_max = 4;
  auto revenue = open_projection<RevenueProjection>(options);

  // When 30 order events (the whole log) are written and applied
  write_orders();
  ASSERT_OK(catch_up(*revenue, *store_));

  // Then it saved along the way, and its file is at most 7 order events behind
  const projections::ProjectionProgress progress = revenue->progress();
  EXPECT_GE(progress.saves, 3u);
  EXPECT_GE(progress.saved_checkpoint.value + 8, progress.checkpoint.value);
  EXPECT_TRUE(env_.file_exists(std::string(kDataDir) + "/projections/revenue.proj"));
  ASSERT_OK(revenue->close());
  EXPECT_EQ(revenue->progress().saved_checkpoint, store_->committed_position());
}

TEST_F(ProjectionRunnerTest, EventsOfOtherKindsMakeNoSaveDue) {
  // Given a projection that saves every 8 order events
  projections::ProjectionOptions options = fast_options(*store_, env_);
  options.save_every_events = 8;
  options.batch_events_max = 4;
  auto revenue = open_projection<RevenueProjection>(options);

  // When hundreds of other events pass, with one order in between (2 order events)
  const EventBatch noise = make_events(200, "Noise");
  ASSERT_OK(store_->append("other", ExpectedVersion::any(), noise.events()));
  script_->create("o1", "c1", "EUR", {{"sku", 1, 100}});
  script_->confirm("o1");
  ASSERT_OK(store_->append("other", ExpectedVersion::any(), noise.events()));
  ASSERT_OK(catch_up(*revenue, *store_));

  // Then nothing was saved: a restart would replay two events
  EXPECT_EQ(revenue->progress().checkpoint, store_->committed_position());
  EXPECT_EQ(revenue->progress().saves, 0u);

  // And order events still make saves due
  write_orders(1, 6);
  ASSERT_OK(catch_up(*revenue, *store_));
  EXPECT_GE(revenue->progress().saves, 1u);
  ASSERT_OK(revenue->close());
}

TEST_F(ProjectionRunnerTest, SavesAfterTheIntervalWhenIdle) {
  // Given a projection that saves every 20 ms, whatever the count
  projections::ProjectionOptions options = fast_options(*store_, env_);
  options.save_interval = 20ms;
  auto revenue = open_projection<RevenueProjection>(options);

  // When a few events are applied and the log then stays idle
  write_orders(0, 1);
  ASSERT_OK(catch_up(*revenue, *store_));
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (revenue->progress().saved_checkpoint != store_->committed_position() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }

  // Then the state reaches the file without a close
  EXPECT_EQ(revenue->progress().saved_checkpoint, store_->committed_position());
  ASSERT_OK(revenue->close());
}

// Every save of a projection file takes `delay` (at its rename), as a large state would.
class SlowSaveEnv : public ForwardingEnv {
 public:
  SlowSaveEnv(Env* base, std::chrono::milliseconds delay) : ForwardingEnv(base), delay_(delay) {}
  Status rename_file(const std::string& from, const std::string& to) override {
    std::this_thread::sleep_for(delay_);
    return ForwardingEnv::rename_file(from, to);
  }

 private:
  const std::chrono::milliseconds delay_;
};

TEST_F(ProjectionRunnerTest, SavesAreSpacedByTheirOwnDuration) {
  // Given a projection due to save after every order event, whose saves take 10 ms,
  // spaced by 20 times that
  SlowSaveEnv slow_env(&env_, 10ms);
  const projections::ProjectionOptions options = saving_every_event(slow_env, 20);
  const auto started = std::chrono::steady_clock::now();
  auto revenue = open_projection<RevenueProjection>(options);

  // When 30 order events are applied one batch each
  write_orders();
  ASSERT_OK(catch_up(*revenue, *store_));
  const auto elapsed = std::chrono::steady_clock::now() - started;

  // Then it saved at most once per 200 ms (plus the first save), not 30 times
  const uint64_t saves = revenue->progress().saves;
  EXPECT_GE(saves, 1u);
  EXPECT_LE(saves, 2 + static_cast<uint64_t>(elapsed / 200ms)) << "elapsed " << elapsed / 1ms << " ms";

  // And once the spacing has passed, a due save happens again
  std::this_thread::sleep_for(250ms);
  write_orders(10, 1);
  ASSERT_OK(catch_up(*revenue, *store_));
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (revenue->progress().saves == saves && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_GT(revenue->progress().saves, saves);

  // And close saves the rest regardless
  ASSERT_OK(revenue->close());
  EXPECT_EQ(revenue->progress().saved_checkpoint, store_->committed_position());
}

TEST_F(ProjectionRunnerTest, UnderSteadyCommitsSavesAreSpacedByTheRunnersWorkNotTheClock) {
  // Given a projection due to save after every order event, whose saves take 40 ms,
  // spaced by 20 times that (800 ms of the runner's own time), saved once already
  SlowSaveEnv slow_env(&env_, 40ms);
  projections::ProjectionOptions options = saving_every_event(slow_env, 20);
  options.idle_wait = 100ms;  // far longer than the gaps between the commits below
  auto revenue = open_projection<RevenueProjection>(options);
  write_orders(0, 1);
  ASSERT_OK(catch_up(*revenue, *store_));
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (revenue->progress().saves == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  const uint64_t saves = revenue->progress().saves;
  ASSERT_EQ(saves, 1u);

  // When an order is created every few milliseconds for 1.5 s: the clock passes the
  // spacing, but the runner never waits out its idle wait and applies each event in
  // well under a millisecond (sanitizers included)
  const auto load_ends = std::chrono::steady_clock::now() + 1500ms;
  for (int i = 1; std::chrono::steady_clock::now() < load_ends; ++i) {
    script_->create("busy" + std::to_string(i), "c", "EUR", {{"sku", 1, 100}});
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_OK(catch_up(*revenue, *store_));

  // Then no save took the runner's time meanwhile
  EXPECT_EQ(revenue->progress().saves, saves);

  // And once commits stop, its quiet waits count: the due save follows
  while (revenue->progress().saves == saves && std::chrono::steady_clock::now() < load_ends + 10s) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(revenue->progress().saves, saves + 1);
  EXPECT_EQ(revenue->progress().saved_checkpoint, store_->committed_position());
}

TEST_F(ProjectionRunnerTest, AFailedSaveIsReportedAndKeepsThePreviousFile) {
  // Given a projection saved once, on a disk whose next projection fsync fails
  FaultEnv faulty(&env_);
  LogCapture log;
  auto revenue = open_projection<RevenueProjection>(fast_options(*store_, faulty, &log));
  write_orders(0, 1);
  ASSERT_OK(catch_up(*revenue, *store_));
  ASSERT_OK(revenue->save());
  const std::string path = std::string(kDataDir) + "/projections/revenue.proj";
  Result<std::string> saved = env_.contents(path);
  ASSERT_OK(saved);
  faulty.add_rule(FaultRule{FaultOp::kSync, "/projections/"});

  // When more is applied and saved
  write_orders(1, 1);
  ASSERT_OK(catch_up(*revenue, *store_));
  Status failed = revenue->save();

  // Then the save reports the I/O error, is counted and logged, and the old file stays
  EXPECT_EQ(failed.code(), StatusCode::kIoError) << failed.to_string();
  EXPECT_EQ(revenue->progress().saves_failed, 1u);
  EXPECT_GE(log.count(LogLevel::kWarning), 1u);
  EXPECT_EQ(env_.contents(path).value(), *saved);
  // And the next save succeeds
  ASSERT_OK(revenue->save());
  EXPECT_EQ(revenue->progress().saved_checkpoint, store_->committed_position());
  ASSERT_OK(revenue->close());
}

// Order events belong to their order's stream. One of an order type elsewhere (another
// application's, or written around the domain), or one in an order stream naming
// another order, is neither folded in nor able to stop the runner.
TEST_F(ProjectionRunnerTest, OrderEventsOutsideTheirOrdersStreamAreIgnored) {
  auto summaries = open_projection<projections::OrderSummaryProjection>(fast_options(*store_, env_));
  script_->create("o1", "alice");
  const order::EncodedEvent forged = order::encode_event(order::OrderCreated{"x", "mallory", "EUR", {}});
  const auto spec_of = [](const order::EncodedEvent& encoded) {
    EventSpec spec;
    spec.type = encoded.type;
    spec.schema_version = encoded.schema_version;
    spec.payload.assign(reinterpret_cast<const char*>(encoded.payload.data()), encoded.payload.size());
    return spec;
  };
  for (const char* stream : {"misc-1", "order-o1", "order-y"}) {
    const EventBatch batch(std::vector<EventSpec>{spec_of(forged)});
    ASSERT_OK(store_->append(stream, ExpectedVersion::any(), batch.events()));
  }
  const EventBatch garbage = make_event("ItemAdded", "this is not a FlatBuffer");
  ASSERT_OK(store_->append("misc-2", ExpectedVersion::any(), garbage.events()));
  script_->create("o2", "bob");

  ASSERT_OK(summaries->wait_for(store_->committed_position(), 10s));
  EXPECT_OK(summaries->progress().failure);
  EXPECT_OK(summaries->find("o1", projections::ReadConsistency{}));
  EXPECT_OK(summaries->find("o2", projections::ReadConsistency{}));
  const Result<projections::OrderSummary> forged_order = summaries->find("x", projections::ReadConsistency{});
  EXPECT_EQ(forged_order.status().code(), StatusCode::kNotFound) << "an order nobody created through the domain";
  EXPECT_EQ(summaries->progress().order_events_applied, 2u);
  ASSERT_OK(summaries->close());
}

TEST_F(ProjectionRunnerTest, AnOrderEventThatDoesNotDecodeStopsTheRunnerAndIsReported) {
  // Given a projection, and an "OrderCreated" event whose payload is not one
  LogCapture log;
  auto summaries = open_projection<projections::OrderSummaryProjection>(fast_options(*store_, env_, &log));
  script_->create("o1", "alice");
  const GlobalPosition before = store_->committed_position();
  const EventBatch bad = make_event("OrderCreated", "this is not a FlatBuffer");
  ASSERT_OK(store_->append("order-bad", ExpectedVersion::any(), bad.events()));
  script_->create("o2", "bob");

  // When a query waits for the end of the log
  Status waited = summaries->wait_for(store_->committed_position(), 10s);

  // Then it fails at once with the cause, the runner stopped before the bad event,
  // the error was logged, and what came before is still served
  EXPECT_EQ(waited.code(), StatusCode::kCorruption) << waited.to_string();
  const projections::ProjectionProgress progress = summaries->progress();
  EXPECT_EQ(progress.failure.code(), StatusCode::kCorruption);
  EXPECT_EQ(progress.checkpoint, before);
  EXPECT_GE(log.count(LogLevel::kError), 1u);
  EXPECT_OK(summaries->find("o1", projections::ReadConsistency{}));
  ASSERT_OK(summaries->close());
}

TEST_F(ProjectionRunnerTest, CloseStopsPromptlyAndLaterWaitsReportClosed) {
  // Given a running, idle projection
  auto revenue = open_projection<RevenueProjection>(fast_options(*store_, env_));

  // When it is closed, twice
  const auto started = std::chrono::steady_clock::now();
  ASSERT_OK(revenue->close());
  ASSERT_OK(revenue->close());

  // Then the runner stopped within a few idle waits, and waits now report kClosed
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_EQ(revenue->wait_for(GlobalPosition{1}, 1s).code(), StatusCode::kClosed);
  EXPECT_EQ(revenue->rebuild().code(), StatusCode::kClosed);
}

TEST_F(ProjectionRunnerTest, OptionsWithoutAStoreAreRefused) {
  // Given options naming no store
  projections::ProjectionOptions options = fast_options(*store_, env_);
  options.store = nullptr;

  // When a projection is opened with them
  // Then it is refused
  EXPECT_EQ(RevenueProjection::open(options).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace orderlog::testing
