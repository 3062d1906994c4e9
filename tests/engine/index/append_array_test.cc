// AppendArray (index/append_array.cc): appends are visible through the stable
// mapping, a reopen keeps exactly the valid prefix, and limits are enforced.
#include "index/append_array.h"

#include <gtest/gtest.h>

#include <vector>

#include "mem_env.h"

namespace orderlog::index {
namespace {

TEST(AppendArray, AppendedEntriesAreReadableInPlace) {
  testing::MemEnv env;
  auto array = AppendArray::open(&env, "/a.idx", sizeof(uint64_t), 1 << 20, 0);
  ASSERT_TRUE(array.is_ok()) << array.status().to_string();
  std::vector<uint64_t> values = {5, 6, 7};
  ASSERT_TRUE((*array)->append(values.data(), values.size()).is_ok());
  values = {8};
  ASSERT_TRUE((*array)->append(values.data(), 1).is_ok());
  EXPECT_EQ((*array)->count(), 4u);
  EXPECT_EQ((*array)->get<uint64_t>(0), 5u);
  EXPECT_EQ((*array)->get<uint64_t>(3), 8u);
}

TEST(AppendArray, ReopenKeepsTheValidPrefixAndOverwritesTheRest) {
  testing::MemEnv env;
  {
    auto array = AppendArray::open(&env, "/a.idx", sizeof(uint64_t), 1 << 20, 0);
    ASSERT_TRUE(array.is_ok());
    const std::vector<uint64_t> values = {1, 2, 3, 4};
    ASSERT_TRUE((*array)->append(values.data(), values.size()).is_ok());
  }
  auto reopened = AppendArray::open(&env, "/a.idx", sizeof(uint64_t), 1 << 20, 2);
  ASSERT_TRUE(reopened.is_ok());
  EXPECT_EQ((*reopened)->count(), 2u);
  const uint64_t next = 99;
  ASSERT_TRUE((*reopened)->append(&next, 1).is_ok());
  EXPECT_EQ((*reopened)->get<uint64_t>(2), 99u);
}

TEST(AppendArray, FileShorterThanTheCheckpointSaysIsCorruption) {
  testing::MemEnv env;
  env.set_contents("/a.idx", std::string(16, '\1'));
  auto array = AppendArray::open(&env, "/a.idx", sizeof(uint64_t), 1 << 20, 3);
  ASSERT_FALSE(array.is_ok());
  EXPECT_EQ(array.status().code(), StatusCode::kCorruption);
}

TEST(AppendArray, FullReservationIsTooLarge) {
  testing::MemEnv env;
  auto array = AppendArray::open(&env, "/a.idx", sizeof(uint64_t), 4 * sizeof(uint64_t), 0);
  ASSERT_TRUE(array.is_ok());
  const std::vector<uint64_t> values = {1, 2, 3, 4, 5};
  EXPECT_EQ((*array)->append(values.data(), 5).code(), StatusCode::kTooLarge);
  EXPECT_TRUE((*array)->append(values.data(), 4).is_ok());
  EXPECT_EQ((*array)->append(values.data(), 1).code(), StatusCode::kTooLarge);
}

}  // namespace
}  // namespace orderlog::index
