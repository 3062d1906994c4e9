// Recovery: on open, finds the segments, re-indexes the log after the index
// checkpoint, and acts on what an invalid unit means (store/log_scan.h decides it, for
// the offline check too). It is an unacknowledged torn write when it belongs to the
// last group-commit write: no later segment has data, nothing is written farther than
// one write's span beyond it, and no valid unit marked as the start of a later write
// follows it. Then its bytes are zeroed and the cut is logged. Otherwise it is
// corruption, reported with the file and offset.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "index/log_index.h"
#include "orderlog/env.h"
#include "orderlog/event_store.h"
#include "storage/segment.h"

namespace orderlog::store {

struct RecoveryOptions {
  std::string log_dir;
  // Bytes one group-commit write can span; unsynced bytes lie within this much of the
  // first invalid unit.
  uint64_t torn_window_bytes = 0;
  std::function<void(LogLevel, const std::string&)> log;
};

struct RecoveredLog {
  uint64_t committed_position = 0;
  uint64_t active_offset = 0;  // where the writer continues in segments.last()
  uint64_t last_timestamp_ns = 0;
  uint64_t units_indexed = 0;  // tail units re-indexed by this recovery
};

// Opens every segment of log_dir into `segments`; the last one for direct writes
// when `direct_writes` (see storage::Segment::open). kReadOnly for readers that never
// write (the offline check).
Status load_segments(Env* env, const std::string& log_dir, storage::SegmentList* segments, bool direct_writes,
                     OpenMode mode = OpenMode::kReadWrite);

// Whether the index checkpoint agrees with the log (its last event is where it says).
bool checkpoint_matches_log(const index::LogIndex& index, const storage::SegmentList& segments);

// Verifies and indexes the log after the checkpoint; truncates a torn tail. Empty
// trailing segments whose names do not continue the log (left by a roll that failed
// after naming its file) hold no data: they are removed from `segments` and disk.
Result<RecoveredLog> recover_tail(Env* env, const RecoveryOptions& options, storage::SegmentList* segments,
                                  index::LogIndex* index);

}  // namespace orderlog::store
