// RecentAppends: a bounded window of recently appended units, keyed by the id of each
// unit's first event. It makes retries idempotent: a request whose first event id is
// here, with the same ids in the same order, is answered with the original result
// instead of being appended again. One map operation per append, not per event.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <utility>
#include <vector>

#include "orderlog/types.h"

namespace orderlog::index {

struct RecentAppend {
  uint64_t first_position = 0;
  uint32_t event_count = 0;
  uint64_t ids_hash = 0;  // hash_ids over every event id, in order
  uint32_t first_stream_hash = 0;
  std::vector<uint64_t> stream_versions;  // each stream's version after it, in order of appearance
};

class RecentAppends {
 public:
  // Keeps at least the last `window_events` events' units (0 disables the window).
  explicit RecentAppends(size_t window_events) : window_events_(window_events) {}

  const RecentAppend* find(const EventId& first_id) const;
  void add(const EventId& first_id, RecentAppend append);
  void clear();
  size_t window_events() const { return window_events_; }

  // Folds one more event id into a running ids hash (start from 0).
  static uint64_t hash_ids(uint64_t hash, const EventId& id);

 private:
  size_t window_events_;
  size_t events_ = 0;
  std::unordered_map<EventId, RecentAppend, EventIdHash> by_first_id_;
  std::deque<std::pair<EventId, uint32_t>> order_;  // first id, event count; oldest first
};

}  // namespace orderlog::index
