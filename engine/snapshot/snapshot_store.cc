// The SnapshotStore behind orderlog/snapshot_store.h: a bounded queue of encoded
// records, one writer thread that drains it into the SnapshotLog (group commit: one
// sync per drained batch), and an index of the latest record per aggregate that
// points into the log's mappings.
//
// Locks: `queue_mutex_` guards the queue, its counters and the unreported error; the
// index has its own shared mutex so loads never wait for the queue or for I/O. The
// writer publishes a record only after it is synced, and published bytes are never
// written again, so load_latest() copies them without holding any lock.
#include "orderlog/snapshot_store.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <utility>

#include "orderlog/check.h"
#include "common/log.h"
#include "orderlog/thread_name.h"
#include "common/string_map.h"
#include "snapshot/snapshot_format.h"
#include "snapshot/snapshot_log.h"

namespace orderlog {
namespace snapshot {
namespace {


Status validate_options(const SnapshotStoreOptions& options) {
  if (options.dir.empty()) return Status::invalid_argument("snapshot dir must be set");
  if (options.segment_bytes_max < kSegmentBytesMin || options.segment_bytes_max > kSegmentBytesMax) {
    return Status::invalid_argument("snapshot segment_bytes_max must be " + std::to_string(kSegmentBytesMin) + ".." +
                                    std::to_string(kSegmentBytesMax));
  }
  if (options.queue_snapshots_max == 0) return Status::invalid_argument("queue_snapshots_max must be > 0");
  if (options.queue_bytes_max < kSegmentBytesMin) {
    return Status::invalid_argument("queue_bytes_max must be at least " + std::to_string(kSegmentBytesMin));
  }
  return Status::ok();
}

struct IndexEntry {
  const std::byte* record = nullptr;  // in a SnapshotLog mapping
  uint64_t record_bytes = 0;
  uint64_t version = 0;
};

class SnapshotStoreImpl final : public SnapshotStore {
 public:
  static Result<std::unique_ptr<SnapshotStore>> open(const SnapshotStoreOptions& options);
  ~SnapshotStoreImpl() override { (void)close(); }

  void save_async(Snapshot snapshot) override;
  std::optional<Snapshot> load_latest(std::string_view aggregate_id) const override;
  Status flush() override;
  SnapshotStats stats() const override;
  Status close() override;

 private:
  explicit SnapshotStoreImpl(const SnapshotStoreOptions& options)
      : options_(options), env_(options.env != nullptr ? options.env : default_env()) {}

  void log(LogLevel level, const std::string& line) const;
  void index_record(const std::byte* record, uint64_t record_bytes, std::string_view aggregate_id, uint64_t version);
  bool try_enqueue(EncodedSnapshot&& record);
  void run_writer();
  Status write_batch(const std::vector<EncodedSnapshot>& batch);
  void finish_batch(uint64_t first_ticket, uint64_t last_ticket, uint64_t bytes, const Status& status);

  const SnapshotStoreOptions options_;
  Env* const env_;
  std::unique_ptr<SnapshotLog> log_;  // used by the writer thread only, after open

  mutable std::shared_mutex index_mutex_;
  StringMap<IndexEntry> index_;

