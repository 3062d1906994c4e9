// See aggregate_cache.h.
#include "order/aggregate_cache.h"

#include <algorithm>
#include <utility>

#include "orderlog/check.h"

namespace orderlog::order {
namespace {

// Enough shards that the io threads and the writer rarely meet on one lock; a shard
// keeps at least kShardOrdersMin records, so small caches stay one exact LRU.
constexpr size_t kShardsMax = 16;
constexpr size_t kShardOrdersMin = 256;

}  // namespace

AggregateCache::AggregateCache(size_t orders_max)
    : shard_count_(std::clamp<size_t>(orders_max / kShardOrdersMin, 1, kShardsMax)),
      shard_orders_max_((orders_max + shard_count_ - 1) / shard_count_),
      shards_(std::make_unique<Shard[]>(shard_count_)) {}

AggregateCache::Shard& AggregateCache::shard_of(std::string_view order_id) const {
  return shards_[shard_of_hash(StringHash{}(order_id), shard_count_)];
}

AggregateCache::Entry AggregateCache::get(std::string_view order_id) {
  Shard& shard = shard_of(order_id);
  std::lock_guard lock(shard.mutex);
  auto it = shard.by_id.find(order_id);
  if (it == shard.by_id.end()) return nullptr;
  shard.records.splice(shard.records.begin(), shard.records, it->second);
  return *it->second;
}

void AggregateCache::put(Entry record) {
  OL_CHECK(record != nullptr);
  if (shard_orders_max_ == 0) return;
  Shard& shard = shard_of(record->state.order_id);
  Entry dropped;  // released after the lock: freeing an order's record takes a while
  std::lock_guard lock(shard.mutex);
  auto it = shard.by_id.find(record->state.order_id);
  if (it != shard.by_id.end()) {
    if ((*it->second)->state.version > record->state.version) return;
    dropped = std::exchange(*it->second, std::move(record));
    shard.records.splice(shard.records.begin(), shard.records, it->second);
    return;
  }
  shard.records.push_front(std::move(record));
  shard.by_id.emplace(shard.records.front()->state.order_id, shard.records.begin());
  if (shard.records.size() > shard_orders_max_) {
    dropped = std::move(shard.records.back());
    shard.by_id.erase(dropped->state.order_id);
    shard.records.pop_back();
  }
}

void AggregateCache::erase(std::string_view order_id) {
  Shard& shard = shard_of(order_id);
  Entry dropped;
  std::lock_guard lock(shard.mutex);
  auto it = shard.by_id.find(order_id);
  if (it == shard.by_id.end()) return;
  dropped = std::move(*it->second);
  shard.records.erase(it->second);
  shard.by_id.erase(it);
}

size_t AggregateCache::size() const {
  size_t total = 0;
  for (size_t i = 0; i < shard_count_; ++i) {
    std::lock_guard lock(shards_[i].mutex);
    total += shards_[i].records.size();
  }
  return total;
}

}  // namespace orderlog::order
