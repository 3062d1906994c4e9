// Writer: the single thread that appends to the log. It drains every queued append
// into one batch (group commit), decides each against the stream table (expected
// version, idempotent retry), assigns gapless positions, versions and a monotonic
// timestamp, writes the batch with one write and one fdatasync (both on its own thread
// when the batch is small; otherwise started asynchronously, through io_uring where the
// kernel allows, while it decides the next batch), and only then publishes the
// committed position and acknowledges the batch.
//
// A failed write or fsync is fatal: the writer keeps the error, fails everything
// pending and everything after, and the store is read-only until reopened.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "index/log_index.h"
#include "orderlog/event_store.h"
#include "storage/cache_trimmer.h"
#include "storage/segment.h"
#include "storage/segment_preparer.h"
#include "storage/unit_encoder.h"

namespace orderlog::store {

struct AppendRequest {
  storage::EncodedUnit unit;
  AppendCallback done;
  std::optional<Result<AppendResult>> outcome;  // set by the writer
};

struct WriterOptions {
  Env* env = nullptr;
  Durability durability = Durability::kAlways;
  uint64_t segment_bytes_max = 0;
  size_t queue_appends_max = 0;
  size_t batch_bytes_max = 0;
  uint64_t checkpoint_every_bytes = 0;  // see StoreOptions
  uint64_t prefill_below_commit_bytes = 0;  // StoreOptions::segment_prefill_below_commit_bytes
  uint64_t page_cache_window_bytes = 0;     // StoreOptions::page_cache_window_bytes
  uint64_t sync_on_writer_below_bytes = 0;  // StoreOptions::sync_on_writer_below_bytes
  std::function<void(LogLevel, const std::string&)> log;
  CommitObserver commit_observer;  // see StoreOptions
};

// Requests whose idempotency-window slots add_pending() prefetches before deciding them.
inline constexpr size_t kPrefetchRequests = 256;
// When a write completes and the batch formed meanwhile holds less than this, the
// writer acknowledges the completed batch before it seals and submits the next one:
// appenders that answer an acknowledgement with their next append at once (callbacks
// of append_async) then join that next write instead of waiting for the one after.
// Small writes cost the device about the same as smaller ones, so fuller groups win
// (64 such appenders: ~64 events per fdatasync instead of two alternating halves of
// ~32); larger ones go out first, as the device is then the bottleneck.
inline constexpr uint64_t kAcknowledgeFirstBelowBytes = 256 * 1024;
// How long the writer watches for new work before sleeping (see spin_for_work()).
inline constexpr std::chrono::microseconds kSpinBeforeSleep{50};

struct WriterState {
  uint64_t active_offset = 0;  // in segments->last()
  uint64_t last_timestamp_ns = 0;
};

class Writer {
 public:
  // REQUIRES: recovery done; `segments` holds at least one segment. The pointers
  // must outlive the writer.
  Writer(const WriterOptions& options, storage::SegmentList* segments, index::LogIndex* index,
         storage::SegmentPreparer* preparer, WriterState state);
  ~Writer();  // stop()s

  // Queues an append. When the queue is full: waits if `wait_for_room`, otherwise
  // completes the request with kBusy. After stop(): completes it with kClosed.
  void enqueue(std::unique_ptr<AppendRequest> request, bool wait_for_room);

  uint64_t committed_position() const { return committed_.load(std::memory_order_acquire); }
  bool wait_for_position(uint64_t position, std::chrono::milliseconds timeout) const;
  Status status() const;
  StoreStats stats() const;

  // Runs an index checkpoint on the writer thread between batches and waits for it.
  Status checkpoint();
  // Drains the queue, checkpoints (if healthy) and joins the thread. Idempotent.
  Status stop();

 private:
  struct Batch;

  // What the queue's control flags said when the writer last took the queue.
  struct Controls {
    bool stopping = false;
    bool checkpoint_wanted = false;
    uint64_t checkpoint_ticket = 0;
  };

