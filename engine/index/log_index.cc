// See log_index.h. The checkpoint file is [checksum u64 = XXH3_64 of the rest]
// [IndexCheckpoint flatbuffer]; it is replaced with write-temp, sync, rename, sync-dir.
#include "index/log_index.h"

#include <flatbuffers/flatbuffers.h>
#include <xxhash.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "orderlog/check.h"
#include "orderlog/fb/event_record_generated.h"
#include "orderlog/fb/index_checkpoint_generated.h"
#include "storage/unit_reader.h"

namespace orderlog::index {

struct LogIndex::TypeSlot {
  std::string name;
  std::unique_ptr<AppendArray> postings;
  std::atomic<uint64_t> published{0};
  std::vector<uint64_t> pending;
};

namespace {
constexpr const char* kPositionsFile = "positions.idx";
constexpr const char* kTimeFile = "time.idx";

std::string type_file_name(size_t id) { return "type-" + std::to_string(id) + ".idx"; }

// Each checkpoint has its own stream-table snapshot, named by its position, so the
// checkpoint file names exactly the snapshot taken with it: a crash between the two
// renames leaves the previous pair whole. (Stores written before this rule name a
// "streams.snap"; loading honours whatever name the checkpoint holds.)
std::string streams_file_name(uint64_t position) {
  char name[40];
  std::snprintf(name, sizeof name, "streams-%020llu.snap", static_cast<unsigned long long>(position));
  return name;
}
// A snapshot, or one a crash left half made.
bool is_streams_file(std::string_view name) {
  return name.starts_with("streams") && (name.ends_with(".snap") || name.ends_with(".snap.tmp"));
}

}  // namespace

uint32_t LogIndex::stream_hash(std::string_view stream_id) {
  return static_cast<uint32_t>(XXH3_64bits(stream_id.data(), stream_id.size()));
}

LogIndex::LogIndex(Env* env, std::string dir, const LogIndexOptions& options)
    : env_(env), dir_(std::move(dir)), options_(options), recent_(options.dedup_window_events) {}

LogIndex::~LogIndex() = default;

Result<std::unique_ptr<LogIndex>> LogIndex::open(Env* env, const std::string& index_dir,
                                                 const LogIndexOptions& options, std::string* problem) {
  std::unique_ptr<LogIndex> index(new LogIndex(env, index_dir, options));
  problem->clear();
  if (env->file_exists(index_dir + "/" + kCheckpointFileName)) {
    Status loaded = index->load_checkpoint();
    if (loaded.is_ok()) return index;
    *problem = loaded.to_string();
    index.reset(new LogIndex(env, index_dir, options));
  }
  OL_RETURN_IF_ERROR(index->open_files(0, 0));
  return index;
}

Status LogIndex::open_files(uint64_t positions_count, uint64_t time_count) {
  OL_ASSIGN_OR_RETURN(positions_, AppendArray::open(env_, dir_ + "/" + kPositionsFile, sizeof(PositionEntry),
                                                    options_.positions_reserve_bytes, positions_count));
  OL_ASSIGN_OR_RETURN(time_, AppendArray::open(env_, dir_ + "/" + kTimeFile, sizeof(TimeEntry),
                                               options_.time_reserve_bytes, time_count));
  time_published_.store(time_count, std::memory_order_release);
  if (time_count > 0) last_time_entry_position_ = time_->get<TimeEntry>(time_count - 1).position;
  return Status::ok();
}

namespace {

// Reads index/CHECKPOINT into `bytes` and verifies it; the table inside them.
Result<const fb::IndexCheckpoint*> read_checkpoint(Env* env, const std::string& path, std::vector<std::byte>* bytes) {
  OL_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env->open_file(path, OpenMode::kReadOnly));
  OL_ASSIGN_OR_RETURN(uint64_t size, file->size());
  if (size < sizeof(uint64_t) || size > (64u << 20)) return Status::corruption(path + ": bad size");
  bytes->resize(size);
  OL_RETURN_IF_ERROR(file->read_at(0, *bytes));
  uint64_t checksum = 0;
  std::memcpy(&checksum, bytes->data(), sizeof(checksum));
  const auto* body = reinterpret_cast<const uint8_t*>(bytes->data() + sizeof(checksum));
  const size_t body_bytes = size - sizeof(checksum);
  if (XXH3_64bits(body, body_bytes) != checksum) return Status::corruption(path + ": checksum mismatch");
  flatbuffers::Verifier verifier(body, body_bytes);
  if (!fb::VerifyIndexCheckpointBuffer(verifier)) return Status::corruption(path + ": does not verify");
  const fb::IndexCheckpoint* checkpoint = fb::GetIndexCheckpoint(body);
  if (checkpoint->format_version() != 1) return Status::corruption(path + ": unknown format version");
  if (checkpoint->positions_count() != checkpoint->committed_position()) {
    return Status::corruption(path + ": position count disagrees with the committed position");
  }
  return checkpoint;
}

IndexedEnd end_of(const fb::IndexCheckpoint& checkpoint) {
  return {checkpoint.committed_position(), checkpoint.segment_first_position(), checkpoint.segment_end_offset(),
          checkpoint.last_timestamp_ns()};
}

}  // namespace

