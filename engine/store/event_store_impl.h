// EventStoreImpl: wires the pieces behind the public EventStore API: the data
// directory and its lock, recovery, the writer thread, and the read paths.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "index/log_index.h"
#include "orderlog/event_store.h"
#include "storage/segment.h"
#include "storage/segment_preparer.h"
#include "store/writer.h"

namespace orderlog::store {

class EventStoreImpl final : public EventStore {
 public:
  static Result<std::unique_ptr<EventStore>> open(const StoreOptions& options);
  ~EventStoreImpl() override;

  Result<AppendResult> append(std::string_view stream_id, ExpectedVersion expected,
                              std::span<const NewEvent> events) override;
  Result<AppendResult> append_multi(std::span<const StreamAppend> streams) override;
  void append_async(std::span<const StreamAppend> streams, AppendCallback done) override;

  Result<ReadSlice> read_stream(std::string_view stream_id, StreamVersion from, ReadDirection direction,
                                size_t count_max) const override;
  Result<ReadSlice> read_all(GlobalPosition from, size_t count_max) const override;
  Result<ReadSlice> read_all_of_types(GlobalPosition from, size_t scan_max,
                                      std::span<const std::string_view> types) const override;
  Result<ReadSlice> read_by_type(std::string_view type, GlobalPosition from, size_t count_max) const override;
  Result<ReadSlice> read_by_time(TimeRange range, GlobalPosition from, size_t count_max) const override;

  StreamVersion stream_version(std::string_view stream_id) const override;
  GlobalPosition committed_position() const override;
  bool wait_for_position(GlobalPosition position, std::chrono::milliseconds timeout) const override;
  Status writer_status() const override;
  StoreStats stats() const override;
  Status checkpoint() override;
  Status close() override;

 private:
  explicit EventStoreImpl(const StoreOptions& options);
  Status open_directory();
  void log(LogLevel level, const std::string& line) const;
  // Loads the last dedup_window_events event ids so retries across a restart are
  // recognised.
  void refill_recent_ids(uint64_t committed);
  // The stored record of a committed position.
  const std::byte* record_at(uint64_t position) const;
  // The committed version and last position of a stream (walks past uncommitted ones).
  index::StreamState committed_stream(std::string_view stream_id, uint64_t committed) const;

  StoreOptions options_;
  Env* env_;
  std::unique_ptr<FileLock> lock_;
  storage::SegmentList segments_;
  std::unique_ptr<index::LogIndex> index_;
  std::unique_ptr<storage::SegmentPreparer> preparer_;
  std::unique_ptr<Writer> writer_;
  std::atomic<int> sync_appenders_{0};  // threads inside append_multi()
};

// How long a lone synchronous appender spins for its ack before sleeping.
inline constexpr std::chrono::microseconds kAckSpin{300};

}  // namespace orderlog::store
