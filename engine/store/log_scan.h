// How a reader of the log on disk decides what it finds at a unit boundary: a valid
// unit, the log's end, an unacknowledged torn write, or corruption. Recovery acts on
// the answer (it cuts the torn write); the offline check (orderlog/log_check.h) only
// reports it. One decision for both, so `orderlog verify` says exactly what the next
// open will do.
#pragma once

#include <cstdint>
#include <string>

#include "storage/segment.h"
#include "storage/unit_reader.h"

namespace orderlog::store {

enum class StepKind : uint8_t {
  kUnit,     // a valid unit: `check` has its header
  kEnd,      // the log ends here: zeros, and nothing written within one write's reach
  kTorn,     // an unacknowledged torn write starts here (nothing acknowledged follows)
  kCorrupt,  // an invalid unit with acknowledged data after it
};

struct ScanStep {
  StepKind kind = StepKind::kEnd;
  storage::UnitCheck check;  // for kTorn / kCorrupt: check.problem says what is wrong
};

// The bytes one group-commit write can span, from the writer's batch_bytes_max:
// unsynced bytes lie within this much of the first invalid unit.
uint64_t torn_window_bytes(uint64_t batch_bytes_max);

// Examines the unit at `offset` of segments.at(index), which should start at
// `expected`. An invalid unit is a torn write when it belongs to the last group-commit
// write: no later segment has data, nothing is written farther than `torn_window`
// beyond it, and no valid unit marked as the start of a later write follows it.
// REQUIRES: index < segments.size(); a unit header fits at `offset`.
ScanStep examine_unit(const storage::SegmentList& segments, size_t index, uint64_t offset, uint64_t expected,
                      uint64_t torn_window);

// Every byte zero: a zeroed first header alone does not make a segment empty, since
// units written after it may be acknowledged. Reads the whole segment.
bool segment_is_empty(const storage::Segment& segment);

// Whether segments [first, end) are all empty: a segment whose name does not continue
// the log is then a stray left by an interrupted roll (recovery removes it);
// otherwise the log has a gap.
bool segments_empty_from(const storage::SegmentList& segments, size_t first);

// "segment FILE starts at position P, expected Q".
std::string misplaced_segment_message(const storage::Segment& segment, uint64_t expected);

// "FILE offset N: problem (acknowledged data follows, refusing to open)".
std::string corruption_message(const storage::Segment& segment, uint64_t offset, const storage::UnitCheck& check);

}  // namespace orderlog::store
