// ProjectionRunner: drives one read model over the global log. It owns everything the
// read models share: the checkpoint, the thread that reads the log in batches and
// waits for commits when caught up, the save policy (every N order events, every T ms,
// spaced by the saves' own cost, at close), loading the file at open (rebuilding when it is unusable), progress and
// lag, and the waits of read-your-writes queries.
//
// Exactly-once folding rests on the gapless log: a batch is applied only from the
// position right after the checkpoint, and everything at or below the checkpoint is
// skipped. Because state and checkpoint are saved in one file, a restart resumes
// from a checkpoint that matches the state it comes with.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "orderlog/event.h"
#include "orderlog/event_store.h"
#include "orderlog/order/codec.h"
#include "orderlog/projections.h"
#include "orderlog/status.h"
#include "projections/read_model.h"

namespace orderlog::projections {

// Checks options and fills the defaults (env, log sink). kInvalidArgument when unusable.
Result<ProjectionOptions> checked_options(const ProjectionOptions& options);

// Steps in a row without an order event before the runner dozes (ProjectionOptions::doze_interval).
inline constexpr int kEmptyStepsBeforeDozing = 8;

class ProjectionRunner {
 public:
  // REQUIRES: `model` outlives the runner; `options` passed checked_options().
  ProjectionRunner(std::string name, ReadModel* model, const ProjectionOptions& options);
  ~ProjectionRunner();
  ProjectionRunner(const ProjectionRunner&) = delete;
  ProjectionRunner& operator=(const ProjectionRunner&) = delete;

  // Creates the directory and loads the file; an unusable file is logged and the
  // model starts empty at checkpoint 0. Fails only when the directory is unusable.
  Status load();
  // Starts the thread. REQUIRES: load() succeeded; not started.
  void start();

  // Folds a batch read from the log (ascending positions) into the model: positions
  // at or below the checkpoint are skipped, the rest must follow it without a gap.
  // kCorruption for an order event that does not decode; the events before it are
  // applied and the checkpoint is left just before it.
  Status apply_batch(std::span<const EventView> events);
  // The same for a filtered scan (EventStore::read_all_of_types): `order_events` are
  // the order events among the positions up to `scanned_to`, ascending; the events in
  // between were skipped unread. The checkpoint moves to `scanned_to`.
  Status apply_scanned(std::span<const EventView> order_events, uint64_t scanned_to);

  std::string_view name() const { return name_; }
  ProjectionProgress progress() const;
  Status wait_for(GlobalPosition position, std::chrono::milliseconds timeout) const;
  Status save();
  Status rebuild();
  Status close();

  // Held (shared) while a query reads the model.
  std::shared_lock<std::shared_mutex> read_lock() const { return std::shared_lock(state_mutex_); }

 private:
  struct Decoded {
    const EventView* stored;
    order::Event event;
  };

  void run();
  // One read-apply-save step; false when the runner must stop.
  bool step();
  void save_if_due();
  // Waits for the next commit, or dozes while commits keep coming without order events.
  // `advanced`: the step moved the checkpoint.
  void wait_for_more(bool found_order_events, bool advanced);
  void fail(const Status& status);
  void set_checkpoint(GlobalPosition position, const EventId& event_id);
  // Why the loaded file cannot be used, or ok().
  Status check_loaded(const LoadedFile& file) const;
  Status decode_loaded(const LoadedFile& file);
  void stop_thread();
  void log(LogLevel level, const std::string& line) const;

  const std::string name_;
  ReadModel* const model_;
  const ProjectionOptions options_;
  const std::string dir_;
  const order::UpcasterRegistry upcasters_;

  // Held exclusively to change the model, shared to read it.
  mutable std::shared_mutex state_mutex_;
  EventId checkpoint_event_id_;  // guarded by state_mutex_

  // Guards the checkpoint's changes (for the waiters), failure_ and closed_.
  mutable std::mutex progress_mutex_;
  mutable std::condition_variable progress_changed_;
  // A query waiting for a position, or close(), wakes a dozing runner (see wait_for_more()).
  mutable std::condition_variable nudge_;
  mutable bool nudged_ = false;
  int empty_steps_ = 0;  // runner thread only: steps in a row that found no order event
  std::atomic<uint64_t> checkpoint_{0};
  Status failure_;
  bool closed_ = false;

  // One save at a time, so an older state can never replace a newer one.
  std::mutex save_mutex_;
  std::atomic<uint64_t> saved_checkpoint_{0};
  std::chrono::steady_clock::time_point last_save_attempt_;  // runner thread only
  std::chrono::steady_clock::duration last_save_duration_{};  // runner thread only
  // The runner's time since the last save attempt that spaces saves: steps, and waits
  // that ended without a commit (runner thread only; see save_if_due()).
  std::chrono::steady_clock::duration spacing_credit_{};
  bool last_save_failed_ = false;                            // runner thread only

  // Serialises start, rebuild and close.
  std::mutex control_mutex_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};

  std::atomic<uint64_t> order_events_applied_{0};
  std::atomic<uint64_t> applied_at_save_{0};  // order_events_applied_ that the last save covered
  std::atomic<uint64_t> other_events_ignored_{0};
  std::atomic<uint64_t> saves_{0};
  std::atomic<uint64_t> saves_failed_{0};
  std::atomic<bool> rebuilt_at_open_{false};
};

}  // namespace orderlog::projections
