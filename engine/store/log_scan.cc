// See log_scan.h.
#include "store/log_scan.h"

#include <algorithm>

namespace orderlog::store {

using storage::Segment;
using storage::SegmentList;
using storage::UnitCheck;
using storage::UnitState;

namespace {

bool any_nonzero(const std::byte* begin, const std::byte* end) {
  return std::any_of(begin, end, [](std::byte b) { return b != std::byte{0}; });
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

}  // namespace

uint64_t torn_window_bytes(uint64_t batch_bytes_max) {
  // A write can exceed batch_bytes_max by one unit (a unit never splits), and a unit
  // can be as large as kUnitBytesMax on its own.
  return std::max<uint64_t>(batch_bytes_max, storage::kUnitBytesMax) + storage::kUnitBytesMax;
}

bool segment_is_empty(const Segment& segment) {
  return !any_nonzero(segment.data(), segment.data() + segment.capacity_bytes());
}

bool segments_empty_from(const SegmentList& segments, size_t first) {
  for (size_t i = first; i < segments.size(); ++i) {
    if (!segment_is_empty(*segments.at(i))) return false;
  }
  return true;
}

std::string misplaced_segment_message(const Segment& segment, uint64_t expected) {
  return "segment " + segment.path() + " starts at position " + std::to_string(segment.first_position()) +
         ", expected " + std::to_string(expected);
}

std::string corruption_message(const Segment& segment, uint64_t offset, const UnitCheck& check) {
  return segment.path() + " offset " + std::to_string(offset) + ": " + check.problem +
         " (acknowledged data follows, refusing to open)";
}

ScanStep examine_unit(const SegmentList& segments, size_t index, uint64_t offset, uint64_t expected,
                      uint64_t torn_window) {
  const Segment& segment = *segments.at(index);
  ScanStep step;
  step.check = storage::check_unit(segment.data(), segment.capacity_bytes(), offset, expected);
  if (step.check.state == UnitState::kValid) {
    step.kind = StepKind::kUnit;
    return step;
  }
  // Saturating: an absurd torn_window means "to the segment's end", never a wrap.
  const uint64_t window_end =
      torn_window >= segment.capacity_bytes() - offset ? segment.capacity_bytes() : offset + torn_window;
  if (step.check.state == UnitState::kEnd) {
    // Zeros where the next header would be: the log's end, unless bytes follow within
    // one write's reach (a torn write whose first page never reached the disk while
    // later ones did). Those are cut like any torn write: left in place, a later
    // append ending where one of them starts would bring an unacknowledged unit back
    // at the next recovery.
    if (!any_nonzero(segment.data() + offset, segment.data() + window_end)) {
      step.kind = StepKind::kEnd;
      return step;
    }
    step.check.state = UnitState::kInvalid;
    step.check.problem = "a zeroed unit header followed by written bytes";
  }
  bool data_after = false;
  for (size_t j = index + 1; j < segments.size() && !data_after; ++j) data_after = !segment_is_empty(*segments.at(j));
  data_after = data_after || any_nonzero(segment.data() + window_end, segment.data() + segment.capacity_bytes()) ||
               batch_starts_within(segment, offset + storage::kAlignmentBytes, window_end, expected);
  step.kind = data_after ? StepKind::kCorrupt : StepKind::kTorn;
  return step;
}

}  // namespace orderlog::store
