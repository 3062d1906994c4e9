// See writer.h. The batch loop: take everything queued, place units until the
// segment or the batch is full, index them, write + fdatasync once, publish, ack.
#include "store/writer.h"

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "orderlog/check.h"
#include "storage/record_format.h"

namespace orderlog::store {

using storage::EncodedUnit;

struct Writer::Batch {
  storage::Segment* segment = nullptr;
  uint64_t offset = 0;      // where the batch starts in the segment
  uint64_t timestamp_ns = 0;
  uint64_t events = 0;
  std::vector<std::unique_ptr<AppendRequest>> requests;  // every request decided in it
};

Writer::Writer(const WriterOptions& options, storage::SegmentList* segments, index::LogIndex* index,
               storage::SegmentPreparer* preparer, WriterState state)
    : options_(options), segments_(segments), index_(index), preparer_(preparer), state_(state) {
  OL_CHECK(segments_->size() > 0);
  committed_.store(index_->end().position, std::memory_order_release);
  buffer_.reserve(options_.batch_bytes_max + storage::kUnitBytesMax);
  thread_ = std::thread([this] { run(); });
}

Writer::~Writer() { (void)stop(); }

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
  const bool was_empty = queue_.size() == 1;
  lock.unlock();
  if (was_empty) queue_changed_.notify_one();
}

void Writer::run() {
  std::deque<std::unique_ptr<AppendRequest>> pending;
  std::unique_lock lock(mutex_);
  while (true) {
    queue_changed_.wait(lock, [this] {
      return stopping_ || !queue_.empty() || checkpoints_requested_ > checkpoints_done_;
    });
    pending.swap(queue_);
    // Once stopping, enqueue() refuses new work, so this is the last round.
    const bool last_round = stopping_;
    const uint64_t checkpoint_ticket = checkpoints_requested_;
    const bool checkpoint_wanted = checkpoint_ticket > checkpoints_done_;
    lock.unlock();
    room_.notify_all();
    write_batches(pending);
    Status checkpoint_status;
    if (checkpoint_wanted || last_round) checkpoint_status = do_checkpoint();
    if (last_round && !checkpoint_status.is_ok() && status().is_ok()) {
      options_.log(LogLevel::kError, "final index checkpoint failed: " + checkpoint_status.to_string());
    }
    lock.lock();
    if (checkpoint_wanted) {
      checkpoint_status_ = checkpoint_status;
      checkpoints_done_ = checkpoint_ticket;
      checkpoint_done_.notify_all();
    }
    if (last_round) break;
  }
}

void Writer::write_batches(std::deque<std::unique_ptr<AppendRequest>>& pending) {
  while (!pending.empty()) write_batch(pending);
}

