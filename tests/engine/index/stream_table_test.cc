// StreamTable (index/stream_table.cc): lookups, and the snapshot file round trip with
// every corruption detected.
#include "index/stream_table.h"

#include <gtest/gtest.h>

#include "mem_env.h"

namespace orderlog::index {
namespace {

TEST(StreamTable, MissingStreamHasVersionZero) {
  StreamTable table;
  EXPECT_EQ(table.get("nope").version, 0u);
  EXPECT_EQ(table.size(), 0u);
}

TEST(StreamTable, PutReplacesTheState) {
  StreamTable table;
  table.put("order-1", {1, 10});
  table.put("order-1", {2, 12});
  table.put("order-2", {1, 11});
  EXPECT_EQ(table.get("order-1").version, 2u);
  EXPECT_EQ(table.get("order-1").last_position, 12u);
  EXPECT_EQ(table.get("order-2").last_position, 11u);
  EXPECT_EQ(table.size(), 2u);
}

TEST(StreamTable, SnapshotRoundTripsEveryStream) {
  testing::MemEnv env;
  StreamTable table;
  for (uint64_t i = 1; i <= 500; ++i) table.put("stream-" + std::to_string(i), {i, i * 3});
  table.put(std::string(256, 'x'), {7, 9});
  ASSERT_TRUE(table.save(&env, "/streams.snap").is_ok());
  StreamTable loaded;
  loaded.put("stale", {1, 1});  // replaced by the load
  ASSERT_TRUE(loaded.load(&env, "/streams.snap").is_ok());
  EXPECT_EQ(loaded.size(), 501u);
  EXPECT_EQ(loaded.get("stale").version, 0u);
  EXPECT_EQ(loaded.get("stream-321").version, 321u);
  EXPECT_EQ(loaded.get("stream-321").last_position, 963u);
  EXPECT_EQ(loaded.get(std::string(256, 'x')).last_position, 9u);
}

TEST(StreamTable, EveryFlippedByteOfASnapshotIsCorruption) {
  testing::MemEnv env;
  StreamTable table;
  table.put("a", {1, 1});
  table.put("bb", {2, 5});
  ASSERT_TRUE(table.save(&env, "/s.snap").is_ok());
  const std::string good = env.contents("/s.snap").value();
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    env.set_contents("/s.snap", bad);
    StreamTable loaded;
    const Status status = loaded.load(&env, "/s.snap");
    EXPECT_EQ(status.code(), StatusCode::kCorruption) << "byte " << i;
  }
}

TEST(StreamTable, TruncatedSnapshotIsCorruption) {
  testing::MemEnv env;
  StreamTable table;
  table.put("stream", {3, 3});
  ASSERT_TRUE(table.save(&env, "/s.snap").is_ok());
  const std::string good = env.contents("/s.snap").value();
  for (size_t kept = 0; kept < good.size(); ++kept) {
    env.set_contents("/s.snap", good.substr(0, kept));
    StreamTable loaded;
    EXPECT_EQ(loaded.load(&env, "/s.snap").code(), StatusCode::kCorruption) << "kept " << kept;
  }
}

}  // namespace
}  // namespace orderlog::index
