// StringMap: an unordered map keyed by std::string that is looked up by
// std::string_view without building a temporary string (a transparent hash).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <algorithm>
#include <unordered_map>
#include <utility>
#include <vector>

#include <tsl/robin_map.h>
#include <xxhash.h>

namespace orderlog {

// XXH3: stream and order ids are hashed several times per append, and for ids of a
// few dozen bytes it costs about half of std::hash's.
//
// Deliberately not noexcept: libstdc++ stores each node's hash code only for a hash
// that may throw (or is std::hash of a string). Without stored codes, every step
// along a bucket's chain compares the whole key and hashes the next node's key again
// to see where the bucket ends; with ids sharing long prefixes that was most of a
// lookup (memcmp and XXH3 were 6.6% of orderlogd's samples under order lifecycles).
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view key) const { return static_cast<size_t>(XXH3_64bits(key.data(), key.size())); }
};

template <typename Value>
using StringMap = std::unordered_map<std::string, Value, StringHash, std::equal_to<>>;

// FlatStringMap: open addressing (robin hood), for the maps looked up on every
// append or every applied event. A lookup touches one bucket, which holds the entry
// and its hash, and then the key's bytes: a StringMap lookup walks from the bucket
// array to the node before the wanted one, then the node, three cache misses before
// the key's. Entries move when the map grows or erases, so nothing may keep a pointer
// or reference into one (use StringMap for that). Its iterators give const access to
// `second`; `it.value()` is the mutable value. Bucket indexes are the hash's low
// bits: a map holding one shard of a table sharded by the same hash must take the
// shard from the high bits (`shard_of_hash`).
//
// Filled up to 0.8 before it doubles (the library's default is 0.5): a bucket holds
// the whole entry, so at 0.5 a map of millions of streams would take twice the memory
// of the node-based map it replaced; robin hood probing stays short at 0.8.
template <typename Value>
class FlatStringMap : public tsl::robin_map<std::string, Value, StringHash, std::equal_to<>,
                                            std::allocator<std::pair<std::string, Value>>, /*StoreHash=*/true> {
 public:
  FlatStringMap() { this->max_load_factor(0.8f); }
};

// The shard, out of `shards`, for a key hashing to `hash`, taken from the hash's
// high bits, which no map of one shard uses for its buckets.
inline size_t shard_of_hash(uint64_t hash, size_t shards) { return static_cast<size_t>((hash >> 32) % shards); }

#ifdef __GLIBCXX__
static_assert(std::__cache_default<std::string, StringHash>::value, "StringMap nodes must keep their hash codes");
#endif

// The entries of `map` in key order, for writing it out deterministically (a hashed
// map's own order depends on its history).
template <typename Map>
std::vector<const typename Map::value_type*> sorted_entries(const Map& map) {
  std::vector<const typename Map::value_type*> entries;
  entries.reserve(map.size());
  for (const auto& entry : map) entries.push_back(&entry);
  std::sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
  return entries;
}

}  // namespace orderlog