  void run();
  void spin_for_work() const;
  // Wakes the writer out of form_while_in_flight()'s poll.
  void poke_writer() const;
  // Moves every queued request to `pending` and reads the control flags.
  Controls take_queue(std::deque<std::unique_ptr<AppendRequest>>& pending);
  void form_while_in_flight(const Batch& in_flight, std::deque<std::unique_ptr<AppendRequest>>& pending,
                            Batch** forming, Batch* slot);
  // Resets `batch` to start at the active segment's end (unless the writer failed).
  void begin_batch(Batch& batch);
  // Decides `pending` requests into `batch` until it is full, the segment is (then,
  // when `may_roll` and the batch is still empty, rolls to a new segment), or none
  // are left. False when it stopped with requests left. Rolling REQUIRES no write in
  // flight. Once the writer failed, fails every pending request instead.
  bool add_pending(std::deque<std::unique_ptr<AppendRequest>>& pending, Batch& batch, bool may_roll);
  // Flushes the batch's index entries, advances the writer's state past the batch and
  // pads it for the write.
  void seal_batch(Batch& batch);
  // Points `batch` at the active segment's end, with the tail page as its head.
  void start_batch(Batch& batch);
  // Whether submit_batch() writes and syncs the sealed `batch` itself
  // (StoreOptions::sync_on_writer_below_bytes) instead of starting it.
  bool syncs_on_writer(const Batch& batch) const;
  void submit_batch(Batch& batch);
  // Waits for the batch's write + fdatasync and publishes it, or poisons the writer.
  void finish_batch(Batch& batch);
  void complete_batch(Batch& batch);
  // Drops the log's pages that a durable batch left behind the page-cache window.
  void trim_cache(const Batch& batch);
  // Decides one request and, when accepted, places its unit in the batch.
  void place(AppendRequest& request, Batch& batch);
  std::optional<Result<AppendResult>> deduplicate(const storage::EncodedUnit& unit) const;
  Status check_versions(const storage::EncodedUnit& unit, std::vector<index::StreamState>* states) const;
  Status roll_segment();
  void poison(const Status& cause);
  Status do_checkpoint();
  void complete(std::unique_ptr<AppendRequest> request);

  WriterOptions options_;
  storage::SegmentList* segments_;
  index::LogIndex* index_;
  storage::SegmentPreparer* preparer_;
  WriterState state_;
  std::unique_ptr<Batch> batches_[2];  // one in flight while the next forms
  // The active segment's bytes from its last write-aligned offset to its end: what
  // the next batch writes again before its own units (empty for buffered writes).
  std::vector<std::byte> tail_page_;
  bool next_segment_requested_ = false;
  // Bytes per write, averaged over the last ~8 batches: decides whether the next
  // segment is zero-filled (StoreOptions::segment_prefill_below_commit_bytes).
  uint64_t batch_bytes_average_ = 0;
  uint64_t bytes_since_checkpoint_ = 0;  // log bytes made durable since the last checkpoint
  storage::CacheTrimmer cache_trimmer_;

  // The queue and control flags.
  mutable std::mutex mutex_;
  std::condition_variable queue_changed_;  // writer waits for work
  std::condition_variable room_;           // appenders wait for room
  std::condition_variable checkpoint_done_;
  std::deque<std::unique_ptr<AppendRequest>> queue_;
  std::atomic<size_t> queued_{0};  // queue_.size(), readable without the lock
  bool stopping_ = false;
  bool stopped_ = false;
  bool writer_polling_ = false;  // in form_while_in_flight()'s poll: enqueue() pokes wake_fd_
  int wake_fd_ = -1;             // eventfd; -1 if the kernel refused one
  uint64_t checkpoints_requested_ = 0;
  uint64_t checkpoints_done_ = 0;
  Status checkpoint_status_;
  Status sticky_error_;  // guarded by mutex_; non-ok once poisoned

  std::atomic<uint64_t> committed_{0};
  mutable std::mutex committed_mutex_;
  mutable std::condition_variable committed_changed_;

  std::atomic<uint64_t> appends_{0};
  std::atomic<uint64_t> appends_deduplicated_{0};
  std::atomic<uint64_t> events_{0};
  std::atomic<uint64_t> batches_written_{0};
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> bytes_written_{0};
  std::atomic<uint64_t> write_sync_ns_{0};
  std::atomic<uint64_t> bytes_dropped_from_cache_{0};

  std::thread thread_;
};

}  // namespace orderlog::store
