// EventStore: the engine's public API. A segmented, append-only, checksummed log
// with per-stream optimistic concurrency, group-committed durable appends and
// indexed reads. There is no update or delete: what is written stays.
//
// Thread-safety: every method may be called from any thread concurrently. Appends
// are queued to a single writer thread; reads never block on the writer and see
// only committed (durable) events.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "orderlog/env.h"
#include "orderlog/event.h"
#include "orderlog/status.h"
#include "orderlog/types.h"

namespace orderlog {

enum class Durability : uint8_t {
  kAlways,  // ack only after fdatasync (default)
  kNone,    // ack after write(2), never fsync: benchmarks only, loses data on power cut
};

enum class LogLevel : uint8_t { kInfo, kWarning, kError };
// Receives the store's operational log lines (recovery, truncation, writer failure).
using LogSink = std::function<void(LogLevel, std::string_view)>;

// What one group commit wrote; see StoreOptions::commit_observer.
struct CommitInfo {
  uint64_t appends = 0;        // append requests acknowledged by this commit
  uint64_t events = 0;
  uint64_t bytes = 0;          // log bytes written
  uint64_t write_sync_ns = 0;  // from submitting the write to its fdatasync completing
};
// Called on the writer thread after each durable group commit, before its appends
// are acknowledged. Must be cheap and must not block (metrics, not I/O).
using CommitObserver = std::function<void(const CommitInfo&)>;

struct StoreOptions {
  std::string data_dir;
  Env* env = nullptr;  // nullptr: default_env()
  Durability durability = Durability::kAlways;
  uint64_t segment_bytes_max = 256ull * 1024 * 1024;
  // Zero-fill the next segment ahead of the writer so fdatasync overwrites existing
  // blocks instead of growing the file (much cheaper metadata-wise).
  bool segment_prefill = true;
  // ... but only while the writer's recent commits average fewer bytes than this. A
  // zero-fill makes the device write every byte of the log twice. That pays while
  // commits are small or the device has idle time (each fdatasync then skips an extent
  // conversion); commits this large mean appends pile up behind a saturated device,
  // where the second write costs more bandwidth than the conversions, so the next
  // segment is only allocated (docs/performance.md). UINT64_MAX: always.
  uint64_t segment_prefill_below_commit_bytes = 1536 * 1024;
  // Write the log with direct I/O (O_DIRECT) where the filesystem supports it: the
  // writer copies nothing into the kernel and the device reads each batch straight
  // from the writer's buffer; that doubled large-batch ingestion here until the
  // page-cache window (below) made buffered writes about as fast
  // (docs/performance.md). The price is paid by readers that follow the log's end
  // (live subscriptions, projections of the events they read): what they read is no
  // longer in the page cache, so each new page is read back from the device.
  // orderlogd measured slower with it, small appends and batches alike
  // (docs/performance.md). Hence off by default; for ingestion-heavy stores with few
  // tailing readers. Where the filesystem refuses O_DIRECT the log is written
  // buffered, with a log line saying so.
  bool direct_io = false;
  // How much of the log, behind its durable end, the writer leaves in the page cache;
  // older pages are dropped from it as the log grows (readers fault them back in from
  // the file). Live readers read within this window, and new writes then reuse
  // memory the log itself just gave back: on virtual machines, fresh page-cache pages
  // cost a host fault each, and orderlogd's writer spent ~40% of its CPU in that copy
  // under pipelined batches (docs/performance.md). 0: leave it all to the kernel.
  uint64_t page_cache_window_bytes = 256ull * 1024 * 1024;
  // Group commits smaller than this are written and fdatasync'd by the writer thread
  // itself. Larger ones are started asynchronously (through io_uring: a buffered
  // file's fdatasync, a direct file's write), and the writer decides the appends that
  // arrive meanwhile into the next batch. io_uring runs a buffered fdatasync on a
  // kernel worker thread, and the two wake-ups of that hand-off cost ~40-60 us per
  // commit here, more than deciding a small batch's arrivals early saves (64
  // single-event appenders: ~250-310k events/s handed off, ~340-370k on the writer
  // thread); small direct commits measured the same or slightly faster on the writer
  // (docs/performance.md). 0: always start them asynchronously.
  uint64_t sync_on_writer_below_bytes = 64 * 1024;
  size_t queue_appends_max = 8192;          // pending append requests before append() waits
  size_t batch_bytes_max = 8 * 1024 * 1024;  // one group-commit write
  size_t dedup_window_events = 65'536;     // recent event ids remembered for idempotent `any` retries
  // Write an index checkpoint at the first segment roll after this many log bytes, so
  // recovery after a crash re-indexes at most about this much (0: only at close()
  // and checkpoint()). The checkpoint runs on the writer thread between batches.
  uint64_t checkpoint_every_bytes = 1ull << 30;
  LogSink log;  // nullptr: lines go to stderr
  CommitObserver commit_observer;  // nullptr: none
};

// One stream's part of an append.
struct StreamAppend {
  std::string_view stream_id;
  ExpectedVersion expected = ExpectedVersion::any();
  std::span<const NewEvent> events;
};

struct AppendResult {
  GlobalPosition first_position;  // of the first event appended (or found, when deduplicated)
  GlobalPosition last_position;
  // The version of each stream after the append, in the order of the request.
  std::vector<StreamVersion> stream_versions;
  bool deduplicated = false;  // every event id was already in the log: nothing was written
};

using AppendCallback = std::function<void(Result<AppendResult>)>;

enum class ReadDirection : uint8_t { kForward, kBackward };

struct ReadSlice {
  std::vector<EventView> events;
  // Where the next page starts: a version for stream reads, a position otherwise.
  uint64_t next = 0;
  bool end = false;  // nothing more is committed past this page right now
};

struct TimeRange {
  uint64_t from_ns = 0;  // inclusive
  uint64_t to_ns = 0;    // exclusive
};

struct StoreStats {
  GlobalPosition committed_position;
  uint64_t segments = 0;
  uint64_t streams = 0;
  uint64_t appends = 0;
  // Retries answered from the idempotency window (AppendResult::deduplicated): not in
  // `appends`, nothing written.
  uint64_t appends_deduplicated = 0;
  uint64_t events_appended = 0;
  uint64_t batches = 0;    // group commits
  uint64_t syncs = 0;      // fdatasync calls on the log
  uint64_t bytes_written = 0;
  // Summed over group commits: from submitting the write to its fdatasync completing.
  // Against wall time it says how busy the writer kept the device.
  uint64_t write_sync_ns = 0;
  // Log bytes dropped from the page cache behind the window (StoreOptions::page_cache_window_bytes).
  uint64_t bytes_dropped_from_cache = 0;
};

class EventStore {
 public:
  virtual ~EventStore() = default;

