// See aggregate_cache.h.
#include "order/aggregate_cache.h"

namespace orderlog::order {

std::optional<AggregateRecord> AggregateCache::get(std::string_view order_id) {
  std::lock_guard lock(mutex_);
  auto it = by_id_.find(order_id);
  if (it == by_id_.end()) return std::nullopt;
  records_.splice(records_.begin(), records_, it->second);
  return *it->second;
}

void AggregateCache::put(const AggregateRecord& record) {
  if (orders_max_ == 0) return;
  std::lock_guard lock(mutex_);
  auto it = by_id_.find(record.state.order_id);
  if (it != by_id_.end()) {
    if (it->second->state.version > record.state.version) return;
    *it->second = record;
    records_.splice(records_.begin(), records_, it->second);
    return;
  }
  records_.push_front(record);
  by_id_.emplace(record.state.order_id, records_.begin());
  if (records_.size() > orders_max_) {
    by_id_.erase(records_.back().state.order_id);
    records_.pop_back();
  }
}

void AggregateCache::erase(std::string_view order_id) {
  std::lock_guard lock(mutex_);
  auto it = by_id_.find(order_id);
  if (it == by_id_.end()) return;
  records_.erase(it->second);
  by_id_.erase(it);
}

size_t AggregateCache::size() const {
  std::lock_guard lock(mutex_);
  return records_.size();
}

}  // namespace orderlog::order
