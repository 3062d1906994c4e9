// Keeps the next segment file ready ahead of the writer: created at full size and,
// with prefill, zero-filled and synced, in the background once the active segment is
// half full (so a directory that is barely written does not pay for a second
// segment). Writing into blocks that already exist lets each fdatasync skip the
// metadata commit that growing a file costs (see docs/performance.md). Without
// prefill, or when the writer asks for none, the file is only fallocate'd.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "orderlog/env.h"
#include "storage/segment.h"

namespace orderlog::storage {

class SegmentPreparer {
 public:
  // The temporary name of the file being prepared, inside the log directory.
  static constexpr const char* kPreparedFileName = "next-segment.tmp";
  // An allocated-only file made on the spot when the zero-filled one is not ready.
  static constexpr const char* kUnfilledFileName = "next-segment-unfilled.tmp";

  // With `direct_writes`, files are zero-filled and handed out for direct writes
  // (see Segment::open), so neither the fill nor the writer goes through the page cache.
  SegmentPreparer(Env* env, std::string log_dir, uint64_t segment_bytes, bool prefill, bool direct_writes);
  ~SegmentPreparer();  // stops and joins the background thread
  SegmentPreparer(const SegmentPreparer&) = delete;
  SegmentPreparer& operator=(const SegmentPreparer&) = delete;

  // Starts preparing the next file in the background unless already under way; the
  // writer calls it when the active segment is half full. `zero_fill` false: only
  // allocate it (the writer's commits are large enough that a zero-fill would cost
  // more bandwidth than it saves in fdatasync time). Without prefill it does nothing.
  // Any thread.
  void prepare_next(bool zero_fill);

  // Returns the next segment, renamed to the name of `first_position` (directory
  // synced) and mapped. With prefill it is the zero-filled file; if that is not ready,
  // it waits for it when `wait_for_prefill` (at open), and otherwise makes an
  // allocated-only file at once rather than stall appends. A failed preparation (e.g.
  // ENOSPC) is returned here and retried by the next call. `*named` (if given) says
  // whether the file took the segment's name, i.e. whether a failure came after the
  // rename (syncing the directory). Writer thread only.
  Result<std::unique_ptr<Segment>> take(uint64_t first_position, bool wait_for_prefill, bool* named = nullptr);

 private:
  Status prepare_file(const std::string& path, bool zero_fill);
  // The path of a file ready to become the next segment.
  Result<std::string> ready_file(bool wait_for_prefill);
  void run();

  Env* env_;
  std::string log_dir_;
  std::string prepared_path_;
  std::string unfilled_path_;
  uint64_t segment_bytes_;
  bool prefill_;
  bool direct_writes_;

  std::mutex mutex_;
  std::condition_variable changed_;
  bool wanted_ = false;     // the thread should start preparing a file
  bool zero_fill_ = true;   // ... and zero-fill it
  bool requested_ = false;  // a preparation was asked for since the last take()
  bool stopping_ = false;
  std::optional<Status> prepared_;  // set when a preparation finished
  std::thread thread_;
};

}  // namespace orderlog::storage
