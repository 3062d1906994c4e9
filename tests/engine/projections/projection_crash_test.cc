// Power cuts cannot make a projection count twice or lose an event: state and
// checkpoint are saved together, so whatever file survives a crash, resuming from it
// gives exactly the state of a fresh replay of the surviving log. Crashes are taken
// with MemEnv::crash_copy at every step of a save (before the temporary is written,
// before its fsync, around the rename, after the directory sync) and at random
// moments while projections and appends run.
#include <gtest/gtest.h>

#include "forwarding_env.h"

#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "projection_test_util.h"

namespace orderlog::testing {
namespace {

using projections::Projection;
using projections::ProjectionSet;

const std::vector<std::string> kProjectionNames = {"order_summary", "customer_orders", "orders_by_status", "revenue"};

// Forwards to a MemEnv and, at the Nth step of a projection save, keeps the disk as a
// power cut at that moment would leave it.
class CrashPointEnv final : public ForwardingEnv {
 public:
  CrashPointEnv(MemEnv* base, int crash_at) : ForwardingEnv(base), base_(base), crash_at_(crash_at) {}

  Result<std::unique_ptr<File>> open_file(const std::string& path, OpenMode mode) override {
    const bool save = is_projection(path) && mode == OpenMode::kCreate;
    if (save) point();
    OL_ASSIGN_OR_RETURN(std::unique_ptr<File> file, base_->open_file(path, mode));
    if (!save) return file;
    return std::unique_ptr<File>(std::make_unique<SyncPointFile>(std::move(file), this));
  }
  Status rename_file(const std::string& from, const std::string& to) override {
    const bool save = is_projection(to);
    if (save) point();
    Status status = base_->rename_file(from, to);
    if (save) point();
    return status;
  }
  Status sync_dir(const std::string& dir) override {
    Status status = base_->sync_dir(dir);
    if (is_projection(dir + "/")) point();
    return status;
  }
  // The disk at the crash point; nullptr if the saves never got that far.
  std::unique_ptr<MemEnv> take_crashed() {
    std::lock_guard lock(mutex_);
    return std::move(crashed_);
  }

 private:
  // Adds a crash point before every fsync of a save's temporary file.
  class SyncPointFile final : public ForwardingFile {
   public:
    SyncPointFile(std::unique_ptr<File> file, CrashPointEnv* env) : ForwardingFile(std::move(file)), env_(env) {}
    Status sync_data() override {
      env_->point();
      return ForwardingFile::sync_data();
    }

   private:
    CrashPointEnv* env_;
  };

  static bool is_projection(const std::string& path) { return path.find("/projections/") != std::string::npos; }
  void point() {
    std::lock_guard lock(mutex_);
    if (++points_ == crash_at_) crashed_ = base_->crash_copy();
  }

