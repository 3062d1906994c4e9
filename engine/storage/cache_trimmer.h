// CacheTrimmer: keeps the log's page-cache footprint to a window behind its head.
//
// Why: on a virtual machine, a page-cache page taken from free memory costs a fault
// on the host the first time it is written (free guest memory is handed back to the
// host), and buffered writes into fresh pages ran at 340-580 MB/s here against
// ~1.5 GB/s when the file's own older pages were dropped as it grew, so that new
// writes reuse memory freed a moment before (docs/performance.md). The log's older
// bytes are durable and read back from the file when a reader wants them, so only a
// window behind the head is worth keeping: live readers (projections, subscriptions)
// read there.
#pragma once

#include <cstdint>
#include <deque>

#include "orderlog/status.h"
#include "storage/segment.h"

namespace orderlog::storage {

class CacheTrimmer {
 public:
  // window_bytes 0: never drops anything.
  explicit CacheTrimmer(uint64_t window_bytes);

  // The log is durable up to byte `head` of `active`, the segment the writer appends to
  // (a new one after a roll; `head` only grows within a segment). Drops whatever fell
  // more than the window behind, in steps of step_bytes() so each call is cheap, and
  // the rest of earlier segments once the window has passed their end. A failed drop is
  // returned once and ends the trimming (it is only a hint: nothing is lost).
  Status advance(Segment* active, uint64_t head);

  // Bytes dropped per call at least (a window's quarter, 2 to 8 MiB, in whole 2 MiB).
  uint64_t step_bytes() const { return step_; }
  uint64_t dropped_bytes() const { return dropped_bytes_; }

 private:
  struct Span {
    Segment* segment;
    uint64_t base;        // the log's byte count before this segment's first byte
    uint64_t end;         // the head within the segment (final once it is sealed)
    uint64_t dropped_to;  // the bytes below this were dropped
  };
  Status drop(Span& span, uint64_t to);

  const uint64_t window_;
  const uint64_t step_;
  std::deque<Span> spans_;  // oldest first; the last is the active segment
  uint64_t dropped_bytes_ = 0;
  bool failed_ = false;
};

}  // namespace orderlog::storage
