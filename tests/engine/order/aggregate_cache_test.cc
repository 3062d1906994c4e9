// The command side's cache of order records (engine/order/aggregate_cache.cc): lookups,
// newer versions win, least-recently-used eviction, the bound of a sharded cache,
// records that stay valid for a reader after they leave the cache, and concurrent use.
#include "order/aggregate_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace orderlog::order {
namespace {

AggregateCache::Entry record_of(const std::string& order_id, uint64_t version) {
  auto record = std::make_shared<AggregateRecord>();
  record->state.order_id = order_id;
  record->state.status = OrderStatus::kPending;
  record->state.version = version;
  record->last_position = version * 10;
  return record;
}

uint64_t cached_version(AggregateCache& cache, const std::string& order_id) {
  AggregateCache::Entry entry = cache.get(order_id);
  return entry ? entry->state.version : 0;
}

TEST(AggregateCache, GetFindsWhatWasPutAndNothingElse) {
  AggregateCache cache(10);
  cache.put(record_of("order-1", 3));
  ASSERT_NE(cache.get("order-1"), nullptr);
  EXPECT_EQ(cache.get("order-1")->last_position, 30u);
  EXPECT_EQ(cache.get("order-2"), nullptr);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(AggregateCache, ANewerVersionReplacesAnOlderOneNeverTheOtherWay) {
  AggregateCache cache(10);
  cache.put(record_of("order-1", 3));
  cache.put(record_of("order-1", 5));
  EXPECT_EQ(cached_version(cache, "order-1"), 5u);
  cache.put(record_of("order-1", 4));  // a late put of a stale load
  EXPECT_EQ(cached_version(cache, "order-1"), 5u);
  cache.put(record_of("order-1", 5));  // the same version again is harmless
  EXPECT_EQ(cached_version(cache, "order-1"), 5u);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(AggregateCache, ASmallCacheEvictsTheLeastRecentlyUsed) {
  AggregateCache cache(2);
  EXPECT_EQ(cache.shard_count(), 1u);
  cache.put(record_of("a", 1));
  cache.put(record_of("b", 1));
  ASSERT_NE(cache.get("a"), nullptr);  // a is now the most recently used
  cache.put(record_of("c", 1));
  EXPECT_NE(cache.get("a"), nullptr);
  EXPECT_EQ(cache.get("b"), nullptr);
  EXPECT_NE(cache.get("c"), nullptr);
  EXPECT_EQ(cache.size(), 2u);
}

TEST(AggregateCache, EraseForgetsTheOrder) {
  AggregateCache cache(10);
  cache.put(record_of("a", 1));
  cache.put(record_of("b", 1));
  cache.erase("a");
  cache.erase("missing");
  EXPECT_EQ(cache.get("a"), nullptr);
  EXPECT_NE(cache.get("b"), nullptr);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(AggregateCache, ZeroOrdersKeepsNothing) {
  AggregateCache cache(0);
  cache.put(record_of("a", 1));
  EXPECT_EQ(cache.get("a"), nullptr);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(AggregateCache, ALargeCacheIsShardedAndKeepsItsBound) {
  AggregateCache cache(10'000);
  EXPECT_EQ(cache.shard_count(), 16u);
  for (int i = 0; i < 30'000; ++i) cache.put(record_of("order-" + std::to_string(i), 1));
  // 16 shards of 625: every shard has seen far more than 625 orders, so each is full.
  EXPECT_EQ(cache.size(), 10'000u);
  // The newest orders are the most recently used of their shards.
  for (int i = 29'900; i < 30'000; ++i) EXPECT_NE(cache.get("order-" + std::to_string(i)), nullptr) << i;
  EXPECT_EQ(cache.get("order-0"), nullptr);
}

TEST(AggregateCache, AReaderKeepsItsRecordAfterTheCacheReplacesOrDropsIt) {
  AggregateCache cache(1);
  cache.put(record_of("a", 1));
  AggregateCache::Entry held = cache.get("a");
  cache.put(record_of("a", 2));  // replaced
  cache.put(record_of("b", 1));  // and the replacement evicted
  EXPECT_EQ(cache.get("a"), nullptr);
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(held->state.order_id, "a");
  EXPECT_EQ(held->state.version, 1u);
}

TEST(AggregateCache, ConcurrentWritersAndReadersEndWithTheNewestVersions) {
  AggregateCache cache(4096);
  constexpr int kOrders = 64;
  constexpr uint64_t kVersions = 200;
  // Two writers put every version of every order, in opposite order of orders, while
  // two readers look them up; each order must end at its newest version.
  auto writer = [&](bool reversed) {
    for (uint64_t version = 1; version <= kVersions; ++version) {
      for (int i = 0; i < kOrders; ++i) {
        const int order = reversed ? kOrders - 1 - i : i;
        cache.put(record_of("order-" + std::to_string(order), version));
      }
    }
  };
  std::atomic<bool> done{false};
  auto reader = [&] {
    while (!done.load()) {
      for (int i = 0; i < kOrders; ++i) {
        if (AggregateCache::Entry entry = cache.get("order-" + std::to_string(i))) {
          EXPECT_EQ(entry->state.order_id, "order-" + std::to_string(i));
          EXPECT_LE(entry->state.version, kVersions);
        }
      }
    }
  };
  std::thread r1(reader), r2(reader);
  std::thread w1(writer, false), w2(writer, true);
  w1.join();
  w2.join();
  done.store(true);
  r1.join();
  r2.join();
  for (int i = 0; i < kOrders; ++i) EXPECT_EQ(cached_version(cache, "order-" + std::to_string(i)), kVersions) << i;
  EXPECT_EQ(cache.size(), static_cast<size_t>(kOrders));
}

}  // namespace
}  // namespace orderlog::order
