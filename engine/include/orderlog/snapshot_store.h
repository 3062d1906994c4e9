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
  std::string dir;     // e.g. DATA_DIR + "/snapshots"; created if missing
  Env* env = nullptr;  // nullptr: default_env()
  uint64_t segment_bytes_max = 64ull * 1024 * 1024;
  size_t queue_snapshots_max = 1024;  // save_async() drops (and counts) beyond this
  LogSink log;                        // nullptr: stderr
};

struct SnapshotStats {
  uint64_t written = 0;
  uint64_t dropped = 0;   // queue full
  uint64_t skipped = 0;   // corrupt or torn records found at open
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
  // written off the command's critical path. Thread-safe.
  virtual void save_async(Snapshot snapshot) = 0;
  // The latest snapshot of `aggregate_id` written so far (a copy), or nullopt.
  // Thread-safe.
  virtual std::optional<Snapshot> load_latest(std::string_view aggregate_id) const = 0;
  // Waits until everything queued before the call is written (or failed).
  virtual Status flush() = 0;
  virtual SnapshotStats stats() const = 0;
  // Writes what is queued and stops the writer. Idempotent; the destructor calls it.
  virtual Status close() = 0;
};

}  // namespace orderlog
