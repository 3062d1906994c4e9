// See event_store_impl.h. Open order: lock the directory, load the index checkpoint,
// map the segments, recover the tail, make sure there is an active segment, then
// start the writer. Reads use only committed positions, so they never wait for it.
#include "store/event_store_impl.h"

#include <algorithm>
#include <cstdio>
#include <atomic>
#include <cstdint>
#include <optional>
#include <thread>

#include "common/log.h"
#include "orderlog/check.h"
#include "storage/record_format.h"
#include "storage/unit_encoder.h"
#include "storage/unit_reader.h"
#include "store/log_scan.h"
#include "store/recovery.h"

namespace orderlog {

Result<std::unique_ptr<EventStore>> EventStore::open(const StoreOptions& options) {
  return store::EventStoreImpl::open(options);
}

namespace store {

namespace {

Status validate_options(const StoreOptions& options) {
  if (options.data_dir.empty()) return Status::invalid_argument("data_dir must be set");
  if (options.segment_bytes_max < storage::kSegmentBytesMin || options.segment_bytes_max % 4096 != 0) {
    return Status::invalid_argument("segment_bytes_max must be a multiple of 4096 and at least " +
                                    std::to_string(storage::kSegmentBytesMin));
  }
  if (options.queue_appends_max == 0) return Status::invalid_argument("queue_appends_max must be > 0");
  if (options.batch_bytes_max == 0) return Status::invalid_argument("batch_bytes_max must be > 0");
  return Status::ok();
}
}  // namespace

EventStoreImpl::EventStoreImpl(const StoreOptions& options)
    : options_(options), env_(options.env != nullptr ? options.env : default_env()) {
  // A batch never spans two segments, and recovery's torn-tail window derives from
  // this bound (near 2^64 it would wrap).
  options_.batch_bytes_max = std::min<uint64_t>(options_.batch_bytes_max, options_.segment_bytes_max);
}

EventStoreImpl::~EventStoreImpl() { (void)close(); }

void EventStoreImpl::log(LogLevel level, const std::string& line) const { write_log(options_.log, level, line); }

Result<std::unique_ptr<EventStore>> EventStoreImpl::open(const StoreOptions& options) {
  OL_RETURN_IF_ERROR(validate_options(options));
  std::unique_ptr<EventStoreImpl> store(new EventStoreImpl(options));
  OL_RETURN_IF_ERROR(store->open_directory());
  return std::unique_ptr<EventStore>(std::move(store));
}

Status EventStoreImpl::open_directory() {
  const std::string& dir = options_.data_dir;
  const std::string log_dir = dir + "/log";
  const std::string index_dir = dir + "/index";
  OL_RETURN_IF_ERROR(env_->create_dir(dir));
  OL_ASSIGN_OR_RETURN(lock_, env_->lock_file(dir + "/LOCK"));
  OL_RETURN_IF_ERROR(env_->create_dir(log_dir));
  OL_RETURN_IF_ERROR(env_->create_dir(index_dir));
  if (options_.durability == Durability::kNone) {
    log(LogLevel::kWarning, "durability 'none': appends are acknowledged before they are on disk; "
                            "a crash or power cut loses them. For benchmarks only.");
  }

  OL_RETURN_IF_ERROR(load_segments(env_, log_dir, &segments_, options_.direct_io));
  index::LogIndexOptions index_options;
  index_options.dedup_window_events = options_.dedup_window_events;
  std::string problem;
  OL_ASSIGN_OR_RETURN(index_, index::LogIndex::open(env_, index_dir, index_options, &problem));
  if (!problem.empty() || !checkpoint_matches_log(*index_, segments_)) {
    log(LogLevel::kWarning, "index checkpoint unusable (" + (problem.empty() ? "it disagrees with the log" : problem) +
                                "); rebuilding the indexes from the log");
    OL_RETURN_IF_ERROR(env_->remove_file(index_dir + "/" + index::LogIndex::kCheckpointFileName));
    index_.reset();
    OL_ASSIGN_OR_RETURN(index_, index::LogIndex::open(env_, index_dir, index_options, &problem));
  }

  RecoveryOptions recovery;
  recovery.log_dir = log_dir;
  recovery.torn_window_bytes = torn_window_bytes(options_.batch_bytes_max);
  recovery.log = [this](LogLevel level, const std::string& line) { log(level, line); };
  OL_ASSIGN_OR_RETURN(RecoveredLog recovered, recover_tail(env_, recovery, &segments_, index_.get()));
  if (recovered.units_indexed > 0) {
    log(LogLevel::kInfo, "recovery: indexed " + std::to_string(recovered.units_indexed) +
                             " units after the checkpoint; committed position " +
                             std::to_string(recovered.committed_position));
  }

  refill_recent_ids(recovered.committed_position);
  preparer_ = std::make_unique<storage::SegmentPreparer>(env_, log_dir, options_.segment_bytes_max,
                                                         options_.segment_prefill, options_.direct_io);
  if (segments_.size() == 0) {
    OL_ASSIGN_OR_RETURN(std::unique_ptr<storage::Segment> first, preparer_->take(1, /*wait_for_prefill=*/true));
    OL_RETURN_IF_ERROR(segments_.add(std::move(first)));
    recovered.active_offset = 0;
  }
  if (options_.direct_io && !segments_.last()->direct_writes()) {
    log(LogLevel::kWarning, "direct I/O is not available for " + segments_.last()->path() +
                                "; the log is written through the page cache");
  }
  WriterOptions writer_options;
  writer_options.env = env_;
  writer_options.durability = options_.durability;
  writer_options.segment_bytes_max = options_.segment_bytes_max;
  writer_options.queue_appends_max = options_.queue_appends_max;
  writer_options.batch_bytes_max = options_.batch_bytes_max;
  writer_options.checkpoint_every_bytes = options_.checkpoint_every_bytes;
  writer_options.prefill_below_commit_bytes = options_.segment_prefill_below_commit_bytes;
  writer_options.page_cache_window_bytes = options_.page_cache_window_bytes;
  writer_options.sync_on_writer_below_bytes = options_.sync_on_writer_below_bytes;
  writer_options.log = recovery.log;
  writer_options.commit_observer = options_.commit_observer;
  writer_ = std::make_unique<Writer>(writer_options, &segments_, index_.get(), preparer_.get(),
                                     WriterState{recovered.active_offset, recovered.last_timestamp_ns});
  return Status::ok();
}

void EventStoreImpl::refill_recent_ids(uint64_t committed) {
  const uint64_t window = index_->recent_appends().window_events();
  index_->clear_recent();
  if (window == 0 || committed == 0) return;
  uint64_t position = committed > window ? committed - window + 1 : 1;
  while (position <= committed && !index_->position_entry(position).starts_unit()) ++position;
  std::vector<const std::byte*> unit;
  for (; position <= committed; ++position) {
    if (index_->position_entry(position).starts_unit() && !unit.empty()) {
      index_->remember_unit(unit);
      unit.clear();
    }
    unit.push_back(record_at(position));
  }
  index_->remember_unit(unit);
}

// ---- Appends ----

Result<AppendResult> EventStoreImpl::append(std::string_view stream_id, ExpectedVersion expected,
                                            std::span<const NewEvent> events) {
  const StreamAppend stream{stream_id, expected, events};
  return append_multi(std::span(&stream, 1));
}

namespace {
// An appending thread's wait for its acknowledgement, shared with the writer's
// callback so neither side can touch it after the other has let go.
struct AckWaiter {
  std::atomic<uint32_t> done{0};
  std::optional<Result<AppendResult>> result;
};
}  // namespace

Result<AppendResult> EventStoreImpl::append_multi(std::span<const StreamAppend> streams) {
  Result<storage::EncodedUnit> unit = storage::encode_unit(streams);
  if (!unit.is_ok()) return unit.status();
  auto waiter = std::make_shared<AckWaiter>();
  auto request = std::make_unique<AppendRequest>();
  request->unit = std::move(unit).value();
  request->done = [waiter](Result<AppendResult> result) {
    waiter->result.emplace(std::move(result));
    waiter->done.store(1, std::memory_order_release);
    waiter->done.notify_one();
  };
  // A lone appender keeps its vCPU busy until the ack: on a VM, waking a thread whose
  // vCPU went idle costs tens of microseconds. With company, it sleeps at once.
  const bool alone = sync_appenders_.fetch_add(1, std::memory_order_relaxed) == 0;
  writer_->enqueue(std::move(request), /*wait_for_room=*/true);
  if (alone) {
    const auto deadline = std::chrono::steady_clock::now() + kAckSpin;
    while (waiter->done.load(std::memory_order_acquire) == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
  }
  while (waiter->done.load(std::memory_order_acquire) == 0) waiter->done.wait(0, std::memory_order_acquire);
  sync_appenders_.fetch_sub(1, std::memory_order_relaxed);
  return std::move(*waiter->result);
}

void EventStoreImpl::append_async(std::span<const StreamAppend> streams, AppendCallback done) {
  Result<storage::EncodedUnit> unit = storage::encode_unit(streams);
  if (!unit.is_ok()) {
    done(unit.status());
    return;
  }
  auto request = std::make_unique<AppendRequest>();
  request->unit = std::move(unit).value();
  request->done = std::move(done);
  writer_->enqueue(std::move(request), /*wait_for_room=*/false);
}

// ---- Reads ----

const std::byte* EventStoreImpl::record_at(uint64_t position) const {
  const storage::Segment* segment = segments_.find(position);
  OL_CHECK(segment != nullptr);
  return segment->data() + index_->position_entry(position).record_offset();
}

index::StreamState EventStoreImpl::committed_stream(std::string_view stream_id, uint64_t committed) const {
  index::StreamState state = index_->published_stream(stream_id);
  while (state.version > 0 && state.last_position > committed) {
    state.last_position = index_->position_entry(state.last_position).prev_in_stream;
    --state.version;
  }
  return state;
}

Result<ReadSlice> EventStoreImpl::read_stream(std::string_view stream_id, StreamVersion from,
                                              ReadDirection direction, size_t count_max) const {
  const uint64_t committed = writer_->committed_position();
  const index::StreamState state = committed_stream(stream_id, committed);
  ReadSlice slice;
  const bool forward = direction == ReadDirection::kForward;
  const uint64_t first = forward ? std::max<uint64_t>(from.value, 1) : std::min(from.value, state.version);
  if (state.version == 0 || (forward && first > state.version) || (!forward && first == 0)) {
    slice.next = forward ? std::max(first, state.version + 1) : 0;
    slice.end = true;
    return slice;
  }
  if (count_max == 0) {  // as read_all: nothing read, nothing skipped
    slice.next = from.value;
    return slice;
  }
  // Versions [low, high] of this page; the chain is walked from the last event down.
  // The count is clamped to the versions that exist first, so nothing here can wrap.
  const uint64_t count = std::min<uint64_t>(count_max, forward ? state.version - first + 1 : first);
  const uint64_t low = forward ? first : first - count + 1;
  const uint64_t high = forward ? first + count - 1 : first;
  std::vector<uint64_t> positions;
  positions.reserve(count);
  uint64_t position = state.last_position;
  for (uint64_t version = state.version; version >= low; --version) {
    if (version <= high) positions.push_back(position);
    position = index_->position_entry(position).prev_in_stream;
  }
  if (forward) std::reverse(positions.begin(), positions.end());
  for (uint64_t p : positions) slice.events.push_back(storage::decode_event(record_at(p)));
  slice.next = forward ? high + 1 : low - 1;
  slice.end = forward ? high == state.version : low == 1;
  return slice;
}

Result<ReadSlice> EventStoreImpl::read_all(GlobalPosition from, size_t count_max) const {
  const uint64_t committed = writer_->committed_position();
  ReadSlice slice;
  uint64_t position = std::max<uint64_t>(from.value, 1);
  for (; position <= committed && slice.events.size() < count_max; ++position) {
    slice.events.push_back(storage::decode_event(record_at(position)));
  }
  slice.next = position;
  slice.end = position > committed;
  return slice;
}

Result<ReadSlice> EventStoreImpl::read_all_of_types(GlobalPosition from, size_t scan_max,
                                                  std::span<const std::string_view> types) const {
  const uint64_t committed = writer_->committed_position();
  ReadSlice slice;
  const uint64_t first = std::max<uint64_t>(from.value, 1);
  if (first > committed || scan_max == 0) {
    slice.next = first;
    slice.end = first > committed;
    return slice;
  }
  // The scanned span is [first, last]. Its events of the wanted types come from their
  // type postings, so events of other types are not even touched.
  // first <= committed here, so this cannot wrap even for scan_max = SIZE_MAX.
  const uint64_t last = first + std::min<uint64_t>(committed - first, scan_max - 1);
  std::vector<uint64_t> positions;
  for (const std::string_view type : types) {
    const std::vector<uint64_t> of_type = index_->type_positions(type, first, last, scan_max);
    positions.insert(positions.end(), of_type.begin(), of_type.end());
  }
  std::sort(positions.begin(), positions.end());
  positions.erase(std::unique(positions.begin(), positions.end()), positions.end());  // a type named twice
  slice.events.reserve(positions.size());
  for (const uint64_t position : positions) slice.events.push_back(storage::decode_event(record_at(position)));
  slice.next = last + 1;
  slice.end = last == committed;
  return slice;
}

Result<ReadSlice> EventStoreImpl::read_by_type(std::string_view type, GlobalPosition from, size_t count_max) const {
  const uint64_t committed = writer_->committed_position();
  ReadSlice slice;
  // One extra position tells whether more follow; past SIZE_MAX none can, so saturate.
  const size_t lookup_max = count_max == SIZE_MAX ? count_max : count_max + 1;
  const std::vector<uint64_t> positions =
      index_->type_positions(type, std::max<uint64_t>(from.value, 1), committed, lookup_max);
  const size_t take = std::min(positions.size(), count_max);
  for (size_t i = 0; i < take; ++i) slice.events.push_back(storage::decode_event(record_at(positions[i])));
  slice.end = positions.size() <= count_max;
  slice.next = slice.end ? std::max(from.value, committed + 1) : positions[count_max];
  return slice;
}

Result<ReadSlice> EventStoreImpl::read_by_time(TimeRange range, GlobalPosition from, size_t count_max) const {
  const uint64_t committed = writer_->committed_position();
  ReadSlice slice;
  uint64_t position = std::max({from.value, index_->time_scan_start(range.from_ns), uint64_t{1}});
  slice.end = true;
  for (; position <= committed; ++position) {
    const std::byte* record = record_at(position);
    const uint64_t timestamp = storage::event_timestamp_ns(record);
    if (timestamp < range.from_ns) continue;
    if (timestamp >= range.to_ns) break;
    if (slice.events.size() == count_max) {
      slice.end = false;
      break;
    }
    slice.events.push_back(storage::decode_event(record));
  }
  slice.next = position;
  return slice;
}

StreamVersion EventStoreImpl::stream_version(std::string_view stream_id) const {
  return StreamVersion{committed_stream(stream_id, writer_->committed_position()).version};
}

GlobalPosition EventStoreImpl::committed_position() const { return GlobalPosition{writer_->committed_position()}; }

bool EventStoreImpl::wait_for_position(GlobalPosition position, std::chrono::milliseconds timeout) const {
  return writer_->wait_for_position(position.value, timeout);
}

Status EventStoreImpl::writer_status() const { return writer_->status(); }

StoreStats EventStoreImpl::stats() const {
  StoreStats stats = writer_->stats();
  stats.streams = index_->stream_count();
  return stats;
}

Status EventStoreImpl::checkpoint() { return writer_->checkpoint(); }

Status EventStoreImpl::close() {
  if (writer_ == nullptr) return Status::ok();
  Status status = writer_->stop();
  // The preparer writes into log/ too: stop it before another process may open it.
  preparer_.reset();
  // Another process may open the directory now; this one only reads from here on.
  lock_.reset();
  return status;
}

}  // namespace store
}  // namespace orderlog
