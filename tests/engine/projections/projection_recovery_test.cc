// Projections are derived data: rebuilt from scratch they equal what was built
// incrementally, byte for byte, and a projection file that is corrupt, of an unknown
// version, of another log or ahead of the log is logged and rebuilt at open.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "projection_test_util.h"
#include "projections/projection_file.h"
#include "projections/read_model.h"

namespace orderlog::testing {
namespace {

using projections::Projection;
using projections::ProjectionSet;
using projections::RevenueProjection;

constexpr uint64_t kStart = 1'709'164'800'000'000'000;  // 2024-02-29T00:00:00Z
constexpr uint64_t kMinuteNs = 60'000'000'000;
constexpr char kRevenueFile[] = "/db/projections/revenue.proj";
const std::vector<std::string> kProjectionNames = {"order_summary", "customer_orders", "orders_by_status", "revenue"};

std::vector<Projection*> all_of(ProjectionSet& set) {
  return {set.summaries.get(), set.customer_orders.get(), set.orders_by_status.get(), set.revenue.get()};
}

class ProjectionRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.set_clock_ns(kStart);
    store_ = open_test_store(env_);
    ASSERT_NE(store_, nullptr);
    script_ = std::make_unique<OrderScript>(*store_);
  }
  // Orders in two currencies over a few days, through every kind of step.
  void write_varied_orders(OrderScript& script, MemEnv& env, int count, int64_t price) {
    for (int i = 0; i < count; ++i) {
      env.set_clock_ns(kStart + static_cast<uint64_t>(i) * 97 * kMinuteNs);
      const std::string id = "o" + std::to_string(i);
      script.create(id, "c" + std::to_string(i % 5), i % 4 == 0 ? "USD" : "EUR", {{"a", 1, price + i}});
      if (i % 2 == 0) script.add(id, "b", 2, 30);
      if (i % 6 == 0) script.remove(id, "a");
      if (i % 5 == 4) continue;  // stays pending
      script.confirm(id);
      if (i % 7 == 0) {
        script.cancel(id, "reason " + std::to_string(i));
      } else if (i % 2 == 1) {
        script.ship(id, "DHL", "T" + std::to_string(i));
        if (i % 3 != 0) script.deliver(id);
      }
    }
  }
  std::map<std::string, std::string> projection_files(const std::string& data_dir) {
    std::map<std::string, std::string> files;
    for (const std::string& name : kProjectionNames) {
      Result<std::string> bytes = env_.contents(data_dir + "/projections/" + name + ".proj");
      EXPECT_OK(bytes);
      files[name] = bytes.is_ok() ? *bytes : "";
    }
    return files;
  }
  // Builds the revenue projection over the log and closes it, leaving its file.
  void build_and_close_revenue() {
    auto revenue = open_projection<RevenueProjection>(fast_options(*store_, env_));
    ASSERT_OK(catch_up(*revenue, *store_));
    ASSERT_OK(revenue->close());
  }
  projections::RevenueTotals eur_month(RevenueProjection& revenue) {
    projections::RevenueQuery query;
    query.period = projections::Period::kMonth;
    query.currency = "EUR";
    query.range = TimeRange{0, UINT64_MAX};
    query.consistency = at(store_->committed_position());
    Result<projections::RevenuePage> page = revenue.revenue(query);
    EXPECT_OK(page);
    projections::RevenueTotals sum;
    for (const auto& bucket : page.is_ok() ? page->buckets : std::vector<projections::RevenueBucket>{}) {
      sum.confirmed_minor += bucket.totals.confirmed_minor;
      sum.orders_created += bucket.totals.orders_created;
    }
    return sum;
  }
  // Reopens revenue over a replaced file and checks it was rebuilt with the right totals.
  void expect_rebuilt_at_open(const std::string& why) {
    LogCapture log;
    auto revenue = open_projection<RevenueProjection>(fast_options(*store_, env_, &log));
    ASSERT_NE(revenue, nullptr);
    EXPECT_TRUE(revenue->progress().rebuilt_at_open) << why;
    EXPECT_GE(log.count(LogLevel::kWarning), 1u) << why;
    EXPECT_EQ(eur_month(*revenue), expected_eur_) << why;
    ASSERT_OK(revenue->close());
    EXPECT_OK(projections::read_projection_file(&env_, kRevenueFile));  // replaced by a good one
  }

  MemEnv env_;
  std::unique_ptr<EventStore> store_;
  std::unique_ptr<OrderScript> script_;
  projections::RevenueTotals expected_eur_;
};

TEST_F(ProjectionRecoveryTest, RebuiltStateEqualsTheIncrementallyBuiltState) {
  // Given all four projections running while orders are written, reading in small
  // batches and saving every few positions
  projections::ProjectionOptions options = fast_options(*store_, env_);
  options.batch_events_max = 3;
  options.save_every_events = 5;
  Result<ProjectionSet> incremental = ProjectionSet::open(options);
  ASSERT_OK(incremental);
  write_varied_orders(*script_, env_, 40, 100);
  for (Projection* projection : all_of(*incremental)) ASSERT_OK(catch_up(*projection, *store_));
  ASSERT_OK(incremental->close());
  const std::map<std::string, std::string> built = projection_files(kDataDir);

  // When each is reopened and rebuilt from scratch, and a fresh set is built elsewhere
  Result<ProjectionSet> rebuilt = ProjectionSet::open(options);
  ASSERT_OK(rebuilt);
  for (Projection* projection : all_of(*rebuilt)) {
    ASSERT_OK(projection->rebuild());
    ASSERT_OK(catch_up(*projection, *store_));
  }
  ASSERT_OK(rebuilt->close());
  options.data_dir = "/fresh";
  ASSERT_OK(env_.create_dir("/fresh"));
  Result<ProjectionSet> fresh = ProjectionSet::open(options);
  ASSERT_OK(fresh);
  for (Projection* projection : all_of(*fresh)) ASSERT_OK(catch_up(*projection, *store_));
  ASSERT_OK(fresh->close());

  // Then every projection file is the same, byte for byte
  EXPECT_EQ(projection_files(kDataDir), built);
  EXPECT_EQ(projection_files("/fresh"), built);
}

