// StreamTable: stream id -> (current version, position of its last event). The
// writer decides expected versions against it and links each new event to the
// stream's previous one; readers look streams up concurrently. Sharded so a reader
// and the writer rarely meet on one lock. The writer updates it before a batch is
// durable, so readers must ignore positions past the committed position.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "common/string_map.h"
#include "orderlog/env.h"

namespace orderlog::index {

struct StreamState {
  uint64_t version = 0;        // 0: no such stream
  uint64_t last_position = 0;  // of the event at `version`
};

class StreamTable {
 public:
  StreamState get(std::string_view stream_id) const;
  // Writer only.
  void put(std::string_view stream_id, StreamState state);
  size_t size() const;

  // A checksummed snapshot file (format in docs/format.md), written and synced.
  Status save(Env* env, const std::string& path) const;
  // Replaces the contents with a snapshot; kCorruption when it does not verify.
  Status load(Env* env, const std::string& path);

 private:
  struct Shard {
    mutable std::shared_mutex mutex;
    FlatStringMap<StreamState> streams;
  };
  static constexpr size_t kShards = 64;

  Shard& shard_for(std::string_view stream_id) const;

  mutable std::array<Shard, kShards> shards_;
};

}  // namespace orderlog::index
