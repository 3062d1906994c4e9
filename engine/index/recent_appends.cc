// See recent_appends.h.
#include "index/recent_appends.h"

#include <xxhash.h>

namespace orderlog::index {

const RecentAppend* RecentAppends::find(const EventId& first_id) const {
  auto it = by_first_id_.find(first_id);
  return it == by_first_id_.end() ? nullptr : &it->second;
}

void RecentAppends::add(const EventId& first_id, RecentAppend append) {
  if (window_events_ == 0) return;
  const uint32_t count = append.event_count;
  if (!by_first_id_.insert_or_assign(first_id, std::move(append)).second) {
    // The same first id again (a unit re-indexed): drop its older place in the order.
    for (auto it = order_.begin(); it != order_.end(); ++it) {
      if (it->first == first_id) {
        events_ -= it->second;
        order_.erase(it);
        break;
      }
    }
  }
  order_.emplace_back(first_id, count);
  events_ += count;
  while (events_ > window_events_ && order_.size() > 1) {
    by_first_id_.erase(order_.front().first);
    events_ -= order_.front().second;
    order_.pop_front();
  }
}

void RecentAppends::clear() {
  by_first_id_.clear();
  order_.clear();
  events_ = 0;
}

uint64_t RecentAppends::hash_ids(uint64_t hash, const EventId& id) {
  return XXH3_64bits_withSeed(id.bytes.data(), id.bytes.size(), hash);
}

}  // namespace orderlog::index