TEST_F(ProjectionRecoveryTest, RebuildWhileOrdersAreWrittenEndsAtTheSameState) {
  // Given a running revenue projection and a writer thread
  auto revenue = open_projection<RevenueProjection>(fast_options(*store_, env_));
  OrderScript second(*store_);
  std::thread writer([&] {
    for (int i = 0; i < 40; ++i) second.create("w" + std::to_string(i), "alice", "EUR", {{"a", 1, 10}});
  });

  // When it is rebuilt twice while the writer runs
  ASSERT_OK(revenue->rebuild());
  std::this_thread::sleep_for(2ms);
  ASSERT_OK(revenue->rebuild());
  writer.join();

  // Then once caught up it has every order exactly once
  EXPECT_EQ(eur_month(*revenue).orders_created, 40u);
  ASSERT_OK(revenue->close());
}

TEST_F(ProjectionRecoveryTest, ACorruptFileIsLoggedAndRebuilt) {
  // Given a saved revenue projection whose file then has one byte flipped
  write_varied_orders(*script_, env_, 12, 100);
  build_and_close_revenue();
  {
    auto revenue = open_projection<RevenueProjection>(fast_options(*store_, env_));
    expected_eur_ = eur_month(*revenue);
    ASSERT_OK(revenue->close());
  }
  Result<std::string> bytes = env_.contents(kRevenueFile);
  ASSERT_OK(bytes);
  std::string bad = *bytes;
  bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 1);
  env_.set_contents(kRevenueFile, bad);

  // When it is reopened
  // Then the corruption is logged and the state rebuilt from the log
  expect_rebuilt_at_open("flipped byte");
}

TEST_F(ProjectionRecoveryTest, FilesOfAnUnknownVersionOrUndecodableStateAreRebuilt) {
  // Given a log of orders with known EUR totals
  write_varied_orders(*script_, env_, 12, 100);
  build_and_close_revenue();
  {
    auto revenue = open_projection<RevenueProjection>(fast_options(*store_, env_));
    expected_eur_ = eur_month(*revenue);
    ASSERT_OK(revenue->close());
  }
  const auto replace_file = [&](uint8_t model_version, uint64_t checkpoint, const projections::EncodeBody& body) {
    projections::FileHeader header;
    header.model_id = static_cast<uint8_t>(projections::ModelId::kRevenue);
    header.model_version = model_version;
    header.checkpoint = GlobalPosition{checkpoint};
    ASSERT_OK(projections::write_projection_file(&env_, "/db/projections", "revenue", header, body));
  };
  const auto empty_state = [](projections::BodyEncoder& out) { out.u64(0); };

  // When the file is of an unknown state version, has a state that does not decode,
  // or claims a checkpoint past the end of the log
  // Then each time it is logged and rebuilt
  replace_file(99, 0, empty_state);
  expect_rebuilt_at_open("unknown state version");
  replace_file(1, 0, [](projections::BodyEncoder& out) {
    out.u64(1);
    out.u8(7);  // no such period
  });
  expect_rebuilt_at_open("undecodable state");
  replace_file(1, store_->committed_position().value + 10, empty_state);
  expect_rebuilt_at_open("checkpoint past the log");
}

TEST_F(ProjectionRecoveryTest, AFileOfAnotherLogIsRebuilt) {
  // Given a projection file built over another log of the same length
  MemEnv other_env;
  other_env.set_clock_ns(kStart);
  std::unique_ptr<EventStore> other_store = open_test_store(other_env);
  OrderScript other_script(*other_store);
  write_varied_orders(other_script, other_env, 12, 5000);
  {
    auto other = open_projection<RevenueProjection>(fast_options(*other_store, other_env));
    ASSERT_OK(catch_up(*other, *other_store));
    ASSERT_OK(other->close());
  }
  write_varied_orders(*script_, env_, 12, 100);
  ASSERT_EQ(other_store->committed_position(), store_->committed_position());
  build_and_close_revenue();
  {
    auto revenue = open_projection<RevenueProjection>(fast_options(*store_, env_));
    expected_eur_ = eur_month(*revenue);
    ASSERT_OK(revenue->close());
  }
  Result<std::string> foreign = other_env.contents(kRevenueFile);
  ASSERT_OK(foreign);
  env_.set_contents(kRevenueFile, *foreign);

  // When this log's projection opens with it
  // Then it sees the checkpoint event differs, logs it and rebuilds
  expect_rebuilt_at_open("file of another log");
}

TEST_F(ProjectionRecoveryTest, ALeftoverTemporaryFileIsRemovedAtOpen) {
  // Given a temporary file a crashed save left behind
  env_.set_contents("/db/projections/revenue.proj.tmp", "half a save");

  // When the projection opens
  auto revenue = open_projection<RevenueProjection>(fast_options(*store_, env_));

  // Then it is gone
  EXPECT_FALSE(env_.file_exists("/db/projections/revenue.proj.tmp"));
  ASSERT_OK(revenue->close());
}

}  // namespace
}  // namespace orderlog::testing
