// See segment.h.
#include "storage/segment.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "orderlog/check.h"

namespace orderlog::storage {

namespace {
constexpr std::string_view kSegmentSuffix = ".log";
constexpr size_t kSegmentDigits = 20;
}  // namespace

std::string segment_file_name(uint64_t first_position) {
  char name[kSegmentDigits + kSegmentSuffix.size() + 1];
  std::snprintf(name, sizeof(name), "%020llu.log", static_cast<unsigned long long>(first_position));
  return name;
}

std::optional<uint64_t> parse_segment_file_name(std::string_view name) {
  if (name.size() != kSegmentDigits + kSegmentSuffix.size() || !name.ends_with(kSegmentSuffix)) return std::nullopt;
  uint64_t position = 0;
  const char* end = name.data() + kSegmentDigits;
  auto [ptr, error] = std::from_chars(name.data(), end, position);
  if (error != std::errc() || ptr != end || position == 0) return std::nullopt;
  return position;
}

Result<std::unique_ptr<Segment>> Segment::open(Env* env, const std::string& path, uint64_t first_position,
                                               OpenMode mode, bool direct_writes) {
  OL_ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                      direct_writes ? env->open_direct_file(path, mode) : env->open_file(path, mode));
  OL_ASSIGN_OR_RETURN(uint64_t size, file->size());
  if (size % file->write_alignment() != 0) {
    // A segment made with an unaligned size: its last page could never be written
    // directly without growing the file.
    file.reset();
    OL_ASSIGN_OR_RETURN(file, env->open_file(path, mode));
  }
  if (size == 0) return Status::corruption("segment " + path + " is empty (it was never preallocated)");
  OL_ASSIGN_OR_RETURN(const std::byte* data, file->map(size));
  const size_t alignment =
      size % kDirectIoAlignment == 0 ? std::max(file->write_alignment(), kDirectIoAlignment) : file->write_alignment();
  return std::unique_ptr<Segment>(new Segment(path, first_position, std::move(file), data, size, alignment));
}

Result<std::unique_ptr<Segment>> Segment::open_as(Env* env, const std::string& path, const std::string& final_path,
                                                  uint64_t first_position, bool direct_writes) {
  OL_ASSIGN_OR_RETURN(std::unique_ptr<Segment> segment,
                      open(env, path, first_position, OpenMode::kReadWrite, direct_writes));
  segment->path_ = final_path;
  return segment;
}

std::unique_ptr<Segment> SegmentList::remove_last() {
  const size_t count = count_.load(std::memory_order_relaxed);
  OL_CHECK(count > 0);
  count_.store(count - 1, std::memory_order_release);
  return std::move(slots_[count - 1]);
}

SegmentList::SegmentList() : slots_(std::make_unique<std::unique_ptr<Segment>[]>(kSegmentsMax)) {}

SegmentList::~SegmentList() = default;

Status SegmentList::add(std::unique_ptr<Segment> segment) {
  const size_t count = count_.load(std::memory_order_relaxed);
  if (count == kSegmentsMax) {
    return Status::too_large("the log reached its limit of " + std::to_string(kSegmentsMax) + " segments");
  }
  OL_CHECK(count == 0 || slots_[count - 1]->first_position() < segment->first_position());
  slots_[count] = std::move(segment);
  count_.store(count + 1, std::memory_order_release);
  return Status::ok();
}

Segment* SegmentList::last() const {
  const size_t count = size();
  return count == 0 ? nullptr : slots_[count - 1].get();
}

Segment* SegmentList::find(uint64_t position) const {
  size_t low = 0;
  size_t high = size();  // first slot whose first_position > position
  while (low < high) {
    const size_t mid = low + (high - low) / 2;
    if (slots_[mid]->first_position() <= position) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  return low == 0 ? nullptr : slots_[low - 1].get();
}

}  // namespace orderlog::storage
