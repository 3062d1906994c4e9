// See writer.h. The batch loop: take everything queued, place units until the
// segment or the batch is full, index them, write + fdatasync once, publish, ack.
#include "store/writer.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>
#include <cstring>
#include <unordered_set>

#include "orderlog/thread_name.h"
#include "orderlog/check.h"
#include "storage/aligned_buffer.h"
#include "storage/record_format.h"

namespace orderlog::store {

using storage::EncodedUnit;

namespace {
uint64_t steady_now_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}
}  // namespace

// A batch is written from `write_offset`, the log's end rounded down to the segment's
// write alignment: a direct write covers whole pages, so the batch's buffer starts
// with the committed bytes of the last, partly filled page (`head_bytes`), written
// again unchanged, and ends with zeros up to the next page boundary.
struct Writer::Batch {
  storage::Segment* segment = nullptr;
  uint64_t write_offset = 0;
  size_t head_bytes = 0;
  size_t log_bytes = 0;  // units placed, excluding head and padding
  uint64_t timestamp_ns = 0;
  uint64_t events = 0;
  uint64_t last_position = 0;  // committed once the batch is durable
  uint64_t submitted_ns = 0;   // steady clock, for CommitInfo::write_sync_ns
  storage::AlignedBuffer bytes;
  std::vector<std::unique_ptr<AppendRequest>> requests;  // every request decided in it
  Status failure;  // why the batch was not written, if it was not
  // Set when the writer wrote (and synced) the batch itself, not through
  // start_write_and_sync(): the outcome finish_batch() takes.
  std::optional<Status> written_on_writer;

  // Where the next unit goes in the segment.
  uint64_t end_offset() const { return write_offset + head_bytes + log_bytes; }

  void reset() {
    segment = nullptr;
    write_offset = head_bytes = log_bytes = timestamp_ns = events = last_position = submitted_ns = 0;
    bytes.clear();
    requests.clear();
    failure = Status::ok();
    written_on_writer.reset();
  }
};

Writer::Writer(const WriterOptions& options, storage::SegmentList* segments, index::LogIndex* index,
               storage::SegmentPreparer* preparer, WriterState state)
    : options_(options),
      segments_(segments),
      index_(index),
      preparer_(preparer),
      state_(state),
      cache_trimmer_(options.page_cache_window_bytes) {
  OL_CHECK(segments_->size() > 0);
  committed_.store(index_->end().position, std::memory_order_release);
  const storage::Segment& active = *segments_->last();
  const uint64_t page = storage::align_down_to(state_.active_offset, active.write_alignment());
  tail_page_.assign(active.data() + page, active.data() + state_.active_offset);
  batches_[0] = std::make_unique<Batch>();
  batches_[1] = std::make_unique<Batch>();
  // Without it the writer still works; it just cannot decide new requests while a
  // write is on the device (see form_while_in_flight()).
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  thread_ = std::thread([this] { run(); });
}

