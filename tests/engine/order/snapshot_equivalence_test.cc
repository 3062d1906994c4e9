// Snapshots are only an optimisation: for long random command sequences, an order
// loads to the same state with snapshots on, off, corrupted, or of an unknown schema
// version (engine/order/service.cc with engine/snapshot).
#include <gtest/gtest.h>

#include <random>

#include "../store/store_test_util.h"
#include "orderlog/order/service.h"
#include "orderlog/snapshot_store.h"

namespace orderlog::order {
namespace {

using orderlog::testing::MemEnv;

constexpr int kOrders = 3;

// Creates each order, then a long random run of item changes, then a random ending.
void run_random_commands(OrderService& service, uint32_t seed) {
  std::mt19937 random(seed);
  for (int o = 0; o < kOrders; ++o) {
    const std::string id = "o-" + std::to_string(o);
    std::vector<Command> commands = {CreateOrder{id, "c-" + std::to_string(o % 2), "EUR", {}}};
    for (int i = 0; i < 120; ++i) {
      const std::string sku = "sku-" + std::to_string(random() % 8);
      if (random() % 3 == 0) {
        commands.push_back(RemoveItem{id, sku});
      } else {
        commands.push_back(AddItem{id, {sku, static_cast<uint32_t>(1 + random() % 4), 100}, ""});
      }
    }
    commands.push_back(AddItem{id, {"final", 1, 999}, ""});
    commands.push_back(ConfirmOrder{id});
    if (random() % 2 == 0) commands.push_back(ShipOrder{id, "DHL", "T" + std::to_string(o)});
    for (const Command& command : commands) {
      CommandContext context;
      context.command_id = EventId::generate();
      ASSERT_TRUE(service.execute(command, context).is_ok());
    }
  }
}

std::vector<OrderState> load_all(OrderService& service) {
  std::vector<OrderState> states;
  for (int o = 0; o < kOrders; ++o) {
    Result<OrderState> state = service.load("o-" + std::to_string(o));
    EXPECT_TRUE(state.is_ok()) << state.status().to_string();
    states.push_back(state.is_ok() ? *state : OrderState{});
  }
  return states;
}

class SnapshotEquivalenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = orderlog::testing::open_store(*env_);
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    store_ = std::move(store).value();
  }

  std::unique_ptr<SnapshotStore> open_snapshots(Env* env) {
    SnapshotStoreOptions options;
    options.dir = "/db/snapshots";
    options.env = env;
    options.segment_bytes_max = 64 * 1024;
    options.log = [](LogLevel, std::string_view) {};
    auto opened = SnapshotStore::open(options);
    EXPECT_TRUE(opened.is_ok()) << opened.status().to_string();
    return opened.is_ok() ? std::move(opened).value() : nullptr;
  }

  OrderServiceOptions with_snapshots(SnapshotStore* snapshots, uint64_t every) {
    OrderServiceOptions options;
    options.snapshots = snapshots;
    options.snapshot_every_events = every;
    options.cache_orders_max = 0;  // force every load through snapshot + events
    options.log = [](LogLevel, std::string_view) {};
    return options;
  }

  std::unique_ptr<MemEnv> env_ = std::make_unique<MemEnv>();
  std::unique_ptr<EventStore> store_;
};

TEST_F(SnapshotEquivalenceTest, StateIsTheSameWithSnapshotsOnOffAndCorrupted) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    store_.reset();
    env_ = std::make_unique<MemEnv>();
    SetUp();
    MemEnv& env = *env_;
    std::unique_ptr<SnapshotStore> snapshots = open_snapshots(&env);
    ASSERT_NE(snapshots, nullptr);
    {
      OrderService writer(*store_, with_snapshots(snapshots.get(), 7));
      run_random_commands(writer, seed);
      ASSERT_GT(writer.stats().snapshots_saved, 10u);
    }
    ASSERT_OK(snapshots->flush());
    ASSERT_GT(snapshots->stats().written, 10u);

    OrderService without(*store_, with_snapshots(nullptr, 0));
    const std::vector<OrderState> replayed = load_all(without);
    EXPECT_EQ(without.stats().snapshot_loads, 0u);

    OrderService with(*store_, with_snapshots(snapshots.get(), 7));
    EXPECT_EQ(load_all(with), replayed) << "seed " << seed;
    EXPECT_EQ(with.stats().snapshot_loads, static_cast<uint64_t>(kOrders));

    // Flip bytes all over the snapshot files and reopen: every damaged snapshot is
    // skipped, the state is still the same.
    ASSERT_OK(snapshots->close());
    snapshots.reset();
    ASSERT_OK_AND_ASSIGN(std::vector<std::string> files, env.list_dir("/db/snapshots"));
    for (const std::string& name : files) {
      ASSERT_OK_AND_ASSIGN(std::string bytes, env.contents("/db/snapshots/" + name));
      for (size_t i = 40; i < bytes.size(); i += 97) bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
      env.set_contents("/db/snapshots/" + name, bytes);
    }
    std::unique_ptr<SnapshotStore> damaged = open_snapshots(&env);
    ASSERT_NE(damaged, nullptr);
    OrderService after_damage(*store_, with_snapshots(damaged.get(), 7));
    EXPECT_EQ(load_all(after_damage), replayed) << "seed " << seed;
  }
}

