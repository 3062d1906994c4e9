// SnapshotLog: the segment files of the snapshot directory. At open it finds them,
// maps them and reports every valid record to a visitor (so the caller can build its
// index), skipping damaged regions by searching for the next record's magic. Later
// it appends batches of encoded records to the newest segment, rolling to a new one
// when full, with one sync per batch.
//
// It knows records only through snapshot_format.h and nothing of queues or indexes.
// After open, only one thread (the store's writer) may call append(). Records it
// reports stay mapped at the same address while the SnapshotLog lives, so readers on
// other threads may copy from them without a lock once they have learned the address
// through a happens-before edge (the store's index mutex).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "orderlog/env.h"
#include "orderlog/event_store.h"
#include "orderlog/status.h"
#include "snapshot/snapshot_format.h"

namespace orderlog::snapshot {

struct SnapshotLogOptions {
  Env* env = nullptr;
  std::string dir;
  uint64_t segment_bytes_max = 0;
  std::function<void(LogLevel, const std::string&)> log;
};

struct ScanStats {
  uint64_t segments = 0;
  uint64_t records = 0;  // valid ones
  uint64_t skipped = 0;  // damaged regions: each maximal run of bytes that is no valid record
};

class SnapshotLog {
 public:
  // Called once per valid record found at open, in log order.
  using RecordVisitor = std::function<void(const std::byte* record, const RecordView& view)>;

  // Opens every segment in `options.dir` (which must exist) and scans it. Damaged
  // bytes are skipped and counted, never an error; a damaged tail of the newest
  // segment is cut so appends continue after its last valid record. Fails only when
  // a segment cannot be listed, opened or mapped.
  static Result<std::unique_ptr<SnapshotLog>> open(const SnapshotLogOptions& options, const RecordVisitor& visitor,
                                                   ScanStats* stats);

  SnapshotLog(const SnapshotLog&) = delete;
  SnapshotLog& operator=(const SnapshotLog&) = delete;

  // Appends `records` and makes them durable. On success `locations[i]` is the mapped
  // address of records[i]. On failure no location is returned; the records may be
  // partly on disk (a later open finds any that are whole), and the next append
  // starts a new segment so it never builds on bytes of a failed write.
  // REQUIRES: every record fits in an empty segment; called from one thread.
  Status append(std::span<const EncodedSnapshot> records, std::vector<const std::byte*>* locations);

 private:
  struct Segment {
    std::unique_ptr<File> file;
    const std::byte* base = nullptr;
    uint64_t sequence = 0;
  };

  explicit SnapshotLog(const SnapshotLogOptions& options) : options_(options) {}

  std::string segment_path(uint64_t sequence) const;
  Status open_segment(uint64_t sequence, bool newest, const RecordVisitor& visitor, ScanStats* stats);
  void resume_after(Segment segment, uint64_t valid_end, uint64_t file_bytes);
  Status append_unsynced(std::span<const EncodedSnapshot> records, std::vector<const std::byte*>* locations);
  Result<size_t> write_fitting(std::span<const EncodedSnapshot> records, size_t first,
                               std::vector<const std::byte*>* locations);
  Status sync_active();
  Status roll();

  const SnapshotLogOptions options_;
  std::vector<Segment> sealed_;  // kept open: the index points into their mappings
  Segment active_;               // file == nullptr until the first roll
  uint64_t active_bytes_ = 0;    // where the next record goes in active_
  bool active_unsynced_ = false;
  bool needs_roll_ = true;
  uint64_t next_sequence_ = 1;
  std::vector<std::byte> write_buffer_;  // gathers small records into one write
};

}  // namespace orderlog::snapshot