Result<IndexedEnd> LogIndex::read_checkpoint_end(Env* env, const std::string& index_dir) {
  const std::string path = index_dir + "/" + kCheckpointFileName;
  if (!env->file_exists(path)) return Status::not_found(path + " is missing");
  std::vector<std::byte> bytes;
  OL_ASSIGN_OR_RETURN(const fb::IndexCheckpoint* checkpoint, read_checkpoint(env, path, &bytes));
  return end_of(*checkpoint);
}

Status LogIndex::load_checkpoint() {
  const std::string path = dir_ + "/" + kCheckpointFileName;
  std::vector<std::byte> bytes;
  OL_ASSIGN_OR_RETURN(const fb::IndexCheckpoint* checkpoint, read_checkpoint(env_, path, &bytes));
  OL_RETURN_IF_ERROR(open_files(checkpoint->positions_count(), checkpoint->time_count()));
  if (checkpoint->types() != nullptr) {
    for (const fb::TypePostings* type : *checkpoint->types()) {
      OL_ASSIGN_OR_RETURN(TypeSlot * slot, type_slot(type->name()->string_view(), type->count()));
      slot->published.store(type->count(), std::memory_order_release);
    }
  }
  if (checkpoint->streams_file() != nullptr) {
    OL_RETURN_IF_ERROR(streams_.load(env_, dir_ + "/" + checkpoint->streams_file()->str()));
    if (streams_.size() != checkpoint->streams_count()) {
      return Status::corruption(path + ": names a stream snapshot of " + std::to_string(streams_.size()) +
                                " streams, expected " + std::to_string(checkpoint->streams_count()));
    }
    streams_file_ = checkpoint->streams_file()->str();
  }
  checkpoint_end_ = end_of(*checkpoint);
  end_ = checkpoint_end_;
  return Status::ok();
}

Result<LogIndex::TypeSlot*> LogIndex::type_slot(std::string_view type, uint64_t valid_count) {
  if (auto it = types_by_name_.find(type); it != types_by_name_.end()) return it->second;
  if (types_.size() >= options_.types_max) {
    return Status::too_large("more than " + std::to_string(options_.types_max) + " distinct event types");
  }
  auto slot = std::make_unique<TypeSlot>();
  slot->name = std::string(type);
  OL_ASSIGN_OR_RETURN(slot->postings, AppendArray::open(env_, dir_ + "/" + type_file_name(types_.size()),
                                                        sizeof(uint64_t), options_.type_reserve_bytes, valid_count));
  TypeSlot* raw = slot.get();
  std::unique_lock lock(types_mutex_);
  types_.push_back(std::move(slot));
  types_by_name_.emplace(raw->name, raw);
  return raw;
}

const LogIndex::TypeSlot* LogIndex::find_type(std::string_view type) const {
  std::shared_lock lock(types_mutex_);
  auto it = types_by_name_.find(type);
  return it == types_by_name_.end() ? nullptr : it->second;
}

bool LogIndex::knows_type(std::string_view type) const { return find_type(type) != nullptr; }

Status LogIndex::add_type(std::string_view type) { return type_slot(type, 0).status(); }

bool LogIndex::has_room_for_types(size_t new_type_names) const {
  std::shared_lock lock(types_mutex_);
  return types_.size() + new_type_names <= options_.types_max;
}