TEST_F(SnapshotEquivalenceTest, SnapshotOfAnUnknownSchemaVersionIsSkipped) {
  std::unique_ptr<SnapshotStore> snapshots = open_snapshots(env_.get());
  ASSERT_NE(snapshots, nullptr);
  OrderService writer(*store_, with_snapshots(nullptr, 0));
  run_random_commands(writer, 9);
  const std::vector<OrderState> replayed = load_all(writer);
  snapshots->save_async(Snapshot{"order-o-0", replayed[0].version, 99, std::vector<std::byte>(64, std::byte{1})});
  ASSERT_OK(snapshots->flush());
  OrderService reader(*store_, with_snapshots(snapshots.get(), 7));
  EXPECT_EQ(load_all(reader), replayed);
  EXPECT_EQ(reader.stats().snapshots_skipped, 1u);
  EXPECT_EQ(reader.stats().snapshot_loads, 0u);
}

// The log restored from an older backup while snapshots/ is kept: a snapshot of
// events the log does not hold is skipped, so the order loads as the log says and
// takes commands again (it would otherwise expect a version the stream never reaches).
TEST_F(SnapshotEquivalenceTest, SnapshotAheadOfARestoredLogIsSkipped) {
  const auto run = [](OrderService& service, const Command& command) {
    CommandContext context;
    context.command_id = EventId::generate();
    Result<CommandOutcome> outcome = service.execute(command, context);
    ASSERT_TRUE(outcome.is_ok()) << outcome.status().to_string();
    ASSERT_TRUE(std::holds_alternative<CommandResult>(*outcome));
  };
  {
    OrderService early(*store_, with_snapshots(nullptr, 0));
    ASSERT_NO_FATAL_FAILURE(run(early, CreateOrder{"o-r", "c", "EUR", {}}));
    for (int i = 0; i < 3; ++i) ASSERT_NO_FATAL_FAILURE(run(early, AddItem{"o-r", {"a" + std::to_string(i), 1, 100}, ""}));
  }
  std::unique_ptr<MemEnv> backup = env_->crash_copy();  // the log at version 4
  std::unique_ptr<SnapshotStore> snapshots = open_snapshots(env_.get());
  ASSERT_NE(snapshots, nullptr);
  {
    OrderService later(*store_, with_snapshots(snapshots.get(), 2));
    for (int i = 0; i < 6; ++i) ASSERT_NO_FATAL_FAILURE(run(later, AddItem{"o-r", {"b" + std::to_string(i), 1, 100}, ""}));
    ASSERT_GT(later.stats().snapshots_saved, 0u);
  }
  ASSERT_OK(snapshots->close());
  snapshots.reset();
  store_.reset();

  // The backup's log with today's snapshots.
  ASSERT_OK(backup->create_dir("/db/snapshots"));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> files, env_->list_dir("/db/snapshots"));
  for (const std::string& name : files) {
    ASSERT_OK_AND_ASSIGN(std::string bytes, env_->contents("/db/snapshots/" + name));
    backup->set_contents("/db/snapshots/" + name, bytes);
  }
  ASSERT_OK_AND_ASSIGN(store_, orderlog::testing::open_store(*backup));
  // Declared after `backup`, so they go before it (and before the store, reset below).
  struct Closer {
    std::unique_ptr<EventStore>& store;
    ~Closer() { store.reset(); }
  } closer{store_};
  std::unique_ptr<SnapshotStore> kept = open_snapshots(backup.get());
  ASSERT_NE(kept, nullptr);
  OrderService restored(*store_, with_snapshots(kept.get(), 2));
  ASSERT_OK_AND_ASSIGN(OrderState state, restored.load("o-r"));
  EXPECT_EQ(state.version, 4u);
  EXPECT_EQ(state.lines.size(), 3u);
  EXPECT_GE(restored.stats().snapshots_skipped, 1u);
  ASSERT_NO_FATAL_FAILURE(run(restored, AddItem{"o-r", {"c", 1, 100}, ""}));
  ASSERT_OK_AND_ASSIGN(OrderState after, restored.load("o-r"));
  EXPECT_EQ(after.version, 5u);
  ASSERT_OK(kept->close());
}

TEST_F(SnapshotEquivalenceTest, LoadingALongOrderReadsOnlyTheEventsAfterItsSnapshot) {
  std::unique_ptr<SnapshotStore> snapshots = open_snapshots(env_.get());
  ASSERT_NE(snapshots, nullptr);
  OrderService writer(*store_, with_snapshots(snapshots.get(), 50));
  run_random_commands(writer, 4);
  ASSERT_OK(snapshots->flush());
  const std::optional<Snapshot> latest = snapshots->load_latest("order-o-1");
  ASSERT_TRUE(latest.has_value());
  ASSERT_OK_AND_ASSIGN(OrderState state, writer.load("o-1"));
  EXPECT_LE(state.version - latest->version, 50u);
  EXPECT_GE(latest->version, 50u);
}

}  // namespace
}  // namespace orderlog::order
