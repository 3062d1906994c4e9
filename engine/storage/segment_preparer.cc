// See segment_preparer.h.
#include "storage/segment_preparer.h"

#include "orderlog/thread_name.h"
#include "storage/aligned_buffer.h"

namespace orderlog::storage {

namespace {
constexpr size_t kZeroChunkBytes = 1 << 20;
}

SegmentPreparer::SegmentPreparer(Env* env, std::string log_dir, uint64_t segment_bytes, bool prefill,
                                 bool direct_writes)
    : env_(env),
      log_dir_(std::move(log_dir)),
      prepared_path_(log_dir_ + "/" + kPreparedFileName),
      unfilled_path_(log_dir_ + "/" + kUnfilledFileName),
      segment_bytes_(segment_bytes),
      prefill_(prefill),
      direct_writes_(direct_writes) {
  if (prefill_) thread_ = std::thread([this] { run(); });
}

SegmentPreparer::~SegmentPreparer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status SegmentPreparer::prepare_file(const std::string& path, bool zero_fill) {
  // A leftover from an interrupted preparation is never log data: start it afresh.
  if (env_->file_exists(path)) OL_RETURN_IF_ERROR(env_->remove_file(path));
  // Zeros written directly cost no CPU copy and leave no pages cached, whichever way
  // the writer writes later: a buffered writer writes whole pages, so it never needs
  // the uncached ones read back (Segment::write_alignment()). Through the page cache
  // the zero-fill cost as much CPU as writing the log itself (docs/performance.md).
  const bool direct = segment_bytes_ % kDirectIoAlignment == 0;
  OL_ASSIGN_OR_RETURN(std::unique_ptr<File> file, direct ? env_->open_direct_file(path, OpenMode::kCreateExclusive)
                                                         : env_->open_file(path, OpenMode::kCreateExclusive));
  OL_RETURN_IF_ERROR(file->allocate(segment_bytes_));
  if (zero_fill) {
    AlignedBuffer zeros;
    zeros.resize_zeroed(kZeroChunkBytes);
    for (uint64_t offset = 0; offset < segment_bytes_; offset += kZeroChunkBytes) {
      const uint64_t bytes = std::min<uint64_t>(kZeroChunkBytes, segment_bytes_ - offset);
      OL_RETURN_IF_ERROR(file->write_at(offset, zeros.bytes().first(bytes)));
    }
  }
  return file->sync_data();
}

void SegmentPreparer::run() {
  name_this_thread("ol-preparer");
  std::unique_lock lock(mutex_);
  while (true) {
    changed_.wait(lock, [this] { return stopping_ || wanted_; });
    if (stopping_) return;
    wanted_ = false;
    const bool zero_fill = zero_fill_;
    lock.unlock();
    Status status = prepare_file(prepared_path_, zero_fill);
    lock.lock();
    prepared_ = std::move(status);
    changed_.notify_all();
  }
}

Result<std::string> SegmentPreparer::ready_file(bool wait_for_prefill) {
  if (prefill_) {
    std::unique_lock lock(mutex_);
    if (!prepared_.has_value() && !wait_for_prefill) {
      // Do not stall appends for a whole zero-fill: take an allocated-only file now
      // and leave the one being filled for the next roll.
      const bool already_requested = requested_;
      requested_ = true;
      wanted_ = wanted_ || !already_requested;
      lock.unlock();
      changed_.notify_all();
      OL_RETURN_IF_ERROR(prepare_file(unfilled_path_, /*zero_fill=*/false));
      return unfilled_path_;
    }
    if (!requested_) {
      requested_ = true;
      wanted_ = true;
      zero_fill_ = true;
      changed_.notify_all();
    }
    changed_.wait(lock, [this] { return prepared_.has_value(); });
    Status status = std::move(*prepared_);
    prepared_.reset();
    requested_ = false;
    OL_RETURN_IF_ERROR(status);
    return prepared_path_;
  }
  OL_RETURN_IF_ERROR(prepare_file(unfilled_path_, /*zero_fill=*/false));
  return unfilled_path_;
}

void SegmentPreparer::prepare_next(bool zero_fill) {
  if (!prefill_) return;
  {
    std::lock_guard lock(mutex_);
    if (requested_) return;
    requested_ = true;
    wanted_ = true;
    zero_fill_ = zero_fill;
  }
  changed_.notify_all();
}

Result<std::unique_ptr<Segment>> SegmentPreparer::take(uint64_t first_position, bool wait_for_prefill, bool* named) {
  if (named != nullptr) *named = false;
  Result<std::string> ready = ready_file(wait_for_prefill);
  if (!ready.is_ok()) {
    const Status& status = ready.status();
    const std::string message = "cannot prepare the next segment: " + status.message();
    return status.code() == StatusCode::kNoSpace ? Status::no_space(message) : Status::io_error(message);
  }
  const std::string& ready_path = *ready;
  const std::string path = log_dir_ + "/" + segment_file_name(first_position);
  // Open before the rename: a segment file with its final name must be usable.
  OL_ASSIGN_OR_RETURN(std::unique_ptr<Segment> segment, Segment::open_as(env_, ready_path, path, first_position, direct_writes_));
  OL_RETURN_IF_ERROR(env_->rename_file(ready_path, path));
  if (named != nullptr) *named = true;
  // If this fails the empty file may or may not keep its name: the caller must not go
  // on to a later segment (recovery removes a trailing empty segment).
  OL_RETURN_IF_ERROR(env_->sync_dir(log_dir_));
  return segment;
}

}  // namespace orderlog::storage
