// StringMap: an unordered map keyed by std::string that is looked up by
// std::string_view without building a temporary string (a transparent hash).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <algorithm>
#include <unordered_map>
#include <vector>

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

#ifdef __GLIBCXX__
static_assert(std::__cache_default<std::string, StringHash>::value, "StringMap nodes must keep their hash codes");
#endif

// The entries of `map` in key order, for writing it out deterministically (a hashed
// map's own order depends on its history).
template <typename Value>
std::vector<const typename StringMap<Value>::value_type*> sorted_entries(const StringMap<Value>& map) {
  std::vector<const typename StringMap<Value>::value_type*> entries;
  entries.reserve(map.size());
  for (const auto& entry : map) entries.push_back(&entry);
  std::sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
  return entries;
}

}  // namespace orderlog