void LogIndex::remember_unit(std::span<const std::byte* const> records) {
  if (records.empty()) return;
  RecentAppend append;
  EventId first_id;
  std::string_view previous_stream;
  for (const std::byte* record : records) {
    const fb::EventRecord* event = fb::GetEventRecord(record);
    EventId id;
    std::memcpy(id.bytes.data(), event->event_id()->bytes()->data(), id.bytes.size());
    const std::string_view stream_id = event->stream_id()->string_view();
    if (append.event_count == 0) {
      first_id = id;
      append.first_position = event->global_position();
      append.first_stream_hash = stream_hash(stream_id);
    }
    // A unit holds each stream's events together, in the order of the request.
    if (append.event_count == 0 || stream_id != previous_stream) append.stream_versions.push_back(0);
    append.stream_versions.back() = event->stream_version();
    previous_stream = stream_id;
    append.ids_hash = RecentAppends::hash_ids(append.ids_hash, id);
    ++append.event_count;
  }
  recent_.add(first_id, std::move(append));
}

Status LogIndex::add_unit(const std::byte* unit, const storage::UnitHeader& header,
                          uint64_t segment_first_position, uint64_t unit_offset) {
  Status status;
  uint64_t last_timestamp = end_.timestamp_ns;
  unit_records_.clear();
  storage::for_each_event(unit, header, [&](size_t record_offset, const std::byte* record) {
    if (!status.is_ok()) return;
    const fb::EventRecord* event = fb::GetEventRecord(record);
    const std::string_view stream_id = event->stream_id()->string_view();
    const StreamState previous = stream(stream_id);
    if (event->stream_version() != previous.version + 1) {
      status = Status::corruption("event at position " + std::to_string(event->global_position()) +
                                  " has version " + std::to_string(event->stream_version()) + " of stream '" +
                                  std::string(stream_id) + "', expected " + std::to_string(previous.version + 1));
      return;
    }
    const StreamState next{event->stream_version(), event->global_position()};
    if (auto it = pending_streams_.find(stream_id); it != pending_streams_.end()) {
      it.value() = next;
    } else {
      pending_streams_.emplace(std::string(stream_id), next);
    }
    const uint64_t start_bit = unit_records_.empty() ? PositionEntry::kUnitStartBit : 0;
    pending_positions_.push_back({(unit_offset + record_offset) | start_bit, previous.last_position});
    unit_records_.push_back(record);
    Result<TypeSlot*> slot = type_slot(event->event_type()->string_view(), 0);
    if (!slot.is_ok()) {
      status = slot.status();
      return;
    }
    if ((*slot)->pending.empty()) pending_types_.push_back(*slot);
    (*slot)->pending.push_back(event->global_position());
    last_timestamp = event->timestamp_ns();
  });
  OL_RETURN_IF_ERROR(status);
  remember_unit(unit_records_);
  const uint64_t first = header.first_position;
  if (last_time_entry_position_ == 0 || first >= last_time_entry_position_ + options_.time_stride_events) {
    const uint64_t first_timestamp = storage::event_timestamp_ns(unit + storage::kUnitHeaderBytes +
                                                                 storage::kEventFrameHeaderBytes);
    pending_time_.push_back({first_timestamp, first});
    last_time_entry_position_ = first;
  }
  end_ = {first + header.event_count - 1, segment_first_position, unit_offset + storage::kUnitHeaderBytes +
                                                                      header.body_bytes, last_timestamp};
  return Status::ok();
}

StreamState LogIndex::stream(std::string_view stream_id) const {
  if (auto it = pending_streams_.find(stream_id); it != pending_streams_.end()) return it->second;
  return streams_.get(stream_id);
}

void LogIndex::publish_streams() {
  for (const auto& [stream_id, state] : pending_streams_) streams_.put(stream_id, state);
  pending_streams_.clear();
}

Status LogIndex::flush() {
  OL_RETURN_IF_ERROR(positions_->append(pending_positions_.data(), pending_positions_.size()));
  pending_positions_.clear();
  for (TypeSlot* slot : pending_types_) {
    OL_RETURN_IF_ERROR(slot->postings->append(slot->pending.data(), slot->pending.size()));
    slot->pending.clear();
    slot->published.store(slot->postings->count(), std::memory_order_release);
  }
  pending_types_.clear();
  OL_RETURN_IF_ERROR(time_->append(pending_time_.data(), pending_time_.size()));
  pending_time_.clear();
  time_published_.store(time_->count(), std::memory_order_release);
  OL_CHECK(positions_->count() == end_.position);
  return Status::ok();
}

