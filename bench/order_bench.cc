// Order-domain benchmarks in-process on the real disk: full order lifecycles per second
// (create, 3 x add item, confirm, ship, deliver: 7 durable commands), the time to
// load an order of 10,000 events with and without snapshots, and the rate at which
// projections rebuild from a log of 1M order events.
//
// Stores live under $ORDERLOG_BENCH_DIR (default /tmp/orderlog-bench), one directory per
// benchmark, wiped first. See docs/performance.md.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "orderlog/check.h"
#include "orderlog/event_store.h"
#include "orderlog/order/service.h"
#include "orderlog/projections.h"
#include "orderlog/snapshot_store.h"

namespace orderlog::order {
namespace {

namespace fs = std::filesystem;

fs::path bench_dir(const std::string& name) {
  const char* root = std::getenv("ORDERLOG_BENCH_DIR");
  const fs::path dir = fs::path(root != nullptr ? root : "/tmp/orderlog-bench") / name;
  fs::remove_all(dir);
  fs::create_directories(dir.parent_path());
  return dir;
}

std::unique_ptr<EventStore> open_store(const fs::path& dir, Durability durability) {
  StoreOptions options;
  options.data_dir = dir.string();
  options.durability = durability;
  options.log = [](LogLevel, std::string_view) {};
  auto store = EventStore::open(options);
  OL_CHECK_MSG(store.is_ok(), store.status().to_string().c_str());
  return std::move(store).value();
}

void execute_or_die(OrderService& service, const Command& command) {
  CommandContext context;
  context.command_id = EventId::generate();
  Result<CommandOutcome> outcome = service.execute(command, context);
  OL_CHECK_MSG(outcome.is_ok(), outcome.status().to_string().c_str());
  OL_CHECK_MSG(std::holds_alternative<CommandResult>(*outcome), "a benchmark command was refused");
}

// Shared by the threads of one run; set up by thread 0.
struct LifecycleFixture {
  std::unique_ptr<EventStore> store;
  std::unique_ptr<OrderService> service;
  std::atomic<uint64_t> next_order{0};
};
LifecycleFixture lifecycle;

void BM_OrderLifecycle(benchmark::State& state) {
  if (state.thread_index() == 0) {
    lifecycle.service.reset();
    lifecycle.store = open_store(bench_dir("order-lifecycle"), Durability::kAlways);
    lifecycle.service = std::make_unique<OrderService>(*lifecycle.store, OrderServiceOptions{});
  }
  for (auto _ : state) {
    const std::string id = "o-" + std::to_string(lifecycle.next_order.fetch_add(1));
    OrderService& service = *lifecycle.service;
    execute_or_die(service, CreateOrder{id, "customer-" + std::to_string(state.thread_index()), "EUR", {}});
    execute_or_die(service, AddItem{id, {"book", 1, 1299}, ""});
    execute_or_die(service, AddItem{id, {"pen", 2, 250}, ""});
    execute_or_die(service, AddItem{id, {"mug", 1, 850}, ""});
    execute_or_die(service, ConfirmOrder{id});
    execute_or_die(service, ShipOrder{id, "DHL", "JD" + id});
    execute_or_die(service, DeliverOrder{id});
  }
  state.SetItemsProcessed(state.iterations());  // orders
  state.counters["commands_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations() * 7), benchmark::Counter::kIsRate);
}

// One order of `kLongOrderEvents` events, written once per process.
constexpr uint64_t kLongOrderEvents = 10'000;
struct LongOrderFixture {
  std::unique_ptr<EventStore> store;
  std::unique_ptr<SnapshotStore> snapshots;
};

LongOrderFixture& long_order() {
  static LongOrderFixture fixture = [] {
    LongOrderFixture f;
    const fs::path dir = bench_dir("order-long");
    f.store = open_store(dir, Durability::kNone);  // setup speed only; loads are what is timed
    SnapshotStoreOptions options;
    options.dir = (dir / "snapshots").string();
    options.log = [](LogLevel, std::string_view) {};
    auto snapshots = SnapshotStore::open(options);
    OL_CHECK(snapshots.is_ok());
    f.snapshots = std::move(snapshots).value();
    OrderServiceOptions service_options;
    service_options.snapshots = f.snapshots.get();
    OrderService writer(*f.store, service_options);
    execute_or_die(writer, CreateOrder{"long", "c", "EUR", {}});
    for (uint64_t i = 1; i < kLongOrderEvents; ++i) {
      execute_or_die(writer, AddItem{"long", {"sku-" + std::to_string(i % 50), 1, 100}, ""});
    }
    OL_CHECK(f.snapshots->flush().is_ok());
    return f;
  }();
  return fixture;
}

void BM_LoadLongOrder(benchmark::State& state) {
  const bool with_snapshots = state.range(0) != 0;
  LongOrderFixture& fixture = long_order();
  OrderServiceOptions options;
  options.cache_orders_max = 0;  // every load reads snapshot + events
  options.snapshots = with_snapshots ? fixture.snapshots.get() : nullptr;
  OrderService service(*fixture.store, options);
  for (auto _ : state) {
    Result<OrderState> loaded = service.load("long");
    OL_CHECK(loaded.is_ok() && loaded->version == kLongOrderEvents);
    benchmark::DoNotOptimize(loaded);
  }
  state.counters["events_in_order"] = static_cast<double>(kLongOrderEvents);
  state.counters["snapshot_loads"] = static_cast<double>(service.stats().snapshot_loads);
}

// Two seconds each: a short run is dominated by opening a fresh store.
// A log of 1M order events (full lifecycles of 4-item orders), written once.
constexpr uint64_t kRebuildOrders = 125'000;  // x 8 events = 1M events
EventStore& rebuild_log() {
  static std::unique_ptr<EventStore> store = [] {
    auto s = open_store(bench_dir("order-rebuild"), Durability::kNone);
    std::vector<EncodedEvent> encoded;
    std::vector<NewEvent> batch;
    for (uint64_t o = 0; o < kRebuildOrders; ++o) {
      const std::string id = "o-" + std::to_string(o);
      const std::vector<Event> events = {
          OrderCreated{id, "c-" + std::to_string(o % 1000), "EUR", {}},
          ItemAdded{id, {"book", 1, 1299}, "EUR"},
          ItemAdded{id, {"pen", 2, 250}, "EUR"},
          ItemAdded{id, {"mug", 1, 850}, "EUR"},
          ItemAdded{id, {"lamp", 1, 4999}, "EUR"},
          OrderConfirmed{id, 7648, "EUR"},
          OrderShipped{id, "DHL", "JD" + id},
          OrderDelivered{id, 7648, "EUR"},
      };
      encoded.clear();
      for (const Event& e : events) encoded.push_back(encode_event(e));
      batch.assign(encoded.size(), NewEvent{});
      for (size_t i = 0; i < encoded.size(); ++i) {
        batch[i].id = EventId::generate();
        batch[i].type = encoded[i].type;
        batch[i].schema_version = encoded[i].schema_version;
        batch[i].payload = encoded[i].payload;
      }
      OL_CHECK(s->append(order_stream_id(id), ExpectedVersion::no_stream(), batch).is_ok());
    }
    return s;
  }();
  return *store;
}

// Replays the whole log into one read model (range 0) or all four at once (range 1).
void BM_ProjectionRebuild(benchmark::State& state) {
  EventStore& store = rebuild_log();
  const uint64_t head = store.committed_position().value;
  for (auto _ : state) {
    state.PauseTiming();
    const fs::path dir = bench_dir("order-rebuild-projections");
    projections::ProjectionOptions options;
    options.store = &store;
    options.data_dir = dir.string();
    options.save_every_events = UINT64_MAX;  // time the replay, not periodic saves
    options.save_interval = std::chrono::hours(1);
    options.log = [](LogLevel, std::string_view) {};
    fs::create_directories(dir);
    state.ResumeTiming();
    if (state.range(0) == 0) {
      auto summaries = projections::OrderSummaryProjection::open(options);
      OL_CHECK(summaries.is_ok());
      OL_CHECK((*summaries)->wait_for(GlobalPosition{head}, std::chrono::minutes(5)).is_ok());
      state.PauseTiming();
      (void)(*summaries)->close();
    } else {
      auto views = projections::ProjectionSet::open(options);
      OL_CHECK(views.is_ok());
      for (projections::Projection* p : {static_cast<projections::Projection*>(views->summaries.get()),
                                         static_cast<projections::Projection*>(views->customer_orders.get()),
                                         static_cast<projections::Projection*>(views->orders_by_status.get()),
                                         static_cast<projections::Projection*>(views->revenue.get())}) {
        OL_CHECK(p->wait_for(GlobalPosition{head}, std::chrono::minutes(5)).is_ok());
      }
      state.PauseTiming();
      (void)views->close();
    }
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * head));  // events replayed
  state.counters["log_events"] = static_cast<double>(head);
}

BENCHMARK(BM_OrderLifecycle)->Threads(1)->Threads(8)->Threads(32)->MinTime(2.0)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LoadLongOrder)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ProjectionRebuild)->Arg(0)->Arg(1)->Iterations(3)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace orderlog::order

BENCHMARK_MAIN();