  std::mutex queue_mutex_;
  std::condition_variable work_ready_;
  std::condition_variable batch_done_;
  std::deque<EncodedSnapshot> queue_;
  uint64_t queued_bytes_ = 0;  // in queue_ and in the batch being written
  uint64_t enqueued_ = 0;      // tickets handed out: the n-th queued snapshot has ticket n
  uint64_t finished_ = 0;      // every ticket up to this one is written or failed
  Status unreported_failure_;  // the first write error no flush() has returned yet
  bool dropping_ = false;  // a full-queue warning was logged; logged again after a success
  bool closed_ = false;
  bool stopping_ = false;
  std::thread writer_;

  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> failed_{0};
  uint64_t skipped_ = 0;  // set at open, constant after
};

void SnapshotStoreImpl::log(LogLevel level, const std::string& line) const { write_log(options_.log, level, line); }

Result<std::unique_ptr<SnapshotStore>> SnapshotStoreImpl::open(const SnapshotStoreOptions& options) {
  OL_RETURN_IF_ERROR(validate_options(options));
  std::unique_ptr<SnapshotStoreImpl> store(new SnapshotStoreImpl(options));
  OL_RETURN_IF_ERROR(store->env_->create_dir(options.dir));
  SnapshotLogOptions log_options;
  log_options.env = store->env_;
  log_options.dir = options.dir;
  log_options.segment_bytes_max = options.segment_bytes_max;
  log_options.log = [raw = store.get()](LogLevel level, const std::string& line) { raw->log(level, line); };
  ScanStats scan;
  const auto visit = [raw = store.get()](const std::byte* record, const RecordView& view) {
    raw->index_record(record, view.record_bytes, view.aggregate_id, view.version);
  };
  OL_ASSIGN_OR_RETURN(store->log_, SnapshotLog::open(log_options, visit, &scan));
  store->skipped_ = scan.skipped;
  store->log(LogLevel::kInfo, "snapshots: indexed " + std::to_string(store->index_.size()) + " aggregate(s) from " +
                                  std::to_string(scan.records) + " record(s) in " + std::to_string(scan.segments) +
                                  " segment(s), skipped " + std::to_string(scan.skipped) + " damaged region(s)");
  store->writer_ = std::thread([raw = store.get()] { raw->run_writer(); });
  return std::unique_ptr<SnapshotStore>(std::move(store));
}

// REQUIRES: index_mutex_ held exclusively, or no other thread running yet (open).
void SnapshotStoreImpl::index_record(const std::byte* record, uint64_t record_bytes, std::string_view aggregate_id,
                                     uint64_t version) {
  const IndexEntry entry{record, record_bytes, version};
  auto found = index_.find(aggregate_id);
  if (found == index_.end()) {
    index_.emplace(std::string(aggregate_id), entry);
  } else if (version >= found->second.version) {  // ties: the later record wins
    found->second = entry;
  }
}

void SnapshotStoreImpl::save_async(Snapshot snapshot) {
  const uint64_t record_bytes_max = std::min(options_.segment_bytes_max, options_.queue_bytes_max);
  Result<EncodedSnapshot> encoded = encode_snapshot(snapshot, record_bytes_max);
  if (!encoded.is_ok()) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    const std::string id = snapshot.aggregate_id.substr(0, kAggregateIdBytesMax);
    log(LogLevel::kWarning, "snapshots: dropped a snapshot of '" + id + "': " + encoded.status().to_string());
    return;
  }
  if (try_enqueue(std::move(encoded).value())) work_ready_.notify_one();
}

bool SnapshotStoreImpl::try_enqueue(EncodedSnapshot&& record) {
  bool log_full = false;
  {
    std::lock_guard lock(queue_mutex_);
    const uint64_t bytes = record.bytes.size();
    const bool full = queue_.size() >= options_.queue_snapshots_max || bytes > options_.queue_bytes_max - queued_bytes_;
    if (closed_ || full) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      log_full = full && !dropping_;
      dropping_ = dropping_ || full;
    } else {
      queue_.push_back(std::move(record));
      queued_bytes_ += bytes;
      ++enqueued_;
      dropping_ = false;
      return true;
    }
  }
  if (log_full) log(LogLevel::kWarning, "snapshots: queue full, dropping snapshots until the writer catches up");
  return false;
}

void SnapshotStoreImpl::run_writer() {
  name_this_thread("ol-snapshots");
  std::vector<EncodedSnapshot> batch;
  for (;;) {
    uint64_t first_ticket = 0;
    uint64_t batch_bytes = 0;
    {
      std::unique_lock lock(queue_mutex_);
      work_ready_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping, and everything queued is written
      first_ticket = enqueued_ - queue_.size() + 1;
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
      queue_.clear();
    }
    for (const EncodedSnapshot& record : batch) batch_bytes += record.bytes.size();
    const Status status = write_batch(batch);
    finish_batch(first_ticket, first_ticket + batch.size() - 1, batch_bytes, status);
    batch.clear();
  }
}

Status SnapshotStoreImpl::write_batch(const std::vector<EncodedSnapshot>& batch) {
  std::vector<const std::byte*> locations;
  Status status = log_->append(batch, &locations);
  if (!status.is_ok()) {
    failed_.fetch_add(batch.size(), std::memory_order_relaxed);
    log(LogLevel::kError, "snapshots: lost " + std::to_string(batch.size()) +
                              " snapshot(s) to a write error, the next batch starts a new segment: " +
                              status.to_string());
    return status;
  }
  OL_CHECK(locations.size() == batch.size());
  {
    std::unique_lock lock(index_mutex_);
    for (size_t i = 0; i < batch.size(); ++i) {
      index_record(locations[i], batch[i].bytes.size(), batch[i].aggregate_id, batch[i].version);
    }
  }
  written_.fetch_add(batch.size(), std::memory_order_relaxed);
  return Status::ok();
}

void SnapshotStoreImpl::finish_batch(uint64_t first_ticket, uint64_t last_ticket, uint64_t bytes,
                                     const Status& status) {
  std::lock_guard lock(queue_mutex_);
  OL_CHECK(first_ticket == finished_ + 1 && last_ticket <= enqueued_ && bytes <= queued_bytes_);
  finished_ = last_ticket;
  queued_bytes_ -= bytes;
  if (!status.is_ok() && unreported_failure_.is_ok()) unreported_failure_ = status;
  batch_done_.notify_all();
}

std::optional<Snapshot> SnapshotStoreImpl::load_latest(std::string_view aggregate_id) const {
  IndexEntry entry;
  {
    std::shared_lock lock(index_mutex_);
    auto found = index_.find(aggregate_id);
    if (found == index_.end()) return std::nullopt;
    entry = found->second;
  }
  // The bytes were checked when written or scanned; checking again costs about as
  // much as the copy and keeps a page that went bad since from reaching a caller.
  const RecordView view = check_record(entry.record, entry.record_bytes);
  if (view.record_bytes != entry.record_bytes || view.aggregate_id != aggregate_id) {
    log(LogLevel::kError, "snapshots: the latest snapshot of '" + std::string(aggregate_id) +
                              "' no longer passes its checksum; ignoring it");
    return std::nullopt;
  }
  return decode_record(entry.record);
}

Status SnapshotStoreImpl::flush() {
  std::unique_lock lock(queue_mutex_);
  const uint64_t target = enqueued_;
  batch_done_.wait(lock, [&] { return finished_ >= target; });
  // Reported once, so one lost batch does not fail every later flush.
  return std::exchange(unreported_failure_, Status::ok());
}

SnapshotStats SnapshotStoreImpl::stats() const {
  SnapshotStats stats;
  stats.written = written_.load(std::memory_order_relaxed);
  stats.dropped = dropped_.load(std::memory_order_relaxed);
  stats.failed = failed_.load(std::memory_order_relaxed);
  stats.skipped = skipped_;
  std::shared_lock lock(index_mutex_);
  stats.aggregates = index_.size();
  return stats;
}

Status SnapshotStoreImpl::close() {
  {
    std::lock_guard lock(queue_mutex_);
    if (closed_) return Status::ok();
    closed_ = true;  // from here on save_async() drops, so the flush below is final
  }
  const Status status = flush();
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  work_ready_.notify_one();
  if (writer_.joinable()) writer_.join();  // not started when open() failed
  return status;
}

}  // namespace
}  // namespace snapshot

Result<std::unique_ptr<SnapshotStore>> SnapshotStore::open(const SnapshotStoreOptions& options) {
  return snapshot::SnapshotStoreImpl::open(options);
}

}  // namespace orderlog