  MemEnv* base_;
  const int crash_at_;
  std::mutex mutex_;
  int points_ = 0;
  std::unique_ptr<MemEnv> crashed_;
};

// Orders written while projections run: creations, confirmations, cancellations.
void write_orders(EventStore& store, int count) {
  OrderScript script(store);
  for (int i = 0; i < count; ++i) {
    const std::string id = "o" + std::to_string(i);
    script.create(id, "c" + std::to_string(i % 3), "EUR", {{"sku", 1, 100 + i}});
    script.confirm(id);
    if (i % 3 == 0) script.cancel(id, "crash test");
  }
}

projections::ProjectionOptions saving_often(EventStore& store, Env& env, const std::string& data_dir) {
  projections::ProjectionOptions options = fast_options(store, env);
  options.data_dir = data_dir;
  options.batch_events_max = 2;
  options.save_every_events = 3;
  options.idle_wait = 2ms;  // closes often: each waits for its runner's idle wait
  return options;
}

// Resumes the four projections on a crashed disk, and builds them afresh elsewhere on
// the same disk; the two must agree byte for byte.
void expect_resume_equals_replay(MemEnv& crashed, const std::string& context) {
  std::unique_ptr<EventStore> store = open_test_store(crashed);
  ASSERT_NE(store, nullptr) << context;
  if (store->committed_position().value == 0) {
    // Cut before the first commit: nothing to resume. A projection saves only what it
    // applied from the durable log, so no file can be there either.
    for (const std::string& name : kProjectionNames) {
      EXPECT_FALSE(crashed.file_exists("/db/projections/" + name + ".proj")) << name << " at " << context;
    }
    return;
  }
  ASSERT_OK(crashed.create_dir("/fresh"));
  for (const char* data_dir : {"/db", "/fresh"}) {
    Result<ProjectionSet> set = ProjectionSet::open(saving_often(*store, crashed, data_dir));
    ASSERT_OK(set);
    for (Projection* projection : {static_cast<Projection*>(set->summaries.get()),
                                   static_cast<Projection*>(set->customer_orders.get()),
                                   static_cast<Projection*>(set->orders_by_status.get()),
                                   static_cast<Projection*>(set->revenue.get())}) {
      ASSERT_OK(catch_up(*projection, *store));
    }
    ASSERT_OK(set->close());
  }
  for (const std::string& name : kProjectionNames) {
    Result<std::string> resumed = crashed.contents("/db/projections/" + name + ".proj");
    Result<std::string> replayed = crashed.contents("/fresh/projections/" + name + ".proj");
    ASSERT_OK(resumed);
    ASSERT_OK(replayed);
    EXPECT_TRUE(*resumed == *replayed) << name << " differs after a crash at " << context;
  }
  // And independently of any projection: every creation in the log is counted once.
  Result<ProjectionSet> set = ProjectionSet::open(saving_often(*store, crashed, "/db"));
  ASSERT_OK(set);
  ASSERT_OK(catch_up(*set->orders_by_status, *store));
  Result<uint64_t> pending = set->orders_by_status->count_in(OrderStatus::kPending, {});
  Result<uint64_t> confirmed = set->orders_by_status->count_in(OrderStatus::kConfirmed, {});
  Result<uint64_t> cancelled = set->orders_by_status->count_in(OrderStatus::kCancelled, {});
  ASSERT_OK(pending);
  ASSERT_OK(confirmed);
  ASSERT_OK(cancelled);
  EXPECT_EQ(*pending + *confirmed + *cancelled, read_type_events(*store, "OrderCreated", 64).size()) << context;
  ASSERT_OK(set->close());
}

TEST(ProjectionCrash, ACrashAtAnyStepOfASaveNeitherLosesNorRepeatsEvents) {
  // A save has 5 crash points; a stride of 6 visits each of them in turn, spread over
  // the saves of the whole run.
  constexpr int kSaveSteps = 5;
  constexpr int kStride = kSaveSteps + 1;
  int reached = 0;
  for (int crash_at = 1; crash_at <= 20 * kStride; crash_at += kStride) {
    // Given projections saving every 3 positions while orders are written, over an
    // Env that keeps the disk as it is at the Nth step of a save
    MemEnv disk;
    CrashPointEnv env(&disk, crash_at);
    std::unique_ptr<EventStore> store = open_test_store(disk);
    ASSERT_NE(store, nullptr);
    Result<ProjectionSet> set = ProjectionSet::open(saving_often(*store, env, kDataDir));
    ASSERT_OK(set);
    write_orders(*store, 12);
    ASSERT_OK(catch_up(*set->revenue, *store));
    ASSERT_OK(set->close());
    ASSERT_OK(store->close());
    std::unique_ptr<MemEnv> crashed = env.take_crashed();
    if (crashed == nullptr) continue;
    ++reached;

    // When the projections resume on the disk the crash left
    // Then they end exactly where a replay from scratch ends
    expect_resume_equals_replay(*crashed, "save step " + std::to_string(crash_at));
  }
  EXPECT_GE(reached, 12) << "too few crash points were reached to mean much";
}

TEST(ProjectionCrash, PowerCutsWhileRunningNeitherLoseNorRepeatEvents) {
  // Given the four projections saving often while a writer appends orders
  MemEnv disk;
  std::unique_ptr<EventStore> store = open_test_store(disk);
  ASSERT_NE(store, nullptr);
  Result<ProjectionSet> set = ProjectionSet::open(saving_often(*store, disk, kDataDir));
  ASSERT_OK(set);
  std::thread writer([&] { write_orders(*store, 60); });

  // When the power is cut at random moments
  std::mt19937 random(20240229);
  std::vector<std::unique_ptr<MemEnv>> cuts;
  for (int cut = 0; cut < 6; ++cut) {
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 4000));
    cuts.push_back(disk.crash_copy());
  }
  writer.join();
  ASSERT_OK(set->close());
  ASSERT_OK(store->close());

  // Then resuming on each cut disk ends where a replay of its log ends
  for (size_t cut = 0; cut < cuts.size(); ++cut) {
    expect_resume_equals_replay(*cuts[cut], "power cut " + std::to_string(cut));
  }
}

}  // namespace
}  // namespace orderlog::testing
