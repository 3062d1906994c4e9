// See snapshot_log.h. Snapshots are derived data, so this is deliberately more
// forgiving than the event log's recovery: a damaged region anywhere is skipped (the
// scan steps 8 bytes at a time until a record checks out again) and a damaged tail is
// cut. A failed write or sync abandons the segment rather than the store: the next
// batch starts a fresh file, so nothing is ever built on bytes of unknown state.
#include "snapshot/snapshot_log.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <optional>
#include <string_view>

#include "orderlog/check.h"

namespace orderlog::snapshot {
namespace {

constexpr std::string_view kSegmentSuffix = ".snap";
constexpr size_t kSegmentDigits = 20;
// One write_at gathers small records up to this; a larger record goes out alone.
constexpr size_t kWriteBytesMax = 4 * 1024 * 1024;

std::optional<uint64_t> parse_segment_name(std::string_view name) {
  if (name.size() != kSegmentDigits + kSegmentSuffix.size() || !name.ends_with(kSegmentSuffix)) return std::nullopt;
  uint64_t sequence = 0;
  const char* end = name.data() + kSegmentDigits;
  auto [ptr, error] = std::from_chars(name.data(), end, sequence);
  if (error != std::errc() || ptr != end || sequence == 0) return std::nullopt;
  return sequence;
}

struct ScanResult {
  uint64_t valid_end = 0;  // just past the last valid record
  uint64_t records = 0;
  uint64_t skipped = 0;
};

// Records start at 8-byte offsets, so after a bad one the next candidate is 8 bytes
// on; a length field cannot be trusted when its record failed its checksum.
ScanResult scan_segment(const std::byte* base, uint64_t file_bytes, const SnapshotLog::RecordVisitor& visitor) {
  ScanResult result;
  bool in_damage = false;
  uint64_t offset = 0;
  while (file_bytes - offset >= kRecordHeaderBytes) {
    const RecordView view = check_record(base + offset, file_bytes - offset);
    if (view.record_bytes == 0) {
      if (!in_damage) ++result.skipped;
      in_damage = true;
      offset += kAlignmentBytes;
      continue;
    }
    OL_CHECK(view.record_bytes <= file_bytes - offset);
    visitor(base + offset, view);
    ++result.records;
    in_damage = false;
    offset += view.record_bytes;
    result.valid_end = offset;
  }
  if (offset < file_bytes && !in_damage) ++result.skipped;  // a fragment shorter than a header
  return result;
}

}  // namespace

Result<std::unique_ptr<SnapshotLog>> SnapshotLog::open(const SnapshotLogOptions& options,
                                                       const RecordVisitor& visitor, ScanStats* stats) {
  OL_CHECK(options.env != nullptr && options.log);
  OL_CHECK(options.segment_bytes_max >= kSegmentBytesMin && options.segment_bytes_max <= kSegmentBytesMax);
  std::unique_ptr<SnapshotLog> log(new SnapshotLog(options));
  OL_ASSIGN_OR_RETURN(std::vector<std::string> names, options.env->list_dir(options.dir));
  std::vector<uint64_t> sequences;
  for (const std::string& name : names) {
    if (std::optional<uint64_t> sequence = parse_segment_name(name)) sequences.push_back(*sequence);
  }
  std::sort(sequences.begin(), sequences.end());
  for (size_t i = 0; i < sequences.size(); ++i) {
    OL_RETURN_IF_ERROR(log->open_segment(sequences[i], i + 1 == sequences.size(), visitor, stats));
  }
  if (!sequences.empty()) log->next_sequence_ = sequences.back() + 1;
  return log;
}

std::string SnapshotLog::segment_path(uint64_t sequence) const {
  char name[kSegmentDigits + kSegmentSuffix.size() + 1];
  std::snprintf(name, sizeof(name), "%020llu.snap", static_cast<unsigned long long>(sequence));
  return options_.dir + "/" + name;
}

Status SnapshotLog::open_segment(uint64_t sequence, bool newest, const RecordVisitor& visitor, ScanStats* stats) {
  const std::string path = segment_path(sequence);
  OL_ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                      options_.env->open_file(path, newest ? OpenMode::kReadWrite : OpenMode::kReadOnly));
  OL_ASSIGN_OR_RETURN(const uint64_t file_bytes, file->size());
  ++stats->segments;
  if (file_bytes == 0 && !newest) return Status::ok();  // a roll that failed before writing
  // The newest segment keeps growing, so it reserves room for a whole segment.
  const uint64_t reserve_bytes = newest ? std::max(file_bytes, options_.segment_bytes_max) : file_bytes;
  OL_ASSIGN_OR_RETURN(const std::byte* base, file->map(reserve_bytes));
  const ScanResult scan = scan_segment(base, file_bytes, visitor);
  stats->records += scan.records;
  stats->skipped += scan.skipped;
  if (scan.skipped != 0) {
    options_.log(LogLevel::kWarning, "snapshots: skipped " + std::to_string(scan.skipped) +
                                         " damaged region(s) in " + path);
  }
  Segment segment{std::move(file), base, sequence};
  if (!newest) {
    sealed_.push_back(std::move(segment));
    return Status::ok();
  }
  resume_after(std::move(segment), scan.valid_end, file_bytes);
  return Status::ok();
}