Status LogIndex::write_checkpoint() {
  OL_CHECK(pending_positions_.empty() && pending_time_.empty() && pending_types_.empty() &&
           pending_streams_.empty());
  OL_RETURN_IF_ERROR(positions_->sync());
  OL_RETURN_IF_ERROR(time_->sync());
  flatbuffers::FlatBufferBuilder builder(1024);
  std::vector<flatbuffers::Offset<fb::TypePostings>> types;
  {
    std::shared_lock lock(types_mutex_);
    for (const auto& slot : types_) {
      OL_RETURN_IF_ERROR(slot->postings->sync());
      types.push_back(fb::CreateTypePostings(builder, builder.CreateString(slot->name), slot->postings->count()));
    }
  }
  const std::string streams_file = streams_file_name(end_.position);
  OL_RETURN_IF_ERROR(streams_.save(env_, dir_ + "/" + streams_file + ".tmp"));
  auto checkpoint = fb::CreateIndexCheckpoint(
      builder, 1, end_.position, end_.segment_first_position, end_.segment_offset, end_.timestamp_ns,
      positions_->count(), time_->count(), builder.CreateVector(types), builder.CreateString(streams_file),
      streams_.size());
  fb::FinishIndexCheckpointBuffer(builder, checkpoint);
  std::vector<std::byte> bytes(sizeof(uint64_t) + builder.GetSize());
  const uint64_t checksum = XXH3_64bits(builder.GetBufferPointer(), builder.GetSize());
  std::memcpy(bytes.data(), &checksum, sizeof(checksum));
  std::memcpy(bytes.data() + sizeof(checksum), builder.GetBufferPointer(), builder.GetSize());

  const std::string path = dir_ + "/" + kCheckpointFileName;
  OL_ASSIGN_OR_RETURN(std::unique_ptr<File> file, env_->open_file(path + ".tmp", OpenMode::kCreate));
  OL_RETURN_IF_ERROR(file->truncate(0));
  OL_RETURN_IF_ERROR(file->write_at(0, bytes));
  OL_RETURN_IF_ERROR(file->sync_data());
  // The snapshot's name is durable before the checkpoint naming it is.
  OL_RETURN_IF_ERROR(env_->rename_file(dir_ + "/" + streams_file + ".tmp", dir_ + "/" + streams_file));
  OL_RETURN_IF_ERROR(env_->sync_dir(dir_));
  OL_RETURN_IF_ERROR(env_->rename_file(path + ".tmp", path));
  OL_RETURN_IF_ERROR(env_->sync_dir(dir_));
  checkpoint_end_ = end_;
  streams_file_ = streams_file;
  remove_other_stream_snapshots();
  return Status::ok();
}

void LogIndex::remove_other_stream_snapshots() {
  Result<std::vector<std::string>> names = env_->list_dir(dir_);
  if (!names.is_ok()) return;
  // Best effort: a snapshot left behind is only disk space, and the next checkpoint
  // tries again.
  for (const std::string& name : *names) {
    if (is_streams_file(name) && name != streams_file_) (void)env_->remove_file(dir_ + "/" + name);
  }
}

PositionEntry LogIndex::position_entry(uint64_t position) const {
  OL_CHECK(position >= 1);
  return positions_->get<PositionEntry>(position - 1);
}

std::vector<uint64_t> LogIndex::type_positions(std::string_view type, uint64_t from, uint64_t committed,
                                               size_t count_max) const {
  std::vector<uint64_t> positions;
  const TypeSlot* slot = find_type(type);
  if (slot == nullptr) return positions;
  const uint64_t count = slot->published.load(std::memory_order_acquire);
  uint64_t low = 0;
  uint64_t high = count;  // first posting >= from
  while (low < high) {
    const uint64_t mid = low + (high - low) / 2;
    if (slot->postings->get<uint64_t>(mid) < from) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  for (uint64_t i = low; i < count && positions.size() < count_max; ++i) {
    const uint64_t position = slot->postings->get<uint64_t>(i);
    if (position > committed) break;
    positions.push_back(position);
  }
  return positions;
}

uint64_t LogIndex::time_scan_start(uint64_t from_ns) const {
  const uint64_t count = time_published_.load(std::memory_order_acquire);
  uint64_t low = 0;
  uint64_t high = count;  // first entry with timestamp >= from_ns
  while (low < high) {
    const uint64_t mid = low + (high - low) / 2;
    if (time_->get<TimeEntry>(mid).timestamp_ns < from_ns) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  return low == 0 ? 1 : time_->get<TimeEntry>(low - 1).position;
}

}  // namespace orderlog::index
