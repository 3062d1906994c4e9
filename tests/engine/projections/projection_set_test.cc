// ProjectionSet (projection_set.cc): the four read models closed as one close them
// together, so a shutdown waits for the slowest wait-and-save, not for their sum.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

#include "forwarding_env.h"
#include "projection_test_util.h"

namespace orderlog::testing {
namespace {

using namespace std::chrono_literals;
using projections::Projection;
using projections::ProjectionSet;

// Once armed, holds each projection save's final rename until `expected` of them are
// under way together (or a deadline passes), and records the most seen at once.
class BarrierSaveEnv : public ForwardingEnv {
 public:
  BarrierSaveEnv(Env* base, int expected) : ForwardingEnv(base), expected_(expected) {}
  void arm() {
    std::lock_guard lock(mutex_);
    armed_ = true;
  }
  int most_at_once() const {
    std::lock_guard lock(mutex_);
    return most_;
  }
  Status rename_file(const std::string& from, const std::string& to) override {
    if (to.find("/projections/") != std::string::npos) {
      std::unique_lock lock(mutex_);
      if (armed_) {
        ++inside_;
        most_ = std::max(most_, inside_);
        arrived_.notify_all();
        arrived_.wait_for(lock, 3s, [this] { return most_ >= expected_; });
        --inside_;
      }
    }
    return ForwardingEnv::rename_file(from, to);
  }

 private:
  const int expected_;
  mutable std::mutex mutex_;
  std::condition_variable arrived_;
  bool armed_ = false;
  int inside_ = 0;
  int most_ = 0;
};

TEST(ProjectionSetTest, CloseSavesTheFourProjectionsTogether) {
  // Given the four projections caught up with a log they have not saved yet
  MemEnv env;
  std::unique_ptr<EventStore> store = open_test_store(env);
  ASSERT_NE(store, nullptr);
  BarrierSaveEnv barrier(&env, 4);
  Result<ProjectionSet> set = ProjectionSet::open(fast_options(*store, barrier));
  ASSERT_OK(set);
  OrderScript script(*store);
  script.create("o1", "c1", "EUR", {{"sku", 2, 150}});
  script.confirm("o1");
  const std::vector<Projection*> all = {set->summaries.get(), set->customer_orders.get(),
                                        set->orders_by_status.get(), set->revenue.get()};
  for (Projection* projection : all) ASSERT_OK(catch_up(*projection, *store));

  // When the set is closed, each save held until all four are saving at once
  barrier.arm();
  const auto started = std::chrono::steady_clock::now();
  ASSERT_OK(set->close());
  const auto elapsed = std::chrono::steady_clock::now() - started;

  // Then the four saved together (one after another, each would have waited out the
  // barrier's 3 s alone), and every one is saved at the log's end
  EXPECT_EQ(barrier.most_at_once(), 4);
  EXPECT_LT(elapsed, 3s);
  for (Projection* projection : all) {
    EXPECT_EQ(projection->progress().saved_checkpoint, store->committed_position()) << projection->name();
  }
}

}  // namespace
}  // namespace orderlog::testing
