// See recovery.h.
#include "store/recovery.h"

#include <algorithm>
#include <vector>

#include "orderlog/check.h"
#include "storage/aligned_buffer.h"
#include "storage/segment_preparer.h"
#include "storage/unit_reader.h"

namespace orderlog::store {

using storage::Segment;
using storage::SegmentList;
using storage::UnitCheck;
using storage::UnitState;

Status load_segments(Env* env, const std::string& log_dir, SegmentList* segments, bool direct_writes) {
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
                        Segment::open(env, path, position, OpenMode::kReadWrite, direct_writes && last));
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

bool any_nonzero(const std::byte* begin, const std::byte* end) {
  return std::any_of(begin, end, [](std::byte b) { return b != std::byte{0}; });
}

// Every byte zero: a zeroed first header alone does not make a segment empty, since
// units written after it may be acknowledged. Read only on the rare paths (an
// interrupted roll, a damaged unit).
bool segment_is_empty(const Segment& segment) {
  return !any_nonzero(segment.data(), segment.data() + segment.capacity_bytes());
}

// Whether a valid unit that starts a group-commit write, at position `expected` (the
// bad unit's) or later, lies in [from, to): the writer starts a write only after the
// previous one is synced, so such a unit proves that everything before it was
// acknowledged. Earlier positions can only be copies of older units inside an event's
// payload (an application may store log bytes), which prove nothing.
bool batch_starts_within(const Segment& segment, uint64_t from, uint64_t to, uint64_t expected) {
  for (uint64_t offset = from; offset + storage::kUnitHeaderBytes <= to; offset += storage::kAlignmentBytes) {
    const storage::UnitHeader header = storage::load_unit_header(segment.data() + offset);
    if (header.magic != storage::kUnitMagic || (header.flags & storage::kUnitFlagBatchStart) == 0 ||
        header.first_position < expected) {
      continue;
    }
    const UnitCheck check =
        storage::check_unit(segment.data(), segment.capacity_bytes(), offset, header.first_position);
    if (check.state == UnitState::kValid) return true;
  }
  return false;
}

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

}  // namespace

namespace {

// Removes segments [first, end) when every one of them is empty; false otherwise.
Result<bool> remove_stray_segments(Env* env, const RecoveryOptions& options, SegmentList* segments, size_t first) {
  for (size_t i = first; i < segments->size(); ++i) {
    if (!segment_is_empty(*segments->at(i))) return false;
  }
  while (segments->size() > first) {
    std::unique_ptr<Segment> stray = segments->remove_last();
    options.log(LogLevel::kWarning, "recovery: removing " + stray->path() +
                                        ", an empty segment left by an interrupted roll");
    const std::string path = stray->path();
    stray.reset();
    OL_RETURN_IF_ERROR(env->remove_file(path));
  }
  OL_RETURN_IF_ERROR(env->sync_dir(options.log_dir));
  return true;
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
      OL_ASSIGN_OR_RETURN(const bool removed, remove_stray_segments(env, options, segment_list, i));
      if (removed) break;
      return Status::corruption("segment " + segment->path() + " starts at position " +
                                std::to_string(segment->first_position()) + ", expected " + std::to_string(expected));
    }
    while (segment->capacity_bytes() - offset >= storage::kUnitHeaderBytes) {
      UnitCheck check = storage::check_unit(segment->data(), segment->capacity_bytes(), offset, expected);
      const uint64_t window_end = std::min(segment->capacity_bytes(), offset + options.torn_window_bytes);
      if (check.state == UnitState::kEnd) {
        // Zeros where the next header would be: the log's end, unless bytes follow
        // within one write's reach (a torn write whose first page never reached the
        // disk while later ones did). Those are cut like any torn write: left in
        // place, a later append ending where one of them starts would bring an
        // unacknowledged unit back at the next recovery.
        if (!any_nonzero(segment->data() + offset, segment->data() + window_end)) break;
        check.state = UnitState::kInvalid;
        check.problem = "a zeroed unit header followed by written bytes";
      }
      if (check.state == UnitState::kInvalid) {
        bool data_after = false;
        for (size_t j = i + 1; j < segments.size(); ++j) data_after = data_after || !segment_is_empty(*segments.at(j));
        data_after = data_after ||
                     any_nonzero(segment->data() + window_end, segment->data() + segment->capacity_bytes()) ||
                     batch_starts_within(*segment, offset + storage::kAlignmentBytes, window_end, expected);
        if (data_after) {
          return Status::corruption(segment->path() + " offset " + std::to_string(offset) + ": " + check.problem +
                                    " (acknowledged data follows, refusing to open)");
        }
        OL_RETURN_IF_ERROR(cut_torn_tail(segment, offset, check, options));
        break;
      }
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