void SnapshotLog::resume_after(Segment segment, uint64_t valid_end, uint64_t file_bytes) {
  if (valid_end < file_bytes) {
    const Status cut = segment.file->truncate(valid_end);
    if (!cut.is_ok()) {
      // Appending after the damage would still work; a fresh segment is simply tidier.
      options_.log(LogLevel::kWarning, "snapshots: cannot cut the damaged tail of " + segment_path(segment.sequence) +
                                           " (" + cut.to_string() + "); new snapshots go to a new segment");
      sealed_.push_back(std::move(segment));
      return;
    }
    options_.log(LogLevel::kInfo, "snapshots: cut " + std::to_string(file_bytes - valid_end) +
                                      " bytes of torn tail from " + segment_path(segment.sequence));
  }
  active_ = std::move(segment);
  active_bytes_ = valid_end;
  needs_roll_ = false;
}

Status SnapshotLog::append(std::span<const EncodedSnapshot> records, std::vector<const std::byte*>* locations) {
  locations->clear();
  Status status = append_unsynced(records, locations);
  if (status.is_ok() && active_unsynced_) status = sync_active();
  if (!status.is_ok()) {
    locations->clear();
    // Keep the file open: earlier batches' records in it are still indexed.
    if (active_.file != nullptr) sealed_.push_back(std::move(active_));
    active_ = {};
    active_unsynced_ = false;
    needs_roll_ = true;
  }
  return status;
}

Status SnapshotLog::append_unsynced(std::span<const EncodedSnapshot> records,
                                    std::vector<const std::byte*>* locations) {
  size_t next = 0;
  while (next < records.size()) {
    const uint64_t record_bytes = records[next].bytes.size();
    OL_CHECK(record_bytes > 0 && record_bytes <= options_.segment_bytes_max);
    if (needs_roll_ || active_bytes_ + record_bytes > options_.segment_bytes_max) OL_RETURN_IF_ERROR(roll());
    OL_ASSIGN_OR_RETURN(next, write_fitting(records, next, locations));
  }
  return Status::ok();
}

Result<size_t> SnapshotLog::write_fitting(std::span<const EncodedSnapshot> records, size_t first,
                                          std::vector<const std::byte*>* locations) {
  const uint64_t room_bytes = options_.segment_bytes_max - active_bytes_;
  size_t end = first;
  uint64_t chunk_bytes = 0;
  while (end < records.size() && chunk_bytes + records[end].bytes.size() <= room_bytes &&
         (end == first || chunk_bytes + records[end].bytes.size() <= kWriteBytesMax)) {
    chunk_bytes += records[end].bytes.size();
    ++end;
  }
  OL_CHECK(end > first);  // append_unsynced() rolled if the first did not fit
  std::span<const std::byte> data = records[first].bytes;
  if (end - first > 1) {
    write_buffer_.clear();
    for (size_t i = first; i < end; ++i) {
      write_buffer_.insert(write_buffer_.end(), records[i].bytes.begin(), records[i].bytes.end());
    }
    data = write_buffer_;
  }
  OL_RETURN_IF_ERROR(active_.file->write_at(active_bytes_, data));
  active_unsynced_ = true;
  for (size_t i = first; i < end; ++i) {
    locations->push_back(active_.base + active_bytes_);
    active_bytes_ += records[i].bytes.size();
  }
  return end;
}

Status SnapshotLog::sync_active() {
  OL_RETURN_IF_ERROR(active_.file->sync_data());
  active_unsynced_ = false;
  return Status::ok();
}

Status SnapshotLog::roll() {
  if (active_unsynced_) OL_RETURN_IF_ERROR(sync_active());
  if (active_.file != nullptr) sealed_.push_back(std::move(active_));
  active_ = {};
  needs_roll_ = true;
  // A failed attempt still uses up its number, so a retry never meets a half-made file.
  const uint64_t sequence = next_sequence_++;
  const std::string path = segment_path(sequence);
  OL_ASSIGN_OR_RETURN(std::unique_ptr<File> file, options_.env->open_file(path, OpenMode::kCreateExclusive));
  OL_ASSIGN_OR_RETURN(const std::byte* base, file->map(options_.segment_bytes_max));
  OL_RETURN_IF_ERROR(options_.env->sync_dir(options_.dir));
  active_ = {std::move(file), base, sequence};
  active_bytes_ = 0;
  needs_roll_ = false;
  return Status::ok();
}

}  // namespace orderlog::snapshot
