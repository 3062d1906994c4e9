// See cache_trimmer.h.
#include "storage/cache_trimmer.h"

#include <algorithm>

#include "orderlog/check.h"

namespace orderlog::storage {
namespace {

// The page cache holds a file in naturally aligned folios of up to 2 MiB (x86-64's
// largest), and keeps one that a drop covers only in part: drops start and end on
// this alignment, so every folio falls wholly into one of them.
constexpr uint64_t kDropAlignment = 2ull * 1024 * 1024;
constexpr uint64_t kStepMax = 8ull * 1024 * 1024;

}  // namespace

CacheTrimmer::CacheTrimmer(uint64_t window_bytes)
    : window_(window_bytes),
      step_(std::clamp(window_bytes / 4 / kDropAlignment * kDropAlignment, kDropAlignment, kStepMax)) {}

Status CacheTrimmer::advance(Segment* active, uint64_t head) {
  if (window_ == 0 || failed_) return Status::ok();
  OL_CHECK(active != nullptr);
  if (spans_.empty() || spans_.back().segment != active) {
    const uint64_t base = spans_.empty() ? 0 : spans_.back().base + spans_.back().end;
    spans_.push_back(Span{active, base, head, 0});
  } else {
    OL_CHECK(head >= spans_.back().end);
    spans_.back().end = head;
  }
  const uint64_t log_head = spans_.back().base + head;
  if (log_head <= window_) return Status::ok();
  const uint64_t keep_from = log_head - window_;  // in the log's byte count
  for (size_t i = 0; i < spans_.size(); ++i) {
    Span& span = spans_[i];
    if (keep_from <= span.base) break;
    const bool sealed = i + 1 < spans_.size();
    const uint64_t behind = std::min(span.end, keep_from - span.base);
    if (sealed && behind == span.end) {
      // Entirely behind the window: the rest goes at once, zeros past its end included.
      if (Status dropped = drop(span, span.segment->capacity_bytes()); !dropped.is_ok()) return dropped;
      continue;
    }
    const uint64_t to = behind / kDropAlignment * kDropAlignment;
    if (to >= span.dropped_to + step_) {
      if (Status dropped = drop(span, to); !dropped.is_ok()) return dropped;
    }
  }
  while (spans_.size() > 1 && spans_.front().dropped_to == spans_.front().segment->capacity_bytes()) {
    spans_.pop_front();
  }
  return Status::ok();
}

Status CacheTrimmer::drop(Span& span, uint64_t to) {
  if (to <= span.dropped_to) return Status::ok();
  Status dropped = span.segment->file()->drop_cached(span.dropped_to, to - span.dropped_to);
  if (!dropped.is_ok()) {
    failed_ = true;
    return dropped;
  }
  dropped_bytes_ += to - span.dropped_to;
  span.dropped_to = to;
  return Status::ok();
}

}  // namespace orderlog::storage
