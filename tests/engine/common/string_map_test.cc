// The string-keyed maps (engine/common/string_map.h): lookups by string_view, the
// flat map's load factor, shards taken from bits its buckets do not use, and entries
// listed in key order for deterministic files.
#include "common/string_map.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace orderlog {
namespace {

std::string key(int i) { return "order-" + std::to_string(i) + "-with-a-long-shared-suffix"; }

TEST(FlatStringMap, FindsEveryKeyByViewAfterGrowingAndErasing) {
  FlatStringMap<int> map;
  for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(map.try_emplace(key(i), i).second);
  for (int i = 0; i < 10'000; i += 2) ASSERT_EQ(map.erase(std::string_view(key(i))), 1u);
  for (int i = 0; i < 10'000; ++i) {
    const std::string k = key(i);
    auto it = map.find(std::string_view(k));
    if (i % 2 == 0) {
      EXPECT_EQ(it, map.end()) << k;
    } else {
      ASSERT_NE(it, map.end()) << k;
      EXPECT_EQ(it->second, i);
    }
  }
  EXPECT_EQ(map.size(), 5'000u);
}

TEST(FlatStringMap, FillsToEightTenthsBeforeGrowing) {
  FlatStringMap<int> map;
  EXPECT_FLOAT_EQ(map.max_load_factor(), 0.8f);
  for (int i = 0; i < 100'000; ++i) map.try_emplace(key(i), i);
  EXPECT_LE(map.load_factor(), 0.8f);
  EXPECT_GT(map.load_factor(), 0.38f);  // doubling from just past 0.8
}

// A table sharded by a key's hash whose shards are flat maps: if the shard came from
// the low bits, every key of a shard would share the low bits its map buckets by, and
// crowd into a 64th of the buckets.
TEST(ShardOfHash, KeysOfOneShardSpreadOverTheLowBits) {
  constexpr size_t kShards = 64;
  std::set<uint64_t> low_bits;
  int in_shard = 0;
  for (int i = 0; i < 200'000 && in_shard < 2'000; ++i) {
    const uint64_t hash = StringHash{}(key(i));
    if (shard_of_hash(hash, kShards) != 5) continue;
    ++in_shard;
    low_bits.insert(hash % kShards);
  }
  ASSERT_EQ(in_shard, 2'000);
  EXPECT_EQ(low_bits.size(), kShards);
}

TEST(SortedEntries, ListsEitherMapInKeyOrder) {
  StringMap<int> nodes;
  FlatStringMap<int> flat;
  for (const char* k : {"b", "c", "a", "ab"}) {
    nodes.try_emplace(k, 1);
    flat.try_emplace(k, 1);
  }
  std::vector<std::string> from_nodes;
  for (const auto* entry : sorted_entries(nodes)) from_nodes.push_back(entry->first);
  std::vector<std::string> from_flat;
  for (const auto* entry : sorted_entries(flat)) from_flat.push_back(entry->first);
  const std::vector<std::string> expected{"a", "ab", "b", "c"};
  EXPECT_EQ(from_nodes, expected);
  EXPECT_EQ(from_flat, expected);
}

}  // namespace
}  // namespace orderlog
