// AggregateCache: the most recently used order records, so a hot order is not
// replayed on every command. Bounded (least recently used goes first); entries are
// copies, and a newer version always replaces an older one. Thread-safe.
#pragma once

#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/string_map.h"
#include "order/aggregate_record.h"

namespace orderlog::order {

class AggregateCache {
 public:
  explicit AggregateCache(size_t orders_max) : orders_max_(orders_max) {}

  std::optional<AggregateRecord> get(std::string_view order_id);
  // Keeps `record` unless the cache already holds a newer version of the order.
  void put(const AggregateRecord& record);
  void erase(std::string_view order_id);
  size_t size() const;

 private:
  using Lru = std::list<AggregateRecord>;  // most recently used first

  size_t orders_max_;
  mutable std::mutex mutex_;
  Lru records_;
  StringMap<Lru::iterator> by_id_;
};

}  // namespace orderlog::order
