// The segment preparer (engine/storage/segment_preparer.cc): the next segment is
// zero-filled ahead of the writer when the writer asks for it, only allocated when it
// does not (large commits), and only allocated without prefill.
#include "storage/segment_preparer.h"

#include <gtest/gtest.h>

#include "../store/store_test_util.h"
#include "zero_fill_counting_env.h"

namespace orderlog::storage {
namespace {

using testing::MemEnv;
using testing::ZeroFillCountingEnv;

constexpr uint64_t kSegmentBytes = 64 * 1024;
constexpr char kLogDir[] = "/db/log";

class SegmentPreparerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(mem_.create_dir("/"));
    ASSERT_OK(mem_.create_dir("/db"));
    ASSERT_OK(mem_.create_dir(kLogDir));
  }

  // Takes the next segment, waiting for the background preparation.
  void take_and_check_size(SegmentPreparer& preparer) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Segment> segment, preparer.take(1, /*wait_for_prefill=*/true));
    EXPECT_EQ(segment->capacity_bytes(), kSegmentBytes);
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<File> file, mem_.open_file(segment->path(), OpenMode::kReadWrite));
    ASSERT_OK_AND_ASSIGN(uint64_t size, file->size());
    EXPECT_EQ(size, kSegmentBytes) << "allocated at full size either way";
  }

  MemEnv mem_;
  ZeroFillCountingEnv env_{&mem_, SegmentPreparer::kPreparedFileName};
};

TEST_F(SegmentPreparerTest, ZeroFillsTheNextSegmentWhenTheWriterAsks) {
  SegmentPreparer preparer(&env_, kLogDir, kSegmentBytes, /*prefill=*/true, /*direct_writes=*/false);
  preparer.prepare_next(/*zero_fill=*/true);
  take_and_check_size(preparer);
  EXPECT_EQ(env_.zero_fill_bytes(), kSegmentBytes);
}

TEST_F(SegmentPreparerTest, OnlyAllocatesTheNextSegmentWhenTheWriterAsksForNoZeroFill) {
  SegmentPreparer preparer(&env_, kLogDir, kSegmentBytes, /*prefill=*/true, /*direct_writes=*/false);
  preparer.prepare_next(/*zero_fill=*/false);
  take_and_check_size(preparer);
  EXPECT_EQ(env_.zero_fill_bytes(), 0u);
}

TEST_F(SegmentPreparerTest, ASegmentTakenWithoutARequestIsZeroFilled) {
  // At open, the first segment: nothing asked for it beforehand.
  SegmentPreparer preparer(&env_, kLogDir, kSegmentBytes, /*prefill=*/true, /*direct_writes=*/false);
  take_and_check_size(preparer);
  EXPECT_EQ(env_.zero_fill_bytes(), kSegmentBytes);
}

TEST_F(SegmentPreparerTest, WithoutPrefillNothingIsZeroFilled) {
  SegmentPreparer preparer(&env_, kLogDir, kSegmentBytes, /*prefill=*/false, /*direct_writes=*/false);
  preparer.prepare_next(/*zero_fill=*/true);
  take_and_check_size(preparer);
  EXPECT_EQ(env_.zero_fill_bytes(), 0u);
}

}  // namespace
}  // namespace orderlog::storage