  // Opens (creating if missing) the data directory, recovers the log tail and starts
  // the writer. Fails with kCorruption naming file and offset when a checksum mismatch
  // is found anywhere but in an unacknowledged torn tail, and kBusy when another
  // process has the directory open.
  static Result<std::unique_ptr<EventStore>> open(const StoreOptions& options);

  // Appends `events` to one stream atomically. Blocks until durable (or failed).
  // Errors: kWrongExpectedVersion (with actual_version), kInvalidArgument, kTooLarge,
  // kReadOnly after a write/fsync failure, kClosed, kIoError, kNoSpace.
  virtual Result<AppendResult> append(std::string_view stream_id, ExpectedVersion expected,
                                      std::span<const NewEvent> events) = 0;
  // Appends to several streams, each with its own expected version: all or nothing.
  virtual Result<AppendResult> append_multi(std::span<const StreamAppend> streams) = 0;
  // Queues an append and returns at once; `done` runs on the writer thread when the
  // append is durable or has failed, and must not block. Input errors and a full queue
  // (kBusy) are reported through `done` before this returns.
  virtual void append_async(std::span<const StreamAppend> streams, AppendCallback done) = 0;

  // Reads up to `count_max` events of a stream starting at `from` (inclusive). Backward
  // reads from StreamVersion{UINT64_MAX} start at the last event. A missing stream
  // returns an empty slice with end = true. count_max = 0 reads nothing and, like
  // read_all and read_by_type, reports end = false with next = from unless nothing is
  // there to read; any count up to SIZE_MAX is clamped to the events that exist.
  virtual Result<ReadSlice> read_stream(std::string_view stream_id, StreamVersion from,
                                        ReadDirection direction, size_t count_max) const = 0;
  // Events at positions >= from, in position order.
  virtual Result<ReadSlice> read_all(GlobalPosition from, size_t count_max) const = 0;
  // read_all for readers that want only some event types: scans at most `scan_max`
  // positions from `from` and returns the events whose type is one of `types`;
  // `next` is the first position not scanned, so the reader advances through the log
  // without a gap even where nothing matched. The matches come from the type index, so
  // the other events are not even read: a projection of order events costs nothing
  // for the rest of the traffic.
  virtual Result<ReadSlice> read_all_of_types(GlobalPosition from, size_t scan_max,
                                              std::span<const std::string_view> types) const = 0;
  // Events of `type` at positions >= from.
  virtual Result<ReadSlice> read_by_type(std::string_view type, GlobalPosition from,
                                         size_t count_max) const = 0;
  // Events whose timestamp is in `range`, at positions >= from (the paging cursor).
  virtual Result<ReadSlice> read_by_time(TimeRange range, GlobalPosition from,
                                         size_t count_max) const = 0;

  // The version of the stream's last committed event (0: no such stream).
  virtual StreamVersion stream_version(std::string_view stream_id) const = 0;
  // The last durable position; every event up to it is readable.
  virtual GlobalPosition committed_position() const = 0;
  // Waits until committed_position() >= position or the timeout passes.
  virtual bool wait_for_position(GlobalPosition position, std::chrono::milliseconds timeout) const = 0;

  // ok() while the writer is healthy; the sticky error that made the store read-only otherwise.
  virtual Status writer_status() const = 0;
  virtual StoreStats stats() const = 0;

  // Persists the indexes and an index checkpoint so the next open re-indexes nothing.
  virtual Status checkpoint() = 0;
  // Drains queued appends, syncs, checkpoints, stops the writer. Idempotent; the
  // destructor calls it. Later appends fail with kClosed.
  virtual Status close() = 0;
};

}  // namespace orderlog
