// A segment: one preallocated log file named by the global position of its first
// event, mapped read-only for zero-copy reads. Only the writer writes to the active
// segment; sealed segments are never written again. SegmentList publishes segments
// to readers without locks (append-only array, release/acquire count).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "orderlog/env.h"

namespace orderlog::storage {

// "00000000000000000001.log": 20 zero-padded decimal digits, so names sort by position.
std::string segment_file_name(uint64_t first_position);
std::optional<uint64_t> parse_segment_file_name(std::string_view name);

class Segment {
 public:
  // Opens and maps an existing segment file. `capacity_bytes` is the file's size.
  // With `direct_writes` (the segment the writer appends to), writes bypass the page
  // cache where the filesystem allows it and the size is a multiple of
  // kDirectIoAlignment; see write_alignment().
  static Result<std::unique_ptr<Segment>> open(Env* env, const std::string& path, uint64_t first_position,
                                               OpenMode mode, bool direct_writes = false);
  // Opens `path` now but names the segment `final_path`, for a file about to be
  // renamed there (so nothing can fail once the rename is done).
  static Result<std::unique_ptr<Segment>> open_as(Env* env, const std::string& path, const std::string& final_path,
                                                  uint64_t first_position, bool direct_writes);

  uint64_t first_position() const { return first_position_; }
  uint64_t capacity_bytes() const { return capacity_bytes_; }
  const std::byte* data() const { return data_; }
  const std::string& path() const { return path_; }
  File* file() { return file_.get(); }
  // What the writer aligns every write to, start and length. Whole pages
  // (kDirectIoAlignment) when the file is made of whole pages: a direct write must be,
  // and a buffered one that covers whole pages never makes the kernel read a page
  // from the device to merge a partial write into it (the preparer zero-fills
  // segments with direct writes, so their pages start out uncached). 1 otherwise.
  size_t write_alignment() const { return write_alignment_; }
  // Whether writes bypass the page cache (File::write_alignment() > 1).
  bool direct_writes() const { return file_->write_alignment() > 1; }

 private:
  Segment(std::string path, uint64_t first_position, std::unique_ptr<File> file, const std::byte* data,
          uint64_t capacity_bytes, size_t write_alignment)
      : path_(std::move(path)),
        first_position_(first_position),
        file_(std::move(file)),
        data_(data),
        capacity_bytes_(capacity_bytes),
        write_alignment_(write_alignment) {}

  std::string path_;
  uint64_t first_position_;
  std::unique_ptr<File> file_;
  const std::byte* data_;
  uint64_t capacity_bytes_;
  size_t write_alignment_;
};

// The ordered segments of the log. The writer appends; readers look up concurrently.
class SegmentList {
 public:
  static constexpr size_t kSegmentsMax = 1 << 16;

  SegmentList();
  ~SegmentList();

  // Writer only. kTooLarge once kSegmentsMax is reached.
  Status add(std::unique_ptr<Segment> segment);
  size_t size() const { return count_.load(std::memory_order_acquire); }
  // REQUIRES: index < size().
  Segment* at(size_t index) const { return slots_[index].get(); }
  Segment* last() const;
  // Forgets the last segment. Only before readers exist (recovery of stray files).
  std::unique_ptr<Segment> remove_last();
  // The segment holding `position`, or nullptr when before the first segment.
  Segment* find(uint64_t position) const;

 private:
  std::unique_ptr<std::unique_ptr<Segment>[]> slots_;
  std::atomic<size_t> count_{0};
};

}  // namespace orderlog::storage
