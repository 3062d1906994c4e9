// See recovery.h.
#include "store/recovery.h"

#include <algorithm>
#include <vector>

#include "orderlog/check.h"
#include "storage/aligned_buffer.h"
#include "storage/segment_preparer.h"
#include "storage/unit_reader.h"
#include "store/log_scan.h"

namespace orderlog::store {

using storage::Segment;
using storage::SegmentList;
using storage::UnitCheck;

Status load_segments(Env* env, const std::string& log_dir, SegmentList* segments, bool direct_writes,
                     OpenMode mode) {
  OL_ASSIGN_OR_RETURN(std::vector<std::string> names, env->list_dir(log_dir));
  std::vector<uint64_t> positions;
  for (const std::string& name : names) {
    if (auto position = storage::parse_segment_file_name(name)) positions.push_back(*position);
  }
  std::sort(positions.begin(), positions.end());
  for (uint64_t position : positions) {
    const std::string path = log_dir + "/" + storage::segment_file_name(position);
    // Only the last segment is ever written again (sealed ones keep one descriptor).
    const bool last = position == positions.back();
    OL_ASSIGN_OR_RETURN(std::unique_ptr<Segment> segment,
                        Segment::open(env, path, position, mode, direct_writes && last));
    OL_RETURN_IF_ERROR(segments->add(std::move(segment)));
  }
  return Status::ok();
}

bool checkpoint_matches_log(const index::LogIndex& index, const SegmentList& segments) {
  const index::IndexedEnd& end = index.checkpoint_end();
  if (end.position == 0) return true;
  const Segment* segment = segments.find(end.position);
  if (segment == nullptr || segment->first_position() != end.segment_first_position) return false;
  const uint64_t offset = index.position_entry(end.position).record_offset();
  if (offset >= end.segment_offset || end.segment_offset > segment->capacity_bytes()) return false;
  if (storage::verified_event_position(segment->data(), end.segment_offset, offset) != end.position) return false;
  // The segments the checkpoint covers must follow one another: with one missing,
  // its positions would be looked up in the segment before it. A log that does not
  // chain is rebuilt from its first segment, and that scan names the gap.
  if (segments.at(0)->first_position() != 1) return false;
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    const uint64_t last = segments.at(i + 1)->first_position() - 1;
    if (last > end.position) break;  // past the checkpoint, recovery reads the names in order
    const Segment& sealed = *segments.at(i);
    if (last < sealed.first_position()) return false;
    const uint64_t record = index.position_entry(last).record_offset();
    if (storage::verified_event_position(sealed.data(), sealed.capacity_bytes(), record) != last) return false;
  }
  return true;
}

namespace {

// Zeroes the torn bytes [offset, last non-zero byte] so a later scan cannot mistake
// them for data, and makes that durable before any new append lands after them. A
// direct write covers whole pages: the bytes before `offset` in the first page are
// written back as they are, and those after the last non-zero byte are zeros anyway.
Status cut_torn_tail(Segment* segment, uint64_t offset, const UnitCheck& check, const RecoveryOptions& options) {
  const std::byte* data = segment->data();
  uint64_t end = segment->capacity_bytes();
  while (end > offset && data[end - 1] == std::byte{0}) --end;
  const size_t alignment = segment->write_alignment();
  const uint64_t begin = storage::align_down_to(offset, alignment);
  const uint64_t stop = storage::align_up_to(end, alignment);
  OL_CHECK(stop <= segment->capacity_bytes());  // Segment::open: capacity is aligned
  storage::AlignedBuffer bytes;
  bytes.append(std::span(data + begin, offset - begin));
  bytes.resize_zeroed(stop - begin);
  OL_RETURN_IF_ERROR(segment->file()->write_at(begin, bytes.bytes()));
  OL_RETURN_IF_ERROR(segment->file()->sync_data());
  options.log(LogLevel::kWarning, "recovery: cut an unacknowledged torn write of " + std::to_string(end - offset) +
                                      " bytes at " + segment->path() + " offset " + std::to_string(offset) + " (" +
                                      check.problem + ")");
  return Status::ok();
}

// Removes segments [first, end), empty ones left by an interrupted roll.
Status remove_stray_segments(Env* env, const RecoveryOptions& options, SegmentList* segments, size_t first) {
  while (segments->size() > first) {
    std::unique_ptr<Segment> stray = segments->remove_last();
    options.log(LogLevel::kWarning, "recovery: removing " + stray->path() +
                                        ", an empty segment left by an interrupted roll");
    const std::string path = stray->path();
    stray.reset();
    OL_RETURN_IF_ERROR(env->remove_file(path));
  }
  return env->sync_dir(options.log_dir);
}

}  // namespace

Result<RecoveredLog> recover_tail(Env* env, const RecoveryOptions& options, SegmentList* segment_list,
                                  index::LogIndex* index) {
  const SegmentList& segments = *segment_list;
  const index::IndexedEnd start = index->checkpoint_end();
  RecoveredLog recovered{start.position, start.segment_offset, start.timestamp_ns, 0};
  size_t first_segment = 0;
  if (start.segment_first_position != 0) {
    while (first_segment < segments.size() &&
           segments.at(first_segment)->first_position() != start.segment_first_position) {
      ++first_segment;
    }
    OL_CHECK(first_segment < segments.size());  // checkpoint_matches_log() held
  }
  uint64_t expected = start.position + 1;
  for (size_t i = first_segment; i < segments.size(); ++i) {
    Segment* segment = segments.at(i);
    uint64_t offset = (i == first_segment && start.segment_first_position != 0) ? start.segment_offset : 0;
    if (offset == 0 && segment->first_position() != expected) {
      if (!segments_empty_from(segments, i)) return Status::corruption(misplaced_segment_message(*segment, expected));
      OL_RETURN_IF_ERROR(remove_stray_segments(env, options, segment_list, i));
      break;
    }
    while (segment->capacity_bytes() - offset >= storage::kUnitHeaderBytes) {
      const ScanStep step = examine_unit(segments, i, offset, expected, options.torn_window_bytes);
      if (step.kind == StepKind::kEnd) break;
      if (step.kind == StepKind::kCorrupt) return Status::corruption(corruption_message(*segment, offset, step.check));
      if (step.kind == StepKind::kTorn) {
        OL_RETURN_IF_ERROR(cut_torn_tail(segment, offset, step.check, options));
        break;
      }
      const UnitCheck& check = step.check;
      OL_RETURN_IF_ERROR(index->add_unit(segment->data() + offset, check.header, segment->first_position(), offset));
      offset += check.total_bytes();
      expected += check.header.event_count;
      if (++recovered.units_indexed % 4096 == 0) {
        OL_RETURN_IF_ERROR(index->flush());
        index->publish_streams();
      }
    }
    recovered.active_offset = offset;
  }
  OL_RETURN_IF_ERROR(index->flush());
  index->publish_streams();
  recovered.committed_position = index->end().position;
  recovered.last_timestamp_ns = index->end().timestamp_ns;
  return recovered;
}

}  // namespace orderlog::store
