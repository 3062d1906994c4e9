// LogIndex: every index derived from the log, kept in index/ and rebuildable from it.
//  - positions.idx: global position -> record offset in its segment, and the position
//    of the previous event of the same stream (a per-stream chain, walked by reads);
//  - type-<id>.idx: per event type, the positions of its events;
//  - time.idx: sparse (timestamp, position) pairs; timestamps rise with position;
//  - the stream table (stream -> version, last position), snapshotted at checkpoints;
//  - a bounded window of recent event ids, for idempotent retries.
// A checkpoint (index/CHECKPOINT) records how far all of them are complete, so an
// open re-indexes only the log tail after it. The writer is the only mutator;
// readers use published counts and ignore anything past the committed position.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/string_map.h"
#include "index/append_array.h"
#include "index/recent_appends.h"
#include "index/stream_table.h"
#include "orderlog/env.h"
#include "orderlog/types.h"
#include "storage/record_format.h"

namespace orderlog::index {

struct PositionEntry {
  // Offset of the EventRecord within its segment (a multiple of 8); bit 0 is set on
  // the first event of a unit.
  uint64_t location = 0;
  uint64_t prev_in_stream = 0;  // position of the stream's previous event, 0 for the first

  static constexpr uint64_t kUnitStartBit = 1;
  uint64_t record_offset() const { return location & ~kUnitStartBit; }
  bool starts_unit() const { return (location & kUnitStartBit) != 0; }
};

struct TimeEntry {
  uint64_t timestamp_ns = 0;
  uint64_t position = 0;
};

// Where the indexed part of the log ends.
struct IndexedEnd {
  uint64_t position = 0;                // last indexed event
  uint64_t segment_first_position = 0;  // segment holding the end, 0 when the log is empty
  uint64_t segment_offset = 0;          // byte after the last indexed unit in it
  uint64_t timestamp_ns = 0;            // of the last indexed event
};

struct LogIndexOptions {
  uint64_t positions_reserve_bytes = 64ull << 30;  // 4G events
  uint64_t type_reserve_bytes = 8ull << 30;        // 1G events per type
  uint64_t time_reserve_bytes = 1ull << 30;
  size_t types_max = 4096;
  size_t dedup_window_events = 65'536;
  uint64_t time_stride_events = 64;  // one time entry per this many events at most
};

class LogIndex {
 public:
  // Opens index_dir. With a checkpoint that verifies, the index files are kept up to
  // it and checkpoint_end() says where the log tail starts; otherwise (none, or it
  // does not verify: `problem` says why) everything starts empty and is rebuilt.
  static Result<std::unique_ptr<LogIndex>> open(Env* env, const std::string& index_dir,
                                                const LogIndexOptions& options, std::string* problem);
  ~LogIndex();

  const IndexedEnd& checkpoint_end() const { return checkpoint_end_; }

  // Where the checkpoint in index_dir says the indexed log ends, read without opening
  // anything for writing (the offline check). kNotFound without a checkpoint,
  // kCorruption when it does not verify.
  static Result<IndexedEnd> read_checkpoint_end(Env* env, const std::string& index_dir);

  // ---- Writer side ----
  // Indexes one valid unit at `unit_offset` of the segment starting at
  // `segment_first_position`. Stream table and recent ids change at once; index
  // files on flush(). kCorruption when the unit contradicts the index (version gap).
  Status add_unit(const std::byte* unit, const storage::UnitHeader& header, uint64_t segment_first_position,
                  uint64_t unit_offset);
  // Writes buffered entries to the index files and publishes type/time counts.
  Status flush();
  // Whether these (new or known) types fit under types_max.
  bool has_room_for_types(size_t new_type_names) const;
  bool knows_type(std::string_view type) const;
  // Creates the postings file of a type not seen before (a no-op for a known one), so
  // the writer can refuse one append when that fails (EMFILE, ENOSPC) instead of
  // meeting the failure in add_unit, with the unit half indexed.
  Status add_type(std::string_view type);
  const RecentAppends& recent_appends() const { return recent_; }
  // Refills the recent-append window from stored units, oldest first (at open, so
  // retries of appends made before a restart are still recognised).
  void clear_recent() { recent_.clear(); }
  // REQUIRES: `records` are every event of one stored unit, in order.
  void remember_unit(std::span<const std::byte* const> records);
  // The stream fingerprint kept with recent appends.
  static uint32_t stream_hash(std::string_view stream_id);
  // The stream as the writer sees it: including indexed but unpublished units.
  StreamState stream(std::string_view stream_id) const;
  // Makes the stream changes of everything indexed so far visible to readers.
  // Call after the units are durable (or, in recovery, verified).
  void publish_streams();
  const IndexedEnd& end() const { return end_; }
  // Syncs all index files and atomically replaces index/CHECKPOINT with `end()`.
  // REQUIRES: flush() since the last add_unit, and everything indexed is durable.
  Status write_checkpoint();

  // ---- Reader side (any thread) ----
  // REQUIRES: 1 <= position <= a committed position.
  PositionEntry position_entry(uint64_t position) const;
  // Positions of `type` >= from, up to count_max, all <= committed.
  std::vector<uint64_t> type_positions(std::string_view type, uint64_t from, uint64_t committed,
                                       size_t count_max) const;
  // The position to start a time scan at: the last sparse entry with a timestamp
  // < from_ns (1 when there is none).
  uint64_t time_scan_start(uint64_t from_ns) const;
  size_t stream_count() const { return streams_.size(); }
  // The stream as readers see it: published units only. Its last position may still
  // be past a committed position the reader loaded earlier.
  StreamState published_stream(std::string_view stream_id) const { return streams_.get(stream_id); }

  static constexpr const char* kCheckpointFileName = "CHECKPOINT";

 private:
  struct TypeSlot;

  LogIndex(Env* env, std::string dir, const LogIndexOptions& options);
  Status load_checkpoint();
  // Removes stream-table snapshots but the one the checkpoint names (`streams_file_`).
  void remove_other_stream_snapshots();
  Status open_files(uint64_t positions_count, uint64_t time_count);
  // The slot of `type`, opening its postings file with `valid_count` entries if new.
  Result<TypeSlot*> type_slot(std::string_view type, uint64_t valid_count);
  const TypeSlot* find_type(std::string_view type) const;

  Env* env_;
  std::string dir_;
  LogIndexOptions options_;
  IndexedEnd checkpoint_end_;
  std::string streams_file_;  // the snapshot the checkpoint names; empty before the first
  IndexedEnd end_;

  StreamTable streams_;
  std::unique_ptr<AppendArray> positions_;
  std::unique_ptr<AppendArray> time_;
  std::atomic<uint64_t> time_published_{0};
  uint64_t last_time_entry_position_ = 0;

  mutable std::shared_mutex types_mutex_;  // guards the map's shape, not the slots' postings
  std::vector<std::unique_ptr<TypeSlot>> types_;
  StringMap<TypeSlot*> types_by_name_;

  // Stream changes not yet visible to readers (writer only).
  FlatStringMap<StreamState> pending_streams_;
  std::vector<PositionEntry> pending_positions_;
  std::vector<TimeEntry> pending_time_;
  std::vector<TypeSlot*> pending_types_;  // slots with buffered postings

  RecentAppends recent_;
  std::vector<const std::byte*> unit_records_;  // scratch for add_unit
};

}  // namespace orderlog::index