void Writer::write_batch(std::deque<std::unique_ptr<AppendRequest>>& pending) {
  if (Status error = status(); !error.is_ok()) {
    for (auto& request : pending) {
      request->outcome = Status::read_only("the store is read-only after a write failure: " + error.message());
      complete(std::move(request));
    }
    pending.clear();
    return;
  }
  Batch batch;
  batch.segment = segments_->last();
  batch.offset = state_.active_offset;
  batch.timestamp_ns = std::max(state_.last_timestamp_ns, options_.env->now_ns());
  buffer_.clear();
  while (!pending.empty()) {
    AppendRequest& request = *pending.front();
    const size_t unit_bytes = request.unit.bytes.size();
    const uint64_t room = batch.segment->capacity_bytes() - batch.offset - buffer_.size();
    if (unit_bytes > room) {
      if (!buffer_.empty() || !batch.requests.empty()) break;  // write what we have, roll next time
      if (batch.offset == 0) {
        request.outcome = Status::too_large("an append of " + std::to_string(unit_bytes) +
                                            " bytes does not fit in a segment");
      } else if (Status rolled = roll_segment(); !rolled.is_ok()) {
        request.outcome = rolled;  // nothing was written: the writer stays healthy
      } else {
        batch.segment = segments_->last();
        batch.offset = 0;
        continue;
      }
    } else if (!buffer_.empty() && buffer_.size() + unit_bytes > options_.batch_bytes_max) {
      break;
    } else {
      place(request, batch);
    }
    batch.requests.push_back(std::move(pending.front()));
    pending.pop_front();
  }
  Status written = index_->flush();
  if (written.is_ok() && !buffer_.empty()) {
    const bool sync = options_.durability == Durability::kAlways;
    written = batch.segment->file()->start_write_and_sync(batch.offset, buffer_, sync);
    if (written.is_ok()) written = batch.segment->file()->finish_write_and_sync();
    if (sync) syncs_.fetch_add(1, std::memory_order_relaxed);
  }
  if (!written.is_ok()) {
    poison(written);
    for (auto& request : batch.requests) {
      request->outcome = written.with_context("append not written, the store is now read-only");
      complete(std::move(request));
    }
    return;
  }
  state_.active_offset = batch.offset + buffer_.size();
  state_.last_timestamp_ns = batch.timestamp_ns;
  if (!next_segment_requested_ && state_.active_offset > batch.segment->capacity_bytes() / 2) {
    preparer_->prepare_next();
    next_segment_requested_ = true;
  }
  if (!buffer_.empty()) {
    batches_.fetch_add(1, std::memory_order_relaxed);
    bytes_written_.fetch_add(buffer_.size(), std::memory_order_relaxed);
    events_.fetch_add(batch.events, std::memory_order_relaxed);
  }
  committed_.store(index_->end().position, std::memory_order_release);
  index_->publish_streams();
  {
    std::lock_guard lock(committed_mutex_);
  }
  committed_changed_.notify_all();
  for (auto& request : batch.requests) complete(std::move(request));
}

void Writer::place(AppendRequest& request, Batch& batch) {
  EncodedUnit& unit = request.unit;
  if (auto duplicate = deduplicate(unit)) {
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
  const size_t unit_offset = buffer_.size();
  buffer_.insert(buffer_.end(), unit.bytes.begin(), unit.bytes.end());
  std::byte* placed = buffer_.data() + unit_offset;
  for (size_t i = 0; i < unit.events.size(); ++i) {
    const storage::EncodedEvent& event = unit.events[i];
    const storage::EncodedStream& stream = unit.streams[event.stream_slot];
    const uint64_t version = states[event.stream_slot].version + (i - stream.event_begin) + 1;
    storage::patch_event(placed + event.offset, first_position + i, version, batch.timestamp_ns);
  }
  storage::seal_unit(placed, first_position, /*batch_start=*/unit_offset == 0);
  const storage::UnitHeader header = storage::load_unit_header(placed);
  const Status indexed = index_->add_unit(placed, header, batch.segment->first_position(),
                                          batch.offset + unit_offset);
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
      return Status::wrong_expected_version("stream '" + stream.stream_id + "': expected version " +
                                                stream.expected.to_string() + ", actual " +
                                                std::to_string(state.version),
                                            state.version);
    }
    states->push_back(state);
  }
  return Status::ok();
}

Status Writer::roll_segment() {
  OL_ASSIGN_OR_RETURN(std::unique_ptr<storage::Segment> segment, preparer_->take(index_->end().position + 1));
  OL_RETURN_IF_ERROR(segments_->add(std::move(segment)));
  state_.active_offset = 0;
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
  return index_->write_checkpoint();
}

Status Writer::checkpoint() {
  std::unique_lock lock(mutex_);
  if (stopped_ || stopping_) return Status::closed("the store is closed");
  const uint64_t ticket = ++checkpoints_requested_;
  queue_changed_.notify_one();
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
  stats.events_appended = events_.load(std::memory_order_relaxed);
  stats.batches = batches_.load(std::memory_order_relaxed);
  stats.syncs = syncs_.load(std::memory_order_relaxed);
  stats.bytes_written = bytes_written_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace orderlog::store