Writer::~Writer() {
  (void)stop();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void Writer::poke_writer() const {
  if (wake_fd_ < 0) return;
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
}

void Writer::enqueue(std::unique_ptr<AppendRequest> request, bool wait_for_room) {
  std::unique_lock lock(mutex_);
  if (wait_for_room) {
    room_.wait(lock, [this] { return stopping_ || queue_.size() < options_.queue_appends_max; });
  }
  if (stopping_) {
    lock.unlock();
    request->outcome = Status::closed("the store is closed");
    complete(std::move(request));
    return;
  }
  if (queue_.size() >= options_.queue_appends_max) {
    lock.unlock();
    request->outcome = Status::busy("the append queue is full (" + std::to_string(options_.queue_appends_max) +
                                    " pending); retry later");
    complete(std::move(request));
    return;
  }
  queue_.push_back(std::move(request));
  queued_.store(queue_.size(), std::memory_order_release);
  const bool was_empty = queue_.size() == 1;
  const bool writer_polling = writer_polling_;
  lock.unlock();
  if (was_empty) queue_changed_.notify_one();
  if (was_empty && writer_polling) poke_writer();
}

// Two batches alternate: one is on the device (write + fdatasync) while the next
// forms. Requests that arrive during the write are decided into the next batch as they
// come (positions, versions, index entries), so when the write completes the next one
// only needs sealing before it goes out, and the device waits little. While that
// next batch is small, the completed one is acknowledged first, so appends sent from
// its acknowledgements still join it (kAcknowledgeFirstBelowBytes). A batch below
// sync_on_writer_below_bytes is written and synced by submit_batch() itself; it then
// counts as in flight with its outcome known, and the next batch forms from what
// queued meanwhile. Only one write is ever in flight, which keeps recovery's torn-tail
// rule simple.
void Writer::run() {
  name_this_thread("ol-writer");
  std::deque<std::unique_ptr<AppendRequest>> pending;
  Batch* in_flight = nullptr;
  Batch* forming = nullptr;  // begun while `in_flight` was on the device
  size_t next_slot = 0;
  while (true) {
    if (in_flight == nullptr && pending.empty()) spin_for_work();
    {
      std::unique_lock lock(mutex_);
      if (in_flight == nullptr && pending.empty()) {
        queue_changed_.wait(lock, [this] {
          return stopping_ || !queue_.empty() || checkpoints_requested_ > checkpoints_done_;
        });
      }
    }
    // Whether the batch that was in flight is acknowledged before the next write goes
    // out (see kAcknowledgeFirstBelowBytes).
    bool acknowledged_first = false;
    bool trimmed = false;  // trim_cache(*in_flight) done
    if (in_flight != nullptr) {
      form_while_in_flight(*in_flight, pending, &forming, batches_[next_slot].get());
      finish_batch(*in_flight);
      // A batch the writer will sync itself must not hold back the acknowledgements
      // of one already durable, whatever sync_on_writer_below_bytes is set to.
      if (forming == nullptr ||
          forming->log_bytes < std::max(kAcknowledgeFirstBelowBytes, options_.sync_on_writer_below_bytes)) {
        complete_batch(*in_flight);
        acknowledged_first = true;
      }
    }

    const Controls controls = take_queue(pending);
    // A checkpoint needs a quiet log: form nothing new until it is taken. A batch
    // begun during the last write holds decided requests, so it goes out regardless.
    Batch* next = std::exchange(forming, nullptr);
    if (next == nullptr && !pending.empty() && !controls.checkpoint_wanted) {
      next = batches_[next_slot].get();
      begin_batch(*next);
    }
    if (next != nullptr) {
      // Decided before the write ahead of it failed: none of it may be acknowledged,
      // not even a batch without bytes of its own. A retry answered from the
      // idempotency window may stand for a unit of the failed write.
      if (Status error = status(); !error.is_ok() && next->failure.is_ok()) next->failure = error;
      if (!controls.checkpoint_wanted) add_pending(pending, *next, /*may_roll=*/true);
      seal_batch(*next);
      if (next->log_bytes > 0 && next->failure.is_ok()) {
        // A batch synced on the writer leaves nothing to overlap the trim with: trim
        // first, so it delays neither that batch's acknowledgements nor its timing.
        if (in_flight != nullptr && syncs_on_writer(*next)) {
          trim_cache(*in_flight);
          trimmed = true;
        }
        submit_batch(*next);
      }
    }
    if (in_flight != nullptr) {
      if (!acknowledged_first) complete_batch(*in_flight);
      if (!trimmed) trim_cache(*in_flight);  // while the next write is on the device
    }
    in_flight = nullptr;
    if (next != nullptr) {
      if (next->log_bytes == 0 || !next->failure.is_ok()) {
        complete_batch(*next);  // nothing to wait for
      } else {
        in_flight = next;
        next_slot ^= 1;
      }
    }

    const bool quiet = in_flight == nullptr;
    const bool done = quiet && controls.stopping && pending.empty();
    Status checkpoint_status;
    if (quiet && (controls.checkpoint_wanted || done)) checkpoint_status = do_checkpoint();
    if (done && !checkpoint_status.is_ok() && status().is_ok()) {
      options_.log(LogLevel::kError, "final index checkpoint failed: " + checkpoint_status.to_string());
    }
    std::unique_lock lock(mutex_);
    if (quiet && controls.checkpoint_wanted) {
      checkpoint_status_ = checkpoint_status;
      checkpoints_done_ = controls.checkpoint_ticket;
      checkpoint_done_.notify_all();
    }
    if (done && queue_.empty()) break;
  }
}

Writer::Controls Writer::take_queue(std::deque<std::unique_ptr<AppendRequest>>& pending) {
  Controls controls;
  {
    std::lock_guard lock(mutex_);
    while (!queue_.empty()) {
      pending.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    queued_.store(0, std::memory_order_relaxed);
    controls.stopping = stopping_;
    controls.checkpoint_ticket = checkpoints_requested_;
    controls.checkpoint_wanted = checkpoints_requested_ > checkpoints_done_;
  }
  room_.notify_all();
  return controls;
}

// Waits for the write in flight and for new requests together (poll on the file's
// completion descriptor and the writer's wake-up eventfd) and decides the requests
// that arrive into `*forming` (begun in `slot`). It lets arrivals wake it once per
// write and then takes whatever keeps coming until the queue is empty: each wake-up
// costs tens of microseconds on a VM and competes with the appenders for the CPU,
// and waking for every arrival measured smaller groups (17 instead of 29 events per
// fdatasync with 64 appenders). Returns when the write is done, or when the rest is
// left to finish_batch(): no completion descriptor, the one wake-up used, a stop or
// checkpoint request, a full batch. Never rolls a segment: that needs a quiet log.
void Writer::form_while_in_flight(const Batch& in_flight, std::deque<std::unique_ptr<AppendRequest>>& pending,
                                  Batch** forming, Batch* slot) {
  if (in_flight.written_on_writer.has_value()) return;  // nothing is on the device
  const int ready_fd = in_flight.segment->file()->write_ready_fd();
  if (ready_fd < 0 || wake_fd_ < 0) return;
  bool woken_once = false;
  while (true) {
    bool wait = false;
    {
      std::lock_guard lock(mutex_);
      if (stopping_ || checkpoints_requested_ > checkpoints_done_) return;
      wait = queue_.empty();
      writer_polling_ = wait && !woken_once;
    }
    if (wait && woken_once) return;
    if (wait) {
      woken_once = true;
      pollfd fds[2] = {{ready_fd, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      const int polled = poll(fds, 2, -1);
      {
        std::lock_guard lock(mutex_);
        writer_polling_ = false;
      }
      uint64_t wakes = 0;
      (void)!read(wake_fd_, &wakes, sizeof(wakes));
      if (polled < 0 && errno != EINTR) return;  // finish_batch() still waits properly
      if (polled > 0 && (fds[0].revents & (POLLIN | POLLERR | POLLHUP)) != 0) return;
      continue;
    }
    const Controls controls = take_queue(pending);
    if (controls.checkpoint_wanted || !status().is_ok()) return;
    if (*forming == nullptr) {
      *forming = slot;
      begin_batch(*slot);
    }
    const bool room_left = add_pending(pending, **forming, /*may_roll=*/false);
    // finish_batch() publishes the stream table, which then covers these units too:
    // their index entries must be in place first (readers stop at the committed position).
    if (Status flushed = index_->flush(); !flushed.is_ok()) {
      poison(flushed);
      (*forming)->failure = flushed;
      return;
    }
    if (!room_left) return;
  }
}

// Before sleeping, watch the queue for a moment. On a VM, waking a thread whose vCPU
// has gone idle costs tens of microseconds; an appender that answers its last ack
// with its next append arrives well within this window.
void Writer::spin_for_work() const {
  const auto deadline = std::chrono::steady_clock::now() + kSpinBeforeSleep;
  while (queued_.load(std::memory_order_acquire) == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
}

void Writer::begin_batch(Batch& batch) {
  batch.reset();
  if (!status().is_ok()) return;  // add_pending() fails the requests
  start_batch(batch);
  batch.timestamp_ns = std::max(state_.last_timestamp_ns, options_.env->now_ns());
}

bool Writer::add_pending(std::deque<std::unique_ptr<AppendRequest>>& pending, Batch& batch, bool may_roll) {
  if (Status error = status(); !error.is_ok()) {
    for (auto& request : pending) {
      request->outcome = Status::read_only("the store is read-only after a write failure: " + error.message());
      batch.requests.push_back(std::move(request));
    }
    pending.clear();
    return true;
  }
  // Each request's idempotency lookup misses the cache; let the misses overlap.
  for (size_t i = 0; i < pending.size() && i < kPrefetchRequests; ++i) {
    index_->recent_appends().prefetch(pending[i]->unit.events.front().id);
  }
  while (!pending.empty()) {
    AppendRequest& request = *pending.front();
    const size_t unit_bytes = request.unit.bytes.size();
    const uint64_t room = batch.segment->capacity_bytes() - batch.end_offset();
    if (unit_bytes > room) {
      // Write what we have and roll next time, so a batch never spans two files.
      if (!may_roll || batch.log_bytes > 0 || !batch.requests.empty()) return false;
      if (batch.end_offset() == 0) {
        request.outcome = Status::too_large("an append of " + std::to_string(unit_bytes) +
                                            " bytes does not fit in a segment");
      } else if (Status rolled = roll_segment(); !rolled.is_ok()) {
        request.outcome = rolled;  // nothing was written: the writer stays healthy
      } else {
        start_batch(batch);
        continue;
      }
    } else if (batch.log_bytes > 0 && batch.log_bytes + unit_bytes > options_.batch_bytes_max) {
      return false;
    } else {
      place(request, batch);
    }
    batch.requests.push_back(std::move(pending.front()));
    pending.pop_front();
  }
  return true;
}

void Writer::seal_batch(Batch& batch) {
  if (batch.segment == nullptr || !batch.failure.is_ok()) return;
  // Index entries go to their files before the batch is durable: readers only look
  // at positions up to the committed one.
  if (Status flushed = index_->flush(); !flushed.is_ok()) {
    poison(flushed);
    batch.failure = flushed;
    return;
  }
  batch.last_position = index_->end().position;
  state_.active_offset = batch.end_offset();
  state_.last_timestamp_ns = batch.timestamp_ns;
  // The next batch starts by rewriting the page this one ends in; then pad to a page.
  const size_t alignment = batch.segment->write_alignment();
  const size_t end = batch.bytes.size();
  const std::byte* tail = batch.bytes.data() + storage::align_down_to(end, alignment);
  const std::byte* tail_end = batch.bytes.data() + end;
  tail_page_.assign(tail, tail_end);
  batch.bytes.resize_zeroed(storage::align_up_to(end, alignment));
  OL_CHECK(batch.write_offset + batch.bytes.size() <= batch.segment->capacity_bytes());
  batch_bytes_average_ = (batch_bytes_average_ * 7 + batch.bytes.size()) / 8;
  if (!next_segment_requested_ && state_.active_offset > batch.segment->capacity_bytes() / 2) {
    preparer_->prepare_next(/*zero_fill=*/batch_bytes_average_ < options_.prefill_below_commit_bytes);
    next_segment_requested_ = true;
  }
}

bool Writer::syncs_on_writer(const Batch& batch) const {
  return batch.bytes.size() < options_.sync_on_writer_below_bytes;
}

void Writer::submit_batch(Batch& batch) {
  if (Status error = status(); !error.is_ok()) {
    batch.failure = error;
    return;
  }
  const bool sync = options_.durability == Durability::kAlways;
  batch.submitted_ns = steady_now_ns();
  File* file = batch.segment->file();
  if (syncs_on_writer(batch)) {
    // See StoreOptions::sync_on_writer_below_bytes. Appends arriving meanwhile queue
    // up and form the next batch; finish_batch() takes the outcome.
    Status written = file->write_at(batch.write_offset, batch.bytes.bytes());
    if (written.is_ok() && sync) written = file->sync_data();
    batch.written_on_writer = std::move(written);
    return;
  }
  Status started = file->start_write_and_sync(batch.write_offset, batch.bytes.bytes(), sync);
  if (!started.is_ok()) {
    poison(started);
    batch.failure = started;
  }
}

void Writer::finish_batch(Batch& batch) {
  Status written = batch.written_on_writer.has_value() ? std::move(*batch.written_on_writer)
                                                       : batch.segment->file()->finish_write_and_sync();
  if (options_.durability == Durability::kAlways) syncs_.fetch_add(1, std::memory_order_relaxed);
  if (!written.is_ok()) {
    poison(written);
    batch.failure = written;
    return;
  }
  // The writer failed while this write was on the device (an index write of the batch
  // formed meanwhile): nothing more is acknowledged, and publishing the stream table
  // would hand readers streams whose index entries were never written.
  if (Status error = status(); !error.is_ok()) {
    batch.failure = error;
    return;
  }
  const uint64_t write_sync_ns = steady_now_ns() - batch.submitted_ns;
  write_sync_ns_.fetch_add(write_sync_ns, std::memory_order_relaxed);
  batches_written_.fetch_add(1, std::memory_order_relaxed);
  bytes_written_.fetch_add(batch.log_bytes, std::memory_order_relaxed);
  bytes_since_checkpoint_ += batch.log_bytes;
  events_.fetch_add(batch.events, std::memory_order_relaxed);
  // Streams first: a reader that sees the new committed position must find every
  // stream already covering it. This may publish streams of the batch formed
  // meanwhile too; readers skip positions past the committed one (their index entries
  // are already written).
  index_->publish_streams();
  committed_.store(batch.last_position, std::memory_order_release);
  {
    std::lock_guard lock(committed_mutex_);
  }
  committed_changed_.notify_all();
  if (options_.commit_observer) {
    CommitInfo info;
    for (const auto& request : batch.requests) {
      const bool written = request->outcome.has_value() && request->outcome->is_ok() && !(*request->outcome)->deduplicated;
      info.appends += written ? 1 : 0;
    }
    info.events = batch.events;
    info.bytes = batch.log_bytes;
    info.write_sync_ns = write_sync_ns;
    options_.commit_observer(info);
  }
}

void Writer::complete_batch(Batch& batch) {
  for (auto& request : batch.requests) {
    // A request refused on its own (a version conflict, or read-only already) keeps
    // its answer; one that would have succeeded gets the batch's failure.
    if (!batch.failure.is_ok() && (!request->outcome.has_value() || request->outcome->is_ok())) {
      request->outcome = batch.failure.with_context(
          "append not acknowledged (after a restart it may or may not be in the log); the store is now read-only");
    }
    complete(std::move(request));
  }
  batch.requests.clear();
}

void Writer::trim_cache(const Batch& batch) {
  if (!batch.failure.is_ok() || batch.segment == nullptr) return;
  if (Status trimmed = cache_trimmer_.advance(batch.segment, batch.end_offset()); !trimmed.is_ok()) {
    options_.log(LogLevel::kWarning, "stopped dropping the log's old pages from the page cache (nothing is lost): " +
                                         trimmed.to_string());
  }
  bytes_dropped_from_cache_.store(cache_trimmer_.dropped_bytes(), std::memory_order_relaxed);
}

void Writer::start_batch(Batch& batch) {
  batch.segment = segments_->last();
  batch.write_offset = storage::align_down_to(state_.active_offset, batch.segment->write_alignment());
  batch.head_bytes = state_.active_offset - batch.write_offset;
  OL_CHECK(batch.head_bytes == tail_page_.size());
  batch.log_bytes = 0;
  batch.bytes.clear();
  batch.bytes.append(tail_page_);
}

void Writer::place(AppendRequest& request, Batch& batch) {
  EncodedUnit& unit = request.unit;
  if (auto duplicate = deduplicate(unit)) {
    if (duplicate->is_ok()) appends_deduplicated_.fetch_add(1, std::memory_order_relaxed);
    request.outcome = std::move(*duplicate);
    return;
  }
  std::vector<index::StreamState> states;
  if (Status versions = check_versions(unit, &states); !versions.is_ok()) {
    request.outcome = versions;
    return;
  }
  const uint64_t first_position = index_->end().position + 1;
  AppendResult result;
  result.first_position = GlobalPosition{first_position};
  result.last_position = GlobalPosition{first_position + unit.events.size() - 1};
  for (size_t slot = 0; slot < unit.streams.size(); ++slot) {
    result.stream_versions.push_back(StreamVersion{states[slot].version + unit.streams[slot].event_count});
  }
  // Copy first, then patch and seal the copy in the batch buffer.
  const size_t unit_offset = batch.bytes.size();
  batch.bytes.append(unit.bytes);
  batch.log_bytes += unit.bytes.size();
  std::byte* placed = batch.bytes.data() + unit_offset;
  for (size_t i = 0; i < unit.events.size(); ++i) {
    const storage::EncodedEvent& event = unit.events[i];
    const storage::EncodedStream& stream = unit.streams[event.stream_slot];
    const uint64_t version = states[event.stream_slot].version + (i - stream.event_begin) + 1;
    storage::patch_event(placed + event.offset, first_position + i, version, batch.timestamp_ns);
  }
  storage::seal_unit(placed, first_position, /*batch_start=*/unit_offset == batch.head_bytes);
  const storage::UnitHeader header = storage::load_unit_header(placed);
  const Status indexed = index_->add_unit(placed, header, batch.segment->first_position(),
                                          batch.write_offset + unit_offset);
  OL_CHECK_MSG(indexed.is_ok(), "the writer produced a unit its own index rejects");
  batch.events += unit.events.size();
  appends_.fetch_add(1, std::memory_order_relaxed);
  request.outcome = std::move(result);
}

std::optional<Result<AppendResult>> Writer::deduplicate(const EncodedUnit& unit) const {
  const EventId& first_id = unit.events.front().id;
  const index::RecentAppend* original = index_->recent_appends().find(first_id);
  if (original == nullptr) return std::nullopt;
  uint64_t ids_hash = 0;
  for (const storage::EncodedEvent& event : unit.events) ids_hash = index::RecentAppends::hash_ids(ids_hash, event.id);
  if (ids_hash != original->ids_hash || unit.events.size() != original->event_count ||
      index::LogIndex::stream_hash(unit.streams.front().stream_id) != original->first_stream_hash ||
      unit.streams.size() != original->stream_versions.size()) {
    return Status::invalid_argument("event id " + first_id.to_string() +
                                    " was already appended by a different request; a retry must resend the "
                                    "same events to the same streams");
  }
  AppendResult result;
  result.deduplicated = true;
  result.first_position = GlobalPosition{original->first_position};
  result.last_position = GlobalPosition{original->first_position + original->event_count - 1};
  for (uint64_t version : original->stream_versions) result.stream_versions.push_back(StreamVersion{version});
  return result;
}

Status Writer::check_versions(const EncodedUnit& unit, std::vector<index::StreamState>* states) const {
  size_t new_types = 0;
  std::unordered_set<std::string_view> seen_types;
  for (const storage::EncodedEvent& event : unit.events) {
    if (!index_->knows_type(event.type) && seen_types.insert(event.type).second) ++new_types;
  }
  if (new_types > 0 && !index_->has_room_for_types(new_types)) {
    return Status::too_large("the log already holds the maximum number of distinct event types");
  }
  states->reserve(unit.streams.size());
  for (const storage::EncodedStream& stream : unit.streams) {
    const index::StreamState state = index_->stream(stream.stream_id);
    if (!stream.expected.is_satisfied_by(StreamVersion{state.version})) {
      return Status::wrong_expected_version("stream '" + std::string(stream.stream_id) + "': expected version " +
                                                stream.expected.to_string() + ", actual " +
                                                std::to_string(state.version),
                                            state.version);
    }
    states->push_back(state);
  }
  for (std::string_view type : seen_types) {
    if (Status added = index_->add_type(type); !added.is_ok()) {
      return added.with_context("cannot index the new event type '" + std::string(type) + "'");
    }
  }
  return Status::ok();
}

Status Writer::roll_segment() {
  // Nothing is in flight and everything formed is indexed and durable: a good moment
  // to bound the work of the next crash recovery.
  if (options_.checkpoint_every_bytes > 0 && bytes_since_checkpoint_ >= options_.checkpoint_every_bytes) {
    if (Status checkpointed = do_checkpoint(); !checkpointed.is_ok()) {
      options_.log(LogLevel::kWarning, "periodic index checkpoint failed (recovery will re-index more): " +
                                           checkpointed.to_string());
    }
  }
  OL_RETURN_IF_ERROR(status());  // a stopped writer names no more segments
  // Without per-batch fdatasync the sealed segment's bytes may still be only in the
  // page cache, and the next checkpoint vouches for every segment before the active
  // one: sync it once now (once per segment, so the cost is nothing).
  if (options_.durability != Durability::kAlways) {
    if (Status synced = segments_->last()->file()->sync_data(); !synced.is_ok()) {
      poison(synced.with_context("syncing the sealed segment " + segments_->last()->path()));
      return status();
    }
  }
  bool named = false;
  Result<std::unique_ptr<storage::Segment>> segment =
      preparer_->take(index_->end().position + 1, /*wait_for_prefill=*/false, &named);
  // Once the file has its segment name, the log must go on in it or stop: a later
  // segment after an empty named one, whose name a power cut may or may not keep,
  // would be a gap that recovery refuses.
  Status added = segment.is_ok() ? segments_->add(std::move(segment).value()) : segment.status();
  if (!added.is_ok() && named) poison(added.with_context("rolling to a new segment"));
  OL_RETURN_IF_ERROR(added);
  state_.active_offset = 0;
  tail_page_.clear();
  next_segment_requested_ = false;
  return Status::ok();
}

void Writer::poison(const Status& cause) {
  {
    std::lock_guard lock(mutex_);
    if (sticky_error_.is_ok()) sticky_error_ = cause;
  }
  options_.log(LogLevel::kError, "writer stopped, the store is now read-only: " + cause.to_string());
}

Status Writer::status() const {
  std::lock_guard lock(mutex_);
  return sticky_error_;
}

Status Writer::do_checkpoint() {
  if (Status error = status(); !error.is_ok()) return Status::read_only("no checkpoint after a write failure");
  if (options_.durability != Durability::kAlways) {
    OL_RETURN_IF_ERROR(segments_->last()->file()->sync_data());
  }
  OL_RETURN_IF_ERROR(index_->write_checkpoint());
  bytes_since_checkpoint_ = 0;
  return Status::ok();
}

Status Writer::checkpoint() {
  std::unique_lock lock(mutex_);
  if (stopped_ || stopping_) return Status::closed("the store is closed");
  const uint64_t ticket = ++checkpoints_requested_;
  queue_changed_.notify_one();
  poke_writer();
  checkpoint_done_.wait(lock, [&] { return checkpoints_done_ >= ticket; });
  return checkpoint_status_;
}

Status Writer::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return sticky_error_;
    stopping_ = true;
    stopped_ = true;
  }
  queue_changed_.notify_all();
  poke_writer();
  room_.notify_all();
  if (thread_.joinable()) thread_.join();
  return status();
}

bool Writer::wait_for_position(uint64_t position, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(committed_mutex_);
  return committed_changed_.wait_for(lock, timeout, [&] { return committed_position() >= position; });
}

void Writer::complete(std::unique_ptr<AppendRequest> request) {
  OL_CHECK(request->outcome.has_value());
  if (request->done) request->done(std::move(*request->outcome));
}

StoreStats Writer::stats() const {
  StoreStats stats;
  stats.committed_position = GlobalPosition{committed_position()};
  stats.segments = segments_->size();
  stats.appends = appends_.load(std::memory_order_relaxed);
  stats.appends_deduplicated = appends_deduplicated_.load(std::memory_order_relaxed);
  stats.events_appended = events_.load(std::memory_order_relaxed);
  stats.batches = batches_written_.load(std::memory_order_relaxed);
  stats.syncs = syncs_.load(std::memory_order_relaxed);
  stats.bytes_written = bytes_written_.load(std::memory_order_relaxed);
  stats.write_sync_ns = write_sync_ns_.load(std::memory_order_relaxed);
  stats.bytes_dropped_from_cache = bytes_dropped_from_cache_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace orderlog::store
