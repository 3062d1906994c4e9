// `orderlog rebuild`: deletes the derived state of a closed data directory and
// rebuilds it from the log: the indexes always (the store re-indexes a log without
// them at open), the read models with --projections (replayed to the log's end and
// saved), and --snapshots only deleted (orders are replayed from their events, and
// new snapshots are taken as commands run).
#include <fmt/core.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "commands.h"
#include "orderlog/event_store.h"
#include "orderlog/projections.h"

namespace orderlog::tool {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int failed(std::string_view what, const Status& status) {
  fmt::print(stderr, "orderlog rebuild: {}: {}\n", what, status.to_string());
  return kExitError;
}

// Removes `dir` (under the data directory's lock); says what it did.
Status remove_derived(const std::string& dir) {
  std::error_code error;
  const std::uintmax_t removed = std::filesystem::remove_all(dir, error);
  if (error) return Status::io_error("removing " + dir + ": " + error.message());
  if (removed > 0) fmt::print("removed   {} ({} files)\n", dir, removed - 1);
  return Status::ok();
}

Status replay_projections(EventStore& store, const std::string& data_dir) {
  projections::ProjectionOptions options;
  options.store = &store;
  options.data_dir = data_dir;
  options.query_wait_max = std::chrono::hours(24);  // the wait below is the whole replay
  OL_ASSIGN_OR_RETURN(projections::ProjectionSet views, projections::ProjectionSet::open(options));
  const GlobalPosition head = store.committed_position();
  const projections::Projection* all[] = {views.summaries.get(), views.customer_orders.get(),
                                          views.orders_by_status.get(), views.revenue.get()};
  for (const projections::Projection* view : all) {
    const Clock::time_point start = Clock::now();
    OL_RETURN_IF_ERROR(view->wait_for(head, options.query_wait_max));
    fmt::print("replayed  {} to position {} ({} order events, {:.2f} s)\n", view->name(), head.value,
               view->progress().order_events_applied, seconds_since(start));
  }
  return views.close();
}

}  // namespace

int run_rebuild(const RebuildArgs& args) {
  const std::string& dir = args.data_dir;
  Env* env = default_env();
  if (!env->file_exists(dir + "/log")) {
    return failed("nothing to rebuild from", Status::not_found(dir + "/log is missing"));
  }
  {
    // The lock keeps orderlogd from opening the directory while its derived state is
    // being removed; the store below takes it again. Should orderlogd start in
    // between, that open fails (Busy) and orderlogd rebuilds the indexes itself.
    Result<std::unique_ptr<FileLock>> lock = env->lock_file(dir + "/LOCK");
    if (!lock.is_ok()) {
      return failed("the directory must not be open elsewhere (stop orderlogd first)", lock.status());
    }
    std::vector<std::string> derived = {dir + "/index"};
    if (args.projections) derived.push_back(dir + "/projections");
    if (args.snapshots) derived.push_back(dir + "/snapshots");
    for (const std::string& path : derived) {
      if (Status removed = remove_derived(path); !removed.is_ok()) return failed("cannot start", removed);
    }
  }
  const Clock::time_point start = Clock::now();
  StoreOptions options;
  options.data_dir = dir;
  options.env = env;
  if (args.batch_bytes_max != 0) options.batch_bytes_max = args.batch_bytes_max;
  Result<std::unique_ptr<EventStore>> store = EventStore::open(options);
  if (!store.is_ok()) return failed("opening the store", store.status());
  fmt::print("indexed   {} events ({:.2f} s)\n", (*store)->committed_position().value, seconds_since(start));
  if (args.projections) {
    if (Status replayed = replay_projections(**store, dir); !replayed.is_ok()) {
      return failed("replaying the read models", replayed);
    }
  }
  if (Status closed = (*store)->close(); !closed.is_ok()) return failed("closing the store", closed);
  return kExitOk;
}

}  // namespace orderlog::tool
