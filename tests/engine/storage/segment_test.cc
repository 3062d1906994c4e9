// Segment file naming and the reader-side segment lookup (segment.cc).
#include "storage/segment.h"

#include <gtest/gtest.h>

#include "mem_env.h"

namespace orderlog::storage {
namespace {

TEST(SegmentFileName, IsTwentyDigitsAndParsesBack) {
  EXPECT_EQ(segment_file_name(1), "00000000000000000001.log");
  EXPECT_EQ(segment_file_name(18446744073709551615ull), "18446744073709551615.log");
  EXPECT_EQ(parse_segment_file_name("00000000000000004097.log"), 4097u);
}

TEST(SegmentFileName, RejectsOtherNames) {
  for (const char* name : {"next-segment.tmp", "00000000000000000000.log", "0000000000000000001.log",
                           "0000000000000000000x.log", "00000000000000000001.idx", ""}) {
    EXPECT_EQ(parse_segment_file_name(name), std::nullopt) << name;
  }
}

class SegmentListTest : public ::testing::Test {
 protected:
  void add_segment(uint64_t first_position) {
    const std::string path = "/" + segment_file_name(first_position);
    auto file = env_.open_file(path, OpenMode::kCreate);
    ASSERT_TRUE(file.is_ok());
    ASSERT_TRUE((*file)->allocate(4096).is_ok());
    auto segment = Segment::open(&env_, path, first_position, OpenMode::kReadWrite);
    ASSERT_TRUE(segment.is_ok()) << segment.status().to_string();
    ASSERT_TRUE(list_.add(std::move(segment).value()).is_ok());
  }

  testing::MemEnv env_;
  SegmentList list_;
};

TEST_F(SegmentListTest, FindsTheSegmentHoldingAPosition) {
  add_segment(1);
  add_segment(100);
  add_segment(250);
  EXPECT_EQ(list_.find(0), nullptr);
  EXPECT_EQ(list_.find(1)->first_position(), 1u);
  EXPECT_EQ(list_.find(99)->first_position(), 1u);
  EXPECT_EQ(list_.find(100)->first_position(), 100u);
  EXPECT_EQ(list_.find(249)->first_position(), 100u);
  EXPECT_EQ(list_.find(1'000'000)->first_position(), 250u);
  EXPECT_EQ(list_.last()->first_position(), 250u);
  EXPECT_EQ(list_.size(), 3u);
}

TEST_F(SegmentListTest, EmptyFileIsNotASegment) {
  auto file = env_.open_file("/00000000000000000001.log", OpenMode::kCreate);
  ASSERT_TRUE(file.is_ok());
  auto segment = Segment::open(&env_, "/00000000000000000001.log", 1, OpenMode::kReadWrite);
  ASSERT_FALSE(segment.is_ok());
  EXPECT_EQ(segment.status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace orderlog::storage
