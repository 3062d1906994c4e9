// SnapshotStore: derived copies of aggregate states, so loading a long-lived
// aggregate reads its latest snapshot plus the events after it instead of its whole
// stream. Snapshots live in their own append-only log under DATA_DIR/snapshots,
// checksummed like the event log, with an index of the latest snapshot per aggregate.
// They are only an optimisation: a snapshot that is corrupt, torn or of an unknown
// schema version is skipped (and logged) and the aggregate is replayed from its events.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "orderlog/env.h"
#include "orderlog/event_store.h"
#include "orderlog/status.h"

namespace orderlog {

struct Snapshot {
  std::string aggregate_id;
  uint64_t version = 0;         // the aggregate version the state includes
  uint16_t schema_version = 0;  // of `state`, decided by the aggregate's own codec
  std::vector<std::byte> state;
};

struct SnapshotStoreOptions {
  std::string dir;     // e.g. DATA_DIR + "/snapshots"; created if missing (not its parents)
  Env* env = nullptr;  // nullptr: default_env()
  // 4 KiB .. 1 GiB. Also bounds one snapshot: a record must fit in a segment.
  uint64_t segment_bytes_max = 64ull * 1024 * 1024;
  size_t queue_snapshots_max = 1024;  // save_async() drops (and counts) beyond this
  // Encoded bytes queued or being written; save_async() drops beyond this too, so a
  // burst of large states cannot exhaust memory. Also bounds one snapshot.
  uint64_t queue_bytes_max = 64ull * 1024 * 1024;
  LogSink log;  // nullptr: stderr. Called from the writer thread and from callers.
};

struct SnapshotStats {
  uint64_t written = 0;   // made durable (this process)
  uint64_t dropped = 0;   // not queued: queue full, store closed, or snapshot invalid / too large
  uint64_t failed = 0;    // queued but lost to a write or sync error
  uint64_t skipped = 0;   // damaged regions (corrupt or torn records) found at open
  uint64_t aggregates = 0;
};

class SnapshotStore {
 public:
  virtual ~SnapshotStore() = default;

  // Opens (creating) the directory and indexes the latest valid snapshot of every
  // aggregate. Never fails because of bad snapshot bytes (those are skipped); fails
  // only when the directory cannot be used at all.
  static Result<std::unique_ptr<SnapshotStore>> open(const SnapshotStoreOptions& options);

  // Queues a snapshot for the background writer and returns at once: snapshots are
  // written off the command's critical path. The state is encoded on the calling
  // thread; no I/O happens here. A snapshot that cannot be queued (queue full, store
  // closed, empty or over-long aggregate id, too large) is dropped, counted in
  // `dropped` and logged. Thread-safe.
  virtual void save_async(Snapshot snapshot) = 0;
  // The latest snapshot of `aggregate_id` made durable so far (a copy), or nullopt.
  // "Latest" is the highest version; of equal versions, the one written last. The
  // record's checksum is verified again on every load: bad bytes give nullopt, never
  // a snapshot. Thread-safe.
  virtual std::optional<Snapshot> load_latest(std::string_view aggregate_id) const = 0;
  // Waits until everything queued before the call is written (or failed). Returns
  // the first write error that no earlier flush() returned (each error is reported
  // once, to one caller), else ok. Thread-safe.
  virtual Status flush() = 0;
  virtual SnapshotStats stats() const = 0;
  // Writes what is queued and stops the writer; returns what flush() would. Later
  // save_async() calls are dropped; load_latest() keeps working. Idempotent; the
  // destructor calls it.
  virtual Status close() = 0;
};

}  // namespace orderlog
