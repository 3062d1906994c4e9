// AggregateCache: the most recently used order records, so a hot order is not
// replayed on every command. Bounded (least recently used goes first); a newer
// version always replaces an older one. Thread-safe.
//
// The io threads read it for every command while the writer thread stores every
// commit's record, so it is split into shards by order id, each with its own lock and
// recency list, and it holds records as shared immutable values: a lock is held to
// move a pointer, never to copy an order.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string_view>

#include "common/string_map.h"
#include "order/aggregate_record.h"

namespace orderlog::order {

class AggregateCache {
 public:
  using Entry = std::shared_ptr<const AggregateRecord>;

  // Keeps at most `orders_max` records, rounded up to a multiple of the shard count;
  // a small cache is one shard, so recency is exact there. 0 keeps nothing.
  explicit AggregateCache(size_t orders_max);

  // Null when the order is not cached.
  Entry get(std::string_view order_id);
  // Keeps `record` unless the cache already holds a newer version of the order.
  void put(Entry record);
  void erase(std::string_view order_id);
  size_t size() const;
  size_t shard_count() const { return shard_count_; }

 private:
  using Lru = std::list<Entry>;  // most recently used first
  struct Shard {
    mutable std::mutex mutex;
    Lru records;
    FlatStringMap<Lru::iterator> by_id;
  };

  Shard& shard_of(std::string_view order_id) const;

  size_t shard_count_;
  size_t shard_orders_max_;
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace orderlog::order
